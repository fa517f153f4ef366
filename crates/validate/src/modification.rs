//! What changed after a signature, judged over the object graph.
//!
//! The document is resolved twice: as the signed revision saw it (its own cross-reference
//! chain) and as the final revision shows it. Both graphs are walked side by side from the
//! catalog; an object differs when its resolution differs, wherever its bytes live (a later
//! entry that re-points to a "shadow" object inside the signed bytes counts like new bytes).
//! Every difference must be explained by a rule for the signature's type:
//!
//! - after an approval signature: genuine later signatures and document timestamps (a new
//!   field of type Sig with a widget of subtype Widget, whose /V is a new signature dictionary
//!   that must itself verify, which the caller checks), DSS additions and updates, /Extensions,
//!   a catalog /Version upgrade, and /Info or XMP metadata reached only as metadata;
//! - after a certification signature, what its DocMDP /P permits: 1 nothing but DSS and
//!   document timestamps; 2 also signing and filling in existing form fields; 3 also adding
//!   markup annotations that do not cover page text.
//!
//! Anything else is reported with its path from the catalog (e.g. `/Root/Pages/Kids[0]/Contents`).
//!
//! Owns the rules; must not know certificates or CMS (later signatures are handed back to the
//! caller as object ids to check).

use sahih_pdf::lopdf::xref::XrefEntry;
use sahih_pdf::lopdf::{Dictionary, Document, Object, ObjectId};
use sahih_pdf::revisions::{entry_names_object, startxref_before, xref_chain};
use sahih_pdf::{OpenOptions, PdfDocument};
use serde::Serialize;
use std::collections::{HashMap, HashSet, VecDeque};

/// Outcome of the analysis for one signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modifications {
    /// The signature covers the whole file.
    None,
    /// Later revisions only add what the rules allow.
    SignaturesOnly,
    /// At least one change is not allowed; see [`Analysis::changes`].
    Disallowed,
}

/// What kind of change was found (stable codes; the text is rendered per language).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Bytes after the last revision that are not a revision.
    UnsignedData,
    /// Cross-reference data that readers may resolve differently (repaired, or an entry that
    /// points at another object).
    XrefInconsistent,
    /// A revision that the cross-reference chain does not reach, or a chain that does not lead
    /// back to the signed revision.
    HiddenRevision,
    /// Pages added, removed or reordered.
    PagesChanged,
    /// Content, fonts, resources or any other object a reader uses.
    ContentChanged,
    /// An object was defined where the signed revision had none.
    ObjectAdded,
    /// An object was removed (freed or no longer defined).
    ObjectRemoved,
    /// An image was redefined (its samples cannot be proven the same).
    ImageReplaced,
    /// The document catalog changed beyond what signing needs.
    CatalogChanged,
    /// An action or script was added or changed (/OpenAction, /AA, JavaScript).
    ActionAdded,
    /// The form dictionary or a form field changed (/NeedAppearances, /XFA, fields).
    FormChanged,
    /// A form field's value or appearance changed where no certification allows it.
    FormFilled,
    /// An annotation or widget that can cover content was added.
    AnnotationAdded,
    /// A signature field without a signature, with a visible appearance.
    UnsignedSignatureField,
    /// A field that poses as a signature: its /V is not a new signature dictionary, or the
    /// later signature does not verify.
    FakeSignature,
    /// A change the certification signature's DocMDP permissions forbid.
    DocMdpViolation,
    /// The structure is too large or too deep to analyse.
    TooComplex,
}

impl ChangeKind {
    /// A short English description (technical detail in reports and logs).
    pub fn describe(self) -> &'static str {
        match self {
            Self::UnsignedData => "unsigned data after the last revision",
            Self::XrefInconsistent => "cross-reference data that readers may resolve differently",
            Self::HiddenRevision => "a revision that the cross-reference chain does not reach",
            Self::PagesChanged => "pages were added, removed or reordered",
            Self::ContentChanged => "content or resources were changed",
            Self::ObjectAdded => "an object was defined that did not exist when signed",
            Self::ObjectRemoved => "an object was removed",
            Self::ImageReplaced => "an image was replaced",
            Self::CatalogChanged => "the document catalog was changed",
            Self::ActionAdded => "an action or script was added or changed",
            Self::FormChanged => "the form or a form field was changed",
            Self::FormFilled => "a form field was filled in after signing",
            Self::AnnotationAdded => "an annotation or widget that can cover content was added",
            Self::UnsignedSignatureField => "an unsigned signature field with an appearance",
            Self::FakeSignature => "a field poses as a signature that was never made",
            Self::DocMdpViolation => "a change the certification signature does not permit",
            Self::TooComplex => "the document structure is too large to analyse",
        }
    }
}

/// One change, with where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Which kind of change; decides the rendered text.
    pub kind: ChangeKind,
    /// Path from the trailer, e.g. `/Root/Pages/Kids[0]/Contents`; empty for file-level changes.
    pub path: String,
}

