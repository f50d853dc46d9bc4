//! The issuers, and their clients and users changed at runtime: `GET /issuers`, and `GET`,
//! `PUT` (add or replace) and `DELETE` of one client or user. Clients and users are one
//! [`Entry`] kind each, so both follow the same rules.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::body::Json;
use super::{AdminError, Answer, Routes, bad_request, no_content, not_found, ok};
use crate::config::{ClientConfig, IssuerConfig, UserConfig};
use crate::engine::{Engine, Issuer};

pub fn routes(cfg: &mut Routes) {
    cfg.at("/issuers").get(list);
    cfg.at("/issuers/{issuer}/clients/{client_id}")
        .get(get::<ClientConfig>)
        .put(put::<ClientConfig>)
        .delete(delete::<ClientConfig>);
    cfg.at("/issuers/{issuer}/users/{username}")
        .get(get::<UserConfig>)
        .put(put::<UserConfig>)
        .delete(delete::<UserConfig>);
}

/// `GET /issuers`: name, dialect, path, client ids and usernames of each.
async fn list(engine: web::Data<Engine>) -> Answer {
    let issuers: Vec<Value> = engine
        .issuers()
        .iter()
        .map(|i| {
            json!({
                "name": i.name(),
                "dialect": i.config.dialect.as_str(),
                "path": i.path,
                "clients": i.config.clients.iter().map(|c| &c.id).collect::<Vec<_>>(),
                "users": i.config.users.iter().map(|u| &u.username).collect::<Vec<_>>(),
            })
        })
        .collect();
    ok(json!(issuers))
}

/// What an issuer's configuration lists by a key the path names: a client by id, a user by
/// username.
trait Entry: Serialize + DeserializeOwned + Clone + 'static {
    /// `client` or `user`, for messages.
    const KIND: &'static str;
    /// The field holding the key.
    const KEY: &'static str;
    fn key(&self) -> &str;
    fn all(config: &mut IssuerConfig) -> &mut Vec<Self>;
    fn find<'a>(issuer: &'a Issuer, key: &str) -> Option<&'a Self>;
    /// What else goes when the entry is deleted.
    fn forget(_engine: &Engine, _issuer: &Issuer, _key: &str) {}
    /// Reads the files the entry names (the engine reads none).
    fn read_files(&mut self) -> Result<(), String> {
        Ok(())
    }
}

impl Entry for ClientConfig {
    const KIND: &'static str = "client";
    const KEY: &'static str = "id";
    fn read_files(&mut self) -> Result<(), String> {
        self.read_ca_file()
    }
    fn key(&self) -> &str {
        &self.id
    }
    fn all(config: &mut IssuerConfig) -> &mut Vec<Self> {
        &mut config.clients
    }
    fn find<'a>(issuer: &'a Issuer, key: &str) -> Option<&'a Self> {
        issuer.config.clients.iter().find(|c| c.id == key)
    }
}

impl Entry for UserConfig {
    const KIND: &'static str = "user";
    const KEY: &'static str = "username";
    fn key(&self) -> &str {
        &self.username
    }
    fn all(config: &mut IssuerConfig) -> &mut Vec<Self> {
        &mut config.users
    }
    fn find<'a>(issuer: &'a Issuer, key: &str) -> Option<&'a Self> {
        issuer.config.users.iter().find(|u| u.username == key)
    }
    /// Their sessions and tokens end with them.
    fn forget(engine: &Engine, issuer: &Issuer, key: &str) {
        engine.forget_user(issuer, key);
    }
}

/// The issuer the path names, or 404.
fn issuer(engine: &Engine, name: &str) -> Result<Arc<Issuer>, AdminError> {
    engine
        .issuers()
        .by_name(name)
        .cloned()
        .ok_or_else(|| not_found(format!("no issuer named {name:?}")))
}

fn missing<E: Entry>(issuer: &str, key: &str) -> AdminError {
    not_found(format!("no {} {key:?} at issuer {issuer:?}", E::KIND))
}

async fn get<E: Entry>(engine: web::Data<Engine>, path: web::Path<(String, String)>) -> Answer {
    let (name, key) = path.into_inner();
    let i = issuer(&engine, &name)?;
    E::find(&i, &key).map_or_else(|| Err(missing::<E>(&name, &key)), |e| ok(json!(e)))
}

/// Adds or replaces the entry (201 when new); the issuer must still validate.
async fn put<E: Entry>(
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
    Json(body): Json<serde_json::Map<String, Value>>,
) -> Answer {
    let (name, key) = path.into_inner();
    let i = issuer(&engine, &name)?;
    let mut entry: E = serde_json::from_value(with_key::<E>(body, &key)?)
        .map_err(|e| bad_request(format!("invalid JSON body: {e}")))?;
    entry.read_files().map_err(bad_request)?;
    let existed = E::find(&i, &key).is_some();
    engine
        .update_issuer(&name, |cfg| {
            let all = E::all(cfg);
            all.retain(|e| e.key() != entry.key());
            all.push(entry.clone());
            cfg.validate()
        })
        .map_err(bad_request)?;
    tracing::info!(issuer = name, kind = E::KIND, key, "set by the admin API");
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(HttpResponse::build(status).json(json!(entry)))
}

async fn delete<E: Entry>(engine: web::Data<Engine>, path: web::Path<(String, String)>) -> Answer {
    let (name, key) = path.into_inner();
    let i = issuer(&engine, &name)?;
    if E::find(&i, &key).is_none() {
        return Err(missing::<E>(&name, &key));
    }
    engine
        .update_issuer(&name, |cfg| {
            E::all(cfg).retain(|e| e.key() != key);
            Ok(())
        })
        .map_err(bad_request)?;
    E::forget(&engine, &i, &key);
    no_content()
}

/// The body with the key set to the path's value (and refused if it names another).
fn with_key<E: Entry>(
    mut body: serde_json::Map<String, Value>,
    key: &str,
) -> Result<Value, AdminError> {
    if let Some(given) = body.get(E::KEY).and_then(Value::as_str)
        && given != key
    {
        return Err(bad_request(format!(
            "{} {given:?} in the body differs from {key:?} in the path",
            E::KEY
        )));
    }
    body.insert(E::KEY.into(), json!(key));
    Ok(Value::Object(body))
}
