//! The Tinker API client against a loopback stand-in (tinkex-testkit/src/tinker_server.rs): what it
//! sends (X-API-Key, JSON bodies, idempotency keys, percent-encoded sampler ids), retries
//! (503, 429 + retry-after, x-should-retry), errors (401, no key, unreachable) and the
//! tokenizer each kind of client resolves to.

use tinkex_testkit::tinker_server;

use std::time::Duration;

use serde_json::json;
use tinker_server::{Reply, TinkerServer};
use tinkex::cache::TokenizerCache;
use tinkex::client::{ClientConfig, RetryConfig, ServiceClient, TokenizerSource};
use tinkex::resolve::Resolution;
use tinkex::{Config, Error};

const KEY: &str = "tml-test-key";

fn fast() -> RetryConfig {
    RetryConfig::new(3, Duration::from_millis(5), Duration::from_millis(20))
}

fn service(server: &TinkerServer) -> ServiceClient {
    ServiceClient::new(
        ClientConfig::default()
            .with_api_key(KEY)
            .with_base_url(&server.url)
            .with_retry(fast()),
    )
    .expect("valid config")
}

fn offline_cache() -> TokenizerCache {
    TokenizerCache::new(Config::default().with_offline(true))
}

fn hub_id(r: &Resolution) -> &str {
    match r {
        Resolution::Hub { spec, .. } => &spec.tokenizer_id,
        other => panic!("not a Hub resolution: {other:?}"),
    }
}

#[test]
fn server_tokenizer_id_wins_through_two_503s() {
    let server = TinkerServer::start();
    server.route(
        "POST /api/v1/get_info",
        vec![
            Reply::status(503),
            Reply::status(503),
            Reply::json(json!({
                "type": "get_info",
                "model_id": "s1:train:0",
                "model_data": {"arch": "qwen3", "model_name": "meta-llama/Llama-3.1-8B",
                               "tokenizer_id": "Qwen/Qwen3-8B:tok-v2"},
                "is_lora": true, "lora_rank": 32, "extra": 1
            })),
        ],
    );
    let training = service(&server).training_client("s1:train:0");
    let cache = offline_cache();
    let (resolution, source) = training.resolve_tokenizer(&cache).expect("resolves");
    assert_eq!(hub_id(&resolution), "Qwen/Qwen3-8B");
    assert_eq!(source, TokenizerSource::ServerTokenizerId);
    // The tokenizer loads (bundled, offline) and works.
    let tok = training.get_tokenizer_with(&cache).expect("loads");
    assert_eq!(tok.encode("Hello world", true).unwrap(), vec![9707, 1879]);

    let log = server.log();
    assert_eq!(
        log.len(),
        3,
        "two 503s then the answer; cached after: {log:?}"
    );
    for seen in &log {
        assert_eq!(seen.method, "POST");
        assert_eq!(seen.path, "/api/v1/get_info");
        assert_eq!(seen.header("x-api-key"), Some(KEY));
        assert_eq!(
            seen.json(),
            json!({"model_id": "s1:train:0", "type": "get_info"})
        );
    }
    let key = log[0].header("x-idempotency-key").expect("idempotency key");
    assert!(log
        .iter()
        .all(|s| s.header("x-idempotency-key") == Some(key)));
    // get_info is cached per client: no further request.
    training.get_info().unwrap();
    assert_eq!(server.log().len(), 3);
}

#[test]
fn without_tokenizer_id_the_rules_apply_to_model_name() {
    let server = TinkerServer::start();
    server.route(
        "POST /api/v1/get_info",
        vec![Reply::json(json!({
            "model_id": "s1:train:1",
            "model_data": {"model_name": "meta-llama/Llama-3.1-8B:peft"}
        }))],
    );
    let service = service(&server);
    let training = service.training_client("s1:train:1");
    let (r, source) = training.resolve_tokenizer(&offline_cache()).unwrap();
    assert_eq!(
        hub_id(&r),
        "thinkingmachineslabinc/meta-llama-3-instruct-tokenizer"
    );
    assert_eq!(source, TokenizerSource::ModelName);
    // Two logical calls (two clients) get different idempotency keys.
    service.training_client("s1:train:1").get_info().unwrap();
    let log = server.log();
    assert_eq!(log.len(), 2);
    assert_ne!(
        log[0].header("x-idempotency-key"),
        log[1].header("x-idempotency-key")
    );
}

