//! The backup file: what one `sahih backup` holds and how it is laid out, and the rule that
//! keeps counters from repeating after a restore.
//!
//! Owns: the archive format (a tar file written and read through the `tar` crate, readable
//! with `tar tvf`), the entry names under `sahih-backup/`, the manifest
//! (format version, backend, what is inside, the SHA-256 of every entry) and its checks on
//! restore, and [`counter_floor_after_restore`].
//!
//! Must not know: SQL or how a database is dumped (the store does that), where blobs live,
//! terminals or progress output. Secrets: the master key is an entry only when the operator
//! asked for it; nothing here logs or prints entry contents.

use crate::Lang;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Write};

/// Every entry sits under this directory in the archive.
pub const ROOT: &str = "sahih-backup/";
/// `config.toml` of the data directory.
pub const CONFIG: &str = "sahih-backup/config.toml";
/// A consistent copy of the SQLite database (`VACUUM INTO`).
pub const DATABASE_SQLITE: &str = "sahih-backup/database.sqlite";
/// A PostgreSQL dump in `pg_dump --format=custom`.
pub const DATABASE_PGDUMP: &str = "sahih-backup/database.pgdump";
/// The audit witness file (anchors written outside the database), when it existed.
pub const WITNESS: &str = "sahih-backup/audit-witness.log";
/// The master key (64 hex characters), only with `--with-master-key`.
pub const MASTER_KEY: &str = "sahih-backup/master.key";
/// Blob store objects: `sahih-backup/blobs/<key>`.
pub const BLOBS: &str = "sahih-backup/blobs/";
/// The manifest, always the last entry.
pub const MANIFEST: &str = "sahih-backup/manifest.json";

/// Version of the layout above; a restore refuses any other.
pub const FORMAT_VERSION: u32 = 1;

/// Which database engine the dump comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseKind {
    /// `database.sqlite`.
    Sqlite,
    /// `database.pgdump`.
    Postgres,
}

/// What a backup holds, written last so that it can name every entry's digest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT_VERSION`].
    pub format: u32,
    /// The `sahih` version that wrote it.
    pub sahih_version: String,
    /// When the snapshot was taken (RFC 3339, UTC).
    pub created_at: String,
    /// The database engine.
    pub database: DatabaseKind,
    /// The blob store it was read from, without credentials (for the operator's eyes).
    pub blob_store: String,
    /// Whether the master key is inside.
    pub master_key_included: bool,
    /// Blob keys the database names that the blob store no longer had (e.g. one-time
    /// downloads fetched while the backup ran).
    pub missing_blobs: Vec<String>,
    /// Every other entry: name → SHA-256 (hex) and size.
    pub entries: BTreeMap<String, EntryDigest>,
}

/// The digest and size of one entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryDigest {
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
}

/// What can go wrong reading or writing a backup file.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// Reading or writing a file failed.
    #[error("{what}: {error}")]
    Io {
        /// The file or entry.
        what: String,
        /// The system's message.
        error: String,
    },
    /// The file is not a Sahih backup, or is damaged or truncated.
    #[error("not a valid Sahih backup: {0}")]
    Format(String),
    /// An entry's content differs from the manifest.
    #[error("entry {0} does not match its SHA-256 in the manifest")]
    Digest(String),
}

impl BackupError {
    fn io(what: impl Into<String>, e: &std::io::Error) -> Self {
        Self::Io {
            what: what.into(),
            error: e.to_string(),
        }
    }

    /// The message for people, in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Self::Io { what, error }, _) => format!("{what}: {error}"),
            (Self::Format(why), Lang::Id) => {
                format!("berkas bukan cadangan Sahih yang utuh: {why}")
            }
            (Self::Format(why), Lang::En) => format!("not a valid Sahih backup: {why}"),
            (Self::Digest(name), Lang::Id) => {
                format!("isi {name} tidak cocok dengan SHA-256 di manifest (berkas rusak)")
            }
            (Self::Digest(name), Lang::En) => {
                format!("entry {name} does not match its SHA-256 in the manifest (damaged file)")
            }
        }
    }
}

