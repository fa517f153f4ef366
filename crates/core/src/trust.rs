//! The institution's trust services: the time-stamping authority (RFC 3161), OCSP responders
//! (RFC 6960, one delegated responder per CA) and CRLs (RFC 5280), with keys sealed under the
//! master key. Used in-process for B-T/B-LT/B-LTA signing and served over HTTP by `sahih serve`.

use crate::store::{CaKind, CaRecord, CertStatus, ServiceKeyRecord, ServiceKind, Store};
use crate::{CoreError, Sahih};
use sahih_pades::{PadesError, Timestamper, ValidationDataSource};
use sahih_pdf::dss::DssData;
use sahih_pki::ocsp::{CertId, CertStatusKind, SingleResponseSpec};
use sahih_pki::tsp::{FailureInfo, PkiStatus, PreparedTsa, TimeStampReq};
use sahih_pki::{
    CertUrls, CertValidity, Certificate, IssueRequest, Issuer, KeyAlgorithm, PrivateKey, Profile,
};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use time::{Duration, OffsetDateTime};

/// Validity of the TSA certificate. Long, so that B-LTA files verify years ahead; `extend`
/// refreshes the archive timestamp before it runs out.
pub const TSA_VALIDITY_DAYS: i64 = 12 * 365;
/// Validity of a delegated OCSP responder's certificate (it is never checked for revocation,
/// so shorter than the CAs').
pub const OCSP_RESPONDER_VALIDITY_DAYS: i64 = 2 * 365;
/// nextUpdate of OCSP responses and CRLs.
pub const REVOCATION_VALIDITY: Duration = Duration::days(7);
/// TSA serial numbers: each process reserves one block number from the database when it starts
/// and numbers its tokens `block * 2^32 + n`, so processes never collide and a long-running
/// server never runs out (2^32 tokens per start).
pub const TSA_SERIALS_PER_BLOCK: u64 = 1 << 32;

pub(crate) fn service_aad(kind: ServiceKind, issuer_ca_id: i64) -> Vec<u8> {
    format!("sahih-service-key:{kind}:{issuer_ca_id}").into_bytes()
}

fn ca_aad(ca: &CaRecord) -> Vec<u8> {
    crate::keystore::ca_aad(ca.kind, ca.generation)
}

pub use crate::urls::{ca_name, urls_for_issuer};

/// (issuer CA id, serial hex, status, revoked at, reason).
pub type StatusEntry = (
    i64,
    String,
    CertStatus,
    Option<OffsetDateTime>,
    Option<String>,
);

/// One CA with its unsealed key and its OCSP responder.
pub struct CaService {
    /// Its current CRL (DER), issued when the services were unlocked.
    pub crl: Vec<u8>,
    /// The CA.
    pub record: CaRecord,
    /// Its certificate.
    pub cert: Certificate,
    /// The CA's own key (software, or in the PKCS#11 token), for its CRLs.
    pub key: crate::keystore::SigningKey,
    /// Its delegated OCSP responder's certificate.
    pub responder_cert: Certificate,
    /// The responder's key.
    pub responder_key: PrivateKey,
}

/// Unlocked trust services (keys in memory, zeroized on drop).
pub struct TrustServices {
    /// The TSA's certificate.
    pub tsa_cert: Certificate,
    /// Chain above the TSA certificate (the root).
    pub tsa_chain: Vec<Certificate>,
    tsa_key: PrivateKey,
    tsa: PreparedTsa,
    /// Every CA that answers OCSP and publishes CRLs.
    pub cas: Vec<CaService>,
    /// Certificate statuses by (issuer CA id, serial hex), loaded at unlock time.
    statuses: Mutex<Vec<StatusEntry>>,
    serial_block: u64,
    serial_next: AtomicU64,
    /// The last CRL signed per CA, served again until a revocation changes the list or it is
    /// [`CRL_REISSUE_AFTER`] old (security finding 10: every anonymous request signed a fresh
    /// CRL and used up a CRL number).
    crls: Mutex<std::collections::HashMap<i64, CachedCrl>>,
}

struct CachedCrl {
    entries: Vec<(String, Option<i64>, Option<String>)>,
    issued: OffsetDateTime,
    der: Vec<u8>,
}

/// How long a signed CRL is served before a fresh one (with a later nextUpdate) is signed.
pub const CRL_REISSUE_AFTER: Duration = Duration::hours(1);

