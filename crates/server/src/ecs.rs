//! The BSrE "Esign Client Service" (ECS) compatible API: the same paths, field names, response
//! shapes and error codes as the public ECS manual (see docs/ECS.md for every choice where the
//! manual is ambiguous), so existing Pemda applications work unchanged.
//!
//! Owns: request parsing (multipart v1, JSON v2), mapping fields to signing options, mapping
//! results and errors to ECS bodies. Must not know: how signing, policy or audit work (that is
//! `sahih-core`).

use crate::b64json::{FileSpan, JsonWithFiles};
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
    pub who: SignerRef,
    pub passphrase: &'a str,
    /// A one-time code, checked before the passphrase when given.
    pub otp: Option<&'a str>,
}

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

/// Collects the multipart fields of a v1 request: files, and text fields.
async fn read_multipart(
    mut mp: Multipart,
) -> Result<(Vec<(String, String)>, Vec<(String, Option<String>, Bytes)>), EcsError> {
    let mut texts = Vec::new();
    let mut files = Vec::new();
    while let Some((name, file_name, data)) = next_part(&mut mp).await? {
        if file_name.is_some() || name == "file" || name == "signed_file" || name == "imageTTD" {
            files.push((name, file_name, data));
        } else {
            texts.push((name, String::from_utf8_lossy(&data).into_owned()));
        }
    }
    Ok((texts, files))
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

fn text<'a>(texts: &'a [(String, String)], name: &str) -> Option<&'a str> {
    texts
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// v1 `POST /api/sign/pdf` (multipart).
pub async fn v1_sign(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    EcsMultipart(mp): EcsMultipart,
) -> Result<Response, EcsError> {
    let (texts, files) = read_multipart(mp).await?;
    let image_part = files
        .iter()
        .find(|(n, _, _)| n == "imageTTD")
        .map(|(_, _, b)| b.clone());
    let (_, file_name, pdf) = files
        .into_iter()
        .find(|(n, _, _)| n == "file")
        .ok_or_else(|| EcsError::required("File"))?;
    let wants_image = match text(&texts, "image") {
        Some(v) => form_bool("image", v)?,
        None => false,
    };
    let specimen_image = match (wants_image, image_part) {
        (true, Some(bytes)) => Some(specimen("imageTTD", &bytes)?),
        (true, None) => return Err(EcsError::required("imageTTD")),
        (false, _) => None,
    };
    let nik = text(&texts, "nik")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| EcsError::required("NIK"))?;
    let passphrase = text(&texts, "passphrase")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| EcsError::required("Passphrase"))?;
    let fields = StampFields {
        tampilan: text(&texts, "tampilan").map(str::to_string),
        page: text(&texts, "page").map(str::to_string),
        halaman: text(&texts, "halaman").map(str::to_string),
        x: parse_num("xAxis", text(&texts, "xAxis"))?,
        y: parse_num("yAxis", text(&texts, "yAxis"))?,
        width: parse_num("width", text(&texts, "width"))?,
        height: parse_num("height", text(&texts, "height"))?,
        tag: text(&texts, "tag_koordinat")
            .or_else(|| text(&texts, "tag"))
            .map(str::to_string),
        link_qr: text(&texts, "linkQR").map(str::to_string),
        reason: text(&texts, "reason").map(str::to_string),
        location: text(&texts, "location").map(str::to_string),
        specimen: specimen_image,
        text: text(&texts, "text").map(str::to_string),
    };
    let options = fields.options(&state)?;
    let class = text(&texts, "kelas_dokumen").map(str::to_string);
    let item = sign_one(
        &state,
        &client,
        SignerAuth {
            who: SignerRef::Nik(nik.trim().to_string()),
            passphrase,
            otp: None,
        },
        class.as_deref(),
        BatchDocument {
            bytes: pdf.to_vec(),
            options,
            file_name,
        },
    )
    .await?;
    let id = item
        .download_id
        .clone()
        .unwrap_or(item.outcome.document_id.clone());
    let signing_time = ecs_time(item.outcome.signed_at);
    if text(&texts, "jenis_response").is_some_and(|v| v.eq_ignore_ascii_case("BASE64")) {
        let mut r = Json(json!({
            "base64_signed_file": B64.encode(&item.signed),
            "id_dokumen": id,
            "signing_time": signing_time,
        }))
        .into_response();
        set_header(&mut r, "id_dokumen", &id);
        return Ok(r);
    }
    let mut r = (StatusCode::OK, item.signed).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    set_header(&mut r, "id_dokumen", &id);
    set_header(&mut r, "signing_time", &signing_time);
    Ok(r)
}

