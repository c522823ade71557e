#!/usr/bin/env python3
"""Random sampled replies for today's families (Qwen3.5/3.8's XML tool calls, DeepSeek-V4.1's
DSML calls) through tinker-cookbook 0.6.1's `parse_response`: the reference for tinkex's parsers
beyond the well-formed completions of the render oracle — malformed and truncated blocks,
whitespace variants, JSON and non-JSON parameter values, duplicate keys, stray markers, thinking
with and without the prefilled opening, no stop token. Development only; needs the cookbook venv.

    python scripts/next_parse_oracle.py FIXTURES_DIR SEED COUNT > next_parse.jsonl

Each line: {"renderer", "fixture", "tokens": [...], "message": <message_to_jsonable> | null,
"termination": "..." | null, "error": "Type: message" | absent}.
"""

import json
import random
import sys

import transformers
from tinker_cookbook import renderers
from tinker_cookbook.renderers.base import message_to_jsonable

RENDERERS = {
    "qwen3_5": "qwen3_5",
    "qwen3_8_xhigh_reasoning": "qwen3_5",
    "deepseekv4_1": "deepseek_v4_1",
    "deepseekv4_1_disable_thinking": "deepseek_v4_1",
}

WS = ["", " ", "\n", "\n\n", "\t", " \n ", "\u3000"]
VALUES = [
    "Paris", "42", "-1.5e3", "true", "false", "null", '{"a": [1, 2]}', "[1, 2]", '"quoted"',
    "not json {", "multi\nline\ntext", "", "  padded  ", "é😀", "<think>x</think>", "1e999",
    "NaN", '{"a": 1, "a": 2}',
]
NAMES = ["get_weather", "search", "a b", " spaced ", "", "x>y", "ünï", "f\nn"]


def qwen_call(rng: random.Random) -> str:
    parts = ["<tool_call>", rng.choice(WS)]
    name = rng.choice(NAMES)
    if rng.random() < 0.05:
        parts.append("<function>")
    else:
        parts.append(f"<function={name}>")
    for _ in range(rng.randint(0, 3)):
        if rng.random() < 0.1:
            parts.append(rng.choice(["stray", " ", "\n"]))
        key = rng.choice(["city", "q", "n", "", " k ", "city"])
        value = rng.choice(VALUES)
        parts.append(f"{rng.choice(WS)}<parameter={key}>{rng.choice(WS)}{value}{rng.choice(WS)}</parameter>")
    if rng.random() < 0.1:
        parts.append("trailing")
    parts.append(rng.choice(WS))
    if rng.random() > 0.08:
        parts.append("</function>")
    parts.append(rng.choice(WS))
    if rng.random() > 0.1:
        parts.append("</tool_call>")
    return "".join(parts)


def qwen_json_call(rng: random.Random) -> str:
    body = rng.choice([
        '{"name": "f", "arguments": {"x": 1}}', '{"name": "f"}', "[1]", "not json",
        '{"name": "f", "arguments": {}, "id": "c1"}',
    ])
    return f"<tool_call>{rng.choice(WS)}{body}{rng.choice(WS)}</tool_call>"


def qwen_reply(rng: random.Random) -> str:
    out = []
    r = rng.random()
    if r < 0.3:
        out.append(f"<think>{rng.choice(WS)}reasoning {rng.randint(0, 9)}{rng.choice(WS)}</think>")
    elif r < 0.6:
        out.append(f"{rng.choice(WS)}thought{rng.choice(WS)}</think>")
    out.append(rng.choice(["", "\n\n", "\n", " "]))
    out.append(rng.choice(["Answer.", "", "text <think>inline</think> more", "  "]))
    for _ in range(rng.randint(0, 3)):
        out.append(rng.choice(["\n\n", "\n", ""]))
        out.append(qwen_call(rng) if rng.random() < 0.8 else qwen_json_call(rng))
    if rng.random() < 0.2:
        out.append(rng.choice(["after", "\n", "<tool_call>\n<function=f>"]))
    return "".join(out)


DSML = "｜DSML｜"


def ds_call_block(rng: random.Random) -> str:
    invokes = []
    for _ in range(rng.randint(0, 3)):
        name = rng.choice(["get_weather", "", "search", "a b"])
        params = []
        for _ in range(rng.randint(0, 3)):
            key = rng.choice(["city", "n", "", "city", "q"])
            is_str = rng.choice(["true", "false", "maybe"])
            value = rng.choice(VALUES)
            params.append(f'<{DSML} parameter name="{key}" string="{is_str}">{value}</{DSML} parameter>')
            if rng.random() < 0.1:
                params.append("stray")
        sep = rng.choice(["\n", "\n", ""])
        invokes.append(f'<{DSML} invoke name="{name}">{sep}' + "\n".join(params) + f"\n</{DSML} invoke>")
    if rng.random() < 0.1:
        invokes.append("junk")
    block = f"<{DSML} calls>\n" + "\n".join(invokes) + "\n"
    if rng.random() > 0.1:
        block += f"</{DSML} calls>"
    return block


def ds_reply(rng: random.Random) -> str:
    out = []
    r = rng.random()
    if r < 0.4:
        out.append(f"reasoning {rng.randint(0, 9)}{rng.choice(WS)}</think>")
    elif r < 0.6:
        out.append(f"<think>r{rng.choice(WS)}</think>")
    out.append(rng.choice(["Answer.", "", "  ", "text\n"]))
    if rng.random() < 0.7:
        out.append(rng.choice(["\n\n", "", "\n"]))
        out.append(ds_call_block(rng))
    if rng.random() < 0.15:
        out.append(rng.choice(["after", "\n", f"<{DSML} stray"]))
    return "".join(out)


def main() -> None:
    fixtures, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    toks = {}
    for name, fixture in RENDERERS.items():
        if fixture not in toks:
            toks[fixture] = transformers.AutoTokenizer.from_pretrained(f"{fixtures}/{fixture}")
        tok = toks[fixture]
        r = renderers.get_renderer(name, tok)
        (stop,) = r.get_stop_sequences()
        for _ in range(count):
            text = qwen_reply(rng) if fixture == "qwen3_5" else ds_reply(rng)
            tokens = tok.encode(text, add_special_tokens=False)
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
