//! A word cache per thread and engine, in three tables, each holding a word's bytes with its ids
//! (no pointers to chase for the first two, no comparison calls):
//!
//! - words of up to 16 bytes with up to 3 ids (nearly all of English): 64k open-addressing slots
//!   of 32 bytes (2 MiB, a core's L2 on the benchmark machine; the lookup's memory read was a
//!   quarter of encode time with 48-byte slots in a 3 MiB table), four probes, prefetched; a
//!   short ASCII word with more ids has a marker here pointing to the other tables;
//! - up to 24 bytes with up to 9 ids: 64k two-way slots of 64 bytes (4 MiB; multilingual text
//!   has ~30k such words in 2 MB, and a 16k direct-mapped table re-merged half of them on every
//!   pass);
//! - up to 256 bytes (Hugging Face's limit), any ids: 16k direct-mapped slots, the words' bytes
//!   and ids in two rings (1 MiB each) that the newest words overwrite the oldest in.
//!
//! Lossy: a word whose slots are taken replaces the word in its home slot. Per thread so that
//! encoding takes no lock.

use std::cell::RefCell;

use super::model::word;

/// Longest word cached, in bytes.
pub(crate) const MAX_WORD: usize = 16;
pub(crate) const MAX_IDS: usize = 3;
const SLOTS: usize = 1 << 16;
const PROBE: usize = 4;
/// Caches one thread keeps (one per engine it encoded with last).
const PER_THREAD: usize = 4;

/// A word's bytes (zero-padded into `K` words) and its ids (up to `I`), inline.
#[derive(Clone, Copy)]
#[repr(C)]
struct Entry<const K: usize, const I: usize> {
    key: [u64; K],
    ids: [u32; I],
    /// Word length; 0 = empty.
    len: u8,
    /// Id count.
    n: u8,
}

impl<const K: usize, const I: usize> Entry<K, I> {
    const EMPTY: Self = Entry {
        key: [0; K],
        ids: [0; I],
        len: 0,
        n: 0,
    };

    #[inline]
    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether this holds the word of `len` bytes whose key is `key`.
    #[inline]
    fn holds(&self, key: &[u64; K], len: usize) -> bool {
        usize::from(self.len) == len && self.key == *key
    }

    #[inline]
    fn ids(&self) -> Option<&[u32]> {
        self.ids.get(..usize::from(self.n))
    }

    /// Holds the word of `len` (< 256) bytes with key `key` and its `ids` (at most `I`) from now.
    #[inline]
    fn set(&mut self, key: &[u64; K], len: usize, ids: &[u32]) {
        if let Some(dst) = self.ids.get_mut(..ids.len()) {
            dst.copy_from_slice(ids);
            self.key = *key;
            self.len = len as u8;
            self.n = ids.len() as u8;
        }
    }
}

/// A first-table slot: 32 bytes, aligned so that none straddles a cache line.
#[derive(Clone, Copy)]
#[repr(C, align(32))]
struct Slot(Entry<2, MAX_IDS>);

const _: () = assert!(size_of::<Slot>() == 32 && size_of::<LongSlot>() == 64);

pub(crate) struct WordCache {
    slots: Box<[Slot]>,
    long: Box<[LongSlot]>,
    big: BigTable,
}

/// Longest word cached at all (in the third table), in bytes; Hugging Face's limit too.
pub(crate) const MAX_BIG_WORD: usize = 256;
const FIRST_BIG: usize = MAX_LONG_WORD + 1;
const BIG_SLOTS: usize = 1 << 14;

/// A third-table slot: where its word's bytes and ids are in the rings ([`Ring`]), and their
/// lengths; length 0 = empty.
#[derive(Clone, Copy, Default)]
struct BigSlot {
    bytes_at: u64,
    ids_at: u64,
    len: u16,
    n: u16,
}

