//! End-to-end behaviour of [`Simulation`]: what a user of `SendFile` and
//! `DescribeSendFileResults` sees as virtual time moves, for the decisions in
//! DESIGN.md (dispatch, the agent's checks, timestamps, determinism, listing).
//!
//! Requests go in as RPC parameters and results come out as the wire shows
//! them (`InvocationStatus`, `ErrorCode`, `ErrorInfo`, times), so these tests
//! pin behaviour rather than the fleet's internals. Each area has one `check`
//! helper fed a plain-text table: one case a line, columns split at `|`,
//! `//` lines are comments. A failing table prints every row it got, marking
//! the rows that differ, ready to compare or paste.

use casim_fleet::fs::Node;
use casim_fleet::spec::OsType;
use casim_fleet::{FleetChange, FleetSpec, Page, PinnedIds, Simulation};
use casim_model::response::InvokeInstance;
use casim_model::{
    ApiError, DescribeSendFileResultsRequest, InstanceId, InstanceResult, InvocationRecord,
    InvokeId, Params, SendFileRequest, Timestamp,
};

/// The virtual start of every simulation here: 2023-11-14T22:13:20Z.
const T0: i64 = 1_700_000_000_000;
const SEED: u64 = 7;

/// Every task is dispatched 500 ms after creation and written 300 ms later.
const FIXED_TIMING: &str = r#"
[timing]
dispatch_delay = { min_ms = 500, max_ms = 500 }
write_duration = { min_ms = 300, max_ms = 300 }
"#;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

fn at(offset_ms: i64) -> Timestamp {
    Timestamp::from_millis(T0 + offset_ms)
}

fn id(text: &str) -> InstanceId {
    InstanceId::from(text)
}

fn simulation(fleet_toml: &str, seed: u64) -> Simulation {
    let spec: FleetSpec = toml::from_str(fleet_toml).expect("the test fleet is valid TOML");
    Simulation::new(spec, seed, at(0)).expect("the test fleet loads")
}

/// A fleet of `instances` (TOML) with [`FIXED_TIMING`].
fn fixed(instances: &str) -> Simulation {
    simulation(&format!("{instances}\n{FIXED_TIMING}"), SEED)
}

/// The rows of a text table: cells split at `|` and trimmed; blank lines
/// and `//` comments skipped.
fn rows(table: &str) -> Vec<Vec<&str>> {
    table
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
        .map(|line| line.split('|').map(str::trim).collect())
        .collect()
}

/// `Name=value Name=value`, or `-` for none.
fn params(cell: &str) -> Vec<(&str, &str)> {
    cell.split_whitespace()
        .filter(|word| *word != "-")
        .map(|word| {
            word.split_once('=')
                .unwrap_or_else(|| panic!("`{word}` is not Name=value"))
        })
        .collect()
}

/// Compares tables row by row and shows every row when any differs.
fn assert_rows(want: &[String], got: &[String]) {
    assert!(!want.is_empty(), "a table without rows");
    if want == got {
        return;
    }
    let mut text = String::new();
    for (index, got_row) in got.iter().enumerate() {
        match want.get(index) {
            Some(want_row) if want_row == got_row => text.push_str(&format!("  {got_row}\n")),
            Some(want_row) => text.push_str(&format!("- {want_row}\n+ {got_row}\n")),
            None => text.push_str(&format!("+ {got_row}\n")),
        }
    }
    panic!("rows differ (- want, + got):\n{text}");
}

/// `SendFile` as an SDK calls it. `params` come first and so win over the
/// defaults: region `cn-hangzhou`, `hello.txt` holding `hello`, and a
/// target directory that suits the first instance's OS.
fn send(sim: &mut Simulation, params: &[(&str, &str)]) -> Result<InvokeId, ApiError> {
    let first = params
        .iter()
        .find(|(name, _)| *name == "InstanceId.1")
        .and_then(|(_, value)| sim.instance(&id(value)));
    let target_dir = match first.map(|i| i.os()) {
        Some(OsType::Windows) => "C:\\Users",
        _ => "/root",
    };
    let defaults = [
        ("RegionId", "cn-hangzhou"),
        ("Name", "hello.txt"),
        ("TargetDir", target_dir),
        ("Content", "hello"),
    ];
    let params: Params = params.iter().chain(defaults.iter()).copied().collect();
    let request = SendFileRequest::from_params(&params)?;
    sim.send_file(request)
}

/// [`send`] to one instance.
fn send_to(sim: &mut Simulation, instance: &str, params: &[(&str, &str)]) -> InvokeId {
    let mut all = vec![("InstanceId.1", instance)];
    all.extend_from_slice(params);
    send(sim, &all).expect("SendFile is accepted")
}

fn record<'a>(sim: &'a Simulation, invoke_id: &InvokeId) -> &'a InvocationRecord {
    sim.records()
        .get(invoke_id)
        .expect("an accepted SendFile leaves a record")
}

/// One instance's result, checked for [`assert_times_consistent`].
fn result<'a>(sim: &'a Simulation, invoke_id: &InvokeId, instance: &str) -> &'a InstanceResult {
    let result = record(sim, invoke_id)
        .instance(&id(instance))
        .expect("the record names the instance");
    assert_times_consistent(result);
    result
}

/// What every result keeps at every moment (DESIGN.md, "Timestamps"):
/// non-empty times never go backwards in the order creation, start, finish,
/// update; there is a finish time exactly when the status is terminal; and
/// the wire shows an unset time as an empty string.
fn assert_times_consistent(result: &InstanceResult) {
    let mut last = result.creation_time;
    let times = [
        result.start_time,
        result.finish_time,
        Some(result.update_time),
    ];
    for time in times.into_iter().flatten() {
        assert!(last <= time, "times go backwards in {result:?}");
        last = time;
    }
    assert_eq!(
        result.finish_time.is_some(),
        result.status.is_terminal(),
        "{result:?}"
    );

    let wire = InvokeInstance::from(result);
    let shown = |time: Option<Timestamp>| time.map(|t| t.to_string()).unwrap_or_default();
    assert_eq!(wire.start_time, shown(result.start_time));
    assert_eq!(wire.finish_time, shown(result.finish_time));
    assert_eq!(wire.creation_time, result.creation_time.to_string());
    assert_eq!(wire.update_time, result.update_time.to_string());
}

