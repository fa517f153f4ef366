//! The database half of `sahih backup` and `sahih restore`: consistent snapshots, the list of
//! blob keys a snapshot refers to, loading a dump back, and raising counters after a restore.
//!
//! Owns: `VACUUM INTO` for SQLite; for PostgreSQL, driving `pg_dump` inside an exported
//! repeatable-read snapshot (so the dump and the blob key list are the same instant) and
//! `pg_restore`; the tables that name blob keys; the `counters` update of a restore.
//!
//! Must not know: the archive format, where blobs live, terminals. The database password never
//! reaches a command line, an error or a log: it goes to `pg_dump`/`pg_restore` in
//! `PGPASSWORD`, and URLs are shown through [`crate::redact_url`].

use crate::rows::{Columns, Db};
use crate::{Backend, SqlStore, redact_url};
use sahih_core::store::{StoreError, StoreResult};
use sqlx::Connection;
use std::path::Path;

/// Every blob key the database refers to (evidence, one-time downloads, signing requests'
/// documents before and after signing).
const BLOB_KEYS_SQL: &str = "SELECT blob_key AS k FROM downloads
     UNION SELECT blob_key AS k FROM ra_evidence
     UNION SELECT blob_key AS k FROM signing_request_documents
     UNION SELECT signed_blob_key AS k FROM signing_request_documents WHERE signed_blob_key IS NOT NULL
     ORDER BY k";

/// How many CA ids past the highest one get a CRL-number counter at a restore: a CA rotated
/// after the backup is lost with it, and the next rotation reuses its id and name.
const FUTURE_CA_IDS: i64 = 16;

impl SqlStore {
    /// SQLite: writes a consistent copy of the live database to `dest` (`VACUUM INTO`, one
    /// read transaction; writers go on meanwhile). `dest` must not exist.
    pub async fn sqlite_snapshot(&self, dest: &Path) -> StoreResult<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Database("sqlite_snapshot on PostgreSQL".into()));
        }
        let dest = dest
            .to_str()
            .ok_or_else(|| StoreError::Database("snapshot path is not UTF-8".into()))?;
        self.run(sqlx::query("VACUUM INTO $1").bind(dest.to_string()))
            .await?;
        Ok(())
    }

    /// Every blob key the database names, sorted.
    pub async fn blob_keys(&self) -> StoreResult<Vec<String>> {
        self.all(sqlx::query(BLOB_KEYS_SQL), |r| r.col("k")).await
    }

    /// True when the database already holds a CA (an installation).
    pub async fn holds_installation(&self) -> StoreResult<bool> {
        let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM ca")
            .fetch_one(&self.pool)
            .await
            .db()?
            .col("n")?;
        Ok(n > 0)
    }

    /// After a restore: raises the TSA serial-block counter and every CA's CRL-number counter
    /// (also those of the next CA ids) to `floor(value)` (0 for a counter not in the backup),
    /// never lowering one. Returns each counter with its old and new value.
    pub async fn raise_counters_after_restore(
        &self,
        floor: impl Fn(i64) -> i64,
    ) -> StoreResult<Vec<(String, i64, i64)>> {
        let mut tx = self.begin().await?;
        let rows = sqlx::query("SELECT name, value FROM counters ORDER BY name")
            .fetch_all(&mut *tx)
            .await
            .db()?;
        let mut counters = std::collections::BTreeMap::new();
        for r in &rows {
            counters.insert(r.col::<String>("name")?, r.col::<i64>("value")?);
        }
        let max_ca: Option<i64> = sqlx::query("SELECT MAX(id) AS m FROM ca")
            .fetch_one(&mut *tx)
            .await
            .db()?
            .col("m")?;
        counters.entry("tsa_serial_block".into()).or_insert(0);
        for id in 1..=max_ca.unwrap_or(0).saturating_add(FUTURE_CA_IDS) {
            counters.entry(format!("crl:{id}")).or_insert(0);
        }
        let mut out = Vec::new();
        for (name, old) in counters {
            let new = floor(old).max(old);
            sqlx::query(
                "INSERT INTO counters (name, value) VALUES ($1, $2)
                 ON CONFLICT(name) DO UPDATE SET value = $2 WHERE counters.value < $2",
            )
            .bind(&name)
            .bind(new)
            .execute(&mut *tx)
            .await
            .db()?;
            out.push((name, old, new));
        }
        tx.commit().await.db()?;
        Ok(out)
    }

    /// PostgreSQL: dumps the database to `dest` (`pg_dump --format=custom`) inside one
    /// repeatable-read snapshot, and returns the blob keys as of that same snapshot.
    pub async fn postgres_dump(&self, url: &str, dest: &Path) -> StoreResult<Vec<String>> {
        if self.backend != Backend::Postgres {
            return Err(StoreError::Database("postgres_dump on SQLite".into()));
        }
        let mut conn = self.pool.acquire().await.db()?;
        sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *conn)
            .await
            .db()?;
        let snapshot: String = sqlx::query("SELECT pg_export_snapshot() AS s")
            .fetch_one(&mut *conn)
            .await
            .db()?
            .col("s")?;
        let dumped = run_pg_tool(
            "pg_dump",
            url,
            vec![
                "--format=custom".into(),
                "--no-owner".into(),
                "--no-privileges".into(),
                format!("--snapshot={snapshot}"),
                format!("--file={}", dest.display()),
            ],
        )
        .await;
        let keys = match dumped {
            Ok(()) => sqlx::query(BLOB_KEYS_SQL)
                .fetch_all(&mut *conn)
                .await
                .db()
                .and_then(|rows| rows.iter().map(|r| r.col("k")).collect()),
            Err(e) => Err(e),
        };
        sqlx::raw_sql("COMMIT").execute(&mut *conn).await.db()?;
        keys
    }
}

