import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { connectDockerEngine } from "./docker-engine.ts";
import { LABEL_RUN_ID } from "./docker-labels.ts";
import { DockerRuntime } from "./docker-runtime.ts";
import { dockerTestEngine, ensureProjectImage } from "./docker-test-engine.ts";
import { killHarnessHoldingPod } from "../fixtures/killed-harness.ts";

const engine = await dockerTestEngine();
if (engine.skipReason) console.warn(`docker reaping tests skipped: ${engine.skipReason}`);
const describeDocker = engine.skipReason ? describe.skip : describe;

describeDocker("docker runtime: a killed harness", () => {
  beforeAll(() => ensureProjectImage("node-sidecars"), 300_000);

  it("leaves containers and a network that the next run reaps, and nothing after that", async () => {
    const runId = `test-killed-${process.pid}-${Date.now()}`;
    await killHarnessHoldingPod("docker", runId);

    const { dockerode } = await connectDockerEngine();
    const filters = { label: [`${LABEL_RUN_ID}=${runId}`] };
    // The pause and primary containers, and the run's network, outlived their harness.
    expect((await dockerode.listContainers({ all: true, filters })).length).toBe(2);
    expect((await dockerode.listNetworks({ filters })).length).toBe(1);

    const reaped = await new DockerRuntime({ workDir: mkdtempSync(join(tmpdir(), "sb-docker-")) }).reapOrphans();
    expect(reaped.filter((line) => line.includes(runId))).toHaveLength(3);
    expect(await dockerode.listContainers({ all: true, filters })).toEqual([]);
    expect(await dockerode.listNetworks({ filters })).toEqual([]);
    expect((await dockerode.listVolumes({ filters })).Volumes ?? []).toEqual([]);
  });
});
