//! The checks behind `sahih doctor`: is this installation fit to run? Each check returns a
//! [`Finding`] (OK, WARN, FAIL or SKIP) with what it saw and, for anything but OK, the fix in
//! one sentence, in both languages.
//!
//! Owns: what each check looks at (configuration sanity, master key file, a database and blob
//! store write probe, remaining validity of the CA, TSA and OCSP responder certificates, CRL
//! freshness, an in-process TSA and OCSP round trip through [`TrustServices`], clock skew,
//! the verdict on a `/healthz` answer) and the thresholds. Must not know: SQL, HTTP clients,
//! how findings are printed, or how the caller opened the store (the caller hands in what it
//! measured where a check needs the outside world: the database's clock, the `/healthz` answer).

use crate::config::{Config, DataDir};
use crate::store::{BlobStore, CaKind, Store};
use crate::trust::{TrustServices, ca_name};
use crate::{CoreError, Lang, Sahih, Text};
use sahih_pki::Certificate;
use sahih_pki::ocsp::CertStatusKind;
use std::path::Path;
use time::{Duration, OffsetDateTime};

/// Certificates with less validity left than this are reported (WARN).
pub const EXPIRY_WARNING: Duration = Duration::days(30);
/// Largest clock difference between this host and the database server that passes.
pub const MAX_CLOCK_SKEW: Duration = Duration::seconds(2);
/// Largest difference between a fresh timestamp's genTime and this host's clock.
const MAX_TOKEN_SKEW: Duration = Duration::seconds(60);
/// The counter the database write probe increments.
const PROBE_COUNTER: &str = "doctor_probe";

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Fine.
    Ok,
    /// Works, but needs attention soon (e.g. a certificate within 30 days of expiry).
    Warn,
    /// Broken: `sahih doctor` exits non-zero.
    Fail,
    /// Not checked, and why is in the detail.
    Skip,
}

impl Verdict {
    /// `OK`, `WARN`, `FAIL` or `SKIP` (the same in both languages, for scripts).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "OK",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "SKIP",
        }
    }
}

/// One check's outcome.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Stable name of the check, e.g. `master-key`, `cert:issuing-1`.
    pub check: String,
    /// The verdict.
    pub verdict: Verdict,
    /// What was seen.
    pub detail: Text,
    /// What to do, in one sentence (for WARN and FAIL; a note for SKIP).
    pub fix: Option<Text>,
}

impl Finding {
    fn ok(check: impl Into<String>, detail: Text) -> Self {
        Self {
            check: check.into(),
            verdict: Verdict::Ok,
            detail,
            fix: None,
        }
    }
    fn with(check: impl Into<String>, verdict: Verdict, detail: Text, fix: Text) -> Self {
        Self {
            check: check.into(),
            verdict,
            detail,
            fix: Some(fix),
        }
    }
    /// A failed check with its fix.
    pub fn fail(check: impl Into<String>, detail: Text, fix: Text) -> Self {
        Self::with(check, Verdict::Fail, detail, fix)
    }
    /// A check that could not run, with why.
    pub fn skip(check: impl Into<String>, detail: Text) -> Self {
        Self {
            check: check.into(),
            verdict: Verdict::Skip,
            detail,
            fix: None,
        }
    }
}

fn t(id: impl Into<String>, en: impl Into<String>) -> Text {
    Text::new(id, en)
}

fn err_text(e: &CoreError) -> Text {
    t(e.message(Lang::Id), e.message(Lang::En))
}

