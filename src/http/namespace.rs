//! Scopes that serve a namespace (`/ns/{namespace}/...` of the admin APIs): the handlers are
//! the server's, taking `web::Data<Engine>`; this middleware makes that data the namespace's
//! engine for the rest of the request, and hides the `namespace` path parameter from them (they
//! read their own parameters by position too).

use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Extensions, ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use crate::engine::Engine;

/// The scope prefix naming the namespace; its `{namespace}` is the id.
pub const NAMESPACE_SCOPE: &str = "/ns/{namespace}";

/// Serves the request with the namespace's engine as its `web::Data<Engine>`, or answers 404
/// for a namespace that does not exist (any more).
pub async fn enter_namespace<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let id = req.match_info().get("namespace").unwrap_or("").to_string();
    enter(req, next, Some(id)).await
}

/// [`enter_namespace`] for a scope whose `{api_prefix}` may start with `ns/{id}/` (the
/// Keycloak admin API's one scope): the server's own engine without it.
pub async fn enter_prefixed_namespace<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let prefix = req.match_info().get("api_prefix").unwrap_or("");
    let id = prefix
        .strip_prefix("ns/")
        .and_then(|rest| rest.split('/').next())
        .map(str::to_string);
    enter(req, next, id).await
}

/// Serves the request with namespace `id`'s engine (`None`: the server's), the scope's path
/// parameters hidden from the handlers.
async fn enter<B: MessageBody>(
    mut req: ServiceRequest,
    next: Next<B>,
    id: Option<String>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let namespace = match id {
        None => None,
        Some(id) => {
            let found = req
                .app_data::<web::Data<Engine>>()
                .and_then(|server| server.namespaces.get(&id));
            match found {
                Some(namespace) => Some(namespace),
                None => {
                    let answer = super::unknown_namespace(&id);
                    return Ok(req.into_response(answer).map_into_right_body());
                }
            }
        }
    };
    // The scope's prefix stays consumed; its parameters go (handlers read theirs by position).
    let info = req.match_info_mut();
    let consumed = info.as_str().len() - info.unprocessed().len();
    info.reset();
    info.skip(u16::try_from(consumed).unwrap_or(u16::MAX));
    if let Some(namespace) = namespace {
        let mut data = Extensions::new();
        data.insert(web::Data::from(namespace));
        // Searched before the app's: handlers and extractors see the namespace's engine.
        req.add_data_container(Rc::new(data));
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}
