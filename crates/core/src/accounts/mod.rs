//! Person accounts and their browser sessions: officials, RA staff and administrators log in
//! with their NIP or e-mail, a login password (Argon2id) and a TOTP code from any
//! authenticator app. API clients stay for machines (`crate::clients`).
//!
//! - The login password is not the signing passphrase: it opens a session; the passphrase
//!   unlocks the signing key at each signature and is never stored.
//! - Sessions live in the database (several servers share them), are known only by the SHA-256
//!   of their token, end after 30 minutes idle and 12 hours at most, and can be ended by their
//!   person, one or all.
//! - Failed logins lock the account for 15 minutes after five in a row, separately from the
//!   signing lockout. Both lockouts, every login and every failure are audited.
//! - A new login always gets a new token (no session fixation); a form carries a CSRF token
//!   derived from the session token ([`csrf_token`]).
//!
//! Must not know: HTTP, cookies or pages (the server's `web` module), nor SQL.

pub mod password;
pub mod totp;

use crate::audit::{AuditAction, AuditEvent, AuditResult};
use crate::store::accounts::{
    AccountRecord, AccountRole, AccountStore, NewAccount, SessionRecord, SessionStage,
};
use crate::store::{OfficialRecord, OutboxMessage, Store};
use crate::{CoreError, Sahih};
use aws_lc_rs::hmac;
use base64::Engine;
use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::minutes(30);
/// A session ends this long after login, whatever happens.
pub const ABSOLUTE: Duration = Duration::hours(12);
/// Consecutive failed logins that lock an account.
pub const LOCK_AFTER: i64 = 5;
/// How long a locked account stays locked.
pub const LOCK_FOR: Duration = Duration::minutes(15);
/// How long an account setup link works.
pub const SETUP_LINK_TTL: Duration = Duration::hours(72);
/// Activity is written back at most this often (not on every request).
const TOUCH_EVERY: Duration = Duration::seconds(60);

pub use crate::ids::token_sha256;

fn new_token() -> Result<Zeroizing<String>, CoreError> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    aws_lc_rs::rand::fill(bytes.as_mut())
        .map_err(|_| CoreError::Service("random number generator failed".into()))?;
    Ok(Zeroizing::new(
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes.as_ref()),
    ))
}

/// The CSRF token of a session: derived from its token, so nothing more is stored, and
/// useless without the session cookie.
pub fn csrf_token(session_token: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, session_token.as_bytes());
    hex::encode(hmac::sign(&key, b"sahih-csrf-v1").as_ref())
}

/// Whether `presented` is the session's CSRF token (constant time).
pub fn csrf_matches(session_token: &str, presented: &str) -> bool {
    csrf_token(session_token)
        .as_bytes()
        .ct_eq(presented.as_bytes())
        .into()
}

