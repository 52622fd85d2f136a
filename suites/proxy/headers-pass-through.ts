// proxy.headers-pass-through: trace context (traceparent, tracestate, baggage), the request
// id and custom request headers reach the primary as the standards allow, and the
// primary's own response headers come back to the client. The primary's /v2/debug/echo
// mirrors every request header it received as x-echo-<name>, so one exchange shows both
// directions.
//
// What a proxy may change (RFC 9110 and W3C; trace-context-rules.ts for the details):
// hop-by-hop headers and framing (Connection and what it names, Keep-Alive,
// Transfer-Encoding vs Content-Length, TE, Trailer, Upgrade, Proxy-*), its own Date and
// Server, headers it adds (Via, Forwarded, X-Forwarded-*, its own request id when none
// was sent), repeated field lines combined into one list (RFC 9110 §5.3), and the trace
// context as W3C Trace Context allows a tracing proxy to (a new parent-id, its own
// tracestate entry). Every other end-to-end header, and the body, stays identical.
//
// Each try sends a fresh trace (sampled and unsampled in turn) on a kept-alive or fresh
// connection or in a concurrent group, so a sidecar that loses trace context on some
// requests is caught as surely as one that always does.
import { randomBytes, randomInt, randomUUID } from "node:crypto";
import type { Dispatcher } from "undici";
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { exchangeClaim } from "../../harness/conformance/detection-claim.ts";
import { DEFAULT_SUITE_CONFIG } from "../../harness/conformance/suite-config.ts";
import { describeResult, exchange, headerText, resultEvidence, withAgent, type ExchangeRequest, type ExchangeResponse, type ResponseHeaders } from "../../harness/load/http-exchange.ts";
import { firstDifference, formatDifference } from "../support/byte-diff.ts";
import { primaryAccessLog } from "../support/primary-access-log.ts";
import { endpointsOf, PrimaryMisbehavedError, sidecarLogTail, TRY_CONCURRENCY } from "../support/proxy-comparison.ts";
import { baggageProblems, sampledCleared, traceparentProblems, tracestateProblems } from "../support/trace-context-rules.ts";
import { planTries, type PlannedTry } from "../support/try-plan.ts";
import { runTryPlan } from "../support/try-runner.ts";
import { TryTally } from "../support/try-tally.ts";


/** Response headers a proxy may set, replace or drop per hop (RFC 9110 §7.6.1, §6.6.1; RFC 9112 framing). */
const HOP_RESPONSE_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "te", "trailer", "upgrade", "proxy-connection", "date", "server"]);
/** Judged with the request side, by their own rules. */
const TRACE_CONTEXT = ["traceparent", "tracestate", "baggage"] as const;
/** A field a client sends as two field lines, which a proxy may combine into one list (RFC 9110 §5.3). */
const REPEATED_HEADER = "x-sidecar-bench-list";

export type SentHeaders = Record<string, string | string[]>;

/**
 * Fresh values per try, so a proxy cannot pass by replaying constants; sampled and
 * unsampled in turn, crossed with request ids as UUIDs (what most clients send, and what
 * some proxies rewrite) and as other strings. No B3 (x-b3-*) headers: B3 lets a tracer
 * replace them (and a lone X-B3-TraceId is no valid B3 context, so a Zipkin tracer such
 * as Envoy's starts a trace of its own), so requiring them unchanged would fail a
 * legitimate tracing proxy; trace context is judged on W3C's headers.
 */
export function traceHeaders(attempt: number): SentHeaders {
  // Varied per block of four tries, so every variant meets every delivery (try-plan.ts cycles those per try).
  const variant = Math.floor(attempt / 4);
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  const tag = randomBytes(4).toString("hex");
  const members = [`sidecarbench=${tag}`, `vendor@tenant=opaque-${tag}`, `congo=t61rcWkgMzE`].slice(0, 1 + (variant % 3));
  return {
    traceparent: `00-${traceId}-${spanId}-${variant % 2 === 0 ? "01" : "00"}`,
    tracestate: members.join(","),
    baggage: `model=mlp,run=${tag};ttl=60`,
    "x-request-id": Math.floor(variant / 2) % 2 === 0 ? randomUUID() : `sidecar-bench-${randomBytes(8).toString("hex")}`,
    "x-sidecar-bench-custom": `value ${tag}; with=equals, commas and spaces`,
    ...(variant % 4 === 1 ? { [REPEATED_HEADER]: [`first=${tag}`, `second=${tag}`] } : {}),
  };
}

