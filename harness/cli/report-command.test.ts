// `sidecar-bench report <file>` re-renders by the record's kind: a run's results.json, a
// certificate's conformance.json, a comparison's results.json (stored real records).
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { reportCommand } from "./report-command.ts";
import { UsageError } from "./usage-error.ts";

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "..", "report", "html", "fixtures");

function rerender(fixture: string): string[] {
  const out = mkdtempSync(join(tmpdir(), "sb-report-"));
  vi.spyOn(process.stdout, "write").mockImplementation(() => true);
  try {
    expect(reportCommand(join(fixtures, fixture), out)).toBe(0);
  } finally {
    vi.restoreAllMocks();
  }
  expect(readFileSync(join(out, "report.html"), "utf8")).toMatch(/^<!doctype html>/);
  return readdirSync(out).sort();
}

describe("sidecar-bench report", () => {
  it("re-renders a run's, a certificate's and a comparison's reports, report.html among them", () => {
    expect(rerender("run-results.json")).toEqual(["report.html", "report.md", "results.json", "summary.csv", "trials.csv"]);
    expect(rerender("conformance.json")).toEqual(["conformance.json", "conformance.yaml", "report.html"]);
    expect(rerender("comparison-results.json")).toEqual(["comparison.csv", "comparison.md", "overhead", "report.html", "results.json"]);
  });

  it("names the field when the file is none of the three", () => {
    const file = join(mkdtempSync(join(tmpdir(), "sb-report-bad-")), "results.json");
    writeFileSync(file, JSON.stringify({ kind: "something-else" }));
    expect(() => reportCommand(file)).toThrow(UsageError);
    expect(() => reportCommand(file)).toThrow(`${file}: kind: expected one of "sidecar-bench/results", "ConformanceReport", "sidecar-bench/comparison", found "something-else"`);
    writeFileSync(file, JSON.stringify({ kind: "sidecar-bench/results", schemaVersion: 1 }));
    expect(() => reportCommand(file)).toThrow(`${file}: schemaVersion: expected 2, found 1; re-run with this version`);
    expect(existsSync(join(dirname(file), "report.html"))).toBe(false);
  });
});
