//! `tinkex chat`: conversations into supervised examples (`sft`) and generation prompts
//! (`prompt`), sampled tokens back into messages (`parse`), stop sequences (`stop`), with any
//! renderer `tinkex::chat` has.

use std::io;
use std::sync::Arc;

use anyhow::{Context, Result};
use rayon::prelude::*;
use serde::Serialize;
use tinkex::cache::TokenizerCache;
use tinkex::chat::{
    self, Datum, Message, ParseTermination, Reduction, Renderer, RendererOptions, TrainOnWhat,
};

use crate::cli::{ChatCommand, RendererArgs};
use crate::commands::{case_twin, did_you_mean, jsonl, locate, recommended_renderers};
use crate::parse::{conversation_record, to_u32, tokens_record, Conversation};
use crate::report::usage;
use crate::stream::{Lines, Output};

/// Runs a `chat` subcommand.
pub fn run(command: ChatCommand, cache: &TokenizerCache, out: &mut Output) -> Result<()> {
    let r = renderer(command.renderer_args(), command.path(), cache)?;
    let r = &*r;
    match command {
        ChatCommand::Sft(args) => {
            let max_length = args
                .max_length
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
            let sft = Sft {
                train_on: args.train_on,
                per_turn: args.per_turn,
                datum: args
                    .datum
                    .then(|| (max_length, args.reduction.unwrap_or_default())),
            };
            batched(out, |n, line, buf| sft.line(r, n, line, buf))
        }
        ChatCommand::Prompt(args) => batched(out, |n, line, buf| {
            let messages = conversation(r, n, line)?;
            let tokens = r
                .generation_prompt(&messages, args.role, args.prefill.as_deref())
                .and_then(|p| p.to_ints())
                .with_context(|| format!("line {n}"))?;
            json_line(buf, &Tokens { tokens: &tokens })
        }),
        ChatCommand::Parse(args) if args.stream => parse_stream(r, out),
        ChatCommand::Parse(_) => batched(out, |n, line, buf| {
            let ids = sampled_ids(r, n, line)?;
            let (message, termination) = r
                .parse_response(&ids)
                .with_context(|| format!("line {n}"))?;
            json_line(
                buf,
                &Parsed {
                    message: &message,
                    termination,
                },
            )
        }),
        ChatCommand::Stop(_) => {
            let mut buf = Vec::new();
            json_line(
                &mut buf,
                &Stop {
                    stop: r.stop_sequences()?,
                },
            )?;
            out.write(&buf)
        }
    }
}

/// The renderer `args` name, with its tokenizer: `--renderer`, or the model's first
/// recommended one. Checked before the tokenizer is loaded: a model with no recommended
/// renderer and no `--renderer` is a usage error, an unknown name an error listing the known.
fn renderer(
    args: &RendererArgs,
    path: &'static [&'static str],
    cache: &TokenizerCache,
) -> Result<Arc<dyn Renderer>> {
    let located = locate(&(&args.target).into(), cache)?;
    let known = || chat::renderer_names().collect::<Vec<_>>().join(", ");
    let (name, default) = match &args.renderer {
        Some(name) => (name.as_str(), false),
        None => match recommended_renderers(&located.model).first() {
            Some(name) => (*name, true),
            None => {
                let twin = case_twin(&located.model)
                    .map(|k| format!("; did you mean {k}? (model names are case-sensitive)"))
                    .unwrap_or_default();
                return Err(usage(
                    path,
                    format!(
                        "--renderer NAME is required: `{}` has no recommended chat renderer \
                         (tinkex renders: {}){twin}",
                        located.model,
                        known()
                    ),
                ));
            }
        },
    };
    if !chat::renderer_names().any(|n| n == name) {
        let err = anyhow::Error::new(tinkex::Error::UnknownRenderer {
            name: name.to_owned(),
            available: known(),
        });
        return Err(if default {
            err.context(format!("the default renderer of `{}`", located.model))
        } else {
            err
        });
    }
    let tok = cache
        .get_or_load_resolved(&located.resolution)
        .map_err(|e| did_you_mean(e.into(), Some(&located.model)))?;
    let mut options = RendererOptions::default();
    if let Some(date) = &args.current_date {
        options = options.with_current_date(date.as_str())?;
    }
    Ok(chat::renderer_with(name, tok, &options)?)
}

/// Reads JSON Lines from stdin as they arrive, runs `line` (line number, text, output buffer)
/// on each batch of them on every core, and writes each line's output in input order. At the
/// first failing line, everything before it is written and its error returned.
fn batched(
    out: &mut Output,
    line: impl Fn(usize, &str, &mut Vec<u8>) -> Result<()> + Sync,
) -> Result<()> {
    jsonl(
        |_, text| Ok(text.to_owned()),
        out,
        |batch, out| {
            let done: Vec<Result<Vec<u8>>> = batch
                .par_iter()
                .map(|(n, text)| {
                    let mut buf = Vec::with_capacity(text.len());
                    line(*n, text, &mut buf)?;
                    Ok(buf)
                })
                .collect();
            done.into_iter().try_for_each(|r| out.write(&r?))
        },
    )
}

