//! The `sahih` command line: a thin shell over `sahih-core`.
//!
//! Owns: argument parsing, passphrase input (file, environment, prompt; never an argument),
//! exit codes and printing. Must not know: PDF syntax, CMS, SQL, or the HTTP server: `serve`
//! and `demo` start the server the `sahih` binary hands in ([`HttpServer`]), so nothing here
//! (signing, the RA, audit) can reach around the core through the server's code.

#![forbid(unsafe_code)]

mod account;
mod admin;
mod backup;
mod bench;
mod demo;
mod doctor;
mod gateway;
mod http;
mod ra;
mod seal;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use sahih_core::store::{NewOfficial, Store};
use sahih_core::{Config, CoreError, DataDir, Lang, Level, Sahih, SignOptions, TrustProviders};
use sahih_pdf::{DisplayRect, PageSelector, Placement};
use sahih_pki::{Certificate, KeyAlgorithm};
use sahih_store::SqliteStore;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub use http::{ApiRoute, HttpServer};
use zeroize::Zeroizing;

#[derive(Parser)]
#[command(
    name = "sahih",
    version,
    about = "Sahih: tanda tangan elektronik (PAdES) untuk pemerintah daerah"
)]
struct Cli {
    /// Data directory (config, database, CA keys).
    #[arg(
        long,
        global = true,
        env = "SAHIH_DATA",
        default_value = "./sahih-data"
    )]
    data: PathBuf,
    /// Language of messages and reports: id (Bahasa Indonesia) or en.
    #[arg(long, global = true, env = "SAHIH_LANG", default_value = "id")]
    lang: String,
    /// Database: postgres://user@host/db or sqlite:///path (default: sahih.db in the data dir).
    #[arg(long, global = true, env = "SAHIH_DATABASE_URL")]
    database_url: Option<String>,
    /// Document storage: s3://bucket/prefix?endpoint=URL&region=R or file:///dir (default:
    /// documents/ in the data dir). S3 credentials come from AWS_ACCESS_KEY_ID and
    /// AWS_SECRET_ACCESS_KEY.
    #[arg(long, global = true, env = "SAHIH_BLOB_URL")]
    blob_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create a data directory with a config, a database and a built-in CA hierarchy.
    Init {
        /// Institution name (instansi).
        #[arg(long, default_value = "Pemerintah Kota Contoh")]
        org: String,
        /// Public base URL used in QR codes and certificate URLs.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        base_url: String,
        /// Where CA and officials' keys are made: software (sealed in the database) or pkcs11
        /// (generated inside the token; the user PIN from SAHIH_HSM_PIN).
        #[arg(long, default_value = "software")]
        key_backend: String,
        /// PKCS#11 module for --key-backend pkcs11.
        #[arg(long, default_value = "/usr/lib/softhsm/libsofthsm2.so")]
        hsm_module: PathBuf,
        /// Label of the initialised token for --key-backend pkcs11.
        #[arg(long, default_value = "sahih")]
        hsm_token: String,
    },
    /// Register an official and issue their document-signing certificate.
    Enroll(EnrollArgs),
    /// Sign a PDF (PAdES B-B) as an incremental update.
    Sign(SignArgs),
    /// Validate every signature in a PDF.
    Verify(VerifyArgs),
    /// Revoke an official's certificate.
    Revoke {
        #[arg(long)]
        nik: String,
        /// keyCompromise, affiliationChanged, superseded or cessationOfOperation.
        #[arg(long, default_value = "unspecified")]
        reason: String,
    },
    /// Suspend an official's certificate (certificateHold, e.g. during an investigation):
    /// signing is refused and OCSP/CRL say revoked (certificateHold) until `resume`.
    Suspend {
        #[arg(long)]
        nik: String,
        /// Why (kept in the audit log).
        #[arg(long, default_value = "investigation")]
        reason: String,
    },
    /// Lift a suspension.
    Resume {
        #[arg(long)]
        nik: String,
    },
    /// Send the due certificate-expiry notices (30 and 7 days before) now; the server does this
    /// hourly.
    NotifyRenewals,
    /// Re-issue an official's certificate after a change of position, unit or name (mutasi):
    /// new key and certificate, the old one revoked. Needs the official's passphrase.
    Reissue(ReissueArgs),
    /// Certificate authority operations.
    Ca {
        #[command(subcommand)]
        command: CaCommand,
    },
    /// Demonstration on a fresh data directory: institution, official, letter, sign, verify;
    /// then an API client and the server, printing the URL and credentials to try.
    Demo {
        /// Listen address of the demo server.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// Stop after the signed letter is verified (no server).
        #[arg(long)]
        no_serve: bool,
    },
    /// Add validation data (B-LT) and a document timestamp (B-LTA) to a signed PDF, also one
    /// signed by other tools; re-timestamps a B-LTA file before its TSA certificate expires.
    Extend {
        file: PathBuf,
        /// Output file (default: replace FILE atomically).
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[arg(long, default_value = "B-LTA")]
        level: String,
        /// RFC 3161 TSA URL for the document timestamp (default: the built-in TSA).
        #[arg(long)]
        tsa: Option<String>,
    },
    /// Serve the ECS-compatible API (/api), the trust services (/tsa, /ocsp, /crl/), health,
    /// readiness and metrics over HTTP.
    Serve {
        /// Listen address (default from config: 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
    },
    /// The registration authority: requests with evidence, verification, decisions.
    Ra {
        #[command(subcommand)]
        command: ra::RaCommand,
    },
    /// Institutional electronic seals (segel elektronik): issue (verifikator) and list.
    Seal {
        #[command(subcommand)]
        command: seal::SealCommand,
    },
    /// Activate a certificate from the link in the activation e-mail: choose your passphrase.
    Activate {
        /// The activation link (or just its token).
        link: String,
        #[command(flatten)]
        passphrase: PassphraseArgs,
    },
    /// Show an official's status (ECS vocabulary).
    Status { nik: String },
    /// Gateway mode: officials who sign through the upstream ECS.
    Gateway {
        #[command(subcommand)]
        command: gateway::GatewayCommand,
    },
    /// Person accounts for the web pages: officials, operators, verifikators, administrators.
    Account {
        #[command(subcommand)]
        command: account::AccountCommand,
    },
    /// API clients (applications calling the ECS-compatible API with HTTP Basic credentials).
    Client {
        #[command(subcommand)]
        command: admin::ClientCommand,
    },
    /// The institution's document-class policy.
    Policy {
        #[command(subcommand)]
        command: admin::PolicyCommand,
    },
    /// The tamper-evident audit log.
    Audit {
        #[command(subcommand)]
        command: admin::AuditCommand,
    },
    /// Messages waiting for an official (one-time codes) in the embedded notifier's outbox.
    Outbox {
        /// The official's e-mail address.
        email: String,
    },
    /// Print a CA's current CRL (PEM; "root" or "issuing-N", default the active issuing CA).
    Crl {
        #[arg(long)]
        ca: Option<String>,
        /// Write DER to this file instead of printing PEM.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// OCSP client operations.
    Ocsp {
        #[command(subcommand)]
        command: OcspCommand,
    },
    /// In-process timing of signing or verification.
    Bench(bench::BenchArgs),
    /// Back up a running deployment into one file: the database (consistent snapshot), the
    /// blob store's objects and config.toml; the master key only with --with-master-key.
    Backup(backup::BackupArgs),
    /// Rebuild a data directory (and its database and blob store) from a backup file.
    Restore(backup::RestoreArgs),
    /// Check this installation: configuration, database, blob store, master key, certificates,
    /// CRLs, a TSA and OCSP round trip, the clock and /healthz; prints a fix for each failure.
    Doctor(doctor::DoctorArgs),
}

