//! The few DER structures this crate writes and reads: SubjectPublicKeyInfo for RSA and P-256,
//! the ECDSA `Ecdsa-Sig-Value`, and the OCTET STRING around `CKA_EC_POINT`.

/// DER of the OID rsaEncryption (1.2.840.113549.1.1.1).
const OID_RSA_ENCRYPTION: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01,
];
/// DER of the OID id-ecPublicKey (1.2.840.10045.2.1).
const OID_EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// DER of the OID prime256v1 / secp256r1 (1.2.840.10045.3.1.7): also the `CKA_EC_PARAMS` value
/// of a P-256 key (ECParameters, namedCurve choice).
pub(crate) const OID_PRIME256V1: &[u8] =
    &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const NULL: &[u8] = &[0x05, 0x00];

const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_SEQUENCE: u8 = 0x30;

/// Length of an uncompressed P-256 point (0x04 || X || Y).
pub(crate) const P256_POINT_LEN: usize = 65;

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// DER INTEGER of an unsigned big-endian magnitude: leading zero bytes removed, one zero
/// byte added back when the high bit is set (so the value stays positive).
fn unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let skip = magnitude.iter().take_while(|b| **b == 0).count();
    let trimmed = &magnitude[skip..];
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    match trimmed.first() {
        None => content.push(0),
        Some(b) if b & 0x80 != 0 => {
            content.push(0);
            content.extend_from_slice(trimmed);
        }
        Some(_) => content.extend_from_slice(trimmed),
    }
    tlv(TAG_INTEGER, &content)
}

fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = Vec::with_capacity(bytes.len() + 1);
    content.push(0); // no unused bits
    content.extend_from_slice(bytes);
    tlv(TAG_BIT_STRING, &content)
}

/// SubjectPublicKeyInfo of an RSA key: rsaEncryption with NULL parameters, and the
/// RSAPublicKey { modulus, publicExponent } in the BIT STRING.
pub(crate) fn spki_rsa(modulus: &[u8], public_exponent: &[u8]) -> Vec<u8> {
    let mut rsa_key = unsigned_integer(modulus);
    rsa_key.extend_from_slice(&unsigned_integer(public_exponent));
    let rsa_key = tlv(TAG_SEQUENCE, &rsa_key);
    let alg = tlv(TAG_SEQUENCE, &[OID_RSA_ENCRYPTION, NULL].concat());
    tlv(TAG_SEQUENCE, &[alg, bit_string(&rsa_key)].concat())
}

/// SubjectPublicKeyInfo of a P-256 key: id-ecPublicKey with the prime256v1 named curve, and
/// the uncompressed point in the BIT STRING.
pub(crate) fn spki_p256(point: &[u8]) -> Vec<u8> {
    let alg = tlv(TAG_SEQUENCE, &[OID_EC_PUBLIC_KEY, OID_PRIME256V1].concat());
    tlv(TAG_SEQUENCE, &[alg, bit_string(point)].concat())
}

/// DER `Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` from the PKCS#11 raw signature
/// `r || s` (two big-endian halves of equal length). `None` if the length is odd or zero.
pub(crate) fn ecdsa_raw_to_der(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) {
        return None;
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let mut content = unsigned_integer(r);
    content.extend_from_slice(&unsigned_integer(s));
    Some(tlv(TAG_SEQUENCE, &content))
}

/// One DER TLV at the start of `input`: (tag, content, rest). Definite lengths only.
fn read_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let (len_bytes, rest) = rest.split_at(n);
        let len = len_bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, rest)
    };
    if rest.len() < len {
        return None;
    }
    let (content, rest) = rest.split_at(len);
    Some((tag, content, rest))
}

/// The uncompressed P-256 point from a `CKA_EC_POINT` value. PKCS#11 says the value is the
/// DER encoding of an OCTET STRING holding the point (SoftHSM does this); some tokens return
/// the bare point, which is accepted too (the lengths, 67 and 65, cannot be confused).
pub(crate) fn p256_point_from_ec_point(value: &[u8]) -> Option<Vec<u8>> {
    let point = if value.len() == P256_POINT_LEN {
        value
    } else {
        match read_tlv(value)? {
            (TAG_OCTET_STRING, content, []) => content,
            _ => return None,
        }
    };
    (point.len() == P256_POINT_LEN && point[0] == 0x04).then(|| point.to_vec())
}

