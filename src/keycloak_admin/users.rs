//! `UsersResource` and `UserResource`: `/admin/realms/{realm}/users[/{id}[/...]]`.

use crate::http::lazy_routes::Routes;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::found::{Found, ManageUsers, QueryUsers, Realm, UserAt, ViewUsers};
use super::repr;
use super::{KcError, Reply, change, created, ensure_room, no_content, ok, page};
use crate::config::UserConfig;
use crate::config::realm_import::user_from_representation;
use crate::engine::{Engine, Issuer};

pub fn routes(cfg: &mut Routes) {
    cfg.route("/{realm}/users", web::get().to(list))
        .route("/{realm}/users", web::post().to(create))
        .route("/{realm}/users/count", web::get().to(count))
        .route("/{realm}/users/{id}", web::get().to(get))
        .route("/{realm}/users/{id}", web::put().to(update))
        .route("/{realm}/users/{id}", web::delete().to(delete))
        .route(
            "/{realm}/users/{id}/reset-password",
            web::put().to(reset_password),
        )
        .route("/{realm}/users/{id}/logout", web::post().to(logout))
        .route("/{realm}/users/{id}/sessions", web::get().to(sessions))
        .route("/{realm}/users/{id}/consents", web::get().to(consents))
        .route(
            "/{realm}/users/{id}/consents/{client}",
            web::delete().to(revoke_consent),
        )
        .route("/{realm}/users/{id}/groups", web::get().to(groups))
        .route("/{realm}/users/{id}/groups/{group}", web::put().to(join))
        .route(
            "/{realm}/users/{id}/groups/{group}",
            web::delete().to(leave),
        )
        .route(
            "/{realm}/users/{id}/execute-actions-email",
            web::put().to(actions_email),
        )
        .route(
            "/{realm}/users/{id}/send-verify-email",
            web::put().to(verify_email),
        );
}

/// UsersResource.getUsers' query parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Search {
    search: Option<String>,
    username: Option<String>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    #[serde(default, deserialize_with = "super::jaxrs_bool")]
    exact: Option<bool>,
    q: Option<String>,
    #[serde(default, deserialize_with = "super::jaxrs_bool")]
    enabled: Option<bool>,
    #[serde(default, deserialize_with = "super::jaxrs_bool")]
    email_verified: Option<bool>,
    first: Option<i64>,
    max: Option<i64>,
    #[serde(default, deserialize_with = "super::jaxrs_bool")]
    brief_representation: Option<bool>,
}

/// The user's text fields that `search` looks at.
fn fields(u: &UserConfig) -> [String; 4] {
    let claim = |k: &str| {
        u.claims
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_lowercase()
    };
    [
        u.username.to_lowercase(),
        claim("email"),
        claim("given_name"),
        claim("family_name"),
    ]
}

/// Keycloak's `search`: `"foo"` exact, `*foo*` infix, `foo` / `foo*` prefix; `*` alone: all.
fn search_matches(u: &UserConfig, term: &str) -> bool {
    let term = term.trim().to_lowercase();
    let fields = fields(u);
    if let Some(exact) = term.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        return fields.iter().any(|f| f == exact);
    }
    let infix = term.starts_with('*');
    let core = term.trim_matches('*');
    fields.iter().any(|f| {
        if infix {
            f.contains(core)
        } else {
            f.starts_with(core)
        }
    })
}

impl Search {
    fn matches(&self, u: &UserConfig) -> bool {
        let [username, email, first, last] = fields(u);
        let exact = self.exact == Some(true);
        let field = |given: &Option<String>, value: &str| {
            given.as_deref().is_none_or(|g| {
                let g = g.to_lowercase();
                if exact {
                    value == g
                } else {
                    value.contains(&g)
                }
            })
        };
        let verified = u
            .claims
            .get("email_verified")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        self.search.as_deref().is_none_or(|s| search_matches(u, s))
            && field(&self.username, &username)
            && field(&self.email, &email)
            && field(&self.first_name, &first)
            && field(&self.last_name, &last)
            && self.enabled.is_none_or(|e| e == u.enabled)
            && self.email_verified.is_none_or(|e| e == verified)
            && self.q.as_deref().is_none_or(|q| attributes_match(u, q))
    }

