//! Sign with a fresh CA hierarchy, then validate: the good case, tampering, hostile byte ranges,
//! untrusted roots, revocation, later revisions, and random mutations (never a panic).

// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

use sahih_pades::{SignRequest, Signer, sign_pdf};
use sahih_pdf::sample::{Line, single_page};
use sahih_pdf::{DisplayRect, OpenOptions, PdfDocument, StampContent, VisibleStamp};
use sahih_pki::{
    CertUrls, CertValidity, Certificate, IssueRequest, Issuer, KeyAlgorithm, OfficialIdentity,
    PrivateKey, Profile, SimplePathValidator, TrustStore, issue,
};
use sahih_validate::{
    Context, Indication, NoRevocationData, RevocationSource, RevocationStatus, SubIndication,
    validate_pdf,
};
use time::OffsetDateTime;

struct Pki {
    root: Certificate,
    issuing: Certificate,
    leaf: Certificate,
    key: PrivateKey,
}

fn pki() -> Pki {
    let root_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let root_der = issue(
        &Profile::RootCa {
            institution: "Pemerintah Kota Uji",
        },
        &IssueRequest {
            subject_spki: root_key.spki_der_ref(),
            issuer: Issuer::SelfSigned,
            signer: &root_key,
            validity: CertValidity::days_from_now(3650),
            serial: &sahih_pki::random_serial(),
            urls: CertUrls::default(),
        },
    )
    .unwrap();
    let ca_key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let ca_der = issue(
        &Profile::IssuingCa {
            institution: "Pemerintah Kota Uji",
            generation: 1,
        },
        &IssueRequest {
            subject_spki: ca_key.spki_der_ref(),
            issuer: Issuer::Ca(&root_der),
            signer: &root_key,
            validity: CertValidity::days_from_now(3000),
            serial: &sahih_pki::random_serial(),
            urls: CertUrls::default(),
        },
    )
    .unwrap();
    let key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let identity = OfficialIdentity {
        nik: "3171012501850003".into(),
        nip: "198501252010011003".into(),
        name: "Siti Aminah".into(),
        email: "siti@uji.go.id".into(),
        position: "Sekretaris Daerah".into(),
        unit: "Sekretariat Daerah".into(),
        institution: "Pemerintah Kota Uji".into(),
    };
    let leaf_der = issue(
        &Profile::Official(&identity),
        &IssueRequest {
            subject_spki: key.spki_der_ref(),
            issuer: Issuer::Ca(&ca_der),
            signer: &ca_key,
            validity: CertValidity::days_from_now(365),
            serial: &sahih_pki::random_serial(),
            urls: CertUrls::default(),
        },
    )
    .unwrap();
    Pki {
        root: Certificate::from_der(&root_der).unwrap(),
        issuing: Certificate::from_der(&ca_der).unwrap(),
        leaf: Certificate::from_der(&leaf_der).unwrap(),
        key,
    }
}

fn letter() -> Vec<u8> {
    single_page(
        &[
            Line {
                x: 72.0,
                y: 760.0,
                size: 14.0,
                bold: true,
                text: "SURAT KEPUTUSAN".into(),
            },
            Line {
                x: 72.0,
                y: 700.0,
                size: 11.0,
                bold: false,
                text: "Menetapkan anggaran Rp 1.000.000".into(),
            },
        ],
        "Uji",
    )
}

fn sign(p: &Pki, original: &[u8], visible: bool) -> Vec<u8> {
    let pdf = PdfDocument::open(original, &OpenOptions::default()).unwrap();
    let stamp = visible.then(|| VisibleStamp {
        page_index: 0,
        rect: DisplayRect {
            x: 300.0,
            y: 40.0,
            w: 220.0,
            h: 80.0,
        },
        content: StampContent {
            qr_payload: "https://sahih.uji.go.id/v/abc".into(),
            heading: "Ditandatangani secara elektronik oleh:".into(),
            name: "Siti Aminah".into(),
            lines: vec!["Sekretaris Daerah".into()],
            image: None,
        },
    });
    let chain = vec![p.issuing.clone()];
    let signed = sign_pdf(
        original,
        &pdf,
        &SignRequest {
            stamp,
            reason: Some("Uji".into()),
            location: None,
            signer_name: Some("Siti Aminah".into()),
            signing_time: OffsetDateTime::now_utc(),
            field_name: None,
        },
        &Signer {
            certificate: &p.leaf,
            chain: &chain,
            key_algorithm: KeyAlgorithm::Rsa2048,
            producer: &p.key,
        },
    )
    .unwrap();
    let mut out = original.to_vec();
    out.extend_from_slice(signed.update_bytes());
    out
}

