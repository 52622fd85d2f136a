// The equivalence check must pass on the three real integrations and fail on a pod that
// does not do the function's work (the bare primary standing in for one).
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Agent } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exchange } from "../load/http-exchange.ts";
import { buildInferRequest, type HttpRequestSpec } from "../load/kserve-request.ts";
import { requireInferBlock } from "../load/workload-request.ts";
import type { StartedPod } from "../runtime/pod-runtime.ts";
import { createRuntime } from "../runtime/create-runtime.ts";
import { loadScenario, PRIMARY_CONTAINER, toPodSpec, type ResolvedScenario } from "../scenario/index.ts";
import { auditLines, checkEquivalence, readGuardMetrics } from "./equivalence-check.ts";
import { languageOfCommand } from "./run-comparison.ts";
import { unitOf } from "./run-episode.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

describe("reading the function's metrics and audit lines", () => {
  it("takes POST 200 counts, the histogram count and build info from Prometheus text", () => {
    const text = [
      "# TYPE aux_requests_total counter",
      'aux_requests_total{method="POST",code="200"} 7',
      'aux_requests_total{method="POST",code="401"} 2',
      'aux_requests_total{method="GET",code="200"} 3',
      "# TYPE aux_request_duration_seconds histogram",
      'aux_request_duration_seconds_bucket{le="0.001"} 10',
      'aux_request_duration_seconds_bucket{le="+Inf"} 12',
      "aux_request_duration_seconds_sum 0.01",
      "aux_request_duration_seconds_count 12",
      "# TYPE aux_build_info gauge",
      'aux_build_info{integration="sidecar",language="go",runtime="go1.26.8",version="1.0.0",pid="42"} 1',
      "",
    ].join("\n");
    expect(readGuardMetrics(text)).toEqual({
      postOk: 7,
      histogramCount: 12,
      buildInfo: { integration: "sidecar", language: "go", runtime: "go1.26.8", version: "1.0.0", pid: "42" },
    });
  });

  it("keeps only request-guard's JSON lines", () => {
    const lines = ['{"aux":"request-guard","status":200}', '{"event":"access","status":200}', "plain text mentioning request-guard", '{"aux":"request-guard"'];
    expect(auditLines(lines)).toEqual([{ aux: "request-guard", status: 200 }]);
  });
});

// A stand-in unit on 127.0.0.1: keys checked, answers the reference, audit lines in memory,
// and metrics recorded `recordDelayMs` after each answer, each POST counted `countEach` times.
async function fakeUnit(options: { recordDelayMs: number; countEach: number }): Promise<{ pod: StartedPod; close: () => Promise<void> }> {
  let postOk = 0;
  let observed = 0;
  const logLines: string[] = [];
  const record = (method: string, path: string, status: number) =>
    setTimeout(() => {
      observed++;
      if (method === "POST" && status === 200) postOk += options.countEach;
      const line = { ts: "t", aux: "request-guard", integration: "sidecar", pid: 1, method, path, status, duration_us: 1, bytes_in: 0, bytes_out: 0, api_key: "k", request_id: "r" };
      logLines.push(JSON.stringify(line));
    }, options.recordDelayMs);
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const path = req.url ?? "/";
      if (path === "/metrics") {
        res.end(["# TYPE aux_requests_total counter", `aux_requests_total{method="POST",code="200"} ${postOk}`, "# TYPE aux_request_duration_seconds histogram", 'aux_request_duration_seconds_bucket{le="+Inf"} ' + observed, "aux_request_duration_seconds_sum 0", `aux_request_duration_seconds_count ${observed}`, "# TYPE aux_build_info gauge", 'aux_build_info{integration="sidecar",language="go",runtime="go",version="1",pid="2"} 1', ""].join("\n"));
      } else if (path === "/v2/debug/pid") {
        res.setHeader("content-type", "application/json").end('{"pid":1}');
      } else if (req.headers["x-api-key"] !== "k") {
        res.writeHead(401, { "content-type": "application/json" }).end('{"error":"missing or invalid API key"}');
      } else {
        res.end("answer");
      }
      record(req.method ?? "GET", path, res.statusCode);
    });
  });
  await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pod = { url: () => url, logs: () => [...logLines] } as unknown as StartedPod;
  return { pod, close: () => new Promise((done) => server.close(() => done())) };
}

