//! RFC 3161 against OpenSSL: our TSA answers `openssl ts -query` requests and `openssl ts
//! -verify` accepts the tokens; tokens from `openssl ts -reply` (OpenSSL acting as TSA, with a
//! TSA certificate we issue) are accepted by our client; robustness.

// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]
mod common;

use common::*;
use sahih_pki::oids::*;
use sahih_pki::tsp::*;
use sahih_pki::*;
use time::OffsetDateTime;

fn sha256(data: &[u8]) -> Vec<u8> {
    digest_parts(&OID_SHA256, &[data]).unwrap()
}

struct Tsa {
    pki: Pki,
    key: PrivateKey,
    cert: Certificate,
}

fn build_tsa(alg: KeyAlgorithm) -> Tsa {
    let pki = build_pki(alg);
    let key = PrivateKey::generate(alg).unwrap();
    let urls = CertUrls {
        ocsp: Some("http://127.0.0.1:8080/ocsp".into()),
        ca_issuers: Some("http://127.0.0.1:8080/ca/issuing-1.der".into()),
        crl: Some("http://127.0.0.1:8080/crl/issuing-1.crl".into()),
    };
    let der = issue(
        &Profile::Tsa {
            institution: "Pemerintah Kabupaten Bogor",
        },
        &IssueRequest {
            urls,
            ..under(
                &pki.issuing.der,
                &pki.issuing_key,
                key.spki_der_ref(),
                validity(-1, 365 * 5),
                &random_serial(),
            )
        },
    )
    .unwrap();
    let cert = Certificate::from_der(&der).unwrap();
    Tsa { pki, key, cert }
}

fn write_tsa(dir: &TempDir, tsa: &Tsa) {
    write_pki(dir, &tsa.pki);
    dir.write(
        "tsa.pem",
        der_to_pem(&tsa.cert.der, "CERTIFICATE").as_bytes(),
    );
    dir.write(
        "tsa.key",
        der_to_pem(tsa.key.pkcs8_der(), "PRIVATE KEY").as_bytes(),
    );
    let chain = format!(
        "{}{}",
        der_to_pem(&tsa.cert.der, "CERTIFICATE"),
        der_to_pem(&tsa.pki.issuing.der, "CERTIFICATE")
    );
    dir.write("tsa_chain.pem", chain.as_bytes());
}

fn data() -> Vec<u8> {
    b"%PDF-1.7\nsurat keputusan bupati nomor 100.3.3.2/12/Kpts/2025\n".repeat(50)
}

