#!/usr/bin/env node
// telemetry-relay: a small, correct telemetry sidecar in plain Node (no dependencies), and —
// with --fault <name> — the faulty fixtures of the telemetry profile.
//
//   node telemetry-relay.mjs --admin <port> [--host <addr>] (one of:)
//     --ingest otlp --listen <port> --export otlp --backend <url> [--when-down buffer|drop]
//         [--batch-ms 1000] [--max-queue-mib 32] [--flush-timeout-ms 5000] [--attempt-timeout-ms 2000]
//     --ingest scrape --primary <url> [--scrape-interval-ms 500] --export exposition --exposition <port>
//   [--fault <name>]... [--fault-every <n>] [--growth-mib-per-s <x>]
//
// otlp: takes OTLP/HTTP exports (POST /v1/metrics, /v1/traces) from the primary, answers
// each at once (an empty Export*ServiceResponse in the request's encoding), and forwards the
// bodies as received to <backend>/v1/<signal> through a bounded queue (export-queue.mjs):
// batched for --batch-ms, retried with back-off while the backend is down (buffer), or
// dropped then (drop, counted). On SIGTERM it stops taking exports, forwards everything
// queued (retrying until --flush-timeout-ms), and exits 0.
// scrape: scrapes the primary's /metrics every --scrape-interval-ms and serves it, with the
// relay's own counters, as a Prometheus exposition on --exposition (exposition.mjs); a pull
// exposition has nothing to flush: on SIGTERM it exits 0.
// Admin: GET /ready (200 once its listeners are bound, 503 before and after SIGTERM),
// GET /stats (JSON counters). One JSON line per event on stdout; no per-export log.
import { Agent, createServer, request as httpRequest } from "node:http";
import { parseArgs } from "node:util";
import { ExportQueue, Outcome } from "./export-queue.mjs";
import { CONTENT_TYPE, renderExposition } from "./exposition.mjs";
import { FAULT_NAMES, createDropGate, createOutageGrowth } from "./faults.mjs";

const SIGNALS = new Map([
  ["/v1/metrics", "metrics"],
  ["/v1/traces", "traces"],
]);
/** Headers forwarded with each body: what it takes to decode it, nothing of the primary's connection. */
const FORWARDED_HEADERS = ["content-type", "content-encoding"];
const MIB = 1024 * 1024;
/** A larger export is refused (413): the OTLP exporters here send a few KiB. */
const MAX_EXPORT_BYTES = 16 * MIB;

function usage(message) {
  process.stderr.write(
    `telemetry-relay: ${message}\n` +
      "usage: node telemetry-relay.mjs --admin <port> [--host <addr>]\n" +
      "         --ingest otlp --listen <port> --export otlp --backend <url> [--when-down buffer|drop] [--batch-ms <n>]\n" +
      "           [--max-queue-mib <n>] [--flush-timeout-ms <n>] [--attempt-timeout-ms <n>]\n" +
      "       | --ingest scrape --primary <url> [--scrape-interval-ms <n>] --export exposition --exposition <port>\n" +
      "       [--fault <name>]... [--fault-every <n>] [--growth-mib-per-s <x>]\n" +
      `faults: ${FAULT_NAMES.join(", ")}\n`,
  );
  process.exit(2);
}

function port(values, name) {
  const text = values[name];
  if (text === undefined) usage(`missing --${name} <port>`);
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 65_535) usage(`--${name}: expected a port number from 1 to 65535, got ${JSON.stringify(text)}`);
  return value;
}

function number(values, name, fallback, { integer = true, min = 1 } = {}) {
  const text = values[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) usage(`--${name}: expected a ${integer ? "whole " : ""}number ≥ ${min}, got ${JSON.stringify(text)}`);
  return value;
}

function url(values, name) {
  const text = values[name];
  if (text === undefined) usage(`missing --${name} <url>`);
  try {
    return new URL(text);
  } catch {
    usage(`--${name}: not a URL: ${JSON.stringify(text)}`);
  }
}

