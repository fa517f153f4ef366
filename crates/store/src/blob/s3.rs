//! The S3 blob store: one bucket of any S3-compatible server, addressed path-style
//! (`{endpoint}/{bucket}/{prefix}{key}`), over blocking HTTP run off the async runtime.
//!
//! Owns: checking the configuration, `s3://` URLs (with the AWS environment variables as
//! fallbacks), the REST calls PUT/GET/DELETE object and create bucket, and reading S3 error
//! codes. Requests are signed by `super::sigv4`.
//!
//! Must not know: how a signature is computed, what the objects are, or any secret in an error
//! or `Debug` output.

use super::sigv4::{EMPTY_SHA256, S3Credentials, SignRequest, sha256_hex, sign_v4, uri_encode};
use super::{backend, blocking, percent_decode, shown, validate_key};
use sahih_core::store::{BlobError, BlobStore};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;

/// Largest object `get` will read into memory from S3.
const MAX_OBJECT_BYTES: u64 = 512 * 1024 * 1024;
/// How much of an error response body is read to find the S3 `<Code>`.
const MAX_ERROR_BODY: u64 = 64 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
const DEFAULT_REGION: &str = "us-east-1";

/// How to reach one bucket. `endpoint` is `http(s)://host[:port][/base]`; `prefix` is put in
/// front of every key (a `/` is added when missing).
#[derive(Clone, Debug)]
pub struct S3Config {
    /// Base URL `http(s)://host[:port][/base]`; no query, no credentials.
    pub endpoint: String,
    /// Bucket name (ASCII letters, digits, `.`, `-`, `_`), addressed path-style.
    pub bucket: String,
    /// Key prefix, may be empty.
    pub prefix: String,
    /// Region the requests are signed for, e.g. `us-east-1`.
    pub region: String,
    /// Keys that sign every request.
    pub credentials: S3Credentials,
}

/// An S3-compatible bucket, path-style (`{endpoint}/{bucket}/{prefix}{key}`). Cheap to clone.
#[derive(Clone)]
pub struct S3BlobStore {
    inner: Arc<S3Inner>,
}

struct S3Inner {
    agent: ureq::Agent,
    /// `scheme://authority` used to build request URLs.
    origin: String,
    /// The `Host` header, exactly as signed.
    host: String,
    /// Endpoint path without a trailing `/` (usually empty).
    base_path: String,
    bucket: String,
    prefix: String,
    region: String,
    credentials: S3Credentials,
}

impl fmt::Debug for S3BlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3BlobStore")
            .field("location", &self.describe())
            .finish_non_exhaustive()
    }
}

fn plain_path_chars(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/'))
}

/// Normalizes a key prefix: empty, or a valid key followed by `/`.
fn normalize_prefix(prefix: &str) -> Result<String, BlobError> {
    let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    validate_key(trimmed).map_err(|e| match e {
        BlobError::InvalidKey(m) => BlobError::InvalidKey(format!("key prefix {m}")),
        other => other,
    })?;
    Ok(format!("{trimmed}/"))
}

/// Extracts the S3 error `<Code>` from an XML error body (tiny search, not an XML parser).
fn s3_error_code(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let len = text[start..].find("</Code>")?;
    let code = text[start..start + len].trim();
    let plausible = !code.is_empty()
        && code.len() <= 64
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.');
    plausible.then(|| code.to_owned())
}

enum Method {
    Get,
    Put,
    Delete,
}

