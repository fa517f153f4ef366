//! The ECS seal endpoints (`/api/v2/seal/get/activation`, `/revoke/activation`, `/get/totp`,
//! `/pdf`) with ECS field names and answers, and the sealing flow the native seal endpoint
//! shares (`seal_flow`).
//!
//! Sealing runs the one signing pipeline (`sahih_core::pipeline`); it differs from a
//! signature only in how the key is unlocked: with a batch code instead of a passphrase.
//!
//! Must not know: how codes are made, stored or checked, or the lockout (`sahih_core::seal`).

use crate::Shared;
use crate::ecs::v2::{V2Properties, v2_documents, v2_files, v2_signed_response};
use crate::ecs::{json_rejection, num};
use crate::error::{EcsError, code};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sahih_core::pipeline::Signer;
use sahih_core::requests::{BatchDocument, SignedItem};
use sahih_core::seal::{MAX_BATCH_DOCUMENTS, SealActivation};
use sahih_core::store::ApiClientRecord;
use sahih_core::{CoreError, Lang, format_wib};
use serde::Deserialize;
use serde_json::{Value, json};

/// What failed, at the start of every sealing error text (the code ends it, as ECS writes it).
const SEAL_CONTEXT: &str = "Proses segel gagal";

/// Maps a core error of a seal operation to the ECS code an integrator expects, with messages
/// that speak of the seal rather than of an official.
pub(crate) fn seal_error(e: &CoreError) -> EcsError {
    let bad = |c: u32, m: String| EcsError::new(StatusCode::BAD_REQUEST, c, m);
    match e {
        CoreError::NikNotRegistered => bad(
            code::USER_NOT_REGISTERED,
            "Segel tidak terdaftar (idSubscriber tidak dikenal)".into(),
        ),
        CoreError::WrongOtp { remaining } => bad(
            code::WRONG_OTP,
            format!(
                "TOTP salah, kedaluwarsa, atau sudah dipakai. Sisa percobaan sebelum segel dikunci sementara: {remaining}"
            ),
        ),
        CoreError::Locked { until } => bad(
            code::LOCKED,
            format!(
                "Segel terkunci sementara karena terlalu banyak TOTP salah, sampai {}",
                format_wib(*until, Lang::Id)
            ),
        ),
        CoreError::NoCertificate => bad(
            code::CERTIFICATE_NOT_ACTIVE,
            "Segel ini belum memiliki sertifikat elektronik".into(),
        ),
        CoreError::CertificateRevoked { .. } => bad(
            code::CERTIFICATE_NOT_ACTIVE,
            "Sertifikat segel elektronik ini telah dicabut; penyegelan ditolak".into(),
        ),
        CoreError::CertificateSuspended { .. } => bad(
            code::CERTIFICATE_NOT_ACTIVE,
            "Sertifikat segel elektronik ini sedang ditangguhkan (SUSPEND); penyegelan ditolak"
                .into(),
        ),
        CoreError::CertificateExpired { at } => bad(
            code::CERTIFICATE_NOT_ACTIVE,
            format!(
                "Sertifikat segel elektronik ini kedaluwarsa pada {}; penyegelan ditolak",
                format_wib(*at, Lang::Id)
            ),
        ),
        other => EcsError::from_core(other),
    }
}

fn in_context(mut e: EcsError) -> EcsError {
    e.context = SEAL_CONTEXT;
    e
}

pub(crate) fn id_subscriber(v: Option<String>) -> Result<String, EcsError> {
    v.map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| EcsError::required("idSubscriber"))
}

pub(crate) fn totp(v: Option<String>) -> Result<String, EcsError> {
    v.filter(|s| !s.trim().is_empty())
        .ok_or_else(|| EcsError::required("TOTP"))
}

// ---------------------------------------------------------------------------------------------
// The sealing pipeline
// ---------------------------------------------------------------------------------------------

/// Seals documents through the one signing pipeline ([`sahih_core::Sahih::sign_batch`]) with
/// the seal's batch code; returns the items in request order, errors with seal ECS codes.
pub(crate) async fn seal_flow(
    state: &Shared,
    client: &ApiClientRecord,
    id_subscriber: &str,
    batch_code: &str,
    class: Option<&str>,
    documents: Vec<BatchDocument>,
    keep_for_download: bool,
) -> Result<Vec<SignedItem>, EcsError> {
    let signer = Signer::Seal {
        id_subscriber,
        batch_code,
    };
    crate::sign_for_client(state, client, signer, class, documents, keep_for_download)
        .await
        .map_err(|e| in_context(seal_error(&e)))
}

