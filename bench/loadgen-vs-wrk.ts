// Is our closed-loop generator (harness/load/closed-loop.ts: its native engine, with its µs
// histogram, as a closed-loop trial runs it) fast enough to find a server's ceiling? Compared with wrk against a trivial keep-alive "hello"
// server, the server pinned to CPU 1 and every generator to CPU 0 (DESIGN.md rule 10), in
// alternating rounds: requests/s and CPU time per request, each round's ours/wrk ratio
// (the machine may be shared: ratios within a round, and their range, are what to read).
// Then the open loop as the harness runs it (in its generator process, a child of this one)
// at fixed rates: its own overhead (pacing error and client queue) per round, and how long
// the generator waited for the CPU; and its highest rate with < 2% shortfall.
//
//   node --import tsx bench/loadgen-vs-wrk.ts [--duration-ms 5000] [--rounds 3]
//        [--connections 16,64] [--open-loop-connections 64] [--open-loop-rates 10000]
//        [--skip-open-loop] [--skip-open-loop-search] [--server node|envoy]
//        [--open-loop-warmup-ms 9000]
//
// The open loop at a fixed rate is measured after a warm-up at that rate (printed, not
// counted), as the harness measures rounds only after each arm's warm-up (trials.warmupMs,
// 3 s × arms by default): the generator's code is optimized and its heap grows to size
// in the first seconds, and on one pinned CPU that work preempts the sends for milliseconds.
//
// --server envoy answers from Envoy's direct_response (.venv/bin/envoy, from npm run setup,
// one worker thread) instead of a Node server: several times the Node server's ceiling, so a
// shared machine's server CPU does not cap the rate before the generator does (the open loop
// at 10,000 req/s needs that).
//
// Needs wrk (apt-get update && apt-get install -y wrk) and taskset (util-linux).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../harness/project-root.ts";
import { sampleProcessTree } from "../harness/runtime/local/proc-stats.ts";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import type { HttpRequestSpec } from "../harness/load/kserve-request.ts";
import { runClosedLoop } from "../harness/load/closed-loop.ts";
import { LOCAL_DRIVER } from "../harness/load/open-loop-driver.ts";
import type { OpenLoopSummary } from "../harness/load/open-loop.ts";

const SERVER_CPU = 1;
/** USER_HZ: /proc's CPU times are in these ticks on Linux. */
const CLOCK_TICKS_PER_SEC = 100;
const GENERATOR_CPU = 0;

// Runs in the child: answers "hello" on keep-alive connections; exits when our stdin
// closes, so a crashed benchmark never leaves it behind.
const SERVER_SOURCE = `
const http = require("node:http");
const server = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "text/plain", "content-length": "5" });
    res.end("hello");
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
`;

interface Args {
  durationMs: number;
  rounds: number;
  connections: number[];
  openLoopConnections: number;
  openLoopRates: number[];
  skipOpenLoop: boolean;
  skipOpenLoopSearch: boolean;
  server: "node" | "envoy";
  openLoopWarmupMs: number;
}

