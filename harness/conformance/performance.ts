// The performance figures of a certificate: a short paired benchmark of the reference
// primary alone against the primary with the sidecar, through the same experiment
// machinery as `run`. The scenario is written into the report folder as a file, so
// `sidecar-bench run <folder>/performance/scenario.yaml` repeats it at full length.
import { join } from "node:path";
import { stringify } from "yaml";
import { AA_ARM, runExperiment } from "../experiment/run-experiment.ts";
import { median } from "../measure/statistics.ts";
import type { MetricAnalysis } from "../measure/paired-analysis.ts";
import { writeFileAtomic } from "../report/atomic-write.ts";
import type { Results } from "../report/results-model.ts";
import { describeWorkload } from "../report/markdown-writer.ts";
import { writeReports } from "../report/write-reports.ts";
import type { PodRuntime } from "../runtime/pod-runtime.ts";
import {
  API_VERSION,
  BASELINE_VARIANT,
  PRIMARY_CONTAINER,
  PRIMARY_HTTP_PORT,
  loadScenario,
  type LoadedManifest,
  type PrimaryManifest,
  type ScenarioManifestInput,
  type SidecarManifest,
} from "../scenario/index.ts";

/**
 * ≈ 65 s, so a whole certification stays well inside 5 minutes on 2 cores. 6 rounds × 1 s
 * gave Envoy's Δp99 a CI of [−6.5 ms, +1.4 ms] (p99 of 200 requests is their 2nd-slowest);
 * 10 × 2 s halves the spread of each round's p99 and gives the bootstrap 10 pairs.
 */
export const PERFORMANCE_PLAN = {
  rounds: 10,
  armDurationMs: 2_000,
  warmupMs: 1_000,
  slotMs: 250,
  ratePerSec: 200,
  seed: 1,
} as const;

export interface LatencyDelta {
  /** Median over rounds of the baseline's percentile. */
  baselineUs: number;
  /** Median of the paired Δ (with sidecar − without). */
  deltaUs: number;
  ci95Us: { low: number; high: number };
  /** A/A half-width: an effect inside ±this is not distinguishable from noise. */
  noiseFloorUs: number;
  verdict: MetricAnalysis["verdict"];
  pValueWilcoxon: number;
}

export interface PerformanceFigures {
  status: "measured";
  /** One line: what was measured, how long, at what rate. */
  workload: string;
  /** --workload: the scenario whose workload, sweep and trials were measured; absent for certify's default. */
  workloadFile?: string;
  rounds: number;
  /** Per request; a sweep's at its lightest rate. */
  addedLatency: { p50: LatencyDelta; p99: LatencyDelta };
  /** Token-stream workloads: what the sidecar adds to the first token and to each following one. */
  perToken?: { ttftP50: LatencyDelta; ttftP99: LatencyDelta; itlP50: LatencyDelta; itlP99: LatencyDelta };
  /** Rate sweeps: each arm's knee (the highest rate sustained) and why the next rate was not. */
  sweep?: { ratesPerSec: number[]; knees: Array<{ arm: string; kneeRatePerSec: number | null; saturatedAtPerSec: number | null; reason: string }> };
  sidecar: {
    container: string;
    vcpu: number;
    vcpuPer1kRps: number;
    memoryAvgMiB: number;
    memoryPeakMiB: number;
    idleMemoryMiB: number;
    timeToReadyMs: number | null;
  };
  /** Whole pod with the sidecar minus the primary alone, vCPU per 1000 req/s. (The manifest's budgets are judged against these figures as claims: claims.ts.) */
  podVcpuPer1kRpsDelta: number;
  accounting: string;
  pinning: string;
  /** What drove the load, as the run named it (its environment's loadGenerator). */
  loadGenerator: string;
  warnings: string[];
  /** The benchmark's own report folder, relative to the certificate's. */
  resultsDir: string;
}

export type PerformanceSection =
  | PerformanceFigures
  | { status: "failed"; error: string; resultsDir: string }
  | { status: "not-measured"; reason: string };

/** certify --workload: a scenario's workload, sweep and trial plan in place of certify's default benchmark. */
export interface CertifyWorkload {
  file: string;
  spec: Pick<ScenarioManifestInput["spec"], "workload" | "sweep" | "trials">;
}

export interface PerformanceInput {
  sidecar: LoadedManifest<SidecarManifest>;
  primary: LoadedManifest<PrimaryManifest>;
  workload?: CertifyWorkload;
  runtime: PodRuntime;
  runId: string;
  /** The certificate's folder; the benchmark writes into <outDir>/performance/. */
  outDir: string;
  harnessVersion: string;
  accounting: string;
  commandPath: string;
  signal?: AbortSignal;
  onLine?(line: string): void;
}