#[test]
fn sampler_base_model_variant_and_suffix_are_dropped() {
    let server = TinkerServer::start();
    server.route(
        "GET /api/v1/samplers/s9%3Asample%3A0",
        vec![Reply::json(json!({
            "sampler_id": "s9:sample:0",
            "base_model": "Qwen/Qwen3-8B/lora:3",
            "model_path": null
        }))],
    );
    let sampler = service(&server).sampling_client("s9:sample:0");
    assert_eq!(sampler.get_base_model().unwrap(), "Qwen/Qwen3-8B/lora:3");
    let cache = offline_cache();
    let (r, source) = sampler.resolve_tokenizer(&cache).unwrap();
    assert_eq!(hub_id(&r), "Qwen/Qwen3-8B");
    assert_eq!(source, TokenizerSource::SamplerBaseModel);
    let log = server.log();
    assert_eq!(log.len(), 1, "cached: {log:?}");
    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, "/api/v1/samplers/s9%3Asample%3A0");
    assert_eq!(log[0].header("x-api-key"), Some(KEY));
    assert_eq!(log[0].header("x-idempotency-key"), None, "GET carries none");
}

#[test]
fn retry_after_429_then_create_model_polls_the_future() {
    let server = TinkerServer::start();
    server.route(
        "POST /api/v1/create_session",
        vec![
            Reply::status(429).header("retry-after", "0.01"),
            Reply::json(json!({"session_id": "sess-1", "type": "create_session"})),
        ],
    );
    server.route(
        "POST /api/v1/create_model",
        vec![Reply::json(json!({"request_id": "req-7"}))],
    );
    server.route(
        "POST /api/v1/retrieve_future",
        vec![
            Reply::json(json!({"type": "try_again", "request_id": "req-7"})),
            Reply::json(json!({"type": "try_again", "request_id": "req-7"})),
            Reply::json(json!({"model_id": "sess-1:train:0"})),
        ],
    );
    let training = service(&server)
        .create_lora_training_client("Qwen/Qwen3-8B", 16)
        .expect("created");
    assert_eq!(training.model_id(), "sess-1:train:0");
    let log = server.log();
    let paths: Vec<&str> = log.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/api/v1/create_session",
            "/api/v1/create_session",
            "/api/v1/create_model",
            "/api/v1/retrieve_future",
            "/api/v1/retrieve_future",
            "/api/v1/retrieve_future",
        ]
    );
    assert_eq!(
        log[0].header("x-idempotency-key"),
        log[1].header("x-idempotency-key")
    );
    let session = log[0].json();
    assert_eq!(session["type"], "create_session");
    assert_eq!(session["tags"], json!([]));
    assert_eq!(
        log[2].json(),
        json!({"session_id": "sess-1", "model_seq_id": 0, "base_model": "Qwen/Qwen3-8B",
               "lora_config": {"rank": 16}, "type": "create_model"})
    );
    assert_eq!(
        log[3].json(),
        json!({"request_id": "req-7", "allow_metadata_only": true})
    );
    // Each poll is its own logical call.
    assert_ne!(
        log[3].header("x-idempotency-key"),
        log[4].header("x-idempotency-key")
    );
}

