#!/usr/bin/env node
// log-follower: a small, correct log-shipping sidecar in plain Node, and — with --fault
// <name> — the faulty fixtures that prove each logs check can fail.
//
//   node log-follower.mjs --file <path> --syslog-port <port> --admin <port> [--backend-host <host>]
//     [--when-down buffer|drop] [--poll-ms <n>] [--batch-ms <n>] [--batch-bytes <n>]
//     [--max-buffer-mib <n>] [--reconnect-ms <n>] [--drain-ms <n>] [--fault <name>]... [--fault-every <n>]
//
// Follows <path> from its first byte (file-follower.mjs: rename+create and copytruncate
// rotation), ships every line to the backend's syslog port (syslog-shipper.mjs: RFC 5424
// in RFC 6587 octet counting, batched), buffers or drops while the backend is down as
// --when-down says, and on SIGTERM reads the file to its end, sends what is left and exits
// 0 (after --drain-ms at the latest). Admin port: GET /ready, GET /stats. One JSON line per
// event on stdout, never one per shipped line.
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { FileFollower } from "./file-follower.mjs";
import { SyslogShipper } from "./syslog-shipper.mjs";
import { FAULTS, lineFaults } from "./line-faults.mjs";

const ADMIN_HOST = "127.0.0.1";

function usage(message) {
  process.stderr.write(
    `log-follower: ${message}\n` +
      "usage: node log-follower.mjs --file <path> --syslog-port <port> --admin <port> [--backend-host <host>]\n" +
      "       [--when-down buffer|drop] [--poll-ms <n>] [--batch-ms <n>] [--batch-bytes <n>] [--max-buffer-mib <n>]\n" +
      "       [--reconnect-ms <n>] [--drain-ms <n>] [--fault <name>]... [--fault-every <n>]\n" +
      `faults: ${Object.keys(FAULTS).join(", ")}\n`,
  );
  process.exit(2);
}

function intOption(values, name, fallback, min, max) {
  const text = values[name];
  if (text === undefined) {
    if (fallback === undefined) usage(`missing --${name}`);
    return fallback;
  }
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) usage(`--${name}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return value;
}

function parseCli(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        file: { type: "string" },
        "syslog-port": { type: "string" },
        admin: { type: "string" },
        "backend-host": { type: "string" },
        "when-down": { type: "string" },
        "poll-ms": { type: "string" },
        "batch-ms": { type: "string" },
        "batch-bytes": { type: "string" },
        "max-buffer-mib": { type: "string" },
        "reconnect-ms": { type: "string" },
        "drain-ms": { type: "string" },
        fault: { type: "string", multiple: true },
        "fault-every": { type: "string" },
      },
      strict: true,
    });
  } catch (error) {
    usage(error.message);
  }
  const { values } = parsed;
  if (!values.file) usage("missing --file <path>");
  const whenDown = values["when-down"] ?? "buffer";
  if (whenDown !== "buffer" && whenDown !== "drop") usage(`--when-down: expected buffer or drop, got ${JSON.stringify(whenDown)}`);
  const faults = new Set(values.fault ?? []);
  for (const name of faults) if (!(name in FAULTS)) usage(`unknown fault ${JSON.stringify(name)}`);
  if (values["fault-every"] !== undefined && !faults.has("drop-lines")) usage("--fault-every applies to drop-lines only");
  return {
    file: values.file,
    syslogPort: intOption(values, "syslog-port", undefined, 1, 65_535),
    admin: intOption(values, "admin", undefined, 1, 65_535),
    backendHost: values["backend-host"] ?? "127.0.0.1",
    whenDown,
    pollMs: intOption(values, "poll-ms", 100, 1, 60_000),
    batchMs: intOption(values, "batch-ms", 1_000, 0, 60_000),
    batchBytes: intOption(values, "batch-bytes", 256 * 1024, 1, 64 * 1024 * 1024),
    maxBufferBytes: intOption(values, "max-buffer-mib", 64, 1, 4_096) * 1024 * 1024,
    reconnectMs: intOption(values, "reconnect-ms", 200, 1, 60_000),
    drainMs: intOption(values, "drain-ms", 5_000, 0, 600_000),
    faults,
    faultEvery: intOption(values, "fault-every", 1, 1, 1_000_000),
  };
}

function log(event, extra = {}) {
  process.stdout.write(`${JSON.stringify({ ts: new Date().toISOString(), event, pid: process.pid, ...extra })}\n`);
}

function main() {
  const options = parseCli(process.argv.slice(2));
  const phase = Math.floor(Math.random() * options.faultEvery);
  log("started", { file: options.file, syslog: `${options.backendHost}:${options.syslogPort}`, whenDown: options.whenDown, faults: [...options.faults], ...(options.faults.has("drop-lines") ? { faultEvery: options.faultEvery, phase } : {}) });

  const shipper = new SyslogShipper({
    host: options.backendHost,
    port: options.syslogPort,
    whenDown: options.whenDown,
    batchMs: options.batchMs,
    batchBytes: options.batchBytes,
    maxBufferBytes: options.maxBufferBytes,
    reconnectMs: options.reconnectMs,
    onEvent: log,
    faults: { duplicateOnReconnect: options.faults.has("duplicate-on-reconnect") },
  });
  const transform = lineFaults(options.faults, options.faultEvery, phase);
  const follower = new FileFollower(options.file, {
    onLine: (line) => {
      for (const piece of transform(line)) shipper.enqueue(piece);
    },
    onEvent: log,
    faults: { loseOnRename: options.faults.has("lose-on-rename"), noTruncateDetect: options.faults.has("no-truncate-detect") },
  });

  let draining = false;
  let pollTimer = null;
  const pollLoop = () => {
    if (draining) return;
    let more = false;
    try {
      more = follower.poll();
    } catch (error) {
      log("read-error", { message: error.message, code: error.code });
    }
    pollTimer = more ? setImmediate(pollLoop) : setTimeout(pollLoop, options.pollMs);
  };

  const admin = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status, body) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET" && path === "/ready") send(draining ? 503 : 200, { ready: !draining, connected: shipper.connected });
    else if (req.method === "GET" && path === "/stats") send(200, { file: follower.stats, shipper: { ...shipper.stats, connected: shipper.connected, queuedNow: shipper.queue.length } });
    else send(404, { error: `no route ${req.method} ${path}; try GET /ready or GET /stats` });
  });
  admin.on("error", (error) => {
    log("admin-error", { message: error.message, code: error.code });
    process.exit(1);
  });
  admin.listen(options.admin, ADMIN_HOST, () => {
    log("admin-listening", { admin: options.admin });
    shipper.start();
    pollLoop();
  });

  const onTerminate = async (signal) => {
    if (draining) return;
    draining = true;
    log(signal.toLowerCase(), {});
    clearTimeout(pollTimer);
    clearImmediate(pollTimer);
    if (options.faults.has("exit-without-draining")) {
      log("exiting", { drained: false, queued: shipper.queue.length });
      process.exit(0);
    }
    const deadline = Date.now() + options.drainMs;
    try {
      follower.drain();
    } catch (error) {
      log("read-error", { message: error.message, code: error.code });
    }
    const { unsent } = await shipper.drain(deadline);
    follower.close();
    log("exiting", { drained: unsent === 0, unsent, file: follower.stats, shipper: shipper.stats });
    admin.close();
    process.exit(0);
  };
  process.on("SIGTERM", () => void onTerminate("SIGTERM"));
  process.on("SIGINT", () => void onTerminate("SIGINT"));
}

main();
