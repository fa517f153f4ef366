//! Text search on PDFs built in the test with lopdf: known positions, known fonts.

// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

use lopdf::{Dictionary, Document, Object, ObjectId, Stream, dictionary};
use sahih_pdf::text::{TextError, TextHit, find_text, page_glyphs};

/// Builds a small document page by page.
struct Builder {
    doc: Document,
    pages_id: ObjectId,
    kids: Vec<Object>,
    pages_resources: Option<Dictionary>,
}

impl Builder {
    fn new() -> Builder {
        let mut doc = Document::with_version("1.7");
        let pages_id = doc.new_object_id();
        Builder {
            doc,
            pages_id,
            kids: Vec::new(),
            pages_resources: None,
        }
    }

    fn add(&mut self, obj: impl Into<Object>) -> ObjectId {
        self.doc.add_object(obj.into())
    }

    fn stream(&mut self, dict: Dictionary, content: &[u8]) -> ObjectId {
        self.doc.add_object(Stream::new(dict, content.to_vec()))
    }

    /// Add a page; `resources` None means the page inherits them from the page tree.
    fn page(&mut self, content: &[u8], resources: Option<Dictionary>) -> ObjectId {
        let content_id = self.stream(dictionary! {}, content);
        let mut page = dictionary! {
            "Type" => "Page",
            "Parent" => self.pages_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Contents" => content_id,
        };
        if let Some(r) = resources {
            page.set("Resources", r);
        }
        let id = self.add(page);
        self.kids.push(id.into());
        id
    }

    fn finish(mut self) -> Document {
        let mut pages = dictionary! {
            "Type" => "Pages",
            "Kids" => self.kids.clone(),
            "Count" => self.kids.len() as i64,
        };
        if let Some(r) = self.pages_resources.take() {
            pages.set("Resources", r);
        }
        self.doc
            .objects
            .insert(self.pages_id, Object::Dictionary(pages));
        let catalog = self.add(dictionary! { "Type" => "Catalog", "Pages" => self.pages_id });
        self.doc.trailer.set("Root", catalog);
        // Round-trip through bytes so the real parser is exercised too.
        let mut bytes = Vec::new();
        self.doc.save_to(&mut bytes).unwrap();
        Document::load_mem(&bytes).unwrap()
    }
}

fn helvetica(b: &mut Builder) -> ObjectId {
    b.add(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    })
}

fn fonts(entries: &[(&str, ObjectId)]) -> Dictionary {
    let mut f = Dictionary::new();
    for (name, id) in entries {
        f.set(*name, *id);
    }
    dictionary! { "Font" => f }
}

/// Helvetica AFM width of a string, 1/1000 em.
fn helv_width(s: &str) -> f64 {
    s.chars()
        .map(|c| match c {
            'K' => 667.0,
            'D' => 722.0,
            'e' | 'p' | 'a' | 'n' => 556.0,
            'l' | 'i' => 222.0,
            's' => 500.0,
            ' ' => 278.0,
            other => panic!("no width for {other}"),
        })
        .sum()
}

fn assert_rect(hit: &TextHit, page: usize, want: [f64; 4]) {
    assert_eq!(hit.page_index, page, "page of {hit:?}");
    for i in 0..4 {
        assert!(
            (hit.rect[i] - want[i]).abs() <= 1.0,
            "rect {:?} differs from {:?} at {}",
            hit.rect,
            want,
            i
        );
    }
}

#[test]
fn helvetica_winansi_at_known_tm() {
    let mut b = Builder::new();
    let f = helvetica(&mut b);
    b.page(
        b"BT /F1 12 Tf 1 0 0 1 100 700 Tm (Kepala Dinas) Tj ET",
        Some(fonts(&[("F1", f)])),
    );
    let doc = b.finish();
    let hit = find_text(&doc, "Kepala Dinas").unwrap().unwrap();
    let w = helv_width("Kepala Dinas") * 12.0 / 1000.0;
    // Helvetica: ascent 718, descent -207.
    assert_rect(&hit, 0, [100.0, 700.0 - 2.484, 100.0 + w, 700.0 + 8.616]);

    // A later word starts after the advance of what precedes it.
    let hit = find_text(&doc, "Dinas").unwrap().unwrap();
    let x0 = 100.0 + helv_width("Kepala ") * 12.0 / 1000.0;
    assert_rect(&hit, 0, [x0, 697.5, 100.0 + w, 708.6]);

    // Whitespace in the needle does not matter, case does.
    assert!(find_text(&doc, "  Kepala\nDinas ").unwrap().is_some());
    assert!(find_text(&doc, "KepalaDinas").unwrap().is_some());
    assert!(find_text(&doc, "kepala dinas").unwrap().is_none());
    assert!(find_text(&doc, "Sekretaris").unwrap().is_none());
    assert!(matches!(
        find_text(&doc, " \t\n"),
        Err(TextError::EmptyNeedle)
    ));
}

