//! Namespaces: isolated copies of the issuers under `/ns/{id}`, created and deleted through the
//! admin API or the library, each with its own clients, sessions, queued rules, journal and
//! clock. Every check goes through the public endpoints.

use std::time::Duration;

use mockidp::MockIdp;
use serde_json::{Value, json};

use crate::util::*;

/// An admin request to `url` (absolute) with an optional body of `content_type`.
async fn send(method: &str, url: &str, body: Option<(&str, String)>) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = http().request(method, url);
    if let Some((content_type, body)) = body {
        req = req.header("Content-Type", content_type).body(body);
    }
    let resp = tokio::time::timeout(Duration::from_secs(10), req.send())
        .await
        .expect("answers within 10 s")
        .unwrap();
    status_json(resp).await
}

async fn create(idp: &MockIdp, body: Option<(&str, String)>) -> (u16, Value) {
    send("POST", &format!("{}/namespaces", idp.admin_url()), body).await
}

fn kc_token(issuer: &str) -> String {
    format!("{issuer}/protocol/openid-connect/token")
}

#[tokio::test]
async fn a_namespace_serves_its_own_issuer_urls_and_goes_away_when_deleted() {
    let idp = start().await;
    let (status, ns) = create(&idp, None).await;
    assert_eq!(status, 201, "{ns}");
    let id = ns["id"].as_str().unwrap();
    let base = format!("{}/ns/{id}", idp.url());
    assert_eq!(ns["url"], base);
    assert_eq!(ns["admin_url"], format!("{}/_mockidp/ns/{id}", idp.url()));
    assert_eq!(ns["own_keys"], false);
    let realm = format!("{base}/realms/iopole");
    assert_eq!(ns["issuers"]["iopole"], realm);
    assert_eq!(ns["issuers"]["inqom"], format!("{base}/identity"));
    assert_eq!(ns["issuers"]["generic"], base);

    // Discovery and tokens carry the namespace's issuer URL, for every dialect.
    for (issuer, discovery) in [
        (
            realm.clone(),
            format!("{realm}/.well-known/openid-configuration"),
        ),
        (
            format!("{base}/identity"),
            format!("{base}/identity/.well-known/openid-configuration"),
        ),
        (
            base.clone(),
            format!("{base}/.well-known/openid-configuration"),
        ),
    ] {
        let d = get_json(&discovery).await;
        assert_eq!(d["issuer"], issuer.as_str());
        assert!(
            d["token_endpoint"].as_str().unwrap().starts_with(&base),
            "{d}"
        );
    }
    let (status, body) = cc_basic(&kc_token(&realm), "clientId", "clientSecret").await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let (_, claims) = verify_with_discovery(token, &realm).await;
    assert_eq!(claims["iss"], realm.as_str());

    // Listed, then deleted: its URLs answer 404 and it is no longer listed.
    let (_, list) = send("GET", &format!("{}/namespaces", idp.admin_url()), None).await;
    assert_eq!(list["namespaces"][0]["id"], id);
    assert_eq!(list["limit"], 10_000);
    let url = format!("{}/namespaces/{id}", idp.admin_url());
    assert_eq!(send("GET", &url, None).await.0, 200);
    assert_eq!(send("DELETE", &url, None).await.0, 204);
    assert_eq!(send("DELETE", &url, None).await.0, 404);
    let (status, err) = cc_basic(&kc_token(&realm), "clientId", "clientSecret").await;
    assert_eq!(status, 404);
    assert_eq!(err["error"], "not_found");
    let (status, _) = send("GET", &format!("{}/ns/{id}/clock", idp.admin_url()), None).await;
    assert_eq!(status, 404);
    // The server's own issuers never noticed.
    let (status, _) = cc_basic(
        &kc_token(&idp.issuer_url("iopole").unwrap()),
        "clientId",
        "clientSecret",
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_namespace_takes_fixtures_as_toml_or_json_and_refuses_bad_ones() {
    let idp = start().await;
    let toml = r#"
        [[issuer]]
        name = "acme"
        dialect = "keycloak"
        [[issuer.client]]
        id = "svc"
        secret = "svc-secret"
        grants = ["client_credentials"]
    "#;
    let (status, ns) = create(&idp, Some(("application/toml", toml.into()))).await;
    assert_eq!(status, 201, "{ns}");
    let acme = ns["issuers"]["acme"].as_str().unwrap();
    assert!(acme.ends_with("/realms/acme"));
    assert!(
        ns["issuers"].get("iopole").is_none(),
        "only its own issuers"
    );
    assert_eq!(cc_basic(&kc_token(acme), "svc", "svc-secret").await.0, 200);

    let doc = json!({"id": "worker-1", "fixtures": {"issuer": [{
        "name": "solo", "dialect": "generic",
        "client": [{"id": "c", "secret": "s", "grants": ["client_credentials"]}]
    }]}});
    let (status, ns) = create(&idp, Some(("application/json", doc.to_string()))).await;
    assert_eq!(status, 201, "{ns}");
    assert_eq!(ns["id"], "worker-1");
    let token_url = format!("{}/token/", ns["issuers"]["solo"].as_str().unwrap());
    assert_eq!(cc_basic(&token_url, "c", "s").await.0, 200);

    // A taken id, a bad id, fixtures that do not load, a nested namespace, an unknown field.
    let again = json!({"id": "worker-1"}).to_string();
    let (status, err) = create(&idp, Some(("application/json", again))).await;
    assert_eq!(status, 409, "{err}");
    let bad_id = json!({"id": "../x"}).to_string();
    assert_eq!(
        create(&idp, Some(("application/json", bad_id))).await.0,
        400
    );
    let (status, err) = create(
        &idp,
        Some(("application/toml", "[[issuer]]\nname = 1".into())),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        err["error_description"]
            .as_str()
            .unwrap()
            .contains("fixtures"),
        "{err}"
    );
    let token =
        json!({"fixtures": "admin_token = \"x\"\n[[issuer]]\nname = \"a\"\ndialect = \"generic\""});
    let (status, err) = create(&idp, Some(("application/json", token.to_string()))).await;
    assert_eq!(status, 400, "{err}");
    // The forwarded-header policy is the server's edge, shared by every namespace.
    let forwarded = "trust_forwarded = false\n[[issuer]]\nname = \"a\"\ndialect = \"generic\"";
    let (status, err) = create(&idp, Some(("application/toml", forwarded.into()))).await;
    assert_eq!(status, 400, "{err}");
    assert!(
        err["error_description"]
            .as_str()
            .unwrap()
            .contains("trust_forwarded"),
        "{err}"
    );
    let nested = format!("{}/ns/worker-1/namespaces", idp.admin_url());
    assert_eq!(send("POST", &nested, None).await.0, 400);
    let unknown = json!({"idd": "x"}).to_string();
    assert_eq!(
        create(&idp, Some(("application/json", unknown))).await.0,
        400
    );
    // A body that is neither declared JSON nor TOML is refused (a web page could send it).
    assert_eq!(create(&idp, Some(("text/plain", "{}".into()))).await.0, 415);
}

#[tokio::test]
async fn namespaces_are_capped_and_expire_when_idle() {
    let idp = MockIdp::builder()
        .namespace_limits(1, 3600)
        .start()
        .await
        .unwrap();
    let first = idp.namespace().unwrap();
    let (status, err) = create(&idp, None).await;
    assert_eq!(status, 429, "{err}");
    assert!(idp.namespace().is_err());
    drop(first);
    assert!(
        idp.namespace().is_ok(),
        "a dropped handle deletes its namespace"
    );

    let idp = MockIdp::builder()
        .namespace_limits(10, 1)
        .start()
        .await
        .unwrap();
    let ns = idp.namespace().unwrap();
    let token_url = kc_token(&ns.issuer_url("iopole").unwrap());
    // Used within its idle time it stays...
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(
            cc_basic(&token_url, "clientId", "clientSecret").await.0,
            200
        );
    }
    // ...left alone longer, it is gone.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        cc_basic(&token_url, "clientId", "clientSecret").await.0,
        404
    );
}