impl Change {
    /// The kind's English description, followed by the path when there is one.
    pub fn describe(&self) -> String {
        if self.path.is_empty() {
            self.kind.describe().to_string()
        } else {
            format!("{} at {}", self.kind.describe(), self.path)
        }
    }
}

/// The signature's type, which decides what may follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureRole {
    /// An approval (ordinary) signature: only signatures, timestamps, DSS and metadata may follow.
    Approval,
    /// A certification signature with its DocMDP /P (1, 2 or 3).
    Certification(u8),
}

/// The result of the analysis.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// The verdict: no later changes, only allowed ones, or at least one disallowed.
    pub modifications: Modifications,
    /// Disallowed changes, at most [`MAX_CHANGES`], in the order found.
    pub changes: Vec<Change>,
    /// Signature dictionaries of later signatures and document timestamps that the verdict
    /// relies on: each must itself verify, or the later field is a fake signature.
    pub later_signatures: Vec<ObjectId>,
}

impl Analysis {
    fn verdict(modifications: Modifications, changes: Vec<Change>) -> Self {
        Self {
            modifications,
            changes,
            later_signatures: Vec::new(),
        }
    }
    fn file_level(kind: ChangeKind) -> Self {
        Self::verdict(
            Modifications::Disallowed,
            vec![Change {
                kind,
                path: String::new(),
            }],
        )
    }
}

/// How many changes are listed before the analysis stops looking.
pub const MAX_CHANGES: usize = 16;
/// Work limit (object pairs compared) against hostile structure.
const MAX_WORK: usize = 4_000_000;

/// Analyses the changes between the revision ending at `signed_end` and the whole file.
pub fn analyse(
    bytes: &[u8],
    signed_end: usize,
    final_doc: &PdfDocument,
    role: SignatureRole,
) -> Analysis {
    let trailing = bytes.get(signed_end..).unwrap_or_default();
    if trailing.iter().all(|b| b.is_ascii_whitespace() || *b == 0) {
        let m = if trailing.is_empty() {
            Modifications::None
        } else {
            Modifications::SignaturesOnly
        };
        return Analysis::verdict(m, Vec::new());
    }
    // Bytes after the last revision that are not a revision of their own.
    let ends = sahih_pdf::revision_ends(bytes);
    let last_end = ends.last().copied().unwrap_or(0) as usize;
    let after_last = bytes.get(last_end..).unwrap_or_default();
    if !after_last
        .iter()
        .all(|b| b.is_ascii_whitespace() || *b == 0)
    {
        return Analysis::file_level(ChangeKind::UnsignedData);
    }
    if final_doc.xref_repaired {
        return Analysis::file_level(ChangeKind::XrefInconsistent);
    }
    // Every later revision must be one a reader reaches, and the chain must lead back to the
    // signed revision: otherwise readers that rebuild the cross-reference data see other objects.
    let Some(last_start) = final_doc.last_startxref else {
        return Analysis::file_level(ChangeKind::XrefInconsistent);
    };
    let chain = xref_chain(bytes, last_start);
    let in_chain: HashSet<u64> = chain.sections.iter().copied().collect();
    let signed_start = startxref_before(bytes, signed_end);
    if !signed_start.is_some_and(|s| in_chain.contains(&s)) {
        return Analysis::file_level(ChangeKind::HiddenRevision);
    }
    for end in ends.iter().filter(|e| **e as usize > signed_end) {
        let reached = startxref_before(bytes, *end as usize).is_some_and(|s| in_chain.contains(&s));
        if !reached {
            return Analysis::file_level(ChangeKind::HiddenRevision);
        }
    }

    let Some(prefix) = bytes.get(..signed_end) else {
        return Analysis::file_level(ChangeKind::XrefInconsistent);
    };
    let old = match PdfDocument::open(prefix, &OpenOptions::default()) {
        Ok(d) => d,
        Err(_) => return Analysis::file_level(ChangeKind::XrefInconsistent),
    };
    let (od, nd) = (&old.doc, &final_doc.doc);

    // Objects whose resolution may differ: their entry differs, or their object stream does.
    let mut redefined = HashSet::new();
    for (num, entry) in &nd.reference_table.entries {
        let same = od
            .reference_table
            .get(*num)
            .is_some_and(|o| same_entry(o, entry));
        if !same {
            if !entry_names_object(bytes, nd, *num, entry) {
                return Analysis::file_level(ChangeKind::XrefInconsistent);
            }
            redefined.insert(*num);
        }
    }
    for num in od.reference_table.entries.keys() {
        if nd.reference_table.get(*num).is_none() {
            redefined.insert(*num);
        }
    }
    for (num, entry) in &nd.reference_table.entries {
        if let XrefEntry::Compressed { container, .. } = entry
            && redefined.contains(container)
        {
            redefined.insert(*num);
        }
    }

    let old_pages = old.page_ids();
    if old_pages != final_doc.page_ids() {
        return Analysis::file_level(ChangeKind::PagesChanged);
    }

    let empty = Dictionary::new();
    let mut walker = Walker::new(od, nd, &redefined, role, &old_pages, &empty);
    walker.run();
    let modifications = if walker.changes.is_empty() {
        Modifications::SignaturesOnly
    } else {
        Modifications::Disallowed
    };
    let mut later: Vec<ObjectId> = walker.claimed.keys().copied().collect();
    later.sort_unstable();
    Analysis {
        modifications,
        changes: walker.changes,
        later_signatures: later,
    }
}

