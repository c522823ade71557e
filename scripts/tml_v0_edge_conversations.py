#!/usr/bin/env python3
"""Conversations at the edges of Inkling's (`tml_v0`) format, for scripts/chat_oracle.py:
empty contents, consecutive assistant messages, tool calls without ids, thinking-only turns,
system messages in the middle, several tool calls, conversations ending on a user or tool
message, `tool_declare` messages written by hand (bad JSON, non-dict parameters, lone
surrogates, NaN, deep nesting, huge integers), tool-call arguments the core cannot read, and
150 conversations of random floats in tool schemas and arguments (the core reads numbers with
serde_json, not always to the nearest double). Development only; the Python standard library.

    python scripts/tml_v0_edge_conversations.py > tml_v0_edge.jsonl
"""

import json
import random

W = [{"name": "get_weather", "description": "Get the weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "n": {"type": "number", "default": 1e16, "minimum": 1.5e-7}}, "required": ["city"]}}]


def tc(name, args, id=None):
    d = {"type": "function", "function": {"name": name, "arguments": args}}
    if id is not None:
        d["id"] = id
    return d


U = lambda c, **k: {"role": "user", "content": c, **k}  # noqa: E731
A = lambda c, **k: {"role": "assistant", "content": c, **k}  # noqa: E731
S = lambda c: {"role": "system", "content": c}  # noqa: E731
T = lambda c, **k: {"role": "tool", "content": c, **k}  # noqa: E731
D = lambda c: {"role": "tool_declare", "content": c}  # noqa: E731
th = lambda t: {"type": "thinking", "thinking": t}  # noqa: E731
tx = lambda t: {"type": "text", "text": t}  # noqa: E731
convs = [
  {"messages": [U(""), A("")]},
  {"messages": [U("hi"), A([])]},
  {"messages": [U([]), A("x")]},
  {"messages": [U("hi"), A("a"), A("b")]},
  {"messages": [U("hi"), A("a"), A("b"), A("c")]},
  {"messages": [A("first"), U("q"), A("a")]},
  {"messages": [U("hi"), A("", tool_calls=[tc("get_weather", '{"city": "Paris"}')]), T("sunny"), A("ok")]},
  {"messages": [U("hi"), A("", tool_calls=[tc("get_weather", '{"city": "Paris"}'), tc("get_weather", '{"city": "Rome"}', "c2")]), T("sunny", tool_call_id="c1", name="get_weather"), T("rain", tool_call_id="c2"), A("ok")]},
  {"messages": [U("hi"), A([th("just thinking")])]},
  {"messages": [U("hi"), A([th("")])]},
  {"messages": [U("hi"), A([th("t1"), tx(""), th("t2")])]},
  {"messages": [U("hi"), A([th("t"), tx("")], tool_calls=[tc("f", "{}")])]},
  {"messages": [S("s1"), U("q"), S("mid system"), A("a")]},
  {"messages": [U("q"), A("a"), S("late system"), U("q2"), A("b")]},
  {"messages": [S("only system"), A("a")]},
  {"messages": [U("q"), A("a"), U("trailing user")]},
  {"messages": [U("q"), A("a"), T("trailing tool")]},
  {"messages": [U("q"), A("", tool_calls=[tc("f", '{"b": 1, "a": [1, 2.5, {"z": 1, "y": null}], "c": "\u00e9\u2028", "d": 1e16, "e": 1.5e-7, "g": 123456789012345678901234567890, "h": -0.0, "i": 0.1}')])]},
  {"messages": [U("q"), A("", tool_calls=[tc("f", '{"a": NaN}')])]},
  {"messages": [U("q"), A("", tool_calls=[tc("f", '[1]')])]},
  {"messages": [U("q"), A("", tool_calls=[tc("f", 'not json')])]},
  {"messages": [U("q"), A("", tool_calls=[tc("", '{}')])]},
  {"messages": [U("q"), A("x", tool_calls=[tc("f", '{"a": 1e400}')])]},
  {"messages": [U("q"), A("", tool_calls=[tc("f", '{"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}')])]},
  {"messages": [U("q"), {"role": "developer", "content": "dev"}, A("a")]},
  {"messages": [U("q"), A("a", trainable=False), U("q2"), A("b", trainable=True)]},
  {"messages": [U("q", trainable=True), A("a", trainable=False)]},
  {"tools": W, "system_prompt": "", "messages": [U("weather?"), A("", tool_calls=[tc("get_weather", '{"city": "Z\u00fcrich"}', "call_1")]), T("20C", tool_call_id="call_1", name="get_weather"), A("It's 20C")]},
  {"tools": W, "system_prompt": "be brief", "messages": [U("weather?"), A("", tool_calls=[tc("get_weather", '{"city": "Oslo"}')])]},
  {"messages": [{"role": "tool_declare", "content": json.dumps([{"type": "function", "function": {"name": "g", "parameters": {"b": 1, "a": {"y": 10**30, "x": 1.5}}}}, {"function": {"name": "h", "description": 3}}], separators=(",", ":"))}, U("q"), A("a")]},
  {"messages": [{"role": "tool_declare", "content": "[]"}, U("q"), A("a")]},
  {"messages": [{"role": "tool_declare", "content": "{}"}, U("q"), A("a")]},
  {"messages": [{"role": "tool_declare", "content": '[{"function": {"name": 3}}]'}, U("q"), A("a")]},
  {"messages": [{"role": "tool_declare", "content": '[{"function": {"name": "f", "parameters": []}}]'}, U("q"), A("a")]},
  {"messages": [{"role": "tool_declare", "content": '[{"function": {"name": "f", "parameters": {"a": NaN}}}]'}, U("q"), A("a")]},
  {"messages": [{"role": "tool_declare", "content": '[{"function": {"name": "f", "parameters": {"\u00e9": "\\ud800"}}}]'}, U("q"), A("a")]},
  {"messages": [U("<|message_model|><|content_text|>not special<|end_message|>"), A("<|content_model_end_sampling|> typed")]},
  {"messages": [U("q"), A([th("<|end_message|>")]), ]},
  {"messages": [T("tool first", name="f"), U("q"), A("a")]},
  {"messages": [U("q"), A("a", tool_calls=[])]},
  {"messages": [U("q"), T("r", name=""), A("a")]},
  {"messages": [U("q"), {"role": "user", "content": "x", "tool_calls": [tc("f", '{"q": 1}')]}, A("a")]},
  {"messages": [U("q"), T("", tool_calls=[tc("g", '{}')], name="f"), A("a")]},
  {"messages": [S([th("system thought"), tx("sys")]), U([th("user thought")]), A("a")]},
]
convs += [
  {"messages": [S("a"), S("b"), A("x")]},
  {"messages": [S("a"), D("[]"), S("b"), U("u"), A("x")]},
  {"messages": [U("q"), A("", tool_calls=[tc("é tool", '{"é": 1, "z": 2, "a": {"é": 3, "b": 4}}')])]},
  {"messages": [U("q"), A("", tool_calls=[tc("f", '{"a": ' + '9' * 5000 + '}')])]},
  {"messages": [U("q"), A("", tool_calls=[tc("f", ' {  } ')])]},
  {"messages": [U("q"), A("", tool_calls=[tc("f", '{"a": {"x": 1, "x": 2}}')])]},
  {"messages": [U("q"), A("", tool_calls=[tc("f", '{"\\ud800": 1}')])]},
  {"messages": [U("q"), A("", tool_calls=[tc("f", '{"a": "\\ud800"}')])]},
  {"messages": [U("q"), A("", tool_calls=[tc("f", '{"a": ' + '[' * 200 + ']' * 200 + '}')])]},
  {"messages": [U("q"), A("", tool_calls=[tc("f", '{"a": ' + '[' * 1000 + ']' * 1000 + '}')])]},
  {"messages": [D('[{"type": "\\ud800x", "function": {"name": "f"}}]'), U("q"), A("a")]},
  {"messages": [D('[{"function": {"name": "f\\udc00"}}]'), U("q"), A("a")]},
  {"messages": [D('[{"function": {"name": "f", "description": "\\ud800"}}]'), U("q"), A("a")]},
  {"messages": [D('[{"function": {"name": "f", "parameters": {"a": 1e400}}}]'), U("q"), A("a")]},
  {"messages": [D('[{"function": {"name": "f", "parameters": {"a": ' + '9' * 5000 + '}}}]'), U("q"), A("a")]},
  {"messages": [D('[{"function": {"name": "f", "parameters": {"a": ' + '[' * 1000 + ']' * 1000 + '}}}]'), U("q"), A("a")]},
  {"messages": [D('[{"function": {"name": ["x", \'y\']}}]'), U("q"), A("a")]},
  {"messages": [D('[{"function": {"name": {"k": "it\'s"}}}]'), U("q"), A("a")]},
  {"messages": [D('[{"function": {"name": null}}]'), U("q"), A("a")]},
  {"messages": [D('[{"function": {"name": 1.5}}]'), U("q"), A("a")]},
  {"messages": [D('[1]'), U("q"), A("a")]},
  {"messages": [D('[{"function": []}]'), U("q"), A("a")]},
  {"messages": [D([{"type": "text", "text": "[]"}]), U("q"), A("a")]},
  {"messages": [U("q"), T("r", tool_calls=[tc("g", "{}")]), A("a")]},
  {"messages": [U("q"), A([{"type": "text", "text": ""}, {"type": "text", "text": "x"}], tool_calls=[tc("g", "{}")])]},
  {"messages": [U("q"), A("a", tool_calls=[tc("g", "{}"), tc("g", '{"k": [true, false, null]}', "id2")]), A("b")]},
  {"messages": [U("q"), A([]), U("r"), A("c")]},
  {"messages": [U("q"), A("", tool_calls=[tc("f", '{"a": 1e16, "b": 1.0, "c": 123456789012345678901234567890}')])]},
]
for c in convs:
    print(json.dumps(c, ensure_ascii=False))

rng = random.Random(42)
def num():
    k = rng.random()
    if k < 0.5:
        digits = ''.join(rng.choice('0123456789') for _ in range(rng.randint(15, 25)))
        return float(f'{digits[0]}.{digits[1:]}e{rng.randint(-320, 308)}')
    if k < 0.7:
        return rng.choice([1e16, 1e21, 1e-5, 1e-6, 1e-7, 1.5e-7, 5e-324, 1.7976931348623157e308, -0.0, 1e15, 0.1, 100.0, 2.5, 1e100, 123456789.0])
    if k < 0.85:
        return rng.choice([10**30, 2**64, 2**63, -2**63 - 1, 2**64 - 1, -2**63, 9007199254740993, 0, -1])
    return float(rng.randint(-10**6, 10**6)) / rng.choice([1, 7, 1000, 3e10])
for i in range(150):
    params = {"type": "object", "properties": {f"p{j}": {"type": "number", "default": num(), "enum": [num(), num()]} for j in range(3)}}
    decl = json.dumps([{"type": "function", "function": {"name": "f", "description": "d", "parameters": params}}], separators=(",", ":"))
    args = json.dumps({f"a{j}": num() for j in range(4)} | {"n": [num(), {"z": num(), "y": num()}]})
    conv = {"messages": [{"role": "tool_declare", "content": decl}, {"role": "user", "content": "q"},
                         {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "id": "c", "function": {"name": "f", "arguments": args}}]}]}
    print(json.dumps(conv))
