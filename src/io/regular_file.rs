//! Opening an input file for reading: only regular files (not `/dev/zero`,
//! a FIFO, a terminal or a directory, directly or through a link), and never
//! more bytes than the file had when it was opened — so a reader can first
//! read a header, check the length it declares against the file's size, and
//! only then read the data. Every input lipcert reads (`.npy`,
//! `.safetensors`, network specs and their weights) goes through
//! [`RegularFile`].

use super::error::{InputError, Problem};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// An open regular file, its size when opened, and the bytes read so far
/// (always a prefix of the file).
#[derive(Debug)]
pub struct RegularFile {
    path: PathBuf,
    file: File,
    len: u64,
    bytes: Vec<u8>,
}

impl RegularFile {
    /// Opens `path`, refusing anything but a regular file. The type is
    /// checked before opening (opening a FIFO would block) and again on the
    /// open handle (the path may have been swapped in between).
    ///
    /// ```
    /// use lipcert::io::regular_file::RegularFile;
    /// use std::path::Path;
    /// let err = RegularFile::open(Path::new("/dev/zero")).unwrap_err();
    /// assert!(err.to_string().contains("not a regular file"));
    /// ```
    pub fn open(path: &Path) -> Result<Self, InputError> {
        let unreadable = |why: String| InputError::new(path, Problem::Unreadable(why));
        let meta = std::fs::metadata(path).map_err(|e| unreadable(e.to_string()))?;
        check_regular(path, &meta)?;
        let file = File::open(path).map_err(|e| unreadable(e.to_string()))?;
        let meta = file.metadata().map_err(|e| unreadable(e.to_string()))?;
        check_regular(path, &meta)?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
            len: meta.len(),
            bytes: Vec::new(),
        })
    }

    /// The file's size in bytes when it was opened.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True for an empty file.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads until the first `min(n, len)` bytes are in memory and returns
    /// everything read so far. A file that shrank while being read is an
    /// error; growth is never read.
    pub fn fill_to(&mut self, n: u64) -> Result<&[u8], InputError> {
        let want = n.min(self.len);
        let have = self.bytes.len() as u64;
        if want > have {
            let extra = usize::try_from(want - have).map_err(|_| {
                InputError::new(
                    &self.path,
                    Problem::Unreadable("the file is too large for this platform".to_owned()),
                )
            })?;
            self.bytes.reserve_exact(extra);
            let got = (&mut self.file)
                .take(want - have)
                .read_to_end(&mut self.bytes)
                .map_err(|e| InputError::new(&self.path, Problem::Unreadable(e.to_string())))?;
            if (got as u64) < want - have {
                return Err(InputError::new(
                    &self.path,
                    Problem::Unreadable(
                        "the file became shorter while it was being read".to_owned(),
                    ),
                ));
            }
        }
        Ok(&self.bytes)
    }

    /// Reads the whole file (its size when opened) and returns its bytes.
    pub fn read_all(mut self) -> Result<Vec<u8>, InputError> {
        self.fill_to(self.len)?;
        Ok(self.bytes)
    }

    /// Reads the `length` bytes at `offset` (an external-data slice), which
    /// must lie within the size the file had when opened.
    pub fn read_range(&mut self, offset: u64, length: u64) -> Result<Vec<u8>, InputError> {
        use std::io::{Seek, SeekFrom};
        let problem = |why: String| InputError::new(&self.path, Problem::Unreadable(why));
        if offset.checked_add(length).is_none_or(|end| end > self.len) {
            return Err(problem(format!(
                "bytes {offset}..+{length} lie past the end of the file ({} bytes)",
                self.len
            )));
        }
        let n = usize::try_from(length)
            .map_err(|_| problem("the range is too large for this platform".to_owned()))?;
        let mut buf = vec![0u8; n];
        self.file
            .seek(SeekFrom::Start(offset))
            .and_then(|_| self.file.read_exact(&mut buf))
            .map_err(|e| problem(e.to_string()))?;
        Ok(buf)
    }

    /// The bytes read so far.
    pub fn into_prefix(self) -> Vec<u8> {
        self.bytes
    }
}

fn check_regular(path: &Path, meta: &std::fs::Metadata) -> Result<(), InputError> {
    if meta.is_file() {
        return Ok(());
    }
    let ft = meta.file_type();
    let kind = if ft.is_dir() {
        "a directory"
    } else {
        special_kind(&ft)
    };
    Err(InputError::new(
        path,
        Problem::Unreadable(format!(
            "not a regular file ({kind}); lipcert reads only regular files"
        )),
    ))
}

#[cfg(unix)]
fn special_kind(ft: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "a FIFO (named pipe)"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}

/// Reads a whole regular file of at most `limit` bytes (larger files are
/// refused before anything is read).
pub fn read_regular(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>, InputError> {
    let file = RegularFile::open(path)?;
    if file.len() > limit {
        return Err(InputError::new(
            path,
            Problem::Unreadable(format!(
                "{} bytes is too large for {what} (limit {limit} bytes)",
                file.len()
            )),
        ));
    }
    file.read_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_size_at_open_time_in_steps_and_never_more() {
        let dir = std::env::temp_dir().join(format!("lipcert-rf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("grow.bin");
        std::fs::write(&path, b"0123456789").unwrap();
        let mut f = RegularFile::open(&path).unwrap();
        assert_eq!(f.len(), 10);
        assert_eq!(f.fill_to(4).unwrap(), b"0123");
        // The file grows after opening: the growth is not read.
        use std::io::Write;
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"more")
            .unwrap();
        assert_eq!(f.fill_to(100).unwrap(), b"0123456789");
        assert_eq!(f.read_all().unwrap(), b"0123456789");
        let err = read_regular(&path, 5, "a test").unwrap_err();
        assert!(err.to_string().contains("too large"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn directories_and_devices_are_refused() {
        let err = RegularFile::open(&std::env::temp_dir()).unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
        #[cfg(unix)]
        {
            let err = RegularFile::open(Path::new("/dev/null")).unwrap_err();
            assert!(err.to_string().contains("character device"), "{err}");
        }
    }
}
