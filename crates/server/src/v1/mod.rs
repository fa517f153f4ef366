//! The native API under `/api/v1`, described by its OpenAPI document (`openapi`, Swagger UI at
//! `/api/v1/docs`): documents (`documents`), the registration authority (`ra`), seals (`seals`),
//! signing requests and webhooks (`signing_requests`).
//!
//! Must not know: how signatures, policy decisions or audit entries are made (`sahih-core`).

use crate::Shared;

pub mod documents;
pub mod openapi;
pub mod ra;
pub mod seals;
pub mod signing_requests;

/// Every native route an API client reaches (authentication and authorization are layered on by
/// [`crate::router`]).
pub fn routes() -> axum::Router<Shared> {
    axum::Router::new()
        .merge(documents::routes())
        .merge(ra::routes())
        .merge(seals::routes())
        .merge(signing_requests::routes())
}

/// The staff routes whose body must be JSON (see `crate::http::csrf`).
pub fn staff_json_routes() -> axum::Router<Shared> {
    ra::staff_json_routes().merge(seals::staff_json_routes())
}
