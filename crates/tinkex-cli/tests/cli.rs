//! End-to-end tests of the `tinkex` binary.
//!
//! Every command runs hermetically: offline, with an empty Hugging Face cache, so only the
//! bundled tokenizers and local directories are available. Loading a bundled tokenizer takes
//! about a second in a debug build, so the number of processes is kept small.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

const LLAMA: &str = "meta-llama/Llama-3.1-8B";
const QWEN: &str = "Qwen/Qwen3-8B";

/// A small but real local tokenizer (word level, whitespace split).
const TINY_TOKENIZER: &str = r#"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],
"normalizer":null,"pre_tokenizer":{"type":"Whitespace"},"post_processor":null,"decoder":null,
"model":{"type":"WordLevel","vocab":{"hello":0,"world":1,"[UNK]":2},"unk_token":"[UNK]"}}"#;

fn command(args: &[&str], hub_cache: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tinkex"));
    // Hermetic: none of the developer's environment (HF_*, TINKEX_*, TINKER_*, HOME), only what
    // the test sets; no prepared-tokenizer cache, and a home inside the test's temporary directory.
    cmd.args(args)
        .env_clear()
        .env("HOME", hub_cache.join("home"))
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_HUB_CACHE", hub_cache)
        .env("TINKEX_CACHE_DIR", "off");
    cmd
}

/// Runs `tinkex args...` with `stdin`.
fn run(args: &[&str], stdin: &[u8]) -> Output {
    let hub = tempfile::tempdir().unwrap();
    run_in(args, stdin, hub.path())
}

fn run_in(args: &[&str], stdin: &[u8], hub_cache: &Path) -> Output {
    let mut child = command(args, hub_cache)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tinkex");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    // Write from a thread so a large input cannot deadlock against a full stdout pipe.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts success and returns stdout.
fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "status {:?}, stderr: {}",
        out.status,
        stderr(&out)
    );
    assert_eq!(stderr(&out), "", "nothing on stderr on success");
    stdout(&out)
}

fn ids(json: &str) -> Vec<u32> {
    serde_json::from_str(json.trim_end()).unwrap_or_else(|e| panic!("{json:?}: {e}"))
}

/// Asserts a user error: exit code 1, `error: ...` (+ optional `hint: ...`) on stderr, no panic.
/// Returns stderr.
fn user_error(out: &Output) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert!(err.starts_with("error: "), "stderr: {err}");
    assert!(!err.contains("panicked"), "stderr: {err}");
    assert!(!err.contains("RUST_BACKTRACE"), "stderr: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines.len() <= 2, "at most an error and a hint line: {err}");
    if let Some(hint) = lines.get(1) {
        assert!(hint.starts_with("hint: "), "stderr: {err}");
    }
    err
}

#[test]
fn encode_with_and_without_special_tokens() {
    let out = ok(run(&["encode", "--model", LLAMA, "Hello world"], b""));
    assert_eq!(out, "[128000,9906,1917]\n");
    let out = ok(run(
        &[
            "encode",
            "--model",
            LLAMA,
            "--no-special-tokens",
            "Hello world",
        ],
        b"",
    ));
    assert_eq!(out, "[9906,1917]\n");
}

#[test]
fn encode_reads_all_of_stdin() {
    let out = ok(run(&["encode", "-m", QWEN], b"Hello world"));
    assert_eq!(out, "[9707,1879]\n");
}

#[test]
fn decode_roundtrips() {
    let text = "Hello world! Ünïcödé 🙂\n\tsecond line";
    let encoded = ids(&ok(run(&["encode", "-m", LLAMA, text], b"")));
    assert_eq!(encoded[0], 128000);
    let args: Vec<String> = encoded.iter().map(u32::to_string).collect();
    let mut argv = vec!["decode", "-m", LLAMA];
    argv.extend(args.iter().map(String::as_str));
    // Exactly the text, no newline added.
    assert_eq!(ok(run(&argv, b"")), format!("<|begin_of_text|>{text}"));

    // Ids on stdin as a JSON array, special tokens skipped.
    let json = serde_json::to_string(&encoded).unwrap();
    let out = ok(run(
        &["decode", "-m", LLAMA, "--skip-special-tokens"],
        json.as_bytes(),
    ));
    assert_eq!(out, text);
}

