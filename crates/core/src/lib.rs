//! sahih-core: the domain of Sahih.
//!
//! Owns: the data directory and configuration, the built-in CA hierarchy, officials and their
//! certificates and passphrase-sealed keys, the passphrase lockout, signing a document on behalf
//! of an official (placement, stamp text, the record behind the QR code), verification with the
//! institution's trust anchors and revocation knowledge, and revocation, and the identity rules
//! of Indonesian officials (NIK, NIP, e-mail: [`identity`]). Defines the storage
//! contract ([`store::Store`]).
//!
//! Must not know: SQL, HTTP, or terminal I/O. User-facing messages come from
//! [`CoreError::message`] in Bahasa Indonesia or English.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// Declares a kind stored as text: the enum, every variant (`ALL`), its stored text and its
/// parser. The store edge converts; nothing above it compares strings.
macro_rules! stored_kind {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: [$name; [$(stringify!($variant)),+].len()] = [$(Self::$variant),+];

            /// The text stored in the database (and used in key labels and AAD).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// The kind stored as `s`; None for anything else.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.into_iter().find(|k| k.as_str() == s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod accounts;
pub mod audit;
pub mod backup;
pub mod certificate_changes;
pub mod clients;
pub mod config;
pub mod cpu;
pub mod doctor;
pub mod gateway;
pub mod identity;
pub mod ids;
pub mod keystore;
pub mod lifecycle;
pub mod pipeline;
pub mod policy;
pub mod ra;
pub mod requests;
pub mod seal;
pub mod service;
pub mod signing_requests;
pub mod store;
pub mod trust;
pub mod urls;

pub use config::{Config, DataDir};
pub use sahih_pades::Level;
pub use sahih_validate::render::Lang;
pub use service::{EnrollOutcome, Sahih, SignOptions, SignOutcome, TrustProviders, UnlockedSigner};

use identity::IdentityError;
use sahih_pdf::PdfError;
use sahih_pki::PkiError;
use std::path::PathBuf;
use store::StoreError;
use time::OffsetDateTime;

/// A message for people in both languages Sahih speaks, chosen when shown. Errors carry this
/// instead of an English string, so an Indonesian message never has English inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// Bahasa Indonesia.
    pub id: String,
    /// English.
    pub en: String,
}

impl Text {
    /// A message from its Indonesian and English wording.
    pub fn new(id: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            en: en.into(),
        }
    }

    /// The text in `lang`.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Id => &self.id,
            Lang::En => &self.en,
        }
    }
}

/// Logs and `Display` (developers' view) use English.
impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}

impl CoreError {
    /// An invalid argument, described in both languages.
    pub fn invalid(id: impl Into<String>, en: impl Into<String>) -> Self {
        Self::InvalidArgument(Text::new(id, en))
    }

    /// An unusable master key, described in both languages.
    pub fn master_key(id: impl Into<String>, en: impl Into<String>) -> Self {
        Self::MasterKey(Text::new(id, en))
    }
}

