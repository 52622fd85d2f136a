// Dev test of the telemetry profile against real pods (local runtime): every check passes
// on the well-behaved reference sidecars it applies to (OTLP in and out; a scraped and
// re-exposed /metrics for Prometheus) and on the legitimate drop variant, and fails —
// naming the problem — on the faulty fixture made to break it, and on the fixture that
// breaks it on one export in ten.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import type { SidecarManifest } from "../../harness/scenario/index.ts";
import { REPO_ROOT, runCheckOnRealPod } from "../support/real-pod-check.ts";
import { backendOutage } from "./backend-outage.ts";
import { countsMatch } from "./counts-match.ts";
import { expositionParses } from "./exposition-parses.ts";
import { flushOnSigterm } from "./flush-on-sigterm.ts";
import { telemetryTests } from "./index.ts";

const GOOD = "reference/sidecars/good-telemetry.yaml";
const GOOD_EXPOSITION = "reference/sidecars/good-telemetry-exposition.yaml";
const DROP_VARIANT = "reference/sidecars/legitimate/telemetry-drop-when-down.yaml";
const DROP_1_IN_10 = "reference/sidecars/partial/drop-exports-1-in-10.yaml";

/** What each check's failure on its faulty fixture must name. */
const FAILURE_NAMES: Record<string, RegExp> = {
  "telemetry.counts-match": /too much arrived: spans \{model="mlp", status="200"\}: expected \d+, found \d+.*arrived more than once/,
  "telemetry.exposition-parses": /promtool check metrics exits 1 .*second HELP line for metric name "telemetry_relay_scrapes_total"/,
  "telemetry.backend-outage": /the sidecar's memory grew [\d.]+ MiB while the backend was down .* over the policy's \d+ MiB/,
  "telemetry.flush-on-sigterm": /kserve\.requests \(counter\) short by \d+/,
};

function manifest(path: string): SidecarManifest {
  return parse(readFileSync(resolve(REPO_ROOT, path), "utf8")) as SidecarManifest;
}

function explain(outcome: CheckOutcome): string {
  return `${outcome.verdict}: ${outcome.message}\n${JSON.stringify(outcome.evidence, null, 1).slice(0, 3_000)}`;
}

/** Pod start and stop around a check, beyond its own timeoutMs. */
const POD_OVERHEAD_MS = 30_000;

describe("telemetry profile registry", () => {
  it("registers the four checks in a stable order, core, each with a faulty fixture of its own", () => {
    expect(telemetryTests.map((t) => t.id)).toEqual(["telemetry.counts-match", "telemetry.exposition-parses", "telemetry.backend-outage", "telemetry.flush-on-sigterm"]);
    for (const test of telemetryTests) {
      expect(test.profile).toBe("telemetry");
      expect(test.level).toBe("core");
      expect(test.faultyFixture).toMatch(/^reference\/sidecars\/[a-z0-9-]+\.yaml$/);
      expect(manifest(test.faultyFixture).spec.roles).toEqual(["telemetry"]);
    }
    expect(new Set(telemetryTests.map((t) => t.faultyFixture)).size).toBe(telemetryTests.length);
  });

  it("leaves out only what cannot apply: the exposition check without an exposition, the flush check for a pulled exposition", () => {
    const applies = (test: ConformanceTest, path: string) => test.notApplicable?.(manifest(path)) === undefined;
    expect(applies(expositionParses, GOOD)).toBe(false);
    expect(applies(expositionParses, GOOD_EXPOSITION)).toBe(true);
    expect(applies(expositionParses, "scenarios/sidecars/otelcol.yaml")).toBe(true);
    expect(applies(flushOnSigterm, GOOD)).toBe(true);
    expect(applies(flushOnSigterm, GOOD_EXPOSITION)).toBe(false);
    for (const test of [countsMatch, backendOutage]) for (const path of [GOOD, GOOD_EXPOSITION]) expect(applies(test, path)).toBe(true);
  });
});

describe.each(telemetryTests)("$id", (test) => {
  const timeout = test.timeoutMs + POD_OVERHEAD_MS;
  for (const good of [GOOD, GOOD_EXPOSITION]) {
    it.skipIf(test.notApplicable?.(manifest(good)) !== undefined)(`passes on ${good}`, async () => {
      const { outcome, durationMs } = await runCheckOnRealPod(test, good);
      process.stdout.write(`${test.id} on ${good}: ${outcome.verdict} in ${(durationMs / 1000).toFixed(1)} s\n`);
      expect(outcome.verdict, explain(outcome)).toBe("passed");
    }, timeout);
  }

  it(`fails on ${test.faultyFixture}, naming the problem`, async () => {
    const { outcome, durationMs } = await runCheckOnRealPod(test, test.faultyFixture);
    process.stdout.write(`${test.id} on ${test.faultyFixture}: ${outcome.verdict} in ${(durationMs / 1000).toFixed(1)} s\n`);
    expect(outcome.verdict, explain(outcome)).toBe("failed");
    expect(outcome.message).toMatch(/^expected .+; /);
    expect(outcome.message).toMatch(FAILURE_NAMES[test.id]!);
    expect(outcome.evidence).toBeDefined();
  }, timeout);
});

describe("detection and legitimate variants", () => {
  it(`${DROP_1_IN_10} (one export in ten lost) fails telemetry.counts-match`, async () => {
    const { outcome } = await runCheckOnRealPod(countsMatch, DROP_1_IN_10);
    expect(outcome.verdict, explain(outcome)).toBe("failed");
    expect(outcome.message).toMatch(/missing after \d+ ms: spans/);
  }, countsMatch.timeoutMs + POD_OVERHEAD_MS);

  it("a relay that declares and does drop passes telemetry.backend-outage, the spans it dropped reported", async () => {
    const { outcome } = await runCheckOnRealPod(backendOutage, DROP_VARIANT);
    expect(outcome.verdict, explain(outcome)).toBe("passed");
    expect(outcome.message).toMatch(/it dropped \d+ spans while the backend was down, as it declares/);
    expect(outcome.evidence?.["droppedSpans"]).toBeGreaterThan(0);
  }, backendOutage.timeoutMs + POD_OVERHEAD_MS);

  it("lose-queued-when-down (declares buffer, loses what it queued) fails telemetry.backend-outage", async () => {
    const { outcome } = await runCheckOnRealPod(backendOutage, "reference/sidecars/lose-queued-when-down.yaml");
    expect(outcome.verdict, explain(outcome)).toBe("failed");
    expect(outcome.message).toMatch(/declared whenBackendDown buffer, but .* spans short by \d+/);
  }, backendOutage.timeoutMs + POD_OVERHEAD_MS);
});
