//! CAdES detached signatures (RFC 5652 SignedData, ETSI EN 319 122-1 baseline B): building
//! ours, parsing anyone's (BER tolerant), and digests.

use aws_lc_rs::digest;
use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use time::OffsetDateTime;

use crate::asn1::{
    self, Reader, TAG_INTEGER, TAG_OCTET_STRING, TAG_SEQUENCE, TAG_SET, oid, seq, set_of, tlv,
    tlv_parts,
};
use crate::certs::{Certificate, VerifyOptions, verify_signature_prehashed, verify_signature_with};
use crate::keys::{KeyAlgorithm, SignatureProducer};
use crate::{PkiError, Result};

use crate::oids::*;
pub use crate::oids::{
    OID_CONTENT_TYPE, OID_ID_DATA, OID_MESSAGE_DIGEST, OID_SHA1, OID_SHA256, OID_SHA384,
    OID_SHA512, OID_SIGNED_DATA, OID_SIGNING_CERTIFICATE, OID_SIGNING_CERTIFICATE_V2,
    OID_SIGNING_TIME, OID_TIME_STAMP_TOKEN,
};

fn cms_err(msg: impl Into<String>) -> PkiError {
    PkiError::InvalidCms(msg.into())
}

// =============================================================================================
// Digests
// =============================================================================================

fn digest_algorithm(alg: &ObjectIdentifier) -> Result<&'static digest::Algorithm> {
    match *alg {
        OID_SHA256 => Ok(&digest::SHA256),
        OID_SHA384 => Ok(&digest::SHA384),
        OID_SHA512 => Ok(&digest::SHA512),
        OID_SHA224 => Ok(&digest::SHA224),
        OID_SHA1 => Ok(&digest::SHA1_FOR_LEGACY_USE_ONLY),
        other => Err(PkiError::UnsupportedAlgorithm(format!(
            "digest algorithm {other}"
        ))),
    }
}

/// Digest with the algorithm `alg` (SHA-256/384/512; SHA-224 and SHA-1 for foreign legacy
/// data) over the concatenation of `parts`.
pub fn digest_parts(alg: &ObjectIdentifier, parts: &[&[u8]]) -> Result<Vec<u8>> {
    let mut ctx = digest::Context::new(digest_algorithm(alg)?);
    for p in parts {
        ctx.update(p);
    }
    Ok(ctx.finish().as_ref().to_vec())
}

/// Incremental hasher for big inputs.
#[derive(Clone)]
pub struct Hasher(digest::Context);

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hasher")
    }
}

impl Hasher {
    /// New hasher for the digest algorithm `alg`.
    pub fn new(alg: &ObjectIdentifier) -> Result<Self> {
        Ok(Hasher(digest::Context::new(digest_algorithm(alg)?)))
    }

    /// Feed bytes.
    pub fn update(&mut self, b: &[u8]) {
        self.0.update(b);
    }

    /// The digest.
    pub fn finish(self) -> Vec<u8> {
        self.0.finish().as_ref().to_vec()
    }
}

// =============================================================================================
// Building
// =============================================================================================

pub(crate) fn attribute(attr_oid: &ObjectIdentifier, value: &[u8]) -> Vec<u8> {
    seq(&[&oid(attr_oid), &tlv(TAG_SET, value)])
}

/// ESSCertIDv2 with SHA-256 (hashAlgorithm omitted: it is the DEFAULT) and issuerSerial.
pub(crate) fn signing_certificate_v2(signer: &Certificate) -> Vec<u8> {
    let hash = signer.sha256_fingerprint();
    let general_names = seq(&[&tlv(0xa4, signer.issuer_der_ref())]);
    let serial = tlv(TAG_INTEGER, &signer.serial_bytes());
    let issuer_serial = seq(&[&general_names, &serial]);
    let cert_id = seq(&[&tlv(TAG_OCTET_STRING, &hash), &issuer_serial]);
    seq(&[&seq(&[&cert_id])])
}

