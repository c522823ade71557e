//! tinkex's engine against Hugging Face's, built from the same prepared document, for every
//! bundled `tokenizer.json` tokenizer: the parity oracle's texts, the evaluation corpora, the
//! edge cases and seeded random text, encoded with special tokens matched and as text; random
//! id sequences decoded with and without special tokens; the tokenizer facts ([`Info`]) and
//! token spellings; and the stored form read back.

use std::path::Path;

use serde_json::Value;
use tokenizers::pipeline::{EncodeOptions, PipelineToken, PipelineTokenizer};

use super::BpeEngine;
use crate::load::hf::{self, Info};

const LINEUP: [&str; 6] = [
    "gpt2",
    "qwen3",
    "llama3_1",
    "deepseek_v3",
    "deepseek_v3_1",
    "gpt_oss",
];

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn unzstd(path: &Path) -> String {
    String::from_utf8(crate::testing::read_zst(path)).expect("UTF-8")
}

struct Pair {
    hf: PipelineTokenizer,
    info: Info,
    fast: BpeEngine,
    fast_info: Info,
}

fn pair(name: &str) -> Pair {
    let bundled = crate::source::builtin(name).expect("bundled");
    let files = bundled.files().expect("files");
    let (canonical, meta, doc) = crate::load::prepare_hf(&files).expect("prepare");
    let (fast, fast_info) = crate::load::fast_engine(&doc, &meta)
        .unwrap_or_else(|| panic!("{name}: {:?}", BpeEngine::from_document(&doc).err()));
    let e = hf::build(&canonical, meta, Path::new(name)).expect("build");
    Pair {
        hf: e.pipeline.get().map(clone_pipeline).expect("pipeline"),
        info: e.info,
        fast,
        fast_info,
    }
}

fn clone_pipeline(p: &PipelineTokenizer) -> PipelineTokenizer {
    p.clone()
}

fn hf_encode(p: &PipelineTokenizer, text: &str, split_special: bool) -> Result<Vec<u32>, String> {
    let opts = EncodeOptions {
        add_special_tokens: false,
        encode_special_tokens: split_special,
        ..EncodeOptions::default()
    };
    let mut out: Vec<PipelineToken> = Vec::new();
    p.encode_into(text, &opts, &mut out)
        .map_err(|e| e.to_string())?;
    Ok(out.into_iter().map(u32::from).collect())
}

fn fast_encode(f: &BpeEngine, text: &str, split_special: bool) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    f.encode_into(text, split_special, &mut out)?;
    Ok(out)
}

/// Texts to compare on: oracle texts, corpus documents, edge cases, random strings.
fn texts(name: &str, specials: &[String]) -> Vec<String> {
    let mut v = Vec::new();
    let oracle = unzstd(&manifest().join(format!("tests/data/parity/{name}.jsonl.zst")));
    for line in oracle.lines().skip(1) {
        if let Ok(x) = serde_json::from_str::<Value>(line) {
            if let Some(t) = x["text"].as_str() {
                v.push(t.to_owned());
            }
        }
    }
    for corpus in ["english", "multilingual", "code"] {
        let text = unzstd(&manifest().join(format!("benches/data/{corpus}.txt.zst")));
        v.extend(
            text.split("\n\n")
                .take(400)
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        );
    }
    // Texts longer than the splitter's 64 KiB chunks, one with code points that send single
    // chunks to the scanners (U+0295, Unicode 17's Ll -> Lo; `ſ`), so pieces reach the word
    // cache both as whole chunks of spans and one at a time, in order.
    for (corpus, odd) in [
        ("english", ["\u{295}", "\u{17F}"]),
        ("multilingual", ["", ""]),
    ] {
        let text = unzstd(&manifest().join(format!("benches/data/{corpus}.txt.zst")));
        let mut long: String = text.chars().take(200_000).collect();
        for (k, c) in odd.iter().enumerate() {
            let mut at = long.len() * (k + 1) / 3;
            while !long.is_char_boundary(at) {
                at += 1;
            }
            long.insert_str(at, c);
        }
        v.push(long);
    }
    let edge = unzstd(&manifest().join("benches/data/edge.jsonl.zst"));
    for line in edge.lines() {
        if let Ok(x) = serde_json::from_str::<Value>(line) {
            if let Some(t) = x.get("text").and_then(Value::as_str) {
                v.push(t.to_owned());
            }
        }
    }
    v.extend(random_texts(0x5eed_b9e0, 3000, specials));
    v
}

