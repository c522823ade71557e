//! Load test: many threads through one shared handle and one cache, mixed keys. No deadlock, no
//! lost or duplicated loads, identical results on every thread. (Throughput scaling is measured
//! in benches/table.rs, not asserted here.)

mod common;

use std::sync::{Arc, Barrier};

use tinkex::cache::TokenizerCache;

#[test]
fn many_threads_mixed_keys_one_load_each() {
    let cache = Arc::new(TokenizerCache::new(common::config()));
    // Eight spellings of four tokenizers.
    let names = [
        "gpt2",
        "openai-community/gpt2",
        "Qwen/Qwen3-8B",
        "Qwen/Qwen3-32B:peft:1",
        "meta-llama/Llama-3.1-8B",
        "meta-llama/Llama-3.2-1B",
        "openai/gpt-oss-20b",
        "openai/gpt-oss-120b/x",
    ];
    let threads = 24;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (cache, barrier) = (cache.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let mut out = Vec::new();
                for round in 0..6 {
                    let name = names[(t + round * 5) % names.len()];
                    let tok = cache.get_or_load(name).unwrap();
                    let text = format!("thread {t} round {round}: Grüße, 世界! 🎉");
                    let ids = tok.encode(&text, false).unwrap();
                    assert_eq!(tok.decode(&ids, false).unwrap(), text);
                    out.push((name, ids));
                }
                out
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let stats = cache.stats();
    assert_eq!(stats.loads, 4, "one load per distinct tokenizer: {stats:?}");
    assert_eq!(stats.failed_loads, 0);
    // Same text through the same tokenizer gives the same ids on every thread.
    for (t, per_thread) in results.iter().enumerate() {
        for (round, (name, ids)) in per_thread.iter().enumerate() {
            let tok = cache.get_or_load(name).unwrap();
            let text = format!("thread {t} round {round}: Grüße, 世界! 🎉");
            assert_eq!(&tok.encode(&text, false).unwrap(), ids);
        }
    }
}

#[test]
fn one_handle_many_threads_encode_decode_stream() {
    let tok = common::tokenizer("deepseek-ai/DeepSeek-V3.1");
    let text: String = (0..200)
        .map(|i| format!("line {i}: <think>ok</think> 数字 {i}\n"))
        .collect();
    let expected = tok.encode(&text, true).unwrap();
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let (tok, text, expected) = (tok.clone(), text.clone(), expected.clone());
            std::thread::spawn(move || {
                for _ in 0..5 {
                    let ids = tok.encode(&text, true).unwrap();
                    assert_eq!(ids, expected);
                    let mut s = tok.decode_stream(false);
                    let mut streamed: String =
                        ids.iter().filter_map(|&i| s.step(i).unwrap()).collect();
                    streamed.push_str(&s.flush().unwrap());
                    assert_eq!(streamed, tok.decode(&ids, false).unwrap());
                }
                tok.encode_batch(&[text.as_str(); 8], true).unwrap()
            })
        })
        .collect();
    for h in handles {
        assert!(h.join().unwrap().iter().all(|ids| *ids == expected));
    }
}
