//! HTTP Basic authentication of API clients (the ECS scheme): every `/api` request names its
//! client; the handler receives the client record as an extension.

use crate::Shared;
use crate::error::{EcsError, code};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use std::net::SocketAddr;

pub use crate::http::obs::ClientName;

/// 401; the Basic challenge only for clients that are not browsers, so a browser never
/// prompts for (and then replays) API credentials.
fn unauthorized(request: &axum::http::HeaderMap) -> Response {
    let mut r = EcsError::new(
        StatusCode::UNAUTHORIZED,
        code::UNAUTHORIZED,
        "Kredensial API tidak valid",
    )
    .into_response();
    if !crate::http::csrf::looks_like_browser(request) {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Sahih\", charset=\"UTF-8\""),
        );
    }
    r
}

fn basic_credentials(req: &Request) -> Option<(String, zeroize::Zeroizing<String>)> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = zeroize::Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .ok()?,
    );
    let text = std::str::from_utf8(&decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), zeroize::Zeroizing::new(pass.to_string())))
}

/// Middleware: the API client from HTTP Basic (throttled per address and per client name on
/// failure, shared by every server on the database), disabled
/// clients and the IP allow-list refused; the client goes into the request's extensions.
pub async fn require_client(State(state): State<Shared>, mut req: Request, next: Next) -> Response {
    let from = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let Some((user, pass)) = basic_credentials(&req) else {
        return unauthorized(req.headers());
    };
    let throttled = match state.sahih.auth_throttled(&user, from).await {
        Ok(wait) => wait,
        Err(e) => return EcsError::from_core(&e).into_response(),
    };
    if let Some(wait) = throttled {
        let mut r = EcsError::new(
            StatusCode::TOO_MANY_REQUESTS,
            code::TOO_MANY_REQUESTS,
            "Terlalu banyak kegagalan autentikasi dari alamat ini atau untuk klien ini; coba lagi nanti",
        )
        .into_response();
        if let Ok(v) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    match state.sahih.authenticate_client(&user, &pass, from).await {
        Ok(Some(client)) => {
            let name = client.name.clone();
            let shape = client.error_shape;
            req.extensions_mut().insert(client);
            let mut r = next.run(req).await;
            if shape == sahih_core::clients::ErrorShape::Bsre {
                r = bsre_error_shape(r).await;
            }
            r.extensions_mut().insert(ClientName(name));
            r
        }
        Ok(None) => unauthorized(req.headers()),
        Err(e) => EcsError::from_core(&e).into_response(),
    }
}

/// For a client configured so (`sahih client error-shape NAME bsre`): an ECS error answer with
/// the BSrE code in `status_code` instead of the HTTP status. The HTTP status itself and every
/// other field stay as they are.
async fn bsre_error_shape(response: Response) -> Response {
    let Some(code) = response
        .extensions()
        .get::<crate::error::ErrorCode>()
        .map(|c| c.0)
    else {
        return response;
    };
    let (parts, body) = response.into_parts();
    // Error bodies are small JSON objects; anything else is passed on untouched.
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    let rewritten = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|mut v| {
            v.as_object_mut()?
                .insert("status_code".into(), serde_json::json!(code));
            serde_json::to_vec(&v).ok()
        });
    let mut parts = parts;
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(
        parts,
        axum::body::Body::from(rewritten.unwrap_or_else(|| bytes.to_vec())),
    )
}
