//! The API's OpenAPI 3.1 document: `openapi.json` describes the server's operations; each of
//! them but the server-wide ones is also `/ns/{namespace}/...` (the same handlers on a
//! namespace), and those entries are generated here from the server's, so the two cannot drift.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use serde_json::{Map, Value, json};

/// The server's operations, as written.
const SERVER: &str = include_str!("openapi.json");

/// Paths about the whole server: no namespaced copy.
const SERVER_WIDE: &[&str] = &[
    "/health",
    "/ready",
    "/openapi.json",
    "/namespaces",
    "/namespaces/{id}",
];

/// The document served: the server's operations, then their namespaced copies.
static DOCUMENT: LazyLock<Value> = LazyLock::new(|| with_namespaces(SERVER));

/// [`DOCUMENT`] as sent.
static TEXT: LazyLock<String> = LazyLock::new(|| DOCUMENT.to_string());

pub fn routes(cfg: &mut super::Routes) {
    cfg.at("/openapi.json").get(serve);
}

/// `GET /_mockidp/openapi.json`.
async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(TEXT.as_str())
}

/// The methods the document gives `template` (a path as written there, `/clock` or
/// `/ns/{namespace}/clock`), upper-case and comma-separated: the document is the router's
/// contract (tests check they agree).
pub fn documented_methods(template: &str) -> String {
    DOCUMENT["paths"][template]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(method, _)| method)
        .filter(|m| m.as_str() != "parameters")
        .map(|m| m.to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `server` (the document's text) with a `/ns/{namespace}` copy of each path not
/// [`SERVER_WIDE`]. A document that does not parse is served as an empty object, which the
/// unit test below rules out.
fn with_namespaces(server: &str) -> Value {
    let Ok(mut doc) = serde_json::from_str::<Value>(server) else {
        return json!({});
    };
    let Some(paths) = doc["paths"].as_object_mut() else {
        return doc;
    };
    let copies: Vec<(String, Value)> = paths
        .iter()
        .filter(|(path, _)| !SERVER_WIDE.contains(&path.as_str()))
        .map(|(path, item)| (format!("/ns/{{namespace}}{path}"), namespaced(item)))
        .collect();
    paths.extend(copies);
    doc
}

/// One path item in a namespace: the namespace parameter first, then the server's; each
/// operation says so in its summary and adds what only a namespace answers.
fn namespaced(item: &Value) -> Value {
    let mut copy = Map::new();
    let mut parameters = vec![json!({
        "name": "namespace",
        "in": "path",
        "required": true,
        "schema": {"type": "string"},
        "description": "A namespace id (POST /namespaces)",
    })];
    parameters.extend(item["parameters"].as_array().into_iter().flatten().cloned());
    copy.insert("parameters".into(), Value::Array(parameters));
    for (method, operation) in item.as_object().into_iter().flatten() {
        if method != "parameters" {
            copy.insert(method.clone(), namespaced_operation(operation));
        }
    }
    Value::Object(copy)
}

/// An operation in a namespace: 404 also for an unknown namespace, and 400 for a namespace
/// id that is not a readable path segment.
fn namespaced_operation(operation: &Value) -> Value {
    let mut op = operation.clone();
    if let Some(summary) = op["summary"].as_str() {
        op["summary"] = json!(format!("In a namespace: {}", lower_first(summary)));
    }
    let error = json!({"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}});
    let Some(responses) = op["responses"].as_object_mut() else {
        return op;
    };
    let not_found = match responses.get("404").and_then(|r| r["description"].as_str()) {
        Some(server) => format!(
            "No such namespace, or as at the server: {}",
            lower_first(server)
        ),
        None => "No such namespace (deleted, expired or never created)".into(),
    };
    responses.insert(
        "404".into(),
        json!({"description": not_found, "content": error}),
    );
    responses.entry("400").or_insert_with(|| {
        json!({
            "description": "Invalid input: a path segment is not valid percent-encoded UTF-8 or \
                            holds control characters",
            "content": error,
        })
    });
    op
}

/// `text` with its first letter lower-case, unless it starts a word in capitals (`JSON`).
fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if !second.is_uppercase() => {
            format!("{}{}", first.to_lowercase(), &text[first.len_utf8()..])
        }
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every server operation but the server-wide ones has its namespaced copy, with the
    /// namespace parameter and the unknown-namespace answer.
    #[test]
    fn namespaced_copies_follow_the_server_operations() {
        let server: Value = serde_json::from_str(SERVER).unwrap_or_default();
        let written = server["paths"].as_object().cloned().unwrap_or_default();
        assert!(written.len() > 15, "the written document has its paths");
        assert!(
            written.keys().all(|p| !p.starts_with("/ns/")),
            "namespaced paths are generated, not written"
        );
        for (path, item) in &written {
            let copy = &DOCUMENT["paths"][format!("/ns/{{namespace}}{path}")];
            if SERVER_WIDE.contains(&path.as_str()) {
                assert!(copy.is_null(), "{path} is server-wide");
                continue;
            }
            assert_eq!(copy["parameters"][0]["name"], "namespace", "{path}");
            for (method, op) in item.as_object().into_iter().flatten() {
                if method == "parameters" {
                    continue;
                }
                assert!(
                    copy[method]["responses"]["404"].is_object(),
                    "{method} {path}"
                );
                assert_eq!(
                    copy[method]["requestBody"], op["requestBody"],
                    "{method} {path}"
                );
                assert_eq!(
                    copy[method]["responses"]["200"], op["responses"]["200"],
                    "{method} {path}"
                );
            }
        }
        assert_eq!(documented_methods("/ns/{namespace}/clock"), "GET, POST");
        assert_eq!(documented_methods("/clock"), "GET, POST");
        assert_eq!(documented_methods("/nope"), "");
    }

    #[test]
    fn summaries_keep_capitalised_words() {
        assert_eq!(lower_first("The time"), "the time");
        assert_eq!(lower_first("JSON web key"), "JSON web key");
    }
}
