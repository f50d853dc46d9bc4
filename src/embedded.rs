//! How an embedded [`MockIdp`](crate::MockIdp) serves HTTP: `workers` threads of its own, each
//! an actix system that accepts from the shared listener and serves its own `App` through
//! actix-http. Not actix-web's `HttpServer`, whose server thread, acceptor thread and hand-off
//! to each worker were most of what an embedded start cost once the routes were cheap
//! (bench/README.md, "Stop 23"); the binary keeps `HttpServer` (signals, graceful shutdown).

use std::future::{Future, poll_fn};
use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use actix_web::App;
use actix_web::dev::{AppConfig, Service, ServiceFactory};
use actix_web::rt::net::TcpStream;
use tokio::sync::oneshot;

use crate::engine::Engine;
use crate::http;

/// What a connection's data says about where it arrived, for `HttpRequest::conn_data`: an app
/// served without `HttpServer` has a default `AppConfig`, which knows neither.
#[derive(Debug, Clone, Copy)]
pub struct Listener {
    pub secure: bool,
    pub addr: SocketAddr,
}

/// The serving threads; dropping it stops them (open connections are dropped, as
/// `HttpServer`'s non-graceful stop does).
pub struct Running {
    stops: Vec<oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
    }
}

/// Starts `workers` threads serving `engine` on `listener` (TLS with `tls`). Returns at once:
/// the listener is bound, so connections wait in its backlog until a thread accepts them.
pub fn serve(
    engine: Arc<Engine>,
    edge: Arc<http::Edge>,
    listener: TcpListener,
    workers: usize,
    tls: Option<rustls::ServerConfig>,
) -> std::io::Result<Running> {
    listener.set_nonblocking(true)?;
    let own = Listener {
        secure: tls.is_some(),
        addr: listener.local_addr()?,
    };
    let mut stops = Vec::new();
    for worker in 0..workers.max(1) {
        let (stop, stopped) = oneshot::channel();
        let listener = listener.try_clone()?;
        let (engine, edge, tls) = (engine.clone(), edge.clone(), tls.clone());
        std::thread::Builder::new()
            .name(format!("mockidp-{}-{worker}", own.addr.port()))
            .spawn(move || {
                actix_web::rt::System::new().block_on(async move {
                    let app = App::new().configure(http::configure(engine, edge));
                    let app = actix_service::map_config(app, |()| AppConfig::default());
                    match tls {
                        Some(tls) => {
                            let service = actix_http::HttpService::build()
                                .on_connect_ext(move |_, data| _ = data.insert(own))
                                .finish(app)
                                .rustls_0_23(tls);
                            accept(listener, service, stopped).await;
                        }
                        None => {
                            let service = actix_http::HttpService::build()
                                .on_connect_ext(move |_, data| _ = data.insert(own))
                                .finish(app)
                                .tcp();
                            accept(listener, service, stopped).await;
                        }
                    }
                });
            })?;
        stops.push(stop);
    }
    Ok(Running { stops })
}

/// Accepts connections until told to stop, each served by `factory`'s service on this thread.
async fn accept<F>(listener: TcpListener, factory: F, mut stopped: oneshot::Receiver<()>)
where
    F: ServiceFactory<TcpStream, Config = (), Response = ()>,
    F::Error: std::fmt::Debug,
    F::Service: 'static,
{
    let (Ok(service), Ok(listener)) = (
        factory.new_service(()).await,
        actix_web::rt::net::TcpListener::from_std(listener),
    ) else {
        tracing::error!("the embedded server could not start serving");
        return;
    };
    let service = Rc::new(service);
    loop {
        let next = poll_fn(|cx| {
            if Pin::new(&mut stopped).poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            listener.poll_accept(cx).map(Some)
        });
        match next.await {
            None => return,
            Some(Ok((stream, _))) => {
                let service = service.clone();
                actix_web::rt::spawn(async move {
                    if let Err(e) = service.call(stream).await {
                        tracing::debug!("connection ended: {e:?}");
                    }
                });
            }
            // Out of file descriptors, say: wait rather than spin.
            Some(Err(e)) => {
                tracing::warn!("accepting a connection failed: {e}");
                actix_web::rt::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