/// The `ErrorInfo` beside each `ErrorCode`, as DESIGN.md decides it: the
/// seed documentation's wording where it has one, else the newer list's.
/// Every result [`outcome`] sees is checked against it, so the tables need
/// only name the code.
const ERROR_INFO: [(&str, &str); 16] = [
    (
        "InstanceNotExists",
        "the specified instance does not exists",
    ),
    (
        "InstanceReleased",
        "the instance has released when create task",
    ),
    (
        "InstanceNotRunning",
        "the instance is not running when create task",
    ),
    ("AccountNotExists", "Owner not exists"),
    (
        "ClientNotRunning",
        "the aliyun service is not running on the instance",
    ),
    (
        "ClientNotResponse",
        "the aliyun service in the instance does not response",
    ),
    (
        "ClientIsUpgrading",
        "the aliyun service in the instance is upgrading now",
    ),
    (
        "ClientNeedUpgrade",
        "the aliyun service in the instance need upgrade",
    ),
    ("DeliveryTimeout", "the command delivery has been timeout"),
    ("FileCreateFail", "Unexpected error during creating"),
    ("FileAlreadyExists", "File already exists"),
    ("FileContentInvalid", "File content error"),
    ("FileNameInvalid", "File name is invalid"),
    ("FilePathInvalid", "File path is invalid"),
    ("FileAuthorityInvalid", "Mode is invalid"),
    ("UserGroupNotExists", "Group not exists"),
];

/// The result as DescribeSendFileResults shows it, `Status` or
/// `Status ErrorCode`, after checking its `ErrorInfo` against
/// [`ERROR_INFO`].
fn outcome(result: &InstanceResult) -> String {
    let wire = InvokeInstance::from(result);
    let want_info = ERROR_INFO
        .iter()
        .find(|(code, _)| *code == wire.error_code)
        .map_or("", |(_, info)| *info);
    assert!(
        wire.error_code.is_empty() || !want_info.is_empty(),
        "unexpected ErrorCode {}",
        wire.error_code
    );
    assert_eq!(
        wire.error_info, want_info,
        "ErrorInfo beside ErrorCode `{}`",
        wire.error_code
    );
    format!("{} {}", wire.invocation_status, wire.error_code)
        .trim_end()
        .to_owned()
}

/// StartTime, FinishTime and UpdateTime in milliseconds after the task's
/// creation, `-` where the wire shows an empty string: `- +500 +500`.
fn times(result: &InstanceResult) -> String {
    let created = result.creation_time.as_millis();
    let since = |time: Option<Timestamp>| match time {
        Some(t) => format!("+{}", t.as_millis() - created),
        None => "-".to_owned(),
    };
    format!(
        "{} {} {}",
        since(result.start_time),
        since(result.finish_time),
        since(Some(result.update_time))
    )
}

/// A path on an instance as `mode owner:group "content"`, `dir` or `absent`.
fn file(sim: &Simulation, instance: &str, path: &str) -> String {
    if let Some(data) = sim.read_file(&id(instance), path) {
        return format!(
            "{} {}:{} {:?}",
            data.mode,
            data.owner,
            data.group,
            String::from_utf8_lossy(&data.bytes)
        );
    }
    let node = sim
        .instance(&id(instance))
        .and_then(|instance| instance.fs.get(path));
    match node {
        Some(Node::Dir) => "dir".to_owned(),
        Some(Node::File(_)) => panic!("read_file missed the regular file {path}"),
        None => "absent".to_owned(),
    }
}

/// Lets every task that exists now run to its end; no `Timeout` used with
/// it is over 60 s.
fn run_out(sim: &mut Simulation) {
    let until = sim.now().plus_millis(100_000);
    sim.advance_to(until);
}

// ---------------------------------------------------------------------------
// 1. Lifecycle
// ---------------------------------------------------------------------------

const ONE_LINUX: &str = r#"
[[instances]]
id = "i-1"
users = ["root", "www"]
groups = ["root", "www"]
"#;

#[test]
fn a_task_goes_pending_running_success() {
    let timeline = r##"
        // ms after send | overall | result  | start finish update | /srv/app/deploy.sh
        0                | Pending | Pending | - - +0              | absent
        499              | Pending | Pending | - - +0              | absent
        500              | Running | Running | +500 - +500         | absent
        799              | Running | Running | +500 - +500         | absent
        800              | Success | Success | +500 +800 +800      | 0750 www:www "#!/bin/sh\necho hi\n"
        120000           | Success | Success | +500 +800 +800      | 0750 www:www "#!/bin/sh\necho hi\n"
    "##;

    let mut sim = fixed(ONE_LINUX);
    let invoke_id = send_to(
        &mut sim,
        "i-1",
        &params(
            "Name=deploy.sh TargetDir=/srv/app FileMode=0750 FileOwner=www FileGroup=www \
             ContentType=Base64 Content=IyEvYmluL3NoCmVjaG8gaGkK",
        ),
    );

    let (mut want, mut got) = (Vec::new(), Vec::new());
    for row in rows(timeline) {
        let offset: i64 = row[0].parse().expect("a number of ms");
        sim.advance_to(at(offset));
        let record = record(&sim, &invoke_id);
        assert_eq!(record.creation_time, at(0));
        let result = result(&sim, &invoke_id, "i-1");
        want.push(row.join(" | "));
        got.push(
            [
                row[0],
                record.status().as_str(),
                &outcome(result),
                &times(result),
                &file(&sim, "i-1", "/srv/app/deploy.sh"),
            ]
            .join(" | "),
        );
    }
    assert_rows(&want, &got);
}

