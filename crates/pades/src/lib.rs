//! sahih-pades: PAdES signatures on PDF documents.
//!
//! Owns: turning a PDF plus a signer (certificate, chain, key) into a PAdES baseline signature
//! as incremental updates: B-B (CAdES detached CMS), B-T (plus a signature timestamp token as an
//! unsigned attribute), B-LT (plus a DSS revision with certificates, OCSP responses and CRLs) and
//! B-LTA (plus a document timestamp over the whole revision); and augmenting existing files.
//!
//! Must not know: officials, passphrases, databases, policy, or how a report is worded.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use sahih_pdf::{
    PdfDocument, PdfError, PreparedUpdate, SignatureKind, SignatureSpec, VisibleStamp,
};
use sahih_pki::{Certificate, KeyAlgorithm, PkiError, SignatureProducer};
use time::OffsetDateTime;

pub mod date;
pub mod levels;

pub use levels::{
    BatchValidationData, Level, Timestamper, ValidationDataSource, add_document_timestamp,
    add_dss_for_signatures,
};

/// Why signing or augmenting a PDF failed.
#[derive(Debug, thiserror::Error)]
pub enum PadesError {
    /// The PDF could not be read, or the update could not be built or filled in.
    #[error(transparent)]
    Pdf(#[from] PdfError),
    /// Certificates, the CMS, the signing key or a timestamp token failed.
    #[error(transparent)]
    Pki(#[from] PkiError),
    /// A trust service (TSA, OCSP, CRL) could not be reached or answered badly.
    #[error("trust service: {0}")]
    Service(String),
}

/// Who signs: the certificate, the chain to include (issuing CA; not the root) and the key.
pub struct Signer<'a> {
    /// The signer's certificate, embedded in the CMS.
    pub certificate: &'a Certificate,
    /// CA certificates embedded after it (the issuing CA; not the root).
    pub chain: &'a [Certificate],
    /// The key's algorithm; only used to estimate the CMS size for /Contents.
    pub key_algorithm: KeyAlgorithm,
    /// Makes the signature value over the CMS signed attributes.
    pub producer: &'a dyn SignatureProducer,
}

/// One signing request on an opened PDF.
#[derive(Debug, Clone)]
pub struct SignRequest {
    /// Visible stamp, or None for an invisible signature (attached to the last page).
    pub stamp: Option<VisibleStamp>,
    /// Written as /Reason (why the document was signed).
    pub reason: Option<String>,
    /// Written as /Location (where it was signed).
    pub location: Option<String>,
    /// Signer name for /Name (optional in PAdES; shown by viewers).
    pub signer_name: Option<String>,
    /// Claimed signing time, written to /M (PAdES B-B: no signing-time attribute).
    pub signing_time: OffsetDateTime,
    /// Name of the new signature field; a free "`Signature<n>`" is used when None or taken.
    pub field_name: Option<String>,
}

/// The result: bytes to append to the original file, and facts to record.
#[derive(Debug, Clone)]
pub struct SignedUpdate {
    /// The incremental update, with the CMS already in /Contents.
    pub update: PreparedUpdate,
    /// SHA-256 of the complete signed file (original + update).
    pub signed_file_sha256: [u8; 32],
    /// SHA-256 of the signed byte ranges (the CMS messageDigest).
    pub byte_range_sha256: [u8; 32],
}

impl SignedUpdate {
    /// Name of the signature field the update adds.
    pub fn field_name(&self) -> &str {
        &self.update.field_name
    }
    /// The bytes to append to the original file to get the signed file.
    pub fn update_bytes(&self) -> &[u8] {
        self.update.update_bytes()
    }
}

/// Extra bytes reserved in /Contents beyond the estimated CMS size.
const CONTENTS_MARGIN: usize = 512;

/// Signs `original` (already opened as `pdf`) with a PAdES B-B signature.
pub fn sign_pdf(
    original: &[u8],
    pdf: &PdfDocument,
    request: &SignRequest,
    signer: &Signer<'_>,
) -> Result<SignedUpdate, PadesError> {
    sign_pdf_timestamped(original, pdf, request, signer, None)
}

/// Signs with a PAdES B-B signature, or B-T when `timestamper` is given (the signature
/// timestamp token goes into the unsigned attributes). /Contents is sized from the estimate; if
/// the real blob is larger (an unexpectedly large TSA token), the update is rebuilt with the
/// exact size plus margin, so this never fails with "placeholder too small".
pub fn sign_pdf_timestamped(
    original: &[u8],
    pdf: &PdfDocument,
    request: &SignRequest,
    signer: &Signer<'_>,
    timestamper: Option<&dyn Timestamper>,
) -> Result<SignedUpdate, PadesError> {
    let mut capacity =
        sahih_pki::estimate_cades_size(signer.certificate, signer.chain, signer.key_algorithm)
            + CONTENTS_MARGIN
            + timestamper.map_or(0, |t| t.token_size_hint() + 64);
    for _attempt in 0..2 {
        match sign_once(original, pdf, request, signer, timestamper, capacity) {
            Err(PadesError::Pdf(PdfError::ContentsTooLarge { needed, .. })) => {
                capacity = needed + CONTENTS_MARGIN * 4;
            }
            other => return other,
        }
    }
    sign_once(original, pdf, request, signer, timestamper, capacity)
}

fn sign_once(
    original: &[u8],
    pdf: &PdfDocument,
    request: &SignRequest,
    signer: &Signer<'_>,
    timestamper: Option<&dyn Timestamper>,
    capacity: usize,
) -> Result<SignedUpdate, PadesError> {
    let last_page = pdf.page_count().saturating_sub(1);
    let spec = SignatureSpec {
        kind: SignatureKind::Signature,
        field_name: request.field_name.clone(),
        sub_filter: "ETSI.CAdES.detached".into(),
        signing_time: Some(date::to_pdf_date(request.signing_time)),
        signer_name: request.signer_name.clone(),
        reason: request.reason.clone(),
        location: request.location.clone(),
        contents_capacity: capacity,
        stamp: request.stamp.clone(),
        invisible_page_index: last_page,
    };
    let mut update = sahih_pdf::prepare_signature(pdf, original, &spec)?;

    // One pass over the original feeds both digests (for a 100 MB scan, reading is the cost).
    let mut ranges = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    ranges.update(original);
    let mut whole = ranges.clone();
    let (before, after) = update.signed_update_parts();
    ranges.update(before);
    ranges.update(after);
    let byte_range_sha256 = to_array(ranges.finish().as_ref());

    let mut cms = sahih_pki::build_cades_detached(
        &byte_range_sha256,
        signer.certificate,
        signer.chain,
        signer.producer,
    )?;
    if let Some(tsa) = timestamper {
        cms = levels::timestamp_signature(&cms, tsa)?;
    }
    update.embed_contents(&cms)?;
    whole.update(update.update_bytes());
    let signed_file_sha256 = to_array(whole.finish().as_ref());
    Ok(SignedUpdate {
        update,
        signed_file_sha256,
        byte_range_sha256,
    })
}

fn to_array(digest: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (o, d) in out.iter_mut().zip(digest) {
        *o = *d;
    }
    out
}

/// Appends B-LT (DSS) and B-LTA (document timestamp + DSS for it) revisions after `update`.
pub fn augment(
    original: &[u8],
    update: &[u8],
    source: &dyn ValidationDataSource,
    tsa: Option<&dyn Timestamper>,
    level: Level,
) -> Result<Vec<u8>, PadesError> {
    let mut full = Vec::with_capacity(original.len() + update.len() + 64 * 1024);
    full.extend_from_slice(original);
    full.extend_from_slice(update);
    let start = full.len();
    augment_in_place(&mut full, source, tsa, level)?;
    Ok(full.split_off(start))
}

/// Appends B-LT (DSS) and B-LTA (document timestamp + DSS for it) revisions to the signed file
/// `full` itself, without copying it. On an error `full` may end in a partial revision.
pub fn augment_in_place(
    full: &mut Vec<u8>,
    source: &dyn ValidationDataSource,
    tsa: Option<&dyn Timestamper>,
    level: Level,
) -> Result<(), PadesError> {
    let dss = add_dss_for_signatures(full, source)?;
    full.extend_from_slice(&dss);
    if level >= Level::BLTA {
        let tsa =
            tsa.ok_or_else(|| PadesError::Service("B-LTA needs a timestamp authority".into()))?;
        // The document timestamp comes from the same TSA as the signature timestamp, whose
        // chain and revocation data the DSS above already holds; so it can stay the last
        // revision and cover the whole file.
        let ts = add_document_timestamp(full, tsa)?;
        full.extend_from_slice(&ts);
    }
    Ok(())
}
