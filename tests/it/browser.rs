//! Browser login, end to end: a real headless Chromium, driven through chromedriver, logs in at
//! each dialect's authorization endpoint; the code it brings back is redeemed with reqwest.
//!
//! Each test starts its own chromedriver on a free port and opens fresh browser sessions (own
//! profile directory, so own cookies). Without `chromium` and `chromedriver` on the `PATH` a test
//! prints `SKIPPED: …` and passes, except when `CI` is set: then it fails.
//!
//! The WebDriver client is the small one below, speaking the W3C protocol over reqwest.
//! fantoccini needs a hyper-util connector, and hyper-util is no dependency of this crate.
//!
//! The redirect URIs point at `http://localhost:8080`, where nothing listens: the browser's last
//! navigation fails (`net::ERR_CONNECTION_REFUSED`), yet WebDriver's current URL still reports the
//! URL it was sent to, code and state included. Checked with Chromium 156.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::util::*;

/// How long any one wait may last: chromedriver's start, a page, a redirect.
const WAIT: Duration = Duration::from_secs(10);
/// The `redirect_uri` of every flow below: nothing listens there.
const APP: &str = "http://localhost:8080";
const CALLBACK: &str = "http://localhost:8080/callback";

// --- tests -------------------------------------------------------------------------------------

