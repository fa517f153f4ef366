//! The visible signature stamp: a QR code drawn as vector rectangles plus a few lines of text
//! in the standard Helvetica fonts, as a form XObject content stream.

use crate::PdfError;
use crate::serialize::fmt_real;
use lopdf::{Dictionary, Object};
use qrcode::EcLevel;
use qrcode::canvas::{Canvas, MaskPattern};
use std::fmt::Write;

/// What the stamp shows.
#[derive(Debug, Clone)]
pub struct StampContent {
    /// Encoded in the QR code (the verification URL).
    pub qr_payload: String,
    /// Small caption line, e.g. "Ditandatangani secara elektronik oleh:".
    pub heading: String,
    /// The signer's name, in bold.
    pub name: String,
    /// Further lines: position, unit, date and time.
    pub lines: Vec<String>,
    /// A specimen image (ECS `imageTTD`): drawn instead of the QR code and text, fitted into
    /// the rectangle with its aspect ratio kept.
    pub image: Option<std::sync::Arc<crate::image::SpecimenImage>>,
}

/// The resource name of the specimen image in the stamp's form XObject.
pub const IMAGE_RESOURCE: &str = "Im1";

fn text_width(s: &[u8], bold: bool, size: f64) -> f64 {
    let table = if bold {
        &crate::afm::HELVETICA_BOLD
    } else {
        &crate::afm::HELVETICA
    };
    let units: u32 = s
        .iter()
        .map(|&b| {
            b.checked_sub(32)
                .and_then(|i| table.get(usize::from(i)))
                .map_or(600, |w| u32::from(*w))
        })
        .sum();
    f64::from(units) * size / 1000.0
}

/// Text to WinAnsiEncoding bytes (Latin-1 subset); other characters become '?'.
fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match u32::from(c) {
            0x20..=0x7e | 0xa0..=0xff => c as u32 as u8,
            0x2013 => 0x96,
            0x2014 => 0x97,
            0x2018 => 0x91,
            0x2019 => 0x92,
            0x201c => 0x93,
            0x201d => 0x94,
            _ => b'?',
        })
        .collect()
}

fn pdf_string(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('(');
    for &b in bytes {
        match b {
            b'(' | b')' | b'\\' => {
                s.push('\\');
                s.push(b as char);
            }
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\{b:03o}");
            }
        }
    }
    s.push(')');
    s
}

/// QR modules (row-major, row 0 at the top) for `payload`, error correction level M.
///
/// The mask is fixed instead of scored over all eight patterns: every decoder reads every mask,
/// and the scoring was a quarter of the time of signing a one-page letter.
fn qr_modules(payload: &[u8]) -> Result<Vec<qrcode::Color>, PdfError> {
    let qr_err = |e: qrcode::types::QrError| PdfError::InvalidPlacement(format!("QR code: {e}"));
    let bits = qrcode::bits::encode_auto(payload, EcLevel::M).map_err(qr_err)?;
    let version = bits.version();
    let data = bits.into_bytes();
    let (encoded, ec) =
        qrcode::ec::construct_codewords(&data, version, EcLevel::M).map_err(qr_err)?;
    let mut canvas = Canvas::new(version, EcLevel::M);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&encoded, &ec);
    canvas.apply_mask(MaskPattern::Checkerboard);
    Ok(canvas.into_colors())
}

/// The QR code of `payload` as a square of modules (row-major, row 0 at the top, `true` dark)
/// and its side in modules, for drawing elsewhere (the web pages draw the TOTP setup code).
pub fn qr_matrix(payload: &[u8]) -> Result<(usize, Vec<bool>), PdfError> {
    let colors = qr_modules(payload)?;
    let side = (colors.len() as f64).sqrt().round() as usize;
    Ok((
        side,
        colors
            .into_iter()
            .map(|c| matches!(c, qrcode::Color::Dark))
            .collect(),
    ))
}

