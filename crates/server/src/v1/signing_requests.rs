//! Signing requests over the native API (`/api/v1/signing-requests`) and the webhooks that
//! report on them (`/api/v1/webhooks/...`): an application files PDFs for an official and never
//! sees a passphrase; it polls the status or receives signed webhook events, and downloads the
//! signed PDFs by id.
//!
//! Must not know: how requests are kept or signed (`sahih_core::signing_requests`).

use crate::Shared;
use crate::error::ErrorBody;
use crate::error::{EcsError, code};
use sahih_validate::rfc3339;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sahih_core::requests::SignerRef;
use sahih_core::signing_requests::{FileRequest, RequestOptions};
use sahih_core::store::signing::{SigningRequestRecord, SigningRequestStore, WebhookRecord};
use sahih_core::store::{ApiClientRecord, BlobStore};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// The JSON part `request` of a new signing request.
#[derive(Deserialize, ToSchema)]
pub struct NewRequestBody {
    /// The official's NIK (or give `email`).
    nik: Option<String>,
    /// The official's e-mail.
    email: Option<String>,
    /// Document class code (default: the client's, else the policy's).
    class: Option<String>,
    /// The message shown to the official.
    #[serde(default)]
    message: String,
    /// Due date, RFC 3339; the request expires after it.
    due: Option<String>,
    /// Where webhook events go (http or https).
    callback_url: Option<String>,
    /// Placement ({invisible, page, rect, anchor}), level, reason, location, lang.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    options: RequestOptions,
}

/// A document of a request.
#[derive(Serialize, ToSchema)]
pub struct SigningRequestDocument {
    /// Position from 0.
    index: i64,
    file_name: String,
    /// SHA-256 of the PDF as filed.
    sha256: String,
    /// The signing record (QR id) once signed.
    document_id: Option<String>,
    /// Where the signed PDF is fetched, once signed.
    download_url: Option<String>,
}

/// A signing request as its application sees it.
#[derive(Serialize, ToSchema)]
pub struct SigningRequestInfo {
    id: String,
    /// pending, signed, rejected or expired.
    status: String,
    class: String,
    created_at: String,
    opened_at: Option<String>,
    read_at: Option<String>,
    decided_at: Option<String>,
    due: Option<String>,
    /// The official's reason, for a rejection.
    reason: Option<String>,
    documents: Vec<SigningRequestDocument>,
}

fn info(r: &SigningRequestRecord) -> SigningRequestInfo {
    SigningRequestInfo {
        id: r.id.clone(),
        status: r.status.as_str().into(),
        class: r.class.clone(),
        created_at: rfc3339(r.created_at),
        opened_at: r.opened_at.map(rfc3339),
        read_at: r.read_at.map(rfc3339),
        decided_at: r.decided_at.map(rfc3339),
        due: r.due_at.map(rfc3339),
        reason: r.reason.clone(),
        documents: r
            .documents
            .iter()
            .map(|d| SigningRequestDocument {
                index: d.idx,
                file_name: d.file_name.clone(),
                sha256: d.sha256.clone(),
                document_id: d.signed_document_id.clone(),
                download_url: d
                    .signed_blob_key
                    .as_ref()
                    .map(|_| format!("/api/v1/signing-requests/{}/documents/{}", r.id, d.idx)),
            })
            .collect(),
    }
}

