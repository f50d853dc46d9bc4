//! python-keycloak (pinned in `tests/py/requirements.txt`, installed by `.ci/run` in
//! `target/ci/py-venv`) against the iopole realm of a server started here: password token,
//! refresh, userinfo, introspection, decoding with the realm's keys, logout, refresh refused
//! after logout and after expiry in Keycloak's words, a service account's userinfo
//! (`tests/py/keycloak_password.py` holds the steps). Without the venv the test prints
//! `SKIPPED: …` and passes, except when `CI` is set: then it fails.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::util::*;

/// The venv's python, or `None` (after printing `SKIPPED: …`) when `.ci/run` has not made it;
/// in CI a missing venv fails the test.
fn venv_python(what: &str) -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("target/ci/py-venv/bin/python");
    if python.exists() {
        return Some(python);
    }
    let why = format!(
        "{} is missing (.ci/run creates it: python3 -m venv target/ci/py-venv && \
         target/ci/py-venv/bin/pip install -r tests/py/requirements.txt)",
        python.display()
    );
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    assert!(!in_ci, "{what} cannot run in CI: {why}");
    let _ = writeln!(
        std::io::stderr(),
        "\n********** SKIPPED: {what}: {why} **********\n"
    );
    None
}

/// Runs `tests/py/{script}` with `args`; panics with its output unless it succeeds.
async fn run_script(python: PathBuf, script: &str, args: Vec<String>) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/py")
        .join(script);
    // The script blocks on HTTP to this server, which runs on its own thread and runtime.
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .args(args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "python-keycloak failed:\n{stdout}\n{stderr}"
    );
    stdout
}

#[tokio::test]
async fn python_keycloak_password_flow() {
    let Some(python) = venv_python("python-keycloak test") else {
        return;
    };
    let idp = start().await;
    let stdout = run_script(python, "keycloak_password.py", vec![idp.url()]).await;
    for step in [
        "password token: OK",
        "refresh, userinfo, introspect: OK",
        "refusals: OK",
        "refresh after logout: OK",
        "refresh after expiry: OK",
        "service-account userinfo: OK",
    ] {
        assert!(stdout.contains(step), "{step} missing:\n{stdout}");
    }
}

/// python-keycloak's `KeycloakAdmin` through the master realm on iopole
/// (`tests/py/keycloak_admin.py`): create, search, update, reset-password, role and group
/// assignment; the user then logs in by the password grant (in the script) and through the
/// login page (here) with the roles assigned; then the script deletes it.
#[tokio::test]
async fn python_keycloak_admin_cycle() {
    let Some(python) = venv_python("python-keycloak admin test") else {
        return;
    };
    let idp = start().await;
    let out = run_script(
        python.clone(),
        "keycloak_admin.py",
        vec![idp.url(), "setup".into()],
    )
    .await;
    for step in [
        "create, search: OK",
        "update, reset-password: OK",
        "role-assign: OK",
        "group: OK",
        "password grant with the assigned roles: OK",
    ] {
        assert!(out.contains(step), "{step} missing:\n{out}");
    }
    let user_id = out
        .lines()
        .find_map(|l| l.strip_prefix("user id: "))
        .expect("the script names the user")
        .to_string();
    let redirect = "http://localhost:8080/cb";
    let auth = format!(
        "{}/realms/iopole/protocol/openid-connect/auth?response_type=code&client_id=iopole-web\
         &redirect_uri=http%3A%2F%2Flocalhost%3A8080%2Fcb&scope=openid&state=s",
        idp.url()
    );
    let back = Browserless::new()
        .authorize(&auth, "grace", "grace-pw")
        .await;
    let code = query_params(&back)["code"].clone();
    let issuer = idp.issuer_url("iopole").unwrap();
    let (status, tokens) = redeem_iopole_web(&issuer, &code, redirect).await;
    assert_eq!(status, 200, "{tokens}");
    let (_, claims) =
        verify_with_discovery(tokens["access_token"].as_str().unwrap(), &issuer).await;
    let roles = claims["realm_access"]["roles"].as_array().unwrap();
    assert!(
        roles.contains(&"reviewer".into()) && roles.contains(&"user".into()),
        "{claims}"
    );
    assert_eq!(claims["sub"], user_id.as_str());
    let out = run_script(
        python,
        "keycloak_admin.py",
        vec![idp.url(), "delete".into(), user_id],
    )
    .await;
    assert!(out.contains("delete: OK"), "{out}");
    let (status, _) = password_login_status(&idp.url()).await;
    assert_eq!(
        status, 400,
        "a deleted user is unknown to the password grant"
    );
}

/// The password grant for grace at iopole.
async fn password_login_status(base: &str) -> (u16, serde_json::Value) {
    let resp = http()
        .post(format!(
            "{base}/realms/iopole/protocol/openid-connect/token"
        ))
        .basic_auth("iopole-web", Some("iopole-web-secret"))
        .form(&[
            ("grant_type", "password"),
            ("username", "grace"),
            ("password", "grace-pw"),
        ])
        .send()
        .await
        .unwrap();
    status_json(resp).await
}
