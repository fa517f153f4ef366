//! ECS v2: JSON bodies with base64 files (`/api/v2/sign/pdf`, `/api/v2/sign/get/totp`,
//! `/api/v2/verify/pdf`, `/api/v2/user/check/status`), answered as the v2 manual shows.
//!
//! Must not know: how signing, policy or audit work (that is `sahih-core`).

use super::*;

/// `user/check/status`: the official by NIK or e-mail address.
#[derive(Deserialize)]
pub struct V2StatusRequest {
    nik: Option<String>,
    email: Option<String>,
}

fn signer_ref(nik: Option<String>, email: Option<String>) -> Result<SignerRef, EcsError> {
    match (
        nik.filter(|s| !s.trim().is_empty()),
        email.filter(|s| !s.trim().is_empty()),
    ) {
        (Some(n), _) => Ok(SignerRef::Nik(n.trim().to_string())),
        (None, Some(e)) => Ok(SignerRef::Email(e.trim().to_string())),
        (None, None) => Err(EcsError::required("NIK atau email")),
    }
}

/// v2 `POST /api/v2/user/check/status`.
pub async fn v2_user_status(
    State(state): State<Shared>,
    body: Result<Json<V2StatusRequest>, JsonRejection>,
) -> Result<Response, EcsError> {
    let Json(req) = body.map_err(json_rejection)?;
    let who = signer_ref(req.nik, req.email)?;
    let (c, status, message) = user_status(&state, &who).await?;
    Ok(Json(status_body(c, status, &message)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct V2Properties {
    tampilan: Option<String>,
    pub(crate) image_base64: Option<String>,
    #[serde(default)]
    page: Value,
    #[serde(default)]
    origin_x: Value,
    #[serde(default)]
    origin_y: Value,
    #[serde(default)]
    width: Value,
    #[serde(default)]
    height: Value,
    #[serde(rename = "tag_koordinat")]
    tag_koordinat: Option<String>,
    tag: Option<String>,
    location: Option<String>,
    reason: Option<String>,
    #[serde(rename = "linkQR")]
    link_qr: Option<String>,
    pub(crate) pdf_password: Option<String>,
}

/// `sign/pdf` (v2): who signs, how they unlock, and the files with their properties.
#[derive(Deserialize)]
pub struct V2SignRequest {
    nik: Option<String>,
    email: Option<String>,
    passphrase: Option<String>,
    totp: Option<String>,
    otp: Option<String>,
    #[serde(rename = "signatureProperties", default)]
    signature_properties: Vec<V2Properties>,
    /// Where each base64 file lies in the body (decoded in place: see `b64json`).
    #[serde(default)]
    file: Vec<FileSpan>,
    /// Sahih extension: the document class (else the API client's default class).
    #[serde(
        rename = "kelasDokumen",
        alias = "kelas_dokumen",
        alias = "documentClass"
    )]
    kelas_dokumen: Option<String>,
}

fn page_text(v: &Value) -> Result<Option<String>, EcsError> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(EcsError::invalid("page harus nomor halaman")),
    }
}

impl V2Properties {
    pub(crate) fn stamp(
        &self,
        specimen_image: Option<Arc<sahih_pdf::SpecimenImage>>,
    ) -> Result<StampFields, EcsError> {
        let page = page_text(&self.page)?;
        let (page, halaman) = match page.as_deref().map(str::to_ascii_uppercase).as_deref() {
            Some("PERTAMA") | Some("TERAKHIR") => (None, page),
            _ => (page, None),
        };
        Ok(StampFields {
            tampilan: self.tampilan.clone(),
            page,
            halaman,
            x: num("originX", &self.origin_x)?,
            y: num("originY", &self.origin_y)?,
            width: num("width", &self.width)?,
            height: num("height", &self.height)?,
            tag: self.tag_koordinat.clone().or_else(|| self.tag.clone()),
            link_qr: self.link_qr.clone(),
            reason: self.reason.clone(),
            location: self.location.clone(),
            specimen: specimen_image,
            text: None,
        })
    }
}

