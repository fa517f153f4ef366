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

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ltv;
pub mod modification;
pub mod render;

use modification::{Change, ChangeKind, Modifications, SignatureRole};
use sahih_pdf::lopdf::ObjectId;
use sahih_pdf::{OpenOptions, PdfDocument, PdfError, SignatureField};
use sahih_pki::{Certificate, EssBinding, PathOutcome, PathValidator};
use serde::Serialize;
use time::OffsetDateTime;

/// ETSI EN 319 102-1 main indication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Indication {
    /// Every check passed: the signature is valid.
    TotalPassed,
    /// A check failed for certain: the signature is invalid.
    TotalFailed,
    /// Nothing failed for certain, but validity cannot be established (e.g. no trusted chain).
    Indeterminate,
}

/// ETSI EN 319 102-1 sub-indications used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubIndication {
    /// The signature or file structure is unusable: /ByteRange, /Contents, the CMS, later changes.
    FormatFailure,
    /// The digest of the signed bytes differs from the signed messageDigest.
    HashFailure,
    /// The signature value, or the signature timestamp, does not verify.
    SigCryptoFailure,
    /// A certificate of the signer's chain was revoked before the signing time.
    Revoked,
    /// A certificate of the chain is revoked, and nothing proves the signature is older.
    RevokedNoPoe,
    /// No chain from the signer's certificate to a trust anchor.
    NoCertificateChainFound,
    /// The signer's certificate is missing, or the signing-certificate attribute names another.
    NoSigningCertificateFound,
    /// A certificate of the chain had expired at the signing time, or has expired since and no
    /// timestamp proves the signature is older.
    OutOfBoundsNoPoe,
    /// A certificate of the chain was not yet valid at the signing time.
    NotYetValid,
    /// The chain is broken: a certificate's signature does not verify or its issuer is no CA.
    ChainConstraintsFailure,
    /// The signer's certificate may not sign (keyUsage has neither digitalSignature nor
    /// nonRepudiation).
    SigConstraintsFailure,
    /// Nothing proves the signature existed at the validation time (it was made later).
    NoPoe,
}

impl SubIndication {
    /// The ETSI name, e.g. "HASH_FAILURE" (also the serialised form).
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
            Self::NoPoe => "NO_POE",
        }
    }
}

/// Revocation status of a certificate as known to some source (the local CA database, later
/// embedded OCSP/CRL data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationStatus {
    /// Known and not revoked.
    Good,
    /// The certificate was revoked.
    Revoked {
        /// Revocation time.
        at: OffsetDateTime,
        /// CRLReason name, e.g. "keyCompromise", when the source gives one.
        reason: Option<String>,
    },
    /// The source has no data for this certificate.
    Unknown,
}

/// Where revocation statuses come from (e.g. the CA database), so validation need not know
/// how they are stored.
pub trait RevocationSource {
    /// Status of `cert`; `issuer` is its issuer in the validated chain, when known.
    fn status(&self, cert: &Certificate, issuer: Option<&Certificate>) -> RevocationStatus;
}

/// A source that knows nothing (foreign signatures, tests).
pub struct NoRevocationData;
impl RevocationSource for NoRevocationData {
    fn status(&self, _cert: &Certificate, _issuer: Option<&Certificate>) -> RevocationStatus {
        RevocationStatus::Unknown
    }
}

