//! Opening a PDF leniently, and the facts about it that signing and verification need:
//! pages, the cross-reference layout, revisions, and existing signature fields.

use crate::PdfError;
use crate::geometry::{PageGeometry, page_geometry};
use crate::serialize::decode_text_string;
use lopdf::{Document, LoadOptions, Object, ObjectId};

/// Image sample data is never needed for signing or verification, and for scanned documents it
/// is nearly the whole file: dropping it right after parsing keeps memory near one file's size.
///
/// lopdf keeps the (mutated) object itself for top-level objects and uses the returned copy for
/// objects inside object streams, which are never streams; so streams are emptied in place and
/// only non-stream objects are cloned for the return value.
fn drop_image_samples(id: ObjectId, obj: &mut Object) -> Option<(ObjectId, Object)> {
    if let Object::Stream(stream) = obj {
        if matches!(stream.dict.get(b"Subtype"), Ok(Object::Name(n)) if n == b"Image") {
            stream.content = Vec::new();
        }
        return Some((id, Object::Null));
    }
    Some((id, obj.clone()))
}

/// A parsed PDF and the raw facts about its layout.
pub struct PdfDocument {
    /// The lopdf object graph (image samples emptied unless [`OpenOptions::keep_images`]).
    pub doc: Document,
    /// Length of the file in bytes.
    pub len: u64,
    /// Offset given by the last `startxref`, if one could be read.
    pub last_startxref: Option<u64>,
    /// Whether the newest cross-reference section is a stream (else a classic table).
    pub xref_is_stream: bool,
    /// Whether lopdf had to repair or rebuild the cross-reference data.
    pub xref_repaired: bool,
    /// Header version, e.g. "1.7" or "2.0".
    pub version: String,
}

/// Options for [`PdfDocument::open`].
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Keep image stream contents (normally dropped to save memory).
    pub keep_images: bool,
}

impl PdfDocument {
    /// Opens `bytes` leniently. Rejects empty input, non-PDF data, encrypted documents and files
    /// that cannot be parsed even with cross-reference repair.
    pub fn open(bytes: &[u8], options: &OpenOptions) -> Result<Self, PdfError> {
        if bytes.is_empty() {
            return Err(PdfError::Empty);
        }
        let head = bytes.get(..bytes.len().min(1024)).unwrap_or_default();
        let Some(header_at) = find(head, b"%PDF-") else {
            return Err(PdfError::NotPdf);
        };
        let version = head
            .get(header_at + 5..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_digit() || **b == b'.')
            .map(|&b| b as char)
            .collect::<String>();
        // A file cut off before its first %%EOF is not a complete revision: lenient parsing
        // would "repair" it into a document with half a content stream.
        if rfind(bytes, b"%%EOF").is_none() {
            return Err(PdfError::Unparseable(
                "the file is truncated (no %%EOF end-of-file marker)".into(),
            ));
        }
        if has_encrypt_in_trailer(bytes) {
            return Err(PdfError::Encrypted);
        }
        let load = LoadOptions {
            filter: if options.keep_images {
                None
            } else {
                Some(drop_image_samples)
            },
            ..LoadOptions::default()
        };
        let doc = std::panic::catch_unwind(|| Document::load_mem_with_options(bytes, load))
            .map_err(|_| PdfError::Unparseable("the PDF parser failed on this file".into()))?
            .map_err(|e| PdfError::Unparseable(e.to_string()))?;
        if doc.trailer.get(b"Encrypt").is_ok() || doc.encryption_state.is_some() {
            return Err(PdfError::Encrypted);
        }
        if doc.catalog().is_err() {
            return Err(PdfError::Unparseable("no document catalog".into()));
        }
        if doc.get_pages().is_empty() {
            return Err(PdfError::Unparseable("the document has no pages".into()));
        }
        let last_startxref = parse_last_startxref(bytes);
        let xref_is_stream = matches!(
            doc.reference_table.cross_reference_type,
            lopdf::xref::XrefType::CrossReferenceStream
        );
        let xref_repaired = doc.xref_recovery.is_some() || last_startxref.is_none();
        Ok(Self {
            doc,
            len: bytes.len() as u64,
            last_startxref,
            xref_is_stream,
            xref_repaired,
            version,
        })
    }

