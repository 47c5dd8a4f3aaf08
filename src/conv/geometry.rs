//! The shape of a 2-D convolution with PyTorch conventions (`torch.nn.Conv2d`):
//! channels, groups, kernel size, input size, stride, per-side padding,
//! padding mode and dilation, with validation and the output-size formula.

use crate::error::{Error, Result};
use std::fmt;

/// How the input is extended beyond its borders before the (valid)
/// convolution, as in PyTorch's `padding_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaddingMode {
    /// Zero fill (`padding_mode="zeros"`, the default).
    Zeros,
    /// Periodic extension (`"circular"`): padded index i reads x[(i − before) mod n].
    Circular,
    /// Mirror without repeating the edge (`"reflect"`): …, x₂, x₁ | x₀, x₁, … .
    Reflect,
    /// Repeat the edge value (`"replicate"`): …, x₀, x₀ | x₀, x₁, … .
    Replicate,
}

impl PaddingMode {
    /// Every mode, in the order the CLI lists them.
    pub const ALL: [PaddingMode; 4] = [
        PaddingMode::Zeros,
        PaddingMode::Circular,
        PaddingMode::Reflect,
        PaddingMode::Replicate,
    ];

    /// PyTorch's name of the mode (`"zeros"`, `"circular"`, `"reflect"`, `"replicate"`).
    pub fn name(self) -> &'static str {
        match self {
            PaddingMode::Zeros => "zeros",
            PaddingMode::Circular => "circular",
            PaddingMode::Reflect => "reflect",
            PaddingMode::Replicate => "replicate",
        }
    }
}

impl std::str::FromStr for PaddingMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        PaddingMode::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                Error::InvalidOption(format!(
                    "unknown padding mode '{s}' (expected zeros, circular, reflect or replicate)"
                ))
            })
    }
}

impl fmt::Display for PaddingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Geometry of a 2-D convolution y = conv(pad(x)) with PyTorch conventions:
/// input C_in × H × W, kernel C_out × (C_in/groups) × kh × kw, output
/// C_out × OH × OW with
/// OH = ⌊(H + top + bottom − dh·(kh − 1) − 1)/sh⌋ + 1 (and likewise OW), the
/// formula of `torch.nn.Conv2d`'s documentation.
///
/// A 1-D convolution (`torch.nn.Conv1d`) is the case H = 1, kh = 1 with no
/// vertical padding; see [`Conv2dGeometry::conv1d`]. Bias is not part of the
/// geometry: it does not change the Lipschitz constant of an affine map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conv2dGeometry {
    /// Output channels C_out.
    pub c_out: usize,
    /// Input channels C_in.
    pub c_in: usize,
    /// Number of groups (C_in and C_out must both be divisible by it).
    pub groups: usize,
    /// Kernel height kh.
    pub kh: usize,
    /// Kernel width kw.
    pub kw: usize,
    /// Input height H.
    pub h: usize,
    /// Input width W.
    pub w: usize,
    /// Stride (sh, sw).
    pub stride: (usize, usize),
    /// Padding (top, left, bottom, right).
    pub padding: (usize, usize, usize, usize),
    /// Padding mode.
    pub mode: PaddingMode,
    /// Dilation (dh, dw).
    pub dilation: (usize, usize),
}

impl Conv2dGeometry {
    /// Geometry with stride 1, no padding (zeros mode), dilation 1, one group.
    ///
    /// ```
    /// use lipcert::conv::{Conv2dGeometry, PaddingMode};
    /// let mut g = Conv2dGeometry::new(64, 64, 3, 3, 56, 56);
    /// g.padding = (1, 1, 1, 1);
    /// g.validate().unwrap();
    /// assert_eq!(g.output_size(), (56, 56));
    /// g.stride = (2, 2);
    /// assert_eq!(g.output_size(), (28, 28));
    /// ```
    pub fn new(c_out: usize, c_in: usize, kh: usize, kw: usize, h: usize, w: usize) -> Self {
        Self {
            c_out,
            c_in,
            groups: 1,
            kh,
            kw,
            h,
            w,
            stride: (1, 1),
            padding: (0, 0, 0, 0),
            mode: PaddingMode::Zeros,
            dilation: (1, 1),
        }
    }

