//! The single-flight cache under real threads.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

mod common;

use tinkex::cache::{CacheKey, TokenizerCache};
use tinkex::{Error, Tokenizer};

fn offline_cache() -> TokenizerCache {
    TokenizerCache::new(common::config())
}

#[test]
fn thirty_two_threads_one_cold_tokenizer_one_load() {
    let cache = Arc::new(offline_cache());
    let barrier = Arc::new(Barrier::new(32));
    let handles: Vec<_> = (0..32)
        .map(|i| {
            let (cache, barrier) = (cache.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                // Different spellings of the same tokenizer: one key after resolution.
                let name = [
                    "Qwen/Qwen3-8B",
                    "Qwen/Qwen3-8B:peft:7",
                    "Qwen/Qwen3-8B/lora",
                ][i % 3];
                cache.get_or_load(name).expect("bundled qwen3 loads")
            })
        })
        .collect();
    let toks: Vec<Arc<Tokenizer>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let stats = cache.stats();
    assert_eq!(stats.loads, 1, "{stats:?}");
    assert_eq!(stats.failed_loads, 0);
    assert_eq!(stats.entries, 1);
    assert!(toks.iter().all(|t| Arc::ptr_eq(t, &toks[0])));
    // A later request is a hit and does not load.
    let again = cache.get_or_load("Qwen/Qwen3-8B").unwrap();
    assert!(Arc::ptr_eq(&again, &toks[0]));
    assert_eq!(cache.stats().loads, 1);
    assert!(cache.stats().hits >= 1);
}

#[test]
fn loader_runs_once_for_concurrent_callers() {
    let cache = Arc::new(offline_cache());
    let runs = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(16));
    let key = CacheKey::Hub {
        id: "test/slow".into(),
        revision: None,
    };
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (cache, runs, barrier, key) =
                (cache.clone(), runs.clone(), barrier.clone(), key.clone());
            std::thread::spawn(move || {
                barrier.wait();
                cache.get_or_load_with(key, || {
                    runs.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(200));
                    Tokenizer::from_bytes(include_bytes!("data/tiny/tokenizer.json"), None)
                })
            })
        })
        .collect();
    let toks: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().unwrap().unwrap())
        .collect();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert!(toks.iter().all(|t| Arc::ptr_eq(t, &toks[0])));
}

#[test]
fn failed_load_is_not_cached() {
    let cache = offline_cache();
    let key = CacheKey::Hub {
        id: "test/flaky".into(),
        revision: None,
    };
    let first = cache.get_or_load_with(key.clone(), || {
        Err(Error::Engine {
            message: "transient".into(),
            source: None,
        })
    });
    assert!(matches!(first, Err(Error::Engine { .. })));
    let runs = AtomicUsize::new(0);
    let second = cache.get_or_load_with(key.clone(), || {
        runs.fetch_add(1, Ordering::SeqCst);
        Tokenizer::from_bytes(include_bytes!("data/tiny/tokenizer.json"), None)
    });
    assert!(second.is_ok());
    assert_eq!(runs.load(Ordering::SeqCst), 1, "the retry ran the loader");
    // And once loaded, never again.
    let third = cache.get_or_load_with(key, || panic!("a cached tokenizer must not reload"));
    assert!(Arc::ptr_eq(&second.unwrap(), &third.unwrap()));
    let s = cache.stats();
    assert_eq!((s.loads, s.failed_loads), (1, 1));
}

#[test]
fn remove_and_clear_force_a_reload() {
    let cache = offline_cache();
    let a = cache.get_or_load("gpt2").unwrap();
    assert!(cache.remove("gpt2"));
    assert!(!cache.remove("gpt2"));
    let b = cache.get_or_load("openai-community/gpt2").unwrap();
    assert!(!Arc::ptr_eq(&a, &b), "removed entries are loaded afresh");
    assert_eq!(cache.stats().loads, 2);
    cache.clear();
    assert_eq!(cache.stats().entries, 0);
    // Handles given out stay usable.
    assert_eq!(
        a.encode("Hello world", false).unwrap(),
        b.encode("Hello world", false).unwrap()
    );
}

#[test]
fn registered_name_wins_even_for_private_ids() {
    let cache = offline_cache();
    assert!(matches!(
        cache.get_or_load("TML/secret-tokenizer"),
        Err(Error::PrivateTokenizer { .. })
    ));
    let tiny =
        Arc::new(Tokenizer::from_bytes(include_bytes!("data/tiny/tokenizer.json"), None).unwrap());
    cache.register("TML/secret-tokenizer", tiny.clone());
    let got = cache.get_or_load("TML/secret-tokenizer").unwrap();
    assert!(Arc::ptr_eq(&got, &tiny));
    assert_eq!(cache.stats().loads, 0, "registering is not loading");
}

#[test]
fn process_wide_functions_share_one_cache() {
    // Through a registered tokenizer: the process-wide cache is configured from the environment,
    // so a load through it would depend on the developer's settings (and write to their cache).
    let name = "tinkex-tests/process-wide";
    let tiny =
        Arc::new(Tokenizer::from_bytes(include_bytes!("data/tiny/tokenizer.json"), None).unwrap());
    tinkex::tokenizer::register_tokenizer(name, tiny.clone());
    let before = tinkex::tokenizer::cache_stats();
    let a = tinkex::tokenizer::get_or_load_tokenizer(name).unwrap();
    let b = tinkex::tokenizer::get_or_load_tokenizer(name).unwrap();
    assert!(Arc::ptr_eq(&a, &tiny) && Arc::ptr_eq(&b, &tiny));
    assert_eq!(tinkex::tokenizer::cache_stats().loads, before.loads);
    assert!(tinkex::tokenizer::remove_tokenizer(name));
    assert!(!tinkex::tokenizer::remove_tokenizer(name), "removed once");
}
