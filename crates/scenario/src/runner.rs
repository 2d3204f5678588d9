//! The runner: starts a server in-process on a loopback port with a manual
//! clock, then drives it over real HTTP one step at a time, exactly as an
//! SDK user's program would (plus the control API for time and faults).
//! It never reaches into the fleet behind the server's back.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use casim_fleet::{ApiFaultKind, ApiFaultRule, FaultRule};
use casim_model::{API_VERSION, Format};
use casim_server::{ClockMode, ServerConfig};
use serde::Deserialize;

use crate::client::{Client, ErrorBody, Reply};
use crate::error::ScenarioError;
use crate::file::{
    AddApiFaultStep, AddFaultStep, AdvanceStep, ChangeStep, DescribeStep, ExpectStep,
    InstanceExpect, Query, ReadFileStep, RemoveFaultStep, Scenario, SendFileStep, Step,
};
use crate::report::{Body, Check, DescribeView, InstanceView, Report, StepReport};

/// Runs `scenario` against a fresh server and returns what it saw. Failed
/// expectations are in the report ([`Report::failures`]); an `Err` means the
/// run itself could not go on (the server refused a call the scenario did
/// not expect it to refuse, or answered something unreadable).
pub async fn run(scenario: &Scenario) -> Result<Report, ScenarioError> {
    let config = ServerConfig {
        bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        fleet: scenario.fleet.clone(),
        seed: scenario.seed,
        start_time: scenario.start_time,
        clock: ClockMode::Manual,
        error_era: scenario.error_era,
        ..ServerConfig::default()
    };
    let server = casim_server::start(config)
        .await
        .map_err(|error| ScenarioError::Server {
            scenario: scenario.name.clone(),
            message: error.to_string(),
        })?;

    let outcome = match Client::new(server.addr()) {
        Ok(client) => Runner::new(scenario, client).run().await,
        Err(error) => Err(ScenarioError::Server {
            scenario: scenario.name.clone(),
            message: format!("cannot build the http client: {error}"),
        }),
    };
    // Shut down on every path, so a failed run leaves no server behind.
    server.shutdown().await;
    outcome
}

struct Runner<'a> {
    scenario: &'a Scenario,
    client: Client,
    /// Label → `InvokeId`, filled as sends succeed.
    labels: HashMap<String, String>,
    /// Label → the id the server gave a fault rule.
    fault_labels: HashMap<String, String>,
    /// The step being run, for error messages.
    step: usize,
}

/// `SendFile`'s success body.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendFileBody {
    invoke_id: String,
}

/// The control API's file read-back.
#[derive(Deserialize)]
struct FileBody {
    content_base64: String,
    mode: String,
    owner: String,
    group: String,
}

#[derive(Deserialize)]
struct ClockBody {
    now: String,
}

/// The control API's answer to a fleet change.
#[derive(Deserialize)]
struct ChangeBody {
    #[serde(default)]
    scheduled: Option<serde_json::Value>,
    at: String,
}

/// The control API's list of fault rules.
#[derive(Deserialize)]
struct FaultsBody {
    #[serde(default)]
    api_faults: Vec<ApiFaultRule>,
}

/// What checks and reports say of a call that got no answer.
const DROPPED: &str = "connection dropped";

/// What one RPC call got.
enum Fetch {
    Answer(Reply),
    /// The connection closed without an answer.
    Dropped,
}

impl Fetch {
    /// `http 200`, or `no answer`, to compare two fetches.
    fn outcome(&self) -> String {
        match self {
            Fetch::Answer(reply) => format!("http {}", reply.status),
            Fetch::Dropped => "no answer".to_owned(),
        }
    }
}

/// A transport failure after the server took the request: the connection
/// closed before or during the answer. Timeouts and refused connections
/// are something else.
fn is_dropped(error: &reqwest::Error) -> bool {
    !error.is_timeout()
        && !error.is_connect()
        && (error.is_body() || error.is_decode() || error.is_request())
}