/** Items of a list-valued field, however many lines carried it and whatever optional whitespace surrounds its commas. */
function listItems(value: string | string[] | undefined): string[] {
  return (Array.isArray(value) ? value : value === undefined ? [] : [value]).flatMap((line) => line.split(",").map((item) => item.trim()));
}

/** What differs between the headers sent and those the primary received, as the sidecar's answer echoes them. */
export function requestHeaderProblems(sent: SentHeaders, echoed: ResponseHeaders): string[] {
  const problems: string[] = [];
  const received = (name: string) => headerText(echoed, `x-echo-${name}`);
  const traceparent = received("traceparent");
  problems.push(...traceparentProblems(sent["traceparent"] as string, traceparent));
  const traceparentChanged = traceparent !== undefined && traceparent !== sent["traceparent"];
  problems.push(...tracestateProblems(sent["tracestate"] as string, received("tracestate"), traceparentChanged));
  problems.push(...baggageProblems(sent["baggage"] as string, received("baggage")));
  for (const [name, value] of Object.entries(sent)) {
    if ((TRACE_CONTEXT as readonly string[]).includes(name)) continue;
    const got = received(name);
    if (got === undefined) problems.push(`${name} missing from what the primary echoed`);
    else if (Array.isArray(value) ? listItems(value).join(", ") !== listItems(got).join(", ") : got !== value) {
      problems.push(`${name} sent ${JSON.stringify(value)}, echoed back as ${JSON.stringify(got)}`);
    }
  }
  return problems;
}

/** The primary's end-to-end response headers that did not come back unchanged through the sidecar. */
export function responseHeaderProblems(sent: SentHeaders, direct: ResponseHeaders, viaSidecar: ResponseHeaders): string[] {
  const problems: string[] = [];
  const namedByConnection = new Set(listItems(direct["connection"]).map((name) => name.toLowerCase()));
  const echoesOfSent = new Set(Object.keys(sent).map((name) => `x-echo-${name}`));
  for (const name of Object.keys(direct)) {
    // x-echo-host mirrors the Host the client addressed, which differs between the direct and the sidecar port.
    if (HOP_RESPONSE_HEADERS.has(name) || namedByConnection.has(name) || echoesOfSent.has(name) || name === "x-echo-host") continue;
    const want = headerText(direct, name)!;
    const got = headerText(viaSidecar, name);
    if (got === undefined) problems.push(`response header ${name} missing (directly ${JSON.stringify(want)})`);
    // Via is a list each proxy appends to (RFC 9110 §7.6.3).
    else if (name === "via" ? listItems(got).slice(0, listItems(want).length).join(", ") !== listItems(want).join(", ") : got !== want) {
      problems.push(`response ${name} ${JSON.stringify(got)}, directly ${JSON.stringify(want)}`);
    }
  }
  return problems;
}

function echoRequest(headers: SentHeaders, attempt: number): ExchangeRequest {
  // Bodies of a few bytes to a few KiB, with every byte value: the echo returns them too.
  const body = Buffer.alloc(16 + ((Math.floor(attempt / 4) * 997) % 4_096), 0);
  for (let i = 0; i < body.length; i++) body[i] = (i * 31 + attempt) % 256;
  return { method: "POST", path: "/v2/debug/echo", headers: { "content-type": "application/octet-stream", ...headers }, body };
}

