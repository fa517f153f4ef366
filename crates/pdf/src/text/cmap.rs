//! A tolerant parser for embedded CMaps: ToUnicode CMaps (codespace ranges, bfchar, bfrange
//! with both destination forms) and encoding CMaps of composite fonts (cidchar, cidrange).

use std::collections::HashMap;

/// Ranges larger than this stay ranges instead of being expanded into the map.
const EXPAND_RANGE_MAX: u32 = 256;
/// Total entries expanded into the map from ranges.
const EXPAND_TOTAL_MAX: usize = 1 << 18;

/// One codespace range: codes of `len` bytes whose every byte lies between `lo` and `hi`.
#[derive(Debug, Clone)]
pub(crate) struct CodeRange {
    pub(crate) len: usize,
    pub(crate) lo: [u8; 4],
    pub(crate) hi: [u8; 4],
}

impl CodeRange {
    fn matches(&self, bytes: &[u8]) -> bool {
        if bytes.len() != self.len {
            return false;
        }
        bytes
            .iter()
            .zip(self.lo.iter().zip(self.hi.iter()))
            .all(|(b, (lo, hi))| lo <= b && b <= hi)
    }
}

/// Split the next code off `bytes` according to `ranges` (ISO 32000-1, 9.7.6.2).
/// Returns the code value and its length in bytes (at least 1 when `bytes` is not empty).
pub(crate) fn next_code(ranges: &[CodeRange], bytes: &[u8], default_len: usize) -> (u32, usize) {
    if !ranges.is_empty() {
        for n in 1..=4usize {
            let Some(prefix) = bytes.get(..n) else { break };
            if ranges.iter().any(|r| r.matches(prefix)) {
                return (be_value(prefix), n);
            }
        }
        // No range matched: take as many bytes as the shortest range that could start here.
        let n = ranges
            .iter()
            .filter(|r| {
                bytes.first().is_some_and(|b| {
                    r.lo.first().is_some_and(|lo| lo <= b) && r.hi.first().is_some_and(|hi| b <= hi)
                })
            })
            .map(|r| r.len)
            .min()
            .or_else(|| ranges.iter().map(|r| r.len).min())
            .unwrap_or(default_len)
            .clamp(1, 4);
        let n = n.min(bytes.len()).max(1);
        return (
            be_value(bytes.get(..n).unwrap_or(bytes)),
            n.min(bytes.len()),
        );
    }
    let n = default_len.clamp(1, 4).min(bytes.len());
    (be_value(bytes.get(..n).unwrap_or(bytes)), n)
}

fn be_value(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .take(4)
        .fold(0u32, |acc, b| (acc << 8) | u32::from(*b))
}

#[derive(Debug, Clone)]
struct UniRange {
    lo: u32,
    hi: u32,
    base: Vec<u16>,
}

#[derive(Debug, Clone, Copy)]
struct CidRange {
    lo: u32,
    hi: u32,
    cid: u32,
}

/// A parsed CMap. Unicode mappings (bf*) and CID mappings (cid*) are kept apart.
#[derive(Debug, Clone, Default)]
pub(crate) struct CMap {
    pub(crate) codespace: Vec<CodeRange>,
    uni_map: HashMap<u32, Box<str>>,
    uni_ranges: Vec<UniRange>,
    cid_ranges: Vec<CidRange>,
    pub(crate) use_cmap: Option<Vec<u8>>,
    pub(crate) vertical: bool,
}

impl CMap {
    /// Unicode text of `code`, if the CMap maps it.
    pub(crate) fn unicode(&self, code: u32) -> Option<String> {
        if let Some(s) = self.uni_map.get(&code) {
            return Some(s.to_string());
        }
        // Later ranges win, like later definitions in the stream.
        for r in self.uni_ranges.iter().rev() {
            if r.lo <= code && code <= r.hi {
                return Some(offset_utf16(&r.base, code - r.lo));
            }
        }
        None
    }

    pub(crate) fn has_unicode(&self) -> bool {
        !self.uni_map.is_empty() || !self.uni_ranges.is_empty()
    }

