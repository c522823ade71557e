#!/usr/bin/env python3
"""Differential oracle for crates/tinkex/src/chat/kimi_ts.rs: random tool lists through
tinker-cookbook 0.6.1's `renderers/kimi_k2_5_tool_declaration_ts.py` (Kimi K2.5's TypeScript-style
tool declarations).

Prints one JSON line per case: {"tools": [...], "ts": TEXT} or {"tools": [...], "error":
"ExcClass: message"}. The schemas are random and often wrong on purpose: nested objects, arrays,
enums (with and without a declared type), anyOf, type lists, $defs and $ref (`#`, present,
missing, unsupported), additionalProperties of every kind, constraints and defaults of every JSON
type (floats such as 1e16, 0.1, -0.0, big ints), descriptions with newlines and unicode, required
lists naming absent properties, and values of the wrong type where the code expects a dict, a
list or a string.

The module is pure Python (json, logging, dataclasses), so it is loaded from its file, without
the package's heavy __init__. Development only; CPython 3.11 (error texts are version-specific).

    python3 scripts/kimi_ts_oracle.py SEED COUNT [MODULE_PATH] > cases.jsonl
    python3 scripts/kimi_ts_oracle.py --edge - [MODULE_PATH] > edge.jsonl   # the hand-written cases

MODULE_PATH defaults to the installed tinker_cookbook's file, else
/tmp/cbts/tinker_cookbook/renderers/kimi_k2_5_tool_declaration_ts.py, which this makes:

    cd /tmp && mkdir -p cbts && cd cbts && pip download --no-deps tinker-cookbook==0.6.1 -q \\
      && unzip -q -o tinker_cookbook-0.6.1-*.whl 'tinker_cookbook/renderers/*'
"""

import importlib.util
import json
import logging
import os
import random
import sys

REL = "renderers/kimi_k2_5_tool_declaration_ts.py"


def module_path():
    if len(sys.argv) > 3:
        return sys.argv[3]
    spec = importlib.util.find_spec("tinker_cookbook")  # does not run the package's __init__
    if spec and spec.submodule_search_locations:
        path = os.path.join(list(spec.submodule_search_locations)[0], REL)
        if os.path.exists(path):
            return path
    return "/tmp/cbts/tinker_cookbook/" + REL


def load():
    spec = importlib.util.spec_from_file_location("kimi_ts", module_path())
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


logging.disable(logging.CRITICAL)  # the module warns about `false` schemas
EDGE_ONLY = sys.argv[1:2] == ["--edge"]
rng = random.Random(0 if EDGE_ONLY else int(sys.argv[1]))
COUNT = 0 if EDGE_ONLY else int(sys.argv[2])

FLOATS = [1e16, 0.1, -0.0, 0.0, 1.0, 1.5, -2.5, 1e-05, 1e22, 123456789.123, 3.141592653589793,
          1e308, 5e-324, float("inf"), float("-inf"), float("nan"), 100.0, 1e15, 0.0001]
INTS = [0, 1, -1, 5, 100, 2**63, 2**70, -(2**64), 10**30, 42]
WORDS = ["city", "units", "query", "limit", "x", "a", "b", "A", "Z", "_private", "name", "zeta",
         "mode", "path", "ä", "é", "日本", "😀", "a b", "a-b", "aa", "ab", "Ab", "", "1", "type",
         "enum", "$ref", "anyOf", "items", "default", "description", "required", "props"]
TEXT_BITS = ["Get the weather", "line one", "", " ", "  indented", "ünïcode", "日本語の説明",
             "emoji 😀", "tab\there", "quote \"q\" and 'q'", "back\\slash", "cr\rlf", "\x01ctl",
             "\u2028sep", "zero\u200bwidth", "</tool>", "{\"json\": 1}", "trailing "]
DEF_NAMES = ["Item", "Node", "Point", "Color", "Tree", "X", "défi", "A/B"]


def chance(p):
    return rng.random() < p


