//! HTTP of the institutional electronic seal (segel elektronik): the ECS seal endpoints
//! (`/api/v2/seal/get/activation`, `/revoke/activation`, `/get/totp`, `/pdf`) with ECS field
//! names and answers, and the native endpoints to issue a seal (verifikators), list seals and
//! seal one document.
//!
//! Sealing runs the one signing pipeline (`sahih_core::pipeline`); it differs from a
//! signature only in how the key is unlocked: with a batch code instead of a passphrase.
//!
//! Must not know: how codes are made, stored or checked, or the lockout (`sahih_core::seal`).

use crate::Shared;
use crate::ecs::{V2Properties, json_rejection, num, v2_documents, v2_files, v2_signed_response};
use crate::error::{EcsError, code};
use crate::native::ErrorBody;
use crate::native::rfc3339;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sahih_core::pipeline::Signer;
use sahih_core::ra::Staff;
use sahih_core::requests::{BatchDocument, SignedItem};
use sahih_core::seal::{MAX_BATCH_DOCUMENTS, SealActivation};
use sahih_core::store::ApiClientRecord;
use sahih_core::{CoreError, Lang, format_wib};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

/// What failed, at the start of every sealing error text (the code ends it, as ECS writes it).
const SEAL_CONTEXT: &str = "Proses segel gagal";

/// Maps a core error of a seal operation to the ECS code an integrator expects, with messages
/// that speak of the seal rather than of an official.
fn seal_error(e: &CoreError) -> EcsError {
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

fn id_subscriber(v: Option<String>) -> Result<String, EcsError> {
    v.map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| EcsError::required("idSubscriber"))
}

fn totp(v: Option<String>) -> Result<String, EcsError> {
    v.filter(|s| !s.trim().is_empty())
        .ok_or_else(|| EcsError::required("TOTP"))
}

// ---------------------------------------------------------------------------------------------
// The sealing pipeline
// ---------------------------------------------------------------------------------------------

/// Seals documents through the one signing pipeline ([`sahih_core::Sahih::sign_batch`]) with
/// the seal's batch code; returns the items in request order, errors with seal ECS codes.
pub async fn seal_flow(
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

// ---------------------------------------------------------------------------------------------
// ECS endpoints
// ---------------------------------------------------------------------------------------------

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
    file: Vec<crate::b64json::FileSpan>,
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
    mut body: crate::b64json::JsonWithFiles<SealPdfRequest>,
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

// ---------------------------------------------------------------------------------------------
// Native endpoints
// ---------------------------------------------------------------------------------------------

/// A seal to issue.
#[derive(Deserialize, ToSchema)]
pub struct SealIssueRequest {
    /// Display name, e.g. "DPMPTSP Kota Contoh" (the certificate's CN and the stamp's name).
    name: String,
    /// The unit (perangkat daerah) the seal belongs to (OU).
    unit: String,
    /// The responsible person's official e-mail: activation codes go there (not written into
    /// the certificate).
    email: String,
}

/// An issued seal.
#[derive(Serialize, ToSchema)]
pub struct SealIssued {
    /// The seal's idSubscriber for the ECS seal endpoints.
    id_subscriber: String,
    certificate_serial: String,
    /// RFC 3339, UTC.
    not_after: String,
    /// The certificate's subject.
    subject: String,
}

/// A requested seal, waiting for a second verifikator.
#[derive(Serialize, ToSchema)]
pub struct SealRequested {
    id_subscriber: String,
    /// WAITING_FOR_VERIFICATION.
    status: String,
}

/// Request an institutional e-seal (verifikators only). Another verifikator issues it with
/// `POST /api/v1/seals/{id}/approve`.
#[utoipa::path(
    post,
    path = "/api/v1/seals",
    request_body = SealIssueRequest,
    responses((status = 202, body = SealRequested), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody))
)]
pub async fn issue(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    body: Result<Json<SealIssueRequest>, JsonRejection>,
) -> Result<Response, EcsError> {
    // The role was checked by `authz` (DecideSeal) before the body was read.
    let Json(req) = body.map_err(json_rejection)?;
    let id = state
        .sahih
        .request_seal(&Staff::from(&client), &req.name, &req.unit, &req.email)
        .await
        .map_err(|e| EcsError::from_core(&e))?;
    Ok((
        StatusCode::ACCEPTED,
        Json(SealRequested {
            id_subscriber: id,
            status: "WAITING_FOR_VERIFICATION".into(),
        }),
    )
        .into_response())
}

