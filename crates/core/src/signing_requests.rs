//! Signing requests: the safe way for applications. An application files the PDFs, names the
//! official, the document class and the placement, and never sees a passphrase. The request
//! waits in the official's inbox; the official opens it, may confirm reading it (the
//! "centang"), then signs it with their passphrase or rejects it with a reason. Each step is
//! audited and, when the application gave a callback URL, queued as a webhook event in the
//! same transaction. Signing goes through the one pipeline ([`Sahih::sign_batch`]) with the
//! person's own door, so policy, lockout and audit are those of every other door.
//!
//! Must not know: HTTP, pages, or how webhooks are sent (the server delivers the queue).

use crate::audit::{AuditAction, AuditEvent, AuditResult};
use crate::pipeline::{Delivery, Door, SignRequest, Signer, SigningEnv};
use crate::requests::{BatchDocument, SignerRef};
use crate::store::signing::{
    NewRequestDocument, NewSigningRequest, NewWebhook, RequestEvent, RequestStatus, RequestStep,
    SigningRequestRecord, SigningRequestStore,
};
use crate::store::{ApiClientRecord, BlobStore, OfficialKind, OfficialRecord, Store};
use crate::{CoreError, Lang, Level, Sahih, SignOptions};
use sahih_pdf::{DisplayRect, PageSelector, Placement};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// Most documents in one request.
pub const MAX_DOCUMENTS: usize = 50;
/// Longest message to the official.
pub const MAX_MESSAGE_CHARS: usize = 2000;

/// Where the stamp goes, as the native API, sealing and signing requests take it (one reading
/// for all of them).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PlacementSpec {
    /// No visible stamp.
    #[serde(default)]
    pub invisible: bool,
    /// Page number from 1, or "first" / "last".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    /// [x, y, width, height] in points from the lower-left corner of the page as displayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rect: Option<[f64; 4]>,
    /// Centre the stamp on the first occurrence of this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<String>,
}

impl PlacementSpec {
    /// The placement to sign with; None: invisible.
    pub fn to_placement(&self) -> Result<Option<Placement>, CoreError> {
        if self.invisible {
            return Ok(None);
        }
        if let Some(text) = self.anchor.as_ref().filter(|t| !t.is_empty()) {
            return Ok(Some(Placement::Anchor {
                text: text.clone(),
                size: self.rect.map(|r| (r[2], r[3])),
            }));
        }
        let page = match &self.page {
            Some(s) => s
                .parse::<PageSelector>()
                .map_err(|e| CoreError::invalid(e.to_string(), e.to_string()))?,
            None if self.rect.is_some() => PageSelector::Last,
            None => return Ok(Some(Placement::Default)),
        };
        let rect = match self.rect {
            Some([x, y, w, h]) if w > 0.0 && h > 0.0 && x >= 0.0 && y >= 0.0 => {
                Some(DisplayRect { x, y, w, h })
            }
            Some(_) => {
                return Err(CoreError::invalid(
                    "rect: lebar dan tinggi harus positif",
                    "rect: width and height must be positive",
                ));
            }
            None => None,
        };
        Ok(Some(Placement::Page { page, rect }))
    }
}

/// How the documents of a request are signed, kept with the request as JSON.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RequestOptions {
    /// Where the stamp goes.
    #[serde(default)]
    pub placement: PlacementSpec,
    /// B-B, B-T, B-LT (default) or B-LTA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Reason written into the signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Location written into the signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Language of the stamp: "id" (default) or "en".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

impl RequestOptions {
    /// The options to sign with (checked when the request is filed, used when it is signed).
    pub fn sign_options(&self) -> Result<SignOptions, CoreError> {
        let level: Level = match self.level.as_deref() {
            None => Level::BLT,
            Some(l) => l
                .parse()
                .map_err(|e: String| CoreError::invalid(e.clone(), e))?,
        };
        Ok(SignOptions {
            placement: self.placement.to_placement()?,
            level,
            reason: self.reason.clone(),
            location: self.location.clone(),
            lang: if self.lang.as_deref() == Some("en") {
                Lang::En
            } else {
                Lang::Id
            },
            qr_link: None,
            specimen: None,
            extra_text: None,
        })
    }
}

