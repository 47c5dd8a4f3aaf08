//! Glob patterns on tensor names, for `--include` / `--exclude`.
//!
//! A pattern matches a *whole* name. `*` matches any run of characters
//! (including none, and including `.`: tensor names are dotted paths, not
//! file paths), `?` matches exactly one character, and every other
//! character matches itself (case-sensitive; there are no character classes
//! and no escapes). Characters are Unicode scalar values, so `?` matches one
//! `ä`, not one byte of it.
//!
//! ```
//! use lipcert::io::name_glob::Glob;
//! let g = Glob::new("model.layers.*.mlp.*_proj.weight");
//! assert!(g.matches("model.layers.0.mlp.down_proj.weight"));
//! assert!(!g.matches("model.layers.0.self_attn.q_proj.weight"));
//! assert!(Glob::new("layer?.w").matches("layer7.w"));
//! ```
//!
//! Why not a crate: `globset` (the ripgrep matcher) brings `regex-automata`,
//! `regex-syntax`, `aho-corasick` and `bstr` into a build that has none of
//! them, for two wildcards on short names.

/// A compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Star,
    Any,
    Char(char),
}

impl Glob {
    /// Compiles `pattern` (every string is a valid pattern).
    pub fn new(pattern: &str) -> Self {
        let mut tokens = Vec::with_capacity(pattern.len());
        for c in pattern.chars() {
            let t = match c {
                '*' => Token::Star,
                '?' => Token::Any,
                c => Token::Char(c),
            };
            // `**` means the same as `*`.
            if !(t == Token::Star && tokens.last() == Some(&Token::Star)) {
                tokens.push(t);
            }
        }
        Self {
            pattern: pattern.to_owned(),
            tokens,
        }
    }

    /// The pattern as given.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether the whole of `name` matches.
    ///
    /// The classic greedy algorithm with one backtrack point (the last `*`
    /// seen): on a mismatch, let that `*` absorb one more character and
    /// retry. It is correct because with `*` matching any run, only the
    /// last star's extent ever needs revising; the time is
    /// O(|pattern|·|name|) in the worst case, with no recursion.
    pub fn matches(&self, name: &str) -> bool {
        let text: Vec<char> = name.chars().collect();
        let p = &self.tokens;
        let (mut ti, mut pi) = (0usize, 0usize);
        // (pattern index after the last star, text index it was tried at)
        let mut backtrack: Option<(usize, usize)> = None;
        while ti < text.len() {
            match p.get(pi) {
                Some(Token::Star) => {
                    pi += 1;
                    backtrack = Some((pi, ti));
                }
                Some(Token::Any) => {
                    pi += 1;
                    ti += 1;
                }
                Some(Token::Char(c)) if *c == text[ti] => {
                    pi += 1;
                    ti += 1;
                }
                _ => match backtrack {
                    Some((bp, bt)) => {
                        pi = bp;
                        ti = bt + 1;
                        backtrack = Some((bp, bt + 1));
                    }
                    None => return false,
                },
            }
        }
        p[pi..].iter().all(|t| *t == Token::Star)
    }
}

/// Which names `--include` / `--exclude` keep: a name is kept when it
/// matches at least one include pattern (or none were given) and no
/// exclude pattern. Exclude wins over include.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NameFilter {
    include: Vec<Glob>,
    exclude: Vec<Glob>,
}

impl NameFilter {
    /// A filter from the patterns given on the command line.
    ///
    /// ```
    /// use lipcert::io::name_glob::NameFilter;
    /// let f = NameFilter::new(&["*.weight".into()], &["*embed*".into()]);
    /// assert!(f.keeps("model.layers.0.q_proj.weight"));
    /// assert!(!f.keeps("model.embed_tokens.weight"));
    /// assert!(!f.keeps("model.layers.0.q_proj.bias"));
    /// ```
    pub fn new(include: &[String], exclude: &[String]) -> Self {
        Self {
            include: include.iter().map(|p| Glob::new(p)).collect(),
            exclude: exclude.iter().map(|p| Glob::new(p)).collect(),
        }
    }

    /// True when no pattern was given (every name is kept).
    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// Whether `name` is kept.
    pub fn keeps(&self, name: &str) -> bool {
        (self.include.is_empty() || self.include.iter().any(|g| g.matches(name)))
            && !self.exclude.iter().any(|g| g.matches(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An independent reference: the textbook recursion.
    fn reference(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|k| reference(rest, &t[k..])),
            Some(('?', rest)) => !t.is_empty() && reference(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && reference(rest, &t[1..]),
        }
    }

    #[test]
    fn examples() {
        let m = |p: &str, t: &str| Glob::new(p).matches(t);
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("*", ""));
        assert!(m("*", "anything.at.all"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("*.weight", "x.weight"));
        assert!(!m("*.weight", "x.weight2"));
        assert!(m("l?.w", "l7.w"));
        assert!(!m("l?.w", "l10.w"));
        assert!(m("?", "ä"));
        assert!(m("a**b", "ab"));
        assert!(m("*aab", "aaaab"));
        assert!(!m("A*", "a"), "case-sensitive");
        assert!(m("[x]", "[x]"), "brackets are literal");
    }

    #[test]
    fn exclude_wins_over_include() {
        let f = NameFilter::new(&["*".into()], &["lm_head.*".into()]);
        assert!(!f.keeps("lm_head.weight"));
        assert!(f.keeps("model.norm.weight"));
        assert!(NameFilter::default().keeps("x") && NameFilter::default().is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 2000,
            rng_seed: proptest::test_runner::RngSeed::Fixed(16),
            ..ProptestConfig::default()
        })]
        #[test]
        fn agrees_with_the_recursive_definition(
            p in "[ab*?]{0,8}",
            t in "[abc]{0,10}",
        ) {
            let (pc, tc): (Vec<char>, Vec<char>) = (p.chars().collect(), t.chars().collect());
            prop_assert_eq!(Glob::new(&p).matches(&t), reference(&pc, &tc));
        }
    }
}
