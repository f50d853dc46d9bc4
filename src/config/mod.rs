//! The fixtures: what a TOML file (or the builder) says the issuers, clients and users are,
//! checked once as they load. One module per concern: the serde model, loading (files,
//! realm imports), validation, the redirect-URI rules, `mockidp check`, Keycloak realm import.

mod check;
mod load;
mod location;
mod model;
pub(crate) mod realm_import;
mod redirect_uri;
mod validate;

pub use check::check_file;
pub use model::*;
pub use redirect_uri::origin_of;
