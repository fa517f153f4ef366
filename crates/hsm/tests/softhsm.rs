//! `sahih-hsm` against a real SoftHSM2 token.
//!
//! One SoftHSM configuration per test binary (SoftHSM reads `SOFTHSM2_CONF` once, at
//! `C_Initialize`, and a module is initialised once per process): the first test to run
//! makes a directory under the target's tmp dir and, with `scripts/softhsm-token.sh`, one
//! token per purpose (shared signing token, wrong-PIN token, reopen token), all before the
//! module is loaded.
//!
//! Module: env `SAHIH_SOFTHSM_MODULE`, default `/usr/lib/softhsm/libsofthsm2.so`. Without
//! it the tests fail when `CI` is set, and are skipped with a loud banner otherwise.

// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use sahih_hsm::{HsmError, HsmKey, KEY_ID_LEN, Pkcs11Backend, parse_reference};
use sahih_pki::der::{Decode, Encode};
use sahih_pki::spki::SubjectPublicKeyInfoOwned;
use sahih_pki::{KeyAlgorithm, SignatureProducer, oids};

const DEFAULT_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const SIGNING_TOKEN: &str = "sahih-test";
const PIN_TOKEN: &str = "sahih-test-pin";
const REOPEN_TOKEN: &str = "sahih-test-reopen";
const LABEL_TOKEN: &str = "sahih-test-labels";
const USER_PIN: &str = "user-pin-4821";
const SO_PIN: &str = "so-pin-9356";

struct Fixture {
    module: PathBuf,
}

fn banner(text: &str) {
    // Straight to the process's stderr: the test harness captures `eprintln!` output of
    // passing tests, and a skip must be seen.
    let line = "!".repeat(78);
    let _ = writeln!(std::io::stderr(), "\n{line}\n!!! {text}\n{line}\n");
}