    /// Page object ids in document order.
    pub fn page_ids(&self) -> Vec<ObjectId> {
        self.doc.get_pages().into_values().collect()
    }

    /// Number of pages in the page tree.
    pub fn page_count(&self) -> usize {
        self.doc.get_pages().len()
    }

    /// Geometry (visible box and /Rotate) of the page at zero-based `page_index`.
    pub fn page_geometry(&self, page_index: usize) -> Result<PageGeometry, PdfError> {
        let id = self
            .page_ids()
            .get(page_index)
            .copied()
            .ok_or(PdfError::NoSuchPage(page_index + 1))?;
        page_geometry(&self.doc, id)
    }

    /// All signature fields that carry a signature value (/V), in form order.
    pub fn signature_fields(&self) -> Vec<SignatureField> {
        let mut out = Vec::new();
        let Ok(catalog) = self.doc.catalog() else {
            return out;
        };
        let Some(acroform) = catalog
            .get(b"AcroForm")
            .ok()
            .and_then(|o| self.doc.dereference(o).ok())
            .and_then(|(_, o)| o.as_dict().ok())
        else {
            return out;
        };
        let Some(fields) = acroform
            .get(b"Fields")
            .ok()
            .and_then(|o| self.doc.dereference(o).ok())
            .and_then(|(_, o)| o.as_array().ok())
        else {
            return out;
        };
        let mut seen = std::collections::HashSet::new();
        for f in fields {
            self.collect_fields(f, "", None, 0, &mut seen, &mut out);
        }
        // A second field whose /V is an existing signature dictionary is not a second signature.
        let mut values = std::collections::HashSet::new();
        out.retain(|f| f.signature_id.is_none_or(|id| values.insert(id)));
        out
    }

    fn collect_fields(
        &self,
        field: &Object,
        parent_name: &str,
        inherited_ft: Option<&[u8]>,
        depth: usize,
        seen: &mut std::collections::HashSet<ObjectId>,
        out: &mut Vec<SignatureField>,
    ) {
        if depth > 32 {
            return;
        }
        if let Object::Reference(id) = field
            && !seen.insert(*id)
        {
            return;
        }
        let Ok((field_id, obj)) = self.doc.dereference(field) else {
            return;
        };
        let Ok(dict) = obj.as_dict() else {
            return;
        };
        let partial = dict
            .get(b"T")
            .ok()
            .and_then(|o| o.as_str().ok())
            .map(decode_text_string);
        let name = match (&partial, parent_name.is_empty()) {
            (Some(p), true) => p.clone(),
            (Some(p), false) => format!("{parent_name}.{p}"),
            (None, _) => parent_name.to_string(),
        };
        let ft = dict
            .get(b"FT")
            .ok()
            .and_then(|o| o.as_name().ok())
            .or(inherited_ft);
        if let Ok(kids) = dict
            .get(b"Kids")
            .and_then(|k| self.doc.dereference(k).map(|(_, o)| o))
            .and_then(|o| o.as_array())
        {
            for kid in kids {
                self.collect_fields(kid, &name, ft, depth + 1, seen, out);
            }
        }
        if ft != Some(b"Sig".as_slice()) {
            return;
        }
        let Ok(value) = dict.get(b"V") else {
            return;
        };
        let Ok((value_id, value_obj)) = self.doc.dereference(value) else {
            return;
        };
        let Ok(sig) = value_obj.as_dict() else {
            return;
        };
        let name_of = |key: &[u8]| {
            sig.get(key)
                .ok()
                .and_then(|o| o.as_name().ok())
                .map(|n| String::from_utf8_lossy(n).into_owned())
        };
        let text_of = |key: &[u8]| {
            sig.get(key)
                .ok()
                .and_then(|o| self.doc.dereference(o).ok())
                .and_then(|(_, o)| o.as_str().ok())
                .map(decode_text_string)
        };
        let byte_range = sig
            .get(b"ByteRange")
            .ok()
            .and_then(|o| self.doc.dereference(o).ok())
            .and_then(|(_, o)| o.as_array().ok())
            .and_then(|a| {
                a.iter()
                    .map(|o| o.as_i64().ok())
                    .collect::<Option<Vec<i64>>>()
            })
            .unwrap_or_default();
        let docmdp = docmdp_level(&self.doc, sig);
        let contents = sig
            .get(b"Contents")
            .ok()
            .and_then(|o| self.doc.dereference(o).ok())
            .and_then(|(_, o)| o.as_str().ok())
            .map(<[u8]>::to_vec);
        out.push(SignatureField {
            name,
            field_id,
            signature_id: value_id,
            kind: name_of(b"Type"),
            filter: name_of(b"Filter"),
            sub_filter: name_of(b"SubFilter"),
            byte_range,
            contents,
            signing_time: text_of(b"M"),
            signer_name: text_of(b"Name"),
            reason: text_of(b"Reason"),
            location: text_of(b"Location"),
            docmdp,
        });
    }

