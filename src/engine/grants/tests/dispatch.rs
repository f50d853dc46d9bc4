//! The token endpoint's own checks before any grant runs ([`crate::engine::Engine::token`]):
//! the grant type, then the client, then whether the client may use that grant.

use crate::error::Cause;

const SVC: &str = "client_id=svc&client_secret=svc-secret";

refusals! {
    invalid_request_without_grant_type: "kc", |_i| SVC.into()
        => InvalidRequest, Cause::MissingGrantType;
    unsupported_grant_type_for_an_unknown_grant: "kc", |_i| format!("grant_type=magic&{SVC}")
        => UnsupportedGrantType, Cause::UnsupportedGrantType;
    unsupported_grant_type_for_a_quoted_grant: "kc",
        |_i| format!("grant_type=%22client_credentials%22&{SVC}") => UnsupportedGrantType, "quotes";
    unauthorized_client_for_the_password_grant_not_registered: "kc",
        |_i| format!("grant_type=password&{SVC}&username=alice&password=alice")
        => UnauthorizedClient, Cause::PasswordNotAllowed;
    unauthorized_client_for_client_credentials_not_registered: "kc",
        |_i| "grant_type=client_credentials&client_id=web&client_secret=web-secret".into()
        => UnauthorizedClient, Cause::ClientCredentialsNotAllowed;
    unauthorized_client_for_a_grant_not_registered: "kc",
        |_i| format!("grant_type=refresh_token&{SVC}&refresh_token=x")
        => UnauthorizedClient, Cause::GrantNotAllowed;
    invalid_client_for_an_unknown_client: "kc", |_i| "grant_type=client_credentials&client_id=nobody".into()
        => InvalidClient, Cause::UnknownClient;
}
