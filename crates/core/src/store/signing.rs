//! Signing requests as stored: what an application asked an official to sign, its documents,
//! the steps the official took (opened, read, signed or rejected) and the webhook events that
//! tell the application, and the [`SigningRequestStore`] trait a store implements for them.
//! What the steps mean is `crate::signing_requests`.
//!
//! Every step is a conditional update in one transaction with its audit event and its webhook
//! event, so a crash loses neither and two clicks cannot both take a step.
//!
//! Must not know: SQL, HTTP or pages.

use crate::audit::AuditEvent;
use crate::store::StoreResult;
use std::future::Future;
use time::OffsetDateTime;

stored_kind!(
    /// Where a signing request stands.
    RequestStatus {
        /// Waiting for the official (opened and read are recorded beside it).
        Pending => "pending",
        /// Signed; the signed documents wait for the application.
        Signed => "signed",
        /// Rejected by the official, with a reason.
        Rejected => "rejected",
        /// Past its due date without a decision.
        Expired => "expired",
    }
);

stored_kind!(
    /// What a webhook tells the application.
    RequestEvent {
        /// The official opened the request.
        Opened => "request.opened",
        /// The official confirmed reading it (the "centang").
        Read => "request.read",
        /// The documents are signed.
        Signed => "request.signed",
        /// The official rejected it.
        Rejected => "request.rejected",
        /// It passed its due date.
        Expired => "request.expired",
    }
);

/// A document of a request to store.
#[derive(Debug, Clone)]
pub struct NewRequestDocument {
    /// Its name as the application gave it.
    pub file_name: String,
    /// Where the PDF is kept until it is signed.
    pub blob_key: String,
    /// SHA-256 (hex) of the PDF.
    pub sha256: String,
    /// Bytes.
    pub size: i64,
}

/// A request to store.
#[derive(Debug, Clone)]
pub struct NewSigningRequest {
    /// Unguessable id.
    pub id: String,
    /// The application that asked.
    pub client_id: i64,
    /// The official asked to sign.
    pub official_id: i64,
    /// Document class code (the policy decides at signing).
    pub class: String,
    /// Placement, level, reason and language as JSON ([`crate::signing_requests::RequestOptions`]).
    pub options_json: String,
    /// The message to the official.
    pub message: String,
    /// When it expires without a decision.
    pub due_at: Option<OffsetDateTime>,
    /// Where webhooks go.
    pub callback_url: Option<String>,
    /// The documents, in order.
    pub documents: Vec<NewRequestDocument>,
    /// When it was filed.
    pub created_at: OffsetDateTime,
}

/// A stored document of a request.
#[derive(Debug, Clone)]
pub struct RequestDocument {
    /// Position in the request, from 0.
    pub idx: i64,
    /// Name as given.
    pub file_name: String,
    /// The unsigned PDF.
    pub blob_key: String,
    /// SHA-256 of the unsigned PDF.
    pub sha256: String,
    /// Bytes of the unsigned PDF.
    pub size: i64,
    /// The signing record (QR id), once signed.
    pub signed_document_id: Option<String>,
    /// The signed PDF, once signed.
    pub signed_blob_key: Option<String>,
}

/// A stored signing request.
#[derive(Debug, Clone)]
pub struct SigningRequestRecord {
    /// Unguessable id.
    pub id: String,
    /// The application that asked.
    pub client_id: i64,
    /// Its name (shown to the official as who asked).
    pub client_name: String,
    /// The official asked to sign.
    pub official_id: i64,
    /// Document class code.
    pub class: String,
    /// Placement, level, reason and language as JSON.
    pub options_json: String,
    /// The message to the official.
    pub message: String,
    /// Due date.
    pub due_at: Option<OffsetDateTime>,
    /// Where webhooks go.
    pub callback_url: Option<String>,
    /// Where it stands.
    pub status: RequestStatus,
    /// When it was filed.
    pub created_at: OffsetDateTime,
    /// First opened by the official.
    pub opened_at: Option<OffsetDateTime>,
    /// Confirmed read by the official.
    pub read_at: Option<OffsetDateTime>,
    /// Signed, rejected or expired.
    pub decided_at: Option<OffsetDateTime>,
    /// The rejection's reason.
    pub reason: Option<String>,
    /// The documents, in order.
    pub documents: Vec<RequestDocument>,
}

/// A webhook event to queue with a step.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    /// Its id (`evt_` and 128 random bits): the same in the body, the `Sahih-Event-Id` header
    /// and every retry or replay, and never reused, also not after a restore.
    pub event_id: String,
    /// The application.
    pub client_id: i64,
    /// The request it is about.
    pub request_id: String,
    /// What happened.
    pub event: RequestEvent,
    /// Where it goes.
    pub url: String,
    /// The JSON body (signed when sent).
    pub body: String,
}

