//! The one signing pipeline (`sahih_core::pipeline`) on a real SQLite store, door by door: the
//! command line and an API client are refused by the same policy with the same message and the
//! same audit entry, count towards the same lockout, and are audited for every signature. A
//! file destination appears only once the signature is recorded.

// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

use sahih_core::pipeline::{Delivery, Door, SignRequest, Signer, SigningEnv};
use sahih_core::policy::Policy;
use sahih_core::requests::{BatchDocument, SignerRef};
use sahih_core::store::{NewOfficial, Store};
use sahih_core::{CoreError, Lang, Level, SignOptions, TrustProviders};
use sahih_store::blob::AnyBlobStore;

const NIK: &str = "3171012501850003";
const PASSPHRASE: &str = "Rahasia-Negara-2026!";
const POLICY: &str = r#"
default_class = "surat-dinas"

[[class]]
code = "surat-dinas"
name = "Surat Dinas"
rule = "allowed"
regulation = "Perwako Contoh 7/2024 Pasal 5"

[[class]]
code = "dokumen-pencairan"
name = "Dokumen Pencairan Dana"
rule = "forbidden"
regulation = "Perwako Contoh 7/2024 Pasal 9"
"#;

type Fixture = sahih_store::testing::Institution;

async fn fixture(tag: &str) -> Fixture {
    let f = Fixture::new(&format!("pipeline-{tag}"), "https://tte.contoh.go.id")
        .await
        .unwrap();
    let sahih = &f.sahih;
    sahih
        .enroll(
            &NewOfficial {
                nik: NIK.into(),
                nip: "198501252010011003".into(),
                name: "Budi Santoso".into(),
                email: "budi@contoh.go.id".into(),
                position: "Kepala Dinas".into(),
                unit: "Dinas Kominfo".into(),
            },
            sahih_pki::KeyAlgorithm::Rsa2048,
            PASSPHRASE,
        )
        .await
        .unwrap();
    sahih
        .load_policy(&Policy::from_toml(POLICY).unwrap(), "test", "cli")
        .await
        .unwrap();
    f
}

fn letter() -> Vec<u8> {
    sahih_pdf::sample::single_page(
        &[sahih_pdf::sample::Line {
            x: 72.0,
            y: 700.0,
            size: 12.0,
            bold: false,
            text: "Surat uji".into(),
        }],
        "Surat uji",
    )
}

fn document() -> BatchDocument {
    BatchDocument {
        bytes: letter(),
        options: SignOptions {
            placement: None,
            level: Level::BB,
            reason: None,
            location: None,
            lang: Lang::Id,
            qr_link: None,
            specimen: None,
            extra_text: None,
        },
        file_name: None,
    }
}

fn env(f: &Fixture) -> SigningEnv<'_, AnyBlobStore> {
    SigningEnv {
        blobs: &f.blobs,
        providers: TrustProviders {
            tsa: None,
            validation_data: None,
        },
        remote: None,
        parallelism: 1,
        counter: None,
    }
}

fn request<'a>(
    door: Door<'a>,
    passphrase: &'a str,
    class: Option<&'a str>,
    delivery: Delivery,
) -> SignRequest<'a> {
    SignRequest {
        door,
        signer: Signer::Official {
            who: SignerRef::Nik(NIK.into()),
            passphrase,
            otp: None,
        },
        class,
        documents: vec![document()],
        delivery,
    }
}

fn cli() -> Door<'static> {
    Door::Cli {
        os_user: "tu".into(),
    }
}

async fn audit(f: &Fixture) -> Vec<sahih_core::audit::AuditEntry> {
    f.sahih.store.audit_entries(0, i64::MAX).await.unwrap()
}

async fn app_client(f: &Fixture) -> sahih_core::store::ApiClientRecord {
    f.sahih
        .add_api_client(&sahih_core::requests::ClientSpec::app("eoffice"), "cli")
        .await
        .unwrap();
    f.sahih
        .store
        .api_clients()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == "eoffice")
        .unwrap()
}

