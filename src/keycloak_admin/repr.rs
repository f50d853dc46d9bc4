//! mockidp's model written as Keycloak's JSON representations (`UserRepresentation`,
//! `RoleRepresentation`, `ClientRepresentation`, `GroupRepresentation`), and the lookups that
//! find a model entry by the ids those representations carry.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::config::{ClientConfig, GroupConfig, PASSWORD, RoleConfig, UserConfig};
use crate::engine::Issuer;
use crate::ids;

/// Claims that `UserRepresentation` carries as fields of its own, not as `attributes`.
const PROFILE_CLAIMS: &[&str] = &[
    "email",
    "email_verified",
    "given_name",
    "family_name",
    "name",
    "preferred_username",
];

/// Realm roles every Keycloak realm defines.
pub fn built_in_realm_roles(issuer: &Issuer) -> Vec<String> {
    vec![
        format!(
            "default-roles-{}",
            issuer.config.realm_name().to_lowercase()
        ),
        "offline_access".into(),
        "uma_authorization".into(),
    ]
}

/// The access flags the admin console reads (`UserRepresentation.access`).
fn access() -> Value {
    json!({"manageGroupMembership": true, "view": true, "mapRoles": true,
           "impersonate": false, "manage": true})
}

/// `UserRepresentation`; `brief` leaves out `attributes` (`briefRepresentation=true`).
pub fn user(issuer: &Issuer, u: &UserConfig, brief: bool) -> Value {
    let claim = |k: &str| u.claims.get(k).cloned().unwrap_or(Value::Null);
    let mut rep = json!({
        "id": issuer.user_id(u),
        "username": u.username.to_lowercase(),
        "firstName": claim("given_name"),
        "lastName": claim("family_name"),
        "email": claim("email"),
        "emailVerified": u.claims.get("email_verified").and_then(Value::as_bool).unwrap_or(false),
        "enabled": u.enabled,
        "createdTimestamp": u.created_timestamp.unwrap_or(0),
        "totp": false,
        "disableableCredentialTypes": [],
        "requiredActions": u.required_actions,
        "notBefore": 0,
        "access": access(),
    });
    if let (false, Value::Object(map)) = (brief, &mut rep) {
        map.insert("attributes".into(), Value::Object(attributes(&u.claims)));
    }
    strip_nulls(rep)
}

/// The user's non-profile claims as Keycloak attributes: each a list of strings.
fn attributes(claims: &Map<String, Value>) -> Map<String, Value> {
    claims
        .iter()
        .filter(|(k, _)| !PROFILE_CLAIMS.contains(&k.as_str()))
        .map(|(k, v)| {
            let values: Vec<Value> = match v {
                Value::Array(items) => items.iter().map(as_text).collect(),
                other => vec![as_text(other)],
            };
            (k.clone(), Value::Array(values))
        })
        .collect()
}

fn as_text(v: &Value) -> Value {
    match v {
        Value::String(_) => v.clone(),
        other => Value::String(other.to_string()),
    }
}

fn strip_nulls(mut v: Value) -> Value {
    if let Value::Object(map) = &mut v {
        map.retain(|_, v| !v.is_null());
    }
    v
}

/// The Keycloak id (a UUID) of a client: derived from the realm and the client id.
pub fn client_uuid(issuer: &Issuer, c: &ClientConfig) -> String {
    ids::stable_uuid(&format!("{}/client/{}", issuer.name(), c.id))
}

/// The client whose Keycloak id is `uuid`.
pub fn client_by_uuid<'a>(issuer: &'a Issuer, uuid: &str) -> Option<&'a ClientConfig> {
    issuer
        .config
        .clients
        .iter()
        .find(|c| client_uuid(issuer, c) == uuid)
}

/// The user whose Keycloak id is `id`.
pub fn user_by_id<'a>(issuer: &'a Issuer, id: &str) -> Option<&'a UserConfig> {
    issuer.config.users.iter().find(|u| issuer.user_id(u) == id)
}

