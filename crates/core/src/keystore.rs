//! Where officials' keys live: sealed in the database under the official's passphrase
//! (software, the embedded default) or generated inside a PKCS#11 token (HSM, `[keys] backend =
//! "pkcs11"`). Either way the official's passphrase gates every use: for a token key the
//! database keeps the key's reference sealed under the passphrase (Argon2id + AES-256-GCM), so
//! only the right passphrase yields the reference, a wrong one counts towards the lockout as
//! before, and a reference swapped in the database fails authentication.
//!
//! Must not know: the database or HTTP.

use crate::CoreError;
use crate::config::Config;
use sahih_hsm::{HsmKey, Pkcs11Backend};
use sahih_pki::{KdfParams, KeyAlgorithm, PkiError, PrivateKey, SignatureProducer};
use std::sync::Arc;

/// The PIN of the token's user; only from the environment, never from a file or the database.
pub const HSM_PIN_ENV: &str = "SAHIH_HSM_PIN";

/// The token label of an official's keys (all their keys over time share it).
pub fn official_key_label(nik: &str) -> String {
    format!("sahih-official-{nik}")
}

/// The token label of a CA key.
pub fn ca_key_label(kind: crate::store::CaKind, generation: i64) -> String {
    format!("sahih-ca-{kind}-{generation}")
}

/// The associated data a CA key is sealed with under the master key: binds the sealed key to
/// its CA (kind and generation), so a key moved to another row does not open.
pub fn ca_aad(kind: crate::store::CaKind, generation: i64) -> Vec<u8> {
    format!("sahih-ca-key:{kind}:{generation}").into_bytes()
}

/// A key ready to sign.
pub enum SigningKey {
    /// A key in memory (opened from its sealed form; zeroized on drop).
    Software(PrivateKey),
    /// A key inside the PKCS#11 token.
    Token(HsmKey),
}

impl SigningKey {
    /// Its algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match self {
            Self::Software(k) => k.algorithm(),
            Self::Token(k) => k.algorithm(),
        }
    }
    /// Its SubjectPublicKeyInfo (DER), as a certificate for it carries.
    pub fn public_key_spki_der(&self) -> Vec<u8> {
        match self {
            Self::Software(k) => k.public_key_spki_der(),
            Self::Token(k) => k.public_key_spki_der(),
        }
    }
}

impl SignatureProducer for SigningKey {
    fn signature_algorithm(&self) -> spki::AlgorithmIdentifierOwned {
        match self {
            Self::Software(k) => k.signature_algorithm(),
            Self::Token(k) => k.signature_algorithm(),
        }
    }
    fn sign(&self, message: &[u8]) -> sahih_pki::Result<Vec<u8>> {
        match self {
            Self::Software(k) => k.sign(message),
            Self::Token(k) => k.sign(message),
        }
    }
}

/// The configured key backend.
#[derive(Clone, Default)]
pub struct KeyBackend {
    token: Option<Arc<Pkcs11Backend>>,
}

impl std::fmt::Debug for KeyBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.token {
            None => f.write_str("KeyBackend::Software"),
            Some(t) => write!(f, "KeyBackend::Pkcs11({})", t.token_label()),
        }
    }
}

fn hsm_error(e: sahih_hsm::HsmError) -> CoreError {
    CoreError::Config(format!("PKCS#11 token: {e}"))
}

const TOKEN_REFERENCE_PREFIX: &[u8] = b"pkcs11:";

impl KeyBackend {
    /// Software keys (the embedded default).
    pub fn software() -> Self {
        Self { token: None }
    }

    /// The backend named in `[keys] backend`: "software" or "pkcs11" (module and token label
    /// from `[hsm]`, the PIN from `SAHIH_HSM_PIN`).
    pub fn from_config(config: &Config) -> Result<Self, CoreError> {
        match config.keys.backend {
            crate::config::KeyBackendKind::Software => Ok(Self::software()),
            crate::config::KeyBackendKind::Pkcs11 => {
                let pin = zeroize::Zeroizing::new(std::env::var(HSM_PIN_ENV).map_err(|_| {
                    CoreError::Config(format!(
                        "[keys] backend = \"pkcs11\" needs the token PIN in {HSM_PIN_ENV}"
                    ))
                })?);
                let backend =
                    Pkcs11Backend::open(&config.hsm.module, &config.hsm.token_label, &pin)
                        .map_err(hsm_error)?;
                Ok(Self {
                    token: Some(Arc::new(backend)),
                })
            }
        }
    }

    /// Whether keys are made in a PKCS#11 token.
    pub fn is_token(&self) -> bool {
        self.token.is_some()
    }

