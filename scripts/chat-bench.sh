#!/usr/bin/env bash
# `chat sft` throughput, side by side in one run: the tinkex CLI (whole process, tokenizer load
# included) and tinker-cookbook 0.6.1 in Python (import + load + render), on the visible
# conversations repeated to COUNT lines, median of RUNS alternating runs each; outputs compared.
# First the library's own rate (one process, load excluded): `cargo bench -p tinkex --bench chat`.
#
#   bash scripts/chat-bench.sh [SHARED_DIR] [RUNS] [COUNT]
#
# ONLY=tml_v0 (renderer names, comma-separated) runs those rows alone; NO_LIBRARY=1 skips the
# library bench.
#
# Makes .venv-cookbook with scripts/cookbook-venv.sh on first use (~3.5 GB: torch); CI never runs it.
set -euo pipefail
shared=${1:-../shared}
runs=${2:-3}
count=${3:-10000}
venv=${VENV:-.venv-cookbook}
[ -x "$venv/bin/python" ] || bash scripts/cookbook-venv.sh "$venv"
if [ -z "${NO_LIBRARY:-}" ]; then
  echo "== library (cargo bench -p tinkex --bench chat)"
  cargo bench -q -p tinkex --bench chat 2>/dev/null | grep -v '^$'
fi
echo "== whole processes: tinkex chat sft vs tinker-cookbook 0.6.1, $count conversations, median of $runs"
cargo build --release -q -p tinkex-cli
bin=${CARGO_TARGET_DIR:-target}/release/tinkex
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fixtures="$shared/fixtures/tokenizers"

# renderer | tinkex model | cookbook tokenizer
rows="qwen3|Qwen/Qwen3-8B|$fixtures/qwen3
llama3|meta-llama/Llama-3.1-8B-Instruct|$fixtures/llama3_1
gpt_oss_medium_reasoning|openai/gpt-oss-20b|$fixtures/gpt_oss
tml_v0|thinkingmachines/Inkling|thinkingmachines/Inkling
qwen3_5|$fixtures/qwen3_5|$fixtures/qwen3_5
deepseekv4_1|$fixtures/deepseek_v4_1|$fixtures/deepseek_v4_1
kimi_k2|moonshotai/Kimi-K2-Thinking|$fixtures/kimi_k2
kimi_k25|moonshotai/Kimi-K2.6|$fixtures/kimi_k25"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# secs TIMES_FILE OUT_FILE CMD…: runs CMD (stdin from the caller, stdout to OUT_FILE), appends
# its wall time to TIMES_FILE.
secs() {
  local times=$1 out=$2 t0 t1
  shift 2
  t0=$(date +%s.%N)
  "$@" > "$out"
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc >> "$times"
}

printf '%-26s %8s %10s %10s %12s %12s %8s\n' renderer lines tinkex_s cookbook_s tinkex_conv/s cookbook_conv/s speedup
while IFS='|' read -r r model tok; do
  [ -n "${ONLY:-}" ] && [[ ",$ONLY," != *",$r,"* ]] && continue
  # The conversations this renderer accepts (llama3 refuses thinking parts and tools), repeated.
  "$venv/bin/python" scripts/chat_bench_cookbook.py "$tok" "$r" --filter \
    < "$shared/chat/conversations.jsonl" > "$work/ok.jsonl" 2>/dev/null
  python3 - "$work/ok.jsonl" "$count" > "$work/in.jsonl" <<'PY'
import sys
ok = open(sys.argv[1]).read().splitlines()
n = int(sys.argv[2])
print("\n".join((ok * (n // len(ok) + 1))[:n]))
PY
  lines=$(wc -l < "$work/in.jsonl")
  : > "$work/t_rs"; : > "$work/t_py"
  for _ in $(seq "$runs"); do
    secs "$work/t_rs" "$work/out_rs.jsonl" "$bin" chat sft --offline --model "$model" \
      --renderer "$r" --current-date 2026-01-01 < "$work/in.jsonl"
    secs "$work/t_py" "$work/out_py.jsonl" "$venv/bin/python" scripts/chat_bench_cookbook.py \
      "$tok" "$r" --date 2026-01-01 < "$work/in.jsonl" 2>/dev/null
  done
  python3 - "$work/out_rs.jsonl" "$work/out_py.jsonl" <<'PY' || { echo "$r: outputs differ"; exit 1; }
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
sys.exit(0 if a == b and len(a) > 0 else 1)
PY
  trs=$(median < "$work/t_rs"); tpy=$(median < "$work/t_py")
  printf '%-26s %8d %10.3f %10.3f %12.0f %12.0f %7.1fx\n' "$r" "$lines" "$trs" "$tpy" \
    "$(echo "$lines / $trs" | bc -l)" "$(echo "$lines / $tpy" | bc -l)" "$(echo "$tpy / $trs" | bc -l)"
done <<< "$rows"
