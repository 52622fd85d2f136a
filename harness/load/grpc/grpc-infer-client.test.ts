// The gRPC client against the real primaries, started from their manifests by the local
// runtime as a run starts them: the FastAPI primary always, Triton where setup installed it.
// gRPC answers what HTTP answers for the same request; failures come back as values.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime } from "../../runtime/create-runtime.ts";
import type { StartedPod } from "../../runtime/pod-runtime.ts";
import { loadManifest, toContainerSpec } from "../../scenario/index.ts";
import { buildInferRequest, parseInferResponse, type PayloadSpec } from "../kserve-request.ts";
import { runOpenLoop } from "../open-loop.ts";
import { GrpcInferClient, type GrpcInferResult } from "./grpc-infer-client.ts";
import { buildGrpcInferRequest } from "./grpc-infer-request.ts";
import { parseGrpcInferResponse } from "./grpc-infer-response.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const READY_TIMEOUT_MS = 60_000;
const CALL_TIMEOUT_MS = 10_000;
const MLP: PayloadSpec = { model: "mlp", format: "binary", inputs: [{ name: "INPUT0", datatype: "FP32", shape: [4, 64] }] };
// setup.mjs writes this launcher once Triton's environment is installed (reference/primaries/triton).
const tritonInstalled = existsSync(join(root, ".venv", "bin", "tritonserver")) && existsSync(join(root, "reference", "primaries", "triton", "primary.yaml"));

async function startPrimary(runtime: ReturnType<typeof createRuntime>["runtime"], manifest: string, name: string): Promise<StartedPod> {
  const loaded = await loadManifest(join(root, manifest), "Primary");
  return runtime.startPod(
    { name, runId: `grpc-client-test-${process.pid}`, containers: [toContainerSpec("primary", "main", loaded)], terminationGracePeriodMs: 15_000 },
    { readyTimeoutMs: READY_TIMEOUT_MS },
  );
}

async function httpOutputs(pod: StartedPod, spec: PayloadSpec, seed: number): Promise<number[]> {
  const request = buildInferRequest(spec, seed);
  const response = await fetch(`${pod.url("primary", "http")}${request.path}`, {
    method: "POST",
    headers: request.headers,
    body: new Uint8Array(request.body),
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
  });
  expect(response.status).toBe(200);
  const parsed = parseInferResponse(Object.fromEntries(response.headers), Buffer.from(await response.arrayBuffer()));
  return parsed.outputs[0]!.data;
}

function okBody(result: GrpcInferResult): Buffer {
  if (!result.ok) throw new Error(`gRPC infer failed: ${result.kind} (${result.code}) ${result.message}`);
  return result.body;
}

