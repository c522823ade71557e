//! What a cache hit costs: `get_or_load_tokenizer` by model name (alias map), by a second
//! spelling of the same tokenizer (resolution + key lookup), and the same on a private cache.
//! Run: `cargo bench -p tinkex --bench cache_hit`.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

fn cache_hit(c: &mut Criterion) {
    let _warm = tinkex::tokenizer::get_or_load_tokenizer("Qwen/Qwen3-8B").expect("bundled qwen3");
    c.bench_function("hit by model name (process-wide)", |b| {
        b.iter(|| tinkex::tokenizer::get_or_load_tokenizer(black_box("Qwen/Qwen3-8B")))
    });
    let cache = tinkex::cache::TokenizerCache::new(tinkex::Config::default());
    let t = cache.get_or_load("Qwen/Qwen3-8B").unwrap();
    let resolution = cache.resolve("Qwen/Qwen3-8B:peft:2", None).unwrap();
    c.bench_function("hit by resolved key", |b| {
        b.iter(|| cache.get_or_load_resolved(black_box(&resolution)))
    });
    c.bench_function("resolve a model name (pure rules + registry check)", |b| {
        b.iter(|| {
            tinkex::resolve::resolve(
                black_box("meta-llama/Llama-3.1-8B:x"),
                None,
                &tinkex::resolve::NoContext,
            )
        })
    });
    drop(t);
}

criterion_group!(benches, cache_hit);
criterion_main!(benches);
