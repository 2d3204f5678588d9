//! The classic Python SDK (`aliyun-python-sdk-core` with `aliyun-python-sdk-ecs`,
//! `AcsClient`) against a real `casim serve --clock manual --access-keys testid:testsecret`.
//!
//! The classic SDK hands back the raw response bytes, so `sdk/python/classic_check.py`
//! parses the JSON itself and checks exact keys, values and JSON types; it signs the
//! classic RPC way (HMAC-SHA1, with an empty `SignatureType=`), and a wrong secret meets its
//! `InvalidAccessKeySecret` rewrite, which holds only when the server's string to sign is
//! the client's. Every request is given `set_endpoint('127.0.0.1:PORT')` and
//! `set_protocol_type('http')`, so the client never resolves an endpoint itself.
//!
//! The interpreter is the same as the Tea check's (`$CASIM_SDK_PYTHON`, else
//! `target/sdk-venv/bin/python`); a missing interpreter or SDK fails the test, with a hint to
//! run `cargo xtask test`.

mod common;

use common::{MANUAL_WITH_KEYS, Server, isolated, run_check, sdk_python, workspace_root};

#[test]
fn classic_python_sdk_against_manual_clock() {
    let python = sdk_python(
        &[
            "aliyunsdkcore.client",
            "aliyunsdkecs.request.v20140526.SendFileRequest",
        ],
        &["aliyun-python-sdk-core", "aliyun-python-sdk-ecs"],
    );
    let server = Server::start(MANUAL_WITH_KEYS);
    let mut command = isolated(&python);
    command
        .arg(workspace_root().join("sdk/python/classic_check.py"))
        .args(["--endpoint", &server.endpoint()])
        .args(["--instance", &server.instance.id])
        .args(["--region", &server.instance.region]);
    run_check(command, &server, "classic-py");
}
