//! Arbitrary ids through decode (with and without skipping specials): Ok, or InvalidTokenId
//! exactly when an id is out of the vocabulary. Never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let tok = tinkex::tokenizer::get_or_load_tokenizer("gpt2").unwrap();
    let ids: Vec<u32> = data
        .chunks(2)
        .map(|c| u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0)))
        .collect();
    for skip in [false, true] {
        match tok.decode(&ids, skip) {
            Ok(_) => assert!(ids.iter().all(|&i| i < tok.vocab_size())),
            Err(tinkex::Error::InvalidTokenId { .. }) => {
                assert!(ids.iter().any(|&i| i >= tok.vocab_size()))
            }
            Err(e) => panic!("unexpected error {e}"),
        }
    }
});
