//! Issuance: [`issue`] makes every certificate Sahih writes. A [`Profile`] says which kind
//! (root CA, issuing CA, official, seal, TSA, OCSP responder) and carries its names; an
//! [`IssueRequest`] says for which key, who signs, for how long, under which serial and with
//! which service URLs. The profiles differ only in their subject and in one row of
//! extensions ([`Profile::extensions`]); the assembly and its checks are shared.

use super::*;

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

/// Who signs a certificate.
#[derive(Clone, Copy, Debug)]
pub enum Issuer<'a> {
    /// The certificate signs itself with the subject's own key: a root CA.
    SelfSigned,
    /// The CA with this certificate (DER); [`IssueRequest::signer`] holds its key. It must be
    /// a CA with keyCertSign, valid for the whole validity period asked for.
    Ca(&'a [u8]),
}

/// Everything an issuance needs besides the [`Profile`].
pub struct IssueRequest<'a> {
    /// SubjectPublicKeyInfo (DER) of the key the certificate is for; only the public key is
    /// needed, so the private key may live in a PKCS#11 token.
    pub subject_spki: &'a [u8],
    /// Who signs: self-signed for a root CA, otherwise a CA certificate.
    pub issuer: Issuer<'a>,
    /// Makes the signature: the issuer's key (the subject's own key when self-signed). The
    /// result is checked against the issuer certificate, which catches a key that does not
    /// belong to it (a mis-configured HSM slot).
    pub signer: &'a dyn SignatureProducer,
    /// Validity period.
    pub validity: CertValidity,
    /// Serial number, big-endian (1-20 octets, not zero; see [`random_serial`]).
    pub serial: &'a [u8],
    /// authorityInfoAccess (OCSP, caIssuers) and cRLDistributionPoints to write, non-critical:
    /// the issuer's services. Must be empty for the profiles that carry none (root CA, OCSP
    /// responder).
    pub urls: CertUrls,
}

