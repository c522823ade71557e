#!/usr/bin/env python3
"""Differential test of crates/tinkex/src/chat/pyjson.rs against this Python's `json` module.

Generates random inputs (float reprs, decimal literals, dumped random values with random
whitespace, mutations of those, JSON-ish noise), records what json.loads / json.dumps make of
each, and runs the ignored Rust test that replays them.
Usage: scripts/pyjson-vs-python.py [CASES] [SEED]      (CPython 3.11 is the reference)
"""
import json, os, random, struct, subprocess, sys, tempfile

n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
DUMPS = [{}, {"ensure_ascii": False}, {"separators": (",", ":"), "sort_keys": True},
         {"separators": (",", ":"), "sort_keys": True, "ensure_ascii": False}]
NOISE = list('[]{}",:0123456789-+.eE \t\n\r\\/ubfnrtxaAdDcC') + ["null", "true", "NaN", "Infinity",
        "\\u", "\\ud800", "\\udc00", "\x00", "\x1f", "\x7f", "é", "😀", "\u2028", "\ufeff", "\xa0"]


def row(s):
    try:
        v = json.loads(s)
    except Exception as e:  # JSONDecodeError, ValueError (int digits), RecursionError
        return [s, "E " + str(e)]
    out = [s]
    for kw in DUMPS:
        d = json.dumps(v, **kw)
        try:
            d.encode("utf-8")
        except UnicodeEncodeError:
            d = "SURROGATE"
        out.append(d)
    return out


def rand_str():
    pool = [lambda: chr(rng.randrange(0x20, 0x7f)), lambda: chr(rng.randrange(0, 0x20)),
            lambda: chr(rng.randrange(0x80, 0x800)), lambda: chr(rng.randrange(0xd800, 0xe000)),
            lambda: chr(rng.randrange(0x800, 0x110000)), lambda: rng.choice('"\\/\x7f\u2028')]
    return "".join(rng.choice(pool)() for _ in range(rng.randrange(0, 8)))


def rand_value(depth=0):
    k = rng.randrange(9 if depth < 4 else 6)
    if k == 0:
        return rng.choice([None, True, False])
    if k == 1:
        return rng.choice([rng.randrange(-10**6, 10**6), rng.randrange(-10**40, 10**40)])
    if k == 2:
        return rng.choice([struct.unpack("<d", rng.randbytes(8))[0], rng.uniform(-1e6, 1e6),
                           float(rng.randrange(-10**17, 10**17)), rng.random() * 10.0 ** rng.randrange(-30, 30)])
    if k < 6:
        return rand_str()
    if k < 8:
        return [rand_value(depth + 1) for _ in range(rng.randrange(4))]
    return {rand_str(): rand_value(depth + 1) for _ in range(rng.randrange(4))}


def spaced(text):
    return "".join(c + (rng.choice(" \t\n\r") * rng.randrange(3) if rng.random() < 0.1 else "")
                   for c in text)


def mutate(s):
    for _ in range(rng.randrange(1, 4)):
        i = rng.randrange(len(s) + 1)
        op = rng.randrange(4)
        if op == 0: s = s[:i] + s[i + 1:]
        elif op == 1: s = s[:i] + rng.choice(NOISE) + s[i:]
        elif op == 2: s = s[:i] + rng.choice(NOISE) + s[i + 1:]
        else: s = s[:i]
    return s


def case():
    k = rng.randrange(5)
    if k == 0:
        f = struct.unpack("<d", rng.randbytes(8))[0]
        return repr(f) if f == f and abs(f) != float("inf") else "NaN"
    if k == 1:
        digits = lambda: "".join(rng.choice("0123456789") for _ in range(rng.randrange(1, 25)))
        return (rng.choice(["", "-"]) + digits() + rng.choice(["", "." + digits()])
                + rng.choice(["", "e" + rng.choice(["", "+", "-"]) + str(rng.randrange(400))]))
    text = json.dumps(rand_value(), **rng.choice(DUMPS))
    if k == 2:
        return spaced(text)
    if k == 3:
        return mutate(text)
    return "".join(rng.choice(NOISE) for _ in range(rng.randrange(12)))


with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
    written = 0
    while written < n:
        s = case()
        try:
            s.encode("utf-8")  # a Rust &str cannot hold a lone surrogate
        except UnicodeEncodeError:
            continue
        f.write(json.dumps(row(s)) + "\n")
        written += 1
print(f"{n} cases in {f.name}", file=sys.stderr)
test = "chat::pyjson::tests::matches_python_on_generated_cases"
r = subprocess.run(["cargo", "test", "-q", "-p", "tinkex", "--lib", test, "--", "--ignored", "--exact", "--nocapture"],
                   env={**os.environ, "PYJSON_CASES": f.name})
os.unlink(f.name)
sys.exit(r.returncode)
