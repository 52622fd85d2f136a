// conformance.yaml (for people and for review in a pull request), conformance.json
// (for machines) and report.html (to share: verdicts, evidence folded, charts), the same
// document, each written atomically.
import { join } from "node:path";
import { stringify } from "yaml";
import { writeFileAtomic } from "../report/atomic-write.ts";
import { certifyReportHtml } from "../report/html/certify-report.ts";
import type { ConformanceReport } from "./conformance-report.ts";

export const CONFORMANCE_FILES = { yaml: "conformance.yaml", json: "conformance.json", html: "report.html" } as const;

export function conformanceYaml(report: ConformanceReport): string {
  // lineWidth 0: no folding, so messages and evidence stay one greppable line each.
  return `# sidecar-bench conformance report of ${report.implementation.name} (${report.runId})\n${stringify(report, { lineWidth: 0 })}`;
}

export function writeConformanceReport(report: ConformanceReport, outDir: string): string[] {
  const yamlFile = join(outDir, CONFORMANCE_FILES.yaml);
  const jsonFile = join(outDir, CONFORMANCE_FILES.json);
  writeFileAtomic(yamlFile, conformanceYaml(report));
  writeFileAtomic(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  const htmlFile = join(outDir, CONFORMANCE_FILES.html);
  writeFileAtomic(htmlFile, certifyReportHtml(report));
  return [yamlFile, jsonFile, htmlFile];
}
