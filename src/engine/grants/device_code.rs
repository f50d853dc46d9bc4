//! RFC 8628 §3.4–3.5: the device polls for its tokens. `authorization_pending` until the user
//! decides, `slow_down` (and 5 s more from then on) when polled faster than the interval,
//! `access_denied` after a denial, `expired_token` once the codes expire, tokens exactly once.

use crate::config::ClientConfig;
use crate::engine::device::DeviceStatus;
use crate::engine::issue::Issued;
use crate::engine::{Engine, Issuer, RequestContext, TokenRequest};
use crate::error::{ErrorCode, OAuthError};

pub(super) fn grant(
    engine: &Engine,
    issuer: &Issuer,
    client: &ClientConfig,
    req: &TokenRequest,
    ctx: &RequestContext,
) -> Result<Issued, OAuthError> {
    let code = req.params.require("device_code")?;
    let now = engine.clock.now();
    let invalid = || OAuthError::invalid_grant("Invalid device_code: unknown or already used");
    let (stored_until, mut record) = engine
        .device_codes
        .get_with_expiry(code, now)
        .filter(|(_, r)| r.issuer == issuer.name())
        .ok_or_else(invalid)?;
    if record.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "This device_code was issued to another client",
        ));
    }
    if now >= record.expires_at {
        engine.device_codes.remove(code);
        return Err(OAuthError::new(
            ErrorCode::ExpiredToken,
            "The device_code has expired: start again",
        ));
    }
    match record.status {
        DeviceStatus::Denied => {
            engine.device_codes.remove(code);
            Err(OAuthError::new(
                ErrorCode::AccessDenied,
                "The user denied the authorization request",
            ))
        }
        DeviceStatus::Approved(_) => {
            let Some(taken) = engine.device_codes.take(code, now) else {
                return Err(invalid());
            };
            let DeviceStatus::Approved(grant) = taken.status else {
                return Err(invalid());
            };
            engine.issue(issuer, ctx, client, *grant, crate::config::DEVICE_CODE)
        }
        DeviceStatus::Pending => {
            let too_fast = record
                .last_poll
                .is_some_and(|last| now < last + record.interval);
            record.last_poll = Some(now);
            let err = if too_fast {
                record.interval += 5;
                OAuthError::new(
                    ErrorCode::SlowDown,
                    format!(
                        "Polling too fast: wait at least {} seconds between polls",
                        record.interval
                    ),
                )
            } else {
                OAuthError::new(
                    ErrorCode::AuthorizationPending,
                    "The authorization request is still pending",
                )
            };
            engine
                .device_codes
                .insert(code.to_string(), record, stored_until, now);
            Err(err)
        }
    }
}
