// lifecycle.drains-in-order: on stop, the sidecar keeps serving until the primary has
// drained. With a token stream and a few unary generations in flight through the
// sidecar, pod.stop() must end with every one of them complete, the primary sent SIGTERM
// first and gone before the sidecar was sent SIGTERM, the sidecar not gone before it was
// told to go, and the primary's drain within the grace period. (How the sidecar itself
// ends after its SIGTERM is lifecycle.sigterm-honoured's rule.)
import { performance } from "node:perf_hooks";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import type { PodEvent } from "../../harness/runtime/pod-runtime.ts";
import { PRIMARY_CONTAINER } from "../../harness/scenario/index.ts";
import { pause } from "../support/bounded-wait.ts";
import { formatEvents, logTail, sidecarContainer } from "../support/pod-evidence.ts";
import { describeGeneration, generationComplete, startGenerationMix } from "../support/in-flight-generation.ts";
import { roundMs } from "../support/timed-request.ts";

/** The long request: 40 tokens × 50 ms ≈ 2 s, so it is mid-stream when the stop begins. */
const LONG_TOKENS = 40;
const UNARY_REQUESTS = 3;
/** Each unary generation: 20 tokens × 50 ms ≈ 1 s. */
const UNARY_TOKENS = 20;
const TOKEN_INTERVAL_MS = 50;

export const drainsInOrder: ConformanceTest = {
  id: "lifecycle.drains-in-order",
  description:
    "On stop, in-flight requests through the sidecar (a token stream and unary generations) complete in full: the primary gets " +
    "SIGTERM first and exits before the sidecar gets SIGTERM, the sidecar serves until then, all within the grace period.",
  profile: "lifecycle",
  level: "core",
  primaryServes: ["token-generation"],
  features: [],
  faultyFixture: "reference/sidecars/quits-early.yaml",
  timeoutMs: 60_000,
  detection: observationClaim("1 pod stop with a token stream and 3 generations in flight"),
  async run(context): Promise<CheckOutcome> {
    const sidecar = sidecarContainer(context);
    // A proxy that does not claim streaming may buffer SSE; then the long request is unary too.
    const stream = !context.sidecar.manifest.spec.proxy || (context.sidecar.manifest.spec.features ?? []).includes("streaming");
    // The pods' grace period (suite config): the rule is the order and completeness of the drain, not a bound on the sidecar.
    const graceMs = context.config.podGracePeriodMs;
    const pod = await context.startPod({ terminationGracePeriodMs: graceMs });
    const entry = context.entryUrl(pod);
    const requestOptions = { timeoutMs: graceMs + 5_000, signal: context.signal };
    const all = startGenerationMix(
      context,
      entry,
      { idPrefix: "drain", stream, longTokens: LONG_TOKENS, unaryRequests: UNARY_REQUESTS, unaryTokens: UNARY_TOKENS, tokenIntervalMs: TOKEN_INTERVAL_MS },
      requestOptions,
    );
    // Requests reach the primary at once even through a proxy that buffers responses, so a
    // short fixed pause (not the stream's first token) makes them in flight for every proxy;
    // each runs ≥ 1 s, so none may end within it.
    await pause(context.config.inFlightSettleMs, context.signal);
    const endedEarly = all.filter((g) => g.progress.endedAtMs !== undefined);
    if (endedEarly.length > 0) {
      const results = await Promise.all(all.map((g) => g.done));
      return {
        verdict: "failed",
        message: `expected ${all.length} requests in flight through the sidecar before the stop; ${endedEarly.length} ended before it (${results.filter((r) => r.endedAtMs !== undefined).map(describeGeneration).join("; ")})`,
        evidence: { requests: results.map(describeGeneration), events: formatEvents(pod.events()), sidecarLog: logTail(pod, sidecar) },
      };
    }

    const eventsBeforeStop = pod.events().length;
    const stopAtMs = performance.now();
    const stopped = await pod.stop();
    const results = await Promise.all(all.map((g) => g.done));
    const stopEvents = stopped.events.slice(eventsBeforeStop);

    const problems: string[] = [];
    const incomplete = results.filter((r) => !generationComplete(r));
    if (incomplete.length > 0) problems.push(`${incomplete.length} of ${results.length} in-flight requests were cut (${incomplete.map(describeGeneration).join("; ")})`);
    const late = results.filter((r) => r.endedAtMs !== undefined && r.endedAtMs - stopAtMs > graceMs);
    if (late.length > 0) problems.push(`${late.length} requests ended after the ${graceMs} ms grace period`);
    problems.push(...orderProblems(stopEvents, sidecar));
    // The primary killed = its drain did not fit the grace period. A sidecar killed after the
    // primary had drained breaks another rule (lifecycle.sigterm-honoured), shown in the evidence.
    if (stopped.containers.some((c) => c.name === PRIMARY_CONTAINER && c.killed)) problems.push(`the primary was killed at the end of the ${graceMs} ms grace period`);

    const evidence = {
      graceMs,
      stopDurationMs: roundMs(stopped.stopDurationMs),
      longRequestStreamed: stream,
      requests: results.map((r) => ({ result: describeGeneration(r), endedAfterStopMs: r.endedAtMs !== undefined ? roundMs(r.endedAtMs - stopAtMs) : null })),
      stopEvents: formatEvents(stopEvents),
      containers: stopped.containers,
      sidecarLog: logTail(pod, sidecar),
      primaryLog: logTail(pod, PRIMARY_CONTAINER, 8),
    };
    if (problems.length > 0) {
      return {
        verdict: "failed",
        message: `expected the in-flight requests to complete, the primary stopped before the sidecar got SIGTERM, within ${graceMs} ms; ${problems.join("; ")}`,
        evidence,
      };
    }
    const primaryTerm = stopEvents.find((e) => e.container === PRIMARY_CONTAINER && e.type === "sigterm");
    const primaryExit = stopEvents.find((e) => e.container === PRIMARY_CONTAINER && e.type === "exited");
    const drainMs = primaryTerm && primaryExit ? roundMs(primaryExit.atMs - primaryTerm.atMs, 0) : Number.NaN;
    const sidecarKilled = stopped.containers.some((c) => c.name === sidecar && c.killed);
    return {
      verdict: "passed",
      message:
        `all ${results.length} in-flight requests completed in full; the primary drained and exited ${drainMs} ms after its SIGTERM, ` +
        `within the ${graceMs} ms grace, before the sidecar got SIGTERM` +
        (sidecarKilled ? " (the sidecar was then killed at the end of the grace period: lifecycle.sigterm-honoured's rule)" : ""),
      evidence,
    };
  },
};

