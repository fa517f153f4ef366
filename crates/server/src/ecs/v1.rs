//! ECS v1: multipart bodies (`/api/sign/pdf`, `/api/sign/download/{id}`, `/api/sign/verify`,
//! `/api/user/status/{nik}`), answered as the legacy ECS manual shows.
//!
//! Must not know: how signing, policy or audit work (that is `sahih-core`).

use super::*;

/// Collects the multipart fields of a v1 request: files, and text fields.
async fn read_multipart(
    mut mp: Multipart,
) -> Result<(Vec<(String, String)>, Vec<(String, Option<String>, Bytes)>), EcsError> {
    let mut texts = Vec::new();
    let mut files = Vec::new();
    while let Some((name, file_name, data)) = next_part(&mut mp).await? {
        if file_name.is_some() || name == "file" || name == "signed_file" || name == "imageTTD" {
            files.push((name, file_name, data));
        } else {
            texts.push((name, String::from_utf8_lossy(&data).into_owned()));
        }
    }
    Ok((texts, files))
}

fn text<'a>(texts: &'a [(String, String)], name: &str) -> Option<&'a str> {
    texts
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// v1 `POST /api/sign/pdf` (multipart).
pub async fn v1_sign(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    EcsMultipart(mp): EcsMultipart,
) -> Result<Response, EcsError> {
    let (texts, files) = read_multipart(mp).await?;
    let image_part = files
        .iter()
        .find(|(n, _, _)| n == "imageTTD")
        .map(|(_, _, b)| b.clone());
    let (_, file_name, pdf) = files
        .into_iter()
        .find(|(n, _, _)| n == "file")
        .ok_or_else(|| EcsError::required("File"))?;
    let wants_image = match text(&texts, "image") {
        Some(v) => form_bool("image", v)?,
        None => false,
    };
    let specimen_image = match (wants_image, image_part) {
        (true, Some(bytes)) => Some(specimen("imageTTD", &bytes)?),
        (true, None) => return Err(EcsError::required("imageTTD")),
        (false, _) => None,
    };
    let nik = text(&texts, "nik")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| EcsError::required("NIK"))?;
    let passphrase = text(&texts, "passphrase")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| EcsError::required("Passphrase"))?;
    let fields = StampFields {
        tampilan: text(&texts, "tampilan").map(str::to_string),
        page: text(&texts, "page").map(str::to_string),
        halaman: text(&texts, "halaman").map(str::to_string),
        x: parse_num("xAxis", text(&texts, "xAxis"))?,
        y: parse_num("yAxis", text(&texts, "yAxis"))?,
        width: parse_num("width", text(&texts, "width"))?,
        height: parse_num("height", text(&texts, "height"))?,
        tag: text(&texts, "tag_koordinat")
            .or_else(|| text(&texts, "tag"))
            .map(str::to_string),
        link_qr: text(&texts, "linkQR").map(str::to_string),
        reason: text(&texts, "reason").map(str::to_string),
        location: text(&texts, "location").map(str::to_string),
        specimen: specimen_image,
        text: text(&texts, "text").map(str::to_string),
    };
    let options = fields.options(&state)?;
    let class = text(&texts, "kelas_dokumen").map(str::to_string);
    let item = sign_one(
        &state,
        &client,
        SignerAuth {
            who: SignerRef::Nik(nik.trim().to_string()),
            passphrase,
            otp: None,
        },
        class.as_deref(),
        BatchDocument {
            bytes: pdf.to_vec(),
            options,
            file_name,
        },
    )
    .await?;
    let id = item
        .download_id
        .clone()
        .unwrap_or(item.outcome.document_id.clone());
    let signing_time = ecs_time(item.outcome.signed_at);
    if text(&texts, "jenis_response").is_some_and(|v| v.eq_ignore_ascii_case("BASE64")) {
        let mut r = Json(json!({
            "base64_signed_file": B64.encode(&item.signed),
            "id_dokumen": id,
            "signing_time": signing_time,
        }))
        .into_response();
        set_header(&mut r, "id_dokumen", &id);
        return Ok(r);
    }
    let mut r = (StatusCode::OK, item.signed).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    set_header(&mut r, "id_dokumen", &id);
    set_header(&mut r, "signing_time", &signing_time);
    Ok(r)
}

fn set_header(r: &mut Response, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

/// `Y-m-d H:i:s.u` in WIB, as ECS writes dates in v1 bodies.
fn ecs_time(t: OffsetDateTime) -> String {
    let wib = t.to_offset(time::UtcOffset::from_hms(7, 0, 0).unwrap_or(time::UtcOffset::UTC));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.00",
        wib.year(),
        u8::from(wib.month()),
        wib.day(),
        wib.hour(),
        wib.minute(),
        wib.second()
    )
}

