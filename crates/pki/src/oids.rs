//! Object identifiers used by the crate (exported for the other crates).

use const_oid::ObjectIdentifier as Oid;

macro_rules! oids {
    ($($(#[$m:meta])* $name:ident = $val:literal;)*) => {
        $( $(#[$m])* pub const $name: Oid = Oid::new_unwrap($val); )*
    };
}

oids! {
    /// id-data (RFC 5652)
    OID_ID_DATA = "1.2.840.113549.1.7.1";
    /// id-signedData (RFC 5652)
    OID_SIGNED_DATA = "1.2.840.113549.1.7.2";
    /// contentType attribute
    OID_CONTENT_TYPE = "1.2.840.113549.1.9.3";
    /// messageDigest attribute
    OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4";
    /// signingTime attribute
    OID_SIGNING_TIME = "1.2.840.113549.1.9.5";
    /// id-aa-signingCertificate (ESS, RFC 2634)
    OID_SIGNING_CERTIFICATE = "1.2.840.113549.1.9.16.2.12";
    /// id-aa-signingCertificateV2 (ESS, RFC 5035)
    OID_SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47";
    /// id-aa-timeStampToken (RFC 3161 unsigned attribute)
    OID_TIME_STAMP_TOKEN = "1.2.840.113549.1.9.16.2.14";
    /// id-smime-ct-TSTInfo
    OID_CT_TST_INFO = "1.2.840.113549.1.9.16.1.4";

    /// SHA-1 (legacy, verification of foreign data only)
    OID_SHA1 = "1.3.14.3.2.26";
    /// SHA-224
    OID_SHA224 = "2.16.840.1.101.3.4.2.4";
    /// SHA-256
    OID_SHA256 = "2.16.840.1.101.3.4.2.1";
    /// SHA-384
    OID_SHA384 = "2.16.840.1.101.3.4.2.2";
    /// SHA-512
    OID_SHA512 = "2.16.840.1.101.3.4.2.3";

    /// rsaEncryption
    OID_RSA_ENCRYPTION = "1.2.840.113549.1.1.1";
    /// id-mgf1
    OID_MGF1 = "1.2.840.113549.1.1.8";
    /// RSASSA-PSS
    OID_RSASSA_PSS = "1.2.840.113549.1.1.10";
    /// sha1WithRSAEncryption
    OID_SHA1_WITH_RSA = "1.2.840.113549.1.1.5";
    /// sha256WithRSAEncryption
    OID_SHA256_WITH_RSA = "1.2.840.113549.1.1.11";
    /// sha384WithRSAEncryption
    OID_SHA384_WITH_RSA = "1.2.840.113549.1.1.12";
    /// sha512WithRSAEncryption
    OID_SHA512_WITH_RSA = "1.2.840.113549.1.1.13";
    /// id-ecPublicKey
    OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1";
    /// ecdsa-with-SHA1
    OID_ECDSA_WITH_SHA1 = "1.2.840.10045.4.1";
    /// ecdsa-with-SHA256
    OID_ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2";
    /// ecdsa-with-SHA384
    OID_ECDSA_WITH_SHA384 = "1.2.840.10045.4.3.3";
    /// ecdsa-with-SHA512
    OID_ECDSA_WITH_SHA512 = "1.2.840.10045.4.3.4";
    /// secp256r1 / P-256
    OID_SECP256R1 = "1.2.840.10045.3.1.7";
    /// secp384r1 / P-384
    OID_SECP384R1 = "1.3.132.0.34";
    /// secp521r1 / P-521
    OID_SECP521R1 = "1.3.132.0.35";
    /// Ed25519
    OID_ED25519 = "1.3.101.112";

    /// commonName
    OID_CN = "2.5.4.3";
    /// surname
    OID_SURNAME = "2.5.4.4";
    /// serialNumber (attribute)
    OID_SERIAL_NUMBER = "2.5.4.5";
    /// countryName
    OID_C = "2.5.4.6";
    /// localityName
    OID_L = "2.5.4.7";
    /// stateOrProvinceName
    OID_ST = "2.5.4.8";
    /// streetAddress
    OID_STREET = "2.5.4.9";
    /// organizationName
    OID_O = "2.5.4.10";
    /// organizationalUnitName
    OID_OU = "2.5.4.11";
    /// title
    OID_TITLE = "2.5.4.12";
    /// givenName
    OID_GIVEN_NAME = "2.5.4.42";
    /// organizationIdentifier
    OID_ORGANIZATION_IDENTIFIER = "2.5.4.97";
    /// emailAddress (PKCS#9)
    OID_EMAIL_ADDRESS = "1.2.840.113549.1.9.1";
    /// domainComponent
    OID_DC = "0.9.2342.19200300.100.1.25";
    /// userId
    OID_UID = "0.9.2342.19200300.100.1.1";

    /// subjectKeyIdentifier
    OID_EXT_SUBJECT_KEY_ID = "2.5.29.14";
    /// keyUsage
    OID_EXT_KEY_USAGE = "2.5.29.15";
    /// subjectAltName
    OID_EXT_SUBJECT_ALT_NAME = "2.5.29.17";
    /// basicConstraints
    OID_EXT_BASIC_CONSTRAINTS = "2.5.29.19";
    /// authorityKeyIdentifier
    OID_EXT_AUTHORITY_KEY_ID = "2.5.29.35";
    /// extKeyUsage
    OID_EXT_EXTENDED_KEY_USAGE = "2.5.29.37";
    /// id-kp-emailProtection
    OID_KP_EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4";

    /// id-kp-timeStamping (RFC 3161: the only EKU of a TSA certificate, critical)
    OID_KP_TIME_STAMPING = "1.3.6.1.5.5.7.3.8";
    /// id-kp-OCSPSigning (delegated OCSP responder)
    OID_KP_OCSP_SIGNING = "1.3.6.1.5.5.7.3.9";
    /// authorityInfoAccess (RFC 5280 4.2.2.1)
    OID_EXT_AUTHORITY_INFO_ACCESS = "1.3.6.1.5.5.7.1.1";
    /// cRLDistributionPoints
    OID_EXT_CRL_DISTRIBUTION_POINTS = "2.5.29.31";
    /// cRLNumber (CRL extension)
    OID_EXT_CRL_NUMBER = "2.5.29.20";
    /// reasonCode (CRL entry extension)
    OID_EXT_CRL_REASON = "2.5.29.21";
    /// invalidityDate (CRL entry extension)
    OID_EXT_INVALIDITY_DATE = "2.5.29.24";
    /// id-ad-ocsp (AIA access method)
    OID_AD_OCSP = "1.3.6.1.5.5.7.48.1";
    /// id-ad-caIssuers (AIA access method)
    OID_AD_CA_ISSUERS = "1.3.6.1.5.5.7.48.2";
    /// id-pkix-ocsp-basic (BasicOCSPResponse)
    OID_PKIX_OCSP_BASIC = "1.3.6.1.5.5.7.48.1.1";
    /// id-pkix-ocsp-nonce (RFC 8954)
    OID_PKIX_OCSP_NONCE = "1.3.6.1.5.5.7.48.1.2";
    /// id-pkix-ocsp-nocheck (delegated responder certificates are not themselves checked)
    OID_PKIX_OCSP_NOCHECK = "1.3.6.1.5.5.7.48.1.5";
    /// id-aa-timeStampToken (RFC 3161 unsigned attribute); same value as
    /// [`OID_TIME_STAMP_TOKEN`]
    OID_AA_TIMESTAMP_TOKEN = "1.2.840.113549.1.9.16.2.14";
    /// id-aa-ets-archiveTimestampV3 (ETSI EN 319 122-1)
    OID_AA_ETS_ARCHIVE_TIMESTAMP_V3 = "0.4.0.1733.2.4";
    /// id-aa-ATSHashIndex-v3 (ETSI EN 319 122-1)
    OID_AA_ATS_HASH_INDEX_V3 = "0.4.0.19122.1.5";

    /// EXAMPLE TSA policy under a placeholder private-enterprise arc (1.3.6.1.4.1.99999 is NOT
    /// registered to this project). A deploying institution should register its own IANA
    /// Private Enterprise Number and configure its own TSA policy OID; this default only
    /// keeps a fresh installation working.
    OID_TSA_POLICY_DEFAULT = "1.3.6.1.4.1.99999.1.1";
}
