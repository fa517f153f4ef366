//! Page geometry as the reader sees it: MediaBox/CropBox (inherited through the page tree)
//! and /Rotate, and the mapping between "visible" coordinates (points from the lower-left corner
//! of the displayed, rotated, cropped page) and the page's default user space.

use crate::PdfError;
use lopdf::{Document, Object, ObjectId};

/// A rectangle as x0, y0, x1, y1 with x0 <= x1 and y0 <= y1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxRect {
    /// Left edge, in points.
    pub x0: f64,
    /// Bottom edge, in points.
    pub y0: f64,
    /// Right edge, in points.
    pub x1: f64,
    /// Top edge, in points.
    pub y1: f64,
}

impl BoxRect {
    /// The rectangle with corners (a, b) and (c, d) given in any order, as PDF arrays allow.
    pub fn normalised(a: f64, b: f64, c: f64, d: f64) -> Self {
        Self {
            x0: a.min(c),
            y0: b.min(d),
            x1: a.max(c),
            y1: b.max(d),
        }
    }
    /// Horizontal extent, `x1 - x0`.
    pub fn width(&self) -> f64 {
        self.x1 - self.x0
    }
    /// Vertical extent, `y1 - y0`.
    pub fn height(&self) -> f64 {
        self.y1 - self.y0
    }
    fn intersect(&self, other: &BoxRect) -> Option<BoxRect> {
        let r = BoxRect {
            x0: self.x0.max(other.x0),
            y0: self.y0.max(other.y0),
            x1: self.x1.min(other.x1),
            y1: self.y1.min(other.y1),
        };
        (r.x1 > r.x0 && r.y1 > r.y0).then_some(r)
    }
}

/// Geometry of one page.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PageGeometry {
    /// The visible area (CropBox clipped to MediaBox) in default user space.
    pub visible: BoxRect,
    /// Clockwise display rotation: 0, 90, 180 or 270.
    pub rotate: u16,
}

impl PageGeometry {
    /// Width of the page as displayed (after rotation).
    pub fn display_width(&self) -> f64 {
        if self.rotate.is_multiple_of(180) {
            self.visible.width()
        } else {
            self.visible.height()
        }
    }
    /// Height of the page as displayed (after rotation).
    pub fn display_height(&self) -> f64 {
        if self.rotate.is_multiple_of(180) {
            self.visible.height()
        } else {
            self.visible.width()
        }
    }

    /// Maps a displayed point (u, v) (origin at the lower-left corner as seen) to user space.
    pub fn display_to_user(&self, u: f64, v: f64) -> (f64, f64) {
        let b = &self.visible;
        match self.rotate {
            90 => (b.x1 - v, b.y0 + u),
            180 => (b.x1 - u, b.y1 - v),
            270 => (b.x0 + v, b.y1 - u),
            _ => (b.x0 + u, b.y0 + v),
        }
    }

    /// Inverse of [`Self::display_to_user`].
    pub fn user_to_display(&self, x: f64, y: f64) -> (f64, f64) {
        let b = &self.visible;
        match self.rotate {
            90 => (y - b.y0, b.x1 - x),
            180 => (b.x1 - x, b.y1 - y),
            270 => (b.y1 - y, x - b.x0),
            _ => (x - b.x0, y - b.y0),
        }
    }

    /// A displayed rectangle (x, y, w, h) as an axis-aligned rectangle in user space.
    pub fn display_rect_to_user(&self, x: f64, y: f64, w: f64, h: f64) -> BoxRect {
        let (ax, ay) = self.display_to_user(x, y);
        let (bx, by) = self.display_to_user(x + w, y + h);
        BoxRect::normalised(ax, ay, bx, by)
    }

    /// The /Matrix for an appearance stream drawn upright in display orientation
    /// (form space [0 0 w h] as seen), so that viewers show it unrotated.
    pub fn appearance_matrix(&self) -> [f64; 6] {
        match self.rotate {
            90 => [0.0, 1.0, -1.0, 0.0, 0.0, 0.0],
            180 => [-1.0, 0.0, 0.0, -1.0, 0.0, 0.0],
            270 => [0.0, -1.0, 1.0, 0.0, 0.0, 0.0],
            _ => [1.0, 0.0, 0.0, 1.0, 0.0, 0.0],
        }
    }
}

const MAX_TREE_DEPTH: usize = 64;

