// resources.cpu-per-1k-rps: vCPU the sidecar spends per 1000 requests per second, as
// Istio publishes its sidecar's cost, within the policy's resources.cpuPer1kRps (the
// manifest's budgets.cpuPer1kRps is a claim, reported against the figure). Open-loop
// load at a fixed rate (constant arrivals) through the pod's entry; the sidecar
// container's CPU time over the measured window (ResourceSampler: cgroup, or /proc)
// divided by the requests answered in it.
import { runOpenLoop } from "../../harness/load/open-loop.ts";
import { ResourceSampler, vcpuPer1kRps } from "../../harness/measure/resource-sampler.ts";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import { logTail, sidecarContainer } from "../support/pod-evidence.ts";
import { roundTo } from "../support/memory-series.ts";
import { inferRequest } from "../support/reference-requests.ts";
import { loadEvidence } from "../support/load-evidence.ts";

const MAX_CONNECTIONS = 8;
/** Below this share of answered requests the figure would describe a failing sidecar, not its cost. */
const MIN_OK_SHARE = 0.95;

export const cpuPer1kRps: ConformanceTest = {
  id: "resources.cpu-per-1k-rps",
  description: "The sidecar's vCPU per 1000 req/s, measured under open-loop KServe infer requests (the suite config's loadRatePerSec for cpuMeasureMs), is within the policy's resources.cpuPer1kRps.",
  profile: "resources",
  level: "core",
  features: [],
  faultyFixture: "reference/sidecars/cpu-burner.yaml",
  timeoutMs: 60_000,
  detection: observationClaim("1 measured window of open-loop load"),
  async run(context): Promise<CheckOutcome> {
    const bound = context.policy.resources.cpuPer1kRps;
    const { loadRatePerSec, cpuWarmUpMs, cpuMeasureMs, requestTimeoutMs } = context.config;
    const sidecar = sidecarContainer(context);
    const pod = await context.startPod();
    const load = (durationMs: number, seed: number) =>
      runOpenLoop({
        url: context.entryUrl(pod),
        request: inferRequest(context),
        ratePerSec: loadRatePerSec,
        arrival: "constant",
        seed,
        durationMs,
        maxRequests: Math.ceil((loadRatePerSec * durationMs) / 1000) + 10,
        timeoutMs: requestTimeoutMs,
        maxConnections: MAX_CONNECTIONS,
        signal: context.signal,
      });
    await load(cpuWarmUpMs, 1);
    const sampler = new ResourceSampler(pod, [sidecar], 250);
    await sampler.start();
    const { summary } = await load(cpuMeasureMs, 2);
    const [usage] = await sampler.stop();
    if (!usage || usage.samples < 2) throw new Error(`no CPU samples of "${sidecar}" during the load`);
    // Requests answered per second over the sampler's own window, so CPU and work share one window.
    const okRatePerSec = usage.windowMs > 0 ? (summary.ok / usage.windowMs) * 1000 : 0;
    const perK = vcpuPer1kRps(usage, okRatePerSec);
    const evidence = {
      boundVcpuPer1kRps: bound,
      vcpuPer1kRps: roundTo(perK, 4),
      cpuSeconds: roundTo(usage.cpuSeconds, 4),
      vcpu: roundTo(usage.vcpu, 4),
      windowMs: Math.round(usage.windowMs),
      source: usage.source,
      throttledPeriods: usage.throttledPeriods,
      load: loadEvidence(summary),
      sidecarLog: logTail(pod, sidecar, 10),
    };
    const shortfall =
      summary.ok < summary.scheduled * MIN_OK_SHARE
        ? `only ${summary.ok} of ${summary.scheduled} requests were answered with 2xx (errors ${JSON.stringify(summary.errors)})`
        : null;
    // A figure of a sidecar that failed requests describes its failure, not its cost.
    const measured = shortfall ? {} : { cpuPer1kRps: roundTo(perK, 4) };
    if (!(perK <= bound)) {
      return {
        verdict: "failed",
        message:
          `expected ≤ the policy's ${bound} vCPU per 1000 req/s; measured ${roundTo(perK, 3)} (${roundTo(usage.cpuSeconds, 3)} CPU-s for ${summary.ok} ` +
          `requests at ${roundTo(summary.achievedRatePerSec, 1)} req/s, ${usage.source})${shortfall ? `, and ${shortfall}` : ""}`,
        evidence,
        measured,
      };
    }
    if (shortfall) {
      return {
        verdict: "failed",
        message: `expected the sidecar to carry ${loadRatePerSec} req/s so that its CPU per request can be measured; ${shortfall}`,
        evidence,
      };
    }
    return {
      verdict: "passed",
      message: `${roundTo(perK, 3)} vCPU per 1000 req/s (${roundTo(usage.cpuSeconds, 3)} CPU-s for ${summary.ok} requests, ${usage.source}) within the policy's ${bound}`,
      evidence,
      measured,
    };
  },
};
