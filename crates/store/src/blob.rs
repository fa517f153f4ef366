//! Blob (object) storage behind [`sahih_core::store::BlobStore`]: a local directory and any
//! S3-compatible bucket (path-style addressing, AWS Signature Version 4 signed here).
//!
//! Owns: object key validation, atomic local writes, SigV4 request signing, the S3 REST calls
//! PUT/GET/DELETE object and create bucket, and parsing blob store URLs
//! (`file:///path`, `/path`, `s3://bucket/prefix?endpoint=..&region=..`).
//!
//! Must not know: what the objects are (PDFs, evidence), SQL, or PDF/PKI cryptography. Secrets
//! (the secret access key, the session token) never appear in errors, logs or `Debug` output.

use aws_lc_rs::{digest, hmac};
use sahih_core::store::{BlobError, BlobStore};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use time::OffsetDateTime;
use time::macros::format_description;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Longest key accepted (the S3 limit, in bytes).
const MAX_KEY_LEN: usize = 1024;
/// Largest object `get` will read into memory from S3.
const MAX_OBJECT_BYTES: u64 = 512 * 1024 * 1024;
/// How much of an error response body is read to find the S3 `<Code>`.
const MAX_ERROR_BODY: u64 = 64 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
const DEFAULT_REGION: &str = "us-east-1";
/// SHA-256 of the empty payload (GET, DELETE).
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn backend(msg: impl Into<String>) -> BlobError {
    BlobError::Backend(msg.into())
}

/// Shows at most 80 characters of untrusted text in an error, escaped.
fn shown(s: &str) -> String {
    let cut: String = s.chars().take(80).collect();
    if cut.len() < s.len() {
        format!("{cut:?}...")
    } else {
        format!("{cut:?}")
    }
}

/// Checks that `key` is a safe relative object name: non-empty, at most 1024 bytes, ASCII
/// `[A-Za-z0-9._/-]`, no leading `/`, and no empty, `.` or `..` segment. The same names are then
/// valid file paths under a root and S3 keys that need no URI escaping.
pub fn validate_key(key: &str) -> Result<(), BlobError> {
    let invalid = |why: &str| Err(BlobError::InvalidKey(format!("{}: {why}", shown(key))));
    if key.is_empty() {
        return invalid("empty");
    }
    if key.len() > MAX_KEY_LEN {
        return invalid("longer than 1024 bytes");
    }
    if !key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
    {
        return invalid("only ASCII letters, digits and . _ / - are allowed");
    }
    if key.starts_with('/') {
        return invalid("leading /");
    }
    for segment in key.split('/') {
        match segment {
            "" => return invalid("empty path segment"),
            "." | ".." => return invalid("relative path segment"),
            _ => {}
        }
    }
    Ok(())
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, BlobError> + Send + 'static,
) -> Result<T, BlobError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| backend(format!("blocking task failed: {e}")))?
}

// ---------------------------------------------------------------------------------------------
// Local directory

/// Objects as files under `root` (key `signed/a.pdf` is `root/signed/a.pdf`).
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    /// Directory the keys are relative to; it and subdirectories are created (mode 0700) on write.
    pub root: PathBuf,
}

impl LocalBlobStore {
    /// A store under `root`; nothing is created before the first `put`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalBlobStore { root: root.into() }
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, BlobError> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }
}

fn io_err(path: &Path, e: std::io::Error) -> BlobError {
    backend(format!("{}: {e}", path.display()))
}

/// Write to a uniquely named temp file in the target directory, fsync, rename over the target,
/// fsync the directory: readers see the old or the new object, never a partial one.
fn put_file(path: &Path, bytes: &[u8]) -> Result<(), BlobError> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(backend(format!("{}: not a file path", path.display())));
    };
    private_dir(dir).map_err(|e| io_err(dir, e))?;
    let mut suffix = [0u8; 8];
    aws_lc_rs::rand::fill(&mut suffix).map_err(|_| backend("random generator failed"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", hex::encode(suffix)));
    let tmp = dir.join(tmp_name);
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        // Evidence and signed letters are personal data: owner only, whatever the umask.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        // Best effort: the temp file is ours and useless now.
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err(path, e));
    }
    sync_dir(dir).map_err(|e| io_err(dir, e))
}

/// Creates `dir` and its missing parents as owner-only directories.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Makes the rename durable (the directory entry lives in the directory).
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

