//! Consent pages as each product shows them: Allow and Deny in headless Chromium (Keycloak's
//! `login-oauth-grant.ftl`, IdentityServer3's `consent.html`, Django OAuth Toolkit's
//! `authorize.html`), what each remembers, `prompt=consent`, and over plain HTTP the form's
//! binding to its browser, its single use and `prompt=none`.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::chrome::{Browser, Chrome};
use crate::util::*;

const CALLBACK: &str = "http://localhost:8080/callback";

/// One issuer per product, each with the confidential client `web` that needs consent (the
/// Keycloak one says so, the others by their product's default) and the user alice.
const FIXTURES: &str = r#"
[[issuer]]
name = "kc"
dialect = "keycloak"
[[issuer.client]]
id = "web"
secret = "web-secret"
grants = ["authorization_code"]
scopes = ["openid", "profile", "email"]
redirect_uris = ["http://localhost:8080/callback"]
consent_required = true
[[issuer.client]]
id = "plain"
secret = "plain-secret"
grants = ["authorization_code"]
scopes = ["openid", "email"]
redirect_uris = ["http://localhost:8080/callback"]
[[issuer.user]]
username = "alice"
password = "alice"

[[issuer]]
name = "master"
dialect = "keycloak"
realm = "master"
[[issuer.client]]
id = "admin-cli"
grants = ["password"]
scopes = ["openid"]
[[issuer.user]]
username = "admin"
password = "admin"
roles = ["admin"]

[[issuer]]
name = "ids"
dialect = "identityserver"
path = "/identity"
[[issuer.client]]
id = "web"
secret = "web-secret"
grants = ["authorization_code"]
scopes = ["openid", "email", "api"]
redirect_uris = ["http://localhost:8080/callback"]
[[issuer.user]]
username = "alice"
password = "alice"

[[issuer]]
name = "dot"
dialect = "generic"
path = "/o"
[[issuer.client]]
id = "web"
secret = "web-secret"
grants = ["authorization_code"]
scopes = ["openid", "read", "write"]
redirect_uris = ["http://localhost:8080/callback"]
[[issuer.user]]
username = "alice"
password = "alice"
"#;

/// Where a product's endpoints are, under its issuer URL.
struct Product {
    issuer: &'static str,
    authorize: &'static str,
    token: &'static str,
    scope: &'static str,
}

const KEYCLOAK: Product = Product {
    issuer: "kc",
    authorize: "/protocol/openid-connect/auth",
    token: "/protocol/openid-connect/token",
    scope: "openid email",
};
const IDENTITYSERVER: Product = Product {
    issuer: "ids",
    authorize: "/connect/authorize",
    token: "/connect/token",
    scope: "openid email api",
};
const DOT: Product = Product {
    issuer: "dot",
    authorize: "/authorize/",
    token: "/token/",
    scope: "openid read",
};

impl Product {
    /// The authorization URL for `web` with `state` and the extra parameters.
    fn authorize_url(&self, idp: &mockidp::MockIdp, state: &str, extra: &[(&str, &str)]) -> String {
        let issuer = idp.issuer_url(self.issuer).unwrap();
        let mut pairs = vec![
            ("response_type", "code"),
            ("client_id", "web"),
            ("redirect_uri", CALLBACK),
            ("scope", self.scope),
            ("state", state),
        ];
        pairs.extend_from_slice(extra);
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        format!("{issuer}{}?{query}", self.authorize)
    }

    /// Redeems `code` for `web`: the token response.
    async fn redeem(&self, idp: &mockidp::MockIdp, code: &str) -> Value {
        let issuer = idp.issuer_url(self.issuer).unwrap();
        let resp = post_form(
            &format!("{issuer}{}", self.token),
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", CALLBACK),
                ("client_id", "web"),
                ("client_secret", "web-secret"),
            ],
        )
        .await;
        let (status, body) = status_json(resp).await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

/// The granted scopes of a token response, sorted: its `scope`, or (IdentityServer3 sends
/// none) the access token's `scope` claim.
fn scopes(body: &Value) -> Vec<String> {
    let mut s: Vec<String> = match body["scope"].as_str() {
        Some(scope) => scope.split(' ').map(str::to_string).collect(),
        None => {
            let token = body["access_token"].as_str().expect("access_token");
            let payload = token.split('.').nth(1).expect("a JWT");
            let claims: Value = serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(payload)
                    .expect("base64url"),
            )
            .expect("JSON claims");
            claims["scope"]
                .as_array()
                .expect("scope claim")
                .iter()
                .map(|v| v.as_str().expect("a scope").to_string())
                .collect()
        }
    };
    s.sort();
    s
}