/// What a finding is about. The snake_case name is stable: reports, the JSON output and the
/// server's answers carry it, and clients match on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingCode {
    /// /ByteRange is malformed, its gap is not this signature's /Contents, or it does not end at
    /// the end of a revision.
    ByteRangeInvalid,
    /// A certification (DocMDP) signature is not the first signature.
    CertificationNotFirst,
    /// A certificate of the chain has a bad signature or an issuer that is not a CA.
    ChainInvalid,
    /// /Contents cannot be parsed as CMS SignedData.
    CmsUnparseable,
    /// The signed content-type attribute differs from the encapsulated content type.
    ContentTypeInvalid,
    /// The signature dictionary has no /Contents.
    ContentsMissing,
    /// The CMS digest algorithm is not one we can compute.
    DigestAlgorithmUnsupported,
    /// The digest of the signed byte ranges differs from messageDigest: the bytes were changed.
    DigestMismatch,
    /// The signing-certificate attribute names another certificate than the signer's.
    EssMismatch,
    /// Warning: a PAdES signature without a signing-certificate attribute.
    EssMissing,
    /// A certificate of the chain had expired at the signing time.
    ExpiredAtSigning,
    /// A certificate of the chain has expired, and no timestamp proves the signature is older.
    ExpiredNowNoPoe,
    /// The signer's keyUsage has neither digitalSignature nor nonRepudiation.
    KeyUsage,
    /// The CMS has signed attributes but no messageDigest.
    MessageDigestMissing,
    /// A later revision makes a change the signature does not allow, or a later signature is fake.
    ModifiedAfterSigning,
    /// Validating as of a past time, and no timestamp proves the signature existed by then.
    NoPoeAtValidationTime,
    /// Warning: the signature dictionary has no /M.
    NoSigningTime,
    /// A certificate of the chain was not yet valid at the signing time.
    NotYetValidAtSigning,
    /// Warning: a certificate was revoked after the timestamp-proven signing; the signature holds.
    RevokedAfterProvenSigning,
    /// A certificate was revoked after the claimed signing time, and no timestamp proves the
    /// signature came first.
    RevokedAfterSigningNoPoe,
    /// A certificate of the chain was revoked before the signing time.
    RevokedBeforeSigning,
    /// The CMS signature value does not verify with the signer's key.
    SignatureInvalid,
    /// A trusted signature timestamp shows the signature was made after the validation time.
    SignedAfterValidationTime,
    /// The CMS does not contain the signer's certificate.
    SignerCertificateMissing,
    /// Warning: a PAdES signature with a signing-time attribute (PAdES uses /M instead).
    SigningTimeAttribute,
    /// The signature timestamp's imprint or signature does not match.
    TimestampInvalid,
    /// Warning: the signature timestamp comes from a TSA that is not trusted.
    TimestampUntrusted,
    /// The signer's certificate does not chain to a trust anchor.
    Untrusted,
}

impl FindingCode {
    /// Every code, for exhaustive checks (every code has a text in both languages).
    pub const ALL: &'static [FindingCode] = &[
        Self::ByteRangeInvalid,
        Self::CertificationNotFirst,
        Self::ChainInvalid,
        Self::CmsUnparseable,
        Self::ContentTypeInvalid,
        Self::ContentsMissing,
        Self::DigestAlgorithmUnsupported,
        Self::DigestMismatch,
        Self::EssMismatch,
        Self::EssMissing,
        Self::ExpiredAtSigning,
        Self::ExpiredNowNoPoe,
        Self::KeyUsage,
        Self::MessageDigestMissing,
        Self::ModifiedAfterSigning,
        Self::NoPoeAtValidationTime,
        Self::NoSigningTime,
        Self::NotYetValidAtSigning,
        Self::RevokedAfterProvenSigning,
        Self::RevokedAfterSigningNoPoe,
        Self::RevokedBeforeSigning,
        Self::SignatureInvalid,
        Self::SignedAfterValidationTime,
        Self::SignerCertificateMissing,
        Self::SigningTimeAttribute,
        Self::TimestampInvalid,
        Self::TimestampUntrusted,
        Self::Untrusted,
    ];

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ByteRangeInvalid => "byte_range_invalid",
            Self::CertificationNotFirst => "certification_not_first",
            Self::ChainInvalid => "chain_invalid",
            Self::CmsUnparseable => "cms_unparseable",
            Self::ContentTypeInvalid => "content_type_invalid",
            Self::ContentsMissing => "contents_missing",
            Self::DigestAlgorithmUnsupported => "digest_algorithm_unsupported",
            Self::DigestMismatch => "digest_mismatch",
            Self::EssMismatch => "ess_mismatch",
            Self::EssMissing => "ess_missing",
            Self::ExpiredAtSigning => "expired_at_signing",
            Self::ExpiredNowNoPoe => "expired_now_no_poe",
            Self::KeyUsage => "key_usage",
            Self::MessageDigestMissing => "message_digest_missing",
            Self::ModifiedAfterSigning => "modified_after_signing",
            Self::NoPoeAtValidationTime => "no_poe_at_validation_time",
            Self::NoSigningTime => "no_signing_time",
            Self::NotYetValidAtSigning => "not_yet_valid_at_signing",
            Self::RevokedAfterProvenSigning => "revoked_after_proven_signing",
            Self::RevokedAfterSigningNoPoe => "revoked_after_signing_no_poe",
            Self::RevokedBeforeSigning => "revoked_before_signing",
            Self::SignatureInvalid => "signature_invalid",
            Self::SignedAfterValidationTime => "signed_after_validation_time",
            Self::SignerCertificateMissing => "signer_certificate_missing",
            Self::SigningTimeAttribute => "signing_time_attribute",
            Self::TimestampInvalid => "timestamp_invalid",
            Self::TimestampUntrusted => "timestamp_untrusted",
            Self::Untrusted => "untrusted",
        }
    }
}

