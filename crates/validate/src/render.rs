//! The human-readable report, in Bahasa Indonesia (default) or English.

use crate::modification::ChangeKind;
use crate::{Finding, FindingCode, Indication, Report, SignatureReport};
use std::fmt::Write;
use time::{OffsetDateTime, UtcOffset};

/// Language of the rendered report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Bahasa Indonesia (the default).
    Id,
    /// English.
    En,
}

impl std::str::FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "id" | "in" | "ind" | "indonesia" => Ok(Self::Id),
            "en" | "eng" | "english" => Ok(Self::En),
            _ => Err(format!("unknown language {s:?} (use id or en)")),
        }
    }
}

fn indication_text(i: Indication, lang: Lang) -> &'static str {
    match (i, lang) {
        (Indication::TotalPassed, Lang::Id) => "SAH (TOTAL_PASSED)",
        (Indication::TotalFailed, Lang::Id) => "TIDAK SAH (TOTAL_FAILED)",
        (Indication::Indeterminate, Lang::Id) => "BELUM DAPAT DIPASTIKAN (INDETERMINATE)",
        (Indication::TotalPassed, Lang::En) => "VALID (TOTAL_PASSED)",
        (Indication::TotalFailed, Lang::En) => "INVALID (TOTAL_FAILED)",
        (Indication::Indeterminate, Lang::En) => "INDETERMINATE",
    }
}

