//! Values across the boundary: the cookbook's JSON (messages, tool specs) through Python's
//! `json` module and the library's serde forms, the cookbook's names as the library's enums,
//! token ids in (lists, any iterable, numpy arrays) and out (lists or numpy arrays).

use pyo3::exceptions::PyImportError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyFloat, PyList, PyString};

use crate::errors::to_py;

/// A bad argument as `TinkexValueError`.
pub(crate) fn invalid(message: String) -> PyErr {
    to_py(tinkex::Error::InvalidInput(message))
}

/// `value` as JSON text (`tinkex._json.dumps`: numpy arrays and scalars as lists and numbers);
/// a `str` is taken as JSON text already.
pub(crate) fn json_text(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(s.to_str()?.to_owned());
    }
    value
        .py()
        .import("tinkex._json")?
        .call_method1("dumps", (value,))?
        .extract()
}

/// `value` (the cookbook's message dicts, tool specs: JSON-like Python objects) as `T`, the
/// library's serde form of the cookbook's JSON: read straight from the Python objects, and what
/// that cannot read (numpy arrays, a dict with int keys, a mistake) through JSON text, which
/// also gives the error message.
pub(crate) fn from_py<T: serde::de::DeserializeOwned>(
    value: &Bound<'_, PyAny>,
    what: &str,
) -> PyResult<T> {
    if value.is_instance_of::<PyString>() {
        // A str is a sequence too: never read "hello" as messages.
        return Err(invalid(format!(
            "{what}: expected a list or dict, not a str"
        )));
    }
    if let Ok(v) = pythonize::depythonize::<T>(value) {
        return Ok(v);
    }
    serde_json::from_str(&json_text(value)?).map_err(|e| invalid(format!("{what}: {e}")))
}

/// `value` as Python objects (dicts in field order, lists, str, int, float, bool, None).
pub(crate) fn to_py_json<T: serde::Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    let _gc = GcPause::new(py)?;
    Ok(pythonize::pythonize(py, value)?.unbind())
}

/// Python's cyclic garbage collector paused while many lists and dicts are built (results hold
/// no cycles): otherwise every few hundred new containers start a collection that walks the
/// process's objects — a third of `render_batch`'s time on 10,000 conversations (perf).
pub(crate) struct GcPause<'py> {
    gc: Option<Bound<'py, PyModule>>,
}

impl<'py> GcPause<'py> {
    pub(crate) fn new(py: Python<'py>) -> PyResult<GcPause<'py>> {
        let gc = py.import("gc")?;
        if gc.call_method0("isenabled")?.is_truthy()? {
            gc.call_method0("disable")?;
            return Ok(GcPause { gc: Some(gc) });
        }
        Ok(GcPause { gc: None })
    }
}

impl Drop for GcPause<'_> {
    fn drop(&mut self) {
        if let Some(gc) = &self.gc {
            // Re-enabling cannot fail short of a broken interpreter; nothing to report it to.
            let _ = gc.call_method0("enable");
        }
    }
}

/// A name of the cookbook's as the library's enum (`"assistant"`, `"last_assistant_message"`).
pub(crate) fn named<T: serde::de::DeserializeOwned>(name: &str, what: &str) -> PyResult<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|_| invalid(format!("unknown {what} `{name}`")))
}

/// `value` as something to iterate for ids: a numpy array (or anything else with `tolist()`
/// but a list) as its list, read at C speed; a str refused — it is iterable, never ids.
fn id_sequence<'py>(value: &Bound<'py, PyAny>, what: &str) -> PyResult<Bound<'py, PyAny>> {
    if value.is_instance_of::<PyString>() {
        return Err(invalid(format!("{what}: expected ints, not a str")));
    }
    match value.getattr("tolist") {
        Ok(tolist) if !value.is_instance_of::<PyList>() => tolist.call0(),
        _ => Ok(value.clone()),
    }
}

/// `item` as a token id, or a `TinkexValueError` saying it is none (`what`: where it was).
fn id_of(item: &Bound<'_, PyAny>, what: &str) -> PyResult<u32> {
    item.extract::<u32>().map_err(|_| {
        let shown = item.repr().map(|r| r.to_string()).unwrap_or_default();
        invalid(format!(
            "{what}{shown} is not a token id (an int from 0 to 2**32-1)"
        ))
    })
}