#[derive(Subcommand)]
enum OcspCommand {
    /// Query an official's certificate status as an OCSP client would.
    Check {
        #[arg(long)]
        nik: String,
        /// Responder URL (default: the built-in responder, in-process).
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Subcommand)]
enum CaCommand {
    /// Write the root certificate (PEM).
    Export {
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Issue a new issuing CA and make it active; existing signatures keep validating.
    Rotate,
}

/// Who an official is, as `enroll` and `gateway enroll` take it.
#[derive(Args)]
pub(crate) struct IdentityArgs {
    /// NIK (16 digits).
    #[arg(long)]
    nik: String,
    /// NIP (18 digits).
    #[arg(long)]
    nip: String,
    #[arg(long)]
    name: String,
    #[arg(long)]
    email: String,
    /// Position (jabatan).
    #[arg(long)]
    position: String,
    /// Unit (OPD).
    #[arg(long)]
    unit: String,
}

impl IdentityArgs {
    /// The official, with surrounding spaces trimmed.
    pub(crate) fn official(&self) -> NewOfficial {
        NewOfficial {
            nik: self.nik.trim().to_string(),
            nip: self.nip.trim().to_string(),
            name: self.name.trim().to_string(),
            email: self.email.trim().to_string(),
            position: self.position.trim().to_string(),
            unit: self.unit.trim().to_string(),
        }
    }
}

#[derive(Args)]
struct EnrollArgs {
    #[command(flatten)]
    identity: IdentityArgs,
    /// rsa2048, rsa3072 or p256 (default from config: rsa2048).
    #[arg(long)]
    key: Option<String>,
    #[command(flatten)]
    passphrase: PassphraseArgs,
}

#[derive(Args)]
struct ReissueArgs {
    #[arg(long)]
    nik: String,
    /// New position (jabatan); default: unchanged.
    #[arg(long)]
    position: Option<String>,
    /// New unit; default: unchanged.
    #[arg(long)]
    unit: Option<String>,
    /// New name; default: unchanged.
    #[arg(long)]
    name: Option<String>,
    /// New NIP; default: unchanged.
    #[arg(long)]
    nip: Option<String>,
    /// New official e-mail; default: unchanged.
    #[arg(long)]
    email: Option<String>,
    /// Revocation reason of the old certificate: affiliationChanged (default) or superseded.
    #[arg(long, default_value = "affiliationChanged")]
    reason: String,
    #[command(flatten)]
    passphrase: PassphraseArgs,
}

#[derive(Args, Clone)]
pub struct PassphraseArgs {
    /// Read the passphrase from this file (first line). Else SAHIH_PASSPHRASE, else a prompt.
    #[arg(long)]
    passphrase_file: Option<PathBuf>,
}

#[derive(Args)]
struct SignArgs {
    input: PathBuf,
    #[arg(short, long)]
    output: PathBuf,
    #[arg(long)]
    nik: String,
    #[command(flatten)]
    passphrase: PassphraseArgs,
    /// Page for the stamp: a number from 1, first or last.
    #[arg(long)]
    page: Option<String>,
    /// X,Y,W,H in points from the lower-left corner of the page as displayed.
    #[arg(long)]
    rect: Option<String>,
    /// Centre the stamp on the first occurrence of this text.
    #[arg(long, conflicts_with_all = ["page", "rect"])]
    anchor: Option<String>,
    /// No visible stamp.
    #[arg(long, conflicts_with_all = ["page", "rect", "anchor"])]
    invisible: bool,
    #[arg(long)]
    reason: Option<String>,
    #[arg(long)]
    location: Option<String>,
    /// PAdES level: B-B, B-T, B-LT (default) or B-LTA. B-T and above use the built-in TSA
    /// unless --tsa names another.
    #[arg(long, default_value = "B-LT")]
    level: String,
    /// RFC 3161 time-stamping authority URL (default: the built-in TSA, in-process).
    #[arg(long)]
    tsa: Option<String>,
    /// Document class code of the institution's policy (`sahih policy show`); default: the
    /// policy's default class. A class the policy refuses for this official is refused here
    /// exactly as over the API.
    #[arg(long = "class", value_name = "CODE")]
    class: Option<String>,
    /// PDF password (encrypted PDFs are not supported yet; given only to say so clearly).
    #[arg(long, hide = true)]
    password: Option<String>,
}

#[derive(Args)]
struct VerifyArgs {
    file: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Extra trust anchor (PEM or DER certificate file); repeatable.
    #[arg(long)]
    trust: Vec<PathBuf>,
    /// Validate as of this time (RFC 3339, e.g. 2036-11-27T00:00:00Z, or +10y / +90d / -1d).
    #[arg(long, allow_hyphen_values = true)]
    at: Option<String>,
}

fn lang_of(s: &str) -> Lang {
    s.parse().unwrap_or(Lang::Id)
}

/// A failure with its exit code and the message for people.
struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    fn core(e: CoreError, lang: Lang) -> Self {
        let code = match e {
            CoreError::Identity(_)
            | CoreError::InvalidArgument(_)
            | CoreError::WeakPassphrase(_) => 2,
            _ => 1,
        };
        Self {
            code,
            message: e.message(lang),
        }
    }
    fn usage(message: String) -> Self {
        Self { code: 2, message }
    }
}

