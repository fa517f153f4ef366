//! ECS registration (`/api/v2/user/registration`, also `/api/v2/user/register`): an app files
//! an official's registration with the RA (the juknis body `{nama, email}`, extras optional),
//! or, in gateway mode with `register_upstream`, with the upstream ECS.
//!
//! Must not know: the RA's state machine or separation of duties (`sahih_core::ra`).

use crate::Shared;
use crate::error::{EcsError, code};
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sahih_core::CoreError;
use sahih_core::lifecycle::Status;
use sahih_core::ra::{EvidenceKind, EvidenceUpload, Registration, Staff};
use sahih_core::store::{ApiClientRecord, NewOfficial};
use serde::Deserialize;
use serde_json::Value;

fn core(e: CoreError) -> EcsError {
    EcsError::from_core(&e)
}

/// The ECS registration body (camelCase as the manual writes it; `unit_kerja` also taken).
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

/// ECS `POST /api/v2/user/registration` (also `/api/v2/user/register`): records a NEW
/// enrolment request attributed to the calling client. The juknis body is `{nama, email}`;
/// `nik`, `nip`, `jabatan`, `unit_kerja` and the evidence (`suratRekomendasiBase64`,
/// `ktpBase64`, `skJabatanBase64`) are optional here, and whatever is missing an operator of the
/// unit completes through the native RA API before anything can be verified. Approval stays
/// with a verifikator.
pub async fn ecs_registration(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, EcsError> {
    let Json(raw) = body.map_err(|e| EcsError::invalid(format!("Body JSON tidak valid: {e}")))?;
    let b: RegistrationBody = serde_json::from_value(raw.clone())
        .map_err(|e| EcsError::invalid(format!("Body JSON tidak valid: {e}")))?;
    let given = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    // The juknis body: only these two are required.
    let name = given(b.nama).ok_or_else(|| EcsError::required("nama"))?;
    let email = given(b.email).ok_or_else(|| EcsError::required("email"))?;
    if state.sahih.config.gateway.register_upstream {
        // The official is recorded here as an upstream one, which needs the whole identity
        // (BSrE collects it in its own RA portal; this gateway files it for a unit).
        let need =
            |v: Option<String>, field: &str| given(v).ok_or_else(|| EcsError::required(field));
        let official = NewOfficial {
            nik: need(b.nik, "NIK")?,
            nip: need(b.nip, "NIP")?,
            name,
            email,
            position: need(b.jabatan, "jabatan")?,
            unit: given(b.unit_kerja)
                .or_else(|| client.unit.clone())
                .ok_or_else(|| EcsError::required("unit_kerja"))?,
        };
        return register_upstream(&state, &client, official, raw).await;
    }
    let mut evidence = Vec::new();
    for (kind, value) in [
        (EvidenceKind::SuratPermohonan, b.surat_rekomendasi_base64),
        (EvidenceKind::Ktp, b.ktp_base64),
        (EvidenceKind::SkJabatan, b.sk_jabatan_base64),
    ] {
        if let Some(v) = value.filter(|v| !v.trim().is_empty()) {
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
    let request = state
        .sahih
        .ra_register(
            &state.blobs,
            &Staff::from(&client),
            Registration {
                nik: b.nik,
                nip: b.nip,
                name,
                email,
                position: b.jabatan,
                unit: b.unit_kerja,
                evidence,
            },
        )
        .await
        .map_err(core)?;
    // A request whose identity is still incomplete has no official yet: it is NEW.
    let status = match request.official_id {
        Some(_) => state
            .sahih
            .status_of(&request.official.nik)
            .await
            .map_err(core)?,
        None => Status::New,
    };
    let missing = state.sahih.missing_for(&request).await.map_err(core)?;
    let message = if missing.is_empty() {
        "Registrasi berhasil; menunggu verifikasi oleh Otoritas Pendaftaran".to_string()
    } else {
        format!(
            "Registrasi diterima; operator unit melengkapi: {}",
            missing.join(", ")
        )
    };
    Ok(Json(serde_json::json!({
        "status_code": 200,
        "success": true,
        "message": message,
        "data": {
            "id": request.id,
            "nik": request.official.nik,
            "nama": request.official.name,
            "email": request.official.email,
            "status": status.as_str(),
            "status_code": status.ecs_code(),
            "missing": missing,
        }
    }))
    .into_response())
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

/// The ECS registration routes; authentication and authorization are layered on by
/// [`crate::router`].
pub fn routes() -> axum::Router<Shared> {
    use axum::routing::post;
    axum::Router::new()
        .route("/api/v2/user/registration", post(ecs_registration))
        .route("/api/v2/user/register", post(ecs_registration))
}