def text(lines=None):
    n = lines if lines is not None else rng.choice([1, 1, 1, 2, 3, 4])
    parts = [rng.choice(TEXT_BITS) for _ in range(n)]
    s = "\n".join(parts)
    if chance(0.1):
        s = "\n" + s
    if chance(0.1):
        s += "\n"
    if chance(0.01):
        s += "\ud800"  # a lone surrogate: Python's text holds it
    return s


def word():
    w = rng.choice(WORDS)
    if chance(0.05):
        w += rng.choice(["é", "😀", "\u00a0", "Z"])
    if chance(0.005):
        w += "\udc00"
    return w


def scalar_value():
    k = rng.randrange(7)
    if k == 0:
        return rng.choice([None, True, False])
    if k == 1:
        return rng.choice(INTS)
    if k == 2:
        return rng.choice(FLOATS)
    if k == 3:
        return rng.uniform(-1e6, 1e6) if chance(0.5) else rng.random() * 10.0 ** rng.randrange(-8, 25)
    return rng.choice([word(), text(1), "", "c", "f", "0", "null", "True"])


def any_value(depth=0):
    k = rng.randrange(10 if depth < 3 else 7)
    if k < 7:
        return scalar_value()
    if k < 9:
        return [any_value(depth + 1) for _ in range(rng.randrange(4))]
    return {word(): any_value(depth + 1) for _ in range(rng.randrange(4))}


def maybe_description(d, p=0.4):
    if chance(p):
        if chance(0.01):
            d["description"] = rng.choice([0, 5, 1.5, [], ["x"], {}, {"a": 1}, None, False, True, ""])
        else:
            d["description"] = text()


def constraints(d, keys):
    for k in keys:
        if chance(0.25):
            d[k] = any_value() if chance(0.3) else rng.choice([rng.choice(INTS), rng.choice(FLOATS), "^[a-z]+$", 3])


ALL_CONSTRAINTS = ["maxLength", "minLength", "pattern", "maximum", "minimum", "minItems", "maxItems"]


def type_name():
    return rng.choice(["string", "number", "integer", "boolean", "null", "object", "array"])


def scalar_schema():
    t = rng.choice(["string", "string", "number", "integer", "boolean", "null"])
    if chance(0.02):
        t = rng.choice(["any", "date", "", 5, None, True, 1.5, ["x"], {"k": "v"}, "unknown😀"])
    d = {"type": t}
    constraints(d, ALL_CONSTRAINTS if chance(0.3) else ALL_CONSTRAINTS[:5])
    maybe_description(d)
    return d


def enum_schema():
    k = rng.randrange(10)
    if k < 4:
        values = [rng.choice(["a", "b", "celsius", "é", "with \"quote\"", "", "x\ny"]) for _ in range(rng.randrange(1, 4))]
    elif k < 7:
        values = [scalar_value() for _ in range(rng.randrange(0, 4))]
    elif k < 9:
        values = [any_value() for _ in range(rng.randrange(1, 3))]
    else:
        values = rng.choice(["abc", "", {"k1": 1, "k2": 2}, 5, None, True, 1.5])
    d = {"enum": values}
    if chance(0.6):
        k = rng.randrange(20)
        if k < 15:
            d["type"] = rng.choice(["string", "number", "integer", "boolean", "object", "null"])
        elif k < 19:
            d["type"] = rng.choice([["string"], ["string", "null"], ["null", "integer"], ["number", "boolean"],
                                    [], ["null", "null"], ["string", "null", "number"], ["null"]])
        else:
            d["type"] = rng.choice([5, None, {"a": 1}])
    maybe_description(d)
    return d


def type_list_schema():
    types = [type_name() for _ in range(rng.randrange(0, 4))]
    if chance(0.05):
        types.append(rng.choice(["date", "any", 5, None, True, 1.5, ["x"], {"a": 1}, "\u00e9"]))
    d = {"type": types}
    maybe_description(d)
    return d


class Ctx:
    def __init__(self):
        self.defs = []