/// The kinds of certificate Sahih issues (the profiles of DESIGN.md), each with the names
/// its subject is made of. Every profile writes basicConstraints and keyUsage (both
/// critical) and a subjectKeyIdentifier (RFC 7093 method 1); all but the root an
/// authorityKeyIdentifier.
#[derive(Clone, Copy, Debug)]
pub enum Profile<'a> {
    /// Root CA, self-signed: subject `C=ID, O=<institution>, CN=<institution> Root CA`;
    /// CA:TRUE without pathLen; keyCertSign+cRLSign. No URLs.
    RootCa {
        /// The institution (pemerintah daerah) running Sahih.
        institution: &'a str,
    },
    /// Issuing CA under the root: subject `C=ID, O=<institution>, CN=<institution> Issuing CA
    /// <generation>`; CA:TRUE pathLen 0; keyCertSign+cRLSign; the root's URLs (its CRL, its
    /// certificate as caIssuers, an OCSP service answering for the root if any).
    IssuingCa {
        /// The institution (pemerintah daerah) running Sahih.
        institution: &'a str,
        /// Which issuing CA this is (1, 2, ... as they are rolled over).
        generation: u32,
    },
    /// An official's document-signing certificate: subject `C=ID, O=<institution>,
    /// OU=<unit>, title=<position>, serialNumber=PNOID-<NIP>, CN=<name>` (C and serialNumber
    /// PrintableString as X.520 requires, the rest UTF8String; never the NIK); CA:FALSE;
    /// digitalSignature+nonRepudiation; subjectAltName rfc822Name = e-mail; no
    /// extendedKeyUsage.
    Official(&'a OfficialIdentity),
    /// An institutional e-seal: subject `C=ID, O=<institution>, OU=<unit>, CN=<name>`
    /// (organisation attributes only: no title, serialNumber, NIK or e-mail); CA:FALSE;
    /// digitalSignature+nonRepudiation. No qcStatements (officials' certificates carry none
    /// either).
    Seal(&'a SealIdentity),
    /// A time-stamping authority (RFC 3161 2.3): subject `C=ID, O=<institution>,
    /// CN=<institution> Time Stamping Authority`; CA:FALSE; digitalSignature+nonRepudiation;
    /// extendedKeyUsage id-kp-timeStamping only, critical.
    Tsa {
        /// The institution (pemerintah daerah) running Sahih.
        institution: &'a str,
    },
    /// A delegated OCSP responder, issued by the CA it answers for (RFC 6960 4.2.2.2):
    /// subject `C=ID, O=<institution>, CN=<institution> OCSP Responder <issuer>`, `<issuer>`
    /// being the issuer's common name without the institution prefix (e.g. "Issuing CA 1");
    /// CA:FALSE; digitalSignature; extendedKeyUsage id-kp-OCSPSigning; id-pkix-ocsp-nocheck.
    /// No URLs: it is not checked for revocation (RFC 6960 4.2.2.2.1), so keep its validity
    /// short.
    OcspResponder {
        /// The institution (pemerintah daerah) running Sahih.
        institution: &'a str,
    },
}

/// The extensions of a profile beyond the key identifiers, written in this order:
/// basicConstraints, keyUsage, `after_key_usage`, subjectKeyIdentifier,
/// authorityKeyIdentifier (not when self-signed), `after_key_ids`, then authorityInfoAccess
/// and cRLDistributionPoints when the profile carries URLs. Changing the order changes the
/// bytes of every certificate issued from then on.
struct Extensions {
    /// basicConstraints cA.
    ca: bool,
    /// basicConstraints pathLenConstraint (CAs only).
    path_len: Option<u8>,
    /// keyUsage bits (0 digitalSignature, 1 nonRepudiation, 5 keyCertSign, 6 cRLSign).
    key_usage: &'static [u8],
    /// extendedKeyUsage, ocsp-nocheck.
    after_key_usage: Vec<Vec<u8>>,
    /// subjectAltName.
    after_key_ids: Vec<Vec<u8>>,
}

impl Profile<'_> {
    /// How error messages name the profile.
    fn label(&self) -> &'static str {
        match self {
            Self::RootCa { .. } => "root CA",
            Self::IssuingCa { .. } => "issuing CA",
            Self::Official(_) => "official",
            Self::Seal(_) => "seal",
            Self::Tsa { .. } => "TSA",
            Self::OcspResponder { .. } => "OCSP responder",
        }
    }

    fn self_signed(&self) -> bool {
        matches!(self, Self::RootCa { .. })
    }

    /// Whether authorityInfoAccess and cRLDistributionPoints may be written.
    fn carries_urls(&self) -> bool {
        !matches!(self, Self::RootCa { .. } | Self::OcspResponder { .. })
    }

    /// The subject name (DER); `issuer` is the issuing CA (absent when self-signed).
    fn subject(&self, issuer: Option<&Certificate>) -> Result<Vec<u8>> {
        match *self {
            Self::RootCa { institution } => {
                organisation_subject(institution, &format!("{institution} Root CA"))
            }
            Self::IssuingCa {
                institution,
                generation,
            } => organisation_subject(
                institution,
                &format!("{institution} Issuing CA {generation}"),
            ),
            Self::Tsa { institution } => organisation_subject(
                institution,
                &format!("{institution} Time Stamping Authority"),
            ),
            Self::OcspResponder { institution } => {
                let issuer_cn = issuer
                    .map(|i| {
                        i.subject_common_name()
                            .unwrap_or_else(|| i.subject_display())
                    })
                    .unwrap_or_default();
                let label = issuer_cn
                    .strip_prefix(institution)
                    .map(str::trim_start)
                    .filter(|l| !l.is_empty())
                    .unwrap_or(&issuer_cn);
                organisation_subject(
                    institution,
                    &format!("{institution} OCSP Responder {label}"),
                )
            }
            Self::Official(identity) => {
                identity.check_subject()?;
                Ok(name(&[
                    rdn(&OID_C, TAG_PRINTABLE_STRING, "ID"),
                    rdn(&OID_O, TAG_UTF8_STRING, &identity.institution),
                    rdn(&OID_OU, TAG_UTF8_STRING, &identity.unit),
                    rdn(&OID_TITLE, TAG_UTF8_STRING, &identity.position),
                    rdn(
                        &OID_SERIAL_NUMBER,
                        TAG_PRINTABLE_STRING,
                        &format!("PNOID-{}", identity.nip),
                    ),
                    rdn(&OID_CN, TAG_UTF8_STRING, &identity.name),
                ]))
            }
            Self::Seal(identity) => {
                identity.check_subject()?;
                Ok(name(&[
                    rdn(&OID_C, TAG_PRINTABLE_STRING, "ID"),
                    rdn(&OID_O, TAG_UTF8_STRING, &identity.institution),
                    rdn(&OID_OU, TAG_UTF8_STRING, &identity.unit),
                    rdn(&OID_CN, TAG_UTF8_STRING, &identity.name),
                ]))
            }
        }
    }

    /// The profile's row of extensions.
    fn extensions(&self) -> Extensions {
        let end_entity = |key_usage, after_key_usage, after_key_ids| Extensions {
            ca: false,
            path_len: None,
            key_usage,
            after_key_usage,
            after_key_ids,
        };
        match self {
            Self::RootCa { .. } => Extensions {
                ca: true,
                path_len: None,
                key_usage: &[5, 6],
                after_key_usage: Vec::new(),
                after_key_ids: Vec::new(),
            },
            Self::IssuingCa { .. } => Extensions {
                ca: true,
                path_len: Some(0),
                key_usage: &[5, 6],
                after_key_usage: Vec::new(),
                after_key_ids: Vec::new(),
            },
            Self::Official(identity) => {
                let san = seq(&[&tlv(0x81, identity.email.as_bytes())]);
                end_entity(
                    &[0, 1],
                    Vec::new(),
                    vec![extension(&OID_EXT_SUBJECT_ALT_NAME, false, &san)],
                )
            }
            Self::Seal(_) => end_entity(&[0, 1], Vec::new(), Vec::new()),
            Self::Tsa { .. } => end_entity(
                &[0, 1],
                vec![extension(
                    &OID_EXT_EXTENDED_KEY_USAGE,
                    true,
                    &seq(&[&oid(&OID_KP_TIME_STAMPING)]),
                )],
                Vec::new(),
            ),
            Self::OcspResponder { .. } => end_entity(
                &[0],
                vec![
                    extension(
                        &OID_EXT_EXTENDED_KEY_USAGE,
                        false,
                        &seq(&[&oid(&OID_KP_OCSP_SIGNING)]),
                    ),
                    extension(&OID_PKIX_OCSP_NOCHECK, false, &[0x05, 0x00]),
                ],
                Vec::new(),
            ),
        }
    }
}

