//! Key pairs in the token: generation, lookup, public key, signing, protection, deletion.

use std::fmt;
use std::sync::{Arc, Mutex};

use aws_lc_rs::digest;
use cryptoki::error::RvError;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{
    Attribute, AttributeInfo, AttributeType, KeyType, ObjectClass, ObjectHandle,
};
use cryptoki::session::Session;
use sahih_pki::{KeyAlgorithm, SignatureProducer};

use crate::asn1;
use crate::backend::{Pkcs11Backend, Token, find_one, read_attributes};
use crate::error::{HsmError, Result};

/// Length in bytes of the random CKA_ID given to generated key pairs.
pub const KEY_ID_LEN: usize = 16;
/// Longest CKA_ID accepted when looking keys up (keys made by other tools).
const MAX_KEY_ID_LEN: usize = 64;
/// Longest CKA_LABEL accepted for generated keys, in bytes.
const MAX_LABEL_LEN: usize = 128;
/// Prefix of a key reference (see [`HsmKey::reference`]).
const REFERENCE_PREFIX: &str = "pkcs11:";

/// How the token protects a private key: the PKCS#11 attributes that say whether the key
/// can ever leave it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyProtection {
    /// CKA_SENSITIVE: secret attributes are never revealed in plaintext.
    pub sensitive: bool,
    /// CKA_EXTRACTABLE: the key could be wrapped (exported encrypted) by another key.
    pub extractable: bool,
    /// CKA_NEVER_EXTRACTABLE: the key has never been extractable.
    pub never_extractable: bool,
    /// CKA_ALWAYS_SENSITIVE: the key has always been sensitive.
    pub always_sensitive: bool,
    /// CKA_LOCAL: the key was generated inside the token (not imported).
    pub local: bool,
    /// Whether reading the secret value itself (CKA_PRIVATE_EXPONENT for RSA, CKA_VALUE for
    /// EC) was actually attempted and succeeded. Must be false for a sensitive key.
    pub secret_value_readable: bool,
}

/// A private key inside the token, with its public key. Implements
/// [`SignatureProducer`]; `Send + Sync`, and keeps its token logged in while it lives.
pub struct HsmKey {
    token: Arc<Token>,
    id: Vec<u8>,
    alg: KeyAlgorithm,
    spki: Vec<u8>,
    /// Object handle of the private key, found once and reused (handles are valid across
    /// the sessions of one application); found again if the token says it is stale.
    handle: Mutex<Option<ObjectHandle>>,
}

impl fmt::Debug for HsmKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HsmKey")
            .field("id", &self.id_hex())
            .field("algorithm", &self.alg)
            .field("token", &self.token.label())
            .finish_non_exhaustive()
    }
}

fn parse_id(id_hex: &str) -> Result<Vec<u8>> {
    let id = hex::decode(id_hex.trim())
        .map_err(|_| HsmError::InvalidKeyId(format!("'{id_hex}' is not hexadecimal")))?;
    if id.is_empty() || id.len() > MAX_KEY_ID_LEN {
        return Err(HsmError::InvalidKeyId(format!(
            "key id of {} bytes (expected 1 to {MAX_KEY_ID_LEN})",
            id.len()
        )));
    }
    Ok(id)
}

fn check_label(label: &str) -> Result<()> {
    if label.is_empty() || label.len() > MAX_LABEL_LEN || label.chars().any(char::is_control) {
        return Err(HsmError::InvalidArgument(format!(
            "key label must be 1 to {MAX_LABEL_LEN} bytes without control characters"
        )));
    }
    Ok(())
}

/// The key reference string for a CKA_ID: `pkcs11:id=<lowercase hex>`.
fn reference_for(id: &[u8]) -> String {
    format!("{REFERENCE_PREFIX}id={}", hex::encode(id))
}

