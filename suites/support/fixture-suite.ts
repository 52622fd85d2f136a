// The fixture suite, shared by suites/fixtures-{local,docker,kubernetes}.test.ts.
// "A check that cannot fail is a defect" (DESIGN.md, Conformance): for every test in the
// registry, its faulty fixture must make exactly that test fail while every other core
// test of the fixture's profiles passes (or is skipped / not-supported); and the
// well-behaved good-proxy must pass everything. On the local runtime for every fixture,
// and on docker and kubernetes for the subsets fixtureTestsFor picks (why:
// fixture-plan-runtimes.ts; on kubernetes each fixture against its own check only).
//
// This is the expensive part of CI, so: in-process through the same runCheck as certify
// (no vitest per fixture), one fixture at a time within a file (2 cores; checks time
// things), one file per runtime (suites/fixtures-<runtime>.test.ts) — local in two,
// its faulty and detection fixtures apart from its boundary pairs and well-behaved
// sidecars (suites/fixtures-local-calibration.test.ts), so that no one file is CI's
// critical path and the two test workers share them evenly — no performance run, and per
// fixture only its own test, its profile's core tests and the lifecycle core tests
// (fixturePlan says why: all profiles took 15.4 min). The fixture's own test runs with the
// policy's tries; the collateral ones with COLLATERAL_TRIES per expectation: a fixture's
// fault acts on every request of its kind, so whether it spills into another rule shows in
// a few tries of each delivery, and 44 would cost ≈ 40 s more per proxy fixture.
//
// Detection fixtures (suites/support/detection-fixtures.ts, local only: the docker runs
// above already prove the same proxy bytes through the engine): each check's faults on one
// in ten requests, or only on requests of one kind, must fail it, run against that check
// only; and the legitimate variants (a tracing proxy) must pass every test, as good-proxy.
//
// Boundary fixtures (suites/support/boundary-fixtures.ts): every threshold-based check
// must pass on its fixture set just inside the threshold and fail on it set just past,
// the magnitudes computed from the effective policy; each runs against its own check only.
// Everything here is certified under reference/policies/fixture-sidecars.yaml (the file
// says why).
//
// The docker part skips, saying why, when no engine is reachable; under
// SIDECAR_BENCH_REQUIRE_DOCKER=1 (CI) it fails instead. Likewise the kubernetes part,
// on the project's own cluster, and SIDECAR_BENCH_REQUIRE_KUBERNETES=1.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { loadPolicy } from "../../harness/conformance/certification-policy.ts";
import { PRIMARY_MANIFEST } from "../../harness/conformance/entry-options.ts";
import { fixturePlan } from "../../harness/conformance/fixture-plan.ts";
import { type FixtureRuntime, ROLE_SUITE_PROFILES, boundaryFixturesFor, checksCollateral, fixtureTestsFor } from "../../harness/conformance/fixture-plan-runtimes.ts";
import { runConformance } from "../../harness/conformance/run-conformance.ts";
import { selectTests } from "../../harness/conformance/select-tests.ts";
import type { VerdictRecord } from "../../harness/conformance/verdict-record.ts";
import type { PodRuntime } from "../../harness/runtime/pod-runtime.ts";
import { DockerRuntime } from "../../harness/runtime/docker/docker-runtime.ts";
import { ensureProjectImage } from "../../harness/runtime/docker/docker-test-engine.ts";
import { LocalRuntime } from "../../harness/runtime/local/local-runtime.ts";
import { KubernetesRuntime } from "../../harness/runtime/kubernetes/kubernetes-runtime.ts";
import { clusterLayout } from "../../harness/cluster/cluster-layout.ts";
import { loadManifest, type LoadedManifest, type SidecarManifest } from "../../harness/scenario/index.ts";
import { CONFORMANCE_TESTS, testById } from "../registry.ts";
import { BOUNDARY_FIXTURES, type BoundarySide, withFaultArgs } from "./boundary-fixtures.ts";
import { DETECTION_FIXTURES, LEGITIMATE_VARIANTS } from "./detection-fixtures.ts";
import { GOOD_PROXY_FIXTURE, WELL_BEHAVED_FIXTURES } from "./well-behaved-fixtures.ts";
import { FIXTURE_POLICY } from "./real-pod-check.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const primary = await loadManifest(join(root, PRIMARY_MANIFEST), "Primary");
const policy = await loadPolicy(join(root, FIXTURE_POLICY));
/** Tries per expectation of the collateral checks: every delivery of try-plan.ts's cycle, several times. */
const COLLATERAL_TRIES = 12;
const collateralPolicy = { ...policy, suite: { ...policy.suite, triesPerExpectation: COLLATERAL_TRIES } };


function describeRecord(record: VerdictRecord): string {
  return `${record.id} ${record.verdict}: ${record.message}`;
}

