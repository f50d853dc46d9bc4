//! python-keycloak (pinned in `tests/py/requirements.txt`, installed by `.ci/run` in
//! `target/ci/py-venv`) against the iopole realm of a server started here: password token,
//! refresh, userinfo, introspection, decoding with the realm's keys, logout, refresh refused
//! after logout and after expiry in Keycloak's words, a service account's userinfo
//! (`tests/py/keycloak_password.py` holds the steps). Without the venv the test prints
//! `SKIPPED: …` and passes, except when `CI` is set: then it fails.

use std::io::Write as _;
use std::path::Path;

use crate::util::*;

#[tokio::test]
async fn python_keycloak_password_flow() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = root.join("target/ci/py-venv/bin/python");
    if !python.exists() {
        let why = format!(
            "{} is missing (.ci/run creates it: python3 -m venv target/ci/py-venv && \
             target/ci/py-venv/bin/pip install -r tests/py/requirements.txt)",
            python.display()
        );
        let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
        assert!(!in_ci, "python-keycloak test cannot run in CI: {why}");
        let _ = writeln!(
            std::io::stderr(),
            "\n********** SKIPPED: python-keycloak test: {why} **********\n"
        );
        return;
    }
    let idp = start().await;
    let script = root.join("tests/py/keycloak_password.py");
    let url = idp.url();
    // The script blocks on HTTP to this server, which runs on its own thread and runtime.
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python)
            .arg(script)
            .arg(url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "python-keycloak failed:\n{stdout}\n{stderr}"
    );
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
