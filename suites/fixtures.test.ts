// "A check that cannot fail is a defect" (DESIGN.md, Conformance): for every test in the
// registry, its faulty fixture must make exactly that test fail while every other core
// test of the fixture's profiles passes (or is skipped / not-supported); and the
// well-behaved good-proxy must pass everything.
//
// This is the expensive part of CI, so: in-process through the same runCheck as certify
// (no vitest per fixture), one fixture at a time (2 cores; checks time things), no
// performance run, and per fixture only its own test, its profile's core tests and the
// lifecycle core tests (fixturePlan says why: all profiles took 15.4 min).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { ConformanceTest } from "../harness/conformance/conformance-test.ts";
import { PRIMARY_MANIFEST } from "../harness/conformance/entry-options.ts";
import { fixturePlan } from "../harness/conformance/fixture-plan.ts";
import { runConformance } from "../harness/conformance/run-conformance.ts";
import { selectTests } from "../harness/conformance/select-tests.ts";
import type { VerdictRecord } from "../harness/conformance/verdict-record.ts";
import { LocalRuntime } from "../harness/runtime/local/local-runtime.ts";
import { loadManifest, type LoadedManifest, type SidecarManifest } from "../harness/scenario/index.ts";
import { CONFORMANCE_TESTS } from "./registry.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const primary = await loadManifest(join(root, PRIMARY_MANIFEST), "Primary");
const runtime = new LocalRuntime({ workDir: mkdtempSync(join(tmpdir(), "sb-fixtures-")), extraPath: [join(root, ".venv", "bin")] });
const runId = `fixtures-${process.pid}-${Date.now()}`;
const suiteStartMs = performance.now();

afterAll(async () => {
  await runtime.stopAll();
  // The figure to watch: this file should stay well under 15 minutes on 2 cores.
  process.stdout.write(`fixture suite: ${((performance.now() - suiteStartMs) / 1000).toFixed(0)} s for ${CONFORMANCE_TESTS.length + 1} fixtures\n`);
});

function describeRecord(record: VerdictRecord): string {
  return `${record.id} ${record.verdict}: ${record.message}`;
}

/** Room for each check's timeout plus stopping its pods. */
function budgetMs(tests: readonly { timeoutMs: number }[]): number {
  return tests.reduce((sum, t) => sum + t.timeoutMs + 15_000, 30_000);
}

async function certifyInProcess(fixtureFile: string, planFor: (fixture: LoadedManifest<SidecarManifest>) => ConformanceTest[]): Promise<VerdictRecord[]> {
  const fixture = await loadManifest(join(root, fixtureFile), "Sidecar");
  const startMs = performance.now();
  const { records, interrupted } = await runConformance({ tests: planFor(fixture), target: { sidecar: fixture, primary, runtime, runId } });
  expect(interrupted).toBe(false);
  const slowest = [...records].sort((a, b) => b.durationMs - a.durationMs).slice(0, 3);
  process.stdout.write(
    `${fixtureFile}: ${records.length} checks in ${((performance.now() - startMs) / 1000).toFixed(1)} s (slowest ${slowest.map((r) => `${r.id} ${(r.durationMs / 1000).toFixed(1)} s`).join(", ")})\n`,
  );
  return records;
}

describe("faulty fixtures: each makes exactly its own test fail", () => {
  for (const test of CONFORMANCE_TESTS) {
    it(
      `${test.faultyFixture} fails ${test.id} and no other core test`,
      async () => {
        const records = await certifyInProcess(test.faultyFixture, (fixture) => fixturePlan(test, CONFORMANCE_TESTS, fixture.manifest));
        const own = records.find((r) => r.id === test.id)!;
        expect(own.verdict, `${test.faultyFixture} should make ${test.id} fail; ${describeRecord(own)}`).toBe("failed");
        const collateral = records.filter((r) => r.id !== test.id && r.level === "core" && r.verdict === "failed");
        expect(collateral.map(describeRecord), `${test.faultyFixture} should break only ${test.id}`).toEqual([]);
      },
      // Generous: a check against a faulty sidecar may run into its own timeout.
      budgetMs(CONFORMANCE_TESTS),
    );
  }
});

describe("the well-behaved reference proxy", () => {
  it(
    "reference/sidecars/good-proxy.yaml passes every test of its profiles",
    async () => {
      const records = await certifyInProcess("reference/sidecars/good-proxy.yaml", (fixture) => selectTests({ registry: CONFORMANCE_TESTS, sidecar: fixture.manifest }).tests);
      expect(records.filter((r) => r.verdict !== "passed").map(describeRecord)).toEqual([]);
    },
    budgetMs(CONFORMANCE_TESTS),
  );
});