/// Seeded random strings over an alphabet chosen to hit every branch of the split patterns:
/// contractions in both cases (and `ſ`), apostrophes, every kind of whitespace and newline,
/// digits of several scripts, letters, marks, CJK, kana, punctuation and symbols, emoji, and
/// the tokenizer's own special-token texts.
pub(crate) fn random_texts(seed: u64, n: usize, specials: &[String]) -> Vec<String> {
    const PIECES: &[&str] = &[
        "'s",
        "'S",
        "'t",
        "'T",
        "'re",
        "'RE",
        "'rE",
        "'ve",
        "'VE",
        "'m",
        "'M",
        "'ll",
        "'LL",
        "'lL",
        "'d",
        "'D",
        "'ſ",
        "'",
        "''",
        "'x",
        " ",
        "  ",
        "   ",
        "\t",
        "\n",
        "\r\n",
        "\r",
        "\n\n",
        " \n",
        "\u{a0}",
        "\u{3000}",
        "\u{2028}",
        "\u{85}",
        "\u{200b}",
        "\u{feff}",
        "a",
        "b",
        "Z",
        "hello",
        "World",
        "ſ",
        "é",
        "e\u{301}",
        "\u{301}",
        "ñ",
        "ß",
        "İ",
        "Ω",
        "ж",
        "Привет",
        "مرحبا",
        "שלום",
        "नमस्ते",
        "ไทย",
        "中文",
        "日本語",
        "ひらがな",
        "カタカナ",
        "한국어",
        "0",
        "7",
        "42",
        "1234",
        "٣",
        "४",
        "Ⅻ",
        "½",
        "²",
        ".",
        ",",
        "!",
        "?",
        "...",
        "--",
        "/",
        "\\",
        "(",
        ")",
        "{",
        "}",
        "[",
        "]",
        "<",
        ">",
        "|",
        "@",
        "#",
        "$",
        "%",
        "^",
        "&",
        "*",
        "_",
        "+",
        "=",
        "~",
        "`",
        "\"",
        ";",
        ":",
        "·",
        "—",
        "“",
        "”",
        "€",
        "©",
        "😀",
        "👍🏽",
        "🇫🇷",
        "\u{0}",
        "\u{1}",
        "\u{7f}",
        "\u{fffd}",
        "x\u{300}\u{301}",
    ];
    let mut next = crate::testing::xorshift(seed);
    (0..n)
        .map(|_| {
            let len = (next() % 24) as usize;
            let mut s = String::new();
            for _ in 0..len {
                let r = next();
                if !specials.is_empty() && r.is_multiple_of(17) {
                    s.push_str(&specials[(r / 17) as usize % specials.len()]);
                } else {
                    s.push_str(PIECES[(r / 3) as usize % PIECES.len()]);
                }
            }
            s
        })
        .collect()
}

#[test]
fn fast_engine_equals_hugging_face_on_every_lineup_tokenizer() {
    for name in LINEUP {
        let p = pair(name);
        assert_eq!(p.fast_info, p.info, "{name}: tokenizer facts");
        let specials: Vec<String> = p.info.added.iter().map(|(c, _, _)| c.clone()).collect();
        let texts = texts(name, &specials);
        assert!(texts.len() > 4000, "{name}: {} texts", texts.len());
        let mut bad = Vec::new();
        for t in &texts {
            for split_special in [false, true] {
                let want = hf_encode(&p.hf, t, split_special);
                let got = fast_encode(&p.fast, t, split_special);
                if want != got && bad.len() < 5 {
                    bad.push(format!(
                        "{t:?} split_special={split_special}: {got:?} vs {want:?}"
                    ));
                }
            }
        }
        assert!(bad.is_empty(), "{name}:\n{}", bad.join("\n"));
    }
}

#[test]
fn the_lineup_patterns_have_scanners() {
    // Every lineup pattern must take its hand-written scanner: a changed fixture would
    // otherwise fall back to fancy-regex silently (exact, but several times slower).
    // And, where the CPU allows, the bitcannon grammar that replaces the scanners.
    for name in LINEUP {
        let p = pair(name);
        assert!(p.fast.all_stages_scanned(), "{name}");
        assert_eq!(p.fast.has_grammar(), bitcannon::fast_builder(), "{name}");
    }
}

