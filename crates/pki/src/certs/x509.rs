//! The parsed [`super::Certificate`] wrapper: names, extensions, key usage, validity.

use super::*;

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
