//! Trust-service certificates (TSA, OCSP responder) and the URLs certificates carry.

use super::*;

// =============================================================================================
// Trust-service certificates and URLs
// =============================================================================================

/// Service URLs embedded in issued certificates. Empty fields are left out; all `None` adds no
/// extension at all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertUrls {
    /// OCSP responder URL (authorityInfoAccess id-ad-ocsp).
    pub ocsp: Option<String>,
    /// URL of the issuer's certificate (authorityInfoAccess id-ad-caIssuers), DER or PKCS#7.
    pub ca_issuers: Option<String>,
    /// URL of the issuer's CRL (cRLDistributionPoints fullName).
    pub crl: Option<String>,
}

/// Maximum length of an URL embedded in a certificate.
pub const MAX_URL_LEN: usize = 2048;

fn check_url(u: &str) -> Result<()> {
    let ok = !u.is_empty()
        && u.len() <= MAX_URL_LEN
        && u.bytes().all(|b| b.is_ascii_graphic())
        && u.split_once("://").is_some_and(|(scheme, rest)| {
            !rest.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
                && scheme
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphabetic())
        });
    if ok {
        Ok(())
    } else {
        Err(PkiError::InvalidArgument(format!(
            "not an absolute URI usable in a certificate: {u:?}"
        )))
    }
}

/// GeneralName uniformResourceIdentifier [6] IA5String.
fn uri_general_name(u: &str) -> Vec<u8> {
    tlv(0x86, u.as_bytes())
}

/// authorityInfoAccess and cRLDistributionPoints extensions (non-critical) for `urls`.
pub(crate) fn url_extensions(urls: &CertUrls) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut access = Vec::new();
    if let Some(u) = urls.ocsp.as_deref().filter(|u| !u.is_empty()) {
        check_url(u)?;
        access.push(seq(&[&oid(&OID_AD_OCSP), &uri_general_name(u)]));
    }
    if let Some(u) = urls.ca_issuers.as_deref().filter(|u| !u.is_empty()) {
        check_url(u)?;
        access.push(seq(&[&oid(&OID_AD_CA_ISSUERS), &uri_general_name(u)]));
    }
    if !access.is_empty() {
        let parts: Vec<&[u8]> = access.iter().map(|a| a.as_slice()).collect();
        out.push(extension(
            &OID_EXT_AUTHORITY_INFO_ACCESS,
            false,
            &seq(&parts),
        ));
    }
    if let Some(u) = urls.crl.as_deref().filter(|u| !u.is_empty()) {
        check_url(u)?;
        // DistributionPoint { distributionPoint [0] { fullName [0] { URI } } }
        let full_name = tlv(0xa0, &uri_general_name(u));
        let dp_name = tlv(0xa0, &full_name);
        out.push(extension(
            &OID_EXT_CRL_DISTRIBUTION_POINTS,
            false,
            &seq(&[&seq(&[&dp_name])]),
        ));
    }
    Ok(out)
}

/// A time-stamping authority certificate (RFC 3161 2.3): subject `C=ID, O=<institution>,
/// CN=<institution> Time Stamping Authority`; basicConstraints CA:FALSE critical; keyUsage
/// digitalSignature+nonRepudiation critical; extendedKeyUsage id-kp-timeStamping only,
/// CRITICAL; SKI; AKI; AIA/CDP for `urls`.
pub fn issue_tsa_certificate(
    institution: &str,
    subject_spki_der: &[u8],
    issuer_cert_der: &[u8],
    issuer_key: &dyn SignatureProducer,
    validity: CertValidity,
    serial: &[u8],
    urls: &CertUrls,
) -> Result<Vec<u8>> {
    let subject = ca_subject(
        institution,
        &format!("{institution} Time Stamping Authority"),
    )?;
    let issuer = Certificate::from_der(issuer_cert_der)?;
    issue_end_entity(
        &issuer,
        issuer_key,
        validity,
        serial,
        &subject,
        subject_spki_der,
        EndEntity {
            key_usage: &[0, 1],
            after_key_usage: vec![extension(
                &OID_EXT_EXTENDED_KEY_USAGE,
                true,
                &seq(&[&oid(&OID_KP_TIME_STAMPING)]),
            )],
            after_key_ids: Vec::new(),
            urls: Some(urls),
        },
    )
}

/// A delegated OCSP responder certificate, issued by the CA whose certificates it answers for
/// (RFC 6960 4.2.2.2): subject `C=ID, O=<institution>, CN=<institution> OCSP Responder
/// <issuer>` where `<issuer>` is the issuer's common name without the institution prefix
/// (e.g. "Issuing CA 1"); basicConstraints CA:FALSE critical; keyUsage digitalSignature
/// critical; extendedKeyUsage id-kp-OCSPSigning; id-pkix-ocsp-nocheck (NULL); SKI; AKI. No
/// AIA/CDP (the certificate is not checked for revocation). Keep the validity short.
pub fn issue_ocsp_responder_certificate(
    institution: &str,
    subject_spki_der: &[u8],
    issuer_cert_der: &[u8],
    issuer_key: &dyn SignatureProducer,
    validity: CertValidity,
    serial: &[u8],
) -> Result<Vec<u8>> {
    let issuer = Certificate::from_der(issuer_cert_der)?;
    let issuer_cn = issuer
        .subject_common_name()
        .unwrap_or_else(|| issuer.subject_display());
    let label = issuer_cn
        .strip_prefix(institution)
        .map(str::trim_start)
        .filter(|l| !l.is_empty())
        .unwrap_or(&issuer_cn);
    let subject = ca_subject(
        institution,
        &format!("{institution} OCSP Responder {label}"),
    )?;
    issue_end_entity(
        &issuer,
        issuer_key,
        validity,
        serial,
        &subject,
        subject_spki_der,
        EndEntity {
            key_usage: &[0],
            after_key_usage: vec![
                extension(
                    &OID_EXT_EXTENDED_KEY_USAGE,
                    false,
                    &seq(&[&oid(&OID_KP_OCSP_SIGNING)]),
                ),
                extension(&OID_PKIX_OCSP_NOCHECK, false, &[0x05, 0x00]),
            ],
            after_key_ids: Vec::new(),
            // Not checked for revocation (RFC 6960 4.2.2.2.1): no AIA or CDP.
            urls: None,
        },
    )
}

/// Whether `producer` holds the private key of `cert` (one test signature, verified with the
/// certificate's public key). Use it once when a service starts, to catch a mis-configured
/// key (wrong file, wrong HSM slot).
pub fn key_matches_certificate(producer: &dyn SignatureProducer, cert: &Certificate) -> bool {
    const PROBE: &[u8] = b"sahih key/certificate consistency probe";
    let Ok(sig) = producer.sign(PROBE) else {
        return false;
    };
    verify_signature(
        cert.spki_der_ref(),
        &producer.signature_algorithm(),
        PROBE,
        &sig,
    )
    .unwrap_or(false)
}
