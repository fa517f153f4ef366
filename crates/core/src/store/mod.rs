//! The storage contract of the domain. Implementations (SQLite, PostgreSQL) live in
//! `sahih-store`; every piece of state that must hold across processes (lockouts, revocations,
//! signed-document records) goes through here.

use crate::audit::{AuditAnchor, AuditEntry, AuditEvent};
use crate::policy::DocClass;
use std::future::Future;
use time::OffsetDateTime;

pub mod accounts;
pub mod dashboard;
pub mod ra;
pub mod signing;

stored_kind!(
    /// A CA's place in the hierarchy.
    CaKind {
        /// The self-signed root; signs issuing CAs and the TSA.
        Root => "root",
        /// Signs officials' and seals' certificates.
        Issuing => "issuing",
    }
);

stored_kind!(
    /// A trust-service key's purpose.
    ServiceKind {
        /// The time-stamping authority.
        Tsa => "tsa",
        /// An OCSP responder delegated by its CA.
        Ocsp => "ocsp",
    }
);

stored_kind!(
    /// What a one-time code is for (the `one_time_codes.purpose` column). All kinds are spent
    /// through the one `Store::consume_code`.
    CodePurpose {
        /// An official's signing code (e-mail OTP), a second factor with the passphrase.
        Sign => "sign",
        /// A seal's activation code ("TOTP Aktivasi").
        Activation => "seal-activation",
        /// A seal's batch code for a number of documents.
        Batch => "seal-batch",
    }
);

stored_kind!(
    /// What an `officials` row is.
    OfficialKind {
        /// An official who signs with their passphrase.
        Person => "person",
        /// An institution's e-seal (`nik` holds its idSubscriber).
        Seal => "seal",
    }
);

/// A certificate authority's certificate and its sealed private key.
#[derive(Debug, Clone)]
pub struct CaRecord {
    /// Row id.
    pub id: i64,
    /// Root or issuing.
    pub kind: CaKind,
    /// 1, 2, ... per kind: an issuing CA is replaced by the next generation.
    pub generation: i64,
    /// The certificate.
    pub cert_der: Vec<u8>,
    /// Sealed under the master key (see `sahih_pki::seal_with_master_key`).
    pub sealed_key: String,
    /// Whether new certificates are issued under it (one per kind); older CAs keep answering
    /// for what they issued.
    pub active: bool,
}

/// A trust-service key: the TSA, or an OCSP responder delegated by `issuer_ca_id`.
#[derive(Debug, Clone)]
pub struct ServiceKeyRecord {
    /// Row id.
    pub id: i64,
    /// TSA or OCSP responder.
    pub kind: ServiceKind,
    /// The CA that issued the service certificate (for a responder: the CA it answers for).
    pub issuer_ca_id: i64,
    /// The service certificate.
    pub cert_der: Vec<u8>,
    /// Sealed under the master key.
    pub sealed_key: String,
}

/// An official (or a seal) as registered: what enrollment and the RA record.
#[derive(Debug, Clone)]
pub struct NewOfficial {
    /// Nomor Induk Kependudukan; for a seal its idSubscriber. The key every door finds an
    /// official by; never written into a certificate.
    pub nik: String,
    /// Nomor Induk Pegawai (empty for a seal).
    pub nip: String,
    /// Full name as printed on letters.
    pub name: String,
    /// Official e-mail address (one-time codes, activation links).
    pub email: String,
    /// Position (jabatan); document-class policies match on it.
    pub position: String,
    /// Unit (unit kerja / perangkat daerah).
    pub unit: String,
}

/// An official (or a seal) on file.
#[derive(Debug, Clone)]
pub struct OfficialRecord {
    /// Row id.
    pub id: i64,
    /// NIK, or a seal's idSubscriber.
    pub nik: String,
    /// NIP (empty for a seal).
    pub nip: String,
    /// Full name.
    pub name: String,
    /// Official e-mail address.
    pub email: String,
    /// Position (jabatan).
    pub position: String,
    /// Unit (unit kerja).
    pub unit: String,
    /// The RA stage (NEW, WAITING_FOR_VERIFICATION, NO_CERTIFICATE, RENEW); `None` when the
    /// status follows from the newest certificate.
    pub ra_status: Option<String>,
    /// A person or a seal.
    pub kind: OfficialKind,
    /// Gateway mode: signing is forwarded to the upstream ECS; no local key.
    pub upstream: bool,
}

