//! The page behind the QR code, `/v/{id}`: what this service recorded when the document was
//! signed (signer, position, unit, time in WIB, PAdES level, the signed file's SHA-256), the
//! certificate's status now (valid, suspended, or revoked since when, and whether that was
//! after signing), and a form that compares the file the reader holds with the record, so
//! nobody has to compare SHA-256 strings by eye.
//!
//! Must not show the NIK (personal data) or anything not in the record. Must not know how a
//! signature is validated (the portal does that).

use super::upload::{ClientAddr, UploadError, read_upload};
use super::{Check, Chrome, LangQuery, MessagePage, render};
use crate::Shared;
use askama::Template;
use axum::Router;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use sahih_core::Lang;
use sahih_core::store::{CertStatus, CertificateRecord, OfficialKind, SignedDocumentRecord, Store};
use time::OffsetDateTime;

/// `GET` and `POST /v/{id}`, with the portal's body limit.
pub fn routes(state: &Shared) -> Router<Shared> {
    Router::new()
        .route("/v/{id}", get(show).post(compare))
        .layer(super::upload::body_limit(state))
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage {
    c: Chrome,
    sealed: bool,
    name: String,
    position: String,
    unit: String,
    when: String,
    level: String,
    sha256: String,
    cert: Check,
    comparison: Option<Comparison>,
    action: String,
    max_bytes: usize,
    too_large: String,
}

struct Comparison {
    tone: &'static str,
    heading: String,
    text: String,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric())
}

async fn find(state: &Shared, id: &str) -> Option<SignedDocumentRecord> {
    if !valid_id(id) {
        return None;
    }
    state.sahih.store.signed_document(id).await.ok().flatten()
}

fn not_found(state: &Shared, lang: Lang, id: &str) -> Response {
    let c = Chrome::new(
        state,
        lang,
        match lang {
            Lang::Id => "Dokumen tidak ditemukan",
            Lang::En => "Document not found",
        },
        &format!("/v/{}", if valid_id(id) { id } else { "" }),
    );
    let paragraphs = vec![
        c.t(
            "Kode pada QR ini tidak dikenal oleh layanan tanda tangan elektronik instansi. Dokumen mungkin palsu atau QR-nya rusak.",
            "This QR code is not known to the institution's e-signature service. The document may be forged or the code damaged.",
        )
        .to_string(),
        c.t(
            "Anda tetap dapat memeriksa tanda tangan pada berkasnya di portal verifikasi.",
            "You can still check the signatures in the file at the verification portal.",
        )
        .to_string(),
    ];
    let link = Some((
        c.href("/verifikasi"),
        c.t("Ke portal verifikasi", "To the verification portal")
            .to_string(),
    ));
    render(
        StatusCode::NOT_FOUND,
        &MessagePage {
            c,
            tone: "bad",
            paragraphs,
            link,
        },
    )
}

