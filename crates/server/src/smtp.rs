//! Delivery of outbox messages (one-time codes, later activation links) by SMTP.
//!
//! Messages are first written to the outbox table (the embedded default stops there); a server
//! with `[notify] smtp_url` set claims pending messages one by one in the database (so one of
//! several servers sends each) and hands them to the relay: plain SMTP (`smtp://`, for a relay
//! on the LAN), STARTTLS (`smtp://...?starttls=true`) or implicit TLS (`smtps://`), with AUTH
//! PLAIN over TLS only. The password comes from `SAHIH_SMTP_PASSWORD`, never from the config
//! file, and never appears in errors or logs.
//!
//! The SMTP exchange itself is `lettre`'s (on rustls with aws-lc-rs): this module owns only the
//! configuration, the claim-and-send loop, and what a failure records.

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Message, SmtpTransport, Transport};
use sahih_core::store::OutboxMessage;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

const TIMEOUT: Duration = Duration::from_secs(30);

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// No TLS (`smtp://` on a trusted network); AUTH is never sent.
    Plain,
    /// Plain connection upgraded with STARTTLS (`smtp://...?starttls`).
    StartTls,
    /// TLS from the first byte (`smtps://`).
    Tls,
}

/// The relay the outbox is delivered through, from `[notify] smtp_url`.
pub struct SmtpConfig {
    /// The relay's host name (also the TLS server name).
    pub host: String,
    /// Its port.
    pub port: u16,
    /// Plain, STARTTLS or implicit TLS.
    pub security: Security,
    /// AUTH user, sent only over TLS.
    pub username: Option<String>,
    /// AUTH password, sent only over TLS.
    pub password: Option<Zeroizing<String>>,
    /// The sender address of every message.
    pub from: String,
    /// Extra trusted roots (PEM), e.g. the Pemda's internal CA; else the public web roots.
    pub ca_file: Option<PathBuf>,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "smtp {}:{} ({:?}, user {:?}, from {})",
            self.host, self.port, self.security, self.username, self.from
        )
    }
}

impl SmtpConfig {
    /// `smtp://[user@]host[:port][?starttls=true]` or `smtps://[user@]host[:port]`.
    pub fn from_url(url: &str, from: &str, ca_file: Option<PathBuf>) -> Result<Self, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("SMTP URL {url:?} needs smtp:// or smtps://"))?;
        let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
        let authority = authority.trim_end_matches('/');
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u.to_string()), h),
            None => (None, authority),
        };
        if user.as_deref().is_some_and(|u| u.contains(':')) {
            return Err("put the SMTP password in SAHIH_SMTP_PASSWORD, not in the URL".into());
        }
        let starttls = query
            .split('&')
            .any(|kv| kv == "starttls=true" || kv == "starttls=1");
        let (security, default_port) = match scheme {
            "smtp" if starttls => (Security::StartTls, 587),
            "smtp" => (Security::Plain, 25),
            "smtps" => (Security::Tls, 465),
            _ => return Err(format!("unsupported SMTP scheme {scheme:?}")),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.parse::<u16>()
                    .map_err(|_| format!("bad SMTP port {p:?}"))?,
            ),
            None => (hostport.to_string(), default_port),
        };
        if host.is_empty() {
            return Err("SMTP URL has no host".into());
        }
        if !valid_address(from) {
            return Err(format!(
                "sender address {from:?} is not a valid e-mail address"
            ));
        }
        let password = std::env::var("SAHIH_SMTP_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty())
            .map(Zeroizing::new);
        if password.is_some() && security == Security::Plain {
            return Err("SMTP authentication needs TLS: use smtps:// or ?starttls=true".into());
        }
        Ok(Self {
            host,
            port,
            security,
            username: user,
            password,
            from: from.to_string(),
            ca_file,
        })
    }
}

/// A plain address without anything that could start a new header or command.
fn valid_address(a: &str) -> bool {
    let ok_chars = a
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | ',' | ';' | '"' | '\\'));
    ok_chars
        && a.len() <= 254
        && a.split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.'))
}

/// What a failed step says, without anything the relay echoed of the credentials: lettre's
/// errors carry the relay's answer, never the AUTH line Sahih sent.
fn smtp_error(step: &str, e: impl std::fmt::Display) -> String {
    format!("SMTP {step}: {e}")
}

/// The relay as a lettre transport: TLS as configured (the public web roots plus `ca_file`),
/// AUTH PLAIN only when a password is set (which `from_url` allows only over TLS), and the
/// connection's time limit.
fn transport(cfg: &SmtpConfig) -> Result<SmtpTransport, String> {
    let mut tls = TlsParameters::builder(cfg.host.clone());
    if let Some(path) = &cfg.ca_file {
        let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        // Every certificate of the PEM file (a bundle is fine) joins the public web roots.
        let certs = Certificate::from_pem(&pem).map_err(|e| format!("{}: {e}", path.display()))?;
        tls = tls.add_root_certificate(certs);
    }
    let tls = tls.build_rustls().map_err(|e| smtp_error("TLS", e))?;
    let tls = match cfg.security {
        Security::Plain => Tls::None,
        Security::StartTls => Tls::Required(tls),
        Security::Tls => Tls::Wrapper(tls),
    };
    let mut builder = SmtpTransport::builder_dangerous(cfg.host.as_str())
        .port(cfg.port)
        .tls(tls)
        .hello_name(ClientId::Domain("sahih".into()))
        .timeout(Some(TIMEOUT));
    if let (Some(user), Some(pass)) = (&cfg.username, &cfg.password) {
        builder = builder
            .credentials(Credentials::new(user.clone(), pass.as_str().to_string()))
            .authentication(vec![Mechanism::Plain]);
    }
    Ok(builder.build())
}

