//! Error type of the crate.

/// Errors returned by `sahih-pki`. Messages never contain key material or passphrases.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// Passphrase-sealed key could not be opened: wrong passphrase, wrong associated data
    /// or a modified ciphertext (AES-GCM cannot tell these apart).
    #[error("wrong passphrase (or the sealed key or its context was modified)")]
    WrongPassphrase,
    /// Master-key-sealed key could not be opened: wrong master key, wrong associated data or a
    /// modified ciphertext.
    #[error("cannot unseal key: wrong master key, or the sealed key or its context was modified")]
    UnsealFailed,
    /// The sealed-key text is not in a format we understand.
    #[error("malformed sealed key: {0}")]
    SealedFormat(String),
    /// The master key is malformed (length, hex).
    #[error("invalid master key: {0}")]
    InvalidMasterKey(String),
    /// A cryptographic primitive failed.
    #[error("cryptographic operation failed: {0}")]
    Crypto(String),
    /// Malformed ASN.1/DER/BER.
    #[error("ASN.1 error: {0}")]
    Asn1(String),
    /// A certificate could not be parsed or is unusable for the operation.
    #[error("invalid certificate: {0}")]
    InvalidCertificate(String),
    /// Malformed or unsupported private key.
    #[error("invalid private key: {0}")]
    InvalidKey(String),
    /// Algorithm not supported.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// Malformed CMS structure.
    #[error("invalid CMS: {0}")]
    InvalidCms(String),
    /// Malformed PEM.
    #[error("invalid PEM: {0}")]
    Pem(String),
    /// A value cannot be written into a certificate subject (empty, too long, hidden
    /// control characters, characters its string type cannot carry).
    #[error(transparent)]
    Subject(#[from] crate::subject::SubjectError),
    /// An argument is out of range (validity period, serial number, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A time-stamping request was refused: by us when issuing (status 2 = rejection, with
    /// the RFC 3161 PKIFailureInfo bit to answer with, see [`crate::tsp::rejection_response`]),
    /// or by a remote TSA (its PKIStatus, first failInfo bit and statusString).
    #[error("{}", rejected_message(*.status, *.fail_info, .text))]
    Rejected {
        /// PKIStatus (rejection, waiting, revocation warning/notification).
        status: PkiStatus,
        /// The first PKIFailureInfo bit set, if any.
        fail_info: Option<FailureInfo>,
        /// Explanation (from the TSA's statusString for remote rejections).
        text: String,
    },
}

fn rejected_message(status: PkiStatus, fail_info: Option<FailureInfo>, text: &str) -> String {
    let status_name = status.name();
    let mut m = format!("time-stamp request rejected ({status_name}");
    if let Some(fail) = fail_info {
        m.push_str(", ");
        m.push_str(fail.name());
    }
    m.push(')');
    if !text.is_empty() {
        m.push_str(": ");
        m.push_str(text);
    }
    m
}

impl From<der::Error> for PkiError {
    fn from(e: der::Error) -> Self {
        PkiError::Asn1(e.to_string())
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, PkiError>;

/// PKIStatus of a time-stamping answer (RFC 3161 2.4.2, RFC 4210).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PkiStatus {
    /// 0: the token is present, as requested.
    Granted,
    /// 1: the token is present, with modifications the TSA made to the request.
    GrantedWithMods,
    /// 2: the request was refused (see the failure info).
    Rejection,
    /// 3: the request is not yet processed; a later answer may follow.
    Waiting,
    /// 4: the TSA warns that a revocation is imminent.
    RevocationWarning,
    /// 5: the TSA notifies that a revocation has occurred.
    RevocationNotification,
    /// A value outside the standard (a remote TSA may send anything).
    Unknown(u8),
}

impl PkiStatus {
    /// The status for an INTEGER value on the wire.
    pub fn from_code(code: u8) -> Self {
        match code {
            0 => Self::Granted,
            1 => Self::GrantedWithMods,
            2 => Self::Rejection,
            3 => Self::Waiting,
            4 => Self::RevocationWarning,
            5 => Self::RevocationNotification,
            other => Self::Unknown(other),
        }
    }

    /// The INTEGER value on the wire.
    pub fn code(self) -> u8 {
        match self {
            Self::Granted => 0,
            Self::GrantedWithMods => 1,
            Self::Rejection => 2,
            Self::Waiting => 3,
            Self::RevocationWarning => 4,
            Self::RevocationNotification => 5,
            Self::Unknown(code) => code,
        }
    }

    /// Whether a token comes with it.
    pub fn is_granted(self) -> bool {
        matches!(self, Self::Granted | Self::GrantedWithMods)
    }

    /// The ASN.1 name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Granted => "granted",
            Self::GrantedWithMods => "grantedWithMods",
            Self::Rejection => "rejection",
            Self::Waiting => "waiting",
            Self::RevocationWarning => "revocationWarning",
            Self::RevocationNotification => "revocationNotification",
            Self::Unknown(_) => "unknown status",
        }
    }
}

/// A PKIFailureInfo bit (RFC 3161 2.4.2): why a time-stamping request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureInfo {
    /// Unrecognized or unsupported algorithm identifier.
    BadAlg,
    /// Transaction not permitted or supported.
    BadRequest,
    /// The data submitted has the wrong format.
    BadDataFormat,
    /// The TSA's time source is not available.
    TimeNotAvailable,
    /// The requested TSA policy is not supported.
    UnacceptedPolicy,
    /// The requested extension is not supported.
    UnacceptedExtension,
    /// The additional information requested is not available.
    AddInfoNotAvailable,
    /// The request cannot be handled due to a system failure.
    SystemFailure,
    /// Another bit (a remote TSA may set any).
    Unknown(u8),
}

impl FailureInfo {
    /// The failure for a bit number of the BIT STRING.
    pub fn from_bit(bit: u8) -> Self {
        match bit {
            0 => Self::BadAlg,
            2 => Self::BadRequest,
            5 => Self::BadDataFormat,
            14 => Self::TimeNotAvailable,
            15 => Self::UnacceptedPolicy,
            16 => Self::UnacceptedExtension,
            17 => Self::AddInfoNotAvailable,
            25 => Self::SystemFailure,
            other => Self::Unknown(other),
        }
    }

    /// The bit number in the BIT STRING.
    pub fn bit(self) -> u8 {
        match self {
            Self::BadAlg => 0,
            Self::BadRequest => 2,
            Self::BadDataFormat => 5,
            Self::TimeNotAvailable => 14,
            Self::UnacceptedPolicy => 15,
            Self::UnacceptedExtension => 16,
            Self::AddInfoNotAvailable => 17,
            Self::SystemFailure => 25,
            Self::Unknown(bit) => bit,
        }
    }

    /// The ASN.1 name.
    pub fn name(self) -> &'static str {
        match self {
            Self::BadAlg => "badAlg",
            Self::BadRequest => "badRequest",
            Self::BadDataFormat => "badDataFormat",
            Self::TimeNotAvailable => "timeNotAvailable",
            Self::UnacceptedPolicy => "unacceptedPolicy",
            Self::UnacceptedExtension => "unacceptedExtension",
            Self::AddInfoNotAvailable => "addInfoNotAvailable",
            Self::SystemFailure => "systemFailure",
            Self::Unknown(_) => "unknown failInfo",
        }
    }
}