#[test]
fn fast_decode_and_spelling_equal_hugging_face() {
    for name in LINEUP {
        let p = pair(name);
        let n = p.info.id_space;
        let valid = |id: u32| {
            p.info
                .holes
                .as_ref()
                .is_none_or(|h| h[id as usize / 64] & (1 << (id % 64)) == 0)
        };
        let mut next = crate::testing::xorshift(0x1234_5678_9abc_def0u64 ^ u64::from(n));
        let added: Vec<u32> = p.info.added.iter().map(|(_, id, _)| *id).collect();
        for _ in 0..3000 {
            let len = (next() % 12) as usize;
            let ids: Vec<u32> = (0..len)
                .map(|_| match next() % 5 {
                    0 if !added.is_empty() => added[(next() as usize) % added.len()],
                    1 => (next() % 256) as u32,
                    _ => (next() % u64::from(n)) as u32,
                })
                .filter(|&id| valid(id))
                .collect();
            for skip in [false, true] {
                let want = p.hf.decode(&ids, skip).expect("decode");
                let table = p.fast.token_bytes();
                let bytes: Vec<u8> = ids
                    .iter()
                    .filter(|&&id| !(skip && table.is_special(id)))
                    .flat_map(|&id| table.get(id).to_vec())
                    .collect();
                assert_eq!(
                    String::from_utf8_lossy(&bytes),
                    want,
                    "{name}: {ids:?} skip={skip}"
                );
            }
        }
        let model = p.hf.get_model();
        for id in (0..n).step_by(7).filter(|&id| valid(id)) {
            if added.contains(&id) {
                continue;
            }
            let spelled = model.id_to_token(id);
            assert_eq!(p.fast.id_to_token(id), spelled, "{name}: id {id}");
            if let Some(s) = spelled {
                assert_eq!(p.fast.token_to_id(&s), Some(id), "{name}: {s:?}");
            }
        }
    }
}

#[test]
fn stored_form_reads_back_identically_and_rejects_damage() {
    let p = pair("llama3_1");
    let bytes = super::stored::to_bytes(&p.fast, &p.fast_info, "key", "digest").expect("bytes");
    let loaded = super::stored::from_bytes(&bytes, "key").expect("read back");
    assert_eq!(
        (loaded.info, loaded.digest.as_str()),
        (p.fast_info.clone(), "digest")
    );
    for t in texts("llama3_1", &[]).iter().take(500) {
        assert_eq!(
            fast_encode(&loaded.engine, t, false),
            fast_encode(&p.fast, t, false)
        );
    }
    // Another key, a flipped byte anywhere, a truncation, an extension, another version.
    assert!(super::stored::from_bytes(&bytes, "other").is_err());
    for at in [
        0,
        20,
        bytes.len() / 3,
        bytes.len() / 2,
        bytes.len() - 9,
        bytes.len() - 1,
    ] {
        let mut b = bytes.clone();
        b[at] ^= 0x40;
        assert!(
            super::stored::from_bytes(&b, "key").is_err(),
            "flip at {at}"
        );
    }
    for len in [0, 10, 100, bytes.len() / 2, bytes.len() - 1] {
        assert!(
            super::stored::from_bytes(&bytes[..len], "key").is_err(),
            "len {len}"
        );
    }
    let mut longer = bytes.clone();
    longer.extend_from_slice(&[0; 8]);
    assert!(super::stored::from_bytes(&longer, "key").is_err());
    // Another format version or tinkex version, or facts that do not fit the id space (a holes
    // bitmap of the wrong length), with a valid checksum: still refused. The first edit changes
    // nothing: the control that a resealed file is otherwise accepted.
    let version = format!("\"version\":{}", super::stored::VERSION).into_bytes();
    for (from, to) in [
        (&b"\"holes\":null"[..], &b"\"holes\":null"[..]),
        (&version[..], b"\"version\":9"),
        (b"\"tinkex\":\"", b"\"tinkex\":\"9"),
        (b"\"holes\":null", b"\"holes\":[0]"),
    ] {
        let at = bytes
            .windows(from.len())
            .position(|w| w == from)
            .expect("field");
        let mut other = bytes[..at].to_vec();
        other.extend_from_slice(to);
        other.extend_from_slice(&bytes[at + from.len()..]);
        // The header changed length: fix its length field, then the padding and checksum.
        let resealed = super::stored::reseal_for_test(&other);
        let read = super::stored::from_bytes(&resealed, "key");
        assert_eq!(
            read.is_ok(),
            from == to,
            "{:?}",
            String::from_utf8_lossy(to)
        );
    }
}

