//! `RoleMapperResource` and `ClientRoleMappingsResource`: the realm and client roles a user or
//! a group holds, `/admin/realms/{realm}/{users|groups}/{id}/role-mappings[/...]`, with the
//! `composite` (effective) and `available` views the client libraries call.

use crate::http::lazy_routes::Routes;
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::Arc;

use actix_web::{HttpRequest, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::found::{ManageUsers, Need, ViewUsers, from_request, realm_for};
use super::repr::{self, Container, group_by_id, user_by_id};
use super::{KcError, Reply, change, no_content, ok};
use crate::config::IssuerConfig;
use crate::engine::{Engine, Issuer};

const BASE: &str = "/{realm}/{kind:(users|groups)}/{id}/role-mappings";

pub fn routes(cfg: &mut Routes) {
    let at = |rest: &str| format!("{BASE}{rest}");
    cfg.route(at(""), web::get().to(all))
        .route(at("/realm"), web::get().to(direct))
        .route(at("/realm"), web::post().to(add))
        .route(at("/realm"), web::delete().to(remove))
        .route(at("/realm/composite"), web::get().to(composite))
        .route(at("/realm/available"), web::get().to(available))
        .route(at("/clients/{client}"), web::get().to(direct))
        .route(at("/clients/{client}"), web::post().to(add))
        .route(at("/clients/{client}"), web::delete().to(remove))
        .route(at("/clients/{client}/composite"), web::get().to(composite))
        .route(at("/clients/{client}/available"), web::get().to(available));
}

/// A role mapping path's holder (`{kind}`: users or groups, `{id}`) and role container, with
/// the caller's right to `N` in the realm.
struct Mapping<N> {
    engine: web::Data<Engine>,
    issuer: Arc<Issuer>,
    kind: String,
    id: String,
    container: Container,
    need: PhantomData<N>,
}

impl<N: Need> Mapping<N> {
    fn of(req: &HttpRequest) -> Result<Self, KcError> {
        let (engine, issuer, _) = realm_for(req, |_| N::PERMISSION)?;
        let info = req.match_info();
        let container = Container::at(&issuer, info.get("client"), "Client not found")?;
        Ok(Self {
            kind: info.get("kind").unwrap_or("").to_string(),
            id: info.get("id").unwrap_or("").to_string(),
            engine,
            issuer,
            container,
            need: PhantomData,
        })
    }
}
from_request!(Mapping<N: Need>);

/// Realm roles and client roles (by client id), as a user or group holds them.
type Roles = (Vec<String>, BTreeMap<String, Vec<String>>);

/// The holder's own mappings; 404 "User not found" / "Could not find group by id".
fn direct_roles(issuer: &Issuer, kind: &str, id: &str) -> Result<Roles, KcError> {
    if kind == "users" {
        let u = user_by_id(issuer, id).ok_or_else(|| KcError::not_found("User not found"))?;
        Ok((u.roles.clone(), u.client_roles.clone()))
    } else {
        let g = group_by_id(issuer, id)
            .ok_or_else(|| KcError::not_found("Could not find group by id"))?;
        Ok((g.roles.clone(), g.client_roles.clone()))
    }
}

/// The holder's effective roles: its groups' and parents' too; a user's default roles too.
fn effective_roles(issuer: &Issuer, kind: &str, id: &str) -> Result<Roles, KcError> {
    let (mut realm, mut clients) = direct_roles(issuer, kind, id)?;
    let group_ids = match kind {
        "users" => user_by_id(issuer, id)
            .map(|u| u.groups.clone())
            .unwrap_or_default(),
        _ => vec![id.to_string()],
    };
    for g in issuer.groups_with_ancestors(&group_ids) {
        realm.extend(g.roles.iter().cloned());
        for (c, names) in &g.client_roles {
            clients
                .entry(c.clone())
                .or_default()
                .extend(names.iter().cloned());
        }
    }
    if kind == "users" {
        realm.extend(repr::built_in_realm_roles(issuer));
    }
    realm.sort();
    realm.dedup();
    for names in clients.values_mut() {
        names.sort();
        names.dedup();
    }
    Ok((realm, clients))
}

/// The names of `roles` in `container`.
fn names_in(roles: &Roles, container: &Container) -> Vec<String> {
    match container {
        Container::Realm => roles.0.clone(),
        Container::Client(id) => roles.1.get(id).cloned().unwrap_or_default(),
    }
}

fn reps(issuer: &Issuer, container: &Container, names: &[String]) -> Value {
    json!(
        names
            .iter()
            .map(|n| repr::role(issuer, container, n))
            .collect::<Vec<_>>()
    )
}

/// RoleMapperResource.getRoleMappings: `realmMappings` and `clientMappings`.
async fn all(m: Mapping<ViewUsers>) -> Reply {
    let (realm, clients) = direct_roles(&m.issuer, &m.kind, &m.id)?;
    let mut out = serde_json::Map::new();
    if !realm.is_empty() {
        out.insert(
            "realmMappings".into(),
            reps(&m.issuer, &Container::Realm, &realm),
        );
    }
    let mut by_client = serde_json::Map::new();
    for (client_id, names) in clients.iter().filter(|(_, n)| !n.is_empty()) {
        let container = Container::Client(client_id.clone());
        let id = m
            .issuer
            .client(client_id)
            .map(|c| repr::client_uuid(&m.issuer, c));
        by_client.insert(
            client_id.clone(),
            json!({"id": id, "client": client_id, "mappings": reps(&m.issuer, &container, names)}),
        );
    }
    if !by_client.is_empty() {
        out.insert("clientMappings".into(), Value::Object(by_client));
    }
    ok(Value::Object(out))
}

/// The container's roles the holder has directly (or, `effective`, through groups too).
fn held<N: Need>(m: &Mapping<N>, effective: bool) -> Result<Vec<String>, KcError> {
    let roles = if effective {
        effective_roles(&m.issuer, &m.kind, &m.id)?
    } else {
        direct_roles(&m.issuer, &m.kind, &m.id)?
    };
    Ok(names_in(&roles, &m.container))
}

async fn direct(m: Mapping<ViewUsers>) -> Reply {
    ok(reps(&m.issuer, &m.container, &held(&m, false)?))
}

async fn composite(m: Mapping<ViewUsers>) -> Reply {
    ok(reps(&m.issuer, &m.container, &held(&m, true)?))
}

/// The container's roles the holder has not got, directly or through a group.
async fn available(m: Mapping<ViewUsers>) -> Reply {
    let held = held(&m, true)?;
    let free: Vec<String> = repr::roles_in(&m.issuer, &m.container)
        .into_iter()
        .filter(|n| !held.contains(n))
        .collect();
    ok(reps(&m.issuer, &m.container, &free))
}

/// A `RoleRepresentation` in a mapping request: found by name, else by id.
#[derive(Debug, Deserialize)]
struct RoleRef {
    id: Option<String>,
    name: Option<String>,
}

/// The names of the roles `refs` name in `container`; 404 "Role not found" for any other.
fn role_names(
    issuer: &Issuer,
    container: &Container,
    refs: &[RoleRef],
) -> Result<Vec<String>, KcError> {
    let defined = repr::roles_in(issuer, container);
    refs.iter()
        .map(|r| {
            defined
                .iter()
                .find(|n| match (&r.name, &r.id) {
                    (Some(name), _) => *n == name,
                    (None, Some(id)) => repr::role_id(issuer, container, n) == *id,
                    (None, None) => false,
                })
                .cloned()
                .ok_or_else(|| KcError::not_found("Role not found"))
        })
        .collect()
}

/// Applies `edit` to the holder's mappings in the path's container, with the names of the
/// roles `refs` names there (404 for an unknown holder or role).
fn edit_mappings(
    m: &Mapping<ManageUsers>,
    refs: &[RoleRef],
    edit: impl FnOnce(&mut Vec<String>, Vec<String>),
) -> Reply {
    direct_roles(&m.issuer, &m.kind, &m.id)?;
    let names = role_names(&m.issuer, &m.container, refs)?;
    let issuer = &m.issuer;
    change(&m.engine, issuer, |cfg: &mut IssuerConfig| {
        let (realm, clients) = if m.kind == "users" {
            let u = cfg.users.iter_mut().find(|u| issuer.user_id(u) == m.id);
            let u = u.ok_or_else(|| KcError::not_found("User not found"))?;
            (&mut u.roles, &mut u.client_roles)
        } else {
            let g = cfg.groups.iter_mut().find(|g| issuer.group_id(g) == m.id);
            let g = g.ok_or_else(|| KcError::not_found("Could not find group by id"))?;
            (&mut g.roles, &mut g.client_roles)
        };
        match &m.container {
            Container::Realm => edit(realm, names),
            Container::Client(id) => {
                let held = clients.entry(id.clone()).or_default();
                edit(held, names);
                if held.is_empty() {
                    clients.remove(id);
                }
            }
        }
        Ok(())
    })?;
    no_content()
}

async fn add(m: Mapping<ManageUsers>, body: web::Json<Vec<RoleRef>>) -> Reply {
    edit_mappings(&m, &body, |held, names| {
        for n in names {
            if !held.contains(&n) {
                held.push(n);
            }
        }
    })
}

async fn remove(m: Mapping<ManageUsers>, body: web::Json<Vec<RoleRef>>) -> Reply {
    edit_mappings(&m, &body, |held, names| {
        held.retain(|n| !names.contains(n));
    })
}
