// What does a container runtime's network path cost before any sidecar? The reference
// primary (scenarios/default.yaml's baseline: KServe v2 JSON infer, FP32 1×64, open
// loop Poisson at 200 req/s) runs once as local processes and once as a docker pod (or,
// with --against kubernetes, a pod on the project's cluster, reached at its address on
// the pod network from this process on the node: what the pod network, its bridge and
// the pod's NAT to 127.0.0.1 cost), and
// both are measured with the project's own machinery: paired rounds in which the arms
// alternate in 250 ms slots on one arrival schedule (runOpenRound), plus an A/A arm
// (the local pod again) for the noise floor, analysed like `run` (bootstrap 95% CI of
// the median paired Δ). Pinning as `run`: the harness on CPU 0, both pods on the rest.
// Two more arms run the primary with PRIMARY_ACCESS_LOG=0 on each runtime: the primary
// writes a JSON line per request to stdout, which docker copies through its shim and
// daemon (kubernetes: containerd's shim to a file the kubelet serves; the local runtime:
// one pipe to the harness), so the difference between the two rows is what the log path
// adds and the rest is the network path.
// Prints a markdown table on stdout (progress on stderr) and writes every trial to
// reports/runtime-overhead-<run-id>.json.
//
//   node --import tsx bench/runtime-overhead.ts [--against docker|kubernetes] [--rounds 12] [--duration-ms 2000] [--seed 1]
//
// Needs a Docker engine and the project's images (node scripts/build-images.mjs); with
// --against kubernetes the project's cluster too (sidecar-bench cluster up).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { newRunId } from "../harness/cli/run-command.ts";
import { analyzeResults } from "../harness/experiment/analyze-results.ts";
import { pinSelf, planPinning } from "../harness/experiment/cpu-pinning.ts";
import { planSteps } from "../harness/experiment/run-experiment.ts";
import { LOCAL_DRIVER } from "../harness/load/open-loop-driver.ts";
import { runOpenRound, type Arm } from "../harness/experiment/trial-runner.ts";
import { buildInferRequest } from "../harness/load/kserve-request.ts";
import { inferModel, requireInferBlock } from "../harness/load/workload-request.ts";
import { fingerprintEnvironment, withRuntimeDescription } from "../harness/measure/environment.ts";
import { OUTLIER_RULE, decideVerdict } from "../harness/measure/paired-analysis.ts";
import { deriveSeed } from "../harness/measure/prng.ts";
import { median } from "../harness/measure/statistics.ts";
import { writeFileAtomic } from "../harness/report/atomic-write.ts";
import { formatUs, markdownTable } from "../harness/report/markdown-writer.ts";
import type { Analysis, PodRecord, TrialResult } from "../harness/report/results-model.ts";
import { createRuntime, describeRuntime } from "../harness/runtime/create-runtime.ts";
import type { StartedPod } from "../harness/runtime/pod-runtime.ts";
import { loadScenario, toPodSpec } from "../harness/scenario/index.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const say = (line: string) => process.stderr.write(`${line}\n`);
const LOCAL = "local";
const AA = "local/aa";
const LOCAL_QUIET = "local/no-log";
const REPORTED = ["p50", "p90", "p99"] as const;

function parseCli(): { rounds: number; durationMs: number; seed: number; against: "docker" | "kubernetes" } {
  const { values } = parseArgs({
    options: {
      against: { type: "string", default: "docker" },
      rounds: { type: "string", default: "12" },
      "duration-ms": { type: "string", default: "2000" },
      seed: { type: "string", default: "1" },
    },
  });
  const int = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`--${name}: expected a whole number ≥ ${min}, got ${JSON.stringify(text)}`);
    return n;
  };
  if (values.against !== "docker" && values.against !== "kubernetes") throw new Error(`--against: expected docker or kubernetes, got ${JSON.stringify(values.against)}`);
  return { rounds: int("rounds", values.rounds, 2), durationMs: int("duration-ms", values["duration-ms"], 250), seed: int("seed", values.seed, 0), against: values.against };
}

async function podRecord(pod: StartedPod, arms: string[]): Promise<PodRecord> {
  const containers = await Promise.all(
    pod.status().map(async (s) => ({
      name: s.name,
      kind: s.kind,
      timeToStartedMs: s.timeToStartedMs ?? null,
      timeToReadyMs: s.timeToReadyMs ?? null,
      idleMemoryMiB: (await pod.stats(s.name)).memoryBytes / (1024 * 1024),
    })),
  );
  return { name: pod.spec.name, variant: pod.spec.name, arms, containers, events: pod.events() };
}

const signed = (us: number) => (us > 0 ? `+${formatUs(us)}` : formatUs(us));

