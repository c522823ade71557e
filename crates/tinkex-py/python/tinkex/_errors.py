"""The exceptions tinkex raises. Each is a ``TinkexError``; most are also the built-in
exception Python code already catches for that kind of failure."""


class TinkexError(Exception):
    """Base class of every error tinkex raises (the message is the Rust library's)."""


class TinkexValueError(TinkexError, ValueError):
    """Bad input: an id past the vocabulary, a malformed file, an unsupported tokenizer."""


class TinkexLookupError(TinkexError, LookupError):
    """Something named does not exist: a model or repo, a revision, a renderer."""


class TinkexOSError(TinkexError, OSError):
    """I/O or network: a file that cannot be read, offline without a cached copy, HTTP."""
