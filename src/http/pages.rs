//! Server-rendered pages: login, SSO landing, device, logout, errors and the form_post response.
//! Each is an askama template under `templates/pages/` and the struct here that fills it; askama
//! escapes every value (with [`escape::NamedEntities`]), so no call site escapes by hand. No
//! JavaScript is needed (form_post auto-submits when scripts run and shows a button otherwise).
//!
//! Adding a page is one template extending `pages/layout.html` (blocks `title`, `heading`, `who`,
//! `body`) and one struct with an `issuer` field, `#[template(path = "pages/….html", escape =
//! "page")]`, shown with `Site::page` or rendered with [`render`].

pub(crate) mod escape;

use askama::Template;

use crate::dialect::profile::ConsentPage;
use crate::engine::Issuer;
use crate::engine::authorize::Callback;
use crate::engine::users::User;

/// The pages' style sheet, inlined in `pages/layout.html` (the pages load nothing else).
pub const STYLE: &str = include_str!("../../assets/pages.css");

/// A page's HTML. Rendering writes only strings into a `String`, which cannot fail; were it to,
/// the failure is logged and the body is empty rather than a panic on a request path.
pub(crate) fn render(page: &impl Template) -> String {
    page.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "a page failed to render");
        String::new()
    })
}

/// The element ids of the login form, the product's (`Dialect::login_ids`), so that scripts
/// written against the product's own page find them.
pub struct LoginIds {
    pub form: &'static str,
    pub username: &'static str,
    pub password: &'static str,
    pub submit: &'static str,
}

impl LoginIds {
    pub fn of(issuer: &Issuer) -> Self {
        let [form, username, password, submit] = issuer.dialect.profile().login_ids;
        LoginIds {
            form,
            username,
            password,
            submit,
        }
    }
}

/// The login form: configured users as one-click buttons, or any username typed in.
#[derive(Template)]
#[template(path = "pages/login.html", escape = "page")]
pub struct Login<'a> {
    pub issuer: &'a Issuer,
    /// The client asking (id, description), if an application sent the user here.
    pub client: Option<(&'a str, Option<&'a str>)>,
    pub action: &'a str,
    pub login_id: &'a str,
    /// The username filled in (the request's `login_hint`), or empty.
    pub username: &'a str,
    pub error: Option<&'a str>,
    pub ids: LoginIds,
}

/// The SSO landing page: who is logged in at this issuer.
#[derive(Template)]
#[template(path = "pages/home.html", escape = "page")]
pub struct Home<'a> {
    pub issuer: &'a Issuer,
    pub user: &'a User,
    pub logout_url: &'a str,
}

/// RFC 8628 §3.3: enter (or confirm) the user code, then approve or deny.
#[derive(Template)]
#[template(path = "pages/device_form.html", escape = "page")]
pub struct DeviceForm<'a> {
    pub issuer: &'a Issuer,
    pub user: &'a User,
    pub action: &'a str,
    pub code: &'a str,
    pub error: Option<&'a str>,
}

/// After the device decision.
#[derive(Template)]
#[template(path = "pages/device_done.html", escape = "page")]
pub struct DeviceDone<'a> {
    pub issuer: &'a Issuer,
    pub approved: bool,
}

/// A second decision on a code another one already settled: says which one stands.
#[derive(Template)]
#[template(path = "pages/device_already_decided.html", escape = "page")]
pub struct DeviceAlreadyDecided<'a> {
    pub issuer: &'a Issuer,
    pub approved: bool,
}

/// The product's consent page: the scopes asked, Allow and Deny (and IdentityServer3's
/// per-scope checkboxes and "Remember My Decision"), with the product's wording, ids and
/// field names (`dialect::profile::ConsentPage`).
#[derive(Template)]
#[template(path = "pages/consent.html", escape = "page")]
pub struct Consent<'a> {
    pub issuer: &'a Issuer,
    /// The product's heading with the client's id in it.
    pub heading: String,
    pub user: &'a User,
    pub action: &'a str,
    pub consent_id: &'a str,
    pub page: ConsentPage,
    pub scopes: Vec<ConsentScope<'a>>,
    /// The "remember" checkbox's label, when the client offers it.
    pub remember: Option<&'static str>,
    pub error: Option<&'a str>,
}

/// One line of the consent page's list.
pub struct ConsentScope<'a> {
    pub name: &'a str,
    /// What the product says of it (its name when it says nothing particular).
    pub text: &'a str,
    /// Always granted: its checkbox is ticked and disabled.
    pub required: bool,
}

/// After logout with nowhere to go back to.
#[derive(Template)]
#[template(path = "pages/logged_out.html", escape = "page")]
pub struct LoggedOut<'a> {
    pub issuer: &'a Issuer,
}

/// An error shown to the user instead of redirecting (unknown client, bad redirect URI, a login
/// form expired or posted by another browser...).
#[derive(Template)]
#[template(path = "pages/error.html", escape = "page")]
pub struct ErrorPage<'a> {
    pub issuer: &'a Issuer,
    message: String,
}

impl<'a> ErrorPage<'a> {
    /// The message is clipped as error descriptions are (it may quote the request).
    pub fn new(issuer: &'a Issuer, message: &str) -> Self {
        ErrorPage {
            issuer,
            message: crate::error::clipped(message, crate::error::MAX_DESCRIPTION),
        }
    }
}

/// OAuth 2.0 Form Post Response Mode: a form that posts the response to the client.
#[derive(Template)]
#[template(path = "pages/form_post.html", escape = "page")]
pub struct FormPost<'a> {
    redirect_uri: &'a str,
    params: &'a [(String, String)],
}

impl<'a> From<&'a Callback> for FormPost<'a> {
    fn from(cb: &'a Callback) -> Self {
        FormPost {
            redirect_uri: &cb.redirect_uri,
            params: &cb.params,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::authorize::ResponseMode;

    /// Values reach the page escaped, with the entities the pages have always used, and the
    /// page ends with its newline (askama drops a template file's last one).
    #[test]
    fn form_post_escapes_every_value_and_keeps_the_final_newline() {
        let cb = Callback {
            redirect_uri: "https://app.test/cb?a=1&b=\"2\"".into(),
            response_mode: ResponseMode::FormPost,
            params: vec![("state".into(), "<script>'x'</script>".into())],
        };
        let html = render(&FormPost::from(&cb));
        assert!(
            html.contains(r#"action="https://app.test/cb?a=1&amp;b=&quot;2&quot;""#),
            "{html}"
        );
        assert!(
            html.contains(r#"name="state" value="&lt;script&gt;&#x27;x&#x27;&lt;/script&gt;""#),
            "{html}"
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.ends_with("</html>\n"), "{html}");
    }
}
