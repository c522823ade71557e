//! Downloads from a loopback Hub stand-in (tinkex-testkit/src/hub_server.rs): the huggingface_hub
//! cache layout, faults (503, 429 + Retry-After, dropped connections, slow answers, corrupt
//! bodies), auth, not-found errors, offline mode and the unreachable-Hub fallback.

use tinkex_testkit::hub_server;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hub_server::{sha256_hex, Fault, HubServer, RepoSpec};
use tinkex::cache::TokenizerCache;
use tinkex::config::{Config, RetryPolicy};
use tinkex::hub::{self, HubEvent};
use tinkex::resolve::{TokenizerFormat, TokenizerSpec};
use tinkex::{Error, Tokenizer};

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const CONFIG_JSON: &[u8] =
    br#"{"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 1024}"#;

fn tiny() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny/tokenizer.json"))
        .unwrap()
}

/// GPT-2's tokenizer.json (~1.3 MB), big enough to be cut mid-body.
fn gpt2() -> Vec<u8> {
    let zst = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("bundled/gpt2/tokenizer.json.zst"),
    )
    .unwrap();
    zstd::stream::decode_all(&zst[..]).unwrap()
}

fn config(server: &HubServer, cache: &Path) -> Config {
    Config::default()
        .with_bundled(false)
        .with_hub_cache(Some(cache.to_path_buf()))
        .with_endpoint(&server.url)
        .with_timeouts(Duration::from_secs(5), Duration::from_secs(5))
        .with_retry(RetryPolicy::new(
            6,
            Duration::from_millis(10),
            Duration::from_millis(100),
            Duration::from_secs(10),
        ))
}

fn spec(id: &str, revision: Option<&str>) -> TokenizerSpec {
    TokenizerSpec {
        tokenizer_id: id.to_owned(),
        revision: revision.map(str::to_owned),
        format: TokenizerFormat::TokenizerJson,
    }
}

/// Collects the events of a download.
#[derive(Default, Clone)]
struct Events(Arc<Mutex<Vec<String>>>);

