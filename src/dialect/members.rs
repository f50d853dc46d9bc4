//! A JSON object written straight from borrowed values, in the order a product writes them,
//! leaving out the absent ones. Token responses are built on every request and carry a
//! kilobyte-long token that a `serde_json::Map` would copy, hash and free again.

use std::borrow::Cow;
use std::io::Write as _;

use serde::ser::{Serialize, SerializeMap, Serializer};

/// One member's value; `Absent` members are not written.
#[derive(Debug, Clone, PartialEq)]
pub enum Member<'a> {
    Str(Cow<'a, str>),
    Num(u64),
    Absent,
}

impl<'a> From<&'a str> for Member<'a> {
    fn from(s: &'a str) -> Self {
        Member::Str(Cow::Borrowed(s))
    }
}

impl<'a> From<&'a String> for Member<'a> {
    fn from(s: &'a String) -> Self {
        Member::Str(Cow::Borrowed(s))
    }
}

impl From<String> for Member<'_> {
    fn from(s: String) -> Self {
        Member::Str(Cow::Owned(s))
    }
}

impl From<u64> for Member<'_> {
    fn from(n: u64) -> Self {
        Member::Num(n)
    }
}

impl<'a, T: Into<Member<'a>>> From<Option<T>> for Member<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Member::Absent, Into::into)
    }
}

/// An ordered JSON object; see the module documentation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Members<'a>(Vec<(&'static str, Member<'a>)>);

impl<'a> Members<'a> {
    pub fn new() -> Self {
        Self(Vec::with_capacity(10))
    }

    /// Adds `name`, unless `value` is absent (`None`).
    pub fn put(mut self, name: &'static str, value: impl Into<Member<'a>>) -> Self {
        let value = value.into();
        if value != Member::Absent {
            self.0.push((name, value));
        }
        self
    }
}

impl Members<'_> {
    /// The object as JSON, in a buffer sized for it up front. Written by hand rather than
    /// through serde: the access token is most of the body and needs no escaping, which one
    /// vectorised pass over it proves faster than serde_json's byte-by-byte escaper.
    pub fn to_json(&self) -> Vec<u8> {
        let size: usize = self
            .0
            .iter()
            .map(|(name, value)| match value {
                Member::Str(s) => name.len() + s.len() + 8,
                _ => name.len() + 24,
            })
            .sum();
        let mut out = Vec::with_capacity(size + 2);
        out.push(b'{');
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(&mut out, name);
            out.push(b':');
            match value {
                Member::Str(s) => write_str(&mut out, s),
                // Writing into a Vec cannot fail.
                Member::Num(n) => drop(write!(out, "{n}")),
                Member::Absent => {}
            }
        }
        out.push(b'}');
        out
    }
}

/// `s` as a JSON string: copied as is when nothing in it needs escaping (tokens, ids, URLs),
/// else through serde_json.
fn write_str(out: &mut Vec<u8>, s: &str) {
    // No early exit, so that the compiler can check many bytes per instruction.
    let plain = s.bytes().fold(true, |plain, b| {
        plain & (b >= 0x20) & (b != b'"') & (b != b'\\')
    });
    if plain {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

impl Serialize for Members<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            match value {
                Member::Str(s) => map.serialize_entry(name, s)?,
                Member::Num(n) => map.serialize_entry(name, n)?,
                Member::Absent => {}
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_present_members_in_order() {
        let token = String::from("abc");
        let m = Members::new()
            .put("access_token", &token)
            .put("id_token", None::<&str>)
            .put("expires_in", 600)
            .put("scope", String::from("a b"));
        let json = r#"{"access_token":"abc","expires_in":600,"scope":"a b"}"#;
        assert_eq!(serde_json::to_string(&m).unwrap(), json);
        assert_eq!(m.to_json(), json.as_bytes());
        assert_eq!(Members::new().to_json(), b"{}");
    }

    #[test]
    fn strings_that_need_it_are_escaped() {
        for s in [
            "plain",
            "",
            "a\"b",
            "back\\slash",
            "line\nbreak",
            "\u{1}",
            "é ✓ \u{7f}",
        ] {
            let m = Members::new().put("k", s).put("n", 0);
            let expected = serde_json::json!({ "k": s, "n": 0 }).to_string();
            assert_eq!(String::from_utf8(m.to_json()).unwrap(), expected, "{s:?}");
        }
    }
}
