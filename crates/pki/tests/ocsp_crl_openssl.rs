//! OCSP and CRLs against OpenSSL: `openssl ocsp` (file exchange and over HTTP) gets good /
//! revoked / unknown from our responder with a verified signature; `openssl crl -verify` and
//! `openssl verify -crl_check` accept our CRLs; our client parses OpenSSL's own responses;
//! robustness.

// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]
mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use common::*;
use sahih_pki::ocsp::*;
use sahih_pki::oids::*;
use sahih_pki::*;
use time::{Duration, OffsetDateTime};

struct Setup {
    pki: Pki,
    responder_key: PrivateKey,
    responder: Certificate,
    revoked_key: PrivateKey,
    revoked: Certificate,
    unknown: Certificate,
    revoked_at: OffsetDateTime,
}

fn leaf(pki: &Pki, key: &PrivateKey) -> Certificate {
    let der = issue(
        &Profile::Official(&identity()),
        &under(
            &pki.issuing.der,
            &pki.issuing_key,
            key.spki_der_ref(),
            validity(-1, 30),
            &random_serial(),
        ),
    )
    .unwrap();
    Certificate::from_der(&der).unwrap()
}

/// `openssl ocsp` writes a request for `cert_file` (issued by issuing.pem) to `req_file`.
fn ocsp_request(dir: &TempDir, cert_file: &str, req_file: &str) -> Out {
    openssl(
        &dir.0,
        &[
            "ocsp",
            "-issuer",
            "issuing.pem",
            "-cert",
            cert_file,
            "-reqout",
            req_file,
        ],
    )
}

fn setup(alg: KeyAlgorithm) -> Setup {
    let pki = build_pki(alg);
    let responder_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let der = issue(
        &Profile::OcspResponder {
            institution: "Pemerintah Kabupaten Bogor",
        },
        &under(
            &pki.issuing.der,
            &pki.issuing_key,
            responder_key.spki_der_ref(),
            validity(-1, 7),
            &random_serial(),
        ),
    )
    .unwrap();
    let responder = Certificate::from_der(&der).unwrap();
    let revoked_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let revoked = leaf(&pki, &revoked_key);
    let unknown = leaf(
        &pki,
        &PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap(),
    );
    let revoked_at = (OffsetDateTime::now_utc() - Duration::hours(2))
        .replace_nanosecond(0)
        .unwrap();
    Setup {
        pki,
        responder_key,
        responder,
        revoked_key,
        revoked,
        unknown,
        revoked_at,
    }
}

fn write_setup(dir: &TempDir, s: &Setup) {
    write_pki(dir, &s.pki);
    dir.write(
        "revoked.pem",
        der_to_pem(&s.revoked.der, "CERTIFICATE").as_bytes(),
    );
    dir.write(
        "unknown.pem",
        der_to_pem(&s.unknown.der, "CERTIFICATE").as_bytes(),
    );
    dir.write(
        "responder.pem",
        der_to_pem(&s.responder.der, "CERTIFICATE").as_bytes(),
    );
    let both = format!(
        "{}{}",
        der_to_pem(&s.pki.root.der, "CERTIFICATE"),
        der_to_pem(&s.pki.issuing.der, "CERTIFICATE")
    );
    dir.write("root_and_issuing.pem", both.as_bytes());
}

/// The responder's database: serial hex -> status (unknown serials are absent).
fn database(s: &Setup) -> HashMap<String, CertStatusKind> {
    let mut db = HashMap::new();
    db.insert(s.pki.leaf.serial_hex(), CertStatusKind::Good);
    db.insert(
        s.revoked.serial_hex(),
        CertStatusKind::Revoked {
            at: s.revoked_at,
            reason: Some(1),
        },
    );
    db
}

/// The responder logic a server would run: parse, look up, sign (or an error response).
fn answer(
    s: &Setup,
    prepared: &PreparedOcspResponder,
    db: &HashMap<String, CertStatusKind>,
    req_der: &[u8],
) -> Vec<u8> {
    let Ok(req) = OcspRequest::from_der(req_der) else {
        return ocsp_error_response(1);
    };
    let now = OffsetDateTime::now_utc();
    let specs: Vec<SingleResponseSpec> = req
        .certs
        .iter()
        .map(|id| {
            let status = if id.matches_issuer(&s.pki.issuing) {
                db.get(&id.serial_hex())
                    .copied()
                    .unwrap_or(CertStatusKind::Unknown)
            } else {
                CertStatusKind::Unknown
            };
            SingleResponseSpec {
                cert_id: id.clone(),
                status,
                this_update: now - Duration::minutes(1),
                next_update: Some(now + Duration::hours(1)),
            }
        })
        .collect();
    prepared
        .respond(&specs, &s.responder_key, now, req.nonce.as_deref())
        .unwrap_or_else(|_| ocsp_error_response(2))
}

