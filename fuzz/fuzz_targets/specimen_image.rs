//! Specimen images from API clients (JPEG headers, PNG chunks, zlib data, row filters).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sahih_pdf::parse_specimen(data);
});
