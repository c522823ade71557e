#!/usr/bin/env python3
"""tinker-cookbook 0.6.1's side of the `chat sft` benchmark: import, load the tokenizer, render
every conversation on stdin with `build_supervised_example` (last_assistant_message), write
`{"tokens", "weights"}` lines as `tinkex chat sft` does — timed by scripts/chat-bench.sh as a
whole process, like the CLI.

    python scripts/chat_bench_cookbook.py TOKENIZER RENDERER [--date YYYY-MM-DD] [--filter] < in.jsonl > out.jsonl

With --filter it writes instead the input lines the renderer accepts (llama3 refuses thinking
parts and tools, for instance), to make an input every run can render whole.

TOKENIZER: a tokenizer directory (the lineup's fixtures; a Kimi one through chat_oracle.py's
tiktoken shim) or `thinkingmachines/Inkling`.
"""

import json
import os
import sys


def main() -> None:
    from tinker_cookbook import renderers
    from tinker_cookbook.renderers.base import ToolCall, TrainOnWhat

    tok_name, name = sys.argv[1], sys.argv[2]
    if tok_name.startswith("thinkingmachines/"):
        from tinker_cookbook.tokenizer_utils import get_tokenizer

        tok = get_tokenizer(tok_name)
    elif os.path.exists(os.path.join(tok_name, "tiktoken.model")):
        # Kimi: tiktoken directly (chat_oracle.py's shim), a lower bound on the cost of the
        # cookbook's real tokenizer (Moonshot's slow TikTokenTokenizer around the same tiktoken).
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from chat_oracle import KimiTokenizer

        tok = KimiTokenizer(tok_name)
    else:
        import transformers

        tok = transformers.AutoTokenizer.from_pretrained(tok_name)
    r = renderers.get_renderer(name, tok)
    if "--date" in sys.argv and hasattr(r, "current_date"):
        r.current_date = sys.argv[sys.argv.index("--date") + 1]
    out = sys.stdout

    def messages(conv: dict) -> list:
        msgs = []
        for m in conv["messages"]:
            if "tool_calls" in m:
                m = dict(m, tool_calls=[ToolCall.model_validate(tc) for tc in m["tool_calls"]])
            msgs.append(m)
        if "tools" in conv:
            msgs = r.create_conversation_prefix_with_tools(conv["tools"], conv.get("system_prompt", "")) + msgs
        return msgs

    for line in sys.stdin:
        if not line.strip():
            continue
        conv = json.loads(line)
        if "--filter" in sys.argv:
            try:
                r.build_supervised_example(messages(conv), train_on_what=TrainOnWhat.LAST_ASSISTANT_MESSAGE)
                out.write(line if line.endswith("\n") else line + "\n")
            except Exception:  # noqa: BLE001
                pass
            continue
        msgs = messages(conv)
        mi, w = r.build_supervised_example(msgs, train_on_what=TrainOnWhat.LAST_ASSISTANT_MESSAGE)
        out.write(json.dumps({"tokens": mi.to_ints(), "weights": [float(x) for x in w.tolist()]}, separators=(",", ":")))
        out.write("\n")


if __name__ == "__main__":
    main()
