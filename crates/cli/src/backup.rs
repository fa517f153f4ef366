//! `sahih backup` and `sahih restore`: one file with the database, the blob store's objects,
//! `config.toml`, the audit witness and (only when asked) the master key, and the way back to
//! a working data directory.
//!
//! Owns: the order of the steps (witness before the database snapshot, so every witnessed
//! anchor is in it; blobs from the keys the snapshot names), temporary files (owner-only, in
//! a private directory, removed on every path), progress and the master-key warnings, and the
//! restore's refusal of a non-empty directory or database without `--force`.
//!
//! Must not know: SQL or how a dump is made (`sahih_store::backup`), the archive layout
//! (`sahih_core::backup`), or the contents of the master key beyond copying it.

use crate::{Failure, blob_store, database_url, open};
use clap::Args;
use sahih_core::backup::{self as format, ArchiveWriter, DatabaseKind};
use sahih_core::store::{BlobStore, Store};
use sahih_core::{CoreError, DataDir, Lang};
use sahih_store::SqlStore;
use sahih_store::blob::AnyBlobStore;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub(crate) struct BackupArgs {
    /// The backup file to write (refused when it exists).
    #[arg(short, long)]
    output: PathBuf,
    /// Put the master key into the file too: then the file is as secret as the key.
    #[arg(long)]
    with_master_key: bool,
}

#[derive(Args)]
pub(crate) struct RestoreArgs {
    /// The backup file written by `sahih backup`.
    file: PathBuf,
    /// Restore over a non-empty data directory (it is moved aside, not deleted) or a
    /// PostgreSQL database that already has tables (they are replaced).
    #[arg(long)]
    force: bool,
}

fn say(lang: Lang, id: &str, en: &str) -> String {
    match lang {
        Lang::Id => id.to_string(),
        Lang::En => en.to_string(),
    }
}

fn io_failure(path: &Path, e: &std::io::Error) -> Failure {
    Failure {
        code: 1,
        message: format!("{}: {e}", path.display()),
    }
}

fn archive_failure(e: format::BackupError, lang: Lang) -> Failure {
    Failure {
        code: 1,
        message: e.message(lang),
    }
}

fn random_suffix() -> String {
    sahih_core::ids::new_document_id()[..10].to_string()
}

/// A private (0700) directory for temporary files, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(near: &Path, label: &str) -> Result<Self, Failure> {
        let parent = match near.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let path = parent.join(format!(".sahih-{label}-{}", random_suffix()));
        private_dir(&path).map_err(|e| io_failure(&path, &e))?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // Best effort: these are our own temporary copies.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Prints "what n/total" to stderr at about every tenth of the work (and at the end).
struct Progress {
    what: String,
    total: usize,
    done: usize,
    step: usize,
}

impl Progress {
    fn new(what: String, total: usize) -> Self {
        Self {
            what,
            total,
            done: 0,
            step: (total / 10).max(1),
        }
    }
    fn tick(&mut self) {
        self.done += 1;
        if self.done.is_multiple_of(self.step) || self.done == self.total {
            eprintln!("  {} {}/{}", self.what, self.done, self.total);
        }
    }
}

fn master_key_warning(included: bool, lang: Lang) -> String {
    if included {
        say(
            lang,
            "PERINGATAN: berkas cadangan ini BERISI kunci master. Siapa pun yang memegangnya dapat \
             membuka kunci CA, TSA dan OCSP: simpan serahasia kunci master itu sendiri.",
            "WARNING: this backup CONTAINS the master key. Whoever holds it can open the CA, TSA \
             and OCSP keys: keep it as secret as the master key itself.",
        )
    } else {
        say(
            lang,
            "PERINGATAN: kunci master TIDAK ada di berkas cadangan. Simpan salinannya (master.key \
             atau SAHIH_MASTER_KEY) terpisah dan aman: pemulihan membutuhkannya, tanpa kunci itu \
             CA, TSA dan OCSP tidak dapat dipakai lagi.",
            "WARNING: the master key is NOT in this backup. Keep a copy of it (master.key or \
             SAHIH_MASTER_KEY) separately and safely: a restore needs it; without it the CA, TSA \
             and OCSP keys cannot be used again.",
        )
    }
}

