//! The official's inbox (`/kotak-masuk`), mobile first: the requests waiting for them (unread
//! first), each request with every page shown as an image, "Sudah saya baca" (the centang),
//! signing one or many with one passphrase entry, rejecting with a reason, and the history of
//! what they decided with each document's QR record.
//!
//! Only officials have an inbox; an official sees only their own requests (anyone else's is
//! "not found"). Signing goes through the one pipeline with the person's door.
//!
//! Must not know: how requests are stored or signed (`sahih_core::signing_requests`).

use super::session::SignedIn;
use super::{
    Check, Chrome, MessagePage, checked_form, csrf_refused, error_text, lang_of, render, tr,
    unavailable, with_lang,
};
use crate::Shared;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use sahih_core::signing_requests::Person;
use sahih_core::store::BlobStore;
use sahih_core::store::signing::{RequestStatus, SigningRequestRecord};
use sahih_core::{CoreError, Lang};
use serde::Deserialize;

/// Requests shown per list.
const LIST_LIMIT: i64 = 200;

/// The inbox routes; their POSTs are refused from other sites.
pub fn routes(state: &Shared) -> Router<Shared> {
    Router::new()
        .route("/kotak-masuk", get(list_waiting))
        .route("/kotak-masuk/riwayat", get(list_history))
        .route("/kotak-masuk/tandatangani", post(sign_selected))
        .route("/kotak-masuk/{id}", get(show))
        .route("/kotak-masuk/{id}/baca", post(confirm_read))
        .route("/kotak-masuk/{id}/tandatangani", post(sign_one))
        .route("/kotak-masuk/{id}/tolak", post(reject))
        .route("/kotak-masuk/{id}/dokumen/{idx}", get(document_pdf))
        .route(
            "/kotak-masuk/{id}/dokumen/{idx}/halaman/{page}",
            get(page_image),
        )
        .route("/sertifikat", get(certificate))
        .route("/sertifikat/passphrase", post(change_passphrase))
        .route_layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::clone(state),
            crate::http::csrf::reject_cross_site,
        ))
}

/// The official behind the session, or a page saying the inbox is for officials.
fn person<'a>(state: &Shared, who: &'a SignedIn, lang: Lang) -> Result<Person<'a>, Box<Response>> {
    match &who.view.official {
        Some(official) => Ok(Person {
            account_id: who.view.account.id,
            official,
        }),
        None => {
            let c = Chrome::new(
                state,
                lang,
                tr(lang, "Kotak masuk", "Inbox"),
                "/kotak-masuk",
            )
            .signed_in(who);
            Err(Box::new(render(
                StatusCode::FORBIDDEN,
                &MessagePage {
                    c,
                    tone: "warn",
                    paragraphs: vec![tr(
                        lang,
                        "Kotak masuk hanya untuk pejabat penanda tangan.",
                        "The inbox is for signing officials only.",
                    )],
                    link: None,
                },
            )))
        }
    }
}

fn not_found(state: &Shared, who: &SignedIn, lang: Lang) -> Response {
    let c = Chrome::new(
        state,
        lang,
        tr(lang, "Permintaan tidak ditemukan", "Request not found"),
        "/kotak-masuk",
    )
    .signed_in(who);
    let link = Some((
        c.href("/kotak-masuk"),
        tr(lang, "Ke kotak masuk", "To the inbox"),
    ));
    render(
        StatusCode::NOT_FOUND,
        &MessagePage {
            c,
            tone: "bad",
            paragraphs: vec![tr(
                lang,
                "Permintaan ini tidak ada di kotak masuk Anda.",
                "This request is not in your inbox.",
            )],
            link,
        },
    )
}

fn title_of(r: &SigningRequestRecord) -> String {
    let first = r
        .documents
        .first()
        .map(|d| d.file_name.clone())
        .unwrap_or_default();
    if r.documents.len() > 1 {
        format!("{first} (+{})", r.documents.len() - 1)
    } else {
        first
    }
}

/// The first line of a message, cut to fit a list row.
fn excerpt(message: &str) -> String {
    let line = message.lines().next().unwrap_or("").trim();
    if line.chars().count() > 120 {
        format!("{}…", line.chars().take(119).collect::<String>())
    } else {
        line.to_string()
    }
}

fn requester(r: &SigningRequestRecord) -> String {
    r.client_name.clone()
}