impl<S: Store> Sahih<S> {
    /// Creates the TSA key and certificate and an OCSP responder per CA where missing.
    pub async fn ensure_trust_services(&self) -> Result<(), CoreError> {
        let cas = self.store.all_ca().await?;
        let root = cas
            .iter()
            .rev()
            .find(|c| c.kind == CaKind::Root && c.active)
            .ok_or_else(|| CoreError::Config("no root CA".into()))?;
        let institution = &self.config.institution;
        if self
            .store
            .active_service_keys(ServiceKind::Tsa)
            .await?
            .is_empty()
        {
            // Full AIA (OCSP, caIssuers) and CRL distribution point, like every certificate we
            // issue: strict validators (pyHanko's AdES process) need revocation data for the TSA.
            let urls = urls_for_issuer(&self.config.base_url, root);
            self.new_service_key(
                ServiceKind::Tsa,
                root,
                TSA_VALIDITY_DAYS,
                Profile::Tsa { institution },
                urls,
            )
            .await?;
        }
        let responders = self.store.active_service_keys(ServiceKind::Ocsp).await?;
        for ca in cas.iter().filter(|c| c.active || c.kind == CaKind::Issuing) {
            if responders.iter().any(|r| r.issuer_ca_id == ca.id) {
                continue;
            }
            // No URLs: a responder certificate is not checked for revocation.
            self.new_service_key(
                ServiceKind::Ocsp,
                ca,
                OCSP_RESPONDER_VALIDITY_DAYS,
                Profile::OcspResponder { institution },
                CertUrls::default(),
            )
            .await?;
        }
        Ok(())
    }

