// run's junit.xml: one test case per threshold (class = variant, name = metric); a failed
// threshold is a failure, an inconclusive one skipped, each with the measured value and CI.
import { junitXml } from "../report/junit-writer.ts";
import type { Results } from "../report/results-model.ts";

export function thresholdsJunit(results: Results): string {
  const thresholds = results.thresholds ?? [];
  return junitXml([
    {
      name: `sidecar-bench run ${results.scenario.name} (${results.runId}): thresholds`,
      cases: thresholds.map((t) => ({ className: t.variant, name: t.metric, result: t.result === "pass" ? "passed" : t.result === "fail" ? "failed" : "skipped", message: t.message ?? `${t.variant} ${t.metric}: ${t.result}` })),
    },
  ]);
}
