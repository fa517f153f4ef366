//! The administrator's page of the CA and trust services (`/admin/ca`): the root and every
//! issuing-CA generation with its validity, the TSA and OCSP responder certificates, how CRLs
//! are published, the audit log's TSA anchors, and rotating the issuing CA after a confirmation
//! that names what it changes.
//!
//! Rotates through `Sahih::rotate_issuing_ca`, as `sahih ca rotate` does, audited under the
//! administrator's account.
//!
//! Must not know: how CA keys are kept or certificates built.

use super::roles::{CaAdmin, StaffForm, StaffPage};
use super::session::SignedIn;
use super::{Chrome, error_text, render, tr};
use crate::Shared;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use sahih_core::Lang;
use sahih_core::store::{CaKind, ServiceKind, Store};
use serde::Deserialize;
use time::OffsetDateTime;

/// The CA routes; POSTs are refused from other sites.
pub fn routes(state: &Shared) -> Router<Shared> {
    Router::new()
        .route("/admin/ca", get(page))
        .route("/admin/ca/rotasi", post(rotate))
        .route_layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::clone(state),
            crate::http::csrf::reject_cross_site,
        ))
}

struct CertRow {
    name: String,
    detail: String,
    until: String,
    /// `ok`, `warn` (under a year left) or `bad` (expired).
    tone: &'static str,
    active: bool,
}

#[derive(Template)]
#[template(path = "admin_ca.html")]
struct CaPage {
    c: Chrome,
    csrf: String,
    cas: Vec<CertRow>,
    services: Vec<CertRow>,
    crls: Vec<String>,
    anchors: String,
    next_generation: i64,
    notice: Option<String>,
    error: Option<String>,
}

fn cert_row(
    der: &[u8],
    name: String,
    detail: String,
    active: bool,
    now: OffsetDateTime,
    lang: Lang,
) -> CertRow {
    let until = sahih_pki::Certificate::from_der(der)
        .map(|c| c.not_after())
        .ok();
    let tone = match until {
        Some(t) if t < now => "bad",
        Some(t) if t < now + time::Duration::days(365) => "warn",
        Some(_) => "ok",
        None => "bad",
    };
    CertRow {
        name,
        detail,
        until: until
            .map(|t| sahih_core::format_wib(t, lang))
            .unwrap_or_else(|| tr(lang, "tidak terbaca", "unreadable")),
        tone,
        active,
    }
}