impl<'a> Runner<'a> {
    fn new(scenario: &'a Scenario, client: Client) -> Runner<'a> {
        Runner {
            scenario,
            client,
            labels: HashMap::new(),
            fault_labels: HashMap::new(),
            step: 0,
        }
    }

    async fn run(mut self) -> Result<Report, ScenarioError> {
        let scenario = self.scenario;
        let instances = scenario.fleet.instances.len();
        let mut report = Report {
            scenario: scenario.name.clone(),
            description: scenario.description.clone(),
            path: scenario.path.clone(),
            setting: setting(scenario, instances),
            steps: Vec::with_capacity(scenario.steps.len()),
        };
        for (index, step) in scenario.steps.iter().enumerate() {
            self.step = index + 1;
            let mut step_report = StepReport {
                number: self.step,
                kind: step.kind(),
                summary: String::new(),
                invocations: Vec::new(),
                checks: Vec::new(),
                bodies: Vec::new(),
            };
            match step {
                Step::SendFile(send) => self.send_file(send, &mut step_report).await?,
                Step::Advance(advance) => self.advance(advance, &mut step_report).await?,
                Step::Change(change) => self.change(change, &mut step_report).await?,
                Step::AddFault(add) => self.add_fault(add, &mut step_report).await?,
                Step::AddApiFault(add) => self.add_api_fault(add, &mut step_report).await?,
                Step::RemoveFault(remove) => self.remove_fault(remove, &mut step_report).await?,
                Step::Describe(describe) => self.describe(describe, &mut step_report).await?,
                Step::Expect(expect) => self.expect(expect, &mut step_report).await?,
                Step::ReadFile(read) => self.read_file(read, &mut step_report).await?,
            }
            report.steps.push(step_report);
        }
        Ok(report)
    }

    async fn send_file(
        &mut self,
        send: &SendFileStep,
        out: &mut StepReport,
    ) -> Result<(), ScenarioError> {
        let mut params = self.common("SendFile", send.region.as_deref());
        for (index, instance) in send.instances.iter().enumerate() {
            params.push((format!("InstanceId.{}", index + 1), instance.clone()));
        }
        let optional = [
            ("Name", send.name.clone()),
            ("TargetDir", send.target_dir.clone()),
            ("Content", send.content.clone()),
            ("ContentType", send.content_type.clone()),
            ("FileMode", send.file_mode.clone()),
            ("FileOwner", send.file_owner.clone()),
            ("FileGroup", send.file_group.clone()),
            ("Overwrite", send.overwrite.map(|b| b.to_string())),
            ("Description", send.description.clone()),
            ("Timeout", send.timeout.map(|t| t.to_string())),
            ("ClientToken", send.client_token.clone()),
        ];
        push_present(&mut params, optional);
        let name = match send.name.as_deref() {
            None => "(no Name)",
            Some("") => "(empty Name)",
            Some(name) => name,
        };
        let count = send.instances.len();
        let to = format!(
            "{name} to {count} instance{}",
            if count == 1 { "" } else { "s" }
        );

        let heading = format!("send_file {name}");
        self.pin(
            send.pin_invoke_id.as_deref(),
            send.pin_request_id.as_deref(),
        )
        .await?;
        let reply = match self.fetch("SendFile", &params, Format::Json).await? {
            Fetch::Answer(reply) => reply,
            Fetch::Dropped => {
                if !send.expect_dropped && send.expect_error.is_none() {
                    return Err(self.dropped_error("SendFile"));
                }
                out.summary = format!("send_file {to}: no answer, the connection closed");
                let (field, expected) = match &send.expect_error {
                    Some(code) => ("SendFile error Code", code.as_str()),
                    None => ("SendFile answer", DROPPED),
                };
                out.checks.push(Check::new(field, expected, DROPPED));
                out.bodies.push(no_answer(&heading, Format::Json));
                return Ok(());
            }
        };
        if !reply.is_success() {
            let error = self.error_body("SendFile", &reply)?;
            out.summary = format!(
                "send_file {to}: refused, http {} {}",
                reply.status, error.code
            );
            if send.expect_dropped {
                let actual = format!("http {} {}", reply.status, error.code);
                out.checks
                    .push(Check::new("SendFile answer", DROPPED, actual));
                out.bodies.push(body(&heading, Format::Json, reply));
                return Ok(());
            }
            let Some(expected) = &send.expect_error else {
                return Err(self.api_error("SendFile", &reply, error));
            };
            out.checks.push(Check::new(
                "SendFile error Code",
                expected.as_str(),
                error.code.as_str(),
            ));
            let heading = format!("{heading} refused");
            out.bodies.push(body(&heading, Format::Json, reply));
            // The same refusal in XML, for the snapshot: a refused send
            // creates nothing, so sending it again changes no state. Not
            // while an API fault rule covers SendFile, though: the second
            // call would count against the rule, and might get through.
            if !self.api_fault_covers("SendFile").await? {
                self.pin(None, send.pin_request_id.as_deref()).await?;
                let xml = self.rpc("SendFile", &params, Format::Xml).await?;
                out.bodies.push(body(&heading, Format::Xml, xml));
            }
            return Ok(());
        }

        let sent: SendFileBody = self.parse_json("SendFile", &reply.body)?;
        out.summary = format!("send_file {to}: InvokeId {}", sent.invoke_id);
        if let Some(label) = &send.label {
            out.summary.push_str(&format!(" (as `{label}`)"));
            self.labels.insert(label.clone(), sent.invoke_id.clone());
        }
        let accepted = format!("(accepted: InvokeId {})", sent.invoke_id);
        if let Some(expected) = &send.expect_error {
            out.checks.push(Check::new(
                "SendFile error Code",
                expected.as_str(),
                accepted.as_str(),
            ));
        }
        if send.expect_dropped {
            out.checks
                .push(Check::new("SendFile answer", DROPPED, accepted.as_str()));
        }
        // Where the new task stands right after the call, unless looking
        // would meet an API fault meant for the scenario's own describes.
        if self.api_fault_covers("DescribeSendFileResults").await? {
            out.summary
                .push_str(" (not looked up: an API fault rule covers DescribeSendFileResults)");
            return Ok(());
        }
        let query = Query {
            invoke_id: Some(sent.invoke_id),
            ..Query::default()
        };
        let (_, view) = self.describe_json(&query).await?;
        out.invocations = view.invocations.items;
        Ok(())
    }

    async fn advance(
        &mut self,
        advance: &AdvanceStep,
        out: &mut StepReport,
    ) -> Result<(), ScenarioError> {
        let millis = u64::try_from(advance.by.as_millis()).unwrap_or(u64::MAX);
        let reply = self
            .control_post(
                "/_casim/clock/advance",
                serde_json::json!({ "millis": millis }),
            )
            .await?;
        let clock: ClockBody = self.parse_json("clock advance", &reply.body)?;
        out.summary = format!(
            "advance {} → {}",
            humantime::format_duration(advance.by),
            clock.now
        );
        Ok(())
    }

    async fn change(
        &mut self,
        step: &ChangeStep,
        out: &mut StepReport,
    ) -> Result<(), ScenarioError> {
        let mut body = serde_json::to_value(&step.change)
            .map_err(|error| self.response_error("fleet change", error))?;
        let kind = body
            .get("change")
            .and_then(|kind| kind.as_str())
            .unwrap_or("change")
            .to_owned();
        if let Some(object) = body.as_object_mut() {
            if let Some(at) = step.at {
                object.insert("at".to_owned(), at.to_string().into());
            }
            if let Some(after) = step.after {
                let millis = u64::try_from(after.as_millis()).unwrap_or(u64::MAX);
                object.insert("after_ms".to_owned(), millis.into());
            }
        }
        let reply = self.control_post("/_casim/fleet/changes", body).await?;
        let answer: ChangeBody = self.parse_json("fleet change", &reply.body)?;
        out.summary = format!("change {kind} on {}", step.change.instance_id());
        if answer.scheduled.is_some() {
            out.summary
                .push_str(&format!(": scheduled for {}", answer.at));
        }
        Ok(())
    }

    async fn add_fault(
        &mut self,
        step: &AddFaultStep,
        out: &mut StepReport,
    ) -> Result<(), ScenarioError> {
        let body = serde_json::to_value(&step.rule)
            .map_err(|error| self.response_error("add fault", error))?;
        let reply = self.control_post("/_casim/faults", body).await?;
        let rule: FaultRule = self.parse_json("add fault", &reply.body)?;
        out.summary = format!("add_fault {}", describe_fault(&rule));
        self.remember_fault(step.label.as_deref(), &rule.id, out);
        Ok(())
    }

    async fn add_api_fault(
        &mut self,
        step: &AddApiFaultStep,
        out: &mut StepReport,
    ) -> Result<(), ScenarioError> {
        let body = serde_json::to_value(&step.rule)
            .map_err(|error| self.response_error("add api fault", error))?;
        let reply = self.control_post("/_casim/api-faults", body).await?;
        let rule: ApiFaultRule = self.parse_json("add api fault", &reply.body)?;
        out.summary = format!("add_api_fault {}", describe_api_fault(&rule));
        self.remember_fault(step.label.as_deref(), &rule.id, out);
        Ok(())
    }

    fn remember_fault(&mut self, label: Option<&str>, id: &str, out: &mut StepReport) {
        if let Some(label) = label {
            if label != id {
                out.summary.push_str(&format!(" (as `{label}`)"));
            }
            self.fault_labels.insert(label.to_owned(), id.to_owned());
        }
    }

    async fn remove_fault(
        &mut self,
        step: &RemoveFaultStep,
        out: &mut StepReport,
    ) -> Result<(), ScenarioError> {
        let id = self
            .fault_labels
            .get(&step.fault)
            .cloned()
            .unwrap_or_else(|| step.fault.clone());
        let path = format!("/_casim/faults/{}", path_segment(&id));
        let reply = self
            .client
            .delete(&path)
            .await
            .map_err(|source| self.http_error(&path, source))?;
        if !reply.is_success() {
            return Err(self.control_error(&path, &reply));
        }
        out.summary = if id == step.fault {
            format!("remove_fault {id}")
        } else {
            format!("remove_fault `{}` ({id})", step.fault)
        };
        Ok(())
    }

    async fn describe(
        &mut self,
        describe: &DescribeStep,
        out: &mut StepReport,
    ) -> Result<(), ScenarioError> {
        let query = describe.query();
        let title = describe
            .title
            .clone()
            .unwrap_or_else(|| default_title(&query));
        let heading = format!("describe {title}");
        let params = self.describe_params(&query);

        const ACTION: &str = "DescribeSendFileResults";
        let mut fetches = Vec::with_capacity(2);
        for format in [Format::Json, Format::Xml] {
            self.pin(None, describe.pin_request_id.as_deref()).await?;
            fetches.push((format, self.fetch(ACTION, &params, format).await?));
        }
        let json = match &fetches[0].1 {
            Fetch::Answer(reply) => reply,
            Fetch::Dropped => {
                out.summary = format!("{heading}: no answer, the connection closed");
                if describe.expect_dropped {
                    out.checks
                        .push(Check::new(format!("{ACTION} answer"), DROPPED, DROPPED));
                } else if let Some(expected) = &describe.expect_error {
                    out.checks.push(Check::new(
                        format!("{ACTION} error Code"),
                        expected.as_str(),
                        DROPPED,
                    ));
                } else {
                    return Err(self.dropped_error(ACTION));
                }
                self.keep_both(fetches, &heading, out);
                return Ok(());
            }
        };
        match (&describe.expect_error, json.is_success()) {
            (_, false) if describe.expect_dropped => {
                let error = self.error_body(ACTION, json)?;
                out.summary = format!("{heading}: refused, http {} {}", json.status, error.code);
                let actual = format!("http {} {}", json.status, error.code);
                out.checks
                    .push(Check::new(format!("{ACTION} answer"), DROPPED, actual));
            }
            (_, true) if describe.expect_dropped => {
                out.summary = format!("{heading}: accepted");
                out.checks.push(Check::new(
                    format!("{ACTION} answer"),
                    DROPPED,
                    "(accepted)",
                ));
            }
            (None, true) => {
                let view: DescribeView = self.parse_json(ACTION, &json.body)?;
                out.summary = format!(
                    "{heading}: TotalCount {}, PageNumber {}, PageSize {}, {} on this page",
                    view.total_count,
                    view.page_number,
                    view.page_size,
                    view.invocations.items.len()
                );
                if let Some(total) = describe.total_count {
                    out.checks.push(Check::new(
                        "TotalCount",
                        total.to_string(),
                        view.total_count.to_string(),
                    ));
                }
                if let Some(count) = describe.on_page {
                    let actual = view.invocations.items.len().to_string();
                    out.checks.push(Check::new(
                        "invocations on this page",
                        count.to_string(),
                        actual,
                    ));
                }
                out.invocations = view.invocations.items;
            }
            (None, false) => {
                let error = self.error_body(ACTION, json)?;
                return Err(self.api_error(ACTION, json, error));
            }
            (Some(expected), true) => {
                out.summary = format!("{heading}: accepted");
                out.checks.push(Check::new(
                    format!("{ACTION} error Code"),
                    expected.as_str(),
                    "(accepted)",
                ));
            }
            (Some(expected), false) => {
                let error = self.error_body(ACTION, json)?;
                out.summary = format!("{heading}: refused, http {} {}", json.status, error.code);
                out.checks.push(Check::new(
                    format!("{ACTION} error Code"),
                    expected.as_str(),
                    error.code,
                ));
            }
        }
        self.keep_both(fetches, &heading, out);
        Ok(())
    }

    /// Keeps both fetches of a describe for the snapshot, after checking
    /// that they had the same outcome (the same HTTP status, or both no
    /// answer).
    fn keep_both(&self, fetches: Vec<(Format, Fetch)>, heading: &str, out: &mut StepReport) {
        let outcomes: Vec<String> = fetches.iter().map(|(_, fetch)| fetch.outcome()).collect();
        if let [json, xml] = outcomes.as_slice() {
            if json != xml {
                out.checks.push(Check::new(
                    "outcome of the XML fetch",
                    json.as_str(),
                    xml.as_str(),
                ));
            }
        }
        out.bodies
            .extend(fetches.into_iter().map(|(format, fetch)| match fetch {
                Fetch::Answer(reply) => body(heading, format, reply),
                Fetch::Dropped => no_answer(heading, format),
            }));
    }

    async fn expect(
        &mut self,
        expect: &ExpectStep,
        out: &mut StepReport,
    ) -> Result<(), ScenarioError> {
        let query = expect.query();
        let (invoke_id, view) = self.describe_json(&query).await?;
        let who = query
            .invoke
            .clone()
            .or(invoke_id.clone())
            .unwrap_or_default();
        out.summary = format!("expect {}", default_title(&query));

        if let Some(total) = expect.total_count {
            out.checks.push(Check::new(
                "TotalCount",
                total.to_string(),
                view.total_count.to_string(),
            ));
        }
        let invocation = invoke_id
            .as_ref()
            .and_then(|id| view.invocations.items.iter().find(|i| &i.invoke_id == id));
        if let Some(status) = &expect.status {
            let actual = invocation.map_or_else(
                || "(not in the answer)".to_owned(),
                |i| i.invocation_status.clone(),
            );
            out.checks.push(Check::new(
                format!("{who} InvocationStatus"),
                status.as_str(),
                actual,
            ));
        }
        for (instance_id, want) in &expect.instances {
            let instance = invocation.and_then(|i| {
                i.invoke_instances
                    .items
                    .iter()
                    .find(|x| &x.instance_id == instance_id)
            });
            check_instance(
                &mut out.checks,
                &format!("{who} {instance_id}"),
                want,
                instance,
            );
        }
        out.invocations = invocation.cloned().into_iter().collect();
        Ok(())
    }

    async fn read_file(
        &mut self,
        read: &ReadFileStep,
        out: &mut StepReport,
    ) -> Result<(), ScenarioError> {
        let path = format!("/_casim/instances/{}/file", read.instance_id);
        let reply = self
            .client
            .get(&path, &[("path", read.path.as_str())])
            .await
            .map_err(|source| self.http_error("read file", source))?;
        let exists = match reply.status {
            404 => false,
            status if (200..300).contains(&status) => true,
            _ => return Err(self.control_error("read file", &reply)),
        };
        out.summary = format!("read_file {} on {}", read.path, read.instance_id);
        out.checks.push(Check::new(
            "file exists",
            read.exists.to_string(),
            exists.to_string(),
        ));
        if !exists {
            return Ok(());
        }
        let file: FileBody = self.parse_json("read file", &reply.body)?;
        if let Some(content) = &read.content {
            let actual = match BASE64.decode(&file.content_base64) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(_) => format!("(content_base64 does not decode: {})", file.content_base64),
            };
            out.checks
                .push(Check::new("content", content.as_str(), actual));
        }
        if let Some(content) = &read.content_base64 {
            out.checks.push(Check::new(
                "content_base64",
                content.as_str(),
                file.content_base64.as_str(),
            ));
        }
        let fields = [
            ("mode", &read.mode, &file.mode),
            ("owner", &read.owner, &file.owner),
            ("group", &read.group, &file.group),
        ];
        for (field, want, actual) in fields {
            if let Some(want) = want {
                out.checks
                    .push(Check::new(field, want.as_str(), actual.as_str()));
            }
        }
        Ok(())
    }