/// Bytes of third-table words a cache keeps (the oldest are overwritten).
const BIG_BYTES: usize = 1 << 20;
/// Ids of third-table words a cache keeps.
const BIG_IDS: usize = 1 << 18;

/// The third table's storage: records appended in turn, each contiguous (a record that would
/// cross the end starts again at the beginning), addressed by their position in the stream of
/// everything ever appended, so that a slot can tell when its record has been overwritten.
/// It replaced two heap allocations per word (and a free of the word it displaced): fixed memory,
/// allocated once per cache.
struct Ring<T> {
    buf: Box<[T]>,
    /// Stream position of the next record.
    head: u64,
}

impl<T: Copy + Default> Ring<T> {
    fn new(len: usize) -> Self {
        Ring {
            buf: vec![T::default(); len].into_boxed_slice(),
            head: 0,
        }
    }

    /// Appends `data`; its stream position (`None` if longer than the ring).
    fn push(&mut self, data: &[T]) -> Option<u64> {
        let cap = self.buf.len() as u64;
        let mut at = self.head;
        if (at % cap) as usize + data.len() > self.buf.len() {
            at = at.next_multiple_of(cap);
        }
        let off = (at % cap) as usize;
        self.buf
            .get_mut(off..off + data.len())?
            .copy_from_slice(data);
        self.head = at + data.len() as u64;
        Some(at)
    }

    /// The record of `len` at stream position `at`, if nothing has been written over it since:
    /// a later write reaches its cells only once the stream has passed `at` by the ring's
    /// length.
    fn get(&self, at: u64, len: usize) -> Option<&[T]> {
        let cap = self.buf.len() as u64;
        if self.head.checked_sub(at)? > cap {
            return None;
        }
        let off = (at % cap) as usize;
        self.buf.get(off..off + len)
    }
}

/// The third table for words of 25–[`MAX_BIG_WORD`] bytes (and shorter ones with more ids than
/// a second-table slot holds), direct-mapped, bytes and ids in rings. Such words are rare in
/// English but common in multilingual text (runs of CJK or Thai, long Cyrillic words):
/// uncached, each was merged again on every sight, its merge dozens of pair reads from a table
/// far larger than the CPU cache (40% of a warm multilingual Llama-3 pass).
struct BigTable {
    slots: Box<[BigSlot]>,
    bytes: Ring<u8>,
    ids: Ring<u32>,
}

impl BigTable {
    fn new() -> Self {
        BigTable {
            slots: vec![BigSlot::default(); BIG_SLOTS].into_boxed_slice(),
            bytes: Ring::new(BIG_BYTES),
            ids: Ring::new(BIG_IDS),
        }
    }

    #[inline]
    fn get(&self, w: &[u8]) -> Option<&[u32]> {
        let slot = self.slots.get(big_home(w))?;
        if usize::from(slot.len) != w.len() || w.is_empty() {
            return None;
        }
        if self.bytes.get(slot.bytes_at, w.len())? != w {
            return None;
        }
        self.ids.get(slot.ids_at, usize::from(slot.n))
    }

    fn put(&mut self, w: &[u8], ids: &[u32]) {
        let (Ok(len), Ok(n)) = (u16::try_from(w.len()), u16::try_from(ids.len())) else {
            return;
        };
        let (Some(bytes_at), Some(ids_at)) = (self.bytes.push(w), self.ids.push(ids)) else {
            return;
        };
        if let Some(slot) = self.slots.get_mut(big_home(w)) {
            *slot = BigSlot {
                bytes_at,
                ids_at,
                len,
                n,
            };
        }
    }
}

