//! RFC 3161 time-stamp protocol: requests, our time-stamping authority (tokens and
//! rejections, one signature operation per token), and the client side (parsing and checking
//! tokens and responses from any TSA, BER tolerant).

use const_oid::ObjectIdentifier;
use der::Encode;
use time::OffsetDateTime;

use crate::asn1::{
    self, TAG_BOOLEAN, TAG_GENERALIZED_TIME, TAG_INTEGER, TAG_OCTET_STRING, TAG_SEQUENCE, TAG_SET,
    TAG_UTF8_STRING, oid, seq, set_of, tlv,
};
use crate::certs::{Certificate, VerifyOptions, check_serial, name_display};
use crate::cms::{EssBinding, attribute, digest_parts, parse_cms_der, signing_certificate_v2};
use crate::keys::SignatureProducer;
use crate::oids::*;
use crate::{PkiError, Result};

pub use crate::oids::{OID_AA_TIMESTAMP_TOKEN, OID_CT_TST_INFO, OID_TSA_POLICY_DEFAULT};

// =============================================================================================
// Status values
// =============================================================================================

pub use crate::error::{FailureInfo, PkiStatus};

fn tsp_err(msg: impl Into<String>) -> PkiError {
    PkiError::InvalidCms(msg.into())
}

fn reject(fail_info: FailureInfo, text: impl Into<String>) -> PkiError {
    PkiError::Rejected {
        status: PkiStatus::Rejection,
        fail_info: Some(fail_info),
        text: text.into(),
    }
}

/// Digest length of the message-imprint algorithms we know (None: unknown algorithm).
fn digest_len(alg: &ObjectIdentifier) -> Option<usize> {
    match *alg {
        OID_SHA1 => Some(20),
        OID_SHA224 => Some(28),
        OID_SHA256 => Some(32),
        OID_SHA384 => Some(48),
        OID_SHA512 => Some(64),
        _ => None,
    }
}

/// Message-imprint hash algorithms our TSA accepts (SHA-1 and SHA-224 are refused with
/// badAlg: a SHA-1 imprint does not bind a document any more).
pub const ACCEPTED_IMPRINT_ALGORITHMS: [ObjectIdentifier; 3] = [OID_SHA256, OID_SHA384, OID_SHA512];

/// Maximum accepted nonce length (octets of the INTEGER content).
pub const MAX_NONCE_LEN: usize = 64;

/// AlgorithmIdentifier of a hash with NULL parameters (what OpenSSL writes).
fn hash_alg_id(alg: &ObjectIdentifier) -> Vec<u8> {
    seq(&[&oid(alg), &[0x05, 0x00]])
}

fn message_imprint(alg: &ObjectIdentifier, digest: &[u8]) -> Vec<u8> {
    seq(&[&hash_alg_id(alg), &tlv(TAG_OCTET_STRING, digest)])
}

/// (algorithm, digest) of a MessageImprint; parameters must be absent or NULL.
fn read_message_imprint(t: &asn1::Tlv<'_>) -> Result<(ObjectIdentifier, Vec<u8>)> {
    if t.tag != TAG_SEQUENCE {
        return Err(tsp_err("MessageImprint is not a SEQUENCE"));
    }
    let mut r = t.reader();
    let alg = r.expect(TAG_SEQUENCE)?;
    let mut ar = alg.reader();
    let o = asn1::read_oid(&ar.read()?)?;
    if let Some(p) = ar.peek_tag() {
        let p_tlv = ar.read()?;
        if p != 0x05 || !p_tlv.content.is_empty() {
            return Err(tsp_err("hash algorithm parameters must be absent or NULL"));
        }
    }
    if !ar.is_empty() {
        return Err(tsp_err("trailing data in AlgorithmIdentifier"));
    }
    let d = r.expect(TAG_OCTET_STRING)?;
    if !r.is_empty() {
        return Err(tsp_err("trailing data in MessageImprint"));
    }
    if let Some(len) = digest_len(&o)
        && d.content.len() != len
    {
        return Err(tsp_err(format!(
            "message imprint of {} octets for a {len}-octet hash",
            d.content.len()
        )));
    }
    Ok((o, d.content.to_vec()))
}

// =============================================================================================
// Request
// =============================================================================================

/// An RFC 3161 TimeStampReq (version 1, no extensions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeStampReq {
    /// Hash algorithm of the message imprint.
    pub hash_algorithm: ObjectIdentifier,
    /// The hash of the data to be time-stamped.
    pub message_imprint: Vec<u8>,
    /// Requested TSA policy.
    pub policy: Option<ObjectIdentifier>,
    /// Nonce: INTEGER content octets, copied verbatim into the token.
    pub nonce: Option<Vec<u8>>,
    /// Ask the TSA to include its certificate (and chain) in the token.
    pub cert_req: bool,
}