/// The group whose Keycloak id is `id`.
pub fn group_by_id<'a>(issuer: &'a Issuer, id: &str) -> Option<&'a GroupConfig> {
    issuer
        .config
        .groups
        .iter()
        .find(|g| issuer.group_id(g) == id)
}

/// `ClientRepresentation`, with the switches Keycloak derives from the grants.
pub fn client(issuer: &Issuer, c: &ClientConfig) -> Value {
    let has = |g: &str| c.allows_grant(g);
    let mut attributes = Map::new();
    if has(crate::config::DEVICE_CODE) {
        attributes.insert(
            "oauth2.device.authorization.grant.enabled".into(),
            json!("true"),
        );
    }
    if c.require_pkce || c.is_public() {
        attributes.insert("pkce.code.challenge.method".into(), json!("S256"));
    }
    let web_origins: Vec<&str> = c
        .redirect_uris
        .iter()
        .filter_map(|u| crate::config::origin_of(u))
        .collect();
    let default_scopes = c.default_scopes.clone().unwrap_or_else(|| c.scopes.clone());
    let optional: Vec<&String> = c
        .scopes
        .iter()
        .filter(|s| !default_scopes.contains(s))
        .collect();
    strip_nulls(json!({
        "id": client_uuid(issuer, c),
        "clientId": c.id,
        "description": c.description,
        "enabled": true,
        "protocol": "openid-connect",
        "publicClient": c.is_public(),
        "bearerOnly": false,
        "consentRequired": c.consent_required.unwrap_or(false),
        "clientAuthenticatorType": "client-secret",
        "secret": c.secret,
        "redirectUris": c.redirect_uris,
        "webOrigins": web_origins,
        "standardFlowEnabled": has("authorization_code"),
        "implicitFlowEnabled": c.implicit_flow,
        "directAccessGrantsEnabled": has(PASSWORD),
        "serviceAccountsEnabled": has("client_credentials"),
        "fullScopeAllowed": true,
        "defaultClientScopes": default_scopes,
        "optionalClientScopes": optional,
        "attributes": attributes,
        "access": {"view": true, "configure": true, "manage": true},
    }))
}

/// The service-account user of client `c` (`service-account-{clientId}`), as Keycloak's
/// client-credentials tokens name it (`sub`).
pub fn service_account_user(issuer: &Issuer, c: &ClientConfig) -> Value {
    json!({
        "id": ids::stable_uuid(&format!("{}/service-account/{}", issuer.config.realm_name(), c.id)),
        "username": format!("service-account-{}", c.id.to_lowercase()),
        "enabled": true,
        "emailVerified": false,
        "totp": false,
        "createdTimestamp": 0,
        "serviceAccountClientId": c.id,
        "requiredActions": [],
        "notBefore": 0,
        "access": access(),
    })
}

/// Where a role is defined: the realm, or a client (by client id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Container {
    Realm,
    Client(String),
}

impl Container {
    /// The realm, or the client whose `{client}` uuid a path names (`not_found` when unknown:
    /// Keycloak words it differently per resource).
    pub fn at(
        issuer: &Issuer,
        client_uuid: Option<&str>,
        not_found: &str,
    ) -> Result<Self, super::KcError> {
        match client_uuid {
            None => Ok(Self::Realm),
            Some(uuid) => client_by_uuid(issuer, uuid)
                .map(|c| Self::Client(c.id.clone()))
                .ok_or_else(|| super::KcError::not_found(not_found)),
        }
    }

    fn client(&self) -> Option<&str> {
        match self {
            Self::Realm => None,
            Self::Client(id) => Some(id),
        }
    }
}

