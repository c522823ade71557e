"""No input makes the Rust core panic into Python: property tests (hypothesis) that throw
arbitrary text, ids, JSON-like values and message-shaped dicts at every entry point. The only
exceptions allowed are tinkex's own (``TinkexError``: bad input, unknown names) and Python's
``TypeError`` / ``UnicodeEncodeError`` for arguments of the wrong type; a panic would surface as
``pyo3_runtime.PanicException`` (a ``BaseException``), anything else as itself — both fail."""

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import tinkex  # noqa: E402
from conftest import FIXTURE_DIRS  # noqa: E402

ALLOWED = (tinkex.TinkexError, TypeError, UnicodeEncodeError)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Each renderer with a model whose bundled tokenizer it renders with (today's families: the
# test-only fixture directory).
RENDERERS = {
    "role_colon": "Qwen/Qwen3-8B",
    "llama3": "meta-llama/Llama-3.1-8B",
    "qwen3": "Qwen/Qwen3-8B",
    "qwen3_disable_thinking": "Qwen/Qwen3-8B",
    "qwen3_instruct": "Qwen/Qwen3-8B",
    "deepseekv3": "deepseek-ai/DeepSeek-V3.1",
    "deepseekv3_disable_thinking": "deepseek-ai/DeepSeek-V3.1",
    "deepseekv3_thinking": "deepseek-ai/DeepSeek-V3.1",
    "gpt_oss_no_sysprompt": "openai/gpt-oss-20b",
    "gpt_oss_low_reasoning": "openai/gpt-oss-20b",
    "gpt_oss_medium_reasoning": "openai/gpt-oss-20b",
    "gpt_oss_high_reasoning": "openai/gpt-oss-20b",
    "tml_v0": "thinkingmachines/Inkling",
    **{n: FIXTURE_DIRS["qwen3_5"] for n in ("qwen3_5", "qwen3_5_disable_thinking", "qwen3_5_preserve_thinking")},
    **{n: FIXTURE_DIRS["qwen3_5"] for n in ("qwen3_8_xhigh_reasoning", "qwen3_8_medium_reasoning", "qwen3_8_low_reasoning", "qwen3_8_disable_thinking")},
    **{
        n: FIXTURE_DIRS["deepseek_v4_1"]
        for n in ("deepseekv4_1", "deepseekv4_1_low_reasoning", "deepseekv4_1_max_reasoning", "deepseekv4_1_disable_thinking", "deepseekv4_1_preserve_thinking")
    },
    "kimi_k2": "moonshotai/Kimi-K2-Thinking",
    **{n: "moonshotai/Kimi-K2.5" for n in ("kimi_k25", "kimi_k25_disable_thinking")},
    **{n: "moonshotai/Kimi-K2.6" for n in ("kimi_k26", "kimi_k26_disable_thinking", "kimi_k26_preserve_thinking")},
}
TRAIN_ON = [
    "last_assistant_message",
    "all_assistant_messages",
    "all_messages",
    "all_tokens",
    "all_user_and_system_messages",
    "customized",
    "no_such_mode",
]


def call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except ALLOWED:
        return None


text = st.text(alphabet=st.characters(codec="utf-8"), max_size=200) | st.sampled_from(
    ["<|im_end|>", "<think>", "</think>", "<|eot_id|>", "<|start|>", "<|channel|>", "\u2028", "\ud7ff", "🙂" * 3]
)
json_like = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
part = st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "thinking", "image", "tool_call", "bogus"])},
    optional={"text": text, "thinking": text, "image": text, "extra": json_like},
)
tool_call = st.fixed_dictionaries(
    {"type": st.just("function"), "function": st.fixed_dictionaries({"name": text, "arguments": text | json_like})},
    optional={"id": text | st.none()},
)
message = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "user", "assistant", "tool", "developer", "ipython", ""]) | text},
    optional={
        "content": text | st.lists(part, max_size=4) | json_like,
        "tool_calls": st.lists(tool_call, max_size=3) | json_like,
        "thinking": text,
        "trainable": st.booleans() | json_like,
        "name": text,
        "tool_call_id": text,
    },
)
messages = st.lists(message, max_size=5) | json_like
tool_spec = st.fixed_dictionaries(
    {"name": text, "description": text, "parameters": json_like}
) | json_like


