//! A content-stream interpreter that only tracks what positions text: the graphics state
//! stack, the CTM, the text state and Form XObjects. It produces one glyph per shown code.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::rc::Rc;

use lopdf::content::{Content, Operation};
use lopdf::{Dictionary, Document, Object, ObjectId};

use super::fonts::{Code, Font};
use super::{as_name, dict_get, get_array, get_dict, get_name, num, resolve, stream_data};

/// Operations interpreted per page, Form XObjects included.
const MAX_OPS_PER_PAGE: usize = 4_000_000;
/// Glyphs kept per page.
const MAX_GLYPHS_PER_PAGE: usize = 1_000_000;
/// Decoded content bytes per page (all content streams together) and per form.
const MAX_CONTENT_BYTES: usize = 128 << 20;
/// Operations and decoded content bytes over all pages extracted by one [`Extractor`].
const MAX_OPS_PER_DOCUMENT: usize = 50_000_000;
const MAX_BYTES_PER_DOCUMENT: usize = 2 << 30;
/// Nesting of Form XObjects.
const MAX_FORM_DEPTH: usize = 16;
/// Depth of the q/Q stack kept (deeper pushes are counted, not stored).
const MAX_Q_DEPTH: usize = 256;
/// Operations kept in the Form XObject cache (over all forms), and the largest decoded form
/// content that is cached rather than re-decoded at each use.
const MAX_CACHED_FORM_OPS: usize = 500_000;
const MAX_CACHED_FORM_BYTES: usize = 1 << 20;
/// Parents followed when looking for inherited page resources.
const MAX_PAGE_TREE_DEPTH: usize = 64;

pub(crate) type Matrix = [f64; 6];
const IDENTITY: Matrix = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0];

/// `a` then `b`: the matrix of applying `a` first, then `b` (PDF's `a x b`).
pub(crate) fn mul(a: &Matrix, b: &Matrix) -> Matrix {
    [
        a[0] * b[0] + a[1] * b[2],
        a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2],
        a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4],
        a[4] * b[1] + a[5] * b[3] + b[5],
    ]
}

fn apply(m: &Matrix, x: f64, y: f64) -> (f64, f64) {
    (m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5])
}

/// A glyph with what reading-order sorting needs.
#[derive(Debug, Clone)]
pub(crate) struct RawGlyph {
    pub(crate) text: String,
    pub(crate) rect: [f64; 4],
    /// Baseline origin in user space.
    pub(crate) origin: (f64, f64),
    /// Unit vector of the writing direction in user space.
    pub(crate) dir: (f64, f64),
    /// Font size in user space (length of the text-space unit vector y).
    pub(crate) size: f64,
}

#[derive(Clone)]
struct GState {
    ctm: Matrix,
    font: Option<Rc<Font>>,
    size: f64,
    tc: f64,
    tw: f64,
    th: f64,
    tl: f64,
    rise: f64,
}

