//! Random public identifiers (document ids behind QR codes, client secrets).
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