/// Looks up an inheritable page attribute (/MediaBox, /CropBox, /Rotate, /Resources).
pub fn inherited<'a>(doc: &'a Document, page_id: ObjectId, key: &[u8]) -> Option<&'a Object> {
    let mut current = doc.get_dictionary(page_id).ok()?;
    for _ in 0..MAX_TREE_DEPTH {
        if let Ok(value) = current.get(key) {
            return doc.dereference(value).ok().map(|(_, o)| o);
        }
        let parent = current.get(b"Parent").ok()?.as_reference().ok()?;
        current = doc.get_dictionary(parent).ok()?;
    }
    None
}

/// The value of a PDF number (integer or real, following a reference); None for anything else.
pub fn number(doc: &Document, obj: &Object) -> Option<f64> {
    let (_, obj) = doc.dereference(obj).ok()?;
    match obj {
        Object::Integer(i) => Some(*i as f64),
        Object::Real(r) => Some(f64::from(*r)),
        _ => None,
    }
}

fn rect_of(doc: &Document, obj: &Object) -> Option<BoxRect> {
    let arr = obj.as_array().ok()?;
    if arr.len() != 4 {
        return None;
    }
    let n: Vec<f64> = arr.iter().filter_map(|o| number(doc, o)).collect();
    if n.len() != 4 || n.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let r = BoxRect::normalised(n[0], n[1], n[2], n[3]);
    (r.width() > 0.0 && r.height() > 0.0).then_some(r)
}

/// Geometry of the page object `page_id`.
pub fn page_geometry(doc: &Document, page_id: ObjectId) -> Result<PageGeometry, PdfError> {
    // US Letter is the spec's nominal default when a MediaBox is missing.
    let media = inherited(doc, page_id, b"MediaBox")
        .and_then(|o| rect_of(doc, o))
        .unwrap_or(BoxRect {
            x0: 0.0,
            y0: 0.0,
            x1: 612.0,
            y1: 792.0,
        });
    let visible = inherited(doc, page_id, b"CropBox")
        .and_then(|o| rect_of(doc, o))
        .and_then(|c| c.intersect(&media))
        .unwrap_or(media);
    let rotate = inherited(doc, page_id, b"Rotate")
        .and_then(|o| number(doc, o))
        .map(|r| {
            let r = (r as i64).rem_euclid(360);
            if r % 90 == 0 { r as u16 } else { 0 }
        })
        .unwrap_or(0);
    Ok(PageGeometry { visible, rotate })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geo(rotate: u16) -> PageGeometry {
        PageGeometry {
            visible: BoxRect {
                x0: 50.0,
                y0: 60.0,
                x1: 545.0,
                y1: 782.0,
            },
            rotate,
        }
    }

    #[test]
    fn display_and_user_space_are_inverse() {
        for r in [0, 90, 180, 270] {
            let g = geo(r);
            for (u, v) in [(0.0, 0.0), (10.0, 20.0), (100.0, 300.0)] {
                let (x, y) = g.display_to_user(u, v);
                let (u2, v2) = g.user_to_display(x, y);
                assert!((u - u2).abs() < 1e-9 && (v - v2).abs() < 1e-9, "rotate {r}");
            }
        }
    }

    #[test]
    fn rotated_page_corners() {
        // Rotate 90: the displayed lower-left corner is the user-space lower-right corner.
        let g = geo(90);
        assert_eq!(g.display_to_user(0.0, 0.0), (545.0, 60.0));
        assert_eq!(g.display_width(), 722.0);
        // Rotate 270: displayed lower-left is the user-space upper-left corner.
        let g = geo(270);
        assert_eq!(g.display_to_user(0.0, 0.0), (50.0, 782.0));
    }

    #[test]
    fn appearance_matrix_maps_form_axes_like_display_axes() {
        for r in [0, 90, 180, 270] {
            let g = geo(r);
            let m = g.appearance_matrix();
            // Form x axis (1,0) must map to the user-space direction of displayed +u.
            let (x0, y0) = g.display_to_user(0.0, 0.0);
            let (x1, y1) = g.display_to_user(1.0, 0.0);
            assert_eq!((m[0], m[1]), (x1 - x0, y1 - y0), "rotate {r}");
            let (x2, y2) = g.display_to_user(0.0, 1.0);
            assert_eq!((m[2], m[3]), (x2 - x0, y2 - y0), "rotate {r}");
        }
    }
}