/// Token ids from Python: a list or tuple of ints, any iterable of them, or a numpy array (read
/// with its `tolist()`, at C speed). Anything else — a str, a negative or too large number, a
/// float — is a `TinkexValueError` naming the position.
pub(crate) fn ids(value: &Bound<'_, PyAny>) -> PyResult<Vec<u32>> {
    if let Ok(list) = value.cast::<PyList>() {
        if let Ok(v) = list.extract::<Vec<u32>>() {
            return Ok(v);
        }
    }
    id_sequence(value, "token ids")?
        .try_iter()
        .map_err(|_| invalid("token ids: expected a sequence of ints".to_owned()))?
        .enumerate()
        .map(|(i, item)| id_of(&item?, &format!("token ids[{i}]: ")))
        .collect()
}

/// One token id: an int from 0 to 2**32-1 (a numpy integer too); anything else is a
/// `TinkexValueError`, as in a list of ids.
pub(crate) fn one_id(value: &Bound<'_, PyAny>) -> PyResult<u32> {
    id_of(value, "")
}

/// Lists of token ids (`decode_batch`): an iterable of what [`ids`] takes, or a 2-D array.
pub(crate) fn id_lists(value: &Bound<'_, PyAny>) -> PyResult<Vec<Vec<u32>>> {
    id_sequence(value, "token id lists")?
        .try_iter()
        .map_err(|_| invalid("token id lists: expected a sequence of lists of ints".to_owned()))?
        .map(|item| ids(&item?))
        .collect()
}

/// How results come back: plain lists, or numpy arrays (`as_numpy=True`).
#[derive(Clone, Copy)]
pub(crate) enum Out {
    Lists,
    Numpy,
}

impl Out {
    pub(crate) fn new(as_numpy: bool) -> Out {
        if as_numpy {
            Out::Numpy
        } else {
            Out::Lists
        }
    }

    /// Token ids: a list of ints, or a numpy `int64` array (the dtype torch's embedding and the
    /// Tinker API's `target_tokens` take).
    pub(crate) fn tokens(self, py: Python<'_>, ids: Vec<u32>) -> PyResult<Py<PyAny>> {
        match self {
            Out::Lists => Ok(ids.into_pyobject(py)?.into_any().unbind()),
            Out::Numpy => {
                let bytes: Vec<u8> = ids
                    .iter()
                    .flat_map(|&id| i64::from(id).to_le_bytes())
                    .collect();
                numpy_array(py, &bytes, "<i8")
            }
        }
    }

    /// Loss weights: a list of floats, or a numpy `float32` array (the cookbook's dtype).
    pub(crate) fn weights(self, py: Python<'_>, weights: Vec<f32>) -> PyResult<Py<PyAny>> {
        match self {
            Out::Lists => {
                // Weights are nearly all 0.0 or 1.0: one float object each, shared (floats are
                // immutable), instead of millions of new ones.
                let zero = PyFloat::new(py, 0.0);
                let one = PyFloat::new(py, 1.0);
                let items = weights.iter().map(|&w| match w {
                    _ if w.to_bits() == 0 => zero.clone(),
                    1.0 => one.clone(),
                    _ => PyFloat::new(py, f64::from(w)),
                });
                Ok(PyList::new(py, items)?.into_any().unbind())
            }
            Out::Numpy => {
                let bytes: Vec<u8> = weights.iter().flat_map(|w| w.to_le_bytes()).collect();
                numpy_array(py, &bytes, "<f4")
            }
        }
    }
}

/// A writable numpy array of `dtype` over a copy of `bytes`.
fn numpy_array(py: Python<'_>, bytes: &[u8], dtype: &str) -> PyResult<Py<PyAny>> {
    let numpy = py.import("numpy").map_err(|_| {
        PyImportError::new_err("as_numpy=True needs numpy: pip install numpy (or leave it False)")
    })?;
    let buffer = PyByteArray::new(py, bytes);
    Ok(numpy.call_method1("frombuffer", (buffer, dtype))?.unbind())
}
