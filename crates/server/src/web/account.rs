//! The account pages: log in (`/masuk`), log out (`/keluar`), set up an account from its link
//! (`/akun/atur/{token}`), set up the authenticator app (`/akun/2fa`), the landing page
//! (`/beranda`) and the person's sessions (`/akun/sesi`).
//!
//! Every state-changing form is refused from another site (Origin / Fetch Metadata), and a
//! signed-in person's forms also carry the session's CSRF token.
//!
//! Must not know: how logins are decided (`sahih_core::accounts`).

use super::session::{
    SettingUp, SignedIn, clear_cookie, origin_of, redirect_with_cookie, set_cookie,
};
use super::upload::ClientAddr;
use super::{Chrome, checked_form, csrf_refused, error_text, lang_of, render, tr, with_lang};
use crate::Shared;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use sahih_core::store::accounts::{AccountRole, SessionStage};
use sahih_core::{CoreError, Lang};
use serde::Deserialize;

/// The account routes; their POSTs are refused from other sites.
pub fn routes(state: &Shared) -> Router<Shared> {
    Router::new()
        .route("/masuk", get(login_page).post(login))
        .route("/keluar", post(logout))
        .route("/akun/atur/{token}", get(setup_page).post(setup))
        .route("/akun/2fa", get(totp_page).post(totp_confirm))
        .route("/beranda", get(home))
        .route("/akun/sesi", get(sessions_page))
        .route("/akun/sesi/akhiri", post(end_sessions))
        .route_layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::clone(state),
            crate::http::csrf::reject_cross_site,
        ))
}

/// A `next` that is a path of this server, else the landing page.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.into(),
        _ => "/beranda".into(),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    c: Chrome,
    notice: Option<String>,
    error: Option<String>,
    next: String,
    login: String,
}

#[derive(Deserialize, Default)]
struct LoginQuery {
    lang: Option<String>,
    next: Option<String>,
    keluar: Option<String>,
}

fn login_view(state: &Shared, lang: Lang, next: String) -> LoginPage {
    LoginPage {
        c: Chrome::new(state, lang, tr(lang, "Masuk", "Log in"), "/masuk"),
        notice: None,
        error: None,
        next,
        login: String::new(),
    }
}

async fn login_page(State(state): State<Shared>, Query(q): Query<LoginQuery>) -> Response {
    let lang = lang_of(q.lang.as_deref());
    let mut page = login_view(&state, lang, safe_next(q.next.as_deref()));
    if q.keluar.is_some() {
        page.notice = Some(tr(lang, "Anda telah keluar.", "You have logged out."));
    }
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct LoginForm {
    login: String,
    password: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    lang: String,
}

async fn login(
    State(state): State<Shared>,
    addr: ClientAddr,
    headers: HeaderMap,
    form: Result<axum::Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(axum::Form(f)) = form else {
        let mut page = login_view(&state, Lang::Id, "/beranda".into());
        page.error = Some("Isian tidak lengkap.".into());
        return render(StatusCode::BAD_REQUEST, &page);
    };
    let lang = lang_of(Some(&f.lang));
    let password = zeroize::Zeroizing::new(f.password);
    let next = safe_next(Some(&f.next));
    let origin = origin_of(&addr, &headers);
    let now = std::time::Instant::now();
    if let Some(wait) = state.login_throttle.blocked(addr.0, now) {
        let mut page = login_view(&state, lang, next);
        let minutes = wait.as_secs().div_ceil(60).max(1);
        page.error = Some(match lang {
            Lang::Id => format!(
                "Terlalu banyak percobaan masuk yang gagal dari alamat ini. Coba lagi dalam {minutes} menit."
            ),
            Lang::En => format!(
                "Too many failed logins from this address. Try again in {minutes} minute(s)."
            ),
        });
        let mut r = render(StatusCode::TOO_MANY_REQUESTS, &page);
        if let Ok(v) = axum::http::HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            r.headers_mut().insert(axum::http::header::RETRY_AFTER, v);
        }
        return r;
    }
    match state
        .sahih
        .login(&f.login, &password, &f.code, &origin)
        .await
    {
        Ok(session) => {
            let to = match session.stage {
                SessionStage::SetupTotp => "/akun/2fa".to_string(),
                SessionStage::Full => next,
            };
            redirect_with_cookie(&with_lang(&to, lang), set_cookie(&state, &session.token))
        }
        Err(e) => {
            if matches!(e, CoreError::LoginFailed | CoreError::LoginLocked { .. }) {
                state.login_throttle.record(addr.0, now);
            }
            let status = match e {
                CoreError::LoginFailed => StatusCode::UNAUTHORIZED,
                CoreError::LoginLocked { .. } => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            let mut page = login_view(&state, lang, next);
            page.login = f.login.chars().take(120).collect();
            page.error = Some(error_text(&e, lang));
            render(status, &page)
        }
    }
}

page_form!(CsrfForm);

page_form!(CodeForm);

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    semua: String,
}

