//! Which API route needs which capability: one table, consulted by one middleware after
//! authentication. A route missing from the table is refused to everyone (deny by default),
//! so a new route cannot ship without an entry.
//!
//! Owns: the route → capability map and the refusal. Must not know: which role holds which
//! capability (that is `sahih_core::clients::permits`).

use crate::error::{EcsError, code};
use axum::extract::{MatchedPath, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sahih_core::clients::{Capability, account_may};
use sahih_core::store::ApiClientRecord;

/// Every authenticated API route, with the capability it needs.
pub const API_ROUTES: &[(Method, &str, Capability)] = {
    use Capability::*;
    &[
        // ECS v1 and v2
        (Method::POST, "/api/sign/pdf", Sign),
        (Method::GET, "/api/sign/download/{id}", Sign),
        (Method::POST, "/api/sign/verify", Verify),
        (Method::GET, "/api/user/status/{nik}", ReadStatus),
        (Method::POST, "/api/v2/sign/pdf", Sign),
        (Method::POST, "/api/v2/sign/get/totp", Sign),
        (Method::POST, "/api/v2/verify/pdf", Verify),
        (Method::POST, "/api/v2/user/check/status", ReadStatus),
        (Method::POST, "/api/v2/user/registration", RegisterOfficial),
        (Method::POST, "/api/v2/user/register", RegisterOfficial),
        (Method::POST, "/api/v2/seal/get/activation", Seal),
        (Method::POST, "/api/v2/seal/revoke/activation", Seal),
        (Method::POST, "/api/v2/seal/get/totp", Seal),
        (Method::POST, "/api/v2/seal/pdf", Seal),
        // native
        (Method::POST, "/api/v1/documents", Sign),
        (Method::GET, "/api/v1/documents/{id}", Sign),
        (Method::GET, "/api/v1/documents/{id}/file", Sign),
        (Method::POST, "/api/v1/signing-requests", Sign),
        (Method::GET, "/api/v1/signing-requests/{id}", Sign),
        (
            Method::GET,
            "/api/v1/signing-requests/{id}/documents/{index}",
            Sign,
        ),
        (Method::POST, "/api/v1/webhooks/secret", Sign),
        (Method::GET, "/api/v1/webhooks/deliveries", Sign),
        (
            Method::POST,
            "/api/v1/webhooks/deliveries/{id}/replay",
            Sign,
        ),
        (Method::POST, "/api/v1/verify", Verify),
        (Method::GET, "/api/v1/officials/{nik}", ReadStatus),
        (Method::GET, "/api/v1/policy", ReadStatus),
        (Method::GET, "/api/v1/clients", ListClients),
        (Method::GET, "/api/v1/audit", ReadAudit),
        (Method::GET, "/api/v1/audit/verify", ReadAudit),
        (Method::POST, "/api/v1/seals/{id}/documents", Seal),
        // registration authority
        (Method::POST, "/api/v1/ra/submissions", SubmitRegistration),
        (Method::GET, "/api/v1/ra/requests", ReadRegistrations),
        (Method::GET, "/api/v1/ra/requests/{id}", ReadRegistrations),
        (
            Method::POST,
            "/api/v1/ra/requests/{id}/evidence",
            SubmitRegistration,
        ),
        (
            Method::GET,
            "/api/v1/ra/requests/{id}/evidence/{kind}",
            ReadRegistrations,
        ),
        (
            Method::POST,
            "/api/v1/ra/requests/{id}/approve",
            DecideRegistration,
        ),
        (
            Method::POST,
            "/api/v1/ra/requests/{id}/reject",
            DecideRegistration,
        ),
        (
            Method::POST,
            "/api/v1/ra/requests/{id}/resend-link",
            DecideRegistration,
        ),
        // Operators of the unit complete; verifikators only hand a unit-less one to a unit
        // (the finer rule is `sahih_core::ra::ra_complete_identity`).
        (
            Method::POST,
            "/api/v1/ra/requests/{id}/identity",
            ReadRegistrations,
        ),
        (
            Method::POST,
            "/api/v1/officials/{nik}/{action}",
            ChangeCertificate,
        ),
        (Method::POST, "/api/v1/gateway/officials", EnrollUpstream),
        (Method::POST, "/api/v1/seals", DecideSeal),
        (Method::GET, "/api/v1/seals", ListSeals),
        (Method::POST, "/api/v1/seals/{id}/approve", DecideSeal),
    ]
};

/// The capability a route needs; `None` for a route without an entry.
pub fn capability_for(method: &Method, path: &str) -> Option<Capability> {
    API_ROUTES
        .iter()
        .find(|(m, p, _)| m == method && *p == path)
        .map(|(_, _, c)| *c)
}

fn refusal(capability: Option<Capability>) -> &'static str {
    use Capability::*;
    match capability {
        Some(Sign) | Some(Seal) => {
            "Hanya klien aplikasi yang dapat menandatangani atau menyegel; akun petugas tidak"
        }
        Some(SubmitRegistration) => "Hanya operator OPD yang dapat mengajukan permohonan",
        Some(RegisterOfficial) => {
            "Hanya klien aplikasi atau operator OPD yang dapat mendaftarkan pengguna"
        }
        Some(ReadRegistrations) => "Akun ini bukan petugas RA",
        Some(DecideRegistration) => "Hanya verifikator yang dapat memutus permohonan",
        Some(ChangeCertificate) => "Hanya verifikator yang dapat mengubah status sertifikat",
        Some(EnrollUpstream) => {
            "Hanya verifikator yang dapat mendaftarkan pengguna layanan TTE induk"
        }
        Some(DecideSeal) => "Hanya verifikator yang dapat mengajukan atau menerbitkan segel",
        Some(ListSeals) => "Hanya verifikator atau klien admin yang dapat melihat daftar segel",
        Some(ReadAudit) | Some(ListClients) | Some(ManagePolicy) | Some(ManageClients)
        | Some(ManageCa) => "Hanya klien API admin yang boleh mengakses data ini",
        Some(Verify) | Some(ReadStatus) | None => "Akun ini tidak berwenang untuk layanan ini",
    }
}

/// After `require_client`: refuses with 403 unless the client's role holds the route's
/// capability.
pub async fn authorize(req: Request, next: Next) -> Response {
    let capability = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|p| capability_for(req.method(), p.as_str()));
    let allowed = match (capability, req.extensions().get::<ApiClientRecord>()) {
        (Some(c), Some(client)) => account_may(client.role, client.unit.as_deref(), c),
        _ => false,
    };
    if allowed {
        next.run(req).await
    } else {
        EcsError::new(StatusCode::FORBIDDEN, code::FORBIDDEN, refusal(capability)).into_response()
    }
}
