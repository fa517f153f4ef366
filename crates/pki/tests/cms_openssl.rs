// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use sahih_pki::cms::OID_SIGNING_CERTIFICATE_V2;
use sahih_pki::oids::*;
use sahih_pki::*;

fn sha256(data: &[u8]) -> [u8; 32] {
    let d = digest_parts(&OID_SHA256, &[data]).unwrap();
    d.try_into().unwrap()
}

fn data() -> Vec<u8> {
    let mut d = b"%PDF-1.7\n% surat dinas nomor 800/123/Diskominfo\n".to_vec();
    d.extend((0..5000u32).map(|i| (i * 7 % 251) as u8));
    d
}

#[test]
fn our_cades_verifies_with_openssl_and_parses() {
    for alg in KeyAlgorithm::ALL {
        let pki = build_pki(alg);
        let dir = TempDir::new("cms");
        write_pki(&dir, &pki);
        let content = data();
        dir.write("data.bin", &content);
        let digest = sha256(&content);
        let chain = [pki.issuing.clone()];
        let sig = build_cades_detached(&digest, &pki.leaf, &chain, &pki.leaf_key).unwrap();
        dir.write("sig.der", &sig);

        let estimate = estimate_cades_size(&pki.leaf, &chain, alg);
        assert!(
            estimate >= sig.len(),
            "{alg}: estimate {estimate} < {}",
            sig.len()
        );
        assert!(
            estimate <= sig.len() + 80,
            "{alg}: estimate {estimate} too loose for {}",
            sig.len()
        );

        let v = openssl_cms_verify(&dir.0, "sig.der", "data.bin");
        assert!(
            v.ok && v.stderr.contains("Verification successful"),
            "{alg}: {} {}",
            v.stdout,
            v.stderr
        );
        // a modified content fails
        let mut other = content.clone();
        other[10] ^= 1;
        dir.write("other.bin", &other);
        let v = openssl_cms_verify(&dir.0, "sig.der", "other.bin");
        assert!(!v.ok);

        let p = openssl(
            &dir.0,
            &[
                "cms", "-cmsout", "-print", "-inform", "DER", "-in", "sig.der",
            ],
        );
        assert!(p.ok, "{}", p.stderr);
        assert!(
            p.stdout.contains("id-smime-aa-signingCertificateV2")
                || p.stdout.contains("1.2.840.113549.1.9.16.2.47"),
            "{}",
            p.stdout
        );
        assert!(!p.stdout.contains("signingTime"), "{}", p.stdout);
        // the root is not embedded; signer + issuing are
        let parsed = parse_cms(&sig).unwrap();
        assert_eq!(parsed.certificates.len(), 2);
        assert_eq!(parsed.signer_cert.as_ref(), Some(&pki.leaf));
        assert!(parsed.signature_valid, "{alg}");
        assert_eq!(parsed.ess, EssBinding::V2Match);
        assert_eq!(parsed.message_digest.as_deref(), Some(&digest[..]));
        assert_eq!(parsed.digest_algorithm, OID_SHA256);
        assert!(parsed.content_type_ok);
        assert_eq!(parsed.content_type, OID_ID_DATA);
        assert!(parsed.encapsulated_content.is_none());
        assert!(parsed.has_signed_attrs);
        assert!(!parsed.has_signing_time_attr);
        assert!(parsed.unsigned_attr_oids.is_empty());
        assert!(!parsed.signer_info_signature.is_empty());
        let expected_alg = if alg == KeyAlgorithm::EcdsaP256 {
            "ECDSA with SHA-256"
        } else {
            "RSA PKCS#1 v1.5 with SHA-256"
        };
        assert_eq!(parsed.signature_algorithm, expected_alg);
        // trailing zero padding (PDF /Contents) is fine; other trailing data is not
        let mut padded = sig.clone();
        padded.extend(std::iter::repeat_n(0u8, 4000));
        assert!(parse_cms(&padded).unwrap().signature_valid);
        let mut trailing = sig.clone();
        trailing.push(1);
        assert!(parse_cms(&trailing).is_err());

        // corrupted signature value (last bytes of the blob) -> parses, invalid
        let mut bad = sig.clone();
        let n = bad.len();
        bad[n - 3] ^= 0x40;
        let p = parse_cms(&bad).unwrap();
        assert!(!p.signature_valid);
        assert_eq!(p.ess, EssBinding::V2Match);
        // ESS mismatch: a chain whose "signer" differs is detected via signingCertificateV2
        let fake = build_cades_detached(&digest, &pki.leaf, &chain, &pki.issuing_key).unwrap();
        let p = parse_cms(&fake).unwrap();
        assert!(
            !p.signature_valid,
            "signature by another key must not verify"
        );
    }
}

