// The shape most proxy checks share: send the same request straight to the primary and
// through the sidecar (same pod), and list every way the two answers differ.
import type { CheckOutcome, ConformanceContext } from "../../harness/conformance/conformance-test.ts";
import type { StartedPod } from "../../harness/runtime/pod-runtime.ts";
import { firstDifference, formatDifference, type ByteDifference } from "./byte-diff.ts";
import { describeResult, exchange, headerText, resultEvidence, withAgent, type ExchangeOptions, type ExchangeRequest, type ExchangeResult } from "../../harness/load/http-exchange.ts";

export interface ComparisonCase {
  /** Names the case in messages, e.g. "identity_FP32 [3,17] JSON". */
  name: string;
  request: ExchangeRequest;
  /** The status the primary answers directly; anything else means the case (or the primary) is broken. */
  expectStatus: number;
  /** Response headers that must be identical besides status and body (lower case). */
  headers: string[];
}

export interface CaseComparison {
  name: string;
  direct: ExchangeResult;
  viaSidecar: ExchangeResult;
  /** Each difference in words; empty when the answers match. */
  problems: string[];
  difference: ByteDifference | null;
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

/**
 * Sends the case directly, then through the sidecar, and compares status, the named
 * headers and the body bytes. A body difference is confirmed by asking the primary a
 * second time: if the primary's own answers vary, the comparison proves nothing.
 */
export async function compareCase(endpoints: Endpoints, testCase: ComparisonCase, options: ExchangeOptions): Promise<CaseComparison> {
  const direct = await exchange(endpoints.direct, testCase.request, options);
  if (!direct.ok || direct.status !== testCase.expectStatus) {
    throw new PrimaryMisbehavedError(
      `${testCase.name}: the primary answered ${describeResult(direct)} directly, expected status ${testCase.expectStatus}; the check cannot compare the sidecar against it`,
    );
  }
  const viaSidecar = await exchange(endpoints.entry, testCase.request, options);
  const problems: string[] = [];
  let difference: ByteDifference | null = null;
  if (!viaSidecar.ok) {
    problems.push(`through the sidecar: ${describeResult(viaSidecar)}`);
  } else {
    if (viaSidecar.status !== direct.status) problems.push(`status ${viaSidecar.status}, directly ${direct.status}`);
    for (const name of testCase.headers) {
      const want = headerText(direct.headers, name);
      const got = headerText(viaSidecar.headers, name);
      if (want !== got) problems.push(`header ${name}: ${quoteOrMissing(got)}, directly ${quoteOrMissing(want)}`);
    }
    difference = firstDifference(direct.body, viaSidecar.body);
    if (difference) {
      const again = await exchange(endpoints.direct, testCase.request, options);
      if (!again.ok || firstDifference(direct.body, again.body)) {
        throw new PrimaryMisbehavedError(
          `${testCase.name}: two direct answers of the primary differ (${again.ok ? "bodies differ" : describeResult(again)}); a byte comparison needs a deterministic primary`,
        );
      }
      problems.push(`body: ${formatDifference(difference)}`);
    }
  }
  return { name: testCase.name, direct, viaSidecar, problems, difference };
}

/** Runs the cases one after another (they are small; order makes evidence easy to read). */
export async function compareCases(endpoints: Endpoints, cases: ComparisonCase[], options: ExchangeOptions): Promise<CaseComparison[]> {
  const results: CaseComparison[] = [];
  for (const testCase of cases) {
    if (options.signal.aborted) break;
    results.push(await compareCase(endpoints, testCase, options));
  }
  return results;
}

function quoteOrMissing(value: string | undefined): string {
  return value === undefined ? "missing" : JSON.stringify(value);
}

/** Per case: what differed, and both answers (headers, length, hash, start of the body). */
export function comparisonEvidence(results: CaseComparison[]): Record<string, unknown>[] {
  return results.map((r) => ({
    case: r.name,
    identical: r.problems.length === 0,
    ...(r.problems.length ? { problems: r.problems, direct: resultEvidence(r.direct), viaSidecar: resultEvidence(r.viaSidecar) } : {}),
    ...(r.difference ? { firstDifference: r.difference } : {}),
  }));
}

/** "case a: p1; p2 | case b: p3" — the failing cases of a comparison, for a one-line message. */
export function summarizeProblems(results: CaseComparison[], maxCases = 2): string {
  const failing = results.filter((r) => r.problems.length > 0);
  const shown = failing.slice(0, maxCases).map((r) => `${r.name}: ${r.problems.join("; ")}`);
  if (failing.length > maxCases) shown.push(`and ${failing.length - maxCases} more`);
  return shown.join(" | ");
}

/** The sidecar's last log lines, for the evidence of a failure. */
export function sidecarLogTail(context: ConformanceContext, pod: StartedPod, maxLines = 20): string[] {
  return pod.logs(context.sidecar.manifest.metadata.name, maxLines);
}

const COMPARISON_TIMEOUT_MS = 5_000;

/**
 * The whole of a "same answer directly and through the sidecar" check: one pod, every
 * case compared, passed when none differs, failed with the first differences otherwise.
 * `what` names the compared parts and the requests, e.g. "status, content-type and body bytes" / "JSON requests".
 */
export async function runComparisonCheck(
  context: ConformanceContext,
  cases: ComparisonCase[],
  what: { compared: string; requests: string },
): Promise<CheckOutcome> {
  const pod = await context.startPod();
  const results = await withAgent((agent) =>
    compareCases(endpointsOf(context, pod), cases, { dispatcher: agent, signal: context.signal, timeoutMs: COMPARISON_TIMEOUT_MS }),
  );
  const failing = results.filter((r) => r.problems.length > 0);
  const evidence = { cases: comparisonEvidence(results) };
  if (failing.length === 0) {
    return { verdict: "passed", message: `${results.length} ${what.requests}: ${what.compared} identical to the direct answers`, evidence };
  }
  return {
    verdict: "failed",
    message: `expected ${what.compared} identical to the direct answer for ${results.length} ${what.requests}; found ${failing.length} different: ${summarizeProblems(results)}`,
    evidence: { ...evidence, sidecarLogTail: sidecarLogTail(context, pod) },
  };
}
