//! PEM: writing, reading blocks, and loading certificates from PEM or DER.

use super::*;

// =============================================================================================
// PEM
// =============================================================================================

/// DER to PEM with 64-character lines and a trailing newline.
pub fn der_to_pem(der: &[u8], label: &str) -> String {
    let b = B64.encode(der);
    let mut out = String::with_capacity(b.len() + b.len() / 64 + 2 * label.len() + 40);
    out.push_str("-----BEGIN ");
    out.push_str(label);
    out.push_str("-----\n");
    for chunk in b.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push('\n');
    }
    out.push_str("-----END ");
    out.push_str(label);
    out.push_str("-----\n");
    out
}

/// All PEM blocks as (label, DER). Text outside blocks is ignored; RFC 1421 headers
/// (`Key: value` lines) inside a block are skipped.
pub fn pem_blocks(pem: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in pem.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("-----BEGIN ") {
            let label = rest
                .strip_suffix("-----")
                .ok_or_else(|| PkiError::Pem("malformed BEGIN line".into()))?;
            current = Some((label.to_string(), String::new()));
        } else if let Some(rest) = line.strip_prefix("-----END ") {
            let label = rest
                .strip_suffix("-----")
                .ok_or_else(|| PkiError::Pem("malformed END line".into()))?;
            let (l, body) = current
                .take()
                .ok_or_else(|| PkiError::Pem("END without BEGIN".into()))?;
            if l != label {
                return Err(PkiError::Pem(format!("BEGIN {l} closed by END {label}")));
            }
            let der = B64
                .decode(body.as_bytes())
                .map_err(|_| PkiError::Pem(format!("bad base64 in {l} block")))?;
            out.push((l, der));
        } else if let Some((_, body)) = current.as_mut()
            && !line.contains(':')
        {
            body.push_str(line);
        }
    }
    if current.is_some() {
        return Err(PkiError::Pem("BEGIN without END".into()));
    }
    Ok(out)
}

/// DER of every PEM block (whatever its label), in order. Error if there is none.
pub fn pem_to_der_all(pem: &str) -> Result<Vec<Vec<u8>>> {
    let blocks = pem_blocks(pem)?;
    if blocks.is_empty() {
        return Err(PkiError::Pem("no PEM block found".into()));
    }
    Ok(blocks.into_iter().map(|(_, d)| d).collect())
}

/// Certificates from a file's bytes: PEM (all CERTIFICATE / X509 CERTIFICATE / TRUSTED
/// CERTIFICATE blocks) or a single DER certificate.
pub fn load_certificates(bytes: &[u8]) -> Result<Vec<Certificate>> {
    if let Ok(text) = std::str::from_utf8(bytes)
        && text.contains("-----BEGIN")
    {
        let certs: Vec<Certificate> = pem_blocks(text)?
            .into_iter()
            .filter(|(l, _)| l.ends_with("CERTIFICATE"))
            .map(|(_, d)| Certificate::from_der(&d))
            .collect::<Result<_>>()?;
        if certs.is_empty() {
            return Err(PkiError::Pem("no CERTIFICATE block found".into()));
        }
        return Ok(certs);
    }
    Ok(vec![Certificate::from_der(bytes)?])
}