#[tokio::test]
async fn policy_refuses_every_door_alike_and_audits_it() {
    let f = fixture("policy").await;
    let client = app_client(&f).await;
    let out = f.dir.join("pencairan.pdf");
    let by_cli = f
        .sahih
        .sign_batch(
            request(
                cli(),
                PASSPHRASE,
                Some("dokumen-pencairan"),
                Delivery::File(out.clone()),
            ),
            &env(&f),
        )
        .await;
    let by_api = f
        .sahih
        .sign_batch(
            request(
                Door::Client(&client),
                PASSPHRASE,
                Some("dokumen-pencairan"),
                Delivery::Return,
            ),
            &env(&f),
        )
        .await;
    let (Err(CoreError::PolicyRefused { id: a, .. }), Err(CoreError::PolicyRefused { id: b, .. })) =
        (by_cli, by_api)
    else {
        panic!("a door signed a forbidden class");
    };
    assert_eq!(a, b);
    assert!(a.contains("Pasal 9"), "{a}");
    assert!(!out.exists(), "a refused signature left its output file");
    let refused: Vec<_> = audit(&f)
        .await
        .into_iter()
        .filter(|e| e.event.action == "sign.refused")
        .collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert_eq!(refused[0].event.client.as_deref(), Some("cli:tu"));
    assert_eq!(refused[1].event.client.as_deref(), Some("eoffice"));
    assert_eq!(refused[0].event.detail, refused[1].event.detail);
    // Nothing of the refusal touched the lockout: the right passphrase still signs.
    let items = f
        .sahih
        .sign_batch(request(cli(), PASSPHRASE, None, Delivery::Return), &env(&f))
        .await
        .unwrap();
    assert_eq!(items.len(), 1);
}

#[tokio::test]
async fn wrong_passphrases_through_any_door_share_one_lockout() {
    let f = fixture("lockout").await;
    let client = app_client(&f).await;
    let max = f.sahih.config.signing.max_failures;
    for i in 0..max {
        let door = if i % 2 == 0 {
            cli()
        } else {
            Door::Client(&client)
        };
        let r = f
            .sahih
            .sign_batch(
                request(door, "Salah-Sekali-2026!", None, Delivery::Return),
                &env(&f),
            )
            .await;
        match r {
            Err(CoreError::WrongPassphrase { remaining }) => assert_eq!(remaining, max - i - 1),
            Err(CoreError::Locked { .. }) if i == max - 1 => {}
            other => panic!("attempt {i}: {:?}", other.map(|v| v.len())),
        }
    }
    // Locked for everyone, right passphrase or not.
    for door in [cli(), Door::Client(&client)] {
        let r = f
            .sahih
            .sign_batch(request(door, PASSPHRASE, None, Delivery::Return), &env(&f))
            .await;
        assert!(matches!(r, Err(CoreError::Locked { .. })), "{:?}", r.err());
    }
    let entries = audit(&f).await;
    let wrong: Vec<_> = entries
        .iter()
        .filter(|e| e.event.action.starts_with("passphrase."))
        .map(|e| e.event.client.clone().unwrap_or_default())
        .collect();
    assert!(wrong.iter().any(|c| c == "cli:tu") && wrong.iter().any(|c| c == "eoffice"));
}

#[tokio::test]
async fn every_signature_is_recorded_and_a_file_appears_only_when_recorded() {
    let f = fixture("record").await;
    let out = f.dir.join("surat-ttd.pdf");
    let items = f
        .sahih
        .sign_batch(
            request(cli(), PASSPHRASE, None, Delivery::File(out.clone())),
            &env(&f),
        )
        .await
        .unwrap();
    let written = std::fs::read(&out).unwrap();
    assert_eq!(written, items[0].signed);
    let sha = hex::encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        &written,
    ));
    assert_eq!(items[0].outcome.sha256_hex, sha);
    // The QR record and the audit entry exist.
    assert!(
        f.sahih
            .store
            .signed_document(&items[0].outcome.document_id)
            .await
            .unwrap()
            .is_some()
    );
    let signs: Vec<_> = audit(&f)
        .await
        .into_iter()
        .filter(|e| e.event.action == "sign")
        .collect();
    assert_eq!(signs.len(), 1);
    assert_eq!(signs[0].event.client.as_deref(), Some("cli:tu"));
    assert_eq!(
        signs[0].event.document_sha256.as_deref(),
        Some(sha.as_str())
    );
    // No temporary file is left beside the output.
    let leftovers: Vec<_> = std::fs::read_dir(&f.dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A broken document costs no attempt and writes nothing.
    let broken = f.dir.join("rusak.pdf");
    let mut req = request(
        cli(),
        "Salah-Sekali-2026!",
        None,
        Delivery::File(broken.clone()),
    );
    req.documents[0].bytes = b"%PDF-1.7\nbukan pdf".to_vec();
    let r = f.sahih.sign_batch(req, &env(&f)).await;
    assert!(matches!(r, Err(CoreError::Pdf(_))), "{:?}", r.err());
    assert!(!broken.exists());
    assert!(
        !audit(&f)
            .await
            .iter()
            .any(|e| e.event.action == "passphrase.wrong")
    );
}

