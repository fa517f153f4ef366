//! The S3 blob store: one bucket of any S3-compatible server, addressed path-style
//! (`{endpoint}/{bucket}/{prefix}{key}`), through the `object_store` crate (Apache Arrow), which
//! signs every request with SigV4, retries what may be retried, and streams: objects above
//! [`PART_SIZE`] go up as a multipart upload and come down as a stream of chunks.
//!
//! Owns: checking the configuration, `s3://` URLs (with the AWS environment variables as
//! fallbacks), [`S3Credentials`] (zeroized on drop, redacted in `Debug`), creating the bucket,
//! and turning the crate's errors into short ones that name the HTTP status and S3 `<Code>`.
//!
//! Must not know: how a signature is computed, what the objects are, or any secret in an error
//! or `Debug` output.

use super::local::create_private;
use super::{backend, percent_decode, shown, validate_key};
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder, AwsAuthorizer, AwsCredential};
use object_store::client::{HttpClient, HttpConnector, HttpRequestBody, ReqwestConnector};
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStoreExt, PutPayload, RetryConfig, WriteMultipart};
use sahih_core::store::{BlobError, BlobStore};
use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Largest object `get` will read into memory (`get_to_file` has no limit).
const MAX_OBJECT_BYTES: u64 = 512 * 1024 * 1024;
/// Files up to this size go up in one PUT; larger ones in parts of this size (S3's minimum
/// part is 5 MiB). With [`PARTS_IN_FLIGHT`], bounds the memory an upload holds.
const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts uploaded concurrently.
const PARTS_IN_FLIGHT: usize = 2;
/// How much of a file is read at a time.
const READ_CHUNK: usize = 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
/// A store that does not answer fails within this, retries included.
const RETRY_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_REGION: &str = "us-east-1";

/// A secret string: zeroized on drop, redacted in `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// S3 credentials. The secret key and session token are zeroized on drop and never shown.
/// (The `object_store` client keeps its own copy for signing, which it does not zeroize.)
#[derive(Clone, Debug)]
pub struct S3Credentials {
    access_key_id: String,
    secret_access_key: Secret,
    session_token: Option<Secret>,
}

impl S3Credentials {
    /// Credentials from an access key id, its secret key and an optional STS session token.
    /// They are checked when the store is built ([`S3BlobStore::new`]).
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        S3Credentials {
            access_key_id: access_key_id.into(),
            secret_access_key: Secret(secret_access_key.into()),
            session_token: session_token.map(Secret),
        }
    }

    /// The access key id (not secret: it is sent in the SigV4 `Credential=` field).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// Checks what signing and the headers need: done once, when the store is built.
    fn check(&self) -> Result<(), BlobError> {
        // The key id goes into the `Credential=` field, where `/`, `,` and spaces are separators.
        let id_ok = !self.access_key_id.is_empty()
            && self
                .access_key_id
                .bytes()
                .all(|b| b.is_ascii_graphic() && !matches!(b, b'/' | b','));
        if !id_ok {
            return Err(backend("the S3 access key id is empty or malformed"));
        }
        if self.secret_access_key.0.is_empty() {
            return Err(backend("the S3 secret access key is empty"));
        }
        if let Some(token) = &self.session_token
            && (token.0.is_empty() || !token.0.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(backend("the S3 session token is empty or malformed"));
        }
        Ok(())
    }

    fn for_signing(&self) -> AwsCredential {
        AwsCredential {
            key_id: self.access_key_id.clone(),
            secret_key: self.secret_access_key.0.clone(),
            token: self.session_token.as_ref().map(|t| t.0.clone()),
        }
    }
}

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
    store: AmazonS3,
    /// For the one call `object_store` does not make: creating the bucket.
    http: HttpClient,
    /// `scheme://host[:port]`, a default port left out.
    origin: String,
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

/// The text of an error and all its sources.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// The HTTP status an `object_store` error reports ("... status code: 403 Forbidden ...").
fn http_status(text: &str) -> Option<u16> {
    let at = text.find("status code: ")? + "status code: ".len();
    text.get(at..at + 3)?.parse().ok()
}

/// What went wrong, in a few words: the HTTP status and S3 code when the server answered, or
/// the transport error (cut short) when it did not. The crate's errors carry the URL and the
/// response body, never request headers; only the `<Code>` of a body is kept.
fn failure(label: &str, e: &object_store::Error) -> BlobError {
    let text = chain(e);
    let code = s3_error_code(text.as_bytes());
    match (http_status(&text), code) {
        (Some(status), Some(code)) => backend(format!("{label}: HTTP {status} {code}")),
        (Some(status), None) => backend(format!("{label}: HTTP {status}")),
        (None, _) => {
            let cut: String = text.chars().take(300).collect();
            backend(format!("{label}: {cut}"))
        }
    }
}