/// The pieces of a SubjectPublicKeyInfo we wrote or that a software key produced:
/// (algorithm identifier content, subjectPublicKey bytes without the unused-bits octet).
#[cfg(test)]
pub(crate) fn split_spki(spki: &[u8]) -> Option<(&[u8], &[u8])> {
    let (TAG_SEQUENCE, body, []) = read_tlv(spki)? else {
        return None;
    };
    let (TAG_SEQUENCE, alg, rest) = read_tlv(body)? else {
        return None;
    };
    let (TAG_BIT_STRING, bits, []) = read_tlv(rest)? else {
        return None;
    };
    let (0, key) = bits.split_first()? else {
        return None;
    };
    Some((alg, key))
}

/// (modulus, publicExponent) magnitudes from a DER RSAPublicKey.
#[cfg(test)]
pub(crate) fn split_rsa_public_key(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let (TAG_SEQUENCE, body, []) = read_tlv(der)? else {
        return None;
    };
    let (TAG_INTEGER, n, rest) = read_tlv(body)? else {
        return None;
    };
    let (TAG_INTEGER, e, []) = read_tlv(rest)? else {
        return None;
    };
    Some((n, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_minimal_and_positive() {
        assert_eq!(
            unsigned_integer(&[0x00, 0x00, 0x7f]),
            vec![0x02, 0x01, 0x7f]
        );
        assert_eq!(unsigned_integer(&[0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(
            unsigned_integer(&[0x00, 0xff, 0x01]),
            vec![0x02, 0x03, 0x00, 0xff, 0x01]
        );
        assert_eq!(unsigned_integer(&[0, 0, 0]), vec![0x02, 0x01, 0x00]);
        assert_eq!(unsigned_integer(&[]), vec![0x02, 0x01, 0x00]);
        assert_eq!(unsigned_integer(&[1, 0, 1]), vec![0x02, 0x03, 1, 0, 1]);
    }

    #[test]
    fn long_lengths() {
        let mut out = Vec::new();
        push_len(&mut out, 0x7f);
        push_len(&mut out, 0x80);
        push_len(&mut out, 0x0101);
        assert_eq!(out, vec![0x7f, 0x81, 0x80, 0x82, 0x01, 0x01]);
        let big = vec![0xaa; 300];
        let t = tlv(TAG_OCTET_STRING, &big);
        let (tag, content, rest) = read_tlv(&t).unwrap();
        assert_eq!((tag, content, rest.len()), (TAG_OCTET_STRING, &big[..], 0));
    }

    #[test]
    fn ecdsa_edge_cases() {
        // r with its high bit set, s with leading zero bytes.
        let mut raw = vec![0u8; 64];
        raw[0] = 0x80;
        raw[31] = 1;
        raw[62] = 0x01;
        raw[63] = 0x02;
        let der = ecdsa_raw_to_der(&raw).unwrap();
        let mut expected = vec![0x30, 0x27, 0x02, 0x21, 0x00, 0x80];
        expected.extend_from_slice(&[0u8; 30]);
        expected.push(1);
        expected.extend_from_slice(&[0x02, 0x02, 0x01, 0x02]);
        assert_eq!(der, expected);
        // Worst case: both halves need the padding byte: 2 + 2 * 35 = 72 bytes.
        assert_eq!(ecdsa_raw_to_der(&[0xff; 64]).unwrap().len(), 72);
        assert!(ecdsa_raw_to_der(&[1, 2, 3]).is_none());
        assert!(ecdsa_raw_to_der(&[]).is_none());
    }

    #[test]
    fn ec_point_forms() {
        let mut point = vec![0x04];
        point.extend_from_slice(&[0x11; 64]);
        let wrapped = tlv(TAG_OCTET_STRING, &point);
        assert_eq!(wrapped.len(), 67);
        assert_eq!(p256_point_from_ec_point(&wrapped).unwrap(), point);
        assert_eq!(p256_point_from_ec_point(&point).unwrap(), point);
        // Compressed points, wrong tags and trailing bytes are refused.
        assert!(p256_point_from_ec_point(&tlv(TAG_OCTET_STRING, &[0x02; 33])).is_none());
        assert!(p256_point_from_ec_point(&tlv(TAG_BIT_STRING, &point)).is_none());
        let mut trailing = wrapped.clone();
        trailing.push(0);
        assert!(p256_point_from_ec_point(&trailing).is_none());
    }
}
