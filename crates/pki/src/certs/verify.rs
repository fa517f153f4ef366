//! Raw signature verification with a certificate's or an SPKI's public key.

use super::*;

// =============================================================================================
// Signature verification
// =============================================================================================

/// Options for [`verify_signature_with`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Accept SHA-1 based signatures (foreign legacy data only).
    pub allow_sha1: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyKind {
    Rsa,
    Ec(Curve),
    Ed25519,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Curve {
    P256,
    P384,
    P521,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn from_oid(o: &ObjectIdentifier) -> Option<Hash> {
        match *o {
            OID_SHA1 => Some(Hash::Sha1),
            OID_SHA256 => Some(Hash::Sha256),
            OID_SHA384 => Some(Hash::Sha384),
            OID_SHA512 => Some(Hash::Sha512),
            _ => None,
        }
    }

    fn digest_alg(self) -> &'static digest::Algorithm {
        match self {
            Hash::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => &digest::SHA256,
            Hash::Sha384 => &digest::SHA384,
            Hash::Sha512 => &digest::SHA512,
        }
    }
}

/// Key type and public-key bytes (BIT STRING content) of an SPKI.
pub(super) fn spki_algorithm(spki_der: &[u8]) -> Result<(KeyKind, &[u8])> {
    let outer = asn1::parse_single(spki_der)?;
    if outer.tag != TAG_SEQUENCE {
        return Err(PkiError::Asn1(
            "SubjectPublicKeyInfo is not a SEQUENCE".into(),
        ));
    }
    let mut r = outer.reader();
    let alg = r.expect(TAG_SEQUENCE)?;
    let key = asn1::read_bit_string_bytes(&r.read()?)?;
    let mut ar = alg.reader();
    let o = asn1::read_oid(&ar.read()?)?;
    let kind = match o {
        OID_RSA_ENCRYPTION | OID_RSASSA_PSS => KeyKind::Rsa,
        OID_ED25519 => KeyKind::Ed25519,
        OID_EC_PUBLIC_KEY => {
            let curve = asn1::read_oid(&ar.read()?)?;
            KeyKind::Ec(match curve {
                OID_SECP256R1 => Curve::P256,
                OID_SECP384R1 => Curve::P384,
                OID_SECP521R1 => Curve::P521,
                other => {
                    return Err(PkiError::UnsupportedAlgorithm(format!("EC curve {other}")));
                }
            })
        }
        other => {
            return Err(PkiError::UnsupportedAlgorithm(format!(
                "public key algorithm {other}"
            )));
        }
    };
    Ok((kind, key))
}

/// RSASSA-PSS parameters -> hash, requiring MGF1 with the same hash and salt = hash length
/// (what aws-lc-rs verifies; this is what every PAdES signer we know writes).
fn pss_hash(params: Option<&der::Any>) -> Result<Option<Hash>> {
    let Some(p) = params else {
        return Ok(None); // all defaults = SHA-1
    };
    let der = p.to_der()?;
    let t = asn1::parse_single(&der)?;
    let mut r = t.reader();
    let mut hash = Hash::Sha1;
    let mut mgf_hash = Hash::Sha1;
    let mut salt = 20u64;
    if let Some(h) = r.optional(0xa0)? {
        let alg = asn1::parse_single(h.content)?;
        let o = asn1::read_oid(&alg.reader().read()?)?;
        hash = Hash::from_oid(&o)
            .ok_or_else(|| PkiError::UnsupportedAlgorithm(format!("PSS hash {o}")))?;
    }
    if let Some(m) = r.optional(0xa1)? {
        let alg = asn1::parse_single(m.content)?;
        let mut ar = alg.reader();
        let o = asn1::read_oid(&ar.read()?)?;
        if o != OID_MGF1 {
            return Err(PkiError::UnsupportedAlgorithm(format!(
                "PSS mask generation {o}"
            )));
        }
        let inner = ar.expect(TAG_SEQUENCE)?;
        let ho = asn1::read_oid(&inner.reader().read()?)?;
        mgf_hash = Hash::from_oid(&ho)
            .ok_or_else(|| PkiError::UnsupportedAlgorithm(format!("MGF1 hash {ho}")))?;
    }
    if let Some(s) = r.optional(0xa2)? {
        let i = asn1::parse_single(s.content)?;
        if i.tag != TAG_INTEGER || i.content.len() > 4 {
            return Err(PkiError::Asn1("PSS saltLength".into()));
        }
        salt = i.content.iter().fold(0u64, |a, b| (a << 8) | *b as u64);
    }
    let expected_salt = match hash {
        Hash::Sha1 => 20,
        Hash::Sha256 => 32,
        Hash::Sha384 => 48,
        Hash::Sha512 => 64,
    };
    if mgf_hash != hash || salt != expected_salt {
        return Err(PkiError::UnsupportedAlgorithm(
            "RSASSA-PSS with MGF1 hash or salt length other than the message hash".into(),
        ));
    }
    Ok(Some(hash))
}

