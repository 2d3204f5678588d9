//! Signature checks against the requests real SDKs sent (the captures in
//! `fixtures/captures/`, secret `testsecret`, id `testid`) and the test
//! vectors of `spec/api-facts.md` §9: every capture verifies, and any change
//! to what it signed is refused with the error the gateway gives.

use std::path::Path;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Uri};
use casim_model::{ApiError, Params, Timestamp};
use casim_server::signature::{
    AccessKeys, NonceCache, SignatureScheme, SignedRequest, VerifiedCaller, check_freshness,
    signature_nonce, verify_signature,
};
use serde_json::Value;

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// One HTTP request as the server would receive it.
#[derive(Debug, Clone)]
struct Captured {
    /// `file.jsonl:line`, for failure messages.
    name: String,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Captured {
    fn new(name: &str, method: &str, raw_path: &str, headers: &[(&str, &str)], body: &str) -> Self {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).expect("header name"),
                HeaderValue::from_str(value).expect("header value"),
            );
        }
        Captured {
            name: name.to_owned(),
            method: method.parse().expect("method"),
            uri: raw_path.parse().expect("uri"),
            headers: map,
            body: body.as_bytes().to_vec(),
        }
    }

    /// Params exactly as the server reads them.
    fn params(&self) -> Params {
        casim_server::params::from_request(&self.uri, &self.headers, &self.body)
    }

    fn verify(&self, keys: &AccessKeys) -> Result<VerifiedCaller, ApiError> {
        let params = self.params();
        let request =
            SignedRequest::new(&self.method, &self.uri, &self.headers, &self.body, &params);
        verify_signature(&request, keys)
    }

    fn freshness(&self, now: Timestamp) -> Result<(), ApiError> {
        let params = self.params();
        let request =
            SignedRequest::new(&self.method, &self.uri, &self.headers, &self.body, &params);
        check_freshness(&request, now)
    }

    fn nonce(&self) -> Result<String, ApiError> {
        let params = self.params();
        let request =
            SignedRequest::new(&self.method, &self.uri, &self.headers, &self.body, &params);
        signature_nonce(&request).map(str::to_owned)
    }

    fn query_pairs(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(self.uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect()
    }

    /// The same request with its query rebuilt from `pairs` (re-encoded the
    /// way a form encoder does, `+` for space).
    fn with_query(&self, pairs: &[(String, String)]) -> Captured {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        Captured {
            uri: format!("/?{query}").parse().expect("uri"),
            ..self.clone()
        }
    }

    fn with_header(&self, name: &str, value: &str) -> Captured {
        let mut changed = self.clone();
        changed.headers.insert(
            HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
        changed
    }

    /// The lowercase names the `Authorization` header says are signed.
    fn signed_headers(&self) -> Vec<String> {
        let authorization = self
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let list = authorization
            .split(',')
            .find_map(|field| field.trim().strip_prefix("SignedHeaders="))
            .unwrap_or_default();
        list.split(';').map(str::to_owned).collect()
    }
}

fn captures() -> Vec<Captured> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/captures");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("captures directory")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "jsonl"))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("capture file");
        let file_name = file.file_name().expect("file name").to_string_lossy();
        for (index, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let record: Value = serde_json::from_str(line).expect("capture JSON");
            let text_of = |key: &str| record[key].as_str().expect(key).to_owned();
            let headers: Vec<(String, String)> = record["headers"]
                .as_object()
                .expect("headers")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("header text").to_owned()))
                .collect();
            let headers: Vec<(&str, &str)> = headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            all.push(Captured::new(
                &format!("{file_name}:{}", index + 1),
                &text_of("method"),
                &text_of("raw_path"),
                &headers,
                &text_of("body"),
            ));
        }
    }
    assert_eq!(
        all.len(),
        15,
        "the five SDK flavours sent three requests each"
    );
    all
}

fn test_keys() -> AccessKeys {
    [("testid", "testsecret")].into_iter().collect()
}

