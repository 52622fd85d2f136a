// proxy.headers-pass-through: trace context (traceparent, tracestate, baggage), the request
// id and custom request headers reach the primary unchanged, and the primary's own response
// headers come back to the client. The primary's /v2/debug/echo mirrors every request header
// it received as x-echo-<name>, so one exchange shows both directions.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { exchangeClaim } from "../../harness/conformance/detection-claim.ts";
import { DEFAULT_SUITE_CONFIG } from "../../harness/conformance/suite-config.ts";
import type { StartedPod } from "../../harness/runtime/pod-runtime.ts";
import { PRIMARY_CONTAINER } from "../../harness/scenario/index.ts";
import { describeResult, exchange, headerText, resultEvidence, withAgent, type ExchangeRequest, type ExchangeResult, type ResponseHeaders } from "../../harness/load/http-exchange.ts";
import { endpointsOf, PrimaryMisbehavedError, sidecarLogTail } from "../support/proxy-comparison.ts";

const REQUEST_TIMEOUT_MS = 5_000;
const ACCESS_LOG_POLLS = 20;
const ACCESS_LOG_POLL_MS = 50;

/**
 * Response headers a proxy may legitimately set or drop per hop: framing and connection
 * management, its own date and server; x-echo-host mirrors the Host the client addressed,
 * which differs between the direct and the sidecar port.
 */
const HOP_RESPONSE_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "date", "server", "x-echo-host"]);

/** Fresh values per run, so a proxy cannot pass by replaying constants. */
export function traceHeaders(): Record<string, string> {
  const traceId = randomBytes(16).toString("hex");
  const spanId = randomBytes(8).toString("hex");
  const tag = randomBytes(4).toString("hex");
  return {
    traceparent: `00-${traceId}-${spanId}-01`,
    tracestate: `sidecarbench=${tag},vendor@tenant=opaque-${tag}`,
    baggage: `model=mlp,run=${tag}`,
    "x-request-id": `sidecar-bench-${randomBytes(8).toString("hex")}`,
    "x-sidecar-bench-custom": `value ${tag}; with=equals, commas and spaces`,
    "x-b3-traceid": traceId,
  };
}

interface HeaderProblems {
  /** Request headers with no x-echo-<name> in the answer: lost on the way in, or their echo on the way back. */
  notEchoed: string[];
  /** Request headers echoed back with another value: name → {sent, received}. */
  changedAtPrimary: Record<string, { sent: string; received: string }>;
  /** Response headers of the direct answer that did not come back through the sidecar. */
  missingInResponse: string[];
  changedInResponse: Record<string, { direct: string; viaSidecar: string }>;
}

function compareHeaders(sent: Record<string, string>, direct: ResponseHeaders, viaSidecar: ResponseHeaders): HeaderProblems {
  const problems: HeaderProblems = { notEchoed: [], changedAtPrimary: {}, missingInResponse: [], changedInResponse: {} };
  for (const [name, value] of Object.entries(sent)) {
    const received = headerText(viaSidecar, `x-echo-${name}`);
    if (received === undefined) problems.notEchoed.push(name);
    else if (received !== value) problems.changedAtPrimary[name] = { sent: value, received };
  }
  const echoesOfSent = new Set(Object.keys(sent).map((name) => `x-echo-${name}`));
  for (const name of Object.keys(direct)) {
    // Echoes of the headers sent are judged above, with the request side.
    if (HOP_RESPONSE_HEADERS.has(name) || echoesOfSent.has(name)) continue;
    const want = headerText(direct, name) as string;
    const got = headerText(viaSidecar, name);
    if (got === undefined) problems.missingInResponse.push(name);
    else if (got !== want) problems.changedInResponse[name] = { direct: want, viaSidecar: got };
  }
  return problems;
}

function problemCount(p: HeaderProblems): number {
  return p.notEchoed.length + Object.keys(p.changedAtPrimary).length + p.missingInResponse.length + Object.keys(p.changedInResponse).length;
}

/**
 * The primary's access-log line of the request through the sidecar: it records traceparent
 * and x-request-id as received, which tells "dropped on the way in" from "echo dropped on
 * the way back". The sidecar's request is the pod's first /v2/debug/echo; the line is
 * written when the response completes, so it may lag the answer by a moment.
 */
async function accessLogOfFirstEcho(pod: StartedPod, signal: AbortSignal): Promise<Record<string, unknown> | undefined> {
  for (let attempt = 0; attempt < ACCESS_LOG_POLLS && !signal.aborted; attempt++) {
    for (const line of pod.logs(PRIMARY_CONTAINER, 500)) {
      if (!line.startsWith("{") || !line.includes('"/v2/debug/echo"')) continue;
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry["path"] === "/v2/debug/echo") return entry;
      } catch {
        // not an access-log line
      }
    }
    await sleep(ACCESS_LOG_POLL_MS);
  }
  return undefined;
}

