//! The administrator's pages: the dashboard (`/admin`: signatures per day, per unit and per
//! document class, refusals by reason, certificates expiring soon and the signing latency, drawn
//! as charts), and the audit log (`/admin/audit`), filtered by action, actor, official and date,
//! newest first and paged by sequence number, with the chain's state on demand and an export of
//! what the filter selects as JSON lines; and the document-class policy (`/admin/kebijakan`):
//! the current one, a new TOML checked and compared with it before it takes effect, and the
//! history of who loaded which.
//!
//! Reads through the same store queries and the same chain check (`Sahih::verify_audit`) as the
//! CLI and the native API.
//!
//! Must not know: how entries are hashed or anchored (`sahih_core::audit`).

use super::roles::{Auditor, PolicyAdmin, StaffForm, StaffPage};
use super::session::SignedIn;
use super::{Chrome, lang_of, render, tr};
use crate::Shared;
use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sahih_core::Lang;
use sahih_core::audit::{AuditCursor, AuditEntry, AuditFilter};
use sahih_core::store::Store;
use serde::Deserialize;
use time::{Date, OffsetDateTime, Time, UtcOffset};

/// Entries per page.
const PAGE_SIZE: i64 = 50;
/// Entries read from the store per step of an export.
const EXPORT_STEP: i64 = 5_000;

