//! RFC 6749 §4.1.1 authorization requests (with OpenID Connect Core §3.1.2 and RFC 7636): checks
//! in the order that keeps redirects safe, then the decision (log in, or answer with a code).

use super::issue::{FrontRequest, Grant};
use super::response_type::ResponseType;
use super::session::Session;
use super::{Engine, Issuer, Params, RequestContext, pkce, scope};
use crate::config::ClientConfig;
use crate::dialect::profile::{FrontChannel, Refusal};
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
    /// What the client asked to get back (`code`, tokens, or both).
    pub response_type: ResponseType,
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
    let asked_mode = match params.get("response_mode") {
        None => Ok(None),
        Some("query") => Ok(Some(ResponseMode::Query)),
        Some("fragment") => Ok(Some(ResponseMode::Fragment)),
        Some("form_post") => Ok(Some(ResponseMode::FormPost)),
        Some(_) => Err(OAuthError::invalid_request(
            "Invalid parameter: response_mode (supported: query, fragment, form_post)",
        )),
    };
    let back = |mode: ResponseMode, err: OAuthError| {
        AuthorizeError::Redirect(error_callback(&redirect_uri, mode, state.as_deref(), &err))
    };
    let asked_mode = asked_mode.map_err(|e| back(ResponseMode::Query, e))?;
    let flows = &issuer.dialect.profile().front_channel;
    let refuse = |r: &Refusal, mode: ResponseMode| match r.page {
        true if r.description.is_empty() => AuthorizeError::Page(r.code.as_str().to_string()),
        true => AuthorizeError::Page(r.description.to_string()),
        false => back(mode, OAuthError::new(r.code, r.description)),
    };
    let early = asked_mode.unwrap_or(ResponseMode::Query);
    let Some(response_type) = params.get("response_type") else {
        return Err(back(
            early,
            OAuthError::invalid_request("Missing parameter: response_type"),
        ));
    };
    let response_type = ResponseType::parse(response_type)
        .filter(|t| flows.response_types.contains(&t.as_str()))
        .ok_or_else(|| refuse(&flows.unsupported, early))?;
    let default_mode = if response_type.front_tokens() {
        ResponseMode::Fragment
    } else {
        ResponseMode::Query
    };
    let response_mode = asked_mode.unwrap_or(default_mode);
    if response_type.front_tokens() && response_mode == ResponseMode::Query {
        return Err(refuse(&flows.query_refused, response_mode));
    }
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
    // `none` asks for nothing but is the code flow's (Keycloak's standard flow switch).
    let code_flow = response_type.code || !response_type.front_tokens();
    if code_flow && !may_use_code(client, response_type, flows) {
        return Err(refuse(&flows.code_not_allowed, response_mode));
    }
    if !may_use_front_tokens(client, response_type, flows) {
        let mode = match flows.not_allowed.in_query {
            true => asked_mode.unwrap_or(ResponseMode::Query),
            false => response_mode,
        };
        return Err(refuse(&flows.not_allowed, mode));
    }
    let scopes = scope::granted(issuer, client, params.get("scope")).map_err(fail)?;
    let openid = scopes.iter().any(|s| s == "openid");
    // IdentityServer3's AuthorizeRequestValidator ("response_type requires the openid scope").
    if response_type.id_token && !openid {
        return Err(fail(OAuthError::invalid_request(
            "response_type requires the openid scope",
        )));
    }
    let needs_nonce = response_type.id_token
        || (flows.nonce_for_any_token && openid && response_type.front_tokens());
    if needs_nonce && params.get("nonce").is_none_or(str::is_empty) {
        return Err(fail(OAuthError::invalid_request(flows.missing_nonce)));
    }
    // Keycloak's checkPKCEParams: PKCE is for flows with a code.
    let pkce = if response_type.code {
        pkce_of(client, params).map_err(fail)?
    } else {
        None
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
        response_type,
    })
}

/// RFC 7636 §4.3: the code challenge, required of public clients and those that demand it.
fn pkce_of(
    client: &ClientConfig,
    params: &Params,
) -> Result<Option<(String, pkce::Method)>, OAuthError> {
    let challenge = params.get("code_challenge");
    let method = params.get("code_challenge_method");
    match challenge {
        Some(c) => {
            let Some(m) = pkce::Method::parse(method) else {
                return Err(OAuthError::invalid_request(
                    "Invalid parameter: code_challenge_method (supported: S256, plain)",
                ));
            };
            if !pkce::well_formed(c) {
                return Err(OAuthError::invalid_request(
                    "Invalid parameter: code_challenge (43-128 characters of A-Z a-z 0-9 - . _ ~)",
                ));
            }
            Ok(Some((c.to_string(), m)))
        }
        None if method.is_some() => Err(OAuthError::invalid_request(
            "Missing parameter: code_challenge",
        )),
        None if client.is_public() || client.require_pkce => Err(OAuthError::invalid_request(
            "Missing parameter: code_challenge (PKCE is required for this client)",
        )),
        None => Ok(None),
    }
}

