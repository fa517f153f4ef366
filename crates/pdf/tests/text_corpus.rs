//! Optional: compare `find_text` with poppler on a directory of real PDFs.
//!
//! Set SAHIH_TEXT_CORPUS to a directory (searched recursively for *.pdf). For each file, word
//! triples that poppler sees exactly once in the first pages are searched and the boxes
//! compared. Without the variable (the default, also in CI) the test does nothing.

// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use lopdf::Document;
use sahih_pdf::text::find_text;

const MAX_PAGES: usize = 20;
const PROBES_PER_FILE: usize = 12;
const ANCHOR: &str = "Kepala Dinas Komunikasi dan Informatika";

#[derive(Debug, Clone)]
struct Word {
    page: usize,
    line: usize,
    text: String,
    rect: [f64; 4],
}

fn attr(tag: &str, name: &str) -> Option<f64> {
    let key = format!("{name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag.get(start..)?.find('"')? + start;
    tag.get(start..end)?.parse().ok()
}

fn poppler_words(pdf: &Path) -> Option<Vec<Word>> {
    let out = Command::new("pdftotext")
        .args(["-bbox-layout", "-l", &MAX_PAGES.to_string()])
        .arg(pdf)
        .arg("-")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let xml = String::from_utf8_lossy(&out.stdout);
    let mut words = Vec::new();
    let mut page: Option<usize> = None;
    let mut height = 0.0;
    let mut line_no = 0usize;
    for line in xml.lines() {
        let line = line.trim();
        if line.starts_with("<line") {
            line_no += 1;
        } else if line.starts_with("<page ") {
            page = Some(page.map_or(0, |p| p + 1));
            height = attr(line, "height")?;
        } else if line.starts_with("<word ") {
            let text_start = line.find('>')? + 1;
            let text_end = line.rfind("</word>")?;
            words.push(Word {
                page: page?,
                line: line_no,
                text: line.get(text_start..text_end)?.to_string(),
                rect: [
                    attr(line, "xMin")?,
                    height - attr(line, "yMax")?,
                    attr(line, "xMax")?,
                    height - attr(line, "yMin")?,
                ],
            });
        }
    }
    Some(words)
}

fn pdfs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            pdfs(&p, out);
        } else if p.extension().is_some_and(|x| x.eq_ignore_ascii_case("pdf")) {
            out.push(p);
        }
    }
}

#[test]
#[ignore = "needs SAHIH_TEXT_CORPUS (a directory of PDFs); run with --ignored"]
fn corpus_against_poppler() {
    let Ok(dir) = std::env::var("SAHIH_TEXT_CORPUS") else {
        panic!("set SAHIH_TEXT_CORPUS to a directory of PDFs");
    };
    let mut files = Vec::new();
    pdfs(Path::new(&dir), &mut files);
    files.sort();
    let (mut probes, mut found, mut close) = (0usize, 0usize, 0usize);
    for file in &files {
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        let Ok(doc) = Document::load_mem(&bytes) else {
            eprintln!("{}: lopdf cannot load", file.display());
            continue;
        };
        let Some(words) = poppler_words(file) else {
            continue;
        };
        // Triples of plain words, unique in poppler's text (whitespace removed).
        let plain = |w: &Word| w.text.len() >= 3 && w.text.chars().all(char::is_alphabetic);
        // Poppler reports rotated pages in display space; compare unrotated pages only.
        let pages: Vec<_> = doc.page_iter().collect();
        let unrotated = |page: usize| {
            pages.get(page).is_some_and(|id| {
                let mut node = doc.get_dictionary(*id).ok();
                for _ in 0..32 {
                    let Some(n) = node else { return true };
                    if let Ok(r) = n.get(b"Rotate").and_then(|o| o.as_i64()) {
                        return r % 360 == 0;
                    }
                    node = n
                        .get(b"Parent")
                        .and_then(|p| p.as_reference())
                        .and_then(|id| doc.get_dictionary(id))
                        .ok();
                }
                true
            })
        };
        let mut counts: HashMap<String, usize> = HashMap::new();
        let all: String = words.iter().map(|w| w.text.as_str()).collect();
        let candidates: Vec<usize> = (0..words.len().saturating_sub(2))
            .filter(|&i| {
                words[i..i + 3].iter().all(plain)
                    && words[i..i + 3].iter().all(|w| w.line == words[i].line)
                    && unrotated(words[i].page)
            })
            .collect();
        let step = (candidates.len() / PROBES_PER_FILE).max(1);
        let mut runs: Vec<(usize, usize, bool)> = Vec::new();
        // The anchor the project signs at, wherever poppler sees it on one unrotated line.
        let anchor: Vec<&str> = ANCHOR.split_whitespace().collect();
        if let Some(i) = (0..words.len()).find(|&i| {
            words.get(i..i + anchor.len()).is_some_and(|run| {
                run.iter().zip(&anchor).all(|(w, a)| w.text == *a)
                    && run.iter().all(|w| w.line == run[0].line)
                    && unrotated(run[0].page)
            })
        }) {
            runs.push((i, anchor.len(), true));
        }
        runs.extend(
            candidates
                .iter()
                .step_by(step)
                .take(PROBES_PER_FILE)
                .map(|&i| (i, 3, false)),
        );
        for (i, len, is_anchor) in runs {
            let run = &words[i..i + len];
            let key: String = run.iter().map(|w| w.text.as_str()).collect();
            let n = *counts
                .entry(key.clone())
                .or_insert_with(|| all.matches(key.as_str()).count());
            if n != 1 && !is_anchor {
                continue;
            }
            probes += 1;
            let needle = run
                .iter()
                .map(|w| w.text.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let mut want = run[0].rect;
            for w in run {
                want[0] = want[0].min(w.rect[0]);
                want[1] = want[1].min(w.rect[1]);
                want[2] = want[2].max(w.rect[2]);
                want[3] = want[3].max(w.rect[3]);
            }
            match find_text(&doc, &needle) {
                Ok(Some(hit)) => {
                    found += 1;
                    let cx = (hit.rect[0] + hit.rect[2]) / 2.0 - (want[0] + want[2]) / 2.0;
                    let cy = (hit.rect[1] + hit.rect[3]) / 2.0 - (want[1] + want[3]) / 2.0;
                    if hit.page_index == run[0].page && cx.abs() <= 3.0 && cy.abs() <= 3.0 {
                        close += 1;
                    } else {
                        eprintln!(
                            "{}: {needle:?}: ours page {} {:?}, poppler page {} {:?}",
                            file.display(),
                            hit.page_index,
                            hit.rect,
                            run[0].page,
                            want
                        );
                    }
                }
                Ok(None) => eprintln!(
                    "{}: {needle:?} not found (poppler: page {})",
                    file.display(),
                    run[0].page
                ),
                Err(e) => eprintln!("{}: {needle:?}: {e}", file.display()),
            }
        }
    }
    eprintln!(
        "text_corpus: {} files, {probes} probes, {found} found, {close} at poppler's place",
        files.len()
    );
    assert!(
        close * 10 >= probes * 9,
        "fewer than 90% of probes matched poppler"
    );
}
