//! `ClientsResource` and `ClientResource`: `/admin/realms/{realm}/clients[/{id}[/...]]`, where
//! `{id}` is the client's Keycloak id (a UUID), not its `clientId`.

use crate::http::lazy_routes::Routes;
use actix_web::{HttpRequest, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::found::{ClientAt, ManageClients, QueryClients, Realm, ViewClients};
use super::repr::{self};
use super::{KcError, Reply, change, created, ensure_room, no_content, ok, page};
use crate::config::ClientConfig;
use crate::config::realm_import::client_from_representation;
use crate::engine::{Engine, Issuer};

pub fn routes(cfg: &mut Routes) {
    cfg.route("/{realm}/clients", web::get().to(list))
        .route("/{realm}/clients", web::post().to(create))
        .route("/{realm}/clients/{id}", web::get().to(get))
        .route("/{realm}/clients/{id}", web::put().to(update))
        .route("/{realm}/clients/{id}", web::delete().to(delete))
        .route("/{realm}/clients/{id}/client-secret", web::get().to(secret))
        .route(
            "/{realm}/clients/{id}/client-secret",
            web::post().to(regenerate),
        )
        .route(
            "/{realm}/clients/{id}/service-account-user",
            web::get().to(service_account),
        );
}

/// ClientsResource.getClients' query parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Query {
    client_id: Option<String>,
    #[serde(default, deserialize_with = "super::jaxrs_bool")]
    search: Option<bool>,
    first: Option<i64>,
    max: Option<i64>,
}

async fn list(realm: Realm<QueryClients>, query: web::Query<Query>) -> Reply {
    let Realm { issuer, .. } = realm;
    let wanted = |c: &&ClientConfig| match &query.client_id {
        None => true,
        Some(id) if query.search == Some(true) => c.id.to_lowercase().contains(&id.to_lowercase()),
        Some(id) => c.id == *id,
    };
    let mut found: Vec<&ClientConfig> = issuer.config.clients.iter().filter(wanted).collect();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    let reps: Vec<Value> = found
        .into_iter()
        .map(|c| repr::client(&issuer, c))
        .collect();
    ok(json!(page(reps, query.first, query.max)))
}

/// A client secret as Keycloak generates them (32 characters).
fn new_secret(engine: &Engine) -> String {
    engine.ids.alnum(32)
}

/// The representation as a client; a confidential client without a secret gets a new one.
fn parse(engine: &Engine, mut body: Map<String, Value>) -> Result<ClientConfig, KcError> {
    let public = body.get("publicClient").and_then(Value::as_bool) == Some(true);
    if !public
        && body
            .get("secret")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        body.insert("secret".into(), json!(new_secret(engine)));
    }
    client_from_representation(&body).map_err(|e| KcError::invalid(&e))
}

/// 409 "Client {clientId} already exists" when another client has that id.
fn ensure_unique(
    issuer: &Issuer,
    client: &ClientConfig,
    except: Option<&str>,
) -> Result<(), KcError> {
    let taken = issuer.config.clients.iter().any(|c| {
        except.is_none_or(|old| c.id != old)
            && (c.id == client.id || c.aliases.contains(&client.id))
    });
    if taken {
        return Err(KcError::conflict(&format!(
            "Client {} already exists",
            client.id
        )));
    }
    Ok(())
}

/// ClientsResource.createClient: 201 with `Location: …/clients/{uuid}`.
async fn create(
    realm: Realm<ManageClients>,
    req: HttpRequest,
    body: web::Json<Map<String, Value>>,
) -> Reply {
    let Realm { engine, issuer, .. } = realm;
    ensure_room(issuer.config.clients.len(), "clients")?;
    let client = parse(&engine, body.into_inner())?;
    ensure_unique(&issuer, &client, None)?;
    let uuid = repr::client_uuid(&issuer, &client);
    change(&engine, &issuer, |cfg| {
        cfg.clients.push(client);
        Ok(())
    })?;
    Ok(created(&req, &uuid))
}

/// Replaces client `old_id` with `client`.
fn replace(
    engine: &Engine,
    issuer: &Issuer,
    old_id: &str,
    client: ClientConfig,
) -> Result<(), KcError> {
    change(engine, issuer, |cfg| {
        match cfg.clients.iter_mut().find(|c| c.id == old_id) {
            Some(slot) => *slot = client,
            None => return Err(KcError::not_found("Could not find client")),
        }
        Ok(())
    })
}

async fn get(found: ClientAt<ViewClients>) -> Reply {
    ok(repr::client(found.issuer(), &found.entry))
}

/// ClientResource.update: the fields given replace the stored ones; what the representation
/// cannot say (roles, claims, keys, aliases) stays.
async fn update(found: ClientAt<ManageClients>, body: web::Json<Map<String, Value>>) -> Reply {
    let mut merged = match repr::client(found.issuer(), &found.entry) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    merged.extend(body.into_inner());
    let mut client = parse(found.engine(), merged)?;
    ensure_unique(found.issuer(), &client, Some(&found.entry.id))?;
    client.roles = found.entry.roles.clone();
    client.client_roles = found.entry.client_roles.clone();
    client.claims = found.entry.claims.clone();
    client.aliases = found.entry.aliases.clone();
    client.access_token_ttl = found.entry.access_token_ttl;
    if client.token_endpoint_auth_method.is_none() {
        client.token_endpoint_auth_method = found.entry.token_endpoint_auth_method;
        client.jwks = found.entry.jwks.clone();
    }
    replace(found.engine(), found.issuer(), &found.entry.id, client)?;
    no_content()
}

/// ClientResource.deleteClient: its tokens stop introspecting as active.
async fn delete(found: ClientAt<ManageClients>) -> Reply {
    change(found.engine(), found.issuer(), |cfg| {
        cfg.clients.retain(|c| c.id != found.entry.id);
        Ok(())
    })?;
    no_content()
}

/// `CredentialRepresentation` of a client secret.
fn secret_rep(client: &ClientConfig) -> Value {
    json!({"type": "secret", "value": client.secret})
}

async fn secret(found: ClientAt<ViewClients>) -> Reply {
    ok(secret_rep(&found.entry))
}

/// ClientResource.regenerateSecret: the new secret replaces the old one at once.
async fn regenerate(found: ClientAt<ManageClients>) -> Reply {
    let mut client = found.entry.clone();
    if client.is_public() {
        return Err(KcError::invalid("Client is public and has no secret"));
    }
    client.secret = Some(new_secret(found.engine()));
    let rep = secret_rep(&client);
    replace(found.engine(), found.issuer(), &client.id.clone(), client)?;
    tracing::info!(
        realm = found.issuer().name(),
        "client secret regenerated (admin REST API)"
    );
    ok(rep)
}

/// ClientResource.getServiceAccountUser: 400 when the client has no service account.
async fn service_account(found: ClientAt<ViewClients>) -> Reply {
    if !found.entry.allows_grant("client_credentials") {
        return Err(KcError::error(
            actix_web::http::StatusCode::BAD_REQUEST,
            &format!(
                "Service account not enabled for the client '{}'",
                found.entry.id
            ),
        ));
    }
    ok(repr::service_account_user(found.issuer(), &found.entry))
}