#[test]
fn a_failed_future_is_a_typed_error() {
    let server = TinkerServer::start();
    server.route(
        "POST /api/v1/create_session",
        vec![Reply::json(json!({"session_id": "sess-2"}))],
    );
    server.route(
        "POST /api/v1/create_model",
        vec![Reply::json(json!({"request_id": "req-8"}))],
    );
    server.route(
        "POST /api/v1/retrieve_future",
        vec![Reply::json(
            json!({"error": "unknown base model", "category": "user"}),
        )],
    );
    let err = service(&server)
        .create_lora_training_client("No/Such", 32)
        .unwrap_err();
    match &err {
        Error::Api { message, .. } => {
            assert!(message.contains("unknown base model") && message.contains("user"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unauthorized_is_not_retried_and_names_the_key() {
    let server = TinkerServer::start();
    server.route("POST /api/v1/get_info", vec![Reply::status(401)]);
    let err = service(&server)
        .training_client("s1:train:0")
        .get_info()
        .unwrap_err();
    match &err {
        Error::Api {
            status, message, ..
        } => {
            assert_eq!(*status, Some(401));
            assert!(message.contains("TINKER_API_KEY"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.log().len(), 1);
}

#[test]
fn x_should_retry_overrides_the_status() {
    let server = TinkerServer::start();
    server.route(
        "POST /api/v1/get_info",
        vec![
            Reply::status(400).header("x-should-retry", "true"),
            Reply::status(503).header("x-should-retry", "false"),
        ],
    );
    let err = service(&server)
        .training_client("s1:train:0")
        .get_info()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Api {
                status: Some(503),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.log().len(), 2);
}

#[test]
fn retries_stop_after_max_retries() {
    let server = TinkerServer::start();
    server.route("POST /api/v1/get_info", vec![Reply::status(500)]);
    let err = service(&server)
        .training_client("s1:train:0")
        .get_info()
        .unwrap_err();
    assert!(err.to_string().contains("4 attempts"), "{err}");
    assert_eq!(server.log().len(), 4, "1 + 3 retries");
    let retry_counts: Vec<_> = server
        .log()
        .iter()
        .map(|s| s.header("x-stainless-retry-count").unwrap_or("").to_owned())
        .collect();
    assert_eq!(retry_counts, ["0", "1", "2", "3"]);
}

#[test]
fn fallback_to_name_records_a_warning() {
    let server = TinkerServer::start();
    server.route("POST /api/v1/get_info", vec![Reply::status(502)]);
    let service = service(&server);
    let cache = offline_cache();
    // By default, an error.
    assert!(service
        .training_client("s1:train:0")
        .resolve_tokenizer(&cache)
        .is_err());
    let training = service
        .training_client("s1:train:0")
        .with_fallback_to_name("Qwen/Qwen3-8B:x");
    let (r, source) = training.resolve_tokenizer(&cache).unwrap();
    assert_eq!(hub_id(&r), "Qwen/Qwen3-8B");
    assert_eq!(source, TokenizerSource::FallbackName);
    let w = training.warnings();
    assert_eq!(w.len(), 1);
    assert!(
        w[0].contains("get_info") && w[0].contains("Qwen/Qwen3-8B:x"),
        "{w:?}"
    );
}

#[test]
fn no_key_or_a_bad_key_is_refused_before_any_request() {
    let server = TinkerServer::start();
    for config in [
        ClientConfig::default().with_base_url(&server.url),
        ClientConfig::default()
            .with_base_url(&server.url)
            .with_api_key("sk-not-tinker"),
        ClientConfig::from_lookup(|k| (k == "TINKER_BASE_URL").then(|| server.url.clone())),
    ] {
        let err = ServiceClient::new(config).unwrap_err();
        assert!(
            matches!(&err, Error::Config { name, .. } if name == "TINKER_API_KEY"),
            "{err:?}"
        );
        assert!(err.to_string().contains("TINKER_API_KEY"));
        assert!(!err.to_string().contains("sk-not-tinker"));
    }
    assert!(server.log().is_empty());
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    // A port nothing listens on: bind, note the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let service = ServiceClient::new(
        ClientConfig::default()
            .with_api_key(KEY)
            .with_base_url(format!("http://127.0.0.1:{port}"))
            .with_retry(fast())
            .with_timeouts(Duration::from_secs(2), Duration::from_secs(1)),
    )
    .unwrap();
    let err = service
        .sampling_client("a:sample:0")
        .get_base_model()
        .unwrap_err();
    match &err {
        Error::Api {
            status,
            message,
            url,
        } => {
            assert_eq!(*status, None);
            assert!(message.contains("cannot reach the Tinker API"), "{message}");
            assert!(message.contains("4 attempts"), "{message}");
            assert!(url.ends_with("/api/v1/samplers/a%3Asample%3A0"), "{url}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn training_and_sampling_clients_are_model_refs() {
    // The clients load through the process-wide registry: give it the tests' configuration, not
    // the environment's (this is the only test of this binary that uses it).
    let config = Config::default()
        .with_offline(true)
        .with_hub_cache(None)
        .with_prepared_cache(None);
    let _ = TokenizerCache::set_global(config);
    let server = TinkerServer::start();
    server.route(
        "POST /api/v1/get_info",
        vec![Reply::json(json!({
            "model_id": "s1:train:0",
            "model_data": {"model_name": "Qwen/Qwen3-8B", "tokenizer_id": "Qwen/Qwen3-8B"}
        }))],
    );
    server.route(
        "GET /api/v1/samplers/s1%3Asample%3A0",
        vec![Reply::json(json!({"base_model": "Qwen/Qwen3-8B"}))],
    );
    let service = service(&server);
    let training = service.training_client("s1:train:0");
    let input = tinkex::types::ModelInput::from_text("Hello world", &training).unwrap();
    assert_eq!(input.to_ints().unwrap(), vec![9707, 1879]);
    let sampler = service.sampling_client("s1:sample:0");
    let ids = tinkex::tokenizer::encode("Hello world", &sampler, Default::default()).unwrap();
    assert_eq!(ids, vec![9707, 1879]);
}

#[test]
fn malformed_ids_are_refused_before_any_request() {
    let server = TinkerServer::start();
    let service = service(&server);
    for bad in ["bad id", "a/b", "s:sample:0?x", ""] {
        match service.sampling_client(bad).get_base_model() {
            Err(Error::InvalidId { what, value, .. }) => {
                assert_eq!(what, "sampler id");
                assert_eq!(value, bad);
            }
            other => panic!("{bad:?}: {other:?}"),
        }
        match service.training_client(bad).get_info() {
            Err(Error::InvalidId { what, .. }) => assert_eq!(what, "model id"),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    assert!(server.log().is_empty(), "{:?}", server.log());
}

#[test]
fn an_unusable_base_url_is_a_config_error_at_once() {
    for url in ["not-a-url", "ftp://127.0.0.1/x", "http://"] {
        let err = ServiceClient::new(ClientConfig::default().with_api_key(KEY).with_base_url(url))
            .unwrap_err();
        assert!(
            matches!(&err, Error::Config { name, .. } if name == "TINKER_BASE_URL"),
            "{url}: {err:?}"
        );
    }
    // Read from the environment the same way.
    let config = ClientConfig::from_lookup(|k| match k {
        "TINKER_API_KEY" => Some(KEY.into()),
        "TINKER_BASE_URL" => Some("not-a-url".into()),
        _ => None,
    });
    assert!(ServiceClient::new(config).is_err());
}

#[test]
fn client_errors_are_final_and_transient_ones_keep_the_budget() {
    let server = TinkerServer::start();
    server.route("POST /api/v1/get_info", vec![Reply::status(400)]);
    server.route(
        "GET /api/v1/samplers/s%3Asample%3A0",
        vec![Reply::status(408)],
    );
    let service = service(&server);
    match service.training_client("s:train:0").get_info() {
        Err(Error::Api {
            status: Some(400), ..
        }) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(server.log().len(), 1, "400 is not retried");
    match service.sampling_client("s:sample:0").get_base_model() {
        Err(Error::Api {
            status: Some(408),
            message,
            ..
        }) => assert!(message.contains("4 attempts"), "{message}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(server.log().len(), 1 + 4, "408: 1 + 3 retries");
}

#[test]
fn a_host_that_does_not_resolve_fails_after_one_attempt() {
    let service = ServiceClient::new(
        ClientConfig::default()
            .with_api_key(KEY)
            .with_base_url("http://tinkex-test.invalid")
            .with_retry(fast()),
    )
    .unwrap();
    match service.training_client("s:train:0").get_info() {
        Err(Error::Api {
            status: None,
            message,
            ..
        }) => {
            assert!(message.contains("does not resolve"), "{message}");
            assert!(!message.contains("attempts"), "not retried: {message}");
        }
        other => panic!("{other:?}"),
    }
}