/// The slot of `w` in the third table: a hash of all its bytes.
#[inline]
fn big_home(w: &[u8]) -> usize {
    let mut h = w.len() as u64;
    let mut chunks = w.chunks_exact(8);
    for c in &mut chunks {
        h = (h.rotate_left(5) ^ word(c)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
    h = (h.rotate_left(5) ^ word(chunks.remainder())).wrapping_mul(0x517c_c1b7_2722_0a95);
    (h >> 40) as usize & (BIG_SLOTS - 1)
}

/// Longest word the second table caches, in bytes.
pub(crate) const MAX_LONG_WORD: usize = 24;
const MAX_LONG_IDS: usize = 9;
const LONG_SLOTS: usize = 1 << 16;

/// The second table's slot, for the words the first cannot hold (17–24 bytes, or 4–9 ids): few in
/// English, but each costs a merge with its cold pair lookups when it misses (~1% of English
/// pieces were a third of the pass before this table). 64 bytes, one cache line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct LongSlot(Entry<3, MAX_LONG_IDS>);

/// The zero-padded bytes of `w` (at most [`MAX_LONG_WORD`]) and its slot in the second table.
#[inline]
fn long_key(w: &[u8]) -> ([u64; 3], usize) {
    let (a, rest) = w.split_at(w.len().min(16));
    let [x, y] = key(a);
    let k = [x, y, word(rest)];
    (k, home(&[k[0] ^ k[2], k[1]], w.len()) & (LONG_SLOTS - 1))
}

/// The cache key of `w` (at most [`MAX_WORD`] bytes): the bytes, zero-padded.
#[inline]
pub(crate) fn key(w: &[u8]) -> [u64; 2] {
    if w.len() <= 8 {
        [word(w), 0]
    } else {
        let (a, b) = w.split_at(8);
        [word(a), word(b)]
    }
}

#[inline]
fn home(k: &[u64; 2], len: usize) -> usize {
    let h = (k[0] ^ (len as u64).rotate_right(8)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let h = (h ^ k[1]).wrapping_mul(0x517c_c1b7_2722_0a95);
    (h >> 40) as usize & (SLOTS - 1)
}

/// `KEEP[n]`: the low `n` bytes of a `u128` (a table: a variable 128-bit shift is many
/// instructions).
const KEEP: [u128; 17] = {
    let mut m = [0u128; 17];
    let mut n = 1;
    while n <= 16 {
        m[n] = u128::MAX >> (128 - 8 * n);
        n += 1;
    }
    m
};

/// A word's key, length and home slot, computed once for its prefetch, lookup and insert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Probe {
    key: [u64; 2],
    len: usize,
    home: usize,
}

impl Probe {
    /// Whether the word is ASCII (its key has no high bit).
    #[inline]
    fn is_ascii(&self) -> bool {
        (self.key[0] | self.key[1]) & 0x8080_8080_8080_8080 == 0
    }

    pub(crate) const EMPTY: Probe = Probe {
        key: [0; 2],
        len: 0,
        home: 0,
    };

    /// The probe of `w`: empty unless it has 2..=[`MAX_WORD`] bytes (one byte needs no cache).
    #[inline]
    pub(crate) fn new(w: &[u8]) -> Probe {
        if !(2..=MAX_WORD).contains(&w.len()) {
            return Probe::EMPTY;
        }
        let key = key(w);
        Probe {
            key,
            len: w.len(),
            home: home(&key, w.len()),
        }
    }

    /// [`Probe::new`] of `text[start..end]`, reading 16 bytes at once where `text` has them (a
    /// piece is usually followed by more text) and masking off what is past the piece.
    #[inline(always)]
    pub(crate) fn at(text: &[u8], start: usize, end: usize) -> Probe {
        let len = end.wrapping_sub(start);
        if !(2..=MAX_WORD).contains(&len) {
            return Probe::EMPTY;
        }
        match text.get(start..).and_then(|r| r.first_chunk::<16>()) {
            Some(bytes) => {
                let v = u128::from_le_bytes(*bytes) & KEEP[len];
                let key = [v as u64, (v >> 64) as u64];
                Probe {
                    key,
                    len,
                    home: home(&key, len),
                }
            }
            None => text.get(start..end).map_or(Probe::EMPTY, Probe::new),
        }
    }
}

impl WordCache {
    fn new() -> Self {
        WordCache {
            slots: vec![Slot(Entry::EMPTY); SLOTS].into_boxed_slice(),
            long: vec![LongSlot(Entry::EMPTY); LONG_SLOTS].into_boxed_slice(),
            big: BigTable::new(),
        }
    }

    /// The ids of `w` from the second table (up to [`MAX_LONG_WORD`] bytes) or the third (up to
    /// [`MAX_BIG_WORD`]).
    #[inline]
    fn get_long(&self, w: &[u8]) -> Option<&[u32]> {
        match w.len() {
            // Empty slots have length 0: an empty word must not match them.
            0 => None,
            1..=MAX_LONG_WORD => {
                let (k, h) = long_key(w);
                // Two ways: the word's home slot and its neighbour in the same pair.
                let slot = [h, h ^ 1]
                    .into_iter()
                    .filter_map(|i| self.long.get(i))
                    .find(|s| s.0.holds(&k, w.len()));
                match slot {
                    Some(slot) => slot.0.ids(),
                    // Words with more ids than a slot holds are in the third table.
                    None => self.get_big(w),
                }
            }
            FIRST_BIG..=MAX_BIG_WORD => self.get_big(w),
            _ => None,
        }
    }

    #[inline]
    fn get_big(&self, w: &[u8]) -> Option<&[u32]> {
        self.big.get(w)
    }

    /// Caches `ids` for `w` in the second table (up to [`MAX_LONG_WORD`] bytes and
    /// `MAX_LONG_IDS` ids; two-way: the word's own slot, else an empty one, else its home slot)
    /// or the third (up to [`MAX_BIG_WORD`] bytes, direct-mapped). Words the first table can
    /// hold and longer ones are not cached here.
    #[inline]
    fn put_long(&mut self, w: &[u8], ids: &[u32]) {
        if w.is_empty() || w.len() > MAX_BIG_WORD {
            return;
        }
        if w.len() > MAX_LONG_WORD || ids.len() > MAX_LONG_IDS {
            self.big.put(w, ids);
            return;
        }
        let (k, h) = long_key(w);
        let way = |f: &dyn Fn(&LongSlot) -> bool| {
            [h, h ^ 1]
                .into_iter()
                .find(|&i| self.long.get(i).is_some_and(f))
        };
        let at = way(&|s| s.0.holds(&k, w.len()))
            .or_else(|| way(&|s| s.0.is_empty()))
            .unwrap_or(h);
        if let Some(slot) = self.long.get_mut(at) {
            slot.0.set(&k, w.len(), ids);
        }
    }

    /// Asks the CPU to bring `p`'s home slot into cache ahead of [`WordCache::get`].
    #[inline]
    pub(crate) fn prefetch(&self, p: &Probe) {
        if let Some(slot) = self.slots.get(p.home) {
            super::prefetch(slot);
        }
        // A word with high bytes often has more ids than the first table holds (no marker says
        // so, see `put`): its second-table slot, which for a word of the first table's length
        // is at the same home, is requested too (+3–5% on a warm multilingual pass, timed).
        if !p.is_ascii() && p.len > 0 {
            if let Some(slot) = self.long.get(p.home & (LONG_SLOTS - 1)) {
                super::prefetch(slot);
            }
        }
    }

    /// The cached ids of the word `w` whose probe is `p`.
    #[inline]
    pub(crate) fn get(&self, p: &Probe, w: &[u8]) -> Option<&[u32]> {
        self.after_first(self.first(p), p, w)
    }

    /// The cached ids of `w` (probe `p`), given the first table's answer `found`.
    #[inline]
    pub(crate) fn after_first<'c>(
        &'c self,
        found: Found<'c>,
        p: &Probe,
        w: &[u8],
    ) -> Option<&'c [u32]> {
        match found {
            Found::Ids(ids, n) => ids.get(..n),
            Found::Elsewhere => self.get_long(w),
            // Not in the first table: an ASCII word with more ids would have left a marker.
            Found::Nothing if p.is_ascii() => None,
            Found::Nothing => self.get_long(w),
        }
    }

    /// Where `p`'s word is: its ids in the first table, or which tables to ask next.
    #[inline(always)]
    pub(crate) fn first(&self, p: &Probe) -> Found<'_> {
        if p.len == 0 {
            // Too long for the first table (single bytes never get here).
            return Found::Elsewhere;
        }
        let mut s = p.home;
        for _ in 0..PROBE {
            let slot = &self.slots[s].0;
            if slot.is_empty() {
                return Found::Nothing;
            }
            if slot.holds(&p.key, p.len) {
                return match slot.n {
                    ELSEWHERE => Found::Elsewhere,
                    n => Found::Ids(&slot.ids, usize::from(n)),
                };
            }
            s = (s + 1) & (SLOTS - 1);
        }
        Found::Nothing
    }

    /// Caches `ids` for the word `w` whose probe is `p`: in the first table if it fits, else in
    /// the second or third — with a marker in the first if the word is ASCII, so that a
    /// first-table miss of a short ASCII word needs no second lookup (on an English first pass
    /// that lookup was a cold read per new word). Not for other words: in multilingual text
    /// many short words have more ids than the first table holds, and their markers crowded it
    /// (+8–13% instructions on a warm multilingual pass).
    #[inline]
    pub(crate) fn put(&mut self, p: &Probe, w: &[u8], ids: &[u32]) {
        if p.len == 0 {
            self.put_long(w, ids);
        } else if ids.len() <= MAX_IDS {
            self.put_first(p, ids);
        } else {
            self.put_long(w, ids);
            if p.is_ascii() {
                self.put_first(p, &[]);
            }
        }
    }

    /// `ids` empty: the word's marker (its ids are in another table).
    #[inline]
    fn put_first(&mut self, p: &Probe, ids: &[u32]) {
        let (k, len) = (&p.key, p.len);
        if ids.len() > MAX_IDS || len == 0 || len > MAX_WORD {
            return;
        }
        let h = p.home;
        let mut s = h;
        // The word's own slot if it has one, else the first empty one, else its home slot.
        let mut found = false;
        for _ in 0..PROBE {
            let slot = &self.slots[s].0;
            if slot.is_empty() || slot.holds(k, len) {
                found = true;
                break;
            }
            s = (s + 1) & (SLOTS - 1);
        }
        if !found {
            s = h;
        }
        let slot = &mut self.slots[s].0;
        slot.set(k, len, ids);
        if ids.is_empty() {
            slot.n = ELSEWHERE;
        }
    }
}

