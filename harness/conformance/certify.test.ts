// `sidecar-bench certify` end to end through the real command line and vitest, with
// fake checks (every kind of verdict) against the real Envoy and reference primary.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { expectCertifyReport } from "../report/html/report-expectations.ts";
import { listPids } from "../runtime/local/proc-stats.ts";
import { readLabels } from "../runtime/local/run-labels.ts";
import type { ConformanceReport } from "./conformance-report.ts";
import { CERTIFY_ENV } from "./entry-options.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = join(root, "bin", "sidecar-bench.js");
const envoy = join(root, "scenarios", "sidecars", "envoy.yaml");
const fakes = join(root, "harness", "conformance", "fixtures", "fake-checks.ts");

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Without this worker's VITEST_* variables: the certify process starts a vitest of its own. */
function childEnv(registry: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("VITEST") && name !== "TEST" && name !== "NODE_ENV"));
  return { ...env, [CERTIFY_ENV.registry]: registry };
}

function certify(args: string[], registry = fakes): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(process.execPath, [bin, "certify", ...args], { cwd: root, env: childEnv(registry), stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk) => (stdout += chunk));
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  return { child, done: new Promise((finish) => child.once("exit", (code) => finish({ code, stdout, stderr }))) };
}

function readReport(outDir: string): ConformanceReport {
  return parse(readFileSync(join(outDir, "conformance.yaml"), "utf8")) as ConformanceReport;
}

function processesOfRun(runId: string): number[] {
  return listPids().filter((pid) => readLabels(pid)?.runId === runId);
}