/// Everything an operation of the domain can fail with. `Display` is the developers' English
/// (logs); [`CoreError::message`] is what a person reads, in their language. Each door maps
/// these to its own answers (exit codes, HTTP status and ECS codes).
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The data directory has no configuration yet.
    #[error("data directory {path} is not initialised (run `sahih init`)")]
    NotInitialised {
        /// The data directory.
        path: PathBuf,
    },
    /// `init` would overwrite an existing data directory.
    #[error("data directory {path} already exists and is not empty")]
    AlreadyInitialised {
        /// The data directory.
        path: PathBuf,
    },
    /// The configuration is missing, does not parse or contradicts itself.
    #[error("configuration: {0}")]
    Config(String),
    /// The master key (which seals CA and service keys) is missing or unusable.
    #[error("master key: {0}")]
    MasterKey(Text),
    /// Reading or writing a file failed.
    #[error("I/O: {0}")]
    Io(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Keys, certificates, CMS or trust-service data failed.
    #[error(transparent)]
    Pki(PkiError),
    /// The PDF could not be read or updated.
    #[error(transparent)]
    Pdf(#[from] PdfError),
    /// Identity data (NIK, NIP, e-mail, names) was rejected.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// No official (or seal) is registered under this NIK or idSubscriber.
    #[error("NIK is not registered")]
    NikNotRegistered,
    /// Enrolling someone who is already on file.
    #[error("an official with this NIK is already enrolled")]
    AlreadyEnrolled,
    /// The official exists but holds no certificate (yet).
    #[error("the official has no certificate")]
    NoCertificate,
    /// Signing refused: the certificate is revoked.
    #[error("the certificate was revoked")]
    CertificateRevoked {
        /// When it was revoked, if known.
        at: Option<OffsetDateTime>,
    },
    /// Signing refused: the certificate is suspended (it may be resumed).
    #[error("the certificate is suspended")]
    CertificateSuspended {
        /// Since when, if known.
        since: Option<OffsetDateTime>,
    },
    /// Signing refused: the certificate is past its notAfter.
    #[error("the certificate expired")]
    CertificateExpired {
        /// Its notAfter.
        at: OffsetDateTime,
    },
    /// The passphrase did not open the key; the attempt counts towards the lockout.
    #[error("wrong passphrase")]
    WrongPassphrase {
        /// Attempts left before the key is locked.
        remaining: i64,
    },
    /// A one-time code that is wrong, expired or already used for that many documents.
    #[error("wrong one-time code")]
    WrongOtp {
        /// Attempts left before the key is locked.
        remaining: i64,
    },
    /// Too many wrong passphrases or codes: the key is locked for a while.
    #[error("key locked")]
    Locked {
        /// When attempts are accepted again.
        until: OffsetDateTime,
    },
    /// A new passphrase does not meet the policy (see
    /// [`service::check_passphrase_policy`]).
    #[error("passphrase rejected: {0}")]
    WeakPassphrase(Text),
    /// A request the caller got wrong, described in both languages.
    #[error("invalid argument: {0}")]
    InvalidArgument(Text),
    /// A trust service (TSA, OCSP, CRL) failed or could not be reached.
    #[error("trust service: {0}")]
    Service(String),
    /// The institution's document-class policy refuses the request (message cites the rule).
    #[error("refused by policy")]
    PolicyRefused {
        /// The refusal in Bahasa Indonesia.
        id: String,
        /// The refusal in English.
        en: String,
    },
    /// Storing or reading a document or evidence file failed.
    #[error(transparent)]
    Blob(#[from] store::BlobError),
    /// A lifecycle step that is not allowed from the current status (see [`ra::transition`]).
    #[error("{action} is not allowed in status {from}")]
    InvalidTransition {
        /// The current status.
        from: &'static str,
        /// The step asked for.
        action: &'static str,
    },
    /// The account's role or unit does not allow this, or duties would not be separated.
    #[error("forbidden: {en}")]
    Forbidden {
        /// Why, in Bahasa Indonesia.
        id: String,
        /// Why, in English.
        en: String,
    },
    /// The thing named (a request, document, account...) does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The upstream signer (gateway mode) refused or failed; the door shows its own error.
    #[error("upstream signer: {0}")]
    Remote(pipeline::RemoteFailure),
    /// An evidence file of the wrong type, too large or incomplete (the uploader's fault).
    #[error("evidence: {0}")]
    Evidence(String),
    /// A stored evidence file is missing or no longer matches the hash recorded at upload
    /// (storage damage or tampering: not the caller's fault). `blob_key` goes to the log only.
    #[error("evidence {kind} damaged in storage: {blob_key}")]
    EvidenceDamaged {
        /// The kind of evidence (e-KTP, SK, ...), which a person may be told.
        kind: String,
        /// Where it is stored.
        blob_key: String,
    },
    /// An activation link that is unknown, already used or expired.
    #[error("activation link is invalid, used or expired")]
    ActivationLinkInvalid,
    /// A login was refused: unknown name, wrong password or wrong code (deliberately one
    /// answer, so nobody learns which).
    #[error("login failed")]
    LoginFailed,
    /// Too many failed logins: the account is locked for a while.
    #[error("account locked until {until}")]
    LoginLocked {
        /// When logins are accepted again.
        until: OffsetDateTime,
    },
    /// No session, or it ended (logout, idle, too old).
    #[error("session invalid or ended")]
    SessionInvalid,
    /// An account setup link that is unknown, used or expired.
    #[error("account setup link is invalid, used or expired")]
    SetupLinkInvalid,
}

impl From<PkiError> for CoreError {
    fn from(e: PkiError) -> Self {
        Self::Pki(e)
    }
}

impl From<sahih_pades::PadesError> for CoreError {
    fn from(e: sahih_pades::PadesError) -> Self {
        match e {
            sahih_pades::PadesError::Pdf(p) => Self::Pdf(p),
            sahih_pades::PadesError::Pki(p) => Self::Pki(p),
            sahih_pades::PadesError::Service(s) => Self::Service(s),
        }
    }
}

/// Formats a time for officials: Western Indonesian Time (UTC+7).
pub fn format_wib(t: OffsetDateTime, lang: Lang) -> String {
    let offset = time::UtcOffset::from_hms(7, 0, 0).unwrap_or(time::UtcOffset::UTC);
    let t = t.to_offset(offset);
    let month = u8::from(t.month());
    let name = match lang {
        Lang::Id => MONTHS_ID.get(usize::from(month) - 1).copied().unwrap_or(""),
        Lang::En => MONTHS_EN.get(usize::from(month) - 1).copied().unwrap_or(""),
    };
    format!(
        "{} {} {} {:02}:{:02} WIB",
        t.day(),
        name,
        t.year(),
        t.hour(),
        t.minute()
    )
}

const MONTHS_ID: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl CoreError {
    /// The message shown to a person, in the chosen language.
    pub fn message(&self, lang: Lang) -> String {
        let id = lang == Lang::Id;
        match self {
            Self::NotInitialised { path } => {
                if id {
                    format!(
                        "Direktori data {} belum diinisialisasi. Jalankan `sahih init` terlebih dahulu.",
                        path.display()
                    )
                } else {
                    format!(
                        "Data directory {} is not initialised. Run `sahih init` first.",
                        path.display()
                    )
                }
            }
            Self::AlreadyInitialised { path } => {
                if id {
                    format!(
                        "Direktori data {} sudah ada dan tidak kosong; tidak akan ditimpa.",
                        path.display()
                    )
                } else {
                    format!(
                        "Data directory {} already exists and is not empty; it will not be overwritten.",
                        path.display()
                    )
                }
            }
            Self::Config(d) => {
                if id {
                    format!("Konfigurasi tidak valid: {d}")
                } else {
                    format!("Invalid configuration: {d}")
                }
            }
            Self::MasterKey(d) => {
                let d = d.get(lang);
                if id {
                    format!("Kunci induk (master key) tidak dapat dipakai: {d}")
                } else {
                    format!("Master key unusable: {d}")
                }
            }
            Self::Io(d) => {
                if id {
                    format!("Kesalahan berkas: {d}")
                } else {
                    format!("File error: {d}")
                }
            }
            Self::Store(e) => {
                if id {
                    format!("Kesalahan basis data: {e}")
                } else {
                    format!("Database error: {e}")
                }
            }
            Self::Pki(e) => {
                if id {
                    format!("Kesalahan kriptografi/sertifikat: {e}")
                } else {
                    format!("Cryptography/certificate error: {e}")
                }
            }
            Self::Pdf(e) => pdf_message(e, lang),
            Self::Identity(e) => {
                if id {
                    format!("Data identitas tidak valid: {e}")
                } else {
                    format!("Invalid identity data: {e}")
                }
            }
            Self::NikNotRegistered => {
                if id {
                    "NIK tidak terdaftar sebagai pejabat penanda tangan.".into()
                } else {
                    "This NIK is not registered as a signing official.".into()
                }
            }
            Self::AlreadyEnrolled => {
                if id {
                    "Pejabat dengan NIK ini sudah terdaftar.".into()
                } else {
                    "An official with this NIK is already enrolled.".into()
                }
            }
            Self::NoCertificate => {
                if id {
                    "Pejabat ini belum memiliki sertifikat elektronik.".into()
                } else {
                    "This official has no certificate.".into()
                }
            }
            Self::CertificateRevoked { at } => {
                let when = at
                    .map(|t| format!(" ({})", format_wib(t, lang)))
                    .unwrap_or_default();
                if id {
                    format!(
                        "Sertifikat elektronik pejabat ini telah dicabut{when}; penandatanganan ditolak."
                    )
                } else {
                    format!("This official's certificate was revoked{when}; signing refused.")
                }
            }
            Self::CertificateSuspended { since } => {
                let when = since
                    .map(|t| format!(" sejak {}", format_wib(t, lang)))
                    .unwrap_or_default();
                if id {
                    format!(
                        "Sertifikat elektronik pejabat ini sedang ditangguhkan (SUSPEND){when}; penandatanganan ditolak sampai diaktifkan kembali oleh Diskominfo."
                    )
                } else {
                    let when = since
                        .map(|t| format!(" since {}", format_wib(t, lang)))
                        .unwrap_or_default();
                    format!(
                        "This official's certificate is suspended{when}; signing is refused until the registration authority resumes it."
                    )
                }
            }
            Self::CertificateExpired { at } => {
                if id {
                    format!(
                        "Sertifikat elektronik pejabat ini kedaluwarsa pada {}; penandatanganan ditolak.",
                        format_wib(*at, lang)
                    )
                } else {
                    format!(
                        "This official's certificate expired on {}; signing refused.",
                        format_wib(*at, lang)
                    )
                }
            }
            Self::WrongPassphrase { remaining } => {
                if id {
                    format!(
                        "Passphrase salah. Sisa percobaan sebelum kunci dikunci sementara: {remaining}."
                    )
                } else {
                    format!(
                        "Wrong passphrase. Attempts left before the key is locked: {remaining}."
                    )
                }
            }
            Self::WrongOtp { remaining } => {
                if id {
                    format!(
                        "Kode OTP salah, kedaluwarsa, atau sudah dipakai. Sisa percobaan sebelum kunci dikunci sementara: {remaining}."
                    )
                } else {
                    format!(
                        "The one-time code is wrong, expired or already used. Attempts left before the key is locked: {remaining}."
                    )
                }
            }
            Self::Locked { until } => {
                if id {
                    format!(
                        "Kunci tanda tangan terkunci karena terlalu banyak passphrase salah, sampai {}.",
                        format_wib(*until, lang)
                    )
                } else {
                    format!(
                        "The signing key is locked after too many wrong passphrases, until {}.",
                        format_wib(*until, lang)
                    )
                }
            }
            Self::WeakPassphrase(why) => {
                let why = why.get(lang);
                if id {
                    format!("Passphrase ditolak: {why}")
                } else {
                    format!("Passphrase rejected: {why}")
                }
            }
            Self::InvalidArgument(d) => {
                let d = d.get(lang);
                if id {
                    format!("Argumen tidak valid: {d}")
                } else {
                    format!("Invalid argument: {d}")
                }
            }
            Self::Service(d) => {
                if id {
                    format!("Layanan kepercayaan (TSA/OCSP/CRL) gagal: {d}")
                } else {
                    format!("Trust service (TSA/OCSP/CRL) failed: {d}")
                }
            }
            Self::PolicyRefused { id: text_id, en } => {
                if id {
                    text_id.clone()
                } else {
                    en.clone()
                }
            }
            Self::Blob(e) => {
                if id {
                    format!("Penyimpanan dokumen gagal: {e}")
                } else {
                    format!("Document storage failed: {e}")
                }
            }
            Self::InvalidTransition { from, action } => {
                if id {
                    format!("Langkah {action} tidak diperbolehkan pada status {from}")
                } else {
                    format!("Step {action} is not allowed in status {from}")
                }
            }
            Self::Forbidden { id: text_id, en } => {
                if id {
                    text_id.clone()
                } else {
                    en.clone()
                }
            }
            Self::NotFound(what) => {
                if id {
                    format!("Tidak ditemukan: {what}")
                } else {
                    format!("Not found: {what}")
                }
            }
            Self::Remote(f) => {
                if id {
                    format!("Layanan TTE induk menolak atau gagal: {f}")
                } else {
                    format!("The upstream signing service refused or failed: {f}")
                }
            }
            Self::Evidence(d) => {
                if id {
                    format!("Berkas pendukung ditolak: {d} (hanya PDF, JPEG atau PNG)")
                } else {
                    format!("Evidence file refused: {d} (PDF, JPEG or PNG only)")
                }
            }
            Self::EvidenceDamaged { kind, .. } => {
                if id {
                    format!(
                        "Berkas pendukung {kind} di penyimpanan tidak utuh (tidak cocok dengan yang diunggah); hubungi administrator"
                    )
                } else {
                    format!(
                        "The stored evidence {kind} is damaged (it no longer matches what was uploaded); contact the administrator"
                    )
                }
            }
            Self::ActivationLinkInvalid => {
                if id {
                    "Tautan aktivasi tidak dikenal, sudah dipakai, atau kedaluwarsa. Hubungi operator OPD Anda."
                        .into()
                } else {
                    "The activation link is unknown, already used or expired. Contact your OPD operator."
                        .into()
                }
            }
            Self::LoginFailed => {
                if id {
                    "NIP/e-mail, kata sandi, atau kode autentikator salah.".into()
                } else {
                    "The NIP/e-mail, password or authenticator code is wrong.".into()
                }
            }
            Self::LoginLocked { until } => {
                if id {
                    format!(
                        "Terlalu banyak percobaan masuk yang gagal. Akun dikunci sampai {}.",
                        format_wib(*until, lang)
                    )
                } else {
                    format!(
                        "Too many failed logins. The account is locked until {}.",
                        format_wib(*until, lang)
                    )
                }
            }
            Self::SessionInvalid => {
                if id {
                    "Sesi Anda sudah berakhir. Silakan masuk lagi.".into()
                } else {
                    "Your session has ended. Please log in again.".into()
                }
            }
            Self::SetupLinkInvalid => {
                if id {
                    "Tautan pengaturan akun tidak dikenal, sudah dipakai, atau kedaluwarsa. Hubungi administrator."
                        .into()
                } else {
                    "The account setup link is unknown, already used or expired. Contact the administrator."
                        .into()
                }
            }
        }
    }
}

fn pdf_message(e: &PdfError, lang: Lang) -> String {
    let id = lang == Lang::Id;
    match e {
        PdfError::Empty => {
            if id {
                "Berkas kosong (0 byte), bukan PDF.".into()
            } else {
                "The file is empty (0 bytes), not a PDF.".into()
            }
        }
        PdfError::NotPdf => {
            if id {
                "Berkas bukan dokumen PDF.".into()
            } else {
                "The file is not a PDF document.".into()
            }
        }
        PdfError::Encrypted => {
            if id {
                "Dokumen PDF terenkripsi (dilindungi kata sandi); buka proteksinya terlebih dahulu, lalu tanda tangani.".into()
            } else {
                "The PDF is encrypted (password-protected); remove the protection first, then sign."
                    .into()
            }
        }
        PdfError::Unparseable(d) => {
            if id {
                format!("Dokumen PDF rusak dan tidak dapat dibaca: {d}")
            } else {
                format!("The PDF is damaged and cannot be read: {d}")
            }
        }
        PdfError::NoSuchPage(n) => {
            if id {
                format!("Halaman {n} tidak ada dalam dokumen.")
            } else {
                format!("Page {n} does not exist in the document.")
            }
        }
        PdfError::InvalidPlacement(d) => {
            if id {
                format!("Posisi tanda tangan tidak valid: {d}")
            } else {
                format!("Invalid signature placement: {d}")
            }
        }
        PdfError::AnchorNotFound(t) => {
            if id {
                format!("Teks penanda {t:?} tidak ditemukan dalam dokumen.")
            } else {
                format!("Anchor text {t:?} was not found in the document.")
            }
        }
        other => {
            if id {
                format!("Kesalahan PDF: {other}")
            } else {
                format!("PDF error: {other}")
            }
        }
    }
}
