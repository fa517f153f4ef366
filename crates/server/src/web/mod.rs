//! The pages people open in a browser: the public verification portal (`/verifikasi`), the
//! record behind each QR code (`/v/{id}`), accounts and the officials' inbox, the RA console
//! (`/ra`), the administrators' pages (`/admin`), and the assets they share. Who may open a staff
//! page is in its handler's signature (`roles`).
//!
//! Owns: the page frame (institution name and logo, language toggle), the language of a
//! request, the Content-Security-Policy of pages, and rendering compiled templates
//! (`templates/`, askama). Pages are server-rendered and work without scripts; `sahih.js` only
//! adds drag-and-drop and a busy state. Every asset is compiled into the binary (Pemda
//! intranets are often offline).
//!
//! Must not know: how a document is verified or signed (that is `sahih-core`), nor API
//! authentication.

/// Implements [`PageForm`] for form structs whose `csrf` and `lang` fields are strings.
macro_rules! page_form {
    ($($form:ty),+ $(,)?) => {
        $(impl $crate::web::PageForm for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
            fn lang(&self) -> &str {
                &self.lang
            }
        })+
    };
}

pub mod account;
pub mod admin;
pub mod assets;
pub mod charts;
pub mod clients;
pub mod inbox;
pub mod portal;
pub mod preview;
pub mod ra;
pub mod record;
pub mod roles;
pub mod seals;
pub mod session;
pub mod trust_page;
pub mod upload;

use crate::Shared;
use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sahih_core::Lang;
use serde::Deserialize;

/// The policy of every page: only this server's own scripts, styles and images, no framing,
/// forms post only here.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The page routes (their upload limits are set per route).
pub fn routes(state: &Shared) -> Router<Shared> {
    Router::new()
        .route("/aset/{name}", get(assets::asset))
        .merge(portal::routes(state))
        .merge(account::routes(state))
        .merge(inbox::routes(state))
        .merge(ra::routes(state))
        .merge(admin::routes(state))
        .merge(clients::routes(state))
        .merge(trust_page::routes(state))
        .merge(seals::routes(state))
        .merge(record::routes(state))
}

/// `?lang=en` or `?lang=id` (default Bahasa Indonesia).
#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

impl LangQuery {
    /// The language asked for; Bahasa Indonesia unless English is named.
    pub fn lang(&self) -> Lang {
        lang_of(self.lang.as_deref())
    }
}

/// English for `en`, Bahasa Indonesia for anything else.
pub fn lang_of(value: Option<&str>) -> Lang {
    match value.map(str::trim) {
        Some(v) if v.eq_ignore_ascii_case("en") => Lang::En,
        _ => Lang::Id,
    }
}

/// What the frame of every page needs: the institution, the language, the page title and the
/// path the language toggle links to.
pub struct Chrome {
    /// The institution's name, in the header of every page.
    pub institution: String,
    /// The page's language.
    pub lang: Lang,
    /// The page title (also the window title).
    pub title: String,
    /// The path of this page without query, for the language toggle.
    pub path: String,
    /// Cache-busting version of the assets.
    pub version: &'static str,
    /// The signed-in person, for the header (name, and the CSRF token of the logout form).
    pub person: Option<Person>,
    /// Whether the page loads `sahih.js` (pages with nothing to enhance, such as the
    /// activation page where the passphrase is typed, load no script at all).
    pub script: bool,
}

/// Who is signed in, as the page header shows them.
pub struct Person {
    /// Name.
    pub name: String,
    /// An official (they have an inbox).
    pub official: bool,
    /// RA staff (operators and verifikators: the registration console).
    pub ra_staff: bool,
    /// An administrator (the audit log).
    pub admin: bool,
    /// The CSRF token of the logout form.
    pub csrf: String,
}

impl Chrome {
    /// The frame for a page of this server.
    pub fn new(state: &Shared, lang: Lang, title: impl Into<String>, path: &str) -> Self {
        Self {
            institution: state.sahih.config.institution.clone(),
            lang,
            title: title.into(),
            path: path.to_string(),
            version: env!("CARGO_PKG_VERSION"),
            person: None,
            script: true,
        }
    }

    /// The frame for a signed-in person's page.
    pub fn signed_in(mut self, who: &session::SignedIn) -> Self {
        self.person = Some(Person {
            name: who.view.account.name.clone(),
            official: who.view.official.is_some(),
            ra_staff: sahih_core::ra::Staff::from_account(&who.view.account)
                .is_some_and(|s| s.may(sahih_core::clients::Capability::ReadRegistrations)),
            admin: sahih_core::ra::Staff::from_account(&who.view.account)
                .is_some_and(|s| s.may(sahih_core::clients::Capability::ReadAudit)),
            csrf: who.csrf(),
        });
        self
    }

