//! Helpers shared by the integration tests.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use mockidp::{Config, MockIdp};
use serde_json::Value;

/// A server on the default fixtures.
pub async fn start() -> MockIdp {
    MockIdp::start().await.expect("mockidp starts")
}

/// A server on the given TOML fixtures.
pub async fn start_with(toml: &str) -> MockIdp {
    let config = Config::from_toml(toml).expect("test fixtures are valid");
    MockIdp::builder()
        .config(config)
        .start()
        .await
        .expect("mockidp starts")
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// POSTs a form (as `application/x-www-form-urlencoded`).
pub async fn post_form(url: &str, form: &[(&str, &str)]) -> reqwest::Response {
    http().post(url).form(form).send().await.unwrap()
}

/// A client-credentials request to `token_url`, the client authenticated by HTTP Basic:
/// status and token response.
pub async fn cc_basic(token_url: &str, id: &str, secret: &str) -> (u16, Value) {
    let resp = http()
        .post(token_url)
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    status_json(resp).await
}

/// Redeems `code` for Keycloak's sample web client `iopole-web` (HTTP Basic) at `issuer`, the
/// realm's URL: status and token response.
pub async fn redeem_iopole_web(issuer: &str, code: &str, redirect_uri: &str) -> (u16, Value) {
    let resp = http()
        .post(format!("{issuer}/protocol/openid-connect/token"))
        .basic_auth("iopole-web", Some("iopole-web-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ])
        .send()
        .await
        .unwrap();
    status_json(resp).await
}

/// Status and JSON body of a response (`Value::Null` for an empty body).
pub async fn status_json(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    };
    (status, body)
}

pub async fn get_json(url: &str) -> Value {
    let resp = http().get(url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "GET {url}");
    resp.json().await.unwrap()
}

/// Verifies `token` against the JWKS that `issuer`'s discovery document points to, checking
/// `iss` and expiry, and returns its header and claims.
pub async fn verify_with_discovery(token: &str, issuer: &str) -> (jsonwebtoken::Header, Value) {
    try_verify(token, issuer)
        .await
        .expect("token verifies against the JWKS")
}

/// [`verify_with_discovery`] that reports failure instead of panicking.
pub async fn try_verify(
    token: &str,
    issuer: &str,
) -> Result<(jsonwebtoken::Header, Value), String> {
    let discovery = get_json(&format!("{issuer}/.well-known/openid-configuration")).await;
    assert_eq!(discovery["issuer"], issuer);
    let jwks_uri = discovery["jwks_uri"].as_str().expect("jwks_uri");
    let jwks: JwkSet =
        serde_json::from_value(get_json(jwks_uri).await).map_err(|e| e.to_string())?;
    let header = decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.clone().ok_or("no kid in header")?;
    let jwk = jwks
        .find(&kid)
        .ok_or("the header's kid is not in the JWKS")?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.validate_aud = false;
    validation.required_spec_claims = ["exp".to_string(), "iss".to_string()].into();
    let data = decode::<Value>(token, &key, &validation).map_err(|e| e.to_string())?;
    Ok((header, data.claims))
}

/// The keys of a JSON object, in order.
pub fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

/// A client that logs in through mockidp's HTML login form over plain HTTP (no browser),
/// keeping the session cookie between requests like a browser would.
#[derive(Default)]
pub struct Browserless {
    cookies: Vec<(String, String)>,
}

impl Browserless {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, resp: &reqwest::Response) {
        for v in resp.headers().get_all("set-cookie") {
            let pair = v.to_str().unwrap().split(';').next().unwrap();
            let (k, val) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != k);
            if !val.is_empty() {
                self.cookies.push((k.to_string(), val.to_string()));
            }
        }
    }

    /// GETs `url` with the session cookie; returns the response (redirects are not followed).
    pub async fn get(&mut self, url: &str) -> reqwest::Response {
        let resp = http()
            .get(url)
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep_cookies(&resp);
        resp
    }

    /// POSTs a form with the session cookie; returns the response.
    pub async fn post_form_raw(&mut self, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let resp = http()
            .post(url)
            .header("cookie", self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep_cookies(&resp);
        resp
    }

    /// POSTs a form with the session cookie; returns the page.
    pub async fn post_form(&mut self, url: &str, form: &[(&str, &str)]) -> String {
        self.post_form_raw(url, form).await.text().await.unwrap()
    }

    /// Opens an authorization URL; if the login page shows, logs in as `username`. Returns the
    /// `Location` the browser is finally sent to (the client's redirect URI with the response).
    pub async fn authorize(&mut self, url: &str, username: &str, password: &str) -> String {
        let resp = self.get(url).await;
        if resp.status() == 302 {
            return location(&resp);
        }
        assert_eq!(resp.status(), 200, "authorize should show the login page");
        let html = resp.text().await.unwrap();
        self.submit_login(&html, username, password).await
    }

    /// Fills and posts the login form found in `html`; returns the redirect `Location`.
    pub async fn submit_login(&mut self, html: &str, username: &str, password: &str) -> String {
        let action = html_attr(html, "class=\"login\" method=\"post\" action=\"");
        let login_id = html_attr(html, "name=\"login_id\" value=\"");
        let resp = http()
            .post(&action)
            .header("cookie", self.cookie_header())
            .form(&[
                ("login_id", login_id.as_str()),
                ("username", username),
                ("password", password),
            ])
            .send()
            .await
            .unwrap();
        self.keep_cookies(&resp);
        assert_eq!(
            resp.status(),
            302,
            "login should redirect: {}",
            resp.text().await.unwrap()
        );
        location(&resp)
    }
}

/// The first cookie a response sets, as `name=value` (a login page's browser binding).
pub fn first_cookie(resp: &reqwest::Response) -> String {
    let set = resp.headers()["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_string()
}

/// A server on the default fixtures over HTTPS with the test certificate of fixtures/tls.
pub async fn start_tls() -> MockIdp {
    let dir = env!("CARGO_MANIFEST_DIR");
    MockIdp::builder()
        .tls(
            format!("{dir}/fixtures/tls/server.crt"),
            format!("{dir}/fixtures/tls/server.key"),
        )
        .start()
        .await
        .expect("mockidp starts with TLS")
}

/// The `Location` header of a redirect.
pub fn location(resp: &reqwest::Response) -> String {
    resp.headers()["location"].to_str().unwrap().to_string()
}

/// The query parameters of a URL.
pub fn query_params(url: &str) -> std::collections::HashMap<String, String> {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// The (HTML-unescaped) value following `prefix` up to the next quote.
fn html_attr(html: &str, prefix: &str) -> String {
    let start = html
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {html}"))
        + prefix.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].replace("&amp;", "&")
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce_pair() -> (String, String) {
    use base64::Engine as _;
    let verifier = format!(
        "{}-verifier-0123456789abcdefghijklmnopqrstuvwxyz",
        std::process::id()
    );
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    (verifier, challenge)
}
