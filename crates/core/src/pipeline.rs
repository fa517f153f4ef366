//! The one signing pipeline. Every door that makes a signature (the CLI, ECS v1 and v2, the
//! native API, e-seals, gateway forwarding, and later the web inbox) builds a [`SignRequest`]
//! and calls [`Sahih::sign_batch`]; none keeps its own copy of any step, so policy, lockout and
//! audit cannot differ between doors.
//!
//! The steps, in order:
//! 1. parse every document (a broken file never costs a passphrase attempt);
//! 2. resolve the signer (official by NIK or e-mail, or seal by idSubscriber) and its status;
//! 3. apply the institution's policy (document class, position);
//! 4. check the one-time code, when one is given;
//! 5. unlock, audited and counted towards the lockout (passphrase or seal batch code), or, for
//!    an official enrolled upstream, reserve a local attempt and sign remotely;
//! 6. sign in parallel at the requested level;
//! 7. record documents, QR records, downloads and audit entries in one transaction (and, for a
//!    file on disk, move the signed file into place only once that committed).
//!
//! Must not know: HTTP, field names of any API, SQL, or how the remote signer talks.

use crate::audit::{AuditAction, AuditEvent, AuditResult};
use crate::gateway::UpstreamOutcome;
use crate::policy::DocClass;
use crate::requests::{BatchDocument, SignedItem, SignerRef, actor};
use crate::service::{TrustProviders, new_document_id};
use crate::store::{ApiClientRecord, BlobStore, OfficialRecord, Store};
use crate::{CoreError, Sahih, SignOptions, SignOutcome};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// Who is asking: an API client (its name goes into the audit log and its default class
/// applies), or someone at the command line (audited as `cli:<os-user>`).
#[derive(Debug, Clone)]
pub enum Door<'a> {
    /// An API client.
    Client(&'a ApiClientRecord),
    /// The command line.
    Cli {
        /// The operating-system account running the command.
        os_user: String,
    },
    /// A person signed in to the pages (their inbox), audited as `account:<id>`.
    Person {
        /// Their account's row id.
        account_id: i64,
    },
}

impl Door<'_> {
    /// The name recorded in the audit log's client column.
    pub fn audit_name(&self) -> String {
        match self {
            Door::Client(c) => c.name.clone(),
            Door::Cli { os_user } => format!("cli:{os_user}"),
            Door::Person { account_id } => crate::accounts::account_actor(*account_id),
        }
    }

    /// The class used when the request names none.
    fn default_class(&self) -> Option<&str> {
        match self {
            Door::Client(c) => c.default_class.as_deref(),
            Door::Cli { .. } | Door::Person { .. } => None,
        }
    }

    /// The command-line door for the user running this process: the account name of the
    /// process's user (from the system, not from `$USER`, which anyone can set).
    pub fn cli() -> Door<'static> {
        Door::Cli { os_user: os_user() }
    }
}

/// The name of the user this process runs as: `/etc/passwd` for its uid, else `uid<N>`.
fn os_user() -> String {
    use std::os::unix::fs::MetadataExt;
    let Ok(uid) = std::fs::metadata("/proc/self").map(|m| m.uid()) else {
        return "unknown".into();
    };
    let named = std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|passwd| {
            passwd.lines().find_map(|line| {
                let mut fields = line.split(':');
                let name = fields.next()?;
                let _password = fields.next()?;
                (fields.next()?.parse::<u32>().ok()? == uid).then(|| name.to_string())
            })
        });
    named.unwrap_or_else(|| format!("uid{uid}"))
}

/// Who signs and how their key is opened.
#[derive(Debug, Clone)]
pub enum Signer<'a> {
    /// An official with their passphrase, and a one-time code when the door asks for one.
    Official {
        /// The official, by NIK or e-mail.
        who: SignerRef,
        /// Opens their key.
        passphrase: &'a str,
        /// The one-time code sent to them, when required.
        otp: Option<&'a str>,
    },
    /// The institution's e-seal with a batch code.
    Seal {
        /// The seal's idSubscriber.
        id_subscriber: &'a str,
        /// A live batch code covering these documents.
        batch_code: &'a str,
    },
}

/// What happens to the signed files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Returned to the caller only.
    Return,
    /// Also kept in blob storage for one download (ECS v1, native API).
    KeepForDownload,
    /// Written to this path (one document only). The file appears atomically and only after
    /// the signature is recorded; nothing is left behind on any failure.
    File(PathBuf),
}