/// The key id (lowercase hex) in a key reference, the inverse of [`HsmKey::reference`].
///
/// Accepts `pkcs11:id=<hex>` as written by this crate, and also the RFC 7512 form where the
/// id is percent-encoded bytes (`pkcs11:id=%0a%1b...`), possibly among other path attributes
/// separated by `;` (e.g. `pkcs11:token=sahih;id=%0a%1b`); query attributes after `?` are
/// ignored. Returns `None` for anything else.
pub fn parse_reference(s: &str) -> Option<String> {
    let rest = s.trim().strip_prefix(REFERENCE_PREFIX)?;
    let path = rest.split('?').next()?;
    let value = path.split(';').find_map(|attr| attr.strip_prefix("id="))?;
    let id = if value.starts_with('%') {
        let bytes = value.as_bytes();
        if !bytes.len().is_multiple_of(3) {
            return None;
        }
        let mut id = Vec::with_capacity(bytes.len() / 3);
        for chunk in bytes.chunks(3) {
            if chunk[0] != b'%' {
                return None;
            }
            let pair = std::str::from_utf8(&chunk[1..]).ok()?;
            id.push(u8::from_str_radix(pair, 16).ok()?);
        }
        id
    } else {
        hex::decode(value).ok()?
    };
    (!id.is_empty() && id.len() <= MAX_KEY_ID_LEN).then(|| hex::encode(id))
}

fn attr_bool(attrs: &[Attribute], t: AttributeType) -> Result<bool> {
    attrs
        .iter()
        .find_map(|a| match a {
            Attribute::Sensitive(v) if t == AttributeType::Sensitive => Some(*v),
            Attribute::Extractable(v) if t == AttributeType::Extractable => Some(*v),
            Attribute::NeverExtractable(v) if t == AttributeType::NeverExtractable => Some(*v),
            Attribute::AlwaysSensitive(v) if t == AttributeType::AlwaysSensitive => Some(*v),
            Attribute::Local(v) if t == AttributeType::Local => Some(*v),
            _ => None,
        })
        .ok_or_else(|| HsmError::Malformed(format!("attribute {t} missing")))
}

fn attr_bytes(attrs: &[Attribute], t: AttributeType) -> Result<&[u8]> {
    attrs
        .iter()
        .find_map(|a| match a {
            Attribute::Modulus(v) if t == AttributeType::Modulus => Some(v.as_slice()),
            Attribute::PublicExponent(v) if t == AttributeType::PublicExponent => {
                Some(v.as_slice())
            }
            Attribute::EcParams(v) if t == AttributeType::EcParams => Some(v.as_slice()),
            Attribute::EcPoint(v) if t == AttributeType::EcPoint => Some(v.as_slice()),
            Attribute::Id(v) if t == AttributeType::Id => Some(v.as_slice()),
            _ => None,
        })
        .ok_or_else(|| HsmError::Malformed(format!("attribute {t} missing")))
}

fn key_type(session: &Session, object: ObjectHandle) -> Result<KeyType> {
    read_attributes(session, object, &[AttributeType::KeyType])?
        .iter()
        .find_map(|a| match a {
            Attribute::KeyType(k) => Some(*k),
            _ => None,
        })
        .ok_or_else(|| HsmError::Malformed("attribute CKA_KEY_TYPE missing".into()))
}

fn rsa_algorithm(modulus: &[u8]) -> Result<KeyAlgorithm> {
    let skip = modulus.iter().take_while(|b| **b == 0).count();
    match modulus.len() - skip {
        256 => Ok(KeyAlgorithm::Rsa2048),
        384 => Ok(KeyAlgorithm::Rsa3072),
        n => Err(HsmError::UnsupportedKey(format!(
            "RSA key of {} bits (supported: 2048, 3072)",
            n * 8
        ))),
    }
}

