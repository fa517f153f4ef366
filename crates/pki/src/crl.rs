//! X.509 v2 CRLs (RFC 5280 section 5): building ours (one signature operation) and parsing
//! anyone's, with a serial-number index for fast lookups.

use der::{Decode, Encode};
use time::OffsetDateTime;

use crate::asn1::{
    self, TAG_BOOLEAN, TAG_INTEGER, TAG_OCTET_STRING, TAG_SEQUENCE, bit_string, seq, tlv, tlv_parts,
};
use crate::certs::{
    Certificate, VerifyOptions, aki, check_serial, encode_time, extension, key_identifier,
    verify_signature_with,
};
use crate::keys::SignatureProducer;
use crate::oids::*;
use crate::{PkiError, Result};

fn crl_err(msg: impl Into<String>) -> PkiError {
    PkiError::Asn1(format!("CRL: {}", msg.into()))
}

/// CRLReason names (RFC 5280 5.3.1), code -> name.
const REASONS: [(u8, &str); 10] = [
    (0, "unspecified"),
    (1, "keyCompromise"),
    (2, "cACompromise"),
    (3, "affiliationChanged"),
    (4, "superseded"),
    (5, "cessationOfOperation"),
    (6, "certificateHold"),
    (8, "removeFromCRL"),
    (9, "privilegeWithdrawn"),
    (10, "aACompromise"),
];

/// CRLReason code for a name ("keyCompromise", ...; ASCII case-insensitive, '-' and '_'
/// ignored, so "key-compromise" and "KEY_COMPROMISE" work too).
pub fn crl_reason_from_name(name: &str) -> Option<u8> {
    let norm: String = name
        .chars()
        .filter(|c| *c != '-' && *c != '_' && *c != ' ')
        .collect();
    REASONS
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(&norm))
        .map(|(c, _)| *c)
}

/// Name of a CRLReason code ("unknown" for values RFC 5280 does not define).
pub fn crl_reason_name(code: u8) -> &'static str {
    REASONS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| *n)
        .unwrap_or("unknown")
}

/// A revoked certificate entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedCert {
    /// Serial number: INTEGER content octets (a leading 0x00 sign octet is allowed).
    pub serial: Vec<u8>,
    /// revocationDate.
    pub revoked_at: OffsetDateTime,
    /// reasonCode entry extension.
    pub reason: Option<u8>,
}

/// Build a v2 CRL signed by `producer` (the key of `issuer_cert`, which must be allowed to
/// sign CRLs): signature algorithm of the producer, issuer = the CA's subject, thisUpdate,
/// nextUpdate, the revoked entries in the given order (left out when empty) with a
/// reasonCode entry extension when a reason other than unspecified(0) is given (RFC 5280
/// 5.3.1 asks to omit unspecified), and the CRL extensions authorityKeyIdentifier and
/// cRLNumber. The signature is checked against the issuer certificate (guards against a key
/// that does not belong to it). Returns DER.
pub fn build_crl(
    issuer_cert: &Certificate,
    producer: &dyn SignatureProducer,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    crl_number: u64,
    revoked: &[RevokedCert],
) -> Result<Vec<u8>> {
    if let Some(ku) = issuer_cert.key_usage()
        && !ku.crl_sign
    {
        return Err(PkiError::InvalidCertificate(
            "issuer certificate lacks the cRLSign key usage".into(),
        ));
    }
    if next_update <= this_update {
        return Err(PkiError::InvalidArgument(
            "nextUpdate must be after thisUpdate".into(),
        ));
    }
    let sig_alg = producer.signature_algorithm().to_der()?;
    let mut entries = Vec::with_capacity(revoked.len());
    for r in revoked {
        check_serial(&r.serial)?;
        let exts = match r.reason {
            None | Some(0) => Vec::new(),
            Some(code) if code == 7 || code > 10 => {
                return Err(PkiError::InvalidArgument(format!(
                    "CRL reason code {code} is not defined"
                )));
            }
            Some(code) => seq(&[&extension(&OID_EXT_CRL_REASON, false, &[0x0a, 0x01, code])]),
        };
        entries.push(seq(&[
            &asn1::uint(&r.serial),
            &encode_time(r.revoked_at)?,
            &exts,
        ]));
    }
    let revoked_der = if entries.is_empty() {
        Vec::new()
    } else {
        let refs: Vec<&[u8]> = entries.iter().map(|e| e.as_slice()).collect();
        tlv_parts(TAG_SEQUENCE, &refs)
    };
    let keyid = match issuer_cert.subject_key_id() {
        Some(k) => k,
        None => key_identifier(issuer_cert.spki_der_ref())?,
    };
    let exts = tlv(
        0xa0,
        &seq(&[
            &extension(&OID_EXT_AUTHORITY_KEY_ID, false, &aki(&keyid)),
            &extension(&OID_EXT_CRL_NUMBER, false, &asn1::small_uint(crl_number)),
        ]),
    );
    let tbs = seq(&[
        &asn1::small_uint(1),
        &sig_alg,
        issuer_cert.subject_der_ref(),
        &encode_time(this_update)?,
        &encode_time(next_update)?,
        &revoked_der,
        &exts,
    ]);
    let signature = producer.sign(&tbs)?;
    let crl = seq(&[&tbs, &sig_alg, &bit_string(&signature)]);
    let alg = spki::AlgorithmIdentifierOwned::from_der(&sig_alg)?;
    if !verify_signature_with(
        issuer_cert.spki_der_ref(),
        &alg,
        &tbs,
        &signature,
        VerifyOptions::default(),
    )? {
        return Err(PkiError::InvalidArgument(
            "the CRL signing key does not match the issuer certificate".into(),
        ));
    }
    Ok(crl)
}

