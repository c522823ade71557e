#!/usr/bin/env bash
# `tinkex chat sft` against tinker-cookbook's Python doing the same job (tokenizer load, then
# build_supervised_example on each stdin line, one {"tokens","weights"} JSON line out), whole
# processes, alternating pairs; prints each pair's wall times, the medians and their ratio, and
# checks that both wrote the same lines.
# Usage: scripts/chat-vs-python.sh PYTHON TOKENIZER_DIR RENDERER CONVERSATIONS_JSONL [PAIRS]
#   PYTHON: an interpreter with tinker-cookbook (scripts/cookbook-venv.sh makes one)
#   e.g. scripts/chat-vs-python.sh .venv-cookbook/bin/python ../shared/fixtures/tokenizers/llama3_1 \
#          llama3 conv10k.jsonl
set -euo pipefail
py=$1 dir=$2 renderer=$3 file=$4 pairs=${5:-5}
tinkex=${TINKEX_BIN:-target/release/tinkex}
pyprog='import json, sys
from transformers import AutoTokenizer
from tinker_cookbook import renderers
from tinker_cookbook.renderers import TrainOnWhat
tok = AutoTokenizer.from_pretrained(sys.argv[1])
r = renderers.get_renderer(sys.argv[2], tok)
for line in sys.stdin:
    d = json.loads(line)
    msgs = d["messages"]
    if d.get("tools") is not None:
        msgs = r.create_conversation_prefix_with_tools(d["tools"], d.get("system_prompt") or "") + msgs
    mi, w = r.build_supervised_example(msgs, TrainOnWhat.LAST_ASSISTANT_MESSAGE)
    sys.stdout.write(json.dumps({"tokens": mi.to_ints(), "weights": w.tolist()}) + "\n")'
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
now() { date +%s.%N; }
run_t() { "$tinkex" chat sft --model "$dir" --renderer "$renderer" <"$file" >"$out/t.jsonl"; }
run_p() { TRANSFORMERS_VERBOSITY=error "$py" -c "$pyprog" "$dir" "$renderer" <"$file" >"$out/p.jsonl" 2>/dev/null; }
run_t   # warm the page cache and tinkex's prepared-tokenizer cache
t_times=() p_times=()
for i in $(seq "$pairs"); do
  a=$(now); run_t; b=$(now); run_p; c=$(now)
  t_times+=("$(echo "$b - $a" | bc)") p_times+=("$(echo "$c - $b" | bc)")
  echo "pair $i: tinkex $(echo "$b - $a" | bc) s  python $(echo "$c - $b" | bc) s"
  "$py" -c 'import json, sys
a, b = ([json.loads(l) for l in open(f)] for f in sys.argv[1:])
sys.exit(a != b)' "$out/t.jsonl" "$out/p.jsonl" || { echo "OUTPUTS DIFFER" >&2; exit 1; }
done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mt=$(med "${t_times[@]}") mp=$(med "${p_times[@]}")
echo "median: tinkex $mt s, python $mp s, python / tinkex $(echo "scale=1; $mp / $mt" | bc)"
