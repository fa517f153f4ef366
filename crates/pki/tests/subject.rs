// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

//! What issuance refuses to write into a subject. The NIK, NIP and e-mail rules themselves
//! are the domain's (`sahih-core::identity`) and tested there.

mod common;

use sahih_pki::*;

#[test]
fn issuance_refuses_values_a_subject_cannot_carry() {
    let pki = common::build_pki(KeyAlgorithm::EcdsaP256);
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let spki = key.public_key_spki_der();
    let issue_for = |identity: &OfficialIdentity| {
        issue(
            &Profile::Official(identity),
            &common::under(
                &pki.issuing.der,
                &pki.issuing_key,
                &spki,
                common::validity(0, 10),
                &random_serial(),
            ),
        )
    };
    let good = common::identity();
    assert!(issue_for(&good).is_ok());
    // The NIK is never written, so issuance does not look at it.
    let mut no_nik = good.clone();
    no_nik.nik = String::new();
    assert!(issue_for(&no_nik).is_ok());

    let cases = [
        (
            OfficialIdentity {
                nip: "1985 01@".into(),
                ..good.clone()
            },
            SubjectError::NotEncodable(SubjectField::Nip),
        ),
        (
            OfficialIdentity {
                nip: String::new(),
                ..good.clone()
            },
            SubjectError::Empty(SubjectField::Nip),
        ),
        (
            OfficialIdentity {
                email: "siti@bogorkäb.go.id".into(),
                ..good.clone()
            },
            SubjectError::NotEncodable(SubjectField::Email),
        ),
        (
            OfficialIdentity {
                name: "Budi\u{202E}inawS".into(),
                ..good.clone()
            },
            SubjectError::InvalidCharacters(SubjectField::Name),
        ),
        (
            OfficialIdentity {
                position: "x".repeat(MAX_FIELD_CHARS + 1),
                ..good.clone()
            },
            SubjectError::TooLong(SubjectField::Position),
        ),
        (
            OfficialIdentity {
                unit: " ".into(),
                ..good.clone()
            },
            SubjectError::Empty(SubjectField::Unit),
        ),
    ];
    for (identity, expected) in cases {
        let r = issue_for(&identity);
        assert!(
            matches!(&r, Err(PkiError::Subject(e)) if *e == expected),
            "{identity:?}: {r:?}"
        );
    }
    assert_eq!(
        PkiError::from(SubjectError::Empty(SubjectField::Institution)).to_string(),
        "nama instansi tidak boleh kosong"
    );
}