/// Follows the browser to the callback and returns its query parameters, checking `state`.
async fn callback(browser: &Browser, state: &str) -> std::collections::HashMap<String, String> {
    let url = browser.wait_for_redirect(CALLBACK).await;
    let q = query_params(&url);
    assert_eq!(q.get("state").map(String::as_str), Some(state), "{url}");
    q
}

/// The page's text.
async fn body_text(browser: &Browser) -> String {
    browser.find("body").await.text().await
}

// --- headless Chromium -------------------------------------------------------------------------

/// Keycloak (`consentRequired`): login, the grant page with the scopes' consent texts, Yes →
/// code; the consent is kept (a second authorize goes straight back, logout or not);
/// `prompt=consent` shows it again, and No → `access_denied` with state, no description.
#[tokio::test]
async fn keycloak_consent_allow_remembered_then_deny() {
    let Some(chrome) = Chrome::launch().await else {
        return;
    };
    let idp = start_with(FIXTURES).await;
    let browser = chrome.session().await;
    let p = &KEYCLOAK;

    browser.goto(&p.authorize_url(&idp, "s1", &[])).await;
    browser.log_in("alice", "alice").await;
    browser.wait_for("#kc-oauth form").await;
    let text = body_text(&browser).await;
    assert!(text.contains("Grant Access to web"), "{text}");
    assert!(
        text.contains("Do you grant these access privileges?"),
        "{text}"
    );
    assert!(text.contains("Email address"), "{text}");
    assert!(text.contains("User profile"), "{text}");
    browser.find("#kc-cancel").await;
    browser.find("#kc-login").await.click().await;
    let q = callback(&browser, "s1").await;
    let body = p.redeem(&idp, &q["code"]).await;
    assert_eq!(scopes(&body), ["email", "openid", "profile"], "{body}");

    // Remembered per user and client: no page the second time, after a logout too.
    browser.goto(&p.authorize_url(&idp, "s2", &[])).await;
    assert!(callback(&browser, "s2").await.contains_key("code"));
    let issuer = idp.issuer_url("kc").unwrap();
    browser
        .goto(&format!("{issuer}/protocol/openid-connect/logout"))
        .await;
    browser.goto(&p.authorize_url(&idp, "s3", &[])).await;
    browser.log_in("alice", "alice").await;
    assert!(callback(&browser, "s3").await.contains_key("code"));

    // prompt=consent asks again; No sends access_denied.
    browser
        .goto(&p.authorize_url(&idp, "s4", &[("prompt", "consent")]))
        .await;
    browser.wait_for("#kc-cancel").await.click().await;
    let q = callback(&browser, "s4").await;
    assert_eq!(q.get("error").map(String::as_str), Some("access_denied"));
    assert!(!q.contains_key("error_description"), "{q:?}");
    assert!(!q.contains_key("code"), "{q:?}");
}

