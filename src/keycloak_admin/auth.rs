//! Who calls the admin REST API and what they may do, as Keycloak's `AdminRoot` (a bearer
//! access token of some realm, else 401) and `AdminPermissions` / `RealmAuth` (the
//! `realm-management` client roles of the token's realm, else 403) decide. A master realm
//! user holding the `admin` realm role administers every realm.

use std::future::{Ready, ready};
use std::sync::Arc;

use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use serde_json::Value;

use super::{KcError, find_realm};
use crate::config::{DialectKind, MASTER_ADMIN_ROLE};
use crate::engine::{Engine, Issuer};

/// The client whose roles grant administration of a realm.
pub const REALM_MANAGEMENT: &str = "realm-management";

/// The realm-management roles Keycloak defines (`AdminRoles`); `realm-admin` holds them all.
pub const REALM_MANAGEMENT_ROLES: &[&str] = &[
    "realm-admin",
    "create-client",
    "impersonation",
    "manage-authorization",
    "manage-clients",
    "manage-events",
    "manage-identity-providers",
    "manage-realm",
    "manage-users",
    "query-clients",
    "query-groups",
    "query-realms",
    "query-users",
    "view-authorization",
    "view-clients",
    "view-events",
    "view-identity-providers",
    "view-realm",
    "view-users",
];

/// The enum [`Permission`] and, in [`need`], each variant as a type (for the extractors'
/// signatures, [`super::found::Realm`]).
macro_rules! permissions {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// What a call needs. Keycloak's `manage-*` roles imply `view-*`, and `view-users`
        /// implies `query-users` and `query-groups` (UserPermissions, GroupPermissions).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Permission {
            $($(#[$doc])* $name,)*
        }

        /// Each [`Permission`] as a type.
        pub mod need {
            $(
                #[doc = concat!("Needs [`super::Permission::", stringify!($name), "`].")]
                pub struct $name;
                impl crate::keycloak_admin::found::Need for $name {
                    const PERMISSION: super::Permission = super::Permission::$name;
                }
            )*
        }
    };
}

permissions!(
    QueryUsers,
    ViewUsers,
    ManageUsers,
    QueryClients,
    ViewClients,
    ManageClients,
    QueryGroups,
    ManageRealm,
    /// Any realm-management role (RolePermissions.canList: `hasAnyAdminRole`).
    AnyAdmin,
    /// Create or delete realms: master admins only (`create-realm`).
    CreateRealm,
);

impl Permission {
    /// The realm-management roles that allow this.
    fn roles(self) -> &'static [&'static str] {
        match self {
            Self::QueryUsers => &["query-users", "view-users", "manage-users"],
            Self::ViewUsers => &["view-users", "manage-users"],
            Self::ManageUsers => &["manage-users"],
            Self::QueryClients => &["query-clients", "view-clients", "manage-clients"],
            Self::ViewClients => &["view-clients", "manage-clients"],
            Self::ManageClients => &["manage-clients"],
            Self::QueryGroups => &["query-groups", "view-users", "manage-users"],
            Self::ManageRealm => &["manage-realm"],
            Self::AnyAdmin => REALM_MANAGEMENT_ROLES,
            Self::CreateRealm => &[],
        }
    }
}

/// The holder of a valid access token.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The realm (issuer name) that issued the token.
    issuer: String,
    /// A master realm administrator: every realm, every operation.
    master_admin: bool,
    /// `resource_access.realm-management.roles` of the token.
    roles: Vec<String>,
}

impl Caller {
    /// Whether the caller may do `what` in `realm`.
    pub fn may(&self, realm: &Issuer, what: Permission) -> bool {
        if self.master_admin {
            return true;
        }
        what != Permission::CreateRealm
            && self.issuer == realm.name()
            && self
                .roles
                .iter()
                .any(|r| r == "realm-admin" || what.roles().contains(&r.as_str()))
    }

    /// Realm `name`, if the caller may do `what` there: 404 "Realm not found." for a realm
    /// that does not exist (RealmsAdminResource), 403 when the roles do not allow it.
    pub fn realm(
        &self,
        engine: &Engine,
        name: &str,
        what: Permission,
    ) -> Result<Arc<Issuer>, KcError> {
        let realm =
            find_realm(engine, name).ok_or_else(|| KcError::not_found("Realm not found."))?;
        self.require(&realm, what)?;
        Ok(realm)
    }

    /// 403 unless the caller may do `what` in `realm`.
    pub fn require(&self, realm: &Issuer, what: Permission) -> Result<(), KcError> {
        if self.may(realm, what) {
            Ok(())
        } else {
            Err(forbidden())
        }
    }
}

pub(super) fn unauthorized() -> KcError {
    KcError::error(StatusCode::UNAUTHORIZED, "HTTP 401 Unauthorized")
}

fn forbidden() -> KcError {
    KcError::error(StatusCode::FORBIDDEN, "HTTP 403 Forbidden")
}

impl FromRequest for Caller {
    type Error = KcError;
    type Future = Ready<Result<Self, KcError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::of(req))
    }
}

/// The `Authorization: Bearer` token of the request.
fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The role names of a token's `realm_access` or `resource_access.{client}` member.
fn role_names(access: Option<&Value>) -> Vec<String> {
    access
        .and_then(|r| r.get("roles"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

impl Caller {
    /// AdminRoot.authenticateRealmAdminRequest: a live access token of a Keycloak realm hosted
    /// here, else 401.
    pub fn of(req: &HttpRequest) -> Result<Caller, KcError> {
        let engine = req
            .app_data::<web::Data<Engine>>()
            .ok_or_else(unauthorized)?;
        let token = bearer(req).ok_or_else(unauthorized)?;
        let (_, unverified) = crate::jwt::decode_unverified(token).ok_or_else(unauthorized)?;
        let iss = unverified.get("iss").and_then(Value::as_str).unwrap_or("");
        let issuers = engine.issuers();
        let issuer = issuers
            .by_issuer_url(iss, engine.prefix())
            .filter(|i| i.config.dialect == DialectKind::Keycloak)
            .ok_or_else(unauthorized)?;
        let claims = engine
            .check_access_token(issuer, token)
            .map_err(|_| unauthorized())?
            .claims;
        let realm_roles = role_names(claims.get("realm_access"));
        let management = claims
            .get("resource_access")
            .and_then(|r| r.get(REALM_MANAGEMENT));
        Ok(Caller {
            issuer: issuer.name().to_string(),
            master_admin: issuer.config.is_master_realm()
                && realm_roles.iter().any(|r| r == MASTER_ADMIN_ROLE),
            roles: role_names(management),
        })
    }
}