/// The message: UTF-8 plain text; lettre encodes the subject (RFC 2047) and the body, so no
/// header or line of the text can start a header, a command or the end of DATA.
fn message(from: &str, msg: &OutboxMessage) -> Result<Message, String> {
    let from: Mailbox = from
        .parse()
        .map_err(|_| format!("sender address {from:?} is not a valid e-mail address"))?;
    let to: Mailbox = msg.recipient.parse().map_err(|_| {
        format!(
            "recipient {:?} is not a valid e-mail address",
            msg.recipient
        )
    })?;
    let subject: String = msg.subject.chars().filter(|c| !c.is_control()).collect();
    Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        // Base64: no line of the text can end DATA or run over the line limit, whatever it holds.
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .header(ContentTransferEncoding::Base64)
                .body(msg.body.clone()),
        )
        .map_err(|e| smtp_error("message", e))
}

/// Sends one message (blocking).
pub fn send(cfg: &SmtpConfig, msg: &OutboxMessage) -> Result<(), String> {
    if !valid_address(&msg.recipient) {
        return Err(format!(
            "recipient {:?} is not a valid e-mail address",
            msg.recipient
        ));
    }
    let email = message(&cfg.from, msg)?;
    transport(cfg)?
        .send(&email)
        .map(|_| ())
        .map_err(|e| smtp_error("delivery", e))
}

/// Sends what waits in the outbox, forever (one pass every `every`).
pub async fn deliver_forever(state: crate::Shared, cfg: Arc<SmtpConfig>, every: Duration) {
    use sahih_core::store::Store;
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let pending = match state.sahih.store.pending_outbox(20).await {
            Ok(p) => p,
            Err(_) => continue,
        };
        for (id, mut msg) in pending {
            let now = time::OffsetDateTime::now_utc();
            if !matches!(state.sahih.store.claim_outbox(id, now).await, Ok(true)) {
                continue;
            }
            // Sealed in the database; opened only for the moment of sending.
            match state.sahih.outbox_body(&msg) {
                Ok(body) => msg.body = body.as_str().to_string(),
                Err(_) => {
                    let _ = state
                        .sahih
                        .store
                        .outbox_failed(id, "the message cannot be opened with this master key")
                        .await;
                    continue;
                }
            }
            let c = Arc::clone(&cfg);
            let result = tokio::task::spawn_blocking(move || send(&c, &msg))
                .await
                .unwrap_or_else(|_| Err("SMTP task failed".into()));
            if result.is_ok() {
                let _ = state.sahih.store.outbox_delivered(id).await;
            }
            if let Err(e) = result {
                tracing::warn!(outbox_id = id, error = %e, "SMTP delivery failed");
                let _ = state.sahih.store.outbox_failed(id, &e).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let c =
            SmtpConfig::from_url("smtp://relay.contoh.go.id", "tte@contoh.go.id", None).unwrap();
        assert_eq!((c.port, c.security), (25, Security::Plain));
        let c = SmtpConfig::from_url(
            "smtp://tte@mail.contoh.go.id:2525?starttls=true",
            "tte@contoh.go.id",
            None,
        )
        .unwrap();
        assert_eq!(
            (c.port, c.security, c.username.as_deref()),
            (2525, Security::StartTls, Some("tte"))
        );
        assert_eq!(
            SmtpConfig::from_url("smtps://mail.contoh.go.id", "tte@contoh.go.id", None)
                .unwrap()
                .port,
            465
        );
        assert!(SmtpConfig::from_url("smtp://u:secret@h", "tte@contoh.go.id", None).is_err());
        assert!(SmtpConfig::from_url("http://h", "tte@contoh.go.id", None).is_err());
        assert!(SmtpConfig::from_url("smtp://h", "not an address", None).is_err());
    }

    #[test]
    fn addresses_and_headers_cannot_inject() {
        assert!(valid_address("budi@contoh.go.id"));
        assert!(!valid_address("budi@contoh.go.id\r\nRCPT TO:<x@y.z>"));
        assert!(!valid_address("a b@c.d"));
        let m = message(
            "tte@contoh.go.id",
            &OutboxMessage {
                recipient: "budi@contoh.go.id".into(),
                subject: "Kode\r\nBcc: x@y.z".into(),
                body: ".\r\nline".into(),
            },
        )
        .unwrap();
        let text = String::from_utf8_lossy(&m.formatted()).into_owned();
        assert!(text.contains("Subject: KodeBcc: x@y.z\r\n"), "{text}");
        assert!(!text.contains("\r\nBcc:"), "{text}");
        assert!(!text.contains("\r\n.\r\n"), "{text}");
        assert!(
            message(
                "tte@contoh.go.id",
                &OutboxMessage {
                    recipient: "budi@contoh.go.id>\r\nRCPT TO:<x@y.z".into(),
                    subject: "s".into(),
                    body: "b".into(),
                },
            )
            .is_err()
        );
    }
}
