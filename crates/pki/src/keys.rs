//! Private keys (software), and the [`SignatureProducer`] abstraction.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, KeyPair as _};
use zeroize::Zeroizing;

use crate::asn1::{self, Reader, TAG_INTEGER, TAG_SEQUENCE};
use crate::oids;
use crate::{PkiError, Result};

/// Key algorithms supported for keys we generate and hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// RSA 2048-bit, signatures PKCS#1 v1.5 with SHA-256.
    Rsa2048,
    /// RSA 3072-bit, signatures PKCS#1 v1.5 with SHA-256.
    Rsa3072,
    /// ECDSA on P-256 with SHA-256.
    EcdsaP256,
}

impl KeyAlgorithm {
    /// All supported algorithms.
    pub const ALL: [KeyAlgorithm; 3] = [
        KeyAlgorithm::Rsa2048,
        KeyAlgorithm::Rsa3072,
        KeyAlgorithm::EcdsaP256,
    ];

    /// Maximum length in bytes of a signature value made with this algorithm.
    pub fn max_signature_len(self) -> usize {
        match self {
            KeyAlgorithm::Rsa2048 => 256,
            KeyAlgorithm::Rsa3072 => 384,
            // SEQUENCE { INTEGER r (<= 33), INTEGER s (<= 33) }
            KeyAlgorithm::EcdsaP256 => 72,
        }
    }

    /// The signature AlgorithmIdentifier used with this key algorithm
    /// (sha256WithRSAEncryption with NULL parameters, or ecdsa-with-SHA256 without).
    pub fn signature_algorithm(self) -> spki::AlgorithmIdentifierOwned {
        match self {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => spki::AlgorithmIdentifierOwned {
                oid: oids::OID_SHA256_WITH_RSA,
                parameters: Some(der::Any::null()),
            },
            KeyAlgorithm::EcdsaP256 => spki::AlgorithmIdentifierOwned {
                oid: oids::OID_ECDSA_WITH_SHA256,
                parameters: None,
            },
        }
    }

    /// Stable lowercase name: "rsa2048", "rsa3072", "p256".
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa2048 => "rsa2048",
            KeyAlgorithm::Rsa3072 => "rsa3072",
            KeyAlgorithm::EcdsaP256 => "p256",
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyAlgorithm {
    type Err = PkiError;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rsa2048" | "rsa-2048" => Ok(KeyAlgorithm::Rsa2048),
            "rsa3072" | "rsa-3072" => Ok(KeyAlgorithm::Rsa3072),
            "p256" | "p-256" | "ecdsa-p256" | "ecdsap256" => Ok(KeyAlgorithm::EcdsaP256),
            other => Err(PkiError::UnsupportedAlgorithm(format!(
                "unknown key algorithm '{other}' (expected rsa2048, rsa3072 or p256)"
            ))),
        }
    }
}

/// Something that produces CMS/X.509 signatures (software key now, PKCS#11 later).
pub trait SignatureProducer {
    /// The signature AlgorithmIdentifier, e.g. sha256WithRSAEncryption (NULL parameters) or
    /// ecdsa-with-SHA256 (no parameters).
    fn signature_algorithm(&self) -> spki::AlgorithmIdentifierOwned;
    /// Sign `message` (hashing included): RSA PKCS#1 v1.5 SHA-256, or ECDSA P-256 SHA-256
    /// (DER-encoded `Ecdsa-Sig-Value`).
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>>;
}

enum Inner {
    Rsa(signature::RsaKeyPair),
    Ecdsa(signature::EcdsaKeyPair),
}

/// A software private key: PKCS#8 DER (zeroized on drop) plus the parsed aws-lc-rs key pair.
pub struct PrivateKey {
    pkcs8: Zeroizing<Vec<u8>>,
    alg: KeyAlgorithm,
    inner: Inner,
    spki: Vec<u8>,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("algorithm", &self.alg)
            .finish_non_exhaustive()
    }
}

fn crypto(what: &str) -> PkiError {
    PkiError::Crypto(what.to_string())
}