impl Method {
    fn as_str(&self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

struct S3Response {
    status: u16,
    body: Vec<u8>,
    /// The S3 `<Code>` of an error response.
    code: Option<String>,
}

impl S3Response {
    fn failure(&self, what: &str) -> BlobError {
        match &self.code {
            Some(code) => backend(format!("{what}: HTTP {} {code}", self.status)),
            None => backend(format!("{what}: HTTP {}", self.status)),
        }
    }
}

fn with_headers<B>(
    b: ureq::RequestBuilder<B>,
    headers: &[(&str, &str)],
) -> ureq::RequestBuilder<B> {
    headers
        .iter()
        .fold(b, |b, (name, value)| b.header(*name, *value))
}

impl S3Inner {
    fn label(&self, method: &Method, key: Option<&str>) -> String {
        match key {
            Some(key) => format!(
                "S3 {} s3://{}/{}{key}",
                method.as_str(),
                self.bucket,
                self.prefix
            ),
            None => format!("S3 {} bucket {}", method.as_str(), self.bucket),
        }
    }

    /// Sends one signed request; blocking. `path` is the URI-encoded path.
    fn send(
        &self,
        method: &Method,
        path: &str,
        body: &[u8],
        read_limit: u64,
        label: &str,
    ) -> Result<S3Response, BlobError> {
        let payload_hash = if body.is_empty() {
            EMPTY_SHA256.to_owned()
        } else {
            sha256_hex(body)
        };
        let mut headers: Vec<(&str, &str)> = vec![("x-amz-content-sha256", &payload_hash)];
        if let Some(token) = self.credentials.session_token() {
            headers.push(("x-amz-security-token", token));
        }
        let signed = sign_v4(
            &SignRequest {
                method: method.as_str(),
                host: &self.host,
                canonical_uri: path,
                query: &[],
                headers: &headers,
                payload_hash: &payload_hash,
                timestamp: OffsetDateTime::now_utc(),
                region: &self.region,
                service: "s3",
            },
            &self.credentials,
        )?;

        let url = format!("{}{path}", self.origin);
        // The Host header is set explicitly so that the one sent is the one signed.
        let mut all: Vec<(&str, &str)> = vec![
            ("host", &self.host),
            ("x-amz-date", &signed.amz_date),
            ("authorization", &signed.authorization),
        ];
        all.extend_from_slice(&headers);
        let sent = match method {
            Method::Get => with_headers(self.agent.get(&url), &all).call(),
            Method::Delete => with_headers(self.agent.delete(&url), &all).call(),
            Method::Put => with_headers(self.agent.put(&url), &all).send(body),
        };
        // ureq errors carry the URL at most, never request headers.
        let response = sent.map_err(|e| backend(format!("{label}: {e}")))?;
        let status = response.status().as_u16();
        let success = response.status().is_success();
        let limit = if success { read_limit } else { MAX_ERROR_BODY };
        let read = response
            .into_body()
            .with_config()
            .limit(limit)
            .read_to_vec();
        let body = match read {
            Ok(body) => body,
            Err(e) if success => return Err(backend(format!("{label}: reading the body: {e}"))),
            // The status already says it failed; the body only adds the code.
            Err(_) => Vec::new(),
        };
        let code = if success { None } else { s3_error_code(&body) };
        Ok(S3Response { status, body, code })
    }

    fn object_path(&self, key: &str) -> String {
        format!(
            "{}/{}/{}",
            self.base_path,
            self.bucket,
            uri_encode(&format!("{}{key}", self.prefix), true)
        )
    }
}

impl S3BlobStore {
    /// Checks the configuration (credentials, endpoint, bucket, region, prefix) and builds the
    /// client. Sends no request: a wrong endpoint or key shows on first use.
    pub fn new(config: S3Config) -> Result<S3BlobStore, BlobError> {
        let S3Config {
            endpoint,
            bucket,
            prefix,
            region,
            credentials,
        } = config;
        credentials.check()?;

        let uri: ureq::http::Uri = endpoint
            .parse()
            .map_err(|_| backend(format!("S3 endpoint {}: not a URL", shown(&endpoint))))?;
        let default_port = match uri.scheme_str() {
            Some("http") => 80,
            Some("https") => 443,
            _ => {
                return Err(backend(format!(
                    "S3 endpoint {}: must start with http:// or https://",
                    shown(&endpoint)
                )));
            }
        };
        let Some(authority) = uri.authority() else {
            return Err(backend(format!(
                "S3 endpoint {}: no host",
                shown(&endpoint)
            )));
        };
        if authority.as_str().contains('@') {
            return Err(backend(
                "S3 endpoint: credentials in the URL are not supported",
            ));
        }
        if uri.query().is_some() {
            return Err(backend(format!(
                "S3 endpoint {}: a query is not allowed",
                shown(&endpoint)
            )));
        }
        let host = match authority.port_u16() {
            Some(port) if port != default_port => format!("{}:{port}", authority.host()),
            _ => authority.host().to_owned(),
        };
        let base_path = uri.path().trim_end_matches('/').to_owned();
        if !plain_path_chars(&base_path) {
            return Err(backend(format!(
                "S3 endpoint {}: the path may only hold letters, digits and - . _ ~ /",
                shown(&endpoint)
            )));
        }
        let bucket_ok = !bucket.is_empty()
            && bucket.len() <= 255
            && bucket
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if !bucket_ok {
            return Err(backend(format!(
                "S3 bucket name {} is not valid",
                shown(&bucket)
            )));
        }
        let region_ok = !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
        if !region_ok {
            return Err(backend(format!(
                "S3 region {} is not valid",
                shown(&region)
            )));
        }
        let prefix = normalize_prefix(&prefix)?;

        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .unversioned_rustls_crypto_provider(std::sync::Arc::new(
                        rustls::crypto::aws_lc_rs::default_provider(),
                    ))
                    .build(),
            )
            .timeout_global(Some(REQUEST_TIMEOUT))
            .http_status_as_error(false)
            // A redirect would resend the signed request elsewhere; report it instead.
            .max_redirects(0)
            .build()
            .into();
        let origin = format!("{}://{}", uri.scheme_str().unwrap_or("https"), authority);
        Ok(S3BlobStore {
            inner: Arc::new(S3Inner {
                agent,
                origin,
                host,
                base_path,
                bucket,
                prefix,
                region,
                credentials,
            }),
        })
    }

    /// Reads `s3://bucket[/prefix]?endpoint=URL&region=NAME`; credentials come from
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and optional `AWS_SESSION_TOKEN`;
    /// `AWS_ENDPOINT_URL` and `AWS_REGION` apply when the query does not give them. Without any
    /// endpoint, AWS itself (`https://s3.{region}.amazonaws.com`) is used.
    pub fn from_url(url: &str) -> Result<S3BlobStore, BlobError> {
        Self::from_url_with_env(url, |name| {
            std::env::var(name).ok().filter(|v| !v.is_empty())
        })
    }

    fn from_url_with_env(
        url: &str,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<S3BlobStore, BlobError> {
        let Some(rest) = url.strip_prefix("s3://") else {
            return Err(backend("an S3 URL must start with s3://"));
        };
        if rest.contains('#') {
            return Err(backend("an S3 URL must not have a #fragment"));
        }
        let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (bucket, prefix) = location.split_once('/').unwrap_or((location, ""));
        if bucket.contains('@') || bucket.contains(':') {
            return Err(backend(
                "credentials in an S3 URL are not supported; use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            ));
        }
        let mut endpoint = None;
        let mut region = None;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = percent_decode(value)?;
            match name {
                "endpoint" => endpoint = Some(value),
                "region" => region = Some(value),
                other => {
                    return Err(backend(format!(
                        "S3 URL: unknown parameter {} (expected endpoint, region)",
                        shown(other)
                    )));
                }
            }
        }
        let region = region
            .or_else(|| env("AWS_REGION"))
            .unwrap_or_else(|| DEFAULT_REGION.to_owned());
        let endpoint = endpoint
            .or_else(|| env("AWS_ENDPOINT_URL"))
            .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
        let Some(access_key_id) = env("AWS_ACCESS_KEY_ID") else {
            return Err(backend("S3: AWS_ACCESS_KEY_ID is not set"));
        };
        let Some(secret) = env("AWS_SECRET_ACCESS_KEY") else {
            return Err(backend("S3: AWS_SECRET_ACCESS_KEY is not set"));
        };
        S3BlobStore::new(S3Config {
            endpoint,
            bucket: bucket.to_owned(),
            prefix: percent_decode(prefix)?,
            region,
            credentials: S3Credentials::new(access_key_id, secret, env("AWS_SESSION_TOKEN")),
        })
    }

    /// A description without secrets, e.g. `s3://bucket/prefix/ at http://127.0.0.1:9000`.
    pub fn describe(&self) -> String {
        let i = &self.inner;
        format!(
            "s3://{}/{} at {}{} (region {})",
            i.bucket, i.prefix, i.origin, i.base_path, i.region
        )
    }

    /// Creates the bucket (for setup and tests). A bucket we already own is not an error.
    pub async fn create_bucket(&self) -> Result<(), BlobError> {
        let inner = Arc::clone(&self.inner);
        blocking(move || {
            // Outside us-east-1, S3 wants the region in the body.
            let body = if inner.region == DEFAULT_REGION {
                String::new()
            } else {
                format!(
                    "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                     <LocationConstraint>{}</LocationConstraint></CreateBucketConfiguration>",
                    inner.region
                )
            };
            let path = format!("{}/{}", inner.base_path, inner.bucket);
            let label = inner.label(&Method::Put, None);
            let r = inner.send(&Method::Put, &path, body.as_bytes(), MAX_ERROR_BODY, &label)?;
            match (r.status, r.code.as_deref()) {
                (200..=299, _) => Ok(()),
                (409, Some("BucketAlreadyOwnedByYou")) => Ok(()),
                _ => Err(r.failure(&label)),
            }
        })
        .await
    }
}

impl BlobStore for S3BlobStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), BlobError> {
        validate_key(key)?;
        let inner = Arc::clone(&self.inner);
        let key = key.to_owned();
        blocking(move || {
            let label = inner.label(&Method::Put, Some(&key));
            let path = inner.object_path(&key);
            let r = inner.send(&Method::Put, &path, &bytes, MAX_ERROR_BODY, &label)?;
            if (200..=299).contains(&r.status) {
                Ok(())
            } else {
                Err(r.failure(&label))
            }
        })
        .await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        validate_key(key)?;
        let inner = Arc::clone(&self.inner);
        let key = key.to_owned();
        blocking(move || {
            let label = inner.label(&Method::Get, Some(&key));
            let path = inner.object_path(&key);
            let r = inner.send(&Method::Get, &path, &[], MAX_OBJECT_BYTES, &label)?;
            match (r.status, r.code.as_deref()) {
                (200, _) => Ok(Some(r.body)),
                // A missing bucket is a configuration error, not a missing object.
                (404, Some("NoSuchBucket")) => Err(r.failure(&label)),
                (404, _) => Ok(None),
                _ => Err(r.failure(&label)),
            }
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        validate_key(key)?;
        let inner = Arc::clone(&self.inner);
        let key = key.to_owned();
        blocking(move || {
            let label = inner.label(&Method::Delete, Some(&key));
            let path = inner.object_path(&key);
            let r = inner.send(&Method::Delete, &path, &[], MAX_ERROR_BODY, &label)?;
            match (r.status, r.code.as_deref()) {
                (200..=299, _) => Ok(()),
                (404, Some("NoSuchBucket")) => Err(r.failure(&label)),
                (404, _) => Ok(()),
                _ => Err(r.failure(&label)),
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::AnyBlobStore;
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn secrets_are_not_shown() {
        let creds = S3Credentials::new("AKIDEXAMPLE", "topsecret", Some("tok3n".into()));
        let store = S3BlobStore::new(S3Config {
            endpoint: "http://127.0.0.1:9000".into(),
            bucket: "docs".into(),
            prefix: "tenant/a".into(),
            region: "us-east-1".into(),
            credentials: creds.clone(),
        })
        .unwrap();
        for text in [
            format!("{creds:?}"),
            format!("{store:?}"),
            store.describe(),
            format!("{:?}", AnyBlobStore::S3(store.clone())),
        ] {
            assert!(
                !text.contains("topsecret") && !text.contains("tok3n"),
                "{text}"
            );
        }
        assert_eq!(
            store.describe(),
            "s3://docs/tenant/a/ at http://127.0.0.1:9000 (region us-east-1)"
        );
    }

    #[test]
    fn s3_urls_are_parsed() {
        let vars: HashMap<&str, &str> = [
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_REGION", "eu-west-3"),
            ("AWS_ENDPOINT_URL", "https://minio.example:9443/s3/"),
        ]
        .into_iter()
        .collect();
        let env = |k: &str| vars.get(k).map(|v| (*v).to_owned());

        let s = S3BlobStore::from_url_with_env(
            "s3://bucket/pre/fix?endpoint=http%3A%2F%2F127.0.0.1%3A9000&region=us-east-1",
            env,
        )
        .unwrap();
        assert_eq!(s.inner.host, "127.0.0.1:9000");
        assert_eq!(s.inner.origin, "http://127.0.0.1:9000");
        assert_eq!(s.inner.prefix, "pre/fix/");
        assert_eq!(s.inner.region, "us-east-1");
        assert_eq!(s.inner.object_path("k/x.pdf"), "/bucket/pre/fix/k/x.pdf");

        // Environment fallbacks; default ports are not part of the Host header.
        let s = S3BlobStore::from_url_with_env("s3://bucket", env).unwrap();
        assert_eq!(s.inner.host, "minio.example:9443");
        assert_eq!(s.inner.base_path, "/s3");
        assert_eq!(s.inner.region, "eu-west-3");
        assert_eq!(s.inner.prefix, "");
        assert_eq!(s.inner.object_path("k"), "/s3/bucket/k");
        let s = S3BlobStore::from_url_with_env("s3://b?endpoint=https://h:443", env).unwrap();
        assert_eq!(s.inner.host, "h");

        let no_env = |_: &str| None;
        assert!(S3BlobStore::from_url_with_env("s3://bucket", no_env).is_err());
        for bad in [
            "s3://bucket?endpoint=ftp://x",
            "s3://bucket?foo=bar",
            "s3://user:pw@bucket",
            "s3://bucket/../x",
            "s3://bu/cket//x",
            "s3://?endpoint=http://h",
        ] {
            let e = S3BlobStore::from_url_with_env(bad, env).unwrap_err();
            assert!(!e.to_string().contains("pw"), "{e}");
        }
    }

    #[test]
    fn error_codes_are_extracted() {
        let xml = b"<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code>\
                    <Message>...</Message></Error>";
        assert_eq!(s3_error_code(xml).as_deref(), Some("SignatureDoesNotMatch"));
        assert_eq!(s3_error_code(b"<Code>a b</Code>"), None);
        assert_eq!(s3_error_code(b"nothing"), None);
    }
}