export const PERFORMANCE_DIR = "performance";

/** The variant's name in the benchmark: the sidecar's, unless it collides with the implicit baseline. */
function variantName(sidecar: SidecarManifest): string {
  return sidecar.metadata.name === BASELINE_VARIANT ? "sidecar" : sidecar.metadata.name;
}

export function performanceScenario(sidecar: LoadedManifest<SidecarManifest>, primary: LoadedManifest<PrimaryManifest>, custom?: CertifyWorkload): ScenarioManifestInput {
  const listen = sidecar.manifest.spec.proxy?.listen;
  // A proxy is measured in the request path; any other sidecar beside it (what it costs the pod).
  const entry = listen ? `${sidecar.manifest.metadata.name}.${listen}` : `${PRIMARY_CONTAINER}.${PRIMARY_HTTP_PORT}`;
  const inputDim = Number(primary.manifest.spec.container.env?.["PRIMARY_INPUT_DIM"] ?? 64);
  return {
    apiVersion: API_VERSION,
    kind: "Scenario",
    metadata: { name: "certify-performance", description: `${sidecar.manifest.metadata.name}: certify's short benchmark (reference primary alone vs with the sidecar)` },
    spec: {
      runtime: "local",
      terminationGracePeriodMs: 10_000,
      primary: primary.file,
      variants: [{ name: variantName(sidecar.manifest), sidecars: [sidecar.file], entry }],
      workload: {
        request: { kind: "infer", format: "json", inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1, inputDim] }] },
        load: { mode: "open", arrival: "poisson", ratePerSec: PERFORMANCE_PLAN.ratePerSec, maxConnections: 32 },
      },
      trials: {
        rounds: PERFORMANCE_PLAN.rounds,
        durationMs: PERFORMANCE_PLAN.armDurationMs,
        minRequests: PERFORMANCE_PLAN.ratePerSec * (PERFORMANCE_PLAN.armDurationMs / 1000),
        warmupMs: PERFORMANCE_PLAN.warmupMs,
        slotMs: PERFORMANCE_PLAN.slotMs,
      },
      calibration: { aa: true },
      seed: PERFORMANCE_PLAN.seed,
      pinning: { mode: "split" },
      // --workload: that scenario's request, load, sweep and trials; the pods stay certify's.
      ...(custom ? { workload: custom.spec.workload, trials: custom.spec.trials, ...(custom.spec.sweep ? { sweep: custom.spec.sweep } : {}) } : {}),
    },
  };
}

/** Never throws for a failed benchmark: the verdicts stand without figures, and the report says why. */
export async function measurePerformance(input: PerformanceInput): Promise<PerformanceSection> {
  const dir = join(input.outDir, PERFORMANCE_DIR);
  const scenarioFile = join(dir, "scenario.yaml");
  writeFileAtomic(
    scenarioFile,
    `# Written by sidecar-bench certify; re-run at full length with: sidecar-bench run ${scenarioFile} --trials 20\n${stringify(performanceScenario(input.sidecar, input.primary, input.workload))}`,
  );
  let latest: Results | null = null;
  try {
    const scenario = await loadScenario(scenarioFile);
    const results = await runExperiment({
      scenario,
      runtime: input.runtime,
      runId: input.runId,
      ...(input.signal ? { signal: input.signal } : {}),
      harnessVersion: input.harnessVersion,
      accounting: input.accounting,
      commandPath: input.commandPath,
      hooks: {
        persist: (r) => {
          latest = r;
          writeReports(r, dir);
        },
        onPhase: (line) => input.onLine?.(`performance: ${line}`),
        onTrialDone: (_r, label) => input.onLine?.(`performance: ${label}`),
      },
    });
    return figuresOf(results, variantName(input.sidecar.manifest), input.sidecar.manifest.metadata.name, input.workload?.file);
  } catch (error) {
    const finished = latest as Results | null;
    const reason = input.signal?.aborted ? "interrupted" : (error as Error).message;
    return { status: "failed", error: finished?.error ?? reason, resultsDir: PERFORMANCE_DIR };
  }
}

/** Figures at the precision they are measured to: the full float is noise in a certificate. */
function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