fn status_badge(r: &SigningRequestRecord, lang: Lang) -> (&'static str, String) {
    match r.status {
        RequestStatus::Pending if r.read_at.is_some() => {
            ("dibaca", tr(lang, "✓ Sudah dibaca", "✓ Read"))
        }
        RequestStatus::Pending if r.opened_at.is_some() => ("dibuka", tr(lang, "Dibuka", "Opened")),
        RequestStatus::Pending => ("baru", tr(lang, "Baru", "New")),
        RequestStatus::Signed => ("ditandatangani", tr(lang, "Ditandatangani", "Signed")),
        RequestStatus::Rejected => ("ditolak", tr(lang, "Ditolak", "Rejected")),
        RequestStatus::Expired => ("kedaluwarsa", tr(lang, "Kedaluwarsa", "Expired")),
    }
}

struct Item {
    id: String,
    message: String,
    href: String,
    title: String,
    requester: String,
    class: String,
    documents: usize,
    due: String,
    unread: bool,
    selectable: bool,
    badges: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    c: Chrome,
    history: bool,
    waiting: String,
    notice: Option<String>,
    items: Vec<Item>,
    any_selectable: bool,
    csrf: String,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    lang: Option<String>,
}

async fn list(state: Shared, who: SignedIn, lang: Lang, history: bool) -> Response {
    let p = match person(&state, &who, lang) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let waiting = match state.sahih.inbox(&p, true, LIST_LIMIT).await {
        Ok(w) => w,
        Err(_) => return unavailable(),
    };
    let shown = if history {
        match state.sahih.inbox(&p, false, LIST_LIMIT).await {
            Ok(all) => all
                .into_iter()
                .filter(|r| r.status != RequestStatus::Pending)
                .collect(),
            Err(_) => return unavailable(),
        }
    } else {
        waiting.clone()
    };
    let items: Vec<Item> = shown
        .iter()
        .map(|r| Item {
            id: r.id.clone(),
            message: excerpt(&r.message),
            href: format!("/kotak-masuk/{}", r.id),
            title: title_of(r),
            requester: requester(r),
            class: r.class.clone(),
            documents: r.documents.len(),
            due: r
                .due_at
                .map(|d| sahih_core::format_wib(d, lang))
                .unwrap_or_default(),
            unread: r.status == RequestStatus::Pending && r.opened_at.is_none(),
            selectable: r.status == RequestStatus::Pending && r.opened_at.is_some(),
            badges: vec![status_badge(r, lang)],
        })
        .collect();
    let any_selectable = items.iter().any(|i| i.selectable);
    let path = if history {
        "/kotak-masuk/riwayat"
    } else {
        "/kotak-masuk"
    };
    let page = InboxPage {
        c: Chrome::new(&state, lang, tr(lang, "Kotak masuk", "Inbox"), path).signed_in(&who),
        history,
        // The list shows at most LIST_LIMIT; beyond that the count says "200+".
        waiting: if waiting.len() as i64 >= LIST_LIMIT {
            format!("{LIST_LIMIT}+")
        } else {
            waiting.len().to_string()
        },
        notice: None,
        items,
        any_selectable,
        csrf: who.csrf(),
    };
    render(StatusCode::OK, &page)
}

async fn list_waiting(
    State(state): State<Shared>,
    who: SignedIn,
    Query(q): Query<ListQuery>,
) -> Response {
    list(state, who, lang_of(q.lang.as_deref()), false).await
}

async fn list_history(
    State(state): State<Shared>,
    who: SignedIn,
    Query(q): Query<ListQuery>,
) -> Response {
    list(state, who, lang_of(q.lang.as_deref()), true).await
}

struct PageImage {
    src: String,
    alt: String,
    height: u32,
}

struct DocumentView {
    idx: i64,
    name: String,
    pages_text: String,
    pdf_href: String,
    record: Option<String>,
    pages: Vec<PageImage>,
}

#[derive(Template)]
#[template(path = "request.html")]
struct RequestPage {
    c: Chrome,
    title: String,
    notice: Option<String>,
    error: Option<String>,
    requester: String,
    class: String,
    created: String,
    due: String,
    status: String,
    message: String,
    steps: Vec<Check>,
    documents: Vec<DocumentView>,
    pending: bool,
    read: bool,
    action_base: String,
    csrf: String,
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    lang: Option<String>,
    dibaca: Option<String>,
}

