// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use sahih_pki::oids::*;
use sahih_pki::*;

#[test]
fn chain_verifies_with_openssl_and_has_the_profile() {
    for alg in KeyAlgorithm::ALL {
        let pki = build_pki(alg);
        let dir = TempDir::new("certs");
        write_pki(&dir, &pki);
        let v = openssl(
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
        assert!(
            v.ok && v.stdout.contains("leaf.pem: OK"),
            "{alg}: {} {}",
            v.stdout,
            v.stderr
        );
        let v = openssl(&dir.0, &["verify", "-CAfile", "root.pem", "issuing.pem"]);
        assert!(v.ok, "{}", v.stderr);

        // official certificate
        let t = openssl(
            &dir.0,
            &[
                "x509", "-in", "leaf.pem", "-noout", "-text", "-nameopt", "RFC2253",
            ],
        );
        assert!(t.ok, "{}", t.stderr);
        let text = t.stdout;
        assert!(
            text.contains(
                "X509v3 Key Usage: critical\n                Digital Signature, Non Repudiation\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("X509v3 Basic Constraints: critical\n                CA:FALSE"),
            "{text}"
        );
        assert!(text.contains("X509v3 Subject Key Identifier"), "{text}");
        assert!(text.contains("X509v3 Authority Key Identifier"), "{text}");
        assert!(
            text.contains("email:siti.rahmawati@bogorkab.go.id"),
            "{text}"
        );
        assert!(!text.contains("Extended Key Usage"), "{text}");
        assert!(!text.contains("emailAddress"), "{text}");
        assert!(
            text.contains("serialNumber=PNOID-198501012010011001"),
            "{text}"
        );
        assert!(
            text.contains("title=Kepala Dinas Komunikasi dan Informatika"),
            "{text}"
        );
        assert!(text.contains("C=ID"), "{text}");
        // NIK never appears in the certificate
        assert!(!pki.leaf.der.windows(16).any(|w| w == b"3201014501900001"));
        // UTF8String for names, PrintableString for C and serialNumber
        let a = openssl(&dir.0, &["asn1parse", "-in", "leaf.pem"]);
        assert!(
            a.stdout
                .contains("UTF8STRING        :Dr. Siti Rahmawati, S.Kom., M.T."),
            "{}",
            a.stdout
        );
        assert!(
            a.stdout
                .contains("PRINTABLESTRING   :PNOID-198501012010011001"),
            "{}",
            a.stdout
        );

        // issuing CA
        let t = openssl(&dir.0, &["x509", "-in", "issuing.pem", "-noout", "-text"]);
        assert!(t.stdout.contains("CA:TRUE, pathlen:0"), "{}", t.stdout);
        assert!(
            t.stdout.contains(
                "X509v3 Key Usage: critical\n                Certificate Sign, CRL Sign\n"
            ),
            "{}",
            t.stdout
        );
        assert!(t.stdout.contains("Issuing CA 1"), "{}", t.stdout);
        // root
        let t = openssl(&dir.0, &["x509", "-in", "root.pem", "-noout", "-text"]);
        assert!(
            t.stdout
                .contains("X509v3 Basic Constraints: critical\n                CA:TRUE\n"),
            "{}",
            t.stdout
        );
        assert!(
            t.stdout.contains("Pemerintah Kabupaten Bogor Root CA"),
            "{}",
            t.stdout
        );

        // our accessors agree
        let leaf = &pki.leaf;
        assert_eq!(
            leaf.subject_common_name().as_deref(),
            Some("Dr. Siti Rahmawati, S.Kom., M.T.")
        );
        assert_eq!(
            leaf.subject_attribute(OID_SERIAL_NUMBER).as_deref(),
            Some("PNOID-198501012010011001")
        );
        assert_eq!(
            leaf.subject_attribute(OID_TITLE).as_deref(),
            Some("Kepala Dinas Komunikasi dan Informatika")
        );
        assert_eq!(
            leaf.subject_attribute(OID_OU).as_deref(),
            Some("Dinas Komunikasi dan Informatika")
        );
        assert_eq!(
            leaf.subject_attribute(OID_O).as_deref(),
            Some("Pemerintah Kabupaten Bogor")
        );
        assert_eq!(
            leaf.subject_display(),
            "CN=Dr. Siti Rahmawati\\, S.Kom.\\, M.T., serialNumber=PNOID-198501012010011001, title=Kepala Dinas Komunikasi dan Informatika, OU=Dinas Komunikasi dan Informatika, O=Pemerintah Kabupaten Bogor, C=ID"
        );
        assert_eq!(
            leaf.issuer_display(),
            "CN=Pemerintah Kabupaten Bogor Issuing CA 1, O=Pemerintah Kabupaten Bogor, C=ID"
        );
        assert!(!leaf.is_ca());
        assert!(pki.issuing.is_ca());
        assert_eq!(pki.issuing.path_len(), Some(0));
        assert_eq!(pki.root.path_len(), None);
        let ku = leaf.key_usage().unwrap();
        assert!(ku.digital_signature && ku.non_repudiation && !ku.key_cert_sign);
        assert!(pki.root.key_usage().unwrap().key_cert_sign);
        assert!(!leaf.has_extended_key_usage());
        assert!(leaf.extended_key_usages().is_empty());
        assert_eq!(leaf.authority_key_id(), pki.issuing.subject_key_id());
        assert_eq!(pki.issuing.authority_key_id(), pki.root.subject_key_id());
        assert!(leaf.subject_key_id().is_some());
        assert_eq!(leaf.spki_der(), pki.leaf_key.public_key_spki_der());
        assert_eq!(
            leaf.subject_alt_emails(),
            vec!["siti.rahmawati@bogorkab.go.id".to_string()]
        );
        assert!(leaf.is_signed_by(&pki.issuing));
        assert!(!leaf.is_signed_by(&pki.root));
        assert!(pki.root.is_signed_by(&pki.root));
        assert!(pki.root.is_self_issued());
        assert!(!leaf.is_self_issued());
        assert_eq!(leaf.issuer_der(), pki.issuing.subject_der());
        // serial: openssl prints it in hex
        let s = openssl(&dir.0, &["x509", "-in", "leaf.pem", "-noout", "-serial"]);
        assert_eq!(
            s.stdout.trim().to_lowercase(),
            format!("serial={}", leaf.serial_hex())
        );
        let f = openssl(
            &dir.0,
            &[
                "x509",
                "-in",
                "leaf.pem",
                "-noout",
                "-fingerprint",
                "-sha256",
            ],
        );
        let fp = f
            .stdout
            .trim()
            .rsplit('=')
            .next()
            .unwrap()
            .replace(':', "")
            .to_lowercase();
        assert_eq!(fp, hex::encode(leaf.sha256_fingerprint()));
        let d = openssl(
            &dir.0,
            &[
                "x509", "-in", "leaf.pem", "-noout", "-enddate", "-dateopt", "iso_8601",
            ],
        );
        assert!(d.ok, "{}", d.stderr);
        let end = leaf.not_after();
        assert!(
            d.stdout.contains(&format!(
                "{:04}-{:02}-{:02}",
                end.year(),
                u8::from(end.month()),
                end.day()
            )),
            "{}",
            d.stdout
        );
        assert!(leaf.not_before() < leaf.not_after());
    }
}

#[test]
fn issuance_guards() {
    let pki = build_pki(KeyAlgorithm::EcdsaP256);
    let k = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let id = identity();
    let spki = k.public_key_spki_der();
    let official = |issuer: &Certificate, signer: &PrivateKey, spki: &[u8], days, serial: &[u8]| {
        let (from, to) = days;
        issue(
            &Profile::Official(&id),
            &under(&issuer.der, signer, spki, validity(from, to), serial),
        )
    };
    // wrong issuer key
    let r = official(
        &pki.issuing,
        &pki.root_key,
        &spki,
        (0, 10),
        &random_serial(),
    );
    assert!(matches!(r, Err(PkiError::InvalidArgument(_))), "{r:?}");
    // issuer not a CA
    let r = official(&pki.leaf, &pki.leaf_key, &spki, (0, 10), &random_serial());
    assert!(matches!(r, Err(PkiError::InvalidCertificate(_))), "{r:?}");
    // beyond issuer expiry
    let r = official(
        &pki.issuing,
        &pki.issuing_key,
        &spki,
        (0, 365 * 11),
        &random_serial(),
    );
    assert!(matches!(r, Err(PkiError::InvalidArgument(_))), "{r:?}");
    // zero / too long serial
    let r = official(&pki.issuing, &pki.issuing_key, &spki, (0, 10), &[0, 0]);
    assert!(r.is_err());
    let r = official(&pki.issuing, &pki.issuing_key, &spki, (0, 10), &[0x7f; 21]);
    assert!(r.is_err());
    // a serial with the top bit set is made positive
    let der = official(
        &pki.issuing,
        &pki.issuing_key,
        &spki,
        (0, 10),
        &[0xff, 0x01],
    )
    .unwrap();
    let c = Certificate::from_der(&der).unwrap();
    assert_eq!(c.serial_hex(), "ff01");
    assert_eq!(c.serial_bytes(), vec![0x00, 0xff, 0x01]);
    // garbage SPKI
    let r = official(
        &pki.issuing,
        &pki.issuing_key,
        b"\x30\x00",
        (0, 10),
        &random_serial(),
    );
    assert!(r.is_err());
    // inverted validity
    let r = official(
        &pki.issuing,
        &pki.issuing_key,
        &spki,
        (5, 1),
        &random_serial(),
    );
    assert!(r.is_err());
    for _ in 0..100 {
        let s = random_serial();
        assert!(s[0] != 0 && s[0] & 0x80 == 0);
    }
}

#[test]
fn pem_round_trip_and_garbage_certificates() {
    let pki = build_pki(KeyAlgorithm::EcdsaP256);
    let pem = format!(
        "junk before\n{}{}",
        der_to_pem(&pki.leaf.der, "CERTIFICATE"),
        der_to_pem(&pki.issuing.der, "CERTIFICATE").replace('\n', "\r\n")
    );
    let ders = pem_to_der_all(&pem).unwrap();
    assert_eq!(ders, vec![pki.leaf.der.clone(), pki.issuing.der.clone()]);
    let certs = sahih_pki::certs::load_certificates(pem.as_bytes()).unwrap();
    assert_eq!(certs.len(), 2);
    assert_eq!(
        sahih_pki::certs::load_certificates(&pki.root.der).unwrap()[0],
        pki.root
    );
    assert!(pem_to_der_all("nothing").is_err());
    assert!(
        pem_to_der_all("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n").is_err()
    );
    assert!(pem_to_der_all("-----BEGIN CERTIFICATE-----\nAAAA\n").is_err());
    // every truncation and many mutations of a certificate: error or parse, never panic
    let der = &pki.leaf.der;
    for cut in 0..der.len() {
        assert!(Certificate::from_der(&der[..cut]).is_err());
    }
    let mut rng = XorShift(0xdead_beef_cafe_f00d);
    for _ in 0..2000 {
        let mut d = der.clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(d.len());
            d[i] = rng.next() as u8;
        }
        if let Ok(c) = Certificate::from_der(&d) {
            let _ = (
                c.subject_display(),
                c.issuer_display(),
                c.key_usage(),
                c.is_ca(),
                c.serial_hex(),
            );
            let _ = (
                c.authority_key_id(),
                c.subject_key_id(),
                c.not_after(),
                c.is_signed_by(&pki.issuing),
            );
        }
    }
}