/// Files a signing request: multipart with `request` (JSON) and one or more `file` parts.
#[utoipa::path(
    post,
    path = "/api/v1/signing-requests",
    request_body(content_type = "multipart/form-data",
                 description = "`request`: NewRequestBody as JSON; `file`: one or more PDFs"),
    responses(
        (status = 201, description = "Filed; waiting in the official's inbox", body = SigningRequestInfo),
        (status = 400, body = ErrorBody), (status = 403, description = "Refused by the document-class policy", body = ErrorBody),
        (status = 413, body = ErrorBody)
    )
)]
pub async fn file_request(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    crate::ecs::EcsMultipart(mut mp): crate::ecs::EcsMultipart,
) -> Result<Response, EcsError> {
    let mut files = Vec::new();
    let mut body: Option<NewRequestBody> = None;
    while let Some((name, file_name, data)) = crate::ecs::next_part(&mut mp).await? {
        match name.as_str() {
            "file" => files.push((
                file_name.unwrap_or_else(|| format!("dokumen-{}.pdf", files.len() + 1)),
                data.to_vec(),
            )),
            "request" => {
                body = Some(serde_json::from_slice(&data).map_err(|e| {
                    EcsError::invalid(format!("request bukan JSON yang valid: {e}"))
                })?)
            }
            _ => {}
        }
    }
    let body = body.ok_or_else(|| EcsError::required("request"))?;
    if files.is_empty() {
        return Err(EcsError::required("file"));
    }
    let signer = match (
        body.nik.filter(|s| !s.is_empty()),
        body.email.filter(|s| !s.is_empty()),
    ) {
        (Some(n), _) => SignerRef::Nik(n),
        (None, Some(e)) => SignerRef::Email(e),
        _ => return Err(EcsError::required("nik atau email")),
    };
    let due_at = match body.due.as_deref() {
        Some(d) => Some(
            OffsetDateTime::parse(d, &time::format_description::well_known::Rfc3339)
                .map_err(|_| EcsError::invalid("due harus waktu RFC 3339"))?,
        ),
        None => None,
    };
    let record = state
        .sahih
        .file_signing_request(
            FileRequest {
                client: &client,
                signer,
                class: body.class,
                options: body.options,
                message: body.message,
                due_at,
                callback_url: body.callback_url,
                documents: files,
            },
            &state.blobs,
        )
        .await
        .map_err(|e| EcsError::from_core(&e))?;
    Ok((StatusCode::CREATED, Json(info(&record))).into_response())
}

/// The status of a signing request (only the application that filed it sees it).
#[utoipa::path(
    get,
    path = "/api/v1/signing-requests/{id}",
    params(("id" = String, Path, description = "request id")),
    responses((status = 200, body = SigningRequestInfo), (status = 404, body = ErrorBody))
)]
pub async fn request_status(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    Path(id): Path<String>,
) -> Result<Response, EcsError> {
    let r = state
        .sahih
        .request_for_client(&client, &id)
        .await
        .map_err(|e| EcsError::from_core(&e))?;
    Ok(Json(info(&r)).into_response())
}

/// A signed PDF of a request (as often as needed while it is kept).
#[utoipa::path(
    get,
    path = "/api/v1/signing-requests/{id}/documents/{index}",
    params(("id" = String, Path, description = "request id"),
           ("index" = i64, Path, description = "document index from 0")),
    responses((status = 200, description = "the signed PDF", content_type = "application/pdf"),
              (status = 404, body = ErrorBody), (status = 409, description = "not signed yet", body = ErrorBody))
)]
pub async fn signed_document(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    Path((id, index)): Path<(String, i64)>,
) -> Result<Response, EcsError> {
    let r = state
        .sahih
        .request_for_client(&client, &id)
        .await
        .map_err(|e| EcsError::from_core(&e))?;
    let d = r.documents.iter().find(|d| d.idx == index).ok_or_else(|| {
        EcsError::new(StatusCode::NOT_FOUND, code::NOT_FOUND, "Dokumen tidak ada")
    })?;
    let Some(key) = &d.signed_blob_key else {
        return Err(EcsError::new(
            StatusCode::CONFLICT,
            code::INVALID_TRANSITION,
            "Dokumen belum ditandatangani",
        ));
    };
    let bytes = state
        .blobs
        .get(key)
        .await
        .map_err(|e| EcsError::from_core(&e.into()))?
        .ok_or_else(|| {
            EcsError::new(
                StatusCode::GONE,
                code::NOT_FOUND,
                "Dokumen sudah tidak disimpan",
            )
        })?;
    let mut resp = (StatusCode::OK, bytes).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Some(doc_id) = &d.signed_document_id
        && let Ok(v) = HeaderValue::from_str(doc_id)
    {
        resp.headers_mut().insert("id_dokumen", v);
    }
    Ok(resp)
}

