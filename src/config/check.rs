//! `mockidp check`: a fixture file validated, and where its error is.

use std::path::Path;

use super::load::load_toml;

/// `mockidp check`: validates a fixture file. The summary on success; on failure the message,
/// after `FILE:LINE:COLUMN:` of its culprit when it has one (the parser's span, or that of the
/// value a check after parsing refuses).
pub fn check_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    match load_toml(&text, path.parent()) {
        Ok(c) => {
            let clients: usize = c.issuers.iter().map(|i| i.clients.len()).sum();
            let users: usize = c.issuers.iter().map(|i| i.users.len()).sum();
            Ok(format!(
                "{}: OK ({} issuers, {clients} clients, {users} users)",
                path.display(),
                c.issuers.len()
            ))
        }
        Err(e) => Err(match e.at {
            Some(at) => format!(
                "{}:{}:{}: {}",
                path.display(),
                at.line,
                at.column,
                e.message
            ),
            None => format!("{}: {}", path.display(), e.message),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `check_file` on `files` (name, text) written to a fresh directory; the first is checked.
    fn check(test: &str, files: &[(&str, &str)]) -> Result<String, String> {
        let dir = std::env::temp_dir().join(format!("mockidp-check-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        for (name, text) in files {
            std::fs::write(dir.join(name), text).map_err(|e| e.to_string())?;
        }
        let result = check_file(&dir.join(files[0].0));
        let _ = std::fs::remove_dir_all(&dir);
        result.map_err(|e| e.replace(&format!("{}/", dir.display()), ""))
    }

    #[test]
    fn a_syntax_error_names_the_parsers_line_and_column() {
        let err = check(
            "syntax",
            &[("f.toml", "[[issuer]]\nname = 'a'\ndialect = \n")],
        )
        .unwrap_err();
        assert!(err.starts_with("f.toml:3:11: TOML parse error"), "{err}");
    }

    #[test]
    fn a_refused_redirect_uri_names_the_strings_line_and_column() {
        let text = "[[issuer]]\nname = 'a'\ndialect = 'generic'\n\n[[issuer.client]]\nid = 'c'\n\
                    grants = ['authorization_code']\n\
                    redirect_uris = ['http://ok/cb', 'javascript:alert(1)']\n";
        let err = check("redirect", &[("f.toml", text)]).unwrap_err();
        assert!(
            err.starts_with(
                "f.toml:8:34: issuer \"a\", client \"c\": redirect URI \"javascript:alert(1)\""
            ),
            "{err}"
        );
    }

    #[test]
    fn a_refusal_without_a_value_in_the_text_names_the_nearest_table() {
        // The second issuer's path is its dialect's default: no `path` key to point at.
        let text = "[[issuer]]\nname = 'a'\ndialect = 'generic'\n\n[[issuer]]\nname = 'b'\n\
                    dialect = 'generic'\n";
        let err = check("table", &[("f.toml", text)]).unwrap_err();
        assert!(err.contains("used by another issuer"), "{err}");
        let line: usize = err
            .split(':')
            .nth(1)
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        assert!((5..=6).contains(&line), "{err}");
    }

    #[test]
    fn an_imported_realms_refusal_names_its_realm_import() {
        let realm = r#"{"realm": "r", "clients": [{"clientId": "c", "publicClient": true,
                        "redirectUris": ["javascript:alert(1)"]}]}"#;
        let text = "[[issuer]]\nname = 'a'\ndialect = 'generic'\n\n[[realm_import]]\n\
                    file = 'realm.json'\n";
        let err = check("import", &[("f.toml", text), ("realm.json", realm)]).unwrap_err();
        assert!(
            err.starts_with("f.toml:6:8: issuer \"r\", client \"c\""),
            "{err}"
        );
    }
}
