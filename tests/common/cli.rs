// Running the real `lipcert` binary from integration tests.

use std::process::Command;

/// Exit code and both output streams of one run.
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `lipcert ARGS…` and asserts it did not panic (a panic would be an
/// "internal error" line with exit code 3).
pub fn run(args: &[&str]) -> Out {
    run_with_env(args, &[])
}

/// [`run`] with extra environment variables (e.g. `LIPCERT_TIMING=1`).
pub fn run_with_env(args: &[&str], env: &[(&str, &str)]) -> Out {
    // Cargo builds the binary for integration tests and names it here.
    let out = Command::new(env!("CARGO_BIN_EXE_lipcert"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let o = Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !o.stderr.contains("panicked") && !o.stderr.contains("internal error"),
        "{}",
        o.stderr
    );
    o
}
