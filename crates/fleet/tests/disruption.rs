//! An agent that goes down while it holds a task loses the task, even if it
//! comes back before the write would have ended: the task stays Running and
//! ends `DeliveryTimeout` at creation + `Timeout`.

use casim_fleet::{FleetChange, FleetSpec, Simulation};
use casim_model::{InstanceId, Params, SendFileRequest, Timestamp};

const FLEET: &str = r#"
timing = { dispatch_delay = { min_ms = 500, max_ms = 500 }, write_duration = { min_ms = 5000, max_ms = 5000 } }
instances = [{ id = "i-1" }]
"#;

fn change(kind: &str) -> FleetChange {
    serde_json::from_value(serde_json::json!({ "change": kind, "instance_id": "i-1" }))
        .expect("change")
}

/// Sends with `Timeout=10`, applies `down` at `down_ms` and `up` at
/// `up_ms`, runs to the end, and says how the task ended.
fn outcome(down: &str, down_ms: u64, up: &str, up_ms: u64) -> String {
    let fleet: FleetSpec = toml::from_str(FLEET).expect("fleet");
    let mut sim = Simulation::new(fleet, 3, Timestamp::MIN).expect("sim");
    let at = |ms: u64| Timestamp::MIN.plus_millis(ms);
    sim.schedule_change(at(down_ms), change(down))
        .expect("down");
    sim.schedule_change(at(up_ms), change(up)).expect("up");
    let params: Params = [
        ("RegionId", "cn-hangzhou"),
        ("InstanceId.1", "i-1"),
        ("Name", "a"),
        ("TargetDir", "/tmp"),
        ("Content", "x"),
        ("Timeout", "10"),
    ]
    .into_iter()
    .collect();
    let id = sim
        .send_file(SendFileRequest::from_params(&params).expect("valid"))
        .expect("sent");
    sim.advance_to(at(60_000));
    let result = sim
        .records()
        .get(&id)
        .and_then(|r| r.instance(&InstanceId::from("i-1")))
        .expect("result");
    let code = result.error_code.map(|c| c.to_string()).unwrap_or_default();
    let finish = result
        .finish_time
        .map(|t| (t.as_millis() - Timestamp::MIN.as_millis()).to_string());
    format!("{} {code} @{}", result.status, finish.unwrap_or_default()).replace("  ", " ")
}

#[test]
fn a_task_held_across_an_outage_is_lost() {
    // Dispatch at 0.5 s, the write would end at 5.5 s, the deadline is 10 s.
    let cases = [
        // Down and back up while the agent holds the task: lost.
        (
            "stop_agent",
            2_000,
            "start_agent",
            4_000,
            "Timeout DeliveryTimeout @10000",
        ),
        (
            "silence_agent",
            2_000,
            "start_agent",
            4_000,
            "Timeout DeliveryTimeout @10000",
        ),
        (
            "begin_agent_upgrade",
            2_000,
            "end_agent_upgrade",
            4_000,
            "Timeout DeliveryTimeout @10000",
        ),
        (
            "stop_instance",
            2_000,
            "start_instance",
            4_000,
            "Timeout DeliveryTimeout @10000",
        ),
        // Down before dispatch: refused at dispatch, for its own reason.
        (
            "stop_agent",
            100,
            "start_agent",
            4_000,
            "Aborted ClientNotRunning @500",
        ),
        (
            "stop_instance",
            100,
            "start_instance",
            4_000,
            "Aborted InstanceNotRunning @500",
        ),
        // Down only after the write: nothing lost.
        ("stop_agent", 6_000, "start_agent", 7_000, "Success @5500"),
    ];
    let mut failures = Vec::new();
    for (down, down_ms, up, up_ms, want) in cases {
        let got = outcome(down, down_ms, up, up_ms);
        if got != want {
            failures.push(format!(
                "{down}@{down_ms} {up}@{up_ms}: want {want:?}, got {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
