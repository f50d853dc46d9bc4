//! Server-rendered pages: login, SSO landing, logout, errors and the form_post response. No
//! JavaScript is needed (form_post auto-submits when scripts run and shows a button otherwise);
//! every value that came from a request or a fixture goes through [`esc`].

use std::fmt::Write as _;

use crate::engine::Issuer;
use crate::engine::authorize::Callback;
use crate::engine::users::User;

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;\
background:#f3f4f6;color:#111}main{max-width:26rem;margin:0 auto;padding:1.25rem}\
.card{background:#fff;border-radius:.75rem;padding:1.25rem;box-shadow:0 1px 3px #0002}\
h1{font-size:1.3rem;margin:0 0 .25rem}p.who{color:#555;margin:0 0 1rem;font-size:.9rem}\
label{display:block;font-weight:600;margin:.75rem 0 .25rem}\
input{width:100%;padding:.6rem;font:inherit;border:1px solid #bbb;border-radius:.4rem}\
button{font:inherit;padding:.6rem 1rem;border:0;border-radius:.4rem;background:#2563eb;\
color:#fff;cursor:pointer}button.user{background:#e5e7eb;color:#111;margin:.25rem .25rem 0 0}\
.primary{width:100%;margin-top:1rem}.error{background:#fee2e2;color:#991b1b;padding:.6rem;\
border-radius:.4rem}ul{list-style:none;padding:0;margin:0}small{color:#666}\
.tag{font-size:.75rem;background:#eef;border-radius:.3rem;padding:.1rem .4rem}";

/// An empty icon, so a browser showing a mockidp page does not fetch `/favicon.ico` (a 404
/// that browser test suites report as a console error).
pub const NO_FAVICON: &str = "<link rel=\"icon\" href=\"data:,\">";

/// The page frame: responsive down to 360 px, no scripts.
fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         {NO_FAVICON}<title>{}</title><style>{STYLE}</style></head><body><main><div class=\"card\">{body}\
         </div><p><small>mockidp, a fake identity provider for tests</small></p></main></body></html>\n",
        esc(title)
    )
}

fn issuer_line(issuer: &Issuer) -> String {
    format!(
        "<span class=\"tag\">{}</span> issuer <strong>{}</strong>",
        esc(issuer.dialect.profile().product),
        esc(issuer.name())
    )
}

/// What the login page needs to say and where it posts.
pub struct LoginPage<'a> {
    pub issuer: &'a Issuer,
    /// The client asking, if an application sent the user here.
    pub client: Option<(&'a str, Option<&'a str>)>,
    pub action: &'a str,
    pub login_id: &'a str,
    pub username: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// The login form: configured users as one-click buttons, or any username typed in.
pub fn login(p: &LoginPage) -> String {
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>Sign in</h1><p class=\"who\">{}",
        issuer_line(p.issuer)
    );
    if let Some((id, description)) = p.client {
        let _ = write!(body, "<br>for application <strong>{}</strong>", esc(id));
        if let Some(d) = description {
            let _ = write!(body, " <small>({})</small>", esc(d));
        }
    }
    body.push_str("</p>");
    if let Some(e) = p.error {
        let _ = write!(
            body,
            "<p class=\"error\" id=\"error\" role=\"alert\">{}</p>",
            esc(e)
        );
    }
    let [form, username, password, submit] = p.issuer.dialect.profile().login_ids;
    let _ = write!(
        body,
        "<form id=\"{form}\" class=\"login\" method=\"post\" action=\"{}\">\
         <input type=\"hidden\" name=\"login_id\" value=\"{}\">\
         <label for=\"{username}\">Username</label>\
         <input id=\"{username}\" name=\"username\" autocomplete=\"username\" value=\"{}\">\
         <label for=\"{password}\">Password</label>\
         <input id=\"{password}\" name=\"password\" type=\"password\" autocomplete=\"current-password\">\
         <button id=\"{submit}\" name=\"login\" class=\"primary\" type=\"submit\">Sign in</button>",
        esc(p.action),
        esc(p.login_id),
        esc(p.username.unwrap_or(""))
    );
    let users = &p.issuer.config.users;
    if !users.is_empty() {
        body.push_str("<label>Or sign in as</label><ul id=\"users\">");
        for u in users {
            let hint = if u.password.is_some() {
                " <small>(password above)</small>"
            } else {
                ""
            };
            let _ = write!(
                body,
                "<li><button class=\"user\" type=\"submit\" name=\"pick\" value=\"{0}\">{0}</button>{hint}</li>",
                esc(&u.username)
            );
        }
        body.push_str("</ul>");
    }
    if p.issuer.config.allow_any_user {
        body.push_str("<p><small>Any other username is accepted, with the issuer's default claims.</small></p>");
    }
    body.push_str("</form>");
    layout(&format!("Sign in to {}", p.issuer.name()), &body)
}

/// The SSO landing page: who is logged in at this issuer.
pub fn home(issuer: &Issuer, user: &User, logout_url: &str) -> String {
    let body = format!(
        "<h1>Welcome</h1><p class=\"who\">{}</p>\
         <p id=\"who\">Signed in as <strong>{}</strong> <small>(sub {})</small></p>\
         <p><a id=\"logout\" href=\"{}\">Sign out</a></p>",
        issuer_line(issuer),
        esc(&user.username),
        esc(&user.sub),
        esc(logout_url)
    );
    layout("Home", &body)
}

/// RFC 8628 §3.3: enter (or confirm) the user code, then approve or deny.
pub fn device_form(
    issuer: &Issuer,
    user: &User,
    action: &str,
    code: &str,
    error: Option<&str>,
) -> String {
    let mut body = format!(
        "<h1>Connect a device</h1><p class=\"who\">{}<br>signed in as <strong>{}</strong></p>",
        issuer_line(issuer),
        esc(&user.username)
    );
    if let Some(e) = error {
        let _ = write!(
            body,
            "<p class=\"error\" id=\"error\" role=\"alert\">{}</p>",
            esc(e)
        );
    }
    let _ = write!(
        body,
        "<form id=\"device\" method=\"post\" action=\"{}\">\
         <label for=\"user_code\">Code shown on the device</label>\
         <input id=\"user_code\" name=\"user_code\" autocomplete=\"off\" autocapitalize=\"characters\" value=\"{}\">\
         <button id=\"approve\" class=\"primary\" type=\"submit\" name=\"action\" value=\"approve\">Allow</button>\
         <button id=\"deny\" class=\"user\" type=\"submit\" name=\"action\" value=\"deny\">Deny</button></form>",
        esc(action),
        esc(code)
    );
    layout("Connect a device", &body)
}

/// After the device decision.
pub fn device_done(issuer: &Issuer, approved: bool) -> String {
    let (id, text) = if approved {
        (
            "device-approved",
            "Device connected. You can go back to your device.",
        )
    } else {
        (
            "device-denied",
            "Access denied. The device will not be connected.",
        )
    };
    let body = format!(
        "<h1>Done</h1><p class=\"who\">{}</p><p id=\"{id}\">{text}</p>",
        issuer_line(issuer)
    );
    layout("Device", &body)
}

/// A second decision on a code another one already settled: says which one stands.
pub fn device_already_decided(issuer: &Issuer, approved: bool) -> String {
    let stands = if approved {
        "the device was connected"
    } else {
        "access was denied"
    };
    let body = format!(
        "<h1>Already decided</h1><p class=\"who\">{}</p><p id=\"device-already-decided\">\
         This code was already decided: {stands}. Your choice changed nothing.</p>",
        issuer_line(issuer)
    );
    layout("Device", &body)
}

/// After logout with nowhere to go back to.
pub fn logged_out(issuer: &Issuer) -> String {
    let body = format!(
        "<h1>Signed out</h1><p class=\"who\">{}</p><p id=\"logged-out\">You are signed out.</p>",
        issuer_line(issuer)
    );
    layout("Signed out", &body)
}

/// An error shown to the user instead of redirecting (unknown client, bad redirect URI...).
pub fn error(issuer: &Issuer, message: &str) -> String {
    let body = format!(
        "<h1>We are sorry&hellip;</h1><p class=\"who\">{}</p><p class=\"error\" id=\"error\">{}</p>",
        issuer_line(issuer),
        esc(&crate::error::clipped(
            message,
            crate::error::MAX_DESCRIPTION
        ))
    );
    layout("Error", &body)
}

/// OAuth 2.0 Form Post Response Mode: a form that posts the response to the client.
pub fn form_post(cb: &Callback) -> String {
    let mut fields = String::new();
    for (k, v) in &cb.params {
        let _ = write!(
            fields,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(k),
            esc(v)
        );
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">{NO_FAVICON}<title>Submit</title></head>\
         <body onload=\"document.forms[0].submit()\"><form method=\"post\" action=\"{}\">{fields}\
         <noscript><button type=\"submit\">Continue</button></noscript></form></body></html>\n",
        esc(&cb.redirect_uri)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>"x"&'y'</script>"#),
            "&lt;script&gt;&quot;x&quot;&amp;&#x27;y&#x27;&lt;/script&gt;"
        );
    }
}
