//! API clients (the Pemda applications that call the ECS-compatible API) and their HTTP Basic
//! credentials.
//!
//! A credential is `name:secret` where the secret is 160 random bits; only its SHA-256 is
//! stored (a fast hash is right for a high-entropy secret, and keeps every request cheap), and
//! it is compared in constant time. There is no factory default credential.

use aws_lc_rs::digest;
use std::net::IpAddr;

/// Client names double as Basic-auth user names.
pub fn validate_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "client name {name:?} must be 1-64 characters a-z, A-Z, 0-9, '-', '_' or '.'"
        ))
    }
}

/// A new random secret (base32, 32 characters).
pub fn new_secret() -> String {
    // Two 128-bit ids, cut to 32 base32 characters: 160 random bits.
    let mut s = crate::service::new_document_id();
    s.push_str(&crate::service::new_document_id());
    s.truncate(32);
    s
}

pub fn secret_hash(secret: &str) -> String {
    hex::encode(digest::digest(&digest::SHA256, secret.as_bytes()).as_ref())
}

/// Constant-time check of a presented secret against the stored hash.
pub fn secret_matches(presented: &str, stored_hash_hex: &str) -> bool {
    use subtle::ConstantTimeEq;
    let presented = secret_hash(presented);
    presented
        .as_bytes()
        .ct_eq(stored_hash_hex.as_bytes())
        .into()
}

/// An allow-list entry: an address or a CIDR block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Self, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{s:?} is not an IP address or CIDR block"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: prefix must be 0-{max}"))?,
            None => max,
        };
        Ok(Self { network, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// True when `allow` is empty (no restriction) or any entry contains `ip`.
pub fn ip_allowed(allow: &[String], ip: IpAddr) -> bool {
    allow.is_empty()
        || allow
            .iter()
            .filter_map(|c| Cidr::parse(c).ok())
            .any(|c| c.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_names() {
        let s = new_secret();
        assert_eq!(s.len(), 32);
        assert!(secret_matches(&s, &secret_hash(&s)));
        assert!(!secret_matches("x", &secret_hash(&s)));
        assert!(validate_name("e-office_1").is_ok());
        assert!(validate_name("a:b").is_err());
        assert!(validate_name("").is_err());
    }

    #[test]
    fn cidr_matching() {
        let net = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        assert!(
            Cidr::parse("127.0.0.1")
                .unwrap()
                .contains("127.0.0.1".parse().unwrap())
        );
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        assert!(
            Cidr::parse("fd00::/8")
                .unwrap()
                .contains("fd12::1".parse().unwrap())
        );
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("nope").is_err());
        assert!(ip_allowed(&[], "1.2.3.4".parse().unwrap()));
        assert!(!ip_allowed(
            &["127.0.0.1".into()],
            "1.2.3.4".parse().unwrap()
        ));
    }
}
