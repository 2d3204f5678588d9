//! Request targets longer than hyper accepts.
//!
//! The official SDKs put every parameter, `Content` included, in the query
//! string of a `POST /?…` with an empty body. A PlainText file of non-ASCII
//! text percent-encodes to about three times its size, so a valid request can
//! have a request target of about 100 KB. hyper (and `http::Uri`) refuse any
//! target longer than [`MAX_TARGET_LEN`] bytes with `414 URI Too Long` before a
//! handler runs, and have no setting to raise that limit.
//!
//! [`LongUriListener`] wraps the TCP listener so that every connection's
//! incoming bytes go through a [`LongUriStream`] before hyper reads them. The
//! stream follows HTTP/1 framing (a head, then `Content-Length` bytes of body,
//! then the next head). When a head's target is too long, the stream moves
//! the query out of the request line into a [`QUERY_HEADER`] header and
//! leaves the path. [`query`] gives handlers the query from either place, so
//! the parameters come out the same: the same pairs in the same order.
//! Outgoing bytes are not touched.
//!
//! Heads that need no change are handed to hyper in the buffer hyper gave
//! for the read, without copying. Only a head that is split across reads or
//! has to be rewritten is copied into a buffer of the stream.
//!
//! When the stream cannot be sure it frames the connection exactly as hyper
//! does, it stops looking at that connection:
//! * On a head it cannot read, it passes the rest of the connection through
//!   untouched. hyper refuses such a head and closes the connection.
//! * On `Transfer-Encoding`, `Upgrade` or `CONNECT` it adds
//!   `connection: close` to the head and then passes the rest through. hyper
//!   answers that one request and closes the connection, so bytes the stream
//!   has not framed are never read as a request.
//! * On a head that grows past [`HEAD_CAP`], it passes the bytes through
//!   untouched. hyper answers `431` at its own smaller limit and closes the
//!   connection, so a client sending an endless head is cut off. Memory stays
//!   bounded by the cap.
//!
//! A client cannot fake a relocated query. The stream removes any
//! [`QUERY_HEADER`] a client sends on a head it reads. Every head that hyper
//! would accept is one the stream reads, because of the rules above. Even
//! without the stream (the router driven in-process), [`query`] reads the
//! header only when the URI has no query at all.

use std::io;
use std::net::SocketAddr;
use std::ops::Range;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::http::{HeaderMap, Uri};
use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// The header that carries a query moved out of an over-long request line.
pub const QUERY_HEADER: &str = "x-casim-query";

/// The longest request target hyper (and `http::Uri`) accept: `u16::MAX - 1`.
pub const MAX_TARGET_LEN: usize = 65_534;

/// The most bytes of one head the stream buffers while waiting for its end.
///
/// This must be larger than any head hyper accepts. Then any head past the
/// cap is also past hyper's limit, and hyper refuses it when the stream
/// passes it through. This is also why every head hyper accepts has been
/// read here. hyper stops at 8,192 + 409,600 bytes, but checks that before
/// each read, and a read may fill the whole spare capacity of its buffer. A
/// buffer grows by doubling, so that capacity is under twice the limit (in
/// practice hyper accepts heads up to 524,288 bytes). 1 MiB is past both.
pub const HEAD_CAP: usize = 1024 * 1024;

/// How much the stream reads at a time while it collects a split head.
const READ_CHUNK: usize = 16 * 1024;

/// The query of a request: the URI's, or else the one the stream moved into
/// [`QUERY_HEADER`].
///
/// Use it wherever `uri.query()` would be read (parameters, signatures).
/// The header counts only when the URI has no query. The stream adds the
/// header only after it has taken the query out of the URI, and only with a
/// query that is UTF-8, as `http::Uri` requires of its own.
pub fn query<'a>(uri: &'a Uri, headers: &'a HeaderMap) -> Option<&'a str> {
    match uri.query() {
        Some(query) => Some(query),
        None => headers
            .get(QUERY_HEADER)
            .and_then(|value| std::str::from_utf8(value.as_bytes()).ok()),
    }
}

