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
    paths(crate::native::sign_document, crate::native::document_status, crate::native::document_file, crate::native::verify_document, crate::native::official_status,
          crate::native::get_policy, crate::native::list_clients, crate::native::audit_entries, crate::native::audit_verify,
          crate::ra_api::submit, crate::ra_api::list, crate::ra_api::get_request,
          crate::ra_api::evidence_file, crate::ra_api::add_evidence, crate::ra_api::approve,
          crate::ra_api::reject, crate::ra_api::resend_link, crate::ra_api::lifecycle, crate::ra_api::gateway_enroll, crate::ra_api::activate_json,
          crate::seal_api::issue, crate::seal_api::approve, crate::seal_api::list, crate::seal_api::seal_document,
          crate::signing_api::file_request, crate::signing_api::request_status, crate::signing_api::signed_document,
          crate::signing_api::new_secret, crate::signing_api::deliveries, crate::signing_api::replay),
    components(schemas(crate::native::SignRequest, crate::native::PlacementRequest, crate::native::DocumentInfo, crate::native::OfficialInfo, crate::native::ClientInfo,
                       crate::native::AuditVerifyResult, crate::native::ErrorBody, crate::native::PolicyDoc, crate::native::DocClassDoc,
                       crate::ra_api::OfficialInput, crate::ra_api::SubmissionRequest,
                       crate::ra_api::EvidenceInfo, crate::ra_api::RequestInfo,
                       crate::ra_api::SubmissionInfo, crate::ra_api::DecisionBody,
                       crate::ra_api::LifecycleBody, crate::ra_api::LifecycleResult,
                       crate::ra_api::ActivationBody, crate::ra_api::ActivationResult,
                       crate::seal_api::SealIssueRequest, crate::seal_api::SealIssued, crate::seal_api::SealRequested,
                       crate::seal_api::SealInfo, crate::seal_api::SealDocumentRequest,
                       crate::signing_api::NewRequestBody, crate::signing_api::SigningRequestInfo,
                       crate::signing_api::SigningRequestDocument, crate::signing_api::WebhookSecret,
                       crate::signing_api::WebhookDelivery)),
    modifiers(&BasicAuth),
    security(("basic" = []))
)]
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
