//! Signing and verification on behalf of API clients (the ECS-compatible and native APIs):
//! who signs (NIK or e-mail), whether the institution's policy allows the document class, the
//! audited passphrase check, signing many documents in parallel, and recording the results
//! (documents, one-time downloads, audit entries) in one transaction.
//!
//! Must not know: HTTP, field names of any API, or SQL.

use crate::audit::{AuditAction, AuditEvent, AuditResult};
use crate::policy::{DocClass, Policy};
use crate::service::{TrustProviders, UnlockedSigner, new_document_id};
use crate::store::{
    ApiClientRecord, AuthFailureScope, BlobStore, CodePurpose, DownloadRecord, OfficialRecord,
    SignedDocumentRecord, SigningRecord, Store,
};
use crate::{CoreError, Lang, Sahih, SignOptions};
use time::OffsetDateTime;

/// Failed API authentications allowed per source address (IPv6 per /64) in one window.
pub const AUTH_FAILURES_PER_ADDRESS: i64 = 10;
/// Failed API authentications allowed per client name in one window, from any addresses.
/// Higher than per address, so that one address alone cannot lock a client out, while many
/// addresses guessing one client's secret are still stopped.
pub const AUTH_FAILURES_PER_CLIENT: i64 = 30;
/// The fixed window the failures are counted in: five minutes.
pub const AUTH_FAILURE_WINDOW_SECS: i64 = 300;

/// Whose failures a caller's attempt counts against: its address (as `throttle_subject` writes
/// it), and the client name it gave when that is a valid name.
fn throttle_subjects<'a>(address: &'a str, name: &'a str) -> Vec<(AuthFailureScope, &'a str)> {
    let mut subjects = vec![(AuthFailureScope::Address, address)];
    if crate::clients::validate_name(name).is_ok() {
        subjects.push((AuthFailureScope::Client, name));
    }
    subjects
}

fn auth_failure_limit(scope: AuthFailureScope) -> i64 {
    match scope {
        AuthFailureScope::Address => AUTH_FAILURES_PER_ADDRESS,
        AuthFailureScope::Client => AUTH_FAILURES_PER_CLIENT,
    }
}

/// How a request names its signer.
#[derive(Debug, Clone)]
pub enum SignerRef {
    /// By NIK.
    Nik(String),
    /// By official e-mail address (compared without case).
    Email(String),
}

/// One document of a (possibly bulk) request.
#[derive(Debug, Clone)]
pub struct BatchDocument {
    /// The PDF.
    pub bytes: Vec<u8>,
    /// How it is signed.
    pub options: SignOptions,
    /// Its file name, if the caller gave one (kept with the record).
    pub file_name: Option<String>,
}

/// One signed document: the whole signed file, its outcome, and the download id when it was
/// kept for a one-time download.
#[derive(Debug, Clone)]
pub struct SignedItem {
    /// The whole signed file.
    pub signed: Vec<u8>,
    /// What signing produced.
    pub outcome: crate::SignOutcome,
    /// Id of the one-time download, when the file was kept for one.
    pub download_id: Option<String>,
}

/// One signed document before it is recorded: what signing produced and the whole signed file.
pub type SignResult = Result<(crate::SignOutcome, Vec<u8>), CoreError>;

/// How long a signed document waits for its one-time download.
pub const DOWNLOAD_TTL: time::Duration = time::Duration::hours(24);

impl<S: Store> Sahih<S> {
    /// The official a request names, by NIK or e-mail; an e-seal is not found here (seals sign
    /// through their own door).
    pub async fn resolve_official(&self, who: &SignerRef) -> Result<OfficialRecord, CoreError> {
        let found = match who {
            SignerRef::Nik(nik) => self.store.official_by_nik(nik.trim()).await?,
            SignerRef::Email(email) => self.store.official_by_email(email.trim()).await?,
        };
        // An institutional e-seal is no signer: its idSubscriber is unknown here.
        found
            .filter(|o| o.kind == crate::store::OfficialKind::Person)
            .ok_or(CoreError::NikNotRegistered)
    }

    /// The loaded policy, or the permissive default before any was loaded.
    pub async fn policy(&self) -> Result<Policy, CoreError> {
        Ok(match self.store.policy().await? {
            Some((default_class, classes)) => Policy {
                default_class,
                classes,
            },
            None => Policy::permissive(),
        })
    }

