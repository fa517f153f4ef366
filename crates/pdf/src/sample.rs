//! A minimal single-page PDF letter generator (standard Helvetica fonts), used by
//! `sahih demo` to have a real document to sign without any outside tool.

use crate::serialize::fmt_real;
use std::fmt::Write as _;
use std::io::Write as _;

/// One line of text at a position (points from the page's lower-left corner).
#[derive(Debug, Clone)]
pub struct Line {
    /// Start of the baseline, in points from the left edge.
    pub x: f64,
    /// Height of the baseline, in points from the bottom edge.
    pub y: f64,
    /// Font size in points.
    pub size: f64,
    /// Helvetica-Bold instead of Helvetica.
    pub bold: bool,
    /// The text; characters outside printable ASCII and Latin-1 (U+00A0..U+00FF) print as '?'.
    pub text: String,
}

fn escape(text: &str) -> String {
    let mut s = String::new();
    for c in text.chars() {
        match c {
            '(' | ')' | '\\' => {
                s.push('\\');
                s.push(c);
            }
            c if (' '..='~').contains(&c) => s.push(c),
            // Latin-1 via WinAnsiEncoding octal escapes; others replaced.
            c if (c as u32) >= 0xa0 && (c as u32) <= 0xff => {
                let _ = write!(s, "\\{:03o}", c as u32);
            }
            _ => s.push('?'),
        }
    }
    s
}

/// An A4 page with the given lines, as a complete classic-xref PDF 1.7 file.
pub fn single_page(lines: &[Line], title: &str) -> Vec<u8> {
    let mut content = String::new();
    for l in lines {
        let _ = writeln!(
            content,
            "BT /{} {} Tf {} {} Td ({}) Tj ET",
            if l.bold { "F2" } else { "F1" },
            fmt_real(l.size),
            fmt_real(l.x),
            fmt_real(l.y),
            escape(&l.text)
        );
    }
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.28 841.89] /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> /Contents 4 0 R >>".to_string(),
        format!("<< /Length {} >>\nstream\n{}endstream", content.len(), content),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>".to_string(),
        format!("<< /Title ({}) /Producer (Sahih) >>", escape(title)),
    ];
    let mut out = Vec::new();
    out.extend_from_slice(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n");
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        let _ = write!(out, "{} 0 obj\n{}\nendobj\n", i + 1, o);
    }
    let xref = out.len();
    let _ = write!(out, "xref\n0 {}\n0000000000 65535 f\r\n", objects.len() + 1);
    for off in offsets {
        let _ = write!(out, "{off:010} 00000 n\r\n");
    }
    let _ = write!(
        out,
        "trailer\n<< /Size {} /Root 1 0 R /Info 7 0 R >>\nstartxref\n{}\n%%EOF\n",
        objects.len() + 1,
        xref
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_opens() {
        let pdf = single_page(
            &[Line {
                x: 72.0,
                y: 700.0,
                size: 12.0,
                bold: true,
                text: "Surat (Dinas)".into(),
            }],
            "Contoh",
        );
        let doc = crate::PdfDocument::open(&pdf, &Default::default()).unwrap();
        assert_eq!(doc.page_count(), 1);
        assert!(!doc.xref_repaired);
    }
}
