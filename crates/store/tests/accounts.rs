//! Person accounts and sessions (`sahih_core::accounts`) on real SQLite and PostgreSQL: the
//! setup link works once, a second factor is required before anything else, a TOTP code is
//! never accepted twice, five failed logins lock the account (audited), idle and ended
//! sessions are refused, and nothing secret is stored in the clear.

#![allow(clippy::unwrap_used)]

mod common;

use common::TestDb;
use sahih_core::accounts::{self, Origin, totp};
use sahih_core::store::Store;
use sahih_core::store::accounts::{AccountRole, AccountStore, NewAccount, SessionStage};
use sahih_core::{Config, CoreError, DataDir, Sahih};
use sahih_store::SqlStore;
use time::OffsetDateTime;

const PASSWORD: &str = "Rawon-Setan-Surabaya-9";

async fn sahih(db: &TestDb, dir: &std::path::Path) -> Sahih<SqlStore> {
    std::fs::create_dir_all(dir).unwrap();
    let data = DataDir::new(dir);
    let config = Config::new("Pemerintah Kota Contoh", "https://tte.contoh.go.id");
    data.write_config(&config).unwrap();
    data.create_master_key().unwrap();
    let keys = sahih_core::keystore::KeyBackend::from_config(&config).unwrap();
    let store = SqlStore::connect(&db.url).await.unwrap();
    Sahih {
        store,
        config,
        data,
        keys,
    }
}

fn origin() -> Origin {
    Origin::new("192.0.2.7", "Mozilla/5.0 (Linux; Android 14) Chrome/131")
}