function parseCli(): Args {
  const { values } = parseArgs({
    options: {
      "duration-ms": { type: "string", default: "5000" },
      rounds: { type: "string", default: "3" },
      connections: { type: "string", default: "16,64" },
      "open-loop-connections": { type: "string", default: "64" },
      "open-loop-rates": { type: "string", default: "10000" },
      "skip-open-loop": { type: "boolean", default: false },
      "skip-open-loop-search": { type: "boolean", default: false },
      server: { type: "string", default: "node" },
      "open-loop-warmup-ms": { type: "string", default: "9000" },
    },
  });
  const int = (name: string, text: string): number => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name}: expected a positive integer, got ${JSON.stringify(text)}`);
    return n;
  };
  return {
    durationMs: int("duration-ms", values["duration-ms"]),
    rounds: int("rounds", values.rounds),
    connections: values.connections.split(",").map((c) => int("connections", c)),
    openLoopConnections: int("open-loop-connections", values["open-loop-connections"]),
    openLoopRates: values["open-loop-rates"].split(",").map((r) => int("open-loop-rates", r)),
    skipOpenLoop: values["skip-open-loop"],
    skipOpenLoopSearch: values["skip-open-loop-search"],
    server: values.server === "envoy" || values.server === "node" ? values.server : badServer(values.server),
    openLoopWarmupMs: values["open-loop-warmup-ms"] === "0" ? 0 : int("open-loop-warmup-ms", values["open-loop-warmup-ms"]),
  };
}

function badServer(value: string): never {
  throw new Error(`--server: expected node or envoy, got ${JSON.stringify(value)}`);
}

function has(command: string, args: string[]): boolean {
  return !spawnSync(command, args, { stdio: "ignore" }).error;
}

/**
 * Busy and total jiffies of one CPU, from /proc/stat. Busy excludes idle, iowait and
 * steal (time the hypervisor gave to other guests), which is reported on its own.
 */
function cpuTimes(cpu: number): { busy: number; steal: number; total: number } {
  const line = readFileSync("/proc/stat", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`cpu${cpu} `));
  if (!line) throw new Error(`/proc/stat has no line for cpu${cpu}`);
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const steal = fields[7] ?? 0;
  return { busy: total - (fields[3] ?? 0) - (fields[4] ?? 0) - steal, steal, total };
}

/**
 * Runs `fn` and reports how busy the generator's and the server's CPUs were meanwhile:
 * a server CPU near 100% means the server, not the generator, set the ceiling.
 */
async function withCpuBusy<T>(
  fn: () => Promise<T> | T,
): Promise<{ value: T; generatorCpuPct: number; serverCpuPct: number; stealPct: number }> {
  const before = [cpuTimes(GENERATOR_CPU), cpuTimes(SERVER_CPU)];
  const value = await fn();
  const after = [cpuTimes(GENERATOR_CPU), cpuTimes(SERVER_CPU)];
  const pct = (i: number, key: "busy" | "steal"): number => {
    const total = after[i]!.total - before[i]!.total;
    return total > 0 ? ((after[i]![key] - before[i]![key]) / total) * 100 : Number.NaN;
  };
  return { value, generatorCpuPct: pct(0, "busy"), serverCpuPct: pct(1, "busy"), stealPct: (pct(0, "steal") + pct(1, "steal")) / 2 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** "median (min–max)" of a series, with `digits` decimals. */
function spread(xs: number[], digits = 2): string {
  return `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
}

function packageVersion(name: string): string {
  const url = new URL(`../node_modules/${name}/package.json`, import.meta.url);
  return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
}

async function startServer(kind: Args["server"]): Promise<{ child: ChildProcess; url: string; cleanup?: () => void }> {
  if (kind === "envoy") return startEnvoy();
  const child = spawn("taskset", ["-c", String(SERVER_CPU), process.execPath, "-e", SERVER_SOURCE], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const port = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", resolve);
    child.once("exit", (code) => reject(new Error(`hello server exited early (code ${code})`)));
  });
  return { child, url: `http://127.0.0.1:${port.trim()}` };
}

/** A port free right now on 127.0.0.1 (Envoy is told it in its configuration). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function envoyConfig(port: number): string {
  return JSON.stringify({
    static_resources: {
      listeners: [{
        name: "hello",
        address: { socket_address: { address: "127.0.0.1", port_value: port } },
        filter_chains: [{
          filters: [{
            name: "envoy.filters.network.http_connection_manager",
            typed_config: {
              "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
              stat_prefix: "hello",
              route_config: { virtual_hosts: [{ name: "all", domains: ["*"], routes: [{ match: { prefix: "/" }, direct_response: { status: 200, body: { inline_string: "hello" } } }] }] },
              http_filters: [{ name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } }],
            },
          }],
        }],
      }],
    },
  });
}

async function startEnvoy(): Promise<{ child: ChildProcess; url: string; cleanup: () => void }> {
  const envoy = join(PROJECT_ROOT, ".venv", "bin", "envoy");
  if (!existsSync(envoy)) throw new Error(`--server envoy: ${envoy} is missing; run \`npm run setup\` first`);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "loadgen-vs-wrk-"));
  const config = join(dir, "envoy.json");
  writeFileSync(config, envoyConfig(port));
  const child = spawn("taskset", ["-c", String(SERVER_CPU), envoy, "-c", config, "--concurrency", "1", "--log-level", "error", "--use-dynamic-base-id"], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  // Ready once it accepts connections: polled for at most 30 s.
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) throw new Error(`envoy exited early (code ${child.exitCode})`);
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (accepted) break;
    if (attempt >= 300) {
      child.kill("SIGKILL");
      cleanup();
      throw new Error(`envoy did not accept connections on 127.0.0.1:${port} within 30 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, url: `http://127.0.0.1:${port}`, cleanup };
}

interface Run {
  rps: number;
  /** CPU time (user + system) the generator spent per response: robust to a busy server. */
  cpuUsPerRequest: number;
  notes: string;
  command?: string;
}

