//! The native API under `/api/v1`, described by the OpenAPI document at `/api/v1/openapi.json`
//! (Swagger UI, bundled in the binary, at `/api/v1/docs`). Same HTTP Basic clients as the ECS
//! API; `admin` clients may also read the audit log and list clients.
//!
//! Owns: request/response shapes of the native API and their OpenAPI description. Must not know:
//! how signing, policy or audit work (that is `sahih-core`).

use crate::Shared;
use crate::error::{EcsError, ErrorBody, code, too_large};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sahih_core::requests::{BatchDocument, SignedItem, SignerRef};
use sahih_core::signing_requests::{PlacementSpec, RequestOptions};
use sahih_core::store::{ApiClientRecord, Store};
use sahih_core::{CoreError, Lang, SignOptions};
use sahih_validate::rfc3339;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

/// Where the visible stamp goes; omit for the default (bottom right of the last page). Read by
/// core's `PlacementSpec`, the one reading every door shares.
#[derive(Deserialize, ToSchema, Default)]
pub struct PlacementRequest {
    /// No visible stamp.
    #[serde(default)]
    invisible: bool,
    /// Page number from 1, or "first" / "last".
    page: Option<String>,
    /// [x, y, width, height] in points from the lower-left corner of the page as displayed.
    rect: Option<[f64; 4]>,
    /// Centre the stamp on the first occurrence of this text.
    anchor: Option<String>,
}

/// The JSON part `request` of a signing request.
#[derive(Deserialize, ToSchema)]
pub struct SignRequest {
    /// The signer's NIK (or give `email`).
    nik: Option<String>,
    email: Option<String>,
    /// The signer's passphrase (never stored or logged).
    passphrase: String,
    /// Document class code from the institution's policy (default: the client's, else the
    /// policy's default class).
    class: Option<String>,
    /// B-B, B-T, B-LT (default) or B-LTA.
    level: Option<String>,
    #[serde(default)]
    placement: PlacementRequest,
    reason: Option<String>,
    location: Option<String>,
    /// Language of the stamp: "id" (default) or "en".
    lang: Option<String>,
}

/// A signed document.
#[derive(Serialize, ToSchema)]
pub struct DocumentInfo {
    /// Public id (in the QR URL); also the one-time download id.
    id: String,
    sha256: String,
    level: String,
    field_name: String,
    /// RFC 3339, UTC.
    signed_at: String,
    verification_url: String,
    /// `GET` once within 24 hours.
    download_url: Option<String>,
}

/// An official's status as the native API shows it.
#[derive(Serialize, ToSchema)]
pub struct OfficialInfo {
    nik: String,
    name: String,
    position: String,
    unit: String,
    /// ECS vocabulary: ISSUE, SUSPEND, REVOKE, EXPIRED, NO_CERTIFICATE.
    status: String,
    certificate_serial: Option<String>,
    not_after: Option<String>,
    revoked_at: Option<String>,
}

/// An API client as administrators see it (never its secret).
#[derive(Serialize, ToSchema)]
pub struct ClientInfo {
    name: String,
    role: String,
    disabled: bool,
    allow_ips: Vec<String>,
    default_class: Option<String>,
    created_at: String,
}

/// The outcome of checking the audit chain.
#[derive(Serialize, ToSchema)]
pub struct AuditVerifyResult {
    intact: bool,
    entries: usize,
    anchors: usize,
    first_bad_seq: Option<i64>,
    message: String,
}

/// One document class of the policy.
#[derive(Serialize, ToSchema)]
pub struct DocClassDoc {
    code: String,
    name: String,
    /// allowed, forbidden or required.
    rule: String,
    positions: Vec<String>,
    regulation: String,
}

/// The document-class policy in force.
#[derive(Serialize, ToSchema)]
pub struct PolicyDoc {
    default_class: String,
    classes: Vec<DocClassDoc>,
}

/// Which audit entries to list, by sequence number.
#[derive(Deserialize, IntoParams)]
pub struct AuditRange {
    /// First sequence number (default 1).
    from: Option<i64>,
    /// Last sequence number (default: the newest).
    to: Option<i64>,
}

