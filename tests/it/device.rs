//! The device authorization grant (RFC 8628) over plain HTTP on every dialect: codes, the
//! verification page, polling errors, expiry, slow_down and brute-force limits.

use serde_json::Value;

use crate::util::*;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Each dialect's device endpoint and public client, and a resource its tokens work at.
fn dialects(idp: &mockidp::MockIdp) -> Vec<(String, String, &'static str)> {
    vec![
        (
            format!(
                "{}/realms/iopole/protocol/openid-connect/auth/device",
                idp.url()
            ),
            format!("{}/realms/iopole/protocol/openid-connect/token", idp.url()),
            "iopole-device",
        ),
        (
            format!("{}/identity/connect/deviceauthorization", idp.url()),
            format!("{}/identity/connect/token", idp.url()),
            "inqom-device",
        ),
        (
            format!("{}/device-authorization/", idp.url()),
            format!("{}/token/", idp.url()),
            "generic-public",
        ),
    ]
}

async fn start_device(url: &str, client: &str, scope: &str) -> Value {
    let (status, body) =
        status_json(post_form(url, &[("client_id", client), ("scope", scope)]).await).await;
    assert_eq!(status, 200, "{url}: {body}");
    body
}

/// The generic seed's polling request, exactly.
async fn poll(token_url: &str, client: &str, device_code: &str) -> (u16, Value) {
    let body = format!("client_id={client}&device_code={device_code}&grant_type={GRANT}");
    status_json(
        http()
            .post(token_url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Approves (or denies) the user code on the verification page as alice.
async fn decide(browser: &mut Browserless, complete: &str, approve: bool) -> String {
    let resp = browser.get(complete).await;
    let html = resp.text().await.unwrap();
    let html = if html.contains("class=\"login\"") {
        let back = browser.submit_login(&html, "alice", "alice").await;
        let back = if back.starts_with('/') {
            let origin: String = complete.split('/').take(3).collect::<Vec<_>>().join("/");
            format!("{origin}{back}")
        } else {
            back
        };
        browser.get(&back).await.text().await.unwrap()
    } else {
        html
    };
    assert!(html.contains("id=\"device\""), "{html}");
    let action = html
        .split("id=\"device\" method=\"post\" action=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let code = html
        .split("name=\"user_code\" autocomplete=\"off\" autocapitalize=\"characters\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    browser
        .post_form(
            &action,
            &[
                ("user_code", &code),
                ("action", if approve { "approve" } else { "deny" }),
            ],
        )
        .await
}

#[tokio::test]
async fn whole_flow_on_every_dialect() {
    let idp = start().await;
    for (device_url, token_url, client) in dialects(&idp) {
        let codes = start_device(&device_url, client, "openid email").await;
        for k in [
            "device_code",
            "user_code",
            "verification_uri",
            "verification_uri_complete",
            "expires_in",
            "interval",
        ] {
            assert!(!codes[k].is_null(), "{device_url} lacks {k}: {codes}");
        }
        assert_eq!(codes["interval"], 5);
        let device_code = codes["device_code"].as_str().unwrap();
        let (status, body) = poll(&token_url, client, device_code).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("authorization_pending")),
            "{body}"
        );
        let done = decide(
            &mut Browserless::new(),
            codes["verification_uri_complete"].as_str().unwrap(),
            true,
        )
        .await;
        assert!(done.contains("device-approved"), "{done}");
        idp.clock().advance(5);
        let (status, tokens) = poll(&token_url, client, device_code).await;
        assert_eq!(status, 200, "{tokens}");
        assert!(tokens["id_token"].is_string(), "openid was asked: {tokens}");
        let at = tokens["access_token"].as_str().unwrap();
        let userinfo = token_url
            .replace("/token/", "/userinfo/")
            .replace("connect/token", "connect/userinfo")
            .replace("openid-connect/token", "openid-connect/userinfo");
        let (status, info) =
            status_json(http().get(&userinfo).bearer_auth(at).send().await.unwrap()).await;
        assert_eq!(
            (status, info["email"].as_str()),
            (200, Some("alice@example.test")),
            "{userinfo}: {info}"
        );
        idp.clock().advance(5);
        let (status, again) = poll(&token_url, client, device_code).await;
        let gone = if client == "generic-public" {
            (404, Some("device_not_found")) // Django OAuth Toolkit's word for it
        } else {
            (400, Some("invalid_grant"))
        };
        assert_eq!((status, again["error"].as_str()), gone, "second redemption");
    }
    // The generic seed's /resource/ accepts the device's token raw.
    let (device_url, token_url, client) = dialects(&idp).pop().unwrap();
    let codes = start_device(&device_url, client, "read").await;
    assert_eq!(codes["expires_in"], 1800);
    decide(
        &mut Browserless::new(),
        codes["verification_uri_complete"].as_str().unwrap(),
        true,
    )
    .await;
    let (_, tokens) = poll(&token_url, client, codes["device_code"].as_str().unwrap()).await;
    let resp = http()
        .get(format!("{}/resource/", idp.url()))
        .header("Authorization", tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

/// Django OAuth Toolkit's device flow: oauthlib's 8-character user code without a dash, no
/// `slow_down` (DOT does not implement it), and 404 `device_not_found` for an unknown code.
#[tokio::test]
async fn generic_device_flow_speaks_django_oauth_toolkit() {
    let idp = start().await;
    let (device_url, token_url, client) = dialects(&idp).remove(2);
    let codes = start_device(&device_url, client, "openid").await;
    let user_code = codes["user_code"].as_str().unwrap();
    assert!(
        user_code.len() == 8 && user_code.chars().all(|c| c.is_ascii_alphanumeric()),
        "{user_code}"
    );
    let dc = codes["device_code"].as_str().unwrap();
    for _ in 0..3 {
        assert_eq!(
            poll(&token_url, client, dc).await.1["error"],
            "authorization_pending"
        );
    }
    let (status, body) = poll(&token_url, client, "no-such-device-code").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("device_not_found")),
        "{body}"
    );
    // oauthlib's DeviceAuthorizationEndpoint: a missing or unknown client_id is
    // invalid_request (400), not the token endpoint's 401 invalid_client.
    for (form, description) in [
        (vec![("scope", "openid")], "Missing client_id parameter."),
        (
            vec![("client_id", "nobody")],
            "Invalid client_id parameter value.",
        ),
    ] {
        let (status, body) = status_json(post_form(&device_url, &form).await).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            body,
            serde_json::json!({"error": "invalid_request", "error_description": description})
        );
    }
    let (status, body) = status_json(
        post_form(
            &device_url,
            &[
                ("client_id", "generic-confidential"),
                ("client_secret", "wrong"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

/// On a frozen clock: polls a whole interval apart are in time to the second, one second less
/// is `slow_down`, whatever real time passes meanwhile (on real seconds this flaked).
#[tokio::test]
async fn deny_expiry_slow_down_and_other_clients() {
    let idp = mockidp::MockIdp::builder()
        .clock(mockidp::Clock::frozen())
        .start()
        .await
        .unwrap();
    let (device_url, token_url, client) = dialects(&idp).remove(0);
    // Deny.
    let codes = start_device(&device_url, client, "openid").await;
    let done = decide(
        &mut Browserless::new(),
        codes["verification_uri_complete"].as_str().unwrap(),
        false,
    )
    .await;
    assert!(done.contains("device-denied"));
    let (status, body) = poll(&token_url, client, codes["device_code"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("access_denied"))
    );
    // slow_down, and the interval grows by 5 s from then on.
    let codes = start_device(&device_url, client, "openid").await;
    let dc = codes["device_code"].as_str().unwrap();
    assert_eq!(
        poll(&token_url, client, dc).await.1["error"],
        "authorization_pending"
    );
    assert_eq!(poll(&token_url, client, dc).await.1["error"], "slow_down");
    idp.clock().advance(9);
    assert_eq!(
        poll(&token_url, client, dc).await.1["error"],
        "slow_down",
        "9 s after, the interval is 10 s"
    );
    // Each slow_down adds 5 s: 15 now; one second short of it is still too fast.
    idp.clock().advance(14);
    assert_eq!(poll(&token_url, client, dc).await.1["error"], "slow_down");
    // 20 now, and exactly 20 s later is in time.
    idp.clock().advance(20);
    assert_eq!(
        poll(&token_url, client, dc).await.1["error"],
        "authorization_pending"
    );
    // Another client cannot poll it.
    let (status, body) = status_json(
        post_form(
            &token_url,
            &[
                ("grant_type", GRANT),
                ("device_code", dc),
                ("client_id", "clientId"),
                ("client_secret", "clientSecret"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"] == "invalid_grant" || body["error"] == "unauthorized_client",
        "{body}"
    );
    // Expiry, without sleeping: move the clock past the lifetime.
    idp.clock().advance(601);
    let (status, body) = poll(&token_url, client, dc).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("expired_token"))
    );
    let (status, body) = poll(&token_url, client, dc).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "expired codes leave memory"
    );
    // A client not allowed the device grant.
    let (status, body) = status_json(
        post_form(
            &device_url,
            &[("client_id", "clientId"), ("client_secret", "clientSecret")],
        )
        .await,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{body}"
    );
}

/// Wrong user codes get a friendly message; brute force is stopped.
#[tokio::test]
async fn wrong_user_codes_are_rate_limited() {
    let idp = start().await;
    let (device_url, _, client) = dialects(&idp).pop().unwrap();
    let codes = start_device(&device_url, client, "read").await;
    let mut browser = Browserless::new();
    let verify = codes["verification_uri"].as_str().unwrap().to_string();
    // Log in through the verification page.
    let html = browser.get(&verify).await.text().await.unwrap();
    let back = browser.submit_login(&html, "alice", "alice").await;
    assert!(back.starts_with('/'), "{back}");
    let mut statuses = Vec::new();
    for i in 0..8 {
        let resp = browser
            .post_form_raw(
                &verify,
                &[
                    ("user_code", &format!("WRONG-{i:03}")),
                    ("action", "approve"),
                ],
            )
            .await;
        let status = resp.status().as_u16();
        let html = resp.text().await.unwrap();
        if status == 200 {
            assert!(html.contains("not valid"), "{html}");
        }
        statuses.push(status);
    }
    assert_eq!(&statuses[..5], &[200; 5]);
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    // Even the right code is refused while limited.
    let resp = browser
        .post_form_raw(
            &verify,
            &[
                ("user_code", codes["user_code"].as_str().unwrap()),
                ("action", "approve"),
            ],
        )
        .await;
    assert_eq!(resp.status(), 429);
    // After the window the right code works, typed in lower case without the dash.
    idp.clock().advance(61);
    let typed = codes["user_code"]
        .as_str()
        .unwrap()
        .replace('-', "")
        .to_lowercase();
    let resp = browser
        .post_form_raw(&verify, &[("user_code", &typed), ("action", "approve")])
        .await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("device-approved"));
}

/// A device code polled by another client that may use the device grant is `invalid_grant`.
#[tokio::test]
async fn another_clients_device_code_is_invalid_grant() {
    let idp = start_with(
        r#"
        [[issuer]]
        name = "dot"
        dialect = "generic"
        [[issuer.client]]
        id = "tv"
        grants = ["urn:ietf:params:oauth:grant-type:device_code"]
        [[issuer.client]]
        id = "console"
        grants = ["urn:ietf:params:oauth:grant-type:device_code"]
        "#,
    )
    .await;
    let codes = start_device(&format!("{}/device-authorization/", idp.url()), "tv", "").await;
    let dc = codes["device_code"].as_str().unwrap();
    let (status, body) = poll(&format!("{}/token/", idp.url()), "console", dc).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    // The rightful client still gets authorization_pending.
    let (_, body) = poll(&format!("{}/token/", idp.url()), "tv", dc).await;
    assert_eq!(body["error"], "authorization_pending");
}

/// Approve and deny of one user code at the same moment: exactly one takes effect, its page
/// says which, and the other gets "already decided" naming the decision that stands; the
/// device's poll agrees with the page that won.
#[tokio::test]
async fn concurrent_approve_and_deny_one_decision_wins() {
    let idp = start().await;
    for (device_url, token_url, client) in dialects(&idp) {
        let mut browser = Browserless::new();
        let first = start_device(&device_url, client, "openid").await;
        let complete = first["verification_uri_complete"].as_str().unwrap();
        decide(&mut browser, complete, true).await; // logs alice in
        let action = complete.split('?').next().unwrap().to_string();
        let cookie = browser.cookie_header();
        for _ in 0..10 {
            let codes = start_device(&device_url, client, "openid").await;
            let user_code = codes["user_code"].as_str().unwrap();
            let post = |choice: &'static str| {
                http()
                    .post(&action)
                    .header("cookie", &cookie)
                    .form(&[("user_code", user_code), ("action", choice)])
                    .send()
            };
            let (a, d) = tokio::join!(post("approve"), post("deny"));
            let (a, d) = (a.unwrap(), d.unwrap());
            let statuses = (a.status().as_u16(), d.status().as_u16());
            let (a, d) = (a.text().await.unwrap(), d.text().await.unwrap());
            let approved = match statuses {
                (200, 409) => {
                    assert!(a.contains("id=\"device-approved\""), "{a}");
                    assert!(
                        d.contains("already decided: the device was connected"),
                        "{d}"
                    );
                    true
                }
                (409, 200) => {
                    assert!(d.contains("id=\"device-denied\""), "{d}");
                    assert!(a.contains("already decided: access was denied"), "{a}");
                    false
                }
                other => panic!("{device_url}: statuses {other:?}:\n{a}\n{d}"),
            };
            let (status, body) =
                poll(&token_url, client, codes["device_code"].as_str().unwrap()).await;
            if approved {
                assert_eq!(status, 200, "{body}");
            } else {
                assert_eq!(body["error"], "access_denied", "{body}");
            }
        }
    }
}
