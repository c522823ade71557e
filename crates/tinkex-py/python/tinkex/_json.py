"""The JSON text that carries the cookbook's message dicts and tool specs into the Rust core."""

import json


def _default(value):
    # numpy arrays and scalars (what a Ray Data or pandas batch holds) as the lists and numbers
    # they stand for.
    tolist = getattr(value, "tolist", None)
    if tolist is None:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
    return tolist()


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=_default)
