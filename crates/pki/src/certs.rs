//! The built-in CA and certificate profiles, the parsed
//! [`Certificate`] wrapper and raw signature verification.

use std::fmt;

use aws_lc_rs::digest;
use aws_lc_rs::signature::{self, VerificationAlgorithm};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use time::OffsetDateTime;

use crate::asn1::{
    self, TAG_BIT_STRING, TAG_BOOLEAN, TAG_INTEGER, TAG_OCTET_STRING, TAG_PRINTABLE_STRING,
    TAG_SEQUENCE, TAG_SET, TAG_UTF8_STRING, bit_string, oid, seq, tlv,
};
use crate::keys::{PrivateKey, SignatureProducer};
use crate::oids::*;
use crate::{PkiError, Result};

use crate::identity::check_text;
pub use crate::identity::*;

// =============================================================================================
// Issuance
// =============================================================================================

/// Validity period of a certificate to issue (converted to UTC, sub-seconds dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CertValidity {
    /// Start.
    pub not_before: OffsetDateTime,
    /// End.
    pub not_after: OffsetDateTime,
}

impl CertValidity {
    /// From now (minus 5 minutes of clock-skew tolerance) for `days` days.
    pub fn days_from_now(days: i64) -> Self {
        let now = OffsetDateTime::now_utc();
        CertValidity {
            not_before: now - time::Duration::minutes(5),
            not_after: now + time::Duration::days(days),
        }
    }
}

/// 16 random bytes usable as a certificate serial number: positive (top bit cleared) with a
/// non-zero first byte (so the DER INTEGER is exactly 16 bytes).
pub fn random_serial() -> [u8; 16] {
    let mut s = [0u8; 16];
    // AWS-LC's RNG aborts the process rather than return failure; keep the fallback harmless.
    if aws_lc_rs::rand::fill(&mut s).is_err() {
        let t = OffsetDateTime::now_utc()
            .unix_timestamp_nanos()
            .to_be_bytes();
        s.copy_from_slice(&t);
    }
    s[0] &= 0x7f;
    if s[0] == 0 {
        s[0] = 0x01;
    }
    s
}

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

fn rdn(attr_oid: &ObjectIdentifier, tag: u8, value: &str) -> Vec<u8> {
    let atv = seq(&[&oid(attr_oid), &tlv(tag, value.as_bytes())]);
    tlv(TAG_SET, &atv)
}

fn is_printable(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b))
}

fn name(rdns: &[Vec<u8>]) -> Vec<u8> {
    let parts: Vec<&[u8]> = rdns.iter().map(|r| r.as_slice()).collect();
    asn1::tlv_parts(TAG_SEQUENCE, &parts)
}

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

