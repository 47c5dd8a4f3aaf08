//! Every machine-checked proof that the Rust code cites must exist.
//!
//! Doc comments cite proofs as
//! `Proof: proofs/theories/File.v, `theorem_name``. This test scans every
//! line of `src/**/*.rs` that contains `proofs/theories/<File>.v` and collects
//! the backticked identifiers that follow the path (on the same line and, when
//! the citation wraps, on the next line, up to the end of the citation: the
//! first `)`, `;`, or sentence-ending `.`). For each, it asserts that
//! `proofs/theories/<File>.v` exists and contains `Theorem <name>` or
//! `Lemma <name>` as a whole word, and that the file is listed in
//! `proofs/_CoqProject` (so `proofs/check.sh` builds it). It also asserts that
//! no `.v` file under `proofs/` contains the word `Admitted`.
//!
//! The test uses only `std` (no dependency on the lipcert API and no Coq), so
//! it runs with plain `cargo test` on any machine. The full check of the proofs
//! themselves (compile with Coq, forbidden commands, `Print Assumptions`) is
//! `bash proofs/check.sh`.

use std::fs;
use std::path::{Path, PathBuf};

const MARKER: &str = "proofs/theories/";

fn root() -> PathBuf {
    PathBuf::from(option_env!("CARGO_MANIFEST_DIR").unwrap_or("."))
}

fn collect_files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_files(&path, ext, out);
        } else if path.extension().and_then(|e| e.to_str()) == Some(ext) {
            out.push(path);
        }
    }
}

/// Strip leading whitespace and a `//`, `///` or `//!` comment marker.
fn comment_text(line: &str) -> &str {
    let t = line.trim_start();
    let t = t
        .strip_prefix("//!")
        .or_else(|| t.strip_prefix("///"))
        .or_else(|| t.strip_prefix("//"))
        .unwrap_or(t);
    t.trim()
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '\''
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => chars.all(is_ident_char),
        _ => false,
    }
}

/// Cut a citation at its end: the first `)`, `;`, the next cited path, or a
/// `.` followed by whitespace or the end of the text.
fn citation_end(s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut in_tick = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'`' => in_tick = !in_tick,
            b')' | b';' if !in_tick => return i,
            b'.' if !in_tick && (i + 1 == bytes.len() || bytes[i + 1].is_ascii_whitespace()) => {
                return i;
            }
            _ => {}
        }
        if !in_tick && bytes[i..].starts_with(MARKER.as_bytes()) {
            return i;
        }
    }
    s.len()
}

fn backticked(s: &str) -> Vec<String> {
    s.split('`')
        .skip(1)
        .step_by(2)
        .map(str::trim)
        .filter(|t| is_ident(t))
        .map(String::from)
        .collect()
}

/// `Theorem name` or `Lemma name`, name as a whole word.
fn declares(text: &str, name: &str) -> bool {
    for kw in ["Theorem", "Lemma"] {
        let pat = format!("{kw} {name}");
        let mut start = 0;
        while let Some(pos) = text[start..].find(&pat) {
            let at = start + pos;
            let before_ok = at == 0 || !text[..at].chars().next_back().is_some_and(is_ident_char);
            let after = &text[at + pat.len()..];
            let after_ok = !after.chars().next().is_some_and(is_ident_char);
            if before_ok && after_ok {
                return true;
            }
            start = at + pat.len();
        }
    }
    false
}

fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, _)| {
        let before_ok = !text[..at].chars().next_back().is_some_and(is_ident_char);
        let after_ok = !text[at + word.len()..]
            .chars()
            .next()
            .is_some_and(is_ident_char);
        before_ok && after_ok
    })
}

/// (source file, line number, .v file name, theorem name or None when the
/// citation names only the file)
fn citations() -> Vec<(PathBuf, usize, String, Option<String>)> {
    let mut files = Vec::new();
    collect_files(&root().join("src"), "rs", &mut files);
    let mut out = Vec::new();
    for file in files {
        let Ok(text) = fs::read_to_string(&file) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let mut rest: &str = line;
            while let Some(pos) = rest.find(MARKER) {
                let after = &rest[pos + MARKER.len()..];
                let Some(dot_v) = after.find(".v") else {
                    break;
                };
                let vfile = after[..dot_v + 2].to_string();
                let tail = &after[dot_v + 2..];
                // The citation may wrap onto the next comment line.
                let mut segment = tail.to_string();
                let cut = citation_end(&segment);
                if cut == segment.len() {
                    if let Some(next) = lines.get(i + 1) {
                        segment.push(' ');
                        segment.push_str(comment_text(next));
                    }
                }
                let segment = &segment[..citation_end(&segment)];
                let names = backticked(segment);
                if names.is_empty() {
                    out.push((file.clone(), i + 1, vfile.clone(), None));
                }
                for name in names {
                    out.push((file.clone(), i + 1, vfile.clone(), Some(name)));
                }
                rest = tail;
            }
        }
    }
    out
}

#[test]
fn cited_theorems_exist() {
    let theories = root().join("proofs").join("theories");
    let mut missing = Vec::new();
    let cites = citations();
    // Every cited file must be built by `proofs/check.sh`, i.e. listed in
    // `proofs/_CoqProject`.
    let project = fs::read_to_string(root().join("proofs").join("_CoqProject")).unwrap_or_default();
    for (src, line, vfile, _) in &cites {
        let listed = project
            .lines()
            .any(|l| l.trim() == format!("theories/{vfile}"));
        if !listed {
            missing.push(format!(
                "{}:{line}: cites proofs/theories/{vfile}, which is not listed in proofs/_CoqProject \
                 (so proofs/check.sh does not check it)",
                src.display()
            ));
        }
    }
    for (src, line, vfile, name) in &cites {
        let path = theories.join(vfile);
        match fs::read_to_string(&path) {
            Err(_) => missing.push(format!(
                "{}:{line}: cites proofs/theories/{vfile}, which does not exist",
                src.display()
            )),
            Ok(text) => {
                let Some(name) = name else { continue };
                if !declares(&text, name) {
                    missing.push(format!(
                        "{}:{line}: cites `{name}` in proofs/theories/{vfile}, \
                         which has no `Theorem {name}` or `Lemma {name}`",
                        src.display()
                    ));
                }
            }
        }
    }
    if std::env::var_os("PROOF_REFS_VERBOSE").is_some() {
        for (src, line, vfile, name) in &cites {
            eprintln!("{}:{line}: {vfile} {:?}", src.display(), name);
        }
    }
    assert!(
        missing.is_empty(),
        "missing proofs:\n{}",
        missing.join("\n")
    );
}

#[test]
fn no_admitted_proofs() {
    let mut files = Vec::new();
    collect_files(&root().join("proofs"), "v", &mut files);
    let bad: Vec<String> = files
        .iter()
        .filter(|f| {
            fs::read_to_string(f)
                .map(|t| contains_word(&t, "Admitted"))
                .unwrap_or(false)
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(bad.is_empty(), "Admitted proofs in: {}", bad.join(", "));
}

#[test]
fn citation_parser_handles_wrapped_lines() {
    assert_eq!(
        backticked(&" , `a_b` and `c`. More `x`."[..citation_end(" , `a_b` and `c`. More `x`.")]),
        vec!["a_b".to_string(), "c".to_string()]
    );
    assert!(declares("Theorem foo : True.", "foo"));
    assert!(!declares("Theorem foo_bar : True.", "foo"));
    assert!(declares("Lemma  x.\nLemma foo:", "foo"));
}
