//! Writing a file so that it is either completely replaced or not touched at
//! all: every file lipcert writes goes through [`write_atomic`].
//!
//! The bytes go to a new temporary file in the target's own directory (so
//! that the final rename stays within one file system), which is flushed to
//! disk with `fsync`; only then is it renamed over the target. `rename(2)`
//! replaces the directory entry atomically (POSIX), so a reader — or a crash,
//! a full disk, a file-size limit — sees either the old file or the new one,
//! never a truncated mix. When the target is also the input (`lipcert
//! normalize a.npy a.npy`), the input survives every failure before the
//! rename.
//!
//! On failure the temporary file is removed and the error says that the
//! target was left unchanged.

use super::error::{InputError, Problem};
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes temporary files of concurrent writes within one process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `target` atomically (temporary file in the same
/// directory, `fsync`, rename over the target). A symbolic link as target is
/// followed: the file it points to is replaced, the link is kept. An existing
/// target's permissions are kept.
///
/// On any failure nothing at `target` has changed, the temporary file is
/// removed, and the error ([`Problem::Unwritable`]) says so.
///
/// ```
/// use lipcert::io::atomic_write::write_atomic;
/// let dir = std::env::temp_dir().join(format!("lipcert-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let target = dir.join("out.bin");
/// write_atomic(&target, b"old").unwrap();
/// write_atomic(&target, b"new").unwrap();
/// assert_eq!(std::fs::read(&target).unwrap(), b"new");
/// // A directory that does not exist: an error, and nothing is created.
/// let err = write_atomic(&dir.join("missing/out.bin"), b"x").unwrap_err();
/// assert!(err.to_string().contains("left unchanged"));
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn write_atomic(target: &Path, bytes: &[u8]) -> Result<(), InputError> {
    write_atomic_with(target, |file| file.write_all(bytes))
}

/// [`write_atomic`] with the contents produced by `fill`, which writes them
/// to the temporary file (a failing `fill` — e.g. a writer that runs out of
/// space — leaves the target unchanged like any other failure).
pub fn write_atomic_with(
    target: &Path,
    fill: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<(), InputError> {
    let fail = |what: String| {
        InputError::new(
            target,
            Problem::Unwritable(format!("{what}; the file was left unchanged")),
        )
    };
    let destination = resolve_link(target);
    let dir = match destination.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file_name = destination
        .file_name()
        .ok_or_else(|| fail("the output path names no file".to_owned()))?;
    if destination.is_dir() {
        return Err(fail("the output path is a directory".to_owned()));
    }
    let permissions = fs::metadata(&destination).ok().map(|m| m.permissions());
    let (temp_path, mut file) = create_temp(&dir, file_name).map_err(|e| {
        fail(format!(
            "cannot create a temporary file in {}: {e}",
            dir.display()
        ))
    })?;
    let result = (|| {
        fill(&mut file)?;
        file.flush()?;
        if let Some(p) = permissions {
            file.set_permissions(p)?;
        }
        file.sync_all()
    })();
    drop(file);
    if let Err(e) = result {
        let _ = fs::remove_file(&temp_path);
        return Err(fail(e.to_string()));
    }
    if let Err(e) = fs::rename(&temp_path, &destination) {
        let _ = fs::remove_file(&temp_path);
        return Err(fail(format!(
            "cannot rename the temporary file over it: {e}"
        )));
    }
    // Make the rename itself durable; a failure here cannot be undone and
    // the new contents are in place, so it is not reported.
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The file a path finally refers to when it is a symbolic link (so that the
/// rename replaces the file, not the link); the path itself otherwise.
fn resolve_link(target: &Path) -> PathBuf {
    match fs::symlink_metadata(target) {
        Ok(m) if m.file_type().is_symlink() => {
            fs::canonicalize(target).unwrap_or_else(|_| target.to_path_buf())
        }
        _ => target.to_path_buf(),
    }
}

/// Creates `.NAME.lipcert-PID-N.tmp` in `dir` (never an existing file).
fn create_temp(dir: &Path, name: &std::ffi::OsStr) -> std::io::Result<(PathBuf, File)> {
    let mut last = None;
    for _ in 0..64 {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".lipcert-{}-{n}.tmp", std::process::id()));
        let path = dir.join(temp_name);
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary file name")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("lipcert-aw-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".lipcert-"))
            .collect()
    }

    #[test]
    fn a_failing_writer_leaves_the_target_and_no_temporary_file() {
        let dir = temp_dir("fail");
        let target = dir.join("a.npy");
        fs::write(&target, b"original contents").unwrap();
        let err = write_atomic_with(&target, |f| {
            f.write_all(b"half")?;
            Err(std::io::Error::other("disk full (simulated)"))
        })
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("disk full (simulated)"), "{msg}");
        assert!(msg.contains("left unchanged"), "{msg}");
        assert!(msg.starts_with(&target.display().to_string()), "{msg}");
        assert_eq!(fs::read(&target).unwrap(), b"original contents");
        assert!(leftovers(&dir).is_empty(), "{:?}", leftovers(&dir));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn replaces_contents_keeps_permissions_and_follows_links() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("ok");
        let target = dir.join("w.safetensors");
        fs::write(&target, b"a much longer old content").unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&target, b"new").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        let link = dir.join("link.safetensors");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_atomic(&link, b"via link").unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&target).unwrap(), b"via link");
        assert!(leftovers(&dir).is_empty());
        // A directory as target is refused and kept.
        let err = write_atomic(&dir, b"x").unwrap_err();
        assert!(err.to_string().contains("directory"), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
