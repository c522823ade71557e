//! `tinkex` for Python: the Rust library's tokenizers and chat renderers behind a small Python
//! API (`python/tinkex/__init__.py` re-exports it; `_tinkex.pyi` types it).
//!
//! Loading goes through the library's process-wide cache (the same resolution and single-flight
//! loading as `tinkex::tokenizer::get_or_load_tokenizer`), so each worker process of a data
//! engine loads a tokenizer once. The GIL is released while loading, encoding and decoding:
//! other Python threads run meanwhile, and `encode_batch` uses every core.
//!
//! Errors become the exception classes of `tinkex._errors` (all subclasses of
//! `tinkex.TinkexError`, and of `ValueError`, `LookupError` or `OSError` where they are one),
//! with the library's message.

mod batch;
mod convert;
mod errors;
mod renderer;
mod tokenizer;

use pyo3::prelude::*;

use batch::render_batch;
use renderer::{get_renderer, recommended_renderers, renderer_names, PyRenderer};
use tokenizer::{get_tokenizer, get_tokenizer_id, PyDecodeStream, PyTokenizer};

#[pymodule]
fn _tinkex(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTokenizer>()?;
    m.add_class::<PyRenderer>()?;
    m.add_class::<PyDecodeStream>()?;
    m.add_function(wrap_pyfunction!(get_renderer, m)?)?;
    m.add_function(wrap_pyfunction!(recommended_renderers, m)?)?;
    m.add_function(wrap_pyfunction!(renderer_names, m)?)?;
    m.add_function(wrap_pyfunction!(render_batch, m)?)?;
    m.add_function(wrap_pyfunction!(get_tokenizer, m)?)?;
    m.add_function(wrap_pyfunction!(get_tokenizer_id, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
