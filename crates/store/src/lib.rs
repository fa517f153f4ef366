//! sahih-store: storage implementations of [`sahih_core::store::Store`].
//!
//! Owns: SQL (schema migrations, queries, transactions). SQLite is the embedded default;
//! PostgreSQL comes with the server work.
//!
//! Must not know: cryptography, PDF, or how results are shown. It stores sealed keys as opaque
//! text and never sees a passphrase.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod accounts;
pub mod backup;
pub mod blob;
mod dashboard;
mod ra;
mod rows;
mod seal;
mod signing;
pub mod testing;

use rows::{Columns, Db, from_ts, ts};
use sahih_core::audit::{AuditAnchor, AuditEntry, AuditEvent, entry_hash, now_micros};
use sahih_core::clients::{ClientRole, ErrorShape};
use sahih_core::policy::{DocClass, Rule};
use sahih_core::store::{
    ApiClientRecord, AuthFailureScope, AuthFailureWindow, CaKind, CaRecord, CertStatus,
    CertificateRecord, CodePurpose, DownloadRecord, LockState, NewApiClient, NewCertificate,
    NewOfficial, OfficialKind, OfficialRecord, OutboxMessage, RevokedEntry, ServiceKeyRecord,
    ServiceKind, SignedDocumentRecord, SigningRecord, Store, StoreError, StoreResult,
};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyConnection, AnyPool, Executor};
use std::path::Path;
use std::time::Duration;
use time::OffsetDateTime;

const SQLITE_MIGRATIONS: [&str; 3] = [
    include_str!("../migrations/sqlite/0001_init.sql"),
    include_str!("../migrations/sqlite/0002_trust_services.sql"),
    include_str!("../migrations/sqlite/0003_server.sql"),
];
const POSTGRES_MIGRATIONS: [&str; 1] = [include_str!("../migrations/postgres/0001_schema.sql")];

/// Changes that are not idempotent DDL (ALTER TABLE ...): applied once each, in order, and
/// recorded in `schema_version`.
const SQLITE_VERSIONED: [(i64, &str); 16] = [
    (
        4,
        include_str!("../migrations/sqlite/0004_client_roles.sql"),
    ),
    (
        5,
        include_str!("../migrations/sqlite/0005_outbox_delivery.sql"),
    ),
    (
        6,
        include_str!("../migrations/sqlite/0006_certificate_hold.sql"),
    ),
    (
        7,
        include_str!("../migrations/sqlite/0007_renewal_notices.sql"),
    ),
    (
        8,
        include_str!("../migrations/sqlite/0008_registration.sql"),
    ),
    (
        9,
        include_str!("../migrations/sqlite/0009_seals_gateway.sql"),
    ),
    (
        10,
        include_str!("../migrations/sqlite/0010_one_open_request.sql"),
    ),
    (
        11,
        include_str!("../migrations/sqlite/0011_seal_requests.sql"),
    ),
    (12, include_str!("../migrations/sqlite/0012_accounts.sql")),
    (
        13,
        include_str!("../migrations/sqlite/0013_signing_requests.sql"),
    ),
    (
        14,
        include_str!("../migrations/sqlite/0014_error_shape.sql"),
    ),
    (
        15,
        include_str!("../migrations/sqlite/0015_staff_accounts.sql"),
    ),
    (16, include_str!("../migrations/sqlite/0016_dashboard.sql")),
    (
        17,
        include_str!("../migrations/sqlite/0017_refusal_counts.sql"),
    ),
    (
        18,
        include_str!("../migrations/sqlite/0018_auth_failures.sql"),
    ),
    (
        19,
        include_str!("../migrations/sqlite/0019_webhook_event_ids.sql"),
    ),
];
const POSTGRES_VERSIONED: [(i64, &str); 16] = [
    (
        4,
        include_str!("../migrations/postgres/0004_client_roles.sql"),
    ),
    (
        5,
        include_str!("../migrations/postgres/0005_outbox_delivery.sql"),
    ),
    (
        6,
        include_str!("../migrations/postgres/0006_certificate_hold.sql"),
    ),
    (
        7,
        include_str!("../migrations/postgres/0007_renewal_notices.sql"),
    ),
    (
        8,
        include_str!("../migrations/postgres/0008_registration.sql"),
    ),
    (
        9,
        include_str!("../migrations/postgres/0009_seals_gateway.sql"),
    ),
    (
        10,
        include_str!("../migrations/postgres/0010_one_open_request.sql"),
    ),
    (
        11,
        include_str!("../migrations/postgres/0011_seal_requests.sql"),
    ),
    (12, include_str!("../migrations/postgres/0012_accounts.sql")),
    (
        13,
        include_str!("../migrations/postgres/0013_signing_requests.sql"),
    ),
    (
        14,
        include_str!("../migrations/postgres/0014_error_shape.sql"),
    ),
    (
        15,
        include_str!("../migrations/postgres/0015_staff_accounts.sql"),
    ),
    (
        16,
        include_str!("../migrations/postgres/0016_dashboard.sql"),
    ),
    (
        17,
        include_str!("../migrations/postgres/0017_refusal_counts.sql"),
    ),
    (
        18,
        include_str!("../migrations/postgres/0018_auth_failures.sql"),
    ),
    (
        19,
        include_str!("../migrations/postgres/0019_webhook_event_ids.sql"),
    ),
];

fn audit_entry_from_row(r: &AnyRow) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        seq: r.col("seq")?,
        at_micros: r.col("at_micros")?,
        event: AuditEvent {
            action: r.col("action")?,
            actor: r.col("actor")?,
            client: r.col("client")?,
            document_sha256: r.col("document_sha256")?,
            result: r.col("result")?,
            detail: r.col("detail")?,
        },
        prev_hash: r.col("prev_hash")?,
        hash: r.col("hash")?,
    })
}

/// The database engine behind a [`SqlStore`], chosen by the URL scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file (`sqlite:` URLs).
    Sqlite,
    /// A PostgreSQL server (`postgres://` or `postgresql://` URLs).
    Postgres,
}

/// The SQL store: SQLite (embedded default, WAL mode with a busy timeout so several processes
/// can share the file) or PostgreSQL (production; several servers share one database). One code
/// path over sqlx's `Any` driver: every query uses `$n` placeholders, which both accept.
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
    /// The SQLite database file and its identity (device, inode) when opened: readiness
    /// fails once the file is moved or replaced, which open connections would not notice.
    sqlite_file: Option<(std::path::PathBuf, (u64, u64))>,
}

/// The file of a `sqlite://PATH?...` or `sqlite:PATH` URL (None for in-memory databases).
fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| path.into())
}