    /// The PKCS#11 token, when keys are made there.
    pub fn token(&self) -> Option<&Pkcs11Backend> {
        self.token.as_deref()
    }

    /// A new key: in the token (non-extractable, generated there) or in memory.
    pub fn generate(&self, alg: KeyAlgorithm, label: &str) -> Result<SigningKey, CoreError> {
        match &self.token {
            None => Ok(SigningKey::Software(PrivateKey::generate(alg)?)),
            Some(t) => Ok(SigningKey::Token(
                t.generate(alg, label).map_err(hsm_error)?,
            )),
        }
    }

    /// Destroys the token keys labelled `label` whose public key is `spki` (the key of a
    /// revoked certificate, or one made for an activation that lost a race); returns how many.
    /// Software keys are nothing to destroy (their sealed copy goes with the certificate row).
    pub fn destroy_matching(&self, label: &str, spki: &[u8]) -> Result<usize, CoreError> {
        let Some(token) = &self.token else {
            return Ok(0);
        };
        let mut n = 0;
        for key in token.keys_labelled(label).map_err(hsm_error)? {
            if key.public_key_spki_der() == spki {
                token.destroy(&key.id_hex()).map_err(hsm_error)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// What the database keeps for an official's key: the sealed PKCS#8 key, or the sealed
    /// token reference.
    pub fn seal_for_official(
        &self,
        key: &SigningKey,
        passphrase: &[u8],
        aad: &[u8],
    ) -> Result<String, CoreError> {
        let params = KdfParams::default();
        Ok(match key {
            SigningKey::Software(k) => {
                sahih_pki::seal_with_passphrase(k, passphrase, aad, &params)?
            }
            SigningKey::Token(k) => sahih_pki::seal_payload_with_passphrase(
                k.reference().as_bytes(),
                passphrase,
                aad,
                &params,
            )?,
        })
    }

    /// Opens an official's key with their passphrase ([`PkiError::WrongPassphrase`] when
    /// wrong, whichever backend holds the key).
    pub fn unseal_for_official(
        &self,
        sealed: &str,
        passphrase: &[u8],
        aad: &[u8],
    ) -> Result<SigningKey, CoreError> {
        let payload = sahih_pki::unseal_payload_with_passphrase(sealed, passphrase, aad)?;
        if payload.starts_with(TOKEN_REFERENCE_PREFIX) {
            let reference = std::str::from_utf8(&payload)
                .ok()
                .and_then(sahih_hsm::parse_reference)
                .ok_or_else(|| {
                    CoreError::Pki(PkiError::SealedFormat("token key reference".into()))
                })?;
            let token = self.token.as_ref().ok_or_else(|| {
                CoreError::Config(
                    "this key is in a PKCS#11 token, but [keys] backend is not pkcs11".into(),
                )
            })?;
            return Ok(SigningKey::Token(token.key(&reference).map_err(hsm_error)?));
        }
        Ok(SigningKey::Software(PrivateKey::from_pkcs8_der(&payload)?))
    }
}

/// Institutional e-seal keys: used by systems on behalf of an institution, not by a person, so
/// no passphrase guards them. A software key is sealed under the master key (like the CA keys);
/// a key in a PKCS#11 token is kept as its plain reference (the token's PIN guards the key,
/// and the caller checks that the key it gets matches the seal's certificate, so a reference
/// swapped in the database cannot sign under the seal's name).
impl KeyBackend {
    /// What the database keeps for a seal's key.
    pub fn seal_with_master(
        &self,
        key: &SigningKey,
        master: &sahih_pki::MasterKey,
        aad: &[u8],
    ) -> Result<String, CoreError> {
        Ok(match key {
            SigningKey::Software(k) => sahih_pki::seal_with_master_key(k, master, aad)?,
            SigningKey::Token(k) => k.reference(),
        })
    }

    /// Opens a seal's key stored by [`KeyBackend::seal_with_master`].
    pub fn unseal_with_master(
        &self,
        stored: &str,
        master: &sahih_pki::MasterKey,
        aad: &[u8],
    ) -> Result<SigningKey, CoreError> {
        if stored.as_bytes().starts_with(TOKEN_REFERENCE_PREFIX) {
            let reference = sahih_hsm::parse_reference(stored).ok_or_else(|| {
                CoreError::Pki(PkiError::SealedFormat("token key reference".into()))
            })?;
            let token = self.token.as_ref().ok_or_else(|| {
                CoreError::Config(
                    "this key is in a PKCS#11 token, but [keys] backend is not pkcs11".into(),
                )
            })?;
            return Ok(SigningKey::Token(token.key(&reference).map_err(hsm_error)?));
        }
        Ok(SigningKey::Software(sahih_pki::unseal_with_master_key(
            stored, master, aad,
        )?))
    }
}
