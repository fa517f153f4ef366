//! Font dictionaries reduced to what text extraction needs: how to split a string into codes,
//! the Unicode text and advance width of each code, and the vertical extent of glyphs.

use lopdf::{Dictionary, Document, Object};

use super::cmap::{CMap, CodeRange, next_code, utf16be_to_string};
use super::encodings::{
    BaseEncoding, STANDARD, StdFamily, base_encoding_by_name, glyph_name_to_unicode, is_standard_14,
};
use super::{dict_get, get_array, get_dict, get_name, num, resolve, stream_data};

/// Limit on the decoded size of a ToUnicode CMap, an encoding CMap or a font program we read.
const FONT_STREAM_LIMIT: usize = 16 << 20;
/// Limit on /W array entries taken from a CID font.
const MAX_W_ENTRIES: usize = 1 << 20;

#[derive(Debug)]
pub(crate) struct Font {
    composite: bool,
    /// Codespace ranges of a composite font (empty: fixed `code_len`).
    codespace: Vec<CodeRange>,
    code_len: usize,
    /// Code -> CID for composite fonts with an embedded encoding CMap.
    encoding_cmap: Option<CMap>,
    /// Composite font with a predefined UCS-2 / UTF-16 CMap: codes are Unicode.
    unicode_codes: bool,
    to_unicode: Option<CMap>,
    /// ToUnicode is /Identity-H: two-byte codes are UCS-2.
    identity_to_unicode: bool,
    /// Simple fonts: text from the encoding (base + Differences), per code.
    simple_text: Vec<Option<Box<str>>>,
    /// Simple fonts: advance widths in glyph space, per code.
    simple_widths: Vec<f64>,
    /// Composite fonts: (first CID, last CID, width) in glyph space, sorted by first CID.
    cid_widths: Vec<(u32, u32, f64)>,
    dw: f64,
    /// Glyph space -> text space.
    pub(crate) matrix: [f64; 6],
    /// Ascent and descent in glyph space.
    pub(crate) ascent: f64,
    pub(crate) descent: f64,
    pub(crate) vertical: bool,
    /// Vertical fonts: (position vector y, vertical displacement) in glyph space.
    pub(crate) dw2: (f64, f64),
}

/// One code taken from a shown string.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Code {
    pub(crate) code: u32,
    pub(crate) len: usize,
}

impl Font {
    /// Split `bytes` into character codes.
    pub(crate) fn codes(&self, bytes: &[u8], out: &mut Vec<Code>) {
        out.clear();
        if !self.composite {
            out.extend(bytes.iter().map(|b| Code {
                code: u32::from(*b),
                len: 1,
            }));
            return;
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let (code, len) = next_code(&self.codespace, rest, self.code_len);
            let len = len.max(1);
            out.push(Code { code, len });
            rest = rest.get(len..).unwrap_or(&[]);
        }
    }

    /// Unicode text of a code, if known.
    pub(crate) fn text(&self, code: Code) -> Option<String> {
        if let Some(tu) = &self.to_unicode
            && let Some(s) = tu.unicode(code.code)
        {
            return Some(s);
        }
        if self.composite {
            if self.identity_to_unicode || self.unicode_codes {
                let bytes = code.code.to_be_bytes();
                let start = 4usize.saturating_sub(code.len.max(2));
                return Some(utf16be_to_string(bytes.get(start..).unwrap_or(&[])));
            }
            return None;
        }
        self.simple_text
            .get(code.code as usize)
            .and_then(|t| t.as_deref())
            .map(str::to_string)
    }

    /// Horizontal advance of a code, in glyph space.
    pub(crate) fn width(&self, code: Code) -> f64 {
        if !self.composite {
            return self
                .simple_widths
                .get(code.code as usize)
                .copied()
                .unwrap_or(0.0);
        }
        let cid = match &self.encoding_cmap {
            Some(cm) if cm.has_cids() => cm.cid(code.code).unwrap_or(0),
            _ => code.code,
        };
        let idx = self.cid_widths.partition_point(|r| r.0 <= cid);
        if let Some(r) = idx.checked_sub(1).and_then(|i| self.cid_widths.get(i))
            && cid <= r.1
        {
            return r.2;
        }
        self.dw
    }

