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
    /// Identity data (NIK, NIP, e-mail, ...) rejected.
    #[error(transparent)]
    Identity(#[from] crate::identity::IdentityError),
    /// An argument is out of range (validity period, serial number, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A time-stamping request was refused: by us when issuing (status 2 = rejection, with
    /// the RFC 3161 PKIFailureInfo bit to answer with, see [`crate::tsp::rejection_response`]),
    /// or by a remote TSA (its PKIStatus, first failInfo bit and statusString).
    #[error("{}", rejected_message(*.status, *.fail_info, .text))]
    Rejected {
        /// PKIStatus (2 = rejection, 3 = waiting, 4/5 = revocation warning/notification).
        status: u8,
        /// PKIFailureInfo bit (0 badAlg, 2 badRequest, 5 badDataFormat, 14 timeNotAvailable,
        /// 15 unacceptedPolicy, 16 unacceptedExtension, 17 addInfoNotAvailable,
        /// 25 systemFailure).
        fail_info: Option<u8>,
        /// Explanation (from the TSA's statusString for remote rejections).
        text: String,
    },
}

fn rejected_message(status: u8, fail_info: Option<u8>, text: &str) -> String {
    let status_name = match status {
        0 => "granted",
        1 => "grantedWithMods",
        2 => "rejection",
        3 => "waiting",
        4 => "revocationWarning",
        5 => "revocationNotification",
        _ => "unknown status",
    };
    let mut m = format!("time-stamp request rejected ({status_name}");
    if let Some(bit) = fail_info {
        m.push_str(", ");
        m.push_str(fail_info_name(bit));
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

/// PKIFailureInfo badAlg: unrecognized or unsupported algorithm identifier.
pub const FAIL_BAD_ALG: u8 = 0;
/// PKIFailureInfo badRequest: transaction not permitted or supported.
pub const FAIL_BAD_REQUEST: u8 = 2;
/// PKIFailureInfo badDataFormat: the data submitted has the wrong format.
pub const FAIL_BAD_DATA_FORMAT: u8 = 5;
/// PKIFailureInfo timeNotAvailable: the TSA's time source is not available.
pub const FAIL_TIME_NOT_AVAILABLE: u8 = 14;
/// PKIFailureInfo unacceptedPolicy: the requested TSA policy is not supported.
pub const FAIL_UNACCEPTED_POLICY: u8 = 15;
/// PKIFailureInfo unacceptedExtension: the requested extension is not supported.
pub const FAIL_UNACCEPTED_EXTENSION: u8 = 16;
/// PKIFailureInfo addInfoNotAvailable.
pub const FAIL_ADD_INFO_NOT_AVAILABLE: u8 = 17;
/// PKIFailureInfo systemFailure.
pub const FAIL_SYSTEM_FAILURE: u8 = 25;

/// Name of a PKIFailureInfo bit (RFC 3161 2.4.2).
pub fn fail_info_name(bit: u8) -> &'static str {
    match bit {
        FAIL_BAD_ALG => "badAlg",
        FAIL_BAD_REQUEST => "badRequest",
        FAIL_BAD_DATA_FORMAT => "badDataFormat",
        FAIL_TIME_NOT_AVAILABLE => "timeNotAvailable",
        FAIL_UNACCEPTED_POLICY => "unacceptedPolicy",
        FAIL_UNACCEPTED_EXTENSION => "unacceptedExtension",
        FAIL_ADD_INFO_NOT_AVAILABLE => "addInfoNotAvailable",
        FAIL_SYSTEM_FAILURE => "systemFailure",
        _ => "unknown failInfo",
    }
}