async fn request_page(
    state: &Shared,
    who: &SignedIn,
    r: &SigningRequestRecord,
    lang: Lang,
    notice: Option<String>,
    error: Option<String>,
) -> RequestPage {
    let wib = |t| sahih_core::format_wib(t, lang);
    let mut steps = vec![Check::ok(format!(
        "{} {}",
        tr(lang, "Diterima", "Received"),
        wib(r.created_at)
    ))];
    if let Some(t) = r.opened_at {
        steps.push(Check::ok(format!(
            "{} {}",
            tr(lang, "Dibuka", "Opened"),
            wib(t)
        )));
    }
    if let Some(t) = r.read_at {
        steps.push(Check::ok(format!(
            "{} {}",
            tr(lang, "Sudah dibaca", "Read"),
            wib(t)
        )));
    }
    match (r.status, r.decided_at) {
        (RequestStatus::Signed, Some(t)) => steps.push(Check::ok(format!(
            "{} {}",
            tr(lang, "Ditandatangani", "Signed"),
            wib(t)
        ))),
        (RequestStatus::Rejected, Some(t)) => steps.push(Check::bad(format!(
            "{} {}: {}",
            tr(lang, "Ditolak", "Rejected"),
            wib(t),
            r.reason.clone().unwrap_or_default()
        ))),
        (RequestStatus::Expired, Some(t)) => steps.push(Check::warn(format!(
            "{} {}",
            tr(lang, "Kedaluwarsa", "Expired"),
            wib(t)
        ))),
        _ => {}
    }
    let mut documents = Vec::new();
    for d in &r.documents {
        let key = d.signed_blob_key.as_ref().unwrap_or(&d.blob_key);
        let count = match state.previews.count(key) {
            Some(n) => Some(n),
            None => {
                let counted = match state.blobs.get(key).await {
                    Ok(Some(bytes)) => {
                        tokio::task::spawn_blocking(move || super::preview::page_count(&bytes))
                            .await
                            .ok()
                            .flatten()
                    }
                    _ => None,
                };
                if let Some(n) = counted {
                    state.previews.put_count(key, n);
                }
                counted
            }
        };
        let base = format!("/kotak-masuk/{}/dokumen/{}", r.id, d.idx);
        let pages = (0..count.unwrap_or(0))
            .map(|p| PageImage {
                src: format!("{base}/halaman/{}", p + 1),
                alt: match lang {
                    Lang::Id => format!(
                        "{}, halaman {} dari {}",
                        d.file_name,
                        p + 1,
                        count.unwrap_or(0)
                    ),
                    Lang::En => {
                        format!("{}, page {} of {}", d.file_name, p + 1, count.unwrap_or(0))
                    }
                },
                height: 1414,
            })
            .collect();
        documents.push(DocumentView {
            idx: d.idx,
            name: d.file_name.clone(),
            pages_text: match (count, lang) {
                (Some(n), Lang::Id) => format!("{n} halaman"),
                (Some(n), Lang::En) => format!("{n} page(s)"),
                (None, _) => String::new(),
            },
            pdf_href: base,
            record: d
                .signed_document_id
                .as_ref()
                .map(|id| with_lang(&format!("/v/{id}"), lang)),
            pages,
        });
    }
    RequestPage {
        c: Chrome::new(state, lang, title_of(r), &format!("/kotak-masuk/{}", r.id)).signed_in(who),
        title: title_of(r),
        notice,
        error,
        requester: requester(r),
        class: r.class.clone(),
        created: wib(r.created_at),
        due: r.due_at.map(wib).unwrap_or_default(),
        status: status_badge(r, lang).1,
        message: r.message.clone(),
        steps,
        documents,
        pending: r.status == RequestStatus::Pending,
        read: r.read_at.is_some(),
        action_base: format!("/kotak-masuk/{}", r.id),
        csrf: who.csrf(),
    }
}

async fn show(
    State(state): State<Shared>,
    who: SignedIn,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Response {
    let lang = lang_of(q.lang.as_deref());
    let p = match person(&state, &who, lang) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let r = match state.sahih.open_request(&p, &id).await {
        Ok(r) => r,
        Err(CoreError::NotFound(_)) => return not_found(&state, &who, lang),
        Err(_) => return unavailable(),
    };
    state.webhooks_wake.notify_one();
    let notice = q.dibaca.map(|_| {
        tr(
            lang,
            "Tercatat: sudah Anda baca.",
            "Recorded: you have read it.",
        )
    });
    render(
        StatusCode::OK,
        &request_page(&state, &who, &r, lang, notice, None).await,
    )
}

page_form!(PassphraseForm);

page_form!(StepForm);

#[derive(Deserialize)]
struct StepForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    lang: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    passphrase: String,
}