    /// A 1-D convolution (`torch.nn.Conv1d`) on inputs of length `length`, as
    /// the 2-D geometry with H = 1, kh = 1. Set `stride.1`, `dilation.1` and
    /// `padding.1`/`padding.3` (left/right) for its options.
    pub fn conv1d(c_out: usize, c_in: usize, k: usize, length: usize) -> Self {
        Self::new(c_out, c_in, 1, k, 1, length)
    }

    /// The same geometry with stride (sh, sw).
    ///
    /// The `with_*` methods build a geometry in one expression:
    ///
    /// ```
    /// use lipcert::conv::{Conv2dGeometry, PaddingMode};
    /// let g = Conv2dGeometry::new(64, 32, 3, 3, 56, 56)
    ///     .with_padding((1, 1, 1, 1))
    ///     .with_stride((2, 2))
    ///     .with_groups(4)
    ///     .with_mode(PaddingMode::Circular)
    ///     .with_dilation((1, 1));
    /// g.validate().unwrap();
    /// assert_eq!(g.output_size(), (28, 28));
    /// ```
    pub fn with_stride(mut self, stride: (usize, usize)) -> Self {
        self.stride = stride;
        self
    }

    /// The same geometry with padding (top, left, bottom, right).
    pub fn with_padding(mut self, padding: (usize, usize, usize, usize)) -> Self {
        self.padding = padding;
        self
    }

    /// The same geometry with the padding mode `mode`.
    pub fn with_mode(mut self, mode: PaddingMode) -> Self {
        self.mode = mode;
        self
    }

    /// The same geometry with dilation (dh, dw).
    pub fn with_dilation(mut self, dilation: (usize, usize)) -> Self {
        self.dilation = dilation;
        self
    }

    /// The same geometry with `groups` groups.
    pub fn with_groups(mut self, groups: usize) -> Self {
        self.groups = groups;
        self
    }

    /// Input channels per group, C_in / groups.
    pub fn c_in_per_group(&self) -> usize {
        self.c_in / self.groups.max(1)
    }

    /// Output channels per group, C_out / groups.
    pub fn c_out_per_group(&self) -> usize {
        self.c_out / self.groups.max(1)
    }

    /// Padded input size (H + top + bottom, W + left + right).
    pub fn padded_size(&self) -> (usize, usize) {
        // Saturating: validation refuses sizes near the limit, and an
        // invalid geometry must not panic here.
        (
            self.h
                .saturating_add(self.padding.0)
                .saturating_add(self.padding.2),
            self.w
                .saturating_add(self.padding.1)
                .saturating_add(self.padding.3),
        )
    }

    /// Output size (OH, OW) by PyTorch's formula. Call [`Conv2dGeometry::validate`]
    /// first: for an invalid geometry the result is meaningless (but no panic).
    pub fn output_size(&self) -> (usize, usize) {
        let (ph, pw) = self.padded_size();
        let span_h = self
            .dilation
            .0
            .saturating_mul(self.kh.max(1) - 1)
            .saturating_add(1);
        let span_w = self
            .dilation
            .1
            .saturating_mul(self.kw.max(1) - 1)
            .saturating_add(1);
        let oh = if ph >= span_h && self.stride.0 > 0 {
            (ph - span_h) / self.stride.0 + 1
        } else {
            0
        };
        let ow = if pw >= span_w && self.stride.1 > 0 {
            (pw - span_w) / self.stride.1 + 1
        } else {
            0
        };
        (oh, ow)
    }

