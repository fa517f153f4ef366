//! The data directory: `config.toml`, the master key for CA keys, and where the database lives.
//!
//! Master key: `SAHIH_MASTER_KEY` (64 hex characters) wins; else the file named by
//! `SAHIH_MASTER_KEY_FILE`; else `<data>/master.key`. A key file must have mode 0600 (no group
//! or other permissions); Sahih refuses a looser one.

use crate::CoreError;
use sahih_pades::Level;
use sahih_pki::{KeyAlgorithm, MasterKey};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The configuration file in the data directory.
pub const CONFIG_FILE: &str = "config.toml";
/// The embedded SQLite database in the data directory.
pub const DATABASE_FILE: &str = "sahih.db";
/// The default master key file in the data directory (see the module docs for overrides).
pub const MASTER_KEY_FILE: &str = "master.key";
/// Every audit anchor, one line each, appended outside the database.
pub const AUDIT_WITNESS_FILE: &str = "audit-witness.log";

/// `config.toml`: everything an institution configures. Sections missing from the file take
/// their defaults, so an older file keeps loading.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Config {
    /// Institution name (instansi), e.g. "Pemerintah Kota Contoh".
    pub institution: String,
    /// Public base URL used in QR codes (`{base_url}/v/{id}`) and certificate URLs.
    pub base_url: String,
    /// `[keys]`: key algorithms, certificate validity, where keys live.
    #[serde(default)]
    pub keys: KeyDefaults,
    /// `[signing]`: passphrase lockout and signature defaults.
    #[serde(default)]
    pub signing: SigningDefaults,
    /// `[storage]`: database and document storage.
    #[serde(default)]
    pub storage: StorageConfig,
    /// `[server]`: `sahih serve`.
    #[serde(default)]
    pub server: ServerConfig,
    /// `[notify]`: e-mail to officials.
    #[serde(default)]
    pub notify: NotifyConfig,
    /// `[ra]`: the registration authority.
    #[serde(default)]
    pub ra: RaConfig,
    /// `[hsm]`: the PKCS#11 token.
    #[serde(default)]
    pub hsm: HsmConfig,
    /// `[gateway]`: the upstream ECS.
    #[serde(default)]
    pub gateway: GatewayConfig,
    /// `[web]`: the pages for people.
    #[serde(default)]
    pub web: WebConfig,
}

/// The pages served to people: the public verification portal and the QR record pages.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct WebConfig {
    /// The institution's logo (SVG or PNG, at most 512 KiB) shown on every page; empty: the
    /// built-in emblem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo: Option<PathBuf>,
    /// Largest PDF the public portal verifies, in MiB (larger: a clear refusal).
    pub portal_max_mib: u64,
    /// Verifications one address (IPv6: one /64) may ask of the portal per minute.
    pub portal_per_minute: u32,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            logo: None,
            portal_max_mib: 20,
            portal_per_minute: 20,
        }
    }
}

impl WebConfig {
    /// `portal_max_mib` in bytes (at least 1 MiB).
    pub fn portal_max_bytes(&self) -> usize {
        usize::try_from(self.portal_max_mib.max(1))
            .unwrap_or(usize::MAX)
            .saturating_mul(1024 * 1024)
    }
}

/// Gateway mode: officials enrolled upstream sign through this ECS-compatible service (in
/// production BSrE's ECS). The password comes from `SAHIH_GATEWAY_PASSWORD` only.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct GatewayConfig {
    /// Base URL of the upstream ECS; empty: no gateway.
    pub url: String,
    /// The Basic-auth user name Sahih uses at the upstream.
    pub username: String,
    /// Path of the upstream's registration endpoint (client libraries disagree).
    pub registration_path: String,
    /// Seconds to wait for the upstream before a forwarded request fails.
    pub timeout_secs: u64,
    /// Forward ECS registrations (`/api/v2/user/registration`) to the upstream and record the
    /// officials as upstream ones.
    pub register_upstream: bool,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            username: String::new(),
            registration_path: "/api/v2/user/registration".into(),
            timeout_secs: 120,
            register_upstream: false,
        }
    }
}

/// The registration authority.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct RaConfig {
    /// Largest evidence file (surat permohonan, e-KTP scan, SK jabatan) in MiB.
    pub max_evidence_mib: u64,
}

