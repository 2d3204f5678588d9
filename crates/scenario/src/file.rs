//! The scenario file format (documented for users in `scenarios/README.md`)
//! and its loader.
//!
//! A scenario is written by a person, so the loader is strict and specific:
//! unknown fields are refused by name, labels must be defined before use,
//! status words and error codes must be real ones, and every message names
//! the file, the step (with its line) and the field. Whatever can be checked
//! before a server starts is checked here, so a typo never costs a run.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use casim_fleet::{ApiFaultRule, FaultRule, FleetChange, FleetSpec};
use casim_model::{ErrorCode, ErrorEra, InstanceStatus, InvocationStatus, RegionId, Timestamp};
use serde::{Deserialize, Deserializer};

use crate::error::ScenarioError;

/// A loaded, checked scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// `name` from the file, else the file's stem.
    pub name: String,
    pub description: String,
    /// Where it was loaded from; relative paths in it were resolved
    /// against this file's directory.
    pub path: PathBuf,
    pub seed: u64,
    pub start_time: Timestamp,
    /// The `RegionId` every call sends unless a step says otherwise.
    pub region: RegionId,
    pub fleet: FleetSpec,
    pub error_era: ErrorEra,
    pub steps: Vec<Step>,
}

/// One step, named by its `do` field.
#[derive(Debug, Clone)]
pub enum Step {
    SendFile(SendFileStep),
    Advance(AdvanceStep),
    /// A fleet change in the control API's own shape (`change = "stop_agent"`),
    /// now or scheduled.
    Change(ChangeStep),
    /// A per-instance fault rule from now on.
    AddFault(AddFaultStep),
    /// An API fault rule from now on.
    AddApiFault(AddApiFaultStep),
    /// The end of a fault rule of either kind.
    RemoveFault(RemoveFaultStep),
    Describe(DescribeStep),
    Expect(ExpectStep),
    ReadFile(ReadFileStep),
}

/// The `do` words, in the order the documentation lists them.
const KINDS: [&str; 9] = [
    "send_file",
    "advance",
    "change",
    "add_fault",
    "add_api_fault",
    "remove_fault",
    "describe",
    "expect",
    "read_file",
];

impl Step {
    /// Reads one `[[steps]]` table. The `do` word is taken off first and the
    /// rest is read as that kind's struct directly, rather than through
    /// serde's internally tagged enums, which buffer the fields and so lose
    /// the field name from a type error.
    fn from_table(mut table: toml::Table) -> Result<Step, String> {
        let kind = match table.remove("do") {
            Some(toml::Value::String(kind)) => kind,
            Some(other) => {
                return Err(format!(
                    "field `do`: expected a string, found {}",
                    other.type_str()
                ));
            }
            None => return Err(format!("missing field `do` (one of {})", KINDS.join(", "))),
        };
        // The fields a step adds to a control API shape (`at` and `after` on
        // a change, `as` on a fault rule) are taken off first, so that the
        // rest is read by the control API's own strict types.
        let step = match kind.as_str() {
            "send_file" => read(table).map(Step::SendFile),
            "advance" => read(table).map(Step::Advance),
            "change" => ChangeStep::from_table(table).map(Step::Change),
            "add_fault" => take_label(&mut table).and_then(|label| {
                read(table).map(|rule| Step::AddFault(AddFaultStep { label, rule }))
            }),
            "add_api_fault" => take_label(&mut table).and_then(|label| {
                read(table).map(|rule| Step::AddApiFault(AddApiFaultStep { label, rule }))
            }),
            "remove_fault" => read(table).map(Step::RemoveFault),
            "describe" => read(table).map(Step::Describe),
            "expect" => read(table).map(Step::Expect),
            "read_file" => read(table).map(Step::ReadFile),
            _ => {
                return Err(format!(
                    "field `do`: unknown step `{kind}` (one of {})",
                    KINDS.join(", ")
                ));
            }
        };
        step.map_err(|error| format!("{kind}: {error}"))
    }

    /// The `do` word, for reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::SendFile(_) => "send_file",
            Step::Advance(_) => "advance",
            Step::Change(_) => "change",
            Step::AddFault(_) => "add_fault",
            Step::AddApiFault(_) => "add_api_fault",
            Step::RemoveFault(_) => "remove_fault",
            Step::Describe(_) => "describe",
            Step::Expect(_) => "expect",
            Step::ReadFile(_) => "read_file",
        }
    }
}

