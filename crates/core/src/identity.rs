//! The rules an official's or a seal's identity must meet before Sahih records it or issues
//! a certificate for it: NIK (16 digits with region, birth date and sequence), NIP (18 digits
//! with birth and appointment dates and gender), the e-mail address, and, through
//! `sahih-pki`, what a certificate subject can carry (names without hidden control
//! characters, lengths).
//!
//! Must not know: certificates, keys, storage or how a form shows the messages.

use sahih_pki::{
    MAX_FIELD_CHARS, OfficialIdentity, SealIdentity, SubjectError, SubjectField,
    check_subject_value,
};

/// Why identity data was rejected. Messages are in Bahasa Indonesia (shown to RA officers).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// NIK is not 16 characters long.
    #[error("NIK harus terdiri dari 16 digit angka")]
    NikLength,
    /// NIK contains something other than ASCII digits.
    #[error("NIK hanya boleh berisi angka 0-9")]
    NikNotDigits,
    /// NIK region code (province or regency) is 00.
    #[error("kode wilayah pada NIK tidak valid (kode provinsi/kabupaten tidak boleh 00)")]
    NikInvalidRegion,
    /// NIK date-of-birth part is implausible.
    #[error(
        "tanggal lahir pada NIK tidak valid (digit 7-12 harus TTBBTT; tanggal 01-31, atau 41-71 untuk perempuan)"
    )]
    NikInvalidDate,
    /// NIK sequence number is 0000.
    #[error("nomor urut pada NIK tidak boleh 0000")]
    NikInvalidSequence,
    /// NIP is not 18 characters long.
    #[error("NIP harus terdiri dari 18 digit angka")]
    NipLength,
    /// NIP contains something other than ASCII digits.
    #[error("NIP hanya boleh berisi angka 0-9")]
    NipNotDigits,
    /// NIP birth date (digits 1-8) is not a valid date.
    #[error("tanggal lahir pada NIP tidak valid (digit 1-8 harus TTTTBBHH)")]
    NipInvalidBirthDate,
    /// NIP appointment date (digits 9-14) is implausible.
    #[error(
        "TMT pengangkatan pada NIP tidak valid (digit 9-14 harus TTTTBB, setelah tanggal lahir)"
    )]
    NipInvalidAppointmentDate,
    /// NIP gender digit (15) is not 1 or 2.
    #[error("kode jenis kelamin pada NIP (digit ke-15) harus 1 atau 2")]
    NipInvalidGender,
    /// E-mail address is malformed.
    #[error("alamat email tidak valid")]
    EmailInvalid,
    /// E-mail address is too long.
    #[error("alamat email terlalu panjang (maksimal 128 karakter)")]
    EmailTooLong,
    /// A name, position, unit or institution that a certificate subject cannot carry (empty,
    /// too long, hidden control characters).
    #[error(transparent)]
    Subject(#[from] SubjectError),
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// The number written by the digits of `s` in `range` (0 when they are not digits; callers
/// check the digits first).
fn num(s: &str, range: std::ops::Range<usize>) -> u32 {
    s.get(range)
        .and_then(|d| d.parse::<u32>().ok())
        .unwrap_or(0)
}

/// NIK: exactly 16 ASCII digits `PPKKCC DDMMYY SSSS`; province and regency not 00; day 01-31
/// (41-71 for women) and plausible for the month; month 01-12; sequence not 0000.
pub fn validate_nik(s: &str) -> Result<(), IdentityError> {
    if !s.is_ascii() || s.len() != 16 {
        return Err(if s.chars().count() == 16 {
            IdentityError::NikNotDigits
        } else {
            IdentityError::NikLength
        });
    }
    if !all_digits(s) {
        return Err(IdentityError::NikNotDigits);
    }
    if num(s, 0..2) == 0 || num(s, 2..4) == 0 {
        return Err(IdentityError::NikInvalidRegion);
    }
    let mut day = num(s, 6..8);
    if day > 40 {
        day -= 40;
    }
    let month = num(s, 8..10);
    let max_day = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 => 29, // the two-digit year does not tell us about leap years
        _ => return Err(IdentityError::NikInvalidDate),
    };
    if day == 0 || day > max_day {
        return Err(IdentityError::NikInvalidDate);
    }
    if num(s, 12..16) == 0 {
        return Err(IdentityError::NikInvalidSequence);
    }
    Ok(())
}

/// NIP: exactly 18 ASCII digits `YYYYMMDD YYYYMM G NNN`: a valid birth date (1900-2100), an
/// appointment month (1945-2100, 01-12) after the birth month, gender digit 1 or 2.
pub fn validate_nip(s: &str) -> Result<(), IdentityError> {
    if !s.is_ascii() || s.len() != 18 {
        return Err(if s.chars().count() == 18 {
            IdentityError::NipNotDigits
        } else {
            IdentityError::NipLength
        });
    }
    if !all_digits(s) {
        return Err(IdentityError::NipNotDigits);
    }
    let (by, bm, bd) = (num(s, 0..4), num(s, 4..6), num(s, 6..8));
    let birth_ok = (1900..=2100).contains(&by)
        && u8::try_from(bm)
            .ok()
            .and_then(|m| time::Month::try_from(m).ok())
            .and_then(|m| time::Date::from_calendar_date(by as i32, m, u8::try_from(bd).ok()?).ok())
            .is_some();
    if !birth_ok {
        return Err(IdentityError::NipInvalidBirthDate);
    }
    let (ay, am) = (num(s, 8..12), num(s, 12..14));
    if !(1945..=2100).contains(&ay) || !(1..=12).contains(&am) || (ay * 12 + am) <= (by * 12 + bm) {
        return Err(IdentityError::NipInvalidAppointmentDate);
    }
    match s.as_bytes().get(14) {
        Some(b'1') | Some(b'2') => Ok(()),
        _ => Err(IdentityError::NipInvalidGender),
    }
}