pub fn read_passphrase(
    args: &PassphraseArgs,
    lang: Lang,
    confirm: bool,
) -> Result<Zeroizing<String>, String> {
    if let Some(path) = &args.passphrase_file {
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| match lang {
            Lang::Id => format!(
                "Berkas passphrase {} tidak dapat dibaca: {e}",
                path.display()
            ),
            Lang::En => format!("Cannot read passphrase file {}: {e}", path.display()),
        })?);
        let first = text.lines().next().unwrap_or("");
        return Ok(Zeroizing::new(first.to_string()));
    }
    if let Ok(p) = std::env::var("SAHIH_PASSPHRASE") {
        return Ok(Zeroizing::new(p));
    }
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Err(match lang {
            Lang::Id => {
                "Passphrase diperlukan: gunakan --passphrase-file atau variabel SAHIH_PASSPHRASE."
                    .into()
            }
            Lang::En => {
                "A passphrase is required: use --passphrase-file or SAHIH_PASSPHRASE.".into()
            }
        });
    }
    let prompt = match lang {
        Lang::Id => "Passphrase: ",
        Lang::En => "Passphrase: ",
    };
    let p = Zeroizing::new(rpassword::prompt_password(prompt).map_err(|e| e.to_string())?);
    if confirm {
        let again = Zeroizing::new(
            rpassword::prompt_password(match lang {
                Lang::Id => "Ulangi passphrase: ",
                Lang::En => "Repeat passphrase: ",
            })
            .map_err(|e| e.to_string())?,
        );
        if *again != *p {
            return Err(match lang {
                Lang::Id => "Passphrase tidak sama.".into(),
                Lang::En => "Passphrases differ.".into(),
            });
        }
    }
    Ok(p)
}

/// `--database-url` / `--blob-url` given on the command line (they win over the environment and
/// the config file, which `DataDir` consults).
static STORAGE_OVERRIDES: std::sync::OnceLock<(Option<String>, Option<String>)> =
    std::sync::OnceLock::new();

fn database_url(dir: &DataDir, config: Option<&Config>) -> String {
    STORAGE_OVERRIDES
        .get()
        .and_then(|(d, _)| d.clone())
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| dir.database_url(config))
}

pub fn blob_store(
    dir: &DataDir,
    config: &Config,
) -> Result<sahih_store::blob::AnyBlobStore, CoreError> {
    let url = STORAGE_OVERRIDES
        .get()
        .and_then(|(_, b)| b.clone())
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| dir.blob_url(Some(config)));
    Ok(sahih_store::blob::AnyBlobStore::from_url(&url)?)
}

pub async fn open(data: &Path) -> Result<Sahih<SqliteStore>, CoreError> {
    let dir = DataDir::new(data);
    let config = dir.load_config()?;
    dir.secure()?;
    let keys = sahih_core::keystore::KeyBackend::from_config(&config)?;
    let store = SqliteStore::connect(&database_url(&dir, Some(&config))).await?;
    Ok(Sahih {
        store,
        config,
        data: dir,
        keys,
    })
}

