//! API clients (the Pemda applications that call the ECS-compatible API) and their HTTP Basic
//! credentials.
//!
//! A credential is `name:secret` where the secret is 160 random bits; only its SHA-256 is
//! stored (a fast hash is right for a high-entropy secret, and keeps every request cheap), and
//! it is compared in constant time. There is no factory default credential.
//!
//! Also owns who may do what: [`ClientRole`] and the one [`Capability`] table every door
//! consults ([`permits`]). Must not know routes or HTTP; the server maps its routes onto
//! capabilities.

use aws_lc_rs::digest;
use std::net::IpAddr;

stored_kind!(
    /// What an API client is for. Stored as its lowercase name.
    #[derive(serde::Serialize)]
    #[serde(rename_all = "lowercase")]
    ClientRole {
        /// A Pemda application: signs and seals for officials, verifies; with a unit it may also
        /// file registrations for that unit (the ECS `user/registration` call real apps make).
        App => "app",
        /// Reads the audit log and the client list; signs nothing, decides nothing.
        Admin => "admin",
        /// An OPD operator: files registrations for their unit and follows them.
        Operator => "operator",
        /// The RA's verifikator: decides registrations and certificate changes, requests seals.
        Verifikator => "verifikator",
    }
);

impl ClientRole {
    /// Roles whose registrations and requests are confined to their own unit.
    pub fn unit_scoped(self) -> bool {
        matches!(self, Self::App | Self::Operator)
    }
}

/// Something an API client may be allowed to do. Every API route maps to exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Sign for an official, ask for their one-time code, fetch what was signed.
    Sign,
    /// Seal with an institution's e-seal, and manage its activation and one-time codes.
    Seal,
    /// Verify a PDF.
    Verify,
    /// Read an official's certificate status and the signing policy.
    ReadStatus,
    /// File a registration (enrolment, renewal, change) and its evidence.
    SubmitRegistration,
    /// Make the ECS registration call (the juknis `user/registration`, `{nama, email}` and
    /// optional extras). Unlike [`Self::SubmitRegistration`] an app needs no unit: without one
    /// it files for no unit, and the request waits until a verifikator hands it to a unit.
    RegisterOfficial,
    /// Read registrations and their evidence.
    ReadRegistrations,
    /// Approve or reject a registration, or send a new activation link.
    DecideRegistration,
    /// Revoke, suspend or resume a certificate.
    ChangeCertificate,
    /// Gateway mode: record an official enrolled at the upstream.
    EnrollUpstream,
    /// Request an institution's e-seal, or approve another verifikator's request.
    DecideSeal,
    /// List the e-seals.
    ListSeals,
    /// Read and check the audit log.
    ReadAudit,
    /// List the API clients.
    ListClients,
    /// Replace the document-class policy (the administrator's page; the CLI is trusted).
    ManagePolicy,
    /// Add, disable and enable API clients and make their webhook secrets (the administrator's
    /// page; the CLI is trusted).
    ManageClients,
    /// See the CA and trust services and rotate the issuing CA (the administrator's page; the
    /// CLI is trusted).
    ManageCa,
}

impl Capability {
    /// The authorization table: which roles hold this capability. A `match`, so a new
    /// capability cannot compile without its roles. Staff roles never sign or seal (security
    /// finding 4: each staff account would be one more channel for guessing an official's
    /// passphrase), and nobody both files and decides.
    pub fn roles(self) -> &'static [ClientRole] {
        use ClientRole::*;
        match self {
            Self::Sign | Self::Seal => &[App],
            Self::Verify | Self::ReadStatus => &[App, Admin, Operator, Verifikator],
            // An app only with a unit: see `permits`.
            Self::SubmitRegistration | Self::RegisterOfficial => &[Operator, App],
            Self::ReadRegistrations => &[Operator, Verifikator],
            Self::DecideRegistration
            | Self::ChangeCertificate
            | Self::EnrollUpstream
            | Self::DecideSeal => &[Verifikator],
            Self::ListSeals => &[Verifikator, Admin],
            Self::ReadAudit
            | Self::ListClients
            | Self::ManagePolicy
            | Self::ManageClients
            | Self::ManageCa => &[Admin],
        }
    }
}

