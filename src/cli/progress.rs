//! Progress on stderr while a file with several tensors is processed.
//!
//! Policy: a bar is drawn only when more than one tensor is processed *and*
//! stderr is a terminal; otherwise (CI logs, pipes, redirected stderr)
//! nothing but notes and errors reaches stderr. stdout never carries
//! progress, so `--json` output stays clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};

/// A progress bar that may be hidden; notes go to stderr either way.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar for `total` tensors (hidden unless `total > 1` and stderr is a
    /// terminal).
    pub fn new(total: usize) -> Self {
        let visible = total > 1 && std::io::stderr().is_terminal();
        let bar = if visible {
            let bar =
                ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:30} {pos}/{len} tensors  {elapsed}, ETA {eta}  {msg}",
            ) {
                bar.set_style(style);
            }
            bar
        } else {
            ProgressBar::hidden()
        };
        Self { bar }
    }

    /// Shows which tensor is being processed.
    pub fn start(&self, name: &str) {
        self.bar
            .set_message(crate::io::escape::escape_name(name).into_owned());
    }

    /// One tensor done.
    pub fn inc(&self) {
        self.bar.inc(1);
    }

    /// Prints a line on stderr without garbling the bar (control
    /// characters escaped: it stays one line).
    pub fn note(&self, line: &str) {
        let line = crate::io::escape::escape_line(line);
        self.bar.suspend(|| {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        });
    }

    /// Prints a line on stdout without garbling the bar (errors such as a
    /// closed pipe are ignored).
    pub fn out(&self, line: &str) {
        self.bar.suspend(|| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        });
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
