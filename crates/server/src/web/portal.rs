//! The public verification portal, `/verifikasi` (no login): anyone drops a PDF and reads, in
//! plain Bahasa Indonesia (or English), whether it is genuine: the verdict (SAH / TIDAK SAH /
//! TIDAK DAPAT DIPASTIKAN), who signed with position, unit and time, whether the file changed
//! after signing, whether the certificate was revoked, and whether this service holds a
//! signing record for exactly this file. The full ETSI EN 319 102-1 report sits behind a
//! toggle. The file is verified in memory and never stored; each address may ask a limited
//! number of times per minute.
//!
//! Must not know: how signatures are validated (`Sahih::verify_bytes`, the same function every
//! other door uses).

use super::upload::{ClientAddr, UploadError, read_upload};
use super::{Check, Chrome, LangQuery, human_size, render};
use crate::Shared;
use askama::Template;
use axum::Router;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use sahih_core::store::Store;
use sahih_core::{CoreError, Lang};
use sahih_validate::render::{change_text, finding_text, render_text};
use sahih_validate::{FindingCode, Indication, Report, SignatureReport};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Signing records listed for one file.
const RECORDS_SHOWN: i64 = 5;

/// `GET` and `POST /verifikasi`, with the portal's own body limit.
pub fn routes(state: &Shared) -> Router<Shared> {
    Router::new()
        .route("/verifikasi", get(form).post(verify))
        .layer(super::upload::body_limit(state))
}

#[derive(Template)]
#[template(path = "portal.html")]
struct PortalPage {
    c: Chrome,
    error: Option<(String, String)>,
    result: Option<Outcome>,
    max_bytes: usize,
    hint: String,
    too_large: String,
}

/// What the verdict section shows, computed here so the template only lays it out.
struct Outcome {
    tone: &'static str,
    heading: String,
    summary: String,
    file_name: String,
    size: String,
    sha256: String,
    checked: String,
    signatures: Vec<SignatureView>,
    records: Vec<RecordLink>,
    show_no_record: bool,
    detail: String,
}

struct SignatureView {
    signer: String,
    tone: &'static str,
    verdict: String,
    position: String,
    unit: String,
    organization: String,
    when: String,
    level: String,
    checks: Vec<Check>,
}

struct RecordLink {
    when: String,
    href: String,
}

fn portal_page(state: &Shared, lang: Lang) -> PortalPage {
    let c = Chrome::new(
        state,
        lang,
        match lang {
            Lang::Id => "Verifikasi dokumen",
            Lang::En => "Verify a document",
        },
        "/verifikasi",
    );
    let max_bytes = state.sahih.config.web.portal_max_bytes();
    let mib = max_bytes / (1024 * 1024);
    let hint = match lang {
        Lang::Id => format!("PDF, paling besar {mib} MB. Anda juga dapat menyeret berkas ke sini."),
        Lang::En => format!("PDF, at most {mib} MB. You can also drag the file here."),
    };
    let too_large = UploadError::TooLarge.message(lang, max_bytes).0;
    PortalPage {
        c,
        error: None,
        result: None,
        max_bytes,
        hint,
        too_large,
    }
}

async fn form(State(state): State<Shared>, Query(q): Query<LangQuery>) -> Response {
    render(StatusCode::OK, &portal_page(&state, q.lang()))
}