impl GState {
    fn new(ctm: Matrix) -> GState {
        GState {
            ctm,
            font: None,
            size: 0.0,
            tc: 0.0,
            tw: 0.0,
            th: 1.0,
            tl: 0.0,
            rise: 0.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum FontKey {
    Id(ObjectId),
    /// A direct font dictionary, keyed by its address (stable while the document is borrowed).
    Direct(usize),
}

/// Shared caches for extracting text from several pages of one document.
pub(crate) struct Extractor<'a> {
    doc: &'a Document,
    fonts: HashMap<FontKey, Rc<Font>>,
    forms: HashMap<ObjectId, Rc<Vec<Operation>>>,
    cached_form_ops: usize,
    ops_left: usize,
    bytes_left: usize,
    /// Set when a document-wide work limit cut extraction short.
    pub(crate) exhausted: bool,
}

enum FormOps {
    Cached(Rc<Vec<Operation>>),
    Data(Vec<u8>),
}

struct Run {
    glyphs: Vec<RawGlyph>,
    ops_left: usize,
    codes: Vec<Code>,
}

impl<'a> Extractor<'a> {
    pub(crate) fn new(doc: &'a Document) -> Extractor<'a> {
        Extractor {
            doc,
            fonts: HashMap::new(),
            forms: HashMap::new(),
            cached_form_ops: 0,
            ops_left: MAX_OPS_PER_DOCUMENT,
            bytes_left: MAX_BYTES_PER_DOCUMENT,
            exhausted: false,
        }
    }

    /// All glyphs of a page, in content-stream order.
    pub(crate) fn page(&mut self, page_id: ObjectId) -> Vec<RawGlyph> {
        let doc = self.doc;
        let Ok(page) = doc.get_dictionary(page_id) else {
            return Vec::new();
        };
        let resources = page_resources(doc, page);

        let mut data = Vec::new();
        for id in doc.get_page_contents(page_id) {
            let Ok(Object::Stream(s)) = doc.get_object(id) else {
                continue;
            };
            let remaining = MAX_CONTENT_BYTES.saturating_sub(data.len());
            if let Some(d) = self.decode(s, remaining) {
                data.extend_from_slice(&d);
                data.push(b'\n');
            }
        }
        // A direct stream (invalid, but harmless) or an array of direct streams.
        if let Ok(Object::Stream(s)) = page.get(b"Contents")
            && let Some(d) = self.decode(s, MAX_CONTENT_BYTES)
        {
            data.extend_from_slice(&d);
        }
        let mut run = Run {
            glyphs: Vec::new(),
            ops_left: MAX_OPS_PER_PAGE.min(self.ops_left),
            codes: Vec::new(),
        };
        let mut gs = GState::new(IDENTITY);
        let mut forms = Vec::new();
        let ops = Content::decode_iter(&data).map_while(Result::ok);
        let budget = run.ops_left;
        self.exec(&mut run, ops, resources, &mut gs, &mut forms);
        self.ops_left = self
            .ops_left
            .saturating_sub(budget.saturating_sub(run.ops_left));
        if self.ops_left == 0 {
            self.exhausted = true;
        }
        run.glyphs
    }

    /// Decoded stream data within `limit` and the document-wide byte budget.
    fn decode(&mut self, s: &lopdf::Stream, limit: usize) -> Option<Vec<u8>> {
        let doc_bound = self.bytes_left <= limit;
        match stream_data(s, limit.min(self.bytes_left)) {
            Some(d) => {
                self.bytes_left = self.bytes_left.saturating_sub(d.len());
                Some(d)
            }
            None => {
                if doc_bound {
                    self.exhausted = true;
                }
                None
            }
        }
    }

    fn font(&mut self, obj: &'a Object) -> Option<Rc<Font>> {
        let (key, dict) = match obj {
            Object::Reference(id) => (FontKey::Id(*id), self.doc.get_dictionary(*id).ok()?),
            Object::Dictionary(d) => (FontKey::Direct(d as *const Dictionary as usize), d),
            _ => return None,
        };
        if let Some(f) = self.fonts.get(&key) {
            return Some(f.clone());
        }
        let f = Rc::new(Font::load(self.doc, dict));
        self.fonts.insert(key, f.clone());
        Some(f)
    }

    /// The operations of a Form XObject: decoded once and cached when small, otherwise the
    /// decoded stream data to be interpreted lazily.
    fn form_ops(&mut self, id: ObjectId, s: &lopdf::Stream) -> FormOps {
        if let Some(ops) = self.forms.get(&id) {
            return FormOps::Cached(ops.clone());
        }
        let Some(data) = self.decode(s, MAX_CONTENT_BYTES) else {
            return FormOps::Cached(Rc::new(Vec::new()));
        };
        if data.len() > MAX_CACHED_FORM_BYTES || self.cached_form_ops >= MAX_CACHED_FORM_OPS {
            return FormOps::Data(data);
        }
        let ops: Vec<Operation> = Content::decode_iter(&data)
            .take(MAX_OPS_PER_PAGE)
            .map_while(Result::ok)
            .collect();
        self.cached_form_ops = self.cached_form_ops.saturating_add(ops.len());
        let ops = Rc::new(ops);
        self.forms.insert(id, ops.clone());
        FormOps::Cached(ops)
    }

    fn exec<I, O>(
        &mut self,
        run: &mut Run,
        ops: I,
        res: Option<&'a Dictionary>,
        gs: &mut GState,
        form_stack: &mut Vec<ObjectId>,
    ) where
        I: IntoIterator<Item = O>,
        O: Borrow<Operation>,
    {
        let doc = self.doc;
        let mut stack: Vec<GState> = Vec::new();
        let mut overflow = 0usize;
        let mut tm = IDENTITY;
        let mut tlm = IDENTITY;
        // Marked-content sequences: Some((first glyph, /ActualText)) for those replacing text.
        let mut marked: Vec<Option<(usize, String)>> = Vec::new();
        let mut marked_overflow = 0usize;
        for op in ops {
            let op: &Operation = op.borrow();
            if run.ops_left == 0 {
                return;
            }
            run.ops_left -= 1;
            let a = op.operands.as_slice();
            match op.operator.as_str() {
                "q" => {
                    if stack.len() < MAX_Q_DEPTH {
                        stack.push(gs.clone());
                    } else {
                        overflow += 1;
                    }
                }
                "Q" => {
                    if overflow > 0 {
                        overflow -= 1;
                    } else if let Some(s) = stack.pop() {
                        *gs = s;
                    }
                }
                "cm" => {
                    if let Some(m) = matrix_operands(a) {
                        gs.ctm = mul(&m, &gs.ctm);
                    }
                }
                "BT" => {
                    tm = IDENTITY;
                    tlm = IDENTITY;
                }
                "Tm" => {
                    if let Some(m) = matrix_operands(a) {
                        tm = m;
                        tlm = m;
                    }
                }
                "Td" | "TD" => {
                    if let (Some(tx), Some(ty)) = (operand(a, 0), operand(a, 1)) {
                        if op.operator == "TD" {
                            gs.tl = -ty;
                        }
                        tlm = mul(&[1.0, 0.0, 0.0, 1.0, tx, ty], &tlm);
                        tm = tlm;
                    }
                }
                "T*" => next_line(gs, &mut tm, &mut tlm),
                "TL" => set(&mut gs.tl, operand(a, 0)),
                "Tc" => set(&mut gs.tc, operand(a, 0)),
                "Tw" => set(&mut gs.tw, operand(a, 0)),
                "Ts" => set(&mut gs.rise, operand(a, 0)),
                "Tz" => set(&mut gs.th, operand(a, 0).map(|v| v / 100.0)),
                "Tf" => {
                    let font_obj = a.first().and_then(as_name).and_then(|name| {
                        res.and_then(|r| get_dict(doc, r, b"Font"))
                            .and_then(|f| f.get(name).ok())
                    });
                    gs.font = font_obj.and_then(|o| self.font(o));
                    set(&mut gs.size, operand(a, 1));
                }
                "Tj" => {
                    if let Some(Object::String(s, _)) = a.first() {
                        show(run, gs, &mut tm, s);
                    }
                }
                "'" => {
                    next_line(gs, &mut tm, &mut tlm);
                    if let Some(Object::String(s, _)) = a.first() {
                        show(run, gs, &mut tm, s);
                    }
                }
                "\"" => {
                    set(&mut gs.tw, operand(a, 0));
                    set(&mut gs.tc, operand(a, 1));
                    next_line(gs, &mut tm, &mut tlm);
                    if let Some(Object::String(s, _)) = a.get(2) {
                        show(run, gs, &mut tm, s);
                    }
                }
                "TJ" => {
                    if let Some(Object::Array(items)) = a.first() {
                        for item in items {
                            match item {
                                Object::String(s, _) => show(run, gs, &mut tm, s),
                                other => {
                                    if let Some(n) = num(other) {
                                        adjust(gs, &mut tm, n);
                                    }
                                }
                            }
                        }
                    }
                }
                "gs" => {
                    // An ExtGState may set the font: /Font [font-ref size].
                    let font_entry = a
                        .first()
                        .and_then(as_name)
                        .and_then(|n| {
                            res.and_then(|r| get_dict(doc, r, b"ExtGState"))
                                .and_then(|e| dict_get(doc, e, n))
                        })
                        .and_then(|o| o.as_dict().ok())
                        .and_then(|d| get_array(doc, d, b"Font"));
                    if let Some([f, size]) = font_entry.map(Vec::as_slice) {
                        gs.font = self.font(f);
                        set(&mut gs.size, resolve(doc, size).and_then(num));
                    }
                }
                "BMC" | "BDC" => {
                    if marked.len() >= MAX_Q_DEPTH {
                        marked_overflow += 1;
                        continue;
                    }
                    let props = match (op.operator.as_str(), a.get(1)) {
                        ("BDC", Some(Object::Dictionary(d))) => Some(d),
                        ("BDC", Some(Object::Name(n))) => res
                            .and_then(|r| get_dict(doc, r, b"Properties"))
                            .and_then(|p| dict_get(doc, p, n))
                            .and_then(|o| o.as_dict().ok()),
                        _ => None,
                    };
                    let actual = props
                        .and_then(|p| dict_get(doc, p, b"ActualText"))
                        .and_then(|t| lopdf::decode_text_string(t).ok());
                    marked.push(actual.map(|t| (run.glyphs.len(), t)));
                }
                "EMC" => {
                    if marked_overflow > 0 {
                        marked_overflow -= 1;
                    } else if let Some(Some((start, text))) = marked.pop() {
                        replace_with_actual_text(&mut run.glyphs, start, text);
                    }
                }
                "Do" => {
                    let Some(name) = a.first().and_then(as_name) else {
                        continue;
                    };
                    let Some(xobjs) = res.and_then(|r| get_dict(doc, r, b"XObject")) else {
                        continue;
                    };
                    let Some(Object::Reference(id)) = xobjs.get(name).ok() else {
                        continue;
                    };
                    let Ok(Object::Stream(s)) = doc.get_object(*id) else {
                        continue;
                    };
                    if get_name(doc, &s.dict, b"Subtype") != Some(b"Form")
                        || form_stack.len() >= MAX_FORM_DEPTH
                        || form_stack.contains(id)
                    {
                        continue;
                    }
                    let form_ops = self.form_ops(*id, s);
                    let m = get_array(doc, &s.dict, b"Matrix")
                        .and_then(|arr| {
                            let v: Vec<f64> = arr
                                .iter()
                                .filter_map(|o| resolve(doc, o))
                                .filter_map(num)
                                .collect();
                            <[f64; 6]>::try_from(v.as_slice()).ok()
                        })
                        .unwrap_or(IDENTITY);
                    let mut child = gs.clone();
                    child.ctm = mul(&m, &gs.ctm);
                    let form_res = get_dict(doc, &s.dict, b"Resources").or(res);
                    form_stack.push(*id);
                    match form_ops {
                        FormOps::Cached(ops) => {
                            self.exec(run, ops.iter(), form_res, &mut child, form_stack)
                        }
                        FormOps::Data(data) => {
                            let ops = Content::decode_iter(&data).map_while(Result::ok);
                            self.exec(run, ops, form_res, &mut child, form_stack)
                        }
                    }
                    form_stack.pop();
                }
                _ => {}
            }
        }
    }
}

/// Merge the glyphs shown inside an /ActualText sequence into one glyph carrying that text.
fn replace_with_actual_text(glyphs: &mut Vec<RawGlyph>, start: usize, text: String) {
    let Some(group) = glyphs.get(start..) else {
        return;
    };
    let Some(first) = group.first() else { return };
    let mut merged = first.clone();
    for g in group {
        merged.rect[0] = merged.rect[0].min(g.rect[0]);
        merged.rect[1] = merged.rect[1].min(g.rect[1]);
        merged.rect[2] = merged.rect[2].max(g.rect[2]);
        merged.rect[3] = merged.rect[3].max(g.rect[3]);
    }
    merged.text = text;
    glyphs.truncate(start);
    glyphs.push(merged);
}

fn set(slot: &mut f64, v: Option<f64>) {
    if let Some(v) = v {
        *slot = v;
    }
}

fn operand(a: &[Object], i: usize) -> Option<f64> {
    a.get(i).and_then(num)
}

fn matrix_operands(a: &[Object]) -> Option<Matrix> {
    let v: Vec<f64> = a.iter().filter_map(num).collect();
    let m: Matrix = v.as_slice().try_into().ok()?;
    Some(m)
}

fn next_line(gs: &GState, tm: &mut Matrix, tlm: &mut Matrix) {
    *tlm = mul(&[1.0, 0.0, 0.0, 1.0, 0.0, -gs.tl], tlm);
    *tm = *tlm;
}

/// A TJ number: move by -n/1000 text-space units scaled by the font size.
fn adjust(gs: &GState, tm: &mut Matrix, n: f64) {
    let vertical = gs.font.as_ref().is_some_and(|f| f.vertical);
    let d = -n / 1000.0 * gs.size;
    let t = if vertical {
        [1.0, 0.0, 0.0, 1.0, 0.0, d]
    } else {
        [1.0, 0.0, 0.0, 1.0, d * gs.th, 0.0]
    };
    *tm = mul(&t, tm);
}

fn show(run: &mut Run, gs: &GState, tm: &mut Matrix, bytes: &[u8]) {
    let Some(font) = gs.font.as_ref() else { return };
    let mut codes = std::mem::take(&mut run.codes);
    font.codes(bytes, &mut codes);
    let fm = font.matrix;
    for &code in &codes {
        let w = font.width(code);
        let trm = mul(
            &[gs.size * gs.th, 0.0, 0.0, gs.size, 0.0, gs.rise],
            &mul(tm, &gs.ctm),
        );
        if run.glyphs.len() < MAX_GLYPHS_PER_PAGE {
            let full = mul(&fm, &trm);
            let (x0, x1, y0, y1) = if font.vertical {
                let (vy, _) = font.dw2;
                (-w / 2.0, w / 2.0, font.descent - vy, font.ascent - vy)
            } else {
                (0.0, w, font.descent, font.ascent)
            };
            let corners = [
                apply(&full, x0, y0),
                apply(&full, x1, y0),
                apply(&full, x1, y1),
                apply(&full, x0, y1),
            ];
            let mut rect = [
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ];
            for (x, y) in corners {
                rect[0] = rect[0].min(x);
                rect[1] = rect[1].min(y);
                rect[2] = rect[2].max(x);
                rect[3] = rect[3].max(y);
            }
            let origin = apply(&trm, 0.0, 0.0);
            let dx = if font.vertical {
                (0.0, -1.0)
            } else {
                (1.0, 0.0)
            };
            let d = (trm[0] * dx.0 + trm[2] * dx.1, trm[1] * dx.0 + trm[3] * dx.1);
            let len = d.0.hypot(d.1);
            let dir = if len > 0.0 {
                (d.0 / len, d.1 / len)
            } else {
                (1.0, 0.0)
            };
            let size = trm[2].hypot(trm[3]);
            if rect.iter().all(|v| v.is_finite()) && origin.0.is_finite() && origin.1.is_finite() {
                run.glyphs.push(RawGlyph {
                    text: font.text(code).unwrap_or_default(),
                    rect,
                    origin,
                    dir,
                    size: if size.is_finite() { size } else { 0.0 },
                });
            }
        }
        let spacing = gs.tc + if font.is_word_space(code) { gs.tw } else { 0.0 };
        let t = if font.vertical {
            [
                1.0,
                0.0,
                0.0,
                1.0,
                0.0,
                font.dw2.1 * fm[3] * gs.size + spacing,
            ]
        } else {
            [
                1.0,
                0.0,
                0.0,
                1.0,
                (w * fm[0] * gs.size + spacing) * gs.th,
                0.0,
            ]
        };
        *tm = mul(&t, tm);
    }
    run.codes = codes;
}

/// The page's /Resources, inherited from the page tree when the page has none.
fn page_resources<'a>(doc: &'a Document, page: &'a Dictionary) -> Option<&'a Dictionary> {
    let mut node = page;
    for _ in 0..MAX_PAGE_TREE_DEPTH {
        if let Some(Object::Dictionary(r)) = dict_get(doc, node, b"Resources") {
            return Some(r);
        }
        node = dict_get(doc, node, b"Parent")?.as_dict().ok()?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_order() {
        let translate = [1.0, 0.0, 0.0, 1.0, 10.0, 20.0];
        let scale = [2.0, 0.0, 0.0, 2.0, 0.0, 0.0];
        // Translate first, then scale.
        let m = mul(&translate, &scale);
        assert_eq!(apply(&m, 0.0, 0.0), (20.0, 40.0));
    }
}