impl TimeStampReq {
    /// A request for `message_imprint` (a digest made with `hash_algorithm`), with a fresh
    /// random 64-bit nonce, certReq true, no policy.
    pub fn new(hash_algorithm: ObjectIdentifier, message_imprint: &[u8]) -> Self {
        TimeStampReq {
            hash_algorithm,
            message_imprint: message_imprint.to_vec(),
            policy: None,
            nonce: Some(random_nonce()),
            cert_req: true,
        }
    }

    /// DER encoding. The hash AlgorithmIdentifier carries NULL parameters (as OpenSSL writes
    /// it); an empty nonce is written as 0.
    pub fn to_der(&self) -> Vec<u8> {
        let version = asn1::small_uint(1);
        let imprint = message_imprint(&self.hash_algorithm, &self.message_imprint);
        let policy = self.policy.as_ref().map(oid).unwrap_or_default();
        let nonce = match &self.nonce {
            Some(n) if n.is_empty() => tlv(TAG_INTEGER, &[0]),
            Some(n) => tlv(TAG_INTEGER, n),
            None => Vec::new(),
        };
        let cert_req = if self.cert_req {
            tlv(TAG_BOOLEAN, &[0xff])
        } else {
            Vec::new()
        };
        seq(&[&version, &imprint, &policy, &nonce, &cert_req])
    }

    /// Parse a DER TimeStampReq (strict: version 1, definite lengths, no trailing data,
    /// imprint length matching a known hash algorithm, nonce of 1-64 octets). A request with
    /// extensions is refused with [`PkiError::Rejected`] (unacceptedExtension); malformed input
    /// gives an ASN.1/CMS error (answer badDataFormat).
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let outer = asn1::parse_single(der)?;
        if outer.tag != TAG_SEQUENCE {
            return Err(tsp_err("TimeStampReq is not a SEQUENCE"));
        }
        let mut r = outer.reader();
        let v = r.expect(TAG_INTEGER)?;
        if v.content != [1] {
            return Err(tsp_err("TimeStampReq version is not 1"));
        }
        let (hash_algorithm, message_imprint) = read_message_imprint(&r.read()?)?;
        let policy = match r.optional(asn1::TAG_OID)? {
            Some(t) => Some(asn1::read_oid(&t)?),
            None => None,
        };
        let nonce = match r.optional(TAG_INTEGER)? {
            Some(t) => {
                if t.content.is_empty() || t.content.len() > MAX_NONCE_LEN {
                    return Err(tsp_err("nonce must be 1-64 octets"));
                }
                Some(t.content.to_vec())
            }
            None => None,
        };
        let cert_req = match r.optional(TAG_BOOLEAN)? {
            Some(t) => match t.content {
                [0x00] => false,
                [_] => true,
                _ => return Err(tsp_err("invalid BOOLEAN")),
            },
            None => false,
        };
        if r.optional(0xa0)?.is_some() {
            return Err(reject(
                FailureInfo::UnacceptedExtension,
                "request extensions are not supported",
            ));
        }
        if !r.is_empty() {
            return Err(tsp_err("trailing data in TimeStampReq"));
        }
        Ok(TimeStampReq {
            hash_algorithm,
            message_imprint,
            policy,
            nonce,
            cert_req,
        })
    }
}

/// A random positive 64-bit nonce as minimal INTEGER content (8 octets, first non-zero).
pub fn random_nonce() -> Vec<u8> {
    let mut n = [0u8; 8];
    if aws_lc_rs::rand::fill(&mut n).is_err() {
        let t = OffsetDateTime::now_utc().unix_timestamp_nanos() as u64;
        n = t.to_be_bytes();
    }
    n[0] &= 0x7f;
    if n[0] == 0 {
        n[0] = 0x01;
    }
    n.to_vec()
}

// =============================================================================================
// TSA (issuing)
// =============================================================================================

/// What our TSA signs with. `chain` holds the certificates to include after the TSA
/// certificate when the request asks for them (the issuing CA; the root only if wanted).
pub struct TsaSigner<'a> {
    /// The TSA certificate (critical extendedKeyUsage id-kp-timeStamping).
    pub cert: &'a Certificate,
    /// Further certificates to include when certReq is set.
    pub chain: &'a [Certificate],
    /// The TSA key.
    pub producer: &'a dyn SignatureProducer,
    /// The TSA policy OID (used when the request names none, and the only one accepted).
    pub policy: ObjectIdentifier,
    /// Accuracy written in the token (milliseconds; None: no accuracy field).
    pub accuracy_millis: Option<u32>,
}