fn setup() -> Option<Fixture> {
    let module = std::env::var_os("SAHIH_SOFTHSM_MODULE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_MODULE));
    if !module.is_file() {
        let why = format!(
            "SoftHSM2 module {} not found (apt-get install -y softhsm2, or set \
             SAHIH_SOFTHSM_MODULE)",
            module.display()
        );
        if std::env::var_os("CI").is_some() {
            panic!("CI is set and the SoftHSM2 tests cannot run: {why}");
        }
        banner(&format!("SoftHSM2 TESTS SKIPPED: {why}"));
        return None;
    }

    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    remove_stale_dirs(base);
    let dir = base.join(format!("softhsm-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/softhsm-token.sh");
    let mut conf_line = String::new();
    for label in [SIGNING_TOKEN, PIN_TOKEN, REOPEN_TOKEN, LABEL_TOKEN] {
        let out = Command::new("bash")
            .arg(&script)
            .arg(&dir)
            .args([label, USER_PIN, SO_PIN])
            .output()
            .expect("run scripts/softhsm-token.sh");
        assert!(
            out.status.success(),
            "softhsm-token.sh failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).expect("utf-8 output");
        conf_line = stdout.lines().last().unwrap_or_default().to_string();
    }
    let conf = conf_line
        .strip_prefix("export SOFTHSM2_CONF=")
        .expect("last line is export SOFTHSM2_CONF=...");
    assert_eq!(
        Path::new(conf),
        dir.canonicalize().unwrap().join("softhsm2.conf")
    );
    // SAFETY: this runs inside the OnceLock initialiser, before the PKCS#11 module is loaded;
    // every other test thread is blocked on the same OnceLock before it does anything, and
    // std's environment lock serialises the harness's own reads.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("SOFTHSM2_CONF", conf)
    };
    Some(Fixture { module })
}

/// Token directories of earlier runs whose process is gone.
fn remove_stale_dirs(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = name.strip_prefix("softhsm-")
            && pid.parse::<u32>().is_ok()
            && !Path::new("/proc").join(pid).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn fixture() -> Option<&'static Fixture> {
    static FIXTURE: OnceLock<Option<Fixture>> = OnceLock::new();
    FIXTURE.get_or_init(setup).as_ref()
}

fn open(fx: &Fixture, label: &str) -> Pkcs11Backend {
    Pkcs11Backend::open(&fx.module, label, USER_PIN).expect("open token")
}

fn verification_alg(alg: KeyAlgorithm) -> &'static dyn VerificationAlgorithm {
    match alg {
        KeyAlgorithm::Rsa2048 | KeyAlgorithm::Rsa3072 => &signature::RSA_PKCS1_2048_8192_SHA256,
        KeyAlgorithm::EcdsaP256 => &signature::ECDSA_P256_SHA256_ASN1,
    }
}

/// Verify with aws-lc-rs against the subjectPublicKey of `spki_der`, and with
/// `sahih_pki::verify_signature` (which reads the whole SPKI); both must agree.
fn verifies(spki_der: &[u8], alg: KeyAlgorithm, message: &[u8], sig: &[u8]) -> bool {
    let spki = SubjectPublicKeyInfoOwned::from_der(spki_der).expect("SPKI parses");
    let raw = UnparsedPublicKey::new(verification_alg(alg), spki.subject_public_key.raw_bytes())
        .verify(message, sig)
        .is_ok();
    let pki = sahih_pki::verify_signature(spki_der, &alg.signature_algorithm(), message, sig)
        .expect("verify_signature");
    assert_eq!(raw, pki, "aws-lc-rs and sahih-pki disagree");
    raw
}

fn check_spki(key: &HsmKey) {
    let der = key.public_key_spki_der();
    let spki = SubjectPublicKeyInfoOwned::from_der(&der).expect("SPKI parses");
    assert_eq!(spki.to_der().unwrap(), der, "SPKI is DER");
    match key.algorithm() {
        KeyAlgorithm::EcdsaP256 => {
            assert_eq!(spki.algorithm.oid, oids::OID_EC_PUBLIC_KEY);
            let curve = spki.algorithm.parameters.expect("curve parameter");
            assert_eq!(
                curve.decode_as::<sahih_pki::ObjectIdentifier>().unwrap(),
                oids::OID_SECP256R1
            );
            let point = spki.subject_public_key.raw_bytes();
            assert_eq!((point.len(), point[0]), (65, 0x04), "uncompressed point");
        }
        alg => {
            assert_eq!(spki.algorithm.oid, oids::OID_RSA_ENCRYPTION);
            let params = spki.algorithm.parameters.expect("NULL parameters");
            assert_eq!(params.to_der().unwrap(), vec![0x05, 0x00]);
            // 2048-bit: SEQUENCE(4) + INTEGER(4 + 1 + 256) + INTEGER 65537(5) = 270.
            let len = spki.subject_public_key.raw_bytes().len();
            assert_eq!(
                len,
                if alg == KeyAlgorithm::Rsa2048 {
                    270
                } else {
                    398
                }
            );
        }
    }
}

fn generate_sign_verify(alg: KeyAlgorithm) {
    let Some(fx) = fixture() else { return };
    let backend = open(fx, SIGNING_TOKEN);
    let key = backend
        .generate(alg, &format!("test {alg}"))
        .expect("generate");
    assert_eq!(key.algorithm(), alg);
    assert_eq!(key.id_hex().len(), 2 * KEY_ID_LEN);
    assert_eq!(key.reference(), format!("pkcs11:id={}", key.id_hex()));
    assert_eq!(parse_reference(&key.reference()), Some(key.id_hex()));
    assert_eq!(key.signature_algorithm(), alg.signature_algorithm());
    check_spki(&key);
    let spki = key.public_key_spki_der();

    // Several messages, so ECDSA r and s of every shape (high bit, leading zeros) occur.
    for i in 0..40u32 {
        let message = format!("document {i} to sign").into_bytes();
        let sig = SignatureProducer::sign(&key, &message).expect("sign");
        assert!(sig.len() <= alg.max_signature_len());
        assert!(
            verifies(&spki, alg, &message, &sig),
            "signature {i} verifies"
        );
        assert!(!verifies(&spki, alg, b"another document", &sig));
    }
    // A software key's SPKI does not verify HSM signatures (sanity of the check itself).
    let other = sahih_pki::PrivateKey::generate(alg).unwrap();
    let sig = key.try_sign(b"x").unwrap();
    assert!(!verifies(&other.public_key_spki_der(), alg, b"x", &sig));

    backend.destroy(&key.id_hex()).expect("destroy");
}

#[test]
fn rsa2048_generate_sign_verify() {
    generate_sign_verify(KeyAlgorithm::Rsa2048);
}

#[test]
fn p256_generate_sign_verify() {
    generate_sign_verify(KeyAlgorithm::EcdsaP256);
}

#[test]
fn rsa3072_generate_sign_verify() {
    generate_sign_verify(KeyAlgorithm::Rsa3072);
}

/// Independent check through cryptoki directly (the same module instance, so the same
/// login): the secret attribute cannot be read and the key cannot be made extractable.
fn raw_token_check(fx: &Fixture, id_hex: &str, alg: KeyAlgorithm) {
    use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
    use cryptoki::error::{Error, RvError};
    use cryptoki::object::{Attribute, AttributeInfo, AttributeType, ObjectClass};

    let ctx = Pkcs11::new(&fx.module).unwrap();
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Err(Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        other => panic!("module should already be initialised by sahih-hsm: {other:?}"),
    }
    let slot = ctx
        .get_slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| ctx.get_token_info(*s).unwrap().label() == SIGNING_TOKEN)
        .unwrap();
    let session = ctx.open_rw_session(slot).unwrap();
    let id = hex::decode(id_hex).unwrap();
    let found = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::Id(id.clone()),
        ])
        .unwrap();
    assert_eq!(
        found.len(),
        1,
        "private key visible to the logged-in process"
    );
    let key = found[0];
    let secrets: &[AttributeType] = match alg {
        KeyAlgorithm::EcdsaP256 => &[AttributeType::Value],
        _ => &[
            AttributeType::PrivateExponent,
            AttributeType::Prime1,
            AttributeType::Prime2,
            AttributeType::Exponent1,
            AttributeType::Exponent2,
            AttributeType::Coefficient,
        ],
    };
    for secret in secrets {
        let info = session.get_attribute_info(key, &[*secret]).unwrap();
        assert!(
            matches!(info[0], AttributeInfo::Sensitive),
            "{secret}: {:?}",
            info[0]
        );
        // cryptoki drops attributes the token refuses: nothing comes back.
        let got = session.get_attributes(key, &[*secret]).unwrap();
        assert!(got.is_empty(), "{secret} was returned");
    }
    // Non-secret attributes still read fine through the same call.
    assert!(
        !session
            .get_attributes(key, &[AttributeType::KeyType])
            .unwrap()
            .is_empty()
    );
    // CKA_EXTRACTABLE can never go back to true, CKA_SENSITIVE never back to false.
    let err = session
        .update_attributes(key, &[Attribute::Extractable(true)])
        .unwrap_err();
    assert!(
        matches!(err, Error::Pkcs11(RvError::AttributeReadOnly, _)),
        "{err}"
    );
    let err = session
        .update_attributes(key, &[Attribute::Sensitive(false)])
        .unwrap_err();
    assert!(
        matches!(err, Error::Pkcs11(RvError::AttributeReadOnly, _)),
        "{err}"
    );
    // Wrapping it out is refused too (CKR_KEY_UNEXTRACTABLE), with any wrapping key: try an
    // AES key made for the purpose.
    let wrapping = session
        .generate_key(
            &cryptoki::mechanism::Mechanism::AesKeyGen,
            &[
                Attribute::Token(false),
                Attribute::ValueLen(32.into()),
                Attribute::Wrap(true),
            ],
        )
        .unwrap();
    let err = session
        .wrap_key(
            &cryptoki::mechanism::Mechanism::AesKeyWrapPad,
            wrapping,
            key,
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::Pkcs11(RvError::KeyUnextractable, _)),
        "{err}"
    );
    session.destroy_object(wrapping).unwrap();
}