impl BlobStore for LocalBlobStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), BlobError> {
        let path = self.path_of(key)?;
        blocking(move || put_file(&path, &bytes)).await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        let path = self.path_of(key)?;
        blocking(move || match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path, e)),
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        let path = self.path_of(key)?;
        blocking(move || match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&path, e)),
        })
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// Credentials

/// A secret string: zeroized on drop, redacted in `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// S3 credentials. The secret key and session token are zeroized on drop and never shown.
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
}

// ---------------------------------------------------------------------------------------------
// AWS Signature Version 4

/// One request to sign. Everything that goes into the signature is an input, so the published
/// AWS examples can be reproduced exactly.
struct SignRequest<'a> {
    method: &'a str,
    /// The `Host` header value as sent (with `:port` when not the scheme default).
    host: &'a str,
    /// The path, already URI-encoded once (S3 does not double-encode).
    canonical_uri: &'a str,
    /// Raw (not encoded) query parameters.
    query: &'a [(&'a str, &'a str)],
    /// Headers to sign besides `host` and `x-amz-date` (which the signer adds).
    headers: &'a [(&'a str, &'a str)],
    /// Hex SHA-256 of the body (also sent as `x-amz-content-sha256`).
    payload_hash: &'a str,
    timestamp: OffsetDateTime,
    region: &'a str,
    service: &'a str,
}

struct Signature {
    /// The `x-amz-date` value that was signed.
    amz_date: String,
    /// The `Authorization` header value. Not secret-bearing, but never logged either.
    authorization: String,
    #[cfg_attr(not(test), allow(dead_code))]
    signature: String,
}

/// URI-encodes per SigV4: unreserved characters stay, everything else is `%XX` (upper case).
fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data).as_ref())
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> hmac::Tag {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data)
}

/// The canonical request and the `SignedHeaders` list.
fn canonical_request(req: &SignRequest<'_>, amz_date: &str) -> (String, String) {
    let mut query: Vec<(String, String)> = req
        .query
        .iter()
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    query.sort();
    let query = query
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");

    let mut headers: Vec<(String, String)> = vec![
        ("host".to_owned(), req.host.trim().to_owned()),
        ("x-amz-date".to_owned(), amz_date.to_owned()),
    ];
    for (name, value) in req.headers {
        // Trim and collapse inner runs of spaces, as the spec asks.
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        headers.push((name.trim().to_ascii_lowercase(), value));
    }
    headers.sort();
    // Repeated names are joined with commas.
    let mut merged: Vec<(String, String)> = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        match merged.last_mut() {
            Some((last, joined)) if *last == name => {
                joined.push(',');
                joined.push_str(&value);
            }
            _ => merged.push((name, value)),
        }
    }
    let canonical_headers: String = merged.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let signed_headers = merged
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");

    let canonical = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method, req.canonical_uri, query, canonical_headers, signed_headers, req.payload_hash
    );
    (canonical, signed_headers)
}

fn sign_v4(req: &SignRequest<'_>, creds: &S3Credentials) -> Result<Signature, BlobError> {
    let utc = req.timestamp.to_offset(time::UtcOffset::UTC);
    let amz_date = utc
        .format(format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .map_err(|e| backend(format!("cannot format the request time: {e}")))?;
    let date = utc
        .format(format_description!("[year][month][day]"))
        .map_err(|e| backend(format!("cannot format the request time: {e}")))?;

    let (canonical, signed_headers) = canonical_request(req, &amz_date);
    let scope = format!("{date}/{}/{}/aws4_request", req.region, req.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    );

    let mut k_secret = Zeroizing::new(Vec::with_capacity(4 + creds.secret_access_key.0.len()));
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(creds.secret_access_key.0.as_bytes());
    let k_date = hmac_sha256(&k_secret, date.as_bytes());
    let k_region = hmac_sha256(k_date.as_ref(), req.region.as_bytes());
    let k_service = hmac_sha256(k_region.as_ref(), req.service.as_bytes());
    let k_signing = hmac_sha256(k_service.as_ref(), b"aws4_request");
    let signature = hex::encode(hmac_sha256(k_signing.as_ref(), string_to_sign.as_bytes()));

    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access_key_id
    );
    Ok(Signature {
        amz_date,
        authorization,
        signature,
    })
}

// ---------------------------------------------------------------------------------------------
// S3

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
        if let Some(token) = &self.credentials.session_token {
            headers.push(("x-amz-security-token", &token.0));
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

fn percent_decode(s: &str) -> Result<String, BlobError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(b) = hex else {
                return Err(backend("blob store URL: bad %-escape"));
            };
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| backend("blob store URL: %-escapes are not UTF-8"))
}

