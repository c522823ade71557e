//! The engine's stored form: the tables as they are in memory, so reading one back is a file
//! read, a checksum and a few conversions — no parsing, hashing or sorting.
//!
//! Layout (integers little-endian): the magic `tinkex-bpe\n`, a `u32` header length and the
//! header (JSON: format version, tinkex version, the store key, the source files' digest, the
//! engine's [`Shape`] and the tokenizer's [`Info`]), then thirteen sections — each a `u64` byte
//! length and the bytes, padded to 8 — holding the token offsets, token bytes, special flags,
//! spelling flags, pair table parameters, pair table slots, vocabulary table, byte ids, pair grid, grid values, character
//! pages, character ids and the vocabulary filter; last a 64-bit checksum of all that precedes
//! it. A file that is short, long, of another version or key, fails the checksum or builds
//! tables that [`super::model::Tables::validate`] rejects is not used.

use serde::{Deserialize, Serialize};

use super::model::{Tables, VocabSlot};
use super::pairs::PairTable;
use super::{BpeEngine, Shape};
use crate::load::hf::Info;
use crate::load::TokenBytes;

const MAGIC: &[u8] = b"tinkex-bpe\n";
/// Bump when the layout, a hash function of [`super::model`] or the meaning of a field changes.
pub(super) const VERSION: u32 = 5;

#[derive(Serialize, Deserialize)]
struct Header {
    version: u32,
    tinkex: String,
    key: String,
    digest: String,
    shape: Shape,
    info: Info,
}

/// A stored engine read back: the engine, the tokenizer's [`Info`] and the digest of the files
/// it was built from (the caller checks it against the files).
pub struct Loaded {
    pub engine: BpeEngine,
    pub info: Info,
    pub digest: String,
}

/// A checksum of `b` (not cryptographic: it catches damage, not malice). Four independent lanes,
/// so that a warm load is not one long chain of multiplications.
fn checksum(b: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut lanes = [0x243F_6A88_85A3_08D3u64 ^ b.len() as u64, 1, 2, 3];
    let mut blocks = b.chunks_exact(32);
    for block in &mut blocks {
        for (lane, c) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            *lane = (*lane ^ u64::from_le_bytes(w))
                .wrapping_mul(K)
                .rotate_left(29);
        }
    }
    let mut h = lanes
        .iter()
        .fold(0u64, |h, &l| (h ^ l).wrapping_mul(K).rotate_left(29));
    for &x in blocks.remainder() {
        h = (h ^ u64::from(x)).wrapping_mul(K);
    }
    h ^ (h >> 31)
}

fn section(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    out.extend_from_slice(bytes);
    out.resize(out.len().next_multiple_of(8), 0);
}

/// `v`'s records as bytes, each converted by `f`.
fn le_bytes<T: Copy, const N: usize>(v: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    v.iter().flat_map(|&x| f(x)).collect()
}

fn u32s(v: &[u32]) -> Vec<u8> {
    le_bytes(v, u32::to_le_bytes)
}

fn bools(v: &[bool]) -> Vec<u8> {
    v.iter().map(|&b| u8::from(b)).collect()
}

/// The stored form of `engine` (with the tokenizer's `info`), for the store entry `key` of files
/// with digest `digest`.
pub fn to_bytes(
    engine: &BpeEngine,
    info: &Info,
    key: &str,
    digest: &str,
) -> Result<Vec<u8>, String> {
    let header = serde_json::to_vec(&Header {
        version: VERSION,
        tinkex: env!("CARGO_PKG_VERSION").into(),
        key: key.into(),
        digest: digest.into(),
        shape: engine.shape.clone(),
        info: info.clone(),
    })
    .map_err(|e| e.to_string())?;
    let t = &engine.tables;
    let (pair_params, pair_slots) = t.pairs.parts();
    let mut out =
        Vec::with_capacity(pair_slots.len() * 8 + t.tokens.bytes.len() * 2 + header.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(
        &u32::try_from(header.len())
            .map_err(|e| e.to_string())?
            .to_le_bytes(),
    );
    out.extend_from_slice(&header);
    out.resize(out.len().next_multiple_of(8), 0);
    section(&mut out, &u32s(&t.tokens.offsets));
    section(&mut out, &t.tokens.bytes);
    section(&mut out, &bools(&t.tokens.special));
    section(&mut out, &bools(&engine.raw_spelling));
    section(&mut out, &pair_params.to_le_bytes());
    section(&mut out, &le_bytes(pair_slots, u64::to_le_bytes));
    section(
        &mut out,
        &le_bytes(&t.vocab, |s| {
            let mut b = [0u8; 16];
            b[..8].copy_from_slice(&s.key.to_le_bytes());
            b[8..12].copy_from_slice(&s.off.to_le_bytes());
            b[12..].copy_from_slice(&s.meta.to_le_bytes());
            b
        }),
    );
    section(&mut out, &u32s(&t.byte_ids));
    section(&mut out, &le_bytes(&t.grid, u16::to_le_bytes));
    section(&mut out, &le_bytes(&t.grid_values, u64::to_le_bytes));
    section(&mut out, &le_bytes(&t.char_pages, u16::to_le_bytes));
    section(&mut out, &u32s(&t.char_ids));
    section(&mut out, &le_bytes(&t.vocab_filter, u64::to_le_bytes));
    let sum = checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    Ok(out)
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len());
        let s = end.map(|e| &self.b[self.at..e]).ok_or("truncated")?;
        self.at = end.unwrap_or(self.at);
        Ok(s)
    }

    fn align(&mut self) {
        self.at = self.at.next_multiple_of(8).min(self.b.len());
    }

    fn section(&mut self) -> Result<&'a [u8], String> {
        let mut len = [0u8; 8];
        len.copy_from_slice(self.take(8)?);
        let len = usize::try_from(u64::from_le_bytes(len)).map_err(|_| "section length")?;
        let s = self.take(len)?;
        self.align();
        Ok(s)
    }

    /// A section of fixed-size records, each converted by `f`.
    fn records<const N: usize, T>(&mut self, f: impl Fn([u8; N]) -> T) -> Result<Vec<T>, String> {
        let s = self.section()?;
        if !s.len().is_multiple_of(N) {
            return Err("section length".into());
        }
        let mut rec = [0u8; N];
        Ok(s.chunks_exact(N)
            .map(|c| {
                rec.copy_from_slice(c);
                f(rec)
            })
            .collect())
    }

    fn u32s(&mut self) -> Result<Vec<u32>, String> {
        self.records(u32::from_le_bytes)
    }

    fn vocab(&mut self) -> Result<Vec<VocabSlot>, String> {
        self.records(|c: [u8; 16]| {
            let [k0, k1, k2, k3, k4, k5, k6, k7, o0, o1, o2, o3, m0, m1, m2, m3] = c;
            VocabSlot {
                key: u64::from_le_bytes([k0, k1, k2, k3, k4, k5, k6, k7]),
                off: u32::from_le_bytes([o0, o1, o2, o3]),
                meta: u32::from_le_bytes([m0, m1, m2, m3]),
            }
        })
    }

    fn bools(&mut self) -> Result<Vec<bool>, String> {
        self.section()?
            .iter()
            .map(|&b| match b {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err("flag".to_string()),
            })
            .collect()
    }
}