fn file_identity(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// A message that failed this many times is no longer retried (its last error stays).
pub const OUTBOX_MAX_ATTEMPTS: i64 = 10;

/// Failed-authentication windows older than this are swept (longer than any window in use).
const AUTH_FAILURES_KEPT_SECS: i64 = 86_400;

/// The name the embedded default had before PostgreSQL support.
pub type SqliteStore = SqlStore;

/// Hides the password of a database URL for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Test-only: when `SAHIH_TEST_PAUSE_BEFORE_COMMIT` names a file, a batch of signatures
/// creates that file once its records and audit entries are written but not committed, then
/// waits a minute, so the end-to-end suite can SIGKILL the server inside the transaction and
/// prove nothing half-done remains. Never set in production.
async fn test_pause_before_commit() {
    let Some(path) = std::env::var_os("SAHIH_TEST_PAUSE_BEFORE_COMMIT") else {
        return;
    };
    if std::fs::write(&path, b"paused\n").is_ok() {
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;
type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// The few shapes every query takes, so that each method says only its SQL and its record.
impl SqlStore {
    async fn begin(&self) -> StoreResult<Tx> {
        self.pool.begin().await.db()
    }

    /// Runs one statement on its own; the rows it changed.
    async fn run(&self, query: AnyQuery<'_>) -> StoreResult<u64> {
        Ok(query.execute(&self.pool).await.db()?.rows_affected())
    }

    /// The first row of `query`, if any, read by `record`.
    async fn one_or_none<T>(
        &self,
        query: AnyQuery<'_>,
        record: fn(&AnyRow) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        let row = query.fetch_optional(&self.pool).await.db()?;
        row.as_ref().map(record).transpose()
    }

    /// Every row of `query`, each read by `record`.
    async fn all<T>(
        &self,
        query: AnyQuery<'_>,
        record: fn(&AnyRow) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let rows = query.fetch_all(&self.pool).await.db()?;
        rows.iter().map(record).collect()
    }
}

/// Appends `events` to the audit chain and commits: a change is stored together with its audit
/// entries, or not at all.
async fn commit_audited(mut tx: Tx, events: &[AuditEvent]) -> StoreResult<()> {
    append_in(&mut tx, events).await?;
    tx.commit().await.db()
}

fn service_key_from_row(r: &AnyRow) -> StoreResult<ServiceKeyRecord> {
    Ok(ServiceKeyRecord {
        id: r.col("id")?,
        kind: r.kind("kind", ServiceKind::parse)?,
        issuer_ca_id: r.col("issuer_ca_id")?,
        cert_der: r.col("cert_der")?,
        sealed_key: r.col("sealed_key")?,
    })
}

impl SqlStore {
    async fn service_keys(
        &self,
        kind: ServiceKind,
        active_only: bool,
    ) -> StoreResult<Vec<ServiceKeyRecord>> {
        self.all(
            sqlx::query(
                "SELECT * FROM service_keys WHERE kind = $1 AND ($2 = 0 OR active = 1) ORDER BY id",
            )
            .bind(kind.as_str())
            .bind(i64::from(active_only)),
            service_key_from_row,
        )
        .await
    }

    /// Runs a failure-counting UPDATE (`$1` limit, `$2` lock end, `$3` official) and reads
    /// the lock state it left.
    async fn count_failure(
        &self,
        sql: &'static str,
        official_id: i64,
        now: OffsetDateTime,
        max_failures: i64,
        lock_for: time::Duration,
    ) -> StoreResult<LockState> {
        let row = sqlx::query(sql)
            .bind(max_failures)
            .bind(ts(now + lock_for))
            .bind(official_id)
            .fetch_one(&self.pool)
            .await
            .db()?;
        let failures: i64 = row.col("failed_attempts")?;
        let locked: Option<i64> = row.col("locked_until")?;
        match locked {
            Some(u) if u > ts(now) && failures == 0 => Ok(LockState::Locked { until: from_ts(u)? }),
            _ => Ok(LockState::Open { failures }),
        }
    }

    /// Opens (and creates, when `create`) the SQLite database at `path` and applies migrations.
    pub async fn open(path: &Path, create: bool) -> StoreResult<Self> {
        let mode = if create { "rwc" } else { "rw" };
        Self::connect(&format!("sqlite://{}?mode={mode}", path.display())).await
    }

    /// Connects to `sqlite://...` or `postgres://...` and applies migrations (idempotent DDL).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::Database(format!(
                "unsupported database URL {} (use sqlite:// or postgres://)",
                redact_url(url)
            )));
        };
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(30));
        let pool = match backend {
            Backend::Sqlite => {
                options
                    .max_connections(4)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await
            }
            Backend::Postgres => options.max_connections(8).connect(url).await,
        }
        .map_err(|e| StoreError::Database(format!("{}: {}", redact_url(url), e)))?;
        let migrations: &[&str] = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        for migration in migrations {
            sqlx::raw_sql(migration).execute(&pool).await.db()?;
        }
        let versioned: &[(i64, &str)] = match backend {
            Backend::Sqlite => &SQLITE_VERSIONED,
            Backend::Postgres => &POSTGRES_VERSIONED,
        };
        apply_versioned(&pool, backend, versioned).await?;
        let sqlite_file = match backend {
            Backend::Sqlite => sqlite_path(url).and_then(|p| file_identity(&p).map(|id| (p, id))),
            Backend::Postgres => None,
        };
        Ok(Self {
            pool,
            backend,
            sqlite_file,
        })
    }

    /// The engine this store is connected to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the connection pool, waiting until connections in use are given back.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// True when the database answers (readiness).
    pub async fn ping(&self) -> bool {
        if let Some((path, id)) = &self.sqlite_file
            && file_identity(path) != Some(*id)
        {
            return false;
        }
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// The database server's clock now (PostgreSQL), for `sahih doctor`'s clock check; SQLite
    /// runs on this host, so it is this host's clock.
    pub async fn server_time(&self) -> StoreResult<OffsetDateTime> {
        if self.backend == Backend::Sqlite {
            return Ok(OffsetDateTime::now_utc());
        }
        let micros: i64 = sqlx::query_scalar(
            "SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)",
        )
        .fetch_one(&self.pool)
        .await
        .db()?;
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
            .map_err(|e| StoreError::Corrupt(format!("database clock {micros}: {e}")))
    }
}

fn ca_from_row(r: &AnyRow) -> StoreResult<CaRecord> {
    Ok(CaRecord {
        id: r.col("id")?,
        kind: r.kind("kind", CaKind::parse)?,
        generation: r.col("generation")?,
        cert_der: r.col("cert_der")?,
        sealed_key: r.col("sealed_key")?,
        active: r.flag("active")?,
    })
}

