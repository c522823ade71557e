//! The on-disk cache of prepared tokenizers: used by later loads, exact, self-healing.

mod common;

use tinkex::cache::TokenizerCache;
use tinkex::Config;

fn entries(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = walk(dir);
    v.sort();
    v
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn later_loads_use_the_prepared_form_and_stay_exact() {
    let store = tempfile::tempdir().unwrap();
    let config = Config::default()
        .with_offline(true)
        .with_hub_cache(None)
        .with_prepared_cache(Some(store.path().to_path_buf()));
    let first = TokenizerCache::new(config.clone())
        .get_or_load("meta-llama/Llama-3.1-8B")
        .unwrap();
    let files = entries(store.path());
    assert_eq!(files.len(), 1, "one prepared entry: {files:?}");
    let written = std::fs::read(&files[0]).unwrap();

    // A second process (here: a second cache) reads it back and is exactly as correct.
    let second = TokenizerCache::new(config.clone())
        .get_or_load("meta-llama/Llama-3.1-8B")
        .unwrap();
    assert_eq!(
        std::fs::read(&files[0]).unwrap(),
        written,
        "a valid entry is not rewritten"
    );
    let bad = common::mismatches("llama3_1", &second);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    assert_eq!(first.vocab_size(), second.vocab_size());
    assert_eq!(first.bos_token(), second.bos_token());

    // A damaged entry is ignored and rewritten; the load still succeeds.
    std::fs::write(&files[0], &written[..written.len() / 3]).unwrap();
    let third = TokenizerCache::new(config.clone())
        .get_or_load("meta-llama/Llama-3.1-8B")
        .unwrap();
    assert_eq!(
        third.encode("Hello world", true).unwrap(),
        vec![128000, 9906, 1917]
    );
    assert_eq!(
        std::fs::read(&files[0]).unwrap(),
        written,
        "rewritten whole"
    );
    // So is one whose payload the engine rejects although its header is intact.
    let nl = written.iter().position(|&b| b == b'\n').unwrap();
    let mut broken = written[..=nl].to_vec();
    broken.extend(std::iter::repeat_n(b' ', written.len() - nl - 1));
    std::fs::write(&files[0], &broken).unwrap();
    let fourth = TokenizerCache::new(config)
        .get_or_load("meta-llama/Llama-3.1-8B")
        .unwrap();
    assert_eq!(
        fourth.encode("Hello world", true).unwrap(),
        vec![128000, 9906, 1917]
    );
    assert_eq!(std::fs::read(&files[0]).unwrap(), written);
    assert!(entries(store.path())
        .iter()
        .all(|p| !p.to_string_lossy().ends_with(".tmp")));
}

#[test]
fn a_changed_local_file_is_prepared_afresh() {
    let store = tempfile::tempdir().unwrap();
    let config = Config::default().with_prepared_cache(Some(store.path().to_path_buf()));
    let dir = tempfile::tempdir().unwrap();
    let tiny = include_bytes!("data/tiny/tokenizer.json");
    std::fs::write(dir.path().join("tokenizer.json"), tiny).unwrap();
    let a = tinkex::Tokenizer::from_path_with(dir.path(), &config).unwrap();
    assert_eq!(a.encode("hello", false).unwrap().len(), 3);
    // Drop the "he l" merge: "hello" no longer starts with one "hel" token.
    let mut doc: serde_json::Value = serde_json::from_slice(tiny).unwrap();
    doc["model"]["merges"] = serde_json::json!([["h", "e"]]);
    doc["model"]["vocab"].as_object_mut().unwrap().remove("hel");
    std::fs::write(dir.path().join("tokenizer.json"), doc.to_string()).unwrap();
    let b = tinkex::Tokenizer::from_path_with(dir.path(), &config).unwrap();
    assert_eq!(b.encode("hello", false).unwrap().len(), 4);
    assert_eq!(entries(store.path()).len(), 2);
}

#[test]
fn a_file_replaced_with_same_length_and_mtime_is_prepared_afresh() {
    // `cp -p`, reproducible builds and Nix keep or fix modification times: the store must key on
    // the contents, or it would hand back the old tokenizer.
    let store = tempfile::tempdir().unwrap();
    let config = Config::default().with_prepared_cache(Some(store.path().to_path_buf()));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokenizer.json");
    let tiny = std::str::from_utf8(include_bytes!("data/tiny/tokenizer.json")).unwrap();
    let load = || tinkex::Tokenizer::from_path_with(dir.path(), &config).unwrap();
    std::fs::write(&path, tiny).unwrap();
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    assert_eq!(load().encode("<|eos|>", false).unwrap().len(), 7);

    let renamed = tiny.replace("<|end|>", "<|eos|>");
    assert_eq!(renamed.len(), tiny.len());
    std::fs::write(&path, &renamed).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), mtime);
    assert_eq!(load().encode("<|eos|>", false).unwrap(), vec![258]);
}

