//! The chat-rendering oracle as a data-driven test: every line of `render.jsonl` (tinker-cookbook
//! 0.6.1 on 70 conversations × each renderer; tests/data/chat/PROVENANCE.md) through the
//! library — both supervised variants (tokens and weights), the generation prompt, the parse of
//! the trained completion, the stop sequences, and every refusal.

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

#[derive(Deserialize)]
struct Sft {
    tokens: Vec<u32>,
    weights: Vec<f32>,
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
    #[serde(default)]
    completion: Option<Vec<u32>>,
    #[serde(default)]
    parsed: Option<Parsed>,
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

/// The bundled tokenizer of each oracle fixture, loaded offline with no cache on disk.
fn tokenizer(fixture: &str) -> Arc<tinkex::Tokenizer> {
    let model = match fixture {
        "llama3_1" => "meta-llama/Llama-3.1-8B",
        "qwen3" => "Qwen/Qwen3-8B",
        "deepseek_v3_1" => "deepseek-ai/DeepSeek-V3.1",
        "gpt_oss" => "openai/gpt-oss-20b",
        "o200k_base_chat" => "thinkingmachines/Inkling",
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

fn check(name: &str, file: &str) {
    let rows: Vec<Row> = rows(file)
        .into_iter()
        .filter(|r| r.renderer == name)
        .collect();
    assert!(rows.len() >= 70, "{name}: only {} oracle lines", rows.len());
    let tok = tokenizer(&rows[0].fixture);
    let options = RendererOptions::default()
        .with_current_date("2026-01-01")
        .unwrap();
    let r = chat::renderer_with(name, tok.clone(), &options).unwrap();
    let mut bad: Vec<String> = Vec::new();
    let mut checked = 0usize;
    for row in &rows {
        let case = row.case;
        let stop = serde_json::to_value(r.stop_sequences().unwrap()).unwrap();
        if stop != row.stop {
            bad.push(format!("#{case} stop: got {stop}, want {}", row.stop));
        }
        let prefix = match &row.input.tools {
            Some(tools) => r.tool_prefix(tools, row.input.system_prompt.as_deref().unwrap_or("")),
            None => Ok(Vec::new()),
        };
        let messages = prefix.map(|mut p| {
            p.extend(row.input.messages.iter().cloned());
            p
        });
        if let Some(want) = &row.error {
            // Refused: the first operation the cookbook runs that fails must fail here too,
            // in the cookbook's words where it has some.
            let got = messages.and_then(|m| {
                r.supervised_example(&m, TrainOnWhat::LastAssistantMessage)?;
                r.supervised_example(&m, TrainOnWhat::AllAssistantMessages)?;
                r.generation_prompt(&m[..m.len() - 1], Role::Assistant, None)
            });
            match got {
                Ok(_) => bad.push(format!(
                    "#{case} rendered, but the cookbook refused: {want}"
                )),
                Err(e) if !e.to_string().contains(cookbook_message(want)) => bad.push(format!(
                    "#{case} refused with {e:?}; the cookbook said {want}"
                )),
                Err(_) => {}
            }
            checked += 1;
            continue;
        }
        let messages = match messages {
            Ok(m) => m,
            Err(e) => {
                bad.push(format!("#{case} tool prefix: {e}"));
                continue;
            }
        };
        let sft = row.sft.as_ref().expect("sft");
        for (mode, train_on) in [
            ("last_assistant_message", TrainOnWhat::LastAssistantMessage),
            ("all_assistant_messages", TrainOnWhat::AllAssistantMessages),
        ] {
            let want = &sft[mode];
            match r.supervised_example(&messages, train_on) {
                Ok((input, weights)) => {
                    let tokens = input.to_ints().unwrap();
                    if tokens != want.tokens {
                        let at = tokens
                            .iter()
                            .zip(&want.tokens)
                            .take_while(|(a, b)| a == b)
                            .count();
                        bad.push(format!(
                            "#{case} sft {mode} tokens differ at {at}: got …{:?} = {:?}, want …{:?} = {:?}",
                            &tokens[at..(at + 8).min(tokens.len())],
                            tok.decode(&tokens[at..(at + 8).min(tokens.len())], false),
                            &want.tokens[at..(at + 8).min(want.tokens.len())],
                            tok.decode(&want.tokens[at..(at + 8).min(want.tokens.len())], false),
                        ));
                    } else if weights != want.weights {
                        let at = weights
                            .iter()
                            .zip(&want.weights)
                            .take_while(|(a, b)| a == b)
                            .count();
                        bad.push(format!("#{case} sft {mode} weights differ at {at}"));
                    }
                }
                Err(e) => bad.push(format!("#{case} sft {mode}: {e}")),
            }
        }
        let prompt = r
            .generation_prompt(&messages[..messages.len() - 1], Role::Assistant, None)
            .and_then(|p| p.to_ints());
        match (&prompt, &row.prompt) {
            (Ok(got), Some(want)) if got == want => {}
            (got, want) => bad.push(format!("#{case} prompt: got {got:?}, want {want:?}")),
        }
        if let (Some(completion), Some(parsed)) = (&row.completion, &row.parsed) {
            match r.parse_response(completion) {
                Ok((m, t)) if m.same_as(&parsed.message) && t == parsed.termination => {}
                other => bad.push(format!(
                    "#{case} parsed: got {other:?}, want {:?} {:?}",
                    parsed.message, parsed.termination
                )),
            }
            // The streaming parser ends with the same message.
            let mut p = r.streaming_parser().unwrap();
            let mut deltas = Vec::new();
            for &id in completion {
                deltas.extend(p.feed(id).unwrap());
            }
            deltas.extend(p.finish().unwrap());
            match deltas.last() {
                Some(chat::StreamDelta::Message {
                    message,
                    termination,
                }) if message.same_as(&parsed.message) && *termination == parsed.termination => {}
                other => bad.push(format!("#{case} streaming final: {other:?}")),
            }
        }
        checked += 1;
    }
    assert!(
        bad.is_empty(),
        "{name}: {} of {} lines differ from the cookbook:\n{}",
        bad.len(),
        rows.len(),
        bad.join("\n")
    );
    assert_eq!(checked, rows.len());
}

macro_rules! oracle {
    ($($test:ident: $name:literal;)*) => {
        $(#[test] fn $test() { check($name, "render.jsonl.zst") })*
    };
}

oracle! {
    role_colon: "role_colon";
    llama3: "llama3";
}
