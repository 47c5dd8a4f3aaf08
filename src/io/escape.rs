//! Making text taken from a file safe to print: a tensor name (or a path, a
//! key) holding ESC, CR or LF must not colour the terminal, move the cursor
//! or forge a second `lipcert:` line on stderr. Every name lipcert prints in
//! a table or an error goes through [`escape_name`]; every line written to
//! stderr goes through [`escape_line`] as a second line of defence. (JSON
//! output needs neither: `serde_json` escapes control characters as JSON
//! requires.)
//!
//! Escaped: the C0 and C1 control characters and DEL (`char::is_control`),
//! and the invisible Unicode characters that reorder or break displayed text
//! (bidirectional overrides and isolates U+202A–U+202E, U+2066–U+2069,
//! marks U+200E, U+200F, U+061C, separators U+2028, U+2029). They are
//! written as Rust escapes: `\n`, `\r`, `\t`, `\u{1b}`.

use std::borrow::Cow;

/// True for a character that must not reach a terminal raw.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{061c}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

fn escape(s: &str, backslash: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| is_unsafe(c) || (backslash && c == '\\')) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\\' if backslash => out.push_str("\\\\"),
            c if is_unsafe(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A name from a file, printable: unsafe characters (see the module
/// documentation) and backslashes escaped, so that distinct names print
/// distinctly.
///
/// ```
/// use lipcert::io::escape::escape_name;
/// assert_eq!(escape_name("fc.weight"), "fc.weight");
/// assert_eq!(escape_name("a\u{1b}[31mred\r\nlipcert: FAKE"), "a\\u{1b}[31mred\\r\\nlipcert: FAKE");
/// assert_eq!(escape_name("back\\slash"), "back\\\\slash");
/// ```
pub fn escape_name(name: &str) -> Cow<'_, str> {
    escape(name, true)
}

/// A whole message line, printable: unsafe characters escaped, everything
/// else (including backslashes already written as escapes) unchanged.
///
/// ```
/// use lipcert::io::escape::escape_line;
/// assert_eq!(escape_line("bad \\x93 magic\nFAKE"), "bad \\x93 magic\\nFAKE");
/// ```
pub fn escape_line(line: &str) -> Cow<'_, str> {
    escape(line, false)
}

/// A path for messages: [`escape_name`] of its lossy UTF-8 display.
pub fn escape_path(path: &std::path::Path) -> String {
    escape_name(&path.display().to_string()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_and_bidi_character_is_escaped() {
        for c in (0u32..0x20)
            .chain(0x7f..0xa0)
            .chain([0x202e, 0x2066, 0x2028, 0x200f])
        {
            let c = char::from_u32(c).unwrap();
            let s = format!("x{c}y");
            let e = escape_name(&s);
            assert!(!e.chars().any(is_unsafe), "{c:?} -> {e:?}");
            assert!(e.starts_with('x') && e.ends_with('y'));
        }
        assert_eq!(escape_name("ωeight.ä"), "ωeight.ä");
    }
}
