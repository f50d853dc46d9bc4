//! Consent: whether an authorization request needs the product's consent page, the pages
//! waiting for the user's decision (bound to the browser that opened them, single use), and
//! the decisions each product remembers.

use super::authorize::{AuthorizeRequest, Callback, error_callback};
use super::session::{Pending, Session};
use super::{Engine, Issuer, RequestContext};
use crate::config::ClientConfig;
use crate::dialect::profile::{ConsentMemory, ConsentStyle, PromptConsent};
use crate::error::{ErrorCode, OAuthError};

/// What a consent page asks: `request`, for the user of the browser session `sid`.
#[derive(Debug, Clone)]
pub struct ConsentAsk {
    pub request: Box<AuthorizeRequest>,
    pub sid: String,
}

/// A consent page shown and not yet answered.
pub type PendingConsent = Pending<ConsentAsk>;

/// A decision the product keeps: the scopes `sub` allowed `client_id` at `issuer`, since
/// `created` and last widened at `updated` (clock seconds).
#[derive(Debug, Clone)]
pub struct ConsentRecord {
    pub issuer: String,
    pub sub: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub created: u64,
    pub updated: u64,
}

/// What the user answered on the consent page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentAnswer {
    /// Allow: the scopes granted (the request's, or those left ticked), and whether to
    /// remember the decision (IdentityServer3's "Remember My Decision").
    Allow {
        scopes: Vec<String>,
        remember: bool,
    },
    Deny,
}

/// How long a remembered decision is kept (the products keep it until revoked).
const REMEMBERED_TTL: u64 = 400 * 86_400;

/// The product's consent rules for `issuer`.
fn style(issuer: &Issuer) -> ConsentStyle {
    issuer.dialect.profile().consent
}

/// Whether `client` needs the consent page, with the product's default.
pub fn required(issuer: &Issuer, client: &ClientConfig) -> bool {
    client
        .consent_required
        .unwrap_or(style(issuer).required_by_default)
}

/// The key of what `sub` allowed `client` at `issuer`.
fn record_key(issuer: &Issuer, sub: &str, client_id: &str) -> String {
    format!("{}\n{sub}\n{client_id}", issuer.name())
}

impl Engine {
    /// Whether `req` must show the consent page to `session`'s user before the code.
    pub fn needs_consent(
        &self,
        issuer: &Issuer,
        req: &AuthorizeRequest,
        session: &Session,
    ) -> bool {
        let Some(client) = issuer.client(&req.client_id) else {
            return false;
        };
        let style = style(issuer);
        if session.headless {
            return false;
        }
        if req.prompt_consent && style.prompt == PromptConsent::ShowsPage {
            return true;
        }
        if !required(issuer, client) {
            return false;
        }
        let remembered = || {
            self.remembered(issuer, &session.user.sub, &client.id)
                .map(|r| r.scopes)
        };
        let covered = |granted: &[String]| req.scopes.iter().all(|s| granted.contains(s));
        match style.memory {
            // AuthenticationManager.getClientScopesToApproveOnConsentScreen: the scopes the
            // page shows that were not granted yet (all of them with prompt=consent).
            ConsentMemory::Always => {
                let granted =
                    match req.prompt_consent && style.prompt == PromptConsent::IgnoresMemory {
                        true => Vec::new(),
                        false => remembered().unwrap_or_default(),
                    };
                req.scopes
                    .iter()
                    .any(|s| style.page.shows(s) && !granted.contains(s))
            }
            // DefaultConsentService.RequiresConsentAsync.
            ConsentMemory::WhenAsked => {
                !req.scopes.is_empty()
                    && (!client.remember_consent.unwrap_or(true)
                        || req.scopes.iter().any(|s| s == "offline_access")
                        || !remembered().is_some_and(|r| covered(&r)))
            }
            ConsentMemory::LiveToken => {
                !(req.approval_auto && self.live_token_covers(issuer, req, session))
            }
        }
    }

    /// What `sub` allowed `client_id` at `issuer`, if the product kept it.
    pub fn remembered(&self, issuer: &Issuer, sub: &str, client_id: &str) -> Option<ConsentRecord> {
        self.consents
            .get(&record_key(issuer, sub, client_id), self.clock.now())
    }

    /// Every decision `sub` made at `issuer` that is kept, by client id.
    pub fn consents_of(&self, issuer: &Issuer, sub: &str) -> Vec<ConsentRecord> {
        let mut list = self
            .consents
            .collect(|r| (r.issuer == issuer.name() && r.sub == sub).then(|| r.clone()));
        list.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        list
    }

    /// Forgets what `sub` allowed `client_id` (every client with `None`) at `issuer`: whether
    /// anything was kept.
    pub fn revoke_consents(&self, issuer: &Issuer, sub: &str, client_id: Option<&str>) -> bool {
        let doomed = |r: &ConsentRecord| {
            r.issuer == issuer.name() && r.sub == sub && client_id.is_none_or(|c| r.client_id == c)
        };
        let found = !self
            .consents
            .collect(|r| doomed(r).then_some(()))
            .is_empty();
        self.consents.remove_where(doomed);
        found
    }

