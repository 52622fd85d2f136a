// diff and thresholds through the real command line: two short runs of the real primary
// and Envoy (≈ 10 s each), the thresholds' junit.xml parsed back with a real XML parser,
// and `diff` of the two runs writing Markdown, JSON and JUnit.
import { spawn } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { beforeAll, describe, expect, it } from "vitest";
import type { Results } from "../report/results-model.ts";
import type { DiffReport } from "./diff-model.ts";

const root = resolve(import.meta.dirname, "..", "..");
const bin = join(root, "bin", "sidecar-bench.js");
const scenario = join(import.meta.dirname, "fixtures", "thresholds-smoke.yaml");
const xml = new XMLParser({ ignoreAttributes: false });

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return new Promise((finish) => child.once("exit", (code) => finish({ code, stdout, stderr })));
}

const dir = mkdtempSync(join(tmpdir(), "sb-diff-"));
const runs = [join(dir, "base"), join(dir, "head")];
const finished: Array<Awaited<ReturnType<typeof cli>>> = [];

beforeAll(async () => {
  // One after the other: two runs at once would share the 2 CPUs and each other's noise.
  for (const out of runs) finished.push(await cli(["run", scenario, "--out", out]));
}, 180_000);

describe("run with spec.thresholds (end to end)", () => {
  it("exits 1 on a failed threshold, writes junit.xml with a case per threshold, results.thresholds and the report table", () => {
    const run = finished[0]!;
    expect(run.stderr).not.toMatch(/run failed/);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("thresholds: 1 passed, 1 failed (envoy memoryMiB), 0 inconclusive");
    const results = JSON.parse(readFileSync(join(runs[0]!, "results.json"), "utf8")) as Results;
    expect(results.thresholds!.map((t) => [t.variant, t.metric, t.result])).toEqual([
      ["envoy", "addedP50Ms", "pass"],
      ["envoy", "memoryMiB", "fail"],
    ]);
    const memory = results.thresholds![1]!;
    expect(memory.ci95!.low).toBeGreaterThan(0.01);

    const junit = xml.parse(readFileSync(join(runs[0]!, "junit.xml"), "utf8"));
    const cases = [junit.testsuites.testsuite.testcase].flat() as Array<Record<string, unknown>>;
    expect(junit.testsuites["@_tests"]).toBe("2");
    expect(junit.testsuites["@_failures"]).toBe("1");
    expect(cases.map((c) => `${c["@_classname"]}/${c["@_name"]}`)).toEqual(["envoy/addedP50Ms", "envoy/memoryMiB"]);
    const failure = (cases[1]!["failure"] as Record<string, string>)["@_message"];
    expect(failure).toContain(`envoy memoryMiB: ${memory.measured!.toFixed(1)} MiB [95% CI ${memory.ci95!.low.toFixed(1)}, ${memory.ci95!.high.toFixed(1)}] > limit 0.01 MiB: fail`);
    expect(cases[0]!["failure"]).toBeUndefined();

    expect(readFileSync(join(runs[0]!, "report.md"), "utf8")).toMatch(/### Thresholds[\s\S]*\| envoy \| memoryMiB \| 0\.01 MiB \| [\d.]+ MiB \[[\d.]+, [\d.]+\] \| FAIL \|/);
  });

  it("diff of the two runs: two rounds each are too few to decide (exit 0, every change undecided); Markdown on stdout and in a file, JSON and JUnit", async () => {
    const out = (name: string) => join(dir, name);
    const result = await cli(["diff", runs[0]!, join(runs[1]!, "results.json"), "--tolerance", "5ms", "--markdown", out("diff.md"), "--json", out("diff.json"), "--junit", out("diff.xml")]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("## sidecar-bench diff: ✅ no regression");
    expect(result.stdout).toContain("base has 2 paired rounds, head 2: diff decides only with at least 5");
    expect(readFileSync(out("diff.md"), "utf8")).toBe(result.stdout);
    const report = JSON.parse(readFileSync(out("diff.json"), "utf8")) as DiffReport;
    expect(report.metrics.map((m) => m.metric)).toEqual(["latencyP50", "latencyP99", "serviceP50", "serviceP99", "cpuPer1kRps", "sidecarMemoryMiB"]);
    expect(report.metrics.every((m) => m.method === "bootstrap" && m.verdict === "undecided" && m.ci95.low <= m.change && m.change <= m.ci95.high)).toBe(true);
    expect(report.metrics.find((m) => m.metric === "latencyP50")!.tolerance).toBe(5000);
    const junit = xml.parse(readFileSync(out("diff.xml"), "utf8"));
    // One case per gating metric: latency p50 and p99, CPU (service time and memory are shown only).
    expect(junit.testsuites["@_tests"]).toBe("3");
    expect(junit.testsuites["@_skipped"]).toBe("3");
    expect(junit.testsuites["@_failures"]).toBe("0");
  });

  it("diff of runs of another workload exits 2 and names the field", async () => {
    const other = join(dir, "other");
    cpSync(runs[1]!, other, { recursive: true });
    const results = JSON.parse(readFileSync(join(other, "results.json"), "utf8")) as Results & { scenario: { spec: { workload: { load: { ratePerSec: number } } } } };
    results.scenario.sha256 = "0".repeat(64);
    results.scenario.spec.workload.load.ratePerSec = 300;
    writeFileSync(join(other, "results.json"), JSON.stringify(results));
    const result = await cli(["diff", runs[0]!, other]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("scenario.spec.workload.load.ratePerSec differs: base 150, head 300");
  });
});
