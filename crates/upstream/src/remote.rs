//! The upstream ECS as the signing pipeline's remote signer (gateway mode). The pipeline
//! (`sahih_core::pipeline`) checks policy and lockout before anything is forwarded and audits
//! the answer; this turns documents into an upstream request and judges the answer (wrong
//! passphrase, locked, failed). Every door that forwards (the server, the command line) uses it.
//!
//! Must not know: how the upstream signs, the policy rules, or the lockout.

use crate::{UpstreamEcs, UpstreamError, UpstreamSecret, UpstreamSigner};
use sahih_core::pipeline::{RemoteFailure, RemoteSigner, RemoteVerdict};
use sahih_core::requests::BatchDocument;
use sahih_pdf::{PageSelector, Placement};
use serde_json::{Value, json};

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

/// The upstream ECS as the pipeline's remote signer: the pipeline keeps the policy, the
/// lockout and the audit; this only forwards the documents and judges the answer.
impl RemoteSigner for UpstreamEcs {
    fn endpoint(&self) -> String {
        self.url().to_string()
    }

    fn sign(
        &self,
        nik: &str,
        passphrase: &str,
        documents: &[BatchDocument],
    ) -> Result<Vec<Vec<u8>>, RemoteFailure> {
        let props: Vec<Value> = documents.iter().map(properties).collect();
        let files: Vec<&[u8]> = documents.iter().map(|d| d.bytes.as_slice()).collect();
        let signer = UpstreamSigner::Nik(nik.to_string());
        let secret = UpstreamSecret::Passphrase(zeroize::Zeroizing::new(passphrase.to_string()));
        UpstreamEcs::sign(self, &signer, &secret, &Value::Array(props), &files).map_err(|e| {
            // A wrong passphrase counts towards the local lockout; so does an upstream lockout
            // (it follows wrong passphrases there) and a refusal we cannot explain.
            let verdict = if e.is_locked() {
                RemoteVerdict::Locked
            } else if e.wrong_passphrase() || unexplained_refusal(&e) {
                RemoteVerdict::WrongPassphrase
            } else {
                RemoteVerdict::Failed
            };
            RemoteFailure {
                verdict,
                cause: Box::new(e),
            }
        })
    }
}

/// A 4xx refusal of a signing request that carries no ECS code: it may be a wrong passphrase
/// in words we do not parse, so it counts towards the local lockout (erring on the side of the
/// lockout, which a correct passphrase resets).
fn unexplained_refusal(e: &UpstreamError) -> bool {
    matches!(e, UpstreamError::Rejected { http, code: None, .. }
        if (400..500).contains(http) && !matches!(http, 401 | 403 | 404 | 413))
}
