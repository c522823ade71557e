#!/usr/bin/env bash
# Re-imports the tokenizer lineup and the parity oracle from ../shared into the repository,
# compressed, so that the library (feature `bundled`) and the test suite never need ../shared.
# Only what the project uses is imported (the shared set holds more).
# Run from the repository root: bash scripts/import-shared.sh [SHARED_DIR]
set -euo pipefail
shared=${1:-../shared}
bundled=crates/tinkex/bundled
oracle=crates/tinkex/tests/data/parity
# Bundled Hugging Face tokenizers (tokenizer.json + tokenizer_config.json), in `ls` order
# (Kimi's tiktoken-format ones are below).
lineup="deepseek_v3 deepseek_v3_1 gpt2 gpt_oss llama3_1 qwen3"
# Test-only tokenizers (never bundled: issue #14 — the qwen3_5 fixture's merges are derived, and
# both models resolve to their Hub repos), in `ls` order.
test_only="deepseek_v4_1 qwen3_5"
fixtures=crates/tinkex/tests/data/fixtures
# Parity oracles the tests read, in `ls` order.
oracles="deepseek_v3 deepseek_v3_1 deepseek_v4_1 gpt2 gpt_oss kimi_k2 kimi_k25 kimi_style llama3_1 o200k_base_chat qwen3 qwen3_5"
mkdir -p "$bundled" "$oracle"
# A Hugging Face tokenizer's two files into DEST/NAME: tokenizer.json compressed, the config as is.
copy_tokenizer() {
  local name=$1 dest=$2 src="$shared/fixtures/tokenizers/$1"
  mkdir -p "$dest/$name"
  zstd -q -f -19 --long=27 "$src/tokenizer.json" -o "$dest/$name/tokenizer.json.zst"
  cp "$src/tokenizer_config.json" "$dest/$name/tokenizer_config.json"
  chmod 644 "$dest/$name/tokenizer_config.json"
}
for name in $lineup; do copy_tokenizer "$name" "$bundled"; done
for name in $test_only; do copy_tokenizer "$name" "$fixtures"; done
# Inkling's o200k_base_chat: no Hugging Face files, o200k_base's ranks + a special-token list.
mkdir -p "$bundled/o200k_base_chat"
zstd -q -f -19 --long=27 "$shared/fixtures/tiktoken/o200k_base.tiktoken" \
  -o "$bundled/o200k_base_chat/o200k_base.tiktoken.zst"
cp "$shared/fixtures/tokenizers/o200k_base_chat/special_tokens.json" "$bundled/o200k_base_chat/"
chmod 644 "$bundled/o200k_base_chat/special_tokens.json"
# Kimi (tiktoken format): K2-Thinking and K2.5/K2.6 share one rank file (same sha256), stored
# once; each keeps its own tokenizer_config.json (K2.5/K2.6 name the media tokens).
kimi="kimi_k2 kimi_k25"
cmp -s "$shared/fixtures/tokenizers/kimi_k2/tiktoken.model" \
  "$shared/fixtures/tokenizers/kimi_k25/tiktoken.model" \
  || { echo "kimi_k2 and kimi_k25 no longer share tiktoken.model" >&2; exit 1; }
mkdir -p "$bundled/kimi"
zstd -q -f -19 --long=27 "$shared/fixtures/tokenizers/kimi_k2/tiktoken.model" \
  -o "$bundled/kimi/tiktoken.model.zst"
for name in $kimi; do
  mkdir -p "$bundled/kimi/$name"
  cp "$shared/fixtures/tokenizers/$name/tokenizer_config.json" "$bundled/kimi/$name/"
  chmod 644 "$bundled/kimi/$name/tokenizer_config.json"
done
for name in $oracles; do
  zstd -q -f -19 "$shared/parity/$name.jsonl" -o "$oracle/$name.jsonl.zst"
done
# sha256 of every original, for PROVENANCE.md (kimi_style's config is where the test data in
# tests/data/kimi_style came from).
files=()
for name in $lineup; do files+=("fixtures/tokenizers/$name/tokenizer.json"); done
for name in deepseek_v3 deepseek_v3_1 gpt2 gpt_oss kimi_style llama3_1 qwen3; do
  files+=("fixtures/tokenizers/$name/tokenizer_config.json")
done
files+=(fixtures/tiktoken/o200k_base.tiktoken fixtures/tokenizers/o200k_base_chat/special_tokens.json)
for name in $kimi; do
  files+=("fixtures/tokenizers/$name/tiktoken.model" "fixtures/tokenizers/$name/tokenizer_config.json")
done
for name in $oracles; do files+=("parity/$name.jsonl"); done
( cd "$shared" && sha256sum "${files[@]}" ) > "$bundled/SHA256SUMS.shared"
files=()
for name in $test_only; do
  files+=("fixtures/tokenizers/$name/tokenizer.json" "fixtures/tokenizers/$name/tokenizer_config.json")
done
( cd "$shared" && sha256sum "${files[@]}" ) > "$fixtures/SHA256SUMS.shared"
