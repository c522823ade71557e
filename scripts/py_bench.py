#!/usr/bin/env python3
"""Python-level throughput of tinkex against tinker-cookbook 0.6.1, in one process: the same
conversations rendered into supervised examples (last_assistant_message) by

  cookbook  `renderer.build_supervised_example` in a loop (transformers tokenizer),
  loop      `tinkex.get_renderer(...).build_supervised_example` in a loop,
  batch     one `tinkex.render_batch` call (every core),

after an untimed warm-up of each on the first 500; each timed the median of --runs passes (--cookbook-runs for the cookbook), and all three
outputs compared. Needs a venv with both tinker-cookbook and tinkex (scripts/cookbook-venv.sh,
then `pip install` the wheel into it). Usage:

    VENV/bin/python scripts/py_bench.py FIXTURES_DIR [--n 10000] [--runs 5] [--cookbook-runs 1] [--renderers a,b]

FIXTURES_DIR holds the lineup's tokenizer directories (../shared/fixtures/tokenizers); the
conversations are the repo's visible and extra sets (crates/tinkex/tests/data/chat), the ones
each renderer accepts, repeated to --n.
"""

import argparse
import json
import os
import pathlib
import statistics
import sys
import time

import zstandard

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAT = ROOT / "crates" / "tinkex" / "tests" / "data" / "chat"
# renderer -> (fixture directory, model name tinkex resolves to the same bundled tokenizer)
RENDERERS = {
    "qwen3": ("qwen3", "Qwen/Qwen3-8B"),
    "llama3": ("llama3_1", "meta-llama/Llama-3.1-8B"),
    "deepseekv3_thinking": ("deepseek_v3_1", "deepseek-ai/DeepSeek-V3.1"),
    "gpt_oss_medium_reasoning": ("gpt_oss", "openai/gpt-oss-20b"),
}
DATE = "2026-01-01"


def conversations():
    out = []
    for name in ("conversations.jsonl.zst", "extra.jsonl.zst"):
        raw = zstandard.ZstdDecompressor().stream_reader(open(CHAT / name, "rb")).read().decode("utf-8")
        for line in raw.split("\n"):
            if line.strip():
                row = json.loads(line)
                out.append(row["input"] if "input" in row else row)
    return out


def median_time(fn, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("fixtures")
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--runs", type=int, default=5, help="timed passes of tinkex's loop and batch")
    p.add_argument("--cookbook-runs", type=int, default=1, help="timed passes of the cookbook's loop")
    p.add_argument("--renderers", default=",".join(RENDERERS))
    args = p.parse_args()

    import warnings

    import transformers
    from tinker_cookbook import renderers
    from tinker_cookbook.renderers.base import ToolCall, TrainOnWhat

    import tinkex

    # The cookbook warns about some of the conversations it renders (a tool message without a
    # name, two system messages); the output is compared, not the warnings.
    warnings.simplefilter("ignore", UserWarning)
    convs = conversations()
    print(f"# {os.cpu_count()} cores; tinkex {tinkex.__version__}, transformers {transformers.__version__}")
    print(f"{'renderer':26} {'n':>6} {'cookbook s':>10} {'loop s':>8} {'batch s':>8} {'loop x':>7} {'batch x':>8}")
    for name in args.renderers.split(","):
        fixture, model = RENDERERS[name]
        hf = transformers.AutoTokenizer.from_pretrained(os.path.join(args.fixtures, fixture))
        cr = renderers.get_renderer(name, hf)
        if hasattr(cr, "current_date"):
            cr.current_date = DATE
        tr = tinkex.get_renderer(name, tinkex.get_tokenizer(model), current_date=DATE)

        def cookbook_messages(conv):
            msgs = [
                dict(m, tool_calls=[ToolCall.model_validate(tc) for tc in m["tool_calls"]]) if "tool_calls" in m else m
                for m in conv["messages"]
            ]
            if "tools" in conv:
                msgs = cr.create_conversation_prefix_with_tools(conv["tools"], conv.get("system_prompt", "")) + msgs
            return msgs

        def tinkex_messages(conv):
            if "tools" in conv:
                return tr.create_conversation_prefix_with_tools(conv["tools"], conv.get("system_prompt", "")) + conv["messages"]
            return conv["messages"]

        accepted = []
        for c in convs:
            try:
                cr.build_supervised_example(cookbook_messages(c), train_on_what=TrainOnWhat.LAST_ASSISTANT_MESSAGE)
                accepted.append(c)
            except Exception:  # noqa: BLE001 — the renderer refuses it (llama3: thinking, tools)
                pass
        batch = (accepted * (args.n // len(accepted) + 1))[: args.n]

        def cookbook():
            out = []
            for c in batch:
                mi, w = cr.build_supervised_example(cookbook_messages(c), train_on_what=TrainOnWhat.LAST_ASSISTANT_MESSAGE)
                out.append((mi.to_ints(), w.tolist()))
            return out

        def loop():
            return [tr.build_supervised_example(tinkex_messages(c)) for c in batch]

        def render_batch():
            cols = tinkex.render_batch(name, model, batch, current_date=DATE)
            return list(zip(cols["tokens"], cols["weights"]))

        # Warm-up: the cookbook's on the first 500 (imports, caches; a pass takes 25-45 s),
        # tinkex's on all (its Hugging Face engine takes over once 4 MiB are encoded, built on a
        # helper thread that would otherwise run inside the timed passes).
        full, batch = batch, batch[:500]
        cookbook()
        batch = full
        loop()
        render_batch()
        t_cb, out_cb = median_time(cookbook, args.cookbook_runs)
        t_loop, out_loop = median_time(loop, args.runs)
        t_batch, out_batch = median_time(render_batch, args.runs)
        same = [tuple(map(list, x)) for x in out_cb] == [tuple(map(list, x)) for x in out_loop] == out_batch
        if not same:
            print(f"{name}: outputs differ", file=sys.stderr)
            sys.exit(1)
        print(
            f"{name:26} {len(batch):6} {t_cb:10.3f} {t_loop:8.3f} {t_batch:8.3f} "
            f"{t_cb / t_loop:6.1f}x {t_cb / t_batch:7.1f}x"
        )


if __name__ == "__main__":
    main()