/// Algorithm and SubjectPublicKeyInfo DER of the key pair whose private key is `private`.
/// RSA: modulus and exponent from the public key object, else from the private key object
/// (where PKCS#11 makes them readable). EC: the curve from the private key, the point from
/// the public key object (a private key object has no CKA_EC_POINT).
fn public_key_of(
    session: &Session,
    id: &[u8],
    private: ObjectHandle,
) -> Result<(KeyAlgorithm, Vec<u8>)> {
    let public = find_one(session, ObjectClass::PUBLIC_KEY, id)?;
    let kt = key_type(session, private)?;
    if kt == KeyType::RSA {
        let wanted = [AttributeType::Modulus, AttributeType::PublicExponent];
        let attrs = read_attributes(session, public.unwrap_or(private), &wanted)?;
        let modulus = attr_bytes(&attrs, AttributeType::Modulus)?;
        let exponent = attr_bytes(&attrs, AttributeType::PublicExponent)?;
        let alg = rsa_algorithm(modulus)?;
        Ok((alg, asn1::spki_rsa(modulus, exponent)))
    } else if kt == KeyType::EC {
        let attrs = read_attributes(session, private, &[AttributeType::EcParams])?;
        if attr_bytes(&attrs, AttributeType::EcParams)? != asn1::OID_PRIME256V1 {
            return Err(HsmError::UnsupportedKey(
                "EC key on a curve other than P-256".into(),
            ));
        }
        let public = public.ok_or_else(|| {
            HsmError::UnsupportedKey(format!(
                "EC private key {} has no public key object with the same id",
                hex::encode(id)
            ))
        })?;
        let attrs = read_attributes(session, public, &[AttributeType::EcPoint])?;
        let point = asn1::p256_point_from_ec_point(attr_bytes(&attrs, AttributeType::EcPoint)?)
            .ok_or_else(|| HsmError::Malformed("CKA_EC_POINT is not a P-256 point".into()))?;
        Ok((KeyAlgorithm::EcdsaP256, asn1::spki_p256(&point)))
    } else {
        Err(HsmError::UnsupportedKey(format!("key type {kt}")))
    }
}

fn find_private(session: &Session, id: &[u8]) -> Result<ObjectHandle> {
    find_one(session, ObjectClass::PRIVATE_KEY, id)?
        .ok_or_else(|| HsmError::KeyNotFound(hex::encode(id)))
}

