//! Failures queued through the admin API: a delay, an error answer, or a dropped connection,
//! for the next calls of an endpoint.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};
use serde_json::json;

use crate::engine::Engine;

/// Longest delay honoured, so a mistaken rule cannot hang a test run.
const MAX_DELAY_MS: u64 = 120_000;

/// Applies the next failure queued for `endpoint` of `issuer`: `None` means answer normally
/// (possibly after a delay).
pub async fn inject(
    engine: &Engine,
    req: &HttpRequest,
    issuer: &str,
    endpoint: &str,
) -> Option<HttpResponse> {
    let f = engine.control.take_failure(issuer, endpoint)?;
    super::journal::note(req, |n| n.injected(f.drop));
    tracing::info!(issuer, endpoint, status = ?f.status, delay_ms = f.delay_ms, drop = f.drop, "injecting a failure on request");
    if f.delay_ms > 0 {
        actix_web::rt::time::sleep(Duration::from_millis(f.delay_ms.min(MAX_DELAY_MS))).await;
    }
    if f.drop {
        return Some(HttpResponse::Ok().streaming(Broken));
    }
    let status = StatusCode::from_u16(f.status?).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let error = f.error.unwrap_or_else(|| "temporarily_unavailable".into());
    let description = f
        .error_description
        .unwrap_or_else(|| "failure injected through the mockidp admin API".into());
    Some(
        HttpResponse::build(status)
            .insert_header(("Cache-Control", "no-store"))
            .json(json!({"error": error, "error_description": description})),
    )
}

/// A body that fails at once: the connection is cut before a complete answer.
struct Broken;

impl futures_core::Stream for Broken {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "connection dropped on request (mockidp admin API)",
        ))))
    }
}