/// The configuration parses and is sane. Returns it when it parses.
pub fn config(dir: &DataDir) -> (Finding, Option<Config>) {
    const CHECK: &str = "config";
    let path = dir.config_path();
    let config = match dir.load_config() {
        Ok(c) => c,
        Err(CoreError::NotInitialised { .. }) => {
            return (
                Finding::fail(
                    CHECK,
                    t(
                        format!("{} tidak ada", path.display()),
                        format!("{} does not exist", path.display()),
                    ),
                    t(
                        "Jalankan `sahih init` untuk direktori data ini, atau tunjuk direktori yang benar dengan --data / SAHIH_DATA.",
                        "Run `sahih init` for this data directory, or point --data / SAHIH_DATA at the right one.",
                    ),
                ),
                None,
            );
        }
        Err(e) => {
            return (
                Finding::fail(
                    CHECK,
                    err_text(&e),
                    t(
                        format!(
                            "Perbaiki sintaks TOML {} pada baris yang disebut.",
                            path.display()
                        ),
                        format!(
                            "Fix the TOML syntax of {} at the line named.",
                            path.display()
                        ),
                    ),
                ),
                None,
            );
        }
    };
    let mut problems: Vec<Text> = Vec::new();
    if config.institution.trim().is_empty() {
        problems.push(t("institution kosong", "institution is empty"));
    }
    let base = config.base_url.trim();
    if !(base.starts_with("https://") || base.starts_with("http://")) || base.len() < 10 {
        problems.push(t(
            format!("base_url {base:?} bukan URL http(s)"),
            format!("base_url {base:?} is not an http(s) URL"),
        ));
    } else if base.ends_with('/') {
        problems.push(t(
            format!("base_url {base:?} diakhiri '/' (URL QR menjadi '//v/')"),
            format!("base_url {base:?} ends in '/' (QR URLs would read '//v/')"),
        ));
    }
    if config
        .server
        .listen
        .parse::<std::net::SocketAddr>()
        .is_err()
    {
        problems.push(t(
            format!(
                "[server] listen {:?} bukan alamat IP:port",
                config.server.listen
            ),
            format!(
                "[server] listen {:?} is not an IP:port address",
                config.server.listen
            ),
        ));
    }
    if config.keys.backend == crate::config::KeyBackendKind::Pkcs11 && !config.hsm.module.exists() {
        problems.push(t(
            format!("modul PKCS#11 {} tidak ada", config.hsm.module.display()),
            format!(
                "PKCS#11 module {} does not exist",
                config.hsm.module.display()
            ),
        ));
    }
    if problems.is_empty() {
        let finding = Finding::ok(
            CHECK,
            t(
                format!("{} terbaca; base_url {base}", path.display()),
                format!("{} parses; base_url {base}", path.display()),
            ),
        );
        return (finding, Some(config));
    }
    let finding = Finding::fail(
        CHECK,
        t(
            problems
                .iter()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            problems
                .iter()
                .map(|p| p.en.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        t(
            format!(
                "Sunting {} dan perbaiki nilai yang disebut.",
                path.display()
            ),
            format!("Edit {} and correct the values named.", path.display()),
        ),
    );
    (finding, Some(config))
}

/// The effective user id of this process (owner of `/proc/self`), where Linux tells.
fn running_uid() -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").ok().map(|m| m.uid())
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The master key: from `SAHIH_MASTER_KEY`, or a file of mode 0600 owned by the running user
/// that holds a well-formed key.
pub fn master_key(dir: &DataDir) -> Finding {
    const CHECK: &str = "master-key";
    if std::env::var("SAHIH_MASTER_KEY").is_ok_and(|v| !v.trim().is_empty()) {
        return match dir.master_key() {
            Ok(_) => Finding::ok(
                CHECK,
                t(
                    "dari variabel lingkungan SAHIH_MASTER_KEY",
                    "from the SAHIH_MASTER_KEY environment variable",
                ),
            ),
            Err(e) => Finding::fail(
                CHECK,
                err_text(&e),
                t(
                    "Isi SAHIH_MASTER_KEY dengan 64 karakter heksadesimal kunci induk yang dibuat `sahih init`.",
                    "Set SAHIH_MASTER_KEY to the 64 hex characters of the master key `sahih init` made.",
                ),
            ),
        };
    }
    let path = dir.master_key_path();
    let shown = path.display();
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                return Finding::fail(
                    CHECK,
                    t(
                        format!("{shown} tidak dapat dibaca: {e}"),
                        format!("{shown} cannot be read: {e}"),
                    ),
                    t(
                        "Kembalikan berkas kunci induk dari cadangan (atau set SAHIH_MASTER_KEY_FILE ke lokasinya); tanpa kunci itu kunci CA tidak dapat dibuka.",
                        "Restore the master key file from backup (or set SAHIH_MASTER_KEY_FILE to where it is); without it the CA keys cannot be opened.",
                    ),
                );
            }
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Finding::fail(
                CHECK,
                t(
                    format!("{shown}: mode {mode:03o}, harus 600"),
                    format!("{shown}: mode {mode:03o}, must be 600"),
                ),
                t(
                    format!("Jalankan `chmod 600 {shown}`."),
                    format!("Run `chmod 600 {shown}`."),
                ),
            );
        }
        if let Some(uid) = running_uid()
            && meta.uid() != uid
        {
            return Finding::fail(
                CHECK,
                t(
                    format!(
                        "{shown} dimiliki uid {}, bukan pengguna yang menjalankan sahih (uid {uid})",
                        meta.uid()
                    ),
                    format!(
                        "{shown} is owned by uid {}, not by the user running sahih (uid {uid})",
                        meta.uid()
                    ),
                ),
                t(
                    format!(
                        "Jalankan `chown <pengguna layanan> {shown}` (paket Debian: `chown sahih {shown}`), atau jalankan sahih sebagai pemiliknya."
                    ),
                    format!(
                        "Run `chown <service user> {shown}` (Debian package: `chown sahih {shown}`), or run sahih as its owner."
                    ),
                ),
            );
        }
    }
    match dir.master_key() {
        Ok(_) => Finding::ok(
            CHECK,
            t(
                format!("{shown}: mode 600, milik pengguna ini"),
                format!("{shown}: mode 600, owned by this user"),
            ),
        ),
        Err(e) => Finding::fail(
            CHECK,
            err_text(&e),
            t(
                "Kembalikan berkas kunci induk yang benar dari cadangan (64 karakter heksadesimal, mode 600).",
                "Restore the right master key file from backup (64 hex characters, mode 600).",
            ),
        ),
    }
}