#[test]
fn tsa_certificate_profile() {
    let tsa = build_tsa(KeyAlgorithm::EcdsaP256);
    let c = &tsa.cert;
    assert_eq!(
        c.subject_common_name().unwrap(),
        "Pemerintah Kabupaten Bogor Time Stamping Authority"
    );
    assert_eq!(c.extended_key_usages(), vec![OID_KP_TIME_STAMPING]);
    assert_eq!(
        c.extension_is_critical(&OID_EXT_EXTENDED_KEY_USAGE),
        Some(true)
    );
    let ku = c.key_usage().unwrap();
    assert!(ku.digital_signature && ku.non_repudiation && !ku.key_cert_sign);
    assert_eq!(c.extension_is_critical(&OID_EXT_KEY_USAGE), Some(true));
    assert!(!c.is_ca());
    assert_eq!(
        c.ocsp_urls(),
        vec!["http://127.0.0.1:8080/ocsp".to_string()]
    );
    assert_eq!(
        c.ca_issuers_urls(),
        vec!["http://127.0.0.1:8080/ca/issuing-1.der".to_string()]
    );
    assert_eq!(
        c.crl_urls(),
        vec!["http://127.0.0.1:8080/crl/issuing-1.crl".to_string()]
    );
    assert!(!c.has_ocsp_nocheck());
    assert!(c.is_signed_by(&tsa.pki.issuing));
    assert!(key_matches_certificate(&tsa.key, &tsa.cert));
    assert!(!key_matches_certificate(&tsa.pki.leaf_key, &tsa.cert));

    // OpenSSL agrees it is a timestamp-signing certificate of a valid chain.
    let dir = TempDir::new("tsa-profile");
    write_tsa(&dir, &tsa);
    let v = openssl(
        &dir.0,
        &[
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "issuing.pem",
            "-purpose",
            "timestampsign",
            "tsa.pem",
        ],
    );
    assert!(
        v.ok && v.stdout.contains("tsa.pem: OK"),
        "{} {}",
        v.stdout,
        v.stderr
    );
    let t = openssl(&dir.0, &["x509", "-in", "tsa.pem", "-noout", "-text"]);
    assert!(
        t.stdout.contains("X509v3 Extended Key Usage: critical"),
        "{}",
        t.stdout
    );
    assert!(t.stdout.contains("Time Stamping"));
    assert!(
        t.stdout.contains("OCSP - URI:http://127.0.0.1:8080/ocsp"),
        "{}",
        t.stdout
    );
    assert!(
        t.stdout
            .contains("CA Issuers - URI:http://127.0.0.1:8080/ca/issuing-1.der")
    );
    assert!(
        t.stdout
            .contains("URI:http://127.0.0.1:8080/crl/issuing-1.crl")
    );

    // bad URLs are refused
    for bad in ["", "no-scheme", "http://with space", "http://", "1http://x"] {
        let urls = CertUrls {
            ocsp: Some(bad.into()),
            ..Default::default()
        };
        let r = issue(
            &Profile::Tsa {
                institution: "Pemerintah Kabupaten Bogor",
            },
            &IssueRequest {
                urls,
                ..under(
                    &tsa.pki.issuing.der,
                    &tsa.pki.issuing_key,
                    tsa.key.spki_der_ref(),
                    validity(-1, 30),
                    &random_serial(),
                )
            },
        );
        // the empty string means "no URL"
        assert_eq!(r.is_ok(), bad.is_empty(), "{bad:?}");
    }
}

#[test]
fn urls_in_official_and_issuing_ca_certificates() {
    let pki = build_pki(KeyAlgorithm::EcdsaP256);
    let urls = CertUrls {
        ocsp: Some("https://pki.bogorkab.go.id/ocsp".into()),
        ca_issuers: None,
        crl: Some("https://pki.bogorkab.go.id/crl/issuing-1.crl".into()),
    };
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let der = issue(
        &Profile::Official(&identity()),
        &IssueRequest {
            urls,
            ..under(
                &pki.issuing.der,
                &pki.issuing_key,
                key.spki_der_ref(),
                validity(-1, 30),
                &random_serial(),
            )
        },
    )
    .unwrap();
    let c = Certificate::from_der(&der).unwrap();
    assert_eq!(c.ocsp_urls(), vec!["https://pki.bogorkab.go.id/ocsp"]);
    assert!(c.ca_issuers_urls().is_empty());
    assert_eq!(
        c.crl_urls(),
        vec!["https://pki.bogorkab.go.id/crl/issuing-1.crl"]
    );
    assert_eq!(
        c.extension_is_critical(&OID_EXT_AUTHORITY_INFO_ACCESS),
        Some(false)
    );
    // the old function writes no URL extensions
    assert!(pki.leaf.ocsp_urls().is_empty() && pki.leaf.crl_urls().is_empty());
    assert!(
        !pki.leaf
            .extension_oids()
            .contains(&OID_EXT_AUTHORITY_INFO_ACCESS)
    );

    let ca_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let ca_urls = CertUrls {
        ocsp: None,
        ca_issuers: Some("https://pki.bogorkab.go.id/ca/root.der".into()),
        crl: Some("https://pki.bogorkab.go.id/crl/root.crl".into()),
    };
    let ca = issue(
        &Profile::IssuingCa {
            institution: "Pemerintah Kabupaten Bogor",
            generation: 2,
        },
        &IssueRequest {
            urls: ca_urls,
            ..under(
                &pki.root.der,
                &pki.root_key,
                ca_key.spki_der_ref(),
                validity(-1, 365),
                &random_serial(),
            )
        },
    )
    .unwrap();
    let ca = Certificate::from_der(&ca).unwrap();
    assert!(ca.is_ca());
    assert_eq!(
        ca.ca_issuers_urls(),
        vec!["https://pki.bogorkab.go.id/ca/root.der"]
    );
    assert_eq!(
        ca.crl_urls(),
        vec!["https://pki.bogorkab.go.id/crl/root.crl"]
    );
    assert!(ca.ocsp_urls().is_empty());

    let dir = TempDir::new("urls");
    write_pki(&dir, &pki);
    dir.write("ca2.pem", der_to_pem(&ca.der, "CERTIFICATE").as_bytes());
    dir.write("off.pem", der_to_pem(&c.der, "CERTIFICATE").as_bytes());
    let v = openssl(
        &dir.0,
        &[
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "issuing.pem",
            "off.pem",
        ],
    );
    assert!(v.ok, "{} {}", v.stdout, v.stderr);
    let v = openssl(&dir.0, &["verify", "-CAfile", "root.pem", "ca2.pem"]);
    assert!(v.ok, "{} {}", v.stdout, v.stderr);
}

