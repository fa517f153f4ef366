//! `sahih-pki`: X.509 and CMS for Sahih.
//!
//! Owns: private keys (generation, signing through the [`SignatureProducer`] trait, sealing
//! at rest with a passphrase or a master key), the built-in CA and certificate profiles
//! (one [`issue`] over a [`Profile`]: root, issuing CA, official document-signing, seal, TSA
//! and delegated OCSP responder certificates, with AIA/CRL distribution point URLs), what
//! may go into a certificate subject ([`subject`]), the parsed [`Certificate`]
//! wrapper and raw signature verification, CAdES detached signatures (build and parse, BER
//! tolerant, unsigned attributes such as the signature timestamp), certificate path
//! validation behind the [`PathValidator`] trait, and the trust-service primitives: RFC 3161
//! time-stamp requests/tokens ([`tsp`]: our TSA and the client side), OCSP ([`ocsp`]: our
//! responder and the client side) and X.509 CRLs ([`crl`]). These are pure functions over
//! bytes: serving them over HTTP, numbering serials and storing revocations is elsewhere.
//!
//! Must not know: PDF syntax, databases, HTTP, the domain workflow (enrollment, documents,
//! policy) and its identity rules (NIK, NIP, e-mail policy: `sahih-core`). It never logs;
//! secrets never appear in `Debug` output or error messages.
//!
//! Crypto primitives come from `aws-lc-rs` only (never the RustCrypto `rsa` crate).
//! Certificates and CMS are written as hand-made DER (small fixed structures, exact control
//! of every byte, one signature operation); foreign data is read with a panic-free reader
//! after BER normalisation, and `x509-cert` parses certificates.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod asn1;
pub mod certs;
pub mod cms;
pub mod crl;
mod error;
pub mod keys;
pub mod ocsp;
pub mod oids;
pub mod path;
pub mod sealed;
pub mod subject;
pub mod tsp;

pub use certs::{
    CertUrls, CertValidity, Certificate, IssueRequest, Issuer, KeyUsageFlags, Profile,
    VerifyOptions, der_to_pem, issue, key_identifier, key_matches_certificate, load_certificates,
    pem_blocks, pem_to_der_all, random_serial, verify_signature, verify_signature_prehashed,
    verify_signature_with,
};
pub use cms::{
    EssBinding, Hasher, ParsedCms, add_unsigned_attribute, build_cades_detached, digest_parts,
    estimate_cades_size, parse_cms, parse_cms_with, signer_signature_value,
};
pub use const_oid::ObjectIdentifier;
pub use crl::{
    ParsedCrl, RevokedCert, build_crl, crl_reason_from_name, crl_reason_name, parse_crl,
};
pub use error::{PkiError, Result};
pub use keys::{KeyAlgorithm, PrivateKey, SignatureProducer};
pub use ocsp::{
    CertId, CertStatusKind, OcspRequest, ParsedOcspResponse, PreparedOcspResponder,
    SingleResponseSpec, build_ocsp_response, ocsp_error_response, parse_ocsp_response,
};
pub use oids::OID_TSA_POLICY_DEFAULT;
pub use path::{PathOutcome, PathValidator, SimplePathValidator, TrustStore};
pub use sealed::{
    KdfParams, MasterKey, SealKind, seal_payload_with_master_key, seal_payload_with_passphrase,
    seal_with_master_key, seal_with_passphrase, sealed_kind, unseal_payload_with_master_key,
    unseal_payload_with_passphrase, unseal_with_master_key, unseal_with_passphrase,
};
pub use subject::{
    MAX_FIELD_CHARS, OfficialIdentity, SealIdentity, SubjectError, SubjectField,
    check_subject_value, is_hidden_control,
};
pub use tsp::{
    PreparedTsa, TimeStampReq, TimeStampToken, TsaSigner, issue_timestamp,
    parse_timestamp_response, parse_timestamp_token, rejection_response,
};
/// The ASN.1 crates in the versions this crate uses (der 0.7 line), for callers that need
/// the same types.
pub use {der, spki, x509_cert};
