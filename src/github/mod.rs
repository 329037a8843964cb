//! Everything that talks to GitHub or its runner: the runner's environment and files,
//! workflow commands, and the artifacts v4 service with its blob transfers.

pub mod artifacts;
pub mod blob;
pub mod commands;
pub mod graphql;
pub mod jobs;
pub mod rest;
pub mod runner;
pub mod tags;
pub mod wire;