#[test]
fn responder_certificate_profile() {
    let s = setup(KeyAlgorithm::EcdsaP256);
    let r = &s.responder;
    assert_eq!(
        r.subject_common_name().unwrap(),
        "Pemerintah Kabupaten Bogor OCSP Responder Issuing CA 1"
    );
    assert_eq!(r.extended_key_usages(), vec![OID_KP_OCSP_SIGNING]);
    assert!(r.has_ocsp_nocheck());
    assert!(!s.pki.leaf.has_ocsp_nocheck());
    let ku = r.key_usage().unwrap();
    assert!(ku.digital_signature && !ku.non_repudiation && !ku.key_cert_sign);
    assert_eq!(r.extension_is_critical(&OID_EXT_KEY_USAGE), Some(true));
    assert!(r.is_signed_by(&s.pki.issuing));
    assert!(r.ocsp_urls().is_empty() && r.crl_urls().is_empty());
    let dir = TempDir::new("ocsp-profile");
    write_setup(&dir, &s);
    let v = openssl(
        &dir.0,
        &[
            "verify",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "issuing.pem",
            "-purpose",
            "ocsphelper",
            "responder.pem",
        ],
    );
    assert!(v.ok, "{} {}", v.stdout, v.stderr);
    let t = openssl(&dir.0, &["x509", "-in", "responder.pem", "-noout", "-text"]);
    assert!(t.stdout.contains("OCSP No Check"), "{}", t.stdout);
    assert!(t.stdout.contains("OCSP Signing"), "{}", t.stdout);
}