/// One request through the pipeline.
pub struct SignRequest<'a> {
    /// Who asks.
    pub door: Door<'a>,
    /// Who signs.
    pub signer: Signer<'a>,
    /// Document class code; None: the door's default, else the policy's default.
    pub class: Option<&'a str>,
    /// The documents, signed in parallel and recorded together.
    pub documents: Vec<BatchDocument>,
    /// Where the signed files go.
    pub delivery: Delivery,
}

/// Signs for an official enrolled upstream (gateway mode). Implemented by the server's
/// upstream ECS client; blocking.
pub trait RemoteSigner: Send + Sync {
    /// Where the signatures are made, for the audit log.
    fn endpoint(&self) -> String;
    /// Signs every document for `nik`; the signed files in request order.
    fn sign(
        &self,
        nik: &str,
        passphrase: &str,
        documents: &[BatchDocument],
    ) -> Result<Vec<Vec<u8>>, RemoteFailure>;
}

/// How the remote signer judged a failed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteVerdict {
    /// The passphrase was wrong (counts towards the local lockout).
    WrongPassphrase,
    /// The key is locked there (follows wrong passphrases; counts here too).
    Locked,
    /// Anything else: the passphrase was never judged.
    Failed,
}

/// A failed remote request: the verdict, and the remote's own error for the door to show.
#[derive(Debug)]
pub struct RemoteFailure {
    /// How the remote judged it.
    pub verdict: RemoteVerdict,
    /// The remote's own error.
    pub cause: Box<dyn std::error::Error + Send + Sync>,
}

impl std::fmt::Display for RemoteFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.cause.fmt(f)
    }
}

impl std::error::Error for RemoteFailure {}

/// What the pipeline needs from the door's surroundings.
pub struct SigningEnv<'a, B: BlobStore> {
    /// Where documents kept for download go.
    pub blobs: &'a B,
    /// TSA and validation data for B-T and above.
    pub providers: TrustProviders<'a>,
    /// The upstream signer, when gateway mode is configured.
    pub remote: Option<&'a dyn RemoteSigner>,
    /// Signing threads; 0: one per core.
    pub parallelism: usize,
    /// Told how many signatures were made or failed (the server's metrics).
    pub counter: Option<&'a dyn SignatureCounter>,
}

/// How signing ended, for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureResult {
    /// Signatures made (and recorded).
    Made,
    /// Signing failed after the key was opened (or upstream).
    Failed,
}

/// Counts signatures by result.
pub trait SignatureCounter: Send + Sync {
    /// Adds `n` signatures that ended as `result`.
    fn signatures(&self, result: SignatureResult, n: u64);
}

