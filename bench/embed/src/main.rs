//! Start to first answer, `RUNS` times each, alternating: mockidp's embedded server (default
//! fixtures, discovery answered) and wiremock-rs's `MockServer` (one mock answered); the first
//! mockidp start of the process apart (it pays what is done once per process: AWS-LC's
//! entropy self-test when built with it, the default fixtures' parse); then where a start's
//! time goes (fixture parse, engine, server), and two floors: a one-route app served the way
//! mockidp serves now and the way it did. Prints the figures in milliseconds as markdown.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// One plain HTTP/1.1 GET on loopback; the status code.
fn get(addr: std::net::SocketAddr, path: &str) -> u16 {
    request(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
}

/// A client-credentials token from the default fixtures' Iopole realm; the status code.
fn token(addr: std::net::SocketAddr) -> u16 {
    let body = "grant_type=client_credentials&client_id=clientId&client_secret=clientSecret";
    request(
        addr,
        &format!(
            "POST /realms/iopole/protocol/openid-connect/token HTTP/1.1\r\nHost: {addr}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

/// Sends `req` on a new loopback connection; the status code of the answer (0 on failure).
fn request(addr: std::net::SocketAddr, req: &str) -> u16 {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else {
        return 0;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(req.as_bytes()).is_err() {
        return 0;
    }
    let mut head = [0u8; 12];
    if s.read_exact(&mut head).is_err() {
        return 0;
    }
    std::str::from_utf8(&head[9..12])
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn stats(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[(v.len() * 9 / 10).min(v.len() - 1)])
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(30);
    let (mut ours, mut theirs, mut kept) = (Vec::new(), Vec::new(), Vec::new());
    let t = Instant::now();
    let idp = mockidp::MockIdp::start().await.expect("mockidp starts");
    let status = get(idp.address(), "/realms/iopole/.well-known/openid-configuration");
    let first = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(status, 200);
    let t = Instant::now();
    let status = token(idp.address());
    let first_token = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(status, 200);
    let t = Instant::now();
    let status = token(idp.address());
    let second_token = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(status, 200);
    drop(idp);
    for _ in 0..runs {
        let t = Instant::now();
        let idp = mockidp::MockIdp::start().await.expect("mockidp starts");
        let status = get(idp.address(), "/realms/iopole/.well-known/openid-configuration");
        ours.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(status, 200);
        drop(idp);

        let t = Instant::now();
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::path("/x"))
            .respond_with(wiremock::ResponseTemplate::new(200))
            .mount(&server)
            .await;
        let status = get(*server.address(), "/x");
        theirs.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(status, 200);
        // Kept until the process exits: dropping a MockServer here hung (its Drop verifies
        // the mocks with a blocking wait on a lock), and a dropped one goes back to wiremock's
        // pool, so the next start would be a reuse rather than a start.
        kept.push(server);
    }
    let phases = phases(runs).await;
    let light = stats(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                let (addr, served) = bare_actix_http();
                assert_eq!(get(addr, "/x"), 200);
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                let _ = served.join();
                ms
            })
            .collect(),
    );
    let floors = [1, 2].map(|workers| {
        stats(
            (0..runs)
                .map(|_| {
                    let t = Instant::now();
                    let (addr, handle) = bare_actix(workers);
                    assert_eq!(get(addr, "/x"), 200);
                    let ms = t.elapsed().as_secs_f64() * 1000.0;
                    drop(handle.stop(false));
                    ms
                })
                .collect(),
        )
    });
    let (m50, m90) = stats(ours);
    let (w50, w90) = stats(theirs);
    println!("| start to first answer ({runs} runs each, alternating) | median ms | p90 ms |");
    println!("|---|---|---|");
    println!("| `mockidp::MockIdp::start()` (default fixtures, discovery) | {m50:.2} | {m90:.2} |");
    println!("| `wiremock::MockServer::start()` (one mock mounted; a new server each time, none dropped) | {w50:.2} | {w90:.2} |");
    println!("| ratio of the medians, mockidp / wiremock | {:.2} | |", m50 / w50);
    let (l50, l90) = light;
    println!("| the floor: the same app on actix-http, one thread of its own, as mockidp serves now | {l50:.2} | {l90:.2} |");
    for (workers, (p50, p90)) in [1, 2].iter().zip(floors) {
        println!("| actix-web's `HttpServer` with one route, {workers} worker(s), as mockidp served before | {p50:.2} | {p90:.2} |");
    }
    println!("| the process's first `MockIdp::start()` (before the runs above) | {first:.2} | |");
    println!("| ... then its first token (the process's first RSA signature) | {first_token:.2} | |");
    println!("| ... and its second token | {second_token:.2} | |");
    println!();
    println!("| where a `MockIdp::start()` goes ({runs} runs each) | median ms | p90 ms |");
    println!("|---|---|---|");
    for (what, times) in phases {
        let (p50, p90) = stats(times);
        println!("| {what} | {p50:.3} | {p90:.3} |");
    }
    // Without dropping the MockServers (see above).
    std::process::exit(0);
}

/// An actix-web `HttpServer` with one route and `workers` workers, started as `MockIdp` started
/// its own before it served through actix-http (its own thread and actix system, a loopback
/// listener bound beforehand); its address once it accepts connections.
fn bare_actix(workers: usize) -> (std::net::SocketAddr, actix_web::dev::ServerHandle) {
    use actix_web::{App, HttpResponse, HttpServer, web};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(|| {
                App::new().route("/x", web::get().to(|| async { HttpResponse::Ok().finish() }))
            })
            .workers(workers)
            .disable_signals()
            .shutdown_timeout(1)
            .listen(listener)
            .expect("listens")
            .run();
            let _ = tx.send(server.handle());
            let _ = server.await;
        });
    });
    (addr, rx.recv().expect("the server thread starts"))
}

