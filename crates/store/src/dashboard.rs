//! The dashboard's counts in SQL (`sahih_core::store::dashboard`): one grouped query per chart,
//! each over an index (signing time, audit action, certificate expiry), so a year of data stays
//! fast.
//!
//! Must not know: how the numbers are drawn.

use crate::{SqlStore, append_in, db, from_ts, official_from_row, ts};
use sahih_core::audit::AuditEvent;
use sahih_core::store::OfficialRecord;
use sahih_core::store::StoreResult;
use sahih_core::store::dashboard::{
    DashboardCounts, DashboardStore, ExpiringCertificate, RefusalReason,
};
use sqlx::Row;
use time::OffsetDateTime;

/// Seconds WIB is ahead of UTC: days are counted as people in WIB read them.
const WIB_SECONDS: i64 = 7 * 3600;

impl DashboardStore for SqlStore {
    async fn locked_officials(
        &self,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<(OfficialRecord, OffsetDateTime)>> {
        let rows = sqlx::query(
            "SELECT * FROM officials WHERE locked_until IS NOT NULL AND locked_until > $1
             ORDER BY locked_until LIMIT 200",
        )
        .bind(ts(now))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| {
                let until: i64 = r.try_get("locked_until").map_err(db)?;
                Ok((official_from_row(r)?, from_ts(until)?))
            })
            .collect()
    }

    async fn never_signed(
        &self,
        issued_before: OffsetDateTime,
    ) -> StoreResult<Vec<OfficialRecord>> {
        let rows = sqlx::query(
            "SELECT o.* FROM officials o
             JOIN certificates c ON c.official_id = o.id
             WHERE c.status = 'ISSUE' AND c.created_at <= $1 AND c.not_after > $2
               AND c.id = (SELECT MAX(id) FROM certificates WHERE official_id = o.id)
               AND NOT EXISTS (SELECT 1 FROM signed_documents d WHERE d.official_id = o.id)
             ORDER BY c.created_at LIMIT 200",
        )
        .bind(ts(issued_before))
        .bind(ts(OffsetDateTime::now_utc()))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(official_from_row).collect()
    }

