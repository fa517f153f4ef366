//! OCSP (RFC 6960): requests (build and parse, as `openssl ocsp` and other clients send
//! them), responses from our responder (one signature operation each, delegated responder
//! certificate pre-encoded), and the client side (parsing, status lookup, responder
//! authorisation).

use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use time::OffsetDateTime;

use crate::asn1::{
    self, TAG_GENERALIZED_TIME, TAG_INTEGER, TAG_OCTET_STRING, TAG_SEQUENCE, bit_string, oid, seq,
    tlv, tlv_parts,
};
use crate::certs::{Certificate, VerifyOptions, verify_signature_with};
use crate::cms::digest_parts;
use crate::keys::SignatureProducer;
use crate::oids::*;
use crate::{PkiError, Result};

pub use crate::oids::{OID_PKIX_OCSP_BASIC, OID_PKIX_OCSP_NOCHECK, OID_PKIX_OCSP_NONCE};

/// OCSPResponseStatus successful.
pub const OCSP_SUCCESSFUL: u8 = 0;
/// OCSPResponseStatus malformedRequest.
pub const OCSP_MALFORMED_REQUEST: u8 = 1;
/// OCSPResponseStatus internalError.
pub const OCSP_INTERNAL_ERROR: u8 = 2;
/// OCSPResponseStatus tryLater.
pub const OCSP_TRY_LATER: u8 = 3;
/// OCSPResponseStatus sigRequired.
pub const OCSP_SIG_REQUIRED: u8 = 5;
/// OCSPResponseStatus unauthorized.
pub const OCSP_UNAUTHORIZED: u8 = 6;

/// Maximum number of CertIDs accepted in one request.
pub const MAX_REQUEST_CERTS: usize = 64;
/// Maximum nonce length accepted in a request (RFC 8954: 1-32 octets; some clients send
/// more, we echo up to this).
pub const MAX_NONCE_LEN: usize = 128;

fn ocsp_err(msg: impl Into<String>) -> PkiError {
    PkiError::Asn1(format!("OCSP: {}", msg.into()))
}

// =============================================================================================
// CertID
// =============================================================================================

/// An OCSP CertID.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CertId {
    /// Hash algorithm of the two hashes (SHA-1 is what most clients send).
    pub hash_algorithm: ObjectIdentifier,
    /// Hash of the issuer's distinguished name (DER).
    pub issuer_name_hash: Vec<u8>,
    /// Hash of the issuer's public key (subjectPublicKey BIT STRING value).
    pub issuer_key_hash: Vec<u8>,
    /// Serial number of the certificate: INTEGER content octets.
    pub serial: Vec<u8>,
}

fn hash_len(alg: &ObjectIdentifier) -> Option<usize> {
    match *alg {
        OID_SHA1 => Some(20),
        OID_SHA224 => Some(28),
        OID_SHA256 => Some(32),
        OID_SHA384 => Some(48),
        OID_SHA512 => Some(64),
        _ => None,
    }
}

impl CertId {
    /// The CertID of `cert` issued by `issuer`, hashed with `hash` (OID_SHA1 or OID_SHA256;
    /// SHA-384/512 also work). The name hash is over `cert`'s issuer field.
    pub fn for_cert(
        cert: &Certificate,
        issuer: &Certificate,
        hash: ObjectIdentifier,
    ) -> Result<CertId> {
        let (issuer_name_hash, issuer_key_hash) = Self::issuer_hashes(issuer, hash)?;
        if cert.issuer_der_ref() != issuer.subject_der_ref() {
            return Err(PkiError::InvalidArgument(
                "the certificate was not issued by this issuer (names differ)".into(),
            ));
        }
        Ok(CertId {
            hash_algorithm: hash,
            issuer_name_hash,
            issuer_key_hash,
            serial: cert.serial_bytes(),
        })
    }

    /// (name hash, key hash) of `issuer` with `hash`.
    pub fn issuer_hashes(
        issuer: &Certificate,
        hash: ObjectIdentifier,
    ) -> Result<(Vec<u8>, Vec<u8>)> {
        if hash_len(&hash).is_none() {
            return Err(PkiError::UnsupportedAlgorithm(format!(
                "OCSP CertID hash {hash}"
            )));
        }
        Ok((
            digest_parts(&hash, &[issuer.subject_der_ref()])?,
            digest_parts(&hash, &[issuer.public_key_bits()])?,
        ))
    }

