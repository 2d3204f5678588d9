//! What a run saw: per step what happened, the invocations' statuses, the
//! checks with their expected and actual values, and the raw response
//! bodies. Rendered as text for people ([`Report::render_text`]) and as the
//! deterministic text that snapshots pin ([`Report::snapshot`]).

use std::fmt::{self, Write as _};
use std::path::PathBuf;

use casim_model::Format;
use serde::Deserialize;

use crate::pretty;

/// The account of one scenario run.
#[derive(Debug, Clone)]
pub struct Report {
    pub scenario: String,
    pub description: String,
    pub path: PathBuf,
    /// One line about the setting: seed, start time, region, fleet size.
    pub setting: String,
    pub steps: Vec<StepReport>,
}

/// One step's outcome.
#[derive(Debug, Clone)]
pub struct StepReport {
    /// 1-based, as in error messages.
    pub number: usize,
    /// The step's `do` word.
    pub kind: &'static str,
    /// What happened, in one line.
    pub summary: String,
    /// The invocations as the server showed them after this step (after a
    /// send: the new one; after a describe: the page).
    pub invocations: Vec<InvocationView>,
    pub checks: Vec<Check>,
    /// Response bodies kept for snapshots and `--raw`.
    pub bodies: Vec<Body>,
}

/// One checked value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked, for example `rollout i-bp1… ErrorCode`.
    pub field: String,
    pub expected: String,
    pub actual: String,
}

impl Check {
    pub fn new(
        field: impl Into<String>,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Check {
        Check {
            field: field.into(),
            expected: expected.into(),
            actual: actual.into(),
        }
    }

    pub fn passed(&self) -> bool {
        self.expected == self.actual
    }
}

/// A response body as received.
#[derive(Debug, Clone)]
pub struct Body {
    /// Names the call in snapshot headers, for example `describe page 2`.
    pub heading: String,
    pub format: Format,
    /// `None` when the connection closed without an answer.
    pub http_status: Option<u16>,
    pub text: String,
}

/// A failed check, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub scenario: String,
    pub step: usize,
    pub field: String,
    pub expected: String,
    pub actual: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "scenario {}, step {}: {}: expected {}, got {}",
            self.scenario,
            self.step,
            self.field,
            quoted(&self.expected),
            quoted(&self.actual)
        )
    }
}

