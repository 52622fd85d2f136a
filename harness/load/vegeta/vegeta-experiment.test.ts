// How a run with `load: {mode: vegeta}` starts: scenarios/vegeta.yaml is a valid scenario
// planned as an open loop, and a runtime vegeta cannot serve, or a missing vegeta, stops
// the run before any pod starts.
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { planSteps, runExperiment } from "../../experiment/run-experiment.ts";
import type { PodRuntime } from "../../runtime/pod-runtime.ts";
import { loadScenario } from "../../scenario/index.ts";
import { measuredLoad } from "./vegeta-load.ts";

const scenarioFile = join(import.meta.dirname, "../../../scenarios/vegeta.yaml");

async function start(runtimeName: string, commandPath: string) {
  const startPod = vi.fn();
  const runtime = { getName: () => runtimeName, startPod } as unknown as PodRuntime;
  const run = runExperiment({
    scenario: await loadScenario(scenarioFile),
    runtime,
    runId: "test",
    hooks: { persist: () => undefined },
    harnessVersion: "test",
    accounting: "test",
    commandPath,
  });
  return { run, startPod };
}

describe("load mode vegeta in an experiment", () => {
  it("plans scenarios/vegeta.yaml as an open loop: constant arrivals, interleaved slots, minRequests", async () => {
    const { spec } = (await loadScenario(scenarioFile)).manifest;
    expect(spec.workload.load).toEqual({ mode: "vegeta", ratePerSec: 200, maxConnections: 32, timeoutMs: 10_000 });
    const load = measuredLoad(spec.workload.load);
    expect(load).toEqual({ mode: "open", arrival: "constant", ratePerSec: 200, maxConnections: 32, timeoutMs: 10_000 });
    const steps = planSteps({ load, trials: spec.trials, arms: ["baseline", "envoy", "baseline/aa"], rounds: 2, seed: 1, perArmMs: 2000 });
    expect(steps).toHaveLength(3);
    expect(steps.every((step) => step.slotMs === 250 && step.arms.length === 3)).toBe(true);
  });

  it("refuses the kubernetes runtime before starting a pod", async () => {
    const { run, startPod } = await start("kubernetes", join(import.meta.dirname, "../../../.venv/bin"));
    await expect(run).rejects.toThrow(/vegeta\.yaml: spec\.workload\.load\.mode: vegeta load runs on the local and docker runtimes/);
    expect(startPod).not.toHaveBeenCalled();
  });

  it("says how to install vegeta when it is missing, before starting a pod", async () => {
    const { run, startPod } = await start("local", "/nonexistent-sidecar-bench-bin");
    await expect(run).rejects.toThrow(/vegeta binary was not found.*npm run setup/);
    expect(startPod).not.toHaveBeenCalled();
  });
});
