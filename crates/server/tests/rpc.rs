//! The RPC endpoint driven through the router without a socket: a table of
//! requests and the status, `Code` and body shape each must get.

use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use casim_fleet::FleetSpec;
use casim_model::{ErrorEra, Timestamp};
use casim_server::{ClockMode, ServerConfig};
use serde_json::Value;
use tower::ServiceExt as _;

const FLEET: &str = r#"
[[instances]]
id = "i-bp1aaaaaaaaaaaaaaaaa"
region = "cn-hangzhou"

[[instances]]
id = "i-bp1bbbbbbbbbbbbbbbbb"
region = "cn-hangzhou"

[[instances]]
id = "i-uf6ccccccccccccccccc"
region = "cn-shanghai"
"#;

fn app(era: ErrorEra) -> axum::Router {
    let fleet: FleetSpec = toml::from_str(FLEET).expect("test fleet parses");
    let config = ServerConfig {
        bind: "127.0.0.1:0".parse().expect("address"),
        fleet,
        seed: 7,
        start_time: Timestamp::parse("2024-01-01T00:00:00Z").expect("time"),
        clock: ClockMode::Manual,
        error_era: era,
        ..ServerConfig::default()
    };
    casim_server::router(casim_server::state(&config).expect("state"))
}

struct Reply {
    status: StatusCode,
    content_type: String,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

async fn call(app: &axum::Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.expect("router answers");
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    Reply {
        status,
        content_type,
        body: String::from_utf8(body.to_vec()).expect("utf-8 body"),
    }
}

/// A V1-style POST with every parameter in the query, as the SDKs send.
async fn rpc(app: &axum::Router, query: &str) -> Reply {
    let uri = format!("/?Version=2014-05-26&Format=JSON&{query}");
    call(
        app,
        Request::post(uri).body(Body::empty()).expect("request"),
    )
    .await
}

const SEND: &str = "Action=SendFile&RegionId=cn-hangzhou&InstanceId.1=i-bp1aaaaaaaaaaaaaaaaa\
                    &Name=a.txt&TargetDir=/tmp&Content=hello";
const DESCRIBE: &str = "Action=DescribeSendFileResults&RegionId=cn-hangzhou";

#[tokio::test]
async fn synchronous_errors_answer_status_code_and_message_and_create_no_record() {
    let long_name = "n".repeat(256);
    let long_description = "d".repeat(513);
    let big_content = "c".repeat(24_577);
    let many: String = (1..=51)
        .map(|i| format!("&InstanceId.{i}=i-bp1x{i:016}"))
        .collect();
    let cases: Vec<(String, u16, &str, &str)> = vec![
        ("Action=SendFile&InstanceId.1=i-bp1aaaaaaaaaaaaaaaaa&Name=a&TargetDir=/tmp&Content=x".into(), 400, "MissingRegionId", "RegionId is mandatory for this action."),
        ("Action=SendFile&RegionId=cn-hangzhou&Name=a&TargetDir=/tmp&Content=x".into(), 400, "MissingParam.InstanceId", "The parameter instanceId is missing or empty."),
        ("Action=SendFile&RegionId=cn-hangzhou&InstanceId.1=&Name=a&TargetDir=/tmp&Content=x".into(), 400, "MissingParam.InstanceId", "The parameter instanceId is missing or empty."),
        ("Action=SendFile&RegionId=cn-hangzhou&InstanceId.1=i-bp1aaaaaaaaaaaaaaaaa&TargetDir=/tmp&Content=x".into(), 400, "MissingName", "Name is mandatory for this action."),
        ("Action=SendFile&RegionId=cn-hangzhou&InstanceId.1=i-bp1aaaaaaaaaaaaaaaaa&Name=a&Content=x".into(), 400, "MissingTargetDir", "TargetDir is mandatory for this action."),
        ("Action=SendFile&RegionId=cn-hangzhou&InstanceId.1=i-bp1aaaaaaaaaaaaaaaaa&Name=a&TargetDir=/tmp".into(), 400, "MissingContent", "Content is mandatory for this action."),
        (format!("{SEND}&ContentType=Text"), 403, "FileContentType.Invalid", "The ContentType of file is invalid."),
        (format!("{SEND}&ContentType=Base64"), 403, "FileContent.DecodeError", "The Content can not be base64 decoded."),
        (format!("{SEND}&FileMode=0x44"), 403, "FileMode.Invalid", "The mode of file is invalid."),
        (format!("{SEND}&Timeout=86401"), 403, "InvalidTimeout.ExceedLimit", "The specified parameter Timeout exceeds the upper limit."),
        (format!("{SEND}&Timeout=soon"), 400, "InvalidParameter", "The specified parameter \"Timeout\" is not valid."),
        (format!("{SEND}&Overwrite=maybe"), 400, "InvalidParameter", "The specified parameter \"Overwrite\" is not valid."),
        (format!("{SEND}&Description={long_description}"), 403, "FileDesc.ExceedLimit", "The length of file description exceeds limit."),
        (format!("Action=SendFile&RegionId=cn-hangzhou&InstanceId.1=i-bp1aaaaaaaaaaaaaaaaa&Name={long_name}&TargetDir=/tmp&Content=x"), 403, "FileName.ExceedLimit", "The length of file name exceeds limit."),
        (format!("Action=SendFile&RegionId=cn-hangzhou&InstanceId.1=i-bp1aaaaaaaaaaaaaaaaa&Name=a&TargetDir=/tmp&Content={big_content}"), 403, "FileSize.ExceedLimit", "The length of file content exceeds limit."),
        (format!("Action=SendFile&RegionId=cn-hangzhou{many}&Name=a&TargetDir=/tmp&Content=x"), 403, "InstanceIds.ExceedLimit", "The number of instance IDs exceeds the upper limit."),
        (format!("Action=SendFile&RegionId=cn-hangzhou&InstanceId.1=i-bp1aaaaaaaaaaaaaaaaa&Name=a&TargetDir={}&Content=x", "t".repeat(256)), 403, "FileTargetDir.Invalid", "The target directory of file is invalid."),
        ("Action=SendFile&RegionId=cn-hangzhou&InstanceId.1=i-bp1aaaaaaaaaaaaaaaaa&Name=a&TargetDir=&Content=x".into(), 403, "FileTargetDir.Invalid", "The target directory of file is invalid."),
        ("Action=SendFile&RegionId=cn-hangzhou&InstanceId.1=i-bp1nonexistent000000&Name=a&TargetDir=/tmp&Content=x".into(), 404, "InvalidInstance.NotFound", "The specified instances not found."),
        // An instance of another region is not found from this one.
        ("Action=SendFile&RegionId=cn-hangzhou&InstanceId.1=i-uf6ccccccccccccccccc&Name=a&TargetDir=/tmp&Content=x".into(), 404, "InvalidInstance.NotFound", "The specified instances not found."),
        ("Action=SendFile&RegionId=eu-nowhere-1&InstanceId.1=i-bp1aaaaaaaaaaaaaaaaa&Name=a&TargetDir=/tmp&Content=x".into(), 404, "InvalidRegionId.NotFound", "The RegionId provided does not exist in our records."),
        ("Action=DescribeSendFileResults".into(), 400, "MissingRegionId", "RegionId is mandatory for this action."),
        (format!("{DESCRIBE}&PageNumber=0"), 403, "InvalidParam.PageNumber", "The specified parameter is invalid."),
        (format!("{DESCRIBE}&PageNumber=-3"), 403, "InvalidParam.PageNumber", "The specified parameter is invalid."),
        (format!("{DESCRIBE}&PageNumber=one"), 403, "InvalidParam.PageNumber", "The specified parameter is invalid."),
        (format!("{DESCRIBE}&PageSize=0"), 403, "InvalidParam.PageSize", "The specified parameter is invalid."),
        (format!("{DESCRIBE}&PageSize=51"), 403, "InvalidParam.PageSize", "The specified parameter is invalid."),
        (format!("{DESCRIBE}&PageSize=99999999999999999999999"), 403, "InvalidParam.PageSize", "The specified parameter is invalid."),
        (format!("{DESCRIBE}&MaxResults=51"), 400, "InvalidParameter.MaxResults", "The specified parameter MaxResults is not valid."),
        (format!("{DESCRIBE}&NextToken=garbage"), 400, "InvalidParameter.NextToken", "The specified parameter NextToken is not valid."),
        ("Action=DescribeSendFileResults&RegionId=eu-nowhere-1".into(), 404, "InvalidRegionId.NotFound", "The RegionId provided does not exist in our records."),
        ("Action=DescribeInstancez&RegionId=cn-hangzhou".into(), 404, "InvalidAction.NotFound", "Specified api is not found, please check your url and method."),
    ];

    let app = app(ErrorEra::Seed);
    let mut failures = Vec::new();
    for (query, status, code, message) in &cases {
        let reply = rpc(&app, query).await;
        let body = reply.json();
        let got = (
            reply.status.as_u16(),
            body["Code"].as_str().unwrap_or(""),
            body["Message"].as_str().unwrap_or(""),
        );
        if got != (*status, *code, *message) {
            failures.push(format!(
                "{query:.120}\n  want {:?}\n  got  {got:?}",
                (status, code, message)
            ));
        }
        let request_id = body["RequestId"].as_str().unwrap_or("");
        assert_eq!(request_id.len(), 36, "RequestId is a UUID: {}", reply.body);
        assert_eq!(
            body["Recommend"].as_str().unwrap_or(""),
            format!(
                "https://api.aliyun.com/troubleshoot?q={code}&product=Ecs&requestId={request_id}"
            )
        );
        let keys: Vec<&str> = body
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["RequestId", "HostId", "Code", "Message", "Recommend"],
            "{}",
            reply.body
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    let listed = rpc(&app, DESCRIBE).await.json();
    assert_eq!(
        listed["TotalCount"], 0,
        "a refused SendFile must not leave a record: {listed}"
    );
}

#[tokio::test]
async fn the_current_era_moves_the_documented_codes_to_400() {
    let app = app(ErrorEra::Current);
    for (query, code) in [
        (format!("{DESCRIBE}&PageSize=0"), "InvalidParam.PageSize"),
        (
            format!("{DESCRIBE}&PageNumber=0"),
            "InvalidParam.PageNumber",
        ),
        (format!("{SEND}&FileMode=9"), "FileMode.Invalid"),
        (
            format!("{SEND}&ContentType=Base64"),
            "FileContent.DecodeError",
        ),
    ] {
        let reply = rpc(&app, &query).await;
        assert_eq!(
            (reply.status.as_u16(), reply.json()["Code"].as_str()),
            (400, Some(code))
        );
    }
    // Codes that were always 403 stay there.
    let reply = rpc(&app, &format!("{SEND}&Timeout=90000")).await;
    assert_eq!(reply.status.as_u16(), 403);
}

#[tokio::test]
async fn gateway_errors_for_method_version_and_action() {
    let app = app(ErrorEra::Seed);
    let put = Request::put(format!("/?Version=2014-05-26&Format=JSON&{DESCRIBE}"))
        .body(Body::empty())
        .expect("request");
    let reply = call(&app, put).await;
    assert_eq!(
        (reply.status.as_u16(), reply.json()["Code"].as_str()),
        (403, Some("UnsupportedHTTPMethod"))
    );

    let reply = call(
        &app,
        Request::get(format!("/?Version=2016-01-01&Format=JSON&{DESCRIBE}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(
        (reply.status.as_u16(), reply.json()["Code"].as_str()),
        (400, Some("InvalidParameter"))
    );

    let reply = call(
        &app,
        Request::get(format!("/?Format=JSON&{DESCRIBE}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(reply.json()["Code"].as_str(), Some("MissingVersion"));

    let reply = call(
        &app,
        Request::get("/?Version=2014-05-26&Format=JSON&RegionId=cn-hangzhou")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(reply.json()["Code"].as_str(), Some("MissingAction"));
}

#[tokio::test]
async fn format_follows_format_then_accept_then_defaults_to_xml() {
    let app = app(ErrorEra::Seed);
    let get = |uri: String, accept: Option<&str>| {
        let mut request = Request::get(uri);
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT, accept);
        }
        request.body(Body::empty()).expect("request")
    };
    let base = format!("/?Version=2014-05-26&{DESCRIBE}");
    let cases = [
        (
            format!("{base}&Format=json"),
            None,
            "application/json;charset=utf-8",
        ),
        (
            format!("{base}&Format=XML"),
            Some("application/json"),
            "text/xml;charset=utf-8",
        ),
        (
            base.clone(),
            Some("text/html, Application/JSON;q=0.9"),
            "application/json;charset=utf-8",
        ),
        (base.clone(), Some("*/*"), "text/xml;charset=utf-8"),
        (base.clone(), None, "text/xml;charset=utf-8"),
        (format!("{base}&PageSize=0"), None, "text/xml;charset=utf-8"),
    ];
    for (uri, accept, want) in cases {
        let reply = call(&app, get(uri.clone(), accept)).await;
        assert_eq!(reply.content_type, want, "{uri} with {accept:?}");
        if want.starts_with("text/xml") {
            assert!(
                reply
                    .body
                    .starts_with(r#"<?xml version="1.0" encoding="UTF-8"?>"#),
                "{}",
                reply.body
            );
        }
    }
    let error = call(&app, get(format!("{base}&PageSize=0"), None)).await;
    assert!(error.body.contains("<Error><RequestId>"), "{}", error.body);
    assert!(
        error.body.contains("<Code>InvalidParam.PageSize</Code>"),
        "{}",
        error.body
    );
    assert!(
        error
            .body
            .contains("<HostId>ecs.cn-hangzhou.aliyuncs.com</HostId>"),
        "{}",
        error.body
    );
}

#[tokio::test]
async fn v3_style_requests_take_the_action_from_headers_and_decode_plus_as_space() {
    let app = app(ErrorEra::Seed);
    // Tea Python: no Action/Version/Format in the query, spaces as `+`,
    // booleans as `True`, empty body without a Content-Type.
    let request = Request::post(
        "/?Content=echo+hello&InstanceId.1=i-bp1aaaaaaaaaaaaaaaaa&Name=a+b.txt&Overwrite=True\
         &RegionId=cn-hangzhou&TargetDir=%2Froot&Description=desc+x",
    )
    .header("x-acs-action", "SendFile")
    .header("x-acs-version", "2014-05-26")
    .header(header::ACCEPT, "application/json")
    .body(Body::empty())
    .expect("request");
    let reply = call(&app, request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let invoke_id = reply.json()["InvokeId"]
        .as_str()
        .expect("InvokeId")
        .to_owned();
    assert!(invoke_id.starts_with("f-"), "{invoke_id}");

    // Parameters in a form body are merged with the query.
    let request = Request::post("/?Version=2014-05-26&Format=JSON")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("{DESCRIBE}&InvokeId={invoke_id}")))
        .expect("request");
    let listed = call(&app, request).await.json();
    let invocation = &listed["Invocations"]["Invocation"][0];
    assert_eq!(invocation["Name"], "a b.txt");
    assert_eq!(invocation["Content"], "echo hello");
    assert_eq!(invocation["Description"], "desc x");
    assert_eq!(invocation["Overwrite"], true);
    assert_eq!(invocation["TargetDir"], "/root");
}

#[tokio::test]
async fn describe_shapes_types_and_defaults() {
    let app = app(ErrorEra::Seed);
    let sent = rpc(&app, &format!("{SEND}&InstanceId.2=i-bp1bbbbbbbbbbbbbbbbb"))
        .await
        .json();
    let body = rpc(&app, DESCRIBE).await.json();
    assert_eq!(body["TotalCount"], 1);
    assert_eq!(body["PageNumber"], 1);
    assert_eq!(body["PageSize"], 10);
    assert!(
        body.get("NextToken").is_none(),
        "no NextToken in page paging: {body}"
    );
    let invocation = &body["Invocations"]["Invocation"][0];
    assert_eq!(invocation["InvokeId"], sent["InvokeId"]);
    assert_eq!(invocation["VmCount"], 2);
    assert_eq!(invocation["FileMode"], "0644");
    assert_eq!(invocation["FileOwner"], "root");
    assert_eq!(invocation["FileGroup"], "root");
    assert_eq!(invocation["ContentType"], "PlainText");
    assert_eq!(invocation["Overwrite"], false);
    assert_eq!(invocation["InvocationStatus"], "Pending");
    let instances = invocation["InvokeInstances"]["InvokeInstance"]
        .as_array()
        .expect("array");
    assert_eq!(instances.len(), 2);
    assert_eq!(instances[0]["InstanceId"], "i-bp1aaaaaaaaaaaaaaaaa");
    assert_eq!(instances[0]["StartTime"], "");
    assert_eq!(instances[0]["FinishTime"], "");
    assert_eq!(instances[0]["ErrorCode"], "");
    assert_eq!(instances[0]["CreationTime"], "2024-01-01T00:00:00Z");

    // Token paging: TotalCount 0 and a NextToken that is empty on the last page.
    let body = rpc(&app, &format!("{DESCRIBE}&MaxResults=5")).await.json();
    assert_eq!(body["TotalCount"], 0);
    assert_eq!(body["NextToken"], "");
    assert_eq!(
        body["Invocations"]["Invocation"].as_array().map(Vec::len),
        Some(1)
    );

    // An empty page is still the wrapper object holding an array.
    let body = rpc(&app, &format!("{DESCRIBE}&Name=none.txt")).await.json();
    assert_eq!(body["Invocations"], serde_json::json!({"Invocation": []}));
}

#[tokio::test]
async fn tags_resource_groups_and_client_tokens() {
    let app = app(ErrorEra::Seed);
    let tagged = rpc(
        &app,
        &format!("{SEND}&Tag.1.Key=env&Tag.1.Value=prod&Tag.2.Key=team"),
    )
    .await
    .json();
    let plain = rpc(&app, SEND).await.json();

    // Tags come back as Tags.Tag[] with TagKey/TagValue, only where present.
    let body = rpc(
        &app,
        &format!(
            "{DESCRIBE}&InvokeId={}",
            tagged["InvokeId"].as_str().expect("id")
        ),
    )
    .await
    .json();
    assert_eq!(
        body["Invocations"]["Invocation"][0]["Tags"],
        serde_json::json!({"Tag": [{"TagKey": "env", "TagValue": "prod"}, {"TagKey": "team", "TagValue": ""}]})
    );
    let body = rpc(
        &app,
        &format!(
            "{DESCRIBE}&InvokeId={}",
            plain["InvokeId"].as_str().expect("id")
        ),
    )
    .await
    .json();
    assert!(
        body["Invocations"]["Invocation"][0].get("Tags").is_none(),
        "{body}"
    );

    // The tag filter ANDs with the others and TotalCount counts the matches.
    let cases = [
        ("&Tag.1.Key=env&Tag.1.Value=prod", 1),
        ("&Tag.1.Key=env&Tag.1.Value=dev", 0),
        ("&Tag.1.Key=env&Tag.1.Value=prod&Name=a.txt", 1),
        ("&Tag.1.Key=env&Tag.1.Value=prod&Name=b.txt", 0),
        ("&Name=a.txt", 2),
        ("&InvocationStatus=Pending", 2),
        ("&InvocationStatus=Success", 0),
        ("&InvocationStatus=Nonsense", 0),
    ];
    for (filter, want) in cases {
        let body = rpc(&app, &format!("{DESCRIBE}{filter}")).await.json();
        assert_eq!(body["TotalCount"], want, "{filter}: {body}");
    }

    // Tag errors, on both operations.
    for (query, code) in [
        (format!("{SEND}&Tag.1.Value=v"), "MissingParameter.TagKey"),
        (
            format!("{SEND}&Tag.1.Key=a&Tag.2.Key=a"),
            "Duplicate.TagKey",
        ),
        (
            format!("{SEND}&Tag.1.Key=aliyun:x"),
            "InvalidTagKey.Malformed",
        ),
        (
            format!("{SEND}&Tag.1.Key=k&Tag.1.Value=https://x"),
            "InvalidTagValue.Malformed",
        ),
        (format!("{DESCRIBE}&Tag.21.Key=k"), "NumberExceed.Tags"),
    ] {
        let reply = rpc(&app, &query).await;
        assert_eq!(
            (reply.status.as_u16(), reply.json()["Code"].as_str()),
            (400, Some(code)),
            "{query}"
        );
    }

    // A repeated ClientToken answers the first InvokeId and adds no record.
    let first = rpc(&app, &format!("{SEND}&ClientToken=deploy-42"))
        .await
        .json();
    let again = rpc(&app, &format!("{SEND}&ClientToken=deploy-42"))
        .await
        .json();
    assert_eq!(first["InvokeId"], again["InvokeId"]);
    assert_ne!(first["RequestId"], again["RequestId"]);
    assert_eq!(rpc(&app, DESCRIBE).await.json()["TotalCount"], 3);

    // Unknown resource group.
    let reply = rpc(&app, &format!("{SEND}&ResourceGroupId=rg-none")).await;
    assert_eq!(
        (reply.status.as_u16(), reply.json()["Code"].as_str()),
        (404, Some("InvalidResourceGroup.NotFound"))
    );
}

#[tokio::test]
async fn describe_cloud_assistant_status_reports_agents() {
    let app = app(ErrorEra::Seed);
    let status = "Action=DescribeCloudAssistantStatus&RegionId=cn-hangzhou";
    let body = rpc(&app, status).await.json();
    assert_eq!(body["TotalCount"], 2);
    let items = body["InstanceCloudAssistantStatusSet"]["InstanceCloudAssistantStatus"]
        .as_array()
        .expect("array");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["InstanceId"], "i-bp1aaaaaaaaaaaaaaaaa");
    assert_eq!(
        items[0]["CloudAssistantStatus"], "true",
        "a string, not a boolean"
    );
    assert_eq!(items[0]["OSType"], "Linux");
    assert_eq!(items[0]["SupportSessionManager"], true);
    assert_eq!(items[0]["InvocationCount"], 0);
    assert_eq!(items[0]["LastInvokedTime"], "");

    rpc(&app, SEND).await;
    let body = rpc(
        &app,
        &format!("{status}&InstanceId.1=i-bp1aaaaaaaaaaaaaaaaa"),
    )
    .await
    .json();
    let item = &body["InstanceCloudAssistantStatusSet"]["InstanceCloudAssistantStatus"][0];
    assert_eq!(
        (
            item["InvocationCount"].as_u64(),
            item["ActiveTaskCount"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(item["LastInvokedTime"], "2024-01-01T00:00:00Z");

    let body = rpc(&app, &format!("{status}&OSType=windows")).await.json();
    assert_eq!(body["TotalCount"], 0);
    let body = rpc(&app, &format!("{status}&MaxResults=1")).await.json();
    assert_eq!(body["NextToken"], "i-bp1aaaaaaaaaaaaaaaaa");
    let body = rpc(
        &app,
        &format!("{status}&MaxResults=1&NextToken=i-bp1aaaaaaaaaaaaaaaaa"),
    )
    .await
    .json();
    assert_eq!(body["NextToken"], "");
    assert_eq!(
        body["InstanceCloudAssistantStatusSet"]["InstanceCloudAssistantStatus"][0]["InstanceId"],
        "i-bp1bbbbbbbbbbbbbbbbb"
    );
    let reply = rpc(
        &app,
        &format!("{status}&InstanceId.1=i-bp1nothere0000000000"),
    )
    .await;
    assert_eq!(reply.json()["Code"], "InvalidInstance.NotFound");
}

#[tokio::test]
async fn every_send_file_parameter_is_stored_and_echoed() {
    // (extra SendFile parameters, field of the Invocation, expected value)
    let cases: Vec<(&str, &str, serde_json::Value)> = vec![
        ("", "FileMode", "0644".into()),
        ("&FileMode=0755", "FileMode", "0755".into()),
        ("&FileMode=755", "FileMode", "755".into()),
        ("", "FileOwner", "root".into()),
        ("&FileOwner=nginx", "FileOwner", "nginx".into()),
        ("", "FileGroup", "root".into()),
        ("&FileGroup=www-data", "FileGroup", "www-data".into()),
        ("", "Overwrite", false.into()),
        ("&Overwrite=true", "Overwrite", true.into()),
        ("&Overwrite=FALSE", "Overwrite", false.into()),
        ("", "Description", "".into()),
        (
            "&Description=rollout+%2342",
            "Description",
            "rollout #42".into(),
        ),
        ("", "ContentType", "PlainText".into()),
        ("&ContentType=PlainText", "ContentType", "PlainText".into()),
        ("", "Content", "hello".into()),
        ("", "Name", "a.txt".into()),
        ("", "TargetDir", "/tmp".into()),
        // Accepted and ignored, as in every ECS model.
        (
            "&OwnerId=1&OwnerAccount=a&ResourceOwnerId=2&ResourceOwnerAccount=b",
            "Name",
            "a.txt".into(),
        ),
    ];
    let app = app(ErrorEra::Seed);
    for (extra, field, want) in cases {
        let sent = rpc(&app, &format!("{SEND}{extra}")).await;
        assert_eq!(sent.status, StatusCode::OK, "{extra}: {}", sent.body);
        let id = sent.json()["InvokeId"]
            .as_str()
            .expect("InvokeId")
            .to_owned();
        let body = rpc(&app, &format!("{DESCRIBE}&InvokeId={id}")).await.json();
        assert_eq!(body["Invocations"]["Invocation"][0][field], want, "{extra}");
    }

    // Base64 content is echoed as sent, with its type.
    let sent = rpc(&app, "Action=SendFile&RegionId=cn-hangzhou&InstanceId.1=i-bp1aaaaaaaaaaaaaaaaa&Name=b&TargetDir=/tmp&Content=aGk%3D&ContentType=Base64").await.json();
    let id = sent["InvokeId"].as_str().expect("InvokeId");
    let body = rpc(&app, &format!("{DESCRIBE}&InvokeId={id}")).await.json();
    let invocation = &body["Invocations"]["Invocation"][0];
    assert_eq!(
        (
            invocation["Content"].as_str(),
            invocation["ContentType"].as_str()
        ),
        (Some("aGk="), Some("Base64"))
    );
}