/// Issue a requested seal (a verifikator other than the one who requested it): a key and an
/// organisation certificate under the issuing CA. Then `POST /api/v2/seal/get/activation`
/// sends the activation code to the seal's e-mail.
#[utoipa::path(
    post,
    path = "/api/v1/seals/{id}/approve",
    params(("id" = String, Path, description = "idSubscriber")),
    responses((status = 201, body = SealIssued), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody))
)]
pub async fn approve(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, EcsError> {
    let (id, certificate) = state
        .sahih
        .issue_seal(&Staff::from(&client), &id)
        .await
        .map_err(|e| EcsError::from_core(&e))?;
    Ok((
        StatusCode::CREATED,
        Json(SealIssued {
            id_subscriber: id,
            certificate_serial: certificate.serial_hex(),
            not_after: rfc3339(certificate.not_after()),
            subject: certificate.subject_display(),
        }),
    )
        .into_response())
}

/// A seal in a listing.
#[derive(Serialize, ToSchema)]
pub struct SealInfo {
    id_subscriber: String,
    name: String,
    unit: String,
    /// ECS vocabulary: ISSUE, SUSPEND, REVOKE, EXPIRED, NO_CERTIFICATE.
    status: String,
    certificate_serial: Option<String>,
    not_after: Option<String>,
}

/// Every seal (verifikators and admin clients).
#[utoipa::path(
    get,
    path = "/api/v1/seals",
    responses((status = 200, body = [SealInfo]), (status = 403, body = ErrorBody))
)]
pub async fn list(State(state): State<Shared>) -> Result<Response, EcsError> {
    // The role was checked by `authz` (ListSeals).
    let seals = state
        .sahih
        .seals()
        .await
        .map_err(|e| EcsError::from_core(&e))?;
    let out: Vec<SealInfo> = seals
        .into_iter()
        .map(|s| SealInfo {
            id_subscriber: s.seal.nik,
            name: s.seal.name,
            unit: s.seal.unit,
            status: s.status.into(),
            certificate_serial: s.certificate.as_ref().map(|c| c.serial_hex.clone()),
            not_after: s.certificate.as_ref().map(|c| rfc3339(c.not_after)),
        })
        .collect();
    Ok(Json(out).into_response())
}

/// The JSON part `request` of a sealing request.
#[derive(Deserialize, ToSchema)]
pub struct SealDocumentRequest {
    /// The batch code from `POST /api/v2/seal/get/totp` (one use per document).
    totp: String,
    /// Document class code from the institution's policy (default: the client's, else the
    /// policy's default class).
    class: Option<String>,
    /// B-B, B-T, B-LT (default) or B-LTA.
    level: Option<String>,
    #[serde(default)]
    placement: crate::native::PlacementRequest,
    reason: Option<String>,
    location: Option<String>,
    /// Language of the stamp: "id" (default) or "en".
    lang: Option<String>,
}

/// Seal one PDF with a batch code; the sealed file waits for one download, as with
/// `/api/v1/documents`.
#[utoipa::path(
    post,
    path = "/api/v1/seals/{id}/documents",
    params(("id" = String, Path, description = "the seal's idSubscriber")),
    request_body(content_type = "multipart/form-data",
                 description = "`file`: the PDF; `request`: a SealDocumentRequest as JSON"),
    responses(
        (status = 200, description = "Sealed; the file waits for one download", body = crate::native::DocumentInfo),
        (status = 400, description = "Bad input (4014/4015/4031), unknown seal (2011), wrong or spent code (2033), locked (2032), certificate not active (2021)", body = ErrorBody),
        (status = 403, description = "Refused by the document-class policy (2041)", body = ErrorBody),
        (status = 413, description = "Body too large (4131)", body = ErrorBody)
    )
)]
pub async fn seal_document(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    Path(id): Path<String>,
    crate::ecs::EcsMultipart(mut mp): crate::ecs::EcsMultipart,
) -> Result<Response, EcsError> {
    let mut file: Option<(Option<String>, Bytes)> = None;
    let mut request: Option<SealDocumentRequest> = None;
    while let Some((name, file_name, data)) = crate::ecs::next_part(&mut mp).await? {
        match name.as_str() {
            "file" => file = Some((file_name, data)),
            "request" => {
                request = Some(serde_json::from_slice(&data).map_err(|e| {
                    EcsError::invalid(format!(
                        "request bukan JSON SealDocumentRequest yang valid: {e}"
                    ))
                })?)
            }
            _ => {}
        }
    }
    let (file_name, pdf) = file.ok_or_else(|| EcsError::required("file"))?;
    let req = request.ok_or_else(|| EcsError::required("request"))?;
    let batch = zeroize::Zeroizing::new(req.totp);
    if batch.trim().is_empty() {
        return Err(EcsError::required("TOTP"));
    }
    let options = crate::native::document_options(
        req.level.as_deref(),
        &req.placement,
        req.reason,
        req.location,
        req.lang.as_deref(),
    )?;
    let item = seal_flow(
        &state,
        &client,
        &id,
        &batch,
        req.class.as_deref(),
        vec![BatchDocument {
            bytes: pdf.to_vec(),
            options,
            file_name,
        }],
        true,
    )
    .await?
    .pop()
    .ok_or_else(|| EcsError::from_core(&CoreError::Service("no result".into())))?;
    Ok(Json(crate::native::document_info(&state, item)).into_response())
}

/// The seal routes of apps (ECS seal endpoints, sealing a document); authentication and
/// authorization are layered on by [`crate::router`].
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
        .route("/api/v1/seals/{id}/documents", post(seal_document))
}

/// Issuing and approving seals (verifikators): JSON bodies only (see `csrf`).
pub fn staff_json_routes() -> axum::Router<Shared> {
    use axum::routing::post;
    axum::Router::new()
        .route("/api/v1/seals", post(issue).get(list))
        .route("/api/v1/seals/{id}/approve", post(approve))
}

#[cfg(test)]
mod tests {
    use super::*;
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
