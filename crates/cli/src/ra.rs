//! `sahih ra` and `sahih activate`: the registration authority from the command line. Staff act
//! as one of their named accounts (`--as`, an API client with role operator or verifikator), so
//! the same separation of duties holds as over HTTP, and the audit log names them.

use crate::{Failure, PassphraseArgs, blob_store, open, read_passphrase};
use clap::Subcommand;
use sahih_core::ra::{
    EvidenceKind, EvidenceUpload, RaRequest, RequestKind, RequestState, Staff, SubmissionInput,
};
use sahih_core::store::{NewOfficial, Store};
use sahih_core::{CoreError, DataDir, Lang};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub(crate) enum RaCommand {
    /// Submit a request (operator): one official with --nik etc., or several with --officials.
    Submit {
        /// The operator account acting.
        #[arg(long = "as")]
        staff: String,
        /// enroll, renew, mutasi or reset.
        #[arg(long, default_value = "enroll")]
        kind: String,
        #[arg(long)]
        nik: Option<String>,
        #[arg(long)]
        nip: Option<String>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        position: Option<String>,
        #[arg(long)]
        unit: Option<String>,
        /// A JSON file with an array of {nik, nip, name, email, position, unit} (collective
        /// request).
        #[arg(long)]
        officials: Option<PathBuf>,
        /// KIND=FILE with KIND surat_permohonan, ktp, sk_jabatan, or `ktp_<NIK>` / `sk_jabatan_<NIK>`
        /// in a collective request (repeatable).
        #[arg(long = "evidence")]
        evidence: Vec<String>,
    },
    /// List requests (operators see their unit).
    List {
        #[arg(long = "as")]
        staff: String,
        /// Only this state, e.g. WAITING_FOR_VERIFICATION.
        #[arg(long)]
        state: Option<String>,
    },
    /// Save an evidence file (checked against its recorded SHA-256).
    Evidence {
        #[arg(long = "as")]
        staff: String,
        id: String,
        /// surat_permohonan, ktp or sk_jabatan.
        kind: String,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Approve a request (verifikator); the official gets an activation link by e-mail.
    Approve {
        #[arg(long = "as")]
        staff: String,
        id: String,
    },
    /// Reject a request with a reason (verifikator).
    Reject {
        #[arg(long = "as")]
        staff: String,
        id: String,
        #[arg(long)]
        reason: String,
    },
}

/// The enabled staff account a command acts as (`--as`).
pub(crate) async fn staff_account<S: Store>(
    sahih: &sahih_core::Sahih<S>,
    name: &str,
) -> Result<Staff, CoreError> {
    let client = sahih
        .store
        .api_client(name)
        .await?
        .filter(|c| !c.disabled)
        .ok_or_else(|| CoreError::NotFound(format!("enabled account {name}")))?;
    Ok(Staff::from(&client))
}

fn print_request(r: &RaRequest, status: &str) {
    println!(
        "{}\t{}\t{}\tNIK {}\t{}\t{} ({})\tstatus={status}\tby={}{}",
        r.id,
        r.kind.as_str(),
        r.state.as_str(),
        r.official.nik,
        r.official.name,
        r.official.position,
        r.official.unit,
        r.submitted_by,
        r.reason
            .as_deref()
            .map(|x| format!("\treason={x}"))
            .unwrap_or_default()
    );
}

fn parse_evidence(spec: &str) -> Result<EvidenceUpload, String> {
    let (name, path) = spec
        .split_once('=')
        .ok_or_else(|| format!("--evidence {spec}: expected KIND=FILE"))?;
    let (kind, nik) = match name.rsplit_once('_') {
        Some((k, n)) if n.len() == 16 && n.bytes().all(|b| b.is_ascii_digit()) => {
            (k, Some(n.to_string()))
        }
        _ => (name, None),
    };
    let kind = EvidenceKind::parse(kind)
        .ok_or_else(|| format!("--evidence {name}: surat_permohonan, ktp or sk_jabatan"))?;
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
    Ok(EvidenceUpload {
        kind,
        nik,
        file_name: Path::new(path)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned()),
        bytes,
    })
}

#[derive(serde::Deserialize)]
struct OfficialJson {
    nik: String,
    nip: String,
    name: String,
    email: String,
    position: String,
    unit: String,
}

