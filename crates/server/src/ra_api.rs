//! HTTP of the registration authority: the native RA endpoints under `/api/v1/ra` (operators
//! submit, verifikators decide, both review evidence), lifecycle steps on officials, the ECS
//! registration endpoint, and the official's activation link (`/aktivasi/{token}` as a page,
//! `/api/v1/activation/{token}` as JSON), which needs no API credentials: the token is the
//! credential, and it works once.
//!
//! Must not know: the state machine or the separation-of-duty rules (`sahih_core::ra`).

use crate::Shared;
use crate::error::{EcsError, code};
use crate::native::ErrorBody;
use crate::native::rfc3339;
use crate::web::{esc, page};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sahih_core::ra::RaStore;
use sahih_core::ra::{
    EvidenceKind, EvidenceUpload, RaRequest, RequestKind, RequestState, Staff, SubmissionInput,
};
use sahih_core::store::{ApiClientRecord, NewOfficial, Store};
use sahih_core::{CoreError, Lang};
use serde::{Deserialize, Serialize};
use serde_json::Value;
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

#[derive(Serialize, ToSchema)]
pub struct EvidenceInfo {
    /// surat_permohonan, ktp or sk_jabatan.
    kind: String,
    sha256: String,
    media_type: String,
    size: i64,
    file_name: Option<String>,
}

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
}

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

#[derive(Deserialize, ToSchema, Default)]
pub struct LifecycleBody {
    /// RFC 5280 reason for revoke (keyCompromise, affiliationChanged, superseded,
    /// cessationOfOperation, unspecified); free text for suspend.
    reason: Option<String>,
}

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

/// ECS `POST /api/v2/user/registration` (also `/api/v2/user/register`): records an enrollment
/// request for an official in the operator's unit. With `suratRekomendasiBase64` (and
/// optionally `ktpBase64`, `skJabatanBase64`) complete, it goes to verification; otherwise it
/// stays NEW until the evidence is added through the native API. Approval stays manual.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationBody {
    nik: Option<String>,
    nama: Option<String>,
    email: Option<String>,
    nip: Option<String>,
    jabatan: Option<String>,
    #[serde(alias = "unit_kerja")]
    unit_kerja: Option<String>,
    surat_rekomendasi_base64: Option<String>,
    ktp_base64: Option<String>,
    sk_jabatan_base64: Option<String>,
}

pub async fn ecs_registration(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, EcsError> {
    let Json(raw) = body.map_err(|e| EcsError::invalid(format!("Body JSON tidak valid: {e}")))?;
    let b: RegistrationBody = serde_json::from_value(raw.clone())
        .map_err(|e| EcsError::invalid(format!("Body JSON tidak valid: {e}")))?;
    let need = |v: Option<String>, field: &str| {
        v.map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| EcsError::required(field))
    };
    let nik = need(b.nik, "NIK")?;
    let name = need(b.nama, "nama")?;
    let email = need(b.email, "email")?;
    let unit = b
        .unit_kerja
        .filter(|u| !u.trim().is_empty())
        .or_else(|| client.unit.clone())
        .ok_or_else(|| EcsError::required("unit_kerja"))?;
    // The certificate names the NIP and the position, so Sahih needs them at registration
    // (BSrE collects them in its RA portal instead).
    let nip = need(b.nip, "NIP")?;
    let position = need(b.jabatan, "jabatan")?;
    let official = NewOfficial {
        nik,
        nip,
        name,
        email,
        position,
        unit,
    };
    if state.sahih.config.gateway.register_upstream {
        return register_upstream(&state, &client, official, raw).await;
    }
    let mut evidence = Vec::new();
    for (kind, value) in [
        (EvidenceKind::SuratPermohonan, b.surat_rekomendasi_base64),
        (EvidenceKind::Ktp, b.ktp_base64),
        (EvidenceKind::SkJabatan, b.sk_jabatan_base64),
    ] {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .map_err(|_| EcsError::invalid(format!("{} bukan base64", kind.as_str())))?;
            evidence.push(EvidenceUpload {
                kind,
                nik: None,
                file_name: None,
                bytes,
            });
        }
    }
    let outcome = state
        .sahih
        .ra_submit(
            &state.blobs,
            &Staff::from(&client),
            SubmissionInput {
                kind: RequestKind::Enroll,
                officials: vec![official],
                evidence,
                require_complete: false,
            },
        )
        .await
        .map_err(core)?;
    let request = outcome
        .requests
        .into_iter()
        .next()
        .ok_or_else(|| EcsError::invalid("permohonan kosong"))?;
    let status = state
        .sahih
        .status_of(&request.official.nik)
        .await
        .map_err(core)?;
    Ok(Json(serde_json::json!({
        "status_code": 200,
        "success": true,
        "message": "Registrasi berhasil; menunggu verifikasi oleh Otoritas Pendaftaran",
        "data": {
            "id": request.id,
            "nik": request.official.nik,
            "status": status.as_str(),
            "status_code": status.ecs_code(),
        }
    }))
    .into_response())
}

