//! `casim run` as the binary calls it: which files it finds, what it prints
//! and the exit status it chooses, over scenario directories made here.

use std::path::{Path, PathBuf};

use casim_scenario::{Outcome, RunArgs, run_cli_with};

const PASSING: &str = r#"
description = "one send that succeeds"
seed = 1
start_time = "2024-01-01T00:00:00Z"

[[fleet.instances]]
id = "i-bp1aaaaaaaaaaaaaaaaa"

[[steps]]
do = "send_file"
as = "s"
instances = ["i-bp1aaaaaaaaaaaaaaaaa"]
name = "a.txt"
target_dir = "/tmp"
content = "hello"

[[steps]]
do = "advance"
by = "5s"

[[steps]]
do = "describe"
invoke = "s"

[[steps]]
do = "expect"
invoke = "s"
status = "Success"
"#;

/// A scratch directory of scenarios, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(test: &str, files: &[(&str, &str)]) -> Dir {
        let path = std::env::temp_dir().join(format!("casim-cli-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("a scratch directory");
        for (name, text) in files {
            std::fs::write(path.join(name), text).expect("a scenario file");
        }
        Dir(path)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run_in(
    dir: &Path,
    targets: &[&str],
    raw: Option<casim_model::Format>,
) -> (Outcome, String, String) {
    let args = RunArgs {
        targets: targets.iter().map(|t| t.to_string()).collect(),
        raw,
        scenarios_dir: dir.to_owned(),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let outcome = runtime
        .block_on(run_cli_with(&args, &mut out, &mut err))
        .expect("writing to memory");
    (
        outcome,
        String::from_utf8(out).expect("utf-8 stdout"),
        String::from_utf8(err).expect("utf-8 stderr"),
    )
}

#[test]
fn exit_status_and_messages() {
    let failing = PASSING.replace("status = \"Success\"", "status = \"Failed\"");
    let broken = PASSING.replace("do = \"advance\"", "do = \"advance\"\nfor = \"1s\"");
    let dir = Dir::new(
        "exit",
        &[
            ("a-pass.toml", PASSING),
            ("b-fail.toml", &failing),
            ("c-broken.toml", &broken),
            ("notes.txt", ""),
        ],
    );
    // (targets, outcome, a fragment of stdout, a fragment of stderr)
    let cases: &[(&[&str], Outcome, &str, &str)] = &[
        (
            &["a-pass"],
            Outcome::Passed,
            "ok: 1 checks passed, 0 failed",
            "",
        ),
        (
            &["b-fail"],
            Outcome::Failed,
            "✗ s InvocationStatus: expected `Failed`, got `Success`",
            "failed: scenario b-fail, step 4: s InvocationStatus: expected `Failed`, got `Success`",
        ),
        (
            &["c-broken"],
            Outcome::NotLoaded,
            "",
            "c-broken.toml: step 2 (line 17): advance: unknown field `for`",
        ),
        (
            &["nope"],
            Outcome::NotLoaded,
            "",
            "no scenario named `nope`",
        ),
        // No names: every *.toml, sorted; one that does not load decides.
        (
            &[],
            Outcome::NotLoaded,
            "scenario a-pass",
            "failed: scenario b-fail, step 4",
        ),
    ];
    for (targets, want, out_fragment, err_fragment) in cases {
        let (outcome, out, err) = run_in(&dir.0, targets, None);
        assert_eq!(outcome, *want, "{targets:?}\n{out}\n{err}");
        assert!(
            out.contains(out_fragment),
            "{targets:?}: stdout lacks `{out_fragment}`:\n{out}"
        );
        assert!(
            err.contains(err_fragment),
            "{targets:?}: stderr lacks `{err_fragment}`:\n{err}"
        );
    }

    // A path works as well as a name.
    let path = dir.0.join("a-pass.toml");
    let (outcome, _, _) = run_in(&dir.0, &[path.to_str().unwrap()], None);
    assert_eq!(outcome, Outcome::Passed);
}

#[test]
fn raw_prints_bodies_in_the_asked_format() {
    let dir = Dir::new("raw", &[("a.toml", PASSING)]);
    let (_, xml, _) = run_in(&dir.0, &["a"], Some(casim_model::Format::Xml));
    assert!(xml.contains("<DescribeSendFileResultsResponse>"), "{xml}");
    assert!(!xml.contains("\"TotalCount\""), "{xml}");
    let (_, json, _) = run_in(&dir.0, &["a"], Some(casim_model::Format::Json));
    assert!(json.contains("\"TotalCount\": 1"), "{json}");
    let (_, plain, _) = run_in(&dir.0, &["a"], None);
    assert!(!plain.contains("TotalCount\""), "{plain}");
}

#[test]
fn parse_format_takes_either_case() {
    use casim_scenario::parse_format;
    assert_eq!(parse_format("JSON"), Ok(casim_model::Format::Json));
    assert_eq!(parse_format("xml"), Ok(casim_model::Format::Xml));
    assert_eq!(
        parse_format("yaml"),
        Err("unknown format `yaml`: use `json` or `xml`".to_owned())
    );
}
