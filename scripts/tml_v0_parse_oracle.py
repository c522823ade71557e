#!/usr/bin/env python3
"""Random sampled replies for Inkling (`tml_v0`) through tinker-cookbook 0.6.1's
`parse_response`: the reference for tinkex's parser beyond the completions of the render oracle
(malformed and truncated replies, headers with names, special tokens in content, broken UTF-8,
tool-call JSON of every shape, several turns). Development only; needs the cookbook venv.

    python scripts/tml_v0_parse_oracle.py SEED COUNT > tml_v0_parse.jsonl

Each line: {"tokens": [...], "message": <message_to_jsonable>, "termination": "..."}.
"""

import json
import random
import sys

from tinker_cookbook import renderers
from tinker_cookbook.renderers.base import message_to_jsonable
from tinker_cookbook.tokenizer_utils import get_tokenizer


def main() -> None:
    seed, count = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    tok = get_tokenizer("thinkingmachines/Inkling")
    tml = tok.tml_tokenizer
    r = renderers.get_renderer("tml_v0", tok)
    sp = {tml.decode_special(i): i for i in range(199998, 200058)}
    enc = tml.encode_ordinary
    byte = {}
    for i in range(200000):
        try:
            b = tml.decode_bytes([i])
        except Exception:  # noqa: BLE001
            continue
        if len(b) == 1:
            byte.setdefault(b[0], i)
        if len(byte) == 256:
            break

    texts = ["A", "hello world", " ", "", "é", "😀 x", "<|end_message|>", "\n\n", "a\tb"]
    names = ["f", "get_weather", "g", " f", "é"]
    values = ['1', '-0', '2.50', '1e5', '1E-7', '123456789012345678901234567890', '"s"',
              '"\\u00e9\\n"', '[1, {"z": 1, "y": null}]', '{"x": 1, "x": 2}', 'true', 'null',
              '0.89555979711471049', '-9223372036854775809', '18446744073709551615', '1e400',
              'NaN', '"\\ud800"', '"\\t"', '[' * 130 + ']' * 130]

    def call_json() -> str:
        name = rng.choice(names + [""])
        kind = rng.random()
        args = ", ".join(
            f'"{rng.choice(["a", "b", "c", ""])}": {rng.choice(values[:15] * 3 + values)}'
            for _ in range(rng.randint(0, 3))
        )
        if kind < 0.85:
            return f'{{"name": "{name}", "args": {{{args}}}}}'
        return rng.choice([
            f'{{"args": {{{args}}}, "name": "{name}"}}',
            f'{{"name": "{name}"}}',
            f'{{"name": "{name}", "args": {{}}, "id": 1}}',
            f'{{"name": "{name}", "args": []}}',
            f'{{"name": "{name}", "name": "{name}", "args": {{}}}}',
            f' {{"name": "{name}", "args": {{}}}} ',
            f'{{"name": "{name}", "args": {{}}}}x',
            f'{{"name": "{name}", "args": {{',
            "[1]",
            "",
        ])

    headers = ["message_model"] * 6 + ["message_user", "message_system", "message_tool"]
    contents = ["content_text"] * 20 + ["content_thinking"] * 10 + ["content_invoke_tool_json"] * 15 + [
        "content_tool_error", "content_invoke_tool_text", "content_xml", "content_image", "end_message",
        "content_model_end_sampling", "endoftext"]

    def message() -> list[int]:
        out = []
        if rng.random() < 0.9:
            out.append(sp[rng.choice(headers)])
            if rng.random() < 0.15:
                out += enc(rng.choice(names))
        ctype = rng.choice(contents)
        out.append(sp[ctype])
        body = call_json() if ctype == "content_invoke_tool_json" else rng.choice(texts)
        out += enc(body)
        if rng.random() < 0.03:
            out.insert(rng.randrange(len(out) + 1), rng.choice(list(byte.values())))
        if rng.random() < 0.03:
            out.insert(rng.randrange(len(out) + 1), sp[rng.choice(["endoftext", "unused", "message_user"])])
        out.append(sp["end_message"])
        return out

    for _ in range(count):
        tokens: list[int] = []
        if rng.random() < 0.05:
            tokens += enc("junk")
        for _ in range(rng.choice([0, 1, 1, 1, 2, 2, 3, 4])):
            tokens += message()
            if rng.random() < 0.2:
                tokens.append(sp["content_model_end_sampling"])
        if rng.random() < 0.8:
            tokens.append(sp["content_model_end_sampling"])
        if rng.random() < 0.15 and tokens:
            tokens = tokens[: rng.randrange(len(tokens) + 1)]
        if rng.random() < 0.05:
            tokens += message()[: rng.randint(0, 4)]
        m, t = r.parse_response(tokens)
        print(json.dumps({"tokens": tokens, "message": message_to_jsonable(m), "termination": t.value},
                         ensure_ascii=False))


if __name__ == "__main__":
    main()
