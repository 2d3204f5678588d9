//! The same scenario and seed give the same bytes, however the scenarios
//! are run: every scenario twice in one process, one after another and
//! interleaved with the others; on runtimes with one and with four worker
//! threads; and all at once, each against its own server, on four threads.
//!
//! Compared are the snapshot text (every kept response body, as the insta
//! snapshots pin it) and the readable report with raw JSON bodies, which
//! also shows the statuses after each send and every check.

use std::path::{Path, PathBuf};

use casim_model::Format;
use casim_scenario::{Scenario, discover, load, run};

/// Every scenario in `scenarios/`, loaded, in name order.
fn scenarios() -> Vec<Scenario> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let paths: Vec<PathBuf> = discover(&dir).unwrap_or_else(|error| panic!("{error}"));
    assert!(paths.len() >= 20, "only {} scenarios found", paths.len());
    paths
        .iter()
        .map(|path| load(path).unwrap_or_else(|error| panic!("{error}")))
        .collect()
}

/// What a run produced, as text: the snapshot, then the report.
async fn play(scenario: &Scenario) -> String {
    let report = run(scenario)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    format!(
        "{}\n{}",
        report.snapshot(),
        report.render_text(Some(Format::Json))
    )
}

/// Each scenario in turn, on `runtime`.
fn play_all(runtime: &tokio::runtime::Runtime, scenarios: &[Scenario]) -> Vec<String> {
    scenarios
        .iter()
        .map(|scenario| runtime.block_on(play(scenario)))
        .collect()
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn multi_thread(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Names the first scenario whose two outputs differ, with both.
fn assert_same(scenarios: &[Scenario], want: &[String], got: &[String], what: &str) {
    assert_eq!(want.len(), got.len());
    for ((scenario, want), got) in scenarios.iter().zip(want).zip(got) {
        assert!(
            want == got,
            "{}: {what} differs\n--- first ---\n{want}\n--- then ---\n{got}",
            scenario.name
        );
    }
}

#[test]
fn every_scenario_twice_in_one_process_gives_the_same_bytes() {
    let scenarios = scenarios();
    let runtime = current_thread();
    // All of them, then all of them again: nothing one run leaves behind
    // (a port, a connection pool, a counter) reaches the next.
    let first = play_all(&runtime, &scenarios);
    let second = play_all(&runtime, &scenarios);
    assert_same(&scenarios, &first, &second, "the second run");
    // And back to back.
    for (scenario, first) in scenarios.iter().zip(&first) {
        let again = runtime.block_on(play(scenario));
        assert!(
            first == &again,
            "{}: a run right after another differs",
            scenario.name
        );
    }
}

#[test]
fn the_number_of_worker_threads_does_not_matter() {
    let scenarios = scenarios();
    let baseline = play_all(&current_thread(), &scenarios);
    let one = play_all(&multi_thread(1), &scenarios);
    assert_same(&scenarios, &baseline, &one, "one worker thread");
    let four = play_all(&multi_thread(4), &scenarios);
    assert_same(&scenarios, &baseline, &four, "four worker threads");
}

#[test]
fn scenarios_run_at_once_do_not_disturb_each_other() {
    let scenarios = scenarios();
    let baseline = play_all(&current_thread(), &scenarios);
    let runtime = multi_thread(4);
    let concurrent: Vec<String> = runtime.block_on(async {
        let tasks: Vec<_> = scenarios
            .iter()
            .cloned()
            .map(|scenario| tokio::spawn(async move { play(&scenario).await }))
            .collect();
        let mut outputs = Vec::with_capacity(tasks.len());
        for task in tasks {
            outputs.push(task.await.expect("the scenario task finishes"));
        }
        outputs
    });
    assert_same(&scenarios, &baseline, &concurrent, "a concurrent run");
}