    /// The text in the page's language.
    pub fn t<'a>(&self, id: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Lang::Id => id,
            Lang::En => en,
        }
    }

    /// The page's `lang` attribute.
    pub fn lang_code(&self) -> &'static str {
        match self.lang {
            Lang::Id => "id",
            Lang::En => "en",
        }
    }

    /// The other language's code.
    pub fn other_lang_code(&self) -> &'static str {
        match self.lang {
            Lang::Id => "en",
            Lang::En => "id",
        }
    }

    /// The toggle's label, in the language it switches to.
    pub fn other_lang_label(&self) -> &'static str {
        match self.lang {
            Lang::Id => "English",
            Lang::En => "Bahasa Indonesia",
        }
    }

    /// This page in the other language.
    pub fn other_lang_href(&self) -> String {
        format!("{}?lang={}", self.path, self.other_lang_code())
    }

    /// A link to `path` that keeps the page's language.
    pub fn href(&self, path: &str) -> String {
        match self.lang {
            Lang::Id => path.to_string(),
            Lang::En => format!("{path}?lang=en"),
        }
    }
}

/// A rendered page with its status, content type and policy. A template that fails to render
/// (a bug, not input) answers a plain 500 without details.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => html_response(status, html),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error rendering the page\n",
        )
            .into_response(),
    }
}

fn html_response(status: StatusCode, html: String) -> Response {
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    r
}

/// A short message page: a heading, paragraphs and an optional link onwards.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    /// The frame; its title is the heading.
    pub c: Chrome,
    /// `ok`, `warn` or `bad`.
    pub tone: &'static str,
    /// The explanation.
    pub paragraphs: Vec<String>,
    /// Where to go next: (href, label).
    pub link: Option<(String, String)>,
}

/// A page whose body HTML was built (and escaped) by its caller, in the common frame. Used by
/// the activation pages.
#[derive(Template)]
#[template(path = "plain.html")]
struct PlainPage<'a> {
    c: Chrome,
    body: &'a str,
}

/// Renders `body` (HTML the caller escaped with [`esc`]) in the common frame.
pub fn page(
    state: &Shared,
    status: StatusCode,
    lang: Lang,
    title: &str,
    path: &str,
    body: &str,
) -> Response {
    let mut c = Chrome::new(state, lang, title, path);
    c.script = false;
    render(status, &PlainPage { c, body })
}

/// HTML-escapes text for the hand-built bodies of [`page`].
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Text in the page's language.
pub fn tr(lang: Lang, id: &str, en: &str) -> String {
    match lang {
        Lang::Id => id.to_string(),
        Lang::En => en.to_string(),
    }
}

/// `path` with `lang=en` added for English (redirects keep the page's language).
pub fn with_lang(path: &str, lang: Lang) -> String {
    match lang {
        Lang::Id => path.to_string(),
        Lang::En if path.contains('?') => format!("{path}&lang=en"),
        Lang::En => format!("{path}?lang=en"),
    }
}

/// What a person reads about an error: the core's own words, except for failures on our side
/// (database, storage, services), whose details stay in the log.
pub fn error_text(e: &sahih_core::CoreError, lang: Lang) -> String {
    use sahih_core::CoreError as E;
    match e {
        E::Store(_) | E::Service(_) | E::Io(_) | E::Blob(_) => tr(
            lang,
            "Layanan sedang bermasalah; coba lagi nanti.",
            "The service has a problem; please try again later.",
        ),
        other => other.message(lang),
    }
}

/// The answer to a form that is not this page's (missing or wrong CSRF token, unreadable).
pub fn csrf_refused(lang: Lang) -> Response {
    (
        StatusCode::FORBIDDEN,
        tr(
            lang,
            "Formulir kedaluwarsa atau bukan dari halaman ini. Muat ulang halaman lalu coba lagi.\n",
            "The form expired or did not come from this page. Reload the page and try again.\n",
        ),
    )
        .into_response()
}

/// The answer when the database or storage fails.
pub fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "Layanan sedang bermasalah; coba lagi nanti.\n",
    )
        .into_response()
}

/// A form that carries only its CSRF token and language (a button).
#[derive(Deserialize)]
pub struct CsrfForm {
    /// The session's CSRF token.
    pub csrf: String,
    /// The page's language.
    pub lang: String,
}

page_form!(CsrfForm);

/// The staff member behind the session when their role holds `capability`; else a page (403)
/// saying whom the page at `path` is for, in `lang`.
pub fn staff_with(
    state: &Shared,
    who: &session::SignedIn,
    lang: Lang,
    capability: sahih_core::clients::Capability,
    path: &str,
    for_whom: (&str, &str),
    why: (&str, &str),
) -> Result<sahih_core::ra::Staff, Box<Response>> {
    if let Some(staff) =
        sahih_core::ra::Staff::from_account(&who.view.account).filter(|s| s.may(capability))
    {
        return Ok(staff);
    }
    let c = Chrome::new(state, lang, tr(lang, for_whom.0, for_whom.1), path).signed_in(who);
    let link = Some((
        c.href("/beranda"),
        tr(lang, "Ke beranda", "To the home page"),
    ));
    Err(Box::new(render(
        StatusCode::FORBIDDEN,
        &MessagePage {
            c,
            tone: "bad",
            paragraphs: vec![tr(lang, why.0, why.1)],
            link,
        },
    )))
}