/// What an application files.
pub struct FileRequest<'a> {
    /// The application.
    pub client: &'a ApiClientRecord,
    /// The official to sign.
    pub signer: SignerRef,
    /// Document class code; None: the client's default, else the policy's.
    pub class: Option<String>,
    /// Placement and signature options.
    pub options: RequestOptions,
    /// The message shown to the official.
    pub message: String,
    /// When the request expires without a decision.
    pub due_at: Option<OffsetDateTime>,
    /// Where webhook events go (http or https).
    pub callback_url: Option<String>,
    /// The PDFs: (file name, bytes).
    pub documents: Vec<(String, Vec<u8>)>,
}

/// The person taking a step in their inbox.
pub struct Person<'a> {
    /// Their account id (audited as `account:<id>`).
    pub account_id: i64,
    /// Their official record.
    pub official: &'a OfficialRecord,
}

impl Person<'_> {
    fn actor(&self) -> String {
        crate::accounts::account_actor(self.account_id)
    }
}

/// The result of signing one request.
#[derive(Debug)]
pub struct SignedRequest {
    /// The request.
    pub id: String,
    /// The signing records (QR ids) of its documents, in order; or why it failed.
    pub outcome: Result<Vec<String>, CoreError>,
}

/// The unsigned PDF of a request's document.
pub fn unsigned_key(request_id: &str, idx: usize) -> String {
    format!("requests/{request_id}/{idx}.pdf")
}

/// The signed PDF of a request's document.
pub fn signed_key(request_id: &str, idx: i64) -> String {
    format!("requests/{request_id}/{idx}-ttd.pdf")
}

