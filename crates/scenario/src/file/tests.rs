//! Loader tests: one table of scenario texts and what loading them gives.

use std::path::Path;

use super::*;

/// A valid head every case extends with its own steps or fields.
const HEAD: &str = r#"
description = "test"
seed = 7
start_time = "2020-09-11T08:30:55Z"

[[fleet.instances]]
id = "i-bp1aaaaaaaaaaaaaaaaa"
"#;

const SEND: &str = r#"
[[steps]]
do = "send_file"
as = "v1"
instances = ["i-bp1aaaaaaaaaaaaaaaaa"]
name = "a.txt"
target_dir = "/tmp"
content = "x"
"#;

fn load_text(text: &str) -> Result<Scenario, String> {
    parse(text, Path::new("scenarios/case.toml")).map_err(|error| error.to_string())
}

/// Each case: the text after `HEAD`, and the error it must give (a fragment
/// of the message), or `None` when it must load.
#[test]
fn loader_accepts_and_refuses() {
    let cases: &[(&str, &str, Option<&str>)] = &[
        (
            "a send, an advance, a describe by label",
            "[[steps]]\ndo = \"advance\"\nby = \"1500ms\"\n",
            None,
        ),
        (
            "unknown top-level field",
            "sed = 1\n",
            Some("scenarios/case.toml: TOML parse error at line 8, column 1"),
        ),
        (
            "unknown step kind",
            "[[steps]]\ndo = \"send\"\n",
            Some(
                "scenarios/case.toml: step 1 (line 8): field `do`: unknown step `send` (one of send_file, \
                 advance, change, add_fault, add_api_fault, remove_fault, describe, expect, read_file)",
            ),
        ),
        (
            "unknown field in a step",
            "[[steps]]\ndo = \"advance\"\nby = \"1s\"\nfor = \"2s\"\n",
            Some("step 1 (line 8): advance: unknown field `for`, expected `by`"),
        ),
        (
            "field of the wrong type names the field",
            "[[steps]]\ndo = \"send_file\"\ninstances = [\"i-1\"]\ntimeout = \"60\"\n",
            Some(
                "step 1 (line 8): send_file: invalid type: string \"60\", expected i64 in `timeout`",
            ),
        ),
        (
            "bad duration",
            "[[steps]]\ndo = \"advance\"\nby = \"5 parsecs\"\n",
            Some("advance: invalid duration `5 parsecs`"),
        ),
        (
            "missing do",
            "[[steps]]\nby = \"5s\"\n",
            Some("step 1 (line 8): missing field `do`"),
        ),
        (
            "undefined label",
            "[[steps]]\ndo = \"describe\"\ninvoke = \"v9\"\n",
            Some(
                "step 1 (line 8): field `invoke`: label `v9` is not defined by an earlier send_file step (no label is defined yet)",
            ),
        ),
        (
            "label used before its definition",
            concat!(
                "[[steps]]\ndo = \"expect\"\ninvoke = \"v1\"\nstatus = \"Success\"\n",
                r#"
[[steps]]
do = "send_file"
as = "v1"
instances = ["i-1"]
"#
            ),
            Some("step 1 (line 8): field `invoke`: label `v1` is not defined"),
        ),
        (
            "label defined twice",
            r#"
[[steps]]
do = "send_file"
as = "v1"
instances = ["i-1"]

[[steps]]
do = "send_file"
as = "v1"
instances = ["i-1"]
"#,
            Some("step 2 (line 14): field `as`: label `v1` is already defined by step 1"),
        ),
        (
            "unknown status word",
            "[[steps]]\ndo = \"expect\"\ninvoke_id = \"f-1\"\nstatus = \"Succeeded\"\n",
            Some(
                "field `status`: `Succeeded` is no InvocationStatus (one of Pending, Running, Success, Failed, PartialFailed)",
            ),
        ),
        (
            "unknown error code",
            "[[steps]]\ndo = \"expect\"\ninvoke_id = \"f-1\"\ninstances = { \"i-1\" = { error_code = \"ClientDown\" } }\n",
            Some("field `instances.i-1.error_code`: `ClientDown` is no ErrorCode"),
        ),
        (
            "unknown field in an instance expectation",
            "[[steps]]\ndo = \"expect\"\ninvoke_id = \"f-1\"\ninstances = { \"i-1\" = { code = \"x\" } }\n",
            Some("expect: unknown field `code`, expected one of `status`, `error_code`"),
        ),
        (
            "empty error code means none",
            "[[steps]]\ndo = \"expect\"\ninvoke_id = \"f-1\"\ninstances = { \"i-1\" = { status = \"Success\", error_code = \"\" } }\n",
            None,
        ),
        (
            "status without an invocation",
            "[[steps]]\ndo = \"expect\"\nstatus = \"Success\"\n",
            Some(
                "`status` and `instances` check one invocation: name it with `invoke` (a label) or `invoke_id`",
            ),
        ),
        (
            "expect with nothing to check",
            "[[steps]]\ndo = \"expect\"\ninvoke_id = \"f-1\"\n",
            Some("expect checks nothing"),
        ),
        (
            "total_count alone needs no invocation",
            "[[steps]]\ndo = \"expect\"\nname = \"a.txt\"\ntotal_count = 0\n",
            None,
        ),
        (
            "invoke and invoke_id together",
            "[[steps]]\ndo = \"describe\"\ninvoke_id = \"f-1\"\ninvoke = \"v1\"\n",
            Some("give `invoke` (a label) or `invoke_id`, not both"),
        ),
        (
            "send without instances",
            "[[steps]]\ndo = \"send_file\"\nname = \"a\"\n",
            Some("field `instances` is empty"),
        ),
        (
            "send without instances that expects the refusal",
            "[[steps]]\ndo = \"send_file\"\nname = \"a\"\nexpect_error = \"MissingParam.InstanceId\"\n",
            None,
        ),
        (
            "a refused send cannot define a label",
            "[[steps]]\ndo = \"send_file\"\nas = \"x\"\ninstances = [\"i-1\"]\nexpect_error = \"MissingName\"\n",
            Some("field `as`: label `x` would name nothing"),
        ),
        (
            "fleet change in the control api's shape",
            "[[steps]]\ndo = \"change\"\nchange = \"stop_agent\"\ninstance_id = \"i-1\"\n",
            None,
        ),
        (
            "unknown fleet change",
            "[[steps]]\ndo = \"change\"\nchange = \"reboot\"\ninstance_id = \"i-1\"\n",
            Some("change: unknown variant `reboot`"),
        ),
        (
            "read_file of an absent file checks no content",
            "[[steps]]\ndo = \"read_file\"\ninstance_id = \"i-1\"\npath = \"/a\"\nexists = false\nmode = \"0644\"\n",
            Some("field `exists` is false"),
        ),
        (
            "a change scheduled after a delay",
            "[[steps]]\ndo = \"change\"\nchange = \"release_instance\"\ninstance_id = \"i-1\"\nafter = \"30s\"\n",
            None,
        ),
        (
            "a change scheduled at a time",
            "[[steps]]\ndo = \"change\"\nchange = \"start_agent\"\ninstance_id = \"i-1\"\nat = \"2020-09-11T08:31:00Z\"\n",
            None,
        ),
        (
            "a change both at and after",
            "[[steps]]\ndo = \"change\"\nchange = \"start_agent\"\ninstance_id = \"i-1\"\nat = \"2020-09-11T08:31:00Z\"\nafter = \"5s\"\n",
            Some("step 1 (line 8): change: give `at` or `after`, not both"),
        ),
        (
            "a bad time on a change",
            "[[steps]]\ndo = \"change\"\nchange = \"start_agent\"\ninstance_id = \"i-1\"\nat = \"tomorrow\"\n",
            Some("change: field `at`: "),
        ),
        (
            "a bad delay on a change",
            "[[steps]]\ndo = \"change\"\nchange = \"start_agent\"\ninstance_id = \"i-1\"\nafter = 30\n",
            Some("change: field `after`: expected a duration like \"30s\", found integer"),
        ),
        (
            "a typo in a change is still refused",
            "[[steps]]\ndo = \"change\"\nchange = \"start_agent\"\ninstance_id = \"i-1\"\nafter_ms = 30\n",
            Some("change: unknown field `after_ms`"),
        ),
        (
            "a fault rule added and removed by label",
            "[[steps]]\ndo = \"add_fault\"\nas = \"f\"\nerror_code = \"ClientNotResponse\"\nrate = 0.3\nfirst = 2\nscope = { names = [\"*.conf\"] }\n[[steps]]\ndo = \"remove_fault\"\nfault = \"f\"\n",
            None,
        ),
        (
            "a fault rule removed by its id",
            "[[steps]]\ndo = \"add_api_fault\"\nid = \"slow\"\nkind = { type = \"latency\", millis = 5 }\n[[steps]]\ndo = \"remove_fault\"\nfault = \"slow\"\n",
            None,
        ),
        (
            "a fault rule with an unknown code",
            "[[steps]]\ndo = \"add_fault\"\nerror_code = \"DiskOnFire\"\n",
            Some("step 1 (line 8): add_fault: unknown variant `DiskOnFire`"),
        ),
        (
            "a fault rule with a typo",
            "[[steps]]\ndo = \"add_fault\"\nerror_code = \"FileCreateFail\"\nrat = 0.5\n",
            Some("add_fault: unknown field `rat`"),
        ),
        (
            "a rate over one",
            "[[steps]]\ndo = \"add_fault\"\nerror_code = \"FileCreateFail\"\nrate = 1.5\n",
            Some("step 1 (line 8): field `rate`: rate 1.5 is not between 0 and 1"),
        ),
        (
            "an api fault on an unknown action",
            "[[steps]]\ndo = \"add_api_fault\"\nactions = [\"DescribeSendFileResult\"]\nkind = { type = \"throttle\" }\n",
            Some(
                "step 1 (line 8): field `actions`: `DescribeSendFileResult` is no action casim answers",
            ),
        ),
        (
            "an api fault of an unknown kind",
            "[[steps]]\ndo = \"add_api_fault\"\nkind = { type = \"teapot\" }\n",
            Some("add_api_fault: unknown variant `teapot`"),
        ),
        (
            "a label that is not a string",
            "[[steps]]\ndo = \"add_fault\"\nas = 3\nerror_code = \"FileCreateFail\"\n",
            Some("add_fault: field `as`: expected a string, found integer"),
        ),
        (
            "a label used twice for rules in force",
            "[[steps]]\ndo = \"add_fault\"\nas = \"f\"\nerror_code = \"FileCreateFail\"\n[[steps]]\ndo = \"add_api_fault\"\nas = \"f\"\nkind = { type = \"drop\" }\n",
            Some(
                "step 2 (line 12): field `as`: a fault rule named `f` is in force already (added by step 1)",
            ),
        ),
        (
            "removing a rule nobody added",
            "[[steps]]\ndo = \"add_fault\"\nas = \"f\"\nerror_code = \"FileCreateFail\"\n[[steps]]\ndo = \"remove_fault\"\nfault = \"g\"\n",
            Some(
                "step 2 (line 12): field `fault`: no fault rule named `g` is in force (in force: f)",
            ),
        ),
        (
            "removing a rule twice",
            "[[steps]]\ndo = \"add_fault\"\nas = \"f\"\nerror_code = \"FileCreateFail\"\n[[steps]]\ndo = \"remove_fault\"\nfault = \"f\"\n[[steps]]\ndo = \"remove_fault\"\nfault = \"f\"\n",
            Some(
                "step 3 (line 15): field `fault`: no fault rule named `f` is in force (none is in force)",
            ),
        ),
        (
            "a dropped send",
            "[[steps]]\ndo = \"send_file\"\ninstances = [\"i-1\"]\nexpect_dropped = true\n",
            None,
        ),
        (
            "a dropped send cannot define a label",
            "[[steps]]\ndo = \"send_file\"\nas = \"x\"\ninstances = [\"i-1\"]\nexpect_dropped = true\n",
            Some("field `as`: label `x` would name nothing, because a send with `expect_dropped`"),
        ),
        (
            "dropped and refused at once",
            "[[steps]]\ndo = \"describe\"\nexpect_dropped = true\nexpect_error = \"Throttling.User\"\n",
            Some("give `expect_error` (a refusal with a Code) or `expect_dropped`"),
        ),
        (
            "a dropped describe has no page",
            "[[steps]]\ndo = \"describe\"\nexpect_dropped = true\ntotal_count = 1\n",
            Some("a describe with `expect_dropped` has no page"),
        ),
        ("no steps at all", "", None),
    ];
    for (what, tail, want) in cases {
        let text = format!("{HEAD}{tail}");
        let text = if what.starts_with("a send") {
            format!("{HEAD}{SEND}{tail}")
        } else {
            text
        };
        match (load_text(&text), want) {
            (Ok(_), None) => {}
            (Ok(_), Some(want)) => panic!("{what}: loaded, but should fail with `{want}`"),
            (Err(error), None) => panic!("{what}: should load, failed with `{error}`"),
            (Err(error), Some(want)) => {
                assert!(
                    error.contains(want),
                    "{what}:\n  got  `{error}`\n  want `{want}`"
                );
            }
        }
    }
}

