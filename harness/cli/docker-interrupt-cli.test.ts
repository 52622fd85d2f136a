// Ctrl-C during `run --runtime docker`: the run stops within seconds (the engine's
// stats API once made this take minutes), keeps its finished trials, exits 130, and
// leaves no container or network of the run behind.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { connectDockerEngine } from "../runtime/docker/docker-engine.ts";
import { LABEL_RUN_ID } from "../runtime/docker/docker-labels.ts";
import { dockerTestEngine, ensureProjectImage } from "../runtime/docker/docker-test-engine.ts";
import { interruptRun, readResults } from "./fixtures/run-progress.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const bin = join(root, "bin", "sidecar-bench.js");
const engine = await dockerTestEngine();

/** Ctrl-C to exit: stopping two pods' containers through the engine, with room for a busy machine. */
const MAX_STOP_MS = 30_000;

describe.skipIf(engine.skipReason !== null)("sidecar-bench run --runtime docker, interrupted", () => {
  it("on Ctrl-C stops and removes the run's containers and network, keeps the finished trials and exits 130", async () => {
    for (const image of ["primary-fastapi", "envoy", "node-sidecars"] as const) ensureProjectImage(image);
    const outDir = mkdtempSync(join(tmpdir(), "sb-docker-sigint-"));
    const { dockerode } = await connectDockerEngine();
    const filters = (runId: string) => JSON.stringify({ label: [`${LABEL_RUN_ID}=${runId}`] });
    const run = await interruptRun(bin, [join(root, "harness", "cli", "fixtures", "long.yaml"), "--runtime", "docker"], outDir, {
      cwd: root,
      minTrials: 2,
      startTimeoutMs: 120_000,
      whileRunning: async (runId) => expect((await dockerode.listContainers({ all: true, filters: filters(runId) })).length).toBeGreaterThan(0),
    });
    expect(run.exitCode, run.stderr).toBe(130);
    expect(run.stopMs).toBeLessThan(MAX_STOP_MS);
    const results = readResults(outDir);
    expect(results.status).toBe("interrupted");
    expect(results.environment.runtime).toBe("docker");
    expect(results.trials.filter((t) => !t.warmup).length).toBeGreaterThanOrEqual(2);
    expect(readFileSync(join(outDir, "report.md"), "utf8")).toContain("**interrupted**");
    expect(await dockerode.listContainers({ all: true, filters: filters(run.runId) })).toEqual([]);
    expect(await dockerode.listNetworks({ filters: filters(run.runId) })).toEqual([]);
  }, 240_000);
});
