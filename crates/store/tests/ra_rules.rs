//! The registration authority's domain rules on a real SQLite store, without HTTP: who may
//! decide (separation of duties, also when one person holds two credentials), the request's
//! state machine (no step skipped or repeated, a rejection needs its reason, the activation link
//! works once), and the audit entries each step leaves. The Python suite checks the same through
//! the pages and the API; this is the fast loop for the rules themselves.

// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

use sahih_core::audit::AuditAction;
use sahih_core::clients::ClientRole;
use sahih_core::lifecycle::Action;
use sahih_core::ra::{
    EvidenceKind, EvidenceUpload, RequestKind, RequestState, Staff, SubmissionInput,
};
use sahih_core::requests::ClientSpec;
use sahih_core::store::{NewOfficial, Store};
use sahih_core::{CoreError, Lang};

const UNIT: &str = "Dinas Kominfo";
const OFFICIAL_NIK: &str = "3171012501850003";
const OPERATOR_NIK: &str = "3171014403900002";
const VERIFIKATOR_NIK: &str = "3171011207880001";
const OTHER_NIK: &str = "3171010101900004";
const PASSPHRASE: &str = "Rahasia-Negara-2026!";

type Fixture = sahih_store::testing::Institution;

async fn fixture(tag: &str) -> Fixture {
    Fixture::new(&format!("ra-rules-{tag}"), "https://tte.contoh.go.id")
        .await
        .unwrap()
}

fn operator() -> Staff {
    Staff {
        name: "operator-kominfo".into(),
        role: ClientRole::Operator,
        unit: Some(UNIT.into()),
        person_nik: Some(OPERATOR_NIK.into()),
    }
}

fn verifikator() -> Staff {
    Staff {
        name: "verifikator-1".into(),
        role: ClientRole::Verifikator,
        unit: None,
        person_nik: Some(VERIFIKATOR_NIK.into()),
    }
}

fn pdf() -> Vec<u8> {
    sahih_pdf::sample::single_page(
        &[sahih_pdf::sample::Line {
            x: 72.0,
            y: 720.0,
            size: 12.0,
            bold: false,
            text: "Surat Permohonan Sertifikat Elektronik".into(),
        }],
        "Surat Permohonan",
    )
}

fn submission(nik: &str) -> SubmissionInput {
    // Each official has an address of their own (addresses are unique, like NIKs).
    let email = format!("pejabat-{nik}@contoh.go.id");
    let evidence = [
        EvidenceKind::SuratPermohonan,
        EvidenceKind::Ktp,
        EvidenceKind::SkJabatan,
    ]
    .into_iter()
    .map(|kind| EvidenceUpload {
        kind,
        nik: None,
        file_name: Some(format!("{}.pdf", kind.as_str())),
        bytes: pdf(),
    })
    .collect();
    SubmissionInput {
        kind: RequestKind::Enroll,
        officials: vec![NewOfficial {
            nik: nik.into(),
            nip: "198501252010011003".into(),
            name: "Budi Santoso".into(),
            email,
            position: "Kepala Bidang".into(),
            unit: UNIT.into(),
        }],
        evidence,
        require_complete: true,
    }
}

async fn submit(f: &Fixture, by: &Staff, nik: &str) -> String {
    let outcome = f
        .sahih
        .ra_submit(&f.blobs, by, submission(nik))
        .await
        .unwrap();
    assert_eq!(outcome.requests.len(), 1);
    let request = &outcome.requests[0];
    assert_eq!(request.state, RequestState::WaitingForVerification);
    request.id.clone()
}

async fn decide(
    f: &Fixture,
    by: &Staff,
    id: &str,
    approve: bool,
    reason: Option<&str>,
) -> Result<RequestState, CoreError> {
    f.sahih
        .ra_decide(&f.blobs, by, id, approve, reason, Lang::Id)
        .await
        .map(|r| r.state)
}

fn is_forbidden(r: &Result<RequestState, CoreError>) -> bool {
    matches!(r, Err(CoreError::Forbidden { .. }))
}

async fn actions(f: &Fixture) -> Vec<(String, String)> {
    f.sahih
        .store
        .audit_entries(1, i64::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.event.action, e.event.actor))
        .collect()
}