#[test]
fn widths_array_and_text_state_operators() {
    let mut b = Builder::new();
    // A simple font with explicit /Widths: every glyph 500 units.
    let widths: Vec<Object> = (32..=126).map(|_| Object::Integer(500)).collect();
    let f = b.add(dictionary! {
        "Type" => "Font",
        "Subtype" => "TrueType",
        "BaseFont" => "ABCDEF+Arial",
        "FirstChar" => 32,
        "LastChar" => 126,
        "Widths" => widths,
        "Encoding" => "WinAnsiEncoding",
    });
    // Tc adds 1 per glyph, Tw adds 4 per space, Tz 50 halves everything horizontally.
    b.page(
        b"BT /F1 10 Tf 1 Tc 4 Tw 50 Tz 100 500 Td (ab cd) Tj ET",
        Some(fonts(&[("F1", f)])),
    );
    let doc = b.finish();
    let hit = find_text(&doc, "cd").unwrap().unwrap();
    // Advance per glyph: (5 + 1) * 0.5 = 3; space: (5 + 1 + 4) * 0.5 = 5.
    // "c" starts at 100 + 3 + 3 + 5 = 111, "d" ends at 111 + 3 + 2.5 = 116.5.
    assert_rect(&hit, 0, [111.0, 498.0, 116.5, 508.0]);
}

#[test]
fn text_split_across_tj_elements_and_operators() {
    let mut b = Builder::new();
    let f = helvetica(&mut b);
    b.page(
        b"BT /F1 10 Tf 50 600 Td [(Ke) 20 (pa) -15 (la)] TJ ( ) Tj [(D) 5 (i)] TJ (nas) Tj 0 -14 Td (Komunikasi dan) Tj T* (Informatika) Tj ET",
        Some(fonts(&[("F1", f)])),
    );
    let doc = b.finish();
    let hit = find_text(&doc, "Kepala Dinas").unwrap().unwrap();
    // Kerning: -20 and +15 thousandths of the 10 pt size, then +15 - 5.
    let w = (helv_width("Kepala Dinas") - 20.0 + 15.0 - 5.0) * 10.0 / 1000.0;
    assert_rect(&hit, 0, [50.0, 600.0 - 2.07, 50.0 + w, 600.0 + 7.18]);

    // Across lines (the needle's space is not needed).
    let hit = find_text(&doc, "Dinas Komunikasi").unwrap().unwrap();
    assert!((hit.rect[0] - 50.0).abs() < 1.0, "{hit:?}");
    assert!(hit.rect[1] < 590.0 && hit.rect[3] > 605.0, "{hit:?}");
}

/// A Type0 font with Identity-H codes, a hand-written ToUnicode CMap and /W widths.
fn type0_font(b: &mut Builder) -> ObjectId {
    let cmap = b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
        /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
        /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
        1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n\
        4 beginbfchar\n<0003> <0020>\n<0010> <004B>\n<0011> <0065>\n<0020> <00660069>\nendbfchar\n\
        2 beginbfrange\n<0012> <0014> <0070>\n<0015> <0017> [<0061> <006C> <0044>]\nendbfrange\n\
        1 beginbfrange\n<0030> <0032> <0069>\nendbfrange\n\
        endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";
    let tu = b.stream(dictionary! {}, cmap);
    let fd = b.add(dictionary! {
        "Type" => "FontDescriptor",
        "FontName" => "AAAAAA+LiberationSerif",
        "Ascent" => 891,
        "Descent" => -216,
        "Flags" => 4,
    });
    let cid = b.add(dictionary! {
        "Type" => "Font",
        "Subtype" => "CIDFontType2",
        "BaseFont" => "AAAAAA+LiberationSerif",
        "CIDSystemInfo" => dictionary! { "Registry" => Object::string_literal("Adobe"), "Ordering" => Object::string_literal("Identity"), "Supplement" => 0 },
        "FontDescriptor" => fd,
        "DW" => 1000,
        "W" => vec![
            3.into(), vec![250.into()].into(),
            16.into(), vec![722.into(), 444.into(), 500.into()].into(),
            19.into(), 23.into(), 400.into(),
            32.into(), vec![556.into()].into(),
        ],
    });
    b.add(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type0",
        "BaseFont" => "AAAAAA+LiberationSerif",
        "Encoding" => "Identity-H",
        "DescendantFonts" => vec![cid.into()],
        "ToUnicode" => tu,
    })
}

