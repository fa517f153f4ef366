//! What changed after a signature: classifies every object (re)defined in revisions after the
//! signed one. Adding signature fields (widget + field + signature dictionary + appearance),
//! growing /Fields and /Annots with them, a DSS, and updated document metadata (/Info, XMP)
//! are allowed; anything else is not.

use sahih_pdf::lopdf::xref::XrefEntry;
use sahih_pdf::lopdf::{Dictionary, Document, Object, ObjectId};
use sahih_pdf::{OpenOptions, PdfDocument};
use std::collections::HashSet;

/// Outcome of the analysis for one signature.
#[derive(Debug, Clone, PartialEq)]
pub enum Modifications {
    /// The signature covers the whole file.
    None,
    /// Later revisions only add signatures, timestamps or validation data.
    SignaturesOnly,
    /// Disallowed change, with a short English description of the first one found.
    Disallowed(String),
}

fn dict_without<'a>(d: &'a Dictionary, ignore: &[&[u8]]) -> Vec<(&'a [u8], &'a Object)> {
    let mut v: Vec<(&[u8], &Object)> = d
        .iter()
        .filter(|(k, _)| !ignore.contains(&k.as_slice()))
        .map(|(k, o)| (k.as_slice(), o))
        .collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

fn same_except(old: &Dictionary, new: &Dictionary, ignore: &[&[u8]]) -> bool {
    dict_without(old, ignore) == dict_without(new, ignore)
}

/// Resolves an array that may be direct or indirect.
fn array<'a>(doc: &'a Document, obj: Option<&'a Object>) -> Option<&'a Vec<Object>> {
    let obj = obj?;
    doc.dereference(obj).ok()?.1.as_array().ok()
}

fn is_signature_widget(doc: &Document, obj: &Object) -> bool {
    let Some(d) = doc
        .dereference(obj)
        .ok()
        .and_then(|(_, o)| o.as_dict().ok())
    else {
        return false;
    };
    let ft_sig = matches!(d.get(b"FT"), Ok(Object::Name(n)) if n == b"Sig");
    let parent_sig = d
        .get(b"Parent")
        .ok()
        .and_then(|p| doc.dereference(p).ok())
        .and_then(|(_, o)| o.as_dict().ok())
        .is_some_and(|p| matches!(p.get(b"FT"), Ok(Object::Name(n)) if n == b"Sig"));
    ft_sig || parent_sig
}

/// Checks that `new` = `old` followed by signature widgets/fields only.
fn grows_with_signatures(doc: &Document, old: &[Object], new: &[Object]) -> Result<(), String> {
    if new.len() < old.len() || new.get(..old.len()) != Some(old) {
        return Err("existing entries were removed or changed".into());
    }
    for added in new.get(old.len()..).unwrap_or_default() {
        if !is_signature_widget(doc, added) {
            return Err("a non-signature annotation or field was added".into());
        }
    }
    Ok(())
}

/// Analyses the changes between the revision ending at `signed_end` and the whole file.
pub fn analyse(bytes: &[u8], signed_end: usize, final_doc: &PdfDocument) -> Modifications {
    let trailing = bytes.get(signed_end..).unwrap_or_default();
    if trailing.iter().all(|b| b.is_ascii_whitespace() || *b == 0) {
        return if trailing.is_empty() {
            Modifications::None
        } else {
            Modifications::SignaturesOnly
        };
    }
    // Bytes after the last revision that are not a revision of their own.
    let last_end = sahih_pdf::revision_ends(bytes).last().copied().unwrap_or(0) as usize;
    let after_last = bytes.get(last_end..).unwrap_or_default();
    if !after_last
        .iter()
        .all(|b| b.is_ascii_whitespace() || *b == 0)
    {
        return Modifications::Disallowed(format!(
            "{} bytes of unsigned data after the last revision",
            after_last.len()
        ));
    }
    if final_doc.xref_repaired {
        return Modifications::Disallowed(
            "the cross-reference data after the signature is damaged".into(),
        );
    }
    let Some(prefix) = bytes.get(..signed_end) else {
        return Modifications::Disallowed("signed revision lies outside the file".into());
    };
    let old = match PdfDocument::open(prefix, &OpenOptions::default()) {
        Ok(d) => d,
        Err(e) => return Modifications::Disallowed(format!("signed revision unreadable: {e}")),
    };
    let (od, nd) = (&old.doc, &final_doc.doc);

    let old_root = od.trailer.get(b"Root").and_then(Object::as_reference).ok();
    let new_root = nd.trailer.get(b"Root").and_then(Object::as_reference).ok();
    if old_root != new_root {
        return Modifications::Disallowed("the document catalog was replaced".into());
    }
    if old.page_ids() != final_doc.page_ids() {
        return Modifications::Disallowed("pages were added, removed or reordered".into());
    }

    // Document metadata (the trailer's /Info dictionary and the catalog's XMP /Metadata stream)
    // is not rendered content; signing tools update it (pyHanko sets /ModDate when it adds a DSS).
    let info_ref = od.trailer.get(b"Info").and_then(Object::as_reference).ok();
    let xmp_ref = od
        .catalog()
        .ok()
        .and_then(|c| c.get(b"Metadata").ok())
        .and_then(|o| o.as_reference().ok());

    // Roles of the objects that may legitimately change.
    let pages: HashSet<ObjectId> = old.page_ids().into_iter().collect();
    let mut annots_arrays = HashSet::new();
    for p in &pages {
        if let Ok(Object::Reference(a)) = od.get_dictionary(*p).and_then(|d| d.get(b"Annots")) {
            annots_arrays.insert(*a);
        }
    }
    let acroform_ref = od
        .catalog()
        .ok()
        .and_then(|c| c.get(b"AcroForm").ok())
        .and_then(|o| o.as_reference().ok());
    let fields_ref = od
        .catalog()
        .ok()
        .and_then(|c| c.get(b"AcroForm").ok())
        .and_then(|o| od.dereference(o).ok())
        .and_then(|(_, o)| o.as_dict().ok())
        .and_then(|d| d.get(b"Fields").ok())
        .and_then(|o| o.as_reference().ok());

    // Offsets of objects in the final file: anything at or after `signed_end` was written later.
    let container_is_late = |container: u32| -> bool {
        matches!(nd.reference_table.get(container),
            Some(XrefEntry::Normal { offset, .. }) if (*offset as usize) >= signed_end)
    };
    for (num, entry) in &nd.reference_table.entries {
        let late = match entry {
            XrefEntry::Normal { offset, .. } => (*offset as usize) >= signed_end,
            XrefEntry::Compressed { container, .. } => container_is_late(*container),
            _ => false,
        };
        if !late {
            continue;
        }
        let Some((&id, old_obj)) = od.objects.range((*num, 0)..=(*num, u16::MAX)).next() else {
            continue; // a new object: judged through whatever references it
        };
        let Ok(new_obj) = nd.get_object(id) else {
            return Modifications::Disallowed(format!("object {num} was removed"));
        };
        if old_obj == new_obj {
            continue;
        }
        let verdict: Result<(), String> = if Some(id) == info_ref || Some(id) == xmp_ref {
            Ok(())
        } else if Some(id) == old_root {
            match (old_obj.as_dict(), new_obj.as_dict()) {
                (Ok(o), Ok(n)) => {
                    if !same_except(o, n, &[b"AcroForm", b"DSS", b"Extensions"]) {
                        Err("the document catalog was changed".into())
                    } else if let (Ok(Object::Dictionary(oa)), Ok(Object::Dictionary(na))) =
                        (o.get(b"AcroForm"), n.get(b"AcroForm"))
                    {
                        check_acroform(od, nd, oa, na)
                    } else {
                        Ok(())
                    }
                }
                _ => Err("the document catalog was changed".into()),
            }
        } else if Some(id) == acroform_ref {
            match (old_obj.as_dict(), new_obj.as_dict()) {
                (Ok(o), Ok(n)) => check_acroform(od, nd, o, n),
                _ => Err("the form dictionary was changed".into()),
            }
        } else if Some(id) == fields_ref || annots_arrays.contains(&id) {
            match (old_obj.as_array(), new_obj.as_array()) {
                (Ok(o), Ok(n)) => grows_with_signatures(nd, o, n),
                _ => Err("a form or annotation list was changed".into()),
            }
        } else if pages.contains(&id) {
            match (old_obj.as_dict(), new_obj.as_dict()) {
                (Ok(o), Ok(n)) if same_except(o, n, &[b"Annots"]) => {
                    let old_annots = array(od, o.get(b"Annots").ok())
                        .cloned()
                        .unwrap_or_default();
                    match array(nd, n.get(b"Annots").ok()) {
                        Some(new_annots) => grows_with_signatures(nd, &old_annots, new_annots),
                        None => Err("page annotations were removed".into()),
                    }
                }
                _ => Err(format!(
                    "page object {num} was changed (content or resources)"
                )),
            }
        } else {
            Err(format!("object {num} was changed after signing"))
        };
        if let Err(e) = verdict {
            return Modifications::Disallowed(e);
        }
    }
    Modifications::SignaturesOnly
}

fn check_acroform(
    od: &Document,
    nd: &Document,
    o: &Dictionary,
    n: &Dictionary,
) -> Result<(), String> {
    if !same_except(o, n, &[b"Fields", b"SigFlags", b"DR", b"DA"]) {
        return Err("the form dictionary was changed".into());
    }
    let old_fields = array(od, o.get(b"Fields").ok())
        .cloned()
        .unwrap_or_default();
    match array(nd, n.get(b"Fields").ok()) {
        Some(new_fields) => grows_with_signatures(nd, &old_fields, new_fields),
        None => Err("form fields were removed".into()),
    }
}
