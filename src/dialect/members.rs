//! A JSON object written straight from borrowed values, in the order a product writes them,
//! leaving out the absent ones. Token responses are built on every request and carry a
//! kilobyte-long token that a `serde_json::Map` would copy, hash and free again.

use std::borrow::Cow;

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
    /// The object as JSON, in a buffer sized for it up front.
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
        // Strings and integers only: serializing them cannot fail.
        let _ = serde_json::to_writer(&mut out, self);
        out
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
    }
}