#[test]
fn estimate_is_an_upper_bound_for_many_signatures() {
    for alg in KeyAlgorithm::ALL {
        let pki = build_pki(alg);
        let chains = [
            vec![],
            vec![pki.issuing.clone()],
            vec![pki.issuing.clone(), pki.root.clone()],
        ];
        for chain in &chains {
            let est = estimate_cades_size(&pki.leaf, chain, alg);
            for i in 0..20u8 {
                let sig = build_cades_detached(&[i; 32], &pki.leaf, chain, &pki.leaf_key).unwrap();
                assert!(est >= sig.len(), "{alg}: {est} < {}", sig.len());
            }
        }
    }
}

fn openssl_cms(dir: &TempDir, extra: &[&str], out: &str) -> Vec<u8> {
    let mut args = vec![
        "cms",
        "-sign",
        "-binary",
        "-in",
        "data.bin",
        "-signer",
        "leaf.pem",
        "-inkey",
        "leaf.key",
        "-certfile",
        "issuing.pem",
        "-outform",
        "DER",
        "-out",
        out,
    ];
    args.extend_from_slice(extra);
    let o = openssl(&dir.0, &args);
    assert!(o.ok, "{}", o.stderr);
    std::fs::read(dir.path(out)).unwrap()
}

#[test]
fn parse_openssl_ber_cms() {
    for alg in [KeyAlgorithm::Rsa2048, KeyAlgorithm::EcdsaP256] {
        let pki = build_pki(alg);
        let dir = TempDir::new("ossl");
        write_pki(&dir, &pki);
        let content = data();
        dir.write("data.bin", &content);

        // detached, streamed (indefinite-length BER)
        let ber = openssl_cms(&dir, &["-stream"], "s.ber");
        assert_eq!(
            &ber[..2],
            &[0x30, 0x80],
            "expected indefinite-length BER from -stream"
        );
        let p = parse_cms(&ber).unwrap();
        assert!(p.signature_valid, "{alg}");
        assert_eq!(p.signer_cert.as_ref(), Some(&pki.leaf));
        assert_eq!(p.message_digest.as_deref(), Some(&sha256(&content)[..]));
        assert!(p.has_signing_time_attr && p.signing_time.is_some());
        assert!(p.content_type_ok);
        assert!(p.certificates.len() >= 2);
        assert!(
            matches!(
                p.ess,
                EssBinding::Absent | EssBinding::V2Match | EssBinding::V1Match
            ),
            "{:?}",
            p.ess
        );

        // CAdES flavour: OpenSSL adds signingCertificateV2
        let cades = openssl_cms(&dir, &["-stream", "-cades"], "c.ber");
        let p = parse_cms(&cades).unwrap();
        assert!(p.signature_valid);
        assert_eq!(p.ess, EssBinding::V2Match);

        // attached + streamed: constructed OCTET STRING content is flattened
        let att = openssl_cms(&dir, &["-stream", "-nodetach"], "a.ber");
        let p = parse_cms(&att).unwrap();
        assert!(p.signature_valid);
        assert_eq!(p.encapsulated_content.as_deref(), Some(&content[..]));

        // subjectKeyIdentifier as signer id
        let ski = openssl_cms(&dir, &["-keyid"], "k.der");
        let p = parse_cms(&ski).unwrap();
        assert_eq!(p.signer_cert.as_ref(), Some(&pki.leaf));
        assert!(p.signature_valid);

        // without signed attributes: verify over the content digest
        let noattr = openssl_cms(&dir, &["-noattr"], "n.der");
        let p = parse_cms(&noattr).unwrap();
        assert!(!p.has_signed_attrs);
        assert!(!p.signature_valid);
        assert!(p.content_type_ok);
        let d = digest_parts(&p.digest_algorithm, &[&content]).unwrap();
        assert!(p.verify_content_digest(&d), "{alg}");
        let mut wrong = d.clone();
        wrong[0] ^= 1;
        assert!(!p.verify_content_digest(&wrong));

        // corrupt the BER signature -> invalid
        let mut bad = ber.clone();
        let pos = ber
            .windows(p.signer_info_signature.len().min(8))
            .position(|w| w == &parse_cms(&ber).unwrap().signer_info_signature[..w.len()])
            .unwrap();
        bad[pos + 2] ^= 0x01;
        let pb = parse_cms(&bad).unwrap();
        assert!(!pb.signature_valid);
    }
}

