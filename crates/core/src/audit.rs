//! The tamper-evident audit log: every security-relevant event becomes one entry in a hash
//! chain. Entry `n` carries the hash of entry `n-1`; the store keeps the chain head in its own
//! row and the server periodically has the head timestamped by the TSA, so an edited, deleted,
//! reordered or truncated log is detected by [`verify_chain`].
//!
//! Never put a passphrase, a key or a document's content in an event: the document is named by
//! its SHA-256 only.

use aws_lc_rs::digest;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The hash before the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an audit entry records. The stored text ([`AuditAction::as_str`]) is what the chain
/// hashes, so it never changes for an existing action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// A signature was made (one entry per document).
    Sign,
    /// Signing refused: policy, or the certificate's status.
    SignRefused,
    /// Gateway mode: the upstream failed to sign.
    SignUpstream,
    /// A document was verified through the API.
    Verify,
    /// An official was enrolled and their first certificate issued.
    Enroll,
    /// An official's certificate was re-issued (new position, unit or name; mutasi).
    Reissue,
    /// An official's certificates were revoked.
    Revoke,
    /// An official's certificates were suspended.
    Suspend,
    /// A suspension was lifted.
    Resume,
    /// A key inside the PKCS#11 token was destroyed (no certificate uses it any more).
    KeyDestroy,
    /// A wrong passphrase (counted towards the lockout).
    PassphraseWrong,
    /// Too many wrong passphrases: the key was locked.
    PassphraseLockout,
    /// A verifikator lifted an official's passphrase lockout after checking their identity.
    PassphraseUnlock,
    /// A signing one-time code was sent to an official.
    OtpIssue,
    /// A wrong signing one-time code.
    OtpWrong,
    /// An API client was added.
    ClientAdd,
    /// An API client was disabled.
    ClientDisable,
    /// An API client was enabled again.
    ClientEnable,
    /// An API client failed to authenticate.
    ClientAuthFailed,
    /// An address was refused after too many failed authentications.
    ClientAuthThrottled,
    /// A client's error body shape was changed.
    ClientErrorShape,
    /// The document-class policy was replaced.
    PolicyReplace,
    /// A new issuing CA generation was made active.
    CaRotate,
    /// Gateway mode: an official enrolled upstream was recorded here.
    GatewayEnroll,
    /// An official was told their certificate expires soon.
    RenewalNotice,
    /// The RA received a submission (one or more requests).
    RaSubmission,
    /// Evidence was added to an RA request.
    RaEvidence,
    /// An RA request was withdrawn.
    RaWithdraw,
    /// Identity fields of an ECS registration were completed, or a verifikator handed a
    /// registration filed without a unit to a unit.
    RaIdentity,
    /// Open renewal requests were closed (the certificate is being revoked or suspended).
    RaClose,
    /// An activation link was sent to an official.
    RaActivationLink,
    /// A seal was requested.
    SealRequest,
    /// A seal's certificate was issued.
    SealIssue,
    /// A seal's activation code was checked.
    SealActivation,
    /// A seal's activation and batch codes were retired.
    SealActivationRevoke,
    /// A batch code was issued for a seal.
    SealTotp,
    /// Documents were sealed (one entry per batch).
    SealSign,
    /// Sealing refused: the seal's certificate is revoked, suspended or expired.
    SealRefused,
    /// A wrong seal activation or batch code.
    SealCodeWrong,
    /// Too many wrong seal codes: the seal was locked.
    SealLockout,
    /// A person account was made (with its setup link, or during activation).
    AccountCreate,
    /// A login password was set.
    AccountPassword,
    /// A TOTP second factor was confirmed.
    AccountTotp,
    /// A login succeeded.
    AccountLogin,
    /// A login failed (unknown name, wrong password or code).
    AccountLoginFailed,
    /// An account was locked after too many failed logins.
    AccountLockout,
    /// A session was ended by its person (logout).
    AccountLogout,
    /// A person ended their other (or all) sessions.
    AccountSessionsEnded,
    /// An application filed a signing request.
    SigningRequestCreate,
    /// The official opened a signing request.
    SigningRequestOpen,
    /// The official confirmed reading it (the "centang").
    SigningRequestRead,
    /// The official signed it.
    SigningRequestSign,
    /// The official rejected it.
    SigningRequestReject,
    /// It passed its due date.
    SigningRequestExpire,
    /// A client's webhook secret was made.
    WebhookSecret,
    /// An official changed their signing passphrase (the key re-sealed, nothing else).
    PassphraseChange,
    /// A step of an official's lifecycle through the RA (`ra.<action>`).
    Ra(crate::lifecycle::Action),
}