/// A form of a signed-in person: its CSRF token and language.
pub trait PageForm {
    /// The `csrf` field.
    fn csrf(&self) -> &str;
    /// The `lang` field.
    fn lang(&self) -> &str;
}

/// The form, once it was readable and carries this session's CSRF token; else the refusal.
pub fn checked_form<T: PageForm>(
    who: &session::SignedIn,
    form: Result<axum::Form<T>, axum::extract::rejection::FormRejection>,
) -> Result<(T, Lang), Box<Response>> {
    let Ok(axum::Form(f)) = form else {
        return Err(Box::new(csrf_refused(Lang::Id)));
    };
    let lang = lang_of(Some(f.lang()));
    if !who.csrf_ok(f.csrf()) {
        return Err(Box::new(csrf_refused(lang)));
    }
    Ok((f, lang))
}

/// One line of a check list: ✓ (ok), ! (warn) or ✗ (bad), with its text.
pub struct Check {
    /// `ok`, `warn` or `bad`.
    pub tone: &'static str,
    /// What was checked and what came out, in the page's language.
    pub text: String,
}

impl Check {
    /// A passed check.
    pub fn ok(text: impl Into<String>) -> Self {
        Self {
            tone: "ok",
            text: text.into(),
        }
    }
    /// A failed check.
    pub fn bad(text: impl Into<String>) -> Self {
        Self {
            tone: "bad",
            text: text.into(),
        }
    }
    /// A check that could not be decided.
    pub fn warn(text: impl Into<String>) -> Self {
        Self {
            tone: "warn",
            text: text.into(),
        }
    }
    /// The symbol shown (hidden from screen readers; the text says it in words).
    pub fn mark(&self) -> &'static str {
        match self.tone {
            "ok" => "✓",
            "bad" => "✗",
            _ => "!",
        }
    }
}

/// Names of the people and clients behind actors, looked up once per page.
pub struct ActorNames<'a> {
    state: &'a Shared,
    seen: std::collections::HashMap<String, String>,
}

impl<'a> ActorNames<'a> {
    /// Names looked up through `state`'s store.
    pub fn new(state: &'a Shared) -> Self {
        Self {
            state,
            seen: std::collections::HashMap::new(),
        }
    }

    /// The person's name for `account:<id>`, or the client's name marked as API.
    pub async fn name(&mut self, actor: &str) -> String {
        if let Some(n) = self.seen.get(actor) {
            return n.clone();
        }
        let name = match sahih_core::accounts::account_id_of_actor(actor) {
            Some(id) => match sahih_core::store::accounts::AccountStore::account_by_id(
                &self.state.sahih.store,
                id,
            )
            .await
            {
                Ok(Some(a)) => a.name,
                _ => actor.to_string(),
            },
            None => format!("{actor} (API)"),
        };
        self.seen.insert(actor.to_string(), name.clone());
        name
    }
}

/// A file size for people: "12,3 KB" / "12.3 KB".
pub fn human_size(bytes: u64, lang: Lang) -> String {
    let (value, unit) = if bytes >= 1024 * 1024 {
        (bytes as f64 / (1024.0 * 1024.0), "MB")
    } else if bytes >= 1024 {
        (bytes as f64 / 1024.0, "KB")
    } else {
        return format!("{bytes} B");
    };
    let s = format!("{value:.1} {unit}");
    match lang {
        Lang::Id => s.replace('.', ","),
        Lang::En => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_only_when_asked_for() {
        assert_eq!(lang_of(Some("en")), Lang::En);
        assert_eq!(lang_of(Some(" EN ")), Lang::En);
        assert_eq!(lang_of(Some("fr")), Lang::Id);
        assert_eq!(lang_of(None), Lang::Id);
    }

    #[test]
    fn sizes_read_naturally_in_both_languages() {
        assert_eq!(human_size(512, Lang::Id), "512 B");
        assert_eq!(human_size(1536, Lang::Id), "1,5 KB");
        assert_eq!(human_size(1536, Lang::En), "1.5 KB");
        assert_eq!(human_size(3 * 1024 * 1024, Lang::En), "3.0 MB");
    }

    #[test]
    fn escaping_covers_attribute_quotes() {
        assert_eq!(
            esc("<a href='x'>\"&"),
            "&lt;a href=&#39;x&#39;&gt;&quot;&amp;"
        );
    }
}