/// A session just begun: its token goes into the cookie and nowhere else.
pub struct NewSession {
    /// The secret token (cookie value).
    pub token: Zeroizing<String>,
    /// How far the login has come.
    pub stage: SessionStage,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("NewSession")
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

/// The session behind a request, checked.
#[derive(Debug, Clone)]
pub struct SessionView {
    /// Whose session.
    pub account: AccountRecord,
    /// The official's record, for officials.
    pub official: Option<OfficialRecord>,
    /// How far the login has come.
    pub stage: SessionStage,
    /// SHA-256 of the token (to end this session).
    pub token_sha256: String,
}

/// What an authenticator app needs to add the account.
pub struct TotpEnrolment {
    /// The secret in base32, for typing by hand.
    pub secret_base32: Zeroizing<String>,
    /// The `otpauth://` URI, for the QR code.
    pub uri: Zeroizing<String>,
}

/// Where a login comes from (shown to the person in their list of sessions).
#[derive(Debug, Clone, Default)]
pub struct Origin {
    /// Source address.
    pub ip: String,
    /// The browser's User-Agent, shortened.
    pub user_agent: String,
}

impl Origin {
    /// An origin with the User-Agent cut to a readable length.
    pub fn new(ip: impl Into<String>, user_agent: &str) -> Self {
        Self {
            ip: ip.into(),
            user_agent: user_agent.chars().take(200).collect(),
        }
    }
}

fn actor_of(account: &AccountRecord) -> String {
    account_actor(account.id)
}

/// How a person's account appears as an actor in the audit log and in records
/// (`submitted_by`, `decided_by`): `account:<id>`. API client names never hold ':'.
pub fn account_actor(id: i64) -> String {
    format!("account:{id}")
}

/// The account id of an actor written by [`account_actor`].
pub fn account_id_of_actor(actor: &str) -> Option<i64> {
    actor.strip_prefix("account:")?.parse().ok()
}

fn totp_aad(account_id: i64) -> Vec<u8> {
    format!("sahih-totp-v1:{account_id}").into_bytes()
}

impl<S: Store + AccountStore> Sahih<S> {
    /// Makes an account and sends its setup link to the person's e-mail (through the outbox),
    /// where they choose a password and set up their second factor. For staff and for
    /// officials who were activated before accounts existed.
    pub async fn invite_account(&self, new: NewAccount, by: &str) -> Result<i64, CoreError> {
        if new.role == AccountRole::Official && new.official_id.is_none() {
            return Err(CoreError::invalid(
                "Akun pejabat harus terhubung dengan data pejabat (NIK).",
                "An official's account must be linked to the official's record (NIK).",
            ));
        }
        if let Some(nik) = &new.nik
            && !(nik.len() == 16 && nik.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(CoreError::invalid(
                "NIK harus 16 angka.",
                "A NIK is 16 digits.",
            ));
        }
        let event = AuditEvent::new(AuditAction::AccountCreate, by, AuditResult::Ok)
            .detail(format!("role={} email={}", new.role, new.email));
        let id = self.store.insert_account(&new, &event).await?;
        let token = new_token()?;
        let now = OffsetDateTime::now_utc();
        let expires = now + SETUP_LINK_TTL;
        self.store
            .insert_setup_link(&token_sha256(&token), id, now, expires)
            .await?;
        let link = format!("{}/akun/atur/{}", self.config.base_url, token.as_str());
        let body = format!(
            "Yth. {name},\n\nAkun Anda pada layanan tanda tangan elektronik {inst} telah dibuat. \
             Buka tautan berikut untuk memilih kata sandi masuk dan memasang aplikasi autentikator \
             (berlaku sampai {until}, sekali pakai):\n\n{link}\n\nAbaikan pesan ini bila Anda tidak \
             merasa memintanya.\n",
            name = new.name,
            inst = self.config.institution,
            until = crate::format_wib(expires, crate::Lang::Id),
        );
        self.push_message(&new.email, "Pengaturan akun layanan TTE", &body)
            .await?;
        Ok(id)
    }

    async fn push_message(&self, to: &str, subject: &str, body: &str) -> Result<(), CoreError> {
        let message = OutboxMessage {
            recipient: to.to_string(),
            subject: subject.to_string(),
            body: body.to_string(),
        };
        self.notify(&message).await
    }

    /// The account behind an unused setup link (the link stays usable).
    pub async fn setup_view(&self, token: &str) -> Result<AccountRecord, CoreError> {
        let now = OffsetDateTime::now_utc();
        let id = self
            .store
            .setup_link(&token_sha256(token), now)
            .await?
            .ok_or(CoreError::SetupLinkInvalid)?;
        self.store
            .account_by_id(id)
            .await?
            .ok_or(CoreError::SetupLinkInvalid)
    }

    /// Uses a setup link: sets the password and begins a session that can only set up the
    /// second factor.
    pub async fn setup_password(
        &self,
        token: &str,
        password: &str,
        origin: &Origin,
    ) -> Result<NewSession, CoreError> {
        let account = self.setup_view(token).await?;
        check_password(&account, password)?;
        let phc = crate::cpu::run_cpu(|| password::hash(password))?;
        let now = OffsetDateTime::now_utc();
        // Used first: two submissions of the same link cannot both set a password.
        self.store
            .use_setup_link(&token_sha256(token), now)
            .await?
            .ok_or(CoreError::SetupLinkInvalid)?;
        let event = AuditEvent::new(
            AuditAction::AccountPassword,
            &actor_of(&account),
            AuditResult::Ok,
        )
        .detail("setup link");
        self.store.set_password(account.id, &phc, &event).await?;
        self.begin_session(&account, SessionStage::SetupTotp, origin, now)
            .await
    }

