//! SQL of the registration authority: requests, evidence records, decisions and activation
//! links. Each change is one transaction together with its audit events; decisions and
//! activations are conditional updates, so two verifikators or two clicks cannot both win.
//!
//! Must not know: which transitions the RA allows (decided in `sahih_core::ra`; each arrives
//! here as a conditional UPDATE), or the evidence bytes (in the blob store; only their keys and
//! hashes are here).

use crate::rows::{Columns, Db, ts};
use crate::{
    SqlStore, append_in, bind_identity, commit_audited, identity_from_row, insert_certificate_on,
    push_outbox_on, revoke_issued_on,
};
use sahih_core::audit::AuditEvent;
use sahih_core::ra::{
    Activation, ActivationLink, Decision, Evidence, EvidenceKind, MediaType, OfficialChange,
    RaRequest, RaStore, RequestKind, RequestState,
};
use sahih_core::store::{NewOfficial, StoreError, StoreResult};
use sqlx::any::AnyRow;
use time::OffsetDateTime;

fn request_from_row(r: &AnyRow) -> StoreResult<RaRequest> {
    Ok(RaRequest {
        id: r.col("id")?,
        submission_id: r.col("submission_id")?,
        kind: r.kind("kind", RequestKind::parse)?,
        official: identity_from_row(r)?,
        state: r.kind("state", RequestState::parse)?,
        official_id: r.col("official_id")?,
        submitted_by: r.col("submitted_by")?,
        submitted_unit: r.col("submitted_unit")?,
        submitted_at: r.time("submitted_at")?,
        decided_by: r.col("decided_by")?,
        decided_at: r.opt_time("decided_at")?,
        reason: r.col("reason")?,
    })
}