impl Default for RaConfig {
    fn default() -> Self {
        Self {
            max_evidence_mib: 10,
        }
    }
}

/// Messages to officials (one-time codes). Without `smtp_url` they stay in the outbox table
/// (`sahih outbox EMAIL`); with it, `sahih serve` sends them. The SMTP password comes from
/// `SAHIH_SMTP_PASSWORD` only.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct NotifyConfig {
    /// `smtp://[user@]host[:port][?starttls=true]` or `smtps://[user@]host[:port]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub smtp_url: Option<String>,
    /// Sender address.
    pub from: String,
    /// Extra trusted root certificates (PEM) for the relay's TLS certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            smtp_url: None,
            from: "tte@localhost.localdomain".into(),
            ca_file: None,
        }
    }
}

/// Where state lives. Empty values mean the embedded defaults: `sahih.db` (SQLite) and the
/// `documents/` directory in the data directory. `SAHIH_DATABASE_URL` and `SAHIH_BLOB_URL`
/// (or `--database-url`, `--blob-url`) override these for every command.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct StorageConfig {
    /// `postgres://user@host/db` or `sqlite:///path/sahih.db`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `s3://bucket/prefix?endpoint=http://host:9000&region=us-east-1` or `file:///dir`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob_url: Option<String>,
}

/// The HTTP server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct ServerConfig {
    /// Default listen address of `sahih serve`.
    pub listen: String,
    /// Largest request body accepted by the signing APIs, in MiB (larger: 413).
    pub max_body_mib: usize,
    /// PAdES level the ECS-compatible API produces (ECS itself reports PKCS7-T; B-LT adds the
    /// revocation data for long-term validation).
    #[serde(with = "as_text")]
    pub ecs_level: Level,
    /// How ECS `xAxis/yAxis/width/height` (v1) and `originX/originY/width/height` (v2) are read:
    /// "size" (lower-left corner + width and height, points, origin bottom-left of the displayed
    /// page) or "corners" (lower-left and upper-right corners, iText `Rectangle` style).
    pub ecs_coordinates: EcsCoordinates,
    /// Threads that sign the documents of one bulk request (0: one per CPU).
    pub sign_threads: usize,
    /// Most documents in one v2 request.
    pub max_files_per_request: usize,
    /// Seconds between TSA timestamps of the audit chain head (0: never, and then the chain
    /// is not pinned).
    pub audit_anchor_secs: u64,
    /// How much older than `audit_anchor_secs` an entry may be before `audit verify` requires
    /// an anchor to cover it.
    pub audit_anchor_grace_secs: u64,
    /// Seconds a client has to send a request's headers; also how long an idle connection
    /// stays open, and the longest pause within a request body.
    pub header_timeout_secs: u64,
    /// Seconds within which a whole request body must arrive (the largest allowed body on a
    /// slow link still fits; signing time does not count).
    pub body_timeout_secs: u64,
    /// First wait before a failed webhook delivery is tried again; it doubles each time (at
    /// most an hour apart), and retries stop a day after the event.
    pub webhook_retry_secs: u64,
}

impl ServerConfig {
    /// The largest request body the APIs accept, in bytes (`max_body_mib`, at least 1 MiB).
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_mib.max(1).saturating_mul(1024 * 1024)
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            max_body_mib: 128,
            ecs_level: Level::BLT,
            ecs_coordinates: EcsCoordinates::Size,
            sign_threads: 0,
            max_files_per_request: 2000,
            audit_anchor_secs: 300,
            audit_anchor_grace_secs: 600,
            header_timeout_secs: 30,
            body_timeout_secs: 600,
            webhook_retry_secs: 30,
        }
    }
}

/// `[keys]`: what keys are made of and how long officials' certificates last.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KeyDefaults {
    /// Key algorithm for CA keys.
    #[serde(with = "as_text")]
    pub ca: KeyAlgorithm,
    /// Default key algorithm for officials (enroll --key overrides).
    #[serde(with = "as_text")]
    pub official: KeyAlgorithm,
    /// Validity of officials' certificates, in days.
    pub official_validity_days: i64,
    /// Where officials' new keys are made: "software" (sealed in the database, the default) or
    /// "pkcs11" (generated inside the token named in `[hsm]`, never extractable).
    #[serde(default)]
    pub backend: KeyBackendKind,
}

