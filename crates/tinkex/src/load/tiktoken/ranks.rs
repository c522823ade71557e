//! `tiktoken.model`, the rank file: parsing (strictly), and the token bytes → rank map every BPE
//! merge step looks up.

use std::path::Path;

use rustc_hash::FxHashMap;

use super::TiktokenEngine;
use crate::error::{Error, Result};

/// Token bytes → rank, the lookup every BPE merge step makes. Tokens of up to 7 bytes (nearly
/// every pair the merge loop asks about) are keys packed into a `u64` — the bytes, then the
/// length in the top byte — so a lookup hashes one word and follows no pointer. Longer tokens
/// are ranks in a table compared against `bytes[offsets[rank]..]`, the engine's own copy of
/// the token bytes, so loading allocates nothing per token.
#[derive(Default)]
pub(super) struct RankMap {
    short: FxHashMap<u64, u32>,
    long: hashbrown::HashTable<u32>,
}

impl RankMap {
    pub(super) fn with_capacity(n: usize) -> Self {
        RankMap {
            short: FxHashMap::with_capacity_and_hasher(n, Default::default()),
            long: hashbrown::HashTable::with_capacity(n / 2),
        }
    }

    #[inline]
    fn pack(token: &[u8]) -> Option<u64> {
        if token.len() > 7 {
            return None;
        }
        let mut key = [0u8; 8];
        key[..token.len()].copy_from_slice(token);
        key[7] = token.len() as u8;
        Some(u64::from_le_bytes(key))
    }

    #[inline]
    fn hash_long(token: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        rustc_hash::FxBuildHasher.hash_one(token)
    }

    #[inline]
    fn token<'a>(rank: u32, bytes: &'a [u8], offsets: &[u32]) -> &'a [u8] {
        let start = offsets.get(rank as usize).copied().unwrap_or(0) as usize;
        let end = offsets.get(rank as usize + 1).copied().unwrap_or(0) as usize;
        bytes.get(start..end).unwrap_or(&[])
    }

    /// The rank of `token`; `bytes`/`offsets` are the ones the map was built with.
    #[inline]
    pub(super) fn get(&self, token: &[u8], bytes: &[u8], offsets: &[u32]) -> Option<u32> {
        match Self::pack(token) {
            Some(key) => self.short.get(&key).copied(),
            None => self
                .long
                .find(Self::hash_long(token), |&r| {
                    Self::token(r, bytes, offsets) == token
                })
                .copied(),
        }
    }

    /// Adds `token` with `rank` (whose bytes `bytes`/`offsets` already hold); the rank it
    /// already had, if any, in which case nothing changes.
    pub(super) fn insert(
        &mut self,
        token: &[u8],
        rank: u32,
        bytes: &[u8],
        offsets: &[u32],
    ) -> Option<u32> {
        match Self::pack(token) {
            Some(key) => match self.short.entry(key) {
                std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(rank);
                    None
                }
            },
            None => {
                let hash = Self::hash_long(token);
                let eq = |&r: &u32| Self::token(r, bytes, offsets) == token;
                if let Some(&other) = self.long.find(hash, eq) {
                    return Some(other);
                }
                self.long.insert_unique(hash, rank, |&r| {
                    Self::hash_long(Self::token(r, bytes, offsets))
                });
                None
            }
        }
    }
}

pub(super) struct BaseVocab {
    pub(super) num_tokens: u32,
    pub(super) ranks: RankMap,
    pub(super) bytes: Vec<u8>,
    /// `num_tokens + 1` entries.
    pub(super) offsets: Vec<u32>,
}