/// Whether `client` may ask for a code with `response_type`: its `authorization_code` grant,
/// or for a hybrid response its hybrid flow where the product has one.
fn may_use_code(client: &ClientConfig, rt: ResponseType, flows: &FrontChannel) -> bool {
    client.lists_grant("authorization_code")
        || (rt.hybrid() && flows.hybrid_switch && client.hybrid_flow)
}

/// Whether `client` may have tokens from the authorization endpoint: its implicit flow for
/// implicit responses; for hybrid ones its hybrid flow (IdentityServer3, Django OAuth Toolkit)
/// or its implicit one (Keycloak's switch, with its standard flow checked in [`may_use_code`]).
fn may_use_front_tokens(client: &ClientConfig, rt: ResponseType, flows: &FrontChannel) -> bool {
    if rt.hybrid() && flows.hybrid_switch {
        client.hybrid_flow
    } else {
        client.implicit_flow || !rt.front_tokens()
    }
}

/// RFC 6749 §4.1.2.1: an error response to the client.
pub fn error_callback(
    redirect_uri: &str,
    mode: ResponseMode,
    state: Option<&str>,
    err: &OAuthError,
) -> Callback {
    let mut params = vec![("error".to_string(), err.code.as_str().to_string())];
    // Empty where the product sends none (Keycloak's unsupported_response_type, oauthlib's).
    if !err.description.is_empty() {
        params.push(("error_description".into(), err.description.to_string()));
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
    /// Decides between the login page and an immediate answer, given the browser's session;
    /// `request` is what tokens issued at once mention (`iss`).
    pub fn authorize(
        &self,
        issuer: &Issuer,
        req: &AuthorizeRequest,
        session: Option<&Session>,
        request: &RequestContext,
    ) -> Decision {
        let now = self.clock.now();
        let fresh = session.filter(|s| {
            req.max_age
                .is_none_or(|m| s.auth_time.saturating_add(m) >= now)
        });
        match fresh {
            Some(s) if !req.prompt_login => match self.needs_consent(issuer, req, s) {
                false => Decision::Respond(self.code_callback(issuer, req, s, request)),
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
                Some(session) => {
                    Decision::Respond(self.code_callback(issuer, req, &session, request))
                }
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

    /// RFC 6749 §4.1.2 / §4.2.2, OpenID Connect Core §3.2.2.5 and §3.3.2.5: the response for
    /// `session`'s user: a code, tokens, or both, as the response type asks.
    pub fn code_callback(
        &self,
        issuer: &Issuer,
        req: &AuthorizeRequest,
        session: &Session,
        request: &RequestContext,
    ) -> Callback {
        let grant = Grant {
            client_id: req.client_id.clone(),
            user: Some(session.user.clone()),
            scopes: req.scopes.clone(),
            sid: Some(session.sid.clone()),
            auth_time: Some(session.auth_time),
            nonce: req.nonce.clone(),
            act: None,
            audience: None,
            chain: None,
        };
        let code = req
            .response_type
            .code
            .then(|| self.new_code(issuer, req, &grant));
        let mut params: Vec<(String, String)> =
            code.iter().map(|c| ("code".into(), c.clone())).collect();
        if req.response_type.front_tokens() {
            let tokens = issuer
                .client(&req.client_id)
                .ok_or_else(|| OAuthError::server_error("the client was removed during the login"));
            let tokens = tokens.and_then(|client| {
                let want = FrontRequest {
                    response_type: req.response_type,
                    code: code.as_deref(),
                    state: req.state.as_deref(),
                };
                self.front_tokens(issuer, request, client, grant, &want)
            });
            match tokens {
                Ok(t) => params.extend(t),
                Err(e) => {
                    let mode = req.response_mode;
                    return error_callback(&req.redirect_uri, mode, req.state.as_deref(), &e);
                }
            }
        }
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

    /// RFC 6749 §4.1.2: a new code standing for `grant`, remembered until redeemed or expired.
    fn new_code(&self, issuer: &Issuer, req: &AuthorizeRequest, grant: &Grant) -> String {
        let now = self.clock.now();
        let code = issuer.dialect.profile().formats.code.make(&self.ids);
        let record = CodeRecord {
            issuer: issuer.name().to_string(),
            grant: grant.clone(),
            redirect_uri: req.redirect_uri_given.then(|| req.redirect_uri.clone()),
            pkce: req.pkce.clone(),
        };
        let ttl = issuer
            .config
            .code_ttl
            .unwrap_or(issuer.dialect.profile().lifetimes.code);
        self.codes.insert(code.clone(), record, now + ttl, now);
        code
    }
}
