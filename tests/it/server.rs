//! Configuration, routing and issuer URLs; the `mockidp` binary itself.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::*;

/// The issuer URL follows the request's host and `X-Forwarded-*` unless `public_url` is set.
#[tokio::test]
async fn issuer_url_follows_forwarded_headers_or_public_url() {
    let idp = start_with(
        r#"
        [[issuer]]
        name = "kc"
        dialect = "keycloak"
        realm = "r1"
        [[issuer]]
        name = "fixed"
        dialect = "identityserver"
        public_url = "https://auth.example.test/identity"
        "#,
    )
    .await;
    // The realm's discovery document as a request with these headers sees it.
    let discovery = |headers: &'static [(&'static str, &'static str)]| {
        let mut get = http().get(format!(
            "{}/realms/r1/.well-known/openid-configuration",
            idp.url()
        ));
        for (name, value) in headers {
            get = get.header(*name, *value);
        }
        async move {
            get.send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let d = discovery(&[
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "idp.example.test"),
        ("X-Forwarded-Prefix", "/sso"),
    ])
    .await;
    assert_eq!(d["issuer"], "https://idp.example.test/sso/realms/r1");
    assert_eq!(
        d["token_endpoint"],
        "https://idp.example.test/sso/realms/r1/protocol/openid-connect/token"
    );
    // Forwarded values that make no URL are ignored, not pasted into links and forms.
    let d = discovery(&[
        ("X-Forwarded-Proto", "javascript"),
        ("X-Forwarded-Host", "evil.test/<x>"),
    ])
    .await;
    assert_eq!(d["issuer"], format!("{}/realms/r1", idp.url()));
    // ... the request's own Host stands, and the scheme's case does not matter.
    let d = discovery(&[
        ("Host", "idp.local:8180"),
        ("X-Forwarded-Proto", "HTTPS"),
        ("X-Forwarded-Host", "bad host"),
    ])
    .await;
    assert_eq!(d["issuer"], "https://idp.local:8180/realms/r1");
    let d = get_json(&format!(
        "{}/identity/.well-known/openid-configuration",
        idp.url()
    ))
    .await;
    assert_eq!(d["issuer"], "https://auth.example.test/identity");
    assert_eq!(
        idp.issuer_url("fixed").unwrap(),
        "https://auth.example.test/identity"
    );
}

/// The `issuer` of the discovery document at `url` as a request with `headers` sees it.
async fn issuer_seen(url: &str, headers: &[(&str, &str)]) -> serde_json::Value {
    let mut get = http().get(url);
    for (name, value) in headers {
        get = get.header(*name, *value);
    }
    let d: serde_json::Value = get.send().await.unwrap().json().await.unwrap();
    d["issuer"].clone()
}