impl From<&PlacementRequest> for PlacementSpec {
    fn from(p: &PlacementRequest) -> Self {
        PlacementSpec {
            invisible: p.invisible,
            page: p.page.clone(),
            rect: p.rect,
            anchor: p.anchor.clone(),
        }
    }
}

/// Signs one PDF for an official.
#[utoipa::path(
    post,
    path = "/api/v1/documents",
    request_body(content_type = "multipart/form-data",
                 description = "`file`: the PDF; `request`: a SignRequest as JSON"),
    responses(
        (status = 200, description = "Signed; the file waits for one download", body = DocumentInfo),
        (status = 400, description = "Bad input (code 4014/4015/4031), wrong passphrase (2031), ...", body = ErrorBody),
        (status = 403, description = "Refused by the document-class policy (2041)", body = ErrorBody),
        (status = 413, description = "Body too large (4131)", body = ErrorBody)
    )
)]
pub async fn sign_document(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    crate::ecs::EcsMultipart(mut mp): crate::ecs::EcsMultipart,
) -> Result<Response, EcsError> {
    let mut file: Option<(Option<String>, Bytes)> = None;
    let mut request: Option<SignRequest> = None;
    while let Some((name, file_name, data)) = crate::ecs::next_part(&mut mp).await? {
        match name.as_str() {
            "file" => file = Some((file_name, data)),
            "request" => {
                request = Some(serde_json::from_slice(&data).map_err(|e| {
                    EcsError::invalid(format!("request bukan JSON SignRequest yang valid: {e}"))
                })?)
            }
            _ => {}
        }
    }
    let (file_name, pdf) = file.ok_or_else(|| EcsError::required("file"))?;
    let req = request.ok_or_else(|| EcsError::required("request"))?;
    let passphrase = zeroize::Zeroizing::new(req.passphrase);
    let who = match (
        req.nik.filter(|s| !s.is_empty()),
        req.email.filter(|s| !s.is_empty()),
    ) {
        (Some(n), _) => SignerRef::Nik(n),
        (None, Some(e)) => SignerRef::Email(e),
        _ => return Err(EcsError::required("nik atau email")),
    };
    let options = document_options(
        req.level.as_deref(),
        &req.placement,
        req.reason,
        req.location,
        req.lang.as_deref(),
    )?;
    let item = crate::ecs::sign_one(
        &state,
        &client,
        crate::ecs::SignerAuth {
            who,
            passphrase: &passphrase,
            otp: None,
        },
        req.class.as_deref(),
        BatchDocument {
            bytes: pdf.to_vec(),
            options,
            file_name,
        },
    )
    .await?;
    Ok(Json(document_info(&state, item)).into_response())
}

/// The options of a native signing or sealing request.
pub(crate) fn document_options(
    level: Option<&str>,
    placement_request: &PlacementRequest,
    reason: Option<String>,
    location: Option<String>,
    lang: Option<&str>,
) -> Result<SignOptions, EcsError> {
    RequestOptions {
        placement: placement_request.into(),
        level: level.map(str::to_string),
        reason,
        location,
        lang: lang.map(str::to_string),
    }
    .sign_options()
    .map_err(|e| EcsError::from_core(&e))
}

/// What the native API answers for a signed (or sealed) document kept for one download.
pub(crate) fn document_info(state: &crate::AppState, item: SignedItem) -> DocumentInfo {
    let o = item.outcome;
    DocumentInfo {
        download_url: item
            .download_id
            .map(|id| format!("{}/api/v1/documents/{id}/file", state.sahih.config.base_url)),
        id: o.document_id,
        sha256: o.sha256_hex,
        level: o.level.as_str().into(),
        field_name: o.field_name,
        signed_at: rfc3339(o.signed_at),
        verification_url: o.verification_url,
    }
}

