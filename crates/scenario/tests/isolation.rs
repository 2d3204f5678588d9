//! One instance's outcomes do not depend on the rest of the fleet or on the
//! order of requests: each scenario is run as written and as a crowded
//! variant, and every task the scenario names must end the same way, at the
//! same times, in both.
//!
//! The variant adds unrelated instances before and after the scenario's own
//! in the fleet, sends a file to an unrelated instance before each of the
//! scenario's sends (so every `SendFile` and `DescribeSendFileResults` call
//! has another counter value, and the unrelated tasks' events interleave
//! with the scenario's), and lists each send's instances in reverse order.
//! Fault rules with a rate, scheduled changes and natural causes all stay
//! in play, so this covers what `crates/fleet/tests/lifecycle.rs` checks for
//! plain sends, at the level of whole scenarios.
//!
//! Both runs pin each labelled send's `InvokeId`, so that the two can be
//! lined up; scenarios with API fault rules are left out, since the extra
//! sends would themselves meet those rules.

use std::path::Path;

use casim_fleet::FleetChange;
use casim_fleet::spec::InstanceSpec;
use casim_scenario::{
    DescribeStep, InvocationView, Report, Scenario, SendFileStep, Step, discover, load, run,
};

/// Unrelated instances: two sorting before every `i-bp1…` id, two after.
const UNRELATED: [&str; 4] = [
    "i-0unrelated000000001",
    "i-0unrelated000000002",
    "i-zunrelated000000003",
    "i-zunrelated000000004",
];

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn uses_api_faults(scenario: &Scenario) -> bool {
    !scenario.fleet.api_faults.is_empty()
        || scenario
            .steps
            .iter()
            .any(|step| matches!(step, Step::AddApiFault(_)))
}

/// The scenario with every labelled send's `InvokeId` pinned, and one
/// `describe` per label at the end, so the two runs can be compared task
/// by task.
fn pinned(scenario: &Scenario) -> Scenario {
    let mut pinned = scenario.clone();
    let mut labels = Vec::new();
    for step in &mut pinned.steps {
        if let Step::SendFile(send) = step {
            if let Some(label) = &send.label {
                if send.pin_invoke_id.is_none() {
                    send.pin_invoke_id = Some(format!("f-{:018x}", labels.len() + 1));
                }
                labels.push(label.clone());
            }
        }
    }
    for label in labels {
        pinned.steps.push(Step::Describe(DescribeStep {
            title: Some(format!("final {label}")),
            invoke: Some(label),
            ..DescribeStep::default()
        }));
    }
    pinned
}

fn unrelated_instance(id: &str, scenario: &Scenario) -> InstanceSpec {
    let text = format!("id = \"{id}\"\nregion = \"{}\"\n", scenario.region);
    toml::from_str(&text).expect("a valid instance")
}

/// The crowded variant of an already pinned scenario.
fn crowded(pinned: &Scenario) -> Scenario {
    let mut crowded = pinned.clone();
    let fleet = &mut crowded.fleet;
    let own = std::mem::take(&mut fleet.instances);
    fleet
        .instances
        .push(unrelated_instance(UNRELATED[3], pinned));
    fleet
        .instances
        .push(unrelated_instance(UNRELATED[0], pinned));
    fleet.instances.extend(own);
    fleet
        .instances
        .push(unrelated_instance(UNRELATED[1], pinned));
    fleet
        .instances
        .push(unrelated_instance(UNRELATED[2], pinned));
    // An unrelated instance is stopped and started again on a schedule.
    crowded.steps.insert(
        0,
        Step::Change(casim_scenario::ChangeStep {
            change: FleetChange::StopAgent {
                instance_id: UNRELATED[1].into(),
            },
            at: None,
            after: Some(std::time::Duration::from_millis(700)),
        }),
    );

    let mut steps = Vec::with_capacity(crowded.steps.len() * 2);
    let mut extra = 0;
    for step in std::mem::take(&mut crowded.steps) {
        match step {
            Step::SendFile(mut send) if send.expect_error.is_none() && !send.expect_dropped => {
                let unrelated = UNRELATED[extra % UNRELATED.len()];
                extra += 1;
                steps.push(Step::SendFile(SendFileStep {
                    instances: vec![unrelated.to_owned()],
                    name: Some(format!("unrelated-{extra}.txt")),
                    target_dir: Some("/tmp".to_owned()),
                    content: Some("noise\n".to_owned()),
                    region: send.region.clone(),
                    ..SendFileStep::default()
                }));
                send.instances.reverse();
                steps.push(Step::SendFile(send));
            }
            other => steps.push(other),
        }
    }
    crowded.steps = steps;
    crowded
}

/// An invocation with its instances in id order, so that the order they
/// were listed in does not count.
fn normalised(invocation: &InvocationView) -> InvocationView {
    let mut invocation = invocation.clone();
    invocation
        .invoke_instances
        .items
        .sort_by(|a, b| a.instance_id.cmp(&b.instance_id));
    invocation
}

/// What the comparison looks at: each `expect` step's invocation, each
/// final describe's, and each `read_file` step's checks, in step order.
fn outcomes(report: &Report) -> Vec<String> {
    report
        .steps
        .iter()
        .filter_map(|step| match step.kind {
            "expect" => Some(format!(
                "{:?}",
                step.invocations.iter().map(normalised).collect::<Vec<_>>()
            )),
            "describe" if step.summary.starts_with("describe final ") => Some(format!(
                "{}: {:?}",
                step.summary,
                step.invocations.iter().map(normalised).collect::<Vec<_>>()
            )),
            "read_file" => Some(format!("{}: {:?}", step.summary, step.checks)),
            _ => None,
        })
        .collect()
}

#[test]
fn outcomes_do_not_depend_on_unrelated_instances_or_request_order() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let runtime = runtime();
    let mut compared = Vec::new();
    for path in discover(&dir).unwrap_or_else(|error| panic!("{error}")) {
        let scenario = load(&path).unwrap_or_else(|error| panic!("{error}"));
        if uses_api_faults(&scenario) {
            continue;
        }
        let alone = pinned(&scenario);
        let crowded = crowded(&alone);
        let play = |scenario: &Scenario| {
            runtime
                .block_on(run(scenario))
                .unwrap_or_else(|error| panic!("{}: {error}", scenario.name))
        };
        let (alone_report, crowded_report) = (play(&alone), play(&crowded));
        // The scenario's own expectations hold as written.
        assert!(
            alone_report.failures().is_empty(),
            "{}",
            alone_report.render_text(None)
        );
        let want = outcomes(&alone_report);
        let got = outcomes(&crowded_report);
        assert!(!want.is_empty(), "{}: nothing to compare", scenario.name);
        assert_eq!(want.len(), got.len(), "{}", scenario.name);
        for (want, got) in want.iter().zip(&got) {
            assert!(
                want == got,
                "{}: an outcome changed in the crowded fleet\n  alone:   {want}\n  crowded: {got}\n\n{}",
                scenario.name,
                crowded_report.render_text(None)
            );
        }
        compared.push(scenario.name);
    }
    // The scenarios with seeded fault rules and scheduled changes are among
    // those compared.
    for name in [
        "flaky-network-seeded",
        "rolling-agent-upgrade",
        "error-instance-released",
    ] {
        assert!(
            compared.iter().any(|c| c == name),
            "{name} not compared: {compared:?}"
        );
    }
}
