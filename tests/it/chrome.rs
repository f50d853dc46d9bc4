//! The browser harness: chromedriver and headless Chromium sessions, driven over the W3C
//! WebDriver protocol by the small client below (reqwest; fantoccini needs a hyper-util connector,
//! and hyper-util is no dependency of this crate). Used by `browser.rs` (logins) and
//! `dashboard.rs`.
//!
//! Each test starts its own chromedriver on a free port and opens fresh browser sessions (own
//! profile directory, so own cookies). Without `chromium` and `chromedriver` on the `PATH`,
//! [`Chrome::launch`] prints `SKIPPED: …` and the test passes, except when `CI` is set: then it
//! fails.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

/// How long any one wait may last: chromedriver's start, a page, a redirect.
pub const WAIT: Duration = Duration::from_secs(10);

/// A chromedriver process on a free loopback port, killed on drop.
pub struct Chrome {
    driver: Child,
    port: u16,
    binary: PathBuf,
}

impl Chrome {
    /// Starts chromedriver, or returns `None` after a loud `SKIPPED` when Chromium or
    /// chromedriver is missing (a failure instead when `CI` is set).
    pub async fn launch() -> Option<Chrome> {
        let binary = find_program(&["chromium", "chromium-browser"]);
        let driver = find_program(&["chromedriver"]);
        let (Some(binary), Some(driver)) = (binary, driver) else {
            let why = "chromium or chromedriver is not on the PATH \
                       (Debian: apt-get install chromium chromium-driver)";
            let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
            assert!(!in_ci, "browser tests cannot run in CI: {why}");
            // Straight to stderr: `eprintln!` would be captured, and hidden, by the test harness.
            let _ = writeln!(
                std::io::stderr(),
                "\n********** SKIPPED: browser test: {why} **********\n"
            );
            return None;
        };
        let port = free_port();
        let mut driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let status = format!("http://127.0.0.1:{port}/status");
        let client = webdriver_http();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(resp) = client.get(&status).send().await
                && let Ok(body) = resp.json::<Value>().await
                && body["value"]["ready"] == true
            {
                break;
            }
            if let Some(exit) = driver.try_wait().unwrap() {
                panic!("chromedriver --port={port} exited: {exit}");
            }
            if Instant::now() > deadline {
                let _ = driver.kill();
                let _ = driver.wait();
                panic!("chromedriver not ready on port {port} after {WAIT:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(Chrome {
            driver,
            port,
            binary,
        })
    }

