//! The state several server processes share, on SQLite and on PostgreSQL: each test opens two
//! independent stores (two connection pools, as two processes would) on one database and races
//! them. PostgreSQL comes from `SAHIH_TEST_PG_URL` (scripts/test.sh provides one: the local
//! server or a throwaway one); without it the PostgreSQL half is skipped with a loud line.

// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod common;
use common::TestDb;

use sahih_core::audit::{AuditAction, AuditEvent, AuditResult, verify_chain};
use sahih_core::clients::ClientRole;
use sahih_core::policy::Policy;
use sahih_core::store::{
    CodePurpose, DownloadRecord, LockState, NewOfficial, SignedDocumentRecord, SigningRecord, Store,
};
use sahih_store::SqlStore;
use std::sync::Arc;
use time::OffsetDateTime;

async fn two_stores(db: &TestDb) -> (Arc<SqlStore>, Arc<SqlStore>) {
    let a = SqlStore::connect(&db.url).await.unwrap();
    let b = SqlStore::connect(&db.url).await.unwrap();
    (Arc::new(a), Arc::new(b))
}

async fn official(store: &SqlStore, nik: &str) -> i64 {
    store
        .insert_official(&NewOfficial {
            nik: nik.into(),
            nip: "198001012005011001".into(),
            name: "Budi".into(),
            email: format!("{nik}@contoh.go.id"),
            position: "Kepala Dinas".into(),
            unit: "Diskominfo".into(),
        })
        .await
        .unwrap()
}

async fn audit_chain_under_concurrency(db: &TestDb) {
    let (a, b) = two_stores(db).await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            for j in 0..10 {
                let e = AuditEvent::new(AuditAction::Sign, &format!("nik:{i}"), AuditResult::Ok)
                    .detail(format!("{j}"));
                s.append_audit(&[e]).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let entries = a.audit_entries(1, i64::MAX).await.unwrap();
    let head = b.audit_head().await.unwrap();
    assert_eq!(verify_chain(&entries, head, &[]), Ok(80));
}

async fn download_is_taken_once(db: &TestDb) {
    let (a, b) = two_stores(db).await;
    let oid = official(&a, "3201000000000001").await;
    let cert_id = {
        // A minimal CA + certificate row for the foreign keys.
        let ca = a
            .insert_ca(sahih_core::store::CaKind::Issuing, 1, b"ca", "sealed")
            .await
            .unwrap();
        a.insert_certificate(&sahih_core::store::NewCertificate {
            official_id: oid,
            issuer_ca_id: ca,
            serial_hex: "01".into(),
            cert_der: b"cert".to_vec(),
            sealed_key: "k".into(),
            key_algorithm: "rsa2048".into(),
            not_before: OffsetDateTime::now_utc(),
            not_after: OffsetDateTime::now_utc() + time::Duration::days(1),
        })
        .await
        .unwrap()
    };
    let record = SigningRecord {
        document: SignedDocumentRecord {
            id: "doc1".into(),
            sha256_hex: "ab".repeat(32),
            official_id: oid,
            certificate_id: cert_id,
            signed_at: OffsetDateTime::now_utc(),
            field_name: "Sig1".into(),
            file_name: None,
            level: "B-B".into(),
            class: Some("surat".into()),
        },
        download: Some(DownloadRecord {
            id: "dl1".into(),
            blob_key: "signed/doc1.pdf".into(),
            client: Some("app".into()),
            expires_at: OffsetDateTime::now_utc() + time::Duration::hours(1),
        }),
    };
    a.commit_signatures(
        &[record],
        &[AuditEvent::new(AuditAction::Sign, "nik:x", AuditResult::Ok)],
    )
    .await
    .unwrap();
    // Another client cannot take (or burn) it.
    assert!(
        b.take_download("dl1", Some("other"), OffsetDateTime::now_utc())
            .await
            .unwrap()
            .is_none()
    );
    let mut tasks = Vec::new();
    for i in 0..12 {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            s.take_download("dl1", Some("app"), OffsetDateTime::now_utc())
                .await
                .unwrap()
        }));
    }
    let mut won = 0;
    for t in tasks {
        if t.await.unwrap().is_some() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
    assert!(a.signed_document("doc1").await.unwrap().is_some());
}

async fn lockout_across_stores(db: &TestDb) {
    let (a, b) = two_stores(db).await;
    let oid = official(&a, "3201000000000002").await;
    let now = OffsetDateTime::now_utc();
    // Eight concurrent attempts through two stores: only five are granted a check.
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            s.reserve_attempt(oid, now, 5).await.unwrap().is_some()
        }));
    }
    let mut granted = 0;
    for t in tasks {
        if t.await.unwrap() {
            granted += 1;
        }
    }
    assert_eq!(granted, 5, "no more checks than the limit");
    // All five were wrong: exactly the settling that reaches the limit locks.
    let mut tasks = Vec::new();
    for i in 0..5 {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            s.confirm_failure(oid, now, 5, time::Duration::minutes(15))
                .await
                .unwrap()
        }));
    }
    let mut locked = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), LockState::Locked { .. }) {
            locked += 1;
        }
    }
    assert!(locked >= 1, "the fifth wrong attempt locks");
    assert!(matches!(
        b.lock_state(oid, now).await.unwrap(),
        LockState::Locked { .. }
    ));
    assert!(a.reserve_attempt(oid, now, 5).await.unwrap().is_none());
}

