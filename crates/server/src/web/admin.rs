//! The administrator's pages: the audit log (`/admin/audit`), filtered by action, actor,
//! official and date, newest first and paged by sequence number, with the chain's state on
//! demand and an export of what the filter selects as JSON lines.
//!
//! Reads through the same store queries and the same chain check (`Sahih::verify_audit`) as the
//! CLI and the native API.
//!
//! Must not know: how entries are hashed or anchored (`sahih_core::audit`).

use super::session::SignedIn;
use super::{Chrome, MessagePage, lang_of, render, tr};
use crate::Shared;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sahih_core::Lang;
use sahih_core::audit::{AuditCursor, AuditEntry, AuditFilter};
use sahih_core::clients::Capability;
use sahih_core::ra::Staff;
use sahih_core::store::Store;
use serde::Deserialize;
use time::{Date, OffsetDateTime, Time, UtcOffset};

/// Entries per page.
const PAGE_SIZE: i64 = 50;
/// Entries read from the store per step of an export.
const EXPORT_STEP: i64 = 5_000;

/// The administrator's routes (reads only; nothing here changes state).
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/admin/audit", get(audit_page))
        .route("/admin/audit/ekspor", get(audit_export))
}

/// The page, or a page saying it is for administrators.
fn admin_of(state: &Shared, who: &SignedIn, lang: Lang) -> Result<(), Box<Response>> {
    if Staff::from_account(&who.view.account).is_some_and(|s| s.may(Capability::ReadAudit)) {
        return Ok(());
    }
    let c = Chrome::new(
        state,
        lang,
        tr(lang, "Khusus administrator", "For administrators only"),
        "/admin/audit",
    )
    .signed_in(who);
    let link = Some((
        c.href("/beranda"),
        tr(lang, "Ke beranda", "To the home page"),
    ));
    Err(Box::new(render(
        StatusCode::FORBIDDEN,
        &MessagePage {
            c,
            tone: "bad",
            paragraphs: vec![tr(
                lang,
                "Log audit hanya dapat dibaca administrator layanan.",
                "Only the service's administrators can read the audit log.",
            )],
            link,
        },
    )))
}

#[derive(Deserialize, Default)]
struct AuditQuery {
    lang: Option<String>,
    aksi: Option<String>,
    pelaku: Option<String>,
    nik: Option<String>,
    /// YYYY-MM-DD, WIB.
    dari: Option<String>,
    /// YYYY-MM-DD, WIB (the whole day).
    sampai: Option<String>,
    /// Show entries before this sequence number (the next page).
    sebelum: Option<i64>,
    /// Check the whole chain now.
    periksa: Option<String>,
}

fn wib() -> UtcOffset {
    UtcOffset::from_hms(7, 0, 0).unwrap_or(UtcOffset::UTC)
}

/// A date typed on the page (WIB) as Unix microseconds at its start or end.
fn day_micros(text: &str, end: bool) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = Date::parse(text.trim(), &format).ok()?;
    let time = if end {
        Time::from_hms_micro(23, 59, 59, 999_999).ok()?
    } else {
        Time::MIDNIGHT
    };
    let t = date.with_time(time).assume_offset(wib());
    i64::try_from(t.unix_timestamp_nanos() / 1000).ok()
}

fn non_empty(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl AuditQuery {
    fn filter(&self) -> AuditFilter {
        AuditFilter {
            action: non_empty(&self.aksi),
            actor: non_empty(&self.pelaku),
            official_nik: non_empty(&self.nik),
            from_micros: self.dari.as_deref().and_then(|d| day_micros(d, false)),
            to_micros: self.sampai.as_deref().and_then(|d| day_micros(d, true)),
        }
    }

    /// The filter as a query string (for the next page and the export link).
    fn query_string(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("aksi", &self.aksi),
            ("pelaku", &self.pelaku),
            ("nik", &self.nik),
            ("dari", &self.dari),
            ("sampai", &self.sampai),
        ] {
            if let Some(v) = non_empty(v) {
                out.append_pair(k, &v);
            }
        }
        if lang_of(self.lang.as_deref()) == Lang::En {
            out.append_pair("lang", "en");
        }
        out.finish()
    }
}

struct Row {
    seq: i64,
    at: String,
    action: String,
    actor: String,
    result: String,
    tone: &'static str,
    detail: String,
}

/// The chain's state, when it was asked for.
struct ChainState {
    tone: &'static str,
    text: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    c: Chrome,
    aksi: String,
    pelaku: String,
    nik: String,
    dari: String,
    sampai: String,
    rows: Vec<Row>,
    next: Option<String>,
    export: String,
    check: String,
    chain: Option<ChainState>,
    head: String,
    anchors: String,
}

fn row_of(e: AuditEntry, lang: Lang) -> Row {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(e.at_micros) * 1000)
        .map(|t| sahih_core::format_wib(t, lang))
        .unwrap_or_default();
    let tone = match e.event.result.as_str() {
        "ok" => "ok",
        "refused" => "warn",
        _ => "bad",
    };
    Row {
        seq: e.seq,
        at,
        action: e.event.action,
        actor: e.event.actor,
        result: e.event.result,
        tone,
        detail: e.event.detail,
    }
}