/// Whether a client of `role` (bound to a unit or not) may do `capability`.
pub fn permits(role: ClientRole, has_unit: bool, capability: Capability) -> bool {
    // Native registrations always belong to a unit; an account without one files nothing
    // there. The ECS call is what every ECS app makes with the credential it signs with, so
    // an app without a unit may make it (its requests wait, unit-less, for a verifikator).
    let unit_needed = match capability {
        Capability::SubmitRegistration => true,
        Capability::RegisterOfficial => role != ClientRole::App,
        _ => false,
    };
    if unit_needed && !has_unit {
        return false;
    }
    capability.roles().contains(&role)
}

/// [`permits`] for an account as stored: its role and its unit, if any (blank is none).
pub fn account_may(role: ClientRole, unit: Option<&str>, capability: Capability) -> bool {
    permits(role, unit.is_some_and(|u| !u.trim().is_empty()), capability)
}

stored_kind!(
    /// Which error body an API client reads. ECS clients disagree on where the BSrE code is:
    /// Sahih's default puts the HTTP status in `status_code` (and the code in `error_code` and at
    /// the end of `error`); some clients read the code from `status_code`.
    ErrorShape {
        /// `status_code` is the HTTP status (the default).
        Http => "http",
        /// `status_code` is the BSrE error code.
        Bsre => "bsre",
    }
);

/// Events per source address in a fixed window, counted by one server process in memory: the
/// public portal's verifications and the web sign-in's failures. (Failed API authentications
/// are counted in the database instead, shared by every server: `Sahih::auth_throttled`.)
/// After `limit` events within `window`, the address is refused without a check until the
/// window ends. IPv6 addresses count per /64, which one host usually holds. Kept in memory:
/// each server counts its own.
pub struct AddressThrottle {
    limit: u32,
    window: std::time::Duration,
    failures: std::sync::Mutex<std::collections::HashMap<IpAddr, (std::time::Instant, u32)>>,
}

/// Entries kept before stale ones are swept out.
const THROTTLE_SWEEP_AT: usize = 4096;

impl AddressThrottle {
    /// Failed authentications allowed per address and window by default.
    pub const DEFAULT_LIMIT: u32 = 10;
    /// The default window: five minutes.
    pub const DEFAULT_WINDOW: std::time::Duration = std::time::Duration::from_secs(300);

    /// A throttle allowing `limit` events (at least 1) per `window`.
    pub fn new(limit: u32, window: std::time::Duration) -> Self {
        Self {
            limit: limit.max(1),
            window,
            failures: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    fn key(ip: IpAddr) -> IpAddr {
        throttle_key(ip)
    }

    /// How long `ip` must still wait, when it is cut off.
    pub fn blocked(&self, ip: IpAddr, now: std::time::Instant) -> Option<std::time::Duration> {
        let map = self.failures.lock().ok()?;
        let (start, count) = map.get(&Self::key(ip))?;
        let end = *start + self.window;
        (*count >= self.limit && now < end).then(|| end - now)
    }

    /// Counts an event; returns the count in the current window.
    pub fn record(&self, ip: IpAddr, now: std::time::Instant) -> u32 {
        let Ok(mut map) = self.failures.lock() else {
            return 0;
        };
        if map.len() >= THROTTLE_SWEEP_AT {
            let window = self.window;
            map.retain(|_, (start, _)| now.saturating_duration_since(*start) < window);
        }
        let entry = map.entry(Self::key(ip)).or_insert((now, 0));
        if now.saturating_duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1
    }

    /// Events allowed per window.
    pub fn limit(&self) -> u32 {
        self.limit
    }
}

impl Default for AddressThrottle {
    fn default() -> Self {
        Self::new(Self::DEFAULT_LIMIT, Self::DEFAULT_WINDOW)
    }
}

/// The address a throttle counts: itself for IPv4 (also IPv4-mapped IPv6), its /64 for IPv6,
/// which one host usually holds.
fn throttle_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
        },
        v4 => v4,
    }
}

/// [`throttle_key`] as the text the shared (database) throttle stores.
pub(crate) fn throttle_subject(ip: IpAddr) -> String {
    throttle_key(ip).to_string()
}

