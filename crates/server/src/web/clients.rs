//! The administrator's page of API clients (`/admin/klien`): every client with its role, unit,
//! address allowlist, default class and state; adding one (its credential is shown once and
//! stored only as a hash), disabling and enabling, and making a new webhook secret (shown once).
//!
//! Calls the same core functions as `sahih client` (`add_api_client`,
//! `set_api_client_disabled`, `new_webhook_secret`), audited under the administrator's account.
//!
//! Must not know: how credentials are hashed or secrets sealed.

use super::roles::{ClientManager, StaffForm, StaffPage};
use super::session::SignedIn;
use super::{Chrome, error_text, render, tr};
use crate::Shared;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use sahih_core::Lang;
use sahih_core::clients::ClientRole;
use sahih_core::store::Store;
use serde::Deserialize;

/// The client routes; POSTs are refused from other sites.
pub fn routes(state: &Shared) -> Router<Shared> {
    Router::new()
        .route("/admin/klien", get(list).post(add))
        .route("/admin/klien/{name}/status", post(set_disabled))
        .route("/admin/klien/{name}/webhook", post(webhook_secret))
        .route_layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::clone(state),
            crate::http::csrf::reject_cross_site,
        ))
}

fn role_label(role: ClientRole, lang: Lang) -> String {
    match role {
        ClientRole::App => tr(lang, "aplikasi", "application"),
        ClientRole::Admin => tr(lang, "admin", "admin"),
        ClientRole::Operator => tr(lang, "operator OPD", "OPD operator"),
        ClientRole::Verifikator => tr(lang, "verifikator", "verifikator"),
    }
}

struct ClientRow {
    name: String,
    role: String,
    unit: String,
    allow: String,
    class: String,
    disabled: bool,
    created: String,
}

