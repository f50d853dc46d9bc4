//! keycloak-js (the pinned 26.x from `tests/js/keycloak-js`, installed by `.ci/run` with
//! `npm ci` into `target/ci/keycloak-js`) with its defaults, in headless Chromium: the app is
//! served from another origin (a second loopback port) and logs in with `login-required`,
//! reads roles, refreshes, loads userinfo and the account profile, checks the SSO session
//! silently and logs out, without a console error. And its `implicit` and `hybrid` flows.

use std::net::TcpListener;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::chrome::{Chrome, WAIT, npm_file, serve_files};
use crate::util::*;

/// Where `.ci/run` installs keycloak-js.
fn library() -> Option<PathBuf> {
    npm_file(
        "keycloak-js",
        "node_modules/keycloak-js/lib/keycloak.js",
        "tests/js/keycloak-js",
    )
}

/// The app's pages. `IDP` is replaced by mockidp's base URL.
const SETUP: &str = r#"<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body>
<script type="module">
import Keycloak from "/keycloak.js";
const kc = new Keycloak({ url: "IDP", realm: "spa", clientId: "spa-app" });
window.kc = kc;
const done = (r) => { window.results = r; };
const fail = (e) => { window.results = { error: String(e && (e.error || e.message) || e) }; };
"#;

const APP_PAGE: &str = r#"
kc.init({ onLoad: "login-required", pkceMethod: "S256" }).then(async (authenticated) => {
  const before = kc.token;
  const refreshed = await kc.updateToken(-1);
  const userinfo = await kc.loadUserInfo();
  const profile = await kc.loadUserProfile();
  done({
    authenticated,
    responseMode: kc.responseMode,
    user: kc.hasRealmRole("user"),
    admin: kc.hasRealmRole("admin"),
    nope: kc.hasRealmRole("nope"),
    refreshed,
    newToken: kc.token !== before,
    userinfo,
    profile,
  });
}).catch(fail);
</script></body></html>"#;

const SSO_PAGE: &str = r#"
kc.init({
  onLoad: "check-sso",
  silentCheckSsoRedirectUri: location.origin + "/silent-check-sso.html",
  pkceMethod: "S256",
}).then((authenticated) => done({ authenticated, user: kc.tokenParsed && kc.tokenParsed.preferred_username }))
  .catch(fail);
</script></body></html>"#;

/// keycloak-js's documented silent-check-sso page.
const SILENT_PAGE: &str = r#"<!doctype html><html><head><link rel="icon" href="data:,"></head><body>
<script>parent.postMessage(location.href, location.origin);</script></body></html>"#;

/// Serves the app's pages and the library on `listener` until the test process ends.
fn serve_app(listener: TcpListener, idp: String, lib: Vec<u8>) {
    let page = |body: &str| format!("{}{}", SETUP.replace("IDP", &idp), body).into_bytes();
    serve_files(
        listener,
        vec![
            ("/app.html", "text/html", page(APP_PAGE)),
            ("/sso.html", "text/html", page(SSO_PAGE)),
            (
                "/silent-check-sso.html",
                "text/html",
                SILENT_PAGE.as_bytes().to_vec(),
            ),
            ("/keycloak.js", "text/javascript", lib),
        ],
    );
}

/// A Keycloak realm with keycloak-js's public client, allowed from the app's origin.
fn fixtures(app: &str) -> String {
    format!(
        r#"
[[issuer]]
name = "spa"
dialect = "keycloak"
realm = "spa"

[[issuer.client]]
id = "spa-app"
grants = ["authorization_code", "refresh_token"]
scopes = ["openid", "profile", "email"]
redirect_uris = ["{app}/*"]

[[issuer.user]]
username = "alice"
password = "alice"
roles = ["admin", "user"]
claims = {{ email = "alice@example.test", given_name = "Alice", family_name = "Martin", email_verified = true, tenant = "acme" }}
"#
    )
}

