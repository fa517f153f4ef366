//! The dashboard's counts in SQL (`sahih_core::store::dashboard`): one grouped query per chart,
//! each over an index (signing time, audit action, certificate expiry), so a year of data stays
//! fast.
//!
//! Must not know: how the numbers are drawn.

use crate::rows::{Columns, Db, ts};
use crate::{AnyQuery, SqlStore, commit_audited, official_from_row};
use sahih_core::audit::AuditEvent;
use sahih_core::store::OfficialRecord;
use sahih_core::store::StoreResult;
use sahih_core::store::dashboard::{
    DashboardCounts, DashboardStore, ExpiringCertificate, RefusalReason,
};
use sqlx::any::AnyRow;
use time::OffsetDateTime;

/// Seconds WIB is ahead of UTC: days are counted as people in WIB read them.
const WIB_SECONDS: i64 = 7 * 3600;

impl DashboardStore for SqlStore {
    async fn locked_officials(
        &self,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<(OfficialRecord, OffsetDateTime)>> {
        self.all(
            sqlx::query(
                "SELECT * FROM officials WHERE locked_until IS NOT NULL AND locked_until > $1
                 ORDER BY locked_until LIMIT 200",
            )
            .bind(ts(now)),
            |r| Ok((official_from_row(r)?, r.time("locked_until")?)),
        )
        .await
    }

    async fn never_signed(
        &self,
        issued_before: OffsetDateTime,
    ) -> StoreResult<Vec<OfficialRecord>> {
        self.all(
            sqlx::query(
                "SELECT o.* FROM officials o
                 JOIN certificates c ON c.official_id = o.id
                 WHERE c.status = 'ISSUE' AND c.created_at <= $1 AND c.not_after > $2
                   AND c.id = (SELECT MAX(id) FROM certificates WHERE official_id = o.id)
                   AND NOT EXISTS (SELECT 1 FROM signed_documents d WHERE d.official_id = o.id)
                 ORDER BY c.created_at LIMIT 200",
            )
            .bind(ts(issued_before))
            .bind(ts(OffsetDateTime::now_utc())),
            official_from_row,
        )
        .await
    }

    async fn lift_lockout(&self, official_id: i64, event: &AuditEvent) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE officials SET failed_attempts = 0, locked_until = NULL WHERE id = $1")
            .bind(official_id)
            .execute(&mut *tx)
            .await
            .db()?;
        commit_audited(tx, std::slice::from_ref(event)).await
    }

    async fn dashboard_counts(
        &self,
        since: OffsetDateTime,
        now: OffsetDateTime,
        expiring_until: OffsetDateTime,
    ) -> StoreResult<DashboardCounts> {
        let since_s = ts(since);
        // The charts are independent: their queries run at once, each on its own connection,
        // so the page waits for the slowest rather than for their sum.
        let per_day = self.all(
            sqlx::query(
                "SELECT (signed_at + $2) / 86400 AS k, COUNT(*) AS n FROM signed_documents
                 WHERE signed_at >= $1 GROUP BY (signed_at + $2) / 86400 ORDER BY k",
            )
            .bind(since_s)
            .bind(WIB_SECONDS),
            count_of::<i64>,
        );
        let per_unit = self.all(
            sqlx::query(
                "SELECT o.unit AS k, COUNT(*) AS n FROM signed_documents d
                 JOIN officials o ON o.id = d.official_id
                 WHERE d.signed_at >= $1 GROUP BY o.unit ORDER BY n DESC, k LIMIT 15",
            )
            .bind(since_s),
            count_of::<String>,
        );
        let per_class = self.all(
            sqlx::query(
                "SELECT COALESCE(class, '-') AS k, COUNT(*) AS n FROM signed_documents
                 WHERE signed_at >= $1 GROUP BY COALESCE(class, '-')
                 ORDER BY n DESC, k LIMIT 15",
            )
            .bind(since_s),
            count_of::<String>,
        );
        let refusals = refusal_counts(&self.pool, since_s.saturating_mul(1_000_000));
        // The newest certificate of each official, still in use, expiring in the window.
        let expiring = self.all(
            sqlx::query(
                "SELECT o.name AS name, o.nik AS nik, o.unit AS unit, c.not_after AS not_after
                 FROM certificates c JOIN officials o ON o.id = c.official_id
                 WHERE c.status = 'ISSUE' AND c.not_after >= $1 AND c.not_after <= $2
                   AND c.id = (SELECT MAX(id) FROM certificates WHERE official_id = c.official_id)
                 ORDER BY c.not_after LIMIT 100",
            )
            .bind(ts(now))
            .bind(ts(expiring_until)),
            |r| {
                Ok(ExpiringCertificate {
                    name: r.col("name")?,
                    nik: r.col("nik")?,
                    unit: r.col("unit")?,
                    not_after: r.time("not_after")?,
                })
            },
        );
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

/// One bar of a chart: its key `k` and its count `n`.
fn count_of<K>(r: &AnyRow) -> StoreResult<(K, i64)>
where
    K: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    Ok((r.col("k")?, r.col("n")?))
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
    let count =
        |query: AnyQuery<'static>| async move { query.fetch_one(pool).await.db()?.col::<i64>("n") };
    let by_action = |action: &'static str| sqlx::query(BY_ACTION).bind(since_micros).bind(action);
    let refused = count(by_action("sign.refused")).await?;
    let policy = count(sqlx::query(POLICY).bind(since_micros)).await?;
    let wrong = count(by_action("passphrase.wrong")).await?;
    let lockout = count(by_action("passphrase.lockout")).await?;
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
