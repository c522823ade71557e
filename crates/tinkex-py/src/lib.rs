//! `tinkex` for Python: the Rust library's tokenizers behind a small Python API
//! (`python/tinkex/__init__.py` re-exports it; `_tinkex.pyi` types it).
//!
//! Loading goes through the library's process-wide cache (the same resolution and single-flight
//! loading as `tinkex::tokenizer::get_or_load_tokenizer`), so each worker process of a data
//! engine loads a tokenizer once. The GIL is released while loading, encoding and decoding:
//! other Python threads run meanwhile, and `encode_batch` uses every core.
//!
//! Errors become the exception classes of `tinkex._errors` (all subclasses of
//! `tinkex.TinkexError`, and of `ValueError`, `LookupError` or `OSError` where they are one),
//! with the library's message.

use std::sync::Arc;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyType;

/// The Python class name (in `tinkex._errors`) for `e`.
fn error_class(e: &tinkex::Error) -> &'static str {
    use tinkex::Error as E;
    match e {
        E::NotFound { .. }
        | E::RevisionNotFound { .. }
        | E::PrivateTokenizer { .. }
        | E::UnknownRenderer { .. } => "TinkexLookupError",
        E::InvalidTokenId { .. }
        | E::InvalidInput(..)
        | E::InvalidId { .. }
        | E::Parse { .. }
        | E::Unsupported { .. }
        | E::RendererUnsupported { .. }
        | E::Config { .. } => "TinkexValueError",
        E::Io { .. }
        | E::Network { .. }
        | E::Http { .. }
        | E::Offline { .. }
        | E::AuthRequired { .. }
        | E::Locked { .. }
        | E::Integrity { .. }
        | E::TooManyRedirects { .. } => "TinkexOSError",
        _ => "TinkexError",
    }
}

/// `e` as the Python exception of its kind.
fn to_py(e: tinkex::Error) -> PyErr {
    let class = error_class(&e);
    let message = e.to_string();
    Python::attach(|py| {
        match py
            .import("tinkex._errors")
            .and_then(|m| m.getattr(class))
            .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from))
        {
            Ok(cls) => PyErr::from_type(cls, message),
            // The package is broken (its Python half missing): still an error, never a panic.
            Err(_) => PyRuntimeError::new_err(message),
        }
    })
}

/// A tokenizer: encodes text to exactly the ids Python's `transformers` (or `tiktoken`) gives for
/// the model, and decodes ids back. Get one with `tinkex.get_tokenizer(name)`. Thread-safe;
/// methods release the GIL.
#[pyclass(name = "Tokenizer", module = "tinkex", frozen)]
struct PyTokenizer {
    inner: Arc<tinkex::Tokenizer>,
}

#[pymethods]
impl PyTokenizer {
    /// The ids of `text`; with `add_special_tokens` the tokenizer's BOS/EOS where it adds them.
    #[pyo3(signature = (text, add_special_tokens = true))]
    fn encode(&self, py: Python<'_>, text: &str, add_special_tokens: bool) -> PyResult<Vec<u32>> {
        let t = &self.inner;
        py.detach(|| t.encode(text, add_special_tokens))
            .map_err(to_py)
    }

    /// `encode` of each text, on every core; the same ids, in order.
    #[pyo3(signature = (texts, add_special_tokens = true))]
    fn encode_batch(
        &self,
        py: Python<'_>,
        texts: Vec<String>,
        add_special_tokens: bool,
    ) -> PyResult<Vec<Vec<u32>>> {
        let t = &self.inner;
        py.detach(|| t.encode_batch(&texts, add_special_tokens))
            .map_err(to_py)
    }

    /// The tokens' text (bytes that are not UTF-8 as U+FFFD, as Hugging Face decodes).
    #[pyo3(signature = (ids, skip_special_tokens = false))]
    fn decode(&self, py: Python<'_>, ids: Vec<u32>, skip_special_tokens: bool) -> PyResult<String> {
        let t = &self.inner;
        py.detach(|| t.decode(&ids, skip_special_tokens))
            .map_err(to_py)
    }

    /// `decode` of each id list, on every core.
    #[pyo3(signature = (batch, skip_special_tokens = false))]
    fn decode_batch(
        &self,
        py: Python<'_>,
        batch: Vec<Vec<u32>>,
        skip_special_tokens: bool,
    ) -> PyResult<Vec<String>> {
        let t = &self.inner;
        py.detach(|| t.decode_batch(&batch, skip_special_tokens))
            .map_err(to_py)
    }

    /// How many ids `encode(text, add_special_tokens=False)` gives.
    fn count(&self, py: Python<'_>, text: &str) -> PyResult<usize> {
        let t = &self.inner;
        py.detach(|| t.count(text)).map_err(to_py)
    }

    /// The token string of `id` (`None` if there is none).
    fn id_to_token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// The id of token string `token` (`None` if it is not one).
    fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Whether `id` is a special token.
    fn is_special(&self, id: u32) -> bool {
        self.inner.is_special(id)
    }

    /// One past the largest id.
    #[getter]
    fn vocab_size(&self) -> u32 {
        self.inner.vocab_size()
    }

    /// Where the tokenizer came from (a repo id, a built-in name or a path).
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn __repr__(&self) -> String {
        format!(
            "<tinkex.Tokenizer {:?}, vocab_size={}>",
            self.inner.name(),
            self.inner.vocab_size()
        )
    }
}

/// The tokenizer a Tinker model uses — a model name (`Qwen/Qwen3-8B`, with any `:suffix`), a
/// tokenizer repo id or a local directory — loaded once per process and shared (the Rust
/// library's cache; configured from the environment, e.g. `TINKEX_CACHE_DIR`, `HF_HUB_OFFLINE`).
#[pyfunction]
fn get_tokenizer(py: Python<'_>, name: &str) -> PyResult<PyTokenizer> {
    let inner = py
        .detach(|| tinkex::tokenizer::get_or_load_tokenizer(name))
        .map_err(to_py)?;
    Ok(PyTokenizer { inner })
}

/// The tokenizer repo id (or path) that `model` uses, without loading it.
#[pyfunction]
fn get_tokenizer_id(model: &str) -> PyResult<String> {
    tinkex::tokenizer::get_tokenizer_id(model, None).map_err(to_py)
}

#[pymodule]
fn _tinkex(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTokenizer>()?;
    m.add_function(wrap_pyfunction!(get_tokenizer, m)?)?;
    m.add_function(wrap_pyfunction!(get_tokenizer_id, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