#[derive(Deserialize, ToSchema)]
pub struct ActivationBody {
    /// The passphrase the official chooses (at least 8 characters, not a common password, not
    /// their NIK, NIP, name or e-mail). Never stored: it seals the new key.
    passphrase: String,
}

#[derive(Serialize, ToSchema)]
pub struct ActivationResult {
    nik: String,
    status: String,
    certificate_serial: String,
    /// RFC 3339, UTC.
    not_after: String,
}

/// The official activates with their own passphrase (no API credentials: the link's token is
/// the credential, once, within 24 hours).
#[utoipa::path(
    post,
    path = "/api/v1/activation/{token}",
    params(("token" = String, Path, description = "the token from the activation link")),
    request_body = ActivationBody,
    security(()),
    responses((status = 200, body = ActivationResult), (status = 400, body = ErrorBody), (status = 410, body = ErrorBody))
)]
pub async fn activate_json(
    State(state): State<Shared>,
    Path(token): Path<String>,
    body: Result<Json<ActivationBody>, JsonRejection>,
) -> Result<Response, EcsError> {
    let Json(b) = body.map_err(|e| EcsError::invalid(format!("Body JSON tidak valid: {e}")))?;
    let passphrase = zeroize::Zeroizing::new(b.passphrase);
    let outcome = state
        .sahih
        .activate(&token, &passphrase)
        .await
        .map_err(core)?;
    let official = state
        .sahih
        .store
        .official_by_id(outcome.official_id)
        .await
        .map_err(|e| core(e.into()))?
        .ok_or_else(|| core(CoreError::NikNotRegistered))?;
    Ok(Json(ActivationResult {
        nik: official.nik,
        status: "ISSUE".into(),
        certificate_serial: outcome.certificate.serial_hex(),
        not_after: rfc3339(outcome.certificate.not_after()),
    })
    .into_response())
}

#[derive(Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
}

fn page_lang(q: &PageQuery) -> Lang {
    if q.lang.as_deref() == Some("en") {
        Lang::En
    } else {
        Lang::Id
    }
}

fn activation_form(
    token: &str,
    lang: Lang,
    name: &str,
    until: &str,
    error: Option<&str>,
    with_account: bool,
) -> String {
    let t = |id: &'static str, en: &'static str| if lang == Lang::Id { id } else { en };
    format!(
        "<h1>{h}</h1><p>{hello} <strong>{name}</strong>. {intro}</p>\
         <p>{valid} {until}.</p>{err}\
         <form method=\"post\" action=\"/aktivasi/{token}{q}\">\
         <p><label for=\"p1\">{l1}</label><br><input id=\"p1\" name=\"passphrase\" type=\"password\" \
         autocomplete=\"new-password\" minlength=\"8\" required></p>\
         <p><label for=\"p2\">{l2}</label><br><input id=\"p2\" name=\"passphrase2\" type=\"password\" \
         autocomplete=\"new-password\" minlength=\"8\" required></p>{account}\
         <p><button type=\"submit\">{b}</button></p></form><p>{hint}</p>",
        account = if with_account {
            account_fields(lang)
        } else {
            String::new()
        },
        h = t(
            "Aktivasi sertifikat elektronik",
            "Activate your electronic certificate"
        ),
        hello = t("Selamat datang,", "Welcome,"),
        name = esc(name),
        intro = t(
            "Pilih passphrase Anda sendiri. Passphrase ini mengunci kunci privat Anda; tidak ada petugas yang mengetahuinya.",
            "Choose your own passphrase. It locks your private key; no staff member knows it."
        ),
        valid = t(
            "Tautan ini hanya dapat dipakai sekali, sampai",
            "This link works once, until"
        ),
        until = esc(until),
        err = error
            .map(|e| format!("<p class=\"bad\" role=\"alert\">{}</p>", esc(e)))
            .unwrap_or_default(),
        token = esc(token),
        q = if lang == Lang::En { "?lang=en" } else { "" },
        l1 = t(
            "Passphrase (minimal 8 karakter)",
            "Passphrase (at least 8 characters)"
        ),
        l2 = t("Ulangi passphrase", "Repeat the passphrase"),
        b = t("Aktifkan", "Activate"),
        hint = t(
            "Gunakan kalimat yang mudah Anda ingat tetapi sulit ditebak orang lain, misalnya empat kata acak. Jangan memakai NIK, NIP, nama, atau tanggal lahir.",
            "Use a sentence you remember but others cannot guess, such as four random words. Do not use your NIK, NIP, name or birth date."
        ),
    )
}

