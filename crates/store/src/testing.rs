//! A fresh institution in a directory (configuration, master key, SQLite database, local blob
//! store and CA hierarchy), for the tests of this crate and of the crates above it, which need
//! the real store and not a mock of it.
//!
//! Must not know: what a test does with it.

use crate::SqlStore;
use crate::blob::AnyBlobStore;
use sahih_core::{Config, CoreError, DataDir, Sahih};
use std::path::{Path, PathBuf};

/// The institution every test uses.
pub const INSTITUTION: &str = "Pemerintah Kota Contoh";

/// An institution in `dir` (which must exist), answering at `base_url`.
pub async fn institution_in(
    dir: &Path,
    base_url: &str,
) -> Result<(Sahih<SqlStore>, AnyBlobStore), CoreError> {
    let data = DataDir::new(dir);
    let config = Config::new(INSTITUTION, base_url);
    data.write_config(&config)?;
    data.create_master_key()?;
    let keys = sahih_core::keystore::KeyBackend::from_config(&config)?;
    let store =
        SqlStore::connect(&format!("sqlite://{}?mode=rwc", dir.join("t.db").display())).await?;
    let blobs = AnyBlobStore::from_url(&data.blob_url(Some(&config)))?;
    let sahih = Sahih {
        store,
        config,
        data,
        keys,
    };
    sahih.create_ca_hierarchy().await?;
    Ok((sahih, blobs))
}

/// An institution in a new temporary directory, removed when this is dropped.
pub struct Institution {
    /// The domain over the store.
    pub sahih: Sahih<SqlStore>,
    /// Its blob store (a directory inside `dir`).
    pub blobs: AnyBlobStore,
    /// The data directory.
    pub dir: PathBuf,
}

impl Institution {
    /// A new one; `tag` names the directory, so a leftover one says which test made it.
    pub async fn new(tag: &str, base_url: &str) -> Result<Self, CoreError> {
        let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
        let dir = std::env::temp_dir().join(format!("sahih-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| CoreError::Io(format!("{}: {e}", dir.display())))?;
        let (sahih, blobs) = institution_in(&dir, base_url).await?;
        Ok(Self { sahih, blobs, dir })
    }
}

impl Drop for Institution {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Forgets every counted failed authentication, for tests that fail on purpose more often than
/// the throttle allows (the authorization matrix sends a disabled client to every route).
pub async fn forget_auth_failures(store: &SqlStore) -> Result<(), CoreError> {
    use crate::rows::Db;
    sqlx::query("DELETE FROM auth_failures")
        .execute(&store.pool)
        .await
        .db()?;
    Ok(())
}