    /// True when word spacing applies to this code (single-byte code 32).
    pub(crate) fn is_word_space(&self, code: Code) -> bool {
        code.code == 32 && code.len == 1
    }

    /// Load a font dictionary. Never fails: missing parts fall back to defaults.
    pub(crate) fn load(doc: &Document, dict: &Dictionary) -> Font {
        let subtype = get_name(doc, dict, b"Subtype").unwrap_or(b"Type1");
        if subtype == b"Type0" {
            load_composite(doc, dict)
        } else {
            load_simple(doc, dict, subtype == b"Type3")
        }
    }
}

fn load_to_unicode(doc: &Document, dict: &Dictionary) -> (Option<CMap>, bool) {
    match dict_get(doc, dict, b"ToUnicode") {
        Some(Object::Stream(s)) => {
            let Some(data) = stream_data(s, FONT_STREAM_LIMIT) else {
                return (None, false);
            };
            let mut cmap = CMap::parse(&data);
            // A ToUnicode CMap may build on another one.
            if let Some(Object::Stream(parent)) = dict_get(doc, &s.dict, b"UseCMap")
                && let Some(pdata) = stream_data(parent, FONT_STREAM_LIMIT)
            {
                cmap.inherit(&CMap::parse(&pdata));
            }
            if cmap.has_unicode() {
                (Some(cmap), false)
            } else {
                (None, false)
            }
        }
        Some(Object::Name(n)) if n.starts_with(b"Identity") => (None, true),
        _ => (None, false),
    }
}

fn font_descriptor<'a>(doc: &'a Document, dict: &'a Dictionary) -> Option<&'a Dictionary> {
    get_dict(doc, dict, b"FontDescriptor")
}

/// Ascent and descent (glyph space, 1000 units per em) from a font descriptor, if plausible.
fn descriptor_metrics(doc: &Document, fd: Option<&Dictionary>) -> (Option<f64>, Option<f64>) {
    let Some(fd) = fd else { return (None, None) };
    let asc = dict_get(doc, fd, b"Ascent")
        .and_then(num)
        .filter(|a| *a > 0.0 && *a < 3000.0)
        .map(|a| a.min(1500.0));
    let desc = dict_get(doc, fd, b"Descent")
        .and_then(num)
        .map(|d| if d > 0.0 { -d } else { d })
        .filter(|d| *d < 0.0 && *d > -3000.0)
        .map(|d| d.max(-600.0));
    (asc, desc)
}

fn base_font_name<'a>(doc: &'a Document, dict: &'a Dictionary) -> &'a [u8] {
    get_name(doc, dict, b"BaseFont").unwrap_or(b"")
}

fn strip_subset(name: &[u8]) -> &[u8] {
    match name.get(6) {
        Some(b'+')
            if name
                .get(..6)
                .is_some_and(|p| p.iter().all(u8::is_ascii_uppercase)) =>
        {
            name.get(7..).unwrap_or(name)
        }
        _ => name,
    }
}

