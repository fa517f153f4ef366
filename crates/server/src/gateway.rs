//! Gateway mode over HTTP: a signing request for an official enrolled upstream is checked here
//! (policy, lockout) and then forwarded to the upstream ECS; the upstream's answer is audited
//! here, and a wrong passphrase counts towards the local lockout. Nothing reaches the upstream
//! that the local policy refuses.
//!
//! Must not know: how the upstream signs, or the policy rules themselves.

use crate::ecs::{EcsError, code};
use crate::upstream::{UpstreamError, UpstreamSecret, UpstreamSigner};
use crate::{AppState, Shared};
use axum::http::StatusCode;
use sahih_core::CoreError;
use sahih_core::gateway::UpstreamOutcome;
use sahih_core::policy::DocClass;
use sahih_core::requests::{BatchDocument, SignedItem};
use sahih_core::store::{ApiClientRecord, OfficialRecord};
use sahih_pdf::{PageSelector, Placement};
use serde_json::{Value, json};
use std::sync::Arc;
use time::OffsetDateTime;

/// The ECS v2 signatureProperties for one document, from its parsed options (coordinates as
/// origin + size).
fn properties(d: &BatchDocument) -> Value {
    let o = &d.options;
    let mut p = serde_json::Map::new();
    match &o.placement {
        None => {
            p.insert("tampilan".into(), json!("INVISIBLE"));
        }
        Some(placement) => {
            p.insert("tampilan".into(), json!("VISIBLE"));
            match placement {
                Placement::Default => {}
                Placement::Page { page, rect } => {
                    let page = match page {
                        PageSelector::Number(n) => json!(n),
                        PageSelector::First => json!(1),
                        PageSelector::Last => json!("last"),
                    };
                    p.insert("page".into(), page);
                    if let Some(r) = rect {
                        p.insert("originX".into(), json!(r.x));
                        p.insert("originY".into(), json!(r.y));
                        p.insert("width".into(), json!(r.w));
                        p.insert("height".into(), json!(r.h));
                    }
                }
                Placement::Anchor { text, size } => {
                    p.insert("tag_koordinat".into(), json!(text));
                    if let Some((w, h)) = size {
                        p.insert("width".into(), json!(w));
                        p.insert("height".into(), json!(h));
                    }
                }
            }
        }
    }
    if let Some(r) = &o.reason {
        p.insert("reason".into(), json!(r));
    }
    if let Some(l) = &o.location {
        p.insert("location".into(), json!(l));
    }
    if let Some(q) = &o.qr_link {
        p.insert("linkQR".into(), json!(q));
    }
    Value::Object(p)
}

fn unavailable() -> EcsError {
    EcsError::new(
        StatusCode::BAD_GATEWAY,
        code::UPSTREAM_UNAVAILABLE,
        "Layanan TTE induk tidak dapat dihubungi; coba lagi nanti",
    )
}

