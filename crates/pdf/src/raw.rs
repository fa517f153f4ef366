//! Editing objects as written: an incremental update that changes a dictionary (a page's
//! /Annots, the catalog's /AcroForm or /DSS) keeps every other byte of its original text.
//!
//! Why: lopdf holds reals as f32, so re-serialising a parsed page turns a LibreOffice
//! `/MediaBox [0 0 595.303937007874 841.889763779528]` into `595.304`, and validators of an
//! EARLIER signature then rightly see the page as modified.

use lopdf::xref::XrefEntry;
use lopdf::{Document, Object, ObjectId};

fn is_white(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\0')
}

fn is_delim(b: u8) -> bool {
    matches!(
        b,
        b'(' | b')' | b'<' | b'>' | b'[' | b']' | b'{' | b'}' | b'/' | b'%'
    )
}

/// Skips whitespace and comments.
pub(crate) fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while i < s.len() {
        if is_white(s[i]) {
            i += 1;
        } else if s[i] == b'%' {
            while i < s.len() && s[i] != b'\n' && s[i] != b'\r' {
                i += 1;
            }
        } else {
            break;
        }
    }
    i
}

pub(crate) fn skip_regular(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && !is_white(s[i]) && !is_delim(s[i]) {
        i += 1;
    }
    i
}

