//! `casim run [NAME|PATH…] [--raw json|xml]`: the command-line face of the
//! runner. The binary parses its flags into [`RunArgs`] and calls
//! [`run_cli`]; everything after that (finding files, running, printing,
//! choosing the exit code) is here, so it is tested without a process.
//!
//! Exit codes: 0 when every expectation held, 1 when one failed or a
//! scenario stopped early, 2 when a scenario could not be found or loaded.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use casim_model::Format;

use crate::error::ScenarioError;
use crate::file::load;
use crate::runner::run;

/// What `casim run` was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunArgs {
    /// Scenario names (`seed-sample`, looked up as `<dir>/seed-sample.toml`)
    /// or paths (anything with a `/` or ending in `.toml`). None: every
    /// `*.toml` in `scenarios_dir`, in sorted order.
    pub targets: Vec<String>,
    /// Also print each step's response bodies in this format.
    pub raw: Option<Format>,
    /// Where names are looked up; `scenarios` (relative to the working
    /// directory) by default.
    pub scenarios_dir: PathBuf,
}

impl Default for RunArgs {
    fn default() -> RunArgs {
        RunArgs {
            targets: Vec::new(),
            raw: None,
            scenarios_dir: PathBuf::from("scenarios"),
        }
    }
}

/// How a `casim run` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every scenario ran and every expectation held.
    Passed,
    /// An expectation failed, or a scenario stopped on an unexpected answer.
    Failed,
    /// A scenario could not be found or loaded.
    NotLoaded,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Outcome::Passed => ExitCode::SUCCESS,
            Outcome::Failed => ExitCode::from(1),
            Outcome::NotLoaded => ExitCode::from(2),
        }
    }
}

/// Reads `--raw`'s value: `json` or `xml`, any letter case. Shaped for
/// clap's `value_parser`.
pub fn parse_format(word: &str) -> Result<Format, String> {
    if word.eq_ignore_ascii_case("json") {
        Ok(Format::Json)
    } else if word.eq_ignore_ascii_case("xml") {
        Ok(Format::Xml)
    } else {
        Err(format!("unknown format `{word}`: use `json` or `xml`"))
    }
}

/// Runs `casim run`, printing reports to stdout and errors to stderr. `Err`
/// only when stdout or stderr cannot be written.
pub async fn run_cli(args: &RunArgs) -> Result<ExitCode, ScenarioError> {
    // Unlocked handles: the future stays `Send`, so a caller may spawn it.
    let mut stdout = io::stdout();
    let mut stderr = io::stderr();
    let outcome = run_cli_with(args, &mut stdout, &mut stderr)
        .await
        .map_err(ScenarioError::Output)?;
    Ok(outcome.exit_code())
}

/// [`run_cli`] writing to the given streams.
///
/// Every scenario that loads is run, even when another does not, so that
/// one typo does not hide the other results; failures are repeated at the
/// end, one line each, naming scenario, step and values.
pub async fn run_cli_with(
    args: &RunArgs,
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
) -> io::Result<Outcome> {
    let mut not_loaded = false;
    let paths = if args.targets.is_empty() {
        match discover(&args.scenarios_dir) {
            Ok(paths) => paths,
            Err(error) => {
                writeln!(err, "error: {error}")?;
                return Ok(Outcome::NotLoaded);
            }
        }
    } else {
        let mut paths = Vec::with_capacity(args.targets.len());
        for target in &args.targets {
            match resolve(target, &args.scenarios_dir) {
                Ok(path) => paths.push(path),
                Err(error) => {
                    writeln!(err, "error: {error}")?;
                    not_loaded = true;
                }
            }
        }
        paths
    };

    let mut failures = Vec::new();
    let mut stopped = Vec::new();
    for path in &paths {
        let scenario = match load(path) {
            Ok(scenario) => scenario,
            Err(error) => {
                writeln!(err, "error: {error}")?;
                not_loaded = true;
                continue;
            }
        };
        match run(&scenario).await {
            Ok(report) => {
                writeln!(out, "{}", report.render_text(args.raw))?;
                failures.extend(report.failures());
            }
            Err(error) => {
                writeln!(err, "error: {error}")?;
                stopped.push(scenario.name.clone());
            }
        }
    }

    for failure in &failures {
        writeln!(err, "failed: {failure}")?;
    }
    let ran = paths.len();
    writeln!(
        out,
        "{ran} scenario{} run: {} failed expectation{}, {} stopped early",
        if ran == 1 { "" } else { "s" },
        failures.len(),
        if failures.len() == 1 { "" } else { "s" },
        stopped.len()
    )?;
    Ok(if not_loaded {
        Outcome::NotLoaded
    } else if !failures.is_empty() || !stopped.is_empty() {
        Outcome::Failed
    } else {
        Outcome::Passed
    })
}

/// The file a `casim run` argument means: a path when it looks like one (it
/// has a `/` or ends in `.toml`), else `<dir>/<name>.toml`.
pub fn resolve(target: &str, dir: &Path) -> Result<PathBuf, ScenarioError> {
    let looks_like_path =
        target.contains('/') || target.contains('\\') || target.ends_with(".toml");
    let path = if looks_like_path {
        PathBuf::from(target)
    } else {
        dir.join(format!("{target}.toml"))
    };
    if path.is_file() {
        return Ok(path);
    }
    let available = discover(dir)
        .map(|paths| {
            paths
                .iter()
                .filter_map(|p| p.file_stem())
                .map(|s| s.to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    Err(ScenarioError::NotFound {
        name: target.to_owned(),
        looked_for: path,
        available,
    })
}

/// Every `*.toml` directly in `dir`, sorted by file name.
pub fn discover(dir: &Path) -> Result<Vec<PathBuf>, ScenarioError> {
    let list_error = |source| ScenarioError::ListDir {
        dir: dir.to_owned(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(list_error)? {
        let path = entry.map_err(list_error)?.path();
        if path.extension().is_some_and(|ext| ext == "toml") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}
