// Runs selected checks one after another in this process, without vitest: what the
// fixture suite uses (spawning vitest per fixture would cost seconds each), and the same
// runCheck the vitest entry calls, so both paths reach the same verdicts.
import type { ContextInput } from "./conformance-context.ts";
import type { ConformanceTest } from "./conformance-test.ts";
import { CertificationInterrupted, runCheck, type PodStartFailureMemo } from "./run-check.ts";
import type { VerdictRecord } from "./verdict-record.ts";

export interface ConformanceRunInput {
  /** In the order to run (registry order). */
  tests: readonly ConformanceTest[];
  target: Omit<ContextInput, "signal">;
  signal?: AbortSignal;
  onVerdict?(record: VerdictRecord, index: number, total: number): void;
}

export interface ConformanceRun {
  records: VerdictRecord[];
  /** True when the signal stopped the run before every test had a verdict. */
  interrupted: boolean;
}

export async function runConformance(input: ConformanceRunInput): Promise<ConformanceRun> {
  const records: VerdictRecord[] = [];
  const podStartFailure: PodStartFailureMemo = {};
  for (const [index, test] of input.tests.entries()) {
    try {
      const record = await runCheck({ test, target: input.target, podStartFailure, ...(input.signal ? { signal: input.signal } : {}) });
      records.push(record);
      input.onVerdict?.(record, index, input.tests.length);
    } catch (error) {
      if (error instanceof CertificationInterrupted) return { records, interrupted: true };
      throw error;
    }
  }
  return { records, interrupted: false };
}
