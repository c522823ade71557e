#!/usr/bin/env python3
"""Generates random conversations of the kinds in shared/chat/conversations.jsonl (system
prompts, multi-turn, thinking parts, tool calls and results with `tools` + `system_prompt`,
edge text), plus a few more kinds, for checking tinkex's renderers against the cookbook beyond
the visible oracle (see scripts/chat_oracle.py). Development only; the Python standard library.

    python scripts/gen_conversations.py CORPUS_DIR SEED COUNT > conversations.jsonl
"""

import json
import random
import sys

EDGE = [
    "",
    " ",
    "\n",
    "ends with newline\n",
    "\nstarts with newline",
    "  leading and trailing  ",
    "tabs\tand\nnewlines\n\n",
    "\n\n\n",
    '{"json": [1, 2, 3]}',
    "emoji 👩‍👩‍👧 and ZWJ",
    "Grüße, 你好, مرحبا, こんにちは",
    "a" * 300,
    "User: pretend turn\n\nAssistant:",
    "<|im_end|> typed by a user",
    "<|im_start|>assistant\n",
    "<|start|>assistant<|message|>",
    "<|channel|>final<|message|>x<|return|>",
    "<|eot_id|><|start_header_id|>user<|end_header_id|>",
    "<｜User｜> full-width bars",
    "<｜Assistant｜></think>",
    "<think>not really thinking</think>",
    "<think>\n\n</think>\n\nx",
    "</think> stray close",
    "<think> open only",
    "<tool_call>{}</tool_call>",
    '<tool_call>\n{"name": "search", "arguments": {"query": "x"}}\n</tool_call>',
    "<tool_call>never closed",
    "<tool_response>\nfake\n</tool_response>",
    "<｜tool▁calls▁begin｜>",
    "to=functions.get_weather",
    "<|endoftext|>",
    "<|begin_of_text|>",
    "\u00a0non-breaking\u3000spaces\u2028",
    "\x1c\x1dseparators\x1e\x1f",
    "Ω≈ç√∫ ¡™£¢∞ 𝕳𝖊𝖑𝖑𝖔",
]

TOOLS = [
    {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["c", "f"]},
            },
            "required": ["city"],
        },
    },
    {
        "name": "search",
        "description": "Search the web",
        "parameters": {"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]},
    },
]

EXTRA_TOOL = {
    "name": "book_flight",
    "description": "Book a flight — returns a confirmation",
    "parameters": {
        "type": "object",
        "description": "Flight request",
        "properties": {
            "from": {"type": "string", "description": "IATA code", "examples": ["SFO"]},
            "to": {"type": "string"},
            "passengers": {"type": "integer", "default": 1},
            "price_cap": {"type": ["number", "null"], "default": 99.5},
            "class": {"type": "string", "enum": ["economy", "business"], "title": "Cabin"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "when": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        },
        "required": ["from", "to"],
    },
}

# Specs as users write them: other key orders, extra keys, a missing or non-string field (the
# cookbook prints the dict as it is, or fails on the missing key, depending on the format).
ODD_TOOLS = [
    {"description": "Look up", "name": "lookup", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}, "strict": True},
    {"name": "nodesc", "parameters": {"type": "object", "properties": {}}},
    {"name": "numdesc", "description": 12.5, "parameters": {"type": "object", "properties": {"a": {"type": "integer", "default": 3}}, "required": ["a"]}},
    {"name": "noparams", "description": ""},
]

CITIES = ["Paris", "Zürich", "東京"]


def slices(corpus_dir: str):
    out = []
    for name in ("english.txt", "multilingual.txt", "code.txt"):
        with open(f"{corpus_dir}/{name}", encoding="utf-8") as f:
            out.append(f.read())
    return out


def main() -> None:
    corpus_dir, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    corpora = slices(corpus_dir)

    def text() -> str:
        if rng.random() < 0.25:
            return rng.choice(EDGE)
        c = rng.choice(corpora)
        n = rng.choice([20, 60, 150, 400])
        i = rng.randrange(0, len(c) - n)
        return c[i : i + n]

    def args() -> str:
        city = rng.choice(CITIES)
        style = rng.random()
        if style < 0.4:
            return json.dumps({"city": city})
        if style < 0.7:
            return json.dumps({"city": city}, ensure_ascii=False)
        if style < 0.8:
            return json.dumps({"city": city, "unit": "c"}, separators=(",", ":"))
        if style < 0.9:
            return json.dumps({"city": city, "n": rng.choice([1, 2.5, -0.0, 1e-7, 10**20, True, None]), "list": [1, "a"]})
        return json.dumps({"query": text()[:40], "nested": {"a": [1, {"b": None}]}})

    def assistant():
        r = rng.random()
        if r < 0.55:
            return {"role": "assistant", "content": text()}
        if r < 0.85:
            parts = [{"type": "thinking", "thinking": text()}, {"type": "text", "text": text()}]
            if rng.random() < 0.1:
                parts = parts[::-1]
            if rng.random() < 0.05:
                parts = [{"type": "thinking", "thinking": text()}]
            return {"role": "assistant", "content": parts}
        return {"role": "assistant", "content": "<think>" + text() + "</think>" + text()}

    def tool_call(i: int):
        tc = {"type": "function", "id": f"call_{rng.randrange(10**6):06d}", "function": {"name": "get_weather", "arguments": args()}}
        if rng.random() < 0.1:
            del tc["id"]
        return tc

    for _ in range(count):
        conv: dict = {}
        msgs = []
        with_tools = rng.random() < 0.35
        if with_tools:
            tools = list(TOOLS) + ([EXTRA_TOOL] if rng.random() < 0.3 else [])
            if rng.random() < 0.1:
                tools.append(rng.choice(ODD_TOOLS))
            conv["tools"] = tools
            conv["system_prompt"] = rng.choice(["", text()])
        elif rng.random() < 0.6:
            msgs.append({"role": "system", "content": text()})
        turns = rng.choice([1, 1, 2, 3, 4])
        for t in range(turns):
            msgs.append({"role": "user", "content": text() if rng.random() < 0.95 else [{"type": "text", "text": text()}]})
            if with_tools and rng.random() < 0.5:
                n = 1 if rng.random() < 0.8 else 2
                calls = [tool_call(i) for i in range(n)]
                content = "" if rng.random() < 0.7 else text()
                m = {"role": "assistant", "content": content, "tool_calls": calls}
                if rng.random() < 0.15:
                    m["content"] = [{"type": "thinking", "thinking": text()}, {"type": "text", "text": content}]
                msgs.append(m)
                if t == turns - 1 and rng.random() < 0.3:
                    break  # ends on the tool call
                for c in calls:
                    tm = {"role": "tool", "content": json.dumps({"temp": rng.randrange(-20, 40)}), "tool_call_id": c.get("id", "x"), "name": "get_weather"}
                    if rng.random() < 0.05:
                        del tm["name"]
                    msgs.append(tm)
            msgs.append(assistant())
        if rng.random() < 0.12:
            # For train_on_what=customized: every message says whether it is trained.
            for m in msgs:
                m["trainable"] = m["role"] == "assistant" and rng.random() < 0.7
        conv["messages"] = msgs
        print(json.dumps(conv, ensure_ascii=False))


if __name__ == "__main__":
    main()
