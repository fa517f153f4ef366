//! One PDF uploaded from a page form (`multipart/form-data`, field `berkas`, plus the page's
//! `lang`), read in memory within a size limit, and the per-address limit on how often the
//! public may upload. Nothing uploaded is stored.
//!
//! Must not know: what the page does with the file.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use sahih_core::Lang;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Room for a form's own fields and boundaries around the file.
const FORM_OVERHEAD: usize = 64 * 1024;

/// The body limit of a route that takes one uploaded PDF: the portal's file limit plus the
/// form around it (a larger file is then refused by [`read_upload`] with a clear message).
pub fn body_limit(state: &crate::Shared) -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(
        state
            .sahih
            .config
            .web
            .portal_max_bytes()
            .saturating_add(FORM_OVERHEAD),
    )
}

/// The form field that carries the file.
pub const FILE_FIELD: &str = "berkas";

/// A file read from a page form.
pub struct Upload {
    /// The name the browser gave (for display only).
    pub file_name: String,
    /// The whole file.
    pub bytes: Vec<u8>,
    /// The language of the page that posted it.
    pub lang: Lang,
}

/// Why no file could be read.
#[derive(Debug, PartialEq, Eq)]
pub enum UploadError {
    /// Larger than the limit.
    TooLarge,
    /// No file (or an empty one) was chosen.
    Missing,
    /// The body is not a readable form.
    Malformed,
}

impl UploadError {
    /// The HTTP status of the refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Missing | Self::Malformed => StatusCode::BAD_REQUEST,
        }
    }

    /// Heading and explanation, in `lang`.
    pub fn message(&self, lang: Lang, max_bytes: usize) -> (String, String) {
        let mib = max_bytes / (1024 * 1024);
        let (id, en) = match self {
            Self::TooLarge => (
                (
                    "Berkas terlalu besar".to_string(),
                    format!(
                        "Portal ini memeriksa berkas sampai {mib} MB. Untuk berkas lebih besar, gunakan aplikasi sahih verify atau hubungi Diskominfo."
                    ),
                ),
                (
                    "The file is too large".to_string(),
                    format!(
                        "This portal checks files up to {mib} MB. For larger files use sahih verify or contact the Diskominfo."
                    ),
                ),
            ),
            Self::Missing => (
                (
                    "Belum ada berkas".to_string(),
                    "Pilih berkas PDF yang ingin diperiksa, lalu tekan tombolnya lagi.".to_string(),
                ),
                (
                    "No file chosen".to_string(),
                    "Choose the PDF you want to check, then press the button again.".to_string(),
                ),
            ),
            Self::Malformed => (
                (
                    "Unggahan tidak terbaca".to_string(),
                    "Berkas tidak sampai dengan utuh. Coba unggah sekali lagi.".to_string(),
                ),
                (
                    "The upload could not be read".to_string(),
                    "The file did not arrive whole. Please upload it again.".to_string(),
                ),
            ),
        };
        match lang {
            Lang::Id => id,
            Lang::En => en,
        }
    }
}

/// A multipart form read whole: its text fields and its files (name given by the browser and
/// bytes), by field name.
#[derive(Default)]
pub struct FormData {
    /// Text fields (the last value of a repeated name).
    pub fields: std::collections::HashMap<String, String>,
    /// Files: (field, file name, bytes); empty file inputs are left out.
    pub files: Vec<(String, String, Vec<u8>)>,
}

impl FormData {
    /// A text field, trimmed ("" when absent).
    pub fn text(&self, name: &str) -> &str {
        self.fields.get(name).map(|v| v.trim()).unwrap_or("")
    }
}

/// Reads a multipart form: fields named in `file_fields` are files of at most `max_bytes`
/// each, every other field is text (at most 64 KiB). The language is read even when the form is
/// refused, so the refusal speaks the page's language.
pub async fn read_form(
    form: Result<Multipart, MultipartRejection>,
    file_fields: &[&str],
    max_bytes: usize,
) -> (Lang, Result<FormData, UploadError>) {
    let mut lang = Lang::Id;
    let Ok(mut form) = form else {
        return (lang, Err(UploadError::Malformed));
    };
    let mut out = FormData::default();
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return (lang, Err(UploadError::TooLarge));
            }
            Err(_) => return (lang, Err(UploadError::Malformed)),
        };
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().unwrap_or_default().to_string();
        let data = match field.bytes().await {
            Ok(d) => d,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return (lang, Err(UploadError::TooLarge));
            }
            Err(_) => return (lang, Err(UploadError::Malformed)),
        };
        if file_fields.contains(&name.as_str()) {
            if data.len() > max_bytes {
                return (lang, Err(UploadError::TooLarge));
            }
            if !data.is_empty() {
                out.files.push((name, file_name, data.to_vec()));
            }
        } else {
            if data.len() > FORM_OVERHEAD {
                return (lang, Err(UploadError::Malformed));
            }
            let Ok(text) = String::from_utf8(data.to_vec()) else {
                return (lang, Err(UploadError::Malformed));
            };
            if name == "lang" {
                lang = super::lang_of(Some(&text));
            }
            out.fields.insert(name, text);
        }
    }
    (lang, Ok(out))
}

/// Reads the form: the file (at most `max_bytes`) and the language. The language is read even
/// when the file is refused, so the refusal speaks the page's language.
pub async fn read_upload(
    form: Result<Multipart, MultipartRejection>,
    max_bytes: usize,
) -> (Lang, Result<Upload, UploadError>) {
    let (lang, data) = read_form(form, &[FILE_FIELD], max_bytes).await;
    let upload = data.and_then(|mut d| {
        let (_, file_name, bytes) = d.files.pop().ok_or(UploadError::Missing)?;
        Ok(Upload {
            file_name,
            bytes,
            lang,
        })
    });
    (lang, upload)
}

/// The address a request came from (unspecified when the server runs without peer addresses,
/// as in in-process tests).
pub struct ClientAddr(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip())
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        ))
    }
}
