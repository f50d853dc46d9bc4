//! The `openidconnect` crate as a real relying party against each dialect: discovery, the
//! authorization code flow with PKCE (logged in without a browser), ID token validation with
//! nonce and `at_hash`, userinfo, refresh with rotation.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreTokenResponse, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthType, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse, reqwest,
};

use crate::util::*;

/// What `CoreClient::from_provider_metadata` gives: authorization endpoint set, token and
/// userinfo endpoints "maybe set" (their calls return a `Result`).
type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// One registered relying party: the only thing that differs between dialects.
struct Case {
    issuer: String,
    client_id: &'static str,
    secret: Option<&'static str>,
    auth: AuthType,
    redirect: &'static str,
    scopes: &'static [&'static str],
}

impl Case {
    fn keycloak(idp: &mockidp::MockIdp) -> Self {
        Self {
            issuer: idp.issuer_url("iopole").unwrap(),
            client_id: "iopole-web",
            secret: Some("iopole-web-secret"),
            auth: AuthType::BasicAuth,
            redirect: "http://localhost:8080/callback",
            scopes: &["openid", "profile", "email"],
        }
    }

    fn identityserver(idp: &mockidp::MockIdp) -> Self {
        Self {
            issuer: idp.issuer_url("inqom").unwrap(),
            client_id: "SandboxAuthorizationCode",
            secret: Some("C8hXEbmW23vNpoV7Zi13"),
            auth: AuthType::RequestBody,
            redirect: "http://localhost:8080",
            scopes: &["openid", "email", "offline_access", "apidata"],
        }
    }

    fn generic(idp: &mockidp::MockIdp) -> Self {
        Self {
            issuer: idp.issuer_url("generic").unwrap(),
            client_id: "generic-public",
            secret: None,
            auth: AuthType::BasicAuth, // no secret: the crate sends client_id in the body
            redirect: "http://localhost:8080/callback",
            scopes: &["openid", "profile", "email", "read"],
        }
    }
}

/// A relying party right after the code exchange.
struct LoggedIn {
    http: reqwest::Client,
    client: Client,
    tokens: CoreTokenResponse,
    nonce: Nonce,
}

/// An HTTP client that does not follow redirects, as the crate requires.
fn rp_http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Discovery, the authorization URL, the login as alice, the state check and the code exchange.
async fn log_in(case: &Case) -> LoggedIn {
    let http = rp_http();
    let issuer = IssuerUrl::new(case.issuer.clone()).unwrap();
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .unwrap_or_else(|e| panic!("discovery of {}: {e:?}", case.issuer));
    let client: Client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(case.client_id.into()),
        case.secret.map(|s| ClientSecret::new(s.into())),
    )
    .set_redirect_uri(RedirectUrl::new(case.redirect.into()).unwrap())
    .set_auth_type(case.auth.clone());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in case.scopes {
        request = request.add_scope(Scope::new((*scope).into()));
    }
    let (auth_url, csrf, nonce) = request.url();

    let location = Browserless::new()
        .authorize(auth_url.as_str(), "alice", "alice")
        .await;
    assert!(location.starts_with(case.redirect), "{location}");
    let params = query_params(&location);
    assert_eq!(params.get("state"), Some(csrf.secret()), "{location}");
    let code = params
        .get("code")
        .unwrap_or_else(|| panic!("no code: {location}"));

    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .expect("discovery gave a token endpoint")
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("code exchange at {}: {e:?}", case.issuer));
    LoggedIn {
        http,
        client,
        tokens,
        nonce,
    }
}

/// The whole relying-party round trip for one dialect.
async fn round_trip(idp: &mockidp::MockIdp, case: Case) {
    let LoggedIn {
        http,
        client,
        tokens,
        nonce,
    } = log_in(&case).await;
    let issuer = &case.issuer;

    // The ID token: signature, iss, aud, exp, nonce, then at_hash.
    let id_token = tokens.id_token().expect("an id_token for scope openid");
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .unwrap_or_else(|e| panic!("ID token from {issuer} rejected: {e:?}"));
    let at_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(
        Some(&at_hash),
        claims.access_token_hash(),
        "at_hash of {issuer}"
    );
    let subject = claims.subject().clone();
    assert!(!subject.is_empty(), "{issuer}");
    if case.scopes.contains(&"email") {
        assert_eq!(
            claims.email().map(|e| e.as_str()),
            Some("alice@example.test"),
            "email in the ID token of {issuer}"
        );
    }

    // Userinfo with the access token.
    let userinfo: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .expect("discovery gave a userinfo endpoint")
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("userinfo at {issuer}: {e:?}"));
    assert_eq!(userinfo.subject(), &subject, "{issuer}");
    assert_eq!(
        userinfo.email().map(|e| e.as_str()),
        Some("alice@example.test"),
        "{issuer}"
    );

    // Refresh: a new access token and a new (rotated) refresh token. A second later: tokens
    // carry whole seconds, and IdentityServer3's access tokens have no `jti`, so within the same
    // second it mints a byte-identical one (as the product does).
    idp.clock().advance(1);
    let old_refresh = tokens.refresh_token().expect("a refresh token").clone();
    let refreshed = client
        .exchange_refresh_token(&old_refresh)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("refresh at {issuer}: {e:?}"));
    assert_ne!(
        refreshed.access_token().secret(),
        tokens.access_token().secret(),
        "{issuer}"
    );
    let new_refresh = refreshed.refresh_token().expect("a rotated refresh token");
    assert_ne!(new_refresh.secret(), old_refresh.secret(), "{issuer}");

    // IdentityServer3 and Django OAuth Toolkit refuse the old refresh token from now on;
    // Keycloak keeps it valid. Sent as the crate's own authentication would send it.
    let token_url = client.token_uri().unwrap().as_str();
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", old_refresh.secret().as_str()),
    ];
    let mut post = http.post(token_url);
    match (&case.auth, case.secret) {
        (AuthType::BasicAuth, Some(secret)) => post = post.basic_auth(case.client_id, Some(secret)),
        (_, secret) => {
            form.push(("client_id", case.client_id));
            form.extend(secret.map(|s| ("client_secret", s)));
        }
    }
    let (status, body) = status_json(post.form(&form).send().await.unwrap()).await;
    if issuer.contains("/realms/") {
        assert_eq!(status, 200, "{issuer}: {body}");
    } else {
        assert_eq!(status, 400, "{issuer}: {body}");
        assert_eq!(body["error"], "invalid_grant", "{issuer}: {body}");
    }
}

#[tokio::test]
async fn openidconnect_crate_on_keycloak() {
    let idp = start().await;
    round_trip(&idp, Case::keycloak(&idp)).await;
}

#[tokio::test]
async fn openidconnect_crate_on_identityserver() {
    let idp = start().await;
    round_trip(&idp, Case::identityserver(&idp)).await;
}

#[tokio::test]
async fn openidconnect_crate_on_generic() {
    let idp = start().await;
    round_trip(&idp, Case::generic(&idp)).await;
}

/// An ID token checked against another nonce (a replayed login) fails validation.
#[tokio::test]
async fn a_wrong_nonce_is_rejected() {
    let idp = start().await;
    let rp = log_in(&Case::keycloak(&idp)).await;
    let id_token = rp.tokens.id_token().expect("an id_token");
    let verifier = rp.client.id_token_verifier();
    assert!(id_token.claims(&verifier, &rp.nonce).is_ok());
    let err = id_token
        .claims(&verifier, &Nonce::new("another-login".into()))
        .unwrap_err();
    assert!(
        matches!(err, ClaimsVerificationError::InvalidNonce(_)),
        "{err:?}"
    );
}
