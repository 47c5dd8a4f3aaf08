//! `Resize` and `Upsample` in `nearest` mode: every output copies one input,
//! so the operator is a coordinate selection S (a [`crate::network::select::Select`])
//! whose ℓ₂ norm is √(m), m the largest number of outputs copying one input
//! (SᵀS is diagonal with those counts).
//!
//! The input coordinate of output i along an axis follows the ONNX operator
//! specification (Resize-11 to -19): first the coordinate transformation,
//! x = (i + ½)/s − ½ (`half_pixel`), i/s (`asymmetric`), i·(L−1)/(O−1)
//! (`align_corners`), `pytorch_half_pixel` (0 when O = 1),
//! (i + ½)/s (`tf_half_pixel_for_nn`), or `half_pixel_symmetric`; then the
//! nearest mode (`round_prefer_floor`, `round_prefer_ceil`, `floor`,
//! `ceil`), clamped to [0, L−1]. `Upsample` (opsets 7–9) and `Resize`-10
//! take ⌊i/s⌋. The arithmetic is in f64 (runtimes use f32: a coordinate
//! that lands within rounding of a tie could differ; integer and simple
//! fractional scales give exact coordinates in both).

use super::error::{invalid, unsupported, OnnxResult};
use super::shapes;

/// How an output coordinate maps back to the input along one axis.
#[derive(Debug, Clone, PartialEq)]
pub struct NearestRule {
    /// The ONNX `coordinate_transformation_mode`.
    pub transform: String,
    /// The ONNX `nearest_mode`.
    pub rounding: String,
}

impl NearestRule {
    /// `Upsample` and `Resize`-10: ⌊i/s⌋.
    pub fn legacy() -> Self {
        Self {
            transform: "asymmetric".into(),
            rounding: "floor".into(),
        }
    }

    /// The input index of each of the `out_len` outputs along an axis of
    /// length `in_len` with scale `scale` (out/in when sizes are given).
    pub fn indices(
        &self,
        in_len: usize,
        out_len: usize,
        scale: f64,
        ctx: &str,
    ) -> OnnxResult<Vec<usize>> {
        if !(scale.is_finite() && scale > 0.0) {
            return Err(invalid(format!("{ctx}: resize scale {scale}")));
        }
        let (l, o) = (in_len as f64, out_len as f64);
        let mut out = Vec::with_capacity(out_len);
        for i in 0..out_len {
            let r = i as f64;
            let x = match self.transform.as_str() {
                "half_pixel" => (r + 0.5) / scale - 0.5,
                "pytorch_half_pixel" => {
                    if out_len > 1 {
                        (r + 0.5) / scale - 0.5
                    } else {
                        0.0
                    }
                }
                "align_corners" => {
                    if out_len == 1 {
                        0.0
                    } else {
                        r * (l - 1.0) / (o - 1.0)
                    }
                }
                "asymmetric" => r / scale,
                "tf_half_pixel_for_nn" => (r + 0.5) / scale,
                "half_pixel_symmetric" => {
                    let adjustment = o / (scale * l);
                    let offset = l / 2.0 * (1.0 - adjustment);
                    offset + (r + 0.5) / scale - 0.5
                }
                t => {
                    return Err(unsupported(format!(
                        "{ctx}: coordinate_transformation_mode '{t}'"
                    )))
                }
            };
            let f = x.floor();
            let tie = x - f == 0.5;
            let n = match self.rounding.as_str() {
                "round_prefer_floor" => {
                    if tie {
                        f
                    } else {
                        x.round()
                    }
                }
                "round_prefer_ceil" => {
                    if tie {
                        f + 1.0
                    } else {
                        x.round()
                    }
                }
                "floor" => f,
                "ceil" => x.ceil(),
                m => return Err(unsupported(format!("{ctx}: nearest_mode '{m}'"))),
            };
            out.push(n.clamp(0.0, l - 1.0) as usize);
        }
        Ok(out)
    }
}

/// The selection map of a nearest resize from `shape` to `out` (row-major):
/// output multi-index (o₀, o₁, …) copies input (idx₀\[o₀\], idx₁\[o₁\], …).
pub fn resize_map(shape: &[usize], out: &[usize], idx: &[Vec<usize>]) -> Vec<usize> {
    let strides = shapes::strides(shape);
    let mut map = vec![0usize; shapes::prod(out)];
    for (flat, m) in map.iter_mut().enumerate() {
        let mut rest = flat;
        let mut src = 0;
        for a in (0..out.len()).rev() {
            let o = rest % out[a];
            rest /= out[a];
            src += idx[a][o] * strides[a];
        }
        *m = src;
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_upsampling_repeats_each_input() {
        for t in ["half_pixel", "asymmetric", "pytorch_half_pixel"] {
            let r = NearestRule {
                transform: t.into(),
                rounding: "round_prefer_floor".into(),
            };
            assert_eq!(
                r.indices(3, 6, 2.0, "").unwrap(),
                vec![0, 0, 1, 1, 2, 2],
                "{t}"
            );
        }
        assert_eq!(
            NearestRule::legacy().indices(2, 6, 3.0, "").unwrap(),
            vec![0, 0, 0, 1, 1, 1]
        );
        let ac = NearestRule {
            transform: "align_corners".into(),
            rounding: "round_prefer_ceil".into(),
        };
        // i·(3−1)/(5−1) = 0, ½, 1, 3/2, 2 → ties rounded up.
        assert_eq!(
            ac.indices(3, 5, 5.0 / 3.0, "").unwrap(),
            vec![0, 1, 1, 2, 2]
        );
        assert_eq!(
            resize_map(&[2, 2], &[2, 4], &[vec![0, 1], vec![0, 0, 1, 1]]),
            vec![0, 0, 1, 1, 2, 2, 3, 3]
        );
    }
}