impl OfficialRecord {
    /// The registration data, as enrollment and re-issuance take it.
    pub fn identity(&self) -> NewOfficial {
        NewOfficial {
            nik: self.nik.clone(),
            nip: self.nip.clone(),
            name: self.name.clone(),
            email: self.email.clone(),
            position: self.position.clone(),
            unit: self.unit.clone(),
        }
    }
}

/// Certificate status, in the ECS vocabulary where it overlaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertStatus {
    /// Valid: may sign.
    Issue,
    /// Suspended (RFC 5280 certificateHold): cannot sign until resumed.
    Suspend,
    /// Revoked for good.
    Revoke,
}

impl CertStatus {
    /// The ECS word: ISSUE, SUSPEND or REVOKE.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issue => "ISSUE",
            Self::Suspend => "SUSPEND",
            Self::Revoke => "REVOKE",
        }
    }
    /// The status stored as `s`: anything but ISSUE reads as revoked, so a damaged value never
    /// lets a key sign (suspension is a separate column the store applies on top).
    pub fn parse(s: &str) -> Self {
        if s == "ISSUE" {
            Self::Issue
        } else {
            Self::Revoke
        }
    }
}

/// A certificate to record, with its sealed key.
#[derive(Debug, Clone)]
pub struct NewCertificate {
    /// The official (or seal) it belongs to.
    pub official_id: i64,
    /// The CA that issued it.
    pub issuer_ca_id: i64,
    /// Serial number, lowercase hex.
    pub serial_hex: String,
    /// The certificate.
    pub cert_der: Vec<u8>,
    /// The official's key sealed under their passphrase (Argon2id + AES-256-GCM).
    pub sealed_key: String,
    /// `KeyAlgorithm` name (rsa2048, rsa3072, p256).
    pub key_algorithm: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
}

/// A certificate on file, with its sealed key and status.
#[derive(Debug, Clone)]
pub struct CertificateRecord {
    /// Row id.
    pub id: i64,
    /// The official (or seal) it belongs to.
    pub official_id: i64,
    /// The CA that issued it.
    pub issuer_ca_id: i64,
    /// Serial number, lowercase hex.
    pub serial_hex: String,
    /// The certificate.
    pub cert_der: Vec<u8>,
    /// The key sealed under the official's passphrase (or the master key for a seal); a
    /// reference when the key lives in a PKCS#11 token.
    pub sealed_key: String,
    /// `KeyAlgorithm` name.
    pub key_algorithm: String,
    /// Issued, suspended or revoked.
    pub status: CertStatus,
    /// When it was revoked (or suspended).
    pub revoked_at: Option<OffsetDateTime>,
    /// RFC 5280 reason name (certificateHold while suspended).
    pub revocation_reason: Option<String>,
    /// End of validity.
    pub not_after: OffsetDateTime,
}

/// A revoked certificate as seen by verification.
#[derive(Debug, Clone)]
pub struct RevokedEntry {
    /// The issuing CA's certificate (what OCSP and CRLs key on).
    pub issuer_cert_der: Vec<u8>,
    /// Serial number, lowercase hex.
    pub serial_hex: String,
    /// When it was revoked (or suspended).
    pub revoked_at: OffsetDateTime,
    /// RFC 5280 reason name, if one was given.
    pub reason: Option<String>,
}

/// Passphrase lockout state after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockState {
    /// Not locked; `failures` consecutive wrong passphrases so far.
    Open {
        /// Wrong attempts counted so far.
        failures: i64,
    },
    /// Locked after too many wrong attempts.
    Locked {
        /// When attempts are accepted again.
        until: OffsetDateTime,
    },
}

/// What Sahih keeps of a signature it made: the record the QR code leads to.
#[derive(Debug, Clone)]
pub struct SignedDocumentRecord {
    /// Unguessable public identifier (used in the QR URL).
    pub id: String,
    /// SHA-256 (hex) of the signed file.
    pub sha256_hex: String,
    /// The signer (official or seal).
    pub official_id: i64,
    /// The certificate used.
    pub certificate_id: i64,
    /// The signing time written into the PDF.
    pub signed_at: OffsetDateTime,
    /// The signature field's name.
    pub field_name: String,
    /// The file name given with the document, if any.
    pub file_name: Option<String>,
    /// PAdES level reached (B-B, B-T, B-LT, B-LTA).
    pub level: String,
    /// The document class the policy allowed (None for signatures made before v16 whose audit
    /// entry named none).
    pub class: Option<String>,
}

