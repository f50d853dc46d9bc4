//! Every way to install mockidp without a Rust toolchain, built and used for real: the container
//! image and docker-compose.yml (`packaging/test-docker.sh`), the Python wheel and its pytest
//! plugin (`packaging/test-python.sh`), the npm packages (`packaging/test-npm.sh`), the release
//! tarball and `cargo install`. All of them ship one static binary
//! (`packaging/build-static.sh`, built once: cargo's lock on `target/static` serialises the
//! tests that ask for it). A test whose tool is missing (Docker engine, Python, Node, the
//! packages `.ci/run` downloads into `target/ci/`) prints `SKIPPED: …` and passes, except when
//! `CI` is set: then it fails.
//!
//! The README's install commands are the ones these scripts run: a test checks each one is in
//! a script, and that the README's examples are the files the suites run.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::YamlLoader;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
/// The most any packaging script may take (the static build is the slow part: ~6 min on 2 cores
/// when nothing built it yet).
const SCRIPT_TIMEOUT_SECS: &str = "900";

fn read(name: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(name)).unwrap()
}

/// `None` (and a loud `SKIPPED`) when `why` is set; a failure instead when `CI` is set.
fn skip_unless(missing: Option<String>, what: &str) -> Option<()> {
    let Some(why) = missing else {
        return Some(());
    };
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    assert!(!in_ci, "{what} cannot run in CI: {why}");
    // Straight to stderr: `eprintln!` would be captured, and hidden, by the test harness.
    let _ = writeln!(
        std::io::stderr(),
        "\n********** SKIPPED: {what}: {why} **********\n"
    );
    None
}

/// Whether `program args…` runs and exits 0.
fn works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The first of `tools` that does not run (`tool --version`), as a reason to skip.
fn missing_tool(tools: &[&str]) -> Option<String> {
    tools
        .iter()
        .find(|t| !works(t, &["--version"]))
        .map(|t| format!("{t} is not installed"))
}

/// A folder `.ci/run` fills, as a reason to skip when it is absent.
fn missing_dir(dir: &str) -> Option<String> {
    (!Path::new(ROOT).join(dir).is_dir()).then(|| format!("no {dir} (made by .ci/run)"))
}

/// Runs `packaging/{script}` (bounded by `timeout`); fails with its whole output unless it
/// exits 0. Returns its stdout.
fn run_script(script: &str) -> String {
    let out = Command::new("timeout")
        .args(["--kill-after=10", SCRIPT_TIMEOUT_SECS])
        .arg(Path::new(ROOT).join("packaging").join(script))
        .current_dir(ROOT)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "packaging/{script}: {}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        out.status
    );
    let _ = writeln!(std::io::stderr(), "{stderr}");
    stdout
}

/// The static binary every package ships (built on first use).
fn static_binary() -> PathBuf {
    PathBuf::from(run_script("build-static.sh").trim())
}

/// The default port the binary listens on, from its own `--help`.
fn default_port() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_mockidp"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let line = help
        .lines()
        .skip_while(|l| !l.contains("--port"))
        .find(|l| l.contains("default:"))
        .unwrap();
    line.split("default: ")
        .nth(1)
        .unwrap()
        .trim_end_matches(']')
        .to_string()
}

/// A Dockerfile's instructions (continuation lines joined), in order.
fn instructions(dockerfile: &str) -> Vec<(String, String)> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        current.push_str(line.trim_end_matches('\\').trim());
        current.push(' ');
        if !line.ends_with('\\') {
            joined.push(std::mem::take(&mut current));
        }
    }
    joined
        .iter()
        .map(|l| {
            let (i, a) = l.trim().split_once(' ').unwrap_or((l.trim(), ""));
            (i.to_string(), a.trim().to_string())
        })
        .collect()
}

/// The instructions of a Dockerfile's last stage (from its last `FROM`).
fn final_stage(dockerfile: &str) -> Vec<(String, String)> {
    let all = instructions(dockerfile);
    let last_from = all.iter().rposition(|(i, _)| i == "FROM").unwrap();
    all[last_from..].to_vec()
}

// --- the files, checked everywhere -------------------------------------------------------------

