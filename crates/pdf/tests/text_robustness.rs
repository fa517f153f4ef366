//! Text search over randomly mutated PDFs never panics.

// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

use lopdf::{Dictionary, Document, Object, ObjectId, Stream, dictionary};
use sahih_pdf::text::{find_text, page_glyphs};

/// xorshift64*: small, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const TO_UNICODE: &[u8] = b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
    /CMapName /Adobe-Identity-UCS def /CMapType 2 def\n\
    1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
    3 beginbfchar <0003> <0020> <0010> <004B> <0020> <00660069> endbfchar\n\
    2 beginbfrange <0011> <0014> <0065> <0015> <0017> [<0061> <006C> <D835DC00>] endbfrange\n\
    endcmap CMapName currentdict /CMap defineresource pop end end\n";

const PAGE1: &[u8] = b"q 1 0 0 1 10 20 cm BT /F1 12 Tf 1 0 0 1 100 700 Tm (Kepala Dinas) Tj \
    0 -14 TD [(Komu) -20 (nikasi)] TJ T* 2 Tc 3 Tw 90 Tz 1 Ts (dan) ' 1 2 (Informatika) \" ET Q \
    /Fm1 Do BT /F2 10 Tf 0 1 -1 0 300 100 Tm <0010001100120015001600150003> Tj ET";

const FORM: &[u8] = b"BT /F1 10 Tf 5 5 Td (Sekretaris Daerah) Tj /F2 8 Tf <00200011> Tj ET /Fm1 Do";

fn build(page_content: &[u8], to_unicode: &[u8], compress: bool) -> Document {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let helv = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let tu = doc.add_object(Stream::new(dictionary! {}, to_unicode.to_vec()));
    let cid = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "CIDFontType2", "BaseFont" => "AAAAAA+X",
        "DW" => 1000,
        "W" => vec![3.into(), vec![250.into()].into(), 16.into(), 23.into(), 500.into()],
        "DW2" => vec![880.into(), (-1000).into()],
    });
    let t0 = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "AAAAAA+X", "Encoding" => "Identity-H",
        "DescendantFonts" => vec![cid.into()], "ToUnicode" => tu,
    });
    let mut fonts = Dictionary::new();
    fonts.set("F1", helv);
    fonts.set("F2", t0);
    let form_id = doc.new_object_id();
    let form = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Form",
            "BBox" => vec![0.into(), 0.into(), 100.into(), 100.into()],
            "Matrix" => vec![1.into(), 0.into(), 0.into(), 1.into(), 50.into(), 50.into()],
            "Resources" => dictionary! { "Font" => fonts.clone(), "XObject" => dictionary! { "Fm1" => form_id } },
        },
        FORM.to_vec(),
    );
    doc.objects.insert(form_id, Object::Stream(form));
    let content = doc.add_object(Stream::new(dictionary! {}, page_content.to_vec()));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Contents" => content,
    });
    let page2_content = doc.add_object(Stream::new(
        dictionary! {},
        b"BT /F1 9 Tf (Nomor) Tj ET".to_vec(),
    ));
    let page2 = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => vec![page2_content.into(), content.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page.into(), page2.into()], "Count" => 2,
            "Resources" => dictionary! { "Font" => fonts, "XObject" => dictionary! { "Fm1" => form_id } },
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    if compress {
        doc.compress();
    }
    doc
}

