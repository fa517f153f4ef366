//! The PKCS#11 module, the token, its login and the session pool.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, SessionState, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::{HsmError, Result};

/// Sessions kept open for reuse; more can be open at once, the surplus is closed after use.
const MAX_POOLED_SESSIONS: usize = 16;

/// Initialised modules of this process, by canonical path. A PKCS#11 module is initialised
/// once per process and never finalised here: finalising it would log out and invalidate
/// every other user of the module in the process, and SoftHSM reads its configuration only
/// at `C_Initialize`.
fn modules() -> &'static Mutex<HashMap<PathBuf, Pkcs11>> {
    static MODULES: OnceLock<Mutex<HashMap<PathBuf, Pkcs11>>> = OnceLock::new();
    MODULES.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Logged-in tokens of this process, by (module, slot). The PKCS#11 login state belongs to
/// the application, not the session, so two backends on one token share one login.
type TokenKey = (PathBuf, u64);
fn tokens() -> &'static Mutex<HashMap<TokenKey, Weak<Token>>> {
    static TOKENS: OnceLock<Mutex<HashMap<TokenKey, Weak<Token>>>> = OnceLock::new();
    TOKENS.get_or_init(|| Mutex::new(HashMap::new()))
}

fn lock<T>(m: &Mutex<T>) -> Result<MutexGuard<'_, T>> {
    m.lock().map_err(|_| HsmError::Poisoned)
}

fn module_context(path: &Path) -> Result<(PathBuf, Pkcs11)> {
    let module_err = |reason: String| HsmError::Module {
        path: path.to_path_buf(),
        reason,
    };
    let canonical = std::fs::canonicalize(path).map_err(|e| module_err(e.to_string()))?;
    let mut map = lock(modules())?;
    if let Some(ctx) = map.get(&canonical) {
        return Ok((canonical, ctx.clone()));
    }
    let ctx = Pkcs11::new(&canonical).map_err(|e| module_err(e.to_string()))?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        // Already initialised by other code of this process: share it.
        Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => return Err(module_err(format!("C_Initialize: {e}"))),
    }
    map.insert(canonical.clone(), ctx.clone());
    Ok((canonical, ctx))
}

fn find_slot(ctx: &Pkcs11, label: &str) -> Result<Slot> {
    let slots = ctx
        .get_slots_with_token()
        .map_err(HsmError::ck("C_GetSlotList"))?;
    for slot in slots {
        let info = ctx
            .get_token_info(slot)
            .map_err(HsmError::ck("C_GetTokenInfo"))?;
        if info.token_initialized() && info.label().trim_end() == label {
            return Ok(slot);
        }
    }
    Err(HsmError::TokenNotFound(label.to_string()))
}

/// One logged-in token: shared by every [`Pkcs11Backend`] and [`crate::HsmKey`] on it.
pub(crate) struct Token {
    module: PathBuf,
    label: String,
    slot: Slot,
    ctx: Pkcs11,
    pin: Zeroizing<String>,
    /// The session that holds the login: the token logs out when the application's last
    /// session closes, so this one stays open for the life of the `Token`.
    login: Mutex<Session>,
    /// Idle R/W sessions, logged in through `login`. `Session` is `Send` but not `Sync`:
    /// each is used by one thread at a time, taken out of the pool.
    pool: Mutex<Vec<Session>>,
    /// Creating and destroying token objects, one at a time: SoftHSM2's file object store
    /// answered CKR_GENERAL_ERROR about once in a few hundred concurrent key generations
    /// (seen in the concurrency tests). Key generation is rare (an activation, a re-issue), so
    /// serialising it costs nothing that matters; signing stays concurrent.
    pub(crate) object_writes: Mutex<()>,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("module", &self.module)
            .field("label", &self.label)
            .field("slot", &self.slot.id())
            .finish_non_exhaustive()
    }
}