impl AuditAction {
    /// The text stored (and hashed) for this action.
    pub fn as_str(self) -> &'static str {
        use crate::lifecycle::Action as A;
        match self {
            Self::Sign => "sign",
            Self::SignRefused => "sign.refused",
            Self::SignUpstream => "sign.upstream",
            Self::Verify => "verify",
            Self::Enroll => "enroll",
            Self::Reissue => "reissue",
            Self::Revoke => "revoke",
            Self::Suspend => "suspend",
            Self::Resume => "resume",
            Self::KeyDestroy => "key.destroy",
            Self::PassphraseWrong => "passphrase.wrong",
            Self::PassphraseLockout => "passphrase.lockout",
            Self::PassphraseUnlock => "passphrase.unlock",
            Self::OtpIssue => "otp.issue",
            Self::OtpWrong => "otp.wrong",
            Self::ClientAdd => "client.add",
            Self::ClientDisable => "client.disable",
            Self::ClientEnable => "client.enable",
            Self::ClientAuthFailed => "client.auth_failed",
            Self::ClientAuthThrottled => "client.auth_throttled",
            Self::ClientErrorShape => "client.error_shape",
            Self::PolicyReplace => "policy.replace",
            Self::CaRotate => "ca.rotate",
            Self::GatewayEnroll => "gateway.enroll",
            Self::RenewalNotice => "renewal.notice",
            Self::RaSubmission => "ra.submission",
            Self::RaEvidence => "ra.evidence",
            Self::RaWithdraw => "ra.withdraw",
            Self::RaIdentity => "ra.identity",
            Self::RaClose => "ra.close",
            Self::RaActivationLink => "ra.activation-link",
            Self::SealRequest => "seal.request",
            Self::SealIssue => "seal.issue",
            Self::SealActivation => "seal.activation",
            Self::SealActivationRevoke => "seal.activation.revoke",
            Self::SealTotp => "seal.totp",
            Self::SealSign => "seal.sign",
            Self::SealRefused => "seal.refused",
            Self::SealCodeWrong => "seal.code.wrong",
            Self::SealLockout => "seal.lockout",
            Self::AccountCreate => "account.create",
            Self::AccountPassword => "account.password",
            Self::AccountTotp => "account.totp",
            Self::AccountLogin => "account.login",
            Self::AccountLoginFailed => "account.login_failed",
            Self::AccountLockout => "account.lockout",
            Self::AccountLogout => "account.logout",
            Self::AccountSessionsEnded => "account.sessions_ended",
            Self::SigningRequestCreate => "signing_request.create",
            Self::SigningRequestOpen => "signing_request.open",
            Self::SigningRequestRead => "signing_request.read",
            Self::SigningRequestSign => "signing_request.sign",
            Self::SigningRequestReject => "signing_request.reject",
            Self::SigningRequestExpire => "signing_request.expire",
            Self::WebhookSecret => "client.webhook_secret",
            Self::PassphraseChange => "passphrase.change",
            Self::Ra(A::Register) => "ra.register",
            Self::Ra(A::Submit) => "ra.submit",
            Self::Ra(A::Approve) => "ra.approve",
            Self::Ra(A::Reject) => "ra.reject",
            Self::Ra(A::Activate) => "ra.activate",
            Self::Ra(A::Suspend) => "ra.suspend",
            Self::Ra(A::Resume) => "ra.resume",
            Self::Ra(A::Revoke) => "ra.revoke",
            Self::Ra(A::RequestRenewal) => "ra.request-renewal",
        }
    }
}

/// How an audited attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditResult {
    /// It happened.
    Ok,
    /// Refused by a rule (policy, status, a wrong secret).
    Refused,
    /// It could not be done (an error, not a decision).
    Failed,
    /// An API credential was refused (failed or throttled authentication).
    Denied,
}

impl AuditResult {
    /// The text stored (and hashed).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Refused => "refused",
            Self::Failed => "failed",
            Self::Denied => "denied",
        }
    }
}

