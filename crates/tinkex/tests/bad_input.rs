//! Bad input is an error value, never a panic; good input still works afterwards.

mod common;

use tinkex::cache::TokenizerCache;
use tinkex::{Config, Error, Tokenizer};

fn offline_empty_cache() -> (tempfile::TempDir, TokenizerCache) {
    let tmp = tempfile::tempdir().unwrap();
    let cache = TokenizerCache::new(
        Config::default()
            .with_offline(true)
            .with_hub_cache(Some(tmp.path().to_path_buf())),
    );
    (tmp, cache)
}

#[test]
fn ids_out_of_range_and_holes() {
    let tok = common::tokenizer("meta-llama/Llama-3.1-8B");
    assert_eq!(tok.vocab_size(), 128256);
    for id in [128256, 200000, u32::MAX] {
        match tok.decode(&[9906, id], false) {
            Err(Error::InvalidTokenId {
                id: got,
                vocab_size,
            }) => {
                assert_eq!((got, vocab_size), (id as u64, 128256))
            }
            other => panic!("{id}: {other:?}"),
        }
    }
    assert_eq!(tok.decode(&[9906, 1917], false).unwrap(), "Hello world");
    // Ids inside the range that name no token are not silently dropped either (Python drops
    // them): a tiny tokenizer whose merge result "hel" has id 300 leaves 258..300 unassigned.
    let mut doc: serde_json::Value =
        serde_json::from_slice(include_bytes!("data/tiny/tokenizer.json")).unwrap();
    doc["model"]["vocab"]["hel"] = 300.into();
    // Declared 258 for `<|end|>`; Python `tokenizers` 0.22 gives it 258 too (next free id).
    let tiny = Tokenizer::from_bytes(doc.to_string().as_bytes(), None).unwrap();
    assert_eq!(tiny.vocab_size(), 301);
    assert_eq!(
        tiny.encode("hello<|end|>", false).unwrap(),
        vec![300, 108, 111, 258]
    );
    assert_eq!(tiny.decode(&[300, 258], false).unwrap(), "hel<|end|>");
    for hole in [259, 280, 299] {
        assert!(tiny.id_to_token(hole).is_none());
        assert!(matches!(
            tiny.decode(&[104, hole], false),
            Err(Error::InvalidTokenId { id, vocab_size: 301 }) if id == hole as u64
        ));
    }
    // A declared id beyond the next free one is not honoured (Python: 300 → 258).
    let mut doc: serde_json::Value =
        serde_json::from_slice(include_bytes!("data/tiny/tokenizer.json")).unwrap();
    doc["added_tokens"][0]["id"] = 300.into();
    let tiny = Tokenizer::from_bytes(doc.to_string().as_bytes(), None).unwrap();
    assert_eq!(tiny.token_to_id("<|end|>"), Some(258));
    assert_eq!(tiny.vocab_size(), 259);
}

fn dir_with(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for (name, data) in files {
        std::fs::write(tmp.path().join(name), data).unwrap();
    }
    tmp
}

#[test]
fn malformed_files_are_parse_errors() {
    let (_g, qwen) = common::fixture_dir("qwen3");
    let good = std::fs::read(qwen.join("tokenizer.json")).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"\x00\x01 not json at all".to_vec()),
        ("truncated", good[..good.len() / 2].to_vec()),
        ("empty", Vec::new()),
        ("array", b"[]".to_vec()),
        ("no model", br#"{"added_tokens": []}"#.to_vec()),
        (
            "bad vocab",
            br#"{"model": {"type": "BPE", "vocab": 3, "merges": []}}"#.to_vec(),
        ),
        ("not utf8", vec![0xff, 0xfe, b'{', b'}']),
    ];
    for (what, bytes) in cases {
        let dir = dir_with(&[("tokenizer.json", &bytes)]);
        match common::from_path(dir.path()) {
            Err(Error::Parse { path, .. }) => {
                assert!(
                    path.ends_with("tokenizer.json"),
                    "{what}: {}",
                    path.display()
                )
            }
            Err(Error::Unsupported { .. }) => {}
            other => panic!("{what}: expected a parse error, got {other:?}"),
        }
    }
    // A garbage config next to a good tokenizer.json.
    let dir = dir_with(&[
        ("tokenizer.json", &good),
        ("tokenizer_config.json", b"{oops"),
    ]);
    match common::from_path(dir.path()) {
        Err(Error::Parse { path, .. }) => assert!(path.ends_with("tokenizer_config.json")),
        other => panic!("{other:?}"),
    }
    // Good files still load.
    let dir = dir_with(&[("tokenizer.json", &good)]);
    assert_eq!(
        common::from_path(dir.path())
            .unwrap()
            .encode("Hello world", false)
            .unwrap(),
        vec![9707, 1879]
    );
}

#[test]
fn empty_directory_and_missing_path() {
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        common::from_path(empty.path()),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        common::from_path(empty.path().join("nope")),
        Err(Error::Io { .. })
    ));
}

#[test]
fn unknown_model_offline_and_private_ids() {
    let (_g, cache) = offline_empty_cache();
    match cache.get_or_load("nobody/no-such-model") {
        Err(Error::Offline { detail }) => {
            assert!(detail.contains("nobody/no-such-model"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
    for private in ["TML/tokenizer-v1", "thinkingmachines/secret"] {
        match cache.get_or_load(private) {
            Err(e @ Error::PrivateTokenizer { .. }) => assert!(e.to_string().contains("register")),
            other => panic!("{private}: {other:?}"),
        }
    }
    // Failures are not cached and do not poison the cache.
    assert_eq!(cache.stats().loads, 0);
    assert!(cache.get_or_load("gpt2").is_ok());
}

#[test]
fn bundled_can_be_turned_off() {
    let (_g, cache) = offline_empty_cache();
    let cache = TokenizerCache::new(cache.config().clone().with_bundled(false));
    assert!(matches!(
        cache.get_or_load("Qwen/Qwen3-8B"),
        Err(Error::Offline { .. })
    ));
}

#[test]
fn reads_a_hugging_face_cache_snapshot() {
    let (tmp, cache) = offline_empty_cache();
    let cache = TokenizerCache::new(cache.config().clone().with_bundled(false));
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let repo = tmp.path().join("models--someone--tiny");
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::create_dir_all(repo.join("snapshots").join(commit)).unwrap();
    std::fs::write(repo.join("refs/main"), commit).unwrap();
    std::fs::write(
        repo.join("snapshots").join(commit).join("tokenizer.json"),
        include_bytes!("data/tiny/tokenizer.json"),
    )
    .unwrap();
    let tok = cache.get_or_load("someone/tiny").unwrap();
    assert_eq!(tok.encode("hello", false).unwrap().len(), 3); // "hel" + "l" + "o"
    assert_eq!(
        tok.decode(&tok.encode("hello<|end|>", false).unwrap(), true)
            .unwrap(),
        "hello"
    );
}
