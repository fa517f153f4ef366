//! The local-directory blob store: objects as owner-only files under a root directory.
//!
//! Owns: mapping keys to paths, and atomic, durable writes (temp file, fsync, rename, fsync of
//! the directory).
//!
//! Must not know: S3, URLs (the root comes parsed from `super`), or what the objects are.

use super::{backend, blocking, validate_key};
use sahih_core::store::{BlobError, BlobStore};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Objects as files under `root` (key `signed/a.pdf` is `root/signed/a.pdf`).
#[derive(Debug, Clone)]
pub struct LocalBlobStore {
    /// Directory the keys are relative to; it and subdirectories are created (mode 0700) on write.
    pub root: PathBuf,
}

impl LocalBlobStore {
    /// A store under `root`; nothing is created before the first `put`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalBlobStore { root: root.into() }
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, BlobError> {
        validate_key(key)?;
        Ok(self.root.join(key))
    }
}

fn io_err(path: &Path, e: std::io::Error) -> BlobError {
    backend(format!("{}: {e}", path.display()))
}

/// Write to a uniquely named temp file in the target directory, fsync, rename over the target,
/// fsync the directory: readers see the old or the new object, never a partial one.
fn put_file(path: &Path, bytes: &[u8]) -> Result<(), BlobError> {
    write_atomically(path, |f| f.write_all(bytes)).map(|_| ())
}

/// [`put_file`] with the content copied from `source` in bounded chunks; returns the size.
fn put_copy(path: &Path, source: &Path) -> Result<u64, BlobError> {
    let mut from = std::fs::File::open(source).map_err(|e| io_err(source, e))?;
    write_atomically(path, |f| std::io::copy(&mut from, f).map(|_| ()))?;
    std::fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| io_err(path, e))
}

/// Creates (or truncates) an owner-only file at `path`.
pub(super) fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

fn write_atomically(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<(), BlobError> {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(backend(format!("{}: not a file path", path.display())));
    };
    private_dir(dir).map_err(|e| io_err(dir, e))?;
    let mut suffix = [0u8; 8];
    aws_lc_rs::rand::fill(&mut suffix).map_err(|_| backend("random generator failed"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp-{}", hex::encode(suffix)));
    let tmp = dir.join(tmp_name);
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        // Evidence and signed letters are personal data: owner only, whatever the umask.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp)?;
        fill(&mut f)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = written {
        // Best effort: the temp file is ours and useless now.
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err(path, e));
    }
    sync_dir(dir).map_err(|e| io_err(dir, e))
}

/// Creates `dir` and its missing parents as owner-only directories.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Makes the rename durable (the directory entry lives in the directory).
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

impl BlobStore for LocalBlobStore {
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), BlobError> {
        let path = self.path_of(key)?;
        blocking(move || put_file(&path, &bytes)).await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        let path = self.path_of(key)?;
        blocking(move || match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path, e)),
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        let path = self.path_of(key)?;
        blocking(move || match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&path, e)),
        })
        .await
    }
    async fn put_file(&self, key: &str, source: &Path) -> Result<u64, BlobError> {
        let path = self.path_of(key)?;
        let source = source.to_owned();
        blocking(move || put_copy(&path, &source)).await
    }

    async fn get_to_file(&self, key: &str, target: &Path) -> Result<Option<u64>, BlobError> {
        let path = self.path_of(key)?;
        let target = target.to_owned();
        blocking(move || {
            let mut from = match std::fs::File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(io_err(&path, e)),
            };
            let mut to = create_private(&target).map_err(|e| io_err(&target, e))?;
            let n = std::io::copy(&mut from, &mut to).map_err(|e| io_err(&target, e))?;
            Ok(Some(n))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::super::AnyBlobStore;
    use super::*;

    #[tokio::test]
    async fn local_round_trip() {
        let mut rnd = [0u8; 8];
        aws_lc_rs::rand::fill(&mut rnd).unwrap();
        let root = std::env::temp_dir().join(format!("sahih-blob-test-{}", hex::encode(rnd)));
        let store = LocalBlobStore::new(&root);

        assert_eq!(store.get("signed/a.pdf").await.unwrap(), None);
        store.put("signed/a.pdf", b"one".to_vec()).await.unwrap();
        assert_eq!(
            store.get("signed/a.pdf").await.unwrap().as_deref(),
            Some(&b"one"[..])
        );
        store.put("signed/a.pdf", b"two!".to_vec()).await.unwrap();
        assert_eq!(
            store.get("signed/a.pdf").await.unwrap().as_deref(),
            Some(&b"two!"[..])
        );
        // No temp files are left behind.
        let names: Vec<_> = std::fs::read_dir(root.join("signed"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("a.pdf")]);
        // Owner only, whatever the umask (evidence and signed letters are personal data).
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode =
                |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&root.join("signed/a.pdf")), 0o600);
            assert_eq!(mode(&root.join("signed")), 0o700);
            assert_eq!(mode(&root), 0o700);
        }

        store.delete("signed/a.pdf").await.unwrap();
        assert_eq!(store.get("signed/a.pdf").await.unwrap(), None);
        store.delete("signed/a.pdf").await.unwrap();
        assert!(matches!(
            store.put("../escape", vec![]).await,
            Err(BlobError::InvalidKey(_))
        ));

        // Streaming in and out of files.
        let src = root.join("source.bin");
        let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&src, &big).unwrap();
        assert_eq!(store.put_file("big/x.bin", &src).await.unwrap(), 3_000_000);
        let out = root.join("out.bin");
        assert_eq!(
            store.get_to_file("big/x.bin", &out).await.unwrap(),
            Some(3_000_000)
        );
        assert!(std::fs::read(&out).unwrap() == big);
        assert_eq!(store.get_to_file("big/none", &out).await.unwrap(), None);
        assert!(matches!(
            store.put_file("../x", &src).await,
            Err(BlobError::InvalidKey(_))
        ));

        let any = AnyBlobStore::from_url(&format!("file://{}", root.display())).unwrap();
        any.put("e/1", b"x".to_vec()).await.unwrap();
        assert_eq!(store.get("e/1").await.unwrap().as_deref(), Some(&b"x"[..]));

        std::fs::remove_dir_all(&root).unwrap();
    }
}
