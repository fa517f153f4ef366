//! The institutional electronic seal (segel elektronik): a certificate for an institution or
//! unit (organisation identity, no person) whose key is used by systems for bulk output such
//! as licences, the ECS activation code and per-batch codes that gate it, and unlocking it for
//! the ordinary signing pipeline.
//!
//! A seal is an `officials` row with kind "seal": its `nik` column holds the idSubscriber
//! (`seal-<random>`), `email` the responsible person's official e-mail (where codes go). Its
//! certificate lives in the ordinary certificates table, so revocation, suspension, CRL and
//! OCSP work unchanged. Its key is sealed under the master key (software) or kept in the
//! PKCS#11 token; what gates its use are one-time codes:
//!
//! - the activation code (ECS "TOTP Aktivasi"): 12 characters, valid [`ACTIVATION_TTL`], sent
//!   only to the seal's e-mail; a new one replaces the previous one;
//! - a batch code (ECS `seal/get/totp`): 8 digits, valid [`BATCH_TTL`] for exactly the number of
//!   documents asked for, obtained with the activation code and spent by sealing.
//!
//! Only SHA-256 hashes of codes are stored (bound to the seal and the purpose), no code is ever
//! written to the audit log, and every wrong code counts towards the same lockout as a wrong
//! passphrase.
//!
//! Must not know: HTTP, field names of any API, or SQL.

use crate::audit::{AuditAction, AuditEvent, AuditResult};
use crate::ra::Staff;
use crate::requests::actor;
use crate::service::{UnlockedSigner, new_document_id};
use crate::store::{
    CertStatus, CertificateRecord, LockState, NewCertificate, NewOfficial, OfficialKind,
    OfficialRecord, OutboxMessage, Store, StoreResult,
};
use crate::{CoreError, Lang, Sahih, format_wib};
use sahih_pki::{
    CertValidity, Certificate, IssueRequest, Issuer, KeyAlgorithm, Profile, SealIdentity,
};
use std::future::Future;
use time::OffsetDateTime;

/// Every seal's idSubscriber starts with this.
pub const SEAL_ID_PREFIX: &str = "seal-";
/// The `position` of a seal (what document-class policies match on).
pub const SEAL_POSITION: &str = "Segel Elektronik";
/// How long an activation code stays valid.
pub const ACTIVATION_TTL: time::Duration = time::Duration::days(30);
/// How long a batch code stays valid.
pub const BATCH_TTL: time::Duration = time::Duration::minutes(10);
/// The most documents one batch code may cover.
pub const MAX_BATCH_DOCUMENTS: i64 = 10_000;
/// Characters of an activation code: 32 symbols (no I, O, 0, 1), so 5 bits each.
const ACTIVATION_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const ACTIVATION_LEN: usize = 12;
const BATCH_DIGITS: u32 = 8;
/// Longest code accepted for hashing (anything longer is simply wrong).
const MAX_CODE_CHARS: usize = 64;

pub use crate::store::CodePurpose;

/// A one-time code to store (its hash only).
#[derive(Debug, Clone)]
pub struct NewSealCode<'a> {
    /// The seal's row id.
    pub official_id: i64,
    /// Activation or batch code.
    pub purpose: CodePurpose,
    /// Keyed hash of the code (the code itself is never stored).
    pub code_sha256: &'a str,
    /// Documents it may still cover (activation codes: not counted, any positive number).
    pub uses: i64,
    /// After this it no longer works.
    pub expires_at: OffsetDateTime,
    /// Retire every live code of the same purpose first (in the same transaction).
    pub replace_live: bool,
}

