//! Scripted outcomes without a browser: a logged-in session for a user (its cookie, and a link
//! that sets it in a browser), and the decision on a pending device authorization.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::body::Json;
use super::{AdminError, Answer, Routes, bad_request, base_url, conflict, not_found};
use crate::engine::Engine;
use crate::engine::device::{DeviceScript, ScriptRefusal};

pub fn routes(cfg: &mut Routes) {
    cfg.at("/issuers/{issuer}/sessions").post(new_session);
    cfg.at("/issuers/{issuer}/device/{user_code}").post(device);
    cfg.at("/session-links/{ticket}").get(open_link);
}

/// How long a session link stays usable.
const LINK_TTL: u64 = 300;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSession {
    username: String,
}

/// `POST /_mockidp/issuers/{issuer}/sessions` `{"username": "alice"}`: the user is logged in
/// at the issuer as if through its login page (an enabled fixture user; any name with
/// `allow_any_user`). Answers the cookie a client sends and a single-use link for a browser.
async fn new_session(
    engine: web::Data<Engine>,
    req: HttpRequest,
    issuer: web::Path<String>,
    Json(request): Json<NewSession>,
) -> Answer {
    let issuer = issuer.as_str();
    let issuers = engine.issuers();
    let i = issuers
        .by_name(issuer)
        .ok_or_else(|| not_found(format!("no issuer named {issuer:?}")))?;
    let user = i.passwordless_user(&request.username).ok_or_else(|| {
        bad_request(format!(
            "no enabled user {:?} at issuer {issuer:?} (any name needs allow_any_user)",
            crate::error::clipped(&request.username, 64)
        ))
    })?;
    let session = engine.start_headless_session(i, user);
    let base_url = base_url(&req);
    let now = engine.clock.now();
    let ticket = engine.ids.alnum(32);
    engine
        .session_links
        .insert(ticket.clone(), session.sid.clone(), now + LINK_TTL, now);
    let admin = match &engine.namespace {
        Some(ns) => format!("{base_url}/_mockidp/ns/{}", ns.id),
        None => format!("{base_url}/_mockidp"),
    };
    Ok(HttpResponse::Created().json(json!({
        "sid": session.sid,
        "issuer": i.name(),
        "username": session.user.username,
        "cookie": crate::http::headless::cookie_pair(&engine, i, &session.sid),
        "link": format!("{admin}/session-links/{ticket}"),
        "link_expires_in": LINK_TTL,
    })))
}

/// `POST /_mockidp/issuers/{issuer}/device/{user_code}`.
#[derive(Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
enum DeviceAction {
    Approve { username: String },
    Deny,
    Expire,
    Pending { polls: u32 },
}

/// A decided code is 409 (the verification page's "already decided"); an unknown, expired or
/// redeemed one 404.
async fn device(
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
    Json(action): Json<DeviceAction>,
) -> Answer {
    let (issuer, user_code) = path.into_inner();
    let issuers = engine.issuers();
    let i = issuers
        .by_name(&issuer)
        .ok_or_else(|| not_found(format!("no issuer named {issuer:?}")))?;
    let script = match action {
        DeviceAction::Approve { username } => DeviceScript::Approve(username),
        DeviceAction::Deny => DeviceScript::Deny,
        DeviceAction::Expire => DeviceScript::Expire,
        DeviceAction::Pending { polls } => DeviceScript::Pending(polls),
    };
    engine
        .script_device(i, &user_code, script)
        .map_err(refused)?;
    Ok(HttpResponse::NoContent().finish())
}

fn refused(refusal: ScriptRefusal) -> AdminError {
    match refusal {
        ScriptRefusal::NotFound(why) => not_found(why),
        ScriptRefusal::AlreadyDecided(why) => conflict(why),
    }
}

/// `GET [ns/{namespace}/]session-links/{ticket}`: sets the session's cookie in the browser
/// that opens it (the guard lets it through without the token).
async fn open_link(
    engine: web::Data<Engine>,
    req: HttpRequest,
    ticket: web::Path<String>,
) -> HttpResponse {
    crate::http::headless::open_link(&engine, &req, &ticket)
}
