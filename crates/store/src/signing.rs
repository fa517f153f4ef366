//! SQL of signing requests and webhook events. Each step is a conditional update in one
//! transaction with its audit event and webhook event; webhook deliveries are claimed for a
//! while, so two servers do not send one event at the same moment.
//!
//! Must not know: HTTP delivery or signing of webhooks, or how documents are signed.

use crate::rows::{Columns, Db, ts};
use crate::{SqlStore, append_in, commit_audited};
use sahih_core::audit::AuditEvent;
use sahih_core::store::StoreResult;
use sahih_core::store::signing::{
    NewSigningRequest, NewWebhook, RequestDocument, RequestEvent, RequestStatus, RequestStep,
    SigningRequestRecord, SigningRequestStore, WebhookOutcome, WebhookRecord,
};
use sqlx::AnyConnection;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

fn request_from_row(r: &AnyRow) -> StoreResult<SigningRequestRecord> {
    Ok(SigningRequestRecord {
        id: r.col("id")?,
        client_id: r.col("client_id")?,
        client_name: r.col("client_name")?,
        official_id: r.col("official_id")?,
        class: r.col("class")?,
        options_json: r.col("options_json")?,
        message: r.col("message")?,
        due_at: r.opt_time("due_at")?,
        callback_url: r.col("callback_url")?,
        status: r.kind("status", RequestStatus::parse)?,
        created_at: r.time("created_at")?,
        opened_at: r.opt_time("opened_at")?,
        read_at: r.opt_time("read_at")?,
        decided_at: r.opt_time("decided_at")?,
        reason: r.col("reason")?,
        documents: Vec::new(),
    })
}

fn document_from_row(r: &AnyRow) -> StoreResult<RequestDocument> {
    Ok(RequestDocument {
        idx: r.col("idx")?,
        file_name: r.col("file_name")?,
        blob_key: r.col("blob_key")?,
        sha256: r.col("sha256")?,
        size: r.col("size")?,
        signed_document_id: r.col("signed_document_id")?,
        signed_blob_key: r.col("signed_blob_key")?,
    })
}

fn webhook_from_row(r: &AnyRow) -> StoreResult<WebhookRecord> {
    Ok(WebhookRecord {
        event_id: match r.col::<Option<String>>("event_uid")? {
            Some(uid) => uid,
            // Queued before event ids existed: the row number was its id.
            None => r.col::<i64>("id")?.to_string(),
        },
        id: r.col("id")?,
        client_id: r.col("client_id")?,
        request_id: r.col("request_id")?,
        event: r.kind("event", RequestEvent::parse)?,
        url: r.col("url")?,
        body: r.col("body")?,
        created_at: r.time("created_at")?,
        attempts: r.col("attempts")?,
        next_attempt_at: r.time("next_attempt_at")?,
        delivered_at: r.opt_time("delivered_at")?,
        given_up_at: r.opt_time("given_up_at")?,
        last_status: r.col("last_status")?,
        last_error: r.col("last_error")?,
    })
}

const REQUEST_SELECT: &str = "SELECT r.*, c.name AS client_name FROM signing_requests r
                              JOIN api_clients c ON c.id = r.client_id";

async fn push_webhook(conn: &mut AnyConnection, w: &NewWebhook, now: i64) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO webhook_events (client_id, request_id, event, url, body, created_at,
                                     next_attempt_at, event_uid)
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
    )
    .bind(w.client_id)
    .bind(&w.request_id)
    .bind(w.event.as_str())
    .bind(&w.url)
    .bind(&w.body)
    .bind(now)
    .bind(&w.event_id)
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(())
}

impl SqlStore {
    /// Fills in the documents of `requests` with one query (not one per request).
    async fn with_documents(
        &self,
        mut requests: Vec<SigningRequestRecord>,
    ) -> StoreResult<Vec<SigningRequestRecord>> {
        if requests.is_empty() {
            return Ok(requests);
        }
        let placeholders: Vec<String> = (1..=requests.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT * FROM signing_request_documents WHERE request_id IN ({})
             ORDER BY request_id, idx",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for r in &requests {
            query = query.bind(r.id.clone());
        }
        let documents = self
            .all(query, |r| {
                Ok((r.col::<String>("request_id")?, document_from_row(r)?))
            })
            .await?;
        let mut by_request: std::collections::HashMap<String, Vec<RequestDocument>> =
            std::collections::HashMap::new();
        for (id, document) in documents {
            by_request.entry(id).or_default().push(document);
        }
        for r in &mut requests {
            r.documents = by_request.remove(&r.id).unwrap_or_default();
        }
        Ok(requests)
    }
}