#[test]
fn copies_of_a_tokenizer_share_one_entry_and_old_formats_go() {
    // A temporary directory per job must not leave an entry per job behind.
    let store = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(store.path().join("prepared-v1")).unwrap();
    std::fs::write(store.path().join("prepared-v1/old.json"), b"old").unwrap();
    let config = Config::default().with_prepared_cache(Some(store.path().to_path_buf()));
    let tiny = include_bytes!("data/tiny/tokenizer.json");
    let mut ids = Vec::new();
    for _ in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tokenizer.json"), tiny).unwrap();
        let t = tinkex::Tokenizer::from_path_with(dir.path(), &config).unwrap();
        ids.push(t.encode("hello <|end|>", false).unwrap());
    }
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    let files = entries(store.path());
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(!store.path().join("prepared-v1").exists());
}

#[test]
fn concurrent_loads_write_one_valid_entry() {
    let store = tempfile::tempdir().unwrap();
    let config = Config::default()
        .with_offline(true)
        .with_hub_cache(None)
        .with_prepared_cache(Some(store.path().to_path_buf()));
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                // Separate caches: no single flight between them, so all four prepare and write.
                let t = TokenizerCache::new(config.clone())
                    .get_or_load("gpt2")
                    .unwrap();
                assert_eq!(t.encode("Hello world", false).unwrap(), vec![15496, 995]);
            });
        }
    });
    let files = entries(store.path());
    assert_eq!(files.len(), 1, "{files:?}");
    let t = TokenizerCache::new(config).get_or_load("gpt2").unwrap();
    let bad = common::mismatches("gpt2", &t);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn files_that_share_a_slot_are_told_apart_by_their_digest() {
    // The store finds entries by sampled contents (16 blocks of 4 KiB); these two files differ
    // only between the samples, so they share a slot, and only the full digest (checked while the
    // stored form is built) can tell that the entry is not theirs.
    let store = tempfile::tempdir().unwrap();
    let config = Config::default().with_prepared_cache(Some(store.path().to_path_buf()));
    let tiny = std::str::from_utf8(include_bytes!("data/tiny/tokenizer.json")).unwrap();
    let padded = |doc: &str| {
        const LEN: usize = 16 * 4096 * 10;
        // Blocks start at multiples of (LEN - 4096) / 15 ≈ 43 kB; the document sits in the gap
        // after the first block, whitespace fills the rest.
        let mut s = " ".repeat(4096 + 100);
        s.push_str(doc);
        assert!(
            s.len() + 100 < (LEN - 4096) / 15,
            "the document must fit in the gap"
        );
        s.push_str(&" ".repeat(LEN - s.len()));
        s
    };
    let (a, b) = (padded(tiny), padded(&tiny.replace("<|end|>", "<|eos|>")));
    assert_eq!(a.len(), b.len());
    let dir = tempfile::tempdir().unwrap();
    let load = |text: &str| {
        std::fs::write(dir.path().join("tokenizer.json"), text).unwrap();
        tinkex::Tokenizer::from_path_with(dir.path(), &config).unwrap()
    };
    for _ in 0..2 {
        assert_eq!(load(&a).encode("<|end|>", false).unwrap(), vec![258]);
        assert_eq!(load(&b).encode("<|end|>", false).unwrap().len(), 7);
        assert_eq!(load(&b).encode("<|eos|>", false).unwrap(), vec![258]);
    }
    assert_eq!(entries(store.path()).len(), 1);
}
