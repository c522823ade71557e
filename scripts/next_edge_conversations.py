#!/usr/bin/env python3
"""Conversations at the edges of today's families' formats (Qwen3.5/3.8, DeepSeek-V4.1), for
scripts/chat_oracle.py: tool-call arguments of every JSON type (booleans and null print
differently in Qwen3.5 and 3.8), non-object and invalid arguments, runs of tool results (shared
user turns, DeepSeek's call-order sorting), whitespace-only and padded contents (Qwen's
`content|trim`), system messages as part lists, empty and mid-conversation system messages,
thinking in history and in the produced turn, conversations without a user message or ending
on a tool result, special-token text in content, `trainable` flags, hand-written `tool_declare`
messages. Development only; the Python standard library.

    python scripts/next_edge_conversations.py SEED COUNT > next_edge.jsonl
"""

import json
import random
import sys

W = [
    {"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "units": {"type": "string", "enum": ["c", "f"]}}, "required": ["city"]}},
    {"name": "search", "description": "Search the web for ünïcode", "parameters": {"type": "object", "properties": {"q": {"type": "string"}, "k": {"type": "integer"}}}},
]

ARGS = [
    '{"city": "Paris"}', '{"flag": true}', '{"flag": false, "none": null}', '{"n": 1.5, "m": -0}',
    '{"n": 1e16, "x": 0.1}', '{"list": [1, "a", null, true]}', '{"obj": {"a": {"b": [false]}}}',
    '{"city": "Z\\u00fcrich", "emoji": "\\ud83d\\ude00"}', '{"s": "multi\\nline  "}', '{}', "",
    '{"s": " padded "}', '{"big": 123456789012345678901234567890}', '{"k": "<|im_end|>"}',
]
BAD_ARGS = ['[1, 2]', '"just a string"', "not json", "42", "null"]
TEXTS = ["Hello.", "  padded  ", "\n\nnewlines\n\n", "", "   ", "a <|im_end|> b", "x <think>y</think> z",
         "ünïcode 😀", "<tool_call>\n<function=f>\n</function>\n</tool_call>", "Sure!\n"]
THINK = ["reasoning", "  spaced  ", "\nnl\n", "", "multi\n\nparagraph"]


def tc(name, args, id=None):
    d = {"type": "function", "function": {"name": name, "arguments": args}}
    if id is not None:
        d["id"] = id
    return d


def content(rng, thinking=False):
    text = rng.choice(TEXTS)
    if thinking and rng.random() < 0.7:
        parts = [{"type": "thinking", "thinking": rng.choice(THINK)}]
        if rng.random() < 0.8:
            parts.append({"type": "text", "text": text})
        if rng.random() < 0.2:
            parts.append({"type": "text", "text": rng.choice(TEXTS)})
        return parts
    if rng.random() < 0.15:
        return [{"type": "text", "text": text}, {"type": "text", "text": rng.choice(TEXTS)}]
    return text


def conversation(rng):
    msgs = []
    conv = {}
    r = rng.random()
    if r < 0.3:
        conv["tools"] = rng.sample(W, rng.randint(1, 2))
        conv["system_prompt"] = rng.choice(["", "Be brief.", "  spaced system  "])
    elif r < 0.45:
        msgs.append({"role": "system", "content": rng.choice(["", "   ", "System.", [{"type": "text", "text": " a"}, {"type": "text", "text": "b "}]])})
    elif r < 0.5:
        msgs.append({"role": "system", "content": [{"type": "thinking", "thinking": "sys think"}, {"type": "text", "text": "sys"}]})
    turns = rng.randint(1, 3)
    bad = rng.random() < 0.05
    for t in range(turns):
        if not (t == 0 and rng.random() < 0.05):
            msgs.append({"role": "user", "content": content(rng)})
        if rng.random() < 0.1:
            msgs.append({"role": "system", "content": "Mid-conversation system."})
        if rng.random() < 0.45:
            n = rng.randint(1, 3)
            calls = [tc(rng.choice(["get_weather", "search"]), rng.choice(BAD_ARGS if bad else ARGS), f"call_{t}_{i}" if rng.random() < 0.8 else None) for i in range(n)]
            msgs.append({"role": "assistant", "content": content(rng, thinking=True) if rng.random() < 0.6 else "", "tool_calls": calls})
            ids = [c.get("id") for c in calls]
            rng.shuffle(ids)
            for i in ids[: rng.randint(0, n)]:
                m = {"role": "tool", "content": rng.choice(TEXTS[:4] + ['{"temp": 20}'])}
                if i is not None:
                    m["tool_call_id"] = i
                if rng.random() < 0.5:
                    m["name"] = "get_weather"
                msgs.append(m)
            if msgs[-1]["role"] == "tool" and rng.random() < 0.3:
                break
        msgs.append({"role": "assistant", "content": content(rng, thinking=True)})
        if rng.random() < 0.05:
            msgs.append({"role": "assistant", "content": content(rng, thinking=True)})
    if rng.random() < 0.1:
        for m in msgs:
            m["trainable"] = m["role"] == "assistant" and rng.random() < 0.7
    conv["messages"] = msgs
    return conv


FIXED = [
    {"messages": [{"role": "tool_declare", "content": json.dumps([{"type": "function", "function": W[0]}])}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]},
    {"messages": [{"role": "system", "content": "s"}, {"role": "tool_declare", "content": json.dumps([{"type": "function", "function": W[1]}])}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]},
    {"messages": [{"role": "user", "content": "hi"}, {"role": "tool_declare", "content": "[]"}, {"role": "assistant", "content": "ok"}]},
    {"messages": [{"role": "assistant", "content": "no user"}]},
    {"messages": [{"role": "system", "content": "only system"}, {"role": "assistant", "content": [{"type": "thinking", "thinking": "t"}, {"type": "text", "text": "a"}]}]},
    {"messages": [{"role": "user", "content": "q"}, {"role": "tool", "content": "orphan result"}, {"role": "assistant", "content": "a"}]},
]


def main() -> None:
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    for conv in FIXED:
        print(json.dumps(conv, ensure_ascii=False))
    for _ in range(count):
        print(json.dumps(conversation(rng), ensure_ascii=False))


if __name__ == "__main__":
    main()