    fn found<'a>(&self, issuer: &'a Issuer) -> Vec<&'a UserConfig> {
        let mut found: Vec<&UserConfig> = issuer
            .config
            .users
            .iter()
            .filter(|u| self.matches(u))
            .collect();
        found.sort_by_key(|u| u.username.to_lowercase());
        found
    }
}

/// `q=key:value key2:value2`: every attribute given holds that value.
fn attributes_match(u: &UserConfig, q: &str) -> bool {
    q.split_whitespace().all(|pair| {
        let (key, value) = pair.split_once(':').unwrap_or((pair, ""));
        match u.claims.get(key) {
            Some(Value::String(s)) => s == value,
            Some(Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(value)),
            Some(other) => serde_json::to_string(other).is_ok_and(|text| text == value),
            None => false,
        }
    })
}

async fn list(realm: Realm<QueryUsers>, query: web::Query<Search>) -> Reply {
    let Realm { issuer, .. } = realm;
    let brief = query.brief_representation == Some(true);
    let reps: Vec<Value> = query
        .found(&issuer)
        .into_iter()
        .map(|u| repr::user(&issuer, u, brief))
        .collect();
    ok(json!(page(reps, query.first, query.max.or(Some(100)))))
}

async fn count(realm: Realm<QueryUsers>, query: web::Query<Search>) -> Reply {
    let Realm { issuer, .. } = realm;
    ok(json!(query.found(&issuer).len()))
}

/// 409 when another user (not `except`) has this username or email.
fn ensure_unique(issuer: &Issuer, user: &UserConfig, except: Option<&str>) -> Result<(), KcError> {
    let others = issuer
        .config
        .users
        .iter()
        .filter(|u| except.is_none_or(|id| issuer.user_id(u) != id));
    let email = |u: &UserConfig| {
        u.claims
            .get("email")
            .and_then(Value::as_str)
            .map(str::to_lowercase)
    };
    for other in others {
        if other.username.eq_ignore_ascii_case(&user.username) {
            return Err(KcError::conflict("User exists with same username"));
        }
        if email(user).is_some() && email(other) == email(user) {
            return Err(KcError::conflict("User exists with same email"));
        }
    }
    Ok(())
}

/// The group ids of `groups` (full paths, as `UserRepresentation.groups` names them).
fn group_ids(issuer: &Issuer, body: &Map<String, Value>) -> Result<Vec<String>, KcError> {
    let paths = body
        .get("groups")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    paths
        .iter()
        .map(|p| {
            let p = p.as_str().unwrap_or("");
            issuer
                .config
                .groups
                .iter()
                .find(|g| repr::group_path(issuer, g) == p)
                .map(|g| issuer.group_id(g))
                .ok_or_else(|| KcError::invalid(&format!("Group {p} not found")))
        })
        .collect()
}

/// UsersResource.createUser: 201 with `Location: …/users/{id}`.
async fn create(
    realm: Realm<ManageUsers>,
    req: HttpRequest,
    body: web::Json<Map<String, Value>>,
) -> Reply {
    let Realm { engine, issuer, .. } = realm;
    ensure_room(issuer.config.users.len(), "users")?;
    let mut user = user_from_representation(&body, issuer.config.realm_name())
        .map_err(|e| KcError::invalid(&e))?;
    ensure_unique(&issuer, &user, None)?;
    user.groups = group_ids(&issuer, &body)?;
    if temporary_password(&body) {
        user.required_actions.push(UPDATE_PASSWORD.into());
    }
    let id = engine.ids.uuid();
    user.sub = Some(id.clone());
    user.created_timestamp = Some(engine.clock.now().saturating_mul(1000));
    change(&engine, &issuer, |cfg| {
        cfg.users.push(user);
        Ok(())
    })?;
    tracing::info!(
        realm = issuer.name(),
        user_id = id.as_str(),
        "user created (admin REST API)"
    );
    Ok(created(&req, &id))
}

/// Keycloak's built-in required actions (`UserModel.RequiredAction`).
const REQUIRED_ACTIONS: &[&str] = &[
    "VERIFY_EMAIL",
    "UPDATE_PROFILE",
    "CONFIGURE_TOTP",
    "UPDATE_PASSWORD",
    "TERMS_AND_CONDITIONS",
    "VERIFY_PROFILE",
    "UPDATE_EMAIL",
    "CONFIGURE_RECOVERY_AUTHN_CODES",
    "webauthn-register",
    "webauthn-register-passwordless",
    "delete_account",
    "delete_credential",
    "idp_link",
];

