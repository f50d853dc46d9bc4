//! Browser sessions (single sign-on) and logins waiting for the user to type credentials.

use std::sync::Arc;

use aws_lc_rs::constant_time::verify_slices_are_equal;

use super::authorize::AuthorizeRequest;
use super::device::DeviceStatus;
use super::issue::Grant;
use super::users::User;
use super::{Engine, Issuer};
use crate::store::TtlStore;

/// One user logged in at one issuer in one browser.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) sid: String,
    pub(crate) issuer: String,
    pub(crate) user: Arc<User>,
    pub(crate) auth_time: u64,
    /// Made without a browser (the admin API): stands for a user who allowed every client,
    /// so authorizations on it never show a consent page.
    pub(crate) headless: bool,
}

/// What happens once the user on the login page has logged in.
#[derive(Debug, Clone)]
pub(crate) enum AfterLogin {
    /// Finish an authorization request (redirect back to the client with a code).
    Authorize(Box<AuthorizeRequest>),
    /// Go to a page of mockidp's own (the SSO landing page), by absolute path.
    ReturnTo(String),
}

/// A page (login or consent) that was shown and not yet answered, bound to the browser that
/// opened it; `then` says what it is for.
#[derive(Debug, Clone)]
pub(crate) struct Pending<T> {
    pub(crate) issuer: String,
    pub(crate) then: T,
    /// The binding value of the browser that opened the page (its login cookie).
    browser: String,
}

/// A login page that was shown and not yet completed.
pub type PendingLogin = Pending<AfterLogin>;

impl<T> Pending<T> {
    /// Whether the browser holding `browser` in its login cookie opened this page (compared
    /// in constant time: the value is what keeps another browser from posting the form).
    pub(crate) fn opened_by(&self, browser: Option<&str>) -> bool {
        browser
            .is_some_and(|b| verify_slices_are_equal(b.as_bytes(), self.browser.as_bytes()).is_ok())
    }
}

/// How long a login or consent page stays valid (Keycloak's default login timeout is 30
/// minutes).
const LOGIN_TTL: u64 = 1800;
/// Default SSO session lifetime: 10 hours (Keycloak's SSO Session Max).
const SESSION_TTL: u64 = 36_000;

impl Engine {
    /// The live session `sid` of `issuer`, if any.
    pub(crate) fn session(&self, issuer: &Issuer, sid: &str) -> Option<Session> {
        self.sessions
            .get(sid, self.clock.now())
            .filter(|s| s.issuer == issuer.name())
    }

    /// Logs `user` in at `issuer`: a new session.
    pub(crate) fn start_session(&self, issuer: &Issuer, user: Arc<User>) -> Session {
        self.new_session(issuer, user, false)
    }

    /// A session the admin API makes: as [`Engine::start_session`], its user having allowed
    /// every client (no consent page).
    pub(crate) fn start_headless_session(&self, issuer: &Issuer, user: Arc<User>) -> Session {
        self.new_session(issuer, user, true)
    }

    fn new_session(&self, issuer: &Issuer, user: Arc<User>, headless: bool) -> Session {
        let now = self.clock.now();
        let session = Session {
            sid: self.ids.uuid(),
            issuer: issuer.name().to_string(),
            user,
            auth_time: now,
            headless,
        };
        let ttl = issuer.config.session_ttl.unwrap_or(SESSION_TTL);
        self.sessions
            .insert(session.sid.clone(), session.clone(), now + ttl, now);
        tracing::info!(
            issuer = issuer.name(),
            user = session.user.username.as_str(),
            "logged in"
        );
        session
    }

    /// Ends session `sid` (logout).
    pub(crate) fn end_session(&self, sid: &str) {
        self.sessions.remove(sid);
    }

    /// A user deleted from `issuer` (admin API): their sessions end, their pending codes go and
    /// every token issued to them there stops working, as in Keycloak. Grants are matched by
    /// `sub`, which is the issuer's own (configured, or derived from issuer and username).
    pub(crate) fn forget_user(&self, issuer: &Issuer, username: &str) {
        let now = self.clock.now();
        let sub = issuer.user_named(username).sub;
        let theirs = |g: &Grant| g.user.as_ref().is_some_and(|u| u.sub == sub);
        let here = |name: &str| name == issuer.name();
        let chain = |g: &Grant| g.chain.clone().filter(|_| theirs(g));
        let mut chains = self.user_tokens.collect(chain);
        chains.extend(
            self.refresh_tokens
                .collect(|r| chain(&r.grant).filter(|_| here(&r.issuer))),
        );
        self.sessions
            .remove_where(|s| here(&s.issuer) && s.user.sub == sub);
        self.refresh_tokens
            .remove_where(|r| here(&r.issuer) && theirs(&r.grant));
        self.codes
            .remove_where(|c| here(&c.issuer) && theirs(&c.grant));
        self.device_codes.remove_where(|d| {
            here(&d.issuer) && matches!(&d.status, DeviceStatus::Approved(g) if theirs(g))
        });
        for chain in chains {
            self.revoked_chains
                .insert(chain, (), now + 400 * 86_400, now);
        }
    }

    /// Remembers a login page; returns the id its form posts back.
    /// A login page opened by the browser whose login cookie holds `browser`.
    pub(crate) fn pend_login(&self, issuer: &Issuer, then: AfterLogin, browser: &str) -> String {
        self.pend(&self.pending_logins, issuer, then, browser)
    }

    /// Remembers a page for `then` shown at `issuer` in the browser whose login cookie holds
    /// `browser`, in `store`; returns the id its form posts back.
    pub(super) fn pend<T: Clone>(
        &self,
        store: &TtlStore<Pending<T>>,
        issuer: &Issuer,
        then: T,
        browser: &str,
    ) -> String {
        let id = self.ids.alnum(32);
        let now = self.clock.now();
        let pending = Pending {
            issuer: issuer.name().to_string(),
            then,
            browser: browser.to_string(),
        };
        store.insert(id.clone(), pending, now + LOGIN_TTL, now);
        id
    }

    /// The login page `id` of `issuer`, still pending.
    pub(crate) fn pending_login(&self, issuer: &Issuer, id: &str) -> Option<PendingLogin> {
        self.pending_in(&self.pending_logins, issuer, id)
    }

    /// The page `id` of `issuer` in `store`, still pending.
    pub(super) fn pending_in<T: Clone>(
        &self,
        store: &TtlStore<Pending<T>>,
        issuer: &Issuer,
        id: &str,
    ) -> Option<Pending<T>> {
        store
            .get(id, self.clock.now())
            .filter(|p| p.issuer == issuer.name())
    }

    /// Completes login page `id`: true for the one caller that consumed it.
    pub(crate) fn finish_login(&self, id: &str) -> bool {
        self.pending_logins.take(id, self.clock.now()).is_some()
    }
}
