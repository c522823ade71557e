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

use std::sync::Arc;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyType;
use tinkex::chat::{Message, Renderer, RendererOptions, Role, ToolSpec, TrainOnWhat};

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
    let message = e.to_string();
    to_py_saying(&e, message)
}

/// `e` as the Python exception of its kind, with `message`.
fn to_py_saying(e: &tinkex::Error, message: String) -> PyErr {
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
struct PyDecodeStream {
    cell: StreamCell,
}

#[pymethods]
impl PyDecodeStream {
    /// Feeds one id; the text it completes, if any (``None`` while a character or a clean-up
    /// decision is still open).
    fn step(&mut self, id: u32) -> PyResult<Option<String>> {
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

/// `value` (a JSON-able Python object: the cookbook's message dicts, tool specs) as `T`, through
/// Python's `json` module and the library's serde forms of the cookbook's JSON.
fn from_py<T: serde::de::DeserializeOwned>(value: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    let py = value.py();
    let text: String = py
        .import("json")?
        .call_method1("dumps", (value,))?
        .extract()?;
    serde_json::from_str(&text).map_err(|e| PyValueError::new_err(format!("{what}: {e}")))
}

/// `value` as a Python object (dicts, lists, strings, numbers), through JSON.
fn to_py_json<T: serde::Serialize>(py: Python<'_>, value: &T) -> PyResult<Py<PyAny>> {
    let text = serde_json::to_string(value).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

/// A name of the cookbook's as the library's enum (`"assistant"`, `"last_assistant_message"`).
fn named<T: serde::de::DeserializeOwned>(name: &str, what: &str) -> PyResult<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|_| PyValueError::new_err(format!("unknown {what} `{name}`")))
}

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
struct PyRenderer {
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
    #[pyo3(signature = (messages, role = "assistant", prefill = None))]
    fn build_generation_prompt(
        &self,
        py: Python<'_>,
        messages: &Bound<'_, PyAny>,
        role: &str,
        prefill: Option<&str>,
    ) -> PyResult<Vec<u32>> {
        let messages: Vec<Message> = from_py(messages, "messages")?;
        let role: Role = named(role, "role")?;
        let r = &self.inner;
        py.detach(|| {
            r.generation_prompt(&messages, role, prefill)
                .and_then(|p| p.to_ints())
        })
        .map_err(to_py)
    }

    /// The conversation's tokens and one loss weight per token (unshifted).
    #[pyo3(signature = (messages, train_on_what = "last_assistant_message"))]
    fn build_supervised_example(
        &self,
        py: Python<'_>,
        messages: &Bound<'_, PyAny>,
        train_on_what: &str,
    ) -> PyResult<(Vec<u32>, Vec<f32>)> {
        let (messages, train_on) = example_args(messages, train_on_what)?;
        let r = &self.inner;
        py.detach(|| {
            let (input, weights) = r.supervised_example(&messages, train_on)?;
            Ok((input.to_ints()?, weights))
        })
        .map_err(to_py)
    }

    /// One example per trained turn for a format without the extension property, else one.
    #[pyo3(signature = (messages, train_on_what = "last_assistant_message"))]
    fn build_supervised_examples(
        &self,
        py: Python<'_>,
        messages: &Bound<'_, PyAny>,
        train_on_what: &str,
    ) -> PyResult<Vec<(Vec<u32>, Vec<f32>)>> {
        let (messages, train_on) = example_args(messages, train_on_what)?;
        let r = &self.inner;
        py.detach(|| {
            r.supervised_examples(&messages, train_on)?
                .into_iter()
                .map(|(input, weights)| Ok((input.to_ints()?, weights)))
                .collect::<tinkex::Result<Vec<_>>>()
        })
        .map_err(to_py)
    }

    /// What stops sampling: token ids (most formats) or strings.
    fn get_stop_sequences(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let stop = self.inner.stop_sequences().map_err(to_py)?;
        to_py_json(py, &stop)
    }

    /// A sampled reply as a message dict (the cookbook's `message_to_jsonable`) and how it
    /// ended (`"stop_sequence"`, `"eos"` or `"malformed"`).
    fn parse_response(&self, py: Python<'_>, tokens: Vec<u32>) -> PyResult<(Py<PyAny>, String)> {
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
fn get_renderer(
    name: &str,
    tokenizer: &PyTokenizer,
    current_date: Option<&str>,
) -> PyResult<PyRenderer> {
    let mut options = RendererOptions::default();
    if let Some(date) = current_date {
        options = options.with_current_date(date).map_err(to_py)?;
    }
    let inner =
        tinkex::chat::renderer_with(name, tokenizer.inner.clone(), &options).map_err(to_py)?;
    Ok(PyRenderer { inner })
}

/// The renderer names the cookbook recommends for `model`, best first (may be empty).
#[pyfunction]
fn recommended_renderers(model: &str) -> Vec<&'static str> {
    tinkex::chat::recommended_renderers(model).to_vec()
}

/// One conversation of [`render_batch`]: its messages, or an object with them (and tools).
enum Conversation {
    Messages(Vec<Message>),
    Record(Record),
}

#[derive(serde::Deserialize)]
struct Record {
    messages: Vec<Message>,
    #[serde(default)]
    tools: Option<Vec<ToolSpec>>,
    #[serde(default)]
    system_prompt: Option<String>,
}

/// Each conversation of `value` (a Python sequence) as JSON text, by Python's `json` module.
fn conversation_texts(value: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    let dumps = value.py().import("json")?.getattr("dumps")?;
    value
        .try_iter()?
        .map(|c| dumps.call1((c?,))?.extract::<String>())
        .collect()
}

/// A conversation's JSON text, read by its shape (an array: messages; an object: a record), so
/// that a bad message is reported as such.
fn conversation(text: &str) -> tinkex::Result<Conversation> {
    let read = if text.trim_start().starts_with('[') {
        serde_json::from_str(text).map(Conversation::Messages)
    } else {
        serde_json::from_str(text).map(Conversation::Record)
    };
    read.map_err(|e| tinkex::Error::InvalidInput(e.to_string()))
}

impl Conversation {
    /// The messages to render: the tool prefix first where the record has tools.
    fn messages(self, r: &dyn Renderer) -> tinkex::Result<Vec<Message>> {
        match self {
            Conversation::Messages(m) => Ok(m),
            Conversation::Record(Record {
                messages,
                tools,
                system_prompt,
            }) => {
                let mut all = match tools {
                    Some(tools) => r.tool_prefix(&tools, system_prompt.as_deref().unwrap_or(""))?,
                    None => Vec::new(),
                };
                all.extend(messages);
                Ok(all)
            }
        }
    }
}

/// Supervised examples of many conversations at once, on every core, as columns:
/// `{"tokens": [[int]], "weights": [[float]]}` — a Ray Data `map_batches` function's shape.
/// Each conversation is a list of message dicts or a dict with `messages` (and optionally
/// `tools`, `system_prompt`: the tool prefix is rendered first). The tokenizer of `model` is
/// loaded once per process (the library's cache). A conversation the renderer refuses fails the
/// call, naming its index.
#[pyfunction]
#[pyo3(signature = (renderer_name, model, conversations, train_on_what = "last_assistant_message", current_date = None))]
fn render_batch<'py>(
    py: Python<'py>,
    renderer_name: &str,
    model: &str,
    conversations: &Bound<'py, PyAny>,
    train_on_what: &str,
    current_date: Option<&str>,
) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
    use rayon::prelude::*;
    let texts = conversation_texts(conversations)?;
    let train_on: TrainOnWhat = named(train_on_what, "train_on_what")?;
    let mut options = RendererOptions::default();
    if let Some(date) = current_date {
        options = options.with_current_date(date).map_err(to_py)?;
    }
    let examples = py.detach(|| {
        let tok = tinkex::tokenizer::get_or_load_tokenizer(model).map_err(|e| (None, e))?;
        let r = tinkex::chat::renderer_with(renderer_name, tok, &options).map_err(|e| (None, e))?;
        texts
            .par_iter()
            .enumerate()
            .map(|(i, text)| {
                let example = conversation(text)
                    .and_then(|c| c.messages(&*r))
                    .and_then(|m| {
                        let (input, weights) = r.supervised_example(&m, train_on)?;
                        Ok((input.to_ints()?, weights))
                    });
                example.map_err(|e| (Some(i), e))
            })
            .collect::<Result<Vec<_>, _>>()
    });
    let examples = examples.map_err(|(at, e)| match at {
        Some(i) => {
            let message = format!("conversation {i}: {e}");
            to_py_saying(&e, message)
        }
        None => to_py(e),
    })?;
    let (tokens, weights): (Vec<Vec<u32>>, Vec<Vec<f32>>) = examples.into_iter().unzip();
    let out = pyo3::types::PyDict::new(py);
    out.set_item("tokens", tokens)?;
    out.set_item("weights", weights)?;
    Ok(out)
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
    m.add_class::<PyRenderer>()?;
    m.add_class::<PyDecodeStream>()?;
    m.add_function(wrap_pyfunction!(get_renderer, m)?)?;
    m.add_function(wrap_pyfunction!(recommended_renderers, m)?)?;
    m.add_function(wrap_pyfunction!(render_batch, m)?)?;
    m.add_function(wrap_pyfunction!(get_tokenizer, m)?)?;
    m.add_function(wrap_pyfunction!(get_tokenizer_id, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
