#!/usr/bin/env python3
"""Supervised examples for a whole dataset with Ray Data and tinkex: read a JSONL of
conversations, render each with a Tinker model's chat format (tinker-cookbook's renderers, the
same tokens and weights), write Parquet.

    python examples/ray_sft.py --model Qwen/Qwen3-8B --renderer qwen3 \\
        --input conversations.jsonl --output sft/ [--workers 2] [--datum --max-length 4096]

Each input line is a conversation as `tinkex chat sft` reads it: a list of the cookbook's message
dicts, or {"messages": [...], "tools": [...], "system_prompt": "..."}. Lines go to the workers
as text and are parsed in Rust, so conversations whose messages differ in shape (string or list
content, tool calls or none) need no common Arrow schema.

Output columns: `tokens` (list<int32>) and `weights` (list<float32>), one row per conversation
(with --datum: `datum`, the Tinker API's Datum as JSON text); with --keep-input also
`conversation`, the input line. Ray runs locally on this machine unless RAY_ADDRESS names a
cluster; on a cluster every node needs tinkex installed.
"""

import argparse
import json
import sys

import pyarrow as pa
import ray


class Render:
    """The `map_batches` function: one instance per Ray worker process. tinkex loads the
    tokenizer once per process (its cache), when the worker starts."""

    def __init__(self, renderer, model, train_on_what, current_date, datum, max_length, keep_input):
        import tinkex

        self.tinkex = tinkex
        tinkex.get_tokenizer(model)
        self.renderer, self.model = renderer, model
        self.train_on_what, self.current_date = train_on_what, current_date
        self.datum, self.max_length, self.keep_input = datum, max_length, keep_input

    def __call__(self, batch: pa.Table) -> pa.Table:
        lines = batch.column("text").to_pylist()
        args = (self.renderer, self.model, lines, self.train_on_what, self.current_date)
        columns = {}
        if self.datum:
            out = self.tinkex.render_batch(*args, form="datum", max_length=self.max_length)
            columns["datum"] = pa.array([json.dumps(d, separators=(",", ":")) for d in out["datum"]], pa.string())
        else:
            out = self.tinkex.render_batch(*args)
            columns["tokens"] = pa.array(out["tokens"], pa.list_(pa.int32()))
            columns["weights"] = pa.array(out["weights"], pa.list_(pa.float32()))
        if self.keep_input:
            columns["conversation"] = pa.array(lines, pa.string())
        return pa.table(columns)


def render_dataset(input, output, render_class, render_args, workers, batch_size):
    """The pipeline: JSONL lines -> `render_class(*render_args)` on `workers` Ray actors, in
    batches of `batch_size` lines -> Parquet files in `output`."""
    # Reading and writing lines is light work: those tasks reserve no CPU of Ray's budget, so
    # the workers (one CPU each) can hold every core without starving them (with 2 workers on
    # 2 cores they otherwise wait for each other forever), and run one at a time (without a
    # CPU to count, Ray would start a process for each: 16 on this 2-core machine).
    ds = ray.data.read_text(input, drop_empty_lines=True, num_cpus=0, concurrency=1)
    ds = ds.map_batches(
        render_class,
        fn_constructor_args=render_args,
        batch_format="pyarrow",
        batch_size=batch_size,
        compute=ray.data.ActorPoolStrategy(size=workers),
    )
    ds.write_parquet(output, ray_remote_args={"num_cpus": 0}, concurrency=1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="Tinker model name (or tokenizer repo / directory)")
    p.add_argument("--renderer", help="renderer name (default: the first tinkex.recommended_renderers)")
    p.add_argument("--input", required=True, help="JSONL of conversations (a file, directory or glob)")
    p.add_argument("--output", required=True, help="directory to write Parquet files into")
    p.add_argument("--train-on-what", default="last_assistant_message")
    p.add_argument("--current-date", help="YYYY-MM-DD that gpt-oss's system prompt shows")
    p.add_argument("--workers", type=int, default=2, help="Ray worker processes that render (default 2)")
    p.add_argument("--batch-size", type=int, default=1024, help="conversations per render_batch call")
    p.add_argument("--datum", action="store_true", help="write Tinker Datums instead of tokens/weights")
    p.add_argument("--max-length", type=int, help="with --datum: keep at most N tokens")
    p.add_argument("--keep-input", action="store_true", help="also write each input line")
    args = p.parse_args(argv)

    import tinkex

    renderer = args.renderer
    if renderer is None:
        names = tinkex.recommended_renderers(args.model)
        if not names:
            print(f"error: no recommended renderer for {args.model}", file=sys.stderr)
            print("hint: pass --renderer NAME", file=sys.stderr)
            return 2
        renderer = names[0]
    if args.max_length is not None and not args.datum:
        p.error("--max-length applies to --datum")
    # Fail here, before starting Ray, on a name, model or date that cannot work.
    try:
        tinkex.get_renderer(renderer, tinkex.get_tokenizer(args.model), args.current_date)
    except tinkex.TinkexError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1

    ray.init(include_dashboard=False, logging_level="WARNING")
    try:
        render_dataset(
            args.input,
            args.output,
            Render,
            (renderer, args.model, args.train_on_what, args.current_date, args.datum, args.max_length, args.keep_input),
            args.workers,
            args.batch_size,
        )
    finally:
        ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
