//! The Dockerfile and docker-compose.yml: no engine runs here, so these tests check that the
//! files parse and name a binary, a port and paths that exist. (`.ci/run` builds the image
//! when a Docker engine is available.)

use std::process::Command;

use yaml_rust2::YamlLoader;

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{}/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
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

#[test]
fn dockerfile_names_the_binary_port_and_fixtures() {
    let docker = read("Dockerfile");
    let instructions: Vec<(&str, &str)> = docker
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty() && !l.starts_with(' '))
        .map(|l| l.split_once(' ').unwrap_or((l, "")))
        .collect();
    let known = [
        "FROM",
        "WORKDIR",
        "COPY",
        "RUN",
        "ENV",
        "EXPOSE",
        "USER",
        "HEALTHCHECK",
        "ENTRYPOINT",
        "CMD",
    ];
    for (instr, _) in &instructions {
        assert!(known.contains(instr), "unknown instruction {instr}");
    }
    let get = |name: &str| {
        instructions
            .iter()
            .filter(|(i, _)| *i == name)
            .map(|(_, a)| *a)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        get("FROM").len(),
        2,
        "a build stage and a small final stage"
    );
    let port = default_port();
    assert_eq!(get("EXPOSE"), [port.as_str()]);
    assert!(docker.contains(&format!("MOCKIDP_PORT={port}")));
    let bin = env!("CARGO_PKG_NAME");
    assert!(get("RUN").iter().any(
        |r| r.contains("cargo build --release") && r.contains(&format!("target/release/{bin}"))
    ));
    let entry: Vec<String> = serde_json::from_str(get("ENTRYPOINT")[0]).unwrap();
    assert_eq!(entry, [format!("/usr/local/bin/{bin}")]);
    assert!(
        get("COPY")
            .iter()
            .any(|c| c.contains(&format!("target/release/{bin} /usr/local/bin/{bin}")))
    );
    let user = get("USER")[0];
    assert!(user != "root" && user != "0", "runs as non-root");
    // The CMD's subcommand and fixture file exist.
    let cmd: Vec<String> = serde_json::from_str(get("CMD")[0]).unwrap();
    assert_eq!(cmd[0], "serve");
    let fixture = cmd[2].trim_start_matches("/fixtures/");
    assert!(
        std::path::Path::new(&format!(
            "{}/fixtures/{fixture}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .exists()
    );
    // The healthcheck command exists and works against a live server.
    assert!(docker.contains(&format!("\"{bin}\", \"health\"")) || docker.contains("\"health\""));
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
    let port = default_port();
    let ports: Vec<&str> = svc["ports"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(ports, [format!("{port}:{port}")]);
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
    assert!(
        std::path::Path::new(&format!("{}/fixtures/{file}", env!("CARGO_MANIFEST_DIR"))).exists()
    );
    assert!(svc["environment"]["MOCKIDP_ADMIN_TOKEN"].as_str().is_some());
}
