//! Delivery of outbox messages (one-time codes, later activation links) by SMTP.
//!
//! Messages are first written to the outbox table (the embedded default stops there); a server
//! with `[notify] smtp_url` set claims pending messages one by one in the database (so one of
//! several servers sends each) and hands them to the relay: plain SMTP (`smtp://`, for a relay
//! on the LAN), STARTTLS (`smtp://...?starttls=true`) or implicit TLS (`smtps://`), with AUTH
//! PLAIN over TLS only. The password comes from `SAHIH_SMTP_PASSWORD`, never from the config
//! file, and never appears in errors or logs.

use rustls::pki_types::ServerName;
use rustls::pki_types::pem::PemObject;
use sahih_core::store::OutboxMessage;
use std::io::{Read, Write};
use std::net::TcpStream;
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

enum Conn {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Plain(s) => s.read(buf),
            Self::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Plain(s) => s.write(buf),
            Self::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Plain(s) => s.flush(),
            Self::Tls(s) => s.flush(),
        }
    }
}

/// Reads one (possibly multi-line) reply; returns its code and last line.
fn reply(conn: &mut Conn) -> Result<(u16, String), String> {
    let mut line = Vec::new();
    loop {
        let mut byte = [0u8; 1];
        let n = conn
            .read(&mut byte)
            .map_err(|e| format!("SMTP read: {e}"))?;
        if n == 0 {
            return Err("SMTP server closed the connection".into());
        }
        line.push(byte[0]);
        if line.len() > 4096 {
            return Err("SMTP reply line too long".into());
        }
        if line.ends_with(b"\r\n") {
            let text = String::from_utf8_lossy(&line).trim_end().to_string();
            line.clear();
            if text.len() >= 3 && text.as_bytes().get(3) != Some(&b'-') {
                let code = text
                    .get(..3)
                    .and_then(|c| c.parse::<u16>().ok())
                    .ok_or_else(|| format!("bad SMTP reply {text:?}"))?;
                return Ok((code, text));
            }
        }
    }
}

fn command(conn: &mut Conn, cmd: &str, expect: &[u16]) -> Result<String, String> {
    conn.write_all(cmd.as_bytes())
        .and_then(|_| conn.write_all(b"\r\n"))
        .and_then(|_| conn.flush())
        .map_err(|e| format!("SMTP write: {e}"))?;
    let (code, text) = reply(conn)?;
    if expect.contains(&code) {
        Ok(text)
    } else {
        // Never echo AUTH lines: they carry the credentials.
        let shown = if cmd.starts_with("AUTH") { "AUTH" } else { cmd };
        Err(format!("SMTP {shown:?} answered {text}"))
    }
}

fn tls_config(cfg: &SmtpConfig) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = &cfg.ca_file {
        let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| format!("{}: {e}", path.display()))?;
            roots
                .add(cert)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn wrap_tls(cfg: &SmtpConfig, tcp: TcpStream) -> Result<Conn, String> {
    let name = ServerName::try_from(cfg.host.clone())
        .map_err(|_| format!("bad SMTP host name {:?}", cfg.host))?;
    let conn =
        rustls::ClientConnection::new(tls_config(cfg)?, name).map_err(|e| format!("TLS: {e}"))?;
    Ok(Conn::Tls(Box::new(rustls::StreamOwned::new(conn, tcp))))
}

/// RFC 2047 encoded-word when the subject is not plain ASCII.
fn header_text(s: &str) -> String {
    use base64::Engine;
    let clean: String = s.chars().filter(|c| !c.is_control()).collect();
    if clean.is_ascii() {
        clean
    } else {
        format!(
            "=?UTF-8?B?{}?=",
            base64::engine::general_purpose::STANDARD.encode(clean.as_bytes())
        )
    }
}

