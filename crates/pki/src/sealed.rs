//! Private keys encrypted at rest.
//!
//! Two forms, both self-describing text safe for a database column:
//!
//! ```text
//! sahih-sealed-v1$argon2id$m=19456,t=2,p=1$<salt b64>$<nonce b64>$<ciphertext b64>
//! sahih-sealed-v1$master$$$<nonce b64>$<ciphertext b64>
//! ```
//!
//! Base64 is the standard alphabet without padding. The key-encryption key is Argon2id output
//! (32 bytes, random 16-byte salt) or the 32-byte master key; the cipher is AES-256-GCM with a
//! random 12-byte nonce. The AEAD associated data binds the header (version, KDF, parameters,
//! salt) and the caller's `aad` (e.g. the key's database id), so a sealed key copied to
//! another row, or with edited parameters, does not open. Derived keys are zeroized.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use zeroize::{Zeroize, Zeroizing};

use crate::keys::PrivateKey;
use crate::{PkiError, Result};

const PREFIX: &str = "sahih-sealed-v1";
const SALT_LEN: usize = 16;
const KEY_LEN: usize = 32;
/// Upper bounds accepted when unsealing (a tampered row must not make us allocate 100 GB).
const MAX_M_KIB: u32 = 1024 * 1024;
const MAX_T: u32 = 100;
const MAX_P: u32 = 64;

/// A 32-byte master key (e.g. from an environment variable or a file), zeroized on drop.
#[derive(Clone)]
pub struct MasterKey([u8; KEY_LEN]);

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    /// A fresh random master key.
    pub fn generate() -> Self {
        let mut k = [0u8; KEY_LEN];
        // AWS-LC's RAND_bytes aborts the process rather than report failure, so this loop
        // never spins in practice; it only guarantees we never return an unfilled key.
        while aws_lc_rs::rand::fill(&mut k).is_err() {}
        MasterKey(k)
    }

    /// From exactly 32 bytes.
    pub fn from_bytes(b: &[u8]) -> Result<Self> {
        let arr: [u8; KEY_LEN] = b
            .try_into()
            .map_err(|_| PkiError::InvalidMasterKey(format!("expected {KEY_LEN} bytes")))?;
        Ok(MasterKey(arr))
    }

    /// Lowercase hex (64 characters), zeroized on drop.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0))
    }

    /// From 64 hex characters (surrounding whitespace ignored).
    pub fn from_hex(s: &str) -> Result<Self> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        hex::decode_to_slice(s.trim(), &mut bytes[..]).map_err(|_| {
            PkiError::InvalidMasterKey(format!("expected {} hex characters", KEY_LEN * 2))
        })?;
        Ok(MasterKey(*bytes))
    }

    fn bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Iterations.
    pub t: u32,
    /// Parallelism.
    pub p: u32,
}

impl Default for KdfParams {
    /// OWASP minimum for Argon2id: m=19456 KiB (19 MiB), t=2, p=1.
    fn default() -> Self {
        KdfParams {
            m_kib: 19456,
            t: 2,
            p: 1,
        }
    }
}

fn derive_key(passphrase: &[u8], salt: &[u8], params: &KdfParams) -> Result<Zeroizing<[u8; 32]>> {
    let p = argon2::Params::new(params.m_kib, params.t, params.p, Some(KEY_LEN))
        .map_err(|e| PkiError::InvalidArgument(format!("Argon2 parameters: {e}")))?;
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p);
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    a.hash_password_into(passphrase, salt, &mut out[..])
        .map_err(|e| PkiError::Crypto(format!("Argon2id: {e}")))?;
    Ok(out)
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    aws_lc_rs::rand::fill(&mut b).map_err(|_| PkiError::Crypto("random generator".into()))?;
    Ok(b)
}

/// Associated data: length-prefixed header, then the caller's aad.
fn full_aad(header: &str, aad: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + header.len() + aad.len());
    v.extend_from_slice(&(header.len() as u64).to_be_bytes());
    v.extend_from_slice(header.as_bytes());
    v.extend_from_slice(aad);
    v
}

