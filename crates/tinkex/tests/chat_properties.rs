//! Property tests of the invariants tinker-cookbook's renderers README asks of every renderer,
//! on generated conversations:
//! 1. the supervised tokens start with the generation prompt of the conversation minus its
//!    last message (every renderer but `deepseekv3_thinking`, whose prompt after a tool result
//!    drops the `<think>` prefill — the oracle has such lines);
//! 2. `parse_response` of the trained completion gives back the last message, for messages the
//!    format can carry unchanged (plain text; thinking where the format keeps it);
//! 3. the extension property where the renderer claims it: the supervised tokens up to an
//!    assistant turn are a prefix of the generation prompt of any later turn;
//! 4. `supervised_examples` gives one example per trained turn, each ending at its turn;
//!
//! and the Datum shift and truncation.

mod common;

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use tinkex::chat::{self, Content, ContentPart, Datum, Message, Reduction, Role, TrainOnWhat};
use tinkex::types::{EncodedTextChunk, ModelInput, ModelInputChunk};

/// Renderer, the model whose tokenizer it is tested with (bundled, or a test-only fixture: see
/// [`tokenizer`]), and whether a thinking part in the last message survives the round trip.
const RENDERERS: &[(&str, &str, bool)] = &[
    ("role_colon", "meta-llama/Llama-3.1-8B", false),
    ("llama3", "meta-llama/Llama-3.1-8B", false),
    ("qwen3", "Qwen/Qwen3-8B", true),
    ("qwen3_disable_thinking", "Qwen/Qwen3-8B", false),
    ("qwen3_instruct", "Qwen/Qwen3-8B", true),
    ("deepseekv3", "deepseek-ai/DeepSeek-V3.1", false),
    (
        "deepseekv3_disable_thinking",
        "deepseek-ai/DeepSeek-V3.1",
        false,
    ),
    ("deepseekv3_thinking", "deepseek-ai/DeepSeek-V3.1", true),
    ("gpt_oss_no_sysprompt", "openai/gpt-oss-20b", true),
    ("gpt_oss_low_reasoning", "openai/gpt-oss-20b", true),
    ("gpt_oss_medium_reasoning", "openai/gpt-oss-20b", true),
    ("gpt_oss_high_reasoning", "openai/gpt-oss-20b", true),
    ("tml_v0", "thinkingmachines/Inkling", true),
    ("deepseekv4_1", DEEPSEEK_V4_1, true),
    ("deepseekv4_1_low_reasoning", DEEPSEEK_V4_1, true),
    ("deepseekv4_1_max_reasoning", DEEPSEEK_V4_1, true),
    ("deepseekv4_1_disable_thinking", DEEPSEEK_V4_1, false),
    ("deepseekv4_1_preserve_thinking", DEEPSEEK_V4_1, true),
    ("qwen3_5", QWEN3_5, true),
    ("qwen3_5_disable_thinking", QWEN3_5, false),
    ("qwen3_5_preserve_thinking", QWEN3_5, true),
    ("qwen3_8_xhigh_reasoning", QWEN3_8, true),
    ("qwen3_8_medium_reasoning", QWEN3_8, true),
    ("qwen3_8_low_reasoning", QWEN3_8, true),
    ("qwen3_8_disable_thinking", QWEN3_8, false),
    ("kimi_k2", "moonshotai/Kimi-K2-Thinking", true),
    ("kimi_k25", "moonshotai/Kimi-K2.5", true),
    ("kimi_k25_disable_thinking", "moonshotai/Kimi-K2.5", false),
    ("kimi_k26", "moonshotai/Kimi-K2.6", true),
    ("kimi_k26_disable_thinking", "moonshotai/Kimi-K2.6", false),
    ("kimi_k26_preserve_thinking", "moonshotai/Kimi-K2.6", true),
];

const DEEPSEEK_V4_1: &str = "deepseek-ai/DeepSeek-V4.1-Flash";
const QWEN3_5: &str = "Qwen/Qwen3.5-27B";
const QWEN3_8: &str = "Qwen/Qwen3.8-27B";