pub async fn init(
    data: &Path,
    org: &str,
    base_url: &str,
    keys: sahih_core::config::KeyDefaults,
    hsm: sahih_core::config::HsmConfig,
) -> Result<Sahih<SqliteStore>, CoreError> {
    let dir = DataDir::new(data);
    if dir.is_occupied() {
        return Err(CoreError::AlreadyInitialised {
            path: data.to_path_buf(),
        });
    }
    if org.trim().is_empty() {
        return Err(CoreError::invalid("--org kosong", "--org is empty"));
    }
    if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
        return Err(CoreError::invalid(
            format!("--base-url {base_url:?} harus diawali http:// atau https://"),
            format!("--base-url {base_url:?} must start with http:// or https://"),
        ));
    }
    std::fs::create_dir_all(data).map_err(|e| CoreError::Io(format!("{}: {e}", data.display())))?;
    dir.secure()?;
    let mut config = Config::new(org.trim(), base_url);
    config.keys = keys;
    config.hsm = hsm;
    // Open the token before anything is written: a wrong PIN or label leaves no directory.
    let key_backend = sahih_core::keystore::KeyBackend::from_config(&config)?;
    let result = async {
        dir.write_config(&config)?;
        dir.create_master_key()?;
        let url = database_url(&dir, Some(&config));
        let url = if url.starts_with("sqlite:") && !url.contains("mode=") {
            format!("{url}?mode=rwc")
        } else {
            url
        };
        let store = SqliteStore::connect(&url).await?;
        dir.secure()?;
        let sahih = Sahih {
            store,
            config,
            data: dir.clone(),
            keys: key_backend,
        };
        // An S3 bucket is created when missing (creating one we already own is a no-op).
        if let sahih_store::blob::AnyBlobStore::S3(s3) = blob_store(&dir, &sahih.config)? {
            s3.create_bucket().await?;
        }
        // A shared database (PostgreSQL) may already hold the CA of another data directory
        // that uses the same master key: reuse it.
        if sahih_core::store::Store::active_ca(&sahih.store, sahih_core::store::CaKind::Issuing)
            .await?
            .is_none()
        {
            sahih.create_ca_hierarchy().await?;
        }
        Ok::<_, CoreError>(sahih)
    }
    .await;
    if result.is_err() {
        // Leave nothing half-made behind.
        let _ = std::fs::remove_dir_all(data);
    }
    result
}

fn parse_rect(s: &str) -> Result<DisplayRect, String> {
    let parts: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("--rect {s:?}: expected X,Y,W,H in points"))?;
    match parts.as_slice() {
        [x, y, w, h] if parts.iter().all(|v| v.is_finite()) && *w > 0.0 && *h > 0.0 => {
            Ok(DisplayRect {
                x: *x,
                y: *y,
                w: *w,
                h: *h,
            })
        }
        _ => Err(format!(
            "--rect {s:?}: expected X,Y,W,H with positive width and height"
        )),
    }
}

pub fn load_trust(paths: &[PathBuf], lang: Lang) -> Result<Vec<Certificate>, String> {
    let mut out = Vec::new();
    for p in paths {
        let bytes = std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?;
        let certs = sahih_pki::certs::load_certificates(&bytes).map_err(|e| match lang {
            Lang::Id => format!("{}: bukan sertifikat PEM/DER: {e}", p.display()),
            Lang::En => format!("{}: not a PEM/DER certificate: {e}", p.display()),
        })?;
        out.extend(certs);
    }
    Ok(out)
}

