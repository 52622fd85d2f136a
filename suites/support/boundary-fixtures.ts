// Boundary fixtures: for every threshold-based check, its faulty fixture run with the
// fault's magnitude set from the effective policy (a fault-proxy option: --delay-ms,
// --memory-mib, --cpu-ms-per-request, --leak-kib) just inside the threshold, where the
// check must pass, and just past it, where it must fail. They show each check's
// resolution, not only that it can fail; the fixture suite (suites/fixtures-local.test.ts)
// runs each against its own check only.
//
// Not threshold-based, so without a boundary pair: startup-probe-reflects-readiness
// (any request failing right after the reported ready fails it), drains-in-order and
// drains-on-sigterm (order and completeness of in-flight requests; their grace periods
// are the suite config's, not a bound on the sidecar).
import type { EffectivePolicy } from "../../harness/conformance/certification-policy.ts";
import type { LoadedManifest, SidecarManifest } from "../../harness/scenario/index.ts";
import { readinessSlackMs } from "./pod-evidence.ts";

/** Where the fault sits relative to the threshold: inside must pass, outside must fail. */
export const BOUNDARY_FACTORS = { inside: 0.6, outside: 1.5 } as const;
export type BoundarySide = keyof typeof BOUNDARY_FACTORS;
export type BoundaryFactors = Readonly<Record<BoundarySide, number>>;

export interface BoundaryFixture {
  /** The check whose threshold it probes. */
  check: string;
  /** reference/sidecars/<fault>.yaml, run with the magnitude below. */
  fixture: string;
  /** BOUNDARY_FACTORS, unless the check's own noise needs a wider margin (measured; the entry says why). */
  factors: BoundaryFactors;
  /** The threshold, as the effective policy and the fixture's manifest make it. */
  threshold(policy: EffectivePolicy, fixture: SidecarManifest): { name: string; value: number; unit: string };
  /**
   * The magnitude that puts the fault at this side of the threshold, as fault-proxy
   * arguments. Usually factor × threshold; where the check's slack depends on timing it
   * cannot control (a probe's phase), the side's own bound (see no-traffic-before-ready).
   */
  args(policy: EffectivePolicy, fixture: SidecarManifest, side: BoundarySide): string[];
}

const scaled = (value: number, factor: number) => Math.round(value * factor);
/** Magnitudes the fault takes as decimals, rounded to what the figure is measured to. */
const scaledDecimal = (value: number, factor: number) => Number((value * factor).toFixed(2));
const F = BOUNDARY_FACTORS;
/**
 * proxy.streaming-not-buffered judges the worst of 44 streams × 12 tokens, 36 of them in
 * concurrent groups: on a loaded 2-core machine that worst token lags up to ~100 ms more
 * than the proxy's own lag (120 ms of lag measured 138–225 ms worst over 5 runs), so just
 * inside is 0.3× there: the lag bound's resolution is about 100 ms.
 */
const STREAMING_FACTORS: BoundaryFactors = { inside: 0.3, outside: 1.5 };

