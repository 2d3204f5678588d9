//! What the SDK conformance tests share: a `casim serve` guard, children run in an
//! environment that cannot reach anything but 127.0.0.1, their output gathered without ever
//! blocking them, and the lookup of each SDK's runtime (which fails, never skips, when a
//! runtime or package is missing).
//!
//! Each test file is its own crate and uses a different part of this module, hence the
//! `dead_code` allowance.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long `casim serve` may take to print its address and answer the health check.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// The scripts bound their own waits (30 s in wall mode, 60 s of virtual time in manual
/// mode); this is the backstop for a hung interpreter or server.
pub const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);

/// What every SDK check starts with: the server, with the keys the scripts sign with, so
/// every SDK call is also a signature check, and a clock that moves only when told.
pub const MANUAL_WITH_KEYS: &[&str] = &["--clock", "manual", "--access-keys", "testid:testsecret"];

pub const PYTHON_HINT: &str = "run `cargo xtask test`, which builds target/sdk-venv from \
                               sdk/python/requirements.txt and points CASIM_SDK_PYTHON at it";
pub const NODE_HINT: &str = "run `cargo xtask test`, which runs `npm ci` in sdk/node and points \
                             CASIM_SDK_NODE_DIR (and CASIM_SDK_NODE) at it; it needs Node.js \
                             18 or later with npm";

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/casim sits two levels below the workspace root")
        .to_path_buf()
}

/// A command whose environment cannot send traffic anywhere but where we point it: no
/// proxies, and no Alibaba Cloud credentials or endpoints for an SDK to pick up.
pub fn isolated(program: impl AsRef<OsStr>) -> Command {
    let mut command = Command::new(program);
    for (name, _) in std::env::vars_os() {
        let upper = name.to_string_lossy().to_uppercase();
        let risky = upper.ends_with("_PROXY")
            || ["ALIBABA_CLOUD_", "ALICLOUD_", "ALIYUN_"]
                .iter()
                .any(|prefix| upper.starts_with(prefix));
        if risky {
            command.env_remove(&name);
        }
    }
    command
}

// --- runtimes ------------------------------------------------------------------------------

/// The pins in `sdk/python/requirements.txt`, as (name, version).
fn python_pins() -> Vec<(String, String)> {
    let path = workspace_root().join("sdk/python/requirements.txt");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    text.lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter_map(|line| line.split_once("=="))
        .map(|(name, version)| (name.trim().to_owned(), version.trim().to_owned()))
        .collect()
}

/// The interpreter with the SDK installed: `$CASIM_SDK_PYTHON`, else
/// `target/sdk-venv/bin/python`. Panics with the fix when it is missing, cannot import
/// `modules`, or holds other versions of `packages` than requirements.txt pins.
pub fn sdk_python(modules: &[&str], packages: &[&str]) -> PathBuf {
    let python = std::env::var_os("CASIM_SDK_PYTHON").map_or_else(
        || workspace_root().join("target/sdk-venv/bin/python"),
        PathBuf::from,
    );
    assert!(
        python.exists(),
        "no Python interpreter at {} (from CASIM_SDK_PYTHON or the default venv): {PYTHON_HINT}",
        python.display()
    );

    let pins = python_pins();
    let mut probe = String::from("import importlib.metadata as m\n");
    for module in modules {
        probe.push_str(&format!("import {module}\n"));
    }
    for package in packages {
        probe.push_str(&format!("print({package:?}, m.version({package:?}))\n"));
    }
    let output = isolated(&python)
        .args(["-c", &probe])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap_or_else(|err| panic!("cannot start {}: {err}: {PYTHON_HINT}", python.display()));
    assert!(
        output.status.success(),
        "the SDK is not importable with {} ({}): {PYTHON_HINT}\n{}",
        python.display(),
        modules.join(", "),
        String::from_utf8_lossy(&output.stderr)
    );
    let installed = String::from_utf8_lossy(&output.stdout);
    for line in installed.lines() {
        let (package, version) = line.split_once(' ').unwrap_or((line, ""));
        let pinned = pins.iter().find(|(name, _)| name == package);
        assert!(
            pinned.is_some_and(|(_, pin)| pin == version),
            "{} has {package} {version}, but sdk/python/requirements.txt pins {}: {PYTHON_HINT}",
            python.display(),
            pinned.map_or("nothing", |(_, pin)| pin.as_str())
        );
    }
    python
}

/// Node.js and the folder whose `node_modules` holds the Tea Node SDK.
#[derive(Debug)]
pub struct NodeSdk {
    pub node: PathBuf,
    pub dir: PathBuf,
}

