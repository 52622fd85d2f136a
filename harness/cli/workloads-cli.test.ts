// The workloads beyond one unary rate, end to end through the real command line on the
// local runtime: a rate sweep, gRPC (and a proxy that cannot carry it), and a large tensor
// on the Triton primary (--primary), token streams, and a request for a model the primary lacks.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { figuresOf } from "../conformance/performance.ts";
import { median } from "../measure/statistics.ts";
import type { Results } from "../report/results-model.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const fixtures = join(root, "harness", "cli", "fixtures");

function run(args: string[]): { code: number | null; stdout: string; stderr: string; results: Results; report: string } {
  const out = join(mkdtempSync(join(tmpdir(), "sb-workload-")), "out");
  const child = spawnSync(process.execPath, [join(root, "bin", "sidecar-bench.js"), "run", ...args, "--out", out], { cwd: root, encoding: "utf8", timeout: 240_000 });
  const read = (file: string) => readFileSync(join(out, file), "utf8");
  return { code: child.status, stdout: child.stdout, stderr: child.stderr, results: JSON.parse(read("results.json")) as Results, report: read("report.md") };
}

describe("run: workloads (end to end, local runtime)", () => {
  it("sweeps the rates in turn: every arm has a point with CIs at each rate, a knee verdict, and the paired Δ at each rate", () => {
    const { code, stdout, results } = run([join(fixtures, "sweep-short.yaml")]);
    expect(code).toBe(0);
    const sweep = results.sweep!;
    expect(sweep.ratesPerSec).toEqual([40, 80]);
    expect(sweep.points.map((p) => `${p.arm}@${p.ratePerSec}`)).toEqual(["baseline@40", "baseline@80", "envoy@40", "envoy@80", "baseline/aa@40", "baseline/aa@80"]);
    for (const point of sweep.points) {
      expect(point.rounds).toBe(2);
      expect(point.latencyP99Us!.low).toBeLessThanOrEqual(point.latencyP99Us!.estimate);
      expect(point.achievedRatePerSec).toBeGreaterThan(point.ratePerSec * 0.5);
    }
    expect(sweep.knees.map((k) => k.arm)).toEqual(["baseline", "envoy", "baseline/aa"]);
    for (const knee of sweep.knees) expect(knee.reason).not.toBe("");
    expect(sweep.perRate.map((r) => [r.ratePerSec, r.analysis?.variants.map((v) => v.variant)])).toEqual([
      [40, ["envoy"]],
      [80, ["envoy"]],
    ]);
    // Each step ran at its own rate, and the headline analysis is the lightest rate's.
    const measured = results.trials.filter((t) => !t.warmup);
    expect(new Set(measured.map((t) => t.load.targetRatePerSec))).toEqual(new Set([40, 80]));
    expect(results.analysis).toEqual(sweep.perRate[0]!.analysis);
    expect(stdout).toContain("### Rate sweep (40, 80 req/s)");
    expect(stdout).toMatch(/\| envoy \| (40|80) req\/s \|/);
    // What certify --workload makes of the same results: the lightest rate's figures, and the knees.
    const figures = figuresOf(results, "envoy", "envoy");
    if (figures.status !== "measured") throw new Error(JSON.stringify(figures));
    const lightestBaseline = measured.filter((t) => t.arm === "baseline" && t.load.targetRatePerSec === 40).map((t) => t.latencyUs.p50);
    expect(figures.addedLatency.p50.baselineUs).toBeCloseTo(median(lightestBaseline), 0);
    expect(figures.addedLatency.p50.deltaUs).toBeCloseTo(results.analysis!.variants[0]!.latency["p50"]!.deltaMedian, 0);
    expect(figures.sweep!.ratesPerSec).toEqual([40, 80]);
    expect(figures.sweep!.knees.map((k) => k.arm)).toEqual(["baseline", "envoy"]);
  }, 300_000);

  it("sends KServe v2 gRPC to the primary's grpc port and through Envoy, and leaves out a proxy that cannot carry it as not supported", () => {
    const { code, stdout, results } = run([join(fixtures, "grpc-short.yaml")]);
    expect(code).toBe(0);
    expect(results.notSupported).toEqual([{ variant: "caddy", reason: expect.stringMatching(/^gRPC through caddy\.ingress: /) }]);
    expect(results.plan.arms).toEqual(["baseline", "envoy", "baseline/aa"]);
    const measured = results.trials.filter((t) => !t.warmup);
    expect(new Set(measured.map((t) => t.arm))).toEqual(new Set(["baseline", "envoy", "baseline/aa"]));
    for (const trial of measured) {
      expect(trial.load.errors).toEqual({});
      expect(trial.load.ok).toBeGreaterThan(0);
    }
    expect(results.analysis!.variants.map((v) => v.variant)).toEqual(["envoy"]);
    expect(stdout).toContain("### Not supported for this workload (left out, not failed)");
  }, 300_000);

  it("streams tokens bare and through Envoy: per-arm TTFT, ITL and tokens/s, the paired Δ per token with its floor, in results and report", () => {
    const { code, stdout, results } = run([join(fixtures, "stream-short.yaml")]);
    expect(code).toBe(0);
    const measured = results.trials.filter((t) => !t.warmup);
    for (const trial of measured) {
      expect(trial.load.errors).toEqual({});
      // 8 tokens per stream, every stream complete.
      expect(trial.stream!.tokens).toBe(trial.load.ok * 8);
    }
    const stream = results.analysis!.tokenStream!;
    expect(stream.arms.map((a) => a.arm)).toEqual(["baseline", "envoy"]);
    for (const arm of stream.arms) {
      // Tokens 2 ms apart: the median gap is near 2 ms, and TTFT comes before the last token.
      expect(arm.itlP50Us).toBeGreaterThan(1_000);
      expect(arm.ttftP50Us).toBeLessThan(arm.endToEndP50Us);
    }
    const ttft = stream.variants[0]!.ttft["p50"]!;
    expect(ttft.ci95.low).toBeLessThanOrEqual(ttft.deltaMedian);
    expect(ttft.ci95.high).toBeGreaterThanOrEqual(ttft.deltaMedian);
    expect(stream.noiseFloor).not.toBeNull();
    expect(stdout).toContain("### Token stream");
    expect(stdout).toContain("#### Added per token");
  }, 300_000);

  it("stops at once, naming the field, when the primary does not serve the request's model", () => {
    const out = join(mkdtempSync(join(tmpdir(), "sb-workload-")), "out");
    const began = Date.now();
    const child = spawnSync(process.execPath, [join(root, "bin", "sidecar-bench.js"), "run", join(fixtures, "wrong-model.yaml"), "--out", out], { cwd: root, encoding: "utf8", timeout: 120_000 });
    expect(child.status, child.stderr).toBe(1);
    expect(child.stderr).toMatch(/wrong-model\.yaml: spec\.workload\.request: the primary fastapi-kserve answers POST \/v2\/models\/no_such_model\/infer with 404/);
    expect(child.stderr).not.toMatch(/\n\s+at /);
    // No round ran: the rounds alone would take 2 × 3 arms × 1 s.
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as Results;
    expect(results.trials).toEqual([]);
    expect(Date.now() - began).toBeLessThan(60_000);
  }, 120_000);

  it("runs a scenario on the Triton primary with --primary triton (a 588 KiB tensor to its identity model), and the report names both", () => {
    const { code, stdout, results, report } = run([join(fixtures, "large-tensor-short.yaml"), "--primary", "triton"]);
    expect(code).toBe(0);
    expect(results.primary).toMatchObject({ name: "triton", version: "2.51.0", file: join(root, "reference", "primaries", "triton", "primary.yaml") });
    expect((results.scenario.spec as { primary: string }).primary).toMatch(/reference\/primaries\/triton\/primary\.yaml$/);
    const measured = results.trials.filter((t) => !t.warmup);
    expect(measured.length).toBeGreaterThan(0);
    for (const trial of measured) expect(trial.load.errors).toEqual({});
    expect(results.analysis!.variants.map((v) => v.variant)).toEqual(["envoy"]);
    expect(stdout).toContain("### Added latency per request");
    expect(report).toContain("- workload: KServe v2 infer to model identity_fp32, binary body, INPUT0 FP32[1×150528]");
    expect(report).toContain("- primary: triton 2.51.0");
  }, 300_000);
});
