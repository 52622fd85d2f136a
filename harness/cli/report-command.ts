// `sidecar-bench report <file>`: re-renders the report files from what a command recorded —
// a run's results.json (trials.csv, summary.csv, report.md, report.html), a certificate's
// conformance.json (conformance.yaml, report.html) or a comparison's results.json
// (comparison.md, comparison.csv, report.html, overhead/) — dispatched on its `kind`, e.g.
// after an interrupted run or with a newer version of the writers.
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { COMPARISON_KIND, COMPARISON_SCHEMA_VERSION, type ComparisonResults } from "../compare/comparison-model.ts";
import { writeComparisonReports } from "../compare/comparison-writers.ts";
import { CONFORMANCE_REPORT_KIND, type ConformanceReport } from "../conformance/conformance-report.ts";
import { conformanceYaml } from "../conformance/conformance-writers.ts";
import { writeFileAtomic } from "../report/atomic-write.ts";
import { certifyReportHtml } from "../report/html/certify-report.ts";
import { RESULTS_KIND, RESULTS_SCHEMA_VERSION, type Results } from "../report/results-model.ts";
import { writeReports } from "../report/write-reports.ts";
import { readJsonFile } from "./read-json-file.ts";
import { UsageError } from "./usage-error.ts";

const KINDS = [RESULTS_KIND, CONFORMANCE_REPORT_KIND, COMPARISON_KIND];

function readRecord(file: string): { kind?: unknown; schemaVersion?: unknown } {
  const record = readJsonFile(file, file, "pass the results.json of a run (reports/<run-id>/results.json), a conformance.json of certify, or the results.json of compare");
  return (record ?? {}) as { kind?: unknown; schemaVersion?: unknown };
}

function checkVersion(file: string, found: unknown, expected: number): void {
  if (found !== expected) throw new UsageError(`${file}: schemaVersion: expected ${expected}, found ${JSON.stringify(found)}; re-run with this version`);
}

export function reportCommand(file: string, out?: string): number {
  const input = resolve(file);
  const record = readRecord(input);
  const outDir = resolve(out ?? dirname(input));
  const inPlace = outDir === dirname(input);
  mkdirSync(outDir, { recursive: true });
  let written: string[];
  if (record.kind === RESULTS_KIND) {
    checkVersion(input, record.schemaVersion, RESULTS_SCHEMA_VERSION);
    written = writeReports(record as Results, outDir, { skipResultsJson: inPlace, html: "always" });
  } else if (record.kind === COMPARISON_KIND) {
    checkVersion(input, record.schemaVersion, COMPARISON_SCHEMA_VERSION);
    written = writeComparisonReports(record as ComparisonResults, outDir, { skipResultsJson: inPlace, html: "always" });
  } else if (record.kind === CONFORMANCE_REPORT_KIND) {
    // conformance.json stays as certify wrote it (its secret scan vouched for it); the views are re-rendered.
    const report = record as ConformanceReport;
    written = [];
    const write = (name: string, content: string) => {
      writeFileAtomic(join(outDir, name), content);
      written.push(join(outDir, name));
    };
    write("conformance.yaml", conformanceYaml(report));
    if (!inPlace) write("conformance.json", `${JSON.stringify(report, null, 2)}\n`);
    write("report.html", certifyReportHtml(report));
  } else {
    throw new UsageError(`${input}: kind: expected one of ${KINDS.map((k) => JSON.stringify(k)).join(", ")}, found ${JSON.stringify(record.kind)}`);
  }
  for (const path of written) process.stdout.write(`${path}\n`);
  return 0;
}