fn to_bytes(mut doc: Document) -> Vec<u8> {
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

fn exercise(doc: &Document) {
    for needle in ["Kepala Dinas", "Informatika", "Sekretaris", "fie", "xyz"] {
        let _ = find_text(doc, needle);
    }
    let pages: Vec<ObjectId> = doc.page_iter().collect();
    for id in pages {
        let _ = page_glyphs(doc, id);
    }
}

const INTERESTING: &[&[u8]] = &[
    b"(",
    b")",
    b"<",
    b">",
    b"[",
    b"]",
    b"/",
    b" ",
    b"0",
    b"-",
    b"9",
    b"R",
    b"<<",
    b">>",
    b"Tj",
    b"TJ",
    b"Do",
    b"q",
    b"Q",
    b"cm",
    b"Tf",
    b"99999999999",
    b"-1e308",
    b"0.0000001",
    b"\\",
    b"\n",
    b"endstream",
    b"4294967295",
    b"<FFFFFFFF>",
    b"begincodespacerange",
    b"beginbfrange",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    let count = 1 + rng.below(8);
    for _ in 0..count {
        if out.is_empty() {
            break;
        }
        let pos = rng.below(out.len());
        match rng.below(5) {
            0 => out[pos] ^= 1 << rng.below(8),
            1 => out[pos] = rng.next() as u8,
            2 => {
                let len = rng.below(16).min(out.len() - pos);
                out.drain(pos..pos + len);
            }
            3 => {
                let tok = INTERESTING[rng.below(INTERESTING.len())];
                out.splice(pos..pos, tok.iter().copied());
            }
            _ => {
                let len = rng.below(64).min(out.len() - pos);
                let chunk: Vec<u8> = out[pos..pos + len].to_vec();
                let at = rng.below(out.len());
                out.splice(at..at, chunk);
            }
        }
    }
    out
}

#[test]
fn valid_documents_work() {
    for compress in [false, true] {
        let doc = Document::load_mem(&to_bytes(build(PAGE1, TO_UNICODE, compress))).unwrap();
        let hit = find_text(&doc, "Kepala Dinas").unwrap().unwrap();
        assert_eq!(hit.page_index, 0);
        assert!(find_text(&doc, "Sekretaris Daerah").unwrap().is_some());
        assert_eq!(find_text(&doc, "Nomor").unwrap().unwrap().page_index, 1);
        // The Type0 text and its ligature and surrogate pair.
        assert!(find_text(&doc, "Kepala").unwrap().is_some());
        assert!(find_text(&doc, "fie").unwrap().is_some());
    }
}

/// Iterations per fuzz test: 500, or SAHIH_FUZZ_ITERATIONS for longer local runs.
fn iterations() -> usize {
    std::env::var("SAHIH_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

#[test]
fn mutated_files_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let originals = [
        to_bytes(build(PAGE1, TO_UNICODE, false)),
        to_bytes(build(PAGE1, TO_UNICODE, true)),
    ];
    let mut loaded = 0;
    let n = iterations();
    for i in 0..n {
        let original = &originals[i % 2];
        let bytes = mutate(&mut rng, original);
        let Ok(doc) = Document::load_mem(&bytes) else {
            continue;
        };
        loaded += 1;
        exercise(&doc);
    }
    eprintln!("mutated files: {loaded} of {n} loaded and searched");
    assert!(
        loaded > n / 10,
        "too few mutated files loaded ({loaded}) for the test to mean much"
    );
}

#[test]
fn mutated_content_and_cmaps_never_panic() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    for _ in 0..iterations() {
        let content = mutate(&mut rng, PAGE1);
        let cmap = mutate(&mut rng, TO_UNICODE);
        let doc = build(&content, &cmap, false);
        exercise(&doc);
    }
}

#[test]
fn hostile_structures_are_bounded() {
    // A form that draws itself, a huge q nesting, huge numbers and a huge /W range.
    let mut content = Vec::new();
    content.extend_from_slice(&b"q ".repeat(20_000));
    content.extend_from_slice(b"BT /F1 1e30 Tf 99999 Tz 1e30 1e30 Td (Kepala) Tj ET /Fm1 Do ");
    content.extend_from_slice(&b"Q ".repeat(20_001));
    content.extend_from_slice(b"BT /F2 12 Tf [<0010> -1e300 <0011>] TJ ET");
    let doc = build(
        &content,
        b"1 beginbfrange <0000> <FFFFFFFF> <0041> endbfrange",
        false,
    );
    exercise(&doc);
    // Many text operators on one page stay bounded in time.
    let many = b"BT /F1 12 Tf (Kepala Dinas) Tj ET ".repeat(20_000);
    let doc = build(&many, TO_UNICODE, false);
    assert!(find_text(&doc, "Kepala Dinas").unwrap().is_some());
    assert!(find_text(&doc, "not there").unwrap().is_none());
}