/// DER of the signed attributes as a SET (what is signed).
fn signed_attributes(digest: &[u8; 32], signer: &Certificate) -> Vec<u8> {
    set_of(vec![
        attribute(&OID_CONTENT_TYPE, &oid(&OID_ID_DATA)),
        attribute(&OID_MESSAGE_DIGEST, &tlv(TAG_OCTET_STRING, digest)),
        attribute(&OID_SIGNING_CERTIFICATE_V2, &signing_certificate_v2(signer)),
    ])
}

fn sha256_alg_id() -> Vec<u8> {
    seq(&[&oid(&OID_SHA256)])
}

fn assemble(
    signed_attrs_set: &[u8],
    signer: &Certificate,
    chain: &[Certificate],
    sig_alg_der: &[u8],
    signature: &[u8],
) -> Vec<u8> {
    let version = asn1::small_uint(1);
    // [0] IMPLICIT: same content, context tag.
    let mut signed_attrs_implicit = signed_attrs_set.to_vec();
    if let Some(first) = signed_attrs_implicit.first_mut() {
        *first = 0xa0;
    }
    let sid = seq(&[
        signer.issuer_der_ref(),
        &tlv(TAG_INTEGER, &signer.serial_bytes()),
    ]);
    let digest_alg = sha256_alg_id();
    let signer_info = seq(&[
        &version,
        &sid,
        &digest_alg,
        &signed_attrs_implicit,
        sig_alg_der,
        &tlv(TAG_OCTET_STRING, signature),
    ]);
    let mut cert_parts: Vec<&[u8]> = vec![signer.der.as_slice()];
    for c in chain {
        if c.der != signer.der {
            cert_parts.push(c.der.as_slice());
        }
    }
    let certs = tlv_parts(0xa0, &cert_parts);
    let signed_data = seq(&[
        &version,
        &tlv(TAG_SET, &digest_alg),
        &seq(&[&oid(&OID_ID_DATA)]),
        &certs,
        &tlv(TAG_SET, &signer_info),
    ]);
    seq(&[&oid(&OID_SIGNED_DATA), &tlv(0xa0, &signed_data)])
}

/// Build a detached CMS SignedData (DER): version 1, digestAlgorithms {sha256}, id-data
/// without content, certificates = signer + `chain` (pass the issuing CA; the root only if you
/// want it embedded), one SignerInfo (issuerAndSerialNumber) with signed attributes
/// contentType, messageDigest and signingCertificateV2 (no signingTime: PAdES uses /M), and
/// the producer's signature over the DER SET OF signed attributes. Exactly one signature
/// operation.
pub fn build_cades_detached(
    message_digest_sha256: &[u8; 32],
    signer_cert: &Certificate,
    chain: &[Certificate],
    producer: &dyn SignatureProducer,
) -> Result<Vec<u8>> {
    let attrs = signed_attributes(message_digest_sha256, signer_cert);
    let sig_alg_der = producer.signature_algorithm().to_der()?;
    let signature = producer.sign(&attrs)?;
    Ok(assemble(
        &attrs,
        signer_cert,
        chain,
        &sig_alg_der,
        &signature,
    ))
}

/// Slack added by [`estimate_cades_size`] for producers whose AlgorithmIdentifier encoding
/// differs from the software key's (e.g. an HSM writing RSASSA-PSS parameters).
pub const ESTIMATE_SLACK: usize = 64;

/// Upper bound of the DER size [`build_cades_detached`] produces for these inputs (exact
/// maximum for a software key of `alg`, plus [`ESTIMATE_SLACK`]).
pub fn estimate_cades_size(
    signer_cert: &Certificate,
    chain: &[Certificate],
    alg: KeyAlgorithm,
) -> usize {
    let attrs = signed_attributes(&[0u8; 32], signer_cert);
    let sig_alg_der = alg.signature_algorithm().to_der().unwrap_or_default();
    let fake_sig = vec![0xffu8; alg.max_signature_len()];
    assemble(&attrs, signer_cert, chain, &sig_alg_der, &fake_sig).len() + ESTIMATE_SLACK
}

// =============================================================================================
// Unsigned attributes
// =============================================================================================

