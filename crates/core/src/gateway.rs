//! Gateway mode, the local half: officials enrolled "upstream" sign through an upstream
//! ECS-compatible service (in production BSrE's ECS), while the institution's policy, the audit
//! log and the passphrase lockout stay here. This module records such officials and the
//! outcome of forwarded requests; talking to the upstream is the server's job.
//!
//! Must not know: HTTP, or the upstream's credentials.

use crate::audit::{AuditAction, AuditEvent, AuditResult};
use crate::policy::DocClass;
use crate::requests::actor;
use crate::store::{LockState, NewOfficial, OfficialRecord, Store};
use crate::{CoreError, Sahih};
use time::OffsetDateTime;

/// What became of a forwarded request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamOutcome {
    /// The upstream signed the documents.
    Signed,
    /// The upstream said the passphrase was wrong: it counts towards the local lockout.
    WrongPassphrase,
    /// Any other refusal or failure upstream.
    Failed,
}

impl<S: Store> Sahih<S> {
    /// Records an official whose signatures are made upstream (no local key); audited.
    pub async fn enroll_upstream(
        &self,
        official: &NewOfficial,
        actor: &str,
    ) -> Result<i64, CoreError> {
        self.check_upstream_enrollable(official).await?;
        let event =
            AuditEvent::new(AuditAction::GatewayEnroll, actor, AuditResult::Ok).detail(format!(
                "nik={} position={} unit={}",
                official.nik, official.position, official.unit
            ));
        Ok(self
            .store
            .set_official_upstream(official, true, &event)
            .await?)
    }

    /// Whether an official can be recorded as an upstream one: a valid identity, and nobody on
    /// file with that NIK (an official here, even one still in the RA, is not moved silently).
    /// Run before anything is forwarded upstream.
    pub async fn check_upstream_enrollable(&self, official: &NewOfficial) -> Result<(), CoreError> {
        crate::identity::validate_official(&self.identity(official))?;
        if self.store.official_by_nik(&official.nik).await?.is_some() {
            return Err(CoreError::AlreadyEnrolled);
        }
        Ok(())
    }

    /// The local lockout in front of a forwarded request: reserves an attempt before the
    /// passphrase leaves for the upstream (settled by [`Self::record_upstream`], or released by
    /// [`Self::release_local_attempt`]), so concurrent guesses never exceed the limit.
    pub async fn reserve_local_attempt(&self, official: &OfficialRecord) -> Result<(), CoreError> {
        match self
            .reserve_attempt(official.id, OffsetDateTime::now_utc())
            .await
        {
            Err(CoreError::Locked { until }) => {
                self.store
                    .append_audit(&[AuditEvent::new(
                        AuditAction::PassphraseLockout,
                        &actor(official),
                        AuditResult::Refused,
                    )
                    .detail(format!("until={until} upstream=true"))])
                    .await?;
                Err(CoreError::Locked { until })
            }
            other => other,
        }
    }

    /// Gives back a reserved attempt whose passphrase was never checked upstream.
    pub async fn release_local_attempt(&self, official: &OfficialRecord) -> Result<(), CoreError> {
        Ok(self.store.release_attempt(official.id).await?)
    }

    /// Records the outcome of a forwarded signing request: signatures are audited with the
    /// signed files' hashes; a wrong passphrase counts towards the local lockout (and may lock).
    pub async fn record_upstream(
        &self,
        official: &OfficialRecord,
        class: &DocClass,
        client: Option<&str>,
        outcome: UpstreamOutcome,
        signed_sha256: &[String],
        detail: &str,
    ) -> Result<(), CoreError> {
        let now = OffsetDateTime::now_utc();
        match outcome {
            UpstreamOutcome::Signed => {
                self.store.reset_failures(official.id).await?;
                let events: Vec<AuditEvent> = signed_sha256
                    .iter()
                    .map(|sha| {
                        AuditEvent::new(AuditAction::Sign, &actor(official), AuditResult::Ok)
                            .client(client)
                            .document(sha)
                            .detail(format!("class={} upstream=true {detail}", class.code))
                    })
                    .collect();
                self.store.append_audit(&events).await?;
                Ok(())
            }
            UpstreamOutcome::WrongPassphrase => {
                let (state, max) = self.confirm_wrong_secret(official.id, now).await?;
                let (action, err) = match state {
                    LockState::Locked { until } => {
                        (AuditAction::PassphraseLockout, CoreError::Locked { until })
                    }
                    LockState::Open { failures } => (
                        AuditAction::PassphraseWrong,
                        CoreError::WrongPassphrase {
                            remaining: (max - failures).max(0),
                        },
                    ),
                };
                self.store
                    .append_audit(&[AuditEvent::new(
                        action,
                        &actor(official),
                        AuditResult::Refused,
                    )
                    .client(client)
                    .detail(format!("upstream=true {detail}"))])
                    .await?;
                Err(err)
            }
            UpstreamOutcome::Failed => {
                // The upstream never judged the passphrase: the attempt does not count.
                self.store.release_attempt(official.id).await?;
                self.store
                    .append_audit(&[AuditEvent::new(
                        AuditAction::SignUpstream,
                        &actor(official),
                        AuditResult::Failed,
                    )
                    .client(client)
                    .detail(format!("class={} {detail}", class.code))])
                    .await?;
                Ok(())
            }
        }
    }
}