fn same_entry(a: &XrefEntry, b: &XrefEntry) -> bool {
    match (a, b) {
        (
            XrefEntry::Normal {
                offset: o1,
                generation: g1,
            },
            XrefEntry::Normal {
                offset: o2,
                generation: g2,
            },
        ) => o1 == o2 && g1 == g2,
        (
            XrefEntry::Compressed {
                container: c1,
                index: i1,
            },
            XrefEntry::Compressed {
                container: c2,
                index: i2,
            },
        ) => c1 == c2 && i1 == i2,
        (XrefEntry::Free | XrefEntry::UnusableFree, XrefEntry::Free | XrefEntry::UnusableFree) => {
            true
        }
        _ => false,
    }
}

/// What an object is, which decides which of its changes may be allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Role {
    Generic,
    Catalog,
    AcroForm,
    Fields,
    /// A node of the form's field tree as it was signed (fields and their widgets).
    Field,
    Page,
    Annots,
}

/// One step of a path from the trailer.
#[derive(Debug, Clone, Copy)]
enum Seg<'a> {
    Root,
    Key(&'a [u8]),
    Index(usize),
}

#[derive(Clone, Copy)]
struct Item<'a> {
    old: Option<&'a Object>,
    new: Option<&'a Object>,
    role: Role,
    /// The page an /Annots array belongs to.
    page: Option<ObjectId>,
    path: usize,
}

/// Keys whose change is an action or script rather than content.
const ACTION_KEYS: &[&[u8]] = &[b"OpenAction", b"AA", b"JS", b"JavaScript", b"A"];
/// Markup annotations that certification level 3 permits to be added.
const MARKUP_SUBTYPES: &[&[u8]] = &[
    b"Text",
    b"Highlight",
    b"Underline",
    b"Squiggly",
    b"StrikeOut",
    b"Popup",
    b"Link",
    b"Caret",
];
/// Markup whose purpose is to lie over text: permitted only without an appearance of its own
/// (the reader then draws a translucent mark), since an appearance could paint anything.
const TEXT_MARKUP_SUBTYPES: &[&[u8]] = &[b"Highlight", b"Underline", b"Squiggly", b"StrikeOut"];

struct Walker<'a> {
    od: &'a Document,
    nd: &'a Document,
    redefined: &'a HashSet<u32>,
    role: SignatureRole,
    roles: HashMap<ObjectId, Role>,
    /// For indirect /Annots arrays: their page.
    annots_page: HashMap<ObjectId, ObjectId>,
    seen: HashSet<(Option<ObjectId>, Option<ObjectId>, Role)>,
    /// Breadth first, so a change is reported on its shortest path from the catalog
    /// (/Root/Pages/Kids[0]/Contents, not through a widget's /P).
    queue: VecDeque<Item<'a>>,
    paths: Vec<(usize, Seg<'a>)>,
    changes: Vec<Change>,
    /// New signature dictionaries and the field that claims each.
    claimed: HashMap<ObjectId, ObjectId>,
    /// New fields already judged (reached from /Fields and from a page's /Annots).
    judged_fields: HashMap<ObjectId, Result<(), ChangeKind>>,
    glyphs: HashMap<ObjectId, Option<Vec<[f64; 4]>>>,
    work: usize,
    empty: &'a Dictionary,
}

const NO_PARENT: usize = usize::MAX;

impl<'a> Walker<'a> {
    fn new(
        od: &'a Document,
        nd: &'a Document,
        redefined: &'a HashSet<u32>,
        role: SignatureRole,
        pages: &[ObjectId],
        empty: &'a Dictionary,
    ) -> Self {
        let mut w = Walker {
            od,
            nd,
            redefined,
            role,
            roles: HashMap::new(),
            annots_page: HashMap::new(),
            seen: HashSet::new(),
            queue: VecDeque::new(),
            paths: Vec::new(),
            changes: Vec::new(),
            claimed: HashMap::new(),
            judged_fields: HashMap::new(),
            glyphs: HashMap::new(),
            work: 0,
            empty,
        };
        for doc in [od, nd] {
            w.collect_roles(doc, pages);
        }
        w
    }