    /// The same operator with each stride along an axis that has a single
    /// output replaced by the smallest stride that also gives one output,
    /// max(1, padded − span + 1): output 0 reads padded positions a·d only,
    /// whatever the stride, so the linear map is unchanged, while the
    /// circular embedding (whose polyphase factor is the stride) stays as
    /// small as the input. A stride of 2⁶² on an 8×8 input is legal in
    /// PyTorch (1×1 output) and must not make the certificate allocate
    /// 2⁶² residues. Call on a validated geometry.
    pub fn with_unit_output_strides(&self) -> Self {
        let (oh, ow) = self.output_size();
        let (ph, pw) = self.padded_size();
        let span = |d: usize, k: usize| d.saturating_mul(k.max(1) - 1).saturating_add(1);
        let mut g = *self;
        if oh == 1 {
            let s = ph.saturating_sub(span(self.dilation.0, self.kh));
            g.stride.0 = self.stride.0.min(s.saturating_add(1));
        }
        if ow == 1 {
            let s = pw.saturating_sub(span(self.dilation.1, self.kw));
            g.stride.1 = self.stride.1.min(s.saturating_add(1));
        }
        g
    }

    /// Input dimension of the linear map, C_in·H·W.
    /// (Saturating at `usize::MAX`; exact for a validated geometry.)
    pub fn input_len(&self) -> usize {
        self.c_in.saturating_mul(self.h).saturating_mul(self.w)
    }

    /// Output dimension of the linear map, C_out·OH·OW (saturating; exact
    /// for a validated geometry).
    pub fn output_len(&self) -> usize {
        let (oh, ow) = self.output_size();
        self.c_out.saturating_mul(oh).saturating_mul(ow)
    }

    /// Number of kernel entries, C_out·(C_in/groups)·kh·kw (saturating;
    /// exact for a validated geometry).
    pub fn kernel_len(&self) -> usize {
        self.c_out
            .saturating_mul(self.c_in_per_group())
            .saturating_mul(self.kh)
            .saturating_mul(self.kw)
    }

