//! Client of an upstream ECS, for gateway mode.
//!
//! In gateway mode the signing requests of some officials are not signed by Sahih itself but
//! forwarded to an upstream service that speaks the BSrE "Esign Client Service" (ECS) API: in
//! production BSrE's ECS, in tests another Sahih process. This module is the HTTP client of that
//! upstream: v2 bulk signing, v2 user status, signing one-time codes (TOTP) and user
//! registration, all with HTTP Basic authentication (the gateway's API credential upstream).
//!
//! Owns: building the ECS request bodies, the HTTP exchange (time limit, response size limits,
//! no redirects, no retries), decoding the answers, and reading ECS error bodies defensively
//! (the numeric BSrE code may be in `error_code`, in `status_code` as a number or a string, or
//! at the end of the `error`/`message` text, see `../shared/reference/ecs-api.md` section 8).
//! It keeps the gateway password, the official's passphrase and one-time codes out of every
//! error and `Debug` output, even when the upstream echoes them back.
//!
//! Must not know: who may sign what (policy), audit entries, lockouts and throttling, retries.
//! Those stay local in Sahih, which decides before calling this client and records afterwards.
//! In particular nothing here retries: a wrong passphrase (2031) sent twice would count twice
//! upstream.
//!
//! The API is blocking (ureq); the server calls it from `tokio::task::spawn_blocking`.

use crate::codes as code;
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value, json};
use std::fmt;
use std::time::Duration;
use ureq::http::HeaderValue;
use zeroize::Zeroizing;

/// v2 bulk signing.
pub const SIGN_PATH: &str = "/api/v2/sign/pdf";
/// v2 status of an official (`{nik}` or `{email}`).
pub const STATUS_PATH: &str = "/api/v2/user/check/status";
/// v2 one-time code for signing, e-mailed to the official by the upstream.
pub const TOTP_PATH: &str = "/api/v2/sign/get/totp";
/// Registration path of the juknis; some deployments use `/api/v2/user/register`.
pub const DEFAULT_REGISTRATION_PATH: &str = "/api/v2/user/registration";
/// Time limit of one request, used when the configured one is zero. Bulk signing through ECS
/// can take long (the reference advises 120 s or more).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// Largest answer read from the sign endpoint (base64 PDFs).
pub const SIGN_RESPONSE_LIMIT: u64 = 512 * 1024 * 1024;
/// Largest answer read from every other endpoint, and from any error answer.
pub const RESPONSE_LIMIT: u64 = 1024 * 1024;
/// Longest message kept from an upstream error body.
const MAX_MESSAGE_CHARS: usize = 500;
/// Statuses of the v2 status endpoint (juknis).
const KNOWN_STATUSES: &[&str] = &[
    "ISSUE",
    "EXPIRED",
    "RENEW",
    "WAITING_FOR_VERIFICATION",
    "NEW",
    "NO_CERTIFICATE",
    "NOT_REGISTERED",
    "SUSPEND",
    "REVOKE",
];

const B64: GeneralPurpose = base64::engine::general_purpose::STANDARD;
/// Answers are decoded leniently: padding optional (whitespace is removed before).
const B64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Where the upstream is and how to authenticate to it.
pub struct UpstreamConfig {
    /// Base URL, e.g. `https://ecs.contoh.go.id` or `http://10.1.2.3:8080/ecs/` (a trailing slash
    /// is fine). User information in the URL (`user:pass@`) is dropped: use the fields below.
    pub url: String,
    /// The API credential the upstream issued to this gateway (HTTP Basic).
    pub username: String,
    /// Its password (from [`crate::GATEWAY_PASSWORD_ENV`]); kept out of `Debug`.
    pub password: Zeroizing<String>,
    /// Time limit of one whole request (connect, send, answer); zero means `DEFAULT_TIMEOUT`.
    pub timeout: Duration,
    /// Path of user registration; empty means `DEFAULT_REGISTRATION_PATH`.
    pub registration_path: String,
}

impl UpstreamConfig {
    /// A configuration with the default time limit and registration path.
    pub fn new(
        url: impl Into<String>,
        username: impl Into<String>,
        password: Zeroizing<String>,
    ) -> Self {
        Self {
            url: url.into(),
            username: username.into(),
            password,
            timeout: DEFAULT_TIMEOUT,
            registration_path: DEFAULT_REGISTRATION_PATH.to_string(),
        }
    }
}

impl fmt::Debug for UpstreamConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamConfig")
            .field("url", &strip_userinfo(&self.url))
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("timeout", &self.timeout)
            .field("registration_path", &self.registration_path)
            .finish()
    }
}

/// Who signs: ECS accepts the NIK or the e-mail address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpstreamSigner {
    /// By NIK (16 digits).
    Nik(String),
    /// By the e-mail address registered upstream.
    Email(String),
}

impl UpstreamSigner {
    /// The ECS field name and its value.
    fn field(&self) -> (&'static str, &str) {
        match self {
            Self::Nik(n) => ("nik", n.as_str()),
            Self::Email(e) => ("email", e.as_str()),
        }
    }
}

/// What the official presents: the passphrase, or a one-time code (`totp`).
#[derive(Clone)]
pub enum UpstreamSecret {
    /// The passphrase of the official's key upstream.
    Passphrase(Zeroizing<String>),
    /// A one-time code the upstream sent the official (v2 TOTP flow).
    Totp(Zeroizing<String>),
}

impl UpstreamSecret {
    /// The ECS field name and its value.
    fn field(&self) -> (&'static str, &str) {
        match self {
            Self::Passphrase(p) => ("passphrase", p.as_str()),
            Self::Totp(t) => ("totp", t.as_str()),
        }
    }
}

impl fmt::Debug for UpstreamSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Passphrase(_) => f.write_str("Passphrase(<redacted>)"),
            Self::Totp(_) => f.write_str("Totp(<redacted>)"),
        }
    }
}

/// The status of an official as the upstream reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamStatus {
    /// `status_code` (1111 ISSUE, 1110 NOT_REGISTERED, ...), when given.
    pub code: Option<u32>,
    /// `ISSUE`, `NOT_REGISTERED`, `EXPIRED`, ... as the upstream wrote it (trimmed).
    pub status: String,
    /// Human-readable text (Indonesian), possibly empty.
    pub message: String,
}

