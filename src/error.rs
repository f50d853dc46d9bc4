//! The errors a client sees. The engine says *what* went wrong (an RFC 6749 §5.2 code and a
//! [`Cause`]); each dialect then decides how its product words it and which status it uses
//! (`dialect::Dialect::shape_error`), so products never leak into the engine.

use std::borrow::Cow;

/// Request text shown back (in an error description, a log line or the journal) at most `max`
/// characters long, with `…` where it was cut: a client can send kilobytes.
pub fn clipped(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_string(),
        Some((end, _)) => format!("{}…", &s[..end]),
    }
}

/// RFC 6749 §5.2 / §4.1.2.1, RFC 6750 §3.1 and RFC 8693 error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    UnsupportedResponseType,
    LoginRequired,
    /// OpenID Connect Core §3.1.2.6: consent is needed and `prompt=none` forbids asking.
    ConsentRequired,
    /// OpenID Connect Core §3.1.2.6: a page would show and `prompt=none` forbids it.
    InteractionRequired,
    /// OpenID Connect Core §6: request objects are not supported.
    RequestNotSupported,
    RequestUriNotSupported,
    InvalidToken,
    InsufficientScope,
    AuthorizationPending,
    SlowDown,
    AccessDenied,
    ExpiredToken,
    ServerError,
}

impl ErrorCode {
    /// The exact wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::LoginRequired => "login_required",
            Self::ConsentRequired => "consent_required",
            Self::InteractionRequired => "interaction_required",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::AuthorizationPending => "authorization_pending",
            Self::SlowDown => "slow_down",
            Self::AccessDenied => "access_denied",
            Self::ExpiredToken => "expired_token",
            Self::ServerError => "server_error",
        }
    }
}

/// Why a request failed, for the cases products word differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// No client with that id.
    UnknownClient,
    /// A confidential client gave a wrong secret or none.
    BadClientSecret,
    /// No client id in the form nor in a Basic header.
    MissingClientId,
    /// An `Authorization` header that is neither Basic nor usable here.
    UnsupportedAuthScheme,
    MissingGrantType,
    UnsupportedGrantType,
    /// The client exists but may not use this grant.
    GrantNotAllowed,
    /// Client credentials asked for by a public client.
    PublicClientCredentials,
    /// Client credentials asked for by a confidential client not registered for them.
    ClientCredentialsNotAllowed,
    /// [`Cause::MissingClientId`] at the device authorization endpoint.
    DeviceMissingClientId,
    /// [`Cause::UnknownClient`] at the device authorization endpoint.
    DeviceUnknownClient,
    /// A client assertion (RFC 7523) that is refused; the description says why.
    BadClientAssertion,
    /// The password grant asked for by a client not allowed it (Keycloak's direct access).
    PasswordNotAllowed,
    /// No `username` at the password grant.
    MissingUsername,
    /// No `password` at the password grant.
    MissingPassword,
    /// A wrong password at the password grant.
    WrongPassword,
    /// A username the password grant does not know.
    UnknownUser,
    /// A disabled user at the password grant.
    UserDisabled,
    /// A refresh token that expired.
    RefreshTokenExpired,
    /// A refresh token whose user session ended (logout, expiry).
    SessionNotActive,
    /// A device code this issuer never issued (or already redeemed).
    UnknownDeviceCode,
    /// Anything else: the engine's own description stands.
    Other,
}

/// The longest `error_description` sent, in characters; the engine's own run to ~200.
pub const MAX_DESCRIPTION: usize = 500;

/// An OAuth error response before its dialect shapes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: Cow<'static, str>,
    pub cause: Cause,
}

impl OAuthError {
    /// The description is clipped to [`MAX_DESCRIPTION`] characters: a backstop, so that no
    /// site that forgot to clip an echo of request text sends (and logs) it whole.
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        let mut description = description.into();
        if description.len() > MAX_DESCRIPTION {
            description = Cow::Owned(clipped(&description, MAX_DESCRIPTION));
        }
        Self {
            code,
            description,
            cause: Cause::Other,
        }
    }

    pub fn because(mut self, cause: Cause) -> Self {
        self.cause = cause;
        self
    }

    pub fn invalid_request(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, d)
    }
    pub fn invalid_client(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, d)
    }
    pub fn invalid_grant(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, d)
    }
    pub fn unauthorized_client(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::UnauthorizedClient, d)
    }
    pub fn invalid_scope(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidScope, d)
    }
    pub fn invalid_token(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidToken, d)
    }
    pub fn server_error(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::ServerError, d)
    }
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.description)
    }
}

impl std::error::Error for OAuthError {}

/// What goes on the wire for an [`OAuthError`]: decided by the issuer's dialect.
#[derive(Debug, Clone)]
pub struct ErrorReply {
    pub status: u16,
    /// `WWW-Authenticate` value, required by RFC 6749 §5.2 on 401.
    pub www_authenticate: Option<String>,
    /// The JSON body; `None` sends an empty body (Keycloak does that on some 401s).
    pub body: Option<serde_json::Value>,
}

/// Failures of the program itself (configuration, keys, sockets), never shown to OAuth clients.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("configuration: {0}")]
    Config(String),
    #[error("keys: {0}")]
    Keys(#[from] crate::keys::KeyError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A message already complete (e.g. `FILE:LINE: ...`).
    #[error("{0}")]
    Message(String),
}

#[cfg(test)]
mod tests {
    use super::clipped;

    #[test]
    fn request_text_is_clipped_on_characters() {
        assert_eq!(clipped("abc", 3), "abc");
        assert_eq!(clipped("abcd", 3), "abc…");
        assert_eq!(clipped("ééééé", 2), "éé…");
        assert_eq!(clipped("", 5), "");
    }
}
