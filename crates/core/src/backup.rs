//! The backup file: what one `sahih backup` holds and how it is laid out, and the rule that
//! keeps counters from repeating after a restore.
//!
//! Owns: the archive format (a POSIX ustar file, readable with `tar tvf`; names longer than
//! 100 bytes in a PAX `path` record), the entry names under `sahih-backup/`, the manifest
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

const BLOCK: usize = 512;

/// Writes a backup archive entry by entry; [`ArchiveWriter::finish`] adds the manifest.
pub struct ArchiveWriter<W: Write> {
    out: W,
    digests: BTreeMap<String, EntryDigest>,
    mtime: u64,
}

impl<W: Write> ArchiveWriter<W> {
    /// An archive written to `out`; entries carry `mtime` (Unix seconds).
    pub fn new(out: W, mtime: u64) -> Self {
        Self {
            out,
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
        let io = |e: &std::io::Error| BackupError::io(name, e);
        if name.len() > 100 {
            // PAX extended header: "LEN path=NAME\n", LEN counting itself.
            let body_len = " path=\n".len() + name.len();
            let mut len = body_len + 1;
            while len != body_len + len.to_string().len() {
                len = body_len + len.to_string().len();
            }
            let record = format!("{len} path={name}\n");
            let header = ustar_header("sahih-backup/PaxHeader", record.len() as u64, b'x', 0);
            self.out.write_all(&header).map_err(|e| io(&e))?;
            self.out.write_all(record.as_bytes()).map_err(|e| io(&e))?;
            self.pad(record.len() as u64).map_err(|e| io(&e))?;
        }
        let short: String = name.chars().take(100).collect();
        let header = ustar_header(&short, size, b'0', self.mtime);
        self.out.write_all(&header).map_err(|e| io(&e))?;
        let mut hashing = Hashing::new();
        let mut left = size;
        let mut buf = vec![0u8; 64 * 1024];
        while left > 0 {
            let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
            let n = reader.read(&mut buf[..want]).map_err(|e| io(&e))?;
            if n == 0 {
                return Err(BackupError::Io {
                    what: name.into(),
                    error: "shorter than announced".into(),
                });
            }
            hashing.update(&buf[..n]);
            self.out.write_all(&buf[..n]).map_err(|e| io(&e))?;
            left -= n as u64;
        }
        self.pad(size).map_err(|e| io(&e))?;
        Ok(hashing.finish())
    }

    fn pad(&mut self, size: u64) -> std::io::Result<()> {
        let rem = (size % BLOCK as u64) as usize;
        if rem != 0 {
            self.out.write_all(&[0u8; BLOCK][..BLOCK - rem])?;
        }
        Ok(())
    }

    /// Writes the manifest (with the digests of every entry added) and the end of the
    /// archive; returns the writer.
    pub fn finish(mut self, mut manifest: Manifest) -> Result<W, BackupError> {
        manifest.entries = std::mem::take(&mut self.digests);
        let json =
            serde_json::to_vec_pretty(&manifest).map_err(|e| BackupError::Format(e.to_string()))?;
        self.write_entry(MANIFEST, json.len() as u64, &mut &json[..])?;
        let io = |e: std::io::Error| BackupError::io("end of archive", &e);
        self.out.write_all(&[0u8; 2 * BLOCK]).map_err(io)?;
        self.out.flush().map_err(io)?;
        Ok(self.out)
    }
}

fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let text = format!("{value:0width$o}");
    let bytes = text.as_bytes();
    let start = bytes.len().saturating_sub(width);
    field[..width].copy_from_slice(&bytes[start..]);
    field[width] = 0;
}

fn ustar_header(name: &str, size: u64, kind: u8, mtime: u64) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    let n = name.as_bytes();
    h[..n.len().min(100)].copy_from_slice(&n[..n.len().min(100)]);
    octal(&mut h[100..108], 0o600);
    octal(&mut h[108..116], 0);
    octal(&mut h[116..124], 0);
    octal(&mut h[124..136], size);
    octal(&mut h[136..148], mtime);
    h[148..156].copy_from_slice(b"        ");
    h[156] = kind;
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
    octal(&mut h[148..155], u64::from(sum));
    h[155] = b' ';
    h
}

