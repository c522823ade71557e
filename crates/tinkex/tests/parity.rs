//! The parity oracle as data-driven tests: every case of every tokenizer, from the fixture
//! directories and from Tinker model names (bundled, no network, no cache).

mod common;

use common::{fixture_dir, mismatches};

fn from_dir(name: &str) {
    let (_tmp, dir) = fixture_dir(name);
    let tok = tinkex::Tokenizer::from_path(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
    let bad = mismatches(name, &tok);
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

fn from_model(name: &str, model: &str) {
    let cache = tinkex::cache::TokenizerCache::new(
        tinkex::Config::default()
            .with_offline(true)
            .with_hub_cache(None),
    );
    let tok = cache
        .get_or_load(model)
        .unwrap_or_else(|e| panic!("{model}: {e}"));
    let bad = mismatches(name, &tok);
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

macro_rules! parity {
    ($($test:ident: $name:literal => [$($model:literal),*];)*) => {
        mod dir {
            $(#[test] fn $test() { super::from_dir($name) })*
        }
        mod model {
            $(#[test] fn $test() { $(super::from_model($name, $model);)* })*
        }
    };
}

parity! {
    gpt2: "gpt2" => ["gpt2", "openai-community/gpt2"];
    qwen3: "qwen3" => ["Qwen/Qwen3-8B", "Qwen/Qwen3-30B-A3B-Instruct-2507:peft:3", "Qwen/Qwen3-VL-235B-A22B-Instruct"];
    llama3_1: "llama3_1" => ["meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.3-70B-Instruct", "meta-llama/Llama-3.2-1B/lora"];
    deepseek_v3: "deepseek_v3" => ["deepseek-ai/DeepSeek-V3"];
    deepseek_v3_1: "deepseek_v3_1" => ["deepseek-ai/DeepSeek-V3.1", "deepseek-ai/DeepSeek-V3.1-Base"];
    gpt_oss: "gpt_oss" => ["openai/gpt-oss-120b", "openai/gpt-oss-20b"];
}

#[test]
fn kimi_style_from_dir() {
    from_dir("kimi_style")
}

/// Kimi's tokenizer is not bundled (its files cannot be fetched here); the synthetic Kimi-style
/// fixture stands in for it in a Hugging Face cache at the revision resolution pins, so the model
/// names, the pin and the tiktoken format are exercised end to end.
#[test]
fn kimi_style_from_model_names_via_hub_cache() {
    let (_g, fixture) = common::fixture_dir("kimi_style");
    let hub = tempfile::tempdir().unwrap();
    let commit = "4d01dfe0332d63057c186e0b262165819efb6611"; // rule 7: Kimi-K2.5's pin
    let snap = hub
        .path()
        .join("models--moonshotai--Kimi-K2.5/snapshots")
        .join(commit);
    std::fs::create_dir_all(&snap).unwrap();
    for f in ["tiktoken.model", "tokenizer_config.json", "kimi_style.json"] {
        std::fs::copy(fixture.join(f), snap.join(f)).unwrap();
    }
    let cache = tinkex::cache::TokenizerCache::new(
        tinkex::Config::default()
            .with_offline(true)
            .with_hub_cache(Some(hub.path().to_path_buf())),
    );
    for model in [
        "moonshotai/Kimi-K2.5",
        "moonshotai/Kimi-K2.5-Text-Only:peft:1",
    ] {
        let tok = cache
            .get_or_load(model)
            .unwrap_or_else(|e| panic!("{model}: {e}"));
        assert_eq!(tok.revision(), Some(commit));
        assert_eq!(tok.format(), tinkex::resolve::TokenizerFormat::Tiktoken);
        let bad = mismatches("kimi_style", &tok);
        assert!(
            bad.is_empty(),
            "{} mismatches:\n{}",
            bad.len(),
            bad.join("\n")
        );
    }
    assert_eq!(cache.stats().loads, 1);
    // Another Kimi model pins another revision, which this cache does not have.
    assert!(matches!(
        cache.get_or_load("moonshotai/Kimi-K2.6"),
        Err(tinkex::Error::Offline { .. })
    ));
}
