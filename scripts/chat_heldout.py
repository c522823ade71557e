#!/usr/bin/env python3
"""The held-out check of the chat layer through the CLI: runs `tinkex chat sft|prompt|parse|stop`
on every line of an oracle file made by scripts/chat_oracle.py (conversations tinkex's tests
never saw) and compares with what the cookbook produced. Refusals must be refused (exit != 0,
`error:` on stderr). Development only (needs the oracle, i.e. the cookbook venv).

    python3 scripts/chat_heldout.py TINKEX_BIN FIXTURES_DIR < oracle.jsonl

Lines of a reply oracle (scripts/kimi_parse_oracle.py, next_parse_oracle.py: "tokens" and the
parsed "message"/"termination" or "error") are checked through `tinkex chat parse`. Prints one
summary line per renderer and exits 1 on any difference.
"""

import collections
import json
import subprocess
import sys

# The cookbook's TrainOnWhat, every mode.
MODES = [
    "last_assistant_message",
    "last_assistant_turn",
    "all_assistant_messages",
    "all_messages",
    "all_tokens",
    "all_user_and_system_messages",
    "customized",
]


def model_args(fixtures: str, fixture: str) -> list:
    if fixture == "o200k_base_chat":
        return ["--model", "thinkingmachines/Inkling"]
    return ["--model", f"{fixtures}/{fixture}"]


def run(bin_, args, lines):
    p = subprocess.run(
        [bin_, "chat", *args, "--offline", "--current-date", "2026-01-01"],
        input="".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines),
        capture_output=True,
        text=True,
    )
    # Only "\n" ends a line: JSON strings may hold U+2028 and friends, which splitlines() splits on.
    return p.returncode, [json.loads(l) for l in p.stdout.split("\n") if l], p.stderr


def refused(bin_, args, line) -> bool:
    code, out, err = run(bin_, args, [line])
    return code != 0 and not out and err.startswith("error:")


def main() -> None:
    bin_, fixtures = sys.argv[1], sys.argv[2]
    rows = collections.defaultdict(list)
    for line in sys.stdin:
        if line.strip():
            row = json.loads(line)
            rows[row["renderer"]].append(row)
    bad = 0
    for renderer, rs in rows.items():
        base = [*model_args(fixtures, rs[0]["fixture"]), "--renderer", renderer]
        checked = collections.Counter()
        diffs = []

        def check(what, ok, case):
            checked[what] += 1
            if not ok:
                diffs.append(f"{what} case {case}")

        # stop
        if "stop" in rs[0]:
            _, out, _ = run(bin_, ["stop", *base], [])
            check("stop", out == [{"stop": rs[0]["stop"]}], "-")
        # sft, every mode: accepted lines in one batch, refused ones one by one.
        for mode in MODES:
            args = ["sft", *base, "--train-on", mode]
            ok_rows = [r for r in rs if "sft" in r and "tokens" in r["sft"].get(mode, {})]
            if not ok_rows:
                continue
            code, out, err = run(bin_, args, [r["input"] for r in ok_rows])
            if code != 0 or len(out) != len(ok_rows):
                diffs.append(f"sft {mode}: exit {code}: {err.strip()[:200]}")
            for r, o in zip(ok_rows, out):
                want = r["sft"][mode]
                check(f"sft", o == {"tokens": want["tokens"], "weights": want["weights"]}, r["case"])
            for r in rs:
                if "sft" in r and "error" in r["sft"].get(mode, {}):
                    check("sft refused", refused(bin_, args, r["input"]), r["case"])
        # Conversations the cookbook refused outright (a required mode or the prompt failed).
        for r in rs:
            if "error" in r:
                conv = dict(r["input"], messages=r["input"]["messages"][:-1])
                trainable = any("trainable" in m for m in r["input"]["messages"])
                mode = "customized" if trainable else "last_assistant_message"
                either = refused(bin_, ["sft", *base, "--train-on", mode], r["input"]) or refused(
                    bin_, ["prompt", *base], conv
                )
                if not either:
                    # Or the parse of the trained completion (after the prompt) was refused.
                    _, sft, _ = run(bin_, ["sft", *base, "--train-on", mode], [r["input"]])
                    _, prompt, _ = run(bin_, ["prompt", *base], [conv])
                    full, head = sft[0]["tokens"], prompt[0]["tokens"]
                    either = full[: len(head)] == head and refused(bin_, ["parse", *base], {"tokens": full[len(head) :]})
                check("refused", either, r["case"])
        # prompt, prompt with prefill, parse
        ok_rows = [r for r in rs if "prompt" in r]
        convs = [dict(r["input"], messages=r["input"]["messages"][:-1]) for r in ok_rows]
        code, out, err = run(bin_, ["prompt", *base], convs)
        if code != 0:
            diffs.append(f"prompt: exit {code}: {err.strip()[:200]}")
        for r, o in zip(ok_rows, out):
            check("prompt", o == {"tokens": r["prompt"]}, r["case"])
        pre = [(r, c) for r, c in zip(ok_rows, convs) if isinstance(r.get("prefill_prompt"), list)]
        code, out, err = run(bin_, ["prompt", *base, "--prefill", "Sure, "], [c for _, c in pre])
        if code != 0:
            diffs.append(f"prompt --prefill: exit {code}: {err.strip()[:200]}")
        for (r, _), o in zip(pre, out):
            check("prefill", o == {"tokens": r["prefill_prompt"]}, r["case"])
        # build_supervised_examples (`sft --per-turn`), where the oracle has them.
        for mode in ("last_assistant_turn", "all_assistant_messages"):
            args = ["sft", *base, "--train-on", mode, "--per-turn"]
            ok_rows = [r for r in rs if isinstance(r.get("examples", {}).get(mode), list)]
            if ok_rows:
                code, out, err = run(bin_, args, [r["input"] for r in ok_rows])
                if code != 0 or len(out) != len(ok_rows):
                    diffs.append(f"examples {mode}: exit {code}: {err.strip()[:200]}")
                for r, o in zip(ok_rows, out):
                    check("examples", o == {"examples": r["examples"][mode]}, r["case"])
            for r in rs:
                if isinstance(r.get("examples", {}).get(mode), dict):
                    check("examples refused", refused(bin_, args, r["input"]), r["case"])
        parsed = [r for r in rs if "parsed" in r]
        code, out, err = run(bin_, ["parse", *base], [{"tokens": r["completion"]} for r in parsed])
        if code != 0:
            diffs.append(f"parse: exit {code}: {err.strip()[:200]}")
        for r, o in zip(parsed, out):
            check("parse", o == r["parsed"], r["case"])
        replies = [r for r in rs if "input" not in r and "tokens" in r]
        ok_rows = [r for r in replies if "error" not in r]
        if ok_rows:
            code, out, err = run(bin_, ["parse", *base], [{"tokens": r["tokens"]} for r in ok_rows])
            if code != 0:
                diffs.append(f"reply parse: exit {code}: {err.strip()[:200]}")
            for i, (r, o) in enumerate(zip(ok_rows, out)):
                check("reply", o == {"message": r["message"], "termination": r["termination"]}, i)
        for i, r in enumerate(replies):
            if "error" in r:
                check("reply refused", refused(bin_, ["parse", *base], {"tokens": r["tokens"]}), i)
        bad += len(diffs)
        counts = " ".join(f"{k}={v}" for k, v in sorted(checked.items()))
        print(f"{renderer:28} {'OK  ' if not diffs else 'DIFF'} {counts}")
        for d in diffs[:10]:
            print(f"    {d}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
