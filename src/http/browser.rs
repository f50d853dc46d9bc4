//! The browser-facing endpoints: authorize, the login form, the SSO landing page and logout.
//! Sessions live in a cookie per issuer; everything else is the engine's.

use std::sync::Arc;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

mod consent;

use super::pages::{self, ErrorPage};
use crate::dialect::{Endpoint, Urls};
use crate::engine::authorize::{self, AuthorizeError, Callback, Decision, ResponseMode};
use crate::engine::device::{DeviceDecision, UserCodeError};
use crate::engine::session::{AfterLogin, Session};
use crate::engine::users::User;
use crate::engine::{Engine, Issuer, Params, RequestContext};

/// Length of a browser's login binding value (random letters and digits).
const BINDING_LEN: usize = 32;

/// Where a browser request came in: the issuer and its URL as the browser sees it.
pub struct Site<'a> {
    pub engine: &'a Engine,
    pub issuer: &'a Issuer,
    pub urls: Urls,
}

impl Site<'_> {
    /// The name of this site's cookie `base`: per issuer, and per namespace (their issuers
    /// share names and the cookie's path is `/`).
    fn scoped_cookie_name(&self, base: &str) -> String {
        let name = format!("{base}_{}", self.issuer.name());
        match &self.engine.namespace {
            Some(ns) => format!("{name}_{}", ns.id),
            None => name,
        }
    }

    /// The session cookie's name.
    fn cookie_name(&self) -> String {
        self.scoped_cookie_name(self.issuer.dialect.profile().session_cookie)
    }

    fn session(&self, req: &HttpRequest) -> Option<Session> {
        let cookie = req.cookie(&self.cookie_name())?;
        self.engine.session(self.issuer, cookie.value())
    }

    pub(crate) fn session_cookie(&self, sid: &str) -> Cookie<'static> {
        Cookie::build(self.cookie_name(), sid.to_string())
            .path("/")
            .http_only(true)
            .secure(self.urls.front.starts_with("https://"))
            .same_site(SameSite::Lax)
            .finish()
    }

    /// The product's script-readable session cookie, for its session status iframe: scoped to
    /// the issuer's path as the browser sees it (`/auth`, a proxy prefix or a frontend URL
    /// included), and over https `SameSite=None` so an app on another site can still read it
    /// in the iframe, as Keycloak sets it. Its value is the product's for `session` (empty
    /// without one, to remove it).
    pub(crate) fn script_session_cookie(
        &self,
        session: Option<&Session>,
    ) -> Option<Cookie<'static>> {
        let script = self.issuer.dialect.profile().script_session?;
        let value = session.map_or_else(String::new, |s| {
            (script.value).of(self.issuer.config.realm_name(), &s.user.sub, &s.sid)
        });
        let front = &self.urls.front;
        let path = crate::config::origin_of(front).map_or("", |origin| &front[origin.len()..]);
        let https = front.starts_with("https://");
        Some(
            Cookie::build(script.cookie, value)
                .path(format!("{path}/"))
                .secure(https)
                .same_site(if https { SameSite::None } else { SameSite::Lax })
                .finish(),
        )
    }

    /// Sends the browser back to the client with the authorization response, success or
    /// error, adding RFC 9207's `iss` where the product sends it (Keycloak).
    fn answer_client(&self, mut cb: Callback) -> HttpResponse {
        if self
            .issuer
            .dialect
            .profile()
            .features
            .authorization_response_iss
        {
            cb.params.push(("iss".into(), self.urls.issuer.clone()));
        }
        respond(&cb)
    }

    /// What tokens issued to this browser request mention (`iss`, the caller's address).
    fn context(&self, req: &HttpRequest) -> RequestContext {
        RequestContext {
            issuer_url: self.urls.issuer.clone(),
            client_addr: super::extract::client_addr(req),
        }
    }

    fn url(&self, e: Endpoint) -> String {
        self.urls.at(self.issuer.dialect, e)
    }

    /// Shows one of the pages (`http/pages.rs`) with this status.
    fn page(&self, status: u16, page: &impl Template) -> HttpResponse {
        super::page(crate::dialect::Reply {
            status,
            content_type: "text/html; charset=utf-8",
            body: pages::render(page),
        })
    }

    /// Shows the error page with this message.
    fn error_page(&self, status: u16, message: &str) -> HttpResponse {
        self.page(status, &ErrorPage::new(self.issuer, message))
    }

    /// The login binding cookie's name (a namespace's login forms are bound apart).
    fn login_cookie_name(&self) -> String {
        self.scoped_cookie_name(self.issuer.dialect.profile().login_binding.cookie)
    }

    /// The browser's login binding value, from its login cookie.
    fn login_binding(&self, req: &HttpRequest) -> Option<String> {
        req.cookie(&self.login_cookie_name())
            .map(|c| c.value().to_string())
            .filter(|v| v.len() == BINDING_LEN && v.bytes().all(|b| b.is_ascii_alphanumeric()))
    }

    /// This browser's binding value (made now if it has none), and the login cookie that
    /// holds it, set again with every page.
    fn bind_browser(&self, req: &HttpRequest) -> (String, Cookie<'static>) {
        let value = self
            .login_binding(req)
            .unwrap_or_else(|| self.engine.ids.alnum(BINDING_LEN));
        let cookie = Cookie::build(self.login_cookie_name(), value.clone())
            .path("/")
            .http_only(true)
            .secure(self.urls.front.starts_with("https://"))
            .same_site(SameSite::Lax)
            .finish();
        (value, cookie)
    }

    /// Shows a fresh login page that continues with `then`, bound to this browser: the login
    /// cookie (made now if the browser has none) must come back with the form, as Keycloak's
    /// `AUTH_SESSION_ID` must, so that a `login_id` fetched by one browser cannot log in
    /// another (login CSRF).
    fn start_login(&self, req: &HttpRequest, then: AfterLogin) -> HttpResponse {
        let (browser, cookie) = self.bind_browser(req);
        let id = self.engine.pend_login(self.issuer, then.clone(), &browser);
        let mut resp = self.login_page(&id, &then, None);
        let _ = resp.add_cookie(&cookie);
        resp
    }

    /// The product's "restart login" page, for a form that came back without its browser.
    fn restart_login(&self) -> HttpResponse {
        let binding = self.issuer.dialect.profile().login_binding;
        self.error_page(binding.status, binding.restart)
    }

    fn login_page(&self, login_id: &str, then: &AfterLogin, error: Option<&str>) -> HttpResponse {
        let (client, hint) = match then {
            AfterLogin::Authorize(ar) => {
                let c = self.issuer.client(&ar.client_id);
                (
                    c.map(|c| (c.id.as_str(), c.description.as_deref())),
                    ar.login_hint.as_deref(),
                )
            }
            AfterLogin::ReturnTo(_) => (None, None),
        };
        let action = self.url(Endpoint::Login);
        let page = pages::Login {
            issuer: self.issuer,
            client,
            action: &action,
            login_id,
            username: hint.unwrap_or(""),
            error,
            ids: pages::LoginIds::of(self.issuer),
        };
        let mut resp = self.page(200, &page);
        resp.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
        resp
    }
}