/// An `Invocation` of a `DescribeSendFileResults` answer, as far as reports
/// need it. Fields the server might leave out read as empty, so that a
/// report still shows what is there; the snapshot pins the exact shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InvocationView {
    pub invoke_id: String,
    pub invocation_status: String,
    pub name: String,
    pub target_dir: String,
    pub invoke_instances: InvokeInstancesView,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct InvokeInstancesView {
    #[serde(rename = "InvokeInstance")]
    pub items: Vec<InstanceView>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InstanceView {
    pub instance_id: String,
    pub invocation_status: String,
    pub error_code: String,
    pub error_info: String,
    pub creation_time: String,
    pub start_time: String,
    pub finish_time: String,
    pub update_time: String,
}

/// A whole `DescribeSendFileResults` answer, as far as reports need it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DescribeView {
    pub total_count: u64,
    pub page_number: u64,
    pub page_size: u64,
    pub next_token: Option<String>,
    pub invocations: InvocationsView,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct InvocationsView {
    #[serde(rename = "Invocation")]
    pub items: Vec<InvocationView>,
}

impl Report {
    /// Every failed check, in step order.
    pub fn failures(&self) -> Vec<Failure> {
        self.steps
            .iter()
            .flat_map(|step| {
                step.checks
                    .iter()
                    .filter(|check| !check.passed())
                    .map(|check| Failure {
                        scenario: self.scenario.clone(),
                        step: step.number,
                        field: check.field.clone(),
                        expected: check.expected.clone(),
                        actual: check.actual.clone(),
                    })
            })
            .collect()
    }

    /// `(passed, failed)` over all checks.
    pub fn tally(&self) -> (usize, usize) {
        let checks = self.steps.iter().flat_map(|step| &step.checks);
        checks.fold((0, 0), |(passed, failed), check| {
            if check.passed() {
                (passed + 1, failed)
            } else {
                (passed, failed + 1)
            }
        })
    }

    /// A readable account of the run. With `raw`, each step's response
    /// bodies in that format follow it, indented as in snapshots.
    pub fn render_text(&self, raw: Option<Format>) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(out, "scenario {} ({})", self.scenario, self.path.display());
        for line in self.description.trim().lines() {
            let _ = writeln!(out, "  {}", line.trim());
        }
        let _ = writeln!(out, "  {}", self.setting);
        for step in &self.steps {
            let _ = writeln!(out, "step {:<3} {}", step.number, step.summary);
            for invocation in &step.invocations {
                render_invocation(&mut out, invocation);
            }
            for check in &step.checks {
                let _ = if check.passed() {
                    writeln!(out, "         ✓ {}: {}", check.field, quoted(&check.actual))
                } else {
                    writeln!(
                        out,
                        "         ✗ {}: expected {}, got {}",
                        check.field,
                        quoted(&check.expected),
                        quoted(&check.actual)
                    )
                };
            }
            if let Some(format) = raw {
                for body in step.bodies.iter().filter(|body| body.format == format) {
                    let status = match body.http_status {
                        Some(status) => format!("http {status}"),
                        None => "no answer".to_owned(),
                    };
                    let _ = writeln!(out, "         {} ({status}):", body.heading);
                    for line in pretty_body(body).lines() {
                        let _ = writeln!(out, "           {line}");
                    }
                }
            }
        }
        let (passed, failed) = self.tally();
        let verdict = if failed == 0 { "ok" } else { "FAILED" };
        let _ = writeln!(out, "{verdict}: {passed} checks passed, {failed} failed");
        out
    }

    /// The deterministic text snapshots pin: every kept response body,
    /// pretty-printed, under a header naming its step and format. It holds
    /// no path and no wall-clock value, so it is the same on every machine.
    pub fn snapshot(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# scenario {}", self.scenario);
        for step in &self.steps {
            for body in &step.bodies {
                let _ = writeln!(out);
                // The status is shown only when it is not a plain success,
                // where it tells the seed era's 403 from the current 400.
                let status = match body.http_status {
                    Some(200) => String::new(),
                    Some(status) => format!(", http {status}"),
                    None => ", no answer".to_owned(),
                };
                let _ = writeln!(
                    out,
                    "## step {}: {} ({}{status})",
                    step.number,
                    body.heading,
                    body.format.as_str()
                );
                let _ = writeln!(out, "{}", pretty_body(body));
            }
        }
        out
    }
}

fn pretty_body(body: &Body) -> String {
    if body.http_status.is_none() {
        return "(the connection closed without an answer)".to_owned();
    }
    match body.format {
        Format::Json => pretty::json(&body.text),
        Format::Xml => pretty::xml(&body.text),
    }
}

fn render_invocation(out: &mut String, invocation: &InvocationView) {
    let _ = writeln!(
        out,
        "         {}  {}  {} in {}",
        invocation.invoke_id, invocation.invocation_status, invocation.name, invocation.target_dir
    );
    let width = invocation
        .invoke_instances
        .items
        .iter()
        .map(|i| i.instance_id.len())
        .max()
        .unwrap_or(0);
    for instance in &invocation.invoke_instances.items {
        let mut line = format!(
            "           {:<width$}  {}",
            instance.instance_id,
            instance.invocation_status,
            width = width
        );
        if !instance.error_code.is_empty() || !instance.error_info.is_empty() {
            let _ = write!(line, "  {}: {}", instance.error_code, instance.error_info);
        }
        let _ = writeln!(out, "{line}");
    }
}

/// Backquoted so that an empty value is visible, with line breaks and tabs
/// escaped so that a file's content stays on the check's line.
fn quoted(value: &str) -> String {
    format!("`{}`", escaped(value))
}

