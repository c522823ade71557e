"""Tokenizer.decode_stream through the package: the pieces join to decode() of all the ids."""

import pytest

import tinkex
from test_tokenizer import LINEUP, cases


@pytest.mark.parametrize("name,model", LINEUP)
@pytest.mark.parametrize("skip", [False, True])
def test_stream_pieces_join_to_decode(name, model, skip):
    tok = tinkex.get_tokenizer(model)
    for c in cases(name)[:60]:
        ids = c["ids_default"]
        s = tok.decode_stream(skip_special_tokens=skip)
        pieces = [s.step(i) for i in ids]
        text = "".join(p for p in pieces if p is not None) + s.flush()
        assert text == tok.decode(ids, skip_special_tokens=skip), c["text"][:80]
        assert text == (c["decoded_skip"] if skip else c["decoded"])


def test_a_stream_outlives_its_tokenizer_handle_and_reports_bad_ids():
    s = tinkex.get_tokenizer("Qwen/Qwen3-8B").decode_stream()
    # Its own reference keeps the tokenizer alive.
    ids = tinkex.get_tokenizer("Qwen/Qwen3-8B").encode("héllo wörld", add_special_tokens=False)
    assert "".join(filter(None, map(s.step, ids))) + s.flush() == "héllo wörld"
    with pytest.raises(tinkex.TinkexValueError):
        s.step(10**9)