fn query(dir: &TempDir, extra: &[&str], out: &str) -> Vec<u8> {
    let mut args = vec!["ts", "-query", "-data", "data.bin", "-sha256"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-out", out]);
    let o = openssl(&dir.0, &args);
    assert!(o.ok, "{} {}", o.stdout, o.stderr);
    std::fs::read(dir.path(out)).unwrap()
}

fn ts_verify(dir: &TempDir, resp: &str, how: &[&str]) -> Out {
    let mut args = vec!["ts", "-verify", "-in", resp];
    args.extend_from_slice(how);
    args.extend_from_slice(&["-CAfile", "root.pem", "-untrusted", "tsa_chain.pem"]);
    openssl(&dir.0, &args)
}

#[test]
fn our_tokens_verify_with_openssl() {
    for alg in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::Rsa2048] {
        let tsa = build_tsa(alg);
        let dir = TempDir::new("tsa-ours");
        write_tsa(&dir, &tsa);
        let content = data();
        dir.write("data.bin", &content);
        let chain = [tsa.pki.issuing.clone()];
        let signer = TsaSigner {
            cert: &tsa.cert,
            chain: &chain,
            producer: &tsa.key,
            policy: OID_TSA_POLICY_DEFAULT,
            accuracy_millis: Some(1500),
        };
        for (name, extra) in [
            ("nonce-cert", vec!["-cert"]),
            ("nonce-nocert", vec![]),
            ("nononce-cert", vec!["-no_nonce", "-cert"]),
            (
                "policy",
                vec!["-cert", "-tspolicy", "1.3.6.1.4.1.99999.1.1"],
            ),
        ] {
            let tsq = format!("{name}.tsq");
            let req_der = query(&dir, &extra, &tsq);
            let req = TimeStampReq::from_der(&req_der).unwrap();
            assert_eq!(req.to_der(), req_der, "{alg} {name}: request round trip");
            assert_eq!(req.cert_req, extra.contains(&"-cert"));
            assert_eq!(req.nonce.is_some(), !extra.contains(&"-no_nonce"));
            assert_eq!(req.message_imprint, sha256(&content));

            let gen_time = OffsetDateTime::now_utc();
            let resp = issue_timestamp(&req, &signer, &random_serial(), gen_time).unwrap();
            let resp_file = format!("{name}.tsr");
            dir.write(&resp_file, &resp);

            let t = openssl(&dir.0, &["ts", "-reply", "-in", &resp_file, "-text"]);
            assert!(
                t.ok && t.stdout.contains("Status: Granted."),
                "{}",
                t.stdout
            );
            assert!(
                t.stdout.contains("Policy OID: 1.3.6.1.4.1.99999.1.1"),
                "{}",
                t.stdout
            );
            assert!(
                t.stdout.contains("Accuracy: 0x01 seconds, 0x01F4 millis"),
                "{}",
                t.stdout
            );

            let v = ts_verify(&dir, &resp_file, &["-queryfile", &tsq]);
            assert!(
                v.ok && v.stdout.contains("Verification: OK"),
                "{alg} {name}: {} {}",
                v.stdout,
                v.stderr
            );
            let v = ts_verify(&dir, &resp_file, &["-data", "data.bin"]);
            assert!(
                v.ok && v.stdout.contains("Verification: OK"),
                "{alg} {name} -data: {} {}",
                v.stdout,
                v.stderr
            );
            // other data: OpenSSL rejects
            dir.write("other.bin", b"another letter");
            let v = ts_verify(&dir, &resp_file, &["-data", "other.bin"]);
            assert!(!v.stdout.contains("Verification: OK"), "{}", v.stdout);

            // our client
            let mut tok = parse_timestamp_response(&resp).unwrap();
            assert!(tok.matches_request(&req), "{alg} {name}");
            assert!(tok.check_imprint(&sha256(&content)));
            assert!(tok.check_data(&content));
            assert!(!tok.check_imprint(&sha256(b"another letter")));
            assert_eq!(tok.policy, OID_TSA_POLICY_DEFAULT);
            assert_eq!(tok.nonce, req.nonce);
            assert_eq!(tok.accuracy_micros, Some(1_500_000));
            assert_eq!(
                tok.gen_time.unix_timestamp_nanos() / 1_000_000,
                gen_time.unix_timestamp_nanos() / 1_000_000
            );
            assert!(
                tok.tsa_name
                    .as_deref()
                    .unwrap()
                    .contains("Time Stamping Authority")
            );
            if req.cert_req {
                assert!(tok.signature_valid, "{alg} {name}");
                assert_eq!(tok.ess, EssBinding::V2Match);
                assert_eq!(tok.tsa_cert.as_ref(), Some(&tsa.cert));
                assert_eq!(tok.certificates.len(), 2);
                assert!(tok.tsa_cert_has_timestamping_eku());
            } else {
                assert!(!tok.signature_valid);
                assert!(tok.tsa_cert.is_none() && tok.certificates.is_empty());
                tok.verify_with_cert(&tsa.pki.leaf); // not the TSA: ignored
                assert!(!tok.signature_valid && tok.tsa_cert.is_none());
                tok.verify_with_cert(&tsa.cert);
                assert!(tok.signature_valid);
                assert_eq!(tok.ess, EssBinding::V2Match);
                assert!(tok.tsa_cert_has_timestamping_eku());
            }
            // the bare token parses the same
            let bare = parse_timestamp_token(&tok.der).unwrap();
            assert_eq!(bare.serial_hex, tok.serial_hex);
        }
    }
}