fn escaped(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace('\t', "\\t")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        let instance = InstanceView {
            instance_id: "i-bp1aaaaaaaaaaaaaaaaa".to_owned(),
            invocation_status: "Aborted".to_owned(),
            error_code: "ClientNotRunning".to_owned(),
            error_info: "the aliyun service is not running on the instance".to_owned(),
            ..InstanceView::default()
        };
        Report {
            scenario: "demo".to_owned(),
            description: "A demo.\n  Second line.".to_owned(),
            path: PathBuf::from("scenarios/demo.toml"),
            setting: "seed 7, start 2020-09-11T08:30:55Z, region cn-hangzhou, 1 instance"
                .to_owned(),
            steps: vec![
                StepReport {
                    number: 1,
                    kind: "describe",
                    summary: "describe all: TotalCount 1".to_owned(),
                    invocations: vec![InvocationView {
                        invoke_id: "f-1".to_owned(),
                        invocation_status: "Failed".to_owned(),
                        name: "a.conf".to_owned(),
                        target_dir: "/etc".to_owned(),
                        invoke_instances: InvokeInstancesView {
                            items: vec![instance],
                        },
                    }],
                    checks: vec![],
                    bodies: vec![
                        Body {
                            heading: "describe all".to_owned(),
                            format: Format::Json,
                            http_status: Some(200),
                            text: r#"{"TotalCount":1}"#.to_owned(),
                        },
                        Body {
                            heading: "describe all".to_owned(),
                            format: Format::Xml,
                            http_status: Some(200),
                            text: "<R><TotalCount>1</TotalCount></R>".to_owned(),
                        },
                    ],
                },
                StepReport {
                    number: 2,
                    kind: "expect",
                    summary: "expect `v1`".to_owned(),
                    invocations: vec![],
                    checks: vec![
                        Check::new("v1 InvocationStatus", "Failed", "Failed"),
                        Check::new(
                            "v1 i-bp1aaaaaaaaaaaaaaaaa ErrorCode",
                            "",
                            "ClientNotRunning",
                        ),
                    ],
                    bodies: vec![],
                },
            ],
        }
    }

    #[test]
    fn text_shows_statuses_checks_and_raw_bodies_on_request() {
        let want = "\
scenario demo (scenarios/demo.toml)
  A demo.
  Second line.
  seed 7, start 2020-09-11T08:30:55Z, region cn-hangzhou, 1 instance
step 1   describe all: TotalCount 1
         f-1  Failed  a.conf in /etc
           i-bp1aaaaaaaaaaaaaaaaa  Aborted  ClientNotRunning: the aliyun service is not running on the instance
         describe all (http 200):
           <R>
             <TotalCount>1</TotalCount>
           </R>
step 2   expect `v1`
         ✓ v1 InvocationStatus: `Failed`
         ✗ v1 i-bp1aaaaaaaaaaaaaaaaa ErrorCode: expected ``, got `ClientNotRunning`
FAILED: 1 checks passed, 1 failed
";
        assert_eq!(report().render_text(Some(Format::Xml)), want);
        let without_raw = report().render_text(None);
        assert!(!without_raw.contains("<TotalCount>"), "{without_raw}");
    }

    #[test]
    fn values_stay_on_one_line() {
        let cases = [
            ("", "``"),
            ("a b", "`a b`"),
            ("x\n\ty\r\n", "`x\\n\\ty\\r\\n`"),
            ("C:\\d", "`C:\\\\d`"),
        ];
        for (value, want) in cases {
            assert_eq!(quoted(value), want, "{value:?}");
        }
    }

    #[test]
    fn snapshot_has_every_body_and_no_path() {
        let want = "\
# scenario demo

## step 1: describe all (json)
{
  \"TotalCount\": 1
}

## step 1: describe all (xml)
<R>
  <TotalCount>1</TotalCount>
</R>
";
        assert_eq!(report().snapshot(), want);
    }

    #[test]
    fn failures_name_scenario_step_field_and_values() {
        let failures: Vec<String> = report()
            .failures()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            failures,
            [
                "scenario demo, step 2: v1 i-bp1aaaaaaaaaaaaaaaaa ErrorCode: expected ``, got `ClientNotRunning`"
            ]
        );
    }
}