/// The same app served as mockidp now serves its own (src/embedded.rs): actix-http on a thread
/// and actix system of its own, no `HttpServer`; it serves one connection, then its thread ends.
fn bare_actix_http() -> (std::net::SocketAddr, std::thread::JoinHandle<()>) {
    use actix_service::{Service, ServiceFactory};
    use actix_web::{App, HttpResponse, web};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.set_nonblocking(true).expect("non-blocking");
    let addr = listener.local_addr().expect("its address");
    let served = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let app = App::new().route("/x", web::get().to(|| async { HttpResponse::Ok().finish() }));
            let app = actix_service::map_config(app, |()| actix_web::dev::AppConfig::default());
            let factory = actix_http::HttpService::build().finish(app).tcp();
            let service = factory.new_service(()).await.expect("the service starts");
            let listener = actix_web::rt::net::TcpListener::from_std(listener).expect("a listener");
            if let Ok((stream, _)) = listener.accept().await {
                let _ = service.call(stream).await;
            }
        });
    });
    (addr, served)
}

/// Each step of a start on its own: the default fixtures parsed, an engine built from parsed
/// fixtures, a server started from parsed fixtures (to its return, then to its first answer).
async fn phases(runs: usize) -> Vec<(&'static str, Vec<f64>)> {
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
    let mut out: Vec<(&'static str, Vec<f64>)> = vec![
        ("`Config::default_fixtures()`", vec![]),
        ("`Server::new`, the engine (fixtures parsed beforehand)", vec![]),
        ("`builder().config(parsed).start()` to its return", vec![]),
        ("... then the first answer (discovery)", vec![]),
        ("dropping the `MockIdp`", vec![]),
    ];
    for _ in 0..runs {
        let t = Instant::now();
        let config = mockidp::Config::default_fixtures().expect("default fixtures");
        out[0].1.push(ms(t));
        let t = Instant::now();
        let engine = mockidp::Server::new(config.clone());
        out[1].1.push(ms(t));
        drop(engine);
        let t = Instant::now();
        let idp = mockidp::MockIdp::builder()
            .config(config)
            .start()
            .await
            .expect("mockidp starts");
        out[2].1.push(ms(t));
        let t = Instant::now();
        let status = get(idp.address(), "/realms/iopole/.well-known/openid-configuration");
        out[3].1.push(ms(t));
        assert_eq!(status, 200);
        let t = Instant::now();
        drop(idp);
        out[4].1.push(ms(t));
    }
    out
}
