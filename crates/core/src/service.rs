//! The operations of Sahih, over any [`Store`].

use crate::config::{Config, DataDir};
use crate::store::{
    CaKind, CertStatus, CertificateRecord, LockState, NewCertificate, NewOfficial, OfficialKind,
    OfficialRecord, Store,
};
use crate::{CoreError, Lang, format_wib};
use sahih_pades::{Level, SignRequest, Signer, Timestamper, ValidationDataSource};
use sahih_pdf::{OpenOptions, PdfDocument, Placement, StampContent, VisibleStamp};
use sahih_pki::{
    CertUrls, CertValidity, Certificate, IssueRequest, Issuer, KeyAlgorithm, OfficialIdentity,
    Profile, SimplePathValidator, TrustStore,
};
use sahih_validate::{Context, Report, RevocationSource, RevocationStatus};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// A freshly issued certificate and its passphrase-sealed key, not stored yet.
pub(crate) struct IssuedKey {
    pub(crate) issuer_ca_id: i64,
    pub(crate) certificate: Certificate,
    pub(crate) sealed_key: String,
    pub(crate) key_algorithm: KeyAlgorithm,
}

impl IssuedKey {
    pub(crate) fn into_new_certificate(self, official_id: i64) -> NewCertificate {
        let c = self.certificate;
        NewCertificate {
            official_id,
            issuer_ca_id: self.issuer_ca_id,
            serial_hex: c.serial_hex(),
            cert_der: c.der.clone(),
            sealed_key: self.sealed_key,
            key_algorithm: self.key_algorithm.to_string(),
            not_before: c.not_before(),
            not_after: c.not_after(),
        }
    }
}

/// Sahih bound to a data directory and a store.
pub struct Sahih<S: Store> {
    /// Where officials, certificates, the audit chain and the rest are kept.
    pub store: S,
    /// The institution's configuration.
    pub config: Config,
    /// The data directory (master key, witness file, embedded defaults).
    pub data: DataDir,
    /// Where officials' keys are made and opened (software or a PKCS#11 token).
    pub keys: crate::keystore::KeyBackend,
}

/// An official just enrolled.
#[derive(Debug, Clone)]
pub struct EnrollOutcome {
    /// Their row id.
    pub official_id: i64,
    /// Their new certificate.
    pub certificate: Certificate,
}

/// An official's key, unlocked with their passphrase, ready to sign (kept in memory only;
/// the key is zeroized on drop).
pub struct UnlockedSigner {
    /// The official (or seal).
    pub official: OfficialRecord,
    /// The certificate record the key belongs to.
    pub certificate_record: CertificateRecord,
    /// The certificate, parsed.
    pub certificate: Certificate,
    /// The issuing CA's certificate, embedded in signatures with the signer's.
    pub chain: Vec<Certificate>,
    /// The opened key.
    pub key: crate::keystore::SigningKey,
    /// Its algorithm.
    pub key_algorithm: KeyAlgorithm,
}

/// How one document is signed.
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// None: invisible signature.
    pub placement: Option<Placement>,
    /// PAdES level to produce.
    pub level: Level,
    /// /Reason written into the signature, if any.
    pub reason: Option<String>,
    /// /Location written into the signature; `None`: the configured default.
    pub location: Option<String>,
    /// Language of the stamp text.
    pub lang: Lang,
    /// What the QR code links to (ECS `linkQR`); None: this document's verification page.
    pub qr_link: Option<String>,
    /// A specimen image drawn instead of the QR stamp (ECS `image=true` + `imageTTD`).
    pub specimen: Option<std::sync::Arc<sahih_pdf::SpecimenImage>>,
    /// One more line of text in the stamp (ECS v1 `text`).
    pub extra_text: Option<String>,
}

/// What signing one document produced.
#[derive(Debug, Clone)]
pub struct SignOutcome {
    /// The PAdES level produced.
    pub level: Level,
    /// Public id of the record behind the QR code.
    pub document_id: String,
    /// The verification page of this document (`{base_url}/v/{id}`).
    pub verification_url: String,
    /// The signature field's name.
    pub field_name: String,
    /// The signing time written into the PDF.
    pub signed_at: OffsetDateTime,
    /// SHA-256 (hex) of the whole signed file.
    pub sha256_hex: String,
    /// The page the stamp is on (from 1); `None` for an invisible signature.
    pub page: Option<usize>,
}

