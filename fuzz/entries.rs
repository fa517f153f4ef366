//! The fuzz targets' bodies, shared by the coverage-guided targets in `fuzz/fuzz_targets/`
//! (cargo-fuzz, nightly) and the deterministic smoke test the test command runs
//! (`crates/sahih/tests/fuzz_smoke.rs`, stable), so both exercise exactly the same calls. Each
//! takes arbitrary bytes and must never panic, hang or exhaust memory; the one differential
//! check (`ecs_json_files`) panics only when two readings of the same input disagree.

#![allow(dead_code)]

/// A target's body.
pub(crate) type Target = fn(&[u8]);

/// Every target by name (the name is also its seed directory under `fuzz/seeds/`).
pub(crate) const TARGETS: &[(&str, Target)] = &[
    ("tsa_request", tsa_request),
    ("ocsp_request", ocsp_request),
    ("crl", crl),
    ("cms", cms),
    ("policy_toml", policy_toml),
    ("evidence_sniff", evidence_sniff),
    ("upstream_answer", upstream_answer),
    ("ecs_json_files", ecs_json_files),
    ("multipart", multipart),
    ("specimen_image", specimen_image),
    ("verify_pdf", verify_pdf),
];

/// RFC 3161 TimeStampReq, as the TSA at `POST /tsa` reads it.
pub(crate) fn tsa_request(data: &[u8]) {
    let _ = sahih_pki::tsp::TimeStampReq::from_der(data);
}

/// OCSP request, as the responder at `/ocsp` reads it (POST body or GET path, both DER).
pub(crate) fn ocsp_request(data: &[u8]) {
    let _ = sahih_pki::ocsp::OcspRequest::from_der(data);
}

/// A CRL, as revocation checking reads one fetched from a distribution point.
pub(crate) fn crl(data: &[u8]) {
    let _ = sahih_pki::crl::parse_crl(data);
}

/// CMS signed data and certificates.
pub(crate) fn cms(data: &[u8]) {
    let _ = sahih_pki::parse_cms(data);
    let _ = sahih_pki::Certificate::from_der(data);
}

/// The institution's policy file (`sahih policy load`, the admin page).
pub(crate) fn policy_toml(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(policy) = sahih_core::policy::Policy::from_toml(text)
    {
        let _ = policy.validate();
    }
}

/// The RA's evidence uploads: recognised by content, complete or refused.
pub(crate) fn evidence_sniff(data: &[u8]) {
    let _ = sahih_core::ra::sniff(data);
}

/// The upstream ECS's answers in gateway mode: a 2-byte big-endian HTTP status, then the body.
pub(crate) fn upstream_answer(data: &[u8]) {
    let (status, body) = match data {
        [a, b, rest @ ..] => (u16::from_be_bytes([*a, *b]), rest),
        _ => (200, data),
    };
    sahih_upstream::read_any_answer(status, body);
}

/// ECS v2 JSON bodies with base64 files, decoded in place, checked against serde + base64.
pub(crate) fn ecs_json_files(data: &[u8]) {
    sahih_server::http::b64json::check_files_against_serde(data);
}

/// multipart/form-data bodies of the ECS v1 and v2 sign calls (boundary `sahih-fuzz`).
pub(crate) fn multipart(data: &[u8]) {
    sahih_server::ecs::read_multipart_for_fuzzing(data);
}

/// Specimen images from API clients.
pub(crate) fn specimen_image(data: &[u8]) {
    let _ = sahih_pdf::parse_specimen(data);
}

/// The whole verification path on arbitrary bytes.
pub(crate) fn verify_pdf(data: &[u8]) {
    use sahih_pki::{SimplePathValidator, TrustStore};
    use sahih_validate::{Context, NoRevocationData, validate_pdf};
    let validator = SimplePathValidator::new(TrustStore::new(Vec::new()));
    let ctx = Context {
        validator: &validator,
        revocation: &NoRevocationData,
        at: time::OffsetDateTime::UNIX_EPOCH,
    };
    let _ = validate_pdf(data, &ctx);
}
