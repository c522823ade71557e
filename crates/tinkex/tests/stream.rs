//! The streaming decoder against the oracle: pieces join to the one-shot decode, one piece per id.

mod common;

use tinkex::Tokenizer;

/// Streams `ids`; returns one piece per id plus the flush.
fn stream(tok: &Tokenizer, ids: &[u32], skip: bool) -> Vec<String> {
    let mut s = tok.decode_stream(skip);
    let mut pieces: Vec<String> = ids
        .iter()
        .map(|&id| s.step(id).unwrap().unwrap_or_default())
        .collect();
    pieces.push(s.flush().unwrap());
    pieces
}

fn check(name: &str, tok: &Tokenizer) {
    let mut bad = Vec::new();
    for (i, c) in common::oracle(name).iter().enumerate() {
        for (skip, want) in [(false, &c.decoded), (true, &c.decoded_skip)] {
            let pieces = stream(tok, &c.ids_default, skip);
            assert_eq!(pieces.len(), c.ids_default.len() + 1);
            let joined = pieces.concat();
            if &joined != want {
                bad.push(format!("{name}#{i} skip={skip}: {joined:?} != {want:?}"));
            }
            // No replacement character appears before the decode itself has one there.
            let mut so_far = String::new();
            for p in &pieces {
                so_far.push_str(p);
                if !want.starts_with(&so_far) {
                    bad.push(format!(
                        "{name}#{i} skip={skip}: prefix {so_far:?} is not a prefix"
                    ));
                    break;
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

macro_rules! oracle_streams {
    ($($name:ident),*) => {$(
        #[test]
        fn $name() {
            let (_g, dir) = common::fixture_dir(stringify!($name));
            check(stringify!($name), &common::from_path(&dir).unwrap());
        }
    )*};
}

oracle_streams!(
    gpt2,
    qwen3,
    llama3_1,
    deepseek_v3,
    deepseek_v3_1,
    gpt_oss,
    kimi_style
);

#[test]
fn multibyte_characters_wait_for_their_last_byte() {
    let tok = common::tokenizer("gpt2");
    // GPT-2 spells many emoji and CJK characters with several byte tokens.
    let text = "😀 世界 👨‍👩‍👧";
    let ids = tok.encode(text, false).unwrap();
    assert!(ids.len() > text.chars().count(), "split into byte tokens");
    let pieces = stream(&tok, &ids, false);
    assert!(pieces.iter().all(|p| !p.contains('\u{FFFD}')), "{pieces:?}");
    assert!(
        pieces.iter().any(|p| p.is_empty()),
        "some ids complete nothing yet"
    );
    assert_eq!(pieces.concat(), text);
    // A sequence cut mid-character flushes the replacement character, as decode does.
    let cut = &ids[..1];
    assert_eq!(
        stream(&tok, cut, false).concat(),
        tok.decode(cut, false).unwrap()
    );
}

#[test]
fn llama_clean_up_holds_back_a_space_until_it_is_kept() {
    let tok = common::tokenizer("meta-llama/Llama-3.1-8B");
    let ids = tok.encode("Hello , world . It 's done !", false).unwrap();
    let pieces = stream(&tok, &ids, false);
    assert_eq!(pieces.concat(), "Hello, world. It's done!");
    assert_eq!(pieces.concat(), tok.decode(&ids, false).unwrap());
}

#[test]
fn invalid_ids_are_errors_and_leave_the_stream_usable() {
    let tok = common::tokenizer("Qwen/Qwen3-8B");
    let mut s = tok.decode_stream(false);
    assert_eq!(s.step(9707).unwrap().as_deref(), Some("Hello"));
    assert!(matches!(
        s.step(u32::MAX),
        Err(tinkex::Error::InvalidTokenId { .. })
    ));
    assert_eq!(s.step(1879).unwrap().as_deref(), Some(" world"));
}

/// A WordPiece tokenizer (not byte-level) goes through the re-decoding window.
#[test]
fn non_byte_level_tokenizers_stream_through_a_window() {
    let json = serde_json::json!({
        "version": "1.0", "truncation": null, "padding": null,
        "added_tokens": [{"id": 0, "content": "[UNK]", "single_word": false, "lstrip": false,
                          "rstrip": false, "normalized": false, "special": true}],
        "normalizer": null,
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": null,
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100,
                  "vocab": {"[UNK]": 0, "un": 1, "##aff": 2, "##able": 3, "hello": 4, ",": 5, "world": 6}}
    });
    let tok = Tokenizer::from_bytes(json.to_string().as_bytes(), None).unwrap();
    let ids = tok.encode("unaffable, hello world", false).unwrap();
    assert_eq!(ids, vec![1, 2, 3, 5, 4, 6]);
    for skip in [false, true] {
        let pieces = stream(&tok, &ids, skip);
        assert_eq!(pieces.concat(), tok.decode(&ids, skip).unwrap());
    }
}
