//! Runtime selection of x86-64 vector extensions for the few hand-written
//! loops (the Cholesky kernels and the per-frequency Gram evaluation).
//!
//! The crate is compiled for baseline x86-64 (SSE2), so plain loops get
//! 2-wide vectors; faer picks AVX2/AVX-512 at run time for its own kernels.
//! [`multiversion!`] compiles a function body once more with AVX2 and once with
//! AVX-512F enabled and calls the best one the CPU supports.
//!
//! Floating-point results do not depend on the choice: Rust never contracts
//! `a * b + c` into a fused multiply-add and vector lanes round exactly like
//! scalar operations, so every version performs the same IEEE operations in
//! the same order (the proofs' rounding model is unchanged).

/// Defines `pub(crate) fn $name(args) -> ret` that runs the inlined body
/// `$generic(args)` compiled for AVX-512F, AVX2 or baseline, whichever the CPU
/// supports (detected once and cached by the standard library). The body is
/// a function name, or any path in brackets (`[body::<4>]`).
macro_rules! multiversion {
    ($(#[$meta:meta])* fn $name:ident = $generic:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)?) => {
        multiversion!($(#[$meta])* fn $name = [$generic]($($arg: $ty),*) $(-> $ret)?);
    };
    ($(#[$meta:meta])* fn $name:ident = [$generic:path]($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)?) => {
        $(#[$meta])*
        pub(crate) fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f")]
                fn avx512($($arg: $ty),*) $(-> $ret)? {
                    $generic($($arg),*)
                }
                #[target_feature(enable = "avx2")]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    $generic($($arg),*)
                }
                if std::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU supports AVX-512F (checked just above).
                    return unsafe { avx512($($arg),*) };
                }
                if std::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU supports AVX2 (checked just above).
                    return unsafe { avx2($($arg),*) };
                }
            }
            $generic($($arg),*)
        }
    };
}

pub(crate) use multiversion;
