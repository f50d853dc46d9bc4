//! `RoleContainerResource`: realm roles (`/admin/realms/{realm}/roles`) and a client's roles
//! (`/admin/realms/{realm}/clients/{id}/roles`): list, create, get by name, update (renaming
//! follows every holder), delete, and the users holding a role.

use std::collections::BTreeMap;

use actix_web::{HttpRequest, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::repr::{self, Container, client_by_uuid};
use super::{
    Caller, KcError, Permission, Reply, change, created, ensure_room, no_content, ok, page,
};
use crate::config::IssuerConfig;
use crate::engine::{Engine, Issuer};

pub fn routes(cfg: &mut web::ServiceConfig) {
    for base in ["/{realm}/roles", "/{realm}/clients/{client}/roles"] {
        cfg.route(base, web::get().to(list))
            .route(base, web::post().to(create))
            .route(&format!("{base}/{{name}}"), web::get().to(get))
            .route(&format!("{base}/{{name}}"), web::put().to(update))
            .route(&format!("{base}/{{name}}"), web::delete().to(delete))
            .route(&format!("{base}/{{name}}/users"), web::get().to(users));
    }
}

#[derive(Debug, Deserialize)]
struct RolePath {
    realm: String,
    client: Option<String>,
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Query {
    search: Option<String>,
    first: Option<i64>,
    max: Option<i64>,
    #[serde(default, deserialize_with = "super::jaxrs_bool")]
    brief_representation: Option<bool>,
}

/// `RoleRepresentation` as create and update take it.
#[derive(Debug, Deserialize)]
struct RoleBody {
    name: Option<String>,
    description: Option<String>,
}

/// The realm, the container and (for `/{name}` paths) the role, which must exist.
fn resolve(
    caller: &Caller,
    engine: &Engine,
    p: &RolePath,
    reading: bool,
) -> Result<(std::sync::Arc<Issuer>, Container), KcError> {
    let what = match (reading, &p.client) {
        (true, _) => Permission::AnyAdmin,
        (false, None) => Permission::ManageRealm,
        (false, Some(_)) => Permission::ManageClients,
    };
    let issuer = caller.realm(engine, &p.realm, what)?;
    let container = match &p.client {
        None => Container::Realm,
        Some(uuid) => Container::Client(
            client_by_uuid(&issuer, uuid)
                .ok_or_else(|| KcError::not_found("Could not find client"))?
                .id
                .clone(),
        ),
    };
    if let Some(name) = &p.name
        && !repr::roles_in(&issuer, &container).contains(name)
    {
        return Err(KcError::not_found("Could not find role"));
    }
    Ok((issuer, container))
}

async fn list(
    caller: Caller,
    engine: web::Data<Engine>,
    path: web::Path<RolePath>,
    query: web::Query<Query>,
) -> Reply {
    let (issuer, container) = resolve(&caller, &engine, &path, true)?;
    let search = query.search.as_deref().unwrap_or("").to_lowercase();
    let names: Vec<String> = repr::roles_in(&issuer, &container)
        .into_iter()
        .filter(|n| n.to_lowercase().contains(&search))
        .collect();
    let reps: Vec<Value> = names
        .iter()
        .map(|n| repr::role(&issuer, &container, n))
        .collect();
    ok(json!(page(reps, query.first, query.max)))
}

async fn create(
    req: HttpRequest,
    caller: Caller,
    engine: web::Data<Engine>,
    path: web::Path<RolePath>,
    body: web::Json<RoleBody>,
) -> Reply {
    let (issuer, container) = resolve(&caller, &engine, &path, false)?;
    let name = body
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| KcError::invalid("Role name is missing"))?;
    if repr::roles_in(&issuer, &container).contains(&name) {
        return Err(KcError::conflict(&format!(
            "Role with name {name} already exists"
        )));
    }
    ensure_room(issuer.config.roles.len(), "roles")?;
    let role = repr::role_config(&container, &name, body.description.clone());
    change(&engine, &issuer, |cfg| {
        cfg.roles.push(role);
        Ok(())
    })?;
    Ok(created(&req, &name))
}

async fn get(caller: Caller, engine: web::Data<Engine>, path: web::Path<RolePath>) -> Reply {
    let (issuer, container) = resolve(&caller, &engine, &path, true)?;
    ok(repr::role(
        &issuer,
        &container,
        path.name.as_deref().unwrap_or(""),
    ))
}

/// Renames `from` to `to` (or, with `None`, removes it) in one role list.
fn rename_in(names: &mut Vec<String>, from: &str, to: Option<&str>) {
    let had = names.iter().any(|n| n == from);
    names.retain(|n| n != from);
    if let (true, Some(to)) = (had, to)
        && !names.iter().any(|n| n == to)
    {
        names.push(to.to_string());
    }
}

/// The realm roles and client roles of one user, client or group, to change.
type HeldRolesMut<'a> = (&'a mut Vec<String>, &'a mut BTreeMap<String, Vec<String>>);

/// Renames (or removes) role `from` of `container` wherever it is held or declared.
fn rename_role(cfg: &mut IssuerConfig, container: &Container, from: &str, to: Option<&str>) {
    let client_of = |c: &Container| match c {
        Container::Realm => None,
        Container::Client(id) => Some(id.clone()),
    };
    let client = client_of(container);
    let mut lists: Vec<HeldRolesMut<'_>> = Vec::new();
    lists.extend(
        cfg.users
            .iter_mut()
            .map(|u| (&mut u.roles, &mut u.client_roles)),
    );
    lists.extend(
        cfg.clients
            .iter_mut()
            .map(|c| (&mut c.roles, &mut c.client_roles)),
    );
    lists.extend(
        cfg.groups
            .iter_mut()
            .map(|g| (&mut g.roles, &mut g.client_roles)),
    );
    for (realm_roles, client_roles) in lists {
        match &client {
            None => rename_in(realm_roles, from, to),
            Some(id) => {
                if let Some(names) = client_roles.get_mut(id) {
                    rename_in(names, from, to);
                }
            }
        }
    }
    cfg.roles
        .retain(|r| !(r.name == from && r.client == client));
}

async fn update(
    caller: Caller,
    engine: web::Data<Engine>,
    path: web::Path<RolePath>,
    body: web::Json<RoleBody>,
) -> Reply {
    let (issuer, container) = resolve(&caller, &engine, &path, false)?;
    let old = path.name.clone().unwrap_or_default();
    let new = body
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| old.clone());
    if new != old && repr::roles_in(&issuer, &container).contains(&new) {
        return Err(KcError::conflict(&format!(
            "Role with name {new} already exists"
        )));
    }
    let description = body.description.clone();
    change(&engine, &issuer, |cfg| {
        rename_role(cfg, &container, &old, Some(&new));
        cfg.roles
            .push(repr::role_config(&container, &new, description));
        Ok(())
    })?;
    no_content()
}

