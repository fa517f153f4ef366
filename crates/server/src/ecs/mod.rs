//! The BSrE "Esign Client Service" (ECS) compatible API: the same paths, field names, response
//! shapes and error codes as the public ECS manual (see docs/ECS.md for every choice where the
//! manual is ambiguous), so existing Pemda applications work unchanged.
//!
//! Owns: request parsing (multipart v1, JSON v2), mapping fields to signing options, mapping
//! results and errors to ECS bodies. Must not know: how signing, policy or audit work (that is
//! `sahih-core`).

use crate::http::b64json::{FileSpan, JsonWithFiles};
use crate::{AppState, Shared};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use sahih_core::pipeline::Signer;
use sahih_core::requests::{BatchDocument, SignedItem, SignerRef};
use sahih_core::store::{ApiClientRecord, Store};
use sahih_core::{CoreError, Lang, Level, SignOptions};
use sahih_pdf::{DisplayRect, PageSelector, Placement};
use sahih_validate::{Indication, Report};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use time::OffsetDateTime;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

pub use crate::error::{EcsError, code, too_large};

pub mod registration;
pub mod seal;
pub mod v1;
pub mod v2;

/// A multipart body whose rejection (wrong Content-Type, bad boundary) is an ECS-shaped 400
/// like every other error, not axum's plain text.
pub struct EcsMultipart(pub axum::extract::Multipart);

impl<S: Send + Sync> axum::extract::FromRequest<S> for EcsMultipart {
    type Rejection = EcsError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, EcsError> {
        axum::extract::Multipart::from_request(req, state)
            .await
            .map(Self)
            .map_err(|e| {
                EcsError::invalid(format!("Body harus multipart/form-data: {}", e.body_text()))
            })
    }
}

pub(crate) fn json_rejection(e: JsonRejection) -> EcsError {
    match e {
        JsonRejection::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            too_large()
        }
        JsonRejection::MissingJsonContentType(_) => {
            EcsError::invalid("Content-Type harus application/json")
        }
        other => EcsError::invalid(format!("Body JSON tidak valid: {}", other.body_text())),
    }
}

pub(crate) fn decode_b64(field: &str, s: &str) -> Result<Vec<u8>, EcsError> {
    // Some clients send data URLs or wrap lines.
    let s = s.split_once("base64,").map(|(_, b)| b).unwrap_or(s);
    let cleaned: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    B64.decode(cleaned.as_bytes())
        .map_err(|_| EcsError::invalid(format!("{field} bukan base64 yang valid")))
}

/// Where to put the stamp, from ECS fields.
#[derive(Debug, Default, Clone)]
pub(crate) struct StampFields {
    tampilan: Option<String>,
    page: Option<String>,
    halaman: Option<String>,
    x: Option<f64>,
    y: Option<f64>,
    width: Option<f64>,
    height: Option<f64>,
    tag: Option<String>,
    link_qr: Option<String>,
    reason: Option<String>,
    location: Option<String>,
    specimen: Option<Arc<sahih_pdf::SpecimenImage>>,
    /// v1 `text`: one more line in the stamp.
    text: Option<String>,
}

/// Reads a specimen image (JPEG or PNG) given by a client.
pub(crate) fn specimen(
    field: &str,
    bytes: &[u8],
) -> Result<Arc<sahih_pdf::SpecimenImage>, EcsError> {
    sahih_pdf::parse_specimen(bytes)
        .map(Arc::new)
        .map_err(|e| EcsError::invalid(format!("{field}: {}", CoreError::Pdf(e).message(Lang::Id))))
}

pub(crate) fn num(field: &str, v: &Value) -> Result<Option<f64>, EcsError> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(n.as_f64()),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| EcsError::invalid(format!("{field} harus berupa angka"))),
        _ => Err(EcsError::invalid(format!("{field} harus berupa angka"))),
    }
}

fn parse_num(field: &str, s: Option<&str>) -> Result<Option<f64>, EcsError> {
    match s {
        None => Ok(None),
        Some(s) => num(field, &Value::String(s.to_string())),
    }
}

