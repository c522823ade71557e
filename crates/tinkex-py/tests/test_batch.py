"""render_batch: many conversations in one call, as columns, equal to the cookbook's output."""

import pytest

import tinkex
from test_renderers import MODELS, ROWS


@pytest.mark.parametrize("renderer", ["qwen3", "llama3", "deepseekv3_thinking", "gpt_oss_medium_reasoning"])
@pytest.mark.parametrize("mode", ["last_assistant_message", "all_assistant_messages"])
def test_render_batch_equals_the_cookbook(renderer, mode):
    rows = [r for r in ROWS if r["renderer"] == renderer and "error" not in r]
    assert len(rows) > 10
    model = MODELS[rows[0]["fixture"]]
    # Records with tools render the tool prefix first, as the oracle did.
    got = tinkex.render_batch(renderer, model, [r["input"] for r in rows], mode, current_date="2026-01-01")
    assert got["tokens"] == [r["sft"][mode]["tokens"] for r in rows]
    assert got["weights"] == [r["sft"][mode]["weights"] for r in rows]
    # A bare list of messages is the same conversation as a record without tools.
    plain = [r["input"] for r in rows if "tools" not in r["input"]]
    a = tinkex.render_batch(renderer, model, plain, mode, current_date="2026-01-01")
    b = tinkex.render_batch(renderer, model, [p["messages"] for p in plain], mode, current_date="2026-01-01")
    assert a == b


def test_render_batch_names_the_conversation_it_cannot_render():
    refused = next(r for r in ROWS if "error" in r)
    name, model = refused["renderer"], MODELS[refused["fixture"]]
    fine = next(r for r in ROWS if r["renderer"] == name and "error" not in r)
    with pytest.raises(tinkex.TinkexError) as e:
        tinkex.render_batch(name, model, [fine["input"], refused["input"]], current_date="2026-01-01")
    assert "conversation 1" in str(e.value)
    with pytest.raises(ValueError) as e:
        tinkex.render_batch("qwen3", "Qwen/Qwen3-8B", [fine["input"], "not a conversation"])
    assert "conversation 1" in str(e.value)
    with pytest.raises(tinkex.TinkexLookupError):
        tinkex.render_batch("qwen9000", "Qwen/Qwen3-8B", [fine["input"]])
    assert tinkex.render_batch("qwen3", "Qwen/Qwen3-8B", []) == {"tokens": [], "weights": []}