// ---------------------------------------------------------------------------
// 2. Natural causes: the instance, the agent, and time
// ---------------------------------------------------------------------------

/// Each row: the fields of `i-1` as inline TOML, where a send to it ends,
/// and the times then.
fn check_instances(table: &str) {
    let (mut want, mut got) = (Vec::new(), Vec::new());
    for row in rows(table) {
        let fields = match row[0] {
            "-" => String::new(),
            fields => format!(", {fields}"),
        };
        let mut sim = fixed(&format!("instances = [{{ id = \"i-1\"{fields} }}]"));
        let invoke_id = send_to(&mut sim, "i-1", &[]);
        run_out(&mut sim);
        let result = result(&sim, &invoke_id, "i-1");
        want.push(row.join(" | "));
        got.push([row[0], &outcome(result), &times(result)].join(" | "));
    }
    assert_rows(&want, &got);
}

#[test]
fn the_instance_and_its_agent_are_judged_at_dispatch() {
    check_instances(
        r#"
        // i-1                                               | outcome                    | start finish update
        -                                                    | Success                    | +500 +800 +800
        state = "Stopped"                                    | Aborted InstanceNotRunning | - +500 +500
        state = "Starting"                                   | Aborted InstanceNotRunning | - +500 +500
        state = "Stopping"                                   | Aborted InstanceNotRunning | - +500 +500
        state = "Released"                                   | Aborted InstanceNotExists  | - +500 +500
        agent = { state = "stopped" }                        | Aborted ClientNotRunning   | - +500 +500
        agent = { state = "upgrading" }                      | Aborted ClientIsUpgrading  | - +500 +500
        // The instance is judged before its agent, the agent's state before its version.
        state = "Stopped", agent = { state = "stopped" }     | Aborted InstanceNotRunning | - +500 +500
        agent = { state = "upgrading", version = "1.0.2.1" } | Aborted ClientIsUpgrading  | - +500 +500
        "#,
    );
}

#[test]
fn an_agent_silent_for_over_two_minutes_does_not_respond() {
    // Dispatch is at +500 ms. T0 - 121 s is 1_699_999_879_000.
    check_instances(
        r#"
        // i-1                                                         | outcome                   | start finish update
        // silent since long ago
        agent = { state = "silent" }                                   | Aborted ClientNotResponse | - +500 +500
        // silent for 121.5 s at dispatch
        agent = { state = "silent", silent_since = 1_699_999_879_000 } | Aborted ClientNotResponse | - +500 +500
        // silent for exactly 120 s at dispatch: not yet over two minutes; the task reaches a silent agent
        agent = { state = "silent", silent_since = 1_699_999_880_500 } | Timeout DeliveryTimeout   | +500 +60000 +60000
        agent = { state = "silent", silent_since = 1_699_999_881_000 } | Timeout DeliveryTimeout   | +500 +60000 +60000
        "#,
    );
}

#[test]
fn agents_older_than_the_minimum_need_an_upgrade() {
    check_instances(
        r#"
        // i-1                                            | outcome                   | start finish update
        agent = { version = "1.0.2.568" }                 | Aborted ClientNeedUpgrade | - +500 +500
        agent = { version = "1.0.2.569" }                 | Success                   | +500 +800 +800
        agent = { version = "1.0.10.1" }                  | Success                   | +500 +800 +800
        agent = { version = "0.9" }                       | Aborted ClientNeedUpgrade | - +500 +500
        os = "windows", agent = { version = "1.0.0.148" } | Aborted ClientNeedUpgrade | - +500 +500
        os = "windows", agent = { version = "1.0.0.149" } | Success                   | +500 +800 +800
        // Linux's minimum does not apply to Windows.
        os = "windows", agent = { version = "1.0.2.568" } | Success                   | +500 +800 +800
        "#,
    );
}

/// Each row: when (ms after a send to a healthy `i-1`) which change is
/// applied, and where the task ends.
fn check_changes(table: &str) {
    let (mut want, mut got) = (Vec::new(), Vec::new());
    for row in rows(table) {
        let mut sim = fixed(ONE_LINUX);
        let invoke_id = send_to(&mut sim, "i-1", &[]);
        sim.advance_to(at(row[0].parse().expect("a number of ms")));
        let change: FleetChange =
            toml::from_str(&format!("change = \"{}\"\ninstance_id = \"i-1\"", row[1]))
                .expect("a change as scenario files write it");
        sim.apply(&change).expect("the change applies");
        run_out(&mut sim);
        let result = result(&sim, &invoke_id, "i-1");
        want.push(row.join(" | "));
        got.push([row[0], row[1], &outcome(result), &times(result)].join(" | "));
    }
    assert_rows(&want, &got);
}

#[test]
fn changes_while_a_task_is_in_flight() {
    check_changes(
        r#"
        // ms | change              | outcome                    | start finish update
        // Pending: released, or refused at dispatch (+500)
        200   | release_instance    | Error InstanceReleased     | - +200 +200
        200   | stop_instance       | Aborted InstanceNotRunning | - +500 +500
        200   | stop_agent          | Aborted ClientNotRunning   | - +500 +500
        200   | begin_agent_upgrade | Aborted ClientIsUpgrading  | - +500 +500
        // silent for only 300 ms at dispatch: the task reaches an agent that never answers
        200   | silence_agent       | Timeout DeliveryTimeout    | +500 +60000 +60000
        // Running: anything that keeps the agent from finishing ends at the timeout
        600   | release_instance    | Error InstanceReleased     | +500 +600 +600
        600   | silence_agent       | Timeout DeliveryTimeout    | +500 +60000 +60000
        600   | stop_agent          | Timeout DeliveryTimeout    | +500 +60000 +60000
        600   | stop_instance       | Timeout DeliveryTimeout    | +500 +60000 +60000
        // Finished: nothing changes
        900   | release_instance    | Success                    | +500 +800 +800
        900   | stop_agent          | Success                    | +500 +800 +800
        "#,
    );
}