/// The harness alone, with no login involved: Chromium loads a mockidp page.
#[tokio::test]
async fn chromium_renders_a_mockidp_page() {
    let Some(chrome) = Chrome::launch().await else {
        return;
    };
    let idp = start().await;
    let issuer = idp.issuer_url("iopole").unwrap();
    let browser = chrome.session().await;
    browser
        .goto(&format!("{issuer}/.well-known/openid-configuration"))
        .await;
    let source = browser.source().await;
    assert!(
        source.contains(&format!(r#""issuer":"{issuer}""#)),
        "no issuer {issuer} {}",
        browser.describe().await
    );
}

/// keycloak-js's `init()` loads the realm's third-party cookie check in an iframe and waits
/// for its message ("supported" or "unsupported"); without it, init fails after 10 s.
#[tokio::test]
async fn keycloak_js_third_party_cookie_check_answers() {
    let Some(chrome) = Chrome::launch().await else {
        return;
    };
    let idp = start().await;
    let issuer = idp.issuer_url("iopole").unwrap();
    let browser = chrome.session().await;
    browser.goto(&issuer).await;
    browser
        .execute(&format!(
            r#"window.addEventListener("message", e => {{ window.checked = e.data; }});
               const f = document.createElement("iframe");
               f.src = "{issuer}/protocol/openid-connect/3p-cookies/step1.html";
               document.body.appendChild(f);"#
        ))
        .await;
    let started = Instant::now();
    let mut answer = Value::Null;
    while answer.is_null() && started.elapsed() < WAIT {
        tokio::time::sleep(Duration::from_millis(50)).await;
        answer = browser.execute("return window.checked || null;").await;
    }
    assert_eq!(answer, "supported", "{}", browser.describe().await);
}

/// keycloak-js's session status iframe (`updateToken()` waits for its answer): `unchanged`
/// for the browser's session, `changed` for another, `error` for a client it was not set up
/// for; after logout the session is `changed`.
#[tokio::test]
async fn keycloak_js_session_status_iframe_answers() {
    let Some(chrome) = Chrome::launch().await else {
        return;
    };
    // The test page is served by mockidp itself: let any origin embed the iframe.
    let idp = start_with(&mockidp::config::DEFAULT_FIXTURES.replacen(
        "dialect = \"keycloak\"",
        "dialect = \"keycloak\"\nallowed_origins = [\"*\"]",
        1,
    ))
    .await;
    let issuer = idp.issuer_url("iopole").unwrap();
    let browser = chrome.session().await;
    browser
        .goto(&format!(
            "{issuer}/protocol/openid-connect/auth?{}",
            encode(&[
                ("response_type", "code"),
                ("client_id", "iopole-web"),
                ("redirect_uri", CALLBACK),
                ("scope", "openid"),
            ])
        ))
        .await;
    browser.log_in("alice", "alice").await;
    let redirect = browser.wait_for_redirect(CALLBACK).await;
    let code = param(&query_pairs(&redirect), "code")
        .expect("code")
        .to_string();
    let (status, body) = redeem_iopole_web(&issuer, &code, CALLBACK).await;
    assert_eq!(status, 200, "{body}");
    let (_, claims) = verify_with_discovery(body["access_token"].as_str().unwrap(), &issuer).await;
    let sid = claims["sid"].as_str().expect("sid").to_string();

    // On a page of the realm, the status iframe gets asked about `sid` once it loads.
    let open_status_frame = || async {
        browser.goto(&issuer).await;
        browser
            .execute(&format!(
                r#"window.answers = [];
                   window.addEventListener("message", e => window.answers.push(e.data));
                   const f = document.createElement("iframe");
                   f.onload = () => f.contentWindow.postMessage("iopole-web {sid}", "*");
                   f.src = "{issuer}/protocol/openid-connect/login-status-iframe.html";
                   document.body.appendChild(f);
                   window.statusFrame = f;"#
            ))
            .await;
    };
    open_status_frame().await;
    let answer = |n: usize| {
        let browser = &browser;
        async move {
            let started = Instant::now();
            loop {
                let v = browser
                    .execute(&format!("return window.answers[{n}] || null;"))
                    .await;
                if !v.is_null() || started.elapsed() > WAIT {
                    return v;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    assert_eq!(answer(0).await, "unchanged", "{}", browser.describe().await);
    let ask = |msg: String| {
        let script =
            format!("window.statusFrame.contentWindow.postMessage({msg:?}, \"*\"); return null;");
        let browser = &browser;
        async move { browser.execute(&script).await }
    };
    ask("iopole-web another-session".into()).await;
    assert_eq!(answer(1).await, "changed");
    ask(format!("someone-else {sid}")).await;
    assert_eq!(answer(2).await, "error");
    // Logged out: the session the token names is gone.
    browser
        .goto(&format!("{issuer}/protocol/openid-connect/logout"))
        .await;
    open_status_frame().await;
    assert_eq!(answer(0).await, "changed", "{}", browser.describe().await);
}

/// Inqom's documented authorize URL, the login form, the seed's token request, then the SSO
/// session seen from a second tab, and not from a second browser.
#[tokio::test]
async fn inqom_seed_flow_with_sso_home() {
    let Some(chrome) = Chrome::launch().await else {
        return;
    };
    let idp = start().await;
    let base = idp.url();
    let issuer = idp.issuer_url("inqom").unwrap();
    let browser = chrome.session().await;

    browser
        .goto(&format!(
            "{base}/identity/connect/authorize?response_type=code&client_id=SandboxAuthorizationCode\
             &redirect_uri=http%3A%2F%2Flocalhost%3A8080\
             &scope=openid%20email%20offline_access%20apidata%20accountingdocumentsapi\
             &state=state245135413"
        ))
        .await;
    browser.wait_for("form.login").await;
    browser
        .find("form.login [name=username]")
        .await
        .send_keys("alice")
        .await;
    browser
        .find("form.login [name=password]")
        .await
        .send_keys("alice")
        .await;
    browser
        .find("form.login button.primary")
        .await
        .click()
        .await;

    let redirect = browser.wait_for_redirect(APP).await;
    assert!(
        redirect.starts_with("http://localhost:8080/?code=")
            || redirect.starts_with("http://localhost:8080?code="),
        "{redirect}"
    );
    let query = query_pairs(&redirect);
    assert_eq!(
        query.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["code", "state"],
        "exactly ?code=…&state=…: {redirect}"
    );
    assert_eq!(query[1].1, "state245135413");
    let code = &query[0].1;
    assert!(!code.is_empty());

    // The seed's curl, field for field.
    let resp = post_form(
        &format!("{base}/identity/connect/token"),
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "SandboxAuthorizationCode"),
            ("client_secret", "C8hXEbmW23vNpoV7Zi13"),
            ("code", code),
            ("redirect_uri", "http://localhost:8080"),
        ],
    )
    .await;
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string(), "{body}");
    assert_eq!(body["expires_in"], 31104000, "{body}");
    assert_eq!(body["token_type"], "Bearer", "{body}");
    assert!(body["refresh_token"].is_string(), "{body}");
    assert!(
        body.get("scope").is_none(),
        "IdentityServer3 sends no scope: {body}"
    );
    let id_token = body["id_token"].as_str().expect("id_token");
    let (_, claims) = verify_with_discovery(id_token, &issuer).await;
    assert_eq!(claims["aud"], "SandboxAuthorizationCode", "{claims}");
    assert!(
        !claims["sub"].as_str().unwrap_or_default().is_empty(),
        "{claims}"
    );
    assert_eq!(claims["email"], "alice@example.test", "{claims}");

    // Same browser, new tab: the SSO session is there.
    browser.new_tab().await;
    browser.goto(&format!("{base}/home")).await;
    browser.assert_signed_in_as("alice").await;

    // Another browser, no cookies: the login form.
    let stranger = chrome.session().await;
    stranger.goto(&format!("{base}/home")).await;
    stranger.wait_for("form.login").await;
}

/// Keycloak: log in by picking a listed user, redeem with HTTP Basic, then a second authorize
/// in the same browser goes straight back to the app.
#[tokio::test]
async fn keycloak_realm_flow_with_sso() {
    let Some(chrome) = Chrome::launch().await else {
        return;
    };
    let idp = start().await;
    let base = idp.url();
    let issuer = idp.issuer_url("iopole").unwrap();
    let authorize = |state: &str, nonce: &str| {
        format!(
            "{issuer}/protocol/openid-connect/auth?{}",
            encode(&[
                ("response_type", "code"),
                ("client_id", "iopole-web"),
                ("redirect_uri", CALLBACK),
                ("scope", "openid email profile"),
                ("state", state),
                ("nonce", nonce),
            ])
        )
    };
    let browser = chrome.session().await;

    let (state, nonce) = (random(), random());
    browser.goto(&authorize(&state, &nonce)).await;
    browser.wait_for("form.login").await;
    // Keycloak's own element ids, which browser tests written against Keycloak use.
    for id in ["#kc-form-login", "#username", "#password", "#kc-login"] {
        browser
            .find(&format!("form.login{id}, form.login {id}"))
            .await;
    }
    browser
        .find("form.login [name=password]")
        .await
        .send_keys("alice")
        .await;
    browser
        .find(r#"button[name="pick"][value="alice"]"#)
        .await
        .click()
        .await;

    let redirect = browser.wait_for_redirect(CALLBACK).await;
    let query = query_pairs(&redirect);
    assert_eq!(param(&query, "state"), Some(state.as_str()), "{redirect}");
    assert_eq!(param(&query, "iss"), Some(issuer.as_str()), "{redirect}");
    assert!(param(&query, "session_state").is_some(), "{redirect}");
    let code = param(&query, "code").expect("code").to_string();

    let (status, body) = redeem_iopole_web(&issuer, &code, CALLBACK).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string(), "{body}");
    assert!(body["refresh_token"].is_string(), "{body}");
    assert!(body["refresh_expires_in"].is_u64(), "{body}");
    assert!(body["session_state"].is_string(), "{body}");
    let id_token = body["id_token"].as_str().expect("id_token");
    let (_, claims) = verify_with_discovery(id_token, &issuer).await;
    assert_eq!(claims["nonce"], nonce.as_str(), "{claims}");
    assert_eq!(claims["preferred_username"], "alice", "{claims}");

    // SSO: the same browser is sent straight back, with a new code and no login form.
    let state2 = random();
    browser.goto(&authorize(&state2, &random())).await;
    let redirect = browser.wait_for_redirect(CALLBACK).await;
    let query = query_pairs(&redirect);
    assert_eq!(param(&query, "state"), Some(state2.as_str()), "{redirect}");
    let code2 = param(&query, "code").expect("code");
    assert_ne!(code2, code, "a new code for a new authorization");

    browser.new_tab().await;
    browser.goto(&format!("{base}/realms/iopole/account")).await;
    browser.assert_signed_in_as("alice").await;
}

/// Django OAuth Toolkit: a public client with S256 PKCE, redeemed without a secret like the
/// generic seed.
#[tokio::test]
async fn generic_public_client_with_pkce() {
    let Some(chrome) = Chrome::launch().await else {
        return;
    };
    let idp = start().await;
    let base = idp.url();
    let issuer = idp.issuer_url("generic").unwrap();
    let verifier = random();
    let challenge = URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ));
    let state = random();
    let browser = chrome.session().await;

    browser
        .goto(&format!(
            "{base}/authorize/?{}",
            encode(&[
                ("response_type", "code"),
                ("client_id", "generic-public"),
                ("redirect_uri", CALLBACK),
                ("scope", "openid email read"),
                ("state", &state),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ])
        ))
        .await;
    // Django's login form ids, as tests written against a DOT project use them.
    browser.find("form.login #id_username").await;
    browser.find("form.login #id_password").await;
    browser.log_in("alice", "alice").await;

    let redirect = browser.wait_for_redirect(CALLBACK).await;
    let query = query_pairs(&redirect);
    assert_eq!(param(&query, "state"), Some(state.as_str()), "{redirect}");
    let code = param(&query, "code").expect("code");

    let resp = post_form(
        &format!("{base}/token/"),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("client_id", "generic-public"),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["access_token"].is_string(), "{body}");
    assert!(body["refresh_token"].is_string(), "{body}");
    let mut scope: Vec<_> = body["scope"].as_str().expect("scope").split(' ').collect();
    scope.sort_unstable();
    assert_eq!(scope, ["email", "openid", "read"], "{body}");
    let id_token = body["id_token"].as_str().expect("id_token");
    let (_, claims) = verify_with_discovery(id_token, &issuer).await;
    assert_eq!(claims["aud"], "generic-public", "{claims}");

    browser.new_tab().await;
    browser.goto(&format!("{base}/accounts/profile/")).await;
    browser.assert_signed_in_as("alice").await;
}

/// The login page fits a 360 px wide phone screen; the screenshot is kept for a human to look at.
#[tokio::test]
async fn login_page_works_at_360px() {
    let Some(chrome) = Chrome::launch().await else {
        return;
    };
    let idp = start().await;
    let browser = chrome.session().await;
    browser
        .goto(&format!(
            "{}/identity/connect/authorize?response_type=code&client_id=SandboxAuthorizationCode\
             &redirect_uri=http%3A%2F%2Flocalhost%3A8080&scope=openid%20email&state=s",
            idp.url()
        ))
        .await;
    browser.wait_for("form.login").await;

    let png = browser.screenshot().await;
    let path = std::env::temp_dir().join("mockidp-login-360px.png");
    std::fs::write(&path, &png).unwrap();
    eprintln!("login page screenshot at 360 px: {}", path.display());
    assert_eq!(png_width(&png), 360, "the viewport is 360 px wide");

    let width = browser
        .execute("return document.documentElement.scrollWidth")
        .await;
    assert!(
        width.as_u64().unwrap() <= 360,
        "the login page overflows 360 px horizontally: scrollWidth {width}"
    );
}

// --- the device authorization grant (RFC 8628) -------------------------------------------------

/// The issue's whole device flow on Keycloak (realm `iopole`, public client `iopole-device`).
#[tokio::test]
async fn device_flow_keycloak() {
    device_flow(&KEYCLOAK_DEVICE).await;
}

/// The issue's whole device flow on IdentityServer3 (`/identity`, public client `inqom-device`).
#[tokio::test]
async fn device_flow_identityserver() {
    device_flow(&IDENTITYSERVER_DEVICE).await;
}

/// The issue's whole device flow on Django OAuth Toolkit (`/`, public client `generic-public`).
#[tokio::test]
async fn device_flow_generic() {
    device_flow(&GENERIC_DEVICE).await;
}

/// The user denies on the verification page: the page says so and the polling device gets
/// `access_denied`.
#[tokio::test]
async fn device_flow_denied() {
    let Some(chrome) = Chrome::launch().await else {
        return;
    };
    let dialect = &KEYCLOAK_DEVICE;
    let idp = start_with(&device_fixtures()).await;
    let base = idp.url();
    let codes = device_authorization(&base, dialect).await;
    let poller = spawn_poller(&base, dialect, &codes);

    let browser = chrome.session().await;
    browser
        .goto(str_field(&codes, "verification_uri_complete"))
        .await;
    browser.log_in("alice", "alice").await;
    browser.wait_for("#device").await;
    browser.find("#deny").await.click().await;
    browser.wait_for("#device-denied").await;

    let polled = poller.await.expect("the poller does not panic");
    assert_eq!(
        (polled.status, polled.body["error"].as_str()),
        (400, Some("access_denied")),
        "{polled:?}"
    );
}

/// The user opens `verification_uri` without the code, logs in, and types the code as people
/// do: lower case, no dash. The device still gets its token.
#[tokio::test]
async fn device_flow_user_code_typed_by_hand() {
    let Some(chrome) = Chrome::launch().await else {
        return;
    };
    let dialect = &GENERIC_DEVICE;
    let idp = start_with(&device_fixtures()).await;
    let base = idp.url();
    let codes = device_authorization(&base, dialect).await;
    let poller = spawn_poller(&base, dialect, &codes);

    let browser = chrome.session().await;
    browser.goto(str_field(&codes, "verification_uri")).await;
    browser.log_in("alice", "alice").await;
    browser.wait_for("#device").await;
    let field = browser.find("#user_code").await;
    assert_eq!(
        field.value().await,
        "",
        "no code in verification_uri, none prefilled"
    );
    let typed = str_field(&codes, "user_code")
        .replace('-', "")
        .to_lowercase();
    field.send_keys(&typed).await;
    browser.find("#approve").await.click().await;
    browser.wait_for("#device-approved").await;

    let polled = poller.await.expect("the poller does not panic");
    assert_eq!(polled.status, 200, "{polled:?}");
    let token = polled.body["access_token"].as_str().expect("access_token");
    assert_resource_sees_alice(&base, dialect, token).await;
}

/// The whole flow, as the issue puts it: the device asks for codes and polls the token endpoint
/// in the background while a headless Chromium opens `verification_uri_complete`, logs in as
/// alice and approves the prefilled code; the device's token then works at the issuer's
/// protected resource (raw, as the generic seed sends it) and at userinfo (as `Bearer`).
async fn device_flow(dialect: &DeviceDialect) {
    let Some(chrome) = Chrome::launch().await else {
        return;
    };
    let idp = start_with(&device_fixtures()).await;
    let base = idp.url();
    let issuer = idp.issuer_url(dialect.issuer).unwrap();
    let codes = device_authorization(&base, dialect).await;
    let user_code = str_field(&codes, "user_code");
    let poller = spawn_poller(&base, dialect, &codes);

    let browser = chrome.session().await;
    browser
        .goto(str_field(&codes, "verification_uri_complete"))
        .await;
    browser.log_in("alice", "alice").await;
    browser.wait_for("#device").await;
    assert_eq!(
        browser.find("#user_code").await.value().await,
        user_code,
        "the code of verification_uri_complete is prefilled"
    );
    browser.find("#approve").await.click().await;
    browser.wait_for("#device-approved").await;

    let polled = poller.await.expect("the poller does not panic");
    eprintln!(
        "{}: the device got its answer after {:?} ({} pending)",
        dialect.issuer, polled.elapsed, polled.pending
    );
    assert_eq!(polled.status, 200, "{polled:?}");
    assert!(
        polled.pending >= 1,
        "the device polled while the user was still deciding: {polled:?}"
    );
    assert_eq!(
        polled.slow_downs, 0,
        "a device polling every `interval` seconds is never told to slow down: {polled:?}"
    );
    let token = polled.body["access_token"].as_str().expect("access_token");
    let id_token = polled.body["id_token"]
        .as_str()
        .expect("openid asked: id_token");
    let (_, claims) = verify_with_discovery(id_token, &issuer).await;
    assert_eq!(claims["aud"], dialect.client, "{claims}");

    assert_resource_sees_alice(&base, dialect, token).await;

    let userinfo = format!("{base}{}", dialect.userinfo);
    let resp = http()
        .get(&userinfo)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let (status, info) = status_json(resp).await;
    assert_eq!(
        (status, info["email"].as_str()),
        (200, Some("alice@example.test")),
        "GET {userinfo}: {info}"
    );
}

// --- helpers for the device flow ---------------------------------------------------------------

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// How long the device polls before giving up.
const POLL_FOR: Duration = Duration::from_secs(30);

/// One dialect's device flow: its issuer (by name and by `dialect` in the fixtures), endpoints
/// as paths under the server's base URL, public client and protected resource.
struct DeviceDialect {
    issuer: &'static str,
    dialect: &'static str,
    device: &'static str,
    token: &'static str,
    userinfo: &'static str,
    /// Added to the issuer by [`device_fixtures`].
    resource: &'static str,
    client: &'static str,
}

const KEYCLOAK_DEVICE: DeviceDialect = DeviceDialect {
    issuer: "iopole",
    dialect: "keycloak",
    device: "/realms/iopole/protocol/openid-connect/auth/device",
    token: "/realms/iopole/protocol/openid-connect/token",
    userinfo: "/realms/iopole/protocol/openid-connect/userinfo",
    resource: "/realms/iopole/resource",
    client: "iopole-device",
};

const IDENTITYSERVER_DEVICE: DeviceDialect = DeviceDialect {
    issuer: "inqom",
    dialect: "identityserver",
    device: "/identity/connect/deviceauthorization",
    token: "/identity/connect/token",
    userinfo: "/identity/connect/userinfo",
    resource: "/identity/resource",
    client: "inqom-device",
};

const GENERIC_DEVICE: DeviceDialect = DeviceDialect {
    issuer: "generic",
    dialect: "generic",
    device: "/device-authorization/",
    token: "/token/",
    userinfo: "/userinfo/",
    resource: "/resource/",
    client: "generic-public",
};

/// The default fixtures, with on every issuer `device_interval = 1` (so that polling takes
/// seconds, not tens of seconds) and its dialect's protected resource from [`DeviceDialect`].
fn device_fixtures() -> String {
    let dialects = [&KEYCLOAK_DEVICE, &IDENTITYSERVER_DEVICE, &GENERIC_DEVICE];
    let resource_table = |path: &str| format!("[[issuer.resource]]\npath = \"{path}\"\n\n");
    let mut toml = String::new();
    // The resource of the current issuer, until a sub-table (or the next issuer) starts.
    let mut resource: Option<&str> = None;
    for line in mockidp::config::DEFAULT_FIXTURES.lines() {
        let code = line.trim_start();
        if code.starts_with('[')
            && let Some(path) = resource.take()
        {
            toml.push_str(&resource_table(path));
        }
        toml.push_str(line);
        toml.push('\n');
        if let Some(value) = code.strip_prefix("dialect")
            && let Some((_, value)) = value.split_once('=')
        {
            let name = value.split('"').nth(1).expect("dialect = \"…\"");
            let dialect = dialects
                .iter()
                .find(|d| d.dialect == name)
                .unwrap_or_else(|| panic!("no device test for dialect {name}"));
            toml.push_str("device_interval = 1\n");
            resource = Some(dialect.resource);
        }
    }
    if let Some(path) = resource {
        toml.push('\n');
        toml.push_str(&resource_table(path));
    }
    let config = mockidp::Config::from_toml(&toml)
        .unwrap_or_else(|e| panic!("device fixtures: {e}\n{toml}"));
    // The master realm (Keycloak's admin REST API) is a second Keycloak issuer.
    let products = config
        .issuers
        .iter()
        .filter(|i| !i.is_master_realm())
        .count();
    assert_eq!(products, dialects.len(), "{toml}");
    for issuer in &config.issuers {
        assert_eq!(issuer.device_interval, Some(1), "{}", issuer.name);
        assert_eq!(issuer.resources.len(), 1, "{}", issuer.name);
    }
    toml
}

/// POSTs the device authorization request (`scope=openid email`) and returns the codes.
async fn device_authorization(base: &str, dialect: &DeviceDialect) -> Value {
    let url = format!("{base}{}", dialect.device);
    let resp = post_form(
        &url,
        &[("client_id", dialect.client), ("scope", "openid email")],
    )
    .await;
    let (status, codes) = status_json(resp).await;
    assert_eq!(status, 200, "POST {url}: {codes}");
    assert_eq!(
        codes["interval"], 1,
        "device_interval = 1 in the fixtures: {codes}"
    );
    codes
}

/// A string field of a JSON object.
fn str_field<'a>(json: &'a Value, name: &str) -> &'a str {
    json[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {json}"))
}