/** What the access log says of the headers it records (undefined: it does not record that one). */
function seenByPrimary(entry: Record<string, unknown> | undefined, name: string): string | null | undefined {
  if (!entry) return undefined;
  const key = name === "x-request-id" ? "request_id" : name === "traceparent" ? "traceparent" : undefined;
  if (!key) return undefined;
  const value = entry[key];
  return typeof value === "string" ? value : null;
}

function describeProblems(p: HeaderProblems, sent: Record<string, string>, accessLog: Record<string, unknown> | undefined): string {
  const parts: string[] = [];
  if (p.notEchoed.length) {
    const notes = p.notEchoed.map((name) => {
      const seen = seenByPrimary(accessLog, name);
      if (seen === null) return `${name} (absent from the primary's access log: dropped on the way in)`;
      if (seen === sent[name]) return `${name} (in the primary's access log: its x-echo- copy was dropped on the way back)`;
      if (seen !== undefined) return `${name} (the primary's access log shows ${JSON.stringify(seen)})`;
      return name;
    });
    parts.push(`request headers the primary did not echo back: ${notes.join(", ")}`);
  }
  for (const [name, { sent, received }] of Object.entries(p.changedAtPrimary)) parts.push(`${name} sent ${JSON.stringify(sent)}, echoed back as ${JSON.stringify(received)}`);
  if (p.missingInResponse.length) parts.push(`response headers missing: ${p.missingInResponse.join(", ")}`);
  for (const [name, { direct, viaSidecar }] of Object.entries(p.changedInResponse)) parts.push(`response ${name} ${JSON.stringify(viaSidecar)}, directly ${JSON.stringify(direct)}`);
  return parts.join("; ");
}

export const headersPassThrough: ConformanceTest = {
  id: "proxy.headers-pass-through",
  description:
    "traceparent, tracestate, baggage, x-request-id and custom request headers reach the primary with their values unchanged, and every end-to-end response header of the primary comes back through the sidecar",
  profile: "proxy",
  level: "core",
  features: ["header-passthrough"],
  faultyFixture: "reference/sidecars/drop-header.yaml",
  timeoutMs: 20_000,
  detection: exchangeClaim(DEFAULT_SUITE_CONFIG.triesPerExpectation, "echo request with fresh trace context, compared directly and through the sidecar"),
  async run(context) {
    const pod = await context.startPod();
    const endpoints = endpointsOf(context, pod);
    const sent = traceHeaders();
    const body = Buffer.from(JSON.stringify({ check: "headers-pass-through" }));
    const req: ExchangeRequest = { method: "POST", path: "/v2/debug/echo", headers: { "content-type": "application/json", ...sent }, body };
    const { direct, viaSidecar } = await withAgent(async (agent) => {
      const options = { dispatcher: agent, signal: context.signal, timeoutMs: REQUEST_TIMEOUT_MS };
      // Through the sidecar first: its request is then the first echo in the primary's access log.
      const viaSidecar: ExchangeResult = await exchange(endpoints.entry, req, options);
      const direct: ExchangeResult = await exchange(endpoints.direct, req, options);
      return { direct, viaSidecar };
    });
    if (!direct.ok || direct.status !== 200) {
      throw new PrimaryMisbehavedError(`the primary's /v2/debug/echo answered ${describeResult(direct)} directly, expected 200`);
    }
    const evidence: Record<string, unknown> = { sentHeaders: sent, direct: resultEvidence(direct), viaSidecar: resultEvidence(viaSidecar) };
    if (!viaSidecar.ok || viaSidecar.status !== 200) {
      return {
        verdict: "failed",
        message: `expected 200 from /v2/debug/echo through the sidecar (as directly); found ${describeResult(viaSidecar)}`,
        evidence: { ...evidence, sidecarLogTail: sidecarLogTail(context, pod) },
      };
    }
    const problems = compareHeaders(sent, direct.headers, viaSidecar.headers);
    if (problemCount(problems) === 0) {
      return {
        verdict: "passed",
        message: `${Object.keys(sent).length} request headers reached the primary unchanged (${Object.keys(sent).join(", ")}); all response headers of the primary came back`,
        evidence,
      };
    }
    const accessLog = await accessLogOfFirstEcho(pod, context.signal);
    return {
      verdict: "failed",
      message: `expected request headers ${Object.keys(sent).join(", ")} to reach the primary unchanged and the primary's response headers to come back; found ${describeProblems(problems, sent, accessLog)}`,
      evidence: { ...evidence, problems, primaryAccessLogLine: accessLog ?? "not found", sidecarLogTail: sidecarLogTail(context, pod) },
    };
  },
};