/// A `SendFile` call. A parameter left out is not sent at all, so a step can
/// exercise the service's defaults and its `Missing…` errors alike.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendFileStep {
    /// A label later steps use (`invoke = "…"`) for the `InvokeId` this
    /// call returns.
    #[serde(rename = "as")]
    pub label: Option<String>,
    /// `InstanceId.1..N`, in this order.
    #[serde(default)]
    pub instances: Vec<String>,
    pub name: Option<String>,
    pub target_dir: Option<String>,
    pub content: Option<String>,
    pub content_type: Option<String>,
    pub file_mode: Option<String>,
    pub file_owner: Option<String>,
    pub file_group: Option<String>,
    pub overwrite: Option<bool>,
    pub description: Option<String>,
    /// Seconds, as the API takes it.
    pub timeout: Option<i64>,
    /// `ClientToken`: a retry with the same token gets the first call's
    /// `InvokeId` instead of a second record.
    pub client_token: Option<String>,
    /// `RegionId`, when not the scenario's.
    pub region: Option<String>,
    /// Makes the server hand out this `InvokeId` (control API `next-ids`).
    pub pin_invoke_id: Option<String>,
    /// Makes the server answer this call with this `RequestId`.
    pub pin_request_id: Option<String>,
    /// The call must be refused with this `Code`.
    pub expect_error: Option<String>,
    /// The connection must close without an answer (an API fault of kind
    /// `drop`).
    #[serde(default)]
    pub expect_dropped: bool,
}

/// Moves the virtual clock; every event due by then happens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdvanceStep {
    /// `"5s"`, `"1500ms"`, `"2m 30s"`.
    #[serde(deserialize_with = "duration")]
    pub by: Duration,
}

/// Reads a step's table as `T`. toml puts the field path on a second line
/// ("\nin `timeout`"); it is kept on the first.
fn read<T: serde::de::DeserializeOwned>(table: toml::Table) -> Result<T, String> {
    T::deserialize(toml::Value::Table(table))
        .map_err(|error| error.to_string().trim_end().replace('\n', " "))
}

/// Takes the optional `as` label off a fault step's table.
fn take_label(table: &mut toml::Table) -> Result<Option<String>, String> {
    match table.remove("as") {
        None => Ok(None),
        Some(toml::Value::String(label)) => Ok(Some(label)),
        Some(other) => Err(format!(
            "field `as`: expected a string, found {}",
            other.type_str()
        )),
    }
}

/// A fleet change (`POST /_casim/fleet/changes`): now, or at a virtual
/// time (`at`), or after a delay from the step's moment (`after`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeStep {
    pub change: FleetChange,
    pub at: Option<Timestamp>,
    pub after: Option<Duration>,
}

impl ChangeStep {
    fn from_table(mut table: toml::Table) -> Result<ChangeStep, String> {
        let at = match table.remove("at") {
            None => None,
            Some(toml::Value::String(text)) => {
                Some(Timestamp::parse(&text).map_err(|error| format!("field `at`: {error}"))?)
            }
            Some(other) => {
                return Err(format!(
                    "field `at`: expected a time like \"2024-05-06T09:15:30Z\", found {}",
                    other.type_str()
                ));
            }
        };
        let after = match table.remove("after") {
            None => None,
            Some(toml::Value::String(text)) => {
                Some(parse_duration(&text).map_err(|error| format!("field `after`: {error}"))?)
            }
            Some(other) => {
                return Err(format!(
                    "field `after`: expected a duration like \"30s\", found {}",
                    other.type_str()
                ));
            }
        };
        if at.is_some() && after.is_some() {
            return Err("give `at` or `after`, not both".to_owned());
        }
        let change = read(table)?;
        Ok(ChangeStep { change, at, after })
    }
}

/// Adds a per-instance fault rule (`POST /_casim/faults`); its fields are
/// the rule's own. `as` names it for a later `remove_fault`.
#[derive(Debug, Clone, PartialEq)]
pub struct AddFaultStep {
    pub label: Option<String>,
    pub rule: FaultRule,
}

/// Adds an API fault rule (`POST /_casim/api-faults`); its fields are the
/// rule's own. `as` names it for a later `remove_fault`.
#[derive(Debug, Clone, PartialEq)]
pub struct AddApiFaultStep {
    pub label: Option<String>,
    pub rule: ApiFaultRule,
}

