// A vitest reporter for certify: one line per test as it finishes (id, verdict,
// duration), the vitest handle for Ctrl-C, and whatever kept tests from running at all
// (the entry failing to load, an unhandled error) so certify can say so.
import type { Reporter, SerializedError, TestCase, TestModule, TestRunEndReason, Vitest } from "vitest/node";
import type { Verdict } from "./conformance-test.ts";
import { progressLine } from "./verdict-table.ts";
import "./vitest-meta.ts";

export class ConformanceProgressReporter implements Reporter {
  private total = 0;
  private done = 0;
  /** A cancelled run reports a skipped test more than once; one line each. */
  private readonly reported = new Set<string>();
  /** Set once vitest has initialised: certify cancels the run through it on Ctrl-C. */
  vitest: Vitest | null = null;
  readonly problems: string[] = [];
  reason: TestRunEndReason | null = null;

  constructor(
    private readonly writeLine: (line: string) => void,
    private readonly onVitest?: (vitest: Vitest) => void,
  ) {}

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
    this.onVitest?.(vitest);
  }

  onTestModuleCollected(module: TestModule): void {
    this.total += [...module.children.allTests()].length;
  }

  onTestCaseResult(testCase: TestCase): void {
    if (this.reported.has(testCase.id)) return;
    this.reported.add(testCase.id);
    const meta = testCase.meta().conformance;
    const result = testCase.result();
    // Without meta the check never reached a verdict: interrupted, or the entry itself broke.
    const verdict: Verdict | "interrupted" | "error" = meta?.verdict ?? (result.state === "skipped" ? "interrupted" : "error");
    const durationMs = meta?.durationMs ?? testCase.diagnostic()?.duration ?? 0;
    this.writeLine(progressLine({ id: testCase.name, verdict: verdict as Verdict, durationMs }, ++this.done, Math.max(this.total, this.done)));
    if (verdict === "error" && result.state === "failed") {
      this.problems.push(`${testCase.name}: ${result.errors.map((e) => e.message).join("; ")}`);
    }
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>, reason: TestRunEndReason): void {
    this.reason = reason;
    for (const module of modules) {
      for (const error of module.errors()) this.problems.push(`${module.moduleId}: ${error.message}`);
    }
    for (const error of unhandledErrors) this.problems.push(`unhandled error: ${error.message}`);
  }
}
