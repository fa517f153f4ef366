//! Routing and authorization of every API route, in-process (axum `oneshot`, no socket) on a
//! real SQLite store: each route of `authz::API_ROUTES` answers each kind of account exactly as
//! `sahih_core::clients::permits` says, an unknown credential is 401, and a path outside the
//! table is never served to anyone. The end-to-end version over HTTP is
//! `tests/e2e/test_ra.py::test_every_api_route_answers_only_the_roles_its_capability_names`;
//! this one is the fast loop.

// Tests may unwrap: a failure is the test failing.
#![allow(clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use base64::Engine;
use sahih_core::clients::{ClientRole, account_may};
use sahih_server::http::authz::API_ROUTES;
use std::sync::Arc;
use tower::ServiceExt;

struct Account {
    credential: String,
    role: ClientRole,
    unit: Option<&'static str>,
}

async fn app(dir: &std::path::Path) -> (axum::Router, Vec<Account>) {
    let (sahih, blobs) = sahih_store::testing::institution_in(dir, "http://127.0.0.1:8080")
        .await
        .unwrap();
    let mut accounts = Vec::new();
    for (name, role, unit, person) in [
        ("app", ClientRole::App, None, None),
        ("app-unit", ClientRole::App, Some("Dinas Kominfo"), None),
        ("admin", ClientRole::Admin, None, None),
        (
            "operator",
            ClientRole::Operator,
            Some("Dinas Kominfo"),
            None,
        ),
        (
            "verif",
            ClientRole::Verifikator,
            None,
            Some("3171012501850009"),
        ),
    ] {
        let secret = sahih
            .add_api_client(
                &sahih_core::requests::ClientSpec {
                    role,
                    unit,
                    person_nik: person,
                    ..sahih_core::requests::ClientSpec::app(name)
                },
                "cli",
            )
            .await
            .unwrap();
        accounts.push(Account {
            credential: format!("{name}:{secret}"),
            role,
            unit,
        });
    }
    let services = sahih.trust_services().await.unwrap();
    let mut state = sahih_server::AppState::new(sahih, services, blobs);
    state.log_requests = false;
    (sahih_server::router(Arc::new(state)), accounts)
}

fn request(method: &axum::http::Method, path: &str, credential: Option<&str>) -> Request<Body> {
    let path = path
        .replace("{id}", "tidak-ada")
        .replace("{nik}", "3171012501850003")
        .replace("{action}", "suspend");
    let mut r = Request::builder().method(method.clone()).uri(path);
    if let Some(c) = credential {
        let b64 = base64::engine::general_purpose::STANDARD.encode(c);
        r = r.header(header::AUTHORIZATION, format!("Basic {b64}"));
    }
    r.body(Body::empty()).unwrap()
}

async fn ecs_code(response: axum::response::Response) -> Option<u64> {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("error_code")?.as_u64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_exactly_the_accounts_its_capability_names() {
    let dir = std::env::temp_dir().join(format!(
        "sahih-routes-{}-{}",
        std::process::id(),
        time::OffsetDateTime::now_utc().unix_timestamp_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (router, accounts) = app(&dir).await;
    // A wrong secret is 401 (a few only: ten failures from one address are throttled).
    for (method, path, _) in API_ROUTES.iter().take(3) {
        let r = router
            .clone()
            .oneshot(request(method, path, Some("app:salah")))
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path} wrong secret"
        );
    }
    let mut checked = 0;
    for (method, path, capability) in API_ROUTES {
        let r = router
            .clone()
            .oneshot(request(method, path, None))
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {path} anonymous"
        );
        for account in &accounts {
            let r = router
                .clone()
                .oneshot(request(method, path, Some(&account.credential)))
                .await
                .unwrap();
            let status = r.status();
            let code = ecs_code(r).await;
            let refused = status == StatusCode::FORBIDDEN && code == Some(4033);
            let allowed = account_may(account.role, account.unit, *capability);
            assert_eq!(
                !refused, allowed,
                "{method} {path} as {:?} (unit {:?}) for {capability:?}: {status} {code:?}",
                account.role, account.unit
            );
            assert_ne!(status, StatusCode::UNAUTHORIZED, "{method} {path}");
            checked += 1;
        }
    }
    assert_eq!(checked, API_ROUTES.len() * accounts.len());
    // A route outside the table is served to nobody (404 for a path axum does not know).
    for account in &accounts {
        let r = router
            .clone()
            .oneshot(request(
                &axum::http::Method::GET,
                "/api/v1/tidak-ada",
                Some(&account.credential),
            ))
            .await
            .unwrap();
        assert!(
            matches!(r.status(), StatusCode::NOT_FOUND | StatusCode::FORBIDDEN),
            "{}",
            r.status()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