/// The vocabulary table and its `FOLDS` bits, token by token: every BPE-reachable token is found
/// by its bytes (short, over 8 bytes, over 255) and not by its bytes with the last one changed;
/// a piece equal to a token encodes as its merges do (the bit only skips them), or as itself
/// under `ignore_merges`; and neither rule is vacuous: GPT-2 has a token its merges do not make
/// (which must not have the bit), Llama-3 (`ignore_merges`) hundreds.
#[test]
fn every_token_is_found_and_encodes_alone_as_its_merges_do() {
    for name in ["gpt2", "qwen3", "llama3_1", "deepseek_v3", "gpt_oss"] {
        let p = pair(name);
        let t = &p.fast.tables;
        let ignore = p.fast.shape.ignore_merges;
        let (mut found, mut long, mut not_folding, mut passed) = (0, 0, 0, 0);
        let (mut alone, mut merged) = (Vec::new(), Vec::new());
        for slot in t.vocab.iter().filter(|s| s.meta != 0) {
            let id = slot.id();
            let w = t.token(id);
            assert_eq!(t.lookup(w).map(|s| s.id()), Some(id), "{name}: {id}");
            let mut near = w.to_vec();
            if let Some(last) = near.last_mut() {
                *last ^= 0x01;
            }
            assert_ne!(t.lookup(&near).map(|s| s.id()), Some(id), "{name}: {id}");
            passed += usize::from(t.lookup(&near).is_none() && t.filter_passes(&near));
            found += 1;
            long += usize::from(w.len() > 8);
            alone.clear();
            t.encode_word(w, &mut alone);
            merged.clear();
            t.merge(w, &mut merged);
            let want = if ignore { vec![id] } else { merged.clone() };
            assert_eq!(alone, want, "{name}: {id} {w:?}");
            if merged != [id] {
                not_folding += 1;
                assert!(ignore || !slot.folds(), "{name}: {id}");
            }
        }
        assert!(found > 50_000 && long > 1000, "{name}: {found} {long}");
        // The filter lets few words that are no token through to the table (~6% expected).
        assert!(passed * 10 < found, "{name}: {passed} of {found}");
        let chars = t
            .char_ids
            .iter()
            .filter(|&&id| id != super::model::NONE)
            .count();
        // Words start from these characters' tokens (58 in GPT-2, 298 Llama-3, 590 gpt-oss,
        // 1160 Qwen3, 3642 DeepSeek-V3; Hugging Face's engine holds them to the same rule).
        assert!(chars > 50, "{name}: {chars} characters fold");
        // (1 in GPT-2, 588 in Llama-3; none in the others.)
        if matches!(name, "gpt2" | "llama3_1") {
            assert!(not_folding > 0, "{name}");
        }
    }
}

/// The NFC shortcut (chars below U+0300 skipped, the rest checked one by one) gives what full
/// normalisation gives: on the random texts (marks, Hangul, CJK, emoji among them) and on
/// sequences that only normalise together.
#[test]
fn nfc_shortcut_equals_full_normalisation() {
    use unicode_normalization::UnicodeNormalization;
    let mut texts = random_texts(0x0AFC_0001, 5000, &[]);
    texts.extend(
        [
            "e\u{301}",
            "\u{1100}\u{1161}",
            "a\u{323}\u{302}",
            "a\u{302}\u{323}",
            "\u{212b}",
            "“quoted” é",
            "\u{ac00}\u{11a8}",
            "x\u{344}",
            "",
        ]
        .map(str::to_owned),
    );
    for t in &texts {
        assert_eq!(super::nfc(t), t.nfc().collect::<String>(), "{t:?}");
    }
}

#[test]
fn first_at_least_finds_the_first_byte_over_the_limit() {
    let mut next = crate::testing::xorshift(0xF1_257);
    for round in 0..3000 {
        let len = round % 200;
        // From every byte high to one in 256: mostly-ASCII blocks take the word test's skip.
        let rare = 1 << (round % 9);
        let b: Vec<u8> = (0..len)
            .map(|_| {
                if next().is_multiple_of(rare) {
                    (0x80 + next() % 0x50) as u8
                } else {
                    (next() % 0x80) as u8
                }
            })
            .collect();
        let from = if len == 0 { 0 } else { round % (len + 1) };
        for lim in [0xC5, 0xCC, 0xCF] {
            let want = b
                .get(from..)
                .and_then(|r| r.iter().position(|&x| x >= lim))
                .map(|k| from + k);
            assert_eq!(
                super::first_at_least(&b, from, lim),
                want,
                "{b:?} {from} {lim}"
            );
        }
    }
    assert_eq!(super::first_at_least(b"abc", 4, 0x80), None);
}