/**
 * What a well-behaved fixture or legitimate variant runs. good-proxy: everything, on every
 * runtime (lifecycle and resources through each runtime's mechanisms). A role's good
 * fixture: on local the lifecycle profile (its role suite, suites/<role>/<role>.test.ts,
 * passes it on its role's; the resources checks' passing side is good-proxy's, and their
 * soak would add half a minute per fixture), elsewhere its role's profiles only
 * (lifecycle there is good-proxy's; each full run would cost CI some 2 minutes). A role's
 * legitimate variant: its role's profiles, where what it does differently is judged.
 */
function wellBehavedPlan(runtime: FixtureRuntime, fixture: string, tests: ConformanceTest[]): ConformanceTest[] {
  const roleTests = tests.filter((t) => ROLE_SUITE_PROFILES.includes(t.profile));
  if (fixture === GOOD_PROXY_FIXTURE || roleTests.length === 0) return tests;
  if (LEGITIMATE_VARIANTS.includes(fixture) || runtime !== "local") return roleTests;
  return tests.filter((t) => t.profile === "lifecycle");
}

/** Room for each check's timeout plus stopping its pods. */
function budgetMs(tests: readonly { timeoutMs: number }[]): number {
  return tests.reduce((sum, t) => sum + t.timeoutMs + 15_000, 30_000);
}


function newRuntime(name: FixtureRuntime, kubeconfig: string | undefined): PodRuntime {
  const workDir = mkdtempSync(join(tmpdir(), `sb-fixtures-${name}-`));
  if (name === "kubernetes") return new KubernetesRuntime({ workDir, projectRoot: root, target: kubeconfig ? { kubeconfig } : {}, localCluster: clusterLayout() });
  return name === "docker" ? new DockerRuntime({ workDir }) : new LocalRuntime({ workDir, extraPath: [join(root, ".venv", "bin")] });
}

/** The parts of the fixture suite; a file declares some or all of them. */
export type FixtureSuitePart = "faulty" | "boundary" | "well-behaved" | "detection";
const ALL_PARTS: readonly FixtureSuitePart[] = ["faulty", "boundary", "well-behaved", "detection"];

/**
 * `kubeconfig`: the cluster the kubernetes suite runs on (the project's own,
 * kubernetes-test-cluster.ts). `parts`: what this file declares (default: everything).
 */
