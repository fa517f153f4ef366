//! JSON request bodies that carry whole documents as base64 strings (ECS v2 `file`), decoded
//! with memory bounded by the body itself (security finding 5: a 100 MiB body cost 3.5-4.3x its
//! size: the body, a parsed copy of each string, a cleaned copy, then the decoded bytes).
//!
//! The body is read once into one buffer. Parsing records where each file's JSON string lies
//! in that buffer ([`FileSpan`]) instead of copying it; the files are then decoded in place,
//! front to back, into the same buffer (decoded data is shorter than its base64), so a
//! one-file request never needs more than the body's own size.
//!
//! Owns: reading such bodies, the spans and the in-place decoder. Must not know: what the
//! requests mean.

use crate::Shared;
use crate::error::{EcsError, too_large};
use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use base64::Engine;
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

/// Where one JSON value lies in the body buffer: its address while parsing, rebased to an
/// offset by [`JsonWithFiles::take_files`].
#[derive(Debug, Clone, Copy)]
pub struct FileSpan {
    address: usize,
    len: usize,
}

impl<'de> Deserialize<'de> for FileSpan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Borrowed from the buffer being parsed: no copy of the (possibly huge) string.
        let raw: &'de RawValue = Deserialize::deserialize(d)?;
        let text = raw.get();
        Ok(Self {
            address: text.as_ptr() as usize,
            len: text.len(),
        })
    }
}

/// A JSON body parsed into `T`, with the buffer its [`FileSpan`]s point into.
pub struct JsonWithFiles<T> {
    /// The parsed body; its file fields are spans into the buffer.
    pub value: T,
    buffer: Vec<u8>,
}

impl<T: DeserializeOwned> FromRequest<Shared> for JsonWithFiles<T> {
    type Rejection = EcsError;

    async fn from_request(req: Request, state: &Shared) -> Result<Self, EcsError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                // Also `application/*+json`, as axum's `Json` accepts.
                crate::http::csrf::is_json(ct)
                    || ct
                        .split(';')
                        .next()
                        .is_some_and(|m| m.trim().to_ascii_lowercase().ends_with("+json"))
            });
        if !json {
            return Err(EcsError::invalid("Content-Type harus application/json"));
        }
        let limit = state.sahih.config.server.max_body_bytes();
        let buffer = read_body(req.into_body(), limit).await?;
        let value = serde_json::from_slice::<T>(&buffer)
            .map_err(|e| EcsError::invalid(format!("Body JSON tidak valid: {e}")))?;
        Ok(Self { value, buffer })
    }
}

/// Reads the body into one buffer of at most `limit` bytes (413 beyond).
async fn read_body(body: Body, limit: usize) -> Result<Vec<u8>, EcsError> {
    let mut body = body;
    let hint = usize::try_from(http_body::Body::size_hint(&body).lower()).unwrap_or(usize::MAX);
    if hint > limit {
        return Err(too_large());
    }
    // Content-Length, when given, sizes the buffer once (no doubling while it grows).
    let mut buffer = Vec::with_capacity(hint);
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|_| EcsError::invalid("Body permintaan tidak terbaca sampai habis"))?;
        if let Ok(data) = frame.into_data() {
            if buffer.len().saturating_add(data.len()) > limit {
                return Err(too_large());
            }
            buffer.extend_from_slice(&data);
        }
    }
    Ok(buffer)
}

impl<T> JsonWithFiles<T> {
    /// Decodes the base64 strings at `spans` (in body order), consuming the buffer; `field`
    /// names them in errors ("file" gives "file\[0\]", ...).
    pub fn take_files(
        self,
        spans: &[FileSpan],
        field: &str,
    ) -> Result<(T, Vec<Vec<u8>>), EcsError> {
        let Self { value, mut buffer } = self;
        let base = buffer.as_ptr() as usize;
        let mut decoded = Vec::with_capacity(spans.len());
        let mut write = 0usize;
        for (i, span) in spans.iter().enumerate() {
            let bad = || EcsError::invalid(format!("{field}[{i}] bukan base64 yang valid"));
            let start = span
                .address
                .checked_sub(base)
                .filter(|s| s.saturating_add(span.len) <= buffer.len() && *s >= write)
                .ok_or_else(bad)?;
            let n = decode_in_place(&mut buffer, start, start + span.len, write).ok_or_else(bad)?;
            decoded.push(write..write + n);
            write += n;
        }
        // The first file keeps the buffer itself; only later files are copied out.
        let mut files: Vec<Vec<u8>> = decoded
            .iter()
            .skip(1)
            .map(|r| buffer.get(r.clone()).unwrap_or_default().to_vec())
            .collect();
        if let Some(first) = decoded.first() {
            buffer.truncate(first.end);
            files.insert(0, buffer);
        }
        Ok((value, files))
    }
}