/// The database could not be opened: why, and what to do.
pub fn database_unreachable(
    error: &CoreError,
    url_shown: &str,
    sqlite_file: Option<&Path>,
) -> Finding {
    let fix = match sqlite_file {
        Some(file) => t(
            format!(
                "Pastikan {} ada dan dapat dibaca serta ditulis oleh pengguna yang menjalankan sahih (mis. `chown sahih {} && chmod 600 {}`), atau kembalikan dari cadangan.",
                file.display(),
                file.display(),
                file.display()
            ),
            format!(
                "Make sure {} exists and is readable and writable by the user running sahih (e.g. `chown sahih {} && chmod 600 {}`), or restore it from backup.",
                file.display(),
                file.display(),
                file.display()
            ),
        ),
        None => t(
            "Periksa bahwa server PostgreSQL berjalan dan dapat dijangkau, serta pengguna, kata sandi dan nama basis data di SAHIH_DATABASE_URL / [storage] database_url.",
            "Check that the PostgreSQL server is running and reachable, and the user, password and database name in SAHIH_DATABASE_URL / [storage] database_url.",
        ),
    };
    let e = err_text(error);
    Finding::fail(
        "database",
        t(
            format!("{url_shown}: {}", e.id),
            format!("{url_shown}: {}", e.en),
        ),
        fix,
    )
}

/// The database answers and takes a write (a probe counter is incremented).
pub async fn database<S: Store>(store: &S, url_shown: &str) -> Finding {
    match store.reserve_counter(PROBE_COUNTER, 1).await {
        Ok(_) => Finding::ok(
            "database",
            t(
                format!("{url_shown}: terhubung, dapat ditulis"),
                format!("{url_shown}: reachable, writable"),
            ),
        ),
        Err(e) => Finding::fail(
            "database",
            t(
                format!("{url_shown}: tidak dapat ditulis: {e}"),
                format!("{url_shown}: not writable: {e}"),
            ),
            t(
                "Beri pengguna basis data hak tulis (PostgreSQL: GRANT pada tabel Sahih; SQLite: berkas dan direktorinya dapat ditulis pengguna layanan).",
                "Give the database user write access (PostgreSQL: GRANT on Sahih's tables; SQLite: the file and its directory writable by the service user).",
            ),
        ),
    }
}