async fn verify(
    State(state): State<Shared>,
    ClientAddr(from): ClientAddr,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let now = std::time::Instant::now();
    if let Some(wait) = state.portal_throttle.blocked(from, now) {
        let mut page = portal_page(&state, Lang::Id);
        let secs = wait.as_secs().max(1);
        page.error = Some((
            "Terlalu sering".into(),
            format!(
                "Alamat Anda sudah memeriksa banyak berkas dalam satu menit terakhir. Coba lagi dalam {secs} detik."
            ),
        ));
        let mut r = render(StatusCode::TOO_MANY_REQUESTS, &page);
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    state.portal_throttle.record(from, now);
    let max = state.sahih.config.web.portal_max_bytes();
    let (lang, upload) = read_upload(form, max).await;
    let mut page = portal_page(&state, lang);
    let upload = match upload {
        Ok(u) => u,
        Err(e) => {
            page.error = Some(e.message(lang, max));
            return render(e.status(), &page);
        }
    };
    let t = |id: &str, en: &str| match lang {
        Lang::Id => id.to_string(),
        Lang::En => en.to_string(),
    };
    let report = match state
        .sahih
        .verify_bytes(&upload.bytes, Vec::new(), OffsetDateTime::now_utc())
        .await
    {
        Ok(r) => r,
        Err(CoreError::Pdf(sahih_pdf::PdfError::NotPdf | sahih_pdf::PdfError::Empty)) => {
            page.error = Some((
                t("Berkas ini bukan PDF", "This file is not a PDF"),
                t(
                    "Portal ini memeriksa dokumen PDF yang ditandatangani secara elektronik. Pilih berkas PDF-nya.",
                    "This portal checks electronically signed PDF documents. Choose the PDF file.",
                ),
            ));
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
        Err(CoreError::Pdf(_)) => {
            page.error = Some((
                t("PDF rusak", "The PDF is damaged"),
                t(
                    "Berkas ini tidak dapat dibaca sebagai PDF yang utuh, sehingga tanda tangannya tidak dapat diperiksa. Mintalah berkas aslinya kepada pengirim.",
                    "This file cannot be read as a whole PDF, so its signatures cannot be checked. Ask the sender for the original file.",
                ),
            ));
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
        Err(_) => {
            page.error = Some((
                t("Layanan sedang bermasalah", "The service has a problem"),
                t(
                    "Verifikasi tidak dapat dijalankan saat ini. Coba lagi beberapa saat lagi.",
                    "Verification cannot run right now. Please try again shortly.",
                ),
            ));
            return render(StatusCode::INTERNAL_SERVER_ERROR, &page);
        }
    };
    let records = state
        .sahih
        .store
        .signed_documents_by_sha256(&report.file_sha256, RECORDS_SHOWN)
        .await
        .unwrap_or_default();
    let records = records
        .iter()
        .map(|r| RecordLink {
            when: sahih_core::format_wib(r.signed_at, lang),
            href: page.c.href(&format!("/v/{}", r.id)),
        })
        .collect();
    page.result = Some(outcome(&report, upload.file_name, records, lang));
    render(StatusCode::OK, &page)
}

fn vlang(lang: Lang) -> sahih_validate::render::Lang {
    match lang {
        Lang::Id => sahih_validate::render::Lang::Id,
        Lang::En => sahih_validate::render::Lang::En,
    }
}

fn wib(rfc3339: &str, lang: Lang) -> Option<String> {
    OffsetDateTime::parse(rfc3339, &Rfc3339)
        .ok()
        .map(|t| sahih_core::format_wib(t, lang))
}

fn verdict_words(i: Indication, lang: Lang) -> (&'static str, &'static str) {
    match (i, lang) {
        (Indication::TotalPassed, Lang::Id) => ("sah", "SAH"),
        (Indication::TotalPassed, Lang::En) => ("sah", "VALID"),
        (Indication::TotalFailed, Lang::Id) => ("tidak-sah", "TIDAK SAH"),
        (Indication::TotalFailed, Lang::En) => ("tidak-sah", "NOT VALID"),
        (Indication::Indeterminate, Lang::Id) => ("belum-pasti", "TIDAK DAPAT DIPASTIKAN"),
        (Indication::Indeterminate, Lang::En) => ("belum-pasti", "CANNOT BE CONFIRMED"),
    }
}

fn outcome(report: &Report, file_name: String, records: Vec<RecordLink>, lang: Lang) -> Outcome {
    let t = |id: &str, en: &str| match lang {
        Lang::Id => id.to_string(),
        Lang::En => en.to_string(),
    };
    let n = report.signatures.len();
    let (tone, heading, summary) = if n == 0 {
        (
            "tanpa-ttd",
            t("TIDAK ADA TANDA TANGAN", "NO SIGNATURE"),
            t(
                "Berkas PDF ini tidak memuat tanda tangan elektronik, jadi keasliannya tidak dapat dibuktikan dengan tanda tangan.",
                "This PDF carries no electronic signature, so no signature can prove it genuine.",
            ),
        )
    } else {
        let (tone, word) = verdict_words(report.indication, lang);
        let summary = match (report.indication, lang) {
            (Indication::TotalPassed, Lang::Id) => format!(
                "{} tanda tangan pada dokumen ini sah, dan dokumen tidak diubah sesudah ditandatangani.",
                if n == 1 { "Satu-satunya".to_string() } else { format!("Semua ({n})") }
            ),
            (Indication::TotalPassed, Lang::En) => format!(
                "{} on this document {} valid, and the document was not changed after signing.",
                if n == 1 { "The signature".to_string() } else { format!("All {n} signatures") },
                if n == 1 { "is" } else { "are" }
            ),
            (Indication::TotalFailed, Lang::Id) => {
                "Setidaknya satu tanda tangan tidak sah. Jangan mengandalkan dokumen ini; mintalah berkas aslinya kepada penerbitnya.".into()
            }
            (Indication::TotalFailed, Lang::En) => {
                "At least one signature is not valid. Do not rely on this document; ask its issuer for the original file.".into()
            }
            (Indication::Indeterminate, Lang::Id) => {
                "Tidak ditemukan kerusakan yang pasti, tetapi keabsahan belum dapat dipastikan (lihat alasan di bawah).".into()
            }
            (Indication::Indeterminate, Lang::En) => {
                "Nothing is certainly wrong, but validity cannot be confirmed (see the reasons below).".into()
            }
        };
        (tone, word.to_string(), summary)
    };
    Outcome {
        tone,
        heading,
        summary,
        file_name,
        size: human_size(report.file_size, lang),
        sha256: report.file_sha256.clone(),
        checked: wib(&report.validated_at, lang).unwrap_or_default(),
        signatures: report
            .signatures
            .iter()
            .map(|s| signature_view(s, lang))
            .collect(),
        show_no_record: n > 0,
        records,
        detail: render_text(report, vlang(lang)),
    }
}

/// Findings the check list already says in its own words.
const COVERED: &[FindingCode] = &[
    FindingCode::DigestMismatch,
    FindingCode::ModifiedAfterSigning,
    FindingCode::Untrusted,
    FindingCode::RevokedBeforeSigning,
    FindingCode::RevokedAfterSigningNoPoe,
    FindingCode::RevokedAfterProvenSigning,
];

fn signature_view(s: &SignatureReport, lang: Lang) -> SignatureView {
    let t = |id: &str, en: &str| match lang {
        Lang::Id => id.to_string(),
        Lang::En => en.to_string(),
    };
    let (tone, word) = verdict_words(s.indication, lang);
    let mut checks = Vec::new();
    let changed = !s.changes.is_empty() || s.modifications == "disallowed";
    if !s.integrity {
        // The validator stops here: trust, revocation and time were not examined, so the page
        // must not report them as findings.
        checks.push(Check::bad(t(
            "Isi dokumen telah diubah: tanda tangan tidak cocok lagi dengan isinya",
            "The content was changed: the signature no longer matches it",
        )));
        checks.push(Check::warn(t(
            "Sertifikat dan waktu penandatanganan tidak diperiksa lebih lanjut, karena isi yang ditandatangani sudah berubah",
            "The certificate and signing time were not examined further, because the signed content has changed",
        )));
        return signature_summary(s, lang, tone, word, checks);
    }
    if changed {
        let what: Vec<&str> = s
            .changes
            .iter()
            .map(|c| change_text(c.kind, vlang(lang)))
            .collect();
        let mut what = what;
        what.dedup();
        let list = if what.is_empty() {
            String::new()
        } else {
            format!(": {}", what.join("; "))
        };
        checks.push(Check::bad(format!(
            "{}{list}",
            t(
                "Dokumen diubah setelah ditandatangani",
                "The document was changed after signing"
            )
        )));
    } else if s.covers_whole_document {
        checks.push(Check::ok(t(
            "Dokumen tidak diubah sejak ditandatangani",
            "The document is unchanged since it was signed",
        )));
    } else {
        checks.push(Check::ok(t(
            "Dokumen tidak diubah sejak ditandatangani; sesudahnya hanya ditambah tanda tangan atau data validasi",
            "The document is unchanged since it was signed; only signatures or validation data were added later",
        )));
    }
    if s.trusted {
        checks.push(Check::ok(format!(
            "{}{}",
            t(
                "Sertifikat diterbitkan oleh otoritas yang dipercaya",
                "The certificate comes from a trusted authority"
            ),
            s.issuer
                .as_deref()
                .map(|i| format!(" ({})", issuer_name(i)))
                .unwrap_or_default()
        )));
    } else {
        checks.push(Check::bad(t(
            "Sertifikat tidak berasal dari otoritas yang dipercaya layanan ini",
            "The certificate does not come from an authority this service trusts",
        )));
    }
    let revoked_when = s
        .revoked_at
        .as_deref()
        .and_then(|r| wib(r, lang))
        .unwrap_or_default();
    if !s.revoked {
        checks.push(Check::ok(t(
            "Sertifikat tidak dicabut",
            "The certificate is not revoked",
        )));
    } else if s
        .warnings
        .iter()
        .any(|w| w.code == FindingCode::RevokedAfterProvenSigning)
    {
        checks.push(Check::warn(format!(
            "{} {revoked_when}{}",
            t("Sertifikat dicabut pada", "The certificate was revoked on"),
            t(
                ", sesudah penandatanganan yang terbukti dengan cap waktu; tanda tangan ini tetap sah",
                ", after the timestamp-proven signing; this signature stands"
            )
        )));
    } else {
        checks.push(Check::bad(format!(
            "{} {revoked_when}",
            t(
                "Sertifikat telah dicabut sejak",
                "The certificate has been revoked since"
            ),
        )));
    }
    match (&s.timestamp_time, &s.timestamp_authority) {
        (Some(ts), authority) => checks.push(Check::ok(format!(
            "{} {}{}",
            t(
                "Waktu penandatanganan dibuktikan cap waktu (timestamp):",
                "The signing time is proven by a timestamp:"
            ),
            wib(ts, lang).unwrap_or_else(|| ts.clone()),
            authority
                .as_deref()
                .map(|a| format!(" ({a})"))
                .unwrap_or_default()
        ))),
        (None, _) => checks.push(Check::warn(t(
            "Waktu penandatanganan hanya menurut perangkat penanda tangan (tanpa cap waktu)",
            "The signing time is only what the signer's device claimed (no timestamp)",
        ))),
    }
    for f in s.errors.iter().filter(|f| !COVERED.contains(&f.code)) {
        checks.push(Check::bad(finding_text(f.code, vlang(lang))));
    }
    for f in s.warnings.iter().filter(|f| !COVERED.contains(&f.code)) {
        checks.push(Check::warn(finding_text(f.code, vlang(lang))));
    }
    signature_summary(s, lang, tone, word, checks)
}

fn signature_summary(
    s: &SignatureReport,
    lang: Lang,
    tone: &'static str,
    word: &str,
    checks: Vec<Check>,
) -> SignatureView {
    let t = |id: &str, en: &str| match lang {
        Lang::Id => id.to_string(),
        Lang::En => en.to_string(),
    };
    let when = s
        .proven_at
        .as_deref()
        .or(s.signed_at.as_deref())
        .and_then(|w| wib(w, lang))
        .unwrap_or_else(|| t("tidak dicantumkan", "not given"));
    SignatureView {
        signer: s
            .signer_name
            .clone()
            .unwrap_or_else(|| t("(tanpa nama)", "(no name)")),
        tone,
        verdict: word.to_string(),
        position: s.signer_title.clone().unwrap_or_default(),
        unit: s.signer_unit.clone().unwrap_or_default(),
        organization: s.signer_organization.clone().unwrap_or_default(),
        when,
        level: s.level.unwrap_or_default().to_string(),
        checks,
    }
}

/// The CN of an issuer DN ("CN=..., O=..."), else the whole DN.
fn issuer_name(dn: &str) -> &str {
    dn.strip_prefix("CN=")
        .and_then(|rest| rest.split(", ").next())
        .unwrap_or(dn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_is_shown_by_its_common_name() {
        assert_eq!(
            issuer_name("CN=Pemerintah Kota Contoh Issuing CA 1, O=Pemerintah Kota Contoh, C=ID"),
            "Pemerintah Kota Contoh Issuing CA 1"
        );
        assert_eq!(issuer_name("O=Someone, C=ID"), "O=Someone, C=ID");
    }

    #[test]
    fn every_indication_has_words_in_both_languages() {
        for i in [
            Indication::TotalPassed,
            Indication::TotalFailed,
            Indication::Indeterminate,
        ] {
            let (tone_id, id) = verdict_words(i, Lang::Id);
            let (tone_en, en) = verdict_words(i, Lang::En);
            assert_eq!(tone_id, tone_en);
            assert_ne!(id, en);
        }
    }
}
