// What a telemetry, logs or secrets sidecar needs around it in every pod it runs in (a
// certification's and a benchmark's alike): the backend it delivers to or reads from, and a
// primary that emits what it ships. Without them such a sidecar has nothing to do, and a
// benchmark of it would measure an idle process.
//
// - `backend` (reference/backends/role-backend): OTLP/HTTP receiver, syslog over TCP, a
//   Vault-compatible KV v2 store and a control API the checks query. A fixture, like the
//   primary, not a sidecar under test.
// - `metrics-backend`: Debian's Prometheus, for a sidecar that exports an exposition (it
//   scrapes it every second) or remote-writes (its receiver is on).
// Both are native sidecars placed before the sidecar under test: they start before it (its
// exporter finds them up) and stop after it (sidecars stop in reverse order), so what it
// flushes on SIGTERM has somewhere to go.
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../project-root.ts";
import type { ContainerSpec, PodSpec } from "../runtime/pod-runtime.ts";
import { BACKEND_CONTAINER, METRICS_BACKEND_CONTAINER, PRIMARY_CONTAINER, ROLE_VOLUMES, type SidecarManifest } from "./sidecar-schema.ts";

export { BACKEND_CONTAINER, METRICS_BACKEND_CONTAINER };

/** The reference store's token: a fixture credential, not the secret under test (that one is random per run). */
export const STORE_TOKEN = "sidecar-bench-dev-token";
/** Where the secret under test lives in the KV v2 store (mount `secret`). */
export const SECRET_PATH = "sidecar-bench/primary";
export const SECRET_KEY = "api_key";
/** The file a secrets sidecar writes into the `secrets` volume, which the primary reads. */
export const SECRET_FILE = "api-key";
export const ACCESS_LOG_FILE = "access.log";
export const METRICS_TEXTFILE = "primary.prom";

const BACKEND_DIR = join(PROJECT_ROOT, "reference", "backends", "role-backend");
/** The docker and kubernetes runtimes run the backend in the primary's Python image (its source tree is mounted). */
export const BACKEND_IMAGE = "sidecar-bench/primary-fastapi:latest";
export const PROMETHEUS_IMAGE = "sidecar-bench/prometheus:latest";

export const BACKEND_PORTS = { otlp: 4318, syslog: 5140, vault: 8200, control: 9900 } as const;
const PROMETHEUS_PORT = 9090;

/** A fresh secret for the store: 32 random bytes, base64url (nothing a log format would escape). */
export function randomSecret(): string {
  return randomBytes(32).toString("base64url");
}

export interface RoleWiringOptions {
  runId: string;
  /** The secret under test, random per run: seeded into the store for a secrets sidecar. */
  secretValue: string;
}

type WiredSidecar = Pick<SidecarManifest, "metadata" | "spec">;

/** Whether any sidecar in the pod has a role that needs the backend. */
export function needsWiring(sidecars: readonly WiredSidecar[]): boolean {
  return sidecars.some((s) => s.spec.roles.some((role) => role !== "proxy"));
}

/**
 * The pod with its role backends in front of its sidecars and the primary set up for them;
 * the pod unchanged when no sidecar has the telemetry, logs or secrets role.
 */
export function wireRoles(pod: PodSpec, sidecars: readonly WiredSidecar[], options: RoleWiringOptions): PodSpec {
  if (!needsWiring(sidecars)) return pod;
  const backends: ContainerSpec[] = [backendContainer(sidecars, options)];
  const scraped = sidecars.find((s) => s.spec.telemetry?.export === "exposition" || s.spec.telemetry?.export === "remote-write");
  if (scraped) backends.push(prometheusContainer(scraped, options.runId));
  const containers = pod.containers.map((c) => (c.name === PRIMARY_CONTAINER ? wirePrimary(c, sidecars, options) : c));
  return { ...pod, containers: [...backends, ...containers] };
}

function backendContainer(sidecars: readonly WiredSidecar[], options: RoleWiringOptions): ContainerSpec {
  const seed = sidecars.some((s) => s.spec.roles.includes("secrets")) ? { [SECRET_PATH]: { [SECRET_KEY]: options.secretValue } } : {};
  const health = { http: { port: "control", path: "/healthz" } };
  return {
    name: BACKEND_CONTAINER,
    kind: "sidecar",
    command: [
      "python",
      "-m",
      "role_backend",
      "--host",
      "{{ host }}",
      "--otlp",
      "{{ port 'otlp' }}",
      "--syslog",
      "{{ port 'syslog' }}",
      "--vault",
      "{{ port 'vault' }}",
      "--control",
      "{{ port 'control' }}",
    ],
    env: { STORE_TOKEN, STORE_SEED: JSON.stringify(seed), PYTHONUNBUFFERED: "1" },
    baseDir: BACKEND_DIR,
    ports: { ...BACKEND_PORTS },
    image: BACKEND_IMAGE,
    probes: {
      startup: { action: health, periodMs: 100, timeoutMs: 1_000, failureThreshold: 3 },
      readiness: { action: health, periodMs: 500, timeoutMs: 1_000, failureThreshold: 3 },
    },
    startupTimeoutMs: 30_000,
  };
}