/// A TSA with everything that does not depend on the request pre-encoded (ESS attribute,
/// signer identifier, certificates, TSA name). Build it once when the service starts; each
/// [`PreparedTsa::issue`] then costs one hash of a few hundred bytes and ONE signature.
#[derive(Clone, Debug)]
pub struct PreparedTsa {
    policy: ObjectIdentifier,
    accepted_policies: Vec<ObjectIdentifier>,
    accuracy_der: Option<Vec<u8>>,
    tsa_name_der: Vec<u8>,
    sid_der: Vec<u8>,
    ess_attr_der: Vec<u8>,
    content_type_attr_der: Vec<u8>,
    certs_der: Vec<u8>,
}

fn accuracy_der(millis: u32) -> Vec<u8> {
    let secs = millis / 1000;
    let ms = millis % 1000;
    let mut parts: Vec<Vec<u8>> = Vec::new();
    if secs > 0 {
        parts.push(asn1::small_uint(u64::from(secs)));
    }
    if ms > 0 {
        let mut m = asn1::small_uint(u64::from(ms));
        if let Some(t) = m.first_mut() {
            *t = 0x80;
        }
        parts.push(m);
    }
    let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_slice()).collect();
    seq(&refs)
}

fn sha256_alg_id() -> Vec<u8> {
    seq(&[&oid(&OID_SHA256)])
}

impl PreparedTsa {
    /// Prepare a TSA for `cert` (+ `chain` included on certReq), `policy`, and an optional
    /// accuracy in milliseconds. Errors when the certificate is not usable for time-stamping
    /// (no id-kp-timeStamping extended key usage).
    pub fn new(
        cert: &Certificate,
        chain: &[Certificate],
        policy: ObjectIdentifier,
        accuracy_millis: Option<u32>,
    ) -> Result<Self> {
        if !cert.extended_key_usages().contains(&OID_KP_TIME_STAMPING) {
            return Err(PkiError::InvalidCertificate(
                "TSA certificate lacks extendedKeyUsage id-kp-timeStamping".into(),
            ));
        }
        let sid_der = seq(&[
            cert.issuer_der_ref(),
            &tlv(TAG_INTEGER, &cert.serial_bytes()),
        ]);
        let mut cert_parts: Vec<&[u8]> = vec![cert.der.as_slice()];
        for c in chain {
            if c.der != cert.der && !cert_parts.contains(&c.der.as_slice()) {
                cert_parts.push(c.der.as_slice());
            }
        }
        // [0] IMPLICIT CertificateSet: DER SET OF is sorted.
        let mut certs_der = set_of(cert_parts.iter().map(|c| c.to_vec()).collect());
        if let Some(t) = certs_der.first_mut() {
            *t = 0xa0;
        }
        Ok(PreparedTsa {
            policy,
            accepted_policies: vec![policy],
            accuracy_der: accuracy_millis.filter(|m| *m > 0).map(accuracy_der),
            // tsa [0] EXPLICIT GeneralName directoryName [4] EXPLICIT Name
            tsa_name_der: tlv(0xa0, &tlv(0xa4, cert.subject_der_ref())),
            sid_der,
            ess_attr_der: attribute(&OID_SIGNING_CERTIFICATE_V2, &signing_certificate_v2(cert)),
            content_type_attr_der: attribute(&OID_CONTENT_TYPE, &oid(&OID_CT_TST_INFO)),
            certs_der,
        })
    }

    /// [`PreparedTsa::new`] from a [`TsaSigner`] (its producer is not kept).
    pub fn from_signer(signer: &TsaSigner<'_>) -> Result<Self> {
        Self::new(
            signer.cert,
            signer.chain,
            signer.policy,
            signer.accuracy_millis,
        )
    }

    /// Also accept requests naming one of `policies` (the token then carries the requested
    /// policy). The default policy is always accepted.
    pub fn with_accepted_policies(mut self, policies: &[ObjectIdentifier]) -> Self {
        for p in policies {
            if !self.accepted_policies.contains(p) {
                self.accepted_policies.push(*p);
            }
        }
        self
    }

    /// The default policy.
    pub fn policy(&self) -> ObjectIdentifier {
        self.policy
    }