/// `C=ID, O=<institution>, CN=<cn>`: the subject of the CAs and trust services.
fn organisation_subject(institution: &str, cn: &str) -> Result<Vec<u8>> {
    check_subject_value(SubjectField::Institution, institution)?;
    Ok(name(&[
        rdn(&OID_C, TAG_PRINTABLE_STRING, "ID"),
        rdn(&OID_O, TAG_UTF8_STRING, institution),
        rdn(&OID_CN, TAG_UTF8_STRING, cn),
    ]))
}

/// Issues a certificate of `profile` as `request` says, and returns its DER.
///
/// Refused: a root that is not self-signed or another profile that is; URLs for a profile
/// that carries none; subject values that cannot be encoded ([`PkiError::Subject`]); an
/// issuer that is not a CA with keyCertSign or expires before the validity ends; a serial
/// or validity out of range; an unusable SubjectPublicKeyInfo; a signature that does not
/// verify with the issuer certificate's key.
pub fn issue(profile: &Profile<'_>, request: &IssueRequest<'_>) -> Result<Vec<u8>> {
    let issuer = match (request.issuer, profile.self_signed()) {
        (Issuer::SelfSigned, true) => None,
        (Issuer::Ca(der), false) => Some(Certificate::from_der(der)?),
        (Issuer::SelfSigned, false) => {
            return Err(PkiError::InvalidArgument(format!(
                "a {} certificate needs an issuing CA",
                profile.label()
            )));
        }
        (Issuer::Ca(_), true) => {
            return Err(PkiError::InvalidArgument(
                "a root CA certificate is self-signed".into(),
            ));
        }
    };
    if !profile.carries_urls() && !request.urls.is_empty() {
        return Err(PkiError::InvalidArgument(format!(
            "a {} certificate carries no service URLs",
            profile.label()
        )));
    }
    let subject = profile.subject(issuer.as_ref())?;
    let issuer_keyid = issuer
        .as_ref()
        .map(|ca| issuer_checks(ca, &request.validity))
        .transpose()?;
    let ski = key_identifier(request.subject_spki)?;
    let row = profile.extensions();
    let mut extensions = vec![
        extension(
            &OID_EXT_BASIC_CONSTRAINTS,
            true,
            &basic_constraints(row.ca, row.path_len),
        ),
        extension(&OID_EXT_KEY_USAGE, true, &key_usage(row.key_usage)),
    ];
    extensions.extend(row.after_key_usage);
    extensions.push(extension(
        &OID_EXT_SUBJECT_KEY_ID,
        false,
        &tlv(TAG_OCTET_STRING, &ski),
    ));
    if let Some(keyid) = &issuer_keyid {
        extensions.push(extension(&OID_EXT_AUTHORITY_KEY_ID, false, &aki(keyid)));
    }
    extensions.extend(row.after_key_ids);
    if profile.carries_urls() {
        extensions.extend(url_extensions(&request.urls)?);
    }
    let der = build_and_sign(
        TbsInput {
            serial: request.serial,
            issuer_name: issuer.as_ref().map_or(&subject, |ca| ca.subject_der_ref()),
            validity: request.validity,
            subject_name: &subject,
            spki: request.subject_spki,
            extensions,
        },
        request.signer,
    )?;
    // The signature must verify with the issuer certificate's key (the certificate's own for
    // a root): a signer holding another key would make certificates nobody can validate.
    let cert = Certificate::from_der(&der)?;
    if !cert.is_signed_by(issuer.as_ref().unwrap_or(&cert)) {
        return Err(PkiError::InvalidArgument(
            "the issuer key does not match the issuer certificate".into(),
        ));
    }
    Ok(der)
}