/// The certificate's status now, in words, relative to the signing time.
fn certificate_now(
    cert: Option<&CertificateRecord>,
    signed_at: OffsetDateTime,
    now: OffsetDateTime,
    lang: Lang,
) -> Check {
    let t = |id: &str, en: &str| match lang {
        Lang::Id => id.to_string(),
        Lang::En => en.to_string(),
    };
    let Some(cert) = cert else {
        return Check::warn(t(
            "Status sertifikat tidak diketahui",
            "The certificate's status is unknown",
        ));
    };
    let when = |at: Option<OffsetDateTime>| {
        at.map(|a| sahih_core::format_wib(a, lang))
            .unwrap_or_default()
    };
    let after = cert.revoked_at.is_none_or(|r| r > signed_at);
    match cert.status {
        CertStatus::Issue if cert.not_after > now => Check::ok(format!(
            "{} {}",
            t(
                "Sertifikat masih berlaku sampai",
                "The certificate is valid until"
            ),
            sahih_core::format_wib(cert.not_after, lang)
        )),
        CertStatus::Issue => Check::warn(format!(
            "{} {}{}",
            t(
                "Masa berlaku sertifikat berakhir pada",
                "The certificate expired on"
            ),
            sahih_core::format_wib(cert.not_after, lang),
            t(
                "; dokumen yang ditandatangani sebelumnya tetap dapat diverifikasi",
                "; documents signed before then can still be verified"
            )
        )),
        CertStatus::Suspend => Check::warn(format!(
            "{} {}{}",
            t(
                "Sertifikat ditangguhkan sejak",
                "The certificate is suspended since"
            ),
            when(cert.revoked_at),
            if after {
                t(
                    ", sesudah dokumen ini ditandatangani",
                    ", after this document was signed",
                )
            } else {
                t(
                    ", sebelum dokumen ini ditandatangani",
                    ", before this document was signed",
                )
            }
        )),
        CertStatus::Revoke if after => Check::warn(format!(
            "{} {}{}",
            t("Sertifikat dicabut pada", "The certificate was revoked on"),
            when(cert.revoked_at),
            t(
                ", sesudah dokumen ini ditandatangani",
                ", after this document was signed"
            )
        )),
        CertStatus::Revoke => Check::bad(format!(
            "{} {}{}",
            t("Sertifikat dicabut pada", "The certificate was revoked on"),
            when(cert.revoked_at),
            t(
                ", sebelum dokumen ini ditandatangani",
                ", before this document was signed"
            )
        )),
    }
}

async fn record_page(state: &Shared, doc: &SignedDocumentRecord, lang: Lang) -> RecordPage {
    let official = state
        .sahih
        .store
        .official_by_id(doc.official_id)
        .await
        .ok()
        .flatten();
    let cert = state
        .sahih
        .store
        .certificate_by_id(doc.certificate_id)
        .await
        .ok()
        .flatten();
    let sealed = official
        .as_ref()
        .is_some_and(|o| o.kind == OfficialKind::Seal);
    let (name, position, unit) = official
        .map(|o| (o.name, o.position, o.unit))
        .unwrap_or_default();
    let path = format!("/v/{}", doc.id);
    let c = Chrome::new(
        state,
        lang,
        match lang {
            Lang::Id => "Catatan penandatanganan",
            Lang::En => "Signing record",
        },
        &path,
    );
    let max_bytes = state.sahih.config.web.portal_max_bytes();
    RecordPage {
        sealed,
        name,
        position,
        unit,
        when: sahih_core::format_wib(doc.signed_at, lang),
        level: doc.level.clone(),
        sha256: doc.sha256_hex.clone(),
        cert: certificate_now(
            cert.as_ref(),
            doc.signed_at,
            OffsetDateTime::now_utc(),
            lang,
        ),
        comparison: None,
        action: path,
        max_bytes,
        too_large: UploadError::TooLarge.message(lang, max_bytes).0,
        c,
    }
}

async fn show(
    State(state): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang = q.lang();
    match find(&state, &id).await {
        Some(doc) => render(StatusCode::OK, &record_page(&state, &doc, lang).await),
        None => not_found(&state, lang, &id),
    }
}

