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
//!     pacta_alloc::return_freed_memory_at_once();
//! }
//! ```

pub use mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay`, by its place in `mimalloc.h`'s option enum (v2 and v3
/// alike; libmimalloc-sys names only some options).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory goes back to the system at once, not after mimalloc's default second. A
/// replay frees each stage's working memory (the observations once corroborated, the
/// responses' chains once sorted) just before the next stage allocates its own; held for a
/// second, both were resident together: 1,129 MiB against 918 MiB at the peak of a replay of
/// 10^6 reports, and 45.5 against 45.2 CPU seconds (one replay each way; `bench/BENCHMARKS.md`,
/// run 6). `MIMALLOC_PURGE_DELAY` (or its older name `MIMALLOC_RESET_DELAY`) in the
/// environment still decides where it is set. Call it
/// first thing in `main`; it has effect only where [`MiMalloc`] is the global allocator.
pub fn return_freed_memory_at_once() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none()
        && std::env::var_os("MIMALLOC_RESET_DELAY").is_none()
    {
        // SAFETY: sets an option of the allocator, which reads it each time it frees pages;
        // no memory is touched.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_set_is_the_purge_delay() {
        // The environment decides where it names a delay; there is nothing to check then.
        if ["MIMALLOC_PURGE_DELAY", "MIMALLOC_RESET_DELAY"]
            .iter()
            .any(|name| std::env::var_os(name).is_some())
        {
            return;
        }
        // SAFETY: reads and sets an option of the allocator; no memory is touched.
        let read = || unsafe { libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) };
        // Option 15 holds the purge delay's default, a second in mimalloc v3 and 10 ms in
        // v2 (each version's `options.c`): the number names that option.
        // SAFETY: reads the linked library's version.
        let version = unsafe { libmimalloc_sys::mi_version() };
        let default = if version >= 300 { 1000 } else { 10 };
        assert_eq!(read(), default, "option 15 of mimalloc {version}");
        return_freed_memory_at_once();
        assert_eq!(read(), 0);
    }
}
