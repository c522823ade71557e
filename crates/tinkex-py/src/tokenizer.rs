//! `Tokenizer`, `DecodeStream` and the functions that get a tokenizer.

use std::sync::Arc;

use pyo3::prelude::*;

use crate::convert::{id_lists, ids, one_id, Out};
use crate::errors::to_py;

/// A tokenizer: encodes text to exactly the ids Python's `transformers` (or `tiktoken`) gives for
/// the model, and decodes ids back. Get one with `tinkex.get_tokenizer(name)`. Thread-safe;
/// methods release the GIL.
#[pyclass(name = "Tokenizer", module = "tinkex", frozen)]
pub(crate) struct PyTokenizer {
    pub(crate) inner: Arc<tinkex::Tokenizer>,
}

#[pymethods]
impl PyTokenizer {
    /// The ids of `text`; with `add_special_tokens` the tokenizer's BOS/EOS where it adds them.
    /// A list, or a numpy `int64` array with `as_numpy`.
    #[pyo3(signature = (text, add_special_tokens = true, *, as_numpy = false))]
    fn encode(
        &self,
        py: Python<'_>,
        text: &str,
        add_special_tokens: bool,
        as_numpy: bool,
    ) -> PyResult<Py<PyAny>> {
        let t = &self.inner;
        let ids = py
            .detach(|| t.encode(text, add_special_tokens))
            .map_err(to_py)?;
        Out::new(as_numpy).tokens(py, ids)
    }

    /// `encode` of each text, on every core; the same ids, in order.
    #[pyo3(signature = (texts, add_special_tokens = true, *, as_numpy = false))]
    fn encode_batch(
        &self,
        py: Python<'_>,
        texts: Vec<String>,
        add_special_tokens: bool,
        as_numpy: bool,
    ) -> PyResult<Vec<Py<PyAny>>> {
        let t = &self.inner;
        let batch = py
            .detach(|| t.encode_batch(&texts, add_special_tokens))
            .map_err(to_py)?;
        let out = Out::new(as_numpy);
        batch.into_iter().map(|ids| out.tokens(py, ids)).collect()
    }

    /// The tokens' text (bytes that are not UTF-8 as U+FFFD, as Hugging Face decodes).
    /// `ids`: a list or any iterable of ints, or a numpy array.
    #[pyo3(signature = (ids, skip_special_tokens = false))]
    fn decode(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = ids)] ids: Vec<u32>,
        skip_special_tokens: bool,
    ) -> PyResult<String> {
        let t = &self.inner;
        py.detach(|| t.decode(&ids, skip_special_tokens))
            .map_err(to_py)
    }

    /// `decode` of each id list, on every core.
    #[pyo3(signature = (batch, skip_special_tokens = false))]
    fn decode_batch(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = id_lists)] batch: Vec<Vec<u32>>,
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
    fn id_to_token(&self, #[pyo3(from_py_with = one_id)] id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// The id of token string `token` (`None` if it is not one).
    fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Whether `id` is a special token.
    fn is_special(&self, #[pyo3(from_py_with = one_id)] id: u32) -> bool {
        self.inner.is_special(id)
    }

    /// A streaming decoder: feed ids one at a time with ``step`` as they are sampled, get text
    /// as soon as it is complete; the pieces and ``flush()`` join to exactly ``decode`` of all
    /// the ids.
    #[pyo3(signature = (skip_special_tokens = false))]
    fn decode_stream(&self, skip_special_tokens: bool) -> PyDecodeStream {
        PyDecodeStream {
            cell: StreamCell::new(self.inner.clone(), |t| t.decode_stream(skip_special_tokens)),
        }
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

type Stream<'a> = tinkex::stream::DecodeStream<'a>;

self_cell::self_cell!(
    /// A tokenizer and a stream that decodes with it.
    struct StreamCell {
        owner: Arc<tinkex::Tokenizer>,
        #[covariant]
        dependent: Stream,
    }
);

/// An incremental decoder (``Tokenizer.decode_stream()``); one per sampled sequence.
#[pyclass(name = "DecodeStream", module = "tinkex")]
pub(crate) struct PyDecodeStream {
    cell: StreamCell,
}

#[pymethods]
impl PyDecodeStream {
    /// Feeds one id; the text it completes, if any (``None`` while a character or a clean-up
    /// decision is still open).
    fn step(&mut self, #[pyo3(from_py_with = one_id)] id: u32) -> PyResult<Option<String>> {
        self.cell
            .with_dependent_mut(|_, s| s.step(id))
            .map_err(to_py)
    }

    /// The text still held back (the end of the sequence).
    fn flush(&mut self) -> PyResult<String> {
        self.cell
            .with_dependent_mut(|_, s| s.flush())
            .map_err(to_py)
    }
}

/// The tokenizer a Tinker model uses — a model name (`Qwen/Qwen3-8B`, with any `:suffix`), a
/// tokenizer repo id or a local directory — loaded once per process and shared (the Rust
/// library's cache; configured from the environment, e.g. `TINKEX_CACHE_DIR`, `HF_HUB_OFFLINE`).
#[pyfunction]
pub(crate) fn get_tokenizer(py: Python<'_>, name: &str) -> PyResult<PyTokenizer> {
    let inner = py
        .detach(|| tinkex::tokenizer::get_or_load_tokenizer(name))
        .map_err(to_py)?;
    Ok(PyTokenizer { inner })
}

/// The tokenizer repo id (or path) that `model` uses, without loading it.
#[pyfunction]
pub(crate) fn get_tokenizer_id(model: &str) -> PyResult<String> {
    tinkex::tokenizer::get_tokenizer_id(model, None).map_err(to_py)
}