#[test]
fn dockerfile_is_scratch_non_root_and_names_files_that_exist() {
    let stage = final_stage(&read("Dockerfile"));
    let get = |name: &str| -> Vec<&str> {
        stage
            .iter()
            .filter(|(i, _)| i == name)
            .map(|(_, a)| a.as_str())
            .collect()
    };
    assert_eq!(
        instructions(&read("Dockerfile")).len(),
        stage.len(),
        "one stage"
    );
    assert_eq!(get("FROM"), ["scratch"]);
    let port = default_port();
    assert_eq!(get("EXPOSE"), [port.as_str()]);
    let env = get("ENV").join(" ");
    assert!(env.contains("MOCKIDP_BIND=0.0.0.0"), "{env}");
    assert!(env.contains(&format!("MOCKIDP_PORT={port}")), "{env}");
    assert!(
        env.contains(&format!("MOCKIDP_URL=http://127.0.0.1:{port}")),
        "{env}"
    );
    // Numeric and not root: Kubernetes' runAsNonRoot can only check a number.
    let user = get("USER")[0];
    let (uid, gid) = user.split_once(':').unwrap();
    assert!(
        uid.parse::<u32>().unwrap() > 0 && gid.parse::<u32>().is_ok(),
        "{user}"
    );
    // What it copies exists, and the binary is the static one, which packaging/build-static.sh
    // makes (a fresh checkout has not built it yet).
    let build_static =
        std::fs::read_to_string(Path::new(ROOT).join("packaging/build-static.sh")).unwrap();
    for copy in get("COPY") {
        let source = copy.split_whitespace().next().unwrap();
        if let Some(built) = source.strip_prefix("target/static/") {
            assert!(
                build_static.contains("OUT=target/static"),
                "build-static.sh writes target/static"
            );
            assert_eq!(built, "mockidp", "COPY {source}");
            continue;
        }
        assert!(Path::new(ROOT).join(source).exists(), "COPY {source}");
    }
    assert!(get("COPY").contains(&"target/static/mockidp /usr/local/bin/mockidp"));
    let entry: Vec<String> = serde_json::from_str(get("ENTRYPOINT")[0]).unwrap();
    assert_eq!(entry, ["/usr/local/bin/mockidp"]);
    let cmd: Vec<String> = serde_json::from_str(get("CMD")[0]).unwrap();
    assert_eq!(cmd[..2], ["serve", "--config"]);
    let fixture = cmd[2].trim_start_matches("/fixtures/");
    assert!(Path::new(ROOT).join("fixtures").join(fixture).exists());
    let health = get("HEALTHCHECK")[0];
    assert!(
        health.ends_with(r#"CMD ["/usr/local/bin/mockidp", "health"]"#),
        "{health}"
    );
    // .dockerignore keeps target/ out of the context, except the binary copied.
    let ignore = read(".dockerignore");
    assert!(ignore.lines().any(|l| l == "target"));
    assert!(ignore.lines().any(|l| l == "!target/static/mockidp"));
}

#[test]
fn dockerfile_source_builds_the_same_final_image() {
    let source = read("Dockerfile.source");
    let build = instructions(&source);
    assert!(build[0].1.starts_with("rust:"), "{:?}", build[0]);
    assert!(
        build
            .iter()
            .any(|(i, a)| i == "RUN" && a == "packaging/build-static.sh")
    );
    let mut theirs = final_stage(&source);
    let ours = final_stage(&read("Dockerfile"));
    // Only where the binary comes from differs.
    let copy = theirs.iter_mut().find(|(i, _)| i == "COPY").unwrap();
    assert_eq!(
        copy.1,
        "--from=build /src/target/static/mockidp /usr/local/bin/mockidp"
    );
    copy.1 = "target/static/mockidp /usr/local/bin/mockidp".into();
    assert_eq!(theirs, ours);
}

#[tokio::test]
async fn health_command_checks_a_live_server() {
    let idp = crate::util::start().await;
    let ok = Command::new(env!("CARGO_BIN_EXE_mockidp"))
        .args(["health", "--url", &idp.url()])
        .status()
        .unwrap();
    assert!(ok.success());
    drop(idp);
    let down = Command::new(env!("CARGO_BIN_EXE_mockidp"))
        .args(["health", "--url", "http://127.0.0.1:9"])
        .status()
        .unwrap();
    assert!(!down.success());
}

#[test]
fn compose_file_parses_and_matches_the_image() {
    let docs = YamlLoader::load_from_str(&read("docker-compose.yml")).expect("valid YAML");
    let svc = &docs[0]["services"]["mockidp"];
    assert_eq!(svc["build"].as_str(), Some("."));
    assert!(svc["ports"].is_badvalue(), "ports: in the override file");
    let volume = svc["volumes"][0].as_str().unwrap();
    assert!(volume.starts_with("./fixtures:/fixtures"), "{volume}");
    let command: Vec<&str> = svc["command"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(command[..2], ["serve", "--config"]);
    let file = command[2].trim_start_matches("/fixtures/");
    assert!(Path::new(ROOT).join("fixtures").join(file).exists());
    assert!(svc["environment"]["MOCKIDP_ADMIN_TOKEN"].as_str().is_some());
    // `docker compose up` also reads the override: the published port.
    let port = default_port();
    let overrides = YamlLoader::load_from_str(&read("docker-compose.override.yml")).unwrap();
    let ports: Vec<&str> = overrides[0]["services"]["mockidp"]["ports"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(ports, [format!("{port}:{port}")]);
    // CI's override: host network, nothing published.
    let ci = YamlLoader::load_from_str(&read("packaging/compose.host-network.yml")).unwrap();
    let ci = &ci[0]["services"]["mockidp"];
    assert_eq!(ci["network_mode"].as_str(), Some("host"));
    assert!(ci["ports"].is_badvalue());
}

/// Each command of the README's "Install" block is one that a packaging script (or a test
/// here) runs, verbatim; each example there is a file that a suite runs.
#[test]
fn readme_install_commands_and_examples_are_the_tested_ones() {
    let readme = read("README.md");
    let install = readme
        .split("\n## Install\n")
        .nth(1)
        .expect("an Install section")
        .split("\n## ")
        .next()
        .unwrap();
    let block = install
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let scripts: String = [
        "packaging/test-docker.sh",
        "packaging/test-python.sh",
        "packaging/test-npm.sh",
        "packaging/build-release.sh",
        "tests/it/packaging.rs",
    ]
    .iter()
    .map(|s| read(s))
    .collect();
    let commands: Vec<&str> = block
        .lines()
        .map(|l| l.split("  #").next().unwrap().trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert!(commands.len() >= 6, "{commands:?}");
    for command in &commands {
        let as_args = format!("{:?}", command.split(' ').skip(1).collect::<Vec<_>>());
        assert!(
            scripts.contains(command) || scripts.contains(&as_args[1..as_args.len() - 1]),
            "README command {command:?} is run by no packaging script"
        );
    }
    for example in [
        "packaging/python/tests/test_readme.py",
        "packaging/python/tests/pytest.ini",
        "packaging/npm/test/readme.test.mjs",
    ] {
        let text = read(example);
        let body: String = text
            .lines()
            .filter(|l| !l.starts_with("# The test suite"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(
            install.contains(&body),
            "the README's Install section does not show {example} as it is"
        );
    }
}

// --- built and run, where the tools are --------------------------------------------------------

#[test]
fn container_image_and_compose_run_for_real() {
    let engine = (!works("docker", &["info"])).then(|| "no Docker engine answers".to_string());
    let compose = (!works("docker", &["compose", "version"])
        && !works("docker-compose", &["version"]))
    .then(|| "neither docker compose nor docker-compose".to_string());
    let missing = engine
        .or(compose)
        .or_else(|| missing_tool(&["curl", "python3"]));
    if skip_unless(missing, "container image test").is_none() {
        return;
    }
    let out = run_script("test-docker.sh");
    assert!(out.ends_with("docker: ok\n"), "{out}");
}

#[test]
fn python_wheel_and_pytest_plugin_work_in_a_fresh_venv() {
    let missing = missing_tool(&["python3"]).or_else(|| missing_dir("target/ci/python-wheelhouse"));
    if skip_unless(missing, "Python wheel test").is_none() {
        return;
    }
    let out = run_script("test-python.sh");
    assert!(out.contains(" passed"), "{out}");
    assert!(!out.contains("failed"), "{out}");
}

#[test]
fn npm_packages_install_offline_and_work_with_openid_client() {
    let missing = missing_tool(&["node", "npm"]).or_else(|| missing_dir("target/ci/npm-deps"));
    if skip_unless(missing, "npm package test").is_none() {
        return;
    }
    let out = run_script("test-npm.sh");
    assert!(out.contains("\n# fail 0\n"), "{out}");
    assert!(!out.contains("\n# pass 0\n"), "{out}");
}

#[test]
fn release_tarball_holds_binary_fixtures_licences_and_checksum() {
    let tarball = PathBuf::from(run_script("build-release.sh").trim());
    let dist = tarball.parent().unwrap();
    let name = tarball.file_name().unwrap().to_str().unwrap();
    let check = Command::new("sha256sum")
        .args(["--check", &format!("{name}.sha256")])
        .current_dir(dist)
        .output()
        .unwrap();
    assert!(check.status.success(), "{check:?}");
    let unpacked = tempdir("release");
    let untar = Command::new("tar")
        .args(["-xzf", tarball.to_str().unwrap(), "-C"])
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(untar.success());
    let top = unpacked.join(name.trim_end_matches(".tar.gz"));
    for file in ["mockidp", "LICENSE-MIT", "LICENSE-APACHE", "README.md"] {
        assert!(top.join(file).is_file(), "{file}");
    }
    // The binary in it runs and accepts the fixtures beside it.
    let checked = Command::new(top.join("mockidp"))
        .args(["check", "fixtures/default.toml"])
        .current_dir(&top)
        .output()
        .unwrap();
    assert!(checked.status.success(), "{checked:?}");
    std::fs::remove_dir_all(unpacked).unwrap();
}

/// `cargo install --locked --path .`, as the README says, into a root of its own. The
/// environment points it at the static build's target dir and flags, so it reuses that build
/// instead of compiling everything a third time; the command is the user's.
#[test]
fn cargo_install_from_a_checkout_installs_the_binary() {
    static_binary();
    let root = tempdir("cargo-install");
    let out = Command::new(env!("CARGO"))
        .args(["install", "--locked", "--path", "."])
        .current_dir(ROOT)
        .env("CARGO_INSTALL_ROOT", &root)
        .env("CARGO_TARGET_DIR", Path::new(ROOT).join("target/static"))
        .env("CARGO_BUILD_TARGET", "x86_64-unknown-linux-gnu")
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let version = Command::new(root.join("bin/mockidp"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("mockidp {}", env!("CARGO_PKG_VERSION"))
    );
    std::fs::remove_dir_all(root).unwrap();
}

/// A fresh, empty folder under target/tmp.
fn tempdir(what: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "packaging-{what}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