/// v2 `POST /api/v2/sign/pdf` (JSON; several files with one passphrase).
pub async fn v2_sign(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    mut body: JsonWithFiles<V2SignRequest>,
) -> Result<Response, EcsError> {
    let started = std::time::Instant::now();
    let spans = std::mem::take(&mut body.value.file);
    let req = &mut body.value;
    let who = signer_ref(req.nik.take(), req.email.take())?;
    let otp = req
        .totp
        .take()
        .or(req.otp.take())
        .filter(|t| !t.trim().is_empty());
    let passphrase = match (req.passphrase.take(), &otp) {
        (Some(p), _) if !p.is_empty() => p,
        (_, Some(_)) => {
            // Keys are sealed under the official's passphrase, so a one-time code alone cannot
            // unlock them; it is a second factor next to the passphrase (docs/ECS.md).
            return Err(EcsError::invalid(
                "Sahih memerlukan passphrase untuk membuka kunci tanda tangan; TOTP saja tidak cukup (kirim passphrase dan totp)",
            )
            .context("Proses signing gagal"));
        }
        _ => return Err(EcsError::required("Passphrase")),
    };
    let passphrase = zeroize::Zeroizing::new(passphrase);
    let (req, files) = v2_files(&state, body, &spans)?;
    let documents = v2_documents(&state, files, &req.signature_properties)?;
    let items = sign_flow(
        &state,
        &client,
        SignerAuth {
            who,
            passphrase: &passphrase,
            otp: otp.as_deref(),
        },
        req.kelas_dokumen.as_deref(),
        documents,
        false,
    )
    .await?;
    Ok(v2_signed_response(started, &items))
}

/// The base64 `file` entries of a v2 request (sign or seal), counted, then decoded in place.
pub(crate) fn v2_files<T>(
    state: &AppState,
    body: JsonWithFiles<T>,
    spans: &[FileSpan],
) -> Result<(T, Vec<Vec<u8>>), EcsError> {
    if spans.is_empty() {
        return Err(EcsError::required("file"));
    }
    let max = state.sahih.config.server.max_files_per_request.max(1);
    if spans.len() > max {
        return Err(EcsError::invalid(format!(
            "terlalu banyak berkas dalam satu permintaan (maksimal {max})"
        )));
    }
    body.take_files(spans, "file")
}

/// The documents of a v2 request (sign or seal): decoded files with one `signatureProperties`
/// entry for all or one per file; specimen images decoded once per entry.
pub(crate) fn v2_documents(
    state: &AppState,
    file: Vec<Vec<u8>>,
    props: &[V2Properties],
) -> Result<Vec<BatchDocument>, EcsError> {
    if props.len() > 1 && props.len() != file.len() {
        return Err(EcsError::invalid(
            "signatureProperties harus berisi 1 entri atau satu entri per berkas",
        ));
    }
    let default_props = V2Properties::default();
    // Specimen images, decoded once per properties entry (one entry may serve every file).
    let mut images = Vec::with_capacity(props.len());
    for (i, p) in props.iter().enumerate() {
        images.push(match p.image_base64.as_deref().filter(|s| !s.is_empty()) {
            Some(b) => Some(specimen(
                &format!("signatureProperties[{i}].imageBase64"),
                &decode_b64("imageBase64", b)?,
            )?),
            None => None,
        });
    }
    let mut documents = Vec::with_capacity(file.len());
    for (i, bytes) in file.into_iter().enumerate() {
        let (p, image) = match props.len() {
            0 => (&default_props, None),
            1 => (
                props.first().unwrap_or(&default_props),
                images.first().cloned().flatten(),
            ),
            _ => (
                props.get(i).unwrap_or(&default_props),
                images.get(i).cloned().flatten(),
            ),
        };
        if p.pdf_password.as_deref().is_some_and(|s| !s.is_empty()) {
            return Err(EcsError::invalid(
                "PDF terenkripsi (pdfPassword) belum didukung; buka proteksinya terlebih dahulu",
            ));
        }
        documents.push(BatchDocument {
            bytes,
            options: p.stamp(image)?.options(state)?,
            file_name: None,
        });
    }
    Ok(documents)
}

/// The v2 answer to a signing or sealing request: `{time, file: [...], id_dokumen: [...]}`.
///
/// Written straight into one buffer: a 1,000-letter answer is tens of megabytes of base64, and
/// building it as `serde_json` values first copied all of it twice more.
pub(crate) fn v2_signed_response(started: std::time::Instant, items: &[SignedItem]) -> Response {
    let encoded: usize = items
        .iter()
        .map(|i| i.signed.len().div_ceil(3) * 4 + 3)
        .sum();
    let mut body = String::with_capacity(encoded + items.len() * 32 + 64);
    body.push_str("{\"time\":");
    body.push_str(&started.elapsed().as_millis().to_string());
    body.push_str(",\"file\":[");
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            body.push(',');
        }
        body.push('"');
        B64.encode_string(&item.signed, &mut body);
        body.push('"');
    }
    body.push_str("],\"id_dokumen\":");
    let ids: Vec<&str> = items
        .iter()
        .map(|i| i.outcome.document_id.as_str())
        .collect();
    // Document ids are generated (letters and digits), but escape them as JSON all the same.
    body.push_str(&serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into()));
    body.push('}');
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

/// `verify/pdf` (v2): the signed file in base64.
#[derive(Deserialize)]
pub struct V2VerifyRequest {
    file: Option<String>,
    password: Option<String>,
}

