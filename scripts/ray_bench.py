#!/usr/bin/env python3
"""Ray Data with tinkex against Ray Data with tinker-cookbook's renderer: the same pipeline
(examples/ray_sft.py's `render_dataset`: JSONL text -> map_batches on N actors -> Parquet), the
same input, rows/s of each, and every output row compared. Needs a venv with tinker-cookbook,
tinkex and ray[data] (scripts/cookbook-venv.sh, then pip install the wheel and ray[data]).

    VENV/bin/python scripts/ray_bench.py FIXTURES_DIR [--rows 20020] [--workers 2] [--renderer qwen3] [--engines tinkex,cookbook]

The input is the visible conversations (crates/tinkex/tests/data/chat/conversations.jsonl.zst)
repeated to --rows. Timed: `render_dataset` alone, after `ray.init` (the cluster's start is the
same for both and not part of a pipeline's throughput).
"""

import argparse
import atexit
import json
import os
import pathlib
import shutil
import sys
import tempfile
import time

import zstandard

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
import ray  # noqa: E402
import ray_sft  # noqa: E402

FIXTURE = {"qwen3": "qwen3", "llama3": "llama3_1", "deepseekv3_thinking": "deepseek_v3_1", "gpt_oss_medium_reasoning": "gpt_oss"}
MODEL = {"qwen3": "Qwen/Qwen3-8B", "llama3": "meta-llama/Llama-3.1-8B", "deepseekv3_thinking": "deepseek-ai/DeepSeek-V3.1", "gpt_oss_medium_reasoning": "openai/gpt-oss-20b"}


class CookbookRender:
    """The cookbook's renderer in the example's place: same input lines, same output columns."""

    def __init__(self, renderer, tokenizer_dir):
        import warnings

        import transformers
        from tinker_cookbook import renderers
        from tinker_cookbook.renderers.base import ToolCall, TrainOnWhat

        warnings.simplefilter("ignore", UserWarning)
        self.r = renderers.get_renderer(renderer, transformers.AutoTokenizer.from_pretrained(tokenizer_dir))
        if hasattr(self.r, "current_date"):
            self.r.current_date = "2026-01-01"
        self.ToolCall, self.mode = ToolCall, TrainOnWhat.LAST_ASSISTANT_MESSAGE

    def __call__(self, batch):
        import pyarrow as pa

        lines = batch.column("text").to_pylist()
        tokens, weights = [], []
        for line in lines:
            conv = json.loads(line)
            if isinstance(conv, list):
                conv = {"messages": conv}
            msgs = [
                dict(m, tool_calls=[self.ToolCall.model_validate(tc) for tc in m["tool_calls"]]) if "tool_calls" in m else m
                for m in conv["messages"]
            ]
            if "tools" in conv:
                msgs = self.r.create_conversation_prefix_with_tools(conv["tools"], conv.get("system_prompt", "")) + msgs
            mi, w = self.r.build_supervised_example(msgs, train_on_what=self.mode)
            tokens.append(mi.to_ints())
            weights.append(w.tolist())
        return pa.table({
            "tokens": pa.array(tokens, pa.list_(pa.int32())),
            "weights": pa.array(weights, pa.list_(pa.float32())),
            "conversation": pa.array(lines, pa.string()),
        })


def rows_of(out):
    import pyarrow.parquet as pq

    t = pq.read_table(out)
    return sorted(zip(t.column("conversation").to_pylist(), t.column("tokens").to_pylist(), t.column("weights").to_pylist()))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("fixtures")
    p.add_argument("--rows", type=int, default=20_020)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--renderer", default="qwen3")
    p.add_argument("--engines", default="tinkex,cookbook", help="which pipelines to run")
    args = p.parse_args()

    raw = zstandard.ZstdDecompressor().stream_reader(open(ROOT / "crates/tinkex/tests/data/chat/conversations.jsonl.zst", "rb")).read()
    lines = [line for line in raw.decode("utf-8").split("\n") if line.strip()]
    work = pathlib.Path(tempfile.mkdtemp(prefix="raybench-"))
    # The input and both outputs (~135 MB) go when the benchmark ends, however it ends.
    atexit.register(shutil.rmtree, work, ignore_errors=True)
    src = work / "in.jsonl"
    src.write_text("\n".join((lines * (args.rows // len(lines) + 1))[: args.rows]) + "\n", encoding="utf-8")

    # The workers unpickle ray_sft.Render by module name: they need examples/ on their path.
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "examples"), os.environ.get("PYTHONPATH")]))
    ray.init(include_dashboard=False, logging_level="WARNING")
    results = {}
    try:
        for name, cls, ctor in [
            ("tinkex", ray_sft.Render, (args.renderer, MODEL[args.renderer], "last_assistant_message", "2026-01-01", False, None, True)),
            ("cookbook", CookbookRender, (args.renderer, os.path.join(args.fixtures, FIXTURE[args.renderer]))),
        ]:
            if name not in args.engines.split(","):
                continue
            out = work / name
            t = time.perf_counter()
            ray_sft.render_dataset(str(src), str(out), cls, ctor, args.workers, args.batch_size)
            secs = time.perf_counter() - t
            results[name] = (secs, rows_of(out))
            print(f"{name:9} {args.rows} rows in {secs:7.2f} s = {args.rows / secs:8.0f} rows/s", flush=True)
    finally:
        ray.shutdown()
    if len(results) < 2:
        return
    same = results["tinkex"][1] == results["cookbook"][1]
    print(f"outputs {'equal' if same else 'DIFFER'}; tinkex {results['cookbook'][0] / results['tinkex'][0]:.1f}x the cookbook's rows/s")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
