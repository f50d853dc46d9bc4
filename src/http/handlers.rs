//! Thin endpoint handlers: parse, call the engine, let the dialect render.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::{extract, journal, oauth_error};
use crate::config::ResourceConfig;
use serde_json::json;

use crate::dialect::{self, Endpoint, Urls};
use crate::engine::{Engine, Issuer, Params, RequestContext, TokenRequest, client_assertion};
use crate::error::{ErrorCode, OAuthError};

/// OpenID Connect Discovery 1.0 §4 / RFC 8414 §3.
pub fn discovery(issuer: &Issuer, urls: &Urls) -> HttpResponse {
    HttpResponse::Ok().json(issuer.dialect.discovery(issuer, urls))
}

/// RFC 7517 §5: the key set tokens verify against.
pub fn jwks(engine: &Engine, issuer: &Issuer) -> HttpResponse {
    let keys = engine.keys();
    HttpResponse::Ok().json(dialect::jwks(
        issuer.dialect,
        &keys.live(engine.clock.now()),
    ))
}

/// The issuer's own URL, where its product serves something there (Keycloak's realm info).
pub fn issuer_info(engine: &Engine, issuer: &Issuer, urls: &Urls) -> HttpResponse {
    let keys = engine.keys();
    match issuer.dialect.issuer_info(issuer, urls, &keys.current) {
        Some(info) => HttpResponse::Ok().json(info),
        None => super::page(issuer.dialect.profile().not_found.reply()),
    }
}

/// keycloak-js's session status iframe asks whether `client_id`, embedded at `origin`, may
/// use it: 204, or 403 for a client or origin the issuer does not know.
pub fn session_status_init(issuer: &Issuer, req: &HttpRequest) -> HttpResponse {
    let params = Params::parse(req.query_string().as_bytes()).unwrap_or_default();
    let known = params
        .get("client_id")
        .is_some_and(|id| issuer.client(id).is_some());
    let allowed = params
        .get("origin")
        .is_some_and(|o| super::cors::origin_allowed(issuer, o));
    if known && allowed {
        HttpResponse::NoContent().finish()
    } else {
        HttpResponse::Forbidden().finish()
    }
}

/// RFC 6749 §3.2: the token endpoint.
pub async fn token(
    engine: &Engine,
    issuer: &Issuer,
    req: &HttpRequest,
    payload: web::Payload,
    issuer_url: String,
) -> HttpResponse {
    let result = async {
        let mut token_req = token_request(req, payload).await?;
        fetch_remote_keys(engine, issuer, req, &mut token_req).await;
        let client_id = match &token_req.authorization {
            crate::engine::Authorization::Basic { id, .. } => Some(id.as_str()),
            _ => token_req.params.get("client_id"),
        };
        journal::note(req, |n| {
            n.client(client_id, token_req.params.get("grant_type"))
        });
        let ctx = RequestContext {
            issuer_url,
            client_addr: extract::client_addr(req),
        };
        let issued = engine.token(issuer, &token_req, &ctx)?;
        let grant_type = token_req.params.get("grant_type").unwrap_or_default();
        engine.metrics.token_issued(issuer.name(), grant_type);
        Ok(issued)
    }
    .await;
    match result {
        Ok(issued) => {
            journal::note(req, |n| n.issued(&issued));
            HttpResponse::Ok()
                .content_type("application/json")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .insert_header((header::PRAGMA, "no-cache"))
                .body(issuer.dialect.token_response(&issued).to_json())
        }
        Err(err) => refuse(req, issuer, &err),
    }
}

