//! Implicit and hybrid flows (OpenID Connect Core §3.2, §3.3) on every dialect, over HTTP: what
//! the fragment carries, `at_hash` / `c_hash` / `s_hash` recomputed, `nonce` required where the
//! product requires it, clients without the flow refused in their product's words, tokens never
//! in the query, hybrid codes redeemed, and discovery listing exactly what is answered.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::util::*;

const CB: &str = "http://localhost:8080/cb";

/// One product: where its issuer is and its endpoints below it.
struct Product {
    /// The client id prefix and the issuer's name.
    name: &'static str,
    mount: &'static str,
    authorize: &'static str,
    token: &'static str,
    userinfo: &'static str,
}

const KC: Product = Product {
    name: "kc",
    mount: "/realms/kc",
    authorize: "protocol/openid-connect/auth",
    token: "protocol/openid-connect/token",
    userinfo: "protocol/openid-connect/userinfo",
};
const IDS: Product = Product {
    name: "ids",
    mount: "/identity",
    authorize: "connect/authorize",
    token: "connect/token",
    userinfo: "connect/userinfo",
};
const DOT: Product = Product {
    name: "dot",
    mount: "/o",
    authorize: "authorize/",
    token: "token/",
    userinfo: "userinfo/",
};

/// Per issuer: `{p}-implicit` (public), `{p}-hybrid` (confidential; Keycloak's hybrid is its
/// standard and implicit flows together) and `{p}-code`, which has neither. No consent page
/// (IdentityServer3 and Django OAuth Toolkit ask by default; tests/it/consent.rs covers it).
fn fixtures() -> String {
    let issuer = |name: &str, dialect: &str, path: &str, hybrid: &str| {
        let hybrid = match hybrid {
            "standard+implicit" => "grants = [\"authorization_code\"]\nimplicit_flow = true",
            _ => "hybrid_flow = true",
        };
        format!(
            r#"
[[issuer]]
name = "{name}"
dialect = "{dialect}"
path = "{path}"

[[issuer.client]]
id = "{name}-implicit"
implicit_flow = true
consent_required = false
scopes = ["openid", "email"]
redirect_uris = ["{CB}"]

[[issuer.client]]
id = "{name}-hybrid"
secret = "{name}-hybrid-secret"
consent_required = false
{hybrid}
scopes = ["openid", "email"]
redirect_uris = ["{CB}"]

[[issuer.client]]
id = "{name}-code"
secret = "{name}-code-secret"
consent_required = false
grants = ["authorization_code"]
scopes = ["openid", "email"]
redirect_uris = ["{CB}"]

[[issuer.user]]
username = "alice"
password = "alice"
claims = {{ email = "alice@example.test" }}
"#
        )
    };
    [
        issuer("kc", "keycloak", "/realms/kc", "standard+implicit"),
        issuer("ids", "identityserver", "/identity", "hybrid"),
        issuer("dot", "generic", "/o", "hybrid"),
    ]
    .concat()
}

fn issuer_url(idp: &mockidp::MockIdp, p: &Product) -> String {
    format!("{}{}", idp.url(), p.mount)
}

/// An authorization request of client `{p}-{client}` with `state=st`, `scope=openid email` and
/// `extra` (`&nonce=...`, `&response_mode=...`).
fn authorize_url(
    idp: &mockidp::MockIdp,
    p: &Product,
    client: &str,
    response_type: &str,
    extra: &str,
) -> String {
    format!(
        "{}/{}?client_id={}-{client}&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcb\
         &scope=openid%20email&state=st&response_type={}{extra}",
        issuer_url(idp, p),
        p.authorize,
        p.name,
        response_type.replace(' ', "%20"),
    )
}

/// The parameters after `#`.
fn fragment(url: &str) -> HashMap<String, String> {
    let part = url.split_once('#').map_or("", |(_, f)| f);
    form_urlencoded::parse(part.as_bytes())
        .into_owned()
        .collect()
}

