//! Interop with the real Python `huggingface_hub` on one cache: Python reads offline what tinkex
//! downloaded, and tinkex encodes offline from what Python downloaded (from the loopback Hub
//! stand-in, through `HF_ENDPOINT`).
//!
//! The Python comes from `TINKEX_TEST_PYTHON` (`.ci/run` creates `.ci/venv` with a pinned
//! huggingface_hub and sets it; a relative path is taken from the workspace root). Without it these
//! tests print `SKIPPED:` to stderr and pass — except under `CI`, where a missing Python is a
//! failure.

use tinkex_testkit::hub_server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use hub_server::{sha256_hex, HubServer, RepoSpec};
use tinkex::cache::TokenizerCache;
use tinkex::config::{Config, RetryPolicy};
use tinkex::Tokenizer;

const COMMIT: &str = "89abcdef0123456789abcdef0123456789abcdef";
const CONFIG_JSON: &[u8] = br#"{"tokenizer_class": "PreTrainedTokenizerFast"}"#;

fn python() -> Option<PathBuf> {
    match std::env::var_os("TINKEX_TEST_PYTHON").filter(|p| !p.is_empty()) {
        // A relative path is relative to the workspace root (`.ci/venv/bin/python`), not to the
        // crate directory the tests run in.
        Some(p) => Some(Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(p)),
        None if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) => panic!(
            "TINKEX_TEST_PYTHON is not set under CI: run `bash .ci/run`, which creates .ci/venv \
             with huggingface_hub and sets it"
        ),
        None => {
            eprintln!(
                "SKIPPED: the huggingface_hub interop test did not run: set TINKEX_TEST_PYTHON to \
                 a python with huggingface_hub (`bash .ci/run` makes .ci/venv)"
            );
            None
        }
    }
}

fn tiny() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny/tokenizer.json"))
        .unwrap()
}

fn direct() -> Tokenizer {
    Tokenizer::from_path_with(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny/tokenizer.json"),
        &Config::default()
            .with_offline(true)
            .with_prepared_cache(None),
    )
    .unwrap()
}

/// Runs `script` with the hub cache at `cache`; returns stdout.
fn run_python(py: &Path, cache: &Path, endpoint: &str, offline: bool, script: &str) -> String {
    let out = Command::new(py)
        .arg("-c")
        .arg(script)
        .env("HF_HUB_CACHE", cache)
        .env("HF_HOME", cache.join("home"))
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HUB_OFFLINE", if offline { "1" } else { "0" })
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        .env_remove("HF_TOKEN")
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "python failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn config(endpoint: &str, cache: &Path) -> Config {
    Config::default()
        .with_bundled(false)
        .with_hub_cache(Some(cache.to_path_buf()))
        .with_endpoint(endpoint)
        .with_retry(RetryPolicy::new(
            3,
            Duration::from_millis(10),
            Duration::from_millis(50),
            Duration::from_secs(2),
        ))
}

fn dead_endpoint() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", l.local_addr().unwrap())
}

#[test]
fn python_reads_offline_what_tinkex_downloaded() {
    let Some(py) = python() else { return };
    let server = HubServer::start();
    let json = tiny();
    server.add_repo(
        "acme/tiny",
        RepoSpec::tokenizer(&json, Some(CONFIG_JSON), COMMIT),
    );
    server.add_repo("acme/noconf", RepoSpec::tokenizer(&json, None, COMMIT));
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let tinkex = TokenizerCache::new(config(&server.url, &cache));
    tinkex.get_or_load("acme/tiny").unwrap();
    tinkex.get_or_load("acme/noconf").unwrap();

    let script = r#"
import json
from huggingface_hub import hf_hub_download, try_to_load_from_cache, file_download
out = {
    "tok": hf_hub_download("acme/tiny", "tokenizer.json", local_files_only=True),
    "conf": hf_hub_download("acme/tiny", "tokenizer_config.json", local_files_only=True),
    "pinned": hf_hub_download("acme/tiny", "tokenizer.json", revision="89abcdef0123456789abcdef0123456789abcdef", local_files_only=True),
    "cached": try_to_load_from_cache("acme/noconf", "tokenizer.json"),
    "noconf_is_known_missing": try_to_load_from_cache("acme/noconf", "tokenizer_config.json") is file_download._CACHED_NO_EXIST,
}
print(json.dumps(out))
"#;
    let out = run_python(&py, &cache, &dead_endpoint(), true, script);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let read =
        |k: &str| std::fs::read(v[k].as_str().unwrap_or_else(|| panic!("{k}: {v}"))).unwrap();
    assert_eq!(read("tok"), json);
    assert_eq!(read("pinned"), json);
    assert_eq!(read("cached"), json);
    assert_eq!(read("conf"), CONFIG_JSON);
    assert!(v["tok"].as_str().unwrap().contains(COMMIT), "{v}");
    assert_eq!(v["noconf_is_known_missing"], true, "{v}");
}

#[test]
fn tinkex_encodes_offline_from_what_python_downloaded() {
    let Some(py) = python() else { return };
    let server = HubServer::start();
    let json = tiny();
    server.add_repo(
        "acme/tiny",
        RepoSpec::tokenizer(&json, Some(CONFIG_JSON), COMMIT),
    );
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let script = r#"
from huggingface_hub import hf_hub_download
for f in ("tokenizer.json", "tokenizer_config.json"):
    print(hf_hub_download("acme/tiny", f))
"#;
    run_python(&py, &cache, &server.url, false, script);
    // Python really went to the stand-in, and stored the LFS file under its sha256.
    assert!(
        server.log().iter().any(|s| s.path.starts_with("/cdn/")),
        "{:?}",
        server.log()
    );
    let blob = cache
        .join("models--acme--tiny/blobs")
        .join(sha256_hex(&json));
    assert_eq!(std::fs::read(blob).unwrap(), json);

    let offline = config(&dead_endpoint(), &cache).with_offline(true);
    let tok = TokenizerCache::new(offline)
        .get_or_load("acme/tiny")
        .unwrap();
    for text in ["hello", "hello<|end|>hel", ""] {
        assert_eq!(
            tok.encode(text, true).unwrap(),
            direct().encode(text, true).unwrap(),
            "{text:?}"
        );
    }
    // Online, a pinned commit Python fetched needs no request either.
    server.clear_log();
    let pinned = tinkex::resolve::Resolution::Hub {
        spec: tinkex::resolve::TokenizerSpec {
            tokenizer_id: "acme/tiny".into(),
            revision: Some(COMMIT.into()),
            format: tinkex::resolve::TokenizerFormat::TokenizerJson,
        },
        rule: tinkex::resolve::Rule::RepoId,
    };
    TokenizerCache::new(config(&server.url, &cache))
        .get_or_load_resolved(&pinned)
        .unwrap();
    assert!(server.log().is_empty(), "{:?}", server.log());
}
