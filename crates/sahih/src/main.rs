//! The `sahih` binary: the command line (`sahih-cli`) with the HTTP server (`sahih-server`)
//! that its `serve` and `demo` commands start.
//!
//! Owns: wiring the two together. Must not know: anything either of them does.

#![forbid(unsafe_code)]

use sahih_cli::{ApiRoute, HttpServer};
use sahih_core::Sahih;
use sahih_core::trust::TrustServices;
use sahih_store::SqlStore;
use sahih_store::blob::AnyBlobStore;
use std::process::ExitCode;

/// `sahih-server` as the command line's HTTP server.
struct Server;

impl HttpServer for Server {
    type Shutdown = sahih_server::Shutdown;

    fn catch_shutdown(&self) -> std::io::Result<Self::Shutdown> {
        sahih_server::Shutdown::listen()
    }

    async fn serve(
        &self,
        sahih: Sahih<SqlStore>,
        services: TrustServices,
        blobs: AnyBlobStore,
        listener: tokio::net::TcpListener,
        shutdown: Self::Shutdown,
    ) -> std::io::Result<()> {
        // Before the state: loading it may already warn (a logo that cannot be used).
        sahih_server::init_logging();
        let state = sahih_server::AppState::new(sahih, services, blobs);
        sahih_server::serve(state, listener, shutdown).await
    }

    fn api_routes(&self) -> Vec<ApiRoute> {
        sahih_server::http::authz::API_ROUTES
            .iter()
            .map(|(method, path, capability)| ApiRoute {
                method: method.as_str(),
                path,
                capability: *capability,
            })
            .collect()
    }
}

fn main() -> ExitCode {
    sahih_cli::main_with(&Server)
}