/// OpenID Connect Core §3.1.3.6: base64url of the left half of the SHA-256 of `value`.
fn half_hash(value: &str) -> String {
    use base64::Engine as _;
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&d.as_ref()[..16])
}

/// A logged-in browser at each issuer (alice), so later requests are answered at once.
async fn logged_in(idp: &mockidp::MockIdp, p: &Product) -> Browserless {
    let mut browser = Browserless::new();
    let loc = browser
        .authorize(
            &authorize_url(idp, p, "implicit", "id_token token", "&nonce=n-0"),
            "alice",
            "alice",
        )
        .await;
    assert!(fragment(&loc).contains_key("access_token"), "{loc}");
    browser
}

/// The `Location` of a 302 to the client (the request needs no login page).
async fn redirect(browser: &mut Browserless, url: &str) -> String {
    let resp = browser.get(url).await;
    assert_eq!(resp.status(), 302, "{url}: {}", resp.text().await.unwrap());
    let loc = location(&resp);
    assert!(loc.starts_with(CB), "{loc}");
    loc
}

/// What the product adds beside tokens: (`scope`, `s_hash`).
fn extras(p: &Product) -> (bool, bool) {
    match p.name {
        "kc" => (false, true),
        _ => (true, false),
    }
}

/// Checks one successful implicit or hybrid response of `p` for `response_type`.
async fn check_response(idp: &mockidp::MockIdp, p: &Product, response_type: &str, loc: &str) {
    let f = fragment(loc);
    let has = |part: &str| response_type.split(' ').any(|t| t == part);
    let client = format!(
        "{}-{}",
        p.name,
        if has("code") { "hybrid" } else { "implicit" }
    );
    assert!(!loc.contains('?'), "nothing in the query: {loc}");
    assert_eq!(f["state"], "st", "{loc}");
    assert_eq!(
        f.contains_key("code"),
        has("code"),
        "{response_type}: {loc}"
    );
    assert_eq!(f.contains_key("access_token"), has("token"), "{loc}");
    assert_eq!(f.contains_key("id_token"), has("id_token"), "{loc}");
    assert!(!f.contains_key("refresh_token"), "RFC 6749 §4.2.2: {loc}");
    let (scope, s_hash) = extras(p);
    if has("token") {
        // RFC 6749 §4.2.2, on every product.
        assert_eq!(f["token_type"], "Bearer", "{loc}");
        assert!(f["expires_in"].parse::<u64>().unwrap() > 0, "{loc}");
    }
    assert_eq!(
        f.get("scope").map(String::as_str),
        scope.then_some("openid email")
    );
    assert_eq!(f.contains_key("session_state"), p.name != "dot", "{loc}");
    if let Some(id_token) = f.get("id_token") {
        let (_, claims) = verify_with_discovery(id_token, &issuer_url(idp, p)).await;
        assert_eq!(claims["nonce"], "n-1", "{claims}");
        assert_eq!(claims["aud"], client.as_str(), "{claims}");
        let hash = |name: &str| f.get(name).map(|v| json!(half_hash(v)));
        assert_eq!(
            claims.get("at_hash").cloned(),
            hash("access_token"),
            "{claims}"
        );
        assert_eq!(claims.get("c_hash").cloned(), hash("code"), "{claims}");
        let expected = s_hash.then(|| json!(half_hash("st")));
        assert_eq!(claims.get("s_hash").cloned(), expected, "{claims}");
    }
    if let Some(token) = f.get("access_token") {
        let resp = http()
            .get(format!("{}/{}", issuer_url(idp, p), p.userinfo))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let (status, body) = status_json(resp).await;
        assert_eq!(status, 200, "userinfo with the fragment's token: {body}");
    }
    if let Some(code) = f.get("code") {
        redeem_hybrid_code(idp, p, code).await;
    }
}