    /// Whether this CertID names `issuer` (hashes recomputed with the CertID's algorithm).
    pub fn matches_issuer(&self, issuer: &Certificate) -> bool {
        Self::issuer_hashes(issuer, self.hash_algorithm)
            .is_ok_and(|(n, k)| n == self.issuer_name_hash && k == self.issuer_key_hash)
    }

    /// Whether this CertID names `cert` issued by `issuer`.
    pub fn matches(&self, cert: &Certificate, issuer: &Certificate) -> bool {
        asn1::same_uint(&self.serial, &cert.serial_bytes())
            && cert.issuer_der_ref() == issuer.subject_der_ref()
            && self.matches_issuer(issuer)
    }

    /// Serial number, lowercase hex without leading zeros.
    pub fn serial_hex(&self) -> String {
        asn1::uint_hex(&self.serial)
    }

    /// DER (hash AlgorithmIdentifier with NULL parameters, as OpenSSL and Java write it).
    pub fn to_der(&self) -> Vec<u8> {
        let serial = if self.serial.is_empty() {
            tlv(TAG_INTEGER, &[0])
        } else {
            tlv(TAG_INTEGER, &self.serial)
        };
        seq(&[
            &seq(&[&oid(&self.hash_algorithm), &[0x05, 0x00]]),
            &tlv(TAG_OCTET_STRING, &self.issuer_name_hash),
            &tlv(TAG_OCTET_STRING, &self.issuer_key_hash),
            &serial,
        ])
    }

    fn read(t: &asn1::Tlv<'_>) -> Result<CertId> {
        if t.tag != TAG_SEQUENCE {
            return Err(ocsp_err("CertID is not a SEQUENCE"));
        }
        let mut r = t.reader();
        let alg = r.expect(TAG_SEQUENCE)?;
        let mut ar = alg.reader();
        let hash_algorithm = asn1::read_oid(&ar.read()?)?;
        if !ar.is_empty() {
            let p = ar.read()?;
            if p.tag != 0x05 || !p.content.is_empty() || !ar.is_empty() {
                return Err(ocsp_err("CertID hash parameters must be absent or NULL"));
            }
        }
        let name = r.expect(TAG_OCTET_STRING)?;
        let key = r.expect(TAG_OCTET_STRING)?;
        let serial = r.expect(TAG_INTEGER)?;
        if !r.is_empty() {
            return Err(ocsp_err("trailing data in CertID"));
        }
        if let Some(len) = hash_len(&hash_algorithm)
            && (name.content.len() != len || key.content.len() != len)
        {
            return Err(ocsp_err("CertID hash length does not match its algorithm"));
        }
        if serial.content.is_empty() || serial.content.len() > 64 {
            return Err(ocsp_err("CertID serial number of invalid length"));
        }
        Ok(CertId {
            hash_algorithm,
            issuer_name_hash: name.content.to_vec(),
            issuer_key_hash: key.content.to_vec(),
            serial: serial.content.to_vec(),
        })
    }
}

// =============================================================================================
// Request
// =============================================================================================

/// An (unsigned) OCSPRequest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OcspRequest {
    /// The certificates asked about.
    pub certs: Vec<CertId>,
    /// Nonce (RFC 8954: the octets inside the extension's OCTET STRING).
    pub nonce: Option<Vec<u8>>,
}

impl OcspRequest {
    /// DER: version v1 (omitted), no requestorName, one Request per CertID, the nonce as
    /// requestExtensions id-pkix-ocsp-nonce (non-critical), no signature.
    pub fn to_der(&self) -> Vec<u8> {
        let reqs: Vec<Vec<u8>> = self.certs.iter().map(|c| seq(&[&c.to_der()])).collect();
        let refs: Vec<&[u8]> = reqs.iter().map(|r| r.as_slice()).collect();
        let list = seq(&refs);
        let exts = match &self.nonce {
            Some(n) => tlv(0xa2, &seq(&[&nonce_extension(n)])),
            None => Vec::new(),
        };
        seq(&[&seq(&[&list, &exts])])
    }