impl Pkcs11Backend {
    /// Generate a key pair inside the token. The private key never leaves it: CKA_TOKEN,
    /// CKA_PRIVATE, CKA_SENSITIVE and CKA_SIGN true, CKA_EXTRACTABLE false (and no decrypt,
    /// unwrap or derive). Both halves get a random 16-byte CKA_ID and the CKA_LABEL `label`.
    pub fn generate(&self, alg: KeyAlgorithm, label: &str) -> Result<HsmKey> {
        check_label(label)?;
        let mut id = vec![0u8; KEY_ID_LEN];
        aws_lc_rs::rand::fill(&mut id)
            .map_err(|_| HsmError::Malformed("system random generator failed".into()))?;

        let common = |token_private: bool| {
            vec![
                Attribute::Token(true),
                Attribute::Private(token_private),
                Attribute::Id(id.clone()),
                Attribute::Label(label.as_bytes().to_vec()),
            ]
        };
        let mut public = common(false);
        public.extend([
            Attribute::Verify(true),
            Attribute::Encrypt(false),
            Attribute::Wrap(false),
        ]);
        let mut private = common(true);
        private.extend([
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Decrypt(false),
            Attribute::Unwrap(false),
            Attribute::Derive(false),
        ]);
        let mechanism = match alg {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => {
                let bits: u64 = if alg == KeyAlgorithm::Rsa2048 {
                    2048
                } else {
                    3072
                };
                public.extend([
                    Attribute::ModulusBits(bits.into()),
                    Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
                ]);
                Mechanism::RsaPkcsKeyPairGen
            }
            KeyAlgorithm::EcdsaP256 => {
                public.push(Attribute::EcParams(asn1::OID_PRIME256V1.to_vec()));
                Mechanism::EccKeyPairGen
            }
        };

        let _writing = self
            .token
            .object_writes
            .lock()
            .map_err(|_| HsmError::Poisoned)?;
        // Two steps, so that a retry (fresh session, new login) never generates twice.
        // SoftHSM2's file store now and then fails a generation with CKR_GENERAL_ERROR or
        // CKR_TEMPLATE_INCONSISTENT (for a template that works on the next try) while other
        // sessions use the token; no object is left behind then, so trying again is safe.
        let mut attempt = 0;
        let handle = loop {
            attempt += 1;
            let made = self.token.with_session(|session| {
                let (_public, private) = session
                    .generate_key_pair(&mechanism, &public, &private)
                    .map_err(HsmError::ck("C_GenerateKeyPair"))?;
                Ok(private)
            });
            match made {
                Err(e)
                    if attempt < 4
                        && matches!(
                            e.rv(),
                            Some(
                                cryptoki::error::RvError::GeneralError
                                    | cryptoki::error::RvError::TemplateInconsistent
                            )
                        ) =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20 * attempt));
                }
                other => break other?,
            }
        };
        let (got_alg, spki) = self
            .token
            .with_session(|session| public_key_of(session, &id, handle))?;
        if got_alg != alg {
            return Err(HsmError::Malformed(format!(
                "asked the token for a {alg} key, it made a {got_alg} key"
            )));
        }
        Ok(HsmKey {
            token: self.token.clone(),
            id,
            alg,
            spki,
            handle: Mutex::new(Some(handle)),
        })
    }

    /// The key pair whose private key has CKA_ID `id_hex` (e.g. after a restart, from
    /// [`HsmKey::id_hex`] or [`parse_reference`]). The algorithm comes from CKA_KEY_TYPE and
    /// the modulus size or EC parameters.
    pub fn key(&self, id_hex: &str) -> Result<HsmKey> {
        let id = parse_id(id_hex)?;
        let (handle, alg, spki) = self.token.with_session(|session| {
            let private = find_private(session, &id)?;
            let (alg, spki) = public_key_of(session, &id, private)?;
            Ok((private, alg, spki))
        })?;
        Ok(HsmKey {
            token: self.token.clone(),
            id,
            alg,
            spki,
            handle: Mutex::new(Some(handle)),
        })
    }

    /// The protection attributes of the private key `id_hex`, and whether its secret value
    /// can be read (which is attempted).
    pub fn key_protection(&self, id_hex: &str) -> Result<KeyProtection> {
        let id = parse_id(id_hex)?;
        self.token.with_session(|session| {
            let private = find_private(session, &id)?;
            let attrs = read_attributes(
                session,
                private,
                &[
                    AttributeType::Sensitive,
                    AttributeType::Extractable,
                    AttributeType::NeverExtractable,
                    AttributeType::AlwaysSensitive,
                    AttributeType::Local,
                ],
            )?;
            let secret = if key_type(session, private)? == KeyType::RSA {
                AttributeType::PrivateExponent
            } else {
                AttributeType::Value
            };
            let info = session
                .get_attribute_info(private, &[secret])
                .map_err(HsmError::ck("C_GetAttributeValue"))?;
            let secret_value_readable = match info.first() {
                Some(AttributeInfo::Available(_)) => session
                    .get_attributes(private, &[secret])
                    .map_err(HsmError::ck("C_GetAttributeValue"))?
                    .iter()
                    .any(|a| match a {
                        Attribute::PrivateExponent(v) | Attribute::Value(v) => !v.is_empty(),
                        _ => false,
                    }),
                _ => false,
            };
            Ok(KeyProtection {
                sensitive: attr_bool(&attrs, AttributeType::Sensitive)?,
                extractable: attr_bool(&attrs, AttributeType::Extractable)?,
                never_extractable: attr_bool(&attrs, AttributeType::NeverExtractable)?,
                always_sensitive: attr_bool(&attrs, AttributeType::AlwaysSensitive)?,
                local: attr_bool(&attrs, AttributeType::Local)?,
                secret_value_readable,
            })
        })
    }

    /// Every key pair whose private key is labelled `label` (e.g. all keys ever made for one
    /// official), so keys no certificate uses any more can be found and destroyed.
    pub fn keys_labelled(&self, label: &str) -> Result<Vec<HsmKey>> {
        check_label(label)?;
        let ids: Vec<Vec<u8>> = self.token.with_session(|session| {
            let found = session
                .find_objects(&[
                    Attribute::Class(ObjectClass::PRIVATE_KEY),
                    Attribute::Label(label.as_bytes().to_vec()),
                ])
                .map_err(HsmError::ck("C_FindObjects"))?;
            let mut ids = Vec::with_capacity(found.len());
            for object in found {
                let attrs = read_attributes(session, object, &[AttributeType::Id])?;
                ids.push(attr_bytes(&attrs, AttributeType::Id)?.to_vec());
            }
            Ok(ids)
        })?;
        ids.iter().map(|id| self.key(&hex::encode(id))).collect()
    }

    /// Delete the key pair `id_hex` (private and public key objects) from the token.
    /// [`HsmKey`]s of it still in memory fail to sign afterwards.
    pub fn destroy(&self, id_hex: &str) -> Result<()> {
        let id = parse_id(id_hex)?;
        let _writing = self
            .token
            .object_writes
            .lock()
            .map_err(|_| HsmError::Poisoned)?;
        self.token.with_session(|session| {
            let private = find_one(session, ObjectClass::PRIVATE_KEY, &id)?;
            let public = find_one(session, ObjectClass::PUBLIC_KEY, &id)?;
            if private.is_none() && public.is_none() {
                return Err(HsmError::KeyNotFound(hex::encode(&id)));
            }
            for object in private.into_iter().chain(public) {
                session
                    .destroy_object(object)
                    .map_err(HsmError::ck("C_DestroyObject"))?;
            }
            Ok(())
        })
    }
}