/// A new webhook secret for the calling application (shown once; the old one stops working).
#[derive(Serialize, ToSchema)]
pub struct WebhookSecret {
    /// HMAC-SHA256 key of the `Sahih-Signature` header: `t=<unix time>,v1=<hex of
    /// HMAC(secret, "<t>.<body>")>`.
    secret: String,
}

/// Makes a new webhook secret for the calling application.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/secret",
    responses((status = 200, body = WebhookSecret))
)]
pub async fn new_secret(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
) -> Result<Response, EcsError> {
    let secret = state
        .sahih
        .new_webhook_secret(&client, &format!("client:{}", client.name))
        .await
        .map_err(|e| EcsError::from_core(&e))?;
    Ok(Json(WebhookSecret {
        secret: secret.to_string(),
    })
    .into_response())
}

/// One webhook event and how its delivery went.
#[derive(Serialize, ToSchema)]
pub struct WebhookDelivery {
    /// The delivery (for replay).
    id: i64,
    /// The event's id, as sent in `Sahih-Event-Id` and the body's `id`.
    event_id: String,
    request_id: String,
    /// request.opened, request.read, request.signed, request.rejected or request.expired.
    event: String,
    url: String,
    created_at: String,
    attempts: i64,
    /// delivered, pending or given_up.
    state: String,
    delivered_at: Option<String>,
    next_attempt_at: Option<String>,
    last_status: Option<i64>,
    last_error: Option<String>,
}

fn delivery(w: &WebhookRecord) -> WebhookDelivery {
    let state = if w.delivered_at.is_some() {
        "delivered"
    } else if w.given_up_at.is_some() {
        "given_up"
    } else {
        "pending"
    };
    WebhookDelivery {
        id: w.id,
        event_id: w.event_id.clone(),
        request_id: w.request_id.clone(),
        event: w.event.as_str().into(),
        url: w.url.clone(),
        created_at: rfc3339(w.created_at),
        attempts: w.attempts,
        state: state.into(),
        delivered_at: w.delivered_at.map(rfc3339),
        next_attempt_at: (state == "pending").then(|| rfc3339(w.next_attempt_at)),
        last_status: w.last_status,
        last_error: w.last_error.clone(),
    }
}

/// The calling application's webhook deliveries, newest first (at most 500).
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/deliveries",
    responses((status = 200, body = [WebhookDelivery]))
)]
pub async fn deliveries(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
) -> Result<Response, EcsError> {
    let log = state
        .sahih
        .store
        .webhook_log(client.id, 500)
        .await
        .map_err(|e| EcsError::from_core(&e.into()))?;
    Ok(Json(log.iter().map(delivery).collect::<Vec<_>>()).into_response())
}

/// Sends an event again (after a given-up delivery, or to rebuild the receiver's state).
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/deliveries/{id}/replay",
    params(("id" = i64, Path, description = "delivery id")),
    responses((status = 202, description = "queued again"), (status = 404, body = ErrorBody))
)]
pub async fn replay(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    Path(id): Path<i64>,
) -> Result<Response, EcsError> {
    let done = state
        .sahih
        .store
        .replay_webhook(client.id, id, OffsetDateTime::now_utc())
        .await
        .map_err(|e| EcsError::from_core(&e.into()))?;
    if !done {
        return Err(EcsError::new(
            StatusCode::NOT_FOUND,
            code::NOT_FOUND,
            "Pengiriman tidak ditemukan",
        ));
    }
    state.webhooks_wake.notify_one();
    Ok(StatusCode::ACCEPTED.into_response())
}

/// The routes of this surface.
pub fn routes() -> axum::Router<Shared> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/v1/signing-requests", post(file_request))
        .route("/api/v1/signing-requests/{id}", get(request_status))
        .route(
            "/api/v1/signing-requests/{id}/documents/{index}",
            get(signed_document),
        )
        .route("/api/v1/webhooks/secret", post(new_secret))
        .route("/api/v1/webhooks/deliveries", get(deliveries))
        .route("/api/v1/webhooks/deliveries/{id}/replay", post(replay))
}