/// Message for a finding code.
pub fn finding_text(code: FindingCode, lang: Lang) -> &'static str {
    use FindingCode as F;
    match (code, lang) {
        (F::ByteRangeInvalid, Lang::Id) => "Struktur /ByteRange tidak sah atau dimanipulasi",
        (F::ByteRangeInvalid, Lang::En) => "The /ByteRange is malformed or manipulated",
        (F::ContentsMissing, Lang::Id) => "Data tanda tangan (/Contents) tidak ada",
        (F::ContentsMissing, Lang::En) => "The signature data (/Contents) is missing",
        (F::CmsUnparseable, Lang::Id) => "Data tanda tangan (CMS) tidak dapat dibaca",
        (F::CmsUnparseable, Lang::En) => "The signature data (CMS) cannot be read",
        (F::DigestAlgorithmUnsupported, Lang::Id) => "Algoritma hash tidak didukung",
        (F::DigestAlgorithmUnsupported, Lang::En) => "Unsupported digest algorithm",
        (F::DigestMismatch, Lang::Id) => "Isi dokumen telah diubah setelah ditandatangani",
        (F::DigestMismatch, Lang::En) => "The document was changed after it was signed",
        (F::MessageDigestMissing, Lang::Id) => "Atribut message-digest tidak ada",
        (F::MessageDigestMissing, Lang::En) => "The message-digest attribute is missing",
        (F::SignerCertificateMissing, Lang::Id) => "Sertifikat penanda tangan tidak ditemukan",
        (F::SignerCertificateMissing, Lang::En) => "The signer's certificate was not found",
        (F::ContentTypeInvalid, Lang::Id) => "Atribut content-type tidak sah",
        (F::ContentTypeInvalid, Lang::En) => "Invalid content-type attribute",
        (F::SignatureInvalid, Lang::Id) => "Nilai tanda tangan kriptografis tidak sah",
        (F::SignatureInvalid, Lang::En) => "The cryptographic signature value is invalid",
        (F::EssMismatch, Lang::Id) => {
            "Atribut signing-certificate tidak cocok dengan sertifikat penanda tangan"
        }
        (F::EssMismatch, Lang::En) => {
            "The signing-certificate attribute does not match the signer's certificate"
        }
        (F::EssMissing, Lang::Id) => "Atribut signing-certificate-v2 tidak ada (wajib untuk PAdES)",
        (F::EssMissing, Lang::En) => "No signing-certificate-v2 attribute (required by PAdES)",
        (F::SigningTimeAttribute, Lang::Id) => "Atribut signing-time tidak semestinya ada (PAdES)",
        (F::SigningTimeAttribute, Lang::En) => {
            "A signing-time attribute should not be present (PAdES)"
        }
        (F::NoSigningTime, Lang::Id) => "Waktu penandatanganan tidak dicantumkan",
        (F::NoSigningTime, Lang::En) => "No signing time given",
        (F::ModifiedAfterSigning, Lang::Id) => {
            "Dokumen diubah setelah ditandatangani (bukan sekadar penambahan tanda tangan)"
        }
        (F::ModifiedAfterSigning, Lang::En) => {
            "The document was modified after signing (not just further signatures)"
        }
        (F::CertificationNotFirst, Lang::Id) => {
            "Tanda tangan sertifikasi (DocMDP) bukan tanda tangan pertama dalam dokumen"
        }
        (F::CertificationNotFirst, Lang::En) => {
            "The certification (DocMDP) signature is not the first signature in the document"
        }
        (F::KeyUsage, Lang::Id) => "Sertifikat tidak boleh dipakai untuk tanda tangan (key usage)",
        (F::KeyUsage, Lang::En) => "The certificate may not be used for signatures (key usage)",
        (F::Untrusted, Lang::Id) => "Sertifikat tidak berasal dari otoritas yang dipercaya",
        (F::Untrusted, Lang::En) => "The certificate does not chain to a trusted authority",
        (F::ExpiredAtSigning, Lang::Id) => {
            "Sertifikat sudah kedaluwarsa pada waktu penandatanganan"
        }
        (F::ExpiredAtSigning, Lang::En) => "The certificate had expired at signing time",
        (F::NotYetValidAtSigning, Lang::Id) => {
            "Sertifikat belum berlaku pada waktu penandatanganan"
        }
        (F::NotYetValidAtSigning, Lang::En) => "The certificate was not yet valid at signing time",
        (F::ChainInvalid, Lang::Id) => "Rantai sertifikat tidak sah",
        (F::ChainInvalid, Lang::En) => "The certificate chain is invalid",
        (F::SignedAfterValidationTime, Lang::Id) => {
            "Tanda tangan dibuat setelah waktu validasi yang diminta; pada waktu itu dokumen belum ditandatangani"
        }
        (F::SignedAfterValidationTime, Lang::En) => {
            "The signature was made after the requested validation time; the document was not yet signed then"
        }
        (F::NoPoeAtValidationTime, Lang::Id) => {
            "Tidak ada bukti waktu (timestamp) bahwa tanda tangan sudah ada pada waktu validasi yang diminta"
        }
        (F::NoPoeAtValidationTime, Lang::En) => {
            "No timestamp proves the signature existed at the requested validation time"
        }
        (F::ExpiredNowNoPoe, Lang::Id) => {
            "Sertifikat kini kedaluwarsa dan tidak ada bukti waktu (timestamp) penandatanganan"
        }
        (F::ExpiredNowNoPoe, Lang::En) => {
            "The certificate has expired and no timestamp proves when the document was signed"
        }
        (F::RevokedBeforeSigning, Lang::Id) => "Sertifikat sudah dicabut sebelum penandatanganan",
        (F::RevokedBeforeSigning, Lang::En) => "The certificate was revoked before signing",
        (F::RevokedAfterSigningNoPoe, Lang::Id) => {
            "Sertifikat telah dicabut; tidak ada bukti waktu (timestamp) bahwa penandatanganan terjadi sebelumnya"
        }
        (F::RevokedAfterSigningNoPoe, Lang::En) => {
            "The certificate was revoked; no timestamp proves the signature was made before that"
        }
        (F::TimestampInvalid, Lang::Id) => {
            "Cap waktu (timestamp) tanda tangan tidak cocok dengan tanda tangannya"
        }
        (F::TimestampInvalid, Lang::En) => "The signature timestamp does not match the signature",
        (F::TimestampUntrusted, Lang::Id) => {
            "Cap waktu (timestamp) berasal dari otoritas yang tidak dipercaya"
        }
        (F::TimestampUntrusted, Lang::En) => "The timestamp comes from an untrusted authority",
        (F::RevokedAfterProvenSigning, Lang::Id) => {
            "Sertifikat dicabut setelah penandatanganan yang terbukti dengan cap waktu; tanda tangan tetap sah"
        }
        (F::RevokedAfterProvenSigning, Lang::En) => {
            "The certificate was revoked after a timestamp-proven signing; the signature stands"
        }
    }
}