    /// A JSON `DescribeSendFileResults` for `query`, read; also returns the
    /// `InvokeId` the query asked for, labels resolved.
    async fn describe_json(
        &self,
        query: &Query,
    ) -> Result<(Option<String>, DescribeView), ScenarioError> {
        let params = self.describe_params(query);
        let reply = self
            .rpc("DescribeSendFileResults", &params, Format::Json)
            .await?;
        if !reply.is_success() {
            let error = self.error_body("DescribeSendFileResults", &reply)?;
            return Err(self.api_error("DescribeSendFileResults", &reply, error));
        }
        let view = self.parse_json("DescribeSendFileResults", &reply.body)?;
        Ok((self.invoke_id(query), view))
    }

    fn describe_params(&self, query: &Query) -> Vec<(String, String)> {
        let mut params = self.common("DescribeSendFileResults", query.region.as_deref());
        let optional = [
            ("InvokeId", self.invoke_id(query)),
            ("InstanceId", query.instance_id.clone()),
            ("Name", query.name.clone()),
            ("InvocationStatus", query.invocation_status.clone()),
            ("PageNumber", query.page_number.map(|n| n.to_string())),
            ("PageSize", query.page_size.map(|n| n.to_string())),
            ("MaxResults", query.max_results.map(|n| n.to_string())),
            ("NextToken", query.next_token.clone()),
        ];
        push_present(&mut params, optional);
        params
    }

