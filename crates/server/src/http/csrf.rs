//! Cross-site request defences for the API. API clients authenticate with HTTP Basic, which a
//! browser replays on its own; so a page on another site must not be able to make a staff
//! member's browser revoke, suspend or approve anything.
//!
//! - A state-changing request (anything but GET, HEAD, OPTIONS) that a browser marks as coming
//!   from another site (`Sec-Fetch-Site: cross-site` or `same-site`), or, from a browser that
//!   sends no Fetch Metadata, whose `Origin` is not this server's own (the configured base URL
//!   or the request's Host), is refused. Machine clients send neither header.
//! - The native staff routes that take JSON refuse any other declared Content-Type: a form
//!   posted as `text/plain` or `application/x-www-form-urlencoded` is what a cross-site page can
//!   send without a preflight.
//! - 401 answers invite a Basic login only from clients that are not browsers (see
//!   [`looks_like_browser`]), so a browser never caches the credentials from a prompt.
//!
//! Must not know: who the client is or what the route does.

use crate::Shared;
use crate::error::{EcsError, code};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The scheme://host[:port] part of a URL, lower-cased.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("{}://{}", scheme, host).to_ascii_lowercase())
}

/// Whether `origin` is this server: its configured base URL, or the Host it was asked by.
fn same_origin(origin: &str, base_url: &str, host: Option<&str>) -> bool {
    let origin = origin.trim().to_ascii_lowercase();
    if origin_of(base_url).is_some_and(|b| b == origin) {
        return true;
    }
    let Some(host) = host.map(str::to_ascii_lowercase) else {
        return false;
    };
    origin == format!("http://{host}") || origin == format!("https://{host}")
}

/// Why a request is refused as cross-site, if it is.
fn cross_site(method: &Method, headers: &HeaderMap, base_url: &str) -> Option<&'static str> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    // Fetch Metadata, where the browser sends it, decides alone: with `Referrer-Policy:
    // no-referrer` a browser's own same-origin form posts carry `Origin: null`.
    if let Some(site) = header_str(headers, "sec-fetch-site") {
        return matches!(site, "cross-site" | "same-site").then_some("Sec-Fetch-Site");
    }
    if let Some(origin) = header_str(headers, header::ORIGIN.as_str()) {
        let host = header_str(headers, header::HOST.as_str());
        if !same_origin(origin, base_url, host) {
            return Some("Origin");
        }
    } else if headers.get(header::ORIGIN).is_some() {
        return Some("Origin"); // present but not readable text
    }
    None
}

/// Middleware: a request a browser marks as cross-site, or with a foreign `Origin`, is 403 before
/// any credential is checked.
pub async fn reject_cross_site(State(state): State<Shared>, req: Request, next: Next) -> Response {
    if let Some(what) = cross_site(req.method(), req.headers(), &state.sahih.config.base_url) {
        let mut e = EcsError::new(
            StatusCode::FORBIDDEN,
            code::FORBIDDEN,
            "Permintaan dari situs lain ditolak",
        );
        e.internal = Some(format!("cross-site request refused ({what})"));
        return e.into_response();
    }
    next.run(req).await
}

/// Whether a declared Content-Type is JSON (`application/json`, any parameters).
pub(crate) fn is_json(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
}

/// For routes whose body is JSON: a declared Content-Type must be JSON (an empty body may
/// declare none).
pub async fn require_json(req: Request, next: Next) -> Response {
    if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
        let ok = ct.to_str().is_ok_and(is_json);
        if !ok {
            return EcsError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code::FIELD_INVALID,
                "Content-Type harus application/json",
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// Browsers announce themselves with Fetch Metadata (every current engine) or a Mozilla-style
/// User-Agent; HTTP client libraries do neither.
pub fn looks_like_browser(headers: &HeaderMap) -> bool {
    headers.contains_key("sec-fetch-mode")
        || header_str(headers, header::USER_AGENT.as_str())
            .is_some_and(|ua| ua.starts_with("Mozilla/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cross_site_posts_are_refused_and_machines_pass() {
        let base = "https://ttd.contoh.go.id";
        let post = Method::POST;
        assert_eq!(cross_site(&post, &headers(&[]), base), None);
        assert_eq!(
            cross_site(&post, &headers(&[("origin", "https://evil.example")]), base),
            Some("Origin")
        );
        assert_eq!(
            cross_site(&post, &headers(&[("origin", "null")]), base),
            Some("Origin")
        );
        assert_eq!(
            cross_site(
                &post,
                &headers(&[("origin", "https://TTD.contoh.go.id")]),
                base
            ),
            None
        );
        assert_eq!(
            cross_site(
                &post,
                &headers(&[
                    ("origin", "http://127.0.0.1:8080"),
                    ("host", "127.0.0.1:8080")
                ]),
                base
            ),
            None
        );
        assert_eq!(
            cross_site(&post, &headers(&[("sec-fetch-site", "cross-site")]), base),
            Some("Sec-Fetch-Site")
        );
        assert_eq!(
            cross_site(&post, &headers(&[("sec-fetch-site", "same-origin")]), base),
            None
        );
        // A same-origin form post under `Referrer-Policy: no-referrer`.
        assert_eq!(
            cross_site(
                &post,
                &headers(&[("sec-fetch-site", "same-origin"), ("origin", "null")]),
                base
            ),
            None
        );
        assert_eq!(
            cross_site(
                &post,
                &headers(&[("sec-fetch-site", "cross-site"), ("origin", "null")]),
                base
            ),
            Some("Sec-Fetch-Site")
        );
        assert_eq!(
            cross_site(
                &Method::GET,
                &headers(&[("origin", "https://evil.example")]),
                base
            ),
            None
        );
    }

    #[test]
    fn json_media_types() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json("multipart/form-data; boundary=x"));
    }
}