/// Checks a blob key read from an archive before it becomes a path or an object name: the
/// same rule as the blob stores (ASCII `[A-Za-z0-9._/-]`, relative, no empty, `.` or `..`
/// segment, at most 1024 bytes).
pub fn safe_blob_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 1024
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
        && key.split('/').all(|s| !matches!(s, "" | "." | ".."))
}

/// The value a counter (TSA serial blocks, CRL numbers) is raised to when a backup is restored:
/// at least `backup_value + 2^32`, and at least the current time in microseconds since 1970.
///
/// Why this cannot repeat a value: between the backup and the restore the lost deployment may
/// have reserved more values, and nobody knows how many. Each reservation is one committed
/// write of one row, so a counter moves by far less than one per microsecond; a counter that
/// was raised to the clock at a restore therefore stays below the clock afterwards, and so
/// does every value it handed out. Raising it to the clock again at the next restore puts it
/// above all of them. The `2^32` margin covers a counter never raised before (small values)
/// and a clock that is behind.
pub fn counter_floor_after_restore(backup_value: i64, now_micros: i64) -> i64 {
    backup_value.saturating_add(1 << 32).max(now_micros)
}

/// SHA-256 over a stream, as the archive writes and reads it.
struct Hashing {
    ctx: aws_lc_rs::digest::Context,
    size: u64,
}

impl Hashing {
    fn new() -> Self {
        Self {
            ctx: aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256),
            size: 0,
        }
    }
    fn update(&mut self, bytes: &[u8]) {
        self.ctx.update(bytes);
        self.size += bytes.len() as u64;
    }
    fn finish(self) -> EntryDigest {
        EntryDigest {
            sha256: hex::encode(self.ctx.finish().as_ref()),
            size: self.size,
        }
    }
}

/// Counts and hashes what passes through, for the entry being written.
struct HashingReader<'a> {
    inner: std::io::Take<&'a mut dyn Read>,
    hashing: Hashing,
}

impl Read for HashingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hashing.update(&buf[..n]);
        Ok(n)
    }
}

/// Writes a backup archive entry by entry (a tar file through the `tar` crate; names longer
/// than a header holds go in GNU long-name records); [`ArchiveWriter::finish`] adds the
/// manifest.
pub struct ArchiveWriter<W: Write> {
    tar: tar::Builder<W>,
    digests: BTreeMap<String, EntryDigest>,
    mtime: u64,
}

impl<W: Write> ArchiveWriter<W> {
    /// An archive written to `out`; entries carry `mtime` (Unix seconds).
    pub fn new(out: W, mtime: u64) -> Self {
        Self {
            tar: tar::Builder::new(out),
            digests: BTreeMap::new(),
            mtime,
        }
    }

    /// Adds an entry from memory.
    pub fn add_bytes(&mut self, name: &str, bytes: &[u8]) -> Result<(), BackupError> {
        self.add_reader(name, bytes.len() as u64, &mut &bytes[..])
    }

    /// Adds an entry of exactly `size` bytes read from `reader` (streamed: a large database
    /// dump is never held in memory).
    pub fn add_reader(
        &mut self,
        name: &str,
        size: u64,
        reader: &mut dyn Read,
    ) -> Result<(), BackupError> {
        if !name.starts_with(ROOT) || self.digests.contains_key(name) || name == MANIFEST {
            return Err(BackupError::Format(format!("entry name {name:?}")));
        }
        let digest = self.write_entry(name, size, reader)?;
        self.digests.insert(name.to_string(), digest);
        Ok(())
    }

    fn write_entry(
        &mut self,
        name: &str,
        size: u64,
        reader: &mut dyn Read,
    ) -> Result<EntryDigest, BackupError> {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(size);
        header.set_mode(0o600);
        header.set_mtime(self.mtime);
        let mut hashed = HashingReader {
            inner: reader.take(size),
            hashing: Hashing::new(),
        };
        self.tar
            .append_data(&mut header, name, &mut hashed)
            .map_err(|e| BackupError::io(name, &e))?;
        let digest = hashed.hashing.finish();
        if digest.size != size {
            return Err(BackupError::Io {
                what: name.into(),
                error: "shorter than announced".into(),
            });
        }
        Ok(digest)
    }

