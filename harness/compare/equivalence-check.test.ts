// The equivalence check must pass on the three real integrations and fail on a pod that
// does not do the function's work (the bare primary standing in for one).
import { mkdtempSync } from "node:fs";
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
