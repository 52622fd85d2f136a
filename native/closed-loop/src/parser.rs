// An incremental HTTP/1.1 response reader: each response's status and where its body ends
// (Content-Length, chunked, or the connection's close), never the body itself. It is a
// port of harness/load/http1-response-parser.ts, rule for rule, so both engines frame the
// same bytes the same way; harness/load/native-closed-loop.test.ts feeds both the same
// reads (this binary's `parse` mode) and compares what they report.

const CR: u8 = 13;
const LF: u8 = 10;
/** A response head larger than this is refused. */
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/** A chunk-size line longer than this is refused. */
pub const MAX_CHUNK_LINE_BYTES: usize = 4 * 1024;
/** Hex digits of a chunk size (the TypeScript parser's limit: 16^13 < 2^53). */
const MAX_CHUNK_SIZE_DIGITS: u32 = 13;
/** Content-Length values above this are not safe integers in the TypeScript parser: read until close there, and here. */
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResponseEnd {
    pub status: u16,
    /** The server said Connection: close (or spoke HTTP/1.0 without keep-alive). */
    pub close: bool,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CloseOutcome {
    /** The close completed a response delimited by it. */
    Ended,
    /** No response had begun. */
    Idle,
    /** A response had begun and was cut short. */
    Cut,
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Head,
    Body,
    ChunkSize,
    ChunkData,
    ChunkDataCr,
    ChunkDataLf,
    Trailers,
}

#[derive(Clone, Copy, PartialEq)]
enum BodyMode {
    Length,
    Chunked,
    UntilClose,
}

#[derive(Clone, Copy, PartialEq)]
enum ChunkLine {
    Digits,
    Space,
    Extension,
    Cr,
}

pub struct Parser {
    state: State,
    /** Bytes of a head split over reads. */
    head: Option<Vec<u8>>,
    status: u16,
    close: bool,
    body_mode: BodyMode,
    remaining: u64,
    chunk_line: ChunkLine,
    chunk_size: u64,
    chunk_size_digits: u32,
    chunk_line_bytes: usize,
    trailer_line_bytes: usize,
}

fn lower(byte: u8) -> u8 {
    if byte.is_ascii_uppercase() { byte | 0x20 } else { byte }
}

fn is_whitespace(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

fn hex_digit(byte: u8) -> Option<u64> {
    (byte as char).to_digit(16).map(u64::from)
}

/** The line at `line` is the header `name` (lower-case) followed by a colon. */
fn name_is(buf: &[u8], line: usize, end: usize, name: &[u8]) -> bool {
    if end - line <= name.len() || buf[line + name.len()] != b':' {
        return false;
    }
    (0..name.len()).all(|i| lower(buf[line + i]) == name[i])
}

/** A decimal between optional whitespace (at most 16 digits); -2 when it is not one. */
fn decimal(buf: &[u8], from: usize, to: usize) -> i64 {
    let mut value: i64 = 0;
    let mut digits = 0;
    for &byte in &buf[from..to] {
        if byte.is_ascii_digit() {
            if digits > 15 {
                return -2;
            }
            value = value * 10 + i64::from(byte - b'0');
            digits += 1;
        } else if !is_whitespace(byte) {
            return -2;
        }
    }
    if digits > 0 { value } else { -2 }
}

/** A Content-Length value, or a list of the same value repeated; -2 when malformed, -3 when the list differs. */
fn content_length_value(buf: &[u8], from: usize, to: usize) -> i64 {
    let mut value = -1;
    let mut start = from;
    for i in from..=to {
        if i == to || buf[i] == b',' {
            let element = decimal(buf, start, i);
            if element < 0 {
                return -2;
            }
            if value >= 0 && element != value {
                return -3;
            }
            value = element;
            start = i + 1;
        }
    }
    value
}

fn trim(buf: &[u8], mut a: usize, mut b: usize) -> (usize, usize) {
    while a < b && is_whitespace(buf[a]) {
        a += 1;
    }
    while b > a && is_whitespace(buf[b - 1]) {
        b -= 1;
    }
    (a, b)
}

fn equals_lower(buf: &[u8], a: usize, b: usize, token: &[u8]) -> bool {
    b - a == token.len() && (0..token.len()).all(|k| lower(buf[a + k]) == token[k])
}

/** The comma-separated list in buf[from, to) has `token` (lower-case) as an element. */
fn contains_token(buf: &[u8], from: usize, to: usize, token: &[u8]) -> bool {
    let mut start = from;
    for i in from..=to {
        if i == to || buf[i] == b',' {
            let (a, b) = trim(buf, start, i);
            if equals_lower(buf, a, b, token) {
                return true;
            }
            start = i + 1;
        }
    }
    false
}

/** The list's last element is `token` (Transfer-Encoding: the final coding decides the framing). */
fn ends_with_token(buf: &[u8], from: usize, to: usize, token: &[u8]) -> bool {
    let mut b = to;
    while b > from && is_whitespace(buf[b - 1]) {
        b -= 1;
    }
    if b < from + token.len() {
        return false;
    }
    let a = b - token.len();
    if a > from && buf[a - 1] != b' ' && buf[a - 1] != b',' && buf[a - 1] != b'\t' {
        return false;
    }
    equals_lower(buf, a, b, token)
}

fn excerpt(buf: &[u8], from: usize, to: usize) -> String {
    String::from_utf8_lossy(&buf[from..to.min(from + 40)]).into_owned()
}

impl Default for Parser {
    fn default() -> Self {
        Self::new()
    }
}

impl Parser {
    pub fn new() -> Parser {
        Parser {
            state: State::Head,
            head: None,
            status: 0,
            close: false,
            body_mode: BodyMode::Length,
            remaining: 0,
            chunk_line: ChunkLine::Digits,
            chunk_size: 0,
            chunk_size_digits: 0,
            chunk_line_bytes: 0,
            trailer_line_bytes: 0,
        }
    }

    /**
     * Feeds bytes received from the socket; calls on_end per complete response, in order,
     * until it returns false (the caller dropped the connection). Err on a malformed response.
     */
    pub fn push(&mut self, data: &[u8], on_end: &mut dyn FnMut(ResponseEnd) -> bool) -> Result<(), String> {
        let end = data.len();
        let mut at = 0;
        while at < end {
            match self.state {
                State::Head => {
                    let Some(next) = self.read_head(data, at)? else { return Ok(()) };
                    at = next;
                    if self.state == State::Body && self.body_mode == BodyMode::Length && self.remaining == 0 && !self.finish(on_end) {
                        return Ok(());
                    }
                }
                State::Body => {
                    if self.body_mode == BodyMode::UntilClose {
                        return Ok(());
                    }
                    let take = self.remaining.min((end - at) as u64);
                    self.remaining -= take;
                    at += take as usize;
                    if self.remaining == 0 && !self.finish(on_end) {
                        return Ok(());
                    }
                }
                State::ChunkSize => {
                    let byte = data[at];
                    at += 1;
                    if self.chunk_size_byte(byte)? {
                        let size = self.chunk_size;
                        self.start_chunk_line();
                        if size == 0 {
                            self.state = State::Trailers;
                            self.trailer_line_bytes = 0;
                        } else {
                            self.remaining = size;
                            self.state = State::ChunkData;
                        }
                    }
                }
                State::ChunkData => {
                    let take = self.remaining.min((end - at) as u64);
                    self.remaining -= take;
                    at += take as usize;
                    if self.remaining == 0 {
                        self.state = State::ChunkDataCr;
                    }
                }
                State::ChunkDataCr | State::ChunkDataLf => {
                    let expected = if self.state == State::ChunkDataCr { CR } else { LF };
                    let byte = data[at];
                    at += 1;
                    if byte != expected {
                        return Err("chunk data not followed by CRLF (a chunk longer than its size?)".into());
                    }
                    self.state = if self.state == State::ChunkDataCr { State::ChunkDataLf } else { State::ChunkSize };
                }
                State::Trailers => {
                    let byte = data[at];
                    at += 1;
                    if byte == LF {
                        if self.trailer_line_bytes == 0 {
                            if !self.finish(on_end) {
                                return Ok(());
                            }
                        } else {
                            self.trailer_line_bytes = 0;
                        }
                    } else if byte != CR {
                        self.trailer_line_bytes += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /** The connection closed: completes a response delimited by the close. */
    pub fn closed(&mut self, on_end: &mut dyn FnMut(ResponseEnd) -> bool) -> CloseOutcome {
        if self.state == State::Body && self.body_mode == BodyMode::UntilClose {
            self.finish(on_end);
            return CloseOutcome::Ended;
        }
        if self.state == State::Head && self.head.is_none() { CloseOutcome::Idle } else { CloseOutcome::Cut }
    }

    fn start_chunk_line(&mut self) {
        self.chunk_line = ChunkLine::Digits;
        self.chunk_size = 0;
        self.chunk_size_digits = 0;
        self.chunk_line_bytes = 0;
    }

    /** One byte of a chunk-size line (`1*HEXDIG [ BWS ";" ext ] CRLF`); true at its end. */
    fn chunk_size_byte(&mut self, byte: u8) -> Result<bool, String> {
        self.chunk_line_bytes += 1;
        if self.chunk_line_bytes > MAX_CHUNK_LINE_BYTES {
            return Err(format!("chunk size line longer than {MAX_CHUNK_LINE_BYTES} bytes"));
        }
        if byte == LF {
            if self.chunk_size_digits == 0 {
                return Err("bad chunk size: no hex digits".into());
            }
            return Ok(true);
        }
        if self.chunk_line == ChunkLine::Cr {
            return Err("bad chunk size line: CR not followed by LF".into());
        }
        if byte == CR {
            self.chunk_line = ChunkLine::Cr;
            return Ok(false);
        }
        match self.chunk_line {
            ChunkLine::Digits => {
                if let Some(value) = hex_digit(byte) {
                    self.chunk_size_digits += 1;
                    if self.chunk_size_digits > MAX_CHUNK_SIZE_DIGITS {
                        return Err(format!("bad chunk size: more than {MAX_CHUNK_SIZE_DIGITS} hex digits"));
                    }
                    self.chunk_size = self.chunk_size * 16 + value;
                    return Ok(false);
                }
                if self.chunk_size_digits > 0 && (byte == b';' || is_whitespace(byte)) {
                    self.chunk_line = if byte == b';' { ChunkLine::Extension } else { ChunkLine::Space };
                    return Ok(false);
                }
                Err(format!("bad chunk size: byte 0x{byte:x} after {} hex digits", self.chunk_size_digits))
            }
            ChunkLine::Space => {
                if byte == b';' {
                    self.chunk_line = ChunkLine::Extension;
                } else if !is_whitespace(byte) {
                    return Err(format!("bad chunk size: byte 0x{byte:x} where \";\" or the line's end belongs"));
                }
                Ok(false)
            }
            _ => Ok(false),
        }
    }

    fn finish(&mut self, on_end: &mut dyn FnMut(ResponseEnd) -> bool) -> bool {
        self.state = State::Head;
        on_end(ResponseEnd { status: self.status, close: self.close })
    }

    /** Reads the head; Some(index in data after it), or None while it is incomplete. */
    fn read_head(&mut self, data: &[u8], start: usize) -> Result<Option<usize>, String> {
        match self.head.take() {
            None => {
                if let Some(next) = self.parse_head(data, start)? {
                    return Ok(Some(next));
                }
                if data.len() - start > MAX_HEAD_BYTES {
                    return Err(format!("response head longer than {MAX_HEAD_BYTES} bytes"));
                }
                self.head = Some(data[start..].to_vec());
                Ok(None)
            }
            Some(mut pending) => {
                let before = pending.len();
                pending.extend_from_slice(&data[start..]);
                match self.parse_head(&pending, 0)? {
                    None => {
                        if pending.len() > MAX_HEAD_BYTES {
                            return Err(format!("response head longer than {MAX_HEAD_BYTES} bytes"));
                        }
                        self.head = Some(pending);
                        Ok(None)
                    }
                    Some(next) => Ok(Some(start + next - before)),
                }
            }
        }
    }

    /** Parses a head from buf[from] to the first CRLF CRLF; the index after it, or None (nothing changed) if incomplete. */
    fn parse_head(&mut self, buf: &[u8], from: usize) -> Result<Option<usize>, String> {
        let end = buf.len();
        let mut content_length: i64 = -1;
        let mut transfer_encoding = false;
        let mut chunked = false;
        let mut close = false;
        let mut keep_alive = false;
        let mut line: Option<usize> = None;
        let mut to: Option<usize> = None;
        for i in from..end {
            if buf[i] != LF {
                continue;
            }
            if i >= from + 3 && buf[i - 1] == CR && buf[i - 2] == LF && buf[i - 3] == CR {
                to = Some(i - 3);
                break;
            }
            if let Some(line) = line {
                let value_end = if buf[i - 1] == CR { i - 1 } else { i };
                let first = buf[line] | 0x20;
                if first == b'c' && name_is(buf, line, value_end, b"content-length") {
                    let value = content_length_value(buf, line + 15, value_end);
                    if content_length == -1 {
                        content_length = value;
                    } else if content_length >= 0 {
                        content_length = if value < 0 || value == content_length { value } else { -3 };
                    }
                } else if first == b't' && name_is(buf, line, value_end, b"transfer-encoding") {
                    transfer_encoding = true;
                    chunked = ends_with_token(buf, line + 18, value_end, b"chunked");
                } else if first == b'c' && name_is(buf, line, value_end, b"connection") {
                    close |= contains_token(buf, line + 11, value_end, b"close");
                    keep_alive |= contains_token(buf, line + 11, value_end, b"keep-alive");
                }
            }
            line = Some(i + 1);
        }
        let Some(to) = to else { return Ok(None) };
        if to - from < 12 || !buf[from..].starts_with(b"HTTP/1.") {
            return Err(format!("not an HTTP/1.x response: {:?}", excerpt(buf, from, to)));
        }
        let digits = &buf[from + 9..from + 12];
        if !digits.iter().all(u8::is_ascii_digit) || digits[0] == b'0' {
            return Err(format!("bad status line {:?}", excerpt(buf, from, to)));
        }
        let status = digits.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
        let http10 = buf[from + 7] == b'0';
        if transfer_encoding {
            content_length = -1;
        } else if content_length == -2 {
            return Err("bad Content-Length".into());
        } else if content_length == -3 {
            return Err("differing Content-Length values".into());
        }
        self.status = status;
        self.close = close || (http10 && !keep_alive);
        if status < 200 {
            // 1xx: an interim response; the real one follows.
            self.state = State::Head;
            self.status = 0;
            return Ok(Some(to + 4));
        }
        if status == 204 || status == 304 {
            self.body_mode = BodyMode::Length;
            self.remaining = 0;
            self.state = State::Body;
        } else if transfer_encoding && chunked {
            self.body_mode = BodyMode::Chunked;
            self.start_chunk_line();
            self.state = State::ChunkSize;
        } else if (0..=MAX_SAFE_INTEGER).contains(&content_length) {
            self.body_mode = BodyMode::Length;
            self.remaining = content_length as u64;
            self.state = State::Body;
        } else {
            self.body_mode = BodyMode::UntilClose;
            self.close = true;
            self.state = State::Body;
        }
        Ok(Some(to + 4))
    }
}
