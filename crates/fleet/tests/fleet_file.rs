//! A fleet file with a mistake is refused with a sentence that names the
//! instance and the field, never loaded half-right.

use casim_fleet::{FleetSpec, Simulation};
use casim_model::Timestamp;

fn check(fleet: &str, want: &str) {
    let spec: FleetSpec = match toml::from_str(fleet) {
        Ok(spec) => spec,
        Err(error) => {
            let message = error.to_string();
            assert!(
                message.contains(want),
                "{fleet}\n{message:?} lacks {want:?}"
            );
            return;
        }
    };
    match Simulation::new(spec, 1, Timestamp::MIN) {
        Ok(_) => assert!(
            want.is_empty(),
            "{fleet}\nloaded, but {want:?} was expected"
        ),
        Err(error) => {
            let message = error.to_string();
            assert!(
                !want.is_empty() && message.contains(want),
                "{fleet}\n{message:?} lacks {want:?}"
            );
        }
    }
}

#[test]
fn mistakes_in_fleet_files() {
    let cases = [
        (r#"instances = [{ id = "i-1" }]"#, ""),
        (r#"instances = [{ id = "" }]"#, "the instance id is empty"),
        (
            r#"instances = [{ id = "i-1", region = "" }]"#,
            "the region is empty",
        ),
        (
            r#"instances = [{ id = "i-1" }, { id = "i-1" }]"#,
            "instance i-1 appears more than once",
        ),
        (
            r#"instances = [{ id = "i-1", agent = { version = "2.x" } }]"#,
            "agent version `2.x`",
        ),
        (
            r#"instances = [{ id = "i-1", files = [{ path = "/root" }] }]"#,
            "file `/root` is a directory",
        ),
        (
            r#"instances = [{ id = "i-1", files = [{ path = "/a" }, { path = "//a" }] }]"#,
            "is listed twice",
        ),
        (
            r#"instances = [{ id = "i-1", files = [{ path = "/a", mode = "9999" }] }]"#,
            "mode `9999`",
        ),
        (
            r#"instances = [{ id = "i-1", files = [{ path = "a" }] }]"#,
            "is not absolute",
        ),
        (
            r#"instances = [{ id = "i-1", colour = "red" }]"#,
            "unknown field `colour`",
        ),
        (
            "timing = { dispatch_delay = { min_ms = 5, max_ms = 1 } }\ninstances = [{ id = \"i-1\" }]",
            "dispatch_delay has min_ms 5 above max_ms 1",
        ),
        (
            "[instance_groups.web]\nwrite_duration = { min_ms = 9, max_ms = 2 }",
            "instance group web: write_duration",
        ),
    ];
    for (fleet, want) in cases {
        check(fleet, want);
    }
}
