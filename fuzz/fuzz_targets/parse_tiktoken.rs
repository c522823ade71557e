//! Arbitrary bytes as tiktoken.model (and, after a NUL byte, tokenizer_config.json): loading
//! returns an error or an engine that encodes and decodes without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tinkex::load::tiktoken::TiktokenEngine;

fuzz_target!(|data: &[u8]| {
    let (model, cfg) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    if let Ok(e) = TiktokenEngine::from_parts(model, cfg, None, Some(4), std::path::Path::new("fuzz")) {
        let ids = e.encode("Hello, wörld! 👋 [BOS]");
        let _ = e.decode(&ids, false);
        let _ = e.decode(&ids, true);
    }
});