fn parse_octal(field: &[u8]) -> Option<u64> {
    let text: String = field
        .iter()
        .take_while(|b| **b != 0)
        .map(|b| char::from(*b))
        .collect();
    let text = text.trim();
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

/// Reads a backup archive entry by entry, checking every digest against the manifest.
pub struct ArchiveReader<R: Read> {
    input: R,
    seen: BTreeMap<String, EntryDigest>,
}

/// Chooses where a file entry's bytes go, given its name.
pub type EntrySink<'a> = dyn FnMut(&str) -> Result<Box<dyn Write>, BackupError> + 'a;

/// One entry of a backup being read.
pub enum Entry {
    /// A file entry: its name; its bytes were copied to the sink the caller chose.
    File(String),
    /// The manifest (the last entry), already checked against every entry read.
    Manifest(Manifest),
}

impl<R: Read> ArchiveReader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> Self {
        Self {
            input,
            seen: BTreeMap::new(),
        }
    }

    fn read_block(&mut self) -> Result<Option<[u8; BLOCK]>, BackupError> {
        let mut block = [0u8; BLOCK];
        let mut got = 0;
        while got < BLOCK {
            let n = self
                .input
                .read(&mut block[got..])
                .map_err(|e| BackupError::io("backup", &e))?;
            if n == 0 {
                return if got == 0 {
                    Ok(None)
                } else {
                    Err(BackupError::Format("truncated".into()))
                };
            }
            got += n;
        }
        Ok(Some(block))
    }

    /// Copies `size` bytes (and the padding) into `sink`, returning their digest.
    fn copy(&mut self, size: u64, sink: &mut dyn Write) -> Result<EntryDigest, BackupError> {
        let mut hashing = Hashing::new();
        let padded = size.div_ceil(BLOCK as u64) * BLOCK as u64;
        let mut left = padded;
        let mut buf = vec![0u8; 64 * 1024];
        while left > 0 {
            let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
            let n = self
                .input
                .read(&mut buf[..want])
                .map_err(|e| BackupError::io("backup", &e))?;
            if n == 0 {
                return Err(BackupError::Format("truncated".into()));
            }
            let consumed = padded - left;
            let data_end =
                usize::try_from(size.saturating_sub(consumed).min(n as u64)).unwrap_or(n);
            hashing.update(&buf[..data_end]);
            sink.write_all(&buf[..data_end])
                .map_err(|e| BackupError::io("restore", &e))?;
            left -= n as u64;
        }
        Ok(hashing.finish())
    }

    /// The next entry: `sink` chooses where a file entry's bytes go, given its name (the
    /// caller refuses names it does not expect). None at the end of the archive.
    pub fn next_entry(&mut self, sink: &mut EntrySink<'_>) -> Result<Option<Entry>, BackupError> {
        let mut long_name: Option<String> = None;
        loop {
            let Some(header) = self.read_block()? else {
                return Ok(None);
            };
            if header.iter().all(|b| *b == 0) {
                return Ok(None);
            }
            let stored: u32 = parse_octal(&header[148..156])
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| BackupError::Format("header checksum".into()))?;
            let sum: u32 = header
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    if (148..156).contains(&i) {
                        32
                    } else {
                        u32::from(*b)
                    }
                })
                .sum();
            if sum != stored || &header[257..262] != b"ustar" {
                return Err(BackupError::Format("not a ustar header".into()));
            }
            let size = parse_octal(&header[124..136])
                .ok_or_else(|| BackupError::Format("entry size".into()))?;
            match header[156] {
                b'x' => {
                    if size > 8192 {
                        return Err(BackupError::Format("PAX header too long".into()));
                    }
                    let mut record = Vec::new();
                    self.copy(size, &mut record)?;
                    let text = String::from_utf8(record)
                        .map_err(|_| BackupError::Format("PAX header".into()))?;
                    long_name = text
                        .lines()
                        .find_map(|l| l.split_once(" path=").map(|(_, p)| p.to_string()));
                }
                b'0' | 0 => {
                    let name = match long_name.take() {
                        Some(n) => n,
                        None => header[..100]
                            .iter()
                            .take_while(|b| **b != 0)
                            .map(|b| char::from(*b))
                            .collect(),
                    };
                    if name == MANIFEST {
                        return self.manifest(size).map(|m| Some(Entry::Manifest(m)));
                    }
                    if !name.starts_with(ROOT) || self.seen.contains_key(&name) {
                        return Err(BackupError::Format(format!("unexpected entry {name:?}")));
                    }
                    let mut out = sink(&name)?;
                    let digest = self.copy(size, &mut out)?;
                    out.flush().map_err(|e| BackupError::io(&name, &e))?;
                    self.seen.insert(name.clone(), digest);
                    return Ok(Some(Entry::File(name)));
                }
                other => {
                    return Err(BackupError::Format(format!(
                        "unexpected entry type {:?}",
                        char::from(other)
                    )));
                }
            }
        }
    }

    fn manifest(&mut self, size: u64) -> Result<Manifest, BackupError> {
        if size > 64 * 1024 * 1024 {
            return Err(BackupError::Format("manifest too large".into()));
        }
        let mut json = Vec::new();
        self.copy(size, &mut json)?;
        let manifest: Manifest = serde_json::from_slice(&json)
            .map_err(|e| BackupError::Format(format!("manifest: {e}")))?;
        if manifest.format != FORMAT_VERSION {
            return Err(BackupError::Format(format!(
                "format {} (this sahih reads {FORMAT_VERSION})",
                manifest.format
            )));
        }
        for (name, digest) in &self.seen {
            if manifest.entries.get(name) != Some(digest) {
                return Err(BackupError::Digest(name.clone()));
            }
        }
        if let Some(name) = manifest
            .entries
            .keys()
            .find(|n| !self.seen.contains_key(*n))
        {
            return Err(BackupError::Format(format!("entry {name} is missing")));
        }
        Ok(manifest)
    }
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
        let mut reader = ArchiveReader::new(bytes);
        loop {
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
            match reader.next_entry(&mut sink)? {
                Some(Entry::File(_)) => {}
                Some(Entry::Manifest(m)) => {
                    let files = files.lock().unwrap().clone();
                    return Ok((files, m));
                }
                None => return Err(BackupError::Format("no manifest".into())),
            }
        }
    }

    #[test]
    fn entries_round_trip_with_long_names_and_digests() {
        let long = format!("{BLOBS}{}/x.pdf", "a".repeat(150));
        let mut w = ArchiveWriter::new(Vec::new(), 1_700_000_000);
        w.add_bytes(CONFIG, b"org = 1\n").unwrap();
        w.add_bytes(&long, &vec![7u8; 1500]).unwrap();
        w.add_bytes(WITNESS, b"").unwrap();
        let bytes = w.finish(manifest()).unwrap();
        assert_eq!(bytes.len() % BLOCK, 0);
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
