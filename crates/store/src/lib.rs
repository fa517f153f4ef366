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
pub mod blob;
mod dashboard;
mod ra;
mod seal;
mod signing;

use sahih_core::audit::{AuditAnchor, AuditEntry, AuditEvent, entry_hash, now_micros};
use sahih_core::clients::{ClientRole, ErrorShape};
use sahih_core::policy::{DocClass, Rule};
use sahih_core::store::{
    ApiClientRecord, CaKind, CaRecord, CertStatus, CertificateRecord, CodePurpose, DownloadRecord,
    LockState, NewApiClient, NewCertificate, NewOfficial, OfficialKind, OfficialRecord,
    OutboxMessage, RevokedEntry, ServiceKeyRecord, ServiceKind, SignedDocumentRecord,
    SigningRecord, Store, StoreError, StoreResult,
};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyConnection, AnyPool, Executor, Row};
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
const SQLITE_VERSIONED: [(i64, &str); 14] = [
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
];
const POSTGRES_VERSIONED: [(i64, &str); 14] = [
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
];

fn audit_entry_from_row(r: &AnyRow) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        seq: r.try_get("seq").map_err(db)?,
        at_micros: r.try_get("at_micros").map_err(db)?,
        event: AuditEvent {
            action: r.try_get("action").map_err(db)?,
            actor: r.try_get("actor").map_err(db)?,
            client: r.try_get("client").map_err(db)?,
            document_sha256: r.try_get("document_sha256").map_err(db)?,
            result: r.try_get("result").map_err(db)?,
            detail: r.try_get("detail").map_err(db)?,
        },
        prev_hash: r.try_get("prev_hash").map_err(db)?,
        hash: r.try_get("hash").map_err(db)?,
    })
}

/// A kind column read as its type: text nobody wrote is a database error, never a guess.
fn stored_kind<T>(r: &AnyRow, column: &str, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    let text: String = r.try_get(column).map_err(db)?;
    parse(&text).ok_or_else(|| StoreError::Database(format!("unknown {column} {text:?}")))
}

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

impl SqlStore {
    async fn service_keys(
        &self,
        kind: ServiceKind,
        active_only: bool,
    ) -> StoreResult<Vec<ServiceKeyRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM service_keys WHERE kind = $1 AND ($2 = 0 OR active = 1) ORDER BY id",
        )
        .bind(kind.as_str())
        .bind(i64::from(active_only))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(ServiceKeyRecord {
                    id: r.try_get("id").map_err(db)?,
                    kind: stored_kind(r, "kind", ServiceKind::parse)?,
                    issuer_ca_id: r.try_get("issuer_ca_id").map_err(db)?,
                    cert_der: r.try_get("cert_der").map_err(db)?,
                    sealed_key: r.try_get("sealed_key").map_err(db)?,
                })
            })
            .collect()
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
            .map_err(db)?;
        let failures: i64 = row.try_get("failed_attempts").map_err(db)?;
        let locked: Option<i64> = row.try_get("locked_until").map_err(db)?;
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
            sqlx::raw_sql(migration).execute(&pool).await.map_err(db)?;
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
}

fn ca_from_row(r: &AnyRow) -> StoreResult<CaRecord> {
    Ok(CaRecord {
        id: r.try_get("id").map_err(db)?,
        kind: stored_kind(r, "kind", CaKind::parse)?,
        generation: r.try_get("generation").map_err(db)?,
        cert_der: r.try_get("cert_der").map_err(db)?,
        sealed_key: r.try_get("sealed_key").map_err(db)?,
        active: r.try_get::<i64, _>("active").map_err(db)? != 0,
    })
}