    /// Container objects are recognised by identity (whichever path reaches them), so a page
    /// reached through an annotation's /P is still judged as a page.
    fn collect_roles(&mut self, doc: &Document, pages: &[ObjectId]) {
        for p in pages {
            self.roles.insert(*p, Role::Page);
            if let Ok(Object::Reference(a)) = doc.get_dictionary(*p).and_then(|d| d.get(b"Annots"))
            {
                self.roles.insert(*a, Role::Annots);
                self.annots_page.insert(*a, *p);
            }
        }
        let Ok(Object::Reference(root)) = doc.trailer.get(b"Root") else {
            return;
        };
        self.roles.insert(*root, Role::Catalog);
        let Ok(catalog) = doc.get_dictionary(*root) else {
            return;
        };
        let Ok(form_obj) = catalog.get(b"AcroForm") else {
            return;
        };
        if let Object::Reference(id) = form_obj {
            self.roles.insert(*id, Role::AcroForm);
        }
        let Some(form) = doc
            .dereference(form_obj)
            .ok()
            .and_then(|(_, o)| o.as_dict().ok())
        else {
            return;
        };
        let Ok(fields_obj) = form.get(b"Fields") else {
            return;
        };
        if let Object::Reference(id) = fields_obj {
            self.roles.insert(*id, Role::Fields);
        }
        // The field tree as signed: only the old document's fields are "existing" fields.
        if !std::ptr::eq(doc, self.od) {
            return;
        }
        let Some(fields) = doc
            .dereference(fields_obj)
            .ok()
            .and_then(|(_, o)| o.as_array().ok())
        else {
            return;
        };
        let mut todo: Vec<(&Object, usize)> = fields.iter().map(|f| (f, 0)).collect();
        while let Some((f, depth)) = todo.pop() {
            let Object::Reference(id) = f else { continue };
            if depth > 64 || self.roles.contains_key(id) {
                continue;
            }
            self.roles.insert(*id, Role::Field);
            if let Ok(kids) = doc
                .get_dictionary(*id)
                .and_then(|d| d.get(b"Kids"))
                .and_then(|k| doc.dereference(k).map(|(_, o)| o))
                .and_then(Object::as_array)
            {
                todo.extend(kids.iter().map(|k| (k, depth + 1)));
            }
        }
    }

    fn seg(&mut self, parent: usize, seg: Seg<'a>) -> usize {
        self.paths.push((parent, seg));
        self.paths.len() - 1
    }