#[tokio::test]
async fn keys_are_shared_unless_a_namespace_asks_for_its_own() {
    let idp = start().await;
    let shared = idp.namespace().unwrap();
    let kid = |jwks: Value| jwks["keys"][0]["kid"].as_str().unwrap().to_string();
    assert_eq!(
        kid(shared.jwks("iopole").unwrap()),
        kid(idp.jwks("iopole").unwrap())
    );
    let rotate = format!("{}/keys/rotate", shared.admin_url());
    let (status, err) = send("POST", &rotate, None).await;
    assert_eq!(
        status, 409,
        "rotating shared keys would change other tests' keys: {err}"
    );

    let body = json!({"own_keys": true}).to_string();
    let (status, own) = create(&idp, Some(("application/json", body))).await;
    assert_eq!(status, 201);
    assert_eq!(own["own_keys"], true);
    let realm = own["issuers"]["iopole"].as_str().unwrap();
    let jwks = get_json(&format!("{realm}/protocol/openid-connect/certs")).await;
    assert_ne!(kid(jwks), kid(idp.jwks("iopole").unwrap()));
    let (status, body) = cc_basic(&kc_token(realm), "clientId", "clientSecret").await;
    assert_eq!(status, 200);
    verify_with_discovery(body["access_token"].as_str().unwrap(), realm).await;
    let rotate = format!("{}/keys/rotate", own["admin_url"].as_str().unwrap());
    assert_eq!(send("POST", &rotate, None).await.0, 200);
    assert_eq!(
        kid(idp.jwks("iopole").unwrap()),
        kid(shared.jwks("iopole").unwrap()),
        "the server's key did not move"
    );
}

