from typing import Optional

__version__: str

class Tokenizer:
    """A tokenizer; get one with :func:`get_tokenizer`. Thread-safe; methods release the GIL."""

    @property
    def vocab_size(self) -> int: ...
    @property
    def name(self) -> str: ...
    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        """The ids of ``text``.

        >>> get_tokenizer("meta-llama/Llama-3.1-8B").encode("Hello")
        [128000, 9906]
        """
    def encode_batch(self, texts: list[str], add_special_tokens: bool = True) -> list[list[int]]:
        """``encode`` of each text, on every core."""
    def decode(self, ids: list[int], skip_special_tokens: bool = False) -> str:
        """The text of ``ids``; raises ``TinkexValueError`` for an id past the vocabulary."""
    def decode_batch(self, batch: list[list[int]], skip_special_tokens: bool = False) -> list[str]: ...
    def count(self, text: str) -> int:
        """``len(encode(text, add_special_tokens=False))``, without building the list."""
    def id_to_token(self, id: int) -> Optional[str]: ...
    def token_to_id(self, token: str) -> Optional[int]: ...
    def is_special(self, id: int) -> bool: ...

def get_tokenizer(name: str) -> Tokenizer:
    """The tokenizer of a Tinker model name, tokenizer repo id or local directory, loaded once
    per process. Raises ``TinkexLookupError`` for an unknown name, ``TinkexOSError`` when it
    cannot be fetched."""

def get_tokenizer_id(model: str) -> str:
    """The tokenizer repo id (or path) that ``model`` uses, without loading it."""
