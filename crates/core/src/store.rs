//! The storage contract of the domain. Implementations (SQLite, PostgreSQL) live in
//! `sahih-store`; every piece of state that must hold across processes (lockouts, revocations,
//! signed-document records) goes through here.

use std::future::Future;
use time::OffsetDateTime;

/// A certificate authority's certificate and its sealed private key.
#[derive(Debug, Clone)]
pub struct CaRecord {
    pub id: i64,
    /// "root" or "issuing".
    pub kind: String,
    pub generation: i64,
    pub cert_der: Vec<u8>,
    /// Sealed under the master key (see `sahih_pki::seal_with_master_key`).
    pub sealed_key: String,
    pub active: bool,
}

/// A trust-service key: the TSA, or an OCSP responder delegated by `issuer_ca_id`.
#[derive(Debug, Clone)]
pub struct ServiceKeyRecord {
    pub id: i64,
    /// "tsa" or "ocsp".
    pub kind: String,
    pub issuer_ca_id: i64,
    pub cert_der: Vec<u8>,
    /// Sealed under the master key.
    pub sealed_key: String,
}

#[derive(Debug, Clone)]
pub struct NewOfficial {
    pub nik: String,
    pub nip: String,
    pub name: String,
    pub email: String,
    pub position: String,
    pub unit: String,
}

#[derive(Debug, Clone)]
pub struct OfficialRecord {
    pub id: i64,
    pub nik: String,
    pub nip: String,
    pub name: String,
    pub email: String,
    pub position: String,
    pub unit: String,
}

/// Certificate status, in the ECS vocabulary where it overlaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertStatus {
    Issue,
    Revoke,
}

impl CertStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Issue => "ISSUE",
            Self::Revoke => "REVOKE",
        }
    }
    pub fn parse(s: &str) -> Self {
        if s == "ISSUE" {
            Self::Issue
        } else {
            Self::Revoke
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewCertificate {
    pub official_id: i64,
    pub issuer_ca_id: i64,
    pub serial_hex: String,
    pub cert_der: Vec<u8>,
    /// The official's key sealed under their passphrase (Argon2id + AES-256-GCM).
    pub sealed_key: String,
    pub key_algorithm: String,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

#[derive(Debug, Clone)]
pub struct CertificateRecord {
    pub id: i64,
    pub official_id: i64,
    pub issuer_ca_id: i64,
    pub serial_hex: String,
    pub cert_der: Vec<u8>,
    pub sealed_key: String,
    pub key_algorithm: String,
    pub status: CertStatus,
    pub revoked_at: Option<OffsetDateTime>,
    pub revocation_reason: Option<String>,
    pub not_after: OffsetDateTime,
}

/// A revoked certificate as seen by verification.
#[derive(Debug, Clone)]
pub struct RevokedEntry {
    pub issuer_cert_der: Vec<u8>,
    pub serial_hex: String,
    pub revoked_at: OffsetDateTime,
    pub reason: Option<String>,
}

/// Passphrase lockout state after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockState {
    /// Not locked; `failures` consecutive wrong passphrases so far.
    Open {
        failures: i64,
    },
    Locked {
        until: OffsetDateTime,
    },
}

#[derive(Debug, Clone)]
pub struct SignedDocumentRecord {
    /// Unguessable public identifier (used in the QR URL).
    pub id: String,
    pub sha256_hex: String,
    pub official_id: i64,
    pub certificate_id: i64,
    pub signed_at: OffsetDateTime,
    pub field_name: String,
    pub file_name: Option<String>,
    pub level: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(String),
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Everything the domain stores. Futures are `Send` so servers can use them across threads.
pub trait Store: Send + Sync {
    fn insert_ca(
        &self,
        kind: &str,
        generation: i64,
        cert_der: &[u8],
        sealed_key: &str,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    fn active_ca(&self, kind: &str) -> impl Future<Output = StoreResult<Option<CaRecord>>> + Send;
    fn all_ca(&self) -> impl Future<Output = StoreResult<Vec<CaRecord>>> + Send;

    fn insert_official(
        &self,
        official: &NewOfficial,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    fn official_by_nik(
        &self,
        nik: &str,
    ) -> impl Future<Output = StoreResult<Option<OfficialRecord>>> + Send;

    fn insert_certificate(
        &self,
        cert: &NewCertificate,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// The newest certificate of an official (whatever its status).
    fn latest_certificate(
        &self,
        official_id: i64,
    ) -> impl Future<Output = StoreResult<Option<CertificateRecord>>> + Send;
    /// Revokes every certificate of the official that is still ISSUE; returns how many.
    fn revoke_certificates(
        &self,
        official_id: i64,
        at: OffsetDateTime,
        reason: &str,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
    fn revoked_certificates(&self) -> impl Future<Output = StoreResult<Vec<RevokedEntry>>> + Send;

    /// Current lock state (clears an expired lock).
    fn lock_state(
        &self,
        official_id: i64,
        now: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<LockState>> + Send;
    /// Records a wrong passphrase atomically; locks for `lock_for` after `max_failures`.
    fn record_failure(
        &self,
        official_id: i64,
        now: OffsetDateTime,
        max_failures: i64,
        lock_for: time::Duration,
    ) -> impl Future<Output = StoreResult<LockState>> + Send;
    fn reset_failures(&self, official_id: i64) -> impl Future<Output = StoreResult<()>> + Send;

    fn insert_signed_document(
        &self,
        record: &SignedDocumentRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn signed_document(
        &self,
        id: &str,
    ) -> impl Future<Output = StoreResult<Option<SignedDocumentRecord>>> + Send;

    /// Stores a service key (and deactivates the previous one of the same kind and issuer).
    fn insert_service_key(
        &self,
        kind: &str,
        issuer_ca_id: i64,
        cert_der: &[u8],
        sealed_key: &str,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    fn active_service_keys(
        &self,
        kind: &str,
    ) -> impl Future<Output = StoreResult<Vec<ServiceKeyRecord>>> + Send;
    /// Reserves `count` values of a named counter; returns the first (the range is exclusive to
    /// the caller, across processes).
    fn reserve_counter(
        &self,
        name: &str,
        count: i64,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// Every certificate issued by a CA (for CRLs and OCSP).
    fn all_certificates_of_ca(
        &self,
        issuer_ca_id: i64,
    ) -> impl Future<Output = StoreResult<Vec<CertificateRecord>>> + Send;
}
