//! oidc-client-ts (pinned in `tests/js/oidc-client-ts`, installed by `.ci/run` with `npm ci`
//! into `target/ci/oidc-client-ts`) with its defaults in headless Chromium, each app on its own
//! origin: against the IdentityServer issuer `signinRedirect`/`signinCallback`, `signinSilent`,
//! `monitorSession` seeing a logout from another tab (OIDC Session Management 1.0, the check
//! session iframe) and `signoutRedirect`; against the generic (Django OAuth Toolkit) issuer
//! `signinRedirect`/`signinCallback`/`signoutRedirect`. And an implicit (`id_token token`) app
//! against the IdentityServer issuer: oidc-client-ts dropped the implicit flow in 2.0 (pull
//! request #153, "Only the Authorization Code flow (with PKCE) is supported"), so that app is a
//! page of its own reading the fragment, as oidc-client-js 1.x apps did.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::chrome::{Browser, Chrome, WAIT, npm_file, serve_files};
use crate::util::*;

/// Loads the library (its browser bundle: global `oidc`) and makes the `UserManager`.
/// `AUTHORITY` and `MONITOR` are replaced per app.
const SETUP: &str = r#"<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body>
<script src="/oidc-client-ts.js"></script>
<script>
const mgr = new oidc.UserManager({
  authority: "AUTHORITY",
  client_id: "spa",
  redirect_uri: location.origin + "/cb.html",
  silent_redirect_uri: location.origin + "/silent.html",
  post_logout_redirect_uri: location.origin + "/out.html",
  scope: "openid email",
  monitorSession: MONITOR,
  automaticSilentRenew: false,
});
window.mgr = mgr;
const done = (r) => { window.results = r; };
const fail = (e) => { window.results = { error: String(e && (e.error || e.message) || e) }; };
"#;

const APP_PAGE: &str = r#"mgr.signinRedirect().catch(fail);
</script></body></html>"#;

/// The redirect URI: finishes the sign-in, then renews silently in an iframe.
const CALLBACK_PAGE: &str = r#"
mgr.events.addUserSignedOut(() => { window.signedOut = true; });
mgr.signinCallback().then(async (user) => {
  const silent = await mgr.signinSilent();
  done({
    sub: user.profile.sub,
    email: user.profile.email,
    sessionState: user.session_state,
    silentSub: silent.profile.sub,
    silentNewToken: silent.access_token !== user.access_token,
    silentSessionState: silent.session_state,
  });
}).catch(fail);
</script></body></html>"#;

const SILENT_PAGE: &str = r#"mgr.signinCallback().catch(fail);
</script></body></html>"#;

const OUT_PAGE: &str = r#"mgr.getUser().then((user) => done({ out: true, user })).catch(fail);
</script></body></html>"#;

/// A loopback origin for an app, and its URL.
fn app_origin() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    (listener, url)
}

/// Serves an app using `authority` on `listener`.
fn serve_app(listener: TcpListener, lib: &[u8], authority: &str, monitor: bool) {
    let setup = SETUP
        .replace("AUTHORITY", authority)
        .replace("MONITOR", if monitor { "true" } else { "false" });
    let page = |body: &str| format!("{setup}{body}").into_bytes();
    serve_files(
        listener,
        vec![
            ("/app.html", "text/html", page(APP_PAGE)),
            ("/cb.html", "text/html", page(CALLBACK_PAGE)),
            ("/silent.html", "text/html", page(SILENT_PAGE)),
            ("/out.html", "text/html", page(OUT_PAGE)),
            ("/oidc-client-ts.js", "text/javascript", lib.to_vec()),
        ],
    );
}

