// `sidecar-bench compare` end to end on the local runtime with the real integrations: a
// shortened scenario (harness/cli/fixtures/compare-short.yaml). The latency figures of so
// short a run are rough, so the assertions are about what is deterministic: which
// process survived which fault, the structure, and the shape of the reports.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseCsv } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { ROWS } from "../compare/claims.ts";
import type { ComparisonResults } from "../compare/comparison-model.ts";
import { expectCompareReport } from "../report/html/report-expectations.ts";
import { listPids } from "../runtime/local/proc-stats.ts";
import { readLabels } from "../runtime/local/run-labels.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = join(root, "bin", "sidecar-bench.js");

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[]): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(process.execPath, [bin, "compare", ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  return { child, done: new Promise((finish) => child.once("exit", (code) => finish({ code, stdout, stderr }))) };
}

const compare = (args: string[]) => start(args).done;

function readResults(outDir: string): ComparisonResults | null {
  try {
    return JSON.parse(readFileSync(join(outDir, "results.json"), "utf8")) as ComparisonResults;
  } catch {
    return null;
  }
}

describe("sidecar-bench compare (end to end, local runtime)", () => {
  it("measures every row for the three integrations and writes the table with its evidence", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "sb-compare-"));
    const finished = await compare([join(root, "harness", "cli", "fixtures", "compare-short.yaml"), "--out", outDir]);
    expect(finished.stderr).not.toMatch(/compare failed/);
    expect(finished.code).toBe(0);
    const results = readResults(outDir)!;
    expect(results.status).toBe("complete");
    expect(results.seed).toBe(3);

    // The three integrations did the same work.
    expect(results.equivalence.map((e) => [e.column, e.passed])).toEqual([["sidecar", true], ["monolithic", true], ["library", true]]);

    // Every cell of the 8 × 3 table, each with a verdict.
    expect(results.table).toHaveLength(ROWS.length * 3);
    expect(new Set(results.table.map((c) => c.verdict)).size).toBeGreaterThan(0);
    for (const cell of results.table) expect(["holds", "refuted", "not-distinguishable"]).toContain(cell.verdict);

    // Overhead: the paired benchmark ran every arm.
    expect(results.overhead?.analysis?.variants.map((v) => v.variant)).toEqual(["sidecar", "monolithic", "library"]);

    // The facts the episodes must show, whatever the machine's noise: a crash or restart of the
    // sidecar leaves the primary's process alone; in-process, the primary goes with it.
    const episode = (column: string, kind: string) => results.episodes.find((e) => e.column === column && e.kind === kind)!;
    expect(results.episodes).toHaveLength(12);
    for (const e of results.episodes) expect(e.error).toBeNull();
    for (const kind of ["crash", "restart"]) {
      expect(episode("sidecar", kind)).toMatchObject({ faultTookEffect: true, primary: { restarted: false, modelReloaded: false } });
      expect(episode("sidecar", kind).primary.pidAfter).toBe(episode("sidecar", kind).primary.pidBefore);
      for (const column of ["monolithic", "library"]) {
        expect(episode(column, kind)).toMatchObject({ faultTookEffect: true, primary: { restarted: true, modelReloaded: true } });
      }
    }
    expect(episode("sidecar", "memory-balloon").containers.find((c) => c.container === "request-guard-sidecar")!.oomKills).toBeGreaterThan(0);
    expect(episode("monolithic", "memory-balloon").primary.oomKilled).toBe(true);
    const verdict = (row: string, column: string) => results.table.find((c) => c.row === row && c.column === column)!.verdict;
    expect(verdict("independent-lifecycle", "sidecar")).toBe("holds");
    expect(verdict("independent-lifecycle", "monolithic")).toBe("holds");
    expect(verdict("deployment-complexity", "sidecar")).toBe("holds");
    expect(verdict("polyglot-support", "sidecar")).toBe("holds");

    // Reports: the table printed and written, one CSV row per cell, the benchmark's own report.
    expect(finished.stdout).toMatch(/\| overhead per request \| < 1 ms \(IPC\) → /);
    const markdown = readFileSync(join(outDir, "comparison.md"), "utf8");
    expect(markdown).toContain("## Method, row by row");
    expect(markdown).toContain("claim: 0 ms<br>measured: ");
    expect(markdown).toMatch(/; runtime \/ accounting local \/ (cgroup-v1|cgroup-v2|proc);/);
    const csv = parseCsv(readFileSync(join(outDir, "comparison.csv"), "utf8"), { columns: true }) as Array<Record<string, string>>;
    expect(csv).toHaveLength(24);
    expect(readFileSync(join(outDir, "overhead", "report.md"), "utf8")).toContain("sidecar");
    // report.html in Chromium: every cell's measured value, the overhead charts with the benchmark's data.
    await expectCompareReport(outDir, results);

    // Nothing of the run is left running.
    expect(listPids().filter((pid) => readLabels(pid)?.runId === results.runId)).toEqual([]);
  }, 400_000);

  it("on Ctrl-C stops every pod, keeps what finished (equivalence, the rounds so far) and exits 130", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "sb-compare-sigint-"));
    const { child, done } = start([join(root, "harness", "cli", "fixtures", "compare-short.yaml"), "--out", outDir, "--trials", "40"]);
    const deadline = Date.now() + 120_000;
    while ((readResults(outDir)?.overhead?.trials.filter((t) => !t.warmup).length ?? 0) < 3) {
      if (Date.now() > deadline) throw new Error("no overhead round finished within 120 s");
      await new Promise((r) => setTimeout(r, 200));
    }
    child.kill("SIGINT");
    const finished = await done;
    expect(finished.code).toBe(130);
    const results = readResults(outDir)!;
    expect(results.status).toBe("interrupted");
    expect(results.equivalence).toHaveLength(3);
    expect(results.overhead!.trials.filter((t) => !t.warmup).length).toBeGreaterThanOrEqual(3);
    expect(results.episodes).toEqual([]);
    expect(readFileSync(join(outDir, "comparison.md"), "utf8")).toContain("(interrupted)");
    expect(listPids().filter((pid) => readLabels(pid)?.runId === results.runId)).toEqual([]);
  }, 180_000);

  it("refuses a scenario without spec.comparison, naming the field, with exit code 2", async () => {
    const finished = await compare([join(root, "scenarios", "default.yaml")]);
    expect(finished.code).toBe(2);
    expect(finished.stderr).toMatch(/scenarios\/default\.yaml: spec\.comparison: missing/);
  });
});