    /// Parse a DER OCSPRequest (definite lengths, no trailing data): 1 to 64 CertIDs, an
    /// optional requestorName, request and single-request extensions (the nonce is taken, the
    /// others ignored), and an optional signature, which is NOT verified (this responder
    /// answers unsigned requests; a signature adds nothing it relies on).
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let outer = asn1::parse_single(der)?;
        if outer.tag != TAG_SEQUENCE {
            return Err(ocsp_err("OCSPRequest is not a SEQUENCE"));
        }
        let mut r = outer.reader();
        let tbs = r.expect(TAG_SEQUENCE)?;
        r.optional(0xa0)?; // optionalSignature
        if !r.is_empty() {
            return Err(ocsp_err("trailing data in OCSPRequest"));
        }
        let mut tr = tbs.reader();
        if let Some(v) = tr.optional(0xa0)? {
            let i = asn1::parse_single(v.content)?;
            if i.tag != TAG_INTEGER || i.content != [0] {
                return Err(ocsp_err("unsupported OCSPRequest version"));
            }
        }
        tr.optional(0xa1)?; // requestorName
        let list = tr.expect(TAG_SEQUENCE)?;
        let mut nonce = None;
        if let Some(exts) = tr.optional(0xa2)? {
            nonce = find_nonce(exts.content)?;
        }
        if !tr.is_empty() {
            return Err(ocsp_err("trailing data in TBSRequest"));
        }
        let mut certs = Vec::new();
        let mut lr = list.reader();
        while !lr.is_empty() {
            let req = lr.expect(TAG_SEQUENCE)?;
            let mut rr = req.reader();
            certs.push(CertId::read(&rr.read()?)?);
            rr.optional(0xa0)?; // singleRequestExtensions
            if !rr.is_empty() {
                return Err(ocsp_err("trailing data in Request"));
            }
            if certs.len() > MAX_REQUEST_CERTS {
                return Err(ocsp_err("too many certificates in one request"));
            }
        }
        if certs.is_empty() {
            return Err(ocsp_err("empty requestList"));
        }
        Ok(OcspRequest { certs, nonce })
    }
}

/// Maximum length of the path segment of an OCSP GET request we decode.
pub const MAX_GET_SEGMENT: usize = 16 * 1024;

/// Decode the request of an OCSP GET (RFC 6960 appendix A.1): the last path segment is the
/// URL-encoded base64 of the DER OCSPRequest. Percent escapes are decoded; the standard and
/// the URL-safe base64 alphabets are accepted, with or without padding. Returns the DER (to
/// give to [`OcspRequest::from_der`]).
pub fn decode_get_path(segment: &str) -> Result<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    if segment.len() > MAX_GET_SEGMENT {
        return Err(ocsp_err("GET request too long"));
    }
    let bytes = segment.as_bytes();
    let mut text = Vec::with_capacity(bytes.len());
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| ocsp_err("invalid percent escape in GET request"))?;
            text.push(hex);
            i += 3;
        } else {
            text.push(b);
            i += 1;
        }
    }
    let text: Vec<u8> = text
        .into_iter()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(&text).ok())
        .ok_or_else(|| ocsp_err("GET request is not base64"))
}

fn nonce_extension(n: &[u8]) -> Vec<u8> {
    seq(&[
        &oid(&OID_PKIX_OCSP_NONCE),
        &tlv(TAG_OCTET_STRING, &tlv(TAG_OCTET_STRING, n)),
    ])
}

/// The nonce in an explicit-tagged Extensions content (`[n] { SEQUENCE OF Extension }`).
fn find_nonce(explicit_content: &[u8]) -> Result<Option<Vec<u8>>> {
    let exts = asn1::parse_single(explicit_content)?;
    if exts.tag != TAG_SEQUENCE {
        return Err(ocsp_err("Extensions is not a SEQUENCE"));
    }
    let mut er = exts.reader();
    let mut nonce = None;
    while !er.is_empty() {
        let e = er.expect(TAG_SEQUENCE)?;
        let mut xr = e.reader();
        let o = asn1::read_oid(&xr.read()?)?;
        xr.optional(asn1::TAG_BOOLEAN)?;
        let v = xr.expect(TAG_OCTET_STRING)?;
        if !xr.is_empty() {
            return Err(ocsp_err("trailing data in Extension"));
        }
        if o == OID_PKIX_OCSP_NONCE {
            // RFC 8954: Nonce ::= OCTET STRING inside extnValue. Very old clients put the
            // raw octets directly; take those as the nonce.
            let n = match asn1::parse_single(v.content) {
                Ok(inner) if inner.tag == TAG_OCTET_STRING => inner.content,
                _ => v.content,
            };
            if n.is_empty() || n.len() > MAX_NONCE_LEN {
                return Err(ocsp_err("nonce of invalid length"));
            }
            nonce = Some(n.to_vec());
        }
    }
    Ok(nonce)
}

