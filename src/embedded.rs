//! How an embedded [`MockIdp`](crate::MockIdp) serves HTTP: `workers` threads of its own, each
//! an actix system that accepts from the shared listener and serves its own `App` through
//! actix-http. Not actix-web's `HttpServer`, whose server thread, acceptor thread and hand-off
//! to each worker were most of what an embedded start cost once the routes were cheap
//! (bench/README.md, "Stop 23"); the binary keeps `HttpServer` (signals, graceful shutdown).

use std::future::{Future, poll_fn};
use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, mpsc};
use std::task::Poll;
use std::time::Duration;

use actix_web::App;
use actix_web::dev::{AppConfig, Service, ServiceFactory};
use actix_web::rt::net::TcpStream;
use tokio::sync::oneshot;

use crate::engine::Engine;
use crate::http;

/// How long the accept loop waits after a failed accept (out of file descriptors, say).
const PAUSE: Duration = Duration::from_millis(50);

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

/// Serving threads started before the engine is built, so that their own start (a thread, an
/// actix system: ~100 µs) runs while the caller builds it. Dropped unused, its threads end.
pub struct Starting {
    port: u16,
    workers: Vec<mpsc::Sender<Work>>,
}

/// What a serving thread needs once the engine exists.
struct Work {
    engine: Arc<Engine>,
    edge: Arc<http::Edge>,
    listener: TcpListener,
    tls: Option<rustls::ServerConfig>,
    own: Listener,
    stopped: oneshot::Receiver<()>,
}

/// Starts `workers` threads for the server that will listen on `port`.
pub fn start(port: u16, workers: usize) -> std::io::Result<Starting> {
    let mut senders = Vec::new();
    for worker in 0..workers.max(1) {
        let (send, work) = mpsc::channel::<Work>();
        std::thread::Builder::new()
            .name(format!("mockidp-{port}-{worker}"))
            .spawn(move || {
                let system = actix_web::rt::System::new();
                if let Ok(work) = work.recv() {
                    system.block_on(serve(work));
                }
            })?;
        senders.push(send);
    }
    Ok(Starting {
        port,
        workers: senders,
    })
}

impl Starting {
    /// Has the threads serve `engine` on `listener` (TLS with `tls`). Returns at once: the
    /// listener is bound, so connections wait in its backlog until a thread accepts them.
    pub fn serve(
        self,
        engine: Arc<Engine>,
        edge: Arc<http::Edge>,
        listener: TcpListener,
        tls: Option<rustls::ServerConfig>,
    ) -> std::io::Result<Running> {
        listener.set_nonblocking(true)?;
        let own = Listener {
            secure: tls.is_some(),
            addr: listener.local_addr()?,
        };
        let mut stops = Vec::new();
        for worker in &self.workers {
            let (stop, stopped) = oneshot::channel();
            let work = Work {
                engine: engine.clone(),
                edge: edge.clone(),
                listener: listener.try_clone()?,
                tls: tls.clone(),
                own,
                stopped,
            };
            worker.send(work).map_err(|_| {
                std::io::Error::other(format!("a server thread of port {} died", self.port))
            })?;
            stops.push(stop);
        }
        Ok(Running { stops })
    }
}

/// One thread's serving, until told to stop.
async fn serve(work: Work) {
    let Work {
        engine,
        edge,
        listener,
        tls,
        own,
        stopped,
    } = work;
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
        // Accept only when the service is ready: the TLS acceptor caps handshakes in flight,
        // as it does under `HttpServer`.
        let next = poll_fn(|cx| {
            if Pin::new(&mut stopped).poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            match service.poll_ready(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(Err(e)) => Poll::Ready(Some(Err(std::io::Error::other(format!(
                    "the service is not ready: {e:?}"
                ))))),
                Poll::Ready(Ok(())) => listener.poll_accept(cx).map(Some),
            }
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
            // Out of file descriptors, say: wait rather than spin, unless told to stop.
            Some(Err(e)) => {
                tracing::warn!("accepting a connection failed: {e}");
                let mut pause = std::pin::pin!(actix_web::rt::time::sleep(PAUSE));
                let stop = poll_fn(|cx| {
                    if Pin::new(&mut stopped).poll(cx).is_ready() {
                        return Poll::Ready(true);
                    }
                    pause.as_mut().poll(cx).map(|()| false)
                });
                if stop.await {
                    return;
                }
            }
        }
    }
}