fn is_v3(capture: &Captured) -> bool {
    capture.headers.contains_key("authorization")
}

/// The string to sign our `SignatureDoesNotMatch` carries.
fn string_to_sign(result: Result<VerifiedCaller, ApiError>) -> String {
    match result {
        Err(ApiError::SignatureDoesNotMatch { string_to_sign }) => string_to_sign,
        other => panic!("expected SignatureDoesNotMatch, got {other:?}"),
    }
}

#[test]
fn every_capture_verifies_with_the_test_key() {
    for capture in captures() {
        let want_scheme = if is_v3(&capture) {
            SignatureScheme::V3
        } else {
            SignatureScheme::V1
        };
        assert_eq!(
            capture.verify(&test_keys()),
            Ok(VerifiedCaller {
                access_key_id: "testid".into(),
                scheme: want_scheme,
            }),
            "{}",
            capture.name
        );
    }
}

#[test]
fn any_other_secret_is_refused_with_a_message_classic_python_can_split() {
    for capture in captures() {
        for secret in ["testsecre", "testsecret ", "TESTSECRET", "testsecret&", "x"] {
            let keys: AccessKeys = [("testid", secret)].into_iter().collect();
            let error = capture.verify(&keys).expect_err(&capture.name);
            let message = error.message().into_owned();
            let sts = string_to_sign(Err(error.clone()));
            assert_eq!(error.code(), "SignatureDoesNotMatch");
            assert_eq!(error.http_status(casim_model::ErrorEra::Seed), 400);
            assert!(message.contains("server string to sign is:"), "{message}");
            // Classic Python compares `Message.split(':')[1]` with its own.
            assert_eq!(
                message.split(':').nth(1),
                Some(sts.as_str()),
                "{}",
                capture.name
            );
        }
    }
}

#[test]
fn an_unknown_access_key_is_not_found() {
    let keys: AccessKeys = [("otherid", "testsecret")].into_iter().collect();
    for capture in captures() {
        assert_eq!(
            capture.verify(&keys),
            Err(ApiError::AccessKeyNotFound),
            "{}",
            capture.name
        );
        assert_eq!(
            capture.verify(&AccessKeys::new()),
            Err(ApiError::AccessKeyNotFound)
        );
    }
}

#[test]
fn changing_any_query_parameter_breaks_the_signature() {
    for capture in captures() {
        let pairs = capture.query_pairs();
        for index in 0..pairs.len() {
            let mut changed = pairs.clone();
            let name = changed[index].0.clone();
            changed[index].1.push('x');
            let result = capture.with_query(&changed).verify(&test_keys());
            let context = format!("{} with {name} changed", capture.name);
            match (is_v3(&capture), name.as_str()) {
                (false, "AccessKeyId") => {
                    assert_eq!(result, Err(ApiError::AccessKeyNotFound), "{context}");
                }
                (false, "SignatureMethod" | "SignatureVersion") => {
                    assert_eq!(result, Err(ApiError::IncompleteSignature), "{context}");
                }
                _ => {
                    assert!(
                        matches!(result, Err(ApiError::SignatureDoesNotMatch { .. })),
                        "{context}: {result:?}"
                    );
                }
            }
        }
        // A parameter the client never sent is not signed either.
        let mut added = pairs.clone();
        added.push(("PageSize".into(), "50".into()));
        let result = capture.with_query(&added).verify(&test_keys());
        assert!(
            matches!(result, Err(ApiError::SignatureDoesNotMatch { .. })),
            "{} with a parameter added: {result:?}",
            capture.name
        );
    }
}

#[test]
fn how_the_query_is_escaped_does_not_matter() {
    // Tea Python writes spaces as `+`, Node as `%20` and leaves `*` raw: the
    // canonical form re-encodes, so any faithful escaping verifies.
    for capture in captures() {
        let reencoded = capture.with_query(&capture.query_pairs());
        assert!(reencoded.verify(&test_keys()).is_ok(), "{}", capture.name);
    }
}

