//! Certificate path validation behind a project trait.

use time::OffsetDateTime;

use crate::certs::Certificate;

/// Maximum path length (certificates, leaf and anchor included).
pub const MAX_PATH_DEPTH: usize = 10;
/// Maximum number of complete candidate paths examined.
const MAX_CANDIDATES: usize = 64;

/// Result of path validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathOutcome {
    /// A valid path: leaf first, trust anchor last.
    Valid {
        /// leaf .. anchor
        chain: Vec<Certificate>,
    },
    /// No chain reaches a trust anchor (untrusted issuer or missing intermediate).
    NoChainToTrustAnchor {
        /// The longest chain that could be built (leaf first).
        partial_chain: Vec<Certificate>,
    },
    /// A certificate of the path has expired at the validation time.
    Expired {
        /// Subject of that certificate (RFC 4514).
        cert_subject: String,
        /// Its notAfter.
        not_after: OffsetDateTime,
    },
    /// A certificate of the path is not yet valid at the validation time.
    NotYetValid {
        /// Subject of that certificate.
        cert_subject: String,
        /// Its notBefore.
        not_before: OffsetDateTime,
    },
    /// A certificate's signature does not verify with its issuer's key.
    BadSignature {
        /// Subject of the certificate whose signature fails.
        cert_subject: String,
    },
    /// An issuer is not allowed to issue certificates (no CA:TRUE, no keyCertSign, or its
    /// pathLenConstraint is exceeded).
    NotACa {
        /// Subject of the offending issuer.
        cert_subject: String,
    },
}

impl PathOutcome {
    /// Whether the outcome is [`PathOutcome::Valid`].
    pub fn is_valid(&self) -> bool {
        matches!(self, PathOutcome::Valid { .. })
    }
}

/// Certificate path validation.
pub trait PathValidator {
    /// Validate `leaf` at time `at`, using `intermediates` (in any order, possibly with
    /// unrelated certificates) to build a path to a trust anchor.
    fn validate(
        &self,
        leaf: &Certificate,
        intermediates: &[Certificate],
        at: OffsetDateTime,
    ) -> PathOutcome;
}

/// Trust anchors.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    anchors: Vec<Certificate>,
}

impl TrustStore {
    /// A store with these anchors (duplicates removed).
    pub fn new(anchors: Vec<Certificate>) -> Self {
        let mut a: Vec<Certificate> = Vec::with_capacity(anchors.len());
        for c in anchors {
            if !a.iter().any(|x| x.der == c.der) {
                a.push(c);
            }
        }
        TrustStore { anchors: a }
    }

    /// The anchors.
    pub fn anchors(&self) -> &[Certificate] {
        &self.anchors
    }

    /// Add an anchor.
    pub fn add(&mut self, cert: Certificate) {
        if !self.anchors.iter().any(|x| x.der == cert.der) {
            self.anchors.push(cert);
        }
    }

    /// Whether `cert` is an anchor (same subject and same public key).
    pub fn is_anchor(&self, cert: &Certificate) -> bool {
        self.anchors.iter().any(|a| {
            a.subject_der_ref() == cert.subject_der_ref() && a.spki_der_ref() == cert.spki_der_ref()
        })
    }
}

/// A straightforward RFC 5280-style validator: builds candidate paths by issuer/subject name
/// (and AKI/SKI when both are present), without loops, at most [`MAX_PATH_DEPTH`]
/// certificates; checks signatures, CA constraints (basicConstraints cA, keyUsage
/// keyCertSign, pathLenConstraint) and validity periods (anchors included). Not handled:
/// name constraints, policy processing, unknown critical extensions, revocation (separate).
#[derive(Clone, Debug, Default)]
pub struct SimplePathValidator {
    /// The trust anchors.
    pub trust: TrustStore,
}

impl SimplePathValidator {
    /// Validator over `trust`.
    pub fn new(trust: TrustStore) -> Self {
        SimplePathValidator { trust }
    }
}

fn may_issue(issuer: &Certificate, child: &Certificate) -> bool {
    if issuer.subject_der_ref() != child.issuer_der_ref() {
        return false;
    }
    match (child.authority_key_id(), issuer.subject_key_id()) {
        (Some(aki), Some(ski)) => aki == ski,
        _ => true,
    }
}

/// Stage reached by a failing candidate (higher = closer to valid).
fn rank(o: &PathOutcome) -> u8 {
    match o {
        PathOutcome::Valid { .. } => 4,
        PathOutcome::Expired { .. } | PathOutcome::NotYetValid { .. } => 3,
        PathOutcome::NotACa { .. } => 2,
        PathOutcome::BadSignature { .. } => 1,
        PathOutcome::NoChainToTrustAnchor { .. } => 0,
    }
}