pub(crate) async fn backup(data: &Path, args: BackupArgs, lang: Lang) -> Result<(), Failure> {
    let core = |e: CoreError| Failure::core(e, lang);
    let output = args.output;
    if output.exists() {
        return Err(Failure::usage(match lang {
            Lang::Id => format!("{} sudah ada; pilih nama lain.", output.display()),
            Lang::En => format!("{} exists; choose another name.", output.display()),
        }));
    }
    let sahih = open(data).await.map_err(core)?;
    let blobs = blob_store(&sahih.data, &sahih.config).map_err(core)?;
    let master_key = if args.with_master_key {
        Some(sahih.data.master_key().map_err(core)?.to_hex())
    } else {
        None
    };
    let tmp = TempDir::new(&output, "backup")?;
    let partial = tmp.0.join("backup.tar");
    let file = private_file(&partial).map_err(|e| io_failure(&partial, &e))?;
    let now = time::OffsetDateTime::now_utc();
    let mut archive = ArchiveWriter::new(
        BufWriter::new(file),
        u64::try_from(now.unix_timestamp()).unwrap_or(0),
    );
    let add = |archive: &mut ArchiveWriter<BufWriter<std::fs::File>>, name: &str, b: &[u8]| {
        archive
            .add_bytes(name, b)
            .map_err(|e| archive_failure(e, lang))
    };

    // The witness first: every anchor it names is then in the database snapshot taken after.
    let witness_path = sahih.data.audit_witness_path();
    match std::fs::read(&witness_path) {
        Ok(bytes) => add(&mut archive, format::WITNESS, &bytes)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_failure(&witness_path, &e)),
    }
    let config_path = sahih.data.config_path();
    let config = std::fs::read(&config_path).map_err(|e| io_failure(&config_path, &e))?;
    add(&mut archive, format::CONFIG, &config)?;

    eprintln!(
        "{}",
        say(
            lang,
            "Menyalin basis data (snapshot konsisten)...",
            "Copying the database (consistent snapshot)..."
        )
    );
    let url = database_url(&sahih.data, Some(&sahih.config));
    let (kind, dump, keys) = match sahih.store.backend() {
        sahih_store::Backend::Sqlite => {
            let dump = tmp.0.join("database.sqlite");
            sahih
                .store
                .sqlite_snapshot(&dump)
                .await
                .map_err(|e| core(e.into()))?;
            let snapshot = SqlStore::connect(&format!("sqlite://{}?mode=rw", dump.display()))
                .await
                .map_err(|e| core(e.into()))?;
            let keys = snapshot.blob_keys().await.map_err(|e| core(e.into()));
            snapshot.close().await;
            (DatabaseKind::Sqlite, dump, keys?)
        }
        sahih_store::Backend::Postgres => {
            let dump = tmp.0.join("database.pgdump");
            let keys = sahih
                .store
                .postgres_dump(&url, &dump)
                .await
                .map_err(|e| core(e.into()))?;
            (DatabaseKind::Postgres, dump, keys)
        }
    };
    sahih.store.close().await;
    let name = match kind {
        DatabaseKind::Sqlite => format::DATABASE_SQLITE,
        DatabaseKind::Postgres => format::DATABASE_PGDUMP,
    };
    let mut db = std::fs::File::open(&dump).map_err(|e| io_failure(&dump, &e))?;
    let size = db.metadata().map_err(|e| io_failure(&dump, &e))?.len();
    archive
        .add_reader(name, size, &mut db)
        .map_err(|e| archive_failure(e, lang))?;
    drop(db);
    let _ = std::fs::remove_file(&dump);

    let mut progress = Progress::new(say(lang, "Objek dokumen", "Document objects"), keys.len());
    let mut missing = Vec::new();
    // Each object streams through one scratch file: none is held whole in memory.
    let scratch = tmp.0.join("object");
    for key in &keys {
        let got = blobs
            .get_to_file(key, &scratch)
            .await
            .map_err(|e| core(e.into()))?;
        match got {
            Some(size) => {
                let mut object =
                    std::fs::File::open(&scratch).map_err(|e| io_failure(&scratch, &e))?;
                archive
                    .add_reader(&format!("{}{key}", format::BLOBS), size, &mut object)
                    .map_err(|e| archive_failure(e, lang))?;
            }
            None => missing.push(key.clone()),
        }
        progress.tick();
    }
    let _ = std::fs::remove_file(&scratch);
    if let Some(hex) = &master_key {
        add(&mut archive, format::MASTER_KEY, hex.as_bytes())?;
    }
    let manifest = format::Manifest {
        format: format::FORMAT_VERSION,
        sahih_version: env!("CARGO_PKG_VERSION").into(),
        created_at: sahih_validate::rfc3339(now),
        database: kind,
        blob_store: blobs.describe(),
        master_key_included: master_key.is_some(),
        missing_blobs: missing.clone(),
        entries: Default::default(),
    };
    let out = archive
        .finish(manifest)
        .map_err(|e| archive_failure(e, lang))?;
    let file = out
        .into_inner()
        .map_err(|e| io_failure(&partial, e.error()))?;
    file.sync_all().map_err(|e| io_failure(&partial, &e))?;
    drop(file);
    if output.exists() {
        return Err(Failure::usage(format!("{}: exists", output.display())));
    }
    std::fs::rename(&partial, &output).map_err(|e| io_failure(&output, &e))?;
    let database = if kind == DatabaseKind::Sqlite {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    let objects = keys.len() - missing.len();
    let with_key = master_key.is_some();
    match lang {
        Lang::Id => println!(
            "Cadangan ditulis: {} (basis data {database}, {objects} objek dokumen, config.toml{}).",
            output.display(),
            if with_key { ", kunci master" } else { "" }
        ),
        Lang::En => println!(
            "Backup written: {} ({database} database, {objects} document objects, config.toml{}).",
            output.display(),
            if with_key { ", master key" } else { "" }
        ),
    }
    if !missing.is_empty() {
        eprintln!(
            "{}",
            match lang {
                Lang::Id => format!(
                    "Catatan: {} objek yang disebut basis data sudah tidak ada di penyimpanan (mis. unduhan sekali pakai yang sudah diambil).",
                    missing.len()
                ),
                Lang::En => format!(
                    "Note: {} objects the database names were no longer in the store (e.g. one-time downloads already fetched).",
                    missing.len()
                ),
            }
        );
    }
    eprintln!("{}", master_key_warning(master_key.is_some(), lang));
    Ok(())
}

