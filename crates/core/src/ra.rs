//! The registration authority (RA): how an official gets a certificate through the local
//! Diskominfo. An OPD operator (scoped to their unit) submits a request with evidence; a
//! verifikator approves or rejects it (never one they submitted, never one about themselves); on
//! approval the official receives a single-use activation link and, opening it, chooses their
//! own passphrase: only then are the key pair and certificate made. Renewal, a change of
//! position (mutasi) and a forgotten passphrase go through the same path.
//!
//! Every change of an official's status follows [`transition`] (the ECS vocabulary, no skipped
//! states) and is audited. Passphrases and activation tokens are never stored or logged: only the
//! SHA-256 of a token is kept.

use crate::audit::{AuditAction, AuditEvent, AuditResult};
use crate::store::{
    ApiClientRecord, CertStatus, CertificateRecord, NewOfficial, OfficialRecord, OutboxMessage,
};
use crate::{CoreError, Lang, Sahih, format_wib, store::Store};
use sahih_pki::KeyAlgorithm;
use time::OffsetDateTime;

/// How long an activation link stays usable.
pub const ACTIVATION_LINK_HOURS: i64 = 24;

pub use crate::lifecycle::{Action, MAX_REASON_CHARS, Status, Target, check_reason, transition};
pub use crate::store::ra::{
    Activation, ActivationLink, Decision, Evidence, EvidenceKind, MediaType, OfficialChange,
    RaRequest, RaStore, RequestKind, RequestState,
};

/// The status of an official from their stored RA stage and newest certificate.
pub fn effective_status(
    official: Option<&OfficialRecord>,
    cert: Option<&CertificateRecord>,
    now: OffsetDateTime,
) -> Status {
    let Some(official) = official else {
        return Status::NotRegistered;
    };
    if let Some(stage) = official.ra_status.as_deref().and_then(Status::parse) {
        return stage;
    }
    match cert {
        None => Status::NoCertificate,
        Some(c) if c.status == CertStatus::Revoke => Status::Revoke,
        Some(c) if c.status == CertStatus::Suspend => Status::Suspend,
        Some(c) if c.not_after < now => Status::Expired,
        Some(_) => Status::Issue,
    }
}

/// Recognises a PDF, JPEG or PNG by its content (never by the name or declared type), and
/// checks that it is complete: a PDF ends with `%%EOF`, a JPEG with its end-of-image marker, a
/// PNG with its IEND chunk. Anything else is refused.
pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
    if bytes.len() < 16 {
        return None;
    }
    // A PDF starts with its header and ends with its end-of-file marker: an HTML page that
    // merely contains "%PDF-...%%EOF" is not one (security finding 12).
    if bytes.starts_with(b"%PDF-") {
        let end = bytes
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .map_or(0, |p| p + 1);
        return bytes
            .get(..end)
            .is_some_and(|b| b.ends_with(b"%%EOF"))
            .then_some(MediaType::Pdf);
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        return jpeg_structure_ok(bytes).then_some(MediaType::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return png_structure_ok(bytes).then_some(MediaType::Png);
    }
    None
}

/// A JPEG whose marker segments chain from SOI to EOI with nothing but padding after: bytes
/// slipped between segments (an executable in a polyglot file) break the chain.
fn jpeg_structure_ok(b: &[u8]) -> bool {
    let mut i = 2;
    loop {
        if b.get(i) != Some(&0xFF) {
            return false;
        }
        while b.get(i + 1) == Some(&0xFF) {
            i += 1; // fill bytes
        }
        let Some(&marker) = b.get(i + 1) else {
            return false;
        };
        match marker {
            0xD9 => {
                return b
                    .get(i + 2..)
                    .is_some_and(|rest| rest.iter().all(|x| *x == 0 || x.is_ascii_whitespace()));
            }
            0x01 | 0xD0..=0xD7 => i += 2,
            0x00 => return false,
            _ => {
                let Some(len) = b
                    .get(i + 2..i + 4)
                    .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])))
                else {
                    return false;
                };
                if len < 2 {
                    return false;
                }
                i += 2 + len;
                if marker == 0xDA {
                    // Entropy-coded data: runs until a marker that is not a stuffed 0xFF00 or
                    // a restart marker.
                    loop {
                        match b.get(i..i + 2) {
                            None => return false,
                            Some([0xFF, 0x00]) | Some([0xFF, 0xD0..=0xD7]) => i += 2,
                            Some([0xFF, _]) => break,
                            Some(_) => i += 1,
                        }
                    }
                }
            }
        }
    }
}

/// A PNG whose chunks chain from IHDR to IEND with nothing after.
fn png_structure_ok(b: &[u8]) -> bool {
    let mut i = 8;
    let mut first = true;
    while let Some(head) = b.get(i..i + 8) {
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let kind = &head[4..8];
        if (first && kind != b"IHDR") || !kind.iter().all(u8::is_ascii_alphabetic) {
            return false;
        }
        first = false;
        let Some(next) = i.checked_add(12).and_then(|n| n.checked_add(len)) else {
            return false;
        };
        if next > b.len() {
            return false;
        }
        if kind == b"IEND" {
            return next == b.len();
        }
        i = next;
    }
    false
}

/// Who acts on the RA: an API staff client, or a person's staff account (audited as
/// `account:<id>`, which no client name can be: names never hold ':').
#[derive(Debug, Clone)]
pub struct Staff {
    /// The actor as audited and recorded (`submitted_by`, `decided_by`).
    pub name: String,
    /// What the account may do.
    pub role: crate::clients::ClientRole,
    /// The unit an operator files for (requests of other units are not theirs).
    pub unit: Option<String>,
    /// The person's NIK: nobody decides a request about themselves.
    pub person_nik: Option<String>,
}

impl Staff {
    /// The staff member behind a person's account; None for officials, who are not staff.
    pub fn from_account(account: &crate::store::accounts::AccountRecord) -> Option<Self> {
        use crate::clients::ClientRole;
        use crate::store::accounts::AccountRole;
        let role = match account.role {
            AccountRole::Official => return None,
            AccountRole::Operator => ClientRole::Operator,
            AccountRole::Verifikator => ClientRole::Verifikator,
            AccountRole::Admin => ClientRole::Admin,
        };
        Some(Self {
            name: crate::accounts::account_actor(account.id),
            role,
            unit: account.unit.clone(),
            person_nik: account.nik.clone(),
        })
    }
}

impl From<&ApiClientRecord> for Staff {
    fn from(c: &ApiClientRecord) -> Self {
        Self {
            name: c.name.clone(),
            role: c.role,
            unit: c.unit.clone(),
            person_nik: c.person_nik.clone(),
        }
    }
}

impl Staff {
    /// Whether this account holds `capability` (the one authorization table).
    pub fn may(&self, capability: crate::clients::Capability) -> bool {
        crate::clients::account_may(self.role, self.unit.as_deref(), capability)
    }
}

impl<S: Store> Sahih<S> {
    /// Whether the staff member acting is the same *person* as the one behind the account
    /// `other_account`: the same account, or two accounts naming the same person (security
    /// finding 7: separation of duties held per account, so one person with two accounts could
    /// submit and approve, or request and issue a seal).
    pub(crate) async fn same_person(
        &self,
        staff: &Staff,
        other_account: &str,
    ) -> Result<bool, CoreError> {
        if staff.name == other_account {
            return Ok(true);
        }
        let Some(mine) = staff.person_nik.as_deref() else {
            return Ok(false);
        };
        Ok(self.person_nik_of(other_account).await?.as_deref() == Some(mine))
    }

    /// The NIK of the person behind an actor: a person's account (`account:<id>`) or an API
    /// client bound to a person.
    async fn person_nik_of(&self, actor: &str) -> Result<Option<String>, CoreError> {
        if let Some(id) = crate::accounts::account_id_of_actor(actor) {
            return Ok(self.store.account_by_id(id).await?.and_then(|a| a.nik));
        }
        Ok(self
            .store
            .api_client(actor)
            .await?
            .and_then(|c| c.person_nik))
    }
}

/// A stored evidence file's bytes, if they are still there and match the recorded hash.
async fn intact_evidence_bytes<B: crate::store::BlobStore>(
    blobs: &B,
    evidence: &Evidence,
) -> Result<Vec<u8>, CoreError> {
    match blobs.get(&evidence.blob_key).await? {
        Some(bytes) if crate::ids::sha256_hex(&bytes) == evidence.sha256_hex => Ok(bytes),
        _ => Err(CoreError::EvidenceDamaged {
            kind: evidence.kind.as_str().to_string(),
            blob_key: evidence.blob_key.clone(),
        }),
    }
}