export function figuresOf(results: Results, variant: string, container: string, workloadFile?: string): PerformanceSection {
  // A sidecar that cannot carry the workload (gRPC through an HTTP/1.1 proxy) has no figures for it, and no failure either.
  const unsupported = results.notSupported?.find((n) => n.variant === variant);
  if (unsupported) return { status: "not-measured", reason: `not supported for the workload: ${unsupported.reason}` };
  const analysis = results.analysis;
  const measured = analysis?.variants.find((v) => v.variant === variant);
  if (!analysis || !measured) {
    return { status: "failed", error: `no analysis: ${results.status === "interrupted" ? "interrupted" : "fewer than two complete rounds"}`, resultsDir: PERFORMANCE_DIR };
  }
  const cost = measured.resources.find((r) => r.container === container);
  if (!cost) return { status: "failed", error: `no resource figures of container ${container}`, resultsDir: PERFORMANCE_DIR };
  // A sweep's analysis is its lightest rate's: the baseline figure must be that rate's too.
  const lightestRatePerSec = results.sweep?.ratesPerSec[0];
  const baselineTrials = results.trials.filter((t) => !t.warmup && t.arm === BASELINE_VARIANT && (lightestRatePerSec === undefined || t.load.targetRatePerSec === lightestRatePerSec));
  const judged = (m: MetricAnalysis, baselineUs: number): LatencyDelta => ({
    baselineUs: round(baselineUs, 1),
    deltaUs: round(m.deltaMedian, 1),
    ci95Us: { low: round(m.ci95.low, 1), high: round(m.ci95.high, 1) },
    noiseFloorUs: round(m.noiseFloorHalfWidth, 1),
    verdict: m.verdict,
    pValueWilcoxon: Number(m.pValueWilcoxon.toPrecision(3)),
  });
  const delta = (metric: "p50" | "p99"): LatencyDelta => judged(measured.latency[metric]!, median(baselineTrials.map((t) => t.latencyUs[metric])));
  const stream = analysis.tokenStream;
  const streamed = stream?.variants.find((v) => v.variant === variant);
  const streamBaseline = stream?.arms.find((a) => a.arm === BASELINE_VARIANT);
  const perToken =
    streamed && streamBaseline
      ? {
          ttftP50: judged(streamed.ttft["p50"]!, streamBaseline.ttftP50Us),
          ttftP99: judged(streamed.ttft["p99"]!, streamBaseline.ttftP99Us),
          itlP50: judged(streamed.itl["p50"]!, streamBaseline.itlP50Us),
          itlP99: judged(streamed.itl["p99"]!, streamBaseline.itlP99Us),
        }
      : undefined;
  const sweep = results.sweep
    ? {
        ratesPerSec: results.sweep.ratesPerSec,
        // The A/A twin's knee is the baseline's again: the certificate lists the two pods only.
        knees: results.sweep.knees.filter((k) => k.arm !== AA_ARM).map(({ arm, kneeRatePerSec, saturatedAtPerSec, reason }) => ({ arm, kneeRatePerSec, saturatedAtPerSec, reason })),
      }
    : undefined;
  const plan = results.plan;
  return {
    status: "measured",
    workload:
      `${describeWorkload(results)}; ${plan.rounds} paired rounds × ${(plan.trialDurationMs / 1000).toFixed(1)} s per arm ` +
      `${plan.interleaving === "slots" ? `in ${plan.slotMs} ms slots` : "one trial per arm per round"}, arms ${plan.arms.join(", ")}${plan.aaArm === AA_ARM ? " (A/A noise floor)" : ""}`,
    ...(workloadFile ? { workloadFile } : {}),
    rounds: analysis.rounds,
    addedLatency: { p50: delta("p50"), p99: delta("p99") },
    ...(perToken ? { perToken } : {}),
    ...(sweep ? { sweep } : {}),
    sidecar: {
      container,
      vcpu: round(cost.vcpuMedian, 4),
      vcpuPer1kRps: round(cost.vcpuPer1kRpsMedian, 4),
      memoryAvgMiB: round(cost.memoryAvgMiBMedian, 2),
      memoryPeakMiB: round(cost.memoryPeakMiB, 2),
      idleMemoryMiB: round(cost.idleMemoryMiB, 2),
      timeToReadyMs: cost.timeToReadyMs === null ? null : round(cost.timeToReadyMs, 1),
    },
    podVcpuPer1kRpsDelta: round(measured.podVcpuPer1kRpsDelta, 4),
    accounting: results.environment.accounting,
    pinning: results.environment.pinning,
    loadGenerator: results.environment.loadGenerator,
    warnings: results.warnings,
    resultsDir: PERFORMANCE_DIR,
  };
}