impl HsmKey {
    /// CKA_ID of the key pair, lowercase hex.
    pub fn id_hex(&self) -> String {
        hex::encode(&self.id)
    }

    /// The key algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.alg
    }

    /// DER SubjectPublicKeyInfo of the public key (rsaEncryption with NULL parameters, or
    /// id-ecPublicKey with prime256v1 and the uncompressed point), byte-identical to what
    /// `sahih_pki::PrivateKey::public_key_spki_der` gives for a software key.
    pub fn public_key_spki_der(&self) -> Vec<u8> {
        self.spki.clone()
    }

    /// The key reference to store instead of a sealed key: `pkcs11:id=<hex>`. (RFC 7512
    /// would percent-encode the id bytes; this plain-hex form is what [`parse_reference`]
    /// reads back, and it accepts the RFC form too.)
    pub fn reference(&self) -> String {
        reference_for(&self.id)
    }

    fn cached_handle(&self, session: &Session, refresh: bool) -> Result<ObjectHandle> {
        let mut cached = self.handle.lock().map_err(|_| HsmError::Poisoned)?;
        match *cached {
            Some(h) if !refresh => Ok(h),
            _ => {
                *cached = None;
                let h = find_private(session, &self.id)?;
                *cached = Some(h);
                Ok(h)
            }
        }
    }

    /// Sign `message` in the token (hashing included), with a typed error: RSA PKCS#1 v1.5
    /// SHA-256 (CKM_SHA256_RSA_PKCS), or ECDSA P-256 over a SHA-256 digest computed here
    /// (CKM_ECDSA), returned as a DER `Ecdsa-Sig-Value`.
    pub fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let (mechanism, data): (Mechanism<'_>, Vec<u8>) = match self.alg {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => {
                (Mechanism::Sha256RsaPkcs, message.to_vec())
            }
            KeyAlgorithm::EcdsaP256 => (
                Mechanism::Ecdsa,
                digest::digest(&digest::SHA256, message).as_ref().to_vec(),
            ),
        };
        let raw = self.token.with_session(|session| {
            let handle = self.cached_handle(session, false)?;
            match session.sign(&mechanism, handle, &data) {
                Err(cryptoki::error::Error::Pkcs11(
                    RvError::KeyHandleInvalid | RvError::ObjectHandleInvalid,
                    _,
                )) => {
                    let handle = self.cached_handle(session, true)?;
                    session
                        .sign(&mechanism, handle, &data)
                        .map_err(HsmError::ck("C_Sign"))
                }
                other => other.map_err(HsmError::ck("C_Sign")),
            }
        })?;
        match self.alg {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => {
                let expected = if self.alg == KeyAlgorithm::Rsa2048 {
                    256
                } else {
                    384
                };
                if raw.len() != expected {
                    return Err(HsmError::Malformed(format!(
                        "RSA signature of {} bytes (expected {expected})",
                        raw.len()
                    )));
                }
                Ok(raw)
            }
            KeyAlgorithm::EcdsaP256 => {
                if raw.len() != 64 {
                    return Err(HsmError::Malformed(format!(
                        "ECDSA P-256 signature of {} bytes (expected 64 = r || s)",
                        raw.len()
                    )));
                }
                asn1::ecdsa_raw_to_der(&raw)
                    .ok_or_else(|| HsmError::Malformed("ECDSA signature".into()))
            }
        }
    }
}

