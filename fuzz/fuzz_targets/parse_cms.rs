//! CMS (BER/DER) parsing and signature checks on arbitrary bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sahih_pki::parse_cms(data);
    let _ = sahih_pki::Certificate::from_der(data);
});
