//! Text extraction with positions (content streams, fonts, CMaps) on arbitrary PDFs.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(pdf) = sahih_pdf::PdfDocument::open(data, &Default::default()) {
        let _ = sahih_pdf::text::find_text(&pdf.doc, "Kepala Dinas");
        let _ = sahih_pdf::resolve_placement(&pdf, &sahih_pdf::Placement::Default);
    }
});