impl StampFields {
    pub(crate) fn options(&self, state: &AppState) -> Result<SignOptions, EcsError> {
        let level: Level = state.sahih.config.server.ecs_level;
        let visible = match self.tampilan.as_deref().map(str::to_ascii_lowercase) {
            None => false,
            Some(t) if t == "visible" => true,
            Some(t) if t == "invisible" => false,
            Some(_) => {
                return Err(EcsError::invalid("tampilan harus VISIBLE atau INVISIBLE"));
            }
        };
        let placement = if !visible {
            None
        } else if let Some(tag) = self.tag.as_deref().filter(|t| !t.is_empty()) {
            let size = match (self.width, self.height) {
                (Some(w), Some(h)) if w > 0.0 && h > 0.0 => Some((w, h)),
                _ => None,
            };
            Some(Placement::Anchor {
                text: tag.to_string(),
                size,
            })
        } else {
            let page = match (self.page.as_deref(), self.halaman.as_deref()) {
                (Some(p), _) if !p.trim().is_empty() => p
                    .trim()
                    .parse::<PageSelector>()
                    .map_err(|_| EcsError::invalid("page harus nomor halaman mulai dari 1"))?,
                (_, Some(h)) if !h.trim().is_empty() => {
                    match h.trim().to_ascii_uppercase().as_str() {
                        "PERTAMA" => PageSelector::First,
                        "TERAKHIR" => PageSelector::Last,
                        _ => return Err(EcsError::invalid("halaman harus PERTAMA atau TERAKHIR")),
                    }
                }
                _ => PageSelector::Last,
            };
            let rect = match (self.x, self.y, self.width, self.height) {
                (Some(x), Some(y), Some(w), Some(h)) => {
                    let corners = state.sahih.config.server.ecs_coordinates
                        == sahih_core::config::EcsCoordinates::Corners;
                    let (w, h) = if corners { (w - x, h - y) } else { (w, h) };
                    if !(w > 0.0 && h > 0.0 && x >= 0.0 && y >= 0.0) {
                        return Err(EcsError::invalid(
                            "koordinat tanda tangan tidak valid (lebar/tinggi harus positif)",
                        ));
                    }
                    Some(DisplayRect { x, y, w, h })
                }
                (None, None, None, None) => None,
                _ => {
                    return Err(EcsError::invalid(
                        "xAxis, yAxis, width dan height harus diisi bersama",
                    ));
                }
            };
            Some(Placement::Page { page, rect })
        };
        Ok(SignOptions {
            placement,
            level,
            reason: self.reason.clone().filter(|s| !s.is_empty()),
            location: self.location.clone().filter(|s| !s.is_empty()),
            lang: Lang::Id,
            qr_link: self.link_qr.clone().filter(|s| !s.is_empty()),
            specimen: if visible { self.specimen.clone() } else { None },
            extra_text: self.text.clone(),
        })
    }
}

/// Runs one signing request end to end: signer, policy, passphrase, signing in parallel,
/// recording. Returns the signed items in request order.
/// Who signs and what they present.
pub struct SignerAuth<'a> {
    /// The official, by NIK or e-mail address.
    pub who: SignerRef,
    /// The passphrase of the official's key.
    pub passphrase: &'a str,
    /// A one-time code, checked before the passphrase when given.
    pub otp: Option<&'a str>,
}

/// Runs one signing request through the pipeline (`sign_for_client`) and maps a
/// refusal to its ECS answer.
pub async fn sign_flow(
    state: &Shared,
    client: &ApiClientRecord,
    auth: SignerAuth<'_>,
    class: Option<&str>,
    documents: Vec<BatchDocument>,
    keep_for_download: bool,
) -> Result<Vec<SignedItem>, EcsError> {
    let SignerAuth {
        who,
        passphrase,
        otp,
    } = auth;
    let signer = Signer::Official {
        who,
        passphrase,
        otp,
    };
    crate::sign_for_client(state, client, signer, class, documents, keep_for_download)
        .await
        .map_err(|e| EcsError::from_core(&e).context("Proses signing gagal"))
}

