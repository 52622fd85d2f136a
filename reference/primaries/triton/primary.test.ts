// The Triton primary: its manifest loads, the local runtime starts it from the manifest
// (as a run does) and it becomes ready and serves; and its pytest suite (a real
// tritonserver with tritonclient over HTTP and gRPC, the FastAPI primary beside it).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Agent, fetch } from "undici";
import { describe, expect, it } from "vitest";
import { createRuntime } from "../../../harness/runtime/create-runtime.ts";
import { dockerTestEngine, ensureProjectImage } from "../../../harness/runtime/docker/docker-test-engine.ts";
import type { PodSpec } from "../../../harness/runtime/pod-runtime.ts";
import { loadManifest, toContainerSpec } from "../../../harness/scenario/index.ts";
import { nativeSuiteTest, pytestSuite, repoRoot } from "../../native-suite.ts";

const here = path.dirname(fileURLToPath(import.meta.url));

/** The shared memory regions of the Python backend stubs in process group `group` (their last argument but one names it). */
function stubSharedMemory(group: number): string[] {
  const regions: string[] = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      // Fields after the command's closing parenthesis: state, ppid, pgrp.
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) !== group) continue;
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (!args[0]?.endsWith("triton_python_backend_stub")) continue;
      regions.push(...args.filter((arg) => arg.startsWith("triton_python_backend_shm_region_")));
    } catch {
      // Exited meanwhile.
    }
  }
  return regions;
}
/** One JSON infer of the MLP: 200, ten class probabilities that sum to 1. */
async function expectMlpAnswer(http: string, agent: Agent): Promise<void> {
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
}

const manifestFile = path.join(here, "primary.yaml");
const engine = await dockerTestEngine();
if (engine.skipReason) console.warn(`the Triton primary on docker skipped: ${engine.skipReason}`);
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

  // Idle keep-alive connections open at the stop, as a proxy sidecar's are: Triton then
  // waits for them until its exit timeout and exits 1 with its stubs still running
  // (README.md); without, it exits 0. Either way no stub's shared memory is left behind.
  it.each([
    { connections: "none", exitCode: 0 },
    { connections: "an idle keep-alive one", exitCode: 1 },
  ])(
    "starts on the local runtime, becomes ready, serves the MLP and its metrics, and stops on SIGTERM with $connections open",
    async ({ exitCode }) => {
      const loaded = await loadManifest(manifestFile, "Primary");
      const workDir = mkdtempSync(path.join(tmpdir(), "sb-triton-primary-"));
      const { runtime } = createRuntime({ name: "local", workDir, projectRoot: repoRoot });
      const spec: PodSpec = {
        name: "triton",
        runId: `triton-test-${process.pid}-${Date.now()}`,
        containers: [toContainerSpec("primary", "main", loaded)],
        terminationGracePeriodMs: 30_000,
      };
      const agent = new Agent();
      try {
        const pod = await runtime.startPod(spec, { readyTimeoutMs: READY_TIMEOUT_MS });
        const [status] = pod.status();
        expect(status).toMatchObject({ name: "primary", ready: true });
        const http = pod.url("primary", "http");
        expect((await fetch(`${http}/v2/models/mlp/ready`, { dispatcher: agent })).status).toBe(200);
        await expectMlpAnswer(http, agent);
        const metrics = await (await fetch(`${pod.url("primary", "metrics")}/metrics`, { dispatcher: agent })).text();
        expect(metrics).toMatch(/^nv_inference_count\{model="mlp",version="1"\} 1$/m);
        // One stub per model, each with its shared memory; the launcher outlives them so
        // that the runtime's kill at exit does not leave that memory in /dev/shm.
        const regions = stubSharedMemory(status!.pid!);
        expect(regions).toHaveLength(9);
        expect(regions.every((region) => existsSync(`/dev/shm/${region}`))).toBe(true);
        if (exitCode === 0) await agent.close();
        const stopped = await pod.stop();
        expect(stopped.containers, JSON.stringify(stopped)).toEqual([{ name: "primary", exitCode, signal: null, killed: false }]);
        expect(regions.filter((region) => existsSync(`/dev/shm/${region}`))).toEqual([]);
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

  // The image (images/primary-triton: base + .venv-triton's packages, the model repository
  // mounted as on local) as the docker runtime runs it: ready on its own probe, the MLP's
  // answer the local one's, and a clean stop.
  it.skipIf(engine.skipReason !== null)(
    "runs from its image on the docker runtime: ready, serves the MLP as on local, stops on SIGTERM",
    async () => {
      ensureProjectImage("primary-triton");
      const loaded = await loadManifest(manifestFile, "Primary");
      const { runtime } = createRuntime({ name: "docker", workDir: mkdtempSync(path.join(tmpdir(), "sb-triton-docker-")), projectRoot: repoRoot });
      const spec: PodSpec = { name: "triton", runId: `triton-docker-${process.pid}-${Date.now()}`, containers: [toContainerSpec("primary", "main", loaded)], terminationGracePeriodMs: 30_000 };
      const agent = new Agent();
      try {
        const pod = await runtime.startPod(spec, { readyTimeoutMs: READY_TIMEOUT_MS });
        await expectMlpAnswer(pod.url("primary", "http"), agent);
        await agent.close();
        const stopped = await pod.stop();
        expect(stopped.containers, JSON.stringify(stopped)).toEqual([{ name: "primary", exitCode: 0, signal: null, killed: false }]);
      } finally {
        await agent.destroy();
        await runtime.stopAll();
      }
    },
    READY_TIMEOUT_MS + 240_000,
  );

  // ~15 s alone on 2 cores: one tritonserver and one FastAPI primary for the whole suite.
  nativeSuiteTest({ ...pytestSuite("passes its pytest suite", path.join(here, "tests")), timeoutMs: 180_000 });
});