function parseCli(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        admin: { type: "string" },
        host: { type: "string" },
        ingest: { type: "string" },
        export: { type: "string" },
        listen: { type: "string" },
        backend: { type: "string" },
        "when-down": { type: "string" },
        "batch-ms": { type: "string" },
        "max-queue-mib": { type: "string" },
        "flush-timeout-ms": { type: "string" },
        "attempt-timeout-ms": { type: "string" },
        primary: { type: "string" },
        "scrape-interval-ms": { type: "string" },
        exposition: { type: "string" },
        fault: { type: "string", multiple: true },
        "fault-every": { type: "string" },
        "growth-mib-per-s": { type: "string" },
      },
      strict: true,
    });
  } catch (error) {
    usage(error.message);
  }
  const { values } = parsed;
  const faults = new Set(values.fault ?? []);
  for (const fault of faults) if (!FAULT_NAMES.includes(fault)) usage(`unknown fault ${JSON.stringify(fault)}`);
  const common = {
    admin: port(values, "admin"),
    host: values.host ?? "127.0.0.1",
    faults,
    faultEvery: number(values, "fault-every", 1),
    growthMiBPerS: number(values, "growth-mib-per-s", 32, { integer: false, min: 0.001 }),
  };
  if (values["fault-every"] !== undefined && !faults.has("drop-exports")) usage("--fault-every acts on drop-exports only");
  if (values.ingest === "otlp" && values.export === "otlp") {
    const whenDown = values["when-down"] ?? "buffer";
    if (whenDown !== "buffer" && whenDown !== "drop") usage(`--when-down: expected buffer or drop, got ${JSON.stringify(whenDown)}`);
    return {
      ...common,
      mode: "otlp",
      listen: port(values, "listen"),
      backend: url(values, "backend"),
      whenDown,
      batchMs: number(values, "batch-ms", 1_000, { min: 0 }),
      maxQueueBytes: number(values, "max-queue-mib", 32, { integer: false, min: 0.001 }) * MIB,
      flushTimeoutMs: number(values, "flush-timeout-ms", 5_000),
      attemptTimeoutMs: number(values, "attempt-timeout-ms", 2_000),
    };
  }
  if (values.ingest === "scrape" && values.export === "exposition") {
    return { ...common, mode: "scrape", primary: url(values, "primary"), scrapeIntervalMs: number(values, "scrape-interval-ms", 500), exposition: port(values, "exposition") };
  }
  usage(`--ingest/--export: expected "otlp"/"otlp" or "scrape"/"exposition", got ${JSON.stringify(values.ingest)}/${JSON.stringify(values.export)}`);
}

function log(event, extra = {}) {
  process.stdout.write(`${JSON.stringify({ ts: new Date().toISOString(), event, pid: process.pid, ...extra })}\n`);
}

function listen(server, port, host, name) {
  return new Promise((resolve, reject) => {
    server.once("error", (error) => reject(new Error(`${name} port ${host}:${port}: ${error.message}`)));
    server.listen(port, host, () => resolve());
  });
}

function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error(`export larger than ${limit} bytes`));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** POST one export to the backend: delivered (2xx), rejected (4xx but 429: retrying cannot help), or failed. */
function forwarder(backend, timeoutMs) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, timeout: 2_000 });
  return (item) =>
    new Promise((resolve) => {
      const target = new URL(item.path, backend);
      const req = httpRequest(target, { method: "POST", agent, headers: { ...item.headers, "content-length": item.body.length }, timeout: timeoutMs }, (res) => {
        res.resume();
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          resolve(status >= 200 && status < 300 ? Outcome.delivered : status >= 400 && status < 500 && status !== 429 ? Outcome.rejected : Outcome.failed);
        });
        res.on("error", () => resolve(Outcome.failed));
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", () => resolve(Outcome.failed));
      req.end(item.body);
    });
}

function exportResponse(res, contentType) {
  // An empty Export*ServiceResponse: no bytes in protobuf, {} in JSON.
  const json = (contentType ?? "").includes("json");
  res.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" });
  res.end(json ? "{}" : "");
}