fn signed_document_from_row(r: &AnyRow) -> StoreResult<SignedDocumentRecord> {
    Ok(SignedDocumentRecord {
        id: r.col("id")?,
        sha256_hex: r.col("sha256_hex")?,
        official_id: r.col("official_id")?,
        certificate_id: r.col("certificate_id")?,
        signed_at: r.time("signed_at")?,
        field_name: r.col("field_name")?,
        file_name: r.col("file_name")?,
        level: r.col("level")?,
        class: r.col("class")?,
    })
}

fn cert_from_row(r: &AnyRow) -> StoreResult<CertificateRecord> {
    let status: String = r.col("status")?;
    let mut revoked_at: Option<i64> = r.col("revoked_at")?;
    let mut reason: Option<String> = r.col("revocation_reason")?;
    let suspended_at: Option<i64> = r.col("suspended_at")?;
    let mut status = CertStatus::parse(&status);
    // A suspended certificate reads as on hold: revoked (certificateHold) since suspended_at.
    if status == CertStatus::Issue && suspended_at.is_some() {
        status = CertStatus::Suspend;
        revoked_at = suspended_at;
        reason = Some("certificateHold".into());
    }
    Ok(CertificateRecord {
        id: r.col("id")?,
        official_id: r.col("official_id")?,
        issuer_ca_id: r.col("issuer_ca_id")?,
        serial_hex: r.col("serial_hex")?,
        cert_der: r.col("cert_der")?,
        sealed_key: r.col("sealed_key")?,
        key_algorithm: r.col("key_algorithm")?,
        status,
        revoked_at: revoked_at.map(from_ts).transpose()?,
        revocation_reason: reason,
        not_after: r.time("not_after")?,
    })
}

/// In one transaction: deactivate the current record(s), insert the new active one, return its
/// id (`insert` must end with `RETURNING id`). Readers never see two active records, or none.
async fn replace_active(
    pool: &AnyPool,
    deactivate: AnyQuery<'_>,
    insert: AnyQuery<'_>,
) -> StoreResult<i64> {
    let mut tx = pool.begin().await.db()?;
    deactivate.execute(&mut *tx).await.db()?;
    let id = insert.fetch_one(&mut *tx).await.db()?.col("id")?;
    tx.commit().await.db()?;
    Ok(id)
}

impl Store for SqlStore {
    async fn insert_ca(
        &self,
        kind: CaKind,
        generation: i64,
        cert_der: &[u8],
        sealed_key: &str,
    ) -> StoreResult<i64> {
        replace_active(
            &self.pool,
            sqlx::query("UPDATE ca SET active = 0 WHERE kind = $1").bind(kind.as_str()),
            sqlx::query(
                "INSERT INTO ca (kind, generation, cert_der, sealed_key, active, created_at) VALUES ($1, $2, $3, $4, 1, $5) RETURNING id",
            )
            .bind(kind.as_str())
            .bind(generation)
            .bind(cert_der)
            .bind(sealed_key)
            .bind(ts(OffsetDateTime::now_utc())),
        )
        .await
    }

    async fn active_ca(&self, kind: CaKind) -> StoreResult<Option<CaRecord>> {
        self.one_or_none(
            sqlx::query("SELECT * FROM ca WHERE kind = $1 AND active = 1 ORDER BY id DESC LIMIT 1")
                .bind(kind.as_str()),
            ca_from_row,
        )
        .await
    }

    async fn all_ca(&self) -> StoreResult<Vec<CaRecord>> {
        self.all(sqlx::query("SELECT * FROM ca ORDER BY id"), ca_from_row)
            .await
    }

    async fn insert_official(&self, o: &NewOfficial) -> StoreResult<i64> {
        bind_identity(
            sqlx::query(
                "INSERT INTO officials (nik, nip, name, email, position, unit, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            ),
            o,
        )
        .bind(ts(OffsetDateTime::now_utc()))
        .fetch_one(&self.pool)
        .await
        .db()?
        .col("id")
    }

    async fn official_by_id(&self, id: i64) -> StoreResult<Option<OfficialRecord>> {
        let sql = format!("{OFFICIAL_SELECT} WHERE id = $1");
        self.one_or_none(sqlx::query(&sql).bind(id), official_from_row)
            .await
    }

    async fn set_official_upstream(
        &self,
        o: &NewOfficial,
        upstream: bool,
        event: &AuditEvent,
    ) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let id: i64 = bind_identity(
            sqlx::query(
                "INSERT INTO officials (nik, nip, name, email, position, unit, created_at, upstream)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (nik) DO NOTHING
                 RETURNING id",
            ),
            o,
        )
        .bind(ts(OffsetDateTime::now_utc()))
        .bind(i64::from(upstream))
        .fetch_optional(&mut *tx)
        .await
        .db()?
        .ok_or_else(|| StoreError::Conflict(format!("NIK {} is already on file", o.nik)))?
        .col("id")?;
        commit_audited(tx, std::slice::from_ref(event)).await?;
        Ok(id)
    }

    async fn update_official(&self, id: i64, o: &NewOfficial) -> StoreResult<()> {
        self.run(
            sqlx::query(
                "UPDATE officials SET nip = $1, name = $2, email = $3, position = $4, unit = $5
                 WHERE id = $6",
            )
            .bind(&o.nip)
            .bind(&o.name)
            .bind(&o.email)
            .bind(&o.position)
            .bind(&o.unit)
            .bind(id),
        )
        .await?;
        Ok(())
    }

    async fn official_by_nik(&self, nik: &str) -> StoreResult<Option<OfficialRecord>> {
        let sql = format!("{OFFICIAL_SELECT} WHERE nik = $1");
        self.one_or_none(sqlx::query(&sql).bind(nik), official_from_row)
            .await
    }

    async fn insert_certificate(&self, c: &NewCertificate) -> StoreResult<i64> {
        let mut conn = self.pool.acquire().await.db()?;
        insert_certificate_on(&mut conn, c.official_id, c, OffsetDateTime::now_utc()).await
    }

    async fn latest_certificate(&self, official_id: i64) -> StoreResult<Option<CertificateRecord>> {
        self.one_or_none(
            sqlx::query(
                "SELECT * FROM certificates WHERE official_id = $1 ORDER BY id DESC LIMIT 1",
            )
            .bind(official_id),
            cert_from_row,
        )
        .await
    }

