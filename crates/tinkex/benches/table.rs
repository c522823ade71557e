//! The side-by-side table of BENCHMARKS.md: tinkex against the engines it could be replaced by,
//! same process, same documents, interleaved rounds, ids materialised as `Vec<u32>` everywhere.
//!
//! `cargo bench -p tinkex --bench table` (full, ~100 s) or `... -- --quick` (smoke test, CI).
//! Loads are timed in fresh child processes (this binary re-run with `--child-load`), so each
//! number is a first load in a process, and their peak RSS is the memory a loaded tokenizer costs.

mod common;

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{documents, fixture_dir, CORPORA, LINEUP, NEXT};
use tokenizers::pipeline::{EncodeOptions, PipelineToken, PipelineTokenizer};

fn hf_load(name: &str) -> PipelineTokenizer {
    let canonical =
        tokenizers::canonicalize_file(fixture_dir(name).join("tokenizer.json")).unwrap();
    tokenizers::from_json(&canonical).unwrap()
}

fn hf_encode(tok: &PipelineTokenizer, text: &str, opts: &EncodeOptions) -> Vec<u32> {
    let mut out: Vec<PipelineToken> = Vec::with_capacity(text.len() / 4);
    tok.encode_into(text, opts, &mut out).unwrap();
    out.into_iter().map(u32::from).collect()
}

fn rss_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn mbps(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e6
}

/// Times one pass of `f` over `docs`; returns (elapsed, total ids).
fn pass(docs: &[String], mut f: impl FnMut(&str) -> Vec<u32>) -> (Duration, usize) {
    let start = Instant::now();
    let mut n = 0;
    for d in docs {
        n += black_box(f(d)).len();
    }
    (start.elapsed(), n)
}

fn child_load(engine: &str, name: &str) {
    if engine == "tinkex-bundled" {
        // A bundled tokenizer by model name (`name`), as a user loads it: no file is read.
        let config = tinkex::Config::default()
            .with_offline(true)
            .with_hub_cache(None)
            .with_prepared_cache(None);
        let cache = tinkex::cache::TokenizerCache::new(config);
        let before = rss_kb("VmRSS:");
        let start = Instant::now();
        let t = cache.get_or_load(name).unwrap();
        black_box(t.vocab_size());
        let ms = start.elapsed().as_secs_f64() * 1e3;
        std::mem::forget(cache);
        println!("{ms:.1} {} {}", rss_kb("VmHWM:"), rss_kb("VmHWM:") - before);
        return;
    }
    let dir = fixture_dir(name);
    let before = rss_kb("VmRSS:");
    let start = Instant::now();
    match engine {
        "tinkex" | "tinkex-warm-up" => {
            // As the library loads by default: through the prepared-tokenizer cache.
            let store = common::manifest_dir().join("../../target/bench-prepared");
            let config = tinkex::Config::default().with_prepared_cache(Some(store));
            let t = tinkex::Tokenizer::from_path_with(&dir, &config).unwrap();
            black_box(t.vocab_size());
            if engine == "tinkex-warm-up" {
                // Until Hugging Face's engine is built too (what a long job ends up holding).
                t.warm_up().unwrap();
            }
            std::mem::forget(t);
        }
        _ => {
            let t = hf_load(name);
            black_box(&t);
            std::mem::forget(t);
        }
    }
    let ms = start.elapsed().as_secs_f64() * 1e3;
    println!("{ms:.1} {} {}", rss_kb("VmHWM:"), rss_kb("VmHWM:") - before);
}