fn validate(
    bytes: &[u8],
    anchors: Vec<Certificate>,
    rev: &dyn RevocationSource,
) -> sahih_validate::Report {
    let validator = SimplePathValidator::new(TrustStore::new(anchors));
    validate_pdf(
        bytes,
        &Context {
            validator: &validator,
            revocation: rev,
            at: OffsetDateTime::now_utc(),
        },
    )
    .unwrap()
}

#[test]
fn signed_letter_passes_and_original_is_a_prefix() {
    let p = pki();
    let original = letter();
    for visible in [true, false] {
        let signed = sign(&p, &original, visible);
        assert!(signed.starts_with(&original));
        let r = validate(&signed, vec![p.root.clone()], &NoRevocationData);
        let s = &r.signatures[0];
        assert_eq!(r.indication, Indication::TotalPassed, "{s:#?}");
        assert!(s.integrity && s.trusted && s.covers_whole_document && !s.revoked);
        assert_eq!(s.level, Some("B-B"));
    }
}

#[test]
fn second_signature_keeps_the_first_valid() {
    let p = pki();
    let once = sign(&p, &letter(), true);
    let twice = sign(&p, &once, true);
    let r = validate(&twice, vec![p.root.clone()], &NoRevocationData);
    assert_eq!(r.signatures.len(), 2);
    assert_eq!(r.indication, Indication::TotalPassed, "{:#?}", r.signatures);
    assert_eq!(r.signatures[0].modifications, "signatures_only");
    assert!(!r.signatures[0].covers_whole_document);
}

#[test]
fn changed_byte_in_signed_range_fails() {
    let p = pki();
    let mut signed = sign(&p, &letter(), false);
    let at = signed.windows(9).position(|w| w == b"1.000.000").unwrap();
    signed[at] = b'9';
    let r = validate(&signed, vec![p.root.clone()], &NoRevocationData);
    assert_eq!(r.indication, Indication::TotalFailed);
    assert_eq!(
        r.signatures[0].sub_indication,
        Some(SubIndication::HashFailure)
    );
    assert!(!r.signatures[0].integrity);
}

#[test]
fn untrusted_root_is_indeterminate() {
    let p = pki();
    let other = pki();
    let signed = sign(&p, &letter(), false);
    let r = validate(&signed, vec![other.root.clone()], &NoRevocationData);
    assert_eq!(r.indication, Indication::Indeterminate);
    let s = &r.signatures[0];
    assert!(s.integrity && !s.trusted);
    assert_eq!(
        s.sub_indication,
        Some(SubIndication::NoCertificateChainFound)
    );
}

struct RevokedAt(OffsetDateTime);
impl RevocationSource for RevokedAt {
    fn status(&self, _c: &Certificate, _i: Option<&Certificate>) -> RevocationStatus {
        RevocationStatus::Revoked {
            at: self.0,
            reason: Some("keyCompromise".into()),
        }
    }
}

#[test]
fn revocation_before_and_after_signing() {
    let p = pki();
    let signed = sign(&p, &letter(), false);
    let later = validate(
        &signed,
        vec![p.root.clone()],
        &RevokedAt(OffsetDateTime::now_utc() + time::Duration::hours(1)),
    );
    assert_eq!(later.indication, Indication::Indeterminate);
    assert_eq!(
        later.signatures[0].sub_indication,
        Some(SubIndication::RevokedNoPoe)
    );
    assert!(later.signatures[0].revoked);
    let before = validate(
        &signed,
        vec![p.root.clone()],
        &RevokedAt(OffsetDateTime::now_utc() - time::Duration::days(1)),
    );
    assert_eq!(before.indication, Indication::TotalFailed);
    assert_eq!(
        before.signatures[0].sub_indication,
        Some(SubIndication::Revoked)
    );
}

#[test]
fn hostile_byte_ranges_fail_cleanly() {
    let p = pki();
    let signed = sign(&p, &letter(), false);
    // Byte offsets (the file is not UTF-8: no lossy conversion here).
    let key = b"/ByteRange [";
    let start = signed.windows(key.len()).position(|w| w == key).unwrap() + key.len();
    let end = start + signed[start..].iter().position(|b| *b == b']').unwrap();
    let nums: Vec<u64> = std::str::from_utf8(&signed[start..end])
        .unwrap()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let width = end - start;
    let variants = [
        // skips the first 100 bytes of content
        format!("100 {} {} {}", nums[1] - 100, nums[2], nums[3]),
        // overlapping ranges
        format!("0 {} {} {}", nums[2] + 10, nums[2], nums[3]),
        // beyond the end of the file
        format!("0 {} {} {}", nums[1], nums[2], nums[3] + 1000),
        // gap that is not the /Contents string
        format!("0 {} {} {}", nums[1] - 20, nums[2], nums[3]),
        // ends before the end of its revision
        format!("0 {} {} {}", nums[1], nums[2], nums[3] - 7),
    ];
    for v in variants {
        let mut bytes = signed.clone();
        let padded = format!("{v:<width$}");
        bytes[start..end].copy_from_slice(padded.as_bytes());
        let r = validate(&bytes, vec![p.root.clone()], &NoRevocationData);
        assert_eq!(
            r.indication,
            Indication::TotalFailed,
            "variant {v}: {:#?}",
            r.signatures
        );
        assert!(!r.signatures[0].integrity);
    }
}

