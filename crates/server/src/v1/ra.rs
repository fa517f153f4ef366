//! The registration authority in the native API: the RA endpoints under `/api/v1/ra` (operators
//! submit, verifikators decide, both review evidence), lifecycle steps on officials, and gateway
//! enrolment. The ECS registration call is `crate::ecs::registration`; the official's activation
//! link is `crate::activation`.
//!
//! Must not know: the state machine or the separation-of-duty rules (`sahih_core::ra`).

use crate::Shared;
use crate::error::ErrorBody;
use crate::error::{EcsError, code};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sahih_core::ra::RaStore;
use sahih_core::ra::{
    EvidenceKind, EvidenceUpload, IdentityPatch, RaRequest, RequestKind, RequestState, Staff,
    SubmissionInput,
};
use sahih_core::store::{ApiClientRecord, NewOfficial};
use sahih_core::{CoreError, Lang};
use sahih_validate::rfc3339;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

fn core(e: CoreError) -> EcsError {
    EcsError::from_core(&e)
}

/// An official's identity in a request.
#[derive(Deserialize, Serialize, ToSchema, Clone)]
pub struct OfficialInput {
    /// 16 digits.
    nik: String,
    /// 18 digits.
    nip: String,
    name: String,
    /// Official (government) e-mail: the activation link goes there.
    email: String,
    position: String,
    unit: String,
}

impl From<OfficialInput> for NewOfficial {
    fn from(o: OfficialInput) -> Self {
        Self {
            nik: o.nik.trim().into(),
            nip: o.nip.trim().into(),
            name: o.name.trim().into(),
            email: o.email.trim().into(),
            position: o.position.trim().into(),
            unit: o.unit.trim().into(),
        }
    }
}

/// The JSON part `request` of a submission.
#[derive(Deserialize, ToSchema)]
pub struct SubmissionRequest {
    /// enroll, renew, mutasi (change of position or name) or reset (forgotten passphrase).
    kind: String,
    /// One or more officials (a collective request shares one letter).
    officials: Vec<OfficialInput>,
}

/// One evidence file of a request, without its bytes.
#[derive(Serialize, ToSchema)]
pub struct EvidenceInfo {
    /// surat_permohonan, ktp or sk_jabatan.
    kind: String,
    sha256: String,
    media_type: String,
    size: i64,
    file_name: Option<String>,
}

/// A registration request as staff see it.
#[derive(Serialize, ToSchema)]
pub struct RequestInfo {
    id: String,
    submission_id: String,
    kind: String,
    official: OfficialInput,
    /// NEW, WAITING_FOR_VERIFICATION, APPROVED, REJECTED or ACTIVATED.
    state: String,
    /// The official's status in the ECS vocabulary.
    official_status: String,
    submitted_by: String,
    submitted_at: String,
    decided_by: Option<String>,
    decided_at: Option<String>,
    reason: Option<String>,
    evidence: Vec<EvidenceInfo>,
    /// The unit it was filed from (and whose operators follow it); none for an ECS
    /// registration by an app without a unit, until a verifikator hands it to a unit.
    submitted_unit: Option<String>,
    /// What keeps it from verification: identity fields still empty (`nik`, `nip`, `nama`,
    /// `email`, `jabatan`, `unit_kerja`) and evidence not filed yet.
    missing: Vec<String>,
}

/// What a submission made: the request.
#[derive(Serialize, ToSchema)]
pub struct SubmissionInfo {
    submission_id: String,
    requests: Vec<RequestInfo>,
}

async fn request_info(state: &Shared, r: RaRequest) -> Result<RequestInfo, EcsError> {
    let evidence = state
        .sahih
        .store
        .ra_evidence(&r.submission_id, &r.id)
        .await
        .map_err(|e| core(e.into()))?;
    let status = state.sahih.status_of(&r.official.nik).await.map_err(core)?;
    let missing = state.sahih.missing_for(&r).await.map_err(core)?;
    let o = r.official;
    Ok(RequestInfo {
        id: r.id,
        submission_id: r.submission_id,
        kind: r.kind.as_str().into(),
        official: OfficialInput {
            nik: o.nik,
            nip: o.nip,
            name: o.name,
            email: o.email,
            position: o.position,
            unit: o.unit,
        },
        state: r.state.as_str().into(),
        official_status: status.as_str().into(),
        submitted_by: r.submitted_by,
        submitted_at: rfc3339(r.submitted_at),
        decided_by: r.decided_by,
        decided_at: r.decided_at.map(rfc3339),
        reason: r.reason,
        submitted_unit: r.submitted_unit,
        missing,
        evidence: evidence
            .into_iter()
            .map(|e| EvidenceInfo {
                kind: e.kind.as_str().into(),
                sha256: e.sha256_hex,
                media_type: e.media_type.as_str().into(),
                size: e.size,
                file_name: e.file_name,
            })
            .collect(),
    })
}

