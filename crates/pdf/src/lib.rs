//! sahih-pdf: PDF syntax for signing and verification.
//!
//! Owns: tolerant reading (over lopdf), page geometry (/Rotate, CropBox), text positions for
//! anchor placement, the visible stamp (QR code + text) and the incremental update that adds a
//! signature field with a /ByteRange and /Contents placeholder.
//!
//! Must not know: certificates, CMS, keys or policy. It moves opaque bytes into /Contents.

#![forbid(unsafe_code)]

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
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// Errors from reading or updating a PDF. Messages are English; callers translate by variant.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is not a PDF (no %PDF- header)")]
    NotPdf,
    #[error("the PDF is encrypted")]
    Encrypted,
    #[error("the PDF cannot be parsed: {0}")]
    Unparseable(String),
    #[error("page {0} does not exist")]
    NoSuchPage(usize),
    #[error("invalid stamp placement: {0}")]
    InvalidPlacement(String),
    #[error("anchor text not found: {0:?}")]
    AnchorNotFound(String),
    #[error("text extraction failed: {0}")]
    Text(#[from] text::TextError),
    #[error("signature needs {needed} bytes but the placeholder holds {capacity}")]
    ContentsTooLarge { needed: usize, capacity: usize },
    #[error("the file is too large for a 10-digit /ByteRange")]
    TooLarge,
}