#[test]
fn private_keys_are_not_extractable() {
    let Some(fx) = fixture() else { return };
    let backend = open(fx, SIGNING_TOKEN);
    for alg in [KeyAlgorithm::Rsa2048, KeyAlgorithm::EcdsaP256] {
        let key = backend.generate(alg, "protected").unwrap();
        let p = backend.key_protection(&key.id_hex()).unwrap();
        assert!(p.sensitive, "{alg}: {p:?}");
        assert!(!p.extractable, "{alg}: {p:?}");
        assert!(p.never_extractable, "{alg}: {p:?}");
        assert!(p.always_sensitive, "{alg}: {p:?}");
        assert!(p.local, "{alg}: generated in the token: {p:?}");
        assert!(!p.secret_value_readable, "{alg}: {p:?}");
        raw_token_check(fx, &key.id_hex(), alg);
        backend.destroy(&key.id_hex()).unwrap();
        assert!(matches!(
            backend.key_protection(&key.id_hex()),
            Err(HsmError::KeyNotFound(_))
        ));
    }
}

#[test]
fn keys_are_found_again_after_reopening() {
    let Some(fx) = fixture() else { return };
    let mut saved = Vec::new();
    {
        let backend = open(fx, REOPEN_TOKEN);
        for alg in KeyAlgorithm::ALL {
            let key = backend.generate(alg, &format!("reopen {alg}")).unwrap();
            saved.push((key.reference(), alg, key.public_key_spki_der()));
        }
        // Keys and backend dropped here: every session closes and the token logs out.
    }
    let backend = open(fx, REOPEN_TOKEN);
    for (reference, alg, spki) in &saved {
        let id = parse_reference(reference).expect("reference parses");
        let key = backend.key(&id).expect("key found again");
        assert_eq!(key.algorithm(), *alg);
        assert_eq!(&key.public_key_spki_der(), spki, "{alg}: same public key");
        let sig = key.try_sign(b"after restart").unwrap();
        assert!(verifies(spki, *alg, b"after restart", &sig));
    }
    // Unknown ids, malformed ids, deletion.
    let unknown = "00".repeat(KEY_ID_LEN);
    assert!(matches!(
        backend.key(&unknown),
        Err(HsmError::KeyNotFound(_))
    ));
    assert!(matches!(
        backend.key("not hex"),
        Err(HsmError::InvalidKeyId(_))
    ));
    let (reference, ..) = &saved[0];
    let id = parse_reference(reference).unwrap();
    let key = backend.key(&id).unwrap();
    backend.destroy(&id).unwrap();
    assert!(matches!(backend.key(&id), Err(HsmError::KeyNotFound(_))));
    assert!(matches!(
        backend.destroy(&id),
        Err(HsmError::KeyNotFound(_))
    ));
    // An HsmKey still in memory fails cleanly once its key is gone.
    let err = key.try_sign(b"gone").unwrap_err();
    assert!(matches!(err, HsmError::KeyNotFound(_)), "{err}");
    let err = SignatureProducer::sign(&key, b"gone").unwrap_err();
    assert!(matches!(err, sahih_pki::PkiError::Crypto(_)), "{err}");
}

