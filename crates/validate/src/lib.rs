//! sahih-validate: the validation process for PDF signatures and its report.
//!
//! Owns: checking every signature in a PDF (ByteRange sanity, digest, CMS signature, ESS
//! signing-certificate binding, certificate path to trust anchors, validity, key usage,
//! revocation, changes in later revisions) and the resulting ETSI EN 319 102-1 style report
//! (TOTAL_PASSED / TOTAL_FAILED / INDETERMINATE with a sub-indication), rendered in Bahasa
//! Indonesia or English.
//!
//! Must not know: where trust anchors or revocation data are stored (it gets them through
//! [`sahih_pki::TrustStore`] and [`RevocationSource`]), officials, or HTTP.

pub mod modification;
pub mod render;

use modification::Modifications;
use sahih_pdf::{OpenOptions, PdfDocument, PdfError, SignatureField};
use sahih_pki::{Certificate, EssBinding, PathOutcome, PathValidator};
use serde::Serialize;
use time::OffsetDateTime;

/// ETSI EN 319 102-1 main indication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Indication {
    TotalPassed,
    TotalFailed,
    Indeterminate,
}

/// ETSI EN 319 102-1 sub-indications used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubIndication {
    FormatFailure,
    HashFailure,
    SigCryptoFailure,
    Revoked,
    RevokedNoPoe,
    NoCertificateChainFound,
    NoSigningCertificateFound,
    OutOfBoundsNoPoe,
    NotYetValid,
    ChainConstraintsFailure,
    SigConstraintsFailure,
}

impl SubIndication {
    pub fn code(self) -> &'static str {
        match self {
            Self::FormatFailure => "FORMAT_FAILURE",
            Self::HashFailure => "HASH_FAILURE",
            Self::SigCryptoFailure => "SIG_CRYPTO_FAILURE",
            Self::Revoked => "REVOKED",
            Self::RevokedNoPoe => "REVOKED_NO_POE",
            Self::NoCertificateChainFound => "NO_CERTIFICATE_CHAIN_FOUND",
            Self::NoSigningCertificateFound => "NO_SIGNING_CERTIFICATE_FOUND",
            Self::OutOfBoundsNoPoe => "OUT_OF_BOUNDS_NO_POE",
            Self::NotYetValid => "NOT_YET_VALID",
            Self::ChainConstraintsFailure => "CHAIN_CONSTRAINTS_FAILURE",
            Self::SigConstraintsFailure => "SIG_CONSTRAINTS_FAILURE",
        }
    }
}

/// Revocation status of a certificate as known to some source (the local CA database, later
/// embedded OCSP/CRL data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationStatus {
    Good,
    Revoked {
        at: OffsetDateTime,
        reason: Option<String>,
    },
    Unknown,
}

pub trait RevocationSource {
    fn status(&self, cert: &Certificate) -> RevocationStatus;
}

/// A source that knows nothing (foreign signatures, tests).
pub struct NoRevocationData;
impl RevocationSource for NoRevocationData {
    fn status(&self, _cert: &Certificate) -> RevocationStatus {
        RevocationStatus::Unknown
    }
}

/// A finding explains an indication or warns; `code` is stable, the text is rendered later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: &'static str,
    /// Extra detail (English, technical), may be empty.
    pub detail: String,
}

