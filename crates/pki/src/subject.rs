//! What goes into a certificate subject: the names of an official ([`OfficialIdentity`]) or of
//! an institutional seal ([`SealIdentity`]) as plain data, and the checks that protect the
//! encoding of each value (not empty, not too long, no hidden control characters, only the
//! characters its ASN.1 string type can carry).
//!
//! Must not know: certificates, keys or storage, and the rules of Indonesian identity numbers
//! (NIK, NIP, e-mail policy): those are the domain's (`sahih-core`), checked before anything
//! is issued.

/// Identity of an official (ASN) as entered by the registration officer.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct OfficialIdentity {
    /// Nomor Induk Kependudukan (16 digits). Sensitive: never put into certificates.
    pub nik: String,
    /// Nomor Induk Pegawai (18 digits), written as `serialNumber=PNOID-<NIP>`.
    pub nip: String,
    /// Full name (with academic titles as printed on letters).
    pub name: String,
    /// Official e-mail address (subjectAltName rfc822Name).
    pub email: String,
    /// Position (jabatan).
    pub position: String,
    /// Unit (unit kerja / perangkat daerah).
    pub unit: String,
    /// Institution (instansi / pemerintah daerah).
    pub institution: String,
}

/// Identity of an institution's or unit's electronic seal: an organisation, no person.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SealIdentity {
    /// Display name of the seal, e.g. "DPMPTSP Kota Contoh" (the certificate's CN).
    pub name: String,
    /// Unit (perangkat daerah) the seal belongs to (OU).
    pub unit: String,
    /// Institution (pemerintah daerah) (O).
    pub institution: String,
    /// The responsible person's official e-mail (where one-time codes go). Not written into
    /// the certificate: it identifies a person, the certificate an organisation.
    pub email: String,
}

/// Maximum length (characters) of free-text identity fields.
pub const MAX_FIELD_CHARS: usize = 128;

/// A value that ends up in a certificate's subject or subjectAltName; it decides the ASN.1
/// string type, and so which characters the value may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SubjectField {
    /// commonName, UTF8String.
    Name,
    /// title, UTF8String.
    Position,
    /// organizationalUnitName, UTF8String.
    Unit,
    /// organizationName, UTF8String.
    Institution,
    /// The NIP inside serialNumber, PrintableString.
    Nip,
    /// subjectAltName rfc822Name, IA5String.
    Email,
}

impl SubjectField {
    /// The field as messages name it when it holds bad characters ("nama", "jabatan", ...).
    pub fn label(self) -> &'static str {
        match self {
            Self::Name => "nama",
            Self::Position => "jabatan",
            Self::Unit => "unit kerja",
            Self::Institution => "instansi",
            Self::Nip => "NIP",
            Self::Email => "alamat email",
        }
    }

    /// The field as messages name it when it is empty or too long: the institution is "nama
    /// instansi" there, a wording RA officers already know.
    fn noun(self) -> &'static str {
        match self {
            Self::Institution => "nama instansi",
            other => other.label(),
        }
    }

    /// Whether `value` has only characters of this field's ASN.1 string type.
    fn encodable(self, value: &str) -> bool {
        match self {
            Self::Name | Self::Position | Self::Unit | Self::Institution => true,
            Self::Nip => is_printable(value),
            Self::Email => value.bytes().all(|b| b.is_ascii_graphic()),
        }
    }
}

/// Why a value cannot go into a certificate subject. Messages are in Bahasa Indonesia (they
/// reach RA officers through the domain's identity errors).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubjectError {
    /// Nothing but whitespace.
    #[error("{} tidak boleh kosong", .0.noun())]
    Empty(SubjectField),
    /// More than [`MAX_FIELD_CHARS`] characters.
    #[error("{} terlalu panjang (maksimal {} karakter)", .0.noun(), MAX_FIELD_CHARS)]
    TooLong(SubjectField),
    /// Control characters (see [`is_hidden_control`]) or leading/trailing whitespace.
    #[error(
        "{} mengandung karakter kontrol atau spasi di awal/akhir yang tidak diizinkan",
        .0.label()
    )]
    InvalidCharacters(SubjectField),
    /// Characters the field's ASN.1 string type cannot carry (PrintableString for the NIP,
    /// IA5String for the e-mail address).
    #[error(
        "{} mengandung karakter yang tidak dapat ditulis ke sertifikat",
        .0.label()
    )]
    NotEncodable(SubjectField),
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

/// Whether `s` fits an X.520 PrintableString.
pub(crate) fn is_printable(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?".contains(&b))
}

