//! Serialisation of lopdf objects into PDF syntax for our incremental updates.
//!
//! We write our own serialiser (instead of lopdf's writer) because a signature needs exact
//! control over byte offsets: the /ByteRange and /Contents placeholder must be patched in place.

use lopdf::{Dictionary, Object, StringFormat};
use std::io::Write;

/// Appends the PDF syntax of `obj` to `out`.
pub fn write_object(out: &mut Vec<u8>, obj: &Object) {
    match obj {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        Object::Real(r) => write_real(out, f64::from(*r)),
        Object::Name(n) => write_name(out, n),
        Object::String(s, fmt) => match fmt {
            StringFormat::Hexadecimal => write_hex_string(out, s),
            StringFormat::Literal => write_literal_string(out, s),
        },
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_object(out, item);
            }
            out.push(b']');
        }
        Object::Dictionary(d) => write_dictionary(out, d),
        Object::Stream(s) => {
            // Streams are only written through `write_stream`, which fixes /Length.
            let mut dict = s.dict.clone();
            dict.set("Length", Object::Integer(s.content.len() as i64));
            write_dictionary(out, &dict);
            out.extend_from_slice(b"\nstream\n");
            out.extend_from_slice(&s.content);
            out.extend_from_slice(b"\nendstream");
        }
        Object::Reference((num, generation)) => {
            let _ = write!(out, "{num} {generation} R");
        }
    }
}

/// Appends `dict` as `<< /Key value ... >>`, entries in their stored order.
pub fn write_dictionary(out: &mut Vec<u8>, dict: &Dictionary) {
    out.extend_from_slice(b"<<");
    for (key, value) in dict.iter() {
        write_name(out, key);
        out.push(b' ');
        write_object(out, value);
    }
    out.extend_from_slice(b">>");
}

/// A real number without exponent notation (PDF has none), at most 4 decimals, trimmed of
/// needless zeros. Integer arithmetic: float formatting was a hot spot of stamp drawing.
pub fn write_real(out: &mut Vec<u8>, value: f64) {
    let v = if value.is_finite() { value } else { 0.0 };
    let scaled = (v * 10_000.0).round();
    if scaled.abs() >= 9.0e15 {
        let _ = write!(out, "{}", v.round() as i64);
        return;
    }
    let scaled = scaled as i64;
    if scaled < 0 {
        out.push(b'-');
    }
    let abs = scaled.unsigned_abs();
    let (int, mut frac) = (abs / 10_000, abs % 10_000);
    let _ = write!(out, "{int}");
    if frac != 0 {
        let mut digits = 4;
        while frac % 10 == 0 {
            frac /= 10;
            digits -= 1;
        }
        let _ = write!(out, ".{frac:0digits$}");
    }
}

/// [`write_real`] into a `String`, for building content streams.
pub fn fmt_real(value: f64) -> String {
    let mut out = Vec::new();
    write_real(&mut out, value);
    String::from_utf8_lossy(&out).into_owned()
}

/// Appends `/name`, writing delimiters, `#`, whitespace and non-ASCII bytes as `#XX`.
pub fn write_name(out: &mut Vec<u8>, name: &[u8]) {
    out.push(b'/');
    for &b in name {
        let regular = b.is_ascii_graphic()
            && !matches!(
                b,
                b'#' | b'/' | b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'%'
            );
        if regular {
            out.push(b);
        } else {
            let _ = write!(out, "#{b:02X}");
        }
    }
}

/// Appends `s` as a hex string `<...>` with uppercase digits.
pub fn write_hex_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'<');
    for b in s {
        let _ = write!(out, "{b:02X}");
    }
    out.push(b'>');
}

/// Appends `s` as a literal string `(...)`, escaping parentheses, backslash, CR and LF.
pub fn write_literal_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'(');
    for &b in s {
        match b {
            b'(' | b')' | b'\\' => {
                out.push(b'\\');
                out.push(b);
            }
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
    out.push(b')');
}

/// A PDF text string: PDFDocEncoding-compatible ASCII as is, anything else as UTF-16BE with BOM.
pub fn text_string(s: &str) -> Object {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        Object::String(s.as_bytes().to_vec(), StringFormat::Literal)
    } else {
        let mut bytes = vec![0xFE, 0xFF];
        for unit in s.encode_utf16() {
            bytes.extend_from_slice(&unit.to_be_bytes());
        }
        Object::String(bytes, StringFormat::Hexadecimal)
    }
}

/// Decodes a PDF text string (UTF-16BE with BOM, UTF-8 with BOM, or PDFDocEncoding ~ Latin-1).
pub fn decode_text_string(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        String::from_utf8_lossy(rest).into_owned()
    } else {
        bytes.iter().map(|&b| char::from(b)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_strings_are_escaped() {
        let mut out = Vec::new();
        write_object(&mut out, &Object::Name(b"A B#".to_vec()));
        assert_eq!(out, b"/A#20B#23");
        out.clear();
        write_object(
            &mut out,
            &Object::String(b"a(b)\\".to_vec(), StringFormat::Literal),
        );
        assert_eq!(out, b"(a\\(b\\)\\\\)");
    }

    #[test]
    fn reals_have_no_exponent() {
        assert_eq!(fmt_real(1e-7), "0");
        assert_eq!(fmt_real(12.5), "12.5");
        assert_eq!(fmt_real(-3.0), "-3");
        assert_eq!(fmt_real(f64::NAN), "0");
        assert_eq!(fmt_real(-0.00004), "0");
        assert_eq!(fmt_real(-0.5), "-0.5");
        assert_eq!(fmt_real(0.0125), "0.0125");
        assert_eq!(fmt_real(595.303937007874), "595.3039");
    }

    #[test]
    fn text_strings_round_trip() {
        for s in ["Surat Dinas", "Kepala Dinas – Kominfo", "Ünïcødé"] {
            let Object::String(bytes, _) = text_string(s) else {
                panic!("not a string")
            };
            assert_eq!(decode_text_string(&bytes), s);
        }
    }
}
