//! The merge table: pair of ids → (rank, merged id), one `u64` a slot.
//!
//! Why packed: on a first pass over new text nearly every lookup outside the pair grid is a
//! cache miss, and under an 8 MiB last-level-cache model the 16-byte slots of the table this
//! replaced (8 MiB for Llama-3's 280k merges) took 142k misses of a multilingual pass where
//! Hugging Face's ~4.4 MiB perfect hash took 78k. Here a slot holds the pair's key *quotient*
//! (the hash is a bijection on the key's bits; its top bits are the home slot's index, the
//! rest is stored), the slot's displacement from home, the rank and the merged id — half the
//! bytes.
//!
//! Layout of a slot, high bits to low: quotient (`2·id_bits − cap_bits` bits), tag (8 bits:
//! displacement + 1, so no full slot is 0), rank (`rank_bits`), merged id (`id_bits`). An empty
//! slot is 0. Linear probing; a table whose bits do not fit 64, or whose probe runs would
//! need a displacement over [`MAX_DISP`], is refused (the tokenizer then keeps Hugging Face's
//! engine alone; every lineup tokenizer builds — the engine tests load them all — and the
//! widest, gpt-oss, needs 61 bits).

/// Largest displacement a tag records (tag = displacement + 1 ≤ 255).
const MAX_DISP: u64 = 254;
const TAG_BITS: u32 = 8;
/// Largest table: 2^26 slots (512 MiB), far past any vocabulary's merges.
const MAX_CAP_BITS: u32 = 26;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PairTable {
    /// A power of two ≥ 16 slots.
    slots: Vec<u64>,
    id_bits: u32,
    rank_bits: u32,
    cap_bits: u32,
    // Derived from the three above (not stored), so that a lookup computes nothing twice.
    /// Bits of a key, `2·id_bits`.
    key_mask: u64,
    /// Bits of the quotient, `2·id_bits − cap_bits`.
    quotient_bits: u32,
    /// Bits below the tag, `rank_bits + id_bits`.
    low_bits: u32,
}

/// Bits to write every value below `n` (at least 1).
fn bits_below(n: u64) -> u32 {
    (64 - n.saturating_sub(1).leading_zeros()).max(1)
}

impl PairTable {
    /// The table of `merges` (in rank order, `(left, right, merged)`, every id below
    /// `id_space`), at most 3/4 full. `Err` if a pair is listed twice or the ids do not pack.
    pub(crate) fn build(id_space: usize, merges: &[(u32, u32, u32)]) -> Result<Self, String> {
        let id_bits = bits_below(id_space as u64);
        let rank_bits = bits_below(merges.len() as u64);
        let wanted = (merges.len() * 4 / 3 + 1)
            .next_power_of_two()
            .max(16)
            .trailing_zeros();
        let mut t = PairTable::empty(id_bits, rank_bits, wanted)?;
        let mask = t.slots.len() - 1;
        for (rank, &(a, b, merged)) in merges.iter().enumerate() {
            if [a, b, merged].iter().any(|&id| id as usize >= id_space) {
                return Err("merge id out of range".into());
            }
            if t.get(a, b) != u64::MAX {
                return Err(format!("merge {a} {b} is listed twice"));
            }
            let (home, high) = t.home(a, b);
            let free = (0..=MAX_DISP)
                .find(|&d| t.slots[(home + d as usize) & mask] == 0)
                .ok_or("merge table probe run too long")?;
            t.slots[(home + free as usize) & mask] =
                (high + free) << t.low_bits | t.value(rank as u64, merged);
        }
        Ok(t)
    }

    /// An empty table of at least `2^cap_bits` slots (more if the slot bits need it, fewer if
    /// the keys are fewer).
    fn empty(id_bits: u32, rank_bits: u32, cap_bits: u32) -> Result<Self, String> {
        let key_bits = 2 * id_bits;
        let too_large = || Err("vocabulary too large for the pair table".to_string());
        if key_bits > 48 || rank_bits > 32 {
            return too_large();
        }
        // Never more slots than keys; a larger table frees quotient bits.
        let mut cap_bits = cap_bits.min(key_bits);
        while key_bits - cap_bits + TAG_BITS + rank_bits + id_bits > 64 {
            cap_bits += 1;
        }
        if cap_bits > MAX_CAP_BITS {
            return too_large();
        }
        Ok(PairTable {
            slots: vec![0; 1 << cap_bits],
            id_bits,
            rank_bits,
            cap_bits,
            key_mask: (1 << key_bits) - 1,
            quotient_bits: key_bits - cap_bits,
            low_bits: rank_bits + id_bits,
        })
    }

