//! Two roles, two keys: a client key (reserve, confirm, release, preview, queries)
//! and an operator key (everything, the console, metrics). Keys are compared in
//! constant time; the public routes (availability, catalog, events) need none.

use crate::config::{Config, ConfigError};
use crate::reply::Failure;
use axum::http::HeaderMap;
use subtle::ConstantTimeEq;

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Anyone: no customer data.
    Public,
    /// The client key or the operator key.
    Client,
    /// The operator key.
    Operator,
}

pub(crate) struct Keys {
    client: Option<Vec<u8>>,
    operator: Option<Vec<u8>>,
    open: bool,
}

const MIN_KEY: usize = 16;

impl Keys {
    pub(crate) fn new(config: &Config) -> Result<Keys, ConfigError> {
        let key = |name: &str, k: &Option<String>| -> Result<Option<Vec<u8>>, ConfigError> {
            match k {
                Some(k) if k.len() < MIN_KEY => Err(ConfigError::new(
                    name,
                    format!("a key has at least {MIN_KEY} characters"),
                )),
                Some(k) => Ok(Some(k.as_bytes().to_vec())),
                None => Ok(None),
            }
        };
        let keys = Keys {
            client: key("client key", &config.client_key)?,
            operator: key("operator key", &config.operator_key)?,
            open: config.no_keys,
        };
        if !keys.open && keys.operator.is_none() {
            return Err(ConfigError::new(
                "keys",
                "an operator key is needed (KONTINGENT_OPERATOR_KEY or --keys FILE); \
                 --no-keys serves without any, for a machine nobody else can reach",
            ));
        }
        Ok(keys)
    }

    /// `Ok` if `headers` carry a key good for `role`.
    pub(crate) fn check(&self, headers: &HeaderMap, role: Role) -> Result<(), Failure> {
        if self.open || role == Role::Public {
            return Ok(());
        }
        let given = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::as_bytes);
        let Some(given) = given else {
            return Err(Failure::transport(
                "unauthorized",
                "this call needs a key: Authorization: Bearer <key>",
            ));
        };
        let is = |k: &Option<Vec<u8>>| k.as_deref().is_some_and(|k| bool::from(k.ct_eq(given)));
        let operator = is(&self.operator);
        let client = is(&self.client);
        match role {
            Role::Operator if operator => Ok(()),
            Role::Client if operator || client => Ok(()),
            _ if client => Err(Failure::transport(
                "forbidden",
                "this call needs the operator key",
            )),
            _ => Err(Failure::transport("unauthorized", "the key is not valid")),
        }
    }
}
