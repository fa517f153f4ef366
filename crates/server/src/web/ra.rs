//! The registration authority's console for staff who log in as people (`/ra`): operators of an
//! OPD file requests for their unit's officials with evidence, see a preview before sending and
//! follow every request of the unit; verifikators of Diskominfo work a queue, review the
//! evidence inline (PDF pages as images, scans full size) against a checklist, and approve or
//! reject with a reason the operator sees. Verifikators also suspend, resume and revoke a
//! certificate (`/ra/pejabat/{nik}`) and work the help desk (`/ra/bantuan`): officials who are
//! stuck, each with its remedy (a new activation link, or lifting a lockout after an identity
//! check, with the reason recorded).
//!
//! Every decision goes through the same core functions as the RA API (`Sahih::ra_submit`,
//! `ra_decide`, `ra_resend_link`, `change_certificate`, `lift_lockout`), so separation of duties, the state machine and the audit are
//! the ones the API has. Staff accounts act as `account:<id>`.
//!
//! Must not know: the RA's rules (`sahih_core::ra`), or how sessions are kept.

use super::roles::{Operator, RaStaff, StaffForm, StaffPage, Verifikator};
use super::session::SignedIn;
use super::upload::{FormData, UploadError, read_form};
use super::{Check, Chrome, MessagePage, error_text, human_size, render, tr, with_lang};
use crate::Shared;
use askama::Template;
use axum::Router;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use sahih_core::Lang;
use sahih_core::ra::RaStore;
use sahih_core::ra::{
    EvidenceKind, EvidenceUpload, MediaType, RaRequest, RequestKind, RequestState, Staff,
    SubmissionInput,
};
use sahih_core::store::NewOfficial;
use sahih_core::store::Store;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use time::OffsetDateTime;

/// Pages of a PDF evidence file shown inline (the rest through "open the file").
const PAGES_SHOWN: usize = 6;
/// Drafts kept at once (each holds its files in memory until sent or dropped).
const DRAFTS_KEPT: usize = 32;
/// A draft not sent within this time is dropped.
const DRAFT_TTL: std::time::Duration = std::time::Duration::from_secs(3600);

/// The evidence fields of the request form, in the order they are shown.
const EVIDENCE_FIELDS: [EvidenceKind; 3] = [
    EvidenceKind::SuratPermohonan,
    EvidenceKind::Ktp,
    EvidenceKind::SkJabatan,
];

/// The console's routes; POSTs are refused from other sites, and the request form takes up to
/// three evidence files.
pub fn routes(state: &Shared) -> Router<Shared> {
    let max_evidence = state.sahih.config.ra.max_evidence_mib.max(1) as usize * 1024 * 1024;
    Router::new()
        .route("/ra", get(queue))
        .route(
            "/ra/baru",
            get(new_form)
                .post(preview)
                .layer(axum::extract::DefaultBodyLimit::max(
                    max_evidence.saturating_mul(3).saturating_add(256 * 1024),
                )),
        )
        .route("/ra/draf/{token}/kirim", post(send_draft))
        .route("/ra/draf/{token}/berkas/{kind}", get(draft_file))
        .route(
            "/ra/draf/{token}/berkas/{kind}/halaman/{page}",
            get(draft_page),
        )
        .route("/ra/bantuan", get(helpdesk))
        .route("/ra/pejabat/{nik}", get(official_page))
        .route("/ra/pejabat/{nik}/ubah", post(change_certificate))
        .route("/ra/pejabat/{nik}/buka-kunci", post(lift_lockout))
        .route("/ra/{id}", get(review))
        .route("/ra/{id}/putus", post(decide))
        .route("/ra/{id}/tautan", post(resend_link))
        .route("/ra/{id}/berkas/{kind}", get(evidence_file))
        .route("/ra/{id}/berkas/{kind}/halaman/{page}", get(evidence_page))
        .route_layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::clone(state),
            crate::http::csrf::reject_cross_site,
        ))
}

/// Submissions an operator has previewed but not sent yet, by random token, each bound to the
/// account that made it. In memory: a draft lost to a restart is filed again from the form.
#[derive(Default)]
pub struct RaDrafts {
    drafts: Mutex<HashMap<String, Draft>>,
}

struct Draft {
    account_id: i64,
    made: std::time::Instant,
    input: SubmissionInput,
}

impl RaDrafts {
    fn put(&self, account_id: i64, input: SubmissionInput) -> Option<String> {
        let token = sahih_core::ids::new_document_id();
        let mut drafts = self.drafts.lock().ok()?;
        drafts.retain(|_, d| d.made.elapsed() < DRAFT_TTL && d.account_id != account_id);
        if drafts.len() >= DRAFTS_KEPT {
            return None;
        }
        drafts.insert(
            token.clone(),
            Draft {
                account_id,
                made: std::time::Instant::now(),
                input,
            },
        );
        Some(token)
    }

    /// Whether the draft is this account's, live, and holds a file of `kind` (nothing copied).
    fn has(&self, account_id: i64, token: &str, kind: EvidenceKind) -> bool {
        self.drafts.lock().is_ok_and(|drafts| {
            drafts.get(token).is_some_and(|d| {
                d.account_id == account_id
                    && d.made.elapsed() < DRAFT_TTL
                    && d.input.evidence.iter().any(|e| e.kind == kind)
            })
        })
    }

    fn file(&self, account_id: i64, token: &str, kind: EvidenceKind) -> Option<Vec<u8>> {
        let drafts = self.drafts.lock().ok()?;
        let d = drafts
            .get(token)
            .filter(|d| d.account_id == account_id && d.made.elapsed() < DRAFT_TTL)?;
        d.input
            .evidence
            .iter()
            .find(|e| e.kind == kind)
            .map(|e| e.bytes.clone())
    }

    fn take(&self, account_id: i64, token: &str) -> Option<SubmissionInput> {
        let mut drafts = self.drafts.lock().ok()?;
        let mine = drafts
            .get(token)
            .is_some_and(|d| d.account_id == account_id && d.made.elapsed() < DRAFT_TTL);
        mine.then(|| drafts.remove(token))
            .flatten()
            .map(|d| d.input)
    }
}