// ---------------------------------------------------------------------------------------------
// Either backend

/// The configured backend, chosen by URL at startup.
#[derive(Clone, Debug)]
pub enum AnyBlobStore {
    /// Files under a local directory.
    Local(LocalBlobStore),
    /// An S3-compatible bucket.
    S3(S3BlobStore),
}

impl AnyBlobStore {
    /// Accepts `file:///abs/path`, an absolute path, or an `s3://` URL
    /// (see [`S3BlobStore::from_url`]).
    pub fn from_url(url: &str) -> Result<AnyBlobStore, BlobError> {
        if url.starts_with("s3://") {
            return S3BlobStore::from_url(url).map(AnyBlobStore::S3);
        }
        let path = if let Some(rest) = url.strip_prefix("file://") {
            if rest.contains(['?', '#']) {
                return Err(backend("file URL: a query or fragment is not allowed"));
            }
            let rest = rest.strip_prefix("localhost").unwrap_or(rest);
            PathBuf::from(percent_decode(rest)?)
        } else if url.contains("://") {
            // Show only the scheme: the rest may hold something private.
            let scheme = url.split("://").next().unwrap_or_default();
            return Err(backend(format!(
                "unsupported blob store scheme {} (expected file://, s3:// or an absolute path)",
                shown(scheme)
            )));
        } else {
            PathBuf::from(url)
        };
        if !path.is_absolute() {
            return Err(backend(
                "a local blob store needs an absolute path (file:///abs/path or /abs/path)",
            ));
        }
        Ok(AnyBlobStore::Local(LocalBlobStore::new(path)))
    }

    /// A description for logs, without secrets.
    pub fn describe(&self) -> String {
        match self {
            AnyBlobStore::Local(l) => format!("file://{}", l.root.display()),
            AnyBlobStore::S3(s) => s.describe(),
        }
    }
}