/// Removes a fault rule of either kind (`DELETE /_casim/faults/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveFaultStep {
    /// The `as` label of an earlier `add_fault` or `add_api_fault` step, or
    /// the `id` of a rule in the fleet file or given in such a step.
    pub fault: String,
}

/// A `DescribeSendFileResults` call, fetched as JSON and as XML; both bodies
/// go into the report and the snapshot.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DescribeStep {
    /// Names the step in reports and snapshots; made from the filters when
    /// left out.
    pub title: Option<String>,
    /// A label from an earlier `send_file`; sent as `InvokeId`.
    pub invoke: Option<String>,
    pub invoke_id: Option<String>,
    pub instance_id: Option<String>,
    pub name: Option<String>,
    pub invocation_status: Option<String>,
    /// Signed, so that a step can send a nonsensical value on purpose.
    pub page_number: Option<i64>,
    pub page_size: Option<i64>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    pub region: Option<String>,
    /// Answers both fetches with this `RequestId`.
    pub pin_request_id: Option<String>,
    /// The call must be refused with this `Code`.
    pub expect_error: Option<String>,
    /// Both fetches must end with the connection closed and no answer (an
    /// API fault of kind `drop`).
    #[serde(default)]
    pub expect_dropped: bool,
    /// Checks `TotalCount`, as an `expect` step would.
    pub total_count: Option<u64>,
    /// Checks how many invocations this page holds.
    pub on_page: Option<usize>,
}

/// The filters and paging of a `DescribeSendFileResults` call, as
/// `describe` and `expect` steps write them. A field left out is not sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// A label from an earlier `send_file`; sent as `InvokeId`.
    pub invoke: Option<String>,
    pub invoke_id: Option<String>,
    pub instance_id: Option<String>,
    pub name: Option<String>,
    pub invocation_status: Option<String>,
    /// Signed, so that a step can send a nonsensical value on purpose.
    pub page_number: Option<i64>,
    pub page_size: Option<i64>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    pub region: Option<String>,
}

/// Both steps spell the query out as their own fields rather than through
/// `#[serde(flatten)]`, which would lose field names from errors.
macro_rules! query_of {
    ($step:expr) => {
        Query {
            invoke: $step.invoke.clone(),
            invoke_id: $step.invoke_id.clone(),
            instance_id: $step.instance_id.clone(),
            name: $step.name.clone(),
            invocation_status: $step.invocation_status.clone(),
            page_number: $step.page_number,
            page_size: $step.page_size,
            max_results: $step.max_results,
            next_token: $step.next_token.clone(),
            region: $step.region.clone(),
        }
    };
}

impl DescribeStep {
    pub fn query(&self) -> Query {
        query_of!(self)
    }
}

impl ExpectStep {
    pub fn query(&self) -> Query {
        query_of!(self)
    }
}

/// Checks made through a JSON `DescribeSendFileResults` filtered by the
/// query. Every field given is checked; the rest are not.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectStep {
    /// A label from an earlier `send_file`; sent as `InvokeId`.
    pub invoke: Option<String>,
    pub invoke_id: Option<String>,
    pub instance_id: Option<String>,
    pub name: Option<String>,
    pub invocation_status: Option<String>,
    /// Signed, so that a step can send a nonsensical value on purpose.
    pub page_number: Option<i64>,
    pub page_size: Option<i64>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    pub region: Option<String>,
    /// The overall `InvocationStatus` of the invocation named by `invoke`
    /// or `invoke_id`.
    pub status: Option<String>,
    /// Per instance of that invocation.
    #[serde(default)]
    pub instances: BTreeMap<String, InstanceExpect>,
    /// `TotalCount` of the filtered query.
    pub total_count: Option<u64>,
}

/// What one instance's copy of a task must show. `""` expects an empty field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceExpect {
    pub status: Option<String>,
    pub error_code: Option<String>,
    pub error_info: Option<String>,
    pub start_time: Option<String>,
    pub finish_time: Option<String>,
}

/// Reads a file back from an instance through the control API.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadFileStep {
    pub instance_id: String,
    pub path: String,
    /// `false` expects the file to be absent.
    #[serde(default = "yes")]
    pub exists: bool,
    /// Expected content, as UTF-8 text.
    pub content: Option<String>,
    /// Expected content, as Base64, for bytes that are not text.
    pub content_base64: Option<String>,
    pub mode: Option<String>,
    pub owner: Option<String>,
    pub group: Option<String>,
}

