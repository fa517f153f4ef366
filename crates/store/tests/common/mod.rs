//! A fresh database per test: an SQLite file in a temporary directory, or a uniquely named
//! PostgreSQL database from `SAHIH_TEST_PG_URL` (dropped afterwards). Without that variable the
//! PostgreSQL half is skipped with a loud line, except in CI where it fails.

#![allow(clippy::unwrap_used, dead_code)]

use time::OffsetDateTime;

pub(crate) struct TestDb {
    /// The database URL to connect to.
    pub(crate) url: String,
    admin_url: Option<String>,
    name: String,
    _dir: Option<std::path::PathBuf>,
}

impl TestDb {
    pub(crate) async fn sqlite(tag: &str) -> TestDb {
        let dir = std::env::temp_dir().join(format!(
            "sahih-store-{tag}-{}-{}",
            std::process::id(),
            OffsetDateTime::now_utc().unix_timestamp_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
        TestDb {
            url,
            admin_url: None,
            name: String::new(),
            _dir: Some(dir),
        }
    }

    pub(crate) async fn postgres(tag: &str) -> Option<TestDb> {
        let Ok(admin_url) = std::env::var("SAHIH_TEST_PG_URL") else {
            assert!(
                std::env::var_os("CI").is_none(),
                "SAHIH_TEST_PG_URL not set, and CI must not skip the PostgreSQL half of {tag}"
            );
            eprintln!(
                "\n!!! SKIPPED: PostgreSQL half of store test {tag} (SAHIH_TEST_PG_URL not set; run scripts/test.sh) !!!\n"
            );
            return None;
        };
        let name = format!(
            "sahih_t_{tag}_{}_{}",
            std::process::id(),
            OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000_000
        );
        sqlx::any::install_default_drivers();
        let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let url = replace_db(&admin_url, &name);
        Some(TestDb {
            url,
            admin_url: Some(admin_url),
            name,
            _dir: None,
        })
    }

    pub(crate) async fn drop_db(self) {
        if let Some(admin_url) = &self.admin_url {
            let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(admin_url)
                .await
                .unwrap();
            sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin)
            .await
            .unwrap();
        }
        if let Some(dir) = &self._dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// `postgres://u@h:p/db?x` with the database replaced.
fn replace_db(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    format!("{base}/{name}{query}")
}