/// Skips one token or composite value starting at `i` (after whitespace); returns its end.
pub(crate) fn skip_value(s: &[u8], i: usize, depth: usize) -> Option<usize> {
    if depth > 64 {
        return None;
    }
    let i = skip_ws(s, i);
    match *s.get(i)? {
        b'(' => {
            let mut nest = 0usize;
            let mut j = i;
            while j < s.len() {
                match s[j] {
                    b'\\' => j += 1,
                    b'(' => nest += 1,
                    b')' => {
                        nest -= 1;
                        if nest == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        b'<' if s.get(i + 1) == Some(&b'<') => {
            let mut j = i + 2;
            loop {
                j = skip_ws(s, j);
                if s.get(j..j + 2) == Some(b">>".as_slice()) {
                    return Some(j + 2);
                }
                j = skip_value(s, j, depth + 1)?;
            }
        }
        b'<' => {
            let end = s.get(i..)?.iter().position(|&b| b == b'>')?;
            Some(i + end + 1)
        }
        b'[' => {
            let mut j = i + 1;
            loop {
                j = skip_ws(s, j);
                if s.get(j) == Some(&b']') {
                    return Some(j + 1);
                }
                j = skip_value(s, j, depth + 1)?;
            }
        }
        b'/' => Some(skip_regular(s, i + 1)),
        b')' | b'>' | b']' | b'{' | b'}' => None,
        _ => {
            // A number, keyword, or the "N G R" reference form.
            let end = skip_regular(s, i);
            if end == i {
                return None;
            }
            let is_uint = |a: usize, b: usize| b > a && s[a..b].iter().all(u8::is_ascii_digit);
            if is_uint(i, end) {
                let g0 = skip_ws(s, end);
                let g1 = skip_regular(s, g0);
                if is_uint(g0, g1) {
                    let r0 = skip_ws(s, g1);
                    if s.get(r0) == Some(&b'R')
                        && s.get(r0 + 1).is_none_or(|b| is_white(*b) || is_delim(*b))
                    {
                        return Some(r0 + 1);
                    }
                }
            }
            Some(end)
        }
    }
}

/// A top-level dictionary entry: key without '/', and the value's start and end offsets.
type Entry = (Vec<u8>, usize, usize);

/// Top-level entries of a dictionary text `<< ... >>`: (start, entries, offset of `>>`).
fn dict_entries(s: &[u8]) -> Option<(usize, Vec<Entry>, usize)> {
    let start = skip_ws(s, 0);
    if s.get(start..start + 2) != Some(b"<<".as_slice()) {
        return None;
    }
    let mut out = Vec::new();
    let mut j = start + 2;
    loop {
        j = skip_ws(s, j);
        if s.get(j..j + 2) == Some(b">>".as_slice()) {
            return Some((start, out, j));
        }
        if s.get(j) != Some(&b'/') {
            return None;
        }
        let key_end = skip_regular(s, j + 1);
        let key = s.get(j + 1..key_end)?.to_vec();
        let v0 = skip_ws(s, key_end);
        let v1 = skip_value(s, v0, 0)?;
        out.push((key, v0, v1));
        j = v1;
    }
}

/// Decodes a name's #xx escapes for comparison.
fn name_bytes(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'#'
            && let Some(v) = raw
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(raw[i]);
        i += 1;
    }
    out
}

/// Sets `entries` (key, value text) in the dictionary text, replacing existing top-level keys and
/// appending missing ones before the closing `>>`. Everything else stays byte for byte.
pub fn set_dict_entries(dict: &[u8], entries: &[(&[u8], Vec<u8>)]) -> Option<Vec<u8>> {
    let (_, existing, close) = dict_entries(dict)?;
    let end = skip_ws(dict, close + 2);
    if end != dict.len() {
        return None; // trailing bytes: not a plain dictionary (e.g. a stream)
    }
    let mut replacements: Vec<(usize, usize, Vec<u8>)> = Vec::new();
    let mut appended = Vec::new();
    for (key, value) in entries {
        match existing.iter().find(|(k, _, _)| name_bytes(k) == *key) {
            Some((_, v0, v1)) => replacements.push((*v0, *v1, value.clone())),
            None => {
                appended.push(b'/');
                appended.extend_from_slice(key);
                appended.push(b' ');
                appended.extend_from_slice(value);
            }
        }
    }
    replacements.sort_by_key(|r| r.0);
    let mut out = Vec::with_capacity(dict.len() + appended.len() + 64);
    let mut pos = 0;
    for (v0, v1, value) in replacements {
        out.extend_from_slice(dict.get(pos..v0)?);
        out.extend_from_slice(&value);
        pos = v1;
    }
    out.extend_from_slice(dict.get(pos..close)?);
    if !appended.is_empty() {
        if out.last().is_some_and(|b| !is_white(*b)) {
            out.push(b' ');
        }
        out.extend_from_slice(&appended);
    }
    out.extend_from_slice(dict.get(close..)?);
    Some(out)
}

/// The text of value `key` in a dictionary text, if present.
pub fn dict_value<'a>(dict: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let (_, existing, _) = dict_entries(dict)?;
    existing
        .iter()
        .find(|(k, _, _)| name_bytes(k) == key)
        .and_then(|(_, v0, v1)| dict.get(*v0..*v1))
}

/// Appends `items` (already serialised) inside an array text `[ ... ]`.
pub fn append_to_array(array: &[u8], items: &[u8]) -> Option<Vec<u8>> {
    let start = skip_ws(array, 0);
    if array.get(start) != Some(&b'[') {
        return None;
    }
    let end = skip_value(array, start, 0)?;
    if skip_ws(array, end) != array.len() {
        return None;
    }
    let close = end - 1;
    let mut out = Vec::with_capacity(array.len() + items.len() + 1);
    out.extend_from_slice(array.get(..close)?);
    if out.last().is_some_and(|b| !is_white(*b) && *b != b'[') {
        out.push(b' ');
    }
    out.extend_from_slice(items);
    out.extend_from_slice(array.get(close..)?);
    Some(out)
}

/// The value text of indirect object `id` as written in `bytes` (uncompressed objects, or
/// objects inside an object stream), without the `N G obj` / `endobj` wrapper.
pub fn object_text(bytes: &[u8], doc: &Document, id: ObjectId) -> Option<Vec<u8>> {
    match doc.reference_table.get(id.0)? {
        XrefEntry::Normal { offset, generation } if *generation == id.1 => {
            let at = usize::try_from(*offset).ok()?;
            let s = bytes.get(at..)?;
            // "N G obj"
            let mut i = skip_ws(s, 0);
            let n_end = skip_regular(s, i);
            if s.get(i..n_end)? != id.0.to_string().as_bytes() {
                return None;
            }
            i = skip_ws(s, n_end);
            let g_end = skip_regular(s, i);
            i = skip_ws(s, g_end);
            if s.get(i..i + 3)? != b"obj" {
                return None;
            }
            let v0 = skip_ws(s, i + 3);
            let v1 = skip_value(s, v0, 0)?;
            // Must be followed by endobj (not a stream).
            let after = skip_ws(s, v1);
            if s.get(after..after + 6)? != b"endobj" {
                return None;
            }
            Some(s.get(v0..v1)?.to_vec())
        }
        XrefEntry::Compressed { container, index } => {
            let stream = doc.get_object((*container, 0)).ok()?.as_stream().ok()?;
            let data = stream.decompressed_content().ok()?;
            let n = stream.dict.get(b"N").ok()?.as_i64().ok()?;
            let first = usize::try_from(stream.dict.get(b"First").ok()?.as_i64().ok()?).ok()?;
            let header = data.get(..first)?;
            let nums: Vec<usize> = std::str::from_utf8(header)
                .ok()?
                .split_ascii_whitespace()
                .map(|t| t.parse().ok())
                .collect::<Option<Vec<_>>>()?;
            if nums.len() < usize::try_from(n).ok()? * 2 {
                return None;
            }
            let idx = usize::from(*index);
            if *nums.get(idx * 2)? != id.0 as usize {
                return None;
            }
            let start = first + *nums.get(idx * 2 + 1)?;
            let v0 = skip_ws(&data, start);
            let v1 = skip_value(&data, v0, 0)?;
            Some(data.get(v0..v1)?.to_vec())
        }
        _ => None,
    }
}

/// Serialises a small object (used for new values inside raw edits).
pub fn to_text(obj: &Object) -> Vec<u8> {
    let mut out = Vec::new();
    crate::serialize::write_object(&mut out, obj);
    out
}

/// Rewrites the text `old_text` of a value parsed as `old` so that it says `new`, touching only
/// what differs: arrays that grew get the new items appended, nested dictionaries are edited
/// recursively, other changed or added keys get `new`'s serialisation.
pub fn edit_value_text(
    old_text: &[u8],
    old: &Object,
    new: &Object,
    depth: usize,
) -> Option<Vec<u8>> {
    if depth > 16 {
        return None;
    }
    match (old, new) {
        (Object::Array(o), Object::Array(n))
            if n.len() > o.len() && n.get(..o.len()) == Some(o.as_slice()) =>
        {
            let mut items = Vec::new();
            for (i, item) in n.get(o.len()..)?.iter().enumerate() {
                if i > 0 {
                    items.push(b' ');
                }
                items.extend_from_slice(&to_text(item));
            }
            append_to_array(old_text, &items)
        }
        (Object::Dictionary(o), Object::Dictionary(n)) => {
            if o.iter().any(|(k, _)| n.get(k).is_err()) {
                return None; // removals are not something we do; fall back
            }
            let mut entries: Vec<(&[u8], Vec<u8>)> = Vec::new();
            for (k, nv) in n.iter() {
                match o.get(k) {
                    Ok(ov) if ov == nv => {}
                    Ok(ov) => {
                        let text = dict_value(old_text, k)
                            .and_then(|t| edit_value_text(t, ov, nv, depth + 1))
                            .unwrap_or_else(|| to_text(nv));
                        entries.push((k.as_slice(), text));
                    }
                    Err(_) => entries.push((k.as_slice(), to_text(nv))),
                }
            }
            set_dict_entries(old_text, &entries)
        }
        _ if old == new => Some(old_text.to_vec()),
        _ => None,
    }
}

/// The new text for existing object `id` (now `new`), edited from its original text when
/// possible; None when the original text cannot be located or edited (callers then serialise).
pub fn edited_object_text(
    bytes: &[u8],
    doc: &Document,
    id: ObjectId,
    new: &Object,
) -> Option<Vec<u8>> {
    let old = doc.get_object(id).ok()?;
    let text = object_text(bytes, doc, id)?;
    edit_value_text(&text, old, new, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_precision_and_order() {
        let page = b"<< /Type /Page /MediaBox [0 0 595.303937007874 841.889763779528] /Contents 5 0 R /Annots [7 0 R] >>";
        let edited = set_dict_entries(page, &[(b"Annots", b"[7 0 R 9 0 R]".to_vec())]).unwrap();
        assert_eq!(
            edited,
            b"<< /Type /Page /MediaBox [0 0 595.303937007874 841.889763779528] /Contents 5 0 R /Annots [7 0 R 9 0 R] >>".to_vec()
        );
        let added = set_dict_entries(
            b"<</Type/Page/Parent 2 0 R>>",
            &[(b"Annots", b"[9 0 R]".to_vec())],
        )
        .unwrap();
        assert_eq!(
            added,
            b"<</Type/Page/Parent 2 0 R /Annots [9 0 R]>>".to_vec()
        );
    }

    #[test]
    fn strings_comments_and_nesting() {
        let d = b"<< /A (x >> y \\) ) /B <</C [1 (]) <AB>]>> % comment >>\n /D 1 0 R >>";
        assert_eq!(dict_value(d, b"D"), Some(b"1 0 R".as_slice()));
        assert_eq!(dict_value(d, b"A"), Some(b"(x >> y \\) )".as_slice()));
        let e = set_dict_entries(d, &[(b"B", b"null".to_vec())]).unwrap();
        assert_eq!(dict_value(&e, b"D"), Some(b"1 0 R".as_slice()));
    }

    #[test]
    fn edits_nested_dictionaries_by_difference() {
        use lopdf::Dictionary;
        let text = b"<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[4 0 R]/DA(/Helv 0 Tf)/Q 0.333333333>>/OpenAction[3 0 R/XYZ 0 841.889763779528 0]>>";
        let mut af = Dictionary::new();
        af.set("Fields", Object::Array(vec![Object::Reference((4, 0))]));
        af.set("DA", Object::string_literal("/Helv 0 Tf"));
        af.set("Q", Object::Real(0.333_333_33));
        let mut old = Dictionary::new();
        old.set("Type", Object::Name(b"Catalog".to_vec()));
        old.set("Pages", Object::Reference((2, 0)));
        old.set("AcroForm", Object::Dictionary(af.clone()));
        old.set(
            "OpenAction",
            Object::Array(vec![
                Object::Reference((3, 0)),
                Object::Name(b"XYZ".to_vec()),
                Object::Integer(0),
                Object::Real(841.889_8),
                Object::Integer(0),
            ]),
        );
        let mut new = old.clone();
        let mut af2 = af.clone();
        af2.set(
            "Fields",
            Object::Array(vec![Object::Reference((4, 0)), Object::Reference((9, 0))]),
        );
        af2.set("SigFlags", Object::Integer(3));
        new.set("AcroForm", Object::Dictionary(af2));
        let edited =
            edit_value_text(text, &Object::Dictionary(old), &Object::Dictionary(new), 0).unwrap();
        assert_eq!(
            String::from_utf8(edited).unwrap(),
            "<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[4 0 R 9 0 R]/DA(/Helv 0 Tf)/Q 0.333333333 /SigFlags 3>>/OpenAction[3 0 R/XYZ 0 841.889763779528 0]>>"
        );
    }

    #[test]
    fn arrays_and_bad_input() {
        assert_eq!(
            append_to_array(b"[1 0 R]", b"2 0 R").unwrap(),
            b"[1 0 R 2 0 R]".to_vec()
        );
        assert_eq!(
            append_to_array(b"[]", b"2 0 R").unwrap(),
            b"[2 0 R]".to_vec()
        );
        assert!(set_dict_entries(b"<< /A ", &[]).is_none());
        assert!(set_dict_entries(b"[1 2]", &[]).is_none());
        assert!(append_to_array(b"[1 (2]", b"3").is_none());
        assert_eq!(dict_value(b"<</Na#6De 1>>", b"Name"), Some(b"1".as_slice()));
    }
}