impl<S: Store + crate::seal::SealStore + SigningRequestStore + Sync> Sahih<S> {
    /// Files a request: the official must exist and may sign this class (the policy refuses
    /// as it would at signing, audited alike), every document must be a readable PDF, and the
    /// options must make sense. The PDFs are kept until signed.
    pub async fn file_signing_request<B: BlobStore>(
        &self,
        request: FileRequest<'_>,
        blobs: &B,
    ) -> Result<SigningRequestRecord, CoreError> {
        if request.documents.is_empty() || request.documents.len() > MAX_DOCUMENTS {
            return Err(CoreError::invalid(
                format!("permintaan harus memuat 1 sampai {MAX_DOCUMENTS} dokumen"),
                format!("a request must hold 1 to {MAX_DOCUMENTS} documents"),
            ));
        }
        if request.message.chars().count() > MAX_MESSAGE_CHARS {
            return Err(CoreError::invalid(
                format!("pesan paling panjang {MAX_MESSAGE_CHARS} karakter"),
                format!("the message takes at most {MAX_MESSAGE_CHARS} characters"),
            ));
        }
        if let Some(url) = &request.callback_url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(CoreError::invalid(
                "callback_url harus http:// atau https://",
                "callback_url must be http:// or https://",
            ));
        }
        let now = OffsetDateTime::now_utc();
        if request.due_at.is_some_and(|d| d <= now) {
            return Err(CoreError::invalid(
                "batas waktu sudah lewat",
                "the due date has passed",
            ));
        }
        request.options.sign_options()?;
        for (_, bytes) in &request.documents {
            sahih_pdf::PdfDocument::open(bytes, &sahih_pdf::OpenOptions::default())?;
        }
        let official = self.resolve_official(&request.signer).await?;
        if official.kind != OfficialKind::Person {
            return Err(CoreError::invalid(
                "permintaan tanda tangan hanya untuk pejabat, bukan segel",
                "signing requests are for officials, not seals",
            ));
        }
        let client_name = format!("client:{}", request.client.name);
        let class = self
            .authorize(
                &official,
                request.class.as_deref(),
                request.client.default_class.as_deref(),
                Some(&request.client.name),
                None,
            )
            .await?;
        let id = crate::ids::new_document_id();
        let mut documents = Vec::with_capacity(request.documents.len());
        for (idx, (file_name, bytes)) in request.documents.into_iter().enumerate() {
            let key = unsigned_key(&id, idx);
            let sha256 = crate::ids::sha256_hex(&bytes);
            let size = bytes.len() as i64;
            blobs.put(&key, bytes).await?;
            documents.push(NewRequestDocument {
                file_name: file_name.chars().take(200).collect(),
                blob_key: key,
                sha256,
                size,
            });
        }
        let new = NewSigningRequest {
            id: id.clone(),
            client_id: request.client.id,
            official_id: official.id,
            class: class.code.clone(),
            options_json: serde_json::to_string(&request.options)
                .map_err(|e| CoreError::Service(e.to_string()))?,
            message: request.message,
            due_at: request.due_at,
            callback_url: request.callback_url,
            documents,
            created_at: now,
        };
        let event = AuditEvent::new(
            AuditAction::SigningRequestCreate,
            &client_name,
            AuditResult::Ok,
        )
        .client(Some(&request.client.name))
        .detail(format!(
            "request={id} official=nik:{} class={} documents={}",
            official.nik,
            class.code,
            new.documents.len()
        ));
        self.store.insert_signing_request(&new, &event).await?;
        self.store
            .signing_request(&id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("request {id}")))
    }

    /// A request as its application sees it (NotFound for another client's).
    pub async fn request_for_client(
        &self,
        client: &ApiClientRecord,
        id: &str,
    ) -> Result<SigningRequestRecord, CoreError> {
        match self.store.signing_request(id).await? {
            Some(r) if r.client_id == client.id => Ok(r),
            _ => Err(CoreError::NotFound(format!("request {id}"))),
        }
    }

    /// A request as its official sees it (NotFound for anyone else's: no hint it exists).
    pub async fn request_for_person(
        &self,
        person: &Person<'_>,
        id: &str,
    ) -> Result<SigningRequestRecord, CoreError> {
        match self.store.signing_request(id).await? {
            Some(r) if r.official_id == person.official.id => Ok(r),
            _ => Err(CoreError::NotFound(format!("request {id}"))),
        }
    }

    /// The official's inbox: pending requests (unopened first), or everything.
    pub async fn inbox(
        &self,
        person: &Person<'_>,
        pending_only: bool,
        limit: i64,
    ) -> Result<Vec<SigningRequestRecord>, CoreError> {
        Ok(self
            .store
            .requests_for_official(person.official.id, pending_only, limit)
            .await?)
    }

    fn webhook_for(
        &self,
        request: &SigningRequestRecord,
        event: RequestEvent,
        now: OffsetDateTime,
        extra: serde_json::Value,
    ) -> Option<NewWebhook> {
        let url = request.callback_url.clone()?;
        let mut data = serde_json::json!({
            "request_id": request.id,
            "status": match event {
                RequestEvent::Signed => RequestStatus::Signed.as_str(),
                RequestEvent::Rejected => RequestStatus::Rejected.as_str(),
                RequestEvent::Expired => RequestStatus::Expired.as_str(),
                RequestEvent::Opened | RequestEvent::Read => RequestStatus::Pending.as_str(),
            },
        });
        if let (Some(d), Some(e)) = (data.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                d.insert(k.clone(), v.clone());
            }
        }
        let event_id = format!("evt_{}", crate::ids::new_document_id());
        let body = serde_json::json!({
            "id": event_id,
            "type": event.as_str(),
            "occurred_at": sahih_validate::rfc3339(now),
            "data": data,
        });
        Some(NewWebhook {
            event_id,
            client_id: request.client_id,
            request_id: request.id.clone(),
            event,
            url,
            body: body.to_string(),
        })
    }

    async fn step(
        &self,
        request: &SigningRequestRecord,
        step: RequestStep,
        action: AuditAction,
        actor: &str,
        webhook: Option<(RequestEvent, serde_json::Value)>,
    ) -> Result<bool, CoreError> {
        let now = OffsetDateTime::now_utc();
        let event = AuditEvent::new(action, actor, AuditResult::Ok)
            .detail(format!("request={}", request.id));
        let hook = webhook.and_then(|(e, extra)| self.webhook_for(request, e, now, extra));
        Ok(self
            .store
            .take_step(&request.id, &step, now, &event, hook.as_ref())
            .await?)
    }

    /// Opens a request: the first opening is recorded (audited, `request.opened`).
    pub async fn open_request(
        &self,
        person: &Person<'_>,
        id: &str,
    ) -> Result<SigningRequestRecord, CoreError> {
        let request = self.request_for_person(person, id).await?;
        if request.opened_at.is_none() {
            self.step(
                &request,
                RequestStep::Open,
                AuditAction::SigningRequestOpen,
                &person.actor(),
                Some((RequestEvent::Opened, serde_json::json!({}))),
            )
            .await?;
            return self.request_for_person(person, id).await;
        }
        Ok(request)
    }

    /// "Sudah saya baca": only after opening, once (audited, `request.read`).
    pub async fn confirm_read(&self, person: &Person<'_>, id: &str) -> Result<(), CoreError> {
        let request = self.request_for_person(person, id).await?;
        if request.opened_at.is_none() {
            return Err(not_opened());
        }
        if request.read_at.is_none() {
            let at = OffsetDateTime::now_utc();
            self.step(
                &request,
                RequestStep::Read,
                AuditAction::SigningRequestRead,
                &person.actor(),
                Some((
                    RequestEvent::Read,
                    serde_json::json!({"read_at": sahih_validate::rfc3339(at)}),
                )),
            )
            .await?;
        }
        Ok(())
    }

    /// Rejects a pending request with a reason (audited, `request.rejected`).
    pub async fn reject_request(
        &self,
        person: &Person<'_>,
        id: &str,
        reason: &str,
    ) -> Result<(), CoreError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(CoreError::invalid(
                "Tuliskan alasan penolakan.",
                "Give a reason for the rejection.",
            ));
        }
        let reason: String = reason.chars().take(1000).collect();
        let request = self.request_for_person(person, id).await?;
        if request.opened_at.is_none() {
            return Err(not_opened());
        }
        let done = self
            .step(
                &request,
                RequestStep::Reject(reason.clone()),
                AuditAction::SigningRequestReject,
                &person.actor(),
                Some((
                    RequestEvent::Rejected,
                    serde_json::json!({"reason": reason}),
                )),
            )
            .await?;
        if !done {
            return Err(not_pending());
        }
        Ok(())
    }

    /// Signs the person's requests with one passphrase entry (and the one-time code where the
    /// institution requires one): each request goes through the one signing pipeline with the
    /// person's door; the signed PDFs are kept for the application, and each request becomes
    /// signed (audited, `request.signed`). A request not opened yet, or no longer pending, is
    /// refused on its own; a wrong passphrase stops the rest.
    pub async fn sign_requests<B: BlobStore>(
        &self,
        person: &Person<'_>,
        ids: &[String],
        passphrase: &str,
        otp: Option<&str>,
        env: &SigningEnv<'_, B>,
    ) -> Result<Vec<SignedRequest>, CoreError> {
        let mut results = Vec::with_capacity(ids.len());
        for id in ids {
            let outcome = self
                .sign_one_request(person, id, passphrase, otp, env)
                .await;
            let stop = matches!(
                outcome,
                Err(CoreError::WrongPassphrase { .. } | CoreError::Locked { .. })
            );
            results.push(SignedRequest {
                id: id.clone(),
                outcome,
            });
            if stop {
                break;
            }
        }
        Ok(results)
    }

    async fn sign_one_request<B: BlobStore>(
        &self,
        person: &Person<'_>,
        id: &str,
        passphrase: &str,
        otp: Option<&str>,
        env: &SigningEnv<'_, B>,
    ) -> Result<Vec<String>, CoreError> {
        let request = self.request_for_person(person, id).await?;
        if request.opened_at.is_none() {
            return Err(not_opened());
        }
        if request.status != RequestStatus::Pending {
            return Err(not_pending());
        }
        let options: RequestOptions = serde_json::from_str(&request.options_json)
            .map_err(|e| CoreError::Service(format!("stored request options: {e}")))?;
        let sign_options = options.sign_options()?;
        let mut documents = Vec::with_capacity(request.documents.len());
        for d in &request.documents {
            let bytes = env
                .blobs
                .get(&d.blob_key)
                .await?
                .ok_or_else(|| CoreError::NotFound(format!("document {}", d.blob_key)))?;
            documents.push(BatchDocument {
                bytes,
                options: sign_options.clone(),
                file_name: Some(d.file_name.clone()),
            });
        }
        let door = Door::Person {
            account_id: person.account_id,
        };
        let signed = self
            .sign_batch(
                SignRequest {
                    door,
                    signer: Signer::Official {
                        who: SignerRef::Nik(person.official.nik.clone()),
                        passphrase,
                        otp,
                    },
                    class: Some(&request.class),
                    documents,
                    delivery: Delivery::Return,
                },
                env,
            )
            .await?;
        let mut recorded = Vec::with_capacity(signed.len());
        let mut listed = Vec::with_capacity(signed.len());
        for (d, item) in request.documents.iter().zip(signed) {
            let key = signed_key(&request.id, d.idx);
            env.blobs.put(&key, item.signed).await?;
            listed.push(serde_json::json!({
                "index": d.idx,
                "file_name": d.file_name,
                "document_id": item.outcome.document_id,
                "sha256": item.outcome.sha256_hex,
                "verification_url": item.outcome.verification_url,
            }));
            recorded.push((d.idx, item.outcome.document_id, key));
        }
        let ids: Vec<String> = recorded.iter().map(|(_, id, _)| id.clone()).collect();
        let done = self
            .step(
                &request,
                RequestStep::Sign(recorded),
                AuditAction::SigningRequestSign,
                &person.actor(),
                Some((
                    RequestEvent::Signed,
                    serde_json::json!({"documents": listed}),
                )),
            )
            .await?;
        if !done {
            // Signed twice at once (two tabs): the signatures stand, the request keeps the
            // first set.
            return Err(not_pending());
        }
        Ok(ids)
    }

    /// Expires pending requests past their due date (audited, `request.expired`); returns
    /// how many.
    pub async fn expire_overdue(&self) -> Result<usize, CoreError> {
        let now = OffsetDateTime::now_utc();
        let mut n = 0;
        for request in self.store.overdue_requests(now, 500).await? {
            if self
                .step(
                    &request,
                    RequestStep::Expire,
                    AuditAction::SigningRequestExpire,
                    "system",
                    Some((RequestEvent::Expired, serde_json::json!({}))),
                )
                .await?
            {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Changes the person's signing passphrase: the old one unlocks the key (audited and
    /// counted towards the lockout like any unlock), the new one must pass the same checks as
    /// at activation, and the key is re-sealed under it. The certificate and key stay the same.
    pub async fn change_passphrase(
        &self,
        person: &Person<'_>,
        old: &str,
        new: &str,
    ) -> Result<(), CoreError> {
        let o = person.official;
        crate::ra::check_new_passphrase(
            new,
            &crate::store::NewOfficial {
                nik: o.nik.clone(),
                nip: o.nip.clone(),
                name: o.name.clone(),
                email: o.email.clone(),
                position: o.position.clone(),
                unit: o.unit.clone(),
            },
        )?;
        if old == new {
            return Err(CoreError::WeakPassphrase(crate::Text::new(
                "passphrase baru sama dengan yang lama",
                "the new passphrase is the same as the old one",
            )));
        }
        let actor = person.actor();
        let signer = self.unlock_audited(o, old, Some(&actor)).await?;
        let aad = crate::service::official_key_aad(&o.nik, &signer.certificate_record.serial_hex);
        let sealed = crate::cpu::run_cpu(|| {
            self.keys
                .seal_for_official(&signer.key, new.as_bytes(), &aad)
        })?;
        let event = AuditEvent::new(AuditAction::PassphraseChange, &actor, AuditResult::Ok).detail(
            format!(
                "nik:{} certificate={}",
                o.nik, signer.certificate_record.serial_hex
            ),
        );
        let done = self
            .store
            .replace_sealed_key(
                signer.certificate_record.id,
                &signer.certificate_record.sealed_key,
                &sealed,
                &event,
            )
            .await?;
        if !done {
            return Err(CoreError::invalid(
                "Passphrase baru saja diganti dari tempat lain; coba lagi.",
                "The passphrase was just changed elsewhere; try again.",
            ));
        }
        Ok(())
    }

    /// Makes a new webhook secret for a client (the old one stops working); returns it once.
    pub async fn new_webhook_secret(
        &self,
        client: &ApiClientRecord,
        by: &str,
    ) -> Result<Zeroizing<String>, CoreError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        aws_lc_rs::rand::fill(bytes.as_mut())
            .map_err(|_| CoreError::Service("random number generator failed".into()))?;
        let secret = Zeroizing::new(format!("whsec_{}", hex::encode(bytes.as_ref())));
        let sealed = sahih_pki::seal_payload_with_master_key(
            secret.as_bytes(),
            &self.data.master_key()?,
            &webhook_aad(client.id),
        )?;
        let event = AuditEvent::new(AuditAction::WebhookSecret, by, AuditResult::Ok)
            .client(Some(&client.name));
        self.store
            .set_webhook_secret(client.id, &sealed, &event)
            .await?;
        Ok(secret)
    }

    /// A client's webhook secret, to sign what is sent to it; None when it has none.
    pub async fn webhook_secret_of(
        &self,
        client_id: i64,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, CoreError> {
        let Some(sealed) = self.store.webhook_secret(client_id).await? else {
            return Ok(None);
        };
        Ok(Some(sahih_pki::unseal_payload_with_master_key(
            &sealed,
            &self.data.master_key()?,
            &webhook_aad(client_id),
        )?))
    }
}

fn webhook_aad(client_id: i64) -> Vec<u8> {
    format!("sahih-webhook-secret-v1:{client_id}").into_bytes()
}

fn not_opened() -> CoreError {
    CoreError::invalid(
        "Buka dan baca dokumennya dahulu.",
        "Open and read the document first.",
    )
}

fn not_pending() -> CoreError {
    CoreError::invalid(
        "Permintaan ini sudah diputuskan atau kedaluwarsa.",
        "This request was already decided or has expired.",
    )
}

/// The `Sahih-Signature` header of a webhook body sent at `unix_time`: `t=<time>,v1=<hex
/// HMAC-SHA256(secret, "<time>.<body>")>`. The receiver recomputes it and refuses old times.
pub fn webhook_signature(secret: &[u8], unix_time: i64, body: &str) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, format!("{unix_time}.{body}").as_bytes());
    format!("t={unix_time},v1={}", hex::encode(tag.as_ref()))
}

