// A pod of one real role sidecar (scenarios/sidecars/<name>.yaml) and the reference
// primary, wired as certify and run wire it (harness/scenario/role-wiring.ts): the role
// backend (and Prometheus, for an exposition) in front, the primary set up to emit what
// the sidecar ships. For the third-party sidecars' own tests, which show each one doing
// its job once per runtime with the project's build and config; certifying them is
// `sidecar-bench certify`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { buildInferRequest } from "../../harness/load/kserve-request.ts";
import { createRuntime } from "../../harness/runtime/create-runtime.ts";
import type { PodRuntime, StartedPod } from "../../harness/runtime/pod-runtime.ts";
import { renderTemplate } from "../../harness/runtime/template.ts";
import { loadManifest, PRIMARY_CONTAINER, toContainerSpec, type LoadedManifest, type SidecarManifest } from "../../harness/scenario/index.ts";
import { BACKEND_CONTAINER, randomSecret, wireRoles } from "../../harness/scenario/role-wiring.ts";
import { waitFor } from "../../suites/support/bounded-wait.ts";
import { RoleBackend, type ReceivedLogRecord } from "../../suites/support/role-backend.ts";

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export type TestRuntime = "local" | "docker";

export interface RoleSidecarPod {
  runtime: PodRuntime;
  pod: StartedPod;
  backend: RoleBackend;
  sidecar: LoadedManifest<SidecarManifest>;
  /** The value the store holds for a secrets sidecar (random per pod). */
  secret: string;
}

export function loadSidecar(name: string): Promise<LoadedManifest<SidecarManifest>> {
  return loadManifest(join(projectRoot, "scenarios", "sidecars", `${name}.yaml`), "Sidecar");
}

/** The project images a docker pod of this sidecar runs (built, or found cached, by scripts/build-images.mjs). */
function imagesFor(sidecar: LoadedManifest<SidecarManifest>): string[] {
  const own = /^sidecar-bench\/([a-z0-9-]+):/.exec(sidecar.manifest.spec.container.image ?? "")?.[1];
  if (!own) throw new Error(`${sidecar.file}: spec.container.image is not a sidecar-bench/<name> image`);
  const scraped = sidecar.manifest.spec.telemetry?.export === "exposition" ? ["prometheus"] : [];
  // The backend runs in the primary's image.
  return [own, "primary-fastapi", ...scraped];
}

export async function startRoleSidecarPod(runtimeName: TestRuntime, name: string): Promise<RoleSidecarPod> {
  const [sidecar, primary] = await Promise.all([
    loadSidecar(name),
    loadManifest(join(projectRoot, "reference", "primaries", "fastapi-kserve", "primary.yaml"), "Primary"),
  ]);
  if (runtimeName === "docker") {
    for (const image of imagesFor(sidecar)) {
      execFileSync(process.execPath, [join(projectRoot, "scripts", "build-images.mjs"), "--only", image, "--quiet"], { stdio: ["ignore", "ignore", "inherit"] });
    }
  }
  const runtime = createRuntime({ name: runtimeName, workDir: mkdtempSync(join(tmpdir(), `sb-${name}-`)), projectRoot }).runtime;
  const runId = `${name}-test-${process.pid}-${Date.now()}`;
  const secret = randomSecret();
  const spec = wireRoles(
    { name, runId, containers: [toContainerSpec(name, "sidecar", sidecar), toContainerSpec(PRIMARY_CONTAINER, "main", primary)], terminationGracePeriodMs: 10_000 },
    [sidecar.manifest],
    { runId, secretValue: secret },
  );
  try {
    const pod = await runtime.startPod(spec);
    const backend = new RoleBackend(pod.url(BACKEND_CONTAINER, "control"), pod.url(BACKEND_CONTAINER, "vault"));
    return { runtime, pod, backend, sidecar, secret };
  } catch (error) {
    await runtime.stopAll();
    throw error;
  }
}

/** KServe v2 JSON infer requests the primary answers (its model's input shape). */
const INFER = buildInferRequest({ model: "mlp", format: "json", inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1, 64] }] }, 11);
export const REQUEST_TIMEOUT_MS = 5_000;

/** Sends `count` infer requests to the pod's primary, one after another; answers their statuses. */
export async function sendInfers(pod: RoleSidecarPod, count: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await request(`${pod.pod.url(PRIMARY_CONTAINER, "http")}${INFER.path}`, {
      method: "POST",
      headers: INFER.headers,
      body: INFER.body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    await response.body.arrayBuffer();
    statuses.push(response.statusCode);
  }
  return statuses;
}

/** The first value `read` gives that is not undefined, polled every 200 ms for at most `timeoutMs`; throws naming `what`. */
export async function eventually<T>(what: string, timeoutMs: number, read: () => Promise<T | undefined>): Promise<T> {
  let value: T | undefined;
  const found = await waitFor(
    async () => {
      value = await read();
      return value !== undefined;
    },
    { timeoutMs, intervalMs: 200 },
  );
  if (!found || value === undefined) throw new Error(`${what}: not seen within ${timeoutMs} ms`);
  return value;
}

/**
 * The lines of the primary's access log as the harness reads them from the `logs` volume,
 * and the first that many records the backend received (polled up to `timeoutMs`): what
 * a log shipper's test compares, line for record.
 */
export async function accessLogAndDelivered(pod: RoleSidecarPod, timeoutMs: number): Promise<{ lines: string[]; delivered: ReceivedLogRecord[] }> {
  const logFile = join(pod.pod.volumePath!("logs")!, "access.log");
  const lines = readFileSync(logFile, "utf8").split("\n").filter((line) => line !== "");
  const received = await eventually(`the ${lines.length} lines of ${logFile} at the backend`, timeoutMs, async () => {
    const records = await pod.backend.allLogs();
    return records.length >= lines.length ? records : undefined;
  });
  // The lines read above come first, in order (the primary may have written more since).
  return { lines, delivered: received.slice(0, lines.length) };
}

/**
 * Renders a sidecar's `{{ file }}` config as a pod would, with the given port numbers
 * and volume paths, into `outDir`; returns the rendered file's path. For checking a
 * config with the program's own validator without starting a pod.
 */
export function renderConfig(
  sidecar: LoadedManifest<SidecarManifest>,
  relativePath: string,
  input: { ports: Record<string, Record<string, number>>; volumes?: Record<string, string>; outDir: string },
): string {
  return renderTemplate(`{{ file '${relativePath}' }}`, {
    container: sidecar.manifest.metadata.name,
    ports: input.ports,
    host: "127.0.0.1",
    baseDir: sidecar.dir,
    outDir: input.outDir,
    volumes: input.volumes ?? {},
    origin: `${sidecar.file} (test rendering)`,
  });
}
