//! `render_batch`: many conversations in one call, on every core, as columns.

use pyo3::prelude::*;
use tinkex::chat::{Message, Renderer, RendererOptions, ToolSpec, TrainOnWhat};

use crate::convert::named;
use crate::errors::{to_py, to_py_saying};

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
pub(crate) fn render_batch<'py>(
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
