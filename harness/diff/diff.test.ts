// diff on synthetic pairs built from a real run's results.json (harness/diff/fixtures,
// trimmed: histograms dropped) and a real certificate: each case changes what it tests
// and nothing else.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import type { ConformanceReport } from "../conformance/conformance-report.ts";
import type { Results, TrialResult } from "../report/results-model.ts";
import { UsageError } from "../cli/usage-error.ts";
import { diffCommand, diffLoaded, load } from "./diff-command.ts";
import { diffJunit, diffMarkdown } from "./diff-writers.ts";
import { parseTolerance } from "./tolerance.ts";

const FIXTURES = join(import.meta.dirname, "fixtures");
const fixture = (): Results => JSON.parse(readFileSync(join(FIXTURES, "results-envoy.json"), "utf8")) as Results;
const certificate = (): ConformanceReport => JSON.parse(readFileSync(join(FIXTURES, "conformance-envoy.json"), "utf8")) as ConformanceReport;

/** The A/A half-width a run's analysis reports for latency and service time, p50 and p99. */
function withFloor(results: Results, halfWidthUs: number): Results {
  for (const floors of [results.analysis!.noiseFloor!.latency, results.analysis!.noiseFloor!.serviceTime]) {
    for (const metric of ["p50", "p99"]) floors[metric] = { ...floors[metric]!, halfWidth: halfWidthUs };
  }
  return results;
}

/** Sets each measured trial's p50 (and p99 = p50 + 500 µs), latency and service time, from its arm and round. */
function withLatency(results: Results, us: (arm: string, round: number) => number): Results {
  for (const t of results.trials.filter((t): t is TrialResult & { round: number } => !t.warmup && t.round !== null)) {
    const value = us(t.arm, t.round);
    for (const field of ["latencyUs", "serviceTimeUs"] as const) t[field] = { ...t[field], p50: value, p99: value + 500 };
  }
  return results;
}

/** A quiet machine: the baseline at 1 ms ± 10 µs, an A/A floor of 20 µs, the sidecar adding `addedUs`. */
const quiet = (addedUs: number) => withFloor(withLatency(fixture(), (arm, round) => 1000 + (round % 2 === 0 ? 10 : -10) + (arm === "envoy" ? addedUs : 0)), 20);

const diff = (base: Results, head: Results, tolerance = "10%") =>
  diffLoaded({ kind: "results", file: "base.json", value: base }, { kind: "results", file: "head.json", value: head }, parseTolerance(tolerance)!, tolerance);
const row = (report: ReturnType<typeof diff>, metric: string) => report.metrics.find((m) => m.variant === "envoy" && m.metric === metric)!;

