//! See `fuzz/entries.rs` (`multipart`): the body the smoke test runs too.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../entries.rs"]
mod entries;

fuzz_target!(|data: &[u8]| entries::multipart(data));