#[test]
fn top_level_fields() {
    let cases: &[(&str, &str)] = &[
        (
            "description = \"x\"\nseed = 1\nstart_time = \"2020-09-11 08:30:55\"\n[fleet]\n",
            "field `start_time`: invalid time",
        ),
        (
            "description = \"x\"\nseed = 1\nstart_time = \"2020-09-11T08:30:55Z\"\n",
            "field `fleet`: missing",
        ),
        (
            "description = \"x\"\nseed = 1\nstart_time = \"2020-09-11T08:30:55Z\"\nfleet_file = \"f.toml\"\n[fleet]\n",
            "not both",
        ),
        (
            "description = \"x\"\nseed = 1\nstart_time = \"2020-09-11T08:30:55Z\"\nfleet_file = \"no-such.toml\"\n",
            "scenarios/case.toml: fleet_file scenarios/no-such.toml: cannot read",
        ),
        (
            "seed = 1\nstart_time = \"2020-09-11T08:30:55Z\"\n[fleet]\n",
            "missing field `description`",
        ),
        (
            "description = \"x\"\nseed = 1\nstart_time = \"2020-09-11T08:30:55Z\"\nerror_era = \"newest\"\n[fleet]\n",
            "unknown variant `newest`",
        ),
    ];
    for (text, want) in cases {
        let error = load_text(text).expect_err(text);
        assert!(error.contains(want), "got `{error}`, want `{want}`");
    }
}