    /// Decides the request's class (given, else the door's default, else the policy's) for
    /// this official; a refusal is audited and returned citing the rule.
    pub async fn authorize(
        &self,
        official: &OfficialRecord,
        class: Option<&str>,
        door_default: Option<&str>,
        client: Option<&str>,
        document_sha256: Option<&str>,
    ) -> Result<DocClass, CoreError> {
        let policy = self.policy().await?;
        let code = class
            .or(door_default)
            .map(str::to_string)
            .unwrap_or_else(|| policy.default_class.clone());
        let decision = policy.decide(&code, &official.position);
        if let crate::policy::Decision::Allowed { class } = decision {
            return Ok(class);
        }
        let id = decision.refusal(Lang::Id).unwrap_or_default();
        let en = decision.refusal(Lang::En).unwrap_or_default();
        let mut event = AuditEvent::new(
            AuditAction::SignRefused,
            &actor(official),
            AuditResult::Refused,
        )
        .client(client)
        .detail(format!("class={code}: {id}"));
        if let Some(sha) = document_sha256 {
            event = event.document(sha);
        }
        self.store.append_audit(&[event]).await?;
        Err(CoreError::PolicyRefused { id, en })
    }

    /// [`Sahih::unlock`] with its failures audited (wrong passphrase, lockout).
    pub(crate) async fn unlock_audited(
        &self,
        official: &OfficialRecord,
        passphrase: &str,
        client: Option<&str>,
    ) -> Result<UnlockedSigner, CoreError> {
        match self.unlock(&official.nik, passphrase).await {
            Ok(s) => Ok(s),
            Err(e) => {
                let (action, detail) = match &e {
                    CoreError::WrongPassphrase { remaining } => (
                        AuditAction::PassphraseWrong,
                        format!("remaining={remaining}"),
                    ),
                    CoreError::Locked { until } => {
                        (AuditAction::PassphraseLockout, format!("until={until}"))
                    }
                    CoreError::CertificateRevoked { .. } => {
                        (AuditAction::SignRefused, "certificate revoked".into())
                    }
                    CoreError::CertificateExpired { .. } => {
                        (AuditAction::SignRefused, "certificate expired".into())
                    }
                    CoreError::CertificateSuspended { .. } => {
                        (AuditAction::SignRefused, "certificate suspended".into())
                    }
                    _ => return Err(e),
                };
                self.store
                    .append_audit(&[AuditEvent::new(
                        action,
                        &actor(official),
                        AuditResult::Refused,
                    )
                    .client(client)
                    .detail(detail)])
                    .await?;
                Err(e)
            }
        }
    }