#[test]
fn later_revision_changing_content_fails_and_appended_garbage_fails() {
    let p = pki();
    let signed = sign(&p, &letter(), false);
    // An incremental update that replaces the page content stream (object 4).
    let startxref = sahih_pdf::document::parse_last_startxref(&signed).unwrap();
    let mut evil = signed.clone();
    let content = b"BT /F1 11 Tf 72 700 Td (Menetapkan anggaran Rp 9.000.000) Tj ET\n";
    let obj_at = evil.len();
    evil.extend_from_slice(
        format!("4 0 obj\n<< /Length {} >>\nstream\n", content.len()).as_bytes(),
    );
    evil.extend_from_slice(content);
    evil.extend_from_slice(b"endstream\nendobj\n");
    let xref_at = evil.len();
    let size = 20;
    evil.extend_from_slice(
        format!("xref\n4 1\n{obj_at:010} 00000 n\r\ntrailer\n<< /Size {size} /Root 1 0 R /Prev {startxref} >>\nstartxref\n{xref_at}\n%%EOF\n").as_bytes(),
    );
    let r = validate(&evil, vec![p.root.clone()], &NoRevocationData);
    assert_eq!(r.indication, Indication::TotalFailed, "{:#?}", r.signatures);
    assert_eq!(r.signatures[0].modifications, "disallowed");

    let mut garbage = signed.clone();
    garbage.extend_from_slice(b"% unsigned trailing data\n1 2 3\n");
    let r = validate(&garbage, vec![p.root.clone()], &NoRevocationData);
    assert_eq!(r.indication, Indication::TotalFailed);
    assert!(!r.signatures[0].covers_whole_document);
}

/// Deterministic mutation fuzzing of the whole verification path: never a panic.
#[test]
fn random_mutations_never_panic() {
    let p = pki();
    let signed = sign(&p, &letter(), true);
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..400 {
        let mut bytes = signed.clone();
        match i % 4 {
            0 => {
                let at = (next() as usize) % bytes.len();
                bytes[at] ^= (next() as u8) | 1;
            }
            1 => bytes.truncate((next() as usize) % bytes.len()),
            2 => {
                for _ in 0..8 {
                    let at = (next() as usize) % bytes.len();
                    bytes[at] = next() as u8;
                }
            }
            _ => {
                let at = (next() as usize) % bytes.len();
                let len = ((next() as usize) % 64).min(bytes.len() - at);
                bytes.drain(at..at + len);
            }
        }
        let validator = SimplePathValidator::new(TrustStore::new(vec![p.root.clone()]));
        let _ = validate_pdf(
            &bytes,
            &Context {
                validator: &validator,
                revocation: &NoRevocationData,
                at: OffsetDateTime::now_utc(),
            },
        );
    }
}

/// Appends an incremental update that redefines object `num` with `body`.
fn append_revision(signed: &[u8], num: u32, body: &str) -> Vec<u8> {
    let startxref = sahih_pdf::document::parse_last_startxref(signed).unwrap();
    let mut out = signed.to_vec();
    let obj_at = out.len();
    out.extend_from_slice(format!("{num} 0 obj\n{body}\nendobj\n").as_bytes());
    let xref_at = out.len();
    out.extend_from_slice(
        format!("xref\n{num} 1\n{obj_at:010} 00000 n\r\ntrailer\n<< /Size 30 /Root 1 0 R /Info 7 0 R /Prev {startxref} >>\nstartxref\n{xref_at}\n%%EOF\n").as_bytes(),
    );
    out
}

#[test]
fn later_metadata_update_is_allowed_but_not_other_objects() {
    let p = pki();
    let signed = sign(&p, &letter(), false);
    // Object 7 is the sample letter's /Info dictionary: a tool updating /ModDate after signing
    // (as pyHanko does with its DSS revision) changes no content.
    let meta = append_revision(
        &signed,
        7,
        "<< /Title (Uji) /Producer (Sahih; pyHanko) /ModDate (D:20261127221122Z) >>",
    );
    let r = validate(&meta, vec![p.root.clone()], &NoRevocationData);
    assert_eq!(r.indication, Indication::TotalPassed, "{:#?}", r.signatures);
    assert_eq!(r.signatures[0].modifications, "signatures_only");
    // The font dictionary (object 5) is not metadata: changing it changes what is shown.
    let font = append_revision(
        &signed,
        5,
        "<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>",
    );
    let r = validate(&font, vec![p.root.clone()], &NoRevocationData);
    assert_eq!(r.indication, Indication::TotalFailed, "{:#?}", r.signatures);
    assert_eq!(r.signatures[0].modifications, "disallowed");
}

