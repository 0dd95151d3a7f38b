//! The memory allocator of Pacta's binaries (`pacta` and the benchmarks), so the benchmarks
//! measure what the command line runs.
//!
//! Ingest and replay allocate per entry on every core; glibc's allocator spent a tenth of
//! the server's CPU there under load (perf), mimalloc's thread-local heaps far less. Each
//! binary declares it:
//!
//! ```no_run
//! #[global_allocator]
//! static ALLOCATOR: pacta_alloc::MiMalloc = pacta_alloc::MiMalloc;
//!
//! fn main() {
//!     pacta_alloc::configure_memory();
//! }
//! ```

pub use mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay`, by its place in `mimalloc.h`'s option enum (v2 and v3
/// alike; libmimalloc-sys names only some options).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How the binaries use memory, set first thing in `main` (it has effect only where
/// [`MiMalloc`] is the global allocator):
///
/// - **Freed memory goes back to the system at once**, not after mimalloc's default second.
///   A replay frees each stage's working memory (the observations once corroborated, the
///   responses' chains once sorted) just before the next stage allocates its own; held for a
///   second, both were resident together: 1,129 MiB against 918 MiB at the peak of a replay
///   of 10^6 reports, and 45.5 against 45.2 CPU seconds (one replay each way;
///   `bench/BENCHMARKS.md`, run 6). `MIMALLOC_PURGE_DELAY` (or its older name
///   `MIMALLOC_RESET_DELAY`) in the environment still decides where it is set.
/// - **No transparent huge pages** (Linux): with memory returned at once, each page mimalloc
///   takes again faulted in a whole 2 MiB huge page, zeroed by the kernel. A tenth of a
///   replay's CPU time was the kernel's, half of it zeroing pages (perf, 10^6 reports);
///   without huge pages a replay took 1.3 to 2.3 fewer system CPU seconds and 15 to 24 MiB
///   less memory at its peak (`pacta assess`, four pairs of runs; `bench/BENCHMARKS.md`,
///   run 9). mimalloc's own option for it (`MIMALLOC_ALLOW_THP`) is read before `main`, so
///   the process turns huge pages off itself; where that variable is set, it decides.
pub fn configure_memory() {
    let unset = |name: &str| std::env::var_os(name).is_none();
    if unset("MIMALLOC_PURGE_DELAY") && unset("MIMALLOC_RESET_DELAY") {
        // SAFETY: sets an option of the allocator, which reads it each time it frees pages;
        // no memory is touched.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    }
    #[cfg(target_os = "linux")]
    if unset("MIMALLOC_ALLOW_THP") {
        // SAFETY: a process-wide flag of the kernel's, read when a page is faulted in; no
        // memory is touched. Child processes inherit it (Pacta's binaries start none). A
        // kernel without it refuses, and huge pages stay as they were.
        let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // One test, because the settings are process-wide: a second test configuring at the same
    // time would change the default this one reads first.
    #[test]
    fn memory_is_returned_at_once_and_huge_pages_are_off() {
        let set_outside = |names: &[&str]| names.iter().any(|n| std::env::var_os(n).is_some());
        // SAFETY: reads an option of the allocator; no memory is touched.
        let purge_delay = || unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        let delay_set_outside = set_outside(&["MIMALLOC_PURGE_DELAY", "MIMALLOC_RESET_DELAY"]);
        if !delay_set_outside {
            // Option 15 holds the purge delay's default, a second in mimalloc v3 and 10 ms in
            // v2 (each version's `options.c`): the number names that option.
            // SAFETY: reads the linked library's version.
            let version = unsafe { libmimalloc_sys::mi_version() };
            let default = if version >= 300 { 1000 } else { 10 };
            assert_eq!(purge_delay(), default, "option 15 of mimalloc {version}");
        }
        configure_memory();
        if !delay_set_outside {
            assert_eq!(purge_delay(), 0);
        }
        #[cfg(target_os = "linux")]
        if !set_outside(&["MIMALLOC_ALLOW_THP"]) {
            // SAFETY: reads a process-wide flag; no memory is touched.
            let disabled = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
            // -1: a kernel (or sandbox) without the flag, where `configure_memory` leaves
            // huge pages as they were.
            assert!(disabled == 1 || disabled == -1, "{disabled}");
        }
    }
}
