//! `sahih doctor`: runs the installation checks of `sahih_core::doctor` in order and prints
//! each as OK, WARN, FAIL or SKIP with the fix for anything not OK (or one JSON document with
//! `--json`); exits 1 when any check failed.
//!
//! Owns: the order of the checks, opening the database and blob store the way every other
//! command does (`crate::open`, `crate::blob_store`), asking `{base_url}/healthz`, and the
//! printing. Must not know: what a check looks at or its thresholds (core's `doctor`), SQL,
//! secrets (nothing printed here comes from a key, a password or a URL's userinfo).

use crate::Failure;
use clap::Args;
use sahih_core::doctor::{self, DatabaseClock, Finding, HealthProbe, Verdict};
use sahih_core::{DataDir, Lang, Text};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

/// `sahih doctor` options.
#[derive(Args)]
pub(crate) struct DoctorArgs {
    /// Print the findings as JSON.
    #[arg(long)]
    json: bool,
    /// Do not ask `{base_url}/healthz` (no server runs here).
    #[arg(long)]
    no_http: bool,
}

/// How long `/healthz` may take to answer.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);

pub(crate) async fn doctor(data: &Path, args: DoctorArgs, lang: Lang) -> Result<(), Failure> {
    let findings = run_checks(data, args.no_http).await;
    if args.json {
        print_json(&findings, lang);
    } else {
        print_text(&findings, lang);
    }
    if doctor::any_failed(&findings) {
        return Err(Failure {
            code: 1,
            message: String::new(),
        });
    }
    Ok(())
}

async fn run_checks(data: &Path, no_http: bool) -> Vec<Finding> {
    let dir = DataDir::new(data);
    let mut findings = Vec::new();
    let (found, config) = doctor::config(&dir);
    findings.push(found);
    let Some(config) = config else {
        return findings;
    };
    findings.push(doctor::master_key(&dir));

    let db_url = crate::database_url(&dir, Some(&config));
    let db_shown = sahih_store::redact_url(&db_url);
    let sahih = match crate::open(data).await {
        Ok(s) => {
            findings.push(doctor::database(&s.store, &db_shown).await);
            Some(s)
        }
        Err(e) => {
            let sqlite_file = db_url
                .strip_prefix("sqlite://")
                .or_else(|| db_url.strip_prefix("sqlite:"))
                .map(|rest| Path::new(rest.split('?').next().unwrap_or(rest)));
            findings.push(doctor::database_unreachable(&e, &db_shown, sqlite_file));
            None
        }
    };

    match crate::blob_store(&dir, &config) {
        Ok(blobs) => findings.push(doctor::blob_store(&blobs, &blobs.describe()).await),
        Err(e) => findings.push(Finding::fail(
            "blob-store",
            Text::new(e.message(Lang::Id), e.message(Lang::En)),
            Text::new(
                "Perbaiki SAHIH_BLOB_URL / [storage] blob_url (file:///jalur/absolut atau s3://bucket/prefix?endpoint=URL&region=R).",
                "Fix SAHIH_BLOB_URL / [storage] blob_url (file:///absolute/path or s3://bucket/prefix?endpoint=URL&region=R).",
            ),
        )),
    }

    match &sahih {
        Some(sahih) => match sahih.trust_services().await {
            Ok(services) => {
                let now = time::OffsetDateTime::now_utc();
                findings.extend(doctor::certificates(&services, now));
                findings.extend(doctor::crls(sahih, &services, now).await);
                findings.push(doctor::tsa_round_trip(
                    &services,
                    time::OffsetDateTime::now_utc(),
                ));
                findings.push(doctor::ocsp_round_trip(
                    &services,
                    time::OffsetDateTime::now_utc(),
                ));
            }
            Err(e) => findings.push(doctor::trust_unavailable(&e)),
        },
        None => findings.push(Finding::skip(
            "trust-services",
            Text::new(
                "dilewati: basis data tidak dapat dibuka",
                "skipped: the database cannot be opened",
            ),
        )),
    }

    let clock = match &sahih {
        Some(s) if s.store.backend() == sahih_store::Backend::Sqlite => DatabaseClock::SameHost,
        Some(s) => match s.store.server_time().await {
            Ok(t) => DatabaseClock::Server(t),
            Err(_) => DatabaseClock::Unmeasured(Text::new(
                "jam server basis data tidak dapat dibaca; periksa NTP di kedua host",
                "the database server's clock could not be read; check NTP on both hosts",
            )),
        },
        None => DatabaseClock::Unmeasured(Text::new(
            "dilewati: basis data tidak dapat dibuka",
            "skipped: the database cannot be opened",
        )),
    };
    findings.push(doctor::clock(clock, time::OffsetDateTime::now_utc()));

    let url = format!("{}/healthz", config.base_url.trim().trim_end_matches('/'));
    let probe = if no_http {
        HealthProbe::NotAsked
    } else {
        probe_health(url.clone()).await
    };
    findings.push(doctor::health(&url, probe));

    if let Some(s) = sahih {
        s.store.close().await;
    }
    findings
}

async fn probe_health(url: String) -> HealthProbe {
    let asked = url.clone();
    let answer =
        tokio::task::spawn_blocking(move || sahih_fetch::get_der(&asked, HEALTH_TIMEOUT)).await;
    match answer {
        Ok(Ok(body)) => HealthProbe::Answered { body },
        Ok(Err(e)) if e.to_ascii_lowercase().contains("refused") => HealthProbe::NotListening(
            e.strip_prefix(&format!("{url}: "))
                .unwrap_or(&e)
                .to_string(),
        ),
        Ok(Err(e)) => HealthProbe::Failed(
            e.strip_prefix(&format!("{url}: "))
                .unwrap_or(&e)
                .to_string(),
        ),
        Err(e) => HealthProbe::Failed(e.to_string()),
    }
}

// Printing ignores a closed stdout (`sahih doctor | head`) instead of panicking.
fn print_text(findings: &[Finding], lang: Lang) {
    let mut out = std::io::stdout().lock();
    let fix_label = match lang {
        Lang::Id => "Perbaikan",
        Lang::En => "Fix",
    };
    for f in findings {
        let _ = writeln!(
            out,
            "{:<4}  {}: {}",
            f.verdict.as_str(),
            f.check,
            f.detail.get(lang)
        );
        if let Some(fix) = &f.fix
            && f.verdict != Verdict::Ok
        {
            let _ = writeln!(out, "      {fix_label}: {}", fix.get(lang));
        }
    }
    let count = |v: Verdict| findings.iter().filter(|f| f.verdict == v).count();
    let (fail, warn, skip) = (
        count(Verdict::Fail),
        count(Verdict::Warn),
        count(Verdict::Skip),
    );
    let _ = match lang {
        Lang::Id => writeln!(
            out,
            "\n{} pemeriksaan: {fail} gagal, {warn} peringatan, {skip} dilewati.",
            findings.len()
        ),
        Lang::En => writeln!(
            out,
            "\n{} checks: {fail} failed, {warn} warnings, {skip} skipped.",
            findings.len()
        ),
    };
}

fn print_json(findings: &[Finding], lang: Lang) {
    let checks: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "check": f.check,
                "status": f.verdict.as_str(),
                "detail": f.detail.get(lang),
                "fix": f.fix.as_ref().map(|x| x.get(lang)),
            })
        })
        .collect();
    let doc = serde_json::json!({
        "ok": !doctor::any_failed(findings),
        "checks": checks,
    });
    let text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| doc.to_string());
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}