fn same_unit(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

pub(crate) fn forbidden(id: &str, en: &str) -> CoreError {
    CoreError::Forbidden {
        id: id.into(),
        en: en.into(),
    }
}

/// Puts one evidence file in the blob store under a name that says what it is and whose
/// (`evidence/<submission>/<kind>-<owner>-<hash prefix>.<ext>`), and returns its record.
async fn store_evidence<B: crate::store::BlobStore>(
    blobs: &B,
    submission_id: &str,
    request_id: Option<String>,
    owner: &str,
    upload: EvidenceUpload,
    media: MediaType,
) -> Result<Evidence, CoreError> {
    let sha = crate::ids::sha256_hex(&upload.bytes);
    let blob_key = format!(
        "evidence/{submission_id}/{}-{owner}-{}.{}",
        upload.kind.as_str(),
        &sha[..16],
        media.extension()
    );
    let size = upload.bytes.len() as i64;
    blobs.put(&blob_key, upload.bytes).await?;
    Ok(Evidence {
        submission_id: submission_id.to_string(),
        request_id,
        kind: upload.kind,
        blob_key,
        sha256_hex: sha,
        media_type: media,
        size,
        file_name: upload.file_name,
    })
}

/// The evidence files of an audit entry: `kind:sha256` each.
fn evidence_digests(evidence: &[Evidence]) -> String {
    evidence
        .iter()
        .map(|e| format!("{}:{}", e.kind.as_str(), e.sha256_hex))
        .collect::<Vec<_>>()
        .join(",")
}

/// An evidence file as received.
#[derive(Debug, Clone)]
pub struct EvidenceUpload {
    /// What it proves.
    pub kind: EvidenceKind,
    /// For per-official files in a collective submission: whose file it is.
    pub nik: Option<String>,
    /// The uploaded file's name, if given.
    pub file_name: Option<String>,
    /// The file.
    pub bytes: Vec<u8>,
}

/// What a submission asks for.
#[derive(Debug, Clone)]
pub struct SubmissionInput {
    /// Enrollment, renewal, mutasi or passphrase reset.
    pub kind: RequestKind,
    /// The officials it is for (one request each).
    pub officials: Vec<NewOfficial>,
    /// The evidence files.
    pub evidence: Vec<EvidenceUpload>,
    /// False: evidence may be incomplete; the requests stay NEW until completed (the ECS
    /// registration endpoint).
    pub require_complete: bool,
}

/// What [`Sahih::ra_check_submission`] found: the filing unit, each evidence file's media type
/// and owner (NIK; None for the letter), and per official whether their evidence is complete.
#[derive(Debug, Clone)]
pub struct CheckedSubmission {
    /// The unit the submission is filed for.
    pub operator_unit: String,
    /// Per evidence file, in upload order.
    pub files: Vec<(MediaType, Option<String>)>,
    /// Per official, in input order.
    pub complete: Vec<bool>,
}

/// A recorded submission.
#[derive(Debug, Clone)]
pub struct SubmissionOutcome {
    /// Its id (`sub-...`).
    pub submission_id: String,
    /// The requests made, one per official.
    pub requests: Vec<RaRequest>,
}

/// Common passwords and Indonesian favourites, lower-case; a passphrase equal to one of them,
/// optionally followed by digits or punctuation, is refused.
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "passw0rd",
    "passphrase",
    "12345678",
    "123456789",
    "1234567890",
    "87654321",
    "11111111",
    "00000000",
    "qwertyui",
    "qwerty",
    "qwertyuiop",
    "asdfghjkl",
    "iloveyou",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "welcome",
    "admin",
    "administrator",
    "letmein",
    "monkey",
    "dragon",
    "superman",
    "trustno1",
    "abcdefgh",
    "abc12345",
    "indonesia",
    "jakarta",
    "bismillah",
    "alhamdulillah",
    "sayang",
    "sayangku",
    "rahasia",
    "katasandi",
    "kata sandi",
    "merdeka",
    "garuda",
    "pancasila",
    "bandung",
    "surabaya",
    "semarang",
    "yogyakarta",
    "kominfo",
    "diskominfo",
    "pemda",
    "pemkot",
    "pemkab",
    "bsre",
    "bssn",
    "tandatangan",
    "tanda tangan",
    "sahih",
    "rahasiaku",
    "cintaku",
    "anakku",
    "doraemon",
];

/// The checks on a passphrase an official chooses: length, a list of common passwords, and
/// nothing that is just their own NIK, NIP, name or e-mail.
pub fn check_new_passphrase(passphrase: &str, official: &NewOfficial) -> Result<(), CoreError> {
    crate::service::check_passphrase_policy(passphrase)?;
    let lower = passphrase.to_lowercase();
    let core = lower.trim_end_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    let core = core.trim_start_matches(|c: char| c.is_ascii_digit() || c.is_ascii_punctuation());
    if core.is_empty() || COMMON_PASSWORDS.contains(&core) || COMMON_PASSWORDS.contains(&&*lower) {
        return Err(CoreError::WeakPassphrase(crate::Text::new(
            "terlalu umum, mudah ditebak",
            "too common, easy to guess",
        )));
    }
    let mut chars = lower.chars();
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return Err(CoreError::WeakPassphrase(crate::Text::new(
            "satu karakter berulang",
            "one repeated character",
        )));
    }
    let compact: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    let email_local = official
        .email
        .split('@')
        .next()
        .unwrap_or("")
        .to_lowercase();
    let name: String = official
        .name
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect();
    for personal in [&official.nik, &official.nip, &email_local, &name] {
        let personal: String = personal
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        if personal.len() >= 4 && compact.contains(&personal) {
            return Err(CoreError::WeakPassphrase(crate::Text::new(
                "memuat NIK, NIP, nama atau e-mail",
                "contains your NIK, NIP, name or e-mail",
            )));
        }
    }
    Ok(())
}