fn finding(code: &'static str, detail: impl Into<String>) -> Finding {
    Finding {
        code,
        detail: detail.into(),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SignatureReport {
    pub field: String,
    pub signer_name: Option<String>,
    pub signer_subject: Option<String>,
    pub signer_serial: Option<String>,
    pub issuer: Option<String>,
    /// Claimed signing time (/M), RFC 3339 UTC.
    pub signed_at: Option<String>,
    pub indication: Indication,
    pub sub_indication: Option<SubIndication>,
    /// Byte ranges intact, digest matches and the CMS signature verifies.
    pub integrity: bool,
    /// The signer's certificate chains to a trust anchor.
    pub trusted: bool,
    pub revoked: bool,
    pub revoked_at: Option<String>,
    pub covers_whole_document: bool,
    /// Later revisions: "none", "signatures_only" or "disallowed".
    pub modifications: &'static str,
    pub sub_filter: Option<String>,
    /// PAdES level reached (B-B for now).
    pub level: Option<&'static str>,
    pub signature_algorithm: Option<String>,
    pub byte_range: Vec<i64>,
    pub reason: Option<String>,
    pub location: Option<String>,
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub indication: Indication,
    pub file_sha256: String,
    pub file_size: u64,
    pub pages: usize,
    pub signatures: Vec<SignatureReport>,
    /// Validation time, RFC 3339 UTC.
    pub validated_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error(transparent)]
    Pdf(#[from] PdfError),
}

/// What to validate against.
pub struct Context<'a> {
    pub validator: &'a dyn PathValidator,
    pub revocation: &'a dyn RevocationSource,
    /// Validation time (normally now).
    pub at: OffsetDateTime,
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Validates every signature in `bytes`.
pub fn validate_pdf(bytes: &[u8], ctx: &Context<'_>) -> Result<Report, ValidateError> {
    let pdf = PdfDocument::open(bytes, &OpenOptions::default())?;
    let fields = pdf.signature_fields();
    let mut signatures = Vec::with_capacity(fields.len());
    for field in &fields {
        signatures.push(validate_field(bytes, &pdf, field, ctx));
    }
    let indication = if signatures.is_empty() {
        Indication::Indeterminate
    } else if signatures
        .iter()
        .any(|s| s.indication == Indication::TotalFailed)
    {
        Indication::TotalFailed
    } else if signatures
        .iter()
        .all(|s| s.indication == Indication::TotalPassed)
    {
        Indication::TotalPassed
    } else {
        Indication::Indeterminate
    };
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    Ok(Report {
        indication,
        file_sha256: hex::encode(digest.as_ref()),
        file_size: bytes.len() as u64,
        pages: pdf.page_count(),
        signatures,
        validated_at: rfc3339(ctx.at),
    })
}

/// Checks that /ByteRange is [0 a b c] with the gap exactly the /Contents hex string and the
/// end at the end of a revision. Returns the signed end offset.
fn check_byte_range(bytes: &[u8], field: &SignatureField) -> Result<usize, Finding> {
    let br = &field.byte_range;
    let bad = |d: &str| finding("byte_range_invalid", d);
    if br.len() != 4 {
        return Err(bad("/ByteRange must have exactly four integers"));
    }
    let as_usize = |v: i64| usize::try_from(v).map_err(|_| bad("negative /ByteRange value"));
    let (a, b, c, d) = (
        as_usize(br[0])?,
        as_usize(br[1])?,
        as_usize(br[2])?,
        as_usize(br[3])?,
    );
    if a != 0 {
        return Err(bad("/ByteRange does not start at 0"));
    }
    let end = c
        .checked_add(d)
        .ok_or_else(|| bad("/ByteRange overflows"))?;
    if b >= c || end > bytes.len() {
        return Err(bad("/ByteRange ranges overlap or extend beyond the file"));
    }
    let gap = bytes.get(b..c).unwrap_or_default();
    if gap.len() < 2 || gap.first() != Some(&b'<') || gap.last() != Some(&b'>') {
        return Err(bad("the gap in /ByteRange is not a hex string"));
    }
    let inner = gap.get(1..gap.len() - 1).unwrap_or_default();
    if !inner.iter().all(u8::is_ascii_hexdigit) || inner.len() % 2 != 0 {
        return Err(bad(
            "the gap in /ByteRange is not exactly the /Contents string",
        ));
    }
    // The gap must be the value of this signature's /Contents key.
    let before = bytes.get(..b).unwrap_or_default();
    let trimmed = before
        .iter()
        .rposition(|x| !x.is_ascii_whitespace())
        .map_or(&[][..], |p| before.get(..=p).unwrap_or_default());
    if !trimmed.ends_with(b"/Contents") {
        return Err(bad("the gap in /ByteRange is not the /Contents entry"));
    }
    let decoded: Option<Vec<u8>> = inner
        .chunks_exact(2)
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
        })
        .collect();
    if decoded.as_deref() != field.contents.as_deref() {
        return Err(bad(
            "the gap in /ByteRange differs from this signature's /Contents",
        ));
    }
    if !sahih_pdf::is_revision_end(bytes, end as u64) {
        return Err(bad(
            "the signed range does not end at the end of a revision",
        ));
    }
    Ok(end)
}

