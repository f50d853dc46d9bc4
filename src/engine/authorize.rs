//! RFC 6749 §4.1.1 authorization requests (with OpenID Connect Core §3.1.2 and RFC 7636): checks
//! in the order that keeps redirects safe, then the decision (log in, or answer with a code).

use super::issue::Grant;
use super::session::Session;
use super::{Engine, Issuer, Params, pkce, scope};
use crate::error::{ErrorCode, OAuthError};

/// How the authorization response travels (OAuth 2.0 Multiple Response Types §2.1,
/// Form Post Response Mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseMode {
    Query,
    /// The parameters after `#`, where a single-page app (keycloak-js's default) reads them
    /// without sending them to its server.
    Fragment,
    FormPost,
}

/// A validated authorization request.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub client_id: String,
    /// Where the response goes: the one asked for, or the client's only registered one.
    pub redirect_uri: String,
    /// Whether the request named it (then the token request must repeat it, §4.1.3).
    pub redirect_uri_given: bool,
    pub response_mode: ResponseMode,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub prompt_none: bool,
    pub prompt_login: bool,
    /// `prompt=consent`: show the consent page even where a decision is remembered.
    pub prompt_consent: bool,
    /// Django OAuth Toolkit's `approval_prompt=auto` (its default, REQUEST_APPROVAL_PROMPT,
    /// is `force`): skip the consent page when a live token covers the scopes.
    pub approval_auto: bool,
    pub max_age: Option<u64>,
    pub login_hint: Option<String>,
    pub pkce: Option<(String, pkce::Method)>,
}

/// An authorization response on its way to the client.
#[derive(Debug, Clone)]
pub struct Callback {
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub params: Vec<(String, String)>,
}

/// A refused authorization request.
#[derive(Debug, Clone)]
pub enum AuthorizeError {
    /// Shown to the user, never redirected: the client or redirect URI cannot be trusted.
    Page(String),
    /// Sent back to the client's redirect URI (RFC 6749 §4.1.2.1).
    Redirect(Callback),
}

/// What the browser gets for a valid request.
#[derive(Debug)]
pub enum Decision {
    /// Show the login page.
    Login,
    /// Answer the client at once (SSO session, or `prompt=none` without one).
    Respond(Callback),
    /// The user of this SSO session must first allow the client (the consent page).
    Consent(Session),
}

/// What an authorization code stands for until it is redeemed or expires.
#[derive(Debug, Clone)]
pub struct CodeRecord {
    pub issuer: String,
    pub grant: Grant,
    /// The `redirect_uri` of the request, if it named one.
    pub redirect_uri: Option<String>,
    pub pkce: Option<(String, pkce::Method)>,
}

/// The longest `state`, `nonce`, `login_hint` or `scope` kept for a pending login.
const MAX_VALUE: usize = 2048;

