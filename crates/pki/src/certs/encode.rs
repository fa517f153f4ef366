//! The DER pieces every certificate and CRL we write is made of: times, names, extensions,
//! key identifiers and serial numbers. No profile lives here (that is `issue`).

use super::*;

/// A certificate or CRL time: UTCTime through 2049, GeneralizedTime from 2050 (RFC 5280
/// 4.1.2.5), always UTC with whole seconds.
pub(crate) fn encode_time(t: OffsetDateTime) -> Result<Vec<u8>> {
    let t = t.to_offset(time::UtcOffset::UTC);
    let y = t.year();
    if !(1950..=9999).contains(&y) {
        return Err(PkiError::InvalidArgument(format!(
            "year {y} outside 1950-9999"
        )));
    }
    let rest = format!(
        "{:02}{:02}{:02}{:02}{:02}Z",
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    Ok(if y < 2050 {
        tlv(
            asn1::TAG_UTC_TIME,
            format!("{:02}{rest}", y % 100).as_bytes(),
        )
    } else {
        tlv(
            asn1::TAG_GENERALIZED_TIME,
            format!("{y:04}{rest}").as_bytes(),
        )
    })
}

/// One RelativeDistinguishedName with a single attribute of string type `tag`.
pub(super) fn rdn(attr_oid: &ObjectIdentifier, tag: u8, value: &str) -> Vec<u8> {
    let atv = seq(&[&oid(attr_oid), &tlv(tag, value.as_bytes())]);
    tlv(TAG_SET, &atv)
}

/// A Name from its RDNs, in the order given (most general first).
pub(super) fn name(rdns: &[Vec<u8>]) -> Vec<u8> {
    let parts: Vec<&[u8]> = rdns.iter().map(|r| r.as_slice()).collect();
    asn1::tlv_parts(TAG_SEQUENCE, &parts)
}

/// An Extension; `critical` is written only when true (DER leaves out the DEFAULT FALSE).
pub(crate) fn extension(ext_oid: &ObjectIdentifier, critical: bool, value: &[u8]) -> Vec<u8> {
    let crit = tlv(TAG_BOOLEAN, &[0xff]);
    let o = oid(ext_oid);
    let v = tlv(TAG_OCTET_STRING, value);
    if critical {
        seq(&[&o, &crit, &v])
    } else {
        seq(&[&o, &v])
    }
}

/// basicConstraints: an empty SEQUENCE for an end entity, cA TRUE (and pathLen) for a CA.
pub(super) fn basic_constraints(ca: bool, path_len: Option<u8>) -> Vec<u8> {
    let mut parts: Vec<Vec<u8>> = Vec::new();
    if ca {
        parts.push(tlv(TAG_BOOLEAN, &[0xff]));
        if let Some(p) = path_len {
            parts.push(asn1::small_uint(p as u64));
        }
    }
    let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_slice()).collect();
    seq(&refs)
}

/// keyUsage BIT STRING from bit numbers (0 = digitalSignature ... 8 = decipherOnly), DER
/// (trailing zero bits removed).
pub(super) fn key_usage(bits: &[u8]) -> Vec<u8> {
    let mut v: u16 = 0;
    for b in bits {
        v |= 1u16 << (15 - *b as u16);
    }
    let bytes = v.to_be_bytes();
    let nbytes = if v & 0x00ff != 0 { 2 } else { 1 };
    let unused = (v.trailing_zeros() as usize).saturating_sub((2 - nbytes) * 8) as u8;
    let mut content = vec![unused];
    content.extend_from_slice(bytes.get(..nbytes).unwrap_or(&[]));
    tlv(TAG_BIT_STRING, &content)
}

/// The subjectPublicKey bits of a SubjectPublicKeyInfo (what key identifiers hash).
pub(super) fn spki_key_bits(spki_der: &[u8]) -> Result<&[u8]> {
    let outer = asn1::parse_single(spki_der)?;
    let mut r = outer.reader();
    r.expect(TAG_SEQUENCE)?;
    asn1::read_bit_string_bytes(&r.read()?)
}

/// Key identifier per RFC 7093 method 1: leftmost 160 bits of SHA-256 of subjectPublicKey.
pub fn key_identifier(spki_der: &[u8]) -> Result<Vec<u8>> {
    let bits = spki_key_bits(spki_der)?;
    let d = digest::digest(&digest::SHA256, bits);
    Ok(d.as_ref().get(..20).unwrap_or(&[]).to_vec())
}

/// RFC 5280 4.1.2.2: a serial is positive, not zero, and at most 20 octets once encoded.
pub(crate) fn check_serial(serial: &[u8]) -> Result<()> {
    let skip = serial.iter().take_while(|b| **b == 0).count();
    let mag = serial.get(skip..).unwrap_or(&[]);
    let len = mag.len() + usize::from(mag.first().is_some_and(|b| b & 0x80 != 0));
    if mag.is_empty() || len > 20 {
        return Err(PkiError::InvalidArgument(
            "serial number must be 1-20 octets and non-zero".into(),
        ));
    }
    Ok(())
}

/// AuthorityKeyIdentifier with only the keyIdentifier [0].
pub(crate) fn aki(keyid: &[u8]) -> Vec<u8> {
    seq(&[&tlv(0x80, keyid)])
}
