//! Secrets never reach the logs. A global subscriber captures every thread's events (the server
//! runs on its own thread), so this test sees what an operator would.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use crate::util::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .init();
        captured
    })
}

fn text_has_password_refusal(logs: &Captured) -> bool {
    String::from_utf8_lossy(&logs.0.lock().unwrap()).contains("password grant refused")
}

#[tokio::test]
async fn secrets_never_appear_in_logs() {
    let logs = capture();
    let idp = start().await;
    let iopole = idp.issuer_url("iopole").unwrap();
    let url = format!("{iopole}/protocol/openid-connect/token");
    let marker = "Sup3r-Secret-Marker-9f81";
    let attempts: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", "clientId"),
            ("client_secret", "clientSecret"),
        ],
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", "clientId"),
            ("client_secret", marker),
        ],
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", "nobody"),
            ("client_secret", marker),
        ],
        vec![
            ("grant_type", "password"),
            ("client_id", "clientId"),
            ("username", "alice"),
            ("password", marker),
        ],
        // A wrong password reaches the user check (and its log line), then a right one.
        vec![
            ("grant_type", "password"),
            ("client_id", "iopole-web"),
            ("client_secret", "iopole-web-secret"),
            ("username", "alice"),
            ("password", marker),
        ],
        vec![
            ("grant_type", "password"),
            ("client_id", "iopole-web"),
            ("client_secret", "iopole-web-secret"),
            ("username", "bob"),
            ("password", marker),
        ],
        vec![
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", marker),
        ],
    ];
    let mut tokens = Vec::new();
    for form in &attempts {
        let (_, body) = status_json(post_form(&url, form).await).await;
        if let Some(t) = body["access_token"].as_str() {
            tokens.push(t.to_string());
        }
    }
    let (_, body) = cc_basic(&url, "clientId", marker).await;
    assert_eq!(body["error"], "unauthorized_client");
    assert_eq!(
        tokens.len(),
        2,
        "client credentials, and bob (no password in the fixtures)"
    );
    assert!(
        text_has_password_refusal(logs),
        "the password refusal is logged"
    );
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("tokens issued"), "the capture works: {text}");
    assert!(
        text.contains("request refused"),
        "refusals are logged: {text}"
    );
    assert!(
        !text.contains(marker),
        "a secret leaked into the logs:\n{text}"
    );
    assert!(
        !text.contains("clientSecret"),
        "a client secret leaked into the logs"
    );
    assert!(
        !text.contains(&tokens[0][tokens[0].len() - 40..]),
        "a token leaked into the logs"
    );
}

/// `--log-format json` (or `MOCKIDP_LOG_FORMAT=json`): every line on stderr is one JSON object
/// with level, target and fields, refusals included; `RUST_LOG` still chooses what is logged.
#[tokio::test]
async fn json_log_format_writes_one_object_a_line() {
    use std::io::{BufRead as _, BufReader};
    use std::process::{Command, Stdio};
    for (args, env) in [(vec!["--log-format", "json"], None), (vec![], Some("json"))] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mockidp"));
        cmd.args(["--port", "0"])
            .args(&args)
            .env("RUST_LOG", "mockidp=info")
            .env_remove("MOCKIDP_LOG_FORMAT")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(format) = env {
            cmd.env("MOCKIDP_LOG_FORMAT", format);
        }
        let mut child = cmd.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut banner = String::new();
        while stdout.read_line(&mut banner).unwrap() > 0 && !banner.ends_with("ready\n") {}
        let base = banner
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap()
            .to_string();
        let (status, _) = status_json(
            post_form(
                &format!("{base}/token/"),
                &[("grant_type", "client_credentials")],
            )
            .await,
        )
        .await;
        assert_eq!(status, 401);
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        let lines: Vec<serde_json::Value> = err
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
            .collect();
        let refusal = lines
            .iter()
            .find(|l| l["fields"]["message"] == "request refused")
            .unwrap_or_else(|| panic!("no refusal logged ({args:?} {env:?}):\n{err}"));
        assert_eq!(refusal["level"], "INFO", "{refusal}");
        assert_eq!(refusal["fields"]["issuer"], "generic", "{refusal}");
        assert!(
            lines.iter().all(|l| l["target"]
                .as_str()
                .is_some_and(|t| t.starts_with("mockidp"))),
            "RUST_LOG=mockidp=info keeps other crates out:\n{err}"
        );
    }
}

/// A 60 KB `grant_type` wrapped in quotes (the generic seed's mistake, blown up) comes back
/// clipped on every dialect, in the error body and in the log line of the refusal.
#[tokio::test]
async fn a_huge_quoted_grant_type_is_clipped_in_bodies_and_logs() {
    let logs = capture();
    let idp = start().await;
    let filler = "Zq".repeat(30_000);
    let quoted = format!("\"{filler}\"");
    for issuer in ["iopole", "inqom", "generic"] {
        let base = idp.issuer_url(issuer).unwrap();
        let url = match issuer {
            "iopole" => format!("{base}/protocol/openid-connect/token"),
            "inqom" => format!("{base}/connect/token"),
            _ => format!("{base}/token/"),
        };
        let resp = post_form(&url, &[("grant_type", &quoted), ("client_id", "x")]).await;
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        assert!((400..500).contains(&status), "{issuer}: {status}");
        assert!(
            text.contains("quotes"),
            "{issuer}: {}",
            &text[..200.min(text.len())]
        );
        assert!(
            text.len() < 2_000,
            "{issuer}: a {} byte error body",
            text.len()
        );
    }
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("Zq"), "the refusals are logged");
    assert!(
        !text.contains(&"Zq".repeat(500)),
        "a log line echoes the whole grant_type"
    );
}