#[test]
fn changing_any_signed_header_breaks_a_v3_signature() {
    for capture in captures().into_iter().filter(is_v3) {
        let signed = capture.signed_headers();
        assert!(signed.len() >= 7, "{}: {signed:?}", capture.name);
        for name in &signed {
            let value = capture.headers[name.as_str()]
                .to_str()
                .expect("text")
                .to_owned();
            let result = capture
                .with_header(name, &format!("{value}x"))
                .verify(&test_keys());
            assert!(
                matches!(result, Err(ApiError::SignatureDoesNotMatch { .. })),
                "{} with {name} changed: {result:?}",
                capture.name
            );
            // Surrounding whitespace is trimmed before signing.
            let padded = capture.with_header(name, &format!("  {value} "));
            assert!(
                padded.verify(&test_keys()).is_ok(),
                "{} with {name} padded",
                capture.name
            );

            let mut removed = capture.clone();
            removed.headers.remove(name.as_str());
            assert!(
                removed.verify(&test_keys()).is_err(),
                "{} without {name}",
                capture.name
            );
        }
        // Headers outside the list are the client's business...
        let unsigned = capture.with_header("user-agent-extra", "anything");
        assert!(unsigned.verify(&test_keys()).is_ok(), "{}", capture.name);
        // ...except those the V3 rules say must be signed.
        for name in ["x-acs-extra", "content-type"] {
            assert_eq!(
                capture.with_header(name, "text/plain").verify(&test_keys()),
                Err(ApiError::IncompleteSignature),
                "{} with an unsigned {name}",
                capture.name
            );
        }
    }
}

#[test]
fn a_v3_body_must_match_its_hash() {
    for capture in captures().into_iter().filter(is_v3) {
        let mut with_body = capture.clone();
        with_body.body = b"Name=other".to_vec();
        let sts = string_to_sign(with_body.verify(&test_keys()));
        // Our string to sign is built over the body that arrived.
        let original_sts =
            string_to_sign(capture.verify(&[("testid", "wrong")].into_iter().collect()));
        assert_ne!(sts, original_sts, "{}", capture.name);

        let mut no_hash = capture.clone();
        no_hash.headers.remove("x-acs-content-sha256");
        let result = no_hash.verify(&test_keys());
        assert!(result.is_err(), "{}: {result:?}", capture.name);
    }
}

#[test]
fn v1_signs_form_bodies_too() {
    for capture in captures().into_iter().filter(|c| !is_v3(c)) {
        let mut with_body = capture.clone();
        with_body.body = b"Name=other".to_vec();
        let result = with_body.verify(&test_keys());
        assert!(
            matches!(result, Err(ApiError::SignatureDoesNotMatch { .. })),
            "{}: {result:?}",
            capture.name
        );
    }
}