/// The administrator's routes; POSTs are refused from other sites.
pub fn routes(state: &Shared) -> Router<Shared> {
    Router::new()
        .route("/admin", get(dashboard))
        .route("/admin/kebijakan", get(policy_page).post(policy_preview))
        .route("/admin/kebijakan/terapkan", post(policy_apply))
        .route("/admin/audit", get(audit_page))
        .route("/admin/audit/ekspor", get(audit_export))
        .route_layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::clone(state),
            crate::http::csrf::reject_cross_site,
        ))
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
    StaffPage { who, lang, .. }: StaffPage<Auditor>,
    Query(q): Query<AuditQuery>,
) -> Response {
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
    StaffPage { .. }: StaffPage<Auditor>,
    Query(q): Query<AuditQuery>,
) -> Response {
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

// ---------------------------------------------------------------------------------------------
// The dashboard.

/// Periods the dashboard offers, in days.
const PERIODS: [i64; 4] = [7, 30, 90, 365];

#[derive(Deserialize, Default)]
struct DashboardQuery {
    periode: Option<i64>,
}

struct Expiring {
    name: String,
    nik: String,
    unit: String,
    until: String,
}

#[derive(Template)]
#[template(path = "admin_dashboard.html")]
struct DashboardPage {
    c: Chrome,
    period: i64,
    periods: Vec<(i64, String)>,
    total: i64,
    refused: i64,
    per_day: String,
    per_day_table: String,
    per_unit: String,
    per_unit_table: String,
    per_class: String,
    per_class_table: String,
    refusals: String,
    refusals_table: String,
    expiring: Vec<Expiring>,
    latency: Option<(String, String, u64)>,
}

fn reason_label(r: sahih_core::store::dashboard::RefusalReason, lang: Lang) -> String {
    use sahih_core::store::dashboard::RefusalReason as R;
    match r {
        R::Policy => tr(lang, "Kebijakan jenis dokumen", "Document-class policy"),
        R::Certificate => tr(
            lang,
            "Sertifikat dicabut, dibekukan atau kedaluwarsa",
            "Certificate revoked, suspended or expired",
        ),
        R::WrongPassphrase => tr(lang, "Passphrase salah", "Wrong passphrase"),
        R::Lockout => tr(lang, "Terkunci (passphrase salah berulang)", "Locked out"),
    }
}

fn milliseconds(seconds: f64, lang: Lang) -> String {
    let text = format!("{:.0} ms", seconds * 1000.0);
    match lang {
        Lang::Id => text.replace('.', ","),
        Lang::En => text,
    }
}

async fn dashboard(
    State(state): State<Shared>,
    StaffPage { who, lang, .. }: StaffPage<Auditor>,
    Query(q): Query<DashboardQuery>,
) -> Response {
    use super::charts::{Bar, columns, hbars, table};
    use sahih_core::store::dashboard::DashboardStore;
    let period = q.periode.filter(|p| PERIODS.contains(p)).unwrap_or(30);
    let now = OffsetDateTime::now_utc();
    // Whole WIB days: the first column is a full day.
    let today = now.to_offset(wib()).date();
    let first_day = today - time::Duration::days(period - 1);
    let since = first_day
        .midnight()
        .assume_offset(wib())
        .to_offset(UtcOffset::UTC);
    let counts = match state
        .sahih
        .store
        .dashboard_counts(since, now, now + time::Duration::days(30))
        .await
    {
        Ok(c) => c,
        Err(_) => return super::unavailable(),
    };
    // Every day of the period, the empty ones too.
    let first_number = (first_day
        - Date::from_calendar_date(1970, time::Month::January, 1).unwrap_or(first_day))
    .whole_days();
    let by_day: std::collections::HashMap<i64, i64> = counts.per_day.iter().copied().collect();
    let days: Vec<Bar> = (0..period)
        .map(|i| {
            let date = first_day + time::Duration::days(i);
            Bar {
                label: day_label(date, lang),
                value: by_day.get(&(first_number + i)).copied().unwrap_or(0),
            }
        })
        .collect();
    let total: i64 = days.iter().map(|b| b.value).sum();
    let units: Vec<Bar> = counts.per_unit.into_iter().map(Bar::from).collect();
    let classes: Vec<Bar> = counts.per_class.into_iter().map(Bar::from).collect();
    let refusals: Vec<Bar> = counts
        .refusals
        .iter()
        .map(|(reason, value)| Bar {
            label: reason_label(*reason, lang),
            value: *value,
        })
        .collect();
    let refused = refusals.iter().map(|b| b.value).sum();
    let nothing = tr(
        lang,
        "Belum ada data pada periode ini.",
        "No data in this period.",
    );
    let numbers = tr(lang, "Lihat angkanya", "See the numbers");
    let count_head = tr(lang, "Jumlah", "Count");
    let latency = state
        .metrics
        .signing_latency()
        .map(|(median, p95, n)| (milliseconds(median, lang), milliseconds(p95, lang), n));
    let c = Chrome::new(
        &state,
        lang,
        tr(lang, "Dasbor layanan", "Service dashboard"),
        "/admin",
    )
    .signed_in(&who);
    let page = DashboardPage {
        period,
        periods: PERIODS
            .iter()
            .map(|p| (*p, format!("{p} {}", tr(lang, "hari", "days"))))
            .collect(),
        total,
        refused,
        per_day: columns(
            &days,
            &tr(lang, "Tanda tangan per hari", "Signatures per day"),
            &tr(lang, "paling banyak", "at most"),
        ),
        per_day_table: table(&days, &numbers, (&tr(lang, "Tanggal", "Date"), &count_head)),
        per_unit: hbars(&units, "main", &nothing),
        per_unit_table: table(
            &units,
            &numbers,
            (&tr(lang, "Unit kerja", "Unit"), &count_head),
        ),
        per_class: hbars(&classes, "main", &nothing),
        per_class_table: table(
            &classes,
            &numbers,
            (&tr(lang, "Jenis dokumen", "Document class"), &count_head),
        ),
        refusals: hbars(&refusals, "warn", &nothing),
        refusals_table: table(
            &refusals,
            &numbers,
            (&tr(lang, "Alasan", "Reason"), &count_head),
        ),
        expiring: counts
            .expiring
            .into_iter()
            .map(|e| Expiring {
                name: e.name,
                nik: e.nik,
                unit: e.unit,
                until: sahih_core::format_wib(e.not_after, lang),
            })
            .collect(),
        latency,
        c,
    };
    render(StatusCode::OK, &page)
}

/// "7 Des" / "7 Dec".
fn day_label(date: Date, lang: Lang) -> String {
    const ID: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des",
    ];
    const EN: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = usize::from(u8::from(date.month())) - 1;
    let names = match lang {
        Lang::Id => ID,
        Lang::En => EN,
    };
    format!("{} {}", date.day(), names.get(month).copied().unwrap_or(""))
}

// ---------------------------------------------------------------------------------------------
// The document-class policy.

/// The largest policy file accepted.
const POLICY_MAX_BYTES: usize = 256 * 1024;

struct ClassRow {
    code: String,
    name: String,
    rule: String,
    tone: &'static str,
    positions: String,
    regulation: String,
}