/// What happened, before it is chained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// e.g. `sign`, `sign.refused`, `passphrase.wrong`, `passphrase.lockout`, `verify`,
    /// `client.add`, `client.disable`, `policy.replace`, `revoke`, `enroll`.
    pub action: String,
    /// Who acted: `nik:<NIK>` for an official, `cli` for the operator's command line.
    pub actor: String,
    /// The API client through which the request came, if any.
    pub client: Option<String>,
    /// SHA-256 (hex) of the document concerned, if any.
    pub document_sha256: Option<String>,
    /// `ok`, `refused`, `failed`.
    pub result: String,
    /// Short free text (Indonesian or English) without secrets.
    pub detail: String,
}

impl AuditEvent {
    /// An event of `action` by `actor`, without client, document or detail.
    pub fn new(action: AuditAction, actor: &str, result: AuditResult) -> Self {
        Self {
            action: action.as_str().into(),
            actor: actor.into(),
            client: None,
            document_sha256: None,
            result: result.as_str().into(),
            detail: String::new(),
        }
    }
    /// Names the API client the request came through.
    pub fn client(mut self, client: Option<&str>) -> Self {
        self.client = client.map(str::to_string);
        self
    }
    /// Names the document concerned by its SHA-256 (hex).
    pub fn document(mut self, sha256_hex: &str) -> Self {
        self.document_sha256 = Some(sha256_hex.to_string());
        self
    }
    /// Adds short free text (never a secret).
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
}

/// A chained entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Unix time in microseconds, UTC.
    pub at_micros: i64,
    /// What happened.
    #[serde(flatten)]
    pub event: AuditEvent,
    /// Hash of the entry before (see [`GENESIS_HASH`]).
    pub prev_hash: String,
    /// Hash of this entry ([`entry_hash`]).
    pub hash: String,
}

/// Which audit entries a search returns; every field left empty matches everything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Exactly this action (e.g. `sign`, `ra.approve`).
    pub action: Option<String>,
    /// Exactly this actor (e.g. `account:7`, `nik:3573...`, a client name).
    pub actor: Option<String>,
    /// Entries about this official: signed by them (`nik:<NIK>`) or naming the NIK.
    pub official_nik: Option<String>,
    /// At or after this time (Unix microseconds, UTC).
    pub from_micros: Option<i64>,
    /// At or before this time (Unix microseconds, UTC).
    pub to_micros: Option<i64>,
}

/// Where a page of an audit search starts.
#[derive(Debug, Clone, Copy)]
pub enum AuditCursor {
    /// Entries with a smaller sequence number, newest first (the page view).
    Before(i64),
    /// Entries with a larger sequence number, oldest first (an export, step by step).
    After(i64),
}

/// A TSA token over the chain head at `seq`.
#[derive(Debug, Clone)]
pub struct AuditAnchor {
    /// The entry anchored.
    pub seq: i64,
    /// That entry's hash, as the token covers it.
    pub hash: String,
    /// The RFC 3161 time-stamp token (DER).
    pub token_der: Vec<u8>,
    /// When the anchor was made.
    pub at: OffsetDateTime,
}

/// The hash of one entry: SHA-256 over a length-prefixed encoding of every field, so no two
/// different entries encode to the same bytes.
pub fn entry_hash(prev_hash: &str, seq: i64, at_micros: i64, event: &AuditEvent) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    let mut field = |bytes: &[u8]| {
        ctx.update(&(bytes.len() as u64).to_be_bytes());
        ctx.update(bytes);
    };
    field(b"sahih-audit-v1");
    field(prev_hash.as_bytes());
    field(&seq.to_be_bytes());
    field(&at_micros.to_be_bytes());
    field(event.action.as_bytes());
    field(event.actor.as_bytes());
    field(event.client.as_deref().unwrap_or("\u{0}").as_bytes());
    field(
        event
            .document_sha256
            .as_deref()
            .unwrap_or("\u{0}")
            .as_bytes(),
    );
    field(event.result.as_bytes());
    field(event.detail.as_bytes());
    hex::encode(ctx.finish().as_ref())
}

