//! SQL of person accounts, setup links and sessions. One-time things (a setup link, a TOTP
//! step) are spent by conditional updates, so two requests cannot both use them.

use super::{SqlStore, append_in, db, from_ts, stored_kind, ts};
use sahih_core::audit::AuditEvent;
use sahih_core::store::StoreResult;
use sahih_core::store::accounts::{
    AccountRecord, AccountRole, AccountStore, NewAccount, SessionRecord, SessionStage,
};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::OffsetDateTime;

fn account_from_row(r: &AnyRow) -> StoreResult<AccountRecord> {
    let locked: Option<i64> = r.try_get("locked_until").map_err(db)?;
    Ok(AccountRecord {
        id: r.try_get("id").map_err(db)?,
        role: stored_kind(r, "role", AccountRole::parse)?,
        official_id: r.try_get("official_id").map_err(db)?,
        unit: r.try_get("unit").map_err(db)?,
        email: r.try_get("email").map_err(db)?,
        nip: r.try_get("nip").map_err(db)?,
        nik: r.try_get("nik").map_err(db)?,
        name: r.try_get("name").map_err(db)?,
        password_hash: r.try_get("password_hash").map_err(db)?,
        totp_sealed: r.try_get("totp_sealed").map_err(db)?,
        totp_confirmed: r.try_get::<i64, _>("totp_confirmed").map_err(db)? != 0,
        totp_last_step: r.try_get("totp_last_step").map_err(db)?,
        failed_logins: r.try_get("failed_logins").map_err(db)?,
        locked_until: locked.map(from_ts).transpose()?,
        disabled: r.try_get::<i64, _>("disabled").map_err(db)? != 0,
        created_at: from_ts(r.try_get("created_at").map_err(db)?)?,
    })
}

fn session_from_row(r: &AnyRow) -> StoreResult<SessionRecord> {
    Ok(SessionRecord {
        token_sha256: r.try_get("token_sha256").map_err(db)?,
        account_id: r.try_get("account_id").map_err(db)?,
        stage: stored_kind(r, "stage", SessionStage::parse)?,
        created_at: from_ts(r.try_get("created_at").map_err(db)?)?,
        last_seen_at: from_ts(r.try_get("last_seen_at").map_err(db)?)?,
        expires_at: from_ts(r.try_get("expires_at").map_err(db)?)?,
        ip: r.try_get("ip").map_err(db)?,
        user_agent: r.try_get("user_agent").map_err(db)?,
    })
}

impl AccountStore for SqlStore {
    async fn insert_account(&self, a: &NewAccount, event: &AuditEvent) -> StoreResult<i64> {
        let mut tx = self.pool.begin().await.map_err(db)?;
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
        .map_err(db)?;
        let id: i64 = row.try_get("id").map_err(db)?;
        append_in(&mut tx, std::slice::from_ref(event)).await?;
        tx.commit().await.map_err(db)?;
        Ok(id)
    }

    async fn account_by_id(&self, id: i64) -> StoreResult<Option<AccountRecord>> {
        let row = sqlx::query("SELECT * FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(account_from_row).transpose()
    }

    async fn account_by_login(&self, login: &str) -> StoreResult<Option<AccountRecord>> {
        let row = sqlx::query("SELECT * FROM accounts WHERE email_lower = $1 OR nip = $2")
            .bind(login.to_lowercase())
            .bind(login)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(account_from_row).transpose()
    }

    async fn account_of_official(&self, official_id: i64) -> StoreResult<Option<AccountRecord>> {
        let row = sqlx::query("SELECT * FROM accounts WHERE official_id = $1")
            .bind(official_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(account_from_row).transpose()
    }

    async fn set_password(
        &self,
        account_id: i64,
        password_hash: &str,
        event: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(account_id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        append_in(&mut tx, std::slice::from_ref(event)).await?;
        tx.commit().await.map_err(db)
    }

    async fn set_totp_secret(&self, account_id: i64, sealed: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE accounts SET totp_sealed = $1 WHERE id = $2
               AND totp_confirmed = 0 AND totp_sealed IS NULL",
        )
        .bind(sealed)
        .bind(account_id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn accept_totp_step(&self, account_id: i64, step: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE accounts SET totp_last_step = $1, totp_confirmed = 1
             WHERE id = $2 AND totp_last_step < $1",
        )
        .bind(step)
        .bind(account_id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn record_login_failure(
        &self,
        account_id: i64,
        lock_after: i64,
        lock_until: OffsetDateTime,
    ) -> StoreResult<i64> {
        let row = sqlx::query(
            "UPDATE accounts SET failed_logins = failed_logins + 1,
                 locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END
             WHERE id = $3 RETURNING failed_logins",
        )
        .bind(lock_after)
        .bind(ts(lock_until))
        .bind(account_id)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        row.try_get("failed_logins").map_err(db)
    }

    async fn reset_login_failures(&self, account_id: i64) -> StoreResult<()> {
        sqlx::query("UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(account_id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn insert_setup_link(
        &self,
        token_sha256: &str,
        account_id: i64,
        created_at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO account_setup_links (token_sha256, account_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_sha256)
        .bind(account_id)
        .bind(ts(created_at))
        .bind(ts(expires_at))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn setup_link(
        &self,
        token_sha256: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<i64>> {
        let row = sqlx::query(
            "SELECT account_id FROM account_setup_links
             WHERE token_sha256 = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_sha256)
        .bind(ts(now))
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.map(|r| r.try_get("account_id").map_err(db)).transpose()
    }

    async fn use_setup_link(
        &self,
        token_sha256: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<i64>> {
        let row = sqlx::query(
            "UPDATE account_setup_links SET used_at = $1
             WHERE token_sha256 = $2 AND used_at IS NULL AND expires_at > $1
             RETURNING account_id",
        )
        .bind(ts(now))
        .bind(token_sha256)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.map(|r| r.try_get("account_id").map_err(db)).transpose()
    }

    async fn insert_session(&self, s: &SessionRecord) -> StoreResult<()> {
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
        .bind(&s.user_agent)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn live_session(&self, token_sha256: &str) -> StoreResult<Option<SessionRecord>> {
        let row =
            sqlx::query("SELECT * FROM sessions WHERE token_sha256 = $1 AND ended_at IS NULL")
                .bind(token_sha256)
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn touch_session(&self, token_sha256: &str, now: OffsetDateTime) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_sha256 = $2")
            .bind(ts(now))
            .bind(token_sha256)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn set_session_stage(&self, token_sha256: &str, stage: SessionStage) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET stage = $1 WHERE token_sha256 = $2")
            .bind(stage.as_str())
            .bind(token_sha256)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn end_session(&self, token_sha256: &str, now: OffsetDateTime) -> StoreResult<()> {
        sqlx::query(
            "UPDATE sessions SET ended_at = $1 WHERE token_sha256 = $2 AND ended_at IS NULL",
        )
        .bind(ts(now))
        .bind(token_sha256)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn end_sessions_of(
        &self,
        account_id: i64,
        keep: Option<&str>,
        now: OffsetDateTime,
    ) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE sessions SET ended_at = $1
             WHERE account_id = $2 AND ended_at IS NULL AND token_sha256 <> $3",
        )
        .bind(ts(now))
        .bind(account_id)
        .bind(keep.unwrap_or(""))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected())
    }

    async fn sessions_of(&self, account_id: i64) -> StoreResult<Vec<SessionRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM sessions WHERE account_id = $1 AND ended_at IS NULL
             ORDER BY created_at DESC, token_sha256",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(session_from_row).collect()
    }
}
