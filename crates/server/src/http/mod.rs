//! HTTP plumbing every surface shares: API-client authentication (`auth`), the route →
//! capability table and its middleware (`authz`), cross-site request refusal (`csrf`), the
//! security headers (`headers`), the connection loop with its timeouts (`listen`), request ids,
//! spans, logs and metrics (`obs`, with the standard process series from `process`), and
//! in-place decoding of base64 files in JSON bodies (`b64json`).
//!
//! Must not know: what any route does.

pub mod auth;
pub mod authz;
pub mod b64json;
pub mod csrf;
pub mod headers;
pub mod listen;
pub mod obs;
mod process;
