//! Engine-level grant tests: no HTTP, no actix. Each grant's success path and every error it
//! can return, against a small fixture on a frozen clock ([`crate::clock::Clock`]), so that
//! expiry is a `clock.advance`, never a sleep. Each test names the error it provokes.

/// One `#[test]` per entry `name: issuer, |idp| form => Code, expect;`: on a fresh [`Idp`] the
/// token request `form` (built with `idp`, which may set things up first) is refused with
/// `ErrorCode::Code`, and the error meets `expect` ([`Expect`]: its cause, or words of its
/// description), if given. An entry `name: |idp| call => Code, expect;` checks the error of
/// any other `call` of the engine.
macro_rules! refusals {
    ($($(#[$attr:meta])* $name:ident: $issuer:literal, |$idp:ident| $form:expr
        => $code:ident $(, $expect:expr)?;)*) => {$(
        $(#[$attr])*
        #[test]
        fn $name() {
            let $idp = super::Idp::new();
            let form: String = $form;
            let _e = $idp.refuse($issuer, &form, crate::error::ErrorCode::$code);
            $(super::Expect::from($expect).check(&_e);)?
        }
    )*};
    ($($(#[$attr:meta])* $name:ident: |$idp:ident| $call:expr
        => $code:ident $(, $expect:expr)?;)*) => {$(
        $(#[$attr])*
        #[test]
        fn $name() {
            let $idp = super::Idp::new();
            let _e = super::refused($call, crate::error::ErrorCode::$code);
            $(super::Expect::from($expect).check(&_e);)?
        }
    )*};
}

mod authorization_code;
mod client_credentials;
mod device_code;
mod dispatch;
mod introspect;
mod password;
mod refresh_token;
mod token_exchange;

use std::sync::Arc;

use crate::clock::Clock;
use crate::config::Config;
use crate::engine::authorize::{self, AuthorizeRequest};
use crate::engine::issue::Issued;
use crate::engine::session::Session;
use crate::engine::{Authorization, Engine, Issuer, Params, RequestContext, TokenRequest};
use crate::error::{ErrorCode, OAuthError};

/// One issuer per product where a grant's behaviour depends on the product: Keycloak
/// (slow_down, code replay revokes, refresh tokens reusable, same-realm token exchange),
/// IdentityServer3 (refresh tokens single use, only with `offline_access`) and Django OAuth
/// Toolkit (no slow_down, delegation with `actor_token`, introspection by bearer token).
const FIXTURE: &str = include_str!("fixture.toml");

/// 2026-01-01T00:00:00Z: any fixed instant will do.
const START: u64 = 1_767_225_600;

/// An engine on [`FIXTURE`] with a frozen clock the test moves.
pub(super) struct Idp {
    pub engine: Engine,
    pub clock: Clock,
}

impl Idp {
    pub fn new() -> Self {
        let clock = Clock::frozen_at(START);
        let config = Config::from_toml(FIXTURE).expect("the test fixture loads");
        let engine = Engine::new(config, clock.clone()).expect("the engine builds");
        Self { engine, clock }
    }

    pub fn issuer(&self, name: &str) -> Arc<Issuer> {
        self.engine
            .issuers()
            .by_name(name)
            .cloned()
            .expect("fixture issuer")
    }

    /// The issuer's URL as a caller on `http://idp.test` sees it.
    pub fn ctx(&self, issuer: &str) -> RequestContext {
        RequestContext {
            issuer_url: format!("http://idp.test{}", self.issuer(issuer).path),
            client_addr: "127.0.0.1".into(),
        }
    }

    /// A token request with `form` as its body (client credentials in the form).
    pub fn token(&self, issuer: &str, form: &str) -> Result<Issued, OAuthError> {
        self.token_with(issuer, form, Authorization::None)
    }

    pub fn token_with(
        &self,
        issuer: &str,
        form: &str,
        authorization: Authorization,
    ) -> Result<Issued, OAuthError> {
        self.engine.token(
            &self.issuer(issuer),
            &request(form, authorization),
            &self.ctx(issuer),
        )
    }

    /// The error of a token request that must fail with `code`.
    #[track_caller]
    pub fn refuse(&self, issuer: &str, form: &str, code: ErrorCode) -> OAuthError {
        refused(self.token(issuer, form), code)
    }

    /// The tokens of a request that must succeed.
    #[track_caller]
    pub fn tokens(&self, issuer: &str, form: &str) -> Issued {
        match self.token(issuer, form) {
            Ok(issued) => issued,
            Err(e) => panic!("refused: {:?}: {}", e.code, e.description),
        }
    }

    /// A client-credentials access token of `client` (its secret is `{client}-secret`).
    #[track_caller]
    pub fn client_token(&self, issuer: &str, client: &str) -> String {
        let form = format!(
            "grant_type=client_credentials&client_id={client}&client_secret={client}-secret"
        );
        self.tokens(issuer, &form).access_token
    }

    /// Alice's tokens from the password grant through `client`, with `extra` form fields.
    #[track_caller]
    pub fn alice(&self, issuer: &str, client: &str, extra: &str) -> Issued {
        let form = format!(
            "grant_type=password&client_id={client}&client_secret={client}-secret\
             &username=alice&password=alice{extra}"
        );
        self.tokens(issuer, &form)
    }

    /// Alice logged in at `issuer`, as after the login page.
    pub fn session(&self, issuer: &str) -> Session {
        let issuer = self.issuer(issuer);
        let user = issuer
            .fixture_login("alice", "alice")
            .expect("alice logs in");
        self.engine.start_session(&issuer, user)
    }

    /// An authorization code for alice, as the authorize step hands it out for `query`.
    pub fn code(&self, issuer: &str, query: &str) -> String {
        let session = self.session(issuer);
        let issuer = self.issuer(issuer);
        let req = authorize_request(&issuer, query);
        let context = RequestContext {
            issuer_url: "http://idp.test".into(),
            client_addr: "127.0.0.1".into(),
        };
        let callback = self.engine.code_callback(&issuer, &req, &session, &context);
        callback
            .params
            .into_iter()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v)
            .expect("a code")
    }
}

/// A parsed token request; the fetched keys are absent, as when the edge had none to fetch.
pub(super) fn request(form: &str, authorization: Authorization) -> TokenRequest {
    TokenRequest {
        params: Params::parse(form.as_bytes()).expect("a well-formed form"),
        authorization,
        client_keys: None,
        remote_jwks: None,
    }
}

pub(super) fn authorize_request(issuer: &Issuer, query: &str) -> AuthorizeRequest {
    let params = Params::parse(query.as_bytes()).expect("a well-formed query");
    match authorize::validate(issuer, &params) {
        Ok(req) => req,
        Err(e) => panic!("authorization request refused: {e:?}"),
    }
}

/// The error of `result`, checked to carry `code`.
#[track_caller]
pub(super) fn refused<T>(result: Result<T, OAuthError>, code: ErrorCode) -> OAuthError {
    match result {
        Ok(_) => panic!("expected {code:?}, got a success"),
        Err(e) => {
            assert_eq!(e.code, code, "{}", e.description);
            e
        }
    }
}

/// What a refusal must say besides its error code.
pub(super) enum Expect {
    Cause(crate::error::Cause),
    /// Words of the description.
    Says(&'static str),
}

impl From<crate::error::Cause> for Expect {
    fn from(cause: crate::error::Cause) -> Self {
        Self::Cause(cause)
    }
}

impl From<&'static str> for Expect {
    fn from(words: &'static str) -> Self {
        Self::Says(words)
    }
}

impl Expect {
    #[track_caller]
    fn check(&self, e: &OAuthError) {
        match self {
            Self::Cause(cause) => assert_eq!(e.cause, *cause, "{}", e.description),
            Self::Says(words) => says(e, words),
        }
    }
}

/// Checks that `e`'s description has `words`.
#[track_caller]
pub(super) fn says(e: &OAuthError, words: &str) {
    assert!(e.description.contains(words), "{}", e.description);
}

/// The claims of one of this server's JWTs (signature checked).
#[track_caller]
pub(super) fn claims(idp: &Idp, jwt: &str) -> crate::jwt::Object {
    idp.engine.verify_jwt(jwt).expect("a JWT of ours").1
}
