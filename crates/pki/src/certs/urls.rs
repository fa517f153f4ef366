//! The service URLs a certificate carries (authorityInfoAccess: OCSP and caIssuers;
//! cRLDistributionPoints) and their encoding.

use super::*;

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

impl CertUrls {
    /// Whether no URL is set (an empty string counts as unset), so no extension would be
    /// written.
    pub fn is_empty(&self) -> bool {
        [&self.ocsp, &self.ca_issuers, &self.crl]
            .iter()
            .all(|u| u.as_deref().is_none_or(str::is_empty))
    }
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
