//! Fault rules: whether one fires depends on the seed, the rule and the
//! task, and on nothing else that happens in the fleet.

use casim_fleet::{ApiFaultKind, ApiFaultRule, FaultRule, FleetSpec, Simulation};
use casim_model::{ErrorCode, Params, SendFileRequest, Timestamp};

fn fleet(n: usize) -> FleetSpec {
    let instances: Vec<String> = (0..n).map(|i| format!("{{ id = \"i-{i}\" }}")).collect();
    toml::from_str(&format!("instances = [{}]", instances.join(", "))).expect("fleet")
}

fn rated(id: &str) -> FaultRule {
    serde_json::from_value(serde_json::json!({
        "id": id, "error_code": "ClientNotResponse", "rate": 0.3
    }))
    .expect("rule")
}

/// Which of `n` instances a 30 % rule fails on one send to all of them.
fn failing(seed: u64, n: usize, before: impl FnOnce(&mut Simulation)) -> Vec<String> {
    let mut sim = Simulation::new(fleet(n), seed, Timestamp::MIN).expect("sim");
    before(&mut sim);
    let mut params: Params = [
        ("RegionId", "cn-hangzhou"),
        ("Name", "a"),
        ("TargetDir", "/tmp"),
        ("Content", "x"),
    ]
    .into_iter()
    .collect();
    for i in 0..n {
        params.push(format!("InstanceId.{}", i + 1), format!("i-{i}"));
    }
    let invoke_id = sim
        .send_file(SendFileRequest::from_params(&params).expect("valid"))
        .expect("sent");
    sim.advance_to(Timestamp::MIN.plus_millis(120_000));
    let record = sim.records().get(&invoke_id).expect("record");
    record
        .instances
        .iter()
        .filter(|i| i.error_code == Some(ErrorCode::ClientNotResponse))
        .map(|i| i.instance_id.to_string())
        .collect()
}

#[test]
fn a_seeded_rate_fails_the_same_tasks_every_time_and_other_ones_under_another_seed() {
    let first = failing(11, 40, |sim| {
        sim.add_fault(rated("flaky")).expect("rule");
    });
    let again = failing(11, 40, |sim| {
        sim.add_fault(rated("flaky")).expect("rule");
    });
    let other_seed = failing(12, 40, |sim| {
        sim.add_fault(rated("flaky")).expect("rule");
    });
    assert_eq!(first, again);
    assert_ne!(first, other_seed);
    assert!(
        (4..=20).contains(&first.len()),
        "about 30 % of 40: {first:?}"
    );
}

#[test]
fn an_unnamed_rule_fires_alike_whatever_was_added_before_it() {
    let unnamed = || rated("");
    let alone = failing(5, 40, |sim| {
        sim.add_fault(unnamed()).expect("rule");
    });
    let after_others = failing(5, 40, |sim| {
        let api: ApiFaultRule = ApiFaultRule {
            id: String::new(),
            actions: vec!["DescribeSendFileResults".into()],
            kind: ApiFaultKind::Throttle,
            rate: None,
            count: Some(1),
        };
        sim.add_api_fault(api).expect("api rule");
        sim.add_fault(rated("named")).expect("rule");
        sim.remove_fault("named");
        sim.add_fault(unnamed()).expect("rule");
    });
    assert_eq!(alone, after_others);
}

#[test]
fn a_rule_removed_and_added_again_starts_afresh() {
    let mut sim = Simulation::new(fleet(1), 1, Timestamp::MIN).expect("sim");
    let once = || ApiFaultRule {
        id: String::new(),
        actions: vec!["DescribeSendFileResults".into()],
        kind: ApiFaultKind::Throttle,
        rate: None,
        count: Some(1),
    };
    let id = sim.add_api_fault(once()).expect("rule").id;
    assert_eq!(
        sim.api_fault("DescribeSendFileResults"),
        Some(ApiFaultKind::Throttle)
    );
    assert_eq!(
        sim.api_fault("DescribeSendFileResults"),
        None,
        "count 1 is spent"
    );
    assert!(sim.remove_fault(&id));
    assert_eq!(
        sim.add_api_fault(once()).expect("rule").id,
        id,
        "named by its content"
    );
    assert_eq!(
        sim.api_fault("DescribeSendFileResults"),
        Some(ApiFaultKind::Throttle)
    );
    // Actions casim does not answer meet no API fault.
    let every = ApiFaultRule {
        actions: Vec::new(),
        count: None,
        ..once()
    };
    sim.add_api_fault(every).expect("rule");
    assert_eq!(sim.api_fault("Bogus"), None);
}
