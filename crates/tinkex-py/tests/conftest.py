"""Hermetic: tinkex reads its configuration from the environment on first use, so every test
process gets an empty store and Hugging Face cache of its own and never touches the network
(the lineup's tokenizers are bundled in the package)."""

import os
import tempfile

_root = tempfile.mkdtemp(prefix="tinkex-py-tests-")
os.environ["TINKEX_CACHE_DIR"] = os.path.join(_root, "tinkex")
os.environ["HF_HOME"] = os.path.join(_root, "hf")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.pop("HF_TOKEN", None)