/// A change found after a signature, in plain words.
pub fn change_text(kind: ChangeKind, lang: Lang) -> &'static str {
    use ChangeKind as K;
    match (kind, lang) {
        (K::UnsignedData, Lang::Id) => "Ada data tak bertanda tangan di akhir berkas",
        (K::UnsignedData, Lang::En) => "Unsigned data at the end of the file",
        (K::XrefInconsistent, Lang::Id) => {
            "Tabel rujukan objek (xref) rusak atau menunjuk objek lain, sehingga aplikasi pembaca bisa menampilkan isi berbeda"
        }
        (K::XrefInconsistent, Lang::En) => {
            "The cross-reference data is damaged or points at other objects, so readers may show different content"
        }
        (K::HiddenRevision, Lang::Id) => {
            "Ada revisi tersembunyi yang tidak terhubung ke rantai revisi"
        }
        (K::HiddenRevision, Lang::En) => "A hidden revision outside the chain of revisions",
        (K::PagesChanged, Lang::Id) => "Halaman ditambah, dihapus atau diubah urutannya",
        (K::PagesChanged, Lang::En) => "Pages were added, removed or reordered",
        (K::ContentChanged, Lang::Id) => "Isi halaman, huruf atau sumber daya tampilan diubah",
        (K::ContentChanged, Lang::En) => "Page content, fonts or resources were changed",
        (K::ObjectAdded, Lang::Id) => "Objek baru muncul di tempat yang kosong saat ditandatangani",
        (K::ObjectAdded, Lang::En) => "An object appeared where there was none when signed",
        (K::ObjectRemoved, Lang::Id) => "Objek yang ada saat ditandatangani dihapus",
        (K::ObjectRemoved, Lang::En) => "An object present when signed was removed",
        (K::ImageReplaced, Lang::Id) => "Gambar diganti",
        (K::ImageReplaced, Lang::En) => "An image was replaced",
        (K::CatalogChanged, Lang::Id) => "Katalog dokumen diubah",
        (K::CatalogChanged, Lang::En) => "The document catalog was changed",
        (K::ActionAdded, Lang::Id) => "Aksi atau skrip (JavaScript, OpenAction) ditambahkan",
        (K::ActionAdded, Lang::En) => "An action or script (JavaScript, OpenAction) was added",
        (K::FormChanged, Lang::Id) => "Formulir atau isian formulir diubah",
        (K::FormChanged, Lang::En) => "The form or a form field was changed",
        (K::FormFilled, Lang::Id) => "Isian formulir diisi atau diubah setelah ditandatangani",
        (K::FormFilled, Lang::En) => "A form field was filled in or changed after signing",
        (K::AnnotationAdded, Lang::Id) => {
            "Anotasi atau widget ditambahkan yang dapat menutupi isi dokumen"
        }
        (K::AnnotationAdded, Lang::En) => {
            "An annotation or widget that can cover content was added"
        }
        (K::UnsignedSignatureField, Lang::Id) => {
            "Kolom tanda tangan tanpa tanda tangan, tetapi dengan tampilan, ditambahkan"
        }
        (K::UnsignedSignatureField, Lang::En) => {
            "A signature field without a signature but with an appearance was added"
        }
        (K::FakeSignature, Lang::Id) => {
            "Ada kolom yang menyamar sebagai tanda tangan yang tidak pernah dibuat atau tidak sah"
        }
        (K::FakeSignature, Lang::En) => {
            "A field poses as a signature that was never made or does not verify"
        }
        (K::DocMdpViolation, Lang::Id) => {
            "Perubahan yang tidak diizinkan oleh tanda tangan sertifikasi (DocMDP)"
        }
        (K::DocMdpViolation, Lang::En) => {
            "A change the certification signature (DocMDP) does not permit"
        }
        (K::TooComplex, Lang::Id) => "Struktur dokumen terlalu besar untuk diperiksa",
        (K::TooComplex, Lang::En) => "The document structure is too large to check",
    }
}