fn set_header(r: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

/// `Y-m-d H:i:s.u` in WIB, as ECS writes dates in v1 bodies.
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

fn ecs_time(t: OffsetDateTime) -> String {
    let wib = t.to_offset(time::UtcOffset::from_hms(7, 0, 0).unwrap_or(time::UtcOffset::UTC));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.00",
        wib.year(),
        u8::from(wib.month()),
        wib.day(),
        wib.hour(),
        wib.minute(),
        wib.second()
    )
}

/// v1 `GET /api/sign/download/{id}`: once only.
pub async fn v1_download(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    Path(id): Path<String>,
) -> Result<Response, EcsError> {
    let gone = || {
        EcsError::new(
            StatusCode::NOT_FOUND,
            code::FILE_NOT_AVAILABLE,
            "File tidak tersedia, pastikan bahwa dokumen belum di download",
        )
    };
    if id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(gone());
    }
    match state
        .sahih
        .take_download(&state.blobs, &id, Some(&client.name))
        .await
    {
        Ok(Some(bytes)) => {
            let mut r = (StatusCode::OK, bytes).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            );
            set_header(&mut r, "id_dokumen", &id);
            Ok(r)
        }
        Ok(None) => Err(gone()),
        Err(e) => Err(EcsError::from_core(&e)),
    }
}

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

fn rfc3339_to_ecs(s: Option<&str>) -> Option<String> {
    let t = OffsetDateTime::parse(s?, &time::format_description::well_known::Rfc3339).ok()?;
    Some(ecs_time(t))
}

/// v1 `POST /api/sign/verify` (multipart `signed_file`).
pub async fn v1_verify(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    EcsMultipart(mp): EcsMultipart,
) -> Result<Response, EcsError> {
    let (_, files) = read_multipart(mp).await?;
    let (_, file_name, pdf) = files
        .into_iter()
        .find(|(n, _, _)| n == "signed_file" || n == "file")
        .ok_or_else(|| EcsError::required("signed_file"))?;
    let report = verify_report(&state, &client, pdf.to_vec()).await?;
    let Some(report) = report else {
        return Err(EcsError::from_core(&CoreError::Service("no report".into())));
    };
    let details: Vec<Value> = report
        .signatures
        .iter()
        .map(|s| {
            json!({
                "signature_field": s.field,
                "info_tsa": {
                    "name": s.timestamp_authority,
                    "tsa_cert_validity": Value::Null,
                },
                "info_signer": {
                    "signer_name": s.signer_name,
                    "issuer_dn": s.issuer,
                    "signer_dn": s.signer_subject,
                    "signer_cert_validity": match (&s.signer_not_before, &s.signer_not_after) {
                        (Some(a), Some(b)) => Value::String(format!(
                            "{} to {}",
                            rfc3339_to_ecs(Some(a)).unwrap_or_default(),
                            rfc3339_to_ecs(Some(b)).unwrap_or_default()
                        )),
                        _ => Value::Null,
                    },
                    "cert_user_certified": s.trusted,
                },
                "signature_document": {
                    "signed_in": rfc3339_to_ecs(s.timestamp_time.as_deref().or(s.signed_at.as_deref())),
                    "reason": s.reason,
                    "location": s.location,
                    "signed_using_tsa": s.timestamp_time.is_some(),
                    "document_integrity": s.integrity && s.modifications != "disallowed",
                    "signature_value": Value::Null,
                    "hash_value": Value::Null,
                },
            })
        })
        .collect();
    let n = report.signatures.len();
    let all_intact = report
        .signatures
        .iter()
        .all(|s| s.integrity && s.modifications != "disallowed");
    let all_tsa = report.signatures.iter().all(|s| s.timestamp_time.is_some());
    let (notes, summary) = if n == 0 {
        (
            Value::String("Dokumen tidak memiliki tanda tangan elektronik".into()),
            Value::Null,
        )
    } else if report.indication == Indication::TotalPassed && all_tsa {
        (
            Value::String("Dokumen valid, Sertifikat yang digunakan terpercaya".into()),
            Value::String("VALID".into()),
        )
    } else if report.indication == Indication::TotalPassed {
        (
            Value::String(
                "Dokumen asli dan valid, tetapi dokumen tidak menggunakan waktu TSA".into(),
            ),
            Value::String("VALID".into()),
        )
    } else if !all_intact {
        (
            Value::String("Konten Dokumen mengalami perubahan oleh pihak yang tidak berhak".into()),
            Value::String("DOCUMENT NOT VALID !!!".into()),
        )
    } else {
        (
            Value::String(first_problem(&report)),
            Value::String("DOCUMENT NOT VALID !!!".into()),
        )
    };
    Ok(Json(json!({
        "nama_dokumen": file_name.unwrap_or_else(|| "dokumen.pdf".into()),
        "jumlah_signature": n,
        "notes": notes,
        "details": details,
        "summary": summary,
    }))
    .into_response())
}