    /// Signs every document (paired with its parse from step 1) with one unlocked key, using up
    /// to `parallelism` threads. CPU only: no database, no I/O. Each document's bytes become its
    /// signed file (revisions are appended in place, never copied). Results come back in
    /// request order.
    pub(crate) fn sign_many(
        &self,
        signer: &UnlockedSigner,
        documents: Vec<(BatchDocument, sahih_pdf::PdfDocument)>,
        providers: &TrustProviders<'_>,
        parallelism: usize,
    ) -> Vec<SignResult>
    where
        S: Sync,
    {
        let signed_at = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or(OffsetDateTime::now_utc());
        // One collection of OCSP responses and CRLs for the whole batch (same signer, same
        // chain, same TSA): see `BatchValidationData`.
        let batch_data = providers
            .validation_data
            .map(sahih_pades::BatchValidationData::new);
        let providers = &TrustProviders {
            tsa: providers.tsa,
            validation_data: batch_data
                .as_ref()
                .map(|d| d as &dyn sahih_pades::ValidationDataSource),
        };
        let one = |doc: BatchDocument, pdf: sahih_pdf::PdfDocument| -> SignResult {
            let mut file = doc.bytes;
            let outcome = self.sign_in_place(
                signer,
                &mut file,
                &pdf,
                &doc.options,
                &new_document_id(),
                signed_at,
                providers,
            )?;
            Ok((outcome, file))
        };
        let count = documents.len();
        let threads = parallelism.clamp(1, count.max(1));
        let mut queue = documents.into_iter().enumerate();
        if threads == 1 {
            return queue.map(|(_, (doc, pdf))| one(doc, pdf)).collect();
        }
        let mut results: Vec<Option<SignResult>> = (0..count).map(|_| None).collect();
        let queue = std::sync::Mutex::new(&mut queue);
        let slots = std::sync::Mutex::new(&mut results);
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    loop {
                        // Taken under the lock, signed outside it.
                        let next = match queue.lock() {
                            Ok(mut q) => q.next(),
                            Err(_) => None,
                        };
                        let Some((i, (doc, pdf))) = next else { break };
                        let r = one(doc, pdf);
                        if let Ok(mut guard) = slots.lock()
                            && let Some(slot) = guard.get_mut(i)
                        {
                            *slot = Some(r);
                        }
                    }
                });
            }
        });
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(CoreError::Service("signing thread failed".into()))))
            .collect()
    }

    /// Stores the signed files (when kept for download) and records documents, downloads and
    /// audit entries in one transaction. Until this returns Ok, nothing of the batch is visible
    /// as signed: a crash before the commit leaves no record (blobs written without a record
    /// are never served).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn record_batch<B: BlobStore>(
        &self,
        blobs: &B,
        signer: &UnlockedSigner,
        class: &DocClass,
        client: &str,
        signed: Vec<(crate::SignOutcome, Vec<u8>, Option<String>)>,
        keep_for_download: bool,
        extra_events: Vec<AuditEvent>,
    ) -> Result<Vec<SignedItem>, CoreError> {
        let client = Some(client);
        let now = OffsetDateTime::now_utc();
        let mut records = Vec::with_capacity(signed.len());
        let mut events = Vec::with_capacity(signed.len());
        let mut items = Vec::with_capacity(signed.len());
        for (outcome, full, file_name) in signed {
            let download = if keep_for_download {
                let id = outcome.document_id.clone();
                let key = format!("signed/{id}.pdf");
                blobs.put(&key, full.clone()).await?;
                Some(DownloadRecord {
                    id,
                    blob_key: key,
                    client: client.map(str::to_string),
                    expires_at: now + DOWNLOAD_TTL,
                })
            } else {
                None
            };
            records.push(SigningRecord {
                document: SignedDocumentRecord {
                    id: outcome.document_id.clone(),
                    sha256_hex: outcome.sha256_hex.clone(),
                    official_id: signer.official.id,
                    certificate_id: signer.certificate_record.id,
                    signed_at: outcome.signed_at,
                    field_name: outcome.field_name.clone(),
                    file_name,
                    level: outcome.level.as_str().into(),
                    class: Some(class.code.clone()),
                },
                download: download.clone(),
            });
            events.push(
                AuditEvent::new(AuditAction::Sign, &actor(&signer.official), AuditResult::Ok)
                    .client(client)
                    .document(&outcome.sha256_hex)
                    .detail(format!(
                        "class={} level={} id={}",
                        class.code,
                        outcome.level.as_str(),
                        outcome.document_id
                    )),
            );
            items.push(SignedItem {
                signed: full,
                download_id: download.map(|d| d.id),
                outcome,
            });
        }
        events.extend(extra_events);
        self.store.commit_signatures(&records, &events).await?;
        Ok(items)
    }

    /// A signed document kept for download, exactly once (across every server process).
    pub async fn take_download<B: BlobStore>(
        &self,
        blobs: &B,
        id: &str,
        client: Option<&str>,
    ) -> Result<Option<Vec<u8>>, CoreError> {
        let Some(record) = self
            .store
            .take_download(id, client, OffsetDateTime::now_utc())
            .await?
        else {
            return Ok(None);
        };
        let bytes = blobs.get(&record.blob_key).await?;
        if bytes.is_some() {
            blobs.delete(&record.blob_key).await?;
        }
        Ok(bytes)
    }
}

/// The audit actor for an official.
pub fn actor(official: &OfficialRecord) -> String {
    format!("nik:{}", official.nik)
}

/// An API client to add.
#[derive(Debug, Clone, Copy)]
pub struct ClientSpec<'a> {
    /// Its name (the user part of its credential).
    pub name: &'a str,
    /// Source addresses or CIDR blocks it may call from (empty: any).
    pub allow_ips: &'a [String],
    /// The document class of its requests (None: the policy's default).
    pub default_class: Option<&'a str>,
    /// What it is for.
    pub role: crate::clients::ClientRole,
    /// The unit it files for (operators, apps that register).
    pub unit: Option<&'a str>,
    /// The person using it (staff clients).
    pub person_nik: Option<&'a str>,
}

impl<'a> ClientSpec<'a> {
    /// An application client with no restrictions.
    pub fn app(name: &'a str) -> Self {
        Self {
            name,
            allow_ips: &[],
            default_class: None,
            role: crate::clients::ClientRole::App,
            unit: None,
            person_nik: None,
        }
    }
}

/// The result of `sahih audit verify`.
#[derive(Debug, Clone)]
pub struct AuditCheck {
    /// Entries checked (the whole chain).
    pub entries: usize,
    /// TSA anchors checked.
    pub anchors: usize,
    /// The newest TSA-proven entry and its time.
    pub last_anchor: Option<(i64, OffsetDateTime)>,
    /// Anchors the witness file recorded (all found intact).
    pub witnessed: usize,
}

