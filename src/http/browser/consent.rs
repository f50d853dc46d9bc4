//! The consent page, between login (or an SSO session) and the code, and its answer. The page
//! is bound to the browser that opened it by the login cookie, as the login form is, and its
//! id is single use.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

use super::Site;
use crate::dialect::Endpoint;
use crate::dialect::profile::{ConsentButton, ConsentPage};
use crate::engine::Params;
use crate::engine::authorize::AuthorizeRequest;
use crate::engine::consent::ConsentAnswer;
use crate::engine::session::Session;
use crate::engine::users::User;
use crate::http::pages;

/// What a consent form that is not (or no longer) pending gets.
const EXPIRED: &str =
    "This page has expired or was already used. Go back to the application and sign in again.";

/// IdentityServer3's `MustSelectAtLeastOnePermission`: Allow with every box unticked.
const NOTHING_CHOSEN: &str = "Must select at least one permission.";

/// Shows the consent page for `ar` to `session`'s user, bound to this browser.
pub(super) fn show(
    site: &Site,
    req: &HttpRequest,
    ar: &AuthorizeRequest,
    session: &Session,
) -> HttpResponse {
    let (browser, cookie) = site.bind_browser(req);
    let id = site.engine.pend_consent(site.issuer, ar, session, &browser);
    let mut resp = page(site, &id, ar, &session.user, None);
    let _ = resp.add_cookie(&cookie);
    resp
}

/// The page itself: the request's scopes in the product's words.
fn page(
    site: &Site,
    id: &str,
    ar: &AuthorizeRequest,
    user: &User,
    error: Option<&str>,
) -> HttpResponse {
    let p = site.issuer.dialect.profile().consent.page;
    let scopes = scope_lines(&p, ar);
    let remembers = site
        .issuer
        .client(&ar.client_id)
        .is_some_and(|c| c.remember_consent.unwrap_or(true));
    let action = site.url(Endpoint::Login);
    let page = pages::Consent {
        issuer: site.issuer,
        heading: p.heading.replace("{client}", &ar.client_id),
        user,
        action: &action,
        consent_id: id,
        page: p,
        scopes,
        remember: p.remember.filter(|_| remembers),
        error,
    };
    let mut resp = site.page(200, &page);
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    resp
}

/// The list of the page: each scope asked in the product's words (its name where the product
/// has none; left out where it shows none, as Keycloak's `openid`).
fn scope_lines<'a>(p: &ConsentPage, ar: &'a AuthorizeRequest) -> Vec<pages::ConsentScope<'a>> {
    ar.scopes
        .iter()
        .filter_map(|name| {
            let text = p.text(name);
            (!text.is_empty()).then_some(pages::ConsentScope {
                name,
                text,
                required: p.required_scopes.contains(&name.as_str()),
            })
        })
        .collect()
}

/// The consent form's POST: checks that this browser opened the page, then answers the
/// client with a code (Allow) or `access_denied` (Deny).
pub(super) fn answer(site: &Site, req: &HttpRequest, form: &Params) -> HttpResponse {
    let p = site.issuer.dialect.profile().consent.page;
    let id = form.get(p.id_field).unwrap_or("");
    let Some(pending) = site.engine.pending_consent(site.issuer, id) else {
        return site.error_page(400, EXPIRED);
    };
    if !pending.opened_by(site.login_binding(req).as_deref()) {
        tracing::info!(
            issuer = site.issuer.name(),
            "consent refused: the form was posted by another browser than the one that opened it"
        );
        return site.restart_login();
    }
    let answer = decision(&p, form, &pending.then.request);
    if p.scope_choice && matches!(&answer, ConsentAnswer::Allow { scopes, .. } if scopes.is_empty())
    {
        return match site.engine.session(site.issuer, &pending.then.sid) {
            Some(s) => page(
                site,
                id,
                &pending.then.request,
                &s.user,
                Some(NOTHING_CHOSEN),
            ),
            None => site.error_page(400, EXPIRED),
        };
    }
    match site
        .engine
        .answer_consent(site.issuer, id, answer, &site.context(req))
    {
        Some(cb) => site.answer_client(cb),
        None => site.error_page(400, EXPIRED),
    }
}

/// What the form says: Deny when the deny button (or no allow button) was pressed; else the
/// scopes granted (with checkboxes, the ticked ones and the required ones) and "remember".
fn decision(p: &ConsentPage, form: &Params, ar: &AuthorizeRequest) -> ConsentAnswer {
    let sent = |b: &ConsentButton| (!b.name.is_empty()).then(|| form.get(b.name)).flatten();
    let denied = sent(&p.deny).is_some_and(|v| v == p.deny.value || p.deny.name != p.allow.name);
    // Django's BooleanField: any value but "false" and "0" is true.
    let allowed = sent(&p.allow).is_some_and(|v| v == p.allow.value || !matches!(v, "false" | "0"));
    if denied || !allowed {
        return ConsentAnswer::Deny;
    }
    let scopes = if p.scope_choice {
        let ticked: Vec<&str> = form.get("scopes").unwrap_or("").split(' ').collect();
        ar.scopes
            .iter()
            .filter(|s| ticked.contains(&s.as_str()) || p.required_scopes.contains(&s.as_str()))
            .cloned()
            .collect()
    } else {
        ar.scopes.clone()
    };
    ConsentAnswer::Allow {
        scopes,
        remember: form.get("RememberConsent") == Some("true"),
    }
}