    /// Writes the manifest (with the digests of every entry added) and the end of the
    /// archive; returns the writer.
    pub fn finish(mut self, mut manifest: Manifest) -> Result<W, BackupError> {
        manifest.entries = std::mem::take(&mut self.digests);
        let json =
            serde_json::to_vec_pretty(&manifest).map_err(|e| BackupError::Format(e.to_string()))?;
        self.write_entry(MANIFEST, json.len() as u64, &mut &json[..])?;
        let io = |e: std::io::Error| BackupError::io("end of archive", &e);
        let mut out = self.tar.into_inner().map_err(io)?;
        out.flush().map_err(io)?;
        Ok(out)
    }
}

/// Chooses where a file entry's bytes go, given its name.
pub type EntrySink<'a> = dyn FnMut(&str) -> Result<Box<dyn Write>, BackupError> + 'a;

/// Reads a backup archive from `input`: each file entry's bytes go to the writer `sink` chooses
/// for its name (the caller refuses names it does not expect), and every digest is checked
/// against the manifest, the last entry. Returns the names of the file entries, in order, and
/// the manifest. Anything but plain files (links, devices, directories) is refused.
pub fn read_archive<R: Read>(
    input: R,
    sink: &mut EntrySink<'_>,
) -> Result<(Vec<String>, Manifest), BackupError> {
    let format = |e: std::io::Error| BackupError::Format(e.to_string());
    let mut archive = tar::Archive::new(input);
    let mut seen: BTreeMap<String, EntryDigest> = BTreeMap::new();
    let mut names = Vec::new();
    for entry in archive.entries().map_err(format)? {
        let mut entry = entry.map_err(format)?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(BackupError::Format(format!(
                "unexpected entry type {:?}",
                entry.header().entry_type()
            )));
        }
        let name = String::from_utf8(entry.path_bytes().into_owned())
            .map_err(|_| BackupError::Format("entry name is not UTF-8".into()))?;
        if name == MANIFEST {
            return manifest(&mut entry, &seen).map(|m| (names, m));
        }
        if !name.starts_with(ROOT) || seen.contains_key(&name) {
            return Err(BackupError::Format(format!("unexpected entry {name:?}")));
        }
        let mut out = sink(&name)?;
        let digest = copy_hashing(&mut entry, &mut out)?;
        out.flush().map_err(|e| BackupError::io(&name, &e))?;
        seen.insert(name.clone(), digest);
        names.push(name);
    }
    Err(BackupError::Format("no manifest (truncated?)".into()))
}

/// Copies an entry into `sink`, returning its digest.
fn copy_hashing(entry: &mut dyn Read, sink: &mut dyn Write) -> Result<EntryDigest, BackupError> {
    let mut hashing = Hashing::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = entry
            .read(&mut buf)
            .map_err(|e| BackupError::Format(e.to_string()))?;
        if n == 0 {
            return Ok(hashing.finish());
        }
        hashing.update(&buf[..n]);
        sink.write_all(&buf[..n])
            .map_err(|e| BackupError::io("restore", &e))?;
    }
}

