//! sahih-fetch: HTTP clients of trust services: an RFC 3161 TSA at any URL (`sign --tsa URL`),
//! and OCSP/CRL/CA-certificate fetching for certificates whose issuers publish them (`extend`);
//! also the plain JSON POST that delivers webhooks.
//! They implement `sahih-pades`'s `Timestamper` and `ValidationDataSource`, so augmentation
//! does not care whether the data comes from here or from the built-in services.
//!
//! Must not know: officials, storage, or the server.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use sahih_pades::{PadesError, Timestamper};
use std::time::Duration;

/// Default time limit of one trust-service request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .unversioned_rustls_crypto_provider(std::sync::Arc::new(
                    rustls::crypto::aws_lc_rs::default_provider(),
                ))
                .build(),
        )
        .http_status_as_error(false)
        .build()
        .into()
}

/// POSTs DER and returns the DER answer, with a clear error for people.
pub fn post_der(
    url: &str,
    content_type: &str,
    body: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    let response = agent(timeout)
        .post(url)
        .header("Content-Type", content_type)
        .send(body)
        .map_err(|e| format!("{url}: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("{url}: HTTP {status}"));
    }
    response
        .into_body()
        .with_config()
        .limit(4 * 1024 * 1024)
        .read_to_vec()
        .map_err(|e| format!("{url}: {e}"))
}

/// GETs `url` and returns the body (a CRL or CA certificates, at most 64 MiB), with a clear
/// error for people.
pub fn get_der(url: &str, timeout: Duration) -> Result<Vec<u8>, String> {
    let response = agent(timeout)
        .get(url)
        .call()
        .map_err(|e| format!("{url}: {e}"))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("{url}: HTTP {status}"));
    }
    response
        .into_body()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .map_err(|e| format!("{url}: {e}"))
}

/// POSTs a JSON body with extra headers (a webhook) and returns the HTTP status; an error only
/// when no answer came (connection refused, timeout). The answer's body is not read.
pub fn post_json(
    url: &str,
    body: &str,
    headers: &[(&str, &str)],
    timeout: Duration,
) -> Result<u16, String> {
    let mut request = agent(timeout)
        .post(url)
        .header("Content-Type", "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send(body).map_err(|e| format!("{url}: {e}"))?;
    Ok(response.status().as_u16())
}

/// A TSA reached over HTTP (RFC 3161 section 3.4).
pub struct HttpTimestamper {
    /// The TSA's URL; time-stamp queries are POSTed to it.
    pub url: String,
    /// Time limit of each request (usually [`DEFAULT_TIMEOUT`]).
    pub timeout: Duration,
}

impl Timestamper for HttpTimestamper {
    fn timestamp(&self, digest: &[u8]) -> Result<Vec<u8>, PadesError> {
        let req = sahih_pki::tsp::TimeStampReq::new(sahih_pki::oids::OID_SHA256, digest);
        let resp = post_der(
            &self.url,
            "application/timestamp-query",
            &req.to_der(),
            self.timeout,
        )
        .map_err(PadesError::Service)?;
        let token = sahih_pki::tsp::parse_timestamp_response(&resp)?;
        if !token.matches_request(&req) {
            return Err(PadesError::Service(format!(
                "{}: the timestamp does not match the request (imprint or nonce)",
                self.url
            )));
        }
        Ok(token.der)
    }

    fn token_size_hint(&self) -> usize {
        // External TSAs include their chain; be generous (the signer retries if needed).
        12 * 1024
    }
}

/// Validation data for certificates of any CA: what `local` knows (our own CAs, in-process),
/// plus OCSP responses, CRLs and issuer certificates fetched from the URLs the certificates
/// name (AIA OCSP / caIssuers, CRL distribution points). Best effort: an unreachable service
/// leaves that certificate without data, which `verify` then reports (no LTV).
pub struct FetchingSource<'a> {
    /// Source consulted first, e.g. our own CAs in-process; None to rely on the network alone.
    pub local: Option<&'a dyn sahih_pades::ValidationDataSource>,
    /// Time limit of each HTTP request.
    pub timeout: Duration,
}