/// Appends `value` as one JSON line.
fn json_line(buf: &mut Vec<u8>, value: &impl Serialize) -> Result<()> {
    serde_json::to_writer(&mut *buf, value)?;
    buf.push(b'\n');
    Ok(())
}

/// The messages of the conversation on line `n`: the renderer's tool prefix (when the line has
/// `tools`), then its `messages`.
fn conversation(r: &dyn Renderer, n: usize, line: &str) -> Result<Vec<Message>> {
    let Conversation {
        messages,
        tools,
        system_prompt,
    } = conversation_record(n, line)?;
    let Some(tools) = tools else {
        return Ok(messages);
    };
    let mut all = r
        .tool_prefix(&tools, system_prompt.as_deref().unwrap_or(""))
        .with_context(|| format!("line {n}"))?;
    all.extend(messages);
    Ok(all)
}

/// `chat sft`'s settings.
struct Sft {
    train_on: TrainOnWhat,
    /// `--per-turn`: `supervised_examples`, all of a conversation's examples on its line.
    per_turn: bool,
    /// With `--datum`: the maximum length and the reduction.
    datum: Option<(Option<usize>, Reduction)>,
}

impl Sft {
    fn line(&self, r: &dyn Renderer, n: usize, line: &str, buf: &mut Vec<u8>) -> Result<()> {
        let at = || format!("line {n}");
        let messages = conversation(r, n, line)?;
        if self.per_turn {
            let examples = r
                .supervised_examples(&messages, self.train_on)
                .with_context(at)?;
            return match self.datum {
                Some((max_length, reduction)) => {
                    let datums = examples
                        .iter()
                        .map(|(t, w)| Datum::new(t, w, max_length, reduction))
                        .collect::<tinkex::Result<Vec<_>>>()
                        .with_context(at)?;
                    json_line(buf, &PerTurn { datums })
                }
                None => {
                    let examples = examples
                        .iter()
                        .map(|(t, w)| Ok((t.to_ints()?, w)))
                        .collect::<tinkex::Result<Vec<_>>>()
                        .with_context(at)?;
                    let examples = examples
                        .iter()
                        .map(|(tokens, weights)| Example { tokens, weights })
                        .collect();
                    json_line(buf, &PerTurnExamples { examples })
                }
            };
        }
        let (tokens, weights) = r
            .supervised_example(&messages, self.train_on)
            .with_context(at)?;
        match self.datum {
            Some((max_length, reduction)) => {
                let datum =
                    Datum::new(&tokens, &weights, max_length, reduction).with_context(at)?;
                json_line(buf, &datum)
            }
            None => {
                let tokens = tokens.to_ints().with_context(at)?;
                json_line(
                    buf,
                    &Example {
                        tokens: &tokens,
                        weights: &weights,
                    },
                )
            }
        }
    }
}

/// `chat sft --per-turn --datum`'s line.
#[derive(Serialize)]
struct PerTurn {
    datums: Vec<Datum>,
}

/// `chat sft --per-turn`'s line.
#[derive(Serialize)]
struct PerTurnExamples<'a> {
    examples: Vec<Example<'a>>,
}

/// The ids of a `{"tokens": [...]}` line, each checked against the vocabulary.
fn sampled_ids(r: &dyn Renderer, n: usize, line: &str) -> Result<Vec<u32>> {
    let tok = r.tokenizer();
    let ids =
        to_u32(&tokens_record(n, line)?, tok.vocab_size()).with_context(|| format!("line {n}"))?;
    // Decoding checks every id (the vocabulary may have gaps); parsing alone would not look at
    // ids after the stop sequence.
    tok.decode(&ids, false)
        .with_context(|| format!("line {n}"))?;
    Ok(ids)
}

/// `chat parse --stream`: line by line, the streaming parser's deltas, each line's written and
/// flushed once the line is parsed (nothing of a failing line is written).
fn parse_stream(r: &(dyn Renderer + 'static), out: &mut Output) -> Result<()> {
    let mut lines = Lines::new(io::stdin().lock());
    let mut buf = Vec::new();
    while let Some((n, line)) = lines.next_line()? {
        let at = || format!("line {n}");
        let ids = sampled_ids(r, n, &line)?;
        let mut parser = r.streaming_parser().with_context(at)?;
        buf.clear();
        for id in ids {
            for delta in parser.feed(id).with_context(at)? {
                json_line(&mut buf, &delta)?;
            }
        }
        for delta in parser.finish().with_context(at)? {
            json_line(&mut buf, &delta)?;
        }
        out.write(&buf)?;
        out.flush()?;
    }
    Ok(())
}

/// `chat sft`'s line.
#[derive(Serialize)]
struct Example<'a> {
    tokens: &'a [u32],
    weights: &'a [f32],
}

/// `chat prompt`'s line.
#[derive(Serialize)]
struct Tokens<'a> {
    tokens: &'a [u32],
}

/// `chat parse`'s line.
#[derive(Serialize)]
struct Parsed<'a> {
    message: &'a Message,
    termination: ParseTermination,
}

/// `chat stop`'s line.
#[derive(Serialize)]
struct Stop {
    stop: chat::StopSequences,
}