def ref_schema(ctx):
    k = rng.randrange(40)
    if k < 8:
        ref = "#"
    elif k < 36 and ctx.defs:
        ref = "#/$defs/" + rng.choice(ctx.defs)
    elif k < 38:
        ref = "#/$defs/" + rng.choice(DEF_NAMES + ["Missing"])
    elif k < 39:
        ref = rng.choice(["#/definitions/Item", "Item", "#/$defs", "#/$defs/", "#/$defs/a/Item", "http://x/y"])
    else:
        ref = rng.choice([5, None, ["#"], {"a": "#"}, True])
    d = {"$ref": ref}
    maybe_description(d, 0.2)
    if chance(0.1):
        d["type"] = "string"  # ignored beside $ref
    return d


def odd_schema():
    return rng.choice([True, False, {}, {"description": "no type"}, {"foo": 1}, [], ["type"], ["enum"],
                       ["a", 1], "string", "a type", "has $ref", "x", "", 5, None, 1.5,
                       {"type": "object"}, {"type": "array"}, {"items": {"type": "string"}}])


def schema(ctx, depth):
    k = rng.randrange(100)
    if depth > 3:
        k = rng.randrange(60)
    if k < 35:
        return scalar_schema()
    if k < 45:
        return enum_schema()
    if k < 50:
        return type_list_schema()
    if k < 57:
        return ref_schema(ctx) if ctx.defs or chance(0.3) else scalar_schema()
    if k < 60:
        return odd_schema() if chance(0.25) else rng.choice([True, False, {}])
    if k < 75:
        return array_schema(ctx, depth)
    if k < 85:
        return anyof_schema(ctx, depth)
    return object_schema(ctx, depth)


def array_schema(ctx, depth):
    d = {"type": "array"}
    k = rng.randrange(20)
    if k < 15:
        d["items"] = schema(ctx, depth + 1)
    elif k < 18:
        d["items"] = rng.choice([{}, False, None, [], "", 0])
    elif k < 19:
        d["items"] = rng.choice([True, ["x"], "abc", 5, {"type": ["string", "null"]}])
    constraints(d, ["minItems", "maxItems", "maxLength"])
    maybe_description(d)
    return d


def anyof_schema(ctx, depth):
    k = rng.randrange(30)
    if k < 29:
        members = [schema(ctx, depth + 1) for _ in range(rng.randrange(0, 4))]
    else:
        members = rng.choice(["", "ab", {}, {"string": 1}, 5, None, {"a type": 1}])
    d = {"anyOf": members}
    if chance(0.1):
        d["enum"] = ["ignored"]
    maybe_description(d)
    return d


def additional_properties(ctx, depth):
    if chance(0.1):
        return rng.choice([0, 1, "yes", [], ["x"], 1.5, ""])
    return rng.choice([True, False, None, {}, {"type": "string"}, {"type": "integer", "description": "count"},
                       {"type": "array", "items": {"type": "number"}}]) if chance(0.7) else schema(ctx, depth + 1)


def defs(ctx, depth):
    out = {}
    for _ in range(rng.randrange(1, 4)):
        name = rng.choice(DEF_NAMES)
        ctx.defs.append(name)
        k = rng.randrange(30)
        if k < 20:
            out[name] = object_schema(ctx, depth + 1)
        elif k < 29:
            out[name] = schema(ctx, depth + 1)
        else:
            out[name] = rng.choice([True, False, [], "str", 5, None, {"$self_ref": True, "type": "string"}, {}])
    if chance(0.02):
        return rng.choice([[], ["x"], "abc", 0, 5, None, True])
    return out


def object_schema(ctx, depth, root=False):
    d = {} if root and chance(0.1) else {"type": "object"}
    if chance(0.25 if root else 0.1):
        d["$defs"] = defs(ctx, depth)
    maybe_description(d)
    n = rng.randrange(0, 5 if depth < 2 else 3)
    if chance(0.9):
        props = {}
        for _ in range(n):
            props[word()] = schema(ctx, depth + 1)
            if chance(0.25):
                default = any_value() if chance(0.6) else scalar_value()
                p = props[list(props)[-1]]
                if isinstance(p, dict):
                    p["default"] = default
        if chance(0.01):
            props = rng.choice([[], ["a"], "abc", None, 5])
        d["properties"] = props
        if chance(0.7):
            names = list(props) if isinstance(props, dict) else []
            req = [n for n in names if chance(0.5)]
            if chance(0.2):
                req.append(rng.choice(["missing", "x", 5, None, "a", 1.5, True]))
            if chance(0.015):
                req = rng.choice(["ab", "xa", {"a": 1, "city": 2}, None, 5, [["a"]], [{"a": 1}], True, ""])
            rng.shuffle(req) if isinstance(req, list) else None
            d["required"] = req
    if chance(0.25):
        d["additionalProperties"] = additional_properties(ctx, depth)
    if chance(0.02):
        d["$defs"] = defs(ctx, depth)  # registered after the properties' refs were resolved
    return d