/// How the device's polling ended.
#[derive(Debug)]
struct Polled {
    /// The last answer of the token endpoint.
    status: u16,
    body: Value,
    /// How many `authorization_pending` and `slow_down` answers came before it.
    pending: u32,
    slow_downs: u32,
    elapsed: Duration,
}

/// The device's side, in a background task: polls the token endpoint with the generic seed's
/// request every `interval` seconds (5 more after each `slow_down`) until an answer other than
/// `authorization_pending` or `slow_down`, for at most [`POLL_FOR`].
fn spawn_poller(
    base: &str,
    dialect: &DeviceDialect,
    codes: &Value,
) -> tokio::task::JoinHandle<Polled> {
    let url = format!("{base}{}", dialect.token);
    // The seed's body, byte for byte: not re-encoded by a form serializer.
    let body = format!(
        "client_id={}&device_code={}&grant_type={DEVICE_GRANT}",
        dialect.client,
        str_field(codes, "device_code")
    );
    let mut interval = codes["interval"].as_u64().expect("interval");
    let http = reqwest::Client::builder().timeout(WAIT).build().unwrap();
    tokio::spawn(async move {
        let start = Instant::now();
        let (mut pending, mut slow_downs) = (0, 0);
        loop {
            let resp = http
                .post(&url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body.clone())
                .send()
                .await
                .unwrap_or_else(|e| panic!("POST {url}: {e}"));
            let (status, body) = status_json(resp).await;
            match body["error"].as_str() {
                Some("authorization_pending") => pending += 1,
                Some("slow_down") => {
                    slow_downs += 1;
                    interval += 5;
                }
                _ => {
                    return Polled {
                        status,
                        body,
                        pending,
                        slow_downs,
                        elapsed: start.elapsed(),
                    };
                }
            }
            let wait = Duration::from_secs(interval);
            assert!(
                start.elapsed() + wait <= POLL_FOR,
                "still pending after {:?} ({pending} pending, {slow_downs} slow_down): {body}",
                start.elapsed()
            );
            tokio::time::sleep(wait).await;
        }
    })
}