// =============================================================================================
// Responder
// =============================================================================================

/// Certificate status in a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CertStatusKind {
    /// Not revoked.
    Good,
    /// Revoked at `at`, with an optional CRLReason.
    Revoked {
        /// revocationTime.
        at: OffsetDateTime,
        /// revocationReason (CRLReason), see [`crate::crl::crl_reason_name`].
        reason: Option<u8>,
    },
    /// The responder does not know the certificate.
    Unknown,
}

/// One SingleResponse to build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SingleResponseSpec {
    /// The CertID as the client sent it (echoed as is).
    pub cert_id: CertId,
    /// Status.
    pub status: CertStatusKind,
    /// thisUpdate: the time the status is known to be correct.
    pub this_update: OffsetDateTime,
    /// nextUpdate: when newer information will be available.
    pub next_update: Option<OffsetDateTime>,
}

/// An OCSP responder with its certificate data pre-encoded (responderID byKey, certs field).
/// Each [`PreparedOcspResponder::respond`] costs ONE signature operation.
#[derive(Clone, Debug)]
pub struct PreparedOcspResponder {
    responder_id_der: Vec<u8>,
    certs_der: Vec<u8>,
}

impl PreparedOcspResponder {
    /// Prepare for `responder_cert` (the CA itself or a delegated responder certificate with
    /// id-kp-OCSPSigning issued by it), including it and `include_certs` (duplicates dropped)
    /// in the certs field of every response.
    pub fn new(responder_cert: &Certificate, include_certs: &[Certificate]) -> Result<Self> {
        let key_hash = digest_parts(&OID_SHA1, &[responder_cert.public_key_bits()])?;
        if responder_cert.public_key_bits().is_empty() {
            return Err(PkiError::InvalidCertificate(
                "responder certificate has no usable public key".into(),
            ));
        }
        let mut parts: Vec<&[u8]> = vec![responder_cert.der.as_slice()];
        for c in include_certs {
            if !parts.contains(&c.der.as_slice()) {
                parts.push(c.der.as_slice());
            }
        }
        Ok(PreparedOcspResponder {
            // byKey [2] EXPLICIT KeyHash (SHA-1 of the responder's public key)
            responder_id_der: tlv(0xa2, &tlv(TAG_OCTET_STRING, &key_hash)),
            certs_der: tlv(0xa0, &tlv_parts(TAG_SEQUENCE, &parts)),
        })
    }

    /// A DER OCSPResponse (successful, id-pkix-ocsp-basic) with one SingleResponse per entry
    /// of `responses`, producedAt, the nonce echoed as a response extension, signed by
    /// `producer` (the responder certificate's key).
    pub fn respond(
        &self,
        responses: &[SingleResponseSpec],
        producer: &dyn SignatureProducer,
        produced_at: OffsetDateTime,
        nonce: Option<&[u8]>,
    ) -> Result<Vec<u8>> {
        if responses.is_empty() {
            return Err(PkiError::InvalidArgument(
                "an OCSP response needs at least one SingleResponse".into(),
            ));
        }
        let mut singles = Vec::with_capacity(responses.len());
        for r in responses {
            singles.push(single_response(r)?);
        }
        let refs: Vec<&[u8]> = singles.iter().map(|s| s.as_slice()).collect();
        let exts = match nonce {
            Some(n) if !n.is_empty() => tlv(0xa1, &seq(&[&nonce_extension(n)])),
            _ => Vec::new(),
        };
        let tbs = seq(&[
            &self.responder_id_der,
            &asn1::generalized_time(produced_at, false)?,
            &seq(&refs),
            &exts,
        ]);
        let sig_alg = producer.signature_algorithm().to_der()?;
        let signature = producer.sign(&tbs)?;
        let basic = seq(&[&tbs, &sig_alg, &bit_string(&signature), &self.certs_der]);
        let response_bytes = seq(&[&oid(&OID_PKIX_OCSP_BASIC), &tlv(TAG_OCTET_STRING, &basic)]);
        Ok(seq(&[&[0x0a, 0x01, 0x00], &tlv(0xa0, &response_bytes)]))
    }
}