    fn path_text(&self, mut at: usize) -> String {
        let mut segs = Vec::new();
        while at != NO_PARENT {
            let Some((parent, seg)) = self.paths.get(at) else {
                break;
            };
            segs.push(*seg);
            at = *parent;
        }
        let mut out = String::new();
        for seg in segs.iter().rev() {
            match seg {
                Seg::Root => out.push_str("/Root"),
                Seg::Key(k) => {
                    out.push('/');
                    out.push_str(&String::from_utf8_lossy(k));
                }
                Seg::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    fn path_has_key(&self, mut at: usize, keys: &[&[u8]]) -> bool {
        while at != NO_PARENT {
            let Some((parent, seg)) = self.paths.get(at) else {
                return false;
            };
            if let Seg::Key(k) = seg
                && keys.contains(k)
            {
                return true;
            }
            at = *parent;
        }
        false
    }

    fn change(&mut self, kind: ChangeKind, path: usize) {
        if self.changes.len() >= MAX_CHANGES {
            return;
        }
        // A generic difference is named by where it is.
        let kind = match kind {
            ChangeKind::ContentChanged | ChangeKind::ObjectAdded | ChangeKind::ObjectRemoved
                if self.path_has_key(path, ACTION_KEYS) =>
            {
                ChangeKind::ActionAdded
            }
            ChangeKind::ContentChanged | ChangeKind::ObjectAdded | ChangeKind::ObjectRemoved
                if self.path_has_key(path, &[b"AcroForm"]) =>
            {
                ChangeKind::FormChanged
            }
            k => k,
        };
        let path = self.path_text(path);
        self.changes.push(Change { kind, path });
    }

    fn push(&mut self, old: Option<&'a Object>, new: Option<&'a Object>, role: Role, path: usize) {
        self.queue.push_back(Item {
            old,
            new,
            role,
            page: None,
            path,
        });
    }

    fn run(&mut self) {
        let root = self.seg(NO_PARENT, Seg::Root);
        let (o, n) = (
            self.od.trailer.get(b"Root").ok(),
            self.nd.trailer.get(b"Root").ok(),
        );
        self.push(o, n, Role::Catalog, root);
        while let Some(item) = self.queue.pop_front() {
            if self.changes.len() >= MAX_CHANGES {
                return;
            }
            self.work += 1;
            if self.work > MAX_WORK {
                self.change(ChangeKind::TooComplex, item.path);
                return;
            }
            self.step(item);
        }
    }

    fn step(&mut self, item: Item<'a>) {
        let (oid, o) = resolve(self.od, item.old);
        let (nid, n) = resolve(self.nd, item.new);
        let role = nid
            .or(oid)
            .and_then(|id| self.roles.get(&id).copied())
            .filter(|_| {
                // Identity roles hold only where both sides are the same object (or one side
                // is absent); a re-pointed reference is compared as plain content.
                oid.is_none() || nid.is_none() || oid == nid
            })
            .unwrap_or(item.role);
        if (oid.is_some() || nid.is_some()) && !self.seen.insert((oid, nid, role)) {
            return;
        }
        let identical =
            matches!((oid, nid), (Some(a), Some(b)) if a == b && !self.redefined.contains(&a.0));
        let page = match (role, oid.or(nid)) {
            (Role::Annots, Some(id)) => self.annots_page.get(&id).copied(),
            (Role::Annots, None) => item.page,
            _ => None,
        };
        match (role, o, n) {
            (Role::Catalog, Some(Object::Dictionary(a)), Some(Object::Dictionary(b))) => {
                self.catalog(a, b, item.path)
            }
            (Role::AcroForm, Some(Object::Dictionary(a)), Some(Object::Dictionary(b))) => {
                self.acroform(a, b, item.path)
            }
            (Role::AcroForm, None, Some(Object::Dictionary(b))) => {
                self.acroform(self.empty, b, item.path)
            }
            (Role::Fields, Some(Object::Array(a)), Some(Object::Array(b))) => {
                self.grown_array(a, b, item.path, None)
            }
            (Role::Fields, None, Some(Object::Array(b))) => {
                self.grown_array(&[], b, item.path, None)
            }
            (Role::Page, Some(Object::Dictionary(a)), Some(Object::Dictionary(b))) => {
                self.page(a, b, oid.or(nid), item.path)
            }
            (Role::Annots, Some(Object::Array(a)), Some(Object::Array(b))) => {
                self.grown_array(a, b, item.path, page)
            }
            (Role::Field, Some(Object::Dictionary(a)), Some(Object::Dictionary(b))) => {
                self.field(a, b, item.path)
            }
            _ => self.generic(o, n, identical, item.path),
        }
    }

    fn generic(
        &mut self,
        o: Option<&'a Object>,
        n: Option<&'a Object>,
        identical: bool,
        path: usize,
    ) {
        match (o, n) {
            (None, None) => {}
            (None, Some(_)) => self.change(ChangeKind::ObjectAdded, path),
            (Some(_), None) => self.change(ChangeKind::ObjectRemoved, path),
            (Some(Object::Dictionary(a)), Some(Object::Dictionary(b))) => {
                self.dict_entries(a, b, &[], path)
            }
            (Some(Object::Array(a)), Some(Object::Array(b))) => {
                if a.len() != b.len() {
                    self.change(ChangeKind::ContentChanged, path);
                    return;
                }
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    let p = self.seg(path, Seg::Index(i));
                    self.push(Some(x), Some(y), Role::Generic, p);
                }
            }
            (Some(Object::Stream(a)), Some(Object::Stream(b))) => {
                self.dict_entries(&a.dict, &b.dict, &[], path);
                if identical {
                    return;
                }
                let image = |s: &sahih_pdf::lopdf::Stream| matches!(s.dict.get(b"Subtype"), Ok(Object::Name(n)) if n == b"Image");
                if image(a) || image(b) {
                    // Samples are dropped at parse time; a redefined image is never proven equal.
                    self.change(ChangeKind::ImageReplaced, path);
                } else if a.content != b.content {
                    self.change(ChangeKind::ContentChanged, path);
                }
            }
            (Some(a), Some(b)) => {
                if a != b {
                    self.change(ChangeKind::ContentChanged, path);
                }
            }
        }
    }

    /// Compares every key of two dictionaries except `skip`.
    fn dict_entries(&mut self, a: &'a Dictionary, b: &'a Dictionary, skip: &[&[u8]], path: usize) {
        let keys: Vec<&'a [u8]> = {
            let mut k: Vec<&[u8]> = a
                .iter()
                .map(|(k, _)| k.as_slice())
                .chain(b.iter().map(|(k, _)| k.as_slice()))
                .collect();
            k.sort_unstable();
            k.dedup();
            k
        };
        for key in keys {
            if skip.contains(&key) {
                continue;
            }
            let p = self.seg(path, Seg::Key(key));
            self.push(a.get(key).ok(), b.get(key).ok(), Role::Generic, p);
        }
    }

    fn catalog(&mut self, a: &'a Dictionary, b: &'a Dictionary, path: usize) {
        // DSS holds validation data; /Extensions declares extension levels: neither is shown.
        let mut skip: Vec<&[u8]> = vec![b"DSS", b"Extensions", b"Version", b"AcroForm"];
        if !version_ok(a.get(b"Version").ok(), b.get(b"Version").ok()) {
            let p = self.seg(path, Seg::Key(b"Version"));
            self.change(ChangeKind::CatalogChanged, p);
        }
        // XMP metadata reached as metadata; reached any other way it is compared there.
        let is_xmp = |doc: &Document, o: Option<&Object>| {
            resolve(doc, o).1.is_none_or(|o| {
                matches!(o, Object::Stream(s)
                    if matches!(s.dict.get(b"Type"), Ok(Object::Name(t)) if t == b"Metadata"))
            })
        };
        if is_xmp(self.od, a.get(b"Metadata").ok()) && is_xmp(self.nd, b.get(b"Metadata").ok()) {
            skip.push(b"Metadata");
        }
        self.dict_entries(a, b, &skip, path);
        let p = self.seg(path, Seg::Key(b"AcroForm"));
        self.push(
            a.get(b"AcroForm").ok(),
            b.get(b"AcroForm").ok(),
            Role::AcroForm,
            p,
        );
    }

    fn acroform(&mut self, a: &'a Dictionary, b: &'a Dictionary, path: usize) {
        // /SigFlags records that signatures exist. /DR and /DA only matter when a reader
        // regenerates appearances, which /NeedAppearances (compared) asks for.
        let regenerates = matches!(b.get(b"NeedAppearances"), Ok(Object::Boolean(true)));
        let mut skip: Vec<&[u8]> = vec![b"SigFlags", b"Fields"];
        if !regenerates {
            skip.extend_from_slice(&[b"DR".as_slice(), b"DA".as_slice()]);
        }
        self.dict_entries(a, b, &skip, path);
        let p = self.seg(path, Seg::Key(b"Fields"));
        self.push(
            a.get(b"Fields").ok(),
            b.get(b"Fields").ok(),
            Role::Fields,
            p,
        );
    }

    fn page(&mut self, a: &'a Dictionary, b: &'a Dictionary, id: Option<ObjectId>, path: usize) {
        self.dict_entries(a, b, &[b"Annots"], path);
        let p = self.seg(path, Seg::Key(b"Annots"));
        let (o, n) = (a.get(b"Annots").ok(), b.get(b"Annots").ok());
        if o.is_none() && n.is_some() {
            // A page without annotations gains its first: judge the new array's entries.
            if let (_, Some(Object::Array(arr))) = resolve(self.nd, n) {
                self.grown_array(&[], arr, p, id);
            } else {
                self.change(ChangeKind::AnnotationAdded, p);
            }
            return;
        }
        self.queue.push_back(Item {
            old: o,
            new: n,
            role: Role::Annots,
            page: id,
            path: p,
        });
    }

    /// /Fields (page = None) or a page's /Annots: the signed entries stay as they were, and
    /// each added entry must be allowed.
    fn grown_array(
        &mut self,
        a: &'a [Object],
        b: &'a [Object],
        path: usize,
        page: Option<ObjectId>,
    ) {
        if b.len() < a.len() {
            self.change(ChangeKind::ContentChanged, path);
        }
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            let p = self.seg(path, Seg::Index(i));
            self.push(Some(x), Some(y), Role::Generic, p);
        }
        for (i, added) in b.iter().enumerate().skip(a.len()) {
            let p = self.seg(path, Seg::Index(i));
            let verdict = match page {
                None => self.added_field(added),
                Some(page) => self.added_annotation(added, page),
            };
            if let Err(kind) = verdict {
                self.change(kind, p);
            }
        }
    }

