//! The RA's part of the storage contract: requests, their evidence, decisions and activation
//! links as stored, and the [`RaStore`] trait a store implements for them. What the RA does with
//! them is `crate::ra`.
//!
//! Must not know: SQL, HTTP, or the RA's rules.

use crate::audit::AuditEvent;
use crate::lifecycle::Status;
use crate::store::{NewCertificate, NewOfficial, OutboxMessage, StoreResult};
use std::future::Future;
use time::OffsetDateTime;

/// What a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// A first certificate for a new official.
    Enroll,
    /// A new certificate before (or after) the current one expires.
    Renew,
    /// Change of position, unit or name: the old certificate is revoked (affiliationChanged)
    /// when the verifikator approves.
    Mutasi,
    /// Forgotten passphrase: a new key and certificate; the old one is revoked (superseded).
    Reset,
}

impl RequestKind {
    /// The text stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enroll => "enroll",
            Self::Renew => "renew",
            Self::Mutasi => "mutasi",
            Self::Reset => "reset",
        }
    }
    /// The kind stored as `s`; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "enroll" => Self::Enroll,
            "renew" => Self::Renew,
            "mutasi" => Self::Mutasi,
            "reset" => Self::Reset,
            _ => return None,
        })
    }
    /// The evidence each official's request needs besides the submission's letter.
    pub fn required_evidence(self) -> &'static [EvidenceKind] {
        match self {
            Self::Enroll => &[EvidenceKind::Ktp, EvidenceKind::SkJabatan],
            Self::Mutasi => &[EvidenceKind::SkJabatan],
            Self::Renew => &[],
            Self::Reset => &[EvidenceKind::Ktp],
        }
    }
}

/// Kinds of evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceKind {
    /// Request or recommendation letter from the head of the OPD (one per submission).
    SuratPermohonan,
    /// e-KTP scan.
    Ktp,
    /// Decree of appointment to the position.
    SkJabatan,
}

impl EvidenceKind {
    /// The text stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SuratPermohonan => "surat_permohonan",
            Self::Ktp => "ktp",
            Self::SkJabatan => "sk_jabatan",
        }
    }
    /// The kind stored as `s` (also the older name `surat_rekomendasi`); `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "surat_permohonan" | "surat_rekomendasi" => Self::SuratPermohonan,
            "ktp" => Self::Ktp,
            "sk_jabatan" => Self::SkJabatan,
            _ => return None,
        })
    }
}

/// The media types accepted as evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// A PDF document.
    Pdf,
    /// A JPEG image.
    Jpeg,
    /// A PNG image.
    Png,
}

impl MediaType {
    /// The MIME type.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
        }
    }
    /// File name extension (without the dot) for downloads.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Jpeg => "jpg",
            Self::Png => "png",
        }
    }
}

/// The state of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestState {
    /// Filed, evidence still missing.
    New,
    /// Complete; waits for a verifikator.
    WaitingForVerification,
    /// Approved; the official's activation link is out.
    Approved,
    /// Rejected by a verifikator (or withdrawn), with a reason.
    Rejected,
    /// The official opened the link: key and certificate made.
    Activated,
}

impl RequestState {
    /// The text stored (the ECS words).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "NEW",
            Self::WaitingForVerification => "WAITING_FOR_VERIFICATION",
            Self::Approved => "APPROVED",
            Self::Rejected => "REJECTED",
            Self::Activated => "ACTIVATED",
        }
    }
    /// The state stored as `s`; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "NEW" => Self::New,
            "WAITING_FOR_VERIFICATION" => Self::WaitingForVerification,
            "APPROVED" => Self::Approved,
            "REJECTED" => Self::Rejected,
            "ACTIVATED" => Self::Activated,
            _ => return None,
        })
    }
}

/// One official's request.
#[derive(Debug, Clone)]
pub struct RaRequest {
    /// Public id (`req-...`).
    pub id: String,
    /// The submission it came in (one letter, several officials).
    pub submission_id: String,
    /// What it asks for.
    pub kind: RequestKind,
    /// The identity to certify (for a mutasi: the new position, unit or name).
    pub official: NewOfficial,
    /// Where it stands.
    pub state: RequestState,
    /// The official's row, once there is one.
    pub official_id: Option<i64>,
    /// The account or API client that filed it.
    pub submitted_by: String,
    /// The unit that filed it (the filing operator's or app's unit at the time).
    pub submitted_unit: Option<String>,
    /// When it was filed.
    pub submitted_at: OffsetDateTime,
    /// The staff member who decided it.
    pub decided_by: Option<String>,
    /// When it was decided.
    pub decided_at: Option<OffsetDateTime>,
    /// Why it was rejected or withdrawn.
    pub reason: Option<String>,
}

/// One evidence file.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// The submission it belongs to.
    pub submission_id: String,
    /// `None`: the submission's letter.
    pub request_id: Option<String>,
    /// What it proves.
    pub kind: EvidenceKind,
    /// Where the file is kept in the blob store.
    pub blob_key: String,
    /// SHA-256 (hex) at upload; a stored file that no longer matches is reported as damaged.
    pub sha256_hex: String,
    /// Its media type, from its content.
    pub media_type: MediaType,
    /// Size in bytes.
    pub size: i64,
    /// The uploaded file's name, if given.
    pub file_name: Option<String>,
}

