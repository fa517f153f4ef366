//! The institutional electronic seal (segel elektronik) in the native API: issuing a seal
//! (verifikators), listing seals and sealing one document, through the sealing flow of
//! `crate::ecs::seal`.
//!
//! Sealing runs the one signing pipeline (`sahih_core::pipeline`); it differs from a
//! signature only in how the key is unlocked: with a batch code instead of a passphrase.
//!
//! Must not know: how codes are made, stored or checked, or the lockout (`sahih_core::seal`).

use crate::Shared;
use crate::ecs::json_rejection;
use crate::ecs::seal::seal_flow;
use crate::error::EcsError;
use crate::error::ErrorBody;
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sahih_core::CoreError;
use sahih_core::ra::Staff;
use sahih_core::requests::BatchDocument;
use sahih_core::store::ApiClientRecord;
use sahih_validate::rfc3339;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    placement: crate::v1::documents::PlacementRequest,
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
        (status = 200, description = "Sealed; the file waits for one download", body = crate::v1::documents::DocumentInfo),
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
    let options = crate::v1::documents::document_options(
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
    Ok(Json(crate::v1::documents::document_info(&state, item)).into_response())
}

/// The seal routes of apps (ECS seal endpoints, sealing a document); authentication and
/// authorization are layered on by [`crate::router`].
/// Sealing a document through the native API; authentication and authorization are layered on
/// by [`crate::router`].
pub fn routes() -> axum::Router<Shared> {
    use axum::routing::post;
    axum::Router::new().route("/api/v1/seals/{id}/documents", post(seal_document))
}

/// Issuing and approving seals (verifikators): JSON bodies only (see `csrf`).
pub fn staff_json_routes() -> axum::Router<Shared> {
    use axum::routing::post;
    axum::Router::new()
        .route("/api/v1/seals", post(issue).get(list))
        .route("/api/v1/seals/{id}/approve", post(approve))
}
