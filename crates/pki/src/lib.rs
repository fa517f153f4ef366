//! `sahih-pki`: X.509 and CMS for Sahih.
//!
//! Owns: private keys (generation, signing through the [`SignatureProducer`] trait, sealing
//! at rest with a passphrase or a master key), the built-in CA and certificate profiles
//! (root, issuing CA, official document-signing certificates), the parsed [`Certificate`]
//! wrapper and raw signature verification, CAdES detached signatures (build and parse, BER
//! tolerant), and certificate path validation behind the [`PathValidator`] trait.
//!
//! Must not know: PDF syntax, databases, HTTP, the domain workflow (enrollment, documents,
//! policy). It never logs; secrets never appear in `Debug` output or error messages.
//!
//! Crypto primitives come from `aws-lc-rs` only (never the RustCrypto `rsa` crate).
//! Certificates and CMS are written as hand-made DER (small fixed structures, exact control
//! of every byte, one signature operation); foreign data is read with a panic-free reader
//! after BER normalisation, and `x509-cert` parses certificates.

mod asn1;
pub mod certs;
pub mod cms;
mod error;
pub mod keys;
pub mod oids;
pub mod path;
pub mod sealed;

pub use certs::{
    CertValidity, Certificate, IdentityError, KeyUsageFlags, OfficialIdentity, VerifyOptions,
    create_issuing_ca, create_root_ca, der_to_pem, issue_official_certificate, key_identifier,
    load_certificates, official_subject_der, pem_blocks, pem_to_der_all, random_serial,
    validate_email, validate_nik, validate_nip, verify_signature, verify_signature_prehashed,
    verify_signature_with,
};
pub use cms::{
    EssBinding, Hasher, ParsedCms, build_cades_detached, digest_parts, estimate_cades_size,
    parse_cms, parse_cms_with,
};
pub use const_oid::ObjectIdentifier;
pub use error::{PkiError, Result};
pub use keys::{KeyAlgorithm, PrivateKey, SignatureProducer};
pub use path::{PathOutcome, PathValidator, SimplePathValidator, TrustStore};
pub use sealed::{
    KdfParams, MasterKey, SealKind, seal_with_master_key, seal_with_passphrase, sealed_kind,
    unseal_with_master_key, unseal_with_passphrase,
};
/// The ASN.1 crates in the versions this crate uses (der 0.7 line), for callers that need
/// the same types.
pub use {der, spki, x509_cert};
