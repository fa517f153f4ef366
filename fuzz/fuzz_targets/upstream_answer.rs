//! See `fuzz/entries.rs` (`upstream_answer`): the body the smoke test runs too.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../entries.rs"]
mod entries;

fuzz_target!(|data: &[u8]| entries::upstream_answer(data));
