//! Certificates: issuance profiles (`issue`, `services`, `seal`), PEM (`pem`), the parsed
//! [`Certificate`] wrapper (`x509`) and raw signature verification (`verify`). Identity rules
//! are `crate::identity`; path validation is `crate::path`.

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

mod issue;
mod pem;
mod seal;
mod services;
mod verify;
mod x509;
pub use issue::*;
pub use pem::*;
pub use seal::*;
pub use services::*;
pub use verify::*;
pub use x509::*;
