// Dev test of the proxy profile against real pods: every check passes on Envoy and on
// the well-behaved reference proxy, and fails on the faulty fixture made to break it.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { createContext } from "../../harness/conformance/conformance-context.ts";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { LocalRuntime } from "../../harness/runtime/local/local-runtime.ts";
import { loadManifest } from "../../harness/scenario/index.ts";
import { SIDECAR_FEATURES } from "../../harness/scenario/index.ts";
import { headersPassThrough } from "./headers-pass-through.ts";
import { proxyTests } from "./index.ts";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const ENVOY = "scenarios/sidecars/envoy.yaml";
const ENVOY_TRACING = "scenarios/sidecars/envoy-tracing.yaml";
const GOOD_PROXY = "reference/sidecars/good-proxy.yaml";
const PRIMARY = "reference/primaries/fastapi-kserve/primary.yaml";

/** What each check's failure on its fixture must name (the problem, not just "failed"). */
const FAILURE_NAMES: Record<string, RegExp> = {
  "proxy.json-identical": /first difference at byte \d+/,
  "proxy.binary-tensors-identical": /first difference at byte \d+|Inference-Header-Content-Length/i,
  "proxy.headers-pass-through": /missing from what the primary echoed|echoed back as/,
  "proxy.large-bodies": /first difference at byte \d+|status|error/,
  "proxy.streaming-not-buffered": /first token after .* ms|median inter-token gap|behind|spread over/,
  "proxy.upstream-errors-preserved": /status \d+, directly \d+|first difference at byte/,
  "proxy.concurrent-keep-alive": /found \d+ ok/,
  "proxy.keep-alive-reuse": /connections opened|connection: close/,
};

// The default state root on purpose: other test files reaping orphans concurrently treat
// cgroups of runs without an owner file in *their* state root as dead and kill them.
const runtime = new LocalRuntime({ workDir: mkdtempSync(join(tmpdir(), "sb-proxy-suite-")), extraPath: [join(repo, ".venv/bin")] });
const runId = `proxy-suite-${process.pid}-${Date.now()}`;

afterAll(async () => {
  await runtime.stopAll();
});

async function runOn(test: ConformanceTest, sidecarFile: string): Promise<CheckOutcome> {
  const [sidecar, primary] = await Promise.all([loadManifest(join(repo, sidecarFile), "Sidecar"), loadManifest(join(repo, PRIMARY), "Primary")]);
  const scoped = createContext({ sidecar, primary, runtime, runId });
  try {
    return await test.run(scoped.context);
  } finally {
    await scoped.close();
  }
}

function explain(outcome: CheckOutcome): string {
  return `${outcome.verdict}: ${outcome.message}\n${JSON.stringify(outcome.evidence, null, 1).slice(0, 4_000)}`;
}

describe("proxy profile registry", () => {
  it("has unique stable ids, the proxy profile, known features and a fixture per check", () => {
    const ids = proxyTests.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const test of proxyTests) {
      expect(test.id).toMatch(/^proxy\.[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(test.profile).toBe("proxy");
      for (const feature of test.features) expect(SIDECAR_FEATURES).toContain(feature);
      expect(test.faultyFixture).toMatch(/^reference\/sidecars\/[a-z0-9-]+\.yaml$/);
      expect(FAILURE_NAMES[test.id], `${test.id} needs an expected failure pattern here`).toBeDefined();
    }
  });
});

describe.each(proxyTests.map((test) => [test.id, test] as const))("%s", (_id, test) => {
  const timeout = test.timeoutMs + 10_000;

  it("passes on Envoy", { timeout }, async () => {
    const outcome = await runOn(test, ENVOY);
    expect(outcome.verdict, explain(outcome)).toBe("passed");
  });

  it.skipIf(!existsSync(join(repo, GOOD_PROXY)))("passes on the reference good-proxy", { timeout }, async () => {
    const outcome = await runOn(test, GOOD_PROXY);
    expect(outcome.verdict, explain(outcome)).toBe("passed");
  });

  it.skipIf(!existsSync(join(repo, test.faultyFixture)))(`fails on ${test.faultyFixture}, naming the problem`, { timeout }, async () => {
    const outcome = await runOn(test, test.faultyFixture);
    expect(outcome.verdict, explain(outcome)).toBe("failed");
    expect(outcome.message).toMatch(/^expected .+; found .+/);
    expect(outcome.message).toMatch(FAILURE_NAMES[test.id] as RegExp);
    expect(outcome.evidence?.["sidecarLogTail"]).toBeInstanceOf(Array);
  });
});

describe("proxy.headers-pass-through on a real tracing proxy", () => {
  it("passes on Envoy with OpenTelemetry tracing on, which takes part in the trace (new parent-ids, sampled flags of its own)", { timeout: headersPassThrough.timeoutMs + 10_000 }, async () => {
    const outcome = await runOn(headersPassThrough, ENVOY_TRACING);
    expect(outcome.verdict, explain(outcome)).toBe("passed");
    // Envoy decides not to trace requests whose x-request-id is no UUID, and says so with sampled=0 and its own parent-id.
    expect(outcome.evidence?.["sampledFlagClearedWithNewParent"]).toBeGreaterThan(0);
    expect(outcome.message).toMatch(/sampled flag arrived cleared, with the sidecar's own parent-id/);
  });
});
