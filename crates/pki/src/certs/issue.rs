//! Issuance: validity periods, serials, the root and issuing CAs, and officials' certificates
//! (the profiles of DESIGN.md).

use super::*;

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

pub(super) fn rdn(attr_oid: &ObjectIdentifier, tag: u8, value: &str) -> Vec<u8> {
    let atv = seq(&[&oid(attr_oid), &tlv(tag, value.as_bytes())]);
    tlv(TAG_SET, &atv)
}

pub(super) fn is_printable(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b))
}

pub(super) fn name(rdns: &[Vec<u8>]) -> Vec<u8> {
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

pub(super) fn sig_alg_der(signer: &dyn SignatureProducer) -> Result<Vec<u8>> {
    Ok(signer.signature_algorithm().to_der()?)
}

pub(super) fn ca_subject(institution: &str, cn: &str) -> Result<Vec<u8>> {
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
pub(super) fn issue_under(
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

/// What differs between the end-entity profiles (official, seal, TSA, OCSP responder); the
/// rest is the same for all: basicConstraints CA:FALSE critical, keyUsage critical, SKI, AKI.
pub(super) struct EndEntity<'a> {
    /// keyUsage bits (0 digitalSignature, 1 nonRepudiation).
    pub(super) key_usage: &'a [u8],
    /// Extensions right after keyUsage (extendedKeyUsage, ocsp-nocheck).
    pub(super) after_key_usage: Vec<Vec<u8>>,
    /// Extensions right after the key identifiers (subjectAltName).
    pub(super) after_key_ids: Vec<Vec<u8>>,
    /// authorityInfoAccess and cRLDistributionPoints, when the profile carries them.
    pub(super) urls: Option<&'a CertUrls>,
}

/// Issues an end-entity certificate for `subject` under `issuer` (checked: a CA, valid for
/// the whole validity period) with the extensions of `profile`, in one fixed order.
pub(super) fn issue_end_entity(
    issuer: &Certificate,
    issuer_key: &dyn SignatureProducer,
    validity: CertValidity,
    serial: &[u8],
    subject: &[u8],
    subject_spki_der: &[u8],
    profile: EndEntity<'_>,
) -> Result<Vec<u8>> {
    let issuer_keyid = issuer_checks(issuer, &validity)?;
    let ski = key_identifier(subject_spki_der)?;
    let alg = sig_alg_der(issuer_key)?;
    let mut extensions = vec![
        extension(
            &OID_EXT_BASIC_CONSTRAINTS,
            true,
            &basic_constraints(false, None),
        ),
        extension(&OID_EXT_KEY_USAGE, true, &key_usage(profile.key_usage)),
    ];
    extensions.extend(profile.after_key_usage);
    extensions.push(extension(
        &OID_EXT_SUBJECT_KEY_ID,
        false,
        &tlv(TAG_OCTET_STRING, &ski),
    ));
    extensions.push(extension(
        &OID_EXT_AUTHORITY_KEY_ID,
        false,
        &aki(&issuer_keyid),
    ));
    extensions.extend(profile.after_key_ids);
    if let Some(urls) = profile.urls {
        extensions.extend(url_extensions(urls)?);
    }
    issue_under(
        issuer,
        issuer_key,
        &alg,
        serial,
        validity,
        subject,
        subject_spki_der,
        extensions,
    )
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

pub(super) fn issuer_checks(issuer: &Certificate, validity: &CertValidity) -> Result<Vec<u8>> {
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
    let san = seq(&[&tlv(0x81, identity.email.as_bytes())]);
    issue_end_entity(
        &issuer,
        issuer_key,
        validity,
        serial,
        &subject,
        subject_spki_der,
        EndEntity {
            key_usage: &[0, 1],
            after_key_usage: Vec::new(),
            after_key_ids: vec![extension(&OID_EXT_SUBJECT_ALT_NAME, false, &san)],
            urls: Some(urls),
        },
    )
}
