// lifecycle.drains-on-sigterm (extended, feature graceful-drain): a sidecar told to stop
// on its own — a rolling update of the sidecar, a node drain by an operator — finishes
// the requests it is forwarding before it exits. With a token stream and unary
// generations in flight through it, the sidecar alone gets SIGTERM: every request must
// complete in full. (The pod then restarts it; that is lifecycle.sidecar-crash-restarts-alone's rule.)
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import { pause } from "../support/bounded-wait.ts";
import { describeGeneration, generationComplete, startGenerationMix } from "../support/in-flight-generation.ts";
import { formatEvents, logTail, sidecarContainer } from "../support/pod-evidence.ts";

/** The stream: 30 tokens × 50 ms ≈ 1.5 s; the unary generations 20 × 50 ms ≈ 1 s. */
const STREAM_TOKENS = 30;
const UNARY_TOKENS = 20;
const UNARY_REQUESTS = 2;
const TOKEN_INTERVAL_MS = 50;

export const drainsOnSigterm: ConformanceTest = {
  id: "lifecycle.drains-on-sigterm",
  description:
    "A sidecar sent SIGTERM on its own (rolling update) finishes the requests it is forwarding — a token stream and unary " +
    "generations — before it exits.",
  profile: "lifecycle",
  level: "extended",
  primaryServes: ["token-generation"],
  features: ["graceful-drain"],
  faultyFixture: "reference/sidecars/exit-on-sigterm.yaml",
  timeoutMs: 40_000,
  detection: observationClaim("1 SIGTERM to the sidecar with a token stream and 2 generations in flight"),
  notApplicable: (sidecar) => (sidecar.spec.proxy ? undefined : "the sidecar declares no spec.proxy: no request passes through it, so there is nothing for it to drain"),
  async run(context): Promise<CheckOutcome> {
    const sidecar = sidecarContainer(context);
    const pod = await context.startPod();
    const entry = context.entryUrl(pod);
    // The sidecar alone stops; its drain may take up to the pods' grace period.
    const options = { timeoutMs: context.config.podGracePeriodMs + 5_000, signal: context.signal };
    const all = startGenerationMix(
      context,
      entry,
      { idPrefix: "sigterm", stream: true, longTokens: STREAM_TOKENS, unaryRequests: UNARY_REQUESTS, unaryTokens: UNARY_TOKENS, tokenIntervalMs: TOKEN_INTERVAL_MS },
      options,
    );
    // Time for the requests to reach the primary before the SIGTERM; each runs ≥ 1 s.
    await pause(context.config.inFlightSettleMs, context.signal);
    const endedEarly = all.filter((g) => g.progress.endedAtMs !== undefined);
    if (endedEarly.length > 0) {
      const results = await Promise.all(all.map((g) => g.done));
      return {
        verdict: "failed",
        message: `expected ${all.length} requests in flight through the sidecar before its SIGTERM; ${endedEarly.length} ended before it (${endedEarly.map((g) => describeGeneration(g.progress)).join("; ")})`,
        evidence: { requests: results.map(describeGeneration), sidecarLog: logTail(pod, sidecar) },
      };
    }
    const eventsBefore = pod.events().length;
    pod.signal(sidecar, "SIGTERM");
    const results = await Promise.all(all.map((g) => g.done));
    const cut = results.filter((r) => !generationComplete(r));
    const evidence = {
      requests: results.map(describeGeneration),
      events: formatEvents(pod.events().slice(eventsBefore)),
      sidecarLog: logTail(pod, sidecar),
    };
    if (cut.length > 0) {
      return {
        verdict: "failed",
        message: `expected every in-flight request to complete after the sidecar alone got SIGTERM; ${cut.length} of ${results.length} were cut (${cut.map(describeGeneration).join("; ")})`,
        evidence,
      };
    }
    return { verdict: "passed", message: `all ${results.length} in-flight requests completed in full after the sidecar got SIGTERM (${results.map(describeGeneration).join("; ")})`, evidence };
  },
};
