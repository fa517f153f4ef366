//! The Document Security Store (ISO 32000-2 12.8.4.3, ETSI EN 319 142-1 5.4): an incremental
//! update that adds certificates, OCSP responses and CRLs (and per-signature VRI entries) so
//! signatures can be validated long after the services that vouched for them are gone.
//! An existing DSS is merged, never replaced; identical items are stored once.

use crate::PdfError;
use crate::document::PdfDocument;
use crate::update::{Allocator, emit_object, emit_text, write_xref_and_trailer};
use lopdf::{Dictionary, Object, ObjectId, Stream};
use std::collections::{BTreeMap, HashMap};

/// Validation data for one signature (VRI entry), keyed by the uppercase hex SHA-1 of its
/// /Contents value.
#[derive(Debug, Clone, Default)]
pub struct VriEntry {
    /// Hex SHA-1 of the signature's /Contents value; written uppercase as the /VRI key.
    pub key: String,
    /// DER certificates for the entry's /Cert array.
    pub certs: Vec<Vec<u8>>,
    /// DER OCSP responses for the entry's /OCSP array.
    pub ocsps: Vec<Vec<u8>>,
    /// DER CRLs for the entry's /CRL array.
    pub crls: Vec<Vec<u8>>,
}

/// What to add to the DSS.
#[derive(Debug, Clone, Default)]
pub struct DssData {
    /// DER certificates for the document-wide /Certs array.
    pub certs: Vec<Vec<u8>>,
    /// DER OCSP responses for the document-wide /OCSPs array.
    pub ocsps: Vec<Vec<u8>>,
    /// DER CRLs for the document-wide /CRLs array.
    pub crls: Vec<Vec<u8>>,
    /// Per-signature VRI entries; a key the DSS already has keeps its existing entry.
    pub vri: Vec<VriEntry>,
}

/// What an existing DSS holds (for validation).
#[derive(Debug, Clone, Default)]
pub struct DssContents {
    /// Decoded streams of /Certs (DER certificates, unchecked).
    pub certs: Vec<Vec<u8>>,
    /// Decoded streams of /OCSPs (DER OCSP responses, unchecked).
    pub ocsps: Vec<Vec<u8>>,
    /// Decoded streams of /CRLs (DER CRLs, unchecked).
    pub crls: Vec<Vec<u8>>,
}

fn stream_bytes(doc: &lopdf::Document, obj: &Object) -> Option<Vec<u8>> {
    let (_, o) = doc.dereference(obj).ok()?;
    let s = o.as_stream().ok()?;
    if s.dict.get(b"Filter").is_ok() {
        s.decompressed_content().ok()
    } else {
        Some(s.content.clone())
    }
}

fn dss_dict(doc: &lopdf::Document) -> Option<&Dictionary> {
    let catalog = doc.catalog().ok()?;
    let (_, o) = doc.dereference(catalog.get(b"DSS").ok()?).ok()?;
    o.as_dict().ok()
}

