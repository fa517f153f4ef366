//! Minimal, panic-free DER reader/writer and a BER -> DER normaliser.
//!
//! The structures we emit (certificates, CMS) are small and fixed, so we write their DER by
//! hand: it is fast, gives exact control over every byte, and keeps the signed-attribute
//! encoding canonical. Foreign CMS blobs are read with [`Reader`] after [`ber_to_der`].

use crate::{PkiError, Result};
use const_oid::ObjectIdentifier;

// Universal tags (single identifier octet) used throughout the crate.
pub(crate) const TAG_BOOLEAN: u8 = 0x01;
pub(crate) const TAG_INTEGER: u8 = 0x02;
pub(crate) const TAG_BIT_STRING: u8 = 0x03;
pub(crate) const TAG_OCTET_STRING: u8 = 0x04;
pub(crate) const TAG_OID: u8 = 0x06;
pub(crate) const TAG_UTF8_STRING: u8 = 0x0c;
pub(crate) const TAG_PRINTABLE_STRING: u8 = 0x13;
pub(crate) const TAG_TELETEX_STRING: u8 = 0x14;
pub(crate) const TAG_IA5_STRING: u8 = 0x16;
pub(crate) const TAG_UTC_TIME: u8 = 0x17;
pub(crate) const TAG_GENERALIZED_TIME: u8 = 0x18;
pub(crate) const TAG_VISIBLE_STRING: u8 = 0x1a;
pub(crate) const TAG_UNIVERSAL_STRING: u8 = 0x1c;
pub(crate) const TAG_BMP_STRING: u8 = 0x1e;
pub(crate) const TAG_SEQUENCE: u8 = 0x30;
pub(crate) const TAG_SET: u8 = 0x31;

/// Maximum nesting depth accepted by the BER normaliser and reader helpers.
pub(crate) const MAX_DEPTH: usize = 64;
/// Maximum input size for the BER normaliser (a PDF /Contents blob is far smaller).
pub(crate) const MAX_BER_INPUT: usize = 64 * 1024 * 1024;

fn asn1_err(msg: &str) -> PkiError {
    PkiError::Asn1(msg.to_string())
}

// ---------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------

/// Append a DER length.
pub(crate) fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let sig = bytes.get(skip..).unwrap_or(&[]);
        out.push(0x80 | sig.len() as u8);
        out.extend_from_slice(sig);
    }
}

/// Size of a complete TLV with a one-byte tag and `content_len` content bytes.
pub(crate) fn tlv_len(content_len: usize) -> usize {
    let len_len = if content_len < 0x80 {
        1
    } else {
        let bytes = content_len.to_be_bytes();
        1 + bytes.len() - bytes.iter().take_while(|b| **b == 0).count()
    };
    1 + len_len + content_len
}

/// Append a TLV.
pub(crate) fn push_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    push_len(out, content.len());
    out.extend_from_slice(content);
}

/// Build a TLV.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(tlv_len(content.len()));
    push_tlv(&mut out, tag, content);
    out
}

/// Build a TLV whose content is the concatenation of `parts`.
pub(crate) fn tlv_parts(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = Vec::with_capacity(tlv_len(total));
    out.push(tag);
    push_len(&mut out, total);
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

pub(crate) fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv_parts(TAG_SEQUENCE, parts)
}

pub(crate) fn oid(o: &ObjectIdentifier) -> Vec<u8> {
    tlv(TAG_OID, o.as_bytes())
}

/// Positive INTEGER from unsigned big-endian magnitude bytes (leading zeros trimmed, a 0x00
/// prepended when the top bit is set).
pub(crate) fn uint(magnitude: &[u8]) -> Vec<u8> {
    let skip = magnitude.iter().take_while(|b| **b == 0).count();
    let m = magnitude.get(skip..).unwrap_or(&[]);
    let mut content = Vec::with_capacity(m.len() + 1);
    match m.first() {
        None => content.push(0),
        Some(b) if b & 0x80 != 0 => {
            content.push(0);
            content.extend_from_slice(m);
        }
        Some(_) => content.extend_from_slice(m),
    }
    tlv(TAG_INTEGER, &content)
}

pub(crate) fn small_uint(v: u64) -> Vec<u8> {
    uint(&v.to_be_bytes())
}

/// BIT STRING with zero unused bits.
pub(crate) fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(tlv_len(bytes.len() + 1));
    out.push(TAG_BIT_STRING);
    push_len(&mut out, bytes.len() + 1);
    out.push(0);
    out.extend_from_slice(bytes);
    out
}