/// `seal/get/activation`: which seal, and the code the system was given.
#[derive(Deserialize)]
pub struct SealActivationRequest {
    #[serde(rename = "idSubscriber", alias = "id_subscriber")]
    id_subscriber: Option<String>,
    /// The activation code, to check whether it is still valid (refresh).
    #[serde(alias = "otp")]
    totp: Option<String>,
}

/// ECS `POST /api/v2/seal/get/activation`: `{idSubscriber}` sends a new activation code to the
/// seal's e-mail; `{idSubscriber, totp}` answers whether that code is still valid.
pub async fn ecs_get_activation(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    body: Result<Json<SealActivationRequest>, JsonRejection>,
) -> Result<Response, EcsError> {
    let Json(req) = body.map_err(json_rejection)?;
    let id = id_subscriber(req.id_subscriber)?;
    let code = req.totp.filter(|t| !t.trim().is_empty());
    let answer = state
        .sahih
        .seal_activation(&id, code.as_deref(), Some(&client.name))
        .await
        .map_err(|e| seal_error(&e))?;
    Ok(Json(match answer {
        SealActivation::Sent { .. } => json!({
            "success": true,
            "message": "TOTP Aktivasi berhasil dikirim",
            "data": null,
        }),
        SealActivation::StillValid { expires } => {
            let message = "TOTP Aktivasi masih berlaku";
            json!({
                "success": true,
                "message": message,
                "data": {
                    "message": message,
                    "totp": code.unwrap_or_default(),
                    "expires": crate::ecs::ecs_expires(expires),
                    "result": true,
                },
            })
        }
    })
    .into_response())
}

/// `seal/revoke/activation`: which seal, and the activation to end.
#[derive(Deserialize)]
pub struct SealRevokeRequest {
    #[serde(rename = "idSubscriber", alias = "id_subscriber")]
    id_subscriber: Option<String>,
    #[serde(alias = "otp")]
    totp: Option<String>,
}

/// ECS `POST /api/v2/seal/revoke/activation`: with the activation code, every activation and
/// batch code of the seal stops working.
pub async fn ecs_revoke_activation(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    body: Result<Json<SealRevokeRequest>, JsonRejection>,
) -> Result<Response, EcsError> {
    let Json(req) = body.map_err(json_rejection)?;
    let id = id_subscriber(req.id_subscriber)?;
    let code = totp(req.totp)?;
    state
        .sahih
        .seal_revoke_activation(&id, &code, Some(&client.name))
        .await
        .map_err(|e| seal_error(&e))?;
    Ok(Json(json!({
        "success": true,
        "message": "TOTP Aktivasi berhasil dicabut",
        "data": null,
    }))
    .into_response())
}

/// `seal/get/totp`: a batch code for this many documents.
#[derive(Deserialize)]
pub struct SealTotpRequest {
    #[serde(rename = "idSubscriber", alias = "id_subscriber")]
    id_subscriber: Option<String>,
    /// How many documents the batch code is for.
    #[serde(default)]
    data: Value,
    /// The activation code.
    #[serde(alias = "otp")]
    totp: Option<String>,
}

/// ECS `POST /api/v2/seal/get/totp`: with the activation code, a batch code for `data`
/// documents, valid 10 minutes (answered to the calling system, as ECS does).
pub async fn ecs_get_totp(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    body: Result<Json<SealTotpRequest>, JsonRejection>,
) -> Result<Response, EcsError> {
    let Json(req) = body.map_err(json_rejection)?;
    let id = id_subscriber(req.id_subscriber)?;
    let documents = num("data", &req.data)?.unwrap_or(1.0);
    if !(1.0..=MAX_BATCH_DOCUMENTS as f64).contains(&documents) || documents.fract() != 0.0 {
        return Err(EcsError::invalid(format!(
            "data harus jumlah dokumen 1 sampai {MAX_BATCH_DOCUMENTS}"
        )));
    }
    let activation = totp(req.totp)?;
    let (batch, expires) = state
        .sahih
        .seal_batch_code(&id, &activation, documents as i64, Some(&client.name))
        .await
        .map_err(|e| seal_error(&e))?;
    let message = "TOTP berhasil dibuat";
    let expires = crate::ecs::ecs_expires(expires);
    // The manual shows {message, totp, expires, result}; clients read it at the top level or
    // under data, so both carry it.
    Ok(Json(json!({
        "success": true,
        "message": message,
        "totp": batch,
        "expires": expires,
        "result": true,
        "data": {
            "message": message,
            "totp": batch,
            "expires": expires,
            "result": true,
        },
    }))
    .into_response())
}

