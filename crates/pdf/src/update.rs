//! The incremental update that adds a signature (or document timestamp) field to a PDF:
//! new objects appended after the original bytes, which are never touched, with a /ByteRange
//! and a zero-filled /Contents placeholder to be patched once the CMS blob exists.

use crate::document::PdfDocument;
use crate::serialize::{text_string, write_dictionary, write_name, write_object};
use crate::stamp::{StampContent, stamp_stream};
use crate::{DisplayRect, PdfError};
use lopdf::{Dictionary, Object, ObjectId};
use std::collections::BTreeMap;
use std::io::Write;

/// Which kind of signature dictionary to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureKind {
    /// /Type /Sig with a CMS signature (PAdES: SubFilter ETSI.CAdES.detached).
    Signature,
    /// /Type /DocTimeStamp with an RFC 3161 token (SubFilter ETSI.RFC3161).
    DocumentTimestamp,
}

/// A visible stamp: where it goes (as the reader sees the page) and what it shows.
#[derive(Debug, Clone)]
pub struct VisibleStamp {
    /// Zero-based index of the page that carries the stamp.
    pub page_index: usize,
    /// Position and size in displayed-page coordinates; must lie inside the page.
    pub rect: DisplayRect,
    /// What the stamp shows.
    pub content: StampContent,
}

/// Everything the signature dictionary and field need.
#[derive(Debug, Clone)]
pub struct SignatureSpec {
    /// Signature or document timestamp: sets /Type and the default field name.
    pub kind: SignatureKind,
    /// Field name; a unique "`Signature<n>`" is chosen when None or taken.
    pub field_name: Option<String>,
    /// e.g. "ETSI.CAdES.detached".
    pub sub_filter: String,
    /// PDF date string for /M (None for document timestamps).
    pub signing_time: Option<String>,
    /// Written as /Name when given.
    pub signer_name: Option<String>,
    /// Written as /Reason when given.
    pub reason: Option<String>,
    /// Written as /Location when given.
    pub location: Option<String>,
    /// Bytes reserved for the CMS blob (the hex placeholder is twice as long).
    pub contents_capacity: usize,
    /// None: invisible field (zero rectangle) attached to `invisible_page_index`.
    pub stamp: Option<VisibleStamp>,
    /// Zero-based page whose /Annots gets the invisible widget; unused when `stamp` is set.
    pub invisible_page_index: usize,
}

/// The prepared update: bytes to append to the original file, with the /Contents placeholder.
#[derive(Debug, Clone)]
pub struct PreparedUpdate {
    original_len: u64,
    update: Vec<u8>,
    /// Absolute offsets of '<' and one past '>' of the /Contents hex string.
    contents_start: u64,
    contents_end: u64,
    /// The field name actually used.
    pub field_name: String,
}

const BYTE_RANGE_WIDTH: usize = 3 * 11 + 1; // "0" + three " %10d" fields

impl PreparedUpdate {
    /// The /ByteRange written into the signature dictionary.
    pub fn byte_range(&self) -> [u64; 4] {
        let total = self.original_len + self.update.len() as u64;
        [
            0,
            self.contents_start,
            self.contents_end,
            total - self.contents_end,
        ]
    }

    /// The update's bytes (appended after the original file).
    pub fn update_bytes(&self) -> &[u8] {
        &self.update
    }

    /// The signed data is `original` followed by these two slices of the update.
    pub fn signed_update_parts(&self) -> (&[u8], &[u8]) {
        let start = (self.contents_start - self.original_len) as usize;
        let end = (self.contents_end - self.original_len) as usize;
        (
            self.update.get(..start).unwrap_or_default(),
            self.update.get(end..).unwrap_or_default(),
        )
    }

    /// Bytes available for the CMS blob.
    pub fn capacity(&self) -> usize {
        ((self.contents_end - self.contents_start - 2) / 2) as usize
    }

