//! The revision structure as a reader resolves it: the chain of cross-reference sections from
//! the last `startxref` back through `/Prev`, and whether a cross-reference entry really leads
//! to the object it names.
//!
//! Why: verification compares the document as the signed revision saw it with what a reader
//! shows now. A later revision that no chain reaches, or an entry that points at another
//! object's bytes, makes readers disagree about what the file shows, so it must be noticed.
//!
//! Must not know: signatures, policy or what a change means.

use crate::raw::{dict_value, skip_regular, skip_value, skip_ws};
use lopdf::Document;
use lopdf::xref::XrefEntry;
use std::collections::HashSet;

/// More sections than this in one chain is treated as a broken chain (no real file has them).
const MAX_SECTIONS: usize = 1_000_000;

/// The `startxref` value of the revision that ends at `end` (the last one before it).
pub fn startxref_before(bytes: &[u8], end: usize) -> Option<u64> {
    let head = bytes.get(..end)?;
    let at = memchr::memmem::rfind(head, b"startxref")?;
    let rest = head.get(at + 9..)?;
    let i = skip_ws(rest, 0);
    let j = skip_regular(rest, i);
    std::str::from_utf8(rest.get(i..j)?).ok()?.parse().ok()
}

/// The cross-reference sections a reader visits, newest first.
#[derive(Debug, Clone, Default)]
pub struct XrefChain {
    /// Byte offsets of the sections, starting with the one the last `startxref` names.
    pub sections: Vec<u64>,
    /// The chain ended at a section without `/Prev` (not at an unreadable section or a cycle).
    pub complete: bool,
}

/// Follows `/Prev` from the section at `start`.
pub fn xref_chain(bytes: &[u8], start: u64) -> XrefChain {
    let mut chain = XrefChain::default();
    let mut seen = HashSet::new();
    let mut at = Some(start);
    while let Some(offset) = at {
        if !seen.insert(offset) || chain.sections.len() >= MAX_SECTIONS {
            return chain;
        }
        chain.sections.push(offset);
        match section_prev(bytes, offset) {
            Some(prev) => at = prev,
            None => return chain,
        }
    }
    chain.complete = true;
    chain
}

/// The `/Prev` of the cross-reference section at `offset`: `Some(None)` when it has none,
/// `None` when no section can be read there.
fn section_prev(bytes: &[u8], offset: u64) -> Option<Option<u64>> {
    let s = bytes.get(usize::try_from(offset).ok()?..)?;
    let i = skip_ws(s, 0);
    let dict_at = if s.get(i..i + 4) == Some(b"xref".as_slice()) {
        // A classic table: its rows hold only digits, spaces, 'n' and 'f', so the first
        // `trailer` keyword after it is its own.
        let t = memchr::memmem::find(s.get(i..)?, b"trailer")?;
        skip_ws(s, i + t + 7)
    } else {
        // A cross-reference stream: "N G obj << ... >> stream".
        let (_, after) = object_header(s, i)?;
        skip_ws(s, after)
    };
    let end = skip_value(s, dict_at, 0)?;
    let dict = s.get(dict_at..end)?;
    if dict.get(..2) != Some(b"<<".as_slice()) {
        return None;
    }
    match dict_value(dict, b"Prev") {
        None => Some(None),
        Some(v) => std::str::from_utf8(v).ok()?.trim().parse().ok().map(Some),
    }
}

/// Parses "N G obj" at `i`; returns ((N, G), offset after "obj").
fn object_header(s: &[u8], i: usize) -> Option<((u32, u16), usize)> {
    let i = skip_ws(s, i);
    let n_end = skip_regular(s, i);
    let num: u32 = std::str::from_utf8(s.get(i..n_end)?).ok()?.parse().ok()?;
    let g0 = skip_ws(s, n_end);
    let g_end = skip_regular(s, g0);
    let gen_: u16 = std::str::from_utf8(s.get(g0..g_end)?).ok()?.parse().ok()?;
    let o = skip_ws(s, g_end);
    (s.get(o..o + 3)? == b"obj").then_some(((num, gen_), o + 3))
}

/// Whether the cross-reference entry `entry` for object `num` leads to that object and no
/// other: an uncompressed entry's offset starts "num gen obj"; a compressed entry's object
/// stream lists `num` at that index, and only once.
pub fn entry_names_object(bytes: &[u8], doc: &Document, num: u32, entry: &XrefEntry) -> bool {
    match entry {
        XrefEntry::Normal { offset, generation } => usize::try_from(*offset)
            .ok()
            .and_then(|at| object_header(bytes, at))
            .is_some_and(|(id, _)| id == (num, *generation)),
        XrefEntry::Compressed { container, index } => {
            let Some(nums) = object_stream_numbers(doc, *container) else {
                return false;
            };
            nums.get(usize::from(*index)) == Some(&num)
                && nums.iter().filter(|n| **n == num).count() == 1
        }
        XrefEntry::Free | XrefEntry::UnusableFree => true,
    }
}

/// The object numbers an object stream's header lists, in order.
fn object_stream_numbers(doc: &Document, container: u32) -> Option<Vec<u32>> {
    let stream = doc.get_object((container, 0)).ok()?.as_stream().ok()?;
    let data = stream.decompressed_content().ok()?;
    let n = usize::try_from(stream.dict.get(b"N").ok()?.as_i64().ok()?).ok()?;
    let first = usize::try_from(stream.dict.get(b"First").ok()?.as_i64().ok()?).ok()?;
    let header = std::str::from_utf8(data.get(..first)?).ok()?;
    let values: Vec<u32> = header
        .split_ascii_whitespace()
        .take(n.checked_mul(2)?)
        .map(|t| t.parse().ok())
        .collect::<Option<Vec<_>>>()?;
    (values.len() == n * 2).then(|| values.chunks_exact(2).map(|p| p[0]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_follows_prev_and_stops_on_cycles() {
        let mut f = b"%PDF-1.4\n".to_vec();
        let first = f.len();
        f.extend_from_slice(b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 >>\n");
        let second = f.len();
        f.extend_from_slice(
            format!("xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 /Prev {first} >>\n")
                .as_bytes(),
        );
        let chain = xref_chain(&f, second as u64);
        assert_eq!(chain.sections, vec![second as u64, first as u64]);
        assert!(chain.complete);

        let cyclic = f.len();
        f.extend_from_slice(
            format!("xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 /Prev {cyclic} >>\n")
                .as_bytes(),
        );
        let chain = xref_chain(&f, cyclic as u64);
        assert_eq!(chain.sections, vec![cyclic as u64]);
        assert!(!chain.complete);
    }

    #[test]
    fn stream_sections_and_garbage() {
        let f = b"%PDF-1.5\n7 0 obj\n<< /Type /XRef /Prev 3 /Size 8 >>\nstream\n".to_vec();
        assert_eq!(section_prev(&f, 9), Some(Some(3)));
        assert_eq!(section_prev(&f, 12), None);
        assert_eq!(section_prev(&f, 10_000), None);
        assert_eq!(startxref_before(b"startxref\n 42\n%%EOF\n", 20), Some(42));
    }

    #[test]
    fn entry_must_name_its_object() {
        let f = b"%PDF-1.4\n5 0 obj\n(a)\nendobj\n";
        let doc = Document::new();
        let entry = |offset| XrefEntry::Normal {
            offset,
            generation: 0,
        };
        assert!(entry_names_object(f, &doc, 5, &entry(9)));
        assert!(!entry_names_object(f, &doc, 6, &entry(9)));
        assert!(!entry_names_object(f, &doc, 5, &entry(18)));
    }
}