impl UpstreamStatus {
    /// Only `ISSUE` may sign (juknis).
    pub fn can_sign(&self) -> bool {
        self.status.eq_ignore_ascii_case("ISSUE")
    }
}

/// Why a call to the upstream failed. No variant ever holds a password, passphrase or one-time
/// code (messages taken from the upstream are scrubbed of them).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// The upstream answered with an ECS error: its numeric code (BSrE's or Sahih's, see
    /// docs/ECS.md) when one could be found, its message (without the trailing code), and the
    /// HTTP status.
    #[error("upstream ECS refused the request (HTTP {http}{}): {message}", code_suffix(.code))]
    Rejected {
        /// The HTTP status of the answer.
        http: u16,
        /// The ECS code, where the answer carried one anywhere.
        code: Option<u32>,
        /// The message, without its trailing code.
        message: String,
    },
    /// Could not connect, timed out, TLS failed, or the connection broke.
    #[error("upstream ECS unreachable: {0}")]
    Unreachable(String),
    /// A success status but not the expected answer (file count, base64, not JSON, too large).
    #[error("upstream ECS answered unexpectedly: {0}")]
    BadResponse(String),
}

fn code_suffix(code: &Option<u32>) -> String {
    code.map(|c| format!(", code {c}")).unwrap_or_default()
}

impl UpstreamError {
    /// The ECS code of a rejection.
    pub fn code(&self) -> Option<u32> {
        match self {
            Self::Rejected { code, .. } => *code,
            _ => None,
        }
    }
    /// The HTTP status of a rejection.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::Rejected { http, .. } => Some(*http),
            _ => None,
        }
    }
    /// 2031: the passphrase is wrong. Never retry it automatically.
    pub fn wrong_passphrase(&self) -> bool {
        self.code() == Some(code::WRONG_PASSPHRASE)
    }
    /// 2032: the key is locked after too many wrong attempts (Sahih's code; BSrE's is unknown).
    pub fn is_locked(&self) -> bool {
        self.code() == Some(code::LOCKED)
    }
    /// 2033: the one-time code is wrong, expired or spent (Sahih's code).
    pub fn wrong_otp(&self) -> bool {
        self.code() == Some(code::WRONG_OTP)
    }
    /// 2011: the official is not registered upstream.
    pub fn not_registered(&self) -> bool {
        self.code() == Some(code::USER_NOT_REGISTERED)
    }
    /// 2021: the official's certificate is not ISSUE upstream.
    pub fn certificate_not_active(&self) -> bool {
        self.code() == Some(code::CERTIFICATE_NOT_ACTIVE)
    }
    /// HTTP 401: the upstream refused the gateway's own credential (a configuration fault of
    /// this gateway, not of the calling application).
    pub fn unauthorized(&self) -> bool {
        self.http_status() == Some(401)
    }
}

/// The client. Cheap to share (`Arc`); the connection pool is inside.
pub struct UpstreamEcs {
    /// Base URL without user information and without the trailing slash.
    base: String,
    username: String,
    password: Zeroizing<String>,
    /// base64 of `username:password`, kept to scrub it from echoed answers.
    basic: Zeroizing<String>,
    authorization: HeaderValue,
    registration_path: String,
    timeout: Duration,
    agent: ureq::Agent,
    sign_limit: u64,
    limit: u64,
}

