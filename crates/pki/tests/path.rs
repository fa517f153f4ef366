// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use sahih_pki::*;
use time::{Duration, OffsetDateTime};

fn validator(anchors: Vec<Certificate>) -> SimplePathValidator {
    SimplePathValidator {
        trust: TrustStore::new(anchors),
    }
}

fn epoch(t: OffsetDateTime) -> String {
    t.unix_timestamp().to_string()
}

#[test]
fn path_cases_cross_checked_with_openssl() {
    let pki = build_pki(KeyAlgorithm::EcdsaP256);
    let other = build_pki(KeyAlgorithm::EcdsaP256);
    let dir = TempDir::new("path");
    write_pki(&dir, &pki);
    dir.write(
        "other-root.pem",
        der_to_pem(&other.root.der, "CERTIFICATE").as_bytes(),
    );
    let now = OffsetDateTime::now_utc();
    let v = validator(vec![pki.root.clone()]);

    // 1. valid
    match v.validate(&pki.leaf, std::slice::from_ref(&pki.issuing), now) {
        PathOutcome::Valid { chain } => {
            assert_eq!(
                chain,
                vec![pki.leaf.clone(), pki.issuing.clone(), pki.root.clone()]
            );
        }
        o => panic!("{o:?}"),
    }
    // unrelated extra certificates do not disturb
    let pool = vec![
        other.issuing.clone(),
        other.leaf.clone(),
        pki.issuing.clone(),
        pki.root.clone(),
    ];
    assert!(v.validate(&pki.leaf, &pool, now).is_valid());
    let o = openssl(
        &dir.0,
        &[
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "issuing.pem",
            "leaf.pem",
        ],
    );
    assert!(o.ok, "{}", o.stderr);

    // 2. no anchor (wrong root, or missing intermediate)
    let v_other = validator(vec![other.root.clone()]);
    match v_other.validate(&pki.leaf, std::slice::from_ref(&pki.issuing), now) {
        PathOutcome::NoChainToTrustAnchor { partial_chain } => {
            assert_eq!(partial_chain.len(), 2);
        }
        o => panic!("{o:?}"),
    }
    assert!(matches!(
        v.validate(&pki.leaf, &[], now),
        PathOutcome::NoChainToTrustAnchor { .. }
    ));
    let o = openssl(
        &dir.0,
        &[
            "verify",
            "-CAfile",
            "other-root.pem",
            "-untrusted",
            "issuing.pem",
            "leaf.pem",
        ],
    );
    assert!(!o.ok && (o.stdout + &o.stderr).contains("unable to get local issuer certificate"));
    let o = openssl(&dir.0, &["verify", "-CAfile", "root.pem", "leaf.pem"]);
    assert!(!o.ok);

    // 3. expired leaf (30-day validity; CAs still valid 60 days from now)
    let later = now + Duration::days(60);
    match v.validate(&pki.leaf, std::slice::from_ref(&pki.issuing), later) {
        PathOutcome::Expired {
            cert_subject,
            not_after,
        } => {
            assert_eq!(cert_subject, pki.leaf.subject_display());
            assert_eq!(not_after, pki.leaf.not_after());
        }
        o => panic!("{o:?}"),
    }
    let o = openssl(
        &dir.0,
        &[
            "verify",
            "-attime",
            &epoch(later),
            "-CAfile",
            "root.pem",
            "-untrusted",
            "issuing.pem",
            "leaf.pem",
        ],
    );
    assert!(
        !o.ok && (o.stdout.clone() + &o.stderr).contains("certificate has expired"),
        "{} {}",
        o.stdout,
        o.stderr
    );
    // not yet valid
    let earlier = now - Duration::days(3);
    assert!(matches!(
        v.validate(&pki.leaf, std::slice::from_ref(&pki.issuing), earlier),
        PathOutcome::NotYetValid { .. }
    ));
    let o = openssl(
        &dir.0,
        &[
            "verify",
            "-attime",
            &epoch(earlier),
            "-CAfile",
            "root.pem",
            "-untrusted",
            "issuing.pem",
            "leaf.pem",
        ],
    );
    assert!(!o.ok && (o.stdout.clone() + &o.stderr).contains("not yet valid"));

    // 4. a certificate issued by the (non-CA) official certificate, made with OpenSSL
    let k = openssl(
        &dir.0,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "bad.key",
        ],
    );
    assert!(k.ok, "{}", k.stderr);
    let r = openssl(
        &dir.0,
        &[
            "req",
            "-new",
            "-key",
            "bad.key",
            "-subj",
            "/CN=Bawahan Palsu",
            "-out",
            "bad.csr",
        ],
    );
    assert!(r.ok, "{}", r.stderr);
    let x = openssl(
        &dir.0,
        &[
            "x509",
            "-req",
            "-in",
            "bad.csr",
            "-CA",
            "leaf.pem",
            "-CAkey",
            "leaf.key",
            "-set_serial",
            "7",
            "-days",
            "10",
            "-out",
            "bad.pem",
        ],
    );
    assert!(x.ok, "{}", x.stderr);
    let bad = sahih_pki::certs::load_certificates(&std::fs::read(dir.path("bad.pem")).unwrap())
        .unwrap()
        .remove(0);
    match v.validate(&bad, &[pki.leaf.clone(), pki.issuing.clone()], now) {
        PathOutcome::NotACa { cert_subject } => {
            assert_eq!(cert_subject, pki.leaf.subject_display())
        }
        o => panic!("{o:?}"),
    }
    std::fs::write(
        dir.path("untrusted.pem"),
        format!(
            "{}{}",
            der_to_pem(&pki.leaf.der, "CERTIFICATE"),
            der_to_pem(&pki.issuing.der, "CERTIFICATE")
        ),
    )
    .unwrap();
    let o = openssl(
        &dir.0,
        &[
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "untrusted.pem",
            "bad.pem",
        ],
    );
    assert!(
        !o.ok && (o.stdout.clone() + &o.stderr).contains("invalid CA certificate"),
        "{} {}",
        o.stdout,
        o.stderr
    );

    // 5. bad signature: flip a bit in the leaf's signature value
    let mut der = pki.leaf.der.clone();
    let n = der.len();
    der[n - 5] ^= 0x01;
    let tampered = Certificate::from_der(&der).unwrap();
    assert!(matches!(
        v.validate(&tampered, std::slice::from_ref(&pki.issuing), now),
        PathOutcome::BadSignature { .. }
    ));
    dir.write("tampered.pem", der_to_pem(&der, "CERTIFICATE").as_bytes());
    let o = openssl(
        &dir.0,
        &[
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "issuing.pem",
            "tampered.pem",
        ],
    );
    assert!(!o.ok);

    // 6. anchors: the issuing CA itself as anchor; a self-signed root validated alone
    let v_issuing = validator(vec![pki.issuing.clone()]);
    match v_issuing.validate(&pki.leaf, &[], now) {
        PathOutcome::Valid { chain } => assert_eq!(chain.len(), 2),
        o => panic!("{o:?}"),
    }
    match v.validate(&pki.root, &[], now) {
        PathOutcome::Valid { chain } => assert_eq!(chain, vec![pki.root.clone()]),
        o => panic!("{o:?}"),
    }
    // a leaf trusted directly (foreign self-signed cert passed with --trust)
    let v_leaf = validator(vec![pki.leaf.clone()]);
    assert!(v_leaf.validate(&pki.leaf, &[], now).is_valid());
}