fn basic_constraints(ca: bool, path_len: Option<u8>) -> Vec<u8> {
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
fn key_usage(bits: &[u8]) -> Vec<u8> {
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

fn spki_key_bits(spki_der: &[u8]) -> Result<&[u8]> {
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

struct TbsInput<'a> {
    serial: &'a [u8],
    sig_alg_der: &'a [u8],
    issuer_name: &'a [u8],
    validity: CertValidity,
    subject_name: &'a [u8],
    spki: &'a [u8],
    extensions: Vec<Vec<u8>>,
}

fn build_and_sign(input: TbsInput<'_>, signer: &dyn SignatureProducer) -> Result<Vec<u8>> {
    check_serial(input.serial)?;
    if input.validity.not_after <= input.validity.not_before {
        return Err(PkiError::InvalidArgument(
            "notAfter must be after notBefore".into(),
        ));
    }
    // The SPKI must be well-formed and of a kind we can verify.
    spki_algorithm(input.spki)?;
    let version = tlv(0xa0, &asn1::small_uint(2));
    let serial = asn1::uint(input.serial);
    let validity = seq(&[
        &encode_time(input.validity.not_before)?,
        &encode_time(input.validity.not_after)?,
    ]);
    let ext_refs: Vec<&[u8]> = input.extensions.iter().map(|e| e.as_slice()).collect();
    let exts = tlv(0xa3, &seq(&ext_refs));
    let tbs = seq(&[
        &version,
        &serial,
        input.sig_alg_der,
        input.issuer_name,
        &validity,
        input.subject_name,
        input.spki,
        &exts,
    ]);
    let sig = signer.sign(&tbs)?;
    let cert = seq(&[&tbs, input.sig_alg_der, &bit_string(&sig)]);
    Ok(cert)
}

fn sig_alg_der(signer: &dyn SignatureProducer) -> Result<Vec<u8>> {
    Ok(signer.signature_algorithm().to_der()?)
}

fn ca_subject(institution: &str, cn: &str) -> Result<Vec<u8>> {
    if institution.trim().is_empty() {
        return Err(IdentityError::InstitutionEmpty.into());
    }
    check_text(
        institution,
        "instansi",
        IdentityError::InstitutionEmpty,
        IdentityError::InstitutionTooLong,
    )?;
    Ok(name(&[
        rdn(&OID_C, TAG_PRINTABLE_STRING, "ID"),
        rdn(&OID_O, TAG_UTF8_STRING, institution),
        rdn(&OID_CN, TAG_UTF8_STRING, cn),
    ]))
}

/// Check that `cert` carries a signature made by `issuer` (guards against a key that does not
/// belong to the issuer certificate, e.g. a mis-configured HSM slot).
/// Builds and signs a certificate under `issuer`, then checks it really verifies with the
/// issuer's key (catches a key that does not belong to the issuer certificate).
#[allow(clippy::too_many_arguments)]
fn issue_under(
    issuer: &Certificate,
    issuer_key: &dyn SignatureProducer,
    sig_alg_der: &[u8],
    serial: &[u8],
    validity: CertValidity,
    subject: &[u8],
    spki: &[u8],
    extensions: Vec<Vec<u8>>,
) -> Result<Vec<u8>> {
    let der = build_and_sign(
        TbsInput {
            serial,
            sig_alg_der,
            issuer_name: issuer.subject_der_ref(),
            validity,
            subject_name: subject,
            spki,
            extensions,
        },
        issuer_key,
    )?;
    check_issued(&der, issuer)?;
    Ok(der)
}

fn check_issued(cert_der: &[u8], issuer: &Certificate) -> Result<Certificate> {
    let cert = Certificate::from_der(cert_der)?;
    if !cert.is_signed_by(issuer) {
        return Err(PkiError::InvalidArgument(
            "the issuer key does not match the issuer certificate".into(),
        ));
    }
    Ok(cert)
}

/// Root CA: self-signed; subject `C=ID, O=<institution>, CN=<institution> Root CA`;
/// basicConstraints CA:TRUE (no pathlen) critical; keyUsage keyCertSign+cRLSign critical;
/// SKI. Returns DER.
pub fn create_root_ca(
    institution: &str,
    key: &PrivateKey,
    validity: CertValidity,
    serial: &[u8],
) -> Result<Vec<u8>> {
    create_root_ca_for(institution, key.spki_der_ref(), key, validity, serial)
}

/// [`create_root_ca`] for a key held elsewhere (a PKCS#11 token): its SubjectPublicKeyInfo and
/// something that signs with it.
pub fn create_root_ca_for(
    institution: &str,
    spki: &[u8],
    key: &dyn SignatureProducer,
    validity: CertValidity,
    serial: &[u8],
) -> Result<Vec<u8>> {
    let subject = ca_subject(institution, &format!("{institution} Root CA"))?;
    let ski = key_identifier(spki)?;
    let alg = sig_alg_der(key)?;
    let der = build_and_sign(
        TbsInput {
            serial,
            sig_alg_der: &alg,
            issuer_name: &subject,
            validity,
            subject_name: &subject,
            spki,
            extensions: vec![
                extension(
                    &OID_EXT_BASIC_CONSTRAINTS,
                    true,
                    &basic_constraints(true, None),
                ),
                extension(&OID_EXT_KEY_USAGE, true, &key_usage(&[5, 6])),
                extension(&OID_EXT_SUBJECT_KEY_ID, false, &tlv(TAG_OCTET_STRING, &ski)),
            ],
        },
        key,
    )?;
    let cert = Certificate::from_der(&der)?;
    check_issued(&der, &cert)?;
    Ok(der)
}

fn issuer_checks(issuer: &Certificate, validity: &CertValidity) -> Result<Vec<u8>> {
    if !issuer.is_ca() {
        return Err(PkiError::InvalidCertificate(
            "issuer certificate is not a CA".into(),
        ));
    }
    if let Some(ku) = issuer.key_usage()
        && !ku.key_cert_sign
    {
        return Err(PkiError::InvalidCertificate(
            "issuer certificate lacks keyCertSign".into(),
        ));
    }
    if validity.not_after > issuer.not_after() {
        return Err(PkiError::InvalidArgument(
            "validity would end after the issuer certificate expires".into(),
        ));
    }
    match issuer.subject_key_id() {
        Some(k) => Ok(k),
        None => key_identifier(&issuer.spki_der()),
    }
}

pub(crate) fn aki(keyid: &[u8]) -> Vec<u8> {
    seq(&[&tlv(0x80, keyid)])
}

/// Issuing CA signed by the root: subject `C=ID, O=<institution>, CN=<institution> Issuing CA
/// <generation>`; CA:TRUE pathlen 0 critical; keyUsage keyCertSign+cRLSign critical; SKI; AKI
/// (keyid of the root). `key` is the issuing CA's own key (only its public key is used).
/// Same as [`create_issuing_ca_with`] without URLs.
pub fn create_issuing_ca(
    institution: &str,
    generation: u32,
    key: &PrivateKey,
    root_cert_der: &[u8],
    root_key: &dyn SignatureProducer,
    validity: CertValidity,
    serial: &[u8],
) -> Result<Vec<u8>> {
    create_issuing_ca_with(
        institution,
        generation,
        key,
        root_cert_der,
        root_key,
        validity,
        serial,
        &CertUrls::default(),
    )
}

/// [`create_issuing_ca`] with AIA / CRL distribution point URLs: those of the ROOT (its CRL,
/// its certificate for caIssuers, an OCSP service answering for the root if any).
#[allow(clippy::too_many_arguments)]
pub fn create_issuing_ca_with(
    institution: &str,
    generation: u32,
    key: &PrivateKey,
    root_cert_der: &[u8],
    root_key: &dyn SignatureProducer,
    validity: CertValidity,
    serial: &[u8],
    urls: &CertUrls,
) -> Result<Vec<u8>> {
    create_issuing_ca_for(
        institution,
        generation,
        key.spki_der_ref(),
        root_cert_der,
        root_key,
        validity,
        serial,
        urls,
    )
}

/// [`create_issuing_ca_with`] for an issuing-CA key held elsewhere (a PKCS#11 token): only its
/// SubjectPublicKeyInfo is needed.
#[allow(clippy::too_many_arguments)]
pub fn create_issuing_ca_for(
    institution: &str,
    generation: u32,
    spki: &[u8],
    root_cert_der: &[u8],
    root_key: &dyn SignatureProducer,
    validity: CertValidity,
    serial: &[u8],
    urls: &CertUrls,
) -> Result<Vec<u8>> {
    let root = Certificate::from_der(root_cert_der)?;
    let issuer_keyid = issuer_checks(&root, &validity)?;
    let subject = ca_subject(
        institution,
        &format!("{institution} Issuing CA {generation}"),
    )?;
    let ski = key_identifier(spki)?;
    let alg = sig_alg_der(root_key)?;
    let mut extensions = vec![
        extension(
            &OID_EXT_BASIC_CONSTRAINTS,
            true,
            &basic_constraints(true, Some(0)),
        ),
        extension(&OID_EXT_KEY_USAGE, true, &key_usage(&[5, 6])),
        extension(&OID_EXT_SUBJECT_KEY_ID, false, &tlv(TAG_OCTET_STRING, &ski)),
        extension(&OID_EXT_AUTHORITY_KEY_ID, false, &aki(&issuer_keyid)),
    ];
    extensions.extend(url_extensions(urls)?);
    let der = build_and_sign(
        TbsInput {
            serial,
            sig_alg_der: &alg,
            issuer_name: root.subject_der_ref(),
            validity,
            subject_name: &subject,
            spki,
            extensions,
        },
        root_key,
    )?;
    check_issued(&der, &root)?;
    Ok(der)
}

/// The subject DN of an official's certificate (DER), as [`issue_official_certificate`] writes
/// it: `C=ID, O=<institution>, OU=<unit>, title=<position>, serialNumber=PNOID-<NIP>,
/// CN=<name>` (C and serialNumber PrintableString as X.520 requires, the rest UTF8String).
pub fn official_subject_der(identity: &OfficialIdentity) -> Result<Vec<u8>> {
    identity.validate()?;
    let sn = format!("PNOID-{}", identity.nip);
    if !is_printable(&sn) {
        return Err(IdentityError::NipNotDigits.into());
    }
    Ok(name(&[
        rdn(&OID_C, TAG_PRINTABLE_STRING, "ID"),
        rdn(&OID_O, TAG_UTF8_STRING, &identity.institution),
        rdn(&OID_OU, TAG_UTF8_STRING, &identity.unit),
        rdn(&OID_TITLE, TAG_UTF8_STRING, &identity.position),
        rdn(&OID_SERIAL_NUMBER, TAG_PRINTABLE_STRING, &sn),
        rdn(&OID_CN, TAG_UTF8_STRING, &identity.name),
    ]))
}

/// An official's document-signing certificate. Subject per [`official_subject_der`] (the NIK
/// is never included); SAN rfc822Name = e-mail; basicConstraints CA:FALSE; keyUsage
/// digitalSignature+nonRepudiation critical; SKI; AKI; no extendedKeyUsage.
/// Same as [`issue_official_certificate_with`] without URLs.
pub fn issue_official_certificate(
    identity: &OfficialIdentity,
    subject_spki_der: &[u8],
    issuer_cert_der: &[u8],
    issuer_key: &dyn SignatureProducer,
    validity: CertValidity,
    serial: &[u8],
) -> Result<Vec<u8>> {
    issue_official_certificate_with(
        identity,
        subject_spki_der,
        issuer_cert_der,
        issuer_key,
        validity,
        serial,
        &CertUrls::default(),
    )
}

/// [`issue_official_certificate`] with authorityInfoAccess (id-ad-ocsp, id-ad-caIssuers) and
/// cRLDistributionPoints (one fullName URI) extensions, non-critical, for the URLs set in
/// `urls`.
pub fn issue_official_certificate_with(
    identity: &OfficialIdentity,
    subject_spki_der: &[u8],
    issuer_cert_der: &[u8],
    issuer_key: &dyn SignatureProducer,
    validity: CertValidity,
    serial: &[u8],
    urls: &CertUrls,
) -> Result<Vec<u8>> {
    let subject = official_subject_der(identity)?;
    let issuer = Certificate::from_der(issuer_cert_der)?;
    let issuer_keyid = issuer_checks(&issuer, &validity)?;
    let ski = key_identifier(subject_spki_der)?;
    let san = seq(&[&tlv(0x81, identity.email.as_bytes())]);
    let alg = sig_alg_der(issuer_key)?;
    let mut extensions = vec![
        extension(
            &OID_EXT_BASIC_CONSTRAINTS,
            true,
            &basic_constraints(false, None),
        ),
        extension(&OID_EXT_KEY_USAGE, true, &key_usage(&[0, 1])),
        extension(&OID_EXT_SUBJECT_KEY_ID, false, &tlv(TAG_OCTET_STRING, &ski)),
        extension(&OID_EXT_AUTHORITY_KEY_ID, false, &aki(&issuer_keyid)),
        extension(&OID_EXT_SUBJECT_ALT_NAME, false, &san),
    ];
    extensions.extend(url_extensions(urls)?);
    issue_under(
        &issuer,
        issuer_key,
        &alg,
        serial,
        validity,
        &subject,
        subject_spki_der,
        extensions,
    )
}

// =============================================================================================
// Trust-service certificates and URLs
// =============================================================================================

/// Service URLs embedded in issued certificates. Empty fields are left out; all `None` adds no
/// extension at all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertUrls {
    /// OCSP responder URL (authorityInfoAccess id-ad-ocsp).
    pub ocsp: Option<String>,
    /// URL of the issuer's certificate (authorityInfoAccess id-ad-caIssuers), DER or PKCS#7.
    pub ca_issuers: Option<String>,
    /// URL of the issuer's CRL (cRLDistributionPoints fullName).
    pub crl: Option<String>,
}

/// Maximum length of an URL embedded in a certificate.
pub const MAX_URL_LEN: usize = 2048;

fn check_url(u: &str) -> Result<()> {
    let ok = !u.is_empty()
        && u.len() <= MAX_URL_LEN
        && u.bytes().all(|b| b.is_ascii_graphic())
        && u.split_once("://").is_some_and(|(scheme, rest)| {
            !rest.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
                && scheme
                    .bytes()
                    .next()
                    .is_some_and(|b| b.is_ascii_alphabetic())
        });
    if ok {
        Ok(())
    } else {
        Err(PkiError::InvalidArgument(format!(
            "not an absolute URI usable in a certificate: {u:?}"
        )))
    }
}

/// GeneralName uniformResourceIdentifier [6] IA5String.
fn uri_general_name(u: &str) -> Vec<u8> {
    tlv(0x86, u.as_bytes())
}

/// authorityInfoAccess and cRLDistributionPoints extensions (non-critical) for `urls`.
pub(crate) fn url_extensions(urls: &CertUrls) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut access = Vec::new();
    if let Some(u) = urls.ocsp.as_deref().filter(|u| !u.is_empty()) {
        check_url(u)?;
        access.push(seq(&[&oid(&OID_AD_OCSP), &uri_general_name(u)]));
    }
    if let Some(u) = urls.ca_issuers.as_deref().filter(|u| !u.is_empty()) {
        check_url(u)?;
        access.push(seq(&[&oid(&OID_AD_CA_ISSUERS), &uri_general_name(u)]));
    }
    if !access.is_empty() {
        let parts: Vec<&[u8]> = access.iter().map(|a| a.as_slice()).collect();
        out.push(extension(
            &OID_EXT_AUTHORITY_INFO_ACCESS,
            false,
            &seq(&parts),
        ));
    }
    if let Some(u) = urls.crl.as_deref().filter(|u| !u.is_empty()) {
        check_url(u)?;
        // DistributionPoint { distributionPoint [0] { fullName [0] { URI } } }
        let full_name = tlv(0xa0, &uri_general_name(u));
        let dp_name = tlv(0xa0, &full_name);
        out.push(extension(
            &OID_EXT_CRL_DISTRIBUTION_POINTS,
            false,
            &seq(&[&seq(&[&dp_name])]),
        ));
    }
    Ok(out)
}