/// The blob store takes a write, gives it back and deletes it.
pub async fn blob_store<B: BlobStore>(blobs: &B, shown: &str) -> Finding {
    const CHECK: &str = "blob-store";
    let key = format!("doctor/probe-{}", crate::ids::new_document_id());
    let payload = key.clone().into_bytes();
    let fix = t(
        "Periksa bahwa direktori dokumen dapat ditulis pengguna layanan, atau bahwa bucket S3, endpoint dan AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY benar dan berhak tulis.",
        "Check that the document directory is writable by the service user, or that the S3 bucket, endpoint and AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are right and may write.",
    );
    if let Err(e) = blobs.put(&key, payload.clone()).await {
        return Finding::fail(
            CHECK,
            t(
                format!("{shown}: tidak dapat menulis: {e}"),
                format!("{shown}: cannot write: {e}"),
            ),
            fix,
        );
    }
    let read = blobs.get(&key).await;
    let deleted = blobs.delete(&key).await;
    match (read, deleted) {
        (Ok(Some(bytes)), Ok(())) if bytes == payload => Finding::ok(
            CHECK,
            t(
                format!("{shown}: tulis, baca dan hapus berhasil"),
                format!("{shown}: write, read and delete work"),
            ),
        ),
        (Ok(_), Ok(())) => Finding::fail(
            CHECK,
            t(
                format!("{shown}: objek yang ditulis tidak terbaca kembali sama"),
                format!("{shown}: the object written did not read back the same"),
            ),
            fix,
        ),
        (Err(e), _) | (_, Err(e)) => Finding::fail(
            CHECK,
            t(
                format!("{shown}: tulis berhasil, lalu gagal: {e}"),
                format!("{shown}: write worked, then failed: {e}"),
            ),
            fix,
        ),
    }
}

/// The trust services could not be unlocked.
pub fn trust_unavailable(error: &CoreError) -> Finding {
    Finding::fail(
        "trust-services",
        err_text(error),
        t(
            "Pastikan kunci induk adalah kunci yang dipakai `sahih init` untuk basis data ini (dan PIN token di SAHIH_HSM_PIN untuk PKCS#11).",
            "Make sure the master key is the one `sahih init` used for this database (and the token PIN is in SAHIH_HSM_PIN for PKCS#11).",
        ),
    )
}

fn validity(
    check: String,
    what: Text,
    cert: &Certificate,
    now: OffsetDateTime,
    renew: Text,
) -> Finding {
    let end = cert.not_after();
    let left = end - now;
    let date = end.date();
    if left <= Duration::ZERO {
        return Finding::fail(
            check,
            t(
                format!("{}: berakhir {date}", what.id),
                format!("{}: expired {date}", what.en),
            ),
            renew,
        );
    }
    if cert.not_before() > now {
        return Finding::fail(
            check,
            t(
                format!("{}: belum berlaku sampai {}", what.id, cert.not_before()),
                format!("{}: not valid until {}", what.en, cert.not_before()),
            ),
            t(
                "Periksa jam sistem host ini (NTP).",
                "Check this host's system clock (NTP).",
            ),
        );
    }
    let days = left.whole_days();
    if left < EXPIRY_WARNING {
        return Finding::with(
            check,
            Verdict::Warn,
            t(
                format!("{}: tersisa {days} hari (sampai {date})", what.id),
                format!("{}: {days} days left (until {date})", what.en),
            ),
            renew,
        );
    }
    Finding::ok(
        check,
        t(
            format!("{}: tersisa {days} hari (sampai {date})", what.id),
            format!("{}: {days} days left (until {date})", what.en),
        ),
    )
}