#[test]
fn prepared_tsa_and_rejections() {
    let tsa = build_tsa(KeyAlgorithm::EcdsaP256);
    let dir = TempDir::new("tsa-reject");
    write_tsa(&dir, &tsa);
    dir.write("data.bin", &data());
    let prepared = PreparedTsa::new(
        &tsa.cert,
        std::slice::from_ref(&tsa.pki.issuing),
        OID_TSA_POLICY_DEFAULT,
        None,
    )
    .unwrap();
    // a certificate without the timestamping EKU is refused
    assert!(PreparedTsa::new(&tsa.pki.leaf, &[], OID_TSA_POLICY_DEFAULT, None).is_err());

    let cases: [(&str, Vec<&str>, Option<FailureInfo>); 3] = [
        ("sha1", vec!["-sha1"], Some(FailureInfo::BadAlg)),
        (
            "policy",
            vec!["-tspolicy", "1.2.3.4"],
            Some(FailureInfo::UnacceptedPolicy),
        ),
        ("ok", vec![], None),
    ];
    for (name, extra, fail) in cases {
        let mut args = vec!["ts", "-query", "-data", "data.bin", "-cert"];
        if !extra.contains(&"-sha1") {
            args.push("-sha256");
        }
        args.extend_from_slice(&extra);
        let tsq = format!("{name}.tsq");
        args.extend_from_slice(&["-out", &tsq]);
        let o = openssl(&dir.0, &args);
        assert!(o.ok, "{}", o.stderr);
        let req_der = std::fs::read(dir.path(&tsq)).unwrap();
        let resp = prepared.respond(
            &req_der,
            &tsa.key,
            &random_serial(),
            OffsetDateTime::now_utc(),
        );
        let f = format!("{name}.tsr");
        dir.write(&f, &resp);
        let t = openssl(&dir.0, &["ts", "-reply", "-in", &f, "-text"]);
        if fail.is_none() {
            assert!(t.stdout.contains("Status: Granted."), "{}", t.stdout);
            assert!(parse_timestamp_response(&resp).unwrap().signature_valid);
            continue;
        }
        assert!(t.stdout.contains("Status: Rejected."), "{}", t.stdout);
        match parse_timestamp_response(&resp) {
            Err(PkiError::Rejected {
                status,
                fail_info,
                text,
            }) => {
                assert_eq!(status, PkiStatus::Rejection);
                assert_eq!(fail_info, fail, "{name}");
                assert!(!text.is_empty());
            }
            other => panic!("{name}: {other:?}"),
        }
        let expected = if fail == Some(FailureInfo::BadAlg) {
            "unrecognized or unsupported algorithm identifier"
        } else {
            "the requested TSA policy is not supported by the TSA"
        };
        assert!(t.stdout.contains(expected), "{}", t.stdout);
    }

    // malformed request: badDataFormat
    let resp = prepared.respond(
        b"\x30\x03\x02\x01",
        &tsa.key,
        &[1],
        OffsetDateTime::now_utc(),
    );
    match parse_timestamp_response(&resp) {
        Err(PkiError::Rejected { fail_info, .. }) => {
            assert_eq!(fail_info, Some(FailureInfo::BadDataFormat))
        }
        other => panic!("{other:?}"),
    }
    // rejection_response as OpenSSL prints it
    dir.write(
        "r.tsr",
        &rejection_response(
            PkiStatus::Rejection,
            FailureInfo::SystemFailure,
            "layanan sedang gangguan",
        ),
    );
    let t = openssl(&dir.0, &["ts", "-reply", "-in", "r.tsr", "-text"]);
    assert!(t.stdout.contains("Status: Rejected."), "{}", t.stdout);
    assert!(t.stdout.contains("layanan sedang gangguan"), "{}", t.stdout);
    assert!(t.stdout.contains("system failure"), "{}", t.stdout);

    // accepted extra policies
    let p2 = prepared
        .clone()
        .with_accepted_policies(&["1.2.3.4".parse().unwrap()]);
    let mut req = TimeStampReq::new(OID_SHA256, &sha256(b"x"));
    req.policy = Some("1.2.3.4".parse().unwrap());
    let resp = p2
        .issue(&req, &tsa.key, &[0x42], OffsetDateTime::now_utc())
        .unwrap();
    let tok = parse_timestamp_response(&resp).unwrap();
    assert_eq!(tok.policy.to_string(), "1.2.3.4");
    assert!(tok.matches_request(&req));
    assert_eq!(tok.serial_hex, "42");
    // a different nonce does not match the request
    let mut other = req.clone();
    other.nonce = Some(vec![1, 2, 3]);
    assert!(!tok.matches_request(&other));
    // bad serials
    assert!(
        p2.issue(&req, &tsa.key, &[], OffsetDateTime::now_utc())
            .is_err()
    );
    assert!(
        p2.issue(&req, &tsa.key, &[0x7f; 21], OffsetDateTime::now_utc())
            .is_err()
    );
    // size bound
    for cert_req in [false, true] {
        req.cert_req = cert_req;
        let t = p2
            .issue_token(&req, &tsa.key, &[0x7f; 20], OffsetDateTime::now_utc())
            .unwrap();
        assert!(t.len() <= p2.token_size_upper_bound(cert_req));
        assert!(p2.token_size_upper_bound(cert_req) < t.len() + 700);
    }
}