fn single_response(r: &SingleResponseSpec) -> Result<Vec<u8>> {
    let status = match r.status {
        CertStatusKind::Good => vec![0x80, 0x00],
        CertStatusKind::Unknown => vec![0x82, 0x00],
        CertStatusKind::Revoked { at, reason } => {
            let t = asn1::generalized_time(at, false)?;
            let reason = match reason {
                Some(code) => tlv(0xa0, &[0x0a, 0x01, code]),
                None => Vec::new(),
            };
            tlv_parts(0xa1, &[&t, &reason])
        }
    };
    let next = match r.next_update {
        Some(n) => tlv(0xa0, &asn1::generalized_time(n, false)?),
        None => Vec::new(),
    };
    Ok(seq(&[
        &r.cert_id.to_der(),
        &status,
        &asn1::generalized_time(r.this_update, false)?,
        &next,
    ]))
}

/// Build a signed OCSPResponse (see [`PreparedOcspResponder::respond`]; this one-shot form
/// pre-encodes the responder data on each call). certs = `responder_cert` followed by
/// `include_certs`.
pub fn build_ocsp_response(
    responses: &[SingleResponseSpec],
    responder_cert: &Certificate,
    producer: &dyn SignatureProducer,
    produced_at: OffsetDateTime,
    nonce: Option<&[u8]>,
    include_certs: &[Certificate],
) -> Result<Vec<u8>> {
    PreparedOcspResponder::new(responder_cert, include_certs)?.respond(
        responses,
        producer,
        produced_at,
        nonce,
    )
}

/// An unsigned OCSPResponse with an error status (1 malformedRequest, 2 internalError,
/// 3 tryLater, 5 sigRequired, 6 unauthorized).
pub fn ocsp_error_response(status: u8) -> Vec<u8> {
    vec![0x30, 0x03, 0x0a, 0x01, status]
}

// =============================================================================================
// Client
// =============================================================================================

/// Identification of the responder in a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResponderId {
    /// byName: DER of the Name.
    ByName(Vec<u8>),
    /// byKey: SHA-1 of the responder's public key.
    ByKey(Vec<u8>),
}

impl ResponderId {
    /// Whether `cert` is the certificate this identifies.
    pub fn matches(&self, cert: &Certificate) -> bool {
        match self {
            ResponderId::ByName(n) => cert.subject_der_ref() == n.as_slice(),
            ResponderId::ByKey(k) => {
                digest_parts(&OID_SHA1, &[cert.public_key_bits()]).is_ok_and(|h| h == *k)
            }
        }
    }
}

/// A parsed OCSPResponse. For a non-successful `status` only `der` and `status` are
/// meaningful (`produced_at` is the Unix epoch, no responses).
#[derive(Clone, Debug)]
pub struct ParsedOcspResponse {
    /// The response DER.
    pub der: Vec<u8>,
    /// OCSPResponseStatus (0 successful).
    pub status: u8,
    /// producedAt.
    pub produced_at: OffsetDateTime,
    /// (CertID, status, thisUpdate, nextUpdate) of each SingleResponse.
    pub responses: Vec<(
        CertId,
        CertStatusKind,
        OffsetDateTime,
        Option<OffsetDateTime>,
    )>,
    /// The included certificate the responderID designates, if any.
    pub responder_cert: Option<Certificate>,
    /// All included certificates.
    pub certificates: Vec<Certificate>,
    /// Nonce response extension (the octets inside its OCTET STRING).
    pub nonce: Option<Vec<u8>>,
    /// The signature verifies with [`ParsedOcspResponse::responder_cert`]'s key.
    pub signature_valid: bool,
    /// The responderID.
    pub responder_id: Option<ResponderId>,
    tbs: Vec<u8>,
    signature_algorithm: Option<spki::AlgorithmIdentifierOwned>,
    signature: Vec<u8>,
    opts: VerifyOptions,
}

/// Parse an OCSPResponse (DER; BER is normalised first) and verify its signature with the
/// included responder certificate. SHA-1 signatures count as invalid.
pub fn parse_ocsp_response(der: &[u8]) -> Result<ParsedOcspResponse> {
    parse_ocsp_response_with(der, VerifyOptions::default())
}

