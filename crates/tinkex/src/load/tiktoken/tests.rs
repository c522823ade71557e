//! The engine's public behaviour: decode errors, the `Ordinary` style (o200k_base_chat), and
//! arbitrary text and ids.

use super::fixtures::*;
use super::*;

#[test]
fn out_of_range_ids() {
    let e = engine();
    for bad in [e.vocab_size(), e.vocab_size() + 1, u32::MAX] {
        for skip in [false, true] {
            match e.decode(&[1, bad], skip) {
                Err(Error::InvalidTokenId { id, vocab_size }) => {
                    assert_eq!((id, vocab_size), (u64::from(bad), e.vocab_size()));
                }
                other => panic!("expected InvalidTokenId, got {other:?}"),
            }
            assert!(matches!(
                e.decode_bytes(&[bad], skip),
                Err(Error::InvalidTokenId { .. })
            ));
            assert!(matches!(
                variant_engine().decode(&[bad], skip),
                Err(Error::InvalidTokenId { .. })
            ));
        }
    }
    assert_eq!(e.decode(&[], true).unwrap(), "");
    assert!(!e.skips_on_decode(u32::MAX));
}

#[test]
fn o200k_pattern_is_tiktoken_rs_pattern() {
    assert_eq!(
        crate::source::O200K_PATTERN,
        tiktoken_rs::O200K_BASE_PAT_STR
    );
}

#[test]
fn ordinary_style_is_tiktoken_encode_ordinary() {
    // tiktoken-rs embeds its own copy of o200k_base: this also checks the bundled ranks.
    let core = tiktoken_rs::o200k_base().expect("tiktoken-rs o200k_base");
    let e = o200k_engine();
    assert_eq!(e.style(), EncodeStyle::Ordinary);
    assert_eq!(e.num_base_tokens(), 199_998);
    assert_eq!(e.vocab_size(), 200_000);
    let alphabet = "aAzZ eé中文ß١٢3 9\n\t\r.,!?/'sll😀👍🏽\u{301}ǅʰ\u{a0}\u{3000}\u{1c}<|>endoftext";
    for text in random_texts(0xD1B54A32D192ED03, alphabet, 300) {
        assert_eq!(e.encode(&text), core.encode_ordinary(&text), "{text:?}");
    }
    // Markup is text, and long runs are not chunked the Kimi way (25,000 characters).
    for text in [
        "<|endoftext|>".to_owned(),
        format!("a{}b", " ".repeat(30_000)),
        format!("{}\n", "x".repeat(30_000)),
    ] {
        let ids = e.encode(&text);
        assert_eq!(ids, core.encode_ordinary(&text));
        assert_eq!(ids, e.encode_ordinary(&text));
        assert!(ids.iter().all(|&id| !e.is_special_id(id)));
    }
}

#[test]
fn ordinary_style_decode_keeps_special_names() {
    let e = o200k_engine();
    assert_eq!(e.eos_token(), Some("<|endoftext|>"));
    assert_eq!(e.bos_token(), None);
    let ids = [199_998, 13225, 199_999];
    for skip in [false, true] {
        assert_eq!(
            e.decode(&ids, skip).unwrap(),
            "<|unused|>Hello<|endoftext|>"
        );
        assert_eq!(
            e.decode_bytes(&ids, skip).unwrap(),
            b"<|unused|>Hello<|endoftext|>"
        );
    }
    assert!(!e.skips_on_decode(199_999));
    assert!(!e.has_legacy_added_tokens());
    assert_eq!(e.token_to_id("<|unused|>"), Some(199_998));
    assert!(matches!(
        e.decode(&[200_000], false),
        Err(Error::InvalidTokenId {
            id: 200_000,
            vocab_size: 200_000
        })
    ));
}

#[test]
fn ordinary_style_survives_the_backtracking_limit() {
    // Unchunked, a million spaces exceed fancy-regex's backtracking limit (Python's
    // tiktoken raises there); the engine splits the stretch and still round-trips.
    let e = o200k_engine();
    for text in [" ".repeat(1_000_000), format!("{}x", " \n".repeat(600_000))] {
        let ids = e.encode(&text);
        assert_eq!(e.decode(&ids, false).unwrap(), text);
    }
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn arbitrary_text_round_trips(text in "\\PC{0,200}") {
            let e = engine();
            let ids = e.encode_ordinary(&text);
            prop_assert_eq!(e.decode(&ids, false).unwrap(), text.clone());
            let ids = e.encode(&text);
            prop_assert_eq!(e.decode(&ids, false).unwrap(), text);
        }

        #[test]
        fn arbitrary_ids_decode_or_error(ids in proptest::collection::vec(any::<u32>(), 0..50),
                                         small in proptest::collection::vec(0u32..200_300, 0..50)) {
            let e = variant_engine();
            for ids in [&ids, &small] {
                for skip in [false, true] {
                    match e.decode(ids, skip) {
                        Ok(_) => prop_assert!(ids.iter().all(|&i| i < e.vocab_size())),
                        Err(Error::InvalidTokenId { id, .. }) => prop_assert!(id >= u64::from(e.vocab_size())),
                        Err(other) => prop_assert!(false, "{other}"),
                    }
                }
            }
        }
    }
}