async fn policy_and_clients(db: &TestDb) {
    let (a, b) = two_stores(db).await;
    assert!(a.policy().await.unwrap().is_none());
    let p = Policy::from_toml(include_str!(
        "../../../policies/kota-larangan-keuangan.toml"
    ))
    .unwrap();
    a.replace_policy(
        &p.default_class,
        &p.classes,
        &AuditEvent::new(AuditAction::PolicyReplace, "cli", AuditResult::Ok),
    )
    .await
    .unwrap();
    let (default, classes) = b.policy().await.unwrap().unwrap();
    assert_eq!(default, p.default_class);
    assert_eq!(classes.len(), p.classes.len());
    let sk = classes.iter().find(|c| c.code == "sk-kepegawaian").unwrap();
    assert_eq!(sk.positions.len(), 3);

    let ev = AuditEvent::new(AuditAction::ClientAdd, "cli", AuditResult::Ok);
    let secret = "00".repeat(32);
    let allow = ["10.0.0.0/8".to_string()];
    let client = sahih_core::store::NewApiClient {
        name: "eoffice",
        secret_sha256: &secret,
        allow_ips: &allow,
        default_class: Some("surat-dinas"),
        role: ClientRole::App,
        unit: None,
        person_nik: None,
    };
    a.insert_api_client(&client, &ev).await.unwrap();
    assert!(matches!(
        b.insert_api_client(
            &sahih_core::store::NewApiClient {
                role: ClientRole::Admin,
                ..client.clone()
            },
            &ev
        )
        .await,
        Err(sahih_core::store::StoreError::Conflict(_))
    ));
    let c = b.api_client("eoffice").await.unwrap().unwrap();
    assert_eq!(c.allow_ips, vec!["10.0.0.0/8".to_string()]);
    assert_eq!(c.role, ClientRole::App);
    assert!(!c.disabled);
    assert!(
        a.set_api_client_disabled("eoffice", true, &ev)
            .await
            .unwrap()
    );
    assert!(b.api_client("eoffice").await.unwrap().unwrap().disabled);
    assert!(
        !a.set_api_client_disabled("nobody", true, &ev)
            .await
            .unwrap()
    );

    // Counters: disjoint ranges.
    let x = a.reserve_counter("c", 10).await.unwrap();
    let y = b.reserve_counter("c", 10).await.unwrap();
    assert_eq!((x - y).abs(), 10);

    // One-time codes: consumed exactly up to their uses.
    let oid = official(&a, "3201000000000003").await;
    let exp = OffsetDateTime::now_utc() + time::Duration::minutes(5);
    a.insert_otp(oid, "h", 2, exp).await.unwrap();
    let now = OffsetDateTime::now_utc();
    assert!(
        b.consume_code(oid, CodePurpose::Sign, "h", 2, now)
            .await
            .unwrap()
    );
    assert!(
        !a.consume_code(oid, CodePurpose::Sign, "h", 1, now)
            .await
            .unwrap()
    );
    let entries = a.audit_entries(1, i64::MAX).await.unwrap();
    assert_eq!(
        verify_chain(&entries, a.audit_head().await.unwrap(), &[]),
        Ok(3)
    );
}

/// Failed authentications counted by two stores (two servers) at once: none is lost, each
/// subject has its own count, and a window that has ended starts over.
async fn auth_failures_across_stores(db: &TestDb) {
    use sahih_core::store::AuthFailureScope::{Address, Client};
    let (a, b) = two_stores(db).await;
    let t0 = OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap();
    let mut tasks = Vec::new();
    for i in 0..10 {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            s.count_auth_failure(Address, "192.0.2.7", 300, t0)
                .await
                .unwrap()
        }));
    }
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=10).collect::<Vec<i64>>());
    assert_eq!(
        a.count_auth_failure(Client, "eoffice", 300, t0)
            .await
            .unwrap(),
        1
    );
    let windows = b
        .auth_failures(&[
            (Address, "192.0.2.7"),
            (Client, "eoffice"),
            (Client, "none"),
        ])
        .await
        .unwrap();
    let found: Vec<_> = windows
        .iter()
        .map(|w| (w.scope, w.window_start, w.failures))
        .collect();
    assert_eq!(
        found,
        vec![
            (Address, t0.unix_timestamp(), 10),
            (Client, t0.unix_timestamp(), 1)
        ]
    );
    // Within the window the count goes on; after it, a new window starts at 1.
    let later = t0 + time::Duration::seconds(299);
    assert_eq!(
        b.count_auth_failure(Address, "192.0.2.7", 300, later)
            .await
            .unwrap(),
        11
    );
    let next = t0 + time::Duration::seconds(300);
    assert_eq!(
        a.count_auth_failure(Address, "192.0.2.7", 300, next)
            .await
            .unwrap(),
        1
    );
    let w = a.auth_failures(&[(Address, "192.0.2.7")]).await.unwrap();
    assert_eq!(w[0].window_start, next.unix_timestamp());
    // A day later the old rows are swept when the next failure is counted.
    let day = t0 + time::Duration::days(2);
    a.count_auth_failure(Address, "198.51.100.1", 300, day)
        .await
        .unwrap();
    assert!(
        a.auth_failures(&[(Client, "eoffice")])
            .await
            .unwrap()
            .is_empty()
    );
}

macro_rules! on_both {
    ($name:ident, $body:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let db = TestDb::sqlite(stringify!($name)).await;
            $body(&db).await;
            db.drop_db().await;
            if let Some(db) = TestDb::postgres(stringify!($name)).await {
                $body(&db).await;
                db.drop_db().await;
            }
        }
    };
}

on_both!(audit_chain_concurrent, audit_chain_under_concurrency);
on_both!(download_once, download_is_taken_once);
on_both!(lockout_shared, lockout_across_stores);
on_both!(policy_clients_counters_otp, policy_and_clients);
on_both!(auth_failures_shared, auth_failures_across_stores);
