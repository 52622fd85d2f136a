// The closed loop itself: one thread, one epoll set (level-triggered) holding every
// connection and stdin (the harness's stop signal), timers folded into epoll_wait's timeout.
// Its rules are harness/load/closed-loop.ts's, so a trial means the same on either engine:
// only 2xx answers are timed; a non-2xx status is counted by code; a request unanswered
// for timeout_ms counts "timeout" and its connection is replaced; a connection that fails
// or closes with a request out counts "connection" and is reopened after 10 ms; the trial
// ends at duration_ms (requests in flight are not counted) or once max_requests are answered.
use crate::parser::{CloseOutcome, Parser, ResponseEnd};
use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub struct Options {
    pub host: String,
    pub port: u16,
    pub connections: usize,
    pub duration_ms: u64,
    pub max_requests: u64,
    pub timeout_ms: u64,
}

pub struct Outcome {
    started_at_unix_ms: u128,
    duration_ms: f64,
    requests: u64,
    ok: u64,
    errors: BTreeMap<String, u64>,
    latency: Tally,
}

/** Bytes each read takes at most (one buffer for all connections: reads are handled one at a time). */
const READ_BUFFER_BYTES: usize = 64 * 1024;
const RECONNECT_DELAY: Duration = Duration::from_millis(10);
const STDIN_TOKEN: u64 = u64::MAX;
/** Latencies below this many µs are counted in an array; longer ones (rare) in a map. */
const TALLIED_BELOW_US: usize = 65_536;

/** Whole-microsecond latencies and their counts (the harness records them into its HDR histogram). */
struct Tally {
    counts: Vec<u64>,
    long: BTreeMap<u64, u64>,
}

impl Tally {
    fn record(&mut self, elapsed: Duration) {
        // Rounded to the nearest µs, at least 1: the TypeScript engine's recordMs.
        let us = ((elapsed.as_nanos() + 500) / 1000).max(1) as u64;
        if (us as usize) < TALLIED_BELOW_US {
            self.counts[us as usize] += 1;
        } else {
            *self.long.entry(us).or_insert(0) += 1;
        }
    }
}

struct Conn {
    /** -1 while closed (between a failure and the reopen). */
    fd: i32,
    /**
     * Bumped whenever the socket is closed: "is this still the connection I was handling?"
     * (the kernel gives a new socket the number the old one just freed, so fds cannot tell).
     */
    generation: u64,
    /** Writable events are asked for (while connecting, or a request is partly written). */
    out_armed: bool,
    /** Which of the target's addresses this connection tries (the next one after a failed connect). */
    address: usize,
    parser: Parser,
    connected: bool,
    in_flight: bool,
    sent_at: Instant,
    /** Bytes of the current request written so far (a large body may take several writes). */
    written: usize,
    reopen_at: Option<Instant>,
}

struct Engine<'a> {
    options: &'a Options,
    /** The target's addresses, in the resolver's order: each is tried in turn, as Node's connect does. */
    addresses: Vec<SocketAddr>,
    request: &'a [u8],
    epoll: i32,
    conns: Vec<Conn>,
    /** Connections with a reopen time set (reopen_at is Some). */
    reopens_waiting: usize,
    /** One read buffer for all connections: reads are handled one at a time. */
    buffer: Vec<u8>,
    ends: Vec<ResponseEnd>,
    requests: u64,
    ok: u64,
    sent: u64,
    errors: BTreeMap<String, u64>,
    latency: Tally,
    last_response: Option<Instant>,
    stopped: bool,
    finished: bool,
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn count(errors: &mut BTreeMap<String, u64>, kind: &str) {
    *errors.entry(kind.to_string()).or_insert(0) += 1;
}