#[test]
fn type0_identity_h_with_tounicode_and_w() {
    let mut b = Builder::new();
    let f = type0_font(&mut b);
    // Codes: K=0010 e=0011 p=0012 a=0015 l=0016 a=0015 space=0003 D=0017 i=0030 ...
    // Widths: K 722, e 444, p 500, a 400, l 400, a 400, space 250, D 400.
    b.page(
        b"BT /F2 5 Tf 2 0 0 2 60 400 Tm <001000110012001500160015> Tj <0003> Tj <0017> Tj ET",
        Some(fonts(&[("F2", f)])),
    );
    let doc = b.finish();
    let hit = find_text(&doc, "Kepala D").unwrap().unwrap();
    // Effective size 10 pt.
    let w = (722.0 + 444.0 + 500.0 + 400.0 * 3.0 + 250.0 + 400.0) * 10.0 / 1000.0;
    assert_rect(&hit, 0, [60.0, 400.0 - 2.16, 60.0 + w, 400.0 + 8.91]);

    let glyphs = page_glyphs(&doc, doc.page_iter().next().unwrap()).unwrap();
    let text: String = glyphs.iter().map(|g| g.text.as_str()).collect();
    assert_eq!(text, "Kepala D");
}

#[test]
fn ligature_maps_to_several_characters() {
    let mut b = Builder::new();
    let f = type0_font(&mut b);
    // "e" + "fi" ligature (0020) + "e" -> "efie".
    b.page(
        b"BT /F2 10 Tf 100 100 Td <0011002000110003> Tj ET",
        Some(fonts(&[("F2", f)])),
    );
    let doc = b.finish();
    let hit = find_text(&doc, "efie").unwrap().unwrap();
    let w = (444.0 + 556.0 + 444.0) / 100.0;
    assert_rect(&hit, 0, [100.0, 97.84, 100.0 + w, 108.91]);
    // Half of a ligature still selects the whole ligature glyph.
    let hit = find_text(&doc, "ef").unwrap().unwrap();
    assert_rect(&hit, 0, [100.0, 97.84, 100.0 + 10.0, 108.91]);
}

#[test]
fn form_xobject_placed_with_cm() {
    let mut b = Builder::new();
    let f = helvetica(&mut b);
    let form = b.stream(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), 200.into(), 50.into()],
            "Matrix" => vec![2.into(), 0.into(), 0.into(), 2.into(), 0.into(), 0.into()],
            "Resources" => fonts(&[("F9", f)]),
        },
        b"BT /F9 10 Tf 5 5 Td (Kepala Dinas) Tj ET",
    );
    let mut res = Dictionary::new();
    res.set("XObject", dictionary! { "Fm1" => form });
    b.page(b"q 1 0 0 1 200 300 cm /Fm1 Do Q", Some(res));
    let doc = b.finish();
    let hit = find_text(&doc, "Kepala Dinas").unwrap().unwrap();
    let w = helv_width("Kepala Dinas") * 10.0 / 1000.0 * 2.0;
    assert_rect(&hit, 0, [210.0, 310.0 - 4.14, 210.0 + w, 310.0 + 14.36]);
}

#[test]
fn rotated_text_matrix() {
    let mut b = Builder::new();
    let f = helvetica(&mut b);
    // Text running upwards (90 degrees counter-clockwise) from (300, 100).
    b.page(
        b"BT /F1 10 Tf 0 1 -1 0 300 100 Tm (Kepala Dinas) Tj ET",
        Some(fonts(&[("F1", f)])),
    );
    let doc = b.finish();
    let hit = find_text(&doc, "Kepala Dinas").unwrap().unwrap();
    let w = helv_width("Kepala Dinas") / 100.0;
    assert_rect(&hit, 0, [300.0 - 7.18, 100.0, 300.0 + 2.07, 100.0 + w]);
}