#[test]
fn an_agent_silenced_earlier_refuses_tasks_after_two_minutes() {
    let mut sim = fixed(ONE_LINUX);
    sim.apply(&FleetChange::SilenceAgent {
        instance_id: id("i-1"),
    })
    .expect("the change applies");
    sim.advance_to(at(119_000));
    let reached = send_to(&mut sim, "i-1", &[]);
    sim.advance_to(at(121_000));
    let refused = send_to(&mut sim, "i-1", &[]);
    run_out(&mut sim);

    let got = [
        outcome(result(&sim, &reached, "i-1")),
        outcome(result(&sim, &refused, "i-1")),
    ];
    assert_eq!(
        got,
        ["Timeout DeliveryTimeout", "Aborted ClientNotResponse",]
    );
}

/// Each row: the `Timeout` sent (`-` for none), when (ms after the send)
/// and how a task whose agent fell silent after dispatch ends, and its
/// status a millisecond before.
fn check_deadlines(table: &str) {
    let (mut want, mut got) = (Vec::new(), Vec::new());
    for row in rows(table) {
        let mut sim = fixed(ONE_LINUX);
        let params: Vec<(&str, &str)> = match row[0] {
            "-" => vec![],
            timeout => vec![("Timeout", timeout)],
        };
        let invoke_id = send_to(&mut sim, "i-1", &params);
        sim.advance_to(at(600));
        sim.apply(&FleetChange::SilenceAgent {
            instance_id: id("i-1"),
        })
        .expect("the change applies");

        let wanted_end: i64 = row[1]
            .split_whitespace()
            .next()
            .and_then(|end| end.trim_start_matches('+').parse().ok())
            .expect("the row starts its end with +ms");
        sim.advance_to(at(wanted_end - 1));
        let just_before = result(&sim, &invoke_id, "i-1").status.as_str();
        run_out(&mut sim);
        let result = result(&sim, &invoke_id, "i-1");
        let end = match result.finish_time {
            Some(t) => format!("+{} {}", t.as_millis() - T0, outcome(result)),
            None => "never".to_owned(),
        };
        want.push(row.join(" | "));
        got.push([row[0], &end, just_before].join(" | "));
    }
    assert_rows(&want, &got);
}

#[test]
fn an_unfinished_task_times_out_exactly_at_creation_plus_timeout() {
    check_deadlines(
        r#"
        // Timeout | ends                           | 1 ms before
        -          | +60000 Timeout DeliveryTimeout | Running
        30         | +30000 Timeout DeliveryTimeout | Running
        10         | +10000 Timeout DeliveryTimeout | Running
        // below the minimum of 10 s is raised to it
        9          | +10000 Timeout DeliveryTimeout | Running
        1          | +10000 Timeout DeliveryTimeout | Running
        0          | +10000 Timeout DeliveryTimeout | Running
        -5         | +10000 Timeout DeliveryTimeout | Running
        "#,
    );
}

#[test]
fn a_task_finishing_exactly_at_its_deadline() {
    // Dispatch at 9.7 s and a 300 ms write end exactly at creation + 10 s.
    let mut sim = simulation(
        r#"
        timing = { dispatch_delay = { min_ms = 9700, max_ms = 9700 }, write_duration = { min_ms = 300, max_ms = 300 } }
        instances = [{ id = "i-1" }]
        "#,
        SEED,
    );
    let invoke_id = send_to(&mut sim, "i-1", &[("Timeout", "10")]);
    run_out(&mut sim);
    let result = result(&sim, &invoke_id, "i-1");
    // DESIGN.md times out a task that "has not finished by creation +
    // Timeout": one finishing at that very instant has finished in time.
    assert_eq!(
        [outcome(result), times(result)],
        ["Success", "+9700 +10000 +10000"]
    );
}

#[test]
fn the_overall_status_rolls_up_the_instances() {
    let mut sim = fixed(
        r#"
        instances = [
            { id = "i-ok" },
            { id = "i-slow", timing = { dispatch_delay = { min_ms = 2000, max_ms = 2000 } } },
            { id = "i-stopped", state = "Stopped" },
        ]
        "#,
    );
    let mixed = send(
        &mut sim,
        &params("InstanceId.1=i-ok InstanceId.2=i-slow InstanceId.3=i-stopped"),
    )
    .expect("accepted");
    let all_bad = send(
        &mut sim,
        &params("InstanceId.1=i-ok InstanceId.2=i-stopped"),
    )
    .expect("accepted");
    sim.apply(&FleetChange::StopAgent {
        instance_id: id("i-ok"),
    })
    .expect("the change applies");

    let timeline = "
        // ms | three instances | two failing
        0     | Pending         | Pending
        600   | Pending         | Failed
        2000  | Running         | Failed
        2300  | PartialFailed   | Failed
    ";
    let (mut want, mut got) = (Vec::new(), Vec::new());
    for row in rows(timeline) {
        sim.advance_to(at(row[0].parse().expect("a number of ms")));
        want.push(row.join(" | "));
        got.push(
            [
                row[0],
                record(&sim, &mixed).status().as_str(),
                record(&sim, &all_bad).status().as_str(),
            ]
            .join(" | "),
        );
    }
    assert_rows(&want, &got);

    // Instances are listed in the order the request named them.
    let listed: Vec<String> = record(&sim, &mixed)
        .instances
        .iter()
        .map(|i| format!("{} {}", i.instance_id, outcome(i)))
        .collect();
    assert_eq!(
        listed,
        [
            "i-ok Aborted ClientNotRunning",
            "i-slow Success",
            "i-stopped Aborted InstanceNotRunning",
        ]
    );
}

// ---------------------------------------------------------------------------
// 3. The agent's checks, in its order
// ---------------------------------------------------------------------------

