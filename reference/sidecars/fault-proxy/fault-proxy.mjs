#!/usr/bin/env node
// fault-proxy: a small, correct HTTP/1.1 reverse proxy sidecar in plain Node, and — with
// --fault <name> — the faulty fixtures that prove each conformance check can fail.
//
//   node fault-proxy.mjs --listen <port> --admin <port> --upstream <port> [--fault <name>]... [--delay-ms <n>]
//     [--fault-every <n>] [--fault-when <condition>]   (faults on some requests only: fault-gate.mjs)
//     [--tracing]                                      (a legitimate tracing proxy: tracing.mjs)
//     [--memory-mib <n>] [--leak-kib <n>] [--cpu-ms-per-request <x>]   (magnitudes of the resource faults)
//
// Without a fault it streams bodies both ways chunk by chunk, passes every header except
// hop-by-hop ones, keeps upstream statuses and bodies, reuses upstream connections, answers
// 502 {"error": …} when the upstream is unreachable, and on SIGTERM stops accepting,
// finishes in-flight requests and exits 0 (after 10 s at the latest).
// Admin port: GET /ready (200 once the listener is bound, 503 before and while draining),
// GET /stats (JSON counters). Everything binds to 127.0.0.1. One JSON line per event on stdout.
import { Agent, createServer, request as httpRequest } from "node:http";
import { parseArgs } from "node:util";
import { CONDITIONS, createGate, gateObserver, gatedFault } from "./fault-gate.mjs";
import { FAULTS, faultNames } from "./faults/index.mjs";
import { TRACING } from "./tracing.mjs";
import { detectRestart } from "./restart-marker.mjs";

const HOST = "127.0.0.1";
const DRAIN_DEADLINE_MS = 10_000;
/** Idle upstream connections are dropped well before uvicorn's 5 s keep-alive timeout, so a reused one is never half-closed. */
const UPSTREAM_IDLE_MS = 2_000;
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"]);

function usage(message) {
  process.stderr.write(
    `fault-proxy: ${message}\n` +
      "usage: node fault-proxy.mjs --listen <port> --admin <port> --upstream <port> [--fault <name>]... [--delay-ms <n>]\n" +
      "       [--fault-every <n>] [--fault-when <condition>] [--tracing]\n" +
      "       [--memory-mib <n>] [--leak-kib <n>] [--cpu-ms-per-request <x>]\n" +
      `faults: ${faultNames().join(", ")}; conditions: ${Object.keys(CONDITIONS).join(", ")}\n`,
  );
  process.exit(2);
}

function portOption(values, name) {
  const text = values[name];
  if (text === undefined) usage(`missing --${name} <port>`);
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) usage(`--${name}: expected a port number from 1 to 65535, got ${JSON.stringify(text)}`);
  return port;
}

/** The magnitude of a resource fault (fat-idle, leaky, cpu-burner), when given: a number > 0. */
function positiveOption(values, name) {
  const text = values[name];
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) usage(`--${name}: expected a number > 0, got ${JSON.stringify(text)}`);
  return value;
}

