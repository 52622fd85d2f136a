// Writes a run's report folder from its results: results.json, trials.csv, summary.csv
// and report.md, each atomically. `run` calls it after every trial; `report` re-renders.
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-write.ts";
import { summaryCsv, trialsCsv } from "./csv-writer.ts";
import { reportMarkdown } from "./markdown-writer.ts";
import type { Results } from "./results-model.ts";

export const REPORT_FILES = ["results.json", "trials.csv", "summary.csv", "report.md"] as const;

export function writeReports(results: Results, outDir: string, options: { skipResultsJson?: boolean } = {}): string[] {
  const written: string[] = [];
  const write = (name: string, content: string) => {
    writeFileAtomic(join(outDir, name), content);
    written.push(join(outDir, name));
  };
  if (!options.skipResultsJson) write("results.json", `${JSON.stringify(results, null, 2)}\n`);
  write("trials.csv", trialsCsv(results));
  write("summary.csv", summaryCsv(results));
  write("report.md", reportMarkdown(results));
  return written;
}