fn aead_seal(key: &[u8; KEY_LEN], plaintext: &[u8], aad: &[u8]) -> Result<([u8; 12], Vec<u8>)> {
    let nonce: [u8; NONCE_LEN] = random()?;
    let k = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, key).map_err(|_| PkiError::Crypto("AES key".into()))?,
    );
    let mut buf = plaintext.to_vec();
    let res = k.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut buf,
    );
    if res.is_err() {
        buf.zeroize();
        return Err(PkiError::Crypto("AES-GCM seal".into()));
    }
    Ok((nonce, buf))
}

/// Open; `None` on authentication failure.
fn aead_open(
    key: &[u8; KEY_LEN],
    nonce: &[u8],
    ciphertext: &[u8],
    aad: &[u8],
) -> Result<Option<Zeroizing<Vec<u8>>>> {
    let nonce: [u8; NONCE_LEN] = nonce
        .try_into()
        .map_err(|_| PkiError::SealedFormat("nonce length".into()))?;
    let k = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, key).map_err(|_| PkiError::Crypto("AES key".into()))?,
    );
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    match k.open_in_place(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(aad),
        &mut buf,
    ) {
        Ok(pt) => {
            let len = pt.len();
            buf.truncate(len);
            Ok(Some(buf))
        }
        Err(_) => Ok(None),
    }
}

struct Parts<'a> {
    kind: &'a str,
    params: &'a str,
    salt: &'a str,
    nonce: &'a str,
    ct: &'a str,
}

fn split(sealed: &str) -> Result<Parts<'_>> {
    let fields: Vec<&str> = sealed.trim().split('$').collect();
    let [prefix, kind, params, salt, nonce, ct] = fields.as_slice() else {
        return Err(PkiError::SealedFormat(
            "expected 6 '$'-separated fields".into(),
        ));
    };
    if *prefix != PREFIX {
        return Err(PkiError::SealedFormat("unknown format version".into()));
    }
    Ok(Parts {
        kind,
        params,
        salt,
        nonce,
        ct,
    })
}

fn b64(s: &str, what: &str) -> Result<Vec<u8>> {
    B64.decode(s)
        .map_err(|_| PkiError::SealedFormat(format!("{what} is not base64")))
}

fn parse_params(s: &str) -> Result<KdfParams> {
    let mut m = None;
    let mut t = None;
    let mut p = None;
    for kv in s.split(',') {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| PkiError::SealedFormat("KDF parameters".into()))?;
        let v: u32 = v
            .parse()
            .map_err(|_| PkiError::SealedFormat("KDF parameter value".into()))?;
        match k {
            "m" => m = Some(v),
            "t" => t = Some(v),
            "p" => p = Some(v),
            _ => return Err(PkiError::SealedFormat("unknown KDF parameter".into())),
        }
    }
    match (m, t, p) {
        (Some(m_kib), Some(t), Some(p)) => {
            if m_kib > MAX_M_KIB || t > MAX_T || p > MAX_P || m_kib == 0 || t == 0 || p == 0 {
                return Err(PkiError::SealedFormat("KDF parameters out of range".into()));
            }
            Ok(KdfParams { m_kib, t, p })
        }
        _ => Err(PkiError::SealedFormat("missing KDF parameter".into())),
    }
}

/// Seal a key with a passphrase (Argon2id -> AES-256-GCM).
pub fn seal_with_passphrase(
    key: &PrivateKey,
    passphrase: &[u8],
    aad: &[u8],
    params: &KdfParams,
) -> Result<String> {
    seal_payload_with_passphrase(key.pkcs8_der(), passphrase, aad, params)
}

/// Seal any secret payload with a passphrase, in the same format as a sealed key. Used for
/// keys held in a PKCS#11 token: the sealed payload is the token key's reference, so only the
/// right passphrase yields it, and a swapped reference fails authentication.
pub fn seal_payload_with_passphrase(
    payload: &[u8],
    passphrase: &[u8],
    aad: &[u8],
    params: &KdfParams,
) -> Result<String> {
    let salt: [u8; SALT_LEN] = random()?;
    let kek = derive_key(passphrase, &salt, params)?;
    let header = format!(
        "{PREFIX}$argon2id$m={},t={},p={}$",
        params.m_kib, params.t, params.p
    );
    let salt_b64 = B64.encode(salt);
    let header_full = format!("{header}{salt_b64}");
    let (nonce, ct) = aead_seal(&kek, payload, &full_aad(&header_full, aad))?;
    Ok(format!(
        "{header_full}${}${}",
        B64.encode(nonce),
        B64.encode(ct)
    ))
}