/// Locate the pieces of a DER ContentInfo/SignedData with exactly one SignerInfo.
struct SignedDataParts<'a> {
    /// SignedData fields before signerInfos (raw TLVs).
    head: Vec<&'a [u8]>,
    /// SignerInfo fields before unsignedAttrs (raw TLVs).
    signer_head: Vec<&'a [u8]>,
    /// Existing unsigned attributes (raw Attribute TLVs).
    unsigned: Vec<&'a [u8]>,
    /// The SignerInfo signature value.
    signature: &'a [u8],
}

fn signed_data_parts(der: &[u8]) -> Result<SignedDataParts<'_>> {
    let ci = asn1::parse_single(der)?;
    if ci.tag != TAG_SEQUENCE {
        return Err(cms_err("ContentInfo is not a SEQUENCE"));
    }
    let mut r = ci.reader();
    if asn1::read_oid(&r.read()?)? != OID_SIGNED_DATA {
        return Err(cms_err("content type is not signedData"));
    }
    let explicit = r.expect(0xa0)?;
    if !r.is_empty() {
        return Err(cms_err("trailing data in ContentInfo"));
    }
    let sd = asn1::parse_single(explicit.content)?;
    if sd.tag != TAG_SEQUENCE {
        return Err(cms_err("SignedData is not a SEQUENCE"));
    }
    let mut sr = sd.reader();
    let mut head = Vec::new();
    head.push(sr.expect(TAG_INTEGER)?.raw);
    head.push(sr.expect(TAG_SET)?.raw);
    head.push(sr.expect(TAG_SEQUENCE)?.raw);
    if let Some(c) = sr.optional(0xa0)? {
        head.push(c.raw);
    }
    if let Some(c) = sr.optional(0xa1)? {
        head.push(c.raw);
    }
    let infos = sr.expect(TAG_SET)?;
    if !sr.is_empty() {
        return Err(cms_err("trailing data in SignedData"));
    }
    let mut ir = infos.reader();
    let si = ir.expect(TAG_SEQUENCE)?;
    if !ir.is_empty() {
        return Err(cms_err("more than one SignerInfo"));
    }
    let mut r = si.reader();
    let mut signer_head = Vec::new();
    signer_head.push(r.expect(TAG_INTEGER)?.raw);
    let sid = r.read()?;
    if sid.tag != TAG_SEQUENCE && sid.tag != 0x80 {
        return Err(cms_err("unknown SignerIdentifier"));
    }
    signer_head.push(sid.raw);
    signer_head.push(r.expect(TAG_SEQUENCE)?.raw);
    if let Some(a) = r.optional(0xa0)? {
        signer_head.push(a.raw);
    }
    signer_head.push(r.expect(TAG_SEQUENCE)?.raw);
    let sig = r.expect(TAG_OCTET_STRING)?;
    signer_head.push(sig.raw);
    let mut unsigned = Vec::new();
    if let Some(ua) = r.optional(0xa1)? {
        let mut ur = ua.reader();
        while !ur.is_empty() {
            let a = ur.expect(TAG_SEQUENCE)?;
            let mut ar = a.reader();
            asn1::read_oid(&ar.read()?)?;
            ar.expect(TAG_SET)?;
            unsigned.push(a.raw);
        }
    }
    if !r.is_empty() {
        return Err(cms_err("trailing data in SignerInfo"));
    }
    Ok(SignedDataParts {
        head,
        signer_head,
        unsigned,
        signature: sig.content,
    })
}

