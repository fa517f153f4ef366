//! `sahih-hsm`: officials' and CA signing keys inside a PKCS#11 token (an HSM, or SoftHSM2
//! in tests).
//!
//! Owns: loading a PKCS#11 module, finding a token by label and logging in as its user
//! ([`Pkcs11Backend`]), generating RSA-2048/3072 and P-256 key pairs inside the token as
//! non-extractable, sensitive token objects, finding them again by CKA_ID, their public keys
//! as SubjectPublicKeyInfo DER, signing through `sahih_pki::SignatureProducer` ([`HsmKey`]),
//! reading their protection attributes and deleting them. Key references stored elsewhere
//! are `pkcs11:id=<hex>` ([`HsmKey::reference`], [`parse_reference`]).
//!
//! Must not know: officials' passphrases, the database, PDF, HTTP or the signing workflow.
//! It never logs; the token PIN is kept zeroized and never appears in `Debug` output or
//! error messages.
//!
//! Trade-offs against software keys sealed with a passphrase or master key (`sahih-pki`):
//! - Extraction: a sealed key is decrypted into process memory on every use, so a memory
//!   dump or a stolen database plus master key reveals it; a token key never leaves the
//!   token (CKA_SENSITIVE, CKA_EXTRACTABLE false), an attacker can only use it while in.
//! - Backup: a sealed key is backed up with the database; a token key exists only in the
//!   token, so backup means the vendor's mechanism (wrapped export to a twin HSM, or for
//!   SoftHSM copying its token directory) and losing the token loses the keys: officials'
//!   keys can be re-issued, the CA key needs the vendor's backup.
//! - Performance: every signature is a PKCS#11 call (SoftHSM2, in-process: about 0.5-1.5 ms
//!   per RSA-2048 and under 0.1 ms per P-256 signature; generation 0.1-0.5 s as it writes
//!   the token files); a network HSM adds a round trip but offloads RSA. Sessions are
//!   pooled so threads sign concurrently.
//! - Authorisation: the token PIN is one secret shared by the whole service, so the token
//!   alone would let the service sign for any official; each official's passphrase verifier
//!   (and lockout) is still needed in front of [`HsmKey`] to say *who* may use which key.

#![forbid(unsafe_code)]

mod asn1;
mod backend;
mod error;
mod key;

pub use backend::Pkcs11Backend;
pub use error::{HsmError, Result};
pub use key::{HsmKey, KEY_ID_LEN, KeyProtection, parse_reference};

// Both are shared across threads (signing from a worker pool).
const _: fn() = || {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Pkcs11Backend>();
    send_sync::<HsmKey>();
    send_sync::<HsmError>();
};
