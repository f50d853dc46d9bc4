//! Where a fixture error is. A check after parsing names the value it refuses by its path in
//! the document (`issuer[0].client[2].redirect_uris[1]`); the TOML parser's spans
//! (`toml::de::DeTable`) turn that path into the line and column of the value in the file.
//! Nothing searches the text for words of the message.

use std::fmt;

use toml::de::{DeTable, DeValue};

/// The keys and array indexes from the document's root to one value, as the TOML file spells
/// them (`[[issuer.client]]` is `issuer[i].client[j]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FixturePath(Vec<Step>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(&'static str),
    Index(usize),
}

impl FixturePath {
    /// This path and then `key`.
    pub(crate) fn key(&self, key: &'static str) -> Self {
        let mut path = self.clone();
        path.0.push(Step::Key(key));
        path
    }

    /// This path and then the `i`th element of the array it leads to.
    pub(crate) fn index(&self, i: usize) -> Self {
        let mut path = self.clone();
        path.0.push(Step::Index(i));
        path
    }

    /// `rest` appended to this path.
    pub(crate) fn join(&self, rest: &FixturePath) -> Self {
        let mut path = self.clone();
        path.0.extend(rest.0.iter().cloned());
        path
    }

    /// The index after a leading `key` (`issuer[3]...` gives 3 for `"issuer"`).
    pub(crate) fn index_under(&self, key: &str) -> Option<usize> {
        match self.0.as_slice() {
            [Step::Key(k), Step::Index(i), ..] if *k == key => Some(*i),
            _ => None,
        }
    }
}

impl fmt::Display for FixturePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, step) in self.0.iter().enumerate() {
            match step {
                Step::Key(k) if n == 0 => write!(f, "{k}")?,
                Step::Key(k) => write!(f, ".{k}")?,
                Step::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// A check's refusal: what is wrong, and the value it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) at: FixturePath,
    pub(crate) message: String,
}

impl Refusal {
    pub(crate) fn new(at: FixturePath, message: impl Into<String>) -> Self {
        Self {
            at,
            message: message.into(),
        }
    }
}

/// A 1-based line and column in a fixture file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineCol {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl fmt::Display for LineCol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

impl LineCol {
    /// The line and column of byte `offset` of `text` (columns count characters).
    pub(crate) fn of_offset(text: &str, offset: usize) -> Option<Self> {
        let before = text.get(..offset)?;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Some(Self {
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
        })
    }

    /// Where the value at `path` starts in the TOML `text`. A path that goes on past what the
    /// text has (a key left to its default) stops at the last value it reaches: the table
    /// the missing key would be in.
    pub(crate) fn of_path(text: &str, path: &FixturePath) -> Option<Self> {
        let root = DeValue::Table(DeTable::parse(text).ok()?.into_inner());
        let mut found = None;
        let mut current = &root;
        for step in &path.0 {
            let next = match step {
                Step::Key(k) => current.get(*k),
                Step::Index(i) => current.get(*i),
            };
            let Some(next) = next else { break };
            found = Some(next.span().start);
            current = next.get_ref();
        }
        Self::of_offset(text, found?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "admin_token = 't'\n\n[[issuer]]\nname = 'a'\n\n[[issuer.client]]\n\
                        id = 'c'\n\n[[issuer.client]]\nid = 'd'\nredirect_uris = ['http://x/cb', \
                        'javascript:x']\n";

    fn at(path: &FixturePath) -> Option<(usize, usize)> {
        LineCol::of_path(TEXT, path).map(|p| (p.line, p.column))
    }

    #[test]
    fn paths_find_their_values_line_and_column() {
        let client = FixturePath::default().key("issuer").index(0).key("client");
        assert_eq!(
            at(&FixturePath::default().key("admin_token")),
            Some((1, 15))
        );
        assert_eq!(at(&client.index(0).key("id")), Some((7, 6)));
        let uris = client.index(1).key("redirect_uris");
        assert_eq!(at(&uris), Some((11, 17)));
        assert_eq!(at(&uris.index(1)), Some((11, 33)));
        assert_eq!(
            uris.index(1).to_string(),
            "issuer[0].client[1].redirect_uris[1]"
        );
        // A key the text leaves out: the table it would be in.
        let secret = at(&client.index(1).key("secret")).unwrap();
        assert!((9..=10).contains(&secret.0), "{secret:?}");
        assert_eq!(at(&FixturePath::default().key("seed")), None);
    }

    #[test]
    fn offsets_count_lines_and_characters() {
        let pos = LineCol::of_offset("a\nhé = 1", 6).unwrap();
        assert_eq!((pos.line, pos.column), (2, 4));
        assert_eq!(pos.to_string(), "line 2, column 4");
    }
}