#[test]
fn defaults_and_values() {
    let scenario = load_text(&format!("{HEAD}{SEND}")).unwrap();
    assert_eq!(scenario.name, "case");
    assert_eq!(scenario.region.as_str(), "cn-hangzhou");
    assert_eq!(scenario.error_era, ErrorEra::Seed);
    assert_eq!(scenario.start_time.to_string(), "2020-09-11T08:30:55Z");
    assert_eq!(scenario.fleet.instances.len(), 1);
    let Step::SendFile(send) = &scenario.steps[0] else {
        panic!("{:?}", scenario.steps[0])
    };
    assert_eq!(send.label.as_deref(), Some("v1"));
    // Left out means not sent.
    assert_eq!(send.overwrite, None);
    assert_eq!(send.file_mode, None);

    let named = load_text(&format!(
        "name = \"other\"\nregion = \"cn-beijing\"\nerror_era = \"current\"\n{HEAD}"
    ))
    .unwrap();
    assert_eq!(named.name, "other");
    assert_eq!(named.region.as_str(), "cn-beijing");
    assert_eq!(named.error_era, ErrorEra::Current);
}

#[test]
fn durations() {
    for (text, millis) in [
        ("5s", 5_000),
        ("1500ms", 1_500),
        ("2m 30s", 150_000),
        ("0s", 0),
    ] {
        assert_eq!(
            parse_duration(text).map(|d| d.as_millis()),
            Ok(millis),
            "{text}"
        );
    }
    for text in ["5", "", "five seconds", "-1s"] {
        assert!(parse_duration(text).is_err(), "{text}");
    }
}

#[test]
fn fleet_file_is_found_beside_the_scenario() {
    let dir = std::env::temp_dir().join(format!("casim-scenario-test-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("fleets")).unwrap();
    std::fs::write(
        dir.join("fleets/one.toml"),
        "[[instances]]\nid = \"i-bp1aaaaaaaaaaaaaaaaa\"\n",
    )
    .unwrap();
    let scenario_path = dir.join("s.toml");
    std::fs::write(
        &scenario_path,
        "description = \"x\"\nseed = 1\nstart_time = \"2020-09-11T08:30:55Z\"\nfleet_file = \"fleets/one.toml\"\n",
    )
    .unwrap();
    let scenario = load(&scenario_path).unwrap();
    assert_eq!(
        scenario.fleet.instances[0].id.as_str(),
        "i-bp1aaaaaaaaaaaaaaaaa"
    );

    std::fs::write(
        dir.join("fleets/one.toml"),
        "[[instances]]\nidd = \"i-1\"\n",
    )
    .unwrap();
    let error = load(&scenario_path).unwrap_err().to_string();
    assert!(
        error.contains("fleet_file") && error.contains("unknown field `idd`"),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