/** Seconds from a `times` field such as 0m1.234s. */
function timesSeconds(field: string): number {
  const m = /^(\d+)m([\d.]+)s$/.exec(field);
  return m ? Number(m[1]) * 60 + Number(m[2]) : Number.NaN;
}

function runWrk(url: string, connections: number, durationMs: number): Run {
  const args = ["-c", String(GENERATOR_CPU), "wrk", "-t1", `-c${connections}`, `-d${durationMs / 1000}s`, "--timeout", "5s", `${url}/`];
  // bash's `times` prints the CPU time of its finished children: wrk's own CPU cost.
  const out = spawnSync("bash", ["-c", 'taskset "$@"; times', "bash", ...args], { encoding: "utf8" });
  const match = /Requests\/sec:\s+([\d.]+)/.exec(out.stdout);
  const total = /(\d+) requests in/.exec(out.stdout);
  if (!match || !total) throw new Error(`wrk printed no Requests/sec:\n${out.stdout}\n${out.stderr}`);
  const lines = out.stdout.trim().split("\n");
  const [userText = "", sysText = ""] = (lines[lines.length - 1] ?? "").split(" ");
  const cpuSeconds = timesSeconds(userText) + timesSeconds(sysText);
  const notes = lines
    .filter((l) => /Non-2xx|Socket errors/.test(l))
    .map((l) => l.trim())
    .join("; ");
  return { rps: Number(match[1]), cpuUsPerRequest: (cpuSeconds * 1e6) / Number(total[1]), command: `taskset ${args.join(" ")}`, notes };
}

/**
 * Our closed loop as the harness runs a closed-loop trial: its native engine in a child
 * process (closed-loop.ts). Counted: this process's CPU time (spawning the engine, reading
 * its answer, building the histogram) and the engine's, which the kernel adds to this
 * process's children's times once it has been reaped (/proc/self/stat cutime + cstime).
 */
async function runOurs(url: string, connections: number, durationMs: number): Promise<Run> {
  const before = process.cpuUsage();
  const childrenBefore = reapedChildrenCpuUs();
  const { summary } = await runClosedLoop({ url, connections, durationMs, maxRequests: 100_000_000, timeoutMs: 5000 });
  const cpu = process.cpuUsage(before);
  const engineCpuUs = reapedChildrenCpuUs() - childrenBefore;
  const errors = Object.entries(summary.errors).map(([k, v]) => `${k}: ${v}`).join(", ");
  return {
    rps: summary.throughputPerSec,
    cpuUsPerRequest: (cpu.user + cpu.system + engineCpuUs) / summary.requests,
    notes: errors ? `errors ${errors}` : `p99 ${summary.latencyUs.p99} µs`,
  };
}

/** CPU time of this process's reaped children (cutime + cstime), in µs. */
function reapedChildrenCpuUs(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  // Fields after the command name's closing parenthesis; cutime and cstime are fields 16 and 17.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[13]) + Number(fields[14])) * (1_000_000 / CLOCK_TICKS_PER_SEC);
}

