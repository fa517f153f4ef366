//! A throwaway `moto_server` (PyPI `moto[server]`) for the S3 tests, with IAM authentication
//! switched on so that moto (through botocore) recomputes and checks every SigV4 signature.
//!
//! moto_server is found via `SAHIH_TEST_MOTO`, then `PATH`, then `.venv/bin/moto_server` at the
//! workspace root. Without it a test says so loudly on stderr and returns; under CI it fails.

// Each test binary uses its own subset.
#![allow(dead_code)]

use sahih_store::blob::{S3BlobStore, S3Config, S3Credentials};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// moto with authentication on, and the access key of a user allowed everything; `None` (after
/// saying so on stderr) when moto_server is not installed outside CI.
pub(crate) fn start_with_auth(test: &str) -> Option<(MotoServer, String, String)> {
    let Some(exe) = find_moto() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "moto_server not found, and CI must not skip the S3 tests"
        );
        // Written to the real stderr: the test harness captures `eprintln!`.
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "SKIPPED: {test} (moto_server not found)");
        return None;
    };
    let server = MotoServer::start(&exe);
    let (id, secret) = server.create_user_and_enable_auth();
    Some((server, id, secret))
}

pub(crate) fn find_moto() -> Option<PathBuf> {
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
pub(crate) struct MotoServer {
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
    pub(crate) fn start(exe: &Path) -> MotoServer {
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

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// While moto still runs without authentication: an IAM user allowed everything, and its
    /// access key. Then authentication is switched on for every later request.
    pub(crate) fn create_user_and_enable_auth(&self) -> (String, String) {
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

pub(crate) fn store(url: &str, prefix: &str, id: &str, secret: &str) -> S3BlobStore {
    S3BlobStore::new(S3Config {
        endpoint: url.to_owned(),
        bucket: "sahih-docs".to_owned(),
        prefix: prefix.to_owned(),
        region: "us-east-1".to_owned(),
        credentials: S3Credentials::new(id, secret, None),
    })
    .unwrap()
}