/// The issuer's protected resource accepts `token` sent raw in `Authorization` (no `Bearer`,
/// as the generic seed sends it) and says the caller is alice.
async fn assert_resource_sees_alice(base: &str, dialect: &DeviceDialect, token: &str) {
    let url = format!("{base}{}", dialect.resource);
    let resp = http()
        .get(&url)
        .header("Authorization", token)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(
        (status, body["username"].as_str()),
        (200, Some("alice")),
        "GET {url} with the raw token: {body}"
    );
}

// --- helpers for the flows ---------------------------------------------------------------------

/// `application/x-www-form-urlencoded` pairs, as in a query string.
fn encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The decoded query pairs of a URL, in order.
fn query_pairs(url: &str) -> Vec<(String, String)> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// The value of the one parameter `name`.
fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    let mut values = pairs.iter().filter(|(k, _)| k == name);
    let value = values.next().map(|(_, v)| v.as_str());
    assert!(values.next().is_none(), "{name} twice in {pairs:?}");
    value
}

/// 32 random bytes, base64url: a state, a nonce or a PKCE verifier (43 characters).
fn random() -> String {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).unwrap();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The width in the IHDR chunk of a PNG.
fn png_width(png: &[u8]) -> u32 {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    u32::from_be_bytes(png[16..20].try_into().unwrap())
}

