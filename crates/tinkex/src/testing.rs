//! Support for the unit tests: tokenizers loaded with a configuration built without reading the
//! environment (offline, bundled tokenizers on, no Hugging Face cache, no prepared store), so the
//! developer's settings change no result and nothing is written outside temporary directories.

use std::sync::{Arc, OnceLock};

use crate::cache::TokenizerCache;
use crate::{Config, Tokenizer};

/// The configuration of the unit tests.
pub(crate) fn config() -> Config {
    Config::default()
        .with_offline(true)
        .with_bundled(true)
        .with_hub_cache(None)
        .with_prepared_cache(None)
}

/// The tokenizer of a bundled model, from one cache with [`config`] shared by the unit tests.
pub(crate) fn tokenizer(model: &str) -> Arc<Tokenizer> {
    static CACHE: OnceLock<TokenizerCache> = OnceLock::new();
    CACHE
        .get_or_init(|| TokenizerCache::new(config()))
        .get_or_load(model)
        .unwrap_or_else(|e| panic!("{model}: {e}"))
}

/// A seeded xorshift64 generator: the same draws on every run, so random-input tests are
/// reproducible (`seed` must not be 0).
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

/// The decompressed contents of a zstd file of the test data; panics naming the file.
pub(crate) fn read_zst(path: &std::path::Path) -> Vec<u8> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    zstd::stream::decode_all(f).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A test-only fixture tokenizer (`tests/data/fixtures/NAME`: the families that are not bundled),
/// built in memory from its compressed copy.
pub(crate) fn fixture_tokenizer(name: &str) -> Arc<Tokenizer> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/fixtures")
        .join(name);
    let json = read_zst(&dir.join("tokenizer.json.zst"));
    let config =
        std::fs::read(dir.join("tokenizer_config.json")).unwrap_or_else(|e| panic!("{name}: {e}"));
    Arc::new(Tokenizer::from_bytes(&json, Some(&config)).unwrap_or_else(|e| panic!("{name}: {e}")))
}