/// The login password fields of an official's first activation: the account for the pages is
/// made in the same step (the second factor follows on the next page).
fn account_fields(lang: Lang) -> String {
    let t = |id: &'static str, en: &'static str| if lang == Lang::Id { id } else { en };
    format!(
        "<h2>{h}</h2><p class=\"why\">{why}</p>\
         <p><label for=\"l1\">{l1}</label><br><input id=\"l1\" name=\"login_password\" type=\"password\" \
         autocomplete=\"new-password\" minlength=\"10\" required></p>\
         <p><label for=\"l2\">{l2}</label><br><input id=\"l2\" name=\"login_password2\" type=\"password\" \
         autocomplete=\"new-password\" minlength=\"10\" required></p>",
        h = t("Kata sandi masuk", "Login password"),
        why = t(
            "Untuk membuka kotak masuk Anda di layanan ini dari ponsel atau komputer. Kata sandi ini berbeda dengan passphrase di atas: kata sandi membuka akun, passphrase membuka kunci tanda tangan dan tidak pernah disimpan. Jangan memakai yang sama.",
            "To open your inbox on this service from a phone or computer. This password differs from the passphrase above: the password opens your account, the passphrase unlocks your signing key and is never stored. Do not use the same one."
        ),
        l1 = t(
            "Kata sandi masuk (minimal 10 karakter)",
            "Login password (at least 10 characters)"
        ),
        l2 = t("Ulangi kata sandi masuk", "Repeat the login password"),
    )
}

/// Whether the official of this activation still needs an account for the pages.
async fn needs_account(state: &Shared, view: &sahih_core::ra::ActivationView) -> bool {
    use sahih_core::store::accounts::AccountStore;
    match view.request.official_id {
        Some(id) => matches!(state.sahih.store.account_of_official(id).await, Ok(None)),
        None => true,
    }
}

fn link_invalid_page(state: &Shared, token: &str, lang: Lang) -> Response {
    let t = |id: &'static str, en: &'static str| if lang == Lang::Id { id } else { en };
    page(
        state,
        StatusCode::GONE,
        lang,
        t("Tautan tidak berlaku", "Link not valid"),
        &format!("/aktivasi/{token}"),
        &format!(
            "<h1 class=\"bad\">{}</h1><p>{}</p>",
            t("Tautan tidak berlaku", "Link not valid"),
            CoreError::ActivationLinkInvalid.message(lang)
        ),
    )
}

/// `GET /aktivasi/{token}`: the form where the official chooses a passphrase.
pub async fn activation_page(
    State(state): State<Shared>,
    Path(token): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let lang = page_lang(&q);
    match state.sahih.activation_view(&token).await {
        Ok(view) => page(
            &state,
            StatusCode::OK,
            lang,
            "Aktivasi",
            &format!("/aktivasi/{token}"),
            &activation_form(
                &token,
                lang,
                &view.request.official.name,
                &sahih_core::format_wib(view.expires_at, lang),
                None,
                needs_account(&state, &view).await,
            ),
        ),
        Err(_) => link_invalid_page(&state, &token, lang),
    }
}

#[derive(Deserialize)]
pub struct ActivationForm {
    passphrase: String,
    passphrase2: String,
    #[serde(default)]
    login_password: Option<String>,
    #[serde(default)]
    login_password2: Option<String>,
}

