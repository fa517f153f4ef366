// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

mod common;

use sahih_pki::*;

#[test]
fn nik() {
    for good in [
        "3201014501900001",
        "3171010101850002",
        "1101017112990123",
        "9471022902000001",
    ] {
        assert_eq!(validate_nik(good), Ok(()), "{good}");
    }
    let bad = [
        ("320101450190000", IdentityError::NikLength),
        ("32010145019000011", IdentityError::NikLength),
        ("", IdentityError::NikLength),
        ("32010145019000a1", IdentityError::NikNotDigits),
        (
            "３２０１０１４５０１９００００１",
            IdentityError::NikNotDigits,
        ),
        ("0001014501900001", IdentityError::NikInvalidRegion),
        ("3200014501900001", IdentityError::NikInvalidRegion),
        ("3201013201900001", IdentityError::NikInvalidDate),
        ("3201010001900001", IdentityError::NikInvalidDate),
        ("3201017201900001", IdentityError::NikInvalidDate),
        ("3201014513900001", IdentityError::NikInvalidDate),
        ("3201013002900001", IdentityError::NikInvalidDate),
        ("3201010100900001", IdentityError::NikInvalidDate),
        ("3201014501900000", IdentityError::NikInvalidSequence),
    ];
    for (s, e) in bad {
        assert_eq!(validate_nik(s), Err(e.clone()), "{s}");
    }
    assert_eq!(
        IdentityError::NikLength.to_string(),
        "NIK harus terdiri dari 16 digit angka"
    );
}

#[test]
fn nip() {
    for good in [
        "198501012010011001",
        "197012312000122002",
        "200002292024031001",
    ] {
        assert_eq!(validate_nip(good), Ok(()), "{good}");
    }
    let bad = [
        ("19850101201001100", IdentityError::NipLength),
        ("1985010120100110011", IdentityError::NipLength),
        ("19850101201001100x", IdentityError::NipNotDigits),
        ("198502302010011001", IdentityError::NipInvalidBirthDate),
        ("190002292010011001", IdentityError::NipInvalidBirthDate),
        ("185001012010011001", IdentityError::NipInvalidBirthDate),
        ("198513012010011001", IdentityError::NipInvalidBirthDate),
        (
            "198501012010131001",
            IdentityError::NipInvalidAppointmentDate,
        ),
        (
            "198501011980011001",
            IdentityError::NipInvalidAppointmentDate,
        ),
        (
            "198501012010003001",
            IdentityError::NipInvalidAppointmentDate,
        ),
        ("198501012010013001", IdentityError::NipInvalidGender),
        ("198501012010010001", IdentityError::NipInvalidGender),
    ];
    for (s, e) in bad {
        assert_eq!(validate_nip(s), Err(e.clone()), "{s}");
    }
    assert!(
        IdentityError::NipInvalidGender
            .to_string()
            .contains("harus 1 atau 2")
    );
}

#[test]
fn email_and_identity() {
    for good in [
        "a@b.go.id",
        "siti.rahmawati@bogorkab.go.id",
        "x+y@sub-domain.example.com",
    ] {
        assert_eq!(validate_email(good), Ok(()), "{good}");
    }
    for bad in [
        "",
        "a",
        "a@b",
        "@b.com",
        "a@.com",
        "a..b@c.com",
        "a b@c.com",
        "a@-b.com",
        "ä@b.com",
        ".a@b.com",
    ] {
        assert!(validate_email(bad).is_err(), "{bad}");
    }
    let long = format!("{}@b.go.id", "a".repeat(125));
    assert_eq!(validate_email(&long), Err(IdentityError::EmailTooLong));

    let id = common::identity();
    assert_eq!(id.validate(), Ok(()));
    let mut b = id.clone();
    b.name = "  ".into();
    assert_eq!(b.validate(), Err(IdentityError::NameEmpty));
    b.name = "x".repeat(129);
    assert_eq!(b.validate(), Err(IdentityError::NameTooLong));
    b.name = "Budi\u{0007}".into();
    assert_eq!(
        b.validate(),
        Err(IdentityError::InvalidCharacters { field: "nama" })
    );
    let mut c = id.clone();
    c.position = String::new();
    c.unit = String::new();
    c.institution = "\n".into();
    c.nik = "1".into();
    let all = c.validate_all();
    assert!(all.contains(&IdentityError::PositionEmpty));
    assert!(all.contains(&IdentityError::UnitEmpty));
    assert!(all.contains(&IdentityError::InstitutionEmpty));
    assert!(all.contains(&IdentityError::NikLength));
    assert!(
        IdentityError::InvalidCharacters { field: "jabatan" }
            .to_string()
            .starts_with("jabatan ")
    );
    // issuance refuses invalid identities
    let k = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let pki = common::build_pki(KeyAlgorithm::EcdsaP256);
    let mut bad = id.clone();
    bad.nip = "123".into();
    let r = issue_official_certificate(
        &bad,
        &k.public_key_spki_der(),
        &pki.issuing.der,
        &pki.issuing_key,
        common::validity(0, 10),
        &random_serial(),
    );
    assert!(matches!(
        r,
        Err(PkiError::Identity(IdentityError::NipLength))
    ));
}