async fn confirm_read(
    State(state): State<Shared>,
    who: SignedIn,
    Path(id): Path<String>,
    form: Result<axum::Form<StepForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (_, lang) = match checked_form(&who, form) {
        Ok(checked) => checked,
        Err(r) => return *r,
    };
    let p = match person(&state, &who, lang) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let done = state.sahih.confirm_read(&p, &id).await;
    after_step(
        &state,
        &who,
        &p,
        &id,
        lang,
        done,
        &format!("/kotak-masuk/{id}?dibaca=1"),
    )
    .await
}

/// The answer to a step on a request: on to `to` (and the webhook sender woken), "not found",
/// or the request page with the reason.
async fn after_step(
    state: &Shared,
    who: &SignedIn,
    p: &Person<'_>,
    id: &str,
    lang: Lang,
    done: Result<(), CoreError>,
    to: &str,
) -> Response {
    match done {
        Ok(()) => {
            state.webhooks_wake.notify_one();
            Redirect::to(&with_lang(to, lang)).into_response()
        }
        Err(CoreError::NotFound(_)) => not_found(state, who, lang),
        Err(e) => step_error(state, who, p, id, lang, e).await,
    }
}

async fn step_error(
    state: &Shared,
    who: &SignedIn,
    p: &Person<'_>,
    id: &str,
    lang: Lang,
    e: CoreError,
) -> Response {
    let message = error_text(&e, lang);
    match state.sahih.request_for_person(p, id).await {
        Ok(r) => render(
            StatusCode::BAD_REQUEST,
            &request_page(state, who, &r, lang, None, Some(message)).await,
        ),
        Err(_) => not_found(state, who, lang),
    }
}

async fn reject(
    State(state): State<Shared>,
    who: SignedIn,
    Path(id): Path<String>,
    form: Result<axum::Form<StepForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (f, lang) = match checked_form(&who, form) {
        Ok(checked) => checked,
        Err(r) => return *r,
    };
    let p = match person(&state, &who, lang) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let done = state.sahih.reject_request(&p, &id, &f.reason).await;
    after_step(
        &state,
        &who,
        &p,
        &id,
        lang,
        done,
        &format!("/kotak-masuk/{id}"),
    )
    .await
}

#[derive(Template)]
#[template(path = "sign_results.html")]
struct ResultsPage {
    c: Chrome,
    tone: &'static str,
    summary: String,
    rows: Vec<Check>,
}

