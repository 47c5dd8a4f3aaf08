//! A memory budget: every job estimates the memory it needs *before*
//! allocating, and refuses with [`Error::OverBudget`] (naming the job and the
//! estimate) when the estimate exceeds the budget, so that a hostile or
//! mistaken input (a 100000×100000 convolution grid, an adaptive pooling to
//! 2⁴⁰ outputs) gets a clear error instead of an allocation abort that takes
//! the process — or the machine — down.
//!
//! Estimates are computed with checked integer arithmetic: a size whose
//! byte count overflows `u64` is "more than can be addressed" and always
//! over budget. They are deliberately rough (within a small factor of the
//! peak), and err on the high side for the large buffers.
//!
//! The default budget is half the machine's physical memory (`MemTotal` in
//! `/proc/meminfo`), or 4 GiB when that cannot be read, and never more than
//! half of the process's address-space limit (`ulimit -v`) when one is set.
//! The command line sets it with `--max-memory BYTES` (suffixes K, M, G, T,
//! powers of 1024).

use crate::error::{Error, Result};
use std::sync::OnceLock;

/// The most memory (bytes) a single job may plan to allocate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryBudget {
    bytes: u64,
}

/// Fallback when the physical memory cannot be read: 4 GiB.
pub const FALLBACK_BUDGET: u64 = 4 << 30;

impl Default for MemoryBudget {
    /// [`MemoryBudget::from_system`], read once per process.
    fn default() -> Self {
        static SYSTEM: OnceLock<MemoryBudget> = OnceLock::new();
        *SYSTEM.get_or_init(MemoryBudget::from_system)
    }
}

impl MemoryBudget {
    /// A budget of `bytes`.
    pub fn new(bytes: u64) -> Self {
        Self { bytes }
    }

    /// No limit (every estimate that fits in `u64` passes).
    pub fn unlimited() -> Self {
        Self { bytes: u64::MAX }
    }

    /// Half the physical memory (`MemTotal` of `/proc/meminfo`; 4 GiB when
    /// unreadable), capped at half the address-space limit of the process
    /// (`Max address space` of `/proc/self/limits`) when one is set.
    pub fn from_system() -> Self {
        let total = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|s| parse_meminfo_total(&s));
        let mut bytes = total.map_or(FALLBACK_BUDGET, |t| t / 2);
        if let Some(limit) = std::fs::read_to_string("/proc/self/limits")
            .ok()
            .and_then(|s| parse_address_space_limit(&s))
        {
            bytes = bytes.min(limit / 2);
        }
        Self { bytes }
    }

    /// The budget in bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// `Ok` when `needed` (bytes; `None` = the size computation overflowed)
    /// fits the budget, else [`Error::OverBudget`] naming `what`.
    pub fn check(&self, what: &str, needed: Option<u64>) -> Result<()> {
        match needed {
            Some(n) if n <= self.bytes => Ok(()),
            _ => Err(Error::OverBudget {
                what: what.to_owned(),
                needed,
                budget: self.bytes,
            }),
        }
    }

    /// Parses `BYTES` with an optional suffix: `K`, `M`, `G`, `T` (powers of
    /// 1024, optionally followed by `B` or `iB`), e.g. `8G`, `512M`,
    /// `1.5G`, `1000000`. Zero is refused.
    ///
    /// ```
    /// use lipcert::budget::MemoryBudget;
    /// assert_eq!(MemoryBudget::parse("512M").unwrap().bytes(), 512 << 20);
    /// assert_eq!(MemoryBudget::parse("1.5G").unwrap().bytes(), 3 << 29);
    /// assert!(MemoryBudget::parse("-1G").is_err());
    /// ```
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let t = text.trim();
        let upper = t.to_ascii_uppercase();
        let stripped = upper
            .strip_suffix("IB")
            .or_else(|| upper.strip_suffix('B'))
            .unwrap_or(&upper);
        let (number, shift) = match stripped.chars().last() {
            Some('K') => (&stripped[..stripped.len() - 1], 10),
            Some('M') => (&stripped[..stripped.len() - 1], 20),
            Some('G') => (&stripped[..stripped.len() - 1], 30),
            Some('T') => (&stripped[..stripped.len() - 1], 40),
            _ => (stripped, 0),
        };
        let bad = || {
            format!(
                "--max-memory '{text}': expected a positive number of bytes, optionally with K, M, G or T (e.g. 8G, 512M)"
            )
        };
        let number = number.trim();
        if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit() || c == '.') {
            return Err(bad());
        }
        let bytes = if let Ok(n) = number.parse::<u64>() {
            n.checked_mul(1u64 << shift)
        } else {
            let x: f64 = number.parse().map_err(|_| bad())?;
            let v = x * (1u64 << shift) as f64;
            (v.is_finite() && v < u64::MAX as f64).then_some(v as u64)
        };
        match bytes {
            Some(b) if b > 0 => Ok(Self::new(b)),
            Some(_) => Err(bad()),
            None => Err(format!("--max-memory '{text}' is too large")),
        }
    }
}