fn array_of<'a>(doc: &'a lopdf::Document, d: &'a Dictionary, key: &[u8]) -> Vec<&'a Object> {
    d.get(key)
        .ok()
        .and_then(|o| doc.dereference(o).ok())
        .and_then(|(_, o)| o.as_array().ok())
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// Reads the document's DSS (empty when there is none).
pub fn read_dss(pdf: &PdfDocument) -> DssContents {
    let doc = &pdf.doc;
    let Some(d) = dss_dict(doc) else {
        return DssContents::default();
    };
    let collect = |key: &[u8]| -> Vec<Vec<u8>> {
        array_of(doc, d, key)
            .into_iter()
            .filter_map(|o| stream_bytes(doc, o))
            .collect()
    };
    DssContents {
        certs: collect(b"Certs"),
        ocsps: collect(b"OCSPs"),
        crls: collect(b"CRLs"),
    }
}

/// Builds the incremental update that adds `data` to the DSS.
pub fn prepare_dss_update(
    pdf: &PdfDocument,
    original: &[u8],
    data: &DssData,
) -> Result<Vec<u8>, PdfError> {
    let doc = &pdf.doc;
    let catalog_id = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| PdfError::Unparseable("trailer has no /Root reference".into()))?;
    let mut catalog = doc
        .get_dictionary(catalog_id)
        .map_err(|_| PdfError::Unparseable("document catalog is not a dictionary".into()))?
        .clone();
    let mut ids = Allocator::for_update(pdf);
    let original_len = original.len() as u64;
    let mut out: Vec<u8> = Vec::new();
    if !matches!(original.last(), Some(b'\n' | b'\r')) {
        out.push(b'\n');
    }
    let mut offsets: BTreeMap<u32, u64> = BTreeMap::new();

    // Existing entries, by content, so identical data is referenced, not duplicated.
    let existing = dss_dict(doc);
    let mut known: HashMap<Vec<u8>, Object> = HashMap::new();
    let mut arrays: [Vec<Object>; 3] = Default::default();
    let mut vri = Dictionary::new();
    if let Some(d) = existing {
        for (slot, key) in [b"Certs".as_slice(), b"OCSPs", b"CRLs"].iter().enumerate() {
            for o in array_of(doc, d, key) {
                if let Some(bytes) = stream_bytes(doc, o) {
                    known.insert(bytes, o.clone());
                }
                if let Some(arr) = arrays.get_mut(slot) {
                    arr.push(o.clone());
                }
            }
        }
        if let Some((_, Object::Dictionary(v))) =
            d.get(b"VRI").ok().and_then(|o| doc.dereference(o).ok())
        {
            vri = v.clone();
        }
    }
    let mut streams_out: Vec<(ObjectId, Object)> = Vec::new();
    let mut reference_for =
        |bytes: &Vec<u8>, slot: usize, arrays: &mut [Vec<Object>; 3]| -> Object {
            if let Some(r) = known.get(bytes) {
                return r.clone();
            }
            let id = ids.alloc();
            let r = Object::Reference(id);
            streams_out.push((
                id,
                Object::Stream(Stream::new(Dictionary::new(), bytes.clone())),
            ));
            known.insert(bytes.clone(), r.clone());
            if let Some(arr) = arrays.get_mut(slot) {
                arr.push(r.clone());
            }
            r
        };
    for (slot, list) in [&data.certs, &data.ocsps, &data.crls].iter().enumerate() {
        for bytes in list.iter() {
            reference_for(bytes, slot, &mut arrays);
        }
    }
    for entry in &data.vri {
        // An earlier signature's VRI entry stays as written: validators (pyHanko) treat a
        // rewritten entry as a change to what that signature's validation data said. Fresh
        // data for it still goes into the document-wide arrays above.
        let key = entry.key.to_ascii_uppercase().into_bytes();
        if vri.has(&key) {
            continue;
        }
        let mut d = Dictionary::new();
        for (slot, (key, list)) in [
            ("Cert", &entry.certs),
            ("OCSP", &entry.ocsps),
            ("CRL", &entry.crls),
        ]
        .iter()
        .enumerate()
        {
            if !list.is_empty() {
                let refs: Vec<Object> = list
                    .iter()
                    .map(|b| reference_for(b, slot, &mut arrays))
                    .collect();
                d.set(*key, Object::Array(refs));
            }
        }
        vri.set(key, Object::Dictionary(d));
    }
    let dss_id = ids.alloc();
    let mut dss = Dictionary::new();
    dss.set("Type", Object::Name(b"DSS".to_vec()));
    let [certs, ocsps, crls] = arrays;
    for (key, arr) in [("Certs", certs), ("OCSPs", ocsps), ("CRLs", crls)] {
        if !arr.is_empty() {
            dss.set(key, Object::Array(arr));
        }
    }
    if !vri.is_empty() {
        dss.set("VRI", Object::Dictionary(vri));
    }
    for (id, obj) in &streams_out {
        emit_object(&mut out, &mut offsets, original_len, *id, obj);
    }
    emit_object(
        &mut out,
        &mut offsets,
        original_len,
        dss_id,
        &Object::Dictionary(dss),
    );
    catalog.set("DSS", Object::Reference(dss_id));
    let catalog = Object::Dictionary(catalog);
    match crate::raw::edited_object_text(original, doc, catalog_id, &catalog) {
        Some(text) => emit_text(&mut out, &mut offsets, original_len, catalog_id, &text),
        None => emit_object(&mut out, &mut offsets, original_len, catalog_id, &catalog),
    }
    let generations: BTreeMap<u32, u16> = [(catalog_id.0, catalog_id.1)].into_iter().collect();
    write_xref_and_trailer(
        pdf,
        original_len,
        &mut out,
        &offsets,
        &generations,
        &mut ids,
    );
    Ok(out)
}

/// The VRI key of a signature: uppercase hex SHA-1 of its /Contents bytes (callers hash; this
/// crate has no crypto).
pub fn vri_key_from_sha1(sha1: &[u8]) -> String {
    sha1.iter().map(|b| format!("{b:02X}")).collect()
}
