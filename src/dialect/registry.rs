//! The registry of products: the `products!` list in `dialect/mod.rs` (one line each) and the
//! lookups on it. The fixture's `dialect = "..."` names, the default mount paths and every
//! lookup by product come from it; no other code lists the products.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Dialect, PRODUCTS, Profile, generic, identityserver, keycloak};

/// Declares each product's module and lists it in `PRODUCTS`, one line per product:
/// `module::Type`. Invoked once, in `dialect/mod.rs`, so the modules are files of
/// `src/dialect/`.
macro_rules! products {
    ($($module:ident :: $product:ident),* $(,)?) => {
        $(mod $module;)*

        /// Every product, in the order unknown issuers' paths are matched against them.
        static PRODUCTS: &[&dyn Dialect] = &[$(&$module::$product),*];
    };
}
pub(super) use products;

/// Every dialect, for questions asked before an issuer is known.
pub fn all() -> &'static [&'static dyn Dialect] {
    PRODUCTS
}

/// The dialect the fixture names `name` (its name or an alias).
pub fn named(name: &str) -> Option<&'static dyn Dialect> {
    PRODUCTS.iter().copied().find(|d| {
        let p = d.profile();
        p.name == name || p.aliases.contains(&name)
    })
}

/// Which product an issuer imitates: a handle on one entry of the registry.
#[derive(Clone, Copy)]
pub struct DialectKind(&'static dyn Dialect);

#[allow(non_upper_case_globals)] // the names of the enum this replaced, kept for callers
impl DialectKind {
    /// Keycloak (Quarkus distribution): realms under `/realms/{realm}`.
    pub const Keycloak: Self = Self(&keycloak::Keycloak);
    /// IdentityServer3, as Inqom runs it under `/identity`.
    pub const IdentityServer: Self = Self(&identityserver::IdentityServer);
    /// A Django OAuth Toolkit server at `/` (`/token/`, `/resource/`).
    pub const Generic: Self = Self(&generic::Generic);
}

impl DialectKind {
    /// The product the fixture names `name`, if mockidp emulates it.
    pub fn named(name: &str) -> Option<Self> {
        named(name).map(Self)
    }

    /// The fixture's name for it.
    pub fn as_str(self) -> &'static str {
        self.0.profile().name
    }

    pub(crate) fn dialect(self) -> &'static dyn Dialect {
        self.0
    }

    pub(crate) fn profile(self) -> &'static Profile {
        self.0.profile()
    }
}

impl PartialEq for DialectKind {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for DialectKind {}

impl fmt::Debug for DialectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for DialectKind {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DialectKind {
    /// Serde's wording for an unknown enum variant, with the names from the registry.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Self::named(&name).ok_or_else(|| {
            let known: Vec<String> = PRODUCTS
                .iter()
                .map(|p| format!("`{}`", p.profile().name))
                .collect();
            serde::de::Error::custom(format!(
                "unknown variant `{name}`, expected one of {}",
                known.join(", ")
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Endpoint;

    /// Every name and alias picks one product, and each product says what it is called and
    /// where its token endpoint and keys are.
    #[test]
    fn every_product_is_complete_and_named_once() {
        let mut names = Vec::new();
        for d in all() {
            let p = d.profile();
            assert!(!p.name.is_empty() && !p.product.is_empty(), "{p:?}");
            for e in [Endpoint::Discovery, Endpoint::Jwks, Endpoint::Token] {
                assert!(
                    p.routes.iter().any(|(r, _)| *r == e),
                    "{}: no {e:?}",
                    p.name
                );
            }
            for name in std::iter::once(&p.name).chain(p.aliases) {
                assert!(!names.contains(name), "{name} names two products");
                names.push(name);
                assert_eq!(
                    DialectKind::named(name).map(DialectKind::as_str),
                    Some(p.name)
                );
            }
        }
    }

    #[test]
    fn the_built_in_kinds_are_registry_entries() {
        assert_eq!(DialectKind::Keycloak.as_str(), "keycloak");
        assert_eq!(
            DialectKind::named("identity-server"),
            Some(DialectKind::IdentityServer)
        );
        assert_eq!(DialectKind::named("generic"), Some(DialectKind::Generic));
        assert_ne!(DialectKind::Keycloak, DialectKind::Generic);
        assert_eq!(DialectKind::named("auth0"), None);
    }

    /// A fixture names the product by its name or an alias; an unknown name gets serde's
    /// wording for an unknown variant, listing the registry's names.
    #[test]
    fn fixtures_name_products_through_the_registry() {
        let kind: DialectKind =
            serde_json::from_value(serde_json::json!("identity_server")).expect("an alias");
        assert_eq!(kind, DialectKind::IdentityServer);
        assert_eq!(
            serde_json::to_value(kind).ok(),
            Some("identityserver".into())
        );
        let err =
            serde_json::from_value::<DialectKind>(serde_json::json!("auth0")).expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "unknown variant `auth0`, expected one of `keycloak`, `identityserver`, `generic`"
        );
    }
}