/// [`parse_ocsp_response`] with verification options (e.g. allow SHA-1 for legacy
/// responders).
pub fn parse_ocsp_response_with(der: &[u8], opts: VerifyOptions) -> Result<ParsedOcspResponse> {
    let der = asn1::ber_to_der(der)?;
    let outer = asn1::parse_single(&der)?;
    if outer.tag != TAG_SEQUENCE {
        return Err(ocsp_err("OCSPResponse is not a SEQUENCE"));
    }
    let mut r = outer.reader();
    let st = r.expect(0x0a)?;
    let status = match st.content {
        [s] => *s,
        _ => return Err(ocsp_err("invalid responseStatus")),
    };
    let mut out = ParsedOcspResponse {
        der: der.clone(),
        status,
        produced_at: OffsetDateTime::UNIX_EPOCH,
        responses: Vec::new(),
        responder_cert: None,
        certificates: Vec::new(),
        nonce: None,
        signature_valid: false,
        responder_id: None,
        tbs: Vec::new(),
        signature_algorithm: None,
        signature: Vec::new(),
        opts,
    };
    let Some(rb) = r.optional(0xa0)? else {
        if status == OCSP_SUCCESSFUL {
            return Err(ocsp_err("successful response without responseBytes"));
        }
        return Ok(out);
    };
    if !r.is_empty() {
        return Err(ocsp_err("trailing data in OCSPResponse"));
    }
    if status != OCSP_SUCCESSFUL {
        return Err(ocsp_err("responseBytes in an unsuccessful response"));
    }
    let rb = asn1::parse_single(rb.content)?;
    let mut rbr = rb.reader();
    let rtype = asn1::read_oid(&rbr.read()?)?;
    if rtype != OID_PKIX_OCSP_BASIC {
        return Err(PkiError::UnsupportedAlgorithm(format!(
            "OCSP response type {rtype}"
        )));
    }
    let basic_os = rbr.expect(TAG_OCTET_STRING)?;
    let basic = asn1::parse_single(basic_os.content)?;
    if basic.tag != TAG_SEQUENCE {
        return Err(ocsp_err("BasicOCSPResponse is not a SEQUENCE"));
    }
    let mut br = basic.reader();
    let tbs = br.expect(TAG_SEQUENCE)?;
    let sig_alg_tlv = br.expect(TAG_SEQUENCE)?;
    let sig_alg = spki::AlgorithmIdentifierOwned::from_der(sig_alg_tlv.raw)?;
    let signature = asn1::read_bit_string_bytes(&br.read()?)?;
    if let Some(certs) = br.optional(0xa0)? {
        let list = asn1::parse_single(certs.content)?;
        let mut lr = list.reader();
        while !lr.is_empty() {
            let c = lr.read()?;
            if let Ok(cert) = Certificate::from_der(c.raw) {
                out.certificates.push(cert);
            }
        }
    }
    if !br.is_empty() {
        return Err(ocsp_err("trailing data in BasicOCSPResponse"));
    }

    let mut tr = tbs.reader();
    if let Some(v) = tr.optional(0xa0)? {
        let i = asn1::parse_single(v.content)?;
        if i.tag != TAG_INTEGER || i.content != [0] {
            return Err(ocsp_err("unsupported ResponseData version"));
        }
    }
    let rid = tr.read()?;
    let responder_id = match rid.tag {
        0xa1 => ResponderId::ByName(asn1::parse_single(rid.content)?.raw.to_vec()),
        0xa2 => {
            let k = asn1::parse_single(rid.content)?;
            if k.tag != TAG_OCTET_STRING {
                return Err(ocsp_err("KeyHash is not an OCTET STRING"));
            }
            ResponderId::ByKey(k.content.to_vec())
        }
        _ => return Err(ocsp_err("invalid ResponderID")),
    };
    out.produced_at = asn1::read_time(&tr.expect(TAG_GENERALIZED_TIME)?)?;
    let list = tr.expect(TAG_SEQUENCE)?;
    let mut lr = list.reader();
    while !lr.is_empty() {
        out.responses.push(read_single_response(&lr.read()?)?);
    }
    if let Some(exts) = tr.optional(0xa1)? {
        out.nonce = find_nonce(exts.content)?;
    }
    if !tr.is_empty() {
        return Err(ocsp_err("trailing data in ResponseData"));
    }

    out.responder_cert = out
        .certificates
        .iter()
        .find(|c| responder_id.matches(c))
        .cloned();
    out.responder_id = Some(responder_id);
    out.tbs = tbs.raw.to_vec();
    out.signature_algorithm = Some(sig_alg);
    out.signature = signature.to_vec();
    if let Some(c) = out.responder_cert.clone() {
        out.signature_valid = out.verify_tbs(&c);
    }
    Ok(out)
}