/// Signs `documents` upstream for `official` (already authorised by the local policy).
pub async fn sign_upstream(
    state: &Shared,
    client: &ApiClientRecord,
    official: &OfficialRecord,
    class: &DocClass,
    passphrase: &str,
    documents: Vec<BatchDocument>,
) -> Result<Vec<SignedItem>, EcsError> {
    let ctx = "Proses signing gagal";
    let sahih = &state.sahih;
    let Some(upstream) = state.upstream.clone() else {
        let mut e = EcsError::from_core(&CoreError::Config(
            "official is enrolled upstream but [gateway] url is not configured".into(),
        ));
        e.internal = Some("gateway not configured".into());
        return Err(e);
    };
    sahih
        .reserve_local_attempt(official)
        .await
        .map_err(|e| EcsError::from_core(&e).context(ctx))?;
    let props: Vec<Value> = documents.iter().map(properties).collect();
    let files: Vec<Vec<u8>> = documents.iter().map(|d| d.bytes.clone()).collect();
    let signer = UpstreamSigner::Nik(official.nik.clone());
    let secret = UpstreamSecret::Passphrase(zeroize::Zeroizing::new(passphrase.to_string()));
    let up = Arc::clone(&upstream);
    let answer = tokio::task::spawn_blocking(move || {
        let refs: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
        up.sign(&signer, &secret, &Value::Array(props), &refs)
    })
    .await;
    let Ok(answer) = answer else {
        let _ = sahih.release_local_attempt(official).await;
        return Err(EcsError::from_core(&CoreError::Service(
            "upstream task failed".into(),
        )));
    };
    let detail = format!("upstream={}", upstream.url());
    match answer {
        Ok(signed) => {
            let now = OffsetDateTime::now_utc();
            let mut items = Vec::with_capacity(signed.len());
            let mut hashes = Vec::with_capacity(signed.len());
            for (pdf, d) in signed.into_iter().zip(&documents) {
                let sha = hex_sha256(&pdf);
                hashes.push(sha.clone());
                items.push(SignedItem {
                    outcome: sahih_core::SignOutcome {
                        level: d.options.level,
                        document_id: sahih_core::service::new_document_id(),
                        verification_url: String::new(),
                        field_name: String::new(),
                        signed_at: now,
                        sha256_hex: sha,
                        page: None,
                    },
                    signed: pdf,
                    download_id: None,
                });
            }
            sahih
                .record_upstream(
                    official,
                    class,
                    Some(&client.name),
                    UpstreamOutcome::Signed,
                    &hashes,
                    &detail,
                )
                .await
                .map_err(|e| EcsError::from_core(&e).context(ctx))?;
            state.metrics.signature("ok", items.len() as u64);
            Ok(items)
        }
        // A wrong passphrase counts towards the local lockout; so does an upstream lockout (it
        // follows wrong passphrases there), and the caller sees the upstream's lock.
        Err(e) if e.wrong_passphrase() || e.is_locked() || unexplained_refusal(&e) => {
            state.metrics.signature("failed", 1);
            let err = sahih
                .record_upstream(
                    official,
                    class,
                    Some(&client.name),
                    UpstreamOutcome::WrongPassphrase,
                    &[],
                    &detail,
                )
                .await
                .err()
                .unwrap_or(CoreError::WrongPassphrase { remaining: 0 });
            if e.is_locked() && !matches!(err, CoreError::Locked { .. }) {
                return Err(map_upstream_error(&e).context(ctx));
            }
            Err(EcsError::from_core(&err).context(ctx))
        }
        Err(e) => {
            state.metrics.signature("failed", 1);
            sahih
                .record_upstream(
                    official,
                    class,
                    Some(&client.name),
                    UpstreamOutcome::Failed,
                    &[],
                    &format!("{detail} error={e}"),
                )
                .await
                .map_err(|e| EcsError::from_core(&e).context(ctx))?;
            Err(map_upstream_error(&e).context(ctx))
        }
    }
}

/// An upstream refusal as the caller should see it: ECS codes pass through; the gateway's own
/// credential being refused, or the upstream being down, is a server-side problem.
pub fn map_upstream_error(e: &UpstreamError) -> EcsError {
    match e {
        UpstreamError::Unreachable(_) | UpstreamError::BadResponse(_) => {
            let mut err = unavailable();
            err.internal = Some(e.to_string());
            err
        }
        UpstreamError::Rejected { .. } if e.unauthorized() => {
            let mut err = unavailable();
            err.internal = Some(format!("upstream refused the gateway credential: {e}"));
            err
        }
        UpstreamError::Rejected { http, .. } if !(400..500).contains(http) => {
            // A server error or a redirect upstream: not the caller's fault, and its text may
            // describe upstream internals.
            let mut err = unavailable();
            err.internal = Some(format!("upstream answered HTTP {http}: {e}"));
            err
        }
        UpstreamError::Rejected {
            http,
            code,
            message,
        } => {
            let status = StatusCode::from_u16(*http)
                .ok()
                .filter(|s| s.is_client_error())
                .unwrap_or(StatusCode::BAD_REQUEST);
            EcsError::new(status, code.unwrap_or(code::FIELD_INVALID), message.clone())
        }
    }
}

/// A 4xx refusal of a signing request that carries no ECS code: it may be a wrong passphrase
/// in words we do not parse, so it counts towards the local lockout (erring on the side of the
/// lockout, which a correct passphrase resets).
fn unexplained_refusal(e: &UpstreamError) -> bool {
    matches!(e, UpstreamError::Rejected { http, code: None, .. }
        if (400..500).contains(http) && !matches!(http, 401 | 403 | 404 | 413))
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
}

/// The status of an official enrolled upstream, as the upstream reports it.
pub async fn upstream_status(
    state: &AppState,
    official: &OfficialRecord,
) -> Result<(u32, String, String), EcsError> {
    let Some(upstream) = state.upstream.clone() else {
        return Err(unavailable());
    };
    let nik = official.nik.clone();
    let answer = tokio::task::spawn_blocking(move || upstream.check_status(&nik))
        .await
        .map_err(|_| unavailable())?;
    match answer {
        Ok(s) => Ok((s.code.unwrap_or(0), s.status, s.message)),
        Err(e) => Err(map_upstream_error(&e)),
    }
}