describe("checkEquivalence's metric counts", () => {
  const agent = new Agent({ connections: 2 });
  const signal = new AbortController().signal;
  const request: HttpRequestSpec = { method: "POST", path: "/v2/models/m/infer", headers: { "x-api-key": "k" }, body: Buffer.from("{}") };
  afterAll(() => agent.destroy());
  const check = async (options: { recordDelayMs: number; countEach: number }) => {
    const unit = await fakeUnit(options);
    try {
      const target = { column: "sidecar" as const, variant: "v", pod: unit.pod, entry: { container: "c", port: "p" }, unit: { container: "c", metricsPort: "p" }, primaryLanguage: "Python" };
      const result = await checkEquivalence(target, { request, reference: Buffer.from("answer"), agent, signal, timeoutMs: 2_000 });
      return Object.fromEntries(result.checks.map((c) => [c.name, c]));
    } finally {
      await unit.close();
    }
  };

  it("passes a unit that records each request a moment after answering it", async () => {
    const checks = await check({ recordDelayMs: 150, countEach: 1 });
    expect(checks["counts-each-request"]!.passed).toBe(true);
    expect(checks["times-each-request"]!.passed).toBe(true);
  });

  it("fails a unit that counts each request twice", async () => {
    const checks = await check({ recordDelayMs: 0, countEach: 2 });
    expect(checks["counts-each-request"]!.passed).toBe(false);
    // The last request's second count may still be on its way: anything over 20 is the fault.
    expect(Number(/grew by (\d+) for 20 requests/.exec(checks["counts-each-request"]!.detail)?.[1])).toBeGreaterThan(20);
  });

  it("fails a unit that does not count, after a bounded wait", async () => {
    const started = Date.now();
    const checks = await check({ recordDelayMs: 0, countEach: 0 });
    expect(checks["counts-each-request"]!.detail).toMatch(/grew by 0 for 20 requests/);
    expect(checks["counts-each-request"]!.passed).toBe(false);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("checkEquivalence on real pods", () => {
  let scenario: ResolvedScenario;
  let request: HttpRequestSpec;
  let reference: Buffer;
  const { runtime } = createRuntime({ name: "local", workDir: mkdtempSync(join(tmpdir(), "sb-equivalence-")), projectRoot: root });
  const agent = new Agent({ connections: 4 });
  const signal = new AbortController().signal;
  const pods: StartedPod[] = [];
  const runId = `equivalence-test-${process.pid}`;

  beforeAll(async () => {
    scenario = await loadScenario(join(root, "scenarios", "compare.yaml"));
    request = buildInferRequest({ model: "mlp", ...requireInferBlock(scenario.manifest.spec.workload.request, "compare.yaml") }, 7);
    const bare = await runtime.startPod(toPodSpec(scenario, "baseline", runId, { podName: "bare" }));
    pods.push(bare);
    const answer = await exchange(bare.url(PRIMARY_CONTAINER, "http"), { method: "POST", path: request.path, headers: request.headers, body: request.body }, { dispatcher: agent, signal, timeoutMs: 5_000 });
    if (!answer.ok) throw new Error(answer.message);
    reference = answer.body;
  });

  afterAll(async () => {
    await runtime.stopAll();
    await agent.destroy();
  });

  it("fails a pod that does not do the function's work, naming what is missing", async () => {
    const bare = pods[0]!;
    const result = await checkEquivalence(
      { column: "monolithic", variant: "baseline", pod: bare, entry: { container: PRIMARY_CONTAINER, port: "http" }, unit: { container: PRIMARY_CONTAINER, metricsPort: "http" }, primaryLanguage: "Python" },
      { request, reference, agent, signal, timeoutMs: 5_000 },
    );
    expect(result.passed).toBe(false);
    const failed = Object.fromEntries(result.checks.filter((c) => !c.passed).map((c) => [c.name, c.detail]));
    expect(failed["rejects-missing-key"]).toMatch(/^no key → 200 /);
    expect(failed["metrics"]).toMatch(/GET \/metrics: 404/);
    expect(failed["audit-line-per-request"]).toBe("0 audit lines with status 200 for 20 requests");
    // The bare primary still answers like itself.
    expect(result.checks.find((c) => c.name === "answers-like-the-bare-primary")!.passed).toBe(true);
  });

  for (const column of ["sidecar", "monolithic", "library"] as const) {
    it(`passes the ${column} integration and reads its facts`, async () => {
      const variant = scenario.variants.find((v) => v.name === scenario.manifest.spec.comparison![column])!;
      const pod = await runtime.startPod(toPodSpec(scenario, variant.name, runId, { podName: column }));
      pods.push(pod);
      const result = await checkEquivalence(
        {
          column,
          variant: variant.name,
          pod,
          entry: variant.entry,
          unit: { container: unitOf(column, variant), metricsPort: column === "sidecar" ? "admin" : "http" },
          primaryLanguage: languageOfCommand(variant.primary.manifest.spec.container.command),
        },
        { request, reference, agent, signal, timeoutMs: 5_000 },
      );
      expect(result.checks.filter((c) => !c.passed)).toEqual([]);
      expect(result.facts.integration).toBe(column);
      expect(result.facts.primaryLanguage).toBe("Python");
      if (column === "sidecar") {
        expect(result.facts.language).toBe("go");
        expect(result.facts.functionPid).not.toBe(result.facts.primaryPid);
      } else {
        expect(result.facts.language).toBe("python");
        expect(result.facts.functionPid).toBe(result.facts.primaryPid);
      }
      await pod.stop();
    });
  }
});