/// `MemTotal` of `/proc/meminfo` in bytes.
fn parse_meminfo_total(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut parts = line.split_whitespace().skip(1);
    let value: u64 = parts.next()?.parse().ok()?;
    match parts.next() {
        Some("kB") | None => value.checked_mul(1024),
        _ => None,
    }
}

/// The soft `Max address space` limit of `/proc/self/limits` in bytes
/// (`None` when unlimited or unreadable).
fn parse_address_space_limit(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("Max address space"))?;
    let soft = line["Max address space".len()..]
        .split_whitespace()
        .next()?;
    soft.parse().ok()
}

/// A byte count as text with one decimal: `80.0 GB`, `512.0 MB`, `12 B`
/// (powers of 1000, as disks and `free -h --si` print them).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["kB", "MB", "GB", "TB", "PB", "EB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Checked product of sizes (`None` on overflow).
pub fn product(parts: &[u64]) -> Option<u64> {
    parts.iter().try_fold(1u64, |acc, &p| acc.checked_mul(p))
}

/// Checked sum of optional byte counts (`None` if any is `None` or the sum
/// overflows).
pub fn total(parts: &[Option<u64>]) -> Option<u64> {
    parts
        .iter()
        .try_fold(0u64, |acc, p| p.and_then(|p| acc.checked_add(p)))
}

/// Bytes of `count` f64 values, `count` given as a product of sizes.
pub fn f64s(parts: &[usize]) -> Option<u64> {
    let mut v: Vec<u64> = parts.iter().map(|&p| p as u64).collect();
    v.push(8);
    product(&v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes_with_suffixes() {
        let b = |s: &str| MemoryBudget::parse(s).map(|m| m.bytes());
        assert_eq!(b("8G"), Ok(8 << 30));
        assert_eq!(b("8GiB"), Ok(8 << 30));
        assert_eq!(b("8gb"), Ok(8 << 30));
        assert_eq!(b("512M"), Ok(512 << 20));
        assert_eq!(b("1000000"), Ok(1_000_000));
        assert_eq!(b("2T"), Ok(2 << 40));
        assert_eq!(b("0.5K"), Ok(512));
        for bad in [
            "",
            "0",
            "G",
            "-1",
            "1X",
            "abc",
            "1e9",
            "99999999999999999999T",
        ] {
            assert!(b(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reads_meminfo_and_limits() {
        assert_eq!(
            parse_meminfo_total("MemTotal:       24000000 kB\nMemFree: 1 kB\n"),
            Some(24_000_000 * 1024)
        );
        assert_eq!(parse_meminfo_total("nothing"), None);
        let limits = "Limit                     Soft Limit           Hard Limit           Units\nMax address space         2147483648           unlimited            bytes\n";
        assert_eq!(parse_address_space_limit(limits), Some(2147483648));
        let unlimited =
            "Max address space         unlimited            unlimited            bytes\n";
        assert_eq!(parse_address_space_limit(unlimited), None);
        let d = MemoryBudget::default();
        assert!(d.bytes() > 0);
    }

    #[test]
    fn checks_and_reports_the_estimate() {
        let b = MemoryBudget::new(12_000_000_000);
        assert!(b.check("x", Some(1000)).is_ok());
        let e = b
            .check("a 100000x100000 grid", Some(80_000_000_000))
            .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("80.0 GB") && msg.contains("12.0 GB"), "{msg}");
        assert!(msg.contains("--max-memory"), "{msg}");
        assert!(b.check("x", None).unwrap_err().to_string().contains("more"));
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(1_500_000), "1.5 MB");
        assert_eq!(f64s(&[usize::MAX, 2]), None);
        assert_eq!(total(&[Some(1), None]), None);
        assert_eq!(total(&[Some(1), Some(2)]), Some(3));
    }
}
