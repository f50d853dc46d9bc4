//! Start to first answer, `RUNS` times each, alternating: mockidp's embedded server (default
//! fixtures, discovery answered) and wiremock-rs's `MockServer` (one mock answered). Prints the
//! medians and p90s in milliseconds as a markdown table.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// One plain HTTP/1.1 GET on loopback; the status code.
fn get(addr: std::net::SocketAddr, path: &str) -> u16 {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else {
        return 0;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
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
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
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
    }
    let (m50, m90) = stats(ours);
    let (w50, w90) = stats(theirs);
    println!("| start to first answer ({runs} runs each, alternating) | median ms | p90 ms |");
    println!("|---|---|---|");
    println!("| `mockidp::MockIdp::start()` (default fixtures, discovery) | {m50:.2} | {m90:.2} |");
    println!("| `wiremock::MockServer::start()` (one mock mounted) | {w50:.2} | {w90:.2} |");
}
