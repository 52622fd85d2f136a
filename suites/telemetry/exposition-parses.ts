// telemetry.exposition-parses: the Prometheus exposition the sidecar serves parses with the
// Prometheus project's own checker, and carries the primary's request counter. After a few
// requests of mixed outcomes, the exposition (spec.telemetry.exposition: port and path) is
// fetched once the primary's counter appears in it (within the policy's
// telemetry.deliveryDelayMs) and given to `promtool check metrics` (Debian's prometheus
// package, 2.42; the anchor: the Prometheus remote-write compliance suite scores real
// senders against the spec, promtool is the spec's reference parser for the text format).
//
// The verdict from promtool's exit code — decided here, and why:
//   0 clean                → passed.
//   1 does not parse       → failed: a client library, a federating Prometheus or an
//                            agent that uses the strict text parser rejects the whole
//                            exposition (Prometheus' own scraper is more lenient, which is
//                            why this is checked apart from the counts).
//   3 lint problems only   → passed, the lint lines in the evidence: lint rules are naming
//                            and documentation advice (a counter without `_total`, no HELP),
//                            which exporters of other ecosystems legitimately break; the
//                            data is readable, so it is not a conformance failure.
//   anything else          → an error of the check (promtool failed), not a verdict.
// Not applicable to a sidecar that declares no exposition (applicability.ts).
import { request } from "undici";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { observationClaim } from "../../harness/conformance/detection-claim.ts";
import { assertLoadTarget } from "../../harness/load/target-guard.ts";
import { waitFor } from "../support/bounded-wait.ts";
import { sidecarContainer } from "../support/pod-evidence.ts";
import { servesNoExposition } from "./applicability.ts";
import { promSampleMetric } from "./metric-names.ts";
import { PROMTOOL, checkMetrics } from "./promtool.ts";
import { primaryCounts, sendPaced, totalCount } from "./role-traffic.ts";
import { logsEvidence, trafficEvidence } from "./telemetry-evidence.ts";

/** Enough requests for every label set of the mix (200, 404, 400) to appear. */
const REQUESTS = 20;
const FETCH_POLL_MS = 250;
/** As Prometheus asks for the text format 0.0.4 (promtool check metrics reads only that). */
const ACCEPT = "text/plain;version=0.0.4;q=1,*/*;q=0.1";

/** The sample lines of an exposition whose names are the primary's request counter. */
export function counterSamples(exposition: string): string[] {
  return exposition.split("\n").filter((line) => {
    const name = line.trim().match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[\s{]/)?.[1];
    return name !== undefined && promSampleMetric(name) === "requests";
  });
}

export const expositionParses: ConformanceTest = {
  id: "telemetry.exposition-parses",
  description:
    "The sidecar's Prometheus exposition parses with `promtool check metrics` (exit 1, a parse error, fails; exit 3, lint advice only, passes with the lint lines shown) " +
    "and carries the primary's request counter; for sidecars that declare an exposition.",
  profile: "telemetry",
  level: "core",
  primaryServes: ["role-emitters"],
  features: [],
  faultyFixture: "reference/sidecars/invalid-exposition.yaml",
  timeoutMs: 45_000,
  detection: observationClaim("1 exposition fetched once it carries the primary's counter, checked by promtool"),
  notApplicable: servesNoExposition,
  async run(context): Promise<CheckOutcome> {
    const exposition = context.sidecar.manifest.spec.telemetry?.exposition;
    const notApplicable = servesNoExposition(context.sidecar.manifest);
    if (!exposition || notApplicable) return { verdict: "skipped", message: `not applicable: ${notApplicable}` };
    // Before any pod: a machine without promtool is a set-up problem, said as such.
    await checkMetrics("", { signal: context.signal });
    const sidecar = sidecarContainer(context);
    const deliveryDelayMs = context.policy.telemetry.deliveryDelayMs;
    const pod = await context.startPod();
    const direct = context.directUrl(pod);
    const sent = await sendPaced(context, direct, { count: REQUESTS, spreadMs: 0, timeoutMs: context.config.requestTimeoutMs, signal: context.signal });
    const truth = await primaryCounts(context, direct);
    const url = new URL(exposition.path, assertLoadTarget(pod.url(sidecar, exposition.port)));
    let body = "";
    let status = 0;
    let contentType = "";
    const fetchedAt = performance.now();
    const appeared = await waitFor(
      async () => {
        // A sidecar may bind its exposition port after it reports ready: keep asking until the deadline.
        const response = await request(url, { headers: { accept: ACCEPT }, signal: AbortSignal.any([context.signal, AbortSignal.timeout(5_000)]), headersTimeout: 5_000, bodyTimeout: 5_000 }).catch(
          (error: unknown) => {
            if (context.signal.aborted) throw error;
            return null;
          },
        );
        if (response === null) return false;
        status = response.statusCode;
        contentType = String(response.headers["content-type"] ?? "");
        body = await response.body.text();
        return status === 200 && counterSamples(body).length > 0;
      },
      { timeoutMs: deliveryDelayMs, intervalMs: FETCH_POLL_MS, signal: context.signal },
    );
    const waitedMs = Math.round(performance.now() - fetchedAt);
    const checked = await checkMetrics(body, { signal: context.signal });
    const evidence = {
      exposition: `${url.origin}${url.pathname}`,
      status,
      contentType,
      bytes: Buffer.byteLength(body),
      counterSamples: counterSamples(body).slice(0, 10),
      promtool: { command: `${PROMTOOL} check metrics`, exitCode: checked.exitCode, output: checked.lines.slice(0, 30) },
      ...trafficEvidence(sent, truth),
      ...logsEvidence(pod, sidecar),
    };
    const expectation = `expected ${url.pathname} on port ${exposition.port} to parse with promtool check metrics and to carry the primary's request counter`;
    if (checked.exitCode === 1) {
      return { verdict: "failed", message: `${expectation}; promtool check metrics exits 1 (the text does not parse): ${checked.lines.slice(0, 2).join(" ") || "no output"}`, evidence };
    }
    if (checked.exitCode !== 0 && checked.exitCode !== 3) throw new Error(`${PROMTOOL} check metrics exited ${checked.exitCode}: ${checked.lines.slice(0, 3).join(" ")}`);
    if (!appeared) {
      return {
        verdict: "failed",
        message: `${expectation}; ${status !== 200 ? `it answered ${status}` : "the primary's counter (kserve_requests_total, names normalised) never appeared in it"} within ${deliveryDelayMs} ms, after ${totalCount(truth)} counted requests`,
        evidence,
      };
    }
    const lint = checked.exitCode === 3 ? `; lint advice only (promtool exit 3, not a failure): ${checked.lines.slice(0, 3).join("; ")}` : "";
    return {
      verdict: "passed",
      message: `the exposition (${Buffer.byteLength(body)} bytes) parses with promtool check metrics and carries the primary's counter ${waitedMs} ms after the requests${lint}`,
      evidence,
    };
  },
};
