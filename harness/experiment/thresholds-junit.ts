// run's junit.xml: one test case per threshold (class = variant, name = metric); a failed
// threshold is a failure, an inconclusive one skipped — or, with --strict (where it fails
// the run), a failure too, so junit.xml and the exit code agree. Each with the measured
// value and CI.
import { junitXml } from "../report/junit-writer.ts";
import type { Results } from "../report/results-model.ts";

export function thresholdsJunit(results: Results, strict: boolean): string {
  const thresholds = results.thresholds ?? [];
  const outcome = (result: string) => (result === "pass" ? "passed" : result === "fail" || strict ? "failed" : "skipped");
  return junitXml([
    {
      name: `sidecar-bench run ${results.scenario.name} (${results.runId}): thresholds`,
      cases: thresholds.map((t) => ({
        className: t.variant,
        name: t.metric,
        result: outcome(t.result),
        message: `${t.message ?? `${t.variant} ${t.metric}: ${t.result}`}${t.result === "inconclusive" && strict ? " (--strict: an inconclusive threshold fails the run)" : ""}`,
      })),
    },
  ]);
}
