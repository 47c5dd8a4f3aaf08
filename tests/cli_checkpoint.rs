//! Whole checkpoints: `lipcert sigma DIR | INDEX` on sharded Hugging Face
//! layouts, `--include`/`--exclude`, lazy reads, streamed JSON lines and the
//! summary. Every fixture is written here, into a temporary folder.

mod common;

use common::cli::{run, Out};
use lipcert::io::safetensors::encode;
use lipcert::io::WeightFile;
use lipcert::SourceDtype;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

type Spec<'a> = (&'a str, SourceDtype, Vec<usize>, Vec<f64>);

fn write_shard(dir: &Path, name: &str, tensors: &[Spec<'_>]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, encode(tensors).unwrap()).unwrap();
    path
}

/// An index whose `weight_map` is written verbatim from `(tensor, shard)`
/// pairs (so a test can repeat a key).
fn write_index(dir: &Path, pairs: &[(&str, &str)]) -> PathBuf {
    let entries: Vec<String> = pairs
        .iter()
        .map(|(t, s)| format!("    {}: {}", Value::from(*t), Value::from(*s)))
        .collect();
    let text = format!(
        "{{\n  \"metadata\": {{\"total_size\": 0}},\n  \"weight_map\": {{\n{}\n  }}\n}}\n",
        entries.join(",\n")
    );
    let path = dir.join("model.safetensors.index.json");
    std::fs::write(&path, text).unwrap();
    path
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn values(n: usize, seed: f64) -> Vec<f64> {
    (0..n).map(|k| ((k as f64 + seed) * 0.7133).sin()).collect()
}

fn json_lines(out: &Out) -> Vec<Value> {
    out.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The `tensor` fields of JSON records.
fn tensor_names(records: &[Value]) -> Vec<&str> {
    records
        .iter()
        .map(|r| r["tensor"].as_str().unwrap())
        .collect()
}

/// Runs `sigma FILE --tensor NAME --json` for record `r`'s tensor and
/// asserts that its enclosure, dtype, shape and the `extra` keys equal
/// `r`'s; returns that run's record.
fn same_as_alone(r: &Value, file: &Path, extra: &[&str]) -> Value {
    let alone = run(&[
        "sigma",
        s(file),
        "--tensor",
        r["tensor"].as_str().unwrap(),
        "--json",
    ]);
    assert_eq!(alone.code, 0, "{}", alone.stderr);
    let a = json_lines(&alone).swap_remove(0);
    for k in ["lower", "upper", "estimate", "dtype", "shape"]
        .iter()
        .chain(extra)
    {
        assert_eq!(r[*k], a[*k], "{k} of {r}");
    }
    a
}

fn one_line_error(o: &Out, needles: &[&str]) {
    assert_eq!(o.code, 2, "{}", o.stderr);
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", o.stderr);
    assert!(lines[0].starts_with("lipcert: "), "{}", o.stderr);
    for n in needles {
        assert!(o.stderr.contains(n), "expected {n:?} in {}", o.stderr);
    }
    assert!(o.stdout.is_empty(), "{}", o.stdout);
}

/// Two shards: `a` (f32 3×4) and a bias in the first; `b` (f64 5×2) and `c`
/// (bf16 4×4) in the second. The index lists them out of file order.
fn two_shards(dir: &Path) {
    write_shard(
        dir,
        "model-00001-of-00002.safetensors",
        &[
            ("a", SourceDtype::F32, vec![3, 4], values(12, 1.0)),
            ("a.bias", SourceDtype::F32, vec![4], values(4, 2.0)),
        ],
    );
    write_shard(
        dir,
        "model-00002-of-00002.safetensors",
        &[
            ("b", SourceDtype::F64, vec![5, 2], values(10, 3.0)),
            ("c", SourceDtype::BF16, vec![4, 4], values(16, 4.0)),
        ],
    );
    write_index(
        dir,
        &[
            ("c", "model-00002-of-00002.safetensors"),
            ("a.bias", "model-00001-of-00002.safetensors"),
            ("a", "model-00001-of-00002.safetensors"),
            ("b", "model-00002-of-00002.safetensors"),
        ],
    );
}

#[test]
fn a_sharded_checkpoint_gives_what_each_shard_gives_alone() {
    let dir = TempDir::new().unwrap();
    two_shards(dir.path());
    let index = dir.path().join("model.safetensors.index.json");
    for input in [dir.path(), index.as_path()] {
        let o = run(&["sigma", s(input), "--json"]);
        assert_eq!(o.code, 0, "{}", o.stderr);
        let lines = json_lines(&o);
        // One line per 2-D tensor, shards in order of first appearance in
        // the index ("c" comes first: shard 2), file order within a shard,
        // then the summary.
        assert_eq!(tensor_names(&lines[..3]), ["b", "c", "a"]);
        assert!(o.stderr.contains("skipping 'a.bias'"), "{}", o.stderr);
        let mut max_upper = 0.0f64;
        let mut max_lower = 0.0f64;
        for r in &lines[..3] {
            let shard = PathBuf::from(r["file"].as_str().unwrap());
            assert_eq!(shard.parent().unwrap(), dir.path());
            let a = same_as_alone(r, &shard, &["file"]);
            max_upper = max_upper.max(a["upper"].as_f64().unwrap());
            max_lower = max_lower.max(a["lower"].as_f64().unwrap());
        }
        assert_eq!(lines.len(), 4, "{}", o.stdout);
        let sum = &lines[3]["summary"];
        assert_eq!(sum["tensors"], 3);
        assert_eq!(sum["failed"], 0);
        assert!(sum["seconds"].as_f64().unwrap() >= 0.0);
        assert_eq!(sum["max_sigma"]["upper"].as_f64(), Some(max_upper));
        assert_eq!(sum["max_sigma"]["lower"].as_f64(), Some(max_lower));
        assert_eq!(sum["max_sigma"]["guarantee"], "rigorous");
        assert_eq!(sum["max_sigma"]["failure_probability"].as_f64(), Some(0.0));
        let top = lines[..3]
            .iter()
            .find(|r| r["upper"].as_f64() == Some(max_upper))
            .unwrap();
        assert_eq!(sum["max_sigma"]["tensor"], top["tensor"]);
        assert!(sum["max_relative_width"].as_f64().unwrap() <= 1e-9);
    }
    // The human table ends with the summary line.
    let o = run(&["sigma", s(dir.path())]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let last = o.stdout.lines().last().unwrap();
    assert!(
        last.starts_with("3 tensors certified in ") && last.contains("(0 failed); largest σ "),
        "{}",
        o.stdout
    );
    assert_eq!(o.stdout.lines().count(), 5, "{}", o.stdout);
}

#[test]
fn a_folder_with_a_single_model_file_is_a_checkpoint() {
    let dir = TempDir::new().unwrap();
    write_shard(
        dir.path(),
        "model.safetensors",
        &[("w", SourceDtype::F32, vec![2, 3], values(6, 0.0))],
    );
    let o = run(&["sigma", s(dir.path()), "--json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let lines = json_lines(&o);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["tensor"], "w");
    assert_eq!(lines[1]["summary"]["tensors"], 1);
    // A folder holding neither file is refused, naming what it looked for.
    let empty = TempDir::new().unwrap();
    let o = run(&["sigma", s(empty.path())]);
    one_line_error(&o, &["model.safetensors.index.json", "not a regular file"]);
}

#[test]
fn a_missing_shard_is_named_with_a_tensor_it_should_hold() {
    let dir = TempDir::new().unwrap();
    two_shards(dir.path());
    std::fs::remove_file(dir.path().join("model-00002-of-00002.safetensors")).unwrap();
    let o = run(&["sigma", s(dir.path()), "--json"]);
    one_line_error(
        &o,
        &[
            "model-00002-of-00002.safetensors",
            "cannot read file",
            "places tensor 'c' and 1 more in it",
        ],
    );
}

#[test]
fn a_tensor_named_twice_in_the_index_is_refused() {
    let dir = TempDir::new().unwrap();
    two_shards(dir.path());
    write_index(
        dir.path(),
        &[
            ("a", "model-00001-of-00002.safetensors"),
            ("b", "model-00002-of-00002.safetensors"),
            ("a", "model-00002-of-00002.safetensors"),
        ],
    );
    let o = run(&["sigma", s(dir.path())]);
    one_line_error(
        &o,
        &["model.safetensors.index.json", "names tensor 'a' twice"],
    );
}

#[test]
fn an_index_pointing_at_a_shard_that_lacks_the_tensor_is_refused() {
    let dir = TempDir::new().unwrap();
    two_shards(dir.path());
    write_index(
        dir.path(),
        &[
            ("a", "model-00001-of-00002.safetensors"),
            ("b", "model-00001-of-00002.safetensors"),
        ],
    );
    let o = run(&["sigma", s(dir.path()), "--json"]);
    one_line_error(
        &o,
        &[
            "model-00001-of-00002.safetensors: tensor 'b'",
            "does not hold it",
        ],
    );
}

#[test]
fn shard_paths_that_leave_the_folder_are_refused_before_any_read() {
    let outer = TempDir::new().unwrap();
    // A valid file outside the checkpoint folder: it must not be read.
    let outside = write_shard(
        outer.path(),
        "x.safetensors",
        &[("a", SourceDtype::F32, vec![2, 2], values(4, 0.0))],
    );
    let dir = outer.path().join("ckpt");
    std::fs::create_dir(&dir).unwrap();
    for (shard, why) in [
        ("../x.safetensors", "'..'"),
        ("sub/../../x.safetensors", "'..'"),
        (s(&outside), "absolute path"),
        ("", "is empty"),
    ] {
        write_index(&dir, &[("a", shard)]);
        let o = run(&["sigma", s(&dir), "--json"]);
        one_line_error(&o, &["model.safetensors.index.json: tensor 'a'", why]);
    }
}

#[test]
fn tensors_the_index_does_not_list_are_ignored_with_one_note() {
    let dir = TempDir::new().unwrap();
    write_shard(
        dir.path(),
        "part.safetensors",
        &[
            ("listed", SourceDtype::F32, vec![2, 2], values(4, 0.0)),
            ("extra1", SourceDtype::F32, vec![2, 2], values(4, 1.0)),
            ("extra2", SourceDtype::F32, vec![2, 2], values(4, 2.0)),
        ],
    );
    write_index(dir.path(), &[("listed", "part.safetensors")]);
    let o = run(&["sigma", s(dir.path()), "--json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let lines = json_lines(&o);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["tensor"], "listed");
    let notes: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(notes.len(), 1, "{}", o.stderr);
    assert!(
        notes[0].contains("ignoring 2 tensors") && notes[0].contains("'extra1'"),
        "{}",
        o.stderr
    );
}

#[test]
fn include_and_exclude_select_by_whole_name_and_exclude_wins() {
    let dir = TempDir::new().unwrap();
    let specs: Vec<(String, Vec<usize>)> = vec![
        ("model.embed_tokens.weight".into(), vec![6, 2]),
        ("model.layers.0.self_attn.q_proj.weight".into(), vec![2, 2]),
        ("model.layers.0.mlp.up_proj.weight".into(), vec![3, 2]),
        ("model.layers.1.mlp.up_proj.weight".into(), vec![3, 2]),
        ("model.layers.10.mlp.up_proj.weight".into(), vec![3, 2]),
        ("model.norm.weight".into(), vec![2]),
        ("lm_head.weight".into(), vec![6, 2]),
    ];
    let tensors: Vec<Spec<'_>> = specs
        .iter()
        .enumerate()
        .map(|(k, (n, shape))| {
            let len = shape.iter().product();
            (
                n.as_str(),
                SourceDtype::F32,
                shape.clone(),
                values(len, k as f64),
            )
        })
        .collect();
    let ckpt = dir.path().join("ckpt");
    std::fs::create_dir(&ckpt).unwrap();
    write_shard(&ckpt, "s1.safetensors", &tensors[..4]);
    write_shard(&ckpt, "s2.safetensors", &tensors[4..]);
    let pairs: Vec<(&str, &str)> = specs
        .iter()
        .enumerate()
        .map(|(k, (n, _))| {
            (
                n.as_str(),
                if k < 4 {
                    "s1.safetensors"
                } else {
                    "s2.safetensors"
                },
            )
        })
        .collect();
    write_index(&ckpt, &pairs);
    let single = write_shard(dir.path(), "all.safetensors", &tensors);
    let names = |o: &Out| -> Vec<String> {
        json_lines(o)
            .iter()
            .filter_map(|r| r["tensor"].as_str().map(str::to_owned))
            .collect()
    };
    for input in [ckpt.as_path(), single.as_path()] {
        let o = run(&[
            "sigma",
            s(input),
            "--json",
            "--include",
            "model.layers.?.*",
            "--include",
            "lm_head.*",
            "--exclude",
            "*q_proj*",
        ]);
        assert_eq!(o.code, 0, "{}", o.stderr);
        // `?` is one character: layer 10 is left out; q_proj is excluded
        // although an include matches it.
        assert_eq!(
            names(&o),
            [
                "model.layers.0.mlp.up_proj.weight",
                "model.layers.1.mlp.up_proj.weight",
                "lm_head.weight"
            ]
        );
        assert!(
            o.stderr
                .contains("--include/--exclude left out 4 of 7 tensors"),
            "{}",
            o.stderr
        );
        // Excluded tensors get no "skipping" note.
        assert!(!o.stderr.contains("model.norm.weight"), "{}", o.stderr);
        let o = run(&["sigma", s(input), "--json", "--exclude", "*embed*"]);
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert_eq!(names(&o).len(), 5, "{}", o.stdout);
        assert!(o.stderr.contains("skipping 'model.norm.weight'"));
        // Nothing left is bad input, with the counts.
        let o = run(&["sigma", s(input), "--include", "nothing*"]);
        one_line_error(&o, &["--include/--exclude kept 0 of 7 tensors"]);
    }
    // --tensor and a pattern do not mix.
    let o = run(&[
        "sigma",
        s(&single),
        "--tensor",
        "lm_head.weight",
        "--include",
        "*",
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
}

#[test]
fn bf16_shards_are_certified_for_their_exact_stored_values() {
    // bf16(0.1) = 0.10009765625. c·H₄ (H₄ a Hadamard matrix, H₄ᵀH₄ = 4I)
    // has σ = 2c = 0.2001953125 exactly; diag(bf16(1/3), −0.25, 0.125) has
    // σ = bf16(1/3) = 0.333984375 exactly. Neither decimal value may be
    // inside its enclosure.
    let c = 0.1;
    let h: Vec<f64> = [
        1., 1., 1., 1., 1., -1., 1., -1., 1., 1., -1., -1., 1., -1., -1., 1.,
    ]
    .iter()
    .map(|x| x * c)
    .collect();
    let third = 1.0 / 3.0;
    let d = vec![third, 0., 0., 0., -0.25, 0., 0., 0., 0.125];
    let dir = TempDir::new().unwrap();
    write_shard(
        dir.path(),
        "p1.safetensors",
        &[("h", SourceDtype::BF16, vec![4, 4], h)],
    );
    write_shard(
        dir.path(),
        "p2.safetensors",
        &[("d", SourceDtype::BF16, vec![3, 3], d)],
    );
    write_index(
        dir.path(),
        &[("h", "p1.safetensors"), ("d", "p2.safetensors")],
    );
    let o = run(&["sigma", s(dir.path()), "--json"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let lines = json_lines(&o);
    for (r, exact, decimal) in [
        (&lines[0], 0.2001953125, 0.2),
        (&lines[1], 0.333984375, third),
    ] {
        assert_eq!(r["dtype"], "bf16");
        let (lo, hi) = (r["lower"].as_f64().unwrap(), r["upper"].as_f64().unwrap());
        assert!(lo <= exact && exact <= hi, "{r}");
        assert!(!(lo <= decimal && decimal <= hi), "{r}");
        assert_eq!(r["guarantee"], "rigorous");
    }
    let m = &lines[2]["summary"]["max_sigma"];
    assert!(m["lower"].as_f64().unwrap() <= 0.333984375);
    assert!(m["upper"].as_f64().unwrap() >= 0.333984375);
    assert_eq!(m["tensor"], "d");
}

#[test]
fn lazy_and_whole_file_reads_agree_for_every_dtype_and_refuse_the_same_files() {
    let dir = TempDir::new().unwrap();
    let v = values(6, 0.5);
    let path = write_shard(
        dir.path(),
        "all.safetensors",
        &[
            ("w64", SourceDtype::F64, vec![2, 3], v.clone()),
            ("w32", SourceDtype::F32, vec![3, 2], v.clone()),
            ("w16", SourceDtype::F16, vec![6], v.clone()),
            ("wbf", SourceDtype::BF16, vec![1, 6], v.clone()),
        ],
    );
    let eager = WeightFile::open(&path).unwrap();
    let lazy = WeightFile::open_lazy(&path).unwrap();
    assert_eq!(eager.infos(), lazy.infos());
    for info in eager.infos() {
        let n = info.name.as_deref();
        assert_eq!(eager.read(n).unwrap(), lazy.read(n).unwrap());
    }
    // A truncated file: the lazy open refuses it too, with the same message.
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() - 3]).unwrap();
    let (e1, e2) = (
        WeightFile::open(&cut).unwrap_err(),
        WeightFile::open_lazy(&cut).unwrap_err(),
    );
    assert_eq!(e1.to_string(), e2.to_string());
    assert!(e1.to_string().contains("data length"), "{e1}");
}

/// A bad tensor between good ones is reported alone, on its own line, in
/// tensor order with the notes; the good ones' results keep their order and
/// equal the one-tensor runs.
#[test]
fn a_bad_tensor_between_good_ones_is_reported_in_order_and_alone() {
    let dir = TempDir::new().unwrap();
    let mut bad = values(12, 5.0);
    bad[7] = f64::NAN;
    let shard = write_shard(
        dir.path(),
        "model.safetensors",
        &[
            ("p", SourceDtype::F32, vec![4, 3], values(12, 4.0)),
            ("q", SourceDtype::F32, vec![3, 4], bad),
            ("q.bias", SourceDtype::F32, vec![4], values(4, 6.0)),
            ("r", SourceDtype::BF16, vec![6, 5], values(30, 7.0)),
            ("t", SourceDtype::F64, vec![2, 9], values(18, 8.0)),
        ],
    );
    let o = run(&["sigma", s(dir.path()), "--json"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    let lines = json_lines(&o);
    assert_eq!(tensor_names(&lines[..3]), ["p", "r", "t"]);
    for r in &lines[..3] {
        same_as_alone(r, &shard, &[]);
    }
    let err: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(err.len(), 2, "{}", o.stderr);
    assert!(
        err[0].contains("'q'") && err[0].contains("NaN"),
        "{}",
        o.stderr
    );
    assert!(err[1].contains("skipping 'q.bias'"), "{}", o.stderr);
}
