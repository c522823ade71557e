"""Renderers through the Python package against tinker-cookbook 0.6.1's output
(crates/tinkex/tests/data/chat/render.jsonl.zst and, for today's families and Kimi, render_next.jsonl.zst
and render_kimi.jsonl.zst;
see its PROVENANCE.md): the same pipeline the
Rust data-driven test runs, with the cookbook's message dicts."""

import json
import pathlib

import pytest
import zstandard

import tinkex
from conftest import FIXTURE_DIRS

CHAT = pathlib.Path(__file__).resolve().parents[2] / "tinkex" / "tests" / "data" / "chat"

MODELS = {
    "llama3_1": "meta-llama/Llama-3.1-8B",
    "qwen3": "Qwen/Qwen3-8B",
    "deepseek_v3_1": "deepseek-ai/DeepSeek-V3.1",
    "gpt_oss": "openai/gpt-oss-20b",
    "o200k_base_chat": "thinkingmachines/Inkling",
    "kimi_k2": "moonshotai/Kimi-K2-Thinking",
    "kimi_k25": "moonshotai/Kimi-K2.6",
    **FIXTURE_DIRS,
}


def rows(*files):
    out = []
    for name in files:
        with open(CHAT / name, "rb") as f:
            raw = zstandard.ZstdDecompressor().stream_reader(f).read()
        # split on "\n" only: the conversations hold U+2028 and friends, which splitlines() splits on
        out += [json.loads(line) for line in raw.decode("utf-8").split("\n") if line.strip()]
    return out


ROWS = rows("render.jsonl.zst", "render_next.jsonl.zst", "render_kimi.jsonl.zst")


def pipeline(r, row):
    """What the oracle generator ran, in its order, stopping at the first refusal."""
    inp = row["input"]
    msgs = []
    if "tools" in inp:
        msgs = r.create_conversation_prefix_with_tools(inp["tools"], inp.get("system_prompt") or "")
    msgs = msgs + inp["messages"]
    customized = any("trainable" in m for m in msgs)
    modes = ["customized"] if customized else ["last_assistant_message", "all_assistant_messages"]
    first = None
    for mode in modes:
        tokens, _ = r.build_supervised_example(msgs, mode)
        first = tokens if first is None else first
    prompt = r.build_generation_prompt(msgs[:-1])
    if not customized and first[: len(prompt)] == prompt:
        r.parse_response(first[len(prompt):])
    return msgs


def check_prompt_and_parse(r, row, msgs, bad):
    """The generation prompt of all messages but the last, and the parse of the completion."""
    case = row["case"]
    if r.build_generation_prompt(msgs[:-1]) != row["prompt"]:
        bad.append(f"#{case} prompt differs")
    if "parsed" in row:
        message, termination = r.parse_response(row["completion"])
        if (message, termination) != (row["parsed"]["message"], row["parsed"]["termination"]):
            bad.append(f"#{case} parsed {message!r} {termination}; want {row['parsed']}")


@pytest.mark.parametrize("renderer", sorted({row["renderer"] for row in ROWS}))
def test_renderer_equals_the_cookbook(renderer):
    bad = []
    checked = 0
    for row in (x for x in ROWS if x["renderer"] == renderer):
        tok = tinkex.get_tokenizer(MODELS[row["fixture"]])
        r = tinkex.get_renderer(renderer, tok, current_date="2026-01-01")
        case = row["case"]
        if r.get_stop_sequences() != row["stop"]:
            bad.append(f"#{case} stop {r.get_stop_sequences()} != {row['stop']}")
        try:
            msgs = pipeline(r, row)
        except tinkex.TinkexError as e:
            want = row.get("error")
            if want is None or want.split(": ", 1)[-1] not in str(e):
                bad.append(f"#{case} refused: {e}; cookbook: {want}")
            continue
        if "error" in row:
            bad.append(f"#{case} rendered; the cookbook refused: {row['error']}")
            continue
        for mode, want in row["sft"].items():
            tokens, weights = r.build_supervised_example(msgs, mode)
            if (tokens, weights) != (want["tokens"], want["weights"]):
                bad.append(f"#{case} sft {mode} differs")
        check_prompt_and_parse(r, row, msgs, bad)
        checked += 1
    assert not bad, "\n".join(bad[:10])
    assert checked > 10


def test_names_and_errors():
    tok = tinkex.get_tokenizer("Qwen/Qwen3-8B")
    assert tinkex.recommended_renderers("Qwen/Qwen3-8B")[0] == "qwen3"
    assert tinkex.recommended_renderers("no/such-model") == []
    r = tinkex.get_renderer("qwen3", tok)
    assert r.name == "qwen3" and "qwen3" in repr(r)
    with pytest.raises(tinkex.TinkexLookupError) as e:
        tinkex.get_renderer("qwen9000", tok)
    assert "qwen3" in str(e.value)  # names the ones that exist
    with pytest.raises(ValueError):
        tinkex.get_renderer("gpt_oss_medium_reasoning", tok, current_date="yesterday")
    with pytest.raises(ValueError):
        r.build_supervised_example([{"role": "user", "content": "hi"}], "every_other_token")
    with pytest.raises(ValueError):
        r.build_generation_prompt([{"role": "user"}])  # no content
    with pytest.raises(ValueError):
        r.build_generation_prompt([{"role": "user", "content": "hi"}], role="narrator")