/// Builds the stamp's content stream for a form of size `w` x `h` points, and its resources.
pub fn stamp_stream(
    w: f64,
    h: f64,
    content: &StampContent,
) -> Result<(Vec<u8>, Dictionary), PdfError> {
    if !(w.is_finite() && h.is_finite()) || w < 10.0 || h < 10.0 {
        return Err(PdfError::InvalidPlacement(
            "stamp rectangle too small (minimum 10 x 10 points)".into(),
        ));
    }
    if let Some(img) = &content.image {
        // Fit the image, centred, keeping its aspect ratio; white background as the QR stamp.
        let scale = (w / f64::from(img.width)).min(h / f64::from(img.height));
        let (iw, ih) = (f64::from(img.width) * scale, f64::from(img.height) * scale);
        let ops = format!(
            "q 1 1 1 rg 0 0 {} {} re f Q\nq {} 0 0 {} {} {} cm /{IMAGE_RESOURCE} Do Q\n",
            fmt_real(w),
            fmt_real(h),
            fmt_real(iw),
            fmt_real(ih),
            fmt_real((w - iw) / 2.0),
            fmt_real((h - ih) / 2.0)
        );
        let mut resources = Dictionary::new();
        resources.set(
            "ProcSet",
            Object::Array(vec![
                Object::Name(b"PDF".to_vec()),
                Object::Name(b"ImageC".to_vec()),
            ]),
        );
        return Ok((ops.into_bytes(), resources));
    }
    let colors = qr_modules(content.qr_payload.as_bytes())?;
    let modules = (colors.len() as f64).sqrt() as usize;
    let pad = (w.min(h) * 0.04).max(1.0);
    let mut ops = String::with_capacity(16 * 1024);
    // White background and a thin border, so the stamp reads on any page.
    let _ = writeln!(ops, "q 1 1 1 rg 0 0 {} {} re f Q", fmt_real(w), fmt_real(h));
    let _ = writeln!(
        ops,
        "q 0.2 0.2 0.2 RG 0.5 w 0.25 0.25 {} {} re S Q",
        fmt_real(w - 0.5),
        fmt_real(h - 0.5)
    );

    // QR: square on the left, with a 2-module quiet zone inside the white background.
    let qr_side = (h - 2.0 * pad).min(w - 2.0 * pad);
    let quiet = 2.0;
    let module = qr_side / (modules as f64 + 2.0 * quiet);
    let origin_x = pad + quiet * module;
    let origin_y = pad + quiet * module;
    ops.push_str("q 0 0 0 rg\n");
    for row in 0..modules {
        let mut col = 0;
        while col < modules {
            let dark =
                |c: usize| matches!(colors.get(row * modules + c), Some(qrcode::Color::Dark));
            if dark(col) {
                let start = col;
                while col < modules && dark(col) {
                    col += 1;
                }
                // Row 0 is the top of the symbol.
                let x = origin_x + start as f64 * module;
                let y = origin_y + (modules - 1 - row) as f64 * module;
                let _ = writeln!(
                    ops,
                    "{} {} {} {} re",
                    fmt_real(x),
                    fmt_real(y),
                    fmt_real((col - start) as f64 * module),
                    fmt_real(module)
                );
            } else {
                col += 1;
            }
        }
    }
    ops.push_str("f Q\n");

    // Text block to the right of the QR code, when there is room for it.
    let text_x = pad * 2.0 + qr_side;
    let text_w = w - text_x - pad;
    if text_w > 40.0 {
        let mut lines: Vec<(Vec<u8>, bool)> = vec![(win_ansi(&content.heading), false)];
        lines.push((win_ansi(&content.name), true));
        lines.extend(content.lines.iter().map(|l| (win_ansi(l), false)));
        let n = lines.len() as f64;
        let avail_h = h - 2.0 * pad;
        // Font size: as large as fits both height (1.2 leading) and the longest line's width.
        let mut size = (avail_h / (n * 1.2)).min(9.0);
        for (line, bold) in &lines {
            let at_one = text_width(line, *bold, 1.0);
            if at_one > 0.0 {
                size = size.min(text_w / at_one);
            }
        }
        if size >= 3.0 {
            let leading = size * 1.2;
            let block_h = leading * n;
            let mut y = pad + (avail_h + block_h) / 2.0 - size;
            ops.push_str("BT 0 0 0 rg\n");
            for (line, bold) in &lines {
                let _ = writeln!(
                    ops,
                    "/{} {} Tf 1 0 0 1 {} {} Tm {} Tj",
                    if *bold { "F2" } else { "F1" },
                    fmt_real(size),
                    fmt_real(text_x),
                    fmt_real(y),
                    pdf_string(line)
                );
                y -= leading;
            }
            ops.push_str("ET\n");
        }
    }

    let font = |base: &str| {
        let mut d = Dictionary::new();
        d.set("Type", Object::Name(b"Font".to_vec()));
        d.set("Subtype", Object::Name(b"Type1".to_vec()));
        d.set("BaseFont", Object::Name(base.as_bytes().to_vec()));
        d.set("Encoding", Object::Name(b"WinAnsiEncoding".to_vec()));
        Object::Dictionary(d)
    };
    let mut fonts = Dictionary::new();
    fonts.set("F1", font("Helvetica"));
    fonts.set("F2", font("Helvetica-Bold"));
    let mut resources = Dictionary::new();
    resources.set("Font", Object::Dictionary(fonts));
    resources.set(
        "ProcSet",
        Object::Array(vec![
            Object::Name(b"PDF".to_vec()),
            Object::Name(b"Text".to_vec()),
        ]),
    );
    Ok((ops.into_bytes(), resources))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> StampContent {
        StampContent {
            qr_payload: "https://sahih.contoh.go.id/v/abcdefghijklmnopqrstuv".into(),
            heading: "Ditandatangani secara elektronik oleh:".into(),
            name: "Budi Santoso, S.Kom.".into(),
            lines: vec!["Kepala Dinas".into(), "27 November 2026 20:15 WIB".into()],
            image: None,
        }
    }

    #[test]
    fn stamp_has_qr_and_text() {
        let (ops, res) = stamp_stream(220.0, 80.0, &sample()).unwrap();
        let s = String::from_utf8(ops).unwrap();
        assert!(s.contains(" re\n"));
        assert!(s.contains("(Budi Santoso, S.Kom.) Tj"));
        assert!(res.get(b"Font").is_ok());
    }

    #[test]
    fn square_stamp_is_qr_only() {
        let (ops, _) = stamp_stream(100.0, 100.0, &sample()).unwrap();
        assert!(!String::from_utf8(ops).unwrap().contains("Tj"));
    }

    #[test]
    fn tiny_stamp_is_rejected() {
        assert!(stamp_stream(5.0, 80.0, &sample()).is_err());
    }

    #[test]
    fn non_latin_text_is_replaced_not_panicking() {
        assert_eq!(win_ansi("Ā–é"), vec![b'?', 0x96, 0xe9]);
    }
}