async fn run<H: HttpServer>(cli: Cli, server: &H) -> Result<(), Failure> {
    let lang = lang_of(&cli.lang);
    let core = |e: CoreError| Failure::core(e, lang);
    match cli.command {
        Command::Init {
            org,
            base_url,
            key_backend,
            hsm_module,
            hsm_token,
        } => {
            let keys = sahih_core::config::KeyDefaults {
                backend: key_backend.parse().map_err(Failure::usage)?,
                ..Default::default()
            };
            let hsm = sahih_core::config::HsmConfig {
                module: hsm_module,
                token_label: hsm_token,
            };
            let sahih = init(&cli.data, &org, &base_url, keys, hsm)
                .await
                .map_err(core)?;
            let root = sahih.root_certificate().await.map_err(core)?;
            match lang {
                Lang::Id => println!(
                    "Direktori data dibuat: {}\n  Instansi: {}\n  URL dasar: {}\n  Root CA: {}\n  Kunci induk: {} (atau SAHIH_MASTER_KEY)",
                    cli.data.display(),
                    sahih.config.institution,
                    sahih.config.base_url,
                    root.subject_display(),
                    sahih.data.master_key_path().display()
                ),
                Lang::En => println!(
                    "Data directory created: {}\n  Institution: {}\n  Base URL: {}\n  Root CA: {}\n  Master key: {} (or SAHIH_MASTER_KEY)",
                    cli.data.display(),
                    sahih.config.institution,
                    sahih.config.base_url,
                    root.subject_display(),
                    sahih.data.master_key_path().display()
                ),
            }
            sahih.store.close().await;
        }
        Command::Enroll(a) => {
            let sahih = open(&cli.data).await.map_err(core)?;
            let alg: KeyAlgorithm = match &a.key {
                None => sahih.config.keys.official,
                Some(alg_name) => alg_name.parse().map_err(|_| {
                    Failure::usage(match lang {
                        Lang::Id => format!(
                            "Algoritma kunci {alg_name:?} tidak dikenal (rsa2048, rsa3072, p256)."
                        ),
                        Lang::En => {
                            format!("Unknown key algorithm {alg_name:?} (rsa2048, rsa3072, p256).")
                        }
                    })
                })?,
            };
            let official = a.identity.official();
            // Validate identity before asking for a passphrase.
            sahih_core::identity::validate_official(&sahih_pki::OfficialIdentity {
                nik: official.nik.clone(),
                nip: official.nip.clone(),
                name: official.name.clone(),
                email: official.email.clone(),
                position: official.position.clone(),
                unit: official.unit.clone(),
                institution: sahih.config.institution.clone(),
            })
            .map_err(|e| core(e.into()))?;
            let passphrase = read_passphrase(&a.passphrase, lang, true).map_err(Failure::usage)?;
            let outcome = sahih
                .enroll(&official, alg, &passphrase)
                .await
                .map_err(core)?;
            let c = &outcome.certificate;
            match lang {
                Lang::Id => println!(
                    "Pejabat terdaftar dan sertifikat diterbitkan.\n  Subjek: {}\n  Nomor seri: {}\n  Berlaku: {} s.d. {}\n  Kunci: {alg}",
                    c.subject_display(),
                    c.serial_hex(),
                    sahih_core::format_wib(c.not_before(), lang),
                    sahih_core::format_wib(c.not_after(), lang)
                ),
                Lang::En => println!(
                    "Official enrolled and certificate issued.\n  Subject: {}\n  Serial: {}\n  Valid: {} to {}\n  Key: {alg}",
                    c.subject_display(),
                    c.serial_hex(),
                    sahih_core::format_wib(c.not_before(), lang),
                    sahih_core::format_wib(c.not_after(), lang)
                ),
            }
            sahih.store.close().await;
        }
        Command::Sign(a) => {
            if a.password.is_some() {
                return Err(core(CoreError::Pdf(sahih_pdf::PdfError::Encrypted)));
            }
            let placement = if a.invisible {
                None
            } else if let Some(text) = &a.anchor {
                Some(Placement::Anchor {
                    text: text.clone(),
                    size: None,
                })
            } else if a.page.is_some() || a.rect.is_some() {
                let page = match &a.page {
                    Some(p) => p.parse::<PageSelector>().map_err(Failure::usage)?,
                    None => PageSelector::Last,
                };
                let rect = a
                    .rect
                    .as_deref()
                    .map(parse_rect)
                    .transpose()
                    .map_err(Failure::usage)?;
                Some(Placement::Page { page, rect })
            } else {
                Some(Placement::Default)
            };
            let level: Level = a.level.parse().map_err(Failure::usage)?;
            let sahih = open(&cli.data).await.map_err(core)?;
            let passphrase = read_passphrase(&a.passphrase, lang, false).map_err(Failure::usage)?;
            let options = SignOptions {
                qr_link: None,
                specimen: None,
                extra_text: None,
                placement,
                level,
                reason: a.reason.clone(),
                location: a.location.clone(),
                lang,
            };
            let services = if level >= Level::BT {
                Some(sahih.trust_services().await.map_err(core)?)
            } else {
                None
            };
            let http_tsa = a.tsa.as_ref().map(|url| sahih_fetch::HttpTimestamper {
                url: url.clone(),
                timeout: sahih_fetch::DEFAULT_TIMEOUT,
            });
            let providers = TrustProviders {
                tsa: match (&http_tsa, &services) {
                    (Some(h), _) => Some(h as &dyn sahih_pades::Timestamper),
                    (None, Some(s)) => Some(s as &dyn sahih_pades::Timestamper),
                    _ => None,
                },
                validation_data: services
                    .as_ref()
                    .map(|s| s as &dyn sahih_pades::ValidationDataSource),
            };
            let blobs = blob_store(&sahih.data, &sahih.config).map_err(core)?;
            let upstream = sahih_upstream::UpstreamEcs::from_config(&sahih.config);
            let env = sahih_core::pipeline::SigningEnv {
                blobs: &blobs,
                providers,
                remote: upstream
                    .as_ref()
                    .map(|u| u as &dyn sahih_core::pipeline::RemoteSigner),
                parallelism: 1,
                counter: None,
            };
            let outcome = sahih
                .sign_file(
                    &a.input,
                    &a.output,
                    a.nik.trim(),
                    &passphrase,
                    a.class.as_deref(),
                    &options,
                    &env,
                )
                .await
                .map_err(core)?;
            match lang {
                Lang::Id => println!(
                    "Dokumen ditandatangani (PAdES {}): {}\n  Field: {}\n  Waktu: {}\n  Verifikasi: {}\n  SHA-256: {}",
                    outcome.level.as_str(),
                    a.output.display(),
                    outcome.field_name,
                    sahih_core::format_wib(outcome.signed_at, lang),
                    outcome.verification_url,
                    outcome.sha256_hex
                ),
                Lang::En => println!(
                    "Document signed (PAdES {}): {}\n  Field: {}\n  Time: {}\n  Verification: {}\n  SHA-256: {}",
                    outcome.level.as_str(),
                    a.output.display(),
                    outcome.field_name,
                    sahih_core::format_wib(outcome.signed_at, lang),
                    outcome.verification_url,
                    outcome.sha256_hex
                ),
            }
            sahih.store.close().await;
        }
        Command::Verify(a) => return verify(&cli.data, a, lang).await,
        Command::Revoke { nik, reason } => {
            const REASONS: [&str; 5] = [
                "unspecified",
                "keyCompromise",
                "affiliationChanged",
                "superseded",
                "cessationOfOperation",
            ];
            if !REASONS.contains(&reason.as_str()) {
                return Err(Failure::usage(format!(
                    "--reason {reason:?}: {}",
                    REASONS.join(", ")
                )));
            }
            let sahih = open(&cli.data).await.map_err(core)?;
            let n = sahih.revoke(nik.trim(), &reason).await.map_err(core)?;
            match lang {
                Lang::Id => println!("{n} sertifikat dicabut (alasan: {reason})."),
                Lang::En => println!("{n} certificate(s) revoked (reason: {reason})."),
            }
            sahih.store.close().await;
        }
        Command::NotifyRenewals => {
            let sahih = open(&cli.data).await.map_err(core)?;
            let n = sahih.send_renewal_notices().await.map_err(core)?;
            match lang {
                Lang::Id => println!("{n} pemberitahuan masa berlaku sertifikat dikirim."),
                Lang::En => println!("{n} certificate expiry notice(s) sent."),
            }
            sahih.store.close().await;
        }
        Command::Reissue(a) => {
            if !["affiliationChanged", "superseded"].contains(&a.reason.as_str()) {
                return Err(Failure::usage(format!(
                    "--reason {:?}: affiliationChanged or superseded",
                    a.reason
                )));
            }
            let sahih = open(&cli.data).await.map_err(core)?;
            let nik = a.nik.trim();
            let current = sahih
                .store
                .official_by_nik(nik)
                .await
                .map_err(|e| core(e.into()))?
                .ok_or_else(|| core(CoreError::NikNotRegistered))?;
            let passphrase = read_passphrase(&a.passphrase, lang, false).map_err(Failure::usage)?;
            let changes = NewOfficial {
                nik: current.nik.clone(),
                nip: a.nip.unwrap_or(current.nip),
                name: a.name.unwrap_or(current.name),
                email: a.email.unwrap_or(current.email),
                position: a.position.unwrap_or(current.position),
                unit: a.unit.unwrap_or(current.unit),
            };
            let outcome = sahih
                .reissue(nik, &changes, &passphrase, &a.reason)
                .await
                .map_err(core)?;
            match lang {
                Lang::Id => println!(
                    "Sertifikat baru diterbitkan (serial {}) untuk {} ({}); sertifikat lama dicabut ({}).",
                    outcome.certificate.serial_hex(),
                    changes.name,
                    changes.position,
                    a.reason
                ),
                Lang::En => println!(
                    "New certificate issued (serial {}) for {} ({}); the old one was revoked ({}).",
                    outcome.certificate.serial_hex(),
                    changes.name,
                    changes.position,
                    a.reason
                ),
            }
            sahih.store.close().await;
        }
        Command::Suspend { nik, reason } => {
            let sahih = open(&cli.data).await.map_err(core)?;
            let n = sahih.suspend(nik.trim(), &reason).await.map_err(core)?;
            match lang {
                Lang::Id => println!("{n} sertifikat ditangguhkan (SUSPEND)."),
                Lang::En => println!("{n} certificate(s) suspended."),
            }
            sahih.store.close().await;
        }
        Command::Resume { nik } => {
            let sahih = open(&cli.data).await.map_err(core)?;
            let n = sahih.resume(nik.trim()).await.map_err(core)?;
            match lang {
                Lang::Id => println!("{n} sertifikat diaktifkan kembali (ISSUE)."),
                Lang::En => println!("{n} certificate(s) resumed."),
            }
            sahih.store.close().await;
        }
        Command::Ca {
            command: CaCommand::Rotate,
        } => {
            let sahih = open(&cli.data).await.map_err(core)?;
            let generation = sahih.rotate_issuing_ca("cli").await.map_err(core)?;
            match lang {
                Lang::Id => println!(
                    "CA penerbit baru aktif: Issuing CA {generation}. Sertifikat dan tanda tangan lama tetap sah."
                ),
                Lang::En => println!(
                    "New issuing CA active: Issuing CA {generation}. Earlier certificates and signatures stay valid."
                ),
            }
            sahih.store.close().await;
        }
        Command::Ca {
            command: CaCommand::Export { output },
        } => {
            let sahih = open(&cli.data).await.map_err(core)?;
            let root = sahih.root_certificate().await.map_err(core)?;
            std::fs::write(&output, sahih_pki::der_to_pem(&root.der, "CERTIFICATE"))
                .map_err(|e| core(CoreError::Io(format!("{}: {e}", output.display()))))?;
            match lang {
                Lang::Id => println!("Sertifikat root ditulis ke {}", output.display()),
                Lang::En => println!("Root certificate written to {}", output.display()),
            }
            sahih.store.close().await;
        }
        Command::Demo { listen, no_serve } => {
            return demo::run(&cli.data, lang, &listen, !no_serve, server).await;
        }
        Command::Extend {
            file,
            output,
            level,
            tsa,
        } => {
            let level: Level = level.parse().map_err(Failure::usage)?;
            if level < Level::BLT {
                return Err(Failure::usage("extend: --level B-LT or B-LTA".into()));
            }
            let bytes = std::fs::read(&file)
                .map_err(|e| Failure::usage(format!("{}: {e}", file.display())))?;
            let sahih = open(&cli.data).await.map_err(core)?;
            let services = sahih.trust_services().await.map_err(core)?;
            let http_tsa = tsa.as_ref().map(|url| sahih_fetch::HttpTimestamper {
                url: url.clone(),
                timeout: sahih_fetch::DEFAULT_TIMEOUT,
            });
            let timestamper: &dyn sahih_pades::Timestamper = match &http_tsa {
                Some(h) => h,
                None => &services,
            };
            let source = sahih_fetch::FetchingSource {
                local: Some(&services),
                timeout: sahih_fetch::DEFAULT_TIMEOUT,
            };
            let update = sahih_pades::augment(&bytes, &[], &source, Some(timestamper), level)
                .map_err(|e| core(e.into()))?;
            let out = output.unwrap_or_else(|| file.clone());
            sahih_core::service::write_atomically(&out, &[&bytes, &update]).map_err(core)?;
            let mut all = bytes;
            all.extend_from_slice(&update);
            let report = sahih
                .verify_bytes(&all, Vec::new(), time::OffsetDateTime::now_utc())
                .await
                .map_err(core)?;
            for s in &report.signatures {
                println!(
                    "{}: {} ({})",
                    s.field,
                    s.level.unwrap_or("-"),
                    if s.ltv { "LTV" } else { "no LTV" }
                );
            }
            match lang {
                Lang::Id => println!(
                    "Ditulis: {} (LTV aktif: {})",
                    out.display(),
                    if report.ltv_enabled { "ya" } else { "tidak" }
                ),
                Lang::En => println!(
                    "Written: {} (LTV enabled: {})",
                    out.display(),
                    if report.ltv_enabled { "yes" } else { "no" }
                ),
            }
            sahih.store.close().await;
        }
        Command::Client { command } => {
            return admin::client(&cli.data, command, lang, &server.api_routes()).await;
        }
        Command::Account { command } => {
            return account::account(&cli.data, command, lang).await;
        }
        Command::Ra { command } => return ra::ra(&cli.data, command, lang).await,
        Command::Seal { command } => return seal::seal(&cli.data, command, lang).await,
        Command::Gateway { command } => return gateway::gateway(&cli.data, command, lang).await,
        Command::Activate { link, passphrase } => {
            return ra::activate(&cli.data, &link, &passphrase, lang).await;
        }
        Command::Status { nik } => {
            let sahih = open(&cli.data).await.map_err(core)?;
            let status = sahih.status_of(nik.trim()).await.map_err(core)?;
            println!(
                "{} ({}): {}",
                status.as_str(),
                status.ecs_code(),
                status.message(lang)
            );
            sahih.store.close().await;
        }
        Command::Policy { command } => return admin::policy(&cli.data, command, lang).await,
        Command::Audit { command } => return admin::audit(&cli.data, command, lang).await,
        Command::Outbox { email } => return admin::outbox(&cli.data, &email, lang).await,
        Command::Serve { listen } => {
            let sahih = open(&cli.data).await.map_err(core)?;
            let listen = listen.unwrap_or_else(|| sahih.config.server.listen.clone());
            let blobs = blob_store(&sahih.data, &sahih.config).map_err(core)?;
            let services = sahih.trust_services().await.map_err(core)?;
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .map_err(|e| core(CoreError::Io(format!("{listen}: {e}"))))?;
            let addr = listener
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or(listen);
            let shutdown = server
                .catch_shutdown()
                .map_err(|e| core(CoreError::Io(e.to_string())))?;
            match lang {
                Lang::Id => println!(
                    "Sahih melayani di http://{addr} (API ECS: /api, TSA: /tsa, OCSP: /ocsp, CRL: /crl/issuing-1.crl, metrik: /metrics). Ctrl-C untuk berhenti."
                ),
                Lang::En => println!(
                    "Sahih serving on http://{addr} (ECS API: /api, TSA: /tsa, OCSP: /ocsp, CRL: /crl/issuing-1.crl, metrics: /metrics). Ctrl-C to stop."
                ),
            }
            server
                .serve(sahih, services, blobs, listener, shutdown)
                .await
                .map_err(|e| core(CoreError::Io(e.to_string())))?;
        }
        Command::Crl { ca, output } => {
            let sahih = open(&cli.data).await.map_err(core)?;
            let services = sahih.trust_services().await.map_err(core)?;
            let name = match ca {
                Some(n) => n,
                None => services
                    .cas
                    .iter()
                    .rev()
                    .find(|c| {
                        c.record.kind == sahih_core::store::CaKind::Issuing && c.record.active
                    })
                    .map(|c| sahih_core::trust::ca_name(&c.record))
                    .unwrap_or_else(|| "issuing-1".into()),
            };
            let der = sahih.crl_for(&services, &name).await.map_err(core)?;
            match output {
                Some(path) => std::fs::write(&path, &der)
                    .map_err(|e| core(CoreError::Io(format!("{}: {e}", path.display()))))?,
                None => print!("{}", sahih_pki::der_to_pem(&der, "X509 CRL")),
            }
            sahih.store.close().await;
        }
        Command::Ocsp {
            command: OcspCommand::Check { nik, url },
        } => {
            let sahih = open(&cli.data).await.map_err(core)?;
            let services = sahih.trust_services().await.map_err(core)?;
            let (status, produced) = ocsp_check(&sahih, &services, nik.trim(), url.as_deref())
                .await
                .map_err(core)?;
            println!("{status}");
            println!("{produced}");
            sahih.store.close().await;
        }
        Command::Bench(args) => return bench::run(&cli.data, args, lang).await,
        Command::Backup(args) => return backup::backup(&cli.data, args, lang).await,
        Command::Restore(args) => return backup::restore(&cli.data, args, lang).await,
        Command::Doctor(args) => return doctor::doctor(&cli.data, args, lang).await,
    }
    Ok(())
}