fn message(
    state: &Shared,
    who: &SignedIn,
    lang: Lang,
    status: StatusCode,
    title: String,
    text: String,
) -> Response {
    let c = Chrome::new(state, lang, title, "/ra").signed_in(who);
    let link = Some((
        c.href("/ra"),
        tr(lang, "Ke daftar permohonan", "To the requests"),
    ));
    let tone = if status.is_success() { "ok" } else { "bad" };
    render(
        status,
        &MessagePage {
            c,
            tone,
            paragraphs: vec![text],
            link,
        },
    )
}

fn core_refusal(state: &Shared, who: &SignedIn, lang: Lang, e: &sahih_core::CoreError) -> Response {
    use sahih_core::CoreError as E;
    let status = match e {
        E::NotFound(_) => StatusCode::NOT_FOUND,
        E::Forbidden { .. } => StatusCode::FORBIDDEN,
        E::Store(_) | E::Service(_) | E::Io(_) | E::Blob(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::CONFLICT,
    };
    let title = match e {
        E::NotFound(_) => tr(lang, "Permohonan tidak ditemukan", "Request not found"),
        E::Forbidden { .. } => tr(lang, "Tidak diizinkan", "Not allowed"),
        _ => tr(lang, "Tidak dapat diproses", "Could not be done"),
    };
    let text = match e {
        E::NotFound(_) => tr(
            lang,
            "Permohonan ini tidak ada atau bukan milik unit Anda.",
            "This request does not exist or is not your unit's.",
        ),
        other => error_text(other, lang),
    };
    message(state, who, lang, status, title, text)
}

fn kind_label(kind: RequestKind, lang: Lang) -> String {
    match kind {
        RequestKind::Enroll => tr(lang, "Pendaftaran baru", "New enrolment"),
        RequestKind::Renew => tr(lang, "Perpanjangan sertifikat", "Certificate renewal"),
        RequestKind::Mutasi => tr(lang, "Mutasi (jabatan/unit/nama)", "Change of position"),
        RequestKind::Reset => tr(lang, "Reset passphrase", "Passphrase reset"),
    }
}

fn evidence_label(kind: EvidenceKind, lang: Lang) -> String {
    match kind {
        EvidenceKind::SuratPermohonan => tr(
            lang,
            "Surat permohonan kepala OPD",
            "Request letter from the head of the OPD",
        ),
        EvidenceKind::Ktp => tr(lang, "e-KTP", "e-KTP (identity card)"),
        EvidenceKind::SkJabatan => tr(lang, "SK jabatan", "Decree of appointment (SK)"),
    }
}

/// The state as a badge: (CSS class, text).
fn state_badge(s: RequestState, lang: Lang) -> (&'static str, String) {
    match s {
        RequestState::New => (
            "baru",
            tr(lang, "Berkas belum lengkap", "Evidence incomplete"),
        ),
        RequestState::WaitingForVerification => (
            "dibuka",
            tr(lang, "Menunggu verifikasi", "Waiting for verification"),
        ),
        RequestState::Approved => (
            "dibaca",
            tr(
                lang,
                "Disetujui, menunggu aktivasi",
                "Approved, awaiting activation",
            ),
        ),
        RequestState::Rejected => ("ditolak", tr(lang, "Ditolak", "Rejected")),
        RequestState::Activated => ("ditandatangani", tr(lang, "Aktif", "Active")),
    }
}

/// An official's certificate status in words.
fn status_label(s: sahih_core::lifecycle::Status, lang: Lang) -> String {
    use sahih_core::lifecycle::Status as S;
    let (id, en) = match s {
        S::NotRegistered => ("Belum terdaftar", "Not registered"),
        S::New => (
            "Terdaftar, berkas belum lengkap",
            "Registered, evidence incomplete",
        ),
        S::WaitingForVerification => ("Menunggu verifikasi", "Waiting for verification"),
        S::NoCertificate => ("Disetujui, belum aktivasi", "Approved, not yet activated"),
        S::Issue => ("Sertifikat aktif", "Certificate active"),
        S::Suspend => ("Sertifikat dibekukan", "Certificate suspended"),
        S::Revoke => ("Sertifikat dicabut", "Certificate revoked"),
        S::Expired => ("Sertifikat kedaluwarsa", "Certificate expired"),
        S::Renew => (
            "Perpanjangan/perubahan berjalan",
            "Renewal or change in progress",
        ),
    };
    tr(lang, id, en)
}

/// The status filter's values in the query (short, readable) and their states.
const STATE_KEYS: [(&str, RequestState); 5] = [
    ("menunggu", RequestState::WaitingForVerification),
    ("belum-lengkap", RequestState::New),
    ("disetujui", RequestState::Approved),
    ("ditolak", RequestState::Rejected),
    ("aktif", RequestState::Activated),
];

fn wib(t: OffsetDateTime, lang: Lang) -> String {
    sahih_core::format_wib(t, lang)
}

// ---------------------------------------------------------------------------------------------
// The queue.

#[derive(Deserialize, Default)]
struct QueueQuery {
    status: Option<String>,
    unit: Option<String>,
    umur: Option<String>,
    dikirim: Option<String>,
}

struct Row {
    href: String,
    name: String,
    nik: String,
    kind: String,
    badge: (&'static str, String),
    unit: String,
    submitted: String,
    age_days: i64,
}

#[derive(Template)]
#[template(path = "ra_queue.html")]
struct QueuePage {
    c: Chrome,
    operator: bool,
    verifikator: bool,
    unit_of_operator: String,
    rows: Vec<Row>,
    status: String,
    states: Vec<(&'static str, String)>,
    unit: String,
    age: String,
    notice: Option<String>,
}

async fn queue(
    State(state): State<Shared>,
    StaffPage {
        who, staff, lang, ..
    }: StaffPage<RaStaff>,
    Query(q): Query<QueueQuery>,
) -> Response {
    let operator = staff.may(sahih_core::clients::Capability::SubmitRegistration);
    let verifikator = staff.may(sahih_core::clients::Capability::DecideRegistration);
    // A verifikator opens on what waits for them; an operator on everything of the unit.
    let status = q
        .status
        .clone()
        .unwrap_or_else(|| if verifikator { "menunggu" } else { "semua" }.to_string());
    let wanted = STATE_KEYS
        .iter()
        .find(|(k, _)| *k == status)
        .map(|(_, s)| *s);
    let requests = match state.sahih.ra_list(&staff, wanted).await {
        Ok(r) => r,
        Err(e) => return core_refusal(&state, &who, lang, &e),
    };
    let unit_filter = q.unit.clone().unwrap_or_default();
    let min_age: i64 = q.umur.as_deref().and_then(|a| a.parse().ok()).unwrap_or(0);
    let now = OffsetDateTime::now_utc();
    let mut rows = Vec::new();
    for r in requests {
        let age_days = (now - r.submitted_at).whole_days();
        let unit = r.official.unit.clone();
        if !unit_filter.trim().is_empty()
            && !unit
                .to_lowercase()
                .contains(&unit_filter.trim().to_lowercase())
        {
            continue;
        }
        if age_days < min_age {
            continue;
        }
        rows.push(Row {
            href: format!("/ra/{}", r.id),
            name: r.official.name.clone(),
            nik: r.official.nik.clone(),
            kind: kind_label(r.kind, lang),
            badge: state_badge(r.state, lang),
            unit,
            submitted: wib(r.submitted_at, lang),
            age_days,
        });
    }
    let c = Chrome::new(
        &state,
        lang,
        tr(lang, "Permohonan sertifikat", "Certificate requests"),
        "/ra",
    )
    .signed_in(&who);
    let states = STATE_KEYS
        .iter()
        .map(|(k, s)| (*k, state_badge(*s, lang).1))
        .collect();
    let notice = q.dikirim.as_ref().map(|_| {
        tr(
            lang,
            "Permohonan terkirim ke verifikator Diskominfo.",
            "The request went to the Diskominfo verifikators.",
        )
    });
    render(
        StatusCode::OK,
        &QueuePage {
            c,
            operator,
            verifikator,
            unit_of_operator: staff.unit.clone().unwrap_or_default(),
            rows,
            status,
            states,
            unit: unit_filter,
            age: q.umur.unwrap_or_default(),
            notice,
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Filing a request: the form, its preview, and sending it.

#[derive(Deserialize, Default)]
struct NewQuery {
    /// An earlier request whose official the form is filled in for: a rejected one to file
    /// again, or an active one to renew, move (mutasi) or reset.
    dari: Option<String>,
    /// The kind to preselect (`renew`, `mutasi`, `reset`).
    jenis: Option<String>,
}

/// The values of the request form, kept when the form comes back with an error.
#[derive(Default, Clone)]
struct Filled {
    kind: String,
    nik: String,
    nip: String,
    name: String,
    email: String,
    position: String,
    unit: String,
}

#[derive(Template)]
#[template(path = "ra_new.html")]
struct NewPage {
    c: Chrome,
    csrf: String,
    f: Filled,
    unit_of_operator: String,
    kinds: Vec<(&'static str, String)>,
    files: Vec<(&'static str, String, bool)>,
    error: Option<String>,
    max_mib: u64,
}

fn new_page(
    state: &Shared,
    who: &SignedIn,
    lang: Lang,
    staff: &Staff,
    f: Filled,
    error: Option<String>,
) -> NewPage {
    let kinds = [
        RequestKind::Enroll,
        RequestKind::Renew,
        RequestKind::Mutasi,
        RequestKind::Reset,
    ]
    .iter()
    .map(|k| (k.as_str(), kind_label(*k, lang)))
    .collect();
    let files = EVIDENCE_FIELDS
        .iter()
        .map(|k| {
            (
                k.as_str(),
                evidence_label(*k, lang),
                *k == EvidenceKind::SuratPermohonan,
            )
        })
        .collect();
    NewPage {
        c: Chrome::new(
            state,
            lang,
            tr(lang, "Ajukan permohonan", "File a request"),
            "/ra/baru",
        )
        .signed_in(who),
        csrf: who.csrf(),
        f,
        unit_of_operator: staff.unit.clone().unwrap_or_default(),
        kinds,
        files,
        error,
        max_mib: state.sahih.config.ra.max_evidence_mib,
    }
}

async fn new_form(
    State(state): State<Shared>,
    StaffPage {
        who, staff, lang, ..
    }: StaffPage<Operator>,
    Query(q): Query<NewQuery>,
) -> Response {
    let mut f = Filled {
        kind: RequestKind::Enroll.as_str().into(),
        unit: staff.unit.clone().unwrap_or_default(),
        ..Filled::default()
    };
    if let Some(id) = q.dari.as_deref() {
        match state.sahih.ra_request_for(&staff, id).await {
            Ok(r) => {
                let o = r.official;
                let kind = q
                    .jenis
                    .as_deref()
                    .and_then(RequestKind::parse)
                    .unwrap_or(r.kind);
                f = Filled {
                    kind: kind.as_str().into(),
                    nik: o.nik,
                    nip: o.nip,
                    name: o.name,
                    email: o.email,
                    position: o.position,
                    unit: o.unit,
                };
            }
            Err(e) => return core_refusal(&state, &who, lang, &e),
        }
    }
    render(
        StatusCode::OK,
        &new_page(&state, &who, lang, &staff, f, None),
    )
}

struct FilePreview {
    label: String,
    file_name: String,
    size: String,
    src: String,
    pdf: bool,
    pages: Vec<String>,
}

#[derive(Template)]
#[template(path = "ra_preview.html")]
struct PreviewPage {
    c: Chrome,
    csrf: String,
    token: String,
    kind: String,
    official: NewOfficial,
    files: Vec<FilePreview>,
}

fn filled_of(form: &FormData, staff: &Staff) -> Filled {
    let kind = form.text("kind").to_string();
    Filled {
        unit: if kind == RequestKind::Mutasi.as_str() {
            form.text("unit").to_string()
        } else {
            staff.unit.clone().unwrap_or_default()
        },
        kind,
        nik: form.text("nik").to_string(),
        nip: form.text("nip").to_string(),
        name: form.text("name").to_string(),
        email: form.text("email").to_string(),
        position: form.text("position").to_string(),
    }
}

/// A file's pages for the preview: its page count (from the renderer) capped at
/// [`PAGES_SHOWN`].
fn page_srcs(state: &Shared, key: &str, bytes: &[u8], base: &str) -> Vec<String> {
    let count = match state.previews.count(key) {
        Some(n) => n,
        None => {
            let n = super::preview::page_count(bytes).unwrap_or(0);
            state.previews.put_count(key, n);
            n
        }
    };
    (1..=count.min(PAGES_SHOWN))
        .map(|p| format!("{base}/halaman/{p}"))
        .collect()
}

async fn preview(
    State(state): State<Shared>,
    StaffPage { who, staff, .. }: StaffPage<Operator>,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let max_bytes = state.sahih.config.ra.max_evidence_mib.max(1) as usize * 1024 * 1024;
    let fields: Vec<&str> = EVIDENCE_FIELDS.iter().map(|k| k.as_str()).collect();
    let (lang, data) = read_form(form, &fields, max_bytes).await;
    let data = match data {
        Ok(d) => d,
        Err(e) => {
            let text = match e {
                UploadError::TooLarge => tr(
                    lang,
                    &format!(
                        "Setiap berkas paling besar {} MB.",
                        state.sahih.config.ra.max_evidence_mib
                    ),
                    &format!(
                        "Each file may be at most {} MB.",
                        state.sahih.config.ra.max_evidence_mib
                    ),
                ),
                _ => tr(
                    lang,
                    "Formulir tidak sampai dengan utuh. Coba kirim sekali lagi.",
                    "The form did not arrive whole. Please send it again.",
                ),
            };
            let f = Filled {
                kind: RequestKind::Enroll.as_str().into(),
                unit: staff.unit.clone().unwrap_or_default(),
                ..Filled::default()
            };
            return render(
                e.status(),
                &new_page(&state, &who, lang, &staff, f, Some(text)),
            );
        }
    };
    if !who.csrf_ok(data.text("csrf")) {
        return super::csrf_refused(lang);
    }
    let f = filled_of(&data, &staff);
    let again = |error: String| {
        let text = format!(
            "{error} {}",
            tr(
                lang,
                "Pilih kembali berkas buktinya sebelum mengirim lagi.",
                "Choose the evidence files again before sending.",
            )
        );
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &new_page(&state, &who, lang, &staff, f.clone(), Some(text)),
        )
    };
    let Some(kind) = RequestKind::parse(&f.kind) else {
        return again(tr(
            lang,
            "Pilih jenis permohonan.",
            "Choose the kind of request.",
        ));
    };
    let official = NewOfficial {
        nik: f.nik.clone(),
        nip: f.nip.clone(),
        name: f.name.clone(),
        email: f.email.clone(),
        position: f.position.clone(),
        unit: f.unit.clone(),
    };
    let evidence: Vec<EvidenceUpload> = data
        .files
        .into_iter()
        .filter_map(|(field, file_name, bytes)| {
            EvidenceKind::parse(&field).map(|kind| EvidenceUpload {
                kind,
                nik: None,
                file_name: Some(file_name).filter(|n| !n.is_empty()),
                bytes,
            })
        })
        .collect();
    let input = SubmissionInput {
        kind,
        officials: vec![official.clone()],
        evidence,
        require_complete: true,
    };
    let checked = match state.sahih.ra_check_submission(&staff, &input) {
        Ok(c) => c,
        Err(e) => return again(evidence_error_text(&e, lang)),
    };
    let Some(token) = state.ra_drafts.put(who.view.account.id, input.clone()) else {
        return again(tr(
            lang,
            "Terlalu banyak draf yang sedang menunggu; coba lagi sebentar lagi.",
            "Too many drafts are waiting; try again shortly.",
        ));
    };
    let mut files = Vec::new();
    for (upload, (media, _)) in input.evidence.iter().zip(&checked.files) {
        let base = format!("/ra/draf/{token}/berkas/{}", upload.kind.as_str());
        let pdf = *media == MediaType::Pdf;
        let pages = if pdf {
            page_srcs(
                &state,
                &draft_key(&token, upload.kind),
                &upload.bytes,
                &base,
            )
        } else {
            Vec::new()
        };
        files.push(FilePreview {
            label: evidence_label(upload.kind, lang),
            file_name: upload.file_name.clone().unwrap_or_default(),
            size: human_size(upload.bytes.len() as u64, lang),
            src: base,
            pdf,
            pages,
        });
    }
    let c = Chrome::new(
        &state,
        lang,
        tr(lang, "Periksa sebelum mengirim", "Check before sending"),
        "/ra/baru",
    )
    .signed_in(&who);
    render(
        StatusCode::OK,
        &PreviewPage {
            c,
            csrf: who.csrf(),
            token,
            kind: kind_label(kind, lang),
            official,
            files,
        },
    )
}

/// What a person reads about refused evidence or identity: the core's words, with the kinds of
/// evidence named as on the form.
fn evidence_error_text(e: &sahih_core::CoreError, lang: Lang) -> String {
    let mut text = error_text(e, lang);
    for k in EVIDENCE_FIELDS {
        text = text.replace(k.as_str(), &evidence_label(k, lang));
    }
    text
}

fn draft_key(token: &str, kind: EvidenceKind) -> String {
    format!("draf:{token}:{}", kind.as_str())
}

async fn send_draft(
    State(state): State<Shared>,
    Path(token): Path<String>,
    StaffForm {
        who, staff, lang, ..
    }: StaffForm<Operator, super::CsrfForm>,
) -> Response {
    let Some(input) = state.ra_drafts.take(who.view.account.id, &token) else {
        return message(
            &state,
            &who,
            lang,
            StatusCode::GONE,
            tr(lang, "Draf tidak ada lagi", "The draft is gone"),
            tr(
                lang,
                "Draf ini sudah dikirim atau kedaluwarsa (satu jam). Isi formulirnya sekali lagi.",
                "This draft was already sent or expired (one hour). Fill in the form again.",
            ),
        );
    };
    match state.sahih.ra_submit(&state.blobs, &staff, input).await {
        Ok(outcome) => match outcome.requests.first() {
            Some(r) => {
                Redirect::to(&with_lang(&format!("/ra/{}?dikirim=1", r.id), lang)).into_response()
            }
            None => Redirect::to(&with_lang("/ra?dikirim=1", lang)).into_response(),
        },
        Err(e) => core_refusal(&state, &who, lang, &e),
    }
}

fn evidence_kind_of(s: &str) -> Option<EvidenceKind> {
    EVIDENCE_FIELDS.into_iter().find(|k| k.as_str() == s)
}

async fn draft_file(
    State(state): State<Shared>,
    StaffPage { who, .. }: StaffPage<Operator>,
    Path((token, kind)): Path<(String, String)>,
) -> Response {
    let Some(kind) = evidence_kind_of(&kind) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match state.ra_drafts.file(who.view.account.id, &token, kind) {
        Some(bytes) => file_response(bytes, None),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn draft_page(
    State(state): State<Shared>,
    StaffPage { who, .. }: StaffPage<Operator>,
    Path((token, kind, page)): Path<(String, String, usize)>,
) -> Response {
    let (Some(kind), Some(index)) = (evidence_kind_of(&kind), page.checked_sub(1)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // The draft is checked on every request, also when its pages are cached; its file is
    // copied out only when a page has to be rendered.
    let account = who.view.account.id;
    if !state.ra_drafts.has(account, &token, kind) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let load = async {
        state
            .ra_drafts
            .file(account, &token, kind)
            .ok_or_else(|| StatusCode::NOT_FOUND.into_response())
    };
    super::preview::page_png(&state.previews, &draft_key(&token, kind), index, load).await
}

/// An evidence file as its own type, shown inline. Only PDF, JPEG and PNG ever get here (sniffed
/// by content, served with `nosniff`), so the browser shows it with its own viewer; a CSP sandbox
/// would make Chromium refuse to show a PDF at all.
fn file_response(bytes: Vec<u8>, name: Option<&str>) -> Response {
    let media = sahih_core::ra::sniff(&bytes);
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(
            media
                .map(|m| m.as_str())
                .unwrap_or("application/octet-stream"),
        ),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    let safe: String = name
        .unwrap_or("berkas")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{safe}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

// ---------------------------------------------------------------------------------------------
// Reviewing a request.

#[derive(Deserialize, Default)]
struct ReviewQuery {
    dikirim: Option<String>,
    diputus: Option<String>,
    tautan: Option<String>,
}

struct EvidenceView {
    kind: &'static str,
    label: String,
    file_name: String,
    size: String,
    sha256: String,
    src: String,
    pdf: bool,
    pages: Vec<String>,
    checks: Vec<Check>,
    damaged: bool,
}

#[derive(Template)]
#[template(path = "ra_review.html")]
struct ReviewPage {
    c: Chrome,
    csrf: String,
    id: String,
    kind: String,
    official: NewOfficial,
    badge: (&'static str, String),
    official_status: String,
    submitted_by: String,
    submitted: String,
    decided_by: String,
    decided: String,
    reason: String,
    evidence: Vec<EvidenceView>,
    missing: Vec<String>,
    can_decide: bool,
    can_resend: bool,
    can_refile: bool,
    can_manage: bool,
    /// An operator may file the next step for an active official: renewal, mutasi or reset.
    can_follow_up: bool,
    notice: Option<String>,
}

async fn review(
    State(state): State<Shared>,
    StaffPage {
        who, staff, lang, ..
    }: StaffPage<RaStaff>,
    Path(id): Path<String>,
    Query(q): Query<ReviewQuery>,
) -> Response {
    let request = match state.sahih.ra_request_for(&staff, &id).await {
        Ok(r) => r,
        Err(e) => return core_refusal(&state, &who, lang, &e),
    };
    let stored = match state
        .sahih
        .store
        .ra_evidence(&request.submission_id, &request.id)
        .await
    {
        Ok(e) => e,
        Err(e) => return core_refusal(&state, &who, lang, &e.into()),
    };
    let mut evidence = Vec::new();
    for e in &stored {
        let base = format!("/ra/{}/berkas/{}", request.id, e.kind.as_str());
        let pdf = e.media_type == MediaType::Pdf;
        let mut view = EvidenceView {
            kind: e.kind.as_str(),
            label: evidence_label(e.kind, lang),
            file_name: e.file_name.clone().unwrap_or_default(),
            size: human_size(u64::try_from(e.size).unwrap_or(0), lang),
            sha256: e.sha256_hex.clone(),
            src: base.clone(),
            pdf,
            pages: Vec::new(),
            checks: Vec::new(),
            damaged: false,
        };
        if pdf {
            match state
                .sahih
                .ra_evidence_file(&state.blobs, &staff, &request.id, e.kind)
                .await
            {
                Ok((_, bytes)) => {
                    view.pages = page_srcs(&state, &e.blob_key, &bytes, &base);
                    if e.kind == EvidenceKind::SuratPermohonan {
                        view.checks = letter_checks(&state, &bytes, lang).await;
                    }
                }
                Err(_) => view.damaged = true,
            }
        }
        evidence.push(view);
    }
    let have: Vec<EvidenceKind> = stored.iter().map(|e| e.kind).collect();
    let missing = std::iter::once(EvidenceKind::SuratPermohonan)
        .chain(request.kind.required_evidence().iter().copied())
        .filter(|k| !have.contains(k))
        .map(|k| evidence_label(k, lang))
        .collect();
    let official_status = match state.sahih.status_of(&request.official.nik).await {
        Ok(s) => status_label(s, lang),
        Err(_) => "-".into(),
    };
    let mut actors = super::ActorNames::new(&state);
    let submitted_by = actors.name(&request.submitted_by).await;
    let decided_by = match &request.decided_by {
        Some(d) => actors.name(d).await,
        None => String::new(),
    };
    let decides = staff.may(sahih_core::clients::Capability::DecideRegistration);
    let notice = if q.dikirim.is_some() {
        Some(tr(
            lang,
            "Permohonan terkirim. Verifikator Diskominfo akan memeriksanya.",
            "The request was sent. A Diskominfo verifikator will review it.",
        ))
    } else if let Some(d) = q.diputus.as_deref() {
        Some(if d == "setuju" {
            tr(
                lang,
                "Permohonan disetujui; tautan aktivasi dikirim ke e-mail pejabat.",
                "Request approved; the activation link went to the official's e-mail.",
            )
        } else {
            tr(
                lang,
                "Permohonan ditolak; operator melihat alasannya.",
                "Request rejected; the operator sees the reason.",
            )
        })
    } else {
        q.tautan.as_ref().map(|_| {
            tr(
                lang,
                "Tautan aktivasi baru dikirim; tautan lama tidak berlaku lagi.",
                "A new activation link was sent; the old one no longer works.",
            )
        })
    };
    let title = format!(
        "{} · {}",
        kind_label(request.kind, lang),
        request.official.name
    );
    let c = Chrome::new(&state, lang, title, &format!("/ra/{}", request.id)).signed_in(&who);
    render(
        StatusCode::OK,
        &ReviewPage {
            c,
            csrf: who.csrf(),
            id: request.id.clone(),
            kind: kind_label(request.kind, lang),
            badge: state_badge(request.state, lang),
            official_status,
            submitted_by,
            submitted: wib(request.submitted_at, lang),
            decided_by,
            decided: request.decided_at.map(|t| wib(t, lang)).unwrap_or_default(),
            reason: request.reason.clone().unwrap_or_default(),
            evidence,
            missing,
            can_decide: decides && request.state == RequestState::WaitingForVerification,
            can_resend: decides && request.state == RequestState::Approved,
            can_refile: staff.may(sahih_core::clients::Capability::SubmitRegistration)
                && request.state == RequestState::Rejected,
            can_manage: staff.may(sahih_core::clients::Capability::ChangeCertificate),
            can_follow_up: staff.may(sahih_core::clients::Capability::SubmitRegistration)
                && request.state == RequestState::Activated,
            official: request.official,
            notice,
        },
    )
}

/// What the verifikator learns from the request letter's own electronic signature, if it has one:
/// verified with the same function as every other door.
async fn letter_checks(state: &Shared, bytes: &[u8], lang: Lang) -> Vec<Check> {
    use sahih_validate::Indication;
    let report = match state
        .sahih
        .verify_bytes(bytes, Vec::new(), OffsetDateTime::now_utc())
        .await
    {
        Ok(r) => r,
        Err(_) => {
            return vec![Check::warn(tr(
                lang,
                "Tanda tangan elektronik surat tidak dapat diperiksa.",
                "The letter's electronic signature could not be checked.",
            ))];
        }
    };
    if report.signatures.is_empty() {
        return vec![Check::warn(tr(
            lang,
            "Surat tidak ditandatangani secara elektronik: periksa tanda tangan basah dan cap dinasnya.",
            "The letter is not electronically signed: check its handwritten signature and stamp.",
        ))];
    }
    report
        .signatures
        .iter()
        .map(|s| {
            let who = [
                s.signer_name.clone(),
                s.signer_title.clone(),
                s.signer_unit.clone(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
            match s.indication {
                Indication::TotalPassed => Check::ok(format!(
                    "{}: {who}",
                    tr(
                        lang,
                        "Ditandatangani secara elektronik (SAH) oleh",
                        "Electronically signed (VALID) by"
                    )
                )),
                Indication::TotalFailed => Check::bad(format!(
                    "{}: {who}",
                    tr(
                        lang,
                        "Tanda tangan elektronik TIDAK SAH",
                        "Electronic signature NOT VALID"
                    )
                )),
                Indication::Indeterminate => Check::warn(format!(
                    "{}: {who}",
                    tr(
                        lang,
                        "Tanda tangan elektronik belum dapat dipastikan",
                        "Electronic signature could not be confirmed"
                    )
                )),
            }
        })
        .collect()
}

/// The checklist a verifikator ticks before approving, by field name.
const CHECKLIST: [&str; 3] = ["cek_ktp", "cek_sk", "cek_surat"];

#[derive(Deserialize)]
struct DecideForm {
    csrf: String,
    lang: String,
    putusan: String,
    #[serde(default)]
    alasan: String,
    #[serde(default)]
    cek_ktp: Option<String>,
    #[serde(default)]
    cek_sk: Option<String>,
    #[serde(default)]
    cek_surat: Option<String>,
}

page_form!(DecideForm);

async fn decide(
    State(state): State<Shared>,
    Path(id): Path<String>,
    StaffForm {
        who,
        staff,
        lang,
        form: f,
        ..
    }: StaffForm<RaStaff, DecideForm>,
) -> Response {
    let approve = f.putusan == "setuju";
    let reason = if approve {
        let ticked = [&f.cek_ktp, &f.cek_sk, &f.cek_surat]
            .iter()
            .filter(|c| c.is_some())
            .count();
        if ticked < CHECKLIST.len() {
            return message(
                &state,
                &who,
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                tr(
                    lang,
                    "Daftar periksa belum lengkap",
                    "The checklist is not complete",
                ),
                tr(
                    lang,
                    "Centang ketiga butir daftar periksa sebelum menyetujui, atau tolak permohonan dengan alasannya.",
                    "Tick all three checklist items before approving, or reject the request with a reason.",
                ),
            );
        }
        // What the verifikator confirmed goes into the decision's audit entry.
        let mut text =
            "Diperiksa: nama dan NIK sesuai e-KTP; jabatan sesuai SK; surat dari kepala unit"
                .to_string();
        if !f.alasan.trim().is_empty() {
            text.push_str(". ");
            text.push_str(f.alasan.trim());
        }
        Some(text)
    } else {
        Some(f.alasan.trim().to_string())
    };
    match state
        .sahih
        .ra_decide(
            &state.blobs,
            &staff,
            &id,
            approve,
            reason.as_deref().filter(|r| !r.is_empty()),
            lang,
        )
        .await
    {
        Ok(r) => Redirect::to(&with_lang(
            &format!(
                "/ra/{}?diputus={}",
                r.id,
                if approve { "setuju" } else { "tolak" }
            ),
            lang,
        ))
        .into_response(),
        Err(e) => core_refusal(&state, &who, lang, &e),
    }
}

async fn resend_link(
    State(state): State<Shared>,
    Path(id): Path<String>,
    StaffForm {
        who, staff, lang, ..
    }: StaffForm<RaStaff, super::CsrfForm>,
) -> Response {
    match state.sahih.ra_resend_link(&staff, &id, lang).await {
        Ok(r) => Redirect::to(&with_lang(&format!("/ra/{}?tautan=1", r.id), lang)).into_response(),
        Err(e) => core_refusal(&state, &who, lang, &e),
    }
}

async fn evidence_file(
    State(state): State<Shared>,
    StaffPage {
        who, staff, lang, ..
    }: StaffPage<RaStaff>,
    Path((id, kind)): Path<(String, String)>,
) -> Response {
    let Some(kind) = evidence_kind_of(&kind) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match state
        .sahih
        .ra_evidence_file(&state.blobs, &staff, &id, kind)
        .await
    {
        Ok((e, bytes)) => file_response(bytes, e.file_name.as_deref()),
        Err(e) => core_refusal(&state, &who, lang, &e),
    }
}

async fn evidence_page(
    State(state): State<Shared>,
    StaffPage {
        who, staff, lang, ..
    }: StaffPage<RaStaff>,
    Path((id, kind, page)): Path<(String, String, usize)>,
) -> Response {
    let (Some(kind), Some(index)) = (evidence_kind_of(&kind), page.checked_sub(1)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Who may see it is checked on every request, also when the page is cached.
    let request: RaRequest = match state.sahih.ra_request_for(&staff, &id).await {
        Ok(r) => r,
        Err(e) => return core_refusal(&state, &who, lang, &e),
    };
    let key = match state
        .sahih
        .store
        .ra_evidence(&request.submission_id, &request.id)
        .await
    {
        Ok(list) => match list.into_iter().find(|e| e.kind == kind) {
            Some(e) => e.blob_key,
            None => return StatusCode::NOT_FOUND.into_response(),
        },
        Err(_) => return super::unavailable(),
    };
    let load = async {
        state
            .sahih
            .ra_evidence_file(&state.blobs, &staff, &id, kind)
            .await
            .map(|(_, bytes)| bytes)
            .map_err(|_| StatusCode::NOT_FOUND.into_response())
    };
    super::preview::page_png(&state.previews, &key, index, load).await
}

// ---------------------------------------------------------------------------------------------
// The help desk and an official's certificate (verifikators).

struct StuckRow {
    name: String,
    nik: String,
    unit: String,
    email: String,
    problem: String,
    /// `link` (resend the activation link), `unlock` (lift the lockout) or `` (advice only).
    remedy: &'static str,
    advice: String,
    request_id: String,
}

#[derive(Template)]
#[template(path = "ra_helpdesk.html")]
struct HelpdeskPage {
    c: Chrome,
    csrf: String,
    rows: Vec<StuckRow>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
struct HelpdeskQuery {
    dibuka: Option<String>,
}

async fn helpdesk(
    State(state): State<Shared>,
    StaffPage {
        who, staff, lang, ..
    }: StaffPage<Verifikator>,
    Query(q): Query<HelpdeskQuery>,
) -> Response {
    use sahih_core::certificate_changes::StuckReason;
    let stuck = match state.sahih.helpdesk(&staff).await {
        Ok(s) => s,
        Err(e) => return core_refusal(&state, &who, lang, &e),
    };
    let rows = stuck
        .into_iter()
        .map(|s| {
            let (problem, remedy, advice, request_id) = match s.reason {
                StuckReason::NotActivated {
                    request_id,
                    approved_at,
                } => (
                    format!(
                        "{} {}",
                        tr(lang, "Disetujui, belum aktivasi sejak", "Approved, not activated since"),
                        approved_at.map(|t| wib(t, lang)).unwrap_or_default()
                    ),
                    "link",
                    tr(
                        lang,
                        "Tautan aktivasi berlaku 24 jam. Kirim yang baru bila kedaluwarsa atau hilang.",
                        "Activation links last 24 hours. Send a new one if it expired or was lost.",
                    ),
                    request_id,
                ),
                StuckReason::LockedOut { until } => (
                    format!(
                        "{} {}",
                        tr(lang, "Terkunci karena passphrase salah, sampai", "Locked out after wrong passphrases, until"),
                        wib(until, lang)
                    ),
                    "unlock",
                    tr(
                        lang,
                        "Buka kuncinya hanya setelah memastikan identitas pejabat (mis. tatap muka atau panggilan video dengan e-KTP).",
                        "Lift it only after checking the official's identity (e.g. in person or a video call with the e-KTP).",
                    ),
                    String::new(),
                ),
                StuckReason::Expiring { not_after } => (
                    format!(
                        "{} {}",
                        tr(lang, "Sertifikat berakhir", "Certificate expires"),
                        wib(not_after, lang)
                    ),
                    "",
                    tr(
                        lang,
                        "Operator unitnya mengajukan perpanjangan di konsol ini.",
                        "The unit's operator files a renewal in this console.",
                    ),
                    String::new(),
                ),
                StuckReason::NeverSigned => (
                    tr(
                        lang,
                        "Sertifikat aktif lebih dari seminggu, belum pernah dipakai",
                        "Certificate active for over a week, never used",
                    ),
                    "",
                    tr(
                        lang,
                        "Hubungi pejabatnya: mungkin aplikasinya belum tersambung atau passphrase-nya terlupa.",
                        "Contact the official: their application may not be connected, or they forgot the passphrase.",
                    ),
                    String::new(),
                ),
            };
            StuckRow {
                name: s.name,
                nik: s.nik,
                unit: s.unit,
                email: s.email,
                problem,
                remedy,
                advice,
                request_id,
            }
        })
        .collect();
    let notice = q.dibuka.map(|_| {
        tr(
            lang,
            "Kunci passphrase dibuka; alasannya tercatat di log audit.",
            "The passphrase lockout was lifted; the reason is in the audit log.",
        )
    });
    let c = Chrome::new(
        &state,
        lang,
        tr(lang, "Meja bantuan", "Help desk"),
        "/ra/bantuan",
    )
    .signed_in(&who);
    render(
        StatusCode::OK,
        &HelpdeskPage {
            c,
            csrf: who.csrf(),
            rows,
            notice,
        },
    )
}

#[derive(Deserialize)]
struct ReasonForm {
    csrf: String,
    lang: String,
    #[serde(default)]
    alasan: String,
}

page_form!(ReasonForm);

async fn lift_lockout(
    State(state): State<Shared>,
    Path(nik): Path<String>,
    StaffForm {
        who,
        staff,
        lang,
        form: f,
        ..
    }: StaffForm<Verifikator, ReasonForm>,
) -> Response {
    match state.sahih.lift_lockout(&staff, &nik, &f.alasan).await {
        Ok(()) => Redirect::to(&with_lang("/ra/bantuan?dibuka=1", lang)).into_response(),
        Err(e) => core_refusal(&state, &who, lang, &e),
    }
}

#[derive(Template)]
#[template(path = "ra_official.html")]
struct OfficialPage {
    c: Chrome,
    csrf: String,
    name: String,
    nik: String,
    nip: String,
    position: String,
    unit: String,
    email: String,
    status: String,
    serial: String,
    until: String,
    can_suspend: bool,
    can_resume: bool,
    can_revoke: bool,
    reasons: Vec<(&'static str, String)>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
struct OfficialQuery {
    diubah: Option<String>,
}

fn revocation_label(r: sahih_core::certificate_changes::RevocationReason, lang: Lang) -> String {
    use sahih_core::certificate_changes::RevocationReason as R;
    let (id, en) = match r {
        R::Unspecified => ("Tanpa alasan khusus", "Unspecified"),
        R::KeyCompromise => (
            "Kunci bocor atau diduga diketahui orang lain",
            "Key compromise",
        ),
        R::AffiliationChanged => ("Pindah jabatan atau unit (mutasi)", "Affiliation changed"),
        R::Superseded => ("Diganti sertifikat baru", "Superseded"),
        R::CessationOfOperation => ("Tidak lagi bertugas", "Cessation of operation"),
    };
    format!("{} ({})", tr(lang, id, en), r.as_str())
}

async fn official_page(
    State(state): State<Shared>,
    StaffPage { who, lang, .. }: StaffPage<Verifikator>,
    Path(nik): Path<String>,
    Query(q): Query<OfficialQuery>,
) -> Response {
    use sahih_core::lifecycle::Status as S;
    let official = match state.sahih.store.official_by_nik(&nik).await {
        Ok(Some(o)) => o,
        Ok(None) => {
            return core_refusal(
                &state,
                &who,
                lang,
                &sahih_core::CoreError::NotFound(format!("official {nik}")),
            );
        }
        Err(_) => return super::unavailable(),
    };
    let cert = match state.sahih.store.latest_certificate(official.id).await {
        Ok(c) => c,
        Err(_) => return super::unavailable(),
    };
    let status = match state.sahih.status_of(&nik).await {
        Ok(s) => s,
        Err(_) => return super::unavailable(),
    };
    let notice = q.diubah.map(|_| {
        tr(
            lang,
            "Status sertifikat diubah; CRL dan OCSP memuat perubahannya.",
            "The certificate's status changed; the CRL and OCSP carry it.",
        )
    });
    let c = Chrome::new(
        &state,
        lang,
        official.name.clone(),
        &format!("/ra/pejabat/{nik}"),
    )
    .signed_in(&who);
    render(
        StatusCode::OK,
        &OfficialPage {
            c,
            csrf: who.csrf(),
            name: official.name,
            nik: official.nik,
            nip: official.nip,
            position: official.position,
            unit: official.unit,
            email: official.email,
            status: status_label(status, lang),
            serial: cert
                .as_ref()
                .map(|c| c.serial_hex.clone())
                .unwrap_or_default(),
            until: cert.map(|c| wib(c.not_after, lang)).unwrap_or_default(),
            can_suspend: matches!(status, S::Issue | S::Renew),
            can_resume: status == S::Suspend,
            can_revoke: matches!(status, S::Issue | S::Suspend | S::Expired | S::Renew),
            reasons: sahih_core::certificate_changes::RevocationReason::ALL
                .iter()
                .map(|r| (r.as_str(), revocation_label(*r, lang)))
                .collect(),
            notice,
        },
    )
}

#[derive(Deserialize)]
struct ChangeForm {
    csrf: String,
    lang: String,
    langkah: String,
    #[serde(default)]
    alasan: String,
    #[serde(default)]
    konfirmasi: Option<String>,
}

page_form!(ChangeForm);

async fn change_certificate(
    State(state): State<Shared>,
    Path(nik): Path<String>,
    StaffForm {
        who,
        staff,
        lang,
        form: f,
        ..
    }: StaffForm<Verifikator, ChangeForm>,
) -> Response {
    use sahih_core::certificate_changes::{CertificateStep, RevocationReason};
    let refused = |text: String| {
        message(
            &state,
            &who,
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            tr(lang, "Tidak dapat diproses", "Could not be done"),
            text,
        )
    };
    let step = match f.langkah.as_str() {
        "suspend" => CertificateStep::Suspend,
        "resume" => CertificateStep::Resume,
        "revoke" => {
            let Some(reason) = RevocationReason::parse(f.alasan.trim()) else {
                return refused(tr(
                    lang,
                    "Pilih alasan pencabutan.",
                    "Choose a revocation reason.",
                ));
            };
            // Revocation cannot be undone: the form asks to confirm it.
            if f.konfirmasi.is_none() {
                return refused(tr(
                    lang,
                    "Centang konfirmasi: pencabutan tidak dapat dibatalkan.",
                    "Tick the confirmation: a revocation cannot be undone.",
                ));
            }
            CertificateStep::Revoke(reason)
        }
        _ => return refused(tr(lang, "Langkah tidak dikenal.", "Unknown step.")),
    };
    let note = Some(f.alasan.trim()).filter(|n| !n.is_empty());
    match state
        .sahih
        .change_certificate(&staff, &nik, step, note)
        .await
    {
        Ok(_) => {
            Redirect::to(&with_lang(&format!("/ra/pejabat/{nik}?diubah=1"), lang)).into_response()
        }
        Err(e) => core_refusal(&state, &who, lang, &e),
    }
}
