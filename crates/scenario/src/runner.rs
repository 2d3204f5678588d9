//! The runner: starts a server in-process on a loopback port with a manual
//! clock, then drives it over real HTTP one step at a time, exactly as an
//! SDK user's program would (plus the control API for time and faults).
//! It never reaches into the fleet behind the server's back.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use casim_fleet::FleetChange;
use casim_model::{API_VERSION, Format};
use casim_server::{ClockMode, ServerConfig};
use serde::Deserialize;

use crate::client::{Client, ErrorBody, Reply};
use crate::error::ScenarioError;
use crate::file::{
    AdvanceStep, DescribeStep, ExpectStep, InstanceExpect, Query, ReadFileStep, Scenario,
    SendFileStep, Step,
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

impl<'a> Runner<'a> {
    fn new(scenario: &'a Scenario, client: Client) -> Runner<'a> {
        Runner {
            scenario,
            client,
            labels: HashMap::new(),
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
            setting: format!(
                "seed {}, start {}, region {}, {instances} instance{}",
                scenario.seed,
                scenario.start_time,
                scenario.region,
                if instances == 1 { "" } else { "s" }
            ),
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
        ];
        push_present(&mut params, optional);
        let name = send.name.as_deref().unwrap_or("(no Name)");
        let count = send.instances.len();
        let to = format!(
            "{name} to {count} instance{}",
            if count == 1 { "" } else { "s" }
        );

        self.pin(
            send.pin_invoke_id.as_deref(),
            send.pin_request_id.as_deref(),
        )
        .await?;
        let reply = self.rpc("SendFile", &params, Format::Json).await?;
        if !reply.is_success() {
            let error = self.error_body("SendFile", &reply)?;
            let Some(expected) = &send.expect_error else {
                return Err(self.api_error("SendFile", &reply, error));
            };
            out.summary = format!(
                "send_file {to}: refused, http {} {}",
                reply.status, error.code
            );
            out.checks.push(Check::new(
                "SendFile error Code",
                expected.as_str(),
                error.code.as_str(),
            ));
            let heading = format!("send_file {name} refused");
            out.bodies.push(body(&heading, Format::Json, reply));
            // The same refusal in XML, for the snapshot: a refused send
            // creates nothing, so sending it again changes no state.
            self.pin(None, send.pin_request_id.as_deref()).await?;
            let xml = self.rpc("SendFile", &params, Format::Xml).await?;
            out.bodies.push(body(&heading, Format::Xml, xml));
            return Ok(());
        }

        let sent: SendFileBody = self.parse_json("SendFile", &reply.body)?;
        out.summary = format!("send_file {to}: InvokeId {}", sent.invoke_id);
        if let Some(label) = &send.label {
            out.summary.push_str(&format!(" (as `{label}`)"));
            self.labels.insert(label.clone(), sent.invoke_id.clone());
        }
        if let Some(expected) = &send.expect_error {
            let actual = format!("(accepted: InvokeId {})", sent.invoke_id);
            out.checks
                .push(Check::new("SendFile error Code", expected.as_str(), actual));
        }
        // Where the new task stands right after the call.
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
        change: &FleetChange,
        out: &mut StepReport,
    ) -> Result<(), ScenarioError> {
        let body = serde_json::to_value(change)
            .map_err(|error| self.response_error("fleet change", error))?;
        let kind = body
            .get("change")
            .and_then(|kind| kind.as_str())
            .unwrap_or("change")
            .to_owned();
        self.control_post("/_casim/fleet/changes", body).await?;
        out.summary = format!("change {kind} on {}", change.instance_id());
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

        let mut replies = Vec::with_capacity(2);
        for format in [Format::Json, Format::Xml] {
            self.pin(None, describe.pin_request_id.as_deref()).await?;
            replies.push((
                format,
                self.rpc("DescribeSendFileResults", &params, format).await?,
            ));
        }
        let json = &replies[0].1;
        match (&describe.expect_error, json.is_success()) {
            (None, true) => {
                let view: DescribeView = self.parse_json("DescribeSendFileResults", &json.body)?;
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
                let error = self.error_body("DescribeSendFileResults", json)?;
                return Err(self.api_error("DescribeSendFileResults", json, error));
            }
            (Some(expected), true) => {
                out.summary = format!("{heading}: accepted");
                out.checks.push(Check::new(
                    "DescribeSendFileResults error Code",
                    expected.as_str(),
                    "(accepted)",
                ));
            }
            (Some(expected), false) => {
                let error = self.error_body("DescribeSendFileResults", json)?;
                out.summary = format!("{heading}: refused, http {} {}", json.status, error.code);
                out.checks.push(Check::new(
                    "DescribeSendFileResults error Code",
                    expected.as_str(),
                    error.code,
                ));
            }
        }
        // Both formats must agree on the outcome, whatever it is.
        let xml_status = replies[1].1.status;
        if xml_status != json.status {
            out.checks.push(Check::new(
                "http status of the XML answer",
                json.status.to_string(),
                xml_status.to_string(),
            ));
        }
        out.bodies.extend(
            replies
                .into_iter()
                .map(|(format, reply)| body(&heading, format, reply)),
        );
        Ok(())
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

    async fn rpc(
        &self,
        action: &str,
        params: &[(String, String)],
        format: Format,
    ) -> Result<Reply, ScenarioError> {
        let word = match format {
            Format::Json => "JSON",
            Format::Xml => "XML",
        };
        let mut params = params.to_vec();
        params.push(("Format".to_owned(), word.to_owned()));
        self.client
            .rpc(&params)
            .await
            .map_err(|source| self.http_error(action, source))
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
        http_status: reply.status,
        text: reply.body,
    }
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