/// v1 `GET /api/sign/download/{id}`: once only.
pub async fn v1_download(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    Path(id): Path<String>,
) -> Result<Response, EcsError> {
    let gone = || {
        EcsError::new(
            StatusCode::NOT_FOUND,
            code::FILE_NOT_AVAILABLE,
            "File tidak tersedia, pastikan bahwa dokumen belum di download",
        )
    };
    if id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(gone());
    }
    match state
        .sahih
        .take_download(&state.blobs, &id, Some(&client.name))
        .await
    {
        Ok(Some(bytes)) => {
            let mut r = (StatusCode::OK, bytes).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            );
            set_header(&mut r, "id_dokumen", &id);
            Ok(r)
        }
        Ok(None) => Err(gone()),
        Err(e) => Err(EcsError::from_core(&e)),
    }
}

fn rfc3339_to_ecs(s: Option<&str>) -> Option<String> {
    let t = OffsetDateTime::parse(s?, &time::format_description::well_known::Rfc3339).ok()?;
    Some(ecs_time(t))
}

/// v1 `POST /api/sign/verify` (multipart `signed_file`).
pub async fn v1_verify(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    EcsMultipart(mp): EcsMultipart,
) -> Result<Response, EcsError> {
    let (_, files) = read_multipart(mp).await?;
    let (_, file_name, pdf) = files
        .into_iter()
        .find(|(n, _, _)| n == "signed_file" || n == "file")
        .ok_or_else(|| EcsError::required("signed_file"))?;
    let report = verify_report(&state, &client, pdf.to_vec()).await?;
    let Some(report) = report else {
        return Err(EcsError::from_core(&CoreError::Service("no report".into())));
    };
    let details: Vec<Value> = report
        .signatures
        .iter()
        .map(|s| {
            json!({
                "signature_field": s.field,
                "info_tsa": {
                    "name": s.timestamp_authority,
                    "tsa_cert_validity": Value::Null,
                },
                "info_signer": {
                    "signer_name": s.signer_name,
                    "issuer_dn": s.issuer,
                    "signer_dn": s.signer_subject,
                    "signer_cert_validity": match (&s.signer_not_before, &s.signer_not_after) {
                        (Some(a), Some(b)) => Value::String(format!(
                            "{} to {}",
                            rfc3339_to_ecs(Some(a)).unwrap_or_default(),
                            rfc3339_to_ecs(Some(b)).unwrap_or_default()
                        )),
                        _ => Value::Null,
                    },
                    "cert_user_certified": s.trusted,
                },
                "signature_document": {
                    "signed_in": rfc3339_to_ecs(s.timestamp_time.as_deref().or(s.signed_at.as_deref())),
                    "reason": s.reason,
                    "location": s.location,
                    "signed_using_tsa": s.timestamp_time.is_some(),
                    "document_integrity": s.integrity && s.modifications != "disallowed",
                    "signature_value": Value::Null,
                    "hash_value": Value::Null,
                },
            })
        })
        .collect();
    let n = report.signatures.len();
    let all_intact = report
        .signatures
        .iter()
        .all(|s| s.integrity && s.modifications != "disallowed");
    let all_tsa = report.signatures.iter().all(|s| s.timestamp_time.is_some());
    let (notes, summary) = if n == 0 {
        (
            Value::String("Dokumen tidak memiliki tanda tangan elektronik".into()),
            Value::Null,
        )
    } else if report.indication == Indication::TotalPassed && all_tsa {
        (
            Value::String("Dokumen valid, Sertifikat yang digunakan terpercaya".into()),
            Value::String("VALID".into()),
        )
    } else if report.indication == Indication::TotalPassed {
        (
            Value::String(
                "Dokumen asli dan valid, tetapi dokumen tidak menggunakan waktu TSA".into(),
            ),
            Value::String("VALID".into()),
        )
    } else if !all_intact {
        (
            Value::String("Konten Dokumen mengalami perubahan oleh pihak yang tidak berhak".into()),
            Value::String("DOCUMENT NOT VALID !!!".into()),
        )
    } else {
        (
            Value::String(first_problem(&report)),
            Value::String("DOCUMENT NOT VALID !!!".into()),
        )
    };
    Ok(Json(json!({
        "nama_dokumen": file_name.unwrap_or_else(|| "dokumen.pdf".into()),
        "jumlah_signature": n,
        "notes": notes,
        "details": details,
        "summary": summary,
    }))
    .into_response())
}

/// The first reason a report did not pass, in Indonesian.
fn first_problem(report: &Report) -> String {
    for s in &report.signatures {
        if s.revoked {
            return "Sertifikat penanda tangan telah dicabut".into();
        }
        if !s.trusted {
            return "Sertifikat yang digunakan tidak terpercaya".into();
        }
        if let Some(e) = s.errors.first() {
            return format!("Tanda tangan tidak valid: {}", e.code);
        }
    }
    "Dokumen tidak valid".into()
}

/// v1 `GET /api/user/status/{nik}`.
pub async fn v1_user_status(
    State(state): State<Shared>,
    Path(nik): Path<String>,
) -> Result<Response, EcsError> {
    let (c, status, message) = user_status(&state, &SignerRef::Nik(nik)).await?;
    Ok(Json(status_body(c, status, &message)).into_response())
}
