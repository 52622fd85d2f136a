// Runs one conformance check and turns whatever it does into a verdict: a claimed
// outcome, a thrown error, a hang past its timeoutMs, or a feature the sidecar does not
// claim. Each check gets a fresh context, and its pods are stopped whatever happens, so
// one check can never leave pods (or ports, or CPU load) behind for the next.
import { LeakMatcher } from "../../suites/support/secret-scan.ts";
import { secretFamily } from "../../suites/support/secret-values.ts";
import { checkSecret } from "./check-secrets.ts";
import { PodStartError, type StartedPod } from "../runtime/pod-runtime.ts";
import { createContext, type ContextInput } from "./conformance-context.ts";
import type { CheckOutcome, ConformanceContext, ConformanceTest, PodOptions } from "./conformance-test.ts";
import { missingFeatures } from "./select-tests.ts";
import type { VerdictRecord } from "./verdict-record.ts";

/** The certification was interrupted (Ctrl-C) before this check reached a verdict. */
export class CertificationInterrupted extends Error {
  override name = "CertificationInterrupted";
}

export interface CheckInput {
  test: ConformanceTest;
  /** Sidecar, primary, runtime and run id the check's pods are made of. */
  target: Omit<ContextInput, "signal">;
  /** Aborted when the whole certification is interrupted. */
  signal?: AbortSignal;
  /**
   * After a timeout or an interruption: how long the abandoned check may take to notice
   * its aborted signal before its pods are stopped under it.
   */
  settleMs?: number;
  /**
   * Shared by the checks of one certification: the first time the sidecar's pod fails to
   * become ready, later checks fail at once with that evidence instead of each waiting out
   * the start-up timeout again (a sidecar that never gets ready ends in bounded time).
   */
  podStartFailure?: PodStartFailureMemo;
}

export interface PodStartFailureMemo {
  first?: { test: string; message: string; lastLogLines: string[] };
}

const DEFAULT_SETTLE_MS = 2_000;

type Ending =
  | { kind: "returned"; outcome: unknown }
  | { kind: "threw"; error: unknown }
  | { kind: "timed-out" }
  | { kind: "interrupted" };