/// A parsed CRL.
#[derive(Clone, Debug)]
pub struct ParsedCrl {
    /// The CRL DER.
    pub der: Vec<u8>,
    /// DER of the issuer Name.
    pub issuer_der: Vec<u8>,
    /// thisUpdate.
    pub this_update: OffsetDateTime,
    /// nextUpdate.
    pub next_update: Option<OffsetDateTime>,
    /// cRLNumber (None when absent or larger than 64 bits).
    pub crl_number: Option<u64>,
    /// Revoked entries in CRL order.
    pub revoked: Vec<RevokedCert>,
    /// authorityKeyIdentifier keyIdentifier.
    pub authority_key_id: Option<Vec<u8>>,
    /// The CRL carries a critical extension (CRL or entry) we do not process, e.g. a delta
    /// CRL indicator, an issuing distribution point or an indirect CRL's certificateIssuer:
    /// RFC 5280 then forbids using it for revocation checking.
    pub has_unhandled_critical_extension: bool,
    /// The outer signature algorithm.
    pub signature_algorithm: spki::AlgorithmIdentifierOwned,
    tbs: Vec<u8>,
    signature: Vec<u8>,
    /// (serial without leading zeros, index into `revoked`), sorted.
    index: Vec<(Vec<u8>, usize)>,
}

fn trim_serial(s: &[u8]) -> Vec<u8> {
    let skip = s.iter().take_while(|b| **b == 0).count();
    s.get(skip..).unwrap_or(&[]).to_vec()
}

/// (oid, critical, value) of each Extension in an Extensions SEQUENCE content.
fn read_extensions(content: &[u8]) -> Result<Vec<(const_oid::ObjectIdentifier, bool, &[u8])>> {
    let mut r = asn1::Reader::new(content);
    let mut out = Vec::new();
    while !r.is_empty() {
        let e = r.expect(TAG_SEQUENCE)?;
        let mut er = e.reader();
        let o = asn1::read_oid(&er.read()?)?;
        let critical = match er.optional(TAG_BOOLEAN)? {
            Some(b) => b.content.first().is_some_and(|x| *x != 0),
            None => false,
        };
        let v = er.expect(TAG_OCTET_STRING)?;
        if !er.is_empty() {
            return Err(crl_err("trailing data in Extension"));
        }
        out.push((o, critical, v.content));
    }
    Ok(out)
}

