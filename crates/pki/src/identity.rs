//! Identity data of an official as the registration officer enters it, and its checks: NIK
//! (16 digits with region, birth date and sequence), NIP (18 digits with birth and appointment
//! dates and gender), e-mail, and names without hidden control characters.
//!
//! Must not know: certificates, keys or storage.

/// Identity of an official (ASN) as entered by the registration officer.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct OfficialIdentity {
    /// Nomor Induk Kependudukan (16 digits). Sensitive: never put into certificates.
    pub nik: String,
    /// Nomor Induk Pegawai (18 digits).
    pub nip: String,
    /// Full name (with academic titles as printed on letters).
    pub name: String,
    /// Official e-mail address.
    pub email: String,
    /// Position (jabatan).
    pub position: String,
    /// Unit (unit kerja / perangkat daerah).
    pub unit: String,
    /// Institution (instansi / pemerintah daerah).
    pub institution: String,
}

/// Maximum length (characters) of free-text identity fields.
pub const MAX_FIELD_CHARS: usize = 128;

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
    /// Name is empty.
    #[error("nama tidak boleh kosong")]
    NameEmpty,
    /// Name is too long.
    #[error("nama terlalu panjang (maksimal 128 karakter)")]
    NameTooLong,
    /// Position is empty.
    #[error("jabatan tidak boleh kosong")]
    PositionEmpty,
    /// Position is too long.
    #[error("jabatan terlalu panjang (maksimal 128 karakter)")]
    PositionTooLong,
    /// Unit is empty.
    #[error("unit kerja tidak boleh kosong")]
    UnitEmpty,
    /// Unit is too long.
    #[error("unit kerja terlalu panjang (maksimal 128 karakter)")]
    UnitTooLong,
    /// Institution is empty.
    #[error("nama instansi tidak boleh kosong")]
    InstitutionEmpty,
    /// Institution is too long.
    #[error("nama instansi terlalu panjang (maksimal 128 karakter)")]
    InstitutionTooLong,
    /// A text field contains control characters (or leading/trailing whitespace).
    #[error("{field} mengandung karakter kontrol atau spasi di awal/akhir yang tidak diizinkan")]
    InvalidCharacters {
        /// Field name in Bahasa Indonesia ("nama", "jabatan", ...).
        field: &'static str,
    },
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

fn num(s: &str, range: std::ops::Range<usize>) -> u32 {
    s.get(range)
        .and_then(|d| d.parse::<u32>().ok())
        .unwrap_or(0)
}

/// NIK: exactly 16 ASCII digits `PPKKCC DDMMYY SSSS`; province and regency not 00; day 01-31
/// (41-71 for women) and plausible for the month; month 01-12; sequence not 0000.
pub fn validate_nik(s: &str) -> std::result::Result<(), IdentityError> {
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
pub fn validate_nip(s: &str) -> std::result::Result<(), IdentityError> {
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
pub fn validate_email(s: &str) -> std::result::Result<(), IdentityError> {
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

/// Characters that change how text around them is shown without being seen: controls,
/// bidirectional embeddings, overrides and isolates (U+202A-202E, U+2066-2069, the marks
/// U+200E/U+200F), zero-width characters and the BOM. A name with U+202E shows reversed on
/// the stamp, the certificate and the verification page (security finding 13).
pub fn is_hidden_control(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}')
}

pub(crate) fn check_text(
    value: &str,
    field: &'static str,
    empty: IdentityError,
    too_long: IdentityError,
) -> std::result::Result<(), IdentityError> {
    if value.trim().is_empty() {
        return Err(empty);
    }
    if value.chars().count() > MAX_FIELD_CHARS {
        return Err(too_long);
    }
    if value.chars().any(is_hidden_control) || value.trim() != value {
        return Err(IdentityError::InvalidCharacters { field });
    }
    Ok(())
}

impl OfficialIdentity {
    /// Run all checks; the first failure is returned.
    pub fn validate(&self) -> std::result::Result<(), IdentityError> {
        self.validate_all().into_iter().next().map_or(Ok(()), Err)
    }

    /// Run all checks and return every failure (empty = valid), for forms.
    pub fn validate_all(&self) -> Vec<IdentityError> {
        let checks = [
            validate_nik(&self.nik),
            validate_nip(&self.nip),
            check_text(
                &self.name,
                "nama",
                IdentityError::NameEmpty,
                IdentityError::NameTooLong,
            ),
            validate_email(&self.email),
            check_text(
                &self.position,
                "jabatan",
                IdentityError::PositionEmpty,
                IdentityError::PositionTooLong,
            ),
            check_text(
                &self.unit,
                "unit kerja",
                IdentityError::UnitEmpty,
                IdentityError::UnitTooLong,
            ),
            check_text(
                &self.institution,
                "instansi",
                IdentityError::InstitutionEmpty,
                IdentityError::InstitutionTooLong,
            ),
        ];
        checks.into_iter().filter_map(|r| r.err()).collect()
    }
}

#[cfg(test)]
mod hidden_control_tests {
    use super::*;

    #[test]
    fn bidirectional_overrides_are_refused_in_names() {
        for bad in [
            "Budi\u{202E}inawS",
            "Budi\u{2066}x\u{2069}",
            "Bu\u{200B}di",
            "\u{FEFF}Budi",
        ] {
            assert!(
                matches!(
                    check_text(
                        bad,
                        "nama",
                        IdentityError::NameEmpty,
                        IdentityError::NameTooLong
                    ),
                    Err(IdentityError::InvalidCharacters { .. })
                ),
                "{bad:?}"
            );
        }
        assert!(
            check_text(
                "Drs. H. Ahmad Syaifuddin, M.Si.",
                "nama",
                IdentityError::NameEmpty,
                IdentityError::NameTooLong
            )
            .is_ok()
        );
        assert!(
            check_text(
                "Nyoman Śāstrī",
                "nama",
                IdentityError::NameEmpty,
                IdentityError::NameTooLong
            )
            .is_ok()
        );
    }
}