/// The first reason a report did not pass, in Indonesian.
fn first_problem(report: &Report) -> String {
    for s in &report.signatures {
        if s.revoked {
            return "Sertifikat penanda tangan telah dicabut".into();
        }
        if !s.trusted {
            return "Sertifikat yang digunakan tidak terpercaya".into();
        }
        if let Some(e) = s.errors.first() {
            return format!("Tanda tangan tidak valid: {}", e.code);
        }
    }
    "Dokumen tidak valid".into()
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

/// v1 `GET /api/user/status/{nik}`.
pub async fn v1_user_status(
    State(state): State<Shared>,
    Path(nik): Path<String>,
) -> Result<Response, EcsError> {
    let (c, status, message) = user_status(&state, &SignerRef::Nik(nik)).await?;
    Ok(Json(status_body(c, status, &message)).into_response())
}

#[derive(Deserialize)]
pub struct V2StatusRequest {
    nik: Option<String>,
    email: Option<String>,
}

fn signer_ref(nik: Option<String>, email: Option<String>) -> Result<SignerRef, EcsError> {
    match (
        nik.filter(|s| !s.trim().is_empty()),
        email.filter(|s| !s.trim().is_empty()),
    ) {
        (Some(n), _) => Ok(SignerRef::Nik(n.trim().to_string())),
        (None, Some(e)) => Ok(SignerRef::Email(e.trim().to_string())),
        (None, None) => Err(EcsError::required("NIK atau email")),
    }
}

/// v2 `POST /api/v2/user/check/status`.
pub async fn v2_user_status(
    State(state): State<Shared>,
    body: Result<Json<V2StatusRequest>, JsonRejection>,
) -> Result<Response, EcsError> {
    let Json(req) = body.map_err(json_rejection)?;
    let who = signer_ref(req.nik, req.email)?;
    let (c, status, message) = user_status(&state, &who).await?;
    Ok(Json(status_body(c, status, &message)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct V2Properties {
    tampilan: Option<String>,
    pub(crate) image_base64: Option<String>,
    #[serde(default)]
    page: Value,
    #[serde(default)]
    origin_x: Value,
    #[serde(default)]
    origin_y: Value,
    #[serde(default)]
    width: Value,
    #[serde(default)]
    height: Value,
    #[serde(rename = "tag_koordinat")]
    tag_koordinat: Option<String>,
    tag: Option<String>,
    location: Option<String>,
    reason: Option<String>,
    #[serde(rename = "linkQR")]
    link_qr: Option<String>,
    pub(crate) pdf_password: Option<String>,
}

#[derive(Deserialize)]
pub struct V2SignRequest {
    nik: Option<String>,
    email: Option<String>,
    passphrase: Option<String>,
    totp: Option<String>,
    otp: Option<String>,
    #[serde(rename = "signatureProperties", default)]
    signature_properties: Vec<V2Properties>,
    /// Where each base64 file lies in the body (decoded in place: see `b64json`).
    #[serde(default)]
    file: Vec<FileSpan>,
    /// Sahih extension: the document class (else the API client's default class).
    #[serde(
        rename = "kelasDokumen",
        alias = "kelas_dokumen",
        alias = "documentClass"
    )]
    kelas_dokumen: Option<String>,
}

fn page_text(v: &Value) -> Result<Option<String>, EcsError> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(EcsError::invalid("page harus nomor halaman")),
    }
}

