//! PAdES levels beyond B-B: the signature timestamp (B-T), the DSS with validation data (B-LT)
//! and the document timestamp (B-LTA), as separate steps so `extend` can apply them to existing
//! files, including files signed by other tools.

use crate::PadesError;
use sahih_pdf::dss::{DssData, VriEntry, prepare_dss_update, vri_key_from_sha1};
use sahih_pdf::{OpenOptions, PdfDocument, SignatureKind, SignatureSpec};
use sahih_pki::Certificate;

/// PAdES baseline levels (ETSI EN 319 142-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// B-B: the CMS signature alone.
    BB,
    /// B-T: plus a signature timestamp proving when the signature existed.
    BT,
    /// B-LT: plus a DSS with the certificates, OCSP responses and CRLs to validate offline.
    BLT,
    /// B-LTA: plus a document timestamp over the whole file, DSS included.
    BLTA,
}

impl Level {
    /// The ETSI name, e.g. "B-LT".
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BB => "B-B",
            Self::BT => "B-T",
            Self::BLT => "B-LT",
            Self::BLTA => "B-LTA",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().replace('_', "-").as_str() {
            "B-B" | "BB" => Ok(Self::BB),
            "B-T" | "BT" => Ok(Self::BT),
            "B-LT" | "BLT" => Ok(Self::BLT),
            "B-LTA" | "BLTA" => Ok(Self::BLTA),
            _ => Err(format!("unknown level {s:?} (B-B, B-T, B-LT, B-LTA)")),
        }
    }
}

/// Obtains RFC 3161 timestamp tokens: the built-in TSA in-process, or a TSA over HTTP.
pub trait Timestamper: Send + Sync {
    /// The TimeStampToken (a CMS ContentInfo, DER) over a SHA-256 `digest`.
    fn timestamp(&self, digest: &[u8]) -> Result<Vec<u8>, PadesError>;
    /// Upper bound of a token's size, for sizing /Contents.
    fn token_size_hint(&self) -> usize {
        8192
    }
}

/// Collects what a verifier needs offline for `certs` (and their issuers): certificates, OCSP
/// responses and CRLs.
pub trait ValidationDataSource: Send + Sync {
    /// Certificates, OCSP responses and CRLs (all DER) for `certs` and their issuers. The caller
    /// builds the VRI entries itself, so the returned `vri` is ignored.
    fn collect(&self, certs: &[Certificate]) -> Result<DssData, PadesError>;
}

/// Validation data collected once per set of certificates and second, for one batch.
///
/// Every letter of a batch has the same signer, chain and TSA, so the OCSP responses and CRLs
/// its DSS needs are the same too: asking the source once instead of once per letter saves the
/// responder's signatures, which were most of B-LT's cost.
///
/// Reuse is limited to the second the data was collected in. A letter asks for its data after
/// its signature timestamp was made, so the responses it carries are never older than its own
/// timestamp (to the second, the precision of an OCSP response's time): validators that want
/// revocation data issued after the best signature time accept every letter, and a revocation
/// during a batch reaches the letters signed a second later. A source that answers with partial
/// data (an unreachable responder) is reused within that second as well.
pub struct BatchValidationData<'a> {
    inner: &'a dyn ValidationDataSource,
    clock: fn() -> i64,
    collected: std::sync::Mutex<Vec<Collected>>,
}

struct Collected {
    certs: Vec<Vec<u8>>,
    second: i64,
    data: DssData,
}

impl<'a> BatchValidationData<'a> {
    /// Wraps `inner`; nothing is collected until a signature asks.
    pub fn new(inner: &'a dyn ValidationDataSource) -> Self {
        Self::with_clock(inner, || time::OffsetDateTime::now_utc().unix_timestamp())
    }

    /// As [`BatchValidationData::new`], with `clock` giving the current Unix second.
    pub fn with_clock(inner: &'a dyn ValidationDataSource, clock: fn() -> i64) -> Self {
        Self {
            inner,
            clock,
            collected: std::sync::Mutex::new(Vec::new()),
        }
    }
}

