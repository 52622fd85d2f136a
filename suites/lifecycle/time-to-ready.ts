// lifecycle.time-to-ready: from the pod's start request until the sidecar is ready, within
// the certifier's policy (lifecycle.timeToReadyMs), since a sidecar delays every pod start
// (and every restart) of the model server it sits beside. The manifest's
// budgets.timeToReadyMs is a claim: the figure is reported against it, never judged by it.
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import { PodStartError } from "../../harness/runtime/pod-runtime.ts";
import { containerStatus, podEvidence, sidecarContainer } from "../support/pod-evidence.ts";
import { roundMs } from "../support/timed-request.ts";

export const timeToReady: ConformanceTest = {
  id: "lifecycle.time-to-ready",
  description: "The sidecar is ready within the policy's lifecycle.timeToReadyMs, counted from the pod's start request.",
  profile: "lifecycle",
  level: "core",
  features: [],
  faultyFixture: "reference/sidecars/slow-start.yaml",
  timeoutMs: 90_000,
  detection: observationClaim("1 pod start, timed to the sidecar's ready event"),
  async run(context): Promise<CheckOutcome> {
    const sidecar = sidecarContainer(context);
    const boundMs = context.policy.lifecycle.timeToReadyMs;
    const boundText = `the policy's ${boundMs} ms`;
    let pod;
    try {
      // Beyond the bound, so a slow sidecar is measured, not only timed out.
      pod = await context.startPod({ readyTimeoutMs: boundMs + context.config.podStartAllowanceMs });
    } catch (error) {
      if (!(error instanceof PodStartError)) throw error;
      return {
        verdict: "failed",
        message: `expected the sidecar ready within ${boundText}; the pod did not become ready at all: ${error.message.split("\n")[0]}`,
        evidence: { container: error.container, lastLogLines: error.lastLogLines },
      };
    }
    const status = containerStatus(pod, sidecar);
    const readyMs = status.timeToReadyMs;
    const evidence = {
      boundMs,
      timeToStartedMs: status.timeToStartedMs !== undefined ? roundMs(status.timeToStartedMs) : null,
      timeToReadyMs: readyMs !== undefined ? roundMs(readyMs) : null,
      ...podEvidence(pod, sidecar),
    };
    if (readyMs === undefined) throw new Error(`the runtime reports the pod ready but no timeToReadyMs for "${sidecar}"`);
    const measured = { timeToReadyMs: roundMs(readyMs) };
    if (readyMs > boundMs) {
      return {
        verdict: "failed",
        message: `expected the sidecar ready within ${boundText}; it took ${roundMs(readyMs, 0)} ms (started after ${roundMs(status.timeToStartedMs ?? Number.NaN, 0)} ms)`,
        evidence,
        measured,
      };
    }
    return { verdict: "passed", message: `the sidecar was ready after ${roundMs(readyMs, 0)} ms, within ${boundText}`, evidence, measured };
  },
};