def test_every_renderer_is_covered():
    assert sorted(RENDERERS) == tinkex.renderer_names()


@pytest.fixture(scope="module")
def renderers():
    return {name: tinkex.get_renderer(name, tinkex.get_tokenizer(model), current_date="2026-01-01") for name, model in RENDERERS.items()}


@SETTINGS
@given(s=text, special=st.booleans())
def test_encode_and_decode_any_text(s, special):
    for model in ("Qwen/Qwen3-8B", "openai/gpt-oss-20b", "thinkingmachines/Inkling", "moonshotai/Kimi-K2.6"):
        tok = tinkex.get_tokenizer(model)
        ids = tok.encode(s, add_special_tokens=special)
        assert tok.count(s) == len(tok.encode(s, add_special_tokens=False))
        call(tok.decode, ids)
        stream = tok.decode_stream()
        pieces = [call(stream.step, i) for i in ids]
        call(stream.flush)
        assert pieces is not None


@SETTINGS
@given(ids=st.lists(st.integers(-5, 300_000) | st.sampled_from([2**32 - 1, 2**32, 2**64]), max_size=30) | json_like, skip=st.booleans())
def test_decode_any_ids(ids, skip):
    for model in ("meta-llama/Llama-3.1-8B", "deepseek-ai/DeepSeek-V3.1", "thinkingmachines/Inkling"):
        tok = tinkex.get_tokenizer(model)
        call(tok.decode, ids, skip)
        call(tok.decode_batch, [ids, ids], skip)
        stream = tok.decode_stream(skip)
        if isinstance(ids, list):
            for i in ids:
                call(stream.step, i)
        call(stream.flush)
        call(tok.id_to_token, ids[0] if isinstance(ids, list) and ids else 0)


@SETTINGS
@given(msgs=messages, train_on=st.sampled_from(TRAIN_ON), role=st.sampled_from(["assistant", "user", "tool", "nope"]), prefill=st.none() | text)
def test_render_any_messages(renderers, msgs, train_on, role, prefill):
    for r in renderers.values():
        call(r.build_supervised_example, msgs, train_on)
        call(r.build_supervised_examples, msgs, train_on)
        call(r.build_generation_prompt, msgs, role, prefill)


@SETTINGS
@given(tokens=st.lists(st.integers(0, 201_000), max_size=40), data=st.data())
def test_parse_any_reply(renderers, tokens, data):
    for r in renderers.values():
        # Real tokens of the format too: a prompt's tail, so that headers and specials appear.
        prompt = call(r.build_generation_prompt, [{"role": "user", "content": "hi"}]) or []
        cut = data.draw(st.integers(0, len(prompt)))
        call(r.parse_response, prompt[cut:] + tokens)
        call(r.parse_response, tokens)


@SETTINGS
@given(tools=st.lists(tool_spec, max_size=3) | json_like, system=text)
def test_tool_prefix_of_any_tools(renderers, tools, system):
    for r in renderers.values():
        call(r.create_conversation_prefix_with_tools, tools, system)


@SETTINGS
@given(convs=st.lists(messages | st.fixed_dictionaries({"messages": messages}, optional={"tools": st.lists(tool_spec, max_size=2), "system_prompt": text}) | text, max_size=6),
       form=st.sampled_from(["columns", "datum"]), max_length=st.none() | st.integers(0, 50))
def test_render_batch_of_anything(convs, form, max_length):
    for name in ("qwen3", "gpt_oss_medium_reasoning", "tml_v0"):
        call(tinkex.render_batch, name, RENDERERS[name], convs, form=form, max_length=max_length if form == "datum" else None)
