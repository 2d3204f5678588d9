//! Request lines longer than hyper's 65,534-byte limit, over a real socket.
//!
//! The SDKs send every parameter, `Content` included, in the query string,
//! so a PlainText file of non-ASCII text makes a request line of ~75 KB.
//! These tests speak raw HTTP/1.1 over `std::net::TcpStream`: an HTTP client
//! library might reshape the request (or refuse a long URI itself).

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use casim_model::{ErrorEra, Timestamp};
use casim_server::long_uri::{HEAD_CAP, MAX_TARGET_LEN, QUERY_HEADER};
use casim_server::{ClockMode, RunningServer, ServerConfig};
use serde_json::Value;

const INSTANCE: &str = "i-bp1demo0web00000001";

fn config() -> ServerConfig {
    ServerConfig {
        bind: "127.0.0.1:0".parse().expect("address"),
        fleet: casim_server::demo::fleet(),
        seed: 7,
        start_time: Timestamp::parse("2024-01-01T00:00:00Z").expect("time"),
        clock: ClockMode::Manual,
        error_era: ErrorEra::Seed,
        ..ServerConfig::default()
    }
}

async fn server() -> RunningServer {
    casim_server::start(config()).await.expect("server starts")
}

/// Percent-encoding as the SDKs do it: RFC 3986 unreserved bytes as they
/// are, everything else `%XX`.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for &b in text.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An SDK-style call: every parameter in the query, an empty body.
fn request(query: &str, extra_headers: &str) -> Vec<u8> {
    format!(
        "POST /?Version=2014-05-26&Format=JSON&RegionId=cn-hangzhou&{query} HTTP/1.1\r\n\
         Host: 127.0.0.1\r\n{extra_headers}Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

fn send_file(content: &str, content_type: &str) -> Vec<u8> {
    request(
        &format!(
            "Action=SendFile&InstanceId.1={INSTANCE}&Name=f.txt&TargetDir=%2Ftmp\
             &ContentType={content_type}&Content={}",
            encode(content)
        ),
        "",
    )
}

fn describe(invoke_id: &str) -> Vec<u8> {
    request(
        &format!("Action=DescribeSendFileResults&InvokeId={invoke_id}"),
        "",
    )
}

/// Non-ASCII text of `bytes` UTF-8 bytes (give or take one character), with
/// characters that need escaping in a URL.
fn non_ascii_text(bytes: usize) -> String {
    let pieces = [
        "中文", "ü", "🦀", " ", "+", "&", "=", "%", "\n", "é", "文件",
    ];
    let mut text = String::new();
    for piece in pieces.iter().cycle() {
        if text.len() + piece.len() > bytes {
            break;
        }
        text.push_str(piece);
    }
    text
}

struct Response {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Response {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {} {}",
                self.head,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

/// One keep-alive connection speaking raw HTTP/1.1.
struct Conn {
    stream: TcpStream,
    /// Bytes read past the last response.
    buf: Vec<u8>,
}

impl Conn {
    fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        stream.set_nodelay(true).expect("nodelay");
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Sends in small pieces with pauses, so the server sees the head
    /// arrive split across many reads.
    fn send_trickled(&mut self, bytes: &[u8], piece: usize) {
        for chunk in bytes.chunks(piece) {
            self.stream.write_all(chunk).expect("write");
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    fn fill(&mut self) -> usize {
        let mut chunk = [0; 16 * 1024];
        let n = self.stream.read(&mut chunk).expect("read (timed out?)");
        self.buf.extend_from_slice(&chunk[..n]);
        n
    }

    fn response(&mut self) -> Response {
        let head_end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            assert!(self.fill() > 0, "connection closed before a response");
        };
        let head = String::from_utf8(self.buf[..head_end].to_vec()).expect("ASCII head");
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        let length = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        while self.buf.len() < head_end + length {
            assert!(self.fill() > 0, "connection closed inside a body");
        }
        let body = self.buf[head_end..head_end + length].to_vec();
        self.buf.drain(..head_end + length);
        Response { status, head, body }
    }

    fn call(&mut self, bytes: &[u8]) -> Response {
        self.send(bytes);
        self.response()
    }
}

/// Runs blocking client code off the runtime the server runs on.
async fn client<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("client thread")
}

fn invoke_id(response: &Response) -> String {
    assert_eq!(
        response.status,
        200,
        "{} {}",
        response.head,
        String::from_utf8_lossy(&response.body)
    );
    response.json()["InvokeId"]
        .as_str()
        .expect("InvokeId")
        .to_owned()
}

fn described_content(response: &Response) -> String {
    assert_eq!(response.status, 200, "{}", response.head);
    let json = response.json();
    json["Invocations"]["Invocation"][0]["Content"]
        .as_str()
        .unwrap_or_else(|| panic!("no Content in {json}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_text_content_with_a_request_line_over_hypers_limit_round_trips() {
    let server = server().await;
    let addr = server.addr();
    client(move || {
        let content = non_ascii_text(24_000);
        let request = send_file(&content, "PlainText");
        let line_len = request.iter().position(|&b| b == b'\r').expect("line");
        assert!(
            line_len > MAX_TARGET_LEN + 1000,
            "request line only {line_len} bytes"
        );
        println!("PlainText request line: {line_len} bytes");

        let mut conn = Conn::open(addr);
        let id = invoke_id(&conn.call(&request));
        assert_eq!(described_content(&conn.call(&describe(&id))), content);
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn base64_content_of_32_kib_round_trips() {
    use base64::Engine as _;
    let server = server().await;
    let addr = server.addr();
    client(move || {
        // 24,576 bytes whose Base64 is exactly 32,768 characters, with
        // plenty of `+` and `/` (three bytes each once percent-encoded).
        let raw: Vec<u8> = (0..24_576u32).map(|i| (i * 251 % 256) as u8).collect();
        let content = base64::engine::general_purpose::STANDARD.encode(&raw);
        assert_eq!(content.len(), 32_768);
        let mut conn = Conn::open(addr);
        let id = invoke_id(&conn.call(&send_file(&content, "Base64")));
        assert_eq!(described_content(&conn.call(&describe(&id))), content);

        // PlainText ASCII with every byte escaped (as a client escaping all
        // of it would) also goes past the limit. 24,576 bytes is the most
        // PlainText allowed (32 KB once Base64-encoded).
        let plain = &content[..24_576];
        let all_escaped: String = plain.bytes().map(|b| format!("%{b:02X}")).collect();
        let request = request(
            &format!(
                "Action=SendFile&InstanceId.1={INSTANCE}&Name=g.txt&TargetDir=%2Ftmp\
                 &ContentType=PlainText&Content={all_escaped}"
            ),
            "",
        );
        assert!(request.len() > 73_000);
        let id = invoke_id(&conn.call(&request));
        assert_eq!(described_content(&conn.call(&describe(&id))), plain);
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn keep_alive_interleaves_short_and_long_requests() {
    let server = server().await;
    let addr = server.addr();
    client(move || {
        let long_content = non_ascii_text(23_000);
        let long = send_file(&long_content, "PlainText");
        let short = send_file("short", "PlainText");
        // A form body, framed by Content-Length, between them.
        let body = format!(
            "Action=SendFile&InstanceId.1={INSTANCE}&Name=b.txt&TargetDir=%2Ftmp&Content=from-body"
        );
        let with_body = format!(
            "POST /?Version=2014-05-26&Format=JSON&RegionId=cn-hangzhou HTTP/1.1\r\nHost: x\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();

        // One request at a time.
        let mut conn = Conn::open(addr);
        let first = invoke_id(&conn.call(&short));
        let second = invoke_id(&conn.call(&long));
        let third = invoke_id(&conn.call(&with_body));
        let fourth = invoke_id(&conn.call(&short));
        assert_eq!(described_content(&conn.call(&describe(&first))), "short");
        assert_eq!(
            described_content(&conn.call(&describe(&second))),
            long_content
        );
        assert_eq!(
            described_content(&conn.call(&describe(&third))),
            "from-body"
        );
        assert_eq!(described_content(&conn.call(&describe(&fourth))), "short");

        // Pipelined: all of them in one write, answers in order.
        let mut conn = Conn::open(addr);
        let all = [
            short.clone(),
            long.clone(),
            with_body.clone(),
            long.clone(),
            short.clone(),
        ]
        .concat();
        conn.send(&all);
        let ids: Vec<String> = (0..5).map(|_| invoke_id(&conn.response())).collect();
        let expected = ["short", &long_content, "from-body", &long_content, "short"];
        for (id, content) in ids.iter().zip(expected) {
            assert_eq!(described_content(&conn.call(&describe(id))), content);
        }

        // Trickled: every head split across many reads.
        let mut conn = Conn::open(addr);
        for request in [&short, &long, &with_body, &short] {
            conn.send_trickled(request, 997);
            invoke_id(&conn.response());
        }
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chunked_request_is_answered_and_then_the_connection_closes() {
    let server = server().await;
    let addr = server.addr();
    client(move || {
        let body = format!(
            "Action=SendFile&InstanceId.1={INSTANCE}&Name=c.txt&TargetDir=%2Ftmp&Content=chunked"
        );
        let chunked = format!(
            "POST /?Version=2014-05-26&Format=JSON&RegionId=cn-hangzhou HTTP/1.1\r\nHost: x\r\n\
             Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
            body.len()
        );
        let mut conn = Conn::open(addr);
        // The stream does not frame chunked bodies, so the request after
        // this one must not be read from this connection.
        conn.send(&[chunked.into_bytes(), send_file("after", "PlainText")].concat());
        let response = conn.response();
        let id = invoke_id(&response);
        assert!(
            response
                .head
                .to_ascii_lowercase()
                .contains("connection: close"),
            "{}",
            response.head
        );
        assert_eq!(conn.fill(), 0, "the connection closes");
        let mut conn = Conn::open(addr);
        assert_eq!(described_content(&conn.call(&describe(&id))), "chunked");
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_head_past_the_cap_gets_an_http_error_and_the_server_keeps_serving() {
    let server = server().await;
    let addr = server.addr();
    client(move || {
        for terminated in [false, true] {
            let mut conn = Conn::open(addr);
            let mut writer = conn.stream.try_clone().expect("clone");
            // The writer keeps going past the cap; the server may stop
            // reading (and reset the connection) long before it is done.
            let sender = std::thread::spawn(move || {
                let mut head =
                    format!("POST /?Action=SendFile&Content={}", "a".repeat(HEAD_CAP)).into_bytes();
                head.extend_from_slice(b" HTTP/1.1\r\nHost: x\r\n");
                for _ in 0..10_000 {
                    head.extend_from_slice(b"X-Filler: yyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n");
                }
                if terminated {
                    head.extend_from_slice(b"\r\n");
                }
                let _ = writer.write_all(&head);
            });
            let started = Instant::now();
            let mut got = Vec::new();
            let mut chunk = [0; 4096];
            loop {
                match conn.stream.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => got.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
                    Err(e) => panic!("no answer ({e}) after {:?}", started.elapsed()),
                }
            }
            let _ = sender.join();
            let text = String::from_utf8_lossy(&got);
            println!(
                "oversized head (terminated: {terminated}): {:?} after {:?}",
                text.lines().next(),
                started.elapsed()
            );
            assert!(
                text.starts_with("HTTP/1.1 4"),
                "expected an HTTP 4xx, got {text:?}"
            );
        }

        // Still serving.
        let mut conn = Conn::open(addr);
        invoke_id(&conn.call(&send_file("after", "PlainText")));
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_sent_query_header_is_ignored() {
    let server = server().await;
    let addr = server.addr();
    client(move || {
        let spoof = format!(
            "{QUERY_HEADER}: Action=SendFile&InstanceId.1={INSTANCE}&Name=x&TargetDir=%2Ftmp&Content=evil\r\n"
        );
        let mut conn = Conn::open(addr);

        // Short request: its own query wins, the header is dropped.
        let response = conn.call(&request("Action=DescribeSendFileResults", &spoof));
        assert_eq!(response.status, 200, "{}", response.head);
        assert!(response.json().get("Invocations").is_some());
        assert_eq!(response.json()["TotalCount"], 0, "no file was sent");

        // No query at all: the header does not stand in for one.
        let bare = format!("POST / HTTP/1.1\r\nHost: x\r\n{spoof}Content-Length: 0\r\n\r\n");
        let response = conn.call(bare.as_bytes());
        assert_ne!(response.status, 200, "{}", response.head);
        let message = String::from_utf8_lossy(&response.body).into_owned();
        assert!(message.contains("Action"), "{message}");

        // Long request: the moved query is the one that counts.
        let content = non_ascii_text(24_000);
        let mut long = send_file(&content, "PlainText");
        let at = long.windows(6).position(|w| w == b"Host: ").expect("host");
        long.splice(at..at, spoof.bytes());
        let id = invoke_id(&conn.call(&long));
        assert_eq!(described_content(&conn.call(&describe(&id))), content);
        let all = conn.call(&request("Action=DescribeSendFileResults", ""));
        assert_eq!(all.json()["TotalCount"], 1, "only the real file was sent");
    })
    .await;
    server.shutdown().await;
}

/// A V3 (`ACS3-HMAC-SHA256`) signed call as the Tea SDKs build it: the
/// parameters in the query, the action and version in headers.
fn signed_v3(action: &str, params: &[(&str, &str)], nonce: u32) -> Vec<u8> {
    use hmac::{Hmac, Mac as _};
    use sha2::{Digest as _, Sha256};

    let mut pairs: Vec<(&str, &str)> = params.to_vec();
    pairs.sort_unstable();
    let query = pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    let date = casim_server::signature::wall_now().to_string();
    let nonce = format!("{nonce:032x}");
    let body_hash = hex::encode(Sha256::digest(b""));
    let headers = [
        ("host", "127.0.0.1".to_owned()),
        ("x-acs-action", action.to_owned()),
        ("x-acs-content-sha256", body_hash.clone()),
        ("x-acs-date", date),
        ("x-acs-signature-nonce", nonce),
        ("x-acs-version", "2014-05-26".to_owned()),
    ];
    let canonical_headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect();
    let signed_headers = headers
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(";");
    let canonical = format!("POST\n/\n{query}\n{canonical_headers}\n{signed_headers}\n{body_hash}");
    let string_to_sign = format!(
        "ACS3-HMAC-SHA256\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(b"testsecret").expect("key");
    mac.update(string_to_sign.as_bytes());
    let signature = hex::encode(mac.finalize().into_bytes());
    let header_lines: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    format!(
        "POST /?{query} HTTP/1.1\r\n{header_lines}authorization: ACS3-HMAC-SHA256 \
         Credential=testid,SignedHeaders={signed_headers},Signature={signature}\r\n\
         accept: application/json\r\ncontent-length: 0\r\n\r\n"
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_v3_signature_covers_a_moved_query() {
    let config = ServerConfig {
        access_keys: Some(casim_server::AccessKeys::parse("testid:testsecret").expect("keys")),
        ..config()
    };
    let server = casim_server::start(config).await.expect("server starts");
    let addr = server.addr();
    client(move || {
        let content = non_ascii_text(24_000);
        let params = [
            ("RegionId", "cn-hangzhou"),
            ("InstanceId.1", INSTANCE),
            ("Name", "signed.txt"),
            ("TargetDir", "/tmp"),
            ("ContentType", "PlainText"),
            ("Content", content.as_str()),
        ];
        let request = signed_v3("SendFile", &params, 1);
        assert!(request.len() > MAX_TARGET_LEN + 1000);
        let mut conn = Conn::open(addr);
        let id = invoke_id(&conn.call(&request));
        let describe = signed_v3(
            "DescribeSendFileResults",
            &[("RegionId", "cn-hangzhou"), ("InvokeId", id.as_str())],
            2,
        );
        assert_eq!(described_content(&conn.call(&describe)), content);

        // One changed byte deep in the moved query breaks the signature.
        let mut tampered = signed_v3("SendFile", &params, 3);
        let at = tampered.len() / 2;
        assert!(tampered[at].is_ascii_hexdigit(), "inside a %XX escape");
        tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
        let response = conn.call(&tampered);
        assert_eq!(response.status, 400, "{}", response.head);
        assert_eq!(response.json()["Code"], "SignatureDoesNotMatch");
    })
    .await;
    server.shutdown().await;
}
