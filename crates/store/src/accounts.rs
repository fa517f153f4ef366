//! SQL of person accounts, setup links and sessions. One-time things (a setup link, a TOTP
//! step) are spent by conditional updates, so two requests cannot both use them.
//!
//! Must not know: password hashing, TOTP arithmetic or cookies; it keeps the hashes and sealed
//! secrets it is given.

use crate::rows::{Columns, Db, ts};
use crate::{SqlStore, commit_audited};
use sahih_core::audit::AuditEvent;
use sahih_core::store::StoreResult;
use sahih_core::store::accounts::{
    AccountRecord, AccountRole, AccountStore, NewAccount, SessionRecord, SessionStage,
};
use sqlx::any::AnyRow;
use time::OffsetDateTime;

fn account_from_row(r: &AnyRow) -> StoreResult<AccountRecord> {
    Ok(AccountRecord {
        id: r.col("id")?,
        role: r.kind("role", AccountRole::parse)?,
        official_id: r.col("official_id")?,
        unit: r.col("unit")?,
        email: r.col("email")?,
        nip: r.col("nip")?,
        nik: r.col("nik")?,
        name: r.col("name")?,
        password_hash: r.col("password_hash")?,
        totp_sealed: r.col("totp_sealed")?,
        totp_confirmed: r.flag("totp_confirmed")?,
        totp_last_step: r.col("totp_last_step")?,
        failed_logins: r.col("failed_logins")?,
        locked_until: r.opt_time("locked_until")?,
        disabled: r.flag("disabled")?,
        created_at: r.time("created_at")?,
    })
}

fn session_from_row(r: &AnyRow) -> StoreResult<SessionRecord> {
    Ok(SessionRecord {
        token_sha256: r.col("token_sha256")?,
        account_id: r.col("account_id")?,
        stage: r.kind("stage", SessionStage::parse)?,
        created_at: r.time("created_at")?,
        last_seen_at: r.time("last_seen_at")?,
        expires_at: r.time("expires_at")?,
        ip: r.col("ip")?,
        user_agent: r.col("user_agent")?,
    })
}