fn load_simple(doc: &Document, dict: &Dictionary, type3: bool) -> Font {
    let base_font = base_font_name(doc, dict);
    let family = StdFamily::from_base_font(base_font);
    let fd = font_descriptor(doc, dict);

    // Encoding: base table, then Differences.
    let mut text: Vec<Option<Box<str>>> = vec![None; 256];
    let fill_base = |text: &mut Vec<Option<Box<str>>>, base: &BaseEncoding| {
        for (slot, cp) in text.iter_mut().zip(base.iter()) {
            *slot = (*cp != 0)
                .then(|| char::from_u32(u32::from(*cp)))
                .flatten()
                .map(|c| c.to_string().into_boxed_str());
        }
    };
    let builtin = || -> Option<Vec<Option<Box<str>>>> {
        if type3 {
            return None;
        }
        let ff = fd.and_then(|fd| dict_get(doc, fd, b"FontFile"))?;
        let Object::Stream(s) = ff else { return None };
        type1_builtin_encoding(s)
    };
    let enc = dict_get(doc, dict, b"Encoding");
    let (base_name, differences) = match enc {
        Some(Object::Name(n)) => (Some(n.as_slice()), None),
        Some(Object::Dictionary(d)) => (
            get_name(doc, d, b"BaseEncoding"),
            get_array(doc, d, b"Differences"),
        ),
        _ => (None, None),
    };
    match base_name.and_then(base_encoding_by_name) {
        Some(base) => fill_base(&mut text, base),
        None => match builtin() {
            Some(b) => text = b,
            None => {
                let stripped = strip_subset(base_font);
                if stripped != b"Symbol" && stripped != b"ZapfDingbats" {
                    fill_base(&mut text, &STANDARD);
                }
            }
        },
    }
    if let Some(diffs) = differences {
        let mut code: i64 = 0;
        for item in diffs {
            match resolve(doc, item) {
                Some(Object::Integer(i)) => code = *i,
                Some(Object::Real(r)) => code = *r as i64,
                Some(Object::Name(n)) => {
                    if let Some(slot) = usize::try_from(code).ok().and_then(|c| text.get_mut(c)) {
                        *slot = glyph_name_to_unicode(n).map(String::into_boxed_str);
                    }
                    code = code.saturating_add(1);
                }
                _ => {}
            }
        }
    }

    let (to_unicode, identity_to_unicode) = load_to_unicode(doc, dict);

    // Font matrix (Type 3) and widths.
    let matrix = if type3 {
        get_array(doc, dict, b"FontMatrix")
            .and_then(|a| matrix_from(doc, a))
            .filter(|m| m[0].abs() > 1e-12 || m[1].abs() > 1e-12)
            .unwrap_or([0.001, 0.0, 0.0, 0.001, 0.0, 0.0])
    } else {
        [0.001, 0.0, 0.0, 0.001, 0.0, 0.0]
    };
    let first_char = dict_get(doc, dict, b"FirstChar")
        .and_then(num)
        .unwrap_or(0.0);
    let missing = fd
        .and_then(|fd| dict_get(doc, fd, b"MissingWidth"))
        .and_then(num)
        .unwrap_or(0.0);
    let widths_arr = get_array(doc, dict, b"Widths");
    let mut widths = vec![0.0f64; 256];
    for (code, w) in widths.iter_mut().enumerate() {
        *w = match widths_arr {
            Some(arr) => {
                let idx = code as f64 - first_char;
                if idx >= 0.0 && idx < arr.len() as f64 {
                    arr.get(idx as usize)
                        .and_then(|o| resolve(doc, o))
                        .and_then(num)
                        .unwrap_or(missing)
                } else {
                    missing
                }
            }
            None if type3 => 0.0,
            None => {
                let t = to_unicode
                    .as_ref()
                    .and_then(|tu| tu.unicode(code as u32))
                    .or_else(|| {
                        text.get(code)
                            .and_then(|t| t.as_deref())
                            .map(str::to_string)
                    });
                family.width(t.as_deref())
            }
        };
    }

    let (asc, desc) = if type3 {
        type3_extent(doc, dict, &matrix)
    } else {
        let (a, d) = descriptor_metrics(doc, fd);
        let (sa, sd) = if is_standard_14(strip_subset(base_font)) {
            family.ascent_descent()
        } else {
            (800.0, -200.0)
        };
        (a.unwrap_or(sa), d.unwrap_or(sd))
    };

    Font {
        composite: false,
        codespace: Vec::new(),
        code_len: 1,
        encoding_cmap: None,
        unicode_codes: false,
        to_unicode,
        identity_to_unicode,
        simple_text: text,
        simple_widths: widths,
        cid_widths: Vec::new(),
        dw: 0.0,
        matrix,
        ascent: asc,
        descent: desc,
        vertical: false,
        dw2: (880.0, -1000.0),
    }
}

