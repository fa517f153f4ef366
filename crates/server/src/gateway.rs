//! Gateway mode over HTTP: the status of officials enrolled upstream, with upstream refusals
//! shown with their ECS codes. The remote signer itself is `sahih_upstream::remote`.
//!
//! Must not know: how the upstream signs, the policy rules, or the lockout.

use crate::AppState;
use crate::error::{EcsError, map_upstream_error, upstream_unavailable};
use sahih_core::store::OfficialRecord;

/// The status of an official enrolled upstream, as the upstream reports it.
pub async fn upstream_status(
    state: &AppState,
    official: &OfficialRecord,
) -> Result<(u32, String, String), EcsError> {
    let Some(upstream) = state.upstream.clone() else {
        return Err(upstream_unavailable());
    };
    let nik = official.nik.clone();
    let answer = tokio::task::spawn_blocking(move || upstream.check_status(&nik))
        .await
        .map_err(|_| upstream_unavailable())?;
    match answer {
        Ok(s) => Ok((s.code.unwrap_or(0), s.status, s.message)),
        Err(e) => Err(map_upstream_error(&e)),
    }
}