    pub(crate) fn has_cids(&self) -> bool {
        !self.cid_ranges.is_empty()
    }

    /// CID of `code` (encoding CMaps).
    pub(crate) fn cid(&self, code: u32) -> Option<u32> {
        let idx = self.cid_ranges.partition_point(|r| r.lo <= code);
        // Ranges are sorted by `lo`; overlapping ranges are rare, look back a little.
        let start = idx.saturating_sub(16);
        self.cid_ranges
            .get(start..idx)?
            .iter()
            .rev()
            .find(|r| code <= r.hi)
            .map(|r| r.cid.saturating_add(code - r.lo))
    }

    /// Parse CMap text. Never fails: anything not understood is skipped.
    pub(crate) fn parse(data: &[u8]) -> CMap {
        let tokens = tokenize(data);
        let mut cmap = CMap::default();
        let mut expanded = 0usize;
        let mut i = 0usize;
        while let Some(tok) = tokens.get(i) {
            i += 1;
            let Tok::Kw(kw) = tok else { continue };
            match *kw {
                b"begincodespacerange" => {
                    while let (Some(Tok::Hex(lo)), Some(Tok::Hex(hi))) =
                        (tokens.get(i), tokens.get(i + 1))
                    {
                        i += 2;
                        if lo.len() == hi.len() && (1..=4).contains(&lo.len()) {
                            let mut r = CodeRange {
                                len: lo.len(),
                                lo: [0; 4],
                                hi: [0; 4],
                            };
                            for (dst, src) in r.lo.iter_mut().zip(lo.iter()) {
                                *dst = *src;
                            }
                            for (dst, src) in r.hi.iter_mut().zip(hi.iter()) {
                                *dst = *src;
                            }
                            cmap.codespace.push(r);
                        }
                    }
                }
                b"beginbfchar" => {
                    while let (
                        Some(Tok::Hex(src)),
                        Some(dst @ (Tok::Hex(_) | Tok::Str(_) | Tok::Name(_))),
                    ) = (tokens.get(i), tokens.get(i + 1))
                    {
                        i += 2;
                        if src.len() > 4 {
                            continue;
                        }
                        let text = match dst {
                            Tok::Hex(d) | Tok::Str(d) => utf16be_to_string(d),
                            Tok::Name(n) => {
                                super::encodings::glyph_name_to_unicode(n).unwrap_or_default()
                            }
                            _ => String::new(),
                        };
                        cmap.uni_map.insert(be_value(src), text.into_boxed_str());
                    }
                }
                b"beginbfrange" => {
                    while let (
                        Some(Tok::Hex(lo)),
                        Some(Tok::Hex(hi)),
                        Some(dst @ (Tok::Hex(_) | Tok::Str(_) | Tok::Name(_) | Tok::ArrOpen)),
                    ) = (tokens.get(i), tokens.get(i + 1), tokens.get(i + 2))
                    {
                        i += 3;
                        if lo.len() > 4 || hi.len() > 4 {
                            if matches!(dst, Tok::ArrOpen) {
                                i = skip_array(&tokens, i);
                            }
                            continue;
                        }
                        let (lo, hi) = (be_value(lo), be_value(hi));
                        match dst {
                            Tok::Hex(d) | Tok::Str(d) => {
                                if hi < lo {
                                    continue;
                                }
                                let base = utf16be_units(d);
                                let span = hi - lo;
                                if span < EXPAND_RANGE_MAX && expanded < EXPAND_TOTAL_MAX {
                                    let count = span + 1;
                                    expanded += count as usize;
                                    for off in 0..count {
                                        cmap.uni_map.insert(
                                            lo + off,
                                            offset_utf16(&base, off).into_boxed_str(),
                                        );
                                    }
                                } else {
                                    cmap.uni_ranges.push(UniRange { lo, hi, base });
                                }
                            }
                            Tok::ArrOpen => {
                                let mut code = lo;
                                while let Some(t) = tokens.get(i) {
                                    i += 1;
                                    match t {
                                        Tok::ArrClose => break,
                                        Tok::Hex(d) | Tok::Str(d) => {
                                            if code <= hi {
                                                cmap.uni_map.insert(
                                                    code,
                                                    utf16be_to_string(d).into_boxed_str(),
                                                );
                                            }
                                            code = code.saturating_add(1);
                                        }
                                        Tok::Name(n) => {
                                            if code <= hi
                                                && let Some(t) =
                                                    super::encodings::glyph_name_to_unicode(n)
                                            {
                                                cmap.uni_map.insert(code, t.into_boxed_str());
                                            }
                                            code = code.saturating_add(1);
                                        }
                                        Tok::Kw(_) => {
                                            // Unterminated array: resume at the keyword.
                                            i -= 1;
                                            break;
                                        }
                                        _ => {}
                                    }
                                }
                            }
                            Tok::Name(n) => {
                                if lo == hi
                                    && let Some(t) = super::encodings::glyph_name_to_unicode(n)
                                {
                                    cmap.uni_map.insert(lo, t.into_boxed_str());
                                }
                            }
                            _ => {}
                        }
                    }
                }
                b"begincidchar" => {
                    while let (Some(Tok::Hex(src)), Some(Tok::Num(cid))) =
                        (tokens.get(i), tokens.get(i + 1))
                    {
                        i += 2;
                        if src.len() <= 4 && *cid >= 0.0 && *cid <= f64::from(u32::MAX) {
                            let code = be_value(src);
                            cmap.cid_ranges.push(CidRange {
                                lo: code,
                                hi: code,
                                cid: *cid as u32,
                            });
                        }
                    }
                }
                b"begincidrange" => {
                    while let (Some(Tok::Hex(lo)), Some(Tok::Hex(hi)), Some(Tok::Num(cid))) =
                        (tokens.get(i), tokens.get(i + 1), tokens.get(i + 2))
                    {
                        i += 3;
                        if lo.len() <= 4
                            && hi.len() <= 4
                            && *cid >= 0.0
                            && *cid <= f64::from(u32::MAX)
                        {
                            let (lo, hi) = (be_value(lo), be_value(hi));
                            if lo <= hi {
                                cmap.cid_ranges.push(CidRange {
                                    lo,
                                    hi,
                                    cid: *cid as u32,
                                });
                            }
                        }
                    }
                }
                b"usecmap" => {
                    if let Some(Tok::Name(n)) = i.checked_sub(2).and_then(|p| tokens.get(p)) {
                        cmap.use_cmap = Some(n.to_vec());
                    }
                }
                b"def" => {
                    if let (Some(Tok::Name(b"WMode")), Some(Tok::Num(v))) = (
                        i.checked_sub(3).and_then(|p| tokens.get(p)),
                        i.checked_sub(2).and_then(|p| tokens.get(p)),
                    ) {
                        cmap.vertical = *v == 1.0;
                    }
                }
                _ => {}
            }
        }
        cmap.cid_ranges.sort_by_key(|r| r.lo);
        cmap
    }