#[test]
fn inherited_resources_later_page_and_q_restores_ctm() {
    let mut b = Builder::new();
    let f = helvetica(&mut b);
    b.pages_resources = Some(fonts(&[("F1", f)]));
    b.page(b"BT /F1 12 Tf 72 720 Td (Surat Keputusan) Tj ET", None);
    b.page(
        b"q 2 0 0 2 0 0 cm BT /F1 12 Tf 10 10 Td (Nomor) Tj ET Q BT /F1 12 Tf 72 500 Td (Kepala Dinas) Tj ET",
        None,
    );
    let doc = b.finish();
    let hit = find_text(&doc, "Kepala Dinas").unwrap().unwrap();
    let w = helv_width("Kepala Dinas") * 12.0 / 1000.0;
    assert_rect(&hit, 1, [72.0, 500.0 - 2.484, 72.0 + w, 500.0 + 8.616]);
    let hit = find_text(&doc, "Nomor").unwrap().unwrap();
    assert_eq!(hit.page_index, 1);
    assert!((hit.rect[0] - 20.0).abs() < 1.0, "{hit:?}");
}

#[test]
fn differences_and_type1_builtin_encoding() {
    let mut b = Builder::new();
    // Codes 1..6 named by /Differences.
    let f1 = b.add(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "XYZABC+Custom",
        "FirstChar" => 1,
        "LastChar" => 6,
        "Widths" => vec![600.into(), 600.into(), 600.into(), 600.into(), 600.into(), 600.into()],
        "Encoding" => dictionary! {
            "Type" => "Encoding",
            "BaseEncoding" => "WinAnsiEncoding",
            "Differences" => vec![1.into(), "K".into(), "e".into(), "p".into(), "a".into(), "l".into(), "uni0044".into()],
        },
    });
    // No /Encoding: the built-in encoding of the embedded Type 1 program applies.
    let program = b"%!PS-AdobeFont-1.0: CMR10 003.002\n/FontName /CMR10 def\n\
        /Encoding 256 array\n0 1 255 {1 index exch /.notdef put} for\n\
        dup 11 /ff put\ndup 68 /D put\ndup 105 /i put\ndup 110 /n put\ndup 97 /a put\ndup 115 /s put\n\
        readonly def\ncurrentdict end\ncurrentfile eexec\n\x80\x81garbage";
    let clear_len = program.windows(5).position(|w| w == b"eexec").unwrap() + 6;
    let ff = b.stream(
        dictionary! { "Length1" => clear_len as i64, "Length2" => 0, "Length3" => 0 },
        program,
    );
    let fd = b.add(dictionary! {
        "Type" => "FontDescriptor", "FontName" => "CMR10", "Flags" => 4, "FontFile" => ff,
        "Ascent" => 694, "Descent" => -194,
    });
    let f2 = b.add(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "CMR10",
        "FirstChar" => 0,
        "LastChar" => 127,
        "Widths" => (0..128).map(|_| Object::Integer(500)).collect::<Vec<_>>(),
        "FontDescriptor" => fd,
    });
    b.page(
        b"BT /F1 10 Tf 100 200 Td <010203040504> Tj /F2 10 Tf ( ) Tj (Dinas) Tj <0b> Tj /F1 10 Tf <06> Tj ET",
        Some(fonts(&[("F1", f1), ("F2", f2)])),
    );
    let doc = b.finish();
    let glyphs = page_glyphs(&doc, doc.page_iter().next().unwrap()).unwrap();
    let text: String = glyphs.iter().map(|g| g.text.as_str()).collect();
    assert_eq!(text, "KepalaDinas\u{FB00}D", "{glyphs:?}");
    // F1 (no descriptor): 800 / -200; F1 glyphs 6 pt wide, F2 glyphs 5 pt.
    let hit = find_text(&doc, "KepalaDinas").unwrap().unwrap();
    assert_rect(&hit, 0, [100.0, 198.0, 166.0, 208.0]);
    assert!(find_text(&doc, "Dinasff").unwrap().is_some());
}

#[test]
fn page_glyphs_rejects_non_page() {
    let mut b = Builder::new();
    let f = helvetica(&mut b);
    b.page(b"BT /F1 12 Tf (x) Tj ET", Some(fonts(&[("F1", f)])));
    let doc = b.finish();
    assert!(matches!(
        page_glyphs(&doc, (9999, 0)),
        Err(TextError::NotAPage(9999, 0))
    ));
}