#[test]
fn malformed_or_missing_signatures() {
    let v1 = "/?Action=SendFile&AccessKeyId=testid&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&Signature=abc";
    fn auth(value: &str) -> Vec<(&str, &str)> {
        vec![("host", "h"), ("authorization", value)]
    }
    let ok_fields = "Credential=testid,SignedHeaders=host,Signature=00";
    let cases: Vec<(&str, Captured, Result<(), ApiError>)> = vec![
        (
            "nothing signed",
            Captured::new("", "POST", "/?Action=SendFile", &[], ""),
            Err(ApiError::MissingParameter { name: "Signature" }),
        ),
        (
            "a non-ACS authorization is ignored",
            Captured::new("", "POST", "/", &[("authorization", "Basic eDp5")], ""),
            Err(ApiError::MissingParameter { name: "Signature" }),
        ),
        (
            "V1 without AccessKeyId",
            Captured::new("", "POST", &v1.replace("AccessKeyId=testid&", ""), &[], ""),
            Err(ApiError::MissingParameter {
                name: "AccessKeyId",
            }),
        ),
        (
            "V1 without SignatureMethod",
            Captured::new(
                "",
                "POST",
                &v1.replace("SignatureMethod=HMAC-SHA1&", ""),
                &[],
                "",
            ),
            Err(ApiError::MissingParameter {
                name: "SignatureMethod",
            }),
        ),
        (
            "V1 with HMAC-SHA256",
            Captured::new("", "POST", &v1.replace("HMAC-SHA1", "HMAC-SHA256"), &[], ""),
            Err(ApiError::IncompleteSignature),
        ),
        (
            "V1 signature not Base64",
            Captured::new("", "POST", &v1.replace("abc", "%25%25"), &[], ""),
            Err(ApiError::SignatureDoesNotMatch {
                string_to_sign: String::new(),
            }),
        ),
        (
            "V3 other algorithm",
            Captured::new(
                "",
                "POST",
                "/",
                &auth(&format!("ACS3-HMAC-SM3 {ok_fields}")),
                "",
            ),
            Err(ApiError::IncompleteSignature),
        ),
        (
            "V3 without fields",
            Captured::new("", "POST", "/", &auth("ACS3-HMAC-SHA256"), ""),
            Err(ApiError::IncompleteSignature),
        ),
        (
            "V3 without content hash",
            Captured::new(
                "",
                "POST",
                "/",
                &auth(&format!("ACS3-HMAC-SHA256 {ok_fields}")),
                "",
            ),
            Err(ApiError::IncompleteSignature),
        ),
        (
            "V3 without host signed",
            Captured::new(
                "",
                "POST",
                "/",
                &[
                    ("host", "h"),
                    ("x-acs-content-sha256", EMPTY_SHA256),
                    (
                        "authorization",
                        "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=x-acs-content-sha256,Signature=00",
                    ),
                ],
                "",
            ),
            Err(ApiError::IncompleteSignature),
        ),
        (
            "V3 with an empty credential",
            Captured::new(
                "",
                "POST",
                "/",
                &[
                    ("host", "h"),
                    ("x-acs-content-sha256", EMPTY_SHA256),
                    (
                        "authorization",
                        "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host;x-acs-content-sha256,Signature=00",
                    ),
                ],
                "",
            ),
            Err(ApiError::MissingParameter {
                name: "AccessKeyId",
            }),
        ),
    ];
    for (what, request, want) in cases {
        let got = request.verify(&test_keys()).map(|_| ());
        // The string to sign is checked elsewhere; compare codes here.
        let code =
            |r: &Result<(), ApiError>| r.as_ref().map_err(|e| e.code().into_owned()).copied();
        assert_eq!(code(&got), code(&want), "{what}: {got:?}");
    }
}

/// Percent-decoding for turning §9's string to sign back into parameters.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex");
            out.push(u8::from_str_radix(hex, 16).expect("hex"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("UTF-8")
}

const V1_CLASSIC_STRING_TO_SIGN: &str = "POST&%2F&AccessKeyId%3Dtestid%26Action%3DSendFile%26Content%3Decho%2520h%25C3%25A9llo%252A~%2527%26Format%3DJSON%26InstanceId.1%3Di-1%26InstanceId.2%3Di-2%26Name%3Da%2520b.txt%26Overwrite%3DTrue%26RegionId%3Dcn-hangzhou%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3a31fc8a5f0cfa9000cc127421388833%26SignatureType%3D%26SignatureVersion%3D1.0%26Tag.1.Key%3Dk%26Tag.1.Value%3Dv%26TargetDir%3D%252Ftmp%26Timeout%3D30%26Timestamp%3D2026-12-04T15%253A29%253A21Z%26Version%3D2014-05-26";

/// The parameters of §9's classic V1 vector, recovered from its string to
/// sign (the canonical query is the third `&`-separated part, encoded once
/// more).
fn v1_vector_params() -> Vec<(String, String)> {
    let canonical = percent_decode(
        V1_CLASSIC_STRING_TO_SIGN
            .strip_prefix("POST&%2F&")
            .expect("prefix"),
    );
    canonical
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').expect("pair");
            (percent_decode(name), percent_decode(value))
        })
        .collect()
}