/// A time-stamping authority certificate (RFC 3161 2.3): subject `C=ID, O=<institution>,
/// CN=<institution> Time Stamping Authority`; basicConstraints CA:FALSE critical; keyUsage
/// digitalSignature+nonRepudiation critical; extendedKeyUsage id-kp-timeStamping only,
/// CRITICAL; SKI; AKI; AIA/CDP for `urls`.
pub fn issue_tsa_certificate(
    institution: &str,
    subject_spki_der: &[u8],
    issuer_cert_der: &[u8],
    issuer_key: &dyn SignatureProducer,
    validity: CertValidity,
    serial: &[u8],
    urls: &CertUrls,
) -> Result<Vec<u8>> {
    let subject = ca_subject(
        institution,
        &format!("{institution} Time Stamping Authority"),
    )?;
    let issuer = Certificate::from_der(issuer_cert_der)?;
    let issuer_keyid = issuer_checks(&issuer, &validity)?;
    let ski = key_identifier(subject_spki_der)?;
    let alg = sig_alg_der(issuer_key)?;
    let mut extensions = vec![
        extension(
            &OID_EXT_BASIC_CONSTRAINTS,
            true,
            &basic_constraints(false, None),
        ),
        extension(&OID_EXT_KEY_USAGE, true, &key_usage(&[0, 1])),
        extension(
            &OID_EXT_EXTENDED_KEY_USAGE,
            true,
            &seq(&[&oid(&OID_KP_TIME_STAMPING)]),
        ),
        extension(&OID_EXT_SUBJECT_KEY_ID, false, &tlv(TAG_OCTET_STRING, &ski)),
        extension(&OID_EXT_AUTHORITY_KEY_ID, false, &aki(&issuer_keyid)),
    ];
    extensions.extend(url_extensions(urls)?);
    issue_under(
        &issuer,
        issuer_key,
        &alg,
        serial,
        validity,
        &subject,
        subject_spki_der,
        extensions,
    )
}

