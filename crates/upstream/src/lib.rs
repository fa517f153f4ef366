//! sahih-upstream: the ECS protocol below the server.
//!
//! - [`codes`]: the ECS error codes, BSrE's where one exists and Sahih's own where not;
//! - the HTTP client of an upstream ECS, used in gateway mode ([`UpstreamEcs`]).
//!
//! It sits below `sahih-server` so that the command line (which forwards gateway officials'
//! signatures as well) does not depend on the HTTP server.
//!
//! Owns: ECS request bodies, the HTTP exchange with an upstream, decoding its answers.
//! Must not know: routes, policy, audit, lockouts (see `client`).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
pub mod codes;
mod remote;

pub use client::*;

/// Where the gateway's password to the upstream comes from (never the config file).
pub const GATEWAY_PASSWORD_ENV: &str = "SAHIH_GATEWAY_PASSWORD";