async function compareClosedLoop(url: string, args: Args): Promise<void> {
  for (const connections of args.connections) {
    const wrk: number[] = [];
    const ours: number[] = [];
    const wrkCpu: number[] = [];
    const oursCpu: number[] = [];
    /** Per round, wrk's CPU per request / ours (≥ 1: ours is the leaner) and ours/wrk req/s. */
    const efficiency: number[] = [];
    const rpsRatio: number[] = [];
    let command = "";
    for (let round = 0; round < args.rounds; round++) {
      // Alternate which goes first so that drift (thermal, neighbours) hits both alike.
      const order = round % 2 === 0 ? ["wrk", "ours"] : ["ours", "wrk"];
      for (const which of order) {
        const measured = await withCpuBusy<Run>(() =>
          which === "wrk" ? runWrk(url, connections, args.durationMs) : runOurs(url, connections, args.durationMs),
        );
        const { rps, notes } = measured.value;
        command = measured.value.command ?? command;
        (which === "wrk" ? wrk : ours).push(rps);
        (which === "wrk" ? wrkCpu : oursCpu).push(measured.value.cpuUsPerRequest);
        if (which === order[1]) {
          efficiency.push(wrkCpu[wrkCpu.length - 1]! / oursCpu[oursCpu.length - 1]!);
          rpsRatio.push(ours[ours.length - 1]! / wrk[wrk.length - 1]!);
        }
        console.log(
          `  N=${connections} round ${round + 1} ${which.padEnd(4)} ${rps.toFixed(0).padStart(7)} req/s, ` +
            `${measured.value.cpuUsPerRequest.toFixed(1)} CPU-µs/req, ` +
            `CPU busy: generator ${measured.generatorCpuPct.toFixed(0)}%, server ${measured.serverCpuPct.toFixed(0)}%, ` +
            `steal ${measured.stealPct.toFixed(0)}%${notes ? `; ${notes}` : ""}`,
        );
      }
    }
    const ratio = median(ours) / median(wrk);
    console.log(
      `N=${connections}: wrk median ${median(wrk).toFixed(0)} req/s, ours median ${median(ours).toFixed(0)} req/s, ` +
        `ours/wrk ${(ratio * 100).toFixed(1)}% ${ratio >= 0.8 ? "(meets ≥ 80%)" : "(BELOW the 80% target)"}`,
    );
    console.log(
      `  generator CPU per request (median): wrk ${median(wrkCpu).toFixed(1)} µs, ours ${median(oursCpu).toFixed(1)} µs ` +
        `→ on a CPU of its own ours would reach ~${((median(wrkCpu) / median(oursCpu)) * 100).toFixed(0)}% of wrk's ceiling`,
    );
    console.log(
      `  per round: ours/wrk req/s ${spread(rpsRatio)}; CPU efficiency (wrk's CPU-µs per request / ours) ${spread(efficiency)} ` +
        `${median(efficiency) >= 0.9 ? "(meets ≥ 0.9)" : "(BELOW the 0.9 target)"}`,
    );
    console.log(`  wrk command: ${command}`);
  }
}

async function openLoopTrial(
  url: string,
  request: HttpRequestSpec,
  ratePerSec: number,
  args: Args,
  seed = 1,
  { durationMs = Math.min(args.durationMs, 3000), label = "" } = {},
): Promise<OpenLoopSummary & { cpuUsPerRequest: number }> {
  const cpuBefore = process.cpuUsage();
  const generatorBefore = generatorProcessTimes();
  // As the harness sends a round: in its generator process (a child of this one).
  const { value: [result], generatorCpuPct, serverCpuPct, stealPct } = await withCpuBusy(() => LOCAL_DRIVER.run({
    targets: [{ url, request }],
    slotMs: durationMs,
    slotOrder: [0],
    ratePerSec,
    arrival: "poisson",
    seed,
    maxRequests: 10_000_000,
    timeoutMs: 2000,
    maxConnections: args.openLoopConnections,
  }));
  const cpu = process.cpuUsage(cpuBefore);
  const generatorAfter = generatorProcessTimes();
  const generatorCpuUs = generatorAfter.cpuUs - generatorBefore.cpuUs;
  const waitedMs = generatorAfter.runQueueMs - generatorBefore.runQueueMs;
  const summary = result!.summary;
  const p = summary.pacingErrorUs;
  const cpuUsPerRequest = (cpu.user + cpu.system + generatorCpuUs) / Math.max(1, summary.sent);
  console.log(
    `  ${label}${String(ratePerSec).padStart(6)} req/s target → ${summary.achievedRatePerSec.toFixed(0).padStart(6)} achieved, ` +
      `shortfall ${summary.rateShortfallPct.toFixed(2)}%, latency p50/p99 ${summary.latencyUs.p50}/${summary.latencyUs.p99} µs, ` +
      `service p99 ${summary.serviceTimeUs.p99} µs, client queue p99 ${summary.clientQueueUs.p99} µs, ` +
      `send lag ${summary.sendLagMs.toFixed(1)} ms, pacing p50/p99/max ${p.p50}/${p.p99}/${p.max} µs, ` +
      `${cpuUsPerRequest.toFixed(1)} CPU-µs/req, CPU busy: generator ${generatorCpuPct.toFixed(0)}%, server ${serverCpuPct.toFixed(0)}%, steal ${stealPct.toFixed(0)}%, ` +
      `generator preempted ${waitedMs.toFixed(0)} ms`,
  );
  return { ...summary, cpuUsPerRequest };
}