impl fmt::Debug for UpstreamEcs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamEcs")
            .field("url", &self.base)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A complete HTTP answer.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Answer {
    fn success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl UpstreamEcs {
    /// A client of the upstream `config` names (no connection is made yet).
    pub fn new(config: UpstreamConfig) -> Self {
        let UpstreamConfig {
            url,
            username,
            password,
            timeout,
            registration_path,
        } = config;
        let base = strip_userinfo(url.trim()).trim_end_matches('/').to_string();
        let credentials = Zeroizing::new(format!("{username}:{}", password.as_str()));
        let basic = Zeroizing::new(B64.encode(credentials.as_bytes()));
        let header = Zeroizing::new(format!("Basic {}", basic.as_str()));
        // "Basic " and base64 are always a valid header value.
        let mut authorization =
            HeaderValue::from_str(&header).unwrap_or_else(|_| HeaderValue::from_static("Basic"));
        authorization.set_sensitive(true);
        let timeout = if timeout.is_zero() {
            DEFAULT_TIMEOUT
        } else {
            timeout
        };
        let registration_path = match registration_path.trim() {
            "" => DEFAULT_REGISTRATION_PATH.to_string(),
            p => p.to_string(),
        };
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .unversioned_rustls_crypto_provider(std::sync::Arc::new(
                        rustls::crypto::aws_lc_rs::default_provider(),
                    ))
                    .build(),
            )
            .http_status_as_error(false)
            // An ECS does not redirect; a 3xx is reported as a rejection rather than followed
            // (following would mean sending the passphrase somewhere else).
            .max_redirects(0)
            .user_agent(concat!("sahih/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self {
            base,
            username,
            password,
            basic,
            authorization,
            registration_path,
            timeout,
            agent,
            sign_limit: SIGN_RESPONSE_LIMIT,
            limit: RESPONSE_LIMIT,
        }
    }

    /// The base URL (without user information), for logs.
    /// The upstream of `[gateway]`, when a URL is configured; its password comes from
    /// [`crate::GATEWAY_PASSWORD_ENV`], never the config file.
    pub fn from_config(config: &sahih_core::Config) -> Option<Self> {
        let g = &config.gateway;
        (!g.url.trim().is_empty()).then(|| {
            let mut c = UpstreamConfig::new(
                g.url.trim(),
                g.username.trim(),
                zeroize::Zeroizing::new(
                    std::env::var(crate::GATEWAY_PASSWORD_ENV).unwrap_or_default(),
                ),
            );
            c.timeout = std::time::Duration::from_secs(g.timeout_secs.max(1));
            c.registration_path = g.registration_path.clone();
            UpstreamEcs::new(c)
        })
    }

    /// The upstream's base URL, as configured.
    pub fn url(&self) -> &str {
        &self.base
    }

    /// v2 bulk sign (`POST /api/v2/sign/pdf`): forwards the signer (NIK or e-mail), the
    /// passphrase or one-time code, the `signatureProperties` JSON array as given (`null` is
    /// sent as `[]`) and the files; returns the signed PDFs in request order.
    pub fn sign(
        &self,
        signer: &UpstreamSigner,
        secret: &UpstreamSecret,
        properties: &Value,
        files: &[&[u8]],
    ) -> Result<Vec<Vec<u8>>, UpstreamError> {
        let extra = [secret.field().1];
        let answer = {
            let body = sign_body(signer, secret, properties, files);
            self.post(SIGN_PATH, &body, self.sign_limit, &extra)?
        };
        if !answer.success() {
            return Err(self.rejected(&answer, &extra));
        }
        let status = answer.status;
        let body = answer.body;
        match signed_files(status, &body, files.len()) {
            Ok(signed) => Ok(signed),
            Err(SignAnswerProblem::Bad(why)) => Err(UpstreamError::BadResponse(why)),
            Err(SignAnswerProblem::Rejected(code, message)) => {
                Err(self.rejection(status, code, message, &extra))
            }
        }
    }

    /// v2 status of an official by NIK (`POST /api/v2/user/check/status {nik}`).
    pub fn check_status(&self, nik: &str) -> Result<UpstreamStatus, UpstreamError> {
        self.check_status_of(&UpstreamSigner::Nik(nik.to_string()))
    }

    /// v2 status of an official by NIK or e-mail.
    ///
    /// An error answer that still names a known status (a `status` field, or an `error` text
    /// `"<message>:<STATUS>"` as some ECS write for NOT_REGISTERED) is returned as that status;
    /// any other error answer is `Rejected`.
    pub fn check_status_of(&self, who: &UpstreamSigner) -> Result<UpstreamStatus, UpstreamError> {
        let (key, value) = who.field();
        let body = serde_json::to_vec(&json!({ key: value })).unwrap_or_default();
        let answer = self.post(STATUS_PATH, &body, self.limit, &[])?;
        let parsed = serde_json::from_slice::<Value>(&answer.body).ok();
        let obj = parsed.as_ref().and_then(Value::as_object);
        if answer.success() {
            let s = obj.and_then(status_of).ok_or_else(|| {
                UpstreamError::BadResponse("the status answer names no status".into())
            })?;
            return Ok(self.clean_status(s));
        }
        if let Some(s) = obj.and_then(status_of_error)
            && answer.status != 401
        {
            return Ok(self.clean_status(s));
        }
        Err(self.rejected(&answer, &[]))
    }

    /// User registration (`POST` to the configured registration path) with the body as given
    /// (`{nama, email, ...}`); returns the upstream's answer (`null` when it is empty, a JSON
    /// string when it is plain text).
    pub fn register(&self, body: &Value) -> Result<Value, UpstreamError> {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let answer = self.post(&self.registration_path, &bytes, self.limit, &[])?;
        if !answer.success() {
            return Err(self.rejected(&answer, &[]));
        }
        self.answer_value(&answer.body)
    }

    /// Asks the upstream to send a signing one-time code to the official, valid for `count`
    /// documents (`POST /api/v2/sign/get/totp {nik|email, data}`); returns the answer.
    pub fn get_totp(&self, signer: &UpstreamSigner, count: usize) -> Result<Value, UpstreamError> {
        let (key, value) = signer.field();
        let body = serde_json::to_vec(&json!({ key: value, "data": count })).unwrap_or_default();
        let answer = self.post(TOTP_PATH, &body, self.limit, &[])?;
        if !answer.success() {
            return Err(self.rejected(&answer, &[]));
        }
        self.answer_value(&answer.body)
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    /// One POST of a JSON body; reads the whole answer (at most `limit` bytes for a success,
    /// `RESPONSE_LIMIT` for anything else). `extra` are secrets of this request to scrub.
    fn post(
        &self,
        path: &str,
        body: &[u8],
        limit: u64,
        extra: &[&str],
    ) -> Result<Answer, UpstreamError> {
        let response = self
            .agent
            .post(self.endpoint(path))
            .header("Authorization", self.authorization.clone())
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .send(body)
            .map_err(|e| self.transport_error(e, extra))?;
        let status = response.status().as_u16();
        let success = (200..300).contains(&status);
        let limit = if success {
            limit
        } else {
            limit.min(self.limit)
        };
        match response
            .into_body()
            .with_config()
            .limit(limit)
            .read_to_vec()
        {
            Ok(body) => Ok(Answer { status, body }),
            Err(ureq::Error::BodyExceedsLimit(n)) if success => Err(UpstreamError::BadResponse(
                format!("the answer is larger than {n} bytes"),
            )),
            // An oversized error body: the status alone is the answer.
            Err(ureq::Error::BodyExceedsLimit(_)) => Ok(Answer {
                status,
                body: Vec::new(),
            }),
            Err(e) => Err(self.transport_error(e, extra)),
        }
    }

    /// A transport failure, described without credentials.
    fn transport_error(&self, e: ureq::Error, extra: &[&str]) -> UpstreamError {
        let what = match e {
            ureq::Error::Timeout(t) => format!("timed out after {:?} ({t})", self.timeout),
            ureq::Error::HostNotFound => "host not found".to_string(),
            // The ureq message quotes the URL; ours is printed below without user information.
            ureq::Error::BadUri(_) => "the upstream URL is not valid".to_string(),
            ureq::Error::RequireHttpsOnly(_) => "the upstream URL must be https".to_string(),
            ureq::Error::BodyExceedsLimit(n) => {
                return UpstreamError::BadResponse(format!("the answer is larger than {n} bytes"));
            }
            other => other.to_string(),
        };
        UpstreamError::Unreachable(self.scrub(format!("{}: {what}", self.base), extra))
    }

    /// The `Rejected` error of a non-success answer.
    fn rejected(&self, answer: &Answer, extra: &[&str]) -> UpstreamError {
        let (code, message) = parse_error_body(answer.status, &answer.body);
        self.rejection(answer.status, code, message, extra)
    }

    /// A `Rejected` error; the message is scrubbed first, then shortened (shortening first
    /// could cut a secret and leave its beginning).
    fn rejection(
        &self,
        http: u16,
        code: Option<u32>,
        raw: String,
        extra: &[&str],
    ) -> UpstreamError {
        UpstreamError::Rejected {
            http,
            code,
            message: clean_message(&self.scrub(raw, extra)),
        }
    }

    fn clean_status(&self, s: UpstreamStatus) -> UpstreamStatus {
        UpstreamStatus {
            message: clean_message(&self.scrub(s.message, &[])),
            status: clean_message(&s.status),
            ..s
        }
    }

    /// A success answer of the small endpoints: JSON, `null` when empty, a string when plain
    /// text.
    fn answer_value(&self, body: &[u8]) -> Result<Value, UpstreamError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        if let Ok(v) = serde_json::from_slice(body) {
            return Ok(v);
        }
        match std::str::from_utf8(body) {
            Ok(text) => Ok(Value::String(clean_message(
                &self.scrub(text.to_string(), &[]),
            ))),
            Err(_) => Err(UpstreamError::BadResponse(
                "the answer is neither JSON nor text".into(),
            )),
        }
    }

    /// Removes the gateway credential and the request's secrets, raw and JSON-escaped, from a
    /// text taken from the upstream (a confused upstream may echo the request back).
    fn scrub(&self, mut text: String, extra: &[&str]) -> String {
        let secrets = [self.password.as_str(), self.basic.as_str()];
        for s in secrets.iter().chain(extra) {
            if s.is_empty() {
                continue;
            }
            let mut escaped = Zeroizing::new(Vec::with_capacity(6 * s.len() + 2));
            push_json_str(&mut escaped, s);
            let escaped = std::str::from_utf8(&escaped[1..escaped.len() - 1]).unwrap_or(s);
            for form in [*s, escaped] {
                if text.contains(form) {
                    text = text.replace(form, "***");
                }
            }
        }
        text
    }
}

/// The URL without `user:password@`.
fn strip_userinfo(url: &str) -> String {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// The v2 sign body, written into one buffer allocated at its final size (so no reallocation
/// leaves a copy of the secret behind), wiped when dropped. Built by hand so the secret never
/// sits in a `serde_json::Value` or an intermediate string.
fn sign_body(
    signer: &UpstreamSigner,
    secret: &UpstreamSecret,
    properties: &Value,
    files: &[&[u8]],
) -> Zeroizing<Vec<u8>> {
    let properties = match properties {
        Value::Null => "[]".to_string(),
        p => p.to_string(),
    };
    let (who_key, who) = signer.field();
    let (secret_key, secret) = secret.field();
    let files_len: usize = files.iter().map(|f| f.len().div_ceil(3) * 4 + 3).sum();
    // Fixed text and keys are under 128 bytes; an escaped character takes at most 6 bytes.
    let capacity = 128 + properties.len() + files_len + 6 * (who.len() + secret.len());
    let mut buf = Zeroizing::new(Vec::with_capacity(capacity));
    let out: &mut Vec<u8> = &mut buf;
    out.push(b'{');
    push_json_str(out, who_key);
    out.push(b':');
    push_json_str(out, who);
    out.push(b',');
    push_json_str(out, secret_key);
    out.push(b':');
    push_json_str(out, secret);
    out.extend_from_slice(b",\"signatureProperties\":");
    out.extend_from_slice(properties.as_bytes());
    out.extend_from_slice(b",\"file\":[");
    for (i, f) in files.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(B64.encode(f).as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(b"]}");
    debug_assert!(out.len() <= capacity);
    buf
}

/// Appends `s` as a JSON string.
fn push_json_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x00..=0x1f | 0x7f => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// Why a successful-status sign answer gave no files.
enum SignAnswerProblem {
    /// Not the shape of a sign answer.
    Bad(String),
    /// An ECS error body with a success status: (code, raw message).
    Rejected(Option<u32>, String),
}

/// The signed PDFs of a sign answer (`{"file": [base64, ...]}`), `expected` of them.
fn signed_files(
    status: u16,
    body: &[u8],
    expected: usize,
) -> Result<Vec<Vec<u8>>, SignAnswerProblem> {
    let bad = |why: String| SignAnswerProblem::Bad(why);
    let mut value: Value =
        serde_json::from_slice(body).map_err(|_| bad("the sign answer is not JSON".into()))?;
    let Some(list) = value.get_mut("file").and_then(Value::as_array_mut) else {
        // Some ECS answer 200 with an error body.
        if let Some(obj) = value.as_object()
            && looks_like_error(obj)
        {
            let (code, message) = parse_error_object(status, obj);
            return Err(SignAnswerProblem::Rejected(code, message));
        }
        return Err(bad("the sign answer has no `file` array".into()));
    };
    if list.len() != expected {
        return Err(bad(format!(
            "{} signed files returned for {expected} sent",
            list.len()
        )));
    }
    let mut signed = Vec::with_capacity(list.len());
    for (i, item) in list.iter_mut().enumerate() {
        // Take each string out so its memory is freed as soon as it is decoded.
        let Value::String(text) = std::mem::take(item) else {
            return Err(bad(format!("file[{i}] is not a string")));
        };
        let pdf =
            decode_base64(&text).ok_or_else(|| bad(format!("file[{i}] is not valid base64")))?;
        drop(text);
        if !looks_like_pdf(&pdf) {
            return Err(bad(format!("file[{i}] is not a PDF")));
        }
        signed.push(pdf);
    }
    Ok(signed)
}

/// For the fuzzer (`fuzz/`) and its smoke test: every reading of an upstream answer with
/// `status` and `body` (sign, status and error answers). Must never panic.
#[doc(hidden)]
pub fn read_any_answer(status: u16, body: &[u8]) {
    for expected in [0, 1, 2] {
        let _ = signed_files(status, body, expected);
    }
    let _ = parse_error_body(status, body);
    if let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) {
        let _ = looks_like_error(&obj);
        let _ = status_of(&obj);
        let _ = status_of_error(&obj);
    }
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = decode_base64(text);
    }
}

/// Base64 as ECS may send it: standard alphabet, padding optional, possibly wrapped in lines.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    if text.bytes().any(|b| b.is_ascii_whitespace()) {
        let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
        B64_LENIENT.decode(compact).ok()
    } else {
        B64_LENIENT.decode(text).ok()
    }
}

