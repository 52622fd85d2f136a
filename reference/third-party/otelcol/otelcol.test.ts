// The OpenTelemetry Collector as the project builds it (scripts/setup.mjs, from this
// folder's go.mod and main.go) and configures it (scenarios/sidecars/otelcol.yaml and
// otelcol-logs.yaml): the binary is the pinned release with the components the configs
// use, the collector accepts both configs, and on each runtime a wired pod shows it
// forwarding the primary's telemetry and its access log. Certifying it is
// `sidecar-bench certify`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { dockerTestEngine } from "../../../harness/runtime/docker/docker-test-engine.ts";
import { BACKEND_PORTS } from "../../../harness/scenario/role-wiring.ts";
import { REQUEST_TIMEOUT_MS, accessLogAndDelivered, eventually, loadSidecar, projectRoot, renderConfig, startRoleSidecarPod, type RoleSidecarPod, sendInfers } from "../role-sidecar-pod.ts";

const here = dirname(fileURLToPath(import.meta.url));
const binary = join(projectRoot, ".venv", "bin", "otelcol-sidecar-bench");
const engine = await dockerTestEngine();
if (engine.skipReason) console.warn(`otelcol on docker skipped: ${engine.skipReason}`);

/** The primary exports every 1 s and the collector batches for 200 ms: a few intervals. */
const DELIVERY_TIMEOUT_MS = 15_000;
const REQUESTS = 3;

describe("the OpenTelemetry Collector build", () => {
  it("is the collector release go.mod pins, and both manifests name it", async () => {
    const pinned = /^\s*go\.opentelemetry\.io\/collector\/otelcol v(\S+)/m.exec(readFileSync(join(here, "go.mod"), "utf8"))?.[1];
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    for (const name of ["otelcol", "otelcol-logs"]) expect((await loadSidecar(name)).manifest.metadata.version).toBe(pinned);
    expect(execFileSync(binary, ["--version"], { encoding: "utf8" }).trim()).toBe(`otelcol-sidecar-bench version ${pinned}`);
  });

  it("holds exactly the components main.go registers", () => {
    const components = parse(execFileSync(binary, ["components"], { encoding: "utf8" })) as Record<string, Array<{ name: string }> | unknown>;
    const names = (kind: string) => ((components[kind] as Array<{ name: string }>) ?? []).map((c) => c.name).sort();
    expect(names("receivers")).toEqual(["file_log", "otlp", "prometheus"]);
    expect(names("processors")).toEqual(["batch"]);
    expect(names("exporters")).toEqual(["debug", "file", "otlp_http", "prometheus"]);
    expect(names("extensions")).toEqual(["health_check"]);
  });

  it("accepts both configs as a pod renders them (otelcol validate)", async () => {
    const outDir = mkdtempSync(join(tmpdir(), "sb-otelcol-config-"));
    const backend = { ...BACKEND_PORTS };
    const telemetry = renderConfig(await loadSidecar("otelcol"), "otelcol/config.yaml", {
      ports: { otelcol: { otlp: 14318, metrics: 18889, health: 13133, "self-metrics": 18888 }, primary: { http: 8000 }, backend },
      outDir,
    });
    const logs = renderConfig(await loadSidecar("otelcol-logs"), "otelcol-logs/config.yaml", {
      ports: { "otelcol-logs": { health: 13133, "self-metrics": 18888 }, backend },
      volumes: { logs: join(outDir, "logs") },
      outDir,
    });
    for (const config of [telemetry, logs]) {
      // Exit 0, and no deprecated alias warned about (component names as this release spells them).
      const output = execFileSync(binary, ["validate", "--config", config], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      expect(output).not.toMatch(/deprecated/);
    }
  });
});

for (const runtimeName of ["local", "docker"] as const) {
  const skip = runtimeName === "docker" && engine.skipReason !== null;

  describe.skipIf(skip)(`the collector as the primary's telemetry sidecar (${runtimeName} runtime)`, () => {
    let pod: RoleSidecarPod;

    beforeAll(async () => {
      pod = await startRoleSidecarPod(runtimeName, "otelcol");
      expect(await sendInfers(pod, REQUESTS)).toEqual(Array(REQUESTS).fill(200));
    }, 300_000);

    afterAll(async () => {
      await pod?.runtime.stopAll();
    });

    it("forwards the primary's OTLP counter and its scraped /metrics to the backend", async () => {
      const counted = (name: string) =>
        eventually(`${name} ≥ ${REQUESTS} at the backend`, DELIVERY_TIMEOUT_MS, async () => {
          const series = (await pod.backend.metrics()).series.filter((s) => s.name === name && s.attributes["status"] === "200");
          const total = series.reduce((sum, s) => sum + (s.value ?? 0), 0);
          return total >= REQUESTS ? total : undefined;
        });
      // OTLP from the SDK, and the prometheus receiver's scrape of the primary's /metrics.
      expect(await counted("kserve.requests")).toBe(REQUESTS);
      expect(await counted("kserve_requests_total")).toBe(REQUESTS);
      // otlp_http's default compression, which the backend counts.
      expect((await pod.backend.metrics()).requests.gzip).toBeGreaterThan(0);
    });

    it("serves the counter as a Prometheus exposition on its metrics port", async () => {
      const exposition = await eventually("kserve_requests_total in the exposition", DELIVERY_TIMEOUT_MS, async () => {
        const response = await request(`${pod.pod.url("otelcol", "metrics")}/metrics`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        const text = await response.body.text();
        return /^kserve_requests_total\{[^}]*status="200"[^}]*\} 3$/m.test(text) ? text : undefined;
      });
      expect(exposition).toMatch(/^# TYPE kserve_requests_total counter$/m);
    });
  });

  describe.skipIf(skip)(`the collector as the primary's log shipper (${runtimeName} runtime)`, () => {
    let pod: RoleSidecarPod;

    beforeAll(async () => {
      pod = await startRoleSidecarPod(runtimeName, "otelcol-logs");
      expect(await sendInfers(pod, REQUESTS)).toEqual(Array(REQUESTS).fill(200));
    }, 300_000);

    afterAll(async () => {
      await pod?.runtime.stopAll();
    });

    it("delivers every access-log line as one OTLP record whose body is the line byte for byte", async () => {
      const { lines, delivered } = await accessLogAndDelivered(pod, DELIVERY_TIMEOUT_MS);
      expect(lines.length).toBeGreaterThanOrEqual(REQUESTS);
      expect(delivered.map((r) => [r.via, r.message])).toEqual(lines.map((line) => ["otlp", line]));
    });
  });
}