/// Hybrid: the code redeems at the token endpoint as usual, its ID token with the same nonce.
async fn redeem_hybrid_code(idp: &mockidp::MockIdp, p: &Product, code: &str) {
    let client = format!("{}-hybrid", p.name);
    let secret = format!("{client}-secret");
    let (status, body) = status_json(
        post_form(
            &format!("{}/{}", issuer_url(idp, p), p.token),
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", CB),
                ("client_id", &client),
                ("client_secret", &secret),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let id_token = body["id_token"].as_str().unwrap();
    let (_, claims) = verify_with_discovery(id_token, &issuer_url(idp, p)).await;
    assert_eq!(claims["nonce"], "n-1", "{claims}");
    assert_eq!(claims.get("c_hash"), None, "{claims}");
}

/// Every response type each product lists (but `code` and `none`), answered in the fragment.
#[tokio::test]
async fn every_listed_response_type_answers_in_the_fragment() {
    let idp = start_with(&fixtures()).await;
    for p in [&KC, &IDS, &DOT] {
        let mut browser = logged_in(&idp, p).await;
        let discovery = get_json(&format!(
            "{}/.well-known/openid-configuration",
            issuer_url(&idp, p)
        ))
        .await;
        let listed = discovery["response_types_supported"].as_array().unwrap();
        for rt in listed.iter().filter_map(Value::as_str) {
            if rt == "code" || rt == "none" {
                continue;
            }
            let client = if rt.contains("code") {
                "hybrid"
            } else {
                "implicit"
            };
            let url = authorize_url(&idp, p, client, rt, "&nonce=n-1");
            let loc = redirect(&mut browser, &url).await;
            check_response(&idp, p, rt, &loc).await;
        }
    }
    let metrics = http()
        .get(format!("{}/_mockidp/metrics", idp.url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line =
        r#"mockidp_tokens_issued_total{issuer="ids",dialect="identityserver",grant="implicit"}"#;
    assert!(metrics.contains(line), "{metrics}");
}

/// OpenID Connect Core §3: the order of a response type's parts does not matter; form_post
/// carries the tokens too.
#[tokio::test]
async fn order_does_not_matter_and_form_post_carries_tokens() {
    let idp = start_with(&fixtures()).await;
    for p in [&KC, &IDS, &DOT] {
        let mut browser = logged_in(&idp, p).await;
        let url = authorize_url(&idp, p, "hybrid", "token id_token code", "&nonce=n-1");
        let loc = redirect(&mut browser, &url).await;
        check_response(&idp, p, "code id_token token", &loc).await;
        let url = authorize_url(
            &idp,
            p,
            "implicit",
            "id_token token",
            "&nonce=n-1&response_mode=form_post",
        );
        let resp = browser.get(&url).await;
        assert_eq!(resp.status(), 200);
        let html = resp.text().await.unwrap();
        assert!(html.contains("name=\"access_token\""), "{html}");
        assert!(html.contains("name=\"id_token\""), "{html}");
    }
}

/// The error a request got back in the fragment (`None` for a success).
fn fragment_error(loc: &str) -> Option<(String, Option<String>)> {
    let f = fragment(loc);
    let error = f.get("error")?.clone();
    assert!(!f.contains_key("access_token") && !f.contains_key("id_token"));
    assert_eq!(f["state"], "st");
    Some((error, f.get("error_description").cloned()))
}

/// OpenID Connect Core §3.2.2.1 / §3.3.2.11: `nonce` is required with an ID token; by
/// IdentityServer3 for every implicit or hybrid OpenID request; each in its product's words.
#[tokio::test]
async fn nonce_is_required_where_the_product_requires_it() {
    let idp = start_with(&fixtures()).await;
    let cases: [(&Product, &str, &str, Option<&str>); 9] = [
        (
            &KC,
            "implicit",
            "id_token token",
            Some("Missing parameter: nonce"),
        ),
        (
            &KC,
            "implicit",
            "id_token",
            Some("Missing parameter: nonce"),
        ),
        (&KC, "implicit", "token", None),
        (&KC, "hybrid", "code token", None),
        (
            &IDS,
            "implicit",
            "token",
            Some("Nonce required for implicit and hybrid flow with openid scope"),
        ),
        (
            &IDS,
            "hybrid",
            "code id_token",
            Some("Nonce required for implicit and hybrid flow with openid scope"),
        ),
        (
            &DOT,
            "implicit",
            "id_token token",
            Some("Request is missing mandatory nonce parameter."),
        ),
        (
            &DOT,
            "hybrid",
            "code id_token",
            Some("Request is missing mandatory nonce parameter."),
        ),
        (&DOT, "hybrid", "code token", None),
    ];
    for p in [&KC, &IDS, &DOT] {
        let mut browser = logged_in(&idp, p).await;
        for (_, client, rt, refusal) in cases.iter().filter(|c| c.0.name == p.name) {
            let loc = redirect(&mut browser, &authorize_url(&idp, p, client, rt, "")).await;
            match refusal {
                Some(words) => assert_eq!(
                    fragment_error(&loc),
                    Some(("invalid_request".into(), Some(words.to_string()))),
                    "{} {rt}: {loc}",
                    p.name
                ),
                None => assert_eq!(fragment_error(&loc), None, "{} {rt}: {loc}", p.name),
            }
        }
    }
}

/// A client without the flow gets its product's refusal: Keycloak's words in the fragment,
/// IdentityServer3's error page, and (Django OAuth Toolkit) mockidp's `unsupported_response_type`
/// in the query.
#[tokio::test]
async fn clients_without_the_flow_are_refused_as_their_product_refuses() {
    let idp = start_with(&fixtures()).await;
    let mut browser = Browserless::new();
    let kc_words = "Client is not allowed to initiate browser login with given response_type. \
                    Implicit flow is disabled for the client.";
    for rt in ["id_token token", "token", "code id_token"] {
        let url = authorize_url(&idp, &KC, "code", rt, "&nonce=n-1");
        let loc = redirect(&mut browser, &url).await;
        let error = fragment_error(&loc);
        assert_eq!(
            error,
            Some(("unauthorized_client".into(), Some(kc_words.into()))),
            "{loc}"
        );
        assert_eq!(fragment(&loc)["iss"], issuer_url(&idp, &KC));
    }
    // Keycloak's hybrid needs the standard flow too.
    let url = authorize_url(&idp, &KC, "implicit", "code id_token", "&nonce=n-1");
    let loc = redirect(&mut browser, &url).await;
    let standard = "Client is not allowed to initiate browser login with given response_type. \
                    Standard flow is disabled for the client.";
    assert_eq!(
        fragment_error(&loc),
        Some(("unauthorized_client".into(), Some(standard.into()))),
        "{loc}"
    );
    // IdentityServer3: the flow must be the client's (ErrorTypes.User: its error page).
    for (client, rt) in [
        ("code", "id_token token"),
        ("implicit", "code id_token"),
        ("hybrid", "id_token"),
        ("implicit", "code"),
    ] {
        let url = authorize_url(&idp, &IDS, client, rt, "&nonce=n-1");
        let resp = http().get(&url).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{client} {rt}");
        assert!(resp.headers().get("location").is_none());
        let html = resp.text().await.unwrap();
        assert!(
            html.contains("unauthorized_client"),
            "{client} {rt}: {html}"
        );
    }
    for rt in ["id_token token", "code id_token"] {
        let url = authorize_url(&idp, &DOT, "code", rt, "&nonce=n-1");
        let loc = redirect(&mut browser, &url).await;
        let q = query_params(&loc);
        assert_eq!(q["error"], "unsupported_response_type", "{loc}");
        assert!(!loc.contains('#'), "{loc}");
    }
}

/// OAuth 2.0 Multiple Response Types §5: tokens never travel in the query.
#[tokio::test]
async fn tokens_are_never_sent_in_the_query() {
    let idp = start_with(&fixtures()).await;
    for p in [&KC, &IDS, &DOT] {
        let mut browser = logged_in(&idp, p).await;
        for (client, rt) in [("implicit", "id_token token"), ("hybrid", "code id_token")] {
            let url = authorize_url(&idp, p, client, rt, "&nonce=n-1&response_mode=query");
            let resp = browser.get(&url).await;
            if p.name == "ids" {
                // IdentityServer3: "Invalid response_mode for flow", ErrorTypes.User.
                assert_eq!(resp.status(), 400);
                let html = resp.text().await.unwrap();
                assert!(html.contains("unsupported_response_type"), "{html}");
                continue;
            }
            assert_eq!(resp.status(), 302);
            let loc = location(&resp);
            assert!(!loc.contains('#'), "{loc}");
            let q = query_params(&loc);
            assert_eq!(q["error"], "invalid_request", "{loc}");
            assert!(
                !q.contains_key("access_token") && !q.contains_key("code"),
                "{loc}"
            );
            if p.name == "kc" {
                assert_eq!(
                    q["error_description"],
                    "Response_mode 'query' not allowed for implicit or hybrid flow"
                );
            }
        }
    }
}

/// Discovery lists each product's own response types, each of them answered; Keycloak's `none`
/// answers with `state` and `session_state` alone.
#[tokio::test]
async fn discovery_lists_each_products_response_types() {
    let idp = start_with(&fixtures()).await;
    let listed = |p: &'static Product| {
        let url = format!("{}/.well-known/openid-configuration", issuer_url(&idp, p));
        async move { get_json(&url).await["response_types_supported"].clone() }
    };
    assert_eq!(
        listed(&KC).await,
        json!([
            "code",
            "none",
            "id_token",
            "token",
            "id_token token",
            "code id_token",
            "code token",
            "code id_token token"
        ])
    );
    assert_eq!(
        listed(&IDS).await,
        json!([
            "code",
            "token",
            "id_token",
            "id_token token",
            "code id_token",
            "code token",
            "code id_token token"
        ])
    );
    assert_eq!(
        listed(&DOT).await,
        json!([
            "code",
            "token",
            "id_token",
            "id_token token",
            "code token",
            "code id_token",
            "code id_token token"
        ])
    );
    let mut browser = logged_in(&idp, &KC).await;
    let loc = redirect(
        &mut browser,
        &authorize_url(&idp, &KC, "hybrid", "none", ""),
    )
    .await;
    let q = query_params(&loc);
    assert_eq!(q["state"], "st", "{loc}");
    assert!(q.contains_key("session_state"), "{loc}");
    assert!(!q.contains_key("code") && !loc.contains('#'), "{loc}");
    // Products without `none`: unsupported_response_type.
    let mut browser = logged_in(&idp, &DOT).await;
    let loc = redirect(
        &mut browser,
        &authorize_url(&idp, &DOT, "hybrid", "none", ""),
    )
    .await;
    assert_eq!(query_params(&loc)["error"], "unsupported_response_type");
}

/// `implicit_flow` and `hybrid_flow` are client switches; Keycloak has no hybrid one.
#[tokio::test]
async fn fixtures_switch_the_browser_flows_per_product() {
    let kc_hybrid = r#"
[[issuer]]
name = "kc"
dialect = "keycloak"

[[issuer.client]]
id = "c"
hybrid_flow = true
redirect_uris = ["http://localhost:8080/cb"]
"#;
    let err = mockidp::Config::from_toml(kc_hybrid)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Keycloak has no hybrid flow switch") && err.contains("implicit_flow = true"),
        "{err}"
    );
    assert!(mockidp::Config::from_toml(&fixtures()).is_ok());
    // Not a grant: a token endpoint grant type stays refused there.
    let grant = kc_hybrid.replace("hybrid_flow = true", "grants = [\"implicit\"]");
    let err = mockidp::Config::from_toml(&grant).unwrap_err().to_string();
    assert!(err.contains("unknown grant \"implicit\""), "{err}");
}
