//! A count of the network passes evaluated on this thread: the clock of a
//! lower-bound search bounded by work instead of seconds
//! ([`super::lower_bounds::SearchWork`]), so that its result does not depend
//! on the machine's speed or load.
//!
//! One forward pass counts 1; a forward pass with its certified rounding
//! error 2; a Jacobian-vector product (forward mode) or a vector-Jacobian
//! product (reverse mode, after its forward pass) 2; the m rows of an
//! explicit Jacobian 1 + m. The compensated evaluations
//! ([`super::evaluate::forward_with_error_accurate`]) are not counted: the
//! stage that uses them is outside the work budget, as it is outside a time
//! budget's moves.

use std::cell::Cell;

thread_local! {
    static PASSES: Cell<u64> = const { Cell::new(0) };
}

/// Adds `passes` to this thread's count.
pub(crate) fn count(passes: u64) {
    PASSES.with(|p| p.set(p.get().saturating_add(passes)));
}

/// The passes counted on this thread so far (differences of two readings
/// measure the work in between).
pub(crate) fn passes() -> u64 {
    PASSES.with(Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_per_thread() {
        let before = passes();
        count(3);
        count(4);
        assert_eq!(passes() - before, 7);
        // Another thread has its own count.
        let other = std::thread::spawn(|| {
            count(5);
            passes()
        })
        .join()
        .unwrap();
        assert_eq!(other, 5);
        assert_eq!(passes() - before, 7);
    }
}