fn signed_document_from_row(r: &AnyRow) -> StoreResult<SignedDocumentRecord> {
    Ok(SignedDocumentRecord {
        id: r.try_get("id").map_err(db)?,
        sha256_hex: r.try_get("sha256_hex").map_err(db)?,
        official_id: r.try_get("official_id").map_err(db)?,
        certificate_id: r.try_get("certificate_id").map_err(db)?,
        signed_at: from_ts(r.try_get("signed_at").map_err(db)?)?,
        field_name: r.try_get("field_name").map_err(db)?,
        file_name: r.try_get("file_name").map_err(db)?,
        level: r.try_get("level").map_err(db)?,
        class: r.try_get("class").map_err(db)?,
    })
}

fn cert_from_row(r: &AnyRow) -> StoreResult<CertificateRecord> {
    let status: String = r.try_get("status").map_err(db)?;
    let mut revoked_at: Option<i64> = r.try_get("revoked_at").map_err(db)?;
    let mut reason: Option<String> = r.try_get("revocation_reason").map_err(db)?;
    let suspended_at: Option<i64> = r.try_get("suspended_at").map_err(db)?;
    let mut status = CertStatus::parse(&status);
    // A suspended certificate reads as on hold: revoked (certificateHold) since suspended_at.
    if status == CertStatus::Issue && suspended_at.is_some() {
        status = CertStatus::Suspend;
        revoked_at = suspended_at;
        reason = Some("certificateHold".into());
    }
    Ok(CertificateRecord {
        id: r.try_get("id").map_err(db)?,
        official_id: r.try_get("official_id").map_err(db)?,
        issuer_ca_id: r.try_get("issuer_ca_id").map_err(db)?,
        serial_hex: r.try_get("serial_hex").map_err(db)?,
        cert_der: r.try_get("cert_der").map_err(db)?,
        sealed_key: r.try_get("sealed_key").map_err(db)?,
        key_algorithm: r.try_get("key_algorithm").map_err(db)?,
        status,
        revoked_at: revoked_at.map(from_ts).transpose()?,
        revocation_reason: reason,
        not_after: from_ts(r.try_get("not_after").map_err(db)?)?,
    })
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// In one transaction: deactivate the current record(s), insert the new active one, return its
/// id (`insert` must end with `RETURNING id`). Readers never see two active records, or none.
async fn replace_active(
    pool: &AnyPool,
    deactivate: AnyQuery<'_>,
    insert: AnyQuery<'_>,
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
        let row =
            sqlx::query("SELECT * FROM ca WHERE kind = $1 AND active = 1 ORDER BY id DESC LIMIT 1")
                .bind(kind.as_str())
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
            "INSERT INTO officials (nik, nip, name, email, position, unit, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
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

    async fn official_by_id(&self, id: i64) -> StoreResult<Option<OfficialRecord>> {
        let row = sqlx::query(
            "SELECT id, nik, nip, name, email, position, unit, ra_status, kind, upstream FROM officials WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.as_ref().map(official_from_row).transpose()
    }

    async fn set_official_upstream(
        &self,
        o: &NewOfficial,
        upstream: bool,
        event: &AuditEvent,
    ) -> StoreResult<i64> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let id: i64 = sqlx::query(
            "INSERT INTO officials (nik, nip, name, email, position, unit, created_at, upstream)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (nik) DO NOTHING
             RETURNING id",
        )
        .bind(&o.nik)
        .bind(&o.nip)
        .bind(&o.name)
        .bind(&o.email)
        .bind(&o.position)
        .bind(&o.unit)
        .bind(ts(OffsetDateTime::now_utc()))
        .bind(i64::from(upstream))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?
        .ok_or_else(|| StoreError::Conflict(format!("NIK {} is already on file", o.nik)))?
        .try_get("id")
        .map_err(db)?;
        append_in(&mut tx, std::slice::from_ref(event)).await?;
        tx.commit().await.map_err(db)?;
        Ok(id)
    }

    async fn update_official(&self, id: i64, o: &NewOfficial) -> StoreResult<()> {
        sqlx::query(
            "UPDATE officials SET nip = $1, name = $2, email = $3, position = $4, unit = $5 WHERE id = $6",
        )
        .bind(&o.nip)
        .bind(&o.name)
        .bind(&o.email)
        .bind(&o.position)
        .bind(&o.unit)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn official_by_nik(&self, nik: &str) -> StoreResult<Option<OfficialRecord>> {
        let row = sqlx::query(
            "SELECT id, nik, nip, name, email, position, unit, ra_status, kind, upstream FROM officials WHERE nik = $1",
        )
        .bind(nik)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.as_ref().map(official_from_row).transpose()
    }

    async fn insert_certificate(&self, c: &NewCertificate) -> StoreResult<i64> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        insert_certificate_on(&mut conn, c.official_id, c, OffsetDateTime::now_utc()).await
    }

    async fn latest_certificate(&self, official_id: i64) -> StoreResult<Option<CertificateRecord>> {
        let row = sqlx::query(
            "SELECT * FROM certificates WHERE official_id = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(official_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.as_ref().map(cert_from_row).transpose()
    }

    async fn replace_sealed_key(
        &self,
        certificate_id: i64,
        old_sealed: &str,
        new_sealed: &str,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let done = sqlx::query(
            "UPDATE certificates SET sealed_key = $1 WHERE id = $2 AND sealed_key = $3",
        )
        .bind(new_sealed)
        .bind(certificate_id)
        .bind(old_sealed)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected()
            > 0;
        if !done {
            return Ok(false);
        }
        append_in(&mut tx, std::slice::from_ref(event)).await?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn certificate_by_id(&self, id: i64) -> StoreResult<Option<CertificateRecord>> {
        let row = sqlx::query("SELECT * FROM certificates WHERE id = $1")
            .bind(id)
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
            "UPDATE certificates SET status = 'REVOKE', revoked_at = $1, revocation_reason = $2 WHERE official_id = $3 AND status = 'ISSUE'",
        )
        .bind(ts(at))
        .bind(reason)
        .bind(official_id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected())
    }

    async fn set_certificate_hold(
        &self,
        official_id: i64,
        hold: Option<(OffsetDateTime, &str)>,
    ) -> StoreResult<u64> {
        let done = match hold {
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
        }
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected())
    }

    async fn certificates_expiring(
        &self,
        now: OffsetDateTime,
        before: OffsetDateTime,
    ) -> StoreResult<Vec<(CertificateRecord, OfficialRecord)>> {
        let rows = sqlx::query(
            "SELECT c.*, o.nik, o.nip, o.name, o.email, o.position, o.unit, o.ra_status, o.kind, o.upstream
             FROM certificates c JOIN officials o ON o.id = c.official_id
             WHERE c.status = 'ISSUE' AND c.suspended_at IS NULL
               AND c.not_after > $1 AND c.not_after <= $2
               AND c.id = (SELECT max(id) FROM certificates c2 WHERE c2.official_id = c.official_id)
             ORDER BY c.not_after",
        )
        .bind(ts(now))
        .bind(ts(before))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| {
                let cert = cert_from_row(r)?;
                let official = OfficialRecord {
                    id: cert.official_id,
                    nik: r.try_get("nik").map_err(db)?,
                    nip: r.try_get("nip").map_err(db)?,
                    name: r.try_get("name").map_err(db)?,
                    email: r.try_get("email").map_err(db)?,
                    position: r.try_get("position").map_err(db)?,
                    unit: r.try_get("unit").map_err(db)?,
                    ra_status: r.try_get("ra_status").map_err(db)?,
                    kind: stored_kind(r, "kind", OfficialKind::parse)?,
                    upstream: r.try_get::<i64, _>("upstream").map_err(db)? != 0,
                };
                Ok((cert, official))
            })
            .collect()
    }

    async fn mark_renewal_notice(
        &self,
        certificate_id: i64,
        days: i64,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO renewal_notices (certificate_id, days, sent_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(certificate_id)
        .bind(days)
        .bind(ts(now))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn revoked_certificates(&self) -> StoreResult<Vec<RevokedEntry>> {
        let rows = sqlx::query(
            "SELECT c.serial_hex,
                    CASE WHEN c.status = 'REVOKE' THEN c.revoked_at ELSE c.suspended_at END AS revoked_at,
                    CASE WHEN c.status = 'REVOKE' THEN c.revocation_reason ELSE 'certificateHold' END AS revocation_reason,
                    ca.cert_der AS issuer_der
             FROM certificates c JOIN ca ON ca.id = c.issuer_ca_id
             WHERE c.status = 'REVOKE' OR c.suspended_at IS NOT NULL",
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
        let row = sqlx::query("SELECT failed_attempts, locked_until FROM officials WHERE id = $1")
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

    async fn reset_failures(&self, official_id: i64) -> StoreResult<()> {
        sqlx::query("UPDATE officials SET failed_attempts = 0, locked_until = NULL WHERE id = $1")
            .bind(official_id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn reserve_attempt(
        &self,
        official_id: i64,
        now: OffsetDateTime,
        max_failures: i64,
    ) -> StoreResult<Option<i64>> {
        let now = ts(now);
        let row = sqlx::query(
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
        .bind(now)
        .bind(official_id)
        .bind(max_failures)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.map(|r| r.try_get::<i64, _>("failed_attempts").map_err(db))
            .transpose()
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
        sqlx::query(
            "UPDATE officials SET failed_attempts = CASE WHEN failed_attempts > 0
                                                        THEN failed_attempts - 1 ELSE 0 END
             WHERE id = $1 AND locked_until IS NULL",
        )
        .bind(official_id)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn insert_signed_document(&self, d: &SignedDocumentRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO signed_documents (id, sha256_hex, official_id, certificate_id, signed_at, field_name, file_name, level, class)
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
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn signed_document(&self, id: &str) -> StoreResult<Option<SignedDocumentRecord>> {
        let row = sqlx::query("SELECT * FROM signed_documents WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(signed_document_from_row).transpose()
    }

    async fn signed_documents_by_sha256(
        &self,
        sha256_hex: &str,
        limit: i64,
    ) -> StoreResult<Vec<SignedDocumentRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM signed_documents WHERE sha256_hex = $1 ORDER BY signed_at DESC LIMIT $2",
        )
        .bind(sha256_hex)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(signed_document_from_row).collect()
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
                "INSERT INTO service_keys (kind, issuer_ca_id, cert_der, sealed_key, active, created_at) VALUES ($1, $2, $3, $4, 1, $5) RETURNING id",
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
        let row = sqlx::query(
            "INSERT INTO counters (name, value) VALUES ($1, $2)
             ON CONFLICT(name) DO UPDATE SET value = counters.value + $2
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
        let rows = sqlx::query("SELECT * FROM certificates WHERE issuer_ca_id = $1 ORDER BY id")
            .bind(issuer_ca_id)
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(cert_from_row).collect()
    }

    async fn official_by_email(&self, email: &str) -> StoreResult<Option<OfficialRecord>> {
        let row = sqlx::query(
            "SELECT id, nik, nip, name, email, position, unit, ra_status, kind, upstream FROM officials WHERE lower(email) = lower($1) AND kind = 'person' ORDER BY id LIMIT 1",
        )
        .bind(email)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.as_ref().map(official_from_row).transpose()
    }

    async fn commit_signatures(
        &self,
        records: &[SigningRecord],
        events: &[AuditEvent],
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        for r in records {
            let d = &r.document;
            sqlx::query(
                "INSERT INTO signed_documents (id, sha256_hex, official_id, certificate_id, signed_at, field_name, file_name, level, class)
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
            .execute(&mut *tx)
            .await
            .map_err(db)?;
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
                .map_err(db)?;
            }
        }
        append_in(&mut tx, events).await?;
        test_pause_before_commit().await;
        tx.commit().await.map_err(db)
    }

    async fn insert_api_client(
        &self,
        c: &NewApiClient<'_>,
        event: &AuditEvent,
    ) -> StoreResult<i64> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let id: i64 = sqlx::query(
            "INSERT INTO api_clients (name, secret_sha256, allow_ips, default_class, disabled, created_at, role, unit, person_nik)
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
        .map_err(db)?
        .try_get("id")
        .map_err(db)?;
        append_in(&mut tx, std::slice::from_ref(event)).await?;
        tx.commit().await.map_err(db)?;
        Ok(id)
    }

    async fn api_client(&self, name: &str) -> StoreResult<Option<ApiClientRecord>> {
        let row = sqlx::query("SELECT * FROM api_clients WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        row.as_ref().map(client_from_row).transpose()
    }

    async fn api_clients(&self) -> StoreResult<Vec<ApiClientRecord>> {
        let rows = sqlx::query("SELECT * FROM api_clients ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(client_from_row).collect()
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
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query("DELETE FROM doc_classes")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        for c in classes {
            sqlx::query(
                "INSERT INTO doc_classes (code, name, rule, positions, regulation) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&c.code)
            .bind(&c.name)
            .bind(c.rule.as_str())
            .bind(c.positions.join("\n"))
            .bind(&c.regulation)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ('default_class', $1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )
        .bind(default_class)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        append_in(&mut tx, std::slice::from_ref(event)).await?;
        tx.commit().await.map_err(db)
    }

    async fn policy(&self) -> StoreResult<Option<(String, Vec<DocClass>)>> {
        let default: Option<String> =
            sqlx::query("SELECT value FROM settings WHERE key = 'default_class'")
                .fetch_optional(&self.pool)
                .await
                .map_err(db)?
                .map(|r| r.try_get("value"))
                .transpose()
                .map_err(db)?;
        let Some(default) = default else {
            return Ok(None);
        };
        let rows = sqlx::query("SELECT * FROM doc_classes ORDER BY code")
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        let classes = rows
            .iter()
            .map(|r| {
                let rule: String = r.try_get("rule").map_err(db)?;
                let positions: String = r.try_get("positions").map_err(db)?;
                Ok(DocClass {
                    code: r.try_get("code").map_err(db)?,
                    name: r.try_get("name").map_err(db)?,
                    rule: Rule::parse(&rule)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown rule {rule}")))?,
                    positions: positions
                        .split('\n')
                        .filter(|p| !p.is_empty())
                        .map(str::to_string)
                        .collect(),
                    regulation: r.try_get("regulation").map_err(db)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Some((default, classes)))
    }

    async fn append_audit(&self, events: &[AuditEvent]) -> StoreResult<i64> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let seq = append_in(&mut tx, events).await?;
        tx.commit().await.map_err(db)?;
        Ok(seq)
    }

    async fn audit_entries(&self, from: i64, to: i64) -> StoreResult<Vec<AuditEntry>> {
        let rows =
            sqlx::query("SELECT * FROM audit_log WHERE seq >= $1 AND seq <= $2 ORDER BY seq")
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await
                .map_err(db)?;
        rows.iter().map(audit_entry_from_row).collect()
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
        let rows = sqlx::query(&sql)
            .bind(from)
            .bind(filter.action.as_deref().unwrap_or(""))
            .bind(filter.actor.as_deref().unwrap_or(""))
            .bind(filter.official_nik.as_deref().unwrap_or(""))
            .bind(filter.from_micros.unwrap_or(i64::MIN))
            .bind(filter.to_micros.unwrap_or(i64::MAX))
            .bind(limit.clamp(1, 10_000))
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter().map(audit_entry_from_row).collect()
    }

    async fn audit_head(&self) -> StoreResult<Option<(i64, String)>> {
        let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(db)?;
        match row {
            None => Ok(None),
            Some(r) => {
                let seq: i64 = r.try_get("seq").map_err(db)?;
                let hash: String = r.try_get("hash").map_err(db)?;
                Ok((seq > 0).then_some((seq, hash)))
            }
        }
    }

    async fn insert_audit_anchor(&self, a: &AuditAnchor) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_anchors (seq, hash, token_der, at) VALUES ($1, $2, $3, $4)
             ON CONFLICT(seq) DO NOTHING",
        )
        .bind(a.seq)
        .bind(&a.hash)
        .bind(&a.token_der)
        .bind(ts(a.at))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn audit_anchors(&self) -> StoreResult<Vec<AuditAnchor>> {
        let rows = sqlx::query("SELECT * FROM audit_anchors ORDER BY seq")
            .fetch_all(&self.pool)
            .await
            .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(AuditAnchor {
                    seq: r.try_get("seq").map_err(db)?,
                    hash: r.try_get("hash").map_err(db)?,
                    token_der: r.try_get("token_der").map_err(db)?,
                    at: from_ts(r.try_get("at").map_err(db)?)?,
                })
            })
            .collect()
    }

    async fn take_download(
        &self,
        id: &str,
        client: Option<&str>,
        now: OffsetDateTime,
    ) -> StoreResult<Option<DownloadRecord>> {
        // One conditional UPDATE: of concurrent takers on any process, exactly one wins, and
        // only the client that asked for the signature can take it.
        let row = sqlx::query(
            "UPDATE downloads SET taken_at = $2
             WHERE id = $1 AND taken_at IS NULL AND expires_at > $2
               AND (client IS NULL OR client = $3)
             RETURNING id, blob_key, client, expires_at",
        )
        .bind(id)
        .bind(ts(now))
        .bind(client.unwrap_or(""))
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.map(|r| {
            Ok(DownloadRecord {
                id: r.try_get("id").map_err(db)?,
                blob_key: r.try_get("blob_key").map_err(db)?,
                client: r.try_get("client").map_err(db)?,
                expires_at: from_ts(r.try_get("expires_at").map_err(db)?)?,
            })
        })
        .transpose()
    }

    async fn push_outbox(&self, m: &OutboxMessage) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        push_outbox_on(&mut conn, m, OffsetDateTime::now_utc()).await
    }

    async fn outbox(&self, recipient: &str) -> StoreResult<Vec<OutboxMessage>> {
        let rows = sqlx::query(
            "SELECT recipient, subject, body FROM outbox WHERE lower(recipient) = lower($1) ORDER BY id",
        )
        .bind(recipient)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok(OutboxMessage {
                    recipient: r.try_get("recipient").map_err(db)?,
                    subject: r.try_get("subject").map_err(db)?,
                    body: r.try_get("body").map_err(db)?,
                })
            })
            .collect()
    }

    async fn pending_outbox(&self, limit: i64) -> StoreResult<Vec<(i64, OutboxMessage)>> {
        let rows = sqlx::query(
            "SELECT id, recipient, subject, body FROM outbox
             WHERE sent_at IS NULL AND attempts < $1 ORDER BY id LIMIT $2",
        )
        .bind(OUTBOX_MAX_ATTEMPTS)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("id").map_err(db)?,
                    OutboxMessage {
                        recipient: r.try_get("recipient").map_err(db)?,
                        subject: r.try_get("subject").map_err(db)?,
                        body: r.try_get("body").map_err(db)?,
                    },
                ))
            })
            .collect()
    }

    async fn claim_outbox(&self, id: i64, now: OffsetDateTime) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE outbox SET sent_at = $2 WHERE id = $1 AND sent_at IS NULL")
            .bind(id)
            .bind(ts(now))
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn outbox_failed(&self, id: i64, error: &str) -> StoreResult<()> {
        sqlx::query(
            "UPDATE outbox SET sent_at = NULL, attempts = attempts + 1, last_error = $2 WHERE id = $1",
        )
        .bind(id)
        .bind(error)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn outbox_delivered(&self, id: i64) -> StoreResult<()> {
        sqlx::query("UPDATE outbox SET body = '' WHERE id = $1 AND sent_at IS NOT NULL")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn insert_otp(
        &self,
        official_id: i64,
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
        .bind(CodePurpose::Sign.as_str())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn consume_code(
        &self,
        official_id: i64,
        purpose: CodePurpose,
        code_sha256: &str,
        count: i64,
        now: OffsetDateTime,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE one_time_codes SET uses_left = uses_left - $4
             WHERE official_id = $1 AND purpose = $2 AND code_sha256 = $3
               AND uses_left >= $4 AND expires_at > $5",
        )
        .bind(official_id)
        .bind(purpose.as_str())
        .bind(code_sha256)
        .bind(count)
        .bind(ts(now))
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
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
    .map_err(db)?;
    let mut tx = pool.begin().await.map_err(db)?;
    if backend == Backend::Postgres {
        sqlx::raw_sql("SELECT pg_advisory_xact_lock(7261002)")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    let version: i64 =
        sqlx::query("UPDATE schema_version SET version = version WHERE id = 1 RETURNING version")
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?
            .try_get("version")
            .map_err(db)?;
    let mut current = version;
    for (v, sql) in versioned {
        if *v > current {
            sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(db)?;
            current = *v;
        }
    }
    if current != version {
        sqlx::query("UPDATE schema_version SET version = $1 WHERE id = 1")
            .bind(current)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
    }
    tx.commit().await.map_err(db)
}

/// Appends `events` to the chain inside the caller's transaction. The first statement writes
/// the head row, which serialises appenders: PostgreSQL holds the row lock until commit, SQLite
/// takes its write lock (waiting on the busy timeout).
async fn append_in(conn: &mut AnyConnection, events: &[AuditEvent]) -> StoreResult<i64> {
    let head = sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    let mut seq: i64 = head.try_get("seq").map_err(db)?;
    let mut prev: String = head.try_get("hash").map_err(db)?;
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
        .map_err(db)?;
        prev = hash;
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(&prev)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
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
    .map_err(db)?;
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
    .map_err(db)?
    .try_get("id")
    .map_err(db)
}

fn official_from_row(r: &AnyRow) -> StoreResult<OfficialRecord> {
    Ok(OfficialRecord {
        id: r.try_get("id").map_err(db)?,
        nik: r.try_get("nik").map_err(db)?,
        nip: r.try_get("nip").map_err(db)?,
        name: r.try_get("name").map_err(db)?,
        email: r.try_get("email").map_err(db)?,
        position: r.try_get("position").map_err(db)?,
        unit: r.try_get("unit").map_err(db)?,
        ra_status: r.try_get("ra_status").map_err(db)?,
        kind: stored_kind(r, "kind", OfficialKind::parse)?,
        upstream: r.try_get::<i64, _>("upstream").map_err(db)? != 0,
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
        let mut tx = self.pool.begin().await.map_err(db)?;
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
        let done = query.bind(name).execute(&mut *tx).await.map_err(db)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        append_in(&mut tx, std::slice::from_ref(event)).await?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }
}

fn client_from_row(r: &AnyRow) -> StoreResult<ApiClientRecord> {
    let allow: String = r.try_get("allow_ips").map_err(db)?;
    Ok(ApiClientRecord {
        id: r.try_get("id").map_err(db)?,
        name: r.try_get("name").map_err(db)?,
        secret_sha256: r.try_get("secret_sha256").map_err(db)?,
        allow_ips: allow
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        default_class: r.try_get("default_class").map_err(db)?,
        disabled: r.try_get::<i64, _>("disabled").map_err(db)? != 0,
        role: {
            let role: String = r.try_get("role").map_err(db)?;
            ClientRole::parse(&role)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown client role {role:?}")))?
        },
        unit: r.try_get("unit").map_err(db)?,
        person_nik: r.try_get("person_nik").map_err(db)?,
        error_shape: stored_kind(r, "error_shape", ErrorShape::parse)?,
        created_at: from_ts(r.try_get("created_at").map_err(db)?)?,
    })
}