#[test]
fn openssl_ocsp_file_exchange() {
    for alg in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::Rsa2048] {
        let s = setup(alg);
        let dir = TempDir::new("ocsp-files");
        write_setup(&dir, &s);
        let db = database(&s);
        let prepared =
            PreparedOcspResponder::new(&s.responder, std::slice::from_ref(&s.pki.issuing)).unwrap();
        for (name, cert_file, expected) in [
            ("good", "leaf.pem", "good"),
            ("revoked", "revoked.pem", "revoked"),
            ("unknown", "unknown.pem", "unknown"),
        ] {
            let req_file = format!("{name}.req");
            let o = ocsp_request(&dir, cert_file, &req_file);
            assert!(o.ok, "{}", o.stderr);
            let req_der = std::fs::read(dir.path(&req_file)).unwrap();
            let req = OcspRequest::from_der(&req_der).unwrap();
            assert_eq!(req.to_der(), req_der, "request round trip");
            assert_eq!(req.certs.len(), 1);
            assert_eq!(req.certs[0].hash_algorithm, OID_SHA1);
            assert!(req.nonce.is_some());
            let resp = answer(&s, &prepared, &db, &req_der);
            let resp_file = format!("{name}.resp");
            dir.write(&resp_file, &resp);
            // the request file: OpenSSL checks the nonce and the signature
            let v = openssl(
                &dir.0,
                &[
                    "ocsp",
                    "-reqin",
                    &req_file,
                    "-respin",
                    &resp_file,
                    "-CAfile",
                    "root.pem",
                    "-resp_text",
                ],
            );
            let all = format!("{}{}", v.stdout, v.stderr);
            assert!(
                v.ok && all.contains("Response verify OK"),
                "{alg} {name}: {all}"
            );
            assert!(
                !all.contains("WARNING") && !all.contains("rror"),
                "{alg} {name}: {all}"
            );
            assert!(
                all.contains(&format!("Cert Status: {expected}")),
                "{alg} {name}: {all}"
            );
            assert!(all.contains("OCSP Nonce"), "{all}");
            // the certificate files: OpenSSL matches the CertID and prints the status
            let v = openssl(
                &dir.0,
                &[
                    "ocsp",
                    "-respin",
                    &resp_file,
                    "-issuer",
                    "issuing.pem",
                    "-cert",
                    cert_file,
                    "-CAfile",
                    "root.pem",
                    "-no_nonce",
                ],
            );
            let all = format!("{}{}", v.stdout, v.stderr);
            assert!(
                v.ok && all.contains("Response verify OK"),
                "{alg} {name}: {all}"
            );
            assert!(
                all.contains(&format!("{cert_file}: {expected}")),
                "{alg} {name}: {all}"
            );
            assert!(
                all.contains("This Update:") && all.contains("Next Update:"),
                "{all}"
            );
            if expected == "revoked" {
                assert!(all.contains("Reason: keyCompromise"), "{all}");
                let when = format!(
                    "Revocation Time: {} {:>2} {:02}:{:02}:{:02} {} GMT",
                    [
                        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                        "Nov", "Dec"
                    ][u8::from(s.revoked_at.month()) as usize - 1],
                    s.revoked_at.day(),
                    s.revoked_at.hour(),
                    s.revoked_at.minute(),
                    s.revoked_at.second(),
                    s.revoked_at.year()
                );
                assert!(all.contains(&when), "{when}\n{all}");
            }

            // our client
            let p = parse_ocsp_response(&resp).unwrap();
            assert_eq!(p.status, 0);
            assert!(p.signature_valid);
            assert_eq!(p.responder_cert.as_ref(), Some(&s.responder));
            assert_eq!(p.certificates.len(), 2);
            assert_eq!(p.nonce, req.nonce);
            assert!(p.responder_authorised_for(&s.pki.issuing));
            assert!(!p.responder_authorised_for(&s.pki.root));
            let cert = match name {
                "good" => &s.pki.leaf,
                "revoked" => &s.revoked,
                _ => &s.unknown,
            };
            let (st, this, next) = p.status_for(cert, &s.pki.issuing).unwrap();
            assert!(this < next.unwrap());
            match (name, st) {
                ("good", CertStatusKind::Good) | ("unknown", CertStatusKind::Unknown) => {}
                ("revoked", CertStatusKind::Revoked { at, reason }) => {
                    assert_eq!(at, s.revoked_at);
                    assert_eq!(reason, Some(1));
                }
                other => panic!("{other:?}"),
            }
            assert!(p.status_for(&s.pki.issuing, &s.pki.root).is_none());
        }

        // a response without a nonce for a request with one: OpenSSL warns
        let req_der = std::fs::read(dir.path("good.req")).unwrap();
        let req = OcspRequest::from_der(&req_der).unwrap();
        let now = OffsetDateTime::now_utc();
        let spec = SingleResponseSpec {
            cert_id: req.certs[0].clone(),
            status: CertStatusKind::Good,
            this_update: now,
            next_update: None,
        };
        let resp = build_ocsp_response(
            std::slice::from_ref(&spec),
            &s.responder,
            &s.responder_key,
            now,
            None,
            std::slice::from_ref(&s.pki.issuing),
        )
        .unwrap();
        dir.write("nononce.resp", &resp);
        let v = openssl(
            &dir.0,
            &[
                "ocsp",
                "-reqin",
                "good.req",
                "-respin",
                "nononce.resp",
                "-CAfile",
                "root.pem",
            ],
        );
        let all = format!("{}{}", v.stdout, v.stderr);
        assert!(all.contains("WARNING: no nonce in response"), "{all}");

        // signed by a key that does not match the responder certificate: OpenSSL refuses
        let bad = build_ocsp_response(
            std::slice::from_ref(&spec),
            &s.responder,
            &s.revoked_key,
            now,
            req.nonce.as_deref(),
            std::slice::from_ref(&s.pki.issuing),
        )
        .unwrap();
        dir.write("bad.resp", &bad);
        let v = openssl(
            &dir.0,
            &[
                "ocsp", "-reqin", "good.req", "-respin", "bad.resp", "-CAfile", "root.pem",
            ],
        );
        let all = format!("{}{}", v.stdout, v.stderr);
        assert!(!all.contains("Response verify OK"), "{all}");
        let p = parse_ocsp_response(&bad).unwrap();
        assert!(!p.signature_valid && !p.responder_authorised_for(&s.pki.issuing));

        // a response signed by the CA itself, without certificates; verify_with_cert
        let ca_signed = PreparedOcspResponder::new(&s.pki.issuing, &[])
            .unwrap()
            .respond(std::slice::from_ref(&spec), &s.pki.issuing_key, now, None)
            .unwrap();
        let mut p = parse_ocsp_response(&ca_signed).unwrap();
        assert_eq!(p.certificates.len(), 1); // build always includes the responder cert
        assert!(p.signature_valid && p.responder_authorised_for(&s.pki.issuing));
        // responder not among the included certs: supply it
        let resp = build_ocsp_response(
            std::slice::from_ref(&spec),
            &s.responder,
            &s.responder_key,
            now,
            None,
            &[],
        )
        .unwrap();
        let mut stripped = parse_ocsp_response(&resp).unwrap();
        stripped.responder_cert = None;
        stripped.signature_valid = false;
        stripped.verify_with_cert(&s.pki.leaf);
        assert!(!stripped.signature_valid);
        stripped.verify_with_cert(&s.responder);
        assert!(stripped.signature_valid && stripped.responder_authorised_for(&s.pki.issuing));
        p.verify_with_cert(&s.pki.root); // wrong one: nothing changes
        assert_eq!(p.responder_cert.as_ref(), Some(&s.pki.issuing));

        // a responder certificate without OCSPSigning (the leaf) is not authorised
        let leaf_signed = build_ocsp_response(
            std::slice::from_ref(&spec),
            &s.pki.leaf,
            &s.pki.leaf_key,
            now,
            None,
            &[],
        )
        .unwrap();
        let p = parse_ocsp_response(&leaf_signed).unwrap();
        assert!(p.signature_valid && !p.responder_authorised_for(&s.pki.issuing));
    }
}