export const BOUNDARY_FIXTURES: readonly BoundaryFixture[] = [
  {
    check: "lifecycle.time-to-ready",
    fixture: "reference/sidecars/slow-start.yaml",
    factors: F,
    threshold: (policy) => ({ name: "lifecycle.timeToReadyMs", value: policy.thresholds.lifecycle.timeToReadyMs, unit: "ms" }),
    args: (policy, _fixture, side) => ["--delay-ms", String(scaled(policy.thresholds.lifecycle.timeToReadyMs, F[side]))],
  },
  {
    check: "lifecycle.no-traffic-before-ready",
    fixture: "reference/sidecars/ready-late.yaml",
    factors: F,
    threshold: (policy, fixture) => ({ name: "probe period (capped) + timingSlackMs", value: readinessSlackMs(fixture, policy.thresholds, policy.suite).slackMs, unit: "ms" }),
    // The runtime sees "ready" at its next readiness probe, anywhere up to one period after
    // the sidecar turns ready: a sidecar forwarding D ms early shows as D plus that phase.
    // Only D ≤ timingSlackMs passes whatever the phase, and only D > period + slack fails
    // whatever it: the check's resolution is one probe period.
    args: (policy, fixture, side) => {
      const { slackMs } = readinessSlackMs(fixture, policy.thresholds, policy.suite);
      return ["--delay-ms", String(scaled(side === "inside" ? policy.suite.timingSlackMs : slackMs, F[side]))];
    },
  },
  {
    check: "lifecycle.sidecar-crash-restarts-alone",
    fixture: "reference/sidecars/slow-restart.yaml",
    factors: F,
    threshold: (policy) => ({ name: "lifecycle.recoveryMs", value: policy.thresholds.lifecycle.recoveryMs, unit: "ms" }),
    args: (policy, _fixture, side) => ["--delay-ms", String(scaled(policy.thresholds.lifecycle.recoveryMs, F[side]))],
  },
  {
    check: "lifecycle.fails-fast-while-down",
    fixture: "reference/sidecars/hang-when-down.yaml",
    factors: F,
    threshold: (policy) => ({ name: "lifecycle.failFastMs", value: policy.thresholds.lifecycle.failFastMs, unit: "ms" }),
    // hang-when-down holds a request sent right after its restart about --delay-ms.
    args: (policy, _fixture, side) => ["--delay-ms", String(scaled(policy.thresholds.lifecycle.failFastMs, F[side]))],
  },
  {
    check: "lifecycle.sigterm-honoured",
    fixture: "reference/sidecars/ignore-sigterm.yaml",
    factors: F,
    threshold: (policy) => ({ name: "lifecycle.sigtermExitMs", value: policy.thresholds.lifecycle.sigtermExitMs, unit: "ms" }),
    args: (policy, _fixture, side) => ["--delay-ms", String(scaled(policy.thresholds.lifecycle.sigtermExitMs, F[side]))],
  },
  {
    check: "proxy.streaming-not-buffered",
    fixture: "reference/sidecars/buffer-stream.yaml",
    factors: STREAMING_FACTORS,
    threshold: (policy) => ({ name: "proxy.streamLagMs", value: policy.thresholds.proxy.streamLagMs, unit: "ms" }),
    args: (policy, _fixture, side) => ["--delay-ms", String(scaled(policy.thresholds.proxy.streamLagMs, STREAMING_FACTORS[side]))],
  },
  {
    check: "resources.idle-memory",
    fixture: "reference/sidecars/fat-idle.yaml",
    factors: F,
    threshold: (policy) => ({ name: "resources.idleMemoryMiB", value: policy.thresholds.resources.idleMemoryMiB, unit: "MiB" }),
    args: (policy, _fixture, side) => ["--memory-mib", String(scaled(policy.thresholds.resources.idleMemoryMiB, F[side]))],
  },
  {
    check: "resources.cpu-per-1k-rps",
    fixture: "reference/sidecars/cpu-burner.yaml",
    factors: F,
    threshold: (policy) => ({ name: "resources.cpuPer1kRps", value: policy.thresholds.resources.cpuPer1kRps, unit: "vCPU per 1000 req/s" }),
    // 1 ms of CPU per request is 1 vCPU per 1000 req/s.
    args: (policy, _fixture, side) => ["--cpu-ms-per-request", String(scaledDecimal(policy.thresholds.resources.cpuPer1kRps, F[side]))],
  },
  {
    check: "resources.memory-soak-bounded",
    fixture: "reference/sidecars/leaky.yaml",
    factors: F,
    threshold: (policy) => ({ name: "resources.soakGrowthMiB", value: policy.thresholds.resources.soakGrowthMiB, unit: "MiB" }),
    // The check compares the means of the soak's first and last quarters: their centres are
    // ¾ of the soak apart, so that many requests' leaks make the measured growth.
    args: (policy, _fixture, side) => {
      const requestsApart = (policy.suite.loadRatePerSec * policy.suite.soakMs * 0.75) / 1000;
      return ["--leak-kib", String(scaledDecimal((policy.thresholds.resources.soakGrowthMiB * 1024) / requestsApart, F[side]))];
    },
  },
  {
    check: "telemetry.backend-outage",
    fixture: "reference/sidecars/unbounded-queue-when-down.yaml",
    factors: F,
    threshold: (policy) => ({ name: "telemetry.outageGrowthMiB", value: policy.thresholds.telemetry.outageGrowthMiB, unit: "MiB" }),
    // telemetry-relay grows --growth-mib-per-s from the failed forward that tells it the
    // backend is down (within its 1 s batch) until the backend returns: the factor × the
    // threshold spread over the outage, of which ≥ 7/8 is measured — 0.6× stays inside, 1.5× × 7/8 ≈ 1.3× is past.
    args: (policy, _fixture, side) => ["--growth-mib-per-s", String(scaledDecimal((policy.thresholds.telemetry.outageGrowthMiB * 1000) / policy.suite.backendOutageMs, F[side]))],
  },
];

/** The fixture's manifest with fault-proxy arguments appended (its magnitude), as a boundary run starts it. */
export function withFaultArgs(sidecar: LoadedManifest<SidecarManifest>, args: readonly string[]): LoadedManifest<SidecarManifest> {
  const { manifest } = sidecar;
  const container = { ...manifest.spec.container, command: [...manifest.spec.container.command, ...args] };
  return { ...sidecar, manifest: { ...manifest, spec: { ...manifest.spec, container } } };
}