/// Re-encode a CMS SignedData (DER, or BER that is normalised first; trailing zero padding
/// ignored) with one more unsigned attribute `attr_oid` holding the single value
/// `value_der` (a complete DER TLV, e.g. a timestamp token ContentInfo for
/// id-aa-timeStampToken) on its only SignerInfo. The signed parts are kept byte for byte;
/// the unsigned attributes are written as a DER SET OF. Errors when there is not exactly one
/// SignerInfo.
pub fn add_unsigned_attribute(
    cms_der: &[u8],
    attr_oid: ObjectIdentifier,
    value_der: &[u8],
) -> Result<Vec<u8>> {
    let value = asn1::parse_single(value_der)
        .map_err(|_| cms_err("attribute value is not a single DER value"))?;
    let der = asn1::ber_to_der(cms_der)?;
    let parts = signed_data_parts(&der)?;
    let mut attrs: Vec<Vec<u8>> = parts.unsigned.iter().map(|a| a.to_vec()).collect();
    attrs.push(attribute(&attr_oid, value.raw));
    let mut unsigned = set_of(attrs);
    if let Some(t) = unsigned.first_mut() {
        *t = 0xa1;
    }
    let mut si_parts = parts.signer_head.clone();
    si_parts.push(&unsigned);
    let signer_info = tlv_parts(TAG_SEQUENCE, &si_parts);
    let infos = tlv(TAG_SET, &signer_info);
    let mut sd_parts = parts.head.clone();
    sd_parts.push(&infos);
    let signed_data = tlv_parts(TAG_SEQUENCE, &sd_parts);
    Ok(seq(&[&oid(&OID_SIGNED_DATA), &tlv(0xa0, &signed_data)]))
}

/// The signature value of the only SignerInfo of a CMS SignedData (DER or BER): the input
/// of a signature timestamp (RFC 3161 appendix A). Cheaper than [`parse_cms`] (no
/// certificate parsing, no verification).
pub fn signer_signature_value(cms_der: &[u8]) -> Result<Vec<u8>> {
    let der = asn1::ber_to_der(cms_der)?;
    Ok(signed_data_parts(&der)?.signature.to_vec())
}

// =============================================================================================
// Parsing
// =============================================================================================

/// How the signed attributes bind the signer certificate (ESS signing-certificate attributes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EssBinding {
    /// signingCertificateV2 present and matches the signer certificate.
    V2Match,
    /// signingCertificate (v1, SHA-1) present and matches.
    V1Match,
    /// An ESS attribute is present but does not match (or there is no signer certificate).
    Mismatch,
    /// No ESS signing-certificate attribute.
    Absent,
}

/// A CMS SignedData as found in a PDF /Contents (or a timestamp token), first SignerInfo.
#[derive(Clone, Debug)]
pub struct ParsedCms {
    /// All certificates in the SignedData (unparseable ones skipped).
    pub certificates: Vec<Certificate>,
    /// The signer's certificate, matched by sid (issuerAndSerialNumber or subjectKeyIdentifier).
    pub signer_cert: Option<Certificate>,
    /// digestAlgorithm of the SignerInfo.
    pub digest_algorithm: ObjectIdentifier,
    /// messageDigest signed attribute.
    pub message_digest: Option<Vec<u8>>,
    /// The contentType signed attribute equals the encapsulated content type (id-data for PDF
    /// signatures), or there are no signed attributes.
    pub content_type_ok: bool,
    /// eContentType of encapContentInfo (id-data for PDF signatures, id-ct-TSTInfo for tokens).
    pub content_type: ObjectIdentifier,
    /// eContent, when the content is encapsulated (e.g. the TSTInfo of a timestamp token).
    pub encapsulated_content: Option<Vec<u8>>,
    /// Whether signed attributes are present.
    pub has_signed_attrs: bool,
    /// Whether a signingTime attribute is present.
    pub has_signing_time_attr: bool,
    /// Its value, when present and decodable.
    pub signing_time: Option<OffsetDateTime>,
    /// ESS signing-certificate binding.
    pub ess: EssBinding,
    /// The signature over the signed attributes verifies with the signer certificate's key.
    /// Always false without signed attributes (then use [`ParsedCms::verify_content_digest`]).
    pub signature_valid: bool,
    /// Human-readable signature algorithm, e.g. "RSA PKCS#1 v1.5 with SHA-256".
    pub signature_algorithm: String,
    /// The effective signature AlgorithmIdentifier (rsaEncryption resolved with the digest).
    pub signature_algorithm_id: spki::AlgorithmIdentifierOwned,
    /// OIDs of the unsigned attributes.
    pub unsigned_attr_oids: Vec<ObjectIdentifier>,
    /// Unsigned attributes: (type, DER of each value), e.g. a timestamp token.
    pub unsigned_attrs: Vec<(ObjectIdentifier, Vec<Vec<u8>>)>,
    /// The raw SignerInfo signature value (the input of a signature timestamp).
    pub signer_info_signature: Vec<u8>,
}