/// The setup link from the newest outbox message to `email`.
async fn setup_token(s: &Sahih<SqlStore>, email: &str) -> String {
    let messages = s.store.outbox(email).await.unwrap();
    let body = s.outbox_body(messages.last().unwrap()).unwrap();
    let at = body.find("/akun/atur/").unwrap() + "/akun/atur/".len();
    body[at..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches('.')
        .to_string()
}

/// The current code of an account, read back the way an authenticator app would.
fn current_code(secret_base32: &str, offset_steps: i64) -> String {
    let secret = base32_decode(secret_base32);
    let step = totp::step_at(OffsetDateTime::now_utc().unix_timestamp()) + offset_steps;
    totp::hotp(&secret, u64::try_from(step).unwrap())
}

fn base32_decode(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {c}"),
        };
        buffer = (buffer << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

async fn run_on(db: TestDb, tag: &str) {
    let dir = std::env::temp_dir().join(format!(
        "sahih-accounts-{tag}-{}-{}",
        std::process::id(),
        OffsetDateTime::now_utc().unix_timestamp_nanos()
    ));
    let s = sahih(&db, &dir).await;
    let email = "verifikator@contoh.go.id";
    let id = s
        .invite_account(
            NewAccount {
                role: AccountRole::Verifikator,
                official_id: None,
                unit: None,
                email: email.into(),
                nip: Some("199001012015031001".into()),
                nik: Some("3273010101900001".into()),
                name: "Siti Verifikator".into(),
                password_hash: None,
            },
            "cli:admin",
        )
        .await
        .unwrap();
    // Not yet usable: no password.
    assert!(matches!(
        s.login(email, PASSWORD, "", &origin()).await,
        Err(CoreError::LoginFailed)
    ));

    // The setup link: a weak password is refused and the link still works; then it is spent.
    let token = setup_token(&s, email).await;
    assert_eq!(s.setup_view(&token).await.unwrap().id, id);
    assert!(matches!(
        s.setup_password(&token, "199001012015031001x", &origin())
            .await,
        Err(CoreError::WeakPassphrase(_))
    ));
    let first = s.setup_password(&token, PASSWORD, &origin()).await.unwrap();
    assert_eq!(first.stage, SessionStage::SetupTotp);
    assert!(matches!(
        s.setup_password(&token, PASSWORD, &origin()).await,
        Err(CoreError::SetupLinkInvalid)
    ));

    // Second factor: the secret stays the same until confirmed; a wrong code is refused.
    let view = s.session(&first.token).await.unwrap();
    assert_eq!(view.stage, SessionStage::SetupTotp);
    let enrolment = s.totp_enrolment(&view).await.unwrap();
    let again = s.totp_enrolment(&view).await.unwrap();
    assert_eq!(
        enrolment.secret_base32.as_str(),
        again.secret_base32.as_str()
    );
    assert!(enrolment.uri.starts_with("otpauth://totp/"));
    let wrong = if current_code(&enrolment.secret_base32, 0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    assert!(s.confirm_totp(&view, wrong).await.is_err());
    let code = current_code(&enrolment.secret_base32, 0);
    s.confirm_totp(&view, &code).await.unwrap();
    assert_eq!(
        s.session(&first.token).await.unwrap().stage,
        SessionStage::Full
    );

    // Nothing secret in the clear: the password is an Argon2id hash, the TOTP secret sealed.
    let stored = s.store.account_by_id(id).await.unwrap().unwrap();
    assert!(stored.password_hash.unwrap().starts_with("$argon2id$"));
    let sealed = stored.totp_sealed.unwrap();
    assert!(!sealed.contains(enrolment.secret_base32.as_str()));
    assert!(stored.totp_confirmed);

    // Login needs the code now; the same code is never accepted twice (it was just used).
    assert!(matches!(
        s.login(email, PASSWORD, &code, &origin()).await,
        Err(CoreError::LoginFailed)
    ));
    let next = current_code(&enrolment.secret_base32, 1);
    let second = s
        .login("199001012015031001", PASSWORD, &next, &origin())
        .await
        .unwrap();
    assert_eq!(second.stage, SessionStage::Full);
    assert_ne!(
        second.token.as_str(),
        first.token.as_str(),
        "a new token per login"
    );

    // Both sessions are listed; ending the others keeps this one.
    let view2 = s.session(&second.token).await.unwrap();
    assert_eq!(s.sessions(&view2).await.unwrap().len(), 2);
    assert_eq!(s.end_sessions(&view2, false).await.unwrap(), 1);
    assert!(matches!(
        s.session(&first.token).await,
        Err(CoreError::SessionInvalid)
    ));
    assert!(s.session(&second.token).await.is_ok());

    // Idle for more than 30 minutes: refused (and ended).
    let idle = OffsetDateTime::now_utc() - accounts::IDLE - time::Duration::seconds(1);
    s.store
        .touch_session(&accounts::token_sha256(&second.token), idle)
        .await
        .unwrap();
    assert!(matches!(
        s.session(&second.token).await,
        Err(CoreError::SessionInvalid)
    ));

    // Five failures lock the account, even for the right password afterwards; audited.
    for n in 1..=accounts::LOCK_AFTER {
        let r = s
            .login(email, "Salah-Sandi-12345", "123456", &origin())
            .await;
        if n < accounts::LOCK_AFTER {
            assert!(matches!(r, Err(CoreError::LoginFailed)), "{n}: {r:?}");
        } else {
            assert!(
                matches!(r, Err(CoreError::LoginLocked { .. })),
                "{n}: {r:?}"
            );
        }
    }
    let code = current_code(&enrolment.secret_base32, 0);
    assert!(matches!(
        s.login(email, PASSWORD, &code, &origin()).await,
        Err(CoreError::LoginLocked { .. })
    ));
    let actions: Vec<String> = s
        .store
        .audit_entries(1, i64::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event.action)
        .collect();
    for expected in [
        "account.create",
        "account.password",
        "account.totp",
        "account.login",
        "account.login_failed",
        "account.lockout",
        "account.sessions_ended",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected} in {actions:?}"
        );
    }
    assert_eq!(
        actions.iter().filter(|a| *a == "account.lockout").count(),
        1,
        "the lockout is audited once"
    );
    // An unknown name is refused the same way, without saying it is unknown.
    assert!(matches!(
        s.login("siapa@contoh.go.id", PASSWORD, "", &origin()).await,
        Err(CoreError::LoginFailed)
    ));
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_and_sessions_on_sqlite() {
    run_on(TestDb::sqlite("accounts").await, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_and_sessions_on_postgres() {
    if let Some(db) = TestDb::postgres("accounts").await {
        run_on(db, "postgres").await;
    }
}
