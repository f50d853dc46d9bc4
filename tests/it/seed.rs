//! Deterministic mode (`--seed`, the builder's `.seed(n)`, the fixtures' `seed`): the same
//! requests to two servers with the same seed give byte-identical answers and tokens.

use mockidp::MockIdp;

use crate::util::*;

const HOST: &str = "idp.test:8180";
const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// A request as a client on `HOST` would send it (so issuer URLs do not carry the random port).
async fn call(idp: &MockIdp, method: &str, path: &str, form: &[(&str, &str)]) -> String {
    let url = format!("{}{path}", idp.url());
    let req = match method {
        "GET" => http().get(url),
        _ => http().post(url).form(form),
    };
    let resp = req.header("Host", HOST).send().await.unwrap();
    let status = resp.status().as_u16();
    let location = resp
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    format!("{status} {location} {}", resp.text().await.unwrap())
}

/// One run: every grant and the values each one generates.
async fn run(idp: &MockIdp) -> Vec<String> {
    let kc = "/realms/iopole/protocol/openid-connect";
    let mut out = Vec::new();
    out.push(
        call(
            idp,
            "POST",
            &format!("{kc}/token"),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "clientId"),
                ("client_secret", "clientSecret"),
            ],
        )
        .await,
    );
    let password = call(
        idp,
        "POST",
        &format!("{kc}/token"),
        &[
            ("grant_type", "password"),
            ("client_id", "iopole-web"),
            ("client_secret", "iopole-web-secret"),
            ("username", "alice"),
            ("password", "alice"),
            ("scope", "openid"),
        ],
    )
    .await;
    let refresh: serde_json::Value =
        serde_json::from_str(password.splitn(3, ' ').nth(2).unwrap()).unwrap();
    out.push(password.clone());
    out.push(
        call(
            idp,
            "POST",
            &format!("{kc}/token"),
            &[
                ("grant_type", "refresh_token"),
                ("client_id", "iopole-web"),
                ("client_secret", "iopole-web-secret"),
                ("refresh_token", refresh["refresh_token"].as_str().unwrap()),
            ],
        )
        .await,
    );
    let device = call(
        idp,
        "POST",
        &format!("{kc}/auth/device"),
        &[("client_id", "iopole-device")],
    )
    .await;
    out.push(device.clone());
    let device: serde_json::Value =
        serde_json::from_str(device.splitn(3, ' ').nth(2).unwrap()).unwrap();
    out.push(
        call(
            idp,
            "POST",
            &format!("{kc}/token"),
            &[
                ("grant_type", GRANT),
                ("client_id", "iopole-device"),
                ("device_code", device["device_code"].as_str().unwrap()),
            ],
        )
        .await,
    );
    // A login page (its form's id), opaque-format and handle-format issuers.
    out.push(
        call(
            idp,
            "GET",
            &format!(
                "{kc}/auth?response_type=code&client_id=iopole-web&scope=openid\
                 &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcb"
            ),
            &[],
        )
        .await,
    );
    out.push(
        call(
            idp,
            "POST",
            "/identity/connect/deviceauthorization",
            &[("client_id", "inqom-device")],
        )
        .await,
    );
    out.push(
        call(
            idp,
            "POST",
            "/device-authorization/",
            &[("client_id", "generic-public")],
        )
        .await,
    );
    out
}

#[tokio::test]
async fn the_same_requests_with_the_same_seed_give_byte_identical_answers() {
    let first = MockIdp::builder().seed(42).start().await.unwrap();
    let second = MockIdp::builder().seed(42).start().await.unwrap();
    let (a, b) = (run(&first).await, run(&second).await);
    assert!(a[4].starts_with("400 "), "the device is pending: {}", a[4]);
    assert!(
        a.iter()
            .enumerate()
            .all(|(i, r)| i == 4 || r.starts_with("200 ")),
        "{a:#?}"
    );
    assert_eq!(a, b);
    // The clock starts frozen at 2026-01-01T00:00:00Z.
    assert_eq!(first.clock().now(), 1_767_225_600);
    assert!(first.clock().is_frozen());
    // After a reset the same requests give the same answers again.
    let resp = http()
        .post(format!("{}/reset", first.admin_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(run(&first).await, a);
    // Another seed, or none, gives other values.
    let other = MockIdp::builder().seed(43).start().await.unwrap();
    assert_ne!(run(&other).await, a);
    let random = MockIdp::start().await.unwrap();
    assert_ne!(run(&random).await[0], a[0]);
}

#[tokio::test]
async fn the_fixtures_seed_and_seeded_namespaces_are_deterministic() {
    let toml = format!("seed = 7\n{}", mockidp::config::DEFAULT_FIXTURES);
    let (x, y) = (start_with(&toml).await, start_with(&toml).await);
    assert_eq!(run(&x).await, run(&y).await);
    let (nx, ny) = (x.namespace().unwrap(), y.namespace().unwrap());
    assert_eq!(nx.id(), ny.id(), "namespace ids come from the seed too");
    assert_eq!(nx.clock().now(), 1_767_225_600);
}