fn write_ts_cnf(dir: &TempDir, ess_alg: &str) {
    let cnf = format!(
        "[ tsa ]\n\
         default_tsa = tsa_config1\n\
         [ tsa_config1 ]\n\
         serial = ./tsaserial\n\
         crypto_device = builtin\n\
         signer_cert = ./tsa.pem\n\
         certs = ./issuing.pem\n\
         signer_key = ./tsa.key\n\
         signer_digest = sha256\n\
         default_policy = 1.2.3.4.1\n\
         other_policies = 1.2.3.4.5.6\n\
         digests = sha256, sha384, sha512\n\
         accuracy = secs:1, millisecs:500, microsecs:100\n\
         clock_precision_digits = 3\n\
         ordering = yes\n\
         tsa_name = yes\n\
         ess_cert_id_chain = no\n\
         ess_cert_id_alg = {ess_alg}\n"
    );
    dir.write("ts.cnf", cnf.as_bytes());
    dir.write("tsaserial", b"01\n");
}

#[test]
fn openssl_tokens_accepted_by_our_client() {
    for (alg, ess_alg) in [
        (KeyAlgorithm::EcdsaP256, "sha256"),
        (KeyAlgorithm::Rsa2048, "sha1"),
    ] {
        let tsa = build_tsa(alg);
        let dir = TempDir::new("tsa-openssl");
        write_tsa(&dir, &tsa);
        write_ts_cnf(&dir, ess_alg);
        let content = data();
        dir.write("data.bin", &content);
        for (name, extra) in [("cert", vec!["-cert"]), ("nocert", vec!["-no_nonce"])] {
            let tsq = format!("{name}.tsq");
            let req_der = query(&dir, &extra, &tsq);
            let req = TimeStampReq::from_der(&req_der).unwrap();
            let tsr = format!("{name}.tsr");
            let o = openssl(
                &dir.0,
                &[
                    "ts",
                    "-reply",
                    "-config",
                    "ts.cnf",
                    "-queryfile",
                    &tsq,
                    "-out",
                    &tsr,
                ],
            );
            assert!(o.ok, "{} {}", o.stdout, o.stderr);
            let resp = std::fs::read(dir.path(&tsr)).unwrap();
            let mut tok = parse_timestamp_response(&resp).unwrap();
            if req.cert_req {
                assert!(tok.signature_valid, "{alg} {name}");
                assert_eq!(tok.tsa_cert.as_ref(), Some(&tsa.cert));
            } else {
                assert!(!tok.signature_valid && tok.tsa_cert.is_none());
                tok.verify_with_cert(&tsa.cert);
                assert!(tok.signature_valid, "{alg} {name} with cert");
            }
            assert_eq!(
                tok.ess,
                if ess_alg == "sha1" {
                    EssBinding::V1Match
                } else {
                    EssBinding::V2Match
                }
            );
            assert!(tok.matches_request(&req), "{alg} {name}");
            assert!(tok.check_imprint(&sha256(&content)));
            assert!(!tok.check_imprint(&sha256(b"a different document")));
            assert!(!tok.check_data(b"a different document"));
            assert!(tok.tsa_cert_has_timestamping_eku());
            assert_eq!(tok.policy.to_string(), "1.2.3.4.1");
            assert!(tok.ordering);
            assert_eq!(tok.accuracy_micros, Some(1_500_100));
            assert!(
                (OffsetDateTime::now_utc() - tok.gen_time)
                    .whole_seconds()
                    .abs()
                    < 60
            );
            // token for a request with another imprint: our request check fails
            let mut other = req.clone();
            other.message_imprint = sha256(b"a different document");
            assert!(!tok.matches_request(&other));

            // the bare token (as embedded in a CMS/PDF)
            let tok_file = format!("{name}.tok");
            let o = openssl(
                &dir.0,
                &["ts", "-reply", "-in", &tsr, "-token_out", "-out", &tok_file],
            );
            assert!(o.ok, "{}", o.stderr);
            let bare = std::fs::read(dir.path(&tok_file)).unwrap();
            let t2 = parse_timestamp_token(&bare).unwrap();
            assert_eq!(t2.der, tok.der);
            assert_eq!(t2.serial_hex, tok.serial_hex);
        }
    }
}