impl PrivateKey {
    /// Generate a fresh key.
    pub fn generate(alg: KeyAlgorithm) -> Result<Self> {
        let pkcs8: Zeroizing<Vec<u8>> = match alg {
            KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => {
                let size = if alg == KeyAlgorithm::Rsa2048 {
                    aws_lc_rs::rsa::KeySize::Rsa2048
                } else {
                    aws_lc_rs::rsa::KeySize::Rsa3072
                };
                let kp = signature::RsaKeyPair::generate(size)
                    .map_err(|_| crypto("RSA key generation"))?;
                let der = kp.as_der().map_err(|_| crypto("RSA key serialisation"))?;
                Zeroizing::new(der.as_ref().to_vec())
            }
            KeyAlgorithm::EcdsaP256 => {
                let kp =
                    signature::EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_ASN1_SIGNING)
                        .map_err(|_| crypto("ECDSA key generation"))?;
                let doc = kp
                    .to_pkcs8v1()
                    .map_err(|_| crypto("ECDSA key serialisation"))?;
                Zeroizing::new(doc.as_ref().to_vec())
            }
        };
        Self::from_pkcs8_der(&pkcs8)
    }

    /// Load a PKCS#8 (v1 or v2) DER private key: RSA 2048/3072 or EC P-256.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let alg_oid = pkcs8_algorithm(der)?;
        let (alg, inner) = if alg_oid.0 == oids::OID_RSA_ENCRYPTION {
            let kp = signature::RsaKeyPair::from_pkcs8(der)
                .map_err(|e| PkiError::InvalidKey(format!("RSA key rejected: {e}")))?;
            let alg = match kp.public_modulus_len() {
                256 => KeyAlgorithm::Rsa2048,
                384 => KeyAlgorithm::Rsa3072,
                n => {
                    return Err(PkiError::UnsupportedAlgorithm(format!(
                        "RSA key of {} bits (supported: 2048, 3072)",
                        n * 8
                    )));
                }
            };
            (alg, Inner::Rsa(kp))
        } else if alg_oid.0 == oids::OID_EC_PUBLIC_KEY {
            if alg_oid.1 != Some(oids::OID_SECP256R1) {
                return Err(PkiError::UnsupportedAlgorithm(
                    "EC key on a curve other than P-256".into(),
                ));
            }
            let kp = signature::EcdsaKeyPair::from_pkcs8(
                &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                der,
            )
            .map_err(|e| PkiError::InvalidKey(format!("EC key rejected: {e}")))?;
            (KeyAlgorithm::EcdsaP256, Inner::Ecdsa(kp))
        } else {
            return Err(PkiError::UnsupportedAlgorithm(format!(
                "private key algorithm {}",
                alg_oid.0
            )));
        };
        let spki = match &inner {
            Inner::Rsa(kp) => kp
                .public_key()
                .as_der()
                .map_err(|_| crypto("public key encoding"))?
                .as_ref()
                .to_vec(),
            Inner::Ecdsa(kp) => kp
                .public_key()
                .as_der()
                .map_err(|_| crypto("public key encoding"))?
                .as_ref()
                .to_vec(),
        };
        Ok(PrivateKey {
            pkcs8: Zeroizing::new(der.to_vec()),
            alg,
            inner,
            spki,
        })
    }

    /// The PKCS#8 DER encoding (secret!).
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The key algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.alg
    }

    /// DER SubjectPublicKeyInfo of the public key.
    pub fn public_key_spki_der(&self) -> Vec<u8> {
        self.spki.clone()
    }

    /// Borrowed DER SubjectPublicKeyInfo of the public key.
    pub fn spki_der_ref(&self) -> &[u8] {
        &self.spki
    }
}

impl SignatureProducer for PrivateKey {
    fn signature_algorithm(&self) -> spki::AlgorithmIdentifierOwned {
        self.alg.signature_algorithm()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let rng = SystemRandom::new();
        match &self.inner {
            Inner::Rsa(kp) => {
                let mut sig = vec![0u8; kp.public_modulus_len()];
                kp.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut sig)
                    .map_err(|_| crypto("RSA signing"))?;
                Ok(sig)
            }
            Inner::Ecdsa(kp) => {
                let sig = kp
                    .sign(&rng, message)
                    .map_err(|_| crypto("ECDSA signing"))?;
                Ok(sig.as_ref().to_vec())
            }
        }
    }
}

impl<T: SignatureProducer + ?Sized> SignatureProducer for &T {
    fn signature_algorithm(&self) -> spki::AlgorithmIdentifierOwned {
        (**self).signature_algorithm()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        (**self).sign(message)
    }
}

/// (algorithm OID, named-curve OID if the parameters are an OID) of a PKCS#8 PrivateKeyInfo.
fn pkcs8_algorithm(
    der: &[u8],
) -> Result<(
    const_oid::ObjectIdentifier,
    Option<const_oid::ObjectIdentifier>,
)> {
    let bad = |_| PkiError::InvalidKey("not a PKCS#8 PrivateKeyInfo".into());
    let outer = asn1::parse_single(der).map_err(bad)?;
    if outer.tag != TAG_SEQUENCE {
        return Err(PkiError::InvalidKey("not a PKCS#8 PrivateKeyInfo".into()));
    }
    let mut r: Reader<'_> = outer.reader();
    r.expect(TAG_INTEGER).map_err(bad)?;
    let alg = r.expect(TAG_SEQUENCE).map_err(bad)?;
    let mut ar = alg.reader();
    let oid = asn1::read_oid(&ar.read().map_err(bad)?).map_err(bad)?;
    let param = match ar.read() {
        Ok(t) if t.tag == asn1::TAG_OID => asn1::read_oid(&t).ok(),
        _ => None,
    };
    Ok((oid, param))
}