describe("sidecar-bench certify (vitest-driven, fake checks)", () => {
  it("prints a line per test and the verdict table, writes conformance.yaml/json, junit.xml and verdicts, and exits 1 on a core failure", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "sb-certify-"));
    const finished = await certify([envoy, "--no-performance", "--out", outDir]).done;
    expect(finished.code, finished.stderr).toBe(1);
    expect(finished.stderr).toMatch(/^certify \d{8}-\d{6}-[0-9a-f]{6}: envoy 1\.40\.0 \(roles proxy\) → /m);
    expect(finished.stderr).toContain("8 tests in lifecycle, proxy, resources");
    expect(finished.stderr).toMatch(/^\[3\/8\] proxy\.fake-fails +failed +\d+ ms$/m);
    expect(finished.stderr).toMatch(/^\[7\/8\] proxy\.fake-needs-drain +not-supported +\d+ ms$/m);
    expect(finished.stdout).toContain("| proxy.fake-hangs | extended | **FAILED** |");
    expect(finished.stdout).toContain("| proxy | failure | 0/2/0/0 | 0/1/1/1 |");
    expect(finished.stdout).toContain("result: failure\n  - proxy: core tests failed: proxy.fake-fails, proxy.fake-throws\n  - proxy: extended tests failed: proxy.fake-hangs\n  - proxy: extended tests were skipped: proxy.fake-skips\n");
    expect(finished.stdout).toContain("Verdicts judged by the suite's default policy; suite config v2, 44 tries per expectation.");
    expect(finished.stdout).toContain("| idleMemoryMiB | 64 MiB | – | – | not measured |");

    const report = readReport(outDir);
    expect(report).toMatchObject({ kind: "ConformanceReport", status: "complete", result: "failure", implementation: { name: "envoy" }, runtime: "local" });
    expect(JSON.parse(readFileSync(join(outDir, "conformance.json"), "utf8"))).toEqual(report);
    const proxy = report.profiles.find((p) => p.name === "proxy")!;
    expect(proxy.failedTests.map((t) => [t.id, t.message])).toEqual([
      ["proxy.fake-fails", "expected 200, found 502"],
      ["proxy.fake-hangs", "did not finish within 300 ms"],
      ["proxy.fake-throws", "cannot read properties of undefined (reading 'status')"],
    ]);
    expect(report.profiles.find((p) => p.name === "lifecycle")!.result).toBe("success");
    expect(report.performance).toEqual({ status: "not-measured", reason: "--no-performance" });

    const junit = readFileSync(join(outDir, "junit.xml"), "utf8");
    expect(junit).toMatch(/<testsuites name="sidecar-bench conformance" tests="8" failures="3"/);
    expect(junit).toContain('name="proxy &gt; proxy.fake-fails"');
    expect(junit).toContain("expected 200, found 502");
    expect(readFileSync(join(outDir, "verdicts.jsonl"), "utf8").trim().split("\n")).toHaveLength(8);
    expect(processesOfRun(report.runId)).toEqual([]);
  }, 120_000);

  it("exits 0 when every core test of the requested profiles passes, with the performance figures", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "sb-certify-perf-"));
    const finished = await certify([envoy, "--profile", "lifecycle", "--profile", "resources", "--out", outDir]).done;
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stderr).toContain("3 tests in lifecycle, resources");
    expect(finished.stderr).toMatch(/performance: round 10\/10:/);
    const report = readReport(outDir);
    expect(report.result).toBe("success");
    expect(report.profiles.map((p) => p.name)).toEqual(["lifecycle", "resources"]);
    const perf = report.performance;
    if (perf.status !== "measured") throw new Error(`performance not measured: ${JSON.stringify(perf)}`);
    expect(perf.rounds).toBe(10);
    for (const metric of ["p50", "p99"] as const) {
      const d = perf.addedLatency[metric];
      expect(d.ci95Us.low).toBeLessThanOrEqual(d.deltaUs);
      expect(d.deltaUs).toBeLessThanOrEqual(d.ci95Us.high);
    }
    expect(perf.sidecar.container).toBe("envoy");
    expect(perf.sidecar.vcpuPer1kRps).toBeGreaterThan(0);
    expect(perf.sidecar.idleMemoryMiB).toBeGreaterThan(1);
    expect(perf.sidecar.timeToReadyMs).toBeGreaterThan(0);
    // Envoy's budgets are claims: its own checks here are fakes, so the benchmark's figures judge them.
    expect(report.claims.map((c) => [c.budget, c.source])).toEqual([
      ["idleMemoryMiB", "performance"],
      ["cpuPer1kRps", "performance"],
      ["timeToReadyMs", "performance"],
      ["addedP99Ms", "performance"],
    ]);
    expect(report.claims.every((c) => c.result !== "not measured")).toBe(true);
    // The certificate names the generator the benchmark really used.
    expect(report.environment.loadGenerator).toBe(JSON.parse(readFileSync(join(outDir, "performance", "results.json"), "utf8")).environment.loadGenerator);
    expect(report.environment.loadGenerator).toMatch(/^sidecar-bench open loop .*in a child process of the harness \(node --single-threaded-gc\)$/);
    expect(existsSync(join(outDir, "performance", "results.json"))).toBe(true);
    expect(existsSync(join(outDir, "performance", "scenario.yaml"))).toBe(true);
    expect(finished.stdout).toMatch(/\| added p50 \| [+−]?[\d.]+ (µs|ms) \[/);
    // report.html in Chromium: every test's verdict, the performance Δ chart with its data.
    await expectCertifyReport(outDir, JSON.parse(readFileSync(join(outDir, "conformance.json"), "utf8")) as ConformanceReport);
    expect(processesOfRun(report.runId)).toEqual([]);
  }, 180_000);

  it("--workload: benchmarks a scenario's workload (token streams) and gives what the sidecar adds per token, with CIs", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "sb-certify-workload-"));
    const workload = join(root, "harness", "cli", "fixtures", "stream-short.yaml");
    const finished = await certify([envoy, "--profile", "lifecycle", "--workload", workload, "--out", outDir]).done;
    expect(finished.code, finished.stderr).toBe(0);
    const perf = readReport(outDir).performance;
    if (perf.status !== "measured") throw new Error(`performance not measured: ${JSON.stringify(perf)}`);
    expect(perf.workloadFile).toBe(workload);
    expect(perf.workload).toMatch(/^token streams \(generate_stream, Server-Sent Events\), 8 tokens per request, a token every 2 ms; open loop, constant arrivals at 20 req\/s/);
    expect(perf.rounds).toBe(2);
    for (const d of Object.values(perf.perToken!)) {
      expect(d.ci95Us.low).toBeLessThanOrEqual(d.deltaUs);
      expect(d.deltaUs).toBeLessThanOrEqual(d.ci95Us.high);
    }
    // Tokens 2 ms apart: the baseline's median gap between them is near that.
    expect(perf.perToken!.itlP50.baselineUs).toBeGreaterThan(1_000);
    expect(finished.stdout).toMatch(/\| added TTFT p50 \| [+−]?[\d.]+ (µs|ms) \[/);
    expect(finished.stdout).toMatch(/\| added ITL p99 \| /);
  }, 180_000);

  it("--workload: a sidecar that cannot carry the workload (gRPC through Caddy) is not measured, with why, and not failed", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "sb-certify-grpc-"));
    const caddy = join(root, "scenarios", "sidecars", "caddy.yaml");
    const finished = await certify([caddy, "--profile", "lifecycle", "--workload", join(root, "harness", "cli", "fixtures", "grpc-short.yaml"), "--out", outDir]).done;
    expect(finished.code, finished.stderr).toBe(0);
    expect(readReport(outDir).performance).toEqual({ status: "not-measured", reason: expect.stringMatching(/^not supported for the workload: gRPC through caddy\.ingress: /) });
    expect(finished.stdout).toContain("not measured: not supported for the workload: gRPC through caddy.ingress");
  }, 180_000);

  it("ends a sidecar that never gets ready with a clear verdict for every check, in bounded time", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "sb-certify-never-ready-"));
    const began = Date.now();
    const finished = await certify([join(root, "harness/conformance/fixtures/never-ready-sidecar.yaml"), "--no-performance", "--out", outDir], join(root, "suites/registry.ts")).done;
    expect(finished.code, finished.stderr).toBe(1);
    // One start-up timeout (3 s) for the first check; every later one fails at once.
    expect(Date.now() - began).toBeLessThan(90_000);
    const report = readReport(outDir);
    const tests = report.profiles.flatMap((p) => p.tests);
    expect(tests.length).toBeGreaterThan(10);
    expect(tests.every((t) => t.verdict === "failed")).toBe(true);
    // The report sorts by id; the check that ran first carries the start failure itself.
    const [ran, ...rest] = [...tests].sort((a, b) => Number((a.message ?? "").startsWith("not run")) - Number((b.message ?? "").startsWith("not run")));
    expect(ran!.message).toMatch(/container "never-ready" startup probe did not pass within 3000 ms \(last: GET \/no-such-path → 404\)/);
    expect(rest.every((t) => (t.message ?? "").startsWith(`not run: the sidecar's pod never became ready (first seen in ${ran!.id})`))).toBe(true);
    expect(processesOfRun(report.runId)).toEqual([]);
  }, 120_000);

  it("rejects invalid input with exit code 2 and a message naming what to fix, starting nothing", async () => {
    const outDir = join(mkdtempSync(join(tmpdir(), "sb-certify-bad-")), "out");
    const cases: Array<[string[], RegExp]> = [
      [[join(root, "harness/conformance/fixtures/malformed-sidecar.yaml")], /malformed-sidecar\.yaml:10:\d+ spec\.proxy\.upstraem: unknown key "upstraem" \(did you mean "upstream"\?\)/],
      [[join(root, "reference/sidecars/no-such.yaml")], /file not found: .*no-such\.yaml/],
      [[envoy, "--runtime", "nomad"], /--runtime nomad: the "nomad" runtime is not available in this version; use "local", "docker", "kubernetes"/],
      [[envoy, "--profile", "telemetry"], /--profile telemetry: envoy does not declare the telemetry role \(spec\.roles: proxy\); profiles that apply: lifecycle, proxy, resources/],
      [[envoy, "--profile", "proxy,bogus"], /--profile: unknown profile "bogus"/],
      [[envoy, "--policy", join(root, "harness/conformance/fixtures/malformed-policy.yaml")], /malformed-policy\.yaml:9:5 spec\.resources\.idleMemoryMib: unknown key "idleMemoryMib" \(did you mean "idleMemoryMiB"\?\)/],
      [[envoy, "--policy", join(root, "no-such-policy.yaml")], /file not found: .*no-such-policy\.yaml/],
      [[envoy, "--workload", join(root, "harness/cli/fixtures/malformed.yaml")], /malformed\.yaml:10:25 spec\.workload\.load\.ratePerSecond: unknown key "ratePerSecond" \(did you mean "ratePerSec"\?\)/],
    ];
    for (const [args, message] of cases) {
      const finished = await certify([...args, "--no-performance", "--out", outDir]).done;
      expect(finished.code, `${args.join(" ")}: ${finished.stderr}`).toBe(2);
      expect(finished.stderr).toMatch(message);
      expect(finished.stderr).not.toMatch(/\n\s+at /);
    }
    expect(existsSync(outDir)).toBe(false);
  }, 60_000);

  it("on Ctrl-C stops the running check's pods, writes an interrupted report and exits 130", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "sb-certify-int-"));
    const { child, done } = certify([envoy, "--no-performance", "--out", outDir], join(root, "harness/conformance/fixtures/fake-checks-waiting.ts"));
    let runId = "";
    let output = "";
    child.stderr!.on("data", (chunk) => (output += chunk));
    child.stdout!.on("data", (chunk) => (output += chunk));
    const deadline = Date.now() + 60_000;
    while (!output.includes("fake-waits: pod ready")) {
      if (Date.now() > deadline) throw new Error(`the waiting check never started its pod:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    runId = /certify (\S+):/.exec(output)![1]!;
    expect(processesOfRun(runId).length).toBeGreaterThan(0);
    child.kill("SIGINT");
    const finished = await done;
    expect(finished.code, finished.stderr).toBe(130);
    expect(readReport(outDir)).toMatchObject({ status: "interrupted", result: "partial" });
    expect(processesOfRun(runId)).toEqual([]);
  }, 120_000);
});