fn validate_field(
    bytes: &[u8],
    pdf: &PdfDocument,
    field: &SignatureField,
    ctx: &Context<'_>,
) -> SignatureReport {
    let claimed = field
        .signing_time
        .as_deref()
        .and_then(sahih_pades::date::parse_pdf_date);
    let mut r = SignatureReport {
        field: field.name.clone(),
        signer_name: field.signer_name.clone(),
        signer_subject: None,
        signer_serial: None,
        issuer: None,
        signed_at: claimed.map(rfc3339),
        indication: Indication::Indeterminate,
        sub_indication: None,
        integrity: false,
        trusted: false,
        revoked: false,
        revoked_at: None,
        covers_whole_document: false,
        modifications: "none",
        sub_filter: field.sub_filter.clone(),
        level: None,
        signature_algorithm: None,
        byte_range: field.byte_range.clone(),
        reason: field.reason.clone(),
        location: field.location.clone(),
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let fail = |r: &mut SignatureReport, sub: SubIndication, f: Finding| {
        r.indication = Indication::TotalFailed;
        r.sub_indication = Some(sub);
        r.errors.push(f);
    };
    let indeterminate = |r: &mut SignatureReport, sub: SubIndication, f: Finding| {
        if r.indication != Indication::TotalFailed {
            r.indication = Indication::Indeterminate;
            if r.sub_indication.is_none() {
                r.sub_indication = Some(sub);
            }
        }
        r.errors.push(f);
    };

    if field.kind.as_deref() == Some("DocTimeStamp")
        || field.sub_filter.as_deref() == Some("ETSI.RFC3161")
    {
        indeterminate(
            &mut r,
            SubIndication::FormatFailure,
            finding(
                "doc_timestamp_unsupported",
                "document timestamps are not validated yet",
            ),
        );
        return r;
    }
    let signed_end = match check_byte_range(bytes, field) {
        Ok(end) => end,
        Err(f) => {
            fail(&mut r, SubIndication::FormatFailure, f);
            return r;
        }
    };
    r.covers_whole_document = signed_end == bytes.len();
    let Some(contents) = field.contents.as_deref() else {
        fail(
            &mut r,
            SubIndication::FormatFailure,
            finding("contents_missing", "no /Contents"),
        );
        return r;
    };
    let cms = match sahih_pki::parse_cms(contents) {
        Ok(c) => c,
        Err(e) => {
            fail(
                &mut r,
                SubIndication::FormatFailure,
                finding("cms_unparseable", e.to_string()),
            );
            return r;
        }
    };
    r.signature_algorithm = Some(cms.signature_algorithm.clone());
    if let Some(cert) = &cms.signer_cert {
        r.signer_subject = Some(cert.subject_display());
        r.signer_serial = Some(cert.serial_hex());
        r.issuer = Some(cert.issuer_display());
        if let Some(cn) = cert.subject_common_name() {
            r.signer_name = Some(cn);
        }
    }

    // Integrity: digest of the byte ranges, then the signature itself.
    let (Some(part1), Some(part2)) = (
        bytes.get(..field.byte_range[1] as usize),
        bytes.get(field.byte_range[2] as usize..signed_end),
    ) else {
        fail(
            &mut r,
            SubIndication::FormatFailure,
            finding("byte_range_invalid", "ranges outside the file"),
        );
        return r;
    };
    let digest = match sahih_pki::digest_parts(&cms.digest_algorithm, &[part1, part2]) {
        Ok(d) => d,
        Err(e) => {
            fail(
                &mut r,
                SubIndication::FormatFailure,
                finding("digest_algorithm_unsupported", e.to_string()),
            );
            return r;
        }
    };
    match &cms.message_digest {
        Some(md) if *md == digest => {}
        Some(_) => {
            fail(
                &mut r,
                SubIndication::HashFailure,
                finding("digest_mismatch", "the signed bytes were changed"),
            );
            return r;
        }
        None if !cms.has_signed_attrs => {} // digest checked through the signature itself
        None => {
            fail(
                &mut r,
                SubIndication::FormatFailure,
                finding("message_digest_missing", ""),
            );
            return r;
        }
    }
    let Some(signer) = cms.signer_cert.clone() else {
        indeterminate(
            &mut r,
            SubIndication::NoSigningCertificateFound,
            finding("signer_certificate_missing", ""),
        );
        return r;
    };
    if !cms.content_type_ok {
        fail(
            &mut r,
            SubIndication::FormatFailure,
            finding("content_type_invalid", ""),
        );
        return r;
    }
    if !cms.signature_valid {
        fail(
            &mut r,
            SubIndication::SigCryptoFailure,
            finding("signature_invalid", "the CMS signature does not verify"),
        );
        return r;
    }
    r.integrity = true;

    let pades = field.sub_filter.as_deref() == Some("ETSI.CAdES.detached");
    match cms.ess {
        EssBinding::V2Match | EssBinding::V1Match => {}
        EssBinding::Mismatch => indeterminate(
            &mut r,
            SubIndication::NoSigningCertificateFound,
            finding(
                "ess_mismatch",
                "signing-certificate attribute names another certificate",
            ),
        ),
        EssBinding::Absent if pades => r.warnings.push(finding(
            "ess_missing",
            "PAdES requires the signing-certificate-v2 attribute",
        )),
        EssBinding::Absent => {}
    }
    if pades && cms.has_signing_time_attr {
        r.warnings.push(finding(
            "signing_time_attribute",
            "PAdES puts the signing time in /M, not in a signed attribute",
        ));
    }
    if pades && cms.ess != EssBinding::Mismatch {
        r.level = Some("B-B");
    }
    if claimed.is_none() {
        r.warnings.push(finding("no_signing_time", "no /M entry"));
    }

    // Later revisions.
    let modifications = modification::analyse(bytes, signed_end, pdf);
    match &modifications {
        Modifications::None => r.modifications = "none",
        Modifications::SignaturesOnly => r.modifications = "signatures_only",
        Modifications::Disallowed(d) => {
            r.modifications = "disallowed";
            fail(
                &mut r,
                SubIndication::FormatFailure,
                finding("modified_after_signing", d.clone()),
            );
        }
    }

    // Key usage: a signing certificate must allow digital signatures or non-repudiation.
    if let Some(ku) = signer.key_usage()
        && !(ku.digital_signature || ku.non_repudiation)
    {
        indeterminate(
            &mut r,
            SubIndication::SigConstraintsFailure,
            finding(
                "key_usage",
                "the certificate may not be used for signatures",
            ),
        );
    }

    // Certificate path: at the claimed signing time, and (no proof of existence yet: B-B) now.
    let signing_time = claimed.unwrap_or(ctx.at);
    let intermediates: Vec<Certificate> = cms
        .certificates
        .iter()
        .filter(|c| c.der != signer.der)
        .cloned()
        .collect();
    let path_at = |t: OffsetDateTime| ctx.validator.validate(&signer, &intermediates, t);
    let outcome = path_at(signing_time);
    let mut chain: Vec<Certificate> = Vec::new();
    match &outcome {
        PathOutcome::Valid { chain: c } => {
            r.trusted = true;
            chain = c.clone();
        }
        PathOutcome::NoChainToTrustAnchor { .. } => indeterminate(
            &mut r,
            SubIndication::NoCertificateChainFound,
            finding("untrusted", "no chain to a trusted root"),
        ),
        PathOutcome::Expired { cert_subject, .. } => {
            r.trusted = true;
            indeterminate(
                &mut r,
                SubIndication::OutOfBoundsNoPoe,
                finding("expired_at_signing", cert_subject.clone()),
            )
        }
        PathOutcome::NotYetValid { cert_subject, .. } => {
            r.trusted = true;
            indeterminate(
                &mut r,
                SubIndication::NotYetValid,
                finding("not_yet_valid_at_signing", cert_subject.clone()),
            )
        }
        PathOutcome::BadSignature { cert_subject } | PathOutcome::NotACa { cert_subject } => {
            indeterminate(
                &mut r,
                SubIndication::ChainConstraintsFailure,
                finding("chain_invalid", cert_subject.clone()),
            )
        }
    }
    if matches!(outcome, PathOutcome::Valid { .. }) && signing_time != ctx.at {
        // Without a timestamp nothing proves the signature existed before expiry.
        if let PathOutcome::Expired { cert_subject, .. } = path_at(ctx.at) {
            indeterminate(
                &mut r,
                SubIndication::OutOfBoundsNoPoe,
                finding("expired_now_no_poe", cert_subject),
            );
        }
    }

    // Revocation (signer and intermediate CAs).
    let mut to_check = vec![signer.clone()];
    to_check.extend(
        chain
            .iter()
            .skip(1)
            .filter(|c| !c.is_self_issued())
            .cloned(),
    );
    for cert in &to_check {
        if let RevocationStatus::Revoked { at, reason } = ctx.revocation.status(cert) {
            r.revoked = true;
            r.revoked_at = Some(rfc3339(at));
            let detail = reason.unwrap_or_default();
            if at <= signing_time {
                fail(
                    &mut r,
                    SubIndication::Revoked,
                    finding("revoked_before_signing", detail),
                );
            } else {
                indeterminate(
                    &mut r,
                    SubIndication::RevokedNoPoe,
                    finding("revoked_after_signing_no_poe", detail),
                );
            }
        }
    }

    if r.errors.is_empty() {
        r.indication = Indication::TotalPassed;
        r.sub_indication = None;
    }
    r
}