/// Open a passphrase-sealed key. [`PkiError::WrongPassphrase`] when authentication fails.
pub fn unseal_with_passphrase(sealed: &str, passphrase: &[u8], aad: &[u8]) -> Result<PrivateKey> {
    let pt = unseal_payload_with_passphrase(sealed, passphrase, aad)?;
    PrivateKey::from_pkcs8_der(&pt)
}

/// Open a passphrase-sealed payload. [`PkiError::WrongPassphrase`] when authentication fails.
pub fn unseal_payload_with_passphrase(
    sealed: &str,
    passphrase: &[u8],
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let parts = split(sealed)?;
    if parts.kind != "argon2id" {
        return Err(PkiError::SealedFormat("not a passphrase-sealed key".into()));
    }
    let params = parse_params(parts.params)?;
    let salt = b64(parts.salt, "salt")?;
    if salt.len() < 8 || salt.len() > 64 {
        return Err(PkiError::SealedFormat("salt length".into()));
    }
    let nonce = b64(parts.nonce, "nonce")?;
    let ct = b64(parts.ct, "ciphertext")?;
    let kek = derive_key(passphrase, &salt, &params)?;
    let header_full = format!("{PREFIX}$argon2id${}${}", parts.params, parts.salt);
    match aead_open(&kek, &nonce, &ct, &full_aad(&header_full, aad))? {
        Some(pt) => Ok(pt),
        None => Err(PkiError::WrongPassphrase),
    }
}

/// Seal a key with the master key (AES-256-GCM).
pub fn seal_with_master_key(key: &PrivateKey, master: &MasterKey, aad: &[u8]) -> Result<String> {
    seal_payload_with_master_key(key.pkcs8_der(), master, aad)
}

/// Open a master-key-sealed key. [`PkiError::UnsealFailed`] when authentication fails.
pub fn unseal_with_master_key(sealed: &str, master: &MasterKey, aad: &[u8]) -> Result<PrivateKey> {
    let pt = unseal_payload_with_master_key(sealed, master, aad)?;
    PrivateKey::from_pkcs8_der(&pt)
}

/// Seal any secret payload with the master key (AES-256-GCM), e.g. a message that carries an
/// activation link until it is delivered.
pub fn seal_payload_with_master_key(
    payload: &[u8],
    master: &MasterKey,
    aad: &[u8],
) -> Result<String> {
    let header_full = format!("{PREFIX}$master$$");
    let (nonce, ct) = aead_seal(master.bytes(), payload, &full_aad(&header_full, aad))?;
    Ok(format!(
        "{header_full}${}${}",
        B64.encode(nonce),
        B64.encode(ct)
    ))
}

/// Open a master-key-sealed payload. [`PkiError::UnsealFailed`] when authentication fails.
pub fn unseal_payload_with_master_key(
    sealed: &str,
    master: &MasterKey,
    aad: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let parts = split(sealed)?;
    if parts.kind != "master" || !parts.params.is_empty() || !parts.salt.is_empty() {
        return Err(PkiError::SealedFormat(
            "not a master-key-sealed value".into(),
        ));
    }
    let nonce = b64(parts.nonce, "nonce")?;
    let ct = b64(parts.ct, "ciphertext")?;
    let header_full = format!("{PREFIX}$master$$");
    match aead_open(master.bytes(), &nonce, &ct, &full_aad(&header_full, aad))? {
        Some(pt) => Ok(pt),
        None => Err(PkiError::UnsealFailed),
    }
}

/// Which kind of sealing a stored string uses (for callers that hold both kinds).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealKind {
    /// Argon2id passphrase sealing.
    Passphrase,
    /// Master-key sealing.
    MasterKey,
}

/// Inspect a sealed string's kind without opening it.
pub fn sealed_kind(sealed: &str) -> Result<SealKind> {
    match split(sealed)?.kind {
        "argon2id" => Ok(SealKind::Passphrase),
        "master" => Ok(SealKind::MasterKey),
        _ => Err(PkiError::SealedFormat("unknown sealing kind".into())),
    }
}
