//! sahih-server: HTTP for Sahih.
//!
//! - the BSrE-ECS-compatible API under `/api` (HTTP Basic per API client; see `ecs`),
//! - the trust services: RFC 3161 time-stamping at `POST /tsa`, OCSP (RFC 6960, POST and GET)
//!   at `/ocsp`, CRLs at `/crl/{ca}.crl`, CA certificates at `/ca/{ca}.crt`,
//! - operations: `/healthz` (alive), `/readyz` (database answers), `/metrics` (Prometheus).
//!
//! Owns: routes, content types, size limits, authentication of API clients, request ids and
//! logs, graceful shutdown. Must not know: how tokens, signatures, policy decisions or audit
//! entries are made (that is `sahih-core` and `sahih-pki`).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sahih_core::Sahih;
use sahih_core::trust::TrustServices;
use sahih_store::SqlStore;
use sahih_store::blob::AnyBlobStore;
use std::sync::Arc;

pub mod activation;
pub mod ecs;
pub mod error;
pub mod gateway;
pub mod http;
pub mod smtp;
pub mod trust_services;
pub mod v1;
pub mod web;
pub mod webhooks;

use http::{auth, authz, csrf, headers, listen, obs};

/// The JSON log on stderr, filtered by `SAHIH_LOG` (see [`http::obs`]).
pub use http::obs::init_logging;
/// The client of an upstream ECS (gateway mode).
pub use sahih_upstream as upstream;
pub use sahih_upstream::GATEWAY_PASSWORD_ENV;
/// The ECS error codes (from `sahih-upstream`, shared with the gateway's client).
pub use sahih_upstream::codes;

/// Everything a request handler may reach: the core, the trust services, storage, metrics,
/// throttles and the caches of the pages.
pub struct AppState {
    /// The domain (`sahih-core`) over the SQL store.
    pub sahih: Sahih<SqlStore>,
    /// The CA hierarchy's keys and certificates, the TSA and the OCSP responders, in memory.
    pub services: TrustServices,
    /// Where files live: signed documents, evidence, kept downloads.
    pub blobs: AnyBlobStore,
    /// This server's own metrics registry for `/metrics` (requests, latencies, signatures,
    /// process series), and the dashboard's signing latency.
    pub metrics: obs::Metrics,
    /// One request line per request in the log (`http::obs`).
    pub log_requests: bool,
    /// Gateway mode: the upstream ECS for officials enrolled upstream.
    pub upstream: Option<Arc<upstream::UpstreamEcs>>,
    /// Public portal verifications per source address.
    pub portal_throttle: sahih_core::clients::AddressThrottle,
    /// Failed page logins per source address (apart from each account's own lockout).
    pub login_throttle: sahih_core::clients::AddressThrottle,
    /// The logo on every page.
    pub logo: web::assets::Logo,
    /// Wakes the webhook sender at once (a replay, a step just taken).
    pub webhooks_wake: tokio::sync::Notify,
    /// Page images of the inbox's documents and the RA's evidence.
    pub previews: web::preview::PreviewCache,
    /// RA submissions previewed but not sent yet.
    pub ra_drafts: web::ra::RaDrafts,
}

/// Failed logins one address (IPv6: one /64) may make in ten minutes, over all accounts.
pub const LOGIN_FAILURES_PER_ADDRESS: u32 = 30;

impl AppState {
    /// A server's state from its configuration: the upstream (gateway mode), throttles and the
    /// logo come from `sahih.config`.
    pub fn new(sahih: Sahih<SqlStore>, services: TrustServices, blobs: AnyBlobStore) -> Self {
        let upstream = upstream::UpstreamEcs::from_config(&sahih.config).map(Arc::new);
        let portal_throttle = sahih_core::clients::AddressThrottle::new(
            sahih.config.web.portal_per_minute,
            std::time::Duration::from_secs(60),
        );
        let logo = web::assets::Logo::load(sahih.config.web.logo.as_deref());
        Self {
            sahih,
            services,
            blobs,
            metrics: obs::Metrics::default(),
            log_requests: true,
            upstream,
            portal_throttle,
            login_throttle: sahih_core::clients::AddressThrottle::new(
                LOGIN_FAILURES_PER_ADDRESS,
                std::time::Duration::from_secs(600),
            ),
            logo,
            webhooks_wake: tokio::sync::Notify::new(),
            previews: web::preview::PreviewCache::default(),
            ra_drafts: web::ra::RaDrafts::default(),
        }
    }
}

/// The state as handlers hold it.
pub type Shared = Arc<AppState>;

/// Runs the signing pipeline for an API client: the documents are returned, or also kept for
/// one download. Each door maps the error to its own ECS codes.
pub(crate) async fn sign_for_client(
    state: &AppState,
    client: &sahih_core::store::ApiClientRecord,
    signer: sahih_core::pipeline::Signer<'_>,
    class: Option<&str>,
    documents: Vec<sahih_core::requests::BatchDocument>,
    keep_for_download: bool,
) -> Result<Vec<sahih_core::requests::SignedItem>, sahih_core::CoreError> {
    use sahih_core::pipeline::{Delivery, Door, SignRequest};
    let request = SignRequest {
        door: Door::Client(client),
        signer,
        class,
        documents,
        delivery: if keep_for_download {
            Delivery::KeepForDownload
        } else {
            Delivery::Return
        },
    };
    state.sahih.sign_batch(request, &signing_env(state)).await
}

