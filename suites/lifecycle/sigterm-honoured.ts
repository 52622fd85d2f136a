// lifecycle.sigterm-honoured: on stop the sidecar exits on SIGTERM within the grace
// period — the policy's lifecycle.sigtermExitMs, short on purpose: the idle primary exits
// in well under a second, and the sidecar needs only to exit. One that ignores SIGTERM
// holds every pod deletion (and every rollout) for the whole grace period and then dies
// by SIGKILL, losing whatever it had not flushed.
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import { PRIMARY_CONTAINER } from "../../harness/scenario/index.ts";
import { formatEvents, logTail, sidecarContainer } from "../support/pod-evidence.ts";
import { roundMs } from "../support/timed-request.ts";

export const sigtermHonoured: ConformanceTest = {
  id: "lifecycle.sigterm-honoured",
  description: "On stop the sidecar exits on SIGTERM within the grace period (the policy's lifecycle.sigtermExitMs), and is not killed at its end.",
  profile: "lifecycle",
  level: "core",
  features: [],
  faultyFixture: "reference/sidecars/ignore-sigterm.yaml",
  timeoutMs: 30_000,
  detection: observationClaim("1 SIGTERM (pod stop)"),
  async run(context): Promise<CheckOutcome> {
    const sidecar = sidecarContainer(context);
    const graceMs = context.policy.lifecycle.sigtermExitMs;
    const pod = await context.startPod({ terminationGracePeriodMs: graceMs });
    const eventsBeforeStop = pod.events().length;
    const stopped = await pod.stop();
    const stopEvents = stopped.events.slice(eventsBeforeStop);
    const mine = stopped.containers.find((c) => c.name === sidecar);
    if (!mine) throw new Error(`the stopped pod reports no container "${sidecar}"`);
    const sigterm = stopEvents.find((e) => e.container === sidecar && e.type === "sigterm");
    const end = stopEvents.find((e) => e.container === sidecar && e.type === "stopped");
    const exitAfterSigtermMs = sigterm && end ? end.atMs - sigterm.atMs : null;
    const evidence = {
      graceMs,
      stopDurationMs: roundMs(stopped.stopDurationMs),
      sidecar: { ...mine, sigtermToExitMs: exitAfterSigtermMs !== null ? roundMs(exitAfterSigtermMs) : null },
      stopEvents: formatEvents(stopEvents),
      sidecarLog: logTail(pod, sidecar),
      primaryLog: logTail(pod, PRIMARY_CONTAINER, 5),
    };
    if (mine.killed) {
      return {
        verdict: "failed",
        message:
          `expected the sidecar to exit on SIGTERM within the policy's ${graceMs} ms grace period; it was still running and was ` +
          `killed at the end of the grace period (SIGKILL ${exitAfterSigtermMs !== null ? `${roundMs(exitAfterSigtermMs, 0)} ms after SIGTERM` : "after SIGTERM"})`,
        evidence,
      };
    }
    if (!sigterm) {
      return { verdict: "passed", message: `the sidecar had already exited (${mine.signal ?? `code ${mine.exitCode}`}) when its turn for SIGTERM came; nothing was killed`, evidence };
    }
    return {
      verdict: "passed",
      message: `the sidecar exited ${roundMs(exitAfterSigtermMs ?? 0, 0)} ms after SIGTERM (${mine.signal ? `on ${mine.signal}` : `code ${mine.exitCode}`}), within the policy's ${graceMs} ms grace period`,
      evidence,
    };
  },
};