/// Reads evidence parts: `surat_permohonan`, `ktp`, `sk_jabatan`, or `ktp_<NIK>` /
/// `sk_jabatan_<NIK>` in a collective request.
fn evidence_part(name: &str, file_name: Option<String>, bytes: Vec<u8>) -> Option<EvidenceUpload> {
    let (kind, nik) = match name.rsplit_once('_') {
        Some((k, n)) if n.len() == 16 && n.bytes().all(|b| b.is_ascii_digit()) => {
            (EvidenceKind::parse(k)?, Some(n.to_string()))
        }
        _ => (EvidenceKind::parse(name)?, None),
    };
    Some(EvidenceUpload {
        kind,
        nik,
        file_name,
        bytes,
    })
}

/// Submit a request for one or more officials with evidence (operators only, for their unit).
#[utoipa::path(
    post,
    path = "/api/v1/ra/submissions",
    request_body(content_type = "multipart/form-data", description = "Part `request` (JSON \
        SubmissionRequest); files `surat_permohonan` (one per submission), `ktp` and \
        `sk_jabatan` (or `ktp_<NIK>`, `sk_jabatan_<NIK>` in a collective request). PDF, JPEG or \
        PNG, recognised by content, up to [ra] max_evidence_mib each."),
    responses((status = 201, body = SubmissionInfo), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody))
)]
pub async fn submit(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    crate::ecs::EcsMultipart(mut mp): crate::ecs::EcsMultipart,
) -> Result<Response, EcsError> {
    let mut request: Option<SubmissionRequest> = None;
    let mut evidence = Vec::new();
    while let Some((name, file_name, data)) = crate::ecs::next_part(&mut mp).await? {
        if name == "request" {
            request = Some(serde_json::from_slice(&data).map_err(|e| {
                EcsError::invalid(format!("request bukan JSON SubmissionRequest: {e}"))
            })?);
        } else if let Some(upload) = evidence_part(&name, file_name, data.to_vec()) {
            evidence.push(upload);
        } else {
            return Err(EcsError::invalid(format!(
                "bagian {name} tidak dikenal (surat_permohonan, ktp, sk_jabatan)"
            )));
        }
    }
    let request = request.ok_or_else(|| EcsError::required("request"))?;
    let kind = RequestKind::parse(&request.kind).ok_or_else(|| {
        EcsError::invalid("kind harus enroll, renew, mutasi atau reset".to_string())
    })?;
    let outcome = state
        .sahih
        .ra_submit(
            &state.blobs,
            &Staff::from(&client),
            SubmissionInput {
                kind,
                officials: request.officials.into_iter().map(Into::into).collect(),
                evidence,
                require_complete: true,
            },
        )
        .await
        .map_err(core)?;
    let mut requests = Vec::new();
    for r in outcome.requests {
        requests.push(request_info(&state, r).await?);
    }
    Ok((
        StatusCode::CREATED,
        Json(SubmissionInfo {
            submission_id: outcome.submission_id,
            requests,
        }),
    )
        .into_response())
}

/// Filter of the request list.
#[derive(Deserialize, IntoParams)]
pub struct ListQuery {
    /// Only requests in this state, e.g. WAITING_FOR_VERIFICATION.
    state: Option<String>,
}

