//! Scopes that serve the admin APIs of the server and of a namespace (`/_mockidp/ns/{id}/...`,
//! `/ns/{id}/admin/realms/...`): the handlers are the server's, taking `web::Data<Engine>`;
//! [`enter`] makes that data the namespace's engine for the rest of the request.
//!
//! Such a scope is mounted at `""` and finds its prefix in the path with a [`Find`] (its guard
//! and its middleware), not with an actix path pattern: a pattern with a parameter is a regex
//! that each worker compiles at start (~30 µs, twice: bench/README.md, "Stop 23") and that
//! every request to an issuer would run.

use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Extensions, ServiceRequest, ServiceResponse, Url};
use actix_web::guard::{Guard, GuardContext};
use actix_web::middleware::Next;
use actix_web::web;

use crate::engine::Engine;

/// A scope's prefix at the start of a path: its length, and the namespace it names.
#[derive(Debug, PartialEq)]
pub struct Prefix<'p> {
    pub len: usize,
    pub namespace: Option<&'p str>,
}

/// Finds a scope's prefix at the start of a path (below the scope's mount).
pub type Find = fn(&str) -> Option<Prefix<'_>>;

/// `/ns/{id}` at the start of `path`, followed by `/` or nothing: the id and the rest.
pub fn namespace_at(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/ns/")?;
    let id_len = rest.find('/').unwrap_or(rest.len());
    (id_len > 0).then(|| rest.split_at(id_len))
}

/// A namespace's prefix, `/ns/{id}`.
pub fn namespace_prefix(path: &str) -> Option<Prefix<'_>> {
    namespace_at(path).map(|(id, rest)| Prefix {
        len: path.len() - rest.len(),
        namespace: Some(id),
    })
}

/// The guard of a scope mounted at `""` in a scope at `mount` (`""` at the root): it admits
/// the paths whose prefix below `mount` `find` recognises.
pub fn found(mount: &'static str, find: Find) -> impl Guard {
    FoundGuard { mount, find }
}

struct FoundGuard {
    mount: &'static str,
    find: Find,
}

impl Guard for FoundGuard {
    fn check(&self, ctx: &GuardContext<'_>) -> bool {
        // Decoded as actix routes it (`/%61dmin/realms` is `/admin/realms`), so that the guard
        // and the middleware, which reads the routed path, see the same prefix.
        let uri = &ctx.head().uri;
        let url = uri.path().contains('%').then(|| Url::new(uri.clone()));
        let path = url.as_ref().map_or(uri.path(), Url::path);
        path.strip_prefix(self.mount).and_then(self.find).is_some()
    }
}

/// Consumes the prefix `find` recognises and serves the rest of the request with its
/// namespace's engine as `web::Data<Engine>` (the server's without one), or answers 404 for a
/// namespace that does not exist (any more).
pub async fn enter<B: MessageBody>(
    mut req: ServiceRequest,
    next: Next<B>,
    find: Find,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let info = req.match_info();
    let (len, id) = match find(info.unprocessed()) {
        Some(prefix) => (prefix.len, prefix.namespace.map(str::to_string)),
        None => (0, None),
    };
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
    // The prefix is consumed: the scope's routes match what follows it.
    req.match_info_mut()
        .skip(u16::try_from(len).unwrap_or(u16::MAX));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_namespace_prefix_is_a_whole_non_empty_segment() {
        let at = |p| namespace_prefix(p).map(|p| (p.len, p.namespace));
        assert_eq!(at("/ns/a1/clock"), Some((6, Some("a1"))));
        assert_eq!(at("/ns/a1"), Some((6, Some("a1"))));
        assert_eq!(at("/ns//clock"), None);
        assert_eq!(at("/nsx/a1"), None);
        assert_eq!(at("/clock"), None);
    }
}
