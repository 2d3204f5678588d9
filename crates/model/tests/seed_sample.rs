//! Our rendering of the documentation's one DescribeSendFileResults sample
//! (`tests/fixtures/seed-sample.*`, copied from the seed reference) must carry
//! the same fields, values, types, nesting and order, in JSON and in XML.

use casim_model::response::{DescribeSendFileResultsResponse, Invocation, Invocations};
use casim_model::wire::render;
use casim_model::{
    ContentType, FileSpec, Format, InstanceId, InstanceResult, InvocationRecord, InvokeId,
    RegionId, RequestId, Timestamp,
};
use quick_xml::events::Event;

const SAMPLE_JSON: &str = include_str!("fixtures/seed-sample.json");
const SAMPLE_XML: &str = include_str!("fixtures/seed-sample.xml");

fn sample_response() -> DescribeSendFileResultsResponse {
    let at = Timestamp::parse("2020-09-11T08:30:55Z").expect("time");
    let mut result = InstanceResult::pending(InstanceId::from("i-bp1hsglsw****"), at);
    result.start(at);
    result.succeed(at);
    let record = InvocationRecord {
        invoke_id: InvokeId::from("f-hz0vk9****"),
        region_id: RegionId::from("cn-hangzhou"),
        creation_time: at,
        timeout_seconds: 60,
        file: FileSpec {
            name: "test.txt".into(),
            target_dir: "/root".into(),
            content: "ZWNobyBoZWxsbw==".into(),
            content_type: ContentType::PlainText,
            file_mode: "0644".into(),
            file_owner: "root".into(),
            file_group: "root".into(),
            overwrite: false,
            description: "This is a test file.".into(),
        },
        resource_group_id: None,
        tags: Vec::new(),
        client_token: None,
        instances: vec![result],
    };
    DescribeSendFileResultsResponse {
        total_count: 1,
        request_id: RequestId::new("473469C7-AA6F-4DC5-B3DB-A3DC0DE3C83E"),
        page_size: 10,
        page_number: 1,
        next_token: None,
        invocations: Invocations {
            items: vec![Invocation::from(&record)],
        },
    }
}

#[test]
fn json_matches_the_sample_field_for_field_in_order() {
    let ours = render(
        Format::Json,
        "DescribeSendFileResultsResponse",
        &sample_response(),
    );
    let ours: serde_json::Value = serde_json::from_slice(&ours).expect("our JSON parses");
    let sample: serde_json::Value = serde_json::from_str(SAMPLE_JSON).expect("sample parses");
    // `preserve_order` is on, so this compares key order as well as values
    // and JSON types (numbers stay numbers, `Overwrite` stays a boolean).
    assert_eq!(
        serde_json::to_string_pretty(&ours).expect("json"),
        serde_json::to_string_pretty(&sample).expect("json")
    );
}

/// Element names and non-blank text, in document order.
fn xml_outline(xml: &str) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut outline = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                outline.push(format!("<{}>", String::from_utf8_lossy(e.name().as_ref())))
            }
            Event::End(e) => {
                outline.push(format!("</{}>", String::from_utf8_lossy(e.name().as_ref())))
            }
            Event::Empty(e) => {
                outline.push(format!("<{}/>", String::from_utf8_lossy(e.name().as_ref())))
            }
            Event::Text(t) => {
                let text = t.unescape().expect("text").trim().to_owned();
                if !text.is_empty() {
                    outline.push(text);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    outline
}

#[test]
fn xml_matches_the_sample_element_for_element() {
    let ours = render(
        Format::Xml,
        "DescribeSendFileResultsResponse",
        &sample_response(),
    );
    let ours = String::from_utf8(ours).expect("utf-8");
    assert!(
        ours.starts_with(
            r#"<?xml version="1.0" encoding="UTF-8"?><DescribeSendFileResultsResponse>"#
        )
    );
    // Empty values are written as a start and an end tag, as in the sample.
    assert!(ours.contains("<ErrorCode></ErrorCode>"), "{ours}");
    assert_eq!(xml_outline(&ours), xml_outline(SAMPLE_XML));
}