    /// Check a request against what this TSA grants; the error is a [`PkiError::Rejected`]
    /// with the failInfo bit to answer with.
    pub fn check_request(&self, req: &TimeStampReq) -> Result<ObjectIdentifier> {
        if !ACCEPTED_IMPRINT_ALGORITHMS.contains(&req.hash_algorithm) {
            return Err(reject(
                FailureInfo::BadAlg,
                format!(
                    "message imprint algorithm {} not accepted (use SHA-256, SHA-384 or SHA-512)",
                    req.hash_algorithm
                ),
            ));
        }
        if digest_len(&req.hash_algorithm) != Some(req.message_imprint.len()) {
            return Err(reject(
                FailureInfo::BadDataFormat,
                "message imprint length does not match its hash algorithm",
            ));
        }
        if let Some(n) = &req.nonce
            && (n.is_empty() || n.len() > MAX_NONCE_LEN)
        {
            return Err(reject(
                FailureInfo::BadDataFormat,
                "nonce must be 1-64 octets",
            ));
        }
        match req.policy {
            None => Ok(self.policy),
            Some(p) if self.accepted_policies.contains(&p) => Ok(p),
            Some(p) => Err(reject(
                FailureInfo::UnacceptedPolicy,
                format!("TSA policy {p} is not supported"),
            )),
        }
    }

    /// Issue a time-stamp token for `req`: a DER TimeStampResp with status granted. `serial`
    /// is the token serial number (positive, unique per TSA, 1-20 octets), `gen_time` the
    /// time to certify (written in UTC with milliseconds when non-zero). Exactly one
    /// signature operation with `producer` (the TSA certificate's key).
    pub fn issue(
        &self,
        req: &TimeStampReq,
        producer: &dyn SignatureProducer,
        serial: &[u8],
        gen_time: OffsetDateTime,
    ) -> Result<Vec<u8>> {
        let token = self.issue_token(req, producer, serial, gen_time)?;
        // TimeStampResp { PKIStatusInfo { granted }, token }
        let status = [0x30, 0x03, 0x02, 0x01, 0x00];
        Ok(seq(&[&status, &token]))
    }

    /// Like [`PreparedTsa::issue`] but returns the bare TimeStampToken (ContentInfo), e.g.
    /// for an in-process signature timestamp.
    pub fn issue_token(
        &self,
        req: &TimeStampReq,
        producer: &dyn SignatureProducer,
        serial: &[u8],
        gen_time: OffsetDateTime,
    ) -> Result<Vec<u8>> {
        let policy = self.check_request(req)?;
        check_serial(serial)?;
        let tst = self.tst_info(req, &policy, serial, gen_time)?;
        let md = digest_parts(&OID_SHA256, &[&tst])?;
        let attrs = set_of(vec![
            self.content_type_attr_der.clone(),
            attribute(&OID_MESSAGE_DIGEST, &tlv(TAG_OCTET_STRING, &md)),
            self.ess_attr_der.clone(),
        ]);
        let sig_alg_der = producer.signature_algorithm().to_der()?;
        let signature = producer.sign(&attrs)?;
        Ok(self.assemble(&tst, &attrs, &sig_alg_der, &signature, req.cert_req))
    }

    fn tst_info(
        &self,
        req: &TimeStampReq,
        policy: &ObjectIdentifier,
        serial: &[u8],
        gen_time: OffsetDateTime,
    ) -> Result<Vec<u8>> {
        let version = asn1::small_uint(1);
        let policy = oid(policy);
        let imprint = message_imprint(&req.hash_algorithm, &req.message_imprint);
        let serial = asn1::uint(serial);
        let gen_der = asn1::generalized_time(gen_time, true)?;
        let accuracy = self.accuracy_der.as_deref().unwrap_or(&[]);
        let nonce = req
            .nonce
            .as_deref()
            .map(|n| tlv(TAG_INTEGER, n))
            .unwrap_or_default();
        Ok(seq(&[
            &version,
            &policy,
            &imprint,
            &serial,
            &gen_der,
            accuracy,
            &nonce,
            &self.tsa_name_der,
        ]))
    }

    fn assemble(
        &self,
        tst: &[u8],
        attrs_set: &[u8],
        sig_alg_der: &[u8],
        signature: &[u8],
        with_certs: bool,
    ) -> Vec<u8> {
        let mut attrs_implicit = attrs_set.to_vec();
        if let Some(t) = attrs_implicit.first_mut() {
            *t = 0xa0;
        }
        let digest_alg = sha256_alg_id();
        let signer_info = seq(&[
            &asn1::small_uint(1),
            &self.sid_der,
            &digest_alg,
            &attrs_implicit,
            sig_alg_der,
            &tlv(TAG_OCTET_STRING, signature),
        ]);
        let encap = seq(&[
            &oid(&OID_CT_TST_INFO),
            &tlv(0xa0, &tlv(TAG_OCTET_STRING, tst)),
        ]);
        let certs: &[u8] = if with_certs { &self.certs_der } else { &[] };
        let signed_data = seq(&[
            &asn1::small_uint(3),
            &tlv(TAG_SET, &digest_alg),
            &encap,
            certs,
            &tlv(TAG_SET, &signer_info),
        ]);
        seq(&[&oid(&OID_SIGNED_DATA), &tlv(0xa0, &signed_data)])
    }