/// When to try a webhook again after `attempts` failures: `base_secs` (30 by default)
/// doubling, at most an hour apart; None once a day has passed since it was queued (give up;
/// it can be replayed).
pub fn next_webhook_attempt(
    created_at: OffsetDateTime,
    attempts: i64,
    now: OffsetDateTime,
    base_secs: u64,
) -> Option<OffsetDateTime> {
    let base = i64::try_from(base_secs.max(1)).unwrap_or(30);
    let delay = base.saturating_mul(1i64 << attempts.clamp(0, 20)).min(3600);
    let next = now + time::Duration::seconds(delay);
    (next - created_at <= time::Duration::hours(24)).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_signatures_are_hmac_over_time_and_body() {
        let sig = webhook_signature(b"whsec_test", 1_700_000_000, "{\"a\":1}");
        assert!(sig.starts_with("t=1700000000,v1="));
        assert_eq!(sig.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(
            sig,
            webhook_signature(b"whsec_test", 1_700_000_001, "{\"a\":1}")
        );
        assert_ne!(
            sig,
            webhook_signature(b"whsec_other", 1_700_000_000, "{\"a\":1}")
        );
    }

    #[test]
    fn retries_back_off_and_stop_after_a_day() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(
            next_webhook_attempt(t0, 0, t0, 30),
            Some(t0 + time::Duration::seconds(30))
        );
        assert_eq!(
            next_webhook_attempt(t0, 3, t0, 30),
            Some(t0 + time::Duration::seconds(240))
        );
        assert_eq!(
            next_webhook_attempt(t0, 12, t0, 30),
            Some(t0 + time::Duration::hours(1))
        );
        assert_eq!(
            next_webhook_attempt(
                t0,
                30,
                t0 + time::Duration::hours(23) + time::Duration::minutes(30),
                30
            ),
            None
        );
    }

    #[test]
    fn placement_specs_become_placements() {
        let p = PlacementSpec::default().to_placement().unwrap();
        assert!(matches!(p, Some(Placement::Default)));
        let invisible = PlacementSpec {
            invisible: true,
            ..Default::default()
        };
        assert!(invisible.to_placement().unwrap().is_none());
        let bad = PlacementSpec {
            rect: Some([0.0, 0.0, -1.0, 10.0]),
            ..Default::default()
        };
        assert!(bad.to_placement().is_err());
        let opts: RequestOptions =
            serde_json::from_str(r#"{"placement":{"anchor":"Kepala Dinas"},"level":"B-T"}"#)
                .unwrap();
        assert_eq!(opts.sign_options().unwrap().level, Level::BT);
    }
}