/// Requests (operators: of their unit), newest first.
#[utoipa::path(
    get,
    path = "/api/v1/ra/requests",
    params(ListQuery),
    responses((status = 200, body = [RequestInfo]), (status = 403, body = ErrorBody))
)]
pub async fn list(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    Query(q): Query<ListQuery>,
) -> Result<Response, EcsError> {
    let filter = match q.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            RequestState::parse(s)
                .ok_or_else(|| EcsError::invalid(format!("state {s} tidak dikenal")))?,
        ),
    };
    let requests = state
        .sahih
        .ra_list(&Staff::from(&client), filter)
        .await
        .map_err(core)?;
    let mut out = Vec::new();
    for r in requests {
        out.push(request_info(&state, r).await?);
    }
    Ok(Json(out).into_response())
}

/// One request with its evidence list.
#[utoipa::path(
    get,
    path = "/api/v1/ra/requests/{id}",
    params(("id" = String, Path, description = "request id")),
    responses((status = 200, body = RequestInfo), (status = 404, body = ErrorBody))
)]
pub async fn get_request(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    Path(id): Path<String>,
) -> Result<Response, EcsError> {
    let r = state
        .sahih
        .ra_request_for(&Staff::from(&client), &id)
        .await
        .map_err(core)?;
    Ok(Json(request_info(&state, r).await?).into_response())
}

/// An evidence file, checked against its recorded SHA-256 before it is sent.
#[utoipa::path(
    get,
    path = "/api/v1/ra/requests/{id}/evidence/{kind}",
    params(("id" = String, Path, description = "request id"),
           ("kind" = String, Path, description = "surat_permohonan, ktp or sk_jabatan")),
    responses((status = 200, description = "the file"), (status = 404, body = ErrorBody))
)]
pub async fn evidence_file(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    Path((id, kind)): Path<(String, String)>,
) -> Result<Response, EcsError> {
    let kind = EvidenceKind::parse(&kind)
        .ok_or_else(|| EcsError::invalid(format!("jenis berkas {kind} tidak dikenal")))?;
    let (evidence, bytes) = state
        .sahih
        .ra_evidence_file(&state.blobs, &Staff::from(&client), &id, kind)
        .await
        .map_err(core)?;
    let mut r = (StatusCode::OK, bytes).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(evidence.media_type.as_str()),
    );
    // Never rendered inline by a browser in our origin.
    r.headers_mut().insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment"),
    );
    r.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(r)
}

/// Adds evidence to a request that is still NEW (e.g. registered through the ECS endpoint); when
/// complete, the request goes to verification.
#[utoipa::path(
    post,
    path = "/api/v1/ra/requests/{id}/evidence",
    params(("id" = String, Path, description = "request id")),
    request_body(content_type = "multipart/form-data", description = "files surat_permohonan, ktp, sk_jabatan"),
    responses((status = 200, body = RequestInfo), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody))
)]
pub async fn add_evidence(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    Path(id): Path<String>,
    crate::ecs::EcsMultipart(mut mp): crate::ecs::EcsMultipart,
) -> Result<Response, EcsError> {
    let mut evidence = Vec::new();
    while let Some((name, file_name, data)) = crate::ecs::next_part(&mut mp).await? {
        let upload = evidence_part(&name, file_name, data.to_vec()).ok_or_else(|| {
            EcsError::invalid(format!(
                "bagian {name} tidak dikenal (surat_permohonan, ktp, sk_jabatan)"
            ))
        })?;
        evidence.push(upload);
    }
    if evidence.is_empty() {
        return Err(EcsError::required("berkas"));
    }
    let r = state
        .sahih
        .ra_add_evidence(&state.blobs, &Staff::from(&client), &id, evidence)
        .await
        .map_err(core)?;
    Ok(Json(request_info(&state, r).await?).into_response())
}

/// A verifikator's decision: the reason (required to reject) and the official's language.
#[derive(Deserialize, ToSchema, Default)]
pub struct DecisionBody {
    /// Required to reject: what is wrong or missing (sent to the official).
    reason: Option<String>,
    /// Language of the message to the official: "id" (default) or "en".
    lang: Option<String>,
}

/// An optional JSON body: empty is the default, anything else must parse.
fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, EcsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| EcsError::invalid(format!("Body JSON tidak valid: {e}")))
}

/// Identity fields for a pending ECS registration (ECS names, native names also taken); an
/// absent or empty field is kept.
#[derive(Deserialize, ToSchema, Default)]
pub struct IdentityBody {
    nik: Option<String>,
    nip: Option<String>,
    #[serde(alias = "name")]
    nama: Option<String>,
    email: Option<String>,
    #[serde(alias = "position")]
    jabatan: Option<String>,
    #[serde(alias = "unit", alias = "unitKerja")]
    unit_kerja: Option<String>,
}