/// A delegated OCSP responder certificate, issued by the CA whose certificates it answers for
/// (RFC 6960 4.2.2.2): subject `C=ID, O=<institution>, CN=<institution> OCSP Responder
/// <issuer>` where `<issuer>` is the issuer's common name without the institution prefix
/// (e.g. "Issuing CA 1"); basicConstraints CA:FALSE critical; keyUsage digitalSignature
/// critical; extendedKeyUsage id-kp-OCSPSigning; id-pkix-ocsp-nocheck (NULL); SKI; AKI. No
/// AIA/CDP (the certificate is not checked for revocation). Keep the validity short.
pub fn issue_ocsp_responder_certificate(
    institution: &str,
    subject_spki_der: &[u8],
    issuer_cert_der: &[u8],
    issuer_key: &dyn SignatureProducer,
    validity: CertValidity,
    serial: &[u8],
) -> Result<Vec<u8>> {
    let issuer = Certificate::from_der(issuer_cert_der)?;
    let issuer_cn = issuer
        .subject_common_name()
        .unwrap_or_else(|| issuer.subject_display());
    let label = issuer_cn
        .strip_prefix(institution)
        .map(str::trim_start)
        .filter(|l| !l.is_empty())
        .unwrap_or(&issuer_cn);
    let subject = ca_subject(
        institution,
        &format!("{institution} OCSP Responder {label}"),
    )?;
    let issuer_keyid = issuer_checks(&issuer, &validity)?;
    let ski = key_identifier(subject_spki_der)?;
    let alg = sig_alg_der(issuer_key)?;
    let extensions = vec![
        extension(
            &OID_EXT_BASIC_CONSTRAINTS,
            true,
            &basic_constraints(false, None),
        ),
        extension(&OID_EXT_KEY_USAGE, true, &key_usage(&[0])),
        extension(
            &OID_EXT_EXTENDED_KEY_USAGE,
            false,
            &seq(&[&oid(&OID_KP_OCSP_SIGNING)]),
        ),
        extension(&OID_PKIX_OCSP_NOCHECK, false, &[0x05, 0x00]),
        extension(&OID_EXT_SUBJECT_KEY_ID, false, &tlv(TAG_OCTET_STRING, &ski)),
        extension(&OID_EXT_AUTHORITY_KEY_ID, false, &aki(&issuer_keyid)),
    ];
    issue_under(
        &issuer,
        issuer_key,
        &alg,
        serial,
        validity,
        &subject,
        subject_spki_der,
        extensions,
    )
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

// =============================================================================================
// PEM
// =============================================================================================

/// DER to PEM with 64-character lines and a trailing newline.
pub fn der_to_pem(der: &[u8], label: &str) -> String {
    let b = B64.encode(der);
    let mut out = String::with_capacity(b.len() + b.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for chunk in b.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// All PEM blocks as (label, DER). Text outside blocks is ignored; RFC 1421 headers
/// (`Key: value` lines) inside a block are skipped.
pub fn pem_blocks(pem: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in pem.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("-----BEGIN ") {
            let label = rest
                .strip_suffix("-----")
                .ok_or_else(|| PkiError::Pem("malformed BEGIN line".into()))?;
            current = Some((label.to_string(), String::new()));
        } else if let Some(rest) = line.strip_prefix("-----END ") {
            let label = rest
                .strip_suffix("-----")
                .ok_or_else(|| PkiError::Pem("malformed END line".into()))?;
            let (l, body) = current
                .take()
                .ok_or_else(|| PkiError::Pem("END without BEGIN".into()))?;
            if l != label {
                return Err(PkiError::Pem(format!("BEGIN {l} closed by END {label}")));
            }
            let der = B64
                .decode(body.as_bytes())
                .map_err(|_| PkiError::Pem(format!("bad base64 in {l} block")))?;
            out.push((l, der));
        } else if let Some((_, body)) = current.as_mut()
            && !line.contains(':')
        {
            body.push_str(line);
        }
    }
    if current.is_some() {
        return Err(PkiError::Pem("BEGIN without END".into()));
    }
    Ok(out)
}

/// DER of every PEM block (whatever its label), in order. Error if there is none.
pub fn pem_to_der_all(pem: &str) -> Result<Vec<Vec<u8>>> {
    let blocks = pem_blocks(pem)?;
    if blocks.is_empty() {
        return Err(PkiError::Pem("no PEM block found".into()));
    }
    Ok(blocks.into_iter().map(|(_, d)| d).collect())
}

/// Certificates from a file's bytes: PEM (all CERTIFICATE / X509 CERTIFICATE / TRUSTED
/// CERTIFICATE blocks) or a single DER certificate.
pub fn load_certificates(bytes: &[u8]) -> Result<Vec<Certificate>> {
    if let Ok(text) = std::str::from_utf8(bytes)
        && text.contains("-----BEGIN")
    {
        let certs: Vec<Certificate> = pem_blocks(text)?
            .into_iter()
            .filter(|(l, _)| l.ends_with("CERTIFICATE"))
            .map(|(_, d)| Certificate::from_der(&d))
            .collect::<Result<_>>()?;
        if certs.is_empty() {
            return Err(PkiError::Pem("no CERTIFICATE block found".into()));
        }
        return Ok(certs);
    }
    Ok(vec![Certificate::from_der(bytes)?])
}

// =============================================================================================
// Parsed certificate
// =============================================================================================

/// keyUsage bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KeyUsageFlags {
    /// digitalSignature (0)
    pub digital_signature: bool,
    /// nonRepudiation / contentCommitment (1)
    pub non_repudiation: bool,
    /// keyEncipherment (2)
    pub key_encipherment: bool,
    /// dataEncipherment (3)
    pub data_encipherment: bool,
    /// keyAgreement (4)
    pub key_agreement: bool,
    /// keyCertSign (5)
    pub key_cert_sign: bool,
    /// cRLSign (6)
    pub crl_sign: bool,
    /// encipherOnly (7)
    pub encipher_only: bool,
    /// decipherOnly (8)
    pub decipher_only: bool,
}

/// A parsed X.509 certificate. Cheap accessors; the raw DER pieces (TBS, names, SPKI) are
/// kept byte-exact as found in the encoding.
#[derive(Clone)]
pub struct Certificate {
    /// The DER encoding.
    pub der: Vec<u8>,
    parsed: x509_cert::Certificate,
    tbs: Vec<u8>,
    serial: Vec<u8>,
    issuer: Vec<u8>,
    subject: Vec<u8>,
    spki: Vec<u8>,
    signature_algorithm: spki::AlgorithmIdentifierOwned,
    signature: Vec<u8>,
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}
impl Eq for Certificate {}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject_display())
            .field("issuer", &self.issuer_display())
            .field("serial", &self.serial_hex())
            .finish()
    }
}