impl BlobStore for AnyBlobStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), BlobError> {
        match self {
            AnyBlobStore::Local(s) => s.put(key, bytes).await,
            AnyBlobStore::S3(s) => s.put(key, bytes).await,
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        match self {
            AnyBlobStore::Local(s) => s.get(key).await,
            AnyBlobStore::S3(s) => s.get(key).await,
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        match self {
            AnyBlobStore::Local(s) => s.delete(key).await,
            AnyBlobStore::S3(s) => s.delete(key).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use time::macros::datetime;

    fn example_creds() -> S3Credentials {
        S3Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
        )
    }

    #[test]
    fn keys_are_validated() {
        for ok in ["a", "signed/abc.pdf", "a/b/c-d_e.f", "A9/.hidden", "x..y"] {
            assert!(validate_key(ok).is_ok(), "{ok}");
        }
        let too_long = "a".repeat(1025);
        for bad in [
            "",
            "/abs",
            "a//b",
            "a/",
            "../x",
            "a/../b",
            "a/./b",
            ".",
            "sp ace",
            "é",
            "a\\b",
            "a?b",
            "a%2f",
            too_long.as_str(),
        ] {
            assert!(
                matches!(validate_key(bad), Err(BlobError::InvalidKey(_))),
                "{bad:?}"
            );
        }
    }

    #[tokio::test]
    async fn local_round_trip() {
        let mut rnd = [0u8; 8];
        aws_lc_rs::rand::fill(&mut rnd).unwrap();
        let root = std::env::temp_dir().join(format!("sahih-blob-test-{}", hex::encode(rnd)));
        let store = LocalBlobStore::new(&root);

        assert_eq!(store.get("signed/a.pdf").await.unwrap(), None);
        store.put("signed/a.pdf", b"one".to_vec()).await.unwrap();
        assert_eq!(
            store.get("signed/a.pdf").await.unwrap().as_deref(),
            Some(&b"one"[..])
        );
        store.put("signed/a.pdf", b"two!".to_vec()).await.unwrap();
        assert_eq!(
            store.get("signed/a.pdf").await.unwrap().as_deref(),
            Some(&b"two!"[..])
        );
        // No temp files are left behind.
        let names: Vec<_> = std::fs::read_dir(root.join("signed"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.pdf")]);
        // Owner only, whatever the umask (evidence and signed letters are personal data).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode =
                |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&root.join("signed/a.pdf")), 0o600);
            assert_eq!(mode(&root.join("signed")), 0o700);
            assert_eq!(mode(&root), 0o700);
        }

        store.delete("signed/a.pdf").await.unwrap();
        assert_eq!(store.get("signed/a.pdf").await.unwrap(), None);
        store.delete("signed/a.pdf").await.unwrap();
        assert!(matches!(
            store.put("../escape", vec![]).await,
            Err(BlobError::InvalidKey(_))
        ));

        let any = AnyBlobStore::from_url(&format!("file://{}", root.display())).unwrap();
        any.put("e/1", b"x".to_vec()).await.unwrap();
        assert_eq!(store.get("e/1").await.unwrap().as_deref(), Some(&b"x"[..]));

        std::fs::remove_dir_all(&root).unwrap();
    }

    /// AWS S3 docs, "Signature Calculations for the Authorization Header", Example: GET Object.
    #[test]
    fn sigv4_get_object_example() {
        let headers = [
            ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA256),
        ];
        let req = SignRequest {
            method: "GET",
            host: "examplebucket.s3.amazonaws.com",
            canonical_uri: "/test.txt",
            query: &[],
            headers: &headers,
            payload_hash: EMPTY_SHA256,
            timestamp: datetime!(2013-05-24 00:00:00 UTC),
            region: "us-east-1",
            service: "s3",
        };
        let (canonical, signed) = canonical_request(&req, "20130524T000000Z");
        assert_eq!(
            canonical,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n\
             x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
             x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(signed, "host;range;x-amz-content-sha256;x-amz-date");
        let s = sign_v4(&req, &example_creds()).unwrap();
        assert_eq!(s.amz_date, "20130524T000000Z");
        assert_eq!(
            s.signature,
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
        assert_eq!(
            s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
             Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        );
    }

    /// Same docs, Example: GET Bucket Lifecycle (a query parameter without a value).
    #[test]
    fn sigv4_get_lifecycle_example() {
        let headers = [("x-amz-content-sha256", EMPTY_SHA256)];
        let req = SignRequest {
            method: "GET",
            host: "examplebucket.s3.amazonaws.com",
            canonical_uri: "/",
            query: &[("lifecycle", "")],
            headers: &headers,
            payload_hash: EMPTY_SHA256,
            timestamp: datetime!(2013-05-24 00:00:00 UTC),
            region: "us-east-1",
            service: "s3",
        };
        let s = sign_v4(&req, &example_creds()).unwrap();
        assert_eq!(
            s.signature,
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"
        );
    }

    /// Same docs, Example: Get Bucket (List Objects) (sorted query parameters).
    #[test]
    fn sigv4_list_objects_example() {
        let headers = [("x-amz-content-sha256", EMPTY_SHA256)];
        let req = SignRequest {
            method: "GET",
            host: "examplebucket.s3.amazonaws.com",
            canonical_uri: "/",
            query: &[("prefix", "J"), ("max-keys", "2")],
            headers: &headers,
            payload_hash: EMPTY_SHA256,
            timestamp: datetime!(2013-05-24 00:00:00 UTC),
            region: "us-east-1",
            service: "s3",
        };
        let s = sign_v4(&req, &example_creds()).unwrap();
        assert_eq!(
            s.signature,
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
        );
    }

    /// Same docs, Example: PUT Object (an escaped `$` in the path, a signed Date header).
    #[test]
    fn sigv4_put_object_example() {
        let body = b"Welcome to Amazon S3.";
        let hash = sha256_hex(body);
        assert_eq!(
            hash,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        );
        let headers = [
            ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", hash.as_str()),
        ];
        let uri = uri_encode("/test$file.text", true);
        assert_eq!(uri, "/test%24file.text");
        let req = SignRequest {
            method: "PUT",
            host: "examplebucket.s3.amazonaws.com",
            canonical_uri: &uri,
            query: &[],
            headers: &headers,
            payload_hash: &hash,
            timestamp: datetime!(2013-05-24 00:00:00 UTC),
            region: "us-east-1",
            service: "s3",
        };
        let s = sign_v4(&req, &example_creds()).unwrap();
        assert_eq!(
            s.signature,
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        );
    }

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
    fn any_urls() {
        assert!(matches!(
            AnyBlobStore::from_url("/var/lib/sahih/blobs"),
            Ok(AnyBlobStore::Local(_))
        ));
        let l = AnyBlobStore::from_url("file:///var/lib/sahih%20x").unwrap();
        assert_eq!(l.describe(), "file:///var/lib/sahih x");
        for bad in [
            "relative/dir",
            "file://relative",
            "http://secret@host/x",
            "",
        ] {
            let e = AnyBlobStore::from_url(bad).unwrap_err();
            assert!(!e.to_string().contains("secret"), "{e}");
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