    async fn lift_lockout(&self, official_id: i64, event: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query("UPDATE officials SET failed_attempts = 0, locked_until = NULL WHERE id = $1")
            .bind(official_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        append_in(&mut tx, std::slice::from_ref(event)).await?;
        tx.commit().await.map_err(db)
    }

    async fn dashboard_counts(
        &self,
        since: OffsetDateTime,
        now: OffsetDateTime,
        expiring_until: OffsetDateTime,
    ) -> StoreResult<DashboardCounts> {
        let since_s = ts(since);
        let pool = &self.pool;
        let pairs = |rows: Vec<sqlx::any::AnyRow>| -> StoreResult<Vec<(String, i64)>> {
            rows.iter()
                .map(|r| Ok((r.try_get("k").map_err(db)?, r.try_get("n").map_err(db)?)))
                .collect()
        };
        // The charts are independent: their queries run at once, each on its own connection,
        // so the page waits for the slowest rather than for their sum.
        let per_day = async {
            sqlx::query(
                "SELECT (signed_at + $2) / 86400 AS k, COUNT(*) AS n FROM signed_documents
                 WHERE signed_at >= $1 GROUP BY (signed_at + $2) / 86400 ORDER BY k",
            )
            .bind(since_s)
            .bind(WIB_SECONDS)
            .fetch_all(pool)
            .await
            .map_err(db)?
            .iter()
            .map(|r| Ok((r.try_get("k").map_err(db)?, r.try_get("n").map_err(db)?)))
            .collect::<StoreResult<Vec<(i64, i64)>>>()
        };
        let per_unit = async {
            pairs(
                sqlx::query(
                    "SELECT o.unit AS k, COUNT(*) AS n FROM signed_documents d
                     JOIN officials o ON o.id = d.official_id
                     WHERE d.signed_at >= $1 GROUP BY o.unit ORDER BY n DESC, k LIMIT 15",
                )
                .bind(since_s)
                .fetch_all(pool)
                .await
                .map_err(db)?,
            )
        };
        let per_class = async {
            pairs(
                sqlx::query(
                    "SELECT COALESCE(class, '-') AS k, COUNT(*) AS n FROM signed_documents
                     WHERE signed_at >= $1 GROUP BY COALESCE(class, '-')
                     ORDER BY n DESC, k LIMIT 15",
                )
                .bind(since_s)
                .fetch_all(pool)
                .await
                .map_err(db)?,
            )
        };
        let refusals = refusal_counts(pool, since_s.saturating_mul(1_000_000));
        // The newest certificate of each official, still in use, expiring in the window.
        let expiring = async {
            sqlx::query(
                "SELECT o.name AS name, o.nik AS nik, o.unit AS unit, c.not_after AS not_after
                 FROM certificates c JOIN officials o ON o.id = c.official_id
                 WHERE c.status = 'ISSUE' AND c.not_after >= $1 AND c.not_after <= $2
                   AND c.id = (SELECT MAX(id) FROM certificates WHERE official_id = c.official_id)
                 ORDER BY c.not_after LIMIT 100",
            )
            .bind(ts(now))
            .bind(ts(expiring_until))
            .fetch_all(pool)
            .await
            .map_err(db)?
            .iter()
            .map(|r| {
                Ok(ExpiringCertificate {
                    name: r.try_get("name").map_err(db)?,
                    nik: r.try_get("nik").map_err(db)?,
                    unit: r.try_get("unit").map_err(db)?,
                    not_after: from_ts(r.try_get("not_after").map_err(db)?)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()
        };
        let (per_day, per_unit, per_class, refusals, expiring) =
            tokio::try_join!(per_day, per_unit, per_class, refusals, expiring)?;
        Ok(DashboardCounts {
            per_day,
            per_unit,
            per_class,
            refusals,
            expiring,
        })
    }
}

/// Refusals since `since_micros` by reason.
async fn refusal_counts(
    pool: &sqlx::AnyPool,
    since_micros: i64,
) -> StoreResult<Vec<(RefusalReason, i64)>> {
    // Each count reads one index only: the refusals of each action by time, and the policy
    // refusals from their own partial index (migration v17); the other `sign.refused`
    // entries are the certificate refusals.
    const BY_ACTION: &str =
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = $2 AND at_micros >= $1";
    const POLICY: &str = "SELECT COUNT(*) AS n FROM audit_log WHERE at_micros >= $1
           AND action = 'sign.refused' AND detail LIKE 'class=%'";
    let mut counts = Vec::new();
    for (sql, action) in [
        (BY_ACTION, "sign.refused"),
        (POLICY, ""),
        (BY_ACTION, "passphrase.wrong"),
        (BY_ACTION, "passphrase.lockout"),
    ] {
        let mut q = sqlx::query(sql).bind(since_micros);
        if !action.is_empty() {
            q = q.bind(action);
        }
        let row = q.fetch_one(pool).await.map_err(db)?;
        counts.push(row.try_get::<i64, _>("n").map_err(db)?);
    }
    let [refused, policy, wrong, lockout] = counts[..] else {
        return Err(sahih_core::store::StoreError::Corrupt(
            "refusal counts".into(),
        ));
    };
    let mut refusals: Vec<(RefusalReason, i64)> = vec![
        (RefusalReason::Policy, policy),
        (RefusalReason::Certificate, refused - policy),
        (RefusalReason::WrongPassphrase, wrong),
        (RefusalReason::Lockout, lockout),
    ];
    refusals.retain(|(_, n)| *n > 0);
    refusals.sort_by_key(|r| std::cmp::Reverse(r.1));
    Ok(refusals)
}