/// Where keys are made (`[keys] backend`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyBackendKind {
    /// Sealed in the database (the default).
    #[default]
    #[serde(alias = "")]
    Software,
    /// Inside the PKCS#11 token named in `[hsm]`.
    Pkcs11,
}

impl std::str::FromStr for KeyBackendKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "" | "software" => Ok(Self::Software),
            "pkcs11" => Ok(Self::Pkcs11),
            other => Err(format!(
                "unknown key backend {other:?} (software or pkcs11)"
            )),
        }
    }
}

/// How ECS coordinates are read (`[server] ecs_coordinates`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EcsCoordinates {
    /// Lower-left corner plus width and height (the default).
    #[default]
    Size,
    /// Lower-left and upper-right corners (iText `Rectangle` style).
    Corners,
}

/// Config values written as text and read through `FromStr`/`Display` (levels, key
/// algorithms): a value nobody knows is an error when the config is loaded, not a silent default
/// later.
mod as_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use std::fmt::Display;
    use std::str::FromStr;

    pub(super) fn serialize<T: Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }

    pub(super) fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        let text = String::deserialize(d)?;
        text.parse().map_err(D::Error::custom)
    }
}

/// The PKCS#11 token for `[keys] backend = "pkcs11"`. The user PIN comes from `SAHIH_HSM_PIN`
/// only.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct HsmConfig {
    /// The PKCS#11 module (e.g. SoftHSM2's /usr/lib/softhsm/libsofthsm2.so).
    pub module: PathBuf,
    /// The label of the token to use in that module.
    pub token_label: String,
}

impl Default for HsmConfig {
    fn default() -> Self {
        Self {
            module: PathBuf::from("/usr/lib/softhsm/libsofthsm2.so"),
            token_label: "sahih".into(),
        }
    }
}

impl Default for KeyDefaults {
    fn default() -> Self {
        Self {
            ca: KeyAlgorithm::Rsa3072,
            official: KeyAlgorithm::Rsa2048,
            official_validity_days: 730,
            backend: KeyBackendKind::Software,
        }
    }
}

/// `[signing]`: the passphrase lockout and what signatures say by default.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SigningDefaults {
    /// Consecutive wrong passphrases before the key locks.
    pub max_failures: i64,
    /// Lock duration in minutes.
    pub lock_minutes: i64,
    /// Default location written into signatures, if any.
    pub location: Option<String>,
}

impl Default for SigningDefaults {
    fn default() -> Self {
        Self {
            max_failures: 5,
            lock_minutes: 15,
            location: None,
        }
    }
}

impl Config {
    /// A configuration for `institution` served at `base_url` (a trailing `/` is dropped), every
    /// other section at its default.
    pub fn new(institution: &str, base_url: &str) -> Self {
        Self {
            institution: institution.to_string(),
            base_url: base_url.trim_end_matches('/').to_string(),
            keys: KeyDefaults::default(),
            signing: SigningDefaults::default(),
            storage: StorageConfig::default(),
            server: ServerConfig::default(),
            notify: NotifyConfig::default(),
            ra: RaConfig::default(),
            hsm: HsmConfig::default(),
            gateway: GatewayConfig::default(),
            web: WebConfig::default(),
        }
    }
}

/// A data directory on disk.
#[derive(Debug, Clone)]
pub struct DataDir {
    /// The directory.
    pub root: PathBuf,
}

impl DataDir {
    /// The data directory at `root` (nothing is created).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
    /// `config.toml` inside it.
    pub fn config_path(&self) -> PathBuf {
        self.root.join(CONFIG_FILE)
    }
    /// The embedded SQLite database file inside it.
    pub fn database_path(&self) -> PathBuf {
        self.root.join(DATABASE_FILE)
    }
    /// The embedded default document directory.
    pub fn documents_path(&self) -> PathBuf {
        self.root.join("documents")
    }

    /// The database URL: `SAHIH_DATABASE_URL`, else the config file, else SQLite in the data
    /// directory.
    pub fn database_url(&self, config: Option<&Config>) -> String {
        non_empty_env("SAHIH_DATABASE_URL")
            .or_else(|| config.and_then(|c| c.storage.database_url.clone()))
            .unwrap_or_else(|| format!("sqlite://{}", self.database_path().display()))
    }

