//! RFC 8628 §3.4–3.5: the device polls for its tokens. `authorization_pending` until the user
//! decides, `slow_down` (and 5 s more from then on) when polled faster than the interval where
//! the product enforces it (Django OAuth Toolkit does not),
//! `access_denied` after a denial, `expired_token` once the codes expire, tokens exactly once.

use super::GrantCall;
use crate::engine::device::{DeviceRecord, DeviceStatus};
use crate::engine::issue::Issued;
use crate::error::{Cause, ErrorCode, OAuthError};

pub(super) fn grant(call: GrantCall<'_>) -> Result<Issued, OAuthError> {
    let (engine, issuer, client, req) = call.parts();
    let code = req.params.require("device_code")?;
    let now = engine.clock.now();
    let invalid = || {
        OAuthError::invalid_grant("Invalid device_code: unknown or already used")
            .because(Cause::UnknownDeviceCode)
    };
    let record = engine
        .device_codes
        .get(code, now)
        .filter(|r| r.issuer == issuer.name())
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
    // Polls the admin API held answer `authorization_pending` whatever was decided.
    let held = engine.device_codes.update(code, now, |r| {
        let held = r.held_polls > 0;
        if held {
            r.held_polls -= 1;
            r.last_poll = Some(now);
        }
        held
    });
    if held == Some(true) {
        return Err(OAuthError::new(
            ErrorCode::AuthorizationPending,
            "The authorization request is still pending",
        ));
    }
    // Take an approved code, or note this poll on a pending one, in one atomic step each: a
    // decision landing between two steps is never lost.
    let approved = |r: &DeviceRecord| matches!(r.status, DeviceStatus::Approved(_));
    if let Some(taken) = engine.device_codes.take_if(code, now, approved) {
        let DeviceStatus::Approved(grant) = taken.status else {
            return Err(invalid());
        };
        return call.issue(*grant, crate::config::DEVICE_CODE);
    }
    let polled = engine.device_codes.update(code, now, |r| match r.status {
        DeviceStatus::Denied => Err(OAuthError::new(
            ErrorCode::AccessDenied,
            "The user denied the authorization request",
        )),
        DeviceStatus::Approved(_) => Err(invalid()),
        DeviceStatus::Pending => {
            let too_fast = issuer.dialect.profile().features.slow_down
                && r.last_poll
                    .is_some_and(|last| now < last.saturating_add(r.interval));
            r.last_poll = Some(now);
            if too_fast {
                r.interval += 5;
                Err(OAuthError::new(
                    ErrorCode::SlowDown,
                    format!(
                        "Polling too fast: wait at least {} seconds between polls",
                        r.interval
                    ),
                ))
            } else {
                Err(OAuthError::new(
                    ErrorCode::AuthorizationPending,
                    "The authorization request is still pending",
                ))
            }
        }
    });
    match polled {
        Some(Err(e)) if e.code == ErrorCode::AccessDenied => {
            engine.device_codes.remove(code);
            Err(e)
        }
        Some(result) => result,
        None => Err(invalid()),
    }
}