/// Parses `tiktoken.model`: `base64 rank` a line (blank lines ignored, `\r\n` accepted).
pub(super) fn parse_rank_file(data: &[u8], path: &Path) -> Result<BaseVocab> {
    // (rank, start, end) into `raw`.
    let mut entries: Vec<(u32, u32, u32)> = Vec::new();
    let mut raw: Vec<u8> = Vec::with_capacity(data.len());
    for (line_no, line) in data.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let line_no = line_no + 1;
        let mut fields = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|f| !f.is_empty());
        let (Some(token), Some(rank), None) = (fields.next(), fields.next(), fields.next()) else {
            return Err(Error::parse(
                path,
                format!("line {line_no}: expected `<base64 token> <rank>`"),
            ));
        };
        let rank = std::str::from_utf8(rank)
            .ok()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u32>().ok())
            .ok_or_else(|| {
                Error::parse(
                    path,
                    format!(
                        "line {line_no}: rank {:?} is not a non-negative 32-bit integer",
                        String::from_utf8_lossy(rank)
                    ),
                )
            })?;
        let start = raw.len();
        decode_base64(token, &mut raw).map_err(|msg| {
            Error::parse(path, format!("line {line_no}: bad base64 token: {msg}"))
        })?;
        if raw.len() == start {
            return Err(Error::parse(path, format!("line {line_no}: empty token")));
        }
        let too_big = || Error::parse(path, "the rank file holds more than 4 GiB of tokens");
        let start = u32::try_from(start).map_err(|_| too_big())?;
        let end = u32::try_from(raw.len()).map_err(|_| too_big())?;
        entries.push((rank, start, end));
    }
    if entries.is_empty() {
        return Err(Error::parse(path, "no tokens (empty rank file)"));
    }
    let num_tokens =
        u32::try_from(entries.len()).map_err(|_| Error::parse(path, "more than 2^32 tokens"))?;

    // Ranks must be exactly 0..N: Kimi numbers the special ids from N = number of lines.
    let mut seen = vec![false; entries.len()];
    for &(rank, _, _) in &entries {
        match seen.get_mut(rank as usize) {
            Some(s) if *s => {
                return Err(Error::parse(path, format!("rank {rank} appears twice")));
            }
            Some(s) => *s = true,
            None => {
                return Err(Error::parse(
                    path,
                    format!(
                        "rank {rank} is out of range: the {num_tokens} tokens must have ranks \
                         0..{num_tokens} (Kimi numbers its special ids from the token count)"
                    ),
                ));
            }
        }
    }
    if !entries.is_sorted_by_key(|e| e.0) {
        entries.sort_unstable_by_key(|e| e.0);
    }

    let mut bytes = Vec::with_capacity(raw.len());
    let mut offsets = Vec::with_capacity(entries.len() + 1);
    offsets.push(0u32);
    // Entries are sorted by rank and ranks are exactly 0..N (checked above), so `bytes` and
    // `offsets` are indexed by rank.
    for &(_, start, end) in &entries {
        bytes.extend_from_slice(&raw[start as usize..end as usize]);
        // `bytes` is no longer than `raw`, whose length fits in u32.
        offsets.push(bytes.len() as u32);
    }
    let mut ranks = RankMap::with_capacity(entries.len());
    for &(rank, start, end) in &entries {
        let token = &raw[start as usize..end as usize];
        if let Some(other) = ranks.insert(token, rank, &bytes, &offsets) {
            return Err(Error::parse(
                path,
                format!("token {token:?} appears twice (ranks {other} and {rank})"),
            ));
        }
    }
    for b in 0..=255u8 {
        if ranks.get(&[b], &bytes, &offsets).is_none() {
            return Err(Error::parse(
                path,
                format!(
                    "byte 0x{b:02x} has no token: a tiktoken vocabulary must contain all 256 \
                     single bytes"
                ),
            ));
        }
    }
    Ok(BaseVocab {
        num_tokens,
        ranks,
        bytes,
        offsets,
    })
}

/// Strict standard base64 (RFC 4648 alphabet, `=` padding), as tiktoken writes rank files.
fn decode_base64(input: &[u8], out: &mut Vec<u8>) -> std::result::Result<(), String> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode_vec(input, out)
        .map_err(|e| e.to_string())
}

impl TiktokenEngine {
    #[inline]
    pub(super) fn rank(&self, bytes: &[u8]) -> Option<u32> {
        self.ranks.get(bytes, &self.bytes, &self.offsets)
    }

    #[inline]
    pub(super) fn rank_of(&self, bytes: &[u8]) -> u32 {
        self.rank(bytes).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;

    #[test]
    fn malformed_rank_files_are_errors() {
        let good = String::from_utf8(tiny_model(&[])).unwrap();
        assert!(
            TiktokenEngine::from_parts(good.as_bytes(), None, None, None, Path::new("t")).is_ok()
        );
        assert!(parse_err(b"").contains("empty"));
        assert!(parse_err(b"\n\n").contains("empty"));
        assert!(parse_err(b"QQ== \n").contains("line 1"));
        assert!(parse_err(b"QQ==\n").contains("line 1"));
        assert!(parse_err(b"QQ== 0 1\n").contains("line 1"));
        assert!(parse_err(b"QQ== x\n").contains("rank"));
        assert!(parse_err(b"QQ== -1\n").contains("rank"));
        assert!(parse_err(b"QQ== 99999999999\n").contains("rank"));
        assert!(parse_err(b"Q!== 0\n").contains("base64"));
        assert!(parse_err(b"QQ= 0\n").contains("base64"));
        assert!(parse_err(b"Q=Q= 0\n").contains("base64"));
        assert!(parse_err(b"QQ===== 0\n").contains("base64"));
        assert!(parse_err(b"\xff\xfe 0\n").contains("base64"));
        // Duplicate rank, rank gap, duplicate token, missing single byte.
        assert!(parse_err(format!("{good}YWI= 5\n").as_bytes()).contains("twice"));
        assert!(parse_err(format!("{good}YWI= 300\n").as_bytes()).contains("out of range"));
        assert!(parse_err(format!("{good}QQ== 256\n").as_bytes()).contains("twice"));
        let no_a: String = good
            .lines()
            .filter(|l| *l != "QQ== 65")
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(parse_err(no_a.replace(" 255\n", " 65\n").as_bytes()).contains("0x41"));
        // CRLF line ends and blank lines are fine.
        let crlf = good.replace('\n', "\r\n\n");
        assert!(
            TiktokenEngine::from_parts(crlf.as_bytes(), None, None, None, Path::new("t")).is_ok()
        );
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            #[test]
            fn short_arbitrary_rank_files_are_parse_errors(data in proptest::collection::vec(any::<u8>(), 0..400)) {
                // Fewer than 400 bytes cannot hold the 256 single-byte tokens a rank file needs.
                match TiktokenEngine::from_parts(&data, None, None, None, Path::new("t")) {
                    Err(Error::Parse { path, .. }) => prop_assert!(path.ends_with("tiktoken.model")),
                    Err(other) => prop_assert!(false, "not a parse error: {other}"),
                    Ok(e) => prop_assert!(false, "loaded {} tokens from {} bytes", e.num_base_tokens(), data.len()),
                }
            }
        }
    }
}
