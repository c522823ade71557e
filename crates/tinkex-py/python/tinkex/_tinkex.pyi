from typing import Any, Iterable, Literal, Optional, Sequence, Union

Message = dict[str, Any]
"""A message as tinker-cookbook's JSON: ``{"role": ..., "content": str | [parts], ...}``."""

__version__: str

class Tokenizer:
    """A tokenizer; get one with :func:`get_tokenizer`. Thread-safe; methods release the GIL."""

    @property
    def vocab_size(self) -> int: ...
    @property
    def name(self) -> str: ...
    def encode(self, text: str, add_special_tokens: bool = True, *, as_numpy: bool = False) -> Any:
        """The ids of ``text``: a ``list[int]``, or with ``as_numpy`` a numpy ``int64`` array.

        >>> get_tokenizer("meta-llama/Llama-3.1-8B").encode("Hello")
        [128000, 9906]
        """
    def encode_batch(
        self, texts: Sequence[str], add_special_tokens: bool = True, *, as_numpy: bool = False
    ) -> list[Any]:
        """``encode`` of each text, on every core."""
    def decode(self, ids: Iterable[int], skip_special_tokens: bool = False) -> str:
        """The text of ``ids`` (a list, any iterable of ints, or a numpy array); raises
        ``TinkexValueError`` for an id past the vocabulary or a value that is no id."""
    def decode_batch(self, batch: Iterable[Iterable[int]], skip_special_tokens: bool = False) -> list[str]: ...
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
        self,
        messages: list[Message],
        role: str = "assistant",
        prefill: Optional[str] = None,
        *,
        as_numpy: bool = False,
    ) -> Any:
        """The prompt's ids: a ``list[int]`` (numpy ``int64`` array with ``as_numpy``)."""
    def build_supervised_example(
        self, messages: list[Message], train_on_what: str = "last_assistant_message", *, as_numpy: bool = False
    ) -> tuple[Any, Any]:
        """Tokens and one loss weight per token: ``(list[int], list[float])``, or numpy
        ``int64`` / ``float32`` arrays with ``as_numpy``. ``train_on_what``: the cookbook's
        ``TrainOnWhat`` names (``"last_assistant_message"``, ``"all_assistant_messages"``,
        ``"all_messages"``, ``"all_tokens"``, ``"all_user_and_system_messages"``,
        ``"customized"``)."""
    def build_supervised_examples(
        self, messages: list[Message], train_on_what: str = "last_assistant_turn", *, as_numpy: bool = False
    ) -> list[tuple[Any, Any]]:
        """One example per trained turn where the format lacks the extension property."""
    def get_stop_sequences(self) -> Union[list[int], list[str]]: ...
    def parse_response(self, tokens: Iterable[int]) -> tuple[Message, str]:
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

def renderer_names() -> list[str]:
    """Every renderer name :func:`get_renderer` knows, sorted."""

Conversation = Union[list[Message], dict[str, Any], str]
"""A list of message dicts, a dict with ``messages`` (and ``tools``, ``system_prompt``), or
either as JSON text (a JSONL line)."""

def render_batch(
    renderer_name: str,
    model: str,
    conversations: Iterable[Conversation],
    train_on_what: str = "last_assistant_message",
    current_date: Optional[str] = None,
    *,
    form: Literal["columns", "datum"] = "columns",
    max_length: Optional[int] = None,
    reduction: Literal["none", "mean"] = "none",
    as_numpy: bool = False,
    train_on: Optional[str] = None,
) -> dict[str, list[Any]]:
    """Supervised examples of many conversations on every core, as columns
    ``{"tokens": [[int]], "weights": [[float]]}`` (a Ray Data ``map_batches`` shape; numpy
    ``int64`` / ``float32`` arrays with ``as_numpy``), or with ``form="datum"``
    ``{"datum": [dict]}``: each the Tinker API's ``Datum`` (cookbook's
    ``datum_from_model_input_weights``: truncated to ``max_length``, shifted, ``reduction="mean"``
    divides the weights by their sum). ``train_on`` is another name for ``train_on_what``.
    The tokenizer is loaded once per process; a conversation that cannot be rendered fails the
    call, naming its index."""