fn random_token(bytes: usize) -> Result<String, CoreError> {
    use base64::Engine;
    let mut b = vec![0u8; bytes];
    aws_lc_rs::rand::fill(&mut b)
        .map_err(|_| CoreError::Service("the system random generator failed".into()))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

/// What an official sees when opening a live activation link.
#[derive(Debug, Clone)]
pub struct ActivationView {
    /// The request being activated.
    pub request: RaRequest,
    /// When the link stops working.
    pub expires_at: OffsetDateTime,
}

impl<S: Store> Sahih<S> {
    /// Destroys the token key behind a certificate that no longer signs (revoked, or made for
    /// an activation that lost a race), so the service's token PIN cannot use it. Audited; a
    /// failure is audited rather than returned, since the revocation already stands.
    pub(crate) async fn destroy_token_key(
        &self,
        nik: &str,
        cert_der: &[u8],
    ) -> Result<(), CoreError> {
        if !self.keys.is_token() {
            return Ok(());
        }
        let spki = sahih_pki::Certificate::from_der(cert_der)?.spki_der();
        let label = crate::keystore::official_key_label(nik);
        let (result, detail) = match self.keys.destroy_matching(&label, &spki) {
            Ok(n) => (AuditResult::Ok, format!("nik={nik} keys={n}")),
            Err(e) => (AuditResult::Failed, format!("nik={nik} error={e}")),
        };
        self.store
            .append_audit(&[
                AuditEvent::new(AuditAction::KeyDestroy, "system", result).detail(detail)
            ])
            .await?;
        Ok(())
    }

    /// The status of the official with this NIK.
    pub async fn status_of(&self, nik: &str) -> Result<Status, CoreError> {
        let official = self.store.official_by_nik(nik).await?;
        let cert = match &official {
            Some(o) => self.store.latest_certificate(o.id).await?,
            None => None,
        };
        Ok(effective_status(
            official.as_ref(),
            cert.as_ref(),
            OffsetDateTime::now_utc(),
        ))
    }

    /// Checks a lifecycle action for the official with this NIK against [`transition`].
    pub async fn check_transition(&self, nik: &str, action: Action) -> Result<Target, CoreError> {
        transition(self.status_of(nik).await?, action)
    }

    /// Everything [`Self::ra_submit`] checks before it stores anything: the operator's role and
    /// unit, each official's identity, and each evidence file (size, PDF/JPEG/PNG by content,
    /// whose it is, and completeness when `require_complete`). Pages call it to show a preview
    /// only of a submission that can be sent.
    pub fn ra_check_submission(
        &self,
        staff: &Staff,
        input: &SubmissionInput,
    ) -> Result<CheckedSubmission, CoreError> {
        if !staff.may(crate::clients::Capability::SubmitRegistration) {
            return Err(forbidden(
                "Hanya operator OPD yang dapat mengajukan permohonan",
                "Only an OPD operator can submit requests",
            ));
        }
        let Some(operator_unit) = staff.unit.as_deref() else {
            return Err(forbidden(
                "Akun operator ini tidak terikat pada unit kerja",
                "This operator account is not bound to a unit",
            ));
        };
        if input.officials.is_empty() {
            return Err(CoreError::invalid(
                "permohonan harus menyebut sekurang-kurangnya satu pejabat",
                "a request names at least one official",
            ));
        }
        let max_bytes = self.config.ra.max_evidence_mib.max(1) * 1024 * 1024;
        let mut seen = std::collections::HashSet::new();
        for o in &input.officials {
            crate::identity::validate_official(&self.identity(o))?;
            if !seen.insert(o.nik.clone()) {
                return Err(CoreError::invalid(
                    format!("NIK {} muncul dua kali dalam permohonan", o.nik),
                    format!("NIK {} appears twice in the request", o.nik),
                ));
            }
            if input.kind != RequestKind::Mutasi && !same_unit(&o.unit, operator_unit) {
                return Err(forbidden(
                    &format!(
                        "Operator unit {operator_unit} tidak dapat mengajukan untuk unit {}",
                        o.unit
                    ),
                    &format!(
                        "An operator of {operator_unit} cannot submit for unit {}",
                        o.unit
                    ),
                ));
            }
        }
        let mut files = Vec::new();
        for upload in &input.evidence {
            if upload.bytes.len() as u64 > max_bytes {
                return Err(CoreError::Evidence(format!(
                    "{} is larger than {} MiB",
                    upload.kind.as_str(),
                    self.config.ra.max_evidence_mib
                )));
            }
            let media = sniff(&upload.bytes).ok_or_else(|| {
                CoreError::Evidence(format!(
                    "{} is not a complete PDF, JPEG or PNG file",
                    upload.kind.as_str()
                ))
            })?;
            let owner = if upload.kind != EvidenceKind::SuratPermohonan {
                let owner = match (&upload.nik, input.officials.len()) {
                    (Some(n), _) => n.clone(),
                    (None, 1) => input.officials[0].nik.clone(),
                    (None, _) => {
                        return Err(CoreError::Evidence(format!(
                            "{} in a collective request must name its official (e.g. {}_<NIK>)",
                            upload.kind.as_str(),
                            upload.kind.as_str()
                        )));
                    }
                };
                if !input.officials.iter().any(|o| o.nik == owner) {
                    return Err(CoreError::Evidence(format!(
                        "{} names NIK {owner}, who is not in the request",
                        upload.kind.as_str()
                    )));
                }
                Some(owner)
            } else {
                None
            };
            files.push((media, owner));
        }
        let has_letter = input
            .evidence
            .iter()
            .any(|u| u.kind == EvidenceKind::SuratPermohonan);
        let mut complete = Vec::new();
        for o in &input.officials {
            let missing: Vec<&str> =
                input
                    .kind
                    .required_evidence()
                    .iter()
                    .filter(|k| {
                        !input.evidence.iter().zip(&files).any(|(u, (_, owner))| {
                            u.kind == **k && owner.as_deref() == Some(&o.nik)
                        })
                    })
                    .map(|k| k.as_str())
                    .chain((!has_letter).then_some("surat_permohonan"))
                    .collect();
            if !missing.is_empty() && input.require_complete {
                return Err(CoreError::Evidence(format!(
                    "missing for NIK {}: {}",
                    o.nik,
                    missing.join(", ")
                )));
            }
            complete.push(missing.is_empty());
        }
        Ok(CheckedSubmission {
            operator_unit: operator_unit.to_string(),
            files,
            complete,
        })
    }

    /// An operator submits a request for one or more officials (a collective request shares
    /// one letter). Evidence goes to the blob store with its hash; only PDF, JPEG and PNG, up to
    /// the configured size, recognised by content.
    pub async fn ra_submit<B: crate::store::BlobStore>(
        &self,
        blobs: &B,
        staff: &Staff,
        input: SubmissionInput,
    ) -> Result<SubmissionOutcome, CoreError> {
        let CheckedSubmission {
            operator_unit,
            files,
            complete: complete_for,
        } = self.ra_check_submission(staff, &input)?;
        let operator_unit = operator_unit.as_str();
        let now = OffsetDateTime::now_utc();
        let submission_id = format!("sub-{}", crate::service::new_document_id());
        let mut items = Vec::new();
        let mut events = Vec::new();
        let accepted: Vec<(EvidenceUpload, MediaType, Option<String>)> = input
            .evidence
            .into_iter()
            .zip(files)
            .map(|(u, (media, owner))| (u, media, owner))
            .collect();
        for (o, complete) in input.officials.iter().zip(complete_for) {
            let existing = self.store.official_by_nik(&o.nik).await?;
            let cert = match &existing {
                Some(e) => self.store.latest_certificate(e.id).await?,
                None => None,
            };
            let status = effective_status(existing.as_ref(), cert.as_ref(), now);
            // An official on file belongs to the unit on file: only that unit's operator may
            // ask anything for them (a mutasi to another unit is filed by the current one).
            if let Some(e) = &existing
                && !same_unit(&e.unit, operator_unit)
            {
                return Err(forbidden(
                    &format!(
                        "NIK {} terdaftar pada unit {}; operator unit {operator_unit} tidak dapat mengajukan untuknya",
                        o.nik, e.unit
                    ),
                    &format!(
                        "NIK {} belongs to unit {}; an operator of {operator_unit} cannot file for them",
                        o.nik, e.unit
                    ),
                ));
            }
            let (change, mut path) = match input.kind {
                RequestKind::Enroll => match (&existing, status) {
                    (None, Status::NotRegistered) => {
                        transition(status, Action::Register)?;
                        (
                            OfficialChange::Insert(o.clone(), Status::New),
                            vec![(Status::NotRegistered, Action::Register, Status::New)],
                        )
                    }
                    // Sent back earlier: the operator submits again.
                    (Some(e), Status::New) => (OfficialChange::Stage(e.id, Status::New), vec![]),
                    _ => {
                        return Err(CoreError::InvalidTransition {
                            from: status.as_str(),
                            action: Action::Register.as_str(),
                        });
                    }
                },
                RequestKind::Renew | RequestKind::Mutasi | RequestKind::Reset => {
                    let Some(e) = &existing else {
                        return Err(CoreError::NikNotRegistered);
                    };
                    transition(status, Action::RequestRenewal)?;
                    (
                        OfficialChange::Stage(e.id, Status::Renew),
                        vec![(status, Action::RequestRenewal, Status::Renew)],
                    )
                }
            };
            let mut state = RequestState::New;
            let change = match change {
                OfficialChange::Insert(n, Status::New) if complete => {
                    transition(Status::New, Action::Submit)?;
                    path.push((Status::New, Action::Submit, Status::WaitingForVerification));
                    state = RequestState::WaitingForVerification;
                    OfficialChange::Insert(n, Status::WaitingForVerification)
                }
                OfficialChange::Stage(id, Status::New) if complete => {
                    transition(Status::New, Action::Submit)?;
                    path.push((Status::New, Action::Submit, Status::WaitingForVerification));
                    state = RequestState::WaitingForVerification;
                    OfficialChange::Stage(id, Status::WaitingForVerification)
                }
                // Renewals stay RENEW; the request itself waits for the verifikator.
                OfficialChange::Stage(id, Status::Renew) => {
                    if complete {
                        state = RequestState::WaitingForVerification;
                    }
                    OfficialChange::Stage(id, Status::Renew)
                }
                other => other,
            };
            let request = RaRequest {
                id: format!("req-{}", crate::service::new_document_id()),
                submission_id: submission_id.clone(),
                kind: input.kind,
                official: match (input.kind, &existing) {
                    (RequestKind::Enroll, _) | (_, None) => o.clone(),
                    // A mutasi changes the position, unit or name, never the e-mail the
                    // activation link goes to (that stays the official's own, on file).
                    (RequestKind::Mutasi, Some(e)) => NewOfficial {
                        email: e.email.clone(),
                        nik: e.nik.clone(),
                        ..o.clone()
                    },
                    // Renewal and reset keep the identity on file.
                    (_, Some(e)) => e.identity(),
                },
                state,
                official_id: existing.as_ref().map(|e| e.id),
                submitted_by: staff.name.clone(),
                submitted_unit: Some(operator_unit.to_string()),
                submitted_at: now,
                decided_by: None,
                decided_at: None,
                reason: None,
            };
            for (from, action, to) in path {
                events.push(status_event(
                    &request,
                    &staff.name,
                    from,
                    action,
                    to,
                    AuditResult::Ok,
                    None,
                ));
            }
            items.push((request, change));
        }
        // Store the files, then the records (a crash in between leaves only unreferenced blobs).
        let mut evidence = Vec::new();
        for (upload, media, owner) in accepted {
            let request_id = owner.as_ref().and_then(|nik| {
                items
                    .iter()
                    .find(|(r, _)| &r.official.nik == nik)
                    .map(|(r, _)| r.id.clone())
            });
            let owner = owner.as_deref().unwrap_or("surat");
            evidence.push(
                store_evidence(blobs, &submission_id, request_id, owner, upload, media).await?,
            );
        }
        events.push(
            AuditEvent::new(AuditAction::RaSubmission, &staff.name, AuditResult::Ok)
                .client(Some(&staff.name))
                .detail(format!(
                    "submission={submission_id} kind={} officials={} evidence=[{}]",
                    input.kind.as_str(),
                    items.len(),
                    evidence_digests(&evidence)
                )),
        );
        if let Err(e) = self
            .store
            .ra_submit(
                &submission_id,
                input.kind,
                &staff.name,
                &items,
                &evidence,
                &events,
            )
            .await
        {
            // Nothing refers to the files just stored (e-KTP scans among them): remove them
            // rather than leave personal data behind, e.g. for the losers of a duplicate race.
            for e in &evidence {
                let _ = blobs.delete(&e.blob_key).await;
            }
            return Err(match e {
                crate::store::StoreError::Conflict(_) => CoreError::AlreadyEnrolled,
                other => other.into(),
            });
        }
        Ok(SubmissionOutcome {
            submission_id,
            requests: items.into_iter().map(|(r, _)| r).collect(),
        })
    }

    /// A request, if the staff member may see it (operators: those filed from their unit).
    ///
    /// The filing unit, not the request's target, decides (security finding 15): a mutasi to
    /// another unit stays with the unit that filed it, where the official was on file, and the
    /// receiving unit's operator does not read its evidence.
    pub async fn ra_request_for(&self, staff: &Staff, id: &str) -> Result<RaRequest, CoreError> {
        let request = self
            .store
            .ra_request(id)
            .await?
            .map(without_placeholder)
            .ok_or_else(|| CoreError::NotFound(format!("request {id}")))?;
        if staff.role.unit_scoped() {
            let mine = staff
                .unit
                .as_deref()
                .zip(request.submitted_unit.as_deref())
                .is_some_and(|(mine, filed)| same_unit(mine, filed));
            if !mine {
                // Outside the operator's unit: as if it did not exist.
                return Err(CoreError::NotFound(format!("request {id}")));
            }
        }
        if !staff.may(crate::clients::Capability::ReadRegistrations)
            && !staff.may(crate::clients::Capability::SubmitRegistration)
        {
            return Err(forbidden(
                "Akun ini bukan petugas RA",
                "This account is not RA staff",
            ));
        }
        Ok(request)
    }

    /// Requests the staff member may read, newest first, optionally in one state; an operator sees
    /// only their unit's.
    pub async fn ra_list(
        &self,
        staff: &Staff,
        state: Option<RequestState>,
    ) -> Result<Vec<RaRequest>, CoreError> {
        if !staff.may(crate::clients::Capability::ReadRegistrations) {
            return Err(forbidden(
                "Akun ini bukan petugas RA",
                "This account is not RA staff",
            ));
        }
        let unit = if staff.role.unit_scoped() {
            Some(
                staff
                    .unit
                    .clone()
                    .filter(|u| !u.trim().is_empty())
                    .ok_or_else(|| {
                        forbidden(
                            "Akun operator ini tidak terikat pada unit kerja",
                            "This operator account is not bound to a unit",
                        )
                    })?,
            )
        } else {
            None
        };
        Ok(self
            .store
            .ra_requests(state, unit.as_deref())
            .await?
            .into_iter()
            .map(without_placeholder)
            .collect())
    }

    /// Every evidence file of a request is still in storage and matches its recorded hash.
    async fn check_evidence_intact<B: crate::store::BlobStore>(
        &self,
        blobs: &B,
        request: &RaRequest,
    ) -> Result<(), CoreError> {
        for evidence in self
            .store
            .ra_evidence(&request.submission_id, &request.id)
            .await?
        {
            intact_evidence_bytes(blobs, &evidence).await?;
        }
        Ok(())
    }

    /// The evidence of a request with its bytes, each checked against its recorded hash.
    pub async fn ra_evidence_file<B: crate::store::BlobStore>(
        &self,
        blobs: &B,
        staff: &Staff,
        request_id: &str,
        kind: EvidenceKind,
    ) -> Result<(Evidence, Vec<u8>), CoreError> {
        let request = self.ra_request_for(staff, request_id).await?;
        let evidence = self
            .store
            .ra_evidence(&request.submission_id, &request.id)
            .await?
            .into_iter()
            .find(|e| e.kind == kind)
            .ok_or_else(|| CoreError::NotFound(format!("{} of {request_id}", kind.as_str())))?;
        let bytes = intact_evidence_bytes(blobs, &evidence).await?;
        Ok((evidence, bytes))
    }

    /// Adds evidence to a request that is still NEW (e.g. registered through the ECS endpoint);
    /// when the evidence is complete the request goes to verification.
    pub async fn ra_add_evidence<B: crate::store::BlobStore>(
        &self,
        blobs: &B,
        staff: &Staff,
        request_id: &str,
        uploads: Vec<EvidenceUpload>,
    ) -> Result<RaRequest, CoreError> {
        let request = self.ra_request_for(staff, request_id).await?;
        if !staff.may(crate::clients::Capability::SubmitRegistration) {
            return Err(forbidden(
                "Hanya operator OPD yang dapat melengkapi berkas",
                "Only an OPD operator can add evidence",
            ));
        }
        if request.state != RequestState::New {
            return Err(CoreError::InvalidTransition {
                from: request.state.as_str(),
                action: "add-evidence",
            });
        }
        let max_bytes = self.config.ra.max_evidence_mib.max(1) * 1024 * 1024;
        let mut evidence = Vec::new();
        for u in uploads {
            if u.bytes.len() as u64 > max_bytes {
                return Err(CoreError::Evidence(format!(
                    "{} is larger than {} MiB",
                    u.kind.as_str(),
                    self.config.ra.max_evidence_mib
                )));
            }
            let media = sniff(&u.bytes).ok_or_else(|| {
                CoreError::Evidence(format!(
                    "{} is not a complete PDF, JPEG or PNG file",
                    u.kind.as_str()
                ))
            })?;
            // A registration without a NIK yet: its request id names the file instead.
            let owner = if request.official.nik.is_empty() {
                request.id.as_str()
            } else {
                request.official.nik.as_str()
            };
            let request_id = (u.kind != EvidenceKind::SuratPermohonan).then(|| request.id.clone());
            evidence.push(
                store_evidence(blobs, &request.submission_id, request_id, owner, u, media).await?,
            );
        }
        let mut have: Vec<EvidenceKind> = self
            .store
            .ra_evidence(&request.submission_id, &request.id)
            .await?
            .iter()
            .map(|e| e.kind)
            .collect();
        have.extend(evidence.iter().map(|e| e.kind));
        let complete = have.contains(&EvidenceKind::SuratPermohonan)
            && request
                .kind
                .required_evidence()
                .iter()
                .all(|k| have.contains(k));
        // An ECS registration whose identity is still incomplete has no official yet: its
        // evidence is kept and it goes to verification when the identity is completed.
        let official_id = match request.official_id {
            Some(id) => Some(id),
            None if pending_identity(&request) => None,
            None => return Err(CoreError::NotFound(format!("official of {request_id}"))),
        };
        let complete = complete && official_id.is_some();
        let mut events = vec![
            AuditEvent::new(AuditAction::RaEvidence, &staff.name, AuditResult::Ok)
                .client(Some(&staff.name))
                .detail(format!(
                    "request={} evidence=[{}]",
                    request.id,
                    evidence_digests(&evidence)
                )),
        ];
        let submit = if complete {
            let current = self.status_of(&request.official.nik).await?;
            match current {
                Status::New => {
                    transition(current, Action::Submit)?;
                    events.push(status_event(
                        &request,
                        &staff.name,
                        current,
                        Action::Submit,
                        Status::WaitingForVerification,
                        AuditResult::Ok,
                        None,
                    ));
                    official_id
                }
                // A renewal waits in RENEW; only the request moves.
                Status::Renew => Some(-1),
                other => {
                    return Err(CoreError::InvalidTransition {
                        from: other.as_str(),
                        action: Action::Submit.as_str(),
                    });
                }
            }
        } else {
            None
        };
        if !self
            .store
            .ra_add_evidence(&request.id, &evidence, submit, &events)
            .await?
        {
            return Err(CoreError::InvalidTransition {
                from: "WAITING_FOR_VERIFICATION",
                action: "add-evidence",
            });
        }
        self.ra_request_for(staff, request_id).await
    }

    /// A verifikator approves (`reason` optional) or rejects (`reason` required) a request.
    /// On approval the official gets a single-use activation link by e-mail; for a change of
    /// position the old certificate is revoked at once (affiliationChanged).
    pub async fn ra_decide<B: crate::store::BlobStore>(
        &self,
        blobs: &B,
        staff: &Staff,
        request_id: &str,
        approve: bool,
        reason: Option<&str>,
        lang: Lang,
    ) -> Result<RaRequest, CoreError> {
        let request = self.ra_request_for(staff, request_id).await?;
        let action = if approve {
            Action::Approve
        } else {
            Action::Reject
        };
        let refuse = |why_id: &str, why_en: &str| forbidden(why_id, why_en);
        let outcome = if !staff.may(crate::clients::Capability::DecideRegistration) {
            Err(refuse(
                "Hanya verifikator yang dapat memutus permohonan",
                "Only a verifikator can decide requests",
            ))
        } else if self.same_person(staff, &request.submitted_by).await? {
            Err(refuse(
                "Verifikator tidak dapat memutus permohonan yang ia ajukan sendiri",
                "A verifikator cannot decide a request they submitted",
            ))
        } else if staff.person_nik.as_deref() == Some(request.official.nik.as_str()) {
            Err(refuse(
                "Verifikator tidak dapat memutus permohonan atas dirinya sendiri",
                "A verifikator cannot decide a request about themselves",
            ))
        } else if !approve && reason.is_none_or(|r| r.trim().is_empty()) {
            Err(CoreError::invalid(
                "penolakan harus disertai alasan",
                "a rejection needs a reason (alasan)",
            ))
        } else if let Err(e) = check_reason(reason.unwrap_or("")) {
            Err(e)
        } else if request.state == RequestState::New && !approve {
            // An incomplete request (e.g. an ECS registration whose evidence never came) is
            // closed without touching the official's status beyond leaving the renewal.
            return self
                .ra_withdraw(staff, request, reason.unwrap_or(""), lang)
                .await;
        } else if request.state != RequestState::WaitingForVerification {
            Err(CoreError::InvalidTransition {
                from: request.state.as_str(),
                action: action.as_str(),
            })
        } else {
            Ok(())
        };
        if let Err(e) = outcome {
            // Refusals of duty separation are audited: an auditor wants to see attempts.
            if matches!(e, CoreError::Forbidden { .. }) {
                self.store
                    .append_audit(&[AuditEvent::new(
                        AuditAction::Ra(action),
                        &staff.name,
                        AuditResult::Refused,
                    )
                    .client(Some(&staff.name))
                    .detail(format!("request={} role={}", request.id, staff.role))])
                    .await?;
            }
            return Err(e);
        }
        if approve {
            // A certificate is issued on this evidence: it must still be what was uploaded
            // (reads check it too, but a verifikator may approve without opening every file).
            self.check_evidence_intact(blobs, &request).await?;
            // Only complete requests reach verification; checked again here so that no path
            // (an ECS registration completed bit by bit) can certify a half-known person.
            let missing = self.missing_for(&request).await?;
            if !missing.is_empty() {
                return Err(CoreError::invalid(
                    format!(
                        "permohonan belum lengkap, tidak dapat disetujui: {}",
                        missing.join(", ")
                    ),
                    format!("the request is incomplete: {}", missing.join(", ")),
                ));
            }
        }
        let official_id = request
            .official_id
            .ok_or_else(|| CoreError::NotFound(format!("official of {request_id}")))?;
        let from = self.status_of(&request.official.nik).await?;
        let target = transition(from, action)?;
        let now = OffsetDateTime::now_utc();
        let (to_status, official_stage) = match target {
            Target::Stage(s) => (s, Some(s)),
            Target::FromCertificate => {
                // Back to what the certificate says (a rejected renewal).
                let official =
                    self.store
                        .official_by_id(official_id)
                        .await?
                        .map(|o| OfficialRecord {
                            ra_status: None,
                            ..o
                        });
                let cert = self.store.latest_certificate(official_id).await?;
                (
                    effective_status(official.as_ref(), cert.as_ref(), now),
                    None,
                )
            }
        };
        let mut decision = Decision {
            request_id: request.id.clone(),
            expected_state: RequestState::WaitingForVerification,
            new_state: if approve {
                RequestState::Approved
            } else {
                RequestState::Rejected
            },
            decided_by: staff.name.clone(),
            at: now,
            reason: reason.map(str::to_string),
            official_id: Some(official_id),
            official_stage,
            revoke: None,
            link: None,
            message: None,
        };
        let mut events = vec![status_event(
            &request,
            &staff.name,
            from,
            action,
            to_status,
            AuditResult::Ok,
            reason,
        )];
        if approve {
            if request.kind == RequestKind::Mutasi {
                decision.revoke = Some("affiliationChanged".into());
                events.push(
                    AuditEvent::new(AuditAction::Revoke, &staff.name, AuditResult::Ok)
                        .client(Some(&staff.name))
                        .detail(format!(
                            "nik={} reason=affiliationChanged request={}",
                            request.official.nik, request.id
                        )),
                );
            }
            let token = random_token(32)?;
            let expires = now + time::Duration::hours(ACTIVATION_LINK_HOURS);
            let link = format!("{}/aktivasi/{token}", self.config.base_url);
            decision.link = Some((crate::ids::token_sha256(&token), expires));
            decision.message = Some(
                self.sealed_outbox_message(activation_message(&request, &link, expires, lang))?,
            );
            events.push(
                AuditEvent::new(AuditAction::RaActivationLink, &staff.name, AuditResult::Ok)
                    .client(Some(&staff.name))
                    .detail(format!(
                        "request={} to={} expires={}",
                        request.id,
                        request.official.email,
                        expires.unix_timestamp()
                    )),
            );
        } else {
            decision.message = Some(self.sealed_outbox_message(rejection_message(
                &request,
                reason.unwrap_or(""),
                lang,
            ))?);
        }
        let revoked_live = match decision.revoke {
            Some(_) => self
                .store
                .latest_certificate(official_id)
                .await?
                .filter(|c| c.status != CertStatus::Revoke),
            None => None,
        };
        if !self.store.ra_decide(&decision, &events).await? {
            return Err(CoreError::InvalidTransition {
                from: "decided",
                action: action.as_str(),
            });
        }
        if let Some(old) = revoked_live {
            self.destroy_token_key(&request.official.nik, &old.cert_der)
                .await?;
        }
        self.ra_request_for(staff, request_id).await
    }

    /// Closes a request that never became complete (state NEW): rejected with the reason and
    /// the official told; a renewal stage is left, an enrollment stays NEW for a new attempt.
    async fn ra_withdraw(
        &self,
        staff: &Staff,
        request: RaRequest,
        reason: &str,
        lang: Lang,
    ) -> Result<RaRequest, CoreError> {
        // None: an ECS registration whose identity was never completed has no official.
        let official_id = request.official_id;
        let official_stage = match request.kind {
            RequestKind::Enroll => Some(Status::New),
            RequestKind::Renew | RequestKind::Mutasi | RequestKind::Reset => None,
        };
        let decision = Decision {
            request_id: request.id.clone(),
            expected_state: RequestState::New,
            new_state: RequestState::Rejected,
            decided_by: staff.name.clone(),
            at: OffsetDateTime::now_utc(),
            reason: Some(reason.to_string()),
            official_id,
            official_stage,
            revoke: None,
            link: None,
            message: Some(self.sealed_outbox_message(rejection_message(&request, reason, lang))?),
        };
        let event = AuditEvent::new(AuditAction::RaWithdraw, &staff.name, AuditResult::Ok)
            .client(Some(&staff.name))
            .detail(format!(
                "nik={} request={} kind={} reason={}",
                request.official.nik,
                request.id,
                request.kind.as_str(),
                reason.replace('\n', " ")
            ));
        if !self
            .store
            .ra_decide(&decision, std::slice::from_ref(&event))
            .await?
        {
            return Err(CoreError::InvalidTransition {
                from: "decided",
                action: "withdraw",
            });
        }
        self.ra_request_for(staff, &request.id).await
    }

    /// A new activation link for an approved request whose link expired or was lost
    /// (verifikators only, with the same separation of duties as a decision); the earlier
    /// links stop working.
    pub async fn ra_resend_link(
        &self,
        staff: &Staff,
        request_id: &str,
        lang: Lang,
    ) -> Result<RaRequest, CoreError> {
        let request = self.ra_request_for(staff, request_id).await?;
        if !staff.may(crate::clients::Capability::DecideRegistration) {
            return Err(forbidden(
                "Hanya verifikator yang dapat mengirim ulang tautan aktivasi",
                "Only a verifikator can send a new activation link",
            ));
        }
        if staff.person_nik.as_deref() == Some(request.official.nik.as_str()) {
            return Err(forbidden(
                "Verifikator tidak dapat mengirim tautan aktivasi untuk dirinya sendiri",
                "A verifikator cannot send an activation link to themselves",
            ));
        }
        if request.state != RequestState::Approved {
            return Err(CoreError::InvalidTransition {
                from: request.state.as_str(),
                action: "resend-link",
            });
        }
        let official_id = request
            .official_id
            .ok_or_else(|| CoreError::NotFound(format!("official of {request_id}")))?;
        let token = random_token(32)?;
        let now = OffsetDateTime::now_utc();
        let expires = now + time::Duration::hours(ACTIVATION_LINK_HOURS);
        let link = format!("{}/aktivasi/{token}", self.config.base_url);
        let message =
            self.sealed_outbox_message(activation_message(&request, &link, expires, lang))?;
        let events = [
            AuditEvent::new(AuditAction::RaActivationLink, &staff.name, AuditResult::Ok)
                .client(Some(&staff.name))
                .detail(format!(
                    "request={} to={} expires={} resent=true",
                    request.id,
                    request.official.email,
                    expires.unix_timestamp()
                )),
        ];
        if !self
            .store
            .ra_relink(
                &request.id,
                official_id,
                (&crate::ids::token_sha256(&token), expires),
                &message,
                &events,
            )
            .await?
        {
            return Err(CoreError::InvalidTransition {
                from: "not approved",
                action: "resend-link",
            });
        }
        Ok(request)
    }

    /// Ends a renewal in progress (open requests closed, links used up) because the official's
    /// certificate is being revoked or suspended.
    pub(crate) async fn close_renewal(
        &self,
        official_id: i64,
        nik: &str,
        why: &str,
        actor: &str,
    ) -> Result<u64, CoreError> {
        let event = AuditEvent::new(AuditAction::RaClose, actor, AuditResult::Ok)
            .detail(format!("nik={nik} reason={why} from=RENEW"));
        Ok(self
            .store
            .ra_close_open(
                official_id,
                why,
                OffsetDateTime::now_utc(),
                std::slice::from_ref(&event),
            )
            .await?)
    }

    /// What the official sees when opening an activation link; errors when the link is
    /// unknown, used or expired.
    pub async fn activation_view(&self, token: &str) -> Result<ActivationView, CoreError> {
        let link = self
            .store
            .activation_link(&crate::ids::token_sha256(token), OffsetDateTime::now_utc())
            .await?
            .ok_or(CoreError::ActivationLinkInvalid)?;
        let request = self
            .store
            .ra_request(&link.request_id)
            .await?
            .ok_or(CoreError::ActivationLinkInvalid)?;
        Ok(ActivationView {
            request,
            expires_at: link.expires_at,
        })
    }

    /// The official chooses their passphrase: only now is the key pair generated and the
    /// certificate issued. The link works once; the passphrase is checked before it is used up,
    /// so a rejected passphrase can be corrected.
    pub async fn activate(
        &self,
        token: &str,
        passphrase: &str,
    ) -> Result<crate::EnrollOutcome, CoreError> {
        let view = self.activation_view(token).await?;
        let request = view.request;
        check_new_passphrase(passphrase, &request.official)?;
        let official_id = request
            .official_id
            .ok_or(CoreError::ActivationLinkInvalid)?;
        let from = self.status_of(&request.official.nik).await?;
        if let Err(e) = transition(from, Action::Activate) {
            // Another click on the same link may have just won: say so rather than 409.
            self.activation_view(token).await?;
            return Err(e);
        }
        let alg: KeyAlgorithm = self.config.keys.official;
        let issued = self.issue_for(&request.official, alg, passphrase).await?;
        let certificate = issued.certificate.clone();
        let now = OffsetDateTime::now_utc();
        let revoke_others = match request.kind {
            RequestKind::Enroll => None,
            // Mutasi: already revoked (affiliationChanged) on approval; anything live left is
            // superseded, as for a renewal or a reset.
            RequestKind::Renew | RequestKind::Mutasi | RequestKind::Reset => {
                Some("superseded".to_string())
            }
        };
        let events = vec![
            status_event(
                &request,
                &request.official.nik,
                from,
                Action::Activate,
                Status::Issue,
                AuditResult::Ok,
                None,
            )
            .detail(format!(
                "nik={} request={} kind={} serial={} from={} to=ISSUE",
                request.official.nik,
                request.id,
                request.kind.as_str(),
                certificate.serial_hex(),
                from.as_str()
            )),
        ];
        let activation = Activation {
            token_sha256: crate::ids::token_sha256(token),
            at: now,
            request_id: request.id.clone(),
            official_id,
            identity: request.official.clone(),
            certificate: issued.into_new_certificate(official_id),
            revoke_others,
        };
        let previous = self
            .store
            .latest_certificate(official_id)
            .await?
            .filter(|c| c.status != CertStatus::Revoke && activation.revoke_others.is_some());
        let new_cert = certificate.der.clone();
        match self.store.ra_activate(&activation, &events).await {
            Ok(true) => {}
            Ok(false) => {
                // Another click won: this key is referenced by nothing.
                self.destroy_token_key(&request.official.nik, &new_cert)
                    .await?;
                return Err(CoreError::ActivationLinkInvalid);
            }
            Err(e) => {
                self.destroy_token_key(&request.official.nik, &new_cert)
                    .await?;
                return Err(e.into());
            }
        }
        if let Some(old) = previous {
            self.destroy_token_key(&request.official.nik, &old.cert_der)
                .await?;
        }
        Ok(crate::EnrollOutcome {
            official_id,
            certificate,
        })
    }
}

fn status_event(
    request: &RaRequest,
    actor: &str,
    from: Status,
    action: Action,
    to: Status,
    result: AuditResult,
    reason: Option<&str>,
) -> AuditEvent {
    AuditEvent::new(AuditAction::Ra(action), actor, result)
        .client(Some(actor))
        .detail(format!(
            "nik={} request={} kind={} from={} to={}{}",
            request.official.nik,
            request.id,
            request.kind.as_str(),
            from.as_str(),
            to.as_str(),
            reason
                .map(|r| format!(" reason={}", r.replace('\n', " ")))
                .unwrap_or_default()
        ))
}

fn activation_message(
    request: &RaRequest,
    link: &str,
    expires: OffsetDateTime,
    lang: Lang,
) -> OutboxMessage {
    let (subject, body) = match lang {
        Lang::Id => (
            "Aktivasi sertifikat elektronik".to_string(),
            format!(
                "Yth. {name},\n\nPermohonan sertifikat elektronik Anda ({kind}) telah diverifikasi.\n\
                 Buka tautan berikut untuk memilih passphrase Anda sendiri; setelah itu kunci dan\n\
                 sertifikat Anda dibuat:\n\n{link}\n\nTautan hanya dapat dipakai sekali dan berlaku sampai {until}.\n\
                 Jangan teruskan tautan ini kepada siapa pun. Petugas tidak akan pernah menanyakan passphrase Anda.\n",
                name = request.official.name,
                kind = request.kind.as_str(),
                until = format_wib(expires, Lang::Id)
            ),
        ),
        Lang::En => (
            "Activate your electronic certificate".to_string(),
            format!(
                "Dear {name},\n\nYour certificate request ({kind}) was verified.\n\
                 Open this link to choose your own passphrase; your key and certificate are made then:\n\n{link}\n\n\
                 The link works once and expires at {until}.\n\
                 Do not forward it. Staff will never ask for your passphrase.\n",
                name = request.official.name,
                kind = request.kind.as_str(),
                until = format_wib(expires, Lang::En)
            ),
        ),
    };
    OutboxMessage {
        recipient: request.official.email.clone(),
        subject,
        body,
    }
}

fn rejection_message(request: &RaRequest, reason: &str, lang: Lang) -> OutboxMessage {
    let (subject, body) = match lang {
        Lang::Id => (
            "Permohonan sertifikat elektronik dikembalikan".to_string(),
            format!(
                "Yth. {},\n\nPermohonan sertifikat elektronik Anda dikembalikan oleh verifikator.\nAlasan: {reason}\n\
                 Silakan hubungi operator OPD Anda untuk melengkapi permohonan.\n",
                request.official.name
            ),
        ),
        Lang::En => (
            "Certificate request returned".to_string(),
            format!(
                "Dear {},\n\nYour certificate request was returned by the verifikator.\nReason: {reason}\n\
                 Please contact your OPD operator to complete it.\n",
                request.official.name
            ),
        ),
    };
    OutboxMessage {
        recipient: request.official.email.clone(),
        subject,
        body,
    }
}

/// What the NIK column holds for a request whose official has no NIK yet. The column is NOT NULL
/// and at most one open request per NIK may exist, so the placeholder is unique per request; it
/// can never be a NIK (those are 16 digits), and nothing outside this module sees it: requests
/// are read through [`without_placeholder`].
const PLACEHOLDER_NIK: &str = "belum-ada:";

fn placeholder_nik(request_id: &str) -> String {
    format!("{PLACEHOLDER_NIK}{request_id}")
}

fn without_placeholder(mut request: RaRequest) -> RaRequest {
    if request.official.nik.starts_with(PLACEHOLDER_NIK) {
        request.official.nik.clear();
    }
    request
}

/// The identity as stored: an empty NIK becomes the request's placeholder.
fn stored_identity(request_id: &str, official: &NewOfficial) -> NewOfficial {
    let mut o = official.clone();
    if o.nik.trim().is_empty() {
        o.nik = placeholder_nik(request_id);
    }
    o
}

/// Whether a request is an ECS registration whose identity is still being completed: no
/// official on file yet (one is recorded only with a complete, valid identity).
fn pending_identity(request: &RaRequest) -> bool {
    request.official_id.is_none()
        && request.state == RequestState::New
        && request.kind == RequestKind::Enroll
}

/// The identity fields still empty, by their ECS names (the juknis requires only `nama` and
/// `email`; the certificate needs all of them).
pub fn missing_identity(o: &NewOfficial) -> Vec<&'static str> {
    [
        ("nik", &o.nik),
        ("nip", &o.nip),
        ("nama", &o.name),
        ("email", &o.email),
        ("jabatan", &o.position),
        ("unit_kerja", &o.unit),
    ]
    .into_iter()
    .filter(|(_, v)| v.trim().is_empty())
    .map(|(n, _)| n)
    .collect()
}