    /// The `InvokeId` a query names, through its label if it has one. The
    /// loader has checked that every label is defined by an earlier send.
    fn invoke_id(&self, query: &Query) -> Option<String> {
        match &query.invoke {
            Some(label) => self.labels.get(label).cloned(),
            None => query.invoke_id.clone(),
        }
    }

    /// `Action`, `Version` and `RegionId`, first, as SDKs send them.
    fn common(&self, action: &str, region: Option<&str>) -> Vec<(String, String)> {
        let region = region.map_or_else(|| self.scenario.region.to_string(), str::to_owned);
        vec![
            ("Action".to_owned(), action.to_owned()),
            ("Version".to_owned(), API_VERSION.to_owned()),
            ("RegionId".to_owned(), region),
        ]
    }

    /// One RPC call that must be answered.
    async fn rpc(
        &self,
        action: &str,
        params: &[(String, String)],
        format: Format,
    ) -> Result<Reply, ScenarioError> {
        match self.fetch(action, params, format).await? {
            Fetch::Answer(reply) => Ok(reply),
            Fetch::Dropped => Err(self.dropped_error(action)),
        }
    }

    /// One RPC call, which may end with the connection closed and no answer
    /// (an API fault of kind `drop`).
    async fn fetch(
        &self,
        action: &str,
        params: &[(String, String)],
        format: Format,
    ) -> Result<Fetch, ScenarioError> {
        let word = match format {
            Format::Json => "JSON",
            Format::Xml => "XML",
        };
        let mut params = params.to_vec();
        params.push(("Format".to_owned(), word.to_owned()));
        match self.client.rpc(&params).await {
            Ok(reply) => Ok(Fetch::Answer(reply)),
            Err(error) if is_dropped(&error) => Ok(Fetch::Dropped),
            Err(source) => Err(self.http_error(action, source)),
        }
    }