/// A session taken from the pool; returned to it on drop unless it is known to be broken.
struct Lease<'a> {
    token: &'a Token,
    session: Option<Session>,
    broken: bool,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if self.broken {
            return;
        }
        if let Some(session) = self.session.take()
            && let Ok(mut pool) = self.token.pool.lock()
            && pool.len() < MAX_POOLED_SESSIONS
        {
            pool.push(session);
        }
        // Otherwise the session is dropped, which closes it.
    }
}

fn is_session_gone(e: &HsmError) -> bool {
    matches!(
        e.rv(),
        Some(RvError::SessionHandleInvalid | RvError::SessionClosed | RvError::DeviceRemoved)
    )
}

/// Whether the session is logged in as the user (`false` also when the state is unknown).
fn logged_in(session: &Session) -> bool {
    session.get_session_info().is_ok_and(|info| {
        matches!(
            info.session_state(),
            SessionState::RoUser | SessionState::RwUser
        )
    })
}

impl Token {
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    fn login_on(&self, session: &Session) -> Result<()> {
        let pin = AuthPin::from(self.pin.as_str());
        match session.login(UserType::User, Some(&pin)) {
            Ok(()) => Ok(()),
            Err(CkError::Pkcs11(RvError::PinIncorrect | RvError::PinLenRange, _)) => {
                Err(HsmError::WrongPin(self.label.clone()))
            }
            Err(CkError::Pkcs11(RvError::PinLocked, _)) => {
                Err(HsmError::PinLocked(self.label.clone()))
            }
            Err(e) => Err(HsmError::ck("C_Login")(e)),
        }
    }

    /// Log in again after the token dropped the login (e.g. someone called `C_Logout`).
    fn relogin(&self) -> Result<()> {
        let login = lock(&self.login)?;
        match self.login_on(&login) {
            Err(e) if e.rv() == Some(RvError::UserAlreadyLoggedIn) => Ok(()),
            other => other,
        }
    }

    fn lease(&self) -> Result<Lease<'_>> {
        let pooled = lock(&self.pool)?.pop();
        let session = match pooled {
            Some(s) => s,
            None => self
                .ctx
                .open_rw_session(self.slot)
                .map_err(HsmError::ck("C_OpenSession"))?,
        };
        Ok(Lease {
            token: self,
            session: Some(session),
            broken: false,
        })
    }

    /// Run `f` on a logged-in R/W session of the token. Retries once on a fresh session if
    /// the pooled one is gone, and once after logging in again if `f` failed and the login
    /// turns out to be lost (e.g. other code of the process called `C_Logout`).
    pub(crate) fn with_session<T>(&self, f: impl Fn(&Session) -> Result<T>) -> Result<T> {
        let mut relogged = false;
        let mut reopened = false;
        loop {
            let mut lease = self.lease()?;
            let (result, logged_out) = match &lease.session {
                Some(session) => {
                    let result = f(session);
                    // A lost login shows as CKR_USER_NOT_LOGGED_IN, but also as "no such
                    // key" (private objects are invisible then): ask the session.
                    let logged_out = result.is_err() && !relogged && !logged_in(session);
                    (result, logged_out)
                }
                None => (
                    Err(HsmError::Malformed("session lease without session".into())),
                    false,
                ),
            };
            match result {
                Err(e) if is_session_gone(&e) && !reopened => {
                    lease.broken = true;
                    reopened = true;
                }
                Err(_) if logged_out => {
                    drop(lease);
                    self.relogin()?;
                    relogged = true;
                }
                Err(e) => {
                    lease.broken = is_session_gone(&e);
                    return Err(e);
                }
                Ok(v) => return Ok(v),
            }
        }
    }
}

/// Find the single object of `class` with CKA_ID `id`.
pub(crate) fn find_one(
    session: &Session,
    class: ObjectClass,
    id: &[u8],
) -> Result<Option<ObjectHandle>> {
    let found = session
        .find_objects(&[Attribute::Class(class), Attribute::Id(id.to_vec())])
        .map_err(HsmError::ck("C_FindObjects"))?;
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        _ => Err(HsmError::Malformed(format!(
            "{} objects of class {class} share the id {}",
            found.len(),
            hex::encode(id)
        ))),
    }
}

