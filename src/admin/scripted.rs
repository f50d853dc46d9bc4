//! Scripted outcomes without a browser: a logged-in session for a user (its cookie, and a link
//! that sets it in a browser), and the decision on a pending device authorization.

use actix_web::HttpResponse;
use serde::Deserialize;
use serde_json::json;

use super::{Answer, bad_request, not_found, parse};
use crate::engine::Engine;
use crate::engine::device::DeviceScript;

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
pub fn new_session(engine: &Engine, issuer: &str, body: Option<&[u8]>, base_url: &str) -> Answer {
    let request: NewSession = parse(body)?;
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
    let session = engine.start_session(i, user);
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
        "cookie": crate::http::headless::cookie_pair(engine, i, &session.sid),
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

pub fn device(engine: &Engine, issuer: &str, user_code: &str, body: Option<&[u8]>) -> Answer {
    let action: DeviceAction = parse(body)?;
    let issuers = engine.issuers();
    let i = issuers
        .by_name(issuer)
        .ok_or_else(|| not_found(format!("no issuer named {issuer:?}")))?;
    let script = match action {
        DeviceAction::Approve { username } => DeviceScript::Approve(username),
        DeviceAction::Deny => DeviceScript::Deny,
        DeviceAction::Expire => DeviceScript::Expire,
        DeviceAction::Pending { polls } => DeviceScript::Pending(polls),
    };
    engine
        .script_device(i, user_code, script)
        .map_err(not_found)?;
    Ok(HttpResponse::NoContent().finish())
}