// --- the harness: chromedriver, browser sessions -----------------------------------------------

/// A chromedriver process on a free loopback port, killed on drop.
struct Chrome {
    driver: Child,
    port: u16,
    binary: PathBuf,
}

impl Chrome {
    /// Starts chromedriver, or returns `None` after a loud `SKIPPED` when Chromium or
    /// chromedriver is missing (a failure instead when `CI` is set).
    async fn launch() -> Option<Chrome> {
        let binary = find_program(&["chromium", "chromium-browser"]);
        let driver = find_program(&["chromedriver"]);
        let (Some(binary), Some(driver)) = (binary, driver) else {
            let why = "chromium or chromedriver is not on the PATH \
                       (Debian: apt-get install chromium chromium-driver)";
            let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
            assert!(!in_ci, "browser tests cannot run in CI: {why}");
            // Straight to stderr: `eprintln!` would be captured, and hidden, by the test harness.
            let _ = writeln!(
                std::io::stderr(),
                "\n********** SKIPPED: browser test: {why} **********\n"
            );
            return None;
        };
        let port = free_port();
        let mut driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let status = format!("http://127.0.0.1:{port}/status");
        let client = webdriver_http();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(resp) = client.get(&status).send().await
                && let Ok(body) = resp.json::<Value>().await
                && body["value"]["ready"] == true
            {
                break;
            }
            if let Some(exit) = driver.try_wait().unwrap() {
                panic!("chromedriver --port={port} exited: {exit}");
            }
            if Instant::now() > deadline {
                let _ = driver.kill();
                let _ = driver.wait();
                panic!("chromedriver not ready on port {port} after {WAIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(Chrome {
            driver,
            port,
            binary,
        })
    }