    /// Checks the geometry with PyTorch's rules and returns a clear
    /// [`Error::InvalidOption`] otherwise: all sizes, strides and dilations ≥ 1;
    /// C_in and C_out divisible by groups; the dilated kernel
    /// dh·(kh − 1) + 1 no larger than the padded input (PyTorch: "kernel size
    /// can't be greater than actual input size"); reflect padding smaller than
    /// the input on that axis; circular padding no larger than the input
    /// (PyTorch: "padding value causes wrapping around more than once"); and
    /// sizes whose products fit in memory indices.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidOption(msg));
        for (name, v) in [
            ("output channels", self.c_out),
            ("input channels", self.c_in),
            ("groups", self.groups),
            ("kernel height", self.kh),
            ("kernel width", self.kw),
            ("input height", self.h),
            ("input width", self.w),
            ("vertical stride", self.stride.0),
            ("horizontal stride", self.stride.1),
            ("vertical dilation", self.dilation.0),
            ("horizontal dilation", self.dilation.1),
        ] {
            if v == 0 {
                return bad(format!("{name} must be at least 1"));
            }
        }
        if self.c_in % self.groups != 0 {
            return bad(format!(
                "input channels {} are not divisible by groups {}",
                self.c_in, self.groups
            ));
        }
        if self.c_out % self.groups != 0 {
            return bad(format!(
                "output channels {} are not divisible by groups {}",
                self.c_out, self.groups
            ));
        }
        let (top, left, bottom, right) = self.padding;
        match self.mode {
            PaddingMode::Reflect => {
                if top >= self.h || bottom >= self.h || left >= self.w || right >= self.w {
                    return bad(format!(
                        "reflect padding ({top}, {left}, {bottom}, {right}) must be smaller than the input size {}x{} on each axis (PyTorch's rule)",
                        self.h, self.w
                    ));
                }
            }
            PaddingMode::Circular => {
                if top > self.h || bottom > self.h || left > self.w || right > self.w {
                    return bad(format!(
                        "circular padding ({top}, {left}, {bottom}, {right}) must not exceed the input size {}x{} on any axis (it would wrap around more than once)",
                        self.h, self.w
                    ));
                }
            }
            PaddingMode::Zeros | PaddingMode::Replicate => {}
        }
        let limit = 1usize << 40;
        let checked = |parts: &[usize]| -> Option<usize> {
            parts.iter().try_fold(1usize, |acc, &p| acc.checked_mul(p))
        };
        let (ph, pw) = (
            self.h.checked_add(top).and_then(|v| v.checked_add(bottom)),
            self.w.checked_add(left).and_then(|v| v.checked_add(right)),
        );
        let (ph, pw) = match (ph, pw) {
            (Some(a), Some(b)) if a < limit && b < limit => (a, b),
            _ => return bad("padded input size is too large".into()),
        };
        let span_h = self
            .dilation
            .0
            .checked_mul(self.kh - 1)
            .and_then(|v| v.checked_add(1));
        let span_w = self
            .dilation
            .1
            .checked_mul(self.kw - 1)
            .and_then(|v| v.checked_add(1));
        let (span_h, span_w) = match (span_h, span_w) {
            (Some(a), Some(b)) => (a, b),
            _ => return bad("dilated kernel size is too large".into()),
        };
        if span_h > ph || span_w > pw {
            return bad(format!(
                "the dilated kernel {span_h}x{span_w} is larger than the padded input {ph}x{pw}"
            ));
        }
        let sizes_fit = checked(&[self.c_in, self.h, self.w]).is_some_and(|v| v < limit)
            && checked(&[self.c_out, ph, pw]).is_some_and(|v| v < limit)
            && checked(&[self.c_out, self.c_in_per_group(), self.kh, self.kw])
                .is_some_and(|v| v < limit);
        if !sizes_fit {
            return bad("the convolution is too large to index (C·H·W ≥ 2^40)".into());
        }
        Ok(())
    }

    /// Short description of the geometry, e.g.
    /// `conv2d 64->64 k3x3 in 56x56 stride 1x1 pad (1,1,1,1) zeros dil 1x1 groups 1 -> 56x56`.
    pub fn description(&self) -> String {
        let (oh, ow) = self.output_size();
        let (t, l, b, r) = self.padding;
        format!(
            "conv2d {}->{} k{}x{} in {}x{} stride {}x{} pad ({t},{l},{b},{r}) {} dil {}x{} groups {} -> {oh}x{ow}",
            self.c_in,
            self.c_out,
            self.kh,
            self.kw,
            self.h,
            self.w,
            self.stride.0,
            self.stride.1,
            self.mode,
            self.dilation.0,
            self.dilation.1,
            self.groups
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_pytorch_invalid_geometries_with_messages() {
        let mut g = Conv2dGeometry::new(4, 3, 3, 3, 5, 5);
        g.groups = 2;
        let e = g.validate().unwrap_err().to_string();
        assert!(e.contains("not divisible by groups"), "{e}");
        let mut g = Conv2dGeometry::new(2, 2, 7, 7, 5, 5);
        assert!(g
            .validate()
            .unwrap_err()
            .to_string()
            .contains("larger than the padded"));
        g.padding = (1, 1, 1, 1);
        assert!(g.validate().is_ok());
        g.mode = PaddingMode::Reflect;
        g.padding = (5, 1, 0, 1);
        g.kh = 1;
        assert!(g.validate().unwrap_err().to_string().contains("reflect"));
        g.mode = PaddingMode::Circular;
        assert!(g.validate().is_ok());
        g.padding = (6, 1, 0, 1);
        assert!(g.validate().unwrap_err().to_string().contains("circular"));
        let mut g = Conv2dGeometry::new(1, 1, 1, 1, 1, 1);
        g.stride = (0, 1);
        assert!(g.validate().unwrap_err().to_string().contains("stride"));
    }

    #[test]
    fn output_size_matches_resnet_shapes() {
        let mut stem = Conv2dGeometry::new(64, 3, 7, 7, 224, 224);
        stem.stride = (2, 2);
        stem.padding = (3, 3, 3, 3);
        assert_eq!(stem.output_size(), (112, 112));
        let mut g = Conv2dGeometry::conv1d(2, 2, 3, 10);
        g.dilation = (1, 2);
        assert_eq!(g.output_size(), (1, 6));
        assert_eq!(
            "circular".parse::<PaddingMode>().unwrap(),
            PaddingMode::Circular
        );
        assert!("mirror".parse::<PaddingMode>().is_err());
    }
}