/// Complete the identity of an ECS registration (`/api/v2/user/registration` with fields
/// missing, or filed by an app without a unit). An operator of the request's unit fills in or
/// corrects fields; with every field present the official is recorded, and the request goes to
/// verification if its evidence is complete. A verifikator may only hand a registration filed
/// without a unit to a unit (`unit_kerja` alone).
#[utoipa::path(
    post,
    path = "/api/v1/ra/requests/{id}/identity",
    params(("id" = String, Path, description = "request id")),
    request_body = IdentityBody,
    responses((status = 200, body = RequestInfo), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody))
)]
pub async fn complete_identity(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, EcsError> {
    let b: IdentityBody = optional_json(&body)?;
    let r = state
        .sahih
        .ra_complete_identity(
            &Staff::from(&client),
            &id,
            IdentityPatch {
                nik: b.nik,
                nip: b.nip,
                name: b.nama,
                email: b.email,
                position: b.jabatan,
                unit: b.unit_kerja,
            },
        )
        .await
        .map_err(core)?;
    Ok(Json(request_info(&state, r).await?).into_response())
}

/// Approve a request (verifikators only; not one they submitted, not about themselves). The
/// official receives a single-use activation link valid for 24 hours.
#[utoipa::path(
    post,
    path = "/api/v1/ra/requests/{id}/approve",
    params(("id" = String, Path, description = "request id")),
    request_body(content = DecisionBody, description = "optional"),
    responses((status = 200, body = RequestInfo), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody))
)]
pub async fn approve(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, EcsError> {
    decide(state, client, id, true, optional_json(&body)?).await
}

/// Reject a request with a reason (verifikators only); the official is told why and the request
/// can be submitted again.
#[utoipa::path(
    post,
    path = "/api/v1/ra/requests/{id}/reject",
    params(("id" = String, Path, description = "request id")),
    request_body = DecisionBody,
    responses((status = 200, body = RequestInfo), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody))
)]
pub async fn reject(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, EcsError> {
    decide(state, client, id, false, optional_json(&body)?).await
}

async fn decide(
    state: Shared,
    client: ApiClientRecord,
    id: String,
    approve: bool,
    body: DecisionBody,
) -> Result<Response, EcsError> {
    let lang = if body.lang.as_deref() == Some("en") {
        Lang::En
    } else {
        Lang::Id
    };
    let r = state
        .sahih
        .ra_decide(
            &state.blobs,
            &Staff::from(&client),
            &id,
            approve,
            body.reason.as_deref(),
            lang,
        )
        .await
        .map_err(core)?;
    Ok(Json(request_info(&state, r).await?).into_response())
}

/// Send a new activation link for an approved request whose link expired or was lost
/// (verifikators only); earlier links stop working.
#[utoipa::path(
    post,
    path = "/api/v1/ra/requests/{id}/resend-link",
    params(("id" = String, Path, description = "request id")),
    responses((status = 200, body = RequestInfo), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody))
)]
pub async fn resend_link(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    Path(id): Path<String>,
) -> Result<Response, EcsError> {
    let r = state
        .sahih
        .ra_resend_link(&Staff::from(&client), &id, Lang::Id)
        .await
        .map_err(core)?;
    Ok(Json(request_info(&state, r).await?).into_response())
}

/// A lifecycle step's reason.
#[derive(Deserialize, ToSchema, Default)]
pub struct LifecycleBody {
    /// RFC 5280 reason for revoke (keyCompromise, affiliationChanged, superseded,
    /// cessationOfOperation, unspecified); free text for suspend.
    reason: Option<String>,
}

/// The official's status after a lifecycle step.
#[derive(Serialize, ToSchema)]
pub struct LifecycleResult {
    nik: String,
    /// The official's status afterwards.
    status: String,
    certificates: u64,
}

