//! AWS Signature Version 4 for the S3 store: the credentials and the signing of one request.
//!
//! Owns: [`S3Credentials`] (the secret key and session token are zeroized on drop and redacted
//! in `Debug`), the canonical request, the string to sign and the derived signing key. Every
//! input to a signature, the time included, is a parameter, so AWS's published examples are
//! reproduced exactly by the tests below.
//!
//! Must not know: HTTP, buckets or keys (the caller hands over the encoded path and headers).

use super::backend;
use aws_lc_rs::{digest, hmac};
use sahih_core::store::BlobError;
use std::fmt;
use time::OffsetDateTime;
use time::macros::format_description;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// SHA-256 of the empty payload (GET, DELETE).
pub(super) const EMPTY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

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
    /// They are checked when the store is built
    /// ([`S3BlobStore::new`](super::S3BlobStore::new)).
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

    /// The STS session token, sent as `x-amz-security-token` (and signed with the request).
    pub(super) fn session_token(&self) -> Option<&str> {
        self.session_token.as_ref().map(|t| t.0.as_str())
    }

    /// Checks what the signer and the headers need: done once, when the store is built.
    pub(super) fn check(&self) -> Result<(), BlobError> {
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

/// One request to sign. Everything that goes into the signature is an input, so the published
/// AWS examples can be reproduced exactly.
pub(super) struct SignRequest<'a> {
    pub(super) method: &'a str,
    /// The `Host` header value as sent (with `:port` when not the scheme default).
    pub(super) host: &'a str,
    /// The path, already URI-encoded once (S3 does not double-encode).
    pub(super) canonical_uri: &'a str,
    /// Raw (not encoded) query parameters.
    pub(super) query: &'a [(&'a str, &'a str)],
    /// Headers to sign besides `host` and `x-amz-date` (which the signer adds).
    pub(super) headers: &'a [(&'a str, &'a str)],
    /// Hex SHA-256 of the body (also sent as `x-amz-content-sha256`).
    pub(super) payload_hash: &'a str,
    pub(super) timestamp: OffsetDateTime,
    pub(super) region: &'a str,
    pub(super) service: &'a str,
}

pub(super) struct Signature {
    /// The `x-amz-date` value that was signed.
    pub(super) amz_date: String,
    /// The `Authorization` header value. Not secret-bearing, but never logged either.
    pub(super) authorization: String,
    #[cfg_attr(not(test), allow(dead_code))]
    signature: String,
}

/// URI-encodes per SigV4: unreserved characters stay, everything else is `%XX` (upper case).
pub(super) fn uri_encode(s: &str, keep_slash: bool) -> String {
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

pub(super) fn sha256_hex(data: &[u8]) -> String {
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

pub(super) fn sign_v4(
    req: &SignRequest<'_>,
    creds: &S3Credentials,
) -> Result<Signature, BlobError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    /// Signs a request of AWS's examples: bucket `examplebucket`, 2013-05-24, us-east-1, with
    /// the example keys (S3 docs, "Signature Calculations for the Authorization Header").
    fn example(
        method: &str,
        canonical_uri: &str,
        query: &[(&str, &str)],
        headers: &[(&str, &str)],
        payload_hash: &str,
    ) -> Signature {
        let creds = S3Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
        );
        let req = example_request(method, canonical_uri, query, headers, payload_hash);
        sign_v4(&req, &creds).unwrap()
    }

    fn example_request<'a>(
        method: &'a str,
        canonical_uri: &'a str,
        query: &'a [(&'a str, &'a str)],
        headers: &'a [(&'a str, &'a str)],
        payload_hash: &'a str,
    ) -> SignRequest<'a> {
        SignRequest {
            method,
            host: "examplebucket.s3.amazonaws.com",
            canonical_uri,
            query,
            headers,
            payload_hash,
            timestamp: datetime!(2013-05-24 00:00:00 UTC),
            region: "us-east-1",
            service: "s3",
        }
    }

    /// Example: GET Object.
    #[test]
    fn sigv4_get_object_example() {
        let headers = [
            ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA256),
        ];
        let req = example_request("GET", "/test.txt", &[], &headers, EMPTY_SHA256);
        let (canonical, signed) = canonical_request(&req, "20130524T000000Z");
        assert_eq!(
            canonical,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n\
             x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
             x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(signed, "host;range;x-amz-content-sha256;x-amz-date");
        let s = example("GET", "/test.txt", &[], &headers, EMPTY_SHA256);
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

    /// Example: GET Bucket Lifecycle (a query parameter without a value), and Example: Get
    /// Bucket (List Objects) (query parameters sorted by the signer).
    #[test]
    fn sigv4_bucket_query_examples() {
        let headers = [("x-amz-content-sha256", EMPTY_SHA256)];
        for (query, expected) in [
            (
                &[("lifecycle", "")][..],
                "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
            ),
            (
                &[("prefix", "J"), ("max-keys", "2")][..],
                "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
            ),
        ] {
            let s = example("GET", "/", query, &headers, EMPTY_SHA256);
            assert_eq!(s.signature, expected, "{query:?}");
        }
    }

    /// Example: PUT Object (an escaped `$` in the path, a signed Date header).
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
        let s = example("PUT", &uri, &[], &headers, &hash);
        assert_eq!(
            s.signature,
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
        );
    }
}
