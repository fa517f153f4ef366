//! Long-term validation data: what the file itself carries (DSS certificates, OCSP responses,
//! CRLs) and timestamps (signature timestamps, document timestamps) as proofs of existence.

use crate::{RevocationSource, RevocationStatus};
use sahih_pdf::PdfDocument;
use sahih_pki::ocsp::{CertStatusKind, ParsedOcspResponse};
use sahih_pki::tsp::TimeStampToken;
use sahih_pki::{Certificate, PathOutcome, PathValidator};
use time::OffsetDateTime;

/// Validation data embedded in the document (DSS).
#[derive(Default)]
pub struct Embedded {
    /// Certificates from /Certs (entries that do not parse are skipped).
    pub certs: Vec<Certificate>,
    /// Successful (responseStatus 0) OCSP responses from /OCSPs.
    pub ocsps: Vec<ParsedOcspResponse>,
    /// CRLs from /CRLs (each one's signature is checked when it is used).
    pub crls: Vec<sahih_pki::crl::ParsedCrl>,
}

impl Embedded {
    /// Reads the document's DSS.
    pub fn from_pdf(pdf: &PdfDocument) -> Self {
        let dss = sahih_pdf::dss::read_dss(pdf);
        Self {
            certs: dss
                .certs
                .iter()
                .filter_map(|d| Certificate::from_der(d).ok())
                .collect(),
            ocsps: dss
                .ocsps
                .iter()
                .filter_map(|d| sahih_pki::ocsp::parse_ocsp_response(d).ok())
                .filter(|r| r.status == 0)
                .collect(),
            crls: dss
                .crls
                .iter()
                .filter_map(|d| sahih_pki::crl::parse_crl(d).ok())
                .collect(),
        }
    }

    /// Revocation status of `cert` proven by embedded, correctly signed data from its issuer.
    pub fn status(&self, cert: &Certificate, issuer: &Certificate) -> Option<RevocationStatus> {
        for r in &self.ocsps {
            if !r.responder_authorised_for(issuer) {
                continue;
            }
            if let Some((status, _this, _next)) = r.status_for(cert, issuer) {
                return Some(match status {
                    CertStatusKind::Good => RevocationStatus::Good,
                    CertStatusKind::Revoked { at, reason } => RevocationStatus::Revoked {
                        at,
                        reason: reason.map(|r| sahih_pki::crl::crl_reason_name(r).to_string()),
                    },
                    CertStatusKind::Unknown => RevocationStatus::Unknown,
                });
            }
        }
        for crl in &self.crls {
            if crl.issuer_der != cert.issuer_der() || !crl.verify_signature(issuer) {
                continue;
            }
            return Some(match crl.is_revoked(&cert.serial_bytes()) {
                Some(r) => RevocationStatus::Revoked {
                    at: r.revoked_at,
                    reason: r
                        .reason
                        .map(|x| sahih_pki::crl::crl_reason_name(x).to_string()),
                },
                None => RevocationStatus::Good,
            });
        }
        None
    }

    /// True when every non-root certificate of `chain` (leaf first) has embedded revocation
    /// data from its issuer, or needs none (OCSP no-check responders).
    pub fn covers_chain(&self, chain: &[Certificate]) -> bool {
        chain.windows(2).all(|pair| {
            let (cert, issuer) = (&pair[0], &pair[1]);
            cert.has_ocsp_nocheck() || self.status(cert, issuer).is_some()
        })
    }
}

/// Local knowledge first (the CA database is authoritative for our own certificates), then
/// what the file carries.
pub struct Combined<'a> {
    /// The caller's source (e.g. the CA database), asked first.
    pub local: &'a dyn RevocationSource,
    /// What the file carries, asked when `local` says Unknown and the issuer is known.
    pub embedded: &'a Embedded,
}

impl RevocationSource for Combined<'_> {
    fn status(&self, cert: &Certificate, issuer: Option<&Certificate>) -> RevocationStatus {
        match self.local.status(cert, issuer) {
            RevocationStatus::Unknown => issuer
                .and_then(|i| self.embedded.status(cert, i))
                .unwrap_or(RevocationStatus::Unknown),
            known => known,
        }
    }
}

/// A timestamp token checked against its data and a trust store.
#[derive(Debug, Clone)]
pub struct CheckedTimestamp {
    /// The token's genTime: when the TSA says the data existed.
    pub gen_time: OffsetDateTime,
    /// Common name of the TSA certificate ("?" when the token has none).
    pub authority: String,
    /// Token signature and imprint are correct.
    pub intact: bool,
    /// The TSA chain is trusted and valid at `gen_time` (and the TSA may time-stamp).
    pub trusted: bool,
    /// The TSA chain (TSA first), when trusted.
    pub chain: Vec<Certificate>,
    /// When the TSA certificate expires: a proof made by it lasts until then (unless renewed
    /// by a later document timestamp).
    pub tsa_not_after: Option<OffsetDateTime>,
}

/// Checks a TimeStampToken over `data_digest_input` parts.
pub fn check_timestamp(
    token_der: &[u8],
    data_parts: &[&[u8]],
    validator: &dyn PathValidator,
    extra_certs: &[Certificate],
) -> Option<CheckedTimestamp> {
    let token: TimeStampToken = sahih_pki::tsp::parse_timestamp_token(token_der).ok()?;
    let digest = sahih_pki::digest_parts(&token.hash_algorithm, data_parts).ok()?;
    let intact = token.signature_valid && token.check_imprint(&digest);
    let authority = token
        .tsa_cert
        .as_ref()
        .and_then(Certificate::subject_common_name)
        .unwrap_or_else(|| "?".into());
    let mut trusted = false;
    let mut chain = Vec::new();
    if let Some(tsa) = &token.tsa_cert {
        let mut pool = token.certificates.clone();
        pool.extend(extra_certs.iter().cloned());
        if let PathOutcome::Valid { chain: c } = validator.validate(tsa, &pool, token.gen_time) {
            trusted = token.tsa_cert_has_timestamping_eku();
            chain = c;
        }
    }
    Some(CheckedTimestamp {
        gen_time: token.gen_time,
        authority,
        intact,
        trusted,
        tsa_not_after: token.tsa_cert.as_ref().map(Certificate::not_after),
        chain,
    })
}
