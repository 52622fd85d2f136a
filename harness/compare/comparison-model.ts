// results.json of `sidecar-bench compare`: every measurement behind every cell of the
// table, so a verdict can be checked (and re-derived) from the numbers it rests on.
import type { EnvironmentFingerprint } from "../measure/environment.ts";
import type { Results, RunStatus } from "../report/results-model.ts";
import type { Column, RowId } from "./claims.ts";

export const COMPARISON_KIND = "sidecar-bench/comparison";
export const COMPARISON_SCHEMA_VERSION = 1;

export type CellVerdict = "holds" | "refuted" | "not-distinguishable";

export interface Cell {
  row: RowId;
  column: Column;
  claim: string;
  /** The measured value in words, with its figures. */
  measured: string;
  verdict: CellVerdict;
  /** measured: from load and fault episodes; derived: from the pod specs and facts the equivalence check observed. */
  basis: "measured" | "derived";
  /** The numbers the verdict rests on (also in the sections below). */
  evidence: Record<string, unknown>;
}

export interface EquivalenceCheck {
  name: string;
  passed: boolean;
  detail: string;
}

/** What the equivalence check saw of one integration: it must do the contract's work before its cost means anything. */
export interface EquivalenceResult {
  column: Column;
  variant: string;
  passed: boolean;
  checks: EquivalenceCheck[];
  /** From aux_build_info and the primary's /v2/debug/pid. */
  facts: {
    integration: string | null;
    language: string | null;
    runtime: string | null;
    version: string | null;
    functionPid: number | null;
    primaryPid: number | null;
    /** The primary's language, read from its container command. */
    primaryLanguage: string;
  };
}

export type EpisodeKind = "memory-balloon" | "cpu-spin" | "restart" | "crash";

export interface StreamWindow {
  sent: number;
  ok: number;
  failed: number;
  /** ok / sent × 100; null when nothing was scheduled in the window. */
  availabilityPct: number | null;
  /** Latency of the ok requests, from the scheduled send. */
  p50Us: number | null;
  p99Us: number | null;
}

export interface StreamRecord {
  /** "entry": what clients of the variant see; "primary": straight to the primary's own port. */
  target: "entry" | "primary";
  ratePerSec: number;
  before: StreamWindow;
  during: StreamWindow;
  /** Failures from the trigger on; "not-sent" counts only the generator's own lateness. */
  errors: Record<string, number>;
  /** Trigger → first ok request scheduled after the last failure; 0 with no failure; null if the last request failed. */
  timeToRecoverMs: number | null;
  /** p99 during / p99 before, with a two-sample bootstrap 95% CI; null with fewer than 20 ok requests in a window. */
  p99Ratio: { estimate: number; low: number; high: number } | null;
  /** ok/failed per bin of timelineBinMs from the first scheduled request. */
  timeline: Array<{ ok: number; failed: number }>;
}

export interface ContainerFate {
  container: string;
  restarts: number;
  /** Exits seen during the episode, as the runtime described them. */
  exits: string[];
  oomKills: number;
  memoryPeakMiB: number;
  /** CPU seconds over the observation window / its length. */
  vcpuDuring: number;
  throttledPeriods: number;
}

export interface EpisodeResult {
  column: Column;
  variant: string;
  kind: EpisodeKind;
  /** The container that hosts the function (its "unit"): the sidecar, or the primary itself. */
  unit: string;
  /** How the fault was set off, and whether the function accepted it. */
  trigger: { how: string; atMs: number; accepted: boolean; detail: string };
  limits: { unit: { memoryMiB?: number; cpus?: number }; primary: { memoryMiB?: number; cpus?: number } };
  streams: StreamRecord[];
  primary: {
    pidBefore: number | null;
    pidAfter: number | null;
    modelLoadedAtBefore: number | null;
    modelLoadedAtAfter: number | null;
    restarted: boolean;
    modelReloaded: boolean;
    oomKilled: boolean;
  };
  containers: ContainerFate[];
  /** Did the fault take effect (memory grew to the limit, CPU burned, the process died)? If not, the episode shows nothing. */
  faultTookEffect: boolean;
  timelineBinMs: number;
  error: string | null;
}

export interface PodStructure {
  variant: string;
  containers: number;
  /** Processes started for the pod (one per container here). */
  processes: number;
  ports: number;
  /** Manifests plus config files their commands reference ({{ file }}), and their non-empty lines. */
  configFiles: Array<{ file: string; lines: number }>;
  /** Containers that must be started (probe passed) before another may start. */
  startupDependencies: number;
  /** Probes the runtime must run. */
  probes: number;
  /** Container images or binaries to build and ship, one per container. */
  artifacts: string[];
}

export interface ComparisonResults {
  kind: typeof COMPARISON_KIND;
  schemaVersion: typeof COMPARISON_SCHEMA_VERSION;
  runId: string;
  status: RunStatus;
  startedAt: string;
  finishedAt: string | null;
  scenario: { file: string; name: string; sha256: string; spec: unknown };
  seed: number;
  environment: EnvironmentFingerprint;
  variants: Record<Column, string>;
  /** The rules stated before running (from spec.comparison). */
  rules: { isolation: { minAvailabilityPct: number; maxP99Ratio: number }; complexity: string; overhead: string };
  equivalence: EquivalenceResult[];
  /** The paired, interleaved benchmark of the four arms (the format of `sidecar-bench run`). */
  overhead: Results | null;
  episodes: EpisodeResult[];
  structure: PodStructure[];
  table: Cell[];
  warnings: string[];
  error: string | null;
}
