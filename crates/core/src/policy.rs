//! Document-class policy: which classes of document an institution allows, forbids or requires
//! to be signed electronically, by which positions, citing the local regulation (Perwako/Perbup).
//!
//! The policy is data (a TOML file loaded into the database with `sahih policy load`), so a
//! regulation change is an audited data change, not a release.

use serde::{Deserialize, Serialize};

/// What a class's rule says about electronic signatures (TTE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// TTE may be used.
    Allowed,
    /// TTE must not be used (e.g. budget and disbursement documents in one city).
    Forbidden,
    /// TTE must be used (e.g. finance documents and personnel decrees in another regency).
    Required,
}

impl Rule {
    /// The word used in policy files and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Forbidden => "forbidden",
            Self::Required => "required",
        }
    }
    /// The rule written as `s`; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "allowed" => Some(Self::Allowed),
            "forbidden" => Some(Self::Forbidden),
            "required" => Some(Self::Required),
            _ => None,
        }
    }
}

/// One class of document and its rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocClass {
    /// Short stable code used by API clients, e.g. `surat-dinas`.
    pub code: String,
    /// Name shown to officials, e.g. "Surat Dinas".
    pub name: String,
    /// Whether TTE is allowed, forbidden or required for it.
    pub rule: Rule,
    /// Positions (jabatan) that may sign this class; empty means any position. Matched
    /// case-insensitively as a substring of the official's position, so "Kepala" covers
    /// "Kepala Dinas Kominfo".
    #[serde(default)]
    pub positions: Vec<String>,
    /// The rule's legal basis, cited in refusals, e.g. "Perwako Contoh No. 7 Tahun 2024 Pasal 9".
    pub regulation: String,
}

/// A policy file as written by an institution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// The class used when a request names none (ECS clients may override it per client).
    pub default_class: String,
    /// The classes (`[[class]]` tables in the file).
    #[serde(rename = "class", default)]
    pub classes: Vec<DocClass>,
}

/// Why a policy file was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    /// It does not parse, or breaks a rule (see [`Policy::validate`]).
    #[error("policy file: {0}")]
    Invalid(String),
}

/// How one class differs between the current policy and a new one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassChange {
    /// Only in the new policy.
    Added(DocClass),
    /// Only in the current policy.
    Removed(DocClass),
    /// In both, with something different.
    Changed {
        /// As it is now.
        before: DocClass,
        /// As it would be.
        after: DocClass,
    },
}

impl Policy {
    /// What loading `new` would change, class by class in the new policy's order (removed
    /// classes last), and whether the default class changes.
    pub fn diff(&self, new: &Policy) -> (Vec<ClassChange>, Option<(String, String)>) {
        let mut changes = Vec::new();
        for after in &new.classes {
            match self.class(&after.code) {
                None => changes.push(ClassChange::Added(after.clone())),
                Some(before) if before != after => changes.push(ClassChange::Changed {
                    before: before.clone(),
                    after: after.clone(),
                }),
                Some(_) => {}
            }
        }
        for before in &self.classes {
            if new.class(&before.code).is_none() {
                changes.push(ClassChange::Removed(before.clone()));
            }
        }
        let default = (self.default_class != new.default_class)
            .then(|| (self.default_class.clone(), new.default_class.clone()));
        (changes, default)
    }

    /// Parses and validates a policy file.
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let p: Policy = toml::from_str(text).map_err(|e| PolicyError::Invalid(e.to_string()))?;
        p.validate()?;
        Ok(p)
    }

    /// Checks a policy: at least one class; codes of 1-64 characters `a-z`, `0-9`, `-`, each
    /// defined once; every class cites its regulation; the default class is defined.
    pub fn validate(&self) -> Result<(), PolicyError> {
        if self.classes.is_empty() {
            return Err(PolicyError::Invalid("no [[class]] defined".into()));
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.classes {
            let ok = !c.code.is_empty()
                && c.code.len() <= 64
                && c.code
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
            if !ok {
                return Err(PolicyError::Invalid(format!(
                    "class code {:?} must be 1-64 characters a-z, 0-9 or -",
                    c.code
                )));
            }
            if !seen.insert(c.code.as_str()) {
                return Err(PolicyError::Invalid(format!(
                    "class {} defined twice",
                    c.code
                )));
            }
            if c.regulation.trim().is_empty() {
                return Err(PolicyError::Invalid(format!(
                    "class {} must cite its regulation",
                    c.code
                )));
            }
        }
        if !seen.contains(self.default_class.as_str()) {
            return Err(PolicyError::Invalid(format!(
                "default_class {} is not a defined class",
                self.default_class
            )));
        }
        Ok(())
    }

    /// The class with this code.
    pub fn class(&self, code: &str) -> Option<&DocClass> {
        self.classes.iter().find(|c| c.code == code)
    }

    /// Decides whether an official holding `position` may sign a document of class `code`.
    pub fn decide(&self, code: &str, position: &str) -> Decision {
        let Some(class) = self.class(code) else {
            return Decision::UnknownClass {
                code: code.to_string(),
            };
        };
        if class.rule == Rule::Forbidden {
            return Decision::Forbidden {
                class: class.clone(),
            };
        }
        let position_lc = position.to_lowercase();
        if !class.positions.is_empty()
            && !class
                .positions
                .iter()
                .any(|p| position_lc.contains(&p.to_lowercase()))
        {
            return Decision::PositionNotAllowed {
                class: class.clone(),
            };
        }
        Decision::Allowed {
            class: class.clone(),
        }
    }

    /// The permissive policy a fresh data directory starts with: one class, allowed.
    pub fn permissive() -> Self {
        Self {
            default_class: "umum".into(),
            classes: vec![DocClass {
                code: "umum".into(),
                name: "Naskah dinas umum".into(),
                rule: Rule::Allowed,
                positions: vec![],
                regulation: "Kebijakan bawaan Sahih (belum ada peraturan daerah yang dimuat)"
                    .into(),
            }],
        }
    }
}

