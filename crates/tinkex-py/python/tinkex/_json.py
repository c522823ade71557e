"""The JSON text that carries the cookbook's message dicts and tool specs into the Rust core."""

import json


def _default(value):
    # pydantic models (the cookbook's `ToolCall` in a message's `tool_calls`) as their JSON form.
    model_dump = getattr(value, "model_dump", None)
    if model_dump is not None:
        return model_dump(mode="json")
    # numpy arrays and scalars (what a Ray Data or pandas batch holds) as the lists and numbers
    # they stand for.
    tolist = getattr(value, "tolist", None)
    if tolist is not None:
        return tolist()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, default=_default)
