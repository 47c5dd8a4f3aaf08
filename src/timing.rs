//! Per-stage timers for profiling long runs, printed to stderr only when the
//! environment variable `LIPCERT_TIMING` is set to a non-empty value other
//! than `0` (the convention of `GIT_TRACE_PERFORMANCE`: off by default, no
//! flag to thread through every API, works for the library and the CLI
//! alike).
//!
//! Each finished stage prints one line
//!
//! ```text
//! lipcert timing: gram 4096x4096: 1.234 s wall, 2.410 s cpu
//! ```
//!
//! where `cpu` is the CPU time of the whole process (all threads, user +
//! system) spent during the stage, read from `/proc/self/stat` (Linux only,
//! 10 ms resolution; omitted elsewhere). On a shared machine the CPU time is
//! the steadier figure: wall time also counts waiting for other processes.
//! Timers never change a result.

use std::sync::OnceLock;
use std::time::Instant;

/// Whether `LIPCERT_TIMING` asks for stage timings (read once per process).
pub fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| {
        std::env::var_os("LIPCERT_TIMING").is_some_and(|v| !v.is_empty() && v != "0")
    })
}

/// A running stage timer; [`Stage::done`] prints its line (when enabled).
#[derive(Debug)]
pub struct Stage {
    start: Option<(Instant, Option<f64>)>,
}

/// Starts timing a stage (a no-op unless [`enabled`]).
pub fn stage() -> Stage {
    Stage {
        start: enabled().then(|| (Instant::now(), process_cpu_seconds())),
    }
}

impl Stage {
    /// Prints `lipcert timing: {what}: … s wall, … s cpu` on stderr when
    /// timings are enabled; `what` is only formatted then.
    pub fn done(self, what: impl FnOnce() -> String) {
        let Some((start, cpu0)) = self.start else {
            return;
        };
        let wall = start.elapsed().as_secs_f64();
        let cpu = match (cpu0, process_cpu_seconds()) {
            (Some(a), Some(b)) => format!(", {:.2} s cpu", b - a),
            _ => String::new(),
        };
        eprintln!("lipcert timing: {}: {wall:.3} s wall{cpu}", what());
    }
}

/// User + system CPU time of this process (all threads), in seconds, from
/// fields 14 and 15 of `/proc/self/stat` (clock ticks of 1/100 s, the fixed
/// `USER_HZ` of Linux's user-space ABI). `None` where it cannot be read.
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    parse_cpu_ticks(&stat).map(|t| t as f64 / 100.0)
}

/// utime + stime from the text of `/proc/PID/stat`. The command name (field
/// 2) is in parentheses and may itself hold spaces or parentheses, so the
/// fields are counted after the *last* `)`: utime and stime are then the
/// 12th and 13th.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utime_and_stime_after_the_command_name() {
        // A real line's shape, with a command name holding ") (" and spaces.
        let line = "4242 (a) (b c) R 1 2 3 4 5 6 7 8 9 10 1234 56 0 0 20 0 1 0";
        assert_eq!(parse_cpu_ticks(line), Some(1234 + 56));
        assert_eq!(parse_cpu_ticks("no parenthesis here"), None);
        assert_eq!(parse_cpu_ticks("1 (x) R 1 2"), None);
    }

    #[test]
    fn process_cpu_time_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            let t = process_cpu_seconds().expect("/proc/self/stat");
            assert!(t >= 0.0);
        }
    }
}