    /// Whether an API fault rule in force names `action` (or every action),
    /// as the control API lists them.
    async fn api_fault_covers(&self, action: &str) -> Result<bool, ScenarioError> {
        const PATH: &str = "/_casim/faults";
        let reply = self
            .client
            .get(PATH, &[])
            .await
            .map_err(|source| self.http_error(PATH, source))?;
        if !reply.is_success() {
            return Err(self.control_error(PATH, &reply));
        }
        let faults: FaultsBody = self.parse_json(PATH, &reply.body)?;
        Ok(faults
            .api_faults
            .iter()
            .any(|rule| rule.actions.is_empty() || rule.actions.iter().any(|a| a == action)))
    }

    /// Pins the ids of the next call, when the step asks for it.
    async fn pin(
        &self,
        invoke_id: Option<&str>,
        request_id: Option<&str>,
    ) -> Result<(), ScenarioError> {
        if invoke_id.is_none() && request_id.is_none() {
            return Ok(());
        }
        let mut body = serde_json::Map::new();
        if let Some(id) = invoke_id {
            body.insert("invoke_id".to_owned(), id.into());
        }
        if let Some(id) = request_id {
            body.insert("request_id".to_owned(), id.into());
        }
        self.control_post("/_casim/next-ids", serde_json::Value::Object(body))
            .await
            .map(drop)
    }

