#!/usr/bin/env bash
# Re-imports the tokenizer lineup and the parity oracle from ../shared into the repository,
# compressed, so that the library (feature `bundled`) and the test suite never need ../shared.
# Run from the repository root: bash scripts/import-shared.sh [SHARED_DIR]
set -euo pipefail
shared=${1:-../shared}
bundled=crates/tinkex/bundled
oracle=crates/tinkex/tests/data/parity
mkdir -p "$bundled" "$oracle"
for name in gpt2 qwen3 llama3_1 deepseek_v3 deepseek_v3_1 gpt_oss; do
  src="$shared/fixtures/tokenizers/$name"
  mkdir -p "$bundled/$name"
  zstd -q -f -19 --long=27 "$src/tokenizer.json" -o "$bundled/$name/tokenizer.json.zst"
  cp "$src/tokenizer_config.json" "$bundled/$name/tokenizer_config.json"
  chmod 644 "$bundled/$name/tokenizer_config.json"
done
for f in "$shared"/parity/*.jsonl; do
  zstd -q -f -19 "$f" -o "$oracle/$(basename "$f").zst"
done
# sha256 of every original, for PROVENANCE.md
( cd "$shared" && sha256sum fixtures/tokenizers/*/tokenizer.json fixtures/tokenizers/*/tokenizer_config.json parity/*.jsonl ) > crates/tinkex/bundled/SHA256SUMS.shared