/// A PDF header within the first KiB, as PDF readers accept.
fn looks_like_pdf(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-")
}

/// A number given as a JSON number or a numeric string.
fn number(v: Option<&Value>) -> Option<u32> {
    match v? {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A non-empty trimmed string field.
fn text_field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    obj.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "No message available")
}

/// A 4-digit code ending the text (`"... Passphrase anda salah 2031"`), not glued to a word.
fn trailing_code(text: &str) -> Option<u32> {
    let t = text.trim_end();
    let digits = t.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits != 4 {
        return None;
    }
    let (head, tail) = t.split_at(t.len() - 4);
    if head.chars().next_back().is_some_and(char::is_alphanumeric) {
        return None;
    }
    tail.parse().ok().filter(|c| (1000..=9999).contains(c))
}

/// The text without a trailing `code`.
fn strip_code(text: &str, code: Option<u32>) -> &str {
    let t = text.trim_end();
    match code {
        Some(c) if trailing_code(t) == Some(c) => t[..t.len() - 4]
            .trim_end_matches([' ', ':', '-'])
            .trim_end(),
        _ => t,
    }
}

/// One line, no control characters, bounded length.
fn clean_message(text: &str) -> String {
    let mut out: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_MESSAGE_CHARS)
        .collect();
    if text.trim().chars().count() > MAX_MESSAGE_CHARS {
        out.push('…');
    }
    out
}

