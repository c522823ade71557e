#!/usr/bin/env bash
# `tinkex count` against Python transformers doing the same (load + count), whole processes,
# alternating pairs; prints each pair's wall times, the medians, their ratio and both counts.
# Usage: scripts/cli-vs-python.sh PYTHON TOKENIZER_DIR TEXT_FILE [PAIRS]
#   PYTHON: an interpreter with transformers installed (e.g. a venv with transformers==4.57.6)
set -euo pipefail
py=$1 dir=$2 file=$3 pairs=${4:-5}
tinkex=${TINKEX_BIN:-target/release/tinkex}
pyprog='import sys
from transformers import AutoTokenizer
t = AutoTokenizer.from_pretrained(sys.argv[1])
print(len(t.encode(open(sys.argv[2], encoding="utf-8").read(), add_special_tokens=False)))'
now() { date +%s.%N; }
"$tinkex" count --model "$dir" "$file" >/dev/null   # warm the page cache and tinkex's own cache
t_times=() p_times=()
for i in $(seq "$pairs"); do
  a=$(now); tc=$("$tinkex" count --model "$dir" "$file"); b=$(now)
  pc=$(TRANSFORMERS_VERBOSITY=error "$py" -c "$pyprog" "$dir" "$file" 2>/dev/null); c=$(now)
  t_times+=("$(echo "$b - $a" | bc)") p_times+=("$(echo "$c - $b" | bc)")
  echo "pair $i: tinkex $(echo "$b - $a" | bc) s ($tc tokens)  python $(echo "$c - $b" | bc) s ($pc tokens)"
  [ "$tc" = "$pc" ] || { echo "COUNTS DIFFER: tinkex $tc, python $pc" >&2; exit 1; }
done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mt=$(med "${t_times[@]}") mp=$(med "${p_times[@]}")
echo "median: tinkex $mt s, python $mp s, ratio $(echo "scale=3; $mt / $mp" | bc)"