/// A prepared signature: the update bytes, not yet stored or written.
pub struct SignedBytes {
    /// What it produced.
    pub outcome: SignOutcome,
    /// The bytes to append to the original file (the incremental update, and any DSS or
    /// document-timestamp revisions).
    pub update: Vec<u8>,
}

/// The shortest passphrase accepted.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

pub(crate) fn official_key_aad(nik: &str, serial_hex: &str) -> Vec<u8> {
    format!("sahih-official-key:{nik}:{serial_hex}").into_bytes()
}

pub use crate::ids::new_document_id;

/// Refuses a passphrase shorter than [`MIN_PASSPHRASE_CHARS`] or longer than 1024 characters.
pub fn check_passphrase_policy(passphrase: &str) -> Result<(), CoreError> {
    let chars = passphrase.chars().count();
    if chars < MIN_PASSPHRASE_CHARS {
        return Err(CoreError::WeakPassphrase(crate::Text::new(
            "minimal 8 karakter",
            "at least 8 characters",
        )));
    }
    if chars > 1024 {
        return Err(CoreError::WeakPassphrase(crate::Text::new(
            "maksimal 1024 karakter",
            "at most 1024 characters",
        )));
    }
    Ok(())
}

/// Revocations known to the local CA database.
pub struct LocalRevocations {
    entries: Vec<(Vec<u8>, String, OffsetDateTime, Option<String>)>,
}

impl RevocationSource for LocalRevocations {
    fn status(&self, cert: &Certificate, _issuer: Option<&Certificate>) -> RevocationStatus {
        let serial = cert.serial_hex();
        let issuer = cert.issuer_der();
        for (issuer_subject, s, at, reason) in &self.entries {
            if *s == serial && *issuer_subject == issuer {
                return RevocationStatus::Revoked {
                    at: *at,
                    reason: reason.clone(),
                };
            }
        }
        RevocationStatus::Unknown
    }
}

/// How long an attempt waits for the attempts already in flight for the same official to
/// settle, before it is refused as locked. Longer than any one check takes.
pub const RESERVATION_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

impl<S: Store> Sahih<S> {
    /// Creates the root and issuing CA in a freshly initialised data directory. With the
    /// PKCS#11 backend both CA keys are generated inside the token (the database keeps their
    /// references); otherwise they are sealed under the master key.
    pub async fn create_ca_hierarchy(&self) -> Result<(), CoreError> {
        let master = self.data.master_key()?;
        let alg: KeyAlgorithm = self.config.keys.ca;
        let institution = &self.config.institution;
        let root_key = self
            .keys
            .generate(alg, &crate::keystore::ca_key_label(CaKind::Root, 1))?;
        let root_cert = sahih_pki::issue(
            &Profile::RootCa { institution },
            &IssueRequest {
                subject_spki: &root_key.public_key_spki_der(),
                issuer: Issuer::SelfSigned,
                signer: &root_key,
                validity: CertValidity::days_from_now(20 * 365),
                serial: &sahih_pki::random_serial(),
                urls: CertUrls::default(),
            },
        )?;
        let sealed = self.keys.seal_with_master(
            &root_key,
            &master,
            &crate::keystore::ca_aad(CaKind::Root, 1),
        )?;
        self.store
            .insert_ca(CaKind::Root, 1, &root_cert, &sealed)
            .await?;

        let issuing_key = self
            .keys
            .generate(alg, &crate::keystore::ca_key_label(CaKind::Issuing, 1))?;
        let root_record = self
            .store
            .active_ca(CaKind::Root)
            .await?
            .ok_or_else(|| CoreError::Config("no root CA in the database".into()))?;
        let issuing_cert = sahih_pki::issue(
            &Profile::IssuingCa {
                institution,
                generation: 1,
            },
            &IssueRequest {
                subject_spki: &issuing_key.public_key_spki_der(),
                issuer: Issuer::Ca(&root_cert),
                signer: &root_key,
                validity: CertValidity::days_from_now(10 * 365),
                serial: &sahih_pki::random_serial(),
                urls: crate::urls::urls_for_issuer(&self.config.base_url, &root_record),
            },
        )?;
        let sealed = self.keys.seal_with_master(
            &issuing_key,
            &master,
            &crate::keystore::ca_aad(CaKind::Issuing, 1),
        )?;
        self.store
            .insert_ca(CaKind::Issuing, 1, &issuing_cert, &sealed)
            .await?;
        Ok(())
    }

