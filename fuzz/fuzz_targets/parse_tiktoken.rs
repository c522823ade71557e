//! Arbitrary bytes as tiktoken.model (and, after a NUL byte, tokenizer_config.json): loading
//! returns an error or an engine that encodes and decodes without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (model, cfg) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    // Through the public API (the engine itself is internal).
    if let Ok(t) = tinkex::Tokenizer::from_tiktoken_bytes(model, cfg) {
        let ids = t.encode("Hello, wörld! 👋 [BOS]", false).unwrap_or_default();
        let _ = t.decode(&ids, false);
        let _ = t.decode(&ids, true);
    }
});
