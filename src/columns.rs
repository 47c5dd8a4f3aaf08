//! Columns of column-major faer matrices as plain slices (faer's `Mat`
//! columns, and those of its sub-views, are contiguous), for the hand-written
//! loops.

use faer::{ColMut, ColRef};

/// The column as a slice.
pub(crate) fn column<T>(c: ColRef<'_, T>) -> &[T] {
    c.try_as_col_major()
        .expect("columns of a faer Mat are contiguous")
        .as_slice()
}

/// The column as a mutable slice.
pub(crate) fn column_mut<T>(c: ColMut<'_, T>) -> &mut [T] {
    c.try_as_col_major_mut()
        .expect("columns of a faer Mat are contiguous")
        .as_slice_mut()
}