/**
 * Kubernetes order: primary SIGTERM → primary exited → sidecar SIGTERM. A sidecar that
 * exits on its own while the primary is still draining cuts what the primary is finishing.
 */
function orderProblems(events: readonly PodEvent[], sidecar: string): string[] {
  const at = (container: string, type: PodEvent["type"]) => events.findIndex((e) => e.container === container && e.type === type);
  const primarySigterm = at(PRIMARY_CONTAINER, "sigterm");
  const primaryExited = at(PRIMARY_CONTAINER, "exited");
  const sidecarSigterm = at(sidecar, "sigterm");
  const sidecarExited = at(sidecar, "exited");
  const problems: string[] = [];
  if (primarySigterm < 0) problems.push("the primary got no SIGTERM");
  const exitedOnItsOwn = sidecarExited >= 0 && (sidecarSigterm < 0 || sidecarExited < sidecarSigterm);
  if (exitedOnItsOwn && (primaryExited < 0 || sidecarExited < primaryExited)) {
    const exit = events[sidecarExited]!;
    const sigterm = events[primarySigterm];
    problems.push(
      `the sidecar exited on its own${sigterm ? ` ${roundMs(exit.atMs - sigterm.atMs, 0)} ms after the primary's SIGTERM` : ""}, ` +
        `while the primary was still draining and before the sidecar was sent SIGTERM (${exit.detail ?? "exited"})`,
    );
  }
  if (sidecarSigterm >= 0 && (primaryExited < 0 || sidecarSigterm < primaryExited)) problems.push("the sidecar got SIGTERM before the primary had exited");
  return problems;
}
