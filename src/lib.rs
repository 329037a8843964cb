//! release-audit: turns a release into one self-verifying audit bundle.
//!
//! The pipeline: inputs → [`config::Config`] → evidence
//! stages → [`bundle`] → [`publish`] → [`report`]; [`verify`] re-derives a
//! bundle's claims. Data flows one way; each stage is a
//! module that consumes the plain data of the one before.

pub mod archive;
pub mod bundle;
pub mod cli;
pub mod config;
pub mod error;
pub mod evidence;
pub mod fuzzing;
pub mod github;
pub mod hashing;
pub mod http;
pub mod markdown;
pub mod publish;
pub mod report;
pub mod secret;
pub mod verify;
