//! Route tables that a worker builds on its first request to them, not when it starts. Actix
//! compiles every route's path pattern (a regex for each dynamic one) when a worker builds its
//! `App`, and the two admin APIs have ~130 of them: that was most of an embedded
//! `MockIdp::start()` (bench/README.md, "Embedding"), paid by every test that never calls
//! them. A table serves as a scope's default service; it matches as an actix scope does (the
//! first pattern whose route admits the method wins, in the order declared) and its handlers
//! take the same extractors.

use std::borrow::Cow;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use actix_web::dev::{ResourceDef, Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::{Error, FromRequest, Handler, HttpRequest, HttpResponse, Responder, Route, web};

/// The routes a table will hold, declared like actix's: `cfg.route(path, web::get().to(h))`,
/// or `cfg.at(path).get(h).post(h2)` for several methods on one path.
#[derive(Default)]
pub struct Routes {
    declared: Vec<(Cow<'static, str>, Route)>,
}

impl Routes {
    /// `route` (with its method guard) at `path`, relative to the scope.
    pub fn route(&mut self, path: impl Into<Cow<'static, str>>, route: Route) -> &mut Self {
        self.declared.push((path.into(), route));
        self
    }

    /// Several methods at one `path`.
    pub fn at(&mut self, path: &'static str) -> At<'_> {
        At { routes: self, path }
    }

    /// The routes of `declare`, for a scope's `default_service`. `wrong_method` answers a path
    /// that a pattern matches when none of its routes takes the method (it gets the pattern);
    /// `unknown` a path no pattern matches.
    pub fn lazy(declare: fn(&mut Routes), wrong_method: WrongMethod, unknown: Unknown) -> Lazy {
        Lazy(Rc::new(Table {
            declare,
            wrong_method,
            unknown,
            built: RefCell::new(None),
        }))
    }
}

/// One path's routes, method by method.
pub struct At<'r> {
    routes: &'r mut Routes,
    path: &'static str,
}

macro_rules! method {
    ($name:ident, $route:path) => {
        #[doc = concat!("`", stringify!($name), "` requests at this path go to `handler`.")]
        pub fn $name<F, Args>(self, handler: F) -> Self
        where
            F: Handler<Args>,
            Args: FromRequest + 'static,
            F::Output: Responder + 'static,
        {
            self.routes.route(self.path, $route().to(handler));
            self
        }
    };
}

impl At<'_> {
    method!(get, web::get);
    method!(post, web::post);
    method!(put, web::put);
    method!(delete, web::delete);
}

/// The answer to a known path asked with a method it does not take; given its pattern.
pub type WrongMethod = fn(&HttpRequest, &str) -> HttpResponse;
/// The answer to a path no pattern matches.
pub type Unknown = fn(&HttpRequest) -> HttpResponse;

/// A table's service factory: every worker's service shares its table (the worker's `App` is
/// built on that worker's thread, so the table is too).
#[derive(Clone)]
pub struct Lazy(Rc<Table>);

struct Table {
    declare: fn(&mut Routes),
    wrong_method: WrongMethod,
    unknown: Unknown,
    built: RefCell<Option<Rc<Built>>>,
}

/// A pattern and its routes' services, patterns in the order declared.
type Built = Vec<(Cow<'static, str>, ResourceDef, Vec<RouteService>)>;
type RouteService = <Route as ServiceFactory<ServiceRequest>>::Service;

impl Table {
    /// The built table; built now when this is the worker's first request to it.
    async fn built(&self) -> Result<Rc<Built>, Error> {
        if let Some(built) = self.built.borrow().as_ref() {
            return Ok(Rc::clone(built));
        }
        let mut routes = Routes::default();
        (self.declare)(&mut routes);
        let mut built: Built = Vec::new();
        for (path, route) in routes.declared {
            let service = route.new_service(()).await.map_err(|()| {
                actix_web::error::ErrorInternalServerError("a route failed to start")
            })?;
            match built.iter_mut().find(|(p, _, _)| *p == path) {
                Some((_, _, services)) => services.push(service),
                None => {
                    let pattern = ResourceDef::new(path.as_ref());
                    built.push((path, pattern, vec![service]));
                }
            }
        }
        let built = Rc::new(built);
        // Two first requests at once build it twice; either table is the same.
        *self.built.borrow_mut() = Some(Rc::clone(&built));
        Ok(built)
    }

    async fn call(&self, mut req: ServiceRequest) -> Result<ServiceResponse, Error> {
        let built = self.built().await?;
        let mut known = None;
        for (path, pattern, services) in built.iter() {
            if !pattern.is_match(req.match_info().unprocessed()) {
                continue;
            }
            if let Some(service) = services.iter().find(|s| s.check(&mut req)) {
                pattern.capture_match_info(&mut req);
                return service.call(req).await;
            }
            known = known.or(Some(path));
        }
        let (req, _) = req.into_parts();
        let resp = match known {
            Some(path) => (self.wrong_method)(&req, path),
            None => (self.unknown)(&req),
        };
        Ok(ServiceResponse::new(req, resp))
    }
}

impl ServiceFactory<ServiceRequest> for Lazy {
    type Response = ServiceResponse;
    type Error = Error;
    type Config = ();
    type Service = Lazy;
    type InitError = ();
    type Future = std::future::Ready<Result<Lazy, ()>>;

    fn new_service(&self, _: ()) -> Self::Future {
        std::future::ready(Ok(self.clone()))
    }
}

impl Service<ServiceRequest> for Lazy {
    type Response = ServiceResponse;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<ServiceResponse, Error>>>>;

    actix_web::dev::always_ready!();

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let table = Rc::clone(&self.0);
        Box::pin(async move { table.call(req).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{App, test};

    fn declare(cfg: &mut Routes) {
        cfg.at("/{realm}/users").get(|| async { "list" });
        cfg.route("/{realm}/users/count", web::get().to(|| async { "count" }))
            .route(
                "/{realm}/users/{id}",
                web::put().to(|p: web::Path<(String, String)>| async move {
                    format!("put {} in {}", p.1, p.0)
                }),
            );
    }

    fn wrong_method(_: &HttpRequest, path: &str) -> HttpResponse {
        HttpResponse::MethodNotAllowed().body(path.to_string())
    }

    fn unknown(req: &HttpRequest) -> HttpResponse {
        HttpResponse::NotFound().body(req.path().to_string())
    }

    #[actix_web::test]
    async fn a_table_routes_by_pattern_then_method_and_falls_through_in_order() {
        let app = test::init_service(App::new().service(
            web::scope("/admin").default_service(Routes::lazy(declare, wrong_method, unknown)),
        ))
        .await;
        let call = |method: actix_web::http::Method, uri: &'static str| {
            test::TestRequest::default()
                .method(method)
                .uri(uri)
                .to_request()
        };
        use actix_web::http::Method;
        let answers = [
            (call(Method::GET, "/admin/r/users"), 200, "list"),
            (call(Method::GET, "/admin/r/users/count"), 200, "count"),
            // `count` takes no PUT: the next pattern does, with its own parameters.
            (
                call(Method::PUT, "/admin/r/users/count"),
                200,
                "put count in r",
            ),
            (
                call(Method::DELETE, "/admin/r/users"),
                405,
                "/{realm}/users",
            ),
            (call(Method::GET, "/admin/r/groups"), 404, "/admin/r/groups"),
        ];
        for (req, status, body) in answers {
            let resp = test::call_service(&app, req).await;
            assert_eq!(resp.status().as_u16(), status);
            assert_eq!(test::read_body(resp).await, body.as_bytes());
        }
    }
}