/// Why a chain failed verification, naming the first bad entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainFault {
    /// Sequence numbers must run 1, 2, 3, ...: an entry is missing or out of order.
    Gap {
        /// The number that should come next.
        expected_seq: i64,
        /// The number found instead.
        found_seq: i64,
    },
    /// The entry does not point at the hash of the one before it.
    BrokenLink {
        /// The entry.
        seq: i64,
    },
    /// The entry's content no longer matches its hash (edited).
    Edited {
        /// The entry.
        seq: i64,
    },
    /// The stored head names an entry or hash the log does not end with (truncated or rewritten).
    HeadMismatch {
        /// The entry the stored head names.
        head_seq: i64,
        /// The last entry in the log.
        last_seq: i64,
    },
    /// A TSA anchor covers a hash the chain no longer has at that position.
    AnchorMismatch {
        /// The anchored entry.
        seq: i64,
    },
    /// The anchor's token is well formed but not from this institution's TSA (another TSA, or
    /// one an attacker made).
    ForeignAnchor {
        /// The anchored entry.
        seq: i64,
    },
    /// Entries from `seq` on are older than the anchoring interval plus its grace, yet no TSA
    /// anchor covers them: they could have been rewritten with the rest of the tail.
    Unanchored {
        /// The first entry not covered.
        seq: i64,
    },
    /// The witness file outside the database recorded an anchor of entry `seq` that the
    /// database no longer has (anchors deleted, chain truncated or rewritten).
    WitnessMismatch {
        /// The witnessed entry.
        seq: i64,
    },
}

impl ChainFault {
    /// The sequence number from which the chain cannot be trusted.
    pub fn first_bad_seq(&self) -> i64 {
        match self {
            Self::Gap { expected_seq, .. } => *expected_seq,
            Self::BrokenLink { seq }
            | Self::Edited { seq }
            | Self::AnchorMismatch { seq }
            | Self::ForeignAnchor { seq }
            | Self::Unanchored { seq }
            | Self::WitnessMismatch { seq } => *seq,
            Self::HeadMismatch { last_seq, head_seq } => (*last_seq).min(*head_seq) + 1,
        }
    }
    /// What to tell an administrator, in `lang`.
    pub fn message(&self, lang: crate::Lang) -> String {
        use crate::Lang::*;
        match (self, lang) {
            (
                Self::Gap {
                    expected_seq,
                    found_seq,
                },
                Id,
            ) => format!(
                "entri #{expected_seq} hilang atau urutannya diubah (ditemukan #{found_seq})"
            ),
            (
                Self::Gap {
                    expected_seq,
                    found_seq,
                },
                En,
            ) => format!("entry #{expected_seq} is missing or reordered (found #{found_seq})"),
            (Self::BrokenLink { seq }, Id) => {
                format!("entri #{seq} tidak tersambung dengan entri sebelumnya")
            }
            (Self::BrokenLink { seq }, En) => {
                format!("entry #{seq} does not link to the entry before it")
            }
            (Self::Edited { seq }, Id) => format!("isi entri #{seq} telah diubah"),
            (Self::Edited { seq }, En) => format!("entry #{seq} was edited"),
            (Self::HeadMismatch { head_seq, last_seq }, Id) => format!(
                "kepala rantai menunjuk entri #{head_seq}, tetapi log berakhir di #{last_seq} (entri dihapus atau ditulis ulang)"
            ),
            (Self::HeadMismatch { head_seq, last_seq }, En) => format!(
                "the chain head names entry #{head_seq} but the log ends at #{last_seq} (entries deleted or rewritten)"
            ),
            (Self::AnchorMismatch { seq }, Id) => {
                format!("cap waktu TSA untuk entri #{seq} tidak cocok dengan log")
            }
            (Self::AnchorMismatch { seq }, En) => {
                format!("the TSA timestamp for entry #{seq} does not match the log")
            }
            (Self::ForeignAnchor { seq }, Id) => format!(
                "cap waktu untuk entri #{seq} bukan dari TSA instansi ini (TSA lain atau buatan)"
            ),
            (Self::ForeignAnchor { seq }, En) => format!(
                "the timestamp for entry #{seq} is not from this institution's TSA (another or a made-up TSA)"
            ),
            (Self::Unanchored { seq }, Id) => format!(
                "entri #{seq} dan sesudahnya sudah lama tetapi belum dikunci cap waktu TSA (jangkar dihapus, atau `sahih serve`/`sahih audit anchor` tidak berjalan)"
            ),
            (Self::Unanchored { seq }, En) => format!(
                "entry #{seq} and later are old but not pinned by a TSA timestamp (anchors deleted, or neither `sahih serve` nor `sahih audit anchor` ran)"
            ),
            (Self::WitnessMismatch { seq }, Id) => format!(
                "berkas saksi mencatat jangkar entri #{seq} yang tidak ada lagi di basis data (jangkar dihapus, log dipotong atau ditulis ulang)"
            ),
            (Self::WitnessMismatch { seq }, En) => format!(
                "the witness file recorded an anchor of entry #{seq} that the database no longer has (anchors deleted, log truncated or rewritten)"
            ),
        }
    }
}