#[tokio::test]
async fn keycloak_js_with_its_defaults() {
    let Some(lib) = library() else { return };
    let Some(chrome) = Chrome::launch().await else {
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let app = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let idp = start_with(&fixtures(&app)).await;
    serve_app(listener, idp.url().to_string(), std::fs::read(lib).unwrap());
    let browser = chrome.session().await;

    // login-required: the login page, then back to the app with the code in the fragment.
    browser.goto(&format!("{app}/app.html")).await;
    browser.log_in("alice", "alice").await;
    let r = browser.results().await;
    assert_eq!(r["authenticated"], true, "{r}");
    assert_eq!(r["responseMode"], "fragment", "{r}");
    assert_eq!(
        (&r["user"], &r["admin"], &r["nope"]),
        (&Value::Bool(true), &Value::Bool(true), &Value::Bool(false)),
        "{r}"
    );
    assert_eq!(
        (&r["refreshed"], &r["newToken"]),
        (&Value::Bool(true), &Value::Bool(true)),
        "{r}"
    );
    assert_eq!(r["userinfo"]["email"], "alice@example.test", "{r}");
    assert_eq!(r["profile"]["username"], "alice", "{r}");
    assert_eq!(r["profile"]["firstName"], "Alice", "{r}");
    assert_eq!(r["profile"]["attributes"]["tenant"][0], "acme", "{r}");
    assert_eq!(r["profile"]["id"], r["userinfo"]["sub"], "{r}");
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors after login: {errors:?}");

    // check-sso through the silent iframe: the SSO session is found without a visible redirect.
    browser.goto(&format!("{app}/sso.html")).await;
    let r = browser.results().await;
    assert_eq!(
        (&r["authenticated"], &r["user"]),
        (&Value::Bool(true), &Value::from("alice")),
        "{r}"
    );
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors in check-sso: {errors:?}");

    // logout(): back to the app, where check-sso now finds no session.
    browser
        .execute(&format!(
            "window.kc.logout({{ redirectUri: '{app}/sso.html' }}); return null;"
        ))
        .await;
    let deadline = Instant::now() + WAIT;
    let r = loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let url = browser.current_url().await;
        if url.starts_with(&format!("{app}/sso.html")) {
            let r = browser.results().await;
            if r["authenticated"] == false {
                break r;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no logout: {}",
            browser.describe().await
        );
    };
    assert_eq!(r["authenticated"], false, "{r}");
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors after logout: {errors:?}");
}

/// keycloak-js's `flow: "implicit"` (`id_token token`) and `flow: "hybrid"`
/// (`code id_token token`, the code redeemed with PKCE): it checks the ID token's `nonce`
/// itself. `FLOW` and `IDP` are replaced.
const FLOW_PAGE: &str = r#"<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body>
<script type="module">
import Keycloak from "/keycloak.js";
const kc = new Keycloak({ url: "IDP", realm: "spa", clientId: "spa-flows" });
kc.init({ onLoad: "login-required", flow: "FLOW", pkceMethod: "S256" }).then(async (authenticated) => {
  const userinfo = await kc.loadUserInfo();
  window.results = { authenticated, flow: kc.flow, responseMode: kc.responseMode,
    idSub: kc.idTokenParsed && kc.idTokenParsed.sub, refresh: !!kc.refreshToken, userinfo };
}).catch((e) => { window.results = { error: String(e && (e.error || e.message) || e) }; });
</script></body></html>"#;

#[tokio::test]
async fn keycloak_js_implicit_and_hybrid_flows() {
    let Some(lib) = library() else { return };
    let Some(chrome) = Chrome::launch().await else {
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let app = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    // Keycloak's hybrid flow is its standard flow with the implicit one.
    let client = format!(
        r#"
[[issuer.client]]
id = "spa-flows"
grants = ["authorization_code", "refresh_token"]
implicit_flow = true
scopes = ["openid", "email"]
redirect_uris = ["{app}/*"]
"#
    );
    let idp = start_with(&format!("{}{client}", fixtures(&app))).await;
    let page = |flow: &str| {
        FLOW_PAGE
            .replace("IDP", &idp.url())
            .replace("FLOW", flow)
            .into_bytes()
    };
    serve_files(
        listener,
        vec![
            ("/implicit.html", "text/html", page("implicit")),
            ("/hybrid.html", "text/html", page("hybrid")),
            (
                "/keycloak.js",
                "text/javascript",
                std::fs::read(lib).unwrap(),
            ),
        ],
    );
    let browser = chrome.session().await;
    browser.goto(&format!("{app}/implicit.html")).await;
    browser.log_in("alice", "alice").await;
    for flow in ["implicit", "hybrid"] {
        if flow == "hybrid" {
            // The SSO session answers at once.
            browser.goto(&format!("{app}/hybrid.html")).await;
        }
        let r = browser.results().await;
        assert_eq!(r["authenticated"], true, "{flow}: {r}");
        assert_eq!(r["flow"], flow, "{r}");
        assert_eq!(r["responseMode"], "fragment", "{r}");
        assert_eq!(r["userinfo"]["email"], "alice@example.test", "{flow}: {r}");
        assert_eq!(r["idSub"], r["userinfo"]["sub"], "{flow}: {r}");
        // Only the hybrid flow's code brings a refresh token.
        assert_eq!(r["refresh"], flow == "hybrid", "{flow}: {r}");
    }
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
}
