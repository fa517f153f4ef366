//! The authorization matrix, in-process (axum `oneshot` on a real SQLite store): every route of
//! `authz::API_ROUTES` times every kind of caller (app, app bound to a unit, admin, operator of
//! this unit, operator of another unit, verifikator, anonymous, disabled client, client from an
//! address outside its allow-list), with the expected answer generated from the one table
//! (`sahih_core::clients::account_may`). A route served under `/api` that the table does not
//! name fails the test, so a new route cannot ship without an entry. Then the data scoping the
//! table cannot express: who sees an ECS registration filed with the juknis body, and that it
//! cannot be approved while incomplete.
//!
//! There is no "seal" caller: an e-seal is not an API account, the seal endpoints are the app
//! role's `seal` capability (covered as `app`).

// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use base64::Engine;
use sahih_core::clients::{ClientRole, account_may};
use sahih_server::http::authz::API_ROUTES;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use tower::ServiceExt;

const UNIT: &str = "Dinas Kominfo";
const OTHER_UNIT: &str = "Dinas Kesehatan";

/// Who calls, and what the table says they get.
#[derive(Clone, Copy, Debug)]
enum Caller {
    /// A live account of this role and unit: allowed exactly when the table says so.
    Account(ClientRole, Option<&'static str>),
    /// No credential, a disabled client, or a client calling from outside its allow-list:
    /// 401 on every route, the same answer whatever was wrong.
    Unauthenticated,
}

struct Subject {
    label: &'static str,
    credential: Option<String>,
    caller: Caller,
    /// Failing callers come from a fresh address per request, so the per-address throttle of
    /// failed authentications (10 in 5 minutes) does not turn 401 into 429 mid-matrix.
    fresh_address: bool,
}

/// The expected answer, from the one table.
fn expected(caller: Caller, capability: sahih_core::clients::Capability) -> Expect {
    match caller {
        Caller::Unauthenticated => Expect::Unauthorized,
        Caller::Account(role, unit) if account_may(role, unit, capability) => Expect::Served,
        Caller::Account(..) => Expect::Refused,
    }
}

#[derive(Debug, PartialEq)]
enum Expect {
    /// Past authorization: anything but 401 and the authorization refusal (403, 4033).
    Served,
    /// 403 with code 4033.
    Refused,
    /// 401.
    Unauthorized,
}

struct Deployment {
    router: axum::Router,
    /// The same database, to forget the failed authentications the matrix makes on purpose.
    store: sahih_store::SqlStore,
    subjects: Vec<Subject>,
    dir: std::path::PathBuf,
}

async fn deployment() -> Deployment {
    let dir = std::env::temp_dir().join(format!(
        "sahih-authz-{}-{}",
        std::process::id(),
        time::OffsetDateTime::now_utc().unix_timestamp_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (sahih, blobs) = sahih_store::testing::institution_in(&dir, "http://127.0.0.1:8080")
        .await
        .unwrap();
    let allow_only = vec!["192.0.2.0/24".to_string()];
    let mut subjects = vec![Subject {
        label: "anonymous",
        credential: None,
        caller: Caller::Unauthenticated,
        fresh_address: false,
    }];
    type Row = (
        &'static str,
        ClientRole,
        Option<&'static str>,
        Option<&'static str>,
    );
    let rows: [Row; 9] = [
        ("app", ClientRole::App, None, None),
        ("app-unit", ClientRole::App, Some(UNIT), None),
        ("admin", ClientRole::Admin, None, None),
        ("operator", ClientRole::Operator, Some(UNIT), None),
        (
            "operator-lain",
            ClientRole::Operator,
            Some(OTHER_UNIT),
            None,
        ),
        (
            "verif",
            ClientRole::Verifikator,
            None,
            Some("3171012501850009"),
        ),
        (
            "verif-2",
            ClientRole::Verifikator,
            None,
            Some("3171012501850017"),
        ),
        ("nonaktif", ClientRole::App, None, None),
        ("ip-lain", ClientRole::App, None, None),
    ];
    for (name, role, unit, person) in rows {
        let secret = sahih
            .add_api_client(
                &sahih_core::requests::ClientSpec {
                    role,
                    unit,
                    person_nik: person,
                    allow_ips: if name == "ip-lain" { &allow_only } else { &[] },
                    ..sahih_core::requests::ClientSpec::app(name)
                },
                "cli",
            )
            .await
            .unwrap();
        let unauthenticated = matches!(name, "nonaktif" | "ip-lain");
        subjects.push(Subject {
            label: name,
            credential: Some(format!("{name}:{secret}")),
            caller: if unauthenticated {
                Caller::Unauthenticated
            } else {
                Caller::Account(role, unit)
            },
            fresh_address: unauthenticated,
        });
    }
    sahih
        .set_api_client_disabled("nonaktif", true, "cli")
        .await
        .unwrap();
    let services = sahih.trust_services().await.unwrap();
    let mut state = sahih_server::AppState::new(sahih, services, blobs);
    state.log_requests = false;
    let store =
        sahih_store::SqlStore::connect(&format!("sqlite://{}?mode=rw", dir.join("t.db").display()))
            .await
            .unwrap();
    Deployment {
        store,
        router: sahih_server::router(Arc::new(state)),
        subjects,
        dir,
    }
}

fn request(
    method: &Method,
    path: &str,
    credential: Option<&str>,
    from: IpAddr,
    json: Option<serde_json::Value>,
) -> Request<Body> {
    let path = path
        .replace("{id}", "tidak-ada")
        .replace("{nik}", "3171012501850003")
        .replace("{action}", "suspend")
        .replace("{kind}", "ktp")
        .replace("{index}", "0");
    let mut r = Request::builder().method(method.clone()).uri(path);
    if let Some(c) = credential {
        let b64 = base64::engine::general_purpose::STANDARD.encode(c);
        r = r.header(header::AUTHORIZATION, format!("Basic {b64}"));
    }
    let body = match json {
        Some(v) => {
            r = r.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let mut req = r.body(body).unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(from, 40000)));
    req
}

async fn answer(router: &axum::Router, req: Request<Body>) -> (StatusCode, serde_json::Value) {
    let r = router.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let bytes = axum::body::to_bytes(r.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// Every `/api` path the server's source routes, by reading the source: a route added to a
/// router and not to `API_ROUTES` is then caught here even though authz already refuses it.
fn routed_api_paths() -> Vec<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let mut rest = text.as_str();
                while let Some(at) = rest.find(".route(") {
                    rest = &rest[at + ".route(".len()..];
                    let trimmed = rest.trim_start();
                    if let Some(lit) = trimmed.strip_prefix('"')
                        && let Some(end) = lit.find('"')
                        && lit[..end].starts_with("/api")
                    {
                        out.push(lit[..end].to_string());
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut out,
    );
    out.sort();
    out.dedup();
    out
}

/// `/api` routes that need no API credential, each with why.
const PUBLIC_API: &[&str] = &[
    // The official's activation link: the link's 256-bit token is the credential.
    "/api/v1/activation/{token}",
];

#[test]
fn every_routed_api_path_has_an_entry_in_the_table() {
    let paths = routed_api_paths();
    assert!(paths.len() > 30, "source scan found too little: {paths:?}");
    for path in &paths {
        let named = API_ROUTES.iter().any(|(_, p, _)| p == path);
        assert!(
            named || PUBLIC_API.contains(&path.as_str()),
            "{path} is routed but has no entry in authz::API_ROUTES"
        );
    }
    for (method, path, _) in API_ROUTES {
        assert!(
            paths.iter().any(|p| p == path),
            "{method} {path} is in the table but routed nowhere"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_times_every_caller_answers_as_the_table_says() {
    let d = deployment().await;
    let local = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut fresh = 0u32;
    let mut checked = 0;
    for (method, path, capability) in API_ROUTES {
        for s in &d.subjects {
            let from = if s.fresh_address {
                fresh += 1;
                IpAddr::V4(Ipv4Addr::new(10, 9, (fresh >> 8) as u8, fresh as u8))
            } else {
                local
            };
            let (status, body) = answer(
                &d.router,
                request(method, path, s.credential.as_deref(), from, None),
            )
            .await;
            if s.fresh_address {
                // The disabled client fails on every route: more than the per-name throttle
                // (30 in 5 minutes) allows, which has tests of its own.
                sahih_store::testing::forget_auth_failures(&d.store)
                    .await
                    .unwrap();
            }
            let code = body.get("error_code").and_then(|c| c.as_u64());
            let got = match (status, code) {
                (StatusCode::UNAUTHORIZED, _) => Expect::Unauthorized,
                (StatusCode::FORBIDDEN, Some(4033)) => Expect::Refused,
                _ => Expect::Served,
            };
            assert_eq!(
                got,
                expected(s.caller, *capability),
                "{method} {path} as {} ({capability:?}): {status} {body}",
                s.label
            );
            checked += 1;
        }
    }
    assert_eq!(checked, API_ROUTES.len() * d.subjects.len());
    let _ = std::fs::remove_dir_all(&d.dir);
}

/// An ECS registration with the juknis body `{nama, email}`: who sees it, who completes it, and
/// that nothing approves it while identity or evidence is missing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_juknis_registration_is_scoped_completed_and_never_approved_incomplete() {
    let d = deployment().await;
    let local = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let cred = |label: &str| {
        d.subjects
            .iter()
            .find(|s| s.label == label)
            .and_then(|s| s.credential.clone())
            .unwrap()
    };
    let call = |method: Method, path: String, who: &str, json: Option<serde_json::Value>| {
        let c = cred(who);
        let router = d.router.clone();
        async move { answer(&router, request(&method, &path, Some(&c), local, json)).await }
    };
    let juknis =
        serde_json::json!({"nama": "Rina Wulandari", "email": "rina.wulandari@contoh.go.id"});

    // The app bound to a unit files for its unit: its operator and the verifikators see it, the
    // other unit's operator does not.
    let (status, body) = call(
        Method::POST,
        "/api/v2/user/registration".into(),
        "app-unit",
        Some(juknis.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["data"]["status"], "NEW");
    assert_eq!(body["data"]["status_code"], 1116);
    let id = body["data"]["id"].as_str().unwrap().to_string();
    let one = format!("/api/v1/ra/requests/{id}");
    for (who, want) in [
        ("operator", StatusCode::OK),
        ("verif", StatusCode::OK),
        ("operator-lain", StatusCode::NOT_FOUND),
    ] {
        let (status, body) = call(Method::GET, one.clone(), who, None).await;
        assert_eq!(status, want, "{who}: {body}");
    }
    // Not approvable while incomplete.
    let (status, body) = call(
        Method::POST,
        format!("{one}/approve"),
        "verif",
        Some(serde_json::json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    // The other unit's operator cannot complete it; its own operator can, field by field.
    let identity = format!("{one}/identity");
    let (status, _) = call(
        Method::POST,
        identity.clone(),
        "operator-lain",
        Some(serde_json::json!({"nik": "3573010101800001"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = call(
        Method::POST,
        identity.clone(),
        "operator",
        Some(serde_json::json!({"nik": "3573010101800001", "nip": "198001012005012001"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "NEW");
    assert!(
        body["missing"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("jabatan"))
    );
    // A verifikator does not enter an official's data.
    let (status, body) = call(
        Method::POST,
        identity.clone(),
        "verif",
        Some(serde_json::json!({"jabatan": "Analis"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = call(
        Method::POST,
        identity.clone(),
        "operator",
        Some(serde_json::json!({"jabatan": "Analis Kebijakan"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The identity is complete: the official is on file, NEW, waiting for evidence.
    assert_eq!(body["official_status"], "NEW", "{body}");
    assert!(
        !body["missing"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("nik"))
    );
    let (status, body) = call(
        Method::POST,
        format!("{one}/approve"),
        "verif",
        Some(serde_json::json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // An app without a unit files for no unit: verifikators only, until one hands it to a unit.
    let (status, body) = call(
        Method::POST,
        "/api/v2/user/register".into(),
        "app",
        Some(serde_json::json!({"nama": "Joko Susilo", "email": "joko.susilo@contoh.go.id"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["data"]["id"].as_str().unwrap().to_string();
    let one = format!("/api/v1/ra/requests/{id}");
    for (who, want) in [
        ("operator", StatusCode::NOT_FOUND),
        ("operator-lain", StatusCode::NOT_FOUND),
        ("verif", StatusCode::OK),
    ] {
        let (status, body) = call(Method::GET, one.clone(), who, None).await;
        assert_eq!(status, want, "{who}: {body}");
    }
    let (status, body) = call(
        Method::POST,
        format!("{one}/identity"),
        "verif",
        Some(serde_json::json!({"unit_kerja": UNIT})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = call(Method::GET, one.clone(), "operator", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(Method::GET, one.clone(), "operator-lain", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Handed over once: no verifikator moves it again.
    let (status, _) = call(
        Method::POST,
        format!("{one}/identity"),
        "verif-2",
        Some(serde_json::json!({"unit_kerja": OTHER_UNIT})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let _ = std::fs::remove_dir_all(&d.dir);
}