#[test]
fn jsonl_encode_decode_keep_order_and_count() {
    // More lines than one batch, so batching must keep the order.
    let mut texts = vec!["Hello world".to_owned()];
    texts.extend(
        (1..2500).map(|i| format!("line {i}: the {} fox {}", "quick ".repeat(i % 7), i * 31)),
    );
    texts.push("ünïcödé \"quoted\" \\ back\tslash\n".to_owned());
    let input: String = texts
        .iter()
        .map(|t| format!("{}\n", serde_json::json!({ "text": t, "extra": 1 })))
        .collect();

    let encoded = ok(run(&["encode", "-m", QWEN, "--jsonl"], input.as_bytes()));
    let lines: Vec<&str> = encoded.lines().collect();
    assert_eq!(lines.len(), texts.len());
    assert_eq!(lines[0], r#"{"ids":[9707,1879]}"#);

    let decoded = ok(run(&["decode", "-m", QWEN, "--jsonl"], encoded.as_bytes()));
    let out: Vec<String> = decoded
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["text"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(out, texts);
}

#[test]
fn count_matches_encode_without_special_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let text = "The quick brown fox.\n\nJumps over  the lazy dog — ünïcödé 🙂\n";
    let file = dir.path().join("text.txt");
    std::fs::write(&file, text).unwrap();
    let file = file.to_str().unwrap();

    let n: usize = ok(run(&["count", "-m", LLAMA, file], b""))
        .trim()
        .parse()
        .unwrap();
    let encoded = ids(&ok(run(
        &["encode", "-m", LLAMA, "--no-special-tokens"],
        text.as_bytes(),
    )));
    assert_eq!(n, encoded.len());
    assert_eq!(
        ok(run(&["count", "-m", LLAMA, "-"], text.as_bytes())),
        format!("{n}\n")
    );
}

fn resolve_json(args: &[&str]) -> Value {
    let mut argv = vec!["resolve"];
    argv.extend_from_slice(args);
    argv.push("--json");
    let out = ok(run(&argv, b""));
    assert_eq!(out.lines().count(), 1);
    serde_json::from_str(&out).unwrap()
}

#[test]
fn resolve_reports_the_tokenizer() {
    let v = resolve_json(&[LLAMA]);
    assert_eq!(
        v,
        serde_json::json!({
            "tokenizer_id": "thinkingmachineslabinc/meta-llama-3-instruct-tokenizer",
            "revision": null,
            "format": "tokenizer.json",
            "rule": "llama3",
            "model": LLAMA,
            "source": "model_name",
            "renderers": ["role_colon"],
            "bundled": true,
        })
    );

    let v = resolve_json(&["moonshotai/Kimi-K2.5-Text-Only"]);
    assert_eq!(v["revision"], "4d01dfe0332d63057c186e0b262165819efb6611");
    assert_eq!(v["format"], "tiktoken");
    assert_eq!(v["rule"], "kimi");
    assert_eq!(v["model"], "moonshotai/Kimi-K2.5-Text-Only");
    // Kimi is bundled at the revision resolution pins it at.
    assert_eq!(v["bundled"], true);

    let v = resolve_json(&[QWEN, "--tokenizer-id", "Qwen/Qwen3-8B-Base:abc"]);
    assert_eq!(v["tokenizer_id"], "Qwen/Qwen3-8B-Base");
    assert_eq!(v["rule"], "server_tokenizer_id");
    assert_eq!(v["bundled"], true);

    let out = ok(run(&["resolve", "moonshotai/Kimi-K2.5-Text-Only"], b""));
    assert_eq!(
        out,
        "moonshotai/Kimi-K2.5@4d01dfe0332d63057c186e0b262165819efb6611\n"
    );
}

/// Today's families (issue #14) are not bundled: they resolve to their own repos, with the
/// cookbook's recommended renderers.
#[test]
fn resolve_names_todays_families_repos_and_renderers() {
    let v = resolve_json(&["Qwen/Qwen3.8-27B"]);
    assert_eq!(v["tokenizer_id"], "Qwen/Qwen3.8-27B");
    assert_eq!(v["bundled"], false);
    assert_eq!(
        v["renderers"],
        json!([
            "qwen3_8_xhigh_reasoning",
            "qwen3_8_disable_thinking",
            "qwen3_8_medium_reasoning",
            "qwen3_8_low_reasoning"
        ])
    );
    let v = resolve_json(&["Qwen/Qwen3.6-35B-A3B"]);
    assert_eq!(v["tokenizer_id"], "Qwen/Qwen3.6-35B-A3B");
    assert_eq!(
        v["renderers"],
        json!([
            "qwen3_5",
            "qwen3_5_disable_thinking",
            "qwen3_5_preserve_thinking"
        ])
    );
    let v = resolve_json(&["deepseek-ai/DeepSeek-V4.1-Flash:peft:3"]);
    assert_eq!(v["tokenizer_id"], "deepseek-ai/DeepSeek-V4.1-Flash");
    assert_eq!(v["bundled"], false);
    assert_eq!(v["renderers"][0], "deepseekv4_1");
    assert_eq!(v["renderers"].as_array().map(Vec::len), Some(5));
}

#[test]
fn inkling_is_built_in() {
    let v = resolve_json(&["thinkingmachines/Inkling"]);
    assert_eq!(
        v,
        serde_json::json!({
            "tokenizer_id": "o200k_base_chat",
            "revision": null,
            "format": "tiktoken",
            "rule": "inkling",
            "model": "thinkingmachines/Inkling",
            "source": "model_name",
            "renderers": ["tml_v0"],
            "bundled": true,
        })
    );
    assert_eq!(
        ok(run(
            &["resolve", "thinkingmachines/Inkling-2-Small:peft:1"],
            b""
        )),
        "o200k_base_chat\n"
    );

    // Offline with an empty Hugging Face cache (as every test here): the markup stays text
    // (tiktoken-rs 0.12.1 o200k_base `encode_ordinary` gives these ids), nothing is added.
    let hello = [13225, 464, 91, 419, 1440, 919, 91, 29];
    for args in [
        &[
            "encode",
            "--model",
            "thinkingmachines/Inkling-Small",
            "--offline",
            "Hello <|endoftext|>",
        ][..],
        &[
            "encode",
            "-m",
            "thinkingmachines/Inkling",
            "--no-special-tokens",
            "Hello <|endoftext|>",
        ],
    ] {
        assert_eq!(ids(&ok(run(args, b""))), hello, "{args:?}");
    }
    // BOS, "Hello", EOS: special names are kept even with --skip-special-tokens.
    assert_eq!(
        ok(run(
            &[
                "decode",
                "-m",
                "thinkingmachines/Inkling",
                "--skip-special-tokens",
                "200028",
                "13225",
                "199999"
            ],
            b""
        )),
        "<|begin_of_text|>Hello<|endoftext|>"
    );

    // Other Thinking Machines names stay private; the cache commands have nothing to do.
    let err = user_error(&run(&["encode", "-m", "thinkingmachines/Other", "hi"], b""));
    assert!(err.contains("private"), "{err}");
    let err = user_error(&run(
        &["cache", "prefetch", "thinkingmachines/Inkling"],
        b"",
    ));
    assert!(err.contains("built into tinkex"), "{err}");
}

#[test]
fn local_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tokenizer.json"), TINY_TOKENIZER).unwrap();
    let path = dir.path().to_str().unwrap();
    let v = resolve_json(&[path]);
    assert_eq!(v["tokenizer_id"], path);
    assert_eq!(v["rule"], "local_path");
    assert_eq!(v["revision"], Value::Null);
    assert_eq!(v["bundled"], false);
    assert_eq!(
        ok(run(&["encode", "-m", path, "hello world hello"], b"")),
        "[0,1,0]\n"
    );
}

