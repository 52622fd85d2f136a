#!/usr/bin/env node
// secret-agent: a small secrets sidecar in plain Node (what Vault Agent's injector does for a
// pod), and — with --fault <name> — the faulty fixtures of the secrets checks.
//
//   node secret-agent.mjs --vault <url> --file <path> --admin <port> [--path <kv path>] [--key <field>]
//     [--mount secret] [--poll-ms 500] [--when-store-down keep|remove] [--fault <name>]... [--delay-ms <n>]
//     [--leak-form raw|base64] [--after-url <url>]
//
// It reads field <key> of the KV v2 secret <mount>/<path> (GET /v1/<mount>/data/<path>,
// X-Vault-Token from $VAULT_TOKEN), writes it to <file> atomically (a temporary file in the
// same directory, mode 0400, fsync, rename over the file) and polls every --poll-ms,
// rewriting the file when the value changes. While the store cannot be reached (connection
// refused or reset, timeout, 5xx) it keeps the file (--when-store-down keep, the default)
// or removes it (remove: fail closed), and writes it again once the store answers.
// Admin port (127.0.0.1): GET /ready (200 once the file has been written the first time —
// an honest startup probe: the primary, started after it, finds the key), GET /stats.
// SIGTERM or SIGINT: stops polling, closes the admin port, exits 0 (nothing is buffered).
// One JSON line per event on stdout; the secret's value is never logged (but by logs-secret).
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";

const HOST = "127.0.0.1";
const OWNER_READ_ONLY = 0o400;
const WORLD_READABLE = 0o644;
/** Connection errors and timeouts: the store is down, not refusing us. */
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "EAI_AGAIN", "ENOTFOUND", "UND_ERR_SOCKET"]);

/**
 * Each fault breaks one rule of the secrets profile and nothing else:
 * world-readable     the file is written with mode 0644 (secrets.present-before-primary)
 * ready-before-write /ready is 200 at once; the first write comes --delay-ms (2000) after the
 *                    first read and, with --after-url, only once that URL answers 200 (the primary's
 *                    liveness: then it has started without its key on every runtime, however slow
 *                    its container's start) (secrets.present-before-primary)
 * no-rotation        reads the store once and never again (secrets.rotation-reaches-primary)
 * logs-secret        logs each value it fetched, in --leak-form (secrets.never-logged)
 * (remove-when-down-declares-keep needs no code: the manifest declares keep and passes --when-store-down remove.)
 */
const FAULTS = ["world-readable", "ready-before-write", "no-rotation", "logs-secret"];
const DEFAULT_DELAY_MS = 2_000;
/** ready-before-write gives up waiting for --after-url after this long and writes anyway. */
const AFTER_URL_TIMEOUT_MS = 60_000;

function usage(message) {
  process.stderr.write(
    `secret-agent: ${message}\n` +
      "usage: node secret-agent.mjs --vault <url> --file <path> --admin <port> [--path <kv path>] [--key <field>] [--mount <mount>]\n" +
      "       [--poll-ms <n>] [--request-timeout-ms <n>] [--when-store-down keep|remove] [--fault <name>]... [--delay-ms <n>] [--leak-form raw|base64]\n" +
      "       [--after-url <url>]\n" +
      `faults: ${FAULTS.join(", ")}; the token comes from $VAULT_TOKEN\n`,
  );
  process.exit(2);
}

function wholeMs(values, name, fallback, min) {
  const text = values[name];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) usage(`--${name}: expected a whole number of milliseconds ≥ ${min}, got ${JSON.stringify(text)}`);
  return value;
}