    /// A new, uncompressed-or-not object that did not exist when signed.
    fn new_object(&self, obj: &Object) -> Option<(ObjectId, &'a Dictionary)> {
        let Object::Reference(id) = obj else {
            return None;
        };
        if self.od.objects.contains_key(id) {
            return None;
        }
        self.nd.get_dictionary(*id).ok().map(|d| (*id, d))
    }

    fn added_field(&mut self, obj: &Object) -> Result<(), ChangeKind> {
        let Some((id, d)) = self.new_object(obj) else {
            return Err(ChangeKind::FormChanged);
        };
        self.signature_field(id, d)
    }

    /// Whether a new field is a genuine signature field (or an invisible empty one).
    fn signature_field(&mut self, id: ObjectId, d: &'a Dictionary) -> Result<(), ChangeKind> {
        if let Some(v) = self.judged_fields.get(&id) {
            return *v;
        }
        let verdict = self.judge_signature_field(id, d);
        self.judged_fields.insert(id, verdict);
        verdict
    }

    fn judge_signature_field(&mut self, id: ObjectId, d: &'a Dictionary) -> Result<(), ChangeKind> {
        if !name_is(d, b"FT", b"Sig") {
            return Err(ChangeKind::FormChanged);
        }
        // Its widgets: the field itself (merged), or new kids of subtype Widget.
        let mut widgets: Vec<&Dictionary> = Vec::new();
        match d.get(b"Kids") {
            Ok(kids) => {
                let kids = resolve(self.nd, Some(kids))
                    .1
                    .and_then(|o| o.as_array().ok());
                for kid in kids.into_iter().flatten() {
                    let Some((_, w)) = self.new_object(kid) else {
                        return Err(ChangeKind::AnnotationAdded);
                    };
                    if !name_is(w, b"Subtype", b"Widget")
                        || w.get(b"Parent").ok() != Some(&Object::Reference(id))
                    {
                        return Err(ChangeKind::AnnotationAdded);
                    }
                    widgets.push(w);
                }
            }
            Err(_) => {
                if d.get(b"Subtype").is_ok() && !name_is(d, b"Subtype", b"Widget") {
                    return Err(ChangeKind::AnnotationAdded);
                }
                widgets.push(d);
            }
        }
        match d.get(b"V") {
            Ok(Object::Reference(vid)) => {
                if self.od.objects.contains_key(vid) {
                    return Err(ChangeKind::FakeSignature);
                }
                if let Some(other) = self.claimed.get(vid)
                    && *other != id
                {
                    return Err(ChangeKind::FakeSignature);
                }
                let Ok(sig) = self.nd.get_dictionary(*vid) else {
                    return Err(ChangeKind::FakeSignature);
                };
                let timestamp = name_is(sig, b"Type", b"DocTimeStamp")
                    || name_is(sig, b"SubFilter", b"ETSI.RFC3161");
                if !(timestamp || sig.get(b"Type").is_err() || name_is(sig, b"Type", b"Sig")) {
                    return Err(ChangeKind::FakeSignature);
                }
                if !timestamp && self.role == SignatureRole::Certification(1) {
                    return Err(ChangeKind::DocMdpViolation);
                }
                self.claimed.insert(*vid, id);
                Ok(())
            }
            Ok(Object::Null) | Err(_) => {
                if self.role == SignatureRole::Certification(1) {
                    return Err(ChangeKind::DocMdpViolation);
                }
                if widgets.iter().any(|w| self.visible(w)) {
                    return Err(ChangeKind::UnsignedSignatureField);
                }
                Ok(())
            }
            Ok(_) => Err(ChangeKind::FakeSignature),
        }
    }

