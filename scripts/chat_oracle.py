#!/usr/bin/env python3
"""Runs tinker-cookbook's renderers on conversations and writes what they produce, in the
shape of shared/chat/render.jsonl plus every TrainOnWhat mode — the reference tinkex's chat
layer is compared against beyond the visible oracle (tests use the committed copy of
render.jsonl; this is for development, and needs the cookbook: see scripts/cookbook-venv.sh).

    python scripts/chat_oracle.py FIXTURES_DIR RENDERER[,RENDERER…] < conversations.jsonl > out.jsonl
    python scripts/chat_oracle.py --check-kimi FIXTURES_DIR PARITY_DIR   # the Kimi shim's check

With --examples, each line also has "examples": {mode: [{tokens, weights}, …] | {"error": …}}
(build_supervised_examples for last_assistant_turn and all_assistant_messages).

FIXTURES_DIR holds the lineup's tokenizer directories (llama3_1, qwen3, deepseek_v3_1, gpt_oss,
qwen3_5, deepseek_v4_1, kimi_k2, kimi_k25), e.g. ../shared/fixtures/tokenizers. Inkling's
tokenizer comes from tml-renderers. gpt-oss's date is fixed to 2026-01-01, as in the oracle.

Each output line: {"case", "renderer", "fixture", "input", "stop", "sft": {mode: {tokens,
weights} | {"error": …}}, "prompt", "completion", "parsed", "prefill_prompt"} or
{"case", "renderer", "fixture", "input", "stop", "error"} when the default operations refuse.
"""

import json
import sys
import traceback

from tinker_cookbook import renderers
from tinker_cookbook.renderers.base import (
    ToolCall,
    TrainOnWhat,
    UnparsedToolCall,
    message_to_jsonable,
)

FIXTURE = {
    "role_colon": "llama3_1",
    "llama3": "llama3_1",
    "qwen3": "qwen3",
    "qwen3_disable_thinking": "qwen3",
    "qwen3_instruct": "qwen3",
    "deepseekv3": "deepseek_v3_1",
    "deepseekv3_disable_thinking": "deepseek_v3_1",
    "deepseekv3_thinking": "deepseek_v3_1",
    "gpt_oss_no_sysprompt": "gpt_oss",
    "gpt_oss_low_reasoning": "gpt_oss",
    "gpt_oss_medium_reasoning": "gpt_oss",
    "gpt_oss_high_reasoning": "gpt_oss",
    "tml_v0": "o200k_base_chat",
    "qwen3_5": "qwen3_5",
    "qwen3_5_disable_thinking": "qwen3_5",
    "qwen3_5_preserve_thinking": "qwen3_5",
    "qwen3_8_xhigh_reasoning": "qwen3_5",
    "qwen3_8_medium_reasoning": "qwen3_5",
    "qwen3_8_low_reasoning": "qwen3_5",
    "qwen3_8_disable_thinking": "qwen3_5",
    "deepseekv4_1": "deepseek_v4_1",
    "deepseekv4_1_low_reasoning": "deepseek_v4_1",
    "deepseekv4_1_max_reasoning": "deepseek_v4_1",
    "deepseekv4_1_disable_thinking": "deepseek_v4_1",
    "deepseekv4_1_preserve_thinking": "deepseek_v4_1",
    "kimi_k2": "kimi_k2",
    "kimi_k25": "kimi_k25",
    "kimi_k25_disable_thinking": "kimi_k25",
    "kimi_k26": "kimi_k25",
    "kimi_k26_disable_thinking": "kimi_k25",
    "kimi_k26_preserve_thinking": "kimi_k25",
}