/// Pragmatic e-mail check: ASCII, `local@domain`, local part 1-64 characters of
/// `A-Za-z0-9.!#$%&'*+/=?^_`{|}~-` (no leading/trailing/double dot), domain of at least two
/// LDH labels (1-63 characters, no leading/trailing hyphen), at most 128 characters in all.
pub fn validate_email(s: &str) -> Result<(), IdentityError> {
    if s.len() > MAX_FIELD_CHARS {
        return Err(IdentityError::EmailTooLong);
    }
    if !s.is_ascii() {
        return Err(IdentityError::EmailInvalid);
    }
    let (local, domain) = s.rsplit_once('@').ok_or(IdentityError::EmailInvalid)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if local_ok && domain_ok {
        Ok(())
    } else {
        Err(IdentityError::EmailInvalid)
    }
}

/// A name-like value: what the certificate subject needs of it.
fn text(field: SubjectField, value: &str) -> Result<(), IdentityError> {
    Ok(check_subject_value(field, value)?)
}

/// Runs every check on an official's identity; the first failure is returned.
pub fn validate_official(identity: &OfficialIdentity) -> Result<(), IdentityError> {
    validate_official_all(identity)
        .into_iter()
        .next()
        .map_or(Ok(()), Err)
}

/// Runs every check on an official's identity and returns each failure in form order (NIK,
/// NIP, name, e-mail, position, unit, institution); empty means valid. For forms, which show
/// them all at once.
pub fn validate_official_all(identity: &OfficialIdentity) -> Vec<IdentityError> {
    [
        validate_nik(&identity.nik),
        validate_nip(&identity.nip),
        text(SubjectField::Name, &identity.name),
        validate_email(&identity.email),
        text(SubjectField::Position, &identity.position),
        text(SubjectField::Unit, &identity.unit),
        text(SubjectField::Institution, &identity.institution),
    ]
    .into_iter()
    .filter_map(Result::err)
    .collect()
}

/// Runs every check on a seal's identity (names, and the responsible person's e-mail); the
/// first failure is returned.
pub fn validate_seal(identity: &SealIdentity) -> Result<(), IdentityError> {
    text(SubjectField::Name, &identity.name)?;
    text(SubjectField::Unit, &identity.unit)?;
    text(SubjectField::Institution, &identity.institution)?;
    validate_email(&identity.email)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn official() -> OfficialIdentity {
        OfficialIdentity {
            nik: "3201014501900001".into(),
            nip: "198501012010011001".into(),
            name: "Dr. Siti Rahmawati, S.Kom., M.T.".into(),
            email: "siti.rahmawati@bogorkab.go.id".into(),
            position: "Kepala Dinas Komunikasi dan Informatika".into(),
            unit: "Dinas Komunikasi dan Informatika".into(),
            institution: "Pemerintah Kabupaten Bogor".into(),
        }
    }

    fn seal() -> SealIdentity {
        SealIdentity {
            name: "DPMPTSP Kota Contoh".into(),
            unit: "Dinas Penanaman Modal dan PTSP".into(),
            institution: "Pemerintah Kota Contoh".into(),
            email: "kepala.dpmptsp@contoh.go.id".into(),
        }
    }

    fn subject(e: SubjectError) -> IdentityError {
        IdentityError::Subject(e)
    }

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

        let id = official();
        assert_eq!(validate_official(&id), Ok(()));
        let mut b = id.clone();
        b.name = "  ".into();
        assert_eq!(
            validate_official(&b),
            Err(subject(SubjectError::Empty(SubjectField::Name)))
        );
        b.name = "x".repeat(129);
        assert_eq!(
            validate_official(&b),
            Err(subject(SubjectError::TooLong(SubjectField::Name)))
        );
        b.name = "Budi\u{0007}".into();
        assert_eq!(
            validate_official(&b),
            Err(subject(SubjectError::InvalidCharacters(SubjectField::Name)))
        );
        let mut c = id.clone();
        c.position = String::new();
        c.unit = String::new();
        c.institution = "\n".into();
        c.nik = "1".into();
        let all = validate_official_all(&c);
        assert!(all.contains(&subject(SubjectError::Empty(SubjectField::Position))));
        assert!(all.contains(&subject(SubjectError::Empty(SubjectField::Unit))));
        assert!(all.contains(&subject(SubjectError::Empty(SubjectField::Institution))));
        assert!(all.contains(&IdentityError::NikLength));
        assert!(
            subject(SubjectError::InvalidCharacters(SubjectField::Position))
                .to_string()
                .starts_with("jabatan ")
        );
        // An official with a short NIP is refused before anything is issued.
        let mut bad = id.clone();
        bad.nip = "123".into();
        assert_eq!(validate_official(&bad), Err(IdentityError::NipLength));
    }

    #[test]
    fn seal_identity_is_checked() {
        let mut id = seal();
        id.name = " ".into();
        assert_eq!(
            validate_seal(&id),
            Err(subject(SubjectError::Empty(SubjectField::Name)))
        );
        let mut id = seal();
        id.email = "bukan-email".into();
        assert_eq!(validate_seal(&id), Err(IdentityError::EmailInvalid));
        let mut id = seal();
        id.unit = "Dinas\nX".into();
        assert!(matches!(
            validate_seal(&id),
            Err(IdentityError::Subject(SubjectError::InvalidCharacters(_)))
        ));
        assert_eq!(validate_seal(&seal()), Ok(()));
    }
}
