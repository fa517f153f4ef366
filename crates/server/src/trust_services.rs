//! The trust services over HTTP: RFC 3161 time-stamping at `POST /tsa`, OCSP (RFC 6960, POST
//! and GET) at `/ocsp`, CRLs at `/crl/{ca}.crl` and CA certificates at `/ca/{ca}.crt`. None of
//! them needs credentials.
//!
//! Must not know: how tokens, OCSP answers or CRLs are made (`sahih_core::trust`, `sahih-pki`).

use crate::{AppState, Shared};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sahih_core::trust::ca_name;

/// Request bodies of the trust services are small; refuse anything large early.
pub const MAX_SERVICE_BODY: usize = 64 * 1024;

/// The trust services' routes, with their small body limit.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/tsa", post(tsa))
        .route("/ocsp", post(ocsp_post))
        .route("/ocsp/{*request}", get(ocsp_get))
        .route("/crl/{name}", get(crl))
        .route("/ca/{name}", get(ca_cert))
        .layer(DefaultBodyLimit::max(MAX_SERVICE_BODY))
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