fn yes() -> bool {
    true
}

fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_duration(&text).map_err(serde::de::Error::custom)
}

/// `"5s"`, `"1500ms"`, `"1m 30s"`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|error| {
        format!(
            "invalid duration `{text}`: {error} (write for example \"5s\", \"1500ms\", \"2m 30s\")"
        )
    })
}

/// The file as written, before checks.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: Option<String>,
    description: String,
    seed: u64,
    start_time: String,
    region: Option<String>,
    fleet: Option<FleetSpec>,
    fleet_file: Option<PathBuf>,
    #[serde(default)]
    error_era: ErrorEra,
    /// Kept raw with their place in the file, so that an error in one step
    /// can name the step and its line.
    #[serde(default)]
    steps: Vec<toml::Spanned<toml::Value>>,
}

/// Loads and checks the scenario at `path`.
pub fn load(path: impl AsRef<Path>) -> Result<Scenario, ScenarioError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(&text, path)
}

/// Checks a scenario's text as if it had been read from `path`; a
/// `fleet_file` is looked up beside `path`.
pub fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    let file: ScenarioFile = toml::from_str(text).map_err(|error| ScenarioError::Parse {
        path: path.to_owned(),
        message: error.to_string(),
    })?;
    let field_error = |field: &'static str, message: String| ScenarioError::Field {
        path: path.to_owned(),
        field,
        message,
    };

    let name = match file.name {
        Some(name) => name,
        None => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let start_time = Timestamp::parse(&file.start_time)
        .map_err(|error| field_error("start_time", error.to_string()))?;
    let fleet = match (file.fleet, file.fleet_file) {
        (Some(fleet), None) => fleet,
        (None, Some(fleet_path)) => load_fleet(path, &fleet_path)?,
        (Some(_), Some(_)) => {
            return Err(field_error(
                "fleet_file",
                "give either an inline [fleet] table or fleet_file, not both".to_owned(),
            ));
        }
        (None, None) => {
            return Err(field_error(
                "fleet",
                "missing: give an inline [fleet] table or fleet_file = \"fleets/NAME.toml\""
                    .to_owned(),
            ));
        }
    };

    let mut steps = Vec::with_capacity(file.steps.len());
    let mut labels = Labels::default();
    let mut rules = Rules::from_fleet(&fleet);
    for (index, raw) in file.steps.into_iter().enumerate() {
        let number = index + 1;
        let line = line_of(text, raw.span().start);
        let step_error = |message: String| ScenarioError::Step {
            path: path.to_owned(),
            step: number,
            line,
            message,
        };
        let table = match raw.into_inner() {
            toml::Value::Table(table) => table,
            other => {
                return Err(step_error(format!(
                    "expected a table, found {}",
                    other.type_str()
                )));
            }
        };
        let step = Step::from_table(table).map_err(step_error)?;
        check_step(&step, number, &mut labels, &mut rules).map_err(step_error)?;
        steps.push(step);
    }

    Ok(Scenario {
        name,
        description: file.description,
        path: path.to_owned(),
        seed: file.seed,
        start_time,
        region: RegionId::from(file.region.as_deref().unwrap_or("cn-hangzhou")),
        fleet,
        error_era: file.error_era,
        steps,
    })
}

fn load_fleet(scenario_path: &Path, fleet_path: &Path) -> Result<FleetSpec, ScenarioError> {
    let resolved = scenario_path
        .parent()
        .unwrap_or(Path::new(""))
        .join(fleet_path);
    let fleet_error = |message: String| ScenarioError::FleetFile {
        path: scenario_path.to_owned(),
        fleet_path: resolved.clone(),
        message,
    };
    let text = std::fs::read_to_string(&resolved)
        .map_err(|error| fleet_error(format!("cannot read: {error}")))?;
    toml::from_str(&text).map_err(|error| fleet_error(error.to_string()))
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |before| before.matches('\n').count())
        + 1
}

/// Labels defined so far, with the step that defined each.
#[derive(Default)]
struct Labels {
    defined: HashMap<String, usize>,
    order: Vec<String>,
}

impl Labels {
    fn define(&mut self, label: &str, step: usize) -> Result<(), String> {
        if let Some(first) = self.defined.get(label) {
            return Err(format!(
                "field `as`: label `{label}` is already defined by step {first}"
            ));
        }
        self.defined.insert(label.to_owned(), step);
        self.order.push(label.to_owned());
        Ok(())
    }

