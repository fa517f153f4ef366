//! SQL of the registration authority: requests, evidence records, decisions and activation
//! links. Each change is one transaction together with its audit events; decisions and
//! activations are conditional updates, so two verifikators or two clicks cannot both win.

use super::{SqlStore, append_in, db, from_ts, insert_certificate_on, push_outbox_on, ts};
use sahih_core::audit::AuditEvent;
use sahih_core::ra::{
    Activation, ActivationLink, Decision, Evidence, EvidenceKind, MediaType, OfficialChange,
    RaRequest, RaStore, RequestKind, RequestState,
};
use sahih_core::store::{NewOfficial, StoreError, StoreResult};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

fn request_from_row(r: &AnyRow) -> StoreResult<RaRequest> {
    let kind: String = r.try_get("kind").map_err(db)?;
    let state: String = r.try_get("state").map_err(db)?;
    let decided_at: Option<i64> = r.try_get("decided_at").map_err(db)?;
    Ok(RaRequest {
        id: r.try_get("id").map_err(db)?,
        submission_id: r.try_get("submission_id").map_err(db)?,
        kind: RequestKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("request kind {kind}")))?,
        official: NewOfficial {
            nik: r.try_get("nik").map_err(db)?,
            nip: r.try_get("nip").map_err(db)?,
            name: r.try_get("name").map_err(db)?,
            email: r.try_get("email").map_err(db)?,
            position: r.try_get("position").map_err(db)?,
            unit: r.try_get("unit").map_err(db)?,
        },
        state: RequestState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("request state {state}")))?,
        official_id: r.try_get("official_id").map_err(db)?,
        submitted_by: r.try_get("submitted_by").map_err(db)?,
        submitted_unit: r.try_get("submitted_unit").map_err(db)?,
        submitted_at: from_ts(r.try_get("submitted_at").map_err(db)?)?,
        decided_by: r.try_get("decided_by").map_err(db)?,
        decided_at: decided_at.map(from_ts).transpose()?,
        reason: r.try_get("reason").map_err(db)?,
    })
}

fn evidence_from_row(r: &AnyRow) -> StoreResult<Evidence> {
    let kind: String = r.try_get("kind").map_err(db)?;
    let media: String = r.try_get("media_type").map_err(db)?;
    Ok(Evidence {
        submission_id: r.try_get("submission_id").map_err(db)?,
        request_id: r.try_get("request_id").map_err(db)?,
        kind: EvidenceKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("evidence kind {kind}")))?,
        blob_key: r.try_get("blob_key").map_err(db)?,
        sha256_hex: r.try_get("sha256").map_err(db)?,
        media_type: match media.as_str() {
            "application/pdf" => MediaType::Pdf,
            "image/jpeg" => MediaType::Jpeg,
            "image/png" => MediaType::Png,
            other => return Err(StoreError::Corrupt(format!("media type {other}"))),
        },
        size: r.try_get("size").map_err(db)?,
        file_name: r.try_get("file_name").map_err(db)?,
    })
}

