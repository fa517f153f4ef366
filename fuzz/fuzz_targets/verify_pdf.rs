//! Whole verification path on arbitrary bytes: open, find signatures, check ranges, CMS, paths.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sahih_pki::{SimplePathValidator, TrustStore};
use sahih_validate::{Context, NoRevocationData, validate_pdf};

fuzz_target!(|data: &[u8]| {
    let validator = SimplePathValidator::new(TrustStore::new(Vec::new()));
    let ctx = Context {
        validator: &validator,
        revocation: &NoRevocationData,
        at: time::OffsetDateTime::UNIX_EPOCH,
    };
    let _ = validate_pdf(data, &ctx);
});
