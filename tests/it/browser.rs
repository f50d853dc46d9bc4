//! Browser login, end to end: a real headless Chromium, driven through chromedriver, logs in at
//! each dialect's authorization endpoint; the code it brings back is redeemed with reqwest.
//!
//! The harness (chromedriver, sessions, elements) is in `chrome.rs`.
//!
//! The redirect URIs point at `http://localhost:8080`, where nothing listens: the browser's last
//! navigation fails (`net::ERR_CONNECTION_REFUSED`), yet WebDriver's current URL still reports the
//! URL it was sent to, code and state included. Checked with Chromium 156.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

use crate::chrome::{Chrome, WAIT, png_width};
use crate::util::*;

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