/// What Sahih recorded about a signed document (the record behind its QR code).
#[utoipa::path(
    get,
    path = "/api/v1/documents/{id}",
    params(("id" = String, Path, description = "document id")),
    responses((status = 200, body = DocumentInfo), (status = 404, body = ErrorBody))
)]
pub async fn document_status(
    State(state): State<Shared>,
    Path(id): Path<String>,
) -> Result<Response, EcsError> {
    let not_found = || EcsError::new(StatusCode::NOT_FOUND, 4040, "Dokumen tidak ditemukan");
    let doc = state
        .sahih
        .store
        .signed_document(&id)
        .await
        .map_err(|e| EcsError::from_core(&e.into()))?
        .ok_or_else(not_found)?;
    Ok(Json(DocumentInfo {
        verification_url: format!("{}/v/{}", state.sahih.config.base_url, doc.id),
        id: doc.id,
        sha256: doc.sha256_hex,
        level: doc.level,
        field_name: doc.field_name,
        signed_at: rfc3339(doc.signed_at),
        download_url: None,
    })
    .into_response())
}

/// The signed PDF, once (the same one-time download as the ECS API).
#[utoipa::path(
    get,
    path = "/api/v1/documents/{id}/file",
    params(("id" = String, Path, description = "document id")),
    responses((status = 200, content_type = "application/pdf", description = "the signed PDF"),
              (status = 404, body = ErrorBody))
)]
pub async fn document_file(
    state: State<Shared>,
    client: axum::Extension<ApiClientRecord>,
    id: Path<String>,
) -> Result<Response, EcsError> {
    crate::ecs::v1::v1_download(state, client, id).await
}

/// Validates every signature in a PDF (request body: the PDF itself); answers the full Sahih
/// report (ETSI EN 319 102-1 indications).
#[utoipa::path(
    post,
    path = "/api/v1/verify",
    request_body(content_type = "application/pdf", description = "the PDF"),
    responses((status = 200, description = "validation report", body = Object),
              (status = 400, body = ErrorBody), (status = 413, body = ErrorBody))
)]
pub async fn verify_document(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, EcsError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            EcsError::invalid(e.body_text())
        }
    })?;
    if body.is_empty() {
        return Err(EcsError::required("PDF"));
    }
    let report = crate::ecs::verify_report(&state, &client, body.to_vec())
        .await?
        .ok_or_else(|| EcsError::from_core(&CoreError::Service("no report".into())))?;
    Ok(Json(report).into_response())
}

/// An official and the status of their newest certificate.
#[utoipa::path(
    get,
    path = "/api/v1/officials/{nik}",
    params(("nik" = String, Path, description = "NIK")),
    responses((status = 200, body = OfficialInfo), (status = 404, body = ErrorBody))
)]
pub async fn official_status(
    State(state): State<Shared>,
    Path(nik): Path<String>,
) -> Result<Response, EcsError> {
    let official = match state.sahih.resolve_official(&SignerRef::Nik(nik)).await {
        Ok(o) => o,
        Err(CoreError::NikNotRegistered) => {
            return Err(EcsError::new(
                StatusCode::NOT_FOUND,
                code::USER_NOT_REGISTERED,
                "User tidak terdaftar",
            ));
        }
        Err(e) => return Err(EcsError::from_core(&e)),
    };
    let cert = state
        .sahih
        .store
        .latest_certificate(official.id)
        .await
        .map_err(|e| EcsError::from_core(&e.into()))?;
    let status =
        sahih_core::ra::effective_status(Some(&official), cert.as_ref(), OffsetDateTime::now_utc())
            .as_str();
    Ok(Json(OfficialInfo {
        nik: official.nik,
        name: official.name,
        position: official.position,
        unit: official.unit,
        status: status.into(),
        certificate_serial: cert.as_ref().map(|c| c.serial_hex.clone()),
        not_after: cert.as_ref().map(|c| rfc3339(c.not_after)),
        revoked_at: cert.as_ref().and_then(|c| c.revoked_at).map(rfc3339),
    })
    .into_response())
}