    async fn replace_sealed_key(
        &self,
        certificate_id: i64,
        old_sealed: &str,
        new_sealed: &str,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE certificates SET sealed_key = $1 WHERE id = $2 AND sealed_key = $3",
        )
        .bind(new_sealed)
        .bind(certificate_id)
        .bind(old_sealed)
        .execute(&mut *tx)
        .await
        .db()?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        commit_audited(tx, std::slice::from_ref(event)).await?;
        Ok(true)
    }

    async fn certificate_by_id(&self, id: i64) -> StoreResult<Option<CertificateRecord>> {
        self.one_or_none(
            sqlx::query("SELECT * FROM certificates WHERE id = $1").bind(id),
            cert_from_row,
        )
        .await
    }

    async fn revoke_certificates(
        &self,
        official_id: i64,
        at: OffsetDateTime,
        reason: &str,
    ) -> StoreResult<u64> {
        let mut conn = self.pool.acquire().await.db()?;
        revoke_issued_on(&mut conn, official_id, at, reason).await
    }

    async fn set_certificate_hold(
        &self,
        official_id: i64,
        hold: Option<(OffsetDateTime, &str)>,
    ) -> StoreResult<u64> {
        let query = match hold {
            Some((at, reason)) => sqlx::query(
                "UPDATE certificates SET suspended_at = $1, suspend_reason = $2
                 WHERE official_id = $3 AND status = 'ISSUE' AND suspended_at IS NULL",
            )
            .bind(ts(at))
            .bind(reason)
            .bind(official_id),
            None => sqlx::query(
                "UPDATE certificates SET suspended_at = NULL, suspend_reason = NULL
                 WHERE official_id = $1 AND status = 'ISSUE' AND suspended_at IS NOT NULL",
            )
            .bind(official_id),
        };
        self.run(query).await
    }

    async fn certificates_expiring(
        &self,
        now: OffsetDateTime,
        before: OffsetDateTime,
    ) -> StoreResult<Vec<(CertificateRecord, OfficialRecord)>> {
        self.all(
            sqlx::query(
                "SELECT c.*, o.nik, o.nip, o.name, o.email, o.position, o.unit, o.ra_status, o.kind,
                        o.upstream
                 FROM certificates c JOIN officials o ON o.id = c.official_id
                 WHERE c.status = 'ISSUE' AND c.suspended_at IS NULL
                   AND c.not_after > $1 AND c.not_after <= $2
                   AND c.id = (SELECT max(id) FROM certificates c2 WHERE c2.official_id = c.official_id)
                 ORDER BY c.not_after",
            )
            .bind(ts(now))
            .bind(ts(before)),
            |r| {
                // `id` is the certificate's here; the official's is its `official_id`.
                let cert = cert_from_row(r)?;
                let official = official_with_id(r, cert.official_id)?;
                Ok((cert, official))
            },
        )
        .await
    }

    async fn mark_renewal_notice(
        &self,
        certificate_id: i64,
        days: i64,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let inserted = self
            .run(
                sqlx::query(
                    "INSERT INTO renewal_notices (certificate_id, days, sent_at) VALUES ($1, $2, $3)
                     ON CONFLICT DO NOTHING",
                )
                .bind(certificate_id)
                .bind(days)
                .bind(ts(now)),
            )
            .await?;
        Ok(inserted == 1)
    }

    async fn revoked_certificates(&self) -> StoreResult<Vec<RevokedEntry>> {
        self.all(
            sqlx::query(
                "SELECT c.serial_hex,
                        CASE WHEN c.status = 'REVOKE' THEN c.revoked_at ELSE c.suspended_at END AS revoked_at,
                        CASE WHEN c.status = 'REVOKE' THEN c.revocation_reason ELSE 'certificateHold' END AS revocation_reason,
                        ca.cert_der AS issuer_der
                 FROM certificates c JOIN ca ON ca.id = c.issuer_ca_id
                 WHERE c.status = 'REVOKE' OR c.suspended_at IS NOT NULL",
            ),
            |r| {
                Ok(RevokedEntry {
                    issuer_cert_der: r.col("issuer_der")?,
                    serial_hex: r.col("serial_hex")?,
                    revoked_at: from_ts(r.col::<Option<i64>>("revoked_at")?.unwrap_or(0))?,
                    reason: r.col("revocation_reason")?,
                })
            },
        )
        .await
    }

    async fn lock_state(&self, official_id: i64, now: OffsetDateTime) -> StoreResult<LockState> {
        let row = sqlx::query("SELECT failed_attempts, locked_until FROM officials WHERE id = $1")
            .bind(official_id)
            .fetch_one(&self.pool)
            .await
            .db()?;
        let failures: i64 = row.col("failed_attempts")?;
        let until: Option<i64> = row.col("locked_until")?;
        match until {
            Some(u) if u > ts(now) => Ok(LockState::Locked { until: from_ts(u)? }),
            _ => Ok(LockState::Open { failures }),
        }
    }

    async fn reset_failures(&self, official_id: i64) -> StoreResult<()> {
        self.run(
            sqlx::query(
                "UPDATE officials SET failed_attempts = 0, locked_until = NULL WHERE id = $1",
            )
            .bind(official_id),
        )
        .await?;
        Ok(())
    }

    async fn reserve_attempt(
        &self,
        official_id: i64,
        now: OffsetDateTime,
        max_failures: i64,
    ) -> StoreResult<Option<i64>> {
        self.one_or_none(
            sqlx::query(
                "UPDATE officials SET
                    failed_attempts = CASE WHEN locked_until IS NOT NULL AND locked_until <= $1
                                           THEN 1 ELSE failed_attempts + 1 END,
                    locked_until    = CASE WHEN locked_until IS NOT NULL AND locked_until <= $1
                                           THEN NULL ELSE locked_until END
                 WHERE id = $2
                   AND ((locked_until IS NULL AND failed_attempts < $3)
                        OR (locked_until IS NOT NULL AND locked_until <= $1))
                 RETURNING failed_attempts",
            )
            .bind(ts(now))
            .bind(official_id)
            .bind(max_failures),
            |r| r.col("failed_attempts"),
        )
        .await
    }

    async fn confirm_failure(
        &self,
        official_id: i64,
        now: OffsetDateTime,
        max_failures: i64,
        lock_for: time::Duration,
    ) -> StoreResult<LockState> {
        // The attempt was counted when it was reserved; lock (and start a fresh count for
        // after the lock) once the limit is reached.
        self.count_failure(
            "UPDATE officials SET
                locked_until    = CASE WHEN failed_attempts >= $1 AND locked_until IS NULL
                                       THEN $2 ELSE locked_until END,
                failed_attempts = CASE WHEN failed_attempts >= $1 AND locked_until IS NULL
                                       THEN 0 ELSE failed_attempts END
             WHERE id = $3
             RETURNING failed_attempts, locked_until",
            official_id,
            now,
            max_failures,
            lock_for,
        )
        .await
    }

    async fn release_attempt(&self, official_id: i64) -> StoreResult<()> {
        self.run(
            sqlx::query(
                "UPDATE officials SET failed_attempts = CASE WHEN failed_attempts > 0
                                                            THEN failed_attempts - 1 ELSE 0 END
                 WHERE id = $1 AND locked_until IS NULL",
            )
            .bind(official_id),
        )
        .await?;
        Ok(())
    }

    async fn insert_signed_document(&self, d: &SignedDocumentRecord) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.db()?;
        insert_signed_document_on(&mut conn, d).await
    }

    async fn signed_document(&self, id: &str) -> StoreResult<Option<SignedDocumentRecord>> {
        self.one_or_none(
            sqlx::query("SELECT * FROM signed_documents WHERE id = $1").bind(id),
            signed_document_from_row,
        )
        .await
    }

    async fn signed_documents_by_sha256(
        &self,
        sha256_hex: &str,
        limit: i64,
    ) -> StoreResult<Vec<SignedDocumentRecord>> {
        self.all(
            sqlx::query(
                "SELECT * FROM signed_documents WHERE sha256_hex = $1
                 ORDER BY signed_at DESC LIMIT $2",
            )
            .bind(sha256_hex)
            .bind(limit),
            signed_document_from_row,
        )
        .await
    }

    async fn insert_service_key(
        &self,
        kind: ServiceKind,
        issuer_ca_id: i64,
        cert_der: &[u8],
        sealed_key: &str,
    ) -> StoreResult<i64> {
        replace_active(
            &self.pool,
            sqlx::query("UPDATE service_keys SET active = 0 WHERE kind = $1 AND issuer_ca_id = $2")
                .bind(kind.as_str())
                .bind(issuer_ca_id),
            sqlx::query(
                "INSERT INTO service_keys (kind, issuer_ca_id, cert_der, sealed_key, active, created_at)
                 VALUES ($1, $2, $3, $4, 1, $5) RETURNING id",
            )
            .bind(kind.as_str())
            .bind(issuer_ca_id)
            .bind(cert_der)
            .bind(sealed_key)
            .bind(ts(OffsetDateTime::now_utc())),
        )
        .await
    }

    async fn active_service_keys(&self, kind: ServiceKind) -> StoreResult<Vec<ServiceKeyRecord>> {
        self.service_keys(kind, true).await
    }

    async fn all_service_keys(&self, kind: ServiceKind) -> StoreResult<Vec<ServiceKeyRecord>> {
        self.service_keys(kind, false).await
    }

    async fn reserve_counter(&self, name: &str, count: i64) -> StoreResult<i64> {
        // One atomic statement: concurrent processes get disjoint ranges [start, start+count).
        let end: i64 = sqlx::query(
            "INSERT INTO counters (name, value) VALUES ($1, $2)
             ON CONFLICT(name) DO UPDATE SET value = counters.value + $2
             RETURNING value",
        )
        .bind(name)
        .bind(count)
        .fetch_one(&self.pool)
        .await
        .db()?
        .col("value")?;
        Ok(end - count)
    }

    async fn count_auth_failure(
        &self,
        scope: AuthFailureScope,
        subject: &str,
        window_secs: i64,
        now: OffsetDateTime,
    ) -> StoreResult<i64> {
        let now = now.unix_timestamp();
        // One statement: concurrent servers counting the same subject cannot lose a failure.
        // A window that has ended starts over at this failure.
        let failures: i64 = sqlx::query(
            "INSERT INTO auth_failures (scope, subject, window_start, failures) VALUES ($1, $2, $3, 1)
             ON CONFLICT (scope, subject) DO UPDATE SET
               failures = CASE WHEN auth_failures.window_start <= $3 - $4 THEN 1
                               ELSE auth_failures.failures + 1 END,
               window_start = CASE WHEN auth_failures.window_start <= $3 - $4 THEN $3
                                   ELSE auth_failures.window_start END
             RETURNING failures",
        )
        .bind(scope.as_str())
        .bind(subject)
        .bind(now)
        .bind(window_secs)
        .fetch_one(&self.pool)
        .await
        .db()?
        .col("failures")?;
        let sweep = sqlx::query("DELETE FROM auth_failures WHERE window_start < $1")
            .bind(now - AUTH_FAILURES_KEPT_SECS);
        self.run(sweep).await?;
        Ok(failures)
    }

    async fn auth_failures(
        &self,
        subjects: &[(AuthFailureScope, &str)],
    ) -> StoreResult<Vec<AuthFailureWindow>> {
        let mut found = Vec::with_capacity(subjects.len());
        for (scope, subject) in subjects {
            let row = sqlx::query(
                "SELECT window_start, failures FROM auth_failures WHERE scope = $1 AND subject = $2",
            )
            .bind(scope.as_str())
            .bind(*subject)
            .fetch_optional(&self.pool)
            .await
            .db()?;
            if let Some(r) = row {
                found.push(AuthFailureWindow {
                    scope: *scope,
                    window_start: r.col("window_start")?,
                    failures: r.col("failures")?,
                });
            }
        }
        Ok(found)
    }

    async fn all_certificates_of_ca(
        &self,
        issuer_ca_id: i64,
    ) -> StoreResult<Vec<CertificateRecord>> {
        self.all(
            sqlx::query("SELECT * FROM certificates WHERE issuer_ca_id = $1 ORDER BY id")
                .bind(issuer_ca_id),
            cert_from_row,
        )
        .await
    }

    async fn official_by_email(&self, email: &str) -> StoreResult<Option<OfficialRecord>> {
        let sql = format!(
            "{OFFICIAL_SELECT} WHERE lower(email) = lower($1) AND kind = 'person' ORDER BY id LIMIT 1"
        );
        self.one_or_none(sqlx::query(&sql).bind(email), official_from_row)
            .await
    }

    async fn commit_signatures(
        &self,
        records: &[SigningRecord],
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        for r in records {
            insert_signed_document_on(&mut tx, &r.document).await?;
            if let Some(dl) = &r.download {
                sqlx::query(
                    "INSERT INTO downloads (id, blob_key, client, expires_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(&dl.id)
                .bind(&dl.blob_key)
                .bind(&dl.client)
                .bind(ts(dl.expires_at))
                .execute(&mut *tx)
                .await
                .db()?;
            }
        }
        append_in(&mut tx, events).await?;
        test_pause_before_commit().await;
        tx.commit().await.db()
    }

    async fn insert_api_client(
        &self,
        c: &NewApiClient<'_>,
        event: &AuditEvent,
    ) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO api_clients (name, secret_sha256, allow_ips, default_class, disabled,
                                      created_at, role, unit, person_nik)
             VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8) RETURNING id",
        )
        .bind(c.name)
        .bind(c.secret_sha256)
        .bind(c.allow_ips.join(","))
        .bind(c.default_class)
        .bind(ts(OffsetDateTime::now_utc()))
        .bind(c.role.as_str())
        .bind(c.unit)
        .bind(c.person_nik)
        .fetch_one(&mut *tx)
        .await
        .db()?
        .col("id")?;
        commit_audited(tx, std::slice::from_ref(event)).await?;
        Ok(id)
    }

    async fn api_client(&self, name: &str) -> StoreResult<Option<ApiClientRecord>> {
        self.one_or_none(
            sqlx::query("SELECT * FROM api_clients WHERE name = $1").bind(name),
            client_from_row,
        )
        .await
    }

    async fn api_clients(&self) -> StoreResult<Vec<ApiClientRecord>> {
        self.all(
            sqlx::query("SELECT * FROM api_clients ORDER BY name"),
            client_from_row,
        )
        .await
    }

    async fn set_api_client_disabled(
        &self,
        name: &str,
        disabled: bool,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        self.update_client(name, ClientChange::Disabled(disabled), event)
            .await
    }

    async fn set_client_error_shape(
        &self,
        name: &str,
        shape: ErrorShape,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        self.update_client(name, ClientChange::ErrorShape(shape), event)
            .await
    }

    async fn replace_policy(
        &self,
        default_class: &str,
        classes: &[DocClass],
        event: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM doc_classes")
            .execute(&mut *tx)
            .await
            .db()?;
        for c in classes {
            sqlx::query(
                "INSERT INTO doc_classes (code, name, rule, positions, regulation)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&c.code)
            .bind(&c.name)
            .bind(c.rule.as_str())
            .bind(c.positions.join("\n"))
            .bind(&c.regulation)
            .execute(&mut *tx)
            .await
            .db()?;
        }
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('default_class', $1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )
        .bind(default_class)
        .execute(&mut *tx)
        .await
        .db()?;
        commit_audited(tx, std::slice::from_ref(event)).await
    }

    async fn policy(&self) -> StoreResult<Option<(String, Vec<DocClass>)>> {
        let default: Option<String> = self
            .one_or_none(
                sqlx::query("SELECT value FROM settings WHERE key = 'default_class'"),
                |r| r.col("value"),
            )
            .await?;
        let Some(default) = default else {
            return Ok(None);
        };
        let classes = self
            .all(
                sqlx::query("SELECT * FROM doc_classes ORDER BY code"),
                |r| {
                    let positions: String = r.col("positions")?;
                    Ok(DocClass {
                        code: r.col("code")?,
                        name: r.col("name")?,
                        rule: r.kind("rule", Rule::parse)?,
                        positions: positions
                            .split('\n')
                            .filter(|p| !p.is_empty())
                            .map(str::to_string)
                            .collect(),
                        regulation: r.col("regulation")?,
                    })
                },
            )
            .await?;
        Ok(Some((default, classes)))
    }

    async fn append_audit(&self, events: &[AuditEvent]) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let seq = append_in(&mut tx, events).await?;
        tx.commit().await.db()?;
        Ok(seq)
    }

    async fn audit_entries(&self, from: i64, to: i64) -> StoreResult<Vec<AuditEntry>> {
        self.all(
            sqlx::query("SELECT * FROM audit_log WHERE seq >= $1 AND seq <= $2 ORDER BY seq")
                .bind(from)
                .bind(to),
            audit_entry_from_row,
        )
        .await
    }

    async fn audit_search(
        &self,
        filter: &sahih_core::audit::AuditFilter,
        page: sahih_core::audit::AuditCursor,
        limit: i64,
    ) -> StoreResult<Vec<AuditEntry>> {
        use sahih_core::audit::AuditCursor;
        // Empty parameters match everything; a page stops at `limit`.
        const MATCH: &str = "AND ($2 = '' OR action = $2)
                             AND ($3 = '' OR actor = $3)
                             AND ($4 = '' OR actor = 'nik:' || $4 OR detail LIKE '%' || $4 || '%')
                             AND at_micros >= $5 AND at_micros <= $6";
        let (sql, from) = match page {
            AuditCursor::Before(seq) => (
                format!(
                    "SELECT * FROM audit_log WHERE seq < $1 {MATCH} ORDER BY seq DESC LIMIT $7"
                ),
                seq,
            ),
            AuditCursor::After(seq) => (
                format!("SELECT * FROM audit_log WHERE seq > $1 {MATCH} ORDER BY seq LIMIT $7"),
                seq,
            ),
        };
        self.all(
            sqlx::query(&sql)
                .bind(from)
                .bind(filter.action.as_deref().unwrap_or(""))
                .bind(filter.actor.as_deref().unwrap_or(""))
                .bind(filter.official_nik.as_deref().unwrap_or(""))
                .bind(filter.from_micros.unwrap_or(i64::MIN))
                .bind(filter.to_micros.unwrap_or(i64::MAX))
                .bind(limit.clamp(1, 10_000)),
            audit_entry_from_row,
        )
        .await
    }

    async fn audit_head(&self) -> StoreResult<Option<(i64, String)>> {
        let head = self
            .one_or_none(
                sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1"),
                |r| Ok((r.col::<i64>("seq")?, r.col::<String>("hash")?)),
            )
            .await?;
        // Sequence 0 is the empty chain's head row.
        Ok(head.filter(|(seq, _)| *seq > 0))
    }

    async fn insert_audit_anchor(&self, a: &AuditAnchor) -> StoreResult<()> {
        self.run(
            sqlx::query(
                "INSERT INTO audit_anchors (seq, hash, token_der, at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT(seq) DO NOTHING",
            )
            .bind(a.seq)
            .bind(&a.hash)
            .bind(&a.token_der)
            .bind(ts(a.at)),
        )
        .await?;
        Ok(())
    }

    async fn audit_anchors(&self) -> StoreResult<Vec<AuditAnchor>> {
        self.all(
            sqlx::query("SELECT * FROM audit_anchors ORDER BY seq"),
            |r| {
                Ok(AuditAnchor {
                    seq: r.col("seq")?,
                    hash: r.col("hash")?,
                    token_der: r.col("token_der")?,
                    at: r.time("at")?,
                })
            },
        )
        .await
    }

    async fn take_download(
        &self,
        id: &str,
        client: Option<&str>,
        now: OffsetDateTime,
    ) -> StoreResult<Option<DownloadRecord>> {
        // One conditional UPDATE: of concurrent takers on any process, exactly one wins, and
        // only the client that asked for the signature can take it.
        self.one_or_none(
            sqlx::query(
                "UPDATE downloads SET taken_at = $2
                 WHERE id = $1 AND taken_at IS NULL AND expires_at > $2
                   AND (client IS NULL OR client = $3)
                 RETURNING id, blob_key, client, expires_at",
            )
            .bind(id)
            .bind(ts(now))
            .bind(client.unwrap_or("")),
            |r| {
                Ok(DownloadRecord {
                    id: r.col("id")?,
                    blob_key: r.col("blob_key")?,
                    client: r.col("client")?,
                    expires_at: r.time("expires_at")?,
                })
            },
        )
        .await
    }

    async fn push_outbox(&self, m: &OutboxMessage) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.db()?;
        push_outbox_on(&mut conn, m, OffsetDateTime::now_utc()).await
    }

    async fn outbox(&self, recipient: &str) -> StoreResult<Vec<OutboxMessage>> {
        self.all(
            sqlx::query(
                "SELECT recipient, subject, body FROM outbox
                 WHERE lower(recipient) = lower($1) ORDER BY id",
            )
            .bind(recipient),
            outbox_from_row,
        )
        .await
    }

    async fn pending_outbox(&self, limit: i64) -> StoreResult<Vec<(i64, OutboxMessage)>> {
        self.all(
            sqlx::query(
                "SELECT id, recipient, subject, body FROM outbox
                 WHERE sent_at IS NULL AND attempts < $1 ORDER BY id LIMIT $2",
            )
            .bind(OUTBOX_MAX_ATTEMPTS)
            .bind(limit),
            |r| Ok((r.col("id")?, outbox_from_row(r)?)),
        )
        .await
    }

    async fn claim_outbox(&self, id: i64, now: OffsetDateTime) -> StoreResult<bool> {
        let query = sqlx::query("UPDATE outbox SET sent_at = $2 WHERE id = $1 AND sent_at IS NULL")
            .bind(id)
            .bind(ts(now));
        Ok(self.run(query).await? == 1)
    }

    async fn outbox_failed(&self, id: i64, error: &str) -> StoreResult<()> {
        self.run(
            sqlx::query(
                "UPDATE outbox SET sent_at = NULL, attempts = attempts + 1, last_error = $2
                 WHERE id = $1",
            )
            .bind(id)
            .bind(error),
        )
        .await?;
        Ok(())
    }

    async fn outbox_delivered(&self, id: i64) -> StoreResult<()> {
        self.run(
            sqlx::query("UPDATE outbox SET body = '' WHERE id = $1 AND sent_at IS NOT NULL")
                .bind(id),
        )
        .await?;
        Ok(())
    }

    async fn insert_otp(
        &self,
        official_id: i64,
        code_sha256: &str,
        uses: i64,
        expires_at: OffsetDateTime,
    ) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.db()?;
        insert_code_on(
            &mut conn,
            official_id,
            CodePurpose::Sign,
            code_sha256,
            uses,
            expires_at,
        )
        .await
    }

    async fn consume_code(
        &self,
        official_id: i64,
        purpose: CodePurpose,
        code_sha256: &str,
        count: i64,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let query = sqlx::query(
            "UPDATE one_time_codes SET uses_left = uses_left - $4
             WHERE official_id = $1 AND purpose = $2 AND code_sha256 = $3
               AND uses_left >= $4 AND expires_at > $5",
        )
        .bind(official_id)
        .bind(purpose.as_str())
        .bind(code_sha256)
        .bind(count)
        .bind(ts(now));
        Ok(self.run(query).await? > 0)
    }
}