describe("diff of two runs", () => {
  it("finds the base overhead the run's own analysis reports (same pairing, same medians)", () => {
    const base = fixture();
    const report = diff(base, fixture());
    expect(row(report, "latencyP50").base).toBeCloseTo(base.analysis!.variants[0]!.latency["p50"]!.deltaMedian, 6);
    expect(row(report, "cpuPer1kRps").base).toBeCloseTo(base.analysis!.variants[0]!.podVcpuPer1kRpsDelta, 9);
    expect(row(report, "latencyP50").baseFloor).toBe(base.analysis!.noiseFloor!.latency["p50"]!.halfWidth);
    expect(report.exitCode).toBe(0);
    expect(report.metrics.every((m) => m.verdict === "within-noise" && m.change === 0)).toBe(true);
  });

  it("a sidecar 2 ms slower at p50 and p99 is a regression: exit 1, the CI above floor and tolerance", () => {
    const report = diff(quiet(200), quiet(2200));
    const p50 = row(report, "latencyP50");
    expect(p50.verdict).toBe("regression");
    expect(p50.change).toBe(2000);
    expect(p50.ci95.low).toBeGreaterThan(Math.max(p50.floor, p50.tolerance));
    expect(row(report, "latencyP99").verdict).toBe("regression");
    expect(report.outcome).toBe("regression");
    expect(report.exitCode).toBe(1);
    expect(diffMarkdown(report)).toMatch(/regression[\s\S]*\| envoy \| added latency p50 \| 200 µs \| 2\.20 ms \| \+2\.00 ms \[/);
  });

  it("a sidecar 150 µs faster is an improvement, and exit 0", () => {
    const report = diff(quiet(200), quiet(50));
    expect(row(report, "latencyP50").verdict).toBe("improvement");
    expect(report.exitCode).toBe(0);
  });

  it("a change inside the runs' A/A floors is within noise, even with a CI clear of zero", () => {
    // A noisy machine: A/A floors of 300 µs in both runs.
    const noisy = (addedUs: number) => withFloor(withLatency(fixture(), (arm) => 1000 + (arm === "envoy" ? addedUs : 0)), 300);
    const report = diff(noisy(200), noisy(400));
    const p50 = row(report, "latencyP50");
    expect(p50.ci95.low).toBeGreaterThan(0);
    expect(p50.floor).toBeCloseTo(Math.hypot(p50.baseFloor, p50.headFloor), 9);
    expect(p50.ci95.low).toBeLessThanOrEqual(p50.floor);
    expect(p50.verdict).toBe("within-noise");
    expect(report.exitCode).toBe(0);
  });

  it("the tolerance: +100 µs on a 200 µs overhead fails at 10%, passes at 50% and at 250us", () => {
    expect(row(diff(quiet(200), quiet(300), "10%"), "latencyP50").verdict).toBe("regression");
    expect(row(diff(quiet(200), quiet(300), "50%"), "latencyP50")).toMatchObject({ tolerance: 100, verdict: "within-noise" });
    const absolute = diff(quiet(200), quiet(300), "250us");
    expect(row(absolute, "latencyP50")).toMatchObject({ tolerance: 250, verdict: "within-noise" });
    // An absolute tolerance is a latency: memory keeps 10% of its base figure.
    expect(row(absolute, "sidecarMemoryMiB").tolerance).toBeCloseTo(0.1 * row(absolute, "sidecarMemoryMiB").base, 9);
    expect(absolute.exitCode).toBe(0);
    expect(parseTolerance("0.5ms")).toEqual({ kind: "absolute", us: 500 });
    expect(parseTolerance("ten")).toBeNull();
  });

  it("with fewer than 5 rounds in a run nothing is decided: a 2 ms slowdown is undecided, exit 0, and the warning says why", () => {
    const twoRounds = (addedUs: number) => {
      const results = quiet(addedUs);
      results.trials = results.trials.filter((t) => t.round === null || t.round < 2);
      return results;
    };
    const report = diff(twoRounds(200), twoRounds(2200));
    expect(row(report, "latencyP50")).toMatchObject({ change: 2000, verdict: "undecided" });
    expect(report.exitCode).toBe(0);
    expect(report.warnings.join("\n")).toContain("base has 2 paired rounds, head 2: diff decides only with at least 5 in each run");
  });

  it("CPU: a rise as large as the bare primary's own drift between the runs is noise; the sidecar alone costing more is a regression", () => {
    const busier = fixture();
    for (const t of busier.trials) for (const r of t.resources) r.vcpuPer1kRps *= 1.3;
    const busy = row(diff(fixture(), busier), "cpuPer1kRps");
    expect(busy).toMatchObject({ floorBasis: "baseline drift", verdict: "within-noise" });
    expect(busy.floor).toBeCloseTo(0.3 * busy.base, 6);
    expect(busy.change).toBeGreaterThan(busy.tolerance);

    const costlier = fixture();
    for (const t of costlier.trials) for (const r of t.resources) if (r.container === "envoy") r.vcpuPer1kRps += 0.5;
    const report = diff(fixture(), costlier);
    expect(row(report, "cpuPer1kRps")).toMatchObject({ floor: 0, verdict: "regression" });
    expect(row(report, "cpuPer1kRps").change).toBeCloseTo(0.5, 9);
    expect(report.exitCode).toBe(1);
  });

  it("more sidecar memory is shown as a regression but does not decide the exit code", () => {
    const head = fixture();
    for (const t of head.trials) for (const r of t.resources) if (r.container === "envoy") r.memoryAvgMiB += 50;
    const report = diff(fixture(), head);
    expect(row(report, "sidecarMemoryMiB")).toMatchObject({ verdict: "regression", gating: false });
    expect(report.exitCode).toBe(0);
  });

  it("incomparable inputs exit 2 and name the field: the workload, the runtime, the arms", () => {
    const head = fixture();
    head.scenario.sha256 = "f".repeat(64);
    (head.scenario.spec as { workload: { load: { ratePerSec: number } } }).workload.load.ratePerSec = 400;
    const workload = diff(fixture(), head);
    expect(workload.exitCode).toBe(2);
    expect(workload.incomparable[0]!.field).toBe("scenario.spec.workload.load.ratePerSec");
    expect(workload.incomparable[0]!.message).toMatch(/ratePerSec differs: base 200, head 400 \(scenario\.sha256 differs: base [0-9a-f]{12}…, head ffffffffffff…\)/);
    expect(diffMarkdown(workload)).toContain("not comparable");

    const runtime = fixture();
    runtime.environment.runtime = "docker";
    expect(diff(fixture(), runtime).incomparable.map((i) => i.field)).toEqual(["environment.runtime"]);

    const arms = fixture();
    arms.plan.arms = ["baseline", "caddy", "baseline/aa"];
    expect(diff(fixture(), arms).incomparable.map((i) => i.field)).toEqual(["plan.arms[1]"]);
  });

  it("a scenario file that differs only in trials and seed is compared, with a warning", () => {
    const head = fixture();
    head.scenario.sha256 = "e".repeat(64);
    const spec = head.scenario.spec as { trials: { rounds: number }; seed: number };
    spec.trials.rounds = 30;
    spec.seed = 9;
    const report = diff(fixture(), head);
    expect(report.exitCode).toBe(0);
    expect(report.warnings.join("\n")).toMatch(/scenario\.sha256 differs.*compared \(other differences: spec\.seed, spec\.trials\)/);
  });

  it.each([
    ["durationMs", 10_000],
    ["slotMs", 2500],
    ["warmupMs", 0],
    ["minRequests", 50],
  ] as const)("a different trials.%s changes what a percentile is taken over: incomparable, exit 2, named", (field, value) => {
    const head = fixture();
    head.scenario.sha256 = "d".repeat(64);
    const trials = (head.scenario.spec as { trials: Record<string, number> }).trials;
    const was = trials[field];
    trials[field] = value;
    trials["rounds"] = 30;
    const report = diff(fixture(), head);
    expect(report.exitCode).toBe(2);
    expect(report.incomparable.map((i) => i.field)).toEqual([`scenario.spec.trials.${field}`]);
    expect(report.incomparable[0]!.message).toContain(`scenario.spec.trials.${field} differs: base ${was}, head ${value} (scenario.sha256 differs`);
  });

  it("a base whose bare primary shows 0 vCPU per 1000 req/s: CPU is not compared (no Infinity floor), with a warning saying why", () => {
    const base = fixture();
    for (const t of base.trials) if (t.arm === "baseline") for (const r of t.resources) r.vcpuPer1kRps = 0;
    const head = fixture();
    for (const t of head.trials) for (const r of t.resources) if (r.container === "envoy") r.vcpuPer1kRps += 5;
    const report = diff(base, head);
    expect(report.metrics.map((m) => m.metric)).not.toContain("cpuPer1kRps");
    expect(report.metrics.every((m) => Number.isFinite(m.floor))).toBe(true);
    expect(report.warnings.join("\n")).toContain("CPU not compared: the base run's bare primary shows 0 vCPU per 1000 req/s");
    expect(report.exitCode).toBe(0);
  });

  it("when nothing was compared (no variant measured in either run) diff says so and exits 2, not 0", () => {
    const calibration = () => {
      const results = fixture();
      results.analysis!.variants = [];
      return results;
    };
    const report = diff(calibration(), calibration());
    expect(report.metrics).toEqual([]);
    expect(report.exitCode).toBe(2);
    expect(report.incomparable.map((i) => i.field)).toEqual(["analysis.variants"]);
    expect(report.warnings.join("\n")).toContain("nothing was compared: neither run measured a variant");
    expect(diffMarkdown(report)).toMatch(/- nothing was compared: neither run measured a variant .*diff exits 2/);

    const unsupported = () => Object.assign(calibration(), { notSupported: [{ variant: "envoy", reason: "gRPC through an HTTP/1.1-only proxy" }] });
    expect(diff(unsupported(), unsupported()).warnings.join("\n")).toContain("nothing was compared: no variant was measured: every one was not supported for the workload (envoy: gRPC through an HTTP/1.1-only proxy)");
  });

  it("an analysis without a round every arm completed is incomparable (exit 2, field trials), not a RangeError", () => {
    const head = fixture();
    head.trials = head.trials.filter((t) => t.arm !== "envoy" || t.round === null);
    const report = diff(fixture(), head);
    expect(report.exitCode).toBe(2);
    expect(report.incomparable).toEqual([{ field: "trials", message: expect.stringContaining(`the head run (${head.runId}) has no round in which every arm`) }]);
  });

  it("JUnit: a case per gating metric, a failure per regression (parsed back)", () => {
    const xml = new XMLParser({ ignoreAttributes: false }).parse(diffJunit(diff(quiet(200), quiet(2200))));
    const cases = [xml.testsuites.testsuite.testcase].flat() as Array<Record<string, unknown>>;
    expect(cases.map((c) => `${c["@_classname"]}/${c["@_name"]}`)).toEqual(["envoy/latencyP50", "envoy/latencyP99", "envoy/cpuPer1kRps"]);
    expect(xml.testsuites["@_failures"]).toBe("2");
    expect((cases[0]!["failure"] as Record<string, string>)["@_message"]).toMatch(/envoy added latency p50: 200 µs → 2\.20 ms, change \+2\.00 ms \[/);
  });
});

describe("diff of two certificates", () => {
  const diffCerts = (base: ConformanceReport, head: ConformanceReport) =>
    diffLoaded({ kind: "certificate", file: "base.json", value: base }, { kind: "certificate", file: "head.json", value: head }, parseTolerance("10%")!, "10%");
  const setVerdict = (report: ConformanceReport, id: string, verdict: string) => {
    for (const p of report.profiles) for (const t of p.tests) if (t.id === id) (t as { verdict: string }).verdict = verdict;
    return report;
  };
  const firstPassed = certificate().profiles.flatMap((p) => p.tests).find((t) => t.verdict === "passed")!.id;

  it("a test that passed and now fails is a regression (exit 1); one that now has no verdict is reported, not failed", () => {
    const failed = diffCerts(certificate(), setVerdict(certificate(), firstPassed, "failed"));
    expect(failed.tests!.changes).toEqual([expect.objectContaining({ id: firstPassed, base: "passed", head: "failed", change: "regression" })]);
    expect(failed.exitCode).toBe(1);
    expect(diffMarkdown(failed)).toContain(`| ${firstPassed} | core | passed | failed | **regression** |`);

    const notRun = diffCerts(certificate(), setVerdict(certificate(), firstPassed, "not-run"));
    expect(notRun.tests!.changes[0]).toMatchObject({ change: "not-run" });
    expect(notRun.exitCode).toBe(0);
    expect(diffCerts(setVerdict(certificate(), firstPassed, "failed"), certificate()).tests!.changes[0]).toMatchObject({ change: "fixed" });
  });

  it("performance figures from the certificates alone: interval-sum CIs, a slower sidecar is a regression", () => {
    const head = certificate();
    if (head.performance.status !== "measured") throw new Error("fixture certificate has no performance figures");
    const p50 = head.performance.addedLatency.p50;
    head.performance.addedLatency.p50 = { ...p50, deltaUs: p50.deltaUs + 10_000, ci95Us: { low: p50.ci95Us.low + 10_000, high: p50.ci95Us.high + 10_000 } };
    const report = diffCerts(certificate(), head);
    expect(report.metrics.find((m) => m.metric === "latencyP50")).toMatchObject({ method: "interval-sum", change: 10_000, verdict: "regression" });
    expect(report.exitCode).toBe(1);
  });

  it("with each benchmark's results.json beside its certificate, the performance is compared from the rounds (bootstrap)", () => {
    const folder = (results: Results) => {
      const dir = mkdtempSync(join(tmpdir(), "sb-cert-"));
      mkdirSync(join(dir, "performance"));
      writeFileSync(join(dir, "conformance.json"), JSON.stringify(certificate()));
      writeFileSync(join(dir, "performance", "results.json"), JSON.stringify(results));
      return dir;
    };
    const base = load(folder(quiet(200)), "base");
    expect(base.kind).toBe("certificate");
    const report = diffLoaded(base, load(folder(quiet(2200)), "head"), parseTolerance("10%")!, "10%");
    expect(row(report, "latencyP50")).toMatchObject({ method: "bootstrap", change: 2000, verdict: "regression" });
    expect(report.tests!.changes).toEqual([]);
    expect(report.exitCode).toBe(1);
  });

  it("base performance measured, head's benchmark failed: a regression (exit 1) with its line; measured → not-measured only a warning", () => {
    const crashed = certificate();
    crashed.performance = { status: "failed", error: "the sidecar exited with code 139 under load", resultsDir: "performance" };
    const report = diffCerts(certificate(), crashed);
    expect(report.performanceStatus).toMatchObject({ base: "measured", head: "failed", regression: true });
    expect(report.exitCode).toBe(1);
    expect(diffMarkdown(report)).toContain("### Performance: measured → failed\n\n**regression**: the head's benchmark failed (the sidecar exited with code 139 under load) where the base's measured");
    const xml = new XMLParser({ ignoreAttributes: false }).parse(diffJunit(report));
    const cases = [xml.testsuites.testsuite.testcase].flat() as Array<Record<string, unknown>>;
    expect(cases.find((c) => c["@_classname"] === "performance")).toHaveProperty("failure");

    const skipped = certificate();
    skipped.performance = { status: "not-measured", reason: "--no-performance" };
    const notMeasured = diffCerts(certificate(), skipped);
    expect(notMeasured.exitCode).toBe(0);
    expect(notMeasured.warnings).toContain("performance: base measured, head not-measured: not compared");
    // failed → measured is not a regression either.
    expect(diffCerts(crashed, certificate()).exitCode).toBe(0);
  });

  it("a resultsDir leaving the certificate's folder or with a scheme is refused (exit 2, field named), never joined into a path", () => {
    for (const resultsDir of ["../../etc", "/etc", "javascript:alert(1)//"]) {
      const dir = mkdtempSync(join(tmpdir(), "sb-cert-"));
      const cert = certificate();
      if (cert.performance.status !== "measured") throw new Error("fixture certificate has no performance figures");
      cert.performance.resultsDir = resultsDir;
      writeFileSync(join(dir, "conformance.json"), JSON.stringify(cert));
      expect(() => diffLoaded(load(dir, "base"), load(dir, "head"), parseTolerance("10%")!, "10%")).toThrow(new RegExp(`conformance\\.json: performance\\.resultsDir: ${JSON.stringify(resultsDir).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}`));
    }
  });

  it("another sidecar or runtime is incomparable, named", () => {
    const other = certificate();
    other.implementation.name = "caddy";
    other.runtime = "docker";
    expect(diffCerts(certificate(), other).incomparable.map((i) => i.field)).toEqual(["implementation.name", "runtime"]);
  });
});

describe("diff of malformed inputs: exit 2 naming the file (never 1, which means a regression)", () => {
  const write = (name: string, text: string) => {
    const file = join(mkdtempSync(join(tmpdir(), "sb-diff-bad-")), name);
    writeFileSync(file, text);
    return file;
  };
  const good = () => write("results.json", JSON.stringify(fixture()));
  const refused = (base: string, head: string): UsageError => {
    try {
      diffCommand({ base, head });
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return error as UsageError;
    }
    throw new Error("diffCommand did not refuse the input");
  };

  it("a results.json of the right kind with a field missing names the file and the field", () => {
    const broken = fixture() as unknown as { plan: Record<string, unknown> };
    delete broken.plan["arms"];
    const file = write("results.json", JSON.stringify(broken));
    expect(refused(good(), file).message).toBe(`head: ${file}: plan.arms: expected an array, found nothing (the field is absent)`);
    const trial = fixture();
    const i = trial.trials.findIndex((t) => !t.warmup && t.round !== null);
    (trial.trials[i] as { latencyUs: unknown }).latencyUs = null;
    expect(refused(write("results.json", JSON.stringify(trial)), good()).message).toMatch(new RegExp(`^base: .*results\\.json: trials\\[${i}\\]\\.latencyUs\\.p50: expected a number`));
  });

  it("corrupt JSON beside a certificate names that file", () => {
    const folder = () => {
      const dir = mkdtempSync(join(tmpdir(), "sb-cert-"));
      mkdirSync(join(dir, "performance"));
      writeFileSync(join(dir, "conformance.json"), JSON.stringify(certificate()));
      return dir;
    };
    const base = folder();
    writeFileSync(join(base, "performance", "results.json"), "{\"kind\": ");
    expect(refused(base, folder()).message).toContain(`${join(base, "performance", "results.json")} (the benchmark's results beside ${join(base, "conformance.json")}, from performance.resultsDir): not readable JSON`);
  });

  it("any other failure inside the comparison is exit 2 too, naming both inputs", () => {
    const odd = fixture();
    const trial = odd.trials.find((t) => !t.warmup && t.round !== null)!;
    (trial as { resources: unknown[] }).resources = [null];
    const base = write("results.json", JSON.stringify(odd));
    const head = good();
    expect(refused(base, head).message).toMatch(new RegExp(`^diff ${base} ${head}: the inputs could not be compared \\(TypeError: .*\\(exit 2: bad input, not a regression\\)$`));
  });
});