impl<S: Store> Sahih<S> {
    /// Adds an API client; returns the secret (shown once, stored only as a hash). Audited
    /// under `by` (the command line, or the administrator's account).
    pub async fn add_api_client(
        &self,
        spec: &ClientSpec<'_>,
        by: &str,
    ) -> Result<String, CoreError> {
        use crate::clients::ClientRole;
        let ClientSpec {
            name,
            allow_ips,
            default_class,
            role,
            unit,
            person_nik,
        } = *spec;
        crate::clients::validate_name(name).map_err(CoreError::InvalidArgument)?;
        for ip in allow_ips {
            crate::clients::Cidr::parse(ip).map_err(CoreError::InvalidArgument)?;
        }
        let unit = unit.map(str::trim).filter(|u| !u.is_empty());
        if role == ClientRole::Operator && unit.is_none() {
            return Err(CoreError::invalid(
                "akun operator harus menyebut unit kerjanya (--unit)",
                "an operator account needs its unit (--unit)",
            ));
        }
        if role == ClientRole::Verifikator && person_nik.is_none() {
            // Without it "nobody decides a request about themselves" could not be checked.
            return Err(CoreError::invalid(
                "akun verifikator harus menyebut orang yang memakainya (--person-nik NIK)",
                "a verifikator account names the person using it (--person-nik NIK)",
            ));
        }
        if let Some(nik) = person_nik
            && (nik.len() != 16 || !nik.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(CoreError::invalid(
                "NIK orang tersebut harus 16 angka",
                "the person's NIK has 16 digits",
            ));
        }
        if let Some(class) = default_class
            && self.policy().await?.class(class).is_none()
        {
            return Err(CoreError::invalid(
                format!("kelas dokumen {class} tidak ada dalam kebijakan"),
                format!("document class {class} is not in the policy"),
            ));
        }
        let secret = crate::clients::new_secret();
        let event = AuditEvent::new(AuditAction::ClientAdd, by, AuditResult::Ok).detail(format!(
            "client={name} role={role} unit={} allow_ips=[{}] default_class={}",
            unit.unwrap_or("-"),
            allow_ips.join(","),
            default_class.unwrap_or("-")
        ));
        let secret_sha256 = crate::clients::secret_hash(&secret);
        self.store
            .insert_api_client(
                &crate::store::NewApiClient {
                    name,
                    secret_sha256: &secret_sha256,
                    allow_ips,
                    default_class,
                    role,
                    unit,
                    person_nik,
                },
                &event,
            )
            .await
            .map_err(|e| match e {
                crate::store::StoreError::Conflict(_) => CoreError::invalid(
                    format!("klien {name} sudah ada"),
                    format!("client {name} already exists"),
                ),
                other => other.into(),
            })?;
        Ok(secret)
    }

    /// Disables or enables a client; audited under `by`.
    pub async fn set_api_client_disabled(
        &self,
        name: &str,
        disabled: bool,
        by: &str,
    ) -> Result<(), CoreError> {
        let action = if disabled {
            AuditAction::ClientDisable
        } else {
            AuditAction::ClientEnable
        };
        let event = AuditEvent::new(action, by, AuditResult::Ok).detail(format!("client={name}"));
        if self
            .store
            .set_api_client_disabled(name, disabled, &event)
            .await?
        {
            Ok(())
        } else {
            Err(CoreError::invalid(
                format!("tidak ada klien bernama {name}"),
                format!("no client named {name}"),
            ))
        }
    }

    /// Sets which error body a client reads (`sahih client error-shape`); audited.
    pub async fn set_client_error_shape(
        &self,
        name: &str,
        shape: crate::clients::ErrorShape,
        by: &str,
    ) -> Result<(), CoreError> {
        let event = AuditEvent::new(AuditAction::ClientErrorShape, by, AuditResult::Ok)
            .detail(format!("client={name} shape={shape}"));
        if self
            .store
            .set_client_error_shape(name, shape, &event)
            .await?
        {
            Ok(())
        } else {
            Err(CoreError::invalid(
                format!("tidak ada klien bernama {name}"),
                format!("no client named {name}"),
            ))
        }
    }

