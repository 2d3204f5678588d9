//! The control API's own edges: errors are always `{"error": …}` JSON that
//! names the problem, and a state of any realistic size goes out and back in.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use casim_model::Timestamp;
use casim_server::{ClockMode, ServerConfig};
use serde_json::Value;
use tower::ServiceExt as _;

fn app() -> axum::Router {
    let config = ServerConfig {
        fleet: casim_server::demo::fleet(),
        clock: ClockMode::Manual,
        start_time: Timestamp::parse("2024-01-01T00:00:00Z").expect("time"),
        ..ServerConfig::default()
    };
    casim_server::router(casim_server::state(&config).expect("state"))
}

async fn call(app: &axum::Router, method: &str, uri: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::from(body))
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("answer");
    let status = response.status();
    (
        status,
        to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body")
            .to_vec(),
    )
}

#[tokio::test]
async fn control_errors_are_json_that_names_the_problem() {
    let app = app();
    let cases = [
        (
            "GET",
            "/_casim/clok",
            "",
            404,
            "no control endpoint /_casim/clok",
        ),
        (
            "DELETE",
            "/_casim/clock",
            "",
            405,
            "DELETE is not allowed on /_casim/clock",
        ),
        (
            "GET",
            "/_casim/instances/i-bp1demo0web00000001/file",
            "",
            400,
            "path",
        ),
        ("GET", "/_casim/log?since=soon", "", 400, "since"),
        (
            "POST",
            "/_casim/clock/advance",
            "{\"milis\": 5}",
            400,
            "unknown field `milis`",
        ),
        (
            "POST",
            "/_casim/fleet/changes",
            "{\"change\":\"stop_agent\",\"instance_id\":\"i-nope\"}",
            404,
            "no instance i-nope",
        ),
        (
            "POST",
            "/_casim/faults",
            "{\"error_code\":\"FileCreateFail\",\"rate\":2}",
            400,
            "rate 2 is not between 0 and 1",
        ),
        (
            "DELETE",
            "/_casim/faults/none",
            "",
            404,
            "no fault named `none`",
        ),
        // A scheduled change is checked when it is accepted, not dropped later.
        (
            "POST",
            "/_casim/fleet/changes",
            r#"{"change":"end_agent_upgrade","instance_id":"i-bp1demo0web00000001","version":"abc","after_ms":10}"#,
            400,
            "agent version `abc`",
        ),
        (
            "POST",
            "/_casim/fleet/changes",
            r#"{"change":"add_file","instance_id":"i-bp1demo0web00000001","path":"/x","mode":"99","after_ms":10}"#,
            400,
            "mode `99`",
        ),
        (
            "POST",
            "/_casim/api-faults",
            r#"{"actions":["SendFiel"],"kind":{"type":"throttle"}}"#,
            400,
            "no action `SendFiel`",
        ),
        (
            "POST",
            "/_casim/api-faults",
            r#"{"kind":{"type":"latency","millis":18446744073709551615}}"#,
            400,
            "latency of",
        ),
        (
            "PUT",
            "/_casim/state",
            r#"{"schema_version":1,"surprise":true}"#,
            400,
            "unknown field `surprise`",
        ),
    ];
    for (method, uri, body, status, needle) in cases {
        let (got, bytes) = call(&app, method, uri, body.as_bytes().to_vec()).await;
        let json: Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!(
                "{method} {uri}: not JSON: {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        let error = json["error"].as_str().unwrap_or("");
        assert_eq!(got.as_u16(), status, "{method} {uri}: {error}");
        assert!(
            error.contains(needle),
            "{method} {uri}: {error:?} lacks {needle:?}"
        );
    }
}

#[tokio::test]
async fn a_large_state_goes_out_and_back_in_unchanged() {
    let app = app();
    let send = "/?Action=SendFile&Version=2014-05-26&Format=JSON&RegionId=cn-hangzhou\
                &InstanceId.1=i-bp1demo0web00000001&InstanceId.2=i-bp1demo0web00000002\
                &InstanceId.3=i-bp1demo0web00000003&TargetDir=/tmp&Content=hello";
    for i in 0..1_500 {
        let (status, _) = call(&app, "POST", &format!("{send}&Name=f{i}.txt"), Vec::new()).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, exported) = call(&app, "GET", "/_casim/state", Vec::new()).await;
    assert!(
        exported.len() > 2 << 20,
        "the state should pass the 2 MiB default body limit"
    );

    let fresh = self::app();
    let (status, body) = call(&fresh, "PUT", "/_casim/state", exported.clone()).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let (_, again) = call(&fresh, "GET", "/_casim/state", Vec::new()).await;
    assert!(
        again == exported,
        "export → import → export must be byte-identical"
    );
}

#[tokio::test]
async fn next_tokens_casim_never_issued_are_refused() {
    let app = app();
    let base =
        "/?Action=DescribeSendFileResults&Version=2014-05-26&Format=JSON&RegionId=cn-hangzhou";
    let hex = |text: &str| text.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    for token in [
        hex("0:x"),
        hex("-1:f-a"),
        hex("1704067200000:f-zzzz"),
        "zz".to_owned(),
    ] {
        let (status, body) = call(
            &app,
            "GET",
            &format!("{base}&NextToken={token}"),
            Vec::new(),
        )
        .await;
        let json: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(
            (status.as_u16(), json["Code"].as_str()),
            (400, Some("InvalidParameter.NextToken")),
            "{token}"
        );
    }
}

async fn json(app: &axum::Router, method: &str, uri: &str, body: &str) -> (u16, Value) {
    let (status, bytes) = call(app, method, uri, body.as_bytes().to_vec()).await;
    (
        status.as_u16(),
        serde_json::from_slice(&bytes).expect("JSON body"),
    )
}

const SEND: &str = "/?Action=SendFile&Version=2014-05-26&Format=JSON&RegionId=cn-hangzhou\
                    &InstanceId.1=i-bp1demo0web00000001&Name=a&TargetDir=/tmp&Content=x";
const LIST: &str =
    "/?Action=DescribeSendFileResults&Version=2014-05-26&Format=JSON&RegionId=cn-hangzhou";

#[tokio::test]
async fn reset_seed_and_fleet_loads_start_over_but_keep_settings() {
    let config = ServerConfig {
        fleet: casim_server::demo::fleet(),
        start_time: Timestamp::parse("2024-01-01T00:00:00Z").expect("time"),
        retention: casim_fleet::Retention {
            max_age_ms: u64::MAX,
            max_records: 2,
        },
        ..ServerConfig::default()
    };
    let app = casim_server::router(casim_server::state(&config).expect("state"));
    let send_four = || async {
        for _ in 0..4 {
            assert_eq!(json(&app, "POST", SEND, "").await.0, 200);
        }
    };

    send_four().await;
    assert_eq!(
        json(&app, "GET", LIST, "").await.1["TotalCount"],
        2,
        "the cap holds"
    );
    let (_, log) = json(&app, "GET", "/_casim/log", "").await;
    let last_seq = log["entries"]
        .as_array()
        .and_then(|e| e.last())
        .map(|e| e["seq"].clone());

    // A new seed starts over, and keeps the record cap.
    assert_eq!(
        json(&app, "POST", "/_casim/seed", r#"{"seed": 9}"#).await.0,
        200
    );
    assert_eq!(json(&app, "GET", LIST, "").await.1["TotalCount"], 0);
    send_four().await;
    assert_eq!(
        json(&app, "GET", LIST, "").await.1["TotalCount"],
        2,
        "the cap survives a new seed"
    );

    // The log numbers on across the restart, so a live reader misses nothing.
    let (_, log) = json(&app, "GET", "/_casim/log", "").await;
    let first_after = log["entries"][0]["seq"].as_u64().expect("seq");
    assert!(
        Some(first_after) > last_seq.and_then(|s| s.as_u64()),
        "{log}"
    );

    // Reset: no records, the clock back at its start.
    json(
        &app,
        "POST",
        "/_casim/clock/advance",
        r#"{"millis": 60000}"#,
    )
    .await;
    let (status, clock) = json(&app, "POST", "/_casim/reset", "").await;
    assert_eq!(
        (status, clock["now"].as_str()),
        (200, Some("2024-01-01T00:00:00Z"))
    );
    assert_eq!(json(&app, "GET", LIST, "").await.1["TotalCount"], 0);

    // A new fleet replaces the old one: its ids are the only ones known.
    let fleet = r#"{"instances":[{"id":"i-bp1newfleet000000001"}]}"#;
    assert_eq!(json(&app, "PUT", "/_casim/fleet", fleet).await.0, 200);
    let (status, body) = json(&app, "POST", SEND, "").await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (404, Some("InvalidInstance.NotFound"))
    );
}

#[tokio::test]
async fn clock_modes_and_pins() {
    let app = app();
    let (_, wall) = json(
        &app,
        "POST",
        "/_casim/clock/mode",
        r#"{"mode":"wall","speed":1000}"#,
    )
    .await;
    assert_eq!(wall["mode"], "wall");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let (_, later) = json(&app, "GET", "/_casim/clock", "").await;
    assert!(
        later["now_ms"].as_i64() > wall["now_ms"].as_i64(),
        "a fast wall clock moves: {later}"
    );
    let (_, manual) = json(&app, "POST", "/_casim/clock/mode", r#"{"mode":"manual"}"#).await;
    let (_, still) = json(&app, "GET", "/_casim/clock", "").await;
    assert_eq!(
        manual["now_ms"], still["now_ms"],
        "a manual clock stands still"
    );
    let (status, _) = json(
        &app,
        "POST",
        "/_casim/clock/mode",
        r#"{"mode":"wall","speed":0}"#,
    )
    .await;
    assert_eq!(status, 400);

    // A pinned InvokeId is used once; pinning one that exists is refused.
    let pin = r#"{"invoke_id":"f-pinned000000000001"}"#;
    assert_eq!(json(&app, "POST", "/_casim/next-ids", pin).await.0, 200);
    assert_eq!(
        json(&app, "POST", SEND, "").await.1["InvokeId"],
        "f-pinned000000000001"
    );
    let (status, body) = json(&app, "POST", "/_casim/next-ids", pin).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        json(&app, "POST", "/_casim/next-ids", r#"{"request_id":" "}"#)
            .await
            .0,
        409
    );
}
