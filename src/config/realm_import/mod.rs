//! Keycloak realm exports as mockidp issuers.
//!
//! `kc.sh export --realm acme --users realm_file` writes the realm as one JSON
//! `RealmRepresentation`; [`issuer_from_realm_export`] turns it into a Keycloak-dialect
//! [`IssuerConfig`], so a team's own realm runs against mockidp unchanged.
//!
//! What is kept:
//!
//! - the realm's lifetimes (`accessTokenLifespan`, `ssoSessionIdleTimeout`, ...);
//! - its OpenID Connect clients (`ClientRepresentation`): grants, secret, redirect URIs, PKCE,
//!   client scopes, and the realm and client roles of their service-account users;
//! - its other users (`UserRepresentation`): profile, attributes, realm roles, id as `sub`.
//!
//! - the clients' hardcoded-claim protocol mappers, as fixed claims of their tokens.
//!
//! What Keycloak works out at run time is not: composite roles, groups, the other protocol
//! mappers, authentication flows, the users' client roles (mockidp users have realm roles
//! only), the service-account users' ids (a service account's `sub` is mockidp's own).
//!
//! Passwords: a real export holds only password hashes (`credentials[].secretData`), which
//! mockidp cannot check, so such users get no `password` and log in with any password. The plain
//! `credentials[].value` of a hand-written import file is kept and checked.
//!
//! The JSON is read into the serde structs of [`representation`]; an error names the JSON
//! path of its culprit and the client or user it is in
//! (`clients[2].redirectUris[0] (clientId "web"): must be a string`).

mod representation;

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::model::from_minimal;
use crate::config::{
    ClientAuthMethod, ClientConfig, DEVICE_CODE, DialectKind, IssuerConfig, PASSWORD,
    TOKEN_EXCHANGE, UserConfig,
};
use representation::{
    ClientAttributes, ClientRepresentation, Place, RealmLifetimes, RealmRepresentation, Strings,
    UserRepresentation, read,
};

/// Clients every realm gets; they serve Keycloak's own consoles and APIs, not the user's apps.
const BUILT_IN_CLIENTS: &[&str] = &[
    "account",
    "account-console",
    "admin-cli",
    "broker",
    "realm-management",
    "security-admin-console",
];

/// Client scopes that only drive Keycloak's protocol mappers: never asked for by applications.
const INTERNAL_SCOPES: &[&str] = &[
    "acr",
    "basic",
    "microprofile-jwt",
    "organization",
    "role_list",
    "roles",
    "saml_organization",
    "service_account",
    "web-origins",
];

/// Realm roles every user holds through `default-roles-{realm}`; tokens gain nothing from them.
const IMPLICIT_ROLES: &[&str] = &["offline_access", "uma_authorization"];

/// Builds a Keycloak-dialect issuer from a realm export (RealmRepresentation JSON).
///
/// The issuer is named after the realm and served at `/realms/{realm}`. Built-in, disabled,
/// bearer-only and SAML clients are left out, as are disabled users. Errors name the JSON path
/// of the value at fault and its client or user, e.g.
/// `clients[2].redirectUris[0] (clientId "web"): must be a string`.
pub fn issuer_from_realm_export(json: &str) -> Result<IssuerConfig, String> {
    let root: Value =
        serde_json::from_str(json).map_err(|e| format!("not a Keycloak realm export: {e}"))?;
    let json = single_realm(&root)?;
    let realm: RealmRepresentation = read(json)?;
    let name = realm
        .realm
        .as_deref()
        .filter(|n| !n.is_empty())
        .ok_or("not a Keycloak realm export: \"realm\" (the realm's name) is missing")?;
    if realm.enabled == Some(false) {
        return Err(format!("realm {name:?} is disabled (\"enabled\": false)"));
    }
    let lifetimes: RealmLifetimes = read(json)?;
    let (accounts, users) = users(&realm, name)?;
    let mut issuer = IssuerConfig::new(name, DialectKind::Keycloak);
    issuer.realm = Some(name.to_string());
    lifetimes.apply(&mut issuer);
    issuer.clients = clients(&realm, &accounts)?;
    issuer.users = users;
    Ok(issuer)
}

/// One `UserRepresentation` (the admin REST API's, or a realm export's) as a user of realm
/// `realm_name`: profile, attributes, plain password, realm and client roles, `enabled`,
/// `requiredActions`. The same reading as the realm import's.
pub fn user_from_representation(
    map: &Map<String, Value>,
    realm_name: &str,
) -> Result<UserConfig, String> {
    let user: UserRepresentation = read(&Value::Object(map.clone()))?;
    let username = user
        .username
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or("User name is missing")?;
    let roles = realm_roles(&user, realm_name);
    let mut person = person(&user, &username.to_lowercase(), roles);
    person.client_roles = client_roles(&user);
    person.enabled = user.enabled.unwrap_or(false);
    person.required_actions = strings(&user.required_actions);
    Ok(person)
}

/// One `ClientRepresentation` (the admin REST API's, or a realm export's) as a client, with
/// Keycloak's defaults for what it leaves out.
pub fn client_from_representation(map: &Map<String, Value>) -> Result<ClientConfig, String> {
    let client: ClientRepresentation = read(&Value::Object(map.clone()))?;
    let id = client
        .client_id
        .as_deref()
        .filter(|id| !id.is_empty())
        .ok_or("clientId is missing")?;
    let place = Place::default().named("clientId", id);
    let realm_scopes = RealmScopes {
        default: None,
        optional: None,
    };
    client_config(&client, id, &place, &realm_scopes, None)
}