/// The tokenizer of `model`: bundled, or for a family that is not, its test-only fixture
/// (tests/data/fixtures).
fn tokenizer(cache: &tinkex::cache::TokenizerCache, model: &str) -> Arc<tinkex::Tokenizer> {
    let fixture = match model {
        DEEPSEEK_V4_1 => "deepseek_v4_1",
        QWEN3_5 | QWEN3_8 => "qwen3_5",
        _ => return cache.get_or_load(model).unwrap(),
    };
    // Read whole when loaded: the directory can go once the tokenizer is built.
    let (_tmp, dir) = common::fixture_dir(fixture);
    Arc::new(common::from_path(&dir).unwrap_or_else(|e| panic!("{fixture}: {e}")))
}

fn renderers() -> &'static Vec<(Arc<dyn chat::Renderer>, bool)> {
    static R: OnceLock<Vec<(Arc<dyn chat::Renderer>, bool)>> = OnceLock::new();
    R.get_or_init(|| {
        let cache = tinkex::cache::TokenizerCache::new(
            tinkex::Config::default()
                .with_offline(true)
                .with_hub_cache(None)
                .with_prepared_cache(None),
        );
        RENDERERS
            .iter()
            .map(|(name, model, thinks)| {
                let tok = tokenizer(&cache, model);
                (chat::renderer(name, tok).unwrap(), *thinks)
            })
            .collect()
    })
}

/// Text every format carries unchanged: words of letters and digits, single spaces, punctuation
/// attached to the word before it (Llama-3's decode clean-up rewrites " ," and the like), no
/// newlines at either end (Qwen3 strips those around thinking).
fn clean_text() -> impl Strategy<Value = String> {
    proptest::collection::vec("[A-Za-zÀ-ÿ0-9]{1,8}[.,!?]?", 1..12).prop_map(|w| w.join(" "))
}

fn message_content(thinking: bool) -> BoxedStrategy<Content> {
    if thinking {
        prop_oneof![
            clean_text().prop_map(Content::Text),
            (clean_text(), clean_text()).prop_map(|(t, x)| Content::Parts(vec![
                ContentPart::thinking(t),
                ContentPart::text(x)
            ])),
        ]
        .boxed()
    } else {
        clean_text().prop_map(Content::Text).boxed()
    }
}

/// system? (user assistant)+, the assistant content per `thinking`.
fn conversation(thinking: bool) -> impl Strategy<Value = Vec<Message>> {
    (
        proptest::option::of(clean_text()),
        proptest::collection::vec((clean_text(), message_content(thinking)), 1..4),
    )
        .prop_map(|(system, turns)| {
            let mut m = Vec::new();
            if let Some(s) = system {
                m.push(Message::new(Role::System, s));
            }
            for (u, a) in turns {
                m.push(Message::new(Role::User, u));
                m.push(Message::new(Role::Assistant, a));
            }
            m
        })
}

fn ints(m: &ModelInput) -> Vec<u32> {
    m.to_ints().unwrap()
}