    /// How long a caller must still wait before its credentials are checked again: `Some` while
    /// its source address or the client name it gives has reached its limit of failed
    /// authentications in the current window. Counted in the database, so every server sees
    /// the failures any of them saw.
    pub async fn auth_throttled(
        &self,
        name: &str,
        from: std::net::IpAddr,
    ) -> Result<Option<std::time::Duration>, CoreError> {
        let address = crate::clients::throttle_subject(from);
        let subjects = throttle_subjects(&address, name);
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let wait = self
            .store
            .auth_failures(&subjects)
            .await?
            .iter()
            .filter(|w| w.failures >= auth_failure_limit(w.scope))
            .map(|w| w.window_start + AUTH_FAILURE_WINDOW_SECS - now)
            .filter(|left| *left > 0)
            .max();
        Ok(wait.map(|secs| std::time::Duration::from_secs(secs.unsigned_abs())))
    }

    /// Counts a failed authentication against the address and (when it is a valid client name)
    /// the name; audits the moment either reaches its limit.
    async fn count_auth_failure(
        &self,
        name: &str,
        from: std::net::IpAddr,
    ) -> Result<(), CoreError> {
        let address = crate::clients::throttle_subject(from);
        let subjects = throttle_subjects(&address, name);
        let now = OffsetDateTime::now_utc();
        for (scope, subject) in subjects {
            let failures = self
                .store
                .count_auth_failure(scope, subject, AUTH_FAILURE_WINDOW_SECS, now)
                .await?;
            if failures == auth_failure_limit(scope) {
                let (actor, detail) = match scope {
                    AuthFailureScope::Address => ("-", format!("ip={from} failures={failures}")),
                    AuthFailureScope::Client => (
                        subject,
                        format!("client={subject} ip={from} failures={failures}"),
                    ),
                };
                let event =
                    AuditEvent::new(AuditAction::ClientAuthThrottled, actor, AuditResult::Denied)
                        .detail(detail);
                self.store.append_audit(&[event]).await?;
            }
        }
        Ok(())
    }

    /// Authenticates an API client by HTTP Basic credentials and source address. `None` for
    /// any failure, without saying which part was wrong. Each failure counts towards the
    /// throttle of [`Sahih::auth_throttled`].
    pub async fn authenticate_client(
        &self,
        name: &str,
        secret: &str,
        from: std::net::IpAddr,
    ) -> Result<Option<ApiClientRecord>, CoreError> {
        let record = self.store.api_client(name).await?;
        // Hash even for unknown names so timing does not reveal which names exist.
        let stored = record
            .as_ref()
            .map(|r| r.secret_sha256.clone())
            .unwrap_or_else(|| "0".repeat(64));
        let secret_ok = crate::clients::secret_matches(secret, &stored);
        let refusal = match &record {
            None => Some("unknown_client"),
            Some(_) if !secret_ok => Some("wrong_secret"),
            Some(r) if r.disabled => Some("disabled"),
            Some(r) if !crate::clients::ip_allowed(&r.allow_ips, from) => {
                Some("address_not_allowed")
            }
            Some(_) => None,
        };
        if let Some(reason) = refusal {
            // Security finding 8: failed authentication left no trace. The name is the caller's
            // text: kept only when it is a valid client name.
            let actor = if crate::clients::validate_name(name).is_ok() {
                name
            } else {
                "-"
            };
            let event = AuditEvent::new(AuditAction::ClientAuthFailed, actor, AuditResult::Denied)
                .detail(format!("ip={from} reason={reason}"));
            self.store.append_audit(&[event]).await?;
            self.count_auth_failure(name, from).await?;
            return Ok(None);
        }
        Ok(record)
    }

    /// Loads a policy file (validated), replacing the current policy; audited as `actor` (the
    /// command line, or the administrator's account).
    pub async fn load_policy(
        &self,
        policy: &Policy,
        source: &str,
        actor: &str,
    ) -> Result<(), CoreError> {
        policy.validate().map_err(|e| {
            CoreError::invalid(format!("kebijakan tidak valid: {e}"), e.to_string())
        })?;
        let summary: Vec<String> = policy
            .classes
            .iter()
            .map(|c| format!("{}={}", c.code, c.rule.as_str()))
            .collect();
        let event =
            AuditEvent::new(AuditAction::PolicyReplace, actor, AuditResult::Ok).detail(format!(
                "source={source} default={} classes=[{}]",
                policy.default_class,
                summary.join(",")
            ));
        self.store
            .replace_policy(&policy.default_class, &policy.classes, &event)
            .await?;
        Ok(())
    }

