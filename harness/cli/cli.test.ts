// End to end through the real command line: the reference primary and Envoy on the
// local runtime, a short scenario, and the report's content checked.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseCsv } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { decodeHistogram } from "../measure/histogram.ts";
import { expectCleanReport, expectRunReport } from "../report/html/report-expectations.ts";
import { LocalRuntime } from "../runtime/local/local-runtime.ts";
import { listPids } from "../runtime/local/proc-stats.ts";
import { readLabels } from "../runtime/local/run-labels.ts";
import { measuredTrials, readResults, waitFor } from "./fixtures/run-progress.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const fixtures = join(root, "harness", "cli", "fixtures");
const bin = join(root, "bin", "sidecar-bench.js");

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const done = new Promise<Finished>((finish) => child.once("exit", (code) => finish({ code, stdout, stderr })));
  return { child, done };
}

function processesOfRun(runId: string): number[] {
  return listPids().filter((pid) => readLabels(pid)?.runId === runId);
}

describe("sidecar-bench run (end to end, local runtime)", () => {
  it("benchmarks Envoy against the baseline and reports deltas with CIs, resources and every trial", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "sb-e2e-"));
    const { done } = cli(["run", join(fixtures, "smoke.yaml"), "--out", outDir]);
    const finished = await done;
    expect(finished.stderr + finished.stdout).not.toMatch(/run failed/);
    expect(finished.code).toBe(0);

    const results = readResults(outDir);
    expect(results.status).toBe("complete");
    expect(results.plan.arms).toEqual(["baseline", "envoy", "baseline/aa"]);
    // 3 warm-ups + 2 rounds × 3 arms, each round containing every arm once.
    expect(results.trials).toHaveLength(9);
    const measured = results.trials.filter((t) => !t.warmup);
    for (const round of [0, 1]) expect(measured.filter((t) => t.round === round).map((t) => t.arm).sort()).toEqual(["baseline", "baseline/aa", "envoy"]);
    for (const trial of measured) {
      expect(trial.load.ok).toBeGreaterThanOrEqual(100);
      expect(trial.load.errors).toEqual({});
      // The stored histogram reproduces the trial's percentiles.
      const histogram = decodeHistogram(trial.histograms.latency);
      expect(histogram.totalCount).toBe(trial.load.ok);
      expect(histogram.getValueAtPercentile(50)).toBe(trial.latencyUs.p50);
      expect(trial.latencyUs.p50).toBeGreaterThanOrEqual(trial.serviceTimeUs.p50 - 1);
      const containers = trial.resources.map((r) => r.container).sort();
      expect(containers).toEqual(trial.arm === "envoy" ? ["envoy", "primary"] : ["primary"]);
      for (const usage of trial.resources) {
        expect(usage.cpuSeconds).toBeGreaterThan(0);
        expect(usage.memoryPeakMiB).toBeGreaterThan(1);
        expect(usage.vcpuPer1kRps).toBeGreaterThan(0);
      }
    }
    // Envoy really sat in the path: its pod started envoy first, and Envoy's own
    // CPU time grew with the requests it forwarded.
    const envoyPod = results.pods.find((p) => p.variant === "envoy")!;
    expect(envoyPod.containers.map((c) => `${c.name}:${c.kind}`)).toEqual(["envoy:sidecar", "primary:main"]);
    const started = envoyPod.events.filter((e) => e.type === "started").map((e) => e.container);
    expect(started).toEqual(["envoy", "primary"]);
    // Each container's log file is listed with what its cap dropped: nothing, from these two.
    expect(envoyPod.logs?.map((l) => [l.container, l.droppedBytes, l.file.startsWith(join(outDir, "pods"))])).toEqual([
      ["envoy", 0, true],
      ["primary", 0, true],
    ]);

    const analysis = results.analysis!;
    expect(analysis.rounds).toBe(2);
    expect(analysis.noiseFloor).not.toBeNull();
    const envoy = analysis.variants.find((v) => v.variant === "envoy")!;
    for (const metric of ["p50", "p90", "p99", "p99_9"]) {
      const m = envoy.latency[metric]!;
      expect(m.ci95.low).toBeLessThanOrEqual(m.deltaMedian);
      expect(m.deltaMedian).toBeLessThanOrEqual(m.ci95.high);
      expect(["slower", "faster", "not-distinguishable"]).toContain(m.verdict);
    }
    expect(envoy.resources.find((r) => r.container === "envoy")!.vcpuPer1kRpsMedian).toBeGreaterThan(0);
    expect(envoy.budgetChecks.map((b) => b.budget)).toContain("idleMemoryMiB");
    expect(results.environment.envoy).toBe("1.40.0");
    expect(results.environment.scenarioSha256).toMatch(/^[0-9a-f]{64}$/);

    // CSVs and markdown carry the same figures.
    const summary = parseCsv(readFileSync(join(outDir, "summary.csv")), { columns: true }) as Array<Record<string, string>>;
    const p50 = summary.find((r) => r.variant === "envoy" && r.measure === "latency" && r.metric === "p50")!;
    expect(Number(p50.delta_median)).toBeCloseTo(envoy.latency.p50!.deltaMedian, 1);
    const trialsCsv = parseCsv(readFileSync(join(outDir, "trials.csv")), { columns: true }) as Array<Record<string, string>>;
    expect(trialsCsv).toHaveLength(9);
    const report = readFileSync(join(outDir, "report.md"), "utf8");
    expect(report).toContain("### Added latency per request (2 paired rounds");
    expect(report).toMatch(/\| envoy \| p99 \|/);
    expect(report).toContain("Noise floor (A/A");
    expect(report).toContain("envoy (sidecar)");
    expect(finished.stdout).toContain("### Added latency per request");

    // `report` re-renders the same markdown from results.json.
    const rerenderDir = mkdtempSync(join(tmpdir(), "sb-rerender-"));
    const rerender = await cli(["report", join(outDir, "results.json"), "--out", rerenderDir]).done;
    expect(rerender.code).toBe(0);
    expect(readFileSync(join(rerenderDir, "report.md"), "utf8")).toBe(report);
    expect(existsSync(join(rerenderDir, "report.html"))).toBe(true);
    // report.html in Chromium: every chart drawn with this run's data, no console errors.
    await expectRunReport(outDir, results);
    expect(processesOfRun(results.runId)).toEqual([]);
  }, 120_000);

  it("rejects a malformed scenario with exit code 2, naming file, line and field, and starts nothing", async () => {
    const outDir = join(mkdtempSync(join(tmpdir(), "sb-bad-")), "out");
    const finished = await cli(["run", join(fixtures, "malformed.yaml"), "--out", outDir]).done;
    expect(finished.code).toBe(2);
    expect(finished.stderr).toMatch(/malformed\.yaml:10:\d+ spec\.workload\.load\.ratePerSecond: unknown key "ratePerSecond" \(did you mean "ratePerSec"\?\)/);
    expect(finished.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(existsSync(outDir)).toBe(false);
  });

  it("rejects bad flags and a missing results file with exit code 2", async () => {
    const badFlag = await cli(["run", join(fixtures, "smoke.yaml"), "--trials", "zero"]).done;
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain('--trials expects a whole number ≥ 1, found "zero"');
    const badPrimary = await cli(["run", join(fixtures, "smoke.yaml"), "--primary", "tirton"]).done;
    expect(badPrimary.code).toBe(2);
    expect(badPrimary.stderr).toContain('--primary: expected a reference primary (fastapi, triton) or a Primary manifest file; "tirton" is neither');
    const badCertifyPrimary = await cli(["certify", "scenarios/sidecars/envoy.yaml", "--primary", "tirton"]).done;
    expect(badCertifyPrimary.code).toBe(2);
    expect(badCertifyPrimary.stderr).toContain("--primary: expected a reference primary");
    const missing = await cli(["report", "/nonexistent/results.json"]).done;
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("/nonexistent/results.json: no such file");
  });

  it("on Ctrl-C stops every pod process, keeps the finished trials and exits 130", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "sb-sigint-"));
    const { child, done } = cli(["run", join(fixtures, "long.yaml"), "--out", outDir]);
    await waitFor(() => measuredTrials(outDir) >= 2, 60_000);
    const runId = readResults(outDir).runId;
    expect(processesOfRun(runId).length).toBeGreaterThan(0);
    child.kill("SIGINT");
    const finished = await done;
    expect(finished.code).toBe(130);
    const results = readResults(outDir);
    expect(results.status).toBe("interrupted");
    expect(results.trials.filter((t) => !t.warmup).length).toBeGreaterThanOrEqual(2);
    expect(readFileSync(join(outDir, "report.md"), "utf8")).toContain("**interrupted**");
    // The interrupted run's report.html opens cleanly and says so.
    expect((await expectCleanReport(join(outDir, "report.html"), "run-interrupted-report.png")).text).toContain("This run is interrupted");
    expect(processesOfRun(runId)).toEqual([]);
  }, 120_000);

  it("after the harness is killed outright, the next run reaps the processes it left", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "sb-sigkill-"));
    const { child, done } = cli(["run", join(fixtures, "long.yaml"), "--out", outDir]);
    await waitFor(() => measuredTrials(outDir) >= 1, 60_000);
    const runId = readResults(outDir).runId;
    child.kill("SIGKILL");
    await done;
    // SIGKILL gives the harness no chance to clean up: its pods are orphans now.
    const orphans = processesOfRun(runId);
    expect(orphans.length).toBeGreaterThan(0);
    const reaped = await new LocalRuntime({ workDir: mkdtempSync(join(tmpdir(), "sb-reaper-")) }).reapOrphans();
    for (const pid of orphans) expect(reaped.join("\n")).toContain(`process ${pid} `);
    await waitFor(() => processesOfRun(runId).length === 0, 5_000);
  }, 120_000);
});