/// Applies the versioned migrations above the recorded version, in one transaction that holds
/// the schema lock (an advisory lock on PostgreSQL, the write lock on SQLite), so concurrent
/// starts apply each exactly once.
async fn apply_versioned(
    pool: &AnyPool,
    backend: Backend,
    versioned: &[(i64, &str)],
) -> StoreResult<()> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_version (id BIGINT PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL);
         INSERT INTO schema_version (id, version) VALUES (1, 3) ON CONFLICT DO NOTHING;",
    )
    .execute(pool)
    .await
    .db()?;
    let mut tx = pool.begin().await.db()?;
    if backend == Backend::Postgres {
        sqlx::raw_sql("SELECT pg_advisory_xact_lock(7261002)")
            .execute(&mut *tx)
            .await
            .db()?;
    }
    let version: i64 =
        sqlx::query("UPDATE schema_version SET version = version WHERE id = 1 RETURNING version")
            .fetch_one(&mut *tx)
            .await
            .db()?
            .col("version")?;
    let mut current = version;
    for (v, sql) in versioned {
        if *v > current {
            sqlx::raw_sql(sql).execute(&mut *tx).await.db()?;
            current = *v;
        }
    }
    if current != version {
        sqlx::query("UPDATE schema_version SET version = $1 WHERE id = 1")
            .bind(current)
            .execute(&mut *tx)
            .await
            .db()?;
    }
    tx.commit().await.db()
}

