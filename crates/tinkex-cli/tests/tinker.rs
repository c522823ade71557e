//! `--training-model-id` / `--sampler-id` against the loopback Tinker API stand-in
//! (crates/tinkex-testkit/src/tinker_server.rs), offline with the bundled tokenizers.

use tinkex_testkit::tinker_server;

use std::process::{Command, Output};

use serde_json::json;
use tinker_server::{Reply, TinkerServer};

fn tinkex(base_url: &str, key: Option<&str>, args: &[&str]) -> Output {
    let hub = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tinkex"));
    cmd.args(args)
        .env_clear() // hermetic: only the variables set here
        .env("TINKER_BASE_URL", base_url)
        .env("TINKEX_CACHE_DIR", "off")
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_HUB_CACHE", hub.path())
        .env_remove("TINKER_API_KEY");
    if let Some(k) = key {
        cmd.env("TINKER_API_KEY", k);
    }
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn resolve_training_model_id_json() {
    let server = TinkerServer::start();
    server.route(
        "POST /api/v1/get_info",
        vec![
            Reply::status(503),
            Reply::json(json!({"model_id": "s:train:0", "model_data": {
                "model_name": "Qwen/Qwen3-8B", "tokenizer_id": "Qwen/Qwen3-8B-Base:v1"}})),
        ],
    );
    let o = tinkex(
        &server.url,
        Some("tml-cli"),
        &["resolve", "--training-model-id", "s:train:0", "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["tokenizer_id"], "Qwen/Qwen3-8B-Base");
    assert_eq!(v["rule"], "server_tokenizer_id");
    assert_eq!(v["source"], "server_tokenizer_id");
    assert_eq!(v["model"], "Qwen/Qwen3-8B");
    let log = server.log();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].header("x-api-key"), Some("tml-cli"));
    assert_eq!(
        log[1].json(),
        json!({"model_id": "s:train:0", "type": "get_info"})
    );
}

#[test]
fn sampler_id_resolves_and_encodes_offline() {
    let server = TinkerServer::start();
    server.route(
        "GET /api/v1/samplers/s%3Asample%3A1",
        vec![Reply::json(
            json!({"sampler_id": "s:sample:1", "base_model": "Qwen/Qwen3-8B/lora:3"}),
        )],
    );
    let o = tinkex(
        &server.url,
        Some("tml-cli"),
        &["resolve", "--sampler-id", "s:sample:1", "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["tokenizer_id"], "Qwen/Qwen3-8B");
    assert_eq!(v["source"], "sampler_base_model");
    assert_eq!(v["model"], "Qwen/Qwen3-8B/lora:3");

    let o = tinkex(
        &server.url,
        Some("tml-cli"),
        &["encode", "--sampler-id", "s:sample:1", "Hello world"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "[9707,1879]\n");
    let o = tinkex(
        &server.url,
        Some("tml-cli"),
        &["decode", "--sampler-id", "s:sample:1", "9707", "1879"],
    );
    assert_eq!(stdout(&o), "Hello world");
    let o = tinkex(
        &server.url,
        Some("tml-cli"),
        &["count", "--sampler-id", "s:sample:1", "-"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(server
        .log()
        .iter()
        .all(|s| s.path == "/api/v1/samplers/s%3Asample%3A1"));
}

#[test]
fn encode_with_training_model_id() {
    let server = TinkerServer::start();
    server.route(
        "POST /api/v1/get_info",
        vec![Reply::json(
            json!({"model_id": "s:train:2", "model_data": {"model_name": "meta-llama/Llama-3.1-8B"}}),
        )],
    );
    let o = tinkex(
        &server.url,
        Some("tml-cli"),
        &["encode", "--training-model-id", "s:train:2", "Hello world"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "[128000,9906,1917]\n");
}

#[test]
fn no_key_is_a_clear_error_with_a_hint() {
    let server = TinkerServer::start();
    let o = tinkex(
        &server.url,
        None,
        &["encode", "--training-model-id", "s:train:0", "hi"],
    );
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.starts_with("error: ") && e.contains("TINKER_API_KEY"),
        "{e}"
    );
    assert!(
        e.contains("\nhint: ") && e.contains("export TINKER_API_KEY"),
        "{e}"
    );
    assert!(!e.contains("panicked"));
    assert!(server.log().is_empty(), "nothing was sent");
}

#[test]
fn unauthorized_is_reported() {
    let server = TinkerServer::start();
    server.route("POST /api/v1/get_info", vec![Reply::status(401)]);
    let o = tinkex(
        &server.url,
        Some("tml-wrong"),
        &["resolve", "--training-model-id", "s:train:0"],
    );
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("401") && e.contains("hint: "), "{e}");
    assert_eq!(server.log().len(), 1, "401 is not retried");
}

#[test]
fn exactly_one_target() {
    let o = tinkex(
        "http://127.0.0.1:9",
        Some("tml-x"),
        &[
            "encode",
            "--model",
            "Qwen/Qwen3-8B",
            "--sampler-id",
            "a",
            "x",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    let o = tinkex("http://127.0.0.1:9", Some("tml-x"), &["resolve", "--json"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn fallback_model_is_used_when_get_info_fails_and_says_so() {
    let server = TinkerServer::start();
    // 404 is not retried, so the failure is immediate.
    server.route("POST /api/v1/get_info", vec![Reply::status(404)]);
    let args = [
        "encode",
        "--training-model-id",
        "s:train:9",
        "--fallback-model",
        "meta-llama/Llama-3.1-8B",
        "Hello world",
    ];
    let o = tinkex(&server.url, Some("tml-cli"), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "[128000,9906,1917]\n");
    let err = stderr(&o);
    assert!(
        err.starts_with("warning: get_info for s:train:9 failed") && err.contains("Llama-3.1-8B"),
        "{err}"
    );
    let o = tinkex(
        &server.url,
        Some("tml-cli"),
        &[
            "resolve",
            "--training-model-id",
            "s:train:9",
            "--fallback-model",
            "Qwen/Qwen3-8B",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["tokenizer_id"], "Qwen/Qwen3-8B");
    assert_eq!(v["source"], "fallback_name");
    assert_eq!(v["model"], "Qwen/Qwen3-8B");

    // Without the flag the failure is an error, and the flag needs a training model id.
    let o = tinkex(
        &server.url,
        Some("tml-cli"),
        &args[..3]
            .iter()
            .chain(&args[5..])
            .copied()
            .collect::<Vec<_>>(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).starts_with("error: "), "{}", stderr(&o));
    let o = tinkex(
        &server.url,
        Some("tml-cli"),
        &[
            "encode",
            "--model",
            "gpt2",
            "--fallback-model",
            "gpt2",
            "hi",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn a_bad_base_url_or_sampler_id_fails_at_once_without_a_request() {
    let server = TinkerServer::start();
    let o = tinkex(
        "not-a-url",
        Some("tml-cli"),
        &["resolve", "--training-model-id", "s:train:0", "--json"],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.starts_with("error: invalid configuration TINKER_BASE_URL"),
        "{err}"
    );
    let o = tinkex(
        &server.url,
        Some("tml-cli"),
        &["resolve", "--sampler-id", "bad id", "--json"],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("invalid sampler id `bad id`"), "{err}");
    assert!(server.log().is_empty(), "{:?}", server.log());
}
