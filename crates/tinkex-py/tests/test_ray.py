"""examples/ray_sft.py on a local Ray cluster (2 workers): the 70 visible conversations repeated
to 20,020 rows, every output row checked against the Rust library's own pipeline (`tinkex chat
sft`, the CLI) and against tinker-cookbook 0.6.1's tokens and weights (render.jsonl).

Needs Ray (`ray[data]`, which `.ci/run` installs) and the CLI binary (`TINKEX_BIN`, else
target/debug or target/release/tinkex); without them it is skipped, except under CI."""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import pytest
import zstandard

from test_renderers import CHAT, ROWS

ROOT = pathlib.Path(__file__).resolve().parents[3]
UNDER_CI = bool(os.environ.get("CI"))
REPEAT = 286  # 70 conversations x 286 = 20,020 rows


def need(what, found):
    if found:
        return found
    if UNDER_CI:
        pytest.fail(f"{what} is missing under CI (.ci/run installs it)")
    pytest.skip(f"{what} is missing")


def cli():
    candidates = [os.environ.get("TINKEX_BIN")] + [str(ROOT / "target" / p / "tinkex") for p in ("debug", "release")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def test_ray_example_renders_every_row_as_the_rust_library_and_the_cookbook(tmp_path):
    try:
        import pyarrow.parquet as pq
        import ray  # noqa: F401
    except ImportError:
        pq = None
    need("ray[data]", pq)
    binary = need("the tinkex CLI binary", cli())

    visible = zstandard.ZstdDecompressor().stream_reader(open(CHAT / "conversations.jsonl.zst", "rb")).read()
    lines = [line for line in visible.decode("utf-8").split("\n") if line.strip()]
    assert len(lines) == 70
    src = tmp_path / "conversations.jsonl"
    src.write_text("\n".join(lines * REPEAT) + "\n", encoding="utf-8")

    # The Rust library's own answer for each distinct conversation: the CLI, in order.
    rust = subprocess.run(
        [binary, "chat", "sft", "--model", "Qwen/Qwen3-8B", "--renderer", "qwen3"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    want = {line: json.loads(out) for line, out in zip(lines, rust, strict=True)}
    # tinker-cookbook's answer: the oracle rendered the same 70 conversations in the same order.
    cookbook = [r for r in ROWS if r["renderer"] == "qwen3"]
    assert [r["input"] for r in cookbook] == [json.loads(line) for line in lines]
    for line, row in zip(lines, cookbook):
        assert want[line] == row["sft"]["last_assistant_message"]

    out = tmp_path / "out"
    # Ray's sockets live under RAY_TMPDIR: a short path of this test's own (a unix socket's path
    # is limited to 107 bytes).
    ray_tmp = tempfile.mkdtemp(prefix="ray")
    try:
        env = dict(os.environ, RAY_TMPDIR=ray_tmp, RAY_USAGE_STATS_ENABLED="0")
        run = subprocess.run(
            [sys.executable, str(ROOT / "examples" / "ray_sft.py"), "--model", "Qwen/Qwen3-8B",
             "--renderer", "qwen3", "--input", str(src), "--output", str(out), "--workers", "2",
             "--batch-size", "1000", "--keep-input"],
            env=env, capture_output=True, text=True, timeout=600,
        )
    finally:
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert run.returncode == 0, run.stderr[-4000:]

    table = pq.read_table(out)
    assert table.num_rows == len(lines) * REPEAT
    assert set(table.column_names) == {"tokens", "weights", "conversation"}
    seen = {}
    for conv, tokens, weights in zip(
        table.column("conversation").to_pylist(),
        table.column("tokens").to_pylist(),
        table.column("weights").to_pylist(),
    ):
        assert {"tokens": tokens, "weights": weights} == want[conv]
        seen[conv] = seen.get(conv, 0) + 1
    assert seen == {line: REPEAT for line in lines}
