// consul-template as the project builds it (scripts/setup.mjs, from this folder's go.mod,
// which pins it as a tool) and configures it (scenarios/sidecars/consul-template.yaml):
// the binary is the pinned version, and on each runtime a wired pod shows it rendering the
// store's secret into the primary's key file, 0400, before the primary starts, and a
// rotation in the store reaching the file. Certifying it is `sidecar-bench certify`.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerTestEngine } from "../../../harness/runtime/docker/docker-test-engine.ts";
import { PRIMARY_CONTAINER } from "../../../harness/scenario/index.ts";
import { randomSecret, SECRET_KEY, SECRET_PATH, STORE_TOKEN } from "../../../harness/scenario/role-wiring.ts";
import { eventually, loadSidecar, projectRoot, startRoleSidecarPod, type RoleSidecarPod } from "../role-sidecar-pod.ts";

const here = dirname(fileURLToPath(import.meta.url));
const engine = await dockerTestEngine();
if (engine.skipReason) console.warn(`consul-template on docker skipped: ${engine.skipReason}`);

const REQUEST_TIMEOUT_MS = 5_000;
/** The config re-reads the store about every 2 s. */
const ROTATION_TIMEOUT_MS = 10_000;

interface FileState {
  exists: boolean;
  mode?: string;
  sha256?: string | null;
}

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");

async function primarySecret(pod: RoleSidecarPod): Promise<{ at_startup: FileState; current: FileState }> {
  const response = await request(`${pod.pod.url(PRIMARY_CONTAINER, "http")}/v2/debug/secret`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  expect(response.statusCode).toBe(200);
  return (await response.body.json()) as { at_startup: FileState; current: FileState };
}

describe("the consul-template build", () => {
  it("is the version go.mod pins, and the manifest names that version", async () => {
    const pinned = /^\s*github\.com\/hashicorp\/consul-template v(\S+)/m.exec(readFileSync(join(here, "go.mod"), "utf8"))?.[1];
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await loadSidecar("consul-template")).manifest.metadata.version).toBe(pinned);
    const version = execFileSync(join(projectRoot, ".venv", "bin", "consul-template"), ["-v"], { encoding: "utf8" });
    expect(version).toMatch(new RegExp(`^consul-template v${pinned!.replaceAll(".", "\\.")}\\b`));
  });
});

for (const runtimeName of ["local", "docker"] as const) {
  describe.skipIf(runtimeName === "docker" && engine.skipReason !== null)(`consul-template as the primary's secrets agent (${runtimeName} runtime)`, () => {
    let pod: RoleSidecarPod;

    beforeAll(async () => {
      pod = await startRoleSidecarPod(runtimeName, "consul-template");
    }, 300_000);

    afterAll(async () => {
      await pod?.runtime.stopAll();
    });

    it("has rendered the store's secret, mode 0400, before the primary started", async () => {
      const { at_startup: atStartup } = await primarySecret(pod);
      expect(atStartup).toEqual({ exists: true, mode: "0400", sha256: sha256(pod.secret) });
      const file = join(pod.pod.volumePath!("secrets")!, "api-key");
      expect(readFileSync(file, "utf8")).toBe(pod.secret);
    });

    it("brings a rotation in the store to the primary's file without restarting anything", async () => {
      const rotated = randomSecret();
      const write = await request(new URL(`/v1/secret/data/${SECRET_PATH}`, pod.backend.vaultUrl), {
        method: "POST",
        headers: { "x-vault-token": STORE_TOKEN, "content-type": "application/json" },
        body: JSON.stringify({ data: { [SECRET_KEY]: rotated } }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      await write.body.arrayBuffer();
      expect(write.statusCode).toBe(200);
      const current = await eventually("the rotated secret in the primary's file", ROTATION_TIMEOUT_MS, async () => {
        const state = (await primarySecret(pod)).current;
        return state.sha256 === sha256(rotated) ? state : undefined;
      });
      expect(current.mode).toBe("0400");
      expect(pod.pod.status().map((c) => [c.name, c.restartCount])).toEqual(pod.pod.status().map((c) => [c.name, 0]));
    });
  });
}
