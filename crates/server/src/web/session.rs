//! The browser side of a session: the cookie (HttpOnly, SameSite=Lax, Secure and `__Host-`
//! over HTTPS), the extractors that give a handler its signed-in person ([`SignedIn`], or
//! [`SettingUp`] for the second-factor setup), and the CSRF check of their forms.
//!
//! Must not know: how logins are decided or sessions stored (`sahih_core::accounts`).

use super::upload::ClientAddr;
use crate::Shared;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use sahih_core::accounts::{Origin, SessionView, csrf_matches, csrf_token};
use sahih_core::store::accounts::SessionStage;
use zeroize::Zeroizing;

/// Whether cookies must be Secure: the service is reached over HTTPS.
fn secure(state: &Shared) -> bool {
    state.sahih.config.base_url.starts_with("https://")
}

/// The cookie's name: `__Host-` over HTTPS (the browser then refuses it without Secure, with
/// a Domain, or with another Path).
fn cookie_name(state: &Shared) -> &'static str {
    if secure(state) {
        "__Host-sahih_sesi"
    } else {
        "sahih_sesi"
    }
}

/// The `Set-Cookie` value that carries a new session.
pub fn set_cookie(state: &Shared, token: &str) -> HeaderValue {
    let value = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax{}",
        cookie_name(state),
        if secure(state) { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static(""))
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(state: &Shared) -> HeaderValue {
    let value = format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        cookie_name(state),
        if secure(state) { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static(""))
}

/// The session token from the request's cookies.
pub fn token_from(state: &Shared, headers: &HeaderMap) -> Option<Zeroizing<String>> {
    let name = cookie_name(state);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| Zeroizing::new(v.to_string()))
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

/// A redirect that also sets (or clears) the session cookie.
pub fn redirect_with_cookie(to: &str, cookie: HeaderValue) -> Response {
    let mut r = Redirect::to(to).into_response();
    r.headers_mut().insert(header::SET_COOKIE, cookie);
    r
}

/// Where a request came from, for the person's list of sessions.
pub fn origin_of(addr: &ClientAddr, headers: &HeaderMap) -> Origin {
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Origin::new(addr.0.to_string(), ua)
}

/// A person with a full session (password and second factor checked).
pub struct SignedIn {
    /// The checked session.
    pub view: SessionView,
    /// The session token (to derive the CSRF token).
    pub token: Zeroizing<String>,
}

impl SignedIn {
    /// The CSRF token every form of this person carries.
    pub fn csrf(&self) -> String {
        csrf_token(&self.token)
    }

    /// How this person appears in the audit log and in records (`account:<id>`).
    pub fn actor(&self) -> String {
        sahih_core::accounts::account_actor(self.view.account.id)
    }

    /// Whether a form's CSRF token is this session's.
    pub fn csrf_ok(&self, presented: &str) -> bool {
        csrf_matches(&self.token, presented)
    }
}

/// A person whose session may still have to set up its second factor.
pub struct SettingUp(pub SignedIn);

fn to_login(parts: &Parts) -> Response {
    let lang = parts
        .uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "lang=en"));
    // Only a path of this server may come back as `next` (no open redirect).
    let next = parts.uri.path();
    let mut to = format!("/masuk?next={}", url_path(next));
    if lang {
        to.push_str("&lang=en");
    }
    Redirect::to(&to).into_response()
}

/// Percent-encodes a path for a query value (only characters paths here use stay as they are).
pub fn url_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn session_of(parts: &Parts, state: &Shared) -> Result<SignedIn, Response> {
    let Some(token) = token_from(state, &parts.headers) else {
        return Err(to_login(parts));
    };
    match state.sahih.session(&token).await {
        Ok(view) => Ok(SignedIn { view, token }),
        Err(sahih_core::CoreError::SessionInvalid) => {
            let mut r = to_login(parts);
            r.headers_mut()
                .insert(header::SET_COOKIE, clear_cookie(state));
            Err(r)
        }
        Err(_) => Err((
            StatusCode::SERVICE_UNAVAILABLE,
            "Layanan sedang bermasalah; coba lagi nanti.\n",
        )
            .into_response()),
    }
}

impl FromRequestParts<Shared> for SettingUp {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, Response> {
        session_of(parts, state).await.map(SettingUp)
    }
}

impl FromRequestParts<Shared> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, Response> {
        let s = session_of(parts, state).await?;
        if s.view.stage != SessionStage::Full {
            return Err(Redirect::to("/akun/2fa").into_response());
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_paths_are_encoded() {
        assert_eq!(url_path("/kotak-masuk"), "/kotak-masuk");
        assert_eq!(url_path("/a b?c=d"), "/a%20b%3Fc%3Dd");
    }
}