fn yes_no(b: bool, lang: Lang) -> &'static str {
    match (b, lang) {
        (true, Lang::Id) => "ya",
        (false, Lang::Id) => "tidak",
        (true, Lang::En) => "yes",
        (false, Lang::En) => "no",
    }
}

/// Formats an RFC 3339 UTC time for people: WIB (UTC+7).
pub fn wib(rfc3339: &str) -> String {
    let Ok(t) = OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
    else {
        return rfc3339.to_string();
    };
    let Ok(offset) = UtcOffset::from_hms(7, 0, 0) else {
        return rfc3339.to_string();
    };
    let t = t.to_offset(offset);
    format!(
        "{:02}-{:02}-{:04} {:02}:{:02}:{:02} WIB",
        t.day(),
        u8::from(t.month()),
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn findings(out: &mut String, label: &str, list: &[Finding], lang: Lang) {
    for f in list {
        let _ = write!(out, "    {label}: {}", finding_text(f.code, lang));
        if !f.detail.is_empty() {
            let _ = write!(out, " ({})", f.detail);
        }
        out.push('\n');
    }
}

fn signature(out: &mut String, i: usize, s: &SignatureReport, lang: Lang) {
    let l = |id: &'static str, en: &'static str| if lang == Lang::Id { id } else { en };
    let _ = writeln!(
        out,
        "{} {} ({})",
        l("Tanda tangan", "Signature"),
        i + 1,
        s.field
    );
    let _ = writeln!(
        out,
        "  {}: {}",
        l("Status", "Status"),
        indication_text(s.indication, lang)
    );
    if let Some(sub) = s.sub_indication {
        let _ = writeln!(
            out,
            "  {}: {}",
            l("Sub-indikasi", "Sub-indication"),
            sub.code()
        );
    }
    let _ = writeln!(
        out,
        "  {}: {}",
        l("Penanda tangan", "Signer"),
        s.signer_name.as_deref().unwrap_or("-")
    );
    if let Some(subject) = &s.signer_subject {
        let _ = writeln!(
            out,
            "  {}: {subject}",
            l("Subjek sertifikat", "Certificate subject")
        );
    }
    if let Some(issuer) = &s.issuer {
        let _ = writeln!(out, "  {}: {issuer}", l("Penerbit", "Issuer"));
    }
    if let Some(t) = &s.signed_at {
        let _ = writeln!(
            out,
            "  {}: {} ({t})",
            l("Waktu tanda tangan (diklaim)", "Signing time (claimed)"),
            wib(t)
        );
    }
    if let Some(level) = s.level {
        let _ = writeln!(out, "  {}: PAdES {level}", l("Tingkat", "Level"));
    }
    if let Some(t) = &s.timestamp_time {
        let _ = writeln!(
            out,
            "  {}: {} ({})",
            l("Cap waktu (timestamp)", "Timestamp"),
            wib(t),
            s.timestamp_authority.as_deref().unwrap_or("?")
        );
    }
    if let Some(t) = &s.proven_at {
        let _ = writeln!(
            out,
            "  {}: {}",
            l("Terbukti ada sejak", "Proven to exist since"),
            wib(t)
        );
    }
    let _ = writeln!(
        out,
        "  {}: {}",
        l(
            "Data validasi jangka panjang (LTV)",
            "Long-term validation data (LTV)"
        ),
        yes_no(s.ltv, lang)
    );
    let _ = writeln!(
        out,
        "  {}: {}",
        l("Keutuhan dokumen", "Integrity"),
        yes_no(s.integrity, lang)
    );
    let _ = writeln!(
        out,
        "  {}: {}",
        l("Dipercaya", "Trusted"),
        yes_no(s.trusted, lang)
    );
    let _ = writeln!(
        out,
        "  {}: {}{}",
        l("Dicabut", "Revoked"),
        yes_no(s.revoked, lang),
        s.revoked_at
            .as_deref()
            .map(|t| format!(" ({})", wib(t)))
            .unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "  {}: {}",
        l("Mencakup seluruh dokumen", "Covers the whole document"),
        yes_no(s.covers_whole_document, lang)
    );
    if !s.covers_whole_document && s.integrity {
        let what = match (s.modifications, lang) {
            ("signatures_only", Lang::Id) => {
                "hanya penambahan tanda tangan atau data validasi (diperbolehkan)"
            }
            ("signatures_only", Lang::En) => "only further signatures or validation data (allowed)",
            ("disallowed", Lang::Id) => "perubahan isi (tidak diperbolehkan)",
            ("disallowed", Lang::En) => "content changes (not allowed)",
            _ => "-",
        };
        let _ = writeln!(
            out,
            "  {}: {what}",
            l("Perubahan sesudahnya", "Later changes")
        );
    }
    if let Some(reason) = &s.reason {
        let _ = writeln!(out, "  {}: {reason}", l("Alasan", "Reason"));
    }
    if let Some(location) = &s.location {
        let _ = writeln!(out, "  {}: {location}", l("Lokasi", "Location"));
    }
    findings(out, l("Masalah", "Problem"), &s.errors, lang);
    for c in &s.changes {
        let _ = write!(
            out,
            "    {}: {}",
            l("Perubahan", "Change"),
            change_text(c.kind, lang)
        );
        if !c.path.is_empty() {
            let _ = write!(out, " ({})", c.path);
        }
        out.push('\n');
    }
    findings(out, l("Peringatan", "Warning"), &s.warnings, lang);
}

/// Renders the report as text.
pub fn render_text(report: &Report, lang: Lang) -> String {
    let l = |id: &'static str, en: &'static str| if lang == Lang::Id { id } else { en };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        l(
            "Laporan verifikasi tanda tangan elektronik",
            "Electronic signature verification report"
        )
    );
    let _ = writeln!(out, "  SHA-256: {}", report.file_sha256);
    let _ = writeln!(
        out,
        "  {}: {} ({} {})",
        l("Ukuran", "Size"),
        report.file_size,
        report.pages,
        l("halaman", "pages")
    );
    let _ = writeln!(
        out,
        "  {}: {}",
        l("Diverifikasi pada", "Validated at"),
        wib(&report.validated_at)
    );
    let _ = writeln!(
        out,
        "  {}: {}",
        l("Jumlah tanda tangan", "Signatures"),
        report.signatures.len()
    );
    out.push('\n');
    if report.signatures.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            l(
                "Dokumen ini tidak memiliki tanda tangan elektronik.",
                "This document has no electronic signatures."
            )
        );
    }
    for (i, s) in report.signatures.iter().enumerate() {
        signature(&mut out, i, s, lang);
        out.push('\n');
    }
    for d in &report.document_timestamps {
        let _ = writeln!(
            out,
            "{} ({}): {} - {}, {}: {}, {}: {}",
            l("Cap waktu dokumen", "Document timestamp"),
            d.field,
            d.time.as_deref().map(wib).unwrap_or_else(|| "-".into()),
            d.authority.as_deref().unwrap_or("?"),
            l("utuh", "intact"),
            yes_no(d.intact, lang),
            l("dipercaya", "trusted"),
            yes_no(d.trusted, lang)
        );
    }
    if !report.signatures.is_empty() {
        let _ = writeln!(
            out,
            "{}: {}",
            l("LTV aktif (dapat divalidasi jangka panjang)", "LTV enabled"),
            yes_no(report.ltv_enabled, lang)
        );
    }
    let _ = writeln!(
        out,
        "{}: {}",
        l("KESIMPULAN", "CONCLUSION"),
        indication_text(report.indication, lang)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_finding_code_has_a_stable_unique_name_and_text_in_both_languages() {
        let mut names = std::collections::HashSet::new();
        for &code in FindingCode::ALL {
            assert!(names.insert(code.as_str()), "duplicate name {code}");
            let (id, en) = (finding_text(code, Lang::Id), finding_text(code, Lang::En));
            assert!(!id.is_empty() && !en.is_empty() && id != en, "{code}");
        }
        let json = serde_json::to_string(&FindingCode::NoPoeAtValidationTime).unwrap();
        assert_eq!(json, "\"no_poe_at_validation_time\"");
    }
}