/// A form POST to an endpoint that authenticates clients, parsed (or the query of a GET, where
/// the endpoint allows one: Django OAuth Toolkit's introspection).
async fn token_request(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<TokenRequest, OAuthError> {
    let params = if req.method() == actix_web::http::Method::GET {
        let query = Params::parse(req.query_string().as_bytes())?;
        if query.get("client_secret").is_some() {
            return Err(OAuthError::invalid_request(
                "client_secret must not be sent in the URL (RFC 6749 §2.3.1): use HTTP Basic",
            ));
        }
        query
    } else {
        extract::form(req, &extract::body(req, payload).await?)?
    };
    Ok(TokenRequest {
        params,
        authorization: extract::authorization(req),
        client_keys: None,
        remote_jwks: None,
    })
}

/// Fetches the keys on the network that `token_req` is judged with, asynchronously (the engine
/// does no I/O): its client's, for a `private_key_jwt` client with a `jwks_url`, and a trusted
/// issuer's, for a token exchange whose subject token that issuer signed.
async fn fetch_remote_keys(
    engine: &Engine,
    issuer: &Issuer,
    req: &HttpRequest,
    token_req: &mut TokenRequest,
) {
    let Some(edge) = req.app_data::<web::Data<super::Edge>>() else {
        return;
    };
    if let Some((source, kid)) = client_assertion::remote_keys_needed(issuer, token_req) {
        token_req.client_keys = Some(edge.jwks.get(&source, kid.as_deref()).await);
    }
    if let Some((source, kid)) = engine.remote_jwks_needed(issuer, token_req) {
        token_req.remote_jwks = Some(edge.jwks.get(&source, kid.as_deref()).await);
    }
}

/// RFC 7662 §2: token introspection.
pub async fn introspect(at: ClientCall<'_>, payload: web::Payload) -> HttpResponse {
    let ClientCall { engine, issuer, .. } = at;
    client_call(
        at,
        payload,
        |r| engine.introspect(issuer, r),
        |body| {
            HttpResponse::Ok()
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(body)
        },
    )
    .await
}

/// A client's form POST to an endpoint of `issuer`.
#[derive(Clone, Copy)]
pub struct ClientCall<'a> {
    pub engine: &'a Engine,
    pub issuer: &'a Issuer,
    pub req: &'a HttpRequest,
}

/// Parses a client-authenticated form POST, runs `op`, renders its success with `ok` and its
/// failure in the dialect's error shape.
async fn client_call<T>(
    at: ClientCall<'_>,
    payload: web::Payload,
    op: impl FnOnce(&TokenRequest) -> Result<T, OAuthError>,
    ok: impl FnOnce(T) -> HttpResponse,
) -> HttpResponse {
    let ClientCall {
        engine,
        issuer,
        req,
    } = at;
    let result = match token_request(req, payload).await {
        Ok(mut r) => {
            fetch_remote_keys(engine, issuer, req, &mut r).await;
            op(&r)
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(v) => ok(v),
        Err(err) => refuse(req, issuer, &err),
    }
}

/// A client logging its user out with the refresh token (Keycloak's back channel): 204.
pub async fn back_channel_logout(
    engine: &Engine,
    issuer: &Issuer,
    req: &HttpRequest,
    params: Params,
) -> HttpResponse {
    let mut token_req = TokenRequest {
        params,
        authorization: extract::authorization(req),
        client_keys: None,
        remote_jwks: None,
    };
    fetch_remote_keys(engine, issuer, req, &mut token_req).await;
    match engine.logout_by_refresh_token(issuer, &token_req) {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(err) => refuse(req, issuer, &err),
    }
}

/// RFC 8628 §3.1–3.2: the device authorization endpoint.
pub async fn device_authorization(
    at: ClientCall<'_>,
    payload: web::Payload,
    urls: &Urls,
) -> HttpResponse {
    let ClientCall { engine, issuer, .. } = at;
    let ok = |codes: crate::engine::device::DeviceCodes| {
        let d = issuer.dialect;
        let verification_uri = urls.at(d, Endpoint::DeviceVerify);
        let complete = format!(
            "{verification_uri}?{}={}",
            d.profile().user_code_param,
            codes.user_code
        );
        HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({
                "device_code": codes.device_code,
                "user_code": codes.user_code,
                "verification_uri": verification_uri,
                "verification_uri_complete": complete,
                "expires_in": codes.expires_in,
                "interval": codes.interval,
            }))
    };
    client_call(at, payload, |r| engine.device_authorization(issuer, r), ok).await
}

