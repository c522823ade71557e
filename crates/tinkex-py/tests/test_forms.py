"""The other shapes data comes in and goes out: numpy arrays, JSONL text, Tinker datums."""

import json

import pytest

import tinkex
from test_renderers import MODELS, ROWS

np = pytest.importorskip("numpy")

TEXT = "Hello world, ünïcödé and 数字 1234567"


def qwen3_rows(mode="last_assistant_message"):
    rows = [r for r in ROWS if r["renderer"] == "qwen3" and "error" not in r and "tools" not in r["input"]]
    assert len(rows) > 10
    return rows


def test_numpy_out_has_the_same_values_and_the_documented_dtypes():
    tok = tinkex.get_tokenizer("Qwen/Qwen3-8B")
    ids = tok.encode(TEXT)
    arr = tok.encode(TEXT, as_numpy=True)
    assert isinstance(arr, np.ndarray) and arr.dtype == np.int64 and arr.tolist() == ids
    arr[0] = 7  # writable: the caller owns it
    batch = tok.encode_batch([TEXT, "", "x"], as_numpy=True)
    assert [a.tolist() for a in batch] == tok.encode_batch([TEXT, "", "x"])
    assert batch[1].shape == (0,)

    r = tinkex.get_renderer("qwen3", tok)
    row = qwen3_rows()[0]
    msgs = row["input"]["messages"]
    t, w = r.build_supervised_example(msgs)
    ta, wa = r.build_supervised_example(msgs, as_numpy=True)
    assert ta.dtype == np.int64 and wa.dtype == np.float32
    assert ta.tolist() == t and wa.tolist() == w == row["sft"]["last_assistant_message"]["weights"]
    p = r.build_generation_prompt(msgs[:1], as_numpy=True)
    assert p.tolist() == r.build_generation_prompt(msgs[:1])
    many = r.build_supervised_examples(msgs, as_numpy=True)
    assert [(a.tolist(), b.tolist()) for a, b in many] == r.build_supervised_examples(msgs)


def test_numpy_in_decodes_and_parses_as_lists_do():
    tok = tinkex.get_tokenizer("meta-llama/Llama-3.1-8B")
    ids = tok.encode(TEXT)
    for arr in (np.array(ids), np.array(ids, dtype=np.uint32), np.array(ids, dtype=np.int32)):
        assert tok.decode(arr) == tok.decode(ids)
        assert tok.decode(arr, skip_special_tokens=True) == tok.decode(ids, skip_special_tokens=True)
    assert tok.decode(tuple(ids)) == tok.decode(iter(ids)) == tok.decode(ids)
    square = np.array([ids[:4], ids[4:8]])
    assert tok.decode_batch(square) == tok.decode_batch([ids[:4], ids[4:8]])
    assert tok.decode(np.array([], dtype=np.int64)) == ""
    r = tinkex.get_renderer("llama3", tok)
    reply = r.build_supervised_example(
        [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]
    )[0][-4:]
    assert r.parse_response(np.array(reply)) == r.parse_response(reply)


@pytest.mark.parametrize("bad", [[-1], [2**32], [1.5], ["7"], "hello", [None], 5, np.array([-3])])
def test_bad_ids_are_value_errors_naming_the_id(bad):
    tok = tinkex.get_tokenizer("Qwen/Qwen3-8B")
    with pytest.raises(tinkex.TinkexValueError) as e:
        tok.decode(bad)
    assert "token id" in str(e.value)
    with pytest.raises(tinkex.TinkexValueError):
        tok.decode_batch([[1, 2], bad] if not isinstance(bad, (str, int)) else bad)