/// Serve `n` OCSP POST requests on `listener`.
fn serve(
    listener: TcpListener,
    n: usize,
    handler: impl Fn(&[u8]) -> Vec<u8> + Send + 'static,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for _ in 0..n {
            let (mut stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut len = 0usize;
            let mut line = String::new();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                let l = line.trim_end();
                if l.is_empty() {
                    break;
                }
                if let Some((k, v)) = l.split_once(':')
                    && k.eq_ignore_ascii_case("content-length")
                {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0u8; len];
            reader.read_exact(&mut body).unwrap();
            let resp = handler(&body);
            let head = format!(
                "HTTP/1.0 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                resp.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(&resp).unwrap();
        }
    })
}

#[test]
fn openssl_ocsp_over_http() {
    let s = setup(KeyAlgorithm::EcdsaP256);
    let dir = TempDir::new("ocsp-http");
    write_setup(&dir, &s);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/ocsp");
    let db = database(&s);
    let prepared = PreparedOcspResponder::new(&s.responder, &[]).unwrap();
    let s2 = clone_setup(&s);
    let handle = serve(listener, 2, move |body| answer(&s2, &prepared, &db, body));
    // three certificates in one request
    let v = openssl(
        &dir.0,
        &[
            "ocsp",
            "-url",
            &url,
            "-issuer",
            "issuing.pem",
            "-cert",
            "leaf.pem",
            "-cert",
            "revoked.pem",
            "-cert",
            "unknown.pem",
            "-CAfile",
            "root.pem",
            "-verify_other",
            "issuing.pem",
        ],
    );
    let all = format!("{}{}", v.stdout, v.stderr);
    assert!(all.contains("Response verify OK"), "{all}");
    assert!(all.contains("leaf.pem: good"), "{all}");
    assert!(all.contains("revoked.pem: revoked"), "{all}");
    assert!(all.contains("Reason: keyCompromise"), "{all}");
    assert!(all.contains("unknown.pem: unknown"), "{all}");
    // SHA-256 CertIDs
    let v = openssl(
        &dir.0,
        &[
            "ocsp",
            "-url",
            &url,
            "-sha256",
            "-issuer",
            "issuing.pem",
            "-cert",
            "revoked.pem",
            "-CAfile",
            "root.pem",
            "-verify_other",
            "issuing.pem",
        ],
    );
    let all = format!("{}{}", v.stdout, v.stderr);
    assert!(all.contains("Response verify OK"), "{all}");
    assert!(all.contains("revoked.pem: revoked"), "{all}");
    handle.join().unwrap();
}

fn clone_key(k: &PrivateKey) -> PrivateKey {
    PrivateKey::from_pkcs8_der(k.pkcs8_der()).unwrap()
}

fn clone_setup(s: &Setup) -> Setup {
    let p = &s.pki;
    let pki = Pki {
        root_key: clone_key(&p.root_key),
        root: p.root.clone(),
        issuing_key: clone_key(&p.issuing_key),
        issuing: p.issuing.clone(),
        leaf_key: clone_key(&p.leaf_key),
        leaf: p.leaf.clone(),
    };
    Setup {
        pki,
        responder_key: clone_key(&s.responder_key),
        responder: s.responder.clone(),
        revoked_key: clone_key(&s.revoked_key),
        revoked: s.revoked.clone(),
        unknown: s.unknown.clone(),
        revoked_at: s.revoked_at,
    }
}

#[test]
fn openssl_responder_parsed_by_our_client() {
    // OpenSSL as responder (index.txt database), our client parses and checks.
    let s = setup(KeyAlgorithm::Rsa2048);
    let dir = TempDir::new("ocsp-openssl-resp");
    write_setup(&dir, &s);
    dir.write(
        "responder.key",
        der_to_pem(s.responder_key.pkcs8_der(), "PRIVATE KEY").as_bytes(),
    );
    let exp = |c: &Certificate| {
        let t = c.not_after();
        format!(
            "{:02}{:02}{:02}{:02}{:02}{:02}Z",
            t.year() % 100,
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    };
    let rev = s.revoked_at;
    let rev_s = format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}Z",
        rev.year() % 100,
        u8::from(rev.month()),
        rev.day(),
        rev.hour(),
        rev.minute(),
        rev.second()
    );
    let index = format!(
        "V\t{}\t\t{}\tunknown\t/CN=leaf\nR\t{}\t{},keyCompromise\t{}\tunknown\t/CN=revoked\n",
        exp(&s.pki.leaf),
        s.pki.leaf.serial_hex().to_uppercase(),
        exp(&s.revoked),
        rev_s,
        s.revoked.serial_hex().to_uppercase()
    );
    dir.write("index.txt", index.as_bytes());
    for (name, cert_file) in [("good", "leaf.pem"), ("revoked", "revoked.pem")] {
        let req_file = format!("{name}.req");
        let o = ocsp_request(&dir, cert_file, &req_file);
        assert!(o.ok, "{}", o.stderr);
        let resp_file = format!("{name}.resp");
        let o = openssl(
            &dir.0,
            &[
                "ocsp",
                "-index",
                "index.txt",
                "-rsigner",
                "responder.pem",
                "-rkey",
                "responder.key",
                "-CA",
                "issuing.pem",
                "-reqin",
                &req_file,
                "-respout",
                &resp_file,
                "-nmin",
                "30",
            ],
        );
        assert!(o.ok, "{} {}", o.stdout, o.stderr);
        let resp = std::fs::read(dir.path(&resp_file)).unwrap();
        let req = OcspRequest::from_der(&std::fs::read(dir.path(&req_file)).unwrap()).unwrap();
        let p = parse_ocsp_response(&resp).unwrap();
        assert!(p.signature_valid, "{name}");
        assert!(p.responder_authorised_for(&s.pki.issuing));
        assert_eq!(p.nonce, req.nonce);
        let cert = if name == "good" {
            &s.pki.leaf
        } else {
            &s.revoked
        };
        let (st, _, next) = p.status_for(cert, &s.pki.issuing).unwrap();
        assert!(next.is_some());
        match st {
            CertStatusKind::Good => assert_eq!(name, "good"),
            CertStatusKind::Revoked { at, reason } => {
                assert_eq!(name, "revoked");
                assert_eq!(at, rev);
                assert_eq!(reason, Some(1));
            }
            CertStatusKind::Unknown => panic!("unknown"),
        }
    }
}

