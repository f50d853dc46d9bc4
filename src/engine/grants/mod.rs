//! One module per grant, dispatched by a single `match` on `grant_type` (RFC 6749 §4).

mod authorization_code;
mod client_credentials;
mod device_code;
mod password;
mod refresh_token;
mod token_exchange;

#[cfg(test)]
mod tests;

use super::issue::{Grant, Issued};
use super::{Engine, Issuer, RequestContext, TokenRequest, client_auth};
use crate::config::{ClientConfig, IMPLEMENTED_GRANTS};
use crate::error::{Cause, ErrorCode, OAuthError, clipped};

impl Engine {
    /// RFC 6749 §3.2: the token endpoint. Checks the grant type first (as Keycloak does), then
    /// who the client is, then whether it may use that grant.
    #[tracing::instrument(level = "debug", skip_all, fields(issuer = issuer.name(), grant_type, client_id))]
    pub(crate) fn token(
        &self,
        issuer: &Issuer,
        req: &TokenRequest,
        ctx: &RequestContext,
    ) -> Result<Issued, OAuthError> {
        let grant_type = grant_type(req)?;
        tracing::Span::current().record("grant_type", grant_type);
        let token_auth = grant_type == crate::config::TOKEN_EXCHANGE;
        let client = client_auth::authenticate(self, issuer, req, token_auth)?;
        tracing::Span::current().record("client_id", client.id.as_str());
        if !client.allows_grant(grant_type) {
            let cause = match (grant_type, client.is_public()) {
                ("client_credentials", true) => Cause::PublicClientCredentials,
                ("client_credentials", false) => Cause::ClientCredentialsNotAllowed,
                (crate::config::PASSWORD, _) => Cause::PasswordNotAllowed,
                _ => Cause::GrantNotAllowed,
            };
            return Err(OAuthError::unauthorized_client(format!(
                "client {:?} is not allowed to use grant_type {grant_type} (its grants: {})",
                client.id,
                client.grants.join(", ")
            ))
            .because(cause));
        }
        let call = GrantCall {
            engine: self,
            issuer,
            client,
            req,
            ctx,
        };
        match grant_type {
            "authorization_code" => authorization_code::grant(call),
            "client_credentials" => client_credentials::grant(call),
            "refresh_token" => refresh_token::grant(call),
            crate::config::PASSWORD => password::grant(call),
            crate::config::TOKEN_EXCHANGE => token_exchange::grant(call),
            crate::config::DEVICE_CODE => device_code::grant(call),
            _ => Err(unsupported(grant_type)),
        }
    }
}

/// One token request on its way through a grant: who asks (the authenticated client), where
/// (the issuer), with what (the parsed request and its context). One value, so that every grant
/// has the same one-argument signature and a new grant is one more `match` arm.
#[derive(Clone, Copy)]
pub(super) struct GrantCall<'a> {
    pub(crate) engine: &'a Engine,
    pub(crate) issuer: &'a Issuer,
    pub(crate) client: &'a ClientConfig,
    pub(crate) req: &'a TokenRequest,
    pub(crate) ctx: &'a RequestContext,
}

impl<'a> GrantCall<'a> {
    /// Who asks where with what: the engine, the issuer, the authenticated client, the request.
    fn parts(&self) -> (&'a Engine, &'a Issuer, &'a ClientConfig, &'a TokenRequest) {
        (self.engine, self.issuer, self.client, self.req)
    }

    /// Issues the tokens for `grant`, as the grant named `grant_type` (RFC 6749 §5.1).
    fn issue(&self, grant: Grant, grant_type: &str) -> Result<Issued, OAuthError> {
        self.engine
            .issue(self.issuer, self.ctx, self.client, grant, grant_type)
    }
}

/// The request's `grant_type`, if it is one this engine implements.
fn grant_type(req: &TokenRequest) -> Result<&'static str, OAuthError> {
    let Some(raw) = req.params.get("grant_type") else {
        return Err(
            OAuthError::invalid_request("Missing form parameter: grant_type")
                .because(Cause::MissingGrantType),
        );
    };
    if raw.len() > 2 && raw.starts_with('"') && raw.ends_with('"') {
        return Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!(
                "grant_type is wrapped in quotes: send {} without the quotes",
                clipped(&raw[1..raw.len() - 1], 100)
            ),
        ));
    }
    IMPLEMENTED_GRANTS
        .iter()
        .copied()
        .find(|g| *g == raw)
        .ok_or_else(|| unsupported(raw))
}

fn unsupported(raw: &str) -> OAuthError {
    OAuthError::new(
        ErrorCode::UnsupportedGrantType,
        format!(
            "Unsupported grant_type {:?} (supported: {})",
            clipped(raw, 100),
            IMPLEMENTED_GRANTS.join(", ")
        ),
    )
    .because(Cause::UnsupportedGrantType)
}
