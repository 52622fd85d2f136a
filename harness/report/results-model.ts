// results.json: the complete, versioned record of one run. Every report is rendered
// from it, and every percentile can be recomputed from the encoded histograms.
import type { PercentilesUs } from "../measure/histogram.ts";
import type { EnvironmentFingerprint } from "../measure/environment.ts";
import type { MetricAnalysis, NoiseFloor } from "../measure/paired-analysis.ts";
import type { ContainerUsage } from "../measure/resource-sampler.ts";
import type { ErrorCounts } from "../load/load-errors.ts";
import type { ContainerLogUsage, PodEvent } from "../runtime/pod-runtime.ts";
import type { Knee, KneeRule, SweepPoint } from "../experiment/rate-sweep.ts";
import type { ThresholdResult } from "../experiment/thresholds.ts";

export const RESULTS_SCHEMA_VERSION = 2;
export const RESULTS_KIND = "sidecar-bench/results";

export type RunStatus = "running" | "complete" | "interrupted" | "failed";

export interface TrialLoad {
  mode: "open" | "closed";
  targetRatePerSec: number | null;
  achievedRatePerSec: number;
  rateShortfallPct: number | null;
  rateShortfall: boolean;
  scheduled: number;
  completed: number;
  ok: number;
  errors: ErrorCounts;
  connections: number;
}

export interface PlannedStep {
  warmup: boolean;
  round: number | null;
  arms: string[];
  /** Open loop: slot length and the arm (index into `arms`) of each slot; closed loop: null and [0]. */
  slotMs: number | null;
  slotOrder: number[];
  /** Rate sweeps: the open-loop rate of this step (rounds are numbered across the whole sweep). */
  ratePerSec?: number;
}

export interface TrialResult {
  sequence: number;
  arm: string;
  pod: string;
  warmup: boolean;
  round: number | null;
  startedAt: string;
  durationMs: number;
  load: TrialLoad;
  /** From the scheduled send time (open loop) or the socket write (closed loop). */
  latencyUs: PercentilesUs;
  /** From the actual send: what the pod took, without the client's queueing. */
  serviceTimeUs: PercentilesUs;
  /** How late the generator sent (open loop only): never the pod's latency. */
  pacingErrorUs: { p50: number; p99: number; max: number } | null;
  /** hdr-histogram-js compressed base64, values in µs. */
  histograms: { latency: string; serviceTime: string | null; pacingError: string | null };
  /** Per container of the arm's pod. Open loop: `vcpu` is at this arm's rate (the pod idled in other arms' slots). */
  resources: Array<ContainerUsage & { vcpuPer1kRps: number }>;
  /** Token-stream workloads only (request kind generate_stream): per-token figures of the ok streams. */
  stream?: TrialStream;
}

/** A trial's token streams. End-to-end is the trial's latency (scheduled send → last byte). */
export interface TrialStream {
  /** Tokens received in ok streams. */
  tokens: number;
  /** Time to first token from the scheduled send (like latencyUs). */
  ttftUs: PercentilesUs;
  /** Time to first token from the socket write (like serviceTimeUs). */
  ttftServiceUs: PercentilesUs;
  /** Inter-token latency: gaps between consecutive tokens, over all ok streams. */
  itlUs: PercentilesUs;
  /** The arm's token throughput at this request rate. */
  tokensPerSec: number;
  /** Median over ok streams of one stream's decode rate, (tokens − 1) / (last − first token); null (JSON) without any. */
  streamTokensPerSecP50: number;
  /** hdr-histogram-js compressed base64, values in µs. */
  histograms: { ttft: string; ttftService: string; itl: string };
}

export interface ContainerStartup {
  name: string;
  kind: "sidecar" | "main";
  timeToStartedMs: number | null;
  timeToReadyMs: number | null;
  idleMemoryMiB: number;
}

export interface PodRecord {
  name: string;
  variant: string;
  arms: string[];
  containers: ContainerStartup[];
  events: PodEvent[];
  /** Each container's log file once the pod stopped: bytes written and dropped by the cap (absent where the runtime keeps none). */
  logs?: Array<ContainerLogUsage & { container: string }>;
}