function parseCli(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        listen: { type: "string" },
        admin: { type: "string" },
        upstream: { type: "string" },
        fault: { type: "string", multiple: true },
        "delay-ms": { type: "string" },
        "fault-every": { type: "string" },
        "fault-when": { type: "string" },
        tracing: { type: "boolean" },
        "memory-mib": { type: "string" },
        "leak-kib": { type: "string" },
        "cpu-ms-per-request": { type: "string" },
      },
      strict: true,
    });
  } catch (error) {
    usage(error.message);
  }
  const { values } = parsed;
  const named = (values.fault ?? []).map((name) => FAULTS[name] ?? usage(`unknown fault ${JSON.stringify(name)}`));
  let gate;
  if (values["fault-every"] !== undefined || values["fault-when"] !== undefined) {
    if (named.length === 0) usage("--fault-every and --fault-when need a --fault to act on");
    try {
      gate = createGate({ every: values["fault-every"] === undefined ? 1 : Number(values["fault-every"]), when: values["fault-when"] });
    } catch (error) {
      usage(error.message);
    }
  }
  // The tracing proxy's own changes come first; the faults then act on what it forwards.
  const faults = [...(gate ? [gateObserver(gate)] : []), ...(values.tracing ? [TRACING] : []), ...(gate ? named.map((fault) => gatedFault(fault, gate)) : named)];
  let delayMs;
  if (values["delay-ms"] !== undefined) {
    delayMs = Number(values["delay-ms"]);
    if (!Number.isInteger(delayMs) || delayMs < 0) usage(`--delay-ms: expected a whole number of milliseconds ≥ 0, got ${JSON.stringify(values["delay-ms"])}`);
  }
  return {
    memoryMiB: positiveOption(values, "memory-mib"),
    leakKiB: positiveOption(values, "leak-kib"),
    cpuMsPerRequest: positiveOption(values, "cpu-ms-per-request"),
    listen: portOption(values, "listen"),
    admin: portOption(values, "admin"),
    upstream: portOption(values, "upstream"),
    faults,
    gate,
    delayMs,
  };
}

function log(event, extra = {}) {
  process.stdout.write(`${JSON.stringify({ ts: new Date().toISOString(), event, pid: process.pid, ...extra })}\n`);
}

/** Raw header list → [name, value] pairs without hop-by-hop headers (nor those the Connection header names). */
function endToEndHeaders(rawHeaders) {
  const named = new Set();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() === "connection") {
      for (const token of rawHeaders[i + 1].split(",")) named.add(token.trim().toLowerCase());
    }
  }
  const pairs = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const lower = rawHeaders[i].toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower.startsWith("proxy-") || named.has(lower)) continue;
    pairs.push([rawHeaders[i], rawHeaders[i + 1]]);
  }
  return pairs;
}

const flat = (pairs) => pairs.flat();
const headerOf = (pairs, name) => pairs.find(([key]) => key.toLowerCase() === name)?.[1];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Everything a fault can see and touch. */
function createContext(options) {
  let restart;
  return {
    options,
    log,
    startedAtMs: performance.now(),
    /** Set by faults: memory they hold on purpose (fat-idle, leaky). */
    retained: [],
    draining: false,
    listenerBound: false,
    /** Requests are held (not forwarded) until this time (performance.now() ms). */
    holdUntilMs: 0,
    /** Readiness turns false while requests are held; forwarding resumes this much later. */
    releaseAfterReadyMs: 0,
    stats: { requests: 0, inFlight: 0, connections: 0, upstreamErrors: 0, responses: {} },
    /** The fault's main delay: its default unless --delay-ms overrides it. */
    delayMs: (defaultMs) => options.delayMs ?? defaultMs,
    /** Whether this process is a restart of the same container (same pod, same ports); computed once. */
    isRestart() {
      restart ??= detectRestart(options);
      return restart.restart;
    },
    restartInfo() {
      this.isRestart();
      return restart;
    },
  };
}

