// Writes a run's report folder from its results: results.json, trials.csv, summary.csv,
// report.md and report.html, each atomically. `run` calls it after every trial; `report` re-renders.
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-write.ts";
import { summaryCsv, trialsCsv } from "./csv-writer.ts";
import { runReportHtml } from "./html/run-report.ts";
import { reportMarkdown } from "./markdown-writer.ts";
import type { Results } from "./results-model.ts";

export const REPORT_FILES = ["results.json", "trials.csv", "summary.csv", "report.md", "report.html"] as const;

/**
 * report.html (~1 MB with its inlined chart libraries, 25-50 ms to render) is written once the
 * run has ended — complete, interrupted or failed — not after every trial; `report` writes it
 * from any results.json, including one a killed run left "running".
 */
export function writeReports(results: Results, outDir: string, options: { skipResultsJson?: boolean; html?: "when-ended" | "always" } = {}): string[] {
  const written: string[] = [];
  const write = (name: string, content: string) => {
    writeFileAtomic(join(outDir, name), content);
    written.push(join(outDir, name));
  };
  if (!options.skipResultsJson) write("results.json", `${JSON.stringify(results, null, 2)}\n`);
  write("trials.csv", trialsCsv(results));
  write("summary.csv", summaryCsv(results));
  write("report.md", reportMarkdown(results));
  if (results.status !== "running" || options.html === "always") write("report.html", runReportHtml(results));
  return written;
}