    /// Django OAuth Toolkit's `approval_prompt=auto`: the user holds a live access token of
    /// this client whose scopes cover the request's (`AccessToken.allow_scopes`); a token of a
    /// revoked login does not count.
    fn live_token_covers(
        &self,
        issuer: &Issuer,
        req: &AuthorizeRequest,
        session: &Session,
    ) -> bool {
        let sub = session.user.sub.as_str();
        let now = self.clock.now();
        issuer.client(&req.client_id).is_some()
            && self
                .user_tokens
                .collect(|g| {
                    let covers = g.client_id == req.client_id
                        && g.user.as_ref().is_some_and(|u| u.sub == sub)
                        && req.scopes.iter().all(|s| g.has_scope(s));
                    covers.then(|| g.clone())
                })
                .iter()
                .any(|g| !self.chain_revoked(g, now))
    }

    /// Remembers a consent page for `req`, shown to `session`'s user in the browser whose
    /// login cookie holds `browser`; returns the id its form posts back.
    pub fn pend_consent(
        &self,
        issuer: &Issuer,
        req: &AuthorizeRequest,
        session: &Session,
        browser: &str,
    ) -> String {
        let ask = ConsentAsk {
            request: Box::new(req.clone()),
            sid: session.sid.clone(),
        };
        self.pend(&self.pending_consents, issuer, ask, browser)
    }

    /// The consent page `id` of `issuer`, still unanswered.
    pub fn pending_consent(&self, issuer: &Issuer, id: &str) -> Option<PendingConsent> {
        self.pending_in(&self.pending_consents, issuer, id)
    }

    /// Answers consent page `id`: the authorization response (a code, or `access_denied`),
    /// for the one caller that consumed the page while its session lives; `None` otherwise.
    pub fn answer_consent(
        &self,
        issuer: &Issuer,
        id: &str,
        answer: ConsentAnswer,
        request: &RequestContext,
    ) -> Option<Callback> {
        let now = self.clock.now();
        let pending = self
            .pending_consents
            .take_if(id, now, |p| p.issuer == issuer.name())?;
        let session = self.session(issuer, &pending.then.sid)?;
        let req = pending.then.request;
        let ConsentAnswer::Allow { scopes, remember } = answer else {
            tracing::info!(
                issuer = issuer.name(),
                client = req.client_id.as_str(),
                "consent denied"
            );
            // Every product sends `access_denied` without a description here.
            let denied = OAuthError::new(ErrorCode::AccessDenied, "");
            return Some(error_callback(
                &req.redirect_uri,
                req.response_mode,
                req.state.as_deref(),
                &denied,
            ));
        };
        self.remember_consent(issuer, &req.client_id, &session, &scopes, remember);
        let granted = AuthorizeRequest {
            scopes,
            ..(*req).clone()
        };
        Some(self.code_callback(issuer, &granted, &session, request))
    }

