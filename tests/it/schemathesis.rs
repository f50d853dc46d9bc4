//! The admin API matches its OpenAPI document: schemathesis (pinned in
//! tests/schemathesis/requirements.txt, installed by .ci/run into
//! `target/ci/schemathesis-venv`) generates requests from `/_mockidp/openapi.json` and checks
//! every answer against it. Without the venv the test prints `SKIPPED: …` and passes, except
//! when `CI` is set: then it fails.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

const ADMIN_TOKEN: &str = "schemathesis-admin-token";

#[test]
fn the_admin_api_matches_its_openapi_document() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let venv = root.join("target/ci/schemathesis-venv");
    let program = venv.join("bin/schemathesis");
    if !program.exists() {
        let why = format!(
            "{} is missing (.ci/run creates it from tests/schemathesis/requirements.txt)",
            program.display()
        );
        let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
        assert!(!in_ci, "schemathesis cannot run in CI: {why}");
        let _ = writeln!(
            std::io::stderr(),
            "\n********** SKIPPED: schemathesis: {why} **********\n"
        );
        return;
    }
    // With a token, so that the document's security requirement is what the server enforces.
    let idp = mockidp::MockIdp::builder()
        .admin_token(ADMIN_TOKEN)
        .start_blocking()
        .expect("mockidp starts");
    let work = venv.join("run");
    std::fs::create_dir_all(&work).unwrap();
    let out = Command::new(&program)
        .current_dir(&work)
        .env("HOME", &work)
        .arg("--config-file")
        .arg(root.join("tests/schemathesis/schemathesis.toml"))
        .args(["run", &format!("{}/_mockidp/openapi.json", idp.url())])
        .args(["--header", &format!("Authorization: Bearer {ADMIN_TOKEN}")])
        // Bounded: a fixed seed, few examples per operation, a time budget.
        .args([
            "--seed",
            "20261201",
            "--max-examples",
            "15",
            "--max-time",
            "60",
        ])
        .args(["--workers", "2", "--request-timeout", "10"])
        // Acceptance of schema-valid data cannot hold for rules a schema cannot state
        // (an issuer named in a body must exist; exactly one of two fields).
        .args(["--exclude-checks", "positive_data_acceptance"])
        .output()
        .expect("schemathesis runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{report}"
    );
    assert!(
        report.contains("Tested:"),
        "schemathesis ran nothing:\n{report}"
    );
}
