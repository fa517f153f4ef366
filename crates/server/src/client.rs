//! HTTP clients of trust services: an RFC 3161 TSA at any URL (`--tsa URL`), and OCSP/CRL
//! fetching for certificates whose issuers publish them (used by `extend`).

use sahih_pades::{PadesError, Timestamper};
use std::time::Duration;

/// Default time limit of one trust-service request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
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

/// A TSA reached over HTTP (RFC 3161 section 3.4).
pub struct HttpTimestamper {
    pub url: String,
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