async fn sign_ids(
    state: &Shared,
    who: &SignedIn,
    p: &Person<'_>,
    ids: Vec<String>,
    passphrase: &str,
    lang: Lang,
) -> Response {
    if ids.is_empty() {
        let c = Chrome::new(
            state,
            lang,
            tr(lang, "Tidak ada yang dipilih", "Nothing selected"),
            "/kotak-masuk",
        )
        .signed_in(who);
        let link = Some((c.href("/kotak-masuk"), tr(lang, "Kembali", "Back")));
        return render(
            StatusCode::BAD_REQUEST,
            &MessagePage {
                c,
                tone: "warn",
                paragraphs: vec![tr(
                    lang,
                    "Pilih dahulu permintaan yang akan ditandatangani.",
                    "Select the requests to sign first.",
                )],
                link,
            },
        );
    }
    let env = crate::signing_env(state);
    let results = match state
        .sahih
        .sign_requests(p, &ids, passphrase, None, &env)
        .await
    {
        Ok(r) => r,
        Err(_) => return unavailable(),
    };
    state.webhooks_wake.notify_one();
    let signed = results.iter().filter(|r| r.outcome.is_ok()).count();
    let mut rows = Vec::new();
    for r in &results {
        let title = match state.sahih.request_for_person(p, &r.id).await {
            Ok(req) => title_of(&req),
            Err(_) => r.id.clone(),
        };
        rows.push(match &r.outcome {
            Ok(ids) => Check::ok(format!(
                "{title}: {} ({} {})",
                tr(lang, "ditandatangani", "signed"),
                ids.len(),
                tr(lang, "dokumen", "document(s)")
            )),
            Err(e) => Check::bad(format!("{title}: {}", e.message(lang))),
        });
    }
    let skipped = ids.len() - results.len();
    if skipped > 0 {
        rows.push(Check::warn(match lang {
            Lang::Id => {
                format!("{skipped} permintaan lain tidak dicoba karena passphrase ditolak.")
            }
            Lang::En => {
                format!("{skipped} other request(s) were not tried: the passphrase was refused.")
            }
        }));
    }
    let (tone, summary) = if signed == ids.len() {
        (
            "ok",
            match lang {
                Lang::Id => format!("{signed} permintaan ditandatangani."),
                Lang::En => format!("{signed} request(s) signed."),
            },
        )
    } else {
        (
            "bad",
            match lang {
                Lang::Id => format!("{signed} dari {} permintaan ditandatangani.", ids.len()),
                Lang::En => format!("{signed} of {} request(s) signed.", ids.len()),
            },
        )
    };
    let status = if signed == 0 {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    render(
        status,
        &ResultsPage {
            c: Chrome::new(
                state,
                lang,
                tr(lang, "Hasil penandatanganan", "Signing results"),
                "/kotak-masuk",
            )
            .signed_in(who),
            tone,
            summary,
            rows,
        },
    )
}

async fn sign_one(
    State(state): State<Shared>,
    who: SignedIn,
    Path(id): Path<String>,
    form: Result<axum::Form<StepForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (f, lang) = match checked_form(&who, form) {
        Ok(checked) => checked,
        Err(r) => return *r,
    };
    let passphrase = zeroize::Zeroizing::new(f.passphrase);
    let p = match person(&state, &who, lang) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    if let Err(CoreError::NotFound(_)) = state.sahih.request_for_person(&p, &id).await {
        return not_found(&state, &who, lang);
    }
    sign_ids(&state, &who, &p, vec![id], &passphrase, lang).await
}

/// The bulk form: `id` repeated, `passphrase`, `csrf`, `lang`.
async fn sign_selected(
    State(state): State<Shared>,
    who: SignedIn,
    body: axum::body::Bytes,
) -> Response {
    let mut ids = Vec::new();
    let mut csrf = String::new();
    let mut lang = String::new();
    let mut passphrase = zeroize::Zeroizing::new(String::new());
    for (k, v) in url_pairs(&body) {
        match k.as_str() {
            "id" => ids.push(v),
            "csrf" => csrf = v,
            "lang" => lang = v,
            "passphrase" => passphrase = zeroize::Zeroizing::new(v),
            _ => {}
        }
    }
    let lang = lang_of(Some(&lang));
    if !who.csrf_ok(&csrf) {
        return csrf_refused(lang);
    }
    ids.truncate(200);
    let p = match person(&state, &who, lang) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    sign_ids(&state, &who, &p, ids, &passphrase, lang).await
}

/// `application/x-www-form-urlencoded` pairs, with repeated names kept (serde's form decoding
/// keeps only one).
fn url_pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The stored key and file name of one of the person's documents (the signed file once
/// there is one); "not found" for anyone else's.
async fn owned_document(
    state: &Shared,
    who: &SignedIn,
    id: &str,
    idx: i64,
) -> Result<(String, String), Response> {
    let lang = Lang::Id;
    let p = person(state, who, lang).map_err(|r| *r)?;
    let r = match state.sahih.request_for_person(&p, id).await {
        Ok(r) => r,
        Err(_) => return Err(not_found(state, who, lang)),
    };
    let d = r
        .documents
        .iter()
        .find(|d| d.idx == idx)
        .ok_or_else(|| not_found(state, who, lang))?;
    let key = d
        .signed_blob_key
        .clone()
        .unwrap_or_else(|| d.blob_key.clone());
    Ok((key, d.file_name.clone()))
}

async fn read_document(state: &Shared, who: &SignedIn, key: &str) -> Result<Vec<u8>, Response> {
    match state.blobs.get(key).await {
        Ok(Some(bytes)) => Ok(bytes),
        _ => Err(not_found(state, who, Lang::Id)),
    }
}

async fn document_pdf(
    State(state): State<Shared>,
    who: SignedIn,
    Path((id, idx)): Path<(String, i64)>,
) -> Response {
    let (key, name) = match owned_document(&state, &who, &id, idx).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let bytes = match read_document(&state, &who, &key).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut r = (StatusCode::OK, bytes).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    let safe: String = name
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
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

async fn page_image(
    State(state): State<Shared>,
    who: SignedIn,
    Path((id, idx, page)): Path<(String, i64, usize)>,
) -> Response {
    let (key, _) = match owned_document(&state, &who, &id, idx).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let Some(index) = page.checked_sub(1) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    super::preview::page_png(
        &state.previews,
        &key,
        index,
        read_document(&state, &who, &key),
    )
    .await
}

#[derive(Template)]
#[template(path = "certificate.html")]
struct CertificatePage {
    c: Chrome,
    notice: Option<String>,
    error: Option<String>,
    state: Check,
    name: String,
    position: String,
    unit: String,
    serial: String,
    until: String,
    csrf: String,
}

async fn certificate_page(
    state: &Shared,
    who: &SignedIn,
    p: &Person<'_>,
    lang: Lang,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    use sahih_core::store::Store;
    let cert = state
        .sahih
        .store
        .latest_certificate(p.official.id)
        .await
        .ok()
        .flatten();
    let now = time::OffsetDateTime::now_utc();
    let status = sahih_core::ra::effective_status(Some(p.official), cert.as_ref(), now);
    let wib = |t| sahih_core::format_wib(t, lang);
    let state_check = match (&cert, status.as_str()) {
        (Some(c), "ISSUE") if c.not_after - now < time::Duration::days(30) => Check::warn(format!(
            "{} {}",
            tr(
                lang,
                "Aktif, tetapi segera berakhir:",
                "Active, but expires soon:"
            ),
            wib(c.not_after)
        )),
        (Some(_), "ISSUE") => Check::ok(tr(
            lang,
            "Aktif: Anda dapat menandatangani",
            "Active: you can sign",
        )),
        (_, s) => Check::bad(format!(
            "{} ({s})",
            tr(
                lang,
                "Tidak aktif: Anda belum dapat menandatangani",
                "Not active: you cannot sign"
            )
        )),
    };
    let page = CertificatePage {
        c: Chrome::new(
            state,
            lang,
            tr(lang, "Sertifikat saya", "My certificate"),
            "/sertifikat",
        )
        .signed_in(who),
        notice,
        error,
        state: state_check,
        name: p.official.name.clone(),
        position: p.official.position.clone(),
        unit: p.official.unit.clone(),
        serial: cert
            .as_ref()
            .map(|c| c.serial_hex.clone())
            .unwrap_or_default(),
        until: cert.as_ref().map(|c| wib(c.not_after)).unwrap_or_default(),
        csrf: who.csrf(),
    };
    render(
        if page.error.is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::OK
        },
        &page,
    )
}

#[derive(Deserialize, Default)]
struct CertificateQuery {
    lang: Option<String>,
    diganti: Option<String>,
}

async fn certificate(
    State(state): State<Shared>,
    who: SignedIn,
    Query(q): Query<CertificateQuery>,
) -> Response {
    let lang = lang_of(q.lang.as_deref());
    let p = match person(&state, &who, lang) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let notice = q.diganti.map(|_| {
        tr(
            lang,
            "Passphrase diganti. Gunakan passphrase baru saat menandatangani.",
            "Passphrase changed. Use the new passphrase when you sign.",
        )
    });
    certificate_page(&state, &who, &p, lang, notice, None).await
}

#[derive(Deserialize)]
struct PassphraseForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    lang: String,
    old: String,
    new: String,
    new2: String,
}

