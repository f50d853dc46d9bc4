//! The parts of Keycloak's JSON representations (`org.keycloak.representations.idm`:
//! `RealmRepresentation`, `ClientRepresentation`, `UserRepresentation`,
//! `CredentialRepresentation`, `ProtocolMapperRepresentation`) that mockidp reads, as serde
//! structs with Keycloak's field names. The other fields of an export are ignored (mockidp
//! reads a small part of it, and newer Keycloaks add fields) and `null` counts as absent, as
//! Keycloak writes it for unset fields. [`read`] names the JSON path of a value of the wrong
//! type.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use serde_path_to_error::Segment;

/// `RealmRepresentation`: the realm's name, switch and defaults, its clients and users.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object")]
pub(super) struct RealmRepresentation {
    pub realm: Option<String>,
    pub enabled: Option<bool>,
    pub default_default_client_scopes: Option<Strings>,
    pub default_optional_client_scopes: Option<Strings>,
    pub clients: Option<Vec<ClientRepresentation>>,
    pub users: Option<Vec<UserRepresentation>>,
}

/// The lifetimes of a `RealmRepresentation`, in seconds; Keycloak's `0` ("not set") is absent.
/// Read apart from the rest so that the admin API's realm update reads nothing else.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object")]
pub(super) struct RealmLifetimes {
    #[serde(default, deserialize_with = "seconds")]
    pub access_token_lifespan: Option<u64>,
    #[serde(default, deserialize_with = "seconds")]
    pub access_code_lifespan: Option<u64>,
    #[serde(default, deserialize_with = "seconds")]
    pub sso_session_idle_timeout: Option<u64>,
    #[serde(default, deserialize_with = "seconds")]
    pub sso_session_max_lifespan: Option<u64>,
    #[serde(default, deserialize_with = "seconds")]
    pub oauth2_device_code_lifespan: Option<u64>,
    #[serde(default, deserialize_with = "seconds")]
    pub oauth2_device_polling_interval: Option<u64>,
}

/// `ClientRepresentation`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object")]
pub(super) struct ClientRepresentation {
    pub client_id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
    pub bearer_only: Option<bool>,
    pub consent_required: Option<bool>,
    pub protocol: Option<String>,
    pub public_client: Option<bool>,
    pub secret: Option<String>,
    pub client_authenticator_type: Option<String>,
    pub standard_flow_enabled: Option<bool>,
    pub implicit_flow_enabled: Option<bool>,
    pub direct_access_grants_enabled: Option<bool>,
    pub service_accounts_enabled: Option<bool>,
    pub root_url: Option<String>,
    pub redirect_uris: Option<Strings>,
    pub default_client_scopes: Option<Strings>,
    pub optional_client_scopes: Option<Strings>,
    pub attributes: Option<ClientAttributes>,
    pub protocol_mappers: Option<Vec<ProtocolMapperRepresentation>>,
}

/// The client `attributes` mockidp reads. Keycloak writes them as strings; switches are
/// `"true"` (or a JSON `true`).
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "an object")]
pub(super) struct ClientAttributes {
    #[serde(rename = "pkce.code.challenge.method")]
    pub pkce_code_challenge_method: Option<String>,
    #[serde(rename = "post.logout.redirect.uris")]
    pub post_logout_redirect_uris: Option<String>,
    #[serde(rename = "use.jwks.string", default, deserialize_with = "flag")]
    pub use_jwks_string: bool,
    #[serde(rename = "jwks.string")]
    pub jwks_string: Option<String>,
    #[serde(rename = "use.jwks.url", default, deserialize_with = "flag")]
    pub use_jwks_url: bool,
    #[serde(rename = "jwks.url")]
    pub jwks_url: Option<String>,
    #[serde(
        rename = "oauth2.device.authorization.grant.enabled",
        default,
        deserialize_with = "flag"
    )]
    pub device_authorization_grant: bool,
    #[serde(
        rename = "standard.token.exchange.enabled",
        default,
        deserialize_with = "flag"
    )]
    pub standard_token_exchange: bool,
}

/// `ProtocolMapperRepresentation`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object")]
pub(super) struct ProtocolMapperRepresentation {
    pub protocol_mapper: Option<String>,
    pub config: Option<MapperConfig>,
}

/// The `config` of an `oidc-hardcoded-claim-mapper`.
#[derive(Debug, Default, Deserialize)]
#[serde(expecting = "an object")]
pub(super) struct MapperConfig {
    #[serde(rename = "claim.name")]
    pub claim_name: Option<String>,
    #[serde(rename = "claim.value")]
    pub claim_value: Option<String>,
    #[serde(rename = "jsonType.label")]
    pub json_type: Option<String>,
    #[serde(rename = "access.token.claim")]
    pub access_token_claim: Option<String>,
}