impl SigningRequestStore for SqlStore {
    async fn insert_signing_request(
        &self,
        r: &NewSigningRequest,
        event: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO signing_requests (id, client_id, official_id, class, options_json,
                 message, due_at, callback_url, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&r.id)
        .bind(r.client_id)
        .bind(r.official_id)
        .bind(&r.class)
        .bind(&r.options_json)
        .bind(&r.message)
        .bind(r.due_at.map(ts))
        .bind(r.callback_url.as_deref())
        .bind(RequestStatus::Pending.as_str())
        .bind(ts(r.created_at))
        .execute(&mut *tx)
        .await
        .db()?;
        for (idx, d) in r.documents.iter().enumerate() {
            sqlx::query(
                "INSERT INTO signing_request_documents (request_id, idx, file_name, blob_key,
                     sha256, size)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&r.id)
            .bind(idx as i64)
            .bind(&d.file_name)
            .bind(&d.blob_key)
            .bind(&d.sha256)
            .bind(d.size)
            .execute(&mut *tx)
            .await
            .db()?;
        }
        commit_audited(tx, std::slice::from_ref(event)).await
    }

    async fn signing_request(&self, id: &str) -> StoreResult<Option<SigningRequestRecord>> {
        let sql = format!("{REQUEST_SELECT} WHERE r.id = $1");
        let request = self.one_or_none(sqlx::query(&sql).bind(id), request_from_row);
        let Some(request) = request.await? else {
            return Ok(None);
        };
        Ok(self.with_documents(vec![request]).await?.pop())
    }

    async fn requests_for_official(
        &self,
        official_id: i64,
        pending_only: bool,
        limit: i64,
    ) -> StoreResult<Vec<SigningRequestRecord>> {
        // Pending first, unopened before opened, then by due date (none last) and age;
        // decided ones after, newest first.
        let sql = format!(
            "{REQUEST_SELECT} WHERE r.official_id = $1 AND ($2 = 0 OR r.status = 'pending')
             ORDER BY CASE WHEN r.status = 'pending' THEN 0 ELSE 1 END,
                      CASE WHEN r.status = 'pending' AND r.opened_at IS NULL THEN 0 ELSE 1 END,
                      CASE WHEN r.status = 'pending' THEN COALESCE(r.due_at, 9223372036854775807) ELSE 0 END,
                      COALESCE(r.decided_at, 0) DESC, r.created_at DESC, r.id
             LIMIT $3"
        );
        let query = sqlx::query(&sql)
            .bind(official_id)
            .bind(i64::from(pending_only))
            .bind(limit);
        let requests = self.all(query, request_from_row).await?;
        self.with_documents(requests).await
    }

    async fn take_step(
        &self,
        id: &str,
        step: &RequestStep,
        now: OffsetDateTime,
        event: &AuditEvent,
        webhook: Option<&NewWebhook>,
    ) -> StoreResult<bool> {
        let now = ts(now);
        let mut tx = self.begin().await?;
        let done = match step {
            RequestStep::Open => sqlx::query(
                "UPDATE signing_requests SET opened_at = $1 WHERE id = $2 AND opened_at IS NULL",
            )
            .bind(now)
            .bind(id),
            RequestStep::Read => sqlx::query(
                "UPDATE signing_requests SET read_at = $1
                 WHERE id = $2 AND opened_at IS NOT NULL AND read_at IS NULL",
            )
            .bind(now)
            .bind(id),
            RequestStep::Reject(reason) => sqlx::query(
                "UPDATE signing_requests SET status = 'rejected', decided_at = $1, reason = $2
                 WHERE id = $3 AND status = 'pending'",
            )
            .bind(now)
            .bind(reason.clone())
            .bind(id),
            RequestStep::Sign(_) => sqlx::query(
                "UPDATE signing_requests SET status = 'signed', decided_at = $1
                 WHERE id = $2 AND status = 'pending'",
            )
            .bind(now)
            .bind(id),
            RequestStep::Expire => sqlx::query(
                "UPDATE signing_requests SET status = 'expired', decided_at = $1
                 WHERE id = $2 AND status = 'pending'",
            )
            .bind(now)
            .bind(id),
        }
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected()
            > 0;
        if !done {
            return Ok(false);
        }
        if let RequestStep::Sign(documents) = step {
            for (idx, document_id, key) in documents {
                sqlx::query(
                    "UPDATE signing_request_documents SET signed_document_id = $1,
                         signed_blob_key = $2
                     WHERE request_id = $3 AND idx = $4",
                )
                .bind(document_id)
                .bind(key)
                .bind(id)
                .bind(*idx)
                .execute(&mut *tx)
                .await
                .db()?;
            }
        }
        append_in(&mut tx, std::slice::from_ref(event)).await?;
        if let Some(w) = webhook {
            push_webhook(&mut tx, w, now).await?;
        }
        tx.commit().await.db()?;
        Ok(true)
    }

    async fn overdue_requests(
        &self,
        now: OffsetDateTime,
        limit: i64,
    ) -> StoreResult<Vec<SigningRequestRecord>> {
        self.all(
            sqlx::query(&format!(
                "{REQUEST_SELECT} WHERE r.status = 'pending' AND r.due_at IS NOT NULL
                 AND r.due_at <= $1 ORDER BY r.due_at LIMIT $2"
            ))
            .bind(ts(now))
            .bind(limit),
            request_from_row,
        )
        .await
    }

    async fn set_webhook_secret(
        &self,
        client_id: i64,
        sealed: &str,
        event: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE api_clients SET webhook_secret_sealed = $1 WHERE id = $2")
            .bind(sealed)
            .bind(client_id)
            .execute(&mut *tx)
            .await
            .db()?;
        commit_audited(tx, std::slice::from_ref(event)).await
    }

    async fn webhook_secret(&self, client_id: i64) -> StoreResult<Option<String>> {
        let secret = self
            .one_or_none(
                sqlx::query("SELECT webhook_secret_sealed FROM api_clients WHERE id = $1")
                    .bind(client_id),
                |r| r.col::<Option<String>>("webhook_secret_sealed"),
            )
            .await?;
        Ok(secret.flatten())
    }

    async fn claim_webhooks(
        &self,
        now: OffsetDateTime,
        hold: time::Duration,
        limit: i64,
    ) -> StoreResult<Vec<WebhookRecord>> {
        let now_ts = ts(now);
        let due: Vec<i64> = self
            .all(
                sqlx::query(
                    "SELECT id FROM webhook_events
                     WHERE delivered_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= $1
                       AND claimed_until <= $1
                     ORDER BY id LIMIT $2",
                )
                .bind(now_ts)
                .bind(limit),
                |r| r.col("id"),
            )
            .await?;
        let mut claimed = Vec::new();
        for id in due {
            // Conditional: another server that claimed it in between wins.
            let got = self.one_or_none(
                sqlx::query(
                    "UPDATE webhook_events SET claimed_until = $1
                     WHERE id = $2 AND claimed_until <= $3 AND delivered_at IS NULL
                     RETURNING *",
                )
                .bind(ts(now + hold))
                .bind(id)
                .bind(now_ts),
                webhook_from_row,
            );
            claimed.extend(got.await?);
        }
        Ok(claimed)
    }

    async fn webhook_attempted(
        &self,
        id: i64,
        status: Option<i64>,
        error: Option<&str>,
        outcome: WebhookOutcome,
    ) -> StoreResult<()> {
        let (delivered, given_up, next) = match outcome {
            WebhookOutcome::Delivered(t) => (Some(ts(t)), None, None),
            WebhookOutcome::RetryAt(t) => (None, None, Some(ts(t))),
            WebhookOutcome::GiveUp(t) => (None, Some(ts(t)), None),
        };
        self.run(sqlx::query(
            "UPDATE webhook_events SET attempts = attempts + 1, last_status = $1, last_error = $2,
                 delivered_at = $3, given_up_at = $4,
                 next_attempt_at = COALESCE($5, next_attempt_at), claimed_until = 0
             WHERE id = $6",
        )
        .bind(status)
        .bind(error)
        .bind(delivered)
        .bind(given_up)
        .bind(next)
        .bind(id)).await?;
        Ok(())
    }

    async fn webhook_log(&self, client_id: i64, limit: i64) -> StoreResult<Vec<WebhookRecord>> {
        self.all(
            sqlx::query(
                "SELECT * FROM webhook_events WHERE client_id = $1 ORDER BY id DESC LIMIT $2",
            )
            .bind(client_id)
            .bind(limit),
            webhook_from_row,
        )
        .await
    }

    async fn replay_webhook(
        &self,
        client_id: i64,
        id: i64,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        Ok(self.run(sqlx::query(
            "UPDATE webhook_events SET delivered_at = NULL, given_up_at = NULL, attempts = 0,
                 next_attempt_at = $1, created_at = $1, claimed_until = 0
             WHERE id = $2 AND client_id = $3",
        )
        .bind(ts(now))
        .bind(id)
        .bind(client_id)).await? > 0)
    }
}
