//! `GroupsResource` and `GroupResource`: `/admin/realms/{realm}/groups[/{id}[/...]]` and
//! `group-by-path`. Groups are governed by the user roles (GroupPermissions: `view-users`,
//! `manage-users`, `query-groups`).

use std::collections::BTreeMap;

use actix_web::{HttpRequest, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::repr::{self, group_by_id};
use super::{
    Caller, KcError, Permission, Reply, change, created, ensure_room, no_content, ok, page,
};
use crate::config::GroupConfig;
use crate::engine::{Engine, Issuer};

/// How deep `subGroups` go in a full representation.
const DEPTH: usize = 32;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{realm}/groups", web::get().to(list))
        .route("/{realm}/groups", web::post().to(create_top))
        .route("/{realm}/groups/count", web::get().to(count))
        .route("/{realm}/groups/{id}", web::get().to(get))
        .route("/{realm}/groups/{id}", web::put().to(update))
        .route("/{realm}/groups/{id}", web::delete().to(delete))
        .route("/{realm}/groups/{id}/children", web::get().to(children))
        .route(
            "/{realm}/groups/{id}/children",
            web::post().to(create_child),
        )
        .route("/{realm}/groups/{id}/members", web::get().to(members))
        .route("/{realm}/group-by-path/{path:.*}", web::get().to(by_path));
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Query {
    search: Option<String>,
    first: Option<i64>,
    max: Option<i64>,
    #[serde(default, deserialize_with = "super::jaxrs_bool")]
    brief_representation: Option<bool>,
    #[serde(default, deserialize_with = "super::jaxrs_bool")]
    top: Option<bool>,
}

/// `GroupRepresentation` as create and update take it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupBody {
    id: Option<String>,
    name: Option<String>,
    attributes: Option<BTreeMap<String, Vec<String>>>,
}

fn depth(brief: Option<bool>) -> usize {
    if brief == Some(true) { 0 } else { DEPTH }
}

async fn list(
    caller: Caller,
    engine: web::Data<Engine>,
    realm: web::Path<String>,
    query: web::Query<Query>,
) -> Reply {
    let issuer = caller.realm(&engine, &realm, Permission::QueryGroups)?;
    let found: Vec<&GroupConfig> = match &query.search {
        Some(s) => {
            let s = s.to_lowercase();
            let mut hits: Vec<&GroupConfig> = issuer
                .config
                .groups
                .iter()
                .filter(|g| g.name.to_lowercase().contains(&s))
                .collect();
            hits.sort_by(|a, b| a.name.cmp(&b.name));
            hits
        }
        None => repr::children(&issuer, None),
    };
    let reps: Vec<Value> = found
        .into_iter()
        .map(|g| repr::group(&issuer, g, depth(query.brief_representation)))
        .collect();
    ok(json!(page(reps, query.first, query.max)))
}

async fn count(
    caller: Caller,
    engine: web::Data<Engine>,
    realm: web::Path<String>,
    query: web::Query<Query>,
) -> Reply {
    let issuer = caller.realm(&engine, &realm, Permission::QueryGroups)?;
    let n = match query.top {
        Some(true) => repr::children(&issuer, None).len(),
        _ => issuer.config.groups.len(),
    };
    ok(json!({ "count": n }))
}

/// 409 when a sibling (same parent, another id) has the name, in Keycloak's words.
fn ensure_unique(
    issuer: &Issuer,
    parent: Option<&str>,
    name: &str,
    except: Option<&str>,
) -> Result<(), KcError> {
    let clash = repr::children(issuer, parent)
        .into_iter()
        .any(|g| g.name == name && except.is_none_or(|id| issuer.group_id(g) != id));
    match (clash, parent) {
        (false, _) => Ok(()),
        (true, None) => Err(KcError::conflict(&format!(
            "Top level group named '{name}' already exists."
        ))),
        (true, Some(_)) => Err(KcError::conflict(&format!(
            "Sibling group named '{name}' already exists."
        ))),
    }
}

/// Adds a group under `parent`, or moves the existing group the body's `id` names there.
fn create(
    req: &HttpRequest,
    engine: &Engine,
    issuer: &Issuer,
    parent: Option<String>,
    body: GroupBody,
) -> Reply {
    if let Some(existing) = body.id.as_deref().and_then(|id| group_by_id(issuer, id)) {
        let id = issuer.group_id(existing);
        ensure_unique(issuer, parent.as_deref(), &existing.name, Some(&id))?;
        change(engine, issuer, |cfg| {
            for g in cfg.groups.iter_mut().filter(|g| issuer.group_id(g) == id) {
                g.parent = parent.clone();
            }
            Ok(())
        })?;
        return no_content();
    }
    let name = body
        .name
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| KcError::invalid("Group name is missing"))?;
    ensure_unique(issuer, parent.as_deref(), &name, None)?;
    ensure_room(issuer.config.groups.len(), "groups")?;
    let id = engine.ids.uuid();
    let group = GroupConfig {
        id: Some(id.clone()),
        name,
        parent,
        roles: Vec::new(),
        client_roles: BTreeMap::new(),
        attributes: body.attributes.unwrap_or_default(),
    };
    change(engine, issuer, |cfg| {
        cfg.groups.push(group);
        Ok(())
    })?;
    Ok(created(req, &id))
}