export const headersPassThrough: ConformanceTest = {
  id: "proxy.headers-pass-through",
  description:
    "traceparent, tracestate and baggage reach the primary as W3C Trace Context and Baggage allow (trace-id kept; a new parent-id, with it an updated sampled flag, " +
    "and the proxy's own tracestate entry allowed); x-request-id (UUIDs and other strings), custom and repeated request headers and the body arrive unchanged; " +
    "every end-to-end response header of the primary comes back (hop-by-hop headers, Date, Server and an appended Via excepted)",
  profile: "proxy",
  level: "core",
  primaryServes: ["debug-endpoints"],
  features: ["header-passthrough"],
  faultyFixture: "reference/sidecars/drop-header.yaml",
  timeoutMs: 30_000,
  detection: exchangeClaim(
    DEFAULT_SUITE_CONFIG.triesPerExpectation,
    "echo request with a fresh trace (sampled and unsampled, UUID and other request ids; kept-alive, fresh and concurrent connections), compared directly and through the sidecar",
  ),
  async run(context) {
    const pod = await context.startPod();
    const endpoints = endpointsOf(context, pod);
    const plan = planTries({ cases: 1, triesPerCase: context.config.triesPerExpectation, seed: randomInt(2 ** 31), concurrency: TRY_CONCURRENCY });
    const tally = new TryTally(plan, ["POST /v2/debug/echo"]);
    let firstFailingRequestId: string | undefined;
    const sampling = { sent: 0, cleared: 0 };
    await withAgent(async (agent) => {
      const options = { dispatcher: agent, signal: context.signal, timeoutMs: context.config.exchangeTimeoutMs };
      const prepare = async (entry: PlannedTry) => {
        const sent = traceHeaders(entry.attempt);
        const request = echoRequest(sent, entry.attempt);
        const direct = await exchange(endpoints.direct, request, options);
        if (!direct.ok || direct.status !== 200) throw new PrimaryMisbehavedError(`the primary's /v2/debug/echo answered ${describeResult(direct)} directly, expected 200`);
        return { sent, request, direct };
      };
      const send = async (entry: PlannedTry, prepared: { sent: SentHeaders; request: ExchangeRequest; direct: ExchangeResponse }, dispatcher: Dispatcher) => {
        const { sent, request, direct } = prepared;
        const viaSidecar = await exchange(endpoints.entry, request, { ...options, dispatcher });
        const problems: string[] = [];
        if (!viaSidecar.ok || viaSidecar.status !== 200) {
          problems.push(`through the sidecar: ${describeResult(viaSidecar)}, directly 200`);
        } else {
          problems.push(...requestHeaderProblems(sent, viaSidecar.headers), ...responseHeaderProblems(sent, direct.headers, viaSidecar.headers));
          const difference = firstDifference(request.body!, viaSidecar.body);
          if (difference) problems.push(`body: ${formatDifference(difference)}`);
        }
        if (problems.length > 0) firstFailingRequestId ??= sent["x-request-id"] as string;
        if ((sent["traceparent"] as string).endsWith("-01")) {
          sampling.sent++;
          if (viaSidecar.ok && sampledCleared(sent["traceparent"] as string, headerText(viaSidecar.headers, "x-echo-traceparent"))) sampling.cleared++;
        }
        tally.record(entry, problems, problems.length ? { sent, direct: resultEvidence(direct), viaSidecar: resultEvidence(viaSidecar) } : undefined);
      };
      await runTryPlan(plan, endpoints.entry, { prepare, send }, context.signal);
    });
    const evidence = { ...tally.evidence(), sampledTries: sampling.sent, sampledFlagClearedWithNewParent: sampling.cleared };
    // Allowed (W3C "Update sampled"), but a caller should know its recorded requests are not recorded behind the sidecar.
    const samplingNote = sampling.cleared > 0 ? `; note: the caller's sampled flag arrived cleared, with the sidecar's own parent-id, on ${sampling.cleared} of ${sampling.sent} sampled tries (W3C allows it; the primary does not record those)` : "";
    if (tally.failed === 0) {
      return {
        verdict: "passed",
        message: `${tally.describeTries("echo requests")}: trace context forwarded as W3C allows, other request headers and bodies unchanged, the primary's response headers back${samplingNote}`,
        evidence,
      };
    }
    // The primary's access log records traceparent and x-request-id as it received them:
    // it tells "dropped on the way in" from "its echo dropped on the way back".
    const accessLogLine = primaryAccessLog(pod).find((line) => line.requestId === firstFailingRequestId)?.raw ?? "not found";
    return {
      verdict: "failed",
      message: `expected trace context forwarded as W3C allows and other end-to-end headers unchanged both ways for ${tally.describeTries("echo requests")}; found ${tally.describeFailures()}`,
      evidence: { ...evidence, primaryAccessLogOfFirstFailure: accessLogLine, sidecarLogTail: sidecarLogTail(context, pod) },
    };
  },
};
