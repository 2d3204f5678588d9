//! The one error type of this crate. Every message is lowercase and names
//! where the problem is: the file (and step, line and field) for a scenario
//! that does not load, the scenario and step for one that fails to run.

use std::io;
use std::path::PathBuf;

/// Why a scenario could not be loaded or run. A failed *expectation* is not
/// an error: it is part of the [`crate::Report`].
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// The file is not TOML, or its top level does not fit the format.
    /// `message` is toml's, which shows the line.
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },

    /// A top-level field has a value the format does not accept.
    #[error("{}: field `{field}`: {message}", path.display())]
    Field {
        path: PathBuf,
        field: &'static str,
        message: String,
    },

    /// One step does not fit the format or refers to something undefined.
    #[error("{}: step {step} (line {line}): {message}", path.display())]
    Step {
        path: PathBuf,
        step: usize,
        line: usize,
        message: String,
    },

    /// The fleet file a scenario names does not load.
    #[error("{}: fleet_file {}: {message}", path.display(), fleet_path.display())]
    FleetFile {
        path: PathBuf,
        fleet_path: PathBuf,
        message: String,
    },

    #[error("no scenario named `{name}`: {} does not exist{}", looked_for.display(), available_hint(available))]
    NotFound {
        name: String,
        looked_for: PathBuf,
        available: Vec<String>,
    },

    #[error("cannot list the scenarios in {}: {source}", dir.display())]
    ListDir {
        dir: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("scenario {scenario}: cannot start the server: {message}")]
    Server { scenario: String, message: String },

    /// The HTTP exchange itself failed (connection refused, body unreadable).
    #[error("scenario {scenario}, step {step}: {action}: {source}")]
    Http {
        scenario: String,
        step: usize,
        action: String,
        #[source]
        source: reqwest::Error,
    },

    /// The server refused a call the scenario did not expect to be refused.
    #[error(
        "scenario {scenario}, step {step}: {action} answered http {status} {code}: {message} \
         (add `expect_error = \"{code}\"` to the step if that is intended)"
    )]
    Api {
        scenario: String,
        step: usize,
        action: String,
        status: u16,
        code: String,
        message: String,
    },

    /// The connection closed without an answer, which the step did not
    /// expect.
    #[error(
        "scenario {scenario}, step {step}: {action}: the connection closed without an answer \
         (add `expect_dropped = true` to the step if that is intended)"
    )]
    Dropped {
        scenario: String,
        step: usize,
        action: String,
    },

    /// The server answered something this runner cannot read.
    #[error("scenario {scenario}, step {step}: {action}: {detail}")]
    Response {
        scenario: String,
        step: usize,
        action: String,
        detail: String,
    },

    #[error("cannot write the report: {0}")]
    Output(#[source] io::Error),
}

fn available_hint(available: &[String]) -> String {
    if available.is_empty() {
        String::new()
    } else {
        format!(" (available: {})", available.join(", "))
    }
}