/// Checks the identity fields that are present (a partial identity is checked field by field;
/// the whole one again when it is complete).
fn check_present_fields(o: &NewOfficial) -> Result<(), CoreError> {
    if !o.nik.is_empty() {
        crate::identity::validate_nik(&o.nik)?;
    }
    if !o.nip.is_empty() {
        crate::identity::validate_nip(&o.nip)?;
    }
    if !o.email.is_empty() {
        crate::identity::validate_email(&o.email)?;
    }
    Ok(())
}

fn trimmed(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// An ECS registration as received: the juknis body is `{nama, email}`; the rest is optional.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    /// NIK, if sent.
    pub nik: Option<String>,
    /// NIP, if sent.
    pub nip: Option<String>,
    /// Name (`nama`).
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Position (`jabatan`), if sent.
    pub position: Option<String>,
    /// Unit (`unit_kerja`), if sent; defaults to the filing account's unit.
    pub unit: Option<String>,
    /// Evidence sent along (letter, e-KTP scan, decree), any subset.
    pub evidence: Vec<EvidenceUpload>,
}

/// Identity fields to fill in or correct on a pending ECS registration; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct IdentityPatch {
    /// NIK.
    pub nik: Option<String>,
    /// NIP.
    pub nip: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Position.
    pub position: Option<String>,
    /// Unit.
    pub unit: Option<String>,
}

