//! Delivers the queued webhook events (`webhook_events`, written in the same transaction as
//! the step they report): each is POSTed as JSON to the request's callback URL with a
//! `Sahih-Signature: t=<unix time>,v1=<HMAC-SHA256>` header under the application's webhook
//! secret, retried with exponential backoff for about a day, then kept as given up (the
//! application can replay it). A restart loses nothing: the queue is in the database. Overdue
//! requests are expired here too.
//!
//! Must not know: what the events mean.

use crate::Shared;
use sahih_core::signing_requests::{next_webhook_attempt, webhook_signature};
use sahih_core::store::signing::{SigningRequestStore, WebhookOutcome, WebhookRecord};
use std::time::Duration;
use time::OffsetDateTime;

/// How long one POST may take.
const POST_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a claimed event is left to this server before another may try it.
const CLAIM_HOLD: time::Duration = time::Duration::seconds(60);

/// Delivers due events every `every` (or at once when woken), and expires overdue requests.
pub async fn deliver_forever(state: Shared, every: Duration) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = state.webhooks_wake.notified() => {}
        }
        if let Ok(n) = state.sahih.expire_overdue().await
            && n > 0
        {
            tracing::info!(detail = n, "signing requests expired");
        }
        if let Err(e) = deliver_due(&state).await {
            tracing::warn!(detail = %e, "webhook delivery failed");
        }
    }
}

/// Delivers every event due now; returns how many were attempted.
pub async fn deliver_due(state: &Shared) -> Result<usize, sahih_core::CoreError> {
    let now = OffsetDateTime::now_utc();
    let due = state
        .sahih
        .store
        .claim_webhooks(now, CLAIM_HOLD, 50)
        .await?;
    let n = due.len();
    for event in due {
        let (status, error) = attempt(state, &event).await;
        let now = OffsetDateTime::now_utc();
        let outcome = match status {
            Some(s) if (200..300).contains(&s) => WebhookOutcome::Delivered(now),
            _ => match next_webhook_attempt(
                event.created_at,
                event.attempts,
                now,
                state.sahih.config.server.webhook_retry_secs,
            ) {
                Some(at) => WebhookOutcome::RetryAt(at),
                None => WebhookOutcome::GiveUp(now),
            },
        };
        state
            .sahih
            .store
            .webhook_attempted(event.id, status.map(i64::from), error.as_deref(), outcome)
            .await?;
    }
    Ok(n)
}

/// One POST; the HTTP status, or why there was none.
async fn attempt(state: &Shared, event: &WebhookRecord) -> (Option<u16>, Option<String>) {
    let secret = match state.sahih.webhook_secret_of(event.client_id).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return (
                None,
                Some("no webhook secret: POST /api/v1/webhooks/secret first".into()),
            );
        }
        Err(e) => return (None, Some(format!("secret unavailable: {e}"))),
    };
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let signature = webhook_signature(&secret, now, &event.body);
    let url = event.url.clone();
    let body = event.body.clone();
    let id = event.event_id.clone();
    let kind = event.event.as_str().to_string();
    let sent = tokio::task::spawn_blocking(move || {
        sahih_fetch::post_json(
            &url,
            &body,
            &[
                ("Sahih-Signature", &signature),
                ("Sahih-Event-Id", &id),
                ("Sahih-Event", &kind),
                ("User-Agent", "Sahih-Webhook/1"),
            ],
            POST_TIMEOUT,
        )
    })
    .await;
    match sent {
        Ok(Ok(status)) if (200..300).contains(&status) => (Some(status), None),
        Ok(Ok(status)) => (Some(status), Some(format!("HTTP {status}"))),
        Ok(Err(e)) => (None, Some(e)),
        Err(_) => (None, Some("delivery task failed".into())),
    }
}