/// Where a restore puts each entry while reading, before anything touches the target.
fn staged_path(staging: &Path, name: &str) -> Result<PathBuf, format::BackupError> {
    let fixed = [
        (format::CONFIG, "config.toml"),
        (format::DATABASE_SQLITE, "database.sqlite"),
        (format::DATABASE_PGDUMP, "database.pgdump"),
        (format::WITNESS, "audit-witness.log"),
        (format::MASTER_KEY, "master.key"),
    ];
    if let Some((_, file)) = fixed.iter().find(|(n, _)| *n == name) {
        return Ok(staging.join(file));
    }
    match name.strip_prefix(format::BLOBS) {
        Some(key) if format::safe_blob_key(key) => Ok(staging.join("blobs").join(key)),
        _ => Err(format::BackupError::Format(format!(
            "unexpected entry {name:?}"
        ))),
    }
}

pub(crate) async fn restore(data: &Path, args: RestoreArgs, lang: Lang) -> Result<(), Failure> {
    let core = |e: CoreError| Failure::core(e, lang);
    let dir = DataDir::new(data);
    if dir.is_occupied() && !args.force {
        return Err(Failure::usage(match lang {
            Lang::Id => format!(
                "Direktori data {} tidak kosong; pemulihan menolak menimpanya (pakai --force untuk memindahkannya ke samping).",
                data.display()
            ),
            Lang::En => format!(
                "Data directory {} is not empty; restore refuses to overwrite it (--force moves it aside).",
                data.display()
            ),
        }));
    }
    let input = std::fs::File::open(&args.file).map_err(|e| io_failure(&args.file, &e))?;

    // 1. Read and check the whole file into a private staging directory.
    eprintln!(
        "{}",
        say(
            lang,
            "Membaca dan memeriksa berkas cadangan...",
            "Reading and checking the backup..."
        )
    );
    let staging = TempDir::new(data, "restore")?;
    let root = staging.0.clone();
    let mut sink = |name: &str| -> Result<Box<dyn Write>, format::BackupError> {
        let path = staged_path(&root, name)?;
        let io = |e: std::io::Error| format::BackupError::Io {
            what: name.to_string(),
            error: e.to_string(),
        };
        if let Some(parent) = path.parent() {
            private_dir(parent).map_err(io)?;
        }
        Ok(Box::new(BufWriter::new(private_file(&path).map_err(io)?)))
    };
    let (names, manifest) = format::read_archive(BufReader::new(input), &mut sink)
        .map_err(|e| archive_failure(e, lang))?;
    let blob_keys: Vec<String> = names
        .iter()
        .filter_map(|n| n.strip_prefix(format::BLOBS).map(str::to_string))
        .collect();
    let staged = |f: &str| staging.0.join(f);
    if !staged("config.toml").exists() {
        return Err(archive_failure(
            format::BackupError::Format("config.toml missing".into()),
            lang,
        ));
    }

    // 2. The data directory: config, witness, master key (when inside).
    if dir.is_occupied() {
        let aside = PathBuf::from(format!(
            "{}.before-restore-{}",
            data.display(),
            time::OffsetDateTime::now_utc().unix_timestamp()
        ));
        std::fs::rename(data, &aside).map_err(|e| io_failure(data, &e))?;
        eprintln!(
            "{}",
            match lang {
                Lang::Id => format!("Direktori lama dipindahkan ke {}", aside.display()),
                Lang::En => format!("The old directory was moved to {}", aside.display()),
            }
        );
    }
    private_dir(data).map_err(|e| io_failure(data, &e))?;
    let place = |from: &str, to: &Path| -> Result<(), Failure> {
        std::fs::rename(staged(from), to).map_err(|e| io_failure(to, &e))
    };
    place("config.toml", &dir.config_path())?;
    let witness_to = dir.audit_witness_path();
    if staged("audit-witness.log").exists() {
        if witness_to.exists() {
            eprintln!(
                "{}",
                match lang {
                    Lang::Id => format!(
                        "Berkas saksi audit {} sudah ada dan tidak ditimpa: `sahih audit verify` akan menyebut jangkar yang dibuat setelah cadangan.",
                        witness_to.display()
                    ),
                    Lang::En => format!(
                        "The audit witness file {} exists and is kept: `sahih audit verify` will name the anchors made after the backup.",
                        witness_to.display()
                    ),
                }
            );
        } else {
            place("audit-witness.log", &witness_to)?;
        }
    }
    if manifest.master_key_included {
        let to = dir.master_key_path();
        if std::env::var("SAHIH_MASTER_KEY").is_ok_and(|v| !v.trim().is_empty()) || to.exists() {
            eprintln!(
                "{}",
                say(
                    lang,
                    "Kunci master dari cadangan tidak dipasang: kunci sudah diberikan (SAHIH_MASTER_KEY atau berkas yang ada).",
                    "The master key in the backup was not installed: one is already given (SAHIH_MASTER_KEY or an existing file)."
                )
            );
        } else {
            place("master.key", &to)?;
        }
    }
    let config = dir.load_config().map_err(core)?;

    // 3. The database.
    eprintln!(
        "{}",
        say(
            lang,
            "Memulihkan basis data...",
            "Restoring the database..."
        )
    );
    let url = database_url(&dir, Some(&config));
    let is_postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
    match (manifest.database, is_postgres) {
        (DatabaseKind::Sqlite, false) => {
            let Some(path) = sahih_store::backup::sqlite_file(&url) else {
                return Err(Failure::usage(format!("{url}: not a SQLite file")));
            };
            if path.exists() {
                if !args.force {
                    return Err(Failure::usage(match lang {
                        Lang::Id => format!(
                            "{} sudah ada; pakai --force untuk menggantinya.",
                            path.display()
                        ),
                        Lang::En => format!("{} exists; --force replaces it.", path.display()),
                    }));
                }
                std::fs::remove_file(&path).map_err(|e| io_failure(&path, &e))?;
                for suffix in ["-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            let from = staged("database.sqlite");
            if std::fs::rename(&from, &path).is_err() {
                std::fs::copy(&from, &path).map_err(|e| io_failure(&path, &e))?;
            }
        }
        (DatabaseKind::Postgres, true) => {
            let has_tables = sahih_store::backup::postgres_has_tables(&url)
                .await
                .map_err(|e| core(e.into()))?;
            if has_tables && !args.force {
                return Err(Failure::usage(match lang {
                    Lang::Id => format!(
                        "Basis data {} sudah berisi tabel; pakai --force untuk menggantinya.",
                        sahih_store::redact_url(&url)
                    ),
                    Lang::En => format!(
                        "Database {} already has tables; --force replaces them.",
                        sahih_store::redact_url(&url)
                    ),
                }));
            }
            sahih_store::backup::postgres_restore(&url, &staged("database.pgdump"))
                .await
                .map_err(|e| core(e.into()))?;
        }
        (kind, _) => {
            return Err(Failure::usage(match lang {
                Lang::Id => format!(
                    "Cadangan berisi basis data {kind:?}, tetapi tujuan adalah {}: pulihkan ke jenis basis data yang sama (--database-url).",
                    sahih_store::redact_url(&url)
                ),
                Lang::En => format!(
                    "The backup holds a {kind:?} database but the target is {}: restore to the same kind (--database-url).",
                    sahih_store::redact_url(&url)
                ),
            }));
        }
    }

    // 4. Counters: nothing reserved after the backup may be handed out again.
    let store = SqlStore::connect(&url).await.map_err(|e| core(e.into()))?;
    let now_micros = sahih_core::audit::now_micros();
    let raised = store
        .raise_counters_after_restore(|v| format::counter_floor_after_restore(v, now_micros))
        .await
        .map_err(|e| core(e.into()))?;

    // 5. The blob store.
    let blobs = blob_store(&dir, &config).map_err(core)?;
    if let AnyBlobStore::S3(s3) = &blobs {
        s3.create_bucket().await.map_err(|e| core(e.into()))?;
    }
    let mut progress = Progress::new(
        say(lang, "Objek dokumen", "Document objects"),
        blob_keys.len(),
    );
    for key in &blob_keys {
        let path = staged("blobs").join(key);
        blobs
            .put_file(key, &path)
            .await
            .map_err(|e| core(e.into()))?;
        let _ = std::fs::remove_file(&path);
        progress.tick();
    }

    // 6. The restore is audited, and anchored when the master key is at hand.
    let detail = format!(
        "backup of {} ({} objects); counters raised: {}",
        manifest.created_at,
        blob_keys.len(),
        raised
            .iter()
            .filter(|(n, old, _)| *old > 0 || n == "tsa_serial_block")
            .map(|(n, old, new)| format!("{n} {old}->{new}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    store
        .append_audit(&[sahih_core::audit::AuditEvent {
            action: "backup.restore".into(),
            actor: "cli".into(),
            client: None,
            document_sha256: None,
            result: "ok".into(),
            detail,
        }])
        .await
        .map_err(|e| core(e.into()))?;
    store.close().await;
    drop(staging);
    dir.secure().map_err(core)?;
    let anchored = if dir.master_key().is_ok() {
        let sahih = open(data).await.map_err(core)?;
        let services = sahih.trust_services().await.map_err(core)?;
        let seq = sahih.anchor_audit_head(&services).await.map_err(core)?;
        sahih.store.close().await;
        seq.is_some()
    } else {
        false
    };
    match lang {
        Lang::Id => println!(
            "Dipulihkan ke {}: basis data, {} objek dokumen, config.toml (cadangan {}). Penghitung nomor seri TSA dan CRL dinaikkan.",
            data.display(),
            blob_keys.len(),
            manifest.created_at
        ),
        Lang::En => println!(
            "Restored into {}: database, {} document objects, config.toml (backup of {}). TSA serial and CRL counters raised.",
            data.display(),
            blob_keys.len(),
            manifest.created_at
        ),
    }
    if !anchored {
        eprintln!(
            "{}",
            say(
                lang,
                "Kunci master belum ada: salin kunci master (master.key mode 0600 atau SAHIH_MASTER_KEY), lalu jalankan `sahih audit anchor`.",
                "The master key is not in place: copy it (master.key, mode 0600, or SAHIH_MASTER_KEY), then run `sahih audit anchor`."
            )
        );
    }
    Ok(())
}
