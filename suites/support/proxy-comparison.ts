// The shape most proxy checks share: send the same request straight to the primary and
// through the sidecar (same pod), and list every way the two answers differ. Each case is
// tried context.config.triesPerExpectation times, on kept-alive and fresh connections and
// in concurrent groups (try-plan.ts), so a fault on a fraction of requests, or only on
// some connections, is caught as surely as one on every request.
import { randomInt } from "node:crypto";
import type { Dispatcher } from "undici";
import type { CheckOutcome, ConformanceContext } from "../../harness/conformance/conformance-test.ts";
import type { StartedPod } from "../../harness/runtime/pod-runtime.ts";
import { firstDifference, formatDifference, type ByteDifference } from "./byte-diff.ts";
import { describeResult, exchange, headerText, resultEvidence, withAgent, type ExchangeOptions, type ExchangeRequest, type ExchangeResponse, type ExchangeResult } from "../../harness/load/http-exchange.ts";
import { planTries, type PlannedTry } from "./try-plan.ts";
import { runTryPlan } from "./try-runner.ts";
import { TryTally } from "./try-tally.ts";

export interface ComparisonCase {
  /** Names the case in messages, e.g. "identity_FP32 [3,17] JSON". */
  name: string;
  /** The request, the same for every try, or made per try (values, shapes vary; the direct answer is asked per try). */
  request: ExchangeRequest | ((attempt: number) => ExchangeRequest);
  /** The status the primary answers directly; anything else means the case (or the primary) is broken. */
  expectStatus: number;
  /** Response headers that must be identical besides status and body (lower case). */
  headers: string[];
}

export interface Endpoints {
  direct: string;
  entry: string;
}

export function endpointsOf(context: ConformanceContext, pod: StartedPod): Endpoints {
  return { direct: context.directUrl(pod), entry: context.entryUrl(pod) };
}

/** Thrown when the primary itself does not answer as the case expects: the check cannot judge the sidecar. */
export class PrimaryMisbehavedError extends Error {
  override name = "PrimaryMisbehavedError";
}

/** Most connections a check opens to the sidecar at once: the connection-limit fixture serves 8, and a legitimate proxy may too. */
export const TRY_CONCURRENCY = 4;

export function requestFor(testCase: ComparisonCase, attempt: number): ExchangeRequest {
  return typeof testCase.request === "function" ? testCase.request(attempt) : testCase.request;
}

/** The primary's answer, which must have the case's status; otherwise the check cannot compare. */
export async function directAnswer(endpoints: Endpoints, testCase: ComparisonCase, request: ExchangeRequest, options: ExchangeOptions): Promise<ExchangeResponse> {
  const direct = await exchange(endpoints.direct, request, options);
  if (!direct.ok || direct.status !== testCase.expectStatus) {
    throw new PrimaryMisbehavedError(
      `${testCase.name}: the primary answered ${describeResult(direct)} directly, expected status ${testCase.expectStatus}; the check cannot compare the sidecar against it`,
    );
  }
  return direct;
}

export interface AnswerComparison {
  problems: string[];
  difference: ByteDifference | null;
}

/** Status, the named headers and the body bytes of the sidecar's answer against the direct one. */
export function compareAnswers(direct: ExchangeResponse, viaSidecar: ExchangeResult, headers: readonly string[]): AnswerComparison {
  if (!viaSidecar.ok) return { problems: [`through the sidecar: ${describeResult(viaSidecar)}`], difference: null };
  const problems: string[] = [];
  if (viaSidecar.status !== direct.status) problems.push(`status ${viaSidecar.status}, directly ${direct.status}`);
  for (const name of headers) {
    const want = headerText(direct.headers, name);
    const got = headerText(viaSidecar.headers, name);
    if (want !== got) problems.push(`header ${name}: ${quoteOrMissing(got)}, directly ${quoteOrMissing(want)}`);
  }
  const difference = firstDifference(direct.body, viaSidecar.body);
  if (difference) problems.push(`body: ${formatDifference(difference)}`);
  return { problems, difference };
}

function quoteOrMissing(value: string | undefined): string {
  return value === undefined ? "missing" : JSON.stringify(value);
}

