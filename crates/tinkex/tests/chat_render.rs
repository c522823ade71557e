//! The chat-rendering oracle as a data-driven test: every line of `render.jsonl` (tinker-cookbook
//! 0.6.1 on 70 conversations × each renderer; tests/data/chat/PROVENANCE.md) through the
//! library — both supervised variants (tokens and weights), the generation prompt, the parse of
//! the trained completion, the stop sequences, and every refusal.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use tinkex::chat::{self, Message, RendererOptions, Role, ToolSpec, TrainOnWhat};

#[derive(Deserialize)]
struct Input {
    messages: Vec<Message>,
    #[serde(default)]
    tools: Option<Vec<ToolSpec>>,
    #[serde(default)]
    system_prompt: Option<String>,
}

/// A supervised example, or the cookbook's refusal of that mode.
#[derive(Deserialize)]
#[serde(untagged)]
enum Sft {
    Example { tokens: Vec<u32>, weights: Vec<f32> },
    Refused { error: String },
}

/// `build_supervised_examples`' examples, or the cookbook's refusal.
#[derive(Deserialize)]
#[serde(untagged)]
enum Examples {
    List(Vec<Example>),
    Refused { error: String },
}

#[derive(Deserialize)]
struct Example {
    tokens: Vec<u32>,
    weights: Vec<f32>,
}

/// A prompt, or the cookbook's refusal.
#[derive(Deserialize)]
#[serde(untagged)]
enum Prompt {
    Tokens(Vec<u32>),
    Refused { error: String },
}

#[derive(Deserialize)]
struct Parsed {
    message: Message,
    termination: chat::ParseTermination,
}

#[derive(Deserialize)]
struct Row {
    case: usize,
    renderer: String,
    fixture: String,
    input: Input,
    stop: serde_json::Value,
    #[serde(default)]
    sft: Option<BTreeMap<String, Sft>>,
    #[serde(default)]
    prompt: Option<Vec<u32>>,
    /// The prompt with prefill "Sure, " (scripts/chat_oracle.py lines only).
    #[serde(default)]
    prefill_prompt: Option<Prompt>,
    #[serde(default)]
    completion: Option<Vec<u32>>,
    #[serde(default)]
    parsed: Option<Parsed>,
    /// `build_supervised_examples` per mode (`scripts/chat_oracle.py --examples` lines only).
    #[serde(default)]
    examples: Option<BTreeMap<String, Examples>>,
    #[serde(default)]
    error: Option<String>,
}

fn rows(file: &str) -> Vec<Row> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/chat")
        .join(file);
    let bytes = zstd::stream::decode_all(std::fs::File::open(&path).unwrap()).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{file}: {e}: {l:.200}")))
        .collect()
}

/// The tokenizer of each oracle fixture: the bundled one, loaded offline with no cache on disk,
/// or — for today's families, which are not bundled — the test-only fixture directory.
fn tokenizer(fixture: &str) -> Arc<tinkex::Tokenizer> {
    if matches!(fixture, "qwen3_5" | "deepseek_v4_1") {
        // Read whole when loaded: the directory can go once the tokenizer is built.
        let (_tmp, dir) = common::fixture_dir(fixture);
        let tok = common::from_path(&dir).unwrap_or_else(|e| panic!("{fixture}: {e}"));
        return Arc::new(tok);
    }
    let model = match fixture {
        "llama3_1" => "meta-llama/Llama-3.1-8B",
        "qwen3" => "Qwen/Qwen3-8B",
        "deepseek_v3_1" => "deepseek-ai/DeepSeek-V3.1",
        "gpt_oss" => "openai/gpt-oss-20b",
        "o200k_base_chat" => "thinkingmachines/Inkling",
        // The bundled Kimi tokenizers, by the models they serve (issue #15).
        "kimi_k2" => "moonshotai/Kimi-K2-Thinking",
        "kimi_k25" => "moonshotai/Kimi-K2.6",
        other => panic!("no tokenizer for fixture {other}"),
    };
    let cache = tinkex::cache::TokenizerCache::new(
        tinkex::Config::default()
            .with_offline(true)
            .with_hub_cache(None)
            .with_prepared_cache(None),
    );
    cache
        .get_or_load(model)
        .unwrap_or_else(|e| panic!("{model}: {e}"))
}

/// The cookbook's message without its exception class (`RendererError: …` → `…`).
fn cookbook_message(error: &str) -> &str {
    error.split_once(": ").map_or("", |(_, m)| m)
}

