//! ECS error codes (docs/ECS.md): BSrE's where one exists, Sahih's own where it does not. The
//! code also ends the `error` text of an answer, as ECS writes it.
//!
//! Must not know: anything else; every module may use it.

pub const USER_NOT_REGISTERED: u32 = 2011;
pub const CERTIFICATE_NOT_ACTIVE: u32 = 2021;
pub const WRONG_PASSPHRASE: u32 = 2031;
pub const LOCKED: u32 = 2032;
pub const WRONG_OTP: u32 = 2033;
pub const POLICY_REFUSED: u32 = 2041;
pub const FIELD_REQUIRED: u32 = 4014;
pub const FIELD_INVALID: u32 = 4015;
/// An evidence file of the wrong type, too large or incomplete (Sahih).
pub const EVIDENCE_INVALID: u32 = 4016;
/// "NIK telah terdaftar" (legacy ECS).
pub const NIK_REGISTERED: u32 = 4024;
pub const NOT_FOUND: u32 = 4040;
/// An activation link that is unknown, used or expired (Sahih).
pub const LINK_INVALID: u32 = 4045;
/// A lifecycle step not allowed in the official's status (Sahih).
pub const INVALID_TRANSITION: u32 = 4091;
pub const DOCUMENT_INVALID: u32 = 4031;
pub const FILE_NOT_AVAILABLE: u32 = 4044;
pub const TOO_LARGE: u32 = 4131;
pub const UNAUTHORIZED: u32 = 4011;
/// Too many failed authentications from one address.
pub const TOO_MANY_REQUESTS: u32 = 4291;
pub const FORBIDDEN: u32 = 4033;
pub const INTERNAL: u32 = 5000;
/// A stored evidence file no longer matches its recorded hash.
pub const EVIDENCE_DAMAGED: u32 = 5001;
/// Gateway mode: the upstream ECS could not be reached or refused the gateway (Sahih).
pub const UPSTREAM_UNAVAILABLE: u32 = 5020;