/// `UserRepresentation`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an object")]
pub(super) struct UserRepresentation {
    pub id: Option<String>,
    pub username: Option<String>,
    pub enabled: Option<bool>,
    pub email: Option<String>,
    pub email_verified: Option<bool>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// In document order: they become claims in that order.
    pub attributes: Option<Entries<Option<Strings>>>,
    pub credentials: Option<Vec<CredentialRepresentation>>,
    pub realm_roles: Option<Strings>,
    pub client_roles: Option<BTreeMap<String, Option<Strings>>>,
    pub required_actions: Option<Strings>,
    pub service_account_client_id: Option<String>,
}

/// `CredentialRepresentation`: a hand-written import's plain `value`, or an export's hash.
#[derive(Deserialize)]
#[serde(expecting = "an object")]
pub(super) struct CredentialRepresentation {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub value: Option<String>,
}

impl fmt::Debug for CredentialRepresentation {
    /// Without the value: it is a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialRepresentation")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// A JSON array of strings; an element of another type is refused at its index.
#[derive(Debug, Clone, Default)]
pub(super) struct Strings(pub Vec<String>);

impl<'de> Deserialize<'de> for Strings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = Strings;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of strings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strings, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Strings(items))
            }
        }
        d.deserialize_seq(Visit)
    }
}

/// A JSON object's entries in document order.
#[derive(Debug, Default)]
pub(super) struct Entries<V>(pub Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Visit<V> {
            type Value = Entries<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<V>, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        d.deserialize_map(Visit(PhantomData))
    }
}

/// A lifetime in seconds; Keycloak's `0` ("not set") is `None`.
fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None => Ok(None),
        Some(v) => match v.as_u64() {
            Some(0) => Ok(None),
            Some(n) => Ok(Some(n)),
            None => Err(serde::de::Error::custom(
                "must be a whole number of seconds",
            )),
        },
    }
}

/// A client attribute switch: `"true"` (Keycloak writes attributes as strings) or `true`.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(b),
        Some(Value::String(s)) => Ok(s.eq_ignore_ascii_case("true")),
        Some(_) => Err(serde::de::Error::custom("must be \"true\" or \"false\"")),
    }
}

/// Reads a representation from `json`. An error names the JSON path of the culprit
/// (`clients[2].redirectUris[0]`) and the client or user it is in (`(clientId "web")`), and
/// says what was expected, never the value found (it may be a secret).
pub(super) fn read<T: DeserializeOwned>(json: &Value) -> Result<T, String> {
    serde_path_to_error::deserialize(json).map_err(|e| {
        let segments: Vec<&Segment> = e.path().iter().collect();
        let path = Place::of(json, &segments);
        let inner = e.inner().to_string();
        let why = match inner.split_once(", expected ") {
            Some((_, expected)) => format!("must be {expected}"),
            None => inner,
        };
        path.says(&why)
    })
}

/// Where in a representation a value is, for messages: its JSON path and who it belongs to.
#[derive(Debug, Clone, Default)]
pub(super) struct Place {
    path: String,
    /// ` (clientId "web")` or ` (username "jane")`: the innermost named object on the path.
    who: String,
}

impl Place {
    /// The place `segments` lead to from `json`.
    fn of(json: &Value, segments: &[&Segment]) -> Self {
        let mut place = Self::default().named_by(json);
        let mut current = Some(json);
        for segment in segments {
            match segment {
                Segment::Seq { index } => {
                    place = place.index(*index);
                    current = current.and_then(|v| v.get(index));
                }
                Segment::Map { key } => {
                    place = place.field(key);
                    current = current.and_then(|v| v.get(key));
                }
                Segment::Enum { variant } => place = place.field(variant),
                Segment::Unknown => place = place.field("?"),
            }
            if let Some(v) = current {
                place = place.named_by(v);
            }
        }
        place
    }

    /// Element `i` of the array at this place.
    pub(super) fn index(&self, i: usize) -> Self {
        let mut place = self.clone();
        place.path.push_str(&format!("[{i}]"));
        place
    }

    /// This place, belonging to the client or user whose `key` (`clientId`, `username`) is
    /// `name`.
    pub(super) fn named(&self, key: &str, name: &str) -> Self {
        let mut place = self.clone();
        place.who = format!(" ({key} {name:?})");
        place
    }

    /// The field `key` of this place.
    pub(super) fn field(&self, key: &str) -> Self {
        let path = if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        };
        Self {
            path,
            who: self.who.clone(),
        }
    }

    /// The message `why` about the value at this place.
    pub(super) fn says(&self, why: &str) -> String {
        match (self.path.as_str(), self.who.as_str()) {
            ("", "") => why.to_string(),
            ("", who) => format!("{}: {why}", who.trim_start()),
            (path, who) => format!("{path}{who}: {why}"),
        }
    }

    /// This place, naming `value`'s client or user when it is one.
    fn named_by(self, value: &Value) -> Self {
        ["clientId", "username"]
            .into_iter()
            .find_map(|key| Some((key, value.get(key)?.as_str()?)))
            .map_or(self.clone(), |(key, name)| self.named(key, name))
    }
}