fn no_renewal_command() -> Text {
    t(
        "Sahih belum punya perintah untuk memperbarui sertifikat ini: rencanakan penggantian (hierarki baru dengan `sahih init`) sebelum tanggal berakhir.",
        "Sahih has no command to renew this certificate yet: plan its replacement (a new hierarchy with `sahih init`) before it ends.",
    )
}

fn rotate() -> Text {
    t(
        "Jalankan `sahih ca rotate` untuk menerbitkan CA penerbit baru beserta responder OCSP-nya.",
        "Run `sahih ca rotate` to issue a new issuing CA with its own OCSP responder.",
    )
}

/// Remaining validity of every active CA, the TSA and the OCSP responders of the active CAs.
pub fn certificates(services: &TrustServices, now: OffsetDateTime) -> Vec<Finding> {
    let mut out = Vec::new();
    for ca in services.cas.iter().filter(|c| c.record.active) {
        let name = ca_name(&ca.record);
        let renew = match ca.record.kind {
            CaKind::Root => no_renewal_command(),
            CaKind::Issuing => rotate(),
        };
        out.push(validity(
            format!("cert:{name}"),
            t(format!("CA {name}"), format!("CA {name}")),
            &ca.cert,
            now,
            renew.clone(),
        ));
        out.push(validity(
            format!("cert:ocsp-{name}"),
            t(
                format!("responder OCSP {name}"),
                format!("OCSP responder {name}"),
            ),
            &ca.responder_cert,
            now,
            renew,
        ));
    }
    out.push(validity(
        "cert:tsa".into(),
        t("TSA", "TSA"),
        &services.tsa_cert,
        now,
        no_renewal_command(),
    ));
    out
}

/// The CRL each active CA would publish now verifies under the CA and has a future nextUpdate.
pub async fn crls<S: Store>(
    sahih: &Sahih<S>,
    services: &TrustServices,
    now: OffsetDateTime,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for ca in services.cas.iter().filter(|c| c.record.active) {
        let name = ca_name(&ca.record);
        let check = format!("crl:{name}");
        let fix = t(
            "Periksa jam sistem (NTP) dan kunci CA; `sahih crl --ca NAMA` menerbitkan CRL baru.",
            "Check the system clock (NTP) and the CA key; `sahih crl --ca NAME` issues a fresh CRL.",
        );
        let der = match sahih.crl_for(services, &name).await {
            Ok(d) => d,
            Err(e) => {
                out.push(Finding::fail(check, err_text(&e), fix));
                continue;
            }
        };
        let finding = match sahih_pki::crl::parse_crl(&der) {
            Err(e) => Finding::fail(
                check,
                t(
                    format!("CRL {name} rusak: {e}"),
                    format!("CRL {name} is malformed: {e}"),
                ),
                fix,
            ),
            Ok(crl) if !crl.verify_signature(&ca.cert) => Finding::fail(
                check,
                t(
                    format!("tanda tangan CRL {name} tidak cocok dengan CA-nya"),
                    format!("the signature of CRL {name} does not verify under its CA"),
                ),
                fix,
            ),
            Ok(crl) => match crl.next_update {
                Some(next) if next > now => Finding::ok(
                    check,
                    t(
                        format!(
                            "CRL {name}: {} dicabut, nextUpdate {next}",
                            crl.revoked.len()
                        ),
                        format!(
                            "CRL {name}: {} revoked, nextUpdate {next}",
                            crl.revoked.len()
                        ),
                    ),
                ),
                other => Finding::fail(
                    check,
                    t(
                        format!("CRL {name}: nextUpdate {other:?} tidak di masa depan"),
                        format!("CRL {name}: nextUpdate {other:?} is not in the future"),
                    ),
                    fix,
                ),
            },
        };
        out.push(finding);
    }
    out
}