/// Suspend, resume or revoke an official's certificate (verifikators only).
#[utoipa::path(
    post,
    path = "/api/v1/officials/{nik}/{action}",
    params(("nik" = String, Path, description = "NIK"),
           ("action" = String, Path, description = "suspend, resume or revoke")),
    request_body = LifecycleBody,
    responses((status = 200, body = LifecycleResult), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody))
)]
pub async fn lifecycle(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    Path((nik, action)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Response, EcsError> {
    // The role was checked by `authz` (ChangeCertificate); the rules are the core's, the same
    // as for the console pages.
    use sahih_core::certificate_changes::{CertificateStep, RevocationReason};
    let reason = optional_json::<LifecycleBody>(&body)?.reason;
    let step = match action.as_str() {
        "suspend" => CertificateStep::Suspend,
        "resume" => CertificateStep::Resume,
        "revoke" => {
            let text = reason.clone().unwrap_or_else(|| "unspecified".into());
            let Some(r) = RevocationReason::parse(&text) else {
                let known: Vec<&str> = RevocationReason::ALL.iter().map(|r| r.as_str()).collect();
                return Err(EcsError::invalid(format!(
                    "alasan pencabutan {text} tidak dikenal ({})",
                    known.join(", ")
                )));
            };
            CertificateStep::Revoke(r)
        }
        other => {
            return Err(EcsError::new(
                StatusCode::NOT_FOUND,
                code::NOT_FOUND,
                format!("langkah {other} tidak dikenal (suspend, resume, revoke)"),
            ));
        }
    };
    let (n, status) = state
        .sahih
        .change_certificate(&Staff::from(&client), &nik, step, reason.as_deref())
        .await
        .map_err(core)?;
    Ok(Json(LifecycleResult {
        nik,
        status: status.as_str().into(),
        certificates: n,
    })
    .into_response())
}

/// Record an official who signs through the upstream ECS (gateway mode; verifikators only).
#[utoipa::path(
    post,
    path = "/api/v1/gateway/officials",
    request_body = OfficialInput,
    responses((status = 201, body = OfficialInput), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody))
)]
pub async fn gateway_enroll(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    body: Result<Json<OfficialInput>, JsonRejection>,
) -> Result<Response, EcsError> {
    // The role was checked by `authz` (EnrollUpstream).
    if state.sahih.config.gateway.url.trim().is_empty() {
        return Err(EcsError::invalid(
            "Mode gateway belum dikonfigurasi ([gateway] url)".to_string(),
        ));
    }
    let Json(input) = body.map_err(|e| EcsError::invalid(format!("Body JSON tidak valid: {e}")))?;
    let official: NewOfficial = input.clone().into();
    if client.person_nik.as_deref() == Some(official.nik.as_str()) {
        return Err(EcsError::new(
            StatusCode::FORBIDDEN,
            code::FORBIDDEN,
            "Verifikator tidak dapat mendaftarkan dirinya sendiri",
        ));
    }
    state
        .sahih
        .enroll_upstream(&official, &client.name)
        .await
        .map_err(core)?;
    Ok((StatusCode::CREATED, Json(input)).into_response())
}

/// The RA's routes for operators and apps (submissions, requests, evidence, the ECS
/// registration call); authentication and authorization are layered on by [`crate::router`].
/// The RA's routes for operators and apps (submissions, requests, evidence); authentication and
/// authorization are layered on by [`crate::router`].
pub fn routes() -> axum::Router<Shared> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/v1/ra/submissions", post(submit))
        .route("/api/v1/ra/requests", get(list))
        .route("/api/v1/ra/requests/{id}", get(get_request))
        .route("/api/v1/ra/requests/{id}/evidence", post(add_evidence))
        .route(
            "/api/v1/ra/requests/{id}/evidence/{kind}",
            get(evidence_file),
        )
}

/// The verifikators' decisions and lifecycle steps: JSON bodies only (see `csrf`).
pub fn staff_json_routes() -> axum::Router<Shared> {
    use axum::routing::post;
    axum::Router::new()
        .route("/api/v1/ra/requests/{id}/approve", post(approve))
        .route("/api/v1/ra/requests/{id}/reject", post(reject))
        .route("/api/v1/ra/requests/{id}/resend-link", post(resend_link))
        .route("/api/v1/ra/requests/{id}/identity", post(complete_identity))
        .route("/api/v1/officials/{nik}/{action}", post(lifecycle))
        .route("/api/v1/gateway/officials", post(gateway_enroll))
}