/// For the fuzzer (`fuzz/entries.rs`) and its smoke test: reads `body` as a v2 sign body the
/// way [`JsonWithFiles`] does, decodes its files in place, and checks every file against serde's
/// own reading of the same string decoded by the `base64` crate. Panics only on a disagreement
/// (a bug), never on bad input.
#[doc(hidden)]
pub fn check_files_against_serde(body: &[u8]) {
    #[derive(Deserialize)]
    struct Spans {
        #[serde(default)]
        file: Vec<FileSpan>,
    }
    #[derive(Deserialize)]
    struct Texts {
        #[serde(default)]
        file: Vec<String>,
    }
    // Parsed from the buffer that is then kept: the spans point into it.
    let buffer = body.to_vec();
    let Ok(value) = serde_json::from_slice::<Spans>(&buffer) else {
        return;
    };
    let spans = value.file.clone();
    let parsed = JsonWithFiles { value, buffer };
    let Ok((_, files)) = parsed.take_files(&spans, "file") else {
        return;
    };
    assert_eq!(files.len(), spans.len(), "one decoded file per span");
    let Ok(texts) = serde_json::from_slice::<Texts>(body) else {
        return;
    };
    for (i, (text, got)) in texts.file.iter().zip(&files).enumerate() {
        if let Some(expected) = reference_decode(text) {
            assert!(&expected == got, "file[{i}]: in-place decoding differs");
        }
    }
}

/// What [`decode_in_place`] means to accept, said plainly: an optional `data:...,` prefix,
/// whitespace anywhere, standard base64 with or without padding.
fn reference_decode(text: &str) -> Option<Vec<u8>> {
    let rest = match text.strip_prefix("data:") {
        Some(r) => r.split_once(',')?.1,
        None => text,
    };
    let compact: Vec<u8> = rest.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine.decode(compact).ok()
}

/// Decodes the JSON string token `buf[start..end]` (quotes included) as base64 into
/// `buf[write..]`; returns the decoded length. `write <= start`, so output never overtakes
/// input. Accepts what clients send: line breaks, JSON escapes (`\/` from PHP, `\n`,
/// `\u002F`), a `data:...;base64,` prefix, and missing padding.
fn decode_in_place(buf: &mut [u8], start: usize, end: usize, write: usize) -> Option<usize> {
    const CHUNK: usize = 4096; // base64 characters per step: a multiple of 4
    let token = buf.get(start..end)?;
    if token.len() < 2 || token.first() != Some(&b'"') || token.last() != Some(&b'"') {
        return None;
    }
    let mut read = start + 1;
    let stop = end - 1;
    if buf.get(read..stop)?.starts_with(b"data:") {
        let comma = buf.get(read..stop)?.iter().position(|b| *b == b',')?;
        read += comma + 1;
    }
    let mut chunk = [0u8; CHUNK];
    let mut out = [0u8; CHUNK / 4 * 3];
    let mut pending = 0usize;
    let first = write;
    let mut write = write;
    let mut padded = false;
    let flush = |chunk: &[u8], out: &mut [u8], buf: &mut [u8], write: &mut usize| -> Option<()> {
        let n = base64::engine::general_purpose::STANDARD_NO_PAD
            .decode_slice(trim_padding(chunk), out)
            .ok()?;
        buf.get_mut(*write..*write + n)?
            .copy_from_slice(out.get(..n)?);
        *write += n;
        Some(())
    };
    while read < stop {
        let mut c = *buf.get(read)?;
        read += 1;
        if c == b'\\' {
            let e = *buf.get(read)?;
            read += 1;
            c = match e {
                b'/' => b'/',
                b'n' | b'r' | b't' => continue,
                b'u' => {
                    let hex = std::str::from_utf8(buf.get(read..read + 4)?).ok()?;
                    read += 4;
                    u8::try_from(u32::from_str_radix(hex, 16).ok()?).ok()?
                }
                _ => return None,
            };
        }
        if c.is_ascii_whitespace() {
            continue;
        }
        if padded && c != b'=' {
            return None; // data after the padding
        }
        padded = c == b'=';
        *chunk.get_mut(pending)? = c;
        pending += 1;
        if pending == CHUNK {
            flush(&chunk, &mut out, buf, &mut write)?;
            pending = 0;
        }
    }
    if pending > 0 {
        flush(chunk.get(..pending)?, &mut out, buf, &mut write)?;
    }
    Some(write - first)
}