/// `seal/pdf`: the documents to seal with a batch code.
#[derive(Deserialize)]
pub struct SealPdfRequest {
    #[serde(rename = "idSubscriber", alias = "id_subscriber")]
    id_subscriber: Option<String>,
    /// The batch code from `seal/get/totp`.
    #[serde(alias = "otp")]
    totp: Option<String>,
    #[serde(rename = "signatureProperties", default)]
    signature_properties: Vec<V2Properties>,
    /// Where each base64 file lies in the body (decoded in place: see `b64json`).
    #[serde(default)]
    file: Vec<crate::http::b64json::FileSpan>,
    /// Sahih extension: the document class (else the API client's default class).
    #[serde(
        rename = "kelasDokumen",
        alias = "kelas_dokumen",
        alias = "documentClass"
    )]
    kelas_dokumen: Option<String>,
}

/// ECS `POST /api/v2/seal/pdf`: seals every file with the batch code; answers like v2 sign.
pub async fn ecs_seal_pdf(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    mut body: crate::http::b64json::JsonWithFiles<SealPdfRequest>,
) -> Result<Response, EcsError> {
    let started = std::time::Instant::now();
    let spans = std::mem::take(&mut body.value.file);
    let id = id_subscriber(body.value.id_subscriber.take())?;
    let batch = zeroize::Zeroizing::new(totp(body.value.totp.take())?);
    let (req, files) = v2_files(&state, body, &spans)?;
    let documents = v2_documents(&state, files, &req.signature_properties)?;
    let items = seal_flow(
        &state,
        &client,
        &id,
        &batch,
        req.kelas_dokumen.as_deref(),
        documents,
        false,
    )
    .await?;
    Ok(v2_signed_response(started, &items))
}

/// The ECS seal routes; authentication and authorization are layered on by [`crate::router`].
pub fn routes() -> axum::Router<Shared> {
    use axum::routing::post;
    axum::Router::new()
        .route("/api/v2/seal/get/activation", post(ecs_get_activation))
        .route(
            "/api/v2/seal/revoke/activation",
            post(ecs_revoke_activation),
        )
        .route("/api/v2/seal/get/totp", post(ecs_get_totp))
        .route("/api/v2/seal/pdf", post(ecs_seal_pdf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::code;
    use axum::http::StatusCode;
    use time::OffsetDateTime;

    #[test]
    fn expiry_is_written_as_ecs_writes_it() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_691_382_280_927_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            .to_offset(time::UtcOffset::from_hms(7, 0, 0).unwrap_or(time::UtcOffset::UTC));
        assert_eq!(crate::ecs::ecs_expires(t), "2023-08-07T04:24:40.927+0000");
    }

    #[test]
    fn seal_errors_keep_ecs_codes() {
        let e = seal_error(&CoreError::WrongOtp { remaining: 3 });
        assert_eq!(
            (e.status, e.code),
            (StatusCode::BAD_REQUEST, code::WRONG_OTP)
        );
        assert!(e.message.contains('3'));
        let e = seal_error(&CoreError::NikNotRegistered);
        assert_eq!(e.code, code::USER_NOT_REGISTERED);
        let e = seal_error(&CoreError::CertificateRevoked { at: None });
        assert_eq!(e.code, code::CERTIFICATE_NOT_ACTIVE);
        assert!(e.message.contains("dicabut"));
        let e = seal_error(&CoreError::Service("tsa down".into()));
        assert_eq!(e.code, code::INTERNAL);
        assert!(!e.message.contains("tsa down"));
    }
}