#[test]
fn fuzz_parse_never_panics() {
    let pki = build_pki(KeyAlgorithm::EcdsaP256);
    let dir = TempDir::new("fuzz");
    write_pki(&dir, &pki);
    dir.write("data.bin", b"hello");
    let ber = openssl_cms(&dir, &["-stream", "-cades"], "f.ber");
    let ours = build_cades_detached(
        &sha256(b"hello"),
        &pki.leaf,
        std::slice::from_ref(&pki.issuing),
        &pki.leaf_key,
    )
    .unwrap();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for blob in [&ours, &ber] {
        // all truncations
        for cut in 0..blob.len() {
            let r = parse_cms(&blob[..cut]);
            assert!(r.is_err() || cut == blob.len(), "truncated at {cut} parsed");
        }
        // random mutations
        for i in 0..2000 {
            let mut b = blob.to_vec();
            match i % 4 {
                0 => {
                    let k = rng.below(b.len());
                    b[k] = rng.next() as u8;
                }
                1 => {
                    for _ in 0..1 + rng.below(8) {
                        let k = rng.below(b.len());
                        b[k] ^= 1 << rng.below(8);
                    }
                }
                2 => {
                    let k = rng.below(b.len());
                    let len = rng.below(16).min(b.len() - k);
                    b.drain(k..k + len);
                }
                _ => {
                    let k = rng.below(b.len());
                    let v = [0x80u8, 0x00, 0xff, 0x30, 0x24, 0x84][rng.below(6)];
                    b.insert(k, v);
                }
            }
            if let Ok(p) = parse_cms(&b) {
                let _ = (p.signature_valid, p.ess, p.certificates.len());
            }
        }
    }
    for garbage in [
        &b""[..],
        b"\x00",
        b"\x30",
        b"\x30\x80",
        b"\x30\x84\xff\xff\xff\xff",
        b"\xff\xff\xff",
        b"hello world",
    ] {
        assert!(parse_cms(garbage).is_err());
    }
    // deep nesting
    let deep: Vec<u8> = std::iter::repeat_n([0x30u8, 0x80], 5000)
        .flatten()
        .collect();
    assert!(parse_cms(&deep).is_err());
}

#[test]
fn digests_and_hasher() {
    let d = digest_parts(&OID_SHA256, &[b"ab", b"c"]).unwrap();
    assert_eq!(
        hex::encode(&d),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let mut h = Hasher::new(&OID_SHA384).unwrap();
    h.update(b"a");
    h.update(b"bc");
    assert_eq!(h.finish(), digest_parts(&OID_SHA384, &[b"abc"]).unwrap());
    assert_eq!(digest_parts(&OID_SHA512, &[b"abc"]).unwrap().len(), 64);
    assert_eq!(digest_parts(&OID_SHA1, &[b"abc"]).unwrap().len(), 20);
    assert!(Hasher::new(&OID_CN).is_err());
    let _ = OID_SIGNING_CERTIFICATE_V2;
}
