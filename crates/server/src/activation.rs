//! The official's activation link: `/aktivasi/{token}` as a page and
//! `/api/v1/activation/{token}` as JSON. It needs no API credentials: the token is the
//! credential, and it works once.
//!
//! Must not know: how tokens are made or checked, or the RA's state machine (`sahih_core::ra`).

use crate::Shared;
use crate::error::{EcsError, ErrorBody};
use crate::web::{esc, page};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sahih_core::store::Store;
use sahih_core::{CoreError, Lang};
use sahih_validate::rfc3339;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

fn core(e: CoreError) -> EcsError {
    EcsError::from_core(&e)
}

/// An official's identity in a request.
#[derive(Deserialize, ToSchema)]
pub struct ActivationBody {
    /// The passphrase the official chooses (at least 8 characters, not a common password, not
    /// their NIK, NIP, name or e-mail). Never stored: it seals the new key.
    passphrase: String,
}

/// What an activation made: the official's certificate.
#[derive(Serialize, ToSchema)]
pub struct ActivationResult {
    nik: String,
    status: String,
    certificate_serial: String,
    /// RFC 3339, UTC.
    not_after: String,
}

/// The official activates with their own passphrase (no API credentials: the link's token is
/// the credential, once, within 24 hours).
#[utoipa::path(
    post,
    path = "/api/v1/activation/{token}",
    params(("token" = String, Path, description = "the token from the activation link")),
    request_body = ActivationBody,
    security(()),
    responses((status = 200, body = ActivationResult), (status = 400, body = ErrorBody), (status = 410, body = ErrorBody))
)]
pub async fn activate_json(
    State(state): State<Shared>,
    Path(token): Path<String>,
    body: Result<Json<ActivationBody>, JsonRejection>,
) -> Result<Response, EcsError> {
    let Json(b) = body.map_err(|e| EcsError::invalid(format!("Body JSON tidak valid: {e}")))?;
    let passphrase = zeroize::Zeroizing::new(b.passphrase);
    let outcome = state
        .sahih
        .activate(&token, &passphrase)
        .await
        .map_err(core)?;
    let official = state
        .sahih
        .store
        .official_by_id(outcome.official_id)
        .await
        .map_err(|e| core(e.into()))?
        .ok_or_else(|| core(CoreError::NikNotRegistered))?;
    Ok(Json(ActivationResult {
        nik: official.nik,
        status: "ISSUE".into(),
        certificate_serial: outcome.certificate.serial_hex(),
        not_after: rfc3339(outcome.certificate.not_after()),
    })
    .into_response())
}

/// The activation page's query: its language (`?lang=en`).
#[derive(Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
}

fn page_lang(q: &PageQuery) -> Lang {
    if q.lang.as_deref() == Some("en") {
        Lang::En
    } else {
        Lang::Id
    }
}

fn activation_form(
    token: &str,
    lang: Lang,
    name: &str,
    until: &str,
    error: Option<&str>,
    with_account: bool,
) -> String {
    let t = |id: &'static str, en: &'static str| if lang == Lang::Id { id } else { en };
    format!(
        "<h1>{h}</h1><p>{hello} <strong>{name}</strong>. {intro}</p>\
         <p>{valid} {until}.</p>{err}\
         <form method=\"post\" action=\"/aktivasi/{token}{q}\">\
         <p><label for=\"p1\">{l1}</label><br><input id=\"p1\" name=\"passphrase\" type=\"password\" \
         autocomplete=\"new-password\" minlength=\"8\" required></p>\
         <p><label for=\"p2\">{l2}</label><br><input id=\"p2\" name=\"passphrase2\" type=\"password\" \
         autocomplete=\"new-password\" minlength=\"8\" required></p>{account}\
         <p><button type=\"submit\">{b}</button></p></form><p>{hint}</p>",
        account = if with_account {
            account_fields(lang)
        } else {
            String::new()
        },
        h = t(
            "Aktivasi sertifikat elektronik",
            "Activate your electronic certificate"
        ),
        hello = t("Selamat datang,", "Welcome,"),
        name = esc(name),
        intro = t(
            "Pilih passphrase Anda sendiri. Passphrase ini mengunci kunci privat Anda; tidak ada petugas yang mengetahuinya.",
            "Choose your own passphrase. It locks your private key; no staff member knows it."
        ),
        valid = t(
            "Tautan ini hanya dapat dipakai sekali, sampai",
            "This link works once, until"
        ),
        until = esc(until),
        err = error
            .map(|e| format!("<p class=\"bad\" role=\"alert\">{}</p>", esc(e)))
            .unwrap_or_default(),
        token = esc(token),
        q = if lang == Lang::En { "?lang=en" } else { "" },
        l1 = t(
            "Passphrase (minimal 8 karakter)",
            "Passphrase (at least 8 characters)"
        ),
        l2 = t("Ulangi passphrase", "Repeat the passphrase"),
        b = t("Aktifkan", "Activate"),
        hint = t(
            "Gunakan kalimat yang mudah Anda ingat tetapi sulit ditebak orang lain, misalnya empat kata acak. Jangan memakai NIK, NIP, nama, atau tanggal lahir.",
            "Use a sentence you remember but others cannot guess, such as four random words. Do not use your NIK, NIP, name or birth date."
        ),
    )
}