async fn delete(caller: Caller, engine: web::Data<Engine>, path: web::Path<RolePath>) -> Reply {
    let (issuer, container) = resolve(&caller, &engine, &path, false)?;
    let name = path.name.clone().unwrap_or_default();
    change(&engine, &issuer, |cfg| {
        rename_role(cfg, &container, &name, None);
        Ok(())
    })?;
    no_content()
}

/// RoleContainerResource.getUsersInRole: the users holding the role directly.
async fn users(
    caller: Caller,
    engine: web::Data<Engine>,
    path: web::Path<RolePath>,
    query: web::Query<Query>,
) -> Reply {
    let (issuer, container) = resolve(&caller, &engine, &path, true)?;
    caller.require(&issuer, Permission::QueryUsers)?;
    let name = path.name.clone().unwrap_or_default();
    let brief = query.brief_representation.unwrap_or(true);
    let holders: Vec<Value> = issuer
        .config
        .users
        .iter()
        .filter(|u| match &container {
            Container::Realm => u.roles.contains(&name),
            Container::Client(id) => u.client_roles.get(id).is_some_and(|r| r.contains(&name)),
        })
        .map(|u| repr::user(&issuer, u, brief))
        .collect();
    ok(json!(page(holders, query.first, query.max.or(Some(100)))))
}