/// Appends `events` to the chain inside the caller's transaction. The first statement writes
/// the head row, which serialises appenders: PostgreSQL holds the row lock until commit, SQLite
/// takes its write lock (waiting on the busy timeout).
async fn append_in(conn: &mut AnyConnection, events: &[AuditEvent]) -> StoreResult<i64> {
    let head = sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await
        .db()?;
    let mut seq: i64 = head.col("seq")?;
    let mut prev: String = head.col("hash")?;
    if events.is_empty() {
        return Ok(seq);
    }
    for event in events {
        seq += 1;
        let at = now_micros();
        let hash = entry_hash(&prev, seq, at, event);
        sqlx::query(
            "INSERT INTO audit_log (seq, at_micros, action, actor, client, document_sha256, result, detail, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(seq)
        .bind(at)
        .bind(&event.action)
        .bind(&event.actor)
        .bind(&event.client)
        .bind(&event.document_sha256)
        .bind(&event.result)
        .bind(&event.detail)
        .bind(&prev)
        .bind(&hash)
        .execute(&mut *conn)
        .await
        .db()?;
        prev = hash;
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(&prev)
        .execute(&mut *conn)
        .await
        .db()?;
    Ok(seq)
}

/// Queues a message in the outbox on `conn` (inside the caller's transaction when it has one).
pub(crate) async fn push_outbox_on(
    conn: &mut AnyConnection,
    m: &OutboxMessage,
    at: OffsetDateTime,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO outbox (recipient, subject, body, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&m.recipient)
    .bind(&m.subject)
    .bind(&m.body)
    .bind(ts(at))
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(())
}

/// Inserts an ISSUE certificate of `official_id` (`c.official_id` is not used: callers that
/// create the official in the same transaction know the id only then); returns its id.
pub(crate) async fn insert_certificate_on(
    conn: &mut AnyConnection,
    official_id: i64,
    c: &NewCertificate,
    created_at: OffsetDateTime,
) -> StoreResult<i64> {
    sqlx::query(
        "INSERT INTO certificates (official_id, issuer_ca_id, serial_hex, cert_der, sealed_key, key_algorithm, status, not_before, not_after, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'ISSUE', $7, $8, $9) RETURNING id",
    )
    .bind(official_id)
    .bind(c.issuer_ca_id)
    .bind(&c.serial_hex)
    .bind(&c.cert_der)
    .bind(&c.sealed_key)
    .bind(&c.key_algorithm)
    .bind(ts(c.not_before))
    .bind(ts(c.not_after))
    .bind(ts(created_at))
    .fetch_one(&mut *conn)
    .await
    .db()?
    .col("id")
}

/// Binds an official's identity as the next six parameters: nik, nip, name, email, position,
/// unit (the order every `INSERT INTO officials` lists them in).
fn bind_identity<'q>(query: AnyQuery<'q>, o: &'q NewOfficial) -> AnyQuery<'q> {
    query
        .bind(&o.nik)
        .bind(&o.nip)
        .bind(&o.name)
        .bind(&o.email)
        .bind(&o.position)
        .bind(&o.unit)
}

/// Reads the identity columns [`bind_identity`] writes (officials, RA requests).
fn identity_from_row(r: &AnyRow) -> StoreResult<NewOfficial> {
    Ok(NewOfficial {
        nik: r.col("nik")?,
        nip: r.col("nip")?,
        name: r.col("name")?,
        email: r.col("email")?,
        position: r.col("position")?,
        unit: r.col("unit")?,
    })
}

/// Revokes the official's certificates in force; how many. Called inside the transaction of an
/// RA decision or activation, or on its own.
pub(crate) async fn revoke_issued_on(
    conn: &mut AnyConnection,
    official_id: i64,
    at: OffsetDateTime,
    reason: &str,
) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE certificates SET status = 'REVOKE', revoked_at = $1, revocation_reason = $2
         WHERE official_id = $3 AND status = 'ISSUE'",
    )
    .bind(ts(at))
    .bind(reason)
    .bind(official_id)
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(done.rows_affected())
}

