// The Triton primary: its manifest loads, the local runtime starts it from the manifest
// (as a run does) and it becomes ready and serves; and its pytest suite (a real
// tritonserver with tritonclient over HTTP and gRPC, the FastAPI primary beside it).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Agent, fetch } from "undici";
import { describe, expect, it } from "vitest";
import { createRuntime } from "../../../harness/runtime/create-runtime.ts";
import type { PodSpec } from "../../../harness/runtime/pod-runtime.ts";
import { loadManifest, toContainerSpec } from "../../../harness/scenario/index.ts";
import { nativeSuiteTest, pytestSuite, repoRoot } from "../../native-suite.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const manifestFile = path.join(here, "primary.yaml");
// Ready in about 2 s alone; far more on a loaded 2-core machine.
const READY_TIMEOUT_MS = 60_000;

describe("reference primary triton", () => {
  it("has a manifest that names Triton, its version, its model and its ports", async () => {
    const { manifest } = await loadManifest(manifestFile, "Primary");
    expect(manifest.metadata).toMatchObject({ name: "triton", version: "2.51.0" });
    expect(manifest.spec.model).toEqual({ name: "mlp", generator: "token_stream" });
    expect(Object.keys(manifest.spec.ports ?? {}).sort()).toEqual(["grpc", "http", "metrics"]);
    expect(manifest.spec.container.command[0]).toBe("tritonserver");
  });

  it(
    "starts on the local runtime, becomes ready, serves the MLP and its metrics, and stops on SIGTERM",
    async () => {
      const loaded = await loadManifest(manifestFile, "Primary");
      const workDir = mkdtempSync(path.join(tmpdir(), "sb-triton-primary-"));
      const { runtime } = createRuntime({ name: "local", workDir, projectRoot: repoRoot });
      const spec: PodSpec = {
        name: "triton",
        runId: `triton-test-${process.pid}-${Date.now()}`,
        containers: [toContainerSpec("primary", "main", loaded)],
        terminationGracePeriodMs: 30_000,
      };
      // Closed before the stop: on SIGTERM Triton waits for open HTTP connections, idle
      // keep-alive ones too, until its exit timeout, and then exits 1 (README.md).
      const agent = new Agent();
      try {
        const pod = await runtime.startPod(spec, { readyTimeoutMs: READY_TIMEOUT_MS });
        const [status] = pod.status();
        expect(status).toMatchObject({ name: "primary", ready: true });
        const http = pod.url("primary", "http");
        expect((await fetch(`${http}/v2/models/mlp/ready`, { dispatcher: agent })).status).toBe(200);
        const infer = await fetch(`${http}/v2/models/mlp/infer`, {
          dispatcher: agent,
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1, 64], data: new Array(64).fill(0.1) }] }),
        });
        expect(infer.status).toBe(200);
        const { outputs } = (await infer.json()) as { outputs: Array<{ shape: number[]; data: number[] }> };
        expect(outputs[0]!.shape).toEqual([1, 10]);
        expect(outputs[0]!.data.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        const metrics = await (await fetch(`${pod.url("primary", "metrics")}/metrics`, { dispatcher: agent })).text();
        expect(metrics).toMatch(/^nv_inference_count\{model="mlp",version="1"\} 1$/m);
        await agent.close();
        const stopped = await pod.stop();
        expect(stopped.containers, JSON.stringify(stopped)).toEqual([{ name: "primary", exitCode: 0, signal: null, killed: false }]);
      } catch (error) {
        throw new Error(`${String(error)}\nlog: ${workDir}/triton/primary.log`);
      } finally {
        await agent.destroy();
        await runtime.stopAll();
      }
      rmSync(workDir, { recursive: true, force: true });
    },
    READY_TIMEOUT_MS + 40_000,
  );

  // ~15 s alone on 2 cores: one tritonserver and one FastAPI primary for the whole suite.
  nativeSuiteTest({ ...pytestSuite("passes its pytest suite", path.join(here, "tests")), timeoutMs: 180_000 });
});
