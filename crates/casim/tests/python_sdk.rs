//! The official Tea Python SDK against a real `casim serve`, over a real socket.
//!
//! Router-level tests prove the server answers what we think the service answers; only a
//! real SDK proves that the SDK can *read* it. The Tea Python SDK swallows shape errors
//! (a wrong nesting becomes `body = None`, with HTTP 200), so `sdk/python/sendfile_check.py`
//! checks every value and type the SDK hands back; this file only starts the server, finds
//! an instance, runs the script and reports everything either of them printed.
//!
//! The interpreter is `$CASIM_SDK_PYTHON`, else `target/sdk-venv/bin/python`; `cargo xtask
//! test` builds that virtualenv from `sdk/python/requirements.txt`. A missing interpreter or
//! SDK fails the test rather than skipping it, so CI cannot go green without the SDK check.
//!
//! Only 127.0.0.1 is contacted: the server binds there, and both children run without proxy
//! or Alibaba Cloud credential variables, so no SDK default can reach a real endpoint.

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
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// The script bounds its own waits (30 s in wall mode, 60 s of virtual time in manual mode);
/// this is the backstop for a hung interpreter or server.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(180);

const HINT: &str = "run `cargo xtask test`, which builds target/sdk-venv from \
                    sdk/python/requirements.txt and points CASIM_SDK_PYTHON at it";

#[test]
fn tea_python_sdk_against_serve_wall_clock() {
    let python = sdk_python();
    let server = Server::start(&[]);
    run_check(&python, &server, "wall");
}

#[test]
fn tea_python_sdk_against_manual_clock() {
    let python = sdk_python();
    // With keys, so every SDK call is also a signature check.
    let server = Server::start(&["--clock", "manual", "--access-keys", "testid:testsecret"]);
    run_check(&python, &server, "manual");
}

fn run_check(python: &Path, server: &Server, mode: &str) {
    let script = workspace_root().join("sdk/python/sendfile_check.py");
    let mut command = isolated(python);
    command
        .arg(&script)
        .args(["--mode", mode])
        .args(["--endpoint", &format!("127.0.0.1:{}", server.port)])
        .args(["--instance", &server.instance.id])
        .args(["--region", &server.instance.region])
        // Keeps the interpreter from writing __pycache__ into the source tree.
        .env("PYTHONDONTWRITEBYTECODE", "1");

    let run = Finished::run(command, SCRIPT_TIMEOUT);

    let passed =
        run.status.is_some_and(|status| status.success()) && run.stdout.contains("\"ok\": true");
    assert!(
        passed,
        "sendfile_check.py --mode {mode} failed ({})\n--- script stdout\n{}\n--- script stderr\n{}\
         \n--- casim serve output\n{}",
        run.status.map_or_else(
            || format!("killed after {SCRIPT_TIMEOUT:?}"),
            |status| status.to_string()
        ),
        run.stdout,
        run.stderr,
        server.output.text(),
    );
}

/// The interpreter with the SDK installed; panics with the fix when there is none.
fn sdk_python() -> PathBuf {
    let python = std::env::var_os("CASIM_SDK_PYTHON").map_or_else(
        || workspace_root().join("target/sdk-venv/bin/python"),
        PathBuf::from,
    );
    assert!(
        python.exists(),
        "no Python interpreter at {} (from CASIM_SDK_PYTHON or the default venv): {HINT}",
        python.display()
    );

    let probe = isolated(&python)
        .args([
            "-c",
            "import alibabacloud_ecs20140526.client, alibabacloud_tea_openapi.models",
        ])
        .output()
        .expect("the SDK interpreter should start");
    assert!(
        probe.status.success(),
        "the Tea Python SDK is not importable with {}: {HINT}\n{}",
        python.display(),
        String::from_utf8_lossy(&probe.stderr)
    );
    python
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/casim sits two levels below the workspace root")
        .to_path_buf()
}

/// A command whose environment cannot send traffic anywhere but where we point it: no
/// proxies, and no Alibaba Cloud credentials or endpoints for an SDK to pick up.
fn isolated(program: impl AsRef<OsStr>) -> Command {
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

/// One line of `casim serve`'s banner: `  instance i-... (cn-hangzhou, linux, ...)`.
#[derive(Debug)]
struct Instance {
    id: String,
    region: String,
    os: String,
}

impl Instance {
    /// Region and OS come first in the parentheses; whatever follows them (the instance's
    /// state) is not needed here, so it may change without breaking this test.
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
struct Server {
    child: Child,
    port: u16,
    /// The first Linux instance of the demo fleet: the script writes to `/root`.
    instance: Instance,
    output: Transcript,
}

impl Server {
    fn start(extra_args: &[&str]) -> Self {
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

/// Everything a child printed, gathered by one thread per stream so that a full pipe can
/// never block the child.
#[derive(Clone, Default)]
struct Transcript(Arc<Mutex<String>>);

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
        text.push_str(&format!("[{label}] {line}\n"));
    }

    fn text(&self) -> String {
        self.0
            .lock()
            .expect("no reader panics while holding the lock")
            .clone()
    }
}

/// A command run to completion, or killed at a deadline.
struct Finished {
    /// `None` when the command was killed at the deadline.
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
}

impl Finished {
    fn run(mut command: Command, timeout: Duration) -> Self {
        let program = format!("{command:?}");
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {program}: {err}"));
        let (stdout, stderr) = (Transcript::default(), Transcript::default());
        let readers = [
            stdout.follow(child.stdout.take().expect("stdout is piped"), "out", None),
            stderr.follow(child.stderr.take().expect("stderr is piped"), "err", None),
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
