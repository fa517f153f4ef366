//! Response headers every answer carries (security finding 11): no MIME sniffing, no referrer
//! leaving with a token in the URL (`/aktivasi/{token}`, `/v/{id}`), no framing, and no caching
//! of anything personal. Public trust-service data (CRLs, CA certificates) and the page assets
//! (stylesheet, script, logo) stay cacheable.
//! HTML without a policy of its own (Swagger UI) gets one that forbids framing and foreign
//! sources.
//!
//! Must not know: what a route returns beyond its path and content type.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// Middleware: the security headers every response carries (CSP, nosniff, frame and referrer
/// policy, no caching of API answers).
pub async fn security_headers(req: Request, next: Next) -> Response {
    let public = {
        let p = req.uri().path();
        p.starts_with("/crl/") || p.starts_with("/ca/") || p.starts_with("/aset/")
    };
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name, value: &'static str| {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    if !public {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"));
    if html {
        // Swagger UI needs its own inline bootstrap script and styles, nothing from elsewhere.
        set(
            h,
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        );
    }
    r
}
