// lifecycle.time-to-ready: from the pod's start request until the sidecar is ready, within
// the manifest's budgets.timeToReadyMs — or within 10 s when it declares none, since a
// sidecar delays every pod start (and every restart) of the model server it sits beside.
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import { PodStartError } from "../../harness/runtime/pod-runtime.ts";
import { containerStatus, podEvidence, sidecarContainer } from "../support/pod-evidence.ts";
import { roundMs } from "../support/timed-request.ts";

export const DEFAULT_TIME_TO_READY_MS = 10_000;
/** The pod start is given this much beyond the budget, so a slow sidecar is measured, not just timed out. */
const START_ALLOWANCE_MS = 15_000;

export const timeToReady: ConformanceTest = {
  id: "lifecycle.time-to-ready",
  description: `The sidecar is ready within its manifest's budgets.timeToReadyMs (${DEFAULT_TIME_TO_READY_MS} ms when none is declared), counted from the pod's start request.`,
  profile: "lifecycle",
  level: "core",
  features: [],
  faultyFixture: "reference/sidecars/slow-start.yaml",
  timeoutMs: 90_000,
  detection: observationClaim("1 pod start, timed to the sidecar's ready event"),
  async run(context): Promise<CheckOutcome> {
    const sidecar = sidecarContainer(context);
    const declared = context.sidecar.manifest.spec.budgets?.timeToReadyMs;
    const budgetMs = declared ?? DEFAULT_TIME_TO_READY_MS;
    const budgetText = declared !== undefined ? `budgets.timeToReadyMs ${budgetMs} ms` : `the default bound of ${budgetMs} ms (no budgets.timeToReadyMs declared)`;
    let pod;
    try {
      pod = await context.startPod({ readyTimeoutMs: budgetMs + START_ALLOWANCE_MS });
    } catch (error) {
      if (!(error instanceof PodStartError)) throw error;
      return {
        verdict: "failed",
        message: `expected the sidecar ready within ${budgetText}; the pod did not become ready at all: ${error.message.split("\n")[0]}`,
        evidence: { container: error.container, lastLogLines: error.lastLogLines },
      };
    }
    const status = containerStatus(pod, sidecar);
    const readyMs = status.timeToReadyMs;
    const evidence = {
      budgetMs,
      budgetDeclared: declared !== undefined,
      timeToStartedMs: status.timeToStartedMs !== undefined ? roundMs(status.timeToStartedMs) : null,
      timeToReadyMs: readyMs !== undefined ? roundMs(readyMs) : null,
      ...podEvidence(pod, sidecar),
    };
    if (readyMs === undefined) throw new Error(`the runtime reports the pod ready but no timeToReadyMs for "${sidecar}"`);
    if (readyMs > budgetMs) {
      return {
        verdict: "failed",
        message: `expected the sidecar ready within ${budgetText}; it took ${roundMs(readyMs, 0)} ms (started after ${roundMs(status.timeToStartedMs ?? Number.NaN, 0)} ms)`,
        evidence,
      };
    }
    return { verdict: "passed", message: `the sidecar was ready after ${roundMs(readyMs, 0)} ms, within ${budgetText}`, evidence };
  },
};
