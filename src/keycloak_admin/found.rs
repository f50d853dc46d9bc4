//! The preamble every admin REST handler shares, as extractors, in Keycloak's order: the
//! caller's token (`AdminRoot`: 401), the path's realm (`RealmsAdminResource`: 404 "Realm not
//! found."), the permission the operation needs (`AdminPermissions`: 403) and, for
//! `/{realm}/{users|groups|clients}/{id}/…`, the entry (the resource locator's 404).

use std::marker::PhantomData;
use std::sync::Arc;

use actix_web::{HttpRequest, web};

use super::repr::{client_by_uuid, group_by_id, user_by_id};
use super::{Caller, KcError, Permission};
use crate::config::{ClientConfig, GroupConfig, UserConfig};
use crate::engine::{Engine, Issuer};

/// A permission as a type, so that a handler's signature says what it needs.
pub trait Need {
    const PERMISSION: Permission;
}

pub use super::auth::need::*;

/// `FromRequest` for an extractor whose `of(&HttpRequest)` does the work synchronously.
macro_rules! from_request {
    ($name:ident<$($param:ident: $bound:ident),*>) => {
        impl<$($param: $bound),*> actix_web::FromRequest for $name<$($param),*> {
            type Error = KcError;
            type Future = std::future::Ready<Result<Self, KcError>>;

            fn from_request(
                req: &actix_web::HttpRequest,
                _: &mut actix_web::dev::Payload,
            ) -> Self::Future {
                std::future::ready(Self::of(req))
            }
        }
    };
}
pub(super) use from_request;

/// The path's `{realm}`, which the caller may act on with `N`.
pub struct Realm<N> {
    pub engine: web::Data<Engine>,
    pub issuer: Arc<Issuer>,
    need: PhantomData<N>,
}

impl<N: Need> Realm<N> {
    fn of(req: &HttpRequest) -> Result<Self, KcError> {
        let (engine, issuer, _) = realm_for(req, |_| N::PERMISSION)?;
        Ok(Self {
            engine,
            issuer,
            need: PhantomData,
        })
    }
}
from_request!(Realm<N: Need>);

/// The caller (401), the path's `{realm}` (404) and the caller's right to the permission
/// `need` picks for that realm (403), in Keycloak's order.
pub fn realm_for(
    req: &HttpRequest,
    need: impl FnOnce(&HttpRequest) -> Permission,
) -> Result<(web::Data<Engine>, Arc<Issuer>, Caller), KcError> {
    let caller = Caller::of(req)?;
    let engine = req
        .app_data::<web::Data<Engine>>()
        .cloned()
        .ok_or_else(super::auth::unauthorized)?;
    let name = req.match_info().get("realm").unwrap_or("");
    let issuer = caller.realm(&engine, name, need(req))?;
    Ok((engine, issuer, caller))
}

/// What `/{realm}/{kind}/{id}` names, and the 404 Keycloak answers when it is not there.
pub trait Entry: Clone + 'static {
    const NOT_FOUND: &'static str;
    fn by_id<'a>(issuer: &'a Issuer, id: &str) -> Option<&'a Self>;
}

impl Entry for UserConfig {
    const NOT_FOUND: &'static str = "User not found";
    fn by_id<'a>(issuer: &'a Issuer, id: &str) -> Option<&'a Self> {
        user_by_id(issuer, id)
    }
}

impl Entry for GroupConfig {
    const NOT_FOUND: &'static str = "Could not find group by id";
    fn by_id<'a>(issuer: &'a Issuer, id: &str) -> Option<&'a Self> {
        group_by_id(issuer, id)
    }
}

impl Entry for ClientConfig {
    const NOT_FOUND: &'static str = "Could not find client";
    fn by_id<'a>(issuer: &'a Issuer, id: &str) -> Option<&'a Self> {
        client_by_uuid(issuer, id)
    }
}

/// The entry `{id}` of the path's realm (a copy: the realm's table may be replaced meanwhile).
pub struct Found<E, N> {
    pub realm: Realm<N>,
    /// The path's `{id}`, as Keycloak's id of the entry.
    pub id: String,
    pub entry: E,
}

impl<E: Entry, N: Need> Found<E, N> {
    pub fn engine(&self) -> &Engine {
        &self.realm.engine
    }

    pub fn issuer(&self) -> &Issuer {
        &self.realm.issuer
    }

    fn of(req: &HttpRequest) -> Result<Self, KcError> {
        let realm = Realm::<N>::of(req)?;
        let id = req.match_info().get("id").unwrap_or("").to_string();
        let entry = E::by_id(&realm.issuer, &id)
            .cloned()
            .ok_or_else(|| KcError::not_found(E::NOT_FOUND))?;
        Ok(Self { realm, id, entry })
    }
}

from_request!(Found<E: Entry, N: Need>);

/// `/{realm}/users/{id}`.
pub type UserAt<N> = Found<UserConfig, N>;
/// `/{realm}/groups/{id}`.
pub type GroupAt<N> = Found<GroupConfig, N>;
/// `/{realm}/clients/{id}`.
pub type ClientAt<N> = Found<ClientConfig, N>;