/// What the oracle generator runs, in its order, stopping at the first refusal: the tool
/// prefix, the supervised example of each required mode (`customized` when the messages carry
/// `trainable`, else `last_assistant_message` and `all_assistant_messages`), the generation
/// prompt of all messages but the last, and the parse of the trained completion.
fn pipeline(r: &dyn chat::Renderer, row: &Row) -> tinkex::Result<Vec<Message>> {
    let mut messages = match &row.input.tools {
        Some(tools) => r.tool_prefix(tools, row.input.system_prompt.as_deref().unwrap_or(""))?,
        None => Vec::new(),
    };
    messages.extend(row.input.messages.iter().cloned());
    let customized = messages.iter().any(|m| m.trainable.is_some());
    let required: &[TrainOnWhat] = if customized {
        &[TrainOnWhat::Customized]
    } else {
        &[
            TrainOnWhat::LastAssistantMessage,
            TrainOnWhat::AllAssistantMessages,
        ]
    };
    let mut first = None;
    for &mode in required {
        let (tokens, _) = r.supervised_example(&messages, mode)?;
        first.get_or_insert(tokens.to_ints()?);
    }
    let prompt = r
        .generation_prompt(
            &messages[..messages.len().saturating_sub(1)],
            Role::Assistant,
            None,
        )?
        .to_ints()?;
    let full = first.unwrap_or_default();
    if !customized && full.starts_with(&prompt) {
        r.parse_response(&full[prompt.len()..])?;
    }
    Ok(messages)
}