function parseCli(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        vault: { type: "string" },
        file: { type: "string" },
        admin: { type: "string" },
        path: { type: "string", default: "sidecar-bench/primary" },
        key: { type: "string", default: "api_key" },
        mount: { type: "string", default: "secret" },
        "poll-ms": { type: "string" },
        "request-timeout-ms": { type: "string" },
        "when-store-down": { type: "string", default: "keep" },
        fault: { type: "string", multiple: true },
        "delay-ms": { type: "string" },
        "leak-form": { type: "string", default: "raw" },
        "after-url": { type: "string" },
      },
      strict: true,
    });
  } catch (error) {
    usage(error.message);
  }
  const { values } = parsed;
  if (!values.vault) usage("missing --vault <url>");
  let vault;
  try {
    vault = new URL(values.vault);
  } catch {
    usage(`--vault: expected a URL such as http://127.0.0.1:8200, got ${JSON.stringify(values.vault)}`);
  }
  if (vault.protocol !== "http:") usage(`--vault: only http:// stores are supported, got ${vault.protocol}`);
  if (!values.file) usage("missing --file <path>");
  const admin = Number(values.admin);
  if (!Number.isInteger(admin) || admin < 1 || admin > 65_535) usage(`--admin: expected a port number from 1 to 65535, got ${JSON.stringify(values.admin)}`);
  if (!["keep", "remove"].includes(values["when-store-down"])) usage(`--when-store-down: expected keep or remove, got ${JSON.stringify(values["when-store-down"])}`);
  if (!["raw", "base64"].includes(values["leak-form"])) usage(`--leak-form: expected raw or base64, got ${JSON.stringify(values["leak-form"])}`);
  const faults = new Set(values.fault ?? []);
  for (const fault of faults) if (!FAULTS.includes(fault)) usage(`unknown fault ${JSON.stringify(fault)}`);
  let afterUrl;
  if (values["after-url"] !== undefined) {
    try {
      afterUrl = new URL(values["after-url"]);
    } catch {
      usage(`--after-url: expected a URL, got ${JSON.stringify(values["after-url"])}`);
    }
  }
  const token = process.env.VAULT_TOKEN;
  if (!token) usage("$VAULT_TOKEN is empty: the store's token is needed");
  return {
    vault,
    token,
    file: values.file,
    admin,
    path: values.path.replace(/^\/+|\/+$/g, ""),
    key: values.key,
    mount: values.mount,
    pollMs: wholeMs(values, "poll-ms", 500, 10),
    requestTimeoutMs: wholeMs(values, "request-timeout-ms", 1_000, 10),
    whenStoreDown: values["when-store-down"],
    faults,
    delayMs: wholeMs(values, "delay-ms", DEFAULT_DELAY_MS, 0),
    leakForm: values["leak-form"],
    afterUrl,
  };
}

function log(event, extra = {}) {
  process.stdout.write(`${JSON.stringify({ ts: new Date().toISOString(), event, pid: process.pid, ...extra })}\n`);
}

/**
 * One KV v2 read on a fresh connection. → {ok: true, value, version} | {ok: false, unreachable, reason}.
 * The reason never holds the body: a store's error page could echo what it was sent.
 */
function readSecret(options, signal) {
  const url = new URL(`/v1/${options.mount}/data/${options.path}`, options.vault);
  return new Promise((resolve) => {
    const req = httpRequest(url, { method: "GET", headers: { "x-vault-token": options.token }, agent: false, timeout: options.requestTimeoutMs, signal }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("error", (error) => resolve({ ok: false, unreachable: true, reason: error.code ?? "response error" }));
      res.on("end", () => {
        const status = res.statusCode ?? 0;
        if (status >= 500) return resolve({ ok: false, unreachable: true, reason: `status ${status}` });
        if (status !== 200) return resolve({ ok: false, unreachable: false, reason: `status ${status}` });
        let body;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        } catch {
          return resolve({ ok: false, unreachable: false, reason: "the answer is not JSON" });
        }
        const value = body?.data?.data?.[options.key];
        if (typeof value !== "string") return resolve({ ok: false, unreachable: false, reason: `no string field ${JSON.stringify(options.key)}` });
        resolve({ ok: true, value, version: body?.data?.metadata?.version ?? null });
      });
    });
    req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
    req.on("error", (error) => resolve({ ok: false, unreachable: UNREACHABLE_CODES.has(error.code) || error.name === "AbortError", reason: error.code ?? error.name }));
    req.end();
  });
}

/** Resolves once GET `url` answers 200 (polled every 100 ms), or after `timeoutMs` → false. */
async function waitForUrl(url, timeoutMs, signal) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal.aborted) {
    const status = await new Promise((resolve) => {
      const req = httpRequest(url, { method: "GET", agent: false, timeout: 1_000, signal }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode));
        res.on("error", () => resolve(0));
      });
      req.on("timeout", () => req.destroy());
      req.on("error", () => resolve(0));
      req.end();
    });
    if (status === 200) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/** Writes `value` to `file` as a reader never sees it partial: a temporary file beside it, fsync, rename. */