impl AccountStore for SqlStore {
    async fn insert_account(&self, a: &NewAccount, event: &AuditEvent) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "INSERT INTO accounts (role, official_id, unit, email, email_lower, nip, name,
                                   password_hash, created_at, nik)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(a.role.as_str())
        .bind(a.official_id)
        .bind(a.unit.as_deref())
        .bind(&a.email)
        .bind(a.email.to_lowercase())
        .bind(a.nip.as_deref())
        .bind(&a.name)
        .bind(a.password_hash.as_deref())
        .bind(ts(OffsetDateTime::now_utc()))
        .bind(a.nik.as_deref())
        .fetch_one(&mut *tx)
        .await
        .db()?;
        let id: i64 = row.col("id")?;
        commit_audited(tx, std::slice::from_ref(event)).await?;
        Ok(id)
    }

    async fn account_by_id(&self, id: i64) -> StoreResult<Option<AccountRecord>> {
        self.one_or_none(
            sqlx::query("SELECT * FROM accounts WHERE id = $1").bind(id),
            account_from_row,
        )
        .await
    }

    async fn account_by_login(&self, login: &str) -> StoreResult<Option<AccountRecord>> {
        self.one_or_none(
            sqlx::query("SELECT * FROM accounts WHERE email_lower = $1 OR nip = $2")
                .bind(login.to_lowercase())
                .bind(login),
            account_from_row,
        )
        .await
    }

    async fn account_of_official(&self, official_id: i64) -> StoreResult<Option<AccountRecord>> {
        self.one_or_none(
            sqlx::query("SELECT * FROM accounts WHERE official_id = $1").bind(official_id),
            account_from_row,
        )
        .await
    }

    async fn set_password(
        &self,
        account_id: i64,
        password_hash: &str,
        event: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(account_id)
            .execute(&mut *tx)
            .await
            .db()?;
        commit_audited(tx, std::slice::from_ref(event)).await
    }

    async fn set_totp_secret(&self, account_id: i64, sealed: &str) -> StoreResult<()> {
        self.run(
            sqlx::query(
                "UPDATE accounts SET totp_sealed = $1 WHERE id = $2
                 AND totp_confirmed = 0 AND totp_sealed IS NULL",
            )
            .bind(sealed)
            .bind(account_id),
        )
        .await?;
        Ok(())
    }

    async fn accept_totp_step(&self, account_id: i64, step: i64) -> StoreResult<bool> {
        let query = sqlx::query(
            "UPDATE accounts SET totp_last_step = $1, totp_confirmed = 1
             WHERE id = $2 AND totp_last_step < $1",
        )
        .bind(step)
        .bind(account_id);
        Ok(self.run(query).await? > 0)
    }

    async fn record_login_failure(
        &self,
        account_id: i64,
        lock_after: i64,
        lock_until: OffsetDateTime,
    ) -> StoreResult<i64> {
        sqlx::query(
            "UPDATE accounts SET failed_logins = failed_logins + 1,
                 locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END
             WHERE id = $3 RETURNING failed_logins",
        )
        .bind(lock_after)
        .bind(ts(lock_until))
        .bind(account_id)
        .fetch_one(&self.pool)
        .await
        .db()?
        .col("failed_logins")
    }

    async fn reset_login_failures(&self, account_id: i64) -> StoreResult<()> {
        self.run(
            sqlx::query("UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = $1")
                .bind(account_id),
        )
        .await?;
        Ok(())
    }

    async fn insert_setup_link(
        &self,
        token_sha256: &str,
        account_id: i64,
        created_at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> StoreResult<()> {
        self.run(
            sqlx::query(
                "INSERT INTO account_setup_links (token_sha256, account_id, created_at, expires_at)
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(token_sha256)
            .bind(account_id)
            .bind(ts(created_at))
            .bind(ts(expires_at)),
        )
        .await?;
        Ok(())
    }

    async fn setup_link(
        &self,
        token_sha256: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<i64>> {
        self.one_or_none(
            sqlx::query(
                "SELECT account_id FROM account_setup_links
                 WHERE token_sha256 = $1 AND used_at IS NULL AND expires_at > $2",
            )
            .bind(token_sha256)
            .bind(ts(now)),
            |r| r.col("account_id"),
        )
        .await
    }

    async fn use_setup_link(
        &self,
        token_sha256: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<i64>> {
        self.one_or_none(
            sqlx::query(
                "UPDATE account_setup_links SET used_at = $1
                 WHERE token_sha256 = $2 AND used_at IS NULL AND expires_at > $1
                 RETURNING account_id",
            )
            .bind(ts(now))
            .bind(token_sha256),
            |r| r.col("account_id"),
        )
        .await
    }

    async fn insert_session(&self, s: &SessionRecord) -> StoreResult<()> {
        self.run(
            sqlx::query(
                "INSERT INTO sessions (token_sha256, account_id, stage, created_at, last_seen_at,
                                       expires_at, ip, user_agent)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&s.token_sha256)
            .bind(s.account_id)
            .bind(s.stage.as_str())
            .bind(ts(s.created_at))
            .bind(ts(s.last_seen_at))
            .bind(ts(s.expires_at))
            .bind(&s.ip)
            .bind(&s.user_agent),
        )
        .await?;
        Ok(())
    }

    async fn live_session(&self, token_sha256: &str) -> StoreResult<Option<SessionRecord>> {
        self.one_or_none(
            sqlx::query("SELECT * FROM sessions WHERE token_sha256 = $1 AND ended_at IS NULL")
                .bind(token_sha256),
            session_from_row,
        )
        .await
    }

    async fn touch_session(&self, token_sha256: &str, now: OffsetDateTime) -> StoreResult<()> {
        self.run(
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_sha256 = $2")
                .bind(ts(now))
                .bind(token_sha256),
        )
        .await?;
        Ok(())
    }

    async fn set_session_stage(&self, token_sha256: &str, stage: SessionStage) -> StoreResult<()> {
        self.run(
            sqlx::query("UPDATE sessions SET stage = $1 WHERE token_sha256 = $2")
                .bind(stage.as_str())
                .bind(token_sha256),
        )
        .await?;
        Ok(())
    }

    async fn end_session(&self, token_sha256: &str, now: OffsetDateTime) -> StoreResult<()> {
        self.run(
            sqlx::query(
                "UPDATE sessions SET ended_at = $1 WHERE token_sha256 = $2 AND ended_at IS NULL",
            )
            .bind(ts(now))
            .bind(token_sha256),
        )
        .await?;
        Ok(())
    }

    async fn end_sessions_of(
        &self,
        account_id: i64,
        keep: Option<&str>,
        now: OffsetDateTime,
    ) -> StoreResult<u64> {
        self.run(
            sqlx::query(
                "UPDATE sessions SET ended_at = $1
                 WHERE account_id = $2 AND ended_at IS NULL AND token_sha256 <> $3",
            )
            .bind(ts(now))
            .bind(account_id)
            .bind(keep.unwrap_or("")),
        )
        .await
    }

    async fn sessions_of(&self, account_id: i64) -> StoreResult<Vec<SessionRecord>> {
        self.all(
            sqlx::query(
                "SELECT * FROM sessions WHERE account_id = $1 AND ended_at IS NULL
                 ORDER BY created_at DESC, token_sha256",
            )
            .bind(account_id),
            session_from_row,
        )
        .await
    }
}
