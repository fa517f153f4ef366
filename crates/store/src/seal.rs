//! SQL of institutional e-seals: the seal's officials row (kind 'seal') with its certificate,
//! and its one-time codes (`one_time_codes.purpose` 'seal-activation' or 'seal-batch'). Each
//! change is one transaction together with its audit event; spending a code is one conditional
//! UPDATE, so a use is spent exactly once across every process.
//!
//! Must not know: how codes are made or checked (only their hashes arrive), or what a seal
//! certificate says.

use crate::rows::{Columns, Db, from_ts, ts};
use crate::{
    OFFICIAL_SELECT, SqlStore, bind_identity, commit_audited, insert_certificate_on,
    insert_code_on, official_from_row,
};
use sahih_core::audit::AuditEvent;
use sahih_core::seal::{CodePurpose, NewSealCode, SealStore};
use sahih_core::store::{NewCertificate, NewOfficial, OfficialRecord, StoreResult};
use sqlx::AnyConnection;
use time::OffsetDateTime;

/// Inserts the seal's officials row (kind 'seal') in the RA stage it starts in; its id.
async fn insert_seal_row(
    conn: &mut AnyConnection,
    seal: &NewOfficial,
    ra_status: Option<&str>,
    now: i64,
) -> StoreResult<i64> {
    bind_identity(
        sqlx::query(
            "INSERT INTO officials (nik, nip, name, email, position, unit, created_at, kind,
                                    ra_status)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'seal', $8) RETURNING id",
        ),
        seal,
    )
    .bind(now)
    .bind(ra_status)
    .fetch_one(&mut *conn)
    .await
    .db()?
    .col("id")
}

/// Retires the live codes of one purpose (no uses left); how many.
async fn retire_codes_on(
    conn: &mut AnyConnection,
    official_id: i64,
    purpose: CodePurpose,
) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE one_time_codes SET uses_left = 0
         WHERE official_id = $1 AND purpose = $2 AND uses_left > 0",
    )
    .bind(official_id)
    .bind(purpose.as_str())
    .execute(&mut *conn)
    .await
    .db()?;
    Ok(done.rows_affected())
}

impl SealStore for SqlStore {
    async fn insert_seal(
        &self,
        seal: &NewOfficial,
        c: &NewCertificate,
        event: &AuditEvent,
    ) -> StoreResult<i64> {
        let now = ts(OffsetDateTime::now_utc());
        let mut tx = self.begin().await?;
        let official_id = insert_seal_row(&mut tx, seal, None, now).await?;
        insert_certificate_on(&mut tx, official_id, c, from_ts(now)?).await?;
        commit_audited(tx, std::slice::from_ref(event)).await?;
        Ok(official_id)
    }

    async fn insert_seal_request(
        &self,
        seal: &NewOfficial,
        requested_by: &str,
        event: &AuditEvent,
    ) -> StoreResult<i64> {
        let now = ts(OffsetDateTime::now_utc());
        let mut tx = self.begin().await?;
        // Waits for a verifikator, who issues its certificate (`complete_seal`).
        let waiting = Some("WAITING_FOR_VERIFICATION");
        let official_id = insert_seal_row(&mut tx, seal, waiting, now).await?;
        sqlx::query(
            "INSERT INTO seal_requests (official_id, requested_by, requested_at)
             VALUES ($1, $2, $3)",
        )
        .bind(official_id)
        .bind(requested_by)
        .bind(now)
        .execute(&mut *tx)
        .await
        .db()?;
        commit_audited(tx, std::slice::from_ref(event)).await?;
        Ok(official_id)
    }

    async fn seal_requested_by(&self, official_id: i64) -> StoreResult<Option<String>> {
        self.one_or_none(
            sqlx::query("SELECT requested_by FROM seal_requests WHERE official_id = $1")
                .bind(official_id),
            |r| r.col("requested_by"),
        )
        .await
    }

