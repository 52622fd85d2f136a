// One rule for what fails a certification, for both ways of running it: `sidecar-bench
// certify` (its exit code) and the vitest entry CI runs directly
// (suites/conformance.test.ts: a failing `it` makes vitest exit non-zero). A failed
// verdict of any test, core or extended, fails the run: an extended test only runs when
// the sidecar claims its feature, so its failure is a claim refuted. Skipped and
// not-supported tests, and roles without tests, leave the run passing but the
// certificate partial (its resultReasons say why): the exit code says whether anything
// the sidecar claims was refuted, the result how much of it is certified.
import type { ConformanceReport } from "./conformance-report.ts";
import type { Verdict } from "./conformance-test.ts";

export const EXIT_CODES = { passed: 0, failed: 1, interrupted: 130 } as const;

/** Whether this verdict fails the run: certify exits 1, and the vitest entry fails the test. */
export function failsTheRun(verdict: Verdict): boolean {
  return verdict === "failed";
}

/** certify's exit code: 130 when interrupted, 1 when a test failed or reached no verdict, else 0. */
export function certificationExitCode(report: ConformanceReport): number {
  if (report.status === "interrupted") return EXIT_CODES.interrupted;
  if (report.status === "incomplete") return EXIT_CODES.failed;
  const failed = report.profiles.some((p) => p.tests.some((t) => t.verdict !== "not-run" && failsTheRun(t.verdict)));
  return failed ? EXIT_CODES.failed : EXIT_CODES.passed;
}