/// The login password fields of an official's first activation: the account for the pages is
/// made in the same step (the second factor follows on the next page).
fn account_fields(lang: Lang) -> String {
    let t = |id: &'static str, en: &'static str| if lang == Lang::Id { id } else { en };
    format!(
        "<h2>{h}</h2><p class=\"why\">{why}</p>\
         <p><label for=\"l1\">{l1}</label><br><input id=\"l1\" name=\"login_password\" type=\"password\" \
         autocomplete=\"new-password\" minlength=\"10\" required></p>\
         <p><label for=\"l2\">{l2}</label><br><input id=\"l2\" name=\"login_password2\" type=\"password\" \
         autocomplete=\"new-password\" minlength=\"10\" required></p>",
        h = t("Kata sandi masuk", "Login password"),
        why = t(
            "Untuk membuka kotak masuk Anda di layanan ini dari ponsel atau komputer. Kata sandi ini berbeda dengan passphrase di atas: kata sandi membuka akun, passphrase membuka kunci tanda tangan dan tidak pernah disimpan. Jangan memakai yang sama.",
            "To open your inbox on this service from a phone or computer. This password differs from the passphrase above: the password opens your account, the passphrase unlocks your signing key and is never stored. Do not use the same one."
        ),
        l1 = t(
            "Kata sandi masuk (minimal 10 karakter)",
            "Login password (at least 10 characters)"
        ),
        l2 = t("Ulangi kata sandi masuk", "Repeat the login password"),
    )
}

/// Whether the official of this activation still needs an account for the pages.
async fn needs_account(state: &Shared, view: &sahih_core::ra::ActivationView) -> bool {
    use sahih_core::store::accounts::AccountStore;
    match view.request.official_id {
        Some(id) => matches!(state.sahih.store.account_of_official(id).await, Ok(None)),
        None => true,
    }
}

fn link_invalid_page(state: &Shared, token: &str, lang: Lang) -> Response {
    let t = |id: &'static str, en: &'static str| if lang == Lang::Id { id } else { en };
    page(
        state,
        StatusCode::GONE,
        lang,
        t("Tautan tidak berlaku", "Link not valid"),
        &format!("/aktivasi/{token}"),
        &format!(
            "<h1 class=\"bad\">{}</h1><p>{}</p>",
            t("Tautan tidak berlaku", "Link not valid"),
            CoreError::ActivationLinkInvalid.message(lang)
        ),
    )
}

/// `GET /aktivasi/{token}`: the form where the official chooses a passphrase.
pub async fn activation_page(
    State(state): State<Shared>,
    Path(token): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let lang = page_lang(&q);
    match state.sahih.activation_view(&token).await {
        Ok(view) => page(
            &state,
            StatusCode::OK,
            lang,
            "Aktivasi",
            &format!("/aktivasi/{token}"),
            &activation_form(
                &token,
                lang,
                &view.request.official.name,
                &sahih_core::format_wib(view.expires_at, lang),
                None,
                needs_account(&state, &view).await,
            ),
        ),
        Err(_) => link_invalid_page(&state, &token, lang),
    }
}

/// The activation form: the passphrase twice, and a login password where an account is made.
#[derive(Deserialize)]
pub struct ActivationForm {
    passphrase: String,
    passphrase2: String,
    #[serde(default)]
    login_password: Option<String>,
    #[serde(default)]
    login_password2: Option<String>,
}

