//! Test control: probes, queued overrides / defects / failures, keys, reset, minted tokens and
//! the metrics.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::body::{Body, Json, declared_json, parse};
use super::{Answer, Routes, bad_request, base_url, conflict, no_content, ok};
use crate::engine::Engine;
use crate::engine::control::{Defect, Failure, Override};
use crate::engine::mint::MintRequest;
use crate::keys::SigningKey;

pub fn routes(cfg: &mut Routes) {
    cfg.at("/health").get(health);
    cfg.at("/ready").get(ready);
    cfg.at("/overrides").post(add_override).delete(clear);
    cfg.at("/defects").post(add_defect).delete(clear);
    cfg.at("/failures").post(add_failure).delete(clear);
    cfg.at("/queue").get(queue).delete(clear_queue);
    cfg.at("/keys").get(keys);
    cfg.at("/keys/rotate").post(rotate);
    cfg.at("/reset").post(reset);
    cfg.at("/tokens").post(mint);
    cfg.at("/metrics").get(metrics);
}

async fn health() -> Answer {
    ok(json!({"status": "ok"}))
}

async fn ready(engine: web::Data<Engine>) -> Answer {
    ok(json!({"status": "ready", "issuers": engine.issuers().iter().count()}))
}

fn queued() -> Answer {
    Ok(HttpResponse::Created().json(json!({"status": "queued"})))
}

async fn add_override(engine: web::Data<Engine>, Json(rule): Json<Override>) -> Answer {
    engine.control.push_override(rule).map_err(bad_request)?;
    queued()
}

async fn add_defect(engine: web::Data<Engine>, Json(rule): Json<Defect>) -> Answer {
    engine.control.push_defect(rule).map_err(bad_request)?;
    queued()
}

/// Queues a failure of a named endpoint with a final HTTP status.
async fn add_failure(engine: web::Data<Engine>, Json(rule): Json<Failure>) -> Answer {
    if !failure_targets().any(|e| e == rule.endpoint) {
        return Err(bad_request(format!(
            "unknown endpoint {:?}; one of: {}",
            rule.endpoint,
            failure_targets().collect::<Vec<_>>().join(", ")
        )));
    }
    // A 1xx is not a final answer: a client would wait for the real one, or switch
    // protocols on 101.
    if rule.status.is_some_and(|s| !(200..=599).contains(&s)) {
        return Err(bad_request(
            "status must be a final HTTP status code, 200 to 599".into(),
        ));
    }
    engine.control.push_failure(rule).map_err(bad_request)?;
    queued()
}

/// Endpoint names failures can target: every issuer endpoint, its resources and its home page.
fn failure_targets() -> impl Iterator<Item = &'static str> {
    crate::dialect::Endpoint::ALL
        .iter()
        .map(|e| e.name())
        .chain(["resource", "home"])
}

/// `DELETE /overrides`, `/defects` or `/failures`: that queue, emptied.
async fn clear(engine: web::Data<Engine>, req: HttpRequest) -> Answer {
    let kind = req.path().rsplit('/').next().unwrap_or("");
    engine.control.clear_queue(kind);
    tracing::info!(kind, "queued rules cleared by the admin API");
    no_content()
}

async fn queue(engine: web::Data<Engine>) -> Answer {
    ok(engine.control.pending())
}

async fn clear_queue(engine: web::Data<Engine>) -> Answer {
    engine.control.clear_rules();
    no_content()
}

async fn keys(engine: web::Data<Engine>) -> Answer {
    ok(key_ids(&engine))
}

fn key_ids(engine: &Engine) -> Value {
    let now = engine.clock.now();
    let ring = engine.keys();
    json!({
        "current": ring.current.kid,
        "published": ring.live(now).iter().map(|k| &k.kid).collect::<Vec<_>>(),
    })
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Rotate {
    grace_secs: Option<u64>,
}

/// `POST /keys/rotate`, with an optional body: a new signing key, the old one published for
/// `grace_secs` more.
async fn rotate(engine: web::Data<Engine>, req: HttpRequest, Body(body): Body) -> Answer {
    if !engine.owns_keys() {
        return Err(conflict(
            "this namespace signs with the server's keys, which other namespaces share: create \
             it with \"own_keys\": true to rotate its keys"
                .into(),
        ));
    }
    let r: Rotate = if body.is_empty() {
        Rotate::default()
    } else {
        parse(declared_json(&req, &body))?
    };
    let grace = r.grace_secs.unwrap_or(3600);
    if grace > crate::config::MAX_SECS {
        return Err(bad_request("grace_secs is over 10 years".into()));
    }
    let key = SigningKey::generate().map_err(|e| super::server_error(e.to_string()))?;
    engine.rotate_key(key, grace);
    ok(key_ids(&engine))
}

async fn reset(engine: web::Data<Engine>) -> Answer {
    engine
        .reset()
        .map_err(|e| super::server_error(e.to_string()))?;
    ok(json!({"status": "reset"}))
}

/// `POST /tokens`: an access token signed as the issuer would, without a grant.
async fn mint(
    engine: web::Data<Engine>,
    req: HttpRequest,
    Json(request): Json<MintRequest>,
) -> Answer {
    let base = format!("{}{}", base_url(&req), engine.prefix());
    let token = engine.mint(&request, &base).map_err(bad_request)?;
    ok(json!({"access_token": token}))
}

/// `/_mockidp/metrics`: the counters, and the size of every store and of the journal.
async fn metrics(engine: web::Data<Engine>) -> HttpResponse {
    let issuers = engine.issuers();
    let stores = engine.store_sizes();
    let sizes: Vec<(&str, u64)> = stores
        .iter()
        .map(|(name, n)| (*name, u64::try_from(*n).unwrap_or(u64::MAX)))
        .collect();
    let text = engine.metrics.render(
        |name| issuers.by_name(name).map(|i| i.config.dialect.as_str()),
        &sizes,
    );
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text)
}
