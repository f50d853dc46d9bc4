//! The embedded library, used exactly as the README shows it, from tokio and actix runtimes.

use mockidp::config::{ClientConfig, IssuerConfig, UserConfig};
use mockidp::{DialectKind, MockIdp};

use crate::util::*;

/// The README's example: start, get tokens in one line, verify them against the JWKS.
#[tokio::test]
async fn readme_example_from_tokio() {
    let idp = MockIdp::start().await.unwrap(); // random loopback port
    let issuer = idp.issuer_url("iopole").unwrap(); // http://127.0.0.1:PORT/realms/iopole
    let token = idp.client_credentials_token("iopole", "clientId").unwrap();
    let user = idp
        .token("iopole", "clientId")
        .user("alice")
        .claim("tenant", "acme")
        .ttl(60)
        .sign()
        .unwrap();
    let (_, claims) = verify_with_discovery(&token, &issuer).await;
    assert_eq!(claims["azp"], "clientId");
    assert_eq!(claims["realm_access"]["roles"][3], "admin");
    let (_, claims) = verify_with_discovery(&user, &issuer).await;
    assert_eq!(claims["preferred_username"], "alice");
    assert_eq!(claims["tenant"], "acme");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        60
    );
    // The JWKS helper is what the server serves.
    let served = get_json(&format!("{issuer}/protocol/openid-connect/certs")).await;
    assert_eq!(idp.jwks("iopole").unwrap(), served);
    // An unknown client is an error, not a panic.
    assert!(idp.client_credentials_token("iopole", "nobody").is_err());
}

/// The builder adds issuers, clients and users; the server stops on drop.
#[tokio::test]
async fn builder_and_drop() {
    let mut client = ClientConfig::confidential("svc", "s3cret");
    client.roles = vec!["writer".into()];
    let mut alice = UserConfig::new("dora");
    alice
        .claims
        .insert("email".into(), "dora@example.test".into());
    let idp = MockIdp::builder()
        .issuer(IssuerConfig::new("acme", DialectKind::Keycloak))
        .client("acme", client)
        .client(
            "acme",
            ClientConfig::public("spa", "http://localhost:3000/cb"),
        )
        .user("acme", alice)
        .start()
        .await
        .unwrap();
    let issuer = idp.issuer_url("acme").unwrap();
    let (status, body) = status_json(
        post_form(
            &format!("{issuer}/protocol/openid-connect/token"),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "svc"),
                ("client_secret", "s3cret"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, claims) = verify_with_discovery(body["access_token"].as_str().unwrap(), &issuer).await;
    assert!(
        claims["realm_access"]["roles"]
            .as_array()
            .unwrap()
            .contains(&"writer".into())
    );
    // The default fixtures are still there.
    assert!(idp.issuer_url("iopole").is_some());
    // Adding to an issuer that does not exist is an error at start.
    let err = MockIdp::builder()
        .client("nope", ClientConfig::confidential("a", "b"))
        .start()
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("nope"));
    // Dropped: the port stops answering.
    let addr = idp.address();
    drop(idp);
    let mut refused = false;
    for _ in 0..50 {
        if std::net::TcpStream::connect(addr).is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(refused, "the server still listens after drop");
}

/// The same from an actix runtime (the server has its own thread and runtime either way).
#[actix_web::test]
async fn works_from_actix_web_test() {
    let idp = MockIdp::start().await.unwrap();
    let token = idp
        .client_credentials_token("generic", "generic-confidential")
        .unwrap();
    let url = format!("{}/.well-known/jwks.json", idp.url());
    let jwks = std::thread::spawn(move || {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move { get_json(&url).await })
    })
    .join()
    .unwrap();
    assert_eq!(
        jwks["keys"][0]["kid"],
        idp.jwks("generic").unwrap()["keys"][0]["kid"]
    );
    assert_eq!(token.split('.').count(), 3);
}

/// A fixture file by path, relative realm import included.
#[tokio::test]
async fn fixtures_from_a_file_with_a_realm_import() {
    let idp = MockIdp::builder()
        .fixtures(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/keycloak.toml"
        ))
        .start()
        .await
        .unwrap();
    let issuer = idp.issuer_url("acme").unwrap();
    let (status, body) = cc_basic(
        &format!("{issuer}/protocol/openid-connect/token"),
        "acme-service",
        "acme-service-secret",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, claims) = verify_with_discovery(body["access_token"].as_str().unwrap(), &issuer).await;
    assert!(
        claims["realm_access"]["roles"]
            .as_array()
            .unwrap()
            .contains(&"admin".into())
    );
    assert_eq!(claims["resource_access"]["acme-web"]["roles"][0], "reader");
    assert_eq!(
        claims["tenant"], "acme",
        "the client's hardcoded-claim mapper"
    );
    // jane logs in with the password from the export.
    let loc = Browserless::new()
        .authorize(
            &format!("{issuer}/protocol/openid-connect/auth?response_type=code&client_id=acme-web&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcb&scope=openid"),
            "jane",
            "jane",
        )
        .await;
    assert!(query_params(&loc).contains_key("code"), "{loc}");
}

/// One worker by default, more on request: either serves requests that arrive together,
/// each its own token.
#[tokio::test]
async fn concurrent_requests_on_one_worker_and_on_several() {
    for workers in [None, Some(3)] {
        let builder = MockIdp::builder();
        let builder = match workers {
            Some(n) => builder.workers(n),
            None => builder,
        };
        let idp = builder.start().await.unwrap();
        let token_url = format!(
            "{}/protocol/openid-connect/token",
            idp.issuer_url("iopole").unwrap()
        );
        let mut requests = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let token_url = token_url.clone();
            requests.spawn(async move { cc_basic(&token_url, "clientId", "clientSecret").await });
        }
        let mut tokens = Vec::new();
        while let Some(answer) = requests.join_next().await {
            let (status, body) = answer.unwrap();
            assert_eq!(status, 200, "{body}");
            tokens.push(body["access_token"].as_str().unwrap().to_string());
        }
        tokens.sort_unstable();
        tokens.dedup();
        assert_eq!(tokens.len(), 8, "workers {workers:?}");
    }
}
