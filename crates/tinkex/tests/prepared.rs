//! The on-disk cache of prepared tokenizers: used by later loads, exact, self-healing.

mod common;

use tinkex::cache::TokenizerCache;
use tinkex::Config;

fn entries(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = walk(dir);
    v.sort();
    v
}

/// The prepared documents (one per tokenizer).
fn documents(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    with_extension(dir, "json")
}

/// The stored engines (one per tokenizer that tinkex's own engine handles).
fn engines(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    with_extension(dir, "bpe")
}

fn with_extension(dir: &std::path::Path, ext: &str) -> Vec<std::path::PathBuf> {
    entries(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect()
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
    let load = || {
        TokenizerCache::new(config.clone())
            .get_or_load("meta-llama/Llama-3.1-8B")
            .unwrap()
    };
    let first = load();
    let (docs, engs) = (documents(store.path()), engines(store.path()));
    assert_eq!(
        (docs.len(), engs.len(), entries(store.path()).len()),
        (1, 1, 2),
        "one document and one engine: {:?}",
        entries(store.path())
    );
    let (doc, eng) = (docs[0].clone(), engs[0].clone());
    let (doc_written, eng_written) = (std::fs::read(&doc).unwrap(), std::fs::read(&eng).unwrap());
    let unchanged = |why: &str| {
        assert_eq!(std::fs::read(&doc).unwrap(), doc_written, "document: {why}");
        assert_eq!(std::fs::read(&eng).unwrap(), eng_written, "engine: {why}");
        assert!(entries(store.path())
            .iter()
            .all(|p| !p.to_string_lossy().ends_with(".tmp")));
    };

    // A second process (here: a second cache) reads it back and is exactly as correct, with
    // tinkex's engine and, once built, Hugging Face's from the stored document.
    let second = load();
    unchanged("a valid entry is not rewritten");
    let bad = common::mismatches("llama3_1", &second);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    second.warm_up().unwrap();
    let bad = common::mismatches("llama3_1", &second);
    assert!(bad.is_empty(), "after warm-up: {}", bad.join("\n"));
    assert_eq!(first.vocab_size(), second.vocab_size());
    assert_eq!(first.bos_token(), second.bos_token());

    // A truncated, damaged or foreign stored engine is never used: rebuilt, the load exact.
    let check = |damaged: &[u8], why: &str| {
        std::fs::write(&eng, damaged).unwrap();
        let t = load();
        assert_eq!(
            t.encode("Hello world", true).unwrap(),
            vec![128000, 9906, 1917],
            "{why}"
        );
        unchanged(why);
    };
    check(&eng_written[..eng_written.len() / 3], "truncated engine");
    let mut flipped = eng_written.clone();
    flipped[eng_written.len() / 2] ^= 1;
    check(&flipped, "one bit flipped");
    let mut longer = eng_written.clone();
    longer.extend_from_slice(b"more");
    check(&longer, "trailing bytes");
    check(b"", "empty");
    let gpt2_store = tempfile::tempdir().unwrap();
    TokenizerCache::new(
        config
            .clone()
            .with_prepared_cache(Some(gpt2_store.path().to_path_buf())),
    )
    .get_or_load("gpt2")
    .unwrap();
    let foreign = std::fs::read(&engines(gpt2_store.path())[0]).unwrap();
    check(&foreign, "another tokenizer's engine");
    let other_version =
        String::from_utf8_lossy(&eng_written[..64]).replace("\"version\":1", "\"version\":2");
    let mut edited = other_version.into_bytes();
    edited.extend_from_slice(&eng_written[64..]);
    check(&edited, "another format version");

    // A damaged document does not stop tinkex's engine; Hugging Face's is then built from the
    // files again, and the document rewritten.
    std::fs::write(&doc, &doc_written[..doc_written.len() / 3]).unwrap();
    let t = load();
    assert_eq!(
        t.encode("Hello world", true).unwrap(),
        vec![128000, 9906, 1917]
    );
    t.warm_up().unwrap();
    assert_eq!(
        t.encode("Hello world", true).unwrap(),
        vec![128000, 9906, 1917]
    );
    unchanged("document rebuilt by the warm-up");
    // Both damaged: everything rebuilt.
    std::fs::write(&doc, b"{").unwrap();
    std::fs::write(&eng, b"tinkex-bpe\n").unwrap();
    let t = load();
    assert_eq!(
        t.encode("Hello world", true).unwrap(),
        vec![128000, 9906, 1917]
    );
    unchanged("both rebuilt");
}

#[test]
fn a_document_the_engine_rejects_is_rebuilt() {
    // A tokenizer outside tinkex's own engine's shape (here: the tiny fixture with a
    // normalizer that engine does not have) keeps Hugging Face's engine and its document only.
    let store = tempfile::tempdir().unwrap();
    let config = Config::default().with_prepared_cache(Some(store.path().to_path_buf()));
    let dir = tempfile::tempdir().unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_slice(include_bytes!("data/tiny/tokenizer.json")).unwrap();
    doc["normalizer"] = serde_json::json!({"type": "Lowercase"});
    std::fs::write(dir.path().join("tokenizer.json"), doc.to_string()).unwrap();
    let load = || tinkex::Tokenizer::from_path_with(dir.path(), &config).unwrap();
    let want = load().encode("HELLO", false).unwrap();
    assert_eq!(want, load().encode("hello", false).unwrap());
    assert_eq!(engines(store.path()).len(), 0);
    let docs = documents(store.path());
    assert_eq!(docs.len(), 1);
    let written = std::fs::read(&docs[0]).unwrap();
    // One whose payload the engine rejects although its header is intact.
    let nl = written.iter().position(|&b| b == b'\n').unwrap();
    let mut broken = written[..=nl].to_vec();
    broken.extend(std::iter::repeat_n(b' ', written.len() - nl - 1));
    std::fs::write(&docs[0], &broken).unwrap();
    assert_eq!(load().encode("HELLO", false).unwrap(), want);
    assert_eq!(std::fs::read(&docs[0]).unwrap(), written);
    // A truncated one.
    std::fs::write(&docs[0], &written[..written.len() / 2]).unwrap();
    assert_eq!(load().encode("HELLO", false).unwrap(), want);
    assert_eq!(std::fs::read(&docs[0]).unwrap(), written);
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
    assert_eq!(documents(store.path()).len(), 2);
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
    let files = documents(store.path());
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
    assert_eq!(files.len(), 2, "one document, one engine: {files:?}");
    let t = TokenizerCache::new(config).get_or_load("gpt2").unwrap();
    let bad = common::mismatches("gpt2", &t);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    t.warm_up().unwrap();
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
    assert_eq!(documents(store.path()).len(), 1);
}

/// The nice value of this process's thread named `name` (as `/proc` shows it), if there is one.
#[cfg(target_os = "linux")]
fn thread_nice(name: &str) -> Option<i32> {
    for task in std::fs::read_dir("/proc/self/task").ok()?.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim_end() != name {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
        // Fields after the parenthesised name start at field 3; the nice value is field 19.
        let rest = &stat[stat.rfind(')')? + 2..];
        return rest.split(' ').nth(16)?.parse().ok();
    }
    None
}

/// The helper thread that builds Hugging Face's engine runs at nice 19, so it takes idle cores
/// only and a batch encode that fills them is not slowed by it (BENCHMARKS.md, batch table).
#[cfg(target_os = "linux")]
#[test]
fn the_engine_build_runs_at_the_lowest_priority() {
    let config = Config::default()
        .with_offline(true)
        .with_hub_cache(None)
        .with_prepared_cache(None)
        .with_hf_engine_after(Some(0));
    // gpt-oss: the longest build of the lineup (seconds in a debug build), so it is seen running.
    let t = TokenizerCache::new(config)
        .get_or_load("openai/gpt-oss-20b")
        .unwrap();
    // "tinkex-hf-engine", as the kernel keeps it (15 bytes).
    let name = "tinkex-hf-engin";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    // Before the thread lowers its priority it may be seen at 0; it must be seen at 19 before
    // it ends (a build that ends unseen fails the test too).
    let mut before = None;
    let lowered = loop {
        if std::time::Instant::now() > deadline {
            break false;
        }
        match thread_nice(name) {
            Some(19) => break true,
            Some(n) => before = Some(n),
            None if before.is_some() => break false,
            None => {}
        }
        std::thread::yield_now();
    };
    assert!(
        lowered,
        "the build thread was not seen at nice 19 (last seen at {before:?})"
    );
    t.warm_up().unwrap();
}
