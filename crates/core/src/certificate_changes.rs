//! What RA staff change on an official after enrolment, through any door (the RA API, the
//! console pages): suspend, resume and revoke a certificate (with an RFC 5280 reason), lift a
//! passphrase lockout after checking the official's identity, and the help-desk list of
//! officials who are stuck with the remedy for each.
//!
//! The rules live here once: only a verifikator changes a certificate or lifts a lockout, never
//! their own, and every change is audited under the staff member who made it.
//!
//! Must not know: HTTP, pages, or how the lifecycle is stored.

use crate::audit::{AuditAction, AuditEvent, AuditResult};
use crate::clients::Capability;
use crate::lifecycle::Status;
use crate::ra::{RaRequest, RequestState, Staff, forbidden};
use crate::store::Store;
use crate::{CoreError, Sahih};
use time::OffsetDateTime;

stored_kind!(
    /// Why a certificate is revoked (RFC 5280 CRLReason), as the CRL carries it.
    #[derive(serde::Serialize)]
    RevocationReason {
        /// No reason given.
        Unspecified => "unspecified",
        /// The key may be known to someone else.
        KeyCompromise => "keyCompromise",
        /// The official left the position or the institution (mutasi).
        AffiliationChanged => "affiliationChanged",
        /// A new certificate replaces it.
        Superseded => "superseded",
        /// The official no longer signs for the institution.
        CessationOfOperation => "cessationOfOperation",
    }
);

/// A change to an official's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateStep {
    /// Put on hold (reversible).
    Suspend,
    /// Lift a hold.
    Resume,
    /// Revoke for good.
    Revoke(RevocationReason),
}

/// Why an official needs help, and so what helps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StuckReason {
    /// Approved but not activated: the link may have expired or been lost (remedy: a new link).
    NotActivated {
        /// The approved request, whose link can be sent again.
        request_id: String,
        /// When it was approved.
        approved_at: Option<OffsetDateTime>,
    },
    /// Locked out after wrong passphrases (remedy: lift the lockout after an identity check).
    LockedOut {
        /// Until when, unless lifted.
        until: OffsetDateTime,
    },
    /// The certificate expires within 30 days (remedy: the unit's operator files a renewal).
    Expiring {
        /// When it expires.
        not_after: OffsetDateTime,
    },
    /// A certificate in use for over a week and never used to sign (remedy: contact them).
    NeverSigned,
}

/// An official who needs help.
#[derive(Debug, Clone)]
pub struct StuckOfficial {
    /// Name.
    pub name: String,
    /// NIK.
    pub nik: String,
    /// Unit.
    pub unit: String,
    /// E-mail, to reach them.
    pub email: String,
    /// What is wrong.
    pub reason: StuckReason,
}

impl<S: Store> Sahih<S> {
    fn may_change_official(&self, staff: &Staff, nik: &str) -> Result<(), CoreError> {
        if !staff.may(Capability::ChangeCertificate) {
            return Err(forbidden(
                "Hanya verifikator yang dapat mengubah status sertifikat",
                "Only a verifikator can change a certificate's status",
            ));
        }
        if staff.person_nik.as_deref() == Some(nik) {
            return Err(forbidden(
                "Verifikator tidak dapat mengubah status sertifikatnya sendiri",
                "A verifikator cannot change their own certificate",
            ));
        }
        Ok(())
    }

    /// Suspends, resumes or revokes the official's certificate; returns how many certificates
    /// changed and the status after.
    pub async fn change_certificate(
        &self,
        staff: &Staff,
        nik: &str,
        step: CertificateStep,
        note: Option<&str>,
    ) -> Result<(u64, Status), CoreError> {
        self.may_change_official(staff, nik)?;
        let n = match step {
            CertificateStep::Suspend => {
                self.set_hold(nik, Some(note.unwrap_or("investigation")), &staff.name)
                    .await?
            }
            CertificateStep::Resume => self.set_hold(nik, None, &staff.name).await?,
            CertificateStep::Revoke(reason) => {
                self.revoke_by(nik, reason.as_str(), &staff.name).await?
            }
        };
        Ok((n, self.status_of(nik).await?))
    }

    /// Lifts an official's passphrase lockout after the verifikator checked who is asking;
    /// the reason (how the identity was checked) is required and audited.
    pub async fn lift_lockout(
        &self,
        staff: &Staff,
        nik: &str,
        reason: &str,
    ) -> Result<(), CoreError> {
        self.may_change_official(staff, nik)?;
        crate::lifecycle::check_reason(reason)?;
        if reason.trim().is_empty() {
            return Err(CoreError::invalid(
                "tuliskan bagaimana identitas pejabat diperiksa",
                "say how the official's identity was checked",
            ));
        }
        let official = self
            .store
            .official_by_nik(nik)
            .await?
            .ok_or(CoreError::NikNotRegistered)?;
        let event = AuditEvent::new(AuditAction::PassphraseUnlock, &staff.name, AuditResult::Ok)
            .detail(format!("nik={nik} reason={}", reason.trim()));
        self.store.lift_lockout(official.id, &event).await?;
        Ok(())
    }

    /// Officials who are stuck, each with what is wrong (for verifikators).
    pub async fn helpdesk(&self, staff: &Staff) -> Result<Vec<StuckOfficial>, CoreError> {
        if !staff.may(Capability::ChangeCertificate) {
            return Err(forbidden(
                "Hanya verifikator yang melihat daftar bantuan",
                "Only verifikators see the help-desk list",
            ));
        }
        let now = OffsetDateTime::now_utc();
        let mut out = Vec::new();
        let approved: Vec<RaRequest> = self
            .store
            .ra_requests(Some(RequestState::Approved), None)
            .await?;
        for r in approved {
            out.push(StuckOfficial {
                name: r.official.name,
                nik: r.official.nik,
                unit: r.official.unit,
                email: r.official.email,
                reason: StuckReason::NotActivated {
                    request_id: r.id,
                    approved_at: r.decided_at,
                },
            });
        }
        for (o, until) in self.store.locked_officials(now).await? {
            out.push(StuckOfficial {
                name: o.name,
                nik: o.nik,
                unit: o.unit,
                email: o.email,
                reason: StuckReason::LockedOut { until },
            });
        }
        let counts = self
            .store
            .dashboard_counts(now, now, now + time::Duration::days(30))
            .await?;
        for e in counts.expiring {
            let email = self
                .store
                .official_by_nik(&e.nik)
                .await?
                .map(|o| o.email)
                .unwrap_or_default();
            out.push(StuckOfficial {
                name: e.name,
                nik: e.nik,
                unit: e.unit,
                email,
                reason: StuckReason::Expiring {
                    not_after: e.not_after,
                },
            });
        }
        for o in self
            .store
            .never_signed(now - time::Duration::days(7))
            .await?
        {
            out.push(StuckOfficial {
                name: o.name,
                nik: o.nik,
                unit: o.unit,
                email: o.email,
                reason: StuckReason::NeverSigned,
            });
        }
        Ok(out)
    }
}