#[derive(Template)]
#[template(path = "admin_clients.html")]
struct ClientsPage {
    c: Chrome,
    csrf: String,
    rows: Vec<ClientRow>,
    roles: Vec<(&'static str, String)>,
    classes: Vec<(String, String)>,
    notice: Option<String>,
    error: Option<String>,
    /// A credential or webhook secret to show once: (what it is, the value).
    secret: Option<(String, String)>,
}

async fn page(state: &Shared, who: &SignedIn, lang: Lang) -> Result<ClientsPage, Box<Response>> {
    let clients = state
        .sahih
        .store
        .api_clients()
        .await
        .map_err(|_| Box::new(super::unavailable()))?;
    let policy = state
        .sahih
        .policy()
        .await
        .map_err(|_| Box::new(super::unavailable()))?;
    let any = tr(lang, "semua", "any");
    Ok(ClientsPage {
        c: Chrome::new(
            state,
            lang,
            tr(lang, "Klien API", "API clients"),
            "/admin/klien",
        )
        .signed_in(who),
        csrf: who.csrf(),
        rows: clients
            .into_iter()
            .map(|c| ClientRow {
                role: role_label(c.role, lang),
                unit: c.unit.unwrap_or_default(),
                allow: if c.allow_ips.is_empty() {
                    any.clone()
                } else {
                    c.allow_ips.join(", ")
                },
                class: c.default_class.unwrap_or_else(|| "-".into()),
                disabled: c.disabled,
                created: sahih_core::format_wib(c.created_at, lang),
                name: c.name,
            })
            .collect(),
        roles: ClientRole::ALL
            .iter()
            .map(|r| (r.as_str(), role_label(*r, lang)))
            .collect(),
        classes: policy
            .classes
            .iter()
            .map(|c| (c.code.clone(), format!("{} ({})", c.name, c.code)))
            .collect(),
        notice: None,
        error: None,
        secret: None,
    })
}

/// A secret to show once, with what it is and the notice above it.
struct Shown {
    what: String,
    value: String,
    notice: String,
}

/// The page after an action: the secret it made shown once, or why it was refused (nothing
/// changed).
async fn outcome(
    state: &Shared,
    who: &SignedIn,
    lang: Lang,
    result: Result<Shown, sahih_core::CoreError>,
) -> Response {
    let mut p = match page(state, who, lang).await {
        Ok(p) => p,
        Err(r) => return *r,
    };
    match result {
        Ok(shown) => {
            p.secret = Some((shown.what, shown.value));
            p.notice = Some(shown.notice);
            render(StatusCode::OK, &p)
        }
        Err(e) => {
            p.error = Some(error_text(&e, lang));
            render(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
    }
}

async fn list(
    State(state): State<Shared>,
    StaffPage { who, lang, .. }: StaffPage<ClientManager>,
) -> Response {
    match page(&state, &who, lang).await {
        Ok(p) => render(StatusCode::OK, &p),
        Err(r) => *r,
    }
}

#[derive(Deserialize)]
struct AddForm {
    csrf: String,
    lang: String,
    name: String,
    role: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    person_nik: String,
    #[serde(default)]
    allow_ips: String,
    #[serde(default)]
    class: String,
}

page_form!(AddForm);

fn non_empty(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

async fn add(
    State(state): State<Shared>,
    StaffForm {
        who, lang, form: f, ..
    }: StaffForm<ClientManager, AddForm>,
) -> Response {
    let actor = who.actor();
    let allow: Vec<String> = f
        .allow_ips
        .split([',', '\n', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let result = match ClientRole::parse(f.role.trim()) {
        Some(role) => {
            state
                .sahih
                .add_api_client(
                    &sahih_core::requests::ClientSpec {
                        name: f.name.trim(),
                        allow_ips: &allow,
                        default_class: non_empty(&f.class),
                        role,
                        unit: non_empty(&f.unit),
                        person_nik: non_empty(&f.person_nik),
                    },
                    &actor,
                )
                .await
        }
        None => Err(sahih_core::CoreError::invalid(
            "Pilih peran klien.",
            "Choose the client's role.",
        )),
    };
    let shown = result.map(|secret| Shown {
        what: tr(
            lang,
            "Kredensial klien (nama:rahasia)",
            "The client's credential (name:secret)",
        ),
        value: format!("{}:{secret}", f.name.trim()),
        notice: tr(
            lang,
            "Klien ditambahkan. Salin kredensialnya sekarang: hanya ditampilkan sekali dan tidak disimpan.",
            "Client added. Copy its credential now: it is shown once and not stored.",
        ),
    });
    outcome(&state, &who, lang, shown).await
}

#[derive(Deserialize)]
struct StatusForm {
    csrf: String,
    lang: String,
    /// `1` to disable, `0` to enable.
    nonaktif: String,
}

page_form!(StatusForm);

async fn set_disabled(
    State(state): State<Shared>,
    Path(name): Path<String>,
    StaffForm {
        who, lang, form: f, ..
    }: StaffForm<ClientManager, StatusForm>,
) -> Response {
    let actor = who.actor();
    match state
        .sahih
        .set_api_client_disabled(&name, f.nonaktif == "1", &actor)
        .await
    {
        Ok(()) => Redirect::to(&super::with_lang("/admin/klien", lang)).into_response(),
        Err(e) => outcome(&state, &who, lang, Err(e)).await,
    }
}

async fn webhook_secret(
    State(state): State<Shared>,
    Path(name): Path<String>,
    StaffForm { who, lang, .. }: StaffForm<ClientManager, super::CsrfForm>,
) -> Response {
    let client = match state.sahih.store.api_client(&name).await {
        Ok(Some(c)) => c,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(_) => return super::unavailable(),
    };
    let actor = who.actor();
    let result = state.sahih.new_webhook_secret(&client, &actor).await;
    let shown = result.map(|secret| Shown {
        what: format!(
            "{} {name}",
            tr(lang, "Rahasia webhook untuk", "Webhook secret for")
        ),
        value: secret.to_string(),
        notice: tr(
            lang,
            "Rahasia webhook baru dibuat; yang lama tidak berlaku lagi. Salin sekarang: hanya ditampilkan sekali.",
            "A new webhook secret was made; the old one no longer works. Copy it now: it is shown once.",
        ),
    });
    outcome(&state, &who, lang, shown).await
}
