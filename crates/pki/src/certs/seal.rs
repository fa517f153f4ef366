//! Certificates of institutional e-seals (segel elektronik).

use super::*;

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
            after_key_ids: Vec::new(),
            urls: Some(urls),
        },
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