impl ValidationDataSource for BatchValidationData<'_> {
    fn collect(&self, certs: &[Certificate]) -> Result<DssData, PadesError> {
        // Read before collecting: the data is then at least as new as this second.
        let second = (self.clock)();
        let mut key: Vec<Vec<u8>> = certs.iter().map(|c| c.der.clone()).collect();
        key.sort();
        key.dedup();
        if let Ok(collected) = self.collected.lock()
            && let Some(hit) = collected
                .iter()
                .find(|c| c.second == second && c.certs == key)
        {
            return Ok(hit.data.clone());
        }
        // Not under the lock: the source may take a while (HTTP), and two threads asking for
        // the same set in the same second merely collect it twice.
        let data = self.inner.collect(certs)?;
        if let Ok(mut collected) = self.collected.lock() {
            collected.retain(|c| c.second >= second);
            if !collected
                .iter()
                .any(|c| c.second == second && c.certs == key)
            {
                collected.push(Collected {
                    certs: key,
                    second,
                    data: data.clone(),
                });
            }
        }
        Ok(data)
    }
}

/// Adds a signature timestamp (id-aa-timeStampToken over the signature value) to a CMS blob.
pub fn timestamp_signature(cms: &[u8], tsa: &dyn Timestamper) -> Result<Vec<u8>, PadesError> {
    let parsed = sahih_pki::parse_cms(cms)?;
    let digest =
        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &parsed.signer_info_signature);
    let token = tsa.timestamp(digest.as_ref())?;
    Ok(sahih_pki::add_unsigned_attribute(
        cms,
        sahih_pki::oids::OID_AA_TIMESTAMP_TOKEN,
        &token,
    )?)
}

fn sha1(data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, data)
        .as_ref()
        .to_vec()
}

/// Certificates involved in a signature or document timestamp: the CMS certificates and those
/// of an embedded signature timestamp token.
fn involved_certificates(contents: &[u8]) -> Vec<Certificate> {
    let mut out = Vec::new();
    let Ok(cms) = sahih_pki::parse_cms(contents) else {
        // A document timestamp's /Contents is a token: same CMS structure.
        return out;
    };
    out.extend(cms.certificates.iter().cloned());
    for (oid, values) in &cms.unsigned_attrs {
        if *oid == sahih_pki::oids::OID_AA_TIMESTAMP_TOKEN {
            for v in values {
                if let Ok(t) = sahih_pki::parse_cms(v) {
                    out.extend(t.certificates.iter().cloned());
                }
            }
        }
    }
    out
}

/// Builds a DSS revision holding validation data for every signature and document timestamp in
/// `bytes` (B-LT). Returns the update to append, or None when there is nothing to add.
pub fn add_dss_for_signatures(
    bytes: &[u8],
    source: &dyn ValidationDataSource,
) -> Result<Vec<u8>, PadesError> {
    let pdf = PdfDocument::open(bytes, &OpenOptions::default())?;
    let mut data = DssData::default();
    for field in pdf.signature_fields() {
        let Some(contents) = field.contents.as_deref() else {
            continue;
        };
        let certs = involved_certificates(contents);
        if certs.is_empty() {
            continue;
        }
        let collected = source.collect(&certs)?;
        data.vri.push(VriEntry {
            key: vri_key_from_sha1(&sha1(contents)),
            certs: collected.certs.clone(),
            ocsps: collected.ocsps.clone(),
            crls: collected.crls.clone(),
        });
        data.certs.extend(collected.certs);
        data.ocsps.extend(collected.ocsps);
        data.crls.extend(collected.crls);
    }
    Ok(prepare_dss_update(&pdf, bytes, &data)?)
}

