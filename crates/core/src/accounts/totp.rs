//! Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP): HMAC-SHA1, 30-second steps,
//! six digits, the parameters every authenticator app uses by default. A code is accepted for
//! the current step and one step either side (clock drift), and never twice: the caller keeps
//! the last step accepted and passes it back.
//!
//! Must not know: where secrets are stored or who they belong to.

use aws_lc_rs::hmac;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Bytes of a new secret (160 bits, RFC 4226's recommendation).
pub const SECRET_BYTES: usize = 20;

/// A fresh random secret.
pub fn new_secret() -> Result<Zeroizing<Vec<u8>>, crate::CoreError> {
    let mut s = Zeroizing::new(vec![0u8; SECRET_BYTES]);
    aws_lc_rs::rand::fill(&mut s)
        .map_err(|_| crate::CoreError::Service("random number generator failed".into()))?;
    Ok(s)
}

/// The HOTP value of `secret` at `counter` (RFC 4226 5.3), as a zero-padded string.
pub fn hotp(secret: &[u8], counter: u64) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let tag = hmac::sign(&key, &counter.to_be_bytes());
    let mac = tag.as_ref();
    let offset = usize::from(mac.last().copied().unwrap_or(0) & 0x0f);
    let word = mac
        .get(offset..offset + 4)
        .map(|b| u32::from_be_bytes([b[0] & 0x7f, b[1], b[2], b[3]]))
        .unwrap_or(0);
    format!(
        "{:0width$}",
        word % 10u32.pow(DIGITS),
        width = DIGITS as usize
    )
}

/// The step a Unix time falls in.
pub fn step_at(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The step `code` is valid for, within one step of `now_step` and after `last_step` (replay),
/// or None. Spaces in the code are ignored (apps show "123 456").
pub fn accept(secret: &[u8], code: &str, now_step: i64, last_step: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut found = None;
    // Every candidate is computed and compared, so timing does not tell which step matched.
    for step in [now_step - 1, now_step, now_step + 1] {
        let Ok(counter) = u64::try_from(step) else {
            continue;
        };
        let ok: bool = hotp(secret, counter)
            .as_bytes()
            .ct_eq(code.as_bytes())
            .into();
        if ok && step > last_step && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// RFC 4648 base32 without padding: how authenticator apps take a secret typed by hand.
pub fn base32(bytes: &[u8]) -> String {
    crate::ids::base32(bytes)
}

/// The `otpauth://` URI an authenticator app scans (Key Uri Format).
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> String {
    let label = format!("{}:{}", url_encode(issuer), url_encode(account));
    format!(
        "otpauth://totp/{label}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        base32(secret),
        url_encode(issuer)
    )
}

fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'@') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows (8 digits there; the last six digits are ours).
    #[test]
    fn rfc6238_test_vectors() {
        let secret = b"12345678901234567890";
        for (time, eight) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            let step = u64::try_from(step_at(time)).unwrap();
            assert_eq!(hotp(secret, step), eight[2..], "t={time}");
        }
    }

    #[test]
    fn drift_of_one_step_is_accepted_and_no_code_twice() {
        let secret = b"12345678901234567890";
        let now = step_at(1234567890);
        let code = hotp(secret, u64::try_from(now - 1).unwrap());
        assert_eq!(accept(secret, &code, now, 0), Some(now - 1));
        assert_eq!(accept(secret, &code, now, now - 1), None, "replayed");
        let far = hotp(secret, u64::try_from(now - 2).unwrap());
        assert_eq!(accept(secret, &far, now, 0), None, "two steps old");
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(accept(secret, &spaced, now, 0), Some(now - 1));
        assert_eq!(accept(secret, "12345", now, 0), None);
        assert_eq!(accept(secret, "abcdef", now, 0), None);
    }

    #[test]
    fn base32_matches_rfc4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"fo"), "MZXQ");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
    }

    #[test]
    fn uri_names_issuer_and_account() {
        let uri = otpauth_uri(
            b"12345678901234567890",
            "Pemkot Contoh",
            "budi@contoh.go.id",
        );
        assert!(
            uri.starts_with("otpauth://totp/Pemkot%20Contoh:budi@contoh.go.id?secret=GEZDGNBV")
        );
        assert!(uri.contains("&issuer=Pemkot%20Contoh&"));
    }
}
