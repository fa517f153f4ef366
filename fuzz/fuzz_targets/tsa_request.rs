//! See `fuzz/entries.rs` (`tsa_request`): the body the smoke test runs too.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../entries.rs"]
mod entries;

fuzz_target!(|data: &[u8]| entries::tsa_request(data));