/// An RFC 3161 request answered by the TSA in-process (the path `POST /tsa` takes), and the
/// token checked: signature, imprint, nonce, critical timeStamping EKU, issued by our root, and
/// a genTime close to this host's clock.
pub fn tsa_round_trip(services: &TrustServices, now: OffsetDateTime) -> Finding {
    const CHECK: &str = "tsa-round-trip";
    let fix = t(
        "Kunci atau sertifikat TSA rusak: periksa kunci induk dan jam sistem, lalu jalankan ulang `sahih doctor`.",
        "The TSA key or certificate is broken: check the master key and the system clock, then run `sahih doctor` again.",
    );
    let mut seed = [0u8; 32];
    let _ = aws_lc_rs::rand::fill(&mut seed);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &seed);
    let req = sahih_pki::tsp::TimeStampReq::new(sahih_pki::oids::OID_SHA256, digest.as_ref());
    let response = services.timestamp_response_der(&req.to_der());
    let mut token = match sahih_pki::tsp::parse_timestamp_response(&response) {
        Ok(tok) => tok,
        Err(e) => {
            return Finding::fail(
                CHECK,
                t(format!("TSA menolak: {e}"), format!("the TSA refused: {e}")),
                fix,
            );
        }
    };
    token.verify_with_cert(&services.tsa_cert);
    let root = services
        .cas
        .iter()
        .find(|c| c.record.kind == CaKind::Root && c.record.active);
    let mut problems = Vec::new();
    if !token.signature_valid {
        problems.push((
            "tanda tangan token tidak sah",
            "the token's signature does not verify",
        ));
    }
    if !token.matches_request(&req) || !token.check_imprint(digest.as_ref()) {
        problems.push((
            "token tidak menjawab permintaan (imprint/nonce)",
            "the token does not answer the request (imprint/nonce)",
        ));
    }
    if !token.tsa_cert_has_timestamping_eku() {
        problems.push((
            "sertifikat TSA tanpa EKU timeStamping kritis",
            "the TSA certificate lacks a critical timeStamping EKU",
        ));
    }
    if !root.is_some_and(|r| services.tsa_cert.is_signed_by(&r.cert)) {
        problems.push((
            "sertifikat TSA tidak diterbitkan root aktif",
            "the TSA certificate is not issued by the active root",
        ));
    }
    if (token.gen_time - now).abs() > MAX_TOKEN_SKEW {
        problems.push((
            "genTime jauh dari jam host",
            "genTime is far from the host clock",
        ));
    }
    if problems.is_empty() {
        Finding::ok(
            CHECK,
            t(
                format!("token nomor seri {} diverifikasi", token.serial_hex),
                format!("token serial {} verified", token.serial_hex),
            ),
        )
    } else {
        Finding::fail(
            CHECK,
            t(
                problems.iter().map(|p| p.0).collect::<Vec<_>>().join("; "),
                problems.iter().map(|p| p.1).collect::<Vec<_>>().join("; "),
            ),
            fix,
        )
    }
}

