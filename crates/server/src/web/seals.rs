//! Electronic seals in the browser (`/ra/segel`): every seal with its status; a verifikator
//! requests one for a unit, a second verifikator issues it (nobody alone makes a seal they could
//! then use), and a verifikator revokes one after a confirmation. Administrators see the list.
//!
//! Calls `Sahih::request_seal`, `issue_seal` and `change_certificate`, as the seal API does.
//!
//! Must not know: how seal keys are made or kept.

use super::roles::{SealKeeper, StaffForm, StaffPage};
use super::session::SignedIn;
use super::{ActorNames, Chrome, error_text, render, tr};
use crate::Shared;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use sahih_core::Lang;
use sahih_core::clients::Capability;
use sahih_core::seal::SealStore;
use serde::Deserialize;

/// The seal routes; POSTs are refused from other sites.
pub fn routes(state: &Shared) -> Router<Shared> {
    Router::new()
        .route("/ra/segel", get(list).post(request))
        .route("/ra/segel/{id}/terbitkan", post(issue))
        .route("/ra/segel/{id}/cabut", post(revoke))
        .route_layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::clone(state),
            crate::http::csrf::reject_cross_site,
        ))
}

struct SealRow {
    id: String,
    name: String,
    unit: String,
    email: String,
    status: String,
    tone: &'static str,
    requested_by: String,
    until: String,
    waiting: bool,
    issued: bool,
}