#[test]
fn timestamp_a_cades_signature() {
    let tsa = build_tsa(KeyAlgorithm::EcdsaP256);
    let pki = &tsa.pki;
    let dir = TempDir::new("cades-t");
    write_tsa(&dir, &tsa);
    let content = data();
    dir.write("data.bin", &content);
    let digest: [u8; 32] = sha256(&content).try_into().unwrap();
    let sig = build_cades_detached(
        &digest,
        &pki.leaf,
        std::slice::from_ref(&pki.issuing),
        &pki.leaf_key,
    )
    .unwrap();
    let sig_value = signer_signature_value(&sig).unwrap();
    assert_eq!(sig_value, parse_cms(&sig).unwrap().signer_info_signature);

    let prepared = PreparedTsa::new(
        &tsa.cert,
        std::slice::from_ref(&pki.issuing),
        OID_TSA_POLICY_DEFAULT,
        Some(1000),
    )
    .unwrap();
    let req = TimeStampReq::new(OID_SHA256, &sha256(&sig_value));
    let token = prepared
        .issue_token(&req, &tsa.key, &random_serial(), OffsetDateTime::now_utc())
        .unwrap();
    let with_ts = add_unsigned_attribute(&sig, OID_AA_TIMESTAMP_TOKEN, &token).unwrap();
    let parsed = parse_cms(&with_ts).unwrap();
    assert!(parsed.signature_valid);
    assert_eq!(parsed.unsigned_attr_oids, vec![OID_AA_TIMESTAMP_TOKEN]);
    let tok = parse_timestamp_token(&parsed.unsigned_attrs[0].1[0]).unwrap();
    assert!(tok.signature_valid && tok.check_data(&parsed.signer_info_signature));

    // a second attribute keeps the first; the result is DER (SET OF sorted)
    let twice = add_unsigned_attribute(&with_ts, OID_AA_ETS_ARCHIVE_TIMESTAMP_V3, &token).unwrap();
    let p2 = parse_cms(&twice).unwrap();
    assert_eq!(p2.unsigned_attrs.len(), 2);
    assert!(p2.signature_valid);

    // OpenSSL still verifies the CAdES signature and sees the attribute
    dir.write("sig.der", &with_ts);
    let v = openssl_cms_verify(&dir.0, "sig.der", "data.bin");
    assert!(v.stderr.contains("Verification successful"), "{}", v.stderr);
    let p = openssl(
        &dir.0,
        &[
            "cms", "-cmsout", "-print", "-inform", "DER", "-in", "sig.der", "-noout",
        ],
    );
    assert!(
        p.stdout.contains("id-smime-aa-timeStampToken"),
        "{}",
        p.stdout
    );
    // and our token inside verifies with openssl ts -verify
    dir.write("tok.der", &token);
    dir.write("sigvalue.bin", &sig_value);
    let v = openssl(
        &dir.0,
        &[
            "ts",
            "-verify",
            "-token_in",
            "-in",
            "tok.der",
            "-data",
            "sigvalue.bin",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "tsa_chain.pem",
        ],
    );
    assert!(
        v.stdout.contains("Verification: OK"),
        "{} {}",
        v.stdout,
        v.stderr
    );

    // garbage in
    assert!(add_unsigned_attribute(b"\x30\x00", OID_AA_TIMESTAMP_TOKEN, &token).is_err());
    assert!(add_unsigned_attribute(&sig, OID_AA_TIMESTAMP_TOKEN, b"\x30\x05").is_err());
}