impl V2Properties {
    pub(crate) fn stamp(
        &self,
        specimen_image: Option<Arc<sahih_pdf::SpecimenImage>>,
    ) -> Result<StampFields, EcsError> {
        let page = page_text(&self.page)?;
        let (page, halaman) = match page.as_deref().map(str::to_ascii_uppercase).as_deref() {
            Some("PERTAMA") | Some("TERAKHIR") => (None, page),
            _ => (page, None),
        };
        Ok(StampFields {
            tampilan: self.tampilan.clone(),
            page,
            halaman,
            x: num("originX", &self.origin_x)?,
            y: num("originY", &self.origin_y)?,
            width: num("width", &self.width)?,
            height: num("height", &self.height)?,
            tag: self.tag_koordinat.clone().or_else(|| self.tag.clone()),
            link_qr: self.link_qr.clone(),
            reason: self.reason.clone(),
            location: self.location.clone(),
            specimen: specimen_image,
            text: None,
        })
    }
}

/// v2 `POST /api/v2/sign/pdf` (JSON; several files with one passphrase).
pub async fn v2_sign(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    mut body: JsonWithFiles<V2SignRequest>,
) -> Result<Response, EcsError> {
    let started = std::time::Instant::now();
    let spans = std::mem::take(&mut body.value.file);
    let req = &mut body.value;
    let who = signer_ref(req.nik.take(), req.email.take())?;
    let otp = req
        .totp
        .take()
        .or(req.otp.take())
        .filter(|t| !t.trim().is_empty());
    let passphrase = match (req.passphrase.take(), &otp) {
        (Some(p), _) if !p.is_empty() => p,
        (_, Some(_)) => {
            // Keys are sealed under the official's passphrase, so a one-time code alone cannot
            // unlock them; it is a second factor next to the passphrase (docs/ECS.md).
            return Err(EcsError::invalid(
                "Sahih memerlukan passphrase untuk membuka kunci tanda tangan; TOTP saja tidak cukup (kirim passphrase dan totp)",
            )
            .context("Proses signing gagal"));
        }
        _ => return Err(EcsError::required("Passphrase")),
    };
    let passphrase = zeroize::Zeroizing::new(passphrase);
    let (req, files) = v2_files(&state, body, &spans)?;
    let documents = v2_documents(&state, files, &req.signature_properties)?;
    let items = sign_flow(
        &state,
        &client,
        SignerAuth {
            who,
            passphrase: &passphrase,
            otp: otp.as_deref(),
        },
        req.kelas_dokumen.as_deref(),
        documents,
        false,
    )
    .await?;
    Ok(v2_signed_response(started, &items))
}

/// The base64 `file` entries of a v2 request (sign or seal), counted, then decoded in place.
pub(crate) fn v2_files<T>(
    state: &AppState,
    body: JsonWithFiles<T>,
    spans: &[FileSpan],
) -> Result<(T, Vec<Vec<u8>>), EcsError> {
    if spans.is_empty() {
        return Err(EcsError::required("file"));
    }
    let max = state.sahih.config.server.max_files_per_request.max(1);
    if spans.len() > max {
        return Err(EcsError::invalid(format!(
            "terlalu banyak berkas dalam satu permintaan (maksimal {max})"
        )));
    }
    body.take_files(spans, "file")
}

