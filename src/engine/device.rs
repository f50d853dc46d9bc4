//! RFC 8628, the device authorization grant: the device asks for a code pair (§3.1), a person
//! enters the user code on the verification page and approves or denies (§3.3), the device
//! polls the token endpoint (§3.4, in `grants::device_code`).

use std::sync::Arc;

use super::issue::Grant;
use super::session::Session;
use super::{Engine, Issuer, TokenRequest, client_auth, scope};
use crate::config::DEVICE_CODE;
use crate::error::{Cause, OAuthError};

/// Where a device authorization stands.
#[derive(Debug, Clone)]
pub(crate) enum DeviceStatus {
    Pending,
    Approved(Box<Grant>),
    Denied,
}

/// A device authorization, keyed by its device code.
#[derive(Debug, Clone)]
pub(crate) struct DeviceRecord {
    pub(crate) issuer: String,
    pub(crate) client_id: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) user_code: String,
    /// When the codes stop working (the store keeps the record a while longer so that late
    /// polls get `expired_token` rather than `invalid_grant`).
    pub(crate) expires_at: u64,
    pub(crate) interval: u64,
    pub(crate) last_poll: Option<u64>,
    pub(crate) status: DeviceStatus,
    /// Polls still to answer `authorization_pending` whatever the status (admin API).
    pub(crate) held_polls: u32,
}

/// What the admin API makes of a pending device authorization.
#[derive(Debug, Clone)]
pub(crate) enum DeviceScript {
    /// Approved by this user.
    Approve(String),
    Deny,
    /// Its codes expire now: the next poll gets `expired_token`.
    Expire,
    /// The next N polls get `authorization_pending`, decided or not.
    Pending(u32),
}

/// RFC 8628 §3.2: what the device is told.
#[derive(Debug, Clone)]
pub(crate) struct DeviceCodes {
    pub(crate) device_code: String,
    pub(crate) user_code: String,
    pub(crate) expires_in: u64,
    pub(crate) interval: u64,
}

/// Why a user code was not accepted on the verification page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UserCodeError {
    /// Unknown, mistyped, expired or already used.
    Invalid,
    /// Too many wrong codes from this address: wait.
    TooManyAttempts,
}

/// What came of a decision on the verification page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceDecision {
    /// This decision took effect: approved (`true`) or denied.
    Taken(bool),
    /// Another decision took effect first (approved: `true`); this one changed nothing.
    AlreadyDecided(bool),
    /// The device authorization expired or was redeemed meanwhile.
    Gone,
}

/// Why a scripted device outcome was refused: the admin API answers 404 or 409 with the
/// message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScriptRefusal {
    /// No pending authorization has that user code at the issuer, or no such user.
    NotFound(String),
    /// Approved or denied already, as the verification page would say (`approved`: true).
    AlreadyDecided(String),
}

/// How long an expired record is kept to answer `expired_token`.
const EXPIRED_GRACE: u64 = 600;
/// Wrong user codes allowed per address and issuer per window.
const MAX_WRONG_CODES: u32 = 5;
const WRONG_CODE_WINDOW: u64 = 60;