#[test]
fn path_len_exceeded() {
    // root -> issuing (pathlen 0) -> sub-CA made by OpenSSL (CA:TRUE) -> leaf: pathlen violated
    let pki = build_pki(KeyAlgorithm::EcdsaP256);
    let dir = TempDir::new("pathlen");
    write_pki(&dir, &pki);
    std::fs::write(dir.path("ext.cnf"), "[v3]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n[leaf]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n").unwrap();
    for (key, csr, subj) in [
        ("sub.key", "sub.csr", "/CN=Sub CA"),
        ("l2.key", "l2.csr", "/CN=Leaf Two"),
    ] {
        assert!(
            openssl(
                &dir.0,
                &[
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-out",
                    key
                ]
            )
            .ok
        );
        assert!(
            openssl(
                &dir.0,
                &["req", "-new", "-key", key, "-subj", subj, "-out", csr]
            )
            .ok
        );
    }
    let o = openssl(
        &dir.0,
        &[
            "x509",
            "-req",
            "-in",
            "sub.csr",
            "-CA",
            "issuing.pem",
            "-CAkey",
            "issuing.key",
            "-set_serial",
            "9",
            "-days",
            "20",
            "-extfile",
            "ext.cnf",
            "-extensions",
            "v3",
            "-out",
            "sub.pem",
        ],
    );
    assert!(o.ok, "{}", o.stderr);
    let o = openssl(
        &dir.0,
        &[
            "x509",
            "-req",
            "-in",
            "l2.csr",
            "-CA",
            "sub.pem",
            "-CAkey",
            "sub.key",
            "-set_serial",
            "10",
            "-days",
            "10",
            "-extfile",
            "ext.cnf",
            "-extensions",
            "leaf",
            "-out",
            "l2.pem",
        ],
    );
    assert!(o.ok, "{}", o.stderr);
    let load = |f: &str| {
        sahih_pki::certs::load_certificates(&std::fs::read(dir.path(f)).unwrap())
            .unwrap()
            .remove(0)
    };
    let sub = load("sub.pem");
    let l2 = load("l2.pem");
    let v = SimplePathValidator {
        trust: TrustStore::new(vec![pki.root.clone()]),
    };
    match v.validate(
        &l2,
        &[sub.clone(), pki.issuing.clone()],
        OffsetDateTime::now_utc(),
    ) {
        PathOutcome::NotACa { cert_subject } => {
            assert_eq!(cert_subject, pki.issuing.subject_display())
        }
        o => panic!("{o:?}"),
    }
    std::fs::write(
        dir.path("chain.pem"),
        format!(
            "{}{}",
            der_to_pem(&sub.der, "CERTIFICATE"),
            der_to_pem(&pki.issuing.der, "CERTIFICATE")
        ),
    )
    .unwrap();
    let o = openssl(
        &dir.0,
        &[
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "chain.pem",
            "l2.pem",
        ],
    );
    assert!(
        !o.ok && (o.stdout.clone() + &o.stderr).contains("path length constraint exceeded"),
        "{} {}",
        o.stdout,
        o.stderr
    );
    // the sub-CA itself is fine (pathlen 0 allows one level below the issuing CA)
    assert!(
        v.validate(
            &sub,
            std::slice::from_ref(&pki.issuing),
            OffsetDateTime::now_utc()
        )
        .is_valid()
    );
}
