//! Values across the boundary: the cookbook's JSON (messages, tool specs) through Python's
//! `json` module and the library's serde forms, and the cookbook's names as the library's enums.

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// `value` (a JSON-able Python object: the cookbook's message dicts, tool specs) as `T`, through
/// Python's `json` module and the library's serde forms of the cookbook's JSON.
pub(crate) fn from_py<T: serde::de::DeserializeOwned>(
    value: &Bound<'_, PyAny>,
    what: &str,
) -> PyResult<T> {
    let py = value.py();
    let text: String = py
        .import("json")?
        .call_method1("dumps", (value,))?
        .extract()?;
    serde_json::from_str(&text).map_err(|e| PyValueError::new_err(format!("{what}: {e}")))
}

/// `value` as a Python object (dicts, lists, strings, numbers), through JSON.
pub(crate) fn to_py_json<T: serde::Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    let text = serde_json::to_string(value).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

/// A name of the cookbook's as the library's enum (`"assistant"`, `"last_assistant_message"`).
pub(crate) fn named<T: serde::de::DeserializeOwned>(name: &str, what: &str) -> PyResult<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|_| PyValueError::new_err(format!("unknown {what} `{name}`")))
}
