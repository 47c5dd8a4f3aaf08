//! Keeping freed memory in the process between the tensors of a sweep.
//!
//! Each tensor of a checkpoint brings matrices of hundreds of megabytes (the
//! widened weights, the Gram matrix, the certificate's factor). glibc serves
//! such requests with fresh `mmap` regions and unmaps them on `free`, so the
//! next tensor faults every page in again and the kernel zeroes it: on a
//! 7B-shaped block (`benches/checkpoint.sh`, AVX-512 machine, both vCPUs)
//! that was about 2 s of 17 s. With mapping disabled for large requests
//! and the heap's top not trimmed, the next tensor reuses the same pages.
//! The peak resident memory grows a little, not with the number of tensors
//! (that block: 0.74 GB before, 0.77–1.19 GB over eight runs after; four
//! such blocks in one sweep: 0.87 GB).
//!
//! No result depends on this: it changes where memory comes from, not what
//! is computed.

/// Asks the C allocator to keep freed memory for reuse (glibc on Linux:
/// `mallopt(M_MMAP_MAX, 0)` and a trim threshold of `i32::MAX` bytes; when
/// the heap cannot grow, glibc still falls back to `mmap`). Elsewhere it
/// does nothing.
pub fn retain_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only sets glibc's allocation parameters; it is
    // thread-safe and both parameters accept any non-negative value.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX);
    }
}
