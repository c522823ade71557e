//! Batch work on every core, shaped around the engine's per-thread word caches.
//!
//! The engine (tokenizers 1.0 rc.3) keeps a word cache in each scratch buffer and files scratch
//! buffers by thread. A thread that encodes with a cold cache runs at about half the warm speed
//! (BENCHMARKS.md, first pass vs warm). So a batch should run on threads that live on (their
//! scratch, and its cache, stays theirs) and each thread should see the same documents again when
//! the same batch comes again. Measured on 2 cores, 2 MB of English, a warm single-thread pass
//! before each batch, 8 rounds: with threads spawned per call and one shared counter (commit
//! d9f3f7f) the speed-up was 1.1-1.4x in the first rounds and reached ~1.7-1.9x only from the
//! third; with this module it is 1.26-1.44x on the first call (the helper's cache is cold; nothing
//! here can warm it) and ~1.9x from the second (`cargo bench -p tinkex --bench table --
//! --only-batch`).
//!
//! Hence: one long-lived helper pool (`available_parallelism() - 1` threads, built on first use);
//! the calling thread takes part too, so its own warm cache is used. The items are cut into one
//! segment per thread; each thread works through its own segment from the front, a run of
//! [`RUN`] items at a time, and when that is done takes runs from the back of the others' (so an
//! unlucky or busy thread does not hold the batch up).

use std::sync::{Mutex, OnceLock, PoisonError};

use crate::Result;

/// Items taken per claim: enough to make the claim's lock negligible, few enough to balance.
const RUN: usize = 8;

/// The helper threads, or `None` on a single core (or if the pool cannot be built: then batches
/// run on the calling thread alone, which is still correct).
fn helpers() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if cores < 2 {
            return None;
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(cores - 1)
            .thread_name(|i| format!("tinkex-batch-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// A segment of the items not yet claimed: `start..end`.
struct Segment(Mutex<(usize, usize)>);

impl Segment {
    fn lock(&self) -> std::sync::MutexGuard<'_, (usize, usize)> {
        // The guarded data is two indices, always consistent: a poisoned lock is still usable.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A run from the front (the owner's end).
    fn take_front(&self) -> Option<(usize, usize)> {
        let mut s = self.lock();
        (s.0 < s.1).then(|| {
            let start = s.0;
            s.0 = (start + RUN).min(s.1);
            (start, s.0)
        })
    }

    /// A run from the back (for a thread whose own segment is done).
    fn take_back(&self) -> Option<(usize, usize)> {
        let mut s = self.lock();
        (s.0 < s.1).then(|| {
            let end = s.1;
            s.1 = end.saturating_sub(RUN).max(s.0);
            (s.1, end)
        })
    }
}

/// `f` over `items` on every core, results in input order. On an error the remaining work is
/// abandoned and the error of the earliest failed run among those done is returned.
pub(crate) fn par_map<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let pool = match helpers() {
        Some(pool) if items.len() > RUN => pool,
        _ => return items.iter().map(f).collect(),
    };
    let threads = pool.current_num_threads() + 1;
    let n = items.len();
    let segments: Vec<Segment> = (0..threads)
        .map(|t| Segment(Mutex::new((t * n / threads, (t + 1) * n / threads))))
        .collect();
    let failed = std::sync::atomic::AtomicBool::new(false);
    let done: Mutex<Vec<(usize, Result<Vec<R>>)>> = Mutex::new(Vec::new());

    let work = |me: usize| {
        let mut runs = Vec::new();
        while !failed.load(std::sync::atomic::Ordering::Relaxed) {
            let claim = segments[me]
                .take_front()
                .or_else(|| (1..threads).find_map(|k| segments[(me + k) % threads].take_back()));
            let Some((start, end)) = claim else { break };
            let run = items[start..end].iter().map(&f).collect::<Result<Vec<R>>>();
            if run.is_err() {
                failed.store(true, std::sync::atomic::Ordering::Relaxed);
            }
            runs.push((start, run));
        }
        done.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(runs);
    };
    // `in_place_scope`: the calling thread works segment 0 itself (with its own warm cache);
    // `spawn_broadcast` gives helper i segment i + 1, the same one every call.
    pool.in_place_scope(|scope| {
        scope.spawn_broadcast(|_, ctx| work(ctx.index() + 1));
        work(0);
    });

    let mut runs = done.into_inner().unwrap_or_else(PoisonError::into_inner);
    runs.sort_unstable_by_key(|(start, _)| *start);
    let mut out = Vec::with_capacity(n);
    for (_, run) in runs {
        out.extend(run?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn keeps_order_for_every_size() {
        for n in [0, 1, RUN, RUN + 1, 3 * RUN + 5, 1000] {
            let items: Vec<usize> = (0..n).collect();
            let out = par_map(&items, |&i| Ok(i * 2)).unwrap();
            assert_eq!(
                out,
                items.iter().map(|i| i * 2).collect::<Vec<_>>(),
                "n = {n}"
            );
        }
    }

    #[test]
    fn returns_the_earliest_error_among_runs_done() {
        let items: Vec<usize> = (0..500).collect();
        let err = par_map(&items, |&i| {
            if i % 100 == 7 {
                Err(Error::InvalidInput(format!("item {i}")))
            } else {
                Ok(i)
            }
        })
        .unwrap_err();
        // Which failing item is reached first depends on scheduling; it must be one of them.
        let msg = err.to_string();
        assert!(
            ["item 7", "item 107", "item 207", "item 307", "item 407"]
                .iter()
                .any(|m| msg.contains(m)),
            "{msg}"
        );
    }

    #[test]
    fn nested_and_concurrent_callers_finish() {
        let outer: Vec<usize> = (0..40).collect();
        let sums = std::thread::scope(|s| {
            let hs: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        par_map(&outer, |&i| {
                            let inner: Vec<usize> = (0..50).collect();
                            Ok(par_map(&inner, |&j| Ok(i * j))?.into_iter().sum::<usize>())
                        })
                        .unwrap()
                    })
                })
                .collect();
            hs.into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        });
        let want: Vec<usize> = outer.iter().map(|i| i * (0..50).sum::<usize>()).collect();
        for s in sums {
            assert_eq!(s, want);
        }
    }
}