/// Applies the lifetimes of a `RealmRepresentation` to `issuer` (absent ones stay).
pub fn apply_realm_lifetimes(
    map: &Map<String, Value>,
    issuer: &mut IssuerConfig,
) -> Result<(), String> {
    let lifetimes: RealmLifetimes = read(&Value::Object(map.clone()))?;
    lifetimes.apply(issuer);
    Ok(())
}

impl RealmLifetimes {
    /// Sets the issuer's lifetimes the realm sets: `accessTokenLifespan` is `access_token_ttl`,
    /// `accessCodeLifespan` `code_ttl`, `ssoSessionIdleTimeout` `refresh_token_ttl`,
    /// `ssoSessionMaxLifespan` `session_ttl`, `oauth2DeviceCodeLifespan` `device_code_ttl`,
    /// `oauth2DevicePollingInterval` `device_interval`.
    fn apply(&self, issuer: &mut IssuerConfig) {
        for (field, seconds) in [
            (&mut issuer.access_token_ttl, self.access_token_lifespan),
            (&mut issuer.code_ttl, self.access_code_lifespan),
            (&mut issuer.refresh_token_ttl, self.sso_session_idle_timeout),
            (&mut issuer.session_ttl, self.sso_session_max_lifespan),
            (
                &mut issuer.device_code_ttl,
                self.oauth2_device_code_lifespan,
            ),
            (
                &mut issuer.device_interval,
                self.oauth2_device_polling_interval,
            ),
        ] {
            if seconds.is_some() {
                *field = seconds;
            }
        }
    }
}

/// The export's realm: one `RealmRepresentation`, or an array holding exactly one.
fn single_realm(root: &Value) -> Result<&Value, String> {
    match root {
        Value::Object(_) => Ok(root),
        Value::Array(realms) => match realms.as_slice() {
            [realm @ Value::Object(_)] => Ok(realm),
            _ => Err(format!(
                "not a Keycloak realm export: expected one realm object, found an array of {} \
                 elements (export a single realm with `kc.sh export --realm NAME`)",
                realms.len()
            )),
        },
        _ => {
            Err("not a Keycloak realm export: expected a JSON object (RealmRepresentation)".into())
        }
    }
}