/// DER SET OF: elements sorted by their encodings (X.690 11.6).
pub(crate) fn set_of(mut elements: Vec<Vec<u8>>) -> Vec<u8> {
    elements.sort();
    let parts: Vec<&[u8]> = elements.iter().map(|e| e.as_slice()).collect();
    tlv_parts(TAG_SET, &parts)
}

// ---------------------------------------------------------------------------------------------
// Reader (strict DER subset: one-byte tags, definite lengths)
// ---------------------------------------------------------------------------------------------

/// One decoded TLV.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    /// Whole encoding (tag + length + content).
    pub raw: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// Reader over the content (for constructed types).
    pub(crate) fn reader(&self) -> Reader<'a> {
        Reader::new(self.content)
    }
}

/// Cursor over a sequence of DER TLVs.
#[derive(Clone, Debug)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Tag of the next element without consuming it.
    pub(crate) fn peek_tag(&self) -> Option<u8> {
        self.data.get(self.pos).copied()
    }

    /// Read the next TLV.
    pub(crate) fn read(&mut self) -> Result<Tlv<'a>> {
        let start = self.pos;
        let tag = *self
            .data
            .get(start)
            .ok_or_else(|| asn1_err("unexpected end of data"))?;
        if tag & 0x1f == 0x1f {
            return Err(asn1_err("high tag numbers are not supported here"));
        }
        let first = *self
            .data
            .get(start + 1)
            .ok_or_else(|| asn1_err("truncated length"))?;
        let (len, hdr) = if first < 0x80 {
            (first as usize, 2usize)
        } else if first == 0x80 {
            return Err(asn1_err("indefinite length in DER"));
        } else {
            let n = (first & 0x7f) as usize;
            if n > 4 {
                return Err(asn1_err("length too large"));
            }
            let bytes = self
                .data
                .get(start + 2..start + 2 + n)
                .ok_or_else(|| asn1_err("truncated length"))?;
            let mut len = 0usize;
            for b in bytes {
                len = (len << 8) | *b as usize;
            }
            (len, 2 + n)
        };
        let content_start = start
            .checked_add(hdr)
            .ok_or_else(|| asn1_err("length overflow"))?;
        let end = content_start
            .checked_add(len)
            .ok_or_else(|| asn1_err("length overflow"))?;
        let content = self
            .data
            .get(content_start..end)
            .ok_or_else(|| asn1_err("truncated value"))?;
        let raw = self
            .data
            .get(start..end)
            .ok_or_else(|| asn1_err("truncated value"))?;
        self.pos = end;
        Ok(Tlv { tag, content, raw })
    }

    /// Read the next TLV and require `tag`.
    pub(crate) fn expect(&mut self, tag: u8) -> Result<Tlv<'a>> {
        let t = self.read()?;
        if t.tag != tag {
            return Err(PkiError::Asn1(format!(
                "expected tag 0x{tag:02x}, found 0x{:02x}",
                t.tag
            )));
        }
        Ok(t)
    }

    /// Read the next TLV if its tag is `tag`.
    pub(crate) fn optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>> {
        if self.peek_tag() == Some(tag) {
            Ok(Some(self.read()?))
        } else {
            Ok(None)
        }
    }
}

/// Parse exactly one TLV spanning all of `data`.
pub(crate) fn parse_single(data: &[u8]) -> Result<Tlv<'_>> {
    let mut r = Reader::new(data);
    let t = r.read()?;
    if !r.is_empty() {
        return Err(asn1_err("trailing data after value"));
    }
    Ok(t)
}

pub(crate) fn read_oid(t: &Tlv<'_>) -> Result<ObjectIdentifier> {
    if t.tag != TAG_OID {
        return Err(asn1_err("expected OBJECT IDENTIFIER"));
    }
    ObjectIdentifier::from_bytes(t.content).map_err(|_| asn1_err("invalid OBJECT IDENTIFIER"))
}

/// Content bytes of a BIT STRING with zero unused bits.
pub(crate) fn read_bit_string_bytes<'a>(t: &Tlv<'a>) -> Result<&'a [u8]> {
    if t.tag != TAG_BIT_STRING {
        return Err(asn1_err("expected BIT STRING"));
    }
    match t.content.split_first() {
        Some((0, rest)) => Ok(rest),
        _ => Err(asn1_err("BIT STRING with unused bits")),
    }
}