impl IdentityPatch {
    fn apply(self, o: &mut NewOfficial) {
        for (value, field) in [
            (self.nik, &mut o.nik),
            (self.nip, &mut o.nip),
            (self.name, &mut o.name),
            (self.email, &mut o.email),
            (self.position, &mut o.position),
            (self.unit, &mut o.unit),
        ] {
            if let Some(v) = trimmed(value) {
                *field = v;
            }
        }
    }

    fn only_unit(&self) -> Option<String> {
        let others = [
            &self.nik,
            &self.nip,
            &self.name,
            &self.email,
            &self.position,
        ];
        if others
            .iter()
            .any(|v| v.as_deref().is_some_and(|s| !s.trim().is_empty()))
        {
            return None;
        }
        trimmed(self.unit.clone())
    }
}

impl<S: Store> Sahih<S> {
    /// What keeps a request from verification: identity fields still empty and evidence not
    /// yet filed (the letter and the kind's files), by name.
    pub async fn missing_for(&self, request: &RaRequest) -> Result<Vec<String>, CoreError> {
        let mut missing: Vec<String> = missing_identity(&request.official)
            .into_iter()
            .map(str::to_string)
            .collect();
        let have: Vec<EvidenceKind> = self
            .store
            .ra_evidence(&request.submission_id, &request.id)
            .await?
            .iter()
            .map(|e| e.kind)
            .collect();
        for kind in std::iter::once(&EvidenceKind::SuratPermohonan)
            .chain(request.kind.required_evidence().iter())
        {
            if !have.contains(kind) {
                missing.push(kind.as_str().to_string());
            }
        }
        Ok(missing)
    }