/// Checks a whole chain (entries in the order the store returns them, by seq) against the
/// stored head and the TSA anchors.
pub fn verify_chain(
    entries: &[AuditEntry],
    head: Option<(i64, String)>,
    anchors: &[AuditAnchor],
) -> Result<usize, ChainFault> {
    let mut prev = GENESIS_HASH.to_string();
    for (i, e) in entries.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        if e.seq != expected_seq {
            return Err(ChainFault::Gap {
                expected_seq,
                found_seq: e.seq,
            });
        }
        if e.prev_hash != prev {
            return Err(ChainFault::BrokenLink { seq: e.seq });
        }
        if entry_hash(&e.prev_hash, e.seq, e.at_micros, &e.event) != e.hash {
            return Err(ChainFault::Edited { seq: e.seq });
        }
        prev = e.hash.clone();
    }
    let last_seq = entries.last().map(|e| e.seq).unwrap_or(0);
    let (head_seq, head_hash) = head.unwrap_or((0, GENESIS_HASH.to_string()));
    if head_seq != last_seq || head_hash != prev {
        return Err(ChainFault::HeadMismatch { head_seq, last_seq });
    }
    for a in anchors {
        let ok = a.seq >= 1
            && entries
                .get((a.seq - 1) as usize)
                .is_some_and(|e| e.hash == a.hash);
        if !ok {
            return Err(ChainFault::AnchorMismatch { seq: a.seq });
        }
    }
    Ok(entries.len())
}

/// One line of the witness file: an anchor as it was made (`seq hash gen_time`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessLine {
    /// The entry anchored.
    pub seq: i64,
    /// That entry's hash.
    pub hash: String,
}

impl WitnessLine {
    /// The line written for an anchor made at `at`.
    pub fn render(seq: i64, hash: &str, at: OffsetDateTime) -> String {
        format!("{seq} {hash} {}\n", at.unix_timestamp())
    }