/// The documents of a v2 request (sign or seal): decoded files with one `signatureProperties`
/// entry for all or one per file; specimen images decoded once per entry.
pub(crate) fn v2_documents(
    state: &AppState,
    file: Vec<Vec<u8>>,
    props: &[V2Properties],
) -> Result<Vec<BatchDocument>, EcsError> {
    if props.len() > 1 && props.len() != file.len() {
        return Err(EcsError::invalid(
            "signatureProperties harus berisi 1 entri atau satu entri per berkas",
        ));
    }
    let default_props = V2Properties::default();
    // Specimen images, decoded once per properties entry (one entry may serve every file).
    let mut images = Vec::with_capacity(props.len());
    for (i, p) in props.iter().enumerate() {
        images.push(match p.image_base64.as_deref().filter(|s| !s.is_empty()) {
            Some(b) => Some(specimen(
                &format!("signatureProperties[{i}].imageBase64"),
                &decode_b64("imageBase64", b)?,
            )?),
            None => None,
        });
    }
    let mut documents = Vec::with_capacity(file.len());
    for (i, bytes) in file.into_iter().enumerate() {
        let (p, image) = match props.len() {
            0 => (&default_props, None),
            1 => (
                props.first().unwrap_or(&default_props),
                images.first().cloned().flatten(),
            ),
            _ => (
                props.get(i).unwrap_or(&default_props),
                images.get(i).cloned().flatten(),
            ),
        };
        if p.pdf_password.as_deref().is_some_and(|s| !s.is_empty()) {
            return Err(EcsError::invalid(
                "PDF terenkripsi (pdfPassword) belum didukung; buka proteksinya terlebih dahulu",
            ));
        }
        documents.push(BatchDocument {
            bytes,
            options: p.stamp(image)?.options(state)?,
            file_name: None,
        });
    }
    Ok(documents)
}

/// The v2 answer to a signing or sealing request: `{time, file: [...], id_dokumen: [...]}`.
pub(crate) fn v2_signed_response(started: std::time::Instant, items: &[SignedItem]) -> Response {
    let files: Vec<String> = items.iter().map(|i| B64.encode(&i.signed)).collect();
    let ids: Vec<&str> = items
        .iter()
        .map(|i| i.outcome.document_id.as_str())
        .collect();
    Json(json!({
        "time": started.elapsed().as_millis() as u64,
        "file": files,
        "id_dokumen": ids,
    }))
    .into_response()
}

#[derive(Deserialize)]
pub struct V2VerifyRequest {
    file: Option<String>,
    password: Option<String>,
}

