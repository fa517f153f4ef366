//! Public names and URLs of the CAs and their services (OCSP, CA certificates, CRLs) under the
//! configured base URL, as certificates carry them.
//!
//! Must not know: how CAs sign or where they are stored.

use crate::store::CaRecord;
use sahih_pki::CertUrls;

/// Public names and URLs of the CAs and services, under the configured base URL.
pub fn ca_name(ca: &CaRecord) -> String {
    if ca.kind == crate::store::CaKind::Root {
        "root".to_string()
    } else {
        format!("issuing-{}", ca.generation)
    }
}

/// The URLs a certificate issued by `issuer` carries: the OCSP service, the issuer's
/// certificate (caIssuers) and its CRL, all under `base_url`.
pub fn urls_for_issuer(base_url: &str, issuer: &CaRecord) -> CertUrls {
    let name = ca_name(issuer);
    CertUrls {
        ocsp: Some(format!("{base_url}/ocsp")),
        ca_issuers: Some(format!("{base_url}/ca/{name}.crt")),
        crl: Some(format!("{base_url}/crl/{name}.crl")),
    }
}
