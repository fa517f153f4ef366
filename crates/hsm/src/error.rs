//! Error type of the crate.

use std::path::PathBuf;

use cryptoki::error::{Error as CkError, RvError};

/// Errors returned by `sahih-hsm`. Messages never contain the PIN or key material; they may
/// contain the module path, the token label and key ids (which are not secret).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HsmError {
    /// The PKCS#11 module could not be loaded or initialised.
    #[error("cannot load PKCS#11 module {}: {reason}", path.display())]
    Module {
        /// Path of the module (shared library).
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// No initialised token with this label. (SoftHSM only sees tokens that existed when the
    /// module was initialised in this process.)
    #[error("no initialised PKCS#11 token labelled '{0}'")]
    TokenNotFound(String),
    /// The token refused the user PIN (or it differs from the PIN this process already logged
    /// in with).
    #[error("wrong user PIN for PKCS#11 token '{0}'")]
    WrongPin(String),
    /// The user PIN is locked after too many failed attempts.
    #[error("the user PIN of PKCS#11 token '{0}' is locked")]
    PinLocked(String),
    /// The token was already logged in by some other code in this process, so the PIN given
    /// cannot be checked.
    #[error(
        "PKCS#11 token '{0}' is already logged in by other code in this process; cannot verify the PIN"
    )]
    AlreadyLoggedIn(String),
    /// No private key with this CKA_ID (hex) in the token.
    #[error("no private key with id {0} in the PKCS#11 token")]
    KeyNotFound(String),
    /// A key id or key reference is malformed.
    #[error("invalid key id or reference: {0}")]
    InvalidKeyId(String),
    /// An argument is out of range (e.g. an empty or overlong label).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The key in the token is of a type or size this crate does not use.
    #[error("unsupported key in PKCS#11 token: {0}")]
    UnsupportedKey(String),
    /// The token returned data we cannot interpret.
    #[error("malformed data from PKCS#11 token: {0}")]
    Malformed(String),
    /// A PKCS#11 call failed.
    #[error("PKCS#11 {operation} failed: {source}")]
    Pkcs11 {
        /// What we were doing.
        operation: &'static str,
        /// The error from the module (return value and function).
        #[source]
        source: CkError,
    },
    /// A lock was poisoned by a panicking thread.
    #[error("internal lock poisoned")]
    Poisoned,
}

impl HsmError {
    /// Wrap a cryptoki error with the operation it interrupted.
    pub(crate) fn ck(operation: &'static str) -> impl FnOnce(CkError) -> HsmError {
        move |source| HsmError::Pkcs11 { operation, source }
    }

    /// The PKCS#11 return value, if this is a failed PKCS#11 call.
    pub fn rv(&self) -> Option<RvError> {
        match self {
            HsmError::Pkcs11 {
                source: CkError::Pkcs11(rv, _),
                ..
            } => Some(*rv),
            _ => None,
        }
    }
}

impl From<HsmError> for sahih_pki::PkiError {
    fn from(e: HsmError) -> Self {
        sahih_pki::PkiError::Crypto(e.to_string())
    }
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, HsmError>;