#[test]
fn error_responses_and_request_round_trip() {
    let s = setup(KeyAlgorithm::EcdsaP256);
    for st in [1u8, 2, 3, 5, 6] {
        let e = ocsp_error_response(st);
        let p = parse_ocsp_response(&e).unwrap();
        assert_eq!(p.status, st);
        assert!(p.responses.is_empty() && !p.signature_valid);
        assert!(!p.responder_authorised_for(&s.pki.issuing));
    }
    let dir = TempDir::new("ocsp-err");
    dir.write("e.resp", &ocsp_error_response(6));
    let v = openssl(
        &dir.0,
        &["ocsp", "-respin", "e.resp", "-resp_text", "-noverify"],
    );
    let all = format!("{}{}", v.stdout, v.stderr);
    assert!(all.contains("unauthorized"), "{all}");

    let ids = vec![
        CertId::for_cert(&s.pki.leaf, &s.pki.issuing, OID_SHA1).unwrap(),
        CertId::for_cert(&s.revoked, &s.pki.issuing, OID_SHA256).unwrap(),
    ];
    assert!(ids[0].matches(&s.pki.leaf, &s.pki.issuing));
    assert!(!ids[0].matches(&s.revoked, &s.pki.issuing));
    assert!(!ids[0].matches_issuer(&s.pki.root));
    assert!(CertId::for_cert(&s.pki.leaf, &s.pki.root, OID_SHA1).is_err());
    let req = OcspRequest {
        certs: ids.clone(),
        nonce: Some(vec![7; 16]),
    };
    let der = req.to_der();
    assert_eq!(OcspRequest::from_der(&der).unwrap(), req);
    dir.write("ours.req", &der);
    let v = openssl(&dir.0, &["ocsp", "-reqin", "ours.req", "-req_text"]);
    assert!(v.stdout.contains("Hash Algorithm: sha256"), "{}", v.stdout);
    assert!(v.stdout.contains("OCSP Nonce"), "{}", v.stdout);
    // GET form (RFC 6960 A.1)
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
    let escaped = b64
        .replace('%', "%25")
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    assert_eq!(decode_get_path(&escaped).unwrap(), der);
    assert_eq!(decode_get_path(&b64).unwrap(), der);
    let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&der);
    assert_eq!(decode_get_path(&url_safe).unwrap(), der);
    assert!(decode_get_path("%zz").is_err());
    assert!(decode_get_path("%2").is_err());
    assert!(decode_get_path("!!!").is_err());
    let no_nonce = OcspRequest {
        certs: ids,
        nonce: None,
    };
    assert_eq!(OcspRequest::from_der(&no_nonce.to_der()).unwrap(), no_nonce);
    assert!(
        OcspRequest::from_der(
            &OcspRequest {
                certs: vec![],
                nonce: None
            }
            .to_der()
        )
        .is_err()
    );
    // multi-response round trip
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    let specs = vec![
        SingleResponseSpec {
            cert_id: req.certs[0].clone(),
            status: CertStatusKind::Good,
            this_update: now,
            next_update: Some(now + Duration::days(1)),
        },
        SingleResponseSpec {
            cert_id: req.certs[1].clone(),
            status: CertStatusKind::Revoked {
                at: now - Duration::days(3),
                reason: None,
            },
            this_update: now,
            next_update: None,
        },
    ];
    let resp = build_ocsp_response(
        &specs,
        &s.responder,
        &s.responder_key,
        now,
        Some(&[7; 16]),
        &[],
    )
    .unwrap();
    let p = parse_ocsp_response(&resp).unwrap();
    assert_eq!(p.produced_at, now);
    assert_eq!(p.responses.len(), 2);
    assert_eq!(p.responses[0].0, specs[0].cert_id);
    assert_eq!(p.responses[1].1, specs[1].status);
    assert_eq!(p.responses[1].3, None);
    assert_eq!(p.nonce, Some(vec![7; 16]));
    assert_eq!(
        p.status_for(&s.revoked, &s.pki.issuing).unwrap().0,
        specs[1].status
    );
    assert!(build_ocsp_response(&[], &s.responder, &s.responder_key, now, None, &[]).is_err());
}