    /// Keeps an Allow as the product does.
    fn remember_consent(
        &self,
        issuer: &Issuer,
        client_id: &str,
        session: &Session,
        scopes: &[String],
        remember: bool,
    ) {
        let now = self.clock.now();
        let sub = session.user.sub.as_str();
        let key = record_key(issuer, sub, client_id);
        let earlier = self.remembered(issuer, sub, client_id);
        let created = earlier.as_ref().map_or(now, |r| r.created);
        let mut kept = match style(issuer).memory {
            ConsentMemory::Always => earlier.map(|r| r.scopes).unwrap_or_default(),
            // AuthorizeInteractionResponseGenerator: an Allow without "remember" forgets.
            ConsentMemory::WhenAsked if remember => Vec::new(),
            ConsentMemory::WhenAsked => return self.consents.remove(&key),
            ConsentMemory::LiveToken => return,
        };
        // Keycloak keeps the client scopes the page showed (`openid` is none).
        for s in scopes.iter().filter(|s| style(issuer).page.shows(s)) {
            if !kept.contains(s) {
                kept.push(s.clone());
            }
        }
        let record = ConsentRecord {
            issuer: issuer.name().to_string(),
            sub: sub.to_string(),
            client_id: client_id.to_string(),
            scopes: kept,
            created,
            updated: now,
        };
        self.consents.insert(key, record, now + REMEMBERED_TTL, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use crate::config::Config;
    use crate::engine::Params;
    use crate::engine::authorize::validate;
    use std::sync::Arc;

    /// An issuer per product with the client `web` (Keycloak's needs `consent_required`).
    fn fixtures() -> String {
        [
            (
                "kc",
                "keycloak",
                "default_scopes = [\"email\"]\nconsent_required = true",
            ),
            ("ids", "identityserver", ""),
            ("dot", "generic", ""),
        ]
        .map(|(name, dialect, extra)| {
            format!(
                "[[issuer]]\nname = \"{name}\"\ndialect = \"{dialect}\"\n[[issuer.client]]\n\
                 id = \"web\"\nsecret = \"s\"\ngrants = [\"authorization_code\"]\n\
                 scopes = [\"openid\", \"email\", \"offline_access\", \"read\"]\n\
                 redirect_uris = [\"http://app.test/cb\"]\n{extra}\n"
            )
        })
        .concat()
    }

    fn engine() -> Engine {
        Engine::new(
            Config::from_toml(&fixtures()).expect("fixtures"),
            Clock::default(),
        )
        .expect("engine")
    }

    /// Issuer `name` and a browser session of alice there.
    fn alice_at(e: &Engine, name: &str) -> (Arc<Issuer>, Session) {
        let issuer = e.issuers().by_name(name).expect("issuer").clone();
        let alice = issuer.passwordless_user("alice").expect("any user");
        let session = e.start_session(&issuer, alice);
        (issuer, session)
    }

    fn request(issuer: &Issuer, query: &str) -> AuthorizeRequest {
        let q = format!("response_type=code&client_id=web&state=st&{query}");
        validate(issuer, &Params::parse(q.as_bytes()).expect("query")).expect("valid")
    }

    /// Allows (or denies) `req` through a consent page of `session`: the response's params.
    fn answer(
        e: &Engine,
        issuer: &Issuer,
        req: &AuthorizeRequest,
        session: &Session,
        answer: ConsentAnswer,
    ) -> Vec<(String, String)> {
        let id = e.pend_consent(issuer, req, session, "browser");
        let context = RequestContext {
            issuer_url: "http://idp.test".into(),
            client_addr: "127.0.0.1".into(),
        };
        let cb = e
            .answer_consent(issuer, &id, answer, &context)
            .expect("answered");
        assert!(
            e.answer_consent(issuer, &id, ConsentAnswer::Deny, &context)
                .is_none(),
            "single use"
        );
        cb.params
    }

    fn allow(req: &AuthorizeRequest, remember: bool) -> ConsentAnswer {
        ConsentAnswer::Allow {
            scopes: req.scopes.clone(),
            remember,
        }
    }

    #[test]
    fn keycloak_remembers_every_allow_and_prompt_consent_asks_again() {
        let e = engine();
        let issuers = e.issuers();
        let kc = issuers.by_name("kc").expect("kc");
        let alice = kc.passwordless_user("alice").expect("any user");
        let s = e.start_session(kc, alice);
        let req = request(kc, "scope=openid%20email");
        assert!(e.needs_consent(kc, &req, &s));
        let denied = answer(&e, kc, &req, &s, ConsentAnswer::Deny);
        assert_eq!(
            denied,
            [
                ("error".into(), "access_denied".into()),
                ("state".into(), "st".into())
            ]
        );
        assert!(e.needs_consent(kc, &req, &s), "a denial is not kept");
        let params = answer(&e, kc, &req, &s, allow(&req, false));
        assert_eq!(params[0].0, "code");
        assert!(!e.needs_consent(kc, &req, &s), "kept");
        assert!(e.needs_consent(kc, &request(kc, "scope=openid%20email&prompt=consent"), &s));
        assert!(
            e.needs_consent(kc, &request(kc, "scope=offline_access"), &s),
            "a new scope"
        );
        e.end_session(&s.sid);
        let again = e.start_session(kc, s.user.clone());
        assert!(!e.needs_consent(kc, &req, &again), "logout keeps it");
        assert!(!e.needs_consent(kc, &req, &e.start_headless_session(kc, s.user.clone())));
    }

    #[test]
    fn identityserver_remembers_when_asked_never_offline_access() {
        let e = engine();
        let (issuers, s) = alice_at(&e, "ids");
        let ids = &issuers;
        let req = request(ids, "scope=openid%20email");
        assert!(e.needs_consent(ids, &req, &s), "RequireConsent by default");
        answer(&e, ids, &req, &s, allow(&req, false));
        assert!(e.needs_consent(ids, &req, &s), "not remembered");
        answer(&e, ids, &req, &s, allow(&req, true));
        assert!(!e.needs_consent(ids, &req, &s), "remembered");
        assert!(e.needs_consent(
            ids,
            &request(ids, "scope=openid%20email&prompt=consent"),
            &s
        ));
        let offline = request(ids, "scope=openid%20offline_access");
        answer(&e, ids, &offline, &s, allow(&offline, true));
        assert!(
            e.needs_consent(ids, &offline, &s),
            "offline_access always asks"
        );
        answer(&e, ids, &req, &s, allow(&req, false));
        assert!(
            e.needs_consent(ids, &req, &s),
            "an Allow without remember forgets"
        );
    }

    #[test]
    fn dot_asks_every_time_unless_auto_approval_finds_a_live_token() {
        let e = engine();
        let (issuers, s) = alice_at(&e, "dot");
        let dot = &issuers;
        let auto = request(dot, "scope=read&approval_prompt=auto");
        assert!(e.needs_consent(dot, &auto, &s), "no token yet");
        answer(&e, dot, &auto, &s, allow(&auto, false));
        assert!(
            e.needs_consent(dot, &auto, &s),
            "nothing kept, no token issued"
        );
    }
}