    /// Writes `blob` (hex-encoded, zero-padded) into the /Contents placeholder.
    pub fn embed_contents(&mut self, blob: &[u8]) -> Result<(), PdfError> {
        let capacity = self.capacity();
        if blob.len() > capacity {
            return Err(PdfError::ContentsTooLarge {
                needed: blob.len(),
                capacity,
            });
        }
        let start = (self.contents_start - self.original_len) as usize + 1;
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        for (i, b) in blob.iter().enumerate() {
            let (Some(hi), Some(lo)) = (HEX.get(usize::from(b >> 4)), HEX.get(usize::from(b & 15)))
            else {
                continue;
            };
            if let Some(slot) = self.update.get_mut(start + 2 * i..start + 2 * i + 2) {
                slot[0] = *hi;
                slot[1] = *lo;
            }
        }
        Ok(())
    }
}

/// Hands out object numbers for an update, after every number the document already uses.
pub(crate) struct Allocator {
    pub(crate) next: u32,
}
impl Allocator {
    pub(crate) fn for_update(pdf: &PdfDocument) -> Self {
        Self {
            next: pdf
                .doc
                .max_id
                .saturating_add(1)
                .max(size_from_trailer(pdf))
                .max(1),
        }
    }
    pub(crate) fn alloc(&mut self) -> ObjectId {
        let id = (self.next, 0);
        self.next += 1;
        id
    }
}

fn name(s: &str) -> Object {
    Object::Name(s.as_bytes().to_vec())
}

fn reals(values: &[f64]) -> Object {
    Object::Array(values.iter().map(|v| Object::Real(*v as f32)).collect())
}

/// Adds `field_ref` to the AcroForm dictionary's /Fields (which may be an indirect array).
fn add_to_fields(
    doc: &lopdf::Document,
    acroform: &mut Dictionary,
    field_ref: Object,
    changed: &mut BTreeMap<ObjectId, Object>,
) {
    match acroform.get(b"Fields") {
        Ok(Object::Reference(fid)) => {
            let fid = *fid;
            let mut arr = match changed.get(&fid).or_else(|| doc.get_object(fid).ok()) {
                Some(Object::Array(a)) => a.clone(),
                _ => Vec::new(),
            };
            arr.push(field_ref);
            changed.insert(fid, Object::Array(arr));
        }
        Ok(Object::Array(a)) => {
            let mut a = a.clone();
            a.push(field_ref);
            acroform.set("Fields", Object::Array(a));
        }
        _ => acroform.set("Fields", Object::Array(vec![field_ref])),
    }
    let flags = acroform
        .get(b"SigFlags")
        .ok()
        .and_then(|o| o.as_i64().ok())
        .unwrap_or(0);
    // SignaturesExist | AppendOnly.
    acroform.set("SigFlags", Object::Integer(flags | 3));
}