fn cert_err(msg: impl Into<String>) -> PkiError {
    PkiError::InvalidCertificate(msg.into())
}

impl Certificate {
    /// Parse a DER certificate (strict DER, no trailing data).
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let parsed = x509_cert::Certificate::from_der(der)
            .map_err(|e| cert_err(format!("cannot parse certificate: {e}")))?;
        let outer = asn1::parse_single(der)?;
        let mut r = outer.reader();
        let tbs = r.expect(TAG_SEQUENCE)?;
        let sig_alg = r.expect(TAG_SEQUENCE)?;
        let sig = asn1::read_bit_string_bytes(&r.read()?)?;
        let mut t = tbs.reader();
        t.optional(0xa0)?;
        let serial = t.expect(TAG_INTEGER)?;
        t.expect(TAG_SEQUENCE)?;
        let issuer = t.expect(TAG_SEQUENCE)?;
        t.expect(TAG_SEQUENCE)?;
        let subject = t.expect(TAG_SEQUENCE)?;
        let spki = t.expect(TAG_SEQUENCE)?;
        let signature_algorithm = spki::AlgorithmIdentifierOwned::from_der(sig_alg.raw)?;
        Ok(Certificate {
            der: der.to_vec(),
            parsed,
            tbs: tbs.raw.to_vec(),
            serial: serial.content.to_vec(),
            issuer: issuer.raw.to_vec(),
            subject: subject.raw.to_vec(),
            spki: spki.raw.to_vec(),
            signature_algorithm,
            signature: sig.to_vec(),
        })
    }

    /// The `x509-cert` view (for crates that need more than the accessors here).
    pub fn parsed(&self) -> &x509_cert::Certificate {
        &self.parsed
    }

    /// The last commonName of the subject (RDN order), if any.
    pub fn subject_common_name(&self) -> Option<String> {
        self.subject_attribute(OID_CN)
    }

    /// The last value of `oid` in the subject (e.g. title, OU, O, serialNumber).
    pub fn subject_attribute(&self, attr: ObjectIdentifier) -> Option<String> {
        name_attributes(&self.subject)
            .ok()?
            .into_iter()
            .rev()
            .flatten()
            .find(|(o, _)| *o == attr)
            .map(|(_, v)| v.into_text())
    }

    /// Subject DN, RFC 4514 style (most specific first: "CN=..., O=..., C=ID").
    pub fn subject_display(&self) -> String {
        name_display(&self.subject)
    }

    /// Issuer DN, RFC 4514 style.
    pub fn issuer_display(&self) -> String {
        name_display(&self.issuer)
    }

    /// Serial number, lowercase hex without the DER sign byte.
    pub fn serial_hex(&self) -> String {
        let skip = self
            .serial
            .iter()
            .take_while(|b| **b == 0)
            .count()
            .min(self.serial.len().saturating_sub(1));
        hex::encode(self.serial.get(skip..).unwrap_or(&[]))
    }

    /// Serial number: the INTEGER content octets as encoded (may start with a 0x00 sign byte).
    pub fn serial_bytes(&self) -> Vec<u8> {
        self.serial.clone()
    }

    /// DER of the issuer Name.
    pub fn issuer_der(&self) -> Vec<u8> {
        self.issuer.clone()
    }

    /// DER of the subject Name.
    pub fn subject_der(&self) -> Vec<u8> {
        self.subject.clone()
    }

    /// Borrowed DER of the issuer Name.
    pub fn issuer_der_ref(&self) -> &[u8] {
        &self.issuer
    }

    /// Borrowed DER of the subject Name.
    pub fn subject_der_ref(&self) -> &[u8] {
        &self.subject
    }

    /// notBefore.
    pub fn not_before(&self) -> OffsetDateTime {
        to_odt(self.parsed.tbs_certificate.validity.not_before)
    }

    /// notAfter.
    pub fn not_after(&self) -> OffsetDateTime {
        to_odt(self.parsed.tbs_certificate.validity.not_after)
    }

    fn extension(&self, ext_oid: &ObjectIdentifier) -> Option<&x509_cert::ext::Extension> {
        self.parsed
            .tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|e| e.extn_id == *ext_oid)
    }

    /// Whether `oid` is present and marked critical.
    pub fn extension_is_critical(&self, ext_oid: &ObjectIdentifier) -> Option<bool> {
        self.extension(ext_oid).map(|e| e.critical)
    }

    /// OIDs of all extensions.
    pub fn extension_oids(&self) -> Vec<ObjectIdentifier> {
        self.parsed
            .tbs_certificate
            .extensions
            .as_ref()
            .map(|v| v.iter().map(|e| e.extn_id).collect())
            .unwrap_or_default()
    }

    fn basic_constraints(&self) -> Option<x509_cert::ext::pkix::BasicConstraints> {
        let e = self.extension(&OID_EXT_BASIC_CONSTRAINTS)?;
        x509_cert::ext::pkix::BasicConstraints::from_der(e.extn_value.as_bytes()).ok()
    }

    /// basicConstraints cA.
    pub fn is_ca(&self) -> bool {
        self.basic_constraints().is_some_and(|b| b.ca)
    }

    /// basicConstraints pathLenConstraint.
    pub fn path_len(&self) -> Option<u8> {
        self.basic_constraints()?.path_len_constraint
    }

    /// X.509 version (1, 2 or 3).
    pub fn version(&self) -> u8 {
        match self.parsed.tbs_certificate.version {
            x509_cert::certificate::Version::V1 => 1,
            x509_cert::certificate::Version::V2 => 2,
            x509_cert::certificate::Version::V3 => 3,
        }
    }

    /// keyUsage, if the extension is present and decodable.
    pub fn key_usage(&self) -> Option<KeyUsageFlags> {
        use x509_cert::ext::pkix::KeyUsages as K;
        let e = self.extension(&OID_EXT_KEY_USAGE)?;
        let ku = x509_cert::ext::pkix::KeyUsage::from_der(e.extn_value.as_bytes()).ok()?;
        let f = ku.0;
        Some(KeyUsageFlags {
            digital_signature: f.contains(K::DigitalSignature),
            non_repudiation: f.contains(K::NonRepudiation),
            key_encipherment: f.contains(K::KeyEncipherment),
            data_encipherment: f.contains(K::DataEncipherment),
            key_agreement: f.contains(K::KeyAgreement),
            key_cert_sign: f.contains(K::KeyCertSign),
            crl_sign: f.contains(K::CRLSign),
            encipher_only: f.contains(K::EncipherOnly),
            decipher_only: f.contains(K::DecipherOnly),
        })
    }

    /// Whether an extendedKeyUsage extension is present.
    pub fn has_extended_key_usage(&self) -> bool {
        self.extension(&OID_EXT_EXTENDED_KEY_USAGE).is_some()
    }

    /// extendedKeyUsage purposes (empty if absent or undecodable).
    pub fn extended_key_usages(&self) -> Vec<ObjectIdentifier> {
        self.extension(&OID_EXT_EXTENDED_KEY_USAGE)
            .and_then(|e| {
                x509_cert::ext::pkix::ExtendedKeyUsage::from_der(e.extn_value.as_bytes()).ok()
            })
            .map(|eku| eku.0)
            .unwrap_or_default()
    }

    /// subjectKeyIdentifier.
    pub fn subject_key_id(&self) -> Option<Vec<u8>> {
        let e = self.extension(&OID_EXT_SUBJECT_KEY_ID)?;
        let t = asn1::parse_single(e.extn_value.as_bytes()).ok()?;
        (t.tag == TAG_OCTET_STRING).then(|| t.content.to_vec())
    }

    /// authorityKeyIdentifier keyIdentifier.
    pub fn authority_key_id(&self) -> Option<Vec<u8>> {
        let e = self.extension(&OID_EXT_AUTHORITY_KEY_ID)?;
        let t = asn1::parse_single(e.extn_value.as_bytes()).ok()?;
        let mut r = t.reader();
        let k = r.optional(0x80).ok()??;
        Some(k.content.to_vec())
    }

    /// rfc822Name entries of subjectAltName.
    pub fn subject_alt_emails(&self) -> Vec<String> {
        let Some(e) = self.extension(&OID_EXT_SUBJECT_ALT_NAME) else {
            return Vec::new();
        };
        let Ok(t) = asn1::parse_single(e.extn_value.as_bytes()) else {
            return Vec::new();
        };
        let mut r = t.reader();
        let mut out = Vec::new();
        while let Ok(gn) = r.read() {
            if gn.tag == 0x81
                && let Ok(s) = std::str::from_utf8(gn.content)
            {
                out.push(s.to_string());
            }
        }
        out
    }

    fn aia_urls(&self, method: ObjectIdentifier) -> Vec<String> {
        let Some(e) = self.extension(&OID_EXT_AUTHORITY_INFO_ACCESS) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let Ok(t) = asn1::parse_single(e.extn_value.as_bytes()) else {
            return out;
        };
        let mut r = t.reader();
        while let Ok(ad) = r.read() {
            let mut ar = ad.reader();
            let (Ok(m), Ok(loc)) = (ar.read(), ar.read()) else {
                continue;
            };
            if asn1::read_oid(&m).ok() == Some(method)
                && loc.tag == 0x86
                && let Ok(s) = std::str::from_utf8(loc.content)
            {
                out.push(s.to_string());
            }
        }
        out
    }

    /// OCSP responder URLs (authorityInfoAccess id-ad-ocsp, URI names only).
    pub fn ocsp_urls(&self) -> Vec<String> {
        self.aia_urls(OID_AD_OCSP)
    }

    /// Issuer certificate URLs (authorityInfoAccess id-ad-caIssuers, URI names only).
    pub fn ca_issuers_urls(&self) -> Vec<String> {
        self.aia_urls(OID_AD_CA_ISSUERS)
    }

    /// CRL URLs (cRLDistributionPoints, fullName URIs of every distribution point).
    pub fn crl_urls(&self) -> Vec<String> {
        let Some(e) = self.extension(&OID_EXT_CRL_DISTRIBUTION_POINTS) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let Ok(t) = asn1::parse_single(e.extn_value.as_bytes()) else {
            return out;
        };
        let mut r = t.reader();
        while let Ok(dp) = r.read() {
            let mut dr = dp.reader();
            let Ok(Some(name)) = dr.optional(0xa0) else {
                continue;
            };
            let mut nr = name.reader();
            let Ok(Some(full)) = nr.optional(0xa0) else {
                continue;
            };
            let mut fr = full.reader();
            while let Ok(gn) = fr.read() {
                if gn.tag == 0x86
                    && let Ok(s) = std::str::from_utf8(gn.content)
                {
                    out.push(s.to_string());
                }
            }
        }
        out
    }

    /// Whether the id-pkix-ocsp-nocheck extension is present (delegated OCSP responder).
    pub fn has_ocsp_nocheck(&self) -> bool {
        self.extension(&OID_PKIX_OCSP_NOCHECK).is_some()
    }

    /// subjectPublicKey BIT STRING content (without the unused-bits octet): the input of
    /// OCSP key hashes.
    pub fn public_key_bits(&self) -> &[u8] {
        spki_key_bits(&self.spki).unwrap_or(&[])
    }

    /// DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> Vec<u8> {
        self.spki.clone()
    }

    /// Borrowed DER SubjectPublicKeyInfo.
    pub fn spki_der_ref(&self) -> &[u8] {
        &self.spki
    }

    /// SHA-256 of the DER certificate.
    pub fn sha256_fingerprint(&self) -> [u8; 32] {
        let d = digest::digest(&digest::SHA256, &self.der);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        out
    }

    /// The TBSCertificate bytes exactly as encoded.
    pub fn tbs_der(&self) -> Vec<u8> {
        self.tbs.clone()
    }

    /// The outer signatureAlgorithm.
    pub fn signature_algorithm(&self) -> &spki::AlgorithmIdentifierOwned {
        &self.signature_algorithm
    }

    /// The signature value.
    pub fn signature_value(&self) -> &[u8] {
        &self.signature
    }

    /// Whether this certificate's signature verifies with `issuer`'s public key (SHA-1
    /// signatures are rejected).
    pub fn is_signed_by(&self, issuer: &Certificate) -> bool {
        verify_signature(
            &issuer.spki,
            &self.signature_algorithm,
            &self.tbs,
            &self.signature,
        )
        .unwrap_or(false)
    }

    /// Subject equals issuer (byte-wise DER comparison).
    pub fn is_self_issued(&self) -> bool {
        self.subject == self.issuer
    }

    /// Whether the certificate is valid at `at`.
    pub fn is_valid_at(&self, at: OffsetDateTime) -> bool {
        self.not_before() <= at && at <= self.not_after()
    }
}