async fn compare(
    State(state): State<Shared>,
    Path(id): Path<String>,
    ClientAddr(from): ClientAddr,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let now = std::time::Instant::now();
    let throttled = state.portal_throttle.blocked(from, now);
    if throttled.is_none() {
        state.portal_throttle.record(from, now);
    }
    let max = state.sahih.config.web.portal_max_bytes();
    let (lang, upload) = read_upload(form, max).await;
    let Some(doc) = find(&state, &id).await else {
        return not_found(&state, lang, &id);
    };
    let mut page = record_page(&state, &doc, lang).await;
    let t = |id: &str, en: &str| match lang {
        Lang::Id => id.to_string(),
        Lang::En => en.to_string(),
    };
    if let Some(wait) = throttled {
        let secs = wait.as_secs().max(1);
        page.comparison = Some(Comparison {
            tone: "bad",
            heading: t("Terlalu sering", "Too many checks"),
            text: match lang {
                Lang::Id => format!(
                    "Alamat Anda sudah memeriksa banyak berkas dalam satu menit terakhir. Coba lagi dalam {secs} detik."
                ),
                Lang::En => format!(
                    "Your address checked many files in the last minute. Try again in {secs} seconds."
                ),
            },
        });
        let mut r = render(StatusCode::TOO_MANY_REQUESTS, &page);
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    let upload = match upload {
        Ok(u) => u,
        Err(e) => {
            let (heading, text) = e.message(lang, max);
            page.comparison = Some(Comparison {
                tone: "bad",
                heading,
                text,
            });
            return render(e.status(), &page);
        }
    };
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &upload.bytes);
    let sha: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    page.comparison = Some(if sha == doc.sha256_hex {
        Comparison {
            tone: "ok",
            heading: t(
                "Berkas Anda sama persis dengan yang ditandatangani",
                "Your file is exactly the one that was signed",
            ),
            text: t(
                "Sidik SHA-256 berkas Anda sama dengan catatan ini: isinya tidak berubah sejak ditandatangani.",
                "Your file's SHA-256 fingerprint equals this record: its content has not changed since it was signed.",
            ),
        }
    } else {
        Comparison {
            tone: "bad",
            heading: t(
                "Berkas Anda BERBEDA dari yang ditandatangani",
                "Your file DIFFERS from the one that was signed",
            ),
            text: t(
                "Sidik SHA-256 berkas Anda tidak sama dengan catatan ini. Berkas mungkin telah diubah, atau ditambah tanda tangan/cap waktu sesudahnya; periksa tanda tangannya di portal verifikasi.",
                "Your file's SHA-256 fingerprint differs from this record. It may have been altered, or countersigned or timestamped later; check its signatures at the verification portal.",
            ),
        }
    });
    render(StatusCode::OK, &page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn cert(status: CertStatus, revoked_at: Option<OffsetDateTime>) -> CertificateRecord {
        CertificateRecord {
            id: 1,
            official_id: 1,
            issuer_ca_id: 1,
            serial_hex: "01".into(),
            cert_der: Vec::new(),
            sealed_key: String::new(),
            key_algorithm: "rsa-2048".into(),
            status,
            revoked_at,
            revocation_reason: None,
            not_after: OffsetDateTime::UNIX_EPOCH + Duration::days(400),
        }
    }

    #[test]
    fn certificate_status_is_told_relative_to_the_signing() {
        let signed = OffsetDateTime::UNIX_EPOCH + Duration::days(10);
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20);
        let c = certificate_now(Some(&cert(CertStatus::Issue, None)), signed, now, Lang::Id);
        assert_eq!(c.tone, "ok");
        let later = Some(signed + Duration::days(1));
        let c = certificate_now(
            Some(&cert(CertStatus::Revoke, later)),
            signed,
            now,
            Lang::Id,
        );
        assert_eq!(c.tone, "warn");
        assert!(c.text.contains("sesudah"), "{}", c.text);
        let earlier = Some(signed - Duration::days(1));
        let c = certificate_now(
            Some(&cert(CertStatus::Revoke, earlier)),
            signed,
            now,
            Lang::En,
        );
        assert_eq!(c.tone, "bad");
        assert!(c.text.contains("before"), "{}", c.text);
        let c = certificate_now(
            Some(&cert(CertStatus::Suspend, later)),
            signed,
            now,
            Lang::Id,
        );
        assert_eq!(c.tone, "warn");
        let expired = OffsetDateTime::UNIX_EPOCH + Duration::days(500);
        let c = certificate_now(
            Some(&cert(CertStatus::Issue, None)),
            signed,
            expired,
            Lang::Id,
        );
        assert_eq!(c.tone, "warn");
        assert_eq!(certificate_now(None, signed, now, Lang::Id).tone, "warn");
    }
}