const AGENT_FLEET: &str = r#"
[[instances]]
id = "i-linux"
users = ["root", "www"]
groups = ["root", "www"]
directories = ["/srv/data/app.conf"]
files = [
    { path = "/etc/app.conf", content = "old", mode = "0600", owner = "www", group = "www" },
    { path = "/srv/blocker", content = "not a directory" },
]

[[instances]]
id = "i-win"
os = "windows"
"#;

/// Sends to `instance` and runs the task out; returns its [`outcome`].
fn run(sim: &mut Simulation, instance: &str, params: &[(&str, &str)]) -> String {
    let invoke_id = send_to(sim, instance, params);
    run_out(sim);
    outcome(result(sim, &invoke_id, instance))
}

/// Each row: the parameters of one send to `instance` of a fresh
/// [`AGENT_FLEET`], where it ends, a path and what is there afterwards.
fn check_agent(instance: &str, table: &str) {
    let (mut want, mut got) = (Vec::new(), Vec::new());
    for row in rows(table) {
        let mut sim = fixed(AGENT_FLEET);
        let outcome = run(&mut sim, instance, &params(row[0]));
        want.push(row.join(" | "));
        got.push([row[0], &outcome, row[2], &file(&sim, instance, row[2])].join(" | "));
    }
    assert_rows(&want, &got);
}

#[test]
fn linux_agent_checks() {
    check_agent(
        "i-linux",
        r#"
        // SendFile                                      | outcome                      | path                    | afterwards
        -                                                | Success                      | /root/hello.txt         | 0644 root:root "hello"
        ContentType=Base64 Content=aGVsbG8gd29ybGQ=      | Success                      | /root/hello.txt         | 0644 root:root "hello world"

        // An existing path, file or directory, needs Overwrite.
        TargetDir=/etc Name=app.conf                     | Invalid FileAlreadyExists    | /etc/app.conf           | 0600 www:www "old"
        TargetDir=/etc Name=app.conf Overwrite=true      | Success                      | /etc/app.conf           | 0644 root:root "hello"
        TargetDir=/srv/data Name=app.conf                | Invalid FileAlreadyExists    | /srv/data/app.conf      | dir
        TargetDir=/srv/data Name=app.conf Overwrite=True | Failed FileCreateFail        | /srv/data/app.conf      | dir

        // The target directory: absolute, not a file, made when missing.
        TargetDir=srv/x                                  | Invalid FilePathInvalid      | /root/srv               | absent
        TargetDir=/srv/blocker                           | Invalid FilePathInvalid      | /srv/blocker            | 0644 root:root "not a directory"
        TargetDir=/srv/blocker/sub                       | Invalid FilePathInvalid      | /srv/blocker            | 0644 root:root "not a directory"
        TargetDir=/srv/new/deep                          | Success                      | /srv/new/deep/hello.txt | 0644 root:root "hello"
        TargetDir=/srv/./new/../other/                   | Success                      | /srv/other/hello.txt    | 0644 root:root "hello"
        // ... made before the mode is judged, and left there
        TargetDir=/srv/new/deep FileMode=00644           | Invalid FileAuthorityInvalid | /srv/new/deep           | dir
        TargetDir=/srv/new/deep FileMode=00644           | Invalid FileAuthorityInvalid | /srv/new/deep/hello.txt | absent
        // ... but not before empty content is judged
        TargetDir=/srv/new/deep Content=                 | Invalid FileContentInvalid   | /srv/new                | absent

        // Modes: three or four octal digits; set-id and sticky bits dropped.
        FileMode=4755                                    | Success                      | /root/hello.txt         | 0755 root:root "hello"
        FileMode=600                                     | Success                      | /root/hello.txt         | 0600 root:root "hello"
        FileMode=7                                       | Invalid FileAuthorityInvalid | /root/hello.txt         | absent
        FileMode=0                                       | Invalid FileAuthorityInvalid | /root/hello.txt         | absent

        // Owner, then group: judged after the write, which stays.
        FileOwner=www FileGroup=www                      | Success                      | /root/hello.txt         | 0644 www:www "hello"
        FileOwner=www                                    | Success                      | /root/hello.txt         | 0644 www:root "hello"
        FileOwner=nobody                                 | Invalid AccountNotExists     | /root/hello.txt         | 0644 root:root "hello"
        FileGroup=nogroup                                | Invalid UserGroupNotExists   | /root/hello.txt         | 0644 root:root "hello"
        FileOwner=nobody FileGroup=nogroup               | Invalid AccountNotExists     | /root/hello.txt         | 0644 root:root "hello"

        // Names and content.
        Name=a/b                                         | Invalid FileNameInvalid      | /root/a                 | absent
        Name=                                            | Invalid FileNameInvalid      | /root                   | dir
        Name=.                                           | Invalid FileNameInvalid      | /root                   | dir
        Name=..                                          | Invalid FileNameInvalid      | /                       | dir
        Name=a:b                                         | Success                      | /root/a:b               | 0644 root:root "hello"
        Content=                                         | Invalid FileContentInvalid   | /root/hello.txt         | absent
        // An empty name is judged before empty content.
        Name= Content=                                   | Invalid FileNameInvalid      | /root                   | dir
        "#,
    );
}

#[test]
fn windows_agent_checks() {
    check_agent(
        "i-win",
        r#"
        // SendFile                                      | outcome                      | path                  | afterwards
        -                                                | Success                      | C:\Users\hello.txt    | 0644 Administrator:Administrators "hello"
        // Paths ignore letter case and slash style.
        TargetDir=c:/temp/App                            | Success                      | C:\Temp\app\HELLO.TXT | 0644 Administrator:Administrators "hello"
        // Owner, group and mode are not applied.
        FileOwner=nobody FileGroup=nogroup FileMode=0600 | Success                      | C:\Users\hello.txt    | 0644 Administrator:Administrators "hello"
        // ... but the mode must still be one the agent can parse.
        FileMode=00644                                   | Invalid FileAuthorityInvalid | C:\Users\hello.txt    | absent
        TargetDir=C:\New FileMode=7                      | Invalid FileAuthorityInvalid | C:\New                | dir
        TargetDir=/tmp                                   | Invalid FilePathInvalid      | C:\tmp                | absent
        Name=a:b                                         | Invalid FileNameInvalid      | C:\Users\a:b          | absent
        Name=a\b                                         | Invalid FileNameInvalid      | C:\Users\a            | absent
        Name=what?                                       | Invalid FileNameInvalid      | C:\Users\what?        | absent
        "#,
    );
}