/// Validates an authorization request. Until the client and redirect URI are known good every
/// error is a page; after that, errors go back to the client with its `state`.
pub fn validate(issuer: &Issuer, params: &Params) -> Result<AuthorizeRequest, AuthorizeError> {
    let page = |m: &str| AuthorizeError::Page(m.to_string());
    let Some(client_id) = params.get("client_id") else {
        return Err(page("Missing parameter: client_id"));
    };
    let Some(client) = issuer.client(client_id) else {
        return Err(page(
            "Client not found: this client_id is not registered at this issuer.",
        ));
    };
    let (redirect_uri, given) = match params.get("redirect_uri") {
        Some(uri) if client.redirect_uri_registered(uri) => (uri.to_string(), true),
        Some(_) => {
            return Err(page(
                "Invalid parameter: redirect_uri. It is not registered for this client.",
            ));
        }
        None => match client.redirect_uris.as_slice() {
            [only] if !only.ends_with('*') => (only.clone(), false),
            _ => return Err(page("Missing parameter: redirect_uri")),
        },
    };
    for name in ["state", "nonce", "login_hint", "scope"] {
        if params.get(name).is_some_and(|v| v.len() > MAX_VALUE) {
            return Err(AuthorizeError::Page(format!(
                "Invalid parameter: {name} is longer than {MAX_VALUE} characters"
            )));
        }
    }
    let state = params.get("state").map(str::to_string);
    let response_mode = match params.get("response_mode") {
        None | Some("query") => Ok(ResponseMode::Query),
        Some("fragment") => Ok(ResponseMode::Fragment),
        Some("form_post") => Ok(ResponseMode::FormPost),
        Some(_) => Err(OAuthError::invalid_request(
            "Invalid parameter: response_mode (supported: query, fragment, form_post)",
        )),
    };
    let back = |mode: ResponseMode, err: OAuthError| {
        AuthorizeError::Redirect(error_callback(&redirect_uri, mode, state.as_deref(), &err))
    };
    let response_mode = response_mode.map_err(|e| back(ResponseMode::Query, e))?;
    let fail = |err: OAuthError| back(response_mode, err);
    // OpenID Connect Core §6: say so rather than ignore a request object's parameters.
    if params.get("request").is_some() {
        return Err(fail(OAuthError::new(
            ErrorCode::RequestNotSupported,
            "request objects (request) are not supported: send the parameters in the query",
        )));
    }
    if params.get("request_uri").is_some() {
        return Err(fail(OAuthError::new(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported: send the parameters in the query",
        )));
    }
    match params.get("response_type") {
        None => {
            return Err(fail(OAuthError::invalid_request(
                "Missing parameter: response_type",
            )));
        }
        Some("code") => {}
        Some(_) => {
            return Err(fail(OAuthError::new(
                crate::error::ErrorCode::UnsupportedResponseType,
                "Unsupported response_type: only code is supported",
            )));
        }
    }
    if !client.allows_grant("authorization_code") {
        return Err(fail(OAuthError::unauthorized_client(format!(
            "client {:?} is not allowed to use the authorization code flow",
            client.id
        ))));
    }
    let scopes = scope::granted(issuer, client, params.get("scope")).map_err(fail)?;
    let challenge = params.get("code_challenge");
    let method = params.get("code_challenge_method");
    let pkce = match challenge {
        Some(c) => {
            let Some(m) = pkce::Method::parse(method) else {
                return Err(fail(OAuthError::invalid_request(
                    "Invalid parameter: code_challenge_method (supported: S256, plain)",
                )));
            };
            if !pkce::well_formed(c) {
                return Err(fail(OAuthError::invalid_request(
                    "Invalid parameter: code_challenge (43-128 characters of A-Z a-z 0-9 - . _ ~)",
                )));
            }
            Some((c.to_string(), m))
        }
        None if method.is_some() => {
            return Err(fail(OAuthError::invalid_request(
                "Missing parameter: code_challenge",
            )));
        }
        None if client.is_public() || client.require_pkce => {
            return Err(fail(OAuthError::invalid_request(
                "Missing parameter: code_challenge (PKCE is required for this client)",
            )));
        }
        None => None,
    };
    let prompts: Vec<&str> = params.get("prompt").unwrap_or("").split(' ').collect();
    let prompt_none = prompts.contains(&"none");
    if prompt_none && prompts.iter().any(|p| !p.is_empty() && *p != "none") {
        return Err(fail(OAuthError::invalid_request(
            "Invalid parameter: prompt (none cannot be combined with other values)",
        )));
    }
    let max_age = match params.get("max_age").map(str::parse::<u64>) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => {
            return Err(fail(OAuthError::invalid_request(
                "Invalid parameter: max_age (a number of seconds)",
            )));
        }
    };
    Ok(AuthorizeRequest {
        client_id: client.id.clone(),
        redirect_uri,
        redirect_uri_given: given,
        response_mode,
        scopes,
        state,
        nonce: params.get("nonce").map(str::to_string),
        prompt_none,
        prompt_login: prompts.contains(&"login"),
        prompt_consent: prompts.contains(&"consent"),
        approval_auto: params.get("approval_prompt") == Some("auto"),
        max_age,
        login_hint: params.get("login_hint").map(str::to_string),
        pkce,
    })
}