/// An IdentityServer issuer and a generic one, each with the public client `spa` of its app.
fn fixtures(ids_app: &str, dot_app: &str) -> String {
    let client = |app: &str| {
        format!(
            r#"
[[issuer.client]]
id = "spa"
grants = ["authorization_code", "refresh_token"]
scopes = ["openid", "email"]
redirect_uris = ["{app}/cb.html", "{app}/silent.html"]
post_logout_redirect_uris = ["{app}/out.html"]
# no consent page (IdentityServer3's RequireConsent and DOT's skip_authorization=false
# would add one): these tests are about sessions, silent renew and logout
consent_required = false

[[issuer.user]]
username = "alice"
password = "alice"
claims = {{ email = "alice@example.test" }}
"#
        )
    };
    format!(
        r#"
[[issuer]]
name = "ids"
dialect = "identityserver"
path = "/identity"
{}
[[issuer]]
name = "dot"
dialect = "generic"
path = "/o"
{}"#,
        client(ids_app),
        client(dot_app)
    )
}

/// Logs in through the app's `signinRedirect`; returns what the callback page found.
async fn sign_in(browser: &Browser, app: &str) -> Value {
    browser.goto(&format!("{app}/app.html")).await;
    browser.log_in("alice", "alice").await;
    let r = browser.results().await;
    assert_eq!(r["email"], "alice@example.test", "{r}");
    assert_eq!(r["silentSub"], r["sub"], "signinSilent: {r}");
    assert_eq!(r["silentNewToken"], true, "signinSilent: {r}");
    r
}