/// Resolve (key, signature algorithm) to an aws-lc-rs verification algorithm. `Ok(None)`
/// means "never valid" (key/algorithm mismatch, SHA-1 not allowed).
fn resolve(
    kind: KeyKind,
    algorithm: &spki::AlgorithmIdentifierOwned,
    opts: VerifyOptions,
) -> Result<Option<(&'static dyn VerificationAlgorithm, Hash)>> {
    use signature as s;
    let (is_rsa_pkcs1, is_pss, is_ecdsa, hash) = match algorithm.oid {
        OID_SHA1_WITH_RSA => (true, false, false, Hash::Sha1),
        OID_SHA256_WITH_RSA => (true, false, false, Hash::Sha256),
        OID_SHA384_WITH_RSA => (true, false, false, Hash::Sha384),
        OID_SHA512_WITH_RSA => (true, false, false, Hash::Sha512),
        OID_RSASSA_PSS => match pss_hash(algorithm.parameters.as_ref())? {
            Some(h) => (false, true, false, h),
            None => (false, true, false, Hash::Sha1),
        },
        OID_ECDSA_WITH_SHA1 => (false, false, true, Hash::Sha1),
        OID_ECDSA_WITH_SHA256 => (false, false, true, Hash::Sha256),
        OID_ECDSA_WITH_SHA384 => (false, false, true, Hash::Sha384),
        OID_ECDSA_WITH_SHA512 => (false, false, true, Hash::Sha512),
        OID_ED25519 => {
            return Ok((kind == KeyKind::Ed25519).then_some((&s::ED25519 as _, Hash::Sha512)));
        }
        other => {
            return Err(PkiError::UnsupportedAlgorithm(format!(
                "signature algorithm {other}"
            )));
        }
    };
    if hash == Hash::Sha1 && !opts.allow_sha1 {
        return Ok(None);
    }
    let alg: Option<&'static dyn VerificationAlgorithm> = if is_rsa_pkcs1 {
        (kind == KeyKind::Rsa).then_some(match hash {
            Hash::Sha1 => &s::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            Hash::Sha256 => &s::RSA_PKCS1_2048_8192_SHA256,
            Hash::Sha384 => &s::RSA_PKCS1_2048_8192_SHA384,
            Hash::Sha512 => &s::RSA_PKCS1_2048_8192_SHA512,
        })
    } else if is_pss {
        match (kind, hash) {
            (KeyKind::Rsa, Hash::Sha256) => Some(&s::RSA_PSS_2048_8192_SHA256),
            (KeyKind::Rsa, Hash::Sha384) => Some(&s::RSA_PSS_2048_8192_SHA384),
            (KeyKind::Rsa, Hash::Sha512) => Some(&s::RSA_PSS_2048_8192_SHA512),
            _ => None,
        }
    } else if is_ecdsa {
        match (kind, hash) {
            (KeyKind::Ec(Curve::P256), Hash::Sha1) => Some(&s::ECDSA_P256_SHA1_ASN1),
            (KeyKind::Ec(Curve::P256), Hash::Sha256) => Some(&s::ECDSA_P256_SHA256_ASN1),
            (KeyKind::Ec(Curve::P256), Hash::Sha384) => Some(&s::ECDSA_P256_SHA384_ASN1),
            (KeyKind::Ec(Curve::P256), Hash::Sha512) => Some(&s::ECDSA_P256_SHA512_ASN1),
            (KeyKind::Ec(Curve::P384), Hash::Sha256) => Some(&s::ECDSA_P384_SHA256_ASN1),
            (KeyKind::Ec(Curve::P384), Hash::Sha384) => Some(&s::ECDSA_P384_SHA384_ASN1),
            (KeyKind::Ec(Curve::P384), Hash::Sha512) => Some(&s::ECDSA_P384_SHA512_ASN1),
            (KeyKind::Ec(Curve::P521), Hash::Sha1) => Some(&s::ECDSA_P521_SHA1_ASN1),
            (KeyKind::Ec(Curve::P521), Hash::Sha256) => Some(&s::ECDSA_P521_SHA256_ASN1),
            (KeyKind::Ec(Curve::P521), Hash::Sha384) => Some(&s::ECDSA_P521_SHA384_ASN1),
            (KeyKind::Ec(Curve::P521), Hash::Sha512) => Some(&s::ECDSA_P521_SHA512_ASN1),
            _ => None,
        }
    } else {
        None
    };
    Ok(alg.map(|a| (a, hash)))
}