/// Checks that `value` can be written as `field`: not blank, at most [`MAX_FIELD_CHARS`]
/// characters, no hidden control characters or surrounding whitespace, and only characters
/// of the field's string type. The first failure is returned.
pub fn check_subject_value(field: SubjectField, value: &str) -> Result<(), SubjectError> {
    if value.trim().is_empty() {
        return Err(SubjectError::Empty(field));
    }
    if value.chars().count() > MAX_FIELD_CHARS {
        return Err(SubjectError::TooLong(field));
    }
    if value.chars().any(is_hidden_control) || value.trim() != value {
        return Err(SubjectError::InvalidCharacters(field));
    }
    if !field.encodable(value) {
        return Err(SubjectError::NotEncodable(field));
    }
    Ok(())
}

impl OfficialIdentity {
    /// Checks every value the certificate carries (the NIK is not among them); the first
    /// failure is returned.
    pub fn check_subject(&self) -> Result<(), SubjectError> {
        check_subject_value(SubjectField::Nip, &self.nip)?;
        check_subject_value(SubjectField::Name, &self.name)?;
        check_subject_value(SubjectField::Email, &self.email)?;
        check_subject_value(SubjectField::Position, &self.position)?;
        check_subject_value(SubjectField::Unit, &self.unit)?;
        check_subject_value(SubjectField::Institution, &self.institution)
    }
}

impl SealIdentity {
    /// Checks every value the certificate carries (the e-mail address is not among them);
    /// the first failure is returned.
    pub fn check_subject(&self) -> Result<(), SubjectError> {
        check_subject_value(SubjectField::Name, &self.name)?;
        check_subject_value(SubjectField::Unit, &self.unit)?;
        check_subject_value(SubjectField::Institution, &self.institution)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidirectional_overrides_are_refused_in_names() {
        for bad in [
            "Budi\u{202E}inawS",
            "Budi\u{2066}x\u{2069}",
            "Bu\u{200B}di",
            "\u{FEFF}Budi",
        ] {
            assert_eq!(
                check_subject_value(SubjectField::Name, bad),
                Err(SubjectError::InvalidCharacters(SubjectField::Name)),
                "{bad:?}"
            );
        }
        assert!(check_subject_value(SubjectField::Name, "Drs. H. Ahmad Syaifuddin, M.Si.").is_ok());
        assert!(check_subject_value(SubjectField::Name, "Nyoman Śāstrī").is_ok());
    }

    #[test]
    fn values_must_fit_their_string_type() {
        assert!(is_printable("PNOID-198501012010011001"));
        assert!(!is_printable("a@b"));
        assert!(check_subject_value(SubjectField::Nip, "198501012010011001").is_ok());
        assert_eq!(
            check_subject_value(SubjectField::Nip, "1985@"),
            Err(SubjectError::NotEncodable(SubjectField::Nip))
        );
        assert_eq!(
            check_subject_value(SubjectField::Email, "ä@b.go.id"),
            Err(SubjectError::NotEncodable(SubjectField::Email))
        );
        assert!(check_subject_value(SubjectField::Email, "a@b.go.id").is_ok());
        assert!(check_subject_value(SubjectField::Unit, "Dinas Śāstrī").is_ok());
    }

    /// These words reach RA officers; they were fixed before the NIK/NIP rules moved out.
    #[test]
    fn messages_keep_their_words() {
        let cases = [
            (
                SubjectError::Empty(SubjectField::Name),
                "nama tidak boleh kosong",
            ),
            (
                SubjectError::TooLong(SubjectField::Name),
                "nama terlalu panjang (maksimal 128 karakter)",
            ),
            (
                SubjectError::Empty(SubjectField::Position),
                "jabatan tidak boleh kosong",
            ),
            (
                SubjectError::TooLong(SubjectField::Position),
                "jabatan terlalu panjang (maksimal 128 karakter)",
            ),
            (
                SubjectError::Empty(SubjectField::Unit),
                "unit kerja tidak boleh kosong",
            ),
            (
                SubjectError::TooLong(SubjectField::Unit),
                "unit kerja terlalu panjang (maksimal 128 karakter)",
            ),
            (
                SubjectError::Empty(SubjectField::Institution),
                "nama instansi tidak boleh kosong",
            ),
            (
                SubjectError::TooLong(SubjectField::Institution),
                "nama instansi terlalu panjang (maksimal 128 karakter)",
            ),
            (
                SubjectError::InvalidCharacters(SubjectField::Institution),
                "instansi mengandung karakter kontrol atau spasi di awal/akhir yang tidak diizinkan",
            ),
            (
                SubjectError::InvalidCharacters(SubjectField::Position),
                "jabatan mengandung karakter kontrol atau spasi di awal/akhir yang tidak diizinkan",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }
}
