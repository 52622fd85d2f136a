import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createRuntime, describeRuntime } from "./create-runtime.ts";
import { dockerTestEngine } from "./docker/docker-test-engine.ts";

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const engine = await dockerTestEngine();
const runtime = (name: string) => createRuntime({ name, workDir: mkdtempSync(join(tmpdir(), "sb-create-runtime-")), projectRoot }).runtime;

describe("describeRuntime", () => {
  it("has nothing to add for the local runtime: the fingerprint gets no engine and no images", async () => {
    expect(await describeRuntime(runtime("local"))).toEqual({});
  });

  it.skipIf(engine.skipReason !== null)("gives the docker engine's version, and the images of the pods started so far (none yet)", async () => {
    const description = await describeRuntime(runtime("docker"));
    expect(description.engineVersion).toMatch(/^\d+\.\d+/);
    expect(description.images).toEqual({});
  });
});
