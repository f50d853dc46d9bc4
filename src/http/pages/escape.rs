//! The escaper askama applies to every value in mockidp's pages (`escape = "page"`, declared in
//! `askama.toml`). It writes the named entities these pages have always written (`&quot;`,
//! `&amp;`...), which clients and tests match on, where askama's own `Html` escaper writes
//! numeric ones (`&#34;`); it escapes the same five characters, so element content and quoted
//! attribute values are safe alike. Never called by hand: askama calls it for each `{{ }}`
//! that is not `|safe`.

use std::fmt::{self, Write};

use askama::filters::Escaper;

/// HTML escaping with named entities (and `&#x27;` for `'`, which HTML 4 has no name for).
#[derive(Debug, Clone, Copy, Default)]
pub struct NamedEntities;

impl Escaper for NamedEntities {
    fn write_escaped_str<W: Write>(&self, mut dest: W, text: &str) -> fmt::Result {
        let mut rest = text;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            dest.write_str(&rest[..i])?;
            dest.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#x27;",
            })?;
            rest = &rest[i + 1..];
        }
        dest.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_quotes_become_named_entities() {
        let mut out = String::new();
        NamedEntities
            .write_escaped_str(&mut out, r#"<script>"x"&'y'</script> é"#)
            .unwrap();
        assert_eq!(
            out,
            "&lt;script&gt;&quot;x&quot;&amp;&#x27;y&#x27;&lt;/script&gt; é"
        );
    }
}
