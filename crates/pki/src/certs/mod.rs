//! Certificates: issuance ([`issue`] over a [`Profile`], in `issue`), the DER pieces they are
//! made of (`encode`), the service URLs they carry (`urls`), PEM (`pem`), the parsed
//! [`Certificate`] wrapper (`x509`) and raw signature verification (`verify`). What may go
//! into a subject is `crate::subject`; path validation is `crate::path`.

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
use crate::keys::SignatureProducer;
use crate::oids::*;
use crate::subject::{OfficialIdentity, SealIdentity, SubjectField, check_subject_value};
use crate::{PkiError, Result};

mod encode;
mod issue;
mod pem;
mod urls;
mod verify;
mod x509;
pub use encode::*;
pub use issue::*;
pub use pem::*;
pub use urls::*;
pub use verify::*;
pub use x509::*;