/**
 * Prometheus scraping the sidecar's exposition every second (and receiving remote-write).
 * Its config names the sidecar's port by template, so it is written per sidecar into a
 * directory of its own, which is the container's baseDir.
 */
function prometheusContainer(sidecar: WiredSidecar, runId: string): ContainerSpec {
  const telemetry = sidecar.spec.telemetry!;
  const dir = join(tmpdir(), "sidecar-bench-wiring", runId, sidecar.metadata.name);
  mkdirSync(dir, { recursive: true });
  const scrape =
    telemetry.exposition !== undefined
      ? [
          "scrape_configs:",
          "  - job_name: sidecar",
          `    metrics_path: ${JSON.stringify(telemetry.exposition.path)}`,
          "    static_configs:",
          `      - targets: ["{{ host }}:{{ port '${sidecar.metadata.name}.${telemetry.exposition.port}' }}"]`,
        ]
      : [];
  // 1 s: the shortest interval a Prometheus operator would set, so the check's waits are about the sidecar, not the scrape.
  writeFileSync(join(dir, "prometheus.yml"), ["global:", "  scrape_interval: 1s", "  scrape_timeout: 900ms", ...scrape, ""].join("\n"));
  const ready = { http: { port: "web", path: "/-/ready" } };
  return {
    name: METRICS_BACKEND_CONTAINER,
    kind: "sidecar",
    command: [
      "prometheus",
      "--config.file={{ file 'prometheus.yml' }}",
      "--storage.tsdb.path={{ volume 'prometheus-data' }}",
      "--web.listen-address={{ host }}:{{ port 'web' }}",
      "--web.enable-remote-write-receiver",
      "--log.level=warn",
    ],
    baseDir: dir,
    ports: { web: PROMETHEUS_PORT },
    volumes: ["prometheus-data"],
    image: PROMETHEUS_IMAGE,
    probes: {
      startup: { action: ready, periodMs: 100, timeoutMs: 1_000, failureThreshold: 3 },
      readiness: { action: ready, periodMs: 500, timeoutMs: 1_000, failureThreshold: 3 },
    },
    startupTimeoutMs: 30_000,
  };
}

/** The primary with the env and volumes that make it emit what the pod's sidecars ship (contracts in reference/primaries/fastapi-kserve/README.md). */
function wirePrimary(primary: ContainerSpec, sidecars: readonly WiredSidecar[], options: RoleWiringOptions): ContainerSpec {
  const env: Record<string, string> = { ...primary.env, PRIMARY_RUN_ID: options.runId };
  const volumes = new Set(primary.volumes ?? []);
  for (const sidecar of sidecars) {
    const { telemetry, logs, secrets } = sidecar.spec;
    if (telemetry) {
      env["PRIMARY_TELEMETRY"] = "1";
      if (telemetry.ingest.includes("otlp-http") && telemetry.otlpListen) {
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = `http://{{ host }}:{{ port '${sidecar.metadata.name}.${telemetry.otlpListen}' }}`;
        env["PRIMARY_OTLP_SIGNALS"] = telemetry.signals.join(",");
      }
      if (telemetry.ingest.includes("scrape")) env["PRIMARY_METRICS"] = "1";
      if (telemetry.ingest.includes("textfile")) {
        volumes.add(ROLE_VOLUMES.textfile);
        env["PRIMARY_METRICS_TEXTFILE"] = `{{ volume '${ROLE_VOLUMES.textfile}' }}/${METRICS_TEXTFILE}`;
      }
    }
    if (logs) {
      volumes.add(ROLE_VOLUMES.logs);
      env["PRIMARY_ACCESS_LOG_FILE"] = `{{ volume '${ROLE_VOLUMES.logs}' }}/${ACCESS_LOG_FILE}`;
    }
    if (secrets) {
      volumes.add(ROLE_VOLUMES.secrets);
      env["PRIMARY_API_KEY_FILE"] = `{{ volume '${ROLE_VOLUMES.secrets}' }}/${SECRET_FILE}`;
    }
  }
  return { ...primary, env, volumes: [...volumes] };
}
