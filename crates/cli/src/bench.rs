//! `sahih bench sign|verify FILE --nik NIK [--n N]`: in-process timing with the key unlocked
//! once. Prints `median <x> ms`, `p95 <x> ms` and the peak resident memory.

use crate::{Failure, PassphraseArgs, open, read_passphrase};
use clap::{Args, ValueEnum};
use sahih_core::{CoreError, Lang, Level, SignOptions, TrustProviders};
use sahih_pdf::Placement;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum BenchKind {
    /// Signing FILE in memory (nothing is written or recorded).
    Sign,
    /// Verifying: FILE (an unsigned PDF) is signed once in memory, then that signed copy is
    /// verified N times; the run fails unless every verification passes.
    Verify,
    /// The passphrase check alone (Argon2id + AES-GCM unseal of the official's key); FILE is
    /// ignored.
    Unlock,
}

#[derive(Args)]
pub(crate) struct BenchArgs {
    kind: BenchKind,
    file: PathBuf,
    #[arg(long)]
    nik: String,
    /// Iterations.
    #[arg(long, default_value_t = 200)]
    n: usize,
    /// PAdES level to produce (B-B default; B-T/B-LT/B-LTA use the built-in services in-process).
    #[arg(long, default_value = "B-B")]
    level: String,
    #[command(flatten)]
    passphrase: PassphraseArgs,
}

/// Peak resident set size of this process in bytes (Linux: VmHWM).
pub(crate) fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted.get(idx).copied().unwrap_or(0.0)
}

pub(crate) async fn run(data: &Path, args: BenchArgs, lang: Lang) -> Result<(), Failure> {
    let core = |e: CoreError| Failure::core(e, lang);
    let sahih = open(data).await.map_err(core)?;
    let passphrase = read_passphrase(&args.passphrase, lang, false).map_err(Failure::usage)?;
    let original = std::fs::read(&args.file)
        .map_err(|e| Failure::usage(format!("{}: {e}", args.file.display())))?;
    let signer = sahih
        .unlock(args.nik.trim(), &passphrase)
        .await
        .map_err(core)?;
    let level: Level = args.level.parse().map_err(Failure::usage)?;
    let services = if level >= Level::BT {
        Some(sahih.trust_services().await.map_err(core)?)
    } else {
        None
    };
    let providers = TrustProviders {
        tsa: services
            .as_ref()
            .map(|s| s as &dyn sahih_pades::Timestamper),
        validation_data: services
            .as_ref()
            .map(|s| s as &dyn sahih_pades::ValidationDataSource),
    };
    let options = SignOptions {
        qr_link: None,
        specimen: None,
        extra_text: None,
        placement: Some(Placement::Default),
        level,
        reason: None,
        location: None,
        lang,
    };
    let n = args.n.max(1);
    let mut times = Vec::with_capacity(n);
    let now = time::OffsetDateTime::now_utc();
    match args.kind {
        BenchKind::Unlock => {
            for _ in 0..n {
                let start = Instant::now();
                let s = sahih
                    .unlock(args.nik.trim(), &passphrase)
                    .await
                    .map_err(core)?;
                times.push(start.elapsed().as_secs_f64() * 1000.0);
                std::hint::black_box(s);
            }
        }
        BenchKind::Sign => {
            for _ in 0..n {
                let start = Instant::now();
                let signed = sahih
                    .sign_bytes(
                        &signer,
                        &original,
                        &options,
                        "benchbenchbenchbenchbench0",
                        now,
                        &providers,
                    )
                    .map_err(core)?;
                times.push(start.elapsed().as_secs_f64() * 1000.0);
                std::hint::black_box(signed);
            }
        }
        BenchKind::Verify => {
            let signed = sahih
                .sign_bytes(
                    &signer,
                    &original,
                    &options,
                    "benchbenchbenchbenchbench0",
                    now,
                    &providers,
                )
                .map_err(core)?;
            let mut bytes = original;
            bytes.extend_from_slice(&signed.update);
            let trust = sahih.trust_store(Vec::new()).await.map_err(core)?;
            let revocations = sahih.revocations().await.map_err(core)?;
            for _ in 0..n {
                let start = Instant::now();
                let report =
                    sahih_core::service::verify_with(&bytes, trust.clone(), &revocations, now)
                        .map_err(core)?;
                times.push(start.elapsed().as_secs_f64() * 1000.0);
                if report.indication != sahih_validate::Indication::TotalPassed {
                    return Err(Failure::usage(format!(
                        "verification did not pass: {:?}",
                        report.signatures.first().map(|s| &s.errors)
                    )));
                }
            }
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!("iterations {n}");
    println!("median {:.3} ms", percentile(&times, 0.5));
    println!("p95 {:.3} ms", percentile(&times, 0.95));
    if let Some(peak) = peak_rss_bytes() {
        println!("peak memory {:.1} MiB", peak as f64 / (1024.0 * 1024.0));
    }
    sahih.store.close().await;
    Ok(())
}
