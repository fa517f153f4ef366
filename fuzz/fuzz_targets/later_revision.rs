//! The modification analysis on hostile later revisions: a letter signed once (built at start)
//! followed by arbitrary bytes, so every input reaches the comparison of the signed revision
//! with whatever the appended cross-reference data makes of the document. It must never
//! panic or hang, whatever the bytes say about /Prev, object streams, free entries or cycles.
#![no_main]
use libfuzzer_sys::fuzz_target;
use sahih_pades::{SignRequest, Signer, sign_pdf};
use sahih_pdf::sample::{Line, single_page};
use sahih_pdf::{OpenOptions, PdfDocument};
use sahih_pki::{
    CertUrls, CertValidity, Certificate, IssueRequest, Issuer, KeyAlgorithm, OfficialIdentity,
    PrivateKey, Profile, SimplePathValidator, TrustStore, issue,
};
use sahih_validate::{Context, NoRevocationData, validate_pdf};
use std::sync::OnceLock;

struct Seed {
    signed: Vec<u8>,
    root: Certificate,
}

fn seed() -> &'static Seed {
    static SEED: OnceLock<Seed> = OnceLock::new();
    SEED.get_or_init(|| {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).expect("key");
        let root_der = issue(
            &Profile::RootCa {
                institution: "Fuzz",
            },
            &IssueRequest {
                subject_spki: key.spki_der_ref(),
                issuer: Issuer::SelfSigned,
                signer: &key,
                validity: CertValidity::days_from_now(3650),
                serial: &sahih_pki::random_serial(),
                urls: CertUrls::default(),
            },
        )
        .expect("root");
        let identity = OfficialIdentity {
            nik: "3171012501850003".into(),
            nip: "198501252010011003".into(),
            name: "Fuzz".into(),
            email: "fuzz@uji.go.id".into(),
            position: "Uji".into(),
            unit: "Uji".into(),
            institution: "Fuzz".into(),
        };
        let leaf_der = issue(
            &Profile::Official(&identity),
            &IssueRequest {
                subject_spki: key.spki_der_ref(),
                issuer: Issuer::Ca(&root_der),
                signer: &key,
                validity: CertValidity::days_from_now(365),
                serial: &sahih_pki::random_serial(),
                urls: CertUrls::default(),
            },
        )
        .expect("leaf");
        let leaf = Certificate::from_der(&leaf_der).expect("leaf");
        let letter = single_page(
            &[Line {
                x: 72.0,
                y: 700.0,
                size: 12.0,
                bold: false,
                text: "Jumlah: Rp 1.000.000".into(),
            }],
            "Fuzz",
        );
        let pdf = PdfDocument::open(&letter, &OpenOptions::default()).expect("letter");
        let update = sign_pdf(
            &letter,
            &pdf,
            &SignRequest {
                stamp: None,
                reason: None,
                location: None,
                signer_name: Some("Fuzz".into()),
                signing_time: time::OffsetDateTime::now_utc(),
                field_name: None,
            },
            &Signer {
                certificate: &leaf,
                chain: &[],
                key_algorithm: KeyAlgorithm::EcdsaP256,
                producer: &key,
            },
        )
        .expect("sign");
        let mut signed = letter;
        signed.extend_from_slice(update.update_bytes());
        Seed {
            signed,
            root: Certificate::from_der(&root_der).expect("root"),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let seed = seed();
    let mut bytes = seed.signed.clone();
    bytes.extend_from_slice(data);
    let validator = SimplePathValidator::new(TrustStore::new(vec![seed.root.clone()]));
    let ctx = Context {
        validator: &validator,
        revocation: &NoRevocationData,
        at: time::OffsetDateTime::now_utc(),
    };
    let _ = validate_pdf(&bytes, &ctx);
});