fn type3_extent(doc: &Document, dict: &Dictionary, m: &[f64; 6]) -> (f64, f64) {
    let d = if m[3].abs() > 1e-12 { m[3] } else { 0.001 };
    let default = (0.8 / d, -0.2 / d);
    let Some(bbox) = get_array(doc, dict, b"FontBBox") else {
        return default;
    };
    let v: Vec<f64> = bbox
        .iter()
        .filter_map(|o| resolve(doc, o))
        .filter_map(num)
        .collect();
    match v.as_slice() {
        [_, lly, _, ury] if ury > lly && (ury - lly) * d.abs() < 3.0 => {
            let (a, b) = if d > 0.0 { (*ury, *lly) } else { (*lly, *ury) };
            // An all-zero or degenerate box says nothing.
            if (a - b).abs() * d.abs() < 0.05 {
                default
            } else {
                (a, b.min(0.0))
            }
        }
        _ => default,
    }
}

fn matrix_from(doc: &Document, arr: &[Object]) -> Option<[f64; 6]> {
    let v: Vec<f64> = arr
        .iter()
        .filter_map(|o| resolve(doc, o))
        .filter_map(num)
        .collect();
    let m: [f64; 6] = v.as_slice().try_into().ok()?;
    m.iter().all(|x| x.is_finite()).then_some(m)
}