    /// Lines that do not parse are ignored (a torn last line after a crash).
    pub fn parse_all(text: &str) -> Vec<WitnessLine> {
        text.lines()
            .filter_map(|l| {
                let mut parts = l.split_whitespace();
                let seq = parts.next()?.parse::<i64>().ok()?;
                let hash = parts.next()?;
                (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then(|| {
                    WitnessLine {
                        seq,
                        hash: hash.to_string(),
                    }
                })
            })
            .collect()
    }
}

/// Checks the witness against the chain and its anchors: every witnessed anchor must still be
/// there, over the same hash, and the entry at its position must still have that hash.
pub fn check_witness(
    entries: &[AuditEntry],
    anchors: &[AuditAnchor],
    witness: &[WitnessLine],
) -> Result<(), ChainFault> {
    for w in witness {
        let entry_ok = w.seq >= 1
            && entries
                .get((w.seq - 1) as usize)
                .is_some_and(|e| e.hash == w.hash);
        let anchor_ok = anchors.iter().any(|a| a.seq == w.seq && a.hash == w.hash);
        if !entry_ok || !anchor_ok {
            return Err(ChainFault::WitnessMismatch { seq: w.seq });
        }
    }
    Ok(())
}

/// The first entry that should be anchored but is not: after the newest anchor, older than
/// `deadline_micros`.
pub fn check_coverage(
    entries: &[AuditEntry],
    anchored_up_to: i64,
    deadline_micros: i64,
) -> Result<(), ChainFault> {
    match entries
        .iter()
        .find(|e| e.seq > anchored_up_to && e.at_micros < deadline_micros)
    {
        Some(e) => Err(ChainFault::Unanchored { seq: e.seq }),
        None => Ok(()),
    }
}

/// Now, as audit entries record time (Unix microseconds, UTC).
pub fn now_micros() -> i64 {
    let now = OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1000) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|seq| {
                let event = AuditEvent::new(AuditAction::Sign, "nik:1", AuditResult::Ok)
                    .detail(format!("#{seq}"));
                let hash = entry_hash(&prev, seq, seq * 10, &event);
                let e = AuditEntry {
                    seq,
                    at_micros: seq * 10,
                    event,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                e
            })
            .collect()
    }

    fn head(c: &[AuditEntry]) -> Option<(i64, String)> {
        c.last().map(|e| (e.seq, e.hash.clone()))
    }

    #[test]
    fn the_witness_names_a_dropped_anchor_or_a_truncated_tail() {
        let c = chain(6);
        let at = OffsetDateTime::UNIX_EPOCH;
        let anchor = |seq: i64| AuditAnchor {
            seq,
            hash: c[(seq - 1) as usize].hash.clone(),
            token_der: Vec::new(),
            at,
        };
        let text: String = [3, 6]
            .iter()
            .map(|s| WitnessLine::render(*s, &c[(*s - 1) as usize].hash, at))
            .collect::<String>()
            + "7 torn-line";
        let witness = WitnessLine::parse_all(&text);
        assert_eq!(witness.len(), 2);
        assert_eq!(check_witness(&c, &[anchor(3), anchor(6)], &witness), Ok(()));
        assert_eq!(
            check_witness(&c, &[anchor(3)], &witness),
            Err(ChainFault::WitnessMismatch { seq: 6 })
        );
        assert_eq!(
            check_witness(&c[..4], &[anchor(3)], &witness),
            Err(ChainFault::WitnessMismatch { seq: 6 })
        );
        let mut rewritten = c.clone();
        rewritten[2].hash = "f".repeat(64);
        assert_eq!(
            check_witness(&rewritten, &[anchor(3), anchor(6)], &witness),
            Err(ChainFault::WitnessMismatch { seq: 3 })
        );
    }

    #[test]
    fn old_entries_past_the_last_anchor_are_named() {
        let c = chain(5); // at_micros 10, 20, ... 50
        assert_eq!(check_coverage(&c, 5, 1_000), Ok(()));
        assert_eq!(check_coverage(&c, 3, 35), Ok(()));
        assert_eq!(
            check_coverage(&c, 3, 45),
            Err(ChainFault::Unanchored { seq: 4 })
        );
        assert_eq!(
            check_coverage(&c, 0, 1_000),
            Err(ChainFault::Unanchored { seq: 1 })
        );
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify_chain(&c, head(&c), &[]), Ok(5));
        assert_eq!(verify_chain(&[], None, &[]), Ok(0));
    }

    #[test]
    fn edit_delete_reorder_and_truncation_are_named() {
        let c = chain(5);
        let h = head(&c);
        let mut edited = c.clone();
        edited[2].event.result = "refused".into();
        assert_eq!(
            verify_chain(&edited, h.clone(), &[]),
            Err(ChainFault::Edited { seq: 3 })
        );
        let mut deleted = c.clone();
        deleted.remove(1);
        assert_eq!(
            verify_chain(&deleted, h.clone(), &[]).map_err(|f| f.first_bad_seq()),
            Err(2)
        );
        let mut reordered = c.clone();
        reordered.swap(1, 2);
        assert_eq!(
            verify_chain(&reordered, h.clone(), &[]).map_err(|f| f.first_bad_seq()),
            Err(2)
        );
        let truncated = c[..4].to_vec();
        assert_eq!(
            verify_chain(&truncated, h, &[]),
            Err(ChainFault::HeadMismatch {
                head_seq: 5,
                last_seq: 4
            })
        );
    }

    #[test]
    fn field_boundaries_matter() {
        // "verify" + "c" and "verif" + "yc" must not collide.
        let mut a = AuditEvent::new(AuditAction::Verify, "c", AuditResult::Ok);
        let mut b = AuditEvent::new(AuditAction::Verify, "bc", AuditResult::Ok);
        a.action = "ab".into();
        b.action = "a".into();
        assert_ne!(
            entry_hash(GENESIS_HASH, 1, 0, &a),
            entry_hash(GENESIS_HASH, 1, 0, &b)
        );
    }
}
