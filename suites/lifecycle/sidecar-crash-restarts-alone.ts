// lifecycle.sidecar-crash-restarts-alone: SIGKILL the sidecar's process. The runtime
// restarts it (restartCount goes up, a new process), the primary keeps its process and
// its loaded model (GET /v2/debug/pid, asked directly), and the pod serves through the
// sidecar again within a bound: a model server must not lose its loaded weights, nor
// stay unreachable for long, because a helper crashed.
import { performance } from "node:perf_hooks";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import { PRIMARY_CONTAINER } from "../../harness/scenario/index.ts";
import { pause } from "../support/bounded-wait.ts";
import { containerStatus, podEvidence, sidecarContainer } from "../support/pod-evidence.ts";
import { primaryIdentity } from "../support/primary-debug.ts";
import { inferRequest, isInferResponse } from "../support/reference-requests.ts";
import { outcomeTimeline, roundMs, timedRequest, type TimedOutcome } from "../support/timed-request.ts";


export const sidecarCrashRestartsAlone: ConformanceTest = {
  id: "lifecycle.sidecar-crash-restarts-alone",
  description:
    "After SIGKILL of the sidecar, only the sidecar is restarted: the primary keeps its process and loaded model, and the " +
    "pod serves through the sidecar again within the policy's lifecycle.recoveryMs.",
  profile: "lifecycle",
  level: "core",
  primaryServes: ["debug-endpoints"],
  features: [],
  faultyFixture: "reference/sidecars/slow-restart.yaml",
  timeoutMs: 60_000,
  detection: observationClaim("1 SIGKILL of the sidecar, then requests until the pod serves again"),
  async run(context): Promise<CheckOutcome> {
    const sidecar = sidecarContainer(context);
    // From the kill until the pod serves through the restarted sidecar.
    const recoveryMs = context.policy.lifecycle.recoveryMs;
    const { watchRequestTimeoutMs, watchRequestGapMs } = context.config;
    const pod = await context.startPod();
    const entry = context.entryUrl(pod);
    const direct = context.directUrl(pod);
    const request = inferRequest(context);
    const primaryBefore = await primaryIdentity(direct, context.signal);
    const sidecarBefore = containerStatus(pod, sidecar);

    const killedAtMs = performance.now();
    pod.signal(sidecar, "SIGKILL");
    const outcomes: TimedOutcome[] = [];
    let servedAgain: TimedOutcome | undefined;
    const maxRequests = Math.ceil(recoveryMs / watchRequestGapMs);
    for (let i = 0; i < maxRequests && performance.now() - killedAtMs < recoveryMs; i++) {
      const status = containerStatus(pod, sidecar);
      const restarted = status.restartCount > sidecarBefore.restartCount && status.state === "running" && status.ready;
      const outcome = await timedRequest(entry, request, { timeoutMs: watchRequestTimeoutMs, signal: context.signal });
      outcomes.push(outcome);
      // Counts only once the runtime has the restarted sidecar running and ready: for a
      // sidecar outside the request path, the entry is the primary and always answers.
      if (restarted && isInferResponse(outcome.status, outcome.body) && outcome.endedAtMs - killedAtMs <= recoveryMs) {
        servedAgain = outcome;
        break;
      }
      await pause(watchRequestGapMs, context.signal);
    }

    const sidecarAfter = containerStatus(pod, sidecar);
    const primaryStatus = containerStatus(pod, PRIMARY_CONTAINER);
    const primaryAfter = primaryStatus.state === "running" ? await primaryIdentity(direct, context.signal).catch((error: Error) => error) : null;
    const problems: string[] = [];
    if (sidecarAfter.restartCount <= sidecarBefore.restartCount) problems.push(`the sidecar was not restarted (restartCount ${sidecarAfter.restartCount})`);
    if (!servedAgain) problems.push(`no request was answered through the restarted sidecar within ${recoveryMs} ms (sidecar ${sidecarAfter.state}, ready ${sidecarAfter.ready})`);
    if (primaryStatus.state !== "running" || primaryStatus.restartCount > 0) problems.push(`the primary is ${primaryStatus.state} with restartCount ${primaryStatus.restartCount}`);
    if (primaryAfter instanceof Error) problems.push(`the primary no longer answers directly: ${primaryAfter.message}`);
    if (primaryAfter && !(primaryAfter instanceof Error)) {
      if (primaryAfter.pid !== primaryBefore.pid) problems.push(`the primary's pid changed from ${primaryBefore.pid} to ${primaryAfter.pid}`);
      if (primaryAfter.modelLoadedAt !== primaryBefore.modelLoadedAt) {
        problems.push(`the primary's model was loaded again (model_loaded_at ${primaryBefore.modelLoadedAt} → ${primaryAfter.modelLoadedAt})`);
      }
    }

    const evidence = {
      recoveryMs,
      servedAgainAfterKillMs: servedAgain ? roundMs(servedAgain.endedAtMs - killedAtMs) : null,
      sidecar: { pidBefore: sidecarBefore.pid, pidAfter: sidecarAfter.pid, restartCount: sidecarAfter.restartCount, state: sidecarAfter.state, ready: sidecarAfter.ready },
      primaryBefore,
      primaryAfter: primaryAfter instanceof Error ? primaryAfter.message : primaryAfter,
      requestTimeline: outcomeTimeline(outcomes, killedAtMs, "after the kill"),
      ...podEvidence(pod, sidecar),
    };
    if (problems.length > 0) {
      return {
        verdict: "failed",
        message: `expected only the sidecar to restart, the primary's process and model untouched, and the pod serving again within ${recoveryMs} ms of SIGKILL; ${problems.join("; ")}`,
        evidence,
      };
    }
    return {
      verdict: "passed",
      message:
        `the sidecar was restarted (pid ${sidecarBefore.pid} → ${sidecarAfter.pid}) and served again ${roundMs(servedAgain!.endedAtMs - killedAtMs, 0)} ms after SIGKILL; ` +
        `the primary kept pid ${primaryBefore.pid} and its model (loaded at ${primaryBefore.modelLoadedAt})`,
      evidence,
    };
  },
};
