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
    Identity(#[from] crate::certs::IdentityError),
    /// An argument is out of range (validity period, serial number, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl From<der::Error> for PkiError {
    fn from(e: der::Error) -> Self {
        PkiError::Asn1(e.to_string())
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, PkiError>;