struct Search<'a> {
    trust: &'a TrustStore,
    pool: Vec<&'a Certificate>,
    complete: Vec<Vec<&'a Certificate>>,
    longest_partial: Vec<&'a Certificate>,
    /// Remaining node budget (hostile certificate pools must not blow up the search).
    budget: usize,
}

/// Maximum number of search nodes visited per validation.
const MAX_SEARCH_STEPS: usize = 10_000;

impl<'a> Search<'a> {
    fn extend(&mut self, path: &mut Vec<&'a Certificate>) {
        if self.complete.len() >= MAX_CANDIDATES || self.budget == 0 {
            return;
        }
        self.budget -= 1;
        let Some(&current) = path.last() else {
            return;
        };
        if path.len() > self.longest_partial.len() {
            self.longest_partial = path.clone();
        }
        if self.trust.is_anchor(current) {
            self.complete.push(path.clone());
            // An anchor ends the path: we do not go above a trust anchor.
            return;
        }
        if path.len() >= MAX_PATH_DEPTH {
            return;
        }
        // Candidates: anchors first (shortest paths), then the pool.
        let anchors: Vec<&'a Certificate> = self.trust.anchors().iter().collect();
        let candidates: Vec<&'a Certificate> = anchors
            .into_iter()
            .chain(self.pool.iter().copied())
            .filter(|c| may_issue(c, current))
            .filter(|c| !path.iter().any(|p| p.der == c.der))
            .collect();
        for c in candidates {
            path.push(c);
            self.extend(path);
            path.pop();
        }
    }
}

fn check_chain(chain: &[&Certificate], at: OffsetDateTime) -> PathOutcome {
    // 1. signatures (the anchor's own signature is not checked)
    for w in chain.windows(2) {
        if let [child, issuer] = w
            && !child.is_signed_by(issuer)
        {
            return PathOutcome::BadSignature {
                cert_subject: child.subject_display(),
            };
        }
    }
    // 2. CA constraints for every issuer (every certificate but the leaf)
    for (i, issuer) in chain.iter().enumerate().skip(1) {
        let is_anchor = i + 1 == chain.len();
        let ca_ok = issuer.is_ca() || (is_anchor && issuer.version() == 1);
        let ku_ok = issuer.key_usage().is_none_or(|k| k.key_cert_sign);
        // intermediates between this issuer and the leaf, excluding self-issued ones
        let below = chain
            .get(1..i)
            .map(|s| s.iter().filter(|c| !c.is_self_issued()).count())
            .unwrap_or(0);
        let len_ok = issuer.path_len().is_none_or(|p| below <= p as usize);
        if !(ca_ok && ku_ok && len_ok) {
            return PathOutcome::NotACa {
                cert_subject: issuer.subject_display(),
            };
        }
    }
    // 3. validity periods, leaf first
    for c in chain {
        if at > c.not_after() {
            return PathOutcome::Expired {
                cert_subject: c.subject_display(),
                not_after: c.not_after(),
            };
        }
        if at < c.not_before() {
            return PathOutcome::NotYetValid {
                cert_subject: c.subject_display(),
                not_before: c.not_before(),
            };
        }
    }
    PathOutcome::Valid {
        chain: chain.iter().map(|c| (*c).clone()).collect(),
    }
}

impl PathValidator for SimplePathValidator {
    fn validate(
        &self,
        leaf: &Certificate,
        intermediates: &[Certificate],
        at: OffsetDateTime,
    ) -> PathOutcome {
        let mut search = Search {
            trust: &self.trust,
            pool: intermediates.iter().filter(|c| c.der != leaf.der).collect(),
            complete: Vec::new(),
            longest_partial: Vec::new(),
            budget: MAX_SEARCH_STEPS,
        };
        let mut path = vec![leaf];
        search.extend(&mut path);
        if search.complete.is_empty() {
            return PathOutcome::NoChainToTrustAnchor {
                partial_chain: search
                    .longest_partial
                    .iter()
                    .map(|c| (*c).clone())
                    .collect(),
            };
        }
        let mut best: Option<PathOutcome> = None;
        for chain in &search.complete {
            let outcome = check_chain(chain, at);
            if outcome.is_valid() {
                return outcome;
            }
            if best.as_ref().is_none_or(|b| rank(&outcome) > rank(b)) {
                best = Some(outcome);
            }
        }
        best.unwrap_or(PathOutcome::NoChainToTrustAnchor {
            partial_chain: vec![leaf.clone()],
        })
    }
}