def function():
    ctx = Ctx()
    f = {}
    if chance(0.95):
        f["name"] = rng.choice(["get_weather", "search", "f", "do_thing", "naïve", "名前", "a b"]) \
            if chance(0.97) else rng.choice([None, 5, ["f"], {"n": 1}, 1.5, True, ""])
    if chance(0.8):
        f["description"] = text() if chance(0.98) else rng.choice([0, 5, 1.5, [], ["d"], {}, {"d": 1}, None, True, False])
    k = rng.randrange(50)
    if k < 44:
        f["parameters"] = object_schema(ctx, 0, root=True)
    elif k < 48:
        f["parameters"] = rng.choice([None, {}, [], 0, False, ""])
    elif k < 49:
        f["parameters"] = rng.choice([["x"], "abc", 5, True, 1.5])
    if chance(0.05):
        f["strict"] = True
    return f


def tool():
    k = rng.randrange(200)
    if k < 188:
        return {"type": "function", "function": function()}
    if k < 192:
        return {"type": rng.choice(["_plugin", "retrieval", None, "Function"]), "function": function()}
    if k < 194:
        return {"function": function()}
    if k < 197:
        return {"type": "function", "function": rng.choice([{}, None, [], "", 0, False])} if chance(0.8) \
            else {"type": "function"}
    if k < 199:
        return {"type": "function", "function": rng.choice([["x"], "abc", 5, True, 1.5])}
    return rng.choice([[], ["x"], "tool", 5, None, True, 1.5])


def case():
    n = rng.choice([1, 1, 1, 1, 2, 2, 3]) if chance(0.98) else 0
    return [tool() for _ in range(n)]


# Hand-written cases for the module's quirks (`--edge`): definitions overwritten or first
# registered while the definitions are printed, `$self_ref` in a definition, a root
# `additionalProperties` that is never printed because the root became `interface parameters`,
# `required` as a string or a dict, `anyOf` over a string or a dict, code-point ordering of
# names, non-string `type`s printed, concatenated and joined, empty and odd descriptions.
def F(params, **kw):
    return [{"type": "function", "function": dict(name="f", parameters=params, **kw)}]


def O(props, **kw):
    return dict(type="object", properties=props, **kw)