    /// A new browser with an empty profile: no cookies, no history.
    async fn session(&self) -> Browser {
        let profile = temp_profile();
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "timeouts": { "pageLoad": WAIT.as_millis() as u64, "script": WAIT.as_millis() as u64 },
            "goog:chromeOptions": {
                "binary": self.binary,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-quic", "--window-size=360,800",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        }}});
        let http = webdriver_http();
        let resp = http
            .post(format!("http://127.0.0.1:{}/session", self.port))
            .json(&caps)
            .timeout(Duration::from_secs(30)) // Chromium's first start on a busy machine
            .send()
            .await
            .expect("chromedriver answers");
        let value = webdriver_value(resp).await.expect("a browser session");
        let id = value["sessionId"].as_str().expect("sessionId").to_string();
        let browser = Browser {
            http,
            port: self.port,
            session: format!("/session/{id}"),
            pid: value["capabilities"]["goog:processID"].as_u64(),
            profile,
        };
        // Headless Chromium starts at least 500 px wide whatever `--window-size` says; the
        // window can be narrowed afterwards.
        let size = json!({ "width": 360, "height": 800 });
        browser.must("POST", "/window/rect", Some(size)).await;
        browser
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// One browser (a WebDriver session), quit on drop. The methods panic on any WebDriver error.
struct Browser {
    http: reqwest::Client,
    port: u16,
    /// `/session/{id}`
    session: String,
    /// Chromium's process, killed on drop if chromedriver could not quit it.
    pid: Option<u64>,
    profile: PathBuf,
}

/// An element of the page, as a WebDriver element reference.
struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Browser {
    /// Sends a WebDriver command; `Err` carries WebDriver's error and message.
    async fn command(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("http://127.0.0.1:{}{}{path}", self.port, self.session);
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let resp = request.send().await.map_err(|e| format!("{url}: {e}"))?;
        webdriver_value(resp).await
    }

    /// [`Browser::command`] that panics on error.
    async fn must(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.command(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    /// Opens `url` and waits for the page to load. A failed navigation (such as the redirect to
    /// the app, where nothing listens) is not an error: see [`Browser::wait_for_redirect`].
    async fn goto(&self, url: &str) {
        match self
            .command("POST", "/url", Some(json!({ "url": url })))
            .await
        {
            Err(e) if e.contains("net::ERR_") => {}
            result => {
                result.unwrap_or_else(|e| panic!("opening {url}: {e}"));
            }
        }
    }

    /// The URL of the current tab, as WebDriver reports it (after a failed navigation: the URL
    /// that failed, not Chromium's error page).
    async fn current_url(&self) -> String {
        self.must("GET", "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Where the browser is and the text it shows (cut short), for failure messages.
    async fn describe(&self) -> String {
        let url = self.current_url().await;
        let text = self
            .execute("return document.body ? document.body.innerText : ''")
            .await;
        let text: String = text
            .as_str()
            .unwrap_or_default()
            .chars()
            .take(2000)
            .collect();
        format!("at {url}, showing:\n{text}")
    }

    /// The HTML of the page.
    async fn source(&self) -> String {
        self.must("GET", "/source", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Runs `script` in the page and returns its result.
    async fn execute(&self, script: &str) -> Value {
        self.must(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    /// A PNG of the viewport.
    async fn screenshot(&self) -> Vec<u8> {
        let b64 = self.must("GET", "/screenshot", None).await;
        STANDARD.decode(b64.as_str().unwrap()).unwrap()
    }

    /// Opens a new tab in this browser (same cookies) and switches to it.
    async fn new_tab(&self) {
        let tab = self
            .must("POST", "/window/new", Some(json!({ "type": "tab" })))
            .await;
        let handle = tab["handle"].clone();
        self.must("POST", "/window", Some(json!({ "handle": handle })))
            .await;
    }

    /// Every element matching a CSS selector, now.
    async fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        let found = self
            .must(
                "POST",
                "/elements",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|element| Element {
                browser: self,
                id: element_id(element),
            })
            .collect()
    }

    /// The element matching a CSS selector, now.
    async fn find(&self, css: &str) -> Element<'_> {
        match self.find_all(css).await.into_iter().next() {
            Some(element) => element,
            None => panic!("no {css} {}", self.describe().await),
        }
    }

    /// The element matching a CSS selector, polling for it up to [`WAIT`].
    async fn wait_for(&self, css: &str) -> Element<'_> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(element) = self.find_all(css).await.into_iter().next() {
                return element;
            }
            if Instant::now() > deadline {
                panic!("no {css} after {WAIT:?} {}", self.describe().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fills in the login form and submits it.
    async fn log_in(&self, username: &str, password: &str) {
        self.wait_for("form.login").await;
        self.find("form.login [name=username]")
            .await
            .send_keys(username)
            .await;
        self.find("form.login [name=password]")
            .await
            .send_keys(password)
            .await;
        self.find("form.login button.primary").await.click().await;
    }

    /// Waits up to [`WAIT`] for the browser to be sent to `redirect_uri` and returns the full
    /// URL, query included. Fails if the browser stays elsewhere, saying whether it shows the
    /// login form (no SSO session) or an error.
    async fn wait_for_redirect(&self, redirect_uri: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let url = self.current_url().await;
            if url.starts_with(redirect_uri) {
                return url;
            }
            if Instant::now() > deadline {
                let login = !self.find_all("form.login").await.is_empty();
                panic!(
                    "not redirected to {redirect_uri} after {WAIT:?} (login form shown: {login}) {}",
                    self.describe().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The page shows the SSO session of `username`, and no login form.
    async fn assert_signed_in_as(&self, username: &str) {
        let who = self.wait_for("#who").await.text().await;
        assert!(who.contains("Signed in as"), "#who: {who}");
        assert!(who.contains(username), "#who: {who}");
        assert!(
            self.find_all("form.login").await.is_empty(),
            "a login form next to the session of {username}"
        );
    }
}

impl Element<'_> {
    fn path(&self, what: &str) -> String {
        format!("/element/{}/{what}", self.id)
    }

    async fn send_keys(&self, text: &str) {
        self.browser
            .must("POST", &self.path("value"), Some(json!({ "text": text })))
            .await;
    }

    async fn click(&self) {
        self.browser
            .must("POST", &self.path("click"), Some(json!({})))
            .await;
    }

    async fn text(&self) -> String {
        let text = self.browser.must("GET", &self.path("text"), None).await;
        text.as_str().unwrap().to_string()
    }

    /// The current value of a form field (its `value` property, not the attribute).
    async fn value(&self) -> String {
        let value = self
            .browser
            .must("GET", &self.path("property/value"), None)
            .await;
        value.as_str().unwrap_or_default().to_string()
    }
}

impl Drop for Browser {
    /// Quits the browser (chromedriver's `DELETE /session`, synchronously: Chromium outlives a
    /// killed chromedriver), then removes its profile directory.
    fn drop(&mut self) {
        let quit = delete_blocking(self.port, &self.session);
        if quit.is_err()
            && let Some(pid) = self.pid
        {
            let _ = Command::new("kill")
                .arg(pid.to_string())
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// The HTTP client for chromedriver: loopback, no proxy, every request bounded.
fn webdriver_http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(WAIT + Duration::from_secs(5))
        .build()
        .unwrap()
}

/// The `value` of a WebDriver response, or its error and message.
async fn webdriver_value(resp: reqwest::Response) -> Result<Value, String> {
    let status = resp.status();
    let body: Value = resp.json().await.map_err(|e| e.to_string())?;
    let value = body.get("value").cloned().unwrap_or(Value::Null);
    if status.is_success() {
        Ok(value)
    } else {
        Err(format!("{status} {}: {}", value["error"], value["message"]))
    }
}

/// The id in a WebDriver element reference.
fn element_id(reference: &Value) -> String {
    reference["element-6066-11e4-a52e-4f735466cecf"]
        .as_str()
        .expect("an element reference")
        .to_string()
}

/// `DELETE path` to chromedriver, without an async runtime (for `Drop`). Chromedriver answers
/// once the browser has quit, but keeps the connection open: only the status line is read.
fn delete_blocking(port: u16, path: &str) -> std::io::Result<()> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_write_timeout(Some(WAIT))?;
    stream.set_read_timeout(Some(WAIT))?;
    write!(
        stream,
        "DELETE {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut response = Vec::new();
    let mut chunk = [0; 512];
    while !response.contains(&b'\n') {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        response.extend_from_slice(&chunk[..n]);
    }
    let status = String::from_utf8_lossy(&response);
    let status = status.lines().next().unwrap_or_default();
    if status.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("DELETE {path}: {status:?}")))
    }
}

/// The first of `names` found on the `PATH`.
fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|file| is_executable(file))
    })
}

fn is_executable(file: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    file.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A loopback port nobody listens on (bound, then released, for chromedriver to take).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A new, empty directory for one browser profile.
fn temp_profile() -> PathBuf {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mockidp-chromium-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
