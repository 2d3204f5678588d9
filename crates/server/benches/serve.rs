//! How fast `serve` answers, as ratios measured in one run (the machines
//! are shared and noisy, so absolute figures mean little):
//!
//! * a DescribeSendFileResults page through casim's listener, against the
//!   same page through a plain `TcpListener` (the cost of the long-URI
//!   stream), and against static bytes of the same size served by axum
//!   (how close a page comes to the physical limit).
//!
//! Run with `cargo bench -p casim-server --bench serve`. Prints figures;
//! asserts nothing.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::any;
use casim_model::Timestamp;
use casim_server::{ClockMode, ServerConfig};

const WARMUP: usize = 200;
const CALLS: usize = 3_000;
const ROUNDS: usize = 3;

fn config() -> ServerConfig {
    ServerConfig {
        fleet: casim_server::demo::fleet(),
        seed: 7,
        start_time: Timestamp::parse("2024-01-01T00:00:00Z").unwrap_or(Timestamp::MIN),
        clock: ClockMode::Manual,
        ..ServerConfig::default()
    }
}

/// One keep-alive connection that sends a request and reads one response.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Conn {
            stream,
            buf: Vec::with_capacity(64 * 1024),
        }
    }

    /// Sends `request` and returns the response body.
    fn call(&mut self, request: &[u8]) -> Vec<u8> {
        self.stream.write_all(request).expect("write");
        self.buf.clear();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(head_end) = find(&self.buf, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..head_end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .expect("content-length");
                if self.buf.len() >= head_end + 4 + length {
                    return self.buf[head_end + 4..head_end + 4 + length].to_vec();
                }
            }
            let n = self.stream.read(&mut chunk).expect("read");
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn time(addr: SocketAddr, request: &[u8]) -> Duration {
    let mut conn = Conn::open(addr);
    for _ in 0..WARMUP {
        conn.call(request);
    }
    let started = Instant::now();
    for _ in 0..CALLS {
        conn.call(request);
    }
    started.elapsed() / CALLS as u32
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (casim, plain, fixed, page_bytes) = runtime.block_on(async {
        // One state behind both listeners, so both serve the same page.
        let state = casim_server::state(&config()).expect("state");
        let casim_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let casim = casim_listener.local_addr().expect("addr");
        let app = casim_server::router(state.clone());
        tokio::spawn(async move {
            let listener = casim_server::long_uri::LongUriListener::new(casim_listener);
            let _ = axum::serve(listener, app).await;
        });

        // Ten records, so a page has a realistic size.
        let mut conn = Conn::open(casim);
        for i in 0..10 {
            let send = format!(
                "POST /?Action=SendFile&Version=2014-05-26&Format=JSON&RegionId=cn-hangzhou\
                 &InstanceId.1=i-bp1demo0web00000001&InstanceId.2=i-bp1demo0web00000002\
                 &Name=app-{i}.conf&TargetDir=/etc/app&Content=listen+80%3B HTTP/1.1\r\n\
                 Host: bench\r\nContent-Length: 0\r\n\r\n"
            );
            conn.call(send.as_bytes());
        }
        let page = conn.call(DESCRIBE);

        let plain_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let plain = plain_listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(plain_listener, casim_server::router(state)).await;
        });

        let fixed_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let fixed = fixed_listener.local_addr().expect("addr");
        let body = bytes::Bytes::from(page.clone());
        let app = Router::new().route("/", any(move || std::future::ready(body.clone())));
        tokio::spawn(async move {
            let _ = axum::serve(fixed_listener, app).await;
        });
        (casim, plain, fixed, page.len())
    });

    println!(
        "DescribeSendFileResults page of 10 records, {page_bytes} bytes; {CALLS} calls per round"
    );
    for round in 1..=ROUNDS {
        let through_casim = time(casim, DESCRIBE);
        let through_plain = time(plain, DESCRIBE);
        let static_bytes = time(fixed, DESCRIBE);
        println!(
            "round {round}: casim {through_casim:?}/call, plain listener {through_plain:?}/call, \
             static bytes {static_bytes:?}/call; casim/plain {:.2}, casim/static {:.2}",
            through_casim.as_secs_f64() / through_plain.as_secs_f64(),
            through_casim.as_secs_f64() / static_bytes.as_secs_f64(),
        );
    }
}

const DESCRIBE: &[u8] = b"POST /?Action=DescribeSendFileResults&Version=2014-05-26&Format=JSON\
&RegionId=cn-hangzhou&PageSize=10 HTTP/1.1\r\nHost: bench\r\nContent-Length: 0\r\n\r\n";