fn v1_vector(pairs: Vec<(String, String)>, signature: &str) -> Captured {
    let mut pairs = pairs;
    pairs.push(("Signature".into(), signature.into()));
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&pairs)
        .finish();
    Captured::new("§9 V1", "POST", &format!("/?{query}"), &[], "")
}

#[test]
fn section_9_v1_vectors() {
    let classic = v1_vector(v1_vector_params(), "GTnWsfgQGsEnIzlqclZGf4UKtz8=");
    assert!(classic.verify(&test_keys()).is_ok());
    let wrong: AccessKeys = [("testid", "nope")].into_iter().collect();
    assert_eq!(
        string_to_sign(classic.verify(&wrong)),
        V1_CLASSIC_STRING_TO_SIGN
    );

    // Node Tea in v2 mode: same parameters, but `Format=json`,
    // `Overwrite=true`, no `SignatureType`, its own nonce and time.
    let node: Vec<(String, String)> = v1_vector_params()
        .into_iter()
        .filter(|(name, _)| name != "SignatureType")
        .map(|(name, value)| {
            let value = match name.as_str() {
                "Format" => "json".to_owned(),
                "Overwrite" => "true".to_owned(),
                "SignatureNonce" => {
                    "02839dccd9d7a4ad3903525a9d311a888516aae0b48038d3fd0a8d7669f75df6".to_owned()
                }
                "Timestamp" => "2026-12-04T15:29:23Z".to_owned(),
                _ => value,
            };
            (name, value)
        })
        .collect();
    assert!(
        v1_vector(node, "lT7NvWhlWkso6HBPM53YCeVFL7w=")
            .verify(&test_keys())
            .is_ok()
    );
}

fn v3_vector(
    raw_query: &str,
    extra_headers: &[(&str, &str)],
    signed_headers: &str,
    date: &str,
    nonce: &str,
    signature: &str,
) -> Captured {
    let authorization = format!(
        "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders={signed_headers},Signature={signature}"
    );
    let mut headers = vec![
        ("host", "127.0.0.1:18777"),
        ("x-acs-action", "SendFile"),
        ("x-acs-content-sha256", EMPTY_SHA256),
        ("x-acs-credentials-provider", "static_ak"),
        ("x-acs-date", date),
        ("x-acs-signature-nonce", nonce),
        ("x-acs-version", "2014-05-26"),
        ("authorization", authorization.as_str()),
    ];
    headers.extend_from_slice(extra_headers);
    Captured::new("§9 V3", "POST", &format!("/?{raw_query}"), &headers, "")
}

#[test]
fn section_9_v3_vectors() {
    let python = v3_vector(
        "Content=x&InstanceId.1=i-1&Name=x&RegionId=cn-hangzhou&TargetDir=%2Ftmp",
        &[
            ("accept", "application/json"),
            (
                "user-agent",
                "AlibabaCloud (Linux; x86_64) Python/3.11.7 Core/0.4.3 TeaDSL/2",
            ),
        ],
        "accept;host;user-agent;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version",
        "2026-12-04T15:29:21Z",
        "0f7df24aced7536da8b3c4af5649b181",
        "25870ed6bec644be4702ddc9885d5136f24c098069a5223ac33ecbc624261188",
    );
    assert!(python.verify(&test_keys()).is_ok());
    let wrong: AccessKeys = [("testid", "nope")].into_iter().collect();
    assert_eq!(
        string_to_sign(python.verify(&wrong)),
        "ACS3-HMAC-SHA256\n4650700cae66c70aaccf84ad254538fe2a2e851b9ce0f7f0887e51ea6f8e8363"
    );

    // Node leaves `*` and `'` raw on the wire; the canonical query encodes
    // `*` as `%2A`. (Node does not sign `accept` or `user-agent`.)
    let node = v3_vector(
        "Content=echo%20h%C3%A9llo*~%27&InstanceId.1=i-1&InstanceId.2=i-2&Name=a%20b.txt&Overwrite=true&RegionId=cn-hangzhou&Tag.1.Key=k&Tag.1.Value=v&TargetDir=%2Ftmp&Timeout=30",
        &[("accept", "application/json")],
        "host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version",
        "2026-12-04T15:29:23Z",
        "67607296fe930b9a151edee1270aae20c924544cf7b3f2296153646cddba34a2",
        "477f7bdb3f4b1746875df821f8bfe4524546d5ca23ce62ac051c909b7c641b62",
    );
    assert!(node.verify(&test_keys()).is_ok());
}