impl<S: Store + crate::seal::SealStore + Sync> Sahih<S> {
    /// Runs one signing request through every step (see the module documentation). Returns the
    /// signed items in request order.
    pub async fn sign_batch<B: BlobStore>(
        &self,
        request: SignRequest<'_>,
        env: &SigningEnv<'_, B>,
    ) -> Result<Vec<SignedItem>, CoreError> {
        let SignRequest {
            door,
            signer,
            class,
            documents,
            delivery,
        } = request;
        if documents.is_empty() {
            return Err(CoreError::invalid(
                "tidak ada dokumen untuk ditandatangani",
                "no documents to sign",
            ));
        }
        if matches!(delivery, Delivery::File(_)) && documents.len() != 1 {
            return Err(CoreError::invalid(
                "tujuan berkas hanya menerima satu dokumen",
                "a file destination takes exactly one document",
            ));
        }
        if let Delivery::File(path) = &delivery
            && path.is_dir()
        {
            return Err(CoreError::invalid(
                format!("{} adalah direktori, bukan berkas", path.display()),
                format!("{} is a directory, not a file", path.display()),
            ));
        }
        let client = door.audit_name();
        let count = documents.len() as i64;
        // 1. Parse every document before anything is spent (and keep them for step 6).
        let opened = documents
            .iter()
            .map(|d| sahih_pdf::PdfDocument::open(&d.bytes, &sahih_pdf::OpenOptions::default()))
            .collect::<Result<Vec<_>, _>>()?;
        // 2. The signer and their status.
        let (official, unlock) = match signer {
            Signer::Official {
                who,
                passphrase,
                otp,
            } => (
                self.resolve_official(&who).await?,
                Unlock::Passphrase { passphrase, otp },
            ),
            Signer::Seal {
                id_subscriber,
                batch_code,
            } => (self.seal(id_subscriber).await?, Unlock::Seal { batch_code }),
        };
        // 3. Policy.
        let class = self
            .authorize(&official, class, door.default_class(), Some(&client), None)
            .await?;
        // 4 and 5. One-time code, then the key.
        let signer = match unlock {
            Unlock::Passphrase { passphrase, otp } => {
                if let Some(code) = otp {
                    self.check_signing_otp(&official, code, count, Some(&client))
                        .await?;
                }
                if official.upstream {
                    // Signed upstream: the parsed documents are not needed there.
                    drop(opened);
                    return self
                        .sign_remotely(
                            &official, &class, &client, passphrase, documents, &delivery, env,
                        )
                        .await;
                }
                self.unlock_audited(&official, passphrase, Some(&client))
                    .await?
            }
            Unlock::Seal { batch_code } => {
                self.unlock_seal(&official.nik, batch_code, count, Some(&client))
                    .await?
            }
        };
        // 6. Sign, off the async threads when the runtime has others.
        let threads = match env.parallelism {
            0 => std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
            n => n,
        };
        // One letter signs in about a millisecond: inline is cheaper than handing the worker
        // over (measured: bench/ecs-load.sh single-letter requests). A batch goes off the async
        // threads.
        let names: Vec<Option<String>> = documents.iter().map(|d| d.file_name.clone()).collect();
        let total = names.len();
        // The documents move into signing: each signed file grows from its own bytes.
        let jobs = documents.into_iter().zip(opened).collect();
        let sign = || self.sign_many(&signer, jobs, &env.providers, threads);
        let results = if total == 1 {
            sign()
        } else {
            crate::cpu::run_cpu(sign)
        };
        let mut signed = Vec::with_capacity(results.len());
        for (i, (r, name)) in results.into_iter().zip(names).enumerate() {
            match r {
                Ok((outcome, full)) => signed.push((outcome, full, name)),
                Err(e) => {
                    // In the server, inside the request's span: the line carries its request id.
                    tracing::warn!(
                        document = i,
                        documents = total,
                        error = %e,
                        "signing failed after the key was opened"
                    );
                    if let Some(c) = env.counter {
                        c.signatures(SignatureResult::Failed, 1);
                    }
                    return Err(e);
                }
            }
        }
        // 7. Record (and deliver) in one step.
        let mut extra = Vec::new();
        if official.kind == crate::store::OfficialKind::Seal {
            extra.push(
                AuditEvent::new(AuditAction::SealSign, &actor(&official), AuditResult::Ok)
                    .client(Some(&client))
                    .detail(format!(
                        "documents={} serial={} ids=[{}]",
                        signed.len(),
                        signer.certificate_record.serial_hex,
                        signed
                            .iter()
                            .map(|(outcome, _, _)| outcome.document_id.as_str())
                            .collect::<Vec<_>>()
                            .join(",")
                    )),
            );
        }
        let n = signed.len() as u64;
        let items = match &delivery {
            Delivery::File(path) => {
                let staged = crate::service::StagedFile::write(path, &signed[0].1)?;
                let items = self
                    .record_batch(env.blobs, &signer, &class, &client, signed, false, extra)
                    .await?;
                staged.commit()?;
                items
            }
            _ => {
                self.record_batch(
                    env.blobs,
                    &signer,
                    &class,
                    &client,
                    signed,
                    delivery == Delivery::KeepForDownload,
                    extra,
                )
                .await?
            }
        };
        if let Some(c) = env.counter {
            c.signatures(SignatureResult::Made, n);
        }
        Ok(items)
    }

    /// Signs the file `input` into `output` from the command line, through the one pipeline
    /// ([`Sahih::sign_batch`]): policy, lockout and audit as for every other door. Nothing is
    /// written unless everything succeeded; the output appears atomically once recorded.
    #[allow(clippy::too_many_arguments)]
    pub async fn sign_file<B: BlobStore>(
        &self,
        input: &Path,
        output: &Path,
        nik: &str,
        passphrase: &str,
        class: Option<&str>,
        options: &SignOptions,
        env: &SigningEnv<'_, B>,
    ) -> Result<SignOutcome, CoreError> {
        let bytes =
            std::fs::read(input).map_err(|e| CoreError::Io(format!("{}: {e}", input.display())))?;
        let request = SignRequest {
            door: Door::cli(),
            signer: Signer::Official {
                who: SignerRef::Nik(nik.trim().to_string()),
                passphrase,
                otp: None,
            },
            class,
            documents: vec![BatchDocument {
                bytes,
                options: options.clone(),
                file_name: output.file_name().map(|n| n.to_string_lossy().into_owned()),
            }],
            delivery: Delivery::File(output.to_path_buf()),
        };
        let mut items = self.sign_batch(request, env).await?;
        items
            .pop()
            .map(|i| i.outcome)
            .ok_or_else(|| CoreError::Service("signing returned no document".into()))
    }