// =============================================================================================
// CRL
// =============================================================================================

#[test]
fn crl_verifies_with_openssl() {
    for alg in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::Rsa2048] {
        let s = setup(alg);
        let dir = TempDir::new("crl");
        write_setup(&dir, &s);
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        let other_serial = [0x00u8, 0x9f, 0x01, 0x02];
        let revoked = vec![
            RevokedCert {
                serial: s.revoked.serial_bytes(),
                revoked_at: s.revoked_at,
                reason: Some(crl_reason_from_name("keyCompromise").unwrap()),
            },
            RevokedCert {
                serial: other_serial.to_vec(),
                revoked_at: now - Duration::days(10),
                reason: None,
            },
            RevokedCert {
                serial: vec![0x05],
                revoked_at: now - Duration::days(1),
                reason: Some(0), // unspecified: no extension written
            },
        ];
        let der = build_crl(
            &s.pki.issuing,
            &s.pki.issuing_key,
            now - Duration::minutes(1),
            now + Duration::days(7),
            42,
            &revoked,
        )
        .unwrap();
        dir.write("crl.der", &der);
        dir.write("crl.pem", der_to_pem(&der, "X509 CRL").as_bytes());
        let v = openssl(
            &dir.0,
            &[
                "crl",
                "-in",
                "crl.der",
                "-inform",
                "DER",
                "-CAfile",
                "root_and_issuing.pem",
                "-verify",
                "-noout",
            ],
        );
        assert!(
            v.ok && format!("{}{}", v.stdout, v.stderr).contains("verify OK"),
            "{alg}: {} {}",
            v.stdout,
            v.stderr
        );
        let t = openssl(
            &dir.0,
            &["crl", "-in", "crl.der", "-inform", "DER", "-noout", "-text"],
        );
        assert!(
            t.stdout.contains("X509v3 CRL Number: \n                42"),
            "{}",
            t.stdout
        );
        assert!(t.stdout.contains("Key Compromise"), "{}", t.stdout);
        assert!(t.stdout.contains("Version 2"), "{}", t.stdout);
        assert!(
            t.stdout.contains("X509v3 Authority Key Identifier"),
            "{}",
            t.stdout
        );

        let good = openssl(
            &dir.0,
            &[
                "verify",
                "-crl_check",
                "-CAfile",
                "root_and_issuing.pem",
                "-CRLfile",
                "crl.pem",
                "leaf.pem",
            ],
        );
        assert!(
            good.ok && good.stdout.contains("leaf.pem: OK"),
            "{alg}: {} {}",
            good.stdout,
            good.stderr
        );
        let bad = openssl(
            &dir.0,
            &[
                "verify",
                "-crl_check",
                "-CAfile",
                "root_and_issuing.pem",
                "-CRLfile",
                "crl.pem",
                "revoked.pem",
            ],
        );
        let all = format!("{}{}", bad.stdout, bad.stderr);
        assert!(
            !bad.ok && all.contains("certificate revoked"),
            "{alg}: {all}"
        );

        // our parser
        let p = parse_crl(&der).unwrap();
        assert!(p.verify_signature(&s.pki.issuing));
        assert!(!p.verify_signature(&s.pki.root));
        assert_eq!(p.crl_number, Some(42));
        assert_eq!(p.issuer_der, s.pki.issuing.subject_der());
        assert_eq!(p.authority_key_id, s.pki.issuing.subject_key_id());
        assert_eq!(p.this_update, now - Duration::minutes(1));
        assert_eq!(p.next_update, Some(now + Duration::days(7)));
        assert!(p.is_current_at(now));
        assert!(!p.is_current_at(now + Duration::days(8)));
        assert!(!p.has_unhandled_critical_extension);
        assert_eq!(p.revoked.len(), 3);
        let e = p.is_revoked(&s.revoked.serial_bytes()).unwrap();
        assert_eq!(e.revoked_at, s.revoked_at);
        assert_eq!(e.reason, Some(1));
        assert!(p.is_revoked(&s.pki.leaf.serial_bytes()).is_none());
        assert!(p.is_revoked(&[0x9f, 0x01, 0x02]).is_some());
        assert_eq!(p.is_revoked(&[0x05]).unwrap().reason, None);
        // tampered: signature fails
        let mut t = der.clone();
        let pos = t.len() / 3;
        t[pos] ^= 0x01;
        if let Ok(pt) = parse_crl(&t) {
            assert!(!pt.verify_signature(&s.pki.issuing));
        }

        // an empty CRL
        let empty = build_crl(
            &s.pki.issuing,
            &s.pki.issuing_key,
            now,
            now + Duration::days(1),
            43,
            &[],
        )
        .unwrap();
        let p = parse_crl(&empty).unwrap();
        assert!(p.revoked.is_empty() && p.verify_signature(&s.pki.issuing));
        dir.write("empty.crl", &empty);
        let v = openssl(
            &dir.0,
            &[
                "crl",
                "-in",
                "empty.crl",
                "-inform",
                "DER",
                "-CAfile",
                "root_and_issuing.pem",
                "-verify",
                "-noout",
            ],
        );
        assert!(format!("{}{}", v.stdout, v.stderr).contains("verify OK"));
    }
}

