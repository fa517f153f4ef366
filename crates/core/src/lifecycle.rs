//! The lifecycle of an official: their status in the ECS vocabulary, the actions that move it,
//! and the one table ([`transition`]) that says which action is allowed in which status, so no
//! state is ever skipped. Also the rule for reasons (alasan) kept with a decision.
//!
//! Must not know: how requests are stored or decided (`ra`), HTTP, or SQL.

use crate::{CoreError, Lang};

/// An official's status, in the ECS vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Nobody on file under this NIK.
    NotRegistered,
    /// Registered (request recorded) but not yet submitted for verification: evidence missing,
    /// or sent back by the verifikator.
    New,
    /// Submitted with complete evidence; a verifikator decides next.
    WaitingForVerification,
    /// Approved; waiting for the official to activate (choose a passphrase).
    NoCertificate,
    /// The certificate is valid: the official may sign.
    Issue,
    /// The certificate is suspended (on hold) until resumed.
    Suspend,
    /// The certificate is revoked for good.
    Revoke,
    /// The certificate is past its validity.
    Expired,
    /// A renewal, change of position or passphrase reset is in progress.
    Renew,
}

impl Status {
    /// The ECS word (`ISSUE`, `WAITING_FOR_VERIFICATION`, ...), as stored and answered.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotRegistered => "NOT_REGISTERED",
            Self::New => "NEW",
            Self::WaitingForVerification => "WAITING_FOR_VERIFICATION",
            Self::NoCertificate => "NO_CERTIFICATE",
            Self::Issue => "ISSUE",
            Self::Suspend => "SUSPEND",
            Self::Revoke => "REVOKE",
            Self::Expired => "EXPIRED",
            Self::Renew => "RENEW",
        }
    }

    /// The status written as `s`; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "NOT_REGISTERED" => Self::NotRegistered,
            "NEW" => Self::New,
            "WAITING_FOR_VERIFICATION" => Self::WaitingForVerification,
            "NO_CERTIFICATE" => Self::NoCertificate,
            "ISSUE" => Self::Issue,
            "SUSPEND" => Self::Suspend,
            "REVOKE" => Self::Revoke,
            "EXPIRED" => Self::Expired,
            "RENEW" => Self::Renew,
            _ => return None,
        })
    }

    /// The ECS status code (1110 and 1111 from the manual; the rest are Sahih's, see
    /// docs/ECS.md).
    pub fn ecs_code(self) -> u32 {
        match self {
            Self::NotRegistered => 1110,
            Self::Issue => 1111,
            Self::NoCertificate => 1112,
            Self::Revoke => 1113,
            Self::Expired => 1114,
            Self::Suspend => 1115,
            Self::New => 1116,
            Self::WaitingForVerification => 1117,
            Self::Renew => 1118,
        }
    }

    /// The status shown to officials and apps.
    pub fn message(self, lang: Lang) -> &'static str {
        let id = lang == Lang::Id;
        match self {
            Self::NotRegistered if id => "Pengguna belum terdaftar",
            Self::NotRegistered => "User is not registered",
            Self::New if id => "Permohonan terdaftar, belum diajukan untuk verifikasi",
            Self::New => "Request registered, not yet submitted for verification",
            Self::WaitingForVerification if id => "Permohonan sedang diverifikasi",
            Self::WaitingForVerification => "Request is being verified",
            Self::NoCertificate if id => "Disetujui; menunggu aktivasi oleh pemilik",
            Self::NoCertificate => "Approved; waiting for the official to activate",
            Self::Issue if id => "Sertifikat aktif",
            Self::Issue => "Certificate is active",
            Self::Suspend if id => "Sertifikat ditangguhkan sementara",
            Self::Suspend => "Certificate is suspended",
            Self::Revoke if id => "Sertifikat telah dicabut",
            Self::Revoke => "Certificate was revoked",
            Self::Expired if id => "Sertifikat kedaluwarsa",
            Self::Expired => "Certificate expired",
            Self::Renew if id => "Sertifikat sedang diperbarui",
            Self::Renew => "Certificate is being renewed",
        }
    }
}

/// What happens to an official.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// An operator records an enrollment request.
    Register,
    /// The request, with its evidence complete, goes to the verifikator.
    Submit,
    /// A verifikator approves the request: an activation link goes to the official.
    Approve,
    /// A verifikator rejects the request, with a reason.
    Reject,
    /// The official chose a passphrase; key and certificate are made.
    Activate,
    /// The certificate is put on hold.
    Suspend,
    /// A hold is lifted.
    Resume,
    /// The certificate is revoked.
    Revoke,
    /// An operator asks for a renewal, a re-issue after a change of position or name, or a
    /// passphrase reset.
    RequestRenewal,
}

impl Action {
    /// The name recorded in audit entries (`ra.<action>`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Submit => "submit",
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Activate => "activate",
            Self::Suspend => "suspend",
            Self::Resume => "resume",
            Self::Revoke => "revoke",
            Self::RequestRenewal => "request-renewal",
        }
    }
}

/// Where an action leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// An RA stage, stored with the official.
    Stage(Status),
    /// The status follows from the newest certificate again (ISSUE, SUSPEND, REVOKE, EXPIRED).
    FromCertificate,
}

/// The lifecycle: which action is allowed in which status. Anything else is refused, so no
/// state is ever skipped (e.g. nobody activates a request that was not approved).
pub fn transition(from: Status, action: Action) -> Result<Target, CoreError> {
    use Action as A;
    use Status as S;
    let to = match (from, action) {
        (S::NotRegistered, A::Register) => Target::Stage(S::New),
        (S::New, A::Submit) => Target::Stage(S::WaitingForVerification),
        (S::WaitingForVerification, A::Approve) => Target::Stage(S::NoCertificate),
        (S::WaitingForVerification, A::Reject) => Target::Stage(S::New),
        (S::NoCertificate, A::Activate) => Target::FromCertificate,
        // Suspending during a renewal closes the renewal (see `Sahih::set_hold`).
        (S::Issue | S::Renew, A::Suspend) => Target::FromCertificate,
        (S::Suspend, A::Resume) => Target::FromCertificate,
        (S::Issue | S::Suspend | S::Expired | S::Renew, A::Revoke) => Target::FromCertificate,
        (S::Issue | S::Expired | S::Revoke, A::RequestRenewal) => Target::Stage(S::Renew),
        // A renewal is decided and activated while the official stays in RENEW.
        (S::Renew, A::Approve) => Target::Stage(S::Renew),
        (S::Renew, A::Reject | A::Activate) => Target::FromCertificate,
        _ => {
            return Err(CoreError::InvalidTransition {
                from: from.as_str(),
                action: action.as_str(),
            });
        }
    };
    Ok(to)
}

/// The longest reason (alasan) kept with a decision or lifecycle step: a paragraph, not a file
/// (security finding 14: a 5 MiB reason grew the database by 15 MiB).
pub const MAX_REASON_CHARS: usize = 2000;

/// A reason fits in [`MAX_REASON_CHARS`] and carries no control or bidirectional characters.
pub fn check_reason(reason: &str) -> Result<(), CoreError> {
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(CoreError::invalid(
            format!("alasan lebih dari {MAX_REASON_CHARS} karakter"),
            format!("the reason (alasan) is longer than {MAX_REASON_CHARS} characters"),
        ));
    }
    if reason
        .chars()
        .any(|c| sahih_pki::is_hidden_control(c) && c != '\n')
    {
        return Err(CoreError::invalid(
            "alasan memuat karakter kendali atau karakter arah teks",
            "the reason (alasan) contains control or bidirectional characters",
        ));
    }
    Ok(())
}