/** Throws CertificationInterrupted when `signal` aborts first; every other ending is a verdict. */
export async function runCheck(input: CheckInput): Promise<VerdictRecord> {
  const { test, target } = input;
  const startedAt = new Date().toISOString();
  const startMs = performance.now();
  // A leaking sidecar's lines reach other checks' evidence too (log tails): what a verdict
  // records never carries the check's secrets (certify's last step scans for them).
  const secrets = target.secretSeed ? new LeakMatcher(secretFamily(checkSecret(target.secretSeed, test.id))) : null;
  const record = (verdict: VerdictRecord["verdict"], rawMessage: string, rawEvidence?: Record<string, unknown>, measured?: CheckOutcome["measured"]): VerdictRecord => {
    const message = secrets ? secrets.redactDeep(rawMessage) : rawMessage;
    const evidence = secrets && rawEvidence ? secrets.redactDeep(rawEvidence) : rawEvidence;
    return {
      runId: target.runId,
      id: test.id,
      profile: test.profile,
      level: test.level,
      verdict,
      message,
      ...(evidence && Object.keys(evidence).length > 0 ? { evidence } : {}),
      ...(measured && Object.keys(measured).length > 0 ? { measured } : {}),
      startedAt,
      durationMs: Math.round(performance.now() - startMs),
    };
  };

  if (input.signal?.aborted) throw new CertificationInterrupted(`interrupted before ${test.id}`);
  const startFailure = input.podStartFailure?.first;
  if (startFailure) {
    return record("failed", `not run: the sidecar's pod never became ready (first seen in ${startFailure.test}): ${startFailure.message}`, {
      lastLogLines: startFailure.lastLogLines,
    });
  }
  const missing = missingFeatures(test, target.sidecar.manifest);
  if (missing.length > 0) {
    return record(
      "not-supported",
      `needs feature${missing.length > 1 ? "s" : ""} ${missing.join(", ")}, which ${target.sidecar.manifest.metadata.name} does not claim (spec.features)`,
      { missingFeatures: missing },
    );
  }

  const own = new AbortController();
  const signal = input.signal ? AbortSignal.any([input.signal, own.signal]) : own.signal;
  const scoped = createContext({ ...target, signal, ...(target.secretSeed ? { secretValue: checkSecret(target.secretSeed, test.id) } : {}) });
  let over = false;
  // A check that outlives its verdict (a hang) must not start pods nobody will stop.
  const context: ConformanceContext = {
    ...scoped.context,
    async startPod(options?: PodOptions): Promise<StartedPod> {
      if (over) throw new Error(`${test.id} is over (timed out or interrupted): no new pods`);
      const pod = await scoped.context.startPod(options).catch((error: unknown) => {
        if (error instanceof PodStartError && input.podStartFailure && !options?.withoutSidecar) {
          input.podStartFailure.first ??= { test: test.id, message: error.message.split("\n")[0]!, lastLogLines: error.lastLogLines };
        }
        throw error;
      });
      if (over) {
        await pod.stop();
        throw new Error(`${test.id} is over (timed out or interrupted): pod stopped`);
      }
      return pod;
    },
  };

  const running: Promise<Ending> = Promise.resolve()
    .then(() => test.run(context))
    .then(
      (outcome): Ending => ({ kind: "returned", outcome }),
      (error: unknown): Ending => ({ kind: "threw", error }),
    );
  let timer: NodeJS.Timeout | undefined;
  let onInterrupt: (() => void) | undefined;
  const deadline = new Promise<Ending>((settle) => {
    timer = setTimeout(() => settle({ kind: "timed-out" }), test.timeoutMs);
  });
  const interrupted = new Promise<Ending>((settle) => {
    onInterrupt = () => settle({ kind: "interrupted" });
    input.signal?.addEventListener("abort", onInterrupt, { once: true });
  });

  let ending: Ending;
  try {
    ending = await Promise.race([running, deadline, interrupted]);
  } finally {
    clearTimeout(timer);
    if (onInterrupt) input.signal?.removeEventListener("abort", onInterrupt);
  }
  // A check that returns or throws because the run was aborted under it has no verdict.
  if (input.signal?.aborted) ending = { kind: "interrupted" };

  let teardownError: string | undefined;
  try {
    if (ending.kind === "timed-out" || ending.kind === "interrupted") {
      own.abort(new Error(ending.kind === "timed-out" ? `did not finish within ${test.timeoutMs} ms` : "interrupted"));
      await Promise.race([running, sleep(input.settleMs ?? DEFAULT_SETTLE_MS)]);
    }
  } finally {
    over = true;
    try {
      await scoped.close();
    } catch (error) {
      teardownError = (error as Error).message;
    }
  }

  switch (ending.kind) {
    case "interrupted":
      throw new CertificationInterrupted(`interrupted during ${test.id}`);
    case "timed-out":
      return record("failed", `did not finish within ${test.timeoutMs} ms`, { timeoutMs: test.timeoutMs, ...teardown(teardownError) });
    case "threw":
      return record("failed", errorMessage(ending.error), { ...thrownEvidence(ending.error), ...teardown(teardownError) });
    case "returned": {
      const outcome = validOutcome(ending.outcome);
      if (typeof outcome === "string") return record("failed", `the check returned an invalid outcome: ${outcome}`, teardown(teardownError));
      if (teardownError !== undefined && outcome.verdict === "passed") {
        // Pods that cannot be stopped would skew every later check.
        return record("failed", `passed, but stopping its pods failed: ${teardownError}`, jsonSafe(outcome.evidence));
      }
      return record(outcome.verdict, outcome.message, { ...jsonSafe(outcome.evidence), ...teardown(teardownError) }, outcome.measured);
    }
  }
}

function teardown(error: string | undefined): Record<string, unknown> {
  return error === undefined ? {} : { teardownError: error };
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms).unref());
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return `threw ${typeof error === "string" ? JSON.stringify(error) : String(error)}`;
}

/** What a thrown error says beyond its message, minus the stack (noise to a vendor, and machine-specific). */
function thrownEvidence(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { thrown: typeof error };
  const evidence: Record<string, unknown> = { thrown: error.name };
  for (const [key, value] of Object.entries(error)) {
    if (key !== "stack" && key !== "message") evidence[key] = value;
  }
  if (error.cause !== undefined) evidence["cause"] = errorMessage(error.cause);
  return jsonSafe(evidence) ?? {};
}

/** A string says what is wrong with the value. */
function validOutcome(value: unknown): CheckOutcome | string {
  if (typeof value !== "object" || value === null) return `expected {verdict, message}, found ${String(value)}`;
  const outcome = value as Partial<CheckOutcome>;
  if (outcome.verdict !== "passed" && outcome.verdict !== "failed" && outcome.verdict !== "skipped") {
    return `verdict: expected passed, failed or skipped, found ${JSON.stringify(outcome.verdict)}`;
  }
  if (typeof outcome.message !== "string") return `message: expected a string, found ${typeof outcome.message}`;
  const notFinite = Object.entries(outcome.measured ?? {}).find(([, value]) => typeof value !== "number" || !Number.isFinite(value));
  if (notFinite) return `measured.${notFinite[0]}: expected a finite number, found ${String(notFinite[1])}`;
  return {
    verdict: outcome.verdict,
    message: outcome.message,
    ...(outcome.evidence ? { evidence: outcome.evidence } : {}),
    ...(outcome.measured ? { measured: outcome.measured } : {}),
  };
}

/** Evidence goes into JSON and YAML files: keep what survives JSON, say so where something did not. */
function jsonSafe(evidence: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (evidence === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(evidence, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value))) as Record<string, unknown>;
  } catch (error) {
    return { unserialisable: (error as Error).message };
  }
}