/// `POST /aktivasi/{token}` (form): activates, or shows the form again with the problem.
pub async fn activation_submit(
    State(state): State<Shared>,
    Path(token): Path<String>,
    Query(q): Query<PageQuery>,
    addr: crate::web::upload::ClientAddr,
    headers: axum::http::HeaderMap,
    form: Result<axum::Form<ActivationForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let lang = page_lang(&q);
    let t = |id: &'static str, en: &'static str| if lang == Lang::Id { id } else { en };
    let view = match state.sahih.activation_view(&token).await {
        Ok(v) => v,
        Err(_) => return link_invalid_page(&state, &token, lang),
    };
    let with_account = needs_account(&state, &view).await;
    let again = |error: &str| {
        page(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "Aktivasi",
            &format!("/aktivasi/{token}"),
            &activation_form(
                &token,
                lang,
                &view.request.official.name,
                &sahih_core::format_wib(view.expires_at, lang),
                Some(error),
                with_account,
            ),
        )
    };
    let Ok(axum::Form(f)) = form else {
        return again(t("Isian tidak lengkap.", "The form is incomplete."));
    };
    let p1 = zeroize::Zeroizing::new(f.passphrase);
    let p2 = zeroize::Zeroizing::new(f.passphrase2);
    if !bool::from(subtle_eq(p1.as_bytes(), p2.as_bytes())) {
        return again(t(
            "Kedua passphrase tidak sama.",
            "The two passphrases differ.",
        ));
    }
    // The login password is checked before anything is activated, so a refusal leaves the
    // link usable.
    let login_password = zeroize::Zeroizing::new(f.login_password.unwrap_or_default());
    if with_account {
        let repeat = zeroize::Zeroizing::new(f.login_password2.unwrap_or_default());
        if !bool::from(subtle_eq(login_password.as_bytes(), repeat.as_bytes())) {
            return again(t(
                "Kedua kata sandi masuk tidak sama.",
                "The two login passwords differ.",
            ));
        }
        if bool::from(subtle_eq(login_password.as_bytes(), p1.as_bytes())) {
            return again(t(
                "Kata sandi masuk harus berbeda dengan passphrase tanda tangan.",
                "The login password must differ from the signing passphrase.",
            ));
        }
        let o = &view.request.official;
        let local = o.email.split('@').next().unwrap_or_default();
        if let Err(e) = sahih_core::accounts::password::check_strength(
            &login_password,
            &[o.email.as_str(), o.nip.as_str(), local],
        ) {
            return again(&e.message(lang));
        }
    }
    match state.sahih.activate(&token, &p1).await {
        Ok(outcome) => {
            let mut cookie = None;
            if with_account {
                let origin = crate::web::session::origin_of(&addr, &headers);
                let official = state.sahih.store.official_by_id(outcome.official_id).await;
                if let Ok(Some(official)) = official
                    && let Ok(Some(session)) = state
                        .sahih
                        .account_on_activation(&official, &login_password, &origin)
                        .await
                {
                    cookie = Some(crate::web::session::set_cookie(&state, &session.token));
                }
            }
            let next = if cookie.is_some() {
                format!(
                    "<h2>{}</h2><p>{}</p><p><a class=\"btn primary\" href=\"/akun/2fa{}\">{}</a></p>",
                    t("Langkah terakhir", "Last step"),
                    t(
                        "Pasang aplikasi autentikator di ponsel Anda untuk melindungi akun. Setelah itu Anda dapat membuka kotak masuk dan menandatangani dari ponsel.",
                        "Set up an authenticator app on your phone to protect your account. Then you can open your inbox and sign from your phone."
                    ),
                    if lang == Lang::En { "?lang=en" } else { "" },
                    t(
                        "Pasang aplikasi autentikator",
                        "Set up the authenticator app"
                    ),
                )
            } else {
                String::new()
            };
            let mut r = page(
                &state,
                StatusCode::OK,
                lang,
                t("Aktivasi berhasil", "Activated"),
                &format!("/aktivasi/{token}"),
                &format!(
                    "<h1 class=\"ok\">{}</h1><p>{}</p><dl class=\"facts\"><dt>{}</dt><dd><code>{}</code></dd><dt>{}</dt><dd>{}</dd></dl>{next}",
                    t("Sertifikat Anda aktif", "Your certificate is active"),
                    t(
                        "Anda sekarang dapat menandatangani dokumen dengan passphrase yang baru saja Anda pilih. Simpan baik-baik: passphrase tidak dapat dipulihkan, hanya diatur ulang melalui verifikator.",
                        "You can now sign documents with the passphrase you just chose. Keep it safe: it cannot be recovered, only reset through a verifikator."
                    ),
                    t("Nomor seri sertifikat", "Certificate serial"),
                    esc(&outcome.certificate.serial_hex()),
                    t("Berlaku sampai", "Valid until"),
                    esc(&sahih_core::format_wib(
                        outcome.certificate.not_after(),
                        lang
                    )),
                ),
            );
            if let Some(c) = cookie {
                r.headers_mut().insert(axum::http::header::SET_COOKIE, c);
            }
            r
        }
        Err(CoreError::ActivationLinkInvalid) => link_invalid_page(&state, &token, lang),
        Err(e @ CoreError::WeakPassphrase(_)) => again(&e.message(lang)),
        Err(e) => {
            // Anything else is on our side: no internals on a page anyone with the link sees.
            let mut r = page(
                &state,
                StatusCode::INTERNAL_SERVER_ERROR,
                lang,
                "Aktivasi",
                &format!("/aktivasi/{token}"),
                &format!(
                    "<h1 class=\"bad\">{}</h1><p>{}</p>",
                    t("Aktivasi gagal", "Activation failed"),
                    t(
                        "Terjadi kesalahan pada server; coba lagi nanti. Tautan Anda masih berlaku bila belum kedaluwarsa.",
                        "A server error occurred; try again later. Your link still works until it expires."
                    )
                ),
            );
            r.extensions_mut()
                .insert(crate::obs::InternalError(e.to_string()));
            r
        }
    }
}

