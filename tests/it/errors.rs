//! Every malformed or refused token request gets the error its product sends: the right status,
//! `error`, a useful `error_description`, `WWW-Authenticate` on 401. Never a 500 or a hang.

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use serde_json::Value;

use crate::util::*;

const FORM: &str = "application/x-www-form-urlencoded";

/// One bad request and what must come back.
struct Case {
    name: &'static str,
    body: String,
    content_type: Option<&'static str>,
    authorization: Option<&'static str>,
    status: u16,
    /// `None`: empty body expected.
    error: Option<&'static str>,
    /// A substring of `error_description`.
    description: &'static str,
}

fn case(
    name: &'static str,
    body: &str,
    status: u16,
    error: &'static str,
    description: &'static str,
) -> Case {
    Case {
        name,
        body: body.to_string(),
        content_type: Some(FORM),
        authorization: None,
        status,
        error: Some(error),
        description,
    }
}

async fn run(url: &str, cases: Vec<Case>, challenge: Option<&str>) {
    for c in cases {
        let mut req = http().post(url).body(c.body.clone());
        if let Some(ct) = c.content_type {
            req = req.header(CONTENT_TYPE, ct);
        }
        if let Some(auth) = c.authorization {
            req = req.header(AUTHORIZATION, auth);
        }
        let resp = req.send().await.unwrap();
        let www = resp
            .headers()
            .get(WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_string());
        let no_store = resp
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_string());
        let (status, body) = status_json(resp).await;
        assert_eq!(status, c.status, "{}: {body}", c.name);
        assert_eq!(no_store.as_deref(), Some("no-store"), "{}", c.name);
        match c.error {
            Some(error) => {
                assert_eq!(body["error"], error, "{}: {body}", c.name);
                let d = body["error_description"].as_str().unwrap_or("");
                assert!(
                    d.contains(c.description),
                    "{}: {d:?} lacks {:?}",
                    c.name,
                    c.description
                );
            }
            None => assert_eq!(body, Value::Null, "{}", c.name),
        }
        if status == 401 {
            assert_eq!(www.as_deref(), challenge, "{}: WWW-Authenticate", c.name);
        } else {
            assert_eq!(www, None, "{}", c.name);
        }
    }
}

/// Bad requests common to every dialect, with the product's (status, error, description).
fn common(
    id: &str,
    secret: &str,
    unknown_client: (u16, &'static str, &'static str),
    wrong_secret: (u16, &'static str, &'static str),
    missing_client: (u16, &'static str, &'static str),
    unsupported: (u16, &'static str, &'static str),
    malformed_basic: u16,
) -> Vec<Case> {
    let ok = format!("grant_type=client_credentials&client_id={id}&client_secret={secret}");
    let big = format!("{ok}&pad={}", "x".repeat(70 * 1024));
    let mut cases = vec![
        case(
            "unknown client",
            "grant_type=client_credentials&client_id=nobody&client_secret=x",
            unknown_client.0,
            unknown_client.1,
            unknown_client.2,
        ),
        case(
            "wrong secret",
            &format!("grant_type=client_credentials&client_id={id}&client_secret=wrong"),
            wrong_secret.0,
            wrong_secret.1,
            wrong_secret.2,
        ),
        case(
            "missing secret",
            &format!("grant_type=client_credentials&client_id={id}"),
            wrong_secret.0,
            wrong_secret.1,
            wrong_secret.2,
        ),
        case(
            "missing client",
            "grant_type=client_credentials",
            missing_client.0,
            missing_client.1,
            missing_client.2,
        ),
        case(
            "missing grant_type",
            &format!("client_id={id}&client_secret={secret}"),
            400,
            "invalid_request",
            "grant_type",
        ),
        case(
            "unsupported grant",
            &format!("grant_type=magic&client_id={id}&client_secret={secret}"),
            unsupported.0,
            unsupported.1,
            unsupported.2,
        ),
        case(
            "duplicated parameter",
            &format!("{ok}&grant_type=client_credentials"),
            400,
            "invalid_request",
            "duplicated parameter",
        ),
        case(
            "bad scope",
            &format!("{ok}&scope=nonexistent"),
            400,
            "invalid_scope",
            "nonexistent",
        ),
        case(
            "oversized body",
            &big,
            400,
            "invalid_request",
            "larger than",
        ),
        case(
            "quoted grant_type",
            &format!("grant_type=%22client_credentials%22&client_id={id}&client_secret={secret}"),
            400,
            "unsupported_grant_type",
            "quotes",
        ),
    ];
    let mut json = case(
        "JSON body",
        &format!(r#"{{"grant_type":"client_credentials","client_id":"{id}"}}"#),
        400,
        "invalid_request",
        "application/x-www-form-urlencoded",
    );
    json.content_type = Some("application/json");
    cases.push(json);
    let mut no_type = case(
        "no content type",
        &ok,
        400,
        "invalid_request",
        "Content-Type",
    );
    no_type.content_type = None;
    cases.push(no_type);
    let mut basic = case(
        "malformed Basic",
        "grant_type=client_credentials",
        malformed_basic,
        "invalid_client",
        "Basic",
    );
    basic.authorization = Some("Basic %%%not-base64");
    cases.push(basic);
    let mut twice = case(
        "Basic and client_secret",
        &ok,
        400,
        "invalid_request",
        "one method",
    );
    twice.authorization = Some("Basic Y2xpZW50OnNlY3JldA==");
    cases.push(twice);
    cases
}

#[tokio::test]
async fn keycloak_errors() {
    let idp = start().await;
    let url = format!(
        "{}/protocol/openid-connect/token",
        idp.issuer_url("iopole").unwrap()
    );
    let mut cases = common(
        "clientId",
        "clientSecret",
        (
            401,
            "invalid_client",
            "Invalid client or Invalid client credentials",
        ),
        (
            401,
            "unauthorized_client",
            "Invalid client or Invalid client credentials",
        ),
        (400, "invalid_client", "Missing client_id parameter"),
        (400, "unsupported_grant_type", "Unsupported grant_type"),
        401,
    );
    let mut bearer = case(
        "Bearer and no client_id",
        "grant_type=client_credentials",
        401,
        "",
        "",
    );
    bearer.authorization = Some("Bearer abc");
    bearer.error = None;
    cases.push(bearer);
    run(&url, cases, Some("Basic realm=\"iopole\"")).await;
}

#[tokio::test]
async fn identityserver_errors_are_all_400() {
    let idp = start().await;
    let url = format!("{}/connect/token", idp.issuer_url("inqom").unwrap());
    let cases = common(
        "inqom-service",
        "inqom-service-secret",
        (400, "invalid_client", "unknown client"),
        (400, "invalid_client", "client secret"),
        (400, "invalid_client", "client_id"),
        (400, "unsupported_grant_type", "magic"),
        400,
    );
    run(&url, cases, None).await;
}

#[tokio::test]
async fn generic_errors_follow_oauthlib() {
    let idp = start().await;
    let url = format!("{}/token/", idp.url());
    let mut cases = common(
        "generic-confidential",
        "generic-confidential-secret",
        (401, "invalid_client", "unknown client"),
        (401, "invalid_client", "client secret"),
        (401, "invalid_client", "client_id"),
        (400, "unsupported_grant_type", "magic"),
        401,
    );
    // oauthlib's TokenEndpoint sends a request without grant_type to its default handler
    // (authorization_code), which refuses it as unsupported_grant_type.
    for c in cases.iter_mut().filter(|c| c.name == "missing grant_type") {
        c.error = Some("unsupported_grant_type");
    }
    run(&url, cases, Some("Bearer error=\"invalid_client\"")).await;
}

/// Grants a client may not use: Keycloak's service-account wording, others generic.
#[tokio::test]
async fn grants_the_client_may_not_use() {
    let idp = start_with(
        r#"
        [[issuer]]
        name = "kc"
        dialect = "keycloak"
        [[issuer.client]]
        id = "web"
        secret = "s"
        grants = ["authorization_code"]
        [[issuer.client]]
        id = "spa"
        grants = ["authorization_code"]
        [[issuer]]
        name = "dot"
        dialect = "generic"
        [[issuer.client]]
        id = "pub"
        grants = ["client_credentials"]
        "#,
    )
    .await;
    let kc = format!(
        "{}/protocol/openid-connect/token",
        idp.issuer_url("kc").unwrap()
    );
    let cc = |id: &'static str| {
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", "s"),
        ]
    };
    let (status, body) = status_json(post_form(&kc, &cc("web")).await).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"], "unauthorized_client");
    assert_eq!(
        body["error_description"],
        "Client not enabled to retrieve service account"
    );
    let (status, body) = status_json(
        post_form(
            &kc,
            &[("grant_type", "client_credentials"), ("client_id", "spa")],
        )
        .await,
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        body["error_description"],
        "Public client not allowed to retrieve service account"
    );
    let (status, body) = status_json(
        post_form(
            &format!("{}/token/", idp.url()),
            &[("grant_type", "client_credentials"), ("client_id", "pub")],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{body}"
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("public")
    );
}