/// Keycloak's required action after a temporary password.
const UPDATE_PASSWORD: &str = "UPDATE_PASSWORD";

/// Whether the representation's password credential is `temporary`.
fn temporary_password(body: &Map<String, Value>) -> bool {
    body.get("credentials")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| c.get("temporary").and_then(Value::as_bool) == Some(true))
}

/// Replaces user `id` with `edit`ed copy.
fn edit_user(
    engine: &Engine,
    issuer: &Issuer,
    id: &str,
    edit: impl FnOnce(&mut UserConfig) -> Result<(), KcError>,
) -> Result<(), KcError> {
    change(engine, issuer, |cfg| {
        let user = cfg
            .users
            .iter_mut()
            .find(|u| issuer.user_id(u) == id)
            .ok_or_else(|| KcError::not_found("User not found"))?;
        edit(user)
    })
}

async fn get(found: UserAt<ViewUsers>) -> Reply {
    ok(repr::user(found.issuer(), &found.entry, false))
}

/// UserResource.updateUser: the fields given replace the stored ones; role mappings, groups
/// and the password stay (they have resources of their own).
async fn update(found: UserAt<ManageUsers>, body: web::Json<Map<String, Value>>) -> Reply {
    let mut merged = match repr::user(found.issuer(), &found.entry, false) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    merged.extend(body.into_inner());
    merged.remove("credentials");
    let mut user = user_from_representation(&merged, found.issuer().config.realm_name())
        .map_err(|e| KcError::invalid(&e))?;
    ensure_unique(found.issuer(), &user, Some(&found.id))?;
    user.password = found.entry.password.clone();
    user.roles = found.entry.roles.clone();
    user.client_roles = found.entry.client_roles.clone();
    user.groups = found.entry.groups.clone();
    user.sub = Some(found.id.clone());
    user.created_timestamp = found.entry.created_timestamp;
    let renamed = !user.username.eq_ignore_ascii_case(&found.entry.username);
    edit_user(found.engine(), found.issuer(), &found.id, |u| {
        *u = user;
        Ok(())
    })?;
    if renamed
        || !merged
            .get("enabled")
            .and_then(Value::as_bool)
            .unwrap_or(true)
    {
        // A disabled user's sessions end, as Keycloak's do at their next use.
        found
            .engine()
            .forget_user(found.issuer(), &found.entry.username);
    }
    no_content()
}

async fn delete(found: UserAt<ManageUsers>) -> Reply {
    change(found.engine(), found.issuer(), |cfg| {
        cfg.users.retain(|u| found.issuer().user_id(u) != found.id);
        Ok(())
    })?;
    let engine = found.engine();
    engine.forget_user(found.issuer(), &found.entry.username);
    engine.revoke_consents(found.issuer(), &found.id, None);
    no_content()
}

/// `CredentialRepresentation` as reset-password takes it.
#[derive(Debug, Deserialize)]
struct Credential {
    value: Option<String>,
    temporary: Option<bool>,
}

/// UserResource.resetPassword: "No password provided" / "Empty password" (400).
async fn reset_password(found: UserAt<ManageUsers>, body: web::Json<Credential>) -> Reply {
    let value = body
        .value
        .clone()
        .ok_or_else(|| KcError::error(StatusCode::BAD_REQUEST, "No password provided"))?;
    if value.trim().is_empty() {
        return Err(KcError::error(StatusCode::BAD_REQUEST, "Empty password"));
    }
    let temporary = body.temporary == Some(true);
    edit_user(found.engine(), found.issuer(), &found.id, |u| {
        u.password = Some(value);
        u.required_actions.retain(|a| a != UPDATE_PASSWORD);
        if temporary {
            u.required_actions.push(UPDATE_PASSWORD.into());
        }
        Ok(())
    })?;
    no_content()
}

/// UserResource.logout: every session of the user ends (and the tokens tied to them).
async fn logout(found: UserAt<ManageUsers>) -> Reply {
    found
        .engine()
        .forget_user(found.issuer(), &found.entry.username);
    no_content()
}

