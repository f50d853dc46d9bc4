//! Which issuer, page or resource a request path names. Paths are data (issuers are mounted
//! where the fixtures say, and the admin API adds them at runtime), so routing is a lookup in
//! the issuer table rather than a route per endpoint. The engine finds issuers by name and by
//! issuer URL only ([`Issuers::by_issuer_url`]).

use std::sync::Arc;

use crate::config::ResourceConfig;
use crate::engine::{Issuer, Issuers};

/// The issuer mounted at the longest prefix of `path` (already slash-normalised) and the rest
/// of the path below it. Keycloak issuers also answer under the legacy `/auth`.
pub(crate) fn issuer_at<'i, 'p>(
    issuers: &'i Issuers,
    path: &'p str,
) -> Option<(&'i Arc<Issuer>, &'p str)> {
    let mut best: Option<(&Arc<Issuer>, &'p str)> = None;
    for issuer in issuers.iter() {
        let candidates = [Some(path), path.strip_prefix("/auth")];
        let legacy_ok = issuer.dialect.profile().accepts_auth_prefix;
        for (i, p) in candidates.into_iter().enumerate() {
            let Some(p) = p else { continue };
            if i == 1 && !legacy_ok {
                continue;
            }
            if let Some(rest) = p.strip_prefix(issuer.path.as_str())
                && (rest.is_empty() || rest.starts_with('/'))
                && best.is_none_or(|(b, _)| b.path.len() < issuer.path.len())
            {
                best = Some((issuer, rest));
            }
        }
    }
    best
}

/// The protected resource at `path`, and its issuer.
pub(crate) fn resource_at<'i>(
    issuers: &'i Issuers,
    path: &str,
) -> Option<(&'i Arc<Issuer>, &'i ResourceConfig)> {
    let trimmed = path.trim_end_matches('/');
    issuers.iter().find_map(|i| {
        i.resources
            .iter()
            .find(|r| r.path.trim_end_matches('/') == trimmed)
            .map(|r| (i, r))
    })
}

/// The issuer whose SSO landing page (Inqom's `/home`) is at `path`.
pub(crate) fn home_of<'i>(issuers: &'i Issuers, path: &str) -> Option<&'i Arc<Issuer>> {
    let path = path.trim_end_matches('/');
    issuers
        .iter()
        .find(|i| i.home_path.trim_end_matches('/') == path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn the_longest_mount_wins_and_keycloak_answers_under_auth() {
        let config = Config::from_toml(
            r#"
[[issuer]]
name = "kc"
dialect = "keycloak"
realm = "kc"

[[issuer]]
name = "dot"
dialect = "generic"
path = ""
"#,
        )
        .expect("the fixture loads");
        let issuers = Issuers::load(&config).expect("the issuers load");
        let at = |path| issuer_at(&issuers, path).map(|(i, rest)| (i.name().to_string(), rest));
        let kc = Some(("kc".to_string(), "/protocol/openid-connect/token"));
        assert_eq!(at("/realms/kc/protocol/openid-connect/token"), kc);
        assert_eq!(at("/auth/realms/kc/protocol/openid-connect/token"), kc);
        assert_eq!(at("/realms/kcx"), Some(("dot".to_string(), "/realms/kcx")));
        assert_eq!(at("/token/"), Some(("dot".to_string(), "/token/")));
        assert!(home_of(&issuers, "/realms/kc/account/").is_some());
        assert!(resource_at(&issuers, "/resource/").is_some_and(|(i, _)| i.name() == "dot"));
    }
}