/// Wrong methods, hostile bytes and many concurrent bad requests: answers, never a 500.
#[tokio::test]
async fn hostile_input_gets_answers_not_crashes() {
    let idp = start().await;
    let url = format!("{}/realms/iopole/protocol/openid-connect/token", idp.url());
    let resp = http().get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 405);
    assert_eq!(resp.headers()["allow"], "POST");
    let bodies: Vec<Vec<u8>> = vec![
        b"\xff\xfe\x00garbage=\xc3\x28".to_vec(),
        b"%%%%&&&===".to_vec(),
        b"grant_type=client_credentials&client_id=%00&client_secret=%ZZ".to_vec(),
        vec![b'a'; 60_000],
        b"grant_type=client_credentials&scope=%22%5C".to_vec(),
    ];
    let mut tasks = Vec::new();
    for i in 0..40 {
        let body = bodies[i % bodies.len()].clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            http()
                .post(&url)
                .header(CONTENT_TYPE, FORM)
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    for t in tasks {
        let status = t.await.unwrap();
        assert!((400..500).contains(&status), "got {status}");
    }
    // Still serving.
    let (status, _) = status_json(
        post_form(
            &url,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "clientId"),
                ("client_secret", "clientSecret"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
}

/// Sends `request` raw and returns what the server answers before closing or `wait` passes.
async fn raw_exchange(idp: &mockidp::MockIdp, request: &'static str, wait: u64) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = idp.url().trim_start_matches("http://").to_string();
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(wait),
        socket.read_to_end(&mut answer),
    )
    .await;
    String::from_utf8_lossy(&answer).to_string()
}

/// A body shorter than its Content-Length gets an answer after a bounded wait, not a hang; a
/// Content-Length over the limit is refused before anything is read.
#[tokio::test]
async fn short_and_oversized_bodies_get_an_answer() {
    let idp = start().await;
    let started = std::time::Instant::now();
    let answer = raw_exchange(
        &idp,
        "POST /token/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\n\r\na=b",
        20,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("did not arrive within"), "{answer}");
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    let started = std::time::Instant::now();
    let answer = raw_exchange(
        &idp,
        "POST /realms/iopole/protocol/openid-connect/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 99999999\r\n\r\na=b",
        20,
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("larger than"), "{answer}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}