    /// Has the TSA timestamp the chain head when it moved since the last anchor; returns the
    /// anchored seq.
    pub async fn anchor_audit_head(
        &self,
        tsa: &dyn sahih_pades::Timestamper,
    ) -> Result<Option<i64>, CoreError> {
        let Some((seq, hash)) = self.store.audit_head().await? else {
            return Ok(None);
        };
        let anchors = self.store.audit_anchors().await?;
        if anchors.last().is_some_and(|a| a.seq >= seq) {
            return Ok(None);
        }
        let digest = hex::decode(&hash).map_err(|_| {
            CoreError::Store(crate::store::StoreError::Corrupt("audit head".into()))
        })?;
        let token = tsa.timestamp(&digest)?;
        let at = OffsetDateTime::now_utc();
        self.store
            .insert_audit_anchor(&crate::audit::AuditAnchor {
                seq,
                hash: hash.clone(),
                token_der: token,
                at,
            })
            .await?;
        // The witness outside the database: a rewrite must also defeat this copy.
        self.append_witness(&crate::audit::WitnessLine::render(seq, &hash, at))?;
        Ok(Some(seq))
    }

    fn append_witness(&self, line: &str) -> Result<(), CoreError> {
        use std::io::Write;
        let path = self.data.audit_witness_path();
        let mut options = std::fs::OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(&path)
            .map_err(|e| CoreError::Io(format!("{}: {e}", path.display())))?;
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| CoreError::Io(format!("{}: {e}", path.display())))
    }

    /// The TSA certificates this installation made: each one's sealed key opens with the
    /// master key and matches the certificate, so a certificate written into the database by
    /// someone without the master key is not among them.
    async fn own_tsa_certificates(&self) -> Result<Vec<Vec<u8>>, CoreError> {
        let master = self.data.master_key()?;
        let mut own = Vec::new();
        for record in self
            .store
            .all_service_keys(crate::store::ServiceKind::Tsa)
            .await?
        {
            let Ok(key) = sahih_pki::unseal_with_master_key(
                &record.sealed_key,
                &master,
                &crate::trust::service_aad(crate::store::ServiceKind::Tsa, record.issuer_ca_id),
            ) else {
                continue;
            };
            let Ok(cert) = sahih_pki::Certificate::from_der(&record.cert_der) else {
                continue;
            };
            let time_stamping = cert
                .extended_key_usages()
                .contains(&sahih_pki::oids::OID_KP_TIME_STAMPING);
            if time_stamping && key.spki_der_ref() == cert.spki_der_ref() {
                own.push(record.cert_der);
            }
        }
        Ok(own)
    }

    /// Verifies the whole audit chain, its head and every TSA anchor: the token's imprint must
    /// be the anchored hash, its signature must verify, and it must come from this
    /// institution's own TSA (current or retired). Anchors recorded in the witness file must
    /// still be there, and entries older than the anchoring interval plus its grace must be
    /// covered by an anchor. Without these, someone who can write the database could rewrite
    /// the chain, drop the anchors or put in a token from any TSA (issue 20).
    pub async fn verify_audit(
        &self,
    ) -> Result<Result<AuditCheck, crate::audit::ChainFault>, CoreError> {
        use crate::audit::ChainFault;
        let entries = self.store.audit_entries(1, i64::MAX).await?;
        let head = self.store.audit_head().await?;
        let anchors = self.store.audit_anchors().await?;
        if let Err(fault) = crate::audit::verify_chain(&entries, head, &anchors) {
            return Ok(Err(fault));
        }
        let own_tsa = self.own_tsa_certificates().await?;
        let mut last_anchor = None;
        for a in &anchors {
            let digest = hex::decode(&a.hash).unwrap_or_default();
            let token = sahih_pki::tsp::parse_timestamp_token(&a.token_der)
                .ok()
                .filter(|t| t.signature_valid && t.check_imprint(&digest));
            let Some(t) = token else {
                return Ok(Err(ChainFault::AnchorMismatch { seq: a.seq }));
            };
            let ours = t
                .tsa_cert
                .as_ref()
                .is_some_and(|c| own_tsa.contains(&c.der));
            if !ours {
                return Ok(Err(ChainFault::ForeignAnchor { seq: a.seq }));
            }
            if last_anchor.is_none_or(|(seq, _)| a.seq > seq) {
                last_anchor = Some((a.seq, t.gen_time));
            }
        }
        let path = self.data.audit_witness_path();
        let witness = match std::fs::read_to_string(&path) {
            Ok(text) => crate::audit::WitnessLine::parse_all(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(CoreError::Io(format!("{}: {e}", path.display()))),
        };
        if let Err(fault) = crate::audit::check_witness(&entries, &anchors, &witness) {
            return Ok(Err(fault));
        }
        let server = &self.config.server;
        if server.audit_anchor_secs > 0 {
            let allowed = server
                .audit_anchor_secs
                .saturating_add(server.audit_anchor_grace_secs);
            let deadline = crate::audit::now_micros().saturating_sub(
                i64::try_from(allowed.saturating_mul(1_000_000)).unwrap_or(i64::MAX),
            );
            let anchored_up_to = last_anchor.map(|(seq, _)| seq).unwrap_or(0);
            if let Err(fault) = crate::audit::check_coverage(&entries, anchored_up_to, deadline) {
                return Ok(Err(fault));
            }
        }
        Ok(Ok(AuditCheck {
            entries: entries.len(),
            anchors: anchors.len(),
            last_anchor,
            witnessed: witness.len(),
        }))
    }
}

