//! The admin API under `/_mockidp/`: runtime clients and users, claim overrides, token defects,
//! endpoint failures, the journal, the clock, key rotation, reset, the admin token and minting.
//! Every operation is checked through its effect on the public endpoints, not only through what
//! the admin API answers.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mockidp::MockIdp;
use serde_json::{Value, json};

use crate::util::*;

const CB: &str = "http://localhost:8080/callback";

// ---------------------------------------------------------------------------------------------
// Helpers

/// Sends an admin request (`path` relative to `/_mockidp`, e.g. `/clock`) with an optional raw
/// body; returns status and JSON body.
async fn admin_raw(idp: &MockIdp, method: &str, path: &str, body: Option<String>) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = http().request(method, format!("{}{path}", idp.admin_url()));
    if let Some(body) = body {
        req = req.header("Content-Type", "application/json").body(body);
    }
    let resp = tokio::time::timeout(Duration::from_secs(10), req.send())
        .await
        .expect("the admin API answers within 10 s")
        .unwrap();
    status_json(resp).await
}

async fn admin_get(idp: &MockIdp, path: &str) -> (u16, Value) {
    admin_raw(idp, "GET", path, None).await
}

async fn admin_post(idp: &MockIdp, path: &str, body: Value) -> (u16, Value) {
    admin_raw(idp, "POST", path, Some(body.to_string())).await
}

async fn admin_put(idp: &MockIdp, path: &str, body: Value) -> (u16, Value) {
    admin_raw(idp, "PUT", path, Some(body.to_string())).await
}

async fn admin_delete(idp: &MockIdp, path: &str) -> (u16, Value) {
    admin_raw(idp, "DELETE", path, None).await
}

/// Iopole's token endpoint.
fn kc_token_url(idp: &MockIdp) -> String {
    format!("{}/realms/iopole/protocol/openid-connect/token", idp.url())
}

/// A client-credentials request at Iopole's token endpoint (secret in the form).
async fn kc_cc(idp: &MockIdp, id: &str, secret: &str) -> (u16, Value) {
    status_json(
        post_form(
            &kc_token_url(idp),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
            ],
        )
        .await,
    )
    .await
}

/// A `clientId` access token from Iopole (panics unless 200).
async fn cc_token(idp: &MockIdp) -> String {
    let (status, body) = kc_cc(idp, "clientId", "clientSecret").await;
    assert_eq!(status, 200, "clientId gets a token: {body}");
    body["access_token"].as_str().unwrap().to_string()
}

/// A `generic-confidential` access token from the generic issuer (HTTP Basic).
async fn generic_cc_token(idp: &MockIdp) -> String {
    let (status, body) = cc_basic(
        &format!("{}/token/", idp.url()),
        "generic-confidential",
        "generic-confidential-secret",
    )
    .await;
    assert_eq!(status, 200, "generic-confidential gets a token: {body}");
    body["access_token"].as_str().unwrap().to_string()
}

/// Logs `username` in through the generic issuer's code flow (public client `generic-public`,
/// PKCE); returns the code and the PKCE verifier.
async fn generic_code(idp: &MockIdp, username: &str, password: &str) -> (String, String) {
    let (verifier, challenge) = pkce_pair();
    let url = format!(
        "{}/authorize/?response_type=code&client_id=generic-public&redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&scope=openid%20email%20read&code_challenge={challenge}&code_challenge_method=S256",
        idp.url()
    );
    let loc = Browserless::new().authorize(&url, username, password).await;
    let q = query_params(&loc);
    let code = q
        .get("code")
        .unwrap_or_else(|| panic!("no code in {loc}"))
        .clone();
    (code, verifier)
}

/// Redeems a generic-public code.
async fn redeem_generic(idp: &MockIdp, code: &str, verifier: &str) -> (u16, Value) {
    status_json(
        post_form(
            &format!("{}/token/", idp.url()),
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "generic-public"),
                ("code", code),
                ("redirect_uri", CB),
                ("code_verifier", verifier),
            ],
        )
        .await,
    )
    .await
}

/// The whole generic code flow: the token response (panics unless 200).
async fn generic_login(idp: &MockIdp, username: &str, password: &str) -> Value {
    let (code, verifier) = generic_code(idp, username, password).await;
    let (status, body) = redeem_generic(idp, &code, &verifier).await;
    assert_eq!(status, 200, "the code redeems: {body}");
    body
}

/// Header and claims of a JWT, without verifying anything.
fn decode_unverified(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT has three parts: {token}");
    let part = |s: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).expect("base64url")).expect("JSON")
    };
    (part(parts[0]), part(parts[1]))
}