/// `POST /aktivasi/{token}` (form): activates, or shows the form again with the problem.
pub async fn activation_submit(
    State(state): State<Shared>,
    Path(token): Path<String>,
    Query(q): Query<PageQuery>,
    addr: crate::web::upload::ClientAddr,
    headers: axum::http::HeaderMap,
    form: Result<axum::Form<ActivationForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let lang = page_lang(&q);
    let t = |id: &'static str, en: &'static str| if lang == Lang::Id { id } else { en };
    let view = match state.sahih.activation_view(&token).await {
        Ok(v) => v,
        Err(_) => return link_invalid_page(&state, &token, lang),
    };
    let with_account = needs_account(&state, &view).await;
    let again = |error: &str| {
        page(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "Aktivasi",
            &format!("/aktivasi/{token}"),
            &activation_form(
                &token,
                lang,
                &view.request.official.name,
                &sahih_core::format_wib(view.expires_at, lang),
                Some(error),
                with_account,
            ),
        )
    };
    let Ok(axum::Form(f)) = form else {
        return again(t("Isian tidak lengkap.", "The form is incomplete."));
    };
    let p1 = zeroize::Zeroizing::new(f.passphrase);
    let p2 = zeroize::Zeroizing::new(f.passphrase2);
    if !bool::from(subtle_eq(p1.as_bytes(), p2.as_bytes())) {
        return again(t(
            "Kedua passphrase tidak sama.",
            "The two passphrases differ.",
        ));
    }
    // The login password is checked before anything is activated, so a refusal leaves the
    // link usable.
    let login_password = zeroize::Zeroizing::new(f.login_password.unwrap_or_default());
    if with_account {
        let repeat = zeroize::Zeroizing::new(f.login_password2.unwrap_or_default());
        if !bool::from(subtle_eq(login_password.as_bytes(), repeat.as_bytes())) {
            return again(t(
                "Kedua kata sandi masuk tidak sama.",
                "The two login passwords differ.",
            ));
        }
        if bool::from(subtle_eq(login_password.as_bytes(), p1.as_bytes())) {
            return again(t(
                "Kata sandi masuk harus berbeda dengan passphrase tanda tangan.",
                "The login password must differ from the signing passphrase.",
            ));
        }
        let o = &view.request.official;
        let local = o.email.split('@').next().unwrap_or_default();
        if let Err(e) = sahih_core::accounts::password::check_strength(
            &login_password,
            &[o.email.as_str(), o.nip.as_str(), local],
        ) {
            return again(&e.message(lang));
        }
    }
    match state.sahih.activate(&token, &p1).await {
        Ok(outcome) => {
            let mut cookie = None;
            if with_account {
                let origin = crate::web::session::origin_of(&addr, &headers);
                let official = state.sahih.store.official_by_id(outcome.official_id).await;
                if let Ok(Some(official)) = official
                    && let Ok(Some(session)) = state
                        .sahih
                        .account_on_activation(&official, &login_password, &origin)
                        .await
                {
                    cookie = Some(crate::web::session::set_cookie(&state, &session.token));
                }
            }
            let next = if cookie.is_some() {
                format!(
                    "<h2>{}</h2><p>{}</p><p><a class=\"btn primary\" href=\"/akun/2fa{}\">{}</a></p>",
                    t("Langkah terakhir", "Last step"),
                    t(
                        "Pasang aplikasi autentikator di ponsel Anda untuk melindungi akun. Setelah itu Anda dapat membuka kotak masuk dan menandatangani dari ponsel.",
                        "Set up an authenticator app on your phone to protect your account. Then you can open your inbox and sign from your phone."
                    ),
                    if lang == Lang::En { "?lang=en" } else { "" },
                    t(
                        "Pasang aplikasi autentikator",
                        "Set up the authenticator app"
                    ),
                )
            } else {
                String::new()
            };
            let mut r = page(
                &state,
                StatusCode::OK,
                lang,
                t("Aktivasi berhasil", "Activated"),
                &format!("/aktivasi/{token}"),
                &format!(
                    "<h1 class=\"ok\">{}</h1><p>{}</p><dl class=\"facts\"><dt>{}</dt><dd><code>{}</code></dd><dt>{}</dt><dd>{}</dd></dl>{next}",
                    t("Sertifikat Anda aktif", "Your certificate is active"),
                    t(
                        "Anda sekarang dapat menandatangani dokumen dengan passphrase yang baru saja Anda pilih. Simpan baik-baik: passphrase tidak dapat dipulihkan, hanya diatur ulang melalui verifikator.",
                        "You can now sign documents with the passphrase you just chose. Keep it safe: it cannot be recovered, only reset through a verifikator."
                    ),
                    t("Nomor seri sertifikat", "Certificate serial"),
                    esc(&outcome.certificate.serial_hex()),
                    t("Berlaku sampai", "Valid until"),
                    esc(&sahih_core::format_wib(
                        outcome.certificate.not_after(),
                        lang
                    )),
                ),
            );
            if let Some(c) = cookie {
                r.headers_mut().insert(axum::http::header::SET_COOKIE, c);
            }
            r
        }
        Err(CoreError::ActivationLinkInvalid) => link_invalid_page(&state, &token, lang),
        Err(e @ CoreError::WeakPassphrase(_)) => again(&e.message(lang)),
        Err(e) => {
            // Anything else is on our side: no internals on a page anyone with the link sees.
            let mut r = page(
                &state,
                StatusCode::INTERNAL_SERVER_ERROR,
                lang,
                "Aktivasi",
                &format!("/aktivasi/{token}"),
                &format!(
                    "<h1 class=\"bad\">{}</h1><p>{}</p>",
                    t("Aktivasi gagal", "Activation failed"),
                    t(
                        "Terjadi kesalahan pada server; coba lagi nanti. Tautan Anda masih berlaku bila belum kedaluwarsa.",
                        "A server error occurred; try again later. Your link still works until it expires."
                    )
                ),
            );
            crate::error::InternalError::attach(&mut r, e.to_string());
            r
        }
    }
}

fn subtle_eq(a: &[u8], b: &[u8]) -> subtle::Choice {
    use subtle::ConstantTimeEq;
    if a.len() != b.len() {
        return subtle::Choice::from(0);
    }
    a.ct_eq(b)
}

/// The official's activation link (page and JSON): no API credentials, the token is the
/// credential.
pub fn routes() -> axum::Router<Shared> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            "/aktivasi/{token}",
            get(activation_page).post(activation_submit),
        )
        .route("/api/v1/activation/{token}", post(activate_json))
}