/// RFC 7009 §2: token revocation; 200 with an empty body on success.
pub async fn revoke(at: ClientCall<'_>, payload: web::Payload) -> HttpResponse {
    let ClientCall { engine, issuer, .. } = at;
    let ok = |()| HttpResponse::Ok().finish();
    client_call(at, payload, |r| engine.revoke(issuer, r), ok).await
}

/// The form or query of a request to a bearer-protected endpoint; a parse error answered in
/// RFC 6750's shape.
async fn bearer_params(
    issuer: &Issuer,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<crate::engine::Params, HttpResponse> {
    extract::params(req, payload)
        .await
        .map_err(|e| oauth_error(dialect::bearer_error(&e, issuer, true)))
}

/// A protected resource (the generic seed's `GET /resource/`): the token raw or as `Bearer`.
pub async fn resource(
    engine: &Engine,
    issuer: &Issuer,
    resource: &ResourceConfig,
    req: &HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let params = match bearer_params(issuer, req, payload).await {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let Some(token) = extract::bearer_token(req, &params) else {
        let err = OAuthError::invalid_token("Missing access token: send it in Authorization");
        return oauth_error(dialect::bearer_error(&err, issuer, false));
    };
    match engine.resource(issuer, resource, &token) {
        Ok(body) => HttpResponse::Ok().json(body),
        Err(err) => {
            journal::note(req, |n| n.failed(&err));
            log_refusal(issuer, &err);
            oauth_error(dialect::bearer_error(&err, issuer, true))
        }
    }
}

fn refuse(req: &HttpRequest, issuer: &Issuer, err: &OAuthError) -> HttpResponse {
    let reply = issuer.dialect.shape_error(err, issuer);
    journal::note(req, |n| {
        n.failed(err);
        n.sent(&reply);
    });
    log_refusal(issuer, err);
    oauth_error(reply)
}

/// OpenID Connect Core §5.3: UserInfo, with the token in the header, form or query.
pub async fn userinfo(at: ClientCall<'_>, payload: web::Payload) -> HttpResponse {
    let ClientCall {
        engine,
        issuer,
        req,
    } = at;
    let params = match bearer_params(issuer, req, payload).await {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    protected(
        issuer,
        req,
        extract::bearer_token(req, &params),
        "no-store",
        |token| engine.userinfo(issuer, token),
    )
}

/// Keycloak's account REST API: the token's user profile; 401 with a Bearer challenge without
/// a token or with a bad one (AccountLoader refuses before AccountRestService runs).
pub fn account(engine: &Engine, issuer: &Issuer, req: &HttpRequest) -> HttpResponse {
    let token = extract::bearer_token(req, &crate::engine::Params::default());
    protected(issuer, req, token, "no-cache", |token| {
        engine.account_profile(issuer, token)
    })
}

/// RFC 6750: a JSON answer about a bearer token's user, or the refusal of a missing or bad
/// token.
fn protected(
    issuer: &Issuer,
    req: &HttpRequest,
    token: Option<String>,
    cache_control: &'static str,
    answer: impl FnOnce(&str) -> Result<crate::jwt::Object, OAuthError>,
) -> HttpResponse {
    let Some(token) = token else {
        let err =
            OAuthError::invalid_token("Missing access token: send Authorization: Bearer <token>");
        return oauth_error(dialect::bearer_error(&err, issuer, false));
    };
    match answer(&token) {
        Ok(body) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, cache_control))
            .json(body),
        Err(err) => {
            journal::note(req, |n| n.failed(&err));
            log_refusal(issuer, &err);
            oauth_error(dialect::bearer_error(&err, issuer, true))
        }
    }
}

/// Logs why a request was refused. Descriptions never contain secrets, codes or tokens.
fn log_refusal(issuer: &Issuer, err: &OAuthError) {
    if err.code == ErrorCode::ServerError {
        tracing::error!(issuer = issuer.name(), error = %err, "request failed");
    } else {
        tracing::info!(issuer = issuer.name(), error = %err, "request refused");
    }
}