/// `signoutRedirect`: back at the app's post-logout page with no user, and the next
/// `signinRedirect` shows the login page again (the session ended).
async fn sign_out(browser: &Browser, app: &str) {
    browser
        .execute("window.mgr.signoutRedirect(); return null;")
        .await;
    let deadline = Instant::now() + WAIT;
    while !browser
        .current_url()
        .await
        .starts_with(&format!("{app}/out.html"))
    {
        assert!(
            Instant::now() < deadline,
            "signoutRedirect did not come back: {}",
            browser.describe().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = browser.results().await;
    assert_eq!(
        (&r["out"], &r["user"]),
        (&Value::Bool(true), &Value::Null),
        "{r}"
    );
    browser.goto(&format!("{app}/app.html")).await;
    browser.wait_for("form.login").await;
}

#[tokio::test]
async fn oidc_client_ts_session_management_and_logout() {
    let Some(lib) = npm_file(
        "oidc-client-ts",
        "node_modules/oidc-client-ts/dist/browser/oidc-client-ts.min.js",
        "tests/js/oidc-client-ts",
    ) else {
        return;
    };
    let Some(chrome) = Chrome::launch().await else {
        return;
    };
    let lib = std::fs::read(lib).unwrap();
    let (ids_listener, ids_app) = app_origin();
    let (dot_listener, dot_app) = app_origin();
    let idp = start_with(&fixtures(&ids_app, &dot_app)).await;
    let ids = format!("{}/identity", idp.url());
    serve_app(ids_listener, &lib, &ids, true);
    serve_app(dot_listener, &lib, &format!("{}/o", idp.url()), false);
    let browser = chrome.session().await;

    // IdentityServer: sign in, silent renew, session_state as IdentityServer3 makes it.
    let r = sign_in(&browser, &ids_app).await;
    assert!(
        r["sessionState"].as_str().is_some_and(|s| s.contains('.')),
        "{r}"
    );
    // monitorSession: a logout in another tab, seen by the check session iframe.
    let app_tab = browser.tab().await;
    browser.new_tab().await;
    browser.goto(&format!("{ids}/connect/endsession")).await;
    browser.switch_to(&app_tab).await;
    assert_eq!(
        browser.wait_for_value("window.signedOut").await,
        true,
        "monitorSession saw no logout"
    );
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    // Signed in again, then signoutRedirect ends the session.
    sign_in(&browser, &ids_app).await;
    sign_out(&browser, &ids_app).await;

    // The generic issuer: sign in and out.
    sign_in(&browser, &dot_app).await;
    sign_out(&browser, &dot_app).await;
}

/// The implicit app: discovery, then to the authorization endpoint with a fresh nonce.
/// `AUTHORITY` is replaced.
const IMPLICIT_APP: &str = r#"<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body><script>
(async () => {
  const d = await (await fetch("AUTHORITY/.well-known/openid-configuration")).json();
  const nonce = "n-" + crypto.getRandomValues(new Uint32Array(2)).join("");
  sessionStorage.setItem("nonce", nonce);
  const q = new URLSearchParams({ client_id: "spa-implicit", redirect_uri: location.origin + "/implicit-cb.html",
    response_type: "id_token token", scope: "openid email", state: "st-1", nonce });
  location.assign(d.authorization_endpoint + "?" + q);
})().catch((e) => { window.results = { error: String(e) }; });
</script></body></html>"#;

/// The implicit app's redirect URI: reads the fragment, checks `nonce` and `at_hash` (Web
/// Crypto), and asks userinfo with the access token for the profile.
const IMPLICIT_CALLBACK: &str = r#"<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body><script>
(async () => {
  const p = new URLSearchParams(location.hash.slice(1));
  const part = (jwt) => JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
  const claims = part(p.get("id_token"));
  const token = p.get("access_token");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
  const half = btoa(String.fromCharCode(...digest.slice(0, 16)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const d = await (await fetch("AUTHORITY/.well-known/openid-configuration")).json();
  const info = await fetch(d.userinfo_endpoint, { headers: { Authorization: "Bearer " + token } });
  const profile = await info.json();
  window.results = { state: p.get("state"), tokenType: p.get("token_type"), expiresIn: p.get("expires_in"),
    query: location.search, nonceOk: claims.nonce === sessionStorage.getItem("nonce"),
    atHashOk: claims.at_hash === half, sub: claims.sub, userinfo: info.status,
    profileSub: profile.sub, email: profile.email, sessionState: p.get("session_state") };
})().catch((e) => { window.results = { error: String(e) }; });
</script></body></html>"#;

/// OpenID Connect Core §3.2 in a real browser: an `id_token token` app against the
/// IdentityServer issuer gets both tokens in the fragment, verifies `nonce` and `at_hash`, and
/// reads the profile from userinfo with the access token.
#[tokio::test]
async fn implicit_id_token_token_app_in_a_browser() {
    let Some(chrome) = Chrome::launch().await else {
        return;
    };
    let (listener, app) = app_origin();
    let idp = start_with(&format!(
        r#"
[[issuer]]
name = "ids"
dialect = "identityserver"
path = "/identity"

[[issuer.client]]
id = "spa-implicit"
implicit_flow = true
consent_required = false
scopes = ["openid", "email"]
redirect_uris = ["{app}/implicit-cb.html"]

[[issuer.user]]
username = "alice"
password = "alice"
claims = {{ email = "alice@example.test" }}
"#
    ))
    .await;
    let authority = format!("{}/identity", idp.url());
    let page = |body: &str| body.replace("AUTHORITY", &authority).into_bytes();
    serve_files(
        listener,
        vec![
            ("/implicit.html", "text/html", page(IMPLICIT_APP)),
            ("/implicit-cb.html", "text/html", page(IMPLICIT_CALLBACK)),
        ],
    );
    let browser = chrome.session().await;
    browser.goto(&format!("{app}/implicit.html")).await;
    browser.log_in("alice", "alice").await;
    let r = browser.results().await;
    assert_eq!(r["state"], "st-1", "{r}");
    assert_eq!(r["query"], "", "nothing in the query: {r}");
    assert_eq!(r["tokenType"], "Bearer", "{r}");
    assert!(
        r["expiresIn"]
            .as_str()
            .is_some_and(|e| e.parse::<u64>().is_ok()),
        "{r}"
    );
    assert_eq!(
        (&r["nonceOk"], &r["atHashOk"]),
        (&Value::Bool(true), &Value::Bool(true)),
        "{r}"
    );
    assert_eq!(r["userinfo"], 200, "{r}");
    assert_eq!(r["profileSub"], r["sub"], "{r}");
    assert_eq!(r["email"], "alice@example.test", "{r}");
    assert!(
        r["sessionState"].as_str().is_some_and(|s| s.contains('.')),
        "{r}"
    );
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
}
