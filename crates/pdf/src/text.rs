//! Text with positions: where a piece of text is drawn on a page, for anchor-based placement
//! of the signature stamp (`sahih sign --anchor TEXT`).
//!
//! The content stream of each page is interpreted just enough to position glyphs (graphics
//! state, text state, Form XObjects); each shown code becomes a [`Glyph`] with its Unicode text
//! (ToUnicode CMaps, simple-font encodings and glyph names) and its box in the page's default
//! user space. [`find_text`] then searches the page text with all whitespace removed.
//!
//! Everything here is best effort and tolerant: malformed objects, streams or operators are
//! skipped; nothing panics; work per page is bounded.

mod cmap;
mod encodings;
mod fonts;
mod interp;

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use interp::{Extractor, RawGlyph};

/// Where the searched text was found.
#[derive(Debug, Clone, PartialEq)]
pub struct TextHit {
    /// 0-based page index, in the order of [`lopdf::Document::get_pages`].
    pub page_index: usize,
    /// `[x0, y0, x1, y1]` in the page's default user space (PDF points, before /Rotate; the
    /// space of the MediaBox): the union of the boxes of the matched glyphs.
    pub rect: [f64; 4],
}

/// One shown glyph.
#[derive(Debug, Clone, PartialEq)]
pub struct Glyph {
    /// Unicode text of the glyph (empty when unknown; several characters for ligatures).
    pub text: String,
    /// `[x0, y0, x1, y1]` in the page's default user space.
    pub rect: [f64; 4],
}

/// Errors of text search.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
    /// The needle has no character left once whitespace is removed.
    #[error("the text to search for is empty (or only whitespace)")]
    EmptyNeedle,
    /// The document is still encrypted (it could not be opened with an empty password).
    #[error("the document is encrypted; its text cannot be read")]
    Encrypted,
    /// The object given as a page is not a dictionary.
    #[error("object {0} {1} R is not a page")]
    NotAPage(u32, u16),
    /// The document needs more work than allowed (tens of millions of content operators or
    /// gigabytes of decoded content) before the text is found.
    #[error("the document is too large or complex to search for text")]
    TooComplex,
}

/// First occurrence of `needle` in reading order: pages in order; within a page, content-stream
/// order first, then (when the text is not contiguous in the stream) geometric line order.
///
/// Matching is case-sensitive and ignores all whitespace (and zero-width characters) on both
/// sides; ligature characters (U+FB00..U+FB06) match their letters, typographic apostrophes,
/// quotes and hyphens match their ASCII forms, and a Latin letter followed by a combining
/// accent matches the precomposed letter. Occurrences entirely outside the page's crop box are
/// skipped. Returns the union box of the matched glyphs.
pub fn find_text(doc: &Document, needle: &str) -> Result<Option<TextHit>, TextError> {
    if doc.is_encrypted() {
        return Err(TextError::Encrypted);
    }
    let mut pattern = Vec::new();
    for c in needle.chars() {
        normalize_char(c, &mut |c| pattern.push(c));
    }
    let pattern = compose(pattern);
    if pattern.is_empty() {
        return Err(TextError::EmptyNeedle);
    }
    let mut ex = Extractor::new(doc);
    for (page_index, page_id) in doc.page_iter().enumerate() {
        let glyphs = ex.page(page_id);
        // Text outside the visible page area (crop box) is no anchor.
        let visible = doc
            .get_dictionary(page_id)
            .ok()
            .and_then(|page| visible_box(doc, page));
        let accept = |r: &[f64; 4]| {
            visible.is_none_or(|v| r[0] < v[2] && r[2] > v[0] && r[1] < v[3] && r[3] > v[1])
        };
        if let Some(rect) = search_page(&glyphs, &pattern, &accept) {
            return Ok(Some(TextHit { page_index, rect }));
        }
        if ex.exhausted {
            return Err(TextError::TooComplex);
        }
    }
    Ok(None)
}

/// All glyphs shown on a page (Form XObjects included), in content-stream order.
pub fn page_glyphs(doc: &Document, page_id: ObjectId) -> Result<Vec<Glyph>, TextError> {
    if doc.is_encrypted() {
        return Err(TextError::Encrypted);
    }
    if doc.get_dictionary(page_id).is_err() {
        return Err(TextError::NotAPage(page_id.0, page_id.1));
    }
    let mut ex = Extractor::new(doc);
    Ok(ex
        .page(page_id)
        .into_iter()
        .map(|g| Glyph {
            text: g.text,
            rect: g.rect,
        })
        .collect())
}