/// Parse a DER CRL (strict: no BER, no trailing data).
pub fn parse_crl(der: &[u8]) -> Result<ParsedCrl> {
    let outer = asn1::parse_single(der)?;
    if outer.tag != TAG_SEQUENCE {
        return Err(crl_err("CertificateList is not a SEQUENCE"));
    }
    let mut r = outer.reader();
    let tbs = r.expect(TAG_SEQUENCE)?;
    let sig_alg_tlv = r.expect(TAG_SEQUENCE)?;
    let signature_algorithm = spki::AlgorithmIdentifierOwned::from_der(sig_alg_tlv.raw)?;
    let signature = asn1::read_bit_string_bytes(&r.read()?)?;
    if !r.is_empty() {
        return Err(crl_err("trailing data in CertificateList"));
    }
    let mut t = tbs.reader();
    if let Some(v) = t.optional(TAG_INTEGER)?
        && v.content != [1]
    {
        return Err(crl_err("unsupported CRL version"));
    }
    let inner_alg = t.expect(TAG_SEQUENCE)?;
    if inner_alg.raw != sig_alg_tlv.raw {
        return Err(crl_err(
            "signature algorithms in TBSCertList and CRL differ",
        ));
    }
    let issuer = t.expect(TAG_SEQUENCE)?;
    let this_update = asn1::read_time(&t.read()?)?;
    let mut next_update = None;
    if matches!(
        t.peek_tag(),
        Some(asn1::TAG_UTC_TIME | asn1::TAG_GENERALIZED_TIME)
    ) {
        next_update = Some(asn1::read_time(&t.read()?)?);
    }
    let mut revoked = Vec::new();
    let mut unhandled = false;
    if let Some(list) = t.optional(TAG_SEQUENCE)? {
        let mut lr = list.reader();
        while !lr.is_empty() {
            let e = lr.expect(TAG_SEQUENCE)?;
            let mut er = e.reader();
            let serial = er.expect(TAG_INTEGER)?;
            if serial.content.is_empty() {
                return Err(crl_err("empty serial number"));
            }
            let revoked_at = asn1::read_time(&er.read()?)?;
            let mut reason = None;
            if let Some(exts) = er.optional(TAG_SEQUENCE)? {
                for (o, critical, v) in read_extensions(exts.content)? {
                    if o == OID_EXT_CRL_REASON {
                        let en = asn1::parse_single(v)?;
                        match (en.tag, en.content) {
                            (0x0a, [c]) => reason = Some(*c),
                            _ => return Err(crl_err("invalid reasonCode")),
                        }
                    } else if critical && o != OID_EXT_INVALIDITY_DATE {
                        unhandled = true;
                    }
                }
            }
            if !er.is_empty() {
                return Err(crl_err("trailing data in a revoked entry"));
            }
            revoked.push(RevokedCert {
                serial: serial.content.to_vec(),
                revoked_at,
                reason,
            });
        }
    }
    let mut crl_number = None;
    let mut authority_key_id = None;
    if let Some(x) = t.optional(0xa0)? {
        let exts = asn1::parse_single(x.content)?;
        if exts.tag != TAG_SEQUENCE {
            return Err(crl_err("crlExtensions is not a SEQUENCE"));
        }
        for (o, critical, v) in read_extensions(exts.content)? {
            match o {
                OID_EXT_CRL_NUMBER => crl_number = asn1::read_u64(&asn1::parse_single(v)?),
                OID_EXT_AUTHORITY_KEY_ID => {
                    let a = asn1::parse_single(v)?;
                    authority_key_id = a.reader().optional(0x80)?.map(|k| k.content.to_vec());
                }
                _ => unhandled |= critical,
            }
        }
    }
    if !t.is_empty() {
        return Err(crl_err("trailing data in TBSCertList"));
    }
    let mut index: Vec<(Vec<u8>, usize)> = revoked
        .iter()
        .enumerate()
        .map(|(i, r)| (trim_serial(&r.serial), i))
        .collect();
    index.sort();
    Ok(ParsedCrl {
        der: der.to_vec(),
        issuer_der: issuer.raw.to_vec(),
        this_update,
        next_update,
        crl_number,
        revoked,
        authority_key_id,
        has_unhandled_critical_extension: unhandled,
        signature_algorithm,
        tbs: tbs.raw.to_vec(),
        signature: signature.to_vec(),
        index,
    })
}

impl ParsedCrl {
    /// Whether the CRL is issued by `issuer` (issuer name equals its subject) and the
    /// signature verifies with its public key (SHA-1 signatures are rejected). Key usage
    /// (cRLSign) is checked by path validation, not here.
    pub fn verify_signature(&self, issuer: &Certificate) -> bool {
        self.verify_signature_with(issuer, VerifyOptions::default())
    }

    /// [`ParsedCrl::verify_signature`] with options (e.g. SHA-1 for legacy CAs).
    pub fn verify_signature_with(&self, issuer: &Certificate, opts: VerifyOptions) -> bool {
        issuer.subject_der_ref() == self.issuer_der.as_slice()
            && verify_signature_with(
                issuer.spki_der_ref(),
                &self.signature_algorithm,
                &self.tbs,
                &self.signature,
                opts,
            )
            .unwrap_or(false)
    }

    /// The entry for `serial` (INTEGER content octets; leading zero octets ignored).
    pub fn is_revoked(&self, serial: &[u8]) -> Option<&RevokedCert> {
        let key = trim_serial(serial);
        let pos = self
            .index
            .binary_search_by(|(s, _)| s.as_slice().cmp(key.as_slice()))
            .ok()?;
        let (_, i) = self.index.get(pos)?;
        self.revoked.get(*i)
    }

    /// Whether the CRL covers `at` (thisUpdate <= at <= nextUpdate; no nextUpdate: only
    /// thisUpdate <= at).
    pub fn is_current_at(&self, at: OffsetDateTime) -> bool {
        self.this_update <= at && self.next_update.is_none_or(|n| at <= n)
    }
}