/// A queued or delivered webhook event.
#[derive(Debug, Clone)]
pub struct WebhookRecord {
    /// Row id: names the delivery in the API (`/api/v1/webhooks/deliveries/{id}/replay`).
    pub id: i64,
    /// The event's id, as [`NewWebhook::event_id`] (the row id for events queued before ids).
    pub event_id: String,
    /// The application.
    pub client_id: i64,
    /// The request it is about.
    pub request_id: String,
    /// What happened.
    pub event: RequestEvent,
    /// Where it goes.
    pub url: String,
    /// The JSON body.
    pub body: String,
    /// When it was queued.
    pub created_at: OffsetDateTime,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// When the next attempt is due.
    pub next_attempt_at: OffsetDateTime,
    /// Delivered (2xx) then.
    pub delivered_at: Option<OffsetDateTime>,
    /// Retries stopped then.
    pub given_up_at: Option<OffsetDateTime>,
    /// HTTP status of the last attempt.
    pub last_status: Option<i64>,
    /// What went wrong at the last attempt.
    pub last_error: Option<String>,
}

/// A step on a request, taken only if the request is where `from` says.
#[derive(Debug, Clone)]
pub enum RequestStep {
    /// First opening (only when not opened yet).
    Open,
    /// Read confirmation (only when opened and not read yet).
    Read,
    /// Rejection with a reason (only while pending).
    Reject(String),
    /// Signed documents: (idx, signing record id, signed blob key) (only while pending).
    Sign(Vec<(i64, String, String)>),
    /// Expiry (only while pending).
    Expire,
}

/// Storage of signing requests and webhook events.
pub trait SigningRequestStore {
    /// Stores a request and its documents, with its audit event.
    fn insert_signing_request(
        &self,
        request: &NewSigningRequest,
        event: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// A request with its documents.
    fn signing_request(
        &self,
        id: &str,
    ) -> impl Future<Output = StoreResult<Option<SigningRequestRecord>>> + Send;
    /// An official's requests: pending ones first (unopened first, then by due date), then
    /// decided ones, newest first; at most `limit`.
    fn requests_for_official(
        &self,
        official_id: i64,
        pending_only: bool,
        limit: i64,
    ) -> impl Future<Output = StoreResult<Vec<SigningRequestRecord>>> + Send;
    /// Takes a step, with its audit event and (when the request has a callback) its webhook,
    /// in one transaction; false when the request was not where the step needs it.
    fn take_step(
        &self,
        id: &str,
        step: &RequestStep,
        now: OffsetDateTime,
        event: &AuditEvent,
        webhook: Option<&NewWebhook>,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Pending requests past their due date.
    fn overdue_requests(
        &self,
        now: OffsetDateTime,
        limit: i64,
    ) -> impl Future<Output = StoreResult<Vec<SigningRequestRecord>>> + Send;

    /// Stores a client's webhook secret (sealed).
    fn set_webhook_secret(
        &self,
        client_id: i64,
        sealed: &str,
        event: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// A client's sealed webhook secret.
    fn webhook_secret(
        &self,
        client_id: i64,
    ) -> impl Future<Output = StoreResult<Option<String>>> + Send;
    /// Claims webhook events due now for delivery (claimed for `hold`, so two servers do
    /// not send the same event at once).
    fn claim_webhooks(
        &self,
        now: OffsetDateTime,
        hold: time::Duration,
        limit: i64,
    ) -> impl Future<Output = StoreResult<Vec<WebhookRecord>>> + Send;
    /// Records a delivery attempt: delivered, retried at `next_attempt_at`, or given up.
    fn webhook_attempted(
        &self,
        id: i64,
        status: Option<i64>,
        error: Option<&str>,
        outcome: WebhookOutcome,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// A client's webhook events, newest first.
    fn webhook_log(
        &self,
        client_id: i64,
        limit: i64,
    ) -> impl Future<Output = StoreResult<Vec<WebhookRecord>>> + Send;
    /// Queues an event of this client again (replay); false when it is not theirs.
    fn replay_webhook(
        &self,
        client_id: i64,
        id: i64,
        now: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
}

/// How a delivery attempt ended.
#[derive(Debug, Clone, Copy)]
pub enum WebhookOutcome {
    /// The receiver answered 2xx.
    Delivered(OffsetDateTime),
    /// Try again then.
    RetryAt(OffsetDateTime),
    /// Stop trying (about a day has passed).
    GiveUp(OffsetDateTime),
}