async fn view(state: &Shared, who: &SignedIn, lang: Lang) -> Result<CaPage, Box<Response>> {
    let unavailable = |_| Box::new(super::unavailable());
    let now = OffsetDateTime::now_utc();
    let cas = state.sahih.store.all_ca().await.map_err(unavailable)?;
    let mut services = Vec::new();
    for kind in [ServiceKind::Tsa, ServiceKind::Ocsp] {
        for k in state
            .sahih
            .store
            .active_service_keys(kind)
            .await
            .map_err(unavailable)?
        {
            let issuer = cas
                .iter()
                .find(|c| c.id == k.issuer_ca_id)
                .map(|c| c.generation)
                .unwrap_or_default();
            let name = match kind {
                ServiceKind::Tsa => tr(lang, "Layanan cap waktu (TSA)", "Time-stamping (TSA)"),
                ServiceKind::Ocsp => format!(
                    "{} {issuer}",
                    tr(
                        lang,
                        "Penjawab OCSP, CA penerbit",
                        "OCSP responder, issuing CA"
                    )
                ),
            };
            services.push(cert_row(&k.cert_der, name, String::new(), true, now, lang));
        }
    }
    let anchors = state
        .sahih
        .store
        .audit_anchors()
        .await
        .map_err(unavailable)?;
    let anchors = match anchors.iter().max_by_key(|a| a.seq) {
        Some(a) => format!(
            "{} {} · {} #{} · {}",
            anchors.len(),
            tr(lang, "jangkar", "anchors"),
            tr(lang, "terakhir pada entri", "latest at entry"),
            a.seq,
            sahih_core::format_wib(a.at, lang)
        ),
        None => tr(
            lang,
            "Belum ada jangkar TSA: rantai audit belum dibuktikan dengan cap waktu.",
            "No TSA anchors yet: the audit chain is not yet proven by a timestamp.",
        ),
    };
    let base = state.sahih.config.base_url.trim_end_matches('/');
    let next_generation = cas
        .iter()
        .filter(|c| c.kind == CaKind::Issuing)
        .map(|c| c.generation)
        .max()
        .unwrap_or(0)
        + 1;
    Ok(CaPage {
        c: Chrome::new(
            state,
            lang,
            tr(lang, "CA dan layanan kepercayaan", "CA and trust services"),
            "/admin/ca",
        )
        .signed_in(who),
        csrf: who.csrf(),
        crls: cas
            .iter()
            .filter(|c| c.kind == CaKind::Issuing)
            .map(|c| format!("{base}/crl/issuing-{}.crl", c.generation))
            .collect(),
        cas: cas
            .iter()
            .map(|c| {
                let name = match c.kind {
                    CaKind::Root => tr(lang, "CA akar", "Root CA"),
                    CaKind::Issuing => {
                        format!("{} {}", tr(lang, "CA penerbit", "Issuing CA"), c.generation)
                    }
                };
                let detail = match (c.kind, c.active) {
                    (CaKind::Issuing, true) => tr(
                        lang,
                        "aktif: sertifikat baru diterbitkan olehnya",
                        "active: new certificates come from it",
                    ),
                    (CaKind::Issuing, false) => tr(
                        lang,
                        "generasi lama: sertifikatnya, OCSP dan CRL-nya tetap berlaku",
                        "earlier generation: its certificates, OCSP and CRL keep working",
                    ),
                    (CaKind::Root, _) => String::new(),
                };
                cert_row(&c.cert_der, name, detail, c.active, now, lang)
            })
            .collect(),
        services,
        anchors,
        next_generation,
        notice: None,
        error: None,
    })
}

#[derive(Deserialize, Default)]
struct PageQuery {
    rotasi: Option<i64>,
}

async fn page(
    State(state): State<Shared>,
    StaffPage { who, lang, .. }: StaffPage<CaAdmin>,
    Query(q): Query<PageQuery>,
) -> Response {
    match view(&state, &who, lang).await {
        Ok(mut p) => {
            p.notice = q.rotasi.map(|g| {
                format!(
                    "{} {g} {}",
                    tr(lang, "CA penerbit", "Issuing CA"),
                    tr(
                        lang,
                        "aktif. Mulai ulang setiap server agar OCSP menjawab untuk generasi baru.",
                        "is active. Restart every server so that OCSP answers for the new generation.",
                    )
                )
            });
            render(StatusCode::OK, &p)
        }
        Err(r) => *r,
    }
}

#[derive(Deserialize)]
struct RotateForm {
    csrf: String,
    lang: String,
    #[serde(default)]
    konfirmasi: Option<String>,
}

page_form!(RotateForm);

async fn rotate(
    State(state): State<Shared>,
    StaffForm {
        who, lang, form: f, ..
    }: StaffForm<CaAdmin, RotateForm>,
) -> Response {
    let mut p = match view(&state, &who, lang).await {
        Ok(p) => p,
        Err(r) => return *r,
    };
    if f.konfirmasi.is_none() {
        p.error = Some(tr(
            lang,
            "Centang konfirmasinya dahulu: rotasi tidak dapat dibatalkan.",
            "Tick the confirmation first: a rotation cannot be undone.",
        ));
        return render(StatusCode::UNPROCESSABLE_ENTITY, &p);
    }
    let actor = who.actor();
    match state.sahih.rotate_issuing_ca(&actor).await {
        Ok(g) => {
            Redirect::to(&super::with_lang(&format!("/admin/ca?rotasi={g}"), lang)).into_response()
        }
        Err(e) => {
            p.error = Some(error_text(&e, lang));
            render(StatusCode::UNPROCESSABLE_ENTITY, &p)
        }
    }
}
