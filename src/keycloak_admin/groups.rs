//! `GroupsResource` and `GroupResource`: `/admin/realms/{realm}/groups[/{id}[/...]]` and
//! `group-by-path`. Groups are governed by the user roles (GroupPermissions: `view-users`,
//! `manage-users`, `query-groups`).

use crate::http::lazy_routes::Routes;
use std::collections::BTreeMap;

use actix_web::{HttpRequest, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::found::{GroupAt, ManageUsers, QueryGroups, Realm, ViewUsers};
use super::repr::{self, group_by_id};
use super::{KcError, ListQuery, Reply, change, created, ensure_room, no_content, ok, page};
use crate::config::GroupConfig;
use crate::engine::{Engine, Issuer};

/// How deep `subGroups` go in a full representation.
const DEPTH: usize = 32;

pub fn routes(cfg: &mut Routes) {
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

async fn list(realm: Realm<QueryGroups>, query: web::Query<ListQuery>) -> Reply {
    let Realm { issuer, .. } = realm;
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

async fn count(realm: Realm<QueryGroups>, query: web::Query<ListQuery>) -> Reply {
    let Realm { issuer, .. } = realm;
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
    realm: Realm<ManageUsers>,
    req: HttpRequest,
    body: web::Json<GroupBody>,
) -> Reply {
    let Realm { engine, issuer, .. } = realm;
    create(&req, &engine, &issuer, None, body.into_inner())
}

async fn create_child(
    found: GroupAt<ManageUsers>,
    req: HttpRequest,
    body: web::Json<GroupBody>,
) -> Reply {
    create(
        &req,
        found.engine(),
        found.issuer(),
        Some(found.issuer().group_id(&found.entry)),
        body.into_inner(),
    )
}

async fn get(found: GroupAt<ViewUsers>) -> Reply {
    ok(repr::group(found.issuer(), &found.entry, DEPTH))
}

async fn children(found: GroupAt<ViewUsers>, query: web::Query<ListQuery>) -> Reply {
    let id = found.issuer().group_id(&found.entry);
    let reps: Vec<Value> = repr::children(found.issuer(), Some(&id))
        .into_iter()
        .map(|g| repr::group(found.issuer(), g, depth(query.brief_representation)))
        .collect();
    ok(json!(page(reps, query.first, query.max)))
}

/// GroupResource.updateGroup: name and attributes.
async fn update(found: GroupAt<ManageUsers>, body: web::Json<GroupBody>) -> Reply {
    let id = found.issuer().group_id(&found.entry);
    let body = body.into_inner();
    if let Some(name) = body.name.as_deref().filter(|n| *n != found.entry.name) {
        ensure_unique(
            found.issuer(),
            found.entry.parent.as_deref(),
            name,
            Some(&id),
        )?;
    }
    change(found.engine(), found.issuer(), |cfg| {
        for g in cfg
            .groups
            .iter_mut()
            .filter(|g| found.issuer().group_id(g) == id)
        {
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
async fn delete(found: GroupAt<ManageUsers>) -> Reply {
    let root = found.issuer().group_id(&found.entry);
    let doomed: Vec<String> = found
        .issuer()
        .config
        .groups
        .iter()
        .map(|g| found.issuer().group_id(g))
        .filter(|id| {
            found
                .issuer()
                .groups_with_ancestors(std::slice::from_ref(id))
                .iter()
                .any(|a| found.issuer().group_id(a) == root)
        })
        .collect();
    change(found.engine(), found.issuer(), |cfg| {
        cfg.groups
            .retain(|g| !doomed.contains(&found.issuer().group_id(g)));
        for u in &mut cfg.users {
            u.groups.retain(|g| !doomed.contains(g));
        }
        Ok(())
    })?;
    no_content()
}

/// GroupResource.getMembers: the users in the group (not in its sub-groups).
async fn members(found: GroupAt<ViewUsers>, query: web::Query<ListQuery>) -> Reply {
    let id = found.issuer().group_id(&found.entry);
    let brief = query.brief_representation == Some(true);
    let reps: Vec<Value> = found
        .issuer()
        .config
        .users
        .iter()
        .filter(|u| u.groups.contains(&id))
        .map(|u| repr::user(found.issuer(), u, brief))
        .collect();
    ok(json!(page(reps, query.first, query.max.or(Some(100)))))
}

/// RealmAdminResource.getGroupByPath: 404 "Group path does not exist".
async fn by_path(realm: Realm<ViewUsers>, path: web::Path<(String, String)>) -> Reply {
    let issuer = realm.issuer;
    let wanted = format!("/{}", path.1.trim_matches('/'));
    let group = issuer
        .config
        .groups
        .iter()
        .find(|g| repr::group_path(&issuer, g) == wanted)
        .ok_or_else(|| KcError::not_found("Group path does not exist"))?;
    ok(repr::group(&issuer, group, DEPTH))
}
