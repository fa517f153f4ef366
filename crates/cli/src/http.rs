//! The HTTP server as the command line sees it: something `serve` and `demo` start.
//!
//! The `sahih` binary (crate `sahih`) implements [`HttpServer`] with `sahih-server` and hands it
//! to [`crate::main_with`]. The command line itself does not depend on the server crate, so no
//! command can sign, enroll or audit through the server's code instead of the core's.
//!
//! Must not know: routes, middleware, how requests are answered.

use sahih_core::Sahih;
use sahih_core::clients::Capability;
use sahih_core::trust::TrustServices;
use sahih_store::SqlStore;
use sahih_store::blob::AnyBlobStore;
use std::future::Future;

/// One authenticated API route and the capability it needs (for `sahih client permissions`).
#[derive(Clone, Copy, Debug)]
pub struct ApiRoute {
    /// The HTTP method, e.g. `POST`.
    pub method: &'static str,
    /// The route's path pattern, e.g. `/api/v2/sign/pdf`.
    pub path: &'static str,
    /// What an API client must be allowed to do to call it.
    pub capability: Capability,
}

/// The HTTP server that `sahih serve` and `sahih demo` run.
pub trait HttpServer {
    /// Ctrl-C and SIGTERM handling, installed before the command prints "Ctrl-C to stop" so
    /// that an early Ctrl-C stops the server gracefully.
    type Shutdown;

    /// Installs the signal handlers now (inside the Tokio runtime).
    fn catch_shutdown(&self) -> std::io::Result<Self::Shutdown>;

    /// Serves on `listener` until `shutdown` fires; requests in flight finish first.
    fn serve(
        &self,
        sahih: Sahih<SqlStore>,
        services: TrustServices,
        blobs: AnyBlobStore,
        listener: tokio::net::TcpListener,
        shutdown: Self::Shutdown,
    ) -> impl Future<Output = std::io::Result<()>>;

    /// Every authenticated API route with its capability.
    fn api_routes(&self) -> Vec<ApiRoute>;
}