/// Client names double as Basic-auth user names.
pub fn validate_name(name: &str) -> Result<(), crate::Text> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(crate::Text::new(
            format!("nama klien {name:?} harus 1-64 karakter a-z, A-Z, 0-9, '-', '_' atau '.'"),
            format!("client name {name:?} must be 1-64 characters a-z, A-Z, 0-9, '-', '_' or '.'"),
        ))
    }
}

/// A new random secret (base32, 32 characters).
pub fn new_secret() -> String {
    // Two 128-bit ids, cut to 32 base32 characters: 160 random bits.
    let mut s = crate::ids::new_document_id();
    s.push_str(&crate::ids::new_document_id());
    s.truncate(32);
    s
}

/// SHA-256 (hex) of a client secret: what is stored instead of the secret.
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
    /// An address (`10.0.0.7`, a host prefix) or a block (`10.0.0.0/8`, `2001:db8::/32`).
    pub fn parse(s: &str) -> Result<Self, crate::Text> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network: IpAddr = addr.trim().parse().map_err(|_| {
            crate::Text::new(
                format!("{s:?} bukan alamat IP atau blok CIDR"),
                format!("{s:?} is not an IP address or CIDR block"),
            )
        })?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| {
                    crate::Text::new(
                        format!("{s:?}: panjang prefiks harus 0-{max}"),
                        format!("{s:?}: prefix must be 0-{max}"),
                    )
                })?,
            None => max,
        };
        Ok(Self { network, prefix })
    }

    /// Whether `ip` is inside the block (an IPv4-mapped IPv6 address counts as IPv4).
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
    fn the_table_covers_every_capability_and_staff_never_sign() {
        for role in [
            ClientRole::Admin,
            ClientRole::Operator,
            ClientRole::Verifikator,
        ] {
            for unit in [false, true] {
                assert!(!permits(role, unit, Capability::Sign), "{role} signs");
                assert!(!permits(role, unit, Capability::Seal), "{role} seals");
            }
        }
        assert!(permits(ClientRole::App, false, Capability::Sign));
        assert!(!permits(
            ClientRole::App,
            false,
            Capability::SubmitRegistration
        ));
        assert!(permits(
            ClientRole::App,
            true,
            Capability::SubmitRegistration
        ));
        assert!(!permits(
            ClientRole::App,
            true,
            Capability::DecideRegistration
        ));
        assert!(!permits(
            ClientRole::Operator,
            true,
            Capability::DecideRegistration
        ));
        assert!(!permits(
            ClientRole::Verifikator,
            false,
            Capability::SubmitRegistration
        ));
        // The ECS registration call: any app, an operator only with a unit.
        assert!(permits(
            ClientRole::App,
            false,
            Capability::RegisterOfficial
        ));
        assert!(!permits(
            ClientRole::Operator,
            false,
            Capability::RegisterOfficial
        ));
        assert!(!permits(
            ClientRole::Verifikator,
            false,
            Capability::RegisterOfficial
        ));
        for r in ClientRole::ALL {
            assert_eq!(ClientRole::parse(r.as_str()), Some(r));
        }
        assert_eq!(ClientRole::parse("seal"), None);
    }

    #[test]
    fn the_throttle_cuts_an_address_off_for_the_rest_of_its_window() {
        let t = AddressThrottle::new(3, std::time::Duration::from_secs(60));
        let now = std::time::Instant::now();
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        for i in 1..=3 {
            assert_eq!(t.blocked(a, now), None);
            assert_eq!(t.record(a, now), i);
        }
        assert_eq!(t.blocked(a, now), Some(std::time::Duration::from_secs(60)));
        assert_eq!(t.blocked(b, now), None);
        let later = now + std::time::Duration::from_secs(61);
        assert_eq!(t.blocked(a, later), None);
        assert_eq!(t.record(a, later), 1);
        // One IPv6 host, many addresses in its /64: one count.
        let v6 = |s: &str| s.parse::<IpAddr>().unwrap();
        t.record(v6("2001:db8::1"), now);
        t.record(v6("2001:db8::2"), now);
        t.record(v6("2001:db8::ffff:3"), now);
        assert!(t.blocked(v6("2001:db8::9"), now).is_some());
        assert!(t.blocked(v6("2001:db8:0:1::9"), now).is_none());
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