/// The characters before the padding; at most two `=`, only at the end of a 4-group.
fn trim_padding(chunk: &[u8]) -> &[u8] {
    let data = chunk.len() - chunk.iter().rev().take_while(|b| **b == b'=').count();
    let pad = chunk.len() - data;
    if pad == 0 || (pad <= 2 && chunk.len().is_multiple_of(4)) {
        &chunk[..data]
    } else {
        // Malformed padding: leave it in so the decoder refuses the chunk.
        chunk
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(token: &str) -> Option<Vec<u8>> {
        // Two bytes already written before the token: the output starts there.
        let mut buf = format!("{{\"file\":[{token}]}}").into_bytes();
        let start = 9;
        let end = start + token.len();
        let n = decode_in_place(&mut buf, start, end, 2)?;
        Some(buf[2..2 + n].to_vec())
    }

    #[test]
    fn decodes_what_clients_send() {
        let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&data);
        assert_eq!(decode(&format!("\"{b64}\"")).unwrap(), data);
        // PHP's json_encode escapes every slash; Java wraps lines at 76.
        assert_eq!(
            decode(&format!("\"{}\"", b64.replace('/', "\\/"))).unwrap(),
            data
        );
        let wrapped: Vec<String> = b64
            .as_bytes()
            .chunks(76)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        assert_eq!(
            decode(&format!("\"{}\"", wrapped.join("\\r\\n"))).unwrap(),
            data
        );
        assert_eq!(
            decode(&format!("\"{}\"", b64.replace('+', "\\u002B"))).unwrap(),
            data
        );
        assert_eq!(
            decode(&format!("\"data:application/pdf;base64,{b64}\"")).unwrap(),
            data
        );
        assert_eq!(
            decode(&format!("\"{}\"", b64.trim_end_matches('='))).unwrap(),
            data
        );
        assert_eq!(decode("\"\"").unwrap(), Vec::<u8>::new());
        assert_eq!(decode("\"TWE=\"").unwrap(), b"Ma");
    }

    #[test]
    fn refuses_what_is_not_base64() {
        for bad in [
            "123",
            "null",
            "\"TWE=TWE=\"",
            "\"TW===\"",
            "\"T\"",
            "\"TWE*\"",
            "\"\\x41\"",
            "\"TW\\u00e9\"",
            "[\"TWE=\"]",
        ] {
            assert!(decode(bad).is_none(), "{bad} was accepted");
        }
    }

    #[test]
    fn several_files_decode_front_to_back_in_one_buffer() {
        #[derive(Deserialize)]
        struct Req {
            file: Vec<FileSpan>,
            nik: String,
        }
        let a: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let b: Vec<u8> = (0..7001u32).map(|i| (i % 13) as u8).collect();
        let e = |d: &[u8]| base64::engine::general_purpose::STANDARD.encode(d);
        let body = format!(
            "{{\"nik\":\"317\",\"file\":[\"{}\", \"{}\"]}}",
            e(&a).replace('/', "\\/"),
            e(&b)
        );
        let buffer = body.into_bytes();
        let value: Req = serde_json::from_slice(&buffer).unwrap();
        let spans = value.file.clone();
        let parsed = JsonWithFiles { value, buffer };
        let (value, files) = parsed.take_files(&spans, "file").unwrap();
        assert_eq!(value.nik, "317");
        assert!(files == vec![a, b], "decoded files differ");
    }
}
