//! Arbitrary bytes as text (lossily made UTF-8) through encode; GPT-2 is lossless, so the text
//! must come back exactly; Llama-3 (BOS template, clean-up on decode) must not panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let gpt2 = tinkex::tokenizer::get_or_load_tokenizer("gpt2").unwrap();
    let ids = gpt2.encode(&text, true).unwrap();
    assert_eq!(gpt2.decode(&ids, false).unwrap(), text);
    let llama = tinkex::tokenizer::get_or_load_tokenizer("meta-llama/Llama-3.1-8B").unwrap();
    let ids = llama.encode(&text, true).unwrap();
    assert_eq!(ids.first(), Some(&128000));
    llama.decode(&ids, true).unwrap();
});