    /// The active root CA's certificate.
    pub async fn root_certificate(&self) -> Result<Certificate, CoreError> {
        let root = self
            .store
            .active_ca(CaKind::Root)
            .await?
            .ok_or_else(|| CoreError::Config("no root CA in the database".into()))?;
        Ok(Certificate::from_der(&root.cert_der)?)
    }

    /// Registers an official and issues their signing certificate.
    pub async fn enroll(
        &self,
        official: &NewOfficial,
        key_algorithm: KeyAlgorithm,
        passphrase: &str,
    ) -> Result<EnrollOutcome, CoreError> {
        check_passphrase_policy(passphrase)?;
        crate::identity::validate_official(&self.identity(official))?;
        if self.store.official_by_nik(&official.nik).await?.is_some() {
            return Err(CoreError::AlreadyEnrolled);
        }
        // Issue first (nothing stored yet), so a failure leaves no official without a key.
        let issued = self.issue_for(official, key_algorithm, passphrase).await?;
        let new_cert = issued.certificate.der.clone();
        let stored = async {
            let official_id = self.store.insert_official(official).await?;
            let certificate = self.store_issued(official_id, issued).await?;
            Ok::<_, CoreError>((official_id, certificate))
        }
        .await;
        let (official_id, certificate) = match stored {
            Ok(v) => v,
            Err(e) => {
                // Nothing references the new key: do not leave it in a token.
                self.destroy_token_key(&official.nik, &new_cert).await?;
                return Err(e);
            }
        };
        self.store
            .append_audit(&[crate::audit::AuditEvent::new(
                crate::audit::AuditAction::Enroll,
                "cli",
                crate::audit::AuditResult::Ok,
            )
            .detail(format!(
                "nik={} serial={}",
                official.nik,
                certificate.serial_hex()
            ))])
            .await?;
        Ok(EnrollOutcome {
            official_id,
            certificate,
        })
    }

    /// Re-issues an official's certificate after a change of position, unit or name (mutasi):
    /// the official proves presence with their passphrase, which also seals the new key; the
    /// old certificate is revoked (`reason`, e.g. affiliationChanged or superseded) at the same
    /// moment. Signatures made before stay valid as made before the revocation.
    pub async fn reissue(
        &self,
        nik: &str,
        changes: &NewOfficial,
        passphrase: &str,
        reason: &str,
    ) -> Result<EnrollOutcome, CoreError> {
        let current = self.unlock(nik, passphrase).await?;
        let updated = NewOfficial {
            nik: current.official.nik.clone(),
            ..changes.clone()
        };
        crate::identity::validate_official(&self.identity(&updated))?;
        let alg = current.key_algorithm;
        let previous_cert = current.certificate.der.clone();
        drop(current);
        let issued = self.issue_for(&updated, alg, passphrase).await?;
        let official = self
            .store
            .official_by_nik(nik)
            .await?
            .ok_or(CoreError::NikNotRegistered)?;
        self.store.update_official(official.id, &updated).await?;
        let revoked = self
            .store
            .revoke_certificates(official.id, OffsetDateTime::now_utc(), reason)
            .await?;
        let certificate = self.store_issued(official.id, issued).await?;
        self.destroy_token_key(nik, &previous_cert).await?;
        self.store
            .append_audit(&[crate::audit::AuditEvent::new(
                crate::audit::AuditAction::Reissue,
                "cli",
                crate::audit::AuditResult::Ok,
            )
            .detail(format!(
                "nik={nik} reason={reason} revoked={revoked} serial={} position={}",
                certificate.serial_hex(),
                updated.position
            ))])
            .await?;
        Ok(EnrollOutcome {
            official_id: official.id,
            certificate,
        })
    }

