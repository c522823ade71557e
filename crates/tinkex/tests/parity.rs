//! The parity oracle as data-driven tests: every case of every tokenizer, from the fixture
//! directories and from Tinker model names (bundled, no network, no cache). Inkling's
//! o200k_base_chat, built in with no tokenizer files, is loaded by model name only.

mod common;

use common::{fixture_dir, mismatches};

/// Every oracle case of `name` through `tok`, or a failure listing the mismatches.
fn assert_parity(name: &str, tok: &tinkex::Tokenizer) {
    let bad = mismatches(name, tok);
    assert!(
        bad.is_empty(),
        "{name}: {} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

fn from_dir(name: &str) {
    let (_tmp, dir) = fixture_dir(name);
    let tok = common::from_path(&dir).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_parity(name, &tok);
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
    assert_parity(name, &tok);
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
    // Kimi (tiktoken format), bundled at the revisions resolution pins: K2-Thinking; K2.5 and
    // K2.6 (one tokenizer: K2's ranks and table plus the media tokens).
    kimi_k2: "kimi_k2" => ["moonshotai/Kimi-K2-Thinking", "moonshotai/Kimi-K2-Thinking:peft:1"];
    kimi_k25: "kimi_k25" => ["moonshotai/Kimi-K2.5", "moonshotai/Kimi-K2.5-Text-Only", "moonshotai/Kimi-K2.6", "moonshotai/Kimi-K2.6:peft:1"];
}

// Today's families (issue #14): not bundled — their models resolve to their Hub repos — so held
// to the oracle from the fixture directories (tests/data/fixtures).
#[test]
fn qwen3_5_from_dir() {
    from_dir("qwen3_5")
}

#[test]
fn deepseek_v4_1_from_dir() {
    from_dir("deepseek_v4_1")
}

/// With Hugging Face's engine built at once (what a tokenizer does after 4 MiB of input): it is
/// switched to only where it gives tinkex's ids (tokenizers 1.0.0-rc.3 builds the Qwen3.5
/// tokenizer, then fails every encode) — the oracle's ids either way.
#[test]
fn new_families_with_the_hf_engine_requested_at_once() {
    for name in ["qwen3_5", "deepseek_v4_1", "qwen3"] {
        let (_tmp, dir) = fixture_dir(name);
        let config = common::config().with_hf_engine_after(Some(0));
        let tok = tinkex::Tokenizer::from_path_with(&dir, &config).unwrap();
        tok.warm_up().unwrap();
        assert_parity(name, &tok);
    }
}

/// Inkling's `o200k_base_chat` has no tokenizer files, so no directory form: it is loaded by the
/// model names that resolve to it, offline with no Hugging Face cache, like the lineup above.
#[test]
fn o200k_base_chat_from_model_names() {
    for model in [
        "thinkingmachines/Inkling",
        "thinkingmachines/Inkling-Small",
        "thinkingmachines/Inkling-2-Small:peft:1",
    ] {
        from_model("o200k_base_chat", model);
    }
}

/// The Inkling names share one built-in instance, which needs neither the network, a cache nor
/// `use_bundled` (it has no Hub files to prefer), and reports what the chat renderer uses.
#[test]
fn o200k_base_chat_handle() {
    let cache = tinkex::cache::TokenizerCache::new(
        tinkex::Config::default()
            .with_offline(true)
            .with_hub_cache(None)
            .with_bundled(false),
    );
    let tok = cache.get_or_load("thinkingmachines/Inkling").unwrap();
    for model in [
        "thinkingmachines/Inkling-Small",
        "thinkingmachines/Inkling-2-Small",
        "thinkingmachines/Inkling-Future:x",
    ] {
        let other = cache.get_or_load(model).unwrap();
        assert!(std::sync::Arc::ptr_eq(&tok, &other), "{model}");
    }
    assert_eq!(cache.stats().loads, 1);

    assert_eq!(tok.name(), "o200k_base_chat");
    assert_eq!(tok.revision(), None);
    assert_eq!(tok.format(), tinkex::resolve::TokenizerFormat::Tiktoken);
    assert_eq!(tok.vocab_size(), 200_058);
    let special = |content: &str, id: u32| tinkex::tokenizer::SpecialToken {
        content: content.into(),
        id,
    };
    assert_eq!(
        tok.bos_token(),
        Some(&special("<|begin_of_text|>", 200_028))
    );
    assert_eq!(tok.eos_token(), Some(&special("<|endoftext|>", 199_999)));
    assert_eq!(tok.pad_token(), None);
    let specials = tok.special_tokens();
    assert_eq!(specials.len(), 60);
    assert_eq!(specials[0], special("<|unused|>", 199_998));
    assert_eq!(
        specials[59],
        special("<|content_invoke_tool_text|>", 200_057)
    );
    assert_eq!(tok.token_to_id("<|end_message|>"), Some(200_010));
    assert_eq!(
        tok.id_to_token(200_004).as_deref(),
        Some("<|content_text|>")
    );
    assert!(tok.is_special(200_010) && !tok.is_special(199_997));

    // Markup stays text, nothing is added, whatever add_special_tokens says.
    let text = "Hello <|endoftext|><|begin_of_text|>";
    let ids = tok.encode(text, true).unwrap();
    assert_eq!(ids, tok.encode(text, false).unwrap());
    assert!(ids.iter().all(|&id| id < 199_998), "{ids:?}");
    assert_eq!(tok.decode(&ids, true).unwrap(), text);
    // Special ids decode to their names, skip_special_tokens or not (tml-renderers' decode
    // has no such option; the cookbook's adapter ignores it).
    let with_specials = [200_028, 13225, 199_999];
    for skip in [false, true] {
        assert_eq!(
            tok.decode(&with_specials, skip).unwrap(),
            "<|begin_of_text|>Hello<|endoftext|>"
        );
        let mut stream = tok.decode_stream(skip);
        let mut streamed: String = with_specials
            .iter()
            .filter_map(|&id| stream.step(id).unwrap())
            .collect();
        streamed.push_str(&stream.flush().unwrap());
        assert_eq!(streamed, "<|begin_of_text|>Hello<|endoftext|>");
    }
    assert!(matches!(
        tok.decode(&[200_058], false),
        Err(tinkex::Error::InvalidTokenId { .. })
    ));

    // Not the other Thinking Machines names.
    assert!(matches!(
        cache.get_or_load("thinkingmachines/Other"),
        Err(tinkex::Error::PrivateTokenizer { .. })
    ));
    assert!(cache.remove("thinkingmachines/Inkling-Small"));
    assert_eq!(cache.stats().entries, 0);
}

/// The bundled Kimi copies report the revision they are copies of (rule 7's pins), serve that
/// revision only, and are the Hub's files in every other respect: another revision, or
/// `use_bundled` off, goes to the cache and the Hub (here: offline, no cache → `Offline`).
#[test]
fn kimi_bundled_at_the_pinned_revisions_only() {
    use tinkex::resolve::{Resolution, Rule, TokenizerFormat, TokenizerSpec};
    const K2: &str = "612681931a8c906ddb349f8ad0f582cb552189cd";
    const K25: &str = "4d01dfe0332d63057c186e0b262165819efb6611";
    const K26: &str = "b5aabbfb20227ed42becbf5541dbffd213942c58";
    let config = tinkex::Config::default()
        .with_offline(true)
        .with_hub_cache(None);
    let cache = tinkex::cache::TokenizerCache::new(config.clone());
    for (model, name, revision) in [
        (
            "moonshotai/Kimi-K2-Thinking",
            "moonshotai/Kimi-K2-Thinking",
            K2,
        ),
        ("moonshotai/Kimi-K2.5", "moonshotai/Kimi-K2.5", K25),
        (
            "moonshotai/Kimi-K2.5-Text-Only",
            "moonshotai/Kimi-K2.5",
            K25,
        ),
        ("moonshotai/Kimi-K2.6:peft:1", "moonshotai/Kimi-K2.6", K26),
    ] {
        let resolution = cache.resolve(model, None).unwrap();
        assert!(cache.is_bundled(&resolution), "{model}");
        let tok = cache.get_or_load(model).unwrap();
        assert_eq!(tok.name(), name, "{model}");
        assert_eq!(tok.revision(), Some(revision), "{model}");
        assert_eq!(tok.format(), TokenizerFormat::Tiktoken);
        assert_eq!(tok.vocab_size(), 163_584 + 256);
    }
    // K2.5 and its Text-Only alias share one instance; K2.6, at its own pin, is another.
    assert_eq!(cache.stats().loads, 3);
    let k25 = cache.get_or_load("moonshotai/Kimi-K2.5").unwrap();
    assert_eq!(k25.id_to_token(163_602).as_deref(), Some("<|media_begin|>"));
    let k2 = cache.get_or_load("moonshotai/Kimi-K2-Thinking").unwrap();
    assert_eq!(
        k2.id_to_token(163_602).as_deref(),
        Some("<|reserved_token_18|>")
    );

    // Asked for at another revision (by a caller that builds the spec itself), or not its
    // repo's pin: not the bundled copy.
    for (id, revision) in [
        (
            "moonshotai/Kimi-K2.6",
            Some("0123456789abcdef0123456789abcdef01234567"),
        ),
        ("moonshotai/Kimi-K2.6", None),
        ("moonshotai/Kimi-K2.5", Some(K26)),
        ("moonshotai/Kimi-K2-Thinking", Some("main")),
    ] {
        let other = Resolution::Hub {
            spec: TokenizerSpec {
                tokenizer_id: id.into(),
                revision: revision.map(str::to_owned),
                format: TokenizerFormat::Tiktoken,
            },
            rule: Rule::RepoId,
        };
        assert!(!cache.is_bundled(&other), "{id}@{revision:?}");
        assert!(
            matches!(
                cache.get_or_load_resolved(&other),
                Err(tinkex::Error::Offline { .. })
            ),
            "{id}@{revision:?}"
        );
    }

    // `use_bundled` off: the pinned revision is looked for in the (empty) cache.
    let cache = tinkex::cache::TokenizerCache::new(config.with_bundled(false));
    for model in [
        "moonshotai/Kimi-K2-Thinking",
        "moonshotai/Kimi-K2.5-Text-Only",
        "moonshotai/Kimi-K2.6",
    ] {
        assert!(!cache.is_bundled(&cache.resolve(model, None).unwrap()));
        assert!(
            matches!(cache.get_or_load(model), Err(tinkex::Error::Offline { .. })),
            "{model}"
        );
    }
}

#[test]
fn kimi_style_from_dir() {
    from_dir("kimi_style")
}

/// The Hugging Face cache path for a Kimi pin, end to end (model names, the pin, the tiktoken
/// format), with the synthetic Kimi-style fixture standing in for Kimi-K2.5 in the cache at the
/// revision resolution pins. The bundled copies are turned off: they would answer first for the
/// same pin, and this would test them instead of the cache. The oracle being kimi_style's
/// proves the files came from the cache.
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
            .with_bundled(false)
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
