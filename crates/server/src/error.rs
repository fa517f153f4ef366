//! The one table from errors to ECS answers: every refusal of every API door becomes an
//! [`EcsError`] here ([`EcsError::from_core`] for the domain's errors, [`map_upstream_error`] for
//! an upstream's in gateway mode), with its HTTP status, its ECS code ([`code`]) and an
//! Indonesian message. Internals go to the server log, never to the client.
//!
//! Must not know: request parsing or how anything is signed.

pub use crate::codes as code;
use crate::upstream::UpstreamError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sahih_core::pipeline::RemoteFailure;
use sahih_core::{CoreError, Lang};
use serde_json::json;

/// An ECS-style error: `{"error": "<context> : <message> <code>", "status_code": <HTTP>,
/// "error_code": <code>, "message": "<message>"}`.
#[derive(Debug)]
pub struct EcsError {
    /// The HTTP status of the answer.
    pub status: StatusCode,
    /// The ECS code (`crate::codes`).
    pub code: u32,
    /// The message shown to the caller, in Indonesian.
    pub message: String,
    /// "Proses signing gagal" and the like; empty for none.
    pub context: &'static str,
    /// What went wrong inside, for the server log only (never sent to the client).
    pub internal: Option<String>,
}

impl EcsError {
    /// An answer with this status, code and message.
    pub fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            context: "",
            internal: None,
        }
    }
    /// 400, code 4014: `field` is missing.
    pub fn required(field: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            code::FIELD_REQUIRED,
            format!("{field} harus diisi"),
        )
    }
    /// 400, code 4015: a field has a value the API cannot take.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code::FIELD_INVALID, message)
    }
    pub(crate) fn context(mut self, context: &'static str) -> Self {
        self.context = context;
        self
    }

    /// Maps a core error to the ECS code an integrator expects.
    pub fn from_core(e: &CoreError) -> Self {
        // An upstream refusal (gateway mode) keeps the upstream's own ECS code and status.
        if let CoreError::Remote(f) = e {
            return map_remote_failure(f);
        }
        let msg = e.message(Lang::Id);
        let (status, c, message) = match e {
            CoreError::NikNotRegistered => (
                StatusCode::BAD_REQUEST,
                code::USER_NOT_REGISTERED,
                "User tidak terdaftar".to_string(),
            ),
            CoreError::WrongPassphrase { .. } => (
                StatusCode::BAD_REQUEST,
                code::WRONG_PASSPHRASE,
                "Passphrase anda salah".to_string(),
            ),
            CoreError::Locked { .. } => (StatusCode::BAD_REQUEST, code::LOCKED, msg),
            CoreError::WrongOtp { .. } => (StatusCode::BAD_REQUEST, code::WRONG_OTP, msg),
            CoreError::NoCertificate
            | CoreError::CertificateRevoked { .. }
            | CoreError::CertificateSuspended { .. }
            | CoreError::CertificateExpired { .. } => {
                (StatusCode::BAD_REQUEST, code::CERTIFICATE_NOT_ACTIVE, msg)
            }
            CoreError::PolicyRefused { .. } => (StatusCode::FORBIDDEN, code::POLICY_REFUSED, msg),
            CoreError::Forbidden { .. } => (StatusCode::FORBIDDEN, code::FORBIDDEN, msg),
            CoreError::InvalidTransition { .. } => {
                (StatusCode::CONFLICT, code::INVALID_TRANSITION, msg)
            }
            CoreError::AlreadyEnrolled => (StatusCode::CONFLICT, code::NIK_REGISTERED, msg),
            CoreError::NotFound(_) => (StatusCode::NOT_FOUND, code::NOT_FOUND, msg),
            CoreError::Evidence(_) => (StatusCode::BAD_REQUEST, code::EVIDENCE_INVALID, msg),
            // Not the caller's fault: a server error whose message says what, without the
            // storage key (that goes to the log).
            CoreError::EvidenceDamaged { .. } => (
                StatusCode::INTERNAL_SERVER_ERROR,
                code::EVIDENCE_DAMAGED,
                msg,
            ),
            CoreError::ActivationLinkInvalid => (StatusCode::GONE, code::LINK_INVALID, msg),
            CoreError::Pdf(_) => (StatusCode::BAD_REQUEST, code::DOCUMENT_INVALID, msg),
            CoreError::InvalidArgument(_)
            | CoreError::WeakPassphrase(_)
            | CoreError::Identity(_) => (StatusCode::BAD_REQUEST, code::FIELD_INVALID, msg),
            // Database, storage, trust-service and configuration failures: no internals to
            // the client (they are in the server log with the request id).
            _ => (
                StatusCode::INTERNAL_SERVER_ERROR,
                code::INTERNAL,
                "Terjadi kesalahan pada server; coba lagi nanti".to_string(),
            ),
        };
        let mut err = Self::new(status, c, message);
        if status.is_server_error() {
            err.internal = Some(e.to_string());
        }
        err
    }
}

