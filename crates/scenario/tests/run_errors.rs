//! Runs that cannot go on: each case is a scenario whose steps the server
//! answers in a way the scenario did not allow for, and the error that run
//! must end with (a fragment of its message).

use std::path::Path;

use casim_scenario::{parse, run};

const HEAD: &str = r#"
description = "x"
seed = 3
start_time = "2024-01-01T00:00:00Z"

[[fleet.instances]]
id = "i-bp1aaaaaaaaaaaaaaaaa"
"#;

#[test]
fn unexpected_answers_stop_the_run_and_say_where() {
    let cases: &[(&str, &str)] = &[
        (
            "[[steps]]\ndo = \"send_file\"\ninstances = [\"i-bp1zzzzzzzzzzzzzzzzz\"]\nname = \"a\"\ntarget_dir = \"/tmp\"\ncontent = \"x\"\n",
            "scenario case, step 1: SendFile answered http 404 InvalidInstance.NotFound: The specified instances not found. \
             (add `expect_error = \"InvalidInstance.NotFound\"` to the step if that is intended)",
        ),
        (
            "[[steps]]\ndo = \"describe\"\npage_size = 51\n",
            "scenario case, step 1: DescribeSendFileResults answered http 403 InvalidParam.PageSize",
        ),
        (
            "[[steps]]\ndo = \"advance\"\nby = \"1s\"\n[[steps]]\ndo = \"change\"\nchange = \"stop_agent\"\ninstance_id = \"i-bp1zzzzzzzzzzzzzzzzz\"\n",
            "scenario case, step 2: /_casim/fleet/changes: control api answered http 404",
        ),
        (
            "[[steps]]\ndo = \"add_api_fault\"\nkind = { type = \"drop\" }\n[[steps]]\ndo = \"describe\"\n",
            "scenario case, step 2: DescribeSendFileResults: the connection closed without an answer \
             (add `expect_dropped = true` to the step if that is intended)",
        ),
        (
            "[[steps]]\ndo = \"add_api_fault\"\nkind = { type = \"throttle\" }\n[[steps]]\ndo = \"describe\"\n",
            "scenario case, step 2: DescribeSendFileResults answered http 400 Throttling.User",
        ),
        (
            "[[steps]]\ndo = \"add_fault\"\nid = \"x\"\nerror_code = \"FileCreateFail\"\n[[steps]]\ndo = \"add_fault\"\nas = \"y\"\nid = \"x\"\nerror_code = \"FileCreateFail\"\n",
            "field `id`: a fault rule named `x` is in force already",
        ),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    for (steps, want) in cases {
        let scenario = match parse(&format!("{HEAD}{steps}"), Path::new("case.toml")) {
            Ok(scenario) => scenario,
            // Some mistakes are caught before the run.
            Err(error) if error.to_string().contains(want) => continue,
            Err(error) => panic!("{error}"),
        };
        let error = match runtime.block_on(run(&scenario)) {
            Ok(report) => panic!("ran to the end:\n{}", report.render_text(None)),
            Err(error) => error.to_string(),
        };
        assert!(error.contains(want), "\n  got  {error}\n  want {want}");
    }
}

#[test]
fn expectations_that_fail_are_reported_not_raised() {
    let steps = r#"
[[steps]]
do = "send_file"
as = "s"
instances = ["i-bp1aaaaaaaaaaaaaaaaa"]
name = "a"
target_dir = "/tmp"
content = "x"
expect_error = "MissingName"

[[steps]]
do = "expect"
invoke = "s"
status = "Pending"
instances = { "i-bp1aaaaaaaaaaaaaaaaa" = { status = "Pending", error_code = "ClientNotRunning" }, "i-bp1other00000000000" = { status = "Success" } }
"#;
    // A send that expects an error cannot define a label; without the label
    // the expectation names the invocation some other way.
    let steps = steps
        .replace("as = \"s\"\n", "")
        .replace("invoke = \"s\"", "invoke_id = \"f-none\"");
    let failures = failures_of(&steps);
    let accepted = failures.first().cloned().unwrap_or_default();
    assert!(
        accepted.starts_with("scenario case, step 1: SendFile error Code: expected `MissingName`, got `(accepted: InvokeId f-"),
        "{accepted}"
    );
    assert_eq!(
        failures[1..],
        [
            "scenario case, step 2: f-none InvocationStatus: expected `Pending`, got `(not in the answer)`",
            "scenario case, step 2: f-none i-bp1aaaaaaaaaaaaaaaaa InvocationStatus: expected `Pending`, got `(not in InvokeInstances)`",
            "scenario case, step 2: f-none i-bp1aaaaaaaaaaaaaaaaa ErrorCode: expected `ClientNotRunning`, got `(not in InvokeInstances)`",
            "scenario case, step 2: f-none i-bp1other00000000000 InvocationStatus: expected `Success`, got `(not in InvokeInstances)`",
        ]
    );
}

/// Expected failures that do not happen are failed checks, not errors.
#[test]
fn calls_expected_to_fail_that_work_are_reported() {
    let steps = r#"
[[steps]]
do = "send_file"
instances = ["i-bp1aaaaaaaaaaaaaaaaa"]
name = "a"
target_dir = "/tmp"
content = "x"
expect_dropped = true

[[steps]]
do = "describe"
expect_dropped = true

[[steps]]
do = "add_api_fault"
actions = ["DescribeSendFileResults"]
kind = { type = "throttle" }
count = 1

[[steps]]
do = "describe"
title = "throttled once"
expect_error = "Throttling.User"
"#;
    let failures = failures_of(steps);
    assert_eq!(failures.len(), 3, "{failures:#?}");
    assert!(
        failures[0].starts_with(
            "scenario case, step 1: SendFile answer: expected `connection dropped`, got `(accepted: InvokeId f-"
        ),
        "{}",
        failures[0]
    );
    assert_eq!(
        failures[1..],
        [
            "scenario case, step 2: DescribeSendFileResults answer: expected `connection dropped`, got `(accepted)`",
            // The rule refused the JSON call only; the XML call went through.
            "scenario case, step 4: outcome of the XML fetch: expected `http 400`, got `http 200`",
        ]
    );
}

/// Runs `HEAD` plus `steps` to the end and lists its failed expectations.
fn failures_of(steps: &str) -> Vec<String> {
    let scenario = parse(&format!("{HEAD}{steps}"), Path::new("case.toml"))
        .unwrap_or_else(|error| panic!("{error}"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let report = runtime
        .block_on(run(&scenario))
        .unwrap_or_else(|error| panic!("{error}"));
    report.failures().iter().map(ToString::to_string).collect()
}