pub fn run(options: &Options, request: &[u8]) -> Result<Outcome, String> {
    let addresses: Vec<SocketAddr> = (options.host.as_str(), options.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}:{}: {e}", options.host, options.port))?
        .collect();
    if addresses.is_empty() {
        return Err(format!("{} has no address", options.host));
    }
    // SAFETY: plain syscalls on descriptors this process owns.
    let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if epoll < 0 {
        return Err(format!("epoll_create1 failed: errno {}", errno()));
    }
    let now = Instant::now();
    let mut engine = Engine {
        options,
        addresses,
        request,
        epoll,
        conns: (0..options.connections)
            .map(|_| Conn {
                fd: -1,
                generation: 0,
                out_armed: false,
                address: 0,
                parser: Parser::new(),
                connected: false,
                in_flight: false,
                sent_at: now,
                written: 0,
                reopen_at: None,
            })
            .collect(),
        reopens_waiting: 0,
        buffer: vec![0; READ_BUFFER_BYTES],
        ends: Vec::with_capacity(4),
        requests: 0,
        ok: 0,
        sent: 0,
        errors: BTreeMap::new(),
        latency: Tally { counts: vec![0; TALLIED_BELOW_US], long: BTreeMap::new() },
        last_response: None,
        stopped: false,
        finished: false,
    };
    // The harness's stop signal; without it a dying harness could not stop the engine.
    let mut event = libc::epoll_event { events: libc::EPOLLIN as u32, u64: STDIN_TOKEN };
    if unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, 0, &mut event) } < 0 {
        return Err(format!("cannot watch stdin (the stop signal): errno {}", errno()));
    }
    let started_at_unix_ms = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    let start = Instant::now();
    for i in 0..engine.conns.len() {
        engine.open(i);
    }
    let waited = engine.run_until_done(start);
    if let Err(e) = waited {
        unsafe { libc::close(epoll) };
        return Err(e);
    }
    let end = engine.last_response.unwrap_or_else(Instant::now);
    unsafe { libc::close(epoll) };
    Ok(Outcome {
        started_at_unix_ms,
        duration_ms: end.duration_since(start).as_secs_f64() * 1000.0,
        requests: engine.requests,
        ok: engine.ok,
        errors: engine.errors,
        latency: engine.latency,
    })
}