/// v2 `POST /api/v2/verify/pdf`.
pub async fn v2_verify(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    body: Result<Json<V2VerifyRequest>, JsonRejection>,
) -> Result<Response, EcsError> {
    let Json(req) = body.map_err(json_rejection)?;
    if req.password.as_deref().is_some_and(|p| !p.is_empty()) {
        return Err(EcsError::invalid(
            "PDF terenkripsi (password) belum didukung; buka proteksinya terlebih dahulu",
        ));
    }
    let file = req
        .file
        .filter(|f| !f.is_empty())
        .ok_or_else(|| EcsError::required("file"))?;
    let bytes = decode_b64("file", &file)?;
    let report = verify_report(&state, &client, bytes)
        .await?
        .ok_or_else(|| EcsError::from_core(&CoreError::Service("no report".into())))?;
    let n = report.signatures.len();
    let infos: Vec<Value> = report
        .signatures
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let format = match s.level {
                Some("B-B") | None => "PAdES-BASELINE-B",
                Some("B-T") => "PAdES-BASELINE-T",
                Some("B-LT") => "PAdES-BASELINE-LT",
                Some(_) => "PAdES-BASELINE-LTA",
            };
            json!({
                "id": format!("signature-{}", i + 1),
                "signatureFormat": format,
                "signerName": s.signer_name,
                "signatureDate": s.timestamp_time.as_deref().or(s.signed_at.as_deref()),
                "fieldName": s.field,
                "reason": s.reason,
                "location": s.location,
                "certLevelCode": 0,
                "signatureAlgorithm": s.signature_algorithm,
                "digestAlgorithm": "SHA256",
                "timestampInfomation": s.timestamp_time.as_ref().map(|t| json!({
                    "id": format!("timestamp-{}", i + 1),
                    "signerName": s.timestamp_authority,
                    "timestampDate": t,
                })),
                "certificateDetails": [{
                    "id": s.signer_serial,
                    "commonName": s.signer_name,
                    "issuerName": s.issuer,
                    "serialNumber": s.signer_serial,
                    "notBeforeDate": s.signer_not_before,
                    "notAfterDate": s.signer_not_after,
                    "signatureAlgoritm": s.signature_algorithm,
                    "keyUsages": s.signer_key_usages,
                }],
                "integrityValid": s.integrity && s.modifications != "disallowed",
                "certificateTrusted": s.trusted,
                "lastSignature": i + 1 == n,
                "indication": s.indication,
                "subIndication": s.sub_indication,
            })
        })
        .collect();
    let (conclusion, description) = if n == 0 {
        (
            "NO_SIGNATURE",
            "Dokumen tidak memiliki tanda tangan elektronik",
        )
    } else {
        match report.indication {
            Indication::TotalPassed => (
                "VALID",
                "Dokumen valid, sertifikat yang digunakan terpercaya",
            ),
            Indication::TotalFailed => ("INVALID", "Dokumen tidak valid"),
            Indication::Indeterminate => (
                "INDETERMINATE",
                "Keabsahan tanda tangan belum dapat dipastikan",
            ),
        }
    };
    Ok(Json(json!({
        "conclusion": conclusion,
        "description": description,
        "signatureCount": n,
        "signatureInformations": infos,
    }))
    .into_response())
}

#[derive(Deserialize)]
pub struct V2TotpRequest {
    nik: Option<String>,
    email: Option<String>,
    /// How many documents the code is for.
    #[serde(default)]
    data: Value,
}

/// v2 `POST /api/v2/sign/get/totp`: a one-time code for `data` documents, sent to the
/// official's e-mail (the outbox in the embedded default).
pub async fn v2_get_totp(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    body: Result<Json<V2TotpRequest>, JsonRejection>,
) -> Result<Response, EcsError> {
    let Json(req) = body.map_err(json_rejection)?;
    let who = signer_ref(req.nik, req.email)?;
    let documents = num("data", &req.data)?.unwrap_or(1.0);
    if !(1.0..=10_000.0).contains(&documents) {
        return Err(EcsError::invalid(
            "data harus jumlah dokumen 1 sampai 10000",
        ));
    }
    let official = state
        .sahih
        .resolve_official(&who)
        .await
        .map_err(|e| EcsError::from_core(&e))?;
    let expires = state
        .sahih
        .issue_signing_otp(&official, documents as i64, Some(&client.name))
        .await
        .map_err(|e| EcsError::from_core(&e))?;
    Ok(Json(json!({
        "success": true,
        "message": "TOTP berhasil dikirim",
        "data": { "expires": ecs_expires(expires) },
    }))
    .into_response())
}

/// The BSrE-compatible routes (v1 multipart and v2 JSON); authentication and authorization are
/// layered on by [`crate::router`].
pub fn routes() -> axum::Router<Shared> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/api/sign/pdf", post(v1_sign))
        .route("/api/sign/download/{id}", get(v1_download))
        .route("/api/sign/verify", post(v1_verify))
        .route("/api/user/status/{nik}", get(v1_user_status))
        .route("/api/v2/sign/pdf", post(v2_sign))
        .route("/api/v2/sign/get/totp", post(v2_get_totp))
        .route("/api/v2/verify/pdf", post(v2_verify))
        .route("/api/v2/user/check/status", post(v2_user_status))
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
