//! sahih-pdf: PDF syntax for signing and verification.
//!
//! Owns: tolerant reading (over lopdf), page geometry (/Rotate, CropBox), text positions for
//! anchor placement, the visible stamp (QR code + text) and the incremental update that adds a
//! signature field with a /ByteRange and /Contents placeholder.
//!
//! Must not know: certificates, CMS, keys or policy. It moves opaque bytes into /Contents.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod afm;
pub mod document;
pub mod dss;
pub mod geometry;
pub mod image;
pub mod place;
pub mod raw;
pub mod revisions;
pub mod sample;
pub mod serialize;
pub mod stamp;
pub mod text;
pub mod update;

pub use document::{OpenOptions, PdfDocument, SignatureField, is_revision_end, revision_ends};
pub use geometry::{BoxRect, PageGeometry};
pub use image::{SpecimenImage, parse_specimen};
pub use lopdf;
pub use place::{PageSelector, Placement, resolve_placement};
pub use stamp::StampContent;
pub use update::{PreparedUpdate, SignatureKind, SignatureSpec, VisibleStamp, prepare_signature};

/// A rectangle in displayed-page coordinates: points from the lower-left corner of the page as
/// the reader sees it (after /Rotate, relative to the CropBox).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DisplayRect {
    /// Left edge: points from the displayed page's left side.
    pub x: f64,
    /// Bottom edge: points from the displayed page's bottom side.
    pub y: f64,
    /// Width in points, as displayed.
    pub w: f64,
    /// Height in points, as displayed.
    pub h: f64,
}

/// Errors from reading or updating a PDF. Messages are English; callers translate by variant.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// The input has no bytes.
    #[error("the file is empty")]
    Empty,
    /// No `%PDF-` header in the first 1024 bytes.
    #[error("the file is not a PDF (no %PDF- header)")]
    NotPdf,
    /// The file has an /Encrypt entry; encrypted documents are not opened.
    #[error("the PDF is encrypted")]
    Encrypted,
    /// Truncated (no `%%EOF`), without catalog or pages, or beyond lopdf's repair; says which.
    #[error("the PDF cannot be parsed: {0}")]
    Unparseable(String),
    /// A 1-based page number beyond the last page.
    #[error("page {0} does not exist")]
    NoSuchPage(usize),
    /// The stamp cannot be drawn as asked: a rectangle outside the page or under 10 x 10 points,
    /// a payload too long for a QR code, or an unusable specimen image.
    #[error("invalid stamp placement: {0}")]
    InvalidPlacement(String),
    /// No page contains the anchor text (the text searched for).
    #[error("anchor text not found: {0:?}")]
    AnchorNotFound(String),
    /// Searching the pages for anchor text failed.
    #[error("text extraction failed: {0}")]
    Text(#[from] text::TextError),
    /// The CMS blob does not fit the /Contents placeholder; prepare again with room for `needed`.
    #[error("signature needs {needed} bytes but the placeholder holds {capacity}")]
    ContentsTooLarge {
        /// Size of the blob in bytes.
        needed: usize,
        /// Bytes the placeholder holds.
        capacity: usize,
    },
    /// The file is too large for the space reserved for /ByteRange (10 digits per number).
    #[error("the file is too large for a 10-digit /ByteRange")]
    TooLarge,
}