/// RFC 6749 §4.1.2.1: an error response to the client.
pub fn error_callback(
    redirect_uri: &str,
    mode: ResponseMode,
    state: Option<&str>,
    err: &OAuthError,
) -> Callback {
    let mut params = vec![("error".to_string(), err.code.as_str().to_string())];
    // An empty description is one the product does not send (a consent denied).
    if !err.description.is_empty() {
        params.push(("error_description".to_string(), err.description.to_string()));
    }
    if let Some(s) = state {
        params.push(("state".into(), s.into()));
    }
    Callback {
        redirect_uri: redirect_uri.to_string(),
        response_mode: mode,
        params,
    }
}

impl Engine {
    /// Decides between the login page and an immediate answer, given the browser's session.
    pub fn authorize(
        &self,
        issuer: &Issuer,
        req: &AuthorizeRequest,
        session: Option<&Session>,
    ) -> Decision {
        let now = self.clock.now();
        let fresh = session.filter(|s| {
            req.max_age
                .is_none_or(|m| s.auth_time.saturating_add(m) >= now)
        });
        match fresh {
            Some(s) if !req.prompt_login => match self.needs_consent(issuer, req, s) {
                false => Decision::Respond(self.code_callback(issuer, req, s)),
                // OpenID Connect Core §3.1.2.6: prompt=none cannot ask; the products send no
                // description.
                true if req.prompt_none => Decision::Respond(error_callback(
                    &req.redirect_uri,
                    req.response_mode,
                    req.state.as_deref(),
                    &OAuthError::new(issuer.dialect.profile().consent.passive_error, ""),
                )),
                true => Decision::Consent(s.clone()),
            },
            _ if req.prompt_none => Decision::Respond(error_callback(
                &req.redirect_uri,
                req.response_mode,
                req.state.as_deref(),
                &OAuthError::new(
                    ErrorCode::LoginRequired,
                    "the user is not logged in and prompt=none forbids asking",
                ),
            )),
            _ => match self.auto_login(issuer, req) {
                Some(session) => Decision::Respond(self.code_callback(issuer, req, &session)),
                None => Decision::Login,
            },
        }
    }

    /// A client with `auto_login` skips the login page: a new session for the `login_hint`
    /// user, when there is one.
    fn auto_login(&self, issuer: &Issuer, req: &AuthorizeRequest) -> Option<Session> {
        let client = issuer.client(&req.client_id)?;
        if !client.auto_login {
            return None;
        }
        let user = issuer.passwordless_user(req.login_hint.as_deref()?)?;
        Some(self.start_session(issuer, user))
    }

    /// RFC 6749 §4.1.2: issues a code for `session`'s user and builds the response.
    pub fn code_callback(
        &self,
        issuer: &Issuer,
        req: &AuthorizeRequest,
        session: &Session,
    ) -> Callback {
        let now = self.clock.now();
        let code = issuer.dialect.profile().formats.code.make(&self.ids);
        let record = CodeRecord {
            issuer: issuer.name().to_string(),
            grant: Grant {
                client_id: req.client_id.clone(),
                user: Some(session.user.clone()),
                scopes: req.scopes.clone(),
                sid: Some(session.sid.clone()),
                auth_time: Some(session.auth_time),
                nonce: req.nonce.clone(),
                act: None,
                audience: None,
                chain: None,
            },
            redirect_uri: req.redirect_uri_given.then(|| req.redirect_uri.clone()),
            pkce: req.pkce.clone(),
        };
        let ttl = issuer
            .config
            .code_ttl
            .unwrap_or(issuer.dialect.profile().lifetimes.code);
        self.codes.insert(code.clone(), record, now + ttl, now);
        let mut params = vec![("code".to_string(), code)];
        if let Some(s) = &req.state {
            params.push(("state".into(), s.clone()));
        }
        params.extend(
            issuer
                .dialect
                .code_response_extras(issuer, req, &session.sid, &self.ids),
        );
        Callback {
            redirect_uri: req.redirect_uri.clone(),
            response_mode: req.response_mode,
            params,
        }
    }
}
