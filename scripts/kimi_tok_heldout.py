#!/usr/bin/env python3
"""The held-out check of the Kimi tokenizers through the CLI: texts the parity oracle never had
— the evaluation corpus packed into ~4 KiB documents, its lines, and seeded random strings mixing
scripts, digits, whitespace runs, broken-looking markup and Kimi's special tokens — encoded and
decoded by `tinkex` from the fixture directories and, offline with an empty Hugging Face cache,
by the four model names (the bundled copies), against Python: tiktoken over the fixture's
`tiktoken.model` with Kimi's pattern (scripts/chat_oracle.py's shim, itself equal to the parity
oracle on every text: `chat_oracle.py --check-kimi`). Development only (needs tiktoken).

    python scripts/kimi_tok_heldout.py TINKEX_BIN FIXTURES_DIR CORPUS_DIR SEED COUNT
"""

import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from chat_oracle import KimiTokenizer  # noqa: E402
from kimi_anchor_bench import docs  # noqa: E402

MODELS = {
    "kimi_k2": ["moonshotai/Kimi-K2-Thinking"],
    "kimi_k25": ["moonshotai/Kimi-K2.5", "moonshotai/Kimi-K2.5-Text-Only:peft:3", "moonshotai/Kimi-K2.6"],
}
PIECES = [
    "Hello", " world", "日本語のテキスト", "中文", "العربية", "עברית", "Ελληνικά", "русский", "한국어",
    "e\u0301", "🙂", "👩‍👩‍👧", "  ", "\t", "\n", "\r\n", "\u3000", "\u00a0", "12345678", "٣٤٥", "3.14",
    "don't", "WE'LL", "<|im_end|>", "<|im_user|>", "<think>", "</think>", "[BOS]", "[EOS]",
    "<|tool_calls_section_begin|>", "<|media_begin|>", "<|reserved_token_99|>", "<|im_end", "|>",
    "def f(x):\n    return x", "{\"a\": [1, 2]}", "https://example.com/a?b=c", "ǅ", "ﬁ", "\u200d",
]


def corpus_texts(corpus: str) -> list:
    """The benchmark's 4 KiB documents of each corpus, and every 7th non-blank line."""
    out = []
    for name in ("english", "multilingual", "code"):
        out += docs(corpus, name)
        text = open(f"{corpus}/{name}.txt", encoding="utf-8").read()
        out += [line for line in text.split("\n") if line.strip()][::7]
    return out


def random_texts(rng: random.Random, n: int) -> list:
    out = []
    for _ in range(n):
        parts = [rng.choice(PIECES) for _ in range(rng.randint(1, 12))]
        if rng.random() < 0.3:
            parts.append("".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(rng.randint(1, 20))))
        if rng.random() < 0.1:
            parts.append(rng.choice([" ", "\n", "a"]) * rng.randint(20, 3000))
        out.append("".join(parts))
    return out


def cli(bin_, args, lines, home):
    env = {"HOME": home, "HF_HOME": home, "HF_HUB_OFFLINE": "1", "TINKEX_CACHE_DIR": "off", "PATH": os.environ.get("PATH", "")}
    p = subprocess.run([bin_, *args, "--offline", "--jsonl"], input="".join(json.dumps(x) + "\n" for x in lines),
                       capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise SystemExit(f"{args}: exit {p.returncode}: {p.stderr.strip()[:300]}")
    return [json.loads(line) for line in p.stdout.split("\n") if line]


def main() -> None:
    bin_, fixtures, corpus, seed, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    texts = corpus_texts(corpus) + random_texts(random.Random(seed), count)
    bad = 0
    with tempfile.TemporaryDirectory() as home:
        for fixture, models in MODELS.items():
            tok = KimiTokenizer(f"{fixtures}/{fixture}")
            want = [tok.encode(t) for t in texts]
            # Decoded: the encodings, and random slices of them, which cut UTF-8 sequences (the
            # replacement character's rules).
            rng = random.Random(seed)
            cuts = []
            for ids in want[:: 3]:
                i = rng.randint(0, len(ids))
                cuts.append(ids[i : rng.randint(i, len(ids))])
            to_decode = want + cuts
            want_text = [tok.decode(ids) for ids in to_decode]
            for model in [f"{fixtures}/{fixture}", *models]:
                got = cli(bin_, ["encode", "--model", model], [{"text": t} for t in texts], home)
                enc_bad = sum(g["ids"] != w for g, w in zip(got, want)) + abs(len(got) - len(want))
                dec = cli(bin_, ["decode", "--model", model], [{"ids": w} for w in to_decode], home)
                dec_bad = sum(d["text"] != w for d, w in zip(dec, want_text)) + abs(len(dec) - len(to_decode))
                bad += enc_bad + dec_bad
                ntok = sum(map(len, want))
                print(f"{model:45} texts={len(texts)} tokens={ntok} encode_diffs={enc_bad} decoded={len(to_decode)} "
                      f"(with U+FFFD: {sum(chr(0xFFFD) in w for w in want_text)}) decode_diffs={dec_bad}")
            if os.listdir(home):
                raise SystemExit(f"something was written under the empty home: {os.listdir(home)}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