async fn logout(
    State(state): State<Shared>,
    SettingUp(who): SettingUp,
    form: Result<axum::Form<CsrfForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (_, lang) = match checked_form(&who, form) {
        Ok(checked) => checked,
        Err(r) => return *r,
    };
    if state.sahih.logout(&who.view).await.is_err() {
        return (StatusCode::INTERNAL_SERVER_ERROR, "logout failed\n").into_response();
    }
    redirect_with_cookie(&with_lang("/masuk?keluar=1", lang), clear_cookie(&state))
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    c: Chrome,
    name: String,
    email: String,
    error: Option<String>,
    action: String,
}

#[derive(Deserialize, Default)]
struct LangQuery {
    lang: Option<String>,
}

fn setup_link_invalid(state: &Shared, lang: Lang, token: &str) -> Response {
    let c = Chrome::new(
        state,
        lang,
        tr(lang, "Tautan tidak berlaku", "Link not valid"),
        &format!("/akun/atur/{token}"),
    );
    let link = Some((
        c.href("/masuk"),
        tr(lang, "Ke halaman masuk", "To the login page"),
    ));
    render(
        StatusCode::GONE,
        &super::MessagePage {
            c,
            tone: "bad",
            paragraphs: vec![CoreError::SetupLinkInvalid.message(lang)],
            link,
        },
    )
}

async fn setup_page(
    State(state): State<Shared>,
    Path(token): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang = lang_of(q.lang.as_deref());
    match state.sahih.setup_view(&token).await {
        Ok(account) => {
            let path = format!("/akun/atur/{token}");
            render(
                StatusCode::OK,
                &SetupPage {
                    c: Chrome::new(&state, lang, tr(lang, "Atur akun", "Set up account"), &path),
                    name: account.name,
                    email: account.email,
                    error: None,
                    action: path,
                },
            )
        }
        Err(_) => setup_link_invalid(&state, lang, &token),
    }
}

#[derive(Deserialize)]
struct PasswordForm {
    password: String,
    password2: String,
    #[serde(default)]
    lang: String,
}