#[test]
fn crl_guards_and_openssl_crls() {
    let s = setup(KeyAlgorithm::EcdsaP256);
    let now = OffsetDateTime::now_utc();
    // a leaf cannot sign CRLs; the wrong key is detected; bad times and reasons refused
    assert!(
        build_crl(
            &s.pki.leaf,
            &s.pki.leaf_key,
            now,
            now + Duration::days(1),
            1,
            &[]
        )
        .is_err()
    );
    assert!(
        build_crl(
            &s.pki.issuing,
            &s.pki.root_key,
            now,
            now + Duration::days(1),
            1,
            &[]
        )
        .is_err()
    );
    assert!(build_crl(&s.pki.issuing, &s.pki.issuing_key, now, now, 1, &[]).is_err());
    for bad in [7u8, 11, 255] {
        let r = RevokedCert {
            serial: vec![1],
            revoked_at: now,
            reason: Some(bad),
        };
        assert!(
            build_crl(
                &s.pki.issuing,
                &s.pki.issuing_key,
                now,
                now + Duration::days(1),
                1,
                &[r]
            )
            .is_err()
        );
    }
    let r = RevokedCert {
        serial: vec![],
        revoked_at: now,
        reason: None,
    };
    assert!(
        build_crl(
            &s.pki.issuing,
            &s.pki.issuing_key,
            now,
            now + Duration::days(1),
            1,
            &[r]
        )
        .is_err()
    );

    // reason names
    for (name, code) in [
        ("unspecified", 0),
        ("keyCompromise", 1),
        ("cACompromise", 2),
        ("affiliationChanged", 3),
        ("superseded", 4),
        ("cessationOfOperation", 5),
        ("certificateHold", 6),
        ("privilegeWithdrawn", 9),
    ] {
        assert_eq!(crl_reason_from_name(name), Some(code));
        assert_eq!(crl_reason_name(code), name);
    }
    assert_eq!(crl_reason_from_name("key-compromise"), Some(1));
    assert_eq!(crl_reason_from_name("KEYCOMPROMISE"), Some(1));
    assert_eq!(crl_reason_from_name("stolen"), None);
    assert_eq!(crl_reason_name(7), "unknown");

    // a CRL made by `openssl ca -gencrl`
    let dir = TempDir::new("crl-openssl");
    write_setup(&dir, &s);
    let rev = s.revoked_at;
    let index = format!(
        "R\t{}\t{:02}{:02}{:02}{:02}{:02}{:02}Z,superseded\t{}\tunknown\t/CN=revoked\n",
        "351231000000Z",
        rev.year() % 100,
        u8::from(rev.month()),
        rev.day(),
        rev.hour(),
        rev.minute(),
        rev.second(),
        s.revoked.serial_hex().to_uppercase()
    );
    dir.write("index.txt", index.as_bytes());
    dir.write("crlnumber", b"1000\n");
    dir.write(
        "ca.cnf",
        b"[ ca ]\ndefault_ca = c\n[ c ]\ndatabase = ./index.txt\ncrlnumber = ./crlnumber\n\
          certificate = ./issuing.pem\nprivate_key = ./issuing.key\ndefault_md = sha256\n\
          default_crl_days = 3\ncrl_extensions = crl_ext\n[ crl_ext ]\n\
          authorityKeyIdentifier = keyid:always\n",
    );
    let o = openssl(
        &dir.0,
        &["ca", "-gencrl", "-config", "ca.cnf", "-out", "o.crl.pem"],
    );
    assert!(o.ok, "{} {}", o.stdout, o.stderr);
    let o = openssl(
        &dir.0,
        &[
            "crl",
            "-in",
            "o.crl.pem",
            "-outform",
            "DER",
            "-out",
            "o.crl",
        ],
    );
    assert!(o.ok, "{}", o.stderr);
    let p = parse_crl(&std::fs::read(dir.path("o.crl")).unwrap()).unwrap();
    assert!(p.verify_signature(&s.pki.issuing));
    assert_eq!(p.crl_number, Some(0x1000));
    assert_eq!(p.revoked.len(), 1);
    let e = p.is_revoked(&s.revoked.serial_bytes()).unwrap();
    assert_eq!(e.reason, Some(4));
    assert_eq!(e.revoked_at, rev);
    assert!(p.next_update.is_some());
}

