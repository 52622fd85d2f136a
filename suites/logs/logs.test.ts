// Dev test of the logs profile against real pods (local runtime): every check passes on the
// well-behaved reference log shipper and fails on its faulty fixture with a message naming
// the problem; the other fixtures that prove a check (a second fault, a fraction of lines)
// fail it too, and the legitimate dropping variant passes the outage check.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createContext } from "../../harness/conformance/conformance-context.ts";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { LocalRuntime } from "../../harness/runtime/local/local-runtime.ts";
import { loadManifest } from "../../harness/scenario/index.ts";
import { testById } from "../registry.ts";
import { PRIMARY_MANIFEST, REPO_ROOT } from "../support/real-pod-check.ts";
import { logsTests } from "./index.ts";

const GOOD = "reference/sidecars/good-log-shipper.yaml";

/** What each check's failure on its fixture must name. */
const FAILURE_NAMES: Record<string, RegExp> = {
  "logs.every-line-once-in-order": /lines never arrived \(seq /,
  "logs.rotation-rename-create": /across rename rotations .*lines never arrived \(seq /,
  "logs.rotation-copytruncate": /across copytruncate rotations .*(never arrived|not lines the primary wrote)/,
  "logs.backend-outage": /declares whenBackendDown: buffer.*lines never arrived/,
  "logs.long-and-unicode-lines": /not lines the primary wrote .*not one JSON value/,
  "logs.last-lines-after-exit": /shutdown line .* never arrived.*lines never arrived/,
};

/** Further fixtures that must fail a check (beside its own faulty fixture), and what the failure names. */
const ALSO_FAILING: ReadonlyArray<{ fixture: string; check: string; names: RegExp }> = [
  { fixture: "reference/sidecars/partial/drop-lines-1-in-10.yaml", check: "logs.every-line-once-in-order", names: /lines never arrived/ },
  { fixture: "reference/sidecars/duplicate-on-reconnect.yaml", check: "logs.backend-outage", names: /arrived more than once \(seq/ },
  { fixture: "reference/sidecars/latin1.yaml", check: "logs.long-and-unicode-lines", names: /arrived changed \(seq \d+: first difference at byte/ },
];

const ALSO_PASSING: ReadonlyArray<{ fixture: string; check: string; says: RegExp }> = [
  { fixture: "reference/sidecars/legitimate/log-shipper-drop.yaml", check: "logs.backend-outage", says: /dropped as declared: \d+ lines lost while the backend was down/ },
];

// The default state root on purpose: other test files reaping orphans concurrently treat
// cgroups of runs without an owner file in *their* state root as dead and kill them.
const runtime = new LocalRuntime({ workDir: mkdtempSync(join(tmpdir(), "sb-logs-suite-")), extraPath: [join(REPO_ROOT, ".venv/bin")] });
const runId = `logs-suite-${process.pid}-${Date.now()}`;
const durations: string[] = [];

afterAll(async () => {
  await runtime.stopAll();
  process.stdout.write(`logs checks, local runtime:\n${durations.join("\n")}\n`);
});

async function runOn(test: ConformanceTest, sidecarFile: string): Promise<CheckOutcome> {
  const [sidecar, primary] = await Promise.all([loadManifest(join(REPO_ROOT, sidecarFile), "Sidecar"), loadManifest(join(REPO_ROOT, PRIMARY_MANIFEST), "Primary")]);
  const scoped = createContext({ sidecar, primary, runtime, runId });
  const began = performance.now();
  try {
    const outcome = await test.run(scoped.context);
    durations.push(`  ${test.id} on ${sidecarFile}: ${outcome.verdict} in ${((performance.now() - began) / 1000).toFixed(1)} s`);
    return outcome;
  } finally {
    await scoped.close();
  }
}

function explain(outcome: CheckOutcome): string {
  return `${outcome.verdict}: ${outcome.message}\n${JSON.stringify(outcome.evidence, null, 1).slice(0, 4_000)}`;
}

describe("logs profile registry", () => {
  it("has the contract's ids in order, the logs profile, core level and an existing fixture per check", () => {
    expect(logsTests.map((t) => t.id)).toEqual([
      "logs.every-line-once-in-order",
      "logs.rotation-rename-create",
      "logs.rotation-copytruncate",
      "logs.backend-outage",
      "logs.long-and-unicode-lines",
      "logs.last-lines-after-exit",
    ]);
    for (const test of logsTests) {
      expect(test.profile).toBe("logs");
      expect(test.level).toBe("core");
      expect(existsSync(join(REPO_ROOT, test.faultyFixture)), test.faultyFixture).toBe(true);
      expect(FAILURE_NAMES[test.id], `${test.id} needs an expected failure pattern here`).toBeDefined();
    }
    for (const { fixture } of [...ALSO_FAILING, ...ALSO_PASSING]) expect(existsSync(join(REPO_ROOT, fixture)), fixture).toBe(true);
  });
});

describe.each(logsTests.map((test) => [test.id, test] as const))("%s", (_id, test) => {
  const timeout = test.timeoutMs + 15_000;

  it("passes on the reference good-log-shipper", { timeout }, async () => {
    const outcome = await runOn(test, GOOD);
    expect(outcome.verdict, explain(outcome)).toBe("passed");
  });

  it(`fails on ${test.faultyFixture}, naming the problem`, { timeout }, async () => {
    const outcome = await runOn(test, test.faultyFixture);
    expect(outcome.verdict, explain(outcome)).toBe("failed");
    expect(outcome.message).toMatch(FAILURE_NAMES[test.id]!);
  });
});

describe("further fixtures", () => {
  for (const { fixture, check, names } of ALSO_FAILING) {
    it(`${fixture} fails ${check}`, { timeout: testById(check).timeoutMs + 15_000 }, async () => {
      const outcome = await runOn(testById(check), fixture);
      expect(outcome.verdict, explain(outcome)).toBe("failed");
      expect(outcome.message).toMatch(names);
    });
  }
  for (const { fixture, check, says } of ALSO_PASSING) {
    it(`${fixture} passes ${check}`, { timeout: testById(check).timeoutMs + 15_000 }, async () => {
      const outcome = await runOn(testById(check), fixture);
      expect(outcome.verdict, explain(outcome)).toBe("passed");
      expect(outcome.message).toMatch(says);
    });
  }
});
