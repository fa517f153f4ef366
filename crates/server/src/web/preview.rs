//! Page images of a PDF for the inbox: phones (Android Chrome) do not show PDFs inline, so
//! the server renders each page to PNG with `hayro` (pure Rust, no script, nothing vendored to
//! the browser). Rendering runs on a blocking thread and a panic in the renderer on a strange
//! file becomes an error, never a crash; the page then offers the PDF itself.
//!
//! Must not know: requests or who may see them.

use std::collections::HashMap;
use std::sync::Mutex;

/// Width of a rendered page in pixels: sharp on a phone (about 3x a 360 px screen).
const TARGET_WIDTH: f32 = 1000.0;
/// Images kept in memory (most recently used are kept by clearing in bulk when full).
const CACHE_ENTRIES: usize = 128;

/// Why a page could not be shown.
#[derive(Debug, PartialEq, Eq)]
pub enum PreviewError {
    /// The renderer could not read the file.
    Unreadable,
    /// No such page.
    NoPage,
}

/// A rendered page; cloning it shares the bytes (the cache and every answer hold the same).
type Png = axum::body::Bytes;

/// Rendered pages by (document key, page index), and page counts by document key, so that
/// showing a request again reads and parses nothing.
#[derive(Default)]
pub struct PreviewCache {
    pages: Mutex<HashMap<(String, usize), Png>>,
    counts: Mutex<HashMap<String, usize>>,
}

impl PreviewCache {
    /// A cached page image.
    pub fn get(&self, key: &str, page: usize) -> Option<Png> {
        self.pages
            .lock()
            .ok()?
            .get(&(key.to_string(), page))
            .cloned()
    }

    /// Keeps a page image.
    pub fn put(&self, key: &str, page: usize, png: Png) {
        if let Ok(mut pages) = self.pages.lock() {
            if pages.len() >= CACHE_ENTRIES {
                pages.clear();
            }
            pages.insert((key.to_string(), page), png);
        }
    }

    /// A cached page count.
    pub fn count(&self, key: &str) -> Option<usize> {
        self.counts.lock().ok()?.get(key).copied()
    }

    /// Keeps a page count (documents never change under their key).
    pub fn put_count(&self, key: &str, count: usize) {
        if let Ok(mut counts) = self.counts.lock() {
            if counts.len() >= CACHE_ENTRIES * 8 {
                counts.clear();
            }
            counts.insert(key.to_string(), count);
        }
    }
}

/// The answer with page `index` of the PDF kept under `key`: from the cache, else rendered from
/// the bytes `load` reads (only on a miss) on a blocking thread. 404 for a page that does not
/// exist, 422 for a file the renderer cannot read.
pub async fn page_png(
    cache: &PreviewCache,
    key: &str,
    index: usize,
    load: impl std::future::Future<Output = Result<Vec<u8>, axum::response::Response>>,
) -> axum::response::Response {
    use axum::http::{HeaderValue, StatusCode, header};
    use axum::response::IntoResponse;
    let png = match cache.get(key, index) {
        Some(png) => png,
        None => {
            let bytes = match load.await {
                Ok(b) => b,
                Err(r) => return r,
            };
            match tokio::task::spawn_blocking(move || render_page(&bytes, index)).await {
                Ok(Ok(png)) => {
                    let png = Png::from(png);
                    cache.put(key, index, png.clone());
                    png
                }
                Ok(Err(PreviewError::NoPage)) => return StatusCode::NOT_FOUND.into_response(),
                _ => return StatusCode::UNPROCESSABLE_ENTITY.into_response(),
            }
        }
    };
    let mut r = (StatusCode::OK, png).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    // Personal: the browser may keep it for the session's view, no shared cache.
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=600"),
    );
    r
}

/// How many pages the renderer sees (None when it cannot read the file).
pub fn page_count(pdf: &[u8]) -> Option<usize> {
    let bytes = pdf.to_vec();
    std::panic::catch_unwind(move || {
        hayro::hayro_syntax::Pdf::new(bytes)
            .ok()
            .map(|p| p.pages().len())
    })
    .ok()
    .flatten()
}

/// Page `index` (from 0) as PNG.
pub fn render_page(pdf: &[u8], index: usize) -> Result<Vec<u8>, PreviewError> {
    let bytes = pdf.to_vec();
    std::panic::catch_unwind(move || {
        let pdf = hayro::hayro_syntax::Pdf::new(bytes).map_err(|_| PreviewError::Unreadable)?;
        let pages = pdf.pages();
        let page = pages.get(index).ok_or(PreviewError::NoPage)?;
        let (width, _) = page.render_dimensions();
        let scale = if width > 0.0 {
            (TARGET_WIDTH / width).clamp(0.5, 3.0)
        } else {
            1.0
        };
        let pixmap = hayro::render(
            page,
            &hayro::RenderCache::new(),
            &hayro::hayro_interpret::InterpreterSettings::default(),
            &hayro::RenderSettings::default(),
            &hayro::PixmapSettings {
                x_scale: scale,
                y_scale: scale,
                bg_color: hayro::vello_cpu::color::palette::css::WHITE,
            },
        );
        pixmap.into_png().map_err(|_| PreviewError::Unreadable)
    })
    .unwrap_or(Err(PreviewError::Unreadable))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_letter_renders_and_garbage_does_not_crash() {
        let pdf = sahih_pdf::sample::single_page(
            &[sahih_pdf::sample::Line {
                x: 72.0,
                y: 760.0,
                size: 12.0,
                bold: true,
                text: "Surat uji".into(),
            }],
            "Surat uji",
        );
        assert_eq!(page_count(&pdf), Some(1));
        let png = render_page(&pdf, 0).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert_eq!(render_page(&pdf, 5), Err(PreviewError::NoPage));
        assert_eq!(
            render_page(b"%PDF-1.7 rusak", 0),
            Err(PreviewError::Unreadable)
        );
        assert_eq!(page_count(b"bukan pdf"), None);
    }
}
