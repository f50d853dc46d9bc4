//! Request bodies of the admin API: bounded, and JSON only when declared so.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, dev, web};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{AdminError, bad_request};

/// Largest admin request body.
const MAX_BODY: usize = 256 * 1024;

/// The raw body, at most [`MAX_BODY`] bytes (else 400).
pub struct Body(pub web::Bytes);

impl FromRequest for Body {
    type Error = AdminError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AdminError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let req = req.clone();
        let payload = web::Payload::from_request(&req, payload);
        Box::pin(async move {
            let payload = payload
                .await
                .map_err(|_| bad_request("the request body could not be read".into()))?;
            crate::http::extract::read_body(&req, payload, MAX_BODY)
                .await
                .map(Body)
                .map_err(|e| bad_request(e.describe(MAX_BODY)))
        })
    }
}

/// A JSON object body read into `T` (see [`parse`]).
pub struct Json<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = AdminError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AdminError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let req = req.clone();
        let body = Body::from_request(&req, payload);
        Box::pin(async move {
            let Body(bytes) = body.await?;
            parse(declared_json(&req, &bytes)).map(Json)
        })
    }
}

/// The request body for parsing: `None` when one was sent without declaring JSON, which a
/// web page can do cross-site without a preflight, so it is refused when read.
pub fn declared_json<'a>(req: &HttpRequest, body: &'a [u8]) -> Option<&'a [u8]> {
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|c| c.to_str().ok())
        .is_some_and(|c| c.trim_start().starts_with("application/json"));
    (json || body.is_empty()).then_some(body)
}

/// `T` from a JSON body: 415 when the body was not declared JSON, 400 when it is not a JSON
/// object or not a `T`.
pub fn parse<T: DeserializeOwned>(body: Option<&[u8]>) -> Result<T, AdminError> {
    let body = body.ok_or_else(|| AdminError {
        status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
        error: "invalid_request",
        description: "send the admin API JSON with Content-Type: application/json".into(),
    })?;
    // Every body of this API is an object; serde would also read a struct from an array.
    let value: Value =
        serde_json::from_slice(body).map_err(|e| bad_request(format!("invalid JSON body: {e}")))?;
    if !value.is_object() {
        return Err(bad_request("the JSON body must be an object".into()));
    }
    T::deserialize(value).map_err(|e| bad_request(format!("invalid JSON body: {e}")))
}
