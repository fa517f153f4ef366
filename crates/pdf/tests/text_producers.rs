//! Text search on PDFs written by real producers (LibreOffice, Chromium/Skia, pdfTeX,
//! Ghostscript), checked against poppler's `pdftotext -bbox-layout` word boxes.
//!
//! A producer that is not installed is skipped with a loud "SKIPPED" line (CI installs them).

// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use lopdf::Document;
use sahih_pdf::text::find_text;

const LINE: &str = "Kepala Dinas Komunikasi dan Informatika";

fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is not installed, and CI must not skip it"
        );
        eprintln!("==================================================");
        eprintln!("SKIPPED: {tool} not installed");
        eprintln!("==================================================");
    }
    found
}

fn temp_dir(tag: &str) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("sahih-text-{tag}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A word from `pdftotext -bbox-layout`, with its box converted to PDF user space.
#[derive(Debug, Clone)]
struct Word {
    page: usize,
    text: String,
    rect: [f64; 4],
}

fn attr(tag: &str, name: &str) -> Option<f64> {
    let key = format!("{name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag.get(start..)?.find('"')? + start;
    tag.get(start..end)?.parse().ok()
}

fn poppler_words(pdf: &Path) -> Vec<Word> {
    let out = Command::new("pdftotext")
        .arg("-bbox-layout")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("run pdftotext");
    assert!(
        out.status.success(),
        "pdftotext failed on {}",
        pdf.display()
    );
    let xml = String::from_utf8_lossy(&out.stdout);
    let mut words = Vec::new();
    let mut page: Option<usize> = None;
    let mut height = 0.0;
    for line in xml.lines() {
        let line = line.trim();
        if line.starts_with("<page ") {
            page = Some(page.map_or(0, |p| p + 1));
            height = attr(line, "height").unwrap();
        } else if line.starts_with("<word ") {
            let text_start = line.find('>').unwrap() + 1;
            let text_end = line.rfind("</word>").unwrap();
            let text = line[text_start..text_end].replace("&amp;", "&");
            let (x0, y0, x1, y1) = (
                attr(line, "xMin").unwrap(),
                attr(line, "yMin").unwrap(),
                attr(line, "xMax").unwrap(),
                attr(line, "yMax").unwrap(),
            );
            words.push(Word {
                page: page.unwrap(),
                text,
                rect: [x0, height - y1, x1, height - y0],
            });
        }
    }
    words
}

/// Union box of the first run of consecutive poppler words equal to the needle's words.
fn poppler_hit(words: &[Word], needle: &str) -> Option<(usize, [f64; 4])> {
    let parts: Vec<&str> = needle.split_whitespace().collect();
    (0..words.len()).find_map(|i| {
        let run = words.get(i..i + parts.len())?;
        let same_page = run.iter().all(|w| w.page == run[0].page);
        let same_text = run.iter().zip(&parts).all(|(w, p)| w.text == *p);
        (same_page && same_text).then(|| {
            let mut r = run[0].rect;
            for w in run {
                r[0] = r[0].min(w.rect[0]);
                r[1] = r[1].min(w.rect[1]);
                r[2] = r[2].max(w.rect[2]);
                r[3] = r[3].max(w.rect[3]);
            }
            (run[0].page, r)
        })
    })
}

/// Compare our hit with poppler's: x within `tol_x`, y within `tol_y` points.
fn check(pdf: &Path, needle: &str, tol_x: f64, tol_y: f64) {
    let bytes = std::fs::read(pdf).unwrap();
    let doc = Document::load_mem(&bytes).unwrap();
    let ours = find_text(&doc, needle)
        .unwrap()
        .unwrap_or_else(|| panic!("{needle:?} not found in {}", pdf.display()));
    let words = poppler_words(pdf);
    let (page, theirs) = poppler_hit(&words, needle).unwrap_or_else(|| {
        panic!(
            "poppler did not find {needle:?} in {}: {words:?}",
            pdf.display()
        )
    });
    eprintln!(
        "{}: {needle:?}: ours page {} {:?}, poppler page {page} {:?}",
        pdf.display(),
        ours.page_index,
        ours.rect,
        theirs
    );
    assert_eq!(ours.page_index, page, "page of {needle:?}");
    for i in 0..4 {
        let tol = if i % 2 == 0 { tol_x } else { tol_y };
        assert!(
            (ours.rect[i] - theirs[i]).abs() <= tol,
            "{}: {needle:?}: ours {:?} vs poppler {:?} (coordinate {i})",
            pdf.display(),
            ours.rect,
            theirs
        );
    }
    // The centre, where the stamp goes, is close in both directions.
    let (cx, cy) = (
        (ours.rect[0] + ours.rect[2]) / 2.0,
        (ours.rect[1] + ours.rect[3]) / 2.0,
    );
    let (px, py) = ((theirs[0] + theirs[2]) / 2.0, (theirs[1] + theirs[3]) / 2.0);
    assert!(
        (cx - px).abs() <= tol_x && (cy - py).abs() <= tol_y,
        "centres differ"
    );
}

const HTML: &str = "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\
    <style>body{font-family:sans-serif;font-size:14px}</style></head><body>\
    <p>PEMERINTAH KOTA CONTOH</p><p>Surat ini ditandatangani secara elektronik oleh</p>\
    <p>Kepala Dinas Komunikasi dan Informatika</p><p>efisien official file</p></body></html>";

const TXT: &str = "PEMERINTAH KOTA CONTOH\n\nSurat ini ditandatangani secara elektronik oleh\n\n\
    Kepala Dinas Komunikasi dan Informatika\n\nefisien official file\n";

fn check_all(pdf: &Path) {
    check(pdf, LINE, 2.0, 3.0);
    check(pdf, "Informatika", 2.0, 3.0);
    check(pdf, "official", 2.0, 3.0);
}

#[test]
fn chromium_skia() {
    if !have("chromium") || !have("pdftotext") {
        return;
    }
    let dir = temp_dir("chromium");
    let html = dir.join("doc.html");
    std::fs::write(&html, HTML).unwrap();
    let pdf = dir.join("out.pdf");
    let profile = dir.join("profile");
    run(Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(&html));
    check_all(&pdf);
    let _ = std::fs::remove_dir_all(&dir);
}

fn soffice(dir: &Path, input: &Path) -> PathBuf {
    let profile = dir.join("lo-profile");
    run(Command::new("soffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(dir)
        .arg(input));
    input.with_extension("pdf")
}

#[test]
fn libreoffice_writer() {
    if !have("soffice") || !have("pdftotext") {
        return;
    }
    let dir = temp_dir("libreoffice");
    let txt = dir.join("surat.txt");
    std::fs::write(&txt, TXT).unwrap();
    let pdf = soffice(&dir, &txt);
    check_all(&pdf);
    let html = dir.join("web.html");
    std::fs::write(&html, HTML).unwrap();
    let pdf = soffice(&dir, &html);
    check_all(&pdf);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pdftex() {
    if !have("pdflatex") || !have("pdftotext") {
        return;
    }
    let dir = temp_dir("pdftex");
    let tex = dir.join("surat.tex");
    std::fs::write(
        &tex,
        "\\documentclass{article}\n\\begin{document}\nSurat ini ditandatangani secara elektronik oleh\n\n\
         Kepala Dinas Komunikasi dan Informatika\n\nefisien official file\n\\end{document}\n",
    )
    .unwrap();
    run(Command::new("pdflatex")
        .args(["-interaction=nonstopmode", "-halt-on-error"])
        .arg(format!("-output-directory={}", dir.display()))
        .arg(&tex)
        .current_dir(&dir));
    check_all(&tex.with_extension("pdf"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ghostscript_ps2pdf() {
    if !have("ps2pdf") || !have("pdftotext") {
        return;
    }
    let dir = temp_dir("ps2pdf");
    let ps = dir.join("surat.ps");
    std::fs::write(
        &ps,
        "%!PS\n/Helvetica findfont 14 scalefont setfont\n\
         72 700 moveto (Surat ini ditandatangani secara elektronik oleh) show\n\
         72 680 moveto (Kepala Dinas Komunikasi dan Informatika) show\n\
         /Times-Roman findfont 12 scalefont setfont\n72 660 moveto (efisien official file) show\n\
         /Helvetica-Bold findfont 10 scalefont setfont\n\
         gsave 400 300 translate 90 rotate 0 0 moveto (Sekretaris Daerah) show grestore\nshowpage\n",
    )
    .unwrap();
    let pdf = dir.join("surat.pdf");
    run(Command::new("ps2pdf").arg(&ps).arg(&pdf).current_dir(&dir));
    check_all(&pdf);
    check(&pdf, "Sekretaris Daerah", 2.0, 3.0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A paragraph of filler text (Indonesian officialese).
const FILLER: &str = "Dalam rangka pelaksanaan Sistem Pemerintahan Berbasis Elektronik, setiap perangkat \
    daerah wajib menyelenggarakan tata naskah dinas secara elektronik sesuai dengan ketentuan \
    peraturan perundang-undangan yang berlaku, termasuk penggunaan sertifikat elektronik.";

fn timed_find(pdf: &Path, needle: &str) -> (usize, std::time::Duration) {
    let doc = Document::load_mem(&std::fs::read(pdf).unwrap()).unwrap();
    let pages = doc.get_pages().len();
    let start = std::time::Instant::now();
    let hit = find_text(&doc, needle).unwrap().expect("needle found");
    let elapsed = start.elapsed();
    assert_eq!(hit.page_index + 1, pages, "the needle is on the last page");
    (pages, elapsed)
}

#[test]
fn books_of_36_pages() {
    if !have("pdftotext") {
        return;
    }
    if have("pdflatex") {
        let dir = temp_dir("book-tex");
        let mut tex = String::from("\\documentclass{article}\n\\begin{document}\n");
        for page in 0..35 {
            tex.push_str(&format!("\\section{{Bagian {page}}}\n"));
            for _ in 0..5 {
                tex.push_str(FILLER);
                tex.push_str("\n\n");
            }
            tex.push_str("\\newpage\n");
        }
        tex.push_str(FILLER);
        tex.push_str("\n\nKepala Dinas Komunikasi dan Informatika\n\\end{document}\n");
        let path = dir.join("book.tex");
        std::fs::write(&path, tex).unwrap();
        run(Command::new("pdflatex")
            .args(["-interaction=nonstopmode", "-halt-on-error"])
            .arg(format!("-output-directory={}", dir.display()))
            .arg(&path)
            .current_dir(&dir));
        let pdf = path.with_extension("pdf");
        check(&pdf, LINE, 2.0, 3.0);
        let (pages, t) = timed_find(&pdf, LINE);
        eprintln!("pdfTeX book: {pages} pages searched in {t:?} (this build's profile)");
        let _ = std::fs::remove_dir_all(&dir);
    }
    if have("soffice") {
        let dir = temp_dir("book-lo");
        let mut txt = String::new();
        for _ in 0..36 * 12 {
            txt.push_str(FILLER);
            txt.push_str("\n\n");
        }
        txt.push_str("Kepala Dinas Komunikasi dan Informatika\n");
        let path = dir.join("book.txt");
        std::fs::write(&path, txt).unwrap();
        let pdf = soffice(&dir, &path);
        check(&pdf, LINE, 2.0, 3.0);
        let (pages, t) = timed_find(&pdf, LINE);
        eprintln!("LibreOffice book: {pages} pages searched in {t:?} (this build's profile)");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