/// RFC 6749 §4.1.1: the authorization endpoint (GET query or POST form).
pub fn authorize(site: &Site, req: &HttpRequest, params: &Params) -> HttpResponse {
    let ar = match authorize::validate(site.issuer, params) {
        Ok(ar) => ar,
        Err(AuthorizeError::Page(message)) => {
            tracing::info!(
                issuer = site.issuer.name(),
                reason = message.as_str(),
                "authorization request refused"
            );
            return site.error_page(400, &message);
        }
        Err(AuthorizeError::Redirect(cb)) => return site.answer_client(cb),
    };
    let session = site.session(req);
    match site
        .engine
        .authorize(site.issuer, &ar, session.as_ref(), &site.context(req))
    {
        Decision::Respond(cb) => site.answer_client(cb),
        Decision::Login => site.start_login(req, AfterLogin::Authorize(Box::new(ar))),
        Decision::Consent(session) => consent::show(site, req, &ar, &session),
    }
}

/// The login form's POST: checks that this browser opened the form, checks the user, starts
/// the session, continues where it was going.
pub fn login(site: &Site, req: &HttpRequest, form: &Params) -> HttpResponse {
    let consent_field = site.issuer.dialect.profile().consent.page.id_field;
    if form.get("login_id").is_none() && form.get(consent_field).is_some() {
        return consent::answer(site, req, form);
    }
    let id = form.get("login_id").unwrap_or("");
    let Some(pending) = site.engine.pending_login(site.issuer, id) else {
        return site.error_page(
            400,
            "This login page has expired or was already used. Go back to the application and sign in again.",
        );
    };
    if !pending.opened_by(site.login_binding(req).as_deref()) {
        tracing::info!(
            issuer = site.issuer.name(),
            "login refused: the form was posted by another browser than the one that opened it"
        );
        return site.restart_login();
    }
    let user = match credentials(site, form) {
        Ok(user) => user,
        Err(e) => return site.login_page(id, &pending.then, Some(&e)),
    };
    // Consumed here, atomically: a double submit gets the expired page, not a second session.
    if !site.engine.finish_login(id) {
        return site.error_page(
            400,
            "This login page was already used. Go back to the application and sign in again.",
        );
    }
    logged_in(site, req, &pending.then, user)
}