/// Verify a raw signature over `message` (SHA-1 rejected: returns `Ok(false)`).
///
/// Supported: sha256/384/512WithRSAEncryption, RSASSA-PSS (SHA-256/384/512, MGF1 same hash,
/// salt = hash length), ecdsa-with-SHA256/384/512 on P-256/P-384/P-521, Ed25519.
/// `Ok(false)` for a bad signature or a key that does not fit the algorithm; `Err` for
/// malformed keys or unknown algorithms.
pub fn verify_signature(
    spki_der: &[u8],
    algorithm: &spki::AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<bool> {
    verify_signature_with(
        spki_der,
        algorithm,
        message,
        signature,
        VerifyOptions::default(),
    )
}

/// [`verify_signature`] with options (e.g. SHA-1 for foreign legacy signatures).
pub fn verify_signature_with(
    spki_der: &[u8],
    algorithm: &spki::AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
    opts: VerifyOptions,
) -> Result<bool> {
    let (kind, key) = spki_algorithm(spki_der)?;
    let Some((alg, _)) = resolve(kind, algorithm, opts)? else {
        return Ok(false);
    };
    Ok(signature::UnparsedPublicKey::new(alg, key)
        .verify(message, signature)
        .is_ok())
}

/// Verify a signature given the pre-computed message digest (used for CMS without signed
/// attributes). The digest length must fit the algorithm's hash. Ed25519 is not supported
/// here (it signs the message, not a digest).
pub fn verify_signature_prehashed(
    spki_der: &[u8],
    algorithm: &spki::AlgorithmIdentifierOwned,
    message_digest: &[u8],
    signature: &[u8],
    opts: VerifyOptions,
) -> Result<bool> {
    let (kind, key) = spki_algorithm(spki_der)?;
    if kind == KeyKind::Ed25519 {
        return Ok(false);
    }
    let Some((alg, hash)) = resolve(kind, algorithm, opts)? else {
        return Ok(false);
    };
    let Ok(d) = digest::Digest::import_less_safe(message_digest, hash.digest_alg()) else {
        return Ok(false);
    };
    Ok(signature::UnparsedPublicKey::new(alg, key)
        .verify_digest(&d, signature)
        .is_ok())
}

/// Key-kind check used by callers that want to know whether a SPKI is supported.
pub fn spki_is_supported(spki_der: &[u8]) -> bool {
    spki_algorithm(spki_der).is_ok()
}

/// Whether `producer` holds the private key of `cert` (one test signature, verified with the
/// certificate's public key). Use it once when a service starts, to catch a mis-configured
/// key (wrong file, wrong HSM slot).
pub fn key_matches_certificate(producer: &dyn SignatureProducer, cert: &Certificate) -> bool {
    const PROBE: &[u8] = b"sahih key/certificate consistency probe";
    let Ok(sig) = producer.sign(PROBE) else {
        return false;
    };
    verify_signature(
        cert.spki_der_ref(),
        &producer.signature_algorithm(),
        PROBE,
        &sig,
    )
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_usage_bits() {
        assert_eq!(key_usage(&[0, 1]), vec![0x03, 0x02, 0x06, 0xc0]);
        assert_eq!(key_usage(&[5, 6]), vec![0x03, 0x02, 0x01, 0x06]);
        assert_eq!(key_usage(&[0, 8]), vec![0x03, 0x03, 0x07, 0x80, 0x80]);
    }
}
