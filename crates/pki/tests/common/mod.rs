//! Shared test fixtures: a three-level PKI and helpers to run OpenSSL.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use sahih_pki::*;
use time::{Duration, OffsetDateTime};

pub(crate) const OPENSSL: &str = "/usr/bin/openssl";

pub(crate) fn identity() -> OfficialIdentity {
    OfficialIdentity {
        nik: "3201014501900001".into(),
        nip: "198501012010011001".into(),
        name: "Dr. Siti Rahmawati, S.Kom., M.T.".into(),
        email: "siti.rahmawati@bogorkab.go.id".into(),
        position: "Kepala Dinas Komunikasi dan Informatika".into(),
        unit: "Dinas Komunikasi dan Informatika".into(),
        institution: "Pemerintah Kabupaten Bogor".into(),
    }
}

pub(crate) struct Pki {
    pub root_key: PrivateKey,
    pub root: Certificate,
    pub issuing_key: PrivateKey,
    pub issuing: Certificate,
    pub leaf_key: PrivateKey,
    pub leaf: Certificate,
}

pub(crate) fn validity(from_days: i64, to_days: i64) -> CertValidity {
    let now = OffsetDateTime::now_utc();
    CertValidity {
        not_before: now + Duration::days(from_days),
        not_after: now + Duration::days(to_days),
    }
}

/// A request for `spki` under the CA `issuer_der`, signed with `signer`, without URLs.
pub(crate) fn under<'a>(
    issuer_der: &'a [u8],
    signer: &'a PrivateKey,
    spki: &'a [u8],
    validity: CertValidity,
    serial: &'a [u8],
) -> IssueRequest<'a> {
    IssueRequest {
        subject_spki: spki,
        issuer: Issuer::Ca(issuer_der),
        signer,
        validity,
        serial,
        urls: CertUrls::default(),
    }
}

/// Root (20 years) -> issuing CA (10 years) -> official (30 days), all keys of `alg`.
pub(crate) fn build_pki(alg: KeyAlgorithm) -> Pki {
    let institution = "Pemerintah Kabupaten Bogor";
    let root_key = PrivateKey::generate(alg).unwrap();
    let root_der = issue(
        &Profile::RootCa { institution },
        &IssueRequest {
            subject_spki: root_key.spki_der_ref(),
            issuer: Issuer::SelfSigned,
            signer: &root_key,
            validity: validity(-1, 365 * 20),
            serial: &random_serial(),
            urls: CertUrls::default(),
        },
    )
    .unwrap();
    let issuing_key = PrivateKey::generate(alg).unwrap();
    let issuing_der = issue(
        &Profile::IssuingCa {
            institution,
            generation: 1,
        },
        &under(
            &root_der,
            &root_key,
            issuing_key.spki_der_ref(),
            validity(-1, 365 * 10),
            &random_serial(),
        ),
    )
    .unwrap();
    let leaf_key = PrivateKey::generate(alg).unwrap();
    let leaf_der = issue(
        &Profile::Official(&identity()),
        &under(
            &issuing_der,
            &issuing_key,
            &leaf_key.public_key_spki_der(),
            validity(-1, 30),
            &random_serial(),
        ),
    )
    .unwrap();
    Pki {
        root_key,
        root: Certificate::from_der(&root_der).unwrap(),
        issuing_key,
        issuing: Certificate::from_der(&issuing_der).unwrap(),
        leaf_key,
        leaf: Certificate::from_der(&leaf_der).unwrap(),
    }
}

pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> Self {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        let p =
            std::env::temp_dir().join(format!("sahih-pki-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub(crate) fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
    pub(crate) fn write(&self, f: &str, data: &[u8]) -> PathBuf {
        let p = self.path(f);
        std::fs::write(&p, data).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) struct Out {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

pub(crate) fn openssl(dir: &Path, args: &[&str]) -> Out {
    let o = Command::new(OPENSSL)
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    Out {
        ok: o.status.success(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// `openssl cms -verify` of the detached DER signature `sig` over the file `content`, both in
/// `dir`, trusting root.pem and accepting any purpose.
pub(crate) fn openssl_cms_verify(dir: &Path, sig: &str, content: &str) -> Out {
    openssl(
        dir,
        &[
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            sig,
            "-content",
            content,
            "-CAfile",
            "root.pem",
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
    )
}

/// Write the PKI as PEM files root.pem, issuing.pem, leaf.pem, leaf.key.
pub(crate) fn write_pki(dir: &TempDir, pki: &Pki) {
    dir.write(
        "root.pem",
        der_to_pem(&pki.root.der, "CERTIFICATE").as_bytes(),
    );
    dir.write(
        "issuing.pem",
        der_to_pem(&pki.issuing.der, "CERTIFICATE").as_bytes(),
    );
    dir.write(
        "leaf.pem",
        der_to_pem(&pki.leaf.der, "CERTIFICATE").as_bytes(),
    );
    dir.write(
        "leaf.key",
        der_to_pem(pki.leaf_key.pkcs8_der(), "PRIVATE KEY").as_bytes(),
    );
    dir.write(
        "issuing.key",
        der_to_pem(pki.issuing_key.pkcs8_der(), "PRIVATE KEY").as_bytes(),
    );
}

/// Tiny deterministic PRNG for mutation tests.
pub(crate) struct XorShift(pub u64);
impl XorShift {
    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}