    /// Generates a P-256 service key, certifies it with `profile` under `issuer` for `days`
    /// (never beyond the issuer's own validity), seals it under the master key and stores it.
    async fn new_service_key(
        &self,
        kind: ServiceKind,
        issuer: &CaRecord,
        days: i64,
        profile: Profile<'_>,
        urls: CertUrls,
    ) -> Result<(), CoreError> {
        let master = self.data.master_key()?;
        let issuer_key =
            self.keys
                .unseal_with_master(&issuer.sealed_key, &master, &ca_aad(issuer))?;
        let issuer_cert = Certificate::from_der(&issuer.cert_der)?;
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256)?;
        let cert = sahih_pki::issue(
            &profile,
            &IssueRequest {
                subject_spki: &key.public_key_spki_der(),
                issuer: Issuer::Ca(&issuer.cert_der),
                signer: &issuer_key,
                validity: validity_under(&issuer_cert, days),
                serial: &sahih_pki::random_serial(),
                urls,
            },
        )?;
        let sealed = sahih_pki::seal_with_master_key(&key, &master, &service_aad(kind, issuer.id))?;
        self.store
            .insert_service_key(kind, issuer.id, &cert, &sealed)
            .await?;
        Ok(())
    }

    /// Issues a new issuing CA (next generation) and makes it the active one. Earlier issuing CAs
    /// stay in the database: their certificates, OCSP responders and CRLs keep working, so
    /// existing signatures are unaffected. Returns the new generation.
    pub async fn rotate_issuing_ca(&self, by: &str) -> Result<i64, CoreError> {
        let master = self.data.master_key()?;
        let cas = self.store.all_ca().await?;
        let root = cas
            .iter()
            .rev()
            .find(|c| c.kind == CaKind::Root && c.active)
            .ok_or_else(|| CoreError::Config("no root CA".into()))?;
        let generation = cas
            .iter()
            .filter(|c| c.kind == CaKind::Issuing)
            .map(|c| c.generation)
            .max()
            .unwrap_or(0)
            + 1;
        let alg: KeyAlgorithm = self.config.keys.ca;
        let root_key = self
            .keys
            .unseal_with_master(&root.sealed_key, &master, &ca_aad(root))?;
        let root_cert = Certificate::from_der(&root.cert_der)?;
        let key = self.keys.generate(
            alg,
            &crate::keystore::ca_key_label(CaKind::Issuing, generation),
        )?;
        let until =
            (OffsetDateTime::now_utc() + Duration::days(10 * 365)).min(root_cert.not_after());
        let cert = sahih_pki::issue(
            &Profile::IssuingCa {
                institution: &self.config.institution,
                generation: u32::try_from(generation).unwrap_or(u32::MAX),
            },
            &IssueRequest {
                subject_spki: &key.public_key_spki_der(),
                issuer: Issuer::Ca(&root.cert_der),
                signer: &root_key,
                validity: CertValidity {
                    not_before: OffsetDateTime::now_utc() - Duration::minutes(5),
                    not_after: until,
                },
                serial: &sahih_pki::random_serial(),
                urls: urls_for_issuer(&self.config.base_url, root),
            },
        )?;
        let aad = format!("sahih-ca-key:issuing:{generation}").into_bytes();
        let sealed = self.keys.seal_with_master(&key, &master, &aad)?;
        self.store
            .insert_ca(CaKind::Issuing, generation, &cert, &sealed)
            .await?;
        self.ensure_trust_services().await?;
        self.store
            .append_audit(&[crate::audit::AuditEvent::new(
                crate::audit::AuditAction::CaRotate,
                by,
                crate::audit::AuditResult::Ok,
            )
            .detail(format!("issuing CA generation {generation}"))])
            .await?;
        Ok(generation)
    }

    /// Unlocks the trust services (creating them first when missing).
    pub async fn trust_services(&self) -> Result<TrustServices, CoreError> {
        self.ensure_trust_services().await?;
        let master = self.data.master_key()?;
        let cas = self.store.all_ca().await?;
        let tsa: ServiceKeyRecord = self
            .store
            .active_service_keys(ServiceKind::Tsa)
            .await?
            .into_iter()
            .last()
            .ok_or_else(|| CoreError::Config("no TSA key".into()))?;
        let tsa_issuer = cas
            .iter()
            .find(|c| c.id == tsa.issuer_ca_id)
            .ok_or_else(|| CoreError::Config("TSA issuer missing".into()))?;
        let tsa_key = sahih_pki::unseal_with_master_key(
            &tsa.sealed_key,
            &master,
            &service_aad(ServiceKind::Tsa, tsa.issuer_ca_id),
        )?;
        let responders = self.store.active_service_keys(ServiceKind::Ocsp).await?;
        let mut services = Vec::new();
        let mut statuses = Vec::new();
        for ca in &cas {
            let Some(r) = responders.iter().rev().find(|r| r.issuer_ca_id == ca.id) else {
                continue;
            };
            let cert = Certificate::from_der(&ca.cert_der)?;
            let key = self
                .keys
                .unseal_with_master(&ca.sealed_key, &master, &ca_aad(ca))?;
            let mut revoked = Vec::new();
            for c in self.store.all_certificates_of_ca(ca.id).await? {
                if c.status != CertStatus::Issue {
                    revoked.push(revoked_entry(
                        &c.serial_hex,
                        c.revoked_at,
                        c.revocation_reason.as_deref(),
                    ));
                }
                statuses.push((
                    ca.id,
                    c.serial_hex,
                    c.status,
                    c.revoked_at,
                    c.revocation_reason,
                ));
            }
            let number = self
                .store
                .reserve_counter(&format!("crl:{}", ca.id), 1)
                .await?
                + 1;
            let now = OffsetDateTime::now_utc();
            let crl = sahih_pki::crl::build_crl(
                &cert,
                &key,
                now,
                now + REVOCATION_VALIDITY,
                u64::try_from(number).unwrap_or(1),
                &revoked,
            )?;
            services.push(CaService {
                crl,
                record: ca.clone(),
                cert,
                key,
                responder_cert: Certificate::from_der(&r.cert_der)?,
                responder_key: sahih_pki::unseal_with_master_key(
                    &r.sealed_key,
                    &master,
                    &service_aad(ServiceKind::Ocsp, ca.id),
                )?,
            });
        }
        let start = self.store.reserve_counter("tsa_serial_block", 1).await?;
        let tsa_cert = Certificate::from_der(&tsa.cert_der)?;
        let tsa_chain = vec![Certificate::from_der(&tsa_issuer.cert_der)?];
        let prepared = PreparedTsa::new(
            &tsa_cert,
            &tsa_chain,
            sahih_pki::OID_TSA_POLICY_DEFAULT,
            Some(1000),
        )?;
        Ok(TrustServices {
            tsa_cert,
            tsa_chain,
            tsa_key,
            tsa: prepared,
            cas: services,
            statuses: Mutex::new(statuses),
            // Block 0 is never handed out (counters start at 0 and return the value before
            // the increment), so serials stay above those of the earlier 1000-per-block scheme.
            serial_block: u64::try_from(start).unwrap_or(0) + 1,
            serial_next: AtomicU64::new(1),
            crls: Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// Current certificate statuses of every CA's certificates (for [`TrustServices::refresh_status`]).
    pub async fn certificate_statuses(&self) -> Result<Vec<StatusEntry>, CoreError> {
        let mut out = Vec::new();
        for ca in self.store.all_ca().await? {
            for c in self.store.all_certificates_of_ca(ca.id).await? {
                out.push((
                    ca.id,
                    c.serial_hex,
                    c.status,
                    c.revoked_at,
                    c.revocation_reason,
                ));
            }
        }
        Ok(out)
    }

    /// Issues a CRL for `ca_name` ("root", "issuing-N") from the database's current state.
    pub async fn crl_for(
        &self,
        services: &TrustServices,
        name: &str,
    ) -> Result<Vec<u8>, CoreError> {
        let ca = services
            .cas
            .iter()
            .find(|c| ca_name(&c.record) == name)
            .ok_or_else(|| {
                CoreError::invalid(
                    format!("CA {name:?} tidak dikenal"),
                    format!("unknown CA {name:?}"),
                )
            })?;
        let mut entries = Vec::new();
        for c in self.store.all_certificates_of_ca(ca.record.id).await? {
            if c.status != CertStatus::Issue {
                entries.push((
                    c.serial_hex.clone(),
                    c.revoked_at.map(OffsetDateTime::unix_timestamp),
                    c.revocation_reason.clone(),
                ));
            }
        }
        entries.sort();
        let now = OffsetDateTime::now_utc();
        if let Ok(cache) = services.crls.lock()
            && let Some(c) = cache.get(&ca.record.id)
            && c.entries == entries
            && now - c.issued < CRL_REISSUE_AFTER
        {
            return Ok(c.der.clone());
        }
        let revoked: Vec<_> = entries
            .iter()
            .map(|(serial, at, reason)| {
                revoked_entry(
                    serial,
                    at.and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok()),
                    reason.as_deref(),
                )
            })
            .collect();
        let number = self
            .store
            .reserve_counter(&format!("crl:{}", ca.record.id), 1)
            .await?
            + 1;
        let der = sahih_pki::crl::build_crl(
            &ca.cert,
            &ca.key,
            now,
            now + REVOCATION_VALIDITY,
            u64::try_from(number).unwrap_or(1),
            &revoked,
        )?;
        if let Ok(mut cache) = services.crls.lock() {
            cache.insert(
                ca.record.id,
                CachedCrl {
                    entries,
                    issued: now,
                    der: der.clone(),
                },
            );
        }
        Ok(der)
    }
}

impl TrustServices {
    fn next_serial(&self) -> Result<Vec<u8>, CoreError> {
        let n = self.serial_next.fetch_add(1, Ordering::Relaxed);
        if n >= TSA_SERIALS_PER_BLOCK {
            return Err(CoreError::Config(
                "TSA serial block exhausted; restart the service".into(),
            ));
        }
        let serial = (u128::from(self.serial_block) << 32) | u128::from(n);
        Ok(serial
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect::<Vec<u8>>())
    }

    /// Answers an RFC 3161 request given as DER (always a TimeStampResp, granted or rejected).
    pub fn timestamp_response_der(&self, req_der: &[u8]) -> Vec<u8> {
        match self.next_serial() {
            Ok(serial) => {
                self.tsa
                    .respond(req_der, &self.tsa_key, &serial, OffsetDateTime::now_utc())
            }
            Err(_) => sahih_pki::tsp::rejection_response(
                PkiStatus::Rejection,
                FailureInfo::SystemFailure,
                "serial numbers exhausted",
            ),
        }
    }

    /// A bare TimeStampToken for an in-process request.
    pub fn timestamp_token(&self, req: &TimeStampReq) -> Result<Vec<u8>, CoreError> {
        let serial = self.next_serial()?;
        Ok(self
            .tsa
            .issue_token(req, &self.tsa_key, &serial, OffsetDateTime::now_utc())?)
    }

    /// Re-reads certificate statuses (after a revocation in this process).
    pub fn refresh_status(&self, entries: Vec<StatusEntry>) {
        if let Ok(mut s) = self.statuses.lock() {
            *s = entries;
        }
    }

    fn status_of(&self, ca_id: i64, serial_hex: &str) -> CertStatusKind {
        let Ok(s) = self.statuses.lock() else {
            return CertStatusKind::Unknown;
        };
        match s
            .iter()
            .find(|(id, serial, ..)| *id == ca_id && serial == serial_hex)
        {
            Some((_, _, CertStatus::Issue, ..)) => CertStatusKind::Good,
            Some((_, _, CertStatus::Revoke | CertStatus::Suspend, at, reason)) => {
                CertStatusKind::Revoked {
                    at: at.unwrap_or(OffsetDateTime::UNIX_EPOCH),
                    reason: reason
                        .as_deref()
                        .and_then(sahih_pki::crl::crl_reason_from_name),
                }
            }
            None => CertStatusKind::Unknown,
        }
    }

    /// Status of a certificate issued by one of our CAs, as a service of this process knows it:
    /// the CA (by issuer key hash) and the serial.
    fn status_for_cert_id(
        &self,
        id: &CertId,
        tsa_and_responders: &[(Vec<u8>, i64)],
    ) -> Option<(usize, CertStatusKind)> {
        for (index, ca) in self.cas.iter().enumerate() {
            if id.matches_issuer(&ca.cert) {
                let serial_hex = hex::encode(trim_serial(&id.serial));
                // Service certificates (TSA, responders) are not in the officials' table.
                if tsa_and_responders
                    .iter()
                    .any(|(s, ca_id)| *s == trim_serial(&id.serial) && *ca_id == ca.record.id)
                {
                    return Some((index, CertStatusKind::Good));
                }
                return Some((index, self.status_of(ca.record.id, &serial_hex)));
            }
        }
        None
    }

    fn service_serials(&self) -> Vec<(Vec<u8>, i64)> {
        let mut out = Vec::new();
        if let Some(root) = self.cas.iter().find(|c| c.record.kind == CaKind::Root) {
            out.push((trim_serial(&self.tsa_cert.serial_bytes()), root.record.id));
        }
        for ca in &self.cas {
            out.push((trim_serial(&ca.responder_cert.serial_bytes()), ca.record.id));
            // Issuing CAs are certified by the root.
            if ca.record.kind == CaKind::Issuing
                && let Some(root) = self.cas.iter().find(|c| c.record.kind == CaKind::Root)
            {
                out.push((trim_serial(&ca.cert.serial_bytes()), root.record.id));
            }
        }
        out
    }

    /// True when the request asks about a certificate of one of our CAs that this process has not
    /// seen yet (issued after the statuses were loaded): the caller should refresh first.
    pub fn ocsp_cache_misses(&self, request_der: &[u8]) -> bool {
        let Ok(req) = sahih_pki::ocsp::OcspRequest::from_der(request_der) else {
            return false;
        };
        let services = self.service_serials();
        req.certs.iter().any(|id| {
            matches!(
                self.status_for_cert_id(id, &services),
                Some((_, CertStatusKind::Unknown))
            )
        })
    }

    /// Answers an OCSP request (DER OCSPResponse), one response per CertID; the responder is the
    /// one delegated by the CA of the first CertID.
    pub fn ocsp_response(&self, request_der: &[u8]) -> Vec<u8> {
        let Ok(req) = sahih_pki::ocsp::OcspRequest::from_der(request_der) else {
            return sahih_pki::ocsp::ocsp_error_response(1);
        };
        let now = OffsetDateTime::now_utc();
        let services = self.service_serials();
        let mut specs = Vec::new();
        let mut responder: Option<usize> = None;
        for id in &req.certs {
            let (ca_index, status) = match self.status_for_cert_id(id, &services) {
                Some(x) => x,
                None => (usize::MAX, CertStatusKind::Unknown),
            };
            if responder.is_none() && ca_index != usize::MAX {
                responder = Some(ca_index);
            }
            specs.push(SingleResponseSpec {
                cert_id: id.clone(),
                status,
                this_update: now,
                next_update: Some(now + REVOCATION_VALIDITY),
            });
        }
        let Some(ca) = responder
            .and_then(|i| self.cas.get(i))
            .or_else(|| self.cas.first())
        else {
            return sahih_pki::ocsp::ocsp_error_response(6);
        };
        sahih_pki::ocsp::build_ocsp_response(
            &specs,
            &ca.responder_cert,
            &ca.responder_key,
            now,
            req.nonce.as_deref(),
            std::slice::from_ref(&ca.responder_cert),
        )
        .unwrap_or_else(|_| sahih_pki::ocsp::ocsp_error_response(2))
    }

    /// An OCSP response for one certificate issued by one of our CAs.
    pub fn ocsp_for(&self, cert: &Certificate) -> Option<Vec<u8>> {
        let issuer = self
            .cas
            .iter()
            .find(|c| cert.is_signed_by(&c.cert) && cert.issuer_der() == c.cert.subject_der())?;
        let id = CertId::for_cert(cert, &issuer.cert, sahih_pki::oids::OID_SHA256).ok()?;
        let req = sahih_pki::ocsp::OcspRequest {
            certs: vec![id],
            nonce: None,
        };
        Some(self.ocsp_response(&req.to_der()))
    }
}

/// From a few minutes ago (clock skew) for `days`, but not beyond the issuer's validity.
fn validity_under(issuer: &Certificate, days: i64) -> CertValidity {
    let now = OffsetDateTime::now_utc();
    CertValidity {
        not_before: now - Duration::minutes(5),
        not_after: (now + Duration::days(days)).min(issuer.not_after()),
    }
}

fn revoked_entry(
    serial_hex: &str,
    at: Option<OffsetDateTime>,
    reason: Option<&str>,
) -> sahih_pki::crl::RevokedCert {
    sahih_pki::crl::RevokedCert {
        serial: hex::decode(serial_hex).unwrap_or_default(),
        revoked_at: at.unwrap_or(OffsetDateTime::UNIX_EPOCH),
        reason: reason.and_then(sahih_pki::crl::crl_reason_from_name),
    }
}

fn trim_serial(s: &[u8]) -> Vec<u8> {
    let t: Vec<u8> = s.iter().copied().skip_while(|b| *b == 0).collect();
    if t.is_empty() { vec![0] } else { t }
}

/// The built-in TSA used in-process.
impl Timestamper for TrustServices {
    fn timestamp(&self, digest: &[u8]) -> Result<Vec<u8>, PadesError> {
        let mut nonce = [0u8; 8];
        let _ = aws_lc_rs::rand::fill(&mut nonce);
        nonce[0] &= 0x7f;
        let req = TimeStampReq {
            hash_algorithm: sahih_pki::oids::OID_SHA256,
            message_imprint: digest.to_vec(),
            policy: None,
            nonce: Some(nonce.to_vec()),
            cert_req: true,
        };
        self.timestamp_token(&req)
            .map_err(|e| PadesError::Service(e.to_string()))
    }

    fn token_size_hint(&self) -> usize {
        self.tsa.token_size_upper_bound(true)
    }
}

/// Validation data from our own CAs, produced in-process (no HTTP).
impl ValidationDataSource for TrustServices {
    fn collect(&self, certs: &[Certificate]) -> Result<DssData, PadesError> {
        let mut data = DssData::default();
        let mut seen: Vec<Vec<u8>> = Vec::new();
        let mut add_cert = |data: &mut DssData, c: &Certificate| {
            if !seen.contains(&c.der) {
                seen.push(c.der.clone());
                data.certs.push(c.der.clone());
            }
        };
        let mut queue: Vec<Certificate> = certs.to_vec();
        let mut done: Vec<Vec<u8>> = Vec::new();
        while let Some(cert) = queue.pop() {
            if done.contains(&cert.der) || done.len() > 32 {
                continue;
            }
            done.push(cert.der.clone());
            add_cert(&mut data, &cert);
            if cert.is_self_issued() {
                continue;
            }
            if let Some(issuer) = self
                .cas
                .iter()
                .find(|c| cert.issuer_der() == c.cert.subject_der() && cert.is_signed_by(&c.cert))
            {
                queue.push(issuer.cert.clone());
                if let Some(resp) = self.ocsp_for(&cert) {
                    data.ocsps.push(resp);
                    add_cert(&mut data, &issuer.responder_cert);
                }
                // Both forms: some validators insist on CRLs for CA certificates.
                if !data.crls.contains(&issuer.crl) {
                    data.crls.push(issuer.crl.clone());
                }
            }
        }
        Ok(data)
    }
}
