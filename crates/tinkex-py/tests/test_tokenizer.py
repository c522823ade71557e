"""The Python package against the parity oracle (what transformers 4.57.6 produced) and its
error and threading contract. Run: ``pytest crates/tinkex-py/tests`` with the wheel installed."""

import concurrent.futures
import doctest
import json
import pathlib
import threading

import pytest
import zstandard

import tinkex

PARITY = pathlib.Path(__file__).resolve().parents[2] / "tinkex" / "tests" / "data" / "parity"

# (oracle file, a model name that resolves to that bundled tokenizer)
LINEUP = [
    ("gpt2", "openai-community/gpt2"),
    ("qwen3", "Qwen/Qwen3-8B"),
    ("llama3_1", "meta-llama/Llama-3.1-8B"),
    ("deepseek_v3", "deepseek-ai/DeepSeek-V3"),
    ("deepseek_v3_1", "deepseek-ai/DeepSeek-V3.1"),
    ("gpt_oss", "openai/gpt-oss-20b"),
    # Kimi (tiktoken format), bundled at the revisions its models are pinned at.
    ("kimi_k2", "moonshotai/Kimi-K2-Thinking"),
    ("kimi_k25", "moonshotai/Kimi-K2.6"),
]


def cases(name):
    raw = zstandard.ZstdDecompressor().stream_reader(open(PARITY / f"{name}.jsonl.zst", "rb")).read()
    lines = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
    return [c for c in lines if "meta" not in c]


@pytest.mark.parametrize("name,model", LINEUP)
def test_encode_and_decode_equal_the_parity_oracle(name, model):
    tok = tinkex.get_tokenizer(model)
    cs = cases(name)
    assert len(cs) > 50
    for c in cs:
        assert tok.encode(c["text"], add_special_tokens=False) == c["ids"], c["text"][:80]
        assert tok.encode(c["text"]) == c["ids_default"], c["text"][:80]
        assert tok.decode(c["ids_default"]) == c["decoded"], c["text"][:80]
        assert tok.decode(c["ids_default"], skip_special_tokens=True) == c["decoded_skip"]
        assert tok.count(c["text"]) == len(c["ids"])
    texts = [c["text"] for c in cs]
    assert tok.encode_batch(texts, add_special_tokens=False) == [c["ids"] for c in cs]
    assert tok.decode_batch([c["ids_default"] for c in cs]) == [c["decoded"] for c in cs]


def test_one_instance_per_tokenizer_and_names_resolve_without_loading():
    a = tinkex.get_tokenizer("Qwen/Qwen3-8B")
    b = tinkex.get_tokenizer("Qwen/Qwen3-8B:peft:1")
    assert a.encode("same") == b.encode("same")
    assert a.vocab_size == b.vocab_size > 150_000
    assert tinkex.get_tokenizer_id("meta-llama/Llama-3.1-8B") == (
        "thinkingmachineslabinc/meta-llama-3-instruct-tokenizer"
    )
    assert "Tokenizer" in repr(a)


def test_vocabulary_lookups():
    tok = tinkex.get_tokenizer("meta-llama/Llama-3.1-8B")
    bos = tok.encode("")[0]
    assert tok.is_special(bos)
    assert tok.token_to_id(tok.id_to_token(bos)) == bos
    assert tok.id_to_token(tok.vocab_size + 5) is None
    assert tok.token_to_id("no such token, surely") is None


def test_errors_are_typed_and_say_what_happened():
    tok = tinkex.get_tokenizer("openai/gpt-oss-20b")
    with pytest.raises(tinkex.TinkexValueError) as e:
        tok.decode([tok.vocab_size + 10])
    assert isinstance(e.value, ValueError) and isinstance(e.value, tinkex.TinkexError)
    assert str(tok.vocab_size + 10) in str(e.value)
    # Offline with an empty cache: a model that is not bundled cannot be had.
    with pytest.raises(tinkex.TinkexError) as e:
        tinkex.get_tokenizer("no-such-org/no-such-model-anywhere")
    assert isinstance(e.value, (LookupError, OSError)), type(e.value)
    assert str(e.value)
    # Wrong types are Python's own TypeError, before anything reaches Rust.
    with pytest.raises(TypeError):
        tok.encode(42)
    # A number that is no token id is bad input, like an id past the vocabulary.
    with pytest.raises(tinkex.TinkexValueError):
        tok.decode([-1])


def test_threads_share_a_tokenizer_and_get_the_same_ids():
    tok = tinkex.get_tokenizer("deepseek-ai/DeepSeek-V3.1")
    texts = [c["text"] for c in cases("deepseek_v3_1")]
    want = [tok.encode(t) for t in texts]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        got = list(pool.map(tok.encode, texts))
    assert got == want


def test_the_package_docstring_example_runs():
    failures, tried = doctest.testmod(tinkex, verbose=False)
    assert tried > 0 and failures == 0


def test_encoding_releases_the_gil():
    tok = tinkex.get_tokenizer("meta-llama/Llama-3.1-8B")
    text = "hello world " * 500_000
    tok.encode(text)  # warm: what is timed below is encoding only
    ticks = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks[0] += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    try:
        before = ticks[0]
        tok.encode(text)
        during = ticks[0] - before
    finally:
        stop.set()
        spinner.join()
    # Holding the GIL for the whole call would leave the spinner (almost) no turn.
    assert during > 1000, during