async fn create_top(
    req: HttpRequest,
    caller: Caller,
    engine: web::Data<Engine>,
    realm: web::Path<String>,
    body: web::Json<GroupBody>,
) -> Reply {
    let issuer = caller.realm(&engine, &realm, Permission::ManageUsers)?;
    create(&req, &engine, &issuer, None, body.into_inner())
}

/// The realm (with `what` allowed) and group `{id}`; 404 "Could not find group by id".
fn found(
    caller: &Caller,
    engine: &Engine,
    path: &(String, String),
    what: Permission,
) -> Result<(std::sync::Arc<Issuer>, GroupConfig), KcError> {
    let issuer = caller.realm(engine, &path.0, what)?;
    let group = group_by_id(&issuer, &path.1)
        .cloned()
        .ok_or_else(|| KcError::not_found("Could not find group by id"))?;
    Ok((issuer, group))
}

async fn create_child(
    req: HttpRequest,
    caller: Caller,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
    body: web::Json<GroupBody>,
) -> Reply {
    let (issuer, parent) = found(&caller, &engine, &path, Permission::ManageUsers)?;
    create(
        &req,
        &engine,
        &issuer,
        Some(issuer.group_id(&parent)),
        body.into_inner(),
    )
}

async fn get(
    caller: Caller,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
) -> Reply {
    let (issuer, group) = found(&caller, &engine, &path, Permission::ViewUsers)?;
    ok(repr::group(&issuer, &group, DEPTH))
}

async fn children(
    caller: Caller,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
    query: web::Query<Query>,
) -> Reply {
    let (issuer, group) = found(&caller, &engine, &path, Permission::ViewUsers)?;
    let id = issuer.group_id(&group);
    let reps: Vec<Value> = repr::children(&issuer, Some(&id))
        .into_iter()
        .map(|g| repr::group(&issuer, g, depth(query.brief_representation)))
        .collect();
    ok(json!(page(reps, query.first, query.max)))
}

/// GroupResource.updateGroup: name and attributes.
async fn update(
    caller: Caller,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
    body: web::Json<GroupBody>,
) -> Reply {
    let (issuer, group) = found(&caller, &engine, &path, Permission::ManageUsers)?;
    let id = issuer.group_id(&group);
    let body = body.into_inner();
    if let Some(name) = body.name.as_deref().filter(|n| *n != group.name) {
        ensure_unique(&issuer, group.parent.as_deref(), name, Some(&id))?;
    }
    change(&engine, &issuer, |cfg| {
        for g in cfg.groups.iter_mut().filter(|g| issuer.group_id(g) == id) {
            // The id stays when the name changes.
            g.id = Some(id.clone());
            if let Some(name) = body.name.clone().filter(|n| !n.trim().is_empty()) {
                g.name = name;
            }
            if let Some(attributes) = body.attributes.clone() {
                g.attributes = attributes;
            }
        }
        Ok(())
    })?;
    no_content()
}

/// GroupResource.deleteGroup: the group, its sub-groups and their memberships go.
async fn delete(
    caller: Caller,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
) -> Reply {
    let (issuer, group) = found(&caller, &engine, &path, Permission::ManageUsers)?;
    let root = issuer.group_id(&group);
    let doomed: Vec<String> = issuer
        .config
        .groups
        .iter()
        .map(|g| issuer.group_id(g))
        .filter(|id| {
            issuer
                .groups_with_ancestors(std::slice::from_ref(id))
                .iter()
                .any(|a| issuer.group_id(a) == root)
        })
        .collect();
    change(&engine, &issuer, |cfg| {
        cfg.groups.retain(|g| !doomed.contains(&issuer.group_id(g)));
        for u in &mut cfg.users {
            u.groups.retain(|g| !doomed.contains(g));
        }
        Ok(())
    })?;
    no_content()
}

/// GroupResource.getMembers: the users in the group (not in its sub-groups).
async fn members(
    caller: Caller,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
    query: web::Query<Query>,
) -> Reply {
    let (issuer, group) = found(&caller, &engine, &path, Permission::ViewUsers)?;
    let id = issuer.group_id(&group);
    let brief = query.brief_representation == Some(true);
    let reps: Vec<Value> = issuer
        .config
        .users
        .iter()
        .filter(|u| u.groups.contains(&id))
        .map(|u| repr::user(&issuer, u, brief))
        .collect();
    ok(json!(page(reps, query.first, query.max.or(Some(100)))))
}

/// RealmAdminResource.getGroupByPath: 404 "Group path does not exist".
async fn by_path(
    caller: Caller,
    engine: web::Data<Engine>,
    path: web::Path<(String, String)>,
) -> Reply {
    let (realm, wanted) = path.into_inner();
    let issuer = caller.realm(&engine, &realm, Permission::ViewUsers)?;
    let wanted = format!("/{}", wanted.trim_matches('/'));
    let group = issuer
        .config
        .groups
        .iter()
        .find(|g| repr::group_path(&issuer, g) == wanted)
        .ok_or_else(|| KcError::not_found("Group path does not exist"))?;
    ok(repr::group(&issuer, group, DEPTH))
}