/// How a submission changes an official.
#[derive(Debug, Clone)]
pub enum OfficialChange {
    /// A new official in an RA stage.
    Insert(NewOfficial, Status),
    /// An existing official moves to an RA stage.
    Stage(i64, Status),
    /// No official yet: an ECS registration whose identity is incomplete (no NIK, NIP, position
    /// or unit). The official is recorded only once the identity is complete
    /// ([`RaStore::ra_complete_identity`]), because every door finds officials by a valid NIK.
    Pending,
}

/// A live activation link.
#[derive(Debug, Clone)]
pub struct ActivationLink {
    /// The request it activates.
    pub request_id: String,
    /// The official it is for.
    pub official_id: i64,
    /// After this it no longer works.
    pub expires_at: OffsetDateTime,
}

/// A decision and what it changes, committed together.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The request decided.
    pub request_id: String,
    /// The state the request must still be in (conditional update).
    pub expected_state: RequestState,
    /// The state it moves to.
    pub new_state: RequestState,
    /// The staff member who decided.
    pub decided_by: String,
    /// When.
    pub at: OffsetDateTime,
    /// Why (a rejection or withdrawal).
    pub reason: Option<String>,
    /// The official concerned; `None` for a request whose identity was never completed (no
    /// official on file to change).
    pub official_id: Option<i64>,
    /// `None`: the status follows from the certificate again.
    pub official_stage: Option<Status>,
    /// Revoke the official's live certificates with this reason (mutasi).
    pub revoke: Option<String>,
    /// (token SHA-256, expiry) of a new activation link.
    pub link: Option<(String, OffsetDateTime)>,
    /// The message to send (the activation link), queued with the decision.
    pub message: Option<OutboxMessage>,
}

/// A completed activation, committed together.
#[derive(Debug, Clone)]
pub struct Activation {
    /// SHA-256 of the link's token (the token itself is never stored).
    pub token_sha256: String,
    /// When.
    pub at: OffsetDateTime,
    /// The request activated.
    pub request_id: String,
    /// The official activated.
    pub official_id: i64,
    /// The identity certified (a mutasi's new data replaces the old).
    pub identity: NewOfficial,
    /// The new certificate and its sealed key.
    pub certificate: NewCertificate,
    /// Revoke the official's other live certificates with this reason.
    pub revoke_others: Option<String>,
}

/// Storage of the RA. Every method that changes state does it in one transaction with its audit
/// events, and the ones that can race (two verifikators, two clicks on a link) are conditional.
pub trait RaStore: Send + Sync {
    /// Records a submission: its requests, the officials' changes, the evidence and the audit
    /// events.
    fn ra_submit(
        &self,
        submission_id: &str,
        kind: RequestKind,
        submitted_by: &str,
        requests: &[(RaRequest, OfficialChange)],
        evidence: &[Evidence],
        events: &[AuditEvent],
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// A request by id.
    fn ra_request(&self, id: &str) -> impl Future<Output = StoreResult<Option<RaRequest>>> + Send;
    /// Requests, newest first, optionally only in one state and/or filed by accounts of one unit.
    fn ra_requests(
        &self,
        state: Option<RequestState>,
        unit: Option<&str>,
    ) -> impl Future<Output = StoreResult<Vec<RaRequest>>> + Send;
    /// The submission's letter and the request's own files.
    fn ra_evidence(
        &self,
        submission_id: &str,
        request_id: &str,
    ) -> impl Future<Output = StoreResult<Vec<Evidence>>> + Send;
    /// Adds evidence to a NEW request; when `submit`, moves it (and its official) to
    /// WAITING_FOR_VERIFICATION. False when the request is not NEW any more.
    fn ra_add_evidence(
        &self,
        request_id: &str,
        evidence: &[Evidence],
        submit: Option<i64>,
        events: &[AuditEvent],
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Records the identity of a request that is still NEW without an official (an ECS
    /// registration being completed), conditionally on that: the request's identity columns
    /// and filing unit take the new values and, with `change`, the official is recorded (or
    /// staged) and the request moves to `state`. False when the request was no longer pending.
    fn ra_complete_identity(
        &self,
        request_id: &str,
        identity: &NewOfficial,
        submitted_unit: Option<&str>,
        change: Option<&OfficialChange>,
        state: RequestState,
        events: &[AuditEvent],
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Records a decision if the request is still WAITING_FOR_VERIFICATION; false otherwise
    /// (another verifikator decided first).
    fn ra_decide(
        &self,
        decision: &Decision,
        events: &[AuditEvent],
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// The link, if it exists, is unused and has not expired.
    fn activation_link(
        &self,
        token_sha256: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<Option<ActivationLink>>> + Send;
    /// Closes the official's open requests (rejected with `reason`), uses up their links and
    /// clears a RENEW or NO_CERTIFICATE stage: a revocation or suspension ends a renewal in
    /// progress. Returns how many requests were closed.
    fn ra_close_open(
        &self,
        official_id: i64,
        reason: &str,
        at: OffsetDateTime,
        events: &[AuditEvent],
    ) -> impl Future<Output = StoreResult<u64>> + Send;
    /// A new activation link for an APPROVED request (the earlier ones are used up); false
    /// when the request is not APPROVED any more.
    fn ra_relink(
        &self,
        request_id: &str,
        official_id: i64,
        link: (&str, OffsetDateTime),
        message: &OutboxMessage,
        events: &[AuditEvent],
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Uses the link (once, across processes) and stores the certificate; false when the link
    /// was used or expired meanwhile, or the official left the RA stage it was approved in.
    fn ra_activate(
        &self,
        activation: &Activation,
        events: &[AuditEvent],
    ) -> impl Future<Output = StoreResult<bool>> + Send;
}
