//! The integration tests, one binary: each module talks to a real roomsd (in this process or
//! as a child process) over real sockets. One binary, because each test binary links the whole
//! crate: two dozen of them made every change cost a minute of linking on two cores.
//!
//! Run one file's tests with `cargo test --test it abuse::`; the tests that need a browser or
//! Python are ignored unless asked for (`cargo test --test it -- --ignored`).

mod common;

mod abuse;
mod auth;
mod cli;
mod continuity;
mod contracts;
mod crash;
mod driver;
mod easemob;
mod fleet;
mod fleet_roomsctl;
mod golden;
mod hiar;
mod kedacom;
mod meeting;
mod members;
mod panel;
mod python_example;
mod reply_budget;
mod robustness;
mod roomsctl;
mod roomsctl_watch;
mod rsc;
mod schemas;
mod screens;
mod simulator;
mod subscriptions;
mod systemd;
