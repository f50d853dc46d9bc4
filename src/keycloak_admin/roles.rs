//! `RoleContainerResource`: realm roles (`/admin/realms/{realm}/roles`) and a client's roles
//! (`/admin/realms/{realm}/clients/{id}/roles`): list, create, get by name, update (renaming
//! follows every holder), delete, and the users holding a role.

use crate::http::lazy_routes::Routes;
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::Arc;

use actix_web::{HttpRequest, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::found::{from_request, realm_for};
use super::repr::{self, Container};
use super::{
    Caller, KcError, ListQuery, Permission, Reply, change, created, ensure_room, no_content, ok,
    page,
};
use crate::config::IssuerConfig;
use crate::engine::{Engine, Issuer};

pub fn routes(cfg: &mut Routes) {
    for base in ["/{realm}/roles", "/{realm}/clients/{client}/roles"] {
        cfg.route(base, web::get().to(list))
            .route(base, web::post().to(create))
            .route(format!("{base}/{{name}}"), web::get().to(get))
            .route(format!("{base}/{{name}}"), web::put().to(update))
            .route(format!("{base}/{{name}}"), web::delete().to(delete))
            .route(format!("{base}/{{name}}/users"), web::get().to(users));
    }
}

/// `RoleRepresentation` as create and update take it.
#[derive(Debug, Deserialize)]
struct RoleBody {
    name: Option<String>,
    description: Option<String>,
}

/// Reading roles or changing them: the permission each needs (RoleContainerResource's
/// `auth.roles().requireList` / `requireManage`: realm roles are the realm's, client roles the
/// clients').
pub trait Access {
    fn permission(client: bool) -> Permission;
}

pub struct Read;
impl Access for Read {
    fn permission(_: bool) -> Permission {
        Permission::AnyAdmin
    }
}

pub struct Write;
impl Access for Write {
    fn permission(client: bool) -> Permission {
        if client {
            Permission::ManageClients
        } else {
            Permission::ManageRealm
        }
    }
}

/// The realm, the role container (`{client}`: 404 "Could not find client") and, for
/// `/{name}` paths, the role, which must exist (404 "Could not find role").
struct RolesIn<A> {
    engine: web::Data<Engine>,
    issuer: Arc<Issuer>,
    caller: Caller,
    container: Container,
    /// The path's `{name}` (empty on the collection paths).
    name: String,
    access: PhantomData<A>,
}

impl<A: Access> RolesIn<A> {
    fn of(req: &HttpRequest) -> Result<Self, KcError> {
        let client = req.match_info().get("client");
        let (engine, issuer, caller) = realm_for(req, |_| A::permission(client.is_some()))?;
        let container = Container::at(&issuer, client, "Could not find client")?;
        let name = req.match_info().get("name");
        if let Some(name) = name
            && !repr::roles_in(&issuer, &container)
                .iter()
                .any(|n| n == name)
        {
            return Err(KcError::not_found("Could not find role"));
        }
        Ok(Self {
            name: name.unwrap_or("").to_string(),
            engine,
            issuer,
            caller,
            container,
            access: PhantomData,
        })
    }
}
from_request!(RolesIn<A: Access>);

async fn list(roles: RolesIn<Read>, query: web::Query<ListQuery>) -> Reply {
    let RolesIn {
        issuer, container, ..
    } = &roles;
    let search = query.search.as_deref().unwrap_or("").to_lowercase();
    let names: Vec<String> = repr::roles_in(issuer, container)
        .into_iter()
        .filter(|n| n.to_lowercase().contains(&search))
        .collect();
    let reps: Vec<Value> = names
        .iter()
        .map(|n| repr::role(issuer, container, n))
        .collect();
    ok(json!(page(reps, query.first, query.max)))
}

async fn create(roles: RolesIn<Write>, req: HttpRequest, body: web::Json<RoleBody>) -> Reply {
    let (engine, issuer, container) = (&roles.engine, &roles.issuer, &roles.container);
    let name = body
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| KcError::invalid("Role name is missing"))?;
    if repr::roles_in(issuer, container).contains(&name) {
        return Err(KcError::conflict(&format!(
            "Role with name {name} already exists"
        )));
    }
    ensure_room(issuer.config.roles.len(), "roles")?;
    let role = repr::role_config(container, &name, body.description.clone());
    change(engine, issuer, |cfg| {
        cfg.roles.push(role);
        Ok(())
    })?;
    Ok(created(&req, &name))
}

async fn get(roles: RolesIn<Read>) -> Reply {
    let RolesIn {
        issuer, container, ..
    } = &roles;
    ok(repr::role(issuer, container, &roles.name))
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

async fn update(roles: RolesIn<Write>, body: web::Json<RoleBody>) -> Reply {
    let (engine, issuer, container) = (&roles.engine, &roles.issuer, &roles.container);
    let old = roles.name.clone();
    let new = body
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| old.clone());
    if new != old && repr::roles_in(issuer, container).contains(&new) {
        return Err(KcError::conflict(&format!(
            "Role with name {new} already exists"
        )));
    }
    let description = body.description.clone();
    change(engine, issuer, |cfg| {
        rename_role(cfg, container, &old, Some(&new));
        cfg.roles
            .push(repr::role_config(container, &new, description));
        Ok(())
    })?;
    no_content()
}

async fn delete(roles: RolesIn<Write>) -> Reply {
    let (engine, issuer, container) = (&roles.engine, &roles.issuer, &roles.container);
    let name = roles.name.clone();
    change(engine, issuer, |cfg| {
        rename_role(cfg, container, &name, None);
        Ok(())
    })?;
    no_content()
}

/// RoleContainerResource.getUsersInRole: the users holding the role directly.
async fn users(roles: RolesIn<Read>, query: web::Query<ListQuery>) -> Reply {
    let RolesIn {
        issuer, container, ..
    } = &roles;
    roles.caller.require(issuer, Permission::QueryUsers)?;
    let name = roles.name.clone();
    let brief = query.brief_representation.unwrap_or(true);
    let holders: Vec<Value> = issuer
        .config
        .users
        .iter()
        .filter(|u| match &container {
            Container::Realm => u.roles.contains(&name),
            Container::Client(id) => u.client_roles.get(id).is_some_and(|r| r.contains(&name)),
        })
        .map(|u| repr::user(issuer, u, brief))
        .collect();
    ok(json!(page(holders, query.first, query.max.or(Some(100)))))
}
