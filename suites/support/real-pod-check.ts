// Dev-test plumbing: runs one conformance check against a real pod of the local runtime
// (the sidecar manifest under test + the reference primary), as `certify` would, and
// always stops what it started.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { loadPolicy, type EffectivePolicy } from "../../harness/conformance/certification-policy.ts";
import { createContext } from "../../harness/conformance/conformance-context.ts";
import type { CheckOutcome, ConformanceTest } from "../../harness/conformance/conformance-test.ts";
import { LocalRuntime } from "../../harness/runtime/local/local-runtime.ts";
import { loadManifest } from "../../harness/scenario/index.ts";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const PRIMARY_MANIFEST = "reference/primaries/fastapi-kserve/primary.yaml";
export const ENVOY_MANIFEST = "scenarios/sidecars/envoy.yaml";
export const GOOD_PROXY_MANIFEST = "reference/sidecars/good-proxy.yaml";
/** What the project's tests certify the Node-based fixtures of reference/sidecars/ under (the file says why). */
export const FIXTURE_POLICY = "reference/policies/fixture-sidecars.yaml";

/** The policy a manifest is checked under in the project's tests: the fixture policy for reference/sidecars/, else the suite's. */
export function policyFor(sidecarManifest: string): Promise<EffectivePolicy> {
  return loadPolicy(sidecarManifest.startsWith("reference/sidecars/") ? resolve(REPO_ROOT, FIXTURE_POLICY) : null);
}

/** True when a manifest (relative to the repo root) exists. */
export function manifestExists(path: string): boolean {
  return existsSync(resolve(REPO_ROOT, path));
}

export interface CheckRun {
  outcome: CheckOutcome;
  durationMs: number;
}

export async function runCheckOnRealPod(test: ConformanceTest, sidecarManifest: string): Promise<CheckRun> {
  const sidecar = await loadManifest(resolve(REPO_ROOT, sidecarManifest), "Sidecar");
  const primary = await loadManifest(join(REPO_ROOT, PRIMARY_MANIFEST), "Primary");
  const runtime = new LocalRuntime({
    workDir: mkdtempSync(join(tmpdir(), "sb-suite-")),
    extraPath: [join(REPO_ROOT, ".venv/bin")],
    // The default state root on purpose: a concurrent run's reaper (the CLI reaps at start)
    // judges our cgroups live only by the owner files it finds there.
  });
  const controller = new AbortController();
  const policy = await policyFor(sidecarManifest);
  const scoped = createContext({ sidecar, primary, runtime, runId: `suite-${process.pid}-${randomBytes(3).toString("hex")}`, signal: controller.signal, policy });
  const began = performance.now();
  const timer = setTimeout(() => controller.abort(new Error(`${test.id} exceeded its timeoutMs (${test.timeoutMs})`)), test.timeoutMs);
  try {
    const outcome = await test.run(scoped.context);
    return { outcome, durationMs: performance.now() - began };
  } finally {
    clearTimeout(timer);
    await scoped.close();
    await runtime.stopAll();
  }
}
