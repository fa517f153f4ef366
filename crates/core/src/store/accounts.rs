//! Person accounts and browser sessions as stored, and the [`AccountStore`] trait a store
//! implements for them. What logging in means is `crate::accounts`.
//!
//! Secrets stay out of the database in the clear: passwords are Argon2id PHC strings, TOTP
//! secrets are sealed under the master key, and setup links and sessions are kept as the
//! SHA-256 of their token.
//!
//! Must not know: SQL, HTTP, cookies, or the login rules.

use crate::audit::AuditEvent;
use crate::store::StoreResult;
use std::future::Future;
use time::OffsetDateTime;

stored_kind!(
    /// What a person does here. Officials sign; operators, verifikators and administrators
    /// run the registration authority and the service.
    AccountRole {
        /// An official who signs (linked to their `officials` row).
        Official => "official",
        /// An OPD operator who files RA requests for their unit.
        Operator => "operator",
        /// A Diskominfo verifikator who decides RA requests.
        Verifikator => "verifikator",
        /// An administrator of the service.
        Admin => "admin",
    }
);

stored_kind!(
    /// How far a session has come: a session that still has to set up its second factor can
    /// do only that.
    SessionStage {
        /// Password checked; the TOTP second factor must be set up before anything else.
        SetupTotp => "setup-totp",
        /// Password and second factor checked.
        Full => "full",
    }
);

/// A person's account.
#[derive(Debug, Clone)]
pub struct AccountRecord {
    /// Row id.
    pub id: i64,
    /// What the person does.
    pub role: AccountRole,
    /// The official's record, for officials.
    pub official_id: Option<i64>,
    /// The operator's unit.
    pub unit: Option<String>,
    /// E-mail, one way to log in.
    pub email: String,
    /// NIP, the other way to log in (officials and civil-servant staff).
    pub nip: Option<String>,
    /// The person's NIK, for staff: separation of duties refuses a decision about themselves.
    pub nik: Option<String>,
    /// Name as shown on pages.
    pub name: String,
    /// Argon2id PHC string; None until the person chose a password.
    pub password_hash: Option<String>,
    /// The TOTP secret sealed under the master key; None until set up.
    pub totp_sealed: Option<String>,
    /// The second factor was confirmed with a code.
    pub totp_confirmed: bool,
    /// The last TOTP step accepted (a code is never accepted twice).
    pub totp_last_step: i64,
    /// Consecutive failed logins.
    pub failed_logins: i64,
    /// Logins are refused until then.
    pub locked_until: Option<OffsetDateTime>,
    /// Disabled accounts cannot log in.
    pub disabled: bool,
    /// When the account was made.
    pub created_at: OffsetDateTime,
}

/// An account to make.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// What the person does.
    pub role: AccountRole,
    /// The official's record, for officials.
    pub official_id: Option<i64>,
    /// The operator's unit.
    pub unit: Option<String>,
    /// E-mail.
    pub email: String,
    /// NIP, when the person has one.
    pub nip: Option<String>,
    /// The person's NIK, for staff (see [`AccountRecord::nik`]).
    pub nik: Option<String>,
    /// Name.
    pub name: String,
    /// The password's PHC string, when it is chosen at once (official activation).
    pub password_hash: Option<String>,
}

/// A browser session as stored.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// SHA-256 (hex) of the session token; the token itself lives only in the cookie.
    pub token_sha256: String,
    /// Whose session.
    pub account_id: i64,
    /// How far the login has come.
    pub stage: SessionStage,
    /// When it began.
    pub created_at: OffsetDateTime,
    /// The last request it made.
    pub last_seen_at: OffsetDateTime,
    /// It ends then at the latest.
    pub expires_at: OffsetDateTime,
    /// The address it began from (shown to the person).
    pub ip: String,
    /// The browser it began in (shown to the person).
    pub user_agent: String,
}

/// Storage of accounts, setup links and sessions.
pub trait AccountStore {
    /// Makes an account, with its audit event, in one transaction; returns its id. Conflict
    /// when the e-mail, NIP or official already has one.
    fn insert_account(
        &self,
        account: &NewAccount,
        event: &AuditEvent,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// An account by id.
    fn account_by_id(
        &self,
        id: i64,
    ) -> impl Future<Output = StoreResult<Option<AccountRecord>>> + Send;
    /// The account whose e-mail (case-insensitive) or NIP is `login`.
    fn account_by_login(
        &self,
        login: &str,
    ) -> impl Future<Output = StoreResult<Option<AccountRecord>>> + Send;
    /// The account of an official.
    fn account_of_official(
        &self,
        official_id: i64,
    ) -> impl Future<Output = StoreResult<Option<AccountRecord>>> + Send;
    /// Sets the password (PHC string).
    fn set_password(
        &self,
        account_id: i64,
        password_hash: &str,
        event: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Stores a new TOTP secret (sealed) where none is stored yet.
    fn set_totp_secret(
        &self,
        account_id: i64,
        sealed: &str,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Accepts a TOTP step: only when it is later than the last one accepted (one statement,
    /// so two requests with the same code cannot both pass); also marks the second factor
    /// confirmed. False when the step was not later.
    fn accept_totp_step(
        &self,
        account_id: i64,
        step: i64,
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// Counts a failed login; from `lock_after` consecutive failures the account is locked
    /// until `lock_until`. Returns the count.
    fn record_login_failure(
        &self,
        account_id: i64,
        lock_after: i64,
        lock_until: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    /// Clears the failure count and any lock.
    fn reset_login_failures(&self, account_id: i64)
    -> impl Future<Output = StoreResult<()>> + Send;

    /// Stores a setup link (its token's SHA-256).
    fn insert_setup_link(
        &self,
        token_sha256: &str,
        account_id: i64,
        created_at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The account of an unused, unexpired setup link, without using it.
    fn setup_link(
        &self,
        token_sha256: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<Option<i64>>> + Send;
    /// Uses a setup link (once: a conditional update); its account, or None.
    fn use_setup_link(
        &self,
        token_sha256: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<Option<i64>>> + Send;

    /// Stores a new session.
    fn insert_session(
        &self,
        session: &SessionRecord,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// A session that has not ended (the caller checks its times).
    fn live_session(
        &self,
        token_sha256: &str,
    ) -> impl Future<Output = StoreResult<Option<SessionRecord>>> + Send;
    /// Records activity on a session.
    fn touch_session(
        &self,
        token_sha256: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Moves a session to another stage.
    fn set_session_stage(
        &self,
        token_sha256: &str,
        stage: SessionStage,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Ends one session.
    fn end_session(
        &self,
        token_sha256: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Ends every live session of an account, except `keep`; returns how many.
    fn end_sessions_of(
        &self,
        account_id: i64,
        keep: Option<&str>,
        now: OffsetDateTime,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
    /// The live sessions of an account, newest first.
    fn sessions_of(
        &self,
        account_id: i64,
    ) -> impl Future<Output = StoreResult<Vec<SessionRecord>>> + Send;
}
