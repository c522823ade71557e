//! Tables read at random (the pair and vocabulary tables, the word cache: megabytes each) asked
//! to be backed by 2 MiB pages where the kernel offers them on request
//! (`transparent_hugepage=madvise`, a common default): with 4 KiB pages nearly every lookup of a
//! first-seen word also missed the TLB.

/// `len` copies of `fill`, in memory advised for huge pages before it is first touched.
pub(crate) fn filled<T: Clone>(len: usize, fill: T) -> Vec<T> {
    let mut v = Vec::with_capacity(len);
    advise(v.as_mut_ptr(), len * size_of::<T>());
    v.resize(len, fill);
    v
}

/// `items` collected into memory advised for huge pages (`len`: how many there are).
pub(crate) fn collect<T>(len: usize, items: impl Iterator<Item = T>) -> Vec<T> {
    let mut v = Vec::with_capacity(len);
    advise(v.as_mut_ptr(), len * size_of::<T>());
    v.extend(items);
    v
}

const HUGE: usize = 2 << 20;

#[cfg(target_os = "linux")]
fn advise<T>(p: *mut T, bytes: usize) {
    let start = (p as usize).next_multiple_of(HUGE);
    let end = (p as usize).saturating_add(bytes) / HUGE * HUGE;
    if end > start {
        // SAFETY: [start, end) lies inside the allocation behind `p` (`bytes` of capacity), and
        // MADV_HUGEPAGE only changes how the kernel backs those pages, never their contents.
        // Refused (an old kernel, THP off): nothing changes.
        let _ = unsafe {
            rustix::mm::madvise(
                start as *mut std::ffi::c_void,
                end - start,
                rustix::mm::Advice::LinuxHugepage,
            )
        };
    }
}

#[cfg(not(target_os = "linux"))]
fn advise<T>(_: *mut T, _: usize) {}