    pub(crate) fn identity(&self, official: &NewOfficial) -> OfficialIdentity {
        OfficialIdentity {
            nik: official.nik.clone(),
            nip: official.nip.clone(),
            name: official.name.clone(),
            email: official.email.clone(),
            position: official.position.clone(),
            unit: official.unit.clone(),
            institution: self.config.institution.clone(),
        }
    }

    /// The active issuing CA and its key, opened with the master key.
    pub(crate) async fn active_issuing_ca(
        &self,
    ) -> Result<(crate::store::CaRecord, crate::keystore::SigningKey), CoreError> {
        let issuing = self
            .store
            .active_ca(CaKind::Issuing)
            .await?
            .ok_or_else(|| CoreError::Config("no issuing CA in the database".into()))?;
        let master = self.data.master_key()?;
        let key = self.keys.unseal_with_master(
            &issuing.sealed_key,
            &master,
            &crate::keystore::ca_aad(CaKind::Issuing, issuing.generation),
        )?;
        Ok((issuing, key))
    }

    /// Generates a key and issues its certificate under the active issuing CA (nothing stored).
    pub(crate) async fn issue_for(
        &self,
        official: &NewOfficial,
        key_algorithm: KeyAlgorithm,
        passphrase: &str,
    ) -> Result<IssuedKey, CoreError> {
        let identity = self.identity(official);
        let (issuing, issuer_key) = self.active_issuing_ca().await?;
        let key = self.keys.generate(
            key_algorithm,
            &crate::keystore::official_key_label(&official.nik),
        )?;
        let validity = CertValidity::days_from_now(self.config.keys.official_validity_days);
        let serial = sahih_pki::random_serial();
        // AIA (OCSP, caIssuers) and CRL distribution point under the configured base URL.
        let cert_der = sahih_pki::issue(
            &Profile::Official(&identity),
            &IssueRequest {
                subject_spki: &key.public_key_spki_der(),
                issuer: Issuer::Ca(&issuing.cert_der),
                signer: &issuer_key,
                validity,
                serial: &serial,
                urls: crate::urls::urls_for_issuer(&self.config.base_url, &issuing),
            },
        )?;
        let certificate = Certificate::from_der(&cert_der)?;
        let serial_hex = certificate.serial_hex();
        let sealed_key = self.keys.seal_for_official(
            &key,
            passphrase.as_bytes(),
            &official_key_aad(&official.nik, &serial_hex),
        )?;
        Ok(IssuedKey {
            issuer_ca_id: issuing.id,
            certificate,
            sealed_key,
            key_algorithm,
        })
    }

    async fn store_issued(
        &self,
        official_id: i64,
        issued: IssuedKey,
    ) -> Result<Certificate, CoreError> {
        let c = issued.certificate.clone();
        self.store
            .insert_certificate(&issued.into_new_certificate(official_id))
            .await?;
        Ok(c)
    }

    /// Checks status and lockout, then unlocks the official's key with the passphrase.
    pub async fn unlock(&self, nik: &str, passphrase: &str) -> Result<UnlockedSigner, CoreError> {
        let now = OffsetDateTime::now_utc();
        // A seal's key is not opened with a passphrase (see `crate::seal`).
        let official = self
            .store
            .official_by_nik(nik)
            .await?
            .filter(|o| o.kind == OfficialKind::Person)
            .ok_or(CoreError::NikNotRegistered)?;
        let record = self
            .store
            .latest_certificate(official.id)
            .await?
            .ok_or(CoreError::NoCertificate)?;
        if record.status == CertStatus::Revoke {
            return Err(CoreError::CertificateRevoked {
                at: record.revoked_at,
            });
        }
        if record.status == CertStatus::Suspend {
            return Err(CoreError::CertificateSuspended {
                since: record.revoked_at,
            });
        }
        if record.not_after < now {
            return Err(CoreError::CertificateExpired {
                at: record.not_after,
            });
        }
        // The attempt is counted before Argon2 runs (reserve, then settle), so concurrent
        // guesses through any process can never be checked more often than the policy allows.
        self.reserve_attempt(official.id, now).await?;
        let aad = official_key_aad(&official.nik, &record.serial_hex);
        let key =
            match self
                .keys
                .unseal_for_official(&record.sealed_key, passphrase.as_bytes(), &aad)
            {
                Ok(k) => k,
                Err(CoreError::Pki(sahih_pki::PkiError::WrongPassphrase)) => {
                    let (state, max) = self.confirm_wrong_secret(official.id, now).await?;
                    return Err(match state {
                        LockState::Locked { until } => CoreError::Locked { until },
                        LockState::Open { failures } => CoreError::WrongPassphrase {
                            remaining: (max - failures).max(0),
                        },
                    });
                }
                Err(e) => {
                    self.store.release_attempt(official.id).await?;
                    return Err(e);
                }
            };
        self.store.reset_failures(official.id).await?;
        let certificate = Certificate::from_der(&record.cert_der)?;
        let chain = self.issuer_chain(&record).await?;
        let key_algorithm = key.algorithm();
        Ok(UnlockedSigner {
            official,
            certificate_record: record,
            certificate,
            chain,
            key,
            key_algorithm,
        })
    }