/// The user the login form names (a picked fixture user, or username and password), or why
/// not, as the login page says it.
fn credentials(site: &Site, form: &Params) -> Result<Arc<User>, String> {
    let username = form.get("pick").or(form.get("username")).unwrap_or("");
    site.issuer
        .login(username, form.get("password").unwrap_or(""))
        .map_err(|e| {
            tracing::info!(
                issuer = site.issuer.name(),
                user = username,
                "login refused"
            );
            e.to_string()
        })
}

/// After a login: starts the session (its cookies set) and goes where the login was for, by
/// way of the consent page when the client needs it.
fn logged_in(site: &Site, req: &HttpRequest, then: &AfterLogin, user: Arc<User>) -> HttpResponse {
    let session = site.engine.start_session(site.issuer, user);
    let mut resp = match then {
        AfterLogin::Authorize(ar) if site.engine.needs_consent(site.issuer, ar, &session) => {
            consent::show(site, req, ar, &session)
        }
        AfterLogin::Authorize(ar) => {
            let cb = site
                .engine
                .code_callback(site.issuer, ar, &session, &site.context(req));
            site.answer_client(cb)
        }
        AfterLogin::ReturnTo(path) => return_to(path),
    };
    let _ = resp.add_cookie(&site.session_cookie(&session.sid));
    if let Some(cookie) = site.script_session_cookie(Some(&session)) {
        let _ = resp.add_cookie(&cookie);
    }
    resp
}

/// A redirect to `path`, only ever a path on the host the browser is on: never `//host` or
/// `/\host`.
fn return_to(path: &str) -> HttpResponse {
    let location = if super::forwarded::plain_path(path.split('?').next().unwrap_or("")) {
        path
    } else {
        "/"
    };
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// The SSO landing page (Inqom's `/home`): the user if logged in, else the login form.
pub fn home(site: &Site, req: &HttpRequest) -> HttpResponse {
    match site.session(req) {
        Some(s) => site.page(
            200,
            &pages::Home {
                issuer: site.issuer,
                user: &s.user,
                logout_url: &site.url(Endpoint::Logout),
            },
        ),
        None => {
            let then =
                AfterLogin::ReturnTo(format!("{}{}", site.engine.prefix(), site.issuer.home_path));
            site.start_login(req, then)
        }
    }
}

/// OpenID Connect RP-Initiated Logout: ends the session and goes back to the client only to a
/// registered `post_logout_redirect_uri`.
pub fn logout(site: &Site, req: &HttpRequest, params: &Params) -> HttpResponse {
    let back = match post_logout_redirect(site, params) {
        Ok(back) => back,
        Err(message) => return site.error_page(400, message),
    };
    if let Some(s) = site.session(req) {
        site.engine.end_session(&s.sid);
        tracing::info!(
            issuer = site.issuer.name(),
            user = s.user.username.as_str(),
            "logged out"
        );
    }
    let mut resp = match back {
        Some(uri) => respond(&Callback {
            redirect_uri: uri,
            response_mode: ResponseMode::Query,
            params: params
                .get("state")
                .map(|state| ("state".to_string(), state.to_string()))
                .into_iter()
                .collect(),
        }),
        None => site.page(
            200,
            &pages::LoggedOut {
                issuer: site.issuer,
            },
        ),
    };
    let mut gone = site.session_cookie("");
    gone.make_removal();
    let _ = resp.add_cookie(&gone);
    if let Some(mut gone) = site.script_session_cookie(None) {
        gone.make_removal();
        let _ = resp.add_cookie(&gone);
    }
    resp
}

/// Where logout goes back to: the `post_logout_redirect_uri` if the client (`client_id`, or
/// the `id_token_hint`'s audience) registered it, nowhere without one; else what is wrong.
fn post_logout_redirect(site: &Site, params: &Params) -> Result<Option<String>, &'static str> {
    let Some(uri) = params.get("post_logout_redirect_uri") else {
        return Ok(None);
    };
    let client_id = params.get("client_id").map(str::to_string).or_else(|| {
        params
            .get("id_token_hint")
            .and_then(|t| site.engine.verify_jwt(t))
            .and_then(|(_, c)| c.get("aud").and_then(|a| a.as_str()).map(str::to_string))
    });
    match client_id.as_deref().and_then(|id| site.issuer.client(id)) {
        Some(c) if c.post_logout_uri_registered(uri) => Ok(Some(uri.to_string())),
        Some(_) => {
            Err("Invalid redirect uri: post_logout_redirect_uri is not registered for this client.")
        }
        None => Err(
            "Missing parameters: id_token_hint or client_id is needed with post_logout_redirect_uri.",
        ),
    }
}

