#!/usr/bin/env bash
# Makes .venv-cookbook: tinker-cookbook 0.6.1 and the versions the chat oracle was made with
# (transformers 4.57.6, tml-renderers 0.2.1 with torch 2.10 — ~3.5 GB). For development and the
# chat benchmark only; CI never runs it. Usage: bash scripts/cookbook-venv.sh [VENV_DIR]
set -euo pipefail
venv=${1:-.venv-cookbook}
python3 -m venv "$venv"
# cookbook 0.6.1 asks for tml-renderers >= 0.4.1, which the registry does not serve; the oracle
# ran it unchanged with 0.2.1, so its dependencies are installed by hand and it with --no-deps.
"$venv/bin/pip" install --quiet "torch==2.10.*" transformers==4.57.6 tml-renderers==0.2.1 \
  "tinker>=0.38.0" tiktoken aiohttp anyio blobfile chz cloudpickle datasets huggingface-hub \
  numpy pillow pydantic pyrage rich safetensors termcolor tqdm
"$venv/bin/pip" install --quiet --no-deps tinker-cookbook==0.6.1
"$venv/bin/python" -c "import tinker_cookbook.renderers, tml_renderers; print('cookbook venv ready')"
