// conformance.yaml (for people and for review in a pull request) and conformance.json
// (for machines), the same document, each written atomically.
import { join } from "node:path";
import { stringify } from "yaml";
import { writeFileAtomic } from "../report/atomic-write.ts";
import type { ConformanceReport } from "./conformance-report.ts";

export const CONFORMANCE_FILES = { yaml: "conformance.yaml", json: "conformance.json" } as const;

export function conformanceYaml(report: ConformanceReport): string {
  // lineWidth 0: no folding, so messages and evidence stay one greppable line each.
  return `# sidecar-bench conformance report of ${report.implementation.name} (${report.runId})\n${stringify(report, { lineWidth: 0 })}`;
}

export function writeConformanceReport(report: ConformanceReport, outDir: string): string[] {
  const yamlFile = join(outDir, CONFORMANCE_FILES.yaml);
  const jsonFile = join(outDir, CONFORMANCE_FILES.json);
  writeFileAtomic(yamlFile, conformanceYaml(report));
  writeFileAtomic(jsonFile, `${JSON.stringify(report, null, 2)}\n`);
  return [yamlFile, jsonFile];
}