/// The document-class policy in force.
#[utoipa::path(get, path = "/api/v1/policy", responses((status = 200, body = PolicyDoc)))]
pub async fn get_policy(State(state): State<Shared>) -> Result<Response, EcsError> {
    let p = state
        .sahih
        .policy()
        .await
        .map_err(|e| EcsError::from_core(&e))?;
    Ok(Json(PolicyDoc {
        default_class: p.default_class,
        classes: p
            .classes
            .into_iter()
            .map(|c| DocClassDoc {
                code: c.code,
                name: c.name,
                rule: c.rule.as_str().into(),
                positions: c.positions,
                regulation: c.regulation,
            })
            .collect(),
    })
    .into_response())
}

/// API clients (admin clients only); secrets are never shown.
#[utoipa::path(get, path = "/api/v1/clients",
    responses((status = 200, body = [ClientInfo]), (status = 403, body = ErrorBody)))]
pub async fn list_clients(State(state): State<Shared>) -> Result<Response, EcsError> {
    // The role was checked by `authz` (ListClients / ReadAudit).
    let clients = state
        .sahih
        .store
        .api_clients()
        .await
        .map_err(|e| EcsError::from_core(&e.into()))?;
    let out: Vec<ClientInfo> = clients
        .into_iter()
        .map(|c| ClientInfo {
            name: c.name,
            role: c.role.as_str().to_string(),
            disabled: c.disabled,
            allow_ips: c.allow_ips,
            default_class: c.default_class,
            created_at: rfc3339(c.created_at),
        })
        .collect();
    Ok(Json(out).into_response())
}

/// Audit entries in a range (admin clients only), oldest first.
#[utoipa::path(get, path = "/api/v1/audit", params(AuditRange),
    responses((status = 200, description = "entries", body = [Object]), (status = 403, body = ErrorBody)))]
pub async fn audit_entries(
    State(state): State<Shared>,
    Query(range): Query<AuditRange>,
) -> Result<Response, EcsError> {
    // The role was checked by `authz` (ReadAudit).
    let from = range.from.unwrap_or(1).max(1);
    // At most 10,000 entries per answer: page with `from`.
    let to = range.to.unwrap_or(i64::MAX).min(from.saturating_add(9_999));
    let entries = state
        .sahih
        .store
        .audit_entries(from, to)
        .await
        .map_err(|e| EcsError::from_core(&e.into()))?;
    Ok(Json(entries).into_response())
}

/// Checks the whole audit chain (admin clients only).
#[utoipa::path(get, path = "/api/v1/audit/verify",
    responses((status = 200, body = AuditVerifyResult), (status = 403, body = ErrorBody)))]
pub async fn audit_verify(State(state): State<Shared>) -> Result<Response, EcsError> {
    // The role was checked by `authz` (ListClients / ReadAudit).
    let result = state
        .sahih
        .verify_audit()
        .await
        .map_err(|e| EcsError::from_core(&e))?;
    Ok(Json(match result {
        Ok(c) => AuditVerifyResult {
            intact: true,
            entries: c.entries,
            anchors: c.anchors,
            first_bad_seq: None,
            message: "Log audit utuh".into(),
        },
        Err(f) => AuditVerifyResult {
            intact: false,
            entries: 0,
            anchors: 0,
            first_bad_seq: Some(f.first_bad_seq()),
            message: f.message(Lang::Id),
        },
    })
    .into_response())
}

/// The native API's routes under `/api/v1` (documents, verification, officials, policy,
/// clients, audit); authentication and authorization are layered on by [`crate::router`].
pub fn routes() -> axum::Router<Shared> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/v1/documents", post(sign_document))
        .route("/api/v1/documents/{id}", get(document_status))
        .route("/api/v1/documents/{id}/file", get(document_file))
        .route("/api/v1/verify", post(verify_document))
        .route("/api/v1/officials/{nik}", get(official_status))
        .route("/api/v1/policy", get(get_policy))
        .route("/api/v1/clients", get(list_clients))
        .route("/api/v1/audit", get(audit_entries))
        .route("/api/v1/audit/verify", get(audit_verify))
}