/// Seconds since the Unix epoch (real time).
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The client ids of issuer `name` as `GET /_mockidp/issuers` lists them.
async fn listed_clients(idp: &MockIdp, name: &str) -> Vec<String> {
    let (status, issuers) = admin_get(idp, "/issuers").await;
    assert_eq!(status, 200, "{issuers}");
    let issuer = issuers
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("no issuer {name} in {issuers}"));
    issuer["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

/// Number of keys the JWKS at `url` publishes.
async fn jwks_len(url: &str) -> usize {
    get_json(url).await["keys"].as_array().unwrap().len()
}

/// Asserts an admin refusal: the status and an `error_description`.
fn assert_refused(what: &str, (status, body): &(u16, Value), expected: u16) {
    assert_eq!(*status, expected, "{what}: {body}");
    assert!(
        body["error"].is_string() && !body["error_description"].as_str().unwrap_or("").is_empty(),
        "{what}: a refusal has error and error_description: {body}"
    );
}

/// The journal entries matching a query string such as `client_id=clientId`.
async fn journal_where(idp: &MockIdp, query: &str) -> Vec<Value> {
    let (status, j) = admin_get(idp, &format!("/journal?{query}")).await;
    assert_eq!(status, 200, "{query}: {j}");
    j.as_array().unwrap().clone()
}

/// POSTs to Iopole's introspection endpoint as `clientId`; returns `active`.
async fn kc_active(idp: &MockIdp, token: &str) -> bool {
    let (status, info) = status_json(
        http()
            .post(format!("{}/introspect", kc_token_url(idp)))
            .basic_auth("clientId", Some("clientSecret"))
            .form(&[("token", token)])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "introspection answers: {info}");
    info["active"].as_bool().expect("active is a boolean")
}

/// GET /resource/ on the generic issuer with a bearer token.
async fn resource(idp: &MockIdp, token: &str) -> (u16, Value) {
    status_json(
        http()
            .get(format!("{}/resource/", idp.url()))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// OpenAPI

/// The OpenAPI document is 3.1.0, names the admin schemas, and agrees with the router: every
/// documented path and method reaches an operation; bogus paths get 404.
#[tokio::test]
async fn openapi_document_matches_the_router() {
    let idp = start().await;
    let (status, doc) = admin_get(&idp, "/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["servers"][0]["url"], "/_mockidp");
    for schema in [
        "Client",
        "User",
        "Override",
        "Defect",
        "Failure",
        "JournalEntry",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "components.schemas lacks {schema}"
        );
    }

    // Every operation the router knows is documented.
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in [
        ("get", "/health"),
        ("get", "/ready"),
        ("get", "/openapi.json"),
        ("get", "/issuers"),
        ("get", "/issuers/{issuer}/clients/{client_id}"),
        ("put", "/issuers/{issuer}/clients/{client_id}"),
        ("delete", "/issuers/{issuer}/clients/{client_id}"),
        ("get", "/issuers/{issuer}/users/{username}"),
        ("put", "/issuers/{issuer}/users/{username}"),
        ("delete", "/issuers/{issuer}/users/{username}"),
        ("post", "/overrides"),
        ("post", "/defects"),
        ("post", "/failures"),
        ("get", "/queue"),
        ("delete", "/queue"),
        ("delete", "/overrides"),
        ("delete", "/defects"),
        ("delete", "/failures"),
        ("get", "/journal"),
        ("delete", "/journal"),
        ("get", "/clock"),
        ("post", "/clock"),
        ("get", "/keys"),
        ("post", "/keys/rotate"),
        ("post", "/reset"),
        ("post", "/tokens"),
        ("post", "/issuers/{issuer}/sessions"),
        ("post", "/issuers/{issuer}/device/{user_code}"),
        ("get", "/session-links/{ticket}"),
        ("get", "/namespaces"),
        ("post", "/namespaces"),
        ("get", "/namespaces/{id}"),
        ("delete", "/namespaces/{id}"),
        ("get", "/ns/{namespace}/clock"),
        ("post", "/ns/{namespace}/clock"),
        ("post", "/ns/{namespace}/failures"),
        (
            "put",
            "/ns/{namespace}/issuers/{issuer}/clients/{client_id}",
        ),
        ("get", "/ns/{namespace}/journal"),
        ("post", "/ns/{namespace}/reset"),
    ] {
        assert!(
            paths.get(path).is_some_and(|p| p[method].is_object()),
            "{method} {path} is not documented"
        );
    }

    // Every documented operation reaches the router (never "no admin operation"), in a
    // namespace too (one that the documented DELETE /namespaces/{id} does not remove).
    let ns = idp.namespace().unwrap();
    let doomed = idp.namespace().unwrap();
    let mut checked = 0;
    for (path, item) in paths {
        let concrete = path
            .replace("{namespace}", ns.id())
            .replace("{id}", doomed.id())
            .replace("{issuer}", "iopole")
            .replace("{client_id}", "clientId")
            .replace("{username}", "alice");
        for (method, _) in item.as_object().unwrap() {
            let has_body = match method.as_str() {
                "get" | "delete" => false,
                "post" | "put" => true,
                _ => continue, // parameters, summary, ...
            };
            let body = has_body.then(|| "{}".to_string());
            let (status, answer) = admin_raw(&idp, &method.to_uppercase(), &concrete, body).await;
            let description = answer["error_description"].as_str().unwrap_or("");
            assert!(
                !description.contains("no admin operation")
                    && !description.contains("no namespace"),
                "{method} {path} is documented but not routed: {status} {answer}"
            );
            assert_ne!(status, 405, "{method} {path}: {answer}");
            assert!(status < 500, "{method} {path}: {status} {answer}");
            checked += 1;
        }
    }
    assert!(checked >= 50, "only {checked} operations documented");

    // A documented path with another method: 405 listing the documented ones (RFC 9110
    // §15.5.6).
    for (method, path, allow) in [
        ("POST", "/issuers", "GET"),
        ("DELETE", "/clock", "GET, POST"),
        ("TRACE", "/health", "GET"),
        ("PUT", "/keys/rotate", "POST"),
    ] {
        let resp = http()
            .request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{}/_mockidp{path}", idp.url()),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 405, "{method} {path}");
        assert_eq!(resp.headers()["allow"], allow, "{method} {path}");
    }

    // Bogus paths are refused.
    for (method, path) in [
        ("GET", "/nope"),
        ("GET", "/issuers/iopole"),
        ("GET", "/issuers/iopole/clients"),
        ("POST", "/keys/rotate/now"),
        ("GET", "/journal/1"),
    ] {
        let (status, body) = admin_raw(&idp, method, path, None).await;
        assert_eq!(status, 404, "{method} {path}: {body}");
        assert_eq!(body["error"], "not_found", "{method} {path}");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("no admin operation"),
            "{method} {path}: {body}"
        );
    }
}

/// The enums the document gives for defects and failure endpoints are exactly what the router
/// accepts.
#[tokio::test]
async fn openapi_enums_are_accepted() {
    let idp = start().await;
    let (_, doc) = admin_get(&idp, "/openapi.json").await;
    let schemas = &doc["components"]["schemas"];
    for defect in schemas["Defect"]["properties"]["defect"]["enum"]
        .as_array()
        .unwrap()
    {
        let r = admin_post(
            &idp,
            "/defects",
            json!({"defect": defect, "client_id": "nobody"}),
        )
        .await;
        assert_eq!(r.0, 201, "defect {defect}: {}", r.1);
    }
    for endpoint in schemas["Failure"]["properties"]["endpoint"]["enum"]
        .as_array()
        .unwrap()
    {
        let r = admin_post(
            &idp,
            "/failures",
            json!({"endpoint": endpoint, "issuer": "nobody"}),
        )
        .await;
        assert_eq!(r.0, 201, "failure endpoint {endpoint}: {}", r.1);
    }
    let r = admin_post(&idp, "/defects", json!({"defect": "slightly_off"})).await;
    assert_refused("unknown defect", &r, 400);
    // ... and the enum lists every endpoint the server accepts.
    let (_, err) = admin_post(&idp, "/failures", json!({"endpoint": "nowhere"})).await;
    let described = err["error_description"].as_str().unwrap();
    let accepted: Vec<&str> = described
        .split("one of: ")
        .nth(1)
        .unwrap()
        .split(", ")
        .collect();
    let documented: Vec<&str> = schemas["Failure"]["properties"]["endpoint"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(accepted, documented);
}

// ---------------------------------------------------------------------------------------------
// Clients and users

/// A client added at runtime gets tokens at the public endpoint; replacing it changes them;
/// deleting it makes the token endpoint refuse it.
#[tokio::test]
async fn clients_are_added_replaced_and_deleted_at_runtime() {
    let idp = start().await;
    let path = "/issuers/iopole/clients/new-svc";
    let (status, _) = kc_cc(&idp, "new-svc", "s").await;
    assert_eq!(status, 401, "unknown before");

    let (status, body) = admin_put(
        &idp,
        path,
        json!({"secret": "s", "grants": ["client_credentials"], "roles": ["admin"], "scopes": ["profile"]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["id"], "new-svc");
    let (status, body) = kc_cc(&idp, "new-svc", "s").await;
    assert_eq!(status, 200, "{body}");
    let issuer = idp.issuer_url("iopole").unwrap();
    let (_, claims) = verify_with_discovery(body["access_token"].as_str().unwrap(), &issuer).await;
    assert_eq!(claims["azp"], "new-svc");
    assert!(
        claims["realm_access"]["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("admin")),
        "{claims}"
    );
    let (status, _) = kc_cc(&idp, "new-svc", "wrong").await;
    assert_eq!(status, 401, "the runtime client's secret is checked");

    // Replace.
    let (status, body) = admin_put(
        &idp,
        path,
        json!({"id": "new-svc", "secret": "s", "grants": ["client_credentials"], "roles": ["user"], "scopes": ["profile"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = kc_cc(&idp, "new-svc", "s").await;
    assert_eq!(status, 200, "{body}");
    let (_, claims) = decode_unverified(body["access_token"].as_str().unwrap());
    let roles = claims["realm_access"]["roles"].as_array().unwrap();
    assert!(roles.contains(&json!("user")), "{claims}");
    assert!(!roles.contains(&json!("admin")), "{claims}");

    let (status, body) = admin_get(&idp, path).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], "new-svc");
    assert_eq!(body["roles"], json!(["user"]));
    assert_eq!(body["grants"], json!(["client_credentials"]));
    assert!(
        listed_clients(&idp, "iopole")
            .await
            .contains(&"new-svc".to_string())
    );

    // Delete.
    let (status, body) = admin_delete(&idp, path).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = kc_cc(&idp, "new-svc", "s").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{body}"
    );
    let r = admin_delete(&idp, path).await;
    assert_refused("deleting twice", &r, 404);
    let r = admin_get(&idp, path).await;
    assert_refused("getting a deleted client", &r, 404);
    assert!(
        !listed_clients(&idp, "iopole")
            .await
            .contains(&"new-svc".to_string())
    );
    // The fixture clients are untouched.
    cc_token(&idp).await;
}

/// A user added at runtime logs in through the code flow and their claims reach the ID token.
#[tokio::test]
async fn users_are_added_and_deleted_at_runtime() {
    let idp = start().await;
    let path = "/issuers/generic/users/carol";
    let (status, body) = admin_put(
        &idp,
        path,
        json!({"password": "pw", "claims": {"email": "carol@example.test"}}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["username"], "carol");
    let (status, body) = admin_get(&idp, path).await;
    assert_eq!(
        (status, &body["username"]),
        (200, &json!("carol")),
        "{body}"
    );

    let tokens = generic_login(&idp, "carol", "pw").await;
    let issuer = idp.issuer_url("generic").unwrap();
    let (_, id) = verify_with_discovery(tokens["id_token"].as_str().unwrap(), &issuer).await;
    assert_eq!(id["email"], "carol@example.test", "{id}");
    assert_eq!(id["aud"], "generic-public");

    let (pending_code, verifier) = generic_code(&idp, "carol", "pw").await;
    let (status, body) = admin_delete(&idp, path).await;
    assert_eq!(status, 204, "{body}");
    let r = admin_get(&idp, path).await;
    assert_refused("a deleted user", &r, 404);
    let (status, body) = redeem_generic(&idp, &pending_code, &verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "a code issued before the delete: {body}"
    );
    // Their tokens died with them: userinfo refuses the access token, refresh the refresh token.
    let (status, _) = status_json(
        http()
            .get(format!("{}/userinfo/", idp.url()))
            .bearer_auth(tokens["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401, "a deleted user's access token");
    let (status, body) = status_json(
        post_form(
            &format!("{}/token/", idp.url()),
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "generic-public"),
                ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let r = admin_delete(&idp, path).await;
    assert_refused("deleting a user twice", &r, 404);
}

/// Malformed or inconsistent client changes are refused with a description and change nothing.
#[tokio::test]
async fn bad_client_changes_are_refused_and_change_nothing() {
    let idp = start().await;
    let before = listed_clients(&idp, "iopole").await;
    let cases: [(&str, &str, &str, u16); 7] = [
        (
            "invalid JSON",
            "/issuers/iopole/clients/bad-svc",
            "{\"secret\": ",
            400,
        ),
        (
            "not an object",
            "/issuers/iopole/clients/bad-svc",
            "[1, 2]",
            400,
        ),
        (
            "id differs from the path",
            "/issuers/iopole/clients/bad-svc",
            r#"{"id": "other", "secret": "s", "grants": ["client_credentials"]}"#,
            400,
        ),
        (
            "unknown grant",
            "/issuers/iopole/clients/bad-svc",
            r#"{"secret": "s", "grants": ["magic"]}"#,
            400,
        ),
        (
            "unknown field",
            "/issuers/iopole/clients/bad-svc",
            r#"{"secret": "s", "grants": ["client_credentials"], "colour": "red"}"#,
            400,
        ),
        (
            "unknown issuer",
            "/issuers/nowhere/clients/bad-svc",
            r#"{"secret": "s", "grants": ["client_credentials"]}"#,
            404,
        ),
        (
            "replacing a fixture client with a bad grant",
            "/issuers/iopole/clients/clientId",
            r#"{"secret": "clientSecret", "grants": ["magic"]}"#,
            400,
        ),
    ];
    for (what, path, body, expected) in cases {
        let r = admin_raw(&idp, "PUT", path, Some(body.to_string())).await;
        assert_refused(what, &r, expected);
    }
    let r = admin_put(&idp, "/issuers/iopole/users/dave", json!({"pwd": "x"})).await;
    assert_refused("unknown user field", &r, 400);
    let r = admin_get(&idp, "/issuers/nowhere/users/alice").await;
    assert_refused("user at an unknown issuer", &r, 404);

    assert_eq!(listed_clients(&idp, "iopole").await, before);
    let (status, _) = kc_cc(&idp, "bad-svc", "s").await;
    assert_eq!(status, 401, "no bad-svc was added");
    // clientId still works as before.
    let (_, claims) = decode_unverified(&cc_token(&idp).await);
    assert_eq!(claims["azp"], "clientId");
}

// ---------------------------------------------------------------------------------------------
// Overrides and defects

/// An override changes claims (null removes one) and header members of the next token only.
#[tokio::test]
async fn overrides_apply_to_the_next_token_only() {
    let idp = start().await;
    let (status, body) = admin_post(
        &idp,
        "/overrides",
        json!({"issuer": "iopole", "client_id": "clientId", "count": 1,
               "claims": {"tenant": "acme", "azp": null}, "header": {"kid": "custom-kid"}}),
    )
    .await;
    assert_eq!(status, 201, "{body}");

    let (header, claims) = decode_unverified(&cc_token(&idp).await);
    assert_eq!(claims["tenant"], "acme", "{claims}");
    assert!(claims.get("azp").is_none(), "azp removed: {claims}");
    assert_eq!(header["kid"], "custom-kid", "{header}");

    let after = cc_token(&idp).await;
    let (header, claims) = decode_unverified(&after);
    assert!(claims.get("tenant").is_none(), "{claims}");
    assert_eq!(claims["azp"], "clientId", "{claims}");
    assert_ne!(header["kid"], "custom-kid");
    verify_with_discovery(&after, &idp.issuer_url("iopole").unwrap()).await;

    // Another client is not targeted.
    admin_post(
        &idp,
        "/overrides",
        json!({"client_id": "iopole-admin", "claims": {"tenant": "other"}}),
    )
    .await;
    let (_, claims) = decode_unverified(&cc_token(&idp).await);
    assert!(claims.get("tenant").is_none(), "{claims}");
    let (_, body) = kc_cc(&idp, "iopole-admin", "iopole-admin-secret").await;
    let (_, claims) = decode_unverified(body["access_token"].as_str().unwrap());
    assert_eq!(claims["tenant"], "other");
}

/// An `id_token` override shows in the next ID token, not in the access token beside it.
#[tokio::test]
async fn id_token_overrides_leave_the_access_token_alone() {
    let idp = start().await;
    let (status, body) = admin_post(
        &idp,
        "/overrides",
        json!({"issuer": "generic", "client_id": "generic-public", "token": "id_token",
               "claims": {"favourite": "tea", "email": null}}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let tokens = generic_login(&idp, "alice", "alice").await;
    let (_, id) = decode_unverified(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["favourite"], "tea", "{id}");
    assert!(id.get("email").is_none(), "{id}");
    let (_, at) = decode_unverified(tokens["access_token"].as_str().unwrap());
    assert!(at.get("favourite").is_none(), "{at}");

    let tokens = generic_login(&idp, "alice", "alice").await;
    let (_, id) = decode_unverified(tokens["id_token"].as_str().unwrap());
    assert!(id.get("favourite").is_none(), "used once: {id}");
    assert_eq!(id["email"], "alice@example.test");
}

/// Each defect breaks the next token in the way a verifier must catch; the token after is good.
#[tokio::test]
async fn defects_break_the_next_token_only() {
    let idp = start().await;
    let issuer = idp.issuer_url("iopole").unwrap();
    let mut expired_problem = None;
    for defect in [
        "expired",
        "not_yet_valid",
        "wrong_issuer",
        "wrong_audience",
        "bad_signature",
        "unknown_kid",
        "alg_none",
    ] {
        let (status, body) = admin_post(
            &idp,
            "/defects",
            json!({"issuer": "iopole", "client_id": "clientId", "defect": defect}),
        )
        .await;
        assert_eq!(status, 201, "{defect}: {body}");
        let bad = cc_token(&idp).await;
        let (header, claims) = decode_unverified(&bad);
        let verified = try_verify(&bad, &issuer).await;
        match defect {
            "expired" => {
                let exp = claims["exp"].as_u64().unwrap();
                // Verifiers allow clock skew: 60 s by default in jsonwebtoken and Spring
                // Security, 5 minutes in .NET. An expired token must be outside all of them.
                // Checked after the loop, so every other defect is still exercised.
                if exp + 300 >= now() {
                    expired_problem = Some(format!(
                        "expired: exp {exp} is only {} s in the past, inside common verifiers' \
                         default clock-skew leeway (60 s jsonwebtoken/Spring, 300 s .NET); \
                         try_verify (jsonwebtoken, default leeway) answered {:?}: {claims}",
                        now().saturating_sub(exp),
                        verified.as_ref().map(|_| "Ok (accepted)")
                    ));
                } else {
                    let err = verified.expect_err("an expired token is refused");
                    assert!(err.contains("Expired"), "{defect}: {err}");
                }
            }
            "not_yet_valid" => {
                let nbf = claims["nbf"].as_u64().expect("nbf is set");
                assert!(nbf > now() + 300, "{claims}");
            }
            "wrong_issuer" => {
                assert_ne!(claims["iss"], json!(issuer));
                let err = verified.expect_err("a foreign issuer is refused");
                assert!(err.contains("Issuer"), "{defect}: {err}");
            }
            "wrong_audience" => {
                assert_eq!(claims["aud"], "wrong-audience", "{claims}");
            }
            "bad_signature" => {
                assert_eq!(header["alg"], "RS256");
                let err = verified.expect_err("a bad signature is refused");
                assert!(err.contains("Signature"), "{defect}: {err}");
            }
            "unknown_kid" => {
                let err = verified.expect_err("an unknown kid is refused");
                assert!(err.contains("kid"), "{defect}: {err}");
            }
            "alg_none" => {
                assert_eq!(header["alg"], "none", "{header}");
                assert!(bad.ends_with('.'), "no signature: {bad}");
                verified.expect_err("alg none is refused");
            }
            _ => unreachable!(),
        }
        let good = cc_token(&idp).await;
        let (_, claims) = verify_with_discovery(&good, &issuer).await;
        assert_eq!(claims["azp"], "clientId", "after {defect}");
        assert!(
            claims
                .get("nbf")
                .is_none_or(|n| n.as_u64().unwrap() <= now())
        );
    }
    let (_, queue) = admin_get(&idp, "/queue").await;
    assert_eq!(queue["defects"], json!([]), "{queue}");
    if let Some(problem) = expired_problem {
        panic!("{problem}");
    }
}

/// mockidp's own protected resource refuses defective generic tokens.
#[tokio::test]
async fn the_resource_refuses_defective_tokens() {
    let idp = start().await;
    let mut accepted = Vec::new();
    for defect in [
        "expired",
        "bad_signature",
        "unknown_kid",
        "alg_none",
        "wrong_issuer",
    ] {
        let (status, body) = admin_post(
            &idp,
            "/defects",
            json!({"issuer": "generic", "client_id": "generic-confidential", "defect": defect}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let bad = generic_cc_token(&idp).await;
        let (status, body) = resource(&idp, &bad).await;
        if (status, body["error"].as_str()) != (401, Some("invalid_token")) {
            accepted.push(format!("{defect}: {status} {body}"));
        }
        let (status, body) = resource(&idp, &generic_cc_token(&idp).await).await;
        assert_eq!(status, 200, "the token after {defect}: {body}");
    }
    assert!(
        accepted.is_empty(),
        "/resource/ should answer 401 invalid_token to every defective token; it accepted:\n{}",
        accepted.join("\n")
    );
}

/// Keycloak's introspection reports defective tokens as inactive, as a real Keycloak would.
#[tokio::test]
async fn introspection_reports_defective_tokens_inactive() {
    let idp = start().await;
    let mut active = Vec::new();
    for defect in [
        "expired",
        "bad_signature",
        "unknown_kid",
        "alg_none",
        "wrong_issuer",
    ] {
        admin_post(
            &idp,
            "/defects",
            json!({"issuer": "iopole", "client_id": "clientId", "defect": defect}),
        )
        .await;
        if kc_active(&idp, &cc_token(&idp).await).await {
            active.push(defect);
        }
        assert!(
            kc_active(&idp, &cc_token(&idp).await).await,
            "after {defect}"
        );
    }
    assert!(
        active.is_empty(),
        "introspection calls these defective tokens active: {active:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Failures

/// A queued status answers the next call instead of the endpoint; the one after is normal.
#[tokio::test]
async fn failures_answer_with_a_status_then_recover() {
    let idp = start().await;
    let (status, body) = admin_post(
        &idp,
        "/failures",
        json!({"endpoint": "token", "issuer": "iopole", "status": 503,
               "error": "temporarily_unavailable", "count": 1}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (_, queue) = admin_get(&idp, "/queue").await;
    let failures = queue["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{queue}");
    assert_eq!(failures[0]["endpoint"], "token");
    assert_eq!(failures[0]["status"], 503);
    assert_eq!(failures[0]["count"], 1);

    // Another issuer's token endpoint is not targeted.
    generic_cc_token(&idp).await;
    let (status, body) = kc_cc(&idp, "clientId", "clientSecret").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable");
    cc_token(&idp).await;

    let (_, queue) = admin_get(&idp, "/queue").await;
    assert_eq!(queue["failures"], json!([]), "{queue}");
    let (_, journal) = admin_get(&idp, "/journal?outcome=injected_failure").await;
    let entries = journal.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{journal}");
    assert_eq!(entries[0]["status"], 503);
}

/// A delay slows the next call down, which still succeeds.
#[tokio::test]
async fn failures_delay_the_next_call() {
    let idp = start().await;
    let (status, body) = admin_post(
        &idp,
        "/failures",
        json!({"endpoint": "token", "delay_ms": 300}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let started = Instant::now();
    cc_token(&idp).await;
    let slow = started.elapsed();
    assert!(slow >= Duration::from_millis(300), "took {slow:?}");
    assert!(slow < Duration::from_secs(5), "took {slow:?}");
    let started = Instant::now();
    cc_token(&idp).await;
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "the next is not delayed"
    );
}

/// A dropped connection fails at the client; the next call works.
#[tokio::test]
async fn failures_drop_the_connection() {
    let idp = start().await;
    let jwks = format!("{}/realms/iopole/protocol/openid-connect/certs", idp.url());
    let (status, body) =
        admin_post(&idp, "/failures", json!({"endpoint": "jwks", "drop": true})).await;
    assert_eq!(status, 201, "{body}");
    let attempt = tokio::time::timeout(Duration::from_secs(10), async {
        match http().get(&jwks).send().await {
            Ok(resp) => resp.text().await.map(|_| ()),
            Err(e) => Err(e),
        }
    })
    .await
    .expect("a dropped connection ends within 10 s");
    assert!(attempt.is_err(), "the client sees the connection cut");
    assert_eq!(jwks_len(&jwks).await, 1);

    let (_, journal) = admin_get(&idp, "/journal?endpoint=jwks").await;
    let outcomes: Vec<&Value> = journal
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["outcome"])
        .collect();
    assert_eq!(outcomes, [&json!("dropped"), &json!("ok")], "{journal}");
}

/// Failures naming an unknown endpoint or an impossible status are refused.
#[tokio::test]
async fn bad_failures_are_refused() {
    let idp = start().await;
    for body in [
        json!({"endpoint": "tokens"}),
        json!({"endpoint": "token", "status": 42}),
        json!({"endpoint": "token", "status": 1000}),
        json!({"endpoint": "token", "status": 101}),
        json!({"endpoint": "token", "status": 100}),
        json!({"endpoint": "token", "status": 600}),
        json!({"endpoint": "token", "colour": "red"}),
        json!({"status": 503}),
        json!({"endpoint": "token", "status": 503, "count": 0}),
    ] {
        let r = admin_post(&idp, "/failures", body.clone()).await;
        assert_refused(&body.to_string(), &r, 400);
    }
    // A count of 0 is refused for every kind of rule (the document's minimum is 1).
    for (path, body) in [
        ("/overrides", json!({"count": 0, "claims": {"x": 1}})),
        ("/defects", json!({"count": 0, "defect": "expired"})),
    ] {
        let r = admin_post(&idp, path, body.clone()).await;
        assert_refused(&body.to_string(), &r, 400);
    }
    let (_, queue) = admin_get(&idp, "/queue").await;
    assert_eq!(queue["failures"], json!([]), "nothing queued: {queue}");
    cc_token(&idp).await;
}

// ---------------------------------------------------------------------------------------------
// Journal

/// The journal lists requests in order with who and how they ended, filters them, never holds a
/// secret, token or query string, and can be cleared; admin calls are not journaled.
#[tokio::test]
async fn the_journal_records_requests_without_secrets() {
    let idp = start().await;
    assert_eq!(admin_delete(&idp, "/journal").await.0, 204);

    let (status, good) = cc_basic(&kc_token_url(&idp), "clientId", "clientSecret").await;
    assert_eq!(status, 200, "{good}");
    let access_token = good["access_token"].as_str().unwrap();
    let (bad_status, bad) = kc_cc(&idp, "clientId", "not-the-secret-xyz").await;
    assert_eq!(bad_status, 401, "{bad}");
    let discovery = format!(
        "{}/realms/iopole/.well-known/openid-configuration?probe=query-marker-123",
        idp.url()
    );
    assert_eq!(http().get(&discovery).send().await.unwrap().status(), 200);

    let (status, journal) = admin_get(&idp, "/journal").await;
    assert_eq!(status, 200);
    let entries = journal.as_array().unwrap();
    assert_eq!(entries.len(), 3, "{journal}");
    let token_path = "/realms/iopole/protocol/openid-connect/token";
    let expect = [
        (
            "POST",
            token_path,
            Some("token"),
            Some("clientId"),
            Some("client_credentials"),
            200,
            "ok",
        ),
        (
            "POST",
            token_path,
            Some("token"),
            Some("clientId"),
            Some("client_credentials"),
            401,
            bad["error"].as_str().unwrap(),
        ),
        (
            "GET",
            "/realms/iopole/.well-known/openid-configuration",
            Some("discovery"),
            None,
            None,
            200,
            "ok",
        ),
    ];
    for (e, (method, path, endpoint, client, grant, status, outcome)) in entries.iter().zip(expect)
    {
        assert_eq!(e["method"], method, "{e}");
        assert_eq!(e["path"], path, "{e}");
        assert_eq!(e["issuer"], "iopole", "{e}");
        assert_eq!(e["endpoint"].as_str(), endpoint, "{e}");
        assert_eq!(e["client_id"].as_str(), client, "{e}");
        assert_eq!(e["grant_type"].as_str(), grant, "{e}");
        assert_eq!(e["status"], status, "{e}");
        assert_eq!(
            e["outcome"], outcome,
            "the outcome is the error the client saw: {e}"
        );
    }
    let seqs: Vec<u64> = entries.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "oldest first: {seqs:?}"
    );

    let text = journal.to_string();
    for secret in [
        "clientSecret",
        "not-the-secret-xyz",
        access_token,
        "query-marker-123",
        "probe=",
    ] {
        assert!(
            !text.contains(secret),
            "the journal leaks {secret:?}: {text}"
        );
    }
    assert!(!text.contains('?'), "no query string: {text}");

    // Filters.
    assert_eq!(journal_where(&idp, "client_id=clientId").await.len(), 2);
    assert_eq!(journal_where(&idp, "outcome=ok").await.len(), 2);
    assert_eq!(
        journal_where(&idp, "outcome=ok&endpoint=token").await.len(),
        1,
        "filters combine"
    );
    let discovery_only = journal_where(&idp, "endpoint=discovery").await;
    assert_eq!(discovery_only.len(), 1);
    assert_eq!(discovery_only[0]["method"], "GET");
    assert_eq!(
        journal_where(&idp, "grant_type=client_credentials")
            .await
            .len(),
        2
    );
    assert_eq!(journal_where(&idp, "issuer=iopole").await.len(), 3);
    assert_eq!(journal_where(&idp, "issuer=generic").await.len(), 0);
    let last = journal_where(&idp, "limit=1").await;
    assert_eq!(last.len(), 1);
    assert_eq!(last[0]["endpoint"], "discovery", "limit keeps the newest");

    // Clearing; admin calls never show.
    assert_eq!(admin_delete(&idp, "/journal").await.0, 204);
    admin_get(&idp, "/queue").await;
    admin_get(&idp, "/clock").await;
    let (_, journal) = admin_get(&idp, "/journal").await;
    assert_eq!(journal, json!([]));
}

// ---------------------------------------------------------------------------------------------
// Clock

/// Advancing the clock expires access tokens and authorization codes; the offset can be set
/// back; a change needs exactly one of advance_secs, offset_secs.
#[tokio::test]
async fn the_clock_expires_tokens_and_codes() {
    let idp = start().await;
    let (status, clock) = admin_get(&idp, "/clock").await;
    assert_eq!((status, &clock["offset_secs"]), (200, &json!(0)), "{clock}");
    let token = cc_token(&idp).await;
    assert!(kc_active(&idp, &token).await, "fresh token is active");

    let (status, clock) = admin_post(&idp, "/clock", json!({"advance_secs": 601})).await;
    assert_eq!(status, 200, "{clock}");
    assert_eq!(clock["offset_secs"], 601);
    assert!(clock["now"].as_u64().unwrap() >= now() + 600, "{clock}");
    assert!(
        !kc_active(&idp, &token).await,
        "600 s token expired after 601 s"
    );

    // Codes live 60 s.
    let (code, verifier) = generic_code(&idp, "alice", "alice").await;
    admin_post(&idp, "/clock", json!({"advance_secs": 61})).await;
    let (status, body) = redeem_generic(&idp, &code, &verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "expired code: {body}"
    );

    let (status, clock) = admin_post(&idp, "/clock", json!({"offset_secs": 0})).await;
    assert_eq!((status, &clock["offset_secs"]), (200, &json!(0)), "{clock}");
    let (_, clock) = admin_get(&idp, "/clock").await;
    assert_eq!(clock["offset_secs"], 0);
    assert!(
        kc_active(&idp, &token).await,
        "back in time, the token is valid again"
    );

    for body in [
        json!({"advance_secs": 1, "offset_secs": 1}),
        json!({}),
        json!({"advance_secs": "soon"}),
        json!({"rewind_secs": 1}),
    ] {
        let r = admin_post(&idp, "/clock", body.clone()).await;
        assert_refused(&body.to_string(), &r, 400);
    }
    let (_, clock) = admin_get(&idp, "/clock").await;
    assert_eq!(clock["offset_secs"], 0, "refusals change nothing");
}

// ---------------------------------------------------------------------------------------------
// Keys

/// Rotation publishes the new key beside the old one for the grace period, then drops the old.
#[tokio::test]
async fn key_rotation_keeps_the_old_key_for_the_grace_period() {
    let idp = start().await;
    let issuer = idp.issuer_url("generic").unwrap();
    let jwks = format!("{}/.well-known/jwks.json", idp.url());
    assert_eq!(jwks_len(&jwks).await, 1);
    let t1 = generic_cc_token(&idp).await;
    let (h1, _) = verify_with_discovery(&t1, &issuer).await;

    let (status, keys) = admin_post(&idp, "/keys/rotate", json!({"grace_secs": 100})).await;
    assert_eq!(status, 200, "{keys}");
    assert_eq!(keys["published"].as_array().unwrap().len(), 2, "{keys}");
    assert_ne!(keys["current"], json!(h1.kid), "{keys}");
    assert_eq!(jwks_len(&jwks).await, 2);
    verify_with_discovery(&t1, &issuer).await;

    let t2 = generic_cc_token(&idp).await;
    let (h2, _) = verify_with_discovery(&t2, &issuer).await;
    assert_ne!(h1.kid, h2.kid, "a new kid signs");
    assert_eq!(keys["current"], json!(h2.kid));

    let (status, _) = admin_post(&idp, "/clock", json!({"advance_secs": 101})).await;
    assert_eq!(status, 200);
    assert_eq!(jwks_len(&jwks).await, 1, "the old key retired");
    let (_, keys) = admin_get(&idp, "/keys").await;
    assert_eq!(keys["published"], json!([h2.kid]), "{keys}");
    let err = try_verify(&t1, &issuer)
        .await
        .expect_err("the retired key's token no longer verifies");
    assert!(err.contains("kid"), "{err}");
    verify_with_discovery(&t2, &issuer).await;
}

// ---------------------------------------------------------------------------------------------
// Reset

/// Reset forgets runtime clients, queued rules, the clock offset, rotated keys and the journal.
#[tokio::test]
async fn reset_returns_to_the_fixtures() {
    let idp = start().await;
    let issuer = idp.issuer_url("iopole").unwrap();
    let (h0, _) = decode_unverified(&cc_token(&idp).await);
    let (code, verifier) = generic_code(&idp, "alice", "alice").await;
    let (_, user_tokens) = redeem_generic(&idp, &code, &verifier).await;
    let userinfo = || {
        http()
            .get(format!("{}/userinfo/", idp.url()))
            .bearer_auth(user_tokens["access_token"].as_str().unwrap())
            .send()
    };
    assert_eq!(userinfo().await.unwrap().status(), 200);
    let (status, _) = admin_put(
        &idp,
        "/issuers/iopole/clients/new-svc",
        json!({"secret": "s", "grants": ["client_credentials"]}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(kc_cc(&idp, "new-svc", "s").await.0, 200);
    admin_post(
        &idp,
        "/overrides",
        json!({"client_id": "clientId", "claims": {"tenant": "acme"}}),
    )
    .await;
    admin_post(
        &idp,
        "/defects",
        json!({"client_id": "clientId", "defect": "alg_none"}),
    )
    .await;
    admin_post(
        &idp,
        "/failures",
        json!({"endpoint": "token", "status": 500}),
    )
    .await;
    admin_post(&idp, "/clock", json!({"advance_secs": 1000})).await;
    admin_post(&idp, "/keys/rotate", json!({})).await;

    let (status, body) = admin_post(&idp, "/reset", json!({})).await;
    assert_eq!(status, 200, "{body}");

    let (_, journal) = admin_get(&idp, "/journal").await;
    assert_eq!(journal, json!([]), "journal empty after reset");
    // A user's token from before the reset: its session is forgotten, so it is invalid (401),
    // not mistaken for a client's token.
    let (status, body) = status_json(userinfo().await.unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token")),
        "{body}"
    );
    let (_, clock) = admin_get(&idp, "/clock").await;
    assert_eq!(clock["offset_secs"], 0, "{clock}");
    let (_, queue) = admin_get(&idp, "/queue").await;
    assert_eq!(
        queue,
        json!({"overrides": [], "defects": [], "failures": []}),
        "{queue}"
    );

    let (status, body) = kc_cc(&idp, "new-svc", "s").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{body}"
    );
    assert!(
        !listed_clients(&idp, "iopole")
            .await
            .contains(&"new-svc".to_string())
    );
    let token = cc_token(&idp).await;
    let (header, claims) = verify_with_discovery(&token, &issuer).await;
    assert!(
        claims.get("tenant").is_none(),
        "the override is gone: {claims}"
    );
    assert_eq!(json!(header.kid), h0["kid"], "the fixture key signs again");
    let jwks = format!("{issuer}/protocol/openid-connect/certs");
    assert_eq!(jwks_len(&jwks).await, 1);
}

// ---------------------------------------------------------------------------------------------
// Admin token

/// With `admin_token` set, the admin API wants it as a bearer token, except health, readiness
/// and the OpenAPI document.
#[tokio::test]
async fn the_admin_token_guards_the_admin_api() {
    let toml = format!(
        "admin_token = \"letmein\"\n{}",
        mockidp::config::DEFAULT_FIXTURES
    );
    let idp = start_with(&toml).await;
    let admin = idp.admin_url();

    for (method, path) in [
        ("GET", "/issuers"),
        ("GET", "/journal"),
        ("POST", "/reset"),
        ("POST", "/clock"),
        ("GET", "/issuers/iopole/clients/clientId"),
    ] {
        for auth in [
            None,
            Some("Bearer wrong"),
            Some("Basic bGV0bWVpbg=="),
            Some("letmein"),
        ] {
            let mut req = http().request(
                reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                format!("{admin}{path}"),
            );
            if let Some(a) = auth {
                req = req.header("Authorization", a);
            }
            let resp = req.body("{\"advance_secs\": 1000}").send().await.unwrap();
            assert_eq!(resp.status(), 401, "{method} {path} with {auth:?}");
            let www = resp.headers().get("www-authenticate");
            assert!(
                www.is_some_and(|v| v.to_str().unwrap().starts_with("Bearer")),
                "{method} {path}: {www:?}"
            );
            let (_, body) = status_json(resp).await;
            assert_eq!(body["error"], "unauthorized");
        }
    }
    let resp = http()
        .get(format!("{admin}/clock"))
        .bearer_auth("letmein")
        .send()
        .await
        .unwrap();
    let (status, clock) = status_json(resp).await;
    assert_eq!(status, 200);
    assert_eq!(
        clock["offset_secs"], 0,
        "the refused POST /clock changed nothing"
    );
    let resp = http()
        .get(format!("{admin}/issuers"))
        .bearer_auth("letmein")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    for open in ["/health", "/ready", "/openapi.json"] {
        let resp = http().get(format!("{admin}{open}")).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{open} is open");
    }
    // The public endpoints do not need it.
    cc_token(&idp).await;
}

/// What a web page could send behind the tester's back is refused and changes nothing: a
/// request from another origin, and a body that is not declared JSON (no preflight needed).
#[tokio::test]
async fn cross_site_admin_requests_are_refused() {
    let idp = start().await;
    let admin = idp.admin_url();
    let resp = http()
        .post(format!("{admin}/clock"))
        .header("Origin", "http://evil.example")
        .header("Content-Type", "application/json")
        .body("{\"advance_secs\": 1000}")
        .send()
        .await
        .unwrap();
    assert_refused("cross-origin", &status_json(resp).await, 403);
    let resp = http()
        .post(format!("{admin}/clock"))
        .header("Content-Type", "text/plain")
        .body("{\"advance_secs\": 1000}")
        .send()
        .await
        .unwrap();
    assert_refused("text/plain", &status_json(resp).await, 415);
    assert_eq!(admin_get(&idp, "/clock").await.1["offset_secs"], 0);
    // The same request from the admin's own origin, declared JSON, is fine.
    let host = admin
        .split_once("://")
        .unwrap()
        .1
        .split('/')
        .next()
        .unwrap();
    let resp = http()
        .post(format!("{admin}/clock"))
        .header("Origin", format!("http://{host}"))
        .json(&json!({"advance_secs": 1000}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(admin_get(&idp, "/clock").await.1["offset_secs"], 1000);
}

/// DNS rebinding: a page on a domain pointed at 127.0.0.1 calls the API same-origin. Without an
/// admin token, only IP, dotless and `*.localhost` hosts are answered.
#[tokio::test]
async fn admin_api_ignores_rebound_domain_names() {
    let idp = start().await;
    let admin = idp.admin_url();
    let port = idp.url().rsplit(':').next().unwrap().to_string();
    for (host, allowed) in [
        (format!("evil.example:{port}"), false),
        (format!("a.b.rebind.example:{port}"), false),
        (format!("localhost:{port}"), true),
        (format!("app.localhost:{port}"), true),
        (format!("mockidp:{port}"), true),
        (format!("[::1]:{port}"), true),
        (format!("localhost.:{port}"), true),
    ] {
        let resp = http()
            .get(format!("{admin}/issuers/iopole/users/alice"))
            .header("Host", host.as_str())
            .send()
            .await
            .unwrap();
        let (status, body) = status_json(resp).await;
        if allowed {
            assert_eq!(status, 200, "{host}: {body}");
        } else {
            assert_eq!(status, 403, "{host}: {body}");
            assert!(body.get("password").is_none(), "{body}");
        }
    }
    // Probes by any name still get health.
    let resp = http()
        .get(format!("{admin}/health"))
        .header("Host", format!("idp.ci.internal:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

// ---------------------------------------------------------------------------------------------
// Minting

/// `POST /tokens` mints a signed token for a client and user with extra claims and a lifetime.
#[tokio::test]
async fn minted_tokens_verify_and_carry_what_was_asked() {
    let idp = start().await;
    let (status, body) = admin_post(
        &idp,
        "/tokens",
        json!({"issuer": "iopole", "client_id": "clientId", "username": "alice",
               "claims": {"x": 1}, "ttl_secs": 60}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let (_, claims) = verify_with_discovery(token, &idp.issuer_url("iopole").unwrap()).await;
    assert_eq!(claims["x"], 1, "{claims}");
    assert_eq!(claims["preferred_username"], "alice", "{claims}");
    assert_eq!(claims["azp"], "clientId", "{claims}");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        60,
        "{claims}"
    );
    assert!(
        kc_active(&idp, token).await,
        "introspection knows the minted token"
    );

    for (what, body, expected) in [
        (
            "unknown issuer",
            json!({"issuer": "nowhere", "client_id": "clientId"}),
            400,
        ),
        (
            "unknown client",
            json!({"issuer": "iopole", "client_id": "nobody"}),
            400,
        ),
        ("missing client", json!({"issuer": "iopole"}), 400),
        (
            "unknown field",
            json!({"issuer": "iopole", "client_id": "clientId", "ttl": 5}),
            400,
        ),
    ] {
        let r = admin_post(&idp, "/tokens", body).await;
        assert_refused(what, &r, expected);
    }
}

/// A client whose redirect URI would run script on mockidp's own pages (form_post) is refused.
#[tokio::test]
async fn script_redirect_uris_are_refused() {
    let idp = start().await;
    let refused = admin_put(
        &idp,
        "/issuers/generic/clients/jsc",
        json!({"grants": ["authorization_code"], "redirect_uris": ["javascript:alert(document.domain)//"]}),
    )
    .await;
    assert_refused("javascript: redirect URI", &refused, 400);
    assert_eq!(admin_get(&idp, "/issuers/generic/clients/jsc").await.0, 404);
}

/// Redirect URIs that could split a header (CR/LF and other control characters) or that send
/// codes anywhere (`http://*`) are refused with a message saying which and why.
#[tokio::test]
async fn control_character_and_catch_all_redirect_uris_are_refused() {
    let idp = start().await;
    for (uri, why) in [
        (
            "http://localhost:3000/cb\r\nSet-Cookie: a=b",
            "control character",
        ),
        ("http://localhost:3000/\u{0}", "control character"),
        ("http://*", "catch-all"),
        ("https://*", "catch-all"),
    ] {
        let (status, body) = admin_put(
            &idp,
            "/issuers/generic/clients/wild",
            json!({"grants": ["authorization_code"], "redirect_uris": [uri]}),
        )
        .await;
        assert_eq!(status, 400, "{uri:?}: {body}");
        let text = body.to_string();
        assert!(text.contains(why), "{uri:?}: {text}");
        assert_eq!(
            admin_get(&idp, "/issuers/generic/clients/wild").await.0,
            404
        );
    }
}

/// The clock moves within 100 years of real time: out-of-range moves are refused, not wrapped.
#[tokio::test]
async fn clock_moves_are_bounded() {
    let idp = start().await;
    for body in [
        json!({"advance_secs": i64::MAX}),
        json!({"advance_secs": 4_000_000_000_i64}),
        json!({"offset_secs": -4_000_000_000_i64}),
        json!({"offset_secs": i64::MIN}),
    ] {
        let refused = admin_raw(&idp, "POST", "/clock", Some(body.to_string())).await;
        assert_refused(&body.to_string(), &refused, 400);
    }
    assert_eq!(admin_get(&idp, "/clock").await.1["offset_secs"], 0);
}

/// Path ids are percent-decoded: `clients/a%20b` is the client "a b"; control characters and
/// broken encodings are refused.
#[tokio::test]
async fn admin_path_ids_are_percent_decoded() {
    let idp = start().await;
    let (status, body) = admin_put(
        &idp,
        "/issuers/generic/clients/svc%20one",
        json!({"secret": "s", "grants": ["client_credentials"]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = cc_basic(&format!("{}/token/", idp.url()), "svc one", "s").await;
    assert_eq!(status, 200, "{body}");
    for bad in ["/issuers/generic/users/%00", "/issuers/generic/users/%FF"] {
        let refused = admin_put(&idp, bad, json!({})).await;
        assert_refused(bad, &refused, 400);
    }
}

/// A namespace's admin API refuses a wrong method as the server's does: 405 with the same
/// `Allow` (its route table and its OpenAPI entries are the server's).
#[tokio::test]
async fn a_namespace_answers_a_wrong_method_like_the_server() {
    let idp = start().await;
    let ns = idp.namespace().unwrap();
    for (method, path, allow) in [
        ("DELETE", "/clock", "GET, POST"),
        ("PUT", "/keys/rotate", "POST"),
        ("DELETE", "/issuers", "GET"),
    ] {
        for admin in [idp.admin_url(), ns.admin_url()] {
            let resp = http()
                .request(
                    reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
                    format!("{admin}{path}"),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 405, "{method} {admin}{path}");
            assert_eq!(resp.headers()["allow"], allow, "{method} {admin}{path}");
        }
    }
    let (status, body) = admin_raw(&idp, "GET", &format!("/ns/{}/nope", ns.id()), None).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
}

/// A client the admin API is given with a `jwks_url` and a `ca_file`: the file is read then
/// (the engine reads no files), and a missing one is refused with its name.
#[actix_web::test]
async fn a_client_put_with_a_ca_file_reads_it() {
    let idp = MockIdp::start().await.unwrap();
    let ca = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tls/ca.crt");
    let client = |ca: &str| {
        json!({"jwks_url": "https://keys.test/jwks", "ca_file": ca,
                           "grants": ["client_credentials"]})
    };
    let path = "/issuers/iopole/clients/partner";
    let (status, _) = admin_put(&idp, path, client(&ca.display().to_string())).await;
    assert_eq!(status, 201);
    let (status, body) = admin_put(&idp, path, client("/no/such/ca.pem")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("/no/such/ca.pem"), "{body}");
}

/// Doubled and trailing slashes reach the same operation, on the server and in a namespace.
#[tokio::test]
async fn slashes_are_normalised_on_the_server_and_in_a_namespace() {
    let idp = MockIdp::start().await.unwrap();
    let ns = idp.namespace().unwrap();
    for base in [idp.admin_url(), ns.admin_url()] {
        let base = base.trim_end_matches('/');
        for path in ["/clock", "/clock/", "//clock//"] {
            let resp = http().get(format!("{base}{path}")).send().await.unwrap();
            let (status, body) = status_json(resp).await;
            assert_eq!(status, 200, "{base}{path}: {body}");
            assert!(body["now"].is_u64(), "{base}{path}: {body}");
        }
        // The query survives the rewrite.
        let resp = http()
            .get(format!("{base}//journal/?limit=1"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{base}//journal/?limit=1");
    }
}

/// The admin token cannot be side-stepped by percent-encoding the prefix (actix routes
/// `/%5Fmockidp/...` to the API); an encoded namespace prefix reaches the namespace.
#[tokio::test]
async fn a_percent_encoded_prefix_neither_bypasses_the_token_nor_loses_the_namespace() {
    let idp = MockIdp::builder()
        .admin_token("s3cret")
        .start()
        .await
        .unwrap();
    let base = idp.url();
    for (method, path) in [
        ("GET", "/%5Fmockidp/issuers"),
        ("POST", "/%5Fmockidp/reset"),
        ("GET", "/_m%6Fckidp/journal"),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let resp = http()
            .request(method, format!("{base}{path}"))
            .send()
            .await
            .unwrap();
        let (status, body) = status_json(resp).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains("/_mockidp"),
            "{body}"
        );
    }
    let resp = http()
        .get(format!("{base}/_mockidp/issuers"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    let open = MockIdp::start().await.unwrap();
    let ns = open.namespace().unwrap();
    let resp = http()
        .get(format!("{}/_mockidp/n%73/{}/clock", open.url(), ns.id()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // Keycloak's admin API too: reached (and refused without a token), not an issuer's 404.
    let resp = http()
        .get(format!("{}/%61dmin/realms/iopole/users", open.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}