/// With `trust_forwarded = false` (or `--no-forwarded-headers`) proxy headers change nothing:
/// the issuer URL follows the request's own Host.
#[tokio::test]
async fn forwarded_headers_can_be_ignored_entirely() {
    let proxy = [
        ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Host", "idp.example.test"),
        ("X-Forwarded-Prefix", "/sso"),
        ("Forwarded", "host=other.test;proto=https"),
    ];
    let idp = start_with(
        r#"
        trust_forwarded = false
        [[issuer]]
        name = "kc"
        dialect = "keycloak"
        realm = "r1"
        "#,
    )
    .await;
    let url = format!("{}/realms/r1/.well-known/openid-configuration", idp.url());
    assert_eq!(
        issuer_seen(&url, &proxy).await,
        format!("{}/realms/r1", idp.url())
    );
    // The flag does the same for the binary.
    let mut child = Command::new(env!("CARGO_BIN_EXE_mockidp"))
        .args(["--port", "0", "--no-forwarded-headers"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let banner: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(Result::unwrap)
        .take_while(|l| l != "ready")
        .collect();
    let base = banner
        .iter()
        .flat_map(|l| l.split_whitespace())
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();
    let seen = issuer_seen(&format!("{base}/.well-known/openid-configuration"), &proxy).await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(seen, base.trim_end_matches('/'));
}

/// `--help` documents every flag with its environment variable.
#[test]
fn help_lists_every_flag_and_its_env_var() {
    let out = Command::new(env!("CARGO_BIN_EXE_mockidp"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for (flag, env) in [
        ("--bind", "MOCKIDP_BIND"),
        ("--port", "MOCKIDP_PORT"),
        ("--config", "MOCKIDP_CONFIG"),
        ("--generate-keys", "MOCKIDP_GENERATE_KEYS"),
        ("--workers", "MOCKIDP_WORKERS"),
        ("--tls-cert", "MOCKIDP_TLS_CERT"),
        ("--tls-key", "MOCKIDP_TLS_KEY"),
        ("--admin-token", "MOCKIDP_ADMIN_TOKEN"),
        ("--log-format", "MOCKIDP_LOG_FORMAT"),
        ("--no-forwarded-headers", "MOCKIDP_NO_FORWARDED_HEADERS"),
    ] {
        assert!(
            help.contains(flag) && help.contains(env),
            "{flag}/{env} missing:\n{help}"
        );
    }
    let top = Command::new(env!("CARGO_BIN_EXE_mockidp"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(String::from_utf8(top.stdout).unwrap().contains("RUST_LOG"));
}

/// A broken fixture file stops start-up with a message naming the line.
#[test]
fn bad_fixture_file_is_reported_with_its_line() {
    let dir = std::env::temp_dir().join(format!("mockidp-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(&file, "[[issuer]]\nname = \"x\"\ndialect = \"okta\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mockidp"))
        .args(["--port", "0", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("line 3") && err.contains("bad.toml"), "{err}");
}

/// The binary prints every issuer and `ready`, serves, and stops promptly on SIGTERM.
#[tokio::test]
async fn binary_serves_default_fixtures_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mockidp"))
        .args(["--port", "0", "--generate-keys"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .map(Result::unwrap)
        .take_while(|l| l != "ready")
        .collect();
    let banner = lines.join("\n");
    let base = banner
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();
    for needle in [
        "/realms/iopole",
        "/identity",
        "clientId",
        "SandboxAuthorizationCode",
        "generic-public",
    ] {
        assert!(banner.contains(needle), "banner lacks {needle}:\n{banner}");
    }
    assert!(
        !banner.contains("clientSecret"),
        "the banner shows no secrets"
    );
    let (status, body) = status_json(
        post_form(
            &format!("{base}//realms/iopole/protocol/openid-connect/token"),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "clientId"),
                ("client_secret", "clientSecret"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // A generated key is in the JWKS and signs the tokens.
    verify_with_discovery(
        body["access_token"].as_str().unwrap(),
        &format!("{base}/realms/iopole"),
    )
    .await;
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(Instant::now() < deadline, "mockidp did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A front-channel URL (what the browser sees) differing from the back channel (what a
/// container sees): `iss` and browser endpoints use the former, the rest follow the request.
#[tokio::test]
async fn frontend_url_splits_front_and_back_channel() {
    let idp = start_with(
        r#"
        [[issuer]]
        name = "kc"
        dialect = "keycloak"
        realm = "r1"
        frontend_url = "http://localhost:18999/realms/r1"
        [[issuer.client]]
        id = "svc"
        secret = "s"
        grants = ["client_credentials"]
        "#,
    )
    .await;
    let back = format!("{}/realms/r1", idp.url());
    let d = get_json(&format!("{back}/.well-known/openid-configuration")).await;
    assert_eq!(d["issuer"], "http://localhost:18999/realms/r1");
    assert_eq!(
        d["authorization_endpoint"],
        "http://localhost:18999/realms/r1/protocol/openid-connect/auth"
    );
    assert_eq!(
        d["end_session_endpoint"],
        "http://localhost:18999/realms/r1/protocol/openid-connect/logout"
    );
    assert_eq!(
        d["token_endpoint"],
        format!("{back}/protocol/openid-connect/token")
    );
    assert_eq!(
        d["jwks_uri"],
        format!("{back}/protocol/openid-connect/certs")
    );
    let (status, body) = status_json(
        post_form(
            &format!("{back}/protocol/openid-connect/token"),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "svc"),
                ("client_secret", "s"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    // Verify with the back-channel JWKS, expecting the front-channel issuer.
    let jwks: jsonwebtoken::jwk::JwkSet =
        serde_json::from_value(get_json(d["jwks_uri"].as_str().unwrap()).await).unwrap();
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_issuer(&["http://localhost:18999/realms/r1"]);
    v.validate_aud = false;
    jsonwebtoken::decode::<serde_json::Value>(token, &key, &v)
        .expect("iss is the front-channel URL");
    // The server still recognises its own token (introspection through the back channel).
    let (_, info) = status_json(
        post_form(
            &format!("{back}/protocol/openid-connect/token/introspect"),
            &[
                ("client_id", "svc"),
                ("client_secret", "s"),
                ("token", token),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(
        idp.issuer_url("kc").unwrap(),
        "http://localhost:18999/realms/r1"
    );
}

/// HTTPS with the test certificate, checked by curl as a real TLS client.
#[tokio::test]
async fn https_with_a_certificate() {
    let dir = env!("CARGO_MANIFEST_DIR");
    let idp = start_tls().await;
    assert!(idp.url().starts_with("https://"));
    let port = idp.address().port();
    let url = format!("https://localhost:{port}/realms/iopole/protocol/openid-connect/token");
    let curl = |extra: &[&str]| {
        let mut cmd = Command::new("curl");
        cmd.args([
            "-sS",
            "--max-time",
            "10",
            "--cacert",
            &format!("{dir}/fixtures/tls/ca.crt"),
        ])
        .args(["--resolve", &format!("localhost:{port}:127.0.0.1")])
        .args(extra);
        cmd.output()
            .expect("curl is installed (.ci/run installs it)")
    };
    let out = curl(&[
        "-d",
        "grant_type=client_credentials&client_id=clientId&client_secret=clientSecret",
        &url,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(body["expires_in"], 600);
    let out = curl(&[&format!(
        "https://localhost:{port}/realms/iopole/.well-known/openid-configuration"
    )]);
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        d["issuer"],
        format!("https://localhost:{port}/realms/iopole")
    );
    // Without the CA, the certificate is not trusted: it is real TLS.
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "10",
            "--resolve",
            &format!("localhost:{port}:127.0.0.1"),
            &url,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// `mockidp token` prints a token from the fixture key that the server's JWKS verifies.
#[tokio::test]
async fn token_command_mints_offline() {
    let idp = start().await;
    let out = Command::new(env!("CARGO_BIN_EXE_mockidp"))
        .args([
            "token", "--issuer", "iopole", "--client", "clientId", "--user", "alice",
        ])
        .args([
            "--claim",
            "tenant=acme",
            "--claim",
            "level=3",
            "--ttl",
            "1h",
            "--url",
            &idp.url(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let (_, claims) = verify_with_discovery(&token, &idp.issuer_url("iopole").unwrap()).await;
    assert_eq!(claims["tenant"], "acme");
    assert_eq!(claims["level"], 3);
    assert_eq!(claims["preferred_username"], "alice");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        3600
    );
    let out = Command::new(env!("CARGO_BIN_EXE_mockidp"))
        .args(["token", "--issuer", "iopole", "--client", "nobody"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody"));
    let out = Command::new(env!("CARGO_BIN_EXE_mockidp"))
        .args([
            "token", "--issuer", "iopole", "--client", "clientId", "--ttl", "3 weeks",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success(), "bad durations are refused");
}

/// `mockidp check` names the line of the culprit.
#[test]
fn check_command_names_the_line() {
    let dir = std::env::temp_dir().join(format!("mockidp-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("fixtures.toml");
    std::fs::write(
        &file,
        "[[issuer]]\nname = \"a\"\ndialect = \"generic\"\n\n[[issuer.client]]\nid = \"c\"\ngrants = [\"magic\"]\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mockidp"))
        .arg("check")
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("fixtures.toml:7:") && err.contains("magic"),
        "{err}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_mockidp"))
        .args([
            "check",
            concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/default.toml"),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("OK (4 issuers")
    );
}

/// Listening beyond loopback with an open admin API is announced loudly.
#[test]
fn open_admin_api_on_a_public_address_warns() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mockidp"))
        .args(["--bind", "0.0.0.0", "--port", "0"])
        .env_remove("MOCKIDP_ADMIN_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 && !line.contains("ready") {}
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("admin API") && err.contains("--admin-token"),
        "{err}"
    );
}