/// One multipart part: (name, file name, bytes), or None at the end. A body over the size
/// limit is a 413, anything else malformed a 4015.
pub async fn next_part(
    mp: &mut Multipart,
) -> Result<Option<(String, Option<String>, Bytes)>, EcsError> {
    let multipart_error = |status: StatusCode, text: String| {
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            EcsError::invalid(format!("multipart tidak valid: {text}"))
        }
    };
    let field = match mp.next_field().await {
        Ok(Some(f)) => f,
        Ok(None) => return Ok(None),
        Err(e) => return Err(multipart_error(e.status(), e.body_text())),
    };
    let name = field.name().unwrap_or("").to_string();
    let file_name = field.file_name().map(str::to_string);
    let data = field
        .bytes()
        .await
        .map_err(|e| multipart_error(e.status(), e.body_text()))?;
    Ok(Some((name, file_name, data)))
}

/// For the fuzzer (`fuzz/entries.rs`) and its smoke test: reads `body` as a multipart/form-data
/// body (boundary `sahih-fuzz`) part by part with [`next_part`], as the multipart handlers do,
/// and each text part as a form boolean. Must never panic.
#[doc(hidden)]
pub fn read_multipart_for_fuzzing(body: &[u8]) {
    use axum::extract::FromRequest;
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread().build() else {
        return;
    };
    runtime.block_on(async {
        let request = axum::http::Request::builder()
            .header(
                axum::http::header::CONTENT_TYPE,
                "multipart/form-data; boundary=sahih-fuzz",
            )
            .body(axum::body::Body::from(body.to_vec()));
        let Ok(request) = request else {
            return;
        };
        let Ok(mut mp) = Multipart::from_request(request, &()).await else {
            return;
        };
        while let Ok(Some((name, _, data))) = next_part(&mut mp).await {
            if let Ok(text) = std::str::from_utf8(&data) {
                let _ = form_bool(&name, text);
            }
        }
    });
}

/// [`sign_flow`] for one document kept for its one-time download (v1 and the native API).
pub async fn sign_one(
    state: &Shared,
    client: &ApiClientRecord,
    auth: SignerAuth<'_>,
    class: Option<&str>,
    document: BatchDocument,
) -> Result<SignedItem, EcsError> {
    sign_flow(state, client, auth, class, vec![document], true)
        .await?
        .pop()
        .ok_or_else(|| EcsError::from_core(&CoreError::Service("no result".into())))
}

/// A boolean form field as real ECS clients send it: `true`/`false` in any case, `1`/`0` (PHP's
/// Guzzle sends PHP `true` as `1`), `on`/`off` (HTML checkboxes), `yes`/`no`; empty is false.
/// Anything else is a 400 naming the field: a flag must never be silently read as false.
pub(crate) fn form_bool(field: &str, value: &str) -> Result<bool, EcsError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "on" | "yes" => Ok(true),
        "false" | "0" | "off" | "no" | "" => Ok(false),
        _ => Err(EcsError::invalid(format!(
            "{field} harus true atau false (juga 1/0)"
        ))),
    }
}

