//! The official Tea Python SDK (`alibabacloud-ecs20140526`) against a real `casim serve`,
//! over a real socket, signing with V3 (its default, ACS3-HMAC-SHA256) and with V2
//! (`Config(signature_algorithm='v2')`, RPC HMAC-SHA1).
//!
//! Router-level tests prove the server answers what we think the service answers; only a
//! real SDK proves that the SDK can *read* it. The Tea Python SDK swallows shape errors
//! (a wrong nesting becomes `body = None`, with HTTP 200), so `sdk/python/sendfile_check.py`
//! checks every value and type the SDK hands back; this file only starts the server, finds
//! an instance, runs the script and reports everything either of them printed.
//!
//! The interpreter is `$CASIM_SDK_PYTHON`, else `target/sdk-venv/bin/python`; `cargo xtask
//! test` builds that virtualenv from `sdk/python/requirements.txt`. A missing interpreter or
//! SDK fails the test rather than skipping it, so CI cannot go green without the SDK check.
//!
//! Only 127.0.0.1 is contacted: the server binds there, and both children run without proxy
//! or Alibaba Cloud credential variables, so no SDK default can reach a real endpoint.

mod common;

use std::path::Path;

use common::{MANUAL_WITH_KEYS, Server, isolated, run_check, sdk_python, workspace_root};

const MODULES: &[&str] = &[
    "alibabacloud_ecs20140526.client",
    "alibabacloud_tea_openapi.models",
];
const PACKAGES: &[&str] = &[
    "alibabacloud-ecs20140526",
    "alibabacloud-tea-openapi",
    "darabonba-core",
    "alibabacloud-credentials",
];

/// Wall clock, no keys: the statuses move on their own and the script polls.
#[test]
fn tea_python_sdk_against_serve_wall_clock() {
    let python = sdk_python(MODULES, PACKAGES);
    let server = Server::start(&[]);
    run_tea(&python, &server, "wall", "v3");
}

/// The conformance run (see `sdk/python/casim_sdkcheck.py`), V3-signed.
#[test]
fn tea_python_sdk_against_manual_clock() {
    let python = sdk_python(MODULES, PACKAGES);
    let server = Server::start(MANUAL_WITH_KEYS);
    run_tea(&python, &server, "manual", "v3");
}

/// The conformance run, V2-signed.
#[test]
fn tea_python_sdk_v2_signature_against_manual_clock() {
    let python = sdk_python(MODULES, PACKAGES);
    let server = Server::start(MANUAL_WITH_KEYS);
    run_tea(&python, &server, "manual", "v2");
}

fn run_tea(python: &Path, server: &Server, mode: &str, signature: &str) {
    let mut command = isolated(python);
    command
        .arg(workspace_root().join("sdk/python/sendfile_check.py"))
        .args(["--mode", mode, "--signature", signature])
        .args(["--endpoint", &server.endpoint()])
        .args(["--instance", &server.instance.id])
        .args(["--region", &server.instance.region]);
    let flavour = if signature == "v3" {
        "tea-py"
    } else {
        "tea-py-v2"
    };
    run_check(command, server, flavour);
}
