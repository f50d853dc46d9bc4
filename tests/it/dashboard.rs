//! What a developer looks at when a test fails: the dashboard at `/_mockidp/` (over HTTP, then in
//! headless Chromium), `/_mockidp/metrics`, the journal's decoded tokens, clearing queued rules
//! and the clock's admin endpoint.

use std::time::Duration;

use mockidp::config::ClientConfig;
use mockidp::{Clock, MockIdp};
use serde_json::{Value, json};

use crate::chrome::{Browser, Chrome, WAIT, png_width};
use crate::util::*;

/// A client id full of markup: request data that must show as text.
const MARKUP_ID: &str = "<img src=x onerror=\"document.title='pwned'\">";

async fn admin(idp: &MockIdp, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = http().request(method, format!("{}{path}", idp.admin_url()));
    if let Some(body) = body {
        req = req.json(&body);
    }
    status_json(req.send().await.unwrap()).await
}

async fn get_text(url: &str, bearer: Option<&str>) -> (u16, String) {
    let mut req = http().get(url);
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

fn kc_token_url(idp: &MockIdp) -> String {
    format!("{}/realms/iopole/protocol/openid-connect/token", idp.url())
}

/// One series' value in Prometheus text (0 when the series is absent).
fn series(metrics: &str, name_and_labels: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .map_or(0, |v| v.parse().unwrap())
}

async fn metrics(idp: &MockIdp) -> String {
    let (status, text) = get_text(&format!("{}/metrics", idp.admin_url()), None).await;
    assert_eq!(status, 200, "{text}");
    text
}

// --- metrics -------------------------------------------------------------------------------------

/// Counters move by exactly the requests made: by issuer, endpoint and outcome; tokens by
/// grant and dialect; the latency histogram counts each request once; store sizes follow.
#[tokio::test]
async fn metrics_count_exactly_the_requests_made() {
    let idp = start().await;
    let token_url = kc_token_url(&idp);
    let ok = r#"mockidp_requests_total{issuer="iopole",endpoint="token",outcome="ok"}"#;
    let bad =
        r#"mockidp_requests_total{issuer="iopole",endpoint="token",outcome="unauthorized_client"}"#;
    let issued = r#"mockidp_tokens_issued_total{issuer="iopole",dialect="keycloak",grant="client_credentials"}"#;
    let jwks = r#"mockidp_requests_total{issuer="generic",endpoint="jwks",outcome="ok"}"#;
    let latency = r#"mockidp_request_duration_seconds_count{issuer="iopole",endpoint="token"}"#;
    let slowest =
        r#"mockidp_request_duration_seconds_bucket{issuer="iopole",endpoint="token",le="+Inf"}"#;
    let before = metrics(&idp).await;
    assert_eq!(series(&before, ok), 0, "{before}");
    assert!(before.contains("# TYPE mockidp_requests_total counter"));
    assert!(before.contains("# TYPE mockidp_request_duration_seconds histogram"));

    for _ in 0..3 {
        assert_eq!(
            cc_basic(&token_url, "clientId", "clientSecret").await.0,
            200
        );
    }
    for _ in 0..2 {
        assert_eq!(cc_basic(&token_url, "clientId", "wrong").await.0, 401);
    }
    get_json(&format!("{}/.well-known/jwks.json", idp.url())).await;
    let after = metrics(&idp).await;
    assert_eq!(series(&after, ok), 3, "{after}");
    assert_eq!(series(&after, bad), 2, "{after}");
    assert_eq!(series(&after, issued), 3, "{after}");
    assert_eq!(series(&after, jwks), 1, "{after}");
    assert_eq!(series(&after, latency), 5, "{after}");
    assert_eq!(series(&after, slowest), 5, "{after}");
    // Scraping is not counted, and an authorization code shows in the store sizes.
    let again = metrics(&idp).await;
    assert_eq!(series(&again, ok), 3);
    let codes = r#"mockidp_store_entries{store="codes"}"#;
    assert_eq!(series(&again, codes), 0, "{again}");
    let mut browser = Browserless::new();
    let (_, challenge) = pkce_pair();
    browser
        .authorize(
            &format!(
                "{}/authorize/?response_type=code&client_id=generic-public&redirect_uri={}\
                 &code_challenge={challenge}&code_challenge_method=S256&scope=openid",
                idp.url(),
                "http%3A%2F%2Flocalhost%3A8080%2Fcallback"
            ),
            "alice",
            "alice",
        )
        .await;
    let with_code = metrics(&idp).await;
    assert_eq!(series(&with_code, codes), 1, "{with_code}");
    assert!(
        series(&with_code, r#"mockidp_store_entries{store="journal"}"#) >= 7,
        "{with_code}"
    );
}

/// The metrics are admin data: with an admin token they need it.
#[tokio::test]
async fn metrics_obey_the_admin_token() {
    let idp = MockIdp::builder()
        .admin_token("t0ken")
        .start()
        .await
        .unwrap();
    let url = format!("{}/metrics", idp.admin_url());
    assert_eq!(get_text(&url, None).await.0, 401);
    let (status, text) = get_text(&url, Some("t0ken")).await;
    assert_eq!(status, 200);
    assert!(text.contains("mockidp_store_entries"), "{text}");
}

// --- journal, queue, clock -----------------------------------------------------------------------

/// A token response's journal entry holds the decoded header and claims of its access and ID
/// tokens, never the tokens themselves.
#[tokio::test]
async fn the_journal_keeps_decoded_claims_never_tokens() {
    let idp = start().await;
    let issuer = idp.issuer_url("iopole").unwrap();
    let (_, body) = cc_basic(&kc_token_url(&idp), "clientId", "clientSecret").await;
    let token = body["access_token"].as_str().unwrap();
    let (header, claims) = verify_with_discovery(token, &issuer).await;

    let (_, journal) = admin(&idp, "GET", "/journal?endpoint=token", None).await;
    let entry = &journal[0];
    assert_eq!(entry["tokens"][0]["token"], "access_token", "{entry}");
    assert_eq!(
        entry["tokens"][0]["header"]["kid"],
        json!(header.kid),
        "{entry}"
    );
    assert_eq!(entry["tokens"][0]["claims"], claims, "{entry}");
    let text = journal.to_string();
    let signature = token.rsplit('.').next().unwrap();
    assert!(!text.contains(signature), "the journal holds a signature");
    assert!(!text.contains(token), "the journal holds a token");

    // A login's tokens: the access and the ID token.
    let mut browser = Browserless::new();
    let back = browser
        .authorize(
            &format!(
                "{issuer}/protocol/openid-connect/auth?response_type=code&client_id=iopole-web\
                 &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&scope=openid"
            ),
            "alice",
            "alice",
        )
        .await;
    let code = query_params(&back)["code"].clone();
    let (status, body) = redeem_iopole_web(&issuer, &code, "http://localhost:8080/callback").await;
    assert_eq!(status, 200, "{body}");
    let (_, journal) = admin(
        &idp,
        "GET",
        "/journal?grant_type=authorization_code&limit=1",
        None,
    )
    .await;
    let tokens = &journal[0]["tokens"];
    assert_eq!(tokens[0]["token"], "access_token", "{tokens}");
    assert_eq!(tokens[1]["token"], "id_token", "{tokens}");
    assert_eq!(
        tokens[1]["claims"]["preferred_username"], "alice",
        "{tokens}"
    );
    // Refused requests hold no tokens.
    cc_basic(&kc_token_url(&idp), "clientId", "wrong").await;
    let (_, journal) = admin(&idp, "GET", "/journal?limit=1", None).await;
    assert!(journal[0].get("tokens").is_none(), "{journal}");
}

/// `after` follows the journal: only entries newer than a `seq`.
#[tokio::test]
async fn the_journal_can_be_followed_with_after() {
    let idp = start().await;
    for _ in 0..3 {
        get_json(&format!("{}/.well-known/openid-configuration", idp.url())).await;
    }
    let (_, all) = admin(&idp, "GET", "/journal", None).await;
    let second = all[1]["seq"].as_u64().unwrap();
    let (_, newer) = admin(&idp, "GET", &format!("/journal?after={second}"), None).await;
    assert_eq!(newer.as_array().unwrap().len(), 1, "{newer}");
    assert_eq!(newer[0]["seq"], all[2]["seq"]);
}

/// Queued rules are cleared by kind (`DELETE /overrides`, `/defects`, `/failures`) or all at
/// once (`DELETE /queue`), and a cleared failure no longer answers.
#[tokio::test]
async fn queued_rules_are_cleared_by_kind_or_all_at_once() {
    let idp = start().await;
    let token_url = kc_token_url(&idp);
    for (path, rule) in [
        (
            "/overrides",
            json!({"client_id": "clientId", "claims": {"x": 1}}),
        ),
        (
            "/defects",
            json!({"client_id": "nobody", "defect": "expired"}),
        ),
        (
            "/failures",
            json!({"endpoint": "token", "status": 503, "count": 5}),
        ),
    ] {
        assert_eq!(admin(&idp, "POST", path, Some(rule)).await.0, 201);
    }
    assert_eq!(
        cc_basic(&token_url, "clientId", "clientSecret").await.0,
        503
    );
    assert_eq!(admin(&idp, "DELETE", "/failures", None).await.0, 204);
    let q = admin(&idp, "GET", "/queue", None).await.1;
    assert_eq!(q["failures"], json!([]), "{q}");
    assert_eq!(q["overrides"].as_array().unwrap().len(), 1, "{q}");
    assert_eq!(q["defects"].as_array().unwrap().len(), 1, "{q}");
    let (status, body) = cc_basic(&token_url, "clientId", "clientSecret").await;
    assert_eq!(status, 200, "the cleared failure no longer answers: {body}");

    assert_eq!(admin(&idp, "DELETE", "/queue", None).await.0, 204);
    let q = admin(&idp, "GET", "/queue", None).await.1;
    assert_eq!(
        q,
        json!({"overrides": [], "defects": [], "failures": []}),
        "{q}"
    );
    let (_, journal) = admin(&idp, "GET", "/journal", None).await;
    assert!(
        !journal.as_array().unwrap().is_empty(),
        "clearing the queue keeps the journal"
    );
}

/// The clock endpoint freezes (time stands still across real seconds), sets, advances,
/// unfreezes and resets; tokens carry its time; bad changes are refused and change nothing.
#[tokio::test]
async fn the_clock_freezes_sets_advances_and_resets() {
    let idp = start().await;
    let (status, c) = admin(&idp, "POST", "/clock", Some(json!({"freeze": true}))).await;
    assert_eq!((status, &c["frozen"]), (200, &json!(true)), "{c}");
    let frozen = c["now"].as_u64().unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (_, c) = admin(&idp, "GET", "/clock", None).await;
    assert_eq!(c["now"], frozen, "frozen time does not move: {c}");

    let t = 2_000_000_000u64;
    let (_, c) = admin(&idp, "POST", "/clock", Some(json!({"now": t}))).await;
    assert_eq!((c["now"].as_u64(), &c["frozen"]), (Some(t), &json!(true)));
    let (_, c) = admin(&idp, "POST", "/clock", Some(json!({"advance_secs": 30}))).await;
    assert_eq!(c["now"], t + 30);
    let (_, body) = cc_basic(&kc_token_url(&idp), "clientId", "clientSecret").await;
    let (_, journal) = admin(&idp, "GET", "/journal?endpoint=token", None).await;
    assert_eq!(journal[0]["tokens"][0]["claims"]["iat"], t + 30, "{body}");
    assert_eq!(journal[0]["time"], t + 30);

    for bad in [
        json!({"reset": true, "advance_secs": 1}),
        json!({"advance_secs": 1, "now": 1}),
        json!({"now": 99_999_999_999u64}),
        json!({"offset_secs": -9_999_999_999i64}),
        json!({"freeze": "yes"}),
    ] {
        let (status, body) = admin(&idp, "POST", "/clock", Some(bad.clone())).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error_description"].is_string(), "{body}");
    }
    let (_, c) = admin(&idp, "GET", "/clock", None).await;
    assert_eq!(c["now"], t + 30, "refusals change nothing");

    let (_, c) = admin(&idp, "POST", "/clock", Some(json!({"freeze": false}))).await;
    assert_eq!(c["frozen"], false);
    assert!(
        (t + 30..=t + 32).contains(&c["now"].as_u64().unwrap()),
        "{c}"
    );
    let (_, c) = admin(&idp, "POST", "/clock", Some(json!({"reset": true}))).await;
    assert_eq!(
        (&c["offset_secs"], &c["frozen"]),
        (&json!(0), &json!(false))
    );
}

/// The library takes a frozen clock; `idp.clock()` moves it.
#[tokio::test]
async fn the_builder_takes_a_frozen_clock() {
    let clock = Clock::frozen_at(1_900_000_000);
    let idp = MockIdp::builder()
        .clock(clock.clone())
        .start()
        .await
        .unwrap();
    let token = idp
        .client_credentials_token("generic", "generic-confidential")
        .unwrap();
    let (_, claims) = verify_unchecked(&token);
    assert_eq!(claims["iat"], 1_900_000_000);
    clock.advance(60);
    assert_eq!(idp.clock().now(), 1_900_000_060);
    let (_, c) = admin(&idp, "GET", "/clock", None).await;
    assert_eq!(
        (&c["now"], &c["frozen"]),
        (&json!(1_900_000_060), &json!(true))
    );
    // A reset brings real time back, still frozen: the test keeps not depending on real seconds.
    admin(&idp, "POST", "/reset", None).await;
    let (_, c) = admin(&idp, "GET", "/clock", None).await;
    // Frozen at real time: a second may have passed since.
    assert!(
        (-1..=0).contains(&c["offset_secs"].as_i64().unwrap()),
        "{c}"
    );
    assert_eq!(c["frozen"], true, "{c}");
}

fn verify_unchecked(token: &str) -> (Value, Value) {
    use base64::Engine as _;
    let part = |i: usize| -> Value {
        let raw = token.split('.').nth(i).unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    (part(0), part(1))
}

// --- the dashboard over HTTP ---------------------------------------------------------------------

/// A server whose Iopole realm has a client named with markup.
async fn start_with_markup_client() -> MockIdp {
    MockIdp::builder()
        .client(
            "iopole",
            ClientConfig::confidential(MARKUP_ID, "markup-secret"),
        )
        .start()
        .await
        .unwrap()
}

/// The page shows issuers with discovery URLs, clients and users, never a secret; request
/// data is escaped; a policy lets only the page's own script run.
#[tokio::test]
async fn the_dashboard_page_escapes_request_data_and_shows_no_secrets() {
    let idp = start_with_markup_client().await;
    let (status, _) = cc_basic(&kc_token_url(&idp), MARKUP_ID, "markup-secret").await;
    assert_eq!(status, 200);
    let resp = http()
        .get(format!("{}/", idp.admin_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let page = resp.text().await.unwrap();
    let discovery = format!(
        "{}/realms/iopole/.well-known/openid-configuration",
        idp.url()
    );
    for needle in [
        discovery.as_str(),
        "clientId",
        "SandboxAuthorizationCode",
        "alice",
        "&#60;img src=x",
    ] {
        assert!(page.contains(needle), "no {needle} on the page");
    }
    assert!(
        !page.contains("<img"),
        "markup from request data is not escaped"
    );
    for secret in [
        "clientSecret",
        "markup-secret",
        "generic-confidential-secret",
    ] {
        assert!(!page.contains(secret), "the page shows a secret");
    }
    let (_, journal) = get_text(&format!("{}/dashboard/journal", idp.admin_url()), None).await;
    assert!(journal.contains("&#60;img src=x"), "{journal}");
    assert!(!journal.contains("<img"), "{journal}");
    for asset in ["dashboard.js", "dashboard.css"] {
        let (status, text) = get_text(&format!("{}/{asset}", idp.admin_url()), None).await;
        assert_eq!(status, 200, "{asset}");
        assert!(text.len() > 500, "{asset}");
    }
}

/// With an admin token, the page without it is an empty frame that asks for it; its data need
/// the token; without a token, names a remote page could point here are refused.
#[tokio::test]
async fn the_dashboard_obeys_the_admin_token_and_host_rules() {
    let idp = MockIdp::builder()
        .admin_token("t0ken")
        .start()
        .await
        .unwrap();
    let page_url = format!("{}/", idp.admin_url());
    let (status, frame) = get_text(&page_url, None).await;
    assert_eq!(status, 200);
    assert!(frame.contains("data-locked"), "{frame}");
    assert!(
        !frame.contains("clientId"),
        "data without the token: {frame}"
    );
    let (status, full) = get_text(&page_url, Some("t0ken")).await;
    assert_eq!(status, 200);
    assert!(full.contains("clientId") && !full.contains("data-locked"));
    for part in ["dashboard/journal", "dashboard/state"] {
        let url = format!("{}/{part}", idp.admin_url());
        assert_eq!(get_text(&url, None).await.0, 401, "{part}");
        assert_eq!(get_text(&url, Some("wrong")).await.0, 401, "{part}");
        assert_eq!(get_text(&url, Some("t0ken")).await.0, 200, "{part}");
    }

    let open = start().await;
    let resp = http()
        .get(format!("{}/", open.admin_url()))
        .header("host", "rebound.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403, "DNS rebinding");
    let resp = http()
        .delete(format!("{}/failures", open.admin_url()))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403, "another origin");
}

// --- the dashboard in Chromium -------------------------------------------------------------------

/// Polls `script` (which returns a value or null) until it returns something.
async fn until(browser: &Browser, what: &str, script: &str) -> Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let v = browser.execute(script).await;
        if !v.is_null() && v != false {
            return v;
        }
        if std::time::Instant::now() > deadline {
            panic!("{what}: not after {WAIT:?} {}", browser.describe().await);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The decoded access token claims of the newest journal entry of `client_id`, once shown.
fn claims_script(client_id: &str) -> String {
    format!(
        r##"for (const e of document.querySelectorAll("#journal-list details.entry")) {{
             const claims = e.querySelector(".token[data-token=access_token] .claims");
             const id = e.querySelector(".client-id").textContent;
             if (claims && id === {client_id:?}) return JSON.parse(claims.textContent);
           }}
           return null;"##
    )
}

/// The dashboard, live: a browser login and a client-credentials request show in the journal
/// with their decoded claims; a queued failure is cleared; the clock advances; a token is minted
/// and shown decoded; markup in a client id stays text; no console errors; screenshots at
/// desktop and 360 px widths under `target/`.
#[tokio::test]
async fn the_dashboard_follows_requests_and_drives_the_admin_api() {
    let Some(chrome) = Chrome::launch().await else {
        return;
    };
    let idp = start_with_markup_client().await;
    let issuer = idp.issuer_url("iopole").unwrap();
    let browser = chrome.session().await;
    browser.resize(1280, 1400).await;

    // A browser login, its code redeemed.
    browser
        .goto(&format!(
            "{issuer}/protocol/openid-connect/auth?response_type=code&client_id=iopole-web\
             &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcallback&scope=openid"
        ))
        .await;
    browser.log_in("alice", "alice").await;
    let back = browser
        .wait_for_redirect("http://localhost:8080/callback")
        .await;
    let code = query_params(&back)["code"].clone();
    let (status, body) = redeem_iopole_web(&issuer, &code, "http://localhost:8080/callback").await;
    assert_eq!(status, 200, "{body}");
    let failure = json!({"endpoint": "userinfo", "status": 503, "count": 3});
    assert_eq!(admin(&idp, "POST", "/failures", Some(failure)).await.0, 201);

    // The refused navigation to the app (nothing listens at localhost:8080) is no page error.
    browser.console_errors().await;
    browser.goto(&format!("{}/", idp.admin_url())).await;
    browser.wait_for("#journal-list details.entry").await;
    let login = until(&browser, "the login's token", &claims_script("iopole-web")).await;
    assert_eq!(login["preferred_username"], "alice", "{login}");
    assert_eq!(login["azp"], "iopole-web", "{login}");

    // While the page is open: a client-credentials request, and one by the markup client.
    let (status, _) = cc_basic(&kc_token_url(&idp), "clientId", "clientSecret").await;
    assert_eq!(status, 200);
    let (status, _) = cc_basic(&kc_token_url(&idp), MARKUP_ID, "markup-secret").await;
    assert_eq!(status, 200);
    let service = until(
        &browser,
        "the client-credentials token",
        &claims_script("clientId"),
    )
    .await;
    assert_eq!(service["azp"], "clientId", "{service}");
    let markup = until(
        &browser,
        "the markup client's entry",
        &format!(
            r##"const ids = [...document.querySelectorAll("#journal-list .client-id")];
               return ids.some(d => d.textContent === {MARKUP_ID:?}) || null;"##
        ),
    )
    .await;
    assert_eq!(markup, true);
    let injected = browser
        .execute("return document.querySelectorAll('main img').length + ':' + document.title")
        .await;
    assert_eq!(
        injected, "0:mockidp dashboard",
        "markup from request data ran"
    );

    // An entry opens into what the journal holds.
    browser
        .find("#journal-list details.entry summary")
        .await
        .click()
        .await;
    let opened = browser
        .find("#journal-list details.entry[open] .claims")
        .await
        .text()
        .await;
    assert!(opened.contains("\"iss\""), "{opened}");

    // The queued failure, cleared.
    assert_eq!(
        browser.find("#queue-failures .count").await.text().await,
        "1"
    );
    browser
        .find("#queue-failures button[data-action=queue-clear]")
        .await
        .click()
        .await;
    until(
        &browser,
        "the failure queue emptied",
        r##"return document.querySelector("#queue-failures .count").textContent === "0" || null;"##,
    )
    .await;
    let (_, q) = admin(&idp, "GET", "/queue", None).await;
    assert_eq!(q["failures"], json!([]), "{q}");

    // The clock, an hour ahead.
    let before = idp.clock().now();
    browser
        .find("button[data-action=clock-advance][data-secs='3600']")
        .await
        .click()
        .await;
    until(
        &browser,
        "the clock advanced",
        &format!(
            "return Number(document.querySelector('#clock').dataset.now) >= {} || null;",
            before + 3600
        ),
    )
    .await;
    assert!(idp.clock().offset() >= 3600, "{}", idp.clock().offset());
    let still_open = browser
        .execute("return document.querySelectorAll('#journal-list details[open]').length")
        .await;
    assert_eq!(
        still_open, 1,
        "the opened entry stays open as the journal refreshes"
    );

    // A token minted for a client and a user, shown decoded.
    browser
        .find("#mint [name=client_id]")
        .await
        .send_keys("clientId")
        .await;
    browser
        .find("#mint [name=username]")
        .await
        .send_keys("alice")
        .await;
    browser.find("#mint button").await.click().await;
    let minted = until(
        &browser,
        "the minted token",
        r##"const c = document.querySelector("#minted-claims").textContent;
           return c ? JSON.parse(c) : null;"##,
    )
    .await;
    assert_eq!(minted["preferred_username"], "alice", "{minted}");

    // Filtered: only the login page's entries, then every entry again.
    let filter = |endpoint: &str| {
        format!(
            r##"const f = document.querySelector("#filters [name=endpoint]");
               f.value = {endpoint:?}; f.dispatchEvent(new Event("input", {{ bubbles: true }}));
               return null;"##
        )
    };
    browser.execute(&filter("login")).await;
    let shown = until(
        &browser,
        "only login entries",
        r##"const places = [...document.querySelectorAll("#journal-list .where")].map(w => w.textContent);
           return places.length > 0 && places.every(w => w.endsWith("· login")) ? places.length : null;"##,
    )
    .await;
    assert_eq!(shown, 1, "one login in the journal");
    browser.execute(&filter("")).await;
    until(
        &browser,
        "every entry again",
        r##"return document.querySelectorAll("#journal-list details.entry").length > 3 || null;"##,
    )
    .await;

    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");

    // Under the checkout's target/, which a CARGO_TARGET_DIR elsewhere leaves uncreated.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&dir).unwrap();
    browser.execute("window.scrollTo(0, 0); return null;").await;
    let desktop = browser.screenshot().await;
    std::fs::write(dir.join("dashboard-desktop.png"), &desktop).unwrap();
    browser.resize(360, 800).await;
    browser.goto(&format!("{}/", idp.admin_url())).await;
    browser.wait_for("#journal-list details.entry").await;
    browser
        .execute(
            "const e = document.querySelector('#journal-list details.entry'); e.open = true; \
             document.querySelector('#journal').scrollIntoView(); return null;",
        )
        .await;
    let phone = browser.screenshot().await;
    std::fs::write(dir.join("dashboard-360px.png"), &phone).unwrap();
    eprintln!(
        "dashboard screenshots: {} and {}",
        dir.join("dashboard-desktop.png").display(),
        dir.join("dashboard-360px.png").display()
    );
    assert_eq!(png_width(&phone), 360);
    let width = browser
        .execute("return document.documentElement.scrollWidth")
        .await;
    assert!(
        width.as_u64().unwrap() <= 360,
        "the dashboard overflows 360 px: scrollWidth {width}"
    );
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

/// With an admin token the page asks for it once, keeps it in the tab's session storage, and
/// shows the data; a reload needs no second asking.
#[tokio::test]
async fn the_dashboard_asks_for_the_admin_token_once() {
    let Some(chrome) = Chrome::launch().await else {
        return;
    };
    let idp = MockIdp::builder()
        .admin_token("t0ken")
        .start()
        .await
        .unwrap();
    let browser = chrome.session().await;
    browser.goto(&format!("{}/", idp.admin_url())).await;
    browser.wait_for("#token-form:not([hidden])").await;
    browser.find("#admin-token").await.send_keys("t0ken").await;
    browser.find("#token-form button").await.click().await;
    browser.wait_for("#issuers").await;
    assert!(browser.source().await.contains("clientId"));
    let kept = browser
        .execute("return sessionStorage.getItem('mockidp-admin-token')")
        .await;
    assert_eq!(kept, "t0ken");
    browser.goto(&format!("{}/", idp.admin_url())).await;
    browser.wait_for("#issuers").await;
    let asked = browser
        .execute("return document.querySelector('#token-form').hidden")
        .await;
    assert_eq!(asked, true, "asked for the token again");
    let errors = browser.console_errors().await;
    // The first load's frame is the only 401-free path: nothing failed.
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}
