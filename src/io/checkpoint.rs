//! Whole checkpoints in the Hugging Face layout: a folder holding
//! `model.safetensors.index.json` — `{"metadata": …, "weight_map":
//! {tensor name: shard file}}` — and the shards it names, or a folder
//! holding a single `model.safetensors`.
//!
//! Hostile-input rules (an index comes from a download like any weight
//! file):
//! - a shard is named relative to the index's folder; absolute paths,
//!   `..` components and empty names are refused (a symbolic link inside the
//!   folder is followed, as the Hugging Face cache stores shards as links
//!   into its blob store; the file it reaches must still be a regular file);
//! - a tensor named twice in `weight_map` is refused (JSON leaves duplicate
//!   keys open and serde would silently keep the last);
//! - the index is read through [`read_regular`] with a size limit, like
//!   every other input.
//!
//! This module only reads the index; the shards are opened (header only,
//! see [`super::WeightFile::open_lazy`]) and checked against it by
//! [`Checkpoint::open_shards`].

use super::error::{InputError, Problem};
use super::escape::escape_name;
use super::regular_file::read_regular;
use super::WeightFile;
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};

/// The index file's name inside a checkpoint folder.
pub const INDEX_NAME: &str = "model.safetensors.index.json";
/// The single file of an unsharded checkpoint folder.
pub const SINGLE_NAME: &str = "model.safetensors";
/// The largest index read (real ones are well under 1 MB).
pub const MAX_INDEX_LEN: u64 = 64 << 20;

/// One shard and the tensors the index assigns to it.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardRef {
    /// The shard's path (the index's folder joined with its relative name).
    pub path: PathBuf,
    /// The tensors the index places in it, in index order (`None` for the
    /// single file of an unsharded folder: every tensor it holds).
    pub tensors: Option<Vec<String>>,
}

/// A checkpoint: its index (if sharded) and its shards, in order of first
/// appearance in the index.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// The index file (`None` for a folder with a single `model.safetensors`).
    pub index: Option<PathBuf>,
    /// The shards.
    pub shards: Vec<ShardRef>,
}

/// An opened shard: the file (header read and validated, data left on
/// disk), the tensors to use from it, and those it holds that the index
/// does not list.
#[derive(Debug)]
pub struct OpenShard {
    /// The shard.
    pub file: WeightFile,
    /// Names of the tensors the index assigns to this shard.
    pub listed: HashSet<String>,
    /// Tensors of the shard that the index does not list (ignored: a
    /// loader following the index never sees them), in file order.
    pub unlisted: Vec<String>,
}

impl Checkpoint {
    /// What `path` names: `Ok(None)` for an ordinary weight file, the
    /// checkpoint for a folder (holding [`INDEX_NAME`] or else
    /// [`SINGLE_NAME`]) or for a `.json` index file.
    ///
    /// Errors: a folder holding neither file; an unreadable or invalid
    /// index (see the module documentation).
    pub fn resolve(path: &Path) -> Result<Option<Self>, InputError> {
        let is_dir = std::fs::metadata(path).is_ok_and(|m| m.is_dir());
        if is_dir {
            let index = path.join(INDEX_NAME);
            if std::fs::symlink_metadata(&index).is_ok() {
                return Self::from_index(&index).map(Some);
            }
            let single = path.join(SINGLE_NAME);
            if std::fs::symlink_metadata(&single).is_ok() {
                return Ok(Some(Self {
                    index: None,
                    shards: vec![ShardRef {
                        path: single,
                        tensors: None,
                    }],
                }));
            }
            return Err(InputError::new(
                path,
                Problem::Unreadable(format!(
                    "not a regular file (a directory without {INDEX_NAME} or {SINGLE_NAME}); give a weight file, a checkpoint folder or its index"
                )),
            ));
        }
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        if is_json {
            return Self::from_index(path).map(Some);
        }
        Ok(None)
    }

