// sidecar-bench's closed-loop engine: N keep-alive HTTP/1.1 connections, each sending its
// next request as soon as the previous one is answered, timed per exchange (request written →
// response complete) in whole microseconds. The same loop as harness/load/closed-loop.ts,
// whose rules it follows (counts, errors, timeouts, reconnects, the end of a trial); it is
// native because on this project's 2-core machines the Node engine spent ~1.2× the CPU per
// request of a bare client (JS work per response: parse, clock, tally, stream glue), which
// left it at ≈ 0.85× wrk's CPU efficiency; one epoll loop in a native binary does what wrk
// does per request. Written by hand on libc's epoll: an HTTP client library (hyper, ureq)
// would parse and allocate per response — the cost this engine exists to avoid — and would
// not frame bytes exactly as the TypeScript engine does (src/parser.rs is a port of its parser).
//
//   sidecar-bench-closed-loop run --host H --port P --connections N --duration-ms D
//       --max-requests M --timeout-ms T --request-bytes B
//     reads B bytes (the request, sent unchanged each time) from stdin, runs, and writes one
//     JSON object to stdout. Any later byte on stdin, or its end (the harness went away),
//     stops the run at once: requests in flight are then not counted.
//   sidecar-bench-closed-loop parse
//     the parser alone, for parity tests: stdin holds reads framed as a u32 little-endian
//     length and that many bytes (length 0xFFFFFFFF: the connection closed); stdout gets a
//     line per event: "end <status> <close 0|1>", "closed <idle|cut|ended>", "error <message>".
mod engine;
mod parser;

use std::io::{Read, Write};
use std::os::fd::FromRawFd;

fn fail(message: &str) -> ! {
    eprintln!("sidecar-bench-closed-loop: {message}");
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("parse") => parse(),
        _ => fail("usage: sidecar-bench-closed-loop run --host H --port P --connections N --duration-ms D --max-requests M --timeout-ms T --request-bytes B | parse"),
    }
}

fn run(args: &[String]) {
    let value = |name: &str| -> String {
        let at = args.iter().position(|a| a == name).unwrap_or_else(|| fail(&format!("{name} is required")));
        args.get(at + 1).cloned().unwrap_or_else(|| fail(&format!("{name} needs a value")))
    };
    let number = |name: &str| -> u64 { value(name).parse().unwrap_or_else(|_| fail(&format!("{name} must be a whole number ≥ 0"))) };
    let options = engine::Options {
        host: value("--host"),
        port: u16::try_from(number("--port")).unwrap_or_else(|_| fail("--port must be ≤ 65535")),
        connections: number("--connections") as usize,
        duration_ms: number("--duration-ms"),
        max_requests: number("--max-requests"),
        timeout_ms: number("--timeout-ms"),
    };
    if options.connections < 1 || options.max_requests < options.connections as u64 || options.duration_ms < 1 || options.timeout_ms < 1 {
        fail("--connections, --duration-ms and --timeout-ms must be ≥ 1, and --max-requests ≥ --connections");
    }
    // Ctrl-C in a terminal (and a CI runner's SIGTERM to the group) reaches this process too:
    // the harness decides what an interruption stops and tells the engine on stdin, so the
    // trial's counts come back instead of the engine dying under it. A harness that dies
    // closes stdin, which stops the engine as well.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGTERM, libc::SIG_IGN);
    }
    let mut request = vec![0u8; number("--request-bytes") as usize];
    // Unbuffered (std's Stdin reads ahead): bytes after the request are the stop signal, and
    // must stay in the pipe for the engine's epoll to see them.
    // SAFETY: fd 0 stays open; ManuallyDrop keeps this File from closing it.
    let mut stdin = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(0) });
    if stdin.read_exact(&mut request).is_err() {
        fail("stdin ended before the request's bytes");
    }
    let result = engine::run(&options, &request).unwrap_or_else(|e| fail(&e));
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(result.to_json().as_bytes());
    let _ = out.flush();
}

fn parse() {
    let mut input = Vec::new();
    if std::io::stdin().read_to_end(&mut input).is_err() {
        fail("could not read stdin");
    }
    let mut parser = parser::Parser::new();
    let mut lines = String::new();
    let mut at = 0;
    while at + 4 <= input.len() {
        let length = u32::from_le_bytes(input[at..at + 4].try_into().unwrap());
        at += 4;
        let mut on_end = |end: parser::ResponseEnd| {
            lines.push_str(&format!("end {} {}\n", end.status, u8::from(end.close)));
            true
        };
        if length == u32::MAX {
            let outcome = parser.closed(&mut on_end);
            lines.push_str(&format!("closed {}\n", format!("{outcome:?}").to_lowercase()));
            parser = parser::Parser::new();
            continue;
        }
        let to = (at + length as usize).min(input.len());
        if let Err(message) = parser.push(&input[at..to], &mut on_end) {
            lines.push_str(&format!("error {message}\n"));
            break;
        }
        at = to;
    }
    print!("{lines}");
}
