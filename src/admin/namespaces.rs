//! `/_mockidp/namespaces`: creating, listing and deleting namespaces (isolated copies of the
//! issuers, one per test). A namespace's own admin API is the same API under
//! `/_mockidp/ns/{namespace}/` (see [`super::configure`]).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::body::Body;
use super::{
    AdminError, Answer, Routes, bad_request, base_url, no_content, not_found, ok, server_error,
};
use crate::config::Config;
use crate::engine::Engine;
use crate::engine::namespaces::{CreateError, Spec};
use crate::keys::SigningKey;

/// The JSON body of `POST /_mockidp/namespaces`; every field optional.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Create {
    /// The namespace's id (`[A-Za-z0-9_-]{1,64}`), e.g. a CI worker's name.
    id: Option<String>,
    /// Its fixtures: a TOML document as a string, or the same structure as a JSON object.
    fixtures: Option<Value>,
    /// Sign with a freshly generated key of its own instead of the server's.
    #[serde(default)]
    own_keys: bool,
}

pub fn routes(cfg: &mut Routes) {
    cfg.at("/namespaces").get(list).post(create);
    cfg.at("/namespaces/{id}").get(one).delete(delete);
}

/// `POST /_mockidp/namespaces`: a JSON body (see [`Create`]), a TOML fixture document sent as
/// `application/toml`, or nothing (a copy of the loaded fixtures, the server's keys).
async fn create(server: web::Data<Engine>, req: HttpRequest, Body(body): Body) -> Answer {
    if server.namespace.is_some() {
        return Err(bad_request("namespaces do not nest".into()));
    }
    let request = create_request(&req, &body)?;
    let fixtures = request.fixtures.map(fixtures).transpose()?;
    let own_key = if request.own_keys {
        Some(SigningKey::generate().map_err(|e| server_error(e.to_string()))?)
    } else {
        None
    };
    let spec = Spec {
        id: request.id,
        fixtures,
        own_key,
    };
    let engine = server
        .namespaces
        .create(&server, spec, || server.ids.alnum(12))
        .map_err(refusal)?;
    tracing::info!(namespace = engine.prefix(), "namespace created");
    Ok(HttpResponse::Created().json(describe(&engine, &base_url(&req), None)))
}

/// What the body of a create request asks for.
fn create_request(req: &HttpRequest, body: &[u8]) -> Result<Create, AdminError> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .unwrap_or("")
        .trim_start();
    if body.is_empty() {
        Ok(Create::default())
    } else if content_type.starts_with("application/toml") {
        let text = std::str::from_utf8(body)
            .map_err(|_| bad_request("the TOML fixtures are not UTF-8".into()))?;
        Ok(Create {
            fixtures: Some(Value::String(text.to_string())),
            ..Create::default()
        })
    } else {
        super::body::parse::<Create>(super::body::declared_json(req, body))
    }
}

/// Why a namespace was not created, as a status.
fn refusal(e: CreateError) -> AdminError {
    AdminError {
        status: match e {
            CreateError::Full(_) => StatusCode::TOO_MANY_REQUESTS,
            CreateError::Taken(_) => StatusCode::CONFLICT,
            CreateError::BadId | CreateError::Fixtures(_) => StatusCode::BAD_REQUEST,
        },
        error: "invalid_request",
        description: e.to_string(),
    }
}

/// The fixtures of a create request: TOML text or a JSON object.
fn fixtures(doc: Value) -> Result<Config, AdminError> {
    let config = match doc {
        Value::String(toml) => Config::from_toml(&toml),
        Value::Object(_) => Config::from_json(doc),
        _ => {
            return Err(bad_request(
                "fixtures is a TOML string or a JSON object".into(),
            ));
        }
    }
    .map_err(|e| bad_request(format!("the namespace's fixtures: {e}")))?;
    if config.admin_token.is_some() {
        return Err(bad_request(
            "admin_token belongs to the server: a namespace's admin API takes the server's".into(),
        ));
    }
    // The forwarded-header policy is the HTTP edge's, one per server (`http::Edge`).
    if !config.trust_forwarded {
        return Err(bad_request(
            "trust_forwarded belongs to the server: its forwarded-header policy covers every \
             namespace"
                .into(),
        ));
    }
    Ok(config)
}

/// `GET /_mockidp/namespaces`.
async fn list(server: web::Data<Engine>, req: HttpRequest) -> Answer {
    let base_url = base_url(&req);
    let all: Vec<Value> = server
        .namespaces
        .list()
        .iter()
        .map(|ns| {
            describe(
                &ns.engine,
                &base_url,
                Some(ns.idle_secs(&server.namespaces)),
            )
        })
        .collect();
    let limits = server.namespaces.limits();
    ok(json!({
        "namespaces": all,
        "limit": limits.max,
        "idle_secs": limits.idle_secs,
    }))
}

/// `GET /_mockidp/namespaces/{id}`.
async fn one(server: web::Data<Engine>, req: HttpRequest, id: web::Path<String>) -> Answer {
    let engine = server.namespaces.get(&id).ok_or_else(|| unknown(&id))?;
    ok(describe(&engine, &base_url(&req), Some(0)))
}

/// `DELETE /_mockidp/namespaces/{id}`.
async fn delete(server: web::Data<Engine>, id: web::Path<String>) -> Answer {
    if !server.namespaces.remove(&id) {
        return Err(unknown(&id));
    }
    tracing::info!(namespace = id.as_str(), "namespace deleted");
    no_content()
}

fn unknown(id: &str) -> AdminError {
    not_found(format!(
        "no namespace {:?}: it was deleted, expired after its idle time, or never created",
        crate::error::clipped(id, 64)
    ))
}

/// A namespace as the API shows it: id, base URL, admin URL, issuer URLs.
fn describe(engine: &Engine, base_url: &str, idle_secs: Option<u64>) -> Value {
    let url = format!("{base_url}{}", engine.prefix());
    let issuers: serde_json::Map<String, Value> = engine
        .issuers()
        .iter()
        .map(|i| {
            let issuer = i.fixed_url().unwrap_or_else(|| format!("{url}{}", i.path));
            (i.name().to_string(), json!(issuer))
        })
        .collect();
    let id = engine.namespace.as_ref().map_or("", |m| m.id.as_str());
    let mut v = json!({
        "id": id,
        "url": url,
        "admin_url": format!("{base_url}/_mockidp/ns/{id}"),
        "own_keys": engine.owns_keys(),
        "issuers": issuers,
    });
    if let (Some(idle), Some(obj)) = (idle_secs, v.as_object_mut()) {
        obj.insert("idle_secs".into(), json!(idle));
    }
    v
}