#[derive(Template)]
#[template(path = "ra_seals.html")]
struct SealsPage {
    c: Chrome,
    csrf: String,
    decides: bool,
    rows: Vec<SealRow>,
    reasons: Vec<(&'static str, String)>,
    notice: Option<String>,
    error: Option<String>,
}

fn status_words(status: &str, lang: Lang) -> (String, &'static str) {
    match status {
        "ISSUE" => (tr(lang, "aktif", "active"), "ok"),
        "WAITING_FOR_VERIFICATION" => (
            tr(lang, "menunggu penerbitan", "waiting to be issued"),
            "warn",
        ),
        "SUSPEND" => (tr(lang, "dibekukan", "suspended"), "warn"),
        "REVOKE" => (tr(lang, "dicabut", "revoked"), "bad"),
        "EXPIRED" => (tr(lang, "kedaluwarsa", "expired"), "bad"),
        other => (other.to_string(), "warn"),
    }
}

async fn view(
    state: &Shared,
    who: &SignedIn,
    lang: Lang,
    decides: bool,
) -> Result<SealsPage, Box<Response>> {
    let seals = state
        .sahih
        .seals()
        .await
        .map_err(|_| Box::new(super::unavailable()))?;
    let mut names = ActorNames::new(state);
    let mut rows = Vec::new();
    for s in seals {
        let requested_by = match state.sahih.store.seal_requested_by(s.seal.id).await {
            Ok(Some(actor)) => names.name(&actor).await,
            _ => String::new(),
        };
        let (status, tone) = status_words(s.status, lang);
        rows.push(SealRow {
            id: s.seal.nik.clone(),
            name: s.seal.name.clone(),
            unit: s.seal.unit.clone(),
            email: s.seal.email.clone(),
            status,
            tone,
            requested_by,
            until: s
                .certificate
                .as_ref()
                .map(|c| sahih_core::format_wib(c.not_after, lang))
                .unwrap_or_default(),
            waiting: s.status == "WAITING_FOR_VERIFICATION",
            issued: matches!(s.status, "ISSUE" | "SUSPEND"),
        });
    }
    Ok(SealsPage {
        c: Chrome::new(
            state,
            lang,
            tr(lang, "Segel elektronik", "Electronic seals"),
            "/ra/segel",
        )
        .signed_in(who),
        csrf: who.csrf(),
        decides,
        rows,
        reasons: sahih_core::certificate_changes::RevocationReason::ALL
            .iter()
            .map(|r| (r.as_str(), r.as_str().to_string()))
            .collect(),
        notice: None,
        error: None,
    })
}

#[derive(Deserialize, Default)]
struct ListQuery {
    ok: Option<String>,
}

async fn list(
    State(state): State<Shared>,
    StaffPage {
        who, staff, lang, ..
    }: StaffPage<SealKeeper>,
    Query(q): Query<ListQuery>,
) -> Response {
    let decides = staff.may(Capability::DecideSeal);
    match view(&state, &who, lang, decides).await {
        Ok(mut p) => {
            p.notice = q.ok.map(|what| match what.as_str() {
                "diajukan" => tr(
                    lang,
                    "Segel diajukan; verifikator lain menerbitkannya.",
                    "Seal requested; another verifikator issues it.",
                ),
                "diterbitkan" => tr(
                    lang,
                    "Segel diterbitkan. Kode aktivasinya dikirim ke e-mail segel saat aplikasi memintanya.",
                    "Seal issued. Its activation code goes to the seal's e-mail when the application asks for it.",
                ),
                _ => tr(lang, "Segel dicabut.", "Seal revoked."),
            });
            render(StatusCode::OK, &p)
        }
        Err(r) => *r,
    }
}

async fn refused(
    state: &Shared,
    who: &SignedIn,
    lang: Lang,
    decides: bool,
    e: &sahih_core::CoreError,
) -> Response {
    let status = match e {
        sahih_core::CoreError::Forbidden { .. } => StatusCode::FORBIDDEN,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    match view(state, who, lang, decides).await {
        Ok(mut p) => {
            p.error = Some(error_text(e, lang));
            render(status, &p)
        }
        Err(r) => *r,
    }
}

#[derive(Deserialize)]
struct RequestForm {
    csrf: String,
    lang: String,
    name: String,
    unit: String,
    email: String,
}

page_form!(RequestForm);

async fn request(
    State(state): State<Shared>,
    StaffForm {
        who,
        staff,
        lang,
        form: f,
        ..
    }: StaffForm<SealKeeper, RequestForm>,
) -> Response {
    let decides = staff.may(Capability::DecideSeal);
    match state
        .sahih
        .request_seal(&staff, &f.name, &f.unit, &f.email)
        .await
    {
        Ok(_) => Redirect::to(&super::with_lang("/ra/segel?ok=diajukan", lang)).into_response(),
        Err(e) => refused(&state, &who, lang, decides, &e).await,
    }
}

#[derive(Deserialize)]
struct DecideForm {
    csrf: String,
    lang: String,
    #[serde(default)]
    alasan: String,
    #[serde(default)]
    konfirmasi: Option<String>,
}

page_form!(DecideForm);

async fn issue(
    State(state): State<Shared>,
    Path(id): Path<String>,
    StaffForm {
        who, staff, lang, ..
    }: StaffForm<SealKeeper, DecideForm>,
) -> Response {
    let decides = staff.may(Capability::DecideSeal);
    match state.sahih.issue_seal(&staff, &id).await {
        Ok(_) => Redirect::to(&super::with_lang("/ra/segel?ok=diterbitkan", lang)).into_response(),
        Err(e) => refused(&state, &who, lang, decides, &e).await,
    }
}

async fn revoke(
    State(state): State<Shared>,
    Path(id): Path<String>,
    StaffForm {
        who,
        staff,
        lang,
        form: f,
        ..
    }: StaffForm<SealKeeper, DecideForm>,
) -> Response {
    use sahih_core::certificate_changes::{CertificateStep, RevocationReason};
    let decides = staff.may(Capability::DecideSeal);
    let reason = RevocationReason::parse(f.alasan.trim());
    let (Some(reason), Some(_)) = (reason, f.konfirmasi.as_ref()) else {
        let e = sahih_core::CoreError::invalid(
            "Pilih alasan dan centang konfirmasi: pencabutan tidak dapat dibatalkan.",
            "Choose a reason and tick the confirmation: a revocation cannot be undone.",
        );
        return refused(&state, &who, lang, decides, &e).await;
    };
    match state
        .sahih
        .change_certificate(&staff, &id, CertificateStep::Revoke(reason), None)
        .await
    {
        Ok(_) => Redirect::to(&super::with_lang("/ra/segel?ok=dicabut", lang)).into_response(),
        Err(e) => refused(&state, &who, lang, decides, &e).await,
    }
}
