//! Login passwords: Argon2id (m=19 MiB, t=2, p=1, the OWASP minimum) in the PHC string format,
//! checked in constant time. The login password is not the signing passphrase: it opens a
//! session, while the passphrase unlocks the signing key and is never stored in any form.
//!
//! Must not know: accounts or sessions.

use crate::{CoreError, Text};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Shortest login password accepted.
pub const MIN_LEN: usize = 10;

fn hasher() -> Result<Argon2<'static>, CoreError> {
    let params = Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| CoreError::Service(format!("Argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The PHC string to store for `password`.
pub fn hash(password: &str) -> Result<String, CoreError> {
    let mut salt = [0u8; 16];
    aws_lc_rs::rand::fill(&mut salt)
        .map_err(|_| CoreError::Service("random number generator failed".into()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| CoreError::Service(e.to_string()))?;
    Ok(hasher()?
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| CoreError::Service(format!("Argon2id: {e}")))?
        .to_string())
}

/// Whether `password` matches the stored PHC string (false for a damaged one).
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    hasher().is_ok_and(|h| h.verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash to check against when the account does not exist, so the answer takes as long as
/// for a real account (no account enumeration by timing).
pub fn decoy() -> &'static str {
    "$argon2id$v=19$m=19456,t=2,p=1$c2FoaWgtZGVjb3ktc2FsdA$0hPcZ6T5fH8v8d3ZCx0m2yIYyK0oXRn5kXq0b2dJ0Ew"
}

/// Refuses passwords too short, or equal to the signing passphrase or the login name.
pub fn check_strength(password: &str, login_names: &[&str]) -> Result<(), CoreError> {
    if password.chars().count() < MIN_LEN {
        return Err(CoreError::WeakPassphrase(Text::new(
            format!("Kata sandi masuk minimal {MIN_LEN} karakter."),
            format!("The login password needs at least {MIN_LEN} characters."),
        )));
    }
    let lower = password.to_lowercase();
    if login_names
        .iter()
        .any(|n| !n.is_empty() && lower.contains(&n.to_lowercase()))
    {
        return Err(CoreError::WeakPassphrase(Text::new(
            "Kata sandi masuk tidak boleh memuat NIP, e-mail, atau nama Anda.",
            "The login password must not contain your NIP, e-mail or name.",
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let h = hash("Kopi-Tubruk-Malang-7").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("Kopi-Tubruk-Malang-7", &h));
        assert!(!verify("Kopi-Tubruk-Malang-8", &h));
        assert!(!verify("anything", "not a phc string"));
        assert!(!verify("anything", decoy()));
    }

    #[test]
    fn weak_passwords_are_refused_with_reasons() {
        assert!(check_strength("pendek", &[]).is_err());
        assert!(check_strength("198501252010011003abc", &["198501252010011003"]).is_err());
        assert!(
            check_strength(
                "Kopi-Tubruk-Malang-7",
                &["198501252010011003", "budi@contoh.go.id"]
            )
            .is_ok()
        );
    }
}