#[test]
fn keys_are_found_by_label() {
    let Some(fx) = fixture() else { return };
    let backend = open(fx, LABEL_TOKEN);
    let a1 = backend
        .generate(KeyAlgorithm::EcdsaP256, "label-a")
        .unwrap();
    let a2 = backend
        .generate(KeyAlgorithm::EcdsaP256, "label-a")
        .unwrap();
    let b = backend
        .generate(KeyAlgorithm::EcdsaP256, "label-b")
        .unwrap();
    let mut found: Vec<String> = backend
        .keys_labelled("label-a")
        .unwrap()
        .iter()
        .map(HsmKey::id_hex)
        .collect();
    found.sort();
    let mut want = vec![a1.id_hex(), a2.id_hex()];
    want.sort();
    assert_eq!(found, want);
    backend.destroy(&a1.id_hex()).unwrap();
    let left = backend.keys_labelled("label-a").unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].public_key_spki_der(), a2.public_key_spki_der());
    assert_eq!(backend.keys_labelled("label-b").unwrap().len(), 1);
    assert!(backend.keys_labelled("nobody").unwrap().is_empty());
    backend.destroy(&b.id_hex()).unwrap();
    backend.destroy(&a2.id_hex()).unwrap();
}

#[test]
fn wrong_pin_is_a_typed_error_without_the_pin() {
    let Some(fx) = fixture() else { return };
    let wrong = "wrong-pin-7391";
    let check = |err: HsmError| {
        assert!(
            matches!(err, HsmError::WrongPin(ref l) if l == PIN_TOKEN),
            "{err:?}"
        );
        assert!(!err.to_string().contains(wrong), "{err}");
        assert!(!format!("{err:?}").contains(wrong), "{err:?}");
        assert!(!err.to_string().contains(USER_PIN));
    };
    // Refused by the token itself (nobody is logged in to this token).
    check(Pkcs11Backend::open(&fx.module, PIN_TOKEN, wrong).unwrap_err());
    check(Pkcs11Backend::open(&fx.module, PIN_TOKEN, "").unwrap_err());

    let backend = Pkcs11Backend::open(&fx.module, PIN_TOKEN, USER_PIN).expect("right PIN");
    let debug = format!("{backend:?}");
    assert!(!debug.contains(USER_PIN), "{debug}");
    assert!(debug.contains(PIN_TOKEN), "{debug}");
    // While logged in, a second open must still present the right PIN.
    check(Pkcs11Backend::open(&fx.module, PIN_TOKEN, wrong).unwrap_err());
    let second = Pkcs11Backend::open(&fx.module, PIN_TOKEN, USER_PIN).expect("shares login");
    let key = second
        .generate(KeyAlgorithm::EcdsaP256, "pin test")
        .unwrap();
    assert!(!format!("{key:?}").contains(USER_PIN));

    // Other code of the process logs the token out (PKCS#11 logins are per process): the
    // next operation logs in again with the kept PIN.
    {
        use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
        let ctx = Pkcs11::new(&fx.module).unwrap();
        let _ = ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK));
        let slot = ctx
            .get_slots_with_token()
            .unwrap()
            .into_iter()
            .find(|s| ctx.get_token_info(*s).unwrap().label() == PIN_TOKEN)
            .unwrap();
        ctx.open_ro_session(slot).unwrap().logout().unwrap();
    }
    let sig = key.try_sign(b"after logout").expect("logs in again");
    assert!(verifies(
        &key.public_key_spki_der(),
        key.algorithm(),
        b"after logout",
        &sig
    ));
    backend.destroy(&key.id_hex()).unwrap();

    let err = Pkcs11Backend::open(&fx.module, "no-such-token", USER_PIN).unwrap_err();
    assert!(matches!(err, HsmError::TokenNotFound(_)), "{err}");
    let err = Pkcs11Backend::open(Path::new("/nonexistent/libpkcs11.so"), PIN_TOKEN, USER_PIN)
        .unwrap_err();
    assert!(matches!(err, HsmError::Module { .. }), "{err}");
    assert!(!err.to_string().contains(USER_PIN));
}