#[test]
fn fuzz_tsp_never_panics() {
    let tsa = build_tsa(KeyAlgorithm::EcdsaP256);
    let prepared = PreparedTsa::new(
        &tsa.cert,
        std::slice::from_ref(&tsa.pki.issuing),
        OID_TSA_POLICY_DEFAULT,
        Some(10),
    )
    .unwrap();
    let req = TimeStampReq::new(OID_SHA256, &sha256(b"fuzz"));
    let req_der = req.to_der();
    let resp = prepared
        .issue(&req, &tsa.key, &random_serial(), OffsetDateTime::now_utc())
        .unwrap();
    let token = parse_timestamp_response(&resp).unwrap().der;
    let digest: [u8; 32] = sha256(b"x").try_into().unwrap();
    let cms = build_cades_detached(&digest, &tsa.pki.leaf, &[], &tsa.pki.leaf_key).unwrap();
    let mut rng = XorShift(0x5eed_1234_abcd_0001);
    for (i, base) in [req_der, resp, token, cms].iter().enumerate() {
        for round in 0..400 {
            let mut m = base.clone();
            match round % 4 {
                0 => {
                    let p = rng.below(m.len());
                    m[p] ^= 1 << rng.below(8);
                }
                1 => m.truncate(rng.below(m.len())),
                2 => {
                    let p = rng.below(m.len());
                    m[p] = 0xff;
                    let q = rng.below(m.len());
                    m[q] = 0x80;
                }
                _ => {
                    let p = rng.below(m.len());
                    m.insert(p, rng.next() as u8);
                }
            }
            let _ = TimeStampReq::from_der(&m);
            let _ = parse_timestamp_response(&m);
            let _ = parse_timestamp_token(&m);
            let _ = add_unsigned_attribute(&m, OID_AA_TIMESTAMP_TOKEN, base);
            let _ = signer_signature_value(&m);
            let r = prepared.respond(&m, &tsa.key, &[1], OffsetDateTime::now_utc());
            assert!(!r.is_empty(), "case {i}");
        }
    }
}

