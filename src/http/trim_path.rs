//! The admin APIs' path normalisation: runs of slashes collapse and trailing ones go, so that
//! `/_mockidp//clock/` is `/_mockidp/clock` and Keycloak's `/users/` is `/users` (RESTEasy
//! matches both). What actix's `NormalizePath::trim()` does, without its regex: that
//! middleware compiles one each time a server starts (~27 µs, bench/README.md, "Stop 23").

use std::borrow::Cow;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Uri;
use actix_web::http::uri::PathAndQuery;
use actix_web::middleware::Next;

/// `path` with runs of slashes collapsed and trailing slashes trimmed (`/` stays `/`).
pub fn trimmed(path: &str) -> Cow<'_, str> {
    let collapsed = super::normalize_path(path);
    let end = collapsed.trim_end_matches('/').len().max(1);
    match collapsed {
        Cow::Borrowed(p) => Cow::Borrowed(&p[..end.min(p.len())]),
        Cow::Owned(mut p) => {
            p.truncate(end);
            Cow::Owned(p)
        }
    }
}

/// Serves the request at its [`trimmed`] path. The prefix its scope matched has no doubled or
/// trailing slash before its end, so the position routing has reached stays valid.
pub async fn trim_path<B: MessageBody>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let path = req.path();
    let trimmed = trimmed(path);
    if !path.is_empty() && trimmed != path {
        let path = trimmed.into_owned();
        let uri = &req.head().uri;
        let path_and_query = match uri.query() {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        let mut parts = uri.clone().into_parts();
        if let Ok(pq) = PathAndQuery::try_from(path_and_query)
            && let Ok(uri) = Uri::from_parts({
                parts.path_and_query = Some(pq);
                parts
            })
        {
            req.match_info_mut().get_mut().update(&uri);
            req.head_mut().uri = uri;
        }
    }
    next.call(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slashes_collapse_and_trailing_ones_go() {
        for (path, want) in [
            ("/_mockidp/clock", "/_mockidp/clock"),
            ("/_mockidp/clock/", "/_mockidp/clock"),
            ("/_mockidp//clock//", "/_mockidp/clock"),
            ("/admin/realms/r/users/", "/admin/realms/r/users"),
            ("/", "/"),
            ("//", "/"),
        ] {
            assert_eq!(trimmed(path), want, "{path}");
        }
        assert!(matches!(trimmed("/a/b"), Cow::Borrowed(_)));
    }

    #[actix_web::test]
    async fn the_routes_see_the_trimmed_path_and_its_query() {
        use actix_web::{App, HttpRequest, test, web};
        let app = test::init_service(
            App::new().service(
                web::scope("/_mockidp")
                    .wrap(actix_web::middleware::from_fn(trim_path))
                    .route(
                        "/clock",
                        web::get().to(|req: HttpRequest| async move {
                            format!("{}?{}", req.path(), req.query_string())
                        }),
                    ),
            ),
        )
        .await;
        let req = test::TestRequest::get()
            .uri("/_mockidp//clock/?a=1")
            .to_request();
        let body = test::call_and_read_body(&app, req).await;
        assert_eq!(body, "/_mockidp/clock?a=1");
    }
}