/// A missing bucket is a configuration error, not a missing object.
fn is_missing_bucket(e: &object_store::Error) -> bool {
    s3_error_code(chain(e).as_bytes()).as_deref() == Some("NoSuchBucket")
}

fn io_failure(label: &str, path: &Path, e: std::io::Error) -> BlobError {
    backend(format!("{label}: {}: {e}", path.display()))
}

impl S3Inner {
    fn label(&self, method: &str, key: &str) -> String {
        format!("S3 {method} s3://{}/{}{key}", self.bucket, self.prefix)
    }

    /// The object's path in the bucket: the prefix and the (validated) key.
    fn object_path(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn location(&self, key: &str) -> Result<ObjectPath, BlobError> {
        validate_key(key)?;
        ObjectPath::parse(self.object_path(key))
            .map_err(|e| BlobError::InvalidKey(format!("{}: {e}", shown(key))))
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

        let uri: http::Uri = endpoint
            .parse()
            .map_err(|_| backend(format!("S3 endpoint {}: not a URL", shown(&endpoint))))?;
        let (scheme, default_port) = match uri.scheme_str() {
            Some("http") => ("http", 80),
            Some("https") => ("https", 443),
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
        let origin = format!("{scheme}://{host}");

        let options = ClientOptions::new()
            .with_allow_http(scheme == "http")
            .with_connect_timeout(CONNECT_TIMEOUT)
            .with_timeout(REQUEST_TIMEOUT);
        let retry = RetryConfig {
            max_retries: 2,
            retry_timeout: RETRY_TIMEOUT,
            ..RetryConfig::default()
        };
        let mut builder = AmazonS3Builder::new()
            .with_endpoint(format!("{origin}{base_path}"))
            .with_bucket_name(&bucket)
            .with_region(&region)
            .with_access_key_id(&credentials.access_key_id)
            .with_secret_access_key(&credentials.secret_access_key.0)
            .with_virtual_hosted_style_request(false)
            .with_client_options(options.clone())
            .with_retry(retry);
        if let Some(token) = &credentials.session_token {
            builder = builder.with_token(&token.0);
        }
        let store = builder
            .build()
            .map_err(|e| backend(format!("S3 configuration: {}", chain(&e))))?;
        let http = ReqwestConnector::default()
            .connect(&options)
            .map_err(|e| backend(format!("S3 HTTP client: {}", chain(&e))))?;
        Ok(S3BlobStore {
            inner: Arc::new(S3Inner {
                store,
                http,
                origin,
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

    /// The bucket's URL, path-style.
    fn bucket_url(&self) -> String {
        let i = &self.inner;
        format!("{}{}/{}", i.origin, i.base_path, i.bucket)
    }

    /// Creates the bucket (for setup and tests). A bucket we already own is not an error.
    /// `object_store` has no call for this, so the request is built here and signed by the
    /// crate's own SigV4 signer.
    pub async fn create_bucket(&self) -> Result<(), BlobError> {
        let inner = &self.inner;
        let label = format!("S3 PUT bucket {}", inner.bucket);
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
        let mut request = http::Request::builder()
            .method(http::Method::PUT)
            .uri(self.bucket_url())
            .body(HttpRequestBody::from(body))
            .map_err(|e| backend(format!("{label}: {e}")))?;
        let credential = inner.credentials.for_signing();
        AwsAuthorizer::new(&credential, "s3", &inner.region)
            .try_authorize(&mut request, None)
            .map_err(|e| failure(&label, &e))?;
        let response = inner
            .http
            .execute(request)
            .await
            .map_err(|e| backend(format!("{label}: {}", chain(&e))))?;
        let status = response.status().as_u16();
        if (200..=299).contains(&status) {
            return Ok(());
        }
        // The status already says it failed; the body only adds the code.
        let body = response.into_body().bytes().await.unwrap_or_default();
        match (status, s3_error_code(&body).as_deref()) {
            (409, Some("BucketAlreadyOwnedByYou")) => Ok(()),
            (_, Some(code)) => Err(backend(format!("{label}: HTTP {status} {code}"))),
            (_, None) => Err(backend(format!("{label}: HTTP {status}"))),
        }
    }
}

impl S3BlobStore {
    /// Starts reading an object: `None` when it does not exist (a missing bucket is an error).
    async fn open(
        &self,
        key: &str,
        label: &str,
    ) -> Result<Option<object_store::GetResult>, BlobError> {
        let location = self.inner.location(key)?;
        match self.inner.store.get(&location).await {
            Ok(found) => Ok(Some(found)),
            Err(e @ object_store::Error::NotFound { .. }) if !is_missing_bucket(&e) => Ok(None),
            Err(e) => Err(failure(label, &e)),
        }
    }
}

impl BlobStore for S3BlobStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), BlobError> {
        let location = self.inner.location(key)?;
        self.inner
            .store
            .put(&location, PutPayload::from(bytes))
            .await
            .map_err(|e| failure(&self.inner.label("PUT", key), &e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        let label = self.inner.label("GET", key);
        let Some(found) = self.open(key, &label).await? else {
            return Ok(None);
        };
        if found.meta.size > MAX_OBJECT_BYTES {
            return Err(backend(format!(
                "{label}: {} bytes is more than {MAX_OBJECT_BYTES} to hold in memory",
                found.meta.size
            )));
        }
        let bytes = found.bytes().await.map_err(|e| failure(&label, &e))?;
        Ok(Some(Vec::from(bytes)))
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        let location = self.inner.location(key)?;
        match self.inner.store.delete(&location).await {
            Ok(()) => Ok(()),
            Err(e @ object_store::Error::NotFound { .. }) if !is_missing_bucket(&e) => Ok(()),
            Err(e) => Err(failure(&self.inner.label("DELETE", key), &e)),
        }
    }

    async fn put_file(&self, key: &str, source: &Path) -> Result<u64, BlobError> {
        let location = self.inner.location(key)?;
        let label = self.inner.label("PUT", key);
        let mut file = tokio::fs::File::open(source)
            .await
            .map_err(|e| io_failure(&label, source, e))?;
        let size = file
            .metadata()
            .await
            .map_err(|e| io_failure(&label, source, e))?
            .len();
        let store = &self.inner.store;
        if size <= PART_SIZE as u64 {
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            file.read_to_end(&mut bytes)
                .await
                .map_err(|e| io_failure(&label, source, e))?;
            let n = bytes.len() as u64;
            store
                .put(&location, PutPayload::from(bytes))
                .await
                .map_err(|e| failure(&label, &e))?;
            return Ok(n);
        }
        let upload = store
            .put_multipart(&location)
            .await
            .map_err(|e| failure(&label, &e))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut buf = vec![0u8; READ_CHUNK];
        let mut sent = 0u64;
        let copied: Result<(), BlobError> = async {
            loop {
                let n = file
                    .read(&mut buf)
                    .await
                    .map_err(|e| io_failure(&label, source, e))?;
                if n == 0 {
                    return Ok(());
                }
                // Back-pressure: at most PARTS_IN_FLIGHT parts wait for the network.
                writer
                    .wait_for_capacity(PARTS_IN_FLIGHT)
                    .await
                    .map_err(|e| failure(&label, &e))?;
                writer.write(&buf[..n]);
                sent += n as u64;
            }
        }
        .await;
        if let Err(e) = copied {
            // Best effort: the parts already sent are useless, and S3 keeps them until aborted.
            let _ = writer.abort().await;
            return Err(e);
        }
        writer.finish().await.map_err(|e| failure(&label, &e))?;
        Ok(sent)
    }

    async fn get_to_file(&self, key: &str, target: &Path) -> Result<Option<u64>, BlobError> {
        let label = self.inner.label("GET", key);
        let Some(found) = self.open(key, &label).await? else {
            return Ok(None);
        };
        let file = create_private(target).map_err(|e| io_failure(&label, target, e))?;
        let mut file = tokio::fs::File::from_std(file);
        let mut stream = found.into_stream();
        let mut written = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| failure(&label, &e))?;
            file.write_all(&chunk)
                .await
                .map_err(|e| io_failure(&label, target, e))?;
            written += chunk.len() as u64;
        }
        file.flush()
            .await
            .map_err(|e| io_failure(&label, target, e))?;
        Ok(Some(written))
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
        assert_eq!(s.inner.origin, "http://127.0.0.1:9000");
        assert_eq!(s.inner.prefix, "pre/fix/");
        assert_eq!(s.inner.region, "us-east-1");
        assert_eq!(s.inner.object_path("k/x.pdf"), "pre/fix/k/x.pdf");
        assert_eq!(s.bucket_url(), "http://127.0.0.1:9000/bucket");

        // Environment fallbacks; default ports are not part of the Host header.
        let s = S3BlobStore::from_url_with_env("s3://bucket", env).unwrap();
        assert_eq!(s.inner.origin, "https://minio.example:9443");
        assert_eq!(s.inner.base_path, "/s3");
        assert_eq!(s.inner.region, "eu-west-3");
        assert_eq!(s.inner.prefix, "");
        assert_eq!(s.inner.object_path("k"), "k");
        assert_eq!(s.bucket_url(), "https://minio.example:9443/s3/bucket");
        let s = S3BlobStore::from_url_with_env("s3://b?endpoint=https://h:443", env).unwrap();
        assert_eq!(s.inner.origin, "https://h");

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