    /// Counts a wrong passphrase or one-time code towards the lockout (one statement, so it
    /// counts exactly across processes); returns the new state and the configured maximum.
    /// Reserves one passphrase attempt (see [`crate::store::Store::reserve_attempt`]); refused
    /// as locked while the key is locked or as many attempts as allowed are counted or in
    /// flight.
    pub(crate) async fn reserve_attempt(
        &self,
        official_id: i64,
        now: OffsetDateTime,
    ) -> Result<(), CoreError> {
        let (max, lock_for) = self.lockout_policy();
        let started = std::time::Instant::now();
        let mut pause = std::time::Duration::from_millis(10);
        let mut now = now;
        loop {
            if self
                .store
                .reserve_attempt(official_id, now, max)
                .await?
                .is_some()
            {
                return Ok(());
            }
            match self.store.lock_state(official_id, now).await? {
                LockState::Locked { until } => return Err(CoreError::Locked { until }),
                // Every allowed attempt is in flight (an app signing many documents at once,
                // or a burst of guesses): wait for them to settle. Right ones free their
                // reservation, wrong ones lock, so a burst still gets only `max` checks.
                LockState::Open { .. } if started.elapsed() < RESERVATION_WAIT => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(std::time::Duration::from_millis(250));
                    now = OffsetDateTime::now_utc();
                }
                LockState::Open { .. } => {
                    return Err(CoreError::Locked {
                        until: now + lock_for,
                    });
                }
            }
        }
    }

    /// Settles a reserved attempt as wrong; locks at the limit.
    pub(crate) async fn confirm_wrong_secret(
        &self,
        official_id: i64,
        now: OffsetDateTime,
    ) -> Result<(LockState, i64), CoreError> {
        let (max, lock_for) = self.lockout_policy();
        let state = self
            .store
            .confirm_failure(official_id, now, max, lock_for)
            .await?;
        Ok((state, max))
    }

    /// Attempts allowed before a lock, and how long the lock lasts.
    fn lockout_policy(&self) -> (i64, time::Duration) {
        (
            self.config.signing.max_failures.max(1),
            time::Duration::minutes(self.config.signing.lock_minutes.max(1)),
        )
    }

    /// Signs `original` (no I/O, no database): used by `sign` and by the benchmark.
    pub fn sign_bytes(
        &self,
        signer: &UnlockedSigner,
        original: &[u8],
        options: &SignOptions,
        document_id: &str,
        signed_at: OffsetDateTime,
        services: &TrustProviders<'_>,
    ) -> Result<SignedBytes, CoreError> {
        let pdf = PdfDocument::open(original, &OpenOptions::default())?;
        let mut file = original.to_vec();
        let outcome = self.sign_in_place(
            signer,
            &mut file,
            &pdf,
            options,
            document_id,
            signed_at,
            services,
        )?;
        let update = file.split_off(original.len());
        Ok(SignedBytes { outcome, update })
    }

    /// Signs the document held in `file` (already opened as `pdf`: the pipeline opens every
    /// document before the key is unlocked, and does not parse it twice), appending the
    /// signature revision and any DSS or document-timestamp revision to `file` itself, so a
    /// large scan is never copied. On an error `file` may end in a partial revision: discard it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn sign_in_place(
        &self,
        signer: &UnlockedSigner,
        file: &mut Vec<u8>,
        pdf: &PdfDocument,
        options: &SignOptions,
        document_id: &str,
        signed_at: OffsetDateTime,
        services: &TrustProviders<'_>,
    ) -> Result<SignOutcome, CoreError> {
        let verification_url = format!("{}/v/{}", self.config.base_url, document_id);
        let stamp = match &options.placement {
            None => None,
            Some(placement) => {
                let (page_index, rect) = sahih_pdf::resolve_placement(pdf, placement)?;
                // An institutional e-seal seals; an official signs.
                let heading = match (options.lang, signer.official.kind == OfficialKind::Seal) {
                    (Lang::Id, false) => "Ditandatangani secara elektronik oleh:",
                    (Lang::En, false) => "Electronically signed by:",
                    (Lang::Id, true) => "Disegel secara elektronik oleh:",
                    (Lang::En, true) => "Electronically sealed by:",
                };
                let o = &signer.official;
                Some(VisibleStamp {
                    page_index,
                    rect,
                    content: StampContent {
                        qr_payload: options
                            .qr_link
                            .clone()
                            .unwrap_or_else(|| verification_url.clone()),
                        heading: heading.into(),
                        name: o.name.clone(),
                        lines: [
                            Some(o.position.clone()),
                            Some(o.unit.clone()),
                            Some(format_wib(signed_at, options.lang)),
                            options.extra_text.clone().filter(|t| !t.trim().is_empty()),
                        ]
                        .into_iter()
                        .flatten()
                        .collect(),
                        image: options.specimen.clone(),
                    },
                })
            }
        };
        let page = stamp.as_ref().map(|s| s.page_index + 1);
        let request = SignRequest {
            stamp,
            reason: options.reason.clone(),
            location: options
                .location
                .clone()
                .or_else(|| self.config.signing.location.clone()),
            signer_name: Some(signer.official.name.clone()),
            signing_time: signed_at,
            field_name: None,
        };
        let tsa = if options.level >= Level::BT {
            Some(services.tsa.ok_or_else(|| {
                CoreError::Service("a timestamp authority is needed for B-T and above".into())
            })?)
        } else {
            None
        };
        let signed = sahih_pades::sign_pdf_timestamped(
            file,
            pdf,
            &request,
            &Signer {
                certificate: &signer.certificate,
                chain: &signer.chain,
                key_algorithm: signer.key_algorithm,
                producer: &signer.key,
            },
            tsa,
        )?;
        file.extend_from_slice(signed.update_bytes());
        let sha256_hex = if options.level >= Level::BLT {
            let source = services.validation_data.ok_or_else(|| {
                CoreError::Service("revocation data is needed for B-LT and above".into())
            })?;
            sahih_pades::augment_in_place(file, source, tsa, options.level)?;
            hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, file).as_ref())
        } else {
            hex::encode(signed.signed_file_sha256)
        };
        Ok(SignOutcome {
            level: options.level,
            document_id: document_id.to_string(),
            verification_url,
            field_name: signed.field_name().to_string(),
            signed_at,
            sha256_hex,
            page,
        })
    }

    /// The issuing CA's certificate of `record`, as the chain a signature carries.
    pub(crate) async fn issuer_chain(
        &self,
        record: &CertificateRecord,
    ) -> Result<Vec<Certificate>, CoreError> {
        let issuer = self
            .store
            .all_ca()
            .await?
            .into_iter()
            .find(|c| c.id == record.issuer_ca_id)
            .ok_or_else(|| CoreError::Config("issuing CA of the certificate is missing".into()))?;
        Ok(vec![Certificate::from_der(&issuer.cert_der)?])
    }

    /// The official's newest certificate record.
    pub async fn official_certificate(&self, nik: &str) -> Result<CertificateRecord, CoreError> {
        let official = self
            .store
            .official_by_nik(nik)
            .await?
            .ok_or(CoreError::NikNotRegistered)?;
        self.store
            .latest_certificate(official.id)
            .await?
            .ok_or(CoreError::NoCertificate)
    }

    /// Revokes the official's certificates (audited).
    pub async fn revoke(&self, nik: &str, reason: &str) -> Result<u64, CoreError> {
        self.revoke_by(nik, reason, "cli").await
    }

    /// Revokes the official's live certificates, checked against the lifecycle
    /// ([`crate::lifecycle::transition`]) and audited under `actor`.
    pub async fn revoke_by(&self, nik: &str, reason: &str, actor: &str) -> Result<u64, CoreError> {
        crate::lifecycle::check_reason(reason)?;
        let official = self
            .store
            .official_by_nik(nik)
            .await?
            .ok_or(CoreError::NikNotRegistered)?;
        let from = self.status_of(nik).await?;
        crate::lifecycle::transition(from, crate::lifecycle::Action::Revoke)?;
        let live = self
            .store
            .latest_certificate(official.id)
            .await?
            .filter(|c| c.status != CertStatus::Revoke);
        let n = self
            .store
            .revoke_certificates(official.id, OffsetDateTime::now_utc(), reason)
            .await?;
        if let Some(c) = live {
            self.destroy_token_key(nik, &c.cert_der).await?;
        }
        if from == crate::lifecycle::Status::Renew {
            // The renewal in progress must not hand out a fresh certificate afterwards.
            self.close_renewal(official.id, nik, "certificate revoked", actor)
                .await?;
        }
        self.store
            .append_audit(&[crate::audit::AuditEvent::new(
                crate::audit::AuditAction::Revoke,
                actor,
                crate::audit::AuditResult::Ok,
            )
            .detail(format!(
                "nik={nik} reason={reason} certificates={n} from={}",
                from.as_str()
            ))])
            .await?;
        Ok(n)
    }

    /// Suspends the official's certificate (certificateHold: signing refused, CRL and OCSP say
    /// revoked with that reason) until [`Sahih::resume`]; audited.
    pub async fn suspend(&self, nik: &str, reason: &str) -> Result<u64, CoreError> {
        self.set_hold(nik, Some(reason), "cli").await
    }

    /// Lifts a suspension; audited.
    pub async fn resume(&self, nik: &str) -> Result<u64, CoreError> {
        self.set_hold(nik, None, "cli").await
    }

    /// Suspends (`Some(reason)`) or resumes (`None`), checked against the lifecycle and
    /// audited under `actor`.
    pub async fn set_hold(
        &self,
        nik: &str,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<u64, CoreError> {
        crate::lifecycle::check_reason(reason.unwrap_or(""))?;
        let official = self
            .store
            .official_by_nik(nik)
            .await?
            .ok_or(CoreError::NikNotRegistered)?;
        let mut from = self.status_of(nik).await?;
        if reason.is_some() && from == crate::lifecycle::Status::Renew {
            // Suspension ends a renewal in progress (it would otherwise lift the hold).
            crate::lifecycle::transition(from, crate::lifecycle::Action::Suspend)?;
            self.close_renewal(official.id, nik, "certificate suspended", actor)
                .await?;
            from = self.status_of(nik).await?;
        }
        crate::lifecycle::transition(
            from,
            if reason.is_some() {
                crate::lifecycle::Action::Suspend
            } else {
                crate::lifecycle::Action::Resume
            },
        )?;
        let now = OffsetDateTime::now_utc();
        let n = self
            .store
            .set_certificate_hold(official.id, reason.map(|r| (now, r)))
            .await?;
        let (action, detail) = match reason {
            Some(r) => (
                crate::audit::AuditAction::Suspend,
                format!("nik={nik} reason={r} certificates={n}"),
            ),
            None => (
                crate::audit::AuditAction::Resume,
                format!("nik={nik} certificates={n}"),
            ),
        };
        self.store
            .append_audit(&[crate::audit::AuditEvent::new(
                action,
                actor,
                crate::audit::AuditResult::Ok,
            )
            .detail(detail)])
            .await?;
        Ok(n)
    }

    /// Every revocation and suspension on file, as verification asks about them.
    pub async fn revocations(&self) -> Result<LocalRevocations, CoreError> {
        let cas = self.store.all_ca().await?;
        let mut entries = Vec::new();
        for r in self.store.revoked_certificates().await? {
            let issuer_subject = cas
                .iter()
                .find(|c| c.cert_der == r.issuer_cert_der)
                .and_then(|c| Certificate::from_der(&c.cert_der).ok())
                .map(|c| c.subject_der());
            if let Some(subject) = issuer_subject {
                entries.push((subject, r.serial_hex, r.revoked_at, r.reason));
            }
        }
        Ok(LocalRevocations { entries })
    }

    /// Trust anchors: the built-in root(s) plus `extra`.
    pub async fn trust_store(&self, extra: Vec<Certificate>) -> Result<TrustStore, CoreError> {
        let mut anchors = Vec::new();
        for ca in self.store.all_ca().await? {
            if ca.kind == CaKind::Root {
                anchors.push(Certificate::from_der(&ca.cert_der)?);
            }
        }
        anchors.extend(extra);
        Ok(TrustStore::new(anchors))
    }

    /// Validates every signature in `bytes` as of `at`, against the built-in roots (plus
    /// `extra_trust`) and the revocations recorded here. Every door verifies through this one
    /// function: the CLI, ECS v1/v2, the native API and the public portal. The CPU work runs
    /// where a server may block (`crate::cpu`).
    pub async fn verify_bytes(
        &self,
        bytes: &[u8],
        extra_trust: Vec<Certificate>,
        at: OffsetDateTime,
    ) -> Result<Report, CoreError> {
        let trust = self.trust_store(extra_trust).await?;
        let revocations = self.revocations().await?;
        crate::cpu::run_cpu(|| verify_with(bytes, trust, &revocations, at))
    }
}

