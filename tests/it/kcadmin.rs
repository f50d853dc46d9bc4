//! Keycloak's admin REST API over HTTP: the master realm's admin, realm-management roles,
//! every refusal in Keycloak's words, and changes that are live at once for the OIDC side.

use mockidp::MockIdp;
use serde_json::{Value, json};

use crate::util::*;

/// A master admin token (`admin-cli`, password grant), as `KeycloakAdmin` gets one.
async fn master_token(base: &str) -> String {
    let (status, body) = status_json(
        post_form(
            &format!("{base}/realms/master/protocol/openid-connect/token"),
            &[
                ("grant_type", "password"),
                ("client_id", "admin-cli"),
                ("username", "admin"),
                ("password", "admin"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

/// A client-credentials token of an iopole client.
async fn iopole_token(base: &str, id: &str, secret: &str) -> String {
    let (status, body) = cc_basic(
        &format!("{base}/realms/iopole/protocol/openid-connect/token"),
        id,
        secret,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

/// Sends `method path` with the bearer token and JSON body: status, `Location`, JSON.
async fn call(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, String, Value) {
    let mut req = http().request(method.parse().unwrap(), url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let loc = resp
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    let (status, json) = status_json(resp).await;
    (status, loc, json)
}

/// The password grant of `iopole-web` for `username`.
async fn password_login(base: &str, username: &str, password: &str) -> (u16, Value) {
    let resp = http()
        .post(format!(
            "{base}/realms/iopole/protocol/openid-connect/token"
        ))
        .basic_auth("iopole-web", Some("iopole-web-secret"))
        .form(&[
            ("grant_type", "password"),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    status_json(resp).await
}

fn realm_roles(access_token: &str) -> Vec<String> {
    let (_, claims) = mockidp_claims(access_token);
    claims["realm_access"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

/// The claims of a JWT, unverified (the signature is checked elsewhere).
fn mockidp_claims(token: &str) -> (Value, Value) {
    use base64::Engine as _;
    let part = |i: usize| -> Value {
        let seg = token.split('.').nth(i).unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(seg)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    (part(0), part(1))
}

#[tokio::test]
async fn a_created_user_logs_in_with_the_roles_assigned_and_is_refused_once_disabled() {
    let idp = start().await;
    let base = idp.url();
    let admin = master_token(&base).await;
    let users = format!("{base}/admin/realms/iopole/users");
    let (status, loc, _) = call(
        "POST",
        &users,
        Some(&admin),
        Some(json!({"username": "Dave", "enabled": true, "email": "dave@example.test",
                    "firstName": "Dave", "credentials": [{"type": "password", "value": "pw", "temporary": false}]})),
    )
    .await;
    assert_eq!(status, 201);
    assert!(loc.starts_with(&format!("{users}/")), "{loc}");
    let id = loc.rsplit('/').next().unwrap().to_string();
    let (status, _, body) = call(
        "POST",
        &users,
        Some(&admin),
        Some(json!({"username": "dave"})),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            409,
            json!({"errorMessage": "User exists with same username"})
        )
    );
    let (status, _, _) = call(
        "POST",
        &format!("{base}/admin/realms/iopole/roles"),
        Some(&admin),
        Some(json!({"name": "auditor"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _, _) = call(
        "POST",
        &format!("{users}/{id}/role-mappings/realm"),
        Some(&admin),
        Some(json!([{"name": "auditor"}])),
    )
    .await;
    assert_eq!(status, 204);
    let (status, tokens) = password_login(&base, "dave", "pw").await;
    assert_eq!(status, 200, "{tokens}");
    let at = tokens["access_token"].as_str().unwrap();
    assert!(realm_roles(at).contains(&"auditor".to_string()));
    assert_eq!(mockidp_claims(at).1["sub"], id.as_str());
    let (status, _) = password_login(&base, "dave", "wrong").await;
    assert_eq!(status, 401);
    let (status, _, _) = call(
        "PUT",
        &format!("{users}/{id}"),
        Some(&admin),
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, 204);
    let (status, body) = password_login(&base, "dave", "pw").await;
    assert_eq!(
        (status, body["error_description"].clone()),
        (400, json!("Account disabled"))
    );
    let (status, _, _) = call("DELETE", &format!("{users}/{id}"), Some(&admin), None).await;
    assert_eq!(status, 204);
    let (status, _, body) = call("GET", &format!("{users}/{id}"), Some(&admin), None).await;
    assert_eq!((status, body), (404, json!({"error": "User not found"})));
}

#[tokio::test]
async fn missing_bad_and_underprivileged_tokens_get_401_and_403() {
    let idp = start().await;
    let base = idp.url();
    let users = format!("{base}/admin/realms/iopole/users");
    let unauthorized = json!({"error": "HTTP 401 Unauthorized"});
    let (status, _, body) = call("GET", &users, None, None).await;
    assert_eq!((status, body), (401, unauthorized.clone()));
    let (status, _, body) = call("GET", &users, Some("not-a-token"), None).await;
    assert_eq!((status, body), (401, unauthorized.clone()));
    // A token whose signature is broken.
    let admin = master_token(&base).await;
    let forged = format!("{}x", &admin[..admin.len() - 1]);
    let (status, _, _) = call("GET", &users, Some(&forged), None).await;
    assert_eq!(status, 401);
    // Valid, but iopole-admin holds no realm-management role.
    let plain = iopole_token(&base, "iopole-admin", "iopole-admin-secret").await;
    let (status, _, body) = call("GET", &users, Some(&plain), None).await;
    assert_eq!(
        (status, body),
        (403, json!({"error": "HTTP 403 Forbidden"}))
    );
    // The provisioner's realm-management roles work in its own realm only.
    let sa = iopole_token(&base, "iopole-provisioner", "iopole-provisioner-secret").await;
    let (status, _, body) = call(
        "GET",
        &format!("{users}?username=alice&exact=true"),
        Some(&sa),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body.as_array().unwrap().len(), 1);
    let (status, _, _) = call(
        "GET",
        &format!("{base}/admin/realms/master/users"),
        Some(&sa),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, _) = call(
        "POST",
        &format!("{base}/admin/realms"),
        Some(&sa),
        Some(json!({"realm": "x"})),
    )
    .await;
    assert_eq!(status, 403);
    // view-users alone may read, not write.
    let idp2 = start_with(&VIEWER_FIXTURE.replace("ROLES", "\"view-users\"")).await;
    let viewer = iopole_token(&idp2.url(), "viewer", "viewer-secret").await;
    let users2 = format!("{}/admin/realms/iopole/users", idp2.url());
    assert_eq!(call("GET", &users2, Some(&viewer), None).await.0, 200);
    let (status, _, _) = call(
        "POST",
        &users2,
        Some(&viewer),
        Some(json!({"username": "x"})),
    )
    .await;
    assert_eq!(status, 403);
    // manage-users implies view-users and query-users.
    let idp3 = start_with(&VIEWER_FIXTURE.replace("ROLES", "\"manage-users\"")).await;
    let manager = iopole_token(&idp3.url(), "viewer", "viewer-secret").await;
    let users3 = format!("{}/admin/realms/iopole/users", idp3.url());
    assert_eq!(call("GET", &users3, Some(&manager), None).await.0, 200);
    assert_eq!(
        call(
            "POST",
            &users3,
            Some(&manager),
            Some(json!({"username": "x"}))
        )
        .await
        .0,
        201
    );
    let clients3 = format!("{}/admin/realms/iopole/clients", idp3.url());
    assert_eq!(call("GET", &clients3, Some(&manager), None).await.0, 403);
}

const VIEWER_FIXTURE: &str = r#"
[[issuer]]
name = "iopole"
dialect = "keycloak"

[[issuer.client]]
id = "viewer"
secret = "viewer-secret"
grants = ["client_credentials"]
client_roles = { realm-management = [ROLES] }
"#;

#[tokio::test]
async fn bad_bodies_and_unknown_ids_get_keycloaks_answers() {
    let idp = start().await;
    let base = idp.url();
    let admin = master_token(&base).await;
    let realm = format!("{base}/admin/realms/iopole");
    let resp = http()
        .post(format!("{realm}/users"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "unknown_error");
    assert!(
        body["error_description"].as_str().unwrap().contains("JSON"),
        "{body}"
    );
    let (status, _, body) = call(
        "POST",
        &format!("{realm}/users"),
        Some(&admin),
        Some(json!({"email": "x@y"})),
    )
    .await;
    assert_eq!(
        (status, body),
        (400, json!({"errorMessage": "User name is missing"}))
    );
    let (status, _, body) = call(
        "POST",
        &format!("{realm}/users"),
        Some(&admin),
        Some(json!({"username": "x", "enabled": "yes"})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let (status, _, body) = call(
        "GET",
        &format!("{base}/admin/realms/nowhere/users"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!((status, body), (404, json!({"error": "Realm not found."})));
    let (status, _, body) = call("GET", &format!("{realm}/clients/nope"), Some(&admin), None).await;
    assert_eq!(
        (status, body),
        (404, json!({"error": "Could not find client"}))
    );
    let (status, _, body) = call("GET", &format!("{realm}/groups/nope"), Some(&admin), None).await;
    assert_eq!(
        (status, body),
        (404, json!({"error": "Could not find group by id"}))
    );
    let (status, _, body) = call("GET", &format!("{realm}/roles/nope"), Some(&admin), None).await;
    assert_eq!(
        (status, body),
        (404, json!({"error": "Could not find role"}))
    );
    let (status, _, body) = call(
        "GET",
        &format!("{realm}/no-such-resource"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        (status, body),
        (404, json!({"error": "HTTP 404 Not Found"}))
    );
    let alice = find_user(&base, &admin, "alice").await;
    let (status, _, body) = call(
        "PUT",
        &format!("{realm}/users/{alice}/reset-password"),
        Some(&admin),
        Some(json!({"type": "password"})),
    )
    .await;
    assert_eq!(
        (status, body),
        (400, json!({"error": "No password provided"}))
    );
    let (status, _, body) = call(
        "POST",
        &format!("{realm}/users/{alice}/role-mappings/realm"),
        Some(&admin),
        Some(json!([{"name": "ghost"}])),
    )
    .await;
    assert_eq!((status, body), (404, json!({"error": "Role not found"})));
    let (status, _, body) = call(
        "PUT",
        &format!("{realm}/users/{alice}/groups/nope"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!((status, body), (404, json!({"error": "Group not found"})));
    let (status, _, body) = call(
        "POST",
        &format!("{realm}/clients"),
        Some(&admin),
        Some(json!({"clientId": "clientId"})),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            409,
            json!({"errorMessage": "Client clientId already exists"})
        )
    );
    let (status, _, body) = call(
        "POST",
        &format!("{realm}/roles"),
        Some(&admin),
        Some(json!({"name": "admin"})),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            409,
            json!({"errorMessage": "Role with name admin already exists"})
        )
    );
    let (status, _, _) = call(
        "POST",
        &format!("{realm}/groups"),
        Some(&admin),
        Some(json!({"name": "staff"})),
    )
    .await;
    assert_eq!(status, 201);
    let (status, _, body) = call(
        "POST",
        &format!("{realm}/groups"),
        Some(&admin),
        Some(json!({"name": "staff"})),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            409,
            json!({"errorMessage": "Top level group named 'staff' already exists."})
        )
    );
}

/// The id of user `username` in iopole, by an exact search.
async fn find_user(base: &str, token: &str, username: &str) -> String {
    let url = format!("{base}/admin/realms/iopole/users?username={username}&exact=true");
    let (status, _, body) = call("GET", &url, Some(token), None).await;
    assert_eq!(status, 200, "{body}");
    body[0]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn groups_give_their_roles_and_search_pages_and_counts() {
    let idp = start().await;
    let base = idp.url();
    let admin = master_token(&base).await;
    let realm = format!("{base}/admin/realms/iopole");
    let (_, loc, _) = call(
        "POST",
        &format!("{realm}/groups"),
        Some(&admin),
        Some(json!({"name": "finance"})),
    )
    .await;
    let parent = loc.rsplit('/').next().unwrap().to_string();
    let (status, loc, _) = call(
        "POST",
        &format!("{realm}/groups/{parent}/children"),
        Some(&admin),
        Some(json!({"name": "payroll"})),
    )
    .await;
    assert_eq!(status, 201);
    let child = loc.rsplit('/').next().unwrap().to_string();
    call(
        "POST",
        &format!("{realm}/roles"),
        Some(&admin),
        Some(json!({"name": "ledger"})),
    )
    .await;
    let (status, _, _) = call(
        "POST",
        &format!("{realm}/groups/{parent}/role-mappings/realm"),
        Some(&admin),
        Some(json!([{"name": "ledger"}])),
    )
    .await;
    assert_eq!(status, 204);
    let bob = find_user(&base, &admin, "bob").await;
    assert_eq!(
        call(
            "PUT",
            &format!("{realm}/users/{bob}/groups/{child}"),
            Some(&admin),
            None
        )
        .await
        .0,
        204
    );
    let (_, _, groups) = call(
        "GET",
        &format!("{realm}/users/{bob}/groups"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(groups[0]["path"], "/finance/payroll");
    let (_, _, members) = call(
        "GET",
        &format!("{realm}/groups/{child}/members"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(members[0]["username"], "bob");
    let (_, _, effective) = call(
        "GET",
        &format!("{realm}/users/{bob}/role-mappings/realm/composite"),
        Some(&admin),
        None,
    )
    .await;
    assert!(
        effective
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "ledger"),
        "{effective}"
    );
    let (_, _, direct) = call(
        "GET",
        &format!("{realm}/users/{bob}/role-mappings/realm"),
        Some(&admin),
        None,
    )
    .await;
    assert!(
        !direct
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "ledger")
    );
    let (_, tokens) = password_login(&base, "bob", "any").await;
    assert!(realm_roles(tokens["access_token"].as_str().unwrap()).contains(&"ledger".to_string()));
    // Leaving the group takes the role away from the next token.
    assert_eq!(
        call(
            "DELETE",
            &format!("{realm}/users/{bob}/groups/{child}"),
            Some(&admin),
            None
        )
        .await
        .0,
        204
    );
    let (_, tokens) = password_login(&base, "bob", "any").await;
    assert!(!realm_roles(tokens["access_token"].as_str().unwrap()).contains(&"ledger".to_string()));
    // Search, paging and count.
    let (_, _, found) = call(
        "GET",
        &format!("{realm}/users?search=*example.test&first=1&max=1"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(found[0]["username"], "bob");
    let (_, _, count) = call(
        "GET",
        &format!("{realm}/users/count?search=*example.test"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(count, json!(3));
    let (_, _, none) = call(
        "GET",
        &format!("{realm}/users?firstName=nobody"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(none, json!([]));
}

#[tokio::test]
async fn clients_secrets_and_deletion_are_live_for_the_token_endpoint() {
    let idp = start().await;
    let base = idp.url();
    let admin = master_token(&base).await;
    let realm = format!("{base}/admin/realms/iopole");
    let token_url = format!("{base}/realms/iopole/protocol/openid-connect/token");
    let (status, loc, _) = call("POST", &format!("{realm}/clients"), Some(&admin),
        Some(json!({"clientId": "billing", "serviceAccountsEnabled": true, "standardFlowEnabled": false}))).await;
    assert_eq!(status, 201);
    let uuid = loc.rsplit('/').next().unwrap().to_string();
    let (_, _, found) = call(
        "GET",
        &format!("{realm}/clients?clientId=billing"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(found[0]["id"], uuid.as_str());
    let (_, _, secret) = call(
        "GET",
        &format!("{realm}/clients/{uuid}/client-secret"),
        Some(&admin),
        None,
    )
    .await;
    let old = secret["value"].as_str().unwrap().to_string();
    let (status, token) = cc_basic(&token_url, "billing", &old).await;
    assert_eq!(status, 200);
    let (status, _, fresh) = call(
        "POST",
        &format!("{realm}/clients/{uuid}/client-secret"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let new = fresh["value"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert_eq!(cc_basic(&token_url, "billing", &old).await.0, 401);
    assert_eq!(cc_basic(&token_url, "billing", &new).await.0, 200);
    let (_, _, sa) = call(
        "GET",
        &format!("{realm}/clients/{uuid}/service-account-user"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(sa["username"], "service-account-billing");
    assert_eq!(
        sa["id"],
        mockidp_claims(token["access_token"].as_str().unwrap()).1["sub"]
    );
    let at = token["access_token"].as_str().unwrap().to_string();
    assert_eq!(introspect(&token_url, &at).await, json!(true));
    assert_eq!(
        call(
            "DELETE",
            &format!("{realm}/clients/{uuid}"),
            Some(&admin),
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(introspect(&token_url, &at).await, json!(false));
    assert_eq!(cc_basic(&token_url, "billing", &new).await.0, 401);
}

#[tokio::test]
async fn realms_created_through_the_api_are_issuers_and_reset_forgets_them() {
    let idp = start().await;
    let base = idp.url();
    let admin = master_token(&base).await;
    let (status, loc, _) = call("POST", &format!("{base}/admin/realms"), Some(&admin),
        Some(json!({"realm": "shop", "enabled": true, "accessTokenLifespan": 120,
                    "users": [{"username": "eve", "enabled": true, "credentials": [{"type": "password", "value": "eve"}]}]}))).await;
    assert_eq!(status, 201);
    assert_eq!(loc, format!("{base}/admin/realms/shop"));
    let (status, _, body) = call(
        "POST",
        &format!("{base}/admin/realms"),
        Some(&admin),
        Some(json!({"realm": "shop"})),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            409,
            json!({"errorMessage": "Conflict detected. See logs for details"})
        )
    );
    let discovery = get_json(&format!(
        "{base}/realms/shop/.well-known/openid-configuration"
    ))
    .await;
    assert_eq!(discovery["issuer"], format!("{base}/realms/shop"));
    let (_, _, rep) = call(
        "GET",
        &format!("{base}/auth/admin/realms/shop"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(rep["accessTokenLifespan"], 120);
    assert_eq!(
        call(
            "PUT",
            &format!("{base}/admin/realms/shop"),
            Some(&admin),
            Some(json!({"accessTokenLifespan": 60}))
        )
        .await
        .0,
        204
    );
    let (_, _, rep) = call(
        "GET",
        &format!("{base}/admin/realms/shop"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(rep["accessTokenLifespan"], 60);
    let (_, _, realms) = call("GET", &format!("{base}/admin/realms"), Some(&admin), None).await;
    assert!(
        realms
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["realm"] == "shop")
    );
    // A user created in iopole and the realm both go with a reset.
    call(
        "POST",
        &format!("{base}/admin/realms/iopole/users"),
        Some(&admin),
        Some(json!({"username": "temp", "enabled": true})),
    )
    .await;
    let resp = http()
        .post(format!("{base}/_mockidp/reset"))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    assert_eq!(
        call(
            "GET",
            &format!("{base}/admin/realms/shop"),
            Some(&admin),
            None
        )
        .await
        .0,
        404
    );
    let (_, _, count) = call(
        "GET",
        &format!("{base}/admin/realms/iopole/users/count?username=temp"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(count, json!(0));
    // Delete: master admins only, and never the master realm.
    call(
        "POST",
        &format!("{base}/admin/realms"),
        Some(&admin),
        Some(json!({"realm": "gone"})),
    )
    .await;
    assert_eq!(
        call(
            "DELETE",
            &format!("{base}/admin/realms/gone"),
            Some(&admin),
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(
        http()
            .get(format!(
                "{base}/realms/gone/.well-known/openid-configuration"
            ))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        call(
            "DELETE",
            &format!("{base}/admin/realms/master"),
            Some(&admin),
            None
        )
        .await
        .0,
        400
    );
}

#[tokio::test]
async fn e_mails_are_recorded_in_the_journal_not_sent() {
    let idp = start().await;
    let base = idp.url();
    let admin = master_token(&base).await;
    let alice = find_user(&base, &admin, "alice").await;
    let url =
        format!("{base}/admin/realms/iopole/users/{alice}/execute-actions-email?lifespan=600");
    assert_eq!(
        call("PUT", &url, Some(&admin), Some(json!(["UPDATE_PASSWORD"])))
            .await
            .0,
        204
    );
    let (status, _, body) = call("PUT", &url, Some(&admin), Some(json!(["FLY"]))).await;
    assert_eq!(
        (status, body),
        (
            400,
            json!({"errorMessage": "Provided invalid required actions: [FLY]"})
        )
    );
    let verify = format!("{base}/admin/realms/iopole/users/{alice}/send-verify-email");
    assert_eq!(call("PUT", &verify, Some(&admin), None).await.0, 204);
    let journal = get_json(&format!("{base}/_mockidp/journal")).await;
    let kinds: Vec<&str> = journal
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"] == "email_not_sent")
        .map(|e| e["endpoint"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["execute-actions-email", "send-verify-email"]);
    // carol has no e-mail problem but is disabled.
    let carol = find_user(&base, &admin, "carol").await;
    let (status, _, body) = call(
        "PUT",
        &format!("{base}/admin/realms/iopole/users/{carol}/send-verify-email"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        (status, body),
        (400, json!({"errorMessage": "User is disabled"}))
    );
}

#[tokio::test]
async fn the_browser_login_page_takes_a_user_created_through_the_api() {
    let idp = start().await;
    let base = idp.url();
    let admin = master_token(&base).await;
    let (status, _, _) = call("POST", &format!("{base}/admin/realms/iopole/users"), Some(&admin),
        Some(json!({"username": "frank", "enabled": true, "credentials": [{"type": "password", "value": "frank-pw"}]}))).await;
    assert_eq!(status, 201);
    let redirect = "http://localhost:8080/cb";
    let auth = format!(
        "{base}/realms/iopole/protocol/openid-connect/auth?response_type=code&client_id=iopole-web&redirect_uri={}&scope=openid&state=s",
        urlencode(redirect)
    );
    let mut browser = Browserless::new();
    let back = browser.authorize(&auth, "frank", "frank-pw").await;
    let code = query_params(&back)["code"].clone();
    let (status, tokens) =
        redeem_iopole_web(&format!("{base}/realms/iopole"), &code, redirect).await;
    assert_eq!(status, 200, "{tokens}");
    let claims = mockidp_claims(tokens["access_token"].as_str().unwrap()).1;
    assert_eq!(claims["preferred_username"], "frank");
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// `active` of `token` at iopole's introspection endpoint (as `iopole-web`).
async fn introspect(token_url: &str, token: &str) -> Value {
    let resp = http()
        .post(format!("{token_url}/introspect"))
        .basic_auth("iopole-web", Some("iopole-web-secret"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    status_json(resp).await.1["active"].clone()
}

#[tokio::test]
async fn sessions_are_listed_and_logout_ends_them() {
    let idp = start().await;
    let base = idp.url();
    let admin = master_token(&base).await;
    let alice = find_user(&base, &admin, "alice").await;
    let (status, tokens) = password_login(&base, "alice", "alice").await;
    assert_eq!(status, 200);
    let sessions = format!("{base}/admin/realms/iopole/users/{alice}/sessions");
    let (_, _, list) = call("GET", &sessions, Some(&admin), None).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["userId"], alice.as_str());
    let logout = format!("{base}/admin/realms/iopole/users/{alice}/logout");
    assert_eq!(call("POST", &logout, Some(&admin), None).await.0, 204);
    assert_eq!(
        call("GET", &sessions, Some(&admin), None).await.2,
        json!([])
    );
    let token_url = format!("{base}/realms/iopole/protocol/openid-connect/token");
    assert_eq!(
        introspect(&token_url, tokens["access_token"].as_str().unwrap()).await,
        json!(false)
    );
}

#[tokio::test]
async fn roles_rename_and_delete_follow_their_holders() {
    let idp = start().await;
    let base = idp.url();
    let admin = master_token(&base).await;
    let roles = format!("{base}/admin/realms/iopole/roles");
    let (_, _, in_role) = call("GET", &format!("{roles}/admin/users"), Some(&admin), None).await;
    assert_eq!(in_role[0]["username"], "alice");
    let (_, _, listed) = call("GET", &roles, Some(&admin), None).await;
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"default-roles-iopole") && names.contains(&"user"),
        "{names:?}"
    );
    let (status, _, _) = call(
        "PUT",
        &format!("{roles}/admin"),
        Some(&admin),
        Some(json!({"name": "boss", "description": "was admin"})),
    )
    .await;
    assert_eq!(status, 204);
    let (_, _, boss) = call("GET", &format!("{roles}/boss"), Some(&admin), None).await;
    assert_eq!(boss["description"], "was admin");
    let (_, tokens) = password_login(&base, "alice", "alice").await;
    let held = realm_roles(tokens["access_token"].as_str().unwrap());
    assert!(
        held.contains(&"boss".to_string()) && !held.contains(&"admin".to_string()),
        "{held:?}"
    );
    assert_eq!(
        call("DELETE", &format!("{roles}/boss"), Some(&admin), None)
            .await
            .0,
        204
    );
    assert_eq!(
        call("GET", &format!("{roles}/boss"), Some(&admin), None)
            .await
            .0,
        404
    );
    let (_, tokens) = password_login(&base, "alice", "alice").await;
    assert!(!realm_roles(tokens["access_token"].as_str().unwrap()).contains(&"boss".to_string()));
}

#[tokio::test]
async fn groups_are_renamed_found_by_path_and_deleted_with_their_children() {
    let idp = start().await;
    let base = idp.url();
    let admin = master_token(&base).await;
    let realm = format!("{base}/admin/realms/iopole");
    let (_, loc, _) = call(
        "POST",
        &format!("{realm}/groups"),
        Some(&admin),
        Some(json!({"name": "ops"})),
    )
    .await;
    let top = loc.rsplit('/').next().unwrap().to_string();
    let (_, loc, _) = call(
        "POST",
        &format!("{realm}/groups/{top}/children"),
        Some(&admin),
        Some(json!({"name": "night"})),
    )
    .await;
    let child = loc.rsplit('/').next().unwrap().to_string();
    let (status, _, body) = call(
        "POST",
        &format!("{realm}/groups/{top}/children"),
        Some(&admin),
        Some(json!({"name": "night"})),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            409,
            json!({"errorMessage": "Sibling group named 'night' already exists."})
        )
    );
    assert_eq!(
        call(
            "PUT",
            &format!("{realm}/groups/{top}"),
            Some(&admin),
            Some(json!({"name": "sre"}))
        )
        .await
        .0,
        204
    );
    let (_, _, found) = call(
        "GET",
        &format!("{realm}/group-by-path/sre/night"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(found["id"], child.as_str());
    let (_, _, listed) = call("GET", &format!("{realm}/groups"), Some(&admin), None).await;
    assert_eq!(listed[0]["subGroups"][0]["path"], "/sre/night");
    assert_eq!(
        call("GET", &format!("{realm}/groups/count"), Some(&admin), None)
            .await
            .2,
        json!({"count": 2})
    );
    assert_eq!(
        call(
            "DELETE",
            &format!("{realm}/groups/{top}"),
            Some(&admin),
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(
        call(
            "GET",
            &format!("{realm}/groups/{child}"),
            Some(&admin),
            None
        )
        .await
        .0,
        404
    );
}

#[tokio::test]
async fn the_bootstrap_admin_replaces_admin_admin() {
    let mut config = mockidp::Config::default_fixtures().unwrap();
    config.set_master_admin(Some("root"), Some("r00t")).unwrap();
    assert_eq!(config.master_admin(), Some("root"));
    let server = mockidp::Server::new(config.clone()).unwrap();
    let banner = server.banner("http://127.0.0.1:1");
    assert!(
        banner.contains("http://127.0.0.1:1/admin/realms  (master admin \"root\""),
        "{banner}"
    );
    assert!(!banner.contains("r00t"), "no password in the banner");
    let idp = mockidp::MockIdp::builder()
        .config(config)
        .start()
        .await
        .unwrap();
    let token_url = format!("{}/realms/master/protocol/openid-connect/token", idp.url());
    let login = |u: &'static str, p: &'static str| {
        let url = token_url.clone();
        async move {
            post_form(
                &url,
                &[
                    ("grant_type", "password"),
                    ("client_id", "admin-cli"),
                    ("username", u),
                    ("password", p),
                ],
            )
            .await
            .status()
            .as_u16()
        }
    };
    assert_eq!(login("root", "r00t").await, 200);
    assert_eq!(login("admin", "admin").await, 400);
    // Without a master realm there is no bootstrap admin to set.
    let mut bare =
        mockidp::Config::from_toml(VIEWER_FIXTURE.replace("ROLES", "").as_str()).unwrap();
    assert!(bare.set_master_admin(Some("root"), None).is_err());
}

/// A namespace serves Keycloak's admin REST API for its own realms (`/ns/{id}/admin/realms`,
/// and the legacy `/ns/{id}/auth/admin/realms`): its master admin creates a user that logs in
/// there and nowhere else, and an admin token of the server or of another namespace is not one
/// of its realms' tokens.
#[tokio::test]
async fn a_namespace_serves_the_admin_api_of_its_own_realms() {
    let idp = start().await;
    let ns = idp.namespace().unwrap();
    let other = idp.namespace().unwrap();
    let base = ns.url();
    let admin = master_token(&base).await;
    let users = format!("{base}/admin/realms/iopole/users");
    let (status, loc, body) = call(
        "POST",
        &users,
        Some(&admin),
        Some(json!({"username": "erin", "enabled": true,
                    "credentials": [{"type": "password", "value": "pw", "temporary": false}]})),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert!(loc.starts_with(&format!("{users}/")), "{loc}");
    let id = loc.rsplit('/').next().unwrap().to_string();
    let (status, _, body) = call("GET", &format!("{users}/{id}"), Some(&admin), None).await;
    assert_eq!((status, body["username"].clone()), (200, json!("erin")));
    let legacy = format!("{base}/auth/admin/realms/iopole/users?username=erin&exact=true");
    let (status, _, body) = call("GET", &legacy, Some(&admin), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_array().unwrap().len(), 1, "{body}");
    assert_eq!(password_login(&base, "erin", "pw").await.0, 200);
    assert_ne!(password_login(&idp.url(), "erin", "pw").await.0, 200);
    assert_ne!(password_login(&other.url(), "erin", "pw").await.0, 200);

    let unauthorized = json!({"error": "HTTP 401 Unauthorized"});
    for token in [
        master_token(&idp.url()).await,
        master_token(&other.url()).await,
    ] {
        let (status, _, body) = call("GET", &users, Some(&token), None).await;
        assert_eq!((status, body), (401, unauthorized.clone()));
    }
    let server_users = format!("{}/admin/realms/iopole/users", idp.url());
    let (status, _, body) = call("GET", &server_users, Some(&admin), None).await;
    assert_eq!((status, body), (401, unauthorized));
    let gone = format!("{}/ns/no-such-ns/admin/realms/iopole/users", idp.url());
    assert_eq!(call("GET", &gone, Some(&admin), None).await.0, 404);
}

/// RESTEasy matches `/users/` as `/users` (keycloak-admin-client sends both), in a namespace too.
#[tokio::test]
async fn a_trailing_slash_reaches_the_same_resource() {
    let idp = MockIdp::start().await.unwrap();
    let ns = idp.namespace().unwrap();
    for base in [idp.url(), ns.url()] {
        let token = master_token(&base).await;
        let (status, _, users) = call(
            "GET",
            &format!("{base}/admin/realms/iopole/users/?username=alice"),
            Some(&token),
            None,
        )
        .await;
        assert_eq!(status, 200, "{base}: {users}");
        assert_eq!(users[0]["username"], "alice", "{base}: {users}");
    }
}
