//! `mockidp check`: a fixture file validated, and where its error is.

use std::path::Path;

use super::Config;
use crate::error::Error;

/// `mockidp check`: validates a fixture file. The summary on success; on failure the message,
/// prefixed with `FILE:LINE:` where the culprit can be found in the text.
pub fn check_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    match Config::from_toml_in(&text, path.parent()) {
        Ok(c) => {
            let clients: usize = c.issuers.iter().map(|i| i.clients.len()).sum();
            let users: usize = c.issuers.iter().map(|i| i.users.len()).sum();
            Ok(format!(
                "{}: OK ({} issuers, {clients} clients, {users} users)",
                path.display(),
                c.issuers.len()
            ))
        }
        Err(e) => {
            let msg = match e {
                Error::Config(m) => m,
                other => other.to_string(),
            };
            // Syntax errors, unknown keys and refused values (grants, auth methods): the
            // parser's own span. Checks after parsing quote the culprit, found in the text.
            let line = if let Some((line, column)) = parse_error_position(&text) {
                return Err(format!("{}:{line}:{column}: {msg}", path.display()));
            } else if msg.contains(" line ") {
                None
            } else {
                // The most specific culprit is quoted last ("issuer "a", client "c": ... "x"").
                let quoted: Vec<&str> = msg.split('"').skip(1).step_by(2).collect();
                quoted
                    .into_iter()
                    .rev()
                    .filter(|q| !q.is_empty())
                    .find_map(|q| {
                        let quoted = format!("\"{q}\"");
                        text.lines().position(|l| l.contains(&quoted))
                    })
            };
            Err(match line {
                Some(n) => format!("{}:{}: {msg}", path.display(), n + 1),
                None => format!("{}: {msg}", path.display()),
            })
        }
    }
}

/// Where the TOML parser (and the deserializers it drives) refused `text`, as 1-based line and
/// column, from the error's byte span.
fn parse_error_position(text: &str) -> Option<(usize, usize)> {
    let start = toml::from_str::<Config>(text).err()?.span()?.start;
    let before = text.get(..start)?;
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    Some((line, column))
}
