// Caddy as the project builds it (scripts/setup.mjs, from this folder's go.mod) and
// configures it (scenarios/sidecars/caddy.yaml): the binary is the pinned version, and
// on each runtime a pod of Caddy and the reference primary starts and forwards an infer
// request. A few seconds in every `npm test`; certifying Caddy is `sidecar-bench certify`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildInferRequest } from "../../../harness/load/kserve-request.ts";
import { createRuntime } from "../../../harness/runtime/create-runtime.ts";
import { dockerTestEngine, ensureProjectImage } from "../../../harness/runtime/docker/docker-test-engine.ts";
import type { PodRuntime, PodSpec, StartedPod } from "../../../harness/runtime/pod-runtime.ts";
import {
  loadManifest,
  loadScenario,
  PRIMARY_CONTAINER,
  toContainerSpec,
  type LoadedManifest,
  type PrimaryManifest,
  type SidecarManifest,
} from "../../../harness/scenario/index.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../../..");
const engine = await dockerTestEngine();
if (engine.skipReason) console.warn(`caddy on docker skipped: ${engine.skipReason}`);

const REQUEST_TIMEOUT_MS = 5_000;
const infer = buildInferRequest({ model: "mlp", format: "json", inputs: [{ name: "INPUT0", datatype: "FP32", shape: [1, 64] }] }, 11);

let caddy: LoadedManifest<SidecarManifest>;
let primary: LoadedManifest<PrimaryManifest>;

beforeAll(async () => {
  [caddy, primary] = await Promise.all([
    loadManifest(join(root, "scenarios/sidecars/caddy.yaml"), "Sidecar"),
    loadManifest(join(root, "reference/primaries/fastapi-kserve/primary.yaml"), "Primary"),
  ]);
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

async function send(base: string, method: "GET" | "POST", path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Answer> {
  const response = await request(`${base}${path}`, { method, headers, ...(body ? { body } : {}), signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return { status: response.statusCode, headers: response.headers, body: Buffer.from(await response.body.arrayBuffer()) };
}

describe("the Caddy build", () => {
  it("is the version go.mod pins, and the manifest names that version", () => {
    const pinned = /^\s*(?:require\s+)?github\.com\/caddyserver\/caddy\/v2 v(\S+)/m.exec(readFileSync(join(here, "go.mod"), "utf8"))?.[1];
    expect(pinned).toBe(caddy.manifest.metadata.version);
    const version = execFileSync(join(root, ".venv", "bin", "caddy"), ["version"], { encoding: "utf8" });
    expect(version).toMatch(new RegExp(`^v${pinned!.replaceAll(".", "\\.")} `));
  });

  it("is a variant of scenarios/proxies.yaml beside Envoy, entered at its ingress", async () => {
    const scenario = await loadScenario(join(root, "scenarios/proxies.yaml"));
    expect(scenario.variants.map((v) => [v.name, `${v.entry.container}.${v.entry.port}`])).toEqual([
      ["envoy", "envoy.ingress"],
      ["caddy", "caddy.ingress"],
    ]);
  });
});

for (const runtimeName of ["local", "docker"] as const) {
  const skip = runtimeName === "docker" && engine.skipReason !== null;
  describe.skipIf(skip)(`a pod of Caddy and the reference primary (${runtimeName} runtime)`, () => {
    let runtime: PodRuntime;
    let pod: StartedPod;

    beforeAll(async () => {
      if (runtimeName === "docker") {
        ensureProjectImage("caddy");
        ensureProjectImage("primary-fastapi");
      }
      runtime = createRuntime({ name: runtimeName, workDir: mkdtempSync(join(tmpdir(), "sb-caddy-")), projectRoot: root }).runtime;
      const spec: PodSpec = {
        name: "caddy",
        runId: `caddy-test-${process.pid}-${Date.now()}`,
        containers: [toContainerSpec("caddy", "sidecar", caddy), toContainerSpec(PRIMARY_CONTAINER, "main", primary)],
        terminationGracePeriodMs: 10_000,
      };
      pod = await runtime.startPod(spec);
    }, 120_000);

    afterAll(async () => {
      await runtime?.stopAll();
    });

    it("forwards an infer request: the primary's answer, byte for byte, marked as passing through Caddy", async () => {
      const [direct, proxied] = await Promise.all([
        send(pod.url(PRIMARY_CONTAINER, "http"), "POST", infer.path, infer.headers, infer.body),
        send(pod.url("caddy", "ingress"), "POST", infer.path, infer.headers, infer.body),
      ]);
      expect(direct.status).toBe(200);
      expect(proxied.status).toBe(200);
      expect(proxied.body.equals(direct.body)).toBe(true);
      // RFC 9110 §7.6.3: a proxy adds itself to Via; Caddy does on responses.
      expect(String(proxied.headers["via"])).toMatch(/\bCaddy\b/);
      expect(direct.headers["via"]).toBeUndefined();
    });

    it("asks the primary for no compression the client did not ask for (transport compression off)", async () => {
      const echoed = await send(pod.url("caddy", "ingress"), "POST", "/v2/debug/echo", { "content-type": "text/plain" }, Buffer.from("plain"));
      expect(echoed.status).toBe(200);
      expect(echoed.headers["x-echo-via"]).toMatch(/\bCaddy\b/);
      expect(echoed.headers["x-echo-accept-encoding"]).toBeUndefined();
    });

    it("answers its readiness route on the health port only: the same path on the ingress reaches the primary", async () => {
      const health = await send(pod.url("caddy", "health"), "GET", "/ready");
      expect([health.status, health.body.toString()]).toEqual([200, "ready\n"]);
      const [direct, proxied] = await Promise.all([send(pod.url(PRIMARY_CONTAINER, "http"), "GET", "/ready"), send(pod.url("caddy", "ingress"), "GET", "/ready")]);
      expect(direct.status).toBe(404);
      expect([proxied.status, proxied.body.toString()]).toEqual([direct.status, direct.body.toString()]);
    });
  });
}