async fn insert_signed_document_on(
    conn: &mut AnyConnection,
    d: &SignedDocumentRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO signed_documents (id, sha256_hex, official_id, certificate_id, signed_at,
                                       field_name, file_name, level, class)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&d.id)
    .bind(&d.sha256_hex)
    .bind(d.official_id)
    .bind(d.certificate_id)
    .bind(ts(d.signed_at))
    .bind(&d.field_name)
    .bind(&d.file_name)
    .bind(&d.level)
    .bind(d.class.as_deref())
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(())
}

/// Stores a one-time code (its hash only), good for `uses` documents until `expires_at`.
pub(crate) async fn insert_code_on(
    conn: &mut AnyConnection,
    official_id: i64,
    purpose: CodePurpose,
    code_sha256: &str,
    uses: i64,
    expires_at: OffsetDateTime,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO one_time_codes (official_id, code_sha256, uses_left, expires_at, purpose)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(official_id)
    .bind(code_sha256)
    .bind(uses)
    .bind(ts(expires_at))
    .bind(purpose.as_str())
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(())
}

fn outbox_from_row(r: &AnyRow) -> StoreResult<OutboxMessage> {
    Ok(OutboxMessage {
        recipient: r.col("recipient")?,
        subject: r.col("subject")?,
        body: r.col("body")?,
    })
}