async fn insert_evidence(conn: &mut sqlx::AnyConnection, evidence: &[Evidence]) -> StoreResult<()> {
    for e in evidence {
        sqlx::query(
            "INSERT INTO ra_evidence (submission_id, request_id, kind, blob_key, sha256, media_type, size, file_name)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&e.submission_id)
        .bind(&e.request_id)
        .bind(e.kind.as_str())
        .bind(&e.blob_key)
        .bind(&e.sha256_hex)
        .bind(e.media_type.as_str())
        .bind(e.size)
        .bind(&e.file_name)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    }
    Ok(())
}

async fn insert_link(
    conn: &mut sqlx::AnyConnection,
    token_sha256: &str,
    request_id: &str,
    official_id: i64,
    at: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO activation_links (token_sha256, request_id, official_id, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_sha256)
    .bind(request_id)
    .bind(official_id)
    .bind(ts(at))
    .bind(ts(expires_at))
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok(())
}

impl RaStore for SqlStore {
    async fn ra_submit(
        &self,
        submission_id: &str,
        kind: RequestKind,
        submitted_by: &str,
        requests: &[(RaRequest, OfficialChange)],
        evidence: &[Evidence],
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        let now = ts(OffsetDateTime::now_utc());
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query(
            "INSERT INTO ra_submissions (id, kind, submitted_by, submitted_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(submission_id)
        .bind(kind.as_str())
        .bind(submitted_by)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        for (request, change) in requests {
            let official_id: i64 = match change {
                OfficialChange::Insert(o, stage) => sqlx::query(
                    "INSERT INTO officials (nik, nip, name, email, position, unit, created_at, ra_status)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                )
                .bind(&o.nik)
                .bind(&o.nip)
                .bind(&o.name)
                .bind(&o.email)
                .bind(&o.position)
                .bind(&o.unit)
                .bind(now)
                .bind(stage.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(db)?
                .try_get("id")
                .map_err(db)?,
                OfficialChange::Stage(id, stage) => {
                    sqlx::query("UPDATE officials SET ra_status = $1 WHERE id = $2")
                        .bind(stage.as_str())
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    *id
                }
            };
            // One open request per official at a time.
            let open: i64 = sqlx::query(
                "SELECT count(*) AS n FROM ra_requests WHERE nik = $1 AND state IN ('NEW', 'WAITING_FOR_VERIFICATION', 'APPROVED')",
            )
            .bind(&request.official.nik)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?
            .try_get("n")
            .map_err(db)?;
            if open > 0 {
                return Err(StoreError::Conflict(format!(
                    "an open request for NIK {} exists",
                    request.official.nik
                )));
            }
            let o = &request.official;
            sqlx::query(
                "INSERT INTO ra_requests (id, submission_id, kind, nik, nip, name, email, position, unit, state, official_id, submitted_by, submitted_at, submitted_unit)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(&request.id)
            .bind(submission_id)
            .bind(request.kind.as_str())
            .bind(&o.nik)
            .bind(&o.nip)
            .bind(&o.name)
            .bind(&o.email)
            .bind(&o.position)
            .bind(&o.unit)
            .bind(request.state.as_str())
            .bind(official_id)
            .bind(submitted_by)
            .bind(now)
            .bind(request.submitted_unit.as_deref())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        insert_evidence(&mut tx, evidence).await?;
        append_in(&mut tx, events).await?;
        tx.commit().await.map_err(db)
    }

    async fn ra_request(&self, id: &str) -> StoreResult<Option<RaRequest>> {
        let row = sqlx::query("SELECT * FROM ra_requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(request_from_row).transpose()
    }

    async fn ra_requests(
        &self,
        state: Option<RequestState>,
        unit: Option<&str>,
    ) -> StoreResult<Vec<RaRequest>> {
        let rows = sqlx::query(
            "SELECT * FROM ra_requests
             WHERE ($1 = '' OR state = $1)
               AND ($2 = '' OR lower(trim(submitted_unit)) = lower(trim($2)))
             ORDER BY submitted_at DESC, id LIMIT 1000",
        )
        .bind(state.map(|s| s.as_str()).unwrap_or(""))
        .bind(unit.unwrap_or(""))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(request_from_row).collect()
    }

    async fn ra_evidence(
        &self,
        submission_id: &str,
        request_id: &str,
    ) -> StoreResult<Vec<Evidence>> {
        let rows = sqlx::query(
            "SELECT * FROM ra_evidence WHERE submission_id = $1 AND (request_id IS NULL OR request_id = $2) ORDER BY id",
        )
        .bind(submission_id)
        .bind(request_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(evidence_from_row).collect()
    }

    async fn ra_add_evidence(
        &self,
        request_id: &str,
        evidence: &[Evidence],
        submit: Option<i64>,
        events: &[AuditEvent],
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let new_state = if submit.is_some() {
            "WAITING_FOR_VERIFICATION"
        } else {
            "NEW"
        };
        let done = sqlx::query("UPDATE ra_requests SET state = $1 WHERE id = $2 AND state = 'NEW'")
            .bind(new_state)
            .bind(request_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(official_id) = submit.filter(|id| *id > 0) {
            sqlx::query(
                "UPDATE officials SET ra_status = 'WAITING_FOR_VERIFICATION' WHERE id = $1",
            )
            .bind(official_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        insert_evidence(&mut tx, evidence).await?;
        append_in(&mut tx, events).await?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn ra_decide(&self, d: &Decision, events: &[AuditEvent]) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let done = sqlx::query(
            "UPDATE ra_requests SET state = $1, decided_by = $2, decided_at = $3, reason = $4
             WHERE id = $5 AND state = $6",
        )
        .bind(d.new_state.as_str())
        .bind(&d.decided_by)
        .bind(ts(d.at))
        .bind(&d.reason)
        .bind(&d.request_id)
        .bind(d.expected_state.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("UPDATE officials SET ra_status = $1 WHERE id = $2")
            .bind(d.official_stage.map(|s| s.as_str()))
            .bind(d.official_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        if let Some(reason) = &d.revoke {
            sqlx::query(
                "UPDATE certificates SET status = 'REVOKE', revoked_at = $1, revocation_reason = $2
                 WHERE official_id = $3 AND status = 'ISSUE'",
            )
            .bind(ts(d.at))
            .bind(reason)
            .bind(d.official_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        if let Some((token_sha256, expires)) = &d.link {
            insert_link(
                &mut tx,
                token_sha256,
                &d.request_id,
                d.official_id,
                d.at,
                *expires,
            )
            .await?;
        }
        if let Some(m) = &d.message {
            push_outbox_on(&mut tx, m, d.at).await?;
        }
        append_in(&mut tx, events).await?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn activation_link(
        &self,
        token_sha256: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<ActivationLink>> {
        let row = sqlx::query(
            "SELECT request_id, official_id, expires_at FROM activation_links
             WHERE token_sha256 = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_sha256)
        .bind(ts(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.map(|r| {
            Ok(ActivationLink {
                request_id: r.try_get("request_id").map_err(db)?,
                official_id: r.try_get("official_id").map_err(db)?,
                expires_at: from_ts(r.try_get("expires_at").map_err(db)?)?,
            })
        })
        .transpose()
    }

    async fn ra_close_open(
        &self,
        official_id: i64,
        reason: &str,
        at: OffsetDateTime,
        events: &[AuditEvent],
    ) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let closed = sqlx::query(
            "UPDATE ra_requests SET state = 'REJECTED', decided_by = 'system', decided_at = $1, reason = $2
             WHERE official_id = $3 AND state IN ('NEW', 'WAITING_FOR_VERIFICATION', 'APPROVED')",
        )
        .bind(ts(at))
        .bind(reason)
        .bind(official_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
        sqlx::query(
            "UPDATE activation_links SET used_at = $1 WHERE official_id = $2 AND used_at IS NULL",
        )
        .bind(ts(at))
        .bind(official_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(
            "UPDATE officials SET ra_status = NULL WHERE id = $1 AND ra_status IN ('RENEW', 'NO_CERTIFICATE')",
        )
        .bind(official_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if closed > 0 {
            append_in(&mut tx, events).await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(closed)
    }

    async fn ra_relink(
        &self,
        request_id: &str,
        official_id: i64,
        link: (&str, OffsetDateTime),
        m: &sahih_core::store::OutboxMessage,
        events: &[AuditEvent],
    ) -> StoreResult<bool> {
        let now = OffsetDateTime::now_utc();
        let mut tx = self.pool.begin().await.map_err(db)?;
        let approved: i64 = sqlx::query(
            "SELECT count(*) AS n FROM ra_requests WHERE id = $1 AND state = 'APPROVED'",
        )
        .bind(request_id)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?
        .try_get("n")
        .map_err(db)?;
        if approved == 0 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE activation_links SET used_at = $1 WHERE request_id = $2 AND used_at IS NULL",
        )
        .bind(ts(now))
        .bind(request_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        insert_link(&mut tx, link.0, request_id, official_id, now, link.1).await?;
        push_outbox_on(&mut tx, m, now).await?;
        append_in(&mut tx, events).await?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn ra_activate(&self, a: &Activation, events: &[AuditEvent]) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        // The link is used exactly once, whichever process gets there first.
        let used = sqlx::query(
            "UPDATE activation_links SET used_at = $1
             WHERE token_sha256 = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(ts(a.at))
        .bind(&a.token_sha256)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if used.rows_affected() == 0 {
            return Ok(false);
        }
        let done = sqlx::query(
            "UPDATE ra_requests SET state = 'ACTIVATED' WHERE id = $1 AND state = 'APPROVED'",
        )
        .bind(&a.request_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(reason) = &a.revoke_others {
            sqlx::query(
                "UPDATE certificates SET status = 'REVOKE', revoked_at = $1, revocation_reason = $2
                 WHERE official_id = $3 AND status = 'ISSUE'",
            )
            .bind(ts(a.at))
            .bind(reason)
            .bind(a.official_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        let o = &a.identity;
        let moved = sqlx::query(
            "UPDATE officials SET nip = $1, name = $2, email = $3, position = $4, unit = $5, ra_status = NULL,
                    failed_attempts = 0, locked_until = NULL
             WHERE id = $6 AND ra_status IN ('NO_CERTIFICATE', 'RENEW')",
        )
        .bind(&o.nip)
        .bind(&o.name)
        .bind(&o.email)
        .bind(&o.position)
        .bind(&o.unit)
        .bind(a.official_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if moved.rows_affected() == 0 {
            // Revoked or suspended meanwhile: the renewal was closed.
            return Ok(false);
        }
        let c = &a.certificate;
        insert_certificate_on(&mut tx, a.official_id, c, a.at).await?;
        append_in(&mut tx, events).await?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }
}