/// The file of a `sqlite:` database URL (None for other URLs and in-memory databases).
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    crate::sqlite_path(url)
}

/// PostgreSQL: true when the database at `url` has any table in its schema (checked without
/// creating Sahih's tables first).
pub async fn postgres_has_tables(url: &str) -> StoreResult<bool> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .map_err(|e| StoreError::Database(format!("{}: {e}", redact_url(url))))?;
    let n: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_one(&mut conn)
    .await
    .db()?
    .col("n")?;
    let _ = conn.close().await;
    Ok(n > 0)
}

/// PostgreSQL: loads a `pg_dump --format=custom` file into the database at `url` in one
/// transaction (`pg_restore --clean --if-exists`: objects of the dump already there are
/// replaced).
pub async fn postgres_restore(url: &str, dump: &Path) -> StoreResult<()> {
    run_pg_tool(
        "pg_restore",
        url,
        vec![
            "--no-owner".into(),
            "--no-privileges".into(),
            "--clean".into(),
            "--if-exists".into(),
            "--single-transaction".into(),
            "--exit-on-error".into(),
            dump.display().to_string(),
        ],
    )
    .await
}

/// Splits the password out of a `postgres://user:password@host/db` URL: the URL without it,
/// and the password (percent-decoded) for `PGPASSWORD`.
fn without_password(url: &str) -> (String, Option<String>) {
    let Some(scheme_end) = url.find("://") else {
        return (url.to_string(), None);
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return (url.to_string(), None);
    };
    let userinfo = &rest[..at];
    let Some((user, password)) = userinfo.split_once(':') else {
        return (url.to_string(), None);
    };
    let mut decoded = Vec::new();
    let bytes = password.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(b) => {
                decoded.push(b);
                i += 3;
            }
            None => {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
    }
    (
        format!("{}{user}{}", &url[..scheme_end + 3], &rest[at..]),
        Some(String::from_utf8_lossy(&decoded).into_owned()),
    )
}

/// Runs `pg_dump` or `pg_restore` against `url` with `args`; a missing program is an error
/// that says what to install.
async fn run_pg_tool(program: &'static str, url: &str, mut args: Vec<String>) -> StoreResult<()> {
    let (plain_url, password) = without_password(url);
    args.push(format!("--dbname={plain_url}"));
    let shown = redact_url(url);
    let output = tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(program);
        cmd.args(&args).stdin(std::process::Stdio::null());
        if let Some(p) = password {
            cmd.env("PGPASSWORD", p);
        }
        cmd.output()
    })
    .await
    .map_err(|e| StoreError::Database(format!("{program}: {e}")))?;
    let output = match output {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(StoreError::Database(format!(
                "{program} not found: install the PostgreSQL client tools, the server's major \
                 version or newer (Debian/Ubuntu: apt-get install postgresql-client)"
            )));
        }
        Err(e) => return Err(StoreError::Database(format!("{program}: {e}"))),
    };
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first: String = stderr.lines().take(5).collect::<Vec<_>>().join(" / ");
    Err(StoreError::Database(format!(
        "{program} failed on {shown} ({}): {}",
        output.status,
        first.replace(url, &shown)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url() {
        assert_eq!(
            without_password("postgres://u:p%40ss@h:5432/db?sslmode=disable"),
            (
                "postgres://u@h:5432/db?sslmode=disable".to_string(),
                Some("p@ss".to_string())
            )
        );
        assert_eq!(
            without_password("postgres://postgres@127.0.0.1/x"),
            ("postgres://postgres@127.0.0.1/x".to_string(), None)
        );
    }
}