#[test]
fn names_over_255_bytes_fail_on_linux_only() {
    // 128 two-byte characters: within the API's 255 characters, over the
    // 255 bytes a Linux file name may have.
    let long = "é".repeat(128);
    let longest = "a".repeat(255);
    let written = r#"0644 root:root "hello""#;
    let written_windows = r#"0644 Administrator:Administrators "hello""#;
    let fail = "Failed FileCreateFail";
    check_agent(
        "i-linux",
        &format!(
            "Name={long}    | {fail}  | /root/{long}    | absent\n\
             Name={longest} | Success | /root/{longest} | {written}"
        ),
    );
    check_agent(
        "i-win",
        &format!("Name={long} | Success | C:\\Users\\{long} | {written_windows}"),
    );
}

#[test]
fn a_file_left_by_a_missing_owner_blocks_a_retry_without_overwrite() {
    let steps = r#"
        // SendFile, in turn                    | outcome                   | /root/hello.txt
        FileOwner=nobody Content=v1             | Invalid AccountNotExists  | 0644 root:root "v1"
        FileOwner=www Content=v2                | Invalid FileAlreadyExists | 0644 root:root "v1"
        FileOwner=www Content=v3 Overwrite=true | Success                   | 0644 www:root "v3"
        // replacing keeps nothing of the old file but its place
        Content=v4 FileMode=0700 Overwrite=true | Success                   | 0700 root:root "v4"
    "#;
    let mut sim = fixed(AGENT_FLEET);
    let (mut want, mut got) = (Vec::new(), Vec::new());
    for row in rows(steps) {
        let outcome = run(&mut sim, "i-linux", &params(row[0]));
        want.push(row.join(" | "));
        got.push([row[0], &outcome, &file(&sim, "i-linux", "/root/hello.txt")].join(" | "));
    }
    assert_rows(&want, &got);
}

// ---------------------------------------------------------------------------
// 4. Determinism and independence
// ---------------------------------------------------------------------------

/// Built-in (random) timing, three instances in one region.
const RANDOM_FLEET: &str = r#"instances = [{ id = "i-a" }, { id = "i-b" }, { id = "i-c" }]"#;

/// A fixed series of sends and changes; every record and the decision log
/// afterwards, as JSON.
fn play(seed: u64) -> String {
    let mut sim = simulation(RANDOM_FLEET, seed);
    send(&mut sim, &params("InstanceId.1=i-a InstanceId.2=i-b")).expect("accepted");
    sim.advance_to(at(700));
    sim.apply(&FleetChange::StopAgent {
        instance_id: id("i-c"),
    })
    .expect("the change applies");
    send(&mut sim, &params("InstanceId.1=i-c InstanceId.2=i-a")).expect("accepted");
    sim.advance_to(at(1_100));
    sim.apply(&FleetChange::ReleaseInstance {
        instance_id: id("i-b"),
    })
    .expect("the change applies");
    send(&mut sim, &params("InstanceId.1=i-b Name=late")).expect("accepted");
    run_out(&mut sim);

    let records: Vec<&InvocationRecord> = sim.records().iter().collect();
    let log: Vec<_> = sim.log().collect();
    serde_json::to_string_pretty(&(records, log)).expect("records serialize")
}

#[test]
fn the_same_seed_and_calls_give_the_same_records() {
    let first = play(SEED);
    assert_eq!(first, play(SEED));
    assert_ne!(first, play(SEED + 1));
}

/// Each task `instance` was given, oldest first: when it was created (ms
/// after the start) and how it went.
fn story(sim: &Simulation, instance: &str) -> Vec<String> {
    let mut records: Vec<&InvocationRecord> = sim
        .records()
        .iter()
        .filter(|r| r.instance(&id(instance)).is_some())
        .collect();
    records.reverse();
    records
        .iter()
        .map(|r| {
            let result = result(sim, &r.invoke_id, instance);
            let created = r.creation_time.as_millis() - T0;
            format!("+{created} {} {}", outcome(result), times(result))
        })
        .collect()
}