/// An API client (an application or a staff account) allowed to call the API.
#[derive(Debug, Clone)]
pub struct ApiClientRecord {
    /// Row id.
    pub id: i64,
    /// Login name (HTTP Basic user).
    pub name: String,
    /// SHA-256 (hex) of the secret; the secret itself is never stored.
    pub secret_sha256: String,
    /// Allowed source addresses (CIDR); empty: any.
    pub allow_ips: Vec<String>,
    /// Document class for requests that name none (ECS requests never do).
    pub default_class: Option<String>,
    /// A disabled client is refused like an unknown one.
    pub disabled: bool,
    /// What the client may do: see `clients::permits`.
    pub role: crate::clients::ClientRole,
    /// The unit an operator submits for.
    pub unit: Option<String>,
    /// The NIK of the person using a staff account (nobody decides their own request).
    pub person_nik: Option<String>,
    /// Which error body the client reads.
    pub error_shape: crate::clients::ErrorShape,
    /// When it was created.
    pub created_at: OffsetDateTime,
}

/// A signed PDF kept for one download (`GET /api/sign/download/{id}`).
#[derive(Debug, Clone)]
pub struct DownloadRecord {
    /// Public id used in the download URL.
    pub id: String,
    /// Where the signed file is kept in the blob store.
    pub blob_key: String,
    /// The API client that may take it (`None`: whoever has the id).
    pub client: Option<String>,
    /// After this it is gone.
    pub expires_at: OffsetDateTime,
}

/// A message for an official (one-time codes, activation links): sent by SMTP in production,
/// kept in the outbox table in the embedded default.
#[derive(Debug, Clone)]
pub struct OutboxMessage {
    /// E-mail address.
    pub recipient: String,
    /// Subject line.
    pub subject: String,
    /// Body (plain text; may hold a one-time code until delivered).
    pub body: String,
}

/// The result of one signing to be recorded: the document record and its audit event are
/// committed together, so a crash leaves neither.
#[derive(Debug, Clone)]
pub struct SigningRecord {
    /// The signed-document record.
    pub document: SignedDocumentRecord,
    /// The one-time download, when the door keeps the file for one.
    pub download: Option<DownloadRecord>,
}

/// Why storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed or could not be reached.
    #[error("database error: {0}")]
    Database(String),
    /// A unique value (NIK, name, ...) is already taken.
    #[error("already exists: {0}")]
    Conflict(String),
    /// What is stored contradicts itself or cannot be read back.
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

/// Result of a storage operation.
pub type StoreResult<T> = Result<T, StoreError>;

/// A new API client (the secret itself is never stored).
#[derive(Debug, Clone)]
pub struct NewApiClient<'a> {
    /// Login name.
    pub name: &'a str,
    /// SHA-256 (hex) of the secret.
    pub secret_sha256: &'a str,
    /// Allowed source addresses (CIDR); empty: any.
    pub allow_ips: &'a [String],
    /// Document class for requests that name none.
    pub default_class: Option<&'a str>,
    /// What the client may do.
    pub role: crate::clients::ClientRole,
    /// The unit an operator submits for.
    pub unit: Option<&'a str>,
    /// The NIK of the person using a staff account.
    pub person_nik: Option<&'a str>,
}