impl Engine<'_> {
    fn run_until_done(&mut self, start: Instant) -> Result<(), String> {
        let deadline = start + Duration::from_millis(self.options.duration_ms);
        // One sweep for all request timeouts instead of a timer per request (as closed-loop.ts).
        let sweep = Duration::from_millis(self.options.timeout_ms.div_ceil(4).clamp(10, 250));
        let mut next_sweep = start + sweep;
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
        while !self.finished {
            let now = Instant::now();
            if now >= deadline {
                self.stop();
                break;
            }
            if now >= next_sweep {
                self.check_timeouts(now);
                next_sweep = now + sweep;
            }
            let mut wake = deadline.min(next_sweep);
            // Only after a failure: the loop's usual pass does not walk the connections.
            if self.reopens_waiting > 0 {
                wake = wake.min(self.reopen_due(now));
            }
            // Rounded up: waking a little late is harmless, early would spin.
            let wait_ms = wake.saturating_duration_since(now).as_micros().div_ceil(1000) as i32;
            let n = unsafe { libc::epoll_wait(self.epoll, events.as_mut_ptr(), events.len() as i32, wait_ms) };
            if n < 0 {
                let e = errno();
                if e == libc::EINTR {
                    continue;
                }
                // Not a trial cut short in silence: the harness reports the failure.
                self.stop();
                return Err(format!("epoll_wait failed: errno {e}"));
            }
            for event in &events[..n as usize] {
                let (token, flags) = (event.u64, event.events);
                if token == STDIN_TOKEN {
                    self.stop();
                    break;
                }
                self.on_event(token as usize, flags);
                if self.finished {
                    break;
                }
            }
        }
        Ok(())
    }

    fn watch(&self, fd: i32, token: u64, flags: u32, op: i32) {
        let mut event = libc::epoll_event { events: flags, u64: token };
        unsafe { libc::epoll_ctl(self.epoll, op, fd, &mut event) };
    }

    fn open(&mut self, i: usize) {
        if self.stopped {
            return;
        }
        let c = &mut self.conns[i];
        c.parser = Parser::new();
        c.connected = false;
        if c.reopen_at.take().is_some() {
            self.reopens_waiting -= 1;
        }
        let c = &mut self.conns[i];
        let address = self.addresses[c.address];
        let family = if address.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
        let fd = unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            self.fail_open(i);
            return;
        }
        let one: libc::c_int = 1;
        unsafe { libc::setsockopt(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, (&one as *const libc::c_int).cast(), std::mem::size_of::<libc::c_int>() as u32) };
        let status = connect(fd, &address);
        if status < 0 && errno() != libc::EINPROGRESS {
            unsafe { libc::close(fd) };
            self.fail_open(i);
            return;
        }
        self.conns[i].fd = fd;
        self.conns[i].out_armed = true;
        // Writable once connected (or failed); then only readable, unless a write is pending.
        self.watch(fd, i as u64, (libc::EPOLLIN | libc::EPOLLOUT) as u32, libc::EPOLL_CTL_ADD);
    }

    /**
     * A connection that could not be made: the target's next address at once, if it has one
     * (a name may resolve to ::1 and 127.0.0.1); after the last, counted (no request could go
     * out) and retried from the first in 10 ms.
     */
    fn fail_open(&mut self, i: usize) {
        let c = &mut self.conns[i];
        if c.address + 1 < self.addresses.len() {
            c.address += 1;
            self.open(i);
            return;
        }
        c.address = 0;
        count(&mut self.errors, "connection");
        self.reopen_later(i);
    }

    /** Opens the connections whose reopen time has come; the earliest time still ahead (or far away). */
    fn reopen_due(&mut self, now: Instant) -> Instant {
        let mut next = now + Duration::from_secs(3600);
        for i in 0..self.conns.len() {
            if self.conns[i].reopen_at.is_some_and(|at| at <= now) {
                self.open(i); // which may fail at once and set a new reopen time
            }
            if let Some(at) = self.conns[i].reopen_at {
                next = next.min(at);
            }
        }
        next
    }

    /** The connection opens again in 10 ms (after a failure: a refused port is not a busy loop). */
    fn reopen_later(&mut self, i: usize) {
        if self.conns[i].reopen_at.replace(Instant::now() + RECONNECT_DELAY).is_none() {
            self.reopens_waiting += 1;
        }
    }

    fn on_event(&mut self, i: usize, flags: u32) {
        let fd = self.conns[i].fd;
        if fd < 0 {
            return;
        }
        if !self.conns[i].connected {
            let mut error: libc::c_int = 0;
            let mut length = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
            unsafe { libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_ERROR, (&mut error as *mut libc::c_int).cast(), &mut length) };
            if error != 0 {
                self.close_fd(i);
                self.fail_open(i);
                return;
            }
            if flags & libc::EPOLLOUT as u32 == 0 {
                return;
            }
            let c = &mut self.conns[i];
            c.connected = true;
            c.out_armed = false;
            self.watch(fd, i as u64, libc::EPOLLIN as u32, libc::EPOLL_CTL_MOD);
            self.send(i, Instant::now());
            return;
        }
        let generation = self.conns[i].generation;
        if flags & libc::EPOLLOUT as u32 != 0 {
            if self.conns[i].in_flight && self.conns[i].written < self.request.len() {
                self.write_more(i);
                if self.conns[i].generation != generation {
                    return;
                }
            } else if self.conns[i].out_armed {
                self.disarm_out(i);
            }
        }
        if flags & (libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLERR) as u32 != 0 {
            self.read(i);
        }
    }

    fn read(&mut self, i: usize) {
        let (fd, generation) = (self.conns[i].fd, self.conns[i].generation);
        let n = unsafe { libc::read(fd, self.buffer.as_mut_ptr().cast(), READ_BUFFER_BYTES) };
        if n < 0 {
            let e = errno();
            if e != libc::EAGAIN && e != libc::EINTR {
                self.failed(i);
            }
            return;
        }
        if n == 0 {
            self.closed(i);
            return;
        }
        let ends = &mut self.ends;
        ends.clear();
        // After an answer that closes the connection, later bytes are not read.
        let parsed = self.conns[i].parser.push(&self.buffer[..n as usize], &mut |end| {
            ends.push(end);
            !end.close
        });
        for k in 0..self.ends.len() {
            let end = self.ends[k];
            self.answered(i, end);
            if self.conns[i].generation != generation {
                return;
            }
        }
        if parsed.is_err() {
            // A malformed answer: counted as a connection error, the connection replaced.
            self.failed(i);
        }
    }

    fn answered(&mut self, i: usize, end: ResponseEnd) {
        let now = Instant::now();
        self.conns[i].in_flight = false;
        self.requests += 1;
        self.last_response = Some(now);
        if (200..300).contains(&end.status) {
            self.ok += 1;
            self.latency.record(now.duration_since(self.conns[i].sent_at));
        } else {
            count(&mut self.errors, &end.status.to_string());
        }
        // An answer before the request was written whole (a server refusing a large body
        // early): the rest of that request cannot go out, nor another after it, on this connection.
        if end.close || self.conns[i].written < self.request.len() {
            self.replace(i, false);
        } else {
            self.send(i, now);
        }
    }

    /** Writes the next request; `now`: the clock read just before (an answer's end is the next request's start). */
    fn send(&mut self, i: usize, now: Instant) {
        if self.stopped || self.sent >= self.options.max_requests || self.conns[i].fd < 0 {
            self.maybe_done();
            return;
        }
        self.sent += 1;
        let c = &mut self.conns[i];
        c.in_flight = true;
        c.sent_at = now;
        c.written = 0;
        self.write_more(i);
    }

    fn write_more(&mut self, i: usize) {
        let c = &mut self.conns[i];
        let fd = c.fd;
        let rest = &self.request[c.written..];
        let n = unsafe { libc::send(fd, rest.as_ptr().cast(), rest.len(), libc::MSG_NOSIGNAL) };
        if n < 0 {
            let e = errno();
            if e == libc::EAGAIN || e == libc::EINTR {
                self.arm_out(i);
            } else {
                self.failed(i);
            }
            return;
        }
        c.written += n as usize;
        // Writable events only while a request is partly written (level-triggered: left armed,
        // a writable socket would wake epoll_wait at every pass).
        if c.written < self.request.len() {
            self.arm_out(i);
        } else if c.out_armed {
            self.disarm_out(i);
        }
    }

    fn arm_out(&mut self, i: usize) {
        if !self.conns[i].out_armed {
            self.conns[i].out_armed = true;
            self.watch(self.conns[i].fd, i as u64, (libc::EPOLLIN | libc::EPOLLOUT) as u32, libc::EPOLL_CTL_MOD);
        }
    }

    fn disarm_out(&mut self, i: usize) {
        self.conns[i].out_armed = false;
        self.watch(self.conns[i].fd, i as u64, libc::EPOLLIN as u32, libc::EPOLL_CTL_MOD);
    }

    /** A failed request (if one was out, or the connection never came up), then a new connection in 10 ms. */
    fn failed(&mut self, i: usize) {
        let c = &mut self.conns[i];
        if c.in_flight && !self.stopped {
            count(&mut self.errors, "connection");
        }
        c.in_flight = false;
        self.replace(i, true);
    }

    /** The server closed: completes a close-delimited answer, else a request out got none ("connection"). */
    fn closed(&mut self, i: usize) {
        let generation = self.conns[i].generation;
        let mut end = None;
        let outcome = self.conns[i].parser.closed(&mut |e| {
            end = Some(e);
            true
        });
        if let Some(end) = end {
            self.answered(i, end);
        }
        if self.conns[i].generation != generation {
            return;
        }
        if self.conns[i].in_flight && outcome != CloseOutcome::Ended && !self.stopped {
            count(&mut self.errors, "connection");
        }
        self.conns[i].in_flight = false;
        self.replace(i, true);
    }

    fn replace(&mut self, i: usize, after_error: bool) {
        self.close_fd(i);
        if self.stopped {
            self.maybe_done();
        } else if after_error {
            self.reopen_later(i);
        } else {
            self.open(i);
        }
    }

    fn close_fd(&mut self, i: usize) {
        let c = &mut self.conns[i];
        if c.fd >= 0 {
            // Closing removes it from the epoll set (no other descriptor refers to the socket).
            unsafe { libc::close(c.fd) };
            c.fd = -1;
            c.generation += 1;
            c.out_armed = false;
        }
    }

    fn check_timeouts(&mut self, now: Instant) {
        let timeout = Duration::from_millis(self.options.timeout_ms);
        for i in 0..self.conns.len() {
            let c = &self.conns[i];
            if c.in_flight && c.fd >= 0 && now.duration_since(c.sent_at) >= timeout {
                count(&mut self.errors, "timeout");
                self.conns[i].in_flight = false;
                self.replace(i, false);
            }
        }
    }

    /** Ends the run once every request it may send has been answered. */
    fn maybe_done(&mut self) {
        if self.finished || (!self.stopped && self.sent < self.options.max_requests) {
            return;
        }
        if self.conns.iter().any(|c| c.in_flight) {
            return;
        }
        self.finish();
    }

    fn stop(&mut self) {
        self.stopped = true;
        self.finish();
    }

    fn finish(&mut self) {
        self.finished = true;
        self.stopped = true;
        for i in 0..self.conns.len() {
            self.conns[i].in_flight = false;
            self.close_fd(i);
        }
    }
}

