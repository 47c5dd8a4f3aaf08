//! Stored floating-point elements decoded to their exact `f64` values: one
//! decoder for every reader (`.npy` in either byte order, `.safetensors`
//! little-endian). Widening binary16, bfloat16 and binary32 to binary64 is
//! exact, so the decoded numbers are the stored numbers.

use crate::matrix::SourceDtype;

/// Bytes per element of `dtype`.
pub fn element_size(dtype: SourceDtype) -> usize {
    match dtype {
        SourceDtype::F64 => 8,
        SourceDtype::F32 => 4,
        SourceDtype::F16 | SourceDtype::BF16 => 2,
    }
}

/// Decodes `data` (whole elements of `dtype`, big-endian when `big_endian`)
/// into `out`, one value per element; `out.len()` elements are decoded.
///
/// Panics when `data` holds fewer than `out.len()` elements (callers size
/// both from the same validated header).
pub fn decode_into(dtype: SourceDtype, big_endian: bool, data: &[u8], out: &mut [f64]) {
    let size = element_size(dtype);
    let data = &data[..out.len() * size];
    macro_rules! widen {
        ($n:literal, $from:expr) => {
            for (o, c) in out.iter_mut().zip(data.chunks_exact($n)) {
                let b: [u8; $n] = c.try_into().expect("chunks have the element size");
                *o = $from(b, big_endian);
            }
        };
    }
    match dtype {
        SourceDtype::F64 => widen!(8, |b, be| if be {
            f64::from_be_bytes(b)
        } else {
            f64::from_le_bytes(b)
        }),
        SourceDtype::F32 => widen!(4, |b, be| f64::from(if be {
            f32::from_be_bytes(b)
        } else {
            f32::from_le_bytes(b)
        })),
        SourceDtype::F16 => widen!(2, |b, be| if be {
            half::f16::from_be_bytes(b)
        } else {
            half::f16::from_le_bytes(b)
        }
        .to_f64()),
        // bfloat16 is the top half of a binary32 with the same exponent
        // range: shifting its bits up gives that binary32 exactly (NaN and
        // ±Inf included), and f32 → f64 is exact. Branch-free, so it
        // vectorizes.
        SourceDtype::BF16 => widen!(2, |b, be| {
            let bits = if be {
                u16::from_be_bytes(b)
            } else {
                u16::from_le_bytes(b)
            };
            f64::from(f32::from_bits(u32::from(bits) << 16))
        }),
    }
}

/// The decoded values of every whole element of `data`.
pub fn decode(dtype: SourceDtype, big_endian: bool, data: &[u8]) -> Vec<f64> {
    let mut out = vec![0.0; data.len() / element_size(dtype)];
    decode_into(dtype, big_endian, data, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bytes of `values`, each encoded by `to_bytes`.
    fn encoded<const N: usize>(values: &[f64], to_bytes: impl Fn(f64) -> [u8; N]) -> Vec<u8> {
        values.iter().flat_map(|&v| to_bytes(v)).collect()
    }

    #[test]
    fn every_dtype_and_byte_order_decodes_to_the_stored_value() {
        let values = [1.5f64, -0.375, 65504.0, 2f64.powi(-14)];
        let bf = [1.5f64, -0.375, 3.0e38, 2f64.powi(-130)];
        // The `half` crate's widening is the independent reference.
        let bf_want: Vec<f64> = bf
            .iter()
            .map(|&v| half::bf16::from_f64(v).to_f64())
            .collect();
        for big in [false, true] {
            let f32s = encoded(&values, |v| {
                let x = v as f32;
                if big {
                    x.to_be_bytes()
                } else {
                    x.to_le_bytes()
                }
            });
            assert_eq!(decode(SourceDtype::F32, big, &f32s), values);
            let f16s = encoded(&values, |v| {
                let h = half::f16::from_f64(v);
                if big {
                    h.to_be_bytes()
                } else {
                    h.to_le_bytes()
                }
            });
            assert_eq!(decode(SourceDtype::F16, big, &f16s), values);
            let bf16s = encoded(&bf, |v| {
                let h = half::bf16::from_f64(v);
                if big {
                    h.to_be_bytes()
                } else {
                    h.to_le_bytes()
                }
            });
            assert_eq!(decode(SourceDtype::BF16, big, &bf16s), bf_want);
            let f64s = encoded(&values, |v| {
                if big {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                }
            });
            assert_eq!(decode(SourceDtype::F64, big, &f64s), values);
        }
    }

    #[test]
    fn every_bfloat16_bit_pattern_widens_like_the_half_crate() {
        for bits in 0..=u16::MAX {
            let got = decode(SourceDtype::BF16, false, &bits.to_le_bytes())[0];
            let want = half::bf16::from_bits(bits).to_f64();
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "bits {bits:#06x}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn a_trailing_partial_element_is_not_decoded() {
        assert_eq!(
            decode(SourceDtype::F32, false, &[0, 0, 128, 63, 1]),
            vec![1.0]
        );
    }
}