/// Reads a stored form back; `Err` says why it cannot be used (then it is rebuilt).
pub fn from_bytes(b: &[u8], key: &str) -> Result<Loaded, String> {
    let body_len = b.len().checked_sub(8).ok_or("truncated")?;
    if !b.starts_with(MAGIC) {
        return Err("not a stored engine".into());
    }
    let mut sum = [0u8; 8];
    sum.copy_from_slice(&b[body_len..]);
    if checksum(&b[..body_len]) != u64::from_le_bytes(sum) {
        return Err("checksum mismatch".into());
    }
    let mut r = Reader {
        b: &b[..body_len],
        at: MAGIC.len(),
    };
    let mut len = [0u8; 4];
    len.copy_from_slice(r.take(4)?);
    let header: Header = serde_json::from_slice(r.take(u32::from_le_bytes(len) as usize)?)
        .map_err(|e| format!("header: {e}"))?;
    if header.version != VERSION || header.tinkex != env!("CARGO_PKG_VERSION") {
        return Err("another version".into());
    }
    if header.key != key {
        return Err("another entry".into());
    }
    r.align();
    let offsets = r.u32s()?;
    let bytes = r.section()?.to_vec();
    let special = r.bools()?;
    let raw_spelling = r.bools()?;
    let pair_params = r.records(u64::from_le_bytes)?;
    let [pair_params] = pair_params[..] else {
        return Err("pair table parameters".into());
    };
    let pairs = PairTable::from_parts(
        pair_params,
        r.records(u64::from_le_bytes)?,
        offsets.len().saturating_sub(1),
    )?;
    let tables = Tables {
        tokens: TokenBytes {
            bytes,
            offsets,
            special,
        },
        pairs,
        vocab: r.vocab()?,
        byte_ids: r.u32s()?,
        grid: r.records(u16::from_le_bytes)?,
        grid_values: r.records(u64::from_le_bytes)?,
        char_pages: r.records(u16::from_le_bytes)?,
        char_ids: r.u32s()?,
        vocab_filter: r.records(u64::from_le_bytes)?,
    };
    if r.at != body_len {
        return Err("trailing data".into());
    }
    let info = &header.info;
    if info.id_space as usize != tables.len() {
        return Err("id space".into());
    }
    // What the tokenizer indexes by id must cover the id space (a checksum catches damage,
    // not a file written to fool it; this keeps such a file from making lookups panic).
    let words = (info.id_space as usize).div_ceil(64);
    if info.holes.as_ref().is_some_and(|h| h.len() != words)
        || info.added.iter().any(|(_, id, _)| *id >= info.id_space)
    {
        return Err("tokenizer facts do not fit the id space".into());
    }
    let engine = BpeEngine::assemble(tables, header.shape, raw_spelling)?;
    Ok(Loaded {
        engine,
        info: header.info,
        digest: header.digest,
    })
}

/// Test support: a stored form whose header JSON was edited in place (its length field not),
/// re-laid out with the right header length, padding and checksum — so that a test sees the
/// field refused, not the damage.
#[cfg(test)]
pub(super) fn reseal_for_test(edited: &[u8]) -> Vec<u8> {
    let start = MAGIC.len() + 4;
    let old_len = u32::from_le_bytes(edited[MAGIC.len()..start].try_into().expect("len")) as usize;
    let mut de =
        serde_json::Deserializer::from_slice(&edited[start..]).into_iter::<serde_json::Value>();
    let header = de.next().and_then(|r| r.ok()).expect("header");
    let new_len = de.byte_offset();
    let sections_at = (start + old_len).next_multiple_of(8) + new_len - old_len;
    let header_bytes = serde_json::to_vec(&header).expect("json");
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&(header_bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(&header_bytes);
    out.resize(out.len().next_multiple_of(8), 0);
    out.extend_from_slice(&edited[sections_at..edited.len() - 8]);
    let sum = checksum(&out);
    out.extend_from_slice(&sum.to_le_bytes());
    out
}