/// Tables over the 256 bytes (id = byte) plus `extra` tokens (ids 256…, spelled as bytes) and
/// `merges` `(left, right, merged)` in rank order.
fn tiny_tables(extra: &[&[u8]], merges: &[(u32, u32, u32)]) -> super::model::Tables {
    let mut tokens: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b]).collect();
    tokens.extend(extra.iter().map(|t| t.to_vec()));
    let n = tokens.len();
    super::model::Tables::build(&tokens, vec![false; n], &vec![true; n], merges, false)
        .expect("tables")
}

/// A word's merges start from a character's token only where the steal rules allow it: not
/// when a neighbour takes one of the character's bytes first, nor when a neighbour merges with
/// the finished token at a rank below its assembly's (another merge around it would then come
/// out in another order); the results equal BPE from the bytes in each case.
#[test]
fn characters_fold_only_where_no_neighbour_can_take_a_byte_or_the_token() {
    const E: u32 = 256; // é = C3 A9
    let char_token = |t: &super::model::Tables| {
        let mut ids = Vec::new();
        t.merge("é".as_bytes(), &mut ids);
        let page = usize::from(t.char_pages.get(0xE9 >> 6).copied().unwrap_or(0));
        let folded = page
            .checked_sub(1)
            .map(|p| t.char_ids[p * 64 + (0xE9 & 63)]);
        (ids, folded)
    };
    let encode = |t: &super::model::Tables, w: &str| {
        let mut ids = Vec::new();
        t.merge(w.as_bytes(), &mut ids);
        ids
    };
    // Nothing around é merges with its bytes or with it: it folds.
    let t = tiny_tables(&[b"\xC3\xA9"], &[(0xC3, 0xA9, E)]);
    assert_eq!(char_token(&t), (vec![E], Some(E)));
    assert_eq!(encode(&t, "xé"), [u32::from(b'x'), E]);

    // x + C3 at rank 0, before é assembles at rank 1: "xé" is [xÃ, ©], so é must not fold.
    let t = tiny_tables(
        &[b"\xC3\xA9", b"x\xC3"],
        &[(u32::from(b'x'), 0xC3, E + 1), (0xC3, 0xA9, E)],
    );
    assert_eq!(char_token(&t), (vec![E], None));
    assert_eq!(encode(&t, "xé"), [E + 1, 0xA9]);

    // x + é at rank 0, y + x at 1, é assembles at 2. From the bytes "yxé" is (y,x) then é:
    // [yx, é]; starting from é, (x,é) would come first: [y, xé]. So é must not fold.
    let (x, y) = (u32::from(b'x'), u32::from(b'y'));
    let t = tiny_tables(
        &[b"\xC3\xA9", b"x\xC3\xA9", b"yx"],
        &[(x, E, E + 1), (y, x, E + 2), (0xC3, 0xA9, E)],
    );
    assert_eq!(char_token(&t), (vec![E], None));
    assert_eq!(encode(&t, "yxé"), [E + 2, E]);
    // Where nothing competes, é and x still merge.
    assert_eq!(encode(&t, "xé"), [E + 1]);

    // é's last byte with a lead byte after it (the next character's) is a steal from the right:
    // "éé" is [C3, ©Ã, ©].
    let t = tiny_tables(
        &[b"\xC3\xA9", b"\xA9\xC3"],
        &[(0xA9, 0xC3, E + 1), (0xC3, 0xA9, E)],
    );
    assert_eq!(char_token(&t), (vec![E], None));
    assert_eq!(encode(&t, "éé"), [0xC3, E + 1, 0xA9]);
    // With a continuation byte after it, it is not: no character starts with one, so é folds.
    let t = tiny_tables(
        &[b"\xC3\xA9", b"\xA9\x80"],
        &[(0xA9, 0x80, E + 1), (0xC3, 0xA9, E)],
    );
    assert_eq!(char_token(&t), (vec![E], Some(E)));
    let mut ids = Vec::new();
    t.merge(b"\xC3\xA9\x80", &mut ids);
    assert_eq!(
        ids,
        [0xC3, E + 1],
        "bytes that are not text are merged from their bytes"
    );
    // The bytes of a word need not be text: after a lone lead byte, é is not started from.
    let t2 = tiny_tables(
        &[b"\xC3\xA9", b"\xE6\xC3"],
        &[(0xE6, 0xC3, E + 1), (0xC3, 0xA9, E)],
    );
    assert_eq!(char_token(&t2).1, Some(E));
    let mut ids = Vec::new();
    t2.merge(b"\xE6\xC3\xA9", &mut ids);
    assert_eq!(ids, [E + 1, 0xA9]);
}