/// Whether a success-status answer is in fact an ECS error body.
fn looks_like_error(obj: &Map<String, Value>) -> bool {
    obj.get("error").is_some_and(|e| !e.is_null())
        || number(obj.get("status_code")).is_some_and(|c| c >= 400)
        || obj.get("success") == Some(&Value::Bool(false))
}

/// (code, message) of an error body.
fn parse_error_body(http: u16, body: &[u8]) -> (Option<u32>, String) {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => parse_error_object(http, &obj),
        _ => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            // An HTML error page of a proxy says nothing useful in one line.
            if text.is_empty() || text.starts_with('<') {
                (None, format!("HTTP {http}"))
            } else {
                let code = trailing_code(text);
                (code, strip_code(text, code).to_string())
            }
        }
    }
}

/// (code, message) of an ECS error object; the message is raw (to scrub, then clean). The
/// code, in order: `error_code` (Sahih),
/// `status_code` when it is a 4-digit code rather than the HTTP status, the number ending the
/// `error` text, the number ending the `message` text.
fn parse_error_object(http: u16, obj: &Map<String, Value>) -> (Option<u32>, String) {
    if let Some(Value::Object(inner)) = obj.get("error") {
        return parse_error_object(http, inner);
    }
    let error = text_field(obj, "error");
    let message = text_field(obj, "message").or_else(|| text_field(obj, "error_description"));
    let code = number(obj.get("error_code"))
        .or_else(|| number(obj.get("status_code")).filter(|c| (1000..=9999).contains(c)))
        .or_else(|| error.and_then(trailing_code))
        .or_else(|| message.and_then(trailing_code));
    let text = match message.or(error).map(|t| strip_code(t, code)) {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => format!("HTTP {http}"),
    };
    (code, text)
}

/// The status of a status answer: `status`, `userStatus` or `data.status` (clients read any).
fn status_of(obj: &Map<String, Value>) -> Option<UpstreamStatus> {
    let data = obj.get("data").and_then(Value::as_object);
    let status = text_field(obj, "status")
        .or_else(|| text_field(obj, "userStatus"))
        .or_else(|| data.and_then(|d| text_field(d, "status")))
        .or_else(|| data.and_then(|d| text_field(d, "userStatus")))?;
    Some(UpstreamStatus {
        code: number(obj.get("status_code")),
        status: status.to_string(),
        message: text_field(obj, "message").unwrap_or_default().to_string(),
    })
}