    /// The whole TSA service step: parse `req_der`, check it, and answer with a DER
    /// TimeStampResp, granted or rejected (badDataFormat for malformed requests, the
    /// failInfo of [`PreparedTsa::check_request`], systemFailure when signing fails).
    /// Never panics, always returns a response.
    pub fn respond(
        &self,
        req_der: &[u8],
        producer: &dyn SignatureProducer,
        serial: &[u8],
        gen_time: OffsetDateTime,
    ) -> Vec<u8> {
        let req = match TimeStampReq::from_der(req_der) {
            Ok(r) => r,
            Err(e) => return rejection_for(&e, FailureInfo::BadDataFormat),
        };
        match self.issue(&req, producer, serial, gen_time) {
            Ok(r) => r,
            Err(e) => rejection_for(&e, FailureInfo::SystemFailure),
        }
    }

    /// Upper bound of the DER size of a token from this TSA (with or without certificates),
    /// for signatures up to 512 octets (RSA 4096), 64-octet imprints and nonces, 20-octet
    /// serials.
    pub fn token_size_upper_bound(&self, cert_req: bool) -> usize {
        let req = TimeStampReq {
            hash_algorithm: OID_SHA512,
            message_imprint: vec![0xff; 64],
            policy: None,
            nonce: Some(vec![0x7f; MAX_NONCE_LEN]),
            cert_req,
        };
        let latest = time::macros::datetime!(2099-12-31 23:59:59.999 UTC);
        let tst = self
            .tst_info(&req, &self.policy, &[0x7f; 20], latest)
            .unwrap_or_default();
        let attrs = set_of(vec![
            self.content_type_attr_der.clone(),
            attribute(&OID_MESSAGE_DIGEST, &tlv(TAG_OCTET_STRING, &[0; 32])),
            self.ess_attr_der.clone(),
        ]);
        // the longest signature AlgorithmIdentifier we know: RSASSA-PSS with parameters
        let sig_alg = [0u8; 70];
        self.assemble(&tst, &attrs, &sig_alg, &[0xff; 512], cert_req)
            .len()
            + 64
    }
}

/// The response to send for an error: the failInfo of a [`PkiError::Rejected`], otherwise
/// `default_fail` with a generic text (no internal details leak to clients).
fn rejection_for(e: &PkiError, default_fail: FailureInfo) -> Vec<u8> {
    match e {
        PkiError::Rejected {
            fail_info, text, ..
        } => rejection_response(
            PkiStatus::Rejection,
            fail_info.unwrap_or(default_fail),
            text,
        ),
        _ if default_fail == FailureInfo::BadDataFormat => rejection_response(
            PkiStatus::Rejection,
            FailureInfo::BadDataFormat,
            "malformed TimeStampReq",
        ),
        _ => rejection_response(
            PkiStatus::Rejection,
            default_fail,
            "the time-stamping service failed",
        ),
    }
}

/// Issue a time-stamp token for `req` (see [`PreparedTsa::issue`]; this one-shot form
/// pre-encodes the signer data on each call). The token carries `req.policy` when given and
/// equal to `signer.policy`, else `signer.policy` when the request names none; another
/// requested policy is refused ([`PkiError::Rejected`] with unacceptedPolicy). Certificates
/// (TSA certificate + chain) are included only when `req.cert_req`.
pub fn issue_timestamp(
    req: &TimeStampReq,
    signer: &TsaSigner<'_>,
    serial: &[u8],
    gen_time: OffsetDateTime,
) -> Result<Vec<u8>> {
    PreparedTsa::from_signer(signer)?.issue(req, signer.producer, serial, gen_time)
}

/// A DER TimeStampResp without token: PKIStatusInfo { status, statusString { text } (left
/// out when empty), failInfo with the single bit of `fail` (left out when granted) }.
pub fn rejection_response(status: PkiStatus, fail: FailureInfo, text: &str) -> Vec<u8> {
    let st = asn1::small_uint(u64::from(status.code()));
    let text_der = if text.is_empty() {
        Vec::new()
    } else {
        seq(&[&tlv(TAG_UTF8_STRING, text.as_bytes())])
    };
    let fail = if !status.is_granted() {
        asn1::single_bit_string(fail.bit())
    } else {
        Vec::new()
    };
    seq(&[&seq(&[&st, &text_der, &fail])])
}

