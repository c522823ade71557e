#!/usr/bin/env python3
"""The Python anchor for the Kimi tokenizers, measured as shared/tools/anchor_bench.py measures
the others (same documents: the corpus split at blank lines and packed to ~4 KiB; best of 3;
MB/s of UTF-8 bytes): Python tiktoken over the fixture's `tiktoken.model` with Kimi's pattern and
special tokens, `encode(text, allowed_special="all")` — the call Moonshot's
`tokenization_kimi.TikTokenTokenizer.encode` makes (itself adding Python-level chunking on top,
so this is an upper bound on Python's rate). anchor_bench.py cannot load Kimi (it reads
tokenizer.json files and the o200k/cl100k encodings only).

    python scripts/kimi_anchor_bench.py CORPUS_DIR FIXTURES_DIR [kimi_k2 kimi_k25]

Needs tiktoken (the cookbook venv has 0.14).
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from chat_oracle import KimiTokenizer  # noqa: E402


def docs(corpus: str, name: str) -> list:
    text = open(f"{corpus}/{name}.txt", encoding="utf-8").read()
    out, cur = [], ""
    for para in text.split("\n\n"):
        cur += para + "\n\n"
        if len(cur.encode()) >= 4096:
            out.append(cur)
            cur = ""
    if cur:
        out.append(cur)
    return out


def best(f, reps=3) -> float:
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return min(ts)


def main() -> None:
    corpus, fixtures = sys.argv[1], sys.argv[2]
    names = sys.argv[3:] or ["kimi_k2", "kimi_k25"]
    for corpus_name in ["english", "multilingual", "code"]:
        ds = docs(corpus, corpus_name)
        nbytes = sum(len(d.encode()) for d in ds)
        for n in names:
            enc = KimiTokenizer(f"{fixtures}/{n}").enc
            single = best(lambda: [enc.encode(d, allowed_special="all") for d in ds])
            batch = best(lambda: enc.encode_batch(ds, allowed_special="all"))
            print(json.dumps({"corpus": corpus_name, "tokenizer": n, "engine": "tiktoken-py",
                              "single_MBps": round(nbytes / single / 1e6, 2),
                              "batch_MBps": round(nbytes / batch / 1e6, 2)}), flush=True)


if __name__ == "__main__":
    main()
