// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use sahih_pki::*;

fn fast() -> KdfParams {
    KdfParams {
        m_kib: 1024,
        t: 1,
        p: 1,
    }
}

#[test]
fn generate_each_algorithm_and_sign() {
    for alg in KeyAlgorithm::ALL {
        let k = PrivateKey::generate(alg).unwrap();
        assert_eq!(k.algorithm(), alg);
        assert_eq!(format!("{alg}").parse::<KeyAlgorithm>().unwrap(), alg);
        // Debug shows only the algorithm.
        let dbg = format!("{k:?}");
        assert!(dbg.contains(&format!("{alg:?}")), "{dbg}");
        assert!(dbg.len() < 60, "{dbg}");
        // round trip through PKCS#8
        let k2 = PrivateKey::from_pkcs8_der(k.pkcs8_der()).unwrap();
        assert_eq!(k2.public_key_spki_der(), k.public_key_spki_der());
        // signature verifies with the SPKI
        let msg = b"surat keputusan";
        let sig = k.sign(msg).unwrap();
        assert!(sig.len() <= alg.max_signature_len());
        assert!(
            verify_signature(
                &k.public_key_spki_der(),
                &k.signature_algorithm(),
                msg,
                &sig
            )
            .unwrap()
        );
        assert!(
            !verify_signature(
                &k.public_key_spki_der(),
                &k.signature_algorithm(),
                b"other",
                &sig
            )
            .unwrap()
        );
    }
    assert!("rsa1024".parse::<KeyAlgorithm>().is_err());
    assert_eq!(
        "p256".parse::<KeyAlgorithm>().unwrap(),
        KeyAlgorithm::EcdsaP256
    );
    assert_eq!(KeyAlgorithm::Rsa3072.to_string(), "rsa3072");
}

#[test]
fn garbage_pkcs8_is_error() {
    assert!(PrivateKey::from_pkcs8_der(b"").is_err());
    assert!(PrivateKey::from_pkcs8_der(&[0x30, 0x03, 0x02, 0x01, 0x00]).is_err());
    let k = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let mut der = k.pkcs8_der().to_vec();
    der.truncate(der.len() - 3);
    assert!(PrivateKey::from_pkcs8_der(&der).is_err());
}

#[test]
fn passphrase_round_trip_default_params() {
    let k = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let sealed =
        seal_with_passphrase(&k, b"rahasia negara", b"key-1", &KdfParams::default()).unwrap();
    assert!(
        sealed.starts_with("sahih-sealed-v1$argon2id$m=19456,t=2,p=1$"),
        "{sealed}"
    );
    assert_eq!(sealed.split('$').count(), 6);
    let k2 = unseal_with_passphrase(&sealed, b"rahasia negara", b"key-1").unwrap();
    assert_eq!(k2.pkcs8_der(), k.pkcs8_der());
    // the sealed text does not contain the key
    assert!(!sealed.contains(&base64_std(k.pkcs8_der())));
}

fn base64_std(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(b)
}