fn to_odt(t: x509_cert::time::Time) -> OffsetDateTime {
    let secs = i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// One attribute value of a Name: decoded text, or the DER of a non-string value.
#[derive(Clone, Debug)]
pub(crate) enum AttrValue {
    Text(String),
    Raw(Vec<u8>),
}

impl AttrValue {
    fn into_text(self) -> String {
        match self {
            AttrValue::Text(s) => s,
            AttrValue::Raw(d) => format!("#{}", hex::encode(d)),
        }
    }
}

type Rdns = Vec<Vec<(ObjectIdentifier, AttrValue)>>;

/// Attributes of a DER Name: RDNs in order, each a list of (type, value).
pub(crate) fn name_attributes(name_der: &[u8]) -> Result<Rdns> {
    let outer = asn1::parse_single(name_der)?;
    if outer.tag != TAG_SEQUENCE {
        return Err(PkiError::Asn1("Name is not a SEQUENCE".into()));
    }
    let mut r = outer.reader();
    let mut rdns = Vec::new();
    while !r.is_empty() {
        let set = r.expect(TAG_SET)?;
        let mut sr = set.reader();
        let mut atvs = Vec::new();
        while !sr.is_empty() {
            let atv = sr.expect(TAG_SEQUENCE)?;
            let mut ar = atv.reader();
            let o = asn1::read_oid(&ar.read()?)?;
            let v = ar.read()?;
            let value = match asn1::decode_string(v.tag, v.content) {
                Some(t) => AttrValue::Text(t),
                None => AttrValue::Raw(v.raw.to_vec()),
            };
            atvs.push((o, value));
        }
        rdns.push(atvs);
    }
    Ok(rdns)
}

fn attr_short_name(o: &ObjectIdentifier) -> String {
    let known: &[(ObjectIdentifier, &str)] = &[
        (OID_CN, "CN"),
        (OID_C, "C"),
        (OID_O, "O"),
        (OID_OU, "OU"),
        (OID_L, "L"),
        (OID_ST, "ST"),
        (OID_STREET, "STREET"),
        (OID_DC, "DC"),
        (OID_UID, "UID"),
        (OID_SERIAL_NUMBER, "serialNumber"),
        (OID_TITLE, "title"),
        (OID_EMAIL_ADDRESS, "emailAddress"),
        (OID_GIVEN_NAME, "GN"),
        (OID_SURNAME, "SN"),
        (OID_ORGANIZATION_IDENTIFIER, "organizationIdentifier"),
    ];
    known
        .iter()
        .find(|(k, _)| k == o)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| o.to_string())
}

