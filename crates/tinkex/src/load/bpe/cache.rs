//! A word cache per thread and engine: words of up to 24 bytes → up to 5 ids, in a fixed-size
//! open-addressing table whose slots hold the word inline (no pointers to chase, no comparison
//! calls). Lossy: when a word's probe window is full, it replaces the word in its home slot.
//! Per thread so that encoding takes no lock.

use std::cell::RefCell;

const WORDS: usize = 3;
/// Longest word cached, in bytes.
pub(crate) const MAX_WORD: usize = WORDS * 8;
const MAX_IDS: usize = 5;
const SLOTS: usize = 1 << 16;
const PROBE: usize = 4;
/// Caches one thread keeps (one per engine it encoded with last).
const PER_THREAD: usize = 4;

#[derive(Clone, Copy)]
#[repr(C, align(16))]
struct Slot {
    key: [u64; WORDS],
    /// Word length | id count << 8; 0 = empty.
    meta: u32,
    ids: [u32; MAX_IDS],
}

pub(crate) struct WordCache {
    slots: Box<[Slot]>,
}

/// The cache key of `w` (at most [`MAX_WORD`] bytes): the bytes, zero-padded.
#[inline]
pub(crate) fn key(w: &[u8]) -> [u64; WORDS] {
    let mut buf = [0u8; MAX_WORD];
    buf[..w.len()].copy_from_slice(w);
    let mut k = [0u64; WORDS];
    for (k, chunk) in k.iter_mut().zip(buf.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *k = u64::from_le_bytes(b);
    }
    k
}

#[inline]
fn home(k: &[u64; WORDS], len: usize) -> usize {
    let mut h = (len as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for &x in k {
        h = (h ^ x).wrapping_mul(0x517c_c1b7_2722_0a95);
        h ^= h >> 32;
    }
    h as usize & (SLOTS - 1)
}

impl WordCache {
    fn new() -> Self {
        let empty = Slot {
            key: [0; WORDS],
            meta: 0,
            ids: [0; MAX_IDS],
        };
        WordCache {
            slots: vec![empty; SLOTS].into_boxed_slice(),
        }
    }

    #[inline]
    pub(crate) fn get(&self, k: &[u64; WORDS], len: usize) -> Option<&[u32]> {
        let mut s = home(k, len);
        for _ in 0..PROBE {
            let slot = &self.slots[s];
            if slot.meta == 0 {
                return None;
            }
            if slot.meta & 0xff == len as u32 && slot.key == *k {
                return slot.ids.get(..(slot.meta >> 8) as usize);
            }
            s = (s + 1) & (SLOTS - 1);
        }
        None
    }

    #[inline]
    pub(crate) fn put(&mut self, k: &[u64; WORDS], len: usize, ids: &[u32]) {
        if ids.len() > MAX_IDS || len == 0 || len > MAX_WORD {
            return;
        }
        let h = home(k, len);
        let mut s = h;
        for _ in 0..PROBE {
            if self.slots[s].meta == 0 {
                break;
            }
            s = (s + 1) & (SLOTS - 1);
        }
        if self.slots[s].meta != 0 {
            s = h;
        }
        let slot = &mut self.slots[s];
        slot.key = *k;
        slot.meta = len as u32 | (ids.len() as u32) << 8;
        slot.ids[..ids.len()].copy_from_slice(ids);
    }
}

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