impl ParsedCms {
    /// For SignedData without signed attributes: verify the signature directly over the
    /// content digest (computed by the caller with [`ParsedCms::digest_algorithm`]).
    pub fn verify_content_digest(&self, content_digest: &[u8]) -> bool {
        if self.has_signed_attrs {
            return false;
        }
        let Some(cert) = &self.signer_cert else {
            return false;
        };
        verify_signature_prehashed(
            cert.spki_der_ref(),
            &self.signature_algorithm_id,
            content_digest,
            &self.signer_info_signature,
            VerifyOptions::default(),
        )
        .unwrap_or(false)
    }
}

/// Parse a CMS SignedData (BER or DER; trailing zero padding ignored) and verify the signer
/// signature over the signed attributes. SHA-1 signatures are treated as invalid.
pub fn parse_cms(blob: &[u8]) -> Result<ParsedCms> {
    parse_cms_with(blob, VerifyOptions::default())
}

/// [`parse_cms`] with verification options (e.g. allow SHA-1 for legacy foreign data).
pub fn parse_cms_with(blob: &[u8], opts: VerifyOptions) -> Result<ParsedCms> {
    let der = asn1::ber_to_der(blob)?;
    parse_cms_der(&der, opts, None)
}

/// Parse a (normalised) DER ContentInfo. `extra_signer` is a candidate signer certificate
/// used when the SignedData does not contain the signer's certificate.
pub(crate) fn parse_cms_der(
    der: &[u8],
    opts: VerifyOptions,
    extra_signer: Option<&Certificate>,
) -> Result<ParsedCms> {
    let ci = asn1::parse_single(der)?;
    if ci.tag != TAG_SEQUENCE {
        return Err(cms_err("ContentInfo is not a SEQUENCE"));
    }
    let mut r = ci.reader();
    let ct = asn1::read_oid(&r.read()?)?;
    if ct != OID_SIGNED_DATA {
        return Err(cms_err(format!("content type {ct} is not signedData")));
    }
    let explicit = r.expect(0xa0)?;
    let sd = asn1::parse_single(explicit.content)?;
    if sd.tag != TAG_SEQUENCE {
        return Err(cms_err("SignedData is not a SEQUENCE"));
    }
    let mut sr = sd.reader();
    sr.expect(TAG_INTEGER)?;
    sr.expect(TAG_SET)?;
    let encap = sr.expect(TAG_SEQUENCE)?;
    let mut er = encap.reader();
    let content_type = asn1::read_oid(&er.read()?)?;
    let encapsulated_content = match er.optional(0xa0)? {
        Some(ec) => {
            let os = asn1::parse_single(ec.content)?;
            if os.tag != TAG_OCTET_STRING {
                return Err(cms_err("eContent is not an OCTET STRING"));
            }
            Some(os.content.to_vec())
        }
        None => None,
    };
    let mut certificates = Vec::new();
    if let Some(cs) = sr.optional(0xa0)? {
        let mut cr = cs.reader();
        while !cr.is_empty() {
            let c = cr.read()?;
            if c.tag == TAG_SEQUENCE
                && let Ok(cert) = Certificate::from_der(c.raw)
            {
                certificates.push(cert);
            }
        }
    }
    sr.optional(0xa1)?; // CRLs
    let infos = sr.expect(TAG_SET)?;
    let mut ir = infos.reader();
    if ir.is_empty() {
        return Err(cms_err("no SignerInfo"));
    }
    let si = ir.expect(TAG_SEQUENCE)?;
    parse_signer_info(
        si.content,
        certificates,
        content_type,
        encapsulated_content,
        opts,
        extra_signer,
    )
}

enum Sid<'a> {
    IssuerSerial { issuer: &'a [u8], serial: &'a [u8] },
    Ski(&'a [u8]),
}

