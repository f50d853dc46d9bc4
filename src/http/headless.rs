//! The browser side of a session made through the admin API (`POST
//! /_mockidp/issuers/{issuer}/sessions`): its single-use link sets the session cookie exactly as
//! the login form would and sends the browser to the issuer's landing page.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use super::browser::Site;
use super::extract;
use crate::engine::{Engine, Issuer};

/// Answers a session link `ticket`: the cookies and a redirect, or 404 once used or expired.
pub fn open_link(engine: &Engine, req: &HttpRequest, ticket: &str) -> HttpResponse {
    let now = engine.clock.now();
    let session = engine
        .session_links
        .take(ticket, now)
        .and_then(|sid| engine.sessions.get(&sid, now));
    let issuers = engine.issuers();
    let Some((session, issuer)) =
        session.and_then(|s| issuers.by_name(&s.issuer).cloned().map(|i| (s, i)))
    else {
        return HttpResponse::NotFound().json(serde_json::json!({
            "error": "not_found",
            "error_description": "this session link was used already, has expired, or its \
                                  session ended: make a new session",
        }));
    };
    let mount = format!("{}{}", engine.prefix(), issuer.path);
    let site = Site {
        engine,
        issuer: &issuer,
        urls: extract::urls(req, &issuer, &mount),
    };
    let home = format!("{}{}", engine.prefix(), issuer.home_path);
    let mut resp = HttpResponse::Found()
        .insert_header((header::LOCATION, home))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish();
    let _ = resp.add_cookie(&site.session_cookie(&session.sid));
    if let Some(cookie) = site.script_session_cookie(Some(&session)) {
        let _ = resp.add_cookie(&cookie);
    }
    resp
}

/// The session cookie's `name=value` for `sid` at `issuer`, as a browser would send it back.
pub fn cookie_pair(engine: &Engine, issuer: &Issuer, sid: &str) -> String {
    let site = Site {
        engine,
        issuer,
        urls: crate::dialect::Urls::single(""),
    };
    let cookie = site.session_cookie(sid);
    format!("{}={}", cookie.name(), cookie.value())
}