function main() {
  const options = parseCli(process.argv.slice(2));
  const { faults } = options;
  const ctx = createContext(options);
  // Hook lists are fixed at start: the request path only walks the faults that take part in it.
  const hookLists = new Map();
  const hooks = (name) => {
    let list = hookLists.get(name);
    if (!list) hookLists.set(name, (list = faults.filter((fault) => typeof fault[name] === "function")));
    return list;
  };
  const restartAware = faults.some((fault) => fault.restartAware);
  log("started", {
    listen: options.listen,
    admin: options.admin,
    upstream: options.upstream,
    faults: faults.map((fault) => fault.name),
    ...(options.gate ? { gate: { every: options.gate.every, phase: options.gate.phase, when: options.gate.when ?? null } } : {}),
    ...(restartAware ? { restart: ctx.restartInfo() } : {}),
  });

  const plan = { adminDelayMs: 0, listenDelayMs: 0 };
  for (const fault of hooks("startup")) fault.startup(ctx, plan);
  for (const fault of hooks("setup")) fault.setup(ctx);

  const agent = new Agent({ keepAlive: true, timeout: UPSTREAM_IDLE_MS, scheduling: "lifo" });
  const server = createServer({ noDelay: true });
  for (const fault of hooks("configureServer")) fault.configureServer(server, ctx);
  server.on("connection", (socket) => {
    ctx.stats.connections++;
    socket.once("close", () => ctx.stats.connections--);
  });
  server.on("request", (req, res) => {
    forward(req, res).catch((error) => {
      // E.g. a header node refuses to send on: this request fails, the proxy lives on.
      ctx.stats.upstreamErrors++;
      if (res.headersSent) res.destroy(error);
      else sendJson(res, 502, { error: `cannot forward: ${error.message}` });
    });
  });
  server.on("clientError", (error, socket) => {
    if (error.code === "ECONNRESET" || !socket.writable) socket.destroy();
    else socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });

  function ready() {
    const now = performance.now();
    let ok = ctx.listenerBound && !ctx.draining && now >= ctx.holdUntilMs;
    for (const fault of hooks("ready")) ok = fault.ready(ctx, ok);
    return ok;
  }

  async function forward(req, res) {
    const { stats } = ctx;
    stats.requests++;
    stats.inFlight++;
    let done = false;
    res.once("close", () => {
      if (done) return;
      done = true;
      stats.inFlight--;
      if (ctx.draining) {
        server.closeIdleConnections();
        maybeExit();
      }
    });
    const holdMs = ctx.holdUntilMs + ctx.releaseAfterReadyMs - performance.now();
    if (holdMs > 0) {
      await sleep(holdMs);
      if (res.destroyed) return;
    }
    for (const fault of hooks("request")) fault.request(req, res, ctx);

    let pairs = endToEndHeaders(req.rawHeaders);
    if (headerOf(pairs, "host") === undefined) pairs.unshift(["Host", `${HOST}:${options.upstream}`]);
    for (const fault of hooks("requestHeaders")) pairs = fault.requestHeaders(pairs, req, ctx) ?? pairs;
    const bodyTransforms = [];
    for (const fault of hooks("requestBody")) {
      const transform = fault.requestBody(req, pairs, ctx);
      if (transform) bodyTransforms.push(transform);
    }

    const upstreamReq = httpRequest({ host: HOST, port: options.upstream, method: req.method, path: req.url, headers: flat(pairs), agent });
    upstreamReq.on("socket", (socket) => socket.setNoDelay(true));
    upstreamReq.on("response", (upstreamRes) => respond(req, res, upstreamRes));
    upstreamReq.on("error", (error) => {
      stats.upstreamErrors++;
      if (res.destroyed) return;
      if (!res.headersSent) {
        sendJson(res, 502, { error: `upstream ${HOST}:${options.upstream} failed: ${error.message}` });
      } else {
        res.destroy(error);
      }
    });
    // The client left: nothing to forward to any more.
    res.once("close", () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    // pipe(), not pipeline(): an upstream failure must not destroy the client's socket
    // before the 502 is written.
    let source = req;
    for (const transform of bodyTransforms) source = source.pipe(transform);
    source.pipe(upstreamReq);
  }

  function respond(req, res, upstreamRes) {
    let status = upstreamRes.statusCode ?? 502;
    let pairs = endToEndHeaders(upstreamRes.rawHeaders);
    let replaceBody;
    let rewrite;
    const transforms = [];
    for (const fault of hooks("response")) {
      const change = fault.response({ req, status, headers: pairs, upstreamRes }, ctx);
      if (!change) continue;
      if (change.status !== undefined) status = change.status;
      if (change.headers !== undefined) pairs = change.headers;
      if (change.body !== undefined) replaceBody = change.body;
      if (change.rewrite !== undefined) rewrite = change.rewrite;
      if (change.transform !== undefined) transforms.push(change.transform);
    }
    const bucket = `${Math.floor(status / 100)}xx`;
    ctx.stats.responses[bucket] = (ctx.stats.responses[bucket] ?? 0) + 1;
    if (ctx.draining) pairs.push(["Connection", "close"]);
    const reason = status === upstreamRes.statusCode ? upstreamRes.statusMessage : undefined;
    upstreamRes.once("error", (error) => res.destroy(error));
    upstreamRes.once("aborted", () => res.destroy(new Error("upstream response aborted")));

    if (replaceBody !== undefined) {
      upstreamRes.resume();
      writeWhole(res, status, reason, pairs, replaceBody);
      return;
    }
    if (rewrite !== undefined) {
      const chunks = [];
      upstreamRes.on("data", (chunk) => chunks.push(chunk));
      upstreamRes.once("end", () => writeWhole(res, status, reason, pairs, rewrite(Buffer.concat(chunks))));
      return;
    }
    if (reason !== undefined) res.writeHead(status, reason, flat(pairs));
    else res.writeHead(status, flat(pairs));
    // Each chunk is written as it arrives: token streams reach the client token by token.
    let source = upstreamRes;
    for (const transform of transforms) source = source.pipe(transform);
    source.pipe(res);
  }

  function writeWhole(res, status, reason, pairs, body) {
    if (res.destroyed) return;
    const headers = pairs.filter(([key]) => key.toLowerCase() !== "content-length");
    headers.push(["Content-Length", String(body.length)]);
    if (reason !== undefined) res.writeHead(status, reason, flat(headers));
    else res.writeHead(status, flat(headers));
    res.end(body);
  }

  const admin = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/ready") {
      const ok = ready();
      sendJson(res, ok ? 200 : 503, { ready: ok });
    } else if (req.method === "GET" && path === "/stats") {
      sendJson(res, 200, { ...ctx.stats, faults: faults.map((fault) => fault.name), draining: ctx.draining, listening: ctx.listenerBound });
    } else {
      sendJson(res, 404, { error: `no route ${req.method} ${path}; try GET /ready or GET /stats` });
    }
  });

  const timers = [];
  let bound = 0;
  function bind(what, target, port, delayMs) {
    timers.push(
      setTimeout(() => {
        target.once("error", (error) => {
          log("listen-failed", { what, port, error: error.message });
          process.exit(1);
        });
        target.listen(port, HOST, () => {
          if (what === "listener") ctx.listenerBound = true;
          log(`${what}-listening`, { port });
          if (++bound === 2) {
            log("listening", { listen: options.listen, admin: options.admin });
            for (const fault of hooks("listening")) fault.listening(ctx);
          }
        });
      }, delayMs),
    );
  }
  bind("admin", admin, options.admin, plan.adminDelayMs);
  bind("listener", server, options.listen, plan.listenDelayMs);

  let exiting = false;
  function exit(code, reason) {
    if (exiting) return;
    exiting = true;
    log("exiting", { code, reason, inFlight: ctx.stats.inFlight });
    process.exit(code);
  }
  function maybeExit() {
    if (ctx.draining && ctx.stats.inFlight === 0) exit(0, "drained");
  }
  function onTerminate(signal) {
    log("sigterm", { signal, inFlight: ctx.stats.inFlight });
    for (const fault of hooks("sigterm")) {
      const action = fault.sigterm(ctx);
      if (action === "ignore") return;
      if (action === "exit") return exit(0, "sigterm without drain");
    }
    if (ctx.draining) return;
    ctx.draining = true;
    for (const timer of timers) clearTimeout(timer);
    if (server.listening) {
      server.close();
      server.closeIdleConnections();
    }
    setTimeout(() => exit(0, `drain deadline of ${DRAIN_DEADLINE_MS} ms`), DRAIN_DEADLINE_MS).unref();
    maybeExit();
  }
  process.on("SIGTERM", () => onTerminate("SIGTERM"));
  process.on("SIGINT", () => onTerminate("SIGINT"));
}

function sendJson(res, status, value) {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": body.length });
  res.end(body);
}

main();