export interface ContainerCost {
  container: string;
  kind: "sidecar" | "main";
  vcpuMedian: number;
  vcpuPer1kRpsMedian: number;
  memoryAvgMiBMedian: number;
  memoryPeakMiB: number;
  idleMemoryMiB: number;
  timeToReadyMs: number | null;
  throttledPeriods: number;
}

export interface VariantAnalysis {
  variant: string;
  /** Latency from the scheduled send (open loop) — the figure for latency claims. */
  latency: Record<string, MetricAnalysis>;
  /** Service time: the same comparison without client-side queueing. */
  serviceTime: Record<string, MetricAnalysis>;
  resources: ContainerCost[];
  /** Pod total vCPU per 1000 req/s minus the baseline pod's (median of paired rounds). */
  podVcpuPer1kRpsDelta: number;
  budgetChecks: BudgetCheck[];
}

export interface BudgetCheck {
  container: string;
  budget: string;
  limit: number;
  /** The figure judged: for latency budgets the median added latency, with its CI beside it. */
  measured: number;
  ci95?: { low: number; high: number };
  unit: string;
  /** Latency: within when the whole CI is ≤ limit, exceeded when it is all above, else inconclusive. */
  result: "within" | "exceeded" | "inconclusive";
}

export interface Analysis {
  rounds: number;
  noiseFloor: { latency: Record<string, NoiseFloor>; serviceTime: Record<string, NoiseFloor> } | null;
  baselineResources: ContainerCost[];
  variants: VariantAnalysis[];
  /** Token-stream workloads only. */
  tokenStream?: TokenStreamAnalysis;
}

/** One arm's token-stream figures: medians over the paired rounds of each trial's figure. */
export interface StreamArmSummary {
  arm: string;
  ttftP50Us: number;
  ttftP99Us: number;
  itlP50Us: number;
  itlP99Us: number;
  endToEndP50Us: number;
  endToEndP99Us: number;
  tokensPerSec: number;
  streamTokensPerSec: number;
}

/** What a sidecar costs each token: paired Δ of TTFT and ITL percentiles against the baseline, judged against their A/A floors. */
export interface TokenStreamAnalysis {
  arms: StreamArmSummary[];
  noiseFloor: { ttft: Record<string, NoiseFloor>; itl: Record<string, NoiseFloor> } | null;
  variants: Array<{ variant: string; ttft: Record<string, MetricAnalysis>; itl: Record<string, MetricAnalysis> }>;
}

/** A rate sweep's outcome: each arm's curve, knee, and the paired analysis at every rate. */
export interface SweepAnalysis {
  ratesPerSec: number[];
  kneeRule: KneeRule;
  points: SweepPoint[];
  knees: Knee[];
  perRate: Array<{ ratePerSec: number; analysis: Analysis | null; note?: string }>;
}

export interface Results {
  kind: typeof RESULTS_KIND;
  schemaVersion: typeof RESULTS_SCHEMA_VERSION;
  runId: string;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  scenario: { file: string; name: string; sha256: string; spec: unknown };
  /** The model server every arm ran (the scenario's, or --primary's); absent in results before it was recorded. */
  primary?: { name: string; version: string | null; file: string; sha256: string };
  environment: EnvironmentFingerprint;
  plan: {
    seed: number;
    arms: string[];
    aaArm: string | null;
    rounds: number;
    /** Measured time per arm and round. */
    trialDurationMs: number;
    /** "slots": open-loop rounds alternate the arms in slots of slotMs; "sequential": one trial per arm. */
    interleaving: "slots" | "sequential";
    slotMs: number | null;
    minRequests: number;
    warmupMs: number;
    outlierRule: string;
    /** The whole schedule, as run (derived from the seed). */
    steps: PlannedStep[];
  };
  pods: PodRecord[];
  trials: TrialResult[];
  /** The whole run's analysis; for a rate sweep, the lightest rate's (each rate's is in `sweep`). */
  analysis: Analysis | null;
  sweep?: SweepAnalysis;
  /** Variants left out because their entry could not carry the workload (gRPC through an HTTP/1.1-only proxy), with why. */
  notSupported?: Array<{ variant: string; reason: string }>;
  /** spec.thresholds judged after the run (absent in results written before they existed, or while running). */
  thresholds?: ThresholdResult[];
  warnings: string[];
  reaped: string[];
  error: string | null;
}