/// How long a one-time signing code stays valid.
pub const OTP_TTL: time::Duration = time::Duration::minutes(5);

fn otp_hash(official_id: i64, code: &str) -> String {
    crate::clients::secret_hash(&format!("sahih-otp:{official_id}:{}", code.trim()))
}

impl<S: Store> Sahih<S> {
    /// Delivers a message to an official. The embedded default keeps it in the outbox table
    /// (`sahih outbox EMAIL` shows it); SMTP delivery is configured separately.
    pub async fn notify(&self, message: &crate::store::OutboxMessage) -> Result<(), CoreError> {
        let sealed = self.sealed_outbox_message(message.clone())?;
        Ok(self.store.push_outbox(&sealed).await?)
    }

    /// What the outbox keeps: the body sealed under the master key (bound to the recipient),
    /// so a copy of the database alone yields no activation link, one-time code or seal code
    /// (security finding 1). The master key lives outside the database.
    pub fn sealed_outbox_message(
        &self,
        mut message: crate::store::OutboxMessage,
    ) -> Result<crate::store::OutboxMessage, CoreError> {
        let master = self.data.master_key()?;
        message.body = sahih_pki::seal_payload_with_master_key(
            message.body.as_bytes(),
            &master,
            &outbox_aad(&message.recipient),
        )?;
        Ok(message)
    }

    /// The readable body of a stored message (bodies written before sealing as they are).
    pub fn outbox_body(
        &self,
        message: &crate::store::OutboxMessage,
    ) -> Result<zeroize::Zeroizing<String>, CoreError> {
        if !sahih_pki::sealed_kind(&message.body).is_ok_and(|k| k == sahih_pki::SealKind::MasterKey)
        {
            return Ok(zeroize::Zeroizing::new(message.body.clone()));
        }
        let master = self.data.master_key()?;
        let plain = sahih_pki::unseal_payload_with_master_key(
            &message.body,
            &master,
            &outbox_aad(&message.recipient),
        )?;
        Ok(zeroize::Zeroizing::new(
            String::from_utf8_lossy(&plain).into_owned(),
        ))
    }

    /// Issues a 6-digit one-time code for `documents` signatures within [`OTP_TTL`] and sends
    /// it to the official's e-mail. Only its hash is stored.
    pub async fn issue_signing_otp(
        &self,
        official: &OfficialRecord,
        documents: i64,
        client: Option<&str>,
    ) -> Result<OffsetDateTime, CoreError> {
        let documents = documents.clamp(1, 10_000);
        let mut bytes = [0u8; 4];
        let _ = aws_lc_rs::rand::fill(&mut bytes);
        let code = format!("{:06}", u32::from_be_bytes(bytes) % 1_000_000);
        let expires = OffsetDateTime::now_utc() + OTP_TTL;
        self.store
            .insert_otp(
                official.id,
                &otp_hash(official.id, &code),
                documents,
                expires,
            )
            .await?;
        self.notify(&crate::store::OutboxMessage {
            recipient: official.email.clone(),
            subject: "Kode OTP tanda tangan elektronik".into(),
            body: format!(
                "Kode OTP Anda: {code}\nBerlaku sampai {} untuk {documents} dokumen.\n\
                 Jangan berikan kode ini kepada siapa pun.",
                crate::format_wib(expires, Lang::Id)
            ),
        })
        .await?;
        self.store
            .append_audit(&[AuditEvent::new(
                AuditAction::OtpIssue,
                &actor(official),
                AuditResult::Ok,
            )
            .client(client)
            .detail(format!("documents={documents}"))])
            .await?;
        Ok(expires)
    }