fn assistant_indices(m: &[Message]) -> Vec<usize> {
    (0..m.len())
        .filter(|&i| m[i].role == Role::Assistant)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn prompt_is_a_prefix_and_the_completion_parses_back(
        plain in conversation(false),
        thinking in conversation(true),
    ) {
        for (r, thinks) in renderers() {
            let conv = if *thinks { &thinking } else { &plain };
            let (tokens, weights) = r.supervised_example(conv, TrainOnWhat::LastAssistantMessage).unwrap();
            let tokens = ints(&tokens);
            prop_assert_eq!(tokens.len(), weights.len());
            let prompt = ints(&r.generation_prompt(&conv[..conv.len() - 1], Role::Assistant, None).unwrap());
            prop_assert!(tokens.starts_with(&prompt), "{}: the prompt is not a prefix", r.name());
            // Nothing of the prompt is trained; something after it is.
            prop_assert!(weights[..prompt.len()].iter().all(|&w| w == 0.0), "{}", r.name());
            prop_assert!(weights[prompt.len()..].contains(&1.0), "{}", r.name());
            let (parsed, termination) = r.parse_response(&tokens[prompt.len()..]).unwrap();
            prop_assert!(termination.is_clean(), "{}: {:?}", r.name(), termination);
            prop_assert!(
                parsed.same_as(conv.last().unwrap()),
                "{}: parsed {:?}, want {:?}", r.name(), parsed, conv.last()
            );
        }
    }

    #[test]
    fn extension_property_where_claimed(conv in conversation(false)) {
        for (r, _) in renderers() {
            if !r.has_extension_property() {
                continue;
            }
            let turns = assistant_indices(&conv);
            for (i, &a) in turns.iter().enumerate() {
                let (upto_a, _) = r.supervised_example(&conv[..=a], TrainOnWhat::LastAssistantMessage).unwrap();
                for &b in &turns[i + 1..] {
                    let later = ints(&r.generation_prompt(&conv[..b], Role::Assistant, None).unwrap());
                    prop_assert!(later.starts_with(&ints(&upto_a)), "{}: turn {} then {}", r.name(), a, b);
                }
            }
        }
    }

    #[test]
    fn one_example_per_trained_turn(conv in conversation(false)) {
        for (r, _) in renderers() {
            let examples = r.supervised_examples(&conv, TrainOnWhat::AllAssistantMessages).unwrap();
            let turns = assistant_indices(&conv);
            if r.has_extension_property() {
                prop_assert_eq!(examples.len(), 1);
                let whole = r.supervised_example(&conv, TrainOnWhat::AllAssistantMessages).unwrap();
                prop_assert_eq!(ints(&examples[0].0), ints(&whole.0));
            } else {
                prop_assert_eq!(examples.len(), turns.len(), "{}", r.name());
                for (e, &t) in examples.iter().zip(&turns) {
                    let alone = r.supervised_example(&conv[..=t], TrainOnWhat::LastAssistantMessage).unwrap();
                    prop_assert_eq!(ints(&e.0), ints(&alone.0));
                    prop_assert_eq!(&e.1, &alone.1);
                }
            }
        }
    }

    #[test]
    fn datum_shifts_and_truncates(
        chunks in proptest::collection::vec(proptest::collection::vec(0u32..1000, 0..6), 1..5),
        max in proptest::option::of(0usize..20),
        mean in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let input = ModelInput {
            chunks: chunks.iter().map(|c| ModelInputChunk::EncodedText(EncodedTextChunk { tokens: c.clone() })).collect(),
        };
        let all: Vec<u32> = chunks.concat();
        let weights: Vec<f32> = (0..all.len()).map(|i| ((seed >> (i % 64)) & 1) as f32).collect();
        let reduction = if mean { Reduction::Mean } else { Reduction::None };
        let kept = max.map_or(all.len(), |m| m.min(all.len()));
        match Datum::new(&input, &weights, max, reduction) {
            Err(_) => prop_assert!(kept < 2),
            Ok(d) => {
                prop_assert!(kept >= 2);
                prop_assert_eq!(d.model_input.to_ints().unwrap(), &all[..kept - 1]);
                prop_assert_eq!(&d.loss_fn_inputs.target_tokens.data, &all[1..kept]);
                let w = &d.loss_fn_inputs.weights.data;
                prop_assert_eq!(w.len(), kept - 1);
                let raw = &weights[1..kept];
                let sum: f32 = raw.iter().sum();
                if mean && sum > 0.0 {
                    prop_assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-5);
                } else {
                    prop_assert_eq!(w.as_slice(), raw);
                }
                // No empty chunk is sent.
                prop_assert!(d.model_input.chunks.iter().all(|c| c.length().unwrap() > 0));
            }
        }
    }
}

#[test]
fn every_renderer_of_the_issue_is_covered() {
    let names: Vec<&str> = chat::renderer_names().collect();
    for n in &names {
        assert!(
            RENDERERS.iter().any(|(r, _, _)| r == n),
            "{n} has no property-test row"
        );
    }
    assert!(!renderers().is_empty());
}
