//! sahih-server: HTTP for Sahih. For now the trust services: RFC 3161 time-stamping at
//! `POST /tsa`, OCSP (RFC 6960, POST and GET) at `/ocsp`, CRLs at `/crl/{ca}.crl`, CA
//! certificates at `/ca/{ca}.crt`, and `/healthz`.
//!
//! Owns: routes, content types, size limits, graceful shutdown. Must not know: how tokens,
//! responses or CRLs are made (that is `sahih-core` and `sahih-pki`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sahih_core::Sahih;
use sahih_core::trust::{TrustServices, ca_name};
use sahih_store::SqliteStore;
use std::sync::Arc;

pub mod client;

pub struct AppState {
    pub sahih: Sahih<SqliteStore>,
    pub services: TrustServices,
}

type Shared = Arc<AppState>;

/// Request bodies of the trust services are small; refuse anything large early.
pub const MAX_SERVICE_BODY: usize = 64 * 1024;

pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/tsa", post(tsa))
        .route("/ocsp", post(ocsp_post))
        .route("/ocsp/{*request}", get(ocsp_get))
        .route("/crl/{name}", get(crl))
        .route("/ca/{name}", get(ca_cert))
        .layer(DefaultBodyLimit::max(MAX_SERVICE_BODY))
        .with_state(state)
}

fn der_response(content_type: &'static str, body: Vec<u8>) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

async fn tsa(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.starts_with("application/timestamp-query") {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type: application/timestamp-query\n",
        )
            .into_response();
    }
    der_response(
        "application/timestamp-reply",
        s.services.timestamp_response_der(&body),
    )
}

async fn ocsp_post(State(s): State<Shared>, body: Bytes) -> Response {
    answer_ocsp(&s, &body).await
}

/// Answers from the in-memory statuses, reloading them first when a certificate is not known
/// yet (issued after the last refresh).
async fn answer_ocsp(s: &AppState, der: &[u8]) -> Response {
    if s.services.ocsp_cache_misses(der)
        && let Ok(entries) = s.sahih.certificate_statuses().await
    {
        s.services.refresh_status(entries);
    }
    der_response("application/ocsp-response", s.services.ocsp_response(der))
}

async fn ocsp_get(State(s): State<Shared>, Path(request): Path<String>) -> Response {
    // GET form: base64 of the DER request, URL-encoded (RFC 6960 A.1).
    let der = sahih_pki::ocsp::decode_get_path(&request).unwrap_or_default();
    answer_ocsp(&s, &der).await
}

async fn crl(State(s): State<Shared>, Path(name): Path<String>) -> Response {
    let Some(name) = name.strip_suffix(".crl") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match s.sahih.crl_for(&s.services, name).await {
        Ok(der) => der_response("application/pkix-crl", der),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn ca_cert(State(s): State<Shared>, Path(name): Path<String>) -> Response {
    let Some(name) = name.strip_suffix(".crt") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match s.services.cas.iter().find(|c| ca_name(&c.record) == name) {
        Some(ca) => der_response("application/pkix-cert", ca.cert.der.clone()),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// How often OCSP answers pick up revocations made by other processes (the CLI, other servers).
pub const STATUS_REFRESH: std::time::Duration = std::time::Duration::from_secs(2);

/// Serves until Ctrl-C / SIGTERM; in-flight requests finish first.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
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
    let app = router(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