async fn setup(
    State(state): State<Shared>,
    Path(token): Path<String>,
    addr: ClientAddr,
    headers: HeaderMap,
    form: Result<axum::Form<PasswordForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(axum::Form(f)) = form else {
        return csrf_refused(Lang::Id);
    };
    let lang = lang_of(Some(&f.lang));
    let Ok(account) = state.sahih.setup_view(&token).await else {
        return setup_link_invalid(&state, lang, &token);
    };
    let p1 = zeroize::Zeroizing::new(f.password);
    let p2 = zeroize::Zeroizing::new(f.password2);
    let path = format!("/akun/atur/{token}");
    let again = |error: String| {
        render(
            StatusCode::BAD_REQUEST,
            &SetupPage {
                c: Chrome::new(&state, lang, tr(lang, "Atur akun", "Set up account"), &path),
                name: account.name.clone(),
                email: account.email.clone(),
                error: Some(error),
                action: path.clone(),
            },
        )
    };
    let same: bool = subtle::ConstantTimeEq::ct_eq(p1.as_bytes(), p2.as_bytes()).into();
    if !same {
        return again(tr(
            lang,
            "Kedua kata sandi tidak sama.",
            "The two passwords differ.",
        ));
    }
    match state
        .sahih
        .setup_password(&token, &p1, &origin_of(&addr, &headers))
        .await
    {
        Ok(session) => redirect_with_cookie(
            &with_lang("/akun/2fa", lang),
            set_cookie(&state, &session.token),
        ),
        Err(e @ CoreError::WeakPassphrase(_)) => again(e.message(lang)),
        Err(CoreError::SetupLinkInvalid) => setup_link_invalid(&state, lang, &token),
        Err(e) => again(error_text(&e, lang)),
    }
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpPage {
    c: Chrome,
    error: Option<String>,
    qr_svg: String,
    secret: String,
    csrf: String,
}

/// An SVG drawing of the QR code of `payload` (inline in the page: no image request, nothing
/// for the CSP to allow).
fn qr_svg(payload: &str, label: &str) -> String {
    let Ok((side, dark)) = sahih_pdf::stamp::qr_matrix(payload.as_bytes()) else {
        return String::new();
    };
    let quiet = 4;
    let size = side + 2 * quiet;
    let mut path = String::new();
    for (i, on) in dark.iter().enumerate() {
        if *on {
            let (x, y) = (i % side + quiet, i / side + quiet);
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    format!(
        "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         role=\"img\" aria-label=\"{}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>",
        super::esc(label)
    )
}

async fn totp_view(state: &Shared, who: &SignedIn, lang: Lang, error: Option<String>) -> Response {
    match state.sahih.totp_enrolment(&who.view).await {
        Ok(enrolment) => {
            let grouped: Vec<String> = enrolment
                .secret_base32
                .as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect();
            let c = Chrome::new(
                state,
                lang,
                tr(lang, "Aplikasi autentikator", "Authenticator app"),
                "/akun/2fa",
            );
            let label = tr(
                lang,
                "Kode QR untuk aplikasi autentikator",
                "QR code for the authenticator app",
            );
            render(
                if error.is_some() {
                    StatusCode::BAD_REQUEST
                } else {
                    StatusCode::OK
                },
                &TotpPage {
                    c,
                    error,
                    qr_svg: qr_svg(&enrolment.uri, &label),
                    secret: grouped.join(" "),
                    csrf: who.csrf(),
                },
            )
        }
        Err(_) => Redirect::to(&with_lang("/beranda", lang)).into_response(),
    }
}

async fn totp_page(
    State(state): State<Shared>,
    SettingUp(who): SettingUp,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang = lang_of(q.lang.as_deref());
    if who.view.stage == SessionStage::Full {
        return Redirect::to(&with_lang("/beranda", lang)).into_response();
    }
    totp_view(&state, &who, lang, None).await
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    lang: String,
}

async fn totp_confirm(
    State(state): State<Shared>,
    SettingUp(who): SettingUp,
    form: Result<axum::Form<CodeForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (f, lang) = match checked_form(&who, form) {
        Ok(checked) => checked,
        Err(r) => return *r,
    };
    if who.view.stage == SessionStage::Full {
        return Redirect::to(&with_lang("/beranda", lang)).into_response();
    }
    match state.sahih.confirm_totp(&who.view, &f.code).await {
        Ok(()) => Redirect::to(&with_lang("/beranda?siap=1", lang)).into_response(),
        Err(e) => totp_view(&state, &who, lang, Some(e.message(lang))).await,
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    c: Chrome,
    notice: Option<String>,
    name: String,
    role: String,
    position: String,
    unit: String,
    email: String,
    official: bool,
}

/// A role in words.
pub fn role_text(role: AccountRole, lang: Lang) -> String {
    let (id, en) = match role {
        AccountRole::Official => ("Pejabat penanda tangan", "Signing official"),
        AccountRole::Operator => ("Operator OPD", "OPD operator"),
        AccountRole::Verifikator => ("Verifikator", "Verifier"),
        AccountRole::Admin => ("Administrator", "Administrator"),
    };
    tr(lang, id, en)
}

#[derive(Deserialize, Default)]
struct HomeQuery {
    lang: Option<String>,
    siap: Option<String>,
}

async fn home(State(state): State<Shared>, who: SignedIn, Query(q): Query<HomeQuery>) -> Response {
    let lang = lang_of(q.lang.as_deref());
    let account = &who.view.account;
    let (position, unit) = who
        .view
        .official
        .as_ref()
        .map(|o| (o.position.clone(), o.unit.clone()))
        .unwrap_or_else(|| (String::new(), account.unit.clone().unwrap_or_default()));
    let page = HomePage {
        c: Chrome::new(&state, lang, tr(lang, "Beranda", "Home"), "/beranda").signed_in(&who),
        notice: q.siap.map(|_| {
            tr(
                lang,
                "Aplikasi autentikator terpasang. Akun Anda siap dipakai.",
                "The authenticator app is set up. Your account is ready.",
            )
        }),
        name: account.name.clone(),
        role: role_text(account.role, lang),
        position,
        unit,
        email: account.email.clone(),
        official: who.view.official.is_some(),
    };
    render(StatusCode::OK, &page)
}

struct SessionRow {
    device: String,
    ip: String,
    since: String,
    last: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "sessions.html")]
struct SessionsPage {
    c: Chrome,
    notice: Option<String>,
    sessions: Vec<SessionRow>,
    csrf: String,
}

/// A short name for a browser from its User-Agent.
fn device_name(ua: &str) -> String {
    let os = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(k, _)| ua.contains(k))
    .map(|(_, v)| *v);
    let browser = [
        ("Edg/", "Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(k, _)| ua.contains(k))
    .map(|(_, v)| *v);
    match (browser, os) {
        (Some(b), Some(o)) => format!("{b} · {o}"),
        (Some(b), None) => b.to_string(),
        (None, Some(o)) => o.to_string(),
        (None, None) => ua.chars().take(40).collect(),
    }
}

#[derive(Deserialize, Default)]
struct SessionsQuery {
    lang: Option<String>,
    diakhiri: Option<u64>,
}

async fn sessions_page(
    State(state): State<Shared>,
    who: SignedIn,
    Query(q): Query<SessionsQuery>,
) -> Response {
    let lang = lang_of(q.lang.as_deref());
    let Ok(list) = state.sahih.sessions(&who.view).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "sessions unavailable\n").into_response();
    };
    let sessions = list
        .into_iter()
        .map(|s| SessionRow {
            device: device_name(&s.user_agent),
            ip: s.ip.clone(),
            since: sahih_core::format_wib(s.created_at, lang),
            last: sahih_core::format_wib(s.last_seen_at, lang),
            current: s.token_sha256 == who.view.token_sha256,
        })
        .collect();
    let page = SessionsPage {
        c: Chrome::new(
            &state,
            lang,
            tr(lang, "Sesi aktif", "Active sessions"),
            "/akun/sesi",
        )
        .signed_in(&who),
        notice: q.diakhiri.map(|n| match lang {
            Lang::Id => format!("{n} sesi lain diakhiri."),
            Lang::En => format!("{n} other session(s) ended."),
        }),
        sessions,
        csrf: who.csrf(),
    };
    render(StatusCode::OK, &page)
}

async fn end_sessions(
    State(state): State<Shared>,
    who: SignedIn,
    form: Result<axum::Form<CsrfForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (f, lang) = match checked_form(&who, form) {
        Ok(checked) => checked,
        Err(r) => return *r,
    };
    let all = f.semua == "1";
    match state.sahih.end_sessions(&who.view, all).await {
        Ok(_) if all => {
            redirect_with_cookie(&with_lang("/masuk?keluar=1", lang), clear_cookie(&state))
        }
        Ok(n) => {
            Redirect::to(&with_lang(&format!("/akun/sesi?diakhiri={n}"), lang)).into_response()
        }
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "failed\n").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_come_back_after_login() {
        assert_eq!(safe_next(Some("/akun/sesi")), "/akun/sesi");
        assert_eq!(safe_next(Some("//evil.example/x")), "/beranda");
        assert_eq!(safe_next(Some("https://evil.example")), "/beranda");
        assert_eq!(safe_next(Some("/\\evil.example")), "/beranda");
        assert_eq!(safe_next(None), "/beranda");
    }

    #[test]
    fn devices_have_short_names() {
        assert_eq!(
            device_name(
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/131.0 Mobile Safari/537.36"
            ),
            "Chrome · Android"
        );
        assert_eq!(device_name("curl/8.0"), "curl/8.0");
    }

    #[test]
    fn the_qr_drawing_is_an_inline_svg() {
        let svg = qr_svg("otpauth://totp/X:y?secret=ABC", "kode <QR>");
        assert!(svg.starts_with("<svg class=\"qr\""));
        assert!(svg.contains("aria-label=\"kode &lt;QR&gt;\""));
        assert!(
            svg.contains("M4 4h1v1h-1z"),
            "the finder pattern starts at the quiet zone"
        );
    }
}
