// spec.thresholds judged on a real run's results (harness/diff/fixtures): the verdict
// follows the whole 95% CI against the limit, limits fall back to maxAddedP99Ms, and a
// variant without figures is inconclusive, not a pass.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { XMLParser } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import type { Results } from "../report/results-model.ts";
import { loadScenario } from "../scenario/index.ts";
import type { ScenarioThresholds } from "../scenario/scenario-schema.ts";
import { judgeThresholds, thresholdsExitCode, thresholdsSummary } from "./thresholds.ts";
import { thresholdsJunit } from "./thresholds-junit.ts";

const results = JSON.parse(readFileSync(join(import.meta.dirname, "..", "diff", "fixtures", "results-envoy.json"), "utf8")) as Results;
const p50 = results.analysis!.variants[0]!.latency["p50"]!;
const thresholds = (t: Record<string, unknown>) => ({ maxRateShortfallPct: 2, ...t }) as ScenarioThresholds;

describe("judgeThresholds", () => {
  it("pass when the whole CI is within the limit, fail when all of it is above, inconclusive when it straddles", () => {
    const lowMs = p50.ci95.low / 1000;
    const highMs = p50.ci95.high / 1000;
    const judge = (limitMs: number) => judgeThresholds(thresholds({ envoy: { addedP50Ms: limitMs } }), ["envoy"], results)[0]!;
    expect(judge(highMs + 0.001)).toMatchObject({ result: "pass", unit: "ms", measured: p50.deltaMedian / 1000, ci95: { low: lowMs, high: highMs } });
    expect(judge(lowMs - 0.001).result).toBe("fail");
    const straddling = judge((lowMs + highMs) / 2);
    expect(straddling.result).toBe("inconclusive");
    // run's exit code: a failure always fails; an inconclusive threshold only with --strict.
    expect([thresholdsExitCode([straddling], false), thresholdsExitCode([straddling], true), thresholdsExitCode([judge(lowMs - 0.001)], false)]).toEqual([0, 1, 1]);
    expect(straddling.message).toMatch(/^envoy addedP50Ms: [\d.]+ ms \[95% CI [\d.]+, [\d.]+\] straddles limit [\d.]+ ms: inconclusive$/);
  });

  it("CPU and memory: the median of the run's rounds with a bootstrap CI; maxAddedP99Ms fills in addedP99Ms", () => {
    const judged = judgeThresholds(thresholds({ maxAddedP99Ms: 1000, envoy: { cpuPer1kRps: 5, memoryMiB: 1 } }), ["envoy"], results);
    expect(judged.map((t) => [t.metric, t.limit, t.result])).toEqual([
      ["addedP99Ms", 1000, "pass"],
      ["cpuPer1kRps", 5, "pass"],
      ["memoryMiB", 1, "fail"],
    ]);
    expect(judged[1]!.measured).toBeCloseTo(results.analysis!.variants[0]!.podVcpuPer1kRpsDelta, 9);
    expect(thresholdsSummary(judged)).toBe("thresholds: 2 passed, 1 failed (envoy memoryMiB), 0 inconclusive");
  });

  it("a variant the run has no figures for is inconclusive with why", () => {
    const interrupted = { ...results, status: "interrupted", analysis: null } as Results;
    const [judged] = judgeThresholds(thresholds({ envoy: { addedP99Ms: 1 } }), ["envoy"], interrupted);
    expect(judged).toMatchObject({ result: "inconclusive", measured: null });
    expect(judged!.message).toContain("not measured (the run (interrupted) has no analysis of envoy)");
    expect(thresholdsSummary([])).toBe("thresholds: none declared (spec.thresholds)");
  });
});

describe("thresholdsJunit", () => {
  it("writes an inconclusive threshold as skipped, and with --strict (which fails the run) as a failure", () => {
    const straddling = judgeThresholds(thresholds({ envoy: { addedP50Ms: (p50.ci95.low + p50.ci95.high) / 2000, memoryMiB: 1 } }), ["envoy"], results);
    expect(straddling.map((t) => t.result)).toEqual(["inconclusive", "fail"]);
    const cases = (strict: boolean) => {
      const xml = new XMLParser({ ignoreAttributes: false }).parse(thresholdsJunit({ ...results, thresholds: straddling }, strict));
      return [xml.testsuites.testsuite.testcase].flat() as Array<Record<string, unknown>>;
    };
    const [lenient, strict] = [cases(false), cases(true)];
    expect(lenient.map((c) => [c["@_name"], "skipped" in c, "failure" in c])).toEqual([
      ["addedP50Ms", true, false],
      ["memoryMiB", false, true],
    ]);
    expect(strict.map((c) => [c["@_name"], "skipped" in c, "failure" in c])).toEqual([
      ["addedP50Ms", false, true],
      ["memoryMiB", false, true],
    ]);
    expect((strict[0]!["failure"] as Record<string, string>)["@_message"]).toMatch(/straddles limit .*: inconclusive \(--strict: an inconclusive threshold fails the run\)$/);
    // junit.xml agrees with the exit code in both modes.
    expect([thresholdsExitCode(straddling.slice(0, 1), false), thresholdsExitCode(straddling.slice(0, 1), true)]).toEqual([0, 1]);
  });
});

describe("spec.thresholds in a scenario", () => {
  const valid = join(import.meta.dirname, "..", "scenario", "fixtures", "valid");
  const scenarioWith = (thresholds: string) => {
    const text = readFileSync(join(valid, "scenario.yaml"), "utf8").replaceAll(/(primaries|sidecars)\//g, `${valid}/$1/`);
    const file = join(mkdtempSync(join(tmpdir(), "sb-thresholds-")), "scenario.yaml");
    writeFileSync(file, `${text.trimEnd()}\n  thresholds: ${thresholds}\n`);
    return file;
  };

  it("takes per-variant limits beside the run-wide keys", async () => {
    const loaded = await loadScenario(scenarioWith("{ maxAddedP99Ms: 2, envoy: { addedP99Ms: 1, cpuPer1kRps: 0.5 } }"));
    expect(loaded.manifest.spec.thresholds).toEqual({ maxRateShortfallPct: 2, maxAddedP99Ms: 2, envoy: { addedP99Ms: 1, cpuPer1kRps: 0.5 } });
  });

  it("names the file and field of an unknown variant, with the valid ones, and of an unknown metric", async () => {
    const file = scenarioWith("{ envoi: { addedP99Ms: 1 }, envoy: { p99: 1 } }");
    await expect(loadScenario(file)).rejects.toThrow(
      new RegExp(`${file}:\\d+:\\d+ spec\\.thresholds\\.envoi: "envoi" is not a variant of this scenario \\(did you mean "envoy"\\?\\); valid: envoy, envoy-and-logs`),
    );
    await expect(loadScenario(file)).rejects.toThrow(/spec\.thresholds\.envoy\.p99: unknown key "p99"/);
  });
});
