"""Hermetic: tinkex reads its configuration from the environment on first use, so every test
process gets an empty store and Hugging Face cache of its own and never touches the network
(the lineup's tokenizers are bundled in the package). Today's families are not bundled: their
test-only fixture directories (crates/tinkex/tests/data/fixtures) are unpacked into the same
temporary root, ``FIXTURE_DIRS``."""

import atexit
import os
import pathlib
import shutil
import tempfile

import zstandard

_root = tempfile.mkdtemp(prefix="tinkex-py-tests-")
# Removed when the test process ends: the store and fixtures are ~145 MB a run.
atexit.register(shutil.rmtree, _root, ignore_errors=True)
os.environ["TINKEX_CACHE_DIR"] = os.path.join(_root, "tinkex")
os.environ["HF_HOME"] = os.path.join(_root, "hf")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.pop("HF_TOKEN", None)

_FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "tinkex" / "tests" / "data" / "fixtures"


def _unpack(name: str) -> str:
    dst = os.path.join(_root, "fixtures", name)
    os.makedirs(dst)
    with open(_FIXTURES / name / "tokenizer.json.zst", "rb") as f, open(os.path.join(dst, "tokenizer.json"), "wb") as out:
        zstandard.ZstdDecompressor().copy_stream(f, out)
    shutil.copy(_FIXTURES / name / "tokenizer_config.json", dst)
    return dst


FIXTURE_DIRS = {name: _unpack(name) for name in ("qwen3_5", "deepseek_v4_1")}