/** Other − local per percentile, with and without the primary's access log, against the A/A floor; arm figures are medians over rounds. */
function overheadTable(other: string, withLog: Analysis, withoutLog: Analysis, trials: TrialResult[]): string {
  const measured = (arm: string, metric: string) =>
    median(trials.filter((t) => !t.warmup && t.arm === arm).map((t) => (t.latencyUs as unknown as Record<string, number>)[metric]!));
  const rows = [
    { label: "access log on", analysis: withLog, local: LOCAL, other },
    { label: "access log off", analysis: withoutLog, local: LOCAL_QUIET, other: `${other}/no-log` },
  ].flatMap(({ label, analysis, local, other: otherArm }) =>
    REPORTED.map((metric) => {
      const m = analysis.variants[0]!.latency[metric]!;
      const floor = withLog.noiseFloor!.latency[metric]!;
      const verdict = decideVerdict(m.ci95, floor.halfWidth, "lower").replace("-", " ");
      return [
        metric,
        label,
        formatUs(measured(local, metric)),
        formatUs(measured(otherArm, metric)),
        signed(m.deltaMedian),
        `[${signed(m.ci95.low)}, ${signed(m.ci95.high)}]`,
        `±${formatUs(floor.halfWidth)}`,
        m.pValueWilcoxon < 0.001 ? "< 0.001" : m.pValueWilcoxon.toFixed(3),
        verdict,
      ];
    }),
  );
  return markdownTable(["latency", "primary", "local", other, `Δ ${other} − local`, "95% CI", "A/A floor", "p (Wilcoxon)", "verdict"], rows);
}

