//! ECS error codes (docs/ECS.md): BSrE's where one exists, Sahih's own where it does not. The
//! code also ends the `error` text of an answer, as ECS writes it.
//!
//! Must not know: anything else; every module may use it.

/// The NIK or e-mail address has no certificate here (BSrE 2011).
pub const USER_NOT_REGISTERED: u32 = 2011;
/// The official's certificate is not active: suspended, revoked, expired or not yet activated (BSrE 2021).
pub const CERTIFICATE_NOT_ACTIVE: u32 = 2021;
/// The passphrase does not open the official's key (BSrE 2031).
pub const WRONG_PASSPHRASE: u32 = 2031;
/// Too many wrong passphrases: the official is locked out for a while (BSrE 2032).
pub const LOCKED: u32 = 2032;
/// The one-time code is wrong, spent or expired (BSrE 2033).
pub const WRONG_OTP: u32 = 2033;
/// The institution's policy forbids this document class or signer (Sahih).
pub const POLICY_REFUSED: u32 = 2041;
/// A required field is missing (BSrE 4014).
pub const FIELD_REQUIRED: u32 = 4014;
/// A field has a value the API cannot take (BSrE 4015).
pub const FIELD_INVALID: u32 = 4015;
/// An evidence file of the wrong type, too large or incomplete (Sahih).
pub const EVIDENCE_INVALID: u32 = 4016;
/// "NIK telah terdaftar" (legacy ECS).
pub const NIK_REGISTERED: u32 = 4024;
/// No such address or record.
pub const NOT_FOUND: u32 = 4040;
/// An activation link that is unknown, used or expired (Sahih).
pub const LINK_INVALID: u32 = 4045;
/// A lifecycle step not allowed in the official's status (Sahih).
pub const INVALID_TRANSITION: u32 = 4091;
/// The document is not a PDF this service can sign (damaged, encrypted, not a PDF).
pub const DOCUMENT_INVALID: u32 = 4031;
/// A signed file was downloaded already or is no longer kept.
pub const FILE_NOT_AVAILABLE: u32 = 4044;
/// The request body is larger than the configured limit.
pub const TOO_LARGE: u32 = 4131;
/// The API credential is missing or wrong.
pub const UNAUTHORIZED: u32 = 4011;
/// Too many failed authentications from one address.
pub const TOO_MANY_REQUESTS: u32 = 4291;
/// The API client may not use this route (role, unit, disabled, address).
pub const FORBIDDEN: u32 = 4033;
/// Something failed inside the service; the log has the request id.
pub const INTERNAL: u32 = 5000;
/// A stored evidence file no longer matches its recorded hash.
pub const EVIDENCE_DAMAGED: u32 = 5001;
/// Gateway mode: the upstream ECS could not be reached or refused the gateway (Sahih).
pub const UPSTREAM_UNAVAILABLE: u32 = 5020;
