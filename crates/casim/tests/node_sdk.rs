//! The official Tea Node.js SDK (`@alicloud/ecs20140526`, on `@alicloud/openapi-core`)
//! against a real `casim serve --clock manual --access-keys testid:testsecret`, signing with
//! V3 (its default, ACS3-HMAC-SHA256) and with `signatureAlgorithm: 'v2'` (RPC HMAC-SHA1).
//!
//! The Node SDK coerces values into its model's types (`"1"` becomes 1, `false` becomes
//! `"false"`), so `sdk/node/sendfile_check.js` checks the `typeof` and value of everything
//! it hands back, knowing those coercions; the classic Python check sees the raw JSON types.
//!
//! Node is `$CASIM_SDK_NODE`, else `node` on PATH; the packages are those in
//! `$CASIM_SDK_NODE_DIR/node_modules`, else `sdk/node/node_modules`, which `cargo xtask test`
//! installs with `npm ci` from the committed `sdk/node/package-lock.json`. A missing runtime
//! or package fails the test, with a hint to run `cargo xtask test`.

mod common;

use common::{MANUAL_WITH_KEYS, Server, isolated, run_check, sdk_node, workspace_root};

#[test]
fn tea_node_sdk_against_manual_clock() {
    run_node("v3");
}

#[test]
fn tea_node_sdk_v2_signature_against_manual_clock() {
    run_node("v2");
}

fn run_node(signature: &str) {
    let sdk = sdk_node();
    let server = Server::start(MANUAL_WITH_KEYS);
    let mut command = isolated(&sdk.node);
    command
        .arg(workspace_root().join("sdk/node/sendfile_check.js"))
        .args(["--signature", signature])
        .arg("--sdk-dir")
        .arg(&sdk.dir)
        .args(["--endpoint", &server.endpoint()])
        .args(["--instance", &server.instance.id])
        .args(["--region", &server.instance.region]);
    let flavour = if signature == "v3" {
        "tea-node"
    } else {
        "tea-node-v2"
    };
    run_check(command, &server, flavour);
}
