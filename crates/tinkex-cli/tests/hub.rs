//! The `tinkex` binary against the loopback Hub stand-in: two processes downloading one repo at
//! once, offline encoding from the cache, `cache list|rm|prefetch`, and the gated / missing /
//! offline errors as the user sees them.

use tinkex_testkit::hub_server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use hub_server::{sha256_hex, Fault, HubServer, RepoSpec};

const COMMIT: &str = "fedcba9876543210fedcba9876543210fedcba98";

fn tiny() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tinkex/tests/data/tiny/tokenizer.json"),
    )
    .unwrap()
}

/// GPT-2's tokenizer.json (~1.3 MB), from the library's bundled copy.
fn gpt2() -> Vec<u8> {
    let zst = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tinkex/bundled/gpt2/tokenizer.json.zst"),
    )
    .unwrap();
    zstd::decode_all(&zst[..]).unwrap()
}

struct Env {
    _tmp: tempfile::TempDir,
    hub: PathBuf,
    home: PathBuf,
}

fn env() -> Env {
    let tmp = tempfile::tempdir().unwrap();
    Env {
        hub: tmp.path().join("hub"),
        home: tmp.path().join("home"),
        _tmp: tmp,
    }
}

fn command(e: &Env, endpoint: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tinkex"));
    cmd.args(args)
        .env_clear() // hermetic: only the variables set here
        .env("HF_HUB_CACHE", &e.hub)
        .env("HF_HOME", &e.home)
        .env("HF_ENDPOINT", endpoint)
        .env("TINKEX_NO_BUNDLED", "1")
        .env("TINKEX_CACHE_DIR", "off")
        .env_remove("HF_HUB_OFFLINE")
        .env_remove("HF_TOKEN")
        .env_remove("HF_TOKEN_PATH")
        .env_remove("RUST_BACKTRACE");
    cmd
}

