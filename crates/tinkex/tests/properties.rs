//! Property tests over random Unicode: round trips where the tokenizer is lossless, streaming ==
//! one-shot decode, batch == one at a time.

mod common;

use std::sync::Arc;

use proptest::prelude::*;
use tinkex::Tokenizer;

fn tok(name: &str) -> Arc<Tokenizer> {
    common::tokenizer(name)
}

/// Byte-level BPE without normalisation or decode clean-up: decode(encode(s)) == s for any s.
/// (Qwen3 normalises to NFC; Llama-3's decode applies transformers' clean-up.)
const LOSSLESS: [&str; 3] = ["gpt2", "openai/gpt-oss-20b", "deepseek-ai/DeepSeek-V3.1"];
const ALL: [&str; 5] = [
    "gpt2",
    "Qwen/Qwen3-8B",
    "meta-llama/Llama-3.1-8B",
    "deepseek-ai/DeepSeek-V3.1",
    "openai/gpt-oss-20b",
];

fn text() -> impl Strategy<Value = String> {
    // Mostly arbitrary scalar values, plus the characters tokenizers treat specially.
    prop::collection::vec(
        prop_oneof![
            4 => any::<char>(),
            2 => prop::sample::select(vec![' ', '\n', '\t', '\r', '\'', '.', ',', '😀', '世', 'é', '\u{301}', '\u{200d}']),
            1 => prop::sample::select(vec!['<', '|', '>', 's']),
        ],
        0..64,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn lossless_round_trip(s in text(), which in 0..LOSSLESS.len()) {
        let t = tok(LOSSLESS[which]);
        let ids = t.encode(&s, false).unwrap();
        prop_assert_eq!(t.decode(&ids, false).unwrap(), s);
    }

    #[test]
    fn streaming_equals_decode(s in text(), which in 0..ALL.len(), skip in any::<bool>(), cut in 0usize..64) {
        let t = tok(ALL[which]);
        let mut ids = t.encode(&s, true).unwrap();
        ids.truncate(cut.min(ids.len())); // also sequences cut mid-character
        let mut stream = t.decode_stream(skip);
        let mut joined = String::new();
        for &id in &ids {
            joined.push_str(&stream.step(id).unwrap().unwrap_or_default());
        }
        joined.push_str(&stream.flush().unwrap());
        prop_assert_eq!(joined, t.decode(&ids, skip).unwrap());
    }

    #[test]
    fn batch_equals_one_at_a_time(texts in prop::collection::vec(text(), 0..12), which in 0..ALL.len(), special in any::<bool>()) {
        let t = tok(ALL[which]);
        let batch = t.encode_batch(&texts, special).unwrap();
        prop_assert_eq!(batch.len(), texts.len());
        for (s, ids) in texts.iter().zip(&batch) {
            prop_assert_eq!(&t.encode(s, special).unwrap(), ids);
        }
        let decoded = t.decode_batch(&batch, false).unwrap();
        for (ids, d) in batch.iter().zip(&decoded) {
            prop_assert_eq!(&t.decode(ids, false).unwrap(), d);
        }
    }

    #[test]
    fn arbitrary_ids_decode_or_error(ids in prop::collection::vec(any::<u32>(), 0..16), which in 0..ALL.len()) {
        let t = tok(ALL[which]);
        match t.decode(&ids, false) {
            Ok(_) => prop_assert!(ids.iter().all(|&id| id < t.vocab_size())),
            Err(tinkex::Error::InvalidTokenId { id, .. }) => prop_assert!(id >= t.vocab_size() as u64),
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }
}
