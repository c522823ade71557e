"""tinkex: tokenize text exactly as the Tinker models' tokenizers do (the same ids as
``transformers`` / ``tiktoken``), from a Rust core.

>>> import tinkex
>>> tok = tinkex.get_tokenizer("Qwen/Qwen3-8B")
>>> ids = tok.encode("Hello world", add_special_tokens=False)
>>> tok.decode(ids)
'Hello world'
"""

from ._errors import TinkexError, TinkexLookupError, TinkexOSError, TinkexValueError
from ._tinkex import Tokenizer, __version__, get_tokenizer, get_tokenizer_id

__all__ = [
    "Tokenizer",
    "TinkexError",
    "TinkexLookupError",
    "TinkexOSError",
    "TinkexValueError",
    "__version__",
    "get_tokenizer",
    "get_tokenizer_id",
]
