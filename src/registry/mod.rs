//! The OCI registry client, in its own room: the image evidence, `digest`/`compare`,
//! `record-image` and `verify --online` all read registries through it.
//!
//! - [`client`]: the Distribution API client (auth challenges, token realms, redirects,
//!   bounded manifests, retries, request statistics);
//! - [`mod@reference`]: image references, digests and platforms;
//! - [`manifest`]: OCI and Docker manifest and index documents;
//! - [`access`]: logins and plain-HTTP hosts.

pub mod access;
pub mod client;
pub mod manifest;
pub mod reference;

pub use access::{Credential, RegistryAccess};
pub use client::{FetchError, RegistryClient, RequestStats};
pub use reference::{Digest, ImageRef, Platform};
