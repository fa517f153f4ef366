//! See `fuzz/entries.rs` (`ecs_json_files`): the body the smoke test runs too.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../entries.rs"]
mod entries;

fuzz_target!(|data: &[u8]| entries::ecs_json_files(data));