fn read_single_response(
    t: &asn1::Tlv<'_>,
) -> Result<(
    CertId,
    CertStatusKind,
    OffsetDateTime,
    Option<OffsetDateTime>,
)> {
    if t.tag != TAG_SEQUENCE {
        return Err(ocsp_err("SingleResponse is not a SEQUENCE"));
    }
    let mut r = t.reader();
    let id = CertId::read(&r.read()?)?;
    let st = r.read()?;
    let status = match st.tag {
        0x80 if st.content.is_empty() => CertStatusKind::Good,
        0x82 if st.content.is_empty() => CertStatusKind::Unknown,
        0xa1 => {
            let mut sr = st.reader();
            let at = asn1::read_time(&sr.expect(TAG_GENERALIZED_TIME)?)?;
            let reason = match sr.optional(0xa0)? {
                Some(x) => {
                    let e = asn1::parse_single(x.content)?;
                    match (e.tag, e.content) {
                        (0x0a, [c]) => Some(*c),
                        _ => return Err(ocsp_err("invalid revocationReason")),
                    }
                }
                None => None,
            };
            if !sr.is_empty() {
                return Err(ocsp_err("trailing data in RevokedInfo"));
            }
            CertStatusKind::Revoked { at, reason }
        }
        _ => return Err(ocsp_err("invalid CertStatus")),
    };
    let this_update = asn1::read_time(&r.expect(TAG_GENERALIZED_TIME)?)?;
    let next_update = match r.optional(0xa0)? {
        Some(n) => Some(asn1::read_time(&asn1::parse_single(n.content)?)?),
        None => None,
    };
    r.optional(0xa1)?; // singleExtensions
    if !r.is_empty() {
        return Err(ocsp_err("trailing data in SingleResponse"));
    }
    Ok((id, status, this_update, next_update))
}

impl ParsedOcspResponse {
    fn verify_tbs(&self, cert: &Certificate) -> bool {
        let Some(alg) = &self.signature_algorithm else {
            return false;
        };
        verify_signature_with(
            cert.spki_der_ref(),
            alg,
            &self.tbs,
            &self.signature,
            self.opts,
        )
        .unwrap_or(false)
    }

    /// Verify the response with `cert` as responder certificate (when the response does not
    /// include it, e.g. a CA-signed response). Adopted as `responder_cert` only when it
    /// matches the responderID and the signature verifies.
    pub fn verify_with_cert(&mut self, cert: &Certificate) {
        if self
            .responder_id
            .as_ref()
            .is_some_and(|rid| rid.matches(cert))
            && self.verify_tbs(cert)
        {
            self.responder_cert = Some(cert.clone());
            self.signature_valid = true;
        }
    }

    /// Status of `cert` (issued by `issuer`) in this response: (status, thisUpdate,
    /// nextUpdate) of the first SingleResponse whose CertID names it.
    pub fn status_for(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
    ) -> Option<(CertStatusKind, OffsetDateTime, Option<OffsetDateTime>)> {
        self.responses
            .iter()
            .find(|(id, ..)| id.matches(cert, issuer))
            .map(|(_, s, t, n)| (*s, *t, *n))
    }

    /// Whether the response is signed (valid signature) by a responder authorised for
    /// certificates of `issuer`: the issuer itself (same subject and key), or a certificate
    /// issued by it (signature verifies with the issuer key) carrying id-kp-OCSPSigning
    /// (RFC 6960 4.2.2.2). Validity period and revocation of a delegated responder are the
    /// caller's business (id-pkix-ocsp-nocheck tells whether to check it).
    pub fn responder_authorised_for(&self, issuer: &Certificate) -> bool {
        let Some(rc) = &self.responder_cert else {
            return false;
        };
        if !self.signature_valid {
            return false;
        }
        let is_issuer = rc.subject_der_ref() == issuer.subject_der_ref()
            && rc.spki_der_ref() == issuer.spki_der_ref();
        let delegated = rc.issuer_der_ref() == issuer.subject_der_ref()
            && rc.extended_key_usages().contains(&OID_KP_OCSP_SIGNING)
            && rc.is_signed_by(issuer);
        is_issuer || delegated
    }
}