async function runOtlp(options, state) {
  const { faults } = options;
  const growth = faults.has("unbounded-queue-when-down") ? createOutageGrowth(options.growthMiBPerS, log) : undefined;
  const queue = new ExportQueue({
    send: forwarder(options.backend, options.attemptTimeoutMs),
    whenDown: options.whenDown,
    // unbounded-queue-when-down: no bound at all.
    maxBytes: growth ? Number.POSITIVE_INFINITY : options.maxQueueBytes,
    batchMs: options.batchMs,
    onEvent: log,
    hooks: {
      onDown: (q) => {
        if (faults.has("lose-queued-when-down")) q.discardAll("fault lose-queued-when-down");
        growth?.onDown();
      },
      onUp: () => growth?.onUp(),
    },
  });
  const dropGate = faults.has("drop-exports") ? createDropGate(options.faultEvery) : undefined;
  const counts = { received: { metrics: 0, traces: 0 }, droppedByFault: 0, duplicatedByFault: 0 };
  state.stats = () => ({ ...counts, queue: { length: queue.length, bytes: queue.bytes, backendDown: queue.backendDown, ...queue.stats } });

  const ingest = createServer({ noDelay: true, keepAliveTimeout: 30_000 });
  ingest.on("request", (req, res) => {
    const path = (req.url ?? "").split("?")[0];
    const signal = SIGNALS.get(path);
    if (req.method !== "POST" || signal === undefined) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: `expected POST ${[...SIGNALS.keys()].join(" or ")}` }));
      return;
    }
    readBody(req, MAX_EXPORT_BYTES).then(
      (body) => {
        counts.received[signal]++;
        const headers = Object.fromEntries(FORWARDED_HEADERS.filter((h) => req.headers[h] !== undefined).map((h) => [h, req.headers[h]]));
        const item = { signal, path, headers, body };
        if (dropGate?.drops(signal)) {
          counts.droppedByFault++;
          exportResponse(res, req.headers["content-type"]);
          return;
        }
        if (!queue.offer(item)) {
          res.writeHead(503, { "content-type": "application/json", "retry-after": "1" });
          res.end(JSON.stringify({ error: "queue full" }));
          return;
        }
        if (faults.has("duplicate-exports")) {
          queue.offer({ ...item });
          counts.duplicatedByFault++;
        }
        exportResponse(res, req.headers["content-type"]);
      },
      (error) => {
        res.writeHead(413, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: error.message }));
      },
    );
  });
  await listen(ingest, options.listen, options.host, "listen");
  log("listening", { listen: options.listen, backend: options.backend.origin, whenDown: options.whenDown, batchMs: options.batchMs, ...(dropGate ? { dropEvery: dropGate.every } : {}) });

  return async function stop() {
    if (faults.has("no-flush-on-sigterm")) {
      log("exiting-without-flush", { queued: queue.length });
      return;
    }
    // No new exports (the primary has exited by now; a late one is refused, not lost silently).
    ingest.close();
    ingest.closeIdleConnections();
    const lost = await queue.flush(performance.now() + options.flushTimeoutMs);
    log("flushed", { forwarded: queue.stats.forwarded, lost, ...(dropGate ? { dropPhases: dropGate.phases() } : {}) });
  };
}

async function runScrape(options, state) {
  const stats = { scrapesOk: 0, scrapesFailed: 0 };
  let primaryBody = "";
  state.stats = () => ({ ...stats, primaryBytes: primaryBody.length });
  const scrapeUrl = new URL("/metrics", options.primary);
  const scrape = async () => {
    try {
      const response = await fetch(scrapeUrl, { signal: AbortSignal.timeout(Math.max(100, options.scrapeIntervalMs - 50)) });
      if (!response.ok) throw new Error(`status ${response.status}`);
      primaryBody = await response.text();
      stats.scrapesOk++;
    } catch {
      // The primary starts after its sidecars and leaves before them: failed scrapes are expected then.
      stats.scrapesFailed++;
    }
  };
  let scraping = false;
  const timer = setInterval(() => {
    if (scraping) return;
    scraping = true;
    void scrape().finally(() => (scraping = false));
  }, options.scrapeIntervalMs);

  const server = createServer({ noDelay: true });
  server.on("request", (req, res) => {
    if (req.method === "GET" && (req.url ?? "").split("?")[0] === "/metrics") {
      res.writeHead(200, { "content-type": CONTENT_TYPE });
      res.end(renderExposition({ primaryBody, stats, invalid: options.faults.has("invalid-exposition") }));
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("not found\n");
  });
  await listen(server, options.exposition, options.host, "exposition");
  log("listening", { exposition: options.exposition, primary: scrapeUrl.href, scrapeIntervalMs: options.scrapeIntervalMs });
  return async function stop() {
    clearInterval(timer);
    server.close();
    server.closeIdleConnections();
  };
}

async function main() {
  const options = parseCli(process.argv.slice(2));
  log("started", { mode: options.mode, admin: options.admin, faults: [...options.faults] });
  const state = { ready: false, stopping: false, stats: () => ({}) };
  const admin = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (path === "/ready") {
      const ready = state.ready && !state.stopping;
      res.writeHead(ready ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify({ ready }));
    } else if (path === "/stats") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(state.stats()));
    } else {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "expected /ready or /stats" }));
    }
  });
  let stop;
  try {
    await listen(admin, options.admin, options.host, "admin");
    stop = options.mode === "otlp" ? await runOtlp(options, state) : await runScrape(options, state);
  } catch (error) {
    log("cannot-listen", { error: error.message });
    process.exit(1);
  }
  state.ready = true;
  let stopping;
  const onSignal = (signal) => {
    if (stopping) return;
    log(signal.toLowerCase());
    state.stopping = true;
    stopping = stop().finally(() => {
      log("exiting", { stats: state.stats() });
      admin.close();
      process.exit(0);
    });
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
}

void main();