/// A known status named by an error answer: a status field, or `error: "<message>:<STATUS>"`.
fn status_of_error(obj: &Map<String, Value>) -> Option<UpstreamStatus> {
    let known = |s: &str| {
        KNOWN_STATUSES
            .iter()
            .any(|k| k.eq_ignore_ascii_case(s.trim()))
    };
    if let Some(s) = status_of(obj)
        && known(&s.status)
    {
        return Some(s);
    }
    let error = text_field(obj, "error")?;
    let (message, status) = error.rsplit_once(':')?;
    if !known(status) {
        return None;
    }
    Some(UpstreamStatus {
        code: number(obj.get("status_code")).filter(|c| (1000..=9999).contains(c)),
        status: status.trim().to_ascii_uppercase(),
        message: message.trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::thread::JoinHandle;

    const PASSWORD: &str = "Gateway-S3cret-Pw";
    const PASSPHRASE: &str = "Rahasia-Passphrase-42";
    const TOTP: &str = "918273";
    const TRICKY: &str = "Kata\"Sandi\\Rahasia-99";

    /// One request as the test server saw it.
    #[derive(Debug)]
    struct Seen {
        method: String,
        path: String,
        authorization: Option<String>,
        content_type: Option<String>,
        body: Vec<u8>,
    }

    impl Seen {
        fn json(&self) -> Value {
            serde_json::from_slice(&self.body).expect("request body is JSON")
        }
    }

    enum Reply {
        /// Status and body.
        Json(u16, String),
        /// Answers 400 with an error text quoting the whole request (headers and body).
        Echo,
        /// Accepts and never answers (for time limits).
        Silent,
    }

    fn read_request(stream: &TcpStream) -> (Seen, String) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut raw = String::new();
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        raw.push_str(&line);
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let path = parts.next().unwrap_or_default().to_string();
        let (mut authorization, mut content_type, mut length) = (None, None, 0usize);
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            raw.push_str(&line);
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (name, value) = l.split_once(':').unwrap();
            let value = value.trim().to_string();
            match name.to_ascii_lowercase().as_str() {
                "authorization" => authorization = Some(value),
                "content-type" => content_type = Some(value),
                "content-length" => length = value.parse().unwrap(),
                "transfer-encoding" => panic!("expected a Content-Length body"),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        raw.push_str(&String::from_utf8_lossy(&body));
        let seen = Seen {
            method,
            path,
            authorization,
            content_type,
            body,
        };
        (seen, raw)
    }

    /// A one-connection-per-reply HTTP/1.1 server; returns its URL (with a trailing slash) and
    /// the requests it saw.
    fn server(replies: Vec<Reply>) -> (String, JoinHandle<Vec<Seen>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for reply in replies {
                let (mut stream, _) = listener.accept().unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                if let Reply::Silent = reply {
                    std::thread::sleep(Duration::from_secs(3));
                    continue;
                }
                let (request, raw) = read_request(&stream);
                let (status, body) = match reply {
                    Reply::Json(status, body) => (status, body),
                    Reply::Echo => (
                        400,
                        json!({"status_code": 400, "error": format!("bad request: {raw} 4015")})
                            .to_string(),
                    ),
                    Reply::Silent => unreachable!(),
                };
                let head = format!(
                    "HTTP/1.1 {status} Test\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                stream.write_all(head.as_bytes()).unwrap();
                stream.write_all(body.as_bytes()).unwrap();
                seen.push(request);
            }
            seen
        });
        (url, handle)
    }

    fn client(url: &str) -> UpstreamEcs {
        UpstreamEcs::new(UpstreamConfig::new(
            url,
            "gateway",
            Zeroizing::new(PASSWORD.to_string()),
        ))
    }

    fn pdf(tag: &str) -> Vec<u8> {
        format!("%PDF-1.7\n% {tag}\n%%EOF\n").into_bytes()
    }

    fn sign_reply(files: &[Vec<u8>]) -> Reply {
        let list: Vec<String> = files.iter().map(|f| B64.encode(f)).collect();
        Reply::Json(200, json!({"time": 12, "file": list}).to_string())
    }

    fn passphrase(p: &str) -> UpstreamSecret {
        UpstreamSecret::Passphrase(Zeroizing::new(p.to_string()))
    }

    fn rejected(http: u16, code: Option<u32>, message: &str) -> UpstreamError {
        UpstreamError::Rejected {
            http,
            code,
            message: message.to_string(),
        }
    }

    #[test]
    fn sign_with_nik_and_passphrase() {
        let (a, b) = (pdf("a"), pdf("b"));
        let (sa, sb) = (pdf("signed a"), pdf("signed b"));
        let (url, handle) = server(vec![sign_reply(&[sa.clone(), sb.clone()])]);
        let properties = json!([
            {"tampilan": "VISIBLE", "tag_koordinat": "$", "width": 120, "height": 40},
            {"tampilan": "INVISIBLE", "reason": "Lampiran"},
        ]);
        // Quotes, backslashes, control characters and non-ASCII survive the hand-made JSON.
        let tricky = "pa\"ss\\wörd\n\t\u{1}é";
        let signed = client(&url)
            .sign(
                &UpstreamSigner::Nik("3201000000000001".into()),
                &passphrase(tricky),
                &properties,
                &[&a, &b],
            )
            .unwrap();
        assert_eq!(signed, vec![sa, sb]);
        let seen = handle.join().unwrap();
        let r = &seen[0];
        assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", SIGN_PATH));
        assert_eq!(
            r.authorization.as_deref(),
            Some(format!("Basic {}", B64.encode(format!("gateway:{PASSWORD}"))).as_str())
        );
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
        let body = r.json();
        assert_eq!(
            body,
            json!({
                "nik": "3201000000000001",
                "passphrase": tricky,
                "signatureProperties": properties,
                "file": [B64.encode(&a), B64.encode(&b)],
            })
        );
    }

    #[test]
    fn sign_with_email_and_totp() {
        let a = pdf("a");
        let (url, handle) = server(vec![sign_reply(&[pdf("signed")])]);
        let signed = client(url.trim_end_matches('/'))
            .sign(
                &UpstreamSigner::Email("pejabat@contoh.go.id".into()),
                &UpstreamSecret::Totp(Zeroizing::new(TOTP.into())),
                &Value::Null,
                &[&a],
            )
            .unwrap();
        assert_eq!(signed, vec![pdf("signed")]);
        let seen = handle.join().unwrap();
        assert_eq!(seen[0].path, SIGN_PATH);
        assert_eq!(
            seen[0].json(),
            json!({
                "email": "pejabat@contoh.go.id",
                "totp": TOTP,
                "signatureProperties": [],
                "file": [B64.encode(&a)],
            })
        );
    }

    #[test]
    fn sign_body_is_allocated_once() {
        let files = [pdf("a"), vec![0u8; 1000], Vec::new()];
        let refs: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
        let body = sign_body(
            &UpstreamSigner::Email("x@y.id".into()),
            &passphrase(&"\"".repeat(50)),
            &json!([{"reason": "r"}]),
            &refs,
        );
        let value: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value["passphrase"], "\"".repeat(50));
        assert_eq!(value["file"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn sign_errors_keep_code_and_message() {
        let cases = [
            (
                400,
                r#"{"error":"Proses signing gagal : Passphrase anda salah 2031","status_code":400}"#,
                rejected(
                    400,
                    Some(2031),
                    "Proses signing gagal : Passphrase anda salah",
                ),
            ),
            (
                400,
                r#"{"status_code":2031,"error":"Passphrase anda salah !!!"}"#,
                rejected(400, Some(2031), "Passphrase anda salah !!!"),
            ),
            (
                400,
                r#"{"status_code":"2011","message":"User tidak terdaftar"}"#,
                rejected(400, Some(2011), "User tidak terdaftar"),
            ),
            (
                500,
                r#"{"timestamp":"2024-01-16T06:00:00.000+0000","status":500,"error":"Internal Server Error","path":"/api/v2/sign/pdf"}"#,
                rejected(500, None, "Internal Server Error"),
            ),
            // Sahih as the upstream.
            (
                400,
                r#"{"status_code":400,"error_code":2032,"error":"Proses signing gagal : Kunci terkunci 2032","message":"Kunci terkunci"}"#,
                rejected(400, Some(2032), "Kunci terkunci"),
            ),
        ];
        let replies = cases
            .iter()
            .map(|(s, b, _)| Reply::Json(*s, b.to_string()))
            .collect();
        let (url, handle) = server(replies);
        let ecs = client(&url);
        let a = pdf("a");
        for (_, _, expected) in &cases {
            let err = ecs
                .sign(
                    &UpstreamSigner::Nik("3201000000000001".into()),
                    &passphrase(PASSPHRASE),
                    &json!([]),
                    &[&a],
                )
                .unwrap_err();
            assert_eq!(&err, expected);
        }
        handle.join().unwrap();
        assert!(cases[0].2.wrong_passphrase() && cases[1].2.wrong_passphrase());
        assert!(cases[2].2.not_registered());
        assert!(cases[4].2.is_locked());
        assert_eq!(cases[3].2.code(), None);
    }

    #[test]
    fn error_bodies_of_other_shapes() {
        assert_eq!(
            parse_error_body(502, b"<html><title>502 Bad Gateway</title></html>"),
            (None, "HTTP 502".into())
        );
        assert_eq!(
            parse_error_body(503, b"Service Unavailable"),
            (None, "Service Unavailable".into())
        );
        assert_eq!(parse_error_body(401, b""), (None, "HTTP 401".into()));
        assert_eq!(
            parse_error_body(
                400,
                br#"{"error":"invalid_token","error_description":"expired"}"#
            ),
            (None, "expired".into())
        );
        assert_eq!(
            parse_error_body(400, br#"{"error":{"code":"4015","message":"bad 4015"}}"#),
            (Some(4015), "bad".into())
        );
        // Numbers that are not codes.
        assert_eq!(trailing_code("NIK 3201000000000001"), None);
        assert_eq!(trailing_code("ABC2031"), None);
        assert_eq!(trailing_code("gagal:2031 "), Some(2031));
        assert_eq!(trailing_code("0123"), None);
    }

    #[test]
    fn success_status_with_error_body_is_rejected() {
        let (url, handle) = server(vec![Reply::Json(
            200,
            r#"{"status_code":2031,"error":"Passphrase anda salah !!!"}"#.into(),
        )]);
        let a = pdf("a");
        let err = client(&url)
            .sign(
                &UpstreamSigner::Nik("1".into()),
                &passphrase(PASSPHRASE),
                &json!([]),
                &[&a],
            )
            .unwrap_err();
        handle.join().unwrap();
        assert_eq!(err, rejected(200, Some(2031), "Passphrase anda salah !!!"));
    }

    #[test]
    fn bad_sign_answers() {
        let (a, b) = (pdf("a"), pdf("b"));
        let (url, handle) = server(vec![
            sign_reply(&[pdf("only one")]),
            Reply::Json(200, r#"{"file":["not base64!"]}"#.into()),
            Reply::Json(200, json!({"file": [B64.encode("hello")]}).to_string()),
            Reply::Json(200, "not json".into()),
            Reply::Json(200, r#"{"time":1}"#.into()),
            sign_reply(&[pdf("big")]),
        ]);
        let mut ecs = client(&url);
        let who = UpstreamSigner::Nik("1".into());
        let secret = passphrase(PASSPHRASE);
        let two = [a.as_slice(), b.as_slice()];
        let one = [a.as_slice()];
        let expect_bad = |r: Result<Vec<Vec<u8>>, UpstreamError>, needle: &str| match r {
            Err(UpstreamError::BadResponse(m)) => assert!(m.contains(needle), "{m}"),
            other => panic!("expected BadResponse({needle}), got {other:?}"),
        };
        expect_bad(
            ecs.sign(&who, &secret, &json!([]), &two),
            "1 signed files returned for 2 sent",
        );
        expect_bad(ecs.sign(&who, &secret, &json!([]), &one), "base64");
        expect_bad(ecs.sign(&who, &secret, &json!([]), &one), "not a PDF");
        expect_bad(ecs.sign(&who, &secret, &json!([]), &one), "not JSON");
        expect_bad(ecs.sign(&who, &secret, &json!([]), &one), "no `file`");
        ecs.sign_limit = 10;
        expect_bad(ecs.sign(&who, &secret, &json!([]), &one), "larger than 10");
        handle.join().unwrap();
    }

    #[test]
    fn base64_variants_are_decoded() {
        let bytes = pdf("abcd");
        let encoded = B64.encode(&bytes);
        let wrapped: String = encoded
            .as_bytes()
            .chunks(8)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join("\r\n");
        assert_eq!(decode_base64(&wrapped).unwrap(), bytes);
        assert_eq!(decode_base64(encoded.trim_end_matches('=')).unwrap(), bytes);
    }

    #[test]
    fn unreachable_upstreams() {
        // A port nobody listens on: bind, note it, close.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://gateway:{PASSWORD}@127.0.0.1:{port}");
        let err = client(&url).check_status("1").unwrap_err();
        match &err {
            UpstreamError::Unreachable(m) => {
                assert!(m.starts_with(&format!("http://127.0.0.1:{port}:")), "{m}")
            }
            other => panic!("expected Unreachable, got {other:?}"),
        }
        assert!(!format!("{err} {err:?}").contains(PASSWORD));

        let (url, _handle) = server(vec![Reply::Silent]);
        let mut config = UpstreamConfig::new(url, "gateway", Zeroizing::new(PASSWORD.into()));
        config.timeout = Duration::from_millis(300);
        let err = UpstreamEcs::new(config).check_status("1").unwrap_err();
        assert!(
            matches!(&err, UpstreamError::Unreachable(m) if m.contains("timed out")),
            "{err:?}"
        );

        let err = client("not a url").check_status("1").unwrap_err();
        assert!(matches!(err, UpstreamError::Unreachable(_)), "{err:?}");
    }

    #[test]
    fn check_status_shapes() {
        let (url, handle) = server(vec![
            Reply::Json(
                200,
                r#"{"status_code":1111,"status":"ISSUE","message":"User sudah terdaftar"}"#.into(),
            ),
            Reply::Json(
                200,
                r#"{"status_code":"1114","data":{"status":"EXPIRED"}}"#.into(),
            ),
            Reply::Json(
                400,
                r#"{"error":"User belum terdaftar:NOT_REGISTERED"}"#.into(),
            ),
            Reply::Json(401, "".into()),
            Reply::Json(200, r#"{"hello":1}"#.into()),
        ]);
        let ecs = client(&url);
        let s = ecs.check_status("3201000000000001").unwrap();
        assert_eq!(
            s,
            UpstreamStatus {
                code: Some(1111),
                status: "ISSUE".into(),
                message: "User sudah terdaftar".into()
            }
        );
        assert!(s.can_sign());
        let s = ecs
            .check_status_of(&UpstreamSigner::Email("a@b.id".into()))
            .unwrap();
        assert_eq!((s.code, s.status.as_str()), (Some(1114), "EXPIRED"));
        assert!(!s.can_sign());
        let s = ecs.check_status("3201000000000002").unwrap();
        assert_eq!(
            (s.code, s.status.as_str(), s.message.as_str()),
            (None, "NOT_REGISTERED", "User belum terdaftar")
        );
        let err = ecs.check_status("1").unwrap_err();
        assert!(err.unauthorized(), "{err:?}");
        assert!(matches!(
            ecs.check_status("1"),
            Err(UpstreamError::BadResponse(_))
        ));
        let seen = handle.join().unwrap();
        assert_eq!(seen[0].path, STATUS_PATH);
        assert_eq!(seen[0].json(), json!({"nik": "3201000000000001"}));
        assert_eq!(seen[1].json(), json!({"email": "a@b.id"}));
    }

    #[test]
    fn totp_and_registration() {
        let (url, handle) = server(vec![
            Reply::Json(
                200,
                r#"{"success":true,"message":"TOTP berhasil dikirim"}"#.into(),
            ),
            Reply::Json(200, "".into()),
            Reply::Json(
                400,
                r#"{"status_code":400,"error":"NIK telah terdaftar 4024"}"#.into(),
            ),
        ]);
        let mut config = UpstreamConfig::new(
            format!("{url}ecs/"),
            "gateway",
            Zeroizing::new(PASSWORD.into()),
        );
        config.registration_path = "api/v2/user/register".into();
        let ecs = UpstreamEcs::new(config);
        let answer = ecs
            .get_totp(&UpstreamSigner::Nik("3201000000000001".into()), 3)
            .unwrap();
        assert_eq!(answer["message"], "TOTP berhasil dikirim");
        let person = json!({"nama": "Budi", "email": "budi@contoh.go.id"});
        assert_eq!(ecs.register(&person).unwrap(), Value::Null);
        assert_eq!(
            ecs.register(&person).unwrap_err(),
            rejected(400, Some(4024), "NIK telah terdaftar")
        );
        let seen = handle.join().unwrap();
        assert_eq!(seen[0].path, "/ecs/api/v2/sign/get/totp");
        assert_eq!(
            seen[0].json(),
            json!({"nik": "3201000000000001", "data": 3})
        );
        assert_eq!(seen[1].path, "/ecs/api/v2/user/register");
        assert_eq!(seen[1].json(), person);
        assert!(seen.iter().all(|s| s.authorization.is_some()));
    }

    #[test]
    fn urls() {
        assert_eq!(
            strip_userinfo("https://u:p@ecs.contoh.go.id:8443/x?a=b@c"),
            "https://ecs.contoh.go.id:8443/x?a=b@c"
        );
        assert_eq!(strip_userinfo("http://10.0.0.1/"), "http://10.0.0.1/");
        let ecs = client("https://u:p@ecs.contoh.go.id//");
        assert_eq!(ecs.url(), "https://ecs.contoh.go.id");
        assert_eq!(
            ecs.endpoint(SIGN_PATH),
            "https://ecs.contoh.go.id/api/v2/sign/pdf"
        );
        assert_eq!(
            client("http://h:8080/ecs").endpoint("api/v2/user/registration"),
            "http://h:8080/ecs/api/v2/user/registration"
        );
    }

    /// No password, passphrase or one-time code in any error, Display or Debug output, even
    /// when the upstream echoes the request (headers and body) in its error message.
    #[test]
    fn secrets_never_shown() {
        let (url, handle) = server(vec![Reply::Echo, Reply::Echo, Reply::Echo, Reply::Echo]);
        let ecs = client(&url);
        let a = pdf("a");
        let who = UpstreamSigner::Nik("3201000000000001".into());
        let by_passphrase = passphrase(PASSPHRASE);
        let by_totp = UpstreamSecret::Totp(Zeroizing::new(TOTP.into()));
        // Echoed inside JSON, this one appears escaped (`Kata\"Sandi\\Rahasia-99`).
        let tricky = passphrase(TRICKY);
        let mut errors = vec![
            ecs.sign(&who, &by_passphrase, &json!([]), &[&a])
                .unwrap_err(),
            ecs.sign(&who, &by_totp, &json!([]), &[&a]).unwrap_err(),
            ecs.check_status("3201000000000001").unwrap_err(),
            ecs.sign(&who, &tricky, &json!([]), &[&a]).unwrap_err(),
        ];
        handle.join().unwrap();
        // The echo did happen (so the scrubbing was exercised).
        let first = errors[0].to_string();
        assert!(first.contains("\"passphrase\":\"***\""), "{first}");
        assert!(first.contains("authorization: Basic ***"), "{first}");
        assert_eq!(errors[0].code(), Some(4015));
        assert!(errors[3].to_string().contains("\"passphrase\":\"***\""));
        // Scrubbed before shortening: a secret across the length limit leaves no prefix.
        errors.push(ecs.rejection(
            400,
            None,
            format!("{}{PASSPHRASE}", "x".repeat(MAX_MESSAGE_CHARS - 5)),
            &[PASSPHRASE],
        ));
        errors.push(
            client(&format!("http://gateway:{PASSWORD}@127.0.0.1:1"))
                .sign(&who, &by_passphrase, &json!([]), &[&a])
                .unwrap_err(),
        );
        errors.push(UpstreamError::BadResponse("x".into()));
        let config = UpstreamConfig::new(
            format!("http://gateway:{PASSWORD}@ecs.contoh.go.id"),
            "gateway",
            Zeroizing::new(PASSWORD.into()),
        );
        let mut shown = vec![
            format!("{config:?}"),
            format!("{by_passphrase:?}"),
            format!("{by_totp:?}"),
            format!("{who:?}"),
        ];
        let ecs = UpstreamEcs::new(config);
        shown.push(format!("{ecs:?} {ecs:#?}"));
        for e in &errors {
            shown.push(format!("{e} {e:?} {e:#?}"));
        }
        let basic = B64.encode(format!("gateway:{PASSWORD}"));
        for text in &shown {
            for secret in [
                PASSWORD,
                PASSPHRASE,
                TOTP,
                basic.as_str(),
                "Rahasia",
                "Sandi",
            ] {
                assert!(!text.contains(secret), "{secret} in {text}");
            }
        }
        assert!(shown[0].contains("ecs.contoh.go.id") && shown[0].contains("gateway"));
        assert!(shown[4].contains("http://ecs.contoh.go.id") && shown[4].contains("gateway"));
    }
}