/// Storage of seals and their codes. Each change is one statement or one transaction with its
/// audit events; consuming a code is a conditional UPDATE, so a use is spent exactly once
/// across every server process.
pub trait SealStore: Send + Sync {
    /// Inserts the seal (an officials row of kind "seal") and its certificate
    /// (`certificate.official_id` is ignored), with the audit event, in one transaction;
    /// returns the seal's row id.
    fn insert_seal(
        &self,
        seal: &NewOfficial,
        certificate: &NewCertificate,
        event: &AuditEvent,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// Records a requested seal (an officials row of kind "seal" waiting for verification, no
    /// certificate) and who asked, with the audit event; returns the row id.
    fn insert_seal_request(
        &self,
        seal: &NewOfficial,
        requested_by: &str,
        event: &AuditEvent,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// Who requested the seal with this row id.
    fn seal_requested_by(
        &self,
        official_id: i64,
    ) -> impl Future<Output = StoreResult<Option<String>>> + Send;
    /// Issues a requested seal: stores its certificate and ends the waiting stage, if it is
    /// still waiting (false otherwise), with the audit event, in one transaction.
    fn complete_seal(
        &self,
        official_id: i64,
        certificate: &NewCertificate,
        approved_by: &str,
        event: &AuditEvent,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Every seal, oldest first.
    fn seals(&self) -> impl Future<Output = StoreResult<Vec<OfficialRecord>>> + Send;
    /// Stores a code (retiring the live ones of its purpose when asked) with its audit event.
    fn insert_seal_code(
        &self,
        code: &NewSealCode<'_>,
        event: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The expiry of a live code (unexpired, uses left) of that purpose, without spending it.
    fn seal_code_expiry(
        &self,
        official_id: i64,
        purpose: CodePurpose,
        code_sha256: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<Option<OffsetDateTime>>> + Send;
    /// Retires every live code of these purposes, with the audit event; returns how many.
    fn revoke_seal_codes(
        &self,
        official_id: i64,
        purposes: &[CodePurpose],
        event: &AuditEvent,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
}

/// The answer to an activation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealActivation {
    /// A new activation code went to the seal's e-mail (the previous one no longer works).
    Sent {
        /// When the new code stops working.
        expires: OffsetDateTime,
    },
    /// The presented activation code is still valid until `expires`.
    StillValid {
        /// When the code stops working.
        expires: OffsetDateTime,
    },
}

/// A seal and its newest certificate (for listings).
#[derive(Debug, Clone)]
pub struct SealInfo {
    /// The seal.
    pub seal: OfficialRecord,
    /// Its newest certificate, if it has one.
    pub certificate: Option<CertificateRecord>,
    /// ECS vocabulary: ISSUE, SUSPEND, REVOKE, EXPIRED, NO_CERTIFICATE.
    pub status: &'static str,
}

/// Whether a stored official is a seal.
pub fn is_seal(official: &OfficialRecord) -> bool {
    official.kind == OfficialKind::Seal
}

/// Codes as typed or stored by a client: case, spaces and dashes do not matter.
fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .take(MAX_CODE_CHARS + 1)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The stored hash of a code: HMAC-SHA256 under a key only the master key gives (so someone
/// reading the database cannot try all 10^8 batch codes offline within their 10 minutes),
/// bound to the seal and the purpose, so a code of one purpose (or of another seal) never
/// matches another.
fn code_hash(
    master: &sahih_pki::MasterKey,
    official_id: i64,
    purpose: CodePurpose,
    code: &str,
) -> String {
    use aws_lc_rs::hmac;
    let root = hmac::Key::new(hmac::HMAC_SHA256, master.to_hex().as_bytes());
    let derived = hmac::sign(&root, b"sahih-seal-code-key-v1");
    let key = hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref());
    let tag = hmac::sign(
        &key,
        format!(
            "sahih-seal-code:{}:{official_id}:{}",
            purpose.as_str(),
            normalize(code)
        )
        .as_bytes(),
    );
    hex::encode(tag.as_ref())
}

fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    // aws-lc-rs aborts rather than fail; a failure here would be a broken RNG.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    u64::from_be_bytes(bytes)
}

/// 12 characters of 5 bits each (60 bits): lives a month, so far beyond guessing under the
/// lockout.
fn new_activation_code() -> String {
    let mut bits = random_u64();
    let mut out = String::with_capacity(ACTIVATION_LEN);
    for _ in 0..ACTIVATION_LEN {
        out.push(char::from(ACTIVATION_ALPHABET[(bits & 31) as usize]));
        bits >>= 5;
    }
    out
}

/// 8 digits (lives 10 minutes).
fn new_batch_code() -> String {
    let modulus = 10u64.pow(BATCH_DIGITS);
    format!(
        "{:0width$}",
        random_u64() % modulus,
        width = BATCH_DIGITS as usize
    )
}

/// The AEAD binding of a seal's key to its row and certificate.
fn seal_key_aad(id_subscriber: &str, serial_hex: &str) -> Vec<u8> {
    format!("sahih-seal-key:{id_subscriber}:{serial_hex}").into_bytes()
}

/// The binding of a CA key (as the CA hierarchy writes it).
use crate::ra::forbidden;

impl<S: Store + SealStore> Sahih<S> {
    /// A verifikator requests a seal for an institution's unit: recorded as waiting for
    /// verification, with no key yet. Another verifikator issues it ([`Sahih::issue_seal`]), so
    /// nobody alone makes a seal they could then use. Returns the idSubscriber.
    pub async fn request_seal(
        &self,
        staff: &Staff,
        name: &str,
        unit: &str,
        email: &str,
    ) -> Result<String, CoreError> {
        if !staff.may(crate::clients::Capability::DecideSeal) {
            return Err(forbidden(
                "Hanya verifikator yang dapat mengajukan segel elektronik",
                "Only a verifikator can request an electronic seal",
            ));
        }
        let identity = SealIdentity {
            name: name.trim().into(),
            unit: unit.trim().into(),
            institution: self.config.institution.clone(),
            email: email.trim().into(),
        };
        crate::identity::validate_seal(&identity)?;
        let id_subscriber = format!("{SEAL_ID_PREFIX}{}", new_document_id());
        let seal = NewOfficial {
            nik: id_subscriber.clone(),
            nip: String::new(),
            name: identity.name.clone(),
            email: identity.email.clone(),
            position: SEAL_POSITION.into(),
            unit: identity.unit.clone(),
        };
        let event = AuditEvent::new(AuditAction::SealRequest, &staff.name, AuditResult::Ok).detail(format!(
            "id={id_subscriber} name={} unit={} from=NOT_REGISTERED to=WAITING_FOR_VERIFICATION",
            identity.name, identity.unit
        ));
        self.store
            .insert_seal_request(&seal, &staff.name, &event)
            .await?;
        Ok(id_subscriber)
    }

    /// A second verifikator issues a requested seal: a key (software, or in the PKCS#11 token)
    /// and an organisation certificate under the issuing CA. Then
    /// `POST /api/v2/seal/get/activation` sends the activation code to the seal's e-mail.
    pub async fn issue_seal(
        &self,
        staff: &Staff,
        id_subscriber: &str,
    ) -> Result<(String, Certificate), CoreError> {
        if !staff.may(crate::clients::Capability::DecideSeal) {
            return Err(forbidden(
                "Hanya verifikator yang dapat menerbitkan segel elektronik",
                "Only a verifikator can issue an electronic seal",
            ));
        }
        let seal = self
            .store
            .official_by_nik(id_subscriber.trim())
            .await?
            .filter(|o| o.kind == OfficialKind::Seal)
            .ok_or_else(|| CoreError::NotFound(format!("seal {id_subscriber}")))?;
        let requested_by = self
            .store
            .seal_requested_by(seal.id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("request of seal {id_subscriber}")))?;
        if self.same_person(staff, &requested_by).await? {
            self.store
                .append_audit(&[AuditEvent::new(
                    AuditAction::SealIssue,
                    &staff.name,
                    AuditResult::Refused,
                )
                .detail(format!("id={id_subscriber} own request"))])
                .await?;
            return Err(forbidden(
                "Segel harus diterbitkan oleh verifikator lain dari yang mengajukannya",
                "A seal must be issued by another verifikator than the one who requested it",
            ));
        }
        if seal.ra_status.as_deref() != Some(crate::ra::Status::WaitingForVerification.as_str()) {
            return Err(CoreError::InvalidTransition {
                from: "ISSUE",
                action: "issue-seal",
            });
        }
        let identity = SealIdentity {
            name: seal.name.clone(),
            unit: seal.unit.clone(),
            institution: self.config.institution.clone(),
            email: seal.email.clone(),
        };
        let key_algorithm: KeyAlgorithm = self.config.keys.official;
        let (issuing, issuer_key) = self.active_issuing_ca().await?;
        // The officials' label scheme, so lifecycle steps (revocation) find the token key.
        let key = self.keys.generate(
            key_algorithm,
            &crate::keystore::official_key_label(&seal.nik),
        )?;
        let cert_der = sahih_pki::issue(
            &Profile::Seal(&identity),
            &IssueRequest {
                subject_spki: &key.public_key_spki_der(),
                issuer: Issuer::Ca(&issuing.cert_der),
                signer: &issuer_key,
                validity: CertValidity::days_from_now(self.config.keys.official_validity_days),
                serial: &sahih_pki::random_serial(),
                urls: crate::urls::urls_for_issuer(&self.config.base_url, &issuing),
            },
        )?;
        let certificate = Certificate::from_der(&cert_der)?;
        let serial_hex = certificate.serial_hex();
        let stored_key = self.keys.seal_with_master(
            &key,
            &self.data.master_key()?,
            &seal_key_aad(&seal.nik, &serial_hex),
        )?;
        let new_cert = NewCertificate {
            official_id: seal.id,
            issuer_ca_id: issuing.id,
            serial_hex: serial_hex.clone(),
            cert_der: certificate.der.clone(),
            sealed_key: stored_key,
            key_algorithm: key_algorithm.to_string(),
            not_before: certificate.not_before(),
            not_after: certificate.not_after(),
        };
        let event = AuditEvent::new(AuditAction::SealIssue, &staff.name, AuditResult::Ok).detail(format!(
            "id={} serial={serial_hex} name={} unit={} requested_by={requested_by} from=WAITING_FOR_VERIFICATION to=ISSUE",
            seal.nik, identity.name, identity.unit
        ));
        if !self
            .store
            .complete_seal(seal.id, &new_cert, &staff.name, &event)
            .await?
        {
            self.destroy_token_key(&seal.nik, &certificate.der).await?;
            return Err(CoreError::InvalidTransition {
                from: "ISSUE",
                action: "issue-seal",
            });
        }
        Ok((seal.nik, certificate))
    }

    /// Every seal with its newest certificate and status.
    pub async fn seals(&self) -> Result<Vec<SealInfo>, CoreError> {
        let now = OffsetDateTime::now_utc();
        let mut out = Vec::new();
        for seal in self.store.seals().await? {
            let certificate = self.store.latest_certificate(seal.id).await?;
            let status =
                crate::ra::effective_status(Some(&seal), certificate.as_ref(), now).as_str();
            out.push(SealInfo {
                seal,
                certificate,
                status,
            });
        }
        Ok(out)
    }

    /// The seal with this idSubscriber; a person's NIK (or anything else) is not a seal
    /// ([`CoreError::NikNotRegistered`]).
    pub async fn seal(&self, id_subscriber: &str) -> Result<OfficialRecord, CoreError> {
        self.store
            .official_by_nik(id_subscriber.trim())
            .await?
            .filter(is_seal)
            .ok_or(CoreError::NikNotRegistered)
    }

    /// The seal's newest certificate when it can be used now (ISSUE, not suspended, not
    /// expired); a refusal is audited.
    async fn usable_seal_certificate(
        &self,
        seal: &OfficialRecord,
        client: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<CertificateRecord, CoreError> {
        let record = self.store.latest_certificate(seal.id).await?;
        let refusal = match &record {
            None => Some(("no certificate", CoreError::NoCertificate)),
            Some(r) if r.status == CertStatus::Revoke => Some((
                "certificate revoked",
                CoreError::CertificateRevoked { at: r.revoked_at },
            )),
            Some(r) if r.status == CertStatus::Suspend => Some((
                "certificate suspended",
                CoreError::CertificateSuspended {
                    since: r.revoked_at,
                },
            )),
            Some(r) if r.not_after < now => Some((
                "certificate expired",
                CoreError::CertificateExpired { at: r.not_after },
            )),
            Some(_) => None,
        };
        match (refusal, record) {
            (Some((why, err)), _) => {
                self.store
                    .append_audit(&[AuditEvent::new(
                        AuditAction::SealRefused,
                        &actor(seal),
                        AuditResult::Refused,
                    )
                    .client(client)
                    .detail(why)])
                    .await?;
                Err(err)
            }
            (None, Some(r)) => Ok(r),
            (None, None) => Err(CoreError::NoCertificate),
        }
    }

    /// Settles a reserved attempt as a wrong code, audits it (without the code) and returns the
    /// error to answer.
    async fn wrong_seal_code(
        &self,
        seal: &OfficialRecord,
        purpose: CodePurpose,
        client: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<CoreError, CoreError> {
        let (state, max) = self.confirm_wrong_secret(seal.id, now).await?;
        let (action, detail, err) = match state {
            LockState::Locked { until } => (
                AuditAction::SealLockout,
                format!("purpose={} until={until}", purpose.as_str()),
                CoreError::Locked { until },
            ),
            LockState::Open { failures } => {
                let remaining = (max - failures).max(0);
                (
                    AuditAction::SealCodeWrong,
                    format!("purpose={} remaining={remaining}", purpose.as_str()),
                    CoreError::WrongOtp { remaining },
                )
            }
        };
        self.store
            .append_audit(
                &[AuditEvent::new(action, &actor(seal), AuditResult::Refused)
                    .client(client)
                    .detail(detail)],
            )
            .await?;
        Ok(err)
    }

    /// Checks a live activation code (not spent by checking); a wrong one counts.
    async fn check_activation_code(
        &self,
        seal: &OfficialRecord,
        code: &str,
        client: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<OffsetDateTime, CoreError> {
        // Counted before the check, as passphrases are (security finding 3): concurrent
        // guesses can never be checked more often than the lockout allows.
        self.reserve_attempt(seal.id, now).await?;
        let hash = code_hash(
            &self.data.master_key()?,
            seal.id,
            CodePurpose::Activation,
            code,
        );
        match self
            .store
            .seal_code_expiry(seal.id, CodePurpose::Activation, &hash, now)
            .await?
        {
            Some(expires) => {
                self.store.reset_failures(seal.id).await?;
                Ok(expires)
            }
            None => Err(self
                .wrong_seal_code(seal, CodePurpose::Activation, client, now)
                .await?),
        }
    }

    /// ECS `seal/get/activation`. Without a code: a new activation code, valid
    /// [`ACTIVATION_TTL`], goes to the seal's e-mail (it replaces the previous one; nothing
    /// secret is returned). With a code: whether it is still valid, and until when.
    pub async fn seal_activation(
        &self,
        id_subscriber: &str,
        code: Option<&str>,
        client: Option<&str>,
    ) -> Result<SealActivation, CoreError> {
        let now = OffsetDateTime::now_utc();
        let seal = self.seal(id_subscriber).await?;
        self.usable_seal_certificate(&seal, client, now).await?;
        if let Some(code) = code {
            let expires = self.check_activation_code(&seal, code, client, now).await?;
            self.store
                .append_audit(&[AuditEvent::new(
                    AuditAction::SealActivation,
                    &actor(&seal),
                    AuditResult::Ok,
                )
                .client(client)
                .detail("refresh: still valid")])
                .await?;
            return Ok(SealActivation::StillValid { expires });
        }
        let code = new_activation_code();
        let expires = now + ACTIVATION_TTL;
        let hash = code_hash(
            &self.data.master_key()?,
            seal.id,
            CodePurpose::Activation,
            &code,
        );
        self.store
            .insert_seal_code(
                &NewSealCode {
                    official_id: seal.id,
                    purpose: CodePurpose::Activation,
                    code_sha256: &hash,
                    uses: i64::from(i32::MAX),
                    expires_at: expires,
                    replace_live: true,
                },
                &AuditEvent::new(AuditAction::SealActivation, &actor(&seal), AuditResult::Ok)
                    .client(client)
                    .detail(format!(
                        "new activation code sent to the seal's e-mail, expires={expires}"
                    )),
            )
            .await?;
        self.notify(&OutboxMessage {
            recipient: seal.email.clone(),
            subject: format!("Kode aktivasi segel elektronik {}", seal.name),
            body: format!(
                "Kode aktivasi (TOTP Aktivasi) segel elektronik {} ({}):\n\n    {code}\n\n\
                 Berlaku sampai {} untuk meminta kode penyegelan per batch melalui aplikasi. \
                 Kode aktivasi sebelumnya tidak berlaku lagi.\n\
                 Berikan kode ini hanya kepada pengelola aplikasi yang berwenang. Jika Anda tidak \
                 memintanya, cabut aktivasi dan hubungi Diskominfo.\n",
                seal.name,
                seal.unit,
                format_wib(expires, Lang::Id)
            ),
        })
        .await?;
        Ok(SealActivation::Sent { expires })
    }

    /// ECS `seal/revoke/activation`: with a valid activation code, retires every activation and
    /// batch code of the seal; audited. Returns how many codes were retired.
    pub async fn seal_revoke_activation(
        &self,
        id_subscriber: &str,
        code: &str,
        client: Option<&str>,
    ) -> Result<u64, CoreError> {
        let now = OffsetDateTime::now_utc();
        let seal = self.seal(id_subscriber).await?;
        self.check_activation_code(&seal, code, client, now).await?;
        let event = AuditEvent::new(
            AuditAction::SealActivationRevoke,
            &actor(&seal),
            AuditResult::Ok,
        )
        .client(client)
        .detail("every activation and batch code retired");
        let n = self
            .store
            .revoke_seal_codes(
                seal.id,
                &[CodePurpose::Activation, CodePurpose::Batch],
                &event,
            )
            .await?;
        Ok(n)
    }

    /// ECS `seal/get/totp`: with a valid activation code, a batch code valid [`BATCH_TTL`] for
    /// exactly `count` documents. Returns the code (to the calling system, as ECS does) and
    /// its expiry.
    pub async fn seal_batch_code(
        &self,
        id_subscriber: &str,
        activation_code: &str,
        count: i64,
        client: Option<&str>,
    ) -> Result<(String, OffsetDateTime), CoreError> {
        if !(1..=MAX_BATCH_DOCUMENTS).contains(&count) {
            return Err(CoreError::invalid(
                format!("satu batch mencakup 1 sampai {MAX_BATCH_DOCUMENTS} dokumen"),
                format!("a batch covers 1 to {MAX_BATCH_DOCUMENTS} documents"),
            ));
        }
        let now = OffsetDateTime::now_utc();
        let seal = self.seal(id_subscriber).await?;
        self.usable_seal_certificate(&seal, client, now).await?;
        self.check_activation_code(&seal, activation_code, client, now)
            .await?;
        let code = new_batch_code();
        let expires = now + BATCH_TTL;
        let hash = code_hash(&self.data.master_key()?, seal.id, CodePurpose::Batch, &code);
        self.store
            .insert_seal_code(
                &NewSealCode {
                    official_id: seal.id,
                    purpose: CodePurpose::Batch,
                    code_sha256: &hash,
                    uses: count,
                    expires_at: expires,
                    replace_live: false,
                },
                &AuditEvent::new(AuditAction::SealTotp, &actor(&seal), AuditResult::Ok)
                    .client(client)
                    .detail(format!("documents={count} expires={expires}")),
            )
            .await?;
        Ok((code, expires))
    }

    /// Unlocks the seal's key for `count` documents: the certificate must be usable, the seal
    /// not locked, and the batch code must have `count` uses left (they are spent here, exactly
    /// once across processes). A wrong or spent code counts towards the lockout.
    pub async fn unlock_seal(
        &self,
        id_subscriber: &str,
        batch_code: &str,
        count: i64,
        client: Option<&str>,
    ) -> Result<UnlockedSigner, CoreError> {
        let now = OffsetDateTime::now_utc();
        let seal = self.seal(id_subscriber).await?;
        let record = self.usable_seal_certificate(&seal, client, now).await?;
        if !(1..=MAX_BATCH_DOCUMENTS).contains(&count) {
            return Err(CoreError::invalid(
                format!("satu batch mencakup 1 sampai {MAX_BATCH_DOCUMENTS} dokumen"),
                format!("a batch covers 1 to {MAX_BATCH_DOCUMENTS} documents"),
            ));
        }
        self.reserve_attempt(seal.id, now).await?;
        let hash = code_hash(
            &self.data.master_key()?,
            seal.id,
            CodePurpose::Batch,
            batch_code,
        );
        if !self
            .store
            .consume_code(seal.id, CodePurpose::Batch, &hash, count, now)
            .await?
        {
            return Err(self
                .wrong_seal_code(&seal, CodePurpose::Batch, client, now)
                .await?);
        }
        self.store.reset_failures(seal.id).await?;
        let master = self.data.master_key()?;
        let key = self.keys.unseal_with_master(
            &record.sealed_key,
            &master,
            &seal_key_aad(&seal.nik, &record.serial_hex),
        )?;
        let certificate = Certificate::from_der(&record.cert_der)?;
        if key.public_key_spki_der() != certificate.spki_der() {
            return Err(CoreError::Config(
                "the seal's key does not match its certificate".into(),
            ));
        }
        let chain = self.issuer_chain(&record).await?;
        let key_algorithm = key.algorithm();
        Ok(UnlockedSigner {
            official: seal,
            certificate_record: record,
            certificate,
            chain,
            key,
            key_algorithm,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_their_shape() {
        for _ in 0..100 {
            let a = new_activation_code();
            assert_eq!(a.len(), ACTIVATION_LEN);
            assert!(a.bytes().all(|b| ACTIVATION_ALPHABET.contains(&b)), "{a}");
            let b = new_batch_code();
            assert_eq!(b.len(), BATCH_DIGITS as usize);
            assert!(b.bytes().all(|c| c.is_ascii_digit()), "{b}");
        }
        assert_ne!(new_activation_code(), new_activation_code());
    }

    #[test]
    fn hashes_bind_seal_and_purpose_and_ignore_formatting() {
        let m = sahih_pki::MasterKey::generate();
        let h = code_hash(&m, 7, CodePurpose::Activation, "ABCD-EFGH-JKLM");
        assert_eq!(
            h,
            code_hash(&m, 7, CodePurpose::Activation, " abcdefgh jklm ")
        );
        assert_ne!(h, code_hash(&m, 8, CodePurpose::Activation, "ABCDEFGHJKLM"));
        assert_ne!(h, code_hash(&m, 7, CodePurpose::Batch, "ABCDEFGHJKLM"));
        // Another master key, another hash: the database alone does not confirm a guess.
        let other = sahih_pki::MasterKey::generate();
        assert_ne!(
            h,
            code_hash(&other, 7, CodePurpose::Activation, "ABCD-EFGH-JKLM")
        );
        assert_eq!(h.len(), 64);
        assert!(!h.contains("ABCD"));
        // Absurdly long input is cut before hashing and can never match a real code.
        let long = "9".repeat(10_000);
        assert_ne!(
            code_hash(&m, 7, CodePurpose::Batch, &long),
            code_hash(&m, 7, CodePurpose::Batch, "99999999")
        );
    }
}