impl Events {
    fn observer(&self) -> impl Fn(&HubEvent<'_>) + Send + Sync + 'static {
        let log = self.0.clone();
        move |e: &HubEvent<'_>| {
            let line = match e {
                HubEvent::Retrying { wait, reason, .. } => {
                    format!("retry wait={}ms {reason}", wait.as_millis())
                }
                HubEvent::Warning { message } => format!("warning {message}"),
                HubEvent::DownloadStarted {
                    file, resumed_from, ..
                } => {
                    format!("start {file} from {resumed_from}")
                }
                HubEvent::DownloadFinished { file, bytes, .. } => format!("done {file} {bytes}"),
                _ => return,
            };
            log.lock().unwrap().push(line);
        }
    }
    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

fn fetch(c: &Config, s: &TokenizerSpec, events: &Events) -> tinkex::Result<PathBuf> {
    let obs = events.observer();
    hub::fetch(s, c, Some(&obs))
}

/// Every path under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
            if e.file_type().unwrap().is_dir() {
                walk(base, &p, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn no_incomplete(cache: &Path) {
    let left: Vec<String> = tree(cache)
        .into_iter()
        .filter(|p| p.ends_with(".incomplete"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn downloads_into_the_huggingface_hub_layout() {
    let server = HubServer::start();
    let json = tiny();
    server.add_repo(
        "acme/tiny",
        RepoSpec::tokenizer(&json, Some(CONFIG_JSON), COMMIT),
    );
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let cfg = config(&server, &cache);

    let tok = TokenizerCache::new(cfg.clone())
        .get_or_load("acme/tiny")
        .unwrap();
    let direct = Tokenizer::from_path_with(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tiny/tokenizer.json"),
        &Config::default().with_prepared_cache(None),
    )
    .unwrap();
    assert_eq!(
        tok.encode("hello<|end|>", true).unwrap(),
        direct.encode("hello<|end|>", true).unwrap()
    );

    let sha = sha256_hex(&json);
    let plain = hub_server::plain_etag(CONFIG_JSON);
    let repo = cache.join("models--acme--tiny");
    let mut blobs = [format!("blobs/{plain}"), format!("blobs/{sha}")];
    blobs.sort();
    let [first, second] = blobs;
    assert_eq!(
        tree(&repo),
        [
            "blobs".to_owned(),
            first,
            second,
            "refs".to_owned(),
            "refs/main".to_owned(),
            "snapshots".to_owned(),
            format!("snapshots/{COMMIT}"),
            format!("snapshots/{COMMIT}/tokenizer.json"),
            format!("snapshots/{COMMIT}/tokenizer_config.json"),
        ]
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("refs/main")).unwrap(),
        COMMIT
    );
    let snap = repo.join("snapshots").join(COMMIT);
    #[cfg(unix)]
    {
        assert_eq!(
            std::fs::read_link(snap.join("tokenizer.json")).unwrap(),
            PathBuf::from(format!("../../blobs/{sha}"))
        );
        assert_eq!(
            std::fs::read_link(snap.join("tokenizer_config.json")).unwrap(),
            PathBuf::from(format!("../../blobs/{plain}"))
        );
    }
    assert_eq!(std::fs::read(repo.join("blobs").join(&sha)).unwrap(), json);
    assert!(cache
        .join(".locks/models--acme--tiny")
        .join(format!("{sha}.lock"))
        .exists());
    no_incomplete(&cache);

    // The token never went to the CDN; the LFS file was fetched from the redirect target.
    let log = server.log();
    assert!(log
        .iter()
        .any(|s| s.method == "GET" && s.path == format!("/cdn/{sha}")));

    // A second process (a new registry) loads from the cache without a request.
    server.clear_log();
    TokenizerCache::new(cfg).get_or_load("acme/tiny").unwrap();
    assert!(server.log().is_empty(), "{:?}", server.log());
}

#[test]
fn survives_a_503_and_a_dropped_connection_byte_exact() {
    let server = HubServer::start();
    let json = gpt2();
    server.add_repo(
        "acme/gpt2",
        RepoSpec::tokenizer(&json, Some(CONFIG_JSON), COMMIT),
    );
    server.fault("HEAD", "/resolve/main/tokenizer.json", Fault::Status(503));
    server.fault("GET", "/cdn/", Fault::DropAfter(300_000));
    server.fault("GET", "/cdn/", Fault::Status(503));
    server.fault("GET", "/cdn/", Fault::DropAfter(200_000));
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let events = Events::default();

    let dir = fetch(&config(&server, &cache), &spec("acme/gpt2", None), &events).unwrap();
    assert_eq!(std::fs::read(dir.join("tokenizer.json")).unwrap(), json);
    assert_eq!(server.unused_faults(), 0);
    no_incomplete(&cache);
    // The cut bodies were resumed where they stopped, not restarted.
    let ranges: Vec<Option<String>> = server
        .log()
        .into_iter()
        .filter(|s| s.method == "GET" && s.path.starts_with("/cdn/"))
        .map(|s| s.range)
        .collect();
    assert_eq!(
        ranges,
        [
            None,
            Some("bytes=300000-".to_owned()),
            Some("bytes=300000-".to_owned()),
            Some("bytes=500000-".to_owned()),
        ]
    );
    let retries = events
        .all()
        .iter()
        .filter(|e| e.starts_with("retry"))
        .count();
    assert_eq!(retries, 4, "{:?}", events.all());
    // And the loaded tokenizer is GPT-2.
    let tok =
        Tokenizer::from_path_with(&dir, &Config::default().with_prepared_cache(None)).unwrap();
    assert_eq!(tok.encode("Hello world", false).unwrap(), [15496, 995]);
}

#[test]
fn a_server_that_ignores_range_gets_a_restart() {
    let server = HubServer::start();
    let json = gpt2();
    server.add_repo("acme/gpt2", RepoSpec::tokenizer(&json, None, COMMIT));
    server.fault("GET", "/cdn/", Fault::DropAfter(100_000));
    server.fault("GET", "/cdn/", Fault::NoRange);
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let dir = fetch(
        &config(&server, &cache),
        &spec("acme/gpt2", None),
        &Events::default(),
    )
    .unwrap();
    assert_eq!(std::fs::read(dir.join("tokenizer.json")).unwrap(), json);
    no_incomplete(&cache);
}

#[test]
fn a_corrupt_body_is_never_trusted() {
    let server = HubServer::start();
    let json = tiny();
    server.add_repo("acme/tiny", RepoSpec::tokenizer(&json, None, COMMIT));
    // Once: downloaded again and right. Every time: an error and nothing left in the cache.
    server.fault("GET", "/cdn/", Fault::Corrupt);
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let dir = fetch(
        &config(&server, &cache),
        &spec("acme/tiny", None),
        &Events::default(),
    )
    .unwrap();
    assert_eq!(std::fs::read(dir.join("tokenizer.json")).unwrap(), json);

    let cache2 = tmp.path().join("hub2");
    server.fault("GET", "/cdn/", Fault::Corrupt);
    server.fault("GET", "/cdn/", Fault::Corrupt);
    let err = fetch(
        &config(&server, &cache2),
        &spec("acme/tiny", None),
        &Events::default(),
    )
    .unwrap_err();
    match &err {
        Error::Integrity {
            file,
            expected,
            found,
            ..
        } => {
            assert_eq!(file, "tokenizer.json");
            assert_eq!(expected, &format!("sha256 {}", sha256_hex(&json)));
            assert!(found.starts_with("sha256 ") && found != expected, "{found}");
        }
        other => panic!("{other:?}"),
    }
    let blobs = cache2.join("models--acme--tiny/blobs");
    assert_eq!(
        std::fs::read_dir(&blobs).unwrap().count(),
        0,
        "{:?}",
        tree(&blobs)
    );
}

#[test]
fn a_corrupt_cached_blob_is_replaced_online_and_reported_offline() {
    let server = HubServer::start();
    let json = tiny();
    server.add_repo("acme/tiny", RepoSpec::tokenizer(&json, None, COMMIT));
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let cfg = config(&server, &cache);
    TokenizerCache::new(cfg.clone())
        .get_or_load("acme/tiny")
        .unwrap();
    let blob = cache
        .join("models--acme--tiny/blobs")
        .join(sha256_hex(&json));
    std::fs::write(&blob, &json[..json.len() / 2]).unwrap();

    let offline = TokenizerCache::new(cfg.clone().with_offline(true));
    match offline.get_or_load("acme/tiny") {
        Err(Error::Offline { detail }) => assert!(detail.contains("corrupt"), "{detail}"),
        other => panic!("{other:?}"),
    }
    // The truncated blob was removed; online, it comes back whole.
    TokenizerCache::new(cfg).get_or_load("acme/tiny").unwrap();
    assert_eq!(std::fs::read(&blob).unwrap(), json);
}

#[test]
fn honours_retry_after_and_retries_slow_answers() {
    let server = HubServer::start();
    server.add_repo(
        "acme/tiny",
        RepoSpec::tokenizer(&tiny(), Some(CONFIG_JSON), COMMIT),
    );
    server.fault("HEAD", "tokenizer.json", Fault::TooMany(1));
    server.fault(
        "HEAD",
        "tokenizer_config.json",
        Fault::Delay(Duration::from_secs(3)),
    );
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(&server, &tmp.path().join("hub"))
        .with_timeouts(Duration::from_millis(500), Duration::from_secs(5));
    let events = Events::default();
    fetch(&cfg, &spec("acme/tiny", None), &events).unwrap();
    let retries: Vec<String> = events
        .all()
        .into_iter()
        .filter(|e| e.starts_with("retry"))
        .collect();
    assert_eq!(retries.len(), 2, "{retries:?}");
    assert!(
        retries[0].starts_with("retry wait=1000ms HTTP 429"),
        "{retries:?}"
    );
    assert!(retries[1].to_lowercase().contains("timeout"), "{retries:?}");
}

#[test]
fn persistent_503_gives_up_with_an_http_error() {
    let server = HubServer::start();
    server.add_repo("acme/tiny", RepoSpec::tokenizer(&tiny(), None, COMMIT));
    for _ in 0..6 {
        server.fault("HEAD", "tokenizer.json", Fault::Status(503));
    }
    let tmp = tempfile::tempdir().unwrap();
    match fetch(
        &config(&server, &tmp.path().join("hub")),
        &spec("acme/tiny", None),
        &Events::default(),
    ) {
        Err(Error::Http {
            status: 503,
            message,
            ..
        }) => {
            assert!(message.contains("gave up after 6 attempts"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn gated_repo_names_hf_token_and_works_with_it() {
    let server = HubServer::start();
    let mut repo = RepoSpec::tokenizer(&tiny(), Some(CONFIG_JSON), COMMIT);
    repo.gated = Some("hf_right".to_owned());
    server.add_repo("acme/gated", repo);
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(&server, &tmp.path().join("hub"));

    match TokenizerCache::new(cfg.clone()).get_or_load("acme/gated") {
        Err(
            e @ Error::AuthRequired {
                token_sent: false, ..
            },
        ) => {
            let m = e.to_string();
            assert!(m.contains("HF_TOKEN") && m.contains("gated"), "{m}")
        }
        other => panic!("{other:?}"),
    }
    match TokenizerCache::new(cfg.clone().with_token(Some("hf_wrong"))).get_or_load("acme/gated") {
        Err(
            e @ Error::AuthRequired {
                token_sent: true, ..
            },
        ) => {
            assert!(e.to_string().contains("refused the token"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    server.clear_log();
    TokenizerCache::new(cfg.with_token(Some("hf_right")))
        .get_or_load("acme/gated")
        .unwrap();
    // The token went to the Hub, not to the CDN the LFS file was redirected to.
    for s in server.log() {
        let to_cdn = s.path.starts_with("/cdn/");
        assert_eq!(s.auth.is_some(), !to_cdn, "{s:?}");
    }
}

#[test]
fn missing_repo_revision_and_files() {
    let server = HubServer::start();
    server.add_repo("acme/tiny", RepoSpec::tokenizer(&tiny(), None, COMMIT));
    let mut no_json = RepoSpec::tokenizer(b"{}", None, COMMIT);
    no_json.files.clear();
    server.add_repo("acme/empty", no_json);
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let cfg = config(&server, &cache);
    let ev = Events::default();

    match fetch(&cfg, &spec("nobody/nothing", None), &ev) {
        Err(e @ Error::NotFound { .. }) => {
            assert!(
                e.to_string().contains("no repository `nobody/nothing`"),
                "{e}"
            )
        }
        other => panic!("{other:?}"),
    }
    match fetch(&cfg, &spec("acme/tiny", Some("v9")), &ev) {
        Err(Error::RevisionNotFound { revision, .. }) => assert_eq!(revision, "v9"),
        other => panic!("{other:?}"),
    }
    match fetch(&cfg, &spec("acme/empty", None), &ev) {
        Err(e @ Error::NotFound { .. }) => {
            assert!(e.to_string().contains("no tokenizer.json"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    assert!(cache
        .join("models--acme--empty/.no_exist")
        .join(COMMIT)
        .join("tokenizer.json")
        .is_file());

    // An optional file the repo lacks is remembered, and not asked for again.
    let dir = fetch(&cfg, &spec("acme/tiny", None), &ev).unwrap();
    let marker = cache
        .join("models--acme--tiny/.no_exist")
        .join(COMMIT)
        .join("tokenizer_config.json");
    assert!(marker.is_file() && !dir.join("tokenizer_config.json").exists());
    server.clear_log();
    fetch(&cfg, &spec("acme/tiny", None), &ev).unwrap();
    let asked: Vec<String> = server.log().into_iter().map(|s| s.path).collect();
    assert_eq!(asked, ["/acme/tiny/resolve/main/tokenizer.json"]);
    // The blob was there: nothing was downloaded again.
    assert!(
        ev.all().iter().filter(|e| e.starts_with("start")).count() == 1,
        "{:?}",
        ev.all()
    );
}

#[test]
fn offline_with_an_empty_cache_fails_fast_without_a_request() {
    let server = HubServer::start();
    server.add_repo("acme/tiny", RepoSpec::tokenizer(&tiny(), None, COMMIT));
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(&server, &tmp.path().join("hub")).with_offline(true);
    match TokenizerCache::new(cfg.clone()).get_or_load("acme/tiny") {
        Err(e @ Error::Offline { .. }) => {
            let m = e.to_string();
            assert!(
                m.starts_with("offline:")
                    && m.contains("acme/tiny")
                    && m.contains("tokenizer.json"),
                "{m}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        fetch(&cfg, &spec("acme/tiny", None), &Events::default()),
        Err(Error::Offline { .. })
    ));
    assert!(server.log().is_empty());
}

#[test]
fn unreachable_hub_falls_back_to_the_cache_with_a_warning() {
    let server = HubServer::start();
    server.add_repo("acme/tiny", RepoSpec::tokenizer(&tiny(), None, COMMIT));
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    fetch(
        &config(&server, &cache),
        &spec("acme/tiny", None),
        &Events::default(),
    )
    .unwrap();

    // A port nothing listens on.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let cfg = config(&server, &cache).with_endpoint(&dead);
    let ev = Events::default();
    let dir = fetch(&cfg, &spec("acme/tiny", None), &ev).unwrap();
    assert!(dir.ends_with(COMMIT));
    let warnings: Vec<String> = ev
        .all()
        .into_iter()
        .filter(|e| e.starts_with("warning"))
        .collect();
    assert_eq!(warnings.len(), 1, "{:?}", ev.all());
    assert!(
        warnings[0].contains("cannot reach") && warnings[0].contains("cached copy"),
        "{warnings:?}"
    );

    // Nothing cached: the network error itself.
    let empty = tmp.path().join("empty");
    match fetch(
        &cfg.with_hub_cache(Some(empty)),
        &spec("acme/tiny", None),
        &Events::default(),
    ) {
        Err(e @ Error::Network { .. }) => assert!(e.to_string().contains("HF_HUB_OFFLINE"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_cached_commit_needs_no_network() {
    let server = HubServer::start();
    server.add_repo(
        "acme/tiny",
        RepoSpec::tokenizer(&tiny(), Some(CONFIG_JSON), COMMIT),
    );
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let cfg = config(&server, &cache);
    let pinned = spec("acme/tiny", Some(COMMIT));
    fetch(&cfg, &pinned, &Events::default()).unwrap();
    // Asked for by commit, no ref is written (huggingface_hub does the same).
    assert!(!cache.join("models--acme--tiny/refs").exists());
    server.clear_log();
    fetch(&cfg, &pinned, &Events::default()).unwrap();
    TokenizerCache::new(cfg)
        .get_or_load_resolved(&tinkex::resolve::Resolution::Hub {
            spec: pinned,
            rule: tinkex::resolve::Rule::RepoId,
        })
        .unwrap();
    assert!(server.log().is_empty(), "{:?}", server.log());
}

#[test]
fn threads_downloading_one_repo_share_one_blob() {
    let server = HubServer::start();
    let json = gpt2();
    server.add_repo("acme/gpt2", RepoSpec::tokenizer(&json, None, COMMIT));
    server.fault("GET", "/cdn/", Fault::SlowBody(Duration::from_micros(200)));
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let cfg = config(&server, &cache);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| fetch(&cfg, &spec("acme/gpt2", None), &Events::default())))
            .collect();
        for h in handles {
            h.join().unwrap().unwrap();
        }
    });
    let gets = server
        .log()
        .into_iter()
        .filter(|s| s.method == "GET")
        .count();
    assert_eq!(gets, 1, "the blob lock lets one download happen");
    no_incomplete(&cache);
    assert_eq!(
        std::fs::read(
            cache
                .join("models--acme--gpt2/blobs")
                .join(sha256_hex(&json))
        )
        .unwrap(),
        json
    );
}

#[test]
fn list_and_remove_only_touch_tokenizer_files() {
    let server = HubServer::start();
    server.add_repo(
        "acme/tiny",
        RepoSpec::tokenizer(&tiny(), Some(CONFIG_JSON), COMMIT),
    );
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    fetch(
        &config(&server, &cache),
        &spec("acme/tiny", None),
        &Events::default(),
    )
    .unwrap();
    // A weights file another program put in the same snapshot.
    let repo = cache.join("models--acme--tiny");
    std::fs::write(repo.join("blobs/weights"), b"0123").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        "../../blobs/weights",
        repo.join("snapshots").join(COMMIT).join("model.bin"),
    )
    .unwrap();

    let listed = hub::list(&cache).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].repo_id, "acme/tiny");
    assert_eq!(listed[0].refs, [("main".to_owned(), COMMIT.to_owned())]);
    assert_eq!(
        listed[0].size,
        tiny().len() as u64 + CONFIG_JSON.len() as u64 + 4
    );

    let removed = hub::remove(&cache, "acme/tiny").unwrap();
    assert_eq!((removed.pointers, removed.blobs), (2, 2));
    assert_eq!(
        tree(&repo),
        [
            "blobs".to_owned(),
            "blobs/weights".to_owned(),
            "refs".to_owned(),
            "refs/main".to_owned(),
            "snapshots".to_owned(),
            format!("snapshots/{COMMIT}"),
            format!("snapshots/{COMMIT}/model.bin"),
        ]
    );
    // With the weights gone too, the repo folder disappears.
    std::fs::remove_file(repo.join("snapshots").join(COMMIT).join("model.bin")).unwrap();
    std::fs::remove_file(repo.join("blobs/weights")).unwrap();
    hub::remove(&cache, "acme/tiny").unwrap();
    assert!(!repo.exists());
}

#[test]
fn a_corrupt_plain_file_fails_its_git_blob_etag() {
    let server = HubServer::start();
    server.add_repo(
        "acme/tiny",
        RepoSpec::tokenizer(&tiny(), Some(CONFIG_JSON), COMMIT),
    );
    // tokenizer_config.json is not LFS: its etag is the git blob sha1, checked like a sha256.
    server.fault("GET", "tokenizer_config.json", Fault::Corrupt);
    server.fault("GET", "tokenizer_config.json", Fault::Corrupt);
    let tmp = tempfile::tempdir().unwrap();
    let err = fetch(
        &config(&server, &tmp.path().join("hub")),
        &spec("acme/tiny", None),
        &Events::default(),
    )
    .unwrap_err();
    match &err {
        Error::Integrity {
            file,
            expected,
            found,
            ..
        } => {
            assert_eq!(file, "tokenizer_config.json");
            assert_eq!(
                expected,
                &format!("git-sha1 {}", hub_server::plain_etag(CONFIG_JSON))
            );
            assert!(
                found.starts_with("git-sha1 ") && found != expected,
                "{found}"
            );
        }
        other => panic!("{other:?}"),
    }
}

/// The requests of each kind the server saw.
fn count(server: &HubServer, method: &str) -> usize {
    server.log().iter().filter(|s| s.method == method).count()
}

#[test]
fn a_client_error_is_not_retried() {
    let server = HubServer::start();
    server.add_repo("acme/tiny", RepoSpec::tokenizer(&tiny(), None, COMMIT));
    server.fault("HEAD", "tokenizer.json", Fault::Status(400));
    let tmp = tempfile::tempdir().unwrap();
    let ev = Events::default();
    match fetch(
        &config(&server, &tmp.path().join("hub")),
        &spec("acme/tiny", None),
        &ev,
    ) {
        Err(Error::Http { status: 400, .. }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(count(&server, "HEAD"), 1, "{:?}", server.log());
    assert!(
        ev.all().iter().all(|e| !e.starts_with("retry")),
        "{:?}",
        ev.all()
    );
}

#[test]
fn bad_repo_ids_and_endpoints_fail_before_any_request() {
    let server = HubServer::start();
    server.add_repo("acme/tiny", RepoSpec::tokenizer(&tiny(), None, COMMIT));
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(&server, &tmp.path().join("hub"));
    for bad in ["a#b/c?d", "a/b/c", "acme/../tiny", "acme/ti ny"] {
        match fetch(&cfg, &spec(bad, None), &Events::default()) {
            Err(Error::InvalidId { what, value, .. }) => {
                assert_eq!(what, "repo id");
                assert_eq!(value, bad);
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    for endpoint in ["not-a-url", "ftp://127.0.0.1/", "http://"] {
        match fetch(
            &cfg.clone().with_endpoint(endpoint),
            &spec("acme/tiny", None),
            &Events::default(),
        ) {
            Err(Error::Config { name, .. }) => assert_eq!(name, "HF_ENDPOINT"),
            other => panic!("{endpoint}: {other:?}"),
        }
    }
    assert!(server.log().is_empty(), "{:?}", server.log());
}

#[test]
fn a_host_that_does_not_resolve_is_not_retried() {
    // `.invalid` never resolves (RFC 6761): the resolver's answer is final, so no retry (and
    // no wait) follows, whatever the policy allows.
    let tmp = tempfile::tempdir().unwrap();
    let server = HubServer::start();
    let cfg = config(&server, &tmp.path().join("hub")).with_endpoint("http://tinkex-test.invalid");
    let ev = Events::default();
    match fetch(&cfg, &spec("acme/tiny", None), &ev) {
        Err(Error::Network { message, .. }) => {
            assert!(message.contains("does not resolve"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    assert!(
        ev.all().iter().all(|e| !e.starts_with("retry")),
        "{:?}",
        ev.all()
    );
}

/// A Kimi model downloads the revision resolution pins (not `main`), even though its tokenizer
/// is bundled: with `use_bundled` off the pin is fetched into the cache; with it on, the
/// bundled copy of that same revision answers and the Hub is not asked.
#[test]
fn a_kimi_model_downloads_its_pinned_revision() {
    const K26: &str = "b5aabbfb20227ed42becbf5541dbffd213942c58";
    let kimi = Path::new(env!("CARGO_MANIFEST_DIR")).join("bundled/kimi");
    let ranks =
        zstd::stream::decode_all(&std::fs::read(kimi.join("tiktoken.model.zst")).unwrap()[..])
            .unwrap();
    let config_json = std::fs::read(kimi.join("kimi_k25/tokenizer_config.json")).unwrap();
    let server = HubServer::start();
    server.add_repo(
        "moonshotai/Kimi-K2.6",
        RepoSpec {
            files: vec![
                ("tiktoken.model".to_owned(), ranks, true),
                ("tokenizer_config.json".to_owned(), config_json, false),
            ],
            commit: K26.to_owned(),
            branches: vec!["main".to_owned()],
            gated: None,
        },
    );
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    let cfg = config(&server, &cache);

    let text = "Hello <think>x</think><|media_begin|>";
    let tok = TokenizerCache::new(cfg.clone())
        .get_or_load("moonshotai/Kimi-K2.6:peft:1")
        .unwrap();
    assert_eq!(tok.revision(), Some(K26));
    let requested: Vec<String> = server
        .log()
        .into_iter()
        .map(|s| s.path)
        .filter(|p| p.contains("/resolve/"))
        .collect();
    let pinned = format!("/moonshotai/Kimi-K2.6/resolve/{K26}/");
    assert!(
        requested.len() >= 2 && requested.iter().all(|p| p.starts_with(&pinned)),
        "{requested:?}"
    );
    assert!(cache
        .join("models--moonshotai--Kimi-K2.6/snapshots")
        .join(K26)
        .join("tiktoken.model")
        .exists());
    let downloaded = tok.encode(text, false).unwrap();

    server.clear_log();
    let bundled = TokenizerCache::new(cfg.with_bundled(true).with_hub_cache(None))
        .get_or_load("moonshotai/Kimi-K2.6")
        .unwrap();
    assert!(server.log().is_empty(), "{:?}", server.log());
    assert_eq!(bundled.revision(), Some(K26));
    assert_eq!(bundled.encode(text, false).unwrap(), downloaded);
}