class ToolCallModel:
    """Stands in for the cookbook's pydantic `ToolCall` (what `model_dump(mode="json")` gives)."""

    def __init__(self, dumped):
        self.dumped = dumped

    def model_dump(self, mode="python"):
        assert mode == "json"
        return self.dumped


def test_cookbook_tool_call_objects_and_train_on_what_enums_are_taken():
    import enum

    class TrainOnWhat(str, enum.Enum):  # the cookbook's is a StrEnum
        ALL_ASSISTANT_MESSAGES = "all_assistant_messages"

    row = next(
        r for r in ROWS
        if r["renderer"] == "qwen3" and "error" not in r and any("tool_calls" in m for m in r["input"]["messages"])
    )
    tok = tinkex.get_tokenizer(MODELS[row["fixture"]])
    r = tinkex.get_renderer("qwen3", tok)
    msgs = [
        dict(m, tool_calls=[ToolCallModel(tc) for tc in m["tool_calls"]]) if "tool_calls" in m else m
        for m in row["input"]["messages"]
    ]
    if "tools" in row["input"]:
        msgs = r.create_conversation_prefix_with_tools(row["input"]["tools"], row["input"].get("system_prompt") or "") + msgs
    tokens, weights = r.build_supervised_example(msgs, TrainOnWhat.ALL_ASSISTANT_MESSAGES)
    assert tokens == row["sft"]["all_assistant_messages"]["tokens"]
    assert weights == row["sft"]["all_assistant_messages"]["weights"]


EXTRA = rows("extra.jsonl.zst", "extra_next.jsonl.zst", "next_edge.jsonl.zst", "extra_kimi.jsonl.zst", "kimi_edge.jsonl.zst")


def cookbook_words(error):
    """The cookbook's message without its exception class (`ValueError: ...`)."""
    return error.split(": ", 1)[-1]


@pytest.mark.parametrize("renderer", sorted({row["renderer"] for row in EXTRA}))
def test_renderer_equals_the_cookbook_on_every_train_on_what(renderer):
    """extra.jsonl: 150 conversations (corpus text, multi-call turns, trainable flags, …), every
    TrainOnWhat with the cookbook's refusals, prompts with and without a prefill, parses; for
    today's families and Kimi also extra_next/extra_kimi.jsonl and next_edge/kimi_edge.jsonl, with
    build_supervised_examples."""
    bad, checked = [], 0
    for row in (x for x in EXTRA if x["renderer"] == renderer):
        r = tinkex.get_renderer(renderer, tinkex.get_tokenizer(MODELS[row["fixture"]]), current_date="2026-01-01")
        case = row["case"]
        try:
            msgs = pipeline(r, row)
        except tinkex.TinkexError as e:
            if "error" not in row or cookbook_words(row["error"]) not in str(e):
                bad.append(f"#{case} refused: {e}; cookbook: {row.get('error')}")
            continue
        if "error" in row:
            bad.append(f"#{case} rendered; the cookbook refused: {row['error']}")
            continue
        for mode, want in row["sft"].items():
            try:
                got = r.build_supervised_example(msgs, mode)
            except tinkex.TinkexError as e:
                if "error" not in want or cookbook_words(want["error"]) not in str(e):
                    bad.append(f"#{case} {mode} refused: {e}; cookbook: {want.get('error')}")
                continue
            if got != (want.get("tokens"), want.get("weights")):
                bad.append(f"#{case} sft {mode} differs (cookbook: {want.get('error', 'rendered')})")
        for mode, want in row.get("examples", {}).items():
            try:
                got = r.build_supervised_examples(msgs, mode)
            except tinkex.TinkexError as e:
                if not isinstance(want, dict) or cookbook_words(want["error"]) not in str(e):
                    bad.append(f"#{case} examples {mode} refused: {e}")
                continue
            # A refusal of the cookbook's (a dict) never equals tinkex's examples.
            if got != ([(e["tokens"], e["weights"]) for e in want] if isinstance(want, list) else want):
                bad.append(f"#{case} examples {mode} differ")
        want = row["prefill_prompt"]
        try:
            if r.build_generation_prompt(msgs[:-1], prefill="Sure, ") != want:
                bad.append(f"#{case} prefill prompt differs")
        except tinkex.TinkexError as e:
            if not isinstance(want, dict) or cookbook_words(want["error"]) not in str(e):
                bad.append(f"#{case} prefill prompt refused: {e}")
        check_prompt_and_parse(r, row, msgs, bad)
        checked += 1
    assert not bad, "\n".join(bad[:10])
    assert checked > 10
