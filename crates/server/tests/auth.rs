//! With access keys, every RPC call must be signed, fresh and new: a table
//! of requests over the router and the status and `Code` each must get.

use axum::body::{Body, to_bytes};
use axum::http::Request;
use base64::Engine as _;
use casim_fleet::FleetSpec;
use casim_model::Timestamp;
use casim_server::{AccessKeys, ClockMode, ServerConfig};
use hmac::{Hmac, Mac};
use tower::ServiceExt as _;

fn app() -> axum::Router {
    let fleet: FleetSpec =
        toml::from_str("[[instances]]\nid = \"i-bp1aaaaaaaaaaaaaaaaa\"\n").expect("fleet");
    let config = ServerConfig {
        fleet,
        clock: ClockMode::Manual,
        start_time: Timestamp::parse("2024-01-01T00:00:00Z").expect("time"),
        access_keys: Some(AccessKeys::parse("testid:testsecret").expect("keys")),
        ..ServerConfig::default()
    };
    casim_server::router(casim_server::state(&config).expect("state"))
}

/// RFC 3986 percent-encoding, as both signature schemes use it.
fn pct(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A V1 (HMAC-SHA1) signed query, signed with `secret`.
fn signed_v1(params: &[(&str, String)], secret: &str) -> String {
    let mut sorted: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    sorted.sort();
    let canonical: Vec<String> = sorted
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect();
    let string_to_sign = format!("GET&%2F&{}", pct(&canonical.join("&")));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes()).expect("key");
    mac.update(string_to_sign.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let mut query: Vec<String> = sorted
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect();
    query.push(format!("Signature={}", pct(&signature)));
    query.join("&")
}

fn now_text(offset_minutes: i64) -> String {
    let now = time::OffsetDateTime::now_utc() + time::Duration::minutes(offset_minutes);
    Timestamp::from_millis((now.unix_timestamp_nanos() / 1_000_000) as i64).to_string()
}

fn common(nonce: &str, timestamp: String, key_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("Action", "DescribeSendFileResults".to_owned()),
        ("Version", "2014-05-26".to_owned()),
        ("Format", "JSON".to_owned()),
        ("RegionId", "cn-hangzhou".to_owned()),
        ("AccessKeyId", key_id.to_owned()),
        ("SignatureMethod", "HMAC-SHA1".to_owned()),
        ("SignatureVersion", "1.0".to_owned()),
        ("SignatureNonce", nonce.to_owned()),
        ("Timestamp", timestamp),
    ]
}

async fn get(app: &axum::Router, query: &str) -> (u16, serde_json::Value) {
    let request = Request::get(format!("/?{query}"))
        .body(Body::empty())
        .expect("request");
    let response = app.clone().oneshot(request).await.expect("answer");
    let status = response.status().as_u16();
    let body = to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, serde_json::from_slice(&body).expect("JSON body"))
}

#[tokio::test]
async fn signed_fresh_and_new_or_refused() {
    let app = app();
    let unsigned =
        "Action=DescribeSendFileResults&Version=2014-05-26&Format=JSON&RegionId=cn-hangzhou";
    let without_timestamp: Vec<_> = common("n-5", now_text(0), "testid")
        .into_iter()
        .filter(|(k, _)| *k != "Timestamp")
        .collect();
    let cases: Vec<(&str, String, u16, &str)> = vec![
        (
            "signed with the right secret",
            signed_v1(&common("n-1", now_text(0), "testid"), "testsecret"),
            200,
            "",
        ),
        (
            "the same nonce again",
            signed_v1(&common("n-1", now_text(0), "testid"), "testsecret"),
            400,
            "SignatureNonceUsed",
        ),
        (
            "a wrong secret",
            signed_v1(&common("n-2", now_text(0), "testid"), "wrong"),
            400,
            "SignatureDoesNotMatch",
        ),
        (
            "an unknown key",
            signed_v1(&common("n-3", now_text(0), "nobody"), "testsecret"),
            404,
            "InvalidAccessKeyId.NotFound",
        ),
        (
            "16 minutes old",
            signed_v1(&common("n-4", now_text(-16), "testid"), "testsecret"),
            400,
            "InvalidTimeStamp.Expired",
        ),
        (
            "14 minutes ahead",
            signed_v1(&common("n-6", now_text(14), "testid"), "testsecret"),
            200,
            "",
        ),
        (
            "no Timestamp",
            signed_v1(&without_timestamp, "testsecret"),
            400,
            "IllegalTimestamp",
        ),
        (
            "no signature at all",
            unsigned.to_owned(),
            400,
            "MissingSignature",
        ),
    ];
    let mut failures = Vec::new();
    for (what, query, status, code) in &cases {
        let (got_status, body) = get(&app, query).await;
        let got_code = body["Code"].as_str().unwrap_or("");
        if (got_status, got_code) != (*status, *code) {
            failures.push(format!(
                "{what}: want {status} {code:?}, got {got_status} {got_code:?}: {body}"
            ));
        }
        if *code == "SignatureDoesNotMatch" {
            // The classic Python SDK splits the message on `:` and compares
            // the rest with its own string to sign.
            let message = body["Message"].as_str().unwrap_or("");
            let (_, sts) = message.split_once(':').expect("a colon in the message");
            assert!(
                sts.starts_with("GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeSendFileResults"),
                "{message}"
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