/// Builds the incremental update. `original` must be the bytes `pdf` was opened from.
pub fn prepare_signature(
    pdf: &PdfDocument,
    original: &[u8],
    spec: &SignatureSpec,
) -> Result<PreparedUpdate, PdfError> {
    let doc = &pdf.doc;
    let pages = pdf.page_ids();
    let page_index = spec
        .stamp
        .as_ref()
        .map_or(spec.invisible_page_index, |s| s.page_index);
    let page_id = *pages
        .get(page_index)
        .ok_or(PdfError::NoSuchPage(page_index + 1))?;
    let catalog_id = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|_| PdfError::Unparseable("trailer has no /Root reference".into()))?;

    let mut ids = Allocator::for_update(pdf);
    let mut changed: BTreeMap<ObjectId, Object> = BTreeMap::new();

    // Unique field name.
    let existing = pdf.field_names();
    let field_name = match &spec.field_name {
        Some(n) if !existing.contains(n) => n.clone(),
        _ => {
            let base = if spec.kind == SignatureKind::DocumentTimestamp {
                "DocTimeStamp"
            } else {
                "Signature"
            };
            (1..)
                .map(|i| format!("{base}{i}"))
                .find(|n| !existing.contains(n))
                .unwrap_or_else(|| base.to_string())
        }
    };

    let sig_id = ids.alloc();
    let widget_id = ids.alloc();

    // Widget annotation merged with the signature field.
    let mut widget = Dictionary::new();
    widget.set("Type", name("Annot"));
    widget.set("Subtype", name("Widget"));
    widget.set("FT", name("Sig"));
    widget.set("T", text_string(&field_name));
    widget.set("V", Object::Reference(sig_id));
    widget.set("F", Object::Integer(132)); // Print | Locked
    widget.set("P", Object::Reference(page_id));
    let mut appearance: Option<(ObjectId, Dictionary, Vec<u8>)> = None;
    let mut image_objects: Vec<(ObjectId, lopdf::Stream)> = Vec::new();
    match &spec.stamp {
        Some(stamp) => {
            let geo = pdf.page_geometry(stamp.page_index)?;
            let r = stamp.rect;
            let tolerance = 0.5;
            if r.w <= 0.0
                || r.h <= 0.0
                || r.x < -tolerance
                || r.y < -tolerance
                || r.x + r.w > geo.display_width() + tolerance
                || r.y + r.h > geo.display_height() + tolerance
            {
                return Err(PdfError::InvalidPlacement(format!(
                    "rectangle {},{},{},{} is not inside page {} ({:.0} x {:.0} points as displayed)",
                    r.x,
                    r.y,
                    r.w,
                    r.h,
                    stamp.page_index + 1,
                    geo.display_width(),
                    geo.display_height()
                )));
            }
            let user = geo.display_rect_to_user(r.x, r.y, r.w, r.h);
            widget.set("Rect", reals(&[user.x0, user.y0, user.x1, user.y1]));
            let (ops, mut resources) = stamp_stream(r.w, r.h, &stamp.content)?;
            if let Some(img) = &stamp.content.image {
                let image_id = ids.alloc();
                let smask_id = match &img.data {
                    crate::image::ImageData::Flate { alpha: Some(_), .. } => Some(ids.alloc()),
                    _ => None,
                };
                let mut xobjects = Dictionary::new();
                xobjects.set(crate::stamp::IMAGE_RESOURCE, Object::Reference(image_id));
                resources.set("XObject", Object::Dictionary(xobjects));
                image_objects = image_streams(img, image_id, smask_id);
            }
            let mut ap = Dictionary::new();
            ap.set("Type", name("XObject"));
            ap.set("Subtype", name("Form"));
            ap.set("BBox", reals(&[0.0, 0.0, r.w, r.h]));
            ap.set("Matrix", reals(&geo.appearance_matrix()));
            ap.set("Resources", Object::Dictionary(resources));
            let ap_id = ids.alloc();
            let mut apd = Dictionary::new();
            apd.set("N", Object::Reference(ap_id));
            widget.set("AP", Object::Dictionary(apd));
            appearance = Some((ap_id, ap, ops));
        }
        None => {
            widget.set("Rect", reals(&[0.0, 0.0, 0.0, 0.0]));
        }
    }

    // Catalog / AcroForm / Fields.
    let mut catalog = doc
        .get_dictionary(catalog_id)
        .map_err(|_| PdfError::Unparseable("document catalog is not a dictionary".into()))?
        .clone();
    let field_ref = Object::Reference(widget_id);
    match catalog.get(b"AcroForm") {
        Ok(Object::Reference(af_id)) if doc.get_dictionary(*af_id).is_ok() => {
            let af_id = *af_id;
            let mut af = doc
                .get_dictionary(af_id)
                .map_err(|e| PdfError::Unparseable(e.to_string()))?
                .clone();
            add_to_fields(doc, &mut af, field_ref, &mut changed);
            changed.insert(af_id, Object::Dictionary(af));
        }
        Ok(Object::Dictionary(d)) => {
            let mut af = d.clone();
            add_to_fields(doc, &mut af, field_ref, &mut changed);
            catalog.set("AcroForm", Object::Dictionary(af));
            changed.insert(catalog_id, Object::Dictionary(catalog.clone()));
        }
        _ => {
            let mut af = Dictionary::new();
            add_to_fields(doc, &mut af, field_ref, &mut changed);
            catalog.set("AcroForm", Object::Dictionary(af));
            changed.insert(catalog_id, Object::Dictionary(catalog.clone()));
        }
    }

    // Page /Annots.
    let mut page = doc
        .get_dictionary(page_id)
        .map_err(|_| PdfError::Unparseable("page is not a dictionary".into()))?
        .clone();
    let widget_ref = Object::Reference(widget_id);
    match page.get(b"Annots") {
        Ok(Object::Reference(aid)) if matches!(doc.get_object(*aid), Ok(Object::Array(_))) => {
            let aid = *aid;
            let mut arr = match changed.get(&aid).or_else(|| doc.get_object(aid).ok()) {
                Some(Object::Array(a)) => a.clone(),
                _ => Vec::new(),
            };
            arr.push(widget_ref);
            changed.insert(aid, Object::Array(arr));
        }
        Ok(Object::Array(a)) => {
            let mut a = a.clone();
            a.push(widget_ref);
            page.set("Annots", Object::Array(a));
            changed.insert(page_id, Object::Dictionary(page));
        }
        _ => {
            page.set("Annots", Object::Array(vec![widget_ref]));
            changed.insert(page_id, Object::Dictionary(page));
        }
    }

    // ---- Serialise ----
    let original_len = original.len() as u64;
    let mut out: Vec<u8> = Vec::with_capacity(spec.contents_capacity * 2 + 16 * 1024);
    if !matches!(original.last(), Some(b'\n' | b'\r')) {
        out.push(b'\n');
    }
    let mut offsets: BTreeMap<u32, u64> = BTreeMap::new();

    // Signature dictionary first, written by hand for the placeholders.
    offsets.insert(sig_id.0, original_len + out.len() as u64);
    let _ = write!(out, "{} 0 obj\n<<", sig_id.0);
    let (type_name, filter) = match spec.kind {
        SignatureKind::Signature => ("Sig", "Adobe.PPKLite"),
        SignatureKind::DocumentTimestamp => ("DocTimeStamp", "Adobe.PPKLite"),
    };
    out.extend_from_slice(b"/Type");
    write_name(&mut out, type_name.as_bytes());
    out.extend_from_slice(b"/Filter");
    write_name(&mut out, filter.as_bytes());
    out.extend_from_slice(b"/SubFilter");
    write_name(&mut out, spec.sub_filter.as_bytes());
    for (key, value) in [
        ("M", &spec.signing_time),
        ("Name", &spec.signer_name),
        ("Reason", &spec.reason),
        ("Location", &spec.location),
    ] {
        if let Some(v) = value {
            write_name(&mut out, key.as_bytes());
            out.push(b' ');
            write_object(&mut out, &text_string(v));
        }
    }
    out.extend_from_slice(b"/Prop_Build<</App<</Name/Sahih/REx(");
    out.extend_from_slice(env!("CARGO_PKG_VERSION").as_bytes());
    out.extend_from_slice(b")>>>>");
    out.extend_from_slice(b"/ByteRange [");
    let byte_range_at = out.len();
    out.extend_from_slice(&[b' '; BYTE_RANGE_WIDTH]);
    out.extend_from_slice(b"]/Contents ");
    let contents_start = original_len + out.len() as u64;
    out.push(b'<');
    out.resize(out.len() + spec.contents_capacity * 2, b'0');
    out.push(b'>');
    let contents_end = original_len + out.len() as u64;
    out.extend_from_slice(b">>\nendobj\n");

    emit_object(
        &mut out,
        &mut offsets,
        original_len,
        widget_id,
        &Object::Dictionary(widget),
    );
    for (id, stream) in image_objects {
        emit_object(
            &mut out,
            &mut offsets,
            original_len,
            id,
            &Object::Stream(stream),
        );
    }
    if let Some((ap_id, ap, ops)) = appearance {
        let stream = lopdf::Stream::new(ap, ops);
        emit_object(
            &mut out,
            &mut offsets,
            original_len,
            ap_id,
            &Object::Stream(stream),
        );
    }
    for (id, obj) in &changed {
        // Existing objects keep their original text except for what we add (see raw.rs).
        match crate::raw::edited_object_text(original, doc, *id, obj) {
            Some(text) => emit_text(&mut out, &mut offsets, original_len, *id, &text),
            None => emit_object(&mut out, &mut offsets, original_len, *id, obj),
        }
    }
    // Generation numbers of modified objects are kept in the xref.
    let generations: BTreeMap<u32, u16> = changed.keys().map(|(n, g)| (*n, *g)).collect();

    write_xref_and_trailer(
        pdf,
        original_len,
        &mut out,
        &offsets,
        &generations,
        &mut ids,
    );

    // Now the total length is known: fill in /ByteRange.
    let total = original_len + out.len() as u64;
    let range = format!(
        "0 {} {} {}",
        contents_start,
        contents_end,
        total - contents_end
    );
    if range.len() > BYTE_RANGE_WIDTH {
        return Err(PdfError::TooLarge);
    }
    if let Some(slot) = out.get_mut(byte_range_at..byte_range_at + range.len()) {
        slot.copy_from_slice(range.as_bytes());
    }
    Ok(PreparedUpdate {
        original_len,
        update: out,
        contents_start,
        contents_end,
        field_name,
    })
}