/// tiktoken-rs's `CoreBPE` over a rank file (`base64 rank` a line) and a split pattern: the
/// reference the tiktoken-format engine is measured against.
fn core_bpe(ranks: &[u8], pattern: &str) -> tiktoken_rs::CoreBPE {
    use base64::Engine as _;
    let mut encoder = std::collections::HashMap::default();
    for line in std::str::from_utf8(ranks).unwrap().lines() {
        let mut it = line.split(' ');
        let (Some(tok), Some(rank)) = (it.next(), it.next()) else {
            continue;
        };
        encoder.insert(
            base64::engine::general_purpose::STANDARD
                .decode(tok)
                .unwrap(),
            rank.parse().unwrap(),
        );
    }
    tiktoken_rs::CoreBPE::new(encoder, Default::default(), pattern).unwrap()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child-load") {
        child_load(&args[i + 1], &args[i + 2]);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick" || a == "--test");
    let (limit, rounds, procs) = if quick {
        (64 << 10, 1, 1)
    } else {
        // Four rounds of the rotation below: the own engine runs first in a round (the coldest
        // CPU cache) twice, the others once each.
        (2 << 20, 4, 4)
    };
    let docs: Vec<(&str, Vec<String>)> = CORPORA
        .iter()
        .map(|c| (*c, documents(c, 4096, limit)))
        .collect();
    let no_specials = EncodeOptions::no_specials();
    let only = |section: &str| {
        let flags: Vec<&String> = args.iter().filter(|a| a.starts_with("--only-")).collect();
        flags.is_empty()
            || flags
                .iter()
                .any(|a| a.as_str() == format!("--only-{section}"))
    };

    if only("encode") {
        println!("## Encode, single thread, MB/s (median of {rounds} interleaved rounds; first pass / warm)\n");
        println!("`own`: tinkex's own engine, which encodes from the moment a tokenizer is loaded");
        println!("(`hf_engine_after = None` keeps it on); `switched`: after `warm_up()`, i.e. on");
        println!("Hugging Face's engine, which a tokenizer builds and switches to after 4 MiB by default.\n");
        println!("| tokenizer | corpus | tinkex own | tinkex switched | HF 1.0.0-rc.3 pipeline | own / HF (first, warm) | switched / HF (first, warm) | HF 0.23.2 (warm) | tiktoken-rs o200k_harmony (warm) |");
        println!("|---|---|---|---|---|---|---|---|---|");
        let mut ratios = Vec::new();
        let own_config = tinkex::Config::default().with_hf_engine_after(None);
        for name in LINEUP {
            let mut rows: Vec<[Vec<f64>; 6]> = docs.iter().map(|_| Default::default()).collect();
            for round in 0..rounds {
                let own =
                    tinkex::Tokenizer::from_path_with(fixture_dir(name), &own_config).unwrap();
                let switched = tinkex::Tokenizer::from_path(fixture_dir(name)).unwrap();
                switched.warm_up().unwrap();
                let hf = hf_load(name);
                for (ci, (_, ds)) in docs.iter().enumerate() {
                    let bytes: usize = ds.iter().map(String::len).sum();
                    let own_pass = || pass(ds, |d| own.encode(d, false).unwrap());
                    let sw_pass = || pass(ds, |d| switched.encode(d, false).unwrap());
                    let hf_pass = || pass(ds, |d| hf_encode(&hf, d, &no_specials));
                    // Rotate who goes first, so none always meets a cold CPU cache.
                    let mut firsts = [None, None, None];
                    let order = [[0, 1, 2], [1, 2, 0], [2, 0, 1], [0, 2, 1]][round % 4];
                    for &k in &order {
                        firsts[k] = Some(match k {
                            0 => own_pass(),
                            1 => sw_pass(),
                            _ => hf_pass(),
                        });
                    }
                    let mut seconds = [None, None, None];
                    for &k in order.iter().rev() {
                        seconds[k] = Some(match k {
                            0 => own_pass(),
                            1 => sw_pass(),
                            _ => hf_pass(),
                        });
                    }
                    let [f0, f1, f2] = firsts.map(|x| x.expect("ran"));
                    let [s0, s1, s2] = seconds.map(|x| x.expect("ran"));
                    assert!(
                        f0.1 == f2.1 && f1.1 == f2.1 && s0.1 == s2.1 && s1.1 == s2.1,
                        "{name}: token counts differ"
                    );
                    for (k, d) in [f0.0, s0.0, f1.0, s1.0, f2.0, s2.0].into_iter().enumerate() {
                        rows[ci][k].push(mbps(bytes, d));
                    }
                }
            }
            let stable =
                tokenizers_stable::Tokenizer::from_file(fixture_dir(name).join("tokenizer.json"))
                    .unwrap();
            let o200k = (name == "gpt_oss").then(|| tiktoken_rs::o200k_harmony().unwrap());
            for (ci, (corpus, ds)) in docs.iter().enumerate() {
                let bytes: usize = ds.iter().map(String::len).sum();
                let few = &ds[..ds.len().min(if quick { 4 } else { 64 })];
                let few_bytes: usize = few.iter().map(String::len).sum();
                pass(few, |d| {
                    stable.encode_fast(d, false).unwrap().get_ids().to_vec()
                });
                let (s, _) = pass(few, |d| {
                    stable.encode_fast(d, false).unwrap().get_ids().to_vec()
                });
                let tt = o200k.as_ref().map(|o| {
                    pass(ds, |d| o.encode_ordinary(d));
                    mbps(bytes, pass(ds, |d| o.encode_ordinary(d)).0)
                });
                let [o1, o2, w1, w2, h1, h2] = rows[ci].clone().map(median);
                ratios.push((name, *corpus, [o1 / h1, o2 / h2, w1 / h1, w2 / h2]));
                println!(
                "| {name} | {corpus} | {o1:.0} / {o2:.0} | {w1:.0} / {w2:.0} | {h1:.0} / {h2:.0} | {:.2} / {:.2} | {:.2} / {:.2} | {:.1} | {} |",
                o1 / h1,
                o2 / h2,
                w1 / h1,
                w2 / h2,
                mbps(few_bytes, s),
                tt.map(|t| format!("{t:.1}")).unwrap_or_default()
            );
            }
        }
        let geo = |k: usize| {
            (ratios.iter().map(|r| r.2[k].ln()).sum::<f64>() / ratios.len() as f64).exp()
        };
        let min = |k: usize| ratios.iter().map(|r| r.2[k]).fold(f64::MAX, f64::min);
        println!(
        "\nown / HF: geometric mean {:.3} (first pass), {:.3} (warm); lowest pair {:.3} / {:.3}",
        geo(0), geo(1), min(0), min(1)
    );
        println!(
        "switched / HF: geometric mean {:.3} (first pass), {:.3} (warm); lowest pair {:.3} / {:.3}\n",
        geo(2), geo(3), min(2), min(3)
    );
    }

    // Today's families: not in the lineup's means; Hugging Face's engine only where it can run.
    if only("next") {
        println!("## Today's families (issue #14), single thread, MB/s (median of {rounds} rounds; first pass / warm)\n");
        println!("`switched`: after `warm_up()`, which switches to Hugging Face's engine only where it gives");
        println!("tinkex's ids on a probe text; HF 1.0.0-rc.3 where it can encode the tokenizer at all.\n");
        println!("| tokenizer | corpus | tinkex own | tinkex switched | HF 1.0.0-rc.3 pipeline | own / HF (first, warm) |");
        println!("|---|---|---|---|---|---|");
        let own_config = tinkex::Config::default().with_hf_engine_after(None);
        for name in NEXT {
            let hf = hf_load(name);
            let mut probe = Vec::new();
            let hf_error = hf
                .encode_into("Hello, world", &no_specials, &mut probe)
                .err()
                .map(|e| e.to_string());
            let mut rows: Vec<[Vec<f64>; 6]> = docs.iter().map(|_| Default::default()).collect();
            for _ in 0..rounds {
                let own =
                    tinkex::Tokenizer::from_path_with(fixture_dir(name), &own_config).unwrap();
                let switched = tinkex::Tokenizer::from_path(fixture_dir(name)).unwrap();
                switched.warm_up().unwrap();
                for (ci, (_, ds)) in docs.iter().enumerate() {
                    let bytes: usize = ds.iter().map(String::len).sum();
                    let mut counts = Vec::new();
                    for k in 0..6 {
                        let (d, n) = match k % 3 {
                            0 => pass(ds, |d| own.encode(d, false).unwrap()),
                            1 => pass(ds, |d| switched.encode(d, false).unwrap()),
                            _ if hf_error.is_none() => {
                                pass(ds, |d| hf_encode(&hf, d, &no_specials))
                            }
                            _ => continue,
                        };
                        counts.push(n);
                        // k 0..3: first passes, 3..6: warm.
                        rows[ci][(k % 3) * 2 + k / 3].push(mbps(bytes, d));
                    }
                    assert!(
                        counts.windows(2).all(|w| w[0] == w[1]),
                        "{name}: token counts differ"
                    );
                }
            }
            for (ci, (corpus, _)) in docs.iter().enumerate() {
                let m = rows[ci]
                    .clone()
                    .map(|v| if v.is_empty() { f64::NAN } else { median(v) });
                let hf_cells = match &hf_error {
                    None => format!(
                        "{:.0} / {:.0} | {:.2} / {:.2}",
                        m[4],
                        m[5],
                        m[0] / m[4],
                        m[1] / m[5]
                    ),
                    Some(e) => format!("cannot encode it: {e} | –"),
                };
                println!(
                    "| {name} | {corpus} | {:.0} / {:.0} | {:.0} / {:.0} | {hf_cells} |",
                    m[0], m[1], m[2], m[3]
                );
            }
        }
        println!();
    }

    // Kimi: the tiktoken-format engine against tiktoken-rs with the same ranks and pattern.
    if only("kimi") {
        println!("## Kimi-style (tiktoken format), single thread, warm MB/s\n");
        println!("| corpus | tinkex | tiktoken-rs CoreBPE, same ranks + pattern | ratio |");
        println!("|---|---|---|---|");
        let kimi_dir = common::manifest_dir().join("../../target/bench-fixtures/kimi_style");
        std::fs::create_dir_all(&kimi_dir).unwrap();
        let kdata = common::manifest_dir().join("tests/data/kimi_style");
        let ranks = zstd::stream::decode_all(
            std::fs::File::open(kdata.join("tiktoken.model.zst")).unwrap(),
        )
        .unwrap();
        std::fs::write(kimi_dir.join("tiktoken.model"), &ranks).unwrap();
        for f in ["tokenizer_config.json", "kimi_style.json"] {
            std::fs::copy(kdata.join(f), kimi_dir.join(f)).unwrap();
        }
        let kimi = tinkex::Tokenizer::from_path(&kimi_dir).unwrap();
        let pat: serde_json::Value =
            serde_json::from_slice(&std::fs::read(kimi_dir.join("kimi_style.json")).unwrap())
                .unwrap();
        // Kimi's split pattern (the test `kimi_pattern_is_the_fixture_pattern` holds the
        // fixture's to the engine's).
        let kimi_pattern = pat["pat_str"].as_str().unwrap().to_owned();
        let core = core_bpe(&ranks, &kimi_pattern);
        for (corpus, ds) in &docs {
            let bytes: usize = ds.iter().map(String::len).sum();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for _ in 0..rounds {
                pass(ds, |d| kimi.encode(d, false).unwrap());
                a.push(mbps(bytes, pass(ds, |d| kimi.encode(d, false).unwrap()).0));
                b.push(mbps(bytes, pass(ds, |d| core.encode_ordinary(d)).0));
            }
            let (a, b) = (median(a), median(b));
            println!("| {corpus} | {a:.1} | {b:.1} | {:.2} |", a / b);
        }

        // The real Kimi tokenizers, bundled, loaded by model name with no cache or network.
        println!("\n## Kimi (bundled), single thread, warm MB/s\n");
        println!("Loaded by model name, offline with no cache. K2.5 and K2.6 are one bundled tokenizer (the");
        println!("same files); K2-Thinking has the same ranks and pattern and other special-token names.\n");
        println!(
            "| tokenizer | corpus | tinkex | tiktoken-rs CoreBPE, same ranks + pattern | ratio |"
        );
        println!("|---|---|---|---|---|");
        let ranks = zstd::stream::decode_all(
            std::fs::File::open(common::manifest_dir().join("bundled/kimi/tiktoken.model.zst"))
                .unwrap(),
        )
        .unwrap();
        let core = core_bpe(&ranks, &kimi_pattern);
        let config = tinkex::Config::default()
            .with_offline(true)
            .with_hub_cache(None);
        for (name, model) in [
            ("kimi_k2", "moonshotai/Kimi-K2-Thinking"),
            ("kimi_k25", "moonshotai/Kimi-K2.6"),
        ] {
            let cache = tinkex::cache::TokenizerCache::new(config.clone());
            let kimi = cache.get_or_load(model).unwrap();
            for (corpus, ds) in &docs {
                let bytes: usize = ds.iter().map(String::len).sum();
                let (mut a, mut b) = (Vec::new(), Vec::new());
                for _ in 0..rounds {
                    let (_, n) = pass(ds, |d| kimi.encode(d, false).unwrap());
                    a.push(mbps(bytes, pass(ds, |d| kimi.encode(d, false).unwrap()).0));
                    let (d, m) = pass(ds, |d| core.encode_ordinary(d));
                    assert_eq!(n, m, "{name} {corpus}: token counts differ");
                    b.push(mbps(bytes, d));
                }
                let (a, b) = (median(a), median(b));
                println!("| {name} | {corpus} | {a:.1} | {b:.1} | {:.2} |", a / b);
            }
        }
    }

    // Batch and decode, on the English corpus.
    if only("batch") {
        println!(
            "\n## Batch encode (all cores: {}) and decode, English\n",
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );
        println!("The speed-up is batch / single of the same round (rounds alternate single, batch), on a");
        println!("tokenizer that has already encoded the documents once on this thread. `first call` is the");
        println!(
            "first `encode_batch` on the tokenizer (its helper thread's word cache is still cold);"
        );
        println!(
            "`later calls` the median over the next {} rounds.\n",
            rounds + 2
        );
        println!("`both cold`: one pass of each on its own freshly loaded tokenizer (every cache cold).\n");
        println!("| tokenizer | single thread MB/s | encode_batch MB/s (later) | speed-up, both cold | speed-up, first call | speed-up, later calls | decode MB/s of text |");
        println!("|---|---|---|---|---|---|---|");
        let english = &docs[0].1;
        let bytes: usize = english.iter().map(String::len).sum();
        for name in LINEUP {
            let cold_single = {
                let tk = tinkex::Tokenizer::from_path(fixture_dir(name)).unwrap();
                mbps(bytes, pass(english, |d| tk.encode(d, false).unwrap()).0)
            };
            let cold_batch = {
                let tk = tinkex::Tokenizer::from_path(fixture_dir(name)).unwrap();
                let start = Instant::now();
                black_box(tk.encode_batch(english, false).unwrap());
                mbps(bytes, start.elapsed())
            };
            let tk = tinkex::Tokenizer::from_path(fixture_dir(name)).unwrap();
            pass(english, |d| tk.encode(d, false).unwrap());
            let (mut single, mut batch, mut ratio, mut dec) = (vec![], vec![], vec![], vec![]);
            let mut first = None;
            for round in 0..rounds + 3 {
                let s = mbps(bytes, pass(english, |d| tk.encode(d, false).unwrap()).0);
                let start = Instant::now();
                let ids = black_box(tk.encode_batch(english, false).unwrap());
                let b = mbps(bytes, start.elapsed());
                if round == 0 {
                    first = Some(b / s);
                    continue;
                }
                single.push(s);
                batch.push(b);
                ratio.push(b / s);
                let start = Instant::now();
                for i in &ids {
                    black_box(tk.decode(i, false).unwrap());
                }
                dec.push(mbps(bytes, start.elapsed()));
            }
            println!(
                "| {name} | {:.0} | {:.0} | {:.2}× | {:.2}× | {:.2}× | {:.0} |",
                median(single),
                median(batch),
                cold_batch / cold_single,
                first.unwrap_or(f64::NAN),
                median(ratio),
                median(dec)
            );
        }
    }

    // Loads, each in a fresh process.
    if !only("load") {
        return;
    }
    println!(
        "\n## First load in a fresh process, ms (median of {procs} processes), and peak RSS\n"
    );
    println!(
        "tinkex loads through its prepared-tokenizer cache: `cold` = the cache is empty (the first"
    );
    println!(
        "process on a machine, or the first after the files changed), `warm` = a later process."
    );
    println!(
        "Each round runs tinkex cold, HF, tinkex warm, tinkex warm + `warm_up()` (until Hugging"
    );
    println!("Face's engine is built too, what a long job ends up holding), in that order.\n");
    println!("| tokenizer | tinkex cold | tinkex warm | HF `canonicalize_file` + `from_json` | cold / HF | warm / HF | tinkex peak RSS MiB (warm) | HF peak RSS MiB | tinkex warm + `warm_up()` ms, peak RSS MiB |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let exe = std::env::current_exe().unwrap();
    let store = common::manifest_dir().join("../../target/bench-prepared");
    let (mut load_ratios, mut cold_ratios) = (Vec::new(), Vec::new());
    let child = |engine: &str, name: &str| -> (f64, f64) {
        let out = Command::new(&exe)
            .args(["--child-load", engine, name])
            .output()
            .unwrap();
        let line = String::from_utf8_lossy(&out.stdout).to_string();
        let mut f = line
            .split_whitespace()
            .map(|x| x.parse::<f64>().unwrap_or(f64::NAN));
        (
            f.next().unwrap_or(f64::NAN),
            f.next().unwrap_or(f64::NAN) / 1024.0,
        )
    };
    for name in [
        "gpt2",
        "qwen3",
        "llama3_1",
        "deepseek_v3",
        "deepseek_v3_1",
        "gpt_oss",
    ] {
        fixture_dir(name);
        let (mut c, mut t, mut h, mut trss, mut hrss) = (vec![], vec![], vec![], vec![], vec![]);
        let (mut w, mut wrss) = (vec![], vec![]);
        for _ in 0..procs {
            let _ = std::fs::remove_dir_all(&store);
            c.push(child("tinkex", name).0);
            let (ms, rss) = child("hf", name);
            h.push(ms);
            hrss.push(rss);
            let (ms, rss) = child("tinkex", name);
            t.push(ms);
            trss.push(rss);
            let (ms, rss) = child("tinkex-warm-up", name);
            w.push(ms);
            wrss.push(rss);
        }
        let (c, t, h) = (median(c), median(t), median(h));
        cold_ratios.push(c / h);
        load_ratios.push(t / h);
        println!(
            "| {name} | {c:.0} | {t:.0} | {h:.0} | {:.2} | {:.2} | {:.0} | {:.0} | {:.0}, {:.0} |",
            c / h,
            t / h,
            median(trss),
            median(hrss),
            median(w),
            median(wrss)
        );
    }
    let gm = |r: &[f64]| (r.iter().map(|r| r.ln()).sum::<f64>() / r.len() as f64).exp();
    let max = |r: &[f64]| r.iter().copied().fold(0.0, f64::max);
    println!(
        "\nload tinkex / HF, geometric mean: cold {:.3}, warm {:.3}; highest warm {:.3}",
        gm(&cold_ratios),
        gm(&load_ratios),
        max(&load_ratios)
    );

    // Kimi has no tokenizer.json for Hugging Face's engine, nor a prepared form: its bundled
    // copy is decompressed and its ranks parsed on every load.
    println!(
        "\n### Kimi (bundled, tiktoken format), first load by model name in a fresh process\n"
    );
    println!("| model | tinkex ms | peak RSS MiB |");
    println!("|---|---|---|");
    for model in ["moonshotai/Kimi-K2-Thinking", "moonshotai/Kimi-K2.6"] {
        let (mut t, mut rss) = (vec![], vec![]);
        for _ in 0..procs {
            let (ms, r) = child("tinkex-bundled", model);
            t.push(ms);
            rss.push(r);
        }
        println!("| {model} | {:.0} | {:.0} |", median(t), median(rss));
    }
}