/// Expiry times as the ECS manual shows them: `2023-08-07T04:24:40.927+0000` (UTC).
pub(crate) fn ecs_expires(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// Verifies an uploaded signed PDF for an API client, audited; `None` when the file holds no
/// signature.
pub async fn verify_report(
    state: &Shared,
    client: &ApiClientRecord,
    bytes: Vec<u8>,
) -> Result<Option<Report>, EcsError> {
    let ctx = "Proses verifikasi gagal";
    let sha = hex_sha256(&bytes);
    let result = state
        .sahih
        .verify_bytes(&bytes, Vec::new(), OffsetDateTime::now_utc())
        .await;
    let (report, outcome) = match result {
        Ok(r) => {
            let o = match r.indication {
                Indication::TotalPassed => "TOTAL-PASSED",
                Indication::TotalFailed => "TOTAL-FAILED",
                Indication::Indeterminate => "INDETERMINATE",
            };
            (Some(r), o)
        }
        Err(CoreError::Pdf(sahih_pdf::PdfError::NotPdf | sahih_pdf::PdfError::Empty)) => {
            return Err(EcsError::new(
                StatusCode::BAD_REQUEST,
                code::DOCUMENT_INVALID,
                "Berkas bukan dokumen PDF",
            )
            .context(ctx));
        }
        Err(e) => return Err(EcsError::from_core(&e).context(ctx)),
    };
    let signatures = report.as_ref().map(|r| r.signatures.len()).unwrap_or(0);
    let event = sahih_core::audit::AuditEvent::new(
        sahih_core::audit::AuditAction::Verify,
        &format!("client:{}", client.name),
        sahih_core::audit::AuditResult::Ok,
    )
    .client(Some(&client.name))
    .document(&sha)
    .detail(format!("signatures={signatures} indication={outcome}"));
    if let Err(e) = state.sahih.store.append_audit(&[event]).await {
        return Err(EcsError::from_core(&e.into()));
    }
    Ok(report)
}

fn hex_sha256(bytes: &[u8]) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Status of an official in the ECS vocabulary: (status_code, status, message).
async fn user_status(
    state: &AppState,
    who: &SignerRef,
) -> Result<(u32, &'static str, String), EcsError> {
    let official = match state.sahih.resolve_official(who).await {
        Ok(o) => o,
        Err(CoreError::NikNotRegistered) => {
            return Ok((1110, "NOT_REGISTERED", "User belum terdaftar".into()));
        }
        Err(e) => return Err(EcsError::from_core(&e)),
    };
    if official.upstream {
        let (c, status, message) = crate::gateway::upstream_status(state, &official).await?;
        let status: &'static str = sahih_core::ra::Status::parse(&status)
            .map(|s| s.as_str())
            .unwrap_or("NOT_REGISTERED");
        return Ok((c, status, message));
    }
    let cert = state
        .sahih
        .store
        .latest_certificate(official.id)
        .await
        .map_err(|e| EcsError::from_core(&e.into()))?;
    let status =
        sahih_core::ra::effective_status(Some(&official), cert.as_ref(), OffsetDateTime::now_utc());
    let c = status.ecs_code();
    let message = match status {
        sahih_core::ra::Status::Issue
        | sahih_core::ra::Status::Suspend
        | sahih_core::ra::Status::Revoke
        | sahih_core::ra::Status::Expired => format!(
            "User sudah terdaftar dan memiliki sertifikat dengan status {}",
            status.as_str()
        ),
        other => format!("User sudah terdaftar: {}", other.message(Lang::Id)),
    };
    let status = status.as_str();
    Ok((c, status, message))
}

fn status_body(c: u32, status: &str, message: &str) -> Value {
    // Clients read status, userStatus or data.status: answer all three.
    json!({
        "status_code": c,
        "status": status,
        "message": message,
        "userStatus": status,
        "data": { "status": status },
    })
}

/// The BSrE-compatible routes (v1 multipart, v2 JSON, registration and seals); authentication and authorization are
/// layered on by [`crate::router`].
pub fn routes() -> axum::Router<Shared> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/sign/pdf", post(v1::v1_sign))
        .route("/api/sign/download/{id}", get(v1::v1_download))
        .route("/api/sign/verify", post(v1::v1_verify))
        .route("/api/user/status/{nik}", get(v1::v1_user_status))
        .route("/api/v2/sign/pdf", post(v2::v2_sign))
        .route("/api/v2/sign/get/totp", post(v2::v2_get_totp))
        .route("/api/v2/verify/pdf", post(v2::v2_verify))
        .route("/api/v2/user/check/status", post(v2::v2_user_status))
        .merge(registration::routes())
        .merge(seal::routes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boolean_fields_read_as_real_clients_send_them() {
        for yes in ["true", "TRUE", "True", " 1 ", "on", "yes"] {
            assert!(form_bool("image", yes).unwrap(), "{yes}");
        }
        for no in ["false", "FALSE", "0", "off", "no", ""] {
            assert!(!form_bool("image", no).unwrap(), "{no}");
        }
        let e = form_bool("image", "ya kali").unwrap_err();
        assert_eq!(e.code, code::FIELD_INVALID);
        assert!(e.message.contains("image"), "{}", e.message);
    }
}