/// What one test does in its namespace, many times over, while another does the same in its
/// own: moves the clock, queues a failure, replaces a client's secret; and checks that it only
/// ever sees its own changes.
async fn one_test(ns: &mockidp::Namespace, shift: i64, rounds: usize) {
    let admin = ns.admin_url();
    let realm = ns.issuer_url("iopole").unwrap();
    let token_url = kc_token(&realm);
    let secret = format!("secret-{}", ns.id());
    let client = json!({"secret": secret, "grants": ["client_credentials"]});
    let (status, _) = send(
        "PUT",
        &format!("{admin}/issuers/iopole/clients/worker"),
        Some(("application/json", client.to_string())),
    )
    .await;
    assert_eq!(status, 201);
    for round in 0..rounds {
        // The clock: set to this test's instant; a token's iat says which clock signed it.
        let now = 2_000_000_000 + shift + round as i64;
        let (_, clock) = send(
            "POST",
            &format!("{admin}/clock"),
            Some((
                "application/json",
                json!({"now": now, "freeze": true}).to_string(),
            )),
        )
        .await;
        assert_eq!(clock["now"], now);
        let (status, body) = cc_basic(&token_url, "worker", &secret).await;
        assert_eq!(status, 200, "{body}");
        let (_, claims) =
            verify_with_discovery(body["access_token"].as_str().unwrap(), &realm).await;
        assert_eq!(claims["iat"], now, "only this test moved this clock");
        // A queued failure hits this test's next call, and no one else's.
        let failure = json!({"issuer": "iopole", "endpoint": "token", "status": 503});
        let (status, _) = send(
            "POST",
            &format!("{admin}/failures"),
            Some(("application/json", failure.to_string())),
        )
        .await;
        assert_eq!(status, 201);
        let (status, _) = cc_basic(&token_url, "worker", &secret).await;
        assert_eq!(
            status, 503,
            "this test's failure answers this test's request"
        );
        let (status, _) = cc_basic(&token_url, "worker", &secret).await;
        assert_eq!(status, 200, "and was used up there");
        tokio::task::yield_now().await;
    }
    // The journal holds this test's requests only.
    let (_, journal) = send("GET", &format!("{admin}/journal?endpoint=token"), None).await;
    let entries = journal.as_array().unwrap();
    assert_eq!(entries.len(), rounds * 3);
    let injected = entries
        .iter()
        .filter(|e| e["outcome"] == "injected_failure");
    assert_eq!(injected.count(), rounds, "its own failures, each once");
    assert!(
        entries
            .iter()
            .all(|e| e["path"].as_str().unwrap().contains(ns.id()))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_tests_in_two_namespaces_never_see_each_others_changes() {
    let idp = start().await;
    let a = std::sync::Arc::new(idp.namespace().unwrap());
    let b = std::sync::Arc::new(idp.namespace().unwrap());
    let root_clock = idp.clock().now();
    // Two tests on two worker threads at once.
    let (ta, tb) = (a.clone(), b.clone());
    let (ra, rb) = tokio::join!(
        tokio::spawn(async move { one_test(&ta, 0, 15).await }),
        tokio::spawn(async move { one_test(&tb, 1_000_000, 15).await }),
    );
    ra.unwrap();
    rb.unwrap();
    // Each namespace has its own client: the other's secret does not work there.
    let secret_of = |ns: &mockidp::Namespace| format!("secret-{}", ns.id());
    let a_url = kc_token(&a.issuer_url("iopole").unwrap());
    assert_eq!(cc_basic(&a_url, "worker", &secret_of(&b)).await.0, 401);
    assert_eq!(cc_basic(&a_url, "worker", &secret_of(&a)).await.0, 200);
    // The server's own issuers have no such client, an unmoved clock and an empty journal.
    let root_url = kc_token(&idp.issuer_url("iopole").unwrap());
    assert_eq!(cc_basic(&root_url, "worker", &secret_of(&a)).await.0, 401);
    assert!(idp.clock().now() - root_clock < 60);
    assert!(!idp.clock().is_frozen());
    let (_, journal) = send(
        "GET",
        &format!("{}/journal?client_id=worker", idp.admin_url()),
        None,
    )
    .await;
    assert_eq!(
        journal.as_array().unwrap().len(),
        1,
        "only the refusal just above"
    );
    // A reset of one namespace leaves the other alone.
    assert_eq!(
        send("POST", &format!("{}/reset", a.admin_url()), None)
            .await
            .0,
        200
    );
    assert_eq!(cc_basic(&a_url, "worker", &secret_of(&a)).await.0, 401);
    let b_url = kc_token(&b.issuer_url("iopole").unwrap());
    assert_eq!(cc_basic(&b_url, "worker", &secret_of(&b)).await.0, 200);
    assert!(b.clock().is_frozen());
}

#[tokio::test]
async fn a_browser_logs_in_inside_a_namespace() {
    let idp = start().await;
    let ns = idp.namespace().unwrap();
    let issuer = ns.issuer_url("inqom").unwrap();
    let authorize = format!(
        "{issuer}/connect/authorize?response_type=code&client_id=SandboxAuthorizationCode\
         &redirect_uri=http%3A%2F%2Flocalhost%3A8080&scope=openid&state=s1"
    );
    // The login form's browser binding is the namespace's own cookie (its path is `/`, and
    // the server's inqom issuer binds its forms with `SignInMessage_inqom`).
    let page = reqwest::get(&authorize).await.unwrap();
    assert_eq!(page.status(), 200);
    let binding = first_cookie(&page);
    let expected = format!("SignInMessage_inqom_{}=", ns.id());
    assert!(binding.starts_with(&expected), "{binding}");
    let mut browser = Browserless::new();
    let back = browser.authorize(&authorize, "alice", "alice").await;
    assert!(back.starts_with("http://localhost:8080"), "{back}");
    assert!(query_params(&back).contains_key("code"));
    // The session is the namespace's: SSO works there, and not on the server's own issuer.
    let again = browser.get(&authorize).await;
    assert_eq!(again.status(), 302, "SSO inside the namespace");
    let root = authorize.replace(&format!("/ns/{}", ns.id()), "");
    assert_eq!(
        browser.get(&root).await.status(),
        200,
        "the server's issuer shows its login page"
    );
}

#[tokio::test]
async fn the_library_handle_has_the_servers_helpers() {
    let idp = start().await;
    let ns = idp.namespace().unwrap();
    assert_eq!(ns.url(), format!("{}/ns/{}", idp.url(), ns.id()));
    let token = ns.token("iopole", "clientId").user("alice").sign().unwrap();
    let realm = ns.issuer_url("iopole").unwrap();
    let (_, claims) = verify_with_discovery(&token, &realm).await;
    assert_eq!(claims["iss"], realm.as_str());
    ns.clock().advance(7200);
    assert!(ns.clock().now() > idp.clock().now() + 7000);
    let (_, clock) = send("GET", &format!("{}/clock", ns.admin_url()), None).await;
    assert_eq!(clock["now"], ns.clock().now());
    let admin_token = format!("{}/tokens", ns.admin_url());
    let (status, minted) = send(
        "POST",
        &admin_token,
        Some((
            "application/json",
            json!({"issuer": "iopole", "client_id": "clientId"}).to_string(),
        )),
    )
    .await;
    assert_eq!(status, 200);
    let (_, claims) = verify_with_discovery(minted["access_token"].as_str().unwrap(), &realm).await;
    assert_eq!(claims["iss"], realm.as_str());
}

#[tokio::test]
async fn the_dashboard_lists_namespaces() {
    let idp = start().await;
    let page = |idp: &MockIdp| {
        let url = format!("{}/", idp.admin_url());
        async move { http().get(url).send().await.unwrap().text().await.unwrap() }
    };
    assert!(page(&idp).await.contains("<p class=\"muted\">None.</p>"));
    let body = json!({"id": "worker-7"}).to_string();
    assert_eq!(create(&idp, Some(("application/json", body))).await.0, 201);
    let html = page(&idp).await;
    assert!(html.contains("data-namespace=\"worker-7\""), "{html}");
    assert!(html.contains(&format!("{}/ns/worker-7", idp.url())));
    // The default fixtures hold the master realm too (Keycloak admin REST API).
    assert!(
        html.contains("issuers iopole inqom master generic"),
        "{html}"
    );
}

/// Endpoints that recognise this server's own tokens by their `iss` (userinfo, introspection,
/// Keycloak's same-realm token exchange) know a namespace's issuer URLs.
#[tokio::test]
async fn a_namespace_recognises_its_own_tokens() {
    let idp = start().await;
    let ns = idp.namespace().unwrap();
    let realm = ns.issuer_url("iopole").unwrap();
    let (status, tokens) = status_json(
        post_form(
            &kc_token(&realm),
            &[
                ("grant_type", "password"),
                ("client_id", "iopole-web"),
                ("client_secret", "iopole-web-secret"),
                ("username", "alice"),
                ("password", "alice"),
                ("scope", "openid"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let resp = http()
        .get(format!("{realm}/protocol/openid-connect/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    let (status, info) = status_json(resp).await;
    assert_eq!(
        (status, info["preferred_username"].as_str()),
        (200, Some("alice")),
        "{info}"
    );
    let (_, intro) = status_json(
        post_form(
            &format!("{realm}/protocol/openid-connect/token/introspect"),
            &[
                ("token", access),
                ("client_id", "iopole-web"),
                ("client_secret", "iopole-web-secret"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(intro["active"], true, "{intro}");
    // The same token is not the server's own issuer's.
    let root = idp.issuer_url("iopole").unwrap();
    let resp = http()
        .get(format!("{root}/protocol/openid-connect/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);

    let fixtures = r#"
        [[issuer]]
        name = "kc"
        dialect = "keycloak"
        [[issuer.client]]
        id = "gateway"
        secret = "gw"
        grants = ["client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"]
        [[issuer.client]]
        id = "backend"
        secret = "be"
        grants = ["client_credentials"]
    "#;
    let ns = idp
        .namespace_with(mockidp::Config::from_toml(fixtures).unwrap())
        .unwrap();
    let token_url = kc_token(&ns.issuer_url("kc").unwrap());
    let (_, own) = cc_basic(&token_url, "gateway", "gw").await;
    let (status, exchanged) = status_json(
        post_form(
            &token_url,
            &[
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:token-exchange",
                ),
                ("client_id", "gateway"),
                ("client_secret", "gw"),
                ("subject_token", own["access_token"].as_str().unwrap()),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:access_token",
                ),
                ("audience", "backend"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{exchanged}");
}

/// Keycloak's admin REST API of a namespace is its own: its copy of the master realm logs in
/// and `/ns/{id}/admin/realms` lists its realms (issue 19; `kcadmin.rs` tests it further), and
/// the server's admin REST API does not take its tokens.
#[tokio::test]
async fn the_keycloak_admin_rest_api_of_a_namespace_is_its_own() {
    let idp = start().await;
    let ns = idp.namespace().unwrap();
    let master = ns.issuer_url("master").unwrap();
    let (status, tokens) = status_json(
        post_form(
            &kc_token(&master),
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
    assert_eq!(status, 200, "{tokens}");
    let token = tokens["access_token"].as_str().unwrap();
    let inside = format!("{}/admin/realms", ns.url());
    let resp = http().get(&inside).bearer_auth(token).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let realms: Vec<serde_json::Value> = resp.json().await.unwrap();
    assert!(realms.iter().any(|r| r["realm"] == "iopole"), "{realms:?}");
    let server = format!("{}/admin/realms", idp.url());
    let resp = http().get(&server).bearer_auth(token).send().await.unwrap();
    assert_eq!(
        resp.status(),
        401,
        "a namespace's token is not the server's admin"
    );
}