fn escape_rfc4514(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let n = v.chars().count();
    for (i, c) in v.chars().enumerate() {
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i + 1 == n && c == ' ');
        if special {
            out.push('\\');
            out.push(c);
        } else if c.is_control() {
            out.push_str(&format!("\\{:02x}", c as u32 & 0xff));
        } else {
            out.push(c);
        }
    }
    out
}

/// RFC 4514 string for a DER Name (RDNs reversed, multi-valued RDNs joined with '+').
pub(crate) fn name_display(name_der: &[u8]) -> String {
    match name_attributes(name_der) {
        Ok(rdns) => rdns
            .iter()
            .rev()
            .map(|rdn| {
                rdn.iter()
                    .map(|(o, v)| {
                        let val = match v {
                            AttrValue::Text(t) => escape_rfc4514(t),
                            AttrValue::Raw(d) => format!("#{}", hex::encode(d)),
                        };
                        format!("{}={}", attr_short_name(o), val)
                    })
                    .collect::<Vec<_>>()
                    .join("+")
            })
            .collect::<Vec<_>>()
            .join(", "),
        Err(_) => format!("#{}", hex::encode(name_der)),
    }
}

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
enum KeyKind {
    Rsa,
    Ec(Curve),
    Ed25519,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Curve {
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
fn spki_algorithm(spki_der: &[u8]) -> Result<(KeyKind, &[u8])> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_usage_bits() {
        assert_eq!(key_usage(&[0, 1]), vec![0x03, 0x02, 0x06, 0xc0]);
        assert_eq!(key_usage(&[5, 6]), vec![0x03, 0x02, 0x01, 0x06]);
        assert_eq!(key_usage(&[0, 8]), vec![0x03, 0x03, 0x07, 0x80, 0x80]);
    }

    #[test]
    fn printable() {
        assert!(is_printable("PNOID-198501012010011001"));
        assert!(!is_printable("a@b"));
    }
}

// =============================================================================================
// Institutional e-seal (segel elektronik)
// =============================================================================================

/// Identity of an institution's or unit's electronic seal: an organisation, no person.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SealIdentity {
    /// Display name of the seal, e.g. "DPMPTSP Kota Contoh" (the certificate's CN).
    pub name: String,
    /// Unit (perangkat daerah) the seal belongs to (OU).
    pub unit: String,
    /// Institution (pemerintah daerah) (O).
    pub institution: String,
    /// The responsible person's official e-mail (where one-time codes go). Not written into
    /// the certificate: it identifies a person, the certificate an organisation.
    pub email: String,
}