    /// Names of all existing terminal fields (to pick a unique name for a new one).
    pub fn field_names(&self) -> std::collections::HashSet<String> {
        let mut names = std::collections::HashSet::new();
        let fields = self
            .doc
            .catalog()
            .ok()
            .and_then(|c| c.get(b"AcroForm").ok())
            .and_then(|o| self.doc.dereference(o).ok())
            .and_then(|(_, o)| o.as_dict().ok())
            .and_then(|d| d.get(b"Fields").ok())
            .and_then(|o| self.doc.dereference(o).ok())
            .and_then(|(_, o)| o.as_array().ok());
        for f in fields.into_iter().flatten() {
            if let Some(t) = self
                .doc
                .dereference(f)
                .ok()
                .and_then(|(_, o)| o.as_dict().ok())
                .and_then(|d| d.get(b"T").ok())
                .and_then(|o| o.as_str().ok())
            {
                names.insert(decode_text_string(t));
            }
        }
        names
    }
}

/// A signature field with its signature dictionary, as found in the document.
#[derive(Debug, Clone)]
pub struct SignatureField {
    /// Fully qualified field name.
    pub name: String,
    /// Object id of the field (None when it is a direct object).
    pub field_id: Option<ObjectId>,
    /// Object id of the signature dictionary (None when direct).
    pub signature_id: Option<ObjectId>,
    /// /Type of the signature dictionary: "Sig" or "DocTimeStamp".
    pub kind: Option<String>,
    /// /Filter of the signature dictionary (the preferred handler), e.g. "Adobe.PPKLite".
    pub filter: Option<String>,
    /// /SubFilter: how /Contents is encoded, e.g. "ETSI.CAdES.detached" or "ETSI.RFC3161".
    pub sub_filter: Option<String>,
    /// /ByteRange as written; empty when missing or not all integers.
    pub byte_range: Vec<i64>,
    /// /Contents as parsed (hex-decoded).
    pub contents: Option<Vec<u8>>,
    /// /M, raw PDF date string.
    pub signing_time: Option<String>,
    /// /Name as written by the signing tool (a claim, not read from the certificate).
    pub signer_name: Option<String>,
    /// /Reason given for signing, as claimed by the signer.
    pub reason: Option<String>,
    /// /Location where the document was signed, as claimed by the signer.
    pub location: Option<String>,
    /// For a certification signature, the DocMDP permission level /P (1, 2 or 3) from its
    /// /Reference; None for an approval signature.
    pub docmdp: Option<u8>,
}