impl SignatureProducer for HsmKey {
    fn signature_algorithm(&self) -> sahih_pki::spki::AlgorithmIdentifierOwned {
        self.alg.signature_algorithm()
    }

    fn sign(&self, message: &[u8]) -> sahih_pki::Result<Vec<u8>> {
        self.try_sign(message).map_err(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_round_trip() {
        let id = [0x0a, 0xff, 0x00, 0x10];
        let r = reference_for(&id);
        assert_eq!(r, "pkcs11:id=0aff0010");
        assert_eq!(parse_reference(&r).as_deref(), Some("0aff0010"));
        assert_eq!(
            parse_reference("pkcs11:id=0AFF0010").as_deref(),
            Some("0aff0010")
        );
        assert_eq!(
            parse_reference("pkcs11:token=sahih;id=%0a%FF%00%10?pin-source=x").as_deref(),
            Some("0aff0010")
        );
        for bad in [
            "",
            "pkcs11:",
            "pkcs11:id=",
            "pkcs11:id=xyz",
            "pkcs11:id=abc",
            "pkcs11:id=%0",
            "pkcs11:id=%0a%zz",
            "pkcs11:id=%0a0b",
            "pkcs11:object=x",
            "sealed:id=0aff",
        ] {
            assert_eq!(parse_reference(bad), None, "{bad}");
        }
        assert_eq!(
            parse_reference(&format!("pkcs11:id={}", "ab".repeat(65))),
            None
        );
    }

    #[test]
    fn ids_and_labels() {
        assert_eq!(parse_id("0AFF").unwrap(), vec![0x0a, 0xff]);
        assert!(matches!(parse_id(""), Err(HsmError::InvalidKeyId(_))));
        assert!(matches!(parse_id("zz"), Err(HsmError::InvalidKeyId(_))));
        assert!(check_label("official 42").is_ok());
        assert!(check_label("").is_err());
        assert!(check_label("a\nb").is_err());
        assert!(check_label(&"x".repeat(129)).is_err());
    }

    #[test]
    fn rsa_sizes() {
        assert_eq!(rsa_algorithm(&[0xc0; 256]).unwrap(), KeyAlgorithm::Rsa2048);
        let mut padded = vec![0];
        padded.extend_from_slice(&[0xc0; 384]);
        assert_eq!(rsa_algorithm(&padded).unwrap(), KeyAlgorithm::Rsa3072);
        assert!(matches!(
            rsa_algorithm(&[0xc0; 128]),
            Err(HsmError::UnsupportedKey(_))
        ));
    }

    /// Our SPKI encoders give exactly the bytes aws-lc-rs gives for software keys.
    #[test]
    fn spki_matches_software_keys() {
        for alg in KeyAlgorithm::ALL {
            let key = sahih_pki::PrivateKey::generate(alg).unwrap();
            let software = key.public_key_spki_der();
            let (_, public) = asn1::split_spki(&software).unwrap();
            let ours = match alg {
                KeyAlgorithm::EcdsaP256 => asn1::spki_p256(public),
                _ => {
                    let (n, e) = asn1::split_rsa_public_key(public).unwrap();
                    asn1::spki_rsa(n, e)
                }
            };
            assert_eq!(ours, software, "{alg}");
        }
    }

    /// Raw r || s converted by us verifies as an ASN.1 ECDSA signature.
    #[test]
    fn ecdsa_conversion_verifies() {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::{self, KeyPair};
        let kp =
            signature::EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let rng = SystemRandom::new();
        for i in 0..64u32 {
            let msg = i.to_be_bytes();
            let raw = kp.sign(&rng, &msg).unwrap();
            let der = asn1::ecdsa_raw_to_der(raw.as_ref()).unwrap();
            signature::UnparsedPublicKey::new(
                &signature::ECDSA_P256_SHA256_ASN1,
                kp.public_key().as_ref(),
            )
            .verify(&msg, &der)
            .unwrap();
        }
    }
}