    async fn control_post(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> Result<Reply, ScenarioError> {
        let reply = self
            .client
            .post_json(path, &body)
            .await
            .map_err(|source| self.http_error(path, source))?;
        if reply.is_success() {
            Ok(reply)
        } else {
            Err(self.control_error(path, &reply))
        }
    }

    fn parse_json<T: serde::de::DeserializeOwned>(
        &self,
        action: &str,
        body: &str,
    ) -> Result<T, ScenarioError> {
        serde_json::from_str(body).map_err(|error| {
            self.response_error(action, format!("unreadable answer ({error}): {body}"))
        })
    }

    fn error_body(&self, action: &str, reply: &Reply) -> Result<ErrorBody, ScenarioError> {
        serde_json::from_str(&reply.body).map_err(|error| {
            self.response_error(
                action,
                format!(
                    "http {} with an unreadable error body ({error}): {}",
                    reply.status, reply.body
                ),
            )
        })
    }

    fn api_error(&self, action: &str, reply: &Reply, error: ErrorBody) -> ScenarioError {
        ScenarioError::Api {
            scenario: self.scenario.name.clone(),
            step: self.step,
            action: action.to_owned(),
            status: reply.status,
            code: error.code,
            message: error.message,
        }
    }

    fn control_error(&self, what: &str, reply: &Reply) -> ScenarioError {
        self.response_error(
            what,
            format!(
                "control api answered http {}: {}",
                reply.status,
                reply.body.trim()
            ),
        )
    }

    fn dropped_error(&self, action: &str) -> ScenarioError {
        ScenarioError::Dropped {
            scenario: self.scenario.name.clone(),
            step: self.step,
            action: action.to_owned(),
        }
    }

    fn http_error(&self, action: &str, source: reqwest::Error) -> ScenarioError {
        ScenarioError::Http {
            scenario: self.scenario.name.clone(),
            step: self.step,
            action: action.to_owned(),
            source,
        }
    }

    fn response_error(&self, action: &str, detail: impl ToString) -> ScenarioError {
        ScenarioError::Response {
            scenario: self.scenario.name.clone(),
            step: self.step,
            action: action.to_owned(),
            detail: detail.to_string(),
        }
    }
}

fn push_present<const N: usize>(
    params: &mut Vec<(String, String)>,
    optional: [(&str, Option<String>); N],
) {
    params.extend(
        optional
            .into_iter()
            .filter_map(|(name, value)| Some((name.to_owned(), value?))),
    );
}

fn body(heading: &str, format: Format, reply: Reply) -> Body {
    Body {
        heading: heading.to_owned(),
        format,
        http_status: Some(reply.status),
        text: reply.body,
    }
}

/// A call that got no answer, for the snapshot.
fn no_answer(heading: &str, format: Format) -> Body {
    Body {
        heading: heading.to_owned(),
        format,
        http_status: None,
        text: String::new(),
    }
}

/// A fault rule in one line: `fault-1: ClientNotResponse, rate 0.3, first 2,
/// on i-…`.
fn describe_fault(rule: &FaultRule) -> String {
    let mut text = format!("{}: {}", rule.id, rule.error_code);
    if let Some(rate) = rule.rate {
        text.push_str(&format!(", rate {rate}"));
    }
    if let Some(first) = rule.first {
        text.push_str(&format!(", first {first} per instance"));
    }
    let scope = &rule.scope;
    if !scope.instances.is_empty() {
        let ids: Vec<&str> = scope.instances.iter().map(|id| id.as_str()).collect();
        text.push_str(&format!(", on {}", ids.join(" ")));
    }
    if !scope.tags.is_empty() {
        let tags: Vec<String> = scope.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        text.push_str(&format!(", tagged {}", tags.join(" ")));
    }
    if !scope.instance_groups.is_empty() {
        text.push_str(&format!(", in {}", scope.instance_groups.join(" ")));
    }
    if !scope.names.is_empty() {
        text.push_str(&format!(", for {}", scope.names.join(" ")));
    }
    text
}

/// The scenario's setting: seed, start, region and fleet size, then each
/// fault rule and scheduled change the fleet declares, so a reader sees
/// the cause of what follows before it happens.
fn setting(scenario: &Scenario, instances: usize) -> String {
    let mut lines = vec![format!(
        "seed {}, start {}, region {}, {instances} instance{}",
        scenario.seed,
        scenario.start_time,
        scenario.region,
        if instances == 1 { "" } else { "s" }
    )];
    for rule in &scenario.fleet.faults {
        lines.push(format!(
            "fault rule {}",
            describe_fault(rule).trim_start_matches(": ")
        ));
    }
    for rule in &scenario.fleet.api_faults {
        lines.push(format!(
            "API fault rule {}",
            describe_api_fault(rule).trim_start_matches(": ")
        ));
    }
    for scheduled in &scenario.fleet.schedule {
        let kind = serde_json::to_value(&scheduled.change)
            .ok()
            .and_then(|v| v.get("change").and_then(|k| k.as_str()).map(str::to_owned))
            .unwrap_or_else(|| "change".to_owned());
        lines.push(format!(
            "scheduled at {}: {kind} on {}",
            scheduled.at,
            scheduled.change.instance_id()
        ));
    }
    lines.join("\n  ")
}

/// An API fault rule in one line: `api-fault-1: throttle on
/// DescribeSendFileResults, first 4 calls`.
fn describe_api_fault(rule: &ApiFaultRule) -> String {
    let kind = match rule.kind {
        ApiFaultKind::Throttle => "throttle (Throttling.User)".to_owned(),
        ApiFaultKind::InternalError => "internal error (InternalError.Dispatch)".to_owned(),
        ApiFaultKind::Latency { millis } => format!("latency {millis} ms"),
        ApiFaultKind::Drop => "drop the connection".to_owned(),
    };
    let actions = if rule.actions.is_empty() {
        "every action".to_owned()
    } else {
        rule.actions.join(" ")
    };
    let mut text = format!("{}: {kind} on {actions}", rule.id);
    if let Some(rate) = rule.rate {
        text.push_str(&format!(", rate {rate}"));
    }
    if let Some(count) = rule.count {
        text.push_str(&format!(
            ", at most {count} call{}",
            if count == 1 { "" } else { "s" }
        ));
    }
    text
}

/// A fault id as one URL path segment.
fn path_segment(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

fn check_instance(
    checks: &mut Vec<Check>,
    who: &str,
    want: &InstanceExpect,
    instance: Option<&InstanceView>,
) {
    let fields = [
        (
            "InvocationStatus",
            &want.status,
            instance.map(|i| &i.invocation_status),
        ),
        (
            "ErrorCode",
            &want.error_code,
            instance.map(|i| &i.error_code),
        ),
        (
            "ErrorInfo",
            &want.error_info,
            instance.map(|i| &i.error_info),
        ),
        (
            "StartTime",
            &want.start_time,
            instance.map(|i| &i.start_time),
        ),
        (
            "FinishTime",
            &want.finish_time,
            instance.map(|i| &i.finish_time),
        ),
    ];
    for (field, expected, actual) in fields {
        if let Some(expected) = expected {
            let actual = actual.map_or("(not in InvokeInstances)", String::as_str);
            checks.push(Check::new(
                format!("{who} {field}"),
                expected.as_str(),
                actual,
            ));
        }
    }
}

/// A name for a query made from its filters, in the scenario's own words
/// (labels rather than ids), so that it reads the same in every run.
pub(crate) fn default_title(query: &Query) -> String {
    let numbers = [
        ("page_number", query.page_number),
        ("page_size", query.page_size),
        ("max_results", query.max_results),
    ];
    let texts = [
        ("invoke", &query.invoke),
        ("invoke_id", &query.invoke_id),
        ("instance_id", &query.instance_id),
        ("name", &query.name),
        ("invocation_status", &query.invocation_status),
        ("next_token", &query.next_token),
        ("region", &query.region),
    ];
    let parts: Vec<String> = texts
        .into_iter()
        .filter_map(|(field, value)| Some(format!("{field}={}", value.as_ref()?)))
        .chain(
            numbers
                .into_iter()
                .filter_map(|(field, value)| Some(format!("{field}={}", value?))),
        )
        .collect();
    if parts.is_empty() {
        "all".to_owned()
    } else {
        parts.join(" ")
    }
}