fn parse_signer_info(
    content: &[u8],
    certificates: Vec<Certificate>,
    content_type: ObjectIdentifier,
    encapsulated_content: Option<Vec<u8>>,
    opts: VerifyOptions,
    extra_signer: Option<&Certificate>,
) -> Result<ParsedCms> {
    let mut r = Reader::new(content);
    r.expect(TAG_INTEGER)?;
    let sid_tlv = r.read()?;
    let sid = match sid_tlv.tag {
        TAG_SEQUENCE => {
            let mut s = sid_tlv.reader();
            let issuer = s.expect(TAG_SEQUENCE)?;
            let serial = s.expect(TAG_INTEGER)?;
            Sid::IssuerSerial {
                issuer: issuer.raw,
                serial: serial.content,
            }
        }
        0x80 => Sid::Ski(sid_tlv.content),
        _ => return Err(cms_err("unknown SignerIdentifier")),
    };
    let dalg = r.expect(TAG_SEQUENCE)?;
    let digest_algorithm = asn1::read_oid(&dalg.reader().read()?)?;
    let signed_attrs = r.optional(0xa0)?;
    let sig_alg_tlv = r.expect(TAG_SEQUENCE)?;
    let sig_alg = spki::AlgorithmIdentifierOwned::from_der(sig_alg_tlv.raw)?;
    let signature = r.expect(TAG_OCTET_STRING)?.content.to_vec();
    let mut unsigned_attrs = Vec::new();
    if let Some(ua) = r.optional(0xa1)? {
        unsigned_attrs = parse_attributes(ua.content)?
            .into_iter()
            .map(|(o, vals)| (o, vals.iter().map(|v| v.raw.to_vec()).collect()))
            .collect();
    }

    let signer_cert = certificates
        .iter()
        .chain(extra_signer)
        .find(|c| match &sid {
            Sid::IssuerSerial { issuer, serial } => {
                c.issuer_der_ref() == *issuer && same_integer(&c.serial_bytes(), serial)
            }
            Sid::Ski(k) => c.subject_key_id().as_deref() == Some(*k),
        })
        .cloned();

    let signature_algorithm_id = effective_algorithm(&sig_alg, &digest_algorithm);
    let signature_algorithm = describe_algorithm(&signature_algorithm_id);

    let mut out = ParsedCms {
        certificates,
        signer_cert,
        digest_algorithm,
        message_digest: None,
        content_type_ok: true,
        content_type,
        encapsulated_content,
        has_signed_attrs: signed_attrs.is_some(),
        has_signing_time_attr: false,
        signing_time: None,
        ess: EssBinding::Absent,
        signature_valid: false,
        signature_algorithm,
        signature_algorithm_id,
        unsigned_attr_oids: unsigned_attrs.iter().map(|(o, _)| *o).collect(),
        unsigned_attrs,
        signer_info_signature: signature,
    };

    let Some(sa) = signed_attrs else {
        return Ok(out);
    };
    let attrs = parse_attributes(sa.content)?;
    let mut ct_ok = false;
    let mut ess_v1 = None;
    let mut ess_v2 = None;
    for (o, vals) in &attrs {
        let first = vals.first();
        match *o {
            OID_CONTENT_TYPE => {
                ct_ok = vals.len() == 1
                    && first.is_some_and(|v| asn1::read_oid(v).ok() == Some(content_type));
            }
            OID_MESSAGE_DIGEST => {
                if let Some(v) = first
                    && v.tag == TAG_OCTET_STRING
                {
                    out.message_digest = Some(v.content.to_vec());
                }
            }
            OID_SIGNING_TIME => {
                out.has_signing_time_attr = true;
                out.signing_time = first.and_then(|v| parse_time(v.tag, v.content));
            }
            OID_SIGNING_CERTIFICATE_V2 => ess_v2 = first.map(|v| v.raw),
            OID_SIGNING_CERTIFICATE => ess_v1 = first.map(|v| v.raw),
            _ => {}
        }
    }
    out.content_type_ok = ct_ok;
    out.ess = match (&out.signer_cert, ess_v2, ess_v1) {
        (_, None, None) => EssBinding::Absent,
        (None, _, _) => EssBinding::Mismatch,
        (Some(c), Some(v2), _) => {
            if ess_matches(v2, c, true).unwrap_or(false) {
                EssBinding::V2Match
            } else {
                EssBinding::Mismatch
            }
        }
        (Some(c), None, Some(v1)) => {
            if ess_matches(v1, c, false).unwrap_or(false) {
                EssBinding::V1Match
            } else {
                EssBinding::Mismatch
            }
        }
    };

    if let Some(cert) = &out.signer_cert {
        // What was signed: the attributes with the SET tag.
        let mut set = sa.raw.to_vec();
        if let Some(b) = set.first_mut() {
            *b = TAG_SET;
        }
        let verify = |msg: &[u8]| {
            verify_signature_with(
                cert.spki_der_ref(),
                &out.signature_algorithm_id,
                msg,
                &out.signer_info_signature,
                opts,
            )
            .unwrap_or(false)
        };
        let mut valid = verify(&set);
        if !valid {
            // Some signers do not sort the SET OF; verifiers that re-encode (OpenSSL) then
            // sign the sorted form. Try it.
            let sorted = set_of(attrs_raw(sa.content)?);
            if sorted != set {
                valid = verify(&sorted);
            }
        }
        out.signature_valid = valid;
    }
    Ok(out)
}