impl sahih_pades::ValidationDataSource for FetchingSource<'_> {
    fn collect(
        &self,
        certs: &[sahih_pki::Certificate],
    ) -> Result<sahih_pdf::dss::DssData, PadesError> {
        let mut data = match self.local {
            Some(l) => l.collect(certs)?,
            None => sahih_pdf::dss::DssData::default(),
        };
        let mut pool: Vec<sahih_pki::Certificate> = certs.to_vec();
        let mut queue: Vec<sahih_pki::Certificate> = certs.to_vec();
        let mut done: Vec<Vec<u8>> = Vec::new();
        while let Some(cert) = queue.pop() {
            if done.contains(&cert.der) || done.len() > 32 || cert.is_self_issued() {
                continue;
            }
            done.push(cert.der.clone());
            if !data.certs.contains(&cert.der) {
                data.certs.push(cert.der.clone());
            }
            let mut issuer = pool
                .iter()
                .find(|c| c.subject_der() == cert.issuer_der() && cert.is_signed_by(c))
                .cloned();
            if issuer.is_none() {
                for url in cert.ca_issuers_urls() {
                    if let Ok(der) = get_der(&url, self.timeout)
                        && let Ok(found) = sahih_pki::certs::load_certificates(&der)
                    {
                        pool.extend(found.iter().cloned());
                        issuer = found
                            .into_iter()
                            .find(|c| c.subject_der() == cert.issuer_der() && cert.is_signed_by(c));
                        if issuer.is_some() {
                            break;
                        }
                    }
                }
            }
            let Some(issuer) = issuer else { continue };
            if !data.certs.contains(&issuer.der) {
                data.certs.push(issuer.der.clone());
            }
            queue.push(issuer.clone());
            let already = data.ocsps.iter().any(|der| {
                sahih_pki::ocsp::parse_ocsp_response(der)
                    .ok()
                    .and_then(|r| r.status_for(&cert, &issuer))
                    .is_some()
            });
            if already {
                continue;
            }
            let mut got_ocsp = false;
            if let Ok(id) =
                sahih_pki::ocsp::CertId::for_cert(&cert, &issuer, sahih_pki::oids::OID_SHA1)
            {
                let req = sahih_pki::ocsp::OcspRequest {
                    certs: vec![id],
                    nonce: None,
                };
                for url in cert.ocsp_urls() {
                    if let Ok(der) = post_der(
                        &url,
                        "application/ocsp-request",
                        &req.to_der(),
                        self.timeout,
                    ) && let Ok(parsed) = sahih_pki::ocsp::parse_ocsp_response(&der)
                        && parsed.status == 0
                        && parsed.responder_authorised_for(&issuer)
                    {
                        if let Some(rc) = &parsed.responder_cert
                            && !data.certs.contains(&rc.der)
                        {
                            data.certs.push(rc.der.clone());
                        }
                        data.ocsps.push(der);
                        got_ocsp = true;
                        break;
                    }
                }
            }
            for url in cert.crl_urls() {
                if let Ok(der) = get_der(&url, self.timeout)
                    && let Ok(crl) = sahih_pki::crl::parse_crl(&der)
                    && crl.verify_signature(&issuer)
                {
                    if !data.crls.contains(&der) {
                        data.crls.push(der);
                    }
                    break;
                }
            }
            let _ = got_ocsp;
        }
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An `https` URL reaches the TLS handshake with the aws-lc-rs provider the agent names
    /// (without one, ureq would panic there). The peer hangs up, so the handshake fails with an
    /// error a person can read.
    #[test]
    fn https_reaches_the_handshake_with_the_aws_lc_provider() {
        let Ok(listener) = std::net::TcpListener::bind("127.0.0.1:0") else {
            panic!("no loopback port");
        };
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        std::thread::spawn(move || {
            for stream in listener.incoming().take(1) {
                drop(stream);
            }
        });
        let r = post_der(
            &format!("https://127.0.0.1:{port}/tsa"),
            "application/timestamp-query",
            b"\x30\x00",
            Duration::from_secs(5),
        );
        assert!(r.is_err(), "{r:?}");
    }
}