/// `parse_response(tokens)` gives `message` and `termination`, and so does the streaming
/// parser's final delta; each difference is added to `bad`, labelled.
fn check_parse(
    r: &(dyn chat::Renderer + 'static),
    tokens: &[u32],
    message: &Message,
    termination: chat::ParseTermination,
    label: &str,
    bad: &mut Vec<String>,
) {
    match r.parse_response(tokens) {
        Ok((m, t)) if m.same_as(message) && t == termination => {}
        other => bad.push(format!(
            "{label} {tokens:?}: parsed {other:?}, want {message:?} {termination:?}"
        )),
    }
    let mut p = r.streaming_parser().unwrap();
    let mut deltas = Vec::new();
    for &id in tokens {
        deltas.extend(p.feed(id).unwrap());
    }
    deltas.extend(p.finish().unwrap());
    match deltas.last() {
        Some(chat::StreamDelta::Message {
            message: m,
            termination: t,
        }) if m.same_as(message) && *t == termination => {}
        other => bad.push(format!("{label} streaming final: {other:?}")),
    }
}

fn diff_at<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn check(name: &str, file: &str) {
    let rows: Vec<Row> = rows(file)
        .into_iter()
        .filter(|r| r.renderer == name)
        .collect();
    assert!(!rows.is_empty(), "{name}: no oracle lines in {file}");
    let tok = tokenizer(&rows[0].fixture);
    let options = RendererOptions::default()
        .with_current_date("2026-01-01")
        .unwrap();
    let r = chat::renderer_with(name, tok.clone(), &options).unwrap();
    let show = |ids: &[u32], at: usize| {
        let w = &ids[at.min(ids.len())..(at + 8).min(ids.len())];
        format!("{w:?} = {:?}", tok.decode(w, false).unwrap_or_default())
    };
    let mut bad: Vec<String> = Vec::new();
    for row in &rows {
        let case = row.case;
        let stop = serde_json::to_value(r.stop_sequences().unwrap()).unwrap();
        if stop != row.stop {
            bad.push(format!("#{case} stop: got {stop}, want {}", row.stop));
        }
        let result = pipeline(&*r, row);
        let messages = match (result, &row.error) {
            (Err(e), Some(want)) => {
                // Refused where the cookbook refused, in its words where it has some.
                if !e.to_string().contains(cookbook_message(want)) {
                    bad.push(format!(
                        "#{case} refused with {e}; the cookbook said {want}"
                    ));
                }
                continue;
            }
            (Ok(_), Some(want)) => {
                bad.push(format!(
                    "#{case} rendered, but the cookbook refused: {want}"
                ));
                continue;
            }
            (Err(e), None) => {
                bad.push(format!(
                    "#{case} refused ({e}), but the cookbook rendered it"
                ));
                continue;
            }
            (Ok(m), None) => m,
        };
        for (mode, want) in row.sft.iter().flatten() {
            let train_on: TrainOnWhat = mode.parse().unwrap();
            match (r.supervised_example(&messages, train_on), want) {
                (
                    Ok((input, weights)),
                    Sft::Example {
                        tokens: wt,
                        weights: ww,
                    },
                ) => {
                    let tokens = input.to_ints().unwrap();
                    if tokens != *wt {
                        let at = diff_at(&tokens, wt);
                        bad.push(format!(
                            "#{case} sft {mode} tokens differ at {at}: got {}, want {}",
                            show(&tokens, at),
                            show(wt, at)
                        ));
                    } else if weights != *ww {
                        bad.push(format!(
                            "#{case} sft {mode} weights differ at {}",
                            diff_at(&weights, ww)
                        ));
                    }
                }
                (Err(e), Sft::Refused { error })
                    if e.to_string().contains(cookbook_message(error)) => {}
                (got, want) => bad.push(format!(
                    "#{case} sft {mode}: got {:?}, want {}",
                    got.map(|(i, _)| i.length()),
                    match want {
                        Sft::Example { tokens, .. } => format!("{} tokens", tokens.len()),
                        Sft::Refused { error } => error.clone(),
                    }
                )),
            }
        }
        for (mode, want) in row.examples.iter().flatten() {
            let train_on: TrainOnWhat = mode.parse().unwrap();
            let got = r.supervised_examples(&messages, train_on).and_then(|v| {
                v.into_iter()
                    .map(|(i, w)| Ok((i.to_ints()?, w)))
                    .collect::<tinkex::Result<Vec<_>>>()
            });
            match (got, want) {
                (Ok(got), Examples::List(want))
                    if got.len() == want.len()
                        && got
                            .iter()
                            .zip(want)
                            .all(|((t, w), e)| *t == e.tokens && *w == e.weights) => {}
                (Err(e), Examples::Refused { error })
                    if e.to_string().contains(cookbook_message(error)) => {}
                (got, want) => bad.push(format!(
                    "#{case} examples {mode}: got {:?}, want {}",
                    got.map(|v| v.iter().map(|(t, _)| t.len()).collect::<Vec<_>>()),
                    match want {
                        Examples::List(l) => format!(
                            "{:?} tokens",
                            l.iter().map(|e| e.tokens.len()).collect::<Vec<_>>()
                        ),
                        Examples::Refused { error } => error.clone(),
                    }
                )),
            }
        }
        let prompt = r
            .generation_prompt(&messages[..messages.len() - 1], Role::Assistant, None)
            .and_then(|p| p.to_ints());
        match (&prompt, &row.prompt) {
            (Ok(got), Some(want)) if got == want => {}
            (Ok(got), Some(want)) => {
                let at = diff_at(got, want);
                bad.push(format!(
                    "#{case} prompt differs at {at}: got {}, want {}",
                    show(got, at),
                    show(want, at)
                ))
            }
            (got, want) => bad.push(format!("#{case} prompt: got {got:?}, want {want:?}")),
        }
        if let Some(want) = &row.prefill_prompt {
            let got = r
                .generation_prompt(
                    &messages[..messages.len() - 1],
                    Role::Assistant,
                    Some("Sure, "),
                )
                .and_then(|p| p.to_ints());
            match (got, want) {
                (Ok(got), Prompt::Tokens(want)) if got == *want => {}
                (Err(e), Prompt::Refused { error })
                    if e.to_string().contains(cookbook_message(error)) => {}
                (got, _) => bad.push(format!("#{case} prefill prompt: got {got:?}")),
            }
        }
        if let (Some(completion), Some(parsed)) = (&row.completion, &row.parsed) {
            check_parse(
                &*r,
                completion,
                &parsed.message,
                parsed.termination,
                &format!("#{case}"),
                &mut bad,
            );
        }
    }
    assert!(
        bad.is_empty(),
        "{name}: {} differences from the cookbook in {} lines ({file}):\n{}",
        bad.len(),
        rows.len(),
        bad.join("\n")
    );
}

/// The visible oracle, and `extra.jsonl.zst`: 150 more conversations from
/// `scripts/gen_conversations.py` (seed 7) through `scripts/chat_oracle.py` (every TrainOnWhat
/// mode, a prefill prompt; see tests/data/chat/PROVENANCE.md).
macro_rules! oracle {
    ($($test:ident: $name:literal => [$($file:literal),*];)*) => {
        $(#[test] fn $test() { $(check($name, $file);)* })*
    };
}

oracle! {
    role_colon: "role_colon" => ["render.jsonl.zst", "extra.jsonl.zst"];
    llama3: "llama3" => ["render.jsonl.zst", "extra.jsonl.zst"];
    qwen3: "qwen3" => ["render.jsonl.zst", "extra.jsonl.zst"];
    qwen3_disable_thinking: "qwen3_disable_thinking" => ["render.jsonl.zst", "extra.jsonl.zst"];
    qwen3_instruct: "qwen3_instruct" => ["render.jsonl.zst", "extra.jsonl.zst"];
    deepseekv3: "deepseekv3" => ["render.jsonl.zst", "extra.jsonl.zst"];
    deepseekv3_disable_thinking: "deepseekv3_disable_thinking" => ["extra.jsonl.zst"];
    deepseekv3_thinking: "deepseekv3_thinking" => ["render.jsonl.zst", "extra.jsonl.zst"];
    gpt_oss_no_sysprompt: "gpt_oss_no_sysprompt" => ["render.jsonl.zst", "extra.jsonl.zst"];
    gpt_oss_low_reasoning: "gpt_oss_low_reasoning" => ["extra.jsonl.zst"];
    gpt_oss_medium_reasoning: "gpt_oss_medium_reasoning" => ["render.jsonl.zst", "extra.jsonl.zst"];
    gpt_oss_high_reasoning: "gpt_oss_high_reasoning" => ["extra.jsonl.zst"];
    tml_v0: "tml_v0" => ["render.jsonl.zst", "extra.jsonl.zst", "tml_v0_edge.jsonl.zst"];
    qwen3_5: "qwen3_5" => ["render_next.jsonl.zst", "extra_next.jsonl.zst", "next_edge.jsonl.zst"];
    qwen3_5_disable_thinking: "qwen3_5_disable_thinking" => ["render_next.jsonl.zst", "extra_next.jsonl.zst", "next_edge.jsonl.zst"];
    qwen3_5_preserve_thinking: "qwen3_5_preserve_thinking" => ["render_next.jsonl.zst", "extra_next.jsonl.zst", "next_edge.jsonl.zst"];
    qwen3_8_xhigh_reasoning: "qwen3_8_xhigh_reasoning" => ["render_next.jsonl.zst", "extra_next.jsonl.zst", "next_edge.jsonl.zst"];
    qwen3_8_medium_reasoning: "qwen3_8_medium_reasoning" => ["render_next.jsonl.zst", "extra_next.jsonl.zst", "next_edge.jsonl.zst"];
    qwen3_8_low_reasoning: "qwen3_8_low_reasoning" => ["render_next.jsonl.zst", "extra_next.jsonl.zst", "next_edge.jsonl.zst"];
    qwen3_8_disable_thinking: "qwen3_8_disable_thinking" => ["render_next.jsonl.zst", "extra_next.jsonl.zst", "next_edge.jsonl.zst"];
    deepseekv4_1: "deepseekv4_1" => ["render_next.jsonl.zst", "extra_next.jsonl.zst", "next_edge.jsonl.zst"];
    deepseekv4_1_low_reasoning: "deepseekv4_1_low_reasoning" => ["render_next.jsonl.zst", "extra_next.jsonl.zst", "next_edge.jsonl.zst"];
    deepseekv4_1_max_reasoning: "deepseekv4_1_max_reasoning" => ["render_next.jsonl.zst", "extra_next.jsonl.zst", "next_edge.jsonl.zst"];
    deepseekv4_1_disable_thinking: "deepseekv4_1_disable_thinking" => ["render_next.jsonl.zst", "extra_next.jsonl.zst", "next_edge.jsonl.zst"];
    deepseekv4_1_preserve_thinking: "deepseekv4_1_preserve_thinking" => ["render_next.jsonl.zst", "extra_next.jsonl.zst", "next_edge.jsonl.zst"];
    kimi_k2: "kimi_k2" => ["render_kimi.jsonl.zst", "extra_kimi.jsonl.zst", "kimi_edge.jsonl.zst"];
    kimi_k25: "kimi_k25" => ["render_kimi.jsonl.zst", "extra_kimi.jsonl.zst", "kimi_edge.jsonl.zst"];
    kimi_k25_disable_thinking: "kimi_k25_disable_thinking" => ["render_kimi.jsonl.zst", "extra_kimi.jsonl.zst", "kimi_edge.jsonl.zst"];
    kimi_k26: "kimi_k26" => ["render_kimi.jsonl.zst", "extra_kimi.jsonl.zst", "kimi_edge.jsonl.zst"];
    kimi_k26_disable_thinking: "kimi_k26_disable_thinking" => ["render_kimi.jsonl.zst", "extra_kimi.jsonl.zst", "kimi_edge.jsonl.zst"];
    kimi_k26_preserve_thinking: "kimi_k26_preserve_thinking" => ["render_kimi.jsonl.zst", "extra_kimi.jsonl.zst", "kimi_edge.jsonl.zst"];
}

/// A parse oracle: random replies and the cookbook's `parse_response` of each, through
/// [`check_parse`] — `count` lines for `name` (lines without a renderer are all `name`'s).
fn parse_oracle(file: &str, name: &str, fixture: &str, count: usize) {
    #[derive(Deserialize)]
    struct Line {
        #[serde(default)]
        renderer: Option<String>,
        tokens: Vec<u32>,
        message: Message,
        termination: chat::ParseTermination,
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/chat")
        .join(file);
    let bytes = zstd::stream::decode_all(std::fs::File::open(&path).unwrap()).unwrap();
    let lines: Vec<Line> = String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Line>(l).unwrap())
        .filter(|l| l.renderer.as_deref().is_none_or(|r| r == name))
        .collect();
    assert_eq!(lines.len(), count, "{name}");
    let r = chat::renderer(name, tokenizer(fixture)).unwrap();
    let mut bad = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let label = format!("#{i}");
        check_parse(
            &*r,
            &line.tokens,
            &line.message,
            line.termination,
            &label,
            &mut bad,
        );
    }
    assert!(
        bad.is_empty(),
        "{name}: {} of {count} differ:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// Inkling's parser beyond the trained completions: `tml_v0_parse.jsonl.zst`, 4000 random
/// replies (scripts/tml_v0_parse_oracle.py, seed 1) — headers with names, several turns,
/// special tokens inside content, broken UTF-8, tool-call JSON of every shape, truncations —
/// through the cookbook's `parse_response`, and the streaming parser's final message.
#[test]
fn tml_v0_parse() {
    parse_oracle("tml_v0_parse.jsonl.zst", "tml_v0", "o200k_base_chat", 4000);
}

/// Today's parsers beyond the trained completions: `next_parse.jsonl.zst`, 1500 random replies
/// per renderer (scripts/next_parse_oracle.py, seed 1) — Qwen3.5/3.8 XML tool calls and
/// DeepSeek-V4.1 DSML blocks, well-formed and not, whitespace variants, JSON and non-JSON
/// values, thinking with and without its prefilled opening, truncations.
#[test]
fn qwen3_5_parse() {
    parse_oracle("next_parse.jsonl.zst", "qwen3_5", "qwen3_5", 1500);
}

#[test]
fn qwen3_8_parse() {
    parse_oracle(
        "next_parse.jsonl.zst",
        "qwen3_8_xhigh_reasoning",
        "qwen3_5",
        1500,
    );
}

#[test]
fn deepseekv4_1_parse() {
    parse_oracle(
        "next_parse.jsonl.zst",
        "deepseekv4_1",
        "deepseek_v4_1",
        1500,
    );
}

#[test]
fn deepseekv4_1_disable_thinking_parse() {
    parse_oracle(
        "next_parse.jsonl.zst",
        "deepseekv4_1_disable_thinking",
        "deepseek_v4_1",
        1500,
    );
}

/// Kimi's parser beyond the trained completions: `kimi_parse.jsonl.zst`, 1500 random replies per
/// class (scripts/kimi_parse_oracle.py, seed 1; `kimi_k26*` build the same classes) — tool-call
/// sections in both spellings, complete and dangling, ids with whitespace, Unicode digits or no
/// index, JSON and non-JSON arguments, text after a section, thinking with and without the
/// prefilled `<think>`, truncations.
#[test]
fn kimi_k2_parse() {
    parse_oracle("kimi_parse.jsonl.zst", "kimi_k2", "kimi_k2", 1500);
}

#[test]
fn kimi_k25_parse() {
    parse_oracle("kimi_parse.jsonl.zst", "kimi_k25", "kimi_k25", 1500);
}

#[test]
fn kimi_k25_disable_thinking_parse() {
    parse_oracle(
        "kimi_parse.jsonl.zst",
        "kimi_k25_disable_thinking",
        "kimi_k25",
        1500,
    );
}