/// A TCP listener whose connections are [`LongUriStream`]s, for `axum::serve`.
#[derive(Debug)]
pub struct LongUriListener {
    inner: TcpListener,
}

impl LongUriListener {
    pub fn new(inner: TcpListener) -> LongUriListener {
        LongUriListener { inner }
    }
}

impl axum::serve::Listener for LongUriListener {
    type Io = LongUriStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // axum's own accept loop, which logs and retries accept errors.
        let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        (LongUriStream::new(io), addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// What the next incoming bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The start of a request head, or empty lines before one.
    Head,
    /// This many bytes of a request body.
    Body(u64),
    /// Bytes the stream no longer frames: hyper gets them as they are.
    Passthrough,
}

/// A connection that moves over-long queries into [`QUERY_HEADER`] as
/// requests come in; see the [module documentation](self).
#[derive(Debug)]
pub struct LongUriStream<S> {
    inner: S,
    mode: Mode,
    /// Bytes read and not yet examined. When not empty, they start with a
    /// head that was split across reads or has to be rewritten.
    pending: BytesMut,
    /// How much of the head at the front of `pending` is already known not
    /// to contain the head's end. Searches resume there, so a head that
    /// arrives a byte at a time costs linear time, not quadratic.
    searched: usize,
    /// Examined bytes, rewritten where needed, that hyper has not read yet.
    ready: BytesMut,
    /// The buffer for reads while a head is collected. It is allocated only
    /// on connections that need it.
    scratch: Vec<u8>,
}

impl<S> LongUriStream<S> {
    pub fn new(inner: S) -> LongUriStream<S> {
        LongUriStream {
            inner,
            mode: Mode::Head,
            pending: BytesMut::new(),
            searched: 0,
            ready: BytesMut::new(),
            scratch: Vec::new(),
        }
    }