/// Everything the domain stores. Futures are `Send` so servers can use them across threads.
pub trait Store:
    Send + Sync + ra::RaStore + accounts::AccountStore + dashboard::DashboardStore
{
    /// Stores a CA and makes it the active one of its kind; returns its row id.
    fn insert_ca(
        &self,
        kind: CaKind,
        generation: i64,
        cert_der: &[u8],
        sealed_key: &str,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// The active CA of `kind`, if any.
    fn active_ca(&self, kind: CaKind)
    -> impl Future<Output = StoreResult<Option<CaRecord>>> + Send;
    /// Every CA, oldest first.
    fn all_ca(&self) -> impl Future<Output = StoreResult<Vec<CaRecord>>> + Send;

    /// Records a new official; returns the row id (a NIK on file is a conflict).
    fn insert_official(
        &self,
        official: &NewOfficial,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// An official (or seal) by row id.
    fn official_by_id(
        &self,
        id: i64,
    ) -> impl Future<Output = StoreResult<Option<OfficialRecord>>> + Send;
    /// Records a new official whose signing is forwarded to the upstream ECS (gateway mode);
    /// audited in the same transaction. A NIK already on file is a conflict.
    fn set_official_upstream(
        &self,
        official: &NewOfficial,
        upstream: bool,
        event: &AuditEvent,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// Updates name, NIP, e-mail, position and unit (not the NIK).
    fn update_official(
        &self,
        id: i64,
        official: &NewOfficial,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// An official (or seal) by NIK or idSubscriber.
    fn official_by_nik(
        &self,
        nik: &str,
    ) -> impl Future<Output = StoreResult<Option<OfficialRecord>>> + Send;

    /// Records an issued certificate; returns its row id.
    fn insert_certificate(
        &self,
        cert: &NewCertificate,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// The newest certificate of an official (whatever its status).
    fn latest_certificate(
        &self,
        official_id: i64,
    ) -> impl Future<Output = StoreResult<Option<CertificateRecord>>> + Send;
    /// A certificate by its row id (a signing record names the certificate it used).
    fn certificate_by_id(
        &self,
        id: i64,
    ) -> impl Future<Output = StoreResult<Option<CertificateRecord>>> + Send;
    /// Revokes every certificate of the official that is still ISSUE; returns how many.
    fn revoke_certificates(
        &self,
        official_id: i64,
        at: OffsetDateTime,
        reason: &str,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
    /// Revoked and suspended certificates (suspended ones with reason certificateHold).
    fn revoked_certificates(&self) -> impl Future<Output = StoreResult<Vec<RevokedEntry>>> + Send;
    /// The newest certificates of officials that are ISSUE and expire in `(now, before]`, with
    /// their officials.
    fn certificates_expiring(
        &self,
        now: OffsetDateTime,
        before: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<Vec<(CertificateRecord, OfficialRecord)>>> + Send;
    /// Records that the `days`-before-expiry notice of a certificate is being sent; false when it
    /// already was (by any process).
    fn mark_renewal_notice(
        &self,
        certificate_id: i64,
        days: i64,
        now: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Replaces a certificate's sealed key (a passphrase change), only if it is still
    /// `old_sealed` (two changes at once cannot both win), with its audit event.
    fn replace_sealed_key(
        &self,
        certificate_id: i64,
        old_sealed: &str,
        new_sealed: &str,
        event: &AuditEvent,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Suspends (`Some`: when, and the reason) or resumes (`None`) the official's ISSUE
    /// certificates; returns how many changed.
    fn set_certificate_hold(
        &self,
        official_id: i64,
        hold: Option<(OffsetDateTime, &str)>,
    ) -> impl Future<Output = StoreResult<u64>> + Send;

    /// Current lock state (clears an expired lock).
    fn lock_state(
        &self,
        official_id: i64,
        now: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<LockState>> + Send;
    /// Clears the failure count and any lock (after a right passphrase or a staff unlock).
    fn reset_failures(&self, official_id: i64) -> impl Future<Output = StoreResult<()>> + Send;
    /// Reserves one attempt before the expensive check, in one statement: granted (Some, the
    /// attempts now counted) only while the key is not locked and fewer than `max_failures`
    /// attempts are counted, so concurrent guesses can never exceed the limit. An expired lock
    /// starts a fresh count. A granted attempt is then settled: [`Self::reset_failures`] on
    /// success, [`Self::confirm_failure`] when wrong, [`Self::release_attempt`] when the check
    /// could not be made.
    fn reserve_attempt(
        &self,
        official_id: i64,
        now: OffsetDateTime,
        max_failures: i64,
    ) -> impl Future<Output = StoreResult<Option<i64>>> + Send;
    /// Settles a reserved attempt as wrong: locks for `lock_for` once `max_failures` are
    /// counted.
    fn confirm_failure(
        &self,
        official_id: i64,
        now: OffsetDateTime,
        max_failures: i64,
        lock_for: time::Duration,
    ) -> impl Future<Output = StoreResult<LockState>> + Send;
    /// Gives a reserved attempt back (the check failed for another reason).
    fn release_attempt(&self, official_id: i64) -> impl Future<Output = StoreResult<()>> + Send;

    /// Records one signed document (outside a batch; see [`Self::commit_signatures`]).
    fn insert_signed_document(
        &self,
        record: &SignedDocumentRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// A signed-document record by its public id.
    fn signed_document(
        &self,
        id: &str,
    ) -> impl Future<Output = StoreResult<Option<SignedDocumentRecord>>> + Send;
    /// The signing records whose signed file has this SHA-256 (hex), newest first, at most
    /// `limit` (the verification portal matches an uploaded file to its records this way).
    fn signed_documents_by_sha256(
        &self,
        sha256_hex: &str,
        limit: i64,
    ) -> impl Future<Output = StoreResult<Vec<SignedDocumentRecord>>> + Send;

    /// Stores a service key (and deactivates the previous one of the same kind and issuer).
    fn insert_service_key(
        &self,
        kind: ServiceKind,
        issuer_ca_id: i64,
        cert_der: &[u8],
        sealed_key: &str,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// Every service key of `kind`, retired ones included (old anchors were made with them).
    fn all_service_keys(
        &self,
        kind: ServiceKind,
    ) -> impl Future<Output = StoreResult<Vec<ServiceKeyRecord>>> + Send;
    /// The service keys of `kind` currently in use.
    fn active_service_keys(
        &self,
        kind: ServiceKind,
    ) -> impl Future<Output = StoreResult<Vec<ServiceKeyRecord>>> + Send;
    /// Reserves `count` values of a named counter; returns the first (the range is exclusive to
    /// the caller, across processes).
    fn reserve_counter(
        &self,
        name: &str,
        count: i64,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// Counts a failed API authentication of `subject` in its fixed window of `window_secs`
    /// (a new window starts when the last one has ended); returns the failures in the window.
    /// Shared by every server on the database.
    fn count_auth_failure(
        &self,
        scope: AuthFailureScope,
        subject: &str,
        window_secs: i64,
        now: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// The current failure windows of these subjects (those with no failure are left out).
    fn auth_failures(
        &self,
        subjects: &[(AuthFailureScope, &str)],
    ) -> impl Future<Output = StoreResult<Vec<AuthFailureWindow>>> + Send;
    /// Every certificate issued by a CA (for CRLs and OCSP).
    fn all_certificates_of_ca(
        &self,
        issuer_ca_id: i64,
    ) -> impl Future<Output = StoreResult<Vec<CertificateRecord>>> + Send;
    /// A person (not a seal) by e-mail, compared without case.
    fn official_by_email(
        &self,
        email: &str,
    ) -> impl Future<Output = StoreResult<Option<OfficialRecord>>> + Send;

    /// Records signed documents (and their one-time downloads) and the audit events in one
    /// transaction.
    fn commit_signatures(
        &self,
        records: &[SigningRecord],
        events: &[AuditEvent],
    ) -> impl Future<Output = StoreResult<()>> + Send;

    /// Stores a new API client with its audit event; returns its row id.
    fn insert_api_client(
        &self,
        client: &NewApiClient<'_>,
        event: &AuditEvent,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// An API client by login name.
    fn api_client(
        &self,
        name: &str,
    ) -> impl Future<Output = StoreResult<Option<ApiClientRecord>>> + Send;
    /// Every API client, by name.
    fn api_clients(&self) -> impl Future<Output = StoreResult<Vec<ApiClientRecord>>> + Send;
    /// Returns false when no such client exists.
    fn set_api_client_disabled(
        &self,
        name: &str,
        disabled: bool,
        event: &AuditEvent,
    ) -> impl Future<Output = StoreResult<bool>> + Send;

    /// Sets which error body a client reads, with its audit event; false when no such client.
    fn set_client_error_shape(
        &self,
        name: &str,
        shape: crate::clients::ErrorShape,
        event: &AuditEvent,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Replaces the document-class policy (and audits it) in one transaction.
    fn replace_policy(
        &self,
        default_class: &str,
        classes: &[DocClass],
        event: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The default class and the classes; `None` before any policy was loaded.
    fn policy(&self) -> impl Future<Output = StoreResult<Option<(String, Vec<DocClass>)>>> + Send;

    /// Appends events to the audit chain (atomically, in order); returns the last seq.
    fn append_audit(&self, events: &[AuditEvent]) -> impl Future<Output = StoreResult<i64>> + Send;
    /// Entries with `from <= seq <= to`, ordered by seq.
    fn audit_entries(
        &self,
        from: i64,
        to: i64,
    ) -> impl Future<Output = StoreResult<Vec<AuditEntry>>> + Send;
    /// At most `limit` entries matching `filter` from `page` on: newest first before a
    /// sequence number, or oldest first after one.
    fn audit_search(
        &self,
        filter: &crate::audit::AuditFilter,
        page: crate::audit::AuditCursor,
        limit: i64,
    ) -> impl Future<Output = StoreResult<Vec<AuditEntry>>> + Send;
    /// The chain head (seq, hash), `None` while the log is empty.
    fn audit_head(&self) -> impl Future<Output = StoreResult<Option<(i64, String)>>> + Send;
    /// Records an audit anchor (a signed timestamp over the chain head).
    fn insert_audit_anchor(
        &self,
        anchor: &AuditAnchor,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Every audit anchor, oldest first.
    fn audit_anchors(&self) -> impl Future<Output = StoreResult<Vec<AuditAnchor>>> + Send;

    /// Marks a download taken and returns it, exactly once across all processes; `None` when
    /// unknown, already taken, expired, or kept for another client (which then keeps it).
    fn take_download(
        &self,
        id: &str,
        client: Option<&str>,
        now: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<Option<DownloadRecord>>> + Send;

    /// Queues a message for an official.
    fn push_outbox(&self, message: &OutboxMessage) -> impl Future<Output = StoreResult<()>> + Send;
    /// Every message queued for `recipient` (compared without case), oldest first.
    fn outbox(
        &self,
        recipient: &str,
    ) -> impl Future<Output = StoreResult<Vec<OutboxMessage>>> + Send;

    /// Messages not sent yet (and not failed too often), oldest first.
    fn pending_outbox(
        &self,
        limit: i64,
    ) -> impl Future<Output = StoreResult<Vec<(i64, OutboxMessage)>>> + Send;
    /// Claims a message for sending; false when another process already did.
    fn claim_outbox(
        &self,
        id: i64,
        now: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Releases a claimed message after a failed attempt, keeping the error.
    fn outbox_failed(&self, id: i64, error: &str) -> impl Future<Output = StoreResult<()>> + Send;
    /// Forgets a delivered message's body: nothing recoverable stays behind, not even sealed.
    fn outbox_delivered(&self, id: i64) -> impl Future<Output = StoreResult<()>> + Send;

    /// Stores a one-time code (its hash) valid for `uses` documents until `expires_at`.
    fn insert_otp(
        &self,
        official_id: i64,
        code_sha256: &str,
        uses: i64,
        expires_at: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Spends `count` uses of a live code of that purpose (signing OTP, seal activation or batch
    /// code) in one statement, so two processes racing for the last uses cannot both win; false
    /// when no such live code has that many left.
    fn consume_code(
        &self,
        official_id: i64,
        purpose: CodePurpose,
        code_sha256: &str,
        count: i64,
        now: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
}

/// What a failed-authentication count is kept for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFailureScope {
    /// A source address (IPv6 per /64).
    Address,
    /// An API client name, as sent in HTTP Basic.
    Client,
}

impl AuthFailureScope {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthFailureScope::Address => "address",
            AuthFailureScope::Client => "client",
        }
    }
}

/// One subject's failed authentications in its current window.
#[derive(Clone, Debug)]
pub struct AuthFailureWindow {
    /// Whose failures these are.
    pub scope: AuthFailureScope,
    /// When the window began (Unix seconds).
    pub window_start: i64,
    /// Failures counted in it.
    pub failures: i64,
}

/// Why the blob store failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The object store could not be reached or refused the request.
    #[error("object storage: {0}")]
    Backend(String),
    /// A key that is not a safe relative name (no `..`, no leading `/`, ASCII only).
    #[error("invalid object key: {0}")]
    InvalidKey(String),
}

/// Document bytes (signed PDFs waiting for download, evidence files): a local directory in the
/// embedded default, an S3-compatible bucket in production. Keys are relative names such as
/// `signed/abc.pdf`. `put` is atomic: a reader sees the whole object or none.
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` under `key`, replacing what was there.
    fn put(&self, key: &str, bytes: Vec<u8>) -> impl Future<Output = Result<(), BlobError>> + Send;
    /// `Ok(None)` when the object does not exist.
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, BlobError>> + Send;
    /// Deleting a missing object is not an error.
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), BlobError>> + Send;
    /// Streams the file at `path` into `key` (in parts on S3), never holding the whole file in
    /// memory; returns its size. As atomic as `put`.
    fn put_file(
        &self,
        key: &str,
        path: &std::path::Path,
    ) -> impl Future<Output = Result<u64, BlobError>> + Send;
    /// Streams the object into a new owner-only file at `path` (replacing it), never holding the
    /// whole object in memory; returns its size, or `Ok(None)` when the object does not exist.
    fn get_to_file(
        &self,
        key: &str,
        path: &std::path::Path,
    ) -> impl Future<Output = Result<Option<u64>, BlobError>> + Send;
}