    /// Consumes `documents` uses of a one-time code. A wrong or spent code counts as a failed
    /// attempt towards the same lockout as a wrong passphrase.
    pub async fn check_signing_otp(
        &self,
        official: &OfficialRecord,
        code: &str,
        documents: i64,
        client: Option<&str>,
    ) -> Result<(), CoreError> {
        let now = OffsetDateTime::now_utc();
        // Counted before the check, as passphrases are (see `Sahih::unlock`).
        self.reserve_attempt(official.id, now).await?;
        let consumed = self
            .store
            .consume_code(
                official.id,
                CodePurpose::Sign,
                &otp_hash(official.id, code),
                documents,
                now,
            )
            .await;
        match consumed {
            Ok(true) => {
                self.store.release_attempt(official.id).await?;
                return Ok(());
            }
            Ok(false) => {}
            Err(e) => {
                self.store.release_attempt(official.id).await?;
                return Err(e.into());
            }
        }
        let (state, max) = self.confirm_wrong_secret(official.id, now).await?;
        let (action, err) = match state {
            crate::store::LockState::Locked { until } => {
                (AuditAction::PassphraseLockout, CoreError::Locked { until })
            }
            crate::store::LockState::Open { failures } => (
                AuditAction::OtpWrong,
                CoreError::WrongOtp {
                    remaining: (max - failures).max(0),
                },
            ),
        };
        self.store
            .append_audit(&[
                AuditEvent::new(action, &actor(official), AuditResult::Refused).client(client),
            ])
            .await?;
        Err(err)
    }
}

/// Binds a sealed message body to its recipient: a body moved to another row does not open.
fn outbox_aad(recipient: &str) -> Vec<u8> {
    format!("sahih-outbox:{}", recipient.to_ascii_lowercase()).into_bytes()
}

/// Days before expiry at which the official is told to renew.
pub const RENEWAL_NOTICE_DAYS: [i64; 2] = [7, 30];

impl<S: Store> Sahih<S> {
    /// Sends each due expiry notice (30 and 7 days before) once, to the official's e-mail
    /// through the notifier; returns how many were sent. Run by the server hourly and by
    /// `sahih notify-renewals`.
    pub async fn send_renewal_notices(&self) -> Result<usize, CoreError> {
        let now = OffsetDateTime::now_utc();
        let horizon = now + time::Duration::days(RENEWAL_NOTICE_DAYS[1]);
        let mut sent = 0;
        for (cert, official) in self.store.certificates_expiring(now, horizon).await? {
            let days_left = (cert.not_after - now).whole_days();
            // The tightest threshold that applies; a larger one is then not sent any more.
            let Some(due) = RENEWAL_NOTICE_DAYS.iter().copied().find(|t| days_left < *t) else {
                continue;
            };
            if !self.store.mark_renewal_notice(cert.id, due, now).await? {
                continue;
            }
            for t in RENEWAL_NOTICE_DAYS.iter().filter(|t| **t > due) {
                self.store.mark_renewal_notice(cert.id, *t, now).await?;
            }
            let message = if official.kind == crate::store::OfficialKind::Seal {
                crate::store::OutboxMessage {
                    recipient: official.email.clone(),
                    subject: format!(
                        "Sertifikat segel elektronik {} akan berakhir",
                        official.name
                    ),
                    body: format!(
                        "Yth. penanggung jawab segel elektronik {},\n\nSertifikat segel ini \
                         (serial {}) berakhir pada {} ({} hari lagi). Ajukan penerbitan segel \
                         baru melalui Diskominfo sebelum tanggal tersebut agar layanan yang \
                         memakainya tetap berjalan.\n",
                        official.name,
                        cert.serial_hex,
                        crate::format_wib(cert.not_after, Lang::Id),
                        days_left
                    ),
                }
            } else {
                crate::store::OutboxMessage {
                    recipient: official.email.clone(),
                    subject: "Sertifikat elektronik Anda akan berakhir".into(),
                    body: format!(
                        "Yth. {},\n\nSertifikat elektronik Anda (serial {}) berakhir pada {} \
                         ({} hari lagi). Ajukan pembaruan sertifikat melalui Diskominfo sebelum \
                         tanggal tersebut agar Anda tetap dapat menandatangani dokumen.\n",
                        official.name,
                        cert.serial_hex,
                        crate::format_wib(cert.not_after, Lang::Id),
                        days_left
                    ),
                }
            };
            self.notify(&message).await?;
            self.store
                .append_audit(&[AuditEvent::new(
                    AuditAction::RenewalNotice,
                    "system",
                    AuditResult::Ok,
                )
                .detail(format!("nik={} days={due}", official.nik))])
                .await?;
            sent += 1;
        }
        Ok(sent)
    }
}