/// Writes the cross-reference section (table or stream, matching the original) and trailer for
/// the objects at `offsets`, then `startxref` and `%%EOF`.
pub(crate) fn write_xref_and_trailer(
    pdf: &PdfDocument,
    original_len: u64,
    out: &mut Vec<u8>,
    offsets: &BTreeMap<u32, u64>,
    generations: &BTreeMap<u32, u16>,
    ids: &mut Allocator,
) {
    let doc = &pdf.doc;
    let mut offsets = offsets.clone();
    // Trailer entries carried over.
    let mut trailer = Dictionary::new();
    let size = ids.next.max(size_from_trailer(pdf));
    for key in [b"Root".as_slice(), b"Info", b"ID"] {
        if let Ok(v) = doc.trailer.get(key) {
            trailer.set(key.to_vec(), v.clone());
        }
    }
    let prev = if pdf.xref_repaired {
        None
    } else {
        pdf.last_startxref
    };

    if pdf.xref_is_stream || pdf.xref_repaired {
        // Cross-reference stream. After a repair it lists every object (no /Prev), because the
        // original tables cannot be trusted.
        let xref_id = ids.alloc();
        let xref_offset = original_len + out.len() as u64;
        offsets.insert(xref_id.0, xref_offset);
        let mut rows: BTreeMap<u32, (u8, u64, u16)> = BTreeMap::new();
        if pdf.xref_repaired {
            for (num, entry) in &doc.reference_table.entries {
                match entry {
                    lopdf::xref::XrefEntry::Normal { offset, generation } => {
                        rows.insert(*num, (1, u64::from(*offset), *generation));
                    }
                    lopdf::xref::XrefEntry::Compressed { container, index } => {
                        rows.insert(*num, (2, u64::from(*container), *index));
                    }
                    _ => {}
                }
            }
        }
        for (num, off) in &offsets {
            rows.insert(*num, (1, *off, generations.get(num).copied().unwrap_or(0)));
        }
        let size = size.max(ids.next);
        let max_field = rows.values().map(|r| r.1).max().unwrap_or(0);
        let w2 = (1..=8).find(|n| max_field < (1u64 << (8 * n))).unwrap_or(8);
        let mut data = Vec::with_capacity(rows.len() * (3 + w2));
        let mut index = Vec::new();
        let mut run: Option<(u32, u32)> = None;
        for (num, (kind, field2, field3)) in &rows {
            data.push(*kind);
            data.extend_from_slice(&field2.to_be_bytes()[8 - w2..]);
            data.extend_from_slice(&field3.to_be_bytes());
            run = match run {
                Some((start, count)) if start + count == *num => Some((start, count + 1)),
                Some((start, count)) => {
                    index.push(Object::Integer(i64::from(start)));
                    index.push(Object::Integer(i64::from(count)));
                    Some((*num, 1))
                }
                None => Some((*num, 1)),
            };
        }
        if let Some((start, count)) = run {
            index.push(Object::Integer(i64::from(start)));
            index.push(Object::Integer(i64::from(count)));
        }
        let mut dict = trailer;
        dict.set("Type", name("XRef"));
        dict.set("Size", Object::Integer(i64::from(size)));
        dict.set("Index", Object::Array(index));
        dict.set(
            "W",
            Object::Array(vec![
                Object::Integer(1),
                Object::Integer(w2 as i64),
                Object::Integer(2),
            ]),
        );
        if let Some(p) = prev {
            dict.set("Prev", Object::Integer(p as i64));
        }
        dict.set("Length", Object::Integer(data.len() as i64));
        let _ = writeln!(out, "{} 0 obj", xref_id.0);
        write_dictionary(out, &dict);
        out.extend_from_slice(b"\nstream\n");
        out.extend_from_slice(&data);
        out.extend_from_slice(b"\nendstream\nendobj\n");
        let _ = write!(out, "startxref\n{xref_offset}\n%%EOF\n");
    } else {
        let xref_offset = original_len + out.len() as u64;
        out.extend_from_slice(b"xref\n");
        let nums: Vec<u32> = offsets.keys().copied().collect();
        let mut i = 0;
        while i < nums.len() {
            let start = nums[i];
            let mut j = i;
            while j + 1 < nums.len() && nums[j + 1] == nums[j] + 1 {
                j += 1;
            }
            let _ = writeln!(out, "{} {}", start, j - i + 1);
            for num in &nums[i..=j] {
                let off = offsets.get(num).copied().unwrap_or(0);
                let generation = generations.get(num).copied().unwrap_or(0);
                let _ = write!(out, "{off:010} {generation:05} n\r\n");
            }
            i = j + 1;
        }
        trailer.set("Size", Object::Integer(i64::from(size)));
        if let Some(p) = prev {
            trailer.set("Prev", Object::Integer(p as i64));
        }
        out.extend_from_slice(b"trailer\n");
        write_dictionary(out, &trailer);
        let _ = write!(out, "\nstartxref\n{xref_offset}\n%%EOF\n");
    }
}

