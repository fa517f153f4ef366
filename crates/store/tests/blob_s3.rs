//! The S3 blob store against a real S3-compatible server: `moto_server` (PyPI `moto[server]`),
//! with IAM authentication switched on so that moto (through botocore) recomputes and checks
//! every SigV4 signature we send.
//!
//! moto_server is found via `SAHIH_TEST_MOTO`, then `PATH`, then `.venv/bin/moto_server` at the
//! workspace root. Without it the test says so loudly on stderr and returns.

// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

use sahih_core::store::{BlobError, BlobStore};
use sahih_store::blob::{AnyBlobStore, S3BlobStore, S3Config, S3Credentials};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn find_moto() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SAHIH_TEST_MOTO").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("moto_server"))
            .find(|p| is_executable(p))
    });
    on_path.or_else(|| {
        let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server");
        is_executable(&venv).then_some(venv)
    })
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

/// Kills the server when the test ends, also on panic.
struct MotoServer {
    child: Child,
    port: u16,
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl MotoServer {
    fn start(exe: &Path) -> MotoServer {
        // Free port: bind :0, read it, release it (a small race, fine for a test).
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(exe)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        let mut server = MotoServer { child, port };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(2)))
            .http_status_as_error(false)
            .build()
            .into();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("moto_server exited early: {status}");
            }
            if agent
                .get(format!("{}/moto-api/", server.url()))
                .call()
                .is_ok()
            {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer in 60 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// While moto still runs without authentication: an IAM user allowed everything, and its
    /// access key. Then authentication is switched on for every later request.
    fn create_user_and_enable_auth(&self) -> (String, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .into();
        // moto routes by the service in the credential scope; the signature is not checked yet.
        let iam = |form: &str| -> String {
            let mut response = agent
                .post(format!("{}/", self.url()))
                .header("content-type", "application/x-www-form-urlencoded")
                .header(
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=bootstrap/20250101/us-east-1/iam/aws4_request, \
                     SignedHeaders=host, Signature=00",
                )
                .send(form)
                .unwrap();
            let status = response.status();
            let body = response.body_mut().read_to_string().unwrap();
            assert!(status.is_success(), "IAM {form}: HTTP {status}: {body}");
            body
        };
        iam("Action=CreateUser&Version=2010-05-08&UserName=sahih-test");
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        iam(&format!(
            "Action=PutUserPolicy&Version=2010-05-08&UserName=sahih-test&PolicyName=all\
             &PolicyDocument={}",
            form_encode(policy)
        ));
        let created = iam("Action=CreateAccessKey&Version=2010-05-08&UserName=sahih-test");
        let id = between(&created, "<AccessKeyId>", "</AccessKeyId>");
        let secret = between(&created, "<SecretAccessKey>", "</SecretAccessKey>");

        let response = agent
            .post(format!("{}/moto-api/reset-auth", self.url()))
            .send("0")
            .unwrap();
        assert!(response.status().is_success(), "moto reset-auth failed");
        (id, secret)
    }
}