/// A first-table answer.
pub(crate) enum Found<'c> {
    /// The slot's id cells, of which the first `n` (at most [`MAX_IDS`]) are the word's: a
    /// caller may copy all three and keep `n` (no length-dependent copy).
    Ids(&'c [u32; MAX_IDS], usize),
    /// Not in the first table; if cached at all, in the second or third.
    Elsewhere,
    /// Not cached.
    Nothing,
}

/// The id count of a first-table marker (more than a slot holds, so `ids()` gives `None`).
const ELSEWHERE: u8 = u8::MAX;

thread_local! {
    static CACHES: RefCell<Vec<(u64, WordCache)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's cache for engine `owner` (a process-unique engine number).
pub(crate) fn with_cache<R>(owner: u64, f: impl FnOnce(&mut WordCache) -> R) -> R {
    CACHES.with(|c| {
        let Ok(mut caches) = c.try_borrow_mut() else {
            // Re-entered (cannot happen: encoding calls no user code); work uncached.
            return f(&mut WordCache::new());
        };
        let i = match caches.iter().position(|(o, _)| *o == owner) {
            Some(i) => i,
            None => {
                if caches.len() >= PER_THREAD {
                    caches.remove(0);
                }
                caches.push((owner, WordCache::new()));
                caches.len() - 1
            }
        };
        f(&mut caches[i].1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ring returns each record until a later one is written over it, never a record
    /// partly overwritten, and keeps records contiguous.
    #[test]
    fn ring_records_live_until_overwritten() {
        let mut ring: Ring<u32> = Ring::new(16);
        let mut kept: Vec<(u64, Vec<u32>)> = Vec::new();
        let mut next = crate::testing::xorshift(0xB16_5107);
        for round in 0..500u32 {
            let len = (next() % 7) as usize;
            let rec: Vec<u32> = (0..len as u32).map(|i| round * 8 + i).collect();
            let at = ring.push(&rec).expect("fits");
            assert!(at >= kept.last().map_or(0, |(a, r)| a + r.len() as u64));
            kept.push((at, rec));
            let mut live = 0;
            for (at, rec) in &kept {
                match ring.get(*at, rec.len()) {
                    Some(got) => {
                        assert_eq!(got, &rec[..], "round {round}");
                        live += rec.len();
                    }
                    // Gone only once the stream has moved a ring's length past it.
                    None => assert!(ring.head - at > 16),
                }
            }
            assert!(live <= 16 + 6);
        }
        assert_eq!(ring.push(&[0; 17]), None);
        assert_eq!(ring.get(ring.head + 1, 1), None);
    }

    /// The key is the word's bytes zero-padded, for every length (the overlapping reads must
    /// neither drop nor repeat a byte), and the cache returns what was put under it.
    #[test]
    fn keys_are_the_padded_bytes_and_lookups_return_what_was_put() {
        let mut next = crate::testing::xorshift(0x5107_CAFE);
        let mut cache = WordCache::new();
        for round in 0..2000 {
            let len = round % (MAX_WORD + 1);
            let w: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let mut padded = [0u8; 16];
            padded[..len].copy_from_slice(&w);
            let want = [
                u64::from_le_bytes(padded[..8].try_into().unwrap()),
                u64::from_le_bytes(padded[8..].try_into().unwrap()),
            ];
            assert_eq!(key(&w), want, "{w:?}");
            // Probes read in place from a longer text are the same as from the word alone.
            let mut text = w.clone();
            text.extend((0..round % 20).map(|_| next() as u8));
            assert_eq!(Probe::at(&text, 0, len), Probe::new(&w), "{w:?}");
            let off = round % 5;
            let mut shifted: Vec<u8> = (0..off).map(|_| next() as u8).collect();
            shifted.extend_from_slice(&text);
            assert_eq!(Probe::at(&shifted, off, off + len), Probe::new(&w), "{w:?}");
            if len < 2 {
                // Single bytes have their own table; nothing to cache.
                assert_eq!(Probe::new(&w), Probe::EMPTY);
            } else {
                let p = Probe::new(&w);
                // What `prefetch` requests of the second table is where `get_long` reads.
                assert_eq!(long_key(&w).1, p.home & (LONG_SLOTS - 1), "{w:?}");
                let ids: Vec<u32> = (0..(round % 3 + 1) as u32)
                    .map(|i| i + len as u32)
                    .collect();
                cache.put(&p, &w, &ids);
                assert_eq!(cache.get(&p, &w), Some(&ids[..]), "{w:?}");
                // Same padded bytes, other length: another word ("a" vs "a\0").
                if len < MAX_WORD {
                    let mut longer = w.clone();
                    longer.push(0);
                    assert_ne!(cache.get(&Probe::new(&longer), &longer), Some(&ids[..]));
                }
            }
        }
        // A short ASCII word with more ids than a first-table slot holds: a marker there, the
        // ids in the second table; a short ASCII word never put is not looked for there
        // (nothing is found even when the second table has it, which only `put` could do).
        let mut fresh = WordCache::new();
        let cache = &mut fresh;
        let p = Probe::new(b"abcd");
        cache.put(&p, b"abcd", &[1, 2, 3, 4]);
        assert!(matches!(cache.first(&p), Found::Elsewhere));
        assert_eq!(cache.get(&p, b"abcd"), Some(&[1, 2, 3, 4][..]));
        let q = Probe::new(b"wxyz");
        cache.put_long(b"wxyz", &[5, 6, 7, 8]);
        assert!(matches!(cache.first(&q), Found::Nothing));
        assert_eq!(cache.get(&q, b"wxyz"), None);
        // Not ASCII: no marker, and a first-table miss asks the second table.
        let cjk = "漢字かな".as_bytes();
        let r = Probe::new(cjk);
        cache.put(&r, cjk, &[1, 2, 3, 4]);
        assert!(matches!(cache.first(&r), Found::Nothing));
        assert_eq!(cache.get(&r, cjk), Some(&[1, 2, 3, 4][..]));
        // Its marker evicted (four more words with its home slot: the last replaces the
        // marker), the word is a miss again though its ids are still in the second table.
        for (i, r) in (0..4).zip([b"a1", b"a2", b"a3", b"a4"]) {
            let mut e = Probe::new(r);
            e.home = p.home;
            cache.put_first(&e, &[i]);
        }
        assert_eq!(cache.get(&p, b"abcd"), None);
        assert_eq!(cache.get_long(b"abcd"), Some(&[1, 2, 3, 4][..]));
        // Nothing is cached under the empty probe of a short word... and the empty probe of a
        // long word means "in the other tables".
        cache.put(&Probe::EMPTY, b"", &[1]);
        assert_eq!(cache.get(&Probe::EMPTY, b""), None);
        let long = [b'x'; 40];
        cache.put(&Probe::new(&long), &long, &[1, 2]);
        assert_eq!(cache.get(&Probe::new(&long), &long), Some(&[1, 2][..]));
        // The second table: long words and many ids, distinct by length and by every byte.
        for len in 1..=MAX_LONG_WORD {
            let w: Vec<u8> = (0..len as u8)
                .map(|i| i.wrapping_mul(37).wrapping_add(len as u8 * 7))
                .collect();
            let ids: Vec<u32> = (0..(len % MAX_LONG_IDS + 1) as u32).collect();
            cache.put_long(&w, &ids);
            assert_eq!(cache.get_long(&w), Some(&ids[..]), "{len}");
            let mut other = w.clone();
            other[len - 1] ^= 0x40;
            assert_eq!(cache.get_long(&other), None, "{len}");
            assert_eq!(cache.get_long(&w[..len - 1]), None, "{len}");
        }
        // Short words with more ids than a second-table slot holds go to the third table.
        for len in 10..=MAX_LONG_WORD {
            let w: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let ids: Vec<u32> = (0..len as u32).collect();
            cache.put_long(&w, &ids);
            assert_eq!(cache.get_long(&w), Some(&ids[..]), "{len}");
        }
        // The third table: 25..=256 bytes, any number of ids; nothing longer.
        for len in MAX_LONG_WORD + 1..=MAX_BIG_WORD + 1 {
            let w: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let ids: Vec<u32> = (0..(len % 40 + 1) as u32).map(|i| i * 7).collect();
            cache.put_long(&w, &ids);
            if len > MAX_BIG_WORD {
                assert_eq!(cache.get_long(&w), None, "{len}");
                continue;
            }
            assert_eq!(cache.get_long(&w), Some(&ids[..]), "{len}");
            let mut other = w.clone();
            other[len / 2] ^= 0x01;
            assert_eq!(cache.get_long(&other), None, "{len}");
            assert_eq!(cache.get_long(&w[..len - 1]), None, "{len}");
        }
    }
}
