//! OAuth 2.0 Multiple Response Types §3 / OpenID Connect Core §3: a `response_type` is a set of
//! `code`, `id_token` and `token` (or `none` alone), whose order does not matter.

/// The parts of a parsed `response_type`. All false: `none` (Multiple Response Types §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResponseType {
    pub code: bool,
    pub id_token: bool,
    pub token: bool,
}

impl ResponseType {
    /// Parses a space-separated `response_type` in any order; `None` for an unknown part, a
    /// repeated one, or `none` with others.
    pub fn parse(value: &str) -> Option<Self> {
        let mut parsed = Self::default();
        let mut none = false;
        let mut parts = 0;
        for part in value.split(' ').filter(|p| !p.is_empty()) {
            parts += 1;
            let slot = match part {
                "code" => &mut parsed.code,
                "id_token" => &mut parsed.id_token,
                "token" => &mut parsed.token,
                "none" => &mut none,
                _ => return None,
            };
            if std::mem::replace(slot, true) {
                return None;
            }
        }
        (parts > 0 && (!none || parts == 1)).then_some(parsed)
    }

    /// Whether tokens come back from the authorization endpoint (implicit or hybrid flow).
    pub fn front_tokens(self) -> bool {
        self.id_token || self.token
    }

    /// OpenID Connect Core §3.3: a code and tokens from the authorization endpoint.
    pub fn hybrid(self) -> bool {
        self.front_tokens() && self.code
    }

    /// The canonical spelling (Core §3's order), as discovery lists it.
    pub fn as_str(self) -> &'static str {
        match (self.code, self.id_token, self.token) {
            (true, false, false) => "code",
            (false, true, false) => "id_token",
            (false, false, true) => "token",
            (false, true, true) => "id_token token",
            (true, true, false) => "code id_token",
            (true, false, true) => "code token",
            (true, true, true) => "code id_token token",
            (false, false, false) => "none",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ResponseType;

    #[test]
    fn order_does_not_matter_and_repeats_or_strays_are_refused() {
        let all = ResponseType::parse("token code id_token").unwrap();
        assert_eq!(all.as_str(), "code id_token token");
        assert!(all.hybrid() && all.code);
        assert_eq!(
            ResponseType::parse("token id_token").unwrap().as_str(),
            "id_token token"
        );
        assert_eq!(ResponseType::parse("none").unwrap().as_str(), "none");
        for bad in ["", " ", "code code", "none code", "code foo", "Code"] {
            assert_eq!(ResponseType::parse(bad), None, "{bad:?}");
        }
    }
}
