// The one or two lines a command prints when it is done, saying what to do with what it made
// (open the report, gate the next change on it). On stderr with the progress lines: stdout
// carries the results, which scripts read.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { shownPath as shown } from "./shown-path.ts";

/** "open <dir>/report.html in a browser", when the run wrote one. */
function openReport(outDir: string): string | null {
  return existsSync(join(outDir, "report.html")) ? `open ${shown(outDir)}/report.html in a browser` : null;
}

export type FinishedCommand = "run" | "calibrate" | "certify" | "compare";

/** What is worth doing next with the report folder `outDir`. */
export function nextSteps(command: FinishedCommand, outDir: string): string[] {
  const dir = shown(outDir);
  const open = openReport(outDir);
  switch (command) {
    case "run":
      return [
        `next: ${open ?? `read ${dir}/report.md`}`,
        `      gate a change on it: sidecar-bench diff ${dir}/results.json <a later run>/results.json (exit 1 on a regression)`,
      ];
    case "calibrate":
      return [`next: ${open ?? `read ${dir}/report.md`}; then sidecar-bench run <scenario> measures sidecars against this floor`];
    case "certify":
      return [
        `next: ${open ?? `read ${dir}/conformance.yaml`}`,
        `      after a change, certify again and: sidecar-bench diff ${dir}/conformance.json <new>/conformance.json (a test that passed and now fails is a regression)`,
      ];
    case "compare":
      return [`next: ${open ?? `read ${dir}/comparison.md`}`];
  }
}

export function printNextSteps(command: FinishedCommand, outDir: string): void {
  for (const line of nextSteps(command, outDir)) process.stderr.write(`${line}\n`);
}
