//! `Renderer` (tinker-cookbook's chat formats) and the functions that name one.

use std::sync::Arc;

use pyo3::prelude::*;
use tinkex::chat::{Message, Renderer, RendererOptions, Role, ToolSpec, TrainOnWhat};

use crate::convert::{from_py, ids, named, to_py_json, Out};
use crate::errors::to_py;
use crate::tokenizer::PyTokenizer;

/// The arguments of the supervised-example methods: the messages and the `TrainOnWhat` name.
fn example_args(
    messages: &Bound<'_, PyAny>,
    train_on_what: &str,
) -> PyResult<(Vec<Message>, TrainOnWhat)> {
    Ok((
        from_py(messages, "messages")?,
        named(train_on_what, "train_on_what")?,
    ))
}

/// A chat format (tinker-cookbook's renderers): conversations as the cookbook's message dicts in,
/// token ids (and loss weights) out, sampled replies parsed back. Get one with
/// `tinkex.get_renderer(name, tokenizer)`. Thread-safe.
#[pyclass(name = "Renderer", module = "tinkex", frozen)]
pub(crate) struct PyRenderer {
    inner: Arc<dyn Renderer>,
}

#[pymethods]
impl PyRenderer {
    /// The registry name (`"qwen3"`, …).
    #[getter]
    fn name(&self) -> &str {
        self.inner.name()
    }

    /// The prompt to sample the next message of `role` from (`prefill`: the reply's start).
    #[pyo3(signature = (messages, role = "assistant", prefill = None, *, as_numpy = false))]
    fn build_generation_prompt(
        &self,
        py: Python<'_>,
        messages: &Bound<'_, PyAny>,
        role: &str,
        prefill: Option<&str>,
        as_numpy: bool,
    ) -> PyResult<Py<PyAny>> {
        let messages: Vec<Message> = from_py(messages, "messages")?;
        let role: Role = named(role, "role")?;
        let r = &self.inner;
        let tokens = py
            .detach(|| {
                r.generation_prompt(&messages, role, prefill)
                    .and_then(|p| p.to_ints())
            })
            .map_err(to_py)?;
        Out::new(as_numpy).tokens(py, tokens)
    }

    /// The conversation's tokens and one loss weight per token (unshifted); lists, or numpy
    /// `int64` / `float32` arrays with `as_numpy`.
    #[pyo3(signature = (messages, train_on_what = "last_assistant_message", *, as_numpy = false))]
    fn build_supervised_example(
        &self,
        py: Python<'_>,
        messages: &Bound<'_, PyAny>,
        train_on_what: &str,
        as_numpy: bool,
    ) -> PyResult<(Py<PyAny>, Py<PyAny>)> {
        let (messages, train_on) = example_args(messages, train_on_what)?;
        let r = &self.inner;
        let (tokens, weights) = py
            .detach(|| {
                let (input, weights) = r.supervised_example(&messages, train_on)?;
                Ok((input.to_ints()?, weights))
            })
            .map_err(to_py)?;
        let out = Out::new(as_numpy);
        Ok((out.tokens(py, tokens)?, out.weights(py, weights)?))
    }

    /// One example per trained turn for a format without the extension property, else one.
    /// The default mode is the cookbook's for this method, `last_assistant_turn`.
    #[pyo3(signature = (messages, train_on_what = "last_assistant_turn", *, as_numpy = false))]
    fn build_supervised_examples(
        &self,
        py: Python<'_>,
        messages: &Bound<'_, PyAny>,
        train_on_what: &str,
        as_numpy: bool,
    ) -> PyResult<Vec<(Py<PyAny>, Py<PyAny>)>> {
        let (messages, train_on) = example_args(messages, train_on_what)?;
        let r = &self.inner;
        let examples = py
            .detach(|| {
                r.supervised_examples(&messages, train_on)?
                    .into_iter()
                    .map(|(input, weights)| Ok((input.to_ints()?, weights)))
                    .collect::<tinkex::Result<Vec<_>>>()
            })
            .map_err(to_py)?;
        let out = Out::new(as_numpy);
        examples
            .into_iter()
            .map(|(t, w)| Ok((out.tokens(py, t)?, out.weights(py, w)?)))
            .collect()
    }

    /// What stops sampling: token ids (most formats) or strings.
    fn get_stop_sequences(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let stop = self.inner.stop_sequences().map_err(to_py)?;
        to_py_json(py, &stop)
    }

    /// A sampled reply as a message dict (the cookbook's `message_to_jsonable`) and how it
    /// ended (`"stop_sequence"`, `"eos"` or `"malformed"`).
    fn parse_response(
        &self,
        py: Python<'_>,
        #[pyo3(from_py_with = ids)] tokens: Vec<u32>,
    ) -> PyResult<(Py<PyAny>, String)> {
        let r = &self.inner;
        let (message, termination) = py.detach(|| r.parse_response(&tokens)).map_err(to_py)?;
        Ok((to_py_json(py, &message)?, termination.as_str().to_owned()))
    }

    /// The messages to put before a conversation that may call `tools` (tool spec dicts).
    #[pyo3(signature = (tools, system_prompt = ""))]
    fn create_conversation_prefix_with_tools(
        &self,
        py: Python<'_>,
        tools: &Bound<'_, PyAny>,
        system_prompt: &str,
    ) -> PyResult<Py<PyAny>> {
        let tools: Vec<ToolSpec> = from_py(tools, "tools")?;
        let messages = self
            .inner
            .tool_prefix(&tools, system_prompt)
            .map_err(to_py)?;
        to_py_json(py, &messages)
    }

    /// Whether each generation prompt of a conversation is a prefix of the next.
    #[getter]
    fn has_extension_property(&self) -> bool {
        self.inner.has_extension_property()
    }

    fn __repr__(&self) -> String {
        format!("<tinkex.Renderer {:?}>", self.inner.name())
    }
}

/// The renderer called `name` (tinker-cookbook's `get_renderer`), rendering with `tokenizer`;
/// `current_date` (`YYYY-MM-DD`) is the date gpt-oss's system prompt shows (default: today).
#[pyfunction]
#[pyo3(signature = (name, tokenizer, current_date = None))]
pub(crate) fn get_renderer(
    name: &str,
    tokenizer: &PyTokenizer,
    current_date: Option<&str>,
) -> PyResult<PyRenderer> {
    let options = renderer_options(current_date)?;
    let inner =
        tinkex::chat::renderer_with(name, tokenizer.inner.clone(), &options).map_err(to_py)?;
    Ok(PyRenderer { inner })
}

/// The renderer options of the Python functions: the date gpt-oss's system prompt shows.
pub(crate) fn renderer_options(current_date: Option<&str>) -> PyResult<RendererOptions> {
    let options = RendererOptions::default();
    match current_date {
        Some(date) => options.with_current_date(date).map_err(to_py),
        None => Ok(options),
    }
}

/// Every renderer name `get_renderer` knows, sorted.
#[pyfunction]
pub(crate) fn renderer_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = tinkex::chat::renderer_names().collect();
    names.sort_unstable();
    names
}

/// The renderer names the cookbook recommends for `model`, best first (may be empty).
#[pyfunction]
pub(crate) fn recommended_renderers(model: &str) -> Vec<&'static str> {
    tinkex::chat::recommended_renderers(model).to_vec()
}