fn evidence_from_row(r: &AnyRow) -> StoreResult<Evidence> {
    Ok(Evidence {
        submission_id: r.col("submission_id")?,
        request_id: r.col("request_id")?,
        kind: r.kind("kind", EvidenceKind::parse)?,
        blob_key: r.col("blob_key")?,
        sha256_hex: r.col("sha256")?,
        media_type: r.kind("media_type", |m| {
            [MediaType::Pdf, MediaType::Jpeg, MediaType::Png]
                .into_iter()
                .find(|t| t.as_str() == m)
        })?,
        size: r.col("size")?,
        file_name: r.col("file_name")?,
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
        .db()?;
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
    .db()?;
    Ok(())
}

/// Applies how a request changes its official; the official's id, `None` while the request's
/// identity is incomplete ([`OfficialChange::Pending`]).
async fn official_change_on(
    conn: &mut sqlx::AnyConnection,
    change: &OfficialChange,
    now: i64,
) -> StoreResult<Option<i64>> {
    Ok(match change {
        OfficialChange::Insert(o, stage) => Some(
            bind_identity(
                sqlx::query(
                    "INSERT INTO officials (nik, nip, name, email, position, unit, created_at,
                                            ra_status)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                ),
                o,
            )
            .bind(now)
            .bind(stage.as_str())
            .fetch_one(&mut *conn)
            .await
            .db()?
            .col("id")?,
        ),
        OfficialChange::Stage(id, stage) => {
            sqlx::query("UPDATE officials SET ra_status = $1 WHERE id = $2")
                .bind(stage.as_str())
                .bind(id)
                .execute(&mut *conn)
                .await
                .db()?;
            Some(*id)
        }
        OfficialChange::Pending => None,
    })
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
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO ra_submissions (id, kind, submitted_by, submitted_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(submission_id)
        .bind(kind.as_str())
        .bind(submitted_by)
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?;
        for (request, change) in requests {
            let official_id = official_change_on(&mut tx, change, now).await?;
            // One open request per official at a time.
            let open: i64 = sqlx::query(
                "SELECT count(*) AS n FROM ra_requests
                 WHERE nik = $1 AND state IN ('NEW', 'WAITING_FOR_VERIFICATION', 'APPROVED')",
            )
            .bind(&request.official.nik)
            .fetch_one(&mut *tx)
            .await
            .db()?
            .col("n")?;
            if open > 0 {
                return Err(StoreError::Conflict(format!(
                    "an open request for NIK {} exists",
                    request.official.nik
                )));
            }
            let head = sqlx::query(
                "INSERT INTO ra_requests (id, submission_id, kind, nik, nip, name, email, position,
                                          unit, state, official_id, submitted_by, submitted_at,
                                          submitted_unit)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(&request.id)
            .bind(submission_id)
            .bind(request.kind.as_str());
            bind_identity(head, &request.official)
                .bind(request.state.as_str())
                .bind(official_id)
                .bind(submitted_by)
                .bind(now)
                .bind(request.submitted_unit.as_deref())
                .execute(&mut *tx)
                .await
                .db()?;
        }
        insert_evidence(&mut tx, evidence).await?;
        commit_audited(tx, events).await
    }

    async fn ra_request(&self, id: &str) -> StoreResult<Option<RaRequest>> {
        self.one_or_none(
            sqlx::query("SELECT * FROM ra_requests WHERE id = $1").bind(id),
            request_from_row,
        )
        .await
    }

    async fn ra_requests(
        &self,
        state: Option<RequestState>,
        unit: Option<&str>,
    ) -> StoreResult<Vec<RaRequest>> {
        self.all(
            sqlx::query(
                "SELECT * FROM ra_requests
                 WHERE ($1 = '' OR state = $1)
                   AND ($2 = '' OR lower(trim(submitted_unit)) = lower(trim($2)))
                 ORDER BY submitted_at DESC, id LIMIT 1000",
            )
            .bind(state.map(|s| s.as_str()).unwrap_or(""))
            .bind(unit.unwrap_or("")),
            request_from_row,
        )
        .await
    }

    async fn ra_evidence(
        &self,
        submission_id: &str,
        request_id: &str,
    ) -> StoreResult<Vec<Evidence>> {
        self.all(
            sqlx::query(
                "SELECT * FROM ra_evidence
                 WHERE submission_id = $1 AND (request_id IS NULL OR request_id = $2) ORDER BY id",
            )
            .bind(submission_id)
            .bind(request_id),
            evidence_from_row,
        )
        .await
    }

    async fn ra_add_evidence(
        &self,
        request_id: &str,
        evidence: &[Evidence],
        submit: Option<i64>,
        events: &[AuditEvent],
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
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
            .db()?;
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
            .db()?;
        }
        insert_evidence(&mut tx, evidence).await?;
        commit_audited(tx, events).await?;
        Ok(true)
    }

    async fn ra_complete_identity(
        &self,
        request_id: &str,
        identity: &NewOfficial,
        submitted_unit: Option<&str>,
        change: Option<&OfficialChange>,
        state: RequestState,
        events: &[AuditEvent],
    ) -> StoreResult<bool> {
        let now = ts(OffsetDateTime::now_utc());
        let mut tx = self.begin().await?;
        let official_id = match change {
            Some(c) => official_change_on(&mut tx, c, now).await?,
            None => None,
        };
        // Conditional: only a request still NEW and without an official is completed, so two
        // operators completing at once cannot both record an official. The unique index on
        // open requests refuses a NIK that already has one (a Conflict).
        let head = sqlx::query(
            "UPDATE ra_requests SET nik = $1, nip = $2, name = $3, email = $4, position = $5,
                                    unit = $6, submitted_unit = $7, official_id = $8, state = $9
             WHERE id = $10 AND state = 'NEW' AND official_id IS NULL",
        );
        let done = bind_identity(head, identity)
            .bind(submitted_unit)
            .bind(official_id)
            .bind(state.as_str())
            .bind(request_id)
            .execute(&mut *tx)
            .await
            .db()?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        commit_audited(tx, events).await?;
        Ok(true)
    }

    async fn ra_decide(&self, d: &Decision, events: &[AuditEvent]) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
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
        .db()?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        // A request whose identity was never completed has no official to change.
        if let Some(official_id) = d.official_id {
            sqlx::query("UPDATE officials SET ra_status = $1 WHERE id = $2")
                .bind(d.official_stage.map(|s| s.as_str()))
                .bind(official_id)
                .execute(&mut *tx)
                .await
                .db()?;
            if let Some(reason) = &d.revoke {
                revoke_issued_on(&mut tx, official_id, d.at, reason).await?;
            }
            if let Some((token_sha256, expires)) = &d.link {
                insert_link(
                    &mut tx,
                    token_sha256,
                    &d.request_id,
                    official_id,
                    d.at,
                    *expires,
                )
                .await?;
            }
        }
        if let Some(m) = &d.message {
            push_outbox_on(&mut tx, m, d.at).await?;
        }
        commit_audited(tx, events).await?;
        Ok(true)
    }

    async fn activation_link(
        &self,
        token_sha256: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<ActivationLink>> {
        self.one_or_none(
            sqlx::query(
                "SELECT request_id, official_id, expires_at FROM activation_links
                 WHERE token_sha256 = $1 AND used_at IS NULL AND expires_at > $2",
            )
            .bind(token_sha256)
            .bind(ts(now)),
            |r| {
                Ok(ActivationLink {
                    request_id: r.col("request_id")?,
                    official_id: r.col("official_id")?,
                    expires_at: r.time("expires_at")?,
                })
            },
        )
        .await
    }

    async fn ra_close_open(
        &self,
        official_id: i64,
        reason: &str,
        at: OffsetDateTime,
        events: &[AuditEvent],
    ) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let closed = sqlx::query(
            "UPDATE ra_requests SET state = 'REJECTED', decided_by = 'system', decided_at = $1, reason = $2
             WHERE official_id = $3 AND state IN ('NEW', 'WAITING_FOR_VERIFICATION', 'APPROVED')",
        )
        .bind(ts(at))
        .bind(reason)
        .bind(official_id)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
        sqlx::query(
            "UPDATE activation_links SET used_at = $1 WHERE official_id = $2 AND used_at IS NULL",
        )
        .bind(ts(at))
        .bind(official_id)
        .execute(&mut *tx)
        .await
        .db()?;
        sqlx::query(
            "UPDATE officials SET ra_status = NULL WHERE id = $1 AND ra_status IN ('RENEW', 'NO_CERTIFICATE')",
        )
        .bind(official_id)
        .execute(&mut *tx)
        .await
        .db()?;
        if closed > 0 {
            append_in(&mut tx, events).await?;
        }
        tx.commit().await.db()?;
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
        let mut tx = self.begin().await?;
        let approved: i64 = sqlx::query(
            "SELECT count(*) AS n FROM ra_requests WHERE id = $1 AND state = 'APPROVED'",
        )
        .bind(request_id)
        .fetch_one(&mut *tx)
        .await
        .db()?
        .col("n")?;
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
        .db()?;
        insert_link(&mut tx, link.0, request_id, official_id, now, link.1).await?;
        push_outbox_on(&mut tx, m, now).await?;
        commit_audited(tx, events).await?;
        Ok(true)
    }

    async fn ra_activate(&self, a: &Activation, events: &[AuditEvent]) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        // The link is used exactly once, whichever process gets there first.
        let used = sqlx::query(
            "UPDATE activation_links SET used_at = $1
             WHERE token_sha256 = $2 AND used_at IS NULL AND expires_at > $1",
        )
        .bind(ts(a.at))
        .bind(&a.token_sha256)
        .execute(&mut *tx)
        .await
        .db()?;
        if used.rows_affected() == 0 {
            return Ok(false);
        }
        let done = sqlx::query(
            "UPDATE ra_requests SET state = 'ACTIVATED' WHERE id = $1 AND state = 'APPROVED'",
        )
        .bind(&a.request_id)
        .execute(&mut *tx)
        .await
        .db()?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if let Some(reason) = &a.revoke_others {
            revoke_issued_on(&mut tx, a.official_id, a.at, reason).await?;
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
        .db()?;
        if moved.rows_affected() == 0 {
            // Revoked or suspended meanwhile: the renewal was closed.
            return Ok(false);
        }
        let c = &a.certificate;
        insert_certificate_on(&mut tx, a.official_id, c, a.at).await?;
        commit_audited(tx, events).await?;
        Ok(true)
    }
}