/// Parses `--at`: RFC 3339, or a relative "+10y", "+90d", "-1d", "+12h".
fn parse_at(s: &str) -> Result<time::OffsetDateTime, String> {
    let now = time::OffsetDateTime::now_utc();
    if let Ok(t) = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Ok(t);
    }
    let bad =
        || format!("--at {s:?}: use RFC 3339 (2036-11-27T00:00:00Z) or +10y / +90d / +12h / -1d");
    let (sign, rest) = match (s.strip_prefix('+'), s.strip_prefix('-')) {
        (Some(r), _) => (1i64, r),
        (_, Some(r)) => (-1i64, r),
        _ => return Err(bad()),
    };
    let unit = rest.chars().last().ok_or_else(bad)?;
    let n: i64 = rest[..rest.len() - unit.len_utf8()]
        .parse()
        .map_err(|_| bad())?;
    let n = n.checked_mul(sign).ok_or_else(bad)?;
    let d = match unit {
        'y' => time::Duration::days(n.saturating_mul(365) + n / 4),
        'd' => time::Duration::days(n),
        'h' => time::Duration::hours(n),
        _ => return Err(bad()),
    };
    now.checked_add(d).ok_or_else(bad)
}

async fn ocsp_check(
    sahih: &Sahih<SqliteStore>,
    services: &sahih_core::trust::TrustServices,
    nik: &str,
    url: Option<&str>,
) -> Result<(String, String), CoreError> {
    let record = sahih.official_certificate(nik).await?;
    let cert = Certificate::from_der(&record.cert_der)?;
    let issuer = services
        .cas
        .iter()
        .find(|c| cert.issuer_der() == c.cert.subject_der())
        .ok_or_else(|| CoreError::Config("issuer of the certificate not found".into()))?;
    let id = sahih_pki::ocsp::CertId::for_cert(&cert, &issuer.cert, sahih_pki::oids::OID_SHA256)?;
    let req = sahih_pki::ocsp::OcspRequest {
        certs: vec![id],
        nonce: Some(sahih_pki::tsp::random_nonce()),
    };
    let der = match url {
        Some(u) => sahih_fetch::post_der(
            u,
            "application/ocsp-request",
            &req.to_der(),
            sahih_fetch::DEFAULT_TIMEOUT,
        )
        .map_err(CoreError::Service)?,
        None => services.ocsp_response(&req.to_der()),
    };
    let parsed = sahih_pki::ocsp::parse_ocsp_response(&der)?;
    if !parsed.responder_authorised_for(&issuer.cert) {
        return Err(CoreError::Service(
            "the OCSP response is not signed by an authorised responder".into(),
        ));
    }
    let status = match parsed.status_for(&cert, &issuer.cert) {
        Some((sahih_pki::ocsp::CertStatusKind::Good, ..)) => "good".to_string(),
        Some((sahih_pki::ocsp::CertStatusKind::Revoked { at, reason }, ..)) => format!(
            "revoked at {} ({})",
            sahih_validate::rfc3339(at),
            reason
                .map(sahih_pki::crl::crl_reason_name)
                .unwrap_or("unspecified")
        ),
        _ => "unknown".to_string(),
    };
    Ok((
        status,
        format!(
            "produced at {}",
            sahih_validate::rfc3339(parsed.produced_at)
        ),
    ))
}

