//! From `--input/--stride/--padding/...` strings and a kernel tensor's shape
//! to a validated [`Conv2dGeometry`].

use super::args::ConvGeometryArgs;
use crate::conv::{Conv2dGeometry, PaddingMode};

/// Parses `N` or `A,B` (or `AxB` for sizes) into a pair; `N` means `(N, N)`.
fn pair(flag: &str, text: &str) -> Result<(usize, usize), String> {
    let parts: Vec<&str> = text.split([',', 'x']).map(str::trim).collect();
    let nums = parts
        .iter()
        .map(|p| p.parse::<usize>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| format!("--{flag} '{text}': expected N or N,N (non-negative integers)"))?;
    match nums.as_slice() {
        [a] => Ok((*a, *a)),
        [a, b] => Ok((*a, *b)),
        _ => Err(format!("--{flag} '{text}': expected N or N,N")),
    }
}

/// `P`, `PH,PW` or `TOP,LEFT,BOTTOM,RIGHT` → (top, left, bottom, right).
fn padding(text: &str) -> Result<(usize, usize, usize, usize), String> {
    let nums = text
        .split(',')
        .map(|p| p.trim().parse::<usize>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| format!("--padding '{text}': expected P, PH,PW or TOP,LEFT,BOTTOM,RIGHT"))?;
    match nums.as_slice() {
        [p] => Ok((*p, *p, *p, *p)),
        [ph, pw] => Ok((*ph, *pw, *ph, *pw)),
        [t, l, b, r] => Ok((*t, *l, *b, *r)),
        _ => Err(format!(
            "--padding '{text}': expected P, PH,PW or TOP,LEFT,BOTTOM,RIGHT"
        )),
    }
}

/// The parsed geometry options, before a kernel shape is known.
#[derive(Debug, Clone, PartialEq)]
pub struct GeometryOptions {
    input: (usize, usize),
    input_is_1d: bool,
    stride: (usize, usize),
    padding: (usize, usize, usize, usize),
    mode: PaddingMode,
    dilation: (usize, usize),
    groups: usize,
}

impl GeometryOptions {
    /// Parses the options; `Ok(None)` when `--input` is absent.
    pub fn parse(args: &ConvGeometryArgs) -> Result<Option<Self>, String> {
        let Some(input) = args.input.as_deref() else {
            return Ok(None);
        };
        let input_is_1d = !input.contains(['x', ',']);
        let input = pair("input", input)?;
        if args.groups == 0 {
            return Err("--groups must be at least 1".to_owned());
        }
        let mode = args
            .padding_mode
            .parse::<PaddingMode>()
            .map_err(|e| e.to_string())?;
        Ok(Some(Self {
            input,
            input_is_1d,
            stride: pair("stride", &args.stride)?,
            padding: padding(&args.padding)?,
            mode,
            dilation: pair("dilation", &args.dilation)?,
            groups: args.groups,
        }))
    }

    /// The geometry for a kernel of this shape: 4-D `[C_out, C_in/groups,
    /// kh, kw]` with input `HxW`, or 3-D `[C_out, C_in/groups, k]` (a 1-D
    /// convolution) with input `L`, where single numbers for stride,
    /// dilation and padding apply to the length only.
    pub fn geometry_for(&self, shape: &[usize]) -> Result<Conv2dGeometry, String> {
        let mut g = match *shape {
            [c_out, c_in_g, kh, kw] => {
                let mut g = Conv2dGeometry::new(
                    c_out,
                    c_in_g * self.groups,
                    kh,
                    kw,
                    self.input.0,
                    self.input.1,
                );
                g.stride = self.stride;
                g.padding = self.padding;
                g.dilation = self.dilation;
                g
            }
            [c_out, c_in_g, k] => {
                if !self.input_is_1d && self.input.0 != 1 {
                    return Err(format!(
                        "a 3-D kernel is a 1-D convolution: give --input as the length L (got {}x{})",
                        self.input.0, self.input.1
                    ));
                }
                let mut g =
                    Conv2dGeometry::conv1d(c_out, c_in_g * self.groups, k, self.input.1);
                g.stride = (1, self.stride.1);
                g.dilation = (1, self.dilation.1);
                g.padding = (0, self.padding.1, 0, self.padding.3);
                g
            }
            _ => {
                return Err(format!(
                    "a convolution kernel must be 4-D [C_out, C_in/groups, kh, kw] or 3-D [C_out, C_in/groups, k], not {}-D",
                    shape.len()
                ))
            }
        };
        g.groups = self.groups;
        g.mode = self.mode;
        g.validate().map_err(|e| e.to_string())?;
        Ok(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(input: &str, stride: &str, padding: &str) -> ConvGeometryArgs {
        ConvGeometryArgs {
            input: Some(input.to_owned()),
            stride: stride.to_owned(),
            padding: padding.to_owned(),
            padding_mode: "zeros".to_owned(),
            dilation: "1".to_owned(),
            groups: 1,
        }
    }

    #[test]
    fn parses_the_documented_forms() {
        let o = GeometryOptions::parse(&args("56x56", "2", "1"))
            .unwrap()
            .unwrap();
        let g = o.geometry_for(&[128, 64, 3, 3]).unwrap();
        assert_eq!(
            (g.h, g.w, g.stride, g.padding),
            (56, 56, (2, 2), (1, 1, 1, 1))
        );
        let o = GeometryOptions::parse(&args("7x9", "1,2", "1,2,3,4"))
            .unwrap()
            .unwrap();
        let g = o.geometry_for(&[4, 2, 3, 3]).unwrap();
        assert_eq!(
            (g.h, g.w, g.stride, g.padding),
            (7, 9, (1, 2), (1, 2, 3, 4))
        );
        let o = GeometryOptions::parse(&args("7x9", "1", "1,2"))
            .unwrap()
            .unwrap();
        assert_eq!(o.geometry_for(&[4, 2, 3, 3]).unwrap().padding, (1, 2, 1, 2));
        let o = GeometryOptions::parse(&args("100", "2", "3"))
            .unwrap()
            .unwrap();
        let g = o.geometry_for(&[4, 2, 5]).unwrap();
        assert_eq!(
            (g.h, g.w, g.kh, g.kw, g.stride, g.padding),
            (1, 100, 1, 5, (1, 2), (0, 3, 0, 3))
        );
    }

    #[test]
    fn rejects_malformed_options_with_the_flag_name() {
        let e = GeometryOptions::parse(&args("56y56", "1", "0")).unwrap_err();
        assert!(e.contains("--input"), "{e}");
        let e = GeometryOptions::parse(&args("8x8", "1,2,3", "0")).unwrap_err();
        assert!(e.contains("--stride"), "{e}");
        let e = GeometryOptions::parse(&args("8x8", "1", "1,2,3")).unwrap_err();
        assert!(e.contains("--padding"), "{e}");
        let o = GeometryOptions::parse(&args("8x8", "1", "0"))
            .unwrap()
            .unwrap();
        assert!(o.geometry_for(&[4, 3]).unwrap_err().contains("4-D"));
        // Kernel larger than the padded input is PyTorch's error too.
        assert!(o.geometry_for(&[4, 3, 9, 9]).is_err());
        assert!(GeometryOptions::parse(&ConvGeometryArgs {
            input: None,
            ..args("1", "1", "0")
        })
        .unwrap()
        .is_none());
    }
}