/// IdentityServer3 (`RequireConsent` by default): the scopes as checkboxes (openid required),
/// "Remember My Decision" ticked; an unticked scope is not granted; the decision is
/// remembered; `prompt=consent` shows the page again and "No, Do Not Allow" →
/// `access_denied`.
#[tokio::test]
async fn identityserver_consent_allow_remembered_then_deny() {
    let Some(chrome) = Chrome::launch().await else {
        return;
    };
    let idp = start_with(FIXTURES).await;
    let browser = chrome.session().await;
    let p = &IDENTITYSERVER;

    browser.goto(&p.authorize_url(&idp, "s1", &[])).await;
    browser.log_in("alice", "alice").await;
    browser.wait_for("input#scopes_openid[disabled]").await;
    let text = body_text(&browser).await;
    assert!(text.contains("web is requesting your permission"), "{text}");
    assert!(text.contains("Your email address"), "{text}");
    assert!(text.contains("Remember My Decision"), "{text}");
    browser.find("input#scopes_api").await.click().await;
    browser
        .find(r#"button[name="button"][value="yes"]"#)
        .await
        .click()
        .await;
    let q = callback(&browser, "s1").await;
    let body = p.redeem(&idp, &q["code"]).await;
    assert_eq!(
        scopes(&body),
        ["email", "openid"],
        "api was unticked: {body}"
    );

    // Remembered (the box was ticked) for the scopes granted: no page for those.
    let again = Product {
        scope: "openid email",
        ..IDENTITYSERVER
    };
    browser.goto(&again.authorize_url(&idp, "s2", &[])).await;
    assert!(callback(&browser, "s2").await.contains_key("code"));

    browser
        .goto(&again.authorize_url(&idp, "s3", &[("prompt", "consent")]))
        .await;
    browser
        .wait_for(r#"button[name="button"][value="no"]"#)
        .await
        .click()
        .await;
    let q = callback(&browser, "s3").await;
    assert_eq!(q.get("error").map(String::as_str), Some("access_denied"));
    assert!(!q.contains_key("error_description"), "{q:?}");
}

/// Django OAuth Toolkit (`skip_authorization` false by default): `#authorizationForm` with
/// the scopes' descriptions, Authorize → code; with `approval_prompt=auto` the live token
/// skips the page, without it (`force`) the page shows and Cancel → `access_denied`.
#[tokio::test]
async fn dot_consent_allow_auto_approval_then_deny() {
    let Some(chrome) = Chrome::launch().await else {
        return;
    };
    let idp = start_with(FIXTURES).await;
    let browser = chrome.session().await;
    let p = &DOT;

    browser.goto(&p.authorize_url(&idp, "s1", &[])).await;
    browser.log_in("alice", "alice").await;
    browser.wait_for("form#authorizationForm").await;
    let text = body_text(&browser).await;
    assert!(text.contains("Authorize web?"), "{text}");
    assert!(
        text.contains("Application requires the following permissions"),
        "{text}"
    );
    assert!(text.contains("Reading scope"), "{text}");
    assert!(text.contains("OpenID Connect scope"), "{text}");
    browser
        .find(r#"#authorizationForm [name="allow"]"#)
        .await
        .click()
        .await;
    let q = callback(&browser, "s1").await;
    let body = p.redeem(&idp, &q["code"]).await;
    assert_eq!(scopes(&body), ["openid", "read"], "{body}");

    // approval_prompt=auto: the live token covers the scopes.
    browser
        .goto(&p.authorize_url(&idp, "s2", &[("approval_prompt", "auto")]))
        .await;
    assert!(callback(&browser, "s2").await.contains_key("code"));

    // The default (force) asks every time; Cancel denies.
    browser.goto(&p.authorize_url(&idp, "s3", &[])).await;
    browser
        .wait_for("#authorizationForm button:not([name])")
        .await
        .click()
        .await;
    let q = callback(&browser, "s3").await;
    assert_eq!(q.get("error").map(String::as_str), Some("access_denied"));
    assert!(!q.contains_key("error_description"), "{q:?}");
}

// --- plain HTTP --------------------------------------------------------------------------------

/// The value following `prefix` up to the next quote, unescaped.
fn attr(html: &str, prefix: &str) -> String {
    let start = html
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {html}"))
        + prefix.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].replace("&amp;", "&")
}

/// Logs alice in at `url` in `jar` and returns the consent page it lands on.
async fn consent_page(jar: &mut Browserless, url: &str) -> String {
    let html = jar.get(url).await.text().await.unwrap();
    let action = attr(&html, "class=\"login\" method=\"post\" action=\"");
    let login_id = attr(&html, "name=\"login_id\" value=\"");
    let resp = jar
        .post_form_raw(
            &action,
            &[
                ("login_id", &login_id),
                ("username", "alice"),
                ("password", "alice"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 200, "the consent page after login");
    resp.text().await.unwrap()
}

/// The consent form's action and hidden id field (name, value).
fn consent_form(html: &str, id_field: &str) -> (String, String) {
    let action = attr(html, "method=\"post\" action=\"");
    let id = attr(html, &format!("name=\"{id_field}\" value=\""));
    (action, id)
}

/// A consent form posted with another browser's cookies (or none) is refused and leaves the
/// page usable in its own browser; the page is single use.
#[tokio::test]
async fn consent_form_is_bound_to_its_browser_and_single_use() {
    let idp = start_with(FIXTURES).await;
    let mut jar = Browserless::new();
    let html = consent_page(&mut jar, &KEYCLOAK.authorize_url(&idp, "st", &[])).await;
    let (action, id) = consent_form(&html, "code");
    let form = [("code", id.as_str()), ("accept", "Yes")];

    // Another browser, with a session and login cookie of its own.
    let mut other = Browserless::new();
    let _ = consent_page(&mut other, &KEYCLOAK.authorize_url(&idp, "x", &[])).await;
    let resp = other.post_form_raw(&action, &form).await;
    assert_eq!(resp.status(), 400, "another browser's post");
    let resp = http().post(&action).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), 400, "a post without cookies");

    let resp = jar.post_form_raw(&action, &form).await;
    assert_eq!(resp.status(), 302);
    let q = query_params(&location(&resp));
    assert!(q.contains_key("code"), "{q:?}");
    assert_eq!(q["state"], "st");

    let resp = jar.post_form_raw(&action, &form).await;
    assert_eq!(resp.status(), 400, "the page was used");
}

/// IdentityServer3: Allow without "Remember My Decision" keeps nothing (the page shows
/// again); Allow with every box unticked shows the page again with its error, and only the
/// required `openid` is granted when that is all that is left ticked.
#[tokio::test]
async fn identityserver_remembers_only_when_asked() {
    let idp = start_with(FIXTURES).await;
    let mut jar = Browserless::new();
    let url = IDENTITYSERVER.authorize_url(&idp, "st", &[]);
    let html = consent_page(&mut jar, &url).await;
    let (action, id) = consent_form(&html, "id");
    let resp = jar
        .post_form_raw(
            &action,
            &[("id", &id), ("button", "yes"), ("scopes", "email")],
        )
        .await;
    assert_eq!(resp.status(), 302);
    let code = query_params(&location(&resp))["code"].clone();
    let body = IDENTITYSERVER.redeem(&idp, &code).await;
    assert_eq!(scopes(&body), ["email", "openid"], "{body}");

    // Not remembered: the page again.
    let resp = jar.get(&url).await;
    assert_eq!(resp.status(), 200, "no decision kept");
    let html = resp.text().await.unwrap();
    let (action, id) = consent_form(&html, "id");
    // A product-style post: every scope its own field, remember ticked.
    let resp = jar
        .post_form_raw(
            &action,
            &[
                ("id", &id),
                ("button", "yes"),
                ("scopes", "email"),
                ("RememberConsent", "true"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 302);
    let narrower = Product {
        scope: "openid email",
        ..IDENTITYSERVER
    };
    let resp = jar.get(&narrower.authorize_url(&idp, "st2", &[])).await;
    assert_eq!(resp.status(), 302, "remembered for openid email");
    let resp = jar.get(&url).await;
    assert_eq!(resp.status(), 200, "api was not allowed: asked again");
}

/// `prompt=none` where the page would show: Keycloak and IdentityServer3 answer
/// `interaction_required`, Django OAuth Toolkit (oauthlib) `consent_required`, with state.
#[tokio::test]
async fn prompt_none_with_consent_needed() {
    let idp = start_with(FIXTURES).await;
    for (p, error) in [
        (&KEYCLOAK, "interaction_required"),
        (&IDENTITYSERVER, "interaction_required"),
        (&DOT, "consent_required"),
    ] {
        let mut jar = Browserless::new();
        let _ = consent_page(&mut jar, &p.authorize_url(&idp, "a", &[])).await;
        let resp = jar
            .get(&p.authorize_url(&idp, "quiet", &[("prompt", "none")]))
            .await;
        assert_eq!(resp.status(), 302, "{}", p.issuer);
        let q = query_params(&location(&resp));
        assert_eq!(q["error"], error, "{}: {q:?}", p.issuer);
        assert_eq!(q["state"], "quiet", "{}", p.issuer);
    }
}

/// No consent page where the client needs none (Keycloak's default), nor on a session the
/// admin API made (its user allowed every client).
#[tokio::test]
async fn no_page_without_consent_required_nor_on_admin_sessions() {
    let idp = start_with(FIXTURES).await;
    let plain = KEYCLOAK
        .authorize_url(&idp, "p", &[])
        .replace("client_id=web", "client_id=plain");
    let location = Browserless::new().authorize(&plain, "alice", "alice").await;
    assert!(query_params(&location).contains_key("code"), "{location}");

    for p in [&KEYCLOAK, &IDENTITYSERVER, &DOT] {
        let resp = http()
            .post(format!(
                "{}/_mockidp/issuers/{}/sessions",
                idp.url(),
                p.issuer
            ))
            .json(&json!({"username": "alice"}))
            .send()
            .await
            .unwrap();
        let (status, session) = status_json(resp).await;
        assert_eq!(status, 201, "{session}");
        let resp = http()
            .get(p.authorize_url(&idp, "h", &[]))
            .header("cookie", session["cookie"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 302, "{}", p.issuer);
        assert!(
            query_params(&crate::util::location(&resp)).contains_key("code"),
            "{}",
            p.issuer
        );
    }
}

/// Keycloak's admin REST API sees the kept consent (`GET …/users/{id}/consents`), an admin
/// logout keeps it, and `DELETE …/consents/{client}` revokes it: the page shows again.
#[tokio::test]
async fn keycloak_admin_api_lists_and_revokes_consents() {
    let idp = start_with(FIXTURES).await;
    let base = idp.url();
    let (_, token) = status_json(
        post_form(
            &format!("{base}/realms/master/protocol/openid-connect/token"),
            &[
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", "admin"),
                ("password", "admin"),
            ],
        )
        .await,
    )
    .await;
    let token = token["access_token"]
        .as_str()
        .expect("admin token")
        .to_string();
    let admin = |method: reqwest::Method, path: &str| {
        http()
            .request(method, format!("{base}/admin/realms/kc{path}"))
            .bearer_auth(&token)
    };
    let (_, users) = status_json(
        admin(reqwest::Method::GET, "/users?username=alice")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let id = users[0]["id"].as_str().expect("alice's id").to_string();
    let consents = format!("/users/{id}/consents");

    let mut jar = Browserless::new();
    let url = KEYCLOAK.authorize_url(&idp, "st", &[]);
    let html = consent_page(&mut jar, &url).await;
    let (action, code) = consent_form(&html, "code");
    let resp = jar
        .post_form_raw(&action, &[("code", &code), ("accept", "Yes")])
        .await;
    assert_eq!(resp.status(), 302);

    let (status, list) =
        status_json(admin(reqwest::Method::GET, &consents).send().await.unwrap()).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list[0]["clientId"], "web", "{list}");
    let mut granted: Vec<&str> = list[0]["grantedClientScopes"]
        .as_array()
        .expect("scopes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    granted.sort_unstable();
    assert_eq!(
        granted,
        ["email", "profile"],
        "openid is no client scope: {list}"
    );
    assert!(list[0]["createdDate"].is_u64(), "{list}");

    let resp = admin(reqwest::Method::POST, &format!("/users/{id}/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    let (_, list) = status_json(admin(reqwest::Method::GET, &consents).send().await.unwrap()).await;
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(1),
        "logout keeps consents: {list}"
    );

    let revoke = |client: &str| admin(reqwest::Method::DELETE, &format!("{consents}/{client}"));
    assert_eq!(revoke("web").send().await.unwrap().status(), 204);
    let (status, body) = status_json(revoke("web").send().await.unwrap()).await;
    assert_eq!(
        (status, body),
        (404, json!({"error": "Consent nor offline token not found"}))
    );
    let (status, body) = status_json(revoke("nosuch").send().await.unwrap()).await;
    assert_eq!((status, body), (404, json!({"error": "Client not found"})));

    // Logged out and revoked: login, then the consent page again.
    let mut jar = Browserless::new();
    let html = consent_page(&mut jar, &url).await;
    assert!(html.contains("Grant Access to web"), "{html}");
}
