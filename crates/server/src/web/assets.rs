//! The stylesheet, the script and the logo, compiled into the binary (no CDN, works offline).
//! The institution's own logo (`[web] logo`) is read once at start; the built-in emblem stands
//! in when none is set or it cannot be used.
//!
//! Must not know: which page uses what.

use crate::Shared;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const CSS: &str = include_str!("../../assets/sahih.css");
const JS: &str = include_str!("../../assets/sahih.js");
const EMBLEM: &str = include_str!("../../assets/logo.svg");

/// Largest logo file accepted.
const MAX_LOGO_BYTES: u64 = 512 * 1024;

/// The logo every page shows.
#[derive(Clone)]
pub struct Logo {
    bytes: Vec<u8>,
    content_type: &'static str,
}

impl Logo {
    /// The built-in emblem.
    pub fn builtin() -> Self {
        Self {
            bytes: EMBLEM.as_bytes().to_vec(),
            content_type: "image/svg+xml",
        }
    }

    /// The configured logo, or the built-in emblem (with a warning in the log) when it is
    /// missing, too large or neither SVG nor PNG.
    pub fn load(path: Option<&std::path::Path>) -> Self {
        let Some(path) = path else {
            return Self::builtin();
        };
        match Self::read(path) {
            Ok(logo) => logo,
            Err(why) => {
                tracing::warn!(
                    logo = %path.display(),
                    reason = %why,
                    "configured logo not used; using the built-in emblem"
                );
                Self::builtin()
            }
        }
    }

    fn read(path: &std::path::Path) -> Result<Self, String> {
        let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
        if meta.len() > MAX_LOGO_BYTES {
            return Err(format!("larger than {} KiB", MAX_LOGO_BYTES / 1024));
        }
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        let content_type = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            "image/png"
        } else if std::str::from_utf8(&bytes).is_ok_and(|s| s.contains("<svg")) {
            "image/svg+xml"
        } else {
            return Err("neither SVG nor PNG".into());
        };
        Ok(Self {
            bytes,
            content_type,
        })
    }
}

/// `GET /aset/{name}`: `sahih.css`, `sahih.js` or `logo`.
pub async fn asset(State(state): State<Shared>, Path(name): Path<String>) -> Response {
    let (body, content_type): (Vec<u8>, &'static str) = match name.as_str() {
        "sahih.css" => (CSS.as_bytes().to_vec(), "text/css; charset=utf-8"),
        "sahih.js" => (JS.as_bytes().to_vec(), "text/javascript; charset=utf-8"),
        "logo" | "logo.svg" => (state.logo.bytes.clone(), state.logo.content_type),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Versioned by `?v=` in the pages; a day is enough for the unversioned logo link.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    // An SVG opened on its own must not run anything.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_logo_that_is_not_an_image_falls_back_to_the_emblem() {
        let dir = std::env::temp_dir().join(format!("sahih-logo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("logo.txt");
        std::fs::write(&bad, b"not an image").unwrap();
        assert_eq!(Logo::load(Some(&bad)).content_type, "image/svg+xml");
        assert_eq!(Logo::load(Some(&bad)).bytes, EMBLEM.as_bytes());
        let png = dir.join("logo.png");
        std::fs::write(&png, b"\x89PNG\r\n\x1a\n rest").unwrap();
        assert_eq!(Logo::load(Some(&png)).content_type, "image/png");
        assert_eq!(
            Logo::load(Some(&dir.join("missing.svg"))).bytes,
            EMBLEM.as_bytes()
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
