//! sahih-store: storage implementations of [`sahih_core::store::Store`].
//!
//! Owns: SQL (schema migrations, queries, transactions). SQLite is the embedded default;
//! PostgreSQL comes with the server work.
//!
//! Must not know: cryptography, PDF, or how results are shown. It stores sealed keys as opaque
//! text and never sees a passphrase.

use sahih_core::store::{
    CaRecord, CertStatus, CertificateRecord, LockState, NewCertificate, NewOfficial,
    OfficialRecord, RevokedEntry, ServiceKeyRecord, SignedDocumentRecord, Store, StoreError,
    StoreResult,
};
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;
use time::OffsetDateTime;

const MIGRATIONS: [&str; 2] = [
    include_str!("../migrations/sqlite/0001_init.sql"),
    include_str!("../migrations/sqlite/0002_trust_services.sql"),
];

fn db(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(d.message().to_string())
        }
        _ => StoreError::Database(e.to_string()),
    }
}

fn ts(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

fn from_ts(v: i64) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// SQLite-backed store (WAL mode, busy timeout so several processes can share the file).
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (and creates, when `create`) the database at `path` and applies migrations.
    pub async fn open(path: &Path, create: bool) -> StoreResult<Self> {
        let url = format!("sqlite://{}", path.display());
        let options = SqliteConnectOptions::from_str(&url)
            .map_err(db)?
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(db)?;
        // Idempotent DDL (IF NOT EXISTS), applied in order on every open.
        for migration in MIGRATIONS {
            sqlx::raw_sql(migration).execute(&pool).await.map_err(db)?;
        }
        Ok(Self { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn ca_from_row(r: &sqlx::sqlite::SqliteRow) -> StoreResult<CaRecord> {
    Ok(CaRecord {
        id: r.try_get("id").map_err(db)?,
        kind: r.try_get("kind").map_err(db)?,
        generation: r.try_get("generation").map_err(db)?,
        cert_der: r.try_get("cert_der").map_err(db)?,
        sealed_key: r.try_get("sealed_key").map_err(db)?,
        active: r.try_get::<i64, _>("active").map_err(db)? != 0,
    })
}

fn cert_from_row(r: &sqlx::sqlite::SqliteRow) -> StoreResult<CertificateRecord> {
    let status: String = r.try_get("status").map_err(db)?;
    let revoked_at: Option<i64> = r.try_get("revoked_at").map_err(db)?;
    Ok(CertificateRecord {
        id: r.try_get("id").map_err(db)?,
        official_id: r.try_get("official_id").map_err(db)?,
        issuer_ca_id: r.try_get("issuer_ca_id").map_err(db)?,
        serial_hex: r.try_get("serial_hex").map_err(db)?,
        cert_der: r.try_get("cert_der").map_err(db)?,
        sealed_key: r.try_get("sealed_key").map_err(db)?,
        key_algorithm: r.try_get("key_algorithm").map_err(db)?,
        status: CertStatus::parse(&status),
        revoked_at: revoked_at.map(from_ts).transpose()?,
        revocation_reason: r.try_get("revocation_reason").map_err(db)?,
        not_after: from_ts(r.try_get("not_after").map_err(db)?)?,
    })
}

type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// In one transaction: deactivate the current record(s), insert the new active one, return its
/// id (`insert` must end with `RETURNING id`). Readers never see two active records, or none.
async fn replace_active(
    pool: &SqlitePool,
    deactivate: SqliteQuery<'_>,
    insert: SqliteQuery<'_>,
) -> StoreResult<i64> {
    let mut tx = pool.begin().await.map_err(db)?;
    deactivate.execute(&mut *tx).await.map_err(db)?;
    let id = insert
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?
        .try_get::<i64, _>("id")
        .map_err(db)?;
    tx.commit().await.map_err(db)?;
    Ok(id)
}

impl Store for SqliteStore {
    async fn insert_ca(
        &self,
        kind: &str,
        generation: i64,
        cert_der: &[u8],
        sealed_key: &str,
    ) -> StoreResult<i64> {
        replace_active(
            &self.pool,
            sqlx::query("UPDATE ca SET active = 0 WHERE kind = ?").bind(kind),
            sqlx::query(
                "INSERT INTO ca (kind, generation, cert_der, sealed_key, active, created_at) VALUES (?, ?, ?, ?, 1, ?) RETURNING id",
            )
            .bind(kind)
            .bind(generation)
            .bind(cert_der)
            .bind(sealed_key)
            .bind(ts(OffsetDateTime::now_utc())),
        )
        .await
    }

    async fn active_ca(&self, kind: &str) -> StoreResult<Option<CaRecord>> {
        let row =
            sqlx::query("SELECT * FROM ca WHERE kind = ? AND active = 1 ORDER BY id DESC LIMIT 1")
                .bind(kind)
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?;
        row.as_ref().map(ca_from_row).transpose()
    }

    async fn all_ca(&self) -> StoreResult<Vec<CaRecord>> {
        let rows = sqlx::query("SELECT * FROM ca ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(ca_from_row).collect()
    }

    async fn insert_official(&self, o: &NewOfficial) -> StoreResult<i64> {
        let row = sqlx::query(
            "INSERT INTO officials (nik, nip, name, email, position, unit, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&o.nik)
        .bind(&o.nip)
        .bind(&o.name)
        .bind(&o.email)
        .bind(&o.position)
        .bind(&o.unit)
        .bind(ts(OffsetDateTime::now_utc()))
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        row.try_get("id").map_err(db)
    }

    async fn official_by_nik(&self, nik: &str) -> StoreResult<Option<OfficialRecord>> {
        let row = sqlx::query(
            "SELECT id, nik, nip, name, email, position, unit FROM officials WHERE nik = ?",
        )
        .bind(nik)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.map(|r| {
            Ok(OfficialRecord {
                id: r.try_get("id").map_err(db)?,
                nik: r.try_get("nik").map_err(db)?,
                nip: r.try_get("nip").map_err(db)?,
                name: r.try_get("name").map_err(db)?,
                email: r.try_get("email").map_err(db)?,
                position: r.try_get("position").map_err(db)?,
                unit: r.try_get("unit").map_err(db)?,
            })
        })
        .transpose()
    }

    async fn insert_certificate(&self, c: &NewCertificate) -> StoreResult<i64> {
        let row = sqlx::query(
            "INSERT INTO certificates (official_id, issuer_ca_id, serial_hex, cert_der, sealed_key, key_algorithm, status, not_before, not_after, created_at)
             VALUES (?, ?, ?, ?, ?, ?, 'ISSUE', ?, ?, ?) RETURNING id",
        )
        .bind(c.official_id)
        .bind(c.issuer_ca_id)
        .bind(&c.serial_hex)
        .bind(&c.cert_der)
        .bind(&c.sealed_key)
        .bind(&c.key_algorithm)
        .bind(ts(c.not_before))
        .bind(ts(c.not_after))
        .bind(ts(OffsetDateTime::now_utc()))
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        row.try_get("id").map_err(db)
    }

    async fn latest_certificate(&self, official_id: i64) -> StoreResult<Option<CertificateRecord>> {
        let row = sqlx::query(
            "SELECT * FROM certificates WHERE official_id = ? ORDER BY id DESC LIMIT 1",
        )
        .bind(official_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.as_ref().map(cert_from_row).transpose()
    }

    async fn revoke_certificates(
        &self,
        official_id: i64,
        at: OffsetDateTime,
        reason: &str,
    ) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE certificates SET status = 'REVOKE', revoked_at = ?, revocation_reason = ? WHERE official_id = ? AND status = 'ISSUE'",
        )
        .bind(ts(at))
        .bind(reason)
        .bind(official_id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected())
    }

    async fn revoked_certificates(&self) -> StoreResult<Vec<RevokedEntry>> {
        let rows = sqlx::query(
            "SELECT c.serial_hex, c.revoked_at, c.revocation_reason, ca.cert_der AS issuer_der
             FROM certificates c JOIN ca ON ca.id = c.issuer_ca_id WHERE c.status = 'REVOKE'",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(RevokedEntry {
                    issuer_cert_der: r.try_get("issuer_der").map_err(db)?,
                    serial_hex: r.try_get("serial_hex").map_err(db)?,
                    revoked_at: from_ts(
                        r.try_get::<Option<i64>, _>("revoked_at")
                            .map_err(db)?
                            .unwrap_or(0),
                    )?,
                    reason: r.try_get("revocation_reason").map_err(db)?,
                })
            })
            .collect()
    }

    async fn lock_state(&self, official_id: i64, now: OffsetDateTime) -> StoreResult<LockState> {
        let row = sqlx::query("SELECT failed_attempts, locked_until FROM officials WHERE id = ?")
            .bind(official_id)
            .fetch_one(&self.pool)
            .await
            .map_err(db)?;
        let failures: i64 = row.try_get("failed_attempts").map_err(db)?;
        let until: Option<i64> = row.try_get("locked_until").map_err(db)?;
        match until {
            Some(u) if u > ts(now) => Ok(LockState::Locked { until: from_ts(u)? }),
            _ => Ok(LockState::Open { failures }),
        }
    }

    async fn record_failure(
        &self,
        official_id: i64,
        now: OffsetDateTime,
        max_failures: i64,
        lock_for: time::Duration,
    ) -> StoreResult<LockState> {
        // One statement, so concurrent attempts from several processes count exactly.
        let until = ts(now + lock_for);
        let row = sqlx::query(
            "UPDATE officials SET
                locked_until    = CASE WHEN failed_attempts + 1 >= ?1 THEN ?2 ELSE locked_until END,
                failed_attempts = CASE WHEN failed_attempts + 1 >= ?1 THEN 0 ELSE failed_attempts + 1 END
             WHERE id = ?3
             RETURNING failed_attempts, locked_until",
        )
        .bind(max_failures)
        .bind(until)
        .bind(official_id)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        let failures: i64 = row.try_get("failed_attempts").map_err(db)?;
        let locked: Option<i64> = row.try_get("locked_until").map_err(db)?;
        match locked {
            Some(u) if u > ts(now) && failures == 0 => Ok(LockState::Locked { until: from_ts(u)? }),
            _ => Ok(LockState::Open { failures }),
        }
    }

    async fn reset_failures(&self, official_id: i64) -> StoreResult<()> {
        sqlx::query("UPDATE officials SET failed_attempts = 0, locked_until = NULL WHERE id = ?")
            .bind(official_id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn insert_signed_document(&self, d: &SignedDocumentRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO signed_documents (id, sha256_hex, official_id, certificate_id, signed_at, field_name, file_name, level)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&d.id)
        .bind(&d.sha256_hex)
        .bind(d.official_id)
        .bind(d.certificate_id)
        .bind(ts(d.signed_at))
        .bind(&d.field_name)
        .bind(&d.file_name)
        .bind(&d.level)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn signed_document(&self, id: &str) -> StoreResult<Option<SignedDocumentRecord>> {
        let row = sqlx::query("SELECT * FROM signed_documents WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.map(|r| {
            Ok(SignedDocumentRecord {
                id: r.try_get("id").map_err(db)?,
                sha256_hex: r.try_get("sha256_hex").map_err(db)?,
                official_id: r.try_get("official_id").map_err(db)?,
                certificate_id: r.try_get("certificate_id").map_err(db)?,
                signed_at: from_ts(r.try_get("signed_at").map_err(db)?)?,
                field_name: r.try_get("field_name").map_err(db)?,
                file_name: r.try_get("file_name").map_err(db)?,
                level: r.try_get("level").map_err(db)?,
            })
        })
        .transpose()
    }

    async fn insert_service_key(
        &self,
        kind: &str,
        issuer_ca_id: i64,
        cert_der: &[u8],
        sealed_key: &str,
    ) -> StoreResult<i64> {
        replace_active(
            &self.pool,
            sqlx::query("UPDATE service_keys SET active = 0 WHERE kind = ? AND issuer_ca_id = ?")
                .bind(kind)
                .bind(issuer_ca_id),
            sqlx::query(
                "INSERT INTO service_keys (kind, issuer_ca_id, cert_der, sealed_key, active, created_at) VALUES (?, ?, ?, ?, 1, ?) RETURNING id",
            )
            .bind(kind)
            .bind(issuer_ca_id)
            .bind(cert_der)
            .bind(sealed_key)
            .bind(ts(OffsetDateTime::now_utc())),
        )
        .await
    }

    async fn active_service_keys(&self, kind: &str) -> StoreResult<Vec<ServiceKeyRecord>> {
        let rows =
            sqlx::query("SELECT * FROM service_keys WHERE kind = ? AND active = 1 ORDER BY id")
                .bind(kind)
                .fetch_all(&self.pool)
                .await
                .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(ServiceKeyRecord {
                    id: r.try_get("id").map_err(db)?,
                    kind: r.try_get("kind").map_err(db)?,
                    issuer_ca_id: r.try_get("issuer_ca_id").map_err(db)?,
                    cert_der: r.try_get("cert_der").map_err(db)?,
                    sealed_key: r.try_get("sealed_key").map_err(db)?,
                })
            })
            .collect()
    }

    async fn reserve_counter(&self, name: &str, count: i64) -> StoreResult<i64> {
        // One atomic statement: concurrent processes get disjoint ranges [start, start+count).
        let row = sqlx::query(
            "INSERT INTO counters (name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = value + ?2
             RETURNING value",
        )
        .bind(name)
        .bind(count)
        .fetch_one(&self.pool)
        .await
        .map_err(db)?;
        let end: i64 = row.try_get("value").map_err(db)?;
        Ok(end - count)
    }

    async fn all_certificates_of_ca(
        &self,
        issuer_ca_id: i64,
    ) -> StoreResult<Vec<CertificateRecord>> {
        let rows = sqlx::query("SELECT * FROM certificates WHERE issuer_ca_id = ? ORDER BY id")
            .bind(issuer_ca_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(cert_from_row).collect()
    }
}