#[tokio::test]
async fn only_a_verifikator_decides_and_never_their_own_filing_or_about_themselves() {
    let f = fixture("duties").await;
    let id = submit(&f, &operator(), OFFICIAL_NIK).await;

    // The operator who filed it may not decide it, in either direction.
    assert!(is_forbidden(
        &decide(&f, &operator(), &id, true, None).await
    ));
    assert!(is_forbidden(
        &decide(&f, &operator(), &id, false, Some("kurang lengkap")).await
    ));

    // A verifikator may not decide a request about themselves.
    let about_me = submit(&f, &operator(), VERIFIKATOR_NIK).await;
    assert!(is_forbidden(
        &decide(&f, &verifikator(), &about_me, true, None).await
    ));

    // One person (one NIK) holding an operator credential and a verifikator credential may not
    // decide what they filed under the other.
    for (name, role, unit) in [
        ("op-budi", ClientRole::Operator, Some(UNIT)),
        ("ver-budi", ClientRole::Verifikator, None),
    ] {
        f.sahih
            .add_api_client(
                &ClientSpec {
                    role,
                    unit,
                    person_nik: Some(OPERATOR_NIK),
                    ..ClientSpec::app(name)
                },
                "test",
            )
            .await
            .unwrap();
    }
    let as_operator = Staff::from(&f.sahih.store.api_client("op-budi").await.unwrap().unwrap());
    let as_verifikator = Staff::from(&f.sahih.store.api_client("ver-budi").await.unwrap().unwrap());
    let filed = submit(&f, &as_operator, OTHER_NIK).await;
    assert!(is_forbidden(
        &decide(&f, &as_verifikator, &filed, true, None).await
    ));

    // Nothing above changed a request; another verifikator decides.
    for id in [&id, &about_me, &filed] {
        let r = f.sahih.ra_request_for(&verifikator(), id).await;
        let state = r
            .map(|r| r.state)
            .unwrap_or(RequestState::WaitingForVerification);
        assert_eq!(state, RequestState::WaitingForVerification, "{id}");
    }
    assert_eq!(
        decide(&f, &verifikator(), &id, true, None).await.unwrap(),
        RequestState::Approved
    );
    assert_eq!(
        decide(
            &f,
            &verifikator(),
            &filed,
            false,
            Some("SK jabatan kedaluwarsa")
        )
        .await
        .unwrap(),
        RequestState::Rejected
    );

    // Each refusal and each decision is in the audit log under the actor who tried.
    let log = actions(&f).await;
    let approve = AuditAction::Ra(Action::Approve).as_str();
    let reject = AuditAction::Ra(Action::Reject).as_str();
    let refused_by_operator = log
        .iter()
        .filter(|(a, who)| (a == approve || a == reject) && who == "operator-kominfo")
        .count();
    assert!(refused_by_operator >= 2, "{log:?}");
    assert!(
        log.iter()
            .any(|(a, who)| a == approve && who == "verifikator-1"),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|(a, who)| a == reject && who == "verifikator-1"),
        "{log:?}"
    );
}

#[tokio::test]
async fn a_request_moves_only_along_the_state_machine_and_its_link_works_once() {
    let f = fixture("states").await;
    let id = submit(&f, &operator(), OFFICIAL_NIK).await;

    // A rejection needs its reason; a blank one is no reason.
    for reason in [None, Some("   ")] {
        let r = decide(&f, &verifikator(), &id, false, reason).await;
        assert!(r.is_err(), "{reason:?}: {r:?}");
    }
    assert_eq!(
        decide(&f, &verifikator(), &id, true, None).await.unwrap(),
        RequestState::Approved
    );
    // Decided once: neither a second approval nor a late rejection moves it.
    assert!(decide(&f, &verifikator(), &id, true, None).await.is_err());
    assert!(
        decide(&f, &verifikator(), &id, false, Some("terlambat"))
            .await
            .is_err()
    );

    // The activation link went to the official; it works once.
    let mail = f
        .sahih
        .store
        .outbox(&format!("pejabat-{OFFICIAL_NIK}@contoh.go.id"))
        .await
        .unwrap();
    let token = mail
        .iter()
        .find_map(|m| {
            f.sahih
                .outbox_body(m)
                .unwrap()
                .split("/aktivasi/")
                .nth(1)
                .map(|rest| rest.split_whitespace().next().unwrap_or("").to_string())
        })
        .expect("an activation link in the official's mail");
    let token = token.split('?').next().unwrap_or("").to_string();
    f.sahih.activate(&token, PASSPHRASE).await.unwrap();
    let again = f.sahih.activate(&token, PASSPHRASE).await;
    assert!(
        matches!(again, Err(CoreError::ActivationLinkInvalid)),
        "{again:?}"
    );
    let r = f.sahih.ra_request_for(&verifikator(), &id).await.unwrap();
    assert_eq!(r.state, RequestState::Activated);

    let log: Vec<String> = actions(&f).await.into_iter().map(|(a, _)| a).collect();
    for step in [Action::Submit, Action::Approve, Action::Activate] {
        let step = AuditAction::Ra(step).as_str();
        assert!(log.iter().any(|a| a == step), "{step} missing from {log:?}");
    }
}
