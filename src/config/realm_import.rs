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

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::config::{ClientConfig, DEVICE_CODE, IssuerConfig, TOKEN_EXCHANGE, UserConfig};

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

/// `RealmRepresentation` lifetimes (seconds) and the `IssuerConfig` fields they become.
const LIFETIMES: &[(&str, &str)] = &[
    ("accessTokenLifespan", "access_token_ttl"),
    ("accessCodeLifespan", "code_ttl"),
    ("ssoSessionIdleTimeout", "refresh_token_ttl"),
    ("ssoSessionMaxLifespan", "session_ttl"),
    ("oauth2DeviceCodeLifespan", "device_code_ttl"),
    ("oauth2DevicePollingInterval", "device_interval"),
];

/// Builds a Keycloak-dialect issuer from a realm export (RealmRepresentation JSON).
///
/// The issuer is named after the realm and served at `/realms/{realm}`. Built-in, disabled,
/// bearer-only and SAML clients are left out, as are disabled users. Errors name the field at
/// fault, e.g. `clients[2] (clientId "web"): redirectUris must be an array of strings`.
pub fn issuer_from_realm_export(json: &str) -> Result<IssuerConfig, String> {
    let root: Value =
        serde_json::from_str(json).map_err(|e| format!("not a Keycloak realm export: {e}"))?;
    let realm = Fields::new(single_realm(&root)?, String::new());
    let name = realm
        .str("realm")?
        .filter(|n| !n.is_empty())
        .ok_or("not a Keycloak realm export: \"realm\" (the realm's name) is missing")?;
    if realm.bool("enabled")? == Some(false) {
        return Err(format!("realm {name:?} is disabled (\"enabled\": false)"));
    }
    let (accounts, users) = users(&realm, name)?;
    let mut issuer = Map::new();
    issuer.insert("name".into(), json!(name));
    issuer.insert("dialect".into(), json!("keycloak"));
    issuer.insert("realm".into(), json!(name));
    for (field, key) in LIFETIMES {
        if let Some(seconds) = realm.seconds(field)? {
            issuer.insert((*key).into(), json!(seconds));
        }
    }
    issuer.insert("client".into(), Value::Array(clients(&realm, &accounts)?));
    issuer.insert("user".into(), Value::Array(users));
    serde_json::from_value(Value::Object(issuer)).map_err(|e| format!("realm {name:?}: {e}"))
}

/// One `UserRepresentation` (the admin REST API's, or a realm export's) as a user of realm
/// `realm_name`: profile, attributes, plain password, realm and client roles, `enabled`,
/// `requiredActions`. The same reading as the realm import's.
pub fn user_from_representation(
    map: &Map<String, Value>,
    realm_name: &str,
) -> Result<UserConfig, String> {
    let user = Fields::new(map, String::new());
    let username = user
        .str("username")?
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or("User name is missing")?;
    let mut person = person(
        &user,
        &username.to_lowercase(),
        realm_roles(&user, realm_name)?,
    )?;
    if let Value::Object(p) = &mut person {
        p.insert("client_roles".into(), json!(client_roles(&user)?));
        p.insert(
            "enabled".into(),
            json!(user.bool("enabled")?.unwrap_or(false)),
        );
        let actions = user.strings("requiredActions")?.unwrap_or_default();
        p.insert("required_actions".into(), json!(actions));
    }
    serde_json::from_value(person).map_err(|e| e.to_string())
}

/// One `ClientRepresentation` (the admin REST API's, or a realm export's) as a client, with
/// Keycloak's defaults for what it leaves out.
pub fn client_from_representation(map: &Map<String, Value>) -> Result<ClientConfig, String> {
    let fields = Fields::new(map, String::new());
    let id = fields
        .str("clientId")?
        .filter(|id| !id.is_empty())
        .ok_or("clientId is missing")?;
    let client = Fields::new(map, format!("client {id:?}"));
    let realm_scopes = RealmScopes {
        default: None,
        optional: None,
    };
    let config = client_config(&client, id, &realm_scopes, None)?;
    serde_json::from_value(config).map_err(|e| e.to_string())
}