# Kimi's split pattern (tokenization_kimi.py; shared/docs/tinker-api.md).
KIMI_PATTERN = "|".join(
    [
        r"""[\p{Han}]+""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]+[\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)


class KimiTokenizer:
    """What the cookbook's renderers use of Moonshot's `tokenization_kimi.TikTokenTokenizer`
    (which the cookbook loads from the Hub, unreachable here): tiktoken over the fixture's
    `tiktoken.model` with Kimi's pattern and its 256 special ids; `encode` allows every special
    token and adds no BOS; `decode` is the bytes as UTF-8 with replacement. Checked against
    shared/parity/kimi_k2.jsonl / kimi_k25.jsonl by `--check-kimi`."""

    def __init__(self, directory: str):
        import tiktoken
        from tiktoken.load import load_tiktoken_bpe

        ranks = load_tiktoken_bpe(f"{directory}/tiktoken.model")
        with open(f"{directory}/tokenizer_config.json") as f:
            names = {int(i): t["content"] for i, t in json.load(f)["added_tokens_decoder"].items()}
        n = len(ranks)
        special = {names.get(i, f"<|reserved_token_{i}|>"): i for i in range(n, n + 256)}
        self.enc = tiktoken.Encoding("kimi", pat_str=KIMI_PATTERN, mergeable_ranks=ranks, special_tokens=special)
        self.name_or_path = directory

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return self.enc.encode(text, allowed_special="all")

    def decode(self, ids, **_) -> str:
        return self.enc.decode(list(ids))


def check_kimi(fixtures: str, parity: str) -> None:
    """The shim against the tokenizer parity oracle: every text's ids and decoded text."""
    for name in ("kimi_k2", "kimi_k25"):
        tok = KimiTokenizer(f"{fixtures}/{name}")
        n = bad = 0
        with open(f"{parity}/{name}.jsonl") as f:
            for line in f:
                case = json.loads(line)
                if "text" not in case:
                    continue
                n += 1
                ids = tok.encode(case["text"])
                if ids != case["ids"] or tok.decode(ids) != case["decoded"]:
                    bad += 1
        print(f"{name}: {n - bad}/{n} equal", file=sys.stderr)
        if bad:
            sys.exit(1)


def tokenizer_for(fixtures: str, fixture: str):
    if fixture == "o200k_base_chat":
        from tinker_cookbook.tokenizer_utils import get_tokenizer

        return get_tokenizer("thinkingmachines/Inkling")
    if fixture.startswith("kimi_"):
        return KimiTokenizer(f"{fixtures}/{fixture}")
    import transformers

    return transformers.AutoTokenizer.from_pretrained(f"{fixtures}/{fixture}")


def to_cookbook(m: dict) -> dict:
    m = dict(m)
    if "tool_calls" in m:
        m["tool_calls"] = [ToolCall.model_validate(tc) for tc in m["tool_calls"]]
    if "unparsed_tool_calls" in m:
        m["unparsed_tool_calls"] = [UnparsedToolCall.model_validate(u) for u in m["unparsed_tool_calls"]]
    return m


def err(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


def main() -> None:
    if sys.argv[1] == "--check-kimi":
        check_kimi(sys.argv[2], sys.argv[3])
        return
    fixtures, names = sys.argv[1], sys.argv[2].split(",")
    convs = [json.loads(line) for line in sys.stdin if line.strip()]
    cache = {}
    for name in names:
        fixture = FIXTURE[name]
        if fixture not in cache:
            cache[fixture] = tokenizer_for(fixtures, fixture)
        tok = cache[fixture]
        r = renderers.get_renderer(name, tok)
        if hasattr(r, "current_date"):
            r.current_date = "2026-01-01"
        stop = r.get_stop_sequences()
        for case, conv in enumerate(convs):
            row = {"case": case, "renderer": name, "fixture": fixture, "input": conv, "stop": stop}
            try:
                msgs = [to_cookbook(m) for m in conv["messages"]]
                if "tools" in conv:
                    msgs = r.create_conversation_prefix_with_tools(conv["tools"], conv.get("system_prompt", "")) + msgs
                sft = {}
                # With `trainable` on the messages only `customized` can render (the cookbook
                # asserts), so that is the mode that must work.
                customized = any("trainable" in m for m in msgs)
                required = (
                    (TrainOnWhat.CUSTOMIZED,)
                    if customized
                    else (TrainOnWhat.LAST_ASSISTANT_MESSAGE, TrainOnWhat.ALL_ASSISTANT_MESSAGES)
                )
                for mode in TrainOnWhat:
                    try:
                        mi, w = r.build_supervised_example(msgs, train_on_what=mode)
                        sft[mode.value] = {"tokens": mi.to_ints(), "weights": [float(x) for x in w.tolist()]}
                    except Exception as e:  # noqa: BLE001
                        if mode in required:
                            raise
                        sft[mode.value] = {"error": err(e)}
                prompt = r.build_generation_prompt(msgs[:-1]).to_ints()
                row["sft"] = sft
                if "--examples" in sys.argv:
                    # build_supervised_examples: one example per trained turn without the
                    # extension property.
                    examples = {}
                    for mode in (TrainOnWhat.LAST_ASSISTANT_TURN, TrainOnWhat.ALL_ASSISTANT_MESSAGES):
                        try:
                            examples[mode.value] = [
                                {"tokens": mi.to_ints(), "weights": [float(x) for x in w.tolist()]}
                                for mi, w in r.build_supervised_examples(msgs, train_on_what=mode)
                            ]
                        except Exception as e:  # noqa: BLE001
                            examples[mode.value] = {"error": err(e)}
                    row["examples"] = examples
                row["prompt"] = prompt
                try:
                    row["prefill_prompt"] = r.build_generation_prompt(msgs[:-1], prefill="Sure, ").to_ints()
                except Exception as e:  # noqa: BLE001
                    row["prefill_prompt"] = {"error": err(e)}
                full = sft[required[0].value]["tokens"]
                if full[: len(prompt)] == prompt and not customized:
                    row["completion"] = full[len(prompt) :]
                    m, t = r.parse_response(row["completion"])
                    row["parsed"] = {"message": message_to_jsonable(m), "termination": t.value}
            except Exception as e:  # noqa: BLE001
                for k in ("sft", "prompt", "completion", "parsed", "prefill_prompt", "examples"):
                    row.pop(k, None)
                row["error"] = err(e)
                if "-v" in sys.argv:
                    traceback.print_exc()
            print(json.dumps(row, ensure_ascii=False))


if __name__ == "__main__":
    main()
