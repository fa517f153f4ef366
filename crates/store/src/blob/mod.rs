//! Blob (object) storage behind [`sahih_core::store::BlobStore`]: a local directory and any
//! S3-compatible bucket (path-style addressing, through the `object_store` crate).
//!
//! Owns: the backend chosen by URL ([`AnyBlobStore`]), object key validation, and what the
//! backends share (error wording, running blocking I/O off the runtime, `%`-decoding URLs).
//! The backends live in `local` (atomic, durable, owner-only file writes, which `object_store`'s
//! local backend does not offer) and `s3` (`s3://` URLs, credentials, errors).
//!
//! Must not know: what the objects are (PDFs, evidence), SQL, or PDF/PKI cryptography. Secrets
//! (the secret access key, the session token) never appear in errors, logs or `Debug` output.

mod local;
mod s3;

pub use local::LocalBlobStore;
pub use s3::{S3BlobStore, S3Config, S3Credentials};

use sahih_core::store::{BlobError, BlobStore};
use std::path::PathBuf;

/// Longest key accepted (the S3 limit, in bytes).
const MAX_KEY_LEN: usize = 1024;

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

/// Runs file I/O on the blocking pool: the local backend blocks, the callers are async.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, BlobError> + Send + 'static,
) -> Result<T, BlobError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| backend(format!("blocking task failed: {e}")))?
}

/// Decodes `%XX` escapes of a blob store URL (a `file://` path, an `s3://` prefix or query value).
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

    async fn put_file(&self, key: &str, path: &std::path::Path) -> Result<u64, BlobError> {
        match self {
            AnyBlobStore::Local(s) => s.put_file(key, path).await,
            AnyBlobStore::S3(s) => s.put_file(key, path).await,
        }
    }

    async fn get_to_file(
        &self,
        key: &str,
        path: &std::path::Path,
    ) -> Result<Option<u64>, BlobError> {
        match self {
            AnyBlobStore::Local(s) => s.get_to_file(key, path).await,
            AnyBlobStore::S3(s) => s.get_to_file(key, path).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