#[test]
fn reading_order_fallback_when_stream_order_differs() {
    let mut b = Builder::new();
    let f = helvetica(&mut b);
    // "Dinas" is drawn before "Kepala" although it is to its right.
    b.page(
        b"BT /F1 10 Tf 140 400 Td (Dinas) Tj ET BT /F1 10 Tf 100 400 Td (Kepala) Tj ET",
        Some(fonts(&[("F1", f)])),
    );
    let doc = b.finish();
    let hit = find_text(&doc, "Kepala Dinas").unwrap().unwrap();
    let end = 140.0 + helv_width("Dinas") / 100.0;
    assert_rect(&hit, 0, [100.0, 397.93, end, 407.18]);
}

#[test]
fn quote_operators_and_leading() {
    let mut b = Builder::new();
    let f = helvetica(&mut b);
    // ' moves to the next line (TL 20) and shows; " also sets Tw and Tc.
    b.page(
        b"BT /F1 10 Tf 20 TL 100 500 Td (Surat) Tj (Kepala) ' 0 0 (Dinas) \" ET",
        Some(fonts(&[("F1", f)])),
    );
    let doc = b.finish();
    let hit = find_text(&doc, "Kepala").unwrap().unwrap();
    assert_rect(
        &hit,
        0,
        [100.0, 477.93, 100.0 + helv_width("Kepala") / 100.0, 487.18],
    );
    let hit = find_text(&doc, "Dinas").unwrap().unwrap();
    assert_rect(
        &hit,
        0,
        [100.0, 457.93, 100.0 + helv_width("Dinas") / 100.0, 467.18],
    );
}

#[test]
fn type3_font_uses_its_font_matrix() {
    let mut b = Builder::new();
    let proc_a = b.stream(dictionary! {}, b"50 0 0 0 50 50 d1 0 0 50 50 re f");
    let f = b.add(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type3",
        "FontBBox" => vec![0.into(), 0.into(), 50.into(), 50.into()],
        "FontMatrix" => vec![0.02.into(), 0.into(), 0.into(), 0.02.into(), 0.into(), 0.into()],
        "CharProcs" => dictionary! { "K" => proc_a, "a" => proc_a },
        "Encoding" => dictionary! { "Type" => "Encoding", "Differences" => vec![65.into(), "K".into(), "a".into()] },
        "FirstChar" => 65,
        "LastChar" => 66,
        "Widths" => vec![50.into(), 25.into()],
    });
    b.page(
        b"BT /T3 10 Tf 100 100 Td (ABA) Tj ET",
        Some(fonts(&[("T3", f)])),
    );
    let doc = b.finish();
    // Glyph widths: 50 * 0.02 * 10 = 10 and 25 * 0.02 * 10 = 5; height from the FontBBox.
    let hit = find_text(&doc, "KaK").unwrap().unwrap();
    assert_rect(&hit, 0, [100.0, 100.0, 125.0, 110.0]);
}

#[test]
fn actual_text_replaces_the_glyphs_it_covers() {
    let mut b = Builder::new();
    let f = helvetica(&mut b);
    let mut res = fonts(&[("F1", f)]);
    res.set(
        "Properties",
        dictionary! { "P1" => dictionary! { "ActualText" => Object::string_literal("") } },
    );
    // A hyphenated "Infor-matika" whose hyphen is marked as not being text, and a span whose
    // glyphs say "KPL" but whose actual text is "Kepala" (UTF-16 with BOM).
    b.page(
        b"BT /F1 10 Tf 100 300 Td (Infor) Tj /Span /P1 BDC (-) Tj EMC 0 -12 Td (matika) Tj ET \
          BT /F1 10 Tf 100 200 Td /Span << /ActualText <FEFF004B006500700061006C0061> >> BDC (KPL) Tj EMC ( Dinas) Tj ET",
        Some(res),
    );
    let doc = b.finish();
    let hit = find_text(&doc, "Informatika").unwrap().unwrap();
    assert!(
        (hit.rect[0] - 100.0).abs() < 1.0 && hit.rect[1] < 290.0,
        "{hit:?}"
    );
    let hit = find_text(&doc, "Kepala Dinas").unwrap().unwrap();
    let w = (667.0 + 667.0 + 556.0 + 278.0 + helv_width("Dinas")) / 100.0;
    assert_rect(&hit, 0, [100.0, 197.93, 100.0 + w, 207.18]);
    assert!(find_text(&doc, "KPL").unwrap().is_none());
}