fn attrs_raw(content: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut r = Reader::new(content);
    let mut v = Vec::new();
    while !r.is_empty() {
        v.push(r.read()?.raw.to_vec());
    }
    Ok(v)
}

type Attrs<'a> = Vec<(ObjectIdentifier, Vec<asn1::Tlv<'a>>)>;

fn parse_attributes(content: &[u8]) -> Result<Attrs<'_>> {
    let mut r = Reader::new(content);
    let mut out = Vec::new();
    while !r.is_empty() {
        let a = r.expect(TAG_SEQUENCE)?;
        let mut ar = a.reader();
        let o = asn1::read_oid(&ar.read()?)?;
        let set = ar.expect(TAG_SET)?;
        let mut vr = set.reader();
        let mut vals = Vec::new();
        while !vr.is_empty() {
            vals.push(vr.read()?);
        }
        out.push((o, vals));
    }
    Ok(out)
}

/// INTEGER contents equal as (positive) numbers, ignoring leading zero octets.
fn same_integer(a: &[u8], b: &[u8]) -> bool {
    fn trim(x: &[u8]) -> &[u8] {
        let skip = x.iter().take_while(|b| **b == 0).count();
        x.get(skip..).unwrap_or(&[])
    }
    trim(a) == trim(b)
}

fn parse_time(tag: u8, content: &[u8]) -> Option<OffsetDateTime> {
    let s = std::str::from_utf8(content).ok()?;
    let (year, rest) = match tag {
        asn1::TAG_UTC_TIME => {
            let yy: i32 = s.get(0..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, s.get(2..)?)
        }
        asn1::TAG_GENERALIZED_TIME => (s.get(0..4)?.parse().ok()?, s.get(4..)?),
        _ => return None,
    };
    let rest = rest.strip_suffix('Z')?;
    let p = |r: std::ops::Range<usize>| -> Option<u8> { rest.get(r)?.parse().ok() };
    let month = time::Month::try_from(p(0..2)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, p(2..4)?).ok()?;
    let sec_part = rest.get(8..10).unwrap_or("00");
    let t = time::Time::from_hms(p(4..6)?, p(6..8)?, sec_part.parse().ok()?).ok()?;
    Some(time::PrimitiveDateTime::new(date, t).assume_utc())
}