async fn verify(data: &Path, a: VerifyArgs, lang: Lang) -> Result<(), Failure> {
    let bytes =
        std::fs::read(&a.file).map_err(|e| Failure::usage(format!("{}: {e}", a.file.display())))?;
    let extra = load_trust(&a.trust, lang).map_err(Failure::usage)?;
    let now = match &a.at {
        Some(s) => parse_at(s).map_err(Failure::usage)?,
        None => time::OffsetDateTime::now_utc(),
    };
    // Verification works without a data directory too: then only --trust anchors count.
    let result = if DataDir::new(data).config_path().exists() {
        let sahih = open(data).await.map_err(|e| Failure::core(e, lang))?;
        let r = sahih.verify_bytes(&bytes, extra, now).await;
        sahih.store.close().await;
        r
    } else {
        sahih_core::service::verify_with(
            &bytes,
            sahih_pki::TrustStore::new(extra),
            &sahih_validate::NoRevocationData,
            now,
        )
    };
    let report = match result {
        Ok(r) => r,
        Err(e @ CoreError::Pdf(_)) => return Err(Failure::usage(e.message(lang))),
        Err(e) => return Err(Failure::core(e, lang)),
    };
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_else(|_| "{}".into())
        );
    } else {
        print!("{}", sahih_validate::render::render_text(&report, lang));
    }
    if report.indication == sahih_validate::Indication::TotalPassed && !report.signatures.is_empty()
    {
        Ok(())
    } else {
        Err(Failure {
            code: 1,
            message: String::new(),
        })
    }
}

/// Runs the command line's arguments to the end: the `sahih` binary's `main`, with the HTTP
/// server that `serve` and `demo` start.
pub fn main_with<H: HttpServer>(server: &H) -> ExitCode {
    let cli = Cli::parse();
    let _ = STORAGE_OVERRIDES.set((cli.database_url.clone(), cli.blob_url.clone()));
    let lang = lang_of(&cli.lang);
    // The server uses every core; one-shot commands need only one thread.
    let mut builder = if matches!(cli.command, Command::Serve { .. } | Command::Demo { .. }) {
        tokio::runtime::Builder::new_multi_thread()
    } else {
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sahih: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli, server)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if !f.message.is_empty() {
                let prefix = match lang {
                    Lang::Id => "Galat",
                    Lang::En => "Error",
                };
                eprintln!("{prefix}: {}", f.message);
            }
            ExitCode::from(f.code)
        }
    }
}