    /// Reads and validates the index file `index`.
    pub fn from_index(index: &Path) -> Result<Self, InputError> {
        let bytes = read_regular(index, MAX_INDEX_LEN, "a checkpoint index")?;
        let err = |why: String| InputError::new(index, Problem::Other(why));
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| err("not a checkpoint index: not valid UTF-8".to_owned()))?;
        let doc: IndexDoc = serde_json::from_str(text).map_err(|e| {
            err(format!(
                "not a valid checkpoint index ({{\"weight_map\": {{tensor: shard file}}}}): {e}"
            ))
        })?;
        if doc.weight_map.0.is_empty() {
            return Err(InputError::new(
                index,
                Problem::NothingToDo("the index's weight_map names no tensor".to_owned()),
            ));
        }
        let folder = index.parent().unwrap_or(Path::new(""));
        let mut shards: Vec<ShardRef> = Vec::new();
        let mut position: HashMap<String, usize> = HashMap::new();
        for (tensor, shard) in doc.weight_map.0 {
            let relative = safe_relative(&shard).map_err(|why| {
                InputError::in_tensor(
                    index,
                    Some(&tensor),
                    Problem::Other(format!(
                        "shard '{}' {why}; shards must be named relative to the index's folder",
                        escape_name(&shard)
                    )),
                )
            })?;
            let k = *position.entry(shard).or_insert_with(|| {
                shards.push(ShardRef {
                    path: folder.join(relative),
                    tensors: Some(Vec::new()),
                });
                shards.len() - 1
            });
            if let Some(list) = shards[k].tensors.as_mut() {
                list.push(tensor);
            }
        }
        Ok(Self {
            index: Some(index.to_path_buf()),
            shards,
        })
    }

    /// Opens every shard (headers only) and checks it against the index:
    /// a shard that cannot be opened is reported with the tensors the index
    /// names in it, and a tensor the index places in a shard that lacks it
    /// is an error naming both.
    pub fn open_shards(&self) -> Result<Vec<OpenShard>, InputError> {
        let index_name = self
            .index
            .as_deref()
            .and_then(Path::file_name)
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let mut out = Vec::with_capacity(self.shards.len());
        for shard in &self.shards {
            let file = WeightFile::open_lazy(&shard.path).map_err(|mut e| {
                if let (Some(list), Problem::Unreadable(why)) = (&shard.tensors, &mut e.problem) {
                    let first = list.first().map_or("", String::as_str);
                    let more = match list.len() {
                        0 | 1 => String::new(),
                        n => format!(" and {} more", n - 1),
                    };
                    *why = format!(
                        "{why} ({index_name} places tensor '{}'{more} in it)",
                        escape_name(first)
                    );
                }
                e
            })?;
            if file.is_npy() {
                return Err(file.error(
                    None,
                    Problem::Other("a checkpoint shard must be a .safetensors file".to_owned()),
                ));
            }
            let names: Vec<String> = file.infos().into_iter().filter_map(|i| i.name).collect();
            let (listed, unlisted) = match &shard.tensors {
                None => (names.iter().cloned().collect(), Vec::new()),
                Some(list) => {
                    let present: HashSet<&str> = names.iter().map(String::as_str).collect();
                    if let Some(missing) = list.iter().find(|t| !present.contains(t.as_str())) {
                        return Err(file.error(
                            Some(missing),
                            Problem::Other(format!(
                                "{index_name} places this tensor in this shard, but the shard does not hold it"
                            )),
                        ));
                    }
                    let listed: HashSet<String> = list.iter().cloned().collect();
                    let unlisted = names
                        .iter()
                        .filter(|n| !listed.contains(*n))
                        .cloned()
                        .collect();
                    (listed, unlisted)
                }
            };
            out.push(OpenShard {
                file,
                listed,
                unlisted,
            });
        }
        Ok(out)
    }
}

/// `name` as a path relative to the index's folder, or why it is refused:
/// empty, absolute (a root or a Windows prefix), or holding a `..`
/// component. `.` components are harmless and kept.
///
/// ```
/// use lipcert::io::checkpoint::safe_relative;
/// assert!(safe_relative("model-00001-of-00002.safetensors").is_ok());
/// assert!(safe_relative("sub/part.safetensors").is_ok());
/// assert!(safe_relative("../x.safetensors").is_err());
/// assert!(safe_relative("/etc/passwd").is_err());
/// assert!(safe_relative("a/../../b").is_err());
/// assert!(safe_relative("").is_err());
/// ```
pub fn safe_relative(name: &str) -> Result<PathBuf, &'static str> {
    if name.is_empty() {
        return Err("is empty");
    }
    let path = Path::new(name);
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err("has a '..' component"),
            Component::RootDir | Component::Prefix(_) => return Err("is an absolute path"),
        }
    }
    if out.as_os_str().is_empty() {
        return Err("names no file");
    }
    Ok(out)
}

/// The parts of the index lipcert uses (`metadata` and anything else are
/// ignored; serde refuses a repeated `weight_map` key).
#[derive(serde::Deserialize)]
struct IndexDoc {
    weight_map: WeightMap,
}

/// `weight_map` in document order, refusing a tensor named twice.
struct WeightMap(Vec<(String, String)>);

impl<'de> serde::Deserialize<'de> for WeightMap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(WeightMapVisitor)
    }
}

struct WeightMapVisitor;

impl<'de> serde::de::Visitor<'de> for WeightMapVisitor {
    type Value = WeightMap;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object mapping tensor names to shard file names")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<WeightMap, A::Error> {
        let mut seen = HashSet::new();
        let mut entries = Vec::new();
        while let Some(tensor) = map.next_key::<String>()? {
            let shard = map.next_value::<String>()?;
            if !seen.insert(tensor.clone()) {
                return Err(serde::de::Error::custom(format!(
                    "weight_map names tensor '{}' twice",
                    escape_name(&tensor)
                )));
            }
            entries.push((tensor, shard));
        }
        Ok(WeightMap(entries))
    }
}