/// Whether an official may sign a document of a class ([`Policy::decide`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Signing may go ahead.
    Allowed {
        /// The class decided on.
        class: DocClass,
    },
    /// The class must not be signed electronically.
    Forbidden {
        /// The class decided on.
        class: DocClass,
    },
    /// The class is limited to positions the official does not hold.
    PositionNotAllowed {
        /// The class decided on.
        class: DocClass,
    },
    /// The policy has no class with this code.
    UnknownClass {
        /// The code asked for.
        code: String,
    },
}

impl Decision {
    /// Whether signing may go ahead.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Self::Allowed { .. })
    }

    /// The refusal, citing the rule, for the official and the audit log.
    pub fn refusal(&self, lang: crate::Lang) -> Option<String> {
        use crate::Lang::*;
        match (self, lang) {
            (Self::Allowed { .. }, _) => None,
            (Self::Forbidden { class }, Id) => Some(format!(
                "Dokumen kelas \"{}\" tidak boleh ditandatangani secara elektronik menurut {}.",
                class.name, class.regulation
            )),
            (Self::Forbidden { class }, En) => Some(format!(
                "Documents of class \"{}\" must not be signed electronically under {}.",
                class.name, class.regulation
            )),
            (Self::PositionNotAllowed { class }, Id) => Some(format!(
                "Jabatan Anda tidak berwenang menandatangani dokumen kelas \"{}\" ({}); yang berwenang: {}.",
                class.name,
                class.regulation,
                class.positions.join(", ")
            )),
            (Self::PositionNotAllowed { class }, En) => Some(format!(
                "Your position may not sign documents of class \"{}\" ({}); allowed: {}.",
                class.name,
                class.regulation,
                class.positions.join(", ")
            )),
            (Self::UnknownClass { code }, Id) => Some(format!(
                "Kelas dokumen \"{code}\" tidak dikenal dalam kebijakan instansi."
            )),
            (Self::UnknownClass { code }, En) => Some(format!(
                "Document class \"{code}\" is not defined in the institution's policy."
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FINANCE_FORBIDDEN: &str = include_str!("../../../policies/kota-larangan-keuangan.toml");
    const FINANCE_REQUIRED: &str =
        include_str!("../../../policies/kabupaten-wajib-keuangan-kepegawaian.toml");

    #[test]
    fn shipped_policies_parse_and_decide() {
        let city = Policy::from_toml(FINANCE_FORBIDDEN).unwrap();
        let d = city.decide("dokumen-pencairan", "Kepala Dinas");
        assert!(!d.is_allowed());
        assert!(d.refusal(crate::Lang::Id).unwrap().contains("Pasal"));
        assert!(city.decide("surat-dinas", "Kepala Dinas").is_allowed());

        let regency = Policy::from_toml(FINANCE_REQUIRED).unwrap();
        assert!(
            regency
                .decide("dokumen-anggaran", "Kepala Badan Keuangan")
                .is_allowed()
        );
        let sk = regency.decide("sk-kepegawaian", "Staf Pelaksana");
        assert!(matches!(sk, Decision::PositionNotAllowed { .. }));
        assert!(matches!(
            regency.decide("tidak-ada", "Bupati"),
            Decision::UnknownClass { .. }
        ));
    }

    #[test]
    fn invalid_policies_are_refused() {
        assert!(Policy::from_toml("default_class = \"x\"").is_err());
        let dup = "default_class = \"a\"\n[[class]]\ncode=\"a\"\nname=\"A\"\nrule=\"allowed\"\nregulation=\"R\"\n[[class]]\ncode=\"a\"\nname=\"A\"\nrule=\"allowed\"\nregulation=\"R\"\n";
        assert!(Policy::from_toml(dup).is_err());
        let no_reg = "default_class = \"a\"\n[[class]]\ncode=\"a\"\nname=\"A\"\nrule=\"allowed\"\nregulation=\" \"\n";
        assert!(Policy::from_toml(no_reg).is_err());
        assert!(Policy::permissive().validate().is_ok());
    }
}