    /// An evidence file's media type, after the size and content checks every upload gets.
    fn check_evidence_file(&self, upload: &EvidenceUpload) -> Result<MediaType, CoreError> {
        let max_bytes = self.config.ra.max_evidence_mib.max(1) * 1024 * 1024;
        if upload.bytes.len() as u64 > max_bytes {
            return Err(CoreError::Evidence(format!(
                "{} is larger than {} MiB",
                upload.kind.as_str(),
                self.config.ra.max_evidence_mib
            )));
        }
        sniff(&upload.bytes).ok_or_else(|| {
            CoreError::Evidence(format!(
                "{} is not a complete PDF, JPEG or PNG file",
                upload.kind.as_str()
            ))
        })
    }

    /// The ECS registration call (`/api/v2/user/registration`): records a NEW enrolment request
    /// attributed to the filing account, with whatever identity and evidence it carries.
    ///
    /// A complete identity filed from a unit is an ordinary submission ([`Self::ra_submit`]:
    /// the official is recorded NEW, or WAITING_FOR_VERIFICATION when the evidence is
    /// complete). Otherwise (fields missing, or an app without a unit) the request is recorded
    /// without an official until an operator of its unit completes the identity
    /// ([`Self::ra_complete_identity`]); one filed without a unit is seen only by verifikators
    /// until one of them hands it to a unit. Nothing here approves anything.
    pub async fn ra_register<B: crate::store::BlobStore>(
        &self,
        blobs: &B,
        staff: &Staff,
        registration: Registration,
    ) -> Result<RaRequest, CoreError> {
        if !staff.may(crate::clients::Capability::RegisterOfficial) {
            return Err(forbidden(
                "Hanya klien aplikasi atau operator OPD yang dapat mendaftarkan pengguna",
                "Only an app client or an OPD operator can register users",
            ));
        }
        let filing_unit = trimmed(staff.unit.clone());
        let unit = trimmed(registration.unit).or_else(|| filing_unit.clone());
        if let (Some(filing), Some(unit)) = (&filing_unit, &unit)
            && !same_unit(filing, unit)
        {
            return Err(forbidden(
                &format!("Akun unit {filing} tidak dapat mendaftarkan pegawai unit {unit}"),
                &format!("An account of {filing} cannot register an official of {unit}"),
            ));
        }
        let official = NewOfficial {
            nik: trimmed(registration.nik).unwrap_or_default(),
            nip: trimmed(registration.nip).unwrap_or_default(),
            name: registration.name.trim().to_string(),
            email: registration.email.trim().to_string(),
            position: trimmed(registration.position).unwrap_or_default(),
            unit: unit.unwrap_or_default(),
        };
        let missing = missing_identity(&official);
        if filing_unit.is_some() && missing.is_empty() {
            let outcome = self
                .ra_submit(
                    blobs,
                    staff,
                    SubmissionInput {
                        kind: RequestKind::Enroll,
                        officials: vec![official],
                        evidence: registration.evidence,
                        require_complete: false,
                    },
                )
                .await?;
            return outcome
                .requests
                .into_iter()
                .next()
                .ok_or_else(|| CoreError::NotFound("request".into()));
        }
        check_present_fields(&official)?;
        let mut files = Vec::new();
        for upload in &registration.evidence {
            files.push(self.check_evidence_file(upload)?);
        }
        // A NIK already on file with a certificate (or a request under way) is registered.
        if !official.nik.is_empty() {
            let status = self.status_of(&official.nik).await?;
            if !matches!(status, Status::NotRegistered | Status::New) {
                return Err(CoreError::AlreadyEnrolled);
            }
        }
        let now = OffsetDateTime::now_utc();
        let submission_id = format!("sub-{}", crate::service::new_document_id());
        let request_id = format!("req-{}", crate::service::new_document_id());
        let request = RaRequest {
            id: request_id.clone(),
            submission_id: submission_id.clone(),
            kind: RequestKind::Enroll,
            official: stored_identity(&request_id, &official),
            state: RequestState::New,
            official_id: None,
            submitted_by: staff.name.clone(),
            submitted_unit: filing_unit.clone(),
            submitted_at: now,
            decided_by: None,
            decided_at: None,
            reason: None,
        };
        let mut evidence = Vec::new();
        for (upload, media) in registration.evidence.into_iter().zip(files) {
            let for_request =
                (upload.kind != EvidenceKind::SuratPermohonan).then(|| request_id.clone());
            evidence.push(
                store_evidence(
                    blobs,
                    &submission_id,
                    for_request,
                    &request_id,
                    upload,
                    media,
                )
                .await?,
            );
        }
        let event = AuditEvent::new(AuditAction::RaSubmission, &staff.name, AuditResult::Ok)
            .client(Some(&staff.name))
            .detail(format!(
                "submission={submission_id} request={request_id} kind=enroll via=ecs unit={} identity_missing=[{}] evidence=[{}]",
                filing_unit.as_deref().unwrap_or("-"),
                missing.join(","),
                evidence_digests(&evidence)
            ));
        if let Err(e) = self
            .store
            .ra_submit(
                &submission_id,
                RequestKind::Enroll,
                &staff.name,
                &[(request.clone(), OfficialChange::Pending)],
                &evidence,
                std::slice::from_ref(&event),
            )
            .await
        {
            for e in &evidence {
                let _ = blobs.delete(&e.blob_key).await;
            }
            return Err(match e {
                crate::store::StoreError::Conflict(_) => CoreError::AlreadyEnrolled,
                other => other.into(),
            });
        }
        Ok(without_placeholder(request))
    }

