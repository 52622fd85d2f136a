import { describe, expect, it } from "vitest";
import type { PodSpec } from "../runtime/pod-runtime.ts";
import { loadScenario } from "./load-scenario.ts";
import { toPodSpec } from "./to-pod-spec.ts";

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

describe("toPodSpec", () => {
  it("builds the baseline pod: the primary alone, as the main container", async () => {
    const resolved = await loadScenario(fixture("valid/scenario.yaml"));
    const pod: PodSpec = toPodSpec(resolved, "baseline", "run-1");
    expect(pod).toEqual({
      name: "envoy-overhead-baseline",
      runId: "run-1",
      terminationGracePeriodMs: 30_000,
      containers: [
        {
          name: "primary",
          kind: "main",
          command: ["python", "-m", "uvicorn", "server:app", "--port", "{{ port 'http' }}"],
          env: { MODEL_HIDDEN: "256", MODEL_SEED: "7" },
          baseDir: fixture("valid/primaries"),
          ports: { http: 8000 },
          image: "sidecar-bench/fastapi-kserve:0.1.0",
          probes: {
            startup: { action: { http: { port: "http", path: "/v2/health/live" } }, periodMs: 100, timeoutMs: 1_000, failureThreshold: 3 },
            readiness: {
              action: { http: { port: "http", path: "/v2/health/ready", expectStatus: 200 } },
              periodMs: 250,
              timeoutMs: 1_000,
              failureThreshold: 3,
            },
          },
          resources: { memoryMiB: 512, cpus: 1 },
          startupTimeoutMs: 60_000,
        },
      ],
    });
  });

  it("puts the variant's sidecars first, in declared order, with templates untouched", async () => {
    const resolved = await loadScenario(fixture("valid/scenario.yaml"));
    const pod = toPodSpec(resolved, "envoy-and-logs", "run-2", { podName: "p1", cpuSet: [1] });
    expect(pod.name).toBe("p1");
    expect(pod.cpuSet).toEqual([1]);
    // A logs sidecar brings its role backend in front of it (role-wiring.ts), and the primary writes the log it ships.
    expect(pod.containers.map((c) => [c.name, c.kind])).toEqual([
      ["backend", "sidecar"],
      ["log-shipper", "sidecar"],
      ["envoy", "sidecar"],
      ["primary", "main"],
    ]);
    const [, logs, envoy, primary] = pod.containers;
    expect(primary!.volumes).toEqual(["logs"]);
    expect(primary!.env).toMatchObject({ PRIMARY_RUN_ID: "run-2", PRIMARY_ACCESS_LOG_FILE: "{{ volume 'logs' }}/access.log" });
    expect(envoy).toMatchObject({
      command: ["envoy", "-c", "{{ file 'envoy.yaml' }}", "--concurrency", "1"],
      baseDir: fixture("valid/sidecars"),
      ports: { ingress: 15001, admin: 15000 },
      image: "envoyproxy/envoy:v1.40.0",
      startupTimeoutMs: 30_000,
    });
    expect(envoy!.probes.readiness).toEqual({ action: { http: { port: "admin", path: "/ready" } }, periodMs: 500, timeoutMs: 1_000, failureThreshold: 3 });
    expect(logs!.probes).toEqual({
      startup: { action: { tcp: { port: "metrics" } }, periodMs: 50, timeoutMs: 1_000, failureThreshold: 10 },
      readiness: { action: { exec: { command: ["test", "-f", "/tmp/shipper.ready"] } }, periodMs: 500, timeoutMs: 1_000, failureThreshold: 3 },
    });
    expect(logs).not.toHaveProperty("image");
    expect(logs).not.toHaveProperty("env");
    expect(logs).not.toHaveProperty("resources");
    expect(logs!.volumes).toEqual(["logs"]);
  });

  it("takes the grace period from the scenario and does not share arrays with the manifests", async () => {
    const resolved = await loadScenario(fixture("valid/scenario-full.yaml"));
    const pod = toPodSpec(resolved, "envoy", "run-3");
    expect(pod.terminationGracePeriodMs).toBe(10_000);
    pod.containers[0]!.command.push("--mutated");
    expect(resolved.variants[0]!.sidecars[0]!.manifest.spec.container.command).not.toContain("--mutated");
  });

  it("rejects an unknown variant", async () => {
    const resolved = await loadScenario(fixture("valid/scenario.yaml"));
    expect(() => toPodSpec(resolved, "istio", "run-4")).toThrow(/unknown variant "istio"/);
  });
});
