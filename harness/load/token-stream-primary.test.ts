// A short open loop of generate_stream requests against the real FastAPI primary, bare and
// behind Envoy (scenarios/stream-envoy.yaml), started by the local runtime. Timings are
// bounded by ratios of the configured token interval, not by absolute thresholds.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime } from "../runtime/create-runtime.ts";
import type { StartedPod } from "../runtime/pod-runtime.ts";
import { loadScenario, toPodSpec, type ResolvedScenario } from "../scenario/index.ts";
import { runInterleavedOpenLoop, type OpenLoopResult } from "./open-loop.ts";
import { buildWorkloadRequest } from "./workload-request.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

describe("token streams from the FastAPI primary, bare and through Envoy", () => {
  const { runtime } = createRuntime({ name: "local", workDir: mkdtempSync(join(tmpdir(), "sb-stream-")), projectRoot: root });
  const runId = `stream-test-${process.pid}`;
  let scenario: ResolvedScenario;
  let results: OpenLoopResult[];
  let maxTokens: number;
  let intervalMs: number;

  beforeAll(async () => {
    scenario = await loadScenario(join(root, "scenarios", "stream-envoy.yaml"));
    const block = scenario.manifest.spec.workload.request;
    if (block.kind !== "generate_stream" || block.tokenIntervalMs === undefined) throw new Error("stream-envoy.yaml: expected a generate_stream request with tokenIntervalMs");
    maxTokens = block.maxTokens;
    intervalMs = block.tokenIntervalMs;
    const pods: StartedPod[] = [];
    for (const variant of [scenario.baseline, ...scenario.variants]) {
      pods.push(await runtime.startPod(toPodSpec(scenario, variant.name, runId, { podName: `stream-${variant.name}` })));
    }
    const request = buildWorkloadRequest(block, scenario.primary.manifest.spec.model, 1);
    const entries = [scenario.baseline, ...scenario.variants].map((v, i) => pods[i]!.url(v.entry.container, v.entry.port));
    results = await runInterleavedOpenLoop({
      targets: entries.map((url) => ({ url, request })),
      slotMs: 250,
      slotOrder: [0, 1, 1, 0, 0, 1],
      ratePerSec: 20,
      arrival: "constant",
      seed: 1,
      maxRequests: 200,
      timeoutMs: 10_000,
      maxConnections: 8,
    });
  }, 120_000);

  afterAll(async () => {
    await runtime.stopAll();
  });

  it("every stream ends with its tokens, none failed", () => {
    for (const { summary } of results) {
      expect(summary.errors).toEqual({});
      expect(summary.ok).toBe(summary.scheduled);
      expect(summary.ok).toBeGreaterThanOrEqual(10);
      expect(summary.stream?.tokens).toBe(summary.ok * maxTokens);
    }
  });

  it("tokens arrive one by one, as the primary paces them (no proxy buffering)", () => {
    for (const { summary, histograms } of results) {
      const stream = summary.stream!;
      expect(histograms.stream!.itl.totalCount).toBe(summary.ok * (maxTokens - 1));
      // The first token comes well before the last: a buffered stream would have TTFT ≈ end-to-end.
      expect(stream.ttftUs.p50).toBeLessThan(summary.latencyUs.p50 - 0.5 * (maxTokens - 1) * intervalMs * 1000);
      expect(stream.ttftServiceUs.p50).toBeLessThanOrEqual(stream.ttftUs.p50);
      expect(stream.itlUs.p50).toBeGreaterThanOrEqual(0.5 * intervalMs * 1000);
      expect(stream.itlUs.p50).toBeLessThanOrEqual(5 * intervalMs * 1000);
      expect(stream.streamTokensPerSecP50).toBeGreaterThan(1000 / intervalMs / 5);
      expect(stream.streamTokensPerSecP50).toBeLessThan((1000 / intervalMs) * 2);
    }
  });
});