    /// The home slot of `(a, b)` and the high part of its slot value at displacement 0
    /// (quotient, tag 1), shifted down by `low_bits`. Multiplying by an odd constant is a
    /// bijection on the key's `2·id_bits` bits, so the product's top bits (well mixed: they
    /// depend on every key bit) pick the slot and its other bits, stored, tell keys apart.
    #[inline]
    fn home(&self, a: u32, b: u32) -> (usize, u64) {
        let key = u64::from(a) << self.id_bits | u64::from(b);
        let x = key.wrapping_mul(0x9E37_79B9_7F4A_7C15) & self.key_mask;
        let quotient = x & ((1 << self.quotient_bits) - 1);
        ((x >> self.quotient_bits) as usize, quotient << TAG_BITS | 1)
    }

    /// What a lookup returns for a merge: `rank << id_bits | merged` — ordered by rank, as the
    /// merge loop compares them.
    #[inline]
    pub(crate) fn value(&self, rank: u64, merged: u32) -> u64 {
        rank << self.id_bits | u64::from(merged)
    }

    /// The merged id of a lookup's value.
    #[inline]
    pub(crate) fn merged(&self, value: u64) -> u32 {
        (value & ((1 << self.id_bits) - 1)) as u32
    }

    /// The rank of a lookup's value.
    #[inline]
    pub(crate) fn rank(&self, value: u64) -> u64 {
        value >> self.id_bits
    }

    /// [`PairTable::value`] of the pair `(a, b)` (ids below the id space), or `u64::MAX`.
    #[inline]
    pub(crate) fn get(&self, a: u32, b: u32) -> u64 {
        let (home, mut want) = self.home(a, b);
        let mask = self.slots.len() - 1;
        let mut s = home & mask;
        for _ in 0..=MAX_DISP {
            let v = self.slots[s];
            if v >> self.low_bits == want {
                return v & ((1 << self.low_bits) - 1);
            }
            if v == 0 {
                break;
            }
            want += 1;
            s = (s + 1) & mask;
        }
        u64::MAX
    }

    /// The stored form: a word of parameters and the slots.
    pub(crate) fn parts(&self) -> (u64, &[u64]) {
        let params = u64::from(self.id_bits)
            | u64::from(self.rank_bits) << 8
            | u64::from(self.cap_bits) << 16;
        (params, &self.slots)
    }

    /// The table from its [`PairTable::parts`], checked: parameters that pack, the length they
    /// give, every merged id below `id_space`, no full slot with tag 0, and an empty slot (so
    /// that lookups of absent pairs end). A damaged slot that passes this can only give wrong
    /// ids in range; the stored form's checksum is what catches damage.
    pub(crate) fn from_parts(
        params: u64,
        slots: Vec<u64>,
        id_space: usize,
    ) -> Result<Self, String> {
        let (id_bits, rank_bits, cap_bits) = (
            (params & 0xFF) as u32,
            (params >> 8 & 0xFF) as u32,
            (params >> 16 & 0xFF) as u32,
        );
        let bad = || Err("pair table".to_string());
        if params >> 24 != 0
            || id_bits != bits_below(id_space as u64)
            || cap_bits > MAX_CAP_BITS
            || slots.len() != 1 << cap_bits
        {
            return bad();
        }
        let Ok(mut t) = PairTable::empty(id_bits, rank_bits, cap_bits) else {
            return bad();
        };
        if t.cap_bits != cap_bits || slots.len() != t.slots.len() {
            return bad();
        }
        t.slots = slots;
        let low = t.low_bits;
        let id_mask = (1u64 << id_bits) - 1;
        let tag = |v: u64| (v >> low) & 0xFF;
        if !t.slots.contains(&0)
            || t.slots
                .iter()
                .any(|&v| v != 0 && (tag(v) == 0 || (v & id_mask) as usize >= id_space))
        {
            return bad();
        }
        Ok(t)
    }