/// Where B-T and above get timestamps and revocation data: the built-in services in-process, or
/// a TSA over HTTP.
#[derive(Clone, Copy, Default)]
pub struct TrustProviders<'a> {
    /// The time-stamping authority for B-T and above.
    pub tsa: Option<&'a dyn Timestamper>,
    /// Certificates and revocation data for B-LT and above.
    pub validation_data: Option<&'a dyn ValidationDataSource>,
}

/// Verification without a data directory (only explicitly trusted anchors).
pub fn verify_with(
    bytes: &[u8],
    trust: TrustStore,
    revocations: &dyn RevocationSource,
    at: OffsetDateTime,
) -> Result<Report, CoreError> {
    let validator = SimplePathValidator::new(trust);
    let ctx = Context {
        validator: &validator,
        revocation: revocations,
        at,
    };
    sahih_validate::validate_pdf(bytes, &ctx).map_err(|e| match e {
        sahih_validate::ValidateError::Pdf(p) => CoreError::Pdf(p),
    })
}

/// Writes `parts` to `path` through a temporary file in the same directory, then renames.
pub fn write_atomically(path: &Path, parts: &[&[u8]]) -> Result<(), CoreError> {
    StagedFile::write_parts(path, parts)?.commit()
}

/// A file written in full under a temporary name beside its destination, not yet visible
/// there. [`StagedFile::commit`] renames it into place; dropping it uncommitted removes it.
pub struct StagedFile {
    tmp: PathBuf,
    path: PathBuf,
    committed: bool,
}