/**
 * The harness's generator process (open-loop-process, a child of this one) so far: CPU time
 * of it and its descendants (sampleProcessTree), and how long its main thread — the one that
 * paces and sends — was runnable but waiting for the CPU (schedstat's run_delay): time another
 * thread or process held CPU 0, the usual cause of a pacing error in the milliseconds. Zeros
 * before the first round starts it.
 */
function generatorProcessTimes(): { cpuUs: number; runQueueMs: number } {
  const found = spawnSync("pgrep", ["-P", String(process.pid), "-f", "open-loop-process"], { encoding: "utf8" }).stdout.trim().split("\n")[0];
  if (!found) return { cpuUs: 0, runQueueMs: 0 };
  try {
    const runQueueMs = Number(readFileSync(`/proc/${found}/schedstat`, "utf8").split(" ")[1]) / 1e6;
    return { cpuUs: sampleProcessTree(Number(found)).cpuUsageUs, runQueueMs };
  } catch {
    return { cpuUs: 0, runQueueMs: 0 }; // exited between pgrep and the reads
  }
}

/** The generator's own overhead at a fixed rate, over args.rounds trials: pacing error and client queue, p99 ≤ 1 ms wanted. */
async function openLoopAtRates(url: string, args: Args): Promise<void> {
  const request: HttpRequestSpec = { path: "/", method: "GET", headers: {}, body: Buffer.alloc(0) };
  for (const rate of args.openLoopRates) {
    console.log(
      `\nOpen loop at ${rate} req/s, Poisson arrivals, ${args.openLoopConnections} connections, ${args.rounds} trials of ${Math.min(args.durationMs, 3000)} ms` +
        ` after ${args.openLoopWarmupMs} ms of warm-up at that rate:`,
    );
    if (args.openLoopWarmupMs > 0) {
      // One seed per warm-up trial, none shared with the measured ones.
      for (let doneMs = 0, i = 0; doneMs < args.openLoopWarmupMs; doneMs += 3000, i++) {
        const durationMs = Math.min(3000, args.openLoopWarmupMs - doneMs);
        await openLoopTrial(url, request, rate, args, 1000 + i, { durationMs, label: `(warm-up ${durationMs} ms) ` });
      }
    }
    const runs: Array<OpenLoopSummary & { cpuUsPerRequest: number }> = [];
    for (let round = 0; round < args.rounds; round++) runs.push(await openLoopTrial(url, request, rate, args, round + 1));
    const overhead = runs.map((r) => Math.max(r.pacingErrorUs.p99, r.clientQueueUs.p99));
    console.log(
      `Open loop at ${rate} req/s: pacing p50 ${spread(runs.map((r) => r.pacingErrorUs.p50), 0)} µs, p99 ${spread(runs.map((r) => r.pacingErrorUs.p99), 0)} µs; ` +
        `client queue p99 ${spread(runs.map((r) => r.clientQueueUs.p99), 0)} µs; overhead p99 ${spread(overhead, 0)} µs ` +
        `${median(overhead) <= 1000 ? "(meets ≤ 1 ms)" : "(ABOVE 1 ms)"}; shortfall ${spread(runs.map((r) => r.rateShortfallPct))}%; ` +
        `${spread(runs.map((r) => r.cpuUsPerRequest), 1)} CPU-µs/req`,
    );
  }
}

/** Within the 2% shortfall and the generator's own overhead (pacing and client queue p99) ≤ 1 ms. */
function clean(s: OpenLoopSummary): boolean {
  return !s.rateShortfall && s.pacingErrorUs.p99 <= 1000 && s.clientQueueUs.p99 <= 1000;
}

/**
 * Doubles the rate until the shortfall reaches 2%, bisects (to ~5%) between the last
 * good and the first bad rate, then repeats the best rate twice (single trials are noisy).
 */