#[tokio::test]
async fn a_directory_as_destination_is_refused_before_any_attempt() {
    let f = fixture("dir").await;
    let r = f
        .sahih
        .sign_batch(
            request(
                cli(),
                "Salah-Sekali-2026!",
                None,
                Delivery::File(f.dir.clone()),
            ),
            &env(&f),
        )
        .await;
    assert!(
        matches!(r, Err(CoreError::InvalidArgument(_))),
        "{:?}",
        r.err()
    );
    assert!(
        !audit(&f)
            .await
            .iter()
            .any(|e| e.event.action.starts_with("passphrase."))
    );
}

/// A remote signer (gateway mode) that fails in a chosen way.
struct Remote(&'static str);

impl sahih_core::pipeline::RemoteSigner for Remote {
    fn endpoint(&self) -> String {
        "https://upstream.test".into()
    }
    fn sign(
        &self,
        _nik: &str,
        _passphrase: &str,
        documents: &[BatchDocument],
    ) -> Result<Vec<Vec<u8>>, sahih_core::pipeline::RemoteFailure> {
        use sahih_core::pipeline::{RemoteFailure, RemoteVerdict};
        match self.0 {
            "panic" => panic!("upstream client bug"),
            "wrong" => Err(RemoteFailure {
                verdict: RemoteVerdict::WrongPassphrase,
                cause: "passphrase salah".into(),
            }),
            _ => Ok(documents.iter().map(|d| d.bytes.clone()).collect()),
        }
    }
}

#[tokio::test]
async fn upstream_signing_settles_every_reserved_attempt_and_delivers_the_file() {
    let f = fixture("remote").await;
    let official = NewOfficial {
        nik: "3171012501850004".into(),
        nip: "198501252010011004".into(),
        name: "Siti Rahma".into(),
        email: "siti@contoh.go.id".into(),
        position: "Kepala Dinas".into(),
        unit: "Dinas Kominfo".into(),
    };
    let id = f.sahih.enroll_upstream(&official, "cli").await.unwrap();
    let upstream_request = |delivery| SignRequest {
        door: cli(),
        signer: Signer::Official {
            who: SignerRef::Nik(official.nik.clone()),
            passphrase: "Rahasia-Hulu-2026!",
            otp: None,
        },
        class: None,
        documents: vec![document()],
        delivery,
    };
    let failures = || async {
        match f
            .sahih
            .store
            .lock_state(id, time::OffsetDateTime::now_utc())
            .await
            .unwrap()
        {
            sahih_core::store::LockState::Open { failures } => failures,
            locked => panic!("{locked:?}"),
        }
    };
    let with = |remote: &'static Remote| SigningEnv {
        remote: Some(remote),
        ..env(&f)
    };
    // A panicking client gives its reserved attempt back.
    static PANIC: Remote = Remote("panic");
    let r = f
        .sahih
        .sign_batch(upstream_request(Delivery::Return), &with(&PANIC))
        .await;
    assert!(matches!(r, Err(CoreError::Service(_))), "{:?}", r.err());
    assert_eq!(failures().await, 0);
    // A wrong passphrase upstream counts here.
    static WRONG: Remote = Remote("wrong");
    let r = f
        .sahih
        .sign_batch(upstream_request(Delivery::Return), &with(&WRONG))
        .await;
    assert!(
        matches!(r, Err(CoreError::WrongPassphrase { .. })),
        "{:?}",
        r.err()
    );
    assert_eq!(failures().await, 1);
    // A signature made upstream is written to the destination and resets the count.
    static OK: Remote = Remote("ok");
    let out = f.dir.join("hulu.pdf");
    let items = f
        .sahih
        .sign_batch(upstream_request(Delivery::File(out.clone())), &with(&OK))
        .await
        .unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), items[0].signed);
    assert_eq!(failures().await, 0);
}

/// Counts what the batch asks of the real trust services.
struct CountingSource<'a> {
    inner: &'a dyn sahih_pades::ValidationDataSource,
    calls: std::sync::atomic::AtomicUsize,
}

impl sahih_pades::ValidationDataSource for CountingSource<'_> {
    fn collect(
        &self,
        certs: &[sahih_pki::Certificate],
    ) -> Result<sahih_pdf::dss::DssData, sahih_pades::PadesError> {
        self.calls
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.collect(certs)
    }
}

/// Waits a little over a second before each token, so every letter of a batch is timestamped
/// in a later second than the one before.
struct SlowTsa<'a>(&'a dyn sahih_pades::Timestamper);