function writeAtomically(file, value, mode) {
  const tmp = join(dirname(file), `.${basename(file)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
  let fd;
  try {
    fd = openSync(tmp, "wx", mode);
    writeSync(fd, value);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    // open(2)'s mode passes through the umask; chmod makes the mode exactly the one asked for.
    chmodSync(tmp, mode);
    renameSync(tmp, file);
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw error;
  }
}

function fileExists(file) {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

function leakedForm(value, form) {
  return form === "base64" ? Buffer.from(value, "utf8").toString("base64") : value;
}

function main() {
  const options = parseCli(process.argv.slice(2));
  const fault = (name) => options.faults.has(name);
  const stats = { reads: 0, failedReads: 0, writes: 0, removals: 0, version: null, storeReachable: null, ready: false };
  let lastValue = null;
  let stopping = false;
  let timer;
  const inFlight = new AbortController();

  log("started", { file: options.file, path: `${options.mount}/${options.path}`, key: options.key, pollMs: options.pollMs, whenStoreDown: options.whenStoreDown, faults: [...options.faults] });
  // ready-before-write: the startup probe passes before the key is there.
  if (fault("ready-before-write")) stats.ready = true;

  function write(value, version) {
    try {
      writeAtomically(options.file, value, fault("world-readable") ? WORLD_READABLE : OWNER_READ_ONLY);
    } catch (error) {
      log("write-failed", { file: options.file, error: error.code ?? error.message });
      return false;
    }
    lastValue = value;
    stats.writes += 1;
    stats.version = version;
    stats.ready = true;
    log("written", { file: options.file, version, bytes: Buffer.byteLength(value) });
    return true;
  }

  async function poll() {
    if (stopping) return;
    const result = await readSecret(options, inFlight.signal);
    if (stopping) return;
    if (result.ok) {
      stats.reads += 1;
      if (stats.storeReachable === false) log("store-back", { failedReads: stats.failedReads });
      stats.storeReachable = true;
      const changed = result.value !== lastValue || !fileExists(options.file);
      if (changed && fault("logs-secret")) log("fetched", { version: result.version, value: leakedForm(result.value, options.leakForm) });
      if (changed) {
        if (fault("ready-before-write") && stats.writes === 0) {
          // The first write, late; polling resumes after it.
          log("delaying-first-write", { delayMs: options.delayMs, afterUrl: options.afterUrl?.href ?? null });
          await new Promise((resolve) => (timer = setTimeout(resolve, options.delayMs)));
          if (options.afterUrl && !stopping) {
            const answered = await waitForUrl(options.afterUrl, AFTER_URL_TIMEOUT_MS, inFlight.signal);
            log(answered ? "after-url-answered" : "after-url-timed-out", { url: options.afterUrl.href });
          }
          if (!stopping) write(result.value, result.version);
          schedule();
          return;
        }
        write(result.value, result.version);
      }
    } else {
      stats.failedReads += 1;
      if (result.unreachable) {
        if (stats.storeReachable !== false) log("store-unreachable", { reason: result.reason, whenStoreDown: options.whenStoreDown });
        stats.storeReachable = false;
        if (options.whenStoreDown === "remove" && fileExists(options.file)) {
          try {
            unlinkSync(options.file);
            stats.removals += 1;
            lastValue = null;
            log("removed", { file: options.file, reason: "store unreachable" });
          } catch (error) {
            log("remove-failed", { file: options.file, error: error.code ?? error.message });
          }
        }
      } else {
        log("read-failed", { reason: result.reason });
      }
    }
    // no-rotation: once the key is written, the store is never read again.
    if (fault("no-rotation") && stats.writes > 0) {
      log("not-polling", { reason: "fault no-rotation" });
      return;
    }
    schedule();
  }

  function schedule() {
    if (!stopping) timer = setTimeout(poll, options.pollMs);
  }

  const admin = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const json = (status, body) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (path === "/ready") return json(stats.ready && !stopping ? 200 : 503, { ready: stats.ready && !stopping });
    if (path === "/stats") return json(200, { ...stats, whenStoreDown: options.whenStoreDown, fileExists: fileExists(options.file) });
    json(404, { error: `no route ${path}` });
  });
  admin.on("error", (error) => {
    log("admin-failed", { port: options.admin, error: error.code ?? error.message });
    process.exit(1);
  });
  admin.listen(options.admin, HOST, () => {
    log("admin-listening", { port: options.admin });
    void poll();
  });

  function stop(signal) {
    if (stopping) return;
    stopping = true;
    log(signal.toLowerCase(), {});
    clearTimeout(timer);
    inFlight.abort();
    admin.close();
    admin.closeAllConnections();
    log("exiting", { code: 0, writes: stats.writes });
    process.exit(0);
  }
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main();