/// Read attributes that must be present; missing ones are an error.
pub(crate) fn read_attributes(
    session: &Session,
    object: ObjectHandle,
    types: &[AttributeType],
) -> Result<Vec<Attribute>> {
    let attrs = session
        .get_attributes(object, types)
        .map_err(HsmError::ck("C_GetAttributeValue"))?;
    for t in types {
        if !attrs.iter().any(|a| a.attribute_type() == *t) {
            return Err(HsmError::Malformed(format!(
                "attribute {t} is not readable"
            )));
        }
    }
    Ok(attrs)
}

/// Keys inside one PKCS#11 token, logged in as the normal user.
///
/// Cheap to clone and share (`Send + Sync`, internally an `Arc`); every operation takes a
/// logged-in R/W session from a small pool (opening one when none is idle), so several
/// threads can sign at the same time. Opening a second backend on the same token in one
/// process shares the first one's login (the PIN given must be the same).
///
/// The process is assumed to be the only user of the token's login: PKCS#11 logins belong
/// to the whole process, so other code logging the token out affects this backend (it logs
/// in again on the next operation).
#[derive(Clone)]
pub struct Pkcs11Backend {
    pub(crate) token: Arc<Token>,
}

impl fmt::Debug for Pkcs11Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Backend")
            .field("module", &self.token.module)
            .field("token", &self.token.label)
            .field("slot", &self.token.slot.id())
            .finish_non_exhaustive()
    }
}

impl Pkcs11Backend {
    /// Load the PKCS#11 `module` (initialising it once per process), find the initialised
    /// token labelled `token_label` and log in as User with `user_pin`.
    ///
    /// Errors: [`HsmError::Module`], [`HsmError::TokenNotFound`], [`HsmError::WrongPin`],
    /// [`HsmError::PinLocked`], [`HsmError::Pkcs11`]. No error text contains the PIN.
    pub fn open(module: &Path, token_label: &str, user_pin: &str) -> Result<Self> {
        let (canonical, ctx) = module_context(module)?;
        let slot = find_slot(&ctx, token_label)?;

        let mut registry = lock(tokens())?;
        registry.retain(|_, weak| weak.strong_count() > 0);
        let key = (canonical.clone(), slot.id());
        if let Some(existing) = registry.get(&key).and_then(Weak::upgrade) {
            // Already logged in by this process: the token cannot check the PIN again
            // (C_Login answers "already logged in"), so compare with the one it accepted.
            return if bool::from(existing.pin.as_bytes().ct_eq(user_pin.as_bytes())) {
                Ok(Pkcs11Backend { token: existing })
            } else {
                Err(HsmError::WrongPin(token_label.to_string()))
            };
        }

        let login = ctx
            .open_ro_session(slot)
            .map_err(HsmError::ck("C_OpenSession"))?;
        let token = Token {
            module: canonical,
            label: token_label.to_string(),
            slot,
            ctx,
            pin: Zeroizing::new(user_pin.to_string()),
            login: Mutex::new(login),
            object_writes: Mutex::new(()),
            pool: Mutex::new(Vec::new()),
        };
        {
            let session = lock(&token.login)?;
            match token.login_on(&session) {
                Ok(()) => {}
                Err(e) if e.rv() == Some(RvError::UserAlreadyLoggedIn) => {
                    // A backend of this token is being dropped right now (its sessions not
                    // yet all closed), or other code logged in: start over with our PIN,
                    // so that the PIN is really checked.
                    session.logout().map_err(HsmError::ck("C_Logout"))?;
                    token.login_on(&session)?;
                }
                Err(e) => return Err(e),
            }
        }
        let token = Arc::new(token);
        registry.insert(key, Arc::downgrade(&token));
        Ok(Pkcs11Backend { token })
    }

    /// The label of the token.
    pub fn token_label(&self) -> &str {
        self.token.label()
    }

    /// The canonical path of the PKCS#11 module.
    pub fn module_path(&self) -> &Path {
        &self.token.module
    }
}
