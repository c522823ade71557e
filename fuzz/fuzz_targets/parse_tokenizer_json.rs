//! Arbitrary bytes as tokenizer.json, or (when the input starts with a NUL byte) as the
//! tokenizer_config.json beside a small valid tokenizer.json: loading returns an error or a
//! tokenizer that encodes and decodes without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;

const TINY: &[u8] = include_bytes!("../../crates/tinkex/tests/data/tiny/tokenizer.json");

fuzz_target!(|data: &[u8]| {
    let loaded = match data.split_first() {
        Some((0, config)) => tinkex::Tokenizer::from_bytes(TINY, Some(config)),
        _ => tinkex::Tokenizer::from_bytes(data, None),
    };
    if let Ok(tok) = loaded {
        if let Ok(ids) = tok.encode("Hello, wörld! 👋 <|end|>", true) {
            let _ = tok.decode(&ids, false);
            let _ = tok.decode(&ids, true);
            let mut s = tok.decode_stream(false);
            for id in ids {
                let _ = s.step(id);
            }
            let _ = s.flush();
        }
    }
});