/// Whether `issuer` may sign a certificate valid for `validity`: a CA, with keyCertSign
/// when keyUsage is present, not expiring before the end. Returns its key identifier for the
/// authorityKeyIdentifier.
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

struct TbsInput<'a> {
    serial: &'a [u8],
    issuer_name: &'a [u8],
    validity: CertValidity,
    subject_name: &'a [u8],
    spki: &'a [u8],
    extensions: Vec<Vec<u8>>,
}

/// Encodes the TBSCertificate (v3) and signs it with one signature operation.
fn build_and_sign(input: TbsInput<'_>, signer: &dyn SignatureProducer) -> Result<Vec<u8>> {
    check_serial(input.serial)?;
    if input.validity.not_after <= input.validity.not_before {
        return Err(PkiError::InvalidArgument(
            "notAfter must be after notBefore".into(),
        ));
    }
    // The SPKI must be well-formed and of a kind we can verify.
    spki_algorithm(input.spki)?;
    let sig_alg_der = signer.signature_algorithm().to_der()?;
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
        &sig_alg_der,
        input.issuer_name,
        &validity,
        input.subject_name,
        input.spki,
        &exts,
    ]);
    let sig = signer.sign(&tbs)?;
    Ok(seq(&[&tbs, &sig_alg_der, &bit_string(&sig)]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{KeyAlgorithm, PrivateKey};
    use crate::subject::SubjectError;

    const INSTITUTION: &str = "Pemerintah Kota Contoh";

    /// Root and issuing CA (P-256), for issuing under.
    fn cas() -> (PrivateKey, Vec<u8>, PrivateKey, Vec<u8>) {
        let root_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("root key");
        let root_der = issue(
            &Profile::RootCa {
                institution: INSTITUTION,
            },
            &IssueRequest {
                subject_spki: root_key.spki_der_ref(),
                issuer: Issuer::SelfSigned,
                signer: &root_key,
                validity: CertValidity::days_from_now(3650),
                serial: &random_serial(),
                urls: CertUrls::default(),
            },
        )
        .expect("root");
        let issuing_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("issuing key");
        let issuing_der = issue(
            &Profile::IssuingCa {
                institution: INSTITUTION,
                generation: 1,
            },
            &IssueRequest {
                subject_spki: issuing_key.spki_der_ref(),
                issuer: Issuer::Ca(&root_der),
                signer: &root_key,
                validity: CertValidity::days_from_now(3000),
                serial: &random_serial(),
                urls: CertUrls::default(),
            },
        )
        .expect("issuing");
        (root_key, root_der, issuing_key, issuing_der)
    }

    fn seal_identity() -> SealIdentity {
        SealIdentity {
            name: "DPMPTSP Kota Contoh".into(),
            unit: "Dinas Penanaman Modal dan PTSP".into(),
            institution: INSTITUTION.into(),
            email: "kepala.dpmptsp@contoh.go.id".into(),
        }
    }

    #[test]
    fn seal_certificate_parses_and_has_no_person_attributes() {
        let (_, _, issuing_key, issuing_der) = cas();
        let seal_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("seal key");
        let urls = CertUrls {
            ocsp: Some("http://127.0.0.1:8080/ocsp".into()),
            ca_issuers: Some("http://127.0.0.1:8080/ca/issuing-1.crt".into()),
            crl: Some("http://127.0.0.1:8080/crl/issuing-1.crl".into()),
        };
        let der = issue(
            &Profile::Seal(&seal_identity()),
            &IssueRequest {
                subject_spki: seal_key.spki_der_ref(),
                issuer: Issuer::Ca(&issuing_der),
                signer: &issuing_key,
                validity: CertValidity::days_from_now(365),
                serial: &random_serial(),
                urls,
            },
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
    fn seal_subject_is_checked() {
        let (_, _, issuing_key, issuing_der) = cas();
        let seal_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("seal key");
        let mut identity = seal_identity();
        identity.unit = "Dinas\nX".into();
        let r = issue(
            &Profile::Seal(&identity),
            &IssueRequest {
                subject_spki: seal_key.spki_der_ref(),
                issuer: Issuer::Ca(&issuing_der),
                signer: &issuing_key,
                validity: CertValidity::days_from_now(365),
                serial: &random_serial(),
                urls: CertUrls::default(),
            },
        );
        assert!(
            matches!(
                r,
                Err(PkiError::Subject(SubjectError::InvalidCharacters(
                    SubjectField::Unit
                )))
            ),
            "{r:?}"
        );
    }

    /// The order of extensions is part of every certificate's bytes; each profile keeps the
    /// one it had when certificates were first issued with it.
    #[test]
    fn each_profile_writes_its_extensions_in_order() {
        let (root_key, root_der, issuing_key, issuing_der) = cas();
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
        let urls = CertUrls {
            ocsp: Some("http://127.0.0.1/ocsp".into()),
            ca_issuers: Some("http://127.0.0.1/ca.crt".into()),
            crl: Some("http://127.0.0.1/ca.crl".into()),
        };
        let official = OfficialIdentity {
            nik: "3201014501900001".into(),
            nip: "198501012010011001".into(),
            name: "Siti Rahmawati".into(),
            email: "siti@contoh.go.id".into(),
            position: "Kepala Dinas".into(),
            unit: "Dinas Kominfo".into(),
            institution: INSTITUTION.into(),
        };
        let (bc, ku, eku, nocheck, ski, aki, san, aia, cdp) = (
            OID_EXT_BASIC_CONSTRAINTS,
            OID_EXT_KEY_USAGE,
            OID_EXT_EXTENDED_KEY_USAGE,
            OID_PKIX_OCSP_NOCHECK,
            OID_EXT_SUBJECT_KEY_ID,
            OID_EXT_AUTHORITY_KEY_ID,
            OID_EXT_SUBJECT_ALT_NAME,
            OID_EXT_AUTHORITY_INFO_ACCESS,
            OID_EXT_CRL_DISTRIBUTION_POINTS,
        );
        let root = Certificate::from_der(&root_der).expect("root parses");
        assert_eq!(root.extension_oids(), vec![bc, ku, ski]);
        let seal = seal_identity();
        /// One profile issued under `issuer` and what it must come out with.
        struct Case<'a> {
            profile: Profile<'a>,
            issuer: &'a [u8],
            signer: &'a PrivateKey,
            urls: CertUrls,
            order: Vec<ObjectIdentifier>,
            eku_critical: Option<bool>,
        }
        let under_issuing = |profile, urls, order, eku_critical| Case {
            profile,
            issuer: &issuing_der,
            signer: &issuing_key,
            urls,
            order,
            eku_critical,
        };
        let cases = [
            Case {
                profile: Profile::IssuingCa {
                    institution: INSTITUTION,
                    generation: 2,
                },
                issuer: &root_der,
                signer: &root_key,
                urls: urls.clone(),
                order: vec![bc, ku, ski, aki, aia, cdp],
                eku_critical: None,
            },
            under_issuing(
                Profile::Official(&official),
                urls.clone(),
                vec![bc, ku, ski, aki, san, aia, cdp],
                None,
            ),
            under_issuing(
                Profile::Seal(&seal),
                urls.clone(),
                vec![bc, ku, ski, aki, aia, cdp],
                None,
            ),
            under_issuing(
                Profile::Tsa {
                    institution: INSTITUTION,
                },
                urls.clone(),
                vec![bc, ku, eku, ski, aki, aia, cdp],
                Some(true),
            ),
            under_issuing(
                Profile::OcspResponder {
                    institution: INSTITUTION,
                },
                CertUrls::default(),
                vec![bc, ku, eku, nocheck, ski, aki],
                Some(false),
            ),
        ];
        for case in cases {
            let der = issue(
                &case.profile,
                &IssueRequest {
                    subject_spki: key.spki_der_ref(),
                    issuer: Issuer::Ca(case.issuer),
                    signer: case.signer,
                    validity: CertValidity::days_from_now(30),
                    serial: &random_serial(),
                    urls: case.urls,
                },
            )
            .expect("issued");
            let cert = Certificate::from_der(&der).expect("parses");
            assert_eq!(cert.extension_oids(), case.order, "{:?}", case.profile);
            assert_eq!(cert.extension_is_critical(&bc), Some(true));
            assert_eq!(cert.extension_is_critical(&ku), Some(true));
            assert_eq!(cert.extension_is_critical(&eku), case.eku_critical);
        }
    }

    #[test]
    fn profile_and_issuer_must_agree() {
        let (root_key, root_der, issuing_key, issuing_der) = cas();
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
        let request = |issuer, signer, urls| IssueRequest {
            subject_spki: key.spki_der_ref(),
            issuer,
            signer,
            validity: CertValidity::days_from_now(10),
            serial: &[1],
            urls,
        };
        let root = Profile::RootCa {
            institution: INSTITUTION,
        };
        let tsa = Profile::Tsa {
            institution: INSTITUTION,
        };
        let ocsp = Profile::OcspResponder {
            institution: INSTITUTION,
        };
        let some_url = CertUrls {
            crl: Some("http://127.0.0.1/crl".into()),
            ..CertUrls::default()
        };
        // A root under a CA, a TSA without one.
        for (profile, req) in [
            (
                &root,
                request(Issuer::Ca(&root_der), &root_key, CertUrls::default()),
            ),
            (&tsa, request(Issuer::SelfSigned, &key, CertUrls::default())),
            // No URLs on a root or an OCSP responder.
            (&root, request(Issuer::SelfSigned, &key, some_url.clone())),
            (
                &ocsp,
                request(Issuer::Ca(&issuing_der), &issuing_key, some_url),
            ),
        ] {
            let r = issue(profile, &req);
            assert!(matches!(r, Err(PkiError::InvalidArgument(_))), "{r:?}");
        }
        // A root signed by another key than its own.
        let r = issue(
            &root,
            &request(Issuer::SelfSigned, &root_key, CertUrls::default()),
        );
        assert!(matches!(r, Err(PkiError::InvalidArgument(_))), "{r:?}");
        // An empty institution.
        let r = issue(
            &Profile::RootCa { institution: " " },
            &request(Issuer::SelfSigned, &key, CertUrls::default()),
        );
        assert!(
            matches!(
                r,
                Err(PkiError::Subject(SubjectError::Empty(
                    SubjectField::Institution
                )))
            ),
            "{r:?}"
        );
    }
}
