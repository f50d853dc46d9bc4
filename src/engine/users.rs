//! People who log in: fixture users, or any username a tester types (with the issuer's default
//! claims), and which of their claims each OpenID scope releases.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_lc_rs::constant_time::verify_slices_are_equal;
use serde_json::{Value, json};

use super::Issuer;
use crate::config::{GroupConfig, UserConfig};
use crate::ids;
use crate::jwt::Object;

/// A logged-in user, frozen at login time.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct User {
    pub(crate) username: String,
    pub(crate) sub: String,
    pub(crate) roles: Vec<String>,
    /// Client roles by client id, the user's own and their groups' (Keycloak `resource_access`).
    pub(crate) client_roles: BTreeMap<String, Vec<String>>,
    pub(crate) claims: Object,
}

/// Why a login attempt failed; shown on the login page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LoginError {
    MissingUsername,
    WrongPassword,
    UnknownUser,
    /// A fixture user with `enabled = false`.
    Disabled,
}

impl std::fmt::Display for LoginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::MissingUsername => "Type a username or pick a user.",
            Self::WrongPassword => "Invalid username or password.",
            Self::UnknownUser => "Invalid username or password.",
            Self::Disabled => "Account is disabled, contact your administrator.",
        })
    }
}

impl Issuer {
    /// Checks a login: fixture users by password when they have one; other usernames are
    /// accepted (with the issuer's default claims) unless `allow_any_user` is off.
    pub(crate) fn login(&self, username: &str, password: &str) -> Result<Arc<User>, LoginError> {
        match self.fixture_login(username, password) {
            Err(LoginError::UnknownUser) if self.config.allow_any_user => {
                Ok(Arc::new(self.ad_hoc_user(username.trim())))
            }
            other => other,
        }
    }

    /// RFC 6749 §4.3.2: the resource owner's credentials, checked against the fixture users
    /// only. Unlike the login page, no made-up user is accepted whatever `allow_any_user` says:
    /// a real product refuses a username it does not know, and tests must see that. A fixture
    /// user without a password takes any password, as on the login page.
    pub(crate) fn fixture_login(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Arc<User>, LoginError> {
        let username = username.trim();
        if username.is_empty() {
            return Err(LoginError::MissingUsername);
        }
        let Some(u) = self
            .config
            .users
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(username))
        else {
            return Err(LoginError::UnknownUser);
        };
        // Keycloak's direct grant flow validates the user (ValidateUsername: "Account
        // disabled") before the password.
        if !u.enabled {
            return Err(LoginError::Disabled);
        }
        if let Some(expected) = &u.password
            && verify_slices_are_equal(expected.as_bytes(), password.as_bytes()).is_err()
        {
            return Err(LoginError::WrongPassword);
        }
        Ok(Arc::new(self.user_from(u)))
    }