/// `RoleRepresentation` of role `name` defined in `container`.
pub fn role(issuer: &Issuer, container: &Container, name: &str) -> Value {
    let declared = issuer
        .config
        .roles
        .iter()
        .find(|r| r.name == name && r.client.as_deref() == container.client());
    let container_id = match container {
        Container::Realm => issuer.config.realm_name().to_string(),
        Container::Client(id) => issuer
            .client(id)
            .map_or_else(|| id.clone(), |c| client_uuid(issuer, c)),
    };
    strip_nulls(json!({
        "id": role_id(issuer, container, name),
        "name": name,
        "description": declared.and_then(|r| r.description.clone()),
        "composite": false,
        "clientRole": *container != Container::Realm,
        "containerId": container_id,
    }))
}

/// The id of a role: derived from realm, container and name.
pub fn role_id(issuer: &Issuer, container: &Container, name: &str) -> String {
    let client = container.client().unwrap_or("");
    ids::stable_uuid(&format!("{}/role/{client}/{name}", issuer.name()))
}

/// The realm roles and client roles (by client id) of one user, client or group.
pub type HeldRoles<'a> = (&'a Vec<String>, &'a BTreeMap<String, Vec<String>>);

/// Every role defined in `container`: declared, built in, or held by a user, client or group
/// (mockidp's fixtures may use a role without declaring it). Sorted by name, each once.
pub fn roles_in(issuer: &Issuer, container: &Container) -> Vec<String> {
    let cfg = &issuer.config;
    let mut names: Vec<String> = cfg
        .roles
        .iter()
        .filter(|r| r.client.as_deref() == container.client())
        .map(|r| r.name.clone())
        .collect();
    let mut holders: Vec<HeldRoles<'_>> = Vec::new();
    holders.extend(cfg.users.iter().map(|u| (&u.roles, &u.client_roles)));
    holders.extend(cfg.clients.iter().map(|c| (&c.roles, &c.client_roles)));
    holders.extend(cfg.groups.iter().map(|g| (&g.roles, &g.client_roles)));
    for (realm_roles, client_roles) in holders {
        match container {
            Container::Realm => names.extend(realm_roles.iter().cloned()),
            Container::Client(id) => {
                names.extend(client_roles.get(id).into_iter().flatten().cloned())
            }
        }
    }
    if *container == Container::Realm {
        names.extend(built_in_realm_roles(issuer));
    }
    names.sort();
    names.dedup();
    names
}

/// The full path of a group (`/parent/child`).
pub fn group_path(issuer: &Issuer, g: &GroupConfig) -> String {
    let mut names: Vec<&str> = issuer
        .groups_with_ancestors(&[issuer.group_id(g)])
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    names.reverse();
    format!("/{}", names.join("/"))
}

/// The direct sub-groups of the group `parent` (none: the top-level groups), by name.
pub fn children<'a>(issuer: &'a Issuer, parent: Option<&str>) -> Vec<&'a GroupConfig> {
    let mut found: Vec<&GroupConfig> = issuer
        .config
        .groups
        .iter()
        .filter(|g| g.parent.as_deref() == parent)
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// `GroupRepresentation`, with its sub-groups down to `depth` levels.
pub fn group(issuer: &Issuer, g: &GroupConfig, depth: usize) -> Value {
    let id = issuer.group_id(g);
    let subs = children(issuer, Some(&id));
    let sub_groups: Vec<Value> = if depth == 0 {
        Vec::new()
    } else {
        subs.iter().map(|s| group(issuer, s, depth - 1)).collect()
    };
    strip_nulls(json!({
        "id": id,
        "name": g.name,
        "path": group_path(issuer, g),
        "parentId": g.parent,
        "subGroupCount": subs.len(),
        "subGroups": sub_groups,
        "attributes": g.attributes,
        "realmRoles": g.roles,
        "clientRoles": g.client_roles,
        "access": {"view": true, "viewMembers": true, "manageMembers": true, "manage": true, "manageMembership": true},
    }))
}

/// A role definition to declare (so that it is listed while no one holds it).
pub fn role_config(container: &Container, name: &str, description: Option<String>) -> RoleConfig {
    RoleConfig {
        name: name.to_string(),
        client: container.client().map(str::to_string),
        description,
    }
}
