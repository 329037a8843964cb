//! How to reach registries: logins (secrets) and the hosts that speak plain HTTP, read
//! and checked at the input seam (`config::images::registry_access`).

use base64::Engine as _;

use super::reference::ImageRef;
use crate::secret::Secret;

/// A registry login. The password (and the Basic header made of it) are secrets.
#[derive(Debug, Clone)]
pub struct Credential {
    /// `host[:port]` exactly as in image references (`docker.io` also matches Docker Hub's API host).
    pub host: String,
    pub username: String,
    pub password: Secret,
    basic: Secret,
}

impl Credential {
    pub fn new(host: &str, username: &str, password: &str) -> Self {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        Credential {
            host: host.to_string(),
            username: username.to_string(),
            password: Secret::new(password),
            basic: Secret::new(basic),
        }
    }

    /// The value of a Basic `Authorization` header, without the scheme.
    pub fn basic(&self) -> &Secret {
        &self.basic
    }
}

/// How to reach registries: logins and the hosts that speak plain HTTP.
#[derive(Debug, Clone, Default)]
pub struct RegistryAccess {
    pub credentials: Vec<Credential>,
    /// `host:port` entries reached over `http://`; every other registry is `https://`.
    pub insecure: Vec<String>,
    /// When the whole audit must be done: no registry request outlives it.
    pub deadline: Option<std::time::Instant>,
}

impl RegistryAccess {
    /// The login for a registry, if one was given.
    pub fn credential_for(&self, image: &ImageRef) -> Option<&Credential> {
        self.credentials.iter().find(|c| c.host == image.registry || c.host == image.api_host())
    }

    /// Whether `host` (as `host:port`) is reached over plain HTTP.
    pub fn is_insecure(&self, host: &str) -> bool {
        self.insecure.iter().any(|h| h == host)
    }

    /// Everything to register with `::add-mask::`.
    pub fn secrets(&self) -> Vec<&Secret> {
        self.credentials.iter().flat_map(|c| [&c.password, &c.basic]).collect()
    }
}