/** The sidecar's last log lines, for the evidence of a failure. */
export function sidecarLogTail(context: ConformanceContext, pod: StartedPod, maxLines = 20): string[] {
  return pod.logs(context.sidecar.manifest.metadata.name, maxLines);
}


/**
 * The whole of a "same answer directly and through the sidecar" check: one pod, every
 * case tried context.config.triesPerExpectation times, passed when no try differs,
 * failed with the first differences otherwise. A body difference is confirmed by asking
 * the primary again: if its own answers vary, the comparison proves nothing.
 * `what` names the compared parts and the requests, e.g. "status, content-type and body bytes" / "JSON requests".
 */
export async function runComparisonCheck(
  context: ConformanceContext,
  cases: ComparisonCase[],
  what: { compared: string; requests: string },
): Promise<CheckOutcome> {
  const pod = await context.startPod();
  const endpoints = endpointsOf(context, pod);
  const plan = planTries({ cases: cases.length, triesPerCase: context.config.triesPerExpectation, seed: randomInt(2 ** 31), concurrency: TRY_CONCURRENCY });
  const tally = new TryTally(plan, cases.map((c) => c.name));
  await withAgent(async (agent) => {
    const directOptions: ExchangeOptions = { dispatcher: agent, signal: context.signal, timeoutMs: context.config.exchangeTimeoutMs };
    // Cases whose request is the same every try are asked directly once; a case whose
    // body differs has the primary's determinism confirmed once.
    const fixedAnswers = new Map<number, ExchangeResponse>();
    const confirmed = new Set<number>();
    const prepare = async (entry: PlannedTry) => {
      const testCase = cases[entry.caseIndex]!;
      const request = requestFor(testCase, entry.attempt);
      const fixed = typeof testCase.request !== "function";
      let direct = fixed ? fixedAnswers.get(entry.caseIndex) : undefined;
      if (!direct) {
        direct = await directAnswer(endpoints, testCase, request, directOptions);
        if (fixed) fixedAnswers.set(entry.caseIndex, direct);
      }
      return { request, direct };
    };
    const send = async (entry: PlannedTry, prepared: { request: ExchangeRequest; direct: ExchangeResponse }, dispatcher: Dispatcher) => {
      const testCase = cases[entry.caseIndex]!;
      const viaSidecar = await exchange(endpoints.entry, prepared.request, { dispatcher, signal: context.signal, timeoutMs: context.config.exchangeTimeoutMs });
      const { problems, difference } = compareAnswers(prepared.direct, viaSidecar, testCase.headers);
      if (difference && !confirmed.has(entry.caseIndex)) {
        await confirmDeterministic(endpoints, testCase, prepared.request, prepared.direct, directOptions);
        confirmed.add(entry.caseIndex);
      }
      tally.record(entry, problems, problems.length ? { direct: resultEvidence(prepared.direct), viaSidecar: resultEvidence(viaSidecar), ...(difference ? { firstDifference: difference } : {}) } : undefined);
    };
    await runTryPlan(plan, endpoints.entry, { prepare, send }, context.signal);
  });
  const evidence = tally.evidence();
  if (tally.failed === 0) {
    return { verdict: "passed", message: `${tally.describeTries(what.requests)}: ${what.compared} identical to the direct answers`, evidence };
  }
  return {
    verdict: "failed",
    message: `expected ${what.compared} identical to the direct answer for ${tally.describeTries(what.requests)}; found ${tally.describeFailures()}`,
    evidence: { ...evidence, sidecarLogTail: sidecarLogTail(context, pod) },
  };
}

async function confirmDeterministic(endpoints: Endpoints, testCase: ComparisonCase, request: ExchangeRequest, direct: ExchangeResponse, options: ExchangeOptions): Promise<void> {
  const again = await exchange(endpoints.direct, request, options);
  if (!again.ok || firstDifference(direct.body, again.body)) {
    throw new PrimaryMisbehavedError(
      `${testCase.name}: two direct answers of the primary differ (${again.ok ? "bodies differ" : describeResult(again)}); a byte comparison needs a deterministic primary`,
    );
  }
}