    fn added_annotation(&mut self, obj: &Object, page: ObjectId) -> Result<(), ChangeKind> {
        let Some((id, d)) = self.new_object(obj) else {
            return Err(ChangeKind::AnnotationAdded);
        };
        if name_is(d, b"Subtype", b"Widget") {
            if d.get(b"FT").is_ok() {
                return self.signature_field(id, d);
            }
            // A widget of a new signature field.
            let parent = d.get(b"Parent").ok().and_then(|p| self.new_object(p));
            return match parent {
                Some((pid, pd)) => self.signature_field(pid, pd),
                None => Err(ChangeKind::AnnotationAdded),
            };
        }
        if self.role != SignatureRole::Certification(3) {
            return Err(if matches!(self.role, SignatureRole::Certification(_)) {
                ChangeKind::DocMdpViolation
            } else {
                ChangeKind::AnnotationAdded
            });
        }
        let subtype = d
            .get(b"Subtype")
            .and_then(Object::as_name)
            .unwrap_or_default();
        if !MARKUP_SUBTYPES.contains(&subtype) {
            return Err(ChangeKind::AnnotationAdded);
        }
        if TEXT_MARKUP_SUBTYPES.contains(&subtype) {
            return if d.get(b"AP").is_ok() {
                Err(ChangeKind::AnnotationAdded)
            } else {
                Ok(())
            };
        }
        let shows_box = d.get(b"AP").is_ok()
            || (subtype == b"Popup" && matches!(d.get(b"Open"), Ok(Object::Boolean(true))));
        if shows_box && self.visible(d) && self.covers_text(page, d) {
            return Err(ChangeKind::AnnotationAdded);
        }
        Ok(())
    }

    /// Whether a widget or annotation shows something: an appearance, a non-empty rectangle,
    /// and neither the Hidden nor the NoView flag.
    fn visible(&self, d: &Dictionary) -> bool {
        let flags = d.get(b"F").and_then(Object::as_i64).unwrap_or(0);
        if flags & (2 | 32) != 0 {
            return false;
        }
        let Some(r) = rect(self.nd, d) else {
            return false;
        };
        (r[2] - r[0]).abs() > 0.0 && (r[3] - r[1]).abs() > 0.0 && d.get(b"AP").is_ok()
    }

    fn covers_text(&mut self, page: ObjectId, d: &Dictionary) -> bool {
        let Some(r) = rect(self.nd, d) else {
            return true;
        };
        let nd = self.nd;
        let glyphs = self.glyphs.entry(page).or_insert_with(|| {
            sahih_pdf::text::page_glyphs(nd, page)
                .ok()
                .map(|g| g.into_iter().map(|g| g.rect).collect())
        });
        let Some(glyphs) = glyphs else {
            return true; // text that cannot be read cannot be shown to be uncovered
        };
        let (x0, x1) = (r[0].min(r[2]), r[0].max(r[2]));
        let (y0, y1) = (r[1].min(r[3]), r[1].max(r[3]));
        glyphs
            .iter()
            .any(|g| g[0] < x1 && g[2] > x0 && g[1] < y1 && g[3] > y0)
    }