// =============================================================================================
// Client side
// =============================================================================================

/// A parsed TimeStampToken (from a TSA response, a CMS unsigned attribute or a PDF document
/// timestamp).
#[derive(Clone, Debug)]
pub struct TimeStampToken {
    /// The token ContentInfo, DER (BER input normalised; identical to DER input).
    pub der: Vec<u8>,
    /// genTime.
    pub gen_time: OffsetDateTime,
    /// serialNumber, lowercase hex without leading zeros.
    pub serial_hex: String,
    /// TSA policy.
    pub policy: ObjectIdentifier,
    /// Hash algorithm of the message imprint.
    pub hash_algorithm: ObjectIdentifier,
    /// The time-stamped digest.
    pub message_imprint: Vec<u8>,
    /// Nonce (INTEGER content octets).
    pub nonce: Option<Vec<u8>>,
    /// The TSA certificate, matched by the SignerInfo's sid among the included certificates
    /// (or supplied with [`TimeStampToken::verify_with_cert`]).
    pub tsa_cert: Option<Certificate>,
    /// All certificates included in the token.
    pub certificates: Vec<Certificate>,
    /// The SignerInfo signature verifies with the TSA certificate over the signed
    /// attributes, the messageDigest attribute equals the digest of the TSTInfo and the
    /// contentType attribute is id-ct-TSTInfo. False when the TSA certificate is unknown.
    pub signature_valid: bool,
    /// ESS signing-certificate binding of the TSA certificate.
    pub ess: EssBinding,
    /// accuracy in microseconds, when present.
    pub accuracy_micros: Option<u64>,
    /// ordering flag.
    pub ordering: bool,
    /// The tsa field: directory name (RFC 4514) or other GeneralName (hex of its DER).
    pub tsa_name: Option<String>,
    /// Human-readable signature algorithm, e.g. "ECDSA with SHA-256".
    pub signature_algorithm: String,
    /// The TSTInfo DER (the eContent).
    pub tst_info_der: Vec<u8>,
    opts: VerifyOptions,
}

struct TstInfo {
    policy: ObjectIdentifier,
    hash_algorithm: ObjectIdentifier,
    message_imprint: Vec<u8>,
    serial_hex: String,
    gen_time: OffsetDateTime,
    accuracy_micros: Option<u64>,
    ordering: bool,
    nonce: Option<Vec<u8>>,
    tsa_name: Option<String>,
}

fn small_int(t: &asn1::Tlv<'_>) -> Result<u64> {
    let v = asn1::read_u64(t).ok_or_else(|| tsp_err("invalid accuracy value"))?;
    if v > u64::from(u32::MAX) {
        return Err(tsp_err("accuracy value too large"));
    }
    Ok(v)
}

fn parse_tst_info(der: &[u8]) -> Result<TstInfo> {
    let outer = asn1::parse_single(der)?;
    if outer.tag != TAG_SEQUENCE {
        return Err(tsp_err("TSTInfo is not a SEQUENCE"));
    }
    let mut r = outer.reader();
    let v = r.expect(TAG_INTEGER)?;
    if v.content != [1] {
        return Err(tsp_err("TSTInfo version is not 1"));
    }
    let policy = asn1::read_oid(&r.read()?)?;
    let (hash_algorithm, message_imprint) = read_message_imprint(&r.read()?)?;
    let serial = r.expect(TAG_INTEGER)?;
    if serial.content.is_empty() || serial.content.len() > 64 {
        return Err(tsp_err("invalid TSTInfo serialNumber"));
    }
    let gt = r.expect(TAG_GENERALIZED_TIME)?;
    let gen_time = asn1::read_time(&gt)?;
    let mut accuracy_micros = None;
    if let Some(a) = r.optional(TAG_SEQUENCE)? {
        let mut ar = a.reader();
        let mut micros = 0u64;
        if let Some(s) = ar.optional(TAG_INTEGER)? {
            micros += small_int(&s)? * 1_000_000;
        }
        if let Some(m) = ar.optional(0x80)? {
            let fake = asn1::Tlv {
                tag: TAG_INTEGER,
                ..m
            };
            micros += small_int(&fake)?.min(999) * 1000;
        }
        if let Some(u) = ar.optional(0x81)? {
            let fake = asn1::Tlv {
                tag: TAG_INTEGER,
                ..u
            };
            micros += small_int(&fake)?.min(999);
        }
        if !ar.is_empty() {
            return Err(tsp_err("trailing data in Accuracy"));
        }
        accuracy_micros = Some(micros);
    }
    let ordering = match r.optional(TAG_BOOLEAN)? {
        Some(b) => b.content.first().is_some_and(|x| *x != 0),
        None => false,
    };
    let nonce = match r.optional(TAG_INTEGER)? {
        Some(n) if !n.content.is_empty() => Some(n.content.to_vec()),
        Some(_) => return Err(tsp_err("empty nonce")),
        None => None,
    };
    let tsa_name = match r.optional(0xa0)? {
        Some(t) => {
            let gn = asn1::parse_single(t.content)?;
            Some(if gn.tag == 0xa4 {
                name_display(gn.content)
            } else {
                format!("#{}", hex::encode(gn.raw))
            })
        }
        None => None,
    };
    r.optional(0xa1)?; // extensions: not interpreted
    if !r.is_empty() {
        return Err(tsp_err("trailing data in TSTInfo"));
    }
    Ok(TstInfo {
        policy,
        hash_algorithm,
        message_imprint,
        serial_hex: asn1::uint_hex(serial.content),
        gen_time,
        accuracy_micros,
        ordering,
        nonce,
        tsa_name,
    })
}