#[test]
fn passphrase_failures() {
    let k = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let sealed = seal_with_passphrase(&k, b"benar", b"key-7", &fast()).unwrap();
    assert!(matches!(
        unseal_with_passphrase(&sealed, b"salah", b"key-7"),
        Err(PkiError::WrongPassphrase)
    ));
    // AAD mismatch
    assert!(matches!(
        unseal_with_passphrase(&sealed, b"benar", b"key-8"),
        Err(PkiError::WrongPassphrase)
    ));
    // edited parameters: different KEK -> fails
    let edited = sealed.replace("m=1024,t=1", "m=1024,t=2");
    assert!(unseal_with_passphrase(&edited, b"benar", b"key-7").is_err());
    // absurd parameters are rejected before any allocation
    let huge = sealed.replace("m=1024", "m=4000000000");
    assert!(matches!(
        unseal_with_passphrase(&huge, b"benar", b"key-7"),
        Err(PkiError::SealedFormat(_))
    ));
    // every single-character change of the ciphertext/nonce/salt part -> error, never panic
    let mut rng = common::XorShift(0x1234_5678_9abc_def1);
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/$=,";
    for _ in 0..40 {
        let mut bytes = sealed.clone().into_bytes();
        let i = rng.below(bytes.len());
        let c = alphabet[rng.below(alphabet.len())];
        if bytes[i] == c {
            continue;
        }
        bytes[i] = c;
        let s = String::from_utf8(bytes).unwrap();
        assert!(
            unseal_with_passphrase(&s, b"benar", b"key-7").is_err(),
            "{s}"
        );
    }
    for cut in [0, 5, 20, sealed.len() / 2, sealed.len() - 1] {
        assert!(unseal_with_passphrase(&sealed[..cut], b"benar", b"key-7").is_err());
    }
    assert!(unseal_with_passphrase("garbage", b"x", b"").is_err());
    assert!(unseal_with_passphrase("sahih-sealed-v1$argon2id$m=1,t=1,p=1$$$", b"x", b"").is_err());
    // a master-sealed string is not accepted as passphrase-sealed and vice versa
    let mk = MasterKey::generate();
    let ms = seal_with_master_key(&k, &mk, b"key-7").unwrap();
    assert!(matches!(
        unseal_with_passphrase(&ms, b"benar", b"key-7"),
        Err(PkiError::SealedFormat(_))
    ));
    assert!(matches!(
        unseal_with_master_key(&sealed, &mk, b"key-7"),
        Err(PkiError::SealedFormat(_))
    ));
}

#[test]
fn master_key_round_trip_and_failures() {
    let k = PrivateKey::generate(KeyAlgorithm::Rsa3072).unwrap();
    let mk = MasterKey::generate();
    let hex = mk.to_hex();
    assert_eq!(hex.len(), 64);
    let mk2 = MasterKey::from_hex(&hex).unwrap();
    assert!(!format!("{mk:?}").contains(&hex[..8]));
    let sealed = seal_with_master_key(&k, &mk, b"row-42").unwrap();
    assert!(sealed.starts_with("sahih-sealed-v1$master$$$"), "{sealed}");
    let k2 = unseal_with_master_key(&sealed, &mk2, b"row-42").unwrap();
    assert_eq!(k2.pkcs8_der(), k.pkcs8_der());
    assert_eq!(k2.algorithm(), KeyAlgorithm::Rsa3072);
    let other = MasterKey::generate();
    assert!(matches!(
        unseal_with_master_key(&sealed, &other, b"row-42"),
        Err(PkiError::UnsealFailed)
    ));
    assert!(matches!(
        unseal_with_master_key(&sealed, &mk, b"row-43"),
        Err(PkiError::UnsealFailed)
    ));
    let mut tampered = sealed.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    assert!(
        unseal_with_master_key(std::str::from_utf8(&tampered).unwrap(), &mk, b"row-42").is_err()
    );
    assert!(MasterKey::from_hex("abcd").is_err());
    assert!(MasterKey::from_hex(&"zz".repeat(32)).is_err());
    assert!(MasterKey::from_bytes(&[1u8; 31]).is_err());
    assert!(MasterKey::from_bytes(&[1u8; 32]).is_ok());
}

#[test]
fn types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<PrivateKey>();
    check::<Certificate>();
    check::<MasterKey>();
    check::<ParsedCms>();
    check::<SimplePathValidator>();
}

/// Not a timed assertion (DESIGN section 6): prints the median for a quick look.
/// `cargo test -p sahih-pki --test keys_sealed -- --ignored --nocapture`
#[test]
#[ignore]
fn print_cades_sign_median() {
    for alg in KeyAlgorithm::ALL {
        let pki = common::build_pki(alg);
        let chain = [pki.issuing.clone()];
        let mut times = Vec::new();
        for i in 0..200u32 {
            let d = [i as u8; 32];
            let t = std::time::Instant::now();
            let sig = build_cades_detached(&d, &pki.leaf, &chain, &pki.leaf_key).unwrap();
            times.push(t.elapsed());
            assert!(!sig.is_empty());
        }
        times.sort();
        println!(
            "{alg}: build_cades_detached median {:?}",
            times[times.len() / 2]
        );
    }
}