/// v2 `POST /api/v2/verify/pdf`.
pub async fn v2_verify(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    body: Result<Json<V2VerifyRequest>, JsonRejection>,
) -> Result<Response, EcsError> {
    let Json(req) = body.map_err(json_rejection)?;
    if req.password.as_deref().is_some_and(|p| !p.is_empty()) {
        return Err(EcsError::invalid(
            "PDF terenkripsi (password) belum didukung; buka proteksinya terlebih dahulu",
        ));
    }
    let file = req
        .file
        .filter(|f| !f.is_empty())
        .ok_or_else(|| EcsError::required("file"))?;
    let bytes = decode_b64("file", &file)?;
    let report = verify_report(&state, &client, bytes)
        .await?
        .ok_or_else(|| EcsError::from_core(&CoreError::Service("no report".into())))?;
    let n = report.signatures.len();
    let infos: Vec<Value> = report
        .signatures
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let format = match s.level {
                Some("B-B") | None => "PAdES-BASELINE-B",
                Some("B-T") => "PAdES-BASELINE-T",
                Some("B-LT") => "PAdES-BASELINE-LT",
                Some(_) => "PAdES-BASELINE-LTA",
            };
            json!({
                "id": format!("signature-{}", i + 1),
                "signatureFormat": format,
                "signerName": s.signer_name,
                "signatureDate": s.timestamp_time.as_deref().or(s.signed_at.as_deref()),
                "fieldName": s.field,
                "reason": s.reason,
                "location": s.location,
                "certLevelCode": 0,
                "signatureAlgorithm": s.signature_algorithm,
                "digestAlgorithm": "SHA256",
                "timestampInfomation": s.timestamp_time.as_ref().map(|t| json!({
                    "id": format!("timestamp-{}", i + 1),
                    "signerName": s.timestamp_authority,
                    "timestampDate": t,
                })),
                "certificateDetails": [{
                    "id": s.signer_serial,
                    "commonName": s.signer_name,
                    "issuerName": s.issuer,
                    "serialNumber": s.signer_serial,
                    "notBeforeDate": s.signer_not_before,
                    "notAfterDate": s.signer_not_after,
                    "signatureAlgoritm": s.signature_algorithm,
                    "keyUsages": s.signer_key_usages,
                }],
                "integrityValid": s.integrity && s.modifications != "disallowed",
                "certificateTrusted": s.trusted,
                "lastSignature": i + 1 == n,
                "indication": s.indication,
                "subIndication": s.sub_indication,
            })
        })
        .collect();
    let (conclusion, description) = if n == 0 {
        (
            "NO_SIGNATURE",
            "Dokumen tidak memiliki tanda tangan elektronik",
        )
    } else {
        match report.indication {
            Indication::TotalPassed => (
                "VALID",
                "Dokumen valid, sertifikat yang digunakan terpercaya",
            ),
            Indication::TotalFailed => ("INVALID", "Dokumen tidak valid"),
            Indication::Indeterminate => (
                "INDETERMINATE",
                "Keabsahan tanda tangan belum dapat dipastikan",
            ),
        }
    };
    Ok(Json(json!({
        "conclusion": conclusion,
        "description": description,
        "signatureCount": n,
        "signatureInformations": infos,
    }))
    .into_response())
}

/// `sign/get/totp`: a signing one-time code for this many documents.
#[derive(Deserialize)]
pub struct V2TotpRequest {
    nik: Option<String>,
    email: Option<String>,
    /// How many documents the code is for.
    #[serde(default)]
    data: Value,
}

/// v2 `POST /api/v2/sign/get/totp`: a one-time code for `data` documents, sent to the
/// official's e-mail (the outbox in the embedded default).
pub async fn v2_get_totp(
    State(state): State<Shared>,
    axum::Extension(client): axum::Extension<ApiClientRecord>,
    body: Result<Json<V2TotpRequest>, JsonRejection>,
) -> Result<Response, EcsError> {
    let Json(req) = body.map_err(json_rejection)?;
    let who = signer_ref(req.nik, req.email)?;
    let documents = num("data", &req.data)?.unwrap_or(1.0);
    if !(1.0..=10_000.0).contains(&documents) {
        return Err(EcsError::invalid(
            "data harus jumlah dokumen 1 sampai 10000",
        ));
    }
    let official = state
        .sahih
        .resolve_official(&who)
        .await
        .map_err(|e| EcsError::from_core(&e))?;
    let expires = state
        .sahih
        .issue_signing_otp(&official, documents as i64, Some(&client.name))
        .await
        .map_err(|e| EcsError::from_core(&e))?;
    Ok(Json(json!({
        "success": true,
        "message": "TOTP berhasil dikirim",
        "data": { "expires": ecs_expires(expires) },
    }))
    .into_response())
}