fn run(e: &Env, endpoint: &str, args: &[&str]) -> Output {
    command(e, endpoint, args).output().expect("run tinkex")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Exit code 1 and one `error:` line (+ maybe a hint); returns stderr.
fn user_error(out: &Output) -> String {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert!(err.starts_with("error: "), "stderr: {err}");
    assert!(err.lines().count() <= 2, "stderr: {err}");
    err
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out
}

#[test]
fn two_processes_download_one_repo_at_once() {
    let server = HubServer::start();
    let json = gpt2();
    server.add_repo("acme/gpt2", RepoSpec::tokenizer(&json, None, COMMIT));
    // The first body trickles, so the second process arrives while the first holds the lock.
    server.fault("GET", "/cdn/", Fault::SlowBody(Duration::from_micros(500)));
    let e = env();
    let a = command(&e, &server.url, &["cache", "prefetch", "acme/gpt2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let b = command(&e, &server.url, &["cache", "prefetch", "acme/gpt2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let want = format!(
        "acme/gpt2@{COMMIT} {}\n",
        e.hub
            .join("models--acme--gpt2/snapshots")
            .join(COMMIT)
            .display()
    );
    assert_eq!(ok(&a), want);
    assert_eq!(ok(&b), want);
    // Not a terminal: no progress bar, nothing on stderr.
    assert_eq!(text(&a.stderr), "");
    assert_eq!(text(&b.stderr), "");
    let blobs = e.hub.join("models--acme--gpt2/blobs");
    let names: Vec<String> = std::fs::read_dir(&blobs)
        .unwrap()
        .map(|d| d.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, [sha256_hex(&json)]);
    assert_eq!(std::fs::read(blobs.join(&names[0])).unwrap(), json);
    assert!(files_under(&e.hub)
        .iter()
        .all(|p| !p.to_string_lossy().ends_with(".incomplete")));
    let gets = server
        .log()
        .iter()
        .filter(|s| s.method == "GET" && s.path.starts_with("/cdn/"))
        .count();
    assert_eq!(
        gets, 1,
        "one body download; the other process waited for it"
    );

    // Then: encode offline from the cache, with the flag and with HF_HUB_OFFLINE.
    let dead = "http://127.0.0.1:9";
    assert_eq!(
        ok(&run(
            &e,
            dead,
            &["encode", "--offline", "--model", "acme/gpt2", "Hello world"]
        )),
        "[15496,995]\n"
    );
    let out = command(&e, dead, &["count", "--model", "acme/gpt2"])
        .env("HF_HUB_OFFLINE", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(ok(&out), "0\n");
}

#[test]
fn encode_downloads_on_first_use_and_cache_list_rm() {
    let server = HubServer::start();
    let json = tiny();
    server.add_repo(
        "acme/tiny",
        RepoSpec::tokenizer(&json, Some(br#"{"model_max_length": 8}"#), COMMIT),
    );
    let e = env();
    assert_eq!(
        ok(&run(
            &e,
            &server.url,
            &["encode", "--model", "acme/tiny", "hello"]
        )),
        "[257,108,111]\n"
    );

    let listed: serde_json::Value =
        serde_json::from_str(&ok(&run(&e, &server.url, &["cache", "list", "--json"]))).unwrap();
    assert_eq!(listed[0]["repo"], "acme/tiny");
    assert_eq!(listed[0]["refs"]["main"], COMMIT);
    assert_eq!(listed[0]["snapshots"][0]["commit"], COMMIT);
    let files: Vec<(String, u64)> = listed[0]["snapshots"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["name"].as_str().unwrap().to_owned(),
                f["size"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        files,
        [
            ("tokenizer.json".to_owned(), json.len() as u64),
            ("tokenizer_config.json".to_owned(), 23)
        ]
    );
    let plain = ok(&run(&e, &server.url, &["cache", "list"]));
    assert!(
        plain.starts_with(&format!("acme/tiny  3.4 KB  main={}", &COMMIT[..12])),
        "{plain}"
    );

    assert_eq!(
        ok(&run(&e, &server.url, &["cache", "rm", "acme/tiny"])),
        "acme/tiny: removed 2 files, 2 blobs (3.4 KB)\n"
    );
    assert!(!e.hub.join("models--acme--tiny").exists());
    // The blobs' lock files went with them.
    assert!(
        files_under(&e.hub.join(".locks")).is_empty(),
        "{:?}",
        files_under(&e.hub)
    );
    assert_eq!(
        ok(&run(&e, &server.url, &["cache", "rm", "acme/tiny"])),
        "acme/tiny: nothing cached\n"
    );
    assert_eq!(
        ok(&run(&e, &server.url, &["cache", "list", "--json"])),
        "[]\n"
    );
}

#[test]
fn cache_prefetch_loads_with_the_commands_config() {
    let server = HubServer::start();
    server.add_repo("acme/tiny", RepoSpec::tokenizer(&tiny(), None, COMMIT));
    let e = env();
    let prepared = e.home.join("prepared");
    let prefetch = |endpoint: &str, args: &[&str]| {
        command(&e, endpoint, args)
            .env("TINKEX_CACHE_DIR", &prepared)
            .output()
            .expect("run tinkex")
    };
    let line = ok(&prefetch(&server.url, &["cache", "prefetch", "acme/tiny"]));
    assert!(line.starts_with(&format!("acme/tiny@{COMMIT} ")), "{line}");
    // The check that the snapshot loads went through the command's prepared store.
    assert!(
        !files_under(&prepared).is_empty(),
        "nothing in the prepared store {}",
        prepared.display()
    );
    // Offline, with no Hub at all: the cached snapshot, checked the same way.
    let offline = ok(&prefetch(
        "http://127.0.0.1:9",
        &["--offline", "cache", "prefetch", "acme/tiny"],
    ));
    assert_eq!(offline, line);
}

#[test]
fn a_bad_timeout_variable_is_a_warning() {
    let e = env();
    let out = command(&e, "http://127.0.0.1:9", &["resolve", "gpt2"])
        .env("HF_HUB_ETAG_TIMEOUT", "abc")
        .output()
        .unwrap();
    let err = text(&out.stderr);
    assert!(
        err.lines()
            .any(|l| l.starts_with("warning: HF_HUB_ETAG_TIMEOUT=\"abc\"")),
        "stderr: {err}"
    );
}

#[test]
fn errors_say_what_to_do() {
    let server = HubServer::start();
    let mut gated = RepoSpec::tokenizer(&tiny(), None, COMMIT);
    gated.gated = Some("hf_good".to_owned());
    server.add_repo("acme/gated", gated);
    let e = env();

    let err = user_error(&run(
        &e,
        &server.url,
        &["encode", "--model", "acme/gated", "hi"],
    ));
    assert!(err.contains("gated") && err.contains("HF_TOKEN"), "{err}");
    let out = command(&e, &server.url, &["encode", "--model", "acme/gated", "hi"])
        .env("HF_TOKEN", "hf_good")
        .output()
        .unwrap();
    assert_eq!(ok(&out), "[104,105]\n");

    let err = user_error(&run(
        &e,
        &server.url,
        &["cache", "prefetch", "nobody/missing"],
    ));
    assert!(
        err.contains("not found") && err.contains("no repository `nobody/missing`"),
        "{err}"
    );

    // Offline with an empty cache: fails at once, says offline, asks nothing of the Hub.
    server.clear_log();
    let err = user_error(&run(
        &e,
        &server.url,
        &["encode", "--offline", "--model", "acme/other", "hi"],
    ));
    assert!(
        err.starts_with("error: offline:") && err.contains("acme/other"),
        "{err}"
    );
    assert!(server.log().is_empty());

    // Nothing listening and nothing cached: a network error naming the way out.
    let err = user_error(&run(
        &e,
        "http://127.0.0.1:9",
        &["encode", "--model", "acme/other", "hi"],
    ));
    assert!(err.contains("cannot reach"), "{err}");
}

#[test]
fn a_malformed_model_name_is_refused_before_any_request() {
    let server = HubServer::start();
    let e = env();
    let err = user_error(&run(
        &e,
        &server.url,
        &["encode", "--model", "a#b/c?d", "hi"],
    ));
    assert!(
        err.contains("invalid repo id `a#b/c?d`") && err.contains("`#` is not allowed"),
        "{err}"
    );
    assert!(
        !err.contains("HF_ENDPOINT"),
        "the endpoint is not to blame: {err}"
    );
    assert!(server.log().is_empty(), "{:?}", server.log());
}