/// An OCSP request about the active issuing CA answered by the root's responder in-process,
/// and the response checked: successful, signed by a responder the root authorised, "good",
/// with a future nextUpdate.
pub fn ocsp_round_trip(services: &TrustServices, now: OffsetDateTime) -> Finding {
    const CHECK: &str = "ocsp-round-trip";
    let fix = t(
        "Kunci responder OCSP atau statusnya rusak: periksa kunci induk dan jam sistem, lalu jalankan ulang `sahih doctor`.",
        "The OCSP responder key or status data is broken: check the master key and the system clock, then run `sahih doctor` again.",
    );
    let root = services
        .cas
        .iter()
        .find(|c| c.record.kind == CaKind::Root && c.record.active);
    let issuing = services
        .cas
        .iter()
        .rev()
        .find(|c| c.record.kind == CaKind::Issuing && c.record.active);
    let (Some(root), Some(issuing)) = (root, issuing) else {
        return Finding::fail(
            CHECK,
            t(
                "tidak ada root atau CA penerbit aktif",
                "no active root or issuing CA",
            ),
            t(
                "Direktori data ini tidak lengkap: pulihkan dari cadangan atau buat ulang dengan `sahih init`.",
                "This data directory is incomplete: restore it from backup or recreate it with `sahih init`.",
            ),
        );
    };
    let name = ca_name(&issuing.record);
    let Some(der) = services.ocsp_for(&issuing.cert) else {
        return Finding::fail(
            CHECK,
            t(
                format!("tidak ada jawaban OCSP untuk {name}"),
                format!("no OCSP answer for {name}"),
            ),
            fix,
        );
    };
    let response = match sahih_pki::ocsp::parse_ocsp_response(&der) {
        Ok(r) => r,
        Err(e) => {
            return Finding::fail(
                CHECK,
                t(
                    format!("jawaban OCSP rusak: {e}"),
                    format!("malformed OCSP answer: {e}"),
                ),
                fix,
            );
        }
    };
    let status = response.status_for(&issuing.cert, &root.cert);
    let verdict_ok = response.status == 0
        && response.responder_authorised_for(&root.cert)
        && matches!(status, Some((CertStatusKind::Good, _, Some(next))) if next > now);
    if verdict_ok {
        Finding::ok(
            CHECK,
            t(
                format!("status {name}: good, ditandatangani responder yang sah"),
                format!("status of {name}: good, signed by an authorised responder"),
            ),
        )
    } else {
        Finding::fail(
            CHECK,
            t(
                format!(
                    "jawaban untuk {name}: status {}, tanda tangan sah {}, status sertifikat {status:?}",
                    response.status, response.signature_valid
                ),
                format!(
                    "answer for {name}: status {}, signature valid {}, certificate status {status:?}",
                    response.status, response.signature_valid
                ),
            ),
            fix,
        )
    }
}

/// What the caller learned about the database server's clock.
#[derive(Debug, Clone)]
pub enum DatabaseClock {
    /// An embedded database (SQLite): the same host and clock.
    SameHost,
    /// The database server's time, read just now.
    Server(OffsetDateTime),
    /// Not measured, and why.
    Unmeasured(Text),
}

/// This host's clock against the database server's.
pub fn clock(db: DatabaseClock, now: OffsetDateTime) -> Finding {
    const CHECK: &str = "clock";
    match db {
        DatabaseClock::SameHost => Finding::ok(
            CHECK,
            t(
                "SQLite: basis data di host yang sama, jam yang sama",
                "SQLite: the database is on this host, same clock",
            ),
        ),
        DatabaseClock::Unmeasured(why) => Finding::skip(CHECK, why),
        DatabaseClock::Server(at) => {
            let skew = at - now;
            let ms = skew.whole_milliseconds();
            if skew.abs() <= MAX_CLOCK_SKEW {
                Finding::ok(
                    CHECK,
                    t(
                        format!("selisih dengan server basis data {ms} ms"),
                        format!("{ms} ms off the database server"),
                    ),
                )
            } else {
                Finding::fail(
                    CHECK,
                    t(
                        format!("selisih dengan server basis data {ms} ms (batas 2 detik)"),
                        format!("{ms} ms off the database server (limit 2 s)"),
                    ),
                    t(
                        "Sinkronkan jam host ini dan server basis data dengan NTP (chrony atau systemd-timesyncd).",
                        "Synchronise the clocks of this host and the database server with NTP (chrony or systemd-timesyncd).",
                    ),
                )
            }
        }
    }
}

/// What the caller got from `GET {base_url}/healthz`.
#[derive(Debug, Clone)]
pub enum HealthProbe {
    /// Not asked (`--no-http`).
    NotAsked,
    /// Nothing listens there (connection refused): no server runs.
    NotListening(String),
    /// An answer came.
    Answered {
        /// Its body (200 answers only).
        body: Vec<u8>,
    },
    /// The request failed otherwise (name resolution, timeout, TLS, an HTTP error status).
    Failed(String),
}

