#!/usr/bin/env python3
"""Random sampled replies in Kimi K2 / K2.5's format through tinker-cookbook 0.6.1's
`parse_response`: the reference for tinkex's Kimi parser beyond the well-formed completions of
the render oracle — tool-call sections in both spellings, complete and dangling, ids with
whitespace, Unicode digits, no index or several dots, JSON and non-JSON arguments, text after a
section, thinking with and without the prefilled `<think>`, truncations, no stop token.
Development only; needs the cookbook venv (scripts/cookbook-venv.sh) and the Kimi tokenizer
shim of scripts/chat_oracle.py.

    python scripts/kimi_parse_oracle.py FIXTURES_DIR SEED COUNT > kimi_parse.jsonl

Each line: {"renderer", "fixture", "tokens": [...], "message": <message_to_jsonable> | null,
"termination": "..." | null, "error": "Type: message" | absent}.
"""

import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from chat_oracle import KimiTokenizer  # noqa: E402
from tinker_cookbook import renderers  # noqa: E402
from tinker_cookbook.renderers.base import message_to_jsonable  # noqa: E402

# kimi_k26* build the same classes as kimi_k25*.
RENDERERS = {
    "kimi_k2": "kimi_k2",
    "kimi_k25": "kimi_k25",
    "kimi_k25_disable_thinking": "kimi_k25",
}

WS = ["", " ", "\n", "\n\n", "\t", " \n ", "\u3000"]
IDS = [
    "functions.get_weather:0", "functions.search:12", " functions.get_weather:1 ", "get_weather:3",
    "a.b.c:7", "functions.f:\u0663", "functions.f", ":0", "  :1", "\n:2", "x y:0", "f:1\u3000",
    "functions.f:0x", "functions.f:-1", "", "é.ü:9", "f::3",
]
VALUES = [
    '{"city": "Paris"}', "{}", '{"a": [1, 2]}', "[1, 2]", '"quoted"', "42", "null", "not json {",
    "", "  padded  ", '{"s": "<think>x</think>"}', "1e999", "NaN", '{"a": 1, "a": 2}', '{"x": ',
    '{"n": 12345678901234567890123}',
]
SECTIONS = [
    ("<|tool_calls_section_begin|>", "<|tool_calls_section_end|>"),
    ("<|tool_call_section_begin|>", "<|tool_call_section_end|>"),
]


def call(rng: random.Random) -> str:
    parts = ["<|tool_call_begin|>", rng.choice(WS), rng.choice(IDS), rng.choice(WS)]
    if rng.random() > 0.05:
        parts.append("<|tool_call_argument_begin|>")
    parts += [rng.choice(WS), rng.choice(VALUES), rng.choice(WS)]
    if rng.random() > 0.1:
        parts.append("<|tool_call_end|>")
    return "".join(parts)


def section(rng: random.Random) -> str:
    begin, end = rng.choice(SECTIONS)
    out = [begin]
    for _ in range(rng.randint(0, 3)):
        out.append(rng.choice(["", "", "\n", "junk"]))
        out.append(call(rng))
    if rng.random() > 0.12:
        out.append(end if rng.random() > 0.1 else rng.choice(SECTIONS)[1])
    return "".join(out)


def reply(rng: random.Random) -> str:
    out = []
    r = rng.random()
    if r < 0.35:
        out.append(f"<think>{rng.choice(WS)}reasoning {rng.randint(0, 9)}{rng.choice(WS)}</think>")
    elif r < 0.6:
        out.append(f"thought{rng.choice(WS)}</think>")
    elif r < 0.65:
        out.append("<think></think>")
    out.append(rng.choice(["Answer.", "", "  ", "text <think>inline</think> more", "\n"]))
    for _ in range(rng.choices([0, 1, 2], [0.3, 0.55, 0.15])[0]):
        out.append(rng.choice(["", "\n", " "]))
        out.append(section(rng) if rng.random() < 0.85 else call(rng))
    if rng.random() < 0.2:
        out.append(rng.choice(["after", "\n", "<|tool_call_begin|>f:0", "<|tool_calls_section_begin|>"]))
    return "".join(out)


def main() -> None:
    fixtures, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    toks = {}
    for name, fixture in RENDERERS.items():
        if fixture not in toks:
            toks[fixture] = KimiTokenizer(f"{fixtures}/{fixture}")
        tok = toks[fixture]
        r = renderers.get_renderer(name, tok)
        (stop,) = r.get_stop_sequences()
        for _ in range(count):
            tokens = tok.encode(reply(rng), add_special_tokens=False)
            u = rng.random()
            if u < 0.8:
                tokens = tokens + [stop]
            elif u < 0.85 and tokens:
                tokens = tokens[: rng.randint(0, len(tokens))] + [stop]
            row = {"renderer": name, "fixture": fixture, "tokens": tokens}
            try:
                m, t = r.parse_response(tokens)
                row["message"] = message_to_jsonable(m)
                row["termination"] = t.value
            except Exception as e:  # noqa: BLE001
                row["error"] = f"{type(e).__name__}: {e}"
            print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
