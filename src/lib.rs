//! roomsd: a room-device controller serving the Rooms control protocol.
//!
//! See `docs/ARCHITECTURE.md` for the map of the code.

pub mod backend;
pub mod config;
pub mod daemon;
pub mod displays;
pub mod domain;
pub mod fleet;
#[cfg(test)]
mod generated;
pub mod manpage;
pub mod modules;
pub mod room;
pub mod schema;
pub mod server;
pub mod state_file;
pub mod systemd;
pub mod wire;

#[cfg(test)]
mod layers_tests;
