//! `chat sft` through the library: conversations per second of `supervised_example` (JSON line
//! parsed into messages, tool prefix, render) on the visible conversations repeated to 10,000 —
//! the conversations each renderer accepts (llama3 refuses thinking and tools) — single thread
//! and on all cores. Load excluded; the whole-process comparison with tinker-cookbook is
//! `scripts/chat-bench.sh`.
//!
//! `cargo bench -p tinkex --bench chat` (or `-- --quick`: 1,000 conversations, one round).

mod common;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use serde::Deserialize;
use tinkex::chat::{self, Message, RendererOptions, ToolSpec, TrainOnWhat};

#[derive(Deserialize)]
struct Line {
    messages: Vec<Message>,
    #[serde(default)]
    tools: Option<Vec<ToolSpec>>,
    #[serde(default)]
    system_prompt: Option<String>,
}

fn render(r: &dyn chat::Renderer, line: &str) -> tinkex::Result<usize> {
    let l: Line =
        serde_json::from_str(line).map_err(|e| tinkex::Error::InvalidInput(e.to_string()))?;
    let mut messages = match &l.tools {
        Some(t) => r.tool_prefix(t, l.system_prompt.as_deref().unwrap_or(""))?,
        None => Vec::new(),
    };
    messages.extend(l.messages);
    let (tokens, weights) = r.supervised_example(&messages, TrainOnWhat::LastAssistantMessage)?;
    Ok(tokens.length()? + weights.len())
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n = if quick { 1_000 } else { 10_000 };
    let rounds = if quick { 1 } else { 3 };
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/chat/conversations.jsonl.zst"
    );
    let raw = zstd::stream::decode_all(std::fs::File::open(path).unwrap()).unwrap();
    let text = String::from_utf8(raw).unwrap();
    let conversations: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let cache = tinkex::cache::TokenizerCache::new(
        tinkex::Config::default()
            .with_offline(true)
            .with_prepared_cache(None),
    );
    let options = RendererOptions::default()
        .with_current_date("2026-01-01")
        .unwrap();
    println!(
        "{:<26} {:>6} {:>14} {:>14} {:>8}",
        "renderer", "convs", "1 thread/s", "all cores/s", "cores"
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Today's families are not bundled: their test-only fixture directories.
    let qwen3_5 = common::fixture_dir("qwen3_5").display().to_string();
    let deepseek_v4_1 = common::fixture_dir("deepseek_v4_1").display().to_string();
    for (name, model) in [
        ("qwen3", "Qwen/Qwen3-8B"),
        ("llama3", "meta-llama/Llama-3.1-8B-Instruct"),
        ("deepseekv3", "deepseek-ai/DeepSeek-V3.1"),
        ("deepseekv3_thinking", "deepseek-ai/DeepSeek-V3.1"),
        ("gpt_oss_medium_reasoning", "openai/gpt-oss-20b"),
        ("tml_v0", "thinkingmachines/Inkling"),
        ("qwen3_5", &qwen3_5),
        ("qwen3_8_low_reasoning", &qwen3_5),
        ("deepseekv4_1", &deepseek_v4_1),
        ("kimi_k2", "moonshotai/Kimi-K2-Thinking"),
        ("kimi_k25", "moonshotai/Kimi-K2.6"),
    ] {
        let r: Arc<dyn chat::Renderer> = match cache
            .get_or_load(model)
            .and_then(|tok| chat::renderer_with(name, tok, &options))
        {
            Ok(r) => r,
            Err(e) => {
                println!("{name:<26} skipped: {e}");
                continue;
            }
        };
        let accepted: Vec<&str> = conversations
            .iter()
            .copied()
            .filter(|c| render(&*r, c).is_ok())
            .collect();
        let input: Vec<&str> = accepted.iter().copied().cycle().take(n).collect();
        let mut single = Vec::new();
        let mut parallel = Vec::new();
        for _ in 0..rounds {
            let t = Instant::now();
            for line in &input {
                black_box(render(&*r, line).unwrap());
            }
            single.push(n as f64 / t.elapsed().as_secs_f64());
            let t = Instant::now();
            std::thread::scope(|s| {
                for part in input.chunks(input.len().div_ceil(cores)) {
                    let r = &r;
                    s.spawn(move || {
                        for line in part {
                            black_box(render(&**r, line).unwrap());
                        }
                    });
                }
            });
            parallel.push(n as f64 / t.elapsed().as_secs_f64());
        }
        single.sort_by(f64::total_cmp);
        parallel.sort_by(f64::total_cmp);
        println!(
            "{name:<26} {n:>6} {:>14.0} {:>14.0} {cores:>8}",
            single[single.len() / 2],
            parallel[parallel.len() / 2]
        );
    }
}
