//! Who may open the staff pages, as types. A handler that takes [`StaffPage<R>`] (a page, or any
//! request whose body it reads itself) or [`StaffForm<R, F>`] (a form) cannot run for an account
//! whose role lacks `R`'s capability: the check is in the handler's signature, not a call it
//! could forget, and every console refuses with the same kind of page.
//!
//! Must not know: what the pages show or do; which capability a role holds (`sahih_core::clients`).

use super::session::SignedIn;
use super::{PageForm, checked_form, lang_of, staff_with};
use crate::Shared;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::Response;
use sahih_core::Lang;
use sahih_core::clients::Capability;
use sahih_core::ra::Staff;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;

/// A group of staff pages and the one capability that opens them.
pub trait PageRole: Send + Sync + 'static {
    /// What the account's role must allow.
    const CAPABILITY: Capability;
    /// The console's page, for the refusal page's navigation.
    const HOME: &'static str;
    /// Whom the pages are for: the refusal's title (Indonesian, English).
    const FOR_WHOM: (&'static str, &'static str);
    /// Why the account may not open them (Indonesian, English).
    const WHY: (&'static str, &'static str);
}

macro_rules! page_role {
    ($(#[$doc:meta])* $name:ident, $capability:ident, $home:literal, $for_whom:expr, $why:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl PageRole for $name {
            const CAPABILITY: Capability = Capability::$capability;
            const HOME: &'static str = $home;
            const FOR_WHOM: (&'static str, &'static str) = $for_whom;
            const WHY: (&'static str, &'static str) = $why;
        }
    };
}

const ADMINS: (&str, &str) = ("Khusus administrator", "For administrators only");

page_role!(
    /// The dashboard and the audit log (administrators).
    Auditor,
    ReadAudit,
    "/admin",
    ADMINS,
    (
        "Dasbor dan log audit hanya dapat dibuka administrator layanan.",
        "Only the service's administrators can open the dashboard and the audit log.",
    )
);
page_role!(
    /// The document-class policy (administrators).
    PolicyAdmin,
    ManagePolicy,
    "/admin/kebijakan",
    ADMINS,
    (
        "Kebijakan jenis dokumen dikelola administrator layanan.",
        "The document-class policy is managed by the service's administrators.",
    )
);
page_role!(
    /// API clients (administrators).
    ClientManager,
    ManageClients,
    "/admin/klien",
    ADMINS,
    (
        "Klien API dikelola administrator layanan.",
        "API clients are managed by the service's administrators.",
    )
);
page_role!(
    /// The CA and trust services (administrators).
    CaAdmin,
    ManageCa,
    "/admin/ca",
    ADMINS,
    (
        "CA dan layanan kepercayaan dikelola administrator layanan.",
        "The CA and trust services are managed by the service's administrators.",
    )
);
page_role!(
    /// Electronic seals: verifikators and administrators see them; who decides is checked on the
    /// staff member (`DecideSeal`).
    SealKeeper,
    ListSeals,
    "/ra/segel",
    (
        "Khusus verifikator dan administrator",
        "For verifikators and administrators",
    ),
    (
        "Segel elektronik dikelola verifikator Diskominfo.",
        "Electronic seals are managed by the Diskominfo verifikators.",
    )
);
page_role!(
    /// The registration queue and its requests: operators (their unit's) and verifikators.
    RaStaff,
    ReadRegistrations,
    "/ra",
    ("Khusus petugas RA", "For RA staff only"),
    (
        "Konsol pendaftaran hanya untuk operator OPD dan verifikator Diskominfo.",
        "The registration console is only for OPD operators and Diskominfo verifikators.",
    )
);
page_role!(
    /// Filing registration requests (OPD operators).
    Operator,
    SubmitRegistration,
    "/ra",
    ("Khusus operator OPD", "For OPD operators only"),
    (
        "Permohonan diajukan oleh operator unit kerja pejabat yang bersangkutan.",
        "Requests are filed by an operator of the official's unit.",
    )
);
page_role!(
    /// The help desk and officials' certificates (verifikators).
    Verifikator,
    ChangeCertificate,
    "/ra/bantuan",
    ("Khusus verifikator", "For verifikators only"),
    (
        "Halaman ini untuk verifikator Diskominfo.",
        "This page is for Diskominfo verifikators.",
    )
);

/// The staff member behind `who` when their role allows `R`; else the refusal page.
fn admit<R: PageRole>(state: &Shared, who: &SignedIn, lang: Lang) -> Result<Staff, Box<Response>> {
    staff_with(
        state,
        who,
        lang,
        R::CAPABILITY,
        R::HOME,
        R::FOR_WHOM,
        R::WHY,
    )
}

/// The `lang` parameter of a query string.
fn query_lang(query: Option<&str>) -> Lang {
    let value = query.and_then(|q| {
        form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "lang")
            .map(|(_, v)| v.into_owned())
    });
    lang_of(value.as_deref())
}

/// A signed-in staff member whose role allows `R`, in the language the query asks for.
pub struct StaffPage<R> {
    /// The session.
    pub who: SignedIn,
    /// The staff member it acts as.
    pub staff: Staff,
    /// The page's language (`?lang=`).
    pub lang: Lang,
    role: PhantomData<R>,
}

impl<R: PageRole> FromRequestParts<Shared> for StaffPage<R> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, Response> {
        let who = SignedIn::from_request_parts(parts, state).await?;
        let lang = query_lang(parts.uri.query());
        let staff = admit::<R>(state, &who, lang).map_err(|r| *r)?;
        Ok(Self {
            who,
            staff,
            lang,
            role: PhantomData,
        })
    }
}

/// A form sent by a signed-in staff member whose role allows `R`: readable, carrying the
/// session's CSRF token (checked first, as for every form), in the form's language.
pub struct StaffForm<R, F> {
    /// The session.
    pub who: SignedIn,
    /// The staff member it acts as.
    pub staff: Staff,
    /// The form's language (its `lang` field).
    pub lang: Lang,
    /// The form.
    pub form: F,
    role: PhantomData<R>,
}

impl<R: PageRole, F: PageForm + DeserializeOwned + Send> FromRequest<Shared> for StaffForm<R, F> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &Shared) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let who = SignedIn::from_request_parts(&mut parts, state).await?;
        let form = axum::Form::<F>::from_request(Request::from_parts(parts, body), state).await;
        let (form, lang) = checked_form(&who, form).map_err(|r| *r)?;
        let staff = admit::<R>(state, &who, lang).map_err(|r| *r)?;
        Ok(Self {
            who,
            staff,
            lang,
            form,
            role: PhantomData,
        })
    }
}