#[test]
fn text_outside_the_crop_box_is_skipped() {
    let mut b = Builder::new();
    let f = helvetica(&mut b);
    // The first occurrence is left of the page; the second is visible.
    b.page(
        b"BT /F1 10 Tf -500 400 Td (Kepala Dinas) Tj ET BT /F1 10 Tf 300 400 Td (Kepala Dinas) Tj ET",
        Some(fonts(&[("F1", f)])),
    );
    let doc = b.finish();
    let hit = find_text(&doc, "Kepala Dinas").unwrap().unwrap();
    assert!((hit.rect[0] - 300.0).abs() < 1.0, "{hit:?}");
}

#[test]
fn typographic_quotes_and_combining_accents() {
    let mut b = Builder::new();
    let f = helvetica(&mut b);
    // WinAnsi 0x92 is a right single quote, 0xE9 is e-acute (precomposed).
    b.page(
        b"BT /F1 10 Tf 100 400 Td (Jum\\222at Caf\\351) Tj ET",
        Some(fonts(&[("F1", f)])),
    );
    let doc = b.finish();
    assert!(find_text(&doc, "Jum'at").unwrap().is_some());
    assert!(find_text(&doc, "Jum\u{2019}at").unwrap().is_some());
    assert!(find_text(&doc, "Cafe\u{301}").unwrap().is_some());
    assert!(find_text(&doc, "Cafe").unwrap().is_none());
}

#[test]
fn vertical_identity_v_runs_downwards() {
    let mut b = Builder::new();
    let tu = b.stream(
        dictionary! {},
        b"1 begincodespacerange <0000> <FFFF> endcodespacerange 2 beginbfchar <0001> <5929> <0002> <5730> endbfchar",
    );
    let cid = b.add(dictionary! {
        "Type" => "Font", "Subtype" => "CIDFontType0", "BaseFont" => "KozMinPro-Regular",
        "DW" => 1000,
    });
    let f = b.add(dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "KozMinPro-Regular",
        "Encoding" => "Identity-V", "DescendantFonts" => vec![cid.into()], "ToUnicode" => tu,
    });
    b.page(
        b"BT /V 10 Tf 200 700 Td <00010002> Tj ET",
        Some(fonts(&[("V", f)])),
    );
    let doc = b.finish();
    let hit = find_text(&doc, "\u{5929}\u{5730}").unwrap().unwrap();
    // Two glyphs of 10 pt stacked downwards from y = 700, centred on x = 200.
    assert!(
        (hit.rect[0] - 195.0).abs() < 1.0 && (hit.rect[2] - 205.0).abs() < 1.0,
        "{hit:?}"
    );
    assert!(hit.rect[1] < 685.0 && hit.rect[3] <= 700.5, "{hit:?}");
}

#[test]
fn compact_syntax_and_content_split_over_streams() {
    let mut b = Builder::new();
    let f = helvetica(&mut b);
    let page = b.page(
        b"BT/F1 10 Tf 1 0 0 1 100 700 Tm[(Ke)-0(pa)]TJ%comment (x) Tj\n",
        Some(fonts(&[("F1", f)])),
    );
    // A second content stream continues the same text object.
    let second = b.stream(dictionary! {}, b"<6c61> Tj .5 -.5 Td (Dinas)Tj ET");
    let first = b
        .doc
        .get_dictionary(page)
        .unwrap()
        .get(b"Contents")
        .unwrap()
        .clone();
    b.doc
        .get_dictionary_mut(page)
        .unwrap()
        .set("Contents", vec![first, second.into()]);
    let doc = b.finish();
    let hit = find_text(&doc, "Kepala Dinas").unwrap().unwrap();
    // Td moves relative to the start of the line: "Dinas" starts at (100.5, 699.5) and ends
    // before "Kepala" does.
    let x1 = 100.0 + helv_width("Kepala") / 100.0;
    assert_rect(&hit, 0, [100.0, 697.43, x1, 707.18]);
    let hit = find_text(&doc, "Dinas").unwrap().unwrap();
    assert_rect(
        &hit,
        0,
        [100.5, 697.43, 100.5 + helv_width("Dinas") / 100.0, 706.68],
    );
    assert!(
        find_text(&doc, "x").unwrap().is_none(),
        "comments are not text"
    );
}
