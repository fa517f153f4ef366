//! Random public identifiers (document ids behind QR codes, client secrets) and the SHA-256
//! fingerprints by which files and secret tokens are recorded.
//!
//! Must not know: anything else of the domain; it is a leaf every module may use.

/// Unguessable public id for the QR URL: 128 random bits, base32 (lowercase, no padding).
pub fn new_document_id() -> String {
    let mut bytes = [0u8; 16];
    // aws-lc-rs aborts rather than fail; a failure here would be a broken RNG.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    base32(&bytes).to_ascii_lowercase()
}

/// RFC 4648 base32 (upper case, no padding): ids here, and TOTP secrets as authenticator apps
/// take them typed by hand.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0u32;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// SHA-256 of `bytes`, lowercase hex: how files are recorded.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
}

/// What the database keeps of a secret token (activation and setup links, sessions): its
/// SHA-256, never the token.
pub fn token_sha256(token: &str) -> String {
    sha256_hex(token.as_bytes())
}