/// The message in RFC 5322 form: UTF-8 text, base64 body (no dot-stuffing or line-length
/// issues), CRLF line ends.
fn format_message(from: &str, msg: &OutboxMessage) -> String {
    use base64::Engine;
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc2822)
        .unwrap_or_default();
    let mut id = [0u8; 12];
    let _ = aws_lc_rs::rand::fill(&mut id);
    let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let domain = from.split_once('@').map(|(_, d)| d).unwrap_or("localhost");
    let body = base64::engine::general_purpose::STANDARD.encode(msg.body.as_bytes());
    let mut out = format!(
        "From: {from}\r\nTo: {}\r\nSubject: {}\r\nDate: {date}\r\nMessage-ID: <{id}@{domain}>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n",
        msg.recipient,
        header_text(&msg.subject)
    );
    for chunk in body.as_bytes().chunks(76) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push_str("\r\n");
    }
    out
}

/// Sends one message (blocking).
pub fn send(cfg: &SmtpConfig, msg: &OutboxMessage) -> Result<(), String> {
    if !valid_address(&msg.recipient) {
        return Err(format!(
            "recipient {:?} is not a valid e-mail address",
            msg.recipient
        ));
    }
    let addr = format!("{}:{}", cfg.host, cfg.port);
    // Every address the name resolves to, in order (localhost may be ::1 then 127.0.0.1).
    let mut last = format!("{addr}: no address");
    let mut tcp = None;
    for sock in
        std::net::ToSocketAddrs::to_socket_addrs(&addr).map_err(|e| format!("{addr}: {e}"))?
    {
        match TcpStream::connect_timeout(&sock, TIMEOUT) {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) => last = format!("{addr}: {e}"),
        }
    }
    let tcp = tcp.ok_or(last)?;
    let _ = tcp.set_read_timeout(Some(TIMEOUT));
    let _ = tcp.set_write_timeout(Some(TIMEOUT));
    let mut conn = match cfg.security {
        Security::Tls => wrap_tls(cfg, tcp)?,
        _ => Conn::Plain(tcp),
    };
    let (code, text) = reply(&mut conn)?;
    if code != 220 {
        return Err(format!("SMTP greeting: {text}"));
    }
    command(&mut conn, "EHLO sahih", &[250])?;
    if cfg.security == Security::StartTls {
        command(&mut conn, "STARTTLS", &[220])?;
        let Conn::Plain(tcp) = conn else {
            return Err("STARTTLS on a TLS connection".into());
        };
        conn = wrap_tls(cfg, tcp)?;
        command(&mut conn, "EHLO sahih", &[250])?;
    }
    if let (Some(user), Some(pass)) = (&cfg.username, &cfg.password) {
        use base64::Engine;
        let token = Zeroizing::new(format!("\0{user}\0{}", pass.as_str()));
        let line = Zeroizing::new(format!(
            "AUTH PLAIN {}",
            base64::engine::general_purpose::STANDARD.encode(token.as_bytes())
        ));
        command(&mut conn, &line, &[235])?;
    }
    command(&mut conn, &format!("MAIL FROM:<{}>", cfg.from), &[250])?;
    command(
        &mut conn,
        &format!("RCPT TO:<{}>", msg.recipient),
        &[250, 251],
    )?;
    command(&mut conn, "DATA", &[354])?;
    let data = format_message(&cfg.from, msg);
    conn.write_all(data.as_bytes())
        .map_err(|e| format!("SMTP write: {e}"))?;
    command(&mut conn, ".", &[250])?;
    let _ = command(&mut conn, "QUIT", &[221]);
    Ok(())
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
                eprintln!(
                    "{}",
                    serde_json::json!({"level": "warn", "msg": "SMTP delivery failed", "outbox_id": id, "error": e})
                );
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
        let m = format_message(
            "tte@contoh.go.id",
            &OutboxMessage {
                recipient: "budi@contoh.go.id".into(),
                subject: "Kode\r\nBcc: x@y.z".into(),
                body: ".\r\nline".into(),
            },
        );
        assert!(m.contains("Subject: KodeBcc: x@y.z\r\n"));
        assert!(!m.contains("\r\n.\r\n"));
    }
}