/// Appends one incremental update: `objects` (number, body) and a classic xref section.
fn append_objects(signed: &[u8], objects: &[(u32, String)], trailer_extra: &str) -> Vec<u8> {
    let startxref = sahih_pdf::document::parse_last_startxref(signed).unwrap();
    let mut out = signed.to_vec();
    let mut rows = String::new();
    for (num, body) in objects {
        let at = out.len();
        out.extend_from_slice(format!("{num} 0 obj\n{body}\nendobj\n").as_bytes());
        rows.push_str(&format!("{num} 1\n{at:010} 00000 n\r\n"));
    }
    let xref_at = out.len();
    out.extend_from_slice(
        format!("xref\n{rows}trailer\n<< /Size 40 /Root 1 0 R /Info 7 0 R /Prev {startxref}{trailer_extra} >>\nstartxref\n{xref_at}\n%%EOF\n")
            .as_bytes(),
    );
    out
}

#[test]
fn thousands_of_revisions_verify_and_a_late_change_is_still_found() {
    let p = pki();
    let mut doc = sign(&p, &letter(), false);
    for i in 0..3000 {
        doc = append_objects(
            &doc,
            &[(7, format!("<< /Title (Revisi {i}) /Producer (Uji) >>"))],
            "",
        );
    }
    let r = validate(&doc, vec![p.root.clone()], &NoRevocationData);
    assert_eq!(r.indication, Indication::TotalPassed, "{:#?}", r.signatures);
    let changed = append_objects(
        &doc,
        &[(
            5,
            "<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>".into(),
        )],
        "",
    );
    let r = validate(&changed, vec![p.root.clone()], &NoRevocationData);
    assert_eq!(r.indication, Indication::TotalFailed, "{:#?}", r.signatures);
    assert!(!r.signatures[0].changes.is_empty());
}

#[test]
fn hostile_structure_never_panics_nor_passes() {
    let p = pki();
    let signed = sign(&p, &letter(), false);
    let deep = format!(
        "<< /Deep {}1{} >>",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let start = sahih_pdf::document::parse_last_startxref(&signed).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        // The page tree's root lists itself as a kid.
        (
            "cyclic kids",
            append_objects(
                &signed,
                &[(2, "<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>".into())],
                "",
            ),
        ),
        // A section whose /Prev is itself.
        ("cyclic prev", {
            let mut d = append_objects(&signed, &[(7, "<< /Title (x) >>".into())], "");
            let at = sahih_pdf::document::parse_last_startxref(&d).unwrap();
            d.extend_from_slice(
                format!("xref\n7 1\n{at:010} 00000 n\r\ntrailer\n<< /Size 40 /Root 1 0 R /Prev {} >>\nstartxref\n{}\n%%EOF\n", d.len(), d.len()).as_bytes(),
            );
            d
        }),
        ("deep nesting", append_objects(&signed, &[(5, deep)], "")),
        (
            "huge counts",
            append_objects(
                &signed,
                &[
                    (2, "<< /Type /Pages /Kids [3 0 R] /Count 2147483647 >>".into()),
                    (30, "<< /Type /ObjStm /N 1000000000 /First 99999999 /Length 0 >>\nstream\n\nendstream".into()),
                ],
                " /Size 99999999",
            ),
        ),
        // A chain of references longer than any reader follows.
        ("reference chain", {
            let objs: Vec<(u32, String)> = (8..30).map(|n| (n, format!("{} 0 R", n + 1))).collect();
            let mut v = objs;
            v.push((5, "8 0 R".into()));
            append_objects(&signed, &v, "")
        }),
        // /Prev pointing before the signed revision's own section (skipping it).
        ("prev skips signed revision", {
            let mut d = signed.clone();
            let at = d.len();
            d.extend_from_slice(b"7 0 obj\n<< /Title (x) >>\nendobj\n");
            let x = d.len();
            d.extend_from_slice(
                format!("xref\n7 1\n{at:010} 00000 n\r\ntrailer\n<< /Size 40 /Root 1 0 R /Prev {} >>\nstartxref\n{x}\n%%EOF\n", start.saturating_sub(1)).as_bytes(),
            );
            d
        }),
    ];
    for (name, bytes) in cases {
        let validator = SimplePathValidator::new(TrustStore::new(vec![p.root.clone()]));
        let result = validate_pdf(
            &bytes,
            &Context {
                validator: &validator,
                revocation: &NoRevocationData,
                at: OffsetDateTime::now_utc(),
            },
        );
        if let Ok(r) = result {
            assert_ne!(
                r.indication,
                Indication::TotalPassed,
                "{name}: {:#?}",
                r.signatures
            );
        }
    }
}