EDGE = [
 F({"$defs": {"A": {"type": "string"}, "B": {"type": "object", "$defs": {"A": {"type": "number"}, "C": {"type": "boolean"}}, "properties": {"c": {"$ref": "#/$defs/C"}}}}, "properties": {"a": {"$ref": "#/$defs/A"}}}),
 F({"$defs": {"B": {"type": "object", "properties": {"c": {"$ref": "#/$defs/C"}}}, "A": {"type": "object", "$defs": {"C": {"type": "boolean"}}}}, "properties": {}}),
 F({"$defs": {"A": {"type": "object", "$defs": {"C": {"type": "boolean"}}}, "B": {"type": "object", "properties": {"c": {"$ref": "#/$defs/C"}}}}, "properties": {}}),
 F({"$defs": {"S": {"$self_ref": 1, "type": "string"}}, "properties": {"a": {"$ref": "#/$defs/S"}}}),
 F({"$defs": {"S": {"$self_ref": 0, "type": "string", "description": "d\n\ne"}}, "properties": {"a": {"$ref": "#/$defs/S"}}}),
 F({"properties": {"a": {"$ref": "#"}}, "additionalProperties": 5}),
 F({"properties": {"a": {"type": "string"}}, "additionalProperties": 5}),
 F({"properties": {"a": {"enum": {"k": 1}, "type": "integer"}}}),
 F({"properties": {"a": {"enum": {"k": 1}, "type": "string"}, "b": {"enum": "xy", "type": ["string", "null"]}}}),
 F(O({"a": {"type": "string"}, "b": {"type": "string"}, "ab": {}}, required="ab")),
 F(O({"a": {"type": "string"}, "b": {"type": "string"}}, required={"b": 0})),
 F(O({"a": {"anyOf": {"type": 1}}})),
 F(O({"a": {"anyOf": "x"}})),
 F(O({"a": {"anyOf": ""}, "b": {"anyOf": {}}})),
 F({"$defs": {"": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/"}}}),
 F({"$defs": {"b": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/x/b"}}}),
 F(O({"a": {"type": "string", "default": [float("nan"), float("inf"), -0.0, 1e16, 2**80]}, "b": {"type": "number", "default": float("-inf")}, "c": {"type": "integer", "default": 2**80, "maximum": 0.1, "minimum": -0.0, "pattern": "x"}})),
 F(O({"a": {"type": "array", "items": O({"x": {"type": "string", "description": "xd"}}, description="obj\ndesc")}})),
 F(O({"a": {"type": "array", "items": O({"x": {"type": "array", "items": {"type": "array", "items": {"type": "string", "maxLength": 2}}}})}})),
 F(O({"a": {"type": "array", "items": {"anyOf": [O({"q": {"type": "string"}}), {"type": "null"}], "description": "any"}}})),
 F(O({"a": O({"b": O({"c": {"type": "string"}}, additionalProperties={"type": "object", "properties": {"z": {"type": "string"}}})})})),
 F(O({"é": {"type": "string"}, "e": {"type": "string"}, "E": {"type": "string"}, "😀": {}, "\uffff": {}, "": {}}, required=["😀", "e"])),
 F(O({"a": {"type": ["string", ["x"]]}})),
 F(O({"a": {"type": ["string", None]}})),
 F(O({"a": {"type": ["string", 1.0]}})),
 F(O({"a": {"type": ["string", True]}})),
 F(O({"a": {"type": {"k": 1}, "description": "weird"}})),
 F(O({"a": {"type": "array", "items": {"type": {"k": 1}}}})),
 F(O({"a": {"type": "array", "items": {"type": {"k": 1}}, "description": "x"}})),
 F(O({"a": {"enum": [1, "a"], "type": ["null", "number"]}})),
 F(O({"a": {"enum": [True, None], "type": "integer"}, "b": {"enum": [1.0], "type": "integer"}})),
 F(O({"a": {"$ref": 5}})),
 F(O({"a": {"$ref": "#", "description": 5}})),
 F(O({"a": True, "b": False, "c": {}}, required=["c"])),
 [{"type": "function", "function": {"name": "f", "description": "\n"}}],
 [{"type": "function", "function": {"name": None, "description": "a\n\nb\n"}}, {"type": "function", "function": {"name": "g"}}],
 F({"$defs": {"A": True}, "properties": {}}),
 F({"$defs": {"A": False, "B": {}}, "properties": {}}),
 F({"$defs": {"A": {"type": 7}}, "properties": {}}),
 F({"$defs": {"A": {"type": "array", "items": {"type": "string", "minLength": 1}}}, "properties": {"x": {"$ref": "#/$defs/A"}}}),
 F({"properties": {"a": {"type": "string", "description": "a\u2028b\rc\n\nd"}}}),
 F({"type": "object", "$ref": "#", "anyOf": 5, "properties": {}}),
 F({"type": "object", "additionalProperties": {}}),
 F({"type": "object", "additionalProperties": {"$ref": "#"}}),
]


def main():
    mod = load()
    out = sys.stdout
    for tools in (EDGE if EDGE_ONLY else (case() for _ in range(COUNT))):
        row = {"tools": tools}
        try:
            row["ts"] = mod.encode_tools_to_typescript_style(tools)
        except Exception as e:  # what the cookbook raises is the expected result
            row["error"] = f"{type(e).__name__}: {e}"
        out.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
