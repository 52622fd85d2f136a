// From trials to conclusions: paired deltas against the baseline with bootstrap CIs,
// the A/A noise floor, and resource costs per container (vCPU per 1000 req/s, MiB).
import { BACKEND_CONTAINER, METRICS_BACKEND_CONTAINER } from "../scenario/sidecar-schema.ts";
import { median } from "../measure/statistics.ts";
import { DEFAULT_METRICS, LATENCY_METRICS, analyzeVariant, calibrateNoiseFloors, type AnalysisOptions, type NoiseFloor } from "../measure/paired-analysis.ts";
import type { Analysis, BudgetCheck, ContainerCost, PodRecord, StreamArmSummary, TokenStreamAnalysis, TrialResult, VariantAnalysis } from "../report/results-model.ts";
import { ciAgainstLimit } from "../measure/ci-against-limit.ts";

const BUDGET_RESULT = { within: "within", above: "exceeded", straddles: "inconclusive" } as const;

export interface SidecarBudgets {
  idleMemoryMiB?: number;
  cpuPer1kRps?: number;
  addedP99Ms?: number;
  addedP50Ms?: number;
  timeToReadyMs?: number;
}

export interface AnalysisInput {
  trials: TrialResult[];
  pods: PodRecord[];
  baselineArm: string;
  aaArm: string | null;
  variants: string[];
  /** Budgets declared by each variant's sidecars: budgets[variant][container]. */
  budgets: Record<string, Record<string, SidecarBudgets>>;
  seed: number;
}

type Observation = Record<string, number>;

/** Returns null until at least two complete rounds exist (an interrupted run may have fewer). */
export function analyzeResults(input: AnalysisInput): Analysis | null {
  const byArm = measuredByArm(input.trials);
  const arms = [input.baselineArm, ...input.variants, ...(input.aaArm ? [input.aaArm] : [])];
  const rounds = completeRounds(byArm, arms);
  if (rounds.length < 2) return null;
  const pick = (arm: string) => rounds.map((round) => byArm.get(arm)!.get(round)!);
  const baseline = pick(input.baselineArm);
  const options = { seed: input.seed };
  const latencyOf = (trials: TrialResult[]) => trials.map((t) => observation(t, "latencyUs"));
  const serviceOf = (trials: TrialResult[]) => trials.map((t) => observation(t, "serviceTimeUs"));
  let floors: { latency: Record<string, NoiseFloor>; serviceTime: Record<string, NoiseFloor> } | null = null;
  if (input.aaArm) {
    const aa = pick(input.aaArm);
    floors = {
      latency: calibrateNoiseFloors(DEFAULT_METRICS, latencyOf(baseline), latencyOf(aa), options),
      serviceTime: calibrateNoiseFloors(LATENCY_METRICS, serviceOf(baseline), serviceOf(aa), options),
    };
  }
  const baselinePod = input.pods.find((p) => p.arms.includes(input.baselineArm));
  const variants: VariantAnalysis[] = input.variants.map((variant) => {
    const trials = pick(variant);
    const pod = input.pods.find((p) => p.arms.includes(variant));
    const resources = containerCosts(trials, pod);
    const latency = analyzeVariant(DEFAULT_METRICS, latencyOf(baseline), latencyOf(trials), floors?.latency ?? zeroFloors(DEFAULT_METRICS.map((m) => m.name)), options);
    const serviceTime = analyzeVariant(LATENCY_METRICS, serviceOf(baseline), serviceOf(trials), floors?.serviceTime ?? zeroFloors(LATENCY_METRICS.map((m) => m.name)), options);
    const podDelta = median(trials.map((t, i) => podVcpuPer1kRps(t) - podVcpuPer1kRps(baseline[i]!)));
    return {
      variant,
      latency,
      serviceTime,
      resources,
      podVcpuPer1kRpsDelta: podDelta,
      budgetChecks: checkBudgets(input.budgets[variant] ?? {}, resources, latency),
    };
  });
  const tokenStream = analyzeTokenStreams(input, pick, options);
  return { rounds: rounds.length, noiseFloor: floors, baselineResources: containerCosts(baseline, baselinePod), variants, ...(tokenStream ? { tokenStream } : {}) };
}