async function main(): Promise<number> {
  const args = parseCli();
  const scenario = await loadScenario(join(root, "scenarios", "default.yaml"));
  const spec = scenario.manifest.spec;
  const load = spec.workload.load;
  if (load.mode !== "open") throw new Error("scenarios/default.yaml: expected an open-loop workload");
  const runId = newRunId();
  const outFile = join(root, "reports", `runtime-overhead-${runId}.json`);
  const workDir = mkdtempSync(join(tmpdir(), `sidecar-bench-${runId}-`));
  const local = createRuntime({ name: LOCAL, workDir: join(workDir, LOCAL), projectRoot: root });
  const OTHER = args.against;
  const OTHER_QUIET = `${OTHER}/no-log`;
  const other = createRuntime({ name: OTHER, workDir: join(workDir, OTHER), projectRoot: root });
  const pinning = planPinning(spec.pinning.mode);
  const pinError = pinSelf(pinning.loadGeneratorCpus);
  const abort = new AbortController();
  const onSigint = () => {
    say("SIGINT: stopping after the current round (pods are stopped)");
    abort.abort();
  };
  process.once("SIGINT", onSigint);
  const pods = new Map<string, StartedPod>();
  try {
    for (const created of [local, other]) {
      const reaped = await created.runtime.reapOrphans();
      if (reaped.length > 0) say(`${created.runtime.getName()}: reaped ${reaped.join("; ")}`);
    }
    say(`runtime-overhead ${runId}: reference primary on local vs ${OTHER}, ${args.rounds} rounds × ${args.durationMs} ms per arm → ${relative(process.cwd(), outFile)}`);
    for (const [arm, created, accessLog] of [
      [LOCAL, local, true],
      [OTHER, other, true],
      [LOCAL_QUIET, local, false],
      [OTHER_QUIET, other, false],
    ] as const) {
      say(`starting the primary on the ${created.runtime.getName()} runtime${accessLog ? "" : ", access log off"}`);
      const spec = toPodSpec(scenario, "baseline", runId, { podName: arm.replace("/", "-"), ...(pinning.podCpus ? { cpuSet: pinning.podCpus } : {}) });
      if (!accessLog) for (const container of spec.containers) container.env = { ...container.env, PRIMARY_ACCESS_LOG: "0" };
      pods.set(arm, await created.runtime.startPod(spec));
    }
    const entry = scenario.baseline.entry;
    const arms: Arm[] = [
      { name: LOCAL, pod: pods.get(LOCAL)!, entry },
      { name: OTHER, pod: pods.get(OTHER)!, entry },
      { name: LOCAL_QUIET, pod: pods.get(LOCAL_QUIET)!, entry },
      { name: OTHER_QUIET, pod: pods.get(OTHER_QUIET)!, entry },
      { name: AA, pod: pods.get(LOCAL)!, entry },
    ];
    const podRecords = [
      await podRecord(pods.get(LOCAL)!, [LOCAL, AA]),
      await podRecord(pods.get(OTHER)!, [OTHER]),
      await podRecord(pods.get(LOCAL_QUIET)!, [LOCAL_QUIET]),
      await podRecord(pods.get(OTHER_QUIET)!, [OTHER_QUIET]),
    ];
    const environment = (
      await withRuntimeDescription(
        fingerprintEnvironment({
          scenarioSha256: scenario.sha256,
          runtime: `local and ${OTHER}`,
          accounting: `${local.accounting} (local), ${other.accounting} (${OTHER})`,
          pinning: pinError ? `${pinning.description} — failed: ${pinError}` : pinning.description,
          harnessVersion: "bench/runtime-overhead.ts",
          loadGenerator: "sidecar-bench open loop (undici)",
          path: local.commandPath,
        }),
        () => describeRuntime(other.runtime),
      )
    ).fingerprint;
    const infer = requireInferBlock(spec.workload.request, scenario.file);
    const request = buildInferRequest({ ...infer, model: inferModel(infer, scenario.primary.manifest.spec.model) }, deriveSeed(args.seed, "payload"));
    const steps = planSteps({ load, trials: spec.trials, arms: arms.map((a) => a.name), rounds: args.rounds, seed: args.seed, perArmMs: args.durationMs });
    const trials: TrialResult[] = [];
    for (const step of steps) {
      if (abort.signal.aborted) break;
      const results = await runOpenRound({
        firstSequence: trials.length,
        round: step.round,
        warmup: step.warmup,
        arms: step.arms.map((name) => arms.find((a) => a.name === name)!),
        slotOrder: step.slotOrder,
        slotMs: step.slotMs!,
        request,
        load,
        seed: deriveSeed(args.seed, step.warmup ? "arrivals-warmup" : `arrivals-round-${step.round}`),
        maxRateShortfallPct: spec.thresholds.maxRateShortfallPct,
        // Both runtimes' pods on this host, reached from this process alike (kubernetes: at the pod's address).
        driver: LOCAL_DRIVER,
        signal: abort.signal,
      });
      if (abort.signal.aborted) break; // a window cut short is not a measurement
      trials.push(...results);
      say(`${step.warmup ? "warm-up" : `round ${step.round! + 1}/${args.rounds}`}: ${results.map((r) => `${r.arm} p50 ${formatUs(r.latencyUs.p50)}`).join(", ")}`);
    }
    const analysis = analyzeResults({ trials, pods: podRecords, baselineArm: LOCAL, aaArm: AA, variants: [OTHER], budgets: {}, seed: deriveSeed(args.seed, "analysis") });
    // Its floor is the A/A arm's above; the pairing is the same (one arrival schedule per round).
    const quietAnalysis = analyzeResults({ trials, pods: podRecords, baselineArm: LOCAL_QUIET, aaArm: null, variants: [OTHER_QUIET], budgets: {}, seed: deriveSeed(args.seed, "analysis-no-log") });
    writeFileAtomic(
      outFile,
      `${JSON.stringify(
        {
          kind: "sidecar-bench/runtime-overhead",
          runId,
          status: abort.signal.aborted ? "interrupted" : "complete",
          environment,
          plan: { seed: args.seed, rounds: args.rounds, trialDurationMs: args.durationMs, slotMs: spec.trials.slotMs, warmupMs: spec.trials.warmupMs, arms: arms.map((a) => a.name), outlierRule: OUTLIER_RULE, steps },
          workload: spec.workload,
          pods: podRecords,
          trials,
          analysis,
          analysisWithoutAccessLog: quietAnalysis,
        },
        null,
        2,
      )}\n`,
    );
    if (!analysis || !quietAnalysis) {
      say(`no analysis: fewer than two complete rounds; trials are in ${relative(process.cwd(), outFile)}`);
      return abort.signal.aborted ? 130 : 1;
    }
    const shortfalls = trials.filter((t) => !t.warmup && t.load.rateShortfall).length;
    const errors = trials.reduce((sum, t) => sum + Object.values(t.load.errors).reduce((a, b) => a + b, 0), 0);
    const ready = (record: PodRecord) => `${Math.round(record.containers[0]?.timeToReadyMs ?? NaN)} ms`;
    process.stdout.write(
      [
        `### Runtime overhead: ${OTHER} − local, reference primary alone (${analysis.rounds} paired rounds × ${(args.durationMs / 1000).toFixed(1)} s per arm in ${spec.trials.slotMs} ms slots; open loop Poisson ${load.ratePerSec} req/s, JSON FP32 1×64; median of paired Δ, bootstrap 95% CI)`,
        "",
        overheadTable(OTHER, analysis, quietAnalysis, trials),
        "",
        `${OTHER === "docker" ? `engine: Docker ${environment.engineVersion ?? "?"}, ports via ${environment.portPublishing ?? "?"}` : `cluster: Kubernetes ${environment.cluster?.serverVersion ?? "?"}, pods reached by ${environment.cluster?.podAccess ?? "?"}`}; pinning: ${environment.pinning}; time to ready: local ${ready(podRecords[0]!)}, ${OTHER} ${ready(podRecords[1]!)}; ` +
          `${shortfalls} trial(s) short of rate, ${errors} request error(s)`,
        `results: ${relative(process.cwd(), outFile)}`,
        "",
      ].join("\n"),
    );
    return abort.signal.aborted ? 130 : 0;
  } finally {
    for (const pod of pods.values()) await pod.stop();
    await Promise.all([local.runtime.stopAll(), other.runtime.stopAll()]);
    process.off("SIGINT", onSigint);
  }
}

try {
  process.exitCode = await main();
} catch (error) {
  say(`runtime-overhead failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