/// A user code as typed: case, dashes and spaces do not matter.
pub(crate) fn normalize_user_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl Engine {
    /// RFC 8628 §3.1–3.2: the device authorization request.
    pub(crate) fn device_authorization(
        &self,
        issuer: &Issuer,
        req: &TokenRequest,
    ) -> Result<DeviceCodes, OAuthError> {
        // Products word these two differently here than at the token endpoint.
        let client =
            client_auth::authenticate(self, issuer, req, false).map_err(|e| match e.cause {
                Cause::MissingClientId => e.because(Cause::DeviceMissingClientId),
                Cause::UnknownClient => e.because(Cause::DeviceUnknownClient),
                _ => e,
            })?;
        if !client.allows_grant(DEVICE_CODE) {
            return Err(OAuthError::unauthorized_client(format!(
                "Client {:?} is not allowed to initiate OAuth 2.0 Device Authorization Grant. The flow is disabled for the client.",
                client.id
            )));
        }
        let scopes = scope::granted(issuer, client, req.params.get("scope"))?;
        let now = self.clock.now();
        let (ttl, interval) = (issuer.device_code_ttl(), issuer.device_interval());
        let device_code = self.ids.alnum(40);
        let user_code = issuer.dialect.profile().formats.user_code.make(&self.ids);
        let record = DeviceRecord {
            issuer: issuer.name().to_string(),
            client_id: client.id.clone(),
            scopes,
            user_code: normalize_user_code(&user_code),
            expires_at: now + ttl,
            interval,
            last_poll: None,
            status: DeviceStatus::Pending,
            held_polls: 0,
        };
        self.user_codes.insert(
            record.user_code.clone(),
            device_code.clone(),
            now + ttl,
            now,
        );
        self.device_codes
            .insert(device_code.clone(), record, now + ttl + EXPIRED_GRACE, now);
        tracing::info!(
            issuer = issuer.name(),
            client_id = client.id.as_str(),
            "device authorization started"
        );
        Ok(DeviceCodes {
            device_code,
            user_code,
            expires_in: ttl,
            interval,
        })
    }

    /// The pending device authorization a user code names, if the caller (by `addr`) is not
    /// rate limited. Every miss counts against the address.
    pub(crate) fn find_user_code(
        &self,
        issuer: &Issuer,
        code: &str,
        addr: &str,
    ) -> Result<(String, DeviceRecord), UserCodeError> {
        let now = self.clock.now();
        let key = format!("{}|{addr}", issuer.name());
        // Every attempt counts first (atomically), so parallel guesses cannot slip past the
        // limit; a right code gives its attempt back.
        let attempts = self
            .wrong_user_codes
            .update(&key, now, |n| {
                *n += 1;
                *n
            })
            .unwrap_or_else(|| {
                self.wrong_user_codes
                    .insert(key.clone(), 1, now + WRONG_CODE_WINDOW, now);
                1
            });
        if attempts > MAX_WRONG_CODES {
            return Err(UserCodeError::TooManyAttempts);
        }
        let found = self
            .user_codes
            .get(&normalize_user_code(code), now)
            .and_then(|dc| self.device_codes.get(&dc, now).map(|r| (dc, r)))
            // A decided code is still found (until redeemed or expired), so that a second,
            // conflicting decision hears "already decided" rather than "not valid".
            .filter(|(_, r)| r.issuer == issuer.name() && r.expires_at > now);
        match found {
            Some(f) => {
                self.wrong_user_codes
                    .update(&key, now, |n| *n = n.saturating_sub(1));
                Ok(f)
            }
            None => {
                tracing::info!(issuer = issuer.name(), "wrong user code");
                Err(UserCodeError::Invalid)
            }
        }
    }

    /// The admin API's answer for a pending device authorization, by user code: approve as a
    /// user (a new session), deny, expire now, or answer `authorization_pending` to the next
    /// `polls` polls. `Err` says why not.
    pub(crate) fn script_device(
        &self,
        issuer: &Issuer,
        user_code: &str,
        outcome: DeviceScript,
    ) -> Result<(), ScriptRefusal> {
        let now = self.clock.now();
        let code = normalize_user_code(user_code);
        let device_code = self
            .user_codes
            .get(&code, now)
            .filter(|dc| {
                self.device_codes
                    .get(dc, now)
                    .is_some_and(|r| r.issuer == issuer.name() && r.expires_at > now)
            })
            .ok_or_else(|| {
                ScriptRefusal::NotFound(format!(
                    "no pending device authorization with user code {:?} at issuer {:?}",
                    crate::error::clipped(user_code, 20),
                    issuer.name()
                ))
            })?;
        match outcome {
            DeviceScript::Approve(username) => {
                let user = issuer.passwordless_user(&username).ok_or_else(|| {
                    ScriptRefusal::NotFound(format!(
                        "no enabled user {:?} at issuer {:?} (any name needs allow_any_user)",
                        crate::error::clipped(&username, 64),
                        issuer.name()
                    ))
                })?;
                let session = self.start_session(issuer, user);
                self.decided(self.decide_device(issuer, &device_code, &session, true))
            }
            DeviceScript::Deny => self.decided(self.set_device_status(
                issuer,
                &device_code,
                DeviceStatus::Denied,
                "(admin API)",
            )),
            DeviceScript::Expire => {
                self.device_codes
                    .update(&device_code, now, |r| r.expires_at = now);
                self.user_codes.remove(&code);
                tracing::info!(
                    issuer = issuer.name(),
                    "device authorization expired by the admin API"
                );
                Ok(())
            }
            DeviceScript::Pending(polls) => {
                self.device_codes
                    .update(&device_code, now, |r| r.held_polls = polls);
                Ok(())
            }
        }
    }

    /// The admin API's reading of a decision: only one that took effect is a success.
    fn decided(&self, decision: DeviceDecision) -> Result<(), ScriptRefusal> {
        match decision {
            DeviceDecision::Taken(_) => Ok(()),
            DeviceDecision::AlreadyDecided(approved) => {
                Err(ScriptRefusal::AlreadyDecided(format!(
                    "the device authorization was already decided: {}; this decision changed \
                     nothing",
                    if approved { "approved" } else { "denied" }
                )))
            }
            DeviceDecision::Gone => Err(ScriptRefusal::NotFound(
                "the device authorization expired or was redeemed meanwhile".into(),
            )),
        }
    }

    /// RFC 8628 §3.3: the user approves (with their session) or denies the device. Of two
    /// concurrent decisions exactly one takes effect (the store updates the record atomically);
    /// the other learns which one did.
    pub(crate) fn decide_device(
        &self,
        issuer: &Issuer,
        device_code: &str,
        session: &Session,
        approve: bool,
    ) -> DeviceDecision {
        let status = if approve {
            DeviceStatus::Approved(Box::new(Grant {
                client_id: String::new(), // set from the record below
                user: Some(Arc::clone(&session.user)),
                scopes: Vec::new(),
                sid: Some(session.sid.clone()),
                auth_time: Some(session.auth_time),
                nonce: None,
                act: None,
                audience: None,
                chain: None,
            }))
        } else {
            DeviceStatus::Denied
        };
        self.set_device_status(issuer, device_code, status, &session.user.username)
    }

    /// Decides a pending device authorization, or says who was first. An approval's grant
    /// takes the record's client and scopes.
    fn set_device_status(
        &self,
        issuer: &Issuer,
        device_code: &str,
        mut status: DeviceStatus,
        who: &str,
    ) -> DeviceDecision {
        let now = self.clock.now();
        let approve = matches!(status, DeviceStatus::Approved(_));
        let decided = self.device_codes.update(device_code, now, |record| {
            match record.status {
                DeviceStatus::Approved(_) => return DeviceDecision::AlreadyDecided(true),
                DeviceStatus::Denied => return DeviceDecision::AlreadyDecided(false),
                DeviceStatus::Pending => {}
            }
            if let DeviceStatus::Approved(grant) = &mut status {
                grant.client_id = record.client_id.clone();
                grant.scopes = record.scopes.clone();
            }
            record.status = status;
            DeviceDecision::Taken(approve)
        });
        // The user code stays (until redeemed or expired), so that a second, conflicting
        // decision hears "already decided" rather than "not valid".
        let decided = decided.unwrap_or(DeviceDecision::Gone);
        if decided == DeviceDecision::Taken(approve) {
            tracing::info!(
                issuer = issuer.name(),
                user = who,
                approve,
                "device decision"
            );
        }
        decided
    }
}

impl Issuer {
    pub(crate) fn device_code_ttl(&self) -> u64 {
        self.config
            .device_code_ttl
            .unwrap_or(self.dialect.profile().lifetimes.device_code)
    }

    pub(crate) fn device_interval(&self) -> u64 {
        self.config.device_interval.unwrap_or(5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_ignore_case_and_dashes() {
        assert_eq!(normalize_user_code("wdjb-mjht"), "WDJBMJHT");
        assert_eq!(normalize_user_code(" WDJB MJHT "), "WDJBMJHT");
    }
}