    fn check(&self, label: &str) -> Result<(), String> {
        if self.defined.contains_key(label) {
            return Ok(());
        }
        let known = if self.order.is_empty() {
            "no label is defined yet".to_owned()
        } else {
            format!("defined so far: {}", self.order.join(", "))
        };
        Err(format!(
            "field `invoke`: label `{label}` is not defined by an earlier send_file step ({known})"
        ))
    }
}

/// The actions an API fault rule can name.
const ACTIONS: [&str; 3] = [
    "SendFile",
    "DescribeSendFileResults",
    "DescribeCloudAssistantStatus",
];

/// Fault rules a `remove_fault` step can name: by the `id` given in the
/// fleet file or an add step, or by an add step's `as` label.
#[derive(Default)]
struct Rules {
    rules: Vec<Rule>,
}

struct Rule {
    /// Its label and its id, whichever were given.
    names: Vec<String>,
    /// The step that added it; 0 for the fleet file.
    step: usize,
    removed: bool,
}

impl Rules {
    fn from_fleet(fleet: &FleetSpec) -> Rules {
        let ids = fleet.faults.iter().map(|rule| &rule.id);
        let api_ids = fleet.api_faults.iter().map(|rule| &rule.id);
        let rules = ids
            .chain(api_ids)
            .filter(|id| !id.is_empty())
            .map(|id| Rule {
                names: vec![id.clone()],
                step: 0,
                removed: false,
            })
            .collect();
        Rules { rules }
    }

    fn live(&self, name: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|rule| !rule.removed && rule.names.iter().any(|n| n == name))
    }

    fn add(&mut self, label: Option<&str>, id: &str, step: usize) -> Result<(), String> {
        let mut names = Vec::new();
        for (field, name) in [("as", label.unwrap_or_default()), ("id", id)] {
            if name.is_empty() {
                continue;
            }
            if let Some(rule) = self.live(name) {
                let by = match rule.step {
                    0 => "the fleet file".to_owned(),
                    step => format!("step {step}"),
                };
                return Err(format!(
                    "field `{field}`: a fault rule named `{name}` is in force already (added by {by})"
                ));
            }
            if label == Some(id) && field == "id" {
                continue;
            }
            names.push(name.to_owned());
        }
        self.rules.push(Rule {
            names,
            step,
            removed: false,
        });
        Ok(())
    }

    fn remove(&mut self, name: &str) -> Result<(), String> {
        if let Some(rule) = self
            .rules
            .iter_mut()
            .find(|rule| !rule.removed && rule.names.iter().any(|n| n == name))
        {
            rule.removed = true;
            return Ok(());
        }
        let live: Vec<&str> = self
            .rules
            .iter()
            .filter(|rule| !rule.removed)
            .flat_map(|rule| rule.names.iter().map(String::as_str))
            .collect();
        let known = if live.is_empty() {
            "none is in force".to_owned()
        } else {
            format!("in force: {}", live.join(", "))
        };
        Err(format!(
            "field `fault`: no fault rule named `{name}` is in force ({known}); name a rule \
             by the `as` label of its add_fault or add_api_fault step, or by an `id` it was given"
        ))
    }
}

