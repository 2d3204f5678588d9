//! Developer commands for the casim workspace, run as `cargo xtask <command>`.
//!
//! `test` is the one command that runs every test the project has, including the official
//! SDKs (Tea Python, classic Python, Tea Node.js) against a real server, which need a Python
//! virtualenv and an npm install that cargo cannot make; `simulate` is a short way to run the
//! checked-in scenarios. Standard library only, so this builds in seconds on a fresh clone; no
//! product logic lives here.

use std::env;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

const USAGE: &str = "\
cargo xtask: developer commands for casim

USAGE:
    cargo xtask <COMMAND> [ARGS...]

COMMANDS:
    test        run every test: the workspace's tests (through cargo-nextest), the official
                SDK checks (Tea Python, classic Python, Tea Node.js) against a real
                `casim serve`, and the doc tests
    simulate    run scenarios from scenarios/*.toml and print their reports

Run `cargo xtask <COMMAND> --help` for what each one does and takes.
";

const TEST_HELP: &str = "\
cargo xtask test: run every test the project has

USAGE:
    cargo xtask test [NEXTEST ARGS...]

Phases, one line each:
  1. make sure the virtualenv target/sdk-venv holds the Python SDKs (Tea and classic) pinned
     in sdk/python/requirements.txt (created with `python3 -m venv` and pip; skipped while
     target/sdk-venv/casim-requirements.txt matches requirements.txt, so after the first run
     this costs nothing; delete target/sdk-venv to force a rebuild);
  2. make sure sdk/node/node_modules holds the Tea Node.js SDK pinned in
     sdk/node/package-lock.json (`npm ci --ignore-scripts`; skipped while
     sdk/node/node_modules/.casim-package-lock.json matches package-lock.json; delete
     sdk/node/node_modules to force a reinstall);
  3. `cargo test --workspace --doc` (nextest does not run doc tests).
  4. `cargo nextest run --workspace --no-fail-fast [NEXTEST ARGS...]` with CASIM_SDK_PYTHON
     set to that virtualenv's python, CASIM_SDK_NODE to the node on PATH and
     CASIM_SDK_NODE_DIR to sdk/node, which the tests in crates/casim/tests/*_sdk.rs drive;
Phases 1 and 2 stop the run when they fail. Phases 3 and 4 both run even when the first
failed; the exit status is non-zero if any phase failed.

Needs: cargo-nextest (`cargo install cargo-nextest --locked`), python3 with pip and the venv
module, Node.js 18 or later with npm, and PyPI and the npm registry reachable the first time.

EXAMPLES:
    cargo xtask test                          # everything
    cargo xtask test -E 'test(/_sdk_/)'       # only the SDK checks (nextest filter)
    cargo xtask test -p casim-model           # one crate's tests, plus all doc tests
";

const SIMULATE_HELP: &str = "\
cargo xtask simulate: run scenarios and print their reports

USAGE:
    cargo xtask simulate [NAME...] [--raw json|xml]

Runs `cargo run --quiet -p casim -- run [NAME...] [--raw json|xml]` from the workspace root
and exits with its exit status. Each NAME is a scenario file scenarios/NAME.toml; with no
NAME every scenario runs. `--raw json` or `--raw xml` also prints the raw
DescribeSendFileResults responses in that format after each describe step.

EXAMPLES:
    cargo xtask simulate                      # every scenario
    cargo xtask simulate seed-sample          # scenarios/seed-sample.toml
    cargo xtask simulate seed-sample --raw xml
";

fn main() -> ExitCode {
    let mut args = env::args_os().skip(1);
    let Some(command) = args.next() else {
        eprint!("xtask: no command given\n\n{USAGE}");
        return ExitCode::from(2);
    };
    let rest: Vec<OsString> = args.collect();

    match command.to_str() {
        Some("test") if wants_help(rest.first()) => help(TEST_HELP),
        Some("test") => test(&rest),
        Some("simulate") if rest.iter().any(|arg| wants_help(Some(arg))) => help(SIMULATE_HELP),
        Some("simulate") => simulate(&rest),
        Some("help" | "-h" | "--help") => help(USAGE),
        _ => {
            eprint!(
                "xtask: unknown command {}\n\n{USAGE}",
                command.to_string_lossy()
            );
            ExitCode::from(2)
        }
    }
}

fn wants_help(arg: Option<&OsString>) -> bool {
    arg.is_some_and(|arg| arg == "-h" || arg == "--help")
}

fn help(text: &str) -> ExitCode {
    print!("{text}");
    ExitCode::SUCCESS
}

/// The workspace root: xtask lives one level below it.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The cargo that runs us, so a toolchain override applies to the commands we start too.
fn cargo() -> Command {
    Command::new(env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo")))
}

fn test(nextest_args: &[OsString]) -> ExitCode {
    let root = workspace_root();

    let started = Instant::now();
    let python = match ensure_sdk_venv(&root) {
        Ok(python) => python,
        Err(err) => {
            eprintln!("xtask: {err}");
            return ExitCode::FAILURE;
        }
    };
    let node = match ensure_node_modules(&root) {
        Ok(node) => node,
        Err(err) => {
            eprintln!("xtask: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "xtask: SDKs ready in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Doc tests first, so the run ends on nextest's summary of the real suite.
    println!("xtask: running cargo test --workspace --doc");
    let mut doc = cargo();
    doc.args(["test", "--workspace", "--doc"])
        .current_dir(&root);
    let doc_ok = succeeded("cargo test --doc", &mut doc);

    println!(
        "xtask: running cargo nextest run --workspace --no-fail-fast{} (CASIM_SDK_PYTHON={}, \
         CASIM_SDK_NODE={}, CASIM_SDK_NODE_DIR={})",
        joined(nextest_args),
        python.display(),
        node.node.display(),
        node.dir.display()
    );
    let mut nextest = cargo();
    nextest
        .args(["nextest", "run", "--workspace", "--no-fail-fast"])
        .args(nextest_args)
        .env("CASIM_SDK_PYTHON", &python)
        .env("CASIM_SDK_NODE", &node.node)
        .env("CASIM_SDK_NODE_DIR", &node.dir)
        .current_dir(&root);
    let nextest_ok = succeeded("cargo nextest run", &mut nextest);

    if nextest_ok && doc_ok {
        ExitCode::SUCCESS
    } else {
        let failed: Vec<&str> = [(nextest_ok, "nextest"), (doc_ok, "doc tests")]
            .into_iter()
            .filter_map(|(ok, phase)| (!ok).then_some(phase))
            .collect();
        eprintln!("xtask: test failed: {}", failed.join(", "));
        ExitCode::FAILURE
    }
}

/// Makes `target/sdk-venv` hold exactly `sdk/python/requirements.txt`; returns its python.
///
/// A copy of the requirements the venv was built from is the stamp: equal text means nothing
/// to do, so a warm run neither starts pip nor touches the network.
fn ensure_sdk_venv(root: &Path) -> Result<PathBuf, String> {
    let requirements_path = root.join("sdk/python/requirements.txt");
    let requirements = fs::read_to_string(&requirements_path)
        .map_err(|err| format!("{}: {err}", requirements_path.display()))?;
    let venv = root.join("target/sdk-venv");
    let python = venv.join("bin/python");
    let stamp = venv.join("casim-requirements.txt");

    let built_from = fs::read_to_string(&stamp).ok();
    if python.exists() && built_from.as_deref() == Some(requirements.as_str()) {
        println!(
            "xtask: sdk venv {} is up to date with sdk/python/requirements.txt",
            venv.display()
        );
        return Ok(python);
    }

    println!(
        "xtask: building sdk venv {} from sdk/python/requirements.txt (python3 -m venv, pip install)",
        venv.display()
    );
    // Start clean: installing over an old venv would keep packages the new pins dropped.
    if venv.exists() {
        fs::remove_dir_all(&venv).map_err(|err| format!("{}: {err}", venv.display()))?;
    }
    let mut create = Command::new("python3");
    create.args(["-m", "venv"]).arg(&venv);
    if !succeeded("python3 -m venv", &mut create) {
        return Err(format!(
            "could not create {}; is python3 with the venv module installed? \
             (Debian: apt-get install python3-venv)",
            venv.display()
        ));
    }
    let mut install = Command::new(&python);
    install
        .args(["-m", "pip", "install", "--quiet", "--no-input"])
        .args(["--disable-pip-version-check", "--require-virtualenv", "-r"])
        .arg(&requirements_path);
    if !succeeded("pip install", &mut install) {
        return Err(format!(
            "pip could not install {} into {}; is PyPI reachable?",
            requirements_path.display(),
            venv.display()
        ));
    }
    // Written last, so an interrupted install is retried by the next run.
    fs::write(&stamp, &requirements).map_err(|err| format!("{}: {err}", stamp.display()))?;
    Ok(python)
}

/// Node.js and the folder whose `node_modules` holds the Tea Node.js SDK.
struct NodeSetup {
    node: PathBuf,
    dir: PathBuf,
}

/// Makes `sdk/node/node_modules` hold exactly what `sdk/node/package-lock.json` pins.
///
/// As with the venv, a copy of the lockfile is the stamp: equal text means nothing to do. The
/// install is `npm ci`, which installs the lockfile exactly (and fails if it disagrees with
/// package.json), with install scripts off: the packages are plain JavaScript, and the one
/// postinstall among them (`@alicloud/openapi-core`) would run an unpinned `npm install` on
/// old Node versions.
fn ensure_node_modules(root: &Path) -> Result<NodeSetup, String> {
    let dir = root.join("sdk/node");
    let lock_path = dir.join("package-lock.json");
    let lock =
        fs::read_to_string(&lock_path).map_err(|err| format!("{}: {err}", lock_path.display()))?;
    let node = on_path("node").ok_or_else(|| {
        "no `node` on PATH; the Tea Node.js SDK checks need Node.js 18 or later with npm".to_owned()
    })?;
    let modules = dir.join("node_modules");
    let stamp = modules.join(".casim-package-lock.json");

    let installed_from = fs::read_to_string(&stamp).ok();
    if installed_from.as_deref() == Some(lock.as_str()) {
        println!(
            "xtask: {} is up to date with sdk/node/package-lock.json",
            modules.display()
        );
        return Ok(NodeSetup { node, dir });
    }

    let npm = on_path("npm").ok_or_else(|| {
        "no `npm` on PATH; it comes with Node.js (Debian: apt-get install npm)".to_owned()
    })?;
    println!(
        "xtask: installing {} from sdk/node/package-lock.json (npm ci)",
        modules.display()
    );
    let mut install = Command::new(npm);
    install
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
        .args(["--loglevel", "warn"])
        .current_dir(&dir);
    if !succeeded("npm ci", &mut install) {
        return Err(format!(
            "npm ci could not install {} into {}; is the npm registry reachable?",
            lock_path.display(),
            modules.display()
        ));
    }
    // Written last, so an interrupted install is redone by the next run.
    fs::write(&stamp, &lock).map_err(|err| format!("{}: {err}", stamp.display()))?;
    Ok(NodeSetup { node, dir })
}

/// The first `name` in PATH that is a file, as an absolute path.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

fn simulate(args: &[OsString]) -> ExitCode {
    if let Err(err) = check_raw_format(args) {
        eprintln!("xtask simulate: {err}\n\nRun `cargo xtask simulate --help` for usage.");
        return ExitCode::from(2);
    }

    let mut run = cargo();
    run.args(["run", "--quiet", "-p", "casim", "--", "run"])
        .args(args)
        .current_dir(workspace_root());
    match run.status() {
        // A signal leaves no code; that is a failure all the same.
        Ok(status) => ExitCode::from(
            status
                .code()
                .and_then(|c| u8::try_from(c).ok())
                .unwrap_or(1),
        ),
        Err(err) => {
            eprintln!("xtask simulate: cannot start cargo: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Catches a mistyped `--raw` here, with a message that says what is allowed, before a
/// build of the whole workspace.
fn check_raw_format(args: &[OsString]) -> Result<(), String> {
    let mut args = args.iter().map(|arg| arg.to_string_lossy().into_owned());
    while let Some(arg) = args.next() {
        let format = if arg == "--raw" {
            args.next()
        } else if let Some(value) = arg.strip_prefix("--raw=") {
            Some(value.to_owned())
        } else {
            continue;
        };
        match format.as_deref() {
            Some(word) if word.eq_ignore_ascii_case("json") || word.eq_ignore_ascii_case("xml") => {
            }
            Some(other) => return Err(format!("--raw takes json or xml, not {other:?}")),
            None => return Err("--raw needs a format: json or xml".to_owned()),
        }
    }
    Ok(())
}

/// Runs the command with inherited output; false (after saying why) unless it exits 0.
fn succeeded(what: &str, command: &mut Command) -> bool {
    match command.status() {
        Ok(status) if status.success() => true,
        Ok(status) => {
            eprintln!("xtask: {what} failed: {status}");
            false
        }
        Err(err) => {
            eprintln!("xtask: cannot start {what}: {err}");
            false
        }
    }
}

fn joined(args: &[OsString]) -> String {
    args.iter()
        .map(|arg| format!(" {}", OsStr::to_string_lossy(arg)))
        .collect()
}