/// Parse a TimeStampResp (BER tolerant). A status other than granted/grantedWithMods gives
/// [`PkiError::Rejected`] with the TSA's status, first failInfo bit and statusString.
pub fn parse_timestamp_response(resp_der: &[u8]) -> Result<TimeStampToken> {
    parse_timestamp_response_with(resp_der, VerifyOptions::default())
}

/// [`parse_timestamp_response`] with verification options (e.g. SHA-1 for legacy TSAs).
pub fn parse_timestamp_response_with(
    resp_der: &[u8],
    opts: VerifyOptions,
) -> Result<TimeStampToken> {
    let der = asn1::ber_to_der(resp_der)?;
    let outer = asn1::parse_single(&der)?;
    if outer.tag != TAG_SEQUENCE {
        return Err(tsp_err("TimeStampResp is not a SEQUENCE"));
    }
    let mut r = outer.reader();
    let si = r.expect(TAG_SEQUENCE)?;
    let mut sr = si.reader();
    let st = sr.expect(TAG_INTEGER)?;
    let status = asn1::read_u64(&st)
        .and_then(|v| u8::try_from(v).ok())
        .map(PkiStatus::from_code)
        .ok_or_else(|| tsp_err("invalid PKIStatus"))?;
    let mut text = String::new();
    if let Some(ft) = sr.optional(TAG_SEQUENCE)? {
        let mut fr = ft.reader();
        while !fr.is_empty() {
            let s = fr.read()?;
            if let Some(t) = asn1::decode_string(s.tag, s.content) {
                if !text.is_empty() {
                    text.push_str("; ");
                }
                text.push_str(&t);
            }
        }
    }
    let mut fail_info = None;
    if let Some(fi) = sr.optional(asn1::TAG_BIT_STRING)? {
        fail_info = asn1::bits_set(&fi)?
            .first()
            .and_then(|b| u8::try_from(*b).ok())
            .map(FailureInfo::from_bit);
    }
    if !status.is_granted() {
        let clean: String = text.chars().filter(|c| !c.is_control()).take(512).collect();
        return Err(PkiError::Rejected {
            status,
            fail_info,
            text: clean,
        });
    }
    let token = r
        .read()
        .map_err(|_| tsp_err("granted response without a token"))?;
    if !r.is_empty() {
        return Err(tsp_err("trailing data in TimeStampResp"));
    }
    parse_token_der(token.raw.to_vec(), opts)
}

/// Parse a TimeStampToken: a CMS ContentInfo (SignedData with id-ct-TSTInfo), as embedded in
/// PDFs and CMS unsigned attributes. BER tolerant; trailing zero padding ignored.
pub fn parse_timestamp_token(token_der: &[u8]) -> Result<TimeStampToken> {
    parse_timestamp_token_with(token_der, VerifyOptions::default())
}

/// [`parse_timestamp_token`] with verification options (e.g. SHA-1 for legacy TSAs).
pub fn parse_timestamp_token_with(token_der: &[u8], opts: VerifyOptions) -> Result<TimeStampToken> {
    let der = asn1::ber_to_der(token_der)?;
    parse_token_der(der, opts)
}

/// (signature_valid, tsa_cert, ess, signature algorithm, certificates) of a token's CMS.
type CmsCheck = (
    bool,
    Option<Certificate>,
    EssBinding,
    String,
    Vec<Certificate>,
);