export function fixtureSuite(name: FixtureRuntime, kubeconfig?: string, parts: readonly FixtureSuitePart[] = ALL_PARTS): void {
  const runtime = newRuntime(name, kubeconfig);
  const runId = `fixtures-${name}-${process.pid}-${Date.now()}`;
  const tests = parts.includes("faulty") ? fixtureTestsFor(name, CONFORMANCE_TESTS) : [];
  const boundaries = parts.includes("boundary") ? boundaryFixturesFor(name, BOUNDARY_FIXTURES, CONFORMANCE_TESTS) : [];
  let suiteStartMs = 0;

  beforeAll(() => {
    // The images of the pods' containers (cached by content hash: seconds when built).
    // The fixtures, the primary (and the role backend, which runs in its image), Prometheus for exposition fixtures.
    if (name === "docker") for (const image of ["node-sidecars", "primary-fastapi", "prometheus"] as const) ensureProjectImage(image);
    suiteStartMs = performance.now();
  }, 1_200_000);

  afterAll(async () => {
    await runtime.stopAll();
    // The figure to watch: local should stay well under 15 minutes on 2 cores.
    process.stdout.write(
      `fixture suite (${name}, ${parts.join(", ")}): ${((performance.now() - suiteStartMs) / 1000).toFixed(0)} s for ${tests.length} faulty fixtures and ${boundaries.length} boundary pairs\n`,
    );
  });

  async function certifyInProcess(
    fixtureFile: string,
    planFor: (fixture: LoadedManifest<SidecarManifest>) => ConformanceTest[],
    faultArgs: (fixture: LoadedManifest<SidecarManifest>) => string[] = () => [],
    certifiedBy = policy,
  ): Promise<VerdictRecord[]> {
    const loaded = await loadManifest(join(root, fixtureFile), "Sidecar");
    const fixture = withFaultArgs(loaded, faultArgs(loaded));
    const startMs = performance.now();
    const { records, interrupted } = await runConformance({ tests: planFor(fixture), target: { sidecar: fixture, primary, runtime, runId, policy: certifiedBy } });
    expect(interrupted).toBe(false);
    const slowest = [...records].sort((a, b) => b.durationMs - a.durationMs).slice(0, 3);
    const args = fixture.manifest.spec.container.command.slice(loaded.manifest.spec.container.command.length).join(" ");
    process.stdout.write(
      `${fixtureFile}${args ? ` ${args}` : ""} (${name}): ${records.length} checks in ${((performance.now() - startMs) / 1000).toFixed(1)} s (slowest ${slowest.map((r) => `${r.id} ${(r.durationMs / 1000).toFixed(1)} s`).join(", ")})\n`,
    );
    return records;
  }

  if (parts.includes("faulty")) describe("faulty fixtures: each makes exactly its own test fail", () => {
    for (const test of tests) {
      it(
        `${test.faultyFixture} fails ${test.id} and no other core test`,
        async () => {
          const [own] = await certifyInProcess(test.faultyFixture, () => [test]);
          expect(own!.verdict, `${test.faultyFixture} should make ${test.id} fail on ${name}; ${describeRecord(own!)}`).toBe("failed");
          if (!checksCollateral(name, test)) return;
          const records = await certifyInProcess(
            test.faultyFixture,
            (fixture) => fixturePlan(test, CONFORMANCE_TESTS, fixture.manifest).filter((t) => t.id !== test.id),
            undefined,
            collateralPolicy,
          );
          const collateral = records.filter((r) => r.level === "core" && r.verdict === "failed");
          expect(collateral.map(describeRecord), `${test.faultyFixture} should break only ${test.id} on ${name}`).toEqual([]);
        },
        // Generous: a check against a faulty sidecar may run into its own timeout.
        budgetMs(CONFORMANCE_TESTS),
      );
    }
  });

  // Declared only where there are pairs: an empty describe fails the file (none on docker or kubernetes).
  if (boundaries.length > 0) describe("boundary fixtures: each threshold-based check passes just inside its threshold and fails just past it", () => {
    const expected: Record<BoundarySide, VerdictRecord["verdict"]> = { inside: "passed", outside: "failed" };
    for (const boundary of boundaries) {
      for (const side of ["inside", "outside"] as const) {
        const check = testById(boundary.check);
        it(
          `${boundary.check} ${expected[side]} on ${boundary.fixture} at ${boundary.factors[side]}× its threshold`,
          async () => {
            const [record] = await certifyInProcess(boundary.fixture, () => [check], (fixture) => boundary.args(policy, fixture.manifest, side));
            const threshold = boundary.threshold(policy, (await loadManifest(join(root, boundary.fixture), "Sidecar")).manifest);
            expect(record!.verdict, `${threshold.name} ${threshold.value} ${threshold.unit}, ${side}: ${describeRecord(record!)}`).toBe(expected[side]);
          },
          budgetMs([check]),
        );
      }
    }
  });

  if (parts.includes("well-behaved")) describe("the well-behaved reference sidecars and the legitimate variants", () => {
    for (const sidecar of name === "local" ? [...WELL_BEHAVED_FIXTURES, ...LEGITIMATE_VARIANTS] : WELL_BEHAVED_FIXTURES) {
      it(
        `${sidecar} passes every test of its profiles`,
        async () => {
          const records = await certifyInProcess(sidecar, (fixture) => wellBehavedPlan(name, sidecar, selectTests({ registry: CONFORMANCE_TESTS, sidecar: fixture.manifest }).tests));
          expect(records.filter((r) => r.verdict !== "passed").map(describeRecord)).toEqual([]);
        },
        budgetMs(CONFORMANCE_TESTS),
      );
    }
  });

  if (parts.includes("detection")) describe.runIf(name === "local")("detection fixtures: a fault on some requests only fails its check", () => {
    for (const { fixture, check, kind } of DETECTION_FIXTURES) {
      it(
        `${fixture} (${kind}) fails ${check}`,
        async () => {
          const [record] = await certifyInProcess(fixture, () => [testById(check)]);
          expect(record!.verdict, describeRecord(record!)).toBe("failed");
        },
        budgetMs([testById(check)]),
      );
    }
  });
}

/**
 * Declares the suite for a container runtime: it runs when the runtime is here, skips
 * saying why when not, and fails when the runtime is required (SIDECAR_BENCH_REQUIRE_*) but missing.
 */
export function runtimeFixtureSuite(
  name: Exclude<FixtureRuntime, "local">,
  availability: { skipReason: string | null; failure: Error | null; kubeconfig?: string },
  what: string,
): void {
  if (availability.failure) {
    const failure = availability.failure;
    describe(`${name} runtime`, () => {
      it(`has ${what} to run the fixtures on (the runtime is required)`, () => {
        throw failure;
      });
    });
  } else if (availability.skipReason) {
    console.warn(`${name} fixture tests skipped: ${availability.skipReason}`);
    describe.skip(`${name} runtime (skipped: ${availability.skipReason})`, () => fixtureSuite(name, availability.kubeconfig));
  } else {
    describe(`${name} runtime`, () => fixtureSuite(name, availability.kubeconfig));
  }
}