/** TTFT and ITL are compared at p50 and p99: the typical token and the tail a user notices. */
const STREAM_METRICS = LATENCY_METRICS.filter((m) => m.name === "p50" || m.name === "p99");

/**
 * Token streams: the same paired machinery as latency (Δ per round, bootstrap CI, A/A
 * floor), on each trial's TTFT and ITL percentiles. Undefined for unary workloads.
 */
function analyzeTokenStreams(input: AnalysisInput, pick: (arm: string) => TrialResult[], options: AnalysisOptions): TokenStreamAnalysis | undefined {
  const arms = [input.baselineArm, ...input.variants, ...(input.aaArm ? [input.aaArm] : [])];
  if (!arms.every((arm) => pick(arm).every((t) => t.stream !== undefined))) return undefined;
  const ttftOf = (arm: string) => pick(arm).map((t) => t.stream!.ttftUs);
  const itlOf = (arm: string) => pick(arm).map((t) => t.stream!.itlUs);
  const noiseFloor = input.aaArm
    ? { ttft: calibrateNoiseFloors(STREAM_METRICS, ttftOf(input.baselineArm), ttftOf(input.aaArm), options), itl: calibrateNoiseFloors(STREAM_METRICS, itlOf(input.baselineArm), itlOf(input.aaArm), options) }
    : null;
  const zero = zeroFloors(STREAM_METRICS.map((m) => m.name));
  return {
    arms: [input.baselineArm, ...input.variants].map((arm) => streamArmSummary(arm, pick(arm))),
    noiseFloor,
    variants: input.variants.map((variant) => ({
      variant,
      ttft: analyzeVariant(STREAM_METRICS, ttftOf(input.baselineArm), ttftOf(variant), noiseFloor?.ttft ?? zero, options),
      itl: analyzeVariant(STREAM_METRICS, itlOf(input.baselineArm), itlOf(variant), noiseFloor?.itl ?? zero, options),
    })),
  };
}

function streamArmSummary(arm: string, trials: TrialResult[]): StreamArmSummary {
  const of = (value: (t: TrialResult) => number) => median(trials.map(value));
  return {
    arm,
    ttftP50Us: of((t) => t.stream!.ttftUs.p50),
    ttftP99Us: of((t) => t.stream!.ttftUs.p99),
    itlP50Us: of((t) => t.stream!.itlUs.p50),
    itlP99Us: of((t) => t.stream!.itlUs.p99),
    endToEndP50Us: of((t) => t.latencyUs.p50),
    endToEndP99Us: of((t) => t.latencyUs.p99),
    tokensPerSec: of((t) => t.stream!.tokensPerSec),
    streamTokensPerSec: of((t) => t.stream!.streamTokensPerSecP50),
  };
}

function measuredByArm(trials: TrialResult[]): Map<string, Map<number, TrialResult>> {
  const byArm = new Map<string, Map<number, TrialResult>>();
  for (const trial of trials) {
    if (trial.warmup || trial.round === null) continue;
    if (!byArm.has(trial.arm)) byArm.set(trial.arm, new Map());
    byArm.get(trial.arm)!.set(trial.round, trial);
  }
  return byArm;
}

/** Rounds in which every arm has a trial: only those can be paired. */
function completeRounds(byArm: Map<string, Map<number, TrialResult>>, arms: string[]): number[] {
  const first = byArm.get(arms[0]!);
  if (!first) return [];
  return [...first.keys()].filter((round) => arms.every((arm) => byArm.get(arm)?.has(round))).sort((a, b) => a - b);
}

function observation(trial: TrialResult, field: "latencyUs" | "serviceTimeUs"): Observation {
  const { p50, p90, p99, p99_9 } = trial[field];
  return { p50, p90, p99, p99_9, throughputPerSec: trial.load.achievedRatePerSec };
}

