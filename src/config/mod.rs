//! The fixtures: what a TOML file (or the builder) says the issuers, clients and users are,
//! checked once as they load. One module per concern.

mod model;
pub(crate) mod realm_import;

pub use model::*;