    /// Merge a parent CMap (from /UseCMap): our own definitions take precedence.
    pub(crate) fn inherit(&mut self, parent: &CMap) {
        if self.codespace.is_empty() {
            self.codespace = parent.codespace.clone();
        }
        for (k, v) in &parent.uni_map {
            self.uni_map.entry(*k).or_insert_with(|| v.clone());
        }
        let mut ranges = parent.uni_ranges.clone();
        ranges.append(&mut self.uni_ranges);
        self.uni_ranges = ranges;
        let mut cids = parent.cid_ranges.clone();
        cids.append(&mut self.cid_ranges);
        cids.sort_by_key(|r| r.lo);
        self.cid_ranges = cids;
    }
}

fn skip_array(tokens: &[Tok<'_>], mut i: usize) -> usize {
    while let Some(t) = tokens.get(i) {
        i += 1;
        if matches!(t, Tok::ArrClose) {
            break;
        }
    }
    i
}

fn utf16be_units(bytes: &[u8]) -> Vec<u16> {
    if bytes.len() == 1 {
        // A one-byte destination: some producers write <41> for "A".
        return vec![u16::from(bytes.first().copied().unwrap_or(0))];
    }
    bytes
        .chunks(2)
        .map(|c| match c {
            [a, b] => u16::from_be_bytes([*a, *b]),
            [a] => u16::from(*a),
            _ => 0,
        })
        .collect()
}

/// Decode UTF-16BE (with surrogate pairs); invalid units are dropped.
pub(crate) fn utf16be_to_string(bytes: &[u8]) -> String {
    char::decode_utf16(utf16be_units(bytes))
        .filter_map(Result::ok)
        .collect()
}

/// `base` with its last UTF-16 unit (or the scalar it ends with) increased by `off`.
fn offset_utf16(base: &[u16], off: u32) -> String {
    let mut units = base.to_vec();
    let Some(last) = units.pop() else {
        return String::new();
    };
    let mut out: String = char::decode_utf16(units.iter().copied())
        .filter_map(Result::ok)
        .collect();
    // A base ending in a surrogate pair: increment the scalar value.
    if (0xDC00..=0xDFFF).contains(&last)
        && let Some(high) = units.last().copied()
        && (0xD800..=0xDBFF).contains(&high)
    {
        out.pop();
        let scalar = 0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(last) - 0xDC00);
        if let Some(c) = scalar.checked_add(off).and_then(char::from_u32) {
            out.push(c);
        }
        return out;
    }
    if let Some(c) = u32::from(last).checked_add(off).and_then(char::from_u32) {
        out.push(c);
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Tok<'a> {
    Hex(Vec<u8>),
    Str(Vec<u8>),
    Name(&'a [u8]),
    Num(f64),
    Kw(&'a [u8]),
    ArrOpen,
    ArrClose,
    DictOpen,
    DictClose,
}

fn is_delim(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn tokenize(data: &[u8]) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut i = 0usize;
    let n = data.len();
    while i < n {
        let Some(&b) = data.get(i) else { break };
        if is_space(b) {
            i += 1;
            continue;
        }
        match b {
            b'%' => {
                while i < n && !matches!(data.get(i), Some(b'\n' | b'\r')) {
                    i += 1;
                }
            }
            b'[' => {
                out.push(Tok::ArrOpen);
                i += 1;
            }
            b']' => {
                out.push(Tok::ArrClose);
                i += 1;
            }
            b'{' | b'}' => i += 1,
            b'<' if data.get(i + 1) == Some(&b'<') => {
                out.push(Tok::DictOpen);
                i += 2;
            }
            b'>' if data.get(i + 1) == Some(&b'>') => {
                out.push(Tok::DictClose);
                i += 2;
            }
            b'<' => {
                i += 1;
                let mut bytes = Vec::new();
                let mut hi: Option<u8> = None;
                while let Some(&c) = data.get(i) {
                    i += 1;
                    if c == b'>' {
                        break;
                    }
                    if let Some(v) = hex_val(c) {
                        match hi.take() {
                            Some(h) => bytes.push((h << 4) | v),
                            None => hi = Some(v),
                        }
                    }
                }
                if let Some(h) = hi {
                    bytes.push(h << 4);
                }
                out.push(Tok::Hex(bytes));
            }
            b'(' => {
                i += 1;
                let mut depth = 1usize;
                let mut bytes = Vec::new();
                while let Some(&c) = data.get(i) {
                    i += 1;
                    match c {
                        b'\\' => {
                            if let Some(&e) = data.get(i) {
                                i += 1;
                                match e {
                                    b'n' => bytes.push(b'\n'),
                                    b'r' => bytes.push(b'\r'),
                                    b't' => bytes.push(b'\t'),
                                    b'b' => bytes.push(8),
                                    b'f' => bytes.push(12),
                                    b'0'..=b'7' => {
                                        let mut v = u32::from(e - b'0');
                                        for _ in 0..2 {
                                            match data.get(i) {
                                                Some(&d @ b'0'..=b'7') => {
                                                    v = v * 8 + u32::from(d - b'0');
                                                    i += 1;
                                                }
                                                _ => break,
                                            }
                                        }
                                        bytes.push((v & 0xFF) as u8);
                                    }
                                    b'\r' | b'\n' => {}
                                    other => bytes.push(other),
                                }
                            }
                        }
                        b'(' => {
                            depth += 1;
                            bytes.push(c);
                        }
                        b')' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                            bytes.push(c);
                        }
                        _ => bytes.push(c),
                    }
                }
                out.push(Tok::Str(bytes));
            }
            b'/' => {
                let start = i + 1;
                i += 1;
                while let Some(&c) = data.get(i) {
                    if is_space(c) || is_delim(c) {
                        break;
                    }
                    i += 1;
                }
                out.push(Tok::Name(data.get(start..i).unwrap_or(&[])));
            }
            b')' | b'>' => i += 1,
            _ => {
                let start = i;
                while let Some(&c) = data.get(i) {
                    if is_space(c) || is_delim(c) {
                        break;
                    }
                    i += 1;
                }
                let word = data.get(start..i).unwrap_or(&[]);
                if word.is_empty() {
                    i += 1;
                    continue;
                }
                let num = std::str::from_utf8(word)
                    .ok()
                    .and_then(|s| s.parse::<f64>().ok());
                match num {
                    Some(v)
                        if v.is_finite()
                            && word
                                .iter()
                                .all(|c| c.is_ascii_digit() || b"+-.".contains(c)) =>
                    {
                        out.push(Tok::Num(v))
                    }
                    _ => out.push(Tok::Kw(word)),
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bfchar_bfrange_codespace() {
        let data = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
            /CMapName /Adobe-Identity-UCS def\n\
            1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
            3 beginbfchar <0003> <0020> <0024> <00660069> <0025> <D835DC00> endbfchar\n\
            2 beginbfrange <0010> <0012> <0041> <0020> <0021> [<0061> <0062>] endbfrange\n\
            1 beginbfrange <0100> <FFFF> <4E00> endbfrange\n\
            endcmap CMapName currentdict /CMap defineresource pop end end";
        let c = CMap::parse(data);
        assert_eq!(c.codespace.len(), 1);
        assert_eq!(c.unicode(3).as_deref(), Some(" "));
        assert_eq!(c.unicode(0x24).as_deref(), Some("fi"));
        assert_eq!(c.unicode(0x25).as_deref(), Some("\u{1D400}"));
        assert_eq!(c.unicode(0x11).as_deref(), Some("B"));
        assert_eq!(c.unicode(0x21).as_deref(), Some("b"));
        assert_eq!(c.unicode(0x101).as_deref(), Some("\u{4E01}"));
        assert_eq!(c.unicode(0x50), None);
        assert_eq!(next_code(&c.codespace, &[0, 3, 0, 4], 2), (3, 2));
    }

    #[test]
    fn mixed_codespace_and_cids() {
        let data = b"2 begincodespacerange <00> <80> <8140> <9FFC> endcodespacerange\n\
            1 begincidrange <8140> <817E> 633 endcidrange 1 begincidchar <41> 34 endcidchar";
        let c = CMap::parse(data);
        assert_eq!(next_code(&c.codespace, b"A", 2), (0x41, 1));
        assert_eq!(next_code(&c.codespace, &[0x81, 0x41], 2), (0x8141, 2));
        assert_eq!(c.cid(0x8141), Some(634));
        assert_eq!(c.cid(0x41), Some(34));
        assert_eq!(c.cid(0x42), None);
    }

    #[test]
    fn garbage_does_not_panic() {
        for data in [
            &b"<<<>>>((((\\"[..],
            b"beginbfrange <00> [",
            b"begincodespacerange <0000000000> <00>",
            b"<0",
        ] {
            let _ = CMap::parse(data);
        }
    }
}
