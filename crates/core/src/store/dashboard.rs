//! What the administrator's dashboard and the verifikators' help desk count, as the store returns it, and the
//! [`DashboardStore`] trait. Drawing it is the server's; deciding what a refusal is happened
//! when it was audited.
//!
//! Must not know: SQL, HTTP or charts.

use crate::store::StoreResult;
use std::future::Future;
use time::OffsetDateTime;

stored_kind!(
    /// Why a signature was refused, as the dashboard groups the audit log's refusals.
    RefusalReason {
        /// The document-class policy refused it (`sign.refused` naming a class).
        Policy => "policy",
        /// The certificate was revoked, suspended or expired (other `sign.refused`).
        Certificate => "certificate",
        /// A wrong passphrase (`passphrase.wrong`).
        WrongPassphrase => "passphrase.wrong",
        /// Too many wrong passphrases (`passphrase.lockout`).
        Lockout => "passphrase.lockout",
    }
);

/// A certificate that expires soon, with whose it is.
#[derive(Debug, Clone)]
pub struct ExpiringCertificate {
    /// The official's name.
    pub name: String,
    /// Their NIK.
    pub nik: String,
    /// Their unit.
    pub unit: String,
    /// When the certificate expires.
    pub not_after: OffsetDateTime,
}

/// The dashboard's numbers over a period.
#[derive(Debug, Clone, Default)]
pub struct DashboardCounts {
    /// Signatures per day (days since 1970-01-01 counted in WIB), oldest first; days without
    /// signatures are left out.
    pub per_day: Vec<(i64, i64)>,
    /// Signatures per unit (OPD) of the signer, most first.
    pub per_unit: Vec<(String, i64)>,
    /// Signatures per document class, most first ("-" for signatures recorded without one).
    pub per_class: Vec<(String, i64)>,
    /// Refusals by reason, most first.
    pub refusals: Vec<(RefusalReason, i64)>,
    /// Certificates in use that expire within the window, soonest first.
    pub expiring: Vec<ExpiringCertificate>,
}

/// The dashboard's and the help desk's queries.
pub trait DashboardStore {
    /// Officials whose passphrase is locked now, with until when.
    fn locked_officials(
        &self,
        now: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<Vec<(crate::store::OfficialRecord, OffsetDateTime)>>> + Send;
    /// Officials whose newest certificate is in use, was issued before `issued_before`, and
    /// never signed anything.
    fn never_signed(
        &self,
        issued_before: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<Vec<crate::store::OfficialRecord>>> + Send;
    /// Clears an official's failed passphrase attempts and lockout, with its audit event, in
    /// one transaction.
    fn lift_lockout(
        &self,
        official_id: i64,
        event: &crate::audit::AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Counts since `since`, and certificates expiring between `now` and `expiring_until`.
    fn dashboard_counts(
        &self,
        since: OffsetDateTime,
        now: OffsetDateTime,
        expiring_until: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<DashboardCounts>> + Send;
}
