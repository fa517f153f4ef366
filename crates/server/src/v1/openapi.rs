//! The OpenAPI document of the native API (`/api/v1/openapi.json`, shown by the bundled Swagger
//! UI at `/api/v1/docs`): every path and schema of `native`, `ra_api`, `seal_api` and `signing_api`.
//!
//! Must not know: how any endpoint works.

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sahih native API",
        version = "1",
        description = "Electronic signatures (PAdES) for Indonesian regional governments. Every \
            endpoint needs HTTP Basic credentials of an API client (`sahih client add`). Errors \
            have the shape {status_code, error_code, error, message}; messages are in Bahasa \
            Indonesia."
    ),
    paths(crate::v1::documents::sign_document, crate::v1::documents::document_status, crate::v1::documents::document_file, crate::v1::documents::verify_document, crate::v1::documents::official_status,
          crate::v1::documents::get_policy, crate::v1::documents::list_clients, crate::v1::documents::audit_entries, crate::v1::documents::audit_verify,
          crate::v1::ra::submit, crate::v1::ra::list, crate::v1::ra::get_request,
          crate::v1::ra::evidence_file, crate::v1::ra::add_evidence, crate::v1::ra::approve,
          crate::v1::ra::reject, crate::v1::ra::resend_link, crate::v1::ra::complete_identity, crate::v1::ra::lifecycle, crate::v1::ra::gateway_enroll, crate::activation::activate_json,
          crate::v1::seals::issue, crate::v1::seals::approve, crate::v1::seals::list, crate::v1::seals::seal_document,
          crate::v1::signing_requests::file_request, crate::v1::signing_requests::request_status, crate::v1::signing_requests::signed_document,
          crate::v1::signing_requests::new_secret, crate::v1::signing_requests::deliveries, crate::v1::signing_requests::replay),
    components(schemas(crate::v1::documents::SignRequest, crate::v1::documents::PlacementRequest, crate::v1::documents::DocumentInfo, crate::v1::documents::OfficialInfo, crate::v1::documents::ClientInfo,
                       crate::v1::documents::AuditVerifyResult, crate::error::ErrorBody, crate::v1::documents::PolicyDoc, crate::v1::documents::DocClassDoc,
                       crate::v1::ra::OfficialInput, crate::v1::ra::SubmissionRequest,
                       crate::v1::ra::EvidenceInfo, crate::v1::ra::RequestInfo,
                       crate::v1::ra::SubmissionInfo, crate::v1::ra::DecisionBody, crate::v1::ra::IdentityBody,
                       crate::v1::ra::LifecycleBody, crate::v1::ra::LifecycleResult,
                       crate::activation::ActivationBody, crate::activation::ActivationResult,
                       crate::v1::seals::SealIssueRequest, crate::v1::seals::SealIssued, crate::v1::seals::SealRequested,
                       crate::v1::seals::SealInfo, crate::v1::seals::SealDocumentRequest,
                       crate::v1::signing_requests::NewRequestBody, crate::v1::signing_requests::SigningRequestInfo,
                       crate::v1::signing_requests::SigningRequestDocument, crate::v1::signing_requests::WebhookSecret,
                       crate::v1::signing_requests::WebhookDelivery)),
    modifiers(&BasicAuth),
    security(("basic" = []))
)]
/// The OpenAPI document of the native API (served at `/api/v1/openapi.json`).
pub struct ApiDoc;

struct BasicAuth;

impl utoipa::Modify for BasicAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
    }
}