    /// The account of an official just activated (`Sahih::activate`): made with the login
    /// password chosen in the same form, then a session that sets up the second factor. An
    /// official who already has an account keeps it (renewal, reset): None.
    pub async fn account_on_activation(
        &self,
        official: &OfficialRecord,
        password: &str,
        origin: &Origin,
    ) -> Result<Option<NewSession>, CoreError> {
        if self.store.account_of_official(official.id).await?.is_some() {
            return Ok(None);
        }
        let new = NewAccount {
            role: AccountRole::Official,
            official_id: Some(official.id),
            unit: Some(official.unit.clone()),
            email: official.email.clone(),
            nip: Some(official.nip.clone()).filter(|n| !n.is_empty()),
            nik: Some(official.nik.clone()),
            name: official.name.clone(),
            password_hash: None,
        };
        let probe = AccountRecord {
            id: 0,
            role: new.role,
            official_id: new.official_id,
            unit: new.unit.clone(),
            email: new.email.clone(),
            nip: new.nip.clone(),
            nik: new.nik.clone(),
            name: new.name.clone(),
            password_hash: None,
            totp_sealed: None,
            totp_confirmed: false,
            totp_last_step: 0,
            failed_logins: 0,
            locked_until: None,
            disabled: false,
            created_at: OffsetDateTime::now_utc(),
        };
        check_password(&probe, password)?;
        let phc = crate::cpu::run_cpu(|| password::hash(password))?;
        let new = NewAccount {
            password_hash: Some(phc),
            ..new
        };
        let event = AuditEvent::new(
            AuditAction::AccountCreate,
            &crate::requests::actor(official),
            AuditResult::Ok,
        )
        .detail("role=official at activation");
        let id = self.store.insert_account(&new, &event).await?;
        let account = self
            .store
            .account_by_id(id)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("account {id}")))?;
        let now = OffsetDateTime::now_utc();
        self.begin_session(&account, SessionStage::SetupTotp, origin, now)
            .await
            .map(Some)
    }

    async fn begin_session(
        &self,
        account: &AccountRecord,
        stage: SessionStage,
        origin: &Origin,
        now: OffsetDateTime,
    ) -> Result<NewSession, CoreError> {
        let token = new_token()?;
        self.store
            .insert_session(&SessionRecord {
                token_sha256: token_sha256(&token),
                account_id: account.id,
                stage,
                created_at: now,
                last_seen_at: now,
                expires_at: now + ABSOLUTE,
                ip: origin.ip.clone(),
                user_agent: origin.user_agent.clone(),
            })
            .await?;
        Ok(NewSession { token, stage })
    }

    /// Logs in with NIP or e-mail, password and (once set up) a TOTP code. Every refusal is
    /// the same [`CoreError::LoginFailed`] (or [`CoreError::LoginLocked`]), audited.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
        code: &str,
        origin: &Origin,
    ) -> Result<NewSession, CoreError> {
        let now = OffsetDateTime::now_utc();
        let account = self.store.account_by_login(login.trim()).await?;
        let Some(account) = account.filter(|a| !a.disabled && a.password_hash.is_some()) else {
            // As long as a real check, so the answer does not tell whether the account exists.
            crate::cpu::run_cpu(|| password::verify(password, password::decoy()));
            self.audit_login_failure(None, origin, "unknown or disabled account")
                .await?;
            return Err(CoreError::LoginFailed);
        };
        if let Some(until) = account.locked_until.filter(|u| *u > now) {
            self.audit_login_failure(Some(&account), origin, "locked")
                .await?;
            return Err(CoreError::LoginLocked { until });
        }
        let phc = account.password_hash.clone().unwrap_or_default();
        let password_ok = crate::cpu::run_cpu(|| password::verify(password, &phc));
        let second_ok = if !password_ok {
            false
        } else if account.totp_confirmed {
            self.check_totp(&account, code, now).await?
        } else {
            true
        };
        if !second_ok {
            let failures = self
                .store
                .record_login_failure(account.id, LOCK_AFTER, now + LOCK_FOR)
                .await?;
            let why = if password_ok {
                "wrong code"
            } else {
                "wrong password"
            };
            self.audit_login_failure(Some(&account), origin, why)
                .await?;
            if failures >= LOCK_AFTER {
                if failures == LOCK_AFTER {
                    let event = AuditEvent::new(
                        AuditAction::AccountLockout,
                        &actor_of(&account),
                        AuditResult::Refused,
                    )
                    .detail(format!("failures={failures} ip={}", origin.ip));
                    self.store.append_audit(&[event]).await?;
                }
                return Err(CoreError::LoginLocked {
                    until: now + LOCK_FOR,
                });
            }
            return Err(CoreError::LoginFailed);
        }
        self.store.reset_login_failures(account.id).await?;
        let stage = if account.totp_confirmed {
            SessionStage::Full
        } else {
            SessionStage::SetupTotp
        };
        let session = self.begin_session(&account, stage, origin, now).await?;
        let event = AuditEvent::new(
            AuditAction::AccountLogin,
            &actor_of(&account),
            AuditResult::Ok,
        )
        .detail(format!("stage={stage} ip={}", origin.ip));
        self.store.append_audit(&[event]).await?;
        Ok(session)
    }

    async fn audit_login_failure(
        &self,
        account: Option<&AccountRecord>,
        origin: &Origin,
        why: &str,
    ) -> Result<(), CoreError> {
        let actor = account.map(actor_of).unwrap_or_else(|| "-".into());
        let event = AuditEvent::new(
            AuditAction::AccountLoginFailed,
            &actor,
            AuditResult::Refused,
        )
        .detail(format!("{why} ip={}", origin.ip));
        self.store.append_audit(&[event]).await?;
        Ok(())
    }

    /// Whether `code` is the account's current TOTP code, spending its step.
    async fn check_totp(
        &self,
        account: &AccountRecord,
        code: &str,
        now: OffsetDateTime,
    ) -> Result<bool, CoreError> {
        let Some(sealed) = account.totp_sealed.as_deref() else {
            return Ok(false);
        };
        let secret = sahih_pki::unseal_payload_with_master_key(
            sealed,
            &self.data.master_key()?,
            &totp_aad(account.id),
        )?;
        let step = totp::accept(
            &secret,
            code,
            totp::step_at(now.unix_timestamp()),
            account.totp_last_step,
        );
        match step {
            Some(step) => Ok(self.store.accept_totp_step(account.id, step).await?),
            None => Ok(false),
        }
    }

    /// The session behind a cookie's token, if it is live: not ended, not idle for
    /// [`IDLE`], not older than [`ABSOLUTE`], and its account not disabled.
    pub async fn session(&self, token: &str) -> Result<SessionView, CoreError> {
        let now = OffsetDateTime::now_utc();
        let hash = token_sha256(token);
        let s = self
            .store
            .live_session(&hash)
            .await?
            .ok_or(CoreError::SessionInvalid)?;
        if now >= s.expires_at || now - s.last_seen_at >= IDLE {
            self.store.end_session(&hash, now).await?;
            return Err(CoreError::SessionInvalid);
        }
        let account = match self.store.account_by_id(s.account_id).await? {
            Some(a) if !a.disabled => a,
            _ => {
                self.store.end_session(&hash, now).await?;
                return Err(CoreError::SessionInvalid);
            }
        };
        if now - s.last_seen_at >= TOUCH_EVERY {
            self.store.touch_session(&hash, now).await?;
        }
        let official = match account.official_id {
            Some(id) => self.store.official_by_id(id).await?,
            None => None,
        };
        Ok(SessionView {
            account,
            official,
            stage: s.stage,
            token_sha256: hash,
        })
    }

    /// The TOTP secret to show while the second factor is being set up: made on first use,
    /// then the same until confirmed.
    pub async fn totp_enrolment(&self, view: &SessionView) -> Result<TotpEnrolment, CoreError> {
        // The stored account, not the session's snapshot: the secret may have been made since.
        let mut account = self
            .store
            .account_by_id(view.account.id)
            .await?
            .ok_or(CoreError::SessionInvalid)?;
        if account.totp_confirmed {
            return Err(CoreError::invalid(
                "Aplikasi autentikator sudah terpasang untuk akun ini.",
                "An authenticator app is already set up for this account.",
            ));
        }
        let master = self.data.master_key()?;
        if account.totp_sealed.is_none() {
            let fresh = totp::new_secret()?;
            let sealed =
                sahih_pki::seal_payload_with_master_key(&fresh, &master, &totp_aad(account.id))?;
            // Only where none is stored yet: of two pages opened at once, one secret wins and
            // both show it.
            self.store.set_totp_secret(account.id, &sealed).await?;
            account = self
                .store
                .account_by_id(account.id)
                .await?
                .ok_or(CoreError::SessionInvalid)?;
        }
        let sealed = account
            .totp_sealed
            .as_deref()
            .ok_or_else(|| CoreError::Service("TOTP secret not stored".into()))?;
        let secret =
            sahih_pki::unseal_payload_with_master_key(sealed, &master, &totp_aad(account.id))?;
        let name = account.nip.clone().unwrap_or_else(|| account.email.clone());
        Ok(TotpEnrolment {
            secret_base32: Zeroizing::new(totp::base32(&secret)),
            uri: Zeroizing::new(totp::otpauth_uri(&secret, &self.config.institution, &name)),
        })
    }

    /// Confirms the second factor with a first code; the session becomes a full one.
    pub async fn confirm_totp(&self, view: &SessionView, code: &str) -> Result<(), CoreError> {
        let now = OffsetDateTime::now_utc();
        let account = self
            .store
            .account_by_id(view.account.id)
            .await?
            .ok_or(CoreError::SessionInvalid)?;
        if !self.check_totp(&account, code, now).await? {
            return Err(CoreError::invalid(
                "Kode tidak cocok. Periksa jam ponsel Anda dan masukkan kode yang sedang tampil.",
                "The code does not match. Check your phone's clock and enter the code shown now.",
            ));
        }
        self.store
            .set_session_stage(&view.token_sha256, SessionStage::Full)
            .await?;
        let event = AuditEvent::new(
            AuditAction::AccountTotp,
            &actor_of(&view.account),
            AuditResult::Ok,
        );
        self.store.append_audit(&[event]).await?;
        Ok(())
    }

    /// Ends this session (logout).
    pub async fn logout(&self, view: &SessionView) -> Result<(), CoreError> {
        self.store
            .end_session(&view.token_sha256, OffsetDateTime::now_utc())
            .await?;
        let event = AuditEvent::new(
            AuditAction::AccountLogout,
            &actor_of(&view.account),
            AuditResult::Ok,
        );
        self.store.append_audit(&[event]).await?;
        Ok(())
    }

    /// Ends the person's other sessions (or all, this one too); returns how many.
    pub async fn end_sessions(
        &self,
        view: &SessionView,
        this_one_too: bool,
    ) -> Result<u64, CoreError> {
        let keep = (!this_one_too).then_some(view.token_sha256.as_str());
        let n = self
            .store
            .end_sessions_of(view.account.id, keep, OffsetDateTime::now_utc())
            .await?;
        let event = AuditEvent::new(
            AuditAction::AccountSessionsEnded,
            &actor_of(&view.account),
            AuditResult::Ok,
        )
        .detail(format!("ended={n} this_one_too={this_one_too}"));
        self.store.append_audit(&[event]).await?;
        Ok(n)
    }

    /// The person's live sessions, newest first.
    pub async fn sessions(&self, view: &SessionView) -> Result<Vec<SessionRecord>, CoreError> {
        let now = OffsetDateTime::now_utc();
        let mut live = self.store.sessions_of(view.account.id).await?;
        live.retain(|s| now < s.expires_at && now - s.last_seen_at < IDLE);
        Ok(live)
    }
}

fn check_password(account: &AccountRecord, password: &str) -> Result<(), CoreError> {
    let mut names: Vec<&str> = vec![account.email.as_str()];
    if let Some(nip) = account.nip.as_deref() {
        names.push(nip);
    }
    if let Some(local) = account.email.split('@').next() {
        names.push(local);
    }
    password::check_strength(password, &names)
}