/// UserResource.getSessions: `UserSessionRepresentation`s (times in milliseconds).
async fn sessions(found: UserAt<ViewUsers>) -> Reply {
    let name = found.issuer().name().to_string();
    let list = found.engine().sessions.collect(|s| {
        (s.issuer == name && s.user.sub == found.id).then(|| {
            json!({"id": s.sid, "username": found.entry.username.to_lowercase(), "userId": found.id,
                   "ipAddress": "127.0.0.1", "start": s.auth_time * 1000,
                   "lastAccess": s.auth_time * 1000, "rememberMe": false, "clients": {}})
        })
    });
    ok(json!(list))
}

/// UserResource.getConsents: `UserConsentRepresentation`s (dates in milliseconds).
async fn consents(found: UserAt<ViewUsers>) -> Reply {
    let list: Vec<Value> = found
        .engine()
        .consents_of(found.issuer(), &found.id)
        .into_iter()
        .map(|c| {
            json!({"clientId": c.client_id, "grantedClientScopes": c.scopes,
                   "createdDate": c.created * 1000, "lastUpdatedDate": c.updated * 1000})
        })
        .collect();
    ok(json!(list))
}

/// UserResource.revokeConsent: 204, or 404 "Client not found" / "Consent nor offline token
/// not found".
async fn revoke_consent(
    found: UserAt<ManageUsers>,
    path: web::Path<(String, String, String)>,
) -> Reply {
    let client = &path.2;
    if found.issuer().client(client).is_none() {
        return Err(KcError::not_found("Client not found"));
    }
    if !found
        .engine()
        .revoke_consents(found.issuer(), &found.id, Some(client))
    {
        return Err(KcError::not_found("Consent nor offline token not found"));
    }
    no_content()
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Paging {
    first: Option<i64>,
    max: Option<i64>,
}

/// UserResource.groups: the user's groups, brief.
async fn groups(found: UserAt<ViewUsers>, query: web::Query<Paging>) -> Reply {
    let reps: Vec<Value> = found
        .issuer()
        .config
        .groups
        .iter()
        .filter(|g| found.entry.groups.contains(&found.issuer().group_id(g)))
        .map(|g| repr::group(found.issuer(), g, 0))
        .collect();
    ok(json!(page(reps, query.first, query.max)))
}

/// UserResource.joinGroup / removeMembership: 404 "Group not found" for an unknown group.
fn membership(found: UserAt<ManageUsers>, group: &str, join: bool) -> Reply {
    let Found { realm, id, .. } = found;
    if repr::group_by_id(&realm.issuer, group).is_none() {
        return Err(KcError::not_found("Group not found"));
    }
    edit_user(&realm.engine, &realm.issuer, &id, |u| {
        u.groups.retain(|g| g != group);
        if join {
            u.groups.push(group.to_string());
        }
        Ok(())
    })?;
    no_content()
}

async fn join(found: UserAt<ManageUsers>, path: web::Path<(String, String, String)>) -> Reply {
    membership(found, &path.2, true)
}

async fn leave(found: UserAt<ManageUsers>, path: web::Path<(String, String, String)>) -> Reply {
    membership(found, &path.2, false)
}

/// The checks of UserResource's e-mail actions: the user has an e-mail and is enabled.
fn mailable(user: &UserConfig) -> Result<(), KcError> {
    if user
        .claims
        .get("email")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(KcError::invalid("User email missing"));
    }
    if !user.enabled {
        return Err(KcError::invalid("User is disabled"));
    }
    Ok(())
}

/// UserResource.executeActionsEmail: no mail is sent; the journal records it.
async fn actions_email(
    found: UserAt<ManageUsers>,
    req: HttpRequest,
    actions: web::Json<Vec<String>>,
) -> Reply {
    mailable(&found.entry)?;
    if let Some(unknown) = actions
        .iter()
        .find(|a| !REQUIRED_ACTIONS.contains(&a.as_str()))
    {
        return Err(KcError::invalid(&format!(
            "Provided invalid required actions: [{unknown}]"
        )));
    }
    crate::http::journal::record_unsent_email(
        found.engine(),
        &req,
        found.issuer().name(),
        "execute-actions-email",
    );
    no_content()
}

/// UserResource.sendVerifyEmail: no mail is sent; the journal records it.
async fn verify_email(found: UserAt<ManageUsers>, req: HttpRequest) -> Reply {
    mailable(&found.entry)?;
    crate::http::journal::record_unsent_email(
        found.engine(),
        &req,
        found.issuer().name(),
        "send-verify-email",
    );
    no_content()
}