async fn change_passphrase(
    State(state): State<Shared>,
    who: SignedIn,
    form: Result<axum::Form<PassphraseForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let (f, lang) = match checked_form(&who, form) {
        Ok(checked) => checked,
        Err(r) => return *r,
    };
    let p = match person(&state, &who, lang) {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let old = zeroize::Zeroizing::new(f.old);
    let new = zeroize::Zeroizing::new(f.new);
    let new2 = zeroize::Zeroizing::new(f.new2);
    let same: bool = subtle::ConstantTimeEq::ct_eq(new.as_bytes(), new2.as_bytes()).into();
    if !same {
        let e = tr(
            lang,
            "Kedua passphrase baru tidak sama.",
            "The two new passphrases differ.",
        );
        return certificate_page(&state, &who, &p, lang, None, Some(e)).await;
    }
    match state.sahih.change_passphrase(&p, &old, &new).await {
        Ok(()) => Redirect::to(&with_lang("/sertifikat?diganti=1", lang)).into_response(),
        Err(e) => certificate_page(&state, &who, &p, lang, None, Some(error_text(&e, lang))).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_form_fields_are_all_kept() {
        let pairs = url_pairs(b"id=a&id=b&passphrase=Rahasia+Kita%21&csrf=00");
        let ids: Vec<&str> = pairs
            .iter()
            .filter(|(k, _)| k == "id")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(ids, ["a", "b"]);
        assert!(pairs.contains(&("passphrase".into(), "Rahasia Kita!".into())));
        assert_eq!(
            url_pairs(b"x=%zz&y=%4"),
            [("x".into(), "%zz".into()), ("y".into(), "%4".into())]
        );
    }
}