#[test]
fn concurrent_signing_from_four_threads() {
    let Some(fx) = fixture() else { return };
    let backend = open(fx, SIGNING_TOKEN);
    let keys: Vec<Arc<HsmKey>> = [KeyAlgorithm::Rsa2048, KeyAlgorithm::EcdsaP256]
        .into_iter()
        .map(|alg| Arc::new(backend.generate(alg, "concurrent").unwrap()))
        .collect();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let keys = keys.clone();
            let backend = backend.clone();
            std::thread::spawn(move || {
                // Generation from several threads works too.
                let own = backend
                    .generate(KeyAlgorithm::EcdsaP256, &format!("thread {t}"))
                    .unwrap();
                let mut out = Vec::new();
                for i in 0..25 {
                    let key = &keys[(t + i) % keys.len()];
                    let message = format!("thread {t} message {i}").into_bytes();
                    let sig = key.try_sign(&message).unwrap();
                    out.push((key.clone(), message, sig));
                }
                let sig = own.try_sign(b"own").unwrap();
                assert!(verifies(
                    &own.public_key_spki_der(),
                    own.algorithm(),
                    b"own",
                    &sig
                ));
                backend.destroy(&own.id_hex()).unwrap();
                out
            })
        })
        .collect();
    let mut count = 0;
    for h in handles {
        for (key, message, sig) in h.join().expect("thread") {
            assert!(verifies(
                &key.public_key_spki_der(),
                key.algorithm(),
                &message,
                &sig
            ));
            count += 1;
        }
    }
    assert_eq!(count, 100);
    for key in &keys {
        backend.destroy(&key.id_hex()).unwrap();
    }
}

/// Rough signing speed, printed (run with --ignored --nocapture to see it), not asserted: a
/// benchmark, so it does not count as a passing test.
#[test]
#[ignore = "benchmark: prints the signing speed, asserts nothing"]
fn signing_speed() {
    let Some(fx) = fixture() else { return };
    let backend = open(fx, SIGNING_TOKEN);
    const N: u32 = 200;
    let message = vec![0x5a; 4096];
    for alg in [KeyAlgorithm::Rsa2048, KeyAlgorithm::EcdsaP256] {
        let start = Instant::now();
        let key = Arc::new(backend.generate(alg, "speed").unwrap());
        let keygen = start.elapsed();
        key.try_sign(&message).unwrap(); // warm the session pool and handle cache
        let start = Instant::now();
        for _ in 0..N {
            key.try_sign(&message).unwrap();
        }
        let one_thread = start.elapsed();
        let start = Instant::now();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let key = key.clone();
                let message = message.clone();
                std::thread::spawn(move || {
                    for _ in 0..N / 4 {
                        key.try_sign(&message).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let four_threads = start.elapsed();
        let per = |d: Duration| d.as_secs_f64() * 1000.0 / f64::from(N);
        println!(
            "SoftHSM2 {alg}: keygen {:.1} ms; {N} signatures (4 KiB message): 1 thread {:.0} ms \
             ({:.3} ms/sig, {:.0}/s); 4 threads {:.0} ms ({:.0}/s)",
            keygen.as_secs_f64() * 1000.0,
            one_thread.as_secs_f64() * 1000.0,
            per(one_thread),
            f64::from(N) / one_thread.as_secs_f64(),
            four_threads.as_secs_f64() * 1000.0,
            f64::from(N) / four_threads.as_secs_f64(),
        );
        backend.destroy(&key.id_hex()).unwrap();
    }
}
