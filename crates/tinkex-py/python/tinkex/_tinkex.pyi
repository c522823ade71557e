from typing import Any, Optional, Union

Message = dict[str, Any]
"""A message as tinker-cookbook's JSON: ``{"role": ..., "content": str | [parts], ...}``."""

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
    def decode_stream(self, skip_special_tokens: bool = False) -> "DecodeStream":
        """An incremental decoder: ``step(id)`` returns text as soon as it is complete; the
        pieces and ``flush()`` join to exactly ``decode`` of all the ids."""
    def count(self, text: str) -> int:
        """``len(encode(text, add_special_tokens=False))``, without building the list."""
    def id_to_token(self, id: int) -> Optional[str]: ...
    def token_to_id(self, token: str) -> Optional[int]: ...
    def is_special(self, id: int) -> bool: ...

class DecodeStream:
    """One sampled sequence's incremental decoder (``Tokenizer.decode_stream()``)."""

    def step(self, id: int) -> Optional[str]: ...
    def flush(self) -> str: ...

def get_tokenizer(name: str) -> Tokenizer:
    """The tokenizer of a Tinker model name, tokenizer repo id or local directory, loaded once
    per process. Raises ``TinkexLookupError`` for an unknown name, ``TinkexOSError`` when it
    cannot be fetched."""

def get_tokenizer_id(model: str) -> str:
    """The tokenizer repo id (or path) that ``model`` uses, without loading it."""

class Renderer:
    """A chat format (tinker-cookbook's renderers); get one with :func:`get_renderer`."""

    @property
    def name(self) -> str: ...
    @property
    def has_extension_property(self) -> bool: ...
    def build_generation_prompt(
        self, messages: list[Message], role: str = "assistant", prefill: Optional[str] = None
    ) -> list[int]: ...
    def build_supervised_example(
        self, messages: list[Message], train_on_what: str = "last_assistant_message"
    ) -> tuple[list[int], list[float]]:
        """Tokens and one loss weight per token. ``train_on_what``: the cookbook's
        ``TrainOnWhat`` names (``"last_assistant_message"``, ``"all_assistant_messages"``,
        ``"all_messages"``, ``"all_tokens"``, ``"all_user_and_system_messages"``,
        ``"customized"``)."""
    def build_supervised_examples(
        self, messages: list[Message], train_on_what: str = "last_assistant_message"
    ) -> list[tuple[list[int], list[float]]]: ...
    def get_stop_sequences(self) -> Union[list[int], list[str]]: ...
    def parse_response(self, tokens: list[int]) -> tuple[Message, str]:
        """The reply as a message dict and how it ended: ``"stop_sequence"``, ``"eos"`` or
        ``"malformed"``."""
    def create_conversation_prefix_with_tools(
        self, tools: list[dict[str, Any]], system_prompt: str = ""
    ) -> list[Message]: ...

def get_renderer(name: str, tokenizer: Tokenizer, current_date: Optional[str] = None) -> Renderer:
    """The renderer called ``name`` (``TinkexLookupError`` names the known ones);
    ``current_date`` (``YYYY-MM-DD``) is what gpt-oss's system prompt shows."""

def recommended_renderers(model: str) -> list[str]:
    """The renderer names tinker-cookbook recommends for ``model``, best first."""

def render_batch(
    renderer_name: str,
    model: str,
    conversations: list[Union[list[Message], dict[str, Any]]],
    train_on_what: str = "last_assistant_message",
    current_date: Optional[str] = None,
) -> dict[str, list[Any]]:
    """Supervised examples of many conversations on every core, as columns
    ``{"tokens": [[int]], "weights": [[float]]}`` (a Ray Data ``map_batches`` shape). Each
    conversation is a list of message dicts or a dict with ``messages`` (and optionally
    ``tools`` and ``system_prompt``). A conversation that cannot be rendered fails the call,
    naming its index."""
