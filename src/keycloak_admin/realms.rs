//! `RealmsAdminResource` and `RealmAdminResource`: `/admin/realms[/{realm}]`. A realm created
//! here is read as a realm import is ([`crate::config::realm_import`]) and becomes a Keycloak issuer
//! at `/realms/{realm}` at once.

use crate::http::lazy_routes::Routes;
use actix_web::{HttpRequest, web};
use serde_json::{Map, Value, json};

use super::found::{AnyAdmin, CreateRealm, ManageRealm, Realm};
use super::{Caller, KcError, Permission, Reply, created, find_realm, no_content, ok};
use crate::config::DialectKind;
use crate::config::realm_import::{apply_realm_lifetimes, issuer_from_realm_export};
use crate::engine::{Engine, Issuer};

pub fn routes(cfg: &mut Routes) {
    cfg.route("", web::get().to(list))
        .route("", web::post().to(create))
        .route("/{realm}", web::get().to(get))
        .route("/{realm}", web::put().to(update))
        .route("/{realm}", web::delete().to(delete));
}

/// `RealmRepresentation` of a realm: its name (Keycloak's id for imported realms too) and the
/// lifetimes in force.
fn realm_rep(issuer: &Issuer) -> Value {
    let cfg = &issuer.config;
    let name = cfg.realm_name();
    let mut rep = json!({
        "id": name,
        "realm": name,
        "enabled": true,
        "sslRequired": "external",
        "accessTokenLifespan": cfg.access_token_ttl.unwrap_or(issuer.dialect.profile().lifetimes.access_token),
        "registrationAllowed": false,
        "loginWithEmailAllowed": true,
        "duplicateEmailsAllowed": false,
        "resetPasswordAllowed": false,
        "editUsernameAllowed": false,
        "bruteForceProtected": false,
    });
    let optional = [
        ("accessCodeLifespan", cfg.code_ttl),
        ("ssoSessionIdleTimeout", cfg.refresh_token_ttl),
        ("ssoSessionMaxLifespan", cfg.session_ttl),
        ("oauth2DeviceCodeLifespan", cfg.device_code_ttl),
        ("oauth2DevicePollingInterval", cfg.device_interval),
    ];
    if let Value::Object(map) = &mut rep {
        for (field, value) in optional {
            if let Some(v) = value {
                map.insert(field.into(), json!(v));
            }
        }
    }
    rep
}

/// The realms the caller administers (a master admin: all).
async fn list(caller: Caller, engine: web::Data<Engine>) -> Reply {
    let issuers = engine.issuers();
    let visible: Vec<Value> = issuers
        .iter()
        .filter(|i| {
            i.config.dialect == DialectKind::Keycloak && caller.may(i, Permission::AnyAdmin)
        })
        .map(|i| realm_rep(i))
        .collect();
    if visible.is_empty() {
        return Err(KcError::error(
            actix_web::http::StatusCode::FORBIDDEN,
            "HTTP 403 Forbidden",
        ));
    }
    ok(json!(visible))
}

/// RealmsAdminResource.importRealm: master admins only (`create-realm`); 409 for a taken name.
async fn create(
    req: HttpRequest,
    caller: Caller,
    engine: web::Data<Engine>,
    body: web::Json<Map<String, Value>>,
) -> Reply {
    let any_master = engine
        .issuers()
        .iter()
        .find(|i| i.config.is_master_realm())
        .cloned()
        .ok_or_else(|| {
            KcError::error(actix_web::http::StatusCode::FORBIDDEN, "HTTP 403 Forbidden")
        })?;
    caller.require(&any_master, Permission::CreateRealm)?;
    let body = Value::Object(body.into_inner());
    let config = issuer_from_realm_export(&body.to_string()).map_err(|e| KcError::invalid(&e))?;
    let name = config.realm_name().to_string();
    if find_realm(&engine, &name).is_some() || engine.issuers().by_name(&config.name).is_some() {
        return Err(KcError::conflict("Conflict detected. See logs for details"));
    }
    engine
        .add_issuer(config)
        .map_err(|e| KcError::invalid(&e))?;
    tracing::info!(realm = name.as_str(), "realm created (admin REST API)");
    Ok(created(&req, &name))
}

async fn get(realm: Realm<AnyAdmin>) -> Reply {
    ok(realm_rep(&realm.issuer))
}

/// RealmAdminResource.updateRealm: the lifetimes given replace the realm's.
async fn update(realm: Realm<ManageRealm>, body: web::Json<Map<String, Value>>) -> Reply {
    let Realm { engine, issuer, .. } = realm;
    if let Some(new) = body.get("realm").and_then(Value::as_str)
        && new != issuer.config.realm_name()
    {
        return Err(KcError::invalid("mockidp cannot rename a realm"));
    }
    super::change(&engine, &issuer, |cfg| {
        apply_realm_lifetimes(&body, cfg).map_err(|e| KcError::invalid(&e))
    })?;
    no_content()
}

/// RealmAdminResource.deleteRealm: master admins only; the master realm stays.
async fn delete(realm: Realm<CreateRealm>) -> Reply {
    let Realm { engine, issuer, .. } = realm;
    if issuer.config.is_master_realm() {
        return Err(KcError::invalid("Can't delete master realm"));
    }
    engine.remove_issuer(issuer.name());
    no_content()
}