/// The DocMDP /P of a signature dictionary whose /Reference names the DocMDP transform method
/// (ISO 32000-1 12.8.2.2): 2 when /P is absent, 1 (the strictest) when it is not 1, 2 or 3.
fn docmdp_level(doc: &Document, sig: &lopdf::Dictionary) -> Option<u8> {
    let refs = sig
        .get(b"Reference")
        .ok()
        .and_then(|o| doc.dereference(o).ok())
        .and_then(|(_, o)| o.as_array().ok())?;
    refs.iter().find_map(|r| {
        let d = doc.dereference(r).ok()?.1.as_dict().ok()?;
        if d.get(b"TransformMethod").ok()?.as_name().ok()? != b"DocMDP" {
            return None;
        }
        let p = d
            .get(b"TransformParams")
            .ok()
            .and_then(|o| doc.dereference(o).ok())
            .and_then(|(_, o)| o.as_dict().ok())
            .and_then(|t| t.get(b"P").ok())
            .and_then(|o| o.as_i64().ok());
        Some(match p {
            None => 2,
            Some(v @ 1..=3) => v as u8,
            Some(_) => 1,
        })
    })
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

pub(crate) fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::rfind(haystack, needle)
}

/// The offset in the last `startxref` of the file.
pub fn parse_last_startxref(bytes: &[u8]) -> Option<u64> {
    let tail_start = bytes.len().saturating_sub(2048);
    let tail = bytes.get(tail_start..)?;
    let at = rfind(tail, b"startxref")?;
    let rest = tail.get(at + 9..)?;
    let digits: String = rest
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .map(|&b| b as char)
        .collect();
    let value: u64 = digits.parse().ok()?;
    (value < bytes.len() as u64).then_some(value)
}

/// Cheap check for an /Encrypt entry in the file's trailers, before a full parse (lopdf would
/// otherwise try to decrypt and may present an encrypted file as empty).
fn has_encrypt_in_trailer(bytes: &[u8]) -> bool {
    // Trailer dictionaries and xref stream dictionaries both carry /Encrypt. Only look near
    // trailer keywords and xref streams to avoid matching page text.
    let mut from = 0;
    while let Some(pos) = bytes.get(from..).and_then(|b| find(b, b"/Encrypt")) {
        let abs = from + pos;
        let window = bytes.get(abs.saturating_sub(4096)..abs).unwrap_or_default();
        if rfind(window, b"trailer").is_some() || rfind(window, b"/XRef").is_some() {
            // Followed by a reference or a dictionary: a real entry, not e.g. /EncryptMetadata.
            let next = bytes.get(abs + 8).copied().unwrap_or(b' ');
            if !next.is_ascii_alphanumeric() {
                return true;
            }
        }
        from = abs + 8;
    }
    false
}

/// Offsets just past each `%%EOF` marker (and its end-of-line), i.e. candidate revision ends.
pub fn revision_ends(bytes: &[u8]) -> Vec<u64> {
    let mut ends = Vec::new();
    let mut from = 0;
    while let Some(pos) = bytes.get(from..).and_then(|b| find(b, b"%%EOF")) {
        let mut end = from + pos + 5;
        // The marker may be followed by CR, LF or CRLF which still belong to the revision.
        if bytes.get(end) == Some(&b'\r') {
            end += 1;
        }
        if bytes.get(end) == Some(&b'\n') {
            end += 1;
        }
        ends.push(end as u64);
        from = from + pos + 5;
    }
    ends
}

/// Returns true when `pos` is the end of a revision: right after `%%EOF` plus optional EOL.
pub fn is_revision_end(bytes: &[u8], pos: u64) -> bool {
    let Ok(pos) = usize::try_from(pos) else {
        return false;
    };
    if pos > bytes.len() || pos < 5 {
        return false;
    }
    let mut p = pos;
    if p >= 1 && bytes.get(p - 1) == Some(&b'\n') {
        p -= 1;
    }
    if p >= 1 && bytes.get(p - 1) == Some(&b'\r') {
        p -= 1;
    }
    p >= 5 && bytes.get(p - 5..p) == Some(b"%%EOF".as_slice())
}