    /// An existing field-tree node: signing an empty signature field, and (under DocMDP 2 or
    /// 3) filling in a form field, may change it.
    fn field(&mut self, a: &'a Dictionary, b: &'a Dictionary, path: usize) {
        let ft = self.field_type(a);
        let mut skip: Vec<&[u8]> = Vec::new();
        if ft.as_deref() == Some(b"Sig".as_slice()) {
            let signed_now = a.get(b"V").is_err() && b.get(b"V").is_ok();
            if signed_now {
                let verdict = self.signed_value(b);
                if let Err(kind) = verdict {
                    let p = self.seg(path, Seg::Key(b"V"));
                    self.change(kind, p);
                }
                skip.extend_from_slice(&[b"V".as_slice(), b"AP".as_slice()]);
            } else if self.parent_signed_now(a, b) {
                // A widget kid of a field that gets its signature now: its appearance.
                skip.push(b"AP");
            }
        } else {
            let filled = [b"V".as_slice(), b"AS".as_slice(), b"AP".as_slice()];
            let changed = filled
                .iter()
                .any(|k| !same_direct(self.od, self.nd, a.get(k).ok(), b.get(k).ok()));
            match self.role {
                SignatureRole::Certification(2 | 3) => skip.extend_from_slice(&filled),
                _ if changed => {
                    self.change(ChangeKind::FormFilled, path);
                    skip.extend_from_slice(&filled);
                }
                _ => {}
            }
        }
        self.dict_entries(a, b, &skip, path);
    }

    /// The /V a previously empty signature field gets now must be a new signature.
    fn signed_value(&mut self, b: &'a Dictionary) -> Result<(), ChangeKind> {
        let Ok(Object::Reference(vid)) = b.get(b"V") else {
            return Err(ChangeKind::FakeSignature);
        };
        if self.od.objects.contains_key(vid) || self.claimed.contains_key(vid) {
            return Err(ChangeKind::FakeSignature);
        }
        let timestamp = self
            .nd
            .get_dictionary(*vid)
            .is_ok_and(|s| name_is(s, b"Type", b"DocTimeStamp"));
        if !timestamp && self.role == SignatureRole::Certification(1) {
            return Err(ChangeKind::DocMdpViolation);
        }
        self.claimed.insert(*vid, *vid);
        Ok(())
    }

    fn parent_signed_now(&self, a: &Dictionary, b: &Dictionary) -> bool {
        let (Ok(pa), Ok(pb)) = (a.get(b"Parent"), b.get(b"Parent")) else {
            return false;
        };
        if pa != pb {
            return false;
        }
        let old = resolve(self.od, Some(pa)).1.and_then(|o| o.as_dict().ok());
        let new = resolve(self.nd, Some(pb)).1.and_then(|o| o.as_dict().ok());
        matches!((old, new), (Some(o), Some(n)) if o.get(b"V").is_err() && n.get(b"V").is_ok())
    }

    /// /FT of a field node as signed, inherited through /Parent.
    fn field_type(&self, d: &Dictionary) -> Option<Vec<u8>> {
        let mut cur = d;
        for _ in 0..64 {
            if let Ok(ft) = cur.get(b"FT").and_then(Object::as_name) {
                return Some(ft.to_vec());
            }
            cur = resolve(self.od, cur.get(b"Parent").ok())
                .1?
                .as_dict()
                .ok()?;
        }
        None
    }
}

/// Resolves a value: references through the document (a dangling reference is null); null is
/// absent, as in PDF.
fn resolve<'a>(
    doc: &'a Document,
    obj: Option<&'a Object>,
) -> (Option<ObjectId>, Option<&'a Object>) {
    match obj {
        None | Some(Object::Null) => (None, None),
        Some(Object::Reference(id)) => match doc.dereference(obj.unwrap_or(&Object::Null)) {
            Ok((rid, Object::Null)) => (rid.or(Some(*id)), None),
            Ok((rid, o)) => (rid.or(Some(*id)), Some(o)),
            Err(_) => (Some(*id), None),
        },
        Some(o) => (None, Some(o)),
    }
}

/// Two values that are equal as written (references compared by number): enough to tell
/// whether a form value was touched.
fn same_direct(od: &Document, nd: &Document, a: Option<&Object>, b: Option<&Object>) -> bool {
    let (_, x) = resolve(od, a);
    let (_, y) = resolve(nd, b);
    x == y
}

fn name_is(d: &Dictionary, key: &[u8], value: &[u8]) -> bool {
    matches!(d.get(key), Ok(Object::Name(n)) if n == value)
}

fn rect(doc: &Document, d: &Dictionary) -> Option<[f64; 4]> {
    let arr = resolve(doc, d.get(b"Rect").ok()).1?.as_array().ok()?;
    let mut out = [0.0; 4];
    for (slot, v) in out.iter_mut().zip(arr) {
        *slot = sahih_pdf::geometry::number(doc, v)?;
    }
    (arr.len() == 4).then_some(out)
}

/// A catalog /Version may be added or raised (pyHanko raises it when it adds a DSS), never
/// lowered or made unreadable.
fn version_ok(old: Option<&Object>, new: Option<&Object>) -> bool {
    let parse = |o: Option<&Object>| -> Option<Option<(u32, u32)>> {
        match o {
            None => Some(None),
            Some(Object::Name(n)) => {
                let s = std::str::from_utf8(n).ok()?;
                let (a, b) = s.split_once('.')?;
                Some(Some((a.parse().ok()?, b.parse().ok()?)))
            }
            Some(_) => None,
        }
    };
    match (parse(old), parse(new)) {
        (Some(a), Some(b)) => a == b || (b.is_some() && (a.is_none() || b >= a)),
        (None, _) | (_, None) => old == new,
    }
}