/// Decode a directory string value (as found in Name attribute values) to text.
pub(crate) fn decode_string(tag: u8, content: &[u8]) -> Option<String> {
    match tag {
        TAG_UTF8_STRING | TAG_PRINTABLE_STRING | TAG_IA5_STRING | TAG_VISIBLE_STRING => {
            String::from_utf8(content.to_vec()).ok()
        }
        // T61: treat as Latin-1 (what most software does in practice)
        TAG_TELETEX_STRING => Some(content.iter().map(|b| *b as char).collect()),
        TAG_BMP_STRING => {
            if !content.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = content
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        TAG_UNIVERSAL_STRING => {
            if !content.len().is_multiple_of(4) {
                return None;
            }
            content
                .chunks_exact(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect()
        }
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// Times
// ---------------------------------------------------------------------------------------------

/// DER GeneralizedTime `YYYYMMDDHHMMSS[.fff]Z` (UTC). With `millis`, a fractional part is
/// written from the millisecond of `t`, trailing zeros removed (and no fraction at all when the
/// millisecond is 0), as X.690 11.7 requires.
pub(crate) fn generalized_time(t: time::OffsetDateTime, millis: bool) -> Result<Vec<u8>> {
    let t = t.to_offset(time::UtcOffset::UTC);
    let y = t.year();
    if !(0..=9999).contains(&y) {
        return Err(PkiError::InvalidArgument(format!(
            "year {y} outside 0000-9999"
        )));
    }
    let mut s = format!(
        "{y:04}{:02}{:02}{:02}{:02}{:02}",
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if millis {
        let ms = t.millisecond();
        if ms != 0 {
            let frac = format!("{ms:03}");
            s.push('.');
            s.push_str(frac.trim_end_matches('0'));
        }
    }
    s.push('Z');
    Ok(tlv(TAG_GENERALIZED_TIME, s.as_bytes()))
}

/// Parse a UTCTime (`YYMMDDHHMM[SS]Z`) or GeneralizedTime (`YYYYMMDDHHMMSS[.f...]Z`, also
/// without seconds) value. Only UTC (`Z`) is accepted; fractions are kept to the nanosecond.
pub(crate) fn parse_time(tag: u8, content: &[u8]) -> Option<time::OffsetDateTime> {
    let s = std::str::from_utf8(content).ok()?;
    if !s.is_ascii() {
        return None;
    }
    let (year, rest) = match tag {
        TAG_UTC_TIME => {
            let yy: i32 = digits(s.get(0..2)?)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, s.get(2..)?)
        }
        TAG_GENERALIZED_TIME => (digits(s.get(0..4)?)?, s.get(4..)?),
        _ => return None,
    };
    let rest = rest.strip_suffix('Z')?;
    let p = |r: std::ops::Range<usize>| -> Option<u8> { digits(rest.get(r)?) };
    let month = time::Month::try_from(p(0..2)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, p(2..4)?).ok()?;
    let (hour, minute) = (p(4..6)?, p(6..8)?);
    let (second, nanos) = match rest.len() {
        8 => (0, 0),
        10 => (p(8..10)?, 0),
        n if n > 11 && tag == TAG_GENERALIZED_TIME => {
            let frac = rest.get(10..)?.strip_prefix(['.', ','])?;
            if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let mut nanos: u32 = frac.parse().ok()?;
            for _ in frac.len()..9 {
                nanos = nanos.checked_mul(10)?;
            }
            (p(8..10)?, nanos)
        }
        _ => return None,
    };
    let t = time::Time::from_hms_nano(hour, minute, second, nanos).ok()?;
    Some(time::PrimitiveDateTime::new(date, t).assume_utc())
}

fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Read a Time (UTCTime or GeneralizedTime) TLV.
pub(crate) fn read_time(t: &Tlv<'_>) -> Result<time::OffsetDateTime> {
    parse_time(t.tag, t.content).ok_or_else(|| asn1_err("invalid time value"))
}

/// A named BIT STRING (DER: trailing zero bits removed) with the single bit `bit` set.
pub(crate) fn single_bit_string(bit: u8) -> Vec<u8> {
    let nbytes = bit as usize / 8 + 1;
    let mut content = vec![0u8; nbytes + 1];
    if let Some(first) = content.first_mut() {
        *first = 7 - (bit % 8);
    }
    if let Some(b) = content.get_mut(nbytes) {
        *b = 0x80 >> (bit % 8);
    }
    tlv(TAG_BIT_STRING, &content)
}

/// Bit numbers set in a BIT STRING value (named-bit list).
pub(crate) fn bits_set(t: &Tlv<'_>) -> Result<Vec<u16>> {
    if t.tag != TAG_BIT_STRING {
        return Err(asn1_err("expected BIT STRING"));
    }
    let (unused, bytes) = t
        .content
        .split_first()
        .ok_or_else(|| asn1_err("empty BIT STRING"))?;
    if *unused > 7 || (bytes.is_empty() && *unused != 0) {
        return Err(asn1_err("invalid BIT STRING"));
    }
    let mut out = Vec::new();
    for (i, b) in bytes.iter().enumerate().take(64) {
        for k in 0..8u16 {
            if b & (0x80 >> k) != 0 {
                out.push(i as u16 * 8 + k);
            }
        }
    }
    Ok(out)
}

/// INTEGER content equal as numbers (positive, leading zero octets ignored).
pub(crate) fn same_uint(a: &[u8], b: &[u8]) -> bool {
    fn trim(x: &[u8]) -> &[u8] {
        let skip = x.iter().take_while(|b| **b == 0).count();
        x.get(skip..).unwrap_or(&[])
    }
    trim(a) == trim(b)
}

/// Non-negative INTEGER content to u64 (None when negative or too large).
pub(crate) fn read_u64(t: &Tlv<'_>) -> Option<u64> {
    if t.tag != TAG_INTEGER || t.content.is_empty() || t.content.first()? & 0x80 != 0 {
        return None;
    }
    let skip = t.content.iter().take_while(|b| **b == 0).count();
    let m = t.content.get(skip..)?;
    if m.len() > 8 {
        return None;
    }
    Some(m.iter().fold(0u64, |a, b| (a << 8) | *b as u64))
}

/// Lowercase hex of INTEGER content without leading zero octets ("00" for zero).
pub(crate) fn uint_hex(content: &[u8]) -> String {
    let skip = content
        .iter()
        .take_while(|b| **b == 0)
        .count()
        .min(content.len().saturating_sub(1));
    hex::encode(content.get(skip..).unwrap_or(&[]))
}

// ---------------------------------------------------------------------------------------------
// BER -> DER normaliser
// ---------------------------------------------------------------------------------------------

/// Normalise a BER encoding to DER: definite minimal lengths, constructed universal string
/// types flattened to primitive ones. SET OF ordering, BOOLEAN values and high-tag forms are
/// kept as they are (the CMS reader does not depend on them). Returns the DER of the first
/// top-level TLV; trailing bytes after it must be zero (PDF /Contents padding).
pub(crate) fn ber_to_der(input: &[u8]) -> Result<Vec<u8>> {
    if input.len() > MAX_BER_INPUT {
        return Err(asn1_err("input too large"));
    }
    let mut out = Vec::with_capacity(input.len());
    let mut pos = 0usize;
    normalise_one(input, &mut pos, &mut out, 0)?;
    let trailing = input.get(pos..).unwrap_or(&[]);
    if trailing.iter().any(|b| *b != 0) {
        return Err(asn1_err("non-zero data after the CMS structure"));
    }
    Ok(out)
}

struct BerHeader {
    tag_bytes_start: usize,
    tag_bytes_end: usize,
    constructed: bool,
    universal_tag: Option<u8>,
    /// None = indefinite
    len: Option<usize>,
}

fn read_ber_header(data: &[u8], pos: &mut usize) -> Result<BerHeader> {
    let start = *pos;
    let first = *data
        .get(start)
        .ok_or_else(|| asn1_err("unexpected end of data"))?;
    let constructed = first & 0x20 != 0;
    let class = first & 0xc0;
    let mut p = start + 1;
    let mut universal_tag = None;
    if first & 0x1f == 0x1f {
        // high tag number form: base-128, at most 4 continuation bytes
        let mut count = 0;
        loop {
            let b = *data.get(p).ok_or_else(|| asn1_err("truncated tag"))?;
            p += 1;
            count += 1;
            if count > 4 {
                return Err(asn1_err("tag number too large"));
            }
            if b & 0x80 == 0 {
                break;
            }
        }
    } else if class == 0 {
        universal_tag = Some(first & 0x1f);
    }
    let tag_end = p;
    let l = *data.get(p).ok_or_else(|| asn1_err("truncated length"))?;
    p += 1;
    let len = if l < 0x80 {
        Some(l as usize)
    } else if l == 0x80 {
        if !constructed {
            return Err(asn1_err("indefinite length on a primitive value"));
        }
        None
    } else {
        let n = (l & 0x7f) as usize;
        if n > 4 {
            return Err(asn1_err("length too large"));
        }
        let bytes = data
            .get(p..p + n)
            .ok_or_else(|| asn1_err("truncated length"))?;
        p += n;
        let mut v = 0usize;
        for b in bytes {
            v = (v << 8) | *b as usize;
        }
        Some(v)
    };
    *pos = p;
    Ok(BerHeader {
        tag_bytes_start: start,
        tag_bytes_end: tag_end,
        constructed,
        universal_tag,
        len,
    })
}

fn is_string_type(t: u8) -> bool {
    matches!(t, 0x03 | 0x04 | 0x0c | 0x12..=0x16 | 0x19..=0x1e)
}

/// Normalise one TLV starting at `*pos`, append to `out`, advance `*pos`.
fn normalise_one(data: &[u8], pos: &mut usize, out: &mut Vec<u8>, depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(asn1_err("nesting too deep"));
    }
    let h = read_ber_header(data, pos)?;
    let tag_bytes = data
        .get(h.tag_bytes_start..h.tag_bytes_end)
        .ok_or_else(|| asn1_err("bad tag"))?;

    if !h.constructed {
        let len = h.len.ok_or_else(|| asn1_err("indefinite primitive"))?;
        let end = pos
            .checked_add(len)
            .ok_or_else(|| asn1_err("length overflow"))?;
        let content = data
            .get(*pos..end)
            .ok_or_else(|| asn1_err("truncated value"))?;
        out.extend_from_slice(tag_bytes);
        push_len(out, len);
        out.extend_from_slice(content);
        *pos = end;
        return Ok(());
    }

    // Constructed: normalise the children directly into `out` (memory stays O(input)), then
    // insert the now-known length after the tag.
    let header_pos = out.len();
    let content_start = header_pos + tag_bytes.len();
    out.extend_from_slice(tag_bytes);
    match h.len {
        Some(len) => {
            let end = pos
                .checked_add(len)
                .ok_or_else(|| asn1_err("length overflow"))?;
            if end > data.len() {
                return Err(asn1_err("truncated value"));
            }
            let sub = data.get(..end).ok_or_else(|| asn1_err("truncated value"))?;
            while *pos < end {
                normalise_one(sub, pos, out, depth + 1)?;
            }
            if *pos != end {
                return Err(asn1_err("child overruns parent"));
            }
        }
        None => loop {
            match (data.get(*pos), data.get(pos.saturating_add(1))) {
                (Some(0), Some(0)) => {
                    *pos += 2;
                    break;
                }
                (Some(_), _) => normalise_one(data, pos, out, depth + 1)?,
                (None, _) => return Err(asn1_err("missing end-of-contents")),
            }
        },
    }

    match h.universal_tag {
        Some(t) if is_string_type(t) => {
            // Flatten a constructed string: the children are (now DER) segments of the same
            // type; concatenate their contents into one primitive value.
            let children = out.split_off(content_start);
            out.truncate(header_pos);
            let mut flat = Vec::with_capacity(children.len());
            if t == TAG_BIT_STRING {
                flat.push(0);
            }
            let mut unused_last = 0u8;
            let mut r = Reader::new(&children);
            while !r.is_empty() {
                let seg = r.read()?;
                if seg.tag != t {
                    return Err(asn1_err("constructed string segment of a different type"));
                }
                if t == TAG_BIT_STRING {
                    if unused_last != 0 {
                        return Err(asn1_err("unused bits in a non-final BIT STRING segment"));
                    }
                    let (unused, b) = seg
                        .content
                        .split_first()
                        .ok_or_else(|| asn1_err("empty BIT STRING segment"))?;
                    unused_last = *unused;
                    flat.extend_from_slice(b);
                } else {
                    flat.extend_from_slice(seg.content);
                }
            }
            if let Some(first) = flat.first_mut()
                && t == TAG_BIT_STRING
            {
                *first = unused_last;
            }
            out.push(t);
            push_len(out, flat.len());
            out.extend_from_slice(&flat);
        }
        _ => {
            let content_len = out.len() - content_start;
            let mut len_bytes = Vec::with_capacity(5);
            push_len(&mut len_bytes, content_len);
            out.splice(content_start..content_start, len_bytes);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indefinite_and_constructed_strings() {
        // SEQUENCE (indefinite) { OCTET STRING constructed indefinite { "ab", "c" } }
        let ber = [
            0x30, 0x80, 0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00,
        ];
        let der = ber_to_der(&ber).unwrap();
        assert_eq!(der, vec![0x30, 0x05, 0x04, 0x03, b'a', b'b', b'c']);
    }

    #[test]
    fn bit_string_segments() {
        // BIT STRING constructed { 00 'ab', 03 'c' } -> 03 'abc'
        let ber = [
            0x23, 0x80, 0x03, 0x03, 0x00, b'a', b'b', 0x03, 0x02, 0x03, b'c', 0x00, 0x00,
        ];
        assert_eq!(
            ber_to_der(&ber).unwrap(),
            vec![0x03, 0x04, 0x03, b'a', b'b', b'c']
        );
        // unused bits in a non-final segment
        let bad = [
            0x23, 0x80, 0x03, 0x02, 0x01, b'a', 0x03, 0x02, 0x00, b'c', 0x00, 0x00,
        ];
        assert!(ber_to_der(&bad).is_err());
    }

    #[test]
    fn nested_context_and_long_content() {
        let payload = vec![0x41u8; 300];
        // [0] indefinite { SEQUENCE (long form) { OCTET STRING 300 } }
        let mut ber = vec![0xa0, 0x80, 0x30, 0x82, 0x01, 0x30, 0x04, 0x82, 0x01, 0x2c];
        ber.extend_from_slice(&payload);
        ber.extend_from_slice(&[0, 0]);
        let der = ber_to_der(&ber).unwrap();
        let outer = parse_single(&der).unwrap();
        assert_eq!(outer.tag, 0xa0);
        let sq = parse_single(outer.content).unwrap();
        let os = parse_single(sq.content).unwrap();
        assert_eq!(os.content, &payload[..]);
    }

    #[test]
    fn non_minimal_length() {
        let ber = [0x04, 0x81, 0x01, 0x41];
        assert_eq!(ber_to_der(&ber).unwrap(), vec![0x04, 0x01, 0x41]);
    }

    #[test]
    fn garbage_is_error() {
        assert!(ber_to_der(&[0x30, 0x80, 0x04]).is_err());
        assert!(ber_to_der(&[0x04, 0x85, 1, 1, 1, 1, 1]).is_err());
        assert!(ber_to_der(&[]).is_err());
        let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 200).flatten().collect();
        assert!(ber_to_der(&deep).is_err());
    }

    #[test]
    fn times_and_bits() {
        let t = parse_time(TAG_GENERALIZED_TIME, b"20250102030405.25Z").unwrap();
        assert_eq!(t.nanosecond(), 250_000_000);
        assert_eq!(t.second(), 5);
        assert_eq!(
            generalized_time(t, true).unwrap(),
            tlv(TAG_GENERALIZED_TIME, b"20250102030405.25Z")
        );
        assert_eq!(
            generalized_time(t, false).unwrap(),
            tlv(TAG_GENERALIZED_TIME, b"20250102030405Z")
        );
        assert!(parse_time(TAG_UTC_TIME, b"2501020304Z").is_some());
        assert!(parse_time(TAG_UTC_TIME, b"250102030405.1Z").is_none());
        assert!(parse_time(TAG_GENERALIZED_TIME, b"20250102030405.Z").is_none());
        assert!(parse_time(TAG_GENERALIZED_TIME, b"2025010203040+Z").is_none());
        assert!(parse_time(TAG_GENERALIZED_TIME, b"20250102030405+0700").is_none());
        assert_eq!(single_bit_string(2), vec![0x03, 0x02, 0x05, 0x20]);
        assert_eq!(single_bit_string(15), vec![0x03, 0x03, 0x00, 0x00, 0x01]);
        let b = single_bit_string(25);
        assert_eq!(bits_set(&parse_single(&b).unwrap()).unwrap(), vec![25]);
    }

    #[test]
    fn uint_encoding() {
        assert_eq!(uint(&[0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(uint(&[0, 0, 1]), vec![0x02, 0x01, 0x01]);
        assert_eq!(uint(&[]), vec![0x02, 0x01, 0x00]);
    }
}
