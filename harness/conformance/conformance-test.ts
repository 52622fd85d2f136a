// A conformance test is data: an id that never changes, what it checks, which profile
// and level it belongs to, the features a sidecar must claim for it to apply, the
// faulty fixture that proves it can fail, and the check itself.
import type { StartedPod } from "../runtime/pod-runtime.ts";
import type { LoadedManifest, PrimaryFeature, PrimaryManifest, SidecarFeature, SidecarManifest } from "../scenario/index.ts";
import type { DetectionClaim } from "./detection-claim.ts";
import type { PolicyThresholds } from "../scenario/index.ts";
import type { SuiteConfig } from "./suite-config.ts";

/** lifecycle and resources apply to every sidecar; the others to sidecars with that role. */
export type Profile = "lifecycle" | "proxy" | "resources" | "telemetry" | "logs" | "secrets";
export type Level = "core" | "extended";
export type Verdict = "passed" | "failed" | "skipped" | "not-supported";

/** A figure a manifest's `budgets` may claim (idleMemoryMiB, cpuPer1kRps, timeToReadyMs, …). */
export type BudgetName = keyof NonNullable<SidecarManifest["spec"]["budgets"]>;

/** What a check found. `failed` must say what was expected, what happened, and show the evidence. */
export interface CheckOutcome {
  verdict: "passed" | "failed" | "skipped";
  /** One line: for a failure "expected …, found …"; for a skip, why. */
  message: string;
  /** Figures and excerpts behind the verdict (timings, counts, first differing bytes, last log lines). */
  evidence?: Record<string, unknown>;
  /** Figures the check measured that a manifest's budgets may claim: the certificate reports the claims against them. */
  measured?: Partial<Record<BudgetName, number>>;
}

export interface PodOptions {
  /** Extra environment of the primary (e.g. PRIMARY_LOAD_DELAY_MS). */
  primaryEnv?: Record<string, string>;
  terminationGracePeriodMs?: number;
  readyTimeoutMs?: number;
  /** Start the primary alone (for comparisons with the direct path). */
  withoutSidecar?: boolean;
  /** Called with the pod before it is ready (see StartPodOptions.onCreated), e.g. to drive requests during its first start. */
  onCreated?: (pod: StartedPod) => void;
}

/** What a check gets: the sidecar under test, the reference primary, and pods of both. */
export interface ConformanceContext {
  sidecar: LoadedManifest<SidecarManifest>;
  primary: LoadedManifest<PrimaryManifest>;
  /** Runtime name, for checks that depend on it. */
  runtime: string;
  /** Repetition counts, waits and slack of this certification (suite defaults unless the certifier overrides them). */
  config: Readonly<SuiteConfig>;
  /** The certifier's thresholds every threshold-based verdict is judged by (never the sidecar's budgets, which are claims). */
  policy: Readonly<PolicyThresholds>;
  /**
   * Starts a pod of the sidecar (as a native sidecar) and the reference primary and waits
   * until it is ready. The context stops every pod it started when the test ends.
   */
  startPod(options?: PodOptions): Promise<StartedPod>;
  /** Base URL clients use: the sidecar's proxy.listen port, or the primary's for non-proxies. */
  entryUrl(pod: StartedPod): string;
  /** Base URL of the primary itself, bypassing the sidecar. */
  directUrl(pod: StartedPod): string;
  /** Aborted when the certification is interrupted; checks pass it to their loops. */
  signal: AbortSignal;
  /**
   * The secret the reference store holds for a secrets sidecar's pods (harness/scenario/role-wiring.ts),
   * random per check: what the primary's file must hold, and what no log may show.
   */
  secretValue: string;
}

export interface ConformanceTest {
  /** Stable id, "<profile>.<kebab-name>", e.g. "proxy.binary-tensors-identical". */
  id: string;
  description: string;
  profile: Profile;
  level: Level;
  /** The sidecar must claim all of these, or the verdict is not-supported. */
  features: SidecarFeature[];
  /**
   * Whether the check can apply to this sidecar at all, from what its manifest declares
   * (an exposition check to a sidecar that serves no exposition): undefined = it applies;
   * otherwise why not. A check that cannot apply is not selected — neither run nor
   * counted against the profile's result (select-tests.ts) — unlike a feature the sidecar
   * could offer and does not claim, which is reported not-supported.
   */
  notApplicable?(sidecar: SidecarManifest): string | undefined;
  /**
   * What the check needs the primary to serve beyond infer on its model (PRIMARY_FEATURES);
   * against a primary that does not declare one in spec.serves the check cannot apply.
   */
  primaryServes?: PrimaryFeature[];
  /** reference/sidecars/<fixture>.yaml: a sidecar that breaks exactly this rule. */
  faultyFixture: string;
  /** Upper bound of the check's own duration (the runner enforces it). */
  timeoutMs: number;
  /**
   * What the check tries and the smallest fault fraction it catches with 99% probability
   * (detection-claim.ts); exchange-based claims are stated for the suite's default
   * triesPerExpectation and scale with the certification's config (claimUnder).
   */
  detection: DetectionClaim;
  run(context: ConformanceContext): Promise<CheckOutcome>;
}