impl std::fmt::Display for FindingCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FindingCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A finding explains an indication or warns; the text is rendered later from `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What the finding is about; its text comes from [`render::finding_text`].
    pub code: FindingCode,
    /// Extra detail (English, technical), may be empty.
    pub detail: String,
}

fn finding(code: FindingCode, detail: impl Into<String>) -> Finding {
    Finding {
        code,
        detail: detail.into(),
    }
}

/// The validation result of one signature (document timestamps: [`DocTimestampReport`]).
#[derive(Debug, Clone, Serialize)]
pub struct SignatureReport {
    /// Fully qualified name of the signature field.
    pub field: String,
    /// Common name of the signer's certificate, else /Name from the signature dictionary.
    pub signer_name: Option<String>,
    /// Subject DN of the signer's certificate, RFC 4514 style.
    pub signer_subject: Option<String>,
    /// The signer's position (subject `title`), as the certificate names it.
    pub signer_title: Option<String>,
    /// The signer's unit (subject `OU`).
    pub signer_unit: Option<String>,
    /// The signer's institution (subject `O`).
    pub signer_organization: Option<String>,
    /// Serial number of the signer's certificate, lowercase hex.
    pub signer_serial: Option<String>,
    /// The signer certificate's validity period, RFC 3339 UTC.
    pub signer_not_before: Option<String>,
    /// End of the signer certificate's validity period, RFC 3339 UTC.
    pub signer_not_after: Option<String>,
    /// keyUsage names of the signer certificate (e.g. digitalSignature, nonRepudiation).
    pub signer_key_usages: Vec<&'static str>,
    /// Issuer DN of the signer's certificate, RFC 4514 style.
    pub issuer: Option<String>,
    /// Claimed signing time (/M), RFC 3339 UTC.
    pub signed_at: Option<String>,
    /// The verdict for this signature.
    pub indication: Indication,
    /// Why the verdict is not TOTAL_PASSED; None when it is.
    pub sub_indication: Option<SubIndication>,
    /// Byte ranges intact, digest matches and the CMS signature verifies.
    pub integrity: bool,
    /// The signer's certificate chains to a trust anchor.
    pub trusted: bool,
    /// A certificate of the signer's chain is revoked (before or after signing).
    pub revoked: bool,
    /// When it was revoked, RFC 3339 UTC.
    pub revoked_at: Option<String>,
    /// The signed ranges reach the end of the file (nothing was appended since).
    pub covers_whole_document: bool,
    /// Later revisions: "none", "signatures_only" or "disallowed".
    pub modifications: &'static str,
    /// The disallowed changes after this signature, each with its path from the catalog.
    pub changes: Vec<Change>,
    /// DocMDP permission level (1, 2 or 3) when this is a certification signature.
    pub certification: Option<u8>,
    /// Later signature dictionaries the modification verdict relies on (each must verify).
    #[serde(skip)]
    later_signatures: Vec<ObjectId>,
    /// /SubFilter of the signature dictionary, e.g. "ETSI.CAdES.detached".
    pub sub_filter: Option<String>,
    /// PAdES level reached: B-B, B-T, B-LT or B-LTA.
    pub level: Option<&'static str>,
    /// Time proven by the signature timestamp (RFC 3339 UTC), and who issued it.
    pub timestamp_time: Option<String>,
    /// Common name of the TSA that issued the signature timestamp.
    pub timestamp_authority: Option<String>,
    /// Time from which the signature is proven to exist (signature or document timestamp).
    pub proven_at: Option<String>,
    /// The file carries the revocation data needed to validate this signature offline.
    pub ltv: bool,
    /// The CMS signature algorithm, e.g. "RSA PKCS#1 v1.5 with SHA-256".
    pub signature_algorithm: Option<String>,
    /// /ByteRange as written in the signature dictionary.
    pub byte_range: Vec<i64>,
    /// /Reason, as claimed by the signer.
    pub reason: Option<String>,
    /// /Location, as claimed by the signer.
    pub location: Option<String>,
    /// Findings that keep the signature from TOTAL_PASSED.
    pub errors: Vec<Finding>,
    /// Findings that do not change the indication.
    pub warnings: Vec<Finding>,
}

/// A document timestamp (/DocTimeStamp, PAdES B-LTA).
#[derive(Debug, Clone, Serialize)]
pub struct DocTimestampReport {
    /// Fully qualified name of the timestamp's field.
    pub field: String,
    /// The token's genTime, RFC 3339 UTC; None when the range or token cannot be read.
    pub time: Option<String>,
    /// Common name of the TSA certificate ("?" when the token has none).
    pub authority: Option<String>,
    /// The byte range is sound and the token's signature and imprint match.
    pub intact: bool,
    /// The TSA chain is trusted at genTime and the certificate may time-stamp.
    pub trusted: bool,
    /// The timestamp covers the file to its end (nothing was appended since).
    pub covers_whole_document: bool,
}

/// The validation report of a whole PDF.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Overall verdict: TOTAL_FAILED if any signature or document timestamp fails, TOTAL_PASSED
    /// if every signature passes, INDETERMINATE otherwise (also when there is no signature).
    pub indication: Indication,
    /// Every signature carries its validation data and a timestamp ("LTV enabled").
    pub ltv_enabled: bool,
    /// Document timestamps (PAdES B-LTA), in form order.
    pub document_timestamps: Vec<DocTimestampReport>,
    /// SHA-256 of the whole file, lowercase hex.
    pub file_sha256: String,
    /// Size of the file in bytes.
    pub file_size: u64,
    /// Number of pages.
    pub pages: usize,
    /// One report per signature, in form order (document timestamps excluded).
    pub signatures: Vec<SignatureReport>,
    /// Validation time, RFC 3339 UTC.
    pub validated_at: String,
}

/// Why a file could not be validated at all.
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// The file could not be opened as a PDF.
    #[error(transparent)]
    Pdf(#[from] PdfError),
}

/// How far a signature's time may lie after the validation time before the signature is taken
/// as made later (clock skew between this host and a remote TSA).
pub const SIGNING_CLOCK_SKEW: time::Duration = time::Duration::minutes(10);

/// What to validate against.
pub struct Context<'a> {
    /// Builds certificate paths to the trust anchors and checks them.
    pub validator: &'a dyn PathValidator,
    /// Revocation statuses known outside the file; the file's DSS is asked when it says Unknown.
    pub revocation: &'a dyn RevocationSource,
    /// Validation time (normally now).
    pub at: OffsetDateTime,
}

/// `t` as RFC 3339 in UTC, the format of every time in the report.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Validates every signature in `bytes`. The whole-file SHA-256 for the report is computed on a
/// second thread while the signatures are checked (for large scans that hash is half the work).
pub fn validate_pdf(bytes: &[u8], ctx: &Context<'_>) -> Result<Report, ValidateError> {
    if bytes.len() < 4 * 1024 * 1024 {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
        return validate_pdf_with_hash(bytes, ctx, hex::encode(digest.as_ref()));
    }
    std::thread::scope(|scope| {
        let hasher = scope.spawn(|| {
            hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
        });
        let result = validate_pdf_with_hash(bytes, ctx, String::new());
        let file_sha256 = hasher.join().unwrap_or_default();
        result.map(|mut r| {
            r.file_sha256 = file_sha256;
            r
        })
    })
}

fn validate_pdf_with_hash(
    bytes: &[u8],
    ctx: &Context<'_>,
    file_sha256: String,
) -> Result<Report, ValidateError> {
    let pdf = PdfDocument::open(bytes, &OpenOptions::default())?;
    let fields = pdf.signature_fields();
    let embedded = ltv::Embedded::from_pdf(&pdf);
    let is_doc_ts = |f: &SignatureField| {
        f.kind.as_deref() == Some("DocTimeStamp") || f.sub_filter.as_deref() == Some("ETSI.RFC3161")
    };
    let mut doc_ts: Vec<DocTs> = Vec::new();
    let mut document_timestamps = Vec::new();
    for field in fields.iter().filter(|f| is_doc_ts(f)) {
        let checked = check_byte_range(bytes, field).ok().and_then(|end| {
            let (p1, p2) = (
                bytes.get(..usize::try_from(field.byte_range[1]).ok()?)?,
                bytes.get(usize::try_from(field.byte_range[2]).ok()?..end)?,
            );
            let c = ltv::check_timestamp(
                field.contents.as_deref()?,
                &[p1, p2],
                ctx.validator,
                &embedded.certs,
            )?;
            Some((end, c))
        });
        document_timestamps.push(DocTimestampReport {
            field: field.name.clone(),
            time: checked.as_ref().map(|(_, c)| rfc3339(c.gen_time)),
            authority: checked.as_ref().map(|(_, c)| c.authority.clone()),
            intact: checked.as_ref().is_some_and(|(_, c)| c.intact),
            trusted: checked.as_ref().is_some_and(|(_, c)| c.trusted),
            covers_whole_document: checked.as_ref().is_some_and(|(end, _)| *end == bytes.len()),
        });
        if let Some((end, c)) = checked {
            doc_ts.push(DocTs {
                signed_end: end,
                ts: c,
            });
        }
    }
    doc_ts.sort_by_key(|d| d.signed_end);
    let mut signatures = Vec::with_capacity(fields.len());
    let signature_fields: Vec<&SignatureField> = fields.iter().filter(|f| !is_doc_ts(f)).collect();
    for field in &signature_fields {
        signatures.push(validate_field(bytes, &pdf, field, ctx, &embedded, &doc_ts));
    }
    let timestamps: Vec<(Option<ObjectId>, bool)> = fields
        .iter()
        .filter(|f| is_doc_ts(f))
        .zip(&document_timestamps)
        .map(|(f, d)| (f.signature_id, d.intact))
        .collect();
    cross_check(&signature_fields, &mut signatures, &timestamps);
    let doc_ts_failed = document_timestamps.iter().any(|d| !d.intact);
    let doc_ts_untrusted = document_timestamps.iter().any(|d| !d.trusted);
    let indication = if signatures.is_empty() {
        Indication::Indeterminate
    } else if doc_ts_failed
        || signatures
            .iter()
            .any(|s| s.indication == Indication::TotalFailed)
    {
        Indication::TotalFailed
    } else if doc_ts_untrusted {
        Indication::Indeterminate
    } else if signatures
        .iter()
        .all(|s| s.indication == Indication::TotalPassed)
    {
        Indication::TotalPassed
    } else {
        Indication::Indeterminate
    };
    let ltv_enabled = !signatures.is_empty() && signatures.iter().all(|s| s.ltv);
    Ok(Report {
        indication,
        ltv_enabled,
        document_timestamps,
        file_sha256,
        file_size: bytes.len() as u64,
        pages: pdf.page_count(),
        signatures,
        validated_at: rfc3339(ctx.at),
    })
}

/// Marks a signature as followed by a change that is not allowed.
fn disallow(r: &mut SignatureReport, detail: String) {
    r.modifications = "disallowed";
    r.indication = Indication::TotalFailed;
    r.sub_indication = Some(SubIndication::FormatFailure);
    r.errors
        .push(finding(FindingCode::ModifiedAfterSigning, detail));
}

/// Rules that need every signature: a later signature the modification verdict relied on must
/// itself verify; a certification signature must be the first signature (ISO 32000-1 12.8.2.2).
fn cross_check(
    fields: &[&SignatureField],
    signatures: &mut [SignatureReport],
    timestamps: &[(Option<ObjectId>, bool)],
) {
    let mut intact: std::collections::HashMap<ObjectId, bool> = timestamps
        .iter()
        .filter_map(|(id, ok)| id.map(|id| (id, *ok)))
        .collect();
    for (f, r) in fields.iter().zip(signatures.iter()) {
        if let Some(id) = f.signature_id {
            intact.insert(id, r.integrity);
        }
    }
    let first_end = fields
        .iter()
        .filter_map(|f| f.byte_range.get(2..4).map(|v| v[0].saturating_add(v[1])))
        .min();
    for (f, r) in fields.iter().zip(signatures.iter_mut()) {
        let fake = r
            .later_signatures
            .iter()
            .any(|id| !intact.get(id).copied().unwrap_or(false));
        if fake && r.modifications != "disallowed" {
            r.changes.push(Change {
                kind: ChangeKind::FakeSignature,
                path: String::new(),
            });
            disallow(
                r,
                "a later signature field carries a signature that does not verify".into(),
            );
        }
        let end = f.byte_range.get(2..4).map(|v| v[0].saturating_add(v[1]));
        if f.docmdp.is_some() && end != first_end {
            r.indication = Indication::TotalFailed;
            r.sub_indication = Some(SubIndication::FormatFailure);
            r.errors.push(finding(
                FindingCode::CertificationNotFirst,
                "a certification (DocMDP) signature must be the first signature",
            ));
        }
    }
}

/// Checks that /ByteRange is [0 a b c] with the gap exactly the /Contents hex string and the
/// end at the end of a revision. Returns the signed end offset.
fn check_byte_range(bytes: &[u8], field: &SignatureField) -> Result<usize, Finding> {
    let br = &field.byte_range;
    let bad = |d: &str| finding(FindingCode::ByteRangeInvalid, d);
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

/// A verified document timestamp and the end of the revision it covers.
struct DocTs {
    signed_end: usize,
    ts: ltv::CheckedTimestamp,
}

/// Whether a timestamp covering the revision ending at `end` still proves its time at `at`: its
/// own TSA certificate is still valid, or a later document timestamp (itself still proving)
/// covers it.
fn still_proves(
    ts: &ltv::CheckedTimestamp,
    end: usize,
    doc_ts: &[DocTs],
    at: OffsetDateTime,
    depth: usize,
) -> bool {
    if !(ts.intact && ts.trusted) || depth > 16 {
        return false;
    }
    if ts.tsa_not_after.is_some_and(|t| t >= at) {
        return true;
    }
    doc_ts.iter().any(|d| {
        d.signed_end > end
            && d.ts.gen_time >= ts.gen_time
            && still_proves(&d.ts, d.signed_end, doc_ts, at, depth + 1)
    })
}

fn validate_field(
    bytes: &[u8],
    pdf: &PdfDocument,
    field: &SignatureField,
    ctx: &Context<'_>,
    embedded: &ltv::Embedded,
    doc_ts: &[DocTs],
) -> SignatureReport {
    let claimed = field
        .signing_time
        .as_deref()
        .and_then(sahih_pades::date::parse_pdf_date);
    let mut r = SignatureReport {
        field: field.name.clone(),
        signer_name: field.signer_name.clone(),
        signer_subject: None,
        signer_title: None,
        signer_unit: None,
        signer_organization: None,
        signer_serial: None,
        signer_not_before: None,
        signer_not_after: None,
        signer_key_usages: Vec::new(),
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
        changes: Vec::new(),
        certification: field.docmdp,
        later_signatures: Vec::new(),
        sub_filter: field.sub_filter.clone(),
        level: None,
        timestamp_time: None,
        timestamp_authority: None,
        proven_at: None,
        ltv: false,
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
            finding(FindingCode::ContentsMissing, "no /Contents"),
        );
        return r;
    };
    let cms = match sahih_pki::parse_cms(contents) {
        Ok(c) => c,
        Err(e) => {
            fail(
                &mut r,
                SubIndication::FormatFailure,
                finding(FindingCode::CmsUnparseable, e.to_string()),
            );
            return r;
        }
    };
    r.signature_algorithm = Some(cms.signature_algorithm.clone());
    if let Some(cert) = &cms.signer_cert {
        r.signer_subject = Some(cert.subject_display());
        r.signer_title = cert.subject_attribute(sahih_pki::oids::OID_TITLE);
        r.signer_unit = cert.subject_attribute(sahih_pki::oids::OID_OU);
        r.signer_organization = cert.subject_attribute(sahih_pki::oids::OID_O);
        r.signer_serial = Some(cert.serial_hex());
        r.signer_not_before = Some(rfc3339(cert.not_before()));
        r.signer_not_after = Some(rfc3339(cert.not_after()));
        if let Some(ku) = cert.key_usage() {
            for (on, name) in [
                (ku.digital_signature, "digitalSignature"),
                (ku.non_repudiation, "nonRepudiation"),
                (ku.key_encipherment, "keyEncipherment"),
                (ku.data_encipherment, "dataEncipherment"),
                (ku.key_agreement, "keyAgreement"),
                (ku.key_cert_sign, "keyCertSign"),
                (ku.crl_sign, "cRLSign"),
            ] {
                if on {
                    r.signer_key_usages.push(name);
                }
            }
        }
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
            finding(FindingCode::ByteRangeInvalid, "ranges outside the file"),
        );
        return r;
    };
    let digest = match sahih_pki::digest_parts(&cms.digest_algorithm, &[part1, part2]) {
        Ok(d) => d,
        Err(e) => {
            fail(
                &mut r,
                SubIndication::FormatFailure,
                finding(FindingCode::DigestAlgorithmUnsupported, e.to_string()),
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
                finding(FindingCode::DigestMismatch, "the signed bytes were changed"),
            );
            return r;
        }
        None if !cms.has_signed_attrs => {} // digest checked through the signature itself
        None => {
            fail(
                &mut r,
                SubIndication::FormatFailure,
                finding(FindingCode::MessageDigestMissing, ""),
            );
            return r;
        }
    }
    let Some(signer) = cms.signer_cert.clone() else {
        indeterminate(
            &mut r,
            SubIndication::NoSigningCertificateFound,
            finding(FindingCode::SignerCertificateMissing, ""),
        );
        return r;
    };
    if !cms.content_type_ok {
        fail(
            &mut r,
            SubIndication::FormatFailure,
            finding(FindingCode::ContentTypeInvalid, ""),
        );
        return r;
    }
    if !cms.signature_valid {
        fail(
            &mut r,
            SubIndication::SigCryptoFailure,
            finding(
                FindingCode::SignatureInvalid,
                "the CMS signature does not verify",
            ),
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
                FindingCode::EssMismatch,
                "signing-certificate attribute names another certificate",
            ),
        ),
        EssBinding::Absent if pades => r.warnings.push(finding(
            FindingCode::EssMissing,
            "PAdES requires the signing-certificate-v2 attribute",
        )),
        EssBinding::Absent => {}
    }
    if pades && cms.has_signing_time_attr {
        r.warnings.push(finding(
            FindingCode::SigningTimeAttribute,
            "PAdES puts the signing time in /M, not in a signed attribute",
        ));
    }
    if pades && cms.ess != EssBinding::Mismatch {
        r.level = Some("B-B");
    }
    if claimed.is_none() {
        r.warnings
            .push(finding(FindingCode::NoSigningTime, "no /M entry"));
    }

    // Later revisions.
    let role = match field.docmdp {
        Some(p) => SignatureRole::Certification(p),
        None => SignatureRole::Approval,
    };
    let analysis = modification::analyse(bytes, signed_end, pdf, role);
    r.later_signatures = analysis.later_signatures;
    match analysis.modifications {
        Modifications::None => r.modifications = "none",
        Modifications::SignaturesOnly => r.modifications = "signatures_only",
        Modifications::Disallowed => {
            let detail = analysis
                .changes
                .first()
                .map(Change::describe)
                .unwrap_or_default();
            r.changes = analysis.changes;
            disallow(&mut r, detail);
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
                FindingCode::KeyUsage,
                "the certificate may not be used for signatures",
            ),
        );
    }

    // Proofs of existence: the signature timestamp, and document timestamps covering it.
    let sig_ts = cms
        .unsigned_attrs
        .iter()
        .filter(|(oid, _)| *oid == sahih_pki::oids::OID_AA_TIMESTAMP_TOKEN)
        .flat_map(|(_, values)| values.iter())
        .find_map(|v| {
            ltv::check_timestamp(
                v,
                &[cms.signer_info_signature.as_slice()],
                ctx.validator,
                &embedded.certs,
            )
        });
    if let Some(ts) = &sig_ts {
        r.timestamp_time = Some(rfc3339(ts.gen_time));
        r.timestamp_authority = Some(ts.authority.clone());
        if !ts.intact {
            fail(
                &mut r,
                SubIndication::SigCryptoFailure,
                finding(
                    FindingCode::TimestampInvalid,
                    "the signature timestamp does not match the signature",
                ),
            );
        } else if !ts.trusted {
            r.warnings.push(finding(
                FindingCode::TimestampUntrusted,
                ts.authority.clone(),
            ));
        }
    }
    let mut poe: Option<OffsetDateTime> = None;
    if let Some(ts) = sig_ts
        .as_ref()
        .filter(|t| still_proves(t, signed_end, doc_ts, ctx.at, 0))
    {
        poe = Some(ts.gen_time);
    }
    for d in doc_ts.iter().filter(|d| d.signed_end >= signed_end) {
        if still_proves(&d.ts, d.signed_end, doc_ts, ctx.at, 0)
            && poe.is_none_or(|p| d.ts.gen_time < p)
        {
            poe = Some(d.ts.gen_time);
        }
    }
    r.proven_at = poe.map(rfc3339);

    // Certificate path at the signing time: proven by a timestamp, else as claimed.
    let signing_time = match (sig_ts.as_ref().filter(|t| t.intact && t.trusted), claimed) {
        (Some(ts), _) => ts.gen_time,
        (None, Some(c)) => c,
        (None, None) => ctx.at,
    };
    // Validating "as of" a time the signature did not exist yet cannot pass. Only proof counts:
    // a trusted timestamp made after that time, or, for a time in the past, no timestamp
    // proving existence by then. The signer's own /M time proves nothing (it can be omitted or
    // backdated, and offset-less local times are common). A few minutes are allowed for clocks
    // that disagree with a remote TSA.
    let proven_made = sig_ts
        .as_ref()
        .filter(|t| t.intact && t.trusted)
        .map(|t| t.gen_time);
    if let Some(made) = proven_made.filter(|m| *m > ctx.at + SIGNING_CLOCK_SKEW) {
        indeterminate(
            &mut r,
            SubIndication::NoPoe,
            finding(FindingCode::SignedAfterValidationTime, rfc3339(made)),
        );
    } else if ctx.at + SIGNING_CLOCK_SKEW < OffsetDateTime::now_utc()
        && poe.is_none_or(|p| p > ctx.at + SIGNING_CLOCK_SKEW)
    {
        indeterminate(
            &mut r,
            SubIndication::NoPoe,
            finding(FindingCode::NoPoeAtValidationTime, rfc3339(ctx.at)),
        );
    }
    let mut pool: Vec<Certificate> = cms
        .certificates
        .iter()
        .filter(|c| c.der != signer.der)
        .cloned()
        .collect();
    pool.extend(embedded.certs.iter().cloned());
    let path_at = |t: OffsetDateTime| ctx.validator.validate(&signer, &pool, t);
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
            finding(FindingCode::Untrusted, "no chain to a trusted root"),
        ),
        PathOutcome::Expired { cert_subject, .. } => {
            r.trusted = true;
            indeterminate(
                &mut r,
                SubIndication::OutOfBoundsNoPoe,
                finding(FindingCode::ExpiredAtSigning, cert_subject.clone()),
            )
        }
        PathOutcome::NotYetValid { cert_subject, .. } => {
            r.trusted = true;
            indeterminate(
                &mut r,
                SubIndication::NotYetValid,
                finding(FindingCode::NotYetValidAtSigning, cert_subject.clone()),
            )
        }
        PathOutcome::BadSignature { cert_subject } | PathOutcome::NotACa { cert_subject } => {
            indeterminate(
                &mut r,
                SubIndication::ChainConstraintsFailure,
                finding(FindingCode::ChainInvalid, cert_subject.clone()),
            )
        }
    }
    if poe.is_none() && signing_time != ctx.at {
        // Without a timestamp nothing proves the signature existed before expiry. (The chain's
        // signatures were verified above; only the validity periods matter here.)
        if let Some(expired) = chain.iter().find(|c| ctx.at > c.not_after()) {
            indeterminate(
                &mut r,
                SubIndication::OutOfBoundsNoPoe,
                finding(FindingCode::ExpiredNowNoPoe, expired.subject_display()),
            );
        }
    }

    // Revocation (signer and intermediate CAs): local CA database, then data in the file.
    let revocation = ltv::Combined {
        local: ctx.revocation,
        embedded,
    };
    // Revocation times have whole seconds (CRL, OCSP, the CA database): compare at that
    // granularity; the same second proves neither order.
    let secs = |t: OffsetDateTime| t.unix_timestamp();
    for pair in chain.windows(2) {
        let (cert, issuer) = (&pair[0], &pair[1]);
        if let RevocationStatus::Revoked { at, reason } = revocation.status(cert, Some(issuer)) {
            r.revoked = true;
            r.revoked_at = Some(rfc3339(at));
            let detail = reason.unwrap_or_default();
            if secs(at) < secs(signing_time) {
                fail(
                    &mut r,
                    SubIndication::Revoked,
                    finding(FindingCode::RevokedBeforeSigning, detail),
                );
            } else if poe.is_some_and(|p| secs(p) < secs(at)) {
                r.warnings
                    .push(finding(FindingCode::RevokedAfterProvenSigning, detail));
            } else {
                indeterminate(
                    &mut r,
                    SubIndication::RevokedNoPoe,
                    finding(FindingCode::RevokedAfterSigningNoPoe, detail),
                );
            }
        }
    }
    if chain.is_empty()
        && let RevocationStatus::Revoked { at, reason } = revocation.status(&signer, None)
    {
        r.revoked = true;
        r.revoked_at = Some(rfc3339(at));
        let detail = reason.unwrap_or_default();
        if secs(at) < secs(signing_time) {
            fail(
                &mut r,
                SubIndication::Revoked,
                finding(FindingCode::RevokedBeforeSigning, detail),
            );
        } else {
            indeterminate(
                &mut r,
                SubIndication::RevokedNoPoe,
                finding(FindingCode::RevokedAfterSigningNoPoe, detail),
            );
        }
    }

    // Level reached.
    if r.level.is_some() {
        let ts_ok = sig_ts.as_ref().is_some_and(|t| t.intact && t.trusted);
        let lt = ts_ok
            && !chain.is_empty()
            && embedded.covers_chain(&chain)
            && sig_ts
                .as_ref()
                .is_some_and(|t| embedded.covers_chain(&t.chain));
        let lta = lt
            && doc_ts
                .iter()
                .any(|d| d.signed_end > signed_end && d.ts.intact && d.ts.trusted);
        // "LTV enabled" in Adobe's sense: the file carries the revocation data of the signer's
        // chain (and of the signature timestamp's chain, when there is one).
        r.ltv = !chain.is_empty()
            && embedded.covers_chain(&chain)
            && sig_ts
                .as_ref()
                .is_none_or(|t| embedded.covers_chain(&t.chain));
        r.level = Some(if lta {
            "B-LTA"
        } else if lt {
            "B-LT"
        } else if ts_ok {
            "B-T"
        } else {
            "B-B"
        });
    }

    if r.errors.is_empty() {
        r.indication = Indication::TotalPassed;
        r.sub_indication = None;
    }
    r
}