fn load_composite(doc: &Document, dict: &Dictionary) -> Font {
    let (to_unicode, identity_to_unicode) = load_to_unicode(doc, dict);

    let mut codespace: Vec<CodeRange> = Vec::new();
    let mut encoding_cmap = None;
    let mut unicode_codes = false;
    let mut vertical = false;
    match dict_get(doc, dict, b"Encoding") {
        Some(Object::Name(n)) => {
            vertical = n.ends_with(b"-V");
            if n.starts_with(b"Identity") {
                codespace.push(CodeRange {
                    len: 2,
                    lo: [0, 0, 0, 0],
                    hi: [0xFF, 0xFF, 0, 0],
                });
            } else if contains(n, b"UCS2") || contains(n, b"UTF16") {
                unicode_codes = true;
                codespace.push(CodeRange {
                    len: 2,
                    lo: [0, 0, 0, 0],
                    hi: [0xFF, 0xFF, 0, 0],
                });
            }
        }
        Some(Object::Stream(s)) => {
            if let Some(data) = stream_data(s, FONT_STREAM_LIMIT) {
                let mut cm = CMap::parse(&data);
                if let Some(Object::Stream(parent)) = dict_get(doc, &s.dict, b"UseCMap")
                    && let Some(pdata) = stream_data(parent, FONT_STREAM_LIMIT)
                {
                    cm.inherit(&CMap::parse(&pdata));
                }
                if let Some(Object::Integer(1)) = dict_get(doc, &s.dict, b"WMode") {
                    cm.vertical = true;
                }
                vertical = cm.vertical;
                codespace = cm.codespace.clone();
                encoding_cmap = Some(cm);
            }
        }
        _ => {}
    }
    if codespace.is_empty()
        && let Some(tu) = &to_unicode
    {
        codespace = tu.codespace.clone();
    }

    let cid_font = get_array(doc, dict, b"DescendantFonts")
        .and_then(|a| a.first())
        .and_then(|o| resolve(doc, o))
        .and_then(|o| o.as_dict().ok());

    let mut cid_widths = Vec::new();
    let mut dw = 1000.0;
    let mut dw2 = (880.0, -1000.0);
    let mut fd = None;
    if let Some(cf) = cid_font {
        fd = font_descriptor(doc, cf);
        if let Some(v) = dict_get(doc, cf, b"DW").and_then(num) {
            dw = v;
        }
        if let Some(w) = get_array(doc, cf, b"W") {
            cid_widths = parse_w(doc, w);
        }
        if let Some(d) = get_array(doc, cf, b"DW2") {
            let v: Vec<f64> = d
                .iter()
                .filter_map(|o| resolve(doc, o))
                .filter_map(num)
                .collect();
            if let [vy, w1] = v.as_slice() {
                dw2 = (*vy, *w1);
            }
        }
    }
    let fd = fd.or_else(|| font_descriptor(doc, dict));
    let (asc, desc) = descriptor_metrics(doc, fd);

    Font {
        composite: true,
        codespace,
        code_len: 2,
        encoding_cmap,
        unicode_codes,
        to_unicode,
        identity_to_unicode,
        simple_text: Vec::new(),
        simple_widths: Vec::new(),
        cid_widths,
        dw,
        matrix: [0.001, 0.0, 0.0, 0.001, 0.0, 0.0],
        ascent: asc.unwrap_or(800.0),
        descent: desc.unwrap_or(-200.0),
        vertical,
        dw2,
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Parse a CIDFont /W array: `c [w1 w2 ...]` and `c_first c_last w` entries.
fn parse_w(doc: &Document, w: &[Object]) -> Vec<(u32, u32, f64)> {
    let mut out = Vec::new();
    let mut items = w.iter().filter_map(|o| resolve(doc, o)).peekable();
    let to_cid =
        |v: f64| -> Option<u32> { (v >= 0.0 && v <= f64::from(u32::MAX)).then_some(v as u32) };
    while let Some(first) = items.next() {
        if out.len() >= MAX_W_ENTRIES {
            break;
        }
        let Some(c) = num(first).and_then(to_cid) else {
            continue;
        };
        match items.next() {
            Some(Object::Array(ws)) => {
                let mut cid = c;
                for wo in ws.iter().take(MAX_W_ENTRIES) {
                    if let Some(wv) = resolve(doc, wo).and_then(num) {
                        out.push((cid, cid, wv));
                    }
                    cid = cid.saturating_add(1);
                }
            }
            Some(last) => {
                let Some(last) = num(last).and_then(to_cid) else {
                    continue;
                };
                let Some(wv) = items.next().and_then(num) else {
                    continue;
                };
                if last >= c {
                    out.push((c, last, wv));
                }
            }
            None => break,
        }
    }
    out.sort_by_key(|r| r.0);
    out
}

/// Read the built-in encoding of an embedded Type 1 font program (its clear-text part).
fn type1_builtin_encoding(s: &lopdf::Stream) -> Option<Vec<Option<Box<str>>>> {
    let data = stream_data(s, FONT_STREAM_LIMIT)?;
    let clear_len = s
        .dict
        .get(b"Length1")
        .ok()
        .and_then(num)
        .filter(|l| *l > 0.0)
        .map_or(data.len(), |l| (l as usize).min(data.len()));
    let clear = data.get(..clear_len)?;
    let start = find(clear, b"/Encoding")?;
    let rest = clear.get(start + 9..)?;
    let end = find(rest, b"eexec").unwrap_or(rest.len());
    let rest = rest.get(..end)?;
    let words: Vec<&[u8]> = rest
        .split(|b| b.is_ascii_whitespace())
        .flat_map(split_names)
        .filter(|w| !w.is_empty())
        .collect();
    if words.first() == Some(&&b"StandardEncoding"[..]) {
        return None;
    }
    let mut out: Vec<Option<Box<str>>> = vec![None; 256];
    let mut found = false;
    let mut i = 0usize;
    while let Some(w) = words.get(i) {
        if *w == b"def" || *w == b"readonly" {
            break;
        }
        if *w == b"dup"
            && let (Some(code), Some(name)) = (words.get(i + 1), words.get(i + 2))
            && let Some(code) = std::str::from_utf8(code)
                .ok()
                .and_then(|c| c.parse::<usize>().ok())
            && let Some(name) = name.strip_prefix(b"/")
        {
            if let Some(slot) = out.get_mut(code) {
                *slot = glyph_name_to_unicode(name).map(String::into_boxed_str);
                found = true;
            }
            i += 3;
            continue;
        }
        i += 1;
    }
    found.then_some(out)
}

/// "32/space" -> ["32", "/space"].
fn split_names(word: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut start = 0usize;
    for (i, b) in word.iter().enumerate() {
        if *b == b'/' && i > start {
            parts.push(word.get(start..i).unwrap_or(&[]));
            start = i;
        }
    }
    parts.push(word.get(start..).unwrap_or(&[]));
    parts
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