    /// The user a test logs in without a password (admin API sessions, `auto_login`): an
    /// enabled fixture user, or with `allow_any_user` anyone.
    pub(crate) fn passwordless_user(&self, username: &str) -> Option<Arc<User>> {
        let username = username.trim();
        match self
            .config
            .users
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(username))
        {
            Some(u) => u.enabled.then(|| Arc::new(self.user_from(u))),
            None if self.config.allow_any_user && !username.is_empty() => {
                Some(Arc::new(self.ad_hoc_user(username)))
            }
            None => None,
        }
    }

    /// The user called `username`, fixture or ad hoc, without checking a password (minting).
    pub(crate) fn user_named(&self, username: &str) -> User {
        match self
            .config
            .users
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(username))
        {
            Some(u) => self.user_from(u),
            None => self.ad_hoc_user(username),
        }
    }

    fn user_from(&self, u: &UserConfig) -> User {
        let mut roles = u.roles.clone();
        let mut client_roles = u.client_roles.clone();
        // Keycloak's effective roles: a member holds the roles of its groups and their parents.
        for group in self.groups_with_ancestors(&u.groups) {
            merge(&mut roles, &group.roles);
            for (client, names) in &group.client_roles {
                merge(client_roles.entry(client.clone()).or_default(), names);
            }
        }
        User {
            username: u.username.clone(),
            sub: self.user_id(u),
            roles,
            client_roles,
            claims: u.claims.clone(),
        }
    }

    /// The Keycloak id of a fixture user: its `sub`, else one derived from the username.
    pub(crate) fn user_id(&self, u: &UserConfig) -> String {
        u.sub
            .clone()
            .unwrap_or_else(|| self.derived_sub(&u.username))
    }

    /// The Keycloak id of a group: its own, else one derived from its name.
    pub(crate) fn group_id(&self, g: &GroupConfig) -> String {
        g.id.clone()
            .unwrap_or_else(|| ids::stable_uuid(&format!("{}/group/{}", self.name(), g.name)))
    }

    /// The groups `ids` name and all their ancestors (each once; a cycle stops).
    pub(crate) fn groups_with_ancestors(&self, ids: &[String]) -> Vec<&GroupConfig> {
        let mut found: Vec<&GroupConfig> = Vec::new();
        let mut pending: Vec<String> = ids.to_vec();
        while let Some(id) = pending.pop() {
            let Some(g) = self.config.groups.iter().find(|g| self.group_id(g) == id) else {
                continue;
            };
            if found.iter().any(|f| std::ptr::eq(*f, g)) {
                continue;
            }
            pending.extend(g.parent.clone());
            found.push(g);
        }
        found
    }

    fn ad_hoc_user(&self, username: &str) -> User {
        User {
            username: username.to_string(),
            sub: self.derived_sub(username),
            roles: Vec::new(),
            client_roles: BTreeMap::new(),
            claims: self.config.default_user_claims.clone(),
        }
    }

    /// A stable subject for a username: the same user gets the same `sub` on every run.
    fn derived_sub(&self, username: &str) -> String {
        ids::stable_uuid(&format!("{}/user/{}", self.name(), username.to_lowercase()))
    }
}

/// Adds the names of `more` that `into` lacks.
fn merge(into: &mut Vec<String>, more: &[String]) {
    for name in more {
        if !into.contains(name) {
            into.push(name.clone());
        }
    }
}

/// OpenID Connect Core §5.4: the claims each standard scope releases.
pub(crate) const SCOPE_CLAIMS: &[(&str, &[&str])] = &[
    (
        "profile",
        &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
    ),
    ("email", &["email", "email_verified"]),
    ("address", &["address"]),
    ("phone", &["phone_number", "phone_number_verified"]),
];

/// The user's claims released by `scopes`. `preferred_username` defaults to the username, and
/// claims no standard scope covers (custom ones from the fixtures) are always released.
pub(crate) fn claims_for_scopes(user: &User, scopes: &[String]) -> Object {
    let standard = |k: &str| SCOPE_CLAIMS.iter().any(|(_, cs)| cs.contains(&k));
    let granted = |k: &str| {
        SCOPE_CLAIMS
            .iter()
            .any(|(s, cs)| cs.contains(&k) && scopes.iter().any(|g| g == s))
    };
    let mut out = Object::new();
    if granted("preferred_username") {
        out.insert("preferred_username".into(), json!(user.username));
    }
    for (k, v) in &user.claims {
        if !standard(k) || granted(k) {
            out.insert(k.clone(), v.clone());
        }
    }
    if granted("email") && !out.contains_key("email_verified") && out.contains_key("email") {
        out.insert("email_verified".into(), Value::Bool(false));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_release_their_claims_only() {
        let user = User {
            username: "alice".into(),
            sub: "1".into(),
            roles: vec![],
            client_roles: BTreeMap::new(),
            claims: json!({"email": "a@x", "name": "Alice", "tenant": "t1"})
                .as_object()
                .unwrap()
                .clone(),
        };
        let c = claims_for_scopes(&user, &["openid".into(), "email".into()]);
        assert_eq!(c["email"], "a@x");
        assert_eq!(c["tenant"], "t1");
        assert!(!c.contains_key("name"));
        let c = claims_for_scopes(&user, &["profile".into()]);
        assert_eq!(c["name"], "Alice");
        assert_eq!(c["preferred_username"], "alice");
        assert!(!c.contains_key("email"));
    }
}
