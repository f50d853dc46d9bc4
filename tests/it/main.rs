//! mockidp integration tests: one binary; every test starts its own server on a random loopback
//! port and speaks HTTP to it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod admin; // the admin API: runtime changes, overrides, defects, failures, journal, clock, keys
mod authorize; // the browser flow over plain HTTP: errors, codes, PKCE, refresh, SSO
mod browser; // a real headless Chromium logs in through each dialect's login page
mod chrome; // the browser harness: chromedriver, headless Chromium sessions over WebDriver
mod client_jwt; // RFC 7523 client assertions: private_key_jwt, client_secret_jwt, refusals
mod consent; // consent pages per product: Allow, Deny, remembered, prompt=consent/none
mod dashboard; // the dashboard at /_mockidp/ (HTTP and headless Chromium) and /_mockidp/metrics
mod device; // the device authorization grant over HTTP: polling, expiry, brute force
mod errors; // every malformed or refused token request, per dialect
mod exchange; // token exchange, /resource/, introspection, revocation
mod generic; // Django OAuth Toolkit dialect at /token/
mod identityserver; // IdentityServer3 (Inqom) dialect at /identity
mod implicit; // implicit and hybrid flows on every dialect: fragments, hashes, nonce, refusals
mod interop; // the oauth2 crate as a real client, JWTs verified with jsonwebtoken
mod journal_wait; // GET /_mockidp/journal?wait=: held asynchronously until a match
mod kcadmin; // Keycloak's admin REST API: master realm, realm-management roles, every refusal
mod keycloak; // Keycloak (Iopole) dialect at /realms/{realm}
mod keycloak_js; // keycloak-js 26 with its defaults in headless Chromium, the app on another origin
mod library; // the embedded MockIdp, as the README shows it
mod logs; // secrets never reach the logs
mod namespaces; // isolated copies of the issuers under /ns/{id}: admin API, library, isolation
mod node; // @keycloak/keycloak-admin-client (npm, tests/js) against the admin REST API
mod oidc; // the openidconnect crate as a relying party
mod oidc_client_ts; // oidc-client-ts in headless Chromium: session management, silent renew, logout
mod packaging; // every package built and used: image + compose, wheel + pytest, npm, tarball, cargo install
mod password; // the password grant on each dialect; fixtures refused with their line
mod python; // python-keycloak against the iopole realm (venv from .ci/run)
mod schemathesis; // the admin API against its OpenAPI document, by schemathesis
mod scripted; // device decisions, sessions and auto_login through the admin API, no browser
mod seed; // deterministic mode: the same requests and seed give byte-identical answers
mod server; // configuration, routing, issuer URLs, the binary's CLI
mod spa; // what browser libraries rely on: response modes, CORS with credentials, account REST
mod util;
