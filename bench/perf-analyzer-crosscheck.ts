// Do our figures agree with a client we did not write? Triton's own perf_analyzer and our
// open loop send the same request (the scenario's KServe v2 infer of the MLP, JSON or binary) at
// the same rate and arrival process to the same Triton, directly and through Envoy, on
// the same pods, alternating in each round so both see the same machine. The table puts
// perf_analyzer's p50/p99 beside ours.
//
// What differs by design: perf_analyzer times each request from its own send (a worker
// thread per in-flight request; a late send is not counted against the server), which is
// our service time; our latency is timed from the scheduled send (coordinated omission
// visible). perf_analyzer adds its C++ client's cost, ours undici's; both run on the load
// generator's CPU (taskset / pinSelf, like `run`).
//
//   node --import tsx bench/perf-analyzer-crosscheck.ts [--scenario scenarios/triton-envoy.yaml]
//        [--rate 200] [--rounds 5] [--duration-ms 5000] [--seed 1]
//
// Needs the Triton primary's environment and perf_analyzer (node scripts/setup.mjs).
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { newRunId } from "../harness/cli/run-command.ts";
import { pinSelf, planPinning } from "../harness/experiment/cpu-pinning.ts";
import { buildInferRequest } from "../harness/load/kserve-request.ts";
import { totalErrors } from "../harness/load/load-errors.ts";
import { runOpenLoop } from "../harness/load/open-loop.ts";
import { inferModel, requireInferBlock } from "../harness/load/workload-request.ts";
import { deriveSeed } from "../harness/measure/prng.ts";
import { median } from "../harness/measure/statistics.ts";
import { markdownTable } from "../harness/report/markdown-writer.ts";
import { createRuntime } from "../harness/runtime/create-runtime.ts";
import type { StartedPod } from "../harness/runtime/pod-runtime.ts";
import { findVariant, loadScenario, toPodSpec } from "../harness/scenario/index.ts";
import { lastLines, runBoundedChild } from "./bounded-child.ts";
import { addedByTool, agreement, figures, type Measured } from "./perf-analyzer-agreement.ts";
import { parsePerfAnalyzerCsv, type PerfAnalyzerRow } from "./perf-analyzer-csv.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const say = (line: string) => process.stderr.write(`${line}\n`);
const PERF_ANALYZER = join(root, ".venv", "perf-analyzer", "perf_analyzer");
/** perf_analyzer gets this long beyond its measurement window to start, warm up and report. */
const PERF_ANALYZER_SLACK_MS = 60_000;

interface Args {
  scenario: string;
  rate: number;
  rounds: number;
  durationMs: number;
  seed: number;
}