/// The checks that need more than one field, or earlier steps.
fn check_step(
    step: &Step,
    number: usize,
    labels: &mut Labels,
    rules: &mut Rules,
) -> Result<(), String> {
    match step {
        Step::SendFile(send) => {
            if send.expect_dropped && send.expect_error.is_some() {
                return Err(
                    "give `expect_error` (a refusal with a Code) or `expect_dropped` (no answer \
                     at all), not both"
                        .to_owned(),
                );
            }
            if send.instances.is_empty() && send.expect_error.is_none() && !send.expect_dropped {
                return Err(
                    "field `instances` is empty: SendFile needs at least one instance \
                            (or add `expect_error` to test the refusal)"
                        .to_owned(),
                );
            }
            if let Some(label) = &send.label {
                if send.expect_error.is_some() || send.expect_dropped {
                    let field = if send.expect_dropped {
                        "expect_dropped"
                    } else {
                        "expect_error"
                    };
                    return Err(format!(
                        "field `as`: label `{label}` would name nothing, because a send with \
                         `{field}` returns no InvokeId"
                    ));
                }
                labels.define(label, number)?;
            }
            Ok(())
        }
        Step::Advance(_) | Step::Change(_) => Ok(()),
        Step::AddFault(add) => {
            casim_fleet::faults::check_rate(add.rule.rate)
                .map_err(|error| format!("field `rate`: {error}"))?;
            rules.add(add.label.as_deref(), &add.rule.id, number)
        }
        Step::AddApiFault(add) => {
            casim_fleet::faults::check_rate(add.rule.rate)
                .map_err(|error| format!("field `rate`: {error}"))?;
            if let Some(action) = add
                .rule
                .actions
                .iter()
                .find(|action| !ACTIONS.contains(&action.as_str()))
            {
                return Err(format!(
                    "field `actions`: `{action}` is no action casim answers (one of {}; \
                     leave `actions` out for every action)",
                    ACTIONS.join(", ")
                ));
            }
            rules.add(add.label.as_deref(), &add.rule.id, number)
        }
        Step::RemoveFault(remove) => rules.remove(&remove.fault),
        Step::Describe(describe) => {
            if describe.expect_dropped && describe.expect_error.is_some() {
                return Err(
                    "give `expect_error` (a refusal with a Code) or `expect_dropped` (no answer \
                     at all), not both"
                        .to_owned(),
                );
            }
            if (describe.expect_error.is_some() || describe.expect_dropped)
                && (describe.total_count.is_some() || describe.on_page.is_some())
            {
                let field = if describe.expect_dropped {
                    "expect_dropped"
                } else {
                    "expect_error"
                };
                return Err(format!(
                    "a describe with `{field}` has no page: drop `total_count` and `on_page`"
                ));
            }
            check_query(&describe.query(), labels)
        }
        Step::Expect(expect) => {
            check_query(&expect.query(), labels)?;
            if expect.status.is_none()
                && expect.instances.is_empty()
                && expect.total_count.is_none()
            {
                return Err(
                    "expect checks nothing: give `status`, `instances` or `total_count`".to_owned(),
                );
            }
            let names_invocation = expect.invoke.is_some() || expect.invoke_id.is_some();
            if (expect.status.is_some() || !expect.instances.is_empty()) && !names_invocation {
                return Err(
                    "`status` and `instances` check one invocation: name it with \
                            `invoke` (a label) or `invoke_id`"
                        .to_owned(),
                );
            }
            if let Some(status) = &expect.status {
                if InvocationStatus::parse(status).is_none() {
                    return Err(format!(
                        "field `status`: `{status}` is no InvocationStatus (one of {})",
                        words(InvocationStatus::ALL.iter().map(|s| s.as_str()))
                    ));
                }
            }
            for (instance, want) in &expect.instances {
                if let Some(status) = &want.status {
                    if !InstanceStatus::ALL.iter().any(|s| s.as_str() == status) {
                        return Err(format!(
                            "field `instances.{instance}.status`: `{status}` is no instance status (one of {})",
                            words(InstanceStatus::ALL.iter().map(|s| s.as_str()))
                        ));
                    }
                }
                if let Some(code) = &want.error_code {
                    if !code.is_empty() && ErrorCode::parse(code).is_none() {
                        return Err(format!(
                            "field `instances.{instance}.error_code`: `{code}` is no ErrorCode (one of {}, \
                             or \"\" for none)",
                            words(ErrorCode::ALL.iter().map(|c| c.as_str()))
                        ));
                    }
                }
            }
            Ok(())
        }
        Step::ReadFile(read) => {
            let expects_content = read.content.is_some()
                || read.content_base64.is_some()
                || read.mode.is_some()
                || read.owner.is_some()
                || read.group.is_some();
            if !read.exists && expects_content {
                return Err(
                    "field `exists` is false, so `content`, `content_base64`, `mode`, `owner` \
                            and `group` cannot be checked"
                        .to_owned(),
                );
            }
            if read.content.is_some() && read.content_base64.is_some() {
                return Err("give `content` or `content_base64`, not both".to_owned());
            }
            Ok(())
        }
    }
}

fn check_query(query: &Query, labels: &Labels) -> Result<(), String> {
    if query.invoke.is_some() && query.invoke_id.is_some() {
        return Err("give `invoke` (a label) or `invoke_id`, not both".to_owned());
    }
    if let Some(label) = &query.invoke {
        labels.check(label)?;
    }
    Ok(())
}

fn words<'a>(words: impl Iterator<Item = &'a str>) -> String {
    words.collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests;