fn check_token_cms(
    der: &[u8],
    opts: VerifyOptions,
    extra: Option<&Certificate>,
) -> Result<(CmsCheck, Vec<u8>)> {
    let cms = parse_cms_der(der, opts, extra)?;
    if cms.content_type != OID_CT_TST_INFO {
        return Err(tsp_err(format!(
            "token content type {} is not id-ct-TSTInfo",
            cms.content_type
        )));
    }
    let econtent = cms
        .encapsulated_content
        .clone()
        .ok_or_else(|| tsp_err("token without TSTInfo content"))?;
    let digest_ok = match (
        &cms.message_digest,
        digest_parts(&cms.digest_algorithm, &[&econtent]),
    ) {
        (Some(md), Ok(d)) => *md == d,
        _ => false,
    };
    let valid = cms.has_signed_attrs && cms.signature_valid && cms.content_type_ok && digest_ok;
    Ok((
        (
            valid,
            cms.signer_cert,
            cms.ess,
            cms.signature_algorithm,
            cms.certificates,
        ),
        econtent,
    ))
}

fn parse_token_der(der: Vec<u8>, opts: VerifyOptions) -> Result<TimeStampToken> {
    let ((signature_valid, tsa_cert, ess, signature_algorithm, certificates), econtent) =
        check_token_cms(&der, opts, None)?;
    let tst = parse_tst_info(&econtent)?;
    Ok(TimeStampToken {
        der,
        gen_time: tst.gen_time,
        serial_hex: tst.serial_hex,
        policy: tst.policy,
        hash_algorithm: tst.hash_algorithm,
        message_imprint: tst.message_imprint,
        nonce: tst.nonce,
        tsa_cert,
        certificates,
        signature_valid,
        ess,
        accuracy_micros: tst.accuracy_micros,
        ordering: tst.ordering,
        tsa_name: tst.tsa_name,
        signature_algorithm,
        tst_info_der: econtent,
        opts,
    })
}

impl TimeStampToken {
    /// Whether the token time-stamps `data_digest` (a digest made with
    /// [`TimeStampToken::hash_algorithm`]).
    pub fn check_imprint(&self, data_digest: &[u8]) -> bool {
        !self.message_imprint.is_empty() && self.message_imprint == data_digest
    }

    /// Whether the token time-stamps `data` (hashed here with the token's algorithm).
    pub fn check_data(&self, data: &[u8]) -> bool {
        digest_parts(&self.hash_algorithm, &[data]).is_ok_and(|d| self.check_imprint(&d))
    }

    /// Whether the TSA certificate carries extendedKeyUsage id-kp-timeStamping, marked
    /// critical, as RFC 3161 2.3 requires (false when the TSA certificate is unknown).
    pub fn tsa_cert_has_timestamping_eku(&self) -> bool {
        self.tsa_cert.as_ref().is_some_and(|c| {
            c.extended_key_usages().contains(&OID_KP_TIME_STAMPING)
                && c.extension_is_critical(&OID_EXT_EXTENDED_KEY_USAGE) == Some(true)
        })
    }

    /// Verify the token with `cert` as TSA certificate when it is not included in the token
    /// (or to re-check against a known certificate). `cert` is adopted as
    /// [`TimeStampToken::tsa_cert`] only when it matches the SignerInfo's identifier; the
    /// signature and ESS fields are recomputed.
    pub fn verify_with_cert(&mut self, cert: &Certificate) {
        if let Ok(((valid, signer, ess, _, _), _)) =
            check_token_cms(&self.der, self.opts, Some(cert))
        {
            self.signature_valid = valid;
            self.ess = ess;
            if signer.is_some() {
                self.tsa_cert = signer;
            }
        }
    }

    /// Whether the token answers `req`: same hash algorithm and imprint, same nonce (when
    /// the request has one), the requested policy (when it names one), and the TSA
    /// certificate included when certReq was set.
    pub fn matches_request(&self, req: &TimeStampReq) -> bool {
        let nonce_ok = match (&req.nonce, &self.nonce) {
            (None, _) => true,
            (Some(a), Some(b)) => a == b,
            (Some(_), None) => false,
        };
        let policy_ok = req.policy.is_none_or(|p| p == self.policy);
        let certs_ok = !req.cert_req
            || self
                .tsa_cert
                .as_ref()
                .is_some_and(|c| self.certificates.contains(c));
        self.hash_algorithm == req.hash_algorithm
            && self.check_imprint(&req.message_imprint)
            && nonce_ok
            && policy_ok
            && certs_ok
    }
}