/// The manifest entry, checked against every entry read before it.
fn manifest(
    entry: &mut tar::Entry<'_, impl Read>,
    seen: &BTreeMap<String, EntryDigest>,
) -> Result<Manifest, BackupError> {
    if entry.size() > 64 * 1024 * 1024 {
        return Err(BackupError::Format("manifest too large".into()));
    }
    let mut json = Vec::new();
    copy_hashing(entry, &mut json)?;
    let manifest: Manifest =
        serde_json::from_slice(&json).map_err(|e| BackupError::Format(format!("manifest: {e}")))?;
    if manifest.format != FORMAT_VERSION {
        return Err(BackupError::Format(format!(
            "format {} (this sahih reads {FORMAT_VERSION})",
            manifest.format
        )));
    }
    for (name, digest) in seen {
        if manifest.entries.get(name) != Some(digest) {
            return Err(BackupError::Digest(name.clone()));
        }
    }
    if let Some(name) = manifest.entries.keys().find(|n| !seen.contains_key(*n)) {
        return Err(BackupError::Format(format!("entry {name} is missing")));
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest {
            format: FORMAT_VERSION,
            sahih_version: "test".into(),
            created_at: "2026-01-01T00:00:00Z".into(),
            database: DatabaseKind::Sqlite,
            blob_store: "file:///x".into(),
            master_key_included: false,
            missing_blobs: Vec::new(),
            entries: BTreeMap::new(),
        }
    }

    fn read_all(bytes: &[u8]) -> Result<(BTreeMap<String, Vec<u8>>, Manifest), BackupError> {
        use std::sync::{Arc, Mutex};
        let files: Arc<Mutex<BTreeMap<String, Vec<u8>>>> = Arc::default();
        let files2 = files.clone();
        let mut sink = move |name: &str| -> Result<Box<dyn Write>, BackupError> {
            struct W(Arc<Mutex<BTreeMap<String, Vec<u8>>>>, String);
            impl Write for W {
                fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                    self.0
                        .lock()
                        .unwrap()
                        .entry(self.1.clone())
                        .or_default()
                        .extend(b);
                    Ok(b.len())
                }
                fn flush(&mut self) -> std::io::Result<()> {
                    Ok(())
                }
            }
            Ok(Box::new(W(files2.clone(), name.to_string())))
        };
        let (_, m) = read_archive(bytes, &mut sink)?;
        let files = files.lock().unwrap().clone();
        Ok((files, m))
    }

    #[test]
    fn entries_round_trip_with_long_names_and_digests() {
        let long = format!("{BLOBS}{}/x.pdf", "a".repeat(150));
        let mut w = ArchiveWriter::new(Vec::new(), 1_700_000_000);
        w.add_bytes(CONFIG, b"org = 1\n").unwrap();
        w.add_bytes(&long, &vec![7u8; 1500]).unwrap();
        w.add_bytes(WITNESS, b"").unwrap();
        let bytes = w.finish(manifest()).unwrap();
        assert_eq!(bytes.len() % 512, 0);
        let (files, m) = read_all(&bytes).unwrap();
        assert_eq!(files[CONFIG], b"org = 1\n");
        assert_eq!(files[&long], vec![7u8; 1500]);
        assert_eq!(m.entries.len(), 3);
        assert_eq!(m.entries[&long].size, 1500);
    }

    #[test]
    fn a_changed_byte_or_a_cut_is_refused() {
        let mut w = ArchiveWriter::new(Vec::new(), 0);
        w.add_bytes(CONFIG, b"hello backup").unwrap();
        let bytes = w.finish(manifest()).unwrap();
        let at = bytes.windows(5).position(|x| x == b"hello").unwrap();
        let mut bad = bytes.clone();
        bad[at] = b'j';
        assert!(matches!(read_all(&bad), Err(BackupError::Digest(_))));
        assert!(read_all(&bytes[..bytes.len() / 2]).is_err());
    }

    #[test]
    fn links_and_other_entry_types_are_refused() {
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_size(0);
        tar.append_link(&mut header, CONFIG, "/etc/shadow").unwrap();
        let bytes = tar.into_inner().unwrap();
        let e = read_all(&bytes).unwrap_err();
        assert!(
            matches!(e, BackupError::Format(ref m) if m.contains("entry type")),
            "{e:?}"
        );
    }

    #[test]
    fn blob_keys_from_an_archive_are_checked() {
        assert!(safe_blob_key("signing-requests/abc/0.pdf"));
        for bad in ["", "../x", "a//b", "/abs", "a/./b", "a b", "é"] {
            assert!(!safe_blob_key(bad), "{bad:?}");
        }
    }

    #[test]
    fn counters_jump_past_anything_the_lost_deployment_could_have_reserved() {
        let now = 1_750_000_000_000_000;
        assert_eq!(counter_floor_after_restore(5, now), now);
        assert_eq!(counter_floor_after_restore(now, 0), now + (1 << 32));
        assert!(counter_floor_after_restore(i64::MAX, now) == i64::MAX);
    }
}
