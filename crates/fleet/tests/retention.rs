//! Records age out after the retention window and the oldest go first past
//! the record cap, taking their `ClientToken`s with them.

use casim_fleet::{FleetSpec, Retention, Simulation};
use casim_model::{DescribeSendFileResultsRequest, Params, SendFileRequest, Timestamp};

fn simulation(retention: Retention) -> Simulation {
    let fleet: FleetSpec = toml::from_str("[[instances]]\nid = \"i-1\"\n").expect("fleet");
    let start = Timestamp::parse("2024-01-01T00:00:00Z").expect("time");
    Simulation::new(fleet, 1, start)
        .expect("simulation")
        .with_retention(retention)
}

fn send(sim: &mut Simulation, token: Option<&str>) -> String {
    let mut params: Params = [
        ("RegionId", "cn-hangzhou"),
        ("InstanceId.1", "i-1"),
        ("Name", "a.txt"),
        ("TargetDir", "/tmp"),
        ("Content", "x"),
    ]
    .into_iter()
    .collect();
    if let Some(token) = token {
        params.push("ClientToken", token);
    }
    let request = SendFileRequest::from_params(&params).expect("valid request");
    sim.send_file(request).expect("accepted").to_string()
}

fn listed(sim: &Simulation) -> Vec<String> {
    let params: Params = [("RegionId", "cn-hangzhou"), ("PageSize", "50")]
        .into_iter()
        .collect();
    let request = DescribeSendFileResultsRequest::from_params(&params).expect("valid");
    let page = sim.describe(&request).expect("page");
    page.records
        .iter()
        .map(|r| r.invoke_id.to_string())
        .collect()
}

fn advance(sim: &mut Simulation, millis: u64) {
    let to = sim.now().plus_millis(millis);
    sim.advance_to(to);
}

#[test]
fn records_older_than_the_window_disappear() {
    let mut sim = simulation(Retention {
        max_age_ms: 60_000,
        max_records: 100,
    });
    let old = send(&mut sim, Some("t-old"));
    advance(&mut sim, 30_000);
    let young = send(&mut sim, None);
    assert_eq!(listed(&sim), [young.clone(), old.clone()]);

    advance(&mut sim, 30_001);
    assert_eq!(listed(&sim), [young], "the first record is 60.001 s old");

    // Its token went with it: the same token now makes a new record.
    let again = send(&mut sim, Some("t-old"));
    assert_ne!(again, old);
}

#[test]
fn past_the_cap_the_oldest_go_first() {
    let mut sim = simulation(Retention {
        max_age_ms: u64::MAX,
        max_records: 3,
    });
    let mut sent = Vec::new();
    for _ in 0..5 {
        sent.push(send(&mut sim, None));
        advance(&mut sim, 1_000);
    }
    let newest_first: Vec<String> = sent.iter().rev().take(3).cloned().collect();
    assert_eq!(listed(&sim), newest_first);
    assert_eq!(sim.records().len(), 3);
}

#[test]
fn the_defaults_are_the_seed_documentations() {
    assert_eq!(
        Retention::default(),
        Retention {
            max_age_ms: 14 * 24 * 3_600_000,
            max_records: 100_000
        }
    );
}
