//! `@keycloak/keycloak-admin-client` (pinned in `tests/js/package-lock.json`, installed by
//! `.ci/run` with `npm ci`) against a server started here: `tests/js/keycloak_admin.test.mjs`,
//! a `node:test` script, runs the user cycle through iopole's service account with
//! realm-management roles, and checks 401 / 403. Without node or the modules the test prints
//! `SKIPPED: …` and passes, except when `CI` is set: then it fails.

use std::io::Write as _;
use std::path::Path;

use crate::util::*;

#[tokio::test]
async fn keycloak_admin_client_user_cycle() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    let module = dir.join("node_modules/@keycloak/keycloak-admin-client/package.json");
    let node = std::process::Command::new("node").arg("--version").output();
    if !module.exists() || node.is_err() {
        let why = format!(
            "node or {} is missing (.ci/run installs it: cd tests/js && npm ci)",
            module.display()
        );
        let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
        assert!(!in_ci, "keycloak-admin-client test cannot run in CI: {why}");
        let _ = writeln!(
            std::io::stderr(),
            "\n********** SKIPPED: keycloak-admin-client test: {why} **********\n"
        );
        return;
    }
    let idp = start().await;
    let url = idp.url();
    // node blocks on HTTP to this server, which runs on its own thread and runtime.
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .args(["--test", "keycloak_admin.test.mjs"])
            .current_dir(dir)
            .env("MOCKIDP_URL", url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "keycloak-admin-client failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("# pass 3"), "{stdout}");
    assert!(stdout.contains("# fail 0"), "{stdout}");
}