    async fn complete_seal(
        &self,
        official_id: i64,
        c: &NewCertificate,
        approved_by: &str,
        event: &AuditEvent,
    ) -> StoreResult<bool> {
        let now = ts(OffsetDateTime::now_utc());
        let mut tx = self.begin().await?;
        let waiting = sqlx::query(
            "UPDATE officials SET ra_status = NULL
             WHERE id = $1 AND kind = 'seal' AND ra_status = 'WAITING_FOR_VERIFICATION'",
        )
        .bind(official_id)
        .execute(&mut *tx)
        .await
        .db()?;
        if waiting.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE seal_requests SET approved_by = $1, approved_at = $2 WHERE official_id = $3",
        )
        .bind(approved_by)
        .bind(now)
        .bind(official_id)
        .execute(&mut *tx)
        .await
        .db()?;
        insert_certificate_on(&mut tx, official_id, c, from_ts(now)?).await?;
        commit_audited(tx, std::slice::from_ref(event)).await?;
        Ok(true)
    }

    async fn seals(&self) -> StoreResult<Vec<OfficialRecord>> {
        let sql = format!("{OFFICIAL_SELECT} WHERE kind = 'seal' ORDER BY id");
        self.all(sqlx::query(&sql), official_from_row).await
    }

    async fn insert_seal_code(
        &self,
        code: &NewSealCode<'_>,
        event: &AuditEvent,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        if code.replace_live {
            retire_codes_on(&mut tx, code.official_id, code.purpose).await?;
        }
        insert_code_on(
            &mut tx,
            code.official_id,
            code.purpose,
            code.code_sha256,
            code.uses,
            code.expires_at,
        )
        .await?;
        commit_audited(tx, std::slice::from_ref(event)).await
    }

    async fn seal_code_expiry(
        &self,
        official_id: i64,
        purpose: CodePurpose,
        code_sha256: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<OffsetDateTime>> {
        self.one_or_none(
            sqlx::query(
                "SELECT expires_at FROM one_time_codes
                 WHERE official_id = $1 AND purpose = $2 AND code_sha256 = $3
                   AND uses_left > 0 AND expires_at > $4
                 ORDER BY expires_at DESC LIMIT 1",
            )
            .bind(official_id)
            .bind(purpose.as_str())
            .bind(code_sha256)
            .bind(ts(now)),
            |r| r.time("expires_at"),
        )
        .await
    }

    async fn revoke_seal_codes(
        &self,
        official_id: i64,
        purposes: &[CodePurpose],
        event: &AuditEvent,
    ) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let mut n = 0;
        for purpose in purposes {
            n += retire_codes_on(&mut tx, official_id, *purpose).await?;
        }
        commit_audited(tx, std::slice::from_ref(event)).await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sahih_core::audit::{AuditAction, AuditResult};
    use sahih_core::store::Store;
    use std::sync::Arc;

    async fn two_stores(tag: &str) -> (SqlStore, SqlStore, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "sahih-seal-{tag}-{}-{}",
            std::process::id(),
            OffsetDateTime::now_utc().unix_timestamp_nanos()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
        let a = SqlStore::connect(&url).await.expect("store a");
        let b = SqlStore::connect(&url).await.expect("store b");
        (a, b, dir)
    }

    fn seal_row() -> NewOfficial {
        NewOfficial {
            nik: "seal-abc".into(),
            nip: String::new(),
            name: "DPMPTSP Kota Contoh".into(),
            email: "kepala@contoh.go.id".into(),
            position: "Segel Elektronik".into(),
            unit: "DPMPTSP".into(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batch_uses_are_spent_exactly_once_across_processes() {
        let (a, b, dir) = two_stores("once").await;
        let ca = a
            .insert_ca(sahih_core::store::CaKind::Issuing, 1, b"ca", "sealed")
            .await
            .expect("ca");
        let now = OffsetDateTime::now_utc();
        let cert = NewCertificate {
            official_id: 0,
            issuer_ca_id: ca,
            serial_hex: "01".into(),
            cert_der: b"cert".to_vec(),
            sealed_key: "key".into(),
            key_algorithm: "p256".into(),
            not_before: now,
            not_after: now + time::Duration::days(1),
        };
        let id = a
            .insert_seal(
                &seal_row(),
                &cert,
                &AuditEvent::new(AuditAction::SealIssue, "t", AuditResult::Ok),
            )
            .await
            .expect("seal");
        let stored = b
            .official_by_nik("seal-abc")
            .await
            .expect("read")
            .expect("found");
        assert_eq!((stored.id, stored.kind.as_str()), (id, "seal"));
        assert_eq!(b.seals().await.expect("seals").len(), 1);
        assert_eq!(
            b.latest_certificate(id)
                .await
                .expect("cert")
                .map(|c| c.official_id),
            Some(id)
        );

        let expires = now + time::Duration::minutes(10);
        a.insert_seal_code(
            &NewSealCode {
                official_id: id,
                purpose: CodePurpose::Batch,
                code_sha256: "h-batch",
                uses: 5,
                expires_at: expires,
                replace_live: false,
            },
            &AuditEvent::new(AuditAction::SealTotp, "t", AuditResult::Ok),
        )
        .await
        .expect("code");
        // Another purpose never matches, and a signing OTP path does not see seal codes.
        assert!(
            !a.consume_code(id, CodePurpose::Activation, "h-batch", 1, now)
                .await
                .expect("consume")
        );
        assert!(
            !a.consume_code(id, CodePurpose::Sign, "h-batch", 1, now)
                .await
                .expect("otp")
        );
        // Twenty racers over two pools: exactly five uses are spent.
        let (a, b) = (Arc::new(a), Arc::new(b));
        let mut tasks = Vec::new();
        for i in 0..20 {
            let s = if i % 2 == 0 {
                Arc::clone(&a)
            } else {
                Arc::clone(&b)
            };
            tasks.push(tokio::spawn(async move {
                s.consume_code(id, CodePurpose::Batch, "h-batch", 1, now)
                    .await
                    .expect("consume")
            }));
        }
        let mut won = 0;
        for t in tasks {
            if t.await.expect("task") {
                won += 1;
            }
        }
        assert_eq!(won, 5);
        // Expired codes do not count.
        assert_eq!(
            a.seal_code_expiry(id, CodePurpose::Batch, "h-batch", now)
                .await
                .expect("expiry"),
            None
        );
        std::fs::remove_dir_all(dir).ok();
    }

    #[tokio::test]
    async fn a_new_activation_code_replaces_the_old_and_revocation_retires_all() {
        let (a, _b, dir) = two_stores("replace").await;
        let now = OffsetDateTime::now_utc();
        let id = a.insert_official(&seal_row()).await.expect("row");
        let code = |hash: &'static str, purpose, replace_live| NewSealCode {
            official_id: id,
            purpose,
            code_sha256: hash,
            uses: 1_000,
            expires_at: now + time::Duration::days(30),
            replace_live,
        };
        let event = AuditEvent::new(AuditAction::SealActivation, "t", AuditResult::Ok);
        a.insert_seal_code(&code("h1", CodePurpose::Activation, true), &event)
            .await
            .expect("h1");
        assert!(
            a.seal_code_expiry(id, CodePurpose::Activation, "h1", now)
                .await
                .expect("h1 live")
                .is_some()
        );
        a.insert_seal_code(&code("h2", CodePurpose::Activation, true), &event)
            .await
            .expect("h2");
        a.insert_seal_code(&code("b1", CodePurpose::Batch, false), &event)
            .await
            .expect("b1");
        assert_eq!(
            a.seal_code_expiry(id, CodePurpose::Activation, "h1", now)
                .await
                .expect("h1 gone"),
            None
        );
        assert!(
            a.seal_code_expiry(id, CodePurpose::Activation, "h2", now)
                .await
                .expect("h2 live")
                .is_some()
        );
        let n = a
            .revoke_seal_codes(
                id,
                &[CodePurpose::Activation, CodePurpose::Batch],
                &AuditEvent::new(AuditAction::SealActivationRevoke, "t", AuditResult::Ok),
            )
            .await
            .expect("revoke");
        assert_eq!(n, 2);
        assert!(
            !a.consume_code(id, CodePurpose::Batch, "b1", 1, now)
                .await
                .expect("b1 gone")
        );
        // Every change was audited in the chain.
        assert_eq!(a.audit_head().await.expect("head").map(|h| h.0), Some(4));
        std::fs::remove_dir_all(dir).ok();
    }
}