/// `$CASIM_SDK_NODE` (else `node` on PATH) and `$CASIM_SDK_NODE_DIR` (else `sdk/node`).
/// Panics with the fix when Node is missing or older than 18, or when the installed
/// packages are not the ones `sdk/node/package-lock.json` pins.
pub fn sdk_node() -> NodeSdk {
    let node =
        std::env::var_os("CASIM_SDK_NODE").map_or_else(|| PathBuf::from("node"), PathBuf::from);
    let dir = std::env::var_os("CASIM_SDK_NODE_DIR")
        .map_or_else(|| workspace_root().join("sdk/node"), PathBuf::from);

    let version = isolated(&node)
        .arg("--version")
        .output()
        .unwrap_or_else(|err| {
            panic!(
                "cannot start Node.js ({}): {err}: {NODE_HINT}",
                node.display()
            )
        });
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    let major: u32 = version
        .strip_prefix('v')
        .and_then(|v| v.split('.').next())
        .and_then(|major| major.parse().ok())
        .unwrap_or(0);
    assert!(
        major >= 18,
        "{} --version printed {version:?}; the Tea Node SDK check needs Node.js 18 or later: {NODE_HINT}",
        node.display()
    );

    let lock_path = workspace_root().join("sdk/node/package-lock.json");
    let lock: serde_json::Value = std::fs::read_to_string(&lock_path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| panic!("cannot read {} as JSON", lock_path.display()));
    let direct = lock["packages"][""]["dependencies"]
        .as_object()
        .unwrap_or_else(|| panic!("{} lists no dependencies", lock_path.display()));
    for name in direct.keys() {
        let pinned = lock["packages"][format!("node_modules/{name}")]["version"]
            .as_str()
            .unwrap_or_else(|| panic!("{} does not pin {name}", lock_path.display()));
        let manifest = dir.join("node_modules").join(name).join("package.json");
        let installed = std::fs::read_to_string(&manifest)
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .and_then(|json| json["version"].as_str().map(str::to_owned));
        assert!(
            installed.as_deref() == Some(pinned),
            "{name}: {} has {}, but sdk/node/package-lock.json pins {pinned}: {NODE_HINT}",
            manifest.display(),
            installed.as_deref().unwrap_or("nothing")
        );
    }
    NodeSdk { node, dir }
}

// --- running a check script ----------------------------------------------------------------

/// Runs an SDK check script against `server` and asserts that it passed: exit status 0 and
/// a last stdout line that is a JSON summary with `"ok": true` for `flavour`. On failure the
/// message carries everything the script and the server printed.
pub fn run_check(mut command: Command, server: &Server, flavour: &str) -> serde_json::Value {
    // Keeps the interpreter from writing __pycache__ into the source tree.
    command.env("PYTHONDONTWRITEBYTECODE", "1");
    let started = Instant::now();
    let run = Finished::run(command, SCRIPT_TIMEOUT);
    let summary = run
        .stdout
        .lines()
        .last()
        .and_then(|line| serde_json::from_str::<serde_json::Value>(line).ok());
    let passed = run.status.is_some_and(|status| status.success())
        && summary
            .as_ref()
            .is_some_and(|s| s["ok"] == true && s["flavour"] == flavour);
    assert!(
        passed,
        "the {flavour} SDK check failed ({})\n--- script stdout\n{}\n--- script stderr\n{}\
         \n--- casim serve output\n{}",
        run.status.map_or_else(
            || format!("killed after {SCRIPT_TIMEOUT:?}"),
            |status| status.to_string()
        ),
        run.stdout,
        run.stderr,
        server.output.text(),
    );
    // Shown with --no-capture; a passing test's output is otherwise hidden.
    println!(
        "{flavour}: passed in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        run.stdout.lines().last().unwrap_or_default()
    );
    summary.unwrap_or_default()
}

// --- the server ----------------------------------------------------------------------------

/// One line of `casim serve`'s banner: `  instance i-... (cn-hangzhou, linux, ...)`.
#[derive(Debug)]
pub struct Instance {
    pub id: String,
    pub region: String,
    pub os: String,
}

impl Instance {
    /// Region and OS come first in the parentheses; whatever follows them (the instance's
    /// state) is not needed here, so it may change without breaking these tests.
    fn parse(line: &str) -> Option<Self> {
        let rest = line.trim().strip_prefix("instance ")?;
        let (id, rest) = rest.split_once(" (")?;
        let mut details = rest.strip_suffix(')')?.split(", ");
        Some(Self {
            id: id.to_owned(),
            region: details.next()?.to_owned(),
            os: details.next()?.to_owned(),
        })
    }
}

/// A running `casim serve`, killed when dropped so a failed assertion never leaks it.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub port: u16,
    /// The first Linux instance of the demo fleet: the scripts write to `/root` and `/tmp`.
    pub instance: Instance,
    pub output: Transcript,
}