def test_conversations_as_jsonl_text_and_numpy_batches():
    rows = qwen3_rows()
    want = [r["sft"]["last_assistant_message"] for r in rows]
    lines = [json.dumps(r["input"]) for r in rows]
    got = tinkex.render_batch("qwen3", "Qwen/Qwen3-8B", lines)
    assert got["tokens"] == [w["tokens"] for w in want]
    assert got["weights"] == [w["weights"] for w in want]
    # What a Ray Data numpy batch of a text column is.
    assert tinkex.render_batch("qwen3", "Qwen/Qwen3-8B", np.array(lines, dtype=object)) == got
    assert tinkex.render_batch("qwen3", "Qwen/Qwen3-8B", np.array(lines)) == got
    # Messages whose lists are numpy arrays (pandas / numpy batches of nested columns).
    arrays = [{"messages": np.array(r["input"]["messages"], dtype=object)} for r in rows]
    assert tinkex.render_batch("qwen3", "Qwen/Qwen3-8B", arrays) == got
    cols = tinkex.render_batch("qwen3", "Qwen/Qwen3-8B", lines, as_numpy=True)
    assert [a.tolist() for a in cols["tokens"]] == got["tokens"]
    assert [a.dtype for a in cols["weights"]] == [np.float32] * len(rows)
    assert tinkex.render_batch("qwen3", "Qwen/Qwen3-8B", lines, train_on="all_assistant_messages") == {
        "tokens": [r["sft"]["all_assistant_messages"]["tokens"] for r in rows],
        "weights": [r["sft"]["all_assistant_messages"]["weights"] for r in rows],
    }


def datum_from(tokens, weights, max_length=None, reduction="none"):
    """The cookbook's datum_from_model_input_weights, for one text chunk, written out."""
    if max_length is not None:
        tokens, weights = tokens[:max_length], weights[:max_length]
    w = np.array(weights[1:], dtype=np.float32)
    if reduction == "mean" and w.sum() > 0:
        w = w / w.sum()
    n = len(tokens) - 1
    return {
        "model_input": tokens[:-1],
        "loss_fn_inputs": {
            "target_tokens": {"data": tokens[1:], "dtype": "int64", "shape": [n]},
            "weights": {"data": w.tolist(), "dtype": "float32", "shape": [n]},
        },
    }


@pytest.mark.parametrize("max_length,reduction", [(None, "none"), (None, "mean"), (64, "none"), (48, "mean")])
def test_datum_form_is_the_shifted_truncated_example(max_length, reduction):
    rows = [r for r in ROWS if r["renderer"] == "llama3" and "error" not in r]
    inputs = [r["input"] for r in rows]
    cols = tinkex.render_batch("llama3", MODELS[rows[0]["fixture"]], inputs)
    got = tinkex.render_batch(
        "llama3", MODELS[rows[0]["fixture"]], inputs, form="datum", max_length=max_length, reduction=reduction
    )
    assert list(got) == ["datum"] and len(got["datum"]) == len(rows)
    for d, t, w in zip(got["datum"], cols["tokens"], cols["weights"]):
        want = datum_from(t, w, max_length, reduction)
        # The renderer's chunks (one per rendered piece) are kept, cut at the end.
        chunks = d["model_input"]["chunks"]
        assert {c["type"] for c in chunks} == {"encoded_text"} and all(c["tokens"] for c in chunks)
        assert [t for c in chunks for t in c["tokens"]] == want["model_input"]
        assert d["loss_fn_inputs"]["target_tokens"] == want["loss_fn_inputs"]["target_tokens"]
        assert d["loss_fn_inputs"]["weights"]["shape"] == want["loss_fn_inputs"]["weights"]["shape"]
        assert np.allclose(d["loss_fn_inputs"]["weights"]["data"], want["loss_fn_inputs"]["weights"]["data"], rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"form": "rows"},
        {"form": "datum", "max_length": 1},
        {"form": "datum", "reduction": "sum"},
        {"form": "datum", "as_numpy": True},
        {"max_length": 10},
        {"train_on_what": "all_messages", "train_on": "all_tokens"},
        {"train_on": "everything"},
    ],
)
def test_render_batch_refuses_inconsistent_arguments(kwargs):
    with pytest.raises(tinkex.TinkexValueError):
        tinkex.render_batch("qwen3", "Qwen/Qwen3-8B", [[{"role": "user", "content": "x"}]], **kwargs)