async function findOpenLoopMax(url: string, args: Args): Promise<void> {
  const request: HttpRequestSpec = { path: "/", method: "GET", headers: {}, body: Buffer.alloc(0) };
  console.log(`\nOpen loop, Poisson arrivals, ${args.openLoopConnections} connections, trials of ${Math.min(args.durationMs, 3000)} ms:`);
  console.log("  (warm-up trial, JIT and connections)");
  await openLoopTrial(url, request, 1000, args);
  let good = 0;
  let bad = 0;
  let cleanMax = 0;
  const trial = async (rate: number): Promise<boolean> => {
    const s = await openLoopTrial(url, request, rate, args);
    if (clean(s)) cleanMax = Math.max(cleanMax, rate);
    return !s.rateShortfall;
  };
  for (let rate = 1000; bad === 0 && rate <= 1_024_000; rate *= 2) {
    if (await trial(rate)) good = rate;
    else bad = rate;
  }
  while (bad > 0 && bad - good > good * 0.05) {
    const rate = Math.round((good + bad) / 2);
    if (await trial(rate)) good = rate;
    else bad = rate;
  }
  let passes = 1;
  for (let i = 0; i < 2; i++) if (await trial(good)) passes++;
  console.log(
    `Open loop: highest rate with shortfall < 2%: ${good} req/s (${passes}/3 trials passed there)${bad ? `; fails at ${bad}` : ""}.`,
  );
  console.log(`  Highest rate tried with generator overhead p99 ≤ 1 ms (pacing and client queue): ${cleanMax} req/s.`);
}

async function main(): Promise<void> {
  const args = parseCli();
  if (!has("wrk", ["--version"])) {
    console.error("wrk is not installed: run `apt-get update && apt-get install -y wrk` (Debian/Ubuntu), then retry.");
    process.exit(2);
  }
  const pinned = has("taskset", ["-V"]) && cpus().length >= 2;
  if (!pinned) {
    console.error("taskset or a second CPU is missing: cannot pin the server and the generators apart; not measuring.");
    process.exit(2);
  }
  spawnSync("taskset", ["-a", "-p", "-c", String(GENERATOR_CPU), String(process.pid)], { stdio: "ignore" });
  const wrkVersion = spawnSync("wrk", ["--version"], { encoding: "utf8" }).stdout.split("\n")[0] ?? "?";
  console.log(`CPU: ${cpus()[0]?.model ?? "?"} × ${cpus().length}; node ${process.version}; ${wrkVersion.trim()}`);
  console.log(`closed loop: native/closed-loop (epoll); unary open loop: harness/load's lean HTTP/1.1 client; undici ${packageVersion("undici")} (token streams)`);
  console.log(`Pinning: hello server (${args.server}) on CPU ${SERVER_CPU}; wrk, this process and its generator process (all threads) on CPU ${GENERATOR_CPU}.`);

  // Other processes on this machine skew everything: show how busy the CPUs are at rest.
  const idle = await withCpuBusy(() => new Promise((resolve) => setTimeout(resolve, 1000)));
  console.log(
    `At rest (1 s, before the server starts): CPU ${GENERATOR_CPU} ${idle.generatorCpuPct.toFixed(0)}% busy, ` +
      `CPU ${SERVER_CPU} ${idle.serverCpuPct.toFixed(0)}% busy, steal ${idle.stealPct.toFixed(0)}%.`,
  );
  const { child, url, cleanup } = await startServer(args.server);
  const stopServer = (): void => {
    child.stdin?.end();
    child.kill("SIGTERM");
    cleanup?.();
  };
  process.once("SIGINT", () => {
    stopServer();
    process.exit(130);
  });
  try {
    console.log(`Server ${url}; closed loop, ${args.rounds} alternating rounds of ${args.durationMs} ms each:`);
    // Warm up the server's JIT before the first measured round.
    await runClosedLoop({ url, connections: 16, durationMs: 1000, maxRequests: 1_000_000, timeoutMs: 5000 });
    await compareClosedLoop(url, args);
    if (!args.skipOpenLoop) {
      await openLoopAtRates(url, args);
      if (!args.skipOpenLoopSearch) await findOpenLoopMax(url, args);
    }
  } finally {
    stopServer();
    await LOCAL_DRIVER.close();
  }
}

await main();
