//! The library's errors as the exception classes of `tinkex._errors`.

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
pub(crate) fn to_py(e: tinkex::Error) -> PyErr {
    let message = e.to_string();
    to_py_saying(&e, message)
}

/// `e` as the Python exception of its kind, with `message`.
pub(crate) fn to_py_saying(e: &tinkex::Error, message: String) -> PyErr {
    let class = error_class(e);
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