    /// Bytes the slots take.
    #[cfg(test)]
    pub(crate) fn size_bytes(&self) -> usize {
        self.slots.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pairs over a vocabulary of `n`: every third pair of a pseudo-random walk, merged ids
    /// distinct, in rank order.
    fn merges(n: u32, count: usize) -> Vec<(u32, u32, u32)> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        while out.len() < count {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let (a, b) = ((x % u64::from(n)) as u32, ((x >> 32) % u64::from(n)) as u32);
            if seen.insert((a, b)) {
                out.push((a, b, (out.len() as u32 * 7 + 3) % n));
            }
        }
        out
    }

    #[test]
    fn finds_every_merge_and_nothing_else_at_lineup_sizes() {
        // (vocabulary, merges): gpt2, Qwen3, Llama-3 (redundant merges from tiktoken), gpt-oss,
        // Qwen3.5 — and a tiny one.
        for (n, count) in [
            (50_257, 50_000),
            (151_669, 151_387),
            (128_256, 280_147),
            (201_088, 199_998),
            (248_320, 247_587),
            (300, 40),
        ] {
            let m = merges(n, count);
            let t = PairTable::build(n as usize, &m).expect("packs");
            for (rank, &(a, b, merged)) in m.iter().enumerate() {
                let v = t.get(a, b);
                assert_eq!((t.rank(v), t.merged(v)), (rank as u64, merged));
            }
            let listed: std::collections::HashSet<(u32, u32)> =
                m.iter().map(|&(a, b, _)| (a, b)).collect();
            let mut x = 77u64;
            for _ in 0..200_000 {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let (a, b) = ((x >> 20) as u32 % n, (x >> 40) as u32 % n);
                if !listed.contains(&(a, b)) {
                    assert_eq!(t.get(a, b), u64::MAX, "{a} {b}");
                }
            }
            // Half the bytes of a 16-byte-slot table of the same capacity.
            assert_eq!(t.size_bytes(), t.slots.len() * 8);
            let (params, slots) = t.parts();
            let back =
                PairTable::from_parts(params, slots.to_vec(), n as usize).expect("reads back");
            assert_eq!(back, t);
        }
    }

    #[test]
    fn refuses_a_pair_listed_twice_and_ids_out_of_range() {
        let e = PairTable::build(10, &[(1, 2, 3), (1, 2, 4)]).unwrap_err();
        assert!(e.contains("listed twice"), "{e}");
        assert!(PairTable::build(10, &[(1, 12, 3)]).is_err());
        assert!(PairTable::build(1 << 25, &[(1, 2, 3)]).is_err());
    }

    #[test]
    fn a_damaged_stored_table_is_refused() {
        let t = PairTable::build(1000, &merges(1000, 500)).expect("packs");
        let (params, good) = t.parts();
        let read = |p: u64, s: &[u64], n: usize| PairTable::from_parts(p, s.to_vec(), n);
        assert!(read(params, good, 1000).is_ok());
        // Another id space, a wrong length, unknown parameter bits.
        assert!(read(params, good, 5000).is_err());
        assert!(read(params, &good[1..], 1000).is_err());
        assert!(read(params | 1 << 40, good, 1000).is_err());
        // A full slot with tag 0, a merged id out of range, no empty slot.
        let full = good.iter().position(|&v| v != 0).expect("a full slot");
        let low = t.low_bits;
        let mut w = good.to_vec();
        w[full] &= !(0xFF << low);
        assert!(read(params, &w, 1000).is_err());
        let mut w = good.to_vec();
        w[full] |= (1 << t.id_bits) - 1;
        assert!(read(params, &w, 1000).is_err());
        let w: Vec<u64> = good
            .iter()
            .map(|&v| if v == 0 { 1 << low } else { v })
            .collect();
        assert!(read(params, &w, 1000).is_err());
    }
}