/** A loopback port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("GrpcInferClient against the FastAPI primary", () => {
  const workDir = mkdtempSync(join(tmpdir(), "sb-grpc-client-"));
  const { runtime } = createRuntime({ name: "local", workDir, projectRoot: root });
  let fastapi: StartedPod;
  let client: GrpcInferClient;

  beforeAll(async () => {
    fastapi = await startPrimary(runtime, "reference/primaries/fastapi-kserve/primary.yaml", "grpc-fastapi");
    client = new GrpcInferClient(fastapi.url("primary", "grpc"));
    await client.connect(CALL_TIMEOUT_MS);
  }, READY_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    client?.close();
    await runtime.stopAll();
    rmSync(workDir, { recursive: true, force: true });
  }, 30_000);

  it("infers mlp with the same outputs as the HTTP infer, over one channel", async () => {
    const request = buildGrpcInferRequest(MLP, 7);
    const first = await client.infer(request, { timeoutMs: CALL_TIMEOUT_MS });
    const parsed = parseGrpcInferResponse(okBody(first));
    expect(parsed).toMatchObject({ id: "sidecar-bench-7", model_name: "mlp", model_version: "1" });
    expect(parsed.outputs.map(({ name, datatype, shape }) => ({ name, datatype, shape }))).toEqual([{ name: "OUTPUT0", datatype: "FP32", shape: [4, 10] }]);
    // float32 from one computation on the same inputs: equal to the last bit.
    expect(parsed.outputs[0]!.data).toEqual(await httpOutputs(fastapi, MLP, 7));
    expect(first.durationMs).toBeGreaterThan(0);
    expect(first.durationMs).toBeLessThan(CALL_TIMEOUT_MS);
    // Concurrent calls share the channel and each gets its own complete answer.
    const again = await Promise.all(Array.from({ length: 8 }, () => client.infer(request, { timeoutMs: CALL_TIMEOUT_MS })));
    for (const result of again) expect(okBody(result)).toEqual(okBody(first));
  });

  it("reports an unknown model with the server's gRPC status and message", async () => {
    const result = await client.infer(buildGrpcInferRequest({ ...MLP, model: "nope" }, 1), { timeoutMs: CALL_TIMEOUT_MS });
    expect(result).toMatchObject({ ok: false, kind: "grpc:NOT_FOUND", code: 5, message: "unknown model 'nope'" });
  });

  it("reports a bad input as INVALID_ARGUMENT", async () => {
    const result = await client.infer(buildGrpcInferRequest({ ...MLP, inputs: [{ name: "INPUT0", datatype: "FP64", shape: [1, 64] }] }, 1), { timeoutMs: CALL_TIMEOUT_MS });
    expect(result).toMatchObject({ ok: false, kind: "grpc:INVALID_ARGUMENT", code: 3 });
    expect(!result.ok && result.message).toContain("datatype 'FP64'");
  });

  it("counts a passed deadline as timeout and a cancelled call as aborted", async () => {
    const request = buildGrpcInferRequest(MLP, 1);
    expect(await client.infer(request, { timeoutMs: 0 })).toMatchObject({ ok: false, kind: "timeout", code: 4 });
    const controller = new AbortController();
    const pending = client.infer(request, { timeoutMs: CALL_TIMEOUT_MS, signal: controller.signal });
    controller.abort();
    expect(await pending).toMatchObject({ ok: false, kind: "aborted", code: 1 });
  });

  it("counts a refused connection as connection, not as a server status", async () => {
    const nowhere = new GrpcInferClient(`127.0.0.1:${await closedPort()}`);
    try {
      expect(await nowhere.infer(buildGrpcInferRequest(MLP, 1), { timeoutMs: CALL_TIMEOUT_MS })).toMatchObject({ ok: false, kind: "connection", code: 14 });
    } finally {
      nowhere.close();
    }
  });

  it("carries the open loop: every scheduled ModelInfer answered, timed from its scheduled send; a server's error status counted as an answered error", async () => {
    const http = buildInferRequest(MLP, 3);
    const options = { ratePerSec: 100, arrival: "constant" as const, seed: 1, durationMs: 1_000, maxRequests: 1_000, timeoutMs: CALL_TIMEOUT_MS, maxConnections: 8 };
    const good = await runOpenLoop({ ...options, url: fastapi.url("primary", "grpc"), request: { ...http, grpc: buildGrpcInferRequest(MLP, 3) } });
    expect(good.summary).toMatchObject({ scheduled: 100, sent: 100, completed: 100, ok: 100, errors: {} });
    expect(good.histograms.latency.totalCount).toBe(100);
    expect(good.summary.latencyUs.p50).toBeGreaterThanOrEqual(good.summary.serviceTimeUs.p50);
    const unknown = await runOpenLoop({ ...options, url: fastapi.url("primary", "grpc"), request: { ...http, grpc: buildGrpcInferRequest({ ...MLP, model: "nope" }, 3) } });
    expect(unknown.summary).toMatchObject({ scheduled: 100, completed: 100, ok: 0, errors: { "grpc:NOT_FOUND": 100 } });
  });

  it("refuses a target off this machine", () => {
    expect(() => new GrpcInferClient("http://10.1.2.3:8001")).toThrow(/refusing to send load to 10\.1\.2\.3/);
  });

  it.skipIf(!tritonInstalled)(
    "gets the same mlp outputs from Triton over gRPC",
    async () => {
      const triton = await startPrimary(runtime, "reference/primaries/triton/primary.yaml", "grpc-triton");
      const tritonClient = new GrpcInferClient(triton.url("primary", "grpc"));
      try {
        const parsed = parseGrpcInferResponse(okBody(await tritonClient.infer(buildGrpcInferRequest(MLP, 7), { timeoutMs: CALL_TIMEOUT_MS })));
        const expected = await httpOutputs(fastapi, MLP, 7);
        const got = parsed.outputs[0]!.data;
        expect(parsed.outputs[0]!.shape).toEqual([4, 10]);
        // Same weights, same inputs; bit-identical when observed, but another process's BLAS may sum in another order.
        for (const [i, value] of got.entries()) expect(Math.abs(value - expected[i]!)).toBeLessThan(1e-6);
        // Triton maps its unknown-model error to NOT_FOUND too, as the FastAPI primary does.
        const unknown = await tritonClient.infer(buildGrpcInferRequest({ ...MLP, model: "nope" }, 1), { timeoutMs: CALL_TIMEOUT_MS });
        expect(unknown).toMatchObject({ ok: false, kind: "grpc:NOT_FOUND", code: 5 });
        expect(!unknown.ok && unknown.message).toContain("'nope'");
      } finally {
        tritonClient.close();
        await triton.stop();
      }
    },
    READY_TIMEOUT_MS + 30_000,
  );
});
