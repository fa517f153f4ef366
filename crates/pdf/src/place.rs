//! Where the stamp goes: explicit page + rectangle, centred on anchor text, or the default
//! (bottom right of the last page).

use crate::{DisplayRect, PdfDocument, PdfError};

/// Default stamp size in points (wide enough for the QR code and five lines of text).
pub const DEFAULT_STAMP_W: f64 = 220.0;
/// Default stamp height in points (see [`DEFAULT_STAMP_W`]).
pub const DEFAULT_STAMP_H: f64 = 80.0;
/// Distance from the page edges for the default placement.
pub const DEFAULT_MARGIN: f64 = 36.0;

/// The page a stamp goes on, as a user names it: a number, `first`/`pertama` or
/// `last`/`terakhir`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageSelector {
    /// 1-based page number.
    Number(usize),
    /// The first page.
    First,
    /// The last page.
    Last,
}

impl std::str::FromStr for PageSelector {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "first" | "pertama" => Ok(Self::First),
            "last" | "terakhir" => Ok(Self::Last),
            n => n
                .parse::<usize>()
                .ok()
                .filter(|n| *n >= 1)
                .map(Self::Number)
                .ok_or_else(|| format!("invalid page {s:?}: use a number from 1, first or last")),
        }
    }
}

/// Where the visible stamp goes; [`resolve_placement`] turns it into a page and a rectangle.
#[derive(Debug, Clone, PartialEq)]
pub enum Placement {
    /// Bottom right of the last page.
    Default,
    /// Explicit rectangle on a page (None: the default rectangle on that page).
    Page {
        /// The page to stamp.
        page: PageSelector,
        /// Rectangle in displayed-page coordinates; None for the default size and margins.
        rect: Option<DisplayRect>,
    },
    /// Centred on the first occurrence of the text; `size` (width, height in points) or the
    /// default stamp size.
    Anchor {
        /// Text to search for (whitespace is ignored when matching).
        text: String,
        /// Stamp (width, height) in points, clamped to the page size.
        size: Option<(f64, f64)>,
    },
}

/// Resolves a placement to a page index and a displayed rectangle.
pub fn resolve_placement(
    pdf: &PdfDocument,
    placement: &Placement,
) -> Result<(usize, DisplayRect), PdfError> {
    let count = pdf.page_count();
    let last = count.saturating_sub(1);
    let default_rect_on = |index: usize| -> Result<DisplayRect, PdfError> {
        let geo = pdf.page_geometry(index)?;
        let w = DEFAULT_STAMP_W.min(geo.display_width() - 2.0);
        let h = DEFAULT_STAMP_H.min(geo.display_height() - 2.0);
        let margin_x = DEFAULT_MARGIN.min((geo.display_width() - w) / 2.0).max(0.0);
        let margin_y = DEFAULT_MARGIN
            .min((geo.display_height() - h) / 2.0)
            .max(0.0);
        Ok(DisplayRect {
            x: geo.display_width() - w - margin_x,
            y: margin_y,
            w,
            h,
        })
    };
    match placement {
        Placement::Default => Ok((last, default_rect_on(last)?)),
        Placement::Page { page, rect } => {
            let index = match page {
                PageSelector::First => 0,
                PageSelector::Last => last,
                PageSelector::Number(n) if *n >= 1 && *n <= count => n - 1,
                PageSelector::Number(n) => return Err(PdfError::NoSuchPage(*n)),
            };
            match rect {
                Some(r) => Ok((index, *r)),
                None => Ok((index, default_rect_on(index)?)),
            }
        }
        Placement::Anchor { text, size } => {
            let hit = crate::text::find_text(&pdf.doc, text)?
                .ok_or_else(|| PdfError::AnchorNotFound(text.clone()))?;
            let geo = pdf.page_geometry(hit.page_index)?;
            let [x0, y0, x1, y1] = hit.rect;
            let (cu, cv) = geo.user_to_display((x0 + x1) / 2.0, (y0 + y1) / 2.0);
            let (w, h) = size.unwrap_or((DEFAULT_STAMP_W, DEFAULT_STAMP_H));
            let w = w.min(geo.display_width());
            let h = h.min(geo.display_height());
            // Centred on the anchor, pushed back inside the page if it would stick out.
            let x = (cu - w / 2.0).clamp(0.0, (geo.display_width() - w).max(0.0));
            let y = (cv - h / 2.0).clamp(0.0, (geo.display_height() - h).max(0.0));
            Ok((hit.page_index, DisplayRect { x, y, w, h }))
        }
    }
}
