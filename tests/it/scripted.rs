//! Scripted outcomes without a browser: device authorizations decided through the admin API,
//! logged-in sessions made through it (cookie and browser link), and `auto_login` clients that
//! answer `authorize` with a code for the `login_hint` user.

use mockidp::{Clock, MockIdp};
use serde_json::{Value, json};

use crate::util::*;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn admin_post(idp: &MockIdp, path: &str, body: Value) -> (u16, Value) {
    status_json(
        http()
            .post(format!("{}{path}", idp.admin_url()))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// A device authorization at Iopole for `iopole-device`: (device code, user code).
async fn start_device(idp: &MockIdp) -> (String, String) {
    let url = format!(
        "{}/realms/iopole/protocol/openid-connect/auth/device",
        idp.url()
    );
    let (status, body) =
        status_json(post_form(&url, &[("client_id", "iopole-device"), ("scope", "openid")]).await)
            .await;
    assert_eq!(status, 200, "{body}");
    (
        body["device_code"].as_str().unwrap().to_string(),
        body["user_code"].as_str().unwrap().to_string(),
    )
}

/// One poll, after the interval has passed on the server's frozen clock.
async fn poll(idp: &MockIdp, device_code: &str) -> (u16, Value) {
    idp.clock().advance(6);
    let url = format!("{}/realms/iopole/protocol/openid-connect/token", idp.url());
    status_json(
        post_form(
            &url,
            &[
                ("grant_type", GRANT),
                ("client_id", "iopole-device"),
                ("device_code", device_code),
            ],
        )
        .await,
    )
    .await
}

async fn frozen() -> MockIdp {
    MockIdp::builder()
        .clock(Clock::frozen())
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_device_is_approved_held_denied_or_expired_through_the_admin_api() {
    let idp = frozen().await;
    // Approved as alice, after two more authorization_pending answers.
    let (device_code, user_code) = start_device(&idp).await;
    let path = format!("/issuers/iopole/device/{user_code}");
    assert_eq!(
        admin_post(&idp, &path, json!({"action": "pending", "polls": 2}))
            .await
            .0,
        204
    );
    let (status, _) = admin_post(
        &idp,
        &path,
        json!({"action": "approve", "username": "alice"}),
    )
    .await;
    assert_eq!(status, 204);
    for _ in 0..2 {
        let (status, body) = poll(&idp, &device_code).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("authorization_pending"))
        );
    }
    let (status, tokens) = poll(&idp, &device_code).await;
    assert_eq!(status, 200, "{tokens}");
    let issuer = idp.issuer_url("iopole").unwrap();
    let (_, claims) =
        verify_with_discovery(tokens["access_token"].as_str().unwrap(), &issuer).await;
    assert_eq!(claims["preferred_username"], "alice");
    assert_eq!(claims["azp"], "iopole-device");
    // Decided once: the user code is spent.
    let (status, err) = admin_post(&idp, &path, json!({"action": "deny"})).await;
    assert_eq!(status, 404, "{err}");

    let (device_code, user_code) = start_device(&idp).await;
    let path = format!("/issuers/iopole/device/{user_code}");
    assert_eq!(
        admin_post(&idp, &path, json!({"action": "deny"})).await.0,
        204
    );
    let (status, body) = poll(&idp, &device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("access_denied"))
    );

    let (device_code, user_code) = start_device(&idp).await;
    let path = format!("/issuers/iopole/device/{}", user_code.to_lowercase());
    assert_eq!(
        admin_post(&idp, &path, json!({"action": "expire"})).await.0,
        204
    );
    let (status, body) = poll(&idp, &device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("expired_token"))
    );

    // Refusals: unknown code, unknown user, unknown action, unknown issuer.
    let (device_code, user_code) = start_device(&idp).await;
    let path = format!("/issuers/iopole/device/{user_code}");
    let (status, _) = admin_post(
        &idp,
        "/issuers/iopole/device/NOPE-NOPE",
        json!({"action": "deny"}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, err) = admin_post(
        &idp,
        &path,
        json!({"action": "approve", "username": "carol"}),
    )
    .await;
    assert_eq!(status, 404, "a disabled user approves nothing: {err}");
    assert!(err["error_description"].as_str().unwrap().contains("carol"));
    assert_eq!(
        admin_post(&idp, &path, json!({"action": "dance"})).await.0,
        400
    );
    let (status, _) = admin_post(
        &idp,
        &format!("/issuers/nope/device/{user_code}"),
        json!({"action": "deny"}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, body) = poll(&idp, &device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("authorization_pending"))
    );
}

