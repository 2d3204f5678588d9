//! Every scenario in `scenarios/`, run against an in-process server: its
//! snapshot (each describe's JSON and XML bodies) is pinned, none of its
//! expectations may fail, and a second run must give the same bytes.

use std::path::Path;

use casim_scenario::{Report, load, run};

fn run_file(runtime: &tokio::runtime::Runtime, path: &Path) -> Report {
    let scenario = load(path).unwrap_or_else(|error| panic!("{error}"));
    runtime
        .block_on(run(&scenario))
        .unwrap_or_else(|error| panic!("{error}"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

#[test]
fn scenarios() {
    let runtime = runtime();
    insta::glob!("../../../scenarios", "*.toml", |path| {
        let report = run_file(&runtime, path);
        let failures: Vec<String> = report.failures().iter().map(ToString::to_string).collect();
        assert!(
            failures.is_empty(),
            "{}\n{}",
            failures.join("\n"),
            report.render_text(None)
        );
        insta::assert_snapshot!(report.snapshot());
    });
}

#[test]
fn scenarios_are_deterministic() {
    let runtime = runtime();
    insta::glob!("../../../scenarios", "*.toml", |path| {
        let first = run_file(&runtime, path).snapshot();
        let second = run_file(&runtime, path).snapshot();
        assert!(first == second, "{}: two runs differ", path.display());
    });
}

/// The TOML block under `heading` in `scenarios/README.md`.
fn readme_block(heading: &str) -> String {
    let readme_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/README.md");
    let readme = std::fs::read_to_string(&readme_path).expect("scenarios/README.md");
    let section = readme
        .split(heading)
        .nth(1)
        .expect("the heading in scenarios/README.md");
    let block = section
        .split("```toml\n")
        .nth(1)
        .expect("a toml block under the heading");
    block
        .split("```")
        .next()
        .expect("a closed toml block")
        .to_owned()
}

#[test]
fn readme_example_runs_and_passes() {
    let text = readme_block("## A complete example");
    let scenario = casim_scenario::parse(&text, Path::new("scenarios/readme-example.toml"))
        .unwrap_or_else(|error| panic!("{error}"));
    let report = runtime()
        .block_on(run(&scenario))
        .unwrap_or_else(|error| panic!("{error}"));
    let (passed, failed) = report.tally();
    assert_eq!((passed, failed), (9, 0), "{}", report.render_text(None));
}

#[test]
fn readme_fleet_example_loads() {
    let head = "description = \"x\"\nseed = 1\nstart_time = \"2024-01-01T00:00:00Z\"\n";
    let text = format!("{head}{}", readme_block("### The fleet"));
    let scenario = casim_scenario::parse(&text, Path::new("scenarios/readme-fleet.toml"))
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(scenario.fleet.instances.len(), 1);
    assert_eq!(scenario.fleet.instances[0].files.len(), 1);
}

/// The JSON sample of the DescribeSendFileResults documentation, verbatim.
/// The documentation's sample, kept once in the model crate's fixtures.
const DOCUMENTED_SAMPLE: &str = include_str!("../../model/tests/fixtures/seed-sample.json");

#[test]
fn seed_sample_answers_exactly_the_documented_json() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/seed-sample.toml");
    let report = run_file(&runtime(), &path);
    let body = report
        .steps
        .iter()
        .flat_map(|step| &step.bodies)
        .find(|body| body.format == casim_model::Format::Json)
        .expect("a JSON describe body");
    // Compared as text, so that key order counts: serde_json's maps compare
    // equal whatever their order.
    let reformat = |text: &str| {
        let value: serde_json::Value = serde_json::from_str(text).expect("JSON");
        serde_json::to_string_pretty(&value).expect("printable JSON")
    };
    assert_eq!(reformat(&body.text), reformat(DOCUMENTED_SAMPLE));
}