    /// Moves what it can from `pending` to `ready`. Returns false when the
    /// head at the front of `pending` needs more bytes first.
    fn settle_pending(&mut self) -> bool {
        let (clean, stop) = scan(&mut self.mode, &self.pending, self.searched);
        if clean > 0 {
            // The bytes before the stop go to hyper first. The stop is
            // examined again once it is at the front.
            self.ready = self.pending.split_to(clean);
            self.searched = match stop {
                Some(Stop::Partial { resume }) => resume,
                _ => 0,
            };
            return true;
        }
        match stop {
            None => true,
            Some(Stop::Rewrite(plan)) => {
                self.ready = plan.rewrite(&self.pending[..plan.end]);
                self.pending.advance(plan.end);
                self.mode = plan.then;
                self.searched = 0;
                true
            }
            Some(Stop::Partial { .. }) if self.pending.len() >= HEAD_CAP => {
                // Past hyper's own limit: hyper refuses it and closes.
                self.mode = Mode::Passthrough;
                self.ready = self.pending.split();
                self.searched = 0;
                true
            }
            Some(Stop::Partial { resume }) => {
                self.searched = resume;
                false
            }
        }
    }
}

impl<S: AsyncRead + Unpin> LongUriStream<S> {
    /// Reads more of a split head into `pending`; `Ok(0)` is end of input.
    fn fill_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        if self.scratch.is_empty() {
            self.scratch = vec![0; READ_CHUNK];
        }
        let mut buf = ReadBuf::new(&mut self.scratch);
        ready!(Pin::new(&mut self.inner).poll_read(cx, &mut buf))?;
        let read = buf.filled();
        self.pending.extend_from_slice(read);
        Poll::Ready(Ok(read.len()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for LongUriStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if !this.ready.is_empty() {
                let n = this.ready.len().min(buf.remaining());
                buf.put_slice(&this.ready[..n]);
                this.ready.advance(n);
                return Poll::Ready(Ok(()));
            }
            if !this.pending.is_empty() {
                if !this.settle_pending() && ready!(this.fill_pending(cx))? == 0 {
                    // The connection ended inside a head. hyper gets what
                    // there is and decides what to do with it.
                    this.mode = Mode::Passthrough;
                    this.ready = this.pending.split();
                    this.searched = 0;
                }
                continue;
            }

            // The fast path: read straight into hyper's buffer and examine
            // the new bytes there.
            let start = buf.filled().len();
            ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
            let fresh = &buf.filled()[start..];
            if fresh.is_empty() {
                return Poll::Ready(Ok(()));
            }
            let (clean, stop) = scan(&mut this.mode, fresh, 0);
            let Some(stop) = stop else {
                return Poll::Ready(Ok(()));
            };
            // Take the bytes from the stop onwards back out of hyper's buffer.
            // They come back through `pending` once the head is complete or
            // rewritten.
            this.pending.extend_from_slice(&fresh[clean..]);
            this.searched = match stop {
                Stop::Partial { resume } => resume,
                Stop::Rewrite(_) => 0,
            };
            buf.set_filled(start + clean);
            if clean > 0 {
                return Poll::Ready(Ok(()));
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for LongUriStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        // hyper writes a response's head and body in one vectored write only
        // when the transport says it can.
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Why [`scan`] stopped before the end of its bytes.
#[derive(Debug)]
enum Stop {
    /// The head there is incomplete. Its end is not before `resume`.
    Partial { resume: usize },
    /// The head there has to be rewritten.
    Rewrite(Plan),
}

/// Walks `bytes`, which start in `mode`, and returns how many leading bytes
/// hyper may have unchanged. It stops early at a head that is incomplete or
/// has to be rewritten. `mode` is left describing the byte after those.
/// `resume` is how far a head at offset 0 was already searched.
fn scan(mode: &mut Mode, bytes: &[u8], mut resume: usize) -> (usize, Option<Stop>) {
    let mut pos = 0;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        match *mode {
            Mode::Passthrough => return (bytes.len(), None),
            Mode::Body(left) => {
                let take = usize::try_from(left).map_or(rest.len(), |left| left.min(rest.len()));
                pos += take;
                *mode = match left - take as u64 {
                    0 => Mode::Head,
                    left => Mode::Body(left),
                };
            }
            Mode::Head => match examine(rest, resume) {
                Examined::Clean { len, then } => {
                    pos += len;
                    *mode = then;
                }
                Examined::Unreadable => *mode = Mode::Passthrough,
                Examined::Partial { resume } => return (pos, Some(Stop::Partial { resume })),
                Examined::Rewrite(plan) => return (pos, Some(Stop::Rewrite(plan))),
            },
        }
        resume = 0;
    }
    (pos, None)
}

/// What [`examine`] made of the bytes at the start of a head.
#[derive(Debug)]
enum Examined {
    /// `len` bytes hyper may have as they are, followed by bytes in `then`.
    Clean {
        len: usize,
        then: Mode,
    },
    /// No end of head yet. It is not before `resume`.
    Partial {
        resume: usize,
    },
    Rewrite(Plan),
    /// hyper will refuse this head: pass the rest through untouched.
    Unreadable,
}

fn examine(bytes: &[u8], resume: usize) -> Examined {
    // httparse skips empty lines before a request line. Handing them on at
    // once means they never pile up here.
    match bytes {
        [b'\n', ..] => {
            return Examined::Clean {
                len: 1,
                then: Mode::Head,
            };
        }
        [b'\r', b'\n', ..] => {
            return Examined::Clean {
                len: 2,
                then: Mode::Head,
            };
        }
        [b'\r'] => return Examined::Partial { resume: 0 },
        _ => {}
    }
    match find_head_end(bytes, resume) {
        Ok(end) => analyse(&bytes[..end]),
        Err(resume) => Examined::Partial { resume },
    }
}

/// The length of the head at the start of `bytes`, up to and including the
/// empty line that ends it. `Err` gives where a later search should resume.
///
/// Lines end in `\n` or `\r\n`, as httparse accepts them. In a head httparse
/// accepts, every `\n` ends a line, so the first empty line ends the head.
fn find_head_end(bytes: &[u8], from: usize) -> Result<usize, usize> {
    let mut at = from;
    while let Some(offset) = bytes
        .get(at..)
        .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
    {
        let newline = at + offset;
        match bytes.get(newline + 1..) {
            Some([b'\n', ..]) => return Ok(newline + 2),
            Some([b'\r', b'\n', ..]) => return Ok(newline + 3),
            // Whether the next line is empty is not known yet.
            Some([] | [b'\r']) | None => return Err(newline),
            Some(_) => at = newline + 1,
        }
    }
    Err(bytes.len().max(from))
}

/// How to rewrite one head.
#[derive(Debug)]
struct Plan {
    /// The head's length.
    end: usize,
    /// Where the empty line that ends the head starts. New headers go there.
    terminator: usize,
    relocated: Option<Relocation>,
    /// Whole lines, `\n` included, of client-sent [`QUERY_HEADER`]s.
    spoofs: Vec<Range<usize>>,
    /// Add `connection: close`: the connection is not framed after this head.
    close: bool,
    /// The mode for the bytes after the head.
    then: Mode,
}

/// A query moved from the request line into [`QUERY_HEADER`].
#[derive(Debug)]
struct Relocation {
    /// What leaves the request line: `?`, the query and any fragment.
    cut: Range<usize>,
    /// The query, without `?` and fragment, which becomes the header's value.
    query: Range<usize>,
}

impl Plan {
    fn rewrite(&self, head: &[u8]) -> BytesMut {
        let mut out = BytesMut::with_capacity(head.len() + 64);
        // The cuts are in head order: the query is in the request line, and
        // the spoofed headers come after it.
        let cuts = self
            .relocated
            .iter()
            .map(|relocation| relocation.cut.clone())
            .chain(self.spoofs.iter().cloned());
        let mut at = 0;
        for cut in cuts {
            out.extend_from_slice(&head[at..cut.start]);
            at = cut.end;
        }
        out.extend_from_slice(&head[at..self.terminator]);
        if let Some(relocation) = &self.relocated {
            out.extend_from_slice(QUERY_HEADER.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(&head[relocation.query.clone()]);
            out.extend_from_slice(b"\r\n");
        }
        if self.close {
            out.extend_from_slice(b"connection: close\r\n");
        }
        out.extend_from_slice(&head[self.terminator..]);
        out
    }
}

/// Reads a complete head (`head` ends with its empty line) and decides what
/// happens to it and to the bytes after it.
fn analyse(head: &[u8]) -> Examined {
    let mut lines = Lines { head, at: 0 };
    let Some(request_line) = lines.next() else {
        return Examined::Unreadable;
    };
    let line = &head[request_line.text.clone()];
    let Some(space) = line.iter().position(|&b| b == b' ') else {
        return Examined::Unreadable;
    };
    let method = &line[..space];
    let Some(length) = line[space + 1..].iter().position(|&b| b == b' ') else {
        return Examined::Unreadable;
    };
    let target = space + 1..space + 1 + length;
    let version = &line[target.end + 1..];
    if version != b"HTTP/1.1" && version != b"HTTP/1.0" {
        // Not HTTP/1: hyper refuses it, and nothing here could frame it.
        return Examined::Unreadable;
    }

    let mut content_length: Option<u64> = None;
    let mut bad_length = false;
    // With any of these, hyper does not frame the body by `Content-Length`
    // (chunked), or the connection may stop being HTTP (an upgrade).
    let mut close = method == b"CONNECT";
    let mut spoofs = Vec::new();
    let mut terminator = None;
    for header in lines.by_ref() {
        let text = &head[header.text.clone()];
        if text.is_empty() {
            terminator = Some(header.whole.start);
            break;
        }
        let Some(colon) = text.iter().position(|&b| b == b':') else {
            return Examined::Unreadable;
        };
        let name = &text[..colon];
        if name.eq_ignore_ascii_case(b"content-length") {
            // hyper takes the digits and nothing else. Copies must agree.
            match decimal(trim_whitespace(&text[colon + 1..])) {
                Some(n) if content_length.is_none_or(|seen| seen == n) => {
                    content_length = Some(n);
                }
                _ => bad_length = true,
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding")
            || name.eq_ignore_ascii_case(b"upgrade")
        {
            close = true;
        } else if name.eq_ignore_ascii_case(QUERY_HEADER.as_bytes()) {
            spoofs.push(header.whole);
        }
    }
    let Some(terminator) = terminator else {
        return Examined::Unreadable;
    };
    if bad_length && !close {
        // hyper refuses the head and closes.
        return Examined::Unreadable;
    }

    let relocated = if target.len() > MAX_TARGET_LEN {
        relocation(&line[target.clone()]).map(|(cut, query)| {
            let base = request_line.text.start + target.start;
            Relocation {
                cut: base + cut.start..base + cut.end,
                query: base + query.start..base + query.end,
            }
        })
    } else {
        None
    };
    let then = match (close, content_length.unwrap_or(0)) {
        (true, _) => Mode::Passthrough,
        (false, 0) => Mode::Head,
        (false, n) => Mode::Body(n),
    };
    if relocated.is_none() && spoofs.is_empty() && !close {
        return Examined::Clean {
            len: head.len(),
            then,
        };
    }
    Examined::Rewrite(Plan {
        end: head.len(),
        terminator,
        relocated,
        spoofs,
        close,
        then,
    })
}

/// Where the query of an over-long `target` is: what leaves the request line
/// (`?` to the end) and the query itself (after `?`, before any `#`).
///
/// `None` when the query must stay in the request line. This happens when
/// moving it would turn a target that hyper or `http::Uri` refuse into one
/// they accept. Such a request keeps its `414`.
fn relocation(target: &[u8]) -> Option<(Range<usize>, Range<usize>)> {
    let origin_form = target.first() == Some(&b'/');
    let absolute_form =
        starts_with_ignore_case(target, b"http://") || starts_with_ignore_case(target, b"https://");
    if !origin_form && !absolute_form {
        return None;
    }
    // A `#` before any `?` starts a fragment, which has no query.
    let mark = target.iter().position(|&b| b == b'?' || b == b'#')?;
    if target[mark] != b'?' {
        return None;
    }
    let tail = &target[mark + 1..];
    // httparse: every target byte is visible ASCII or above 0x7F, and the
    // target is UTF-8. `?` is ASCII, so the tail is UTF-8 on its own
    // exactly when the target is.
    if !tail.iter().all(|&b| matches!(b, 0x21..=0x7E | 0x80..=0xFF))
        || std::str::from_utf8(tail).is_err()
    {
        return None;
    }
    let query_len = tail.iter().position(|&b| b == b'#').unwrap_or(tail.len());
    // `http::Uri`'s query bytes.
    if !tail[..query_len]
        .iter()
        .all(|&b| matches!(b, 0x21 | 0x24..=0x3B | 0x3D | 0x3F..=0x7E | 0x80..=0xFF))
    {
        return None;
    }
    Some((mark..target.len(), mark + 1..mark + 1 + query_len))
}

/// One line of a head.
#[derive(Debug)]
struct Line {
    /// Without its `\n` or `\r\n`.
    text: Range<usize>,
    /// With it.
    whole: Range<usize>,
}

#[derive(Debug)]
struct Lines<'a> {
    head: &'a [u8],
    at: usize,
}

impl Iterator for Lines<'_> {
    type Item = Line;

    fn next(&mut self) -> Option<Line> {
        let start = self.at;
        let newline = start + self.head.get(start..)?.iter().position(|&b| b == b'\n')?;
        self.at = newline + 1;
        let end = if newline > start && self.head[newline - 1] == b'\r' {
            newline - 1
        } else {
            newline
        };
        Some(Line {
            text: start..end,
            whole: start..newline + 1,
        })
    }
}

/// The value of a `Content-Length`, as hyper reads it: ASCII digits only.
fn decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| match b {
        b'0'..=b'9' => n.checked_mul(10)?.checked_add(u64::from(b - b'0')),
        _ => None,
    })
}

/// httparse trims spaces and tabs around a header value.
fn trim_whitespace(value: &[u8]) -> &[u8] {
    let is_space = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value
        .iter()
        .position(|b| !is_space(b))
        .unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_space(b))
        .map_or(start, |i| i + 1);
    &value[start..end]
}

fn starts_with_ignore_case(bytes: &[u8], prefix: &[u8]) -> bool {
    bytes
        .get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use std::task::Waker;

    /// A reader that hands out the given chunks one read at a time.
    struct Chunks(std::collections::VecDeque<Vec<u8>>);

    impl AsyncRead for Chunks {
        fn poll_read(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let this = self.get_mut();
            if let Some(mut chunk) = this.0.pop_front() {
                let n = chunk.len().min(buf.remaining());
                buf.put_slice(&chunk[..n]);
                if n < chunk.len() {
                    this.0.push_front(chunk.split_off(n));
                }
            }
            Poll::Ready(Ok(()))
        }
    }

    /// What hyper would read from `input` arriving in `chunk`-byte pieces,
    /// through reads of `read`-byte buffers. `Chunks` is always ready, so no
    /// runtime is needed.
    fn through(input: &[u8], chunk: usize, read: usize) -> Vec<u8> {
        let chunks = input.chunks(chunk.max(1)).map(<[u8]>::to_vec).collect();
        let mut stream = LongUriStream::new(Chunks(chunks));
        let mut cx = Context::from_waker(Waker::noop());
        let mut out = Vec::new();
        let mut buf = vec![0; read.max(1)];
        loop {
            let mut read_buf = ReadBuf::new(&mut buf);
            match Pin::new(&mut stream).poll_read(&mut cx, &mut read_buf) {
                Poll::Ready(Ok(())) if read_buf.filled().is_empty() => return out,
                Poll::Ready(Ok(())) => out.extend_from_slice(read_buf.filled()),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// The same output however the input is split and read.
    fn check(input: &[u8], expected: &[u8]) {
        for chunk in [1, 2, 3, 7, 100, 4096, usize::MAX] {
            for read in [1, 5, 64, 8192, 1 << 20] {
                let got = through(input, chunk.min(input.len()), read);
                assert_eq!(
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(expected),
                    "chunk {chunk}, read {read}"
                );
            }
        }
    }

    fn long_query() -> String {
        let mut query = String::from("Action=SendFile&Content=");
        while query.len() <= MAX_TARGET_LEN {
            query.push_str("%E4%B8%AD");
        }
        query
    }

    #[test]
    fn short_requests_pass_unchanged() {
        let input = b"\r\nPOST /?a=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nb=2&cGET / HTTP/1.1\nhost: y\n\n";
        check(input, input);
    }

    #[test]
    fn a_long_query_moves_into_the_header_and_keep_alive_continues() {
        let query = long_query();
        let input = format!(
            "GET /?x=1 HTTP/1.1\r\n\r\n\
             POST /?{query}#frag HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc\
             GET /?y=2 HTTP/1.1\r\n\r\n"
        );
        let expected = format!(
            "GET /?x=1 HTTP/1.1\r\n\r\n\
             POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n{QUERY_HEADER}: {query}\r\n\r\nabc\
             GET /?y=2 HTTP/1.1\r\n\r\n"
        );
        check(input.as_bytes(), expected.as_bytes());
    }

    #[test]
    fn a_body_that_looks_like_a_head_is_not_rewritten() {
        let body = format!(
            "GET /?{} HTTP/1.1\r\n{QUERY_HEADER}: a\r\n\r\n",
            long_query()
        );
        let input = format!(
            "POST / HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        check(input.as_bytes(), input.as_bytes());
    }

    #[test]
    fn client_sent_query_headers_are_dropped() {
        let input = format!(
            "GET /?a=1 HTTP/1.1\r\n{QUERY_HEADER}: Action=Evil\r\nX-CASIM-QUERY:b\nHost: x\r\n\r\n"
        );
        check(input.as_bytes(), b"GET /?a=1 HTTP/1.1\r\nHost: x\r\n\r\n");
    }

    #[test]
    fn chunked_requests_close_the_connection_and_pass_through() {
        let after = format!(
            "GET /?{} HTTP/1.1\r\n{QUERY_HEADER}: a\r\n\r\n",
            long_query()
        );
        let input = format!(
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n{after}"
        );
        let expected = format!(
            "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nconnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n{after}"
        );
        check(input.as_bytes(), expected.as_bytes());
    }

    #[test]
    fn targets_hyper_would_refuse_keep_their_query() {
        let query = long_query();
        for target in [
            format!("/?{query}<"),
            format!("*?{query}"),
            format!("/#x?{query}"),
            format!("/?{query}\u{7f}"),
            "/".repeat(MAX_TARGET_LEN + 1),
        ] {
            let input = format!("GET {target} HTTP/1.1\r\n\r\n");
            check(input.as_bytes(), input.as_bytes());
        }
        let mut input = format!("GET /?{query}").into_bytes();
        input.push(0xFF);
        input.extend_from_slice(b" HTTP/1.1\r\n\r\n");
        check(&input, &input);
    }

    #[test]
    fn an_endless_head_is_passed_on_at_the_cap() {
        let input = vec![b'a'; HEAD_CAP * 2];
        let got = through(&input, 60_000, 8192);
        assert_eq!(got, input);
    }

    #[test]
    fn unreadable_heads_pass_the_rest_through() {
        let input = format!(
            "GET / HTTP/1.1\r\nContent-Length: x\r\n\r\nGET /?{} HTTP/1.1\r\n\r\n",
            long_query()
        );
        check(input.as_bytes(), input.as_bytes());
    }

    #[test]
    fn no_panic_on_arbitrary_bytes() {
        // A fixed xorshift stream, salted with the bytes heads are made of.
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let alphabet = b"\r\n :?#/GETPOST HTTP/1.1content-lengthx-casim-query0123456789\x00\xff";
        for round in 0..200 {
            let len = (round * 37) % 3000;
            let input: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let pick = (state % (alphabet.len() as u64 + 8)) as usize;
                    alphabet.get(pick).copied().unwrap_or(state as u8)
                })
                .collect();
            let _ = through(&input, 1 + round % 11, 1 + round % 97);
        }
    }

    #[test]
    fn the_relocated_query_gives_the_same_query() {
        let target = format!("/?{}", long_query());
        let request = format!("POST {target} HTTP/1.1\r\n\r\n");
        let Examined::Rewrite(plan) = analyse(request.as_bytes()) else {
            panic!("not rewritten");
        };
        let head = plan.rewrite(request.as_bytes());
        let text = String::from_utf8(head.to_vec()).expect("utf-8");
        let value = text
            .lines()
            .find_map(|line| line.strip_prefix("x-casim-query: "))
            .expect("header");
        let mut headers = HeaderMap::new();
        headers.insert(QUERY_HEADER, HeaderValue::from_str(value).expect("value"));
        let uri: Uri = "/".parse().expect("uri");
        assert_eq!(query(&uri, &headers), Some(&target[2..]));
        // The URI's own query wins over the header.
        let uri: Uri = "/?a=1".parse().expect("uri");
        assert_eq!(query(&uri, &headers), Some("a=1"));
    }
}