/// `i-a` alone, given a task at the start and another 5 s later.
fn i_a_alone(seed: u64) -> Vec<String> {
    let mut sim = simulation(r#"instances = [{ id = "i-a" }]"#, seed);
    send_to(&mut sim, "i-a", &[]);
    sim.advance_to(at(5_000));
    send_to(&mut sim, "i-a", &[]);
    run_out(&mut sim);
    story(&sim, "i-a")
}

#[test]
fn an_instance_does_not_depend_on_the_rest_of_the_fleet() {
    // The same two tasks for `i-a` in a larger fleet, among sends to other
    // instances that sort before and after it, sharing requests with it,
    // and in another region.
    let mut crowded = simulation(
        r#"
        instances = [
            { id = "i-0" },
            { id = "i-a" },
            { id = "i-z" },
            { id = "i-elsewhere", region = "cn-beijing" },
        ]
        "#,
        SEED,
    );
    send_to(&mut crowded, "i-z", &[]);
    send_to(&mut crowded, "i-elsewhere", &[("RegionId", "cn-beijing")]);
    let steps = [
        "InstanceId.1=i-0 InstanceId.2=i-z InstanceId.3=i-a",
        "InstanceId.1=i-z",
    ];
    for step in steps {
        send(&mut crowded, &params(step)).expect("accepted");
    }
    crowded.advance_to(at(1_000));
    send_to(&mut crowded, "i-0", &[]);
    crowded.advance_to(at(5_000));
    send(&mut crowded, &params("InstanceId.1=i-a InstanceId.2=i-0")).expect("accepted");
    run_out(&mut crowded);

    let alone = i_a_alone(SEED);
    assert_eq!(alone.len(), 2);
    assert_eq!(alone, story(&crowded, "i-a"));
    // The draws do depend on the seed.
    assert_ne!(alone, i_a_alone(SEED + 1));
}

#[test]
fn built_in_delays_vary_between_instances_and_stay_in_range() {
    let mut sim = simulation(RANDOM_FLEET, SEED);
    let invoke_id = send(
        &mut sim,
        &params("InstanceId.1=i-a InstanceId.2=i-b InstanceId.3=i-c"),
    )
    .expect("accepted");
    run_out(&mut sim);
    let mut starts = Vec::new();
    for result in &record(&sim, &invoke_id).instances {
        assert_times_consistent(result);
        assert_eq!(outcome(result), "Success");
        let created = result.creation_time.as_millis();
        let start = result.start_time.expect("started").as_millis() - created;
        let write = result.finish_time.expect("finished").as_millis() - created - start;
        assert!(
            (200..=1_500).contains(&start),
            "dispatched after {start} ms"
        );
        assert!((100..=1_000).contains(&write), "written in {write} ms");
        starts.push(start);
    }
    starts.dedup();
    assert!(starts.len() > 1, "every instance drew {starts:?}");
}

// ---------------------------------------------------------------------------
// 5. DescribeSendFileResults
// ---------------------------------------------------------------------------

/// Records with pinned ids, so that listings read plainly:
///
/// | InvokeId | created | region      | Name  | TargetDir | instances | at +2 s |
/// |----------|---------|-------------|-------|-----------|-----------|---------|
/// | f-001    | +0      | cn-hangzhou | a.txt | /root     | i-a, i-b  | Success |
/// | f-003    | +0      | cn-hangzhou | b.txt | /root     | i-b       | Success |
/// | f-002    | +0      | cn-hangzhou | a.txt | /tmp      | i-a       | Success |
/// | f-000    | +2 s    | cn-hangzhou | b.txt | /root     | i-a       | Pending |
/// | f-999    | +2 s    | cn-beijing  | a.txt | /root     | i-c       | Pending |
fn listing_fleet() -> Simulation {
    let mut sim = fixed(
        r#"instances = [{ id = "i-a" }, { id = "i-b" }, { id = "i-c", region = "cn-beijing" }]"#,
    );
    let sends = [
        (0, "f-001", "InstanceId.1=i-a InstanceId.2=i-b Name=a.txt"),
        (0, "f-003", "InstanceId.1=i-b Name=b.txt"),
        (0, "f-002", "InstanceId.1=i-a Name=a.txt TargetDir=/tmp"),
        (2_000, "f-000", "InstanceId.1=i-a Name=b.txt"),
        (
            2_000,
            "f-999",
            "InstanceId.1=i-c Name=a.txt RegionId=cn-beijing",
        ),
    ];
    for (offset, invoke_id, step) in sends {
        sim.advance_to(at(offset));
        sim.pin_ids(PinnedIds {
            invoke_id: Some(InvokeId::from(invoke_id)),
            request_id: None,
        })
        .expect("a new id pins");
        let got = send(&mut sim, &params(step)).expect("accepted");
        assert_eq!(got.as_str(), invoke_id);
    }
    sim
}

/// A DescribeSendFileResults answer as `total=N next=T: id[instances] ...`
/// (`next` only in token paging, `…` for a non-empty token), or
/// `error Code`.
fn list(sim: &Simulation, params: &[(&str, &str)]) -> String {
    let params: Params = params
        .iter()
        .chain([("RegionId", "cn-hangzhou")].iter())
        .copied()
        .collect();
    let page = DescribeSendFileResultsRequest::from_params(&params)
        .and_then(|request| sim.describe(&request).map(|page| summary(&page)));
    match page {
        Ok(summary) => summary,
        Err(error) => format!("error {}", error.code()),
    }
}

fn summary(page: &Page<'_>) -> String {
    let mut text = format!("total={}", page.total_count);
    match page.next_token.as_deref() {
        None => {}
        Some("") => text.push_str(" next="),
        Some(_) => text.push_str(" next=…"),
    }
    text.push(':');
    for record in &page.records {
        let instances: Vec<&str> = record
            .instances
            .iter()
            .map(|i| i.instance_id.as_str())
            .collect();
        text.push_str(&format!(" {}[{}]", record.invoke_id, instances.join(",")));
    }
    text
}

/// Each row: DescribeSendFileResults parameters (region `cn-hangzhou`
/// unless given) and what [`list`] makes of the answer.
fn check_describe(sim: &Simulation, table: &str) {
    let (mut want, mut got) = (Vec::new(), Vec::new());
    for row in rows(table) {
        want.push(row.join(" | "));
        got.push([row[0], &list(sim, &params(row[0]))].join(" | "));
    }
    assert_rows(&want, &got);
}

#[test]
fn describe_filters_sorts_and_pages() {
    check_describe(
        &listing_fleet(),
        "
        // DescribeSendFileResults              | answer
        // Newest first; equal times by InvokeId descending.
        -                                       | total=4: f-000[i-a] f-003[i-b] f-002[i-a] f-001[i-a,i-b]
        // An empty filter is no filter.
        InvokeId= Name= InstanceId=             | total=4: f-000[i-a] f-003[i-b] f-002[i-a] f-001[i-a,i-b]
        // The InstanceId filter keeps each record's whole instance list.
        InstanceId=i-b                          | total=2: f-003[i-b] f-001[i-a,i-b]
        Name=a.txt                              | total=2: f-002[i-a] f-001[i-a,i-b]
        InvokeId=f-003                          | total=1: f-003[i-b]
        InvokeId=f-404                          | total=0:
        InvocationStatus=Success                | total=3: f-003[i-b] f-002[i-a] f-001[i-a,i-b]
        InvocationStatus=Pending                | total=1: f-000[i-a]
        InvocationStatus=Nonsense               | total=0:

        // Filters combine with AND.
        Name=a.txt InstanceId=i-b               | total=1: f-001[i-a,i-b]
        Name=b.txt InvokeId=f-001               | total=0:
        InstanceId=i-a InvokeId=f-003           | total=0:
        InstanceId=i-a InvocationStatus=Success | total=2: f-002[i-a] f-001[i-a,i-b]

        // Pages.
        PageSize=2                              | total=4: f-000[i-a] f-003[i-b]
        PageSize=2 PageNumber=2                 | total=4: f-002[i-a] f-001[i-a,i-b]
        PageSize=3 PageNumber=2                 | total=4: f-001[i-a,i-b]
        PageSize=2 PageNumber=3                 | total=4:
        PageNumber=99                           | total=4:
        Name=a.txt PageSize=1 PageNumber=2      | total=2: f-001[i-a,i-b]

        // Regions: each sees only its own records.
        RegionId=cn-beijing                     | total=1: f-999[i-c]
        RegionId=cn-beijing InstanceId=i-a      | total=0:
        InvokeId=f-999                          | total=0:
        InstanceId=i-c                          | total=0:
        RegionId=cn-nowhere                     | error InvalidRegionId.NotFound

        // Token paging: TotalCount 0, NextToken always there, page parameters ignored.
        MaxResults=3                            | total=0 next=…: f-000[i-a] f-003[i-b] f-002[i-a]
        MaxResults=4                            | total=0 next=: f-000[i-a] f-003[i-b] f-002[i-a] f-001[i-a,i-b]
        MaxResults=50 PageSize=1 PageNumber=9   | total=0 next=: f-000[i-a] f-003[i-b] f-002[i-a] f-001[i-a,i-b]
        MaxResults=1 Name=a.txt InstanceId=i-b  | total=0 next=: f-001[i-a,i-b]
        NextToken=zz                            | error InvalidParameter.NextToken
        NextToken=not-a-token                   | error InvalidParameter.NextToken
        NextToken=abc                           | error InvalidParameter.NextToken
        NextToken=3132                          | error InvalidParameter.NextToken
        ",
    );
}

#[test]
fn token_paging_walks_every_record_once() {
    let mut sim = fixed(r#"instances = [{ id = "i-a" }, { id = "i-b" }]"#);
    // Eleven records, up to three at each instant.
    for n in 0..11 {
        sim.advance_to(at(n / 3 * 1_000));
        send_to(&mut sim, if n % 2 == 0 { "i-a" } else { "i-b" }, &[]);
    }
    let everything = list(&sim, &[("PageSize", "50")]);
    let listed: Vec<&str> = everything
        .split(' ')
        .skip(1)
        .map(|item| item.split('[').next().unwrap_or_default())
        .collect();
    assert_eq!(listed.len(), 11, "{everything}");

    for max_results in ["1", "2", "3", "4", "11", "12"] {
        let mut walked = Vec::new();
        let mut token = String::new();
        for page in 0.. {
            assert!(page <= 11, "MaxResults={max_results} does not end");
            let mut params = vec![("RegionId", "cn-hangzhou"), ("MaxResults", max_results)];
            if !token.is_empty() {
                params.push(("NextToken", token.as_str()));
            }
            let params: Params = params.into_iter().collect();
            let request = DescribeSendFileResultsRequest::from_params(&params).expect("valid");
            let page = sim.describe(&request).expect("a token we handed out");
            assert_eq!(page.total_count, 0);
            walked.extend(page.records.iter().map(|r| r.invoke_id.to_string()));
            token = page.next_token.clone().expect("token paging has NextToken");
            if token.is_empty() {
                break;
            }
        }
        assert_eq!(walked, listed, "MaxResults={max_results}");
    }
}

// ---------------------------------------------------------------------------
// 6. What SendFile refuses outright
// ---------------------------------------------------------------------------

#[test]
fn unknown_instances_and_regions_are_refused_without_a_record() {
    let mut sim = fixed(
        r#"
        instances = [
            { id = "i-a" },
            { id = "i-gone", state = "Released" },
            { id = "i-elsewhere", region = "cn-beijing" },
        ]
        "#,
    );
    let table = "
        // SendFile                          | error
        InstanceId.1=i-nope                  | InvalidInstance.NotFound
        InstanceId.1=i-a InstanceId.2=i-nope | InvalidInstance.NotFound
        // known, but not in the request's region
        InstanceId.1=i-elsewhere             | InvalidInstance.NotFound
        InstanceId.1=i-a RegionId=cn-nowhere | InvalidRegionId.NotFound
    ";
    let (mut want, mut got) = (Vec::new(), Vec::new());
    for row in rows(table) {
        let answer = match send(&mut sim, &params(row[0])) {
            Ok(invoke_id) => format!("accepted as {invoke_id}"),
            Err(error) => error.code().into_owned(),
        };
        assert!(sim.records().is_empty(), "{} left a record", row[0]);
        want.push(row.join(" | "));
        got.push([row[0], &answer].join(" | "));
    }
    assert_rows(&want, &got);

    // A released instance is known, whether it came so or was released
    // since: the request is accepted and the instance fails on its own.
    sim.apply(&FleetChange::ReleaseInstance {
        instance_id: id("i-a"),
    })
    .expect("the change applies");
    let gone = send_to(&mut sim, "i-gone", &[]);
    let released = send_to(&mut sim, "i-a", &[]);
    run_out(&mut sim);
    let got = [
        outcome(result(&sim, &gone, "i-gone")),
        outcome(result(&sim, &released, "i-a")),
    ];
    assert_eq!(
        got,
        ["Aborted InstanceNotExists", "Aborted InstanceNotExists"]
    );
    assert_eq!(sim.records().len(), 2);
}