#[test]
fn freshness_allows_fifteen_minutes_either_way() {
    const MINUTE: i64 = 60_000;
    for capture in captures() {
        let sent = if is_v3(&capture) {
            capture.headers["x-acs-date"]
                .to_str()
                .expect("text")
                .to_owned()
        } else {
            capture
                .params()
                .raw("Timestamp")
                .expect("Timestamp")
                .to_owned()
        };
        let sent = Timestamp::parse(&sent).expect("capture time");
        for (offset_minutes, want) in [
            (0, Ok(())),
            (14, Ok(())),
            (-14, Ok(())),
            (15, Ok(())),
            (-15, Ok(())),
            (16, Err(ApiError::TimestampExpired)),
            (-16, Err(ApiError::TimestampExpired)),
        ] {
            let now = Timestamp::from_millis(sent.as_millis() + offset_minutes * MINUTE);
            assert_eq!(
                capture.freshness(now),
                want,
                "{} at {offset_minutes:+} min",
                capture.name
            );
        }
    }
}

#[test]
fn a_missing_or_unreadable_time_is_illegal() {
    let now = Timestamp::parse("2026-12-04T15:35:00Z").expect("time");
    for capture in captures() {
        let (without, garbled) = if is_v3(&capture) {
            let mut without = capture.clone();
            without.headers.remove("x-acs-date");
            (
                without,
                capture.with_header("x-acs-date", "Fri, 04 Dec 2026 15:35:00 GMT"),
            )
        } else {
            let pairs = capture.query_pairs();
            let without: Vec<_> = pairs
                .iter()
                .filter(|(n, _)| n != "Timestamp")
                .cloned()
                .collect();
            let garbled: Vec<_> = pairs
                .iter()
                .map(|(n, v)| match n.as_str() {
                    "Timestamp" => (n.clone(), "2026-12-04 15:35:00".to_owned()),
                    _ => (n.clone(), v.clone()),
                })
                .collect();
            (capture.with_query(&without), capture.with_query(&garbled))
        };
        assert_eq!(
            without.freshness(now),
            Err(ApiError::IllegalTimestamp),
            "{}",
            capture.name
        );
        assert_eq!(
            garbled.freshness(now),
            Err(ApiError::IllegalTimestamp),
            "{}",
            capture.name
        );
    }
}

#[test]
fn a_nonce_is_good_once() {
    let now = Timestamp::parse("2026-12-04T15:35:00Z").expect("time");
    let mut cache = NonceCache::default();
    let all = captures();
    for capture in &all {
        let nonce = capture.nonce().expect(&capture.name);
        assert!(
            nonce.len() == 32 || nonce.len() == 64,
            "{}: {nonce}",
            capture.name
        );
        assert_eq!(
            cache.check_and_remember(&nonce, now),
            Ok(()),
            "{}",
            capture.name
        );
    }
    for capture in &all {
        let nonce = capture.nonce().expect(&capture.name);
        assert_eq!(
            cache.check_and_remember(&nonce, now),
            Err(ApiError::SignatureNonceUsed),
            "{}",
            capture.name
        );
    }
    assert_eq!(cache.len(), 15);

    let unsigned = Captured::new("", "POST", "/?Action=SendFile", &[], "");
    assert_eq!(
        unsigned.nonce(),
        Err(ApiError::MissingParameter {
            name: "SignatureNonce"
        })
    );
}