impl Server {
    /// `casim serve --port 0` plus `extra_args`, once it answers its health check.
    pub fn start(extra_args: &[&str]) -> Self {
        let mut child = isolated(env!("CARGO_BIN_EXE_casim"))
            .args(["serve", "--port", "0"])
            .args(extra_args)
            // Plain log lines: they end up in a failure message, not on a terminal.
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("casim serve should start");

        let output = Transcript::default();
        let (lines, banner) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        output.follow(stdout, "stdout", Some(lines));
        output.follow(stderr, "stderr", None);
        // From here on the guard owns the child, so every panic below still kills it.
        let mut server = Self {
            child,
            port: 0,
            instance: Instance {
                id: String::new(),
                region: String::new(),
                os: String::new(),
            },
            output,
        };

        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while server.port == 0 || server.instance.id.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(line) = banner.recv_timeout(left) else {
                panic!(
                    "casim serve printed no `casim listening on http://127.0.0.1:PORT` line and \
                     Linux `  instance i-... (region, linux)` line within {STARTUP_TIMEOUT:?}\n{}",
                    server.output.text()
                );
            };
            if let Some(address) = line.trim().strip_prefix("casim listening on http://") {
                let port = address
                    .strip_prefix("127.0.0.1:")
                    .and_then(|p| p.parse().ok());
                server.port = port.unwrap_or_else(|| {
                    panic!("casim serve must listen on 127.0.0.1:PORT, printed {line:?}")
                });
            } else if let Some(instance) = Instance::parse(&line)
                .filter(|instance| instance.os == "linux" && server.instance.id.is_empty())
            {
                server.instance = instance;
            }
        }

        server.wait_healthy(deadline);
        server
    }

    /// `127.0.0.1:PORT`, as every SDK is given it.
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn wait_healthy(&mut self, deadline: Instant) {
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("casim serve exited with {status}\n{}", self.output.text());
            }
            let answer = self.get("/_casim/health");
            let mut status_line = answer.split_whitespace();
            let http = status_line.next().is_some_and(|v| v.starts_with("HTTP/1."));
            if http && status_line.next() == Some("200") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "GET /_casim/health on port {} did not answer 200 within {STARTUP_TIMEOUT:?}; \
                 last answer {answer:?}\n{}",
                self.port,
                self.output.text()
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// A bare HTTP/1.1 GET; the whole answer, or an empty string while nothing listens.
    fn get(&self, path: &str) -> String {
        let attempt = || -> std::io::Result<String> {
            let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
            stream.set_read_timeout(Some(Duration::from_secs(5)))?;
            write!(
                stream,
                "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
                self.port
            )?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer)?;
            Ok(answer)
        };
        attempt().unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Errors mean the child is already gone, which is what we want.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// --- output --------------------------------------------------------------------------------

/// Everything a child printed, gathered by one thread per stream so that a full pipe can
/// never block the child. Lines are prefixed with `[label] ` unless the label is empty.
#[derive(Clone, Debug, Default)]
pub struct Transcript(Arc<Mutex<String>>);

impl Transcript {
    fn follow(
        &self,
        stream: impl Read + Send + 'static,
        label: &'static str,
        lines: Option<mpsc::Sender<String>>,
    ) -> thread::JoinHandle<()> {
        let transcript = self.clone();
        thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                transcript.push(label, &line);
                if let Some(lines) = &lines {
                    // The reader stops listening once it has the banner; later lines only
                    // go to the transcript.
                    let _ = lines.send(line);
                }
            }
        })
    }

    fn push(&self, label: &str, line: &str) {
        let mut text = self
            .0
            .lock()
            .expect("no reader panics while holding the lock");
        if !label.is_empty() {
            text.push_str(&format!("[{label}] "));
        }
        text.push_str(line);
        text.push('\n');
    }

    pub fn text(&self) -> String {
        self.0
            .lock()
            .expect("no reader panics while holding the lock")
            .clone()
    }
}

/// A command run to completion, or killed at a deadline.
pub struct Finished {
    /// `None` when the command was killed at the deadline.
    pub status: Option<ExitStatus>,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    pub fn run(mut command: Command, timeout: Duration) -> Self {
        let program = format!("{command:?}");
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {program}: {err}"));
        let (stdout, stderr) = (Transcript::default(), Transcript::default());
        let readers = [
            stdout.follow(child.stdout.take().expect("stdout is piped"), "", None),
            stderr.follow(child.stderr.take().expect("stderr is piped"), "", None),
        ];

        let deadline = Instant::now() + timeout;
        let status = loop {
            match child.try_wait().expect("waiting on a child we spawned") {
                Some(status) => break Some(status),
                None if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                None => thread::sleep(Duration::from_millis(50)),
            }
        };
        for reader in readers {
            reader
                .join()
                .expect("output reader finishes once the child is gone");
        }

        Self {
            status,
            stdout: stdout.text(),
            stderr: stderr.text(),
        }
    }
}