#[test]
fn bad_token_ids() {
    // Out of the vocabulary, then beyond u32.
    for id in ["128256", "4294967296"] {
        let out = run(&["decode", "-m", LLAMA, "9906", id], b"");
        let err = user_error(&out);
        assert!(
            err.contains(&format!("token id {id} is out of range")),
            "{err}"
        );
        assert!(
            err.contains("hint: valid token ids for this tokenizer are 0 to 128255"),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
    let err = user_error(&run(&["decode", "-m", LLAMA, "9906", "-5"], b""));
    assert!(err.starts_with("error: invalid token id \"-5\": "), "{err}");
    let err = user_error(&run(&["decode", "-m", LLAMA], b"9906 1.5"));
    assert!(
        err.starts_with("error: invalid token id \"1.5\": "),
        "{err}"
    );
}

#[test]
fn malformed_jsonl_names_the_line() {
    let input = b"{\"text\": \"a\"}\n{\"text\": \"b\"}\n{\"text\": oops}\n{\"text\": \"d\"}\n";
    let out = run(&["encode", "-m", QWEN, "--jsonl"], input);
    let err = user_error(&out);
    assert!(err.starts_with("error: line 3: "), "{err}");
    // The lines before the bad one were written.
    assert_eq!(stdout(&out).lines().count(), 2);

    let out = run(
        &["decode", "-m", QWEN, "--jsonl"],
        b"{\"ids\": [1]}\n{\"ids\": [-1]}\n",
    );
    let err = user_error(&out);
    assert!(
        err.starts_with("error: line 2: invalid token id \"-1\""),
        "{err}"
    );
}

#[test]
fn non_utf8_stdin() {
    let err = user_error(&run(&["encode", "-m", QWEN], b"Hello \xff world"));
    assert!(err.starts_with("error: stdin is not valid UTF-8"), "{err}");
}

#[test]
fn broken_tokenizer_directories() {
    let root = tempfile::tempdir().unwrap();
    let garbage = root.path().join("garbage");
    let truncated = root.path().join("truncated");
    let empty = root.path().join("empty");
    for d in [&garbage, &truncated, &empty] {
        std::fs::create_dir(d).unwrap();
    }
    std::fs::write(garbage.join("tokenizer.json"), b"\x00not json at all{{").unwrap();
    let half = &TINY_TOKENIZER[..TINY_TOKENIZER.len() / 2];
    std::fs::write(truncated.join("tokenizer.json"), half).unwrap();

    for (dir, expect) in [
        (&garbage, "cannot parse"),
        (&truncated, "cannot parse"),
        (&empty, "not found"),
    ] {
        let out = run(&["encode", "-m", dir.to_str().unwrap(), "hello"], b"");
        let err = user_error(&out);
        assert!(err.contains(expect), "{err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn unavailable_models() {
    let hub = tempfile::tempdir().unwrap();
    let err = user_error(&run_in(
        &["encode", "-m", "nobody/nothing", "hi"],
        b"",
        hub.path(),
    ));
    assert!(err.contains("nobody/nothing"), "{err}");
    assert!(err.contains("\nhint: "), "{err}");

    let err = user_error(&run(&["encode", "-m", "TML/foo", "hi"], b""));
    assert!(err.contains("private"), "{err}");

    // The failures leave nothing behind: a good command still works.
    assert_eq!(
        ok(run_in(
            &["encode", "-m", QWEN, "Hello world"],
            b"",
            hub.path()
        )),
        "[9707,1879]\n"
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = run(&["encode", "hi"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let out = run(&["encode", "-m", QWEN, "--jsonl", "hi"], b"");
    assert_eq!(out.status.code(), Some(2));
}

/// Runs `args` with a large stdin and a stdout that is closed before anything is written.
fn closed_stdout(args: &[&str], input: Vec<u8>) {
    let hub = tempfile::tempdir().unwrap();
    let mut child = command(args, hub.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // The child may exit before reading everything.
        let _ = stdin.write_all(&input);
    });
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status = child.wait().unwrap();
    writer.join().unwrap();
    assert!(status.success(), "{status:?}, stderr: {err}");
    assert!(!err.contains("error"), "stderr: {err}");
}

#[test]
fn closed_stdout_is_not_an_error() {
    closed_stdout(
        &["encode", "-m", QWEN],
        "Hello world ".repeat(100_000).into_bytes(),
    );
    let line = "{\"text\": \"Hello world, and hello again\"}\n";
    closed_stdout(
        &["encode", "-m", QWEN, "--jsonl"],
        line.repeat(50_000).into_bytes(),
    );
}

#[test]
fn decode_stream_pieces_join_to_the_decode() {
    // Llama-3's clean-up (" ," -> ",") and a multi-byte emoji split over byte tokens.
    let ids = [9906u32, 1174, 1917, 662, 27623, 222, 1102, 364, 82];
    let line = format!("{{\"ids\": {ids:?}}}\n{{\"ids\": []}}\n");
    let out = run(
        &["decode", "--model", LLAMA, "--stream", "--jsonl"],
        line.as_bytes(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let pieces: Vec<&str> = lines[0]["pieces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(
        pieces.len(),
        ids.len() + 1,
        "one piece per id, then the flush"
    );
    assert!(pieces.iter().all(|p| !p.contains('\u{FFFD}')), "{pieces:?}");
    let args: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    let mut full = vec!["decode", "--model", LLAMA];
    full.extend(args.iter().map(String::as_str));
    let whole = run(&full, b"");
    assert_eq!(pieces.concat(), stdout(&whole));
    assert_eq!(lines[1]["pieces"], serde_json::json!([""]));

    // Plain --stream reads ids from stdin as they come and prints the text.
    let text = ids
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let out = run(&["decode", "--model", LLAMA, "--stream"], text.as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), stdout(&whole));

    // ... in either spelling `decode` takes: a JSON array too, on stdin or as arguments.
    let array = serde_json::to_string(&ids).unwrap();
    let out = run(&["decode", "--model", LLAMA, "--stream"], array.as_bytes());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), stdout(&whole));
    let out = run(&["decode", "--model", LLAMA, "--stream", &array], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), stdout(&whole));
    let out = run(&["decode", "--model", LLAMA, "--stream"], b"[9906, 1917");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("error: invalid JSON array"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn resolve_bundled_follows_tinkex_no_bundled() {
    let hub = tempfile::tempdir().unwrap();
    let out = command(&["resolve", QWEN, "--json"], hub.path())
        .env("TINKEX_NO_BUNDLED", "1")
        .output()
        .unwrap();
    let v: Value = serde_json::from_str(&ok(out)).unwrap();
    assert_eq!(v["tokenizer_id"], QWEN);
    assert_eq!(v["bundled"], false);
}

/// Kimi's tokenizers are bundled at the revisions their models are pinned at: offline with an
/// empty cache they load (ids as the kimi_k25 oracle: "Hello " → 19180 220, `<think>` and
/// `<|im_end|>` single special ids), and with TINKEX_NO_BUNDLED they cannot.
#[test]
fn kimi_loads_offline_from_the_bundle() {
    let v = resolve_json(&["moonshotai/Kimi-K2.6"]);
    assert_eq!(v["revision"], "b5aabbfb20227ed42becbf5541dbffd213942c58");
    assert_eq!(v["bundled"], true);
    let out = ok(run(
        &[
            "encode",
            "--model",
            "moonshotai/Kimi-K2.6",
            "--offline",
            "Hello <think>x</think><|im_end|>",
        ],
        b"",
    ));
    assert_eq!(ids(&out), [19180, 220, 163606, 87, 163607, 163586]);

    let hub = tempfile::tempdir().unwrap();
    let out = command(
        &["encode", "-m", "moonshotai/Kimi-K2.6", "Hello"],
        hub.path(),
    )
    .env("TINKEX_NO_BUNDLED", "1")
    .output()
    .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("offline"), "{}", stderr(&out));
}

#[test]
fn encode_and_count_take_the_same_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let a_text = "The quick brown fox.\nJumps over the lazy dog.\n";
    let a = dir.path().join("a.txt");
    std::fs::write(&a, a_text).unwrap();
    let a = a.to_str().unwrap();

    // --file reads the file for encode as the FILE argument does for count; --text is the text
    // itself for both.
    let a_ids = ids(&ok(run(
        &["encode", "-m", QWEN, "--no-special-tokens", a_text],
        b"",
    )));
    assert!(!a_ids.is_empty());
    for args in [
        &["encode", "-m", QWEN, "--no-special-tokens", "--file", a][..],
        &[
            "encode",
            "-m",
            QWEN,
            "--no-special-tokens",
            "--text",
            a_text,
        ],
    ] {
        assert_eq!(ids(&ok(run(args, b""))), a_ids, "{args:?}");
    }
    assert_eq!(
        ids(&ok(run(
            &["encode", "-m", QWEN, "--no-special-tokens", "--file", "-"],
            a_text.as_bytes()
        ))),
        a_ids
    );
    let count_a = format!("{}\n", a_ids.len());
    for args in [
        &["count", "-m", QWEN, a][..],
        &["count", "-m", QWEN, "--file", a],
        &["count", "-m", QWEN, "--text", a_text],
    ] {
        assert_eq!(ok(run(args, b"")), count_a, "{args:?}");
    }

    // encode's argument is text even when it names a file: the path's own tokens, and a warning.
    let out = run(&["encode", "-m", QWEN, "--no-special-tokens", a], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    let path_ids = ids(&ok(run(
        &["encode", "-m", QWEN, "--no-special-tokens", "--text", a],
        b"",
    )));
    assert_eq!(ids(&stdout(&out)), path_ids);
    assert_ne!(path_ids, a_ids);
    let warning = stderr(&out);
    assert!(warning.starts_with("warning: "), "{warning}");
    assert!(warning.contains("--file"), "{warning}");

    // Text and a file at once is a usage error.
    for args in [
        &["encode", "-m", QWEN, "--file", a, "hi"][..],
        &["encode", "-m", QWEN, "--text", "x", "hi"],
        &["count", "-m", QWEN, "--text", "x", a],
        &["encode", "-m", QWEN, "--jsonl", "--file", a],
    ] {
        assert_eq!(run(args, b"").status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn count_several_files_gives_a_line_each_and_a_total() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.txt");
    let b = dir.path().join("b.txt");
    std::fs::write(&a, "Hello world, hello again.\n").unwrap();
    std::fs::write(&b, "Le renard brun saute par-dessus le chien paresseux 🦊").unwrap();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let one = |file: &str| -> u64 {
        ok(run(&["count", "-m", LLAMA, file], b""))
            .trim()
            .parse()
            .unwrap()
    };
    let (na, nb) = (one(a), one(b));
    let stdin_text = "from stdin";
    let ns: u64 = ok(run(&["count", "-m", LLAMA], stdin_text.as_bytes()))
        .trim()
        .parse()
        .unwrap();

    let out = ok(run(
        &["count", "-m", LLAMA, a, "-", "--file", b],
        stdin_text.as_bytes(),
    ));
    assert_eq!(
        out,
        format!("{na}\t{a}\n{ns}\t-\n{nb}\t{b}\n{}\ttotal\n", na + ns + nb)
    );

    // A missing file stops the command, after the lines of the files before it.
    let missing = dir.path().join("missing.txt");
    let out = run(
        &["count", "-m", LLAMA, a, missing.to_str().unwrap(), b],
        b"",
    );
    let err = user_error(&out);
    assert!(err.contains("missing.txt"), "{err}");
    assert_eq!(stdout(&out), format!("{na}\t{a}\n"));
}

#[test]
fn ids_written_as_floats_are_not_integers() {
    for (input, expect) in [
        ("[1.0]", "error: invalid token id \"1.0\": not an integer"),
        (
            "[1e3]",
            "error: invalid token id \"1000.0\": not an integer",
        ),
        (
            "[-0]",
            "error: invalid token id \"-0\": token ids are written without a sign",
        ),
        ("1e3", "error: invalid token id \"1e3\": not an integer"),
    ] {
        let err = user_error(&run(&["decode", "-m", QWEN], input.as_bytes()));
        assert!(err.starts_with(expect), "{input}: {err}");
        assert!(!err.contains("too large"), "{input}: {err}");
    }
    let err = user_error(&run(
        &["decode", "-m", QWEN, "--jsonl"],
        b"{\"ids\": [9707, 2.0]}\n",
    ));
    assert!(
        err.starts_with("error: line 1: invalid token id \"2.0\": not an integer"),
        "{err}"
    );
}

#[test]
fn a_known_model_in_the_wrong_case_gets_a_suggestion() {
    let err = user_error(&run(&["encode", "-m", "qwen/qwen3-8b", "hi"], b""));
    assert!(err.contains("qwen/qwen3-8b"), "{err}");
    assert!(err.contains("\nhint: did you mean Qwen/Qwen3-8B?"), "{err}");
    // An unknown name gets the usual hint, no suggestion.
    let err = user_error(&run(&["encode", "-m", "nobody/qwen3-8b", "hi"], b""));
    assert!(!err.contains("did you mean"), "{err}");
}

#[test]
fn decode_gives_what_the_tokens_stand_for() {
    // What `decode --help` says: Qwen3 normalises to NFC, Llama-3 cleans up spaces before
    // punctuation; GPT-2 gives the text back byte for byte.
    let cases = [
        (QWEN, "e\u{301}te\u{301}", "\u{e9}t\u{e9}"),
        (LLAMA, "Hello , world .", "Hello, world."),
        (
            "gpt2",
            "Hello , world . e\u{301}",
            "Hello , world . e\u{301}",
        ),
    ];
    for (model, text, decoded) in cases {
        let ids = ok(run(
            &["encode", "-m", model, "--no-special-tokens", text],
            b"",
        ));
        let out = ok(run(&["decode", "-m", model], ids.as_bytes()));
        assert_eq!(out, decoded, "{model}: {text:?}");
    }
}

#[test]
fn closed_stdout_is_not_an_error_for_any_command() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.txt");
    std::fs::write(&file, "Hello world ".repeat(10_000)).unwrap();
    let file = file.to_str().unwrap();
    let ids = "9707 1879 ".repeat(100_000).into_bytes();
    closed_stdout(&["decode", "-m", QWEN], ids.clone());
    closed_stdout(&["decode", "-m", QWEN, "--stream"], ids);
    closed_stdout(
        &["decode", "-m", QWEN, "--jsonl"],
        "{\"ids\": [9707, 1879]}\n".repeat(50_000).into_bytes(),
    );
    closed_stdout(&["count", "-m", QWEN, file, file, file], Vec::new());
    closed_stdout(&["count", "-m", QWEN, "--text", "hi"], Vec::new());
    closed_stdout(&["encode", "-m", QWEN, "--file", file], Vec::new());
    closed_stdout(&["resolve", QWEN, "--json"], Vec::new());
    closed_stdout(&["cache", "list"], Vec::new());
}