struct ChangeRow {
    kind: String,
    tone: &'static str,
    before: Option<ClassRow>,
    after: Option<ClassRow>,
}

struct HistoryRow {
    at: String,
    actor: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin_policy.html")]
struct PolicyPage {
    c: Chrome,
    csrf: String,
    notice: Option<String>,
    error: Option<String>,
    default_class: String,
    classes: Vec<ClassRow>,
    history: Vec<HistoryRow>,
    /// A checked new policy waiting for confirmation.
    pending: Option<PendingPolicy>,
}

struct PendingPolicy {
    toml: String,
    current_digest: String,
    changes: Vec<ChangeRow>,
    default_change: Option<(String, String)>,
}

fn rule_text(rule: sahih_core::policy::Rule, lang: Lang) -> (String, &'static str) {
    use sahih_core::policy::Rule;
    match rule {
        Rule::Allowed => (tr(lang, "boleh TTE", "TTE allowed"), "ok"),
        Rule::Forbidden => (tr(lang, "dilarang TTE", "TTE forbidden"), "bad"),
        Rule::Required => (tr(lang, "wajib TTE", "TTE required"), "warn"),
    }
}

fn class_row(c: &sahih_core::policy::DocClass, lang: Lang) -> ClassRow {
    let (rule, tone) = rule_text(c.rule, lang);
    ClassRow {
        code: c.code.clone(),
        name: c.name.clone(),
        rule,
        tone,
        positions: if c.positions.is_empty() {
            tr(lang, "semua jabatan", "any position")
        } else {
            c.positions.join(", ")
        },
        regulation: c.regulation.clone(),
    }
}

/// A fingerprint of the policy in force, so a confirmation applies only over the policy its
/// comparison was made against.
fn policy_digest(p: &sahih_core::policy::Policy) -> String {
    sahih_core::ids::sha256_hex(&serde_json::to_vec(p).unwrap_or_default())
}

async fn policy_view(
    state: &Shared,
    who: &SignedIn,
    lang: Lang,
) -> Result<PolicyPage, Box<Response>> {
    let current = state
        .sahih
        .policy()
        .await
        .map_err(|_| Box::new(super::unavailable()))?;
    let filter = AuditFilter {
        action: Some("policy.replace".into()),
        ..AuditFilter::default()
    };
    let entries = state
        .sahih
        .store
        .audit_search(&filter, AuditCursor::Before(i64::MAX), 20)
        .await
        .map_err(|_| Box::new(super::unavailable()))?;
    let mut history = Vec::new();
    let mut names = super::ActorNames::new(state);
    for e in entries {
        let actor = names.name(&e.event.actor).await;
        history.push(HistoryRow {
            at: OffsetDateTime::from_unix_timestamp_nanos(i128::from(e.at_micros) * 1000)
                .map(|t| sahih_core::format_wib(t, lang))
                .unwrap_or_default(),
            actor,
            detail: e.event.detail,
        });
    }
    Ok(PolicyPage {
        c: Chrome::new(
            state,
            lang,
            tr(lang, "Kebijakan jenis dokumen", "Document-class policy"),
            "/admin/kebijakan",
        )
        .signed_in(who),
        csrf: who.csrf(),
        notice: None,
        error: None,
        default_class: current.default_class.clone(),
        classes: current.classes.iter().map(|c| class_row(c, lang)).collect(),
        history,
        pending: None,
    })
}

#[derive(Deserialize, Default)]
struct PolicyQuery {
    dimuat: Option<String>,
}

async fn policy_page(
    State(state): State<Shared>,
    StaffPage { who, lang, .. }: StaffPage<PolicyAdmin>,
    Query(q): Query<PolicyQuery>,
) -> Response {
    match policy_view(&state, &who, lang).await {
        Ok(mut page) => {
            page.notice = q.dimuat.map(|_| {
                tr(
                    lang,
                    "Kebijakan baru berlaku mulai sekarang untuk setiap pintu (API, halaman, CLI).",
                    "The new policy applies from now on at every door (API, pages, CLI).",
                )
            });
            render(StatusCode::OK, &page)
        }
        Err(r) => *r,
    }
}

async fn policy_preview(
    State(state): State<Shared>,
    StaffPage { who, .. }: StaffPage<PolicyAdmin>,
    form: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let (lang, data) =
        super::upload::read_form(form, &[super::upload::FILE_FIELD], POLICY_MAX_BYTES).await;
    let mut page = match policy_view(&state, &who, lang).await {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let data = match data {
        Ok(d) => d,
        Err(e) => {
            page.error = Some(tr(
                lang,
                &format!(
                    "Berkas kebijakan tidak terbaca atau lebih dari {} KB.",
                    POLICY_MAX_BYTES / 1024
                ),
                &format!(
                    "The policy file could not be read or is over {} KB.",
                    POLICY_MAX_BYTES / 1024
                ),
            ));
            return render(e.status(), &page);
        }
    };
    if !who.csrf_ok(data.text("csrf")) {
        return super::csrf_refused(lang);
    }
    let Some((_, _, bytes)) = data.files.into_iter().next() else {
        page.error = Some(tr(
            lang,
            "Pilih berkas kebijakan (.toml) lebih dahulu.",
            "Choose a policy file (.toml) first.",
        ));
        return render(StatusCode::BAD_REQUEST, &page);
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(_) => {
            page.error = Some(tr(
                lang,
                "Berkas kebijakan harus teks UTF-8 (TOML).",
                "The policy file must be UTF-8 text (TOML).",
            ));
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let new = match sahih_core::policy::Policy::from_toml(&text) {
        Ok(p) => p,
        Err(e) => {
            page.error = Some(format!(
                "{} {e}",
                tr(
                    lang,
                    "Kebijakan tidak valid; tidak ada yang berubah.",
                    "The policy is not valid; nothing changed."
                )
            ));
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let current = match state.sahih.policy().await {
        Ok(p) => p,
        Err(_) => return super::unavailable(),
    };
    let (changes, default_change) = current.diff(&new);
    use sahih_core::policy::ClassChange;
    let changes = changes
        .iter()
        .map(|ch| match ch {
            ClassChange::Added(c) => ChangeRow {
                kind: tr(lang, "Baru", "Added"),
                tone: "ok",
                before: None,
                after: Some(class_row(c, lang)),
            },
            ClassChange::Removed(c) => ChangeRow {
                kind: tr(lang, "Dihapus", "Removed"),
                tone: "bad",
                before: Some(class_row(c, lang)),
                after: None,
            },
            ClassChange::Changed { before, after } => ChangeRow {
                kind: tr(lang, "Berubah", "Changed"),
                tone: "warn",
                before: Some(class_row(before, lang)),
                after: Some(class_row(after, lang)),
            },
        })
        .collect();
    page.pending = Some(PendingPolicy {
        toml: text,
        current_digest: policy_digest(&current),
        changes,
        default_change,
    });
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct ApplyForm {
    csrf: String,
    lang: String,
    toml: String,
    current: String,
}

page_form!(ApplyForm);

async fn policy_apply(
    State(state): State<Shared>,
    StaffForm {
        who, lang, form: f, ..
    }: StaffForm<PolicyAdmin, ApplyForm>,
) -> Response {
    let mut page = match policy_view(&state, &who, lang).await {
        Ok(p) => p,
        Err(r) => return *r,
    };
    let current = match state.sahih.policy().await {
        Ok(p) => p,
        Err(_) => return super::unavailable(),
    };
    if policy_digest(&current) != f.current {
        page.error = Some(tr(
            lang,
            "Kebijakan yang berlaku berubah sejak perbandingan dibuat. Unggah berkasnya lagi untuk melihat perbandingan yang baru.",
            "The policy in force changed since the comparison was made. Upload the file again to see a new comparison.",
        ));
        return render(StatusCode::CONFLICT, &page);
    }
    let new = match sahih_core::policy::Policy::from_toml(&f.toml) {
        Ok(p) => p,
        Err(e) => {
            page.error = Some(e.to_string());
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let actor = who.actor();
    match state.sahih.load_policy(&new, "halaman admin", &actor).await {
        Ok(()) => {
            axum::response::Redirect::to(&super::with_lang("/admin/kebijakan?dimuat=1", lang))
                .into_response()
        }
        Err(e) => {
            page.error = Some(super::error_text(&e, lang));
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
    }
}