/// Does an ESS signing-certificate attribute value (SigningCertificate[V2]) name `cert`?
fn ess_matches(value_der: &[u8], cert: &Certificate, v2: bool) -> Result<bool> {
    let sc = asn1::parse_single(value_der)?;
    let mut r = sc.reader();
    let certs = r.expect(TAG_SEQUENCE)?;
    let mut cr = certs.reader();
    let id = cr.expect(TAG_SEQUENCE)?;
    let mut ir = id.reader();
    let hash_alg = if v2 {
        match ir.optional(TAG_SEQUENCE)? {
            Some(a) => asn1::read_oid(&a.reader().read()?)?,
            None => OID_SHA256,
        }
    } else {
        OID_SHA1
    };
    let hash = ir.expect(TAG_OCTET_STRING)?;
    let computed = digest_parts(&hash_alg, &[&cert.der])?;
    if computed != hash.content {
        return Ok(false);
    }
    if let Some(is) = ir.optional(TAG_SEQUENCE)? {
        let mut isr = is.reader();
        let names = isr.expect(TAG_SEQUENCE)?;
        let serial = isr.expect(TAG_INTEGER)?;
        let mut nr = names.reader();
        let mut name_ok = false;
        while !nr.is_empty() {
            let gn = nr.read()?;
            if gn.tag == 0xa4 && gn.content == cert.issuer_der_ref() {
                name_ok = true;
            }
        }
        if !name_ok || !same_integer(serial.content, &cert.serial_bytes()) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Resolve CMS-style "rsaEncryption" / "id-ecPublicKey" signature algorithms with the digest.
fn effective_algorithm(
    sig_alg: &spki::AlgorithmIdentifierOwned,
    digest_alg: &ObjectIdentifier,
) -> spki::AlgorithmIdentifierOwned {
    let mapped = match sig_alg.oid {
        OID_RSA_ENCRYPTION => match *digest_alg {
            OID_SHA1 => Some(OID_SHA1_WITH_RSA),
            OID_SHA256 => Some(OID_SHA256_WITH_RSA),
            OID_SHA384 => Some(OID_SHA384_WITH_RSA),
            OID_SHA512 => Some(OID_SHA512_WITH_RSA),
            _ => None,
        },
        OID_EC_PUBLIC_KEY => match *digest_alg {
            OID_SHA1 => Some(OID_ECDSA_WITH_SHA1),
            OID_SHA256 => Some(OID_ECDSA_WITH_SHA256),
            OID_SHA384 => Some(OID_ECDSA_WITH_SHA384),
            OID_SHA512 => Some(OID_ECDSA_WITH_SHA512),
            _ => None,
        },
        _ => None,
    };
    match mapped {
        Some(o) => spki::AlgorithmIdentifierOwned {
            oid: o,
            parameters: None,
        },
        None => sig_alg.clone(),
    }
}

fn describe_algorithm(alg: &spki::AlgorithmIdentifierOwned) -> String {
    match alg.oid {
        OID_SHA1_WITH_RSA => "RSA PKCS#1 v1.5 with SHA-1".into(),
        OID_SHA256_WITH_RSA => "RSA PKCS#1 v1.5 with SHA-256".into(),
        OID_SHA384_WITH_RSA => "RSA PKCS#1 v1.5 with SHA-384".into(),
        OID_SHA512_WITH_RSA => "RSA PKCS#1 v1.5 with SHA-512".into(),
        OID_RSASSA_PSS => "RSASSA-PSS".into(),
        OID_ECDSA_WITH_SHA1 => "ECDSA with SHA-1".into(),
        OID_ECDSA_WITH_SHA256 => "ECDSA with SHA-256".into(),
        OID_ECDSA_WITH_SHA384 => "ECDSA with SHA-384".into(),
        OID_ECDSA_WITH_SHA512 => "ECDSA with SHA-512".into(),
        OID_ED25519 => "Ed25519".into(),
        other => format!("unknown ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers() {
        assert!(same_integer(&[0x00, 0x80], &[0x00, 0x80]));
        assert!(same_integer(&[0x00, 0x01], &[0x01]));
        assert!(!same_integer(&[0x01], &[0x02]));
        assert!(same_integer(&[0x00], &[0x00]));
    }

    #[test]
    fn times() {
        let t = parse_time(asn1::TAG_UTC_TIME, b"250102030405Z").unwrap();
        assert_eq!(t.year(), 2025);
        assert_eq!(t.second(), 5);
        assert!(parse_time(asn1::TAG_GENERALIZED_TIME, b"20250102030405Z").is_some());
        assert!(parse_time(asn1::TAG_UTC_TIME, b"2501").is_none());
    }
}