/// Applies the lifetimes of a `RealmRepresentation` to `issuer` (absent ones stay).
pub fn apply_realm_lifetimes(
    map: &Map<String, Value>,
    issuer: &mut IssuerConfig,
) -> Result<(), String> {
    let realm = Fields::new(map, String::new());
    let mut current = serde_json::to_value(&*issuer).map_err(|e| e.to_string())?;
    for (field, key) in LIFETIMES {
        if let (Some(seconds), Value::Object(c)) = (realm.seconds(field)?, &mut current) {
            c.insert((*key).into(), json!(seconds));
        }
    }
    *issuer = serde_json::from_value(current).map_err(|e| e.to_string())?;
    Ok(())
}

/// The export's realm: one `RealmRepresentation`, or an array holding exactly one.
fn single_realm(root: &Value) -> Result<&Map<String, Value>, String> {
    match root {
        Value::Object(realm) => Ok(realm),
        Value::Array(realms) => match realms.as_slice() {
            [Value::Object(realm)] => Ok(realm),
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

/// Splits `users[]` into service accounts and people (as `UserConfig` JSON); disabled users
/// are left out.
fn users(realm: &Fields, realm_name: &str) -> Result<(Vec<ServiceAccount>, Vec<Value>), String> {
    let mut accounts = Vec::new();
    let mut people = Vec::new();
    for (i, map) in realm.objects("users")?.into_iter().enumerate() {
        let username = Fields::new(map, format!("users[{i}]"))
            .str("username")?
            .filter(|u| !u.is_empty())
            .ok_or_else(|| format!("users[{i}]: username is missing"))?;
        let user = Fields::new(map, format!("users[{i}] (username {username:?})"));
        if user.bool("enabled")? == Some(false) {
            continue;
        }
        let roles = realm_roles(&user, realm_name)?;
        let client_id = user.str("serviceAccountClientId")?;
        if client_id.is_some() || is_service_account_name(username) {
            accounts.push(ServiceAccount {
                client_id: client_id.map(str::to_string),
                username: username.to_string(),
                roles,
                client_roles: client_roles(&user)?,
            });
        } else {
            people.push(person(&user, username, roles)?);
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
fn person(user: &Fields, username: &str, roles: Vec<String>) -> Result<Value, String> {
    let mut person = Map::new();
    person.insert("username".into(), json!(username));
    if let Some(password) = plain_password(user)? {
        person.insert("password".into(), json!(password));
    }
    if let Some(id) = user.str("id")?.filter(|id| !id.is_empty()) {
        person.insert("sub".into(), json!(id));
    }
    person.insert("roles".into(), json!(roles));
    person.insert("claims".into(), Value::Object(user_claims(user)?));
    Ok(Value::Object(person))
}

/// The OpenID claims of a user: `attributes` (one value: a string; more: an array), then
/// `email`, `given_name`, `family_name`, `name` and `email_verified`, which win over attributes
/// of the same name.
fn user_claims(user: &Fields) -> Result<Map<String, Value>, String> {
    let mut claims = Map::new();
    if let Some(attributes) = user.object("attributes")? {
        for key in attributes.map.keys() {
            let values = attributes.strings(key)?.unwrap_or_default();
            match values.as_slice() {
                [] => {}
                [one] => {
                    claims.insert(key.clone(), json!(one));
                }
                _ => {
                    claims.insert(key.clone(), json!(values));
                }
            }
        }
    }
    let first = user.str("firstName")?.filter(|s| !s.is_empty());
    let last = user.str("lastName")?.filter(|s| !s.is_empty());
    if let Some(email) = user.str("email")?.filter(|s| !s.is_empty()) {
        claims.insert("email".into(), json!(email));
    }
    if let Some(first) = first {
        claims.insert("given_name".into(), json!(first));
    }
    if let Some(last) = last {
        claims.insert("family_name".into(), json!(last));
    }
    let name: Vec<&str> = first.into_iter().chain(last).collect();
    if !name.is_empty() {
        claims.insert("name".into(), json!(name.join(" ")));
    }
    if let Some(verified) = user.bool("emailVerified")? {
        claims.insert("email_verified".into(), json!(verified));
    }
    Ok(claims)
}

/// The plain `value` of a `password` credential, as hand-written import files have it. Exports
/// hold only hashes (`secretData`): then `None`, and mockidp accepts any password.
fn plain_password(user: &Fields) -> Result<Option<String>, String> {
    for (i, map) in user.objects("credentials")?.into_iter().enumerate() {
        let credential = Fields::new(map, format!("{}: credentials[{i}]", user.ctx));
        if credential.str("type")? == Some("password")
            && let Some(value) = credential.str("value")?.filter(|v| !v.is_empty())
        {
            return Ok(Some(value.to_string()));
        }
    }
    Ok(None)
}

/// `realmRoles` without the ones every user holds (`default-roles-{realm}`, `offline_access`,
/// `uma_authorization`).
fn realm_roles(user: &Fields, realm_name: &str) -> Result<Vec<String>, String> {
    let default_roles = format!("default-roles-{realm_name}");
    let mut roles = Vec::new();
    for role in user.strings("realmRoles")?.unwrap_or_default() {
        let implicit =
            role.eq_ignore_ascii_case(&default_roles) || IMPLICIT_ROLES.contains(&role.as_str());
        if !implicit && !roles.contains(&role) {
            roles.push(role);
        }
    }
    Ok(roles)
}

/// `clientRoles`: role names by client id.
fn client_roles(user: &Fields) -> Result<BTreeMap<String, Vec<String>>, String> {
    let mut roles = BTreeMap::new();
    if let Some(by_client) = user.object("clientRoles")? {
        for client in by_client.map.keys() {
            let names = by_client.strings(client)?.unwrap_or_default();
            if !names.is_empty() {
                roles.insert(client.clone(), names);
            }
        }
    }
    Ok(roles)
}

// ---------------------------------------------------------------------------------------------
// Clients

/// The realm's `ClientConfig`s (as JSON), without the built-in, disabled, bearer-only and
/// non-OpenID-Connect clients.
fn clients(realm: &Fields, accounts: &[ServiceAccount]) -> Result<Vec<Value>, String> {
    let realm_scopes = RealmScopes {
        default: realm.strings("defaultDefaultClientScopes")?,
        optional: realm.strings("defaultOptionalClientScopes")?,
    };
    let mut clients = Vec::new();
    for (i, map) in realm.objects("clients")?.into_iter().enumerate() {
        let id = Fields::new(map, format!("clients[{i}]"))
            .str("clientId")?
            .filter(|id| !id.is_empty())
            .ok_or_else(|| format!("clients[{i}]: clientId is missing"))?;
        let client = Fields::new(map, format!("clients[{i}] (clientId {id:?})"));
        if !is_skipped(&client, id)? {
            let account = accounts.iter().find(|a| a.belongs_to(id));
            clients.push(client_config(&client, id, &realm_scopes, account)?);
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

fn is_skipped(client: &Fields, id: &str) -> Result<bool, String> {
    Ok(BUILT_IN_CLIENTS.contains(&id)
        || client.bool("enabled")? == Some(false)
        || client.bool("bearerOnly")? == Some(true)
        || client
            .str("protocol")?
            .is_some_and(|p| p != "openid-connect"))
}

/// One `ClientConfig` from a `ClientRepresentation` (and its service account's roles).
fn client_config(
    client: &Fields,
    id: &str,
    realm_scopes: &RealmScopes,
    account: Option<&ServiceAccount>,
) -> Result<Value, String> {
    let no_attributes = Map::new();
    let attributes = client
        .object("attributes")?
        .unwrap_or_else(|| Fields::new(&no_attributes, String::new()));
    let mut config = Map::new();
    config.insert("id".into(), json!(id));
    if let Some(secret) = secret(client)? {
        config.insert("secret".into(), json!(secret));
    }
    if let Some(description) = description(client)? {
        config.insert("description".into(), json!(description));
    }
    config.insert("grants".into(), json!(grants(client, &attributes)?));
    client_authenticator(client, &attributes, &mut config)?;
    let (scopes, default_scopes) = scopes(client, realm_scopes)?;
    config.insert("scopes".into(), json!(scopes));
    config.insert("default_scopes".into(), json!(default_scopes));
    let root_url = root_url(client)?;
    let redirect_uris = redirect_uris(client, root_url)?;
    if let Some(uris) = post_logout_uris(&attributes, root_url, &redirect_uris)? {
        config.insert("post_logout_redirect_uris".into(), json!(uris));
    }
    config.insert("redirect_uris".into(), json!(redirect_uris));
    let pkce = attributes.str("pkce.code.challenge.method")?;
    config.insert(
        "require_pkce".into(),
        json!(pkce.is_some_and(|m| !m.is_empty())),
    );
    if let Some(account) = account {
        config.insert("roles".into(), json!(account.roles));
        config.insert("client_roles".into(), json!(account.client_roles));
    }
    let claims = hardcoded_claims(client)?;
    if !claims.is_empty() {
        config.insert("claims".into(), Value::Object(claims));
    }
    Ok(Value::Object(config))
}

/// The client's `oidc-hardcoded-claim-mapper`s that write to the access token, as fixed claims:
/// typed by `jsonType.label`, nested where `claim.name` has dots (`a\.b` keeps one), as
/// Keycloak does. Other mappers compute values at run time and are not imported.
fn hardcoded_claims(client: &Fields) -> Result<Map<String, Value>, String> {
    let mut claims = Map::new();
    for (i, mapper) in client.objects("protocolMappers")?.into_iter().enumerate() {
        let mapper = Fields::new(mapper, format!("{}: protocolMappers[{i}]", client.ctx));
        let Some(config) = mapper.object("config")? else {
            continue;
        };
        if mapper.str("protocolMapper")? != Some("oidc-hardcoded-claim-mapper")
            || config.str("access.token.claim")? == Some("false")
        {
            continue;
        }
        let (Some(name), Some(text)) = (config.str("claim.name")?, config.str("claim.value")?)
        else {
            continue;
        };
        let value = match config.str("jsonType.label")?.unwrap_or("String") {
            "long" | "int" => text.parse::<i64>().map(Value::from).ok(),
            "boolean" => text.parse::<bool>().map(Value::from).ok(),
            "JSON" => serde_json::from_str(text).ok(),
            _ => Some(json!(text)),
        }
        .ok_or_else(|| config.invalid("claim.value", "a value of its jsonType.label"))?;
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
fn secret(client: &Fields) -> Result<Option<String>, String> {
    if client.bool("publicClient")? == Some(true) {
        return Ok(None);
    }
    match client.str("secret")? {
        Some(s) if !s.is_empty() && !s.chars().all(|c| c == '*') => Ok(Some(s.to_string())),
        Some(s) if !s.is_empty() => Err(format!(
            "{}: the secret of this confidential client is masked ({s:?}, as the admin console's \
             partial export writes it); put the real secret in the file",
            client.ctx
        )),
        _ => Err(format!(
            "{}: this confidential client has no secret; add \"secret\" or set \
             \"publicClient\": true",
            client.ctx
        )),
    }
}

/// `description`, else the display `name` (unless it is a `${...}` message key).
fn description(client: &Fields) -> Result<Option<String>, String> {
    let description = client.str("description")?.filter(|d| !d.is_empty());
    let name = client
        .str("name")?
        .filter(|n| !n.is_empty() && !n.contains("${"));
    Ok(description.or(name).map(str::to_string))
}

/// `clientAuthenticatorType` "client-jwt" (Signed JWT: `private_key_jwt`, keys from the
/// `jwks.string` attribute, or fetched from `jwks.url`) and
/// "client-secret-jwt" (`client_secret_jwt`); "client-secret" is the default.
fn client_authenticator(
    client: &Fields,
    attributes: &Fields,
    config: &mut Map<String, Value>,
) -> Result<(), String> {
    let method = match client.str("clientAuthenticatorType")? {
        Some("client-jwt") => "private_key_jwt",
        Some("client-secret-jwt") => "client_secret_jwt",
        _ => return Ok(()),
    };
    config.insert("token_endpoint_auth_method".into(), json!(method));
    if method != "private_key_jwt" {
        return Ok(());
    }
    if attributes.flag("use.jwks.string")? {
        let text = attributes.str("jwks.string")?.unwrap_or_default();
        let jwks: Value = serde_json::from_str(text)
            .map_err(|e| format!("{}: attribute jwks.string is not JSON: {e}", client.ctx))?;
        config.insert("jwks".into(), jwks);
    } else if attributes.flag("use.jwks.url")? {
        let url = attributes.str("jwks.url")?.unwrap_or_default();
        config.insert("jwks_url".into(), json!(url));
    } else {
        return Err(format!(
            "{}: a Signed JWT client with a certificate (jwt.credential.certificate) is not \
             supported; export its keys as a JWKS (use.jwks.string)",
            client.ctx
        ));
    }
    Ok(())
}

/// The OAuth grants the client's capability switches enable. `implicitFlowEnabled` has no
/// mockidp counterpart and is ignored.
fn grants(client: &Fields, attributes: &Fields) -> Result<Vec<&'static str>, String> {
    let mut grants = Vec::new();
    if client.bool("standardFlowEnabled")?.unwrap_or(true) {
        grants.extend(["authorization_code", "refresh_token"]);
    }
    // "Direct access grants": RFC 6749 §4.3, with refresh tokens as Keycloak issues them.
    if client.bool("directAccessGrantsEnabled")?.unwrap_or(false) {
        grants.push(crate::config::PASSWORD);
        if !grants.contains(&"refresh_token") {
            grants.push("refresh_token");
        }
    }
    if client.bool("serviceAccountsEnabled")?.unwrap_or(false) {
        grants.push("client_credentials");
    }
    if attributes.flag("oauth2.device.authorization.grant.enabled")? {
        grants.push(DEVICE_CODE);
        if !grants.contains(&"refresh_token") {
            grants.push("refresh_token");
        }
    }
    if attributes.flag("standard.token.exchange.enabled")? {
        grants.push(TOKEN_EXCHANGE);
    }
    Ok(grants)
}

/// `defaultClientScopes` + `optionalClientScopes` (the realm's defaults when the client has no
/// list) without Keycloak's internal scopes, and the default ones alone.
fn scopes(client: &Fields, realm: &RealmScopes) -> Result<(Vec<String>, Vec<String>), String> {
    let default = client
        .strings("defaultClientScopes")?
        .or_else(|| realm.default.clone());
    let optional = client
        .strings("optionalClientScopes")?
        .or_else(|| realm.optional.clone());
    let default = application_scopes(default.unwrap_or_default(), Vec::new());
    let all = application_scopes(optional.unwrap_or_default(), default.clone());
    Ok((all, default))
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
fn root_url<'a>(client: &Fields<'a>) -> Result<Option<&'a str>, String> {
    Ok(client
        .str("rootUrl")?
        .filter(|r| !r.is_empty() && !r.contains("${")))
}

/// `redirectUris`, relative ones made absolute with `rootUrl` (or dropped without one).
fn redirect_uris(client: &Fields, root_url: Option<&str>) -> Result<Vec<String>, String> {
    let mut uris = Vec::new();
    for uri in client.strings("redirectUris")?.unwrap_or_default() {
        if let Some(uri) = absolute_uri(&uri, root_url)
            && !uris.contains(&uri)
        {
            uris.push(uri);
        }
    }
    Ok(uris)
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
    attributes: &Fields,
    root_url: Option<&str>,
    redirect_uris: &[String],
) -> Result<Option<Vec<String>>, String> {
    let Some(raw) = attributes.str("post.logout.redirect.uris")? else {
        return Ok(None);
    };
    let entries: Vec<&str> = raw
        .split("##")
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if entries.is_empty() || entries == ["+"] {
        return Ok(None);
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
    Ok(Some(uris))
}

// ---------------------------------------------------------------------------------------------
// Typed access to JSON fields, with errors that say where

/// A JSON object of the export and where it is (`clients[2] (clientId "web")`), for messages.
/// `null` counts as absent, as Keycloak writes it for unset fields.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    ctx: String,
}

impl<'a> Fields<'a> {
    fn new(map: &'a Map<String, Value>, ctx: String) -> Self {
        Self { map, ctx }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn invalid(&self, key: &str, what: &str) -> String {
        if self.ctx.is_empty() {
            format!("{key} must be {what}")
        } else {
            format!("{}: {key} must be {what}", self.ctx)
        }
    }

    fn str(&self, key: &str) -> Result<Option<&'a str>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.invalid(key, "a string")),
        }
    }

    fn bool(&self, key: &str) -> Result<Option<bool>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.invalid(key, "true or false")),
        }
    }

    /// A client attribute switch: `"true"` (Keycloak writes attributes as strings) or `true`.
    fn flag(&self, key: &str) -> Result<bool, String> {
        match self.get(key) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) => Ok(s.eq_ignore_ascii_case("true")),
            Some(_) => Err(self.invalid(key, "\"true\" or \"false\"")),
        }
    }

    /// A lifetime in seconds; Keycloak's `0` ("not set") is `None`.
    fn seconds(&self, key: &str) -> Result<Option<u64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => match v.as_u64() {
                Some(0) => Ok(None),
                Some(n) => Ok(Some(n)),
                None => Err(self.invalid(key, "a whole number of seconds")),
            },
        }
    }

    fn strings(&self, key: &str) -> Result<Option<Vec<String>>, String> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        let strings = value.as_array().and_then(|items| {
            items
                .iter()
                .map(|item| item.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
        });
        strings
            .map(Some)
            .ok_or_else(|| self.invalid(key, "an array of strings"))
    }

    /// A nested object, its context extended with the key.
    fn object(&self, key: &str) -> Result<Option<Fields<'a>>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(map)) => {
                let ctx = if self.ctx.is_empty() {
                    key.to_string()
                } else {
                    format!("{}: {key}", self.ctx)
                };
                Ok(Some(Fields::new(map, ctx)))
            }
            Some(_) => Err(self.invalid(key, "an object")),
        }
    }

    /// An array of objects; absent is empty.
    fn objects(&self, key: &str) -> Result<Vec<&'a Map<String, Value>>, String> {
        let Some(value) = self.get(key) else {
            return Ok(Vec::new());
        };
        let items = value
            .as_array()
            .ok_or_else(|| self.invalid(key, "an array"))?;
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_object()
                    .ok_or_else(|| self.invalid(&format!("{key}[{i}]"), "an object"))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{ClientConfig, UserConfig};

    const SAMPLE: &str = include_str!("../../fixtures/keycloak/realm-export.json");

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
        assert!(err.starts_with("clients[1] (clientId \"web\"): "), "{err}");
        assert!(err.contains("masked"), "{err}");
        let missing = json!([{ "clientId": "web", "publicClient": false }]);
        let err = error(&realm(missing, json!([])));
        assert!(err.starts_with("clients[0] (clientId \"web\"): "), "{err}");
        assert!(err.contains("no secret"), "{err}");
    }

    #[test]
    fn wrong_types_are_errors_naming_the_field() {
        let clients = json!([
            { "clientId": "a", "publicClient": true },
            { "clientId": "b", "publicClient": true },
            { "clientId": "web", "publicClient": true, "redirectUris": "http://x/*" },
        ]);
        assert_eq!(
            error(&realm(clients, json!([]))),
            "clients[2] (clientId \"web\"): redirectUris must be an array of strings"
        );
        let users = json!([{ "username": "u", "attributes": { "tenant": 7 } }]);
        assert_eq!(
            error(&realm(json!([]), users)),
            "users[0] (username \"u\"): attributes: tenant must be an array of strings"
        );
        let err = error(r#"{ "realm": "r", "accessTokenLifespan": "5m" }"#);
        assert_eq!(err, "accessTokenLifespan must be a whole number of seconds");
        let err = error(r#"{ "realm": "r", "clients": [ 1 ] }"#);
        assert_eq!(err, "clients[0] must be an object");
        let err = error(r#"{ "realm": "r", "clients": [ { "name": "x" } ] }"#);
        assert_eq!(err, "clients[0]: clientId is missing");
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
        let map = client.as_object().unwrap();
        let claims = hardcoded_claims(&Fields::new(map, "c".into())).unwrap();
        assert_eq!(
            Value::Object(claims),
            json!({"tenant": "acme", "org": {"level": 3, "paid": true}, "dotted.name": {"a": 1}})
        );
        let bad = json!({"protocolMappers": [mapper("n", "x", "long")]});
        assert!(hardcoded_claims(&Fields::new(bad.as_object().unwrap(), "c".into())).is_err());
    }
}