/// The page's CropBox (or MediaBox), inherited through the page tree, normalized.
fn visible_box(doc: &Document, page: &Dictionary) -> Option<[f64; 4]> {
    for key in [&b"CropBox"[..], b"MediaBox"] {
        let mut node = page;
        for _ in 0..64 {
            if let Some(Object::Array(a)) = dict_get(doc, node, key) {
                let v: Vec<f64> = a
                    .iter()
                    .filter_map(|o| resolve(doc, o))
                    .filter_map(num)
                    .collect();
                if let [x0, y0, x1, y1] = v.as_slice()
                    && x0 != x1
                    && y0 != y1
                {
                    return Some([x0.min(*x1), y0.min(*y1), x0.max(*x1), y0.max(*y1)]);
                }
                break;
            }
            match dict_get(doc, node, b"Parent").and_then(|p| p.as_dict().ok()) {
                Some(parent) => node = parent,
                None => break,
            }
        }
    }
    None
}

/// Search one page: stream order, then line order.
fn search_page(
    glyphs: &[RawGlyph],
    pattern: &[char],
    accept: &dyn Fn(&[f64; 4]) -> bool,
) -> Option<[f64; 4]> {
    let stream_order: Vec<usize> = (0..glyphs.len()).collect();
    if let Some(r) = search_in_order(glyphs, &stream_order, pattern, accept) {
        return Some(r);
    }
    let line_order = reading_order(glyphs);
    search_in_order(glyphs, &line_order, pattern, accept)
}

fn search_in_order(
    glyphs: &[RawGlyph],
    order: &[usize],
    pattern: &[char],
    accept: &dyn Fn(&[f64; 4]) -> bool,
) -> Option<[f64; 4]> {
    let mut hay: Vec<char> = Vec::with_capacity(order.len());
    let mut owner: Vec<usize> = Vec::with_capacity(order.len());
    let mut buf = Vec::new();
    for &gi in order {
        let Some(g) = glyphs.get(gi) else { continue };
        buf.clear();
        for c in g.text.chars() {
            normalize_char(c, &mut |c| buf.push(c));
        }
        for &c in &buf {
            // Combining marks merge into the previous character.
            if is_combining(c)
                && let Some(prev) = hay.last_mut()
                && let Some(composed) = compose_pair(*prev, c)
            {
                *prev = composed;
                continue;
            }
            hay.push(c);
            owner.push(gi);
        }
    }
    let first = *pattern.first()?;
    let n = pattern.len();
    let mut start = 0usize;
    while let Some(off) = hay
        .get(start..)
        .and_then(|h| h.iter().position(|c| *c == first))
    {
        let pos = start + off;
        if hay.get(pos..pos + n) == Some(pattern) {
            let mut rect = [
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ];
            let mut last = usize::MAX;
            for &gi in owner.get(pos..pos + n)? {
                if gi == last {
                    continue;
                }
                last = gi;
                let r = glyphs.get(gi)?.rect;
                rect[0] = rect[0].min(r[0]);
                rect[1] = rect[1].min(r[1]);
                rect[2] = rect[2].max(r[2]);
                rect[3] = rect[3].max(r[3]);
            }
            if rect.iter().all(|v| v.is_finite()) && accept(&rect) {
                return Some(rect);
            }
        }
        start = pos + 1;
    }
    None
}

/// Glyph indices in line order: grouped by writing direction, lines from top to bottom
/// (relative to the direction), glyphs along each line.
fn reading_order(glyphs: &[RawGlyph]) -> Vec<usize> {
    struct Key {
        idx: usize,
        quadrant: i32,
        across: f64,
        along: f64,
        size: f64,
    }
    let mut keys: Vec<Key> = glyphs
        .iter()
        .enumerate()
        .filter(|(_, g)| !g.text.is_empty())
        .map(|(idx, g)| {
            let (dx, dy) = g.dir;
            let angle = dy.atan2(dx);
            let quadrant = (angle / std::f64::consts::FRAC_PI_2).round() as i32;
            // Snap the direction to the quadrant so slightly skewed lines still group.
            let (sx, sy) = match quadrant.rem_euclid(4) {
                0 => (1.0, 0.0),
                1 => (0.0, 1.0),
                2 => (-1.0, 0.0),
                _ => (0.0, -1.0),
            };
            let (ox, oy) = g.origin;
            Key {
                idx,
                quadrant: quadrant.rem_euclid(4),
                across: -sy * ox + sx * oy,
                along: sx * ox + sy * oy,
                size: g.size,
            }
        })
        .collect();
    keys.sort_by(|a, b| {
        a.quadrant
            .cmp(&b.quadrant)
            .then(b.across.total_cmp(&a.across))
            .then(a.along.total_cmp(&b.along))
    });
    let mut out = Vec::with_capacity(keys.len());
    let mut line: Vec<&Key> = Vec::new();
    let flush = |line: &mut Vec<&Key>, out: &mut Vec<usize>| {
        line.sort_by(|a, b| a.along.total_cmp(&b.along));
        out.extend(line.iter().map(|k| k.idx));
        line.clear();
    };
    for k in &keys {
        if let Some(first) = line.first() {
            let tol = (first.size.min(k.size) * 0.5).max(0.5);
            if first.quadrant != k.quadrant || (first.across - k.across).abs() > tol {
                flush(&mut line, &mut out);
            }
        }
        line.push(k);
    }
    flush(&mut line, &mut out);
    out
}