    /// Step 5 and 6 for an official enrolled upstream: the local lockout in front, the
    /// signature made remotely, the outcome audited here.
    #[allow(clippy::too_many_arguments)]
    async fn sign_remotely<B: BlobStore>(
        &self,
        official: &OfficialRecord,
        class: &DocClass,
        client: &str,
        passphrase: &str,
        documents: Vec<BatchDocument>,
        delivery: &Delivery,
        env: &SigningEnv<'_, B>,
    ) -> Result<Vec<SignedItem>, CoreError> {
        let Some(remote) = env.remote else {
            return Err(CoreError::Config(
                "official is enrolled upstream but [gateway] url is not configured".into(),
            ));
        };
        self.reserve_local_attempt(official).await?;
        // A panic in the remote client must not keep the reserved attempt counted.
        let answer = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            crate::cpu::run_cpu(|| remote.sign(&official.nik, passphrase, &documents))
        })) {
            Ok(answer) => answer,
            Err(_) => {
                self.release_local_attempt(official).await?;
                return Err(CoreError::Service("the upstream signer failed".into()));
            }
        };
        let detail = format!("upstream={}", remote.endpoint());
        let count = |result: SignatureResult, n: u64| {
            if let Some(c) = env.counter {
                c.signatures(result, n);
            }
        };
        match answer {
            Ok(signed) => {
                let now = OffsetDateTime::now_utc();
                let mut items = Vec::with_capacity(signed.len());
                let mut hashes = Vec::with_capacity(signed.len());
                for (pdf, d) in signed.into_iter().zip(&documents) {
                    let sha = hex::encode(
                        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &pdf).as_ref(),
                    );
                    hashes.push(sha.clone());
                    items.push(SignedItem {
                        outcome: SignOutcome {
                            level: d.options.level,
                            document_id: new_document_id(),
                            verification_url: String::new(),
                            field_name: String::new(),
                            signed_at: now,
                            sha256_hex: sha,
                            page: None,
                        },
                        signed: pdf,
                        download_id: None,
                    });
                }
                // A file destination is staged first and appears only once the outcome is
                // recorded, as for a local signature.
                let staged = match (delivery, items.first()) {
                    (Delivery::File(path), Some(item)) => {
                        Some(crate::service::StagedFile::write(path, &item.signed)?)
                    }
                    _ => None,
                };
                self.record_upstream(
                    official,
                    class,
                    Some(client),
                    UpstreamOutcome::Signed,
                    &hashes,
                    &detail,
                )
                .await?;
                if let Some(staged) = staged {
                    staged.commit()?;
                }
                count(SignatureResult::Made, items.len() as u64);
                Ok(items)
            }
            Err(failure) if failure.verdict != RemoteVerdict::Failed => {
                count(SignatureResult::Failed, 1);
                let local = self
                    .record_upstream(
                        official,
                        class,
                        Some(client),
                        UpstreamOutcome::WrongPassphrase,
                        &[],
                        &detail,
                    )
                    .await
                    .err()
                    .unwrap_or(CoreError::WrongPassphrase { remaining: 0 });
                // Locked upstream but not (yet) here: the caller sees the upstream's lock.
                if failure.verdict == RemoteVerdict::Locked
                    && !matches!(local, CoreError::Locked { .. })
                {
                    return Err(CoreError::Remote(failure));
                }
                Err(local)
            }
            Err(failure) => {
                count(SignatureResult::Failed, 1);
                self.record_upstream(
                    official,
                    class,
                    Some(client),
                    UpstreamOutcome::Failed,
                    &[],
                    &format!("{detail} error={failure}"),
                )
                .await?;
                Err(CoreError::Remote(failure))
            }
        }
    }
}

enum Unlock<'a> {
    Passphrase {
        passphrase: &'a str,
        otp: Option<&'a str>,
    },
    Seal {
        batch_code: &'a str,
    },
}