async fn audit_page(
    State(state): State<Shared>,
    who: SignedIn,
    Query(q): Query<AuditQuery>,
) -> Response {
    let lang = lang_of(q.lang.as_deref());
    if let Err(r) = admin_of(&state, &who, lang) {
        return *r;
    }
    let entries = match state
        .sahih
        .store
        .audit_search(
            &q.filter(),
            AuditCursor::Before(q.sebelum.unwrap_or(i64::MAX)),
            PAGE_SIZE + 1,
        )
        .await
    {
        Ok(e) => e,
        Err(_) => return super::unavailable(),
    };
    let more = entries.len() as i64 > PAGE_SIZE;
    let rows: Vec<Row> = entries
        .into_iter()
        .take(PAGE_SIZE as usize)
        .map(|e| row_of(e, lang))
        .collect();
    let base_query = q.query_string();
    let join = |extra: String| {
        if base_query.is_empty() {
            format!("?{extra}")
        } else {
            format!("?{base_query}&{extra}")
        }
    };
    let next = match rows.last() {
        Some(last) if more => Some(format!(
            "/admin/audit{}",
            join(format!("sebelum={}", last.seq))
        )),
        _ => None,
    };
    let export = if base_query.is_empty() {
        "/admin/audit/ekspor".to_string()
    } else {
        format!("/admin/audit/ekspor?{base_query}")
    };
    let check = format!("/admin/audit{}", join("periksa=1".into()));
    // The whole chain is read only when asked for: on a large log it takes seconds.
    let chain = if q.periksa.is_some() {
        Some(match state.sahih.verify_audit().await {
            Ok(Ok(c)) => ChainState {
                tone: "ok",
                text: format!(
                    "{} ({} {}, {} {})",
                    tr(lang, "Rantai audit utuh", "The audit chain is intact"),
                    c.entries,
                    tr(lang, "entri", "entries"),
                    c.anchors,
                    tr(lang, "jangkar TSA", "TSA anchors"),
                ),
            },
            Ok(Err(fault)) => ChainState {
                tone: "bad",
                text: format!(
                    "{} {}: {}",
                    tr(
                        lang,
                        "Rantai audit RUSAK mulai entri",
                        "The audit chain is BROKEN from entry"
                    ),
                    fault.first_bad_seq(),
                    fault.message(lang)
                ),
            },
            Err(_) => ChainState {
                tone: "warn",
                text: tr(
                    lang,
                    "Rantai tidak dapat diperiksa sekarang; coba lagi nanti.",
                    "The chain could not be checked now; try again later.",
                ),
            },
        })
    } else {
        None
    };
    let head = match state.sahih.store.audit_head().await {
        Ok(Some((seq, hash))) => format!("#{seq} · {}…", hash.get(..16).unwrap_or(&hash)),
        Ok(None) => tr(lang, "kosong", "empty"),
        Err(_) => return super::unavailable(),
    };
    let anchors = match state.sahih.store.audit_anchors().await {
        Ok(list) => match list.iter().max_by_key(|a| a.seq) {
            Some(a) => format!(
                "{} · {} #{} · {}",
                list.len(),
                tr(lang, "terakhir pada entri", "latest at entry"),
                a.seq,
                sahih_core::format_wib(a.at, lang)
            ),
            None => tr(lang, "belum ada", "none yet"),
        },
        Err(_) => return super::unavailable(),
    };
    let c = Chrome::new(
        &state,
        lang,
        tr(lang, "Log audit", "Audit log"),
        "/admin/audit",
    )
    .signed_in(&who);
    render(
        StatusCode::OK,
        &AuditPage {
            c,
            aksi: q.aksi.clone().unwrap_or_default(),
            pelaku: q.pelaku.clone().unwrap_or_default(),
            nik: q.nik.clone().unwrap_or_default(),
            dari: q.dari.clone().unwrap_or_default(),
            sampai: q.sampai.clone().unwrap_or_default(),
            rows,
            next,
            export,
            check,
            chain,
            head,
            anchors,
        },
    )
}

/// What the filter selects, oldest first, one JSON entry per line (the same shape as `sahih
/// audit export`), streamed from the store in steps.
async fn audit_export(
    State(state): State<Shared>,
    who: SignedIn,
    Query(q): Query<AuditQuery>,
) -> Response {
    let lang = lang_of(q.lang.as_deref());
    if let Err(r) = admin_of(&state, &who, lang) {
        return *r;
    }
    let filter = q.filter();
    // Oldest first, one step at a time: the next step is read only when the previous one was
    // sent, so a large log is never held at once. A failure mid-way ends the download early
    // (the browser reports it incomplete), never with a partial line.
    let steps = futures_util::stream::unfold(Some(0i64), move |after| {
        let state = std::sync::Arc::clone(&state);
        let filter = filter.clone();
        async move {
            let after = after?;
            let step = state
                .sahih
                .store
                .audit_search(&filter, AuditCursor::After(after), EXPORT_STEP)
                .await;
            match step {
                Ok(entries) if entries.is_empty() => None,
                Ok(entries) => {
                    let next = entries
                        .last()
                        .map(|e| e.seq)
                        .filter(|_| entries.len() as i64 == EXPORT_STEP);
                    let mut chunk = Vec::new();
                    for e in &entries {
                        if serde_json::to_writer(&mut chunk, e).is_ok() {
                            chunk.push(b'\n');
                        }
                    }
                    Some((
                        Ok::<_, std::io::Error>(axum::body::Bytes::from(chunk)),
                        next,
                    ))
                }
                Err(_) => Some((Err(std::io::Error::other("audit export failed")), None)),
            }
        }
    });
    let body = axum::body::Body::from_stream(steps);
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"audit-sahih.jsonl\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