impl SealIdentity {
    /// Run all checks; the first failure is returned.
    pub fn validate(&self) -> std::result::Result<(), IdentityError> {
        check_text(
            &self.name,
            "nama",
            IdentityError::NameEmpty,
            IdentityError::NameTooLong,
        )?;
        check_text(
            &self.unit,
            "unit kerja",
            IdentityError::UnitEmpty,
            IdentityError::UnitTooLong,
        )?;
        check_text(
            &self.institution,
            "instansi",
            IdentityError::InstitutionEmpty,
            IdentityError::InstitutionTooLong,
        )?;
        validate_email(&self.email)
    }
}

/// An institutional e-seal certificate: subject `C=ID, O=<institution>, OU=<unit>, CN=<name>`
/// (organisation attributes only: no title, no serialNumber, no NIK, no e-mail);
/// basicConstraints CA:FALSE critical; keyUsage digitalSignature+nonRepudiation
/// (contentCommitment) critical; SKI; AKI; authorityInfoAccess and cRLDistributionPoints for
/// `urls`, as for officials. No qcStatements (officials' certificates carry none either).
pub fn issue_seal_certificate_with(
    identity: &SealIdentity,
    subject_spki_der: &[u8],
    issuer_cert_der: &[u8],
    issuer_key: &dyn SignatureProducer,
    validity: CertValidity,
    serial: &[u8],
    urls: &CertUrls,
) -> Result<Vec<u8>> {
    identity.validate()?;
    let subject = name(&[
        rdn(&OID_C, TAG_PRINTABLE_STRING, "ID"),
        rdn(&OID_O, TAG_UTF8_STRING, &identity.institution),
        rdn(&OID_OU, TAG_UTF8_STRING, &identity.unit),
        rdn(&OID_CN, TAG_UTF8_STRING, &identity.name),
    ]);
    let issuer = Certificate::from_der(issuer_cert_der)?;
    let issuer_keyid = issuer_checks(&issuer, &validity)?;
    let ski = key_identifier(subject_spki_der)?;
    let alg = sig_alg_der(issuer_key)?;
    let mut extensions = vec![
        extension(
            &OID_EXT_BASIC_CONSTRAINTS,
            true,
            &basic_constraints(false, None),
        ),
        extension(&OID_EXT_KEY_USAGE, true, &key_usage(&[0, 1])),
        extension(&OID_EXT_SUBJECT_KEY_ID, false, &tlv(TAG_OCTET_STRING, &ski)),
        extension(&OID_EXT_AUTHORITY_KEY_ID, false, &aki(&issuer_keyid)),
    ];
    extensions.extend(url_extensions(urls)?);
    issue_under(
        &issuer,
        issuer_key,
        &alg,
        serial,
        validity,
        &subject,
        subject_spki_der,
        extensions,
    )
}

#[cfg(test)]
mod seal_tests {
    use super::*;
    use crate::keys::KeyAlgorithm;

    fn seal_identity() -> SealIdentity {
        SealIdentity {
            name: "DPMPTSP Kota Contoh".into(),
            unit: "Dinas Penanaman Modal dan PTSP".into(),
            institution: "Pemerintah Kota Contoh".into(),
            email: "kepala.dpmptsp@contoh.go.id".into(),
        }
    }

    #[test]
    fn seal_certificate_parses_and_has_no_person_attributes() {
        let institution = "Pemerintah Kota Contoh";
        let root_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("root key");
        let root_der = create_root_ca(
            institution,
            &root_key,
            CertValidity::days_from_now(3650),
            &random_serial(),
        )
        .expect("root");
        let issuing_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("issuing key");
        let issuing_der = create_issuing_ca(
            institution,
            1,
            &issuing_key,
            &root_der,
            &root_key,
            CertValidity::days_from_now(3000),
            &random_serial(),
        )
        .expect("issuing");
        let seal_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("seal key");
        let urls = CertUrls {
            ocsp: Some("http://127.0.0.1:8080/ocsp".into()),
            ca_issuers: Some("http://127.0.0.1:8080/ca/issuing-1.crt".into()),
            crl: Some("http://127.0.0.1:8080/crl/issuing-1.crl".into()),
        };
        let der = issue_seal_certificate_with(
            &seal_identity(),
            seal_key.spki_der_ref(),
            &issuing_der,
            &issuing_key,
            CertValidity::days_from_now(365),
            &random_serial(),
            &urls,
        )
        .expect("seal certificate");
        let cert = Certificate::from_der(&der).expect("parses");
        let issuing = Certificate::from_der(&issuing_der).expect("issuing parses");
        assert!(cert.is_signed_by(&issuing));
        assert!(!cert.is_ca());
        assert_eq!(
            cert.subject_common_name().as_deref(),
            Some("DPMPTSP Kota Contoh")
        );
        assert_eq!(
            cert.subject_attribute(OID_O).as_deref(),
            Some("Pemerintah Kota Contoh")
        );
        assert_eq!(
            cert.subject_attribute(OID_OU).as_deref(),
            Some("Dinas Penanaman Modal dan PTSP")
        );
        assert_eq!(cert.subject_attribute(OID_C).as_deref(), Some("ID"));
        for person in [
            OID_SERIAL_NUMBER,
            OID_TITLE,
            OID_GIVEN_NAME,
            OID_SURNAME,
            OID_EMAIL_ADDRESS,
            OID_UID,
        ] {
            assert_eq!(cert.subject_attribute(person), None, "{person}");
        }
        assert!(cert.subject_alt_emails().is_empty());
        let ku = cert.key_usage().expect("keyUsage");
        assert!(ku.digital_signature && ku.non_repudiation && !ku.key_cert_sign);
        assert_eq!(cert.extension_is_critical(&OID_EXT_KEY_USAGE), Some(true));
        assert_eq!(
            cert.ocsp_urls(),
            vec!["http://127.0.0.1:8080/ocsp".to_string()]
        );
        assert!(
            cert.extension_oids()
                .contains(&OID_EXT_CRL_DISTRIBUTION_POINTS)
        );
    }

    #[test]
    fn seal_identity_is_checked() {
        let mut id = seal_identity();
        id.name = " ".into();
        assert_eq!(id.validate(), Err(IdentityError::NameEmpty));
        let mut id = seal_identity();
        id.email = "bukan-email".into();
        assert_eq!(id.validate(), Err(IdentityError::EmailInvalid));
        let mut id = seal_identity();
        id.unit = "Dinas\nX".into();
        assert!(matches!(
            id.validate(),
            Err(IdentityError::InvalidCharacters { .. })
        ));
        assert_eq!(seal_identity().validate(), Ok(()));
    }
}