fn subtle_eq(a: &[u8], b: &[u8]) -> subtle::Choice {
    use subtle::ConstantTimeEq;
    if a.len() != b.len() {
        return subtle::Choice::from(0);
    }
    a.ct_eq(b)
}

/// Gateway mode: the registration is checked here (operator role, unit), forwarded to the
/// upstream's registration endpoint as received, and the official recorded as an upstream one.
async fn register_upstream(
    state: &Shared,
    client: &ApiClientRecord,
    official: NewOfficial,
    body: Value,
) -> Result<Response, EcsError> {
    let forbidden = |m: &str| EcsError::new(StatusCode::FORBIDDEN, code::FORBIDDEN, m.to_string());
    // The role was checked by `authz` (SubmitRegistration); the unit here.
    if !client
        .unit
        .as_deref()
        .is_some_and(|u| u.trim().eq_ignore_ascii_case(official.unit.trim()))
    {
        return Err(forbidden(
            "Operator hanya dapat mendaftarkan pegawai unitnya sendiri",
        ));
    }
    let Some(upstream) = state.upstream.clone() else {
        return Err(core(CoreError::Config(
            "[gateway] register_upstream needs [gateway] url".into(),
        )));
    };
    // Every local check before anything leaves for the upstream.
    state
        .sahih
        .check_upstream_enrollable(&official)
        .await
        .map_err(core)?;
    let answer = tokio::task::spawn_blocking(move || upstream.register(&body))
        .await
        .map_err(|_| core(CoreError::Service("upstream task failed".into())))?
        .map_err(|e| crate::error::map_upstream_error(&e))?;
    state
        .sahih
        .enroll_upstream(&official, &client.name)
        .await
        .map_err(core)?;
    Ok(Json(serde_json::json!({
        "status_code": 200,
        "success": true,
        "message": "Registrasi diteruskan ke layanan TTE induk",
        "data": { "nik": official.nik, "upstream": answer },
    }))
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
        .route("/api/v2/user/registration", post(ecs_registration))
        .route("/api/v2/user/register", post(ecs_registration))
}

/// The verifikators' decisions and lifecycle steps: JSON bodies only (see `csrf`).
pub fn staff_json_routes() -> axum::Router<Shared> {
    use axum::routing::post;
    axum::Router::new()
        .route("/api/v1/ra/requests/{id}/approve", post(approve))
        .route("/api/v1/ra/requests/{id}/reject", post(reject))
        .route("/api/v1/ra/requests/{id}/resend-link", post(resend_link))
        .route("/api/v1/officials/{nik}/{action}", post(lifecycle))
        .route("/api/v1/gateway/officials", post(gateway_enroll))
}

/// The official's activation link (page and JSON): no API credentials, the token is the
/// credential.
pub fn activation_routes() -> axum::Router<Shared> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            "/aktivasi/{token}",
            get(activation_page).post(activation_submit),
        )
        .route("/api/v1/activation/{token}", post(activate_json))
}