    /// A new browser with an empty profile: no cookies, no history.
    pub async fn session(&self) -> Browser {
        let profile = temp_profile();
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            // Console messages, for `Browser::console_errors`.
            "goog:loggingPrefs": { "browser": "ALL" },
            "timeouts": { "pageLoad": WAIT.as_millis() as u64, "script": WAIT.as_millis() as u64 },
            "goog:chromeOptions": {
                "binary": self.binary,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-quic", "--window-size=360,800",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        }}});
        let http = webdriver_http();
        let resp = http
            .post(format!("http://127.0.0.1:{}/session", self.port))
            .json(&caps)
            .timeout(Duration::from_secs(30)) // Chromium's first start on a busy machine
            .send()
            .await
            .expect("chromedriver answers");
        let value = webdriver_value(resp).await.expect("a browser session");
        let id = value["sessionId"].as_str().expect("sessionId").to_string();
        let browser = Browser {
            http,
            port: self.port,
            session: format!("/session/{id}"),
            pid: value["capabilities"]["goog:processID"].as_u64(),
            profile,
        };
        // Headless Chromium starts at least 500 px wide whatever `--window-size` says; the
        // window can be narrowed afterwards.
        browser.resize(360, 800).await;
        browser
    }
}

impl Drop for Chrome {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// One browser (a WebDriver session), quit on drop. The methods panic on any WebDriver error.
pub struct Browser {
    http: reqwest::Client,
    port: u16,
    /// `/session/{id}`
    session: String,
    /// Chromium's process, killed on drop if chromedriver could not quit it.
    pid: Option<u64>,
    profile: PathBuf,
}

/// An element of the page, as a WebDriver element reference.
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Browser {
    /// Sends a WebDriver command; `Err` carries WebDriver's error and message.
    pub async fn command(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("http://127.0.0.1:{}{}{path}", self.port, self.session);
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let resp = request.send().await.map_err(|e| format!("{url}: {e}"))?;
        webdriver_value(resp).await
    }

    /// [`Browser::command`] that panics on error.
    pub async fn must(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.command(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}"))
    }

    /// Opens `url` and waits for the page to load. A failed navigation (such as the redirect to
    /// the app, where nothing listens) is not an error: see [`Browser::wait_for_redirect`].
    pub async fn goto(&self, url: &str) {
        match self
            .command("POST", "/url", Some(json!({ "url": url })))
            .await
        {
            Err(e) if e.contains("net::ERR_") => {}
            result => {
                result.unwrap_or_else(|e| panic!("opening {url}: {e}"));
            }
        }
    }

    /// The URL of the current tab, as WebDriver reports it (after a failed navigation: the URL
    /// that failed, not Chromium's error page).
    pub async fn current_url(&self) -> String {
        self.must("GET", "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Where the browser is and the text it shows (cut short), for failure messages.
    pub async fn describe(&self) -> String {
        let url = self.current_url().await;
        let text = self
            .execute("return document.body ? document.body.innerText : ''")
            .await;
        let text: String = text
            .as_str()
            .unwrap_or_default()
            .chars()
            .take(2000)
            .collect();
        format!("at {url}, showing:\n{text}")
    }

    /// The HTML of the page.
    pub async fn source(&self) -> String {
        self.must("GET", "/source", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Runs `script` in the page and returns its result.
    pub async fn execute(&self, script: &str) -> Value {
        self.must(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        let b64 = self.must("GET", "/screenshot", None).await;
        STANDARD.decode(b64.as_str().unwrap()).unwrap()
    }

    /// Resizes the window (Chromium keeps headless windows at least 500 px wide at start; this
    /// narrows them afterwards).
    pub async fn resize(&self, width: u32, height: u32) {
        let size = json!({ "width": width, "height": height });
        self.must("POST", "/window/rect", Some(size)).await;
    }

    /// The console's errors (and failed loads) since the last call: chromedriver's browser log.
    pub async fn console_errors(&self) -> Vec<String> {
        let log = self
            .must("POST", "/se/log", Some(json!({ "type": "browser" })))
            .await;
        log.as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// What the page put in `window.results`, waiting up to [`WAIT`].
    pub async fn results(&self) -> Value {
        self.wait_for_value("window.results").await
    }

    /// The value of the JavaScript expression `expr` once it is defined and not null, waiting
    /// up to [`WAIT`].
    pub async fn wait_for_value(&self, expr: &str) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let r = self
                .execute(&format!("return {expr} === undefined ? null : {expr};"))
                .await;
            if !r.is_null() {
                return r;
            }
            if Instant::now() > deadline {
                panic!("the page gave no {expr} {}", self.describe().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The handle of the current tab.
    pub async fn tab(&self) -> Value {
        self.must("GET", "/window", None).await
    }

    /// Switches to the tab `handle`.
    pub async fn switch_to(&self, handle: &Value) {
        self.must("POST", "/window", Some(json!({ "handle": handle })))
            .await;
    }

    /// Opens a new tab in this browser (same cookies) and switches to it.
    pub async fn new_tab(&self) {
        let tab = self
            .must("POST", "/window/new", Some(json!({ "type": "tab" })))
            .await;
        let handle = tab["handle"].clone();
        self.must("POST", "/window", Some(json!({ "handle": handle })))
            .await;
    }

    /// Every element matching a CSS selector, now.
    pub async fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        let found = self
            .must(
                "POST",
                "/elements",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        found
            .as_array()
            .unwrap()
            .iter()
            .map(|element| Element {
                browser: self,
                id: element_id(element),
            })
            .collect()
    }

    /// The element matching a CSS selector, now.
    pub async fn find(&self, css: &str) -> Element<'_> {
        match self.find_all(css).await.into_iter().next() {
            Some(element) => element,
            None => panic!("no {css} {}", self.describe().await),
        }
    }

    /// The element matching a CSS selector, polling for it up to [`WAIT`].
    pub async fn wait_for(&self, css: &str) -> Element<'_> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(element) = self.find_all(css).await.into_iter().next() {
                return element;
            }
            if Instant::now() > deadline {
                panic!("no {css} after {WAIT:?} {}", self.describe().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Fills in the login form and submits it.
    pub async fn log_in(&self, username: &str, password: &str) {
        self.wait_for("form.login").await;
        self.find("form.login [name=username]")
            .await
            .send_keys(username)
            .await;
        self.find("form.login [name=password]")
            .await
            .send_keys(password)
            .await;
        self.find("form.login button.primary").await.click().await;
    }

    /// Waits up to [`WAIT`] for the browser to be sent to `redirect_uri` and returns the full
    /// URL, query included. Fails if the browser stays elsewhere, saying whether it shows the
    /// login form (no SSO session) or an error.
    pub async fn wait_for_redirect(&self, redirect_uri: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let url = self.current_url().await;
            if url.starts_with(redirect_uri) {
                return url;
            }
            if Instant::now() > deadline {
                let login = !self.find_all("form.login").await.is_empty();
                panic!(
                    "not redirected to {redirect_uri} after {WAIT:?} (login form shown: {login}) {}",
                    self.describe().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The page shows the SSO session of `username`, and no login form.
    pub async fn assert_signed_in_as(&self, username: &str) {
        let who = self.wait_for("#who").await.text().await;
        assert!(who.contains("Signed in as"), "#who: {who}");
        assert!(who.contains(username), "#who: {who}");
        assert!(
            self.find_all("form.login").await.is_empty(),
            "a login form next to the session of {username}"
        );
    }
}

impl Element<'_> {
    fn path(&self, what: &str) -> String {
        format!("/element/{}/{what}", self.id)
    }

    pub async fn send_keys(&self, text: &str) {
        self.browser
            .must("POST", &self.path("value"), Some(json!({ "text": text })))
            .await;
    }

    pub async fn click(&self) {
        self.browser
            .must("POST", &self.path("click"), Some(json!({})))
            .await;
    }

    pub async fn text(&self) -> String {
        let text = self.browser.must("GET", &self.path("text"), None).await;
        text.as_str().unwrap().to_string()
    }

    /// The current value of a form field (its `value` property, not the attribute).
    pub async fn value(&self) -> String {
        let value = self
            .browser
            .must("GET", &self.path("property/value"), None)
            .await;
        value.as_str().unwrap_or_default().to_string()
    }
}

impl Drop for Browser {
    /// Quits the browser (chromedriver's `DELETE /session`, synchronously: Chromium outlives a
    /// killed chromedriver), then removes its profile directory.
    fn drop(&mut self) {
        let quit = delete_blocking(self.port, &self.session);
        if quit.is_err()
            && let Some(pid) = self.pid
        {
            let _ = Command::new("kill")
                .arg(pid.to_string())
                .stderr(Stdio::null())
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// The HTTP client for chromedriver: loopback, no proxy, every request bounded.
fn webdriver_http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(WAIT + Duration::from_secs(5))
        .build()
        .unwrap()
}

/// The `value` of a WebDriver response, or its error and message.
async fn webdriver_value(resp: reqwest::Response) -> Result<Value, String> {
    let status = resp.status();
    let body: Value = resp.json().await.map_err(|e| e.to_string())?;
    let value = body.get("value").cloned().unwrap_or(Value::Null);
    if status.is_success() {
        Ok(value)
    } else {
        Err(format!("{status} {}: {}", value["error"], value["message"]))
    }
}

/// The id in a WebDriver element reference.
fn element_id(reference: &Value) -> String {
    reference["element-6066-11e4-a52e-4f735466cecf"]
        .as_str()
        .expect("an element reference")
        .to_string()
}

/// `DELETE path` to chromedriver, without an async runtime (for `Drop`). Chromedriver answers
/// once the browser has quit, but keeps the connection open: only the status line is read.
fn delete_blocking(port: u16, path: &str) -> std::io::Result<()> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_write_timeout(Some(WAIT))?;
    stream.set_read_timeout(Some(WAIT))?;
    write!(
        stream,
        "DELETE {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut response = Vec::new();
    let mut chunk = [0; 512];
    while !response.contains(&b'\n') {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        response.extend_from_slice(&chunk[..n]);
    }
    let status = String::from_utf8_lossy(&response);
    let status = status.lines().next().unwrap_or_default();
    if status.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        Err(std::io::Error::other(format!("DELETE {path}: {status:?}")))
    }
}

/// The first of `names` found on the `PATH`.
fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|file| is_executable(file))
    })
}

fn is_executable(file: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    file.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// A loopback port nobody listens on (bound, then released, for chromedriver to take).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A new, empty directory for one browser profile.
fn temp_profile() -> PathBuf {
    static COUNT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "mockidp-chromium-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The width in the IHDR chunk of a PNG.
pub fn png_width(png: &[u8]) -> u32 {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    u32::from_be_bytes(png[16..20].try_into().unwrap())
}

/// A file `.ci/run` installed with `npm ci` into `target/ci/{dir}` (from the lock file in
/// `source`); `None`, after printing `SKIPPED`, when it is missing outside CI.
pub fn npm_file(dir: &str, file: &str, source: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/ci")
        .join(dir)
        .join(file);
    if path.is_file() {
        return Some(path);
    }
    let why = format!(
        "{file} is not installed in target/ci/{dir} (run .ci/run, or npm ci there with \
         {source}/package*.json)"
    );
    let in_ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    assert!(!in_ci, "browser library test cannot run in CI: {why}");
    let _ = writeln!(
        std::io::stderr(),
        "\n********** SKIPPED: {why} **********\n"
    );
    None
}

/// Serves `files` (path, content type, body) on `listener` until the test process ends: an
/// app's origin, separate from mockidp's.
pub fn serve_files(listener: TcpListener, files: Vec<(&'static str, &'static str, Vec<u8>)>) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut line = String::new();
            let mut reader = BufReader::new(&stream);
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                match reader.read_line(&mut header) {
                    Ok(n) if n > 2 => {}
                    _ => break,
                }
            }
            let path = line.split(' ').nth(1).unwrap_or("/");
            let path = path.split(['?', '#']).next().unwrap_or(path);
            let (status, kind, body) = match files.iter().find(|(p, _, _)| *p == path) {
                Some((_, kind, body)) => ("200 OK", *kind, body.as_slice()),
                None => ("404 Not Found", "text/plain", b"not found".as_slice()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
                 Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body);
        }
    });
}