/// Adds a document timestamp (/DocTimeStamp, SubFilter ETSI.RFC3161) over the whole current
/// revision (B-LTA). Returns the update to append.
pub fn add_document_timestamp(bytes: &[u8], tsa: &dyn Timestamper) -> Result<Vec<u8>, PadesError> {
    let pdf = PdfDocument::open(bytes, &OpenOptions::default())?;
    let mut capacity = tsa.token_size_hint() + 1024;
    for _ in 0..3 {
        let spec = SignatureSpec {
            kind: SignatureKind::DocumentTimestamp,
            field_name: None,
            sub_filter: "ETSI.RFC3161".into(),
            signing_time: None,
            signer_name: None,
            reason: None,
            location: None,
            contents_capacity: capacity,
            stamp: None,
            invisible_page_index: pdf.page_count().saturating_sub(1),
        };
        let mut update = sahih_pdf::prepare_signature(&pdf, bytes, &spec)?;
        let mut ctx = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        ctx.update(bytes);
        let (before, after) = update.signed_update_parts();
        ctx.update(before);
        ctx.update(after);
        let token = tsa.timestamp(ctx.finish().as_ref())?;
        match update.embed_contents(&token) {
            Ok(()) => return Ok(update.update_bytes().to_vec()),
            Err(sahih_pdf::PdfError::ContentsTooLarge { needed, .. }) => capacity = needed + 2048,
            Err(e) => return Err(e.into()),
        }
    }
    Err(PadesError::Service("timestamp token keeps growing".into()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use sahih_pki::{CertUrls, CertValidity, IssueRequest, Issuer, KeyAlgorithm, PrivateKey};
    use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

    /// Counts collections; answers with one "OCSP response" naming the call.
    struct Counting(AtomicUsize);

    impl ValidationDataSource for Counting {
        fn collect(&self, _certs: &[Certificate]) -> Result<DssData, PadesError> {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            Ok(DssData {
                ocsps: vec![format!("response {n}").into_bytes()],
                ..DssData::default()
            })
        }
    }

    static NOW: AtomicI64 = AtomicI64::new(1_800_000_000);

    fn now() -> i64 {
        NOW.load(Ordering::SeqCst)
    }

    fn root(institution: &str) -> Certificate {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let der = sahih_pki::issue(
            &sahih_pki::Profile::RootCa { institution },
            &IssueRequest {
                subject_spki: key.spki_der_ref(),
                issuer: Issuer::SelfSigned,
                signer: &key,
                validity: CertValidity::days_from_now(30),
                serial: &sahih_pki::random_serial(),
                urls: CertUrls::default(),
            },
        )
        .unwrap();
        Certificate::from_der(&der).unwrap()
    }

    #[test]
    fn a_batch_collects_once_per_certificate_set_and_second() {
        let (a, b) = (root("A"), root("B"));
        let source = Counting(AtomicUsize::new(0));
        let batch = BatchValidationData::with_clock(&source, now);
        let first = batch.collect(&[a.clone(), b.clone()]).unwrap();
        // The same set in another order, in the same second: the same data, not collected again.
        assert_eq!(
            batch.collect(&[b.clone(), a.clone()]).unwrap().ocsps,
            first.ocsps
        );
        assert_eq!(source.0.load(Ordering::SeqCst), 1);
        // Another set is collected for itself.
        let other = batch.collect(std::slice::from_ref(&a)).unwrap();
        assert_ne!(other.ocsps, first.ocsps);
        assert_eq!(source.0.load(Ordering::SeqCst), 2);
        // A second later, nothing collected earlier is handed out: it would predate the
        // signature timestamp of the letter asking.
        NOW.fetch_add(1, Ordering::SeqCst);
        let later = batch.collect(&[a.clone(), b.clone()]).unwrap();
        assert_ne!(later.ocsps, first.ocsps);
        assert_eq!(source.0.load(Ordering::SeqCst), 3);
        assert_eq!(batch.collect(&[a, b]).unwrap().ocsps, later.ocsps);
        assert_eq!(source.0.load(Ordering::SeqCst), 3);
    }
}