    /// Completes the identity of a pending ECS registration.
    ///
    /// An operator of the filing unit fills in or corrects fields; once every field is there
    /// and valid the official is recorded (NEW, or WAITING_FOR_VERIFICATION when the evidence
    /// is complete too), with the same checks as a submission (unit on file, a NIK already
    /// registered). A verifikator may only hand a registration filed without a unit to a unit
    /// (`unit` alone): the data stays for that unit's operator to confirm, so the person who
    /// decides never entered it.
    pub async fn ra_complete_identity(
        &self,
        staff: &Staff,
        request_id: &str,
        patch: IdentityPatch,
    ) -> Result<RaRequest, CoreError> {
        let request = self.ra_request_for(staff, request_id).await?;
        if !pending_identity(&request) {
            return Err(CoreError::InvalidTransition {
                from: request.state.as_str(),
                action: "complete-identity",
            });
        }
        let stale = || CoreError::InvalidTransition {
            from: "decided",
            action: "complete-identity",
        };
        if staff.may(crate::clients::Capability::DecideRegistration) {
            if let Some(unit) = &request.submitted_unit {
                return Err(forbidden(
                    &format!(
                        "Permohonan ini milik unit {unit}; operator unit itu yang melengkapinya"
                    ),
                    &format!("This request belongs to {unit}; its operator completes it"),
                ));
            }
            let Some(unit) = patch.only_unit() else {
                return Err(CoreError::invalid(
                    "verifikator hanya menetapkan unit_kerja; data pegawai dilengkapi operator unit",
                    "a verifikator only assigns the unit; the unit's operator completes the data",
                ));
            };
            let mut official = request.official.clone();
            official.unit = unit.clone();
            let event = AuditEvent::new(AuditAction::RaIdentity, &staff.name, AuditResult::Ok)
                .client(Some(&staff.name))
                .detail(format!("request={} assigned_unit={unit}", request.id));
            if !self
                .store
                .ra_complete_identity(
                    &request.id,
                    &stored_identity(&request.id, &official),
                    Some(&unit),
                    None,
                    RequestState::New,
                    std::slice::from_ref(&event),
                )
                .await?
            {
                return Err(stale());
            }
            return self.ra_request_for(staff, request_id).await;
        }
        if !staff.may(crate::clients::Capability::SubmitRegistration) {
            return Err(forbidden(
                "Hanya operator OPD yang dapat melengkapi data pendaftaran",
                "Only an OPD operator can complete a registration",
            ));
        }
        // `ra_request_for` showed the request to this unit-scoped account: it was filed (or
        // handed) to their unit.
        let Some(unit) = trimmed(staff.unit.clone()) else {
            return Err(forbidden(
                "Akun operator ini tidak terikat pada unit kerja",
                "This operator account is not bound to a unit",
            ));
        };
        let mut official = request.official.clone();
        patch.apply(&mut official);
        if official.unit.is_empty() {
            official.unit = unit.clone();
        }
        if !same_unit(&official.unit, &unit) {
            return Err(forbidden(
                &format!(
                    "Operator unit {unit} tidak dapat mendaftarkan untuk unit {}",
                    official.unit
                ),
                &format!(
                    "An operator of {unit} cannot register for unit {}",
                    official.unit
                ),
            ));
        }
        let missing = missing_identity(&official);
        let updated = RaRequest {
            official: official.clone(),
            ..request.clone()
        };
        let mut events = vec![
            AuditEvent::new(AuditAction::RaIdentity, &staff.name, AuditResult::Ok)
                .client(Some(&staff.name))
                .detail(format!(
                    "request={} nik={} identity_missing=[{}]",
                    request.id,
                    if official.nik.is_empty() {
                        "-"
                    } else {
                        official.nik.as_str()
                    },
                    missing.join(",")
                )),
        ];
        let (change, state) = if missing.is_empty() {
            crate::identity::validate_official(&self.identity(&official))?;
            let existing = self.store.official_by_nik(&official.nik).await?;
            let evidence_missing = self.missing_for(&updated).await?;
            let complete = evidence_missing.is_empty();
            let (stage, state) = if complete {
                (
                    Status::WaitingForVerification,
                    RequestState::WaitingForVerification,
                )
            } else {
                (Status::New, RequestState::New)
            };
            let change = match existing {
                None => {
                    transition(Status::NotRegistered, Action::Register)?;
                    events.push(status_event(
                        &updated,
                        &staff.name,
                        Status::NotRegistered,
                        Action::Register,
                        Status::New,
                        AuditResult::Ok,
                        None,
                    ));
                    OfficialChange::Insert(official.clone(), stage)
                }
                Some(e) => {
                    if !same_unit(&e.unit, &unit) {
                        return Err(forbidden(
                            &format!(
                                "NIK {} terdaftar pada unit {}; operator unit {unit} tidak dapat mendaftarkannya",
                                e.nik, e.unit
                            ),
                            &format!("NIK {} belongs to unit {}", e.nik, e.unit),
                        ));
                    }
                    // Only a registration sent back earlier (NEW) may be filed again.
                    if self.status_of(&e.nik).await? != Status::New {
                        return Err(CoreError::AlreadyEnrolled);
                    }
                    OfficialChange::Stage(e.id, stage)
                }
            };
            if complete {
                transition(Status::New, Action::Submit)?;
                events.push(status_event(
                    &updated,
                    &staff.name,
                    Status::New,
                    Action::Submit,
                    Status::WaitingForVerification,
                    AuditResult::Ok,
                    None,
                ));
            }
            (Some(change), state)
        } else {
            check_present_fields(&official)?;
            (None, RequestState::New)
        };
        let done = self
            .store
            .ra_complete_identity(
                &request.id,
                &stored_identity(&request.id, &official),
                request.submitted_unit.as_deref(),
                change.as_ref(),
                state,
                &events,
            )
            .await
            .map_err(|e| match e {
                crate::store::StoreError::Conflict(_) => CoreError::AlreadyEnrolled,
                other => other.into(),
            })?;
        if !done {
            return Err(stale());
        }
        self.ra_request_for(staff, request_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_allows_the_seeds_path_and_nothing_skipped() {
        use Action as A;
        use Status as S;
        assert_eq!(
            transition(S::NotRegistered, A::Register).ok(),
            Some(Target::Stage(S::New))
        );
        assert_eq!(
            transition(S::New, A::Submit).ok(),
            Some(Target::Stage(S::WaitingForVerification))
        );
        assert_eq!(
            transition(S::WaitingForVerification, A::Approve).ok(),
            Some(Target::Stage(S::NoCertificate))
        );
        assert_eq!(
            transition(S::NoCertificate, A::Activate).ok(),
            Some(Target::FromCertificate)
        );
        // Skips are refused.
        for (from, action) in [
            (S::NotRegistered, A::Approve),
            (S::New, A::Approve),
            (S::New, A::Activate),
            (S::WaitingForVerification, A::Activate),
            (S::NoCertificate, A::Approve),
            (S::Issue, A::Activate),
            (S::Issue, A::Resume),
            (S::Suspend, A::Suspend),
            (S::Revoke, A::Resume),
            (S::Revoke, A::Suspend),
            (S::NotRegistered, A::Revoke),
            (S::WaitingForVerification, A::Register),
        ] {
            assert!(
                matches!(
                    transition(from, action),
                    Err(CoreError::InvalidTransition { .. })
                ),
                "{from:?} {action:?} must be refused"
            );
        }
        assert_eq!(
            transition(S::Issue, A::RequestRenewal).ok(),
            Some(Target::Stage(S::Renew))
        );
    }

    #[test]
    fn sniffing_is_by_content_and_needs_a_complete_file() {
        let pdf = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
        assert_eq!(sniff(&pdf), Some(MediaType::Pdf));
        assert_eq!(sniff(&pdf[..20]), None, "truncated PDF");
        // SOI, an APP0 segment of 16 bytes, EOI.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        jpeg.extend([0u8; 14]);
        jpeg.extend([0xFF, 0xD9]);
        assert_eq!(sniff(&jpeg), Some(MediaType::Jpeg));
        assert_eq!(sniff(&jpeg[..18]), None);
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend([0u8; 17]);
        png.extend(b"\0\0\0\0IEND\xaeB`\x82");
        let mut png_tail = png.clone();
        png_tail.extend(b"MZ");
        assert_eq!(sniff(&png_tail), None);
        assert_eq!(sniff(&png), Some(MediaType::Png));
        assert_eq!(sniff(b"MZ\x90\0 this is an executable file......"), None);
        assert_eq!(sniff(b"<html><body>%PDF-</body></html>"), None);
        // Security finding 12: an HTML page carrying a PDF, and an executable slipped between
        // JPEG segments, are not evidence.
        assert_eq!(
            sniff(b"<html><body>%PDF-1.7 1 0 obj<<>>endobj %%EOF</body></html>"),
            None
        );
        let mut polyglot = jpeg.clone();
        polyglot.splice(4..4, b"\x7fELF\x02\x01\x01\0\0\0\0\0".iter().copied());
        assert_eq!(sniff(&polyglot), None);
        let mut after = pdf.clone();
        after.extend(b"\x7fELF trailing executable");
        assert_eq!(sniff(&after), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn sniffing_never_panics_on_mutated_or_truncated_input() {
        // Deterministic mutation test: real headers, then random bytes, flips and cuts.
        let seeds: [&[u8]; 3] = [
            b"%PDF-1.7\n1 0 obj<<>>endobj\n%%EOF\n",
            b"\xFF\xD8\xFF\xE0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xFF\xD9",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\0\0\0\0IEND\xaeB`\x82",
        ];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..30_000 {
            let mut v = seeds[i % seeds.len()].to_vec();
            for _ in 0..(next() % 6) {
                let pos = (next() as usize) % v.len().max(1);
                match next() % 3 {
                    0 if !v.is_empty() => v[pos] ^= (next() & 0xFF) as u8,
                    1 => v.insert(pos.min(v.len()), (next() & 0xFF) as u8),
                    _ => v.truncate(pos),
                }
            }
            let _ = sniff(&v);
        }
    }

    #[test]
    fn passphrase_checks_refuse_common_and_personal_ones() {
        let o = NewOfficial {
            nik: "3573010101800001".into(),
            nip: "198001012005011001".into(),
            name: "Budi Santoso".into(),
            email: "budi.santoso@malangkota.go.id".into(),
            position: "Kepala Dinas".into(),
            unit: "Diskominfo".into(),
        };
        for weak in [
            "password123",
            "Bismillah2024!",
            "12345678",
            "aaaaaaaaaa",
            "x3573010101800001",
            "BudiSantoso88",
            "budi.santoso!!",
            "short",
        ] {
            assert!(
                matches!(
                    check_new_passphrase(weak, &o),
                    Err(CoreError::WeakPassphrase(_))
                ),
                "{weak} must be refused"
            );
        }
        check_new_passphrase("kopi tubruk di alun-alun batu", &o).unwrap();
    }
}