impl IntoResponse for EcsError {
    fn into_response(self) -> Response {
        let error = if self.context.is_empty() {
            format!("{} {}", self.message, self.code)
        } else {
            format!("{} : {} {}", self.context, self.message, self.code)
        };
        let body = json!({
            "status_code": self.status.as_u16(),
            "error_code": self.code,
            "error": error,
            "message": self.message,
        });
        let mut r = (self.status, Json(body)).into_response();
        r.extensions_mut().insert(ErrorCode(self.code));
        if let Some(detail) = self.internal {
            InternalError::attach(&mut r, detail);
        }
        r
    }
}

/// 413, code 4131: the body is over the configured limit.
pub fn too_large() -> EcsError {
    EcsError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        code::TOO_LARGE,
        "Ukuran permintaan melebihi batas yang diizinkan",
    )
}

/// The upstream ECS (gateway mode) could not be reached or refused the gateway itself.
pub fn upstream_unavailable() -> EcsError {
    EcsError::new(
        StatusCode::BAD_GATEWAY,
        code::UPSTREAM_UNAVAILABLE,
        "Layanan TTE induk tidak dapat dihubungi; coba lagi nanti",
    )
}

/// An upstream refusal as the caller should see it: ECS codes pass through; the gateway's own
/// credential being refused, or the upstream being down, is a server-side problem.
pub fn map_upstream_error(e: &UpstreamError) -> EcsError {
    match e {
        UpstreamError::Unreachable(_) | UpstreamError::BadResponse(_) => {
            let mut err = upstream_unavailable();
            err.internal = Some(e.to_string());
            err
        }
        UpstreamError::Rejected { .. } if e.unauthorized() => {
            let mut err = upstream_unavailable();
            err.internal = Some(format!("upstream refused the gateway credential: {e}"));
            err
        }
        UpstreamError::Rejected { http, .. } if !(400..500).contains(http) => {
            // A server error or a redirect upstream: not the caller's fault, and its text may
            // describe upstream internals.
            let mut err = upstream_unavailable();
            err.internal = Some(format!("upstream answered HTTP {http}: {e}"));
            err
        }
        UpstreamError::Rejected {
            http,
            code,
            message,
        } => {
            let status = StatusCode::from_u16(*http)
                .ok()
                .filter(|s| s.is_client_error())
                .unwrap_or(StatusCode::BAD_REQUEST);
            EcsError::new(status, code.unwrap_or(code::FIELD_INVALID), message.clone())
        }
    }
}

/// A remote failure as the caller should see it (see [`map_upstream_error`]).
pub fn map_remote_failure(f: &RemoteFailure) -> EcsError {
    match f.cause.downcast_ref::<UpstreamError>() {
        Some(e) => map_upstream_error(e),
        None => {
            let mut err = upstream_unavailable();
            err.internal = Some(f.to_string());
            err
        }
    }
}

/// The error body of every endpoint.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    status_code: u16,
    /// ECS-style code (docs/ECS.md), e.g. 2031 wrong passphrase.
    error_code: u32,
    error: String,
    message: String,
}

/// The ECS error code of a response (a response extension), for the request's log line.
#[derive(Clone, Copy)]
pub struct ErrorCode(pub u32);

/// The cause of a 5xx answer (a response extension), logged with the request id and never sent
/// to the client.
#[derive(Clone)]
pub struct InternalError(pub String);

impl InternalError {
    /// Marks `response` as failed by `detail`: an `error` event now (inside the request's span,
    /// so it carries the request id), and the cause kept on the response for the request line.
    pub fn attach(response: &mut Response, detail: String) {
        tracing::error!(internal_error = %detail, "internal error");
        response.extensions_mut().insert(InternalError(detail));
    }
}