    /// The blob URL: `SAHIH_BLOB_URL`, else the config file, else `documents/` in the data
    /// directory.
    pub fn blob_url(&self, config: Option<&Config>) -> String {
        non_empty_env("SAHIH_BLOB_URL")
            .or_else(|| config.and_then(|c| c.storage.blob_url.clone()))
            .unwrap_or_else(|| {
                let dir = self.documents_path();
                let dir = std::path::absolute(&dir).unwrap_or(dir);
                format!("file://{}", dir.display())
            })
    }
    /// Where each audit anchor is also written, outside the database (see `audit`).
    pub fn audit_witness_path(&self) -> PathBuf {
        std::env::var_os("SAHIH_AUDIT_WITNESS_FILE")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.root.join(AUDIT_WITNESS_FILE))
    }

    /// The master key file: `SAHIH_MASTER_KEY_FILE`, else `master.key` inside it.
    pub fn master_key_path(&self) -> PathBuf {
        std::env::var_os("SAHIH_MASTER_KEY_FILE")
            .map(PathBuf::from)
            .unwrap_or_else(|| self.root.join(MASTER_KEY_FILE))
    }

    /// The data directory holds personal data (e-KTP scans, SK, signed letters), sealed keys,
    /// the database and its outbox: only its owner may enter it, whatever the umask. A looser
    /// directory is tightened to 0700 and the files Sahih keeps in it to 0600 (security
    /// finding 6: they were 0755/0644 under a normal umask).
    pub fn secure(&self) -> Result<(), CoreError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let tighten = |path: &Path, mode: u32| -> Result<(), CoreError> {
                let Ok(meta) = std::fs::symlink_metadata(path) else {
                    return Ok(()); // not there (yet)
                };
                if meta.file_type().is_symlink() || meta.permissions().mode() & 0o077 == 0 {
                    return Ok(());
                }
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                    .map_err(|e| CoreError::Io(format!("{}: {e}", path.display())))
            };
            tighten(&self.root, 0o700)?;
            tighten(&self.documents_path(), 0o700)?;
            for name in [CONFIG_FILE, DATABASE_FILE, AUDIT_WITNESS_FILE] {
                tighten(&self.root.join(name), 0o600)?;
            }
            for suffix in ["-wal", "-shm"] {
                tighten(&self.root.join(format!("{DATABASE_FILE}{suffix}")), 0o600)?;
            }
        }
        Ok(())
    }

    /// True when the directory exists and has any entry.
    pub fn is_occupied(&self) -> bool {
        std::fs::read_dir(&self.root)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false)
    }

    /// Reads `config.toml`; a missing file means the directory is not initialised.
    pub fn load_config(&self) -> Result<Config, CoreError> {
        let path = self.config_path();
        let text = std::fs::read_to_string(&path).map_err(|_| CoreError::NotInitialised {
            path: self.root.clone(),
        })?;
        toml::from_str(&text).map_err(|e| CoreError::Config(format!("{}: {e}", path.display())))
    }

    /// Writes `config.toml` with a short header naming the environment variables.
    pub fn write_config(&self, config: &Config) -> Result<(), CoreError> {
        let text = toml::to_string_pretty(config).map_err(|e| CoreError::Config(e.to_string()))?;
        let header = "# Sahih configuration. Environment variables SAHIH_DATA, SAHIH_MASTER_KEY,\n\
                      # SAHIH_MASTER_KEY_FILE and SAHIH_PASSPHRASE are read by every command.\n";
        std::fs::write(self.config_path(), format!("{header}{text}"))
            .map_err(|e| CoreError::Io(format!("{}: {e}", self.config_path().display())))
    }

    /// Creates a new master key file with mode 0600 (unless the key comes from the environment).
    pub fn create_master_key(&self) -> Result<MasterKey, CoreError> {
        if let Some(key) = master_key_from_env()? {
            return Ok(key);
        }
        let key = MasterKey::generate();
        let path = self.master_key_path();
        write_private_file(&path, key.to_hex().as_bytes())?;
        Ok(key)
    }

    /// The master key: `SAHIH_MASTER_KEY`, else the key file, which must be 0600.
    pub fn master_key(&self) -> Result<MasterKey, CoreError> {
        if let Some(key) = master_key_from_env()? {
            return Ok(key);
        }
        let path = self.master_key_path();
        check_private_permissions(&path)?;
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(&path).map_err(|e| unreadable(&path, &e))?,
        );
        MasterKey::from_hex(text.trim()).map_err(|_| {
            CoreError::master_key(
                format!("{}: bukan 64 karakter heksadesimal", path.display()),
                format!("{}: not 64 hex characters", path.display()),
            )
        })
    }
}

fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn master_key_from_env() -> Result<Option<MasterKey>, CoreError> {
    match std::env::var("SAHIH_MASTER_KEY") {
        Ok(v) if !v.trim().is_empty() => {
            let v = zeroize::Zeroizing::new(v);
            MasterKey::from_hex(v.trim()).map(Some).map_err(|_| {
                CoreError::master_key(
                    "SAHIH_MASTER_KEY harus 64 karakter heksadesimal",
                    "SAHIH_MASTER_KEY must be 64 hex characters",
                )
            })
        }
        _ => Ok(None),
    }
}

fn write_private_file(path: &Path, contents: &[u8]) -> Result<(), CoreError> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut f = options.open(path).map_err(|e| unreadable(path, &e))?;
    f.write_all(contents)
        .and_then(|_| f.sync_all())
        .map_err(|e| unreadable(path, &e))
}

/// A master key file that could not be read or written.
fn unreadable(path: &Path, e: &std::io::Error) -> CoreError {
    CoreError::master_key(
        format!("{}: tidak dapat dibaca atau ditulis ({e})", path.display()),
        format!("{}: {e}", path.display()),
    )
}

fn check_private_permissions(path: &Path) -> Result<(), CoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| unreadable(path, &e))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(CoreError::master_key(
                format!(
                    "{}: izin berkas {mode:o} terlalu longgar (harus 600: chmod 600 {})",
                    path.display(),
                    path.display()
                ),
                format!(
                    "{}: permissions {mode:o} are too open (need 600: chmod 600 {})",
                    path.display(),
                    path.display()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_are_written_as_the_same_text_and_read_back_as_types() {
        let config = Config::new("Pemerintah Kota Contoh", "https://tte.contoh.go.id");
        let text = toml::to_string_pretty(&config).unwrap();
        for line in [
            "ecs_level = \"B-LT\"",
            "ecs_coordinates = \"size\"",
            "ca = \"rsa3072\"",
            "official = \"rsa2048\"",
            "backend = \"software\"",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        let back: Config = toml::from_str(&text).unwrap();
        assert_eq!(back.server.ecs_level, Level::BLT);
        assert_eq!(back.keys.ca, KeyAlgorithm::Rsa3072);
        let corners = text
            .replace(
                "ecs_coordinates = \"size\"",
                "ecs_coordinates = \"corners\"",
            )
            .replace("ecs_level = \"B-LT\"", "ecs_level = \"B-LTA\"")
            .replace("backend = \"software\"", "backend = \"pkcs11\"");
        let back: Config = toml::from_str(&corners).unwrap();
        assert_eq!(back.server.ecs_coordinates, EcsCoordinates::Corners);
        assert_eq!(back.server.ecs_level, Level::BLTA);
        assert_eq!(back.keys.backend, KeyBackendKind::Pkcs11);
    }

    #[test]
    fn an_unknown_choice_is_refused_when_the_config_is_read() {
        let text = toml::to_string_pretty(&Config::new("X", "https://x")).unwrap();
        for (from, to, named) in [
            ("ecs_level = \"B-LT\"", "ecs_level = \"B-XL\"", "B-XL"),
            ("ca = \"rsa3072\"", "ca = \"rsa1024\"", "rsa1024"),
            (
                "ecs_coordinates = \"size\"",
                "ecs_coordinates = \"inch\"",
                "inch",
            ),
            ("backend = \"software\"", "backend = \"cloud\"", "cloud"),
        ] {
            let bad = text.replace(from, to);
            let err = toml::from_str::<Config>(&bad).unwrap_err().to_string();
            assert!(err.contains(named), "{err}");
        }
    }
}
