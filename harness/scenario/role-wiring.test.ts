import { describe, expect, it } from "vitest";
import type { ContainerSpec, PodSpec } from "../runtime/pod-runtime.ts";
import { BACKEND_CONTAINER, METRICS_BACKEND_CONTAINER, SECRET_KEY, SECRET_PATH, wireRoles } from "./role-wiring.ts";
import type { SidecarManifest } from "./sidecar-schema.ts";

const container = (name: string, kind: ContainerSpec["kind"]): ContainerSpec => ({
  name,
  kind,
  command: [name],
  baseDir: "/src",
  ports: { http: 8000 },
  probes: {},
  startupTimeoutMs: 1_000,
});

const pod = (sidecar: string): PodSpec => ({
  name: "p",
  runId: "run-1",
  containers: [container(sidecar, "sidecar"), container("primary", "main")],
  terminationGracePeriodMs: 1_000,
});

const sidecar = (name: string, spec: Partial<SidecarManifest["spec"]>) =>
  ({ metadata: { name }, spec: { roles: ["proxy"], ...spec } }) as unknown as SidecarManifest;

const options = { runId: "run-1", secretValue: "s3cret" };

describe("wireRoles", () => {
  it("leaves a proxy's pod as it is", () => {
    const spec = pod("envoy");
    expect(wireRoles(spec, [sidecar("envoy", {})], options)).toBe(spec);
  });

  it("puts the backend first and points an OTLP-ingesting primary at the sidecar", () => {
    const telemetry = { ingest: ["otlp-http", "scrape"], otlpListen: "otlp", signals: ["metrics", "traces"], export: "otlp-http", whenBackendDown: "buffer" } as const;
    const wired = wireRoles(pod("otelcol"), [sidecar("otelcol", { roles: ["telemetry"], telemetry: { ...telemetry, ingest: [...telemetry.ingest], signals: [...telemetry.signals] } })], options);
    expect(wired.containers.map((c) => [c.name, c.kind])).toEqual([
      [BACKEND_CONTAINER, "sidecar"],
      ["otelcol", "sidecar"],
      ["primary", "main"],
    ]);
    const primary = wired.containers.at(-1)!;
    expect(primary.env).toMatchObject({
      PRIMARY_RUN_ID: "run-1",
      PRIMARY_TELEMETRY: "1",
      PRIMARY_METRICS: "1",
      PRIMARY_OTLP_SIGNALS: "metrics,traces",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://{{ host }}:{{ port 'otelcol.otlp' }}",
    });
    // No secrets role: the store holds nothing.
    expect(JSON.parse(wired.containers[0]!.env!["STORE_SEED"]!)).toEqual({});
  });

  it("adds Prometheus for an exposition, and the shared volumes of textfile, logs and secrets", () => {
    const wired = wireRoles(
      pod("agent"),
      [
        sidecar("agent", {
          roles: ["telemetry", "logs", "secrets"],
          telemetry: { ingest: ["textfile"], signals: ["metrics"], export: "exposition", exposition: { port: "metrics", path: "/metrics" }, whenBackendDown: "drop" },
          logs: { export: "syslog-tcp", whenBackendDown: "buffer" },
          secrets: { whenStoreDown: "keep" },
        }),
      ],
      options,
    );
    expect(wired.containers.map((c) => c.name)).toEqual([BACKEND_CONTAINER, METRICS_BACKEND_CONTAINER, "agent", "primary"]);
    const primary = wired.containers.at(-1)!;
    expect(primary.volumes?.sort()).toEqual(["logs", "metrics", "secrets"]);
    expect(primary.env).toMatchObject({
      PRIMARY_METRICS_TEXTFILE: "{{ volume 'metrics' }}/primary.prom",
      PRIMARY_ACCESS_LOG_FILE: "{{ volume 'logs' }}/access.log",
      PRIMARY_API_KEY_FILE: "{{ volume 'secrets' }}/api-key",
    });
    expect(JSON.parse(wired.containers[0]!.env!["STORE_SEED"]!)).toEqual({ [SECRET_PATH]: { [SECRET_KEY]: "s3cret" } });
  });
});