fn connect(fd: i32, address: &SocketAddr) -> i32 {
    match address {
        SocketAddr::V4(v4) => {
            let raw = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(v4.ip().octets()) },
                sin_zero: [0; 8],
            };
            unsafe { libc::connect(fd, (&raw as *const libc::sockaddr_in).cast(), std::mem::size_of::<libc::sockaddr_in>() as u32) }
        }
        SocketAddr::V6(v6) => {
            let raw = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: v6.flowinfo(),
                sin6_addr: libc::in6_addr { s6_addr: v6.ip().octets() },
                sin6_scope_id: v6.scope_id(),
            };
            unsafe { libc::connect(fd, (&raw as *const libc::sockaddr_in6).cast(), std::mem::size_of::<libc::sockaddr_in6>() as u32) }
        }
    }
}

impl Outcome {
    pub fn to_json(&self) -> String {
        let errors: Vec<String> = self.errors.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        let mut latency: Vec<String> = Vec::new();
        for (us, &n) in self.latency.counts.iter().enumerate() {
            if n > 0 {
                latency.push(format!("[{us},{n}]"));
            }
        }
        latency.extend(self.latency.long.iter().map(|(us, n)| format!("[{us},{n}]")));
        format!(
            "{{\"startedAtUnixMs\":{},\"durationMs\":{},\"requests\":{},\"ok\":{},\"errors\":{{{}}},\"latencyUs\":[{}]}}\n",
            self.started_at_unix_ms,
            self.duration_ms,
            self.requests,
            self.ok,
            errors.join(","),
            latency.join(",")
        )
    }
}
