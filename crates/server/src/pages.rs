//! The page behind the QR code: `GET /v/{id}` shows what Sahih recorded when the document was
//! signed (signer, position, time in WIB, PAdES level, the signed file's SHA-256), in Bahasa
//! Indonesia (`?lang=en` for English). Plain HTML, no scripts, nothing from elsewhere.
//!
//! Must not show the NIK (personal data) or anything not in the record.

use crate::Shared;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sahih_core::Lang;
use sahih_core::store::Store;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn page(status: StatusCode, lang: Lang, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>body{{font-family:sans-serif;max-width:40rem;margin:2rem auto;\
         padding:0 1rem;line-height:1.5}}dt{{font-weight:bold;margin-top:.6rem}}\
         .ok{{color:#0a6b2d}}.bad{{color:#a31515}}code{{word-break:break-all}}</style></head>\
         <body>{body}</body></html>\n",
        if lang == Lang::Id { "id" } else { "en" },
        esc(title)
    );
    let mut r = (status, html).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    r
}

pub async fn verification_page(
    State(state): State<Shared>,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Response {
    let lang = match q.lang.as_deref() {
        Some("en") => Lang::En,
        _ => Lang::Id,
    };
    let t = |id_text: &'static str, en: &'static str| if lang == Lang::Id { id_text } else { en };
    let valid_id =
        !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric());
    let record = if valid_id {
        state.sahih.store.signed_document(&id).await.ok().flatten()
    } else {
        None
    };
    let Some(doc) = record else {
        return page(
            StatusCode::NOT_FOUND,
            lang,
            t("Dokumen tidak ditemukan", "Document not found"),
            &format!(
                "<h1 class=\"bad\">{}</h1><p>{}</p>",
                t("Dokumen tidak ditemukan", "Document not found"),
                t(
                    "Kode pada QR ini tidak dikenal oleh layanan tanda tangan elektronik instansi. Dokumen mungkin palsu atau QR-nya rusak.",
                    "This QR code is not known to the institution's e-signature service. The document may be forged or the code damaged."
                )
            ),
        );
    };
    let official = state
        .sahih
        .store
        .official_by_id(doc.official_id)
        .await
        .ok()
        .flatten();
    let sealed = official
        .as_ref()
        .is_some_and(|o| o.kind == sahih_core::store::OfficialKind::Seal);
    let (name, position, unit) = official
        .map(|o| (o.name, o.position, o.unit))
        .unwrap_or_default();
    let body = format!(
        "<h1 class=\"ok\">{h}</h1><p>{intro}</p><dl>\
         <dt>{l_name}</dt><dd>{name}</dd><dt>{l_pos}</dt><dd>{position}, {unit}</dd>\
         <dt>{l_inst}</dt><dd>{inst}</dd><dt>{l_time}</dt><dd>{time}</dd>\
         <dt>{l_level}</dt><dd>PAdES {level}</dd><dt>{l_sha}</dt><dd><code>{sha}</code></dd></dl>\
         <p>{check}</p>",
        h = if sealed {
            t(
                "Dokumen ini disegel secara elektronik",
                "This document was sealed electronically",
            )
        } else {
            t(
                "Dokumen ini ditandatangani secara elektronik",
                "This document was signed electronically",
            )
        },
        intro = t(
            "Catatan layanan tanda tangan elektronik instansi untuk dokumen ini:",
            "The institution's e-signature service recorded for this document:"
        ),
        l_name = if sealed {
            t("Segel elektronik", "Electronic seal")
        } else {
            t("Penanda tangan", "Signer")
        },
        name = esc(&name),
        l_pos = if sealed {
            t("Pemilik segel", "Seal of")
        } else {
            t("Jabatan", "Position")
        },
        position = esc(&position),
        unit = esc(&unit),
        l_inst = t("Instansi", "Institution"),
        inst = esc(&state.sahih.config.institution),
        l_time = t("Waktu penandatanganan", "Signed at"),
        time = esc(&sahih_core::format_wib(doc.signed_at, lang)),
        l_level = t("Format tanda tangan", "Signature format"),
        level = esc(&doc.level),
        l_sha = t(
            "SHA-256 berkas bertanda tangan",
            "SHA-256 of the signed file"
        ),
        sha = esc(&doc.sha256_hex),
        check = t(
            "Pastikan berkas yang Anda terima memiliki nilai SHA-256 yang sama, atau periksa tanda tangannya dengan aplikasi pembaca PDF (panel tanda tangan) atau sahih verify.",
            "Make sure the file you received has the same SHA-256, or check its signature in a PDF reader's signature panel or with sahih verify."
        ),
    );
    page(
        StatusCode::OK,
        lang,
        t("Verifikasi dokumen", "Document verification"),
        &body,
    )
}