impl sahih_pades::Timestamper for SlowTsa<'_> {
    fn timestamp(&self, digest: &[u8]) -> Result<Vec<u8>, sahih_pades::PadesError> {
        std::thread::sleep(std::time::Duration::from_millis(1050));
        self.0.timestamp(digest)
    }
    fn token_size_hint(&self) -> usize {
        self.0.token_size_hint()
    }
}

/// The signature timestamp's time and the oldest OCSP response in the DSS of a signed letter.
fn timestamp_and_oldest_response(signed: &[u8]) -> (time::OffsetDateTime, time::OffsetDateTime) {
    let pdf = sahih_pdf::PdfDocument::open(signed, &Default::default()).unwrap();
    let field = pdf
        .signature_fields()
        .into_iter()
        .find(|f| f.kind.as_deref() != Some("DocTimeStamp"))
        .unwrap();
    let cms = sahih_pki::parse_cms(field.contents.as_deref().unwrap()).unwrap();
    let token = cms
        .unsigned_attrs
        .iter()
        .find(|(oid, _)| *oid == sahih_pki::oids::OID_AA_TIMESTAMP_TOKEN)
        .and_then(|(_, v)| v.first())
        .unwrap();
    let gen_time = sahih_pki::tsp::parse_timestamp_token(token)
        .unwrap()
        .gen_time;
    let dss = sahih_pdf::dss::read_dss(&pdf);
    assert!(!dss.ocsps.is_empty(), "B-LT letter without OCSP responses");
    let oldest = dss
        .ocsps
        .iter()
        .map(|r| sahih_pki::ocsp::parse_ocsp_response(r).unwrap().produced_at)
        .min()
        .unwrap();
    (gen_time, oldest)
}

#[tokio::test]
async fn a_b_lt_batch_collects_validation_data_once_and_every_letter_validates() {
    let f = fixture("batch-blt").await;
    let services = f.sahih.trust_services().await.unwrap();
    let slow = SlowTsa(&services);
    // (threads, level, letters, slow TSA)
    for (parallelism, level, letters, slow_tsa) in [
        (1, Level::BLT, 6, false),
        (2, Level::BLTA, 6, false),
        (1, Level::BLT, 3, true),
    ] {
        let source = CountingSource {
            inner: &services,
            calls: std::sync::atomic::AtomicUsize::new(0),
        };
        let env = SigningEnv {
            providers: TrustProviders {
                tsa: Some(if slow_tsa { &slow } else { &services }),
                validation_data: Some(&source),
            },
            parallelism,
            ..env(&f)
        };
        let mut req = request(cli(), PASSPHRASE, None, Delivery::Return);
        req.documents = (0..letters)
            .map(|_| {
                let mut d = document();
                d.options.level = level;
                d
            })
            .collect();
        let started = time::OffsetDateTime::now_utc().unix_timestamp();
        let items = f.sahih.sign_batch(req, &env).await.unwrap();
        let seconds = time::OffsetDateTime::now_utc().unix_timestamp() - started + 1;
        assert_eq!(items.len(), letters);
        let calls = source.calls.load(std::sync::atomic::Ordering::Relaxed);
        if slow_tsa {
            // Each letter was timestamped in a later second: none may reuse older data.
            assert_eq!(calls, letters);
        } else {
            // Once per second the batch spans (per thread, which may race to the same set);
            // without the batch memo it would be once per letter.
            let bound = (parallelism * usize::try_from(seconds).unwrap()).min(letters);
            assert!(
                (1..=bound).contains(&calls),
                "{calls} collections for {letters} letters in {seconds} s"
            );
        }
        for item in &items {
            assert_eq!(item.outcome.level, level);
            assert_eq!(
                item.outcome.sha256_hex,
                hex::encode(aws_lc_rs::digest::digest(
                    &aws_lc_rs::digest::SHA256,
                    &item.signed
                ))
            );
            let report = f
                .sahih
                .verify_bytes(&item.signed, Vec::new(), time::OffsetDateTime::now_utc())
                .await
                .unwrap();
            assert_eq!(
                report.indication,
                sahih_validate::Indication::TotalPassed,
                "{:?}",
                report.signatures.first().map(|s| &s.errors)
            );
            // Revocation data no older than the letter's own timestamp (to the second).
            let (gen_time, oldest) = timestamp_and_oldest_response(&item.signed);
            assert!(
                oldest.unix_timestamp() >= gen_time.unix_timestamp(),
                "OCSP response of {oldest} predates the signature timestamp {gen_time}"
            );
        }
    }
}
