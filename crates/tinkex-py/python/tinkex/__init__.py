r"""tinkex: tokenize text exactly as the Tinker models' tokenizers do (the same ids as
``transformers`` / ``tiktoken``), from a Rust core.

>>> import tinkex
>>> tok = tinkex.get_tokenizer("Qwen/Qwen3-8B")
>>> ids = tok.encode("Hello world", add_special_tokens=False)
>>> tok.decode(ids)
'Hello world'
>>> renderer = tinkex.get_renderer(tinkex.recommended_renderers("Qwen/Qwen3-8B")[0], tok)
>>> tokens, weights = renderer.build_supervised_example(
...     [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}])
>>> len(tokens) == len(weights), tok.decode([t for t, w in zip(tokens, weights) if w])
(True, '<think>\n\n</think>\n\nHello!<|im_end|>')

Many conversations at once, on every core (a Ray Data ``map_batches`` function's shape); a
conversation may be a JSONL line:

>>> cols = tinkex.render_batch("qwen3", "Qwen/Qwen3-8B",
...     ['[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]'])
>>> cols["tokens"] == [tokens], cols["weights"] == [weights]
(True, True)
"""

from ._errors import TinkexError, TinkexLookupError, TinkexOSError, TinkexValueError
from ._tinkex import (
    DecodeStream,
    Renderer,
    Tokenizer,
    __version__,
    get_renderer,
    get_tokenizer,
    get_tokenizer_id,
    recommended_renderers,
    render_batch,
    renderer_names,
)

__all__ = [
    "DecodeStream",
    "Renderer",
    "Tokenizer",
    "TinkexError",
    "TinkexLookupError",
    "TinkexOSError",
    "TinkexValueError",
    "__version__",
    "get_renderer",
    "get_tokenizer",
    "get_tokenizer_id",
    "recommended_renderers",
    "render_batch",
    "renderer_names",
]