/// What the signing pipeline ([`sahih_core::Sahih::sign_batch`]) needs from a running server:
/// its blob store, its TSA and validation data, the upstream (gateway mode) and its metrics.
pub fn signing_env(state: &AppState) -> sahih_core::pipeline::SigningEnv<'_, AnyBlobStore> {
    sahih_core::pipeline::SigningEnv {
        blobs: &state.blobs,
        providers: sahih_core::TrustProviders {
            tsa: Some(&state.services),
            validation_data: Some(&state.services),
        },
        remote: state
            .upstream
            .as_deref()
            .map(|u| u as &dyn sahih_core::pipeline::RemoteSigner),
        parallelism: state.sahih.config.server.sign_threads,
        counter: Some(&state.metrics),
    }
}

/// Every route of the server, with its layers: security headers and request logging outside,
/// then per surface cross-site refusal, authentication, authorization and body limits.
pub fn router(state: Shared) -> Router {
    let api_limit = state.sahih.config.server.max_body_bytes();
    // Every authenticated API surface, each with its own routes.
    let api = Router::new()
        .merge(ecs::routes())
        .merge(v1::routes())
        // Staff routes whose body is JSON: no other declared type (see csrf).
        .merge(v1::staff_json_routes().route_layer(axum::middleware::from_fn(csrf::require_json)))
        .layer(DefaultBodyLimit::max(api_limit))
        // Inside authentication: the client is known, its role decides.
        .route_layer(axum::middleware::from_fn(authz::authorize))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            auth::require_client,
        ))
        // Outside authentication: a cross-site request is refused before any credential check.
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            csrf::reject_cross_site,
        ));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(obs::metrics))
        .merge(web::routes(&state))
        .merge(api)
        // The official's activation link: no API credentials (the token is the credential).
        .merge(activation::routes().layer(DefaultBodyLimit::max(trust_services::MAX_SERVICE_BODY)))
        .merge(trust_services::routes())
        .merge(utoipa_swagger_ui::SwaggerUi::new("/api/v1/docs").url(
            "/api/v1/openapi.json",
            <v1::openapi::ApiDoc as utoipa::OpenApi>::openapi(),
        ))
        .fallback(not_found)
        .layer(axum::middleware::from_fn(headers::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            obs::middleware,
        ))
        .with_state(state)
}

async fn not_found() -> Response {
    ecs::EcsError::new(StatusCode::NOT_FOUND, 4040, "Alamat tidak ditemukan").into_response()
}

/// Ready when the database answers.
async fn readyz(State(s): State<Shared>) -> Response {
    if s.sahih.store.ping().await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
    }
}

/// How often OCSP answers pick up revocations made by other processes (the CLI, other servers).
pub const STATUS_REFRESH: std::time::Duration = std::time::Duration::from_secs(2);

/// Serves until `shutdown` fires (Ctrl-C / SIGTERM); in-flight requests (signatures included)
/// finish first. Installs the JSON log ([`init_logging`]) unless a subscriber is already set.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: Shutdown,
) -> std::io::Result<()> {
    init_logging();
    let state = Arc::new(state);
    let refresher = Arc::clone(&state);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(STATUS_REFRESH);
        loop {
            tick.tick().await;
            if let Ok(entries) = refresher.sahih.certificate_statuses().await {
                refresher.services.refresh_status(entries);
            }
        }
    });
    let anchor_secs = state.sahih.config.server.audit_anchor_secs;
    if anchor_secs > 0 {
        let anchorer = Arc::clone(&state);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(anchor_secs));
            loop {
                tick.tick().await;
                if let Err(e) = anchorer.sahih.anchor_audit_head(&anchorer.services).await {
                    tracing::warn!(error = %e, "audit anchor failed");
                }
            }
        });
    }
    // Expiry notices (30 and 7 days before), hourly; each goes out once across all servers.
    let renewer = Arc::clone(&state);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) = renewer.sahih.send_renewal_notices().await {
                tracing::warn!(error = %e, "renewal notices failed");
            }
        }
    });
    // Webhook events and expiring signing requests.
    tokio::spawn(webhooks::deliver_forever(
        Arc::clone(&state),
        std::time::Duration::from_secs(2),
    ));
    if let Some(url) = state.sahih.config.notify.smtp_url.clone() {
        let n = &state.sahih.config.notify;
        match smtp::SmtpConfig::from_url(&url, &n.from, n.ca_file.clone()) {
            Ok(cfg) => {
                tokio::spawn(smtp::deliver_forever(
                    Arc::clone(&state),
                    Arc::new(cfg),
                    std::time::Duration::from_secs(2),
                ));
            }
            Err(e) => {
                return Err(std::io::Error::other(format!("[notify] smtp_url: {e}")));
            }
        }
    }
    let server = &state.sahih.config.server;
    let timeouts = listen::Timeouts {
        header: std::time::Duration::from_secs(server.header_timeout_secs.max(1)),
        body: std::time::Duration::from_secs(server.body_timeout_secs.max(1)),
        body_idle: std::time::Duration::from_secs(server.header_timeout_secs.max(1)),
    };
    let app = router(state);
    listen::serve_connections(listener, app, timeouts, shutdown.wait()).await
}

/// Ctrl-C (SIGINT) and SIGTERM, caught from the moment this is made: make it before telling
/// anyone "Ctrl-C to stop", so a Ctrl-C right after that message stops the server gracefully
/// instead of killing it.
pub struct Shutdown {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Shutdown {
    /// Installs the handlers now (needs a running Tokio runtime).
    pub fn listen() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn wait(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {},
            _ = self.terminate.recv() => {},
        }
    }
}