/// RFC 8628 §3.3: the verification page. A person types (or follows a link with) the user
/// code, logs in if needed, then approves or denies the device.
pub fn device(site: &Site, req: &HttpRequest, params: &Params) -> HttpResponse {
    // The product's parameter in `verification_uri_complete`, else the form's `user_code`.
    let code = params
        .get(site.issuer.dialect.profile().user_code_param)
        .or(params.get("user_code"))
        .unwrap_or("");
    let Some(session) = site.session(req) else {
        // Log in first, then come back here with the code.
        return site.start_login(req, AfterLogin::ReturnTo(device_path(site, code)));
    };
    match params.get("action") {
        Some(decision) if req.method() == actix_web::http::Method::POST => {
            decide_device(site, req, &session, code, decision == "approve")
        }
        _ => device_form(site, &session, code, None),
    }
}

/// The person's decision on the device showing `code`: the result, or the form again when
/// the code does not work.
fn decide_device(
    site: &Site,
    req: &HttpRequest,
    session: &Session,
    code: &str,
    approve: bool,
) -> HttpResponse {
    let addr = super::extract::client_addr(req);
    let device_code = match site.engine.find_user_code(site.issuer, code, &addr) {
        Ok((device_code, _)) => device_code,
        Err(UserCodeError::Invalid) => return invalid_user_code(site, session, code),
        Err(UserCodeError::TooManyAttempts) => {
            return site.error_page(429, "Too many wrong codes. Wait a minute, then try again.");
        }
    };
    let issuer = site.issuer;
    match site
        .engine
        .decide_device(issuer, &device_code, session, approve)
    {
        DeviceDecision::Taken(approved) => site.page(200, &pages::DeviceDone { issuer, approved }),
        DeviceDecision::AlreadyDecided(approved) => {
            site.page(409, &pages::DeviceAlreadyDecided { issuer, approved })
        }
        DeviceDecision::Gone => invalid_user_code(site, session, code),
    }
}

/// The verification form, with `code` filled in and an error if there is one.
fn device_form(site: &Site, session: &Session, code: &str, error: Option<&str>) -> HttpResponse {
    let page = pages::DeviceForm {
        issuer: site.issuer,
        user: &session.user,
        action: &site.url(Endpoint::DeviceVerify),
        code,
        error,
    };
    site.page(200, &page)
}

/// The verification form again, saying the code does not work.
fn invalid_user_code(site: &Site, session: &Session, code: &str) -> HttpResponse {
    device_form(
        site,
        session,
        code,
        Some("That code is not valid or has expired. Check it and try again."),
    )
}

/// The verification page's path (relative to the host) with the user code, for coming back
/// after the login page.
fn device_path(site: &Site, code: &str) -> String {
    let url = site.url(Endpoint::DeviceVerify);
    let path = url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
        .unwrap_or_else(|| "/".into());
    if code.is_empty() {
        path
    } else {
        let q: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("user_code", code)
            .finish();
        format!("{path}?{q}")
    }
}

/// Sends an authorization response: a redirect with the parameters in the query or the
/// fragment (OAuth 2.0 Multiple Response Types §2.1), or a self-posting form.
pub fn respond(cb: &Callback) -> HttpResponse {
    let encoded = || -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&cb.params)
            .finish()
    };
    let location = match cb.response_mode {
        ResponseMode::FormPost => {
            return HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body(pages::render(&pages::FormPost::from(cb)));
        }
        _ if cb.params.is_empty() => cb.redirect_uri.clone(),
        ResponseMode::Query => {
            let sep = if cb.redirect_uri.contains('?') {
                '&'
            } else {
                '?'
            };
            format!("{}{sep}{}", cb.redirect_uri, encoded())
        }
        // A registered redirect URI has no fragment of its own (RFC 6749 §3.1.2).
        ResponseMode::Fragment => format!("{}#{}", cb.redirect_uri, encoded()),
    };
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}