pub(crate) async fn ra(data: &Path, command: RaCommand, lang: Lang) -> Result<(), Failure> {
    let core = |e: CoreError| Failure::core(e, lang);
    let sahih = open(data).await.map_err(core)?;
    match command {
        RaCommand::Submit {
            staff,
            kind,
            nik,
            nip,
            name,
            email,
            position,
            unit,
            officials,
            evidence,
        } => {
            let staff = staff_account(&sahih, &staff).await.map_err(core)?;
            let kind = RequestKind::parse(&kind).ok_or_else(|| {
                Failure::usage("--kind: enroll, renew, mutasi or reset".to_string())
            })?;
            let list: Vec<NewOfficial> = match officials {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
                    let parsed: Vec<OfficialJson> = serde_json::from_str(&text)
                        .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
                    parsed
                        .into_iter()
                        .map(|o| NewOfficial {
                            nik: o.nik,
                            nip: o.nip,
                            name: o.name,
                            email: o.email,
                            position: o.position,
                            unit: o.unit,
                        })
                        .collect()
                }
                None => {
                    let nik = nik.ok_or_else(|| {
                        Failure::usage("--nik (or --officials FILE) is required".into())
                    })?;
                    // Renewal and reset keep the identity on file: only the NIK is needed.
                    let on_file = sahih
                        .store
                        .official_by_nik(&nik)
                        .await
                        .map_err(|e| core(e.into()))?;
                    let pick = |v: Option<String>, f: fn(&NewOfficial) -> String| {
                        v.or_else(|| on_file.as_ref().map(|o| f(&o.identity())))
                            .unwrap_or_default()
                    };
                    vec![NewOfficial {
                        nik: nik.clone(),
                        nip: pick(nip, |o| o.nip.clone()),
                        name: pick(name, |o| o.name.clone()),
                        email: pick(email, |o| o.email.clone()),
                        position: pick(position, |o| o.position.clone()),
                        unit: pick(unit, |o| o.unit.clone()),
                    }]
                }
            };
            let uploads = evidence
                .iter()
                .map(|s| parse_evidence(s))
                .collect::<Result<Vec<_>, _>>()
                .map_err(Failure::usage)?;
            let dir = DataDir::new(data);
            let blobs = blob_store(&dir, &sahih.config).map_err(core)?;
            let outcome = sahih
                .ra_submit(
                    &blobs,
                    &staff,
                    SubmissionInput {
                        kind,
                        officials: list,
                        evidence: uploads,
                        require_complete: true,
                    },
                )
                .await
                .map_err(core)?;
            match lang {
                Lang::Id => println!("Permohonan {} diajukan:", outcome.submission_id),
                Lang::En => println!("Submission {} filed:", outcome.submission_id),
            }
            for r in &outcome.requests {
                let status = sahih.status_of(&r.official.nik).await.map_err(core)?;
                print_request(r, status.as_str());
            }
        }
        RaCommand::List { staff, state } => {
            let staff = staff_account(&sahih, &staff).await.map_err(core)?;
            let filter = match state {
                None => None,
                Some(s) => Some(
                    RequestState::parse(&s)
                        .ok_or_else(|| Failure::usage(format!("--state {s} is not known")))?,
                ),
            };
            for r in sahih.ra_list(&staff, filter).await.map_err(core)? {
                let status = sahih.status_of(&r.official.nik).await.map_err(core)?;
                print_request(&r, status.as_str());
            }
        }
        RaCommand::Evidence {
            staff,
            id,
            kind,
            output,
        } => {
            let staff = staff_account(&sahih, &staff).await.map_err(core)?;
            let kind = EvidenceKind::parse(&kind).ok_or_else(|| {
                Failure::usage("kind: surat_permohonan, ktp or sk_jabatan".into())
            })?;
            let dir = DataDir::new(data);
            let blobs = blob_store(&dir, &sahih.config).map_err(core)?;
            let (evidence, bytes) = sahih
                .ra_evidence_file(&blobs, &staff, &id, kind)
                .await
                .map_err(core)?;
            std::fs::write(&output, bytes)
                .map_err(|e| Failure::usage(format!("{}: {e}", output.display())))?;
            println!(
                "{} ({}, {} bytes, SHA-256 {})",
                output.display(),
                evidence.media_type.as_str(),
                evidence.size,
                evidence.sha256_hex
            );
        }
        RaCommand::Approve { staff, id } => {
            let staff = staff_account(&sahih, &staff).await.map_err(core)?;
            let blobs = blob_store(&DataDir::new(data), &sahih.config).map_err(core)?;
            let r = sahih
                .ra_decide(&blobs, &staff, &id, true, None, lang)
                .await
                .map_err(core)?;
            match lang {
                Lang::Id => println!(
                    "Disetujui. Tautan aktivasi (berlaku 24 jam, sekali pakai) dikirim ke {}.",
                    r.official.email
                ),
                Lang::En => println!(
                    "Approved. An activation link (24 hours, single use) was sent to {}.",
                    r.official.email
                ),
            }
        }
        RaCommand::Reject { staff, id, reason } => {
            let staff = staff_account(&sahih, &staff).await.map_err(core)?;
            let blobs = blob_store(&DataDir::new(data), &sahih.config).map_err(core)?;
            let r = sahih
                .ra_decide(&blobs, &staff, &id, false, Some(&reason), lang)
                .await
                .map_err(core)?;
            match lang {
                Lang::Id => println!("Dikembalikan; {} diberi tahu alasannya.", r.official.email),
                Lang::En => println!("Rejected; {} was told why.", r.official.email),
            }
        }
    }
    sahih.store.close().await;
    Ok(())
}

/// `sahih activate LINK`: the official chooses their passphrase (asked twice on a terminal).
pub(crate) async fn activate(
    data: &Path,
    link: &str,
    passphrase: &PassphraseArgs,
    lang: Lang,
) -> Result<(), Failure> {
    let core = |e: CoreError| Failure::core(e, lang);
    let token = link
        .trim()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
        .split('?')
        .next()
        .unwrap_or("")
        .to_string();
    let sahih = open(data).await.map_err(core)?;
    let view = sahih.activation_view(&token).await.map_err(core)?;
    match lang {
        Lang::Id => println!("Aktivasi untuk {}.", view.request.official.name),
        Lang::En => println!("Activation for {}.", view.request.official.name),
    }
    let pass = read_passphrase(passphrase, lang, true).map_err(Failure::usage)?;
    let outcome = sahih.activate(&token, &pass).await.map_err(core)?;
    match lang {
        Lang::Id => println!(
            "Sertifikat aktif (nomor seri {}).",
            outcome.certificate.serial_hex()
        ),
        Lang::En => println!(
            "Certificate active (serial {}).",
            outcome.certificate.serial_hex()
        ),
    }
    sahih.store.close().await;
    Ok(())
}