#[test]
fn fuzz_ocsp_crl_never_panic() {
    let s = setup(KeyAlgorithm::EcdsaP256);
    let now = OffsetDateTime::now_utc();
    let req = OcspRequest {
        certs: vec![
            CertId::for_cert(&s.pki.leaf, &s.pki.issuing, OID_SHA1).unwrap(),
            CertId::for_cert(&s.revoked, &s.pki.issuing, OID_SHA256).unwrap(),
        ],
        nonce: Some(vec![1; 16]),
    };
    let db = database(&s);
    let prepared =
        PreparedOcspResponder::new(&s.responder, std::slice::from_ref(&s.pki.issuing)).unwrap();
    let resp = answer(&s, &prepared, &db, &req.to_der());
    let crl = build_crl(
        &s.pki.issuing,
        &s.pki.issuing_key,
        now,
        now + Duration::days(1),
        7,
        &[RevokedCert {
            serial: s.revoked.serial_bytes(),
            revoked_at: now,
            reason: Some(1),
        }],
    )
    .unwrap();
    let mut rng = XorShift(0x0c59_cafe_f00d_0002);
    for base in [req.to_der(), resp, crl] {
        for round in 0..500 {
            let mut m = base.clone();
            match round % 4 {
                0 => {
                    let p = rng.below(m.len());
                    m[p] ^= 1 << rng.below(8);
                }
                1 => m.truncate(rng.below(m.len())),
                2 => {
                    let p = rng.below(m.len());
                    m[p] = 0x84;
                }
                _ => {
                    let p = rng.below(m.len());
                    m.insert(p, rng.next() as u8);
                }
            }
            let _ = OcspRequest::from_der(&m);
            let _ = answer(&s, &prepared, &db, &m);
            if let Ok(p) = parse_ocsp_response(&m) {
                let _ = p.status_for(&s.pki.leaf, &s.pki.issuing);
                let _ = p.responder_authorised_for(&s.pki.issuing);
            }
            if let Ok(c) = parse_crl(&m) {
                let _ = c.verify_signature(&s.pki.issuing);
                let _ = c.is_revoked(&[1, 2, 3]);
            }
        }
    }
}

#[test]
#[ignore]
fn print_ocsp_and_crl_throughput() {
    let s = setup(KeyAlgorithm::EcdsaP256);
    let db = database(&s);
    let prepared =
        PreparedOcspResponder::new(&s.responder, std::slice::from_ref(&s.pki.issuing)).unwrap();
    let req = OcspRequest {
        certs: vec![CertId::for_cert(&s.pki.leaf, &s.pki.issuing, OID_SHA1).unwrap()],
        nonce: Some(vec![9; 16]),
    }
    .to_der();
    let n = 5000;
    let start = std::time::Instant::now();
    for _ in 0..n {
        let r = answer(&s, &prepared, &db, &req);
        assert!(r.len() > 100);
    }
    let el = start.elapsed();
    println!(
        "OCSP parse + lookup + respond (P-256 responder): {:.1} us/response, {:.0} responses/s",
        el.as_secs_f64() * 1e6 / n as f64,
        n as f64 / el.as_secs_f64()
    );
    let spec = SingleResponseSpec {
        cert_id: OcspRequest::from_der(&req).unwrap().certs[0].clone(),
        status: CertStatusKind::Good,
        this_update: OffsetDateTime::now_utc(),
        next_update: None,
    };
    let start = std::time::Instant::now();
    for _ in 0..n {
        build_ocsp_response(
            std::slice::from_ref(&spec),
            &s.responder,
            &s.responder_key,
            OffsetDateTime::now_utc(),
            None,
            &[],
        )
        .unwrap();
    }
    let el = start.elapsed();
    println!(
        "build_ocsp_response (one-shot): {:.1} us/response, {:.0} responses/s",
        el.as_secs_f64() * 1e6 / n as f64,
        n as f64 / el.as_secs_f64()
    );
    let now = OffsetDateTime::now_utc();
    let revoked: Vec<RevokedCert> = (0..10_000u32)
        .map(|i| RevokedCert {
            serial: (i + 1).to_be_bytes().to_vec(),
            revoked_at: now,
            reason: Some(4),
        })
        .collect();
    let start = std::time::Instant::now();
    let crl = build_crl(
        &s.pki.issuing,
        &s.pki.issuing_key,
        now,
        now + Duration::days(1),
        1,
        &revoked,
    )
    .unwrap();
    let built = start.elapsed();
    let start = std::time::Instant::now();
    let p = parse_crl(&crl).unwrap();
    let parsed = start.elapsed();
    println!(
        "CRL with 10,000 entries ({} bytes): build {:.1} ms, parse {:.1} ms",
        crl.len(),
        built.as_secs_f64() * 1e3,
        parsed.as_secs_f64() * 1e3
    );
    assert!(p.is_revoked(&[0, 0, 0x27, 0x10]).is_some());
}
