//! Scenarios for casim: a TOML format describing a fleet and a sequence of
//! steps (sends, clock moves, faults, queries, expectations), a runner that
//! plays one against an in-process server over real HTTP, and the reports
//! and snapshot text it produces.
//!
//! ```no_run
//! # async fn demo() -> Result<(), casim_scenario::ScenarioError> {
//! let scenario = casim_scenario::load("scenarios/seed-sample.toml")?;
//! let report = casim_scenario::run(&scenario).await?;
//! print!("{}", report.render_text(None));
//! assert!(report.failures().is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! The format is documented for users in `scenarios/README.md`; the runner
//! only ever talks to the server the way any client could (the RPC endpoint
//! and the `/_casim/` control API).

mod cli;
mod client;
mod error;
mod file;
mod pretty;
mod report;
mod runner;

pub use cli::{Outcome, RunArgs, discover, parse_format, resolve, run_cli, run_cli_with};
pub use error::ScenarioError;
pub use file::{
    AddApiFaultStep, AddFaultStep, AdvanceStep, ChangeStep, DescribeStep, ExpectStep,
    InstanceExpect, Query, ReadFileStep, RemoveFaultStep, Scenario, SendFileStep, Step, load,
    parse,
};
pub use report::{
    Body, Check, DescribeView, Failure, InstanceView, InvocationView, InvocationsView,
    InvokeInstancesView, Report, StepReport,
};
pub use runner::run;