function parseCli(): Args {
  const { values } = parseArgs({
    options: {
      scenario: { type: "string", default: "scenarios/triton-envoy.yaml" },
      rate: { type: "string", default: "200" },
      rounds: { type: "string", default: "5" },
      "duration-ms": { type: "string", default: "5000" },
      seed: { type: "string", default: "1" },
    },
  });
  const int = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name}: expected a whole number ≥ ${min}, got ${JSON.stringify(text)}`);
    return n;
  };
  return {
    scenario: resolve(values.scenario),
    rate: int("rate", values.rate, 1),
    rounds: int("rounds", values.rounds, 1),
    durationMs: int("duration-ms", values["duration-ms"], 1000),
    seed: int("seed", values.seed, 0),
  };
}

/** One perf_analyzer measurement at `rate` against `url` (host:port), pinned to `cpus`. */
async function runPerfAnalyzer(input: { hostPort: string; model: string; shape: string; format: string; rate: number; distribution: string; durationMs: number; cpus: string | null; signal: AbortSignal }): Promise<PerfAnalyzerRow> {
  const dir = mkdtempSync(join(tmpdir(), "sidecar-bench-perf-analyzer-"));
  const csv = join(dir, "report.csv");
  const args = [
    "-m", input.model, "-u", input.hostPort, "-i", "http",
    "--request-rate-range", `${input.rate}:${input.rate}:1`, "--request-distribution", input.distribution,
    "--shape", input.shape, "--input-data", "random",
    // The scenario's body format both ways (KServe v2 JSON, or Triton's binary tensor extension).
    "--input-tensor-format", input.format, "--output-tensor-format", input.format,
    // Three windows (its least for a stability verdict) making up the duration, accepted
    // whatever their spread: rounds repeat the measurement, and the table shows medians.
    "--measurement-interval", String(Math.round(input.durationMs / 3)), "--max-trials", "3", "--stability-percentage", "100000",
    "--percentile", "99", "-f", csv,
  ]; // prettier-ignore
  const command = input.cpus ? "taskset" : PERF_ANALYZER;
  const argv = input.cpus ? ["-c", input.cpus, PERF_ANALYZER, ...args] : args;
  try {
    const { stdout, stderr } = await runBoundedChild({
      name: "perf_analyzer",
      command,
      args: argv,
      env: { ...process.env, LD_LIBRARY_PATH: join(dirname(PERF_ANALYZER), "lib") },
      timeoutMs: input.durationMs + PERF_ANALYZER_SLACK_MS,
      signal: input.signal,
    });
    if (!existsSync(csv)) throw new Error(`perf_analyzer wrote no report: ${lastLines(`${stdout}\n${stderr}`)}`);
    return parsePerfAnalyzerCsv(readFileSync(csv, "utf8"), csv);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const args = parseCli();
  if (!existsSync(PERF_ANALYZER)) throw new Error(`${relative(process.cwd(), PERF_ANALYZER)} is missing: run node scripts/setup.mjs`);
  const scenario = await loadScenario(args.scenario);
  const spec = scenario.manifest.spec;
  const load = spec.workload.load;
  if (load.mode !== "open") throw new Error(`${args.scenario}: expected an open-loop workload`);
  const infer = requireInferBlock(spec.workload.request, scenario.file);
  if (infer.inputs.length !== 1) throw new Error(`${args.scenario}: the cross-check sends what perf_analyzer sends: one input tensor`);
  const model = inferModel(infer, scenario.primary.manifest.spec.model);
  const input = infer.inputs[0]!;
  const request = buildInferRequest({ ...infer, model }, deriveSeed(args.seed, "payload"));
  const variant = spec.variants[0]!.name;
  const runId = newRunId();
  const { runtime } = createRuntime({ name: "local", workDir: mkdtempSync(join(tmpdir(), `sidecar-bench-${runId}-`)), projectRoot: root });
  const pinning = planPinning(spec.pinning.mode);
  const pinError = pinSelf(pinning.loadGeneratorCpus);
  if (pinError) say(`warning: ${pinError}`);
  const cpus = pinning.loadGeneratorCpus ? pinning.loadGeneratorCpus.join(",") : null;
  const abort = new AbortController();
  process.once("SIGINT", () => abort.abort());
  const pods = new Map<string, StartedPod>();
  const measured: Measured[] = [];
  try {
    await runtime.reapOrphans();
    for (const name of ["baseline", variant]) {
      say(`starting ${name} (${scenario.primary.manifest.metadata.name}${name === "baseline" ? "" : ` + ${variant}`})`);
      pods.set(name, await runtime.startPod(toPodSpec(scenario, name, runId, pinning.podCpus ? { cpuSet: pinning.podCpus } : {})));
    }
    const targets = ["baseline", variant].map((name) => {
      const entry = findVariant(scenario, name).entry;
      const url = pods.get(name)!.url(entry.container, entry.port);
      return { name, url, hostPort: new URL(url).host };
    });
    // Warm-up: each target briefly by each tool, not recorded.
    for (const target of targets) await runOpenLoop({ url: target.url, request, ratePerSec: args.rate, arrival: load.arrival, seed: 0, durationMs: 2_000, maxRequests: args.rate * 4, timeoutMs: load.timeoutMs, maxConnections: load.maxConnections });
    for (let round = 1; round <= args.rounds && !abort.signal.aborted; round++) {
      // Alternate which target and which tool goes first, so neither always follows the other.
      const order = round % 2 === 1 ? targets : [...targets].reverse();
      for (const target of order) {
        const tools = round % 2 === 1 ? (["perf_analyzer", "sidecar-bench"] as const) : (["sidecar-bench", "perf_analyzer"] as const);
        for (const tool of tools) {
          if (tool === "perf_analyzer") {
            const row = await runPerfAnalyzer({ hostPort: target.hostPort, model, shape: `${input.name}:${input.shape.join(",")}`, format: infer.format, rate: args.rate, distribution: load.arrival, durationMs: args.durationMs, cpus, signal: abort.signal });
            measured.push({ target: target.name, tool, round, ratePerSec: row.inferencesPerSec, p50Us: row.p50Us, p99Us: row.p99Us });
          } else {
            const result = await runOpenLoop({
              url: target.url,
              request,
              ratePerSec: args.rate,
              arrival: load.arrival,
              seed: deriveSeed(args.seed, `crosscheck-${round}-${target.name}`),
              durationMs: args.durationMs,
              maxRequests: Math.ceil((args.rate * args.durationMs) / 1000) * 2,
              timeoutMs: load.timeoutMs,
              maxConnections: load.maxConnections,
              signal: abort.signal,
            });
            const s = result.summary;
            if (totalErrors(s.errors) > 0) say(`warning: ${totalErrors(s.errors)} error(s) from ${target.name} in round ${round}`);
            measured.push({ target: target.name, tool, round, ratePerSec: s.achievedRatePerSec, p50Us: s.serviceTimeUs.p50, p99Us: s.serviceTimeUs.p99, latencyP50Us: s.latencyUs.p50, latencyP99Us: s.latencyUs.p99 });
          }
          say(`round ${round}: ${target.name} by ${tool}: p50 ${measured.at(-1)!.p50Us.toFixed(0)} µs, p99 ${measured.at(-1)!.p99Us.toFixed(0)} µs`);
        }
      }
    }
  } finally {
    await runtime.stopAll();
  }
  process.stdout.write(`${crosscheckTable(measured, args, scenario.primary.manifest.metadata, variant)}\n`);
  return abort.signal.aborted ? 130 : 0;
}

/** Medians over rounds, per target: perf_analyzer's p50/p99 beside our service time, the rounds' spread, and the verdict. */
function crosscheckTable(measured: Measured[], args: Args, primary: { name: string; version?: string | undefined }, variant: string): string {
  const ms = (us: number) => (us / 1000).toFixed(3);
  const pct = (fraction: number) => `${fraction >= 0 ? "+" : ""}${(fraction * 100).toFixed(1)}%`;
  const p50 = (m: Measured) => m.p50Us;
  const p99 = (m: Measured) => m.p99Us;
  const targets = [...new Set(measured.map((m) => m.target))];
  const rows = targets.flatMap((target) =>
    (["p50", "p99"] as const).map((metric) => {
      const pick = metric === "p50" ? p50 : p99;
      const theirs = figures(measured, target, "perf_analyzer", pick);
      const ours = figures(measured, target, "sidecar-bench", pick);
      if (theirs.length === 0 || ours.length === 0) return [target, metric, "–", "–", "–", "–", "not measured"];
      const a = agreement(theirs, ours);
      const scheduled = median(figures(measured, target, "sidecar-bench", metric === "p50" ? (m) => m.latencyP50Us! : (m) => m.latencyP99Us!));
      return [target, metric, ms(a.theirsUs), ms(a.oursUs), pct(a.differenceFraction), ms(a.spreadUs), theirs.length < 2 || ours.length < 2 ? "no verdict: one round has no spread" : a.agree ? "agree within noise" : "differ", ms(scheduled)];
    }),
  );
  const rates = targets.map((target) => `${target} ${median(figures(measured, target, "perf_analyzer", (m) => m.ratePerSec)).toFixed(1)} / ${median(figures(measured, target, "sidecar-bench", (m) => m.ratePerSec)).toFixed(1)}`);
  const added = (["p50", "p99"] as const).map((metric) => {
    const pick = metric === "p50" ? p50 : p99;
    const of = (tool: Measured["tool"]) => addedByTool(measured, "baseline", variant, tool, pick);
    const text = (us: number | null) => (us === null ? "–" : `${us >= 0 ? "+" : ""}${ms(us)} ms`);
    return `${metric} ${text(of("perf_analyzer"))} by perf_analyzer, ${text(of("sidecar-bench"))} by sidecar-bench`;
  });
  return [
    `perf_analyzer vs sidecar-bench: ${primary.name}${primary.version ? ` ${primary.version}` : ""}, ${args.rate} req/s, ${args.rounds} rounds × ${args.durationMs} ms per tool and target, alternating (medians over rounds)`,
    "",
    markdownTable(["target", "metric", "perf_analyzer ms", "sidecar-bench ms", "Δ", "spread over rounds ms (max − min, larger tool)", "verdict", "ours from scheduled send ms"], rows),
    "",
    `Achieved req/s (perf_analyzer / ours): ${rates.join("; ")}.`,
    `${variant}'s cost per round (${variant} − baseline, median over rounds): ${added.join("; ")}.`,
    "Verdict: the two medians differ by no more than the larger of the tools' round-to-round spreads (max − min).",
  ].join("\n");
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    say(`perf-analyzer-crosscheck: ${error.message}`);
    process.exit(1);
  },
);