#[tokio::test]
async fn an_admin_made_session_logs_a_client_or_a_browser_in() {
    let idp = start().await;
    let (status, s) = admin_post(
        &idp,
        "/issuers/inqom/sessions",
        json!({"username": "alice"}),
    )
    .await;
    assert_eq!(status, 201, "{s}");
    let cookie = s["cookie"].as_str().unwrap();
    let sid = s["sid"].as_str().unwrap();
    assert_eq!(cookie.split_once('=').unwrap().1, sid);
    // With the cookie, authorize answers at once with a code (SSO), no page shown.
    let issuer = idp.issuer_url("inqom").unwrap();
    let authorize = format!(
        "{issuer}/connect/authorize?response_type=code&client_id=SandboxAuthorizationCode\
         &redirect_uri=http%3A%2F%2Flocalhost%3A8080&scope=openid&state=s1"
    );
    let resp = http()
        .get(&authorize)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert!(query_params(&location(&resp)).contains_key("code"));
    // The link sets the same cookie in a browser, once.
    let link = s["link"].as_str().unwrap();
    let mut browser = Browserless::new();
    let resp = browser.get(link).await;
    assert_eq!(resp.status(), 302);
    assert!(location(&resp).ends_with("/home"), "{}", location(&resp));
    let back = browser.get(&authorize).await;
    assert_eq!(back.status(), 302, "the browser is logged in");
    assert_eq!(
        http().get(link).send().await.unwrap().status(),
        404,
        "single use"
    );
    // Refusals: a disabled or unknown user, an unknown issuer, no body.
    let (status, _) = admin_post(
        &idp,
        "/issuers/iopole/sessions",
        json!({"username": "carol"}),
    )
    .await;
    assert_eq!(status, 400, "carol is disabled");
    // Anyone else logs in where the login page would take them (allow_any_user, the default).
    let (status, s) = admin_post(
        &idp,
        "/issuers/iopole/sessions",
        json!({"username": "dave"}),
    )
    .await;
    assert_eq!((status, s["username"].as_str()), (201, Some("dave")));
    let (status, _) =
        admin_post(&idp, "/issuers/nope/sessions", json!({"username": "alice"})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_auto_login_client_gets_a_code_for_the_login_hint_user() {
    let idp = start().await;
    let client = json!({
        "secret": "s", "grants": ["authorization_code"], "auto_login": true,
        "redirect_uris": ["http://localhost:8080/cb"], "scopes": ["openid", "email", "profile"],
    });
    let resp = http()
        .put(format!(
            "{}/issuers/iopole/clients/headless",
            idp.admin_url()
        ))
        .json(&client)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let issuer = idp.issuer_url("iopole").unwrap();
    let authorize = |hint: &str| {
        format!(
            "{issuer}/protocol/openid-connect/auth?response_type=code&client_id=headless\
             &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcb&scope=openid&login_hint={hint}"
        )
    };
    let resp = http().get(authorize("bob")).send().await.unwrap();
    assert_eq!(resp.status(), 302, "no page");
    let code = query_params(&location(&resp))["code"].clone();
    let token_url = format!("{issuer}/protocol/openid-connect/token");
    let (status, tokens) = status_json(
        post_form(
            &token_url,
            &[
                ("grant_type", "authorization_code"),
                ("client_id", "headless"),
                ("client_secret", "s"),
                ("code", &code),
                ("redirect_uri", "http://localhost:8080/cb"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let (_, claims) = verify_with_discovery(tokens["id_token"].as_str().unwrap(), &issuer).await;
    assert_eq!(claims["preferred_username"], "bob");
    // Without a hint, or with one naming a disabled user, the login page shows as usual.
    let resp = http().get(authorize("carol")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let resp = http()
        .get(authorize("").replace("&login_hint=", ""))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // A client without the switch shows the page even with a hint.
    let plain = format!(
        "{issuer}/protocol/openid-connect/auth?response_type=code&client_id=iopole-web\
         &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&scope=openid&login_hint=alice"
    );
    assert_eq!(http().get(plain).send().await.unwrap().status(), 200);
}

/// A decided user code answers 409 "already decided" (as the device page does) and the first
/// decision stands; once redeemed the code is unknown: 404. The API document says both.
#[tokio::test]
async fn a_decided_device_code_is_a_conflict_until_redeemed() {
    let idp = frozen().await;
    let (device_code, user_code) = start_device(&idp).await;
    let path = format!("/issuers/iopole/device/{user_code}");
    let approve = json!({"action": "approve", "username": "alice"});
    assert_eq!(admin_post(&idp, &path, approve.clone()).await.0, 204);
    for action in [json!({"action": "deny"}), approve.clone()] {
        let (status, err) = admin_post(&idp, &path, action).await;
        assert_eq!(status, 409, "{err}");
        let why = err["error_description"].as_str().unwrap();
        assert!(why.contains("already decided: approved"), "{err}");
    }
    let (status, tokens) = poll(&idp, &device_code).await;
    assert_eq!(status, 200, "the first decision stands: {tokens}");
    let (status, err) = admin_post(&idp, &path, json!({"action": "deny"})).await;
    assert_eq!(status, 404, "redeemed: {err}");

    let (device_code, user_code) = start_device(&idp).await;
    let path = format!("/issuers/iopole/device/{user_code}");
    assert_eq!(
        admin_post(&idp, &path, json!({"action": "deny"})).await.0,
        204
    );
    let (status, err) = admin_post(&idp, &path, approve).await;
    assert_eq!(status, 409, "{err}");
    assert!(
        err["error_description"]
            .as_str()
            .unwrap()
            .contains("already decided: denied"),
        "{err}"
    );
    let (status, body) = poll(&idp, &device_code).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("access_denied"))
    );

    let doc: Value = http()
        .get(format!("{}/openapi.json", idp.admin_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for template in [
        "/issuers/{issuer}/device/{user_code}",
        "/ns/{namespace}/issuers/{issuer}/device/{user_code}",
    ] {
        let responses = &doc["paths"][template]["post"]["responses"];
        assert!(responses["409"].is_object(), "{template}: {responses}");
        assert!(responses["404"].is_object(), "{template}: {responses}");
    }
}
