import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createRuntime, describeRuntime } from "./create-runtime.ts";
import { PAUSE_IMAGE } from "./docker/docker-images.ts";
import { dockerTestEngine } from "./docker/docker-test-engine.ts";

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const engine = await dockerTestEngine();
const runtime = (name: string) => createRuntime({ name, workDir: mkdtempSync(join(tmpdir(), "sb-create-runtime-")), projectRoot }).runtime;

describe("describeRuntime", () => {
  it("has nothing to add for the local runtime: the fingerprint gets no engine and no images", async () => {
    expect(await describeRuntime(runtime("local"))).toEqual({});
  });

  it.skipIf(engine.skipReason !== null)("gives the docker engine's version and the ids of the pause image and of declared images that are here", async () => {
    const description = await describeRuntime(runtime("docker"), ["sidecar-bench/primary-fastapi:latest", "sidecar-bench/no-such-image:latest"]);
    expect(description.engineVersion).toMatch(/^\d+\.\d+/);
    expect(Object.keys(description.images ?? {}).sort()).toEqual([PAUSE_IMAGE, "sidecar-bench/primary-fastapi:latest"].sort());
    expect(description.images?.["sidecar-bench/primary-fastapi:latest"]).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