impl StagedFile {
    /// Writes `bytes` (synced to disk) under a temporary name beside `path`.
    pub fn write(path: &Path, bytes: &[u8]) -> Result<Self, CoreError> {
        Self::write_parts(path, &[bytes])
    }

    fn write_parts(path: &Path, parts: &[&[u8]]) -> Result<Self, CoreError> {
        use std::io::Write;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path.file_name().ok_or_else(|| {
            CoreError::invalid(
                format!("{} bukan jalur berkas", path.display()),
                format!("{} is not a file path", path.display()),
            )
        })?;
        let staged = StagedFile {
            tmp: dir.join(format!(
                ".{}.{}.tmp",
                name.to_string_lossy(),
                new_document_id()
            )),
            path: path.to_path_buf(),
            committed: false,
        };
        let written = (|| {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&staged.tmp)?;
            for p in parts {
                f.write_all(p)?;
            }
            f.sync_all()
        })();
        // On failure `staged` drops here and removes what was written.
        written.map_err(|e| CoreError::Io(format!("{}: {e}", path.display())))?;
        Ok(staged)
    }

    /// Moves the file into place.
    pub fn commit(mut self) -> Result<(), CoreError> {
        std::fs::rename(&self.tmp, &self.path)
            .map_err(|e| CoreError::Io(format!("{}: {e}", self.path.display())))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for StagedFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