/// The verdict on `{base_url}/healthz`.
pub fn health(url: &str, probe: HealthProbe) -> Finding {
    const CHECK: &str = "healthz";
    let fix = t(
        format!(
            "Pastikan `sahih serve` berjalan dan {url} dapat dijangkau dari host ini (proxy, DNS, TLS), atau lewati dengan --no-http."
        ),
        format!(
            "Make sure `sahih serve` runs and {url} is reachable from this host (proxy, DNS, TLS), or skip with --no-http."
        ),
    );
    match probe {
        HealthProbe::NotAsked => {
            Finding::skip(CHECK, t("dilewati (--no-http)", "skipped (--no-http)"))
        }
        HealthProbe::NotListening(e) => Finding::skip(
            CHECK,
            t(
                format!(
                    "tidak ada server yang menjawab di {url} ({e}); jalankan `sahih serve` untuk memeriksanya"
                ),
                format!("no server answers at {url} ({e}); start `sahih serve` to check it"),
            ),
        ),
        HealthProbe::Answered { body } if body.trim_ascii() == b"ok" => Finding::ok(
            CHECK,
            t(format!("{url} menjawab ok"), format!("{url} answers ok")),
        ),
        HealthProbe::Answered { body } => Finding::fail(
            CHECK,
            t(
                format!("{url} menjawab, tetapi bukan Sahih ({} byte)", body.len()),
                format!("{url} answers, but not as Sahih ({} bytes)", body.len()),
            ),
            fix,
        ),
        HealthProbe::Failed(e) => {
            Finding::fail(CHECK, t(format!("{url}: {e}"), format!("{url}: {e}")), fix)
        }
    }
}

/// True when any finding failed.
pub fn any_failed(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.verdict == Verdict::Fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_skew_beyond_two_seconds_fails_with_a_fix() {
        let now = OffsetDateTime::now_utc();
        assert_eq!(clock(DatabaseClock::SameHost, now).verdict, Verdict::Ok);
        let near = clock(
            DatabaseClock::Server(now + Duration::milliseconds(900)),
            now,
        );
        assert_eq!(near.verdict, Verdict::Ok);
        let far = clock(DatabaseClock::Server(now - Duration::seconds(30)), now);
        assert_eq!(far.verdict, Verdict::Fail);
        assert!(far.fix.is_some_and(|f| f.en.contains("NTP")));
    }

    #[test]
    fn health_answers_are_judged_by_their_body() {
        let url = "http://127.0.0.1:1/healthz";
        let ok = health(
            url,
            HealthProbe::Answered {
                body: b"ok".to_vec(),
            },
        );
        assert_eq!(ok.verdict, Verdict::Ok);
        let other = health(
            url,
            HealthProbe::Answered {
                body: b"<html>".to_vec(),
            },
        );
        assert_eq!(other.verdict, Verdict::Fail);
        assert_eq!(health(url, HealthProbe::NotAsked).verdict, Verdict::Skip);
        assert_eq!(
            health(url, HealthProbe::NotListening("refused".into())).verdict,
            Verdict::Skip
        );
    }

    #[test]
    fn a_loose_master_key_file_fails_with_the_chmod_that_fixes_it() {
        let dir =
            std::env::temp_dir().join(format!("sahih-doctor-{}", crate::ids::new_document_id()));
        let Ok(()) = std::fs::create_dir_all(&dir) else {
            return;
        };
        let data = DataDir::new(&dir);
        if std::env::var_os("SAHIH_MASTER_KEY").is_some()
            || std::env::var_os("SAHIH_MASTER_KEY_FILE").is_some()
        {
            return;
        }
        assert!(data.create_master_key().is_ok());
        assert_eq!(master_key(&data).verdict, Verdict::Ok);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = data.master_key_path();
            assert!(
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).is_ok()
            );
            let f = master_key(&data);
            assert_eq!(f.verdict, Verdict::Fail);
            assert!(f.fix.is_some_and(|x| x.en.contains("chmod 600")));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
