//! Arbitrary id sequences through the streaming decoder: the pieces join to the one-shot decode
//! (or both fail on the same invalid id), for a byte-level tokenizer with decode clean-up
//! (Llama-3) and one without (GPT-2).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for (name, width) in [("gpt2", 2), ("meta-llama/Llama-3.1-8B", 3)] {
        let tok = tinkex::tokenizer::get_or_load_tokenizer(name).unwrap();
        let ids: Vec<u32> = data
            .chunks(width)
            .map(|c| c.iter().fold(0u32, |a, &b| a << 8 | u32::from(b)) % (tok.vocab_size() + 8))
            .collect();
        let skip = data.first().is_some_and(|b| b & 1 == 1);
        let mut stream = tok.decode_stream(skip);
        let mut joined = String::new();
        let mut valid = Vec::new();
        for &id in &ids {
            match stream.step(id) {
                Ok(piece) => {
                    joined.push_str(&piece.unwrap_or_default());
                    valid.push(id);
                }
                Err(tinkex::Error::InvalidTokenId { .. }) => assert!(id >= tok.vocab_size()),
                Err(e) => panic!("unexpected error {e}"),
            }
        }
        joined.push_str(&stream.flush().unwrap());
        assert_eq!(joined, tok.decode(&valid, skip).unwrap());
    }
});
