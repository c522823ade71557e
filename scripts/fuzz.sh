#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets) for a bounded time each, one after another.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET=600] [TARGET...]
# Needs cargo-fuzz (`cargo install cargo-fuzz`); the machine's stable toolchain is used with
# RUSTC_BOOTSTRAP=1 for the sanitizer flags. Crashes land in fuzz/artifacts/<target>/; turn each
# into a regression test (crates/tinkex/tests/fuzz_regressions.rs) before fixing it.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(decode_ids encode_text parse_tokenizer_json parse_tiktoken decode_stream)
export RUSTC_BOOTSTRAP=1
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t" "fuzz/seeds/$t"
  echo "== $t for ${secs}s"
  # The first corpus directory collects what the fuzzer finds; fuzz/seeds are committed inputs.
  cargo fuzz run "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- -max_total_time="$secs" -rss_limit_mb=4096 -print_final_stats=1 2>&1 \
    | grep -E "^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+== ERROR|SUMMARY|artifact_prefix|Test unit written)" || true
done