/// Map one character for matching: drop whitespace and invisible characters, split ligatures.
fn normalize_char(c: char, out: &mut dyn FnMut(char)) {
    if c.is_whitespace() || c.is_control() {
        return;
    }
    match c {
        '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}' => {}
        '\u{FB00}' => "ff".chars().for_each(out),
        '\u{FB01}' => "fi".chars().for_each(out),
        '\u{FB02}' => "fl".chars().for_each(out),
        '\u{FB03}' => "ffi".chars().for_each(out),
        '\u{FB04}' => "ffl".chars().for_each(out),
        '\u{FB05}' | '\u{FB06}' => "st".chars().for_each(out),
        // Typographic apostrophes, quotes and hyphens match their ASCII forms.
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' => out('\''),
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => out('"'),
        '\u{2010}' | '\u{2011}' | '\u{2212}' => out('-'),
        _ => out(c),
    }
}

fn is_combining(c: char) -> bool {
    ('\u{0300}'..='\u{036F}').contains(&c)
}

/// Compose a Latin letter with a following combining mark (a small NFC subset).
fn compose_pair(base: char, mark: char) -> Option<char> {
    if !base.is_ascii_alphabetic() {
        return None;
    }
    let suffix = match mark {
        '\u{0300}' => "grave",
        '\u{0301}' => "acute",
        '\u{0302}' => "circumflex",
        '\u{0303}' => "tilde",
        '\u{0304}' => "macron",
        '\u{0306}' => "breve",
        '\u{0307}' => "dotaccent",
        '\u{0308}' => "dieresis",
        '\u{030A}' => "ring",
        '\u{030B}' => "hungarumlaut",
        '\u{030C}' => "caron",
        '\u{0327}' => "cedilla",
        '\u{0328}' => "ogonek",
        _ => return None,
    };
    let name = format!("{base}{suffix}");
    let s = encodings::glyph_name_to_unicode(name.as_bytes())?;
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// Apply [`compose_pair`] over a normalized sequence.
fn compose(chars: Vec<char>) -> Vec<char> {
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    for c in chars {
        if is_combining(c)
            && let Some(prev) = out.last_mut()
            && let Some(composed) = compose_pair(*prev, c)
        {
            *prev = composed;
            continue;
        }
        out.push(c);
    }
    out
}

// ---- small helpers over lopdf objects, shared by the submodules ----

/// Follow references (bounded by lopdf).
fn resolve<'a>(doc: &'a Document, obj: &'a Object) -> Option<&'a Object> {
    doc.dereference(obj).ok().map(|(_, o)| o)
}

fn dict_get<'a>(doc: &'a Document, d: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    d.get(key).ok().and_then(|o| resolve(doc, o))
}

fn get_dict<'a>(doc: &'a Document, d: &'a Dictionary, key: &[u8]) -> Option<&'a Dictionary> {
    match dict_get(doc, d, key)? {
        Object::Dictionary(d) => Some(d),
        _ => None,
    }
}

fn get_array<'a>(doc: &'a Document, d: &'a Dictionary, key: &[u8]) -> Option<&'a Vec<Object>> {
    match dict_get(doc, d, key)? {
        Object::Array(a) => Some(a),
        _ => None,
    }
}

fn get_name<'a>(doc: &'a Document, d: &'a Dictionary, key: &[u8]) -> Option<&'a [u8]> {
    dict_get(doc, d, key).and_then(as_name)
}

fn as_name(obj: &Object) -> Option<&[u8]> {
    match obj {
        Object::Name(n) => Some(n.as_slice()),
        _ => None,
    }
}

/// A finite number.
fn num(obj: &Object) -> Option<f64> {
    let v = match obj {
        Object::Integer(i) => *i as f64,
        Object::Real(r) => f64::from(*r),
        _ => return None,
    };
    v.is_finite().then_some(v)
}

/// Decoded stream data, at most `limit` bytes; `None` when the filters fail.
fn stream_data(s: &Stream, limit: usize) -> Option<Vec<u8>> {
    s.decompressed_content_with_limit(limit).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalization() {
        let mut v = Vec::new();
        for c in "Kepala\u{00A0}Di\u{FB01} \u{200B}x".chars() {
            normalize_char(c, &mut |c| v.push(c));
        }
        assert_eq!(v.iter().collect::<String>(), "KepalaDifix");
        assert_eq!(compose(vec!['e', '\u{301}']), vec!['\u{e9}']);
    }
}