function zeroFloors(metrics: string[]): Record<string, NoiseFloor> {
  // Without an A/A arm the floor is zero width: only the CI decides (and reports say so).
  return Object.fromEntries(
    metrics.map((metric) => [
      metric,
      { metric, unit: "", rounds: 0, deltaMedian: 0, ci95: { low: 0, high: 0 }, deltaMedianPercent: 0, ci95Percent: { low: 0, high: 0 }, pValueMannWhitney: 1, pValueWilcoxon: 1, halfWidth: 0, halfWidthPercent: 0 },
    ]),
  );
}

/**
 * The pod's vCPU per 1000 req/s, without the role backends (role-wiring.ts): they stand in
 * for services outside the pod (a collector, a log store, a vault), so their cost is not
 * the sidecar's. Their own figures stay in the per-container table.
 */
export function podVcpuPer1kRps(trial: TrialResult): number {
  return trial.resources.filter((r) => !ROLE_BACKENDS.includes(r.container)).reduce((sum, r) => sum + r.vcpuPer1kRps, 0);
}

const ROLE_BACKENDS: readonly string[] = [BACKEND_CONTAINER, METRICS_BACKEND_CONTAINER];

function containerCosts(trials: TrialResult[], pod: PodRecord | undefined): ContainerCost[] {
  const names = trials[0]?.resources.map((r) => r.container) ?? [];
  return names.map((container) => {
    const usage = trials.map((t) => t.resources.find((r) => r.container === container)!).filter(Boolean);
    const startup = pod?.containers.find((c) => c.name === container);
    return {
      container,
      kind: startup?.kind ?? "main",
      vcpuMedian: median(usage.map((u) => u.vcpu)),
      vcpuPer1kRpsMedian: median(usage.map((u) => u.vcpuPer1kRps)),
      memoryAvgMiBMedian: median(usage.map((u) => u.memoryAvgMiB)),
      memoryPeakMiB: Math.max(...usage.map((u) => u.memoryPeakMiB)),
      idleMemoryMiB: startup?.idleMemoryMiB ?? NaN,
      timeToReadyMs: startup?.timeToReadyMs ?? null,
      throttledPeriods: usage.reduce((sum, u) => sum + u.throttledPeriods, 0),
    };
  });
}

function checkBudgets(
  budgets: Record<string, SidecarBudgets>,
  resources: ContainerCost[],
  latency: VariantAnalysis["latency"],
): BudgetCheck[] {
  const checks: BudgetCheck[] = [];
  const add = (container: string, budget: string, limit: number | undefined, measured: number | null | undefined, unit: string) => {
    if (limit === undefined || measured === null || measured === undefined || Number.isNaN(measured)) return;
    checks.push({ container, budget, limit, measured, unit, result: BUDGET_RESULT[ciAgainstLimit({ measured }, limit)] });
  };
  // A latency budget holds only if the whole 95% CI of the added latency is within it; a CI
  // straddling the limit is inconclusive (more rounds would tell), not a pass or a fail.
  const addLatency = (container: string, budget: string, limitMs: number | undefined, metric: VariantAnalysis["latency"][string] | undefined) => {
    if (limitMs === undefined || !metric) return;
    const ci95 = { low: metric.ci95.low / 1000, high: metric.ci95.high / 1000 };
    const measured = metric.deltaMedian / 1000;
    const result = BUDGET_RESULT[ciAgainstLimit({ measured, ci95 }, limitMs)];
    checks.push({ container, budget, limit: limitMs, measured, ci95, unit: "ms", result });
  };
  for (const [container, budget] of Object.entries(budgets)) {
    const cost = resources.find((r) => r.container === container);
    add(container, "idleMemoryMiB", budget.idleMemoryMiB, cost?.idleMemoryMiB, "MiB");
    add(container, "cpuPer1kRps", budget.cpuPer1kRps, cost?.vcpuPer1kRpsMedian, "vCPU");
    add(container, "timeToReadyMs", budget.timeToReadyMs, cost?.timeToReadyMs, "ms");
    addLatency(container, "addedP50Ms", budget.addedP50Ms, latency.p50);
    addLatency(container, "addedP99Ms", budget.addedP99Ms, latency.p99);
  }
  return checks;
}