fn between(text: &str, start: &str, end: &str) -> String {
    let from = text.find(start).expect(start) + start.len();
    let len = text[from..].find(end).expect(end);
    text[from..from + len].to_owned()
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn store(url: &str, prefix: &str, id: &str, secret: &str) -> S3BlobStore {
    S3BlobStore::new(S3Config {
        endpoint: url.to_owned(),
        bucket: "sahih-docs".to_owned(),
        prefix: prefix.to_owned(),
        region: "us-east-1".to_owned(),
        credentials: S3Credentials::new(id, secret, None),
    })
    .unwrap()
}

#[tokio::test]
async fn s3_blob_store_against_moto() {
    let Some(exe) = find_moto() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "moto_server not found, and CI must not skip the S3 tests"
        );
        // Written to the real stderr: the test harness captures `eprintln!`.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: S3 blob tests (moto_server not found)"
        );
        return;
    };
    let server = MotoServer::start(&exe);
    let (id, secret) = server.create_user_and_enable_auth();
    let url = server.url();

    let s3 = store(&url, "", &id, &secret);
    assert!(!s3.describe().contains(&secret));

    // Before the bucket exists: a clear error, not "missing object".
    match s3.get("a.txt").await {
        Err(BlobError::Backend(m)) => assert!(m.contains("NoSuchBucket"), "{m}"),
        other => panic!("expected NoSuchBucket, got {other:?}"),
    }
    s3.create_bucket().await.unwrap();
    s3.create_bucket().await.unwrap(); // idempotent for our own bucket

    // put / get / overwrite / delete / get missing / delete missing
    s3.put("signed/a.pdf", b"first".to_vec()).await.unwrap();
    assert_eq!(
        s3.get("signed/a.pdf").await.unwrap().as_deref(),
        Some(&b"first"[..])
    );
    s3.put("signed/a.pdf", b"second version".to_vec())
        .await
        .unwrap();
    assert_eq!(
        s3.get("signed/a.pdf").await.unwrap().as_deref(),
        Some(&b"second version"[..])
    );
    s3.delete("signed/a.pdf").await.unwrap();
    assert_eq!(s3.get("signed/a.pdf").await.unwrap(), None);
    s3.delete("signed/a.pdf").await.unwrap();
    s3.put("empty", Vec::new()).await.unwrap();
    assert_eq!(s3.get("empty").await.unwrap().as_deref(), Some(&[][..]));

    // 5 MB, not all the same byte.
    let big: Vec<u8> = (0..5 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    s3.put("big/object.bin", big.clone()).await.unwrap();
    assert!(s3.get("big/object.bin").await.unwrap() == Some(big));

    // A prefixed store writes under the prefix, seen from the unprefixed one.
    let tenant = store(&url, "tenant-a/docs", &id, &secret);
    tenant.put("x/1.pdf", b"tenant".to_vec()).await.unwrap();
    assert_eq!(
        s3.get("tenant-a/docs/x/1.pdf").await.unwrap().as_deref(),
        Some(&b"tenant"[..])
    );
    assert_eq!(tenant.get("tenant-a/docs/x/1.pdf").await.unwrap(), None);
    assert!(tenant.describe().contains("s3://sahih-docs/tenant-a/docs/"));

    // Through the enum, as the server uses it.
    let any = AnyBlobStore::S3(tenant.clone());
    assert_eq!(
        any.get("x/1.pdf").await.unwrap().as_deref(),
        Some(&b"tenant"[..])
    );
    any.delete("x/1.pdf").await.unwrap();
    assert_eq!(tenant.get("x/1.pdf").await.unwrap(), None);

    // Invalid keys never reach the network.
    assert!(matches!(
        s3.put("../x", vec![]).await,
        Err(BlobError::InvalidKey(_))
    ));

    // A wrong secret: moto verifies signatures because authentication is on.
    let wrong_secret = "wrong-secret-0123456789";
    let wrong = store(&url, "", &id, wrong_secret);
    for result in [
        wrong.put("w.txt", b"no".to_vec()).await,
        wrong.get("empty").await.map(|_| ()),
        wrong.delete("empty").await,
    ] {
        match result {
            Err(BlobError::Backend(m)) => {
                assert!(
                    m.contains("403") && m.contains("SignatureDoesNotMatch"),
                    "{m}"
                );
                assert!(
                    !m.contains(wrong_secret) && !m.contains("Signature="),
                    "{m}"
                );
            }
            other => panic!("expected a signature error, got {other:?}"),
        }
    }
    // An unknown access key.
    let unknown = store(&url, "", "AKIAUNKNOWNKEY000000", &secret);
    match unknown.get("empty").await {
        Err(BlobError::Backend(m)) => assert!(m.contains("403"), "{m}"),
        other => panic!("expected 403, got {other:?}"),
    }
    // The right key still works after those.
    assert_eq!(s3.get("empty").await.unwrap().as_deref(), Some(&[][..]));

    // Nothing listening: a transport error, quickly.
    drop(server);
    assert!(matches!(s3.get("empty").await, Err(BlobError::Backend(_))));
}