/// The strings of an optional list.
fn strings(list: &Option<Strings>) -> Vec<String> {
    list.as_ref().map(|s| s.0.clone()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Users

/// The roles a client's service-account user carries (`service-account-{clientId}`), which
/// Keycloak puts in that client's `client_credentials` tokens.
struct ServiceAccount {
    /// `serviceAccountClientId`, when the export has it.
    client_id: Option<String>,
    username: String,
    roles: Vec<String>,
    client_roles: BTreeMap<String, Vec<String>>,
}

impl ServiceAccount {
    fn belongs_to(&self, client_id: &str) -> bool {
        match &self.client_id {
            Some(id) => id == client_id,
            // Keycloak lowercases usernames, not client ids.
            None => self
                .username
                .eq_ignore_ascii_case(&format!("{SERVICE_ACCOUNT_PREFIX}{client_id}")),
        }
    }
}

/// Splits `users[]` into service accounts and people; disabled users are left out.
fn users(
    realm: &RealmRepresentation,
    realm_name: &str,
) -> Result<(Vec<ServiceAccount>, Vec<UserConfig>), String> {
    let mut accounts = Vec::new();
    let mut people = Vec::new();
    for (i, user) in realm.users.iter().flatten().enumerate() {
        let username = user
            .username
            .as_deref()
            .filter(|u| !u.is_empty())
            .ok_or_else(|| format!("users[{i}]: username is missing"))?;
        if user.enabled == Some(false) {
            continue;
        }
        let roles = realm_roles(user, realm_name);
        let client_id = user.service_account_client_id.clone();
        if client_id.is_some() || is_service_account_name(username) {
            accounts.push(ServiceAccount {
                client_id,
                username: username.to_string(),
                roles,
                client_roles: client_roles(user),
            });
        } else {
            people.push(person(user, username, roles));
        }
    }
    Ok((accounts, people))
}

/// Keycloak names a client's service-account user `service-account-{clientId}`, lowercased.
const SERVICE_ACCOUNT_PREFIX: &str = "service-account-";

fn is_service_account_name(username: &str) -> bool {
    username
        .get(..SERVICE_ACCOUNT_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(SERVICE_ACCOUNT_PREFIX))
}

/// One `UserConfig`: `id` becomes `sub`, the profile and `attributes` become claims.
fn person(user: &UserRepresentation, username: &str, roles: Vec<String>) -> UserConfig {
    let mut person = UserConfig::new(username);
    person.password = plain_password(user);
    person.sub = user.id.clone().filter(|id| !id.is_empty());
    person.roles = roles;
    person.claims = user_claims(user);
    person
}

/// The OpenID claims of a user: `attributes` (one value: a string; more: an array), then
/// `email`, `given_name`, `family_name`, `name` and `email_verified`, which win over attributes
/// of the same name.
fn user_claims(user: &UserRepresentation) -> Map<String, Value> {
    let mut claims = Map::new();
    for (key, values) in user.attributes.iter().flat_map(|a| &a.0) {
        match strings(values).as_slice() {
            [] => {}
            [one] => {
                claims.insert(key.clone(), json!(one));
            }
            many => {
                claims.insert(key.clone(), json!(many));
            }
        }
    }
    let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    let (first, last) = (nonempty(&user.first_name), nonempty(&user.last_name));
    if let Some(email) = nonempty(&user.email) {
        claims.insert("email".into(), json!(email));
    }
    if let Some(first) = &first {
        claims.insert("given_name".into(), json!(first));
    }
    if let Some(last) = &last {
        claims.insert("family_name".into(), json!(last));
    }
    let name: Vec<String> = first.into_iter().chain(last).collect();
    if !name.is_empty() {
        claims.insert("name".into(), json!(name.join(" ")));
    }
    if let Some(verified) = user.email_verified {
        claims.insert("email_verified".into(), json!(verified));
    }
    claims
}

/// The plain `value` of a `password` credential, as hand-written import files have it. Exports
/// hold only hashes (`secretData`): then `None`, and mockidp accepts any password.
fn plain_password(user: &UserRepresentation) -> Option<String> {
    user.credentials
        .iter()
        .flatten()
        .filter(|c| c.kind.as_deref() == Some("password"))
        .find_map(|c| c.value.clone().filter(|v| !v.is_empty()))
}

/// `realmRoles` without the ones every user holds (`default-roles-{realm}`, `offline_access`,
/// `uma_authorization`).
fn realm_roles(user: &UserRepresentation, realm_name: &str) -> Vec<String> {
    let default_roles = format!("default-roles-{realm_name}");
    let mut roles = Vec::new();
    for role in strings(&user.realm_roles) {
        let implicit =
            role.eq_ignore_ascii_case(&default_roles) || IMPLICIT_ROLES.contains(&role.as_str());
        if !implicit && !roles.contains(&role) {
            roles.push(role);
        }
    }
    roles
}

/// `clientRoles`: role names by client id.
fn client_roles(user: &UserRepresentation) -> BTreeMap<String, Vec<String>> {
    user.client_roles
        .iter()
        .flatten()
        .map(|(client, names)| (client.clone(), strings(names)))
        .filter(|(_, names)| !names.is_empty())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Clients

/// The realm's `ClientConfig`s, without the built-in, disabled, bearer-only and
/// non-OpenID-Connect clients.
fn clients(
    realm: &RealmRepresentation,
    accounts: &[ServiceAccount],
) -> Result<Vec<ClientConfig>, String> {
    let realm_scopes = RealmScopes {
        default: realm
            .default_default_client_scopes
            .as_ref()
            .map(|s| s.0.clone()),
        optional: realm
            .default_optional_client_scopes
            .as_ref()
            .map(|s| s.0.clone()),
    };
    let mut clients = Vec::new();
    for (i, client) in realm.clients.iter().flatten().enumerate() {
        let id = client
            .client_id
            .as_deref()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| format!("clients[{i}]: clientId is missing"))?;
        let place = Place::default()
            .field("clients")
            .index(i)
            .named("clientId", id);
        if !is_skipped(client, id) {
            let account = accounts.iter().find(|a| a.belongs_to(id));
            clients.push(client_config(client, id, &place, &realm_scopes, account)?);
        }
    }
    Ok(clients)
}

/// The realm's `defaultDefaultClientScopes` and `defaultOptionalClientScopes`: what Keycloak
/// gives a client imported without its own lists.
struct RealmScopes {
    default: Option<Vec<String>>,
    optional: Option<Vec<String>>,
}

fn is_skipped(client: &ClientRepresentation, id: &str) -> bool {
    BUILT_IN_CLIENTS.contains(&id)
        || client.enabled == Some(false)
        || client.bearer_only == Some(true)
        || client
            .protocol
            .as_deref()
            .is_some_and(|p| p != "openid-connect")
}

/// One `ClientConfig` from a `ClientRepresentation` at `place` (and its service account's
/// roles).
fn client_config(
    client: &ClientRepresentation,
    id: &str,
    place: &Place,
    realm_scopes: &RealmScopes,
    account: Option<&ServiceAccount>,
) -> Result<ClientConfig, String> {
    let no_attributes = ClientAttributes::default();
    let attributes = client.attributes.as_ref().unwrap_or(&no_attributes);
    let mut config: ClientConfig = from_minimal(json!({ "id": id }));
    config.secret = secret(client, place)?;
    config.description = description(client);
    config.grants = grants(client, attributes);
    config.implicit_flow = client.implicit_flow_enabled.unwrap_or(false);
    client_authenticator(client, attributes, place, &mut config)?;
    let (scopes, default_scopes) = scopes(client, realm_scopes);
    config.scopes = scopes;
    config.default_scopes = Some(default_scopes);
    let root_url = root_url(client);
    let redirect_uris = redirect_uris(client, root_url);
    config.post_logout_redirect_uris = post_logout_uris(attributes, root_url, &redirect_uris);
    config.redirect_uris = redirect_uris;
    config.require_pkce = attributes
        .pkce_code_challenge_method
        .as_deref()
        .is_some_and(|m| !m.is_empty());
    if let Some(account) = account {
        config.roles = account.roles.clone();
        config.client_roles = account.client_roles.clone();
    }
    config.claims = hardcoded_claims(client, place)?;
    config.consent_required = client.consent_required;
    Ok(config)
}

/// The client's `oidc-hardcoded-claim-mapper`s that write to the access token, as fixed claims:
/// typed by `jsonType.label`, nested where `claim.name` has dots (`a\.b` keeps one), as
/// Keycloak does. Other mappers compute values at run time and are not imported.
fn hardcoded_claims(
    client: &ClientRepresentation,
    place: &Place,
) -> Result<Map<String, Value>, String> {
    let mut claims = Map::new();
    for (i, mapper) in client.protocol_mappers.iter().flatten().enumerate() {
        let Some(config) = &mapper.config else {
            continue;
        };
        if mapper.protocol_mapper.as_deref() != Some("oidc-hardcoded-claim-mapper")
            || config.access_token_claim.as_deref() == Some("false")
        {
            continue;
        }
        let (Some(name), Some(text)) = (&config.claim_name, &config.claim_value) else {
            continue;
        };
        let value = match config.json_type.as_deref().unwrap_or("String") {
            "long" | "int" => text.parse::<i64>().map(Value::from).ok(),
            "boolean" => text.parse::<bool>().map(Value::from).ok(),
            "JSON" => serde_json::from_str(text).ok(),
            _ => Some(json!(text)),
        }
        .ok_or_else(|| {
            let at = place.field("protocolMappers").index(i).field("config");
            at.field("claim.value")
                .says("must be a value of its jsonType.label")
        })?;
        let path: Vec<String> = name
            .replace("\\.", "\u{0}")
            .split('.')
            .map(|p| p.replace('\u{0}', "."))
            .collect();
        insert_at(&mut claims, &path, value);
    }
    Ok(claims)
}

/// Puts `value` at `path` in nested objects, making the objects on the way.
fn insert_at(obj: &mut Map<String, Value>, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            obj.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let child = obj
                .entry(first.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if !child.is_object() {
                *child = Value::Object(Map::new());
            }
            if let Some(child) = child.as_object_mut() {
                insert_at(child, rest, value);
            }
        }
    }
}

/// `secret`, unless `publicClient`. A confidential client needs its real secret: without it (or
/// with the `**********` the admin console's partial export writes) no token could be obtained.
fn secret(client: &ClientRepresentation, place: &Place) -> Result<Option<String>, String> {
    if client.public_client == Some(true) {
        return Ok(None);
    }
    let at = place.field("secret");
    match client.secret.as_deref() {
        Some(s) if !s.is_empty() && !s.chars().all(|c| c == '*') => Ok(Some(s.to_string())),
        Some(s) if !s.is_empty() => Err(at.says(&format!(
            "the secret of this confidential client is masked ({s:?}, as the admin console's \
             partial export writes it); put the real secret in the file"
        ))),
        _ => Err(at.says(
            "this confidential client has no secret; add \"secret\" or set \
             \"publicClient\": true",
        )),
    }
}

/// `description`, else the display `name` (unless it is a `${...}` message key).
fn description(client: &ClientRepresentation) -> Option<String> {
    let description = client.description.clone().filter(|d| !d.is_empty());
    let name = client
        .name
        .clone()
        .filter(|n| !n.is_empty() && !n.contains("${"));
    description.or(name)
}

/// `clientAuthenticatorType` "client-jwt" (Signed JWT: `private_key_jwt`, keys from the
/// `jwks.string` attribute, or fetched from `jwks.url`) and
/// "client-secret-jwt" (`client_secret_jwt`); "client-secret" is the default.
fn client_authenticator(
    client: &ClientRepresentation,
    attributes: &ClientAttributes,
    place: &Place,
    config: &mut ClientConfig,
) -> Result<(), String> {
    let method = match client.client_authenticator_type.as_deref() {
        Some("client-jwt") => ClientAuthMethod::PrivateKeyJwt,
        Some("client-secret-jwt") => ClientAuthMethod::ClientSecretJwt,
        _ => return Ok(()),
    };
    config.token_endpoint_auth_method = Some(method);
    if method != ClientAuthMethod::PrivateKeyJwt {
        return Ok(());
    }
    if attributes.use_jwks_string {
        let text = attributes.jwks_string.as_deref().unwrap_or_default();
        let jwks = serde_json::from_str(text).map_err(|e| {
            let at = place.field("attributes").field("jwks.string");
            at.says(&format!("is not JSON: {e}"))
        })?;
        config.jwks = Some(jwks);
    } else if attributes.use_jwks_url {
        config.jwks_url = Some(attributes.jwks_url.clone().unwrap_or_default());
    } else {
        return Err(place.field("clientAuthenticatorType").says(
            "a Signed JWT client with a certificate (jwt.credential.certificate) is not \
             supported; export its keys as a JWKS (use.jwks.string)",
        ));
    }
    Ok(())
}

/// The OAuth grants the client's capability switches enable (`implicitFlowEnabled` is the
/// client's `implicit_flow`).
fn grants(client: &ClientRepresentation, attributes: &ClientAttributes) -> Vec<String> {
    let mut grants: Vec<&str> = Vec::new();
    if client.standard_flow_enabled.unwrap_or(true) {
        grants.extend(["authorization_code", "refresh_token"]);
    }
    // "Direct access grants": RFC 6749 §4.3, with refresh tokens as Keycloak issues them.
    if client.direct_access_grants_enabled.unwrap_or(false) {
        grants.push(PASSWORD);
        if !grants.contains(&"refresh_token") {
            grants.push("refresh_token");
        }
    }
    if client.service_accounts_enabled.unwrap_or(false) {
        grants.push("client_credentials");
    }
    if attributes.device_authorization_grant {
        grants.push(DEVICE_CODE);
        if !grants.contains(&"refresh_token") {
            grants.push("refresh_token");
        }
    }
    if attributes.standard_token_exchange {
        grants.push(TOKEN_EXCHANGE);
    }
    grants.into_iter().map(String::from).collect()
}

/// `defaultClientScopes` + `optionalClientScopes` (the realm's defaults when the client has no
/// list) without Keycloak's internal scopes, and the default ones alone.
fn scopes(client: &ClientRepresentation, realm: &RealmScopes) -> (Vec<String>, Vec<String>) {
    let own = |list: &Option<Strings>| list.as_ref().map(|s| s.0.clone());
    let default = own(&client.default_client_scopes).or_else(|| realm.default.clone());
    let optional = own(&client.optional_client_scopes).or_else(|| realm.optional.clone());
    let default = application_scopes(default.unwrap_or_default(), Vec::new());
    let all = application_scopes(optional.unwrap_or_default(), default.clone());
    (all, default)
}

/// Appends to `into` the scopes of `scopes` that applications ask for, each once.
fn application_scopes(scopes: Vec<String>, mut into: Vec<String>) -> Vec<String> {
    for scope in scopes {
        if !INTERNAL_SCOPES.contains(&scope.as_str()) && !into.contains(&scope) {
            into.push(scope);
        }
    }
    into
}

/// `rootUrl`, which relative redirect URIs are resolved against; `${authBaseUrl}`-style
/// placeholders count as absent.
fn root_url(client: &ClientRepresentation) -> Option<&str> {
    client
        .root_url
        .as_deref()
        .filter(|r| !r.is_empty() && !r.contains("${"))
}

/// `redirectUris`, relative ones made absolute with `rootUrl` (or dropped without one).
fn redirect_uris(client: &ClientRepresentation, root_url: Option<&str>) -> Vec<String> {
    let mut uris = Vec::new();
    for uri in strings(&client.redirect_uris) {
        if let Some(uri) = absolute_uri(&uri, root_url)
            && !uris.contains(&uri)
        {
            uris.push(uri);
        }
    }
    uris
}

/// A redirect URI as registered: `/path` and a bare `*` are relative to `rootUrl` (`*` becomes
/// `{rootUrl}/*`, not "anything"); wildcards such as `http://localhost:8080/*` stay as they are.
fn absolute_uri(uri: &str, root_url: Option<&str>) -> Option<String> {
    let uri = uri.trim();
    let path = match uri {
        "" => return None,
        "*" => "/*",
        _ if uri.starts_with('/') => uri,
        _ => return Some(uri.to_string()),
    };
    root_url.map(|root| format!("{}{path}", root.trim_end_matches('/')))
}

/// The `post.logout.redirect.uris` attribute: `##`-separated, `+` standing for the redirect
/// URIs. `None` (mockidp's "the redirect URIs") when absent, empty or just `+`.
fn post_logout_uris(
    attributes: &ClientAttributes,
    root_url: Option<&str>,
    redirect_uris: &[String],
) -> Option<Vec<String>> {
    let raw = attributes.post_logout_redirect_uris.as_deref()?;
    let entries: Vec<&str> = raw
        .split("##")
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if entries.is_empty() || entries == ["+"] {
        return None;
    }
    let mut uris: Vec<String> = Vec::new();
    for entry in entries {
        let found = match entry {
            "+" => redirect_uris.to_vec(),
            _ => absolute_uri(entry, root_url).into_iter().collect(),
        };
        for uri in found {
            if !uris.contains(&uri) {
                uris.push(uri);
            }
        }
    }
    Some(uris)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ClientConfig, UserConfig};

    const SAMPLE: &str = include_str!("../../../fixtures/keycloak/realm-export.json");

    fn sample() -> IssuerConfig {
        issuer_from_realm_export(SAMPLE).unwrap()
    }

    fn client<'a>(issuer: &'a IssuerConfig, id: &str) -> &'a ClientConfig {
        issuer.clients.iter().find(|c| c.id == id).unwrap()
    }

    fn user<'a>(issuer: &'a IssuerConfig, name: &str) -> &'a UserConfig {
        issuer.users.iter().find(|u| u.username == name).unwrap()
    }

    /// A minimal realm with these clients (and users).
    fn realm(clients: Value, users: Value) -> String {
        json!({ "realm": "r", "enabled": true, "clients": clients, "users": users }).to_string()
    }

    fn error(json: &str) -> String {
        issuer_from_realm_export(json).unwrap_err()
    }

    #[test]
    fn the_sample_realm_becomes_a_keycloak_issuer() {
        let issuer = sample();
        assert_eq!(issuer.name, "acme");
        assert_eq!(issuer.realm_name(), "acme");
        assert_eq!(issuer.dialect, crate::config::DialectKind::Keycloak);
        assert_eq!(issuer.mount_path(), "/realms/acme");
        assert_eq!(issuer.access_token_ttl, Some(600));
        assert_eq!(issuer.code_ttl, Some(60));
        assert_eq!(issuer.refresh_token_ttl, Some(1800));
        assert_eq!(issuer.session_ttl, Some(36000));
        assert_eq!(issuer.device_code_ttl, Some(900));
        assert_eq!(issuer.device_interval, Some(5));
        assert_eq!(issuer.id_token_ttl, None);
    }

    /// `consentRequired` becomes the client's consent page switch; absent, Keycloak's default.
    #[test]
    fn consent_required_is_imported() {
        let clients = json!([
            { "clientId": "asks", "publicClient": true, "consentRequired": true },
            { "clientId": "quiet", "publicClient": true },
        ]);
        let issuer = issuer_from_realm_export(&realm(clients, json!([]))).unwrap();
        assert_eq!(client(&issuer, "asks").consent_required, Some(true));
        assert_eq!(client(&issuer, "quiet").consent_required, None);
    }

    #[test]
    fn built_in_clients_and_service_account_users_are_left_out() {
        let issuer = sample();
        let ids: Vec<_> = issuer.clients.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["acme-web", "acme-service", "acme-spa"]);
        let names: Vec<_> = issuer.users.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, ["jane", "joe"]);
    }

    #[test]
    fn the_web_client_is_confidential_with_the_code_flow() {
        let issuer = sample();
        let web = client(&issuer, "acme-web");
        assert_eq!(web.secret.as_deref(), Some("acme-web-secret"));
        // directAccessGrantsEnabled: true
        assert_eq!(
            web.grants,
            ["authorization_code", "refresh_token", "password"]
        );
        assert_eq!(web.redirect_uris, ["http://localhost:3000/*"]);
        assert!(web.redirect_uri_registered("http://localhost:3000/callback"));
        assert_eq!(
            web.post_logout_redirect_uris.as_deref(),
            Some(&["http://localhost:3000/bye".to_string()][..])
        );
        assert!(!web.require_pkce);
        assert_eq!(
            web.description.as_deref(),
            Some("Acme web app: browser login (authorization code)")
        );
        let expected = [
            "profile",
            "email",
            "address",
            "phone",
            "offline_access",
            "acme-api",
        ];
        assert_eq!(web.scopes, expected);
        assert_eq!(
            web.default_scopes.as_deref(),
            Some(&["profile".to_string(), "email".to_string()][..])
        );
        assert!(web.roles.is_empty() && web.client_roles.is_empty());
    }

    #[test]
    fn the_service_client_carries_its_service_account_roles() {
        let issuer = sample();
        let service = client(&issuer, "acme-service");
        assert_eq!(service.secret.as_deref(), Some("acme-service-secret"));
        assert_eq!(service.grants, ["client_credentials", TOKEN_EXCHANGE]);
        assert_eq!(service.roles, ["admin"]);
        let reader = vec!["reader".to_string()];
        assert_eq!(service.client_roles.get("acme-web"), Some(&reader));
        assert_eq!(service.client_roles.len(), 1);
        // `/*` with an empty rootUrl cannot be resolved: dropped.
        assert!(service.redirect_uris.is_empty());
        assert_eq!(
            service.default_scopes.as_deref(),
            Some(&["profile".into(), "email".into(), "acme-api".into()][..])
        );
        assert!(service.scopes.contains(&"acme-api".to_string()));
        assert!(!service.scopes.contains(&"service_account".to_string()));
    }

    #[test]
    fn the_spa_is_public_with_pkce_and_the_device_grant() {
        let issuer = sample();
        let spa = client(&issuer, "acme-spa");
        assert!(spa.is_public());
        assert!(spa.require_pkce);
        let expected = ["authorization_code", "refresh_token", DEVICE_CODE];
        assert_eq!(spa.grants, expected);
        let expected = [
            "http://localhost:5173/*",
            "http://localhost:5173/silent-check-sso.html",
        ];
        assert_eq!(spa.redirect_uris, expected);
        assert_eq!(
            spa.post_logout_redirect_uris, None,
            "\"+\": the redirect URIs"
        );
        assert_eq!(spa.description.as_deref(), Some("Acme SPA"));
    }

    #[test]
    fn users_keep_their_id_profile_attributes_and_roles() {
        let issuer = sample();
        let jane = user(&issuer, "jane");
        assert_eq!(jane.password.as_deref(), Some("jane"));
        assert_eq!(
            jane.sub.as_deref(),
            Some("8a1f3c2e-5b7d-4e9f-a1c3-5e7f9b1d3f01")
        );
        assert_eq!(jane.roles, ["user"]);
        let expected = json!({
            "tenant": "t1",
            "email": "jane@acme.test",
            "given_name": "Jane",
            "family_name": "Doe",
            "name": "Jane Doe",
            "email_verified": true,
        });
        assert_eq!(Value::Object(jane.claims.clone()), expected);

        let joe = user(&issuer, "joe");
        assert_eq!(joe.password, None, "hashed secretData: any password");
        assert_eq!(joe.roles, ["admin", "user"]);
        assert_eq!(joe.claims["name"], "Joe Bloggs");
        assert_eq!(joe.claims["email_verified"], false);
    }

    #[test]
    fn the_sample_passes_fixture_validation() {
        // The same checks `Config` runs on TOML fixtures.
        let issuer = sample();
        for c in &issuer.clients {
            for s in c.default_scopes.iter().flatten() {
                assert!(c.scopes.contains(s), "{}: {s}", c.id);
            }
            for g in &c.grants {
                assert!(crate::config::IMPLEMENTED_GRANTS.contains(&g.as_str()));
            }
        }
    }

    #[test]
    fn disabled_bearer_only_and_saml_clients_and_disabled_users_are_skipped() {
        let clients = json!([
            { "clientId": "off", "enabled": false, "publicClient": true },
            { "clientId": "api", "bearerOnly": true },
            { "clientId": "saml", "protocol": "saml", "publicClient": true },
            { "clientId": "on", "publicClient": true },
        ]);
        let users = json!([
            { "username": "gone", "enabled": false },
            { "username": "here" },
        ]);
        let issuer = issuer_from_realm_export(&realm(clients, users)).unwrap();
        let ids: Vec<_> = issuer.clients.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["on"]);
        let names: Vec<_> = issuer.users.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, ["here"]);
        assert_eq!(issuer.users[0].sub, None);
    }

    #[test]
    fn clients_without_scope_lists_get_the_realm_defaults() {
        let export = json!({
            "realm": "r",
            "defaultDefaultClientScopes": ["profile", "roles", "web-origins"],
            "defaultOptionalClientScopes": ["offline_access", "microprofile-jwt", "api"],
            "clients": [{ "clientId": "c", "publicClient": true }],
        });
        let issuer = issuer_from_realm_export(&export.to_string()).unwrap();
        let c = &issuer.clients[0];
        assert_eq!(c.scopes, ["profile", "offline_access", "api"]);
        assert_eq!(c.default_scopes.as_deref(), Some(&["profile".into()][..]));
        assert_eq!(c.grants, ["authorization_code", "refresh_token"]);
        assert_eq!(issuer.access_token_ttl, None);
    }

    #[test]
    fn redirect_uris_relative_to_root_url_and_post_logout_lists() {
        let clients = json!([{
            "clientId": "c",
            "publicClient": true,
            "rootUrl": "https://app.test/",
            "redirectUris": ["*", "/cb", "myapp:/callback"],
            "attributes": { "post.logout.redirect.uris": "+##/bye##https://other.test/out" },
        }, {
            "clientId": "d",
            "publicClient": true,
            "rootUrl": "${authBaseUrl}",
            "redirectUris": ["*", "/cb"],
        }]);
        let issuer = issuer_from_realm_export(&realm(clients, json!([]))).unwrap();
        let c = &issuer.clients[0];
        let expected = [
            "https://app.test/*",
            "https://app.test/cb",
            "myapp:/callback",
        ];
        assert_eq!(c.redirect_uris, expected);
        let logout = c.post_logout_redirect_uris.clone().unwrap();
        let mut expected = expected.map(String::from).to_vec();
        expected.extend([
            "https://app.test/bye".into(),
            "https://other.test/out".into(),
        ]);
        assert_eq!(logout, expected);
        assert!(issuer.clients[1].redirect_uris.is_empty());
    }

    #[test]
    fn the_implicit_flow_switch_becomes_the_implicit_grant() {
        let clients = json!([
            { "clientId": "spa", "publicClient": true, "implicitFlowEnabled": true,
              "redirectUris": ["https://app.test/cb"] },
            { "clientId": "only-implicit", "publicClient": true, "implicitFlowEnabled": true,
              "standardFlowEnabled": false, "redirectUris": ["https://app.test/cb"] },
        ]);
        let issuer = issuer_from_realm_export(&realm(clients, json!([]))).unwrap();
        let flows: Vec<_> = issuer
            .clients
            .iter()
            .map(|c| (c.grants.clone(), c.implicit_flow))
            .collect();
        let code = vec!["authorization_code".to_string(), "refresh_token".into()];
        assert_eq!(flows, [(code, true), (vec![], true)]);
    }

    #[test]
    fn service_accounts_are_found_by_username_too() {
        let clients = json!([{
            "clientId": "Batch", "secret": "s", "serviceAccountsEnabled": true,
            "standardFlowEnabled": false,
        }]);
        let users = json!([{
            "username": "service-account-batch",
            "realmRoles": ["default-roles-r", "offline_access", "uma_authorization", "ops"],
            "clientRoles": { "billing": ["read", "write"] },
        }]);
        let issuer = issuer_from_realm_export(&realm(clients, users)).unwrap();
        assert!(issuer.users.is_empty());
        let c = &issuer.clients[0];
        assert_eq!(c.grants, ["client_credentials"]);
        assert_eq!(c.roles, ["ops"]);
        assert_eq!(c.client_roles["billing"], ["read", "write"]);
    }

    #[test]
    fn a_single_realm_array_is_accepted() {
        let one = format!("[{}]", realm(json!([]), json!([])));
        assert_eq!(issuer_from_realm_export(&one).unwrap().name, "r");
        let two = format!("[{0},{0}]", realm(json!([]), json!([])));
        assert!(error(&two).contains("array of 2"), "{}", error(&two));
    }

    #[test]
    fn not_json_is_an_error() {
        let err = error("realm: acme");
        assert!(err.starts_with("not a Keycloak realm export"), "{err}");
        assert!(error("42").contains("JSON object"));
    }

    #[test]
    fn a_missing_realm_name_is_an_error() {
        let err = error(r#"{ "enabled": true, "clients": [] }"#);
        assert!(err.contains("\"realm\""), "{err}");
        assert!(err.contains("missing"), "{err}");
    }

    #[test]
    fn a_disabled_realm_is_an_error() {
        let err = error(r#"{ "realm": "old", "enabled": false }"#);
        assert!(err.contains("\"old\"") && err.contains("disabled"), "{err}");
    }

    #[test]
    fn a_masked_or_missing_secret_is_an_error_naming_the_client() {
        let masked = json!([
            { "clientId": "spa", "publicClient": true, "secret": "**********" },
            { "clientId": "web", "secret": "**********" },
        ]);
        let err = error(&realm(masked, json!([])));
        assert!(
            err.starts_with("clients[1].secret (clientId \"web\"): "),
            "{err}"
        );
        assert!(err.contains("masked"), "{err}");
        let missing = json!([{ "clientId": "web", "publicClient": false }]);
        let err = error(&realm(missing, json!([])));
        assert!(
            err.starts_with("clients[0].secret (clientId \"web\"): "),
            "{err}"
        );
        assert!(err.contains("no secret"), "{err}");
    }

    #[test]
    fn wrong_types_are_errors_naming_the_json_path() {
        let clients = json!([
            { "clientId": "a", "publicClient": true },
            { "clientId": "b", "publicClient": true },
            { "clientId": "web", "publicClient": true, "redirectUris": "http://x/*" },
        ]);
        assert_eq!(
            error(&realm(clients, json!([]))),
            "clients[2].redirectUris (clientId \"web\"): must be an array of strings"
        );
        let clients = json!([
            { "clientId": "a", "publicClient": true },
            { "clientId": "web", "publicClient": true, "redirectUris": ["http://x/*", 7] },
        ]);
        assert_eq!(
            error(&realm(clients, json!([]))),
            "clients[1].redirectUris[1] (clientId \"web\"): must be a string"
        );
        let users = json!([{ "username": "u", "attributes": { "tenant": 7 } }]);
        assert_eq!(
            error(&realm(json!([]), users)),
            "users[0].attributes.tenant (username \"u\"): must be an array of strings"
        );
        let err = error(r#"{ "realm": "r", "accessTokenLifespan": "5m" }"#);
        assert_eq!(
            err,
            "accessTokenLifespan: must be a whole number of seconds"
        );
        let err = error(r#"{ "realm": "r", "clients": [ 1 ] }"#);
        assert_eq!(err, "clients[0]: must be an object");
        let err = error(r#"{ "realm": "r", "clients": [ { "name": "x" } ] }"#);
        assert_eq!(err, "clients[0]: clientId is missing");
        let err =
            error(r#"{ "realm": "r", "clients": [ { "clientId": "c", "enabled": "yes" } ] }"#);
        assert_eq!(
            err,
            "clients[0].enabled (clientId \"c\"): must be a boolean"
        );
    }

    #[test]
    fn type_errors_never_show_the_value() {
        let users =
            json!([{ "username": "u", "credentials": [{ "type": "password", "value": 4711 }] }]);
        let err = error(&realm(json!([]), users));
        assert_eq!(
            err,
            "users[0].credentials[0].value (username \"u\"): must be a string"
        );
        let clients = json!([{ "clientId": "c", "secret": 123456789 }]);
        let err = error(&realm(clients, json!([])));
        assert!(!err.contains("123456789"), "{err}");
        assert!(
            err.starts_with("clients[0].secret (clientId \"c\"): "),
            "{err}"
        );
    }

    #[test]
    fn admin_representations_name_the_field_and_the_client() {
        let client = json!({ "clientId": "web", "redirectUris": [true] });
        let err = client_from_representation(client.as_object().unwrap()).unwrap_err();
        assert_eq!(err, "redirectUris[0] (clientId \"web\"): must be a string");
        let client = json!({ "clientId": "web" });
        let err = client_from_representation(client.as_object().unwrap()).unwrap_err();
        assert!(
            err.starts_with("secret (clientId \"web\"): this confidential"),
            "{err}"
        );
        let user = json!({ "email": "x@y" });
        let err = user_from_representation(user.as_object().unwrap(), "r").unwrap_err();
        assert_eq!(err, "User name is missing");
    }

    #[test]
    fn hardcoded_claim_mappers_become_typed_nested_claims() {
        let mapper = |name: &str, value: &str, ty: &str| {
            json!({"protocolMapper": "oidc-hardcoded-claim-mapper",
                   "config": {"claim.name": name, "claim.value": value, "jsonType.label": ty,
                              "access.token.claim": "true"}})
        };
        let client = json!({"protocolMappers": [
            mapper("tenant", "acme", "String"),
            mapper("org.level", "3", "long"),
            mapper("org.paid", "true", "boolean"),
            mapper("dotted\\.name", "{\"a\":1}", "JSON"),
            {"protocolMapper": "oidc-usermodel-attribute-mapper", "config": {"claim.name": "x"}},
        ]});
        let export = |client: Value| {
            let mut client = client;
            client["clientId"] = json!("c");
            client["publicClient"] = json!(true);
            realm(json!([client]), json!([]))
        };
        let issuer = issuer_from_realm_export(&export(client)).unwrap();
        assert_eq!(
            Value::Object(issuer.clients[0].claims.clone()),
            json!({"tenant": "acme", "org": {"level": 3, "paid": true}, "dotted.name": {"a": 1}})
        );
        let bad = json!({"protocolMappers": [mapper("n", "x", "long")]});
        assert_eq!(
            error(&export(bad)),
            "clients[0].protocolMappers[0].config.claim.value (clientId \"c\"): must be a value \
             of its jsonType.label"
        );
    }
}