#[test]
#[ignore]
fn print_timestamp_throughput() {
    let tsa = build_tsa(KeyAlgorithm::EcdsaP256);
    let prepared = PreparedTsa::new(
        &tsa.cert,
        std::slice::from_ref(&tsa.pki.issuing),
        OID_TSA_POLICY_DEFAULT,
        Some(1000),
    )
    .unwrap();
    let req = TimeStampReq::new(OID_SHA256, &sha256(b"bench"));
    let req_der = req.to_der();
    let n = 5000;
    let start = std::time::Instant::now();
    for i in 0..n {
        let r = prepared.respond(
            &req_der,
            &tsa.key,
            &(i as u64 + 1).to_be_bytes(),
            OffsetDateTime::now_utc(),
        );
        assert!(r.len() > 100);
    }
    let el = start.elapsed();
    println!(
        "PreparedTsa::respond (parse + issue, P-256, certReq): {:.1} us/token, {:.0} tokens/s",
        el.as_secs_f64() * 1e6 / n as f64,
        n as f64 / el.as_secs_f64()
    );
    let chain = [tsa.pki.issuing.clone()];
    let signer = TsaSigner {
        cert: &tsa.cert,
        chain: &chain,
        producer: &tsa.key,
        policy: OID_TSA_POLICY_DEFAULT,
        accuracy_millis: Some(1000),
    };
    let start = std::time::Instant::now();
    for i in 0..n {
        issue_timestamp(
            &req,
            &signer,
            &(i as u64 + 1).to_be_bytes(),
            OffsetDateTime::now_utc(),
        )
        .unwrap();
    }
    let el = start.elapsed();
    println!(
        "issue_timestamp (one-shot, P-256): {:.1} us/token, {:.0} tokens/s",
        el.as_secs_f64() * 1e6 / n as f64,
        n as f64 / el.as_secs_f64()
    );
}