fn size_from_trailer(pdf: &PdfDocument) -> u32 {
    pdf.doc
        .trailer
        .get(b"Size")
        .ok()
        .and_then(|o| o.as_i64().ok())
        .and_then(|s| u32::try_from(s).ok())
        .unwrap_or(0)
}

/// Writes `N G obj <text> endobj` and records its offset.
pub(crate) fn emit_text(
    out: &mut Vec<u8>,
    offsets: &mut BTreeMap<u32, u64>,
    original_len: u64,
    id: ObjectId,
    text: &[u8],
) {
    offsets.insert(id.0, original_len + out.len() as u64);
    let _ = writeln!(out, "{} {} obj", id.0, id.1);
    out.extend_from_slice(text);
    out.extend_from_slice(b"\nendobj\n");
}

/// Writes `N G obj <serialised object> endobj` and records its offset.
pub(crate) fn emit_object(
    out: &mut Vec<u8>,
    offsets: &mut BTreeMap<u32, u64>,
    original_len: u64,
    id: ObjectId,
    obj: &Object,
) {
    let mut text = Vec::new();
    write_object(&mut text, obj);
    emit_text(out, offsets, original_len, id, &text);
}

/// The image XObject (and its soft mask) of a specimen image.
fn image_streams(
    img: &crate::image::SpecimenImage,
    image_id: ObjectId,
    smask_id: Option<ObjectId>,
) -> Vec<(ObjectId, lopdf::Stream)> {
    use crate::image::ImageData;
    let name = |n: &str| Object::Name(n.as_bytes().to_vec());
    let base = |components: u8| {
        let mut d = Dictionary::new();
        d.set("Type", name("XObject"));
        d.set("Subtype", name("Image"));
        d.set("Width", Object::Integer(i64::from(img.width)));
        d.set("Height", Object::Integer(i64::from(img.height)));
        d.set("BitsPerComponent", Object::Integer(8));
        d.set(
            "ColorSpace",
            name(match components {
                1 => "DeviceGray",
                4 => "DeviceCMYK",
                _ => "DeviceRGB",
            }),
        );
        d
    };
    let mut out = Vec::new();
    match &img.data {
        ImageData::Jpeg { data, components } => {
            let mut d = base(*components);
            d.set("Filter", name("DCTDecode"));
            if *components == 4 {
                // Adobe CMYK JPEGs are stored inverted.
                d.set(
                    "Decode",
                    Object::Array([1, 0, 1, 0, 1, 0, 1, 0].map(Object::Integer).to_vec()),
                );
            }
            out.push((
                image_id,
                lopdf::Stream::new(d, data.clone()).with_compression(false),
            ));
        }
        ImageData::Flate {
            data,
            components,
            alpha,
        } => {
            let mut d = base(*components);
            d.set("Filter", name("FlateDecode"));
            if let (Some(id), Some(a)) = (smask_id, alpha) {
                d.set("SMask", Object::Reference(id));
                let mut m = base(1);
                m.set("Filter", name("FlateDecode"));
                out.push((id, lopdf::Stream::new(m, a.clone()).with_compression(false)));
            }
            out.push((
                image_id,
                lopdf::Stream::new(d, data.clone()).with_compression(false),
            ));
        }
    }
    out
}
