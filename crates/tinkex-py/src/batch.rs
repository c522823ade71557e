//! `render_batch`: many conversations in one call, on every core, as columns or Tinker datums.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use tinkex::chat::{Datum, Message, Reduction, Renderer, ToolSpec, TrainOnWhat};
use tinkex::types::ModelInput;

use crate::convert::{invalid, json_text, named, to_py_json, GcPause, Out};
use crate::errors::{to_py, to_py_saying};
use crate::renderer::renderer_options;

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

/// A conversation as given: JSON text (a JSONL line, or what Python objects that could not be
/// read directly became), parsed on the worker threads; or already read from Python objects.
enum Input {
    Text(String),
    Read(Conversation),
}

/// Each conversation of `value` (an iterable): a `str` is JSON text; a list (messages) or dict
/// (a record) is read straight from the Python objects, or through JSON text when that fails
/// (numpy arrays inside, or a mistake whose message the JSON reader gives).
fn inputs(value: &Bound<'_, PyAny>) -> PyResult<Vec<Input>> {
    if value.is_instance_of::<PyString>() {
        return Err(invalid(
            "conversations: expected a list of conversations, not a str".to_owned(),
        ));
    }
    let iter = value
        .try_iter()
        .map_err(|_| invalid("conversations: expected a list of conversations".to_owned()))?;
    iter.map(|c| {
        let c = c?;
        let read = if c.is_instance_of::<PyString>() {
            None
        } else if c.is_instance_of::<PyList>() {
            pythonize::depythonize(&c).ok().map(Conversation::Messages)
        } else if c.is_instance_of::<PyDict>() {
            pythonize::depythonize(&c).ok().map(Conversation::Record)
        } else {
            None
        };
        Ok(match read {
            Some(conversation) => Input::Read(conversation),
            None => Input::Text(json_text(&c)?),
        })
    })
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

/// What `render_batch` returns.
enum Form {
    /// `{"tokens", "weights"}` columns.
    Columns(Out),
    /// `{"datum"}`: the Tinker API's training datums (truncated, shifted).
    Datum(Option<usize>, Reduction),
}

/// The supervised example of each input, made into `T` by `finish`, on every core; an error
/// names the conversation.
fn render_all<T: Send>(
    r: &dyn Renderer,
    inputs: Vec<Input>,
    train_on: TrainOnWhat,
    finish: impl Fn(ModelInput, Vec<f32>) -> tinkex::Result<T> + Sync,
) -> Result<Vec<T>, (Option<usize>, tinkex::Error)> {
    use rayon::prelude::*;
    inputs
        .into_par_iter()
        .enumerate()
        .map(|(i, input)| {
            let one = || {
                let conversation = match input {
                    Input::Text(text) => conversation(&text)?,
                    Input::Read(conversation) => conversation,
                };
                let messages = conversation.messages(r)?;
                let (model_input, weights) = r.supervised_example(&messages, train_on)?;
                finish(model_input, weights)
            };
            one().map_err(|e| (Some(i), e))
        })
        .collect()
}

/// Supervised examples of many conversations at once, on every core, as columns:
/// `{"tokens": [[int]], "weights": [[float]]}` — a Ray Data `map_batches` function's shape —
/// or, with `form="datum"`, `{"datum": [dict]}`: the Tinker API's `Datum` of each (the
/// cookbook's `datum_from_model_input_weights`: truncated to `max_length`, shifted, weights
/// divided by their sum with `reduction="mean"`).
///
/// Each conversation is a list of message dicts, a dict with `messages` (and optionally
/// `tools`, `system_prompt`: the tool prefix is rendered first), or either as JSON text (a JSONL
/// line). The tokenizer of `model` is loaded once per process (the library's cache). A
/// conversation the renderer refuses fails the call, naming its index.
#[pyfunction]
#[pyo3(signature = (
    renderer_name,
    model,
    conversations,
    train_on_what = "last_assistant_message",
    current_date = None,
    *,
    form = "columns",
    max_length = None,
    reduction = "none",
    as_numpy = false,
    train_on = None,
))]
#[allow(clippy::too_many_arguments)] // Python keyword arguments
pub(crate) fn render_batch<'py>(
    py: Python<'py>,
    renderer_name: &str,
    model: &str,
    conversations: &Bound<'py, PyAny>,
    train_on_what: &str,
    current_date: Option<&str>,
    form: &str,
    max_length: Option<usize>,
    reduction: &str,
    as_numpy: bool,
    train_on: Option<&str>,
) -> PyResult<Bound<'py, PyDict>> {
    // `train_on` is the name the batch entry point was first specified with.
    let train_on_what = match train_on {
        Some(name) if train_on_what != "last_assistant_message" && name != train_on_what => {
            return Err(invalid(
                "give train_on_what or train_on (the same argument), not both".to_owned(),
            ))
        }
        Some(name) => name,
        None => train_on_what,
    };
    let train_on: TrainOnWhat = named(train_on_what, "train_on_what")?;
    let form = match form {
        "columns" if max_length.is_none() && reduction == "none" => {
            Form::Columns(Out::new(as_numpy))
        }
        "columns" => {
            return Err(invalid(
                "max_length and reduction apply to form=\"datum\"".to_owned(),
            ))
        }
        "datum" if as_numpy => {
            return Err(invalid(
                "as_numpy applies to form=\"columns\"; a datum is the Tinker API's JSON".to_owned(),
            ))
        }
        "datum" if max_length.is_some_and(|n| n < 2) => {
            return Err(invalid(format!(
                "max_length {}: a datum needs at least 2 tokens",
                max_length.unwrap_or_default()
            )))
        }
        "datum" => Form::Datum(max_length, reduction.parse().map_err(to_py)?),
        other => {
            return Err(invalid(format!(
                "unknown form `{other}`: expected \"columns\" or \"datum\""
            )))
        }
    };
    let options = renderer_options(current_date)?;
    let inputs = inputs(conversations)?;
    let renderer = || {
        let tok = tinkex::tokenizer::get_or_load_tokenizer(model).map_err(|e| (None, e))?;
        tinkex::chat::renderer_with(renderer_name, tok, &options).map_err(|e| (None, e))
    };
    let failed = |(at, e): (Option<usize>, tinkex::Error)| match at {
        Some(i) => {
            let message = format!("conversation {i}: {e}");
            to_py_saying(&e, message)
        }
        None => to_py(e),
    };
    let out = PyDict::new(py);
    match form {
        Form::Columns(to) => {
            let examples = py
                .detach(|| {
                    render_all(&*renderer()?, inputs, train_on, |input, weights| {
                        Ok((input.to_ints()?, weights))
                    })
                })
                .map_err(failed)?;
            let _gc = GcPause::new(py)?;
            let tokens = PyList::empty(py);
            let weights = PyList::empty(py);
            for (t, w) in examples {
                tokens.append(to.tokens(py, t)?)?;
                weights.append(to.weights(py, w)?)?;
            }
            out.set_item("tokens", tokens)?;
            out.set_item("weights", weights)?;
        }
        Form::Datum(max_length, reduction) => {
            let datums = py
                .detach(|| {
                    render_all(&*renderer()?, inputs, train_on, |input, weights| {
                        Datum::new(&input, &weights, max_length, reduction)
                    })
                })
                .map_err(failed)?;
            out.set_item("datum", to_py_json(py, &datums)?)?;
        }
    }
    Ok(out)
}