/// An official as read by [`official_from_row`]; after `WHERE`, `ORDER BY` or `LIMIT`.
const OFFICIAL_SELECT: &str =
    "SELECT id, nik, nip, name, email, position, unit, ra_status, kind, upstream FROM officials";

fn official_from_row(r: &AnyRow) -> StoreResult<OfficialRecord> {
    official_with_id(r, r.col("id")?)
}

/// An official's columns; `id` comes separately for joins where `id` is another table's.
fn official_with_id(r: &AnyRow, id: i64) -> StoreResult<OfficialRecord> {
    let NewOfficial {
        nik,
        nip,
        name,
        email,
        position,
        unit,
    } = identity_from_row(r)?;
    Ok(OfficialRecord {
        id,
        nik,
        nip,
        name,
        email,
        position,
        unit,
        ra_status: r.col("ra_status")?,
        kind: r.kind("kind", OfficialKind::parse)?,
        upstream: r.flag("upstream")?,
    })
}

/// One setting of an API client that an administrator changes.
enum ClientChange {
    Disabled(bool),
    ErrorShape(ErrorShape),
}

impl SqlStore {
    /// Changes one setting of a client with its audit event, in one transaction; false when no
    /// client has that name.
    async fn update_client(
        &self,
        name: &str,
        change: ClientChange,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let query = match change {
            ClientChange::Disabled(d) => {
                sqlx::query("UPDATE api_clients SET disabled = $1 WHERE name = $2")
                    .bind(i64::from(d))
            }
            ClientChange::ErrorShape(shape) => {
                sqlx::query("UPDATE api_clients SET error_shape = $1 WHERE name = $2")
                    .bind(shape.as_str())
            }
        };
        let done = query.bind(name).execute(&mut *tx).await.db()?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        commit_audited(tx, std::slice::from_ref(event)).await?;
        Ok(true)
    }
}

fn client_from_row(r: &AnyRow) -> StoreResult<ApiClientRecord> {
    let allow: String = r.col("allow_ips")?;
    Ok(ApiClientRecord {
        id: r.col("id")?,
        name: r.col("name")?,
        secret_sha256: r.col("secret_sha256")?,
        allow_ips: allow
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        default_class: r.col("default_class")?,
        disabled: r.flag("disabled")?,
        role: r.kind("role", ClientRole::parse)?,
        unit: r.col("unit")?,
        person_nik: r.col("person_nik")?,
        error_shape: r.kind("error_shape", ErrorShape::parse)?,
        created_at: r.time("created_at")?,
    })
}
